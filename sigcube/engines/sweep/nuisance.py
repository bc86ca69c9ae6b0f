"""Nuisance parameters in sweeps: the per-object reduction of a task, the result's variables, the posterior (the
``[nuisance]`` table itself: :mod:`sigcube.engines.nuisance_spec`).

A spec with a ``[nuisance]`` table gives every object (galaxy) its own Υ_disk, Υ_bul, D and i under priors
(default: Li+2018, :data:`~sigcube.stats.nuisance.SPARC_PRIORS`). Inside the engine's task (one grid
block × one object chunk) :func:`reduce_nuisance` computes, for every grid point and object,

- ``marginalise``: ln ∫ L π over the nuisance parameters, by adaptive Gauss–Hermite quadrature at each
  object's conditional mode (:func:`sigcube.compute.quadrature.marginalise`; the nodes are streamed through
  a running log-sum-exp, never stored), warm-started along the block;
- ``profile``: max over the nuisance parameters of ln L + ln φ(z), z the prior's normal deviates (the MAP,
  :func:`sigcube.compute.quadrature.profile`), with the nuisance values there.

The result cube stores that per-object ``loglike`` (and, for ``profile``, the per-object nuisance values). When
every block is done the driver sums it over objects (``loglike_total``), normalises it over the grid under the
stated global prior (equal mass per grid point) into ``posterior`` and stores that, ``log_evidence`` and the
1-D/2-D marginals (:func:`sigcube.engines.sweep.result.store_posterior`); :func:`sweep_posterior` reads them back.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from sigcube.compute import quadrature
from sigcube.engines.nuisance_spec import GLOBAL_PRIOR, SCATTER_AXIS, TAU_AXIS, NuisanceSettings
from sigcube.errors import SigcubeError
from sigcube.model.kernels.registry import Kernel
from sigcube.model.points import PointSet
from sigcube.stats.nuisance import NUISANCE_PARAMETERS, SYMBOLS, Catalogue, NuisanceTransform, sparc_priors
from sigcube.stats.posterior import GridPosterior, grid_posterior

MODES = ("marginalise", "profile")
"""How the nuisance parameters are removed."""
POINT_BUDGET = 400_000
"""(grid points × packed points) evaluated at once by one quadrature call: bounds a task's memory."""


NUISANCE_DTYPES = {"loglike": np.float64, **{f"nuisance_{name}": np.float32 for name in NUISANCE_PARAMETERS}}
"""Per-object arrays a nuisance sweep stores (the ``nuisance_*`` values only in ``profile`` mode)."""
_ATTRS = {"loglike": {"units": "nat", "long_name": "per-object log-likelihood with the nuisance parameters "
                                                   "marginalised or profiled (see the nuisance attribute)"},
          **{f"nuisance_{name}": {"units": unit, "long_name": f"{SYMBOLS[name]} at the profile mode"}
             for name, unit in zip(NUISANCE_PARAMETERS, ("Msun/Lsun", "Msun/Lsun", "Mpc", "deg"))}}


def template_variables(settings: NuisanceSettings | None, dims: tuple[str, ...], shape: tuple[int, ...],
                       chunks: tuple[int, ...]) -> dict[str, xr.Variable]:
    """The lazily-filled per-object variables of a nuisance sweep's result cube (none without ``[nuisance]``).

    ``dims``, ``shape`` and ``chunks`` are the grid's followed by the object dimension's."""
    import dask.array as da

    if settings is None:
        return {}
    names = ["loglike"] + ([f"nuisance_{n}" for n in NUISANCE_PARAMETERS] if settings.mode == "profile" else [])
    out = {name: xr.Variable(dims, da.full(shape, np.nan, dtype=NUISANCE_DTYPES[name], chunks=chunks),
                             dict(_ATTRS[name])) for name in names}
    out["loglike"].attrs["nuisance"] = "\n".join(settings.describe())
    out["loglike"].attrs["nuisance_parameters"] = ",".join(settings.priors)
    out["loglike"].attrs["nuisance_mode"] = settings.mode
    return out


_CATALOGUES: dict[tuple[str, int], Catalogue] = {}
"""This process's catalogues of recent object chunks."""


def chunk_catalogue(source: Any, c: int, points: PointSet) -> Catalogue:
    """The catalogue of object chunk ``c`` of a :class:`~sigcube.engines.sweep.objects.ChunkSource` (read on first use)."""
    from sigcube.engines.sweep.objects import _reader
    from sigcube.io.cubes import open_cube
    from sigcube.io.datasets import dataset_kind
    from sigcube.io.stores import Location

    key = (source.key, c)
    if key not in _CATALOGUES:
        cube = Location.of(source.cube)
        if source.bounds is None:
            ds = open_cube(cube, kind=source.kind, verify="seal")
        else:
            r0, r1 = source.bounds[c]
            ds = _reader(cube, source.kind).drop_vars(list(source.unread))
            ds = ds.isel({dataset_kind(source.kind).objects: slice(r0, r1)})
        if len(_CATALOGUES) >= 4:
            _CATALOGUES.pop(next(iter(_CATALOGUES)))
        _CATALOGUES[key] = Catalogue.from_cube(ds, points)
    return _CATALOGUES[key]


def task_arrays(spec: Any, source: Any, c: int, points: PointSet, block_params: Mapping[str, Any]
                ) -> dict[str, np.ndarray]:
    """What a sweep task (one grid block × object chunk ``c``) stores for a ``[nuisance]`` spec (nothing without)."""
    if spec.nuisance is None:
        return {}
    return reduce_nuisance(points, chunk_catalogue(source, c, points), spec.kernel, spec.fixed, block_params,
                           spec.nuisance)


def check_spec(spec: Any, source: Any, points: PointSet) -> None:
    """Raise NuisanceError before a sweep starts when its kernel reads an input without a nuisance rule or the
    dataset lacks the catalogue columns the priors need (checked on object chunk 0)."""
    if spec.nuisance is None:
        return
    catalogue = chunk_catalogue(source, 0, points)
    NuisanceTransform(points, catalogue, spec.kernel.required_inputs(spec.kernel.resolve(spec.fixed)))
    sparc_priors(catalogue, spec.nuisance.priors)


def reduce_nuisance(points: PointSet, catalogue: Catalogue, kernel: Kernel, fixed: Mapping[str, Any],
                    block_params: Mapping[str, Any], settings: NuisanceSettings) -> dict[str, np.ndarray]:
    """Per-object ``loglike`` [nat] of one grid block (``block_shape + (n_objects,)``) with the nuisance parameters
    removed as ``settings`` say; for ``profile`` also ``nuisance_<name>``, each object's values at the mode.

    ``block_params`` as :func:`sigcube.compute.reduce.reduce_block` takes them (arrays broadcastable to the
    block's shape, a switch as one string), plus σ_int (:data:`SCATTER_AXIS`) and τ_gal (:data:`TAU_AXIS`) when they
    are grid axes. The block is
    evaluated in batches of grid points (at most :data:`POINT_BUDGET` grid × packed points each), each warm-started at
    the previous batch's last mode (a marginalisation's first batch at the modes of the block's first point, found
    with every search restarted; a profile restarts every batch). A σ_int axis is walked innermost, up and down in turn
    (:func:`_serpentine`): grid points that differ only in σ_int follow each other, and each starts from its
    predecessor's mode and reuses its kernel predictions there.
    """
    numeric = {k: np.asarray(v, dtype=float) for k, v in block_params.items() if not isinstance(v, str)}
    switches = {k: v for k, v in block_params.items() if isinstance(v, str)}
    shape = np.broadcast_shapes(*(v.shape for v in numeric.values())) if numeric else ()
    inner = _scatter_dim(numeric.get(SCATTER_AXIS), shape)
    walk = np.moveaxis(np.empty(shape, dtype=np.int8), inner, -1).shape if inner is not None else shape
    order = _serpentine(walk) if inner is not None else slice(None)
    flat = {k: (np.moveaxis(np.broadcast_to(v, shape), inner, -1) if inner is not None
                else np.broadcast_to(v, shape)).ravel()[order] for k, v in numeric.items()}
    scatter = flat.pop(SCATTER_AXIS, None)
    tau = flat.pop(TAU_AXIS, None)
    n_grid = math.prod(shape)
    base = {**fixed, **switches}
    transform = NuisanceTransform(points, catalogue, kernel.required_inputs(kernel.resolve(base)))
    priors = sparc_priors(catalogue, settings.priors)
    n = points.n_galaxies
    loglike = np.empty((n_grid, n))
    values = {name: np.empty((n_grid, n)) for name in NUISANCE_PARAMETERS} if settings.mode == "profile" else {}
    batch = max(1, POINT_BUDGET // max(points.n_points, 1))
    start = None
    if settings.mode == "marginalise" and n_grid:
        # every mode search of the block's first point restarted (a cold start can settle in a local mode of
        # L × prior and carry it along the block), the rest warm-started from there
        first = {**base, **{k: v[:1, None] for k, v in flat.items()}}
        start = quadrature.profile(kernel, first, transform, priors,
                                   settings.likelihood(*(None if v is None else v[:1, None] for v in (scatter, tau)))
                                   ).z[-1:]
    for a in range(0, n_grid, batch):
        params = {**base, **{k: v[a:a + batch, None] for k, v in flat.items()}}
        likelihood = settings.likelihood(*(None if v is None else v[a:a + batch, None] for v in (scatter, tau)))
        if settings.mode == "marginalise":
            result = quadrature.marginalise(kernel, params, transform, priors, likelihood, nodes=settings.nodes,
                                            start=start)
            loglike[a:a + batch] = result.log_marginal
            mode = result.mode
        else:
            mode = quadrature.profile(kernel, params, transform, priors, likelihood, start=start)
            loglike[a:a + batch] = mode.log_likelihood - 0.5 * mode.chi2_prior
            for name in values:
                values[name][a:a + batch] = mode.values[name]
        start = mode.z[-1:]

    def unwalk(v: np.ndarray) -> np.ndarray:
        if inner is not None:
            v = v[np.argsort(order)]
        v = v.reshape(walk + (n,))
        return np.moveaxis(v, -2, inner) if inner is not None else v

    out = {"loglike": unwalk(loglike)}
    out.update({f"nuisance_{name}": unwalk(v) for name, v in values.items()})
    return out


def _serpentine(shape: tuple[int, ...]) -> np.ndarray:
    """The flat indices of a grid of ``shape`` walked with its last axis alternately forwards and backwards, so
    each grid point follows a neighbour (σ_int up along one kernel point, down along the next)."""
    index = np.arange(math.prod(shape)).reshape(-1, shape[-1])
    index[1::2] = index[1::2, ::-1]
    return index.ravel()


def _scatter_dim(sigma: np.ndarray | None, shape: tuple[int, ...]) -> int | None:
    """The block axis σ_int runs along (None: no σ_int axis, or one value in this block)."""
    if sigma is None or sigma.ndim != len(shape):
        return None
    along = [i for i, k in enumerate(sigma.shape) if k > 1]
    return along[0] if len(along) == 1 else None


def marginal_names(axes: list[str]) -> dict[str, tuple[str, ...]]:
    """The stored marginals of a grid with ``axes``: ``marginal_<x>`` over each axis, ``marginal_<x>_<y>`` over each
    pair (in axis order), with the axes each is over."""
    pairs = [(x, y) for i, x in enumerate(axes) for y in axes[i + 1:]]
    return {**{f"marginal_{x}": (x,) for x in axes}, **{f"marginal_{x}_{y}": (x, y) for x, y in pairs}}


def posterior_variables(settings: NuisanceSettings | None, axes: list[Any]) -> dict[str, xr.Variable]:
    """The grid-sized posterior arrays of a nuisance sweep's result cube, NaN until the driver fills them after the
    last block (:func:`sigcube.engines.sweep.result.store_posterior`): ``loglike_total`` [nat], ``posterior`` (mass per grid point, sums to 1),
    ``log_evidence`` [nat] and the 1-D/2-D marginals. None without ``[nuisance]`` or with a switch axis (``axes``:
    the spec's)."""
    if settings is None or any(a.categorical for a in axes):
        return {}
    dims = tuple(a.name for a in axes)
    shape = tuple(len(a.values) for a in axes)
    model = {"likelihood": "\n".join(settings.describe()), "global_prior": GLOBAL_PRIOR}
    out = {
        "loglike_total": xr.Variable(dims, np.full(shape, np.nan), {
            "units": "nat", "long_name": "Σ over objects of loglike (nuisance parameters "
                                         f"{settings.mode}d)", **model}),
        "posterior": xr.Variable(dims, np.full(shape, np.nan), {
            "units": "", "long_name": "posterior mass per grid point: exp(loglike_total) × global prior, "
                                      "normalised to sum 1", **model}),
        "log_evidence": xr.Variable((), np.float64(np.nan), {
            "units": "nat", "long_name": "ln Σ_grid exp(loglike_total) × global prior (prior masses sum to 1)",
            **model}),
    }
    size = dict(zip(dims, shape))
    for name, over in marginal_names(list(dims)).items():
        out[name] = xr.Variable(over, np.full(tuple(size[d] for d in over), np.nan), {
            "units": "", "long_name": f"posterior mass over {' × '.join(over)} (summed over the other axes)",
            **model})
    return out


def posterior_arrays(total: np.ndarray, axes: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """What :func:`posterior_variables` declares, from ``loglike_total`` [nat] over the grid ``axes``."""
    post = grid_posterior(total, axes, prior=GLOBAL_PRIOR)
    out = {"loglike_total": total, "posterior": post.mass, "log_evidence": np.float64(post.log_evidence)}
    for name, over in marginal_names(list(axes)).items():
        out[name] = post.marginal(over[0]).mass if len(over) == 1 else post.marginal2d(*over)
    return out


def sweep_posterior(ds: xr.Dataset) -> GridPosterior:
    """The normalised posterior over a nuisance sweep's grid under the equal grid prior: the stored ``posterior``
    of a complete cube, else (older or unfinished cubes) ``loglike`` summed over objects and normalised here.

    Switch axes are not allowed (a posterior needs numbers); raises SigcubeError for a cube without ``loglike``.
    """
    if "loglike" not in ds:
        raise SigcubeError("this result cube has no loglike: the sweep had no [nuisance] table")
    if "posterior" in ds and ds.attrs.get("complete") and np.isfinite(float(ds["log_evidence"])):
        axes = {d: np.asarray(ds[d].values, dtype=float) for d in ds["posterior"].dims}
        stored = {over: np.asarray(ds[name].values, dtype=float) for name, over in marginal_names(list(axes)).items()}
        return GridPosterior(axes, np.asarray(ds["posterior"].values, dtype=float),
                             ds["posterior"].attrs["global_prior"], float(ds["log_evidence"]), stored)
    dims = ds["loglike"].dims[:-1]
    axes = {}
    for d in dims:
        values = np.asarray(ds[d].values)
        if not np.issubdtype(values.dtype, np.number):
            raise SigcubeError(f"the posterior needs numeric grid axes; {d!r} is a switch")
        axes[d] = values.astype(float)
    return grid_posterior(loglike_total(ds), axes, prior=GLOBAL_PRIOR)


def loglike_total(ds: xr.Dataset) -> np.ndarray:
    """``loglike`` summed over objects [nat], over the grid: stored by a complete cube, else summed here."""
    if "loglike_total" in ds and ds.attrs.get("complete"):
        return np.asarray(ds["loglike_total"].values, dtype=float)
    return np.asarray(ds["loglike"].sum(ds["loglike"].dims[-1], skipna=False).values, dtype=float)



def check_sweep_integrals(ds: xr.Dataset, cube: xr.Dataset) -> dict[str, Any]:
    """:func:`~sigcube.compute.quadrature.check_integrals` of a finished ``marginalise`` sweep at its posterior's
    largest grid point, on ``cube``: the dataset cube the sweep read (its content hash must match the result's).

    Returns the point, what was checked and how, and per flagged galaxy its ln Z at the sweep's node count, the
    change with 2 more nodes, the refined ln Z and whether it settled; ``shift`` is Σ (refined − stored) over the
    flagged galaxies, the change of ``loglike_total`` at that point."""
    from sigcube.engines.sweep.spec import parse_spec
    from sigcube.io.datasets import pack

    if "loglike" not in ds:
        raise SigcubeError("checking the integrals needs a nuisance sweep (a spec with a [nuisance] table)")
    spec = parse_spec(ds.attrs.get("spec_text", ""), "the result cube's spec")
    if spec.nuisance is None or spec.nuisance.mode != "marginalise":
        raise SigcubeError("checking the integrals needs a sweep that marginalises the nuisance parameters "
                           "(mode = \"marginalise\"); a profile has no integral")
    want, have = ds.attrs.get("dataset_content_sha256", ""), cube.attrs.get("content_sha256", "")
    if want and have != want:
        raise SigcubeError(f"the dataset cube is not the one the sweep read (content sha256 {have[:12] or 'none'}, "
                           f"the sweep's {want[:12]}): name that cube with --cube")
    total = loglike_total(ds)
    if not np.isfinite(total).any():
        raise SigcubeError("the sweep's loglike_total has no finite value: nothing to check")
    at = np.unravel_index(int(np.nanargmax(np.where(np.isfinite(total), total, -np.inf))), total.shape)
    dims = ds["loglike"].dims[:-1]
    point = {d: ds[d].values[i].item() for d, i in zip(dims, at)}
    sigma = point.pop(SCATTER_AXIS, None)
    tau = point.pop(TAU_AXIS, None)
    points = pack(cube, spec.cuts)
    catalogue = Catalogue.from_cube(cube, points)
    params = {**spec.fixed, **point}
    kernel = spec.kernel
    transform = NuisanceTransform(points, catalogue, kernel.required_inputs(kernel.resolve(params)))
    priors = sparc_priors(catalogue, spec.nuisance.priors)
    check = quadrature.check_integrals(kernel, params, transform, priors, spec.nuisance.likelihood(sigma, tau),
                                       nodes=spec.nuisance.nodes)
    flagged = np.flatnonzero(check.flagged)
    rows = [{"galaxy": str(check.galaxy[i]), "log_z": float(check.log_marginal[i]), "change": float(check.change[i]),
             "near_edge": bool(check.near_edge[i]), "refined": float(check.refined[i]),
             "refined_nodes": None if np.isnan(check.refined_nodes[i]) else int(check.refined_nodes[i]),
             "refined_change": float(check.refined_change[i]), "settled": not bool(check.unsettled[i])}
            for i in flagged[np.argsort(-np.abs(check.change[flagged]))]]
    shift = float(np.sum(check.best[flagged] - check.log_marginal[flagged])) if len(flagged) else 0.0
    stored = np.asarray(ds["loglike"].values[at], dtype=float)
    rule = quadrature.choose_nodes(kernel, params, transform, priors, spec.nuisance.likelihood(sigma, tau))
    return {"point": {**point, **({SCATTER_AXIS: sigma} if sigma is not None else {}),
                      **({TAU_AXIS: tau} if tau is not None else {})},
            "method": check.describe(), "objects": int(transform.n_galaxies), "tolerance": check.tolerance,
            "flagged": rows, "unsettled": int(check.unsettled.sum()), "shift": shift,
            "node_count": quadrature.fixed_count_check(stored, spec.nuisance.nodes, rule)}
