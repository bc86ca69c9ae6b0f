"""Result cubes: a Zarr store written task by task — one grid block × one chunk of objects — with done flags.

Layout: one dimension per swept parameter (coordinates in the kernel parameter's unit), the object dimension
(``galaxy`` for SPARC, ``cluster``, …) for the per-object metrics of :mod:`sigcube.model.metrics` (``rms`` in single
precision, ``chi2`` in double: the median χ²_red is read from it), its global metrics over the parameter dims
(``mean_rms``, ``win_rate`` — a fraction —, the three RAR scatters, ``median_chi2_red``), each with the
registry's ``units`` and ``long_name``; ``n_points`` (each object's points), ``baseline_rms``, ``done`` (True
where a block is finalized) and, with ``--keep-curves``, ``v_pred`` over ``point``. The bookkeeping arrays
``_partials`` (each task's exact partial sums, :mod:`sigcube.compute.exact`) and ``_chunk_done`` (one flag per
task) are hidden from :func:`open_result`.

How it is written (:class:`Layout`): a task (block ``b``, object chunk ``c``) writes its per-object chunks,
its partials (and, for ``b = 0``, the chunk's ``baseline_rms``); the driver then sets its flag. When every
chunk of a block is flagged, the block is finalized — its partials combined exactly, the median read from the
stored χ² in bounded row batches — its global chunks written, and its ``done`` flag set. Every chunk has one
writer and ends with a CRC-32C: :func:`check_blocks` finds the flagged work whose chunks are missing or
corrupted, :func:`open_result` refuses to serve it and a rerun of the sweep recomputes it.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import dask.array as da
import numpy as np
import xarray as xr
import zarr

from sigcube.compute import exact
from sigcube.engines.nuisance_spec import LIKELIHOOD_AXES, scatter_attrs
from sigcube.engines.sweep import grid as gridlib
from sigcube.engines.sweep.nuisance import NUISANCE_DTYPES, posterior_arrays, posterior_variables, template_variables
from sigcube.engines.sweep.spec import SweepSpec
from sigcube.errors import SchemaError
from sigcube.io.chunks import (
    MANIFEST_ATTR, ChunkProblem, Digest, Manifest, RecordingStore, chunk_keys, chunk_problems, fixed_sizes,
    read_manifest, read_manifests, write_manifest,
)
from sigcube.io.cubes import (
    CONSOLIDATED, RESULT_KIND, ZARR_FORMAT, Verify, describe, open_dataset, store_attrs, verify_method,
)
from sigcube.io.stores import (
    Lease, LeaseToken, Location, StoreDamagedError, checksummed, chunk_coords, current_holder, open_arrays,
    read_errors, seal, store_errors, summarize,
)
from sigcube.model import metrics
from sigcube.model.kernels import get_kernel
from sigcube.model.metrics import METRICS, get_metric, metric_names
from sigcube.stats.posterior import PosteriorError
from sigcube.version import __version__

KIND = RESULT_KIND
RESULT_FORMAT = 3
"""3: galaxy-chunked (tasks of one block × one object chunk, exact partials), every chunk in a manifest of its
writer (:mod:`sigcube.io.chunks`). Cubes of formats 1 and 2 are refused."""
V_PRED_ATTRS = {"units": "km / s", "long_name": "predicted circular velocity"}
"""Attributes of predicted velocities (``v_pred`` here and in :func:`sigcube.predict`)."""
BASELINE_RMS_ATTRS = {"units": "km / s", "long_name": "RMS velocity residual of the baseline kernel"}
N_POINTS_ATTRS = {"units": "", "long_name": "points of the object in the sweep"}
OBJECT_DTYPES = {"rms": np.float32, "chi2": np.float64, **NUISANCE_DTYPES}
"""Per-object metrics: RMS in single precision (7 digits; the bulk of a cube's bytes), χ² in double — the
median χ²_red of several object chunks is read back from it and must equal a one-chunk run's."""
UNCOMPRESSED = (*metric_names("object"), "v_pred", "done", "_chunk_done")
"""Stored raw (with their checksum): the large float arrays (the per-object metrics, V_pred), which compress by
only ~6 % at 5× the write time, and the flags, which no task's manifest lists: chunks of one size each, which a
read checks."""
PARTIAL_COUNTS = ("n_objects", "n_points", "n_wins")
PARTIAL_SUMS = ("sum_rms", "sum_x", "sum_xx")
N_PARTIAL = len(PARTIAL_COUNTS) + len(PARTIAL_SUMS) * exact.WIDTH
"""int64 per grid point and task in ``_partials``: the counts, then one exact accumulator per sum."""
INTERNAL = "_"
"""Prefix of the bookkeeping arrays (and their dimensions) that :func:`open_result` leaves out."""
FINALIZE_BYTES = 32 * 2**20
"""Bytes read at once when a block is finalized (a row batch of χ² of every object, or of partials)."""
REBUILD = "a rerun cannot repair this: pass --force to `sigcube sweep` to discard the store and start over"
REPAIR = "rerun the same `sigcube sweep` command to repair it"


@dataclass(frozen=True)
class Layout:
    """How a result cube is cut: ``block`` (chunk shape of a block: global metrics, ``done``; one task per
    block and object chunk), ``rows`` (grid chunk shape of per-object arrays; tiles every block) and
    ``object_chunk`` objects per chunk."""

    shape: tuple[int, ...]
    block: tuple[int, ...]
    rows: tuple[int, ...]
    n_objects: int
    object_chunk: int

    @functools.cached_property
    def regions(self) -> list[tuple[slice, ...]]:
        """Every block as a tuple of slices, in C order (block id = position)."""
        return gridlib.blocks(self.shape, self.block)

    @property
    def n_chunks(self) -> int:
        return -(-self.n_objects // self.object_chunk)

    def objects(self, c: int) -> slice:
        """The objects of chunk ``c``."""
        return slice(c * self.object_chunk, min((c + 1) * self.object_chunk, self.n_objects))

    def attrs(self) -> dict[str, str]:
        return {"block_chunks": json.dumps(list(self.block)), "row_chunks": json.dumps(list(self.rows)),
                "object_chunk": str(self.object_chunk)}

    @classmethod
    def of(cls, arrays: dict[str, zarr.Array]) -> Layout:
        """The layout of a stored cube, from the chunks of its arrays (its attributes are not trusted)."""
        flags = arrays["done"]
        chunk_done = arrays["_chunk_done"]
        per_object = next((a for name, a in arrays.items() if name in OBJECT_DTYPES), None)
        base = arrays["baseline_rms"]
        rows = tuple(per_object.chunks[:-1]) if per_object is not None else tuple(flags.chunks)
        if chunk_done.shape[1] != -(-base.shape[0] // base.chunks[0]):
            raise StoreDamagedError("the object chunks of _chunk_done and baseline_rms disagree")
        return cls(tuple(flags.shape), tuple(flags.chunks), rows, base.shape[0], base.chunks[0])


def build_template(spec: SweepSpec, group: str, names: np.ndarray, n_points: np.ndarray, layout: Layout,
                   cube_attrs: dict[str, Any], keep_curves: bool) -> xr.Dataset:
    """The result cube's skeleton: coordinates, attrs, the eager ``n_points`` and lazily-filled variables.

    ``group`` names the object dimension; ``names`` and ``n_points`` are the swept objects (in order) and
    their points."""
    dims = tuple(a.name for a in spec.axes)
    shape, rows, block, s = layout.shape, layout.rows, layout.block, layout.object_chunk
    n_obj = len(names)
    coords: dict[str, Any] = {group: np.asarray(names, dtype=np.dtypes.StringDType())}
    for axis in spec.axes:
        values = np.array(list(axis.values), dtype=np.dtypes.StringDType()) if axis.categorical else axis.values
        attrs = scatter_attrs(spec.nuisance.error_model, axis.name) if spec.is_scatter(axis.name) else \
            spec.kernel.parameter(axis.name).attrs
        coords[axis.name] = xr.Variable(axis.name, values, attrs)
    data_vars: dict[str, Any] = {}
    for name in stored_metrics(spec):
        if get_metric(name).scope == "global":
            data_vars[name] = xr.Variable(dims, da.full(shape, np.nan, chunks=block), METRICS[name].attrs)
        else:
            data_vars[name] = xr.Variable(dims + (group,), da.full(shape + (n_obj,), np.nan, dtype=OBJECT_DTYPES[name],
                                                                   chunks=rows + (s,)), METRICS[name].attrs)
    data_vars.update(template_variables(spec.nuisance, dims + (group,), shape + (n_obj,), rows + (s,)))
    data_vars.update(posterior_variables(spec.nuisance, spec.axes))
    if keep_curves:
        total = int(np.sum(n_points))
        data_vars["v_pred"] = xr.Variable(dims + ("point",), da.full(shape + (total,), np.nan,
                                                                     chunks=rows + (total,)), V_PRED_ATTRS)
    data_vars["done"] = xr.Variable(dims, da.zeros(shape, dtype=bool, chunks=block),
                                    {"units": "", "long_name": "block written"})
    data_vars["baseline_rms"] = xr.Variable((group,), da.full((n_obj,), np.nan, chunks=(s,)), BASELINE_RMS_ATTRS)
    data_vars["n_points"] = xr.Variable((group,), np.asarray(n_points, dtype=np.int64), N_POINTS_ATTRS)
    data_vars["_partials"] = xr.Variable(dims + ("_object_chunk", "_partial"), da.zeros(
        shape + (layout.n_chunks, N_PARTIAL), dtype=np.int64, chunks=block + (1, N_PARTIAL)))
    n_blocks = len(layout.regions)
    data_vars["_chunk_done"] = xr.Variable(("_block", "_object_chunk"), da.zeros(
        (n_blocks, layout.n_chunks), dtype=bool, chunks=(1, 1)))
    ds = xr.Dataset(data_vars, coords=coords)
    ds.attrs.update(
        sigcube_kind=KIND,
        sweep_name=spec.name,
        description=spec.description,
        spec_text=spec.text,
        spec_fingerprint=spec.fingerprint(),
        kernel=spec.kernel.name,
        baseline=spec.baseline.name,
        fixed_parameters=json.dumps(spec.canonical()["fixed"], sort_keys=True),
        sample_cuts=json.dumps(spec.cuts.as_dict()),
        dataset=spec.dataset,
        dataset_content_sha256=cube_attrs.get("content_sha256", ""),
        sigcube_version=__version__,
        result_format=RESULT_FORMAT,
        keep_curves=int(keep_curves),
        complete=0,
        **layout.attrs(),
    )
    ds.attrs["store_id"] = layout_id(ds.attrs)
    return ds


def stored_metrics(spec: SweepSpec) -> tuple[str, ...]:
    """The metrics a result cube stores: the spec's, and ``chi2`` when the median χ²_red is asked for."""
    extra = ("chi2",) if "median_chi2_red" in spec.metrics and "chi2" not in spec.metrics else ()
    return tuple(m for m in metric_names() if m in spec.metrics + extra)


TEMPLATE_MANIFEST = "template"
"""The manifest of the chunks written when the cube is created (coordinates, ``n_points``, posterior placeholders)."""
POSTERIOR_MANIFEST = "posterior"
"""The manifest of the posterior arrays the driver writes last (they replace the template's placeholders)."""
COMPLETE_MANIFEST = "complete"
"""Every chunk of a complete cube in one manifest (its sha256 in the root attribute ``chunk_manifest_sha256``)."""


def task_manifest(b: int, c: int) -> str:
    return f"task-{b}-{c}"


def block_manifest(b: int) -> str:
    return f"block-{b}"


def recording_store(store: Location) -> RecordingStore:
    """The Zarr store a writer of ``store`` writes through: it records every chunk's digest."""
    return RecordingStore(store.zarr_store(read_only=False), md5=not store.local)


def create(store: Location, template: xr.Dataset) -> None:
    """Write the template (metadata, the small eager variables, no block data) and its manifest, then seal it with
    its ``store_id``: a store without one was not finished."""
    encoding = {name: checksummed(compress=name not in UNCOMPRESSED) for name in template.variables}
    unsealed = template.copy()
    store_id = unsealed.attrs.pop("store_id")
    recorder = recording_store(store)
    with store_errors(store.name):
        unsealed.to_zarr(recorder, mode="w", compute=False, zarr_format=ZARR_FORMAT, consolidated=CONSOLIDATED,
                         encoding=encoding, write_empty_chunks=True)
    write_manifest(store, TEMPLATE_MANIFEST, recorder.take())
    seal(store, {"store_id": store_id})


def rewrite_template_values(store: Location, template: xr.Dataset) -> None:
    """Write again the eager variables of ``template`` (coordinates, ``n_points``) into its store, and their
    manifest."""
    recorder = recording_store(store)
    group = zarr.open_group(recorder, mode="r+", zarr_format=ZARR_FORMAT)
    with store_errors(store.name):
        for name, var in template.variables.items():
            if not isinstance(var.data, da.Array):
                group[name][...] = np.asarray(var.values)
    write_manifest(store, TEMPLATE_MANIFEST, recorder.take())


LAYOUT_KEYS = ("spec_fingerprint", "dataset_content_sha256", "result_format", "block_chunks", "row_chunks",
               "object_chunk", "keep_curves")
"""The attributes that fix a result cube's layout and content: equal keys, same store."""


def layout_id(attrs: dict[str, Any]) -> str:
    """A short hash of the layout attributes: a store is only remade when it changes."""
    return hashlib.sha256(json.dumps([attrs.get(k) for k in LAYOUT_KEYS]).encode()).hexdigest()[:16]


def check_format(store: Location, attrs: dict[str, Any], remedy: str) -> None:
    """Refuse a result cube of an older layout (before galaxy chunking), saying how to remake it."""
    if attrs.get("result_format") != RESULT_FORMAT:
        raise SchemaError(f"{store.name} was written by an older sigcube (result layout "
                          f"{attrs.get('result_format', 1)}, this one reads {RESULT_FORMAT}); {remedy}")


# --- partial sums --------------------------------------------------------------------------------------------------

def pack_partials(parts: dict[str, Any], rms: np.ndarray) -> np.ndarray:
    """A task's partials as stored (block_shape + (N_PARTIAL,) int64): the counts of ``parts``
    (:func:`sigcube.model.metrics.partials`), Σ RMS accumulated exactly from the per-object ``rms``
    (block_shape + (n_objects,)), Σx and Σx² as exact accumulators."""
    shape = rms.shape[:-1]
    counts = [np.broadcast_to(np.asarray(parts.get(name, 0), dtype=np.int64), shape) for name in PARTIAL_COUNTS]
    sums = [exact.accumulate(rms), exact.of_values(np.broadcast_to(parts["sum_x"], shape)),
            exact.of_values(np.broadcast_to(parts["sum_xx"], shape))]
    return np.concatenate([np.stack(counts, axis=-1), *sums], axis=-1)


def global_metrics(total: np.ndarray, names: Sequence[str], chi2_red: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The global metrics ``names`` from combined partials ``total`` (..., N_PARTIAL) and, for the median, every
    object's χ²/N (..., n_objects)."""
    parts: dict[str, np.ndarray] = {name: total[..., i] for i, name in enumerate(PARTIAL_COUNTS)}
    start = len(PARTIAL_COUNTS)
    for i, name in enumerate(PARTIAL_SUMS):
        parts[name] = exact.to_float(total[..., start + i * exact.WIDTH:start + (i + 1) * exact.WIDTH])
    if chi2_red is not None:
        parts["chi2_red"] = chi2_red
    return metrics.finalize(parts, names)


def add_partials(a: np.ndarray, axis: int) -> np.ndarray:
    """Partials summed over ``axis`` (tasks of several object chunks): counts added, accumulators added exactly."""
    total = np.sum(a, axis=axis, dtype=np.int64)
    start = len(PARTIAL_COUNTS)
    return np.concatenate([total[..., :start], exact.normalized(total[..., start:])], axis=-1)


# --- writing ------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BlockWriter:
    """What a worker needs to write: the store, its layout id and the driver's lease (checked before each task)."""

    store: Location
    store_id: str
    lease: LeaseToken


@functools.lru_cache(maxsize=8)
def _arrays(url: str, store_id: str) -> tuple[dict[str, zarr.Array], RecordingStore]:
    """The store's arrays, opened once per process and layout (``store_id``, see :func:`layout_id`) through a
    :class:`~sigcube.io.chunks.RecordingStore`; every chunk is written, even one equal to the fill value, so a missing
    chunk always means damage."""
    recorder = recording_store(Location.of(url))
    group = zarr.open_group(recorder, mode="r+", zarr_format=ZARR_FORMAT)
    if group.attrs.get("store_id") != store_id:
        raise SchemaError(f"{url}: the result cube was replaced while this sweep was writing to it")
    return {name: array.with_config({"write_empty_chunks": True}) for name, array in group.arrays()}, recorder


def arrays_of(writer: BlockWriter) -> dict[str, zarr.Array]:
    """The arrays of the writer's store (opened once per process)."""
    return _arrays(writer.store.url, writer.store_id)[0]


def write_regions(writer: BlockWriter, values: dict[str, tuple[tuple[slice, ...], np.ndarray]]) -> Manifest:
    """Write each array's whole chunks ``{name: (region, values)}`` where they were computed, if the lease holds;
    return the digests of the chunks written (for the writer's manifest)."""
    writer.lease.check()
    arrays, recorder = _arrays(writer.store.url, writer.store_id)
    keys: list[str] = []
    with store_errors(writer.store.name):
        for name, (region, data) in values.items():
            arrays[name][region] = np.asarray(data, dtype=arrays[name].dtype)
            keys += chunk_keys(arrays[name], _coords(arrays[name], region))
    return recorder.take(keys)


def read_region(store: Location, array: zarr.Array, region: tuple[slice, ...]) -> np.ndarray:
    """``array[region]``; a chunk failing its checksum on the way is a :class:`StoreDamagedError`."""
    with read_errors(f"{store.name} ({array.path})", REPAIR):
        return array[region]


class DoneFlags:
    """The driver's handle on the task and block flags and the completion attribute, under its lease."""

    def __init__(self, store: Location, lease: Lease) -> None:
        self.store, self.lease = store, lease
        self.group = zarr.open_group(store.url, mode="r+", zarr_format=ZARR_FORMAT)

    def mark_task(self, b: int, c: int, manifest: Manifest) -> None:
        """Record the manifest of a task's chunks, then flag the task."""
        self.lease.check()
        write_manifest(self.store, task_manifest(b, c), manifest)
        with store_errors(self.store.name):
            self.group["_chunk_done"][b, c] = True

    def mark(self, region: tuple[slice, ...], b: int, manifest: Manifest | None) -> None:
        """Record the manifest of a block's global chunks (None: its only task's manifest holds them), then flag the
        block: only now does it count as done."""
        self.lease.check()
        if manifest is not None:
            write_manifest(self.store, block_manifest(b), manifest)
        with store_errors(self.store.name):
            self.group["done"][region] = True

    def unmark(self, check: BlockCheck) -> None:
        """Clear the flags of damaged blocks and tasks (and the completion attribute): they are computed again."""
        with store_errors(self.store.name):
            self.group.attrs["complete"] = 0
            for b in check.damaged:
                self.group["done"][check.regions[b]] = False
            for b, c in check.damaged_tasks:
                self.group["_chunk_done"][b, c] = False

    def mark_complete(self, posterior: Manifest) -> None:
        """Record the posterior arrays' manifest and every chunk's in one manifest, then mark the cube complete."""
        self.lease.check()
        write_manifest(self.store, POSTERIOR_MANIFEST, posterior)
        arrays = open_arrays(self.store, dict(self.group.attrs), REBUILD)
        every = collect_manifest(self.store, Layout.of(arrays))
        flags = {key: None for name in ("done", "_chunk_done") for key in chunk_keys(arrays[name],
                                                                                   chunk_coords(arrays[name]))}
        with store_errors(self.store.name, "read"):
            every.update({key: Digest.of(data, md5=not self.store.local) for key, data in self.store.fetch(flags)
                          if data is not None})
        write_manifest(self.store, COMPLETE_MANIFEST, every)
        with store_errors(self.store.name):
            self.group.update_attributes({"complete": 1, MANIFEST_ATTR: every.sha256()})


def store_posterior(writer: Any, spec: Any, layout: Any) -> Manifest:
    """Fill a finished nuisance sweep's posterior arrays (:func:`posterior_variables`) under ``writer``'s lease:
    ``loglike`` summed over objects one row chunk at a time (at most ``FINALIZE_BYTES`` read at once), then
    normalised under the global prior. Called by the driver when every block is done, before the cube is marked
    complete; the same stored ``loglike`` gives the same arrays, so a resumed sweep stores identical ones. Returns
    the digests of the chunks written (none without posterior arrays)."""
    if not posterior_variables(spec.nuisance, spec.axes):
        return Manifest()
    arrays = arrays_of(writer)
    total = np.empty(layout.shape)
    for sub in gridlib.sub_regions(tuple(slice(0, n) for n in layout.shape), layout.rows):
        total[sub] = np.sum(read_region(writer.store, arrays["loglike"], sub + (slice(None),)), axis=-1)
    try:
        values = posterior_arrays(total, {a.name: np.asarray(a.values, dtype=float) for a in spec.axes})
    except PosteriorError:  # no finite total: stored NaN, and reading the posterior says why in one line
        values = {"loglike_total": total}
    return write_regions(writer, {name: ((slice(None),) * np.ndim(v), v) for name, v in values.items()})



# --- checking -----------------------------------------------------------------------------------------------------

@dataclass
class BlockCheck:
    """A result cube's blocks and tasks as its chunks show them (the attributes are not trusted)."""

    layout: Layout
    dims: tuple[str, ...]
    done: set[int] = field(default_factory=set)
    """Finalized blocks whose chunks are all present and intact."""
    tasks: set[tuple[int, int]] = field(default_factory=set)
    """Tasks (block, object chunk) flagged done whose chunks are present and intact."""
    damaged: dict[int, list[str]] = field(default_factory=dict)
    """Blocks with a missing or corrupted chunk (theirs or one of their tasks'): what is wrong."""
    damaged_tasks: set[tuple[int, int]] = field(default_factory=set)
    """Tasks to compute again."""
    template: list[str] = field(default_factory=list)
    """Missing or corrupted chunks of the template's variables (coordinates, ``n_points``)."""
    digests: dict[str, Digest] = field(default_factory=dict)
    """The digest of every chunk of the done work and the template, from its writer's manifest."""

    @property
    def regions(self) -> list[tuple[slice, ...]]:
        return self.layout.regions

    def block_name(self, i: int) -> str:
        where = ", ".join(f"{d}[{s.start}]" if s.stop - s.start == 1 else f"{d}[{s.start}:{s.stop}]"
                          for d, s in zip(self.dims, self.regions[i]))
        return f"block {i} ({where})"

    def describe(self) -> str:
        """Which blocks and template variables are damaged, and how (one line)."""
        parts = [f"{self.block_name(i)}: {', '.join(problems)}" for i, problems in sorted(self.damaged.items())]
        if self.template:
            parts.append(f"coordinates or baseline: {', '.join(self.template)}")
        head = f"{len(self.damaged)} of {len(self.regions)} blocks damaged" if self.damaged else "damaged"
        return f"{head} — {summarize(parts)}"


def _coords(array: zarr.Array, region: Sequence[slice]) -> list[tuple[int, ...]]:
    """The chunk positions of ``array`` that ``region`` covers (the trailing axes whole)."""
    full = [slice(*s.indices(n)[:2]) for s, n in zip(region, array.shape)]
    full += [slice(0, n) for n in array.shape[len(region):]]
    return list(itertools.product(*(range(s.start // c, -(-s.stop // c)) for s, c in zip(full, array.chunks))))


def _task_regions(arrays: dict[str, zarr.Array], layout: Layout, b: int, c: int) -> dict[str, tuple[slice, ...]]:
    """What task (b, c) writes: its per-object chunks, its partials, ``baseline_rms`` of chunk c for block 0."""
    region = layout.regions[b]
    out = {name: region + (layout.objects(c),) for name in arrays if name in OBJECT_DTYPES}
    if "v_pred" in arrays:
        out["v_pred"] = region
    out["_partials"] = region + (slice(c, c + 1),)
    if b == 0:
        out["baseline_rms"] = (layout.objects(c),)
    return out


TASK_ARRAYS = (*OBJECT_DTYPES, "v_pred", "_partials", "baseline_rms", "_chunk_done")
"""What tasks write (and their flags)."""


def _global_arrays(arrays: dict[str, zarr.Array]) -> list[str]:
    """The arrays a block's finalization writes: its global metrics."""
    return [name for name in arrays if name in METRICS and METRICS[name].scope == "global"]


def check_blocks(store: Location, arrays: dict[str, zarr.Array], attrs: dict[str, Any],
                 method: Literal["full", "listing", "seal"] = "full", consolidated: bool = True) -> BlockCheck:
    """Check every finalized block's and flagged task's chunks in ``store`` (and the template's) against the
    manifests of their writers (:mod:`sigcube.io.chunks`).

    A task is done when its ``_chunk_done`` chunk is present, intact and True, and then every chunk it wrote must be
    the one its manifest lists; a block is done when its ``done`` chunk is, and then all its tasks and its global
    chunks must be. In a complete cube (``attrs["complete"]``) every block must be done, and one manifest lists every
    chunk (``consolidated`` False: the writers' own manifests are checked instead, as a rerun does before it
    repairs). ``method``: see :func:`sigcube.io.chunks.chunk_problems`; ``seal`` checks no chunk (only which manifests
    are missing), but finds the digests every later read is checked against (``BlockCheck.digests``).
    """
    for name in ("done", "_chunk_done", "_partials", "baseline_rms", "n_points"):
        if name not in arrays:
            raise StoreDamagedError(f"{store.name}: the result cube has no {name!r} array; {REBUILD}")
    try:
        layout = Layout.of(arrays)
    except StoreDamagedError as exc:
        raise StoreDamagedError(f"{store.name}: {exc}; {REBUILD}") from None
    complete = bool(attrs.get("complete"))
    flags, task_flags = arrays["done"], arrays["_chunk_done"]
    check = BlockCheck(layout, tuple(flags.metadata.dimension_names))
    regions = layout.regions
    n_chunks = layout.n_chunks
    block_flag = _flags(store, flags, [_coords(flags, r)[0] for r in regions], method)
    task_coords = [(b, c) for b in range(len(regions)) for c in range(n_chunks)]
    task_flag = _flags(store, task_flags, task_coords, method)
    for b, state in enumerate(block_flag):
        if isinstance(state, str) and "missing" not in state:
            check.damaged[b] = [state]
    for (b, c), state in zip(task_coords, task_flag):
        if isinstance(state, str) and "missing" not in state:
            check.damaged_tasks.add((b, c))
            check.damaged.setdefault(b, []).append(state)
    finalized = {b for b, state in enumerate(block_flag) if state is True}
    if complete:
        for b in set(range(len(regions))) - finalized - check.damaged.keys():
            check.damaged[b] = ["its done flag is missing"]
    flagged = {t for t, state in zip(task_coords, task_flag) if state is True}
    for b in finalized:
        for c in range(n_chunks):
            if (b, c) not in flagged and (b, c) not in check.damaged_tasks:
                check.damaged_tasks.add((b, c))
                check.damaged.setdefault(b, []).append(f"the flag of its object chunk {c} is missing")
    lookup = _Lookup.load(store, attrs, sorted(flagged), sorted(finalized) if n_chunks > 1 else [], consolidated)
    expected: dict[str, Digest | None] = {}
    owner_of: dict[str, tuple[int, int] | int | None] = {}
    for b, c in sorted(flagged):
        for name, region in _task_regions(arrays, layout, b, c).items():
            for key in chunk_keys(arrays[name], _coords(arrays[name], region)):
                expected[key], owner_of[key] = lookup.digest(task_manifest(b, c), key), (b, c)
    for name in _global_arrays(arrays):
        for b in finalized:
            writer = block_manifest(b) if n_chunks > 1 else task_manifest(b, 0)
            for key in chunk_keys(arrays[name], _coords(arrays[name], regions[b])):
                expected[key], owner_of[key] = lookup.digest(writer, key), b
    for name, array in arrays.items():
        if name not in (*TASK_ARRAYS, *_global_arrays(arrays), "done"):
            for key in chunk_keys(array, _coords(array, ())):
                expected[key], owner_of[key] = lookup.template_digest(key), None
    check.digests = {k: d for k, d in expected.items() if d is not None}
    problems = chunk_problems(store, check.digests, method) if method != "seal" else {}
    problems.update({k: ChunkProblem(k, lookup.why(owner_of[k])) for k, d in expected.items() if d is None})
    for key, problem in problems.items():
        owner = owner_of[key]
        if owner is None:
            check.template.append(str(problem))
            continue
        b = owner[0] if isinstance(owner, tuple) else owner
        if isinstance(owner, tuple):
            check.damaged_tasks.add(owner)
        check.damaged.setdefault(b, []).append(str(problem))
    if n_chunks == 1:  # one chunk: a block is written by its task, which is computed again
        check.damaged_tasks |= {(b, 0) for b in check.damaged}
    check.tasks = flagged - check.damaged_tasks
    check.done = finalized - check.damaged.keys()
    return check


@dataclass(frozen=True)
class _Lookup:
    """The digests a result cube's chunks must match: one manifest of every chunk (a complete cube whose manifest is
    intact), else the manifests of the template, the posterior, and each flagged task and finalized block."""

    manifests: dict[str, Manifest | None]
    every: Manifest | None = None

    @classmethod
    def load(cls, store: Location, attrs: dict[str, Any], tasks: list[tuple[int, int]], blocks: list[int],
             consolidated: bool = True) -> _Lookup:
        if consolidated and attrs.get("complete") and attrs.get(MANIFEST_ATTR):
            every = read_manifest(store, COMPLETE_MANIFEST)
            if every is not None and every.sha256() == attrs[MANIFEST_ATTR]:
                return cls({}, every)
        names = [TEMPLATE_MANIFEST, POSTERIOR_MANIFEST, *(task_manifest(b, c) for b, c in tasks),
                 *(block_manifest(b) for b in blocks)]
        return cls(read_manifests(store, names))

    def digest(self, writer: str, key: str) -> Digest | None:
        if self.every is not None:
            return self.every.get(key)
        manifest = self.manifests.get(writer)
        return None if manifest is None else manifest.get(key)

    def template_digest(self, key: str) -> Digest | None:
        if self.every is not None:
            return self.every.get(key)
        posterior = self.manifests.get(POSTERIOR_MANIFEST)
        if posterior is not None and key in posterior:
            return posterior[key]
        return self.digest(TEMPLATE_MANIFEST, key)

    def why(self, owner: tuple[int, int] | int | None) -> str:
        """Why a chunk of ``owner`` (a task, a block, None: the template) has no digest."""
        if self.every is not None:
            return "is not in the cube's manifest"
        writer = (TEMPLATE_MANIFEST if owner is None else task_manifest(*owner) if isinstance(owner, tuple)
                  else block_manifest(owner))
        return ("is not in its writer's manifest" if self.manifests.get(writer) is not None
                else f"has no manifest ({writer} is missing or unreadable)")


def collect_manifest(store: Location, layout: Layout) -> Manifest:
    """Every chunk's digest of a finished cube, from the manifests of its writers."""
    n_blocks = len(layout.regions)
    tasks = [task_manifest(b, c) for b in range(n_blocks) for c in range(layout.n_chunks)]
    blocks = [block_manifest(b) for b in range(n_blocks)] if layout.n_chunks > 1 else []
    found = read_manifests(store, [TEMPLATE_MANIFEST, *tasks, *blocks, POSTERIOR_MANIFEST])
    every = Manifest()
    for name in [TEMPLATE_MANIFEST, *tasks, *blocks, POSTERIOR_MANIFEST]:  # the posterior replaces placeholders
        if found.get(name) is None:
            raise StoreDamagedError(f"{store.name}: the manifest {name} is missing or unreadable; rerun the same "
                                    "`sigcube sweep` command to repair it")
        every.update(found[name])
    return every


def _flags(store: Location, array: zarr.Array, coords: list[tuple[int, ...]],
           method: Literal["full", "listing", "seal"]) -> list[bool | str]:
    """Each flag chunk at ``coords``: True or False (its values), or what is wrong with it (flags are in no manifest:
    each is checked by its own CRC-32C)."""
    keys = chunk_keys(array, coords)
    found = chunk_problems(store, dict.fromkeys(keys), method, fixed_sizes({array.path: array})) \
        if method != "seal" else {}
    problems = {keys[key]: problem for key, problem in found.items()}
    values = read_region(store, array, (slice(None),) * array.ndim) if not problems else None
    out: list[bool | str] = []
    for coord in coords:
        region = tuple(slice(i * c, (i + 1) * c) for i, c in zip(coord, array.chunks))
        if coord in problems:
            out.append(str(problems[coord]))
        else:
            out.append(bool((values[region] if values is not None else read_region(store, array, region)).all()))
    return out


def open_result(path: str | Path | Location, allow_incomplete: bool = False, verify: Verify = "auto",
                chunks: Any = "stored") -> xr.Dataset:
    """Open a sweep's result cube as an ``xr.Dataset``, after checking its kind, seal and chunks.

    Every chunk of the done work must be the chunk its writer's manifest lists (:mod:`sigcube.io.chunks`); a damaged
    cube raises, naming the blocks, and a rerun of the sweep recomputes them. ``verify`` (see
    :data:`sigcube.io.cubes.Verify`): ``auto`` reads and checks every chunk locally and lists them on an object
    store; whatever it is, every chunk read later is checked as it is read. An unfinished sweep raises unless
    ``allow_incomplete``; then ``ds.where(ds.done)`` keeps only the written blocks. ``chunks``: see
    :func:`sigcube.io.cubes.open_dataset`.
    """
    store = Location.of(path)
    store, attrs = store_attrs(store, f"no such result cube; run `sigcube sweep SPEC --out {store.name}`")
    if attrs.get("sigcube_kind") != KIND:
        raise SchemaError(f"{store.name} is {describe(attrs)}; expected a sweep result cube")
    if "store_id" not in attrs:
        raise SchemaError(f"{store.name}: the creation of this result cube was interrupted (it has no store_id); "
                          "rerun the sweep to make it again")
    check_format(store, attrs, "rerun its sweep with --force to compute it again")
    arrays = open_arrays(store, attrs, REBUILD)
    check = check_blocks(store, arrays, attrs, verify_method(store, verify))
    if check.damaged or check.template:
        raise StoreDamagedError(f"{store.name}: {check.describe()}; {REPAIR}")
    ds = open_dataset(store, check.digests, REPAIR, chunks, sizes=fixed_sizes(arrays))
    ds = ds.drop_vars([name for name in ds.variables if str(name).startswith(INTERNAL)])
    if not ds.attrs.get("complete") and not allow_incomplete:
        n_done = int(ds["done"].sum())
        holder = current_holder(store)
        now = (f"a sweep is writing it now ({holder.describe()})" if holder is not None and holder.live() else
               "rerun the same `sigcube sweep` command to resume it")
        raise SchemaError(f"{store.name}: the sweep is unfinished ({n_done} of {ds['done'].size} grid points "
                          f"written); {now}, or pass allow_incomplete=True")
    return ds


def parameter_dims(ds: xr.Dataset) -> list[str]:
    """The swept-parameter dimensions of a result cube, in grid order."""
    return [d for d in ds["done"].dims]


def scatter_dims(ds: xr.Dataset) -> list[str]:
    """The grid dimensions that are the likelihood's scatters σ_int and τ_gal, not kernel parameters (their
    coordinates name the error model: :func:`~sigcube.engines.nuisance_spec.scatter_attrs`)."""
    return [d for d in parameter_dims(ds) if d in LIKELIHOOD_AXES and "error_model" in ds[d].attrs]


def axis_defaults(ds: xr.Dataset) -> dict[str, Any]:
    """The default of every swept dimension: the kernel parameter's, σ_int's of ``[nuisance]`` (0)."""
    kernel = get_kernel(ds.attrs["kernel"])
    scatter = scatter_dims(ds)
    return {d: 0.0 if d in scatter else kernel.parameter(d).default for d in parameter_dims(ds)}


def best_parameters(ds: xr.Dataset, metric: str = "mean_rms", maximize: bool | None = None) -> dict[str, Any]:
    """The grid point that optimises a global metric: parameter values and the metric there.

    ``maximize`` defaults to the metric's registered direction (True for ``win_rate``); a variable
    that is not a registered metric is minimised. A registered metric's point leaves out a σ_int axis
    (:func:`scatter_dims`), on which it does not depend.
    """
    if maximize is None:
        maximize = metric in METRICS and METRICS[metric].direction == "max"
    var = ds[metric]
    if object_dim(ds) in var.dims:
        raise SchemaError(f"{metric!r} is per object; use best_per_galaxy")
    if metric in METRICS:  # a kernel metric does not depend on the likelihood's σ_int: its grid points say nothing
        var = var.isel({d: 0 for d in scatter_dims(ds) if d in var.dims})
    dims = [d for d in parameter_dims(ds) if d in var.dims]
    if not dims:
        return {metric: float(var)}
    idx = {dim: i.compute() for dim, i in (var.argmax if maximize else var.argmin)(dim=dims).items()}
    point = {dim: ds[dim].values[int(i)] for dim, i in idx.items()}
    return {**{k: (v.item() if hasattr(v, "item") else v) for k, v in point.items()},
            metric: float(var.isel({k: int(v) for k, v in idx.items()}))}


def object_dim(ds: xr.Dataset) -> str:
    """The per-object dimension of a result cube (``galaxy``, ``cluster``, …)."""
    return ds["baseline_rms"].dims[0]


def best_per_galaxy(ds: xr.Dataset, metric: str = "rms") -> xr.Dataset:
    """Per object (galaxy, cluster, …): the parameters that minimise a per-object metric, and its value (read a
    slice of objects at a time: :func:`object_minima`)."""
    var = ds[metric]
    dims = parameter_dims(ds)
    obj = object_dim(ds)
    n = ds.sizes[obj]
    positions = [np.empty(n, dtype=np.intp) for _ in dims]
    best = np.empty(n, dtype=var.dtype)
    for objects, values, where in object_minima(var, dims, obj):
        for stored, found in zip(positions, where):
            stored[objects] = found
        best[objects] = values[(*where, np.arange(values.shape[-1]))]
    out = xr.Dataset({dim: xr.DataArray(ds[dim].values[p], dims=obj, attrs=ds[dim].attrs)
                      for dim, p in zip(dims, positions)}, coords={obj: ds[obj]})
    out[f"best_{metric}"] = xr.DataArray(best, dims=obj, attrs=var.attrs)
    return out


SCAN_BYTES = 16 * 2**20
"""Bytes of a per-object metric read at once by :func:`object_minima` (every grid point of a slice of objects): a
survey's object chunk over a 10³-point grid in single precision (12 MB at 10⁵ galaxies) is read whole, once."""


def object_minima(var: xr.DataArray, dims: Sequence[str], obj: str
                  ) -> Iterator[tuple[slice, np.ndarray, tuple[np.ndarray, ...]]]:
    """A per-object metric read a slice of objects at a time — one stored object chunk, or fewer objects when its
    values over the grid would take more than :data:`SCAN_BYTES` —, so that memory is bounded whatever the number
    of objects. Yields the slice, its values (``dims + (obj,)``) and each object's grid position of its smallest
    value (one index array per dim; NaN skipped, the first in C order on a tie; an object whose values are all NaN
    is a ValueError)."""
    var = var.transpose(*dims, obj)
    n = var.sizes[obj]
    grid = tuple(var.sizes[d] for d in dims)
    stored = var.chunksizes.get(obj, (n,))[0]
    step = max(1, min(stored, SCAN_BYTES // max(1, math.prod(grid) * var.dtype.itemsize)))
    for start in range(0, n, step):
        objects = slice(start, min(start + step, n))
        values = np.asarray(var.isel({obj: objects}).values)
        yield objects, values, np.unravel_index(np.nanargmin(values.reshape(-1, values.shape[-1]), axis=0), grid)


EDGE_LISTED = 12
"""Objects named per axis end in :func:`grid_edges` (the count is always given)."""
PLATEAU = 1e-3
"""A best point on an axis end lies on a plateau when the metric changes by at most this fraction of its range over
the whole grid in the axis's last step there: the metric has levelled off toward the end (a limit reached, e.g. Σ's
W(r) → 1 as k → 0), not been cut off."""
EDGE_KINDS = {"cut": "the optimum may lie beyond the grid; widen the axis",
              "plateau": "the metric has levelled off toward that end (it changes by less than "
                         f"{PLATEAU:.1%} of its range over the grid in the last step): the end's limit is the answer",
              "bound": "the end is the parameter's own bound (its domain ends there): the bound is the answer"}
"""How a best point on an axis end reads: ``cut`` (the grid truncates the search), ``plateau`` or ``bound``."""


def grid_edges(ds: xr.Dataset, metrics: Sequence[str] | None = None, per_object: str | None = "rms",
               tallies: Iterable[EdgeTally] | None = None) -> dict[str, Any]:
    """Where best points sit on the ends of the grid's axes: for each global metric in ``metrics`` (default: every
    stored one) the axes on whose first or last value its best point lies, and for the per-object metric
    ``per_object`` (when given and stored) how many objects — and which — have their own best point on each axis end.
    An axis of fewer than 3 values, a switch, or the likelihood's σ_int axis is not checked (its ends are its only
    values, or the kernel metrics do not depend on it). Each end hit has a ``kind`` (:data:`EDGE_KINDS`): at the
    parameter's own bound, on a plateau, or cut off by the grid (the optimum may lie beyond it). ``tallies``: the
    per-object part counted elsewhere (:func:`edge_tally` of consecutive slices of the objects, in order: a sweep's
    workers count their object chunks); by default it is counted here."""
    axes = _edge_axes(ds)
    names = [m for m in (metrics if metrics is not None else metric_names("global")) if m in ds]
    bounds = _domain_bounds(ds, axes)
    out: dict[str, Any] = {"global": {}, "per_object": {}}
    for name in names:
        best = best_parameters(ds, name)
        var = ds[name]
        if name in METRICS:
            var = var.isel({d: 0 for d in scatter_dims(ds) if d in var.dims})
        for d in (d for d in axes if d in best):
            side = _end(ds, d, best[d])
            if side:
                line = np.asarray(var.sel({k: v for k, v in best.items() if k in var.dims and k != d}).values,
                                  dtype=float)
                span = np.array([float(var.max()) - float(var.min())])
                out["global"].setdefault(name, {})[d] = {
                    "side": side, "value": best[d], "kind": _edge_kind(line[None, :], span, side, ds[d].values[
                        0 if side == "lower" else -1], bounds[d])[0]}
    if per_object is not None and per_object in ds and axes:
        counted = merge_tallies([edge_tally(ds, per_object)] if tallies is None else tallies)
        for (d, side), e in counted.items():
            if e["count"]:
                out["per_object"].setdefault(d, {})[side] = {
                    "value": float(ds[d].values[0 if side == "lower" else -1]), "count": e["count"],
                    "of": int(ds.sizes[object_dim(ds)]), "objects": e["objects"], "kinds": e["kinds"],
                    "cut_objects": e["cut_objects"]}
        out["per_object_metric"] = per_object
    return out


EdgeTally = dict[tuple[str, str], dict[str, Any]]
"""(axis, ``lower`` or ``upper``) → the objects whose own best point lies on that end: ``count``, ``kinds`` (a count
per :data:`EDGE_KINDS`), the first :data:`EDGE_LISTED` of them by name (``objects``) and of those cut off
(``cut_objects``)."""


def _edge_axes(ds: xr.Dataset) -> list[str]:
    """The axes whose ends :func:`grid_edges` checks: numeric, at least 3 values, not a likelihood scatter."""
    return [d for d in parameter_dims(ds) if d not in scatter_dims(ds) and ds.sizes[d] >= 3
            and np.issubdtype(ds[d].dtype, np.number)]


def edge_tally(ds: xr.Dataset, metric: str, objects: slice = slice(None)) -> EdgeTally:
    """The per-object part of :func:`grid_edges` for the objects ``objects`` alone, read a slice of them at a time
    (:func:`object_minima`): consecutive slices' tallies add up (:func:`merge_tallies`) to the whole's."""
    dims = parameter_dims(ds)
    obj = object_dim(ds)
    axes = _edge_axes(ds)
    bounds = _domain_bounds(ds, axes)
    var = ds[metric].isel({obj: objects})
    labels = var[obj].values
    ends = [(d, side, edge) for d in axes for side, edge in (("lower", 0), ("upper", ds.sizes[d] - 1))]

    def tally(part: slice, values: np.ndarray, where: tuple[np.ndarray, ...]) -> EdgeTally:
        flat = values.reshape(-1, values.shape[-1])
        spans = np.asarray(np.nanmax(flat, axis=0) - np.nanmin(flat, axis=0), dtype=float)
        out: EdgeTally = {}
        for d, side, edge in ends:
            i = dims.index(d)
            hit = np.flatnonzero(where[i] == edge)
            others = tuple(w[hit] for j, w in enumerate(where) if j != i)
            lines = np.moveaxis(values, i, 0)[(slice(None), *others, hit)].T  # each hit's metric along d
            kinds = _edge_kind(np.asarray(lines, dtype=float), spans[hit], side, ds[d].values[edge], bounds[d])
            out[d, side] = {"count": int(hit.size), "kinds": {k: int(np.sum(kinds == k)) for k in EDGE_KINDS},
                            "objects": [str(x) for x in labels[part.start + hit[:EDGE_LISTED]]],
                            "cut_objects": [str(x) for x in labels[part.start + hit[kinds == "cut"][:EDGE_LISTED]]]}
        return out

    return merge_tallies(itertools.chain([{(d, side): _no_edge() for d, side, _ in ends}],
                                         itertools.starmap(tally, object_minima(var, dims, obj))))


def _no_edge() -> dict[str, Any]:
    return {"count": 0, "kinds": dict.fromkeys(EDGE_KINDS, 0), "objects": [], "cut_objects": []}


def merge_tallies(tallies: Iterable[EdgeTally]) -> EdgeTally:
    """The :data:`EdgeTally` of consecutive slices of objects taken together (counts added, names listed in order)."""
    out: EdgeTally = {}
    for part in tallies:
        for end, e in part.items():
            total = out.setdefault(end, _no_edge())
            total["count"] += e["count"]
            for kind, n in e["kinds"].items():
                total["kinds"][kind] += n
            for key in ("objects", "cut_objects"):
                total[key] += e[key][:EDGE_LISTED - len(total[key])]
    return out


def _domain_bounds(ds: xr.Dataset, axes: Sequence[str]) -> dict[str, tuple[float, float]]:
    """Each axis parameter's own bounds (the kernel registry's); (−∞, ∞) for an axis that is not a parameter of a
    kernel this installation knows."""
    from sigcube.model.kernels.registry import KernelError

    out = {d: (-np.inf, np.inf) for d in axes}
    try:
        kernel = get_kernel(ds.attrs.get("kernel", ""))
    except KernelError:
        return out
    known = {p.name: p for p in kernel.parameters}
    for d in axes:
        if d in known and known[d].bounds is not None:
            out[d] = tuple(float(b) for b in known[d].bounds)
    return out


def _edge_kind(lines: np.ndarray, spans: np.ndarray, side: str, edge: float, bounds: tuple[float, float]
               ) -> np.ndarray:
    """The :data:`EDGE_KINDS` of best points on the ``side`` end of an axis, from each one's metric along the axis
    (``lines``: (n, axis)) and its range over the whole grid (``spans``: (n,)): ``bound`` when the end is the
    parameter's own bound, ``plateau`` when the metric changes by at most :data:`PLATEAU` of that range over the last
    step, else ``cut``."""
    if edge == (bounds[0] if side == "lower" else bounds[1]):
        return np.full(lines.shape[0], "bound", dtype=object)
    end, nearest = (lines[:, 0], lines[:, 1]) if side == "lower" else (lines[:, -1], lines[:, -2])
    with np.errstate(invalid="ignore"):
        flat = (np.abs(nearest - end) <= PLATEAU * spans) | (spans == 0)
    return np.where(flat, "plateau", "cut").astype(object)


def _end(ds: xr.Dataset, dim: str, value: Any) -> str | None:
    values = ds[dim].values
    return "lower" if value == values[0] else "upper" if value == values[-1] else None


def edge_lines(edges: Mapping[str, Any]) -> list[str]:
    """One warning per best point cut off by an axis end (:func:`grid_edges`)."""
    out = [f"best {metric} at the {e['side']} end of {d} ({_short(e['value'])}): {EDGE_KINDS['cut']}"
           for metric, ends in edges["global"].items() for d, e in ends.items() if e.get("kind", "cut") == "cut"]
    for d, sides in edges["per_object"].items():
        for side, e in sides.items():
            n = e.get("kinds", {}).get("cut", e["count"])
            if n:
                listed = e.get("cut_objects", e["objects"])
                more = n - len(listed)
                out.append(f"{n} of {e['of']} objects have their own best {edges['per_object_metric']} at the "
                           f"{side} end of {d} ({_short(e['value'])}), still falling there: " + ", ".join(listed)
                           + (f" and {more} more" if more > 0 else "") + "; widen the axis")
    return out


def edge_notes(edges: Mapping[str, Any]) -> list[str]:
    """One note per best point on an axis end that is not cut off: a plateau or the parameter's own bound."""
    out = [f"best {metric} at the {e['side']} end of {d} ({_short(e['value'])}): {EDGE_KINDS[e['kind']]}"
           for metric, ends in edges["global"].items() for d, e in ends.items() if e.get("kind", "cut") != "cut"]
    for d, sides in edges["per_object"].items():
        for side, e in sides.items():
            for kind in ("plateau", "bound"):
                n = e.get("kinds", {}).get(kind, 0)
                if n:
                    out.append(f"{n} of {e['of']} objects have their own best {edges['per_object_metric']} at the "
                               f"{side} end of {d} ({_short(e['value'])}), where {EDGE_KINDS[kind].split(': ')[0]}")
    return out


def _short(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)
