"""Result cubes: a Zarr store written block by block, with an explicit per-block done flag.

Layout: one dimension per swept parameter (coordinates in the kernel parameter's unit),
the object dimension (``galaxy`` for SPARC, ``cluster``, …) for the per-object metrics of
:mod:`sigcube.metrics` (``rms``, ``chi2``), its global metrics over the parameter dims
(``mean_rms``, ``win_rate`` — a fraction —, the three RAR scatters, ``median_chi2_red``), each
with the registry's ``units`` and ``long_name``; ``done`` (True where the block is written) and,
with ``--keep-curves``, ``v_pred`` over ``point``. The template is written once; each block is
then written as exactly one chunk of every variable, its ``done`` chunk last, so a killed
run leaves only whole, flagged blocks.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np
import xarray as xr
import zarr

from sigcube import __version__
from sigcube.cubes.store import CONSOLIDATED, ZARR_FORMAT, read_store
from sigcube.errors import SchemaError
from sigcube.metrics import METRICS, get_metric, metric_names
from sigcube.sample import PointSet
from sigcube.sweeps.spec import SweepSpec

KIND = "sweep"
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
"""Large float arrays (the per-object metrics, V_pred) that compress by only ~6 % at 5× the write time: stored raw."""


def create(path: Path, template: xr.Dataset) -> None:
    """Write the template: metadata and the small eager variables, no block data."""
    encoding = {name: {"compressors": None} for name in UNCOMPRESSED if name in template}
    template.to_zarr(path, mode="w", compute=False, zarr_format=ZARR_FORMAT, consolidated=CONSOLIDATED,
                     encoding=encoding)


LAYOUT_KEYS = ("spec_fingerprint", "dataset_content_sha256", "block_chunks", "keep_curves")
"""The attributes that fix a result cube's layout and content: equal keys, same store."""


def layout_id(attrs: dict[str, Any]) -> str:
    """A short hash of the layout attributes: a store is only remade when it changes."""
    return hashlib.sha256(json.dumps([attrs[k] for k in LAYOUT_KEYS]).encode()).hexdigest()[:16]


@functools.lru_cache(maxsize=8)
def _arrays(path: str, store_id: str) -> dict[str, zarr.Array]:
    """The store's arrays, opened once per process and layout (``store_id``, see :func:`layout_id`)."""
    group = zarr.open_group(path, mode="r+", zarr_format=ZARR_FORMAT)
    if group.attrs.get("store_id") != store_id:
        raise SchemaError(f"{path}: the result cube was replaced while this sweep was writing to it")
    return dict(group.arrays())


def write_block(path: Path | str, store_id: str, region: tuple[slice, ...], results: dict[str, np.ndarray]) -> None:
    """Write one block's metrics as whole chunks (called where the block was computed)."""
    arrays = _arrays(str(path), store_id)
    for name, values in results.items():
        arrays[name][region] = np.asarray(values, dtype=arrays[name].dtype)


class DoneFlags:
    """The driver's handle on the per-block done flags and the completion attribute."""

    def __init__(self, path: Path) -> None:
        self.group = zarr.open_group(str(path), mode="r+", zarr_format=ZARR_FORMAT)

    def mark(self, region: tuple[slice, ...]) -> None:
        """Flag a block whose metrics are written: only now does it count as done."""
        self.group["done"][region] = True

    def mark_complete(self) -> None:
        self.group.attrs["complete"] = 1


def done_blocks(path: Path, regions: list[tuple[slice, ...]]) -> set[int]:
    """Ids of the blocks whose done flag is set."""
    done = zarr.open_group(str(path), mode="r", zarr_format=ZARR_FORMAT)["done"][...]
    return {i for i, region in enumerate(regions) if done[region].all()}


def open_result(path: str | Path, allow_incomplete: bool = False) -> xr.Dataset:
    """Open a sweep's result cube as an ``xr.Dataset``.

    An unfinished sweep raises unless ``allow_incomplete``; then ``ds.where(ds.done)`` keeps
    only the written blocks.
    """
    ds = read_store(path, f"no such result cube; run `sigcube sweep SPEC --out {path}`")
    if ds.attrs.get("sigcube_kind") != KIND:
        raise SchemaError(f"{path}: not a sigcube sweep result (sigcube_kind = {ds.attrs.get('sigcube_kind')!r})")
    if not ds.attrs.get("complete") and not allow_incomplete:
        n_done = int(ds["done"].sum())
        raise SchemaError(
            f"{path}: the sweep is unfinished ({n_done} of {ds['done'].size} grid points written); rerun the "
            "same `sigcube sweep` command to resume it, or pass allow_incomplete=True"
        )
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
