"""`sigcube export RESULT --out tree.zarr`: a nuisance sweep's grid posterior, or the population posterior of one of
its parameters, as the ArviZ-conformant ``xarray.DataTree`` of :mod:`sigcube.stats.export` (``posterior``,
``log_likelihood`` per object, ``observed_data``, ``sample_stats``), written to Zarr.

- **Nuisance sweep**: draws of the grid's global parameters (a ``sigma_int`` axis among them when the grid has one)
  with probability = posterior mass under the sweep's global prior (equal mass per grid point); ``log_likelihood``
  is each object's stored ``loglike`` (nuisance marginalised) at the draw.
- **Population** (``population="a0"``): draws of the hyper-parameters (μ, τ) of the τ > 0 model of
  :mod:`sigcube.stats.population` (and the shared axes, when the other axes are marginalised) from its hyper-grid
  posterior, each cell weighted by its exact prior mass; ``log_likelihood`` is each object's
  ln ∫ L_g(u) N(u; μ, τ²) du at the draw — the object's own parameter integrated out, so ``arviz.loo`` leaves out
  one object and predicts it from the population.

A fit result is refused: its parameters are each object's own, and an object's own parameters cannot be left out
by importance sampling (its leave-one-out posterior is its prior), so ``arviz.loo`` on it would mean nothing.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Literal

import numpy as np
import xarray as xr

from sigcube.engines.nuisance_spec import GLOBAL_PRIOR
from sigcube.engines.sweep.result import object_dim
from sigcube.errors import SigcubeError
from sigcube.stats import export
from sigcube.stats import population as pop

CREATED_BY = export.MARKS
"""The root ``created_by`` values that mark a store as an export (only such a store is replaced by ``force``)."""


def sweep_tree(ds: xr.Dataset, *, chains: int = 4, draws: int = 1000, seed: int = 0,
               jitter: bool = False) -> xr.DataTree:
    """The DataTree of a nuisance sweep's grid posterior (module docstring)."""
    _check_sweep(ds)
    group = object_dim(ds)
    ll = ds["loglike"].load()
    return export.to_datatree(ll, _n_points(ds), galaxy_dim=group, prior=GLOBAL_PRIOR,
                              likelihood=_likelihood(ds), chains=chains, draws=draws, seed=seed, jitter=jitter)


def population_tree(ds: xr.Dataset, parameter: str, *, scale: Literal["linear", "log"] = "linear",
                    others: Literal["marginalise", "best"] = "marginalise", tau_prior: pop.TauPrior | None = None,
                    n_mu: int = 40, n_tau: int = 30, chains: int = 4, draws: int = 1000, seed: int = 0
                    ) -> xr.DataTree:
    """The DataTree of the population posterior of ``parameter`` on the nuisance sweep ``ds`` (module docstring)."""
    from sigcube.interfaces.population_report import population_of

    _check_sweep(ds)
    result, at = population_of(ds, parameter, scale=scale, others=others, tau_prior=tau_prior, n_mu=n_mu,
                               n_tau=n_tau)
    ll = population_loglike(result)
    log_prior = (xr.DataArray(np.log(result.prior_mu), dims="mu")
                 + xr.DataArray(np.log(result.prior_tau), dims="tau"))
    lo, hi = result.mu_range
    prior = (f"μ ~ uniform on [{lo:.4g}, {hi:.4g}] ({result.unit}); {result.tau_prior.describe(result.unit)}; "
             "hyper-grid cells at their exact prior mass"
             + (f"; shared axes {', '.join(result.shared)}: {GLOBAL_PRIOR}" if result.shared else "")
             + ("; other axes conditioned on " + ", ".join(f"{k} = {v:.4g}" for k, v in at.items()) if at else ""))
    likelihood = (f"ln ∫ L_g(u) N(u; μ, τ²) du per {result.galaxy_dim}, u = {result.unit}, L_g the sweep's stored "
                  f"likelihood taken linear in u between grid points (exact erf per cell); {_likelihood(ds)}")
    return export.to_datatree(ll, _n_points(ds), galaxy_dim=result.galaxy_dim, log_prior=log_prior, prior=prior,
                              likelihood=likelihood, chains=chains, draws=draws, seed=seed)


def population_loglike(result: pop.Population) -> xr.DataArray:
    """Each object's ln ∫ L_g N(u; μ, τ²) du [nat] on the τ > 0 hyper-grid of ``result``: dims (mu, tau, shared
    axes…, object)."""
    grid = result.grid_loglike  # (shared points, objects, θ points)
    shape = tuple(v.size for v in result.shared.values())
    out = np.empty((result.mu.size, result.tau.size, grid.shape[0], grid.shape[1]))
    for k, rows in enumerate(grid):
        for j, t in enumerate(result.tau):
            out[:, j, k, :] = pop.log_gaussian_integral(rows, result.u, result.mu, float(t))
    out = out.reshape(result.mu.size, result.tau.size, *shape, grid.shape[1])
    coords = {"mu": result.mu, "tau": result.tau, **result.shared, result.galaxy_dim: result.galaxies}
    return xr.DataArray(out, dims=("mu", "tau", *result.shared, result.galaxy_dim), coords=coords,
                        attrs={"units": "nat"})


def write_tree(tree: xr.DataTree, out: str | Path, force: bool = False) -> Path:
    """Write ``tree`` to the Zarr store ``out``; an existing store is replaced only with ``force`` and only when it
    is an earlier export."""
    path = Path(out)
    if path.exists():
        if not force:
            raise SigcubeError(f"{path} exists; pass --force to replace an earlier export, or choose another --out")
        try:
            held = xr.open_datatree(path, engine="zarr").attrs.get("created_by")
        except Exception:  # noqa: BLE001 — anything unreadable is not an export we made
            held = None
        if held not in CREATED_BY:
            raise SigcubeError(f"{path} is not an ArviZ export of sigcube's; --force replaces only those")
        shutil.rmtree(path)
    tree.to_zarr(path)
    return path


def _check_sweep(ds: xr.Dataset) -> None:
    """Refuse a fit result (per-object parameters) and a sweep without ``loglike``, each in one sentence."""
    from sigcube.io.cubes import FIT_KIND

    if ds.attrs.get("sigcube_kind") == FIT_KIND:
        raise export.ExportError("a fit result holds each object's own parameters, which leave-one-out cannot leave "
                                 "out (an object's own posterior without its data is its prior): export a nuisance "
                                 "sweep of those parameters, or its population (--population)")
    if "loglike" not in ds:
        raise export.ExportError("this result cube has no loglike: only a nuisance sweep (a spec with a [nuisance] "
                                 "table) has a grid posterior to export")


def _n_points(ds: xr.Dataset) -> np.ndarray:
    group = object_dim(ds)
    if "n_points" in ds:
        return np.asarray(ds["n_points"].values)
    return np.full(ds.sizes[group], -1)


def _likelihood(ds: xr.Dataset) -> str:
    """The sweep's likelihood and nuisance model in words (stored with its ``loglike``)."""
    text = ds["loglike"].attrs.get("nuisance", "")
    return " ".join(line for line in text.split("\n") if line) or "per-object ln L as stored"


def describe_export(tree: xr.DataTree, out: Path | None = None) -> dict[str, Any]:
    """What an export holds, as plain data (for ``sigcube export --json`` and its lines)."""
    post = tree["posterior"]
    return {"out": str(out) if out is not None else None, "groups": [g.lstrip("/") for g in tree.groups[1:]],
            "chains": int(post.sizes["chain"]), "draws": int(post.sizes["draw"]),
            "variables": [str(v) for v in post.data_vars], "seed": int(tree.attrs["seed"]),
            "describe": export.describe(tree)}
