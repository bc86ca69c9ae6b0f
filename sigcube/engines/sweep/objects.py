"""The objects a sweep scores, found without loading the dataset, and read by workers one chunk at a time.

The driver never holds the dataset packed. :func:`plan_objects` streams a cube whose kind judges objects one
by one (``DatasetKind.select``: SPARC and rotation-curve cubes) in batches of rows through the sample cuts,
keeping only each object's name, usable points and row. The objects are cut into chunks of
``object_chunk`` (:func:`choose_chunk`); a worker reads the rows of its chunk from the dataset store itself
and packs them (:func:`load_points`) — the same points, bit for bit, as packing the whole cube and slicing.
Kinds packed whole (the Milky Way, clusters: small) are one chunk.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from sigcube.conventions import SampleCuts
from sigcube.engines.sweep.grid import TARGET_EVALS_PER_BLOCK
from sigcube.errors import SigcubeError
from sigcube.io.cubes import open_cube
from sigcube.io.datasets import dataset_kind
from sigcube.io.stores import Location, read_errors
from sigcube.model.points import PointSet

TARGET_CHUNK_POINTS = 20_000
"""Fewest points per object chunk by default (about 1,000 SPARC-like galaxies): the fused kernels are fastest on
small chunks (SPARC tiled to 2·10⁴ points: 2.5e8 evaluations/s, as SPARC; to 2·10⁵: 9.7e7)."""
MAX_CHUNK_POINTS = 100_000
"""Most points per object chunk by default. Between the two bounds a chunk carries one task's worth of work over
the whole grid (:data:`~sigcube.engines.sweep.grid.TARGET_EVALS_PER_BLOCK` evaluations): each task also reads, packs
and writes its chunk, so small grids need larger chunks (10⁵ synthetic galaxies × 10³ grid points: 5·10⁴
points per chunk)."""
PLAN_BATCH_BYTES = 4 * 2**20
"""Bytes of the selection variables read at once by :func:`plan_objects` (at least one stored chunk of rows: 1,000
synthetic galaxies, 4.6 MB); judging a batch takes about as much again. Batches of 16 MiB raised the driver's peak
by 40 MB on a 10⁵-galaxy ``sigcube synth`` cube, against the 10³-galaxy cube's single batch."""


@dataclass(frozen=True)
class ObjectPlan:
    """The swept objects in cube order: names, usable points, and the cube row of each (None: packed whole)."""

    group: str
    names: np.ndarray
    n_points: np.ndarray
    rows: np.ndarray | None
    excluded: int
    stored_rows: int = 1
    """Cube rows per stored chunk along the object dimension."""

    @property
    def n_objects(self) -> int:
        return len(self.names)


@dataclass(frozen=True)
class ChunkSource:
    """What a worker needs to read object chunk ``c``: the dataset store (path or URL), its kind, content hash,
    the sample cuts, and per chunk the cube rows ``[r0, r1)`` it is packed from (None: the whole cube) and the
    number of objects it must hold."""

    cube: str
    kind: str
    content_sha256: str
    cuts: SampleCuts
    bounds: tuple[tuple[int, int], ...] | None
    counts: tuple[int, ...]
    unread: tuple[str, ...] = ()
    """Cube variables the workers need not read: the kernels read none of the inputs packed from them."""

    @property
    def key(self) -> str:
        """Identifies the chunking of one dataset (for per-process caches)."""
        return json.dumps([self.cube, self.content_sha256, self.cuts.as_dict(), self.bounds, self.unread])


def _reader(cube: Location, kind: str) -> xr.Dataset:
    """The ``kind`` cube opened lazily without Dask (its seal and manifest checked): indexing reads only the chunks
    it needs, each checked against the manifest as it is read."""
    return open_cube(cube, kind=kind, verify="seal", chunks=None)


@functools.lru_cache(maxsize=4)
def _cached_reader(url: str, kind: str, content_sha256: str) -> xr.Dataset:
    """:func:`_reader` opened once per process and dataset content (opening lists and reads every array's
    metadata, which would otherwise be repeated for every chunk of objects)."""
    return _reader(Location.of(url), kind)


def _stored_hash(cube: Location) -> str:
    """The ``content_sha256`` root attribute as stored now (one small read)."""
    with read_errors(cube.name, f"re-ingest it (`--out {cube.name} --force`)"):
        raw = cube.read("zarr.json")
    return "" if raw is None else str(json.loads(raw).get("attributes", {}).get("content_sha256", ""))


def plan_objects(cube: Location, kind: str, cuts: SampleCuts) -> tuple[ObjectPlan, dict[str, Any]]:
    """The objects of the ``kind`` cube at ``cube`` that pass ``cuts``, and the cube's attributes.

    The cube is checked (:func:`sigcube.io.cubes.open_cube`: its kind, seal, schema and every chunk's presence and
    size — each chunk's checksum is then checked by its codec as it is read, here or on a worker), then read in
    batches of rows of its selection variables: memory stays bounded whatever its size.
    """
    record = dataset_kind(kind)
    ds = open_cube(cube, kind=kind, verify="listing", chunks=None)
    if record.select is None:
        points = record.packer(ds.load(), cuts)
        return ObjectPlan(points.group, np.asarray(points.galaxy, dtype=np.dtypes.StringDType()),
                          np.diff(points.offsets), None, len(points.excluded)), dict(ds.attrs)
    dim = record.objects
    names = [v for v in record.select_variables if v in ds.variables]
    per_row = sum(int(np.prod(ds[v].shape[1:])) * ds[v].dtype.itemsize for v in names if ds[v].dims[:1] == (dim,))
    stored = stored_rows(ds, dim)
    step = max(stored, PLAN_BATCH_BYTES // max(per_row, 1) // stored * stored)  # whole stored chunks: each read once
    n_rows = ds.sizes[dim]
    kept, counts, rows, excluded = [], [], [], 0
    for start in range(0, n_rows, step):
        with read_errors(cube.name, f"re-ingest it (`--out {cube.name} --force`)"):
            batch = ds[names].isel({dim: slice(start, start + step)}).load()
        selection = record.select(batch, cuts)
        kept.append(np.asarray(batch[dim].values[selection.keep], dtype=np.dtypes.StringDType()))
        counts.append(selection.n_points)
        rows.append(start + np.flatnonzero(selection.keep))
        excluded += len(selection.excluded)
    plan = ObjectPlan(dim, np.concatenate(kept), np.concatenate(counts).astype(np.int64),
                      np.concatenate(rows).astype(np.int64), excluded, stored)
    if not plan.n_objects:
        raise SigcubeError(f"the sample cuts {cuts.as_dict()} leave no galaxy in {cube.name}")
    return plan, dict(ds.attrs)


def stored_rows(ds: xr.Dataset, dim: str) -> int:
    """Rows per stored chunk along the object dimension ``dim`` of a cube opened by :func:`_reader` (1 if unknown)."""
    for var in ds.data_vars.values():
        if var.dims[:1] == (dim,) and var.encoding.get("chunks"):
            return int(var.encoding["chunks"][0])
    return 1


def choose_chunk(plan: ObjectPlan, requested: int = 0, grid_size: int = 1) -> int:
    """Objects per chunk: ``requested`` if given (> 0), else the points' worth of one task over a grid of
    ``grid_size`` points, between :data:`TARGET_CHUNK_POINTS` and :data:`MAX_CHUNK_POINTS`, rounded to a multiple
    of the cube's rows per stored chunk (where the sample keeps most rows, tasks then read whole stored chunks,
    none of them twice); one chunk for a kind packed whole."""
    if plan.rows is None:
        return plan.n_objects
    if requested > 0:
        return min(requested, plan.n_objects)
    target = min(MAX_CHUNK_POINTS, max(TARGET_CHUNK_POINTS, TARGET_EVALS_PER_BLOCK // max(grid_size, 1)))
    mean = float(np.mean(plan.n_points)) if plan.n_objects else 1.0
    chunk = max(1, round(target / max(mean, 1.0)))
    if plan.stored_rows > 1 and chunk >= plan.stored_rows:
        chunk = round(chunk / plan.stored_rows) * plan.stored_rows
    return int(min(plan.n_objects, chunk))


def chunk_source(cube: Location, kind: str, attrs: dict[str, Any], cuts: SampleCuts, plan: ObjectPlan,
                 object_chunk: int, inputs: tuple[str, ...] | None = None) -> ChunkSource:
    """The :class:`ChunkSource` of ``plan`` cut into chunks of ``object_chunk`` objects; with ``inputs`` (every point
    input the sweep's kernels may read) the workers skip the cube variables packed only for other inputs."""
    starts = range(0, plan.n_objects, object_chunk)
    counts = tuple(min(object_chunk, plan.n_objects - a) for a in starts)
    bounds = None if plan.rows is None else tuple(
        (int(plan.rows[a]), int(plan.rows[a + n - 1]) + 1) for a, n in zip(starts, counts))
    unread = dataset_kind(kind).unread(inputs) if inputs is not None and bounds is not None else ()
    return ChunkSource(cube.url, kind, attrs.get("content_sha256", ""), cuts, bounds, counts, unread)


def load_points(source: ChunkSource, c: int) -> PointSet:
    """The points of object chunk ``c``, read from the dataset store (only its rows, only the variables the packer
    reads) and packed."""
    record = dataset_kind(source.kind)
    cube = Location.of(source.cube)
    if source.bounds is None:
        ds = open_cube(cube, kind=source.kind, verify="seal").load()
    else:
        r0, r1 = source.bounds[c]
        reader = _cached_reader(source.cube, source.kind, source.content_sha256)
        names = [v for v in record.pack_variables or reader.data_vars if v in reader.data_vars
                 and v not in source.unread]
        with read_errors(cube.name, f"re-ingest it (`--out {cube.name} --force`)"):
            ds = reader[names].isel({record.objects: slice(r0, r1)}).load()
    stored = ds.attrs.get("content_sha256", "") if source.bounds is None else _stored_hash(cube)
    if stored != source.content_sha256:
        raise SigcubeError(f"{cube.name}: the dataset cube changed while the sweep ran (content_sha256 differs); "
                           "rerun the sweep")
    points = record.packer(ds, source.cuts)
    if points.n_galaxies != source.counts[c]:
        raise SigcubeError(f"{cube.name}: object chunk {c} packs {points.n_galaxies} objects where the sweep planned "
                           f"{source.counts[c]}; the dataset cube changed while the sweep ran: rerun it")
    return points
