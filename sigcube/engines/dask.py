"""Where and how sigcube's Dask tasks run, for sweeps, fits and evidence integrals alike: a client of a running
scheduler or of a new LocalCluster (:func:`dask_client`), one driver that streams tasks through it (:func:`stream`),
and the :data:`Runner` that fits and the evidence engine hand their per-galaxy work to."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from rich.console import Console

from sigcube.errors import SigcubeError

Runner = Callable[[Callable[..., Any], tuple, Sequence[tuple]], list[Any]]
"""``run(func, shared, tasks) -> [func(*shared, *task) for task in tasks]``, in order, wherever the tasks run
(:func:`in_process`, or a cluster: :func:`sigcube.engines.fit.run.executor`)."""


Tick = Callable[[int, int], None]
"""Told ``(finished, total)`` of each call of a :data:`Runner`: once as the call starts, then as each task lands."""


def in_process(func: Callable[..., Any], shared: tuple, tasks: Sequence[tuple]) -> list[Any]:
    """The :data:`Runner` that runs every task here, in order."""
    return [func(*shared, *task) for task in tasks]


def counted_in_process(tick: Tick) -> Runner:
    """:func:`in_process`, telling ``tick`` of each finished task."""
    def run(func: Callable[..., Any], shared: tuple, tasks: Sequence[tuple]) -> list[Any]:
        results: list[Any] = []
        tick(0, len(tasks))
        for task in tasks:
            results.append(func(*shared, *task))
            tick(len(results), len(tasks))
        return results

    return run


WORKER_CONFIG = {"distributed.worker.profile.enabled": False, "distributed.admin.tick.interval": "200ms",
                 "distributed.admin.system-monitor.interval": "2s",
                 "distributed.worker.memory.monitor-interval": "2s", "distributed.scheduler.work-stealing": False}
"""Dask settings of the LocalCluster sigcube starts (its scheduler, nannies and workers): no statistical profiler (it
samples every thread's stack a hundred times a second for the dashboard's Profile page; a 10⁵-galaxy sweep ran 1.23×
as long with it, ``bench/survey.py``); the event loops' health tick, the system and memory monitors ten to a hundred
times less often, and no work stealing (:func:`stream` keeps two tasks per thread in flight, so there is nothing to
steal) — on 2 cores these periodic callbacks took, idle, about 5 % of a core in the command's process and 2.5 % in
each worker, and a fifth of that with these settings. Workers of a scheduler you run take the same settings as
``DASK_DISTRIBUTED__…`` variables, e.g. ``DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False``."""


def local_cluster(n_workers: int, dashboard_address: str | None = ":0") -> Any:
    """A LocalCluster of ``n_workers`` single-threaded processes, with the :data:`WORKER_CONFIG` settings, and
    without the ``MALLOC_TRIM_THRESHOLD_`` Dask puts in its workers' environment: setting it pins glibc's mmap
    threshold, so every large numpy temporary of a task is mapped, faulted in and unmapped anew, where glibc's own
    adaptive threshold reuses the memory as a single process does (the thread limits Dask sets there are kept)."""
    import dask
    from distributed import LocalCluster

    environ = {k: v for k, v in dask.config.get("distributed.nanny.pre-spawn-environ", {}).items()
               if k != "MALLOC_TRIM_THRESHOLD_"}
    with dask.config.set({**WORKER_CONFIG, "distributed.nanny.pre-spawn-environ": environ}):
        return LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                            dashboard_address=dashboard_address)


@contextmanager
def quiet_dask() -> Iterator[None]:
    """Keep distributed's own log records (tracebacks of a lost scheduler, of closing comms) off the terminal
    while tasks run: what went wrong reaches the user as one line from the caller. Distributed is imported
    first: its import configures its loggers' levels, which would undo these."""
    import distributed  # noqa: F401

    names = ["distributed", *(n for n in logging.root.manager.loggerDict if n.startswith("distributed."))]
    levels = {name: logging.getLogger(name).level for name in names}
    for name in names:
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


@contextmanager
def dask_client(scheduler: str | None, workers: int | None, console: Console) -> Iterator[Any]:
    """A ``distributed.Client`` of the scheduler at ``scheduler`` (``tcp://host:port``), or of a new LocalCluster
    of ``workers`` single-threaded processes (default: one per core); the dashboard's address goes to
    ``console``. Both are closed on exit."""
    from distributed import Client

    cluster = None
    if scheduler:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, ValueError, TypeError) as exc:
            raise SigcubeError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    else:
        n = workers or os.cpu_count() or 1
        cluster = local_cluster(n)
        client = Client(cluster)
    try:
        console.print(f"Dask dashboard: {client.dashboard_link}", soft_wrap=True, highlight=False)
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


@contextmanager
def client_when_needed(scheduler: str | None, workers: int | None, console: Console) -> Iterator[Callable[[], Any]]:
    """:func:`dask_client`, yielded as ``client()`` that returns it: a scheduler's at once (an address that does not
    answer is refused before any work), a new LocalCluster's started in a thread of its own while the caller goes on
    (it takes seconds, and a command's first tasks often come after work of its own), ``client()`` waiting for it and
    raising what kept it from starting. On exit the start is waited for and the client closed."""
    import threading

    manager = dask_client(scheduler, workers, console)
    found: dict[str, Any] = {}

    def start() -> None:
        try:
            found["client"] = manager.__enter__()
        except BaseException as exc:  # noqa: BLE001 — handed to the caller by client()
            found["error"] = exc

    thread = threading.Thread(target=start, name="sigcube-dask-start", daemon=True)
    if scheduler:
        found["client"] = manager.__enter__()
    else:
        thread.start()

    def client() -> Any:
        if thread.is_alive():
            thread.join()
        if "error" in found:
            raise found["error"]
        return found["client"]

    try:
        yield client
    finally:
        if thread.is_alive():
            thread.join()
        if "client" in found:
            manager.__exit__(None, None, None)


Item = TypeVar("Item", bound=Hashable)

MAX_RESUBMITS = 8
"""Tasks of one run resubmitted after the scheduler cancelled them (a worker that died held the shared data's last
copy); beyond that the run stops."""


def stream(client: Any, func: Callable[[Any, Item], Any], shared: Any, take: Callable[[], Item | None],
           finished: Callable[[Item, Any], None], *, key: Callable[[Item], str],
           priority: Callable[[Item], int] = lambda item: 0, resume: str = "") -> None:
    """Run ``func(shared, item)`` on the cluster for every item ``take()`` hands out (until it gives None), keeping
    about two tasks per worker thread in flight, and hand each result to ``finished(item, result)`` as it lands (in
    this process; ``finished`` may make more items available to ``take``).

    ``shared`` is scattered to every worker once (again if a dead worker held its last copy: such cancelled tasks
    are resubmitted, up to :data:`MAX_RESUBMITS`). A :class:`~sigcube.errors.SigcubeError` raised by a task stops the
    run as it is; any other failure — a task's error, a worker killed repeatedly, the scheduler lost — is one
    SigcubeError saying which, ending with ``resume`` (what the user can do)."""
    from distributed import as_completed
    from distributed.client import FutureCancelledError

    threads = max(1, sum(client.nthreads().values()))
    sent = [client.scatter(shared, broadcast=True, hash=False)]
    ac = as_completed()
    items: dict[str, Item] = {}
    retries = 0

    def submit_item(item: Item) -> None:
        name = key(item)
        items[name] = item
        ac.add(client.submit(func, sent[0], item, key=name, pure=False, priority=priority(item)))

    def submit() -> bool:
        item = take()
        if item is None:
            return False
        submit_item(item)
        return True

    for _ in range(2 * threads + 1):
        if not submit():
            break
    for future in ac:
        try:
            result = future.result()
        except SigcubeError:  # the lease was lost, the store cannot be written: already one clear line
            raise
        except Exception as exc:  # KilledWorker after repeated deaths, a task error, the scheduler lost
            if isinstance(exc, FutureCancelledError) and retries < MAX_RESUBMITS and _scheduler_answers(client):
                retries += 1  # a dead worker took the shared data's last copy with it: scatter it again
                sent[0] = client.scatter(shared, broadcast=True, hash=False)
                submit_item(items[future.key])
                continue
            raise SigcubeError(f"{_failure(client, exc)}{'; ' + resume if resume else ''}") from None
        item = items.pop(future.key)
        future.release()
        finished(item, result)
        while ac.count() < 2 * threads + 1 and submit():
            pass


def _failure(client: Any, exc: Exception) -> str:
    """What went wrong, in one phrase: the scheduler lost, or the task's error."""
    if not _scheduler_answers(client):
        return "the connection to the Dask scheduler was lost"
    return f"a task failed ({type(exc).__name__}: {' '.join(str(exc).split())})"


def _scheduler_answers(client: Any, timeout: float = 5.0) -> bool:
    """Whether the scheduler answers within ``timeout`` seconds: a task's result can fail with a closed connection
    before the client's own status notices that the scheduler is gone."""
    if client.status != "running":
        return False
    try:
        client.sync(client.scheduler.identity, callback_timeout=timeout)
    except Exception:  # noqa: BLE001 — no answer, whatever the reason, is a lost scheduler
        return False
    return True
