"""The xarray front door: a kernel's predictions and scores on a dataset cube.

    >>> cube = sigcube.open_cube("cubes/sparc.zarr")                             # doctest: +SKIP
    >>> sigcube.predict(cube, "sigma")                   # V_pred (galaxy, radius) [km/s]   # doctest: +SKIP
    >>> sigcube.score(cube, "sigma", A0=xr.DataArray(np.linspace(0.8, 1.6, 5), dims="A0")).mean_rms  # doctest: +SKIP

The cube is packed with :func:`sigcube.io.datasets.pack` (its kind's sample cuts and conventions);
the kernel runs on the packed points and the metrics of :mod:`sigcube.model.metrics` are reduced as
in a sweep (:func:`sigcube.compute.reduce.reduce_block`, fast paths included). A numeric
parameter is a number or an ``xr.DataArray`` with its own dims; DataArrays broadcast against
each other (a small sweep in one call), lazily when they are Dask-backed. Switches are strings.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import xarray as xr

from sigcube.compute.reduce import Prepared, reduce_block
from sigcube.conventions import SampleCuts
from sigcube.engines.sweep.result import V_PRED_ATTRS
from sigcube.io import datasets
from sigcube.model.kernels import Kernel, KernelError, get_kernel
from sigcube.model.kernels.baseline import BASELINE
from sigcube.model.metrics import METRICS
from sigcube.model.points import PointSet

RADIUS_DIM = "radius"
"""The dimension along each object's points in :func:`predict`'s output."""


def predict(cube: xr.Dataset, kernel: str, *, cuts: SampleCuts | Mapping[str, Any] | None = None,
            **params: Any) -> xr.DataArray:
    """V_pred [km/s] of ``kernel`` on ``cube``: dims (parameter dims…, object, ``radius``).

    Objects are those of the packed sample (``cuts``: SampleCuts or a dict of its fields; default the
    kind's); NaN where the cube has no point or the sample drops it. Unknown kernels or parameters,
    values out of bounds, DataArray switches and parameter arrays that disagree along a shared dim raise
    :class:`~sigcube.model.kernels.KernelError`; bad cuts and a cube lacking what its packer needs, SigcubeError.
    """
    k = get_kernel(kernel)
    cube = datasets.conform(cube)
    points = datasets.pack(cube, SampleCuts.of(cuts))
    fixed, arrays = _split(k, params)
    k.check_inputs(points.inputs, fixed)  # the switches (never arrays) decide which inputs are read
    n_radius = cube.sizes[RADIUS_DIM] if RADIUS_DIM in cube.dims else int(points.radius.max()) + 1
    radius = cube[RADIUS_DIM].values if RADIUS_DIM in cube.dims else np.arange(n_radius)

    def block(*values: np.ndarray) -> np.ndarray:
        given = _checked(k, fixed, dict(zip(arrays, values)))
        lead = np.broadcast_shapes(*(np.shape(v) for v in values)) if values else ()
        v = k.func(points.inputs, **{**fixed, **{n: np.asarray(a)[..., None] for n, a in given.items()}})
        out = np.full(lead + (points.n_galaxies, n_radius), np.nan)
        out[..., points.galaxy_index(), points.radius] = np.broadcast_to(v, lead + (points.n_points,))
        return out

    (v_pred,) = _apply(block, arrays, [[points.group, RADIUS_DIM]], {points.group: points.n_galaxies,
                                                                     RADIUS_DIM: n_radius})
    v_pred = v_pred.assign_coords({points.group: list(points.galaxy), RADIUS_DIM: radius})
    return v_pred.rename("v_pred").assign_attrs(V_PRED_ATTRS, **_attrs(cube, k, fixed, arrays, points))


def score(cube: xr.Dataset, kernel: str, baseline: str | None = BASELINE, *,
          cuts: SampleCuts | Mapping[str, Any] | None = None, **params: Any) -> xr.Dataset:
    """Every metric of ``kernel`` on ``cube``: per-object ``rms``, ``chi2`` (…, object) and the global metrics.

    Each variable carries the registry's ``units`` and ``long_name``; ``win_rate`` (a fraction) is
    against ``baseline`` at its defaults (omitted when ``baseline`` is None). The attrs state the
    kernel, its parameters, the baseline and the sample cuts. Parameters as in :func:`predict`.
    """
    k = get_kernel(kernel)
    cube = datasets.conform(cube)
    points = datasets.pack(cube, SampleCuts.of(cuts))
    fixed, arrays = _split(k, params)
    k.check_inputs(points.inputs, fixed)  # the switches (never arrays) decide which inputs are read
    prep = Prepared.build(points, k, fixed, None if baseline is None else get_kernel(baseline))
    names = [n for n in METRICS if n != "win_rate" or baseline is not None]

    def block(*values: np.ndarray) -> tuple[np.ndarray, ...]:
        out = reduce_block(prep, _checked(k, fixed, dict(zip(arrays, values))))
        return tuple(out[n] for n in names)

    core = [[points.group] if METRICS[n].scope == "object" else [] for n in names]
    outputs = _apply(block, arrays, core, {points.group: points.n_galaxies})
    ds = xr.Dataset({n: out.assign_attrs(METRICS[n].attrs) for n, out in zip(names, outputs)})
    ds = ds.assign_coords({points.group: list(points.galaxy)})
    return ds.assign_attrs(_attrs(cube, k, fixed, arrays, points), baseline=baseline or "")


def _split(k: Kernel, params: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, xr.DataArray]]:
    """Scalar parameters (validated now) and DataArray parameters (validated block by block).

    An in-memory 1-D DataArray along a dim named like its parameter gets it as a coordinate (with the
    parameter's units and description); a Dask-backed one is left as given (nothing is computed). Arrays
    that share a dim must agree on its length and coordinates (:func:`_aligned`).
    """
    fixed: dict[str, Any] = {}
    arrays: dict[str, xr.DataArray] = {}
    for name, value in params.items():
        param = k.parameter(name)
        if isinstance(value, xr.DataArray) and value.ndim:
            if param.categorical:
                raise KernelError(f"kernel {k.name!r}: switch {name!r} takes one string; got a DataArray")
            if value.dims == (name,) and name not in value.coords and not _is_dask(value):
                value = value.assign_coords({name: xr.Variable(name, value.values, param.attrs)})
            arrays[name] = value
        elif isinstance(value, (str, int, float, np.number, xr.DataArray)) or np.ndim(value) == 0:
            fixed[name] = value.item() if isinstance(value, (xr.DataArray, np.ndarray, np.number)) else value
        else:
            raise KernelError(f"kernel {k.name!r}: parameter {name!r} takes a number or an xarray.DataArray with "
                              f"named dims (to sweep it); got {type(value).__name__}")
    _aligned(arrays)
    resolved = k.resolve({**fixed, **{n: a.values for n, a in arrays.items() if not _is_dask(a)}})
    return {n: v for n, v in resolved.items() if n not in arrays}, arrays


def _aligned(arrays: Mapping[str, xr.DataArray]) -> None:
    """Refuse parameter arrays that share a dim but not its length or coordinates (a KernelError naming them)."""
    for dim in dict.fromkeys(d for a in arrays.values() for d in a.dims):
        users = {n: a for n, a in arrays.items() if dim in a.dims}
        lengths = {n: a.sizes[dim] for n, a in users.items()}
        if len(set(lengths.values())) > 1:
            raise KernelError(f"parameter arrays {', '.join(f'{n} ({m})' for n, m in lengths.items())} run along dim "
                              f"{dim!r} with different lengths; arrays that share a dim must have the same length "
                              "(and coordinates) along it")
        coords = [a[dim].values for a in users.values() if dim in a.coords]
        if any(not np.array_equal(c, coords[0]) for c in coords[1:]):
            raise KernelError(f"parameter arrays {', '.join(users)} run along dim {dim!r} with different coordinates; "
                              "arrays that share a dim must have the same coordinates along it")


def _checked(k: Kernel, fixed: dict[str, Any], block: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A block's parameter arrays, validated against the kernel's bounds and constraints."""
    resolved = k.resolve({**fixed, **block})
    return {n: resolved[n] for n in block}


def _is_dask(value: xr.DataArray) -> bool:
    return value.chunks is not None


def _apply(func: Callable[..., Any], arrays: dict[str, xr.DataArray], core: list[list[str]],
           sizes: dict[str, int]) -> tuple[xr.DataArray, ...]:
    """``func`` over the broadcast parameter arrays (Dask-parallel when they are chunked); one DataArray per output."""
    if not arrays:
        out = func()
        out = out if isinstance(out, tuple) else (out,)
        return tuple(xr.DataArray(o, dims=dims) for o, dims in zip(out, core))
    clash = {d for a in arrays.values() for d in a.dims} & set(sizes)
    if clash:
        raise KernelError(f"parameter arrays may not use the output dims {sorted(clash)}")
    out = xr.apply_ufunc(func, *arrays.values(), input_core_dims=[[]] * len(arrays), output_core_dims=core,
                         dask="parallelized", output_dtypes=[float] * len(core),
                         dask_gufunc_kwargs={"output_sizes": sizes})
    return out if isinstance(out, tuple) else (out,)


def _attrs(cube: xr.Dataset, k: Kernel, fixed: dict[str, Any], arrays: dict[str, xr.DataArray],
           points: PointSet) -> dict[str, Any]:
    """What a result was computed from: kernel, parameters, sample cuts, dataset."""
    parameters = {**{n: v if isinstance(v, str) else float(v) for n, v in fixed.items()},
                  **{n: f"DataArray over {', '.join(map(str, a.dims))}" for n, a in arrays.items()}}
    return {
        "kernel": k.name,
        "parameters": json.dumps(parameters, sort_keys=True),
        "sample_cuts": json.dumps(points.cuts.as_dict()),
        "dataset": str(cube.attrs.get("sigcube_kind", "")),
        "dataset_content_sha256": str(cube.attrs.get("content_sha256", "")),
        "n_points": points.n_points,
    }
