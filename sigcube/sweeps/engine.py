"""Run a sweep: cut the grid into blocks, evaluate them on Dask, stream them into Zarr.

The driver packs the dataset once, ships the block-independent inputs to every worker
(``client.scatter(..., broadcast=True)``), keeps a bounded number of blocks in flight and
writes each finished block into the result cube as soon as it arrives, so memory stays
flat whatever the grid size. A rerun of the same command resumes from the done flags.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import zarr
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from sigcube.cubes import open_cube
from sigcube.cubes.store import ZARR_FORMAT, default_cube, replace_atomically
from sigcube.errors import SigcubeError, StoreExistsError
from sigcube import datasets
from sigcube.sweeps import grid as gridlib
from sigcube.metrics import get_metric
from sigcube.sweeps.evaluate import Prepared, reduce_block
from sigcube.sweeps.result import DoneFlags, best_parameters, build_template, create, done_blocks, open_result, write_block
from sigcube.sweeps.spec import SweepSpec


@dataclass
class SweepSummary:
    """What a run did: blocks, evaluations, wall time, and the best grid point."""

    path: Path
    n_blocks: int
    computed: int
    resumed: int
    evaluations: int
    seconds: float
    best: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.evaluations / self.seconds if self.seconds > 0 else float("nan")

    def line(self) -> str:
        best = ", ".join(f"{k}={_fmt(v)}" for k, v in self.best.items())
        return (f"{self.path}: {self.n_blocks} blocks ({self.computed} computed, {self.resumed} already done), "
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
                keep: tuple[str, ...], store: tuple[str, str]) -> int:
    """Compute one block, write the ``keep`` variables' chunks into ``store`` (path, store id);
    the driver then flags it done."""
    results = reduce_block(prep, params, keep_curves="v_pred" in keep)
    write_block(*store, region, {name: results[name] for name in keep})
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
    out = Path(out)
    cube_path = Path(cube or spec.cube or default_cube(spec.dataset))
    ds = open_cube(cube_path).load()
    if ds.attrs.get("sigcube_kind") != spec.dataset:
        raise SigcubeError(f"{cube_path} is a {ds.attrs.get('sigcube_kind')!r} cube; the spec sweeps {spec.dataset!r}")
    points = datasets.pack(ds, spec.cuts)
    _check_inputs(spec, points.inputs)
    prep = Prepared.build(points, spec.kernel, spec.fixed, spec.baseline)
    target = spec.block_size or gridlib.auto_block_size(points.n_points, spec.size)
    chunks = gridlib.block_chunks(spec.shape, [a.categorical for a in spec.axes], target)
    regions = gridlib.blocks(spec.shape, chunks)
    template = build_template(spec, points, prep.baseline_rms, chunks, ds.attrs, keep_curves)
    _prepare_store(out, template, force)
    store = (str(out), template.attrs["store_id"])
    already = done_blocks(out, regions)
    pending = [i for i in range(len(regions)) if i not in already]
    evals_of = {i: int(np.prod([s.stop - s.start for s in regions[i]])) * points.n_points for i in pending}
    keep = spec.metrics + (("v_pred",) if keep_curves else ())
    flags = DoneFlags(out)
    warm_up = spec.kernel.fast_reduce.warm_up if spec.kernel.fast_reduce else None
    with _dask_client(scheduler, workers, console) if not synchronous else nullcontext() as client:
        if warm_up is not None and client is None:
            warm_up()
        elif warm_up is not None:
            client.run(warm_up)
        start = time.perf_counter()
        with _progress(console, len(regions), len(already)) as advance:
            if client is None:
                for i in pending:
                    _block_task(prep, i, block_params(spec, regions[i]), regions[i], keep, store)
                    flags.mark(regions[i])
                    advance(evals_of[i])
            else:
                _stream_blocks(client, prep, spec, regions, pending, keep, store, flags, advance)
    seconds = time.perf_counter() - start
    flags.mark_complete()
    headline = next((m for m in spec.metrics if get_metric(m).scope == "global"), None)
    best = best_parameters(open_result(out), headline) if headline else {}
    return SweepSummary(out, len(regions), len(pending), len(already), sum(evals_of.values()), seconds, best)


def _check_inputs(spec: SweepSpec, inputs: dict[str, np.ndarray]) -> None:
    """Refuse, before any work, a sweep whose kernel reads (under some swept switch value) an input the points lack."""
    switches = [axis for axis in spec.axes if axis.categorical]
    for values in itertools.product(*(axis.values for axis in switches)):
        params = spec.kernel.resolve({**spec.fixed, **{axis.name: str(v) for axis, v in zip(switches, values)}})
        spec.kernel.check_inputs(inputs, params)


def _prepare_store(out: Path, template, force: bool) -> None:
    """Create the store, or check that the existing one was made by the same spec and data."""
    if out.exists():
        try:
            attrs = dict(zarr.open_group(str(out), mode="r", zarr_format=ZARR_FORMAT).attrs)
        except Exception:
            attrs = {}
        same = attrs.get("sigcube_kind") == "sweep" and attrs.get("store_id") == template.attrs["store_id"]
        if same:
            return
        if not force:
            what = "a different sweep spec or dataset" if attrs.get("sigcube_kind") == "sweep" else "something else"
            raise StoreExistsError(
                f"{out} already holds {what}; pass --force to discard it and start over, or choose another --out"
            )
    replace_atomically(out, lambda tmp: create(tmp, template))


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
def _dask_client(scheduler: str | None, workers: int | None, console: Console) -> Iterator:
    """A client of the scheduler at ``scheduler``, or of a new LocalCluster of ``workers`` processes."""
    from distributed import Client, LocalCluster

    cluster = None
    if scheduler:
        try:
            client = Client(scheduler, timeout="10s")
        except OSError as exc:
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


def _stream_blocks(client, prep, spec, regions, pending, keep, store, flags, advance) -> None:
    """Keep about two blocks per worker thread in flight; flag each block done as it lands.

    Workers write their blocks' chunks themselves, so the ``store`` path must be one they
    can reach (the same machine, a shared filesystem).
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
                             store, key=f"sigcube-block-{key}-{i}", pure=False))

    for _ in range(min(len(queue), 2 * threads + 1)):
        submit()
    for future in ac:
        try:
            i = future.result()
        except Exception as exc:  # KilledWorker after repeated deaths, or a task error
            raise SigcubeError(
                f"a sweep block failed ({type(exc).__name__}: {exc}); every finished block is saved — "
                "rerun the same command to resume"
            ) from None
        flags.mark(regions[i])
        future.release()
        advance(int(np.prod([s.stop - s.start for s in regions[i]])) * prep.points.n_points)
        if queue:
            submit()
