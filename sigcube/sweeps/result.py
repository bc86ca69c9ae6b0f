"""Result cubes: a Zarr store written block by block, with an explicit per-block done flag.

Layout: one dimension per swept parameter (coordinates in the kernel parameter's unit),
the object dimension (``galaxy`` for SPARC, ``cluster``, …) for the per-object metrics of
:mod:`sigcube.metrics` (``rms``, ``chi2``), its global metrics over the parameter dims
(``mean_rms``, ``win_rate`` — a fraction —, the three RAR scatters, ``median_chi2_red``), each
with the registry's ``units`` and ``long_name``; ``done`` (True where the block is written) and,
with ``--keep-curves``, ``v_pred`` over ``point``. The template is written once and sealed with
its ``store_id`` (:func:`sigcube.stores.seal`); each block is then written as exactly one chunk of
every variable, its ``done`` chunk last, so a killed run leaves only whole, flagged blocks. Every
chunk ends with a CRC-32C: :func:`check_blocks` finds the flagged blocks whose chunks are missing or
corrupted, :func:`open_result` refuses to serve them and a rerun of the sweep recomputes them.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np
import xarray as xr
import zarr

from sigcube import __version__
from sigcube.cubes.store import CONSOLIDATED, RESULT_KIND, ZARR_FORMAT, describe, open_dataset, store_attrs
from sigcube.errors import SchemaError
from sigcube.metrics import METRICS, get_metric, metric_names
from sigcube.sample import PointSet
from sigcube.stores import (Lease, LeaseToken, Location, StoreDamagedError, chunk_coords, chunk_problems, checksummed,
                            current_holder, has_checksum, open_arrays, seal, store_errors, summarize)
from sigcube.sweeps import grid as gridlib
from sigcube.sweeps.spec import SweepSpec

KIND = RESULT_KIND
V_PRED_ATTRS = {"units": "km / s", "long_name": "predicted circular velocity"}
"""Attributes of predicted velocities (``v_pred`` here and in :func:`sigcube.predict`)."""
BASELINE_RMS_ATTRS = {"units": "km / s", "long_name": "RMS velocity residual of the baseline kernel"}


def build_template(spec: SweepSpec, points: PointSet, baseline_rms: np.ndarray, chunks: tuple[int, ...],
                   cube_attrs: dict[str, Any], keep_curves: bool) -> xr.Dataset:
    """The result cube's skeleton: coordinates, attrs and lazily-filled variables."""
    dims = tuple(a.name for a in spec.axes)
    shape = spec.shape
    group, n_points = points.group, points.n_points
    coords: dict[str, Any] = {group: np.array(list(points.galaxy), dtype=np.dtypes.StringDType())}
    for axis in spec.axes:
        values = np.array(list(axis.values), dtype=np.dtypes.StringDType()) if axis.categorical else axis.values
        param = spec.kernel.parameter(axis.name)
        coords[axis.name] = xr.Variable(axis.name, values, param.attrs)
    n_gal = points.n_galaxies
    data_vars: dict[str, Any] = {}
    for name in spec.metrics:
        if get_metric(name).scope == "global":
            data_vars[name] = xr.Variable(dims, da.full(shape, np.nan, chunks=chunks), METRICS[name].attrs)
        else:
            data_vars[name] = xr.Variable(dims + (group,), da.full(shape + (n_gal,), np.nan, dtype=GALAXY_DTYPE,
                                                                   chunks=chunks + (n_gal,)), METRICS[name].attrs)
    if keep_curves:
        data_vars["v_pred"] = xr.Variable(dims + ("point",), da.full(shape + (n_points,), np.nan,
                                                                     chunks=chunks + (n_points,)), V_PRED_ATTRS)
    data_vars["done"] = xr.Variable(dims, da.zeros(shape, dtype=bool, chunks=chunks), {"units": "", "long_name": "block written"})
    data_vars["baseline_rms"] = xr.Variable((group,), baseline_rms, BASELINE_RMS_ATTRS)
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
        block_chunks=json.dumps(list(chunks)),
        keep_curves=int(keep_curves),
        complete=0,
    )
    ds.attrs["store_id"] = layout_id(ds.attrs)
    return ds


GALAXY_DTYPE = np.float32
"""Per-galaxy metrics are stored in single precision (7 significant digits): they are the
bulk of a result cube's bytes. Global metrics are reduced in double precision first."""

UNCOMPRESSED = (*metric_names("object"), "v_pred")
"""Large float arrays (the per-object metrics, V_pred) that compress by only ~6 % at 5× the write time: stored
raw (with their checksum)."""

REBUILD = "a rerun cannot repair this: pass --force to `sigcube sweep` to discard the store and start over"


def create(store: Location, template: xr.Dataset) -> None:
    """Write the template (metadata, the small eager variables, no block data), then seal it with its
    ``store_id``: a store without one was not finished."""
    encoding = {name: checksummed(compress=name not in UNCOMPRESSED) for name in template.variables}
    unsealed = template.copy()
    store_id = unsealed.attrs.pop("store_id")
    with store_errors(store.name):
        unsealed.to_zarr(store.url, mode="w", compute=False, zarr_format=ZARR_FORMAT, consolidated=CONSOLIDATED,
                         encoding=encoding, write_empty_chunks=True)
    seal(store, {"store_id": store_id})


def rewrite_template_values(store: Location, template: xr.Dataset) -> None:
    """Write again the eager variables of ``template`` (coordinates, ``baseline_rms``) into its store."""
    group = zarr.open_group(store.url, mode="r+", zarr_format=ZARR_FORMAT)
    with store_errors(store.name):
        for name, var in template.variables.items():
            if not isinstance(var.data, da.Array):
                group[name][...] = np.asarray(var.values)


LAYOUT_KEYS = ("spec_fingerprint", "dataset_content_sha256", "block_chunks", "keep_curves")
"""The attributes that fix a result cube's layout and content: equal keys, same store."""


def layout_id(attrs: dict[str, Any]) -> str:
    """A short hash of the layout attributes: a store is only remade when it changes."""
    return hashlib.sha256(json.dumps([attrs[k] for k in LAYOUT_KEYS]).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class BlockWriter:
    """What a worker needs to write blocks: the store, its layout id and the driver's lease (checked before each
    block)."""

    store: Location
    store_id: str
    lease: LeaseToken


@functools.lru_cache(maxsize=8)
def _arrays(url: str, store_id: str) -> dict[str, zarr.Array]:
    """The store's arrays, opened once per process and layout (``store_id``, see :func:`layout_id`); every chunk
    is written, even one equal to the fill value, so a missing chunk always means damage."""
    group = zarr.open_group(url, mode="r+", zarr_format=ZARR_FORMAT)
    if group.attrs.get("store_id") != store_id:
        raise SchemaError(f"{url}: the result cube was replaced while this sweep was writing to it")
    return {name: array.with_config({"write_empty_chunks": True}) for name, array in group.arrays()}


def write_block(writer: BlockWriter, region: tuple[slice, ...], results: dict[str, np.ndarray]) -> None:
    """Write one block's metrics as whole chunks (called where the block was computed), if the lease still holds."""
    writer.lease.check()
    arrays = _arrays(writer.store.url, writer.store_id)
    with store_errors(writer.store.name):
        for name, values in results.items():
            arrays[name][region] = np.asarray(values, dtype=arrays[name].dtype)


class DoneFlags:
    """The driver's handle on the per-block done flags and the completion attribute, under its lease."""

    def __init__(self, store: Location, lease: Lease) -> None:
        self.store, self.lease = store, lease
        self.group = zarr.open_group(store.url, mode="r+", zarr_format=ZARR_FORMAT)

    def mark(self, region: tuple[slice, ...]) -> None:
        """Flag a block whose metrics are written: only now does it count as done."""
        self.lease.check()
        with store_errors(self.store.name):
            self.group["done"][region] = True

    def unmark(self, regions: list[tuple[slice, ...]]) -> None:
        """Clear the flags of damaged blocks (and the completion attribute) so that they are computed again."""
        with store_errors(self.store.name):
            self.group.attrs["complete"] = 0
            for region in regions:
                self.group["done"][region] = False

    def mark_complete(self) -> None:
        self.lease.check()
        with store_errors(self.store.name):
            self.group.attrs["complete"] = 1


@dataclass
class BlockCheck:
    """A result cube's blocks as its chunks show them (the attributes are not trusted)."""

    regions: list[tuple[slice, ...]]
    dims: tuple[str, ...]
    done: set[int] = field(default_factory=set)
    """Blocks flagged done whose chunks are all present and intact."""
    damaged: dict[int, list[str]] = field(default_factory=dict)
    """Blocks flagged done (or owed by a complete cube) with a missing or corrupted chunk: what is wrong."""
    template: list[str] = field(default_factory=list)
    """Missing or corrupted chunks of the template's variables (coordinates, ``baseline_rms``)."""

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


def check_blocks(store: Location, arrays: dict[str, zarr.Array], complete: bool) -> BlockCheck:
    """Read every flagged block's chunks (and the template's) from ``store`` and check them.

    A block is done when its ``done`` chunk is present, intact and True; its chunks of every other
    block variable must then be present and intact. In a ``complete`` cube every block must be done.
    """
    if "done" not in arrays:
        raise StoreDamagedError(f"{store.name}: the result cube has no 'done' array; {REBUILD}")
    flags = arrays["done"]
    grid = list(chunk_coords(flags))
    check = BlockCheck(gridlib.blocks(flags.shape, flags.chunks), tuple(flags.metadata.dimension_names))
    position = {c: i for i, c in enumerate(grid)}
    flag_problems = chunk_problems(store, flags, grid)
    check.damaged = {position[c]: [str(p)] for c, p in flag_problems.items() if not p.missing}
    readable = [i for i, c in enumerate(grid) if c not in flag_problems]
    if len(readable) == len(grid):
        values = flags[...]
        flagged = {i for i in readable if values[check.regions[i]].all()}
    else:
        flagged = {i for i in readable if flags[check.regions[i]].all()}
    if complete:
        for i in set(range(len(grid))) - flagged - check.damaged.keys():
            check.damaged[i] = ["its done flag is missing"]
    n = len(check.dims)
    for name, array in arrays.items():
        if name == "done":
            continue
        if tuple(array.metadata.dimension_names or ())[:n] == check.dims and array.chunks[:n] == flags.chunks:
            inner = list(itertools.product(*(range(-(-s // c)) for s, c in zip(array.shape[n:], array.chunks[n:]))))
            coords = [grid[i] + t for i in sorted(flagged) for t in inner]
            for c, problem in chunk_problems(store, array, coords).items():
                check.damaged.setdefault(position[c[:n]], []).append(str(problem))
        elif has_checksum(array):
            check.template += [str(p) for p in chunk_problems(store, array, chunk_coords(array)).values()]
    check.done = flagged - check.damaged.keys()
    return check


def open_result(path: str | Path | Location, allow_incomplete: bool = False, verify: bool = True) -> xr.Dataset:
    """Open a sweep's result cube as an ``xr.Dataset``, after checking its kind, seal and chunks.

    A damaged cube (a flagged block with a missing or corrupted chunk) raises, naming the blocks; a
    rerun of the sweep recomputes them. An unfinished sweep raises unless ``allow_incomplete``; then
    ``ds.where(ds.done)`` keeps only the written blocks. ``verify=False`` skips reading the chunks.
    """
    store = Location.of(path)
    store, attrs = store_attrs(store, f"no such result cube; run `sigcube sweep SPEC --out {store.name}`")
    if attrs.get("sigcube_kind") != KIND:
        raise SchemaError(f"{store.name} is {describe(attrs)}; expected a sweep result cube")
    if "store_id" not in attrs:
        raise SchemaError(f"{store.name}: the creation of this result cube was interrupted (it has no store_id); "
                          "rerun the sweep to make it again")
    if verify:
        check = check_blocks(store, open_arrays(store, attrs, REBUILD), bool(attrs.get("complete")))
        if check.damaged or check.template:
            raise StoreDamagedError(f"{store.name}: {check.describe()}; rerun the same `sigcube sweep` command to "
                                    "repair it")
    ds = open_dataset(store)
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


def best_parameters(ds: xr.Dataset, metric: str = "mean_rms", maximize: bool | None = None) -> dict[str, Any]:
    """The grid point that optimises a global metric: parameter values and the metric there.

    ``maximize`` defaults to the metric's registered direction (True for ``win_rate``); a variable
    that is not a registered metric is minimised.
    """
    if maximize is None:
        maximize = metric in METRICS and METRICS[metric].direction == "max"
    var = ds[metric]
    if object_dim(ds) in var.dims:
        raise SchemaError(f"{metric!r} is per object; use best_per_galaxy")
    idx = {dim: i.compute() for dim, i in (var.argmax if maximize else var.argmin)(dim=parameter_dims(ds)).items()}
    point = {dim: ds[dim].values[int(i)] for dim, i in idx.items()}
    return {**{k: (v.item() if hasattr(v, "item") else v) for k, v in point.items()},
            metric: float(var.isel({k: int(v) for k, v in idx.items()}))}


def object_dim(ds: xr.Dataset) -> str:
    """The per-object dimension of a result cube (``galaxy``, ``cluster``, …)."""
    return ds["baseline_rms"].dims[0]


def best_per_galaxy(ds: xr.Dataset, metric: str = "rms") -> xr.Dataset:
    """Per object (galaxy, cluster, …): the parameters that minimise a per-object metric, and its value."""
    var = ds[metric]
    dims = parameter_dims(ds)
    idx = {dim: i.compute() for dim, i in var.argmin(dim=dims).items()}
    best = var.isel(idx).compute()
    out = xr.Dataset({dim: best[dim].reset_coords(drop=True) for dim in dims})
    out[f"best_{metric}"] = best.reset_coords(drop=True)
    return out
