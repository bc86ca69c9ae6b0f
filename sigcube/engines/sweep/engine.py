"""Run a sweep: grid blocks × object chunks as Dask tasks, streamed into a Zarr result cube, combined exactly.

The driver reads the dataset cube once, in batches, through the sample cuts — names, usable points and rows
of the swept objects, never the packed dataset (:mod:`sigcube.engines.sweep.objects`) — and cuts the objects into
chunks (one task's points over the whole grid, 2·10⁴–10⁵; all of SPARC is one) and the grid into blocks
(about 5·10⁷ point-evaluations per task). A task is one block × one chunk: a worker reads the chunk's rows from
the dataset store itself (path or URL; the last few chunks are cached per process), calls the kernel's reduction
once
(:func:`sigcube.compute.reduce.reduce_block`) and writes the task's per-object chunks and exact partial sums
(:mod:`sigcube.compute.exact`); the driver then flags the task. When every chunk of a block is flagged the block
is finalized on a worker (by its only task when there is one chunk): partials combined exactly, the median
χ²_red read back from the stored χ² in row batches of bounded size; then the driver flags the block done. So
global metrics do not depend on the chunking, memory stays flat whatever the grid and sample sizes, and no
worker needs a shared filesystem when ``--out`` and ``--cube`` are store URLs (``s3://…``). The driver holds no
per-object array either: before anything is written a worker checks the inputs on chunk 0 (:func:`check_chunk`, and
keeps the chunk for its first task), and once the cube is complete the workers count the objects whose own best
point lies on an end of the grid, a range of chunks each (:func:`run_edges`).

A rerun of the same command resumes from the flags and recomputes every flagged task or block whose chunks
are missing or fail their checksum. The driver holds a lease on ``--out`` for the whole run
(:class:`sigcube.io.stores.Lease`): a second driver is refused while it is live, and every write checks it still
holds. ``--force`` replaces only a sigcube result cube (never an input, a dataset cube or another folder).
"""

from __future__ import annotations

import functools
import itertools
import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import xarray as xr
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from sigcube.compute import exact
from sigcube.compute.fast_paths import fast_reduce_of
from sigcube.compute.reduce import Prepared, reduce_block
from sigcube.engines.dask import dask_client, quiet_dask, stream
from sigcube.engines.sweep import grid as gridlib
from sigcube.engines.sweep import nuisance
from sigcube.engines.sweep.objects import ChunkSource, choose_chunk, chunk_source, load_points, plan_objects
from sigcube.engines.sweep.result import (
    FINALIZE_BYTES, KIND, N_PARTIAL, OBJECT_DTYPES, REBUILD, BlockCheck, BlockWriter, DoneFlags, EdgeTally, Layout,
    add_partials, arrays_of, best_parameters, build_template, check_blocks, check_format, create, edge_lines, edge_notes,
    edge_tally, global_metrics, grid_edges, open_result, pack_partials, read_region, rewrite_template_values,
    store_posterior, stored_metrics, write_regions,
)
from sigcube.engines.sweep.spec import SweepSpec
from sigcube.errors import SchemaError, SigcubeError, StoreExistsError
from sigcube.io.chunks import Manifest
from sigcube.io.cubes import default_cube, describe, kind_of, store_attrs
from sigcube.io.stores import Lease, Location, StoreDamagedError, open_arrays, was_leased
from sigcube.model.metrics import get_metric

DASK_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")
"""Dask comm protocols a scheduler in another process listens on (``inproc://`` lives inside one process)."""
CACHED_CHUNKS = 4
"""Object chunks (packed points and baseline RMS) each process keeps for its next tasks."""
PIECE_EVALS = 10_000_000
"""Point-evaluations per piece of a task (:func:`run_task`): the writes of one piece overlap the next piece's
kernel (a task of 5·10⁷ evaluations is cut into five; smaller pieces hide more of the writes, each costs a call)."""


@dataclass
class SweepSummary:
    """What a run did: tasks (computed, found done, found damaged and computed again), evaluations, wall time,
    and the best grid point. A task is one grid block × one object chunk (one chunk: a task per block)."""

    path: str
    n_blocks: int
    computed: int
    resumed: int
    evaluations: int
    seconds: float
    best: dict[str, Any] = field(default_factory=dict)
    repaired: int = 0
    n_chunks: int = 1
    warnings: list[str] = field(default_factory=list)
    """Best points cut off by an end of the grid (:func:`~sigcube.engines.sweep.result.grid_edges`)."""
    notes: list[str] = field(default_factory=list)
    """Best points on an end of the grid that is their answer: a plateau or the parameter's own bound."""

    @property
    def rate(self) -> float:
        return self.evaluations / self.seconds if self.seconds > 0 else float("nan")

    def line(self) -> str:
        best = ", ".join(f"{k}={_fmt(v)}" for k, v in self.best.items()) or "none (no global metric stored)"
        repaired = f", {self.repaired} of them damaged and recomputed" if self.repaired else ""
        shape = (f"{self.n_blocks} blocks" if self.n_chunks == 1 else
                 f"{self.n_blocks} blocks × {self.n_chunks} object chunks = {self.n_blocks * self.n_chunks} tasks")
        return (f"{self.path}: {shape} ({self.computed} computed{repaired}, {self.resumed} already done), "
                f"{self.evaluations:.3g} point-evaluations in {self.seconds:.1f} s ({self.rate:.3g}/s); best: {best}")


def _fmt(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def scheduler_address(address: str) -> str:
    """``address`` as ``scheme://host:port`` (``host:port`` means tcp), or a SigcubeError saying what is wrong."""
    given = address if "://" in address else f"tcp://{address}"
    what = f"--scheduler {address!r} is not a Dask scheduler address"
    example = "give tcp://HOST:PORT, e.g. tcp://10.0.0.5:8786"
    parts = urlsplit(given)
    if parts.scheme == "inproc":
        raise SigcubeError(f"{what}: inproc:// addresses live inside one Python process, out of this command's "
                           f"reach; {example}")
    if parts.scheme not in DASK_SCHEMES:
        dashboard = "; http(s):// is the dashboard's address, the scheduler's is tcp://HOST:8786" \
            if parts.scheme in ("http", "https") else ""
        raise SigcubeError(f"{what}: {parts.scheme!r} is not a Dask protocol ({', '.join(DASK_SCHEMES)}){dashboard}")
    try:
        port = parts.port
    except ValueError:
        port = -1
    if not parts.hostname or port is None or port < 1 or parts.path or parts.query or parts.fragment or parts.username:
        raise SigcubeError(f"{what}: {example}")
    return given


def check_workers(scheduler: str | None, workers: int | None, synchronous: bool) -> str | None:
    """Check the choice of where tasks run (at most one of the three); the scheduler's address, normalised."""
    if sum([scheduler is not None, workers is not None, synchronous]) > 1:
        raise SigcubeError("choose at most one of --scheduler, --workers, --synchronous")
    if workers is not None and workers < 1:
        raise SigcubeError(f"--workers must be ≥ 1; got {workers}")
    return scheduler_address(scheduler) if scheduler is not None else None


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


# --- what runs on workers -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SweepJob:
    """Everything a task needs, shipped with it: the spec, where the objects are, the layout, the writer."""

    spec: SweepSpec
    source: ChunkSource
    layout: Layout
    writer: BlockWriter | None
    """None until the driver holds its lease."""
    keep_curves: bool
    cache_key: str
    stride: int = 1
    """Worker threads of the cluster: the object chunk a process likely takes after ``c`` is ``c + stride``."""

    @property
    def object_metrics(self) -> tuple[str, ...]:
        return tuple(m for m in stored_metrics(self.spec) if m in OBJECT_DTYPES)

    @property
    def global_names(self) -> tuple[str, ...]:
        return tuple(m for m in self.spec.metrics if get_metric(m).scope == "global")


_PREPARED: OrderedDict[tuple[str, int], Prepared] = OrderedDict()
"""This process's last :data:`CACHED_CHUNKS` object chunks, ready for :func:`reduce_block`."""
_AHEAD: dict[tuple[str, int], Future] = {}
"""The object chunk this process reads ahead (at most one)."""


def prepared(job: SweepJob, c: int) -> Prepared:
    """Object chunk ``c`` packed and prepared (read from the dataset store on first use in this process, or taken
    from a read started ahead); the chunk this process will likely take next (``c + job.stride``) is then read on a
    second thread, while ``c`` is computed."""
    key = (job.cache_key, c)
    if key in _PREPARED:
        _PREPARED.move_to_end(key)
        return _PREPARED[key]
    ahead = _AHEAD.pop(key, None)
    prep = ahead.result() if ahead is not None else _prepare(job, c)
    _PREPARED[key] = prep
    while len(_PREPARED) > CACHED_CHUNKS:
        _PREPARED.popitem(last=False)
    guess = c + job.stride
    if guess < job.layout.n_chunks and (job.cache_key, guess) not in _PREPARED:
        _AHEAD.clear()  # an earlier guess this process did not take: dropped when its read ends
        _AHEAD[(job.cache_key, guess)] = _reader_thread().submit(_prepare, job, guess)
    return prep


def _prepare(job: SweepJob, c: int) -> Prepared:
    points = load_points(job.source, c)
    check_inputs(job.spec, points.inputs)
    return Prepared.build(points, job.spec.kernel, job.spec.fixed, job.spec.baseline)


@functools.lru_cache(maxsize=1)
def _reader_thread() -> ThreadPoolExecutor:
    """This process's thread for reads ahead (an error in one surfaces in the task that takes its chunk)."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="sigcube-read-ahead")


def run_task(job: SweepJob, b: int, c: int) -> Manifest:
    """Task (block ``b``, object chunk ``c``): reduce, then write its per-object chunks and partials (and, when the
    objects are one chunk, the block's global metrics); returns the digests of every chunk written.

    The block is reduced in pieces of whole row chunks (:data:`PIECE_EVALS` evaluations each; a nuisance sweep,
    whose solves warm-start along the block, in one): each piece's per-object chunks are written by a second
    thread while the next piece is computed, so the writes overlap the kernel (which releases the GIL)."""
    layout = job.layout
    region = layout.regions[b]
    prep = prepared(job, c)
    objects = layout.objects(c)
    shape = tuple(s.stop - s.start for s in region)
    partials = np.empty(shape + (N_PARTIAL,), dtype=np.int64)
    global_names = job.global_names if layout.n_chunks == 1 else ()
    block_globals = {name: np.empty(shape) for name in global_names}
    max_points = math.prod(shape) if job.spec.nuisance is not None else \
        max(1, PIECE_EVALS // max(prep.points.n_points, 1))
    written = Manifest()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sigcube-write") as writer:
        pending = None
        for piece in gridlib.pieces(region, layout.rows, max_points):
            local = tuple(slice(p.start - r.start, p.stop - r.start) for p, r in zip(piece, region))
            params = block_params(job.spec, piece)
            out = kernel_reduction(job.spec, prep, params, tuple(s.stop - s.start for s in piece), job.keep_curves)
            partials[local] = pack_partials(out["partials"], out["rms"])
            writes = {name: (piece + (objects,), out[name]) for name in job.object_metrics}
            writes.update({name: (piece + (objects,), v) for name, v in
                           nuisance.task_arrays(job.spec, job.source, c, prep.points, params).items()})
            if job.keep_curves:
                writes["v_pred"] = (piece, out["v_pred"])
            if global_names:
                chi2_red = out["chi2"] / np.diff(prep.points.offsets)
                for name, v in global_metrics(partials[local], global_names, chi2_red).items():
                    block_globals[name][local] = v
            if pending is not None:
                written.update(pending.result())  # at most one piece waits to be written: memory stays bounded
            pending = writer.submit(write_regions, job.writer, writes)
        written.update(pending.result())
    writes = {"_partials": (region + (slice(c, c + 1),), partials[..., None, :])}
    writes.update({name: (region, v) for name, v in block_globals.items()})
    if b == 0:
        writes["baseline_rms"] = ((objects,), prep.baseline_rms)
    written.update(write_regions(job.writer, writes))
    return written


def kernel_reduction(spec: SweepSpec, prep: Prepared, params: dict[str, Any], shape: tuple[int, ...],
                     keep_curves: bool) -> dict[str, Any]:
    """:func:`reduce_block` of a piece of ``shape`` grid points: the kernel evaluated once per value of its own
    parameters, the result spread along a σ_int axis (the plain metrics do not depend on the likelihood's scatter)."""
    own = {k: v for k, v in params.items() if not spec.is_scatter(k)}
    out = reduce_block(prep, own, keep_curves=keep_curves, chunk_metrics=False)
    if len(own) == len(params):
        return out
    lead = np.broadcast_shapes(*(np.shape(v) for v in own.values() if not isinstance(v, str)), (1,) * len(shape))

    def spread(v: Any, trailing: int) -> Any:
        v = np.asarray(v)
        if v.ndim == 0:
            return v
        return np.broadcast_to(v.reshape(lead + v.shape[v.ndim - trailing:]), shape + v.shape[v.ndim - trailing:])

    block = {k: spread(v, 1) for k, v in out.items() if k != "partials"}
    block["partials"] = {k: spread(v, np.ndim(v) - len(out["rms"].shape) + 1) for k, v in out["partials"].items()}
    return block


def run_finalize(job: SweepJob, b: int) -> Manifest:
    """Finalize block ``b``: combine its tasks' partials exactly, read the median from the stored χ² in row
    batches of bounded size, write its global metrics; returns their chunks' digests."""
    layout = job.layout
    region = layout.regions[b]
    store = job.writer.store
    arrays = arrays_of(job.writer)
    shape = tuple(s.stop - s.start for s in region)
    take = max(1, FINALIZE_BYTES // (math.prod(shape) * N_PARTIAL * 8))
    total = None
    for c in range(0, layout.n_chunks, take):
        part = add_partials(read_region(store, arrays["_partials"], region + (slice(c, c + take),)), axis=len(region))
        total = part if total is None else add_partials(np.stack([total, part]), axis=0)
    if np.any(total[..., 0] != layout.n_objects):
        raise StoreDamagedError(f"{store.name}: the partial sums of block {b} cover {int(total[..., 0].min())} of "
                                f"{layout.n_objects} objects (a chunk was lost while the sweep ran); rerun the same "
                                "`sigcube sweep` command to repair it")
    names = [n for n in job.global_names if n != "median_chi2_red"]
    values = global_metrics(total, names) if names else {}
    if "median_chi2_red" in job.global_names:
        n_points = read_region(store, arrays["n_points"], (slice(None),))
        median = np.empty(shape)
        for sub in gridlib.sub_regions(region, layout.rows):
            local = tuple(slice(s.start - r.start, s.stop - r.start) for s, r in zip(sub, region))
            chi2 = read_region(store, arrays["chi2"], sub + (slice(None),))
            median[local] = global_metrics(total[local], ["median_chi2_red"], chi2 / n_points)["median_chi2_red"]
        values["median_chi2_red"] = median
    return write_regions(job.writer, {name: (region, v) for name, v in values.items()})


def run_item(job: SweepJob, item: tuple[int, int]) -> Manifest:
    """A task ``(b, c)`` or the finalization ``(b, -1)`` of block ``b``: the digests of the chunks it wrote."""
    b, c = item
    return run_finalize(job, b) if c < 0 else run_task(job, b, c)


def check_chunk(job: SweepJob, c: int) -> None:
    """Refuse (SigcubeError) a sweep whose kernel, baseline or nuisance rules need inputs that object chunk ``c``
    lacks, from its points prepared as its tasks prepare them (and kept for them, in this process)."""
    nuisance.check_spec(job.spec, job.source, prepared(job, c).points)


def run_edges(shared: tuple[str, str], objects: tuple[int, int]) -> EdgeTally:
    """The objects ``[start, stop)`` of the finished cube at ``shared[0]`` whose own best ``shared[1]`` lies on an end
    of the grid (:func:`~sigcube.engines.sweep.result.edge_tally`), counted by a worker: the driver reads no
    per-object array."""
    url, metric = shared
    return edge_tally(open_result(url, verify="seal", chunks=None), metric, slice(*objects))


def warm_up(job: SweepJob) -> None:
    """Load (or compile) the compiled loops now, so the first task is not slowed by it."""
    exact.warm_up()
    fast = fast_reduce_of(job.spec.kernel)
    if fast is not None and fast.warm_up is not None:
        fast.warm_up()


# --- the driver ---------------------------------------------------------------------------------------------------

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
    """Evaluate ``spec`` into the result cube at ``out`` (a path or a store URL); resume it if it is unfinished.

    ``scheduler`` (``tcp://host:port``) uses an existing Dask cluster; otherwise a LocalCluster of ``workers``
    processes (default: one per core) is started, or with ``synchronous`` everything runs in this process.
    ``cube`` (path or URL) is the dataset cube, default the spec's or ``cubes/<dataset>.zarr``.
    """
    console = console or Console(stderr=True)
    address = check_workers(scheduler, workers, synchronous)
    store = Location.of(out, "--out")
    cube_store = Location.of(cube or spec.cube or default_cube(spec.dataset), "--cube")
    if store.same_or_nested(cube_store):
        raise StoreExistsError(f"--out {store.name} is, contains or lies inside the input cube {cube_store.name}; "
                               "choose another --out")
    plan, cube_attrs = plan_objects(cube_store, spec.dataset, spec.cuts)
    object_chunk = choose_chunk(plan, spec.object_chunk, spec.size)
    source = chunk_source(cube_store, spec.dataset, cube_attrs, spec.cuts, plan, object_chunk,
                          (*spec.kernel.all_inputs, *spec.baseline.all_inputs))
    if keep_curves and len(source.counts) > 1:
        raise SigcubeError(f"--keep-curves stores V_pred for every point of every grid point: it needs the objects "
                           f"in one chunk, and these {plan.n_objects} are cut into {len(source.counts)} (set "
                           f"object_chunk = {plan.n_objects} in the spec, or drop --keep-curves)")
    chunk_points = [int(np.sum(plan.n_points[a:a + n])) for a, n in
                    zip(itertools.accumulate((0, *source.counts[:-1])), source.counts)]
    layout = _layout(spec, plan.n_objects, object_chunk, max(chunk_points))
    template = build_template(spec, plan.group, plan.names, plan.n_points, layout, cube_attrs, keep_curves)
    _store_state(store)  # refuse someone else's folder before connecting or putting a lease beside it
    job = SweepJob(spec, source, layout, None, keep_curves, f"{source.key}|{spec.fingerprint()}")
    regions = layout.regions
    tag = spec.fingerprint()[:12]
    with quiet_dask(), (nullcontext() if synchronous else dask_client(address, workers, console)) as client:
        job = replace(job, stride=1 if client is None else max(1, sum(client.nthreads().values())))
        # inputs checked before anything is written, on chunk 0 where the tasks run (it is kept for the first task)
        _each(client, check_chunk, job, [0], tag)
        with Lease.acquire(store) as lease:
            flags, check = _prepare_store(store, template, layout, force, lease)
            if check.damaged or check.template:
                console.print(f"{store.name}: repairing {check.describe()}", soft_wrap=True, highlight=False,
                              markup=False)
            job = replace(job, writer=BlockWriter(store, template.attrs["store_id"], lease.token))
            schedule = _Schedule(layout, check)
            n_tasks = len(regions) * layout.n_chunks
            evals = {(b, c): math.prod(s.stop - s.start for s in regions[b]) * chunk_points[c]
                     for b, c in schedule.pending_tasks}
            if client is None:
                warm_up(job)
            else:
                client.run(warm_up, job)
            start = time.perf_counter()
            with _progress(console, n_tasks, n_tasks - len(evals)) as advance:
                def finished(item: tuple[int, int], written: Manifest) -> None:
                    schedule.finished(item, written, flags)
                    if item[1] >= 0:
                        advance(evals[item])
                if client is None:
                    while (item := schedule.take()) is not None:
                        finished(item, run_item(job, item))
                else:
                    stream(client, run_item, job, schedule.take, finished,
                           key=lambda item: f"sigcube-{'finalize' if item[1] < 0 else 'task'}-{tag}-{item[0]}"
                                            + ("" if item[1] < 0 else f"-{item[1]}"),
                           priority=lambda item: 1 if item[1] < 0 else 0,
                           resume="every finished block is saved — rerun the same command to resume")
            seconds = time.perf_counter() - start
            flags.mark_complete(store_posterior(job.writer, spec, layout))
            per_object = "rms" if spec.nuisance is None and "rms" in stored_metrics(spec) else None
            # the objects' own best points on the grid's ends, counted where the tasks run: a few ranges of chunks
            tallies = _each(client, run_edges, (store.url, per_object), _object_ranges(layout, job.stride), tag) \
                if per_object else None
    headline = next((m for m in spec.metrics if get_metric(m).scope == "global"), None)
    finished_cube = open_result(store, verify="seal")
    best = best_parameters(finished_cube, headline) if headline else {}
    edges = grid_edges(finished_cube, [headline] if headline else [], per_object, tallies)
    return SweepSummary(store.name, len(regions), len(evals), n_tasks - len(evals), sum(evals.values()), seconds,
                        best, len(check.damaged), layout.n_chunks, edge_lines(edges), edge_notes(edges))


def _layout(spec: SweepSpec, n_objects: int, object_chunk: int, chunk_points: int) -> Layout:
    """Blocks of about 5·10⁷ evaluations per task (or ``block_size`` grid points), tiled by row chunks whose χ²
    of every object fits :data:`~sigcube.engines.sweep.result.FINALIZE_BYTES`."""
    block_target = spec.block_size or gridlib.auto_block_size(chunk_points, spec.size)
    rows_target = min(block_target, max(1, FINALIZE_BYTES // (8 * n_objects)))
    rows, block = gridlib.nested_chunks(spec.shape, [a.categorical for a in spec.axes], rows_target, block_target)
    return Layout(spec.shape, block, rows, n_objects, object_chunk)


def _object_ranges(layout: Layout, parts: int) -> list[tuple[int, int]]:
    """The objects cut into at most ``parts`` ranges ``(start, stop)`` of whole object chunks, in order."""
    groups = np.array_split(np.arange(layout.n_chunks), min(layout.n_chunks, parts))
    return [(layout.objects(int(g[0])).start, layout.objects(int(g[-1])).stop) for g in groups]


def _each(client: Any, func: Callable[[Any, Any], Any], shared: Any, items: list[Any], tag: str) -> list[Any]:
    """``[func(shared, item) for item in items]``, run here (no client) or as one task each on the cluster."""
    if client is None:
        return [func(shared, item) for item in items]
    pending = deque(items)
    found: dict[Any, Any] = {}
    stream(client, func, shared, lambda: pending.popleft() if pending else None, found.__setitem__,
           key=lambda item: f"sigcube-{func.__name__.replace('_', '-')}-{tag}-{item}",
           resume="rerun the same command (every finished block is saved)")
    return [found[item] for item in items]


def check_inputs(spec: SweepSpec, inputs: dict[str, np.ndarray]) -> None:
    """Refuse, before any work, a sweep whose kernel reads (under some swept switch value) an input the points lack."""
    switches = [axis for axis in spec.axes if axis.categorical]
    for values in itertools.product(*(axis.values for axis in switches)):
        params = spec.kernel.resolve({**spec.fixed, **{axis.name: str(v) for axis, v in zip(switches, values)}})
        spec.kernel.check_inputs(inputs, params)


class _Schedule:
    """What is left to do, in order: finalizations of blocks whose tasks are all done, then tasks block by block;
    a block's finalization is queued first as soon as its last task is flagged."""

    def __init__(self, layout: Layout, check: BlockCheck) -> None:
        self.layout = layout
        blocks = range(len(layout.regions))
        self.pending_tasks = [(b, c) for b in blocks if b not in check.done for c in range(layout.n_chunks)
                              if (b, c) not in check.tasks]
        self.remaining = {b: 0 for b in blocks if b not in check.done}
        for b, _ in self.pending_tasks:
            self.remaining[b] += 1
        ready = [(b, -1) for b, n in self.remaining.items() if n == 0]
        self.queue = deque(ready + self.pending_tasks)

    def take(self) -> tuple[int, int] | None:
        return self.queue.popleft() if self.queue else None

    def finished(self, item: tuple[int, int], written: Manifest, flags: DoneFlags) -> None:
        """Record the manifest of what ``item`` wrote and flag it; queue its block's finalization when it was the
        block's last task."""
        b, c = item
        if c < 0:
            flags.mark(self.layout.regions[b], b, written)
            return
        flags.mark_task(b, c, written)
        self.remaining[b] -= 1
        if self.remaining[b] == 0:
            if self.layout.n_chunks == 1:
                flags.mark(self.layout.regions[b], b, None)  # its only task wrote the global metrics
            else:
                self.queue.appendleft((b, -1))


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


def _prepare_store(store: Location, template: xr.Dataset, layout: Layout, force: bool,
                   lease: Lease) -> tuple[DoneFlags, BlockCheck]:
    """Under the lease: create the result cube, replace it (``force``), or resume it after checking its blocks."""
    state, attrs = _store_state(store)
    if state == "result" and attrs["store_id"] == template.attrs["store_id"]:
        try:
            flags = DoneFlags(store, lease)
            return flags, _repair(store, attrs, template, flags)
        except StoreDamagedError:
            if not force:
                raise
            state = "damaged"  # metadata a rerun cannot repair: --force starts over
    if state == "result" and not force:
        check_format(store, attrs, "pass --force to compute it again, or choose another --out")
        raise StoreExistsError(f"{store.name} already holds a different sweep spec or dataset; pass --force to "
                               "discard it and start over, or choose another --out")
    if state == "damaged" and not force:
        raise StoreDamagedError(f"{store.name}: the result cube's root metadata is unreadable or has lost its "
                                f"sigcube_kind; {REBUILD}")
    if state != "absent":
        store.remove()
    create(store, template)
    flags = DoneFlags(store, lease)
    return flags, BlockCheck(layout, tuple(template["done"].dims))  # a new cube: nothing done yet


def _repair(store: Location, attrs: dict[str, Any], template: xr.Dataset, flags: DoneFlags) -> BlockCheck:
    """Check a result cube being resumed (every flagged chunk's checksum, locally or not): rewrite damaged
    template values, clear the flags of damaged blocks and tasks."""
    arrays = open_arrays(store, attrs, REBUILD)
    missing = sorted(set(map(str, template.variables)) - set(arrays))
    if missing:
        raise StoreDamagedError(f"{store.name}: the result cube lacks the arrays {', '.join(missing)}; {REBUILD}")
    check = check_blocks(store, arrays, attrs, "full", consolidated=False)
    if check.template:
        rewrite_template_values(store, template)
    if check.damaged or check.damaged_tasks:
        flags.unmark(check)
    return check


@contextmanager
def _progress(console: Console, total: int, done: int) -> Iterator[Callable[[int], None]]:
    columns = (
        TextColumn("[bold]sweep"), BarColumn(), MofNCompleteColumn(), TextColumn("tasks"),
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
