"""Run a sweep: cut the grid into blocks, evaluate them on Dask, stream them into Zarr.

The driver packs the dataset once, ships the block-independent inputs to every worker
(``client.scatter(..., broadcast=True)``), keeps a bounded number of blocks in flight and
writes each finished block into the result cube as soon as it arrives, so memory stays
flat whatever the grid size. A rerun of the same command resumes from the done flags and
recomputes every flagged block whose chunks are missing or fail their checksum.

The driver holds a lease on ``--out`` for the whole run (:class:`sigcube.stores.Lease`): a second
driver is refused while it is live, and every block write checks it still holds. ``--force``
replaces only a sigcube result cube (never an input, a dataset cube or another folder).
"""

from __future__ import annotations

import itertools
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from sigcube import datasets
from sigcube.cubes import open_cube
from sigcube.cubes.store import default_cube, describe, kind_of, store_attrs
from sigcube.errors import SchemaError, SigcubeError, StoreExistsError
from sigcube.metrics import get_metric
from sigcube.stores import Lease, Location, StoreDamagedError, open_arrays, was_leased
from sigcube.sweeps import grid as gridlib
from sigcube.sweeps.evaluate import Prepared, reduce_block
from sigcube.sweeps.result import (KIND, REBUILD, BlockCheck, BlockWriter, DoneFlags, best_parameters, build_template,
                                   check_blocks, create, open_result, rewrite_template_values, write_block)
from sigcube.sweeps.spec import SweepSpec


@dataclass
class SweepSummary:
    """What a run did: blocks (computed, found done, found damaged and computed again), evaluations, wall time,
    and the best grid point."""

    path: str
    n_blocks: int
    computed: int
    resumed: int
    evaluations: int
    seconds: float
    best: dict[str, Any] = field(default_factory=dict)
    repaired: int = 0

    @property
    def rate(self) -> float:
        return self.evaluations / self.seconds if self.seconds > 0 else float("nan")

    def line(self) -> str:
        best = ", ".join(f"{k}={_fmt(v)}" for k, v in self.best.items()) or "none (no global metric stored)"
        repaired = f", {self.repaired} of them damaged and recomputed" if self.repaired else ""
        return (f"{self.path}: {self.n_blocks} blocks ({self.computed} computed{repaired}, {self.resumed} already done), "
                f"{self.evaluations:.3g} point-evaluations in {self.seconds:.1f} s ({self.rate:.3g}/s); best: {best}")


def _fmt(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def block_params(spec: SweepSpec, region: tuple[slice, ...]) -> dict[str, Any]:
    """Parameter arrays (broadcastable to the block's shape) or single switch values of a block."""
    out: dict[str, Any] = {}
    ndim = len(spec.axes)
    for i, (axis, sl) in enumerate(zip(spec.axes, region)):
        values = axis.values[sl]
        if axis.categorical:
            out[axis.name] = str(values[0])
        else:
            shape = [1] * ndim
            shape[i] = len(values)
            out[axis.name] = np.asarray(values, dtype=float).reshape(shape)
    return out


def _block_task(prep: Prepared, block_id: int, params: dict[str, Any], region: tuple[slice, ...],
                keep: tuple[str, ...], writer: BlockWriter) -> int:
    """Compute one block, write the ``keep`` variables' chunks with ``writer``; the driver then flags it done."""
    results = reduce_block(prep, params, keep_curves="v_pred" in keep)
    write_block(writer, region, {name: results[name] for name in keep})
    return block_id


def run_sweep(
    spec: SweepSpec,
    out: str | Path,
    cube: str | Path | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    synchronous: bool = False,
    force: bool = False,
    keep_curves: bool = False,
    console: Console | None = None,
) -> SweepSummary:
    """Evaluate ``spec`` into the result cube at ``out``; resume it if it is unfinished.

    ``scheduler`` (``tcp://host:port``) uses an existing Dask cluster; otherwise a
    LocalCluster of ``workers`` processes (default: one per core) is started, or with
    ``synchronous`` everything runs in this process.
    """
    console = console or Console(stderr=True)
    store = Location.of(out, "--out")
    cube_store = Location.of(cube or spec.cube or default_cube(spec.dataset), "--cube")
    if store.same_or_nested(cube_store):
        raise StoreExistsError(f"--out {store.name} is, contains or lies inside the input cube {cube_store.name}; "
                               "choose another --out")
    ds = open_cube(cube_store.name, kind=spec.dataset).load()
    points = datasets.pack(ds, spec.cuts)
    _check_inputs(spec, points.inputs)
    prep = Prepared.build(points, spec.kernel, spec.fixed, spec.baseline)
    target = spec.block_size or gridlib.auto_block_size(points.n_points, spec.size)
    chunks = gridlib.block_chunks(spec.shape, [a.categorical for a in spec.axes], target)
    regions = gridlib.blocks(spec.shape, chunks)
    template = build_template(spec, points, prep.baseline_rms, chunks, ds.attrs, keep_curves)
    _store_state(store)  # refuse someone else's folder before putting a lease beside it
    with Lease.acquire(store) as lease:
        flags, check = _prepare_store(store, template, force, lease)
        if check.damaged or check.template:
            console.print(f"{store.name}: repairing {check.describe()}", soft_wrap=True, highlight=False, markup=False)
        already = check.done
        pending = [i for i in range(len(regions)) if i not in already]
        evals_of = {i: int(np.prod([s.stop - s.start for s in regions[i]])) * points.n_points for i in pending}
        keep = spec.metrics + (("v_pred",) if keep_curves else ())
        writer = BlockWriter(store, template.attrs["store_id"], lease.token)
        warm_up = spec.kernel.fast_reduce.warm_up if spec.kernel.fast_reduce else None
        with _quiet_dask(), _dask_client(scheduler, workers, console) if not synchronous else nullcontext() as client:
            if warm_up is not None and client is None:
                warm_up()
            elif warm_up is not None:
                client.run(warm_up)
            start = time.perf_counter()
            with _progress(console, len(regions), len(already)) as advance:
                if client is None:
                    for i in pending:
                        _block_task(prep, i, block_params(spec, regions[i]), regions[i], keep, writer)
                        flags.mark(regions[i])
                        advance(evals_of[i])
                else:
                    _stream_blocks(client, prep, spec, regions, pending, keep, writer, flags, advance)
        seconds = time.perf_counter() - start
        flags.mark_complete()
    headline = next((m for m in spec.metrics if get_metric(m).scope == "global"), None)
    best = best_parameters(open_result(store, verify=False), headline) if headline else {}
    return SweepSummary(store.name, len(regions), len(pending), len(already), sum(evals_of.values()), seconds, best,
                        len(check.damaged))


def _check_inputs(spec: SweepSpec, inputs: dict[str, np.ndarray]) -> None:
    """Refuse, before any work, a sweep whose kernel reads (under some swept switch value) an input the points lack."""
    switches = [axis for axis in spec.axes if axis.categorical]
    for values in itertools.product(*(axis.values for axis in switches)):
        params = spec.kernel.resolve({**spec.fixed, **{axis.name: str(v) for axis, v in zip(switches, values)}})
        spec.kernel.check_inputs(inputs, params)


def _store_state(store: Location) -> tuple[str, dict[str, Any]]:
    """What is at ``--out``: ``absent`` (nothing, or an empty folder), ``result`` (a sigcube result cube, with its
    root attributes), ``unsealed`` (a result cube whose creation was interrupted) or ``damaged`` (a folder a sweep
    leased, with its ``done`` array, whose root metadata is unreadable or lacks its kind). Anything else is
    refused here."""
    found = store.kind()
    if found in ("absent", "empty"):
        return "absent", {}
    try:
        attrs = store_attrs(store, "")[1] if found == "folder" else None
    except SchemaError:
        attrs = None
    kind = kind_of(attrs) if attrs is not None else None
    if kind == KIND:
        return ("result" if "store_id" in attrs else "unsealed"), attrs
    if kind is None and found == "folder" and was_leased(store) and store.read("done/zarr.json") is not None:
        return "damaged", {}
    what = ("a file" if found == "file" else describe(attrs) if attrs is not None
            else "a folder that is not a Zarr store")
    raise StoreExistsError(f"--out {store.name} is {what}; a sweep writes only into a new or empty folder or its own "
                           "result cube (--force never replaces anything else): choose another --out")


def _prepare_store(store: Location, template: xr.Dataset, force: bool, lease: Lease) -> tuple[DoneFlags, BlockCheck]:
    """Under the lease: create the result cube, replace it (``force``), or resume it after checking its blocks."""
    state, attrs = _store_state(store)
    if state == "result" and attrs["store_id"] == template.attrs["store_id"]:
        flags = DoneFlags(store, lease)
        return flags, _repair(store, attrs, template, flags)
    if state == "result" and not force:
        raise StoreExistsError(f"{store.name} already holds a different sweep spec or dataset; pass --force to "
                               "discard it and start over, or choose another --out")
    if state == "damaged" and not force:
        raise StoreDamagedError(f"{store.name}: the result cube's root metadata is unreadable or has lost its "
                                f"sigcube_kind; {REBUILD}")
    if state != "absent":
        store.remove()
    create(store, template)
    flags = DoneFlags(store, lease)
    return flags, BlockCheck([], ())  # a new cube: no block done yet


def _repair(store: Location, attrs: dict[str, Any], template: xr.Dataset, flags: DoneFlags) -> BlockCheck:
    """Check a result cube being resumed: rewrite damaged template values, clear the flags of damaged blocks."""
    arrays = open_arrays(store, attrs, REBUILD)
    missing = sorted(set(map(str, template.variables)) - set(arrays))
    if missing:
        raise StoreDamagedError(f"{store.name}: the result cube lacks the arrays {', '.join(missing)}; {REBUILD}")
    check = check_blocks(store, arrays, bool(attrs.get("complete")))
    if check.template:
        rewrite_template_values(store, template)
    if check.damaged:
        flags.unmark([check.regions[i] for i in check.damaged])
    return check


@contextmanager
def _progress(console: Console, total: int, done: int) -> Iterator:
    columns = (
        TextColumn("[bold]sweep"), BarColumn(), MofNCompleteColumn(), TextColumn("blocks"),
        TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("sweep", total=total, completed=done, rate="")
        t0 = time.perf_counter()
        evals = 0

        def advance(n_evals: int) -> None:
            nonlocal evals
            evals += n_evals
            rate = evals / max(time.perf_counter() - t0, 1e-9)
            progress.update(task, advance=1, rate=f"{rate:.3g} evals/s")

        yield advance


@contextmanager
def _quiet_dask() -> Iterator[None]:
    """Keep distributed's own log records (tracebacks of a lost scheduler, of closing comms) off the terminal
    while a sweep runs: what went wrong reaches the user as one line of :func:`_stream_blocks`."""
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
def _dask_client(scheduler: str | None, workers: int | None, console: Console) -> Iterator:
    """A client of the scheduler at ``scheduler``, or of a new LocalCluster of ``workers`` processes."""
    from distributed import Client, LocalCluster

    cluster = None
    if scheduler:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, ValueError, TypeError) as exc:
            raise SigcubeError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    else:
        n = workers or os.cpu_count() or 1
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0")
        client = Client(cluster)
    try:
        console.print(f"Dask dashboard: {client.dashboard_link}", soft_wrap=True, highlight=False)
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _stream_blocks(client, prep, spec, regions, pending, keep, writer, flags, advance) -> None:
    """Keep about two blocks per worker thread in flight; flag each block done as it lands.

    Workers write their blocks' chunks themselves, so the store must be one they can reach
    (the same machine, a shared filesystem).
    """
    from distributed import as_completed

    prep_future = client.scatter(prep, broadcast=True, hash=False)
    threads = max(1, sum(client.nthreads().values()))
    queue = list(pending)
    ac = as_completed()
    key = spec.fingerprint()[:12]

    def submit() -> None:
        i = queue.pop(0)
        ac.add(client.submit(_block_task, prep_future, i, block_params(spec, regions[i]), regions[i], keep,
                             writer, key=f"sigcube-block-{key}-{i}", pure=False))

    for _ in range(min(len(queue), 2 * threads + 1)):
        submit()
    for future in ac:
        try:
            i = future.result()
        except SigcubeError:  # the lease was lost, the store cannot be written: already one clear line
            raise
        except Exception as exc:  # KilledWorker after repeated deaths, a task error, the scheduler lost
            what = ("the connection to the Dask scheduler was lost" if client.status != "running" else
                    f"a sweep block failed ({type(exc).__name__}: {' '.join(str(exc).split())})")
            raise SigcubeError(f"{what}; every finished block is saved — rerun the same command to resume") from None
        flags.mark(regions[i])
        future.release()
        advance(int(np.prod([s.stop - s.start for s in regions[i]])) * prep.points.n_points)
        if queue:
            submit()
