"""Where sigcube's Dask tasks run: a client of a running scheduler or of a new LocalCluster (sweeps and fits)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console

from sigcube.errors import SigcubeError

WORKER_CONFIG = {"distributed.worker.profile.enabled": False}
"""Dask settings of the workers sigcube starts: no statistical profiler (it samples every thread's stack a hundred
times a second for the dashboard's Profile page; a 10⁵-galaxy sweep ran 1.23× as long with it,
``bench/survey.py``). Workers of a scheduler you run take ``DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False``."""


def local_cluster(n_workers: int, dashboard_address: str | None = ":0") -> Any:
    """A LocalCluster of ``n_workers`` single-threaded processes, with the :data:`WORKER_CONFIG` settings."""
    import dask
    from distributed import LocalCluster

    with dask.config.set(WORKER_CONFIG):
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
