"""A grid posterior with per-galaxy log-likelihoods as an ArviZ-conformant ``xarray.DataTree``.

The tree holds ArviZ's InferenceData groups, so ArviZ reads it with no sigcube code (arviz ≥ 0.23)::

    idata = arviz.from_datatree(dt)                   # or arviz.InferenceData.from_datatree
    arviz.loo(idata); arviz.compare({"a": idata_a, "b": idata_b})
    dt.to_zarr("run.zarr")                            # later: arviz.from_datatree(xarray.open_datatree("run.zarr"))

- ``posterior``: one variable per grid axis, dims (chain, draw). The draws are *independent* draws of grid points
  with probability equal to their posterior mass (prior mass × Π_g L_g, normalised), from
  ``numpy.random.default_rng(seed)``; chains are consecutive blocks of them (so R̂ ≈ 1 and ESS ≈ the number of
  draws by construction). With ``jitter`` each draw is then moved uniformly within its grid cell (edges halfway
  between neighbours, half a step beyond the ends, in log on a geometric axis: the cells of
  :func:`sigcube.stats.posterior.cell_edges`), i.e. drawn from the piecewise-constant posterior the sweep's
  credible intervals assume; without it the draws sit on the grid points.
- ``log_likelihood``: ln L_g at each draw [nat], one variable (``var_name``) with dims (chain, draw, galaxy), so
  ``arviz.loo`` leaves out one galaxy at a time. A jittered draw carries its cell's grid-point value: ln L is
  constant over a cell under the same piecewise-constant assumption. Without jitter ``arviz.loo`` estimates (by
  Pareto-smoothed importance sampling) exactly the ELPD that :func:`sigcube.stats.logo.logo` computes on the grid.
- ``observed_data``: the galaxy names (coordinate), their number of data points ``n_points``, and any other
  per-galaxy identifiers given.
- ``sample_stats``: ``lp``, ln prior + Σ_g ln L at the draw (the unnormalised log posterior); the usual sampler
  statistics (divergences, step size, tree depth) mean nothing for independent grid draws and are left out.

Only global grid axes are exported: per-galaxy parameters must be integrated out first (importance sampling cannot
leave a galaxy's own parameters behind; :mod:`sigcube.stats.logo` computes that case exactly).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from sigcube.errors import SigcubeError
from sigcube.stats import posterior

EQUAL_MASS = "equal mass per grid point"
GRID_MARK = "sigcube.stats.export.to_datatree"
"""The root ``created_by`` of a grid posterior's tree (:func:`to_datatree`)."""
DRAWS_MARK = "sigcube.stats.export.draws_to_datatree"
"""The root ``created_by`` of per-galaxy posterior draws' tree (:func:`draws_to_datatree`)."""
MARKS = (GRID_MARK, DRAWS_MARK)
"""The ``created_by`` of every tree sigcube exports."""


class ExportError(SigcubeError):
    """A grid posterior that cannot be exported: missing axes, NaN, no finite posterior mass, bad draw counts."""


def to_datatree(loglike: xr.DataArray, n_points: Sequence[int] | np.ndarray, *, galaxy_dim: str = "galaxy",
                observed: Mapping[str, Sequence[Any] | np.ndarray] | None = None,
                log_prior: xr.DataArray | None = None, prior: str = EQUAL_MASS, likelihood: str = "",
                chains: int = 4, draws: int = 1000, seed: int = 0, jitter: bool = False,
                var_name: str = "obs") -> xr.DataTree:
    """The DataTree of the module docstring for per-galaxy ``loglike`` [nat] over a grid of global parameters (dims:
    the grid axes with numeric coordinates, and ``galaxy_dim``).

    ``n_points``: each galaxy's number of data points; ``observed``: further per-galaxy identifiers for
    ``observed_data``; ``log_prior``: ln prior over (some of) the grid axes (default equal mass per grid point),
    stated in words by ``prior``; ``likelihood``: the likelihood in words (stored in the attributes); ``chains`` ×
    ``draws`` independent draws from ``numpy.random.default_rng(seed)`` (grid points first, then, with ``jitter``,
    one uniform per axis in axis order).
    """
    ll, axes, names = _check(loglike, galaxy_dim)
    if chains < 1 or draws < 1:
        raise ExportError(f"chains and draws must be positive, not {chains} × {draws}")
    n_g = names.size
    flat = ll.transpose(*axes, galaxy_dim).values.reshape(-1, n_g)
    lp = _log_prior(log_prior, ll.isel({galaxy_dim: 0}, drop=True), axes)
    with np.errstate(invalid="ignore"):
        log_post = lp + flat.sum(axis=1)
    if not np.isfinite(log_post).any():
        raise ExportError("no grid point has finite posterior mass (every point has some ln L or ln prior = −inf)")
    mass = np.exp(log_post - log_post[np.isfinite(log_post)].max())
    rng = np.random.default_rng(seed)
    pick = rng.choice(mass.size, size=chains * draws, p=mass / mass.sum())
    index = np.unravel_index(pick, tuple(v.size for v in axes.values()))
    values = {name: _draw_axis(grid, k, rng if jitter else None) for (name, grid), k in zip(axes.items(), index)}

    shape = (chains, draws)
    chain_draw = {"chain": np.arange(chains), "draw": np.arange(draws)}
    galaxy = {galaxy_dim: names}
    attrs = _attrs(seed, prior, likelihood, jitter, mass.size, var_name, galaxy_dim)
    post = xr.Dataset({name: (("chain", "draw"), v.reshape(shape), dict(loglike[name].attrs))
                       for name, v in values.items()}, coords=chain_draw, attrs=attrs)
    log_like = xr.Dataset({var_name: (("chain", "draw", galaxy_dim), flat[pick].reshape(*shape, n_g),
                                      {"units": "nat", "long_name": f"ln L of each {galaxy_dim}'s data at the draw"})},
                          coords={**chain_draw, **galaxy}, attrs=attrs)
    stats = xr.Dataset({"lp": (("chain", "draw"), log_post[pick].reshape(shape),
                               {"units": "nat", "long_name": "ln prior + Σ ln L at the draw (unnormalised)"})},
                       coords=chain_draw, attrs=attrs)
    obs = xr.Dataset({"n_points": (galaxy_dim, _per_galaxy("n_points", n_points, n_g))}, coords=galaxy, attrs=attrs)
    for key, column in (observed or {}).items():
        obs[key] = (galaxy_dim, _per_galaxy(key, column, n_g))
    tree = xr.DataTree.from_dict({"posterior": post, "log_likelihood": log_like, "sample_stats": stats,
                                  "observed_data": obs})
    tree.attrs = dict(attrs)
    return tree


def draws_to_datatree(values: Mapping[str, np.ndarray], galaxies: Sequence[str], *, chains: int = 4,
                      galaxy_dim: str = "galaxy", units: Mapping[str, str] | None = None,
                      attrs: Mapping[str, Any] | None = None) -> xr.DataTree:
    """Per-galaxy posterior draws as an ArviZ tree: ``values`` maps each parameter to its draws (G, N) — galaxy by
    draw, NaN in the rows of galaxies without that parameter (Υ_bul without a bulge) — and ``posterior`` holds each
    with dims (chain, draw, ``galaxy_dim``), the N draws cut into ``chains`` consecutive blocks (N a multiple of
    ``chains``). ``units`` by parameter; ``attrs`` (how the draws were made, the prior, the likelihood, in words) go
    on the root and the group with ``created_by`` = :data:`DRAWS_MARK`."""
    names = np.asarray(list(galaxies), dtype=np.dtypes.StringDType())
    if not values:
        raise ExportError("no parameter's draws to export")
    shapes = {np.shape(v) for v in values.values()}
    if len(shapes) != 1 or len(next(iter(shapes))) != 2 or next(iter(shapes))[0] != names.size:
        raise ExportError(f"every parameter needs draws of shape (galaxies = {names.size}, draws); got "
                          + ", ".join(f"{k} {np.shape(v)}" for k, v in values.items()))
    n = next(iter(shapes))[1]
    if chains < 1 or n == 0 or n % chains:
        raise ExportError(f"{n} draws per galaxy cannot be cut into {chains} equal chains")
    per = n // chains
    meta = {**dict(attrs or {}), "created_by": DRAWS_MARK, "chains": f"consecutive blocks of {per} draws"}
    post = xr.Dataset(
        {name: (("chain", "draw", galaxy_dim), np.asarray(v, dtype=float).T.reshape(chains, per, names.size),
                {"units": (units or {}).get(name, "")}) for name, v in values.items()},
        coords={"chain": np.arange(chains), "draw": np.arange(per), galaxy_dim: names}, attrs=meta)
    tree = xr.DataTree.from_dict({"posterior": post})
    tree.attrs = dict(meta)
    return tree


def describe(tree: xr.DataTree) -> list[str]:
    """Report lines of an exported tree: how the draws were made, the prior, the likelihood, the groups."""
    a = tree.attrs
    post = tree["posterior"]
    if a.get("created_by") == DRAWS_MARK:
        return [f"{post.sizes['chain']} chains × {post.sizes['draw']} draws of {', '.join(map(str, post.data_vars))} "
                f"for each of {post.sizes['galaxy']} galaxies: {a.get('sampling', '')}",
                f"prior: {a.get('prior', '')}", f"likelihood: {a.get('likelihood', '')}"]
    return [f"{post.sizes['chain']} chains × {post.sizes['draw']} draws of {', '.join(map(str, post.data_vars))}: "
            f"{a['sampling']} (seed {a['seed']})",
            f"jitter: {a['jitter']}",
            f"prior: {a['prior']}",
            f"likelihood: {a['likelihood']}",
            f"log_likelihood/{a['log_likelihood_variable']}: one ln L per draw and galaxy (arviz.loo leaves one galaxy "
            "out at a time); sample_stats/lp: ln prior + Σ ln L at the draw"]


def to_inference_data(loglike: xr.DataArray, n_points: Sequence[int] | np.ndarray, **kwargs: Any) -> Any:
    """:func:`to_datatree` read by ArviZ (``arviz.from_datatree``; arviz is imported here, only when called)."""
    import arviz

    return arviz.from_datatree(to_datatree(loglike, n_points, **kwargs))


def _check(loglike: xr.DataArray, galaxy_dim: str) -> tuple[xr.DataArray, dict[str, np.ndarray], np.ndarray]:
    """``loglike`` checked: its grid axes (numeric, in order) and the galaxy names (StringDType, as sigcube stores)."""
    if not isinstance(loglike, xr.DataArray):
        raise ExportError("loglike must be an xarray.DataArray with the grid axes and the galaxy axis as dims")
    if galaxy_dim not in loglike.dims:
        raise ExportError(f"the galaxy axis {galaxy_dim!r} is not a dimension of loglike "
                          f"({', '.join(map(str, loglike.dims))})")
    axes = {}
    for d in (str(d) for d in loglike.dims if d != galaxy_dim):
        if d not in loglike.coords or not np.issubdtype(loglike[d].dtype, np.number):
            raise ExportError(f"the grid axis {d!r} needs numeric coordinates")
        axes[d] = np.asarray(loglike[d].values, dtype=float)
    if not axes:
        raise ExportError("loglike has no grid axis to draw from")
    values = np.asarray(loglike.values, dtype=float)
    if np.isnan(values).any() or np.isposinf(values).any():
        raise ExportError("loglike holds NaN or +inf (an unfinished or failed sweep?); only finite values and −inf "
                          "(zero likelihood) are allowed")
    n_g = loglike.sizes[galaxy_dim]
    names = loglike[galaxy_dim].values if galaxy_dim in loglike.coords else np.arange(n_g).astype(str)
    return loglike.astype(float), axes, np.asarray(names, dtype=np.dtypes.StringDType())


def _log_prior(log_prior: xr.DataArray | None, template: xr.DataArray, axes: Mapping[str, np.ndarray]) -> np.ndarray:
    """ln prior per flattened grid point (zeros: equal mass per grid point)."""
    if log_prior is None:
        return np.zeros(template.size)
    extra = set(log_prior.dims) - set(axes)
    if extra:
        raise ExportError(f"log_prior has dims {', '.join(map(str, extra))} that are no grid axis")
    lp = (xr.zeros_like(template) + log_prior).transpose(*axes).values.reshape(-1)
    if np.isnan(lp).any() or np.isposinf(lp).any():
        raise ExportError("log_prior holds NaN or +inf")
    return lp


def _draw_axis(grid: np.ndarray, index: np.ndarray, rng: np.random.Generator | None) -> np.ndarray:
    """The drawn grid values of one axis; with ``rng``, moved uniformly within their cells (in log on a geometric
    axis, whose cells :func:`~sigcube.stats.posterior.cell_edges` makes geometric)."""
    if rng is None:
        return grid[index]
    edges = posterior.cell_edges(grid)
    lo, hi = edges[index], edges[index + 1]
    t = rng.uniform(size=index.size)
    geometric = grid.size > 2 and np.allclose(edges[1:-1], np.sqrt(grid[1:] * grid[:-1])) and not np.allclose(
        edges[1:-1], 0.5 * (grid[1:] + grid[:-1]))
    return lo * (hi / lo) ** t if geometric else lo + t * (hi - lo)


def _per_galaxy(name: str, column: Sequence[Any] | np.ndarray, n_g: int) -> np.ndarray:
    """One per-galaxy column of ``observed_data`` (text as StringDType)."""
    a = np.asarray(column)
    if a.shape != (n_g,):
        raise ExportError(f"observed {name!r} has shape {a.shape}; it needs one value per galaxy ({n_g})")
    return a.astype(np.dtypes.StringDType()) if a.dtype.kind in "UO" else a


def _attrs(seed: int, prior: str, likelihood: str, jitter: bool, n_grid: int, var_name: str,
           galaxy_dim: str) -> dict[str, Any]:
    """The attributes every group and the root carry: how the draws were made, the prior, the likelihood."""
    return {
        "inference_library": "sigcube (grid posterior)",
        "created_by": GRID_MARK,
        "sampling": f"independent draws of the {n_grid} grid points with probability = posterior mass, "
                    "numpy.random.default_rng(seed); chains are consecutive blocks of draws",
        "seed": int(seed),
        "jitter": ("uniform within each grid cell (log-uniform on a geometric axis); ln L is the cell's grid-point "
                   "value" if jitter else "none: draws sit on grid points"),
        "prior": prior,
        "likelihood": likelihood or f"per-{galaxy_dim} ln L [nat] as stored on the grid; every {galaxy_dim} "
                                    "independent of the others given the parameters",
        "log_likelihood_variable": var_name,
    }
