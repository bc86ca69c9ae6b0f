"""Exact leave-one-galaxy-out (LOGO) predictive comparison on a grid posterior.

**Global parameters.** θ lives on a grid with prior masses π(θ) (equal mass per grid point unless ``log_prior`` is
given) and each galaxy g has ln L_g(θ) [nat]; galaxies are independent given θ. The leave-one-galaxy-out predictive
density of g's data is computed exactly on the grid — no importance sampling, no Pareto smoothing:

    elpd_g = ln p(D_g | D_{−g}) = LSE_θ(ln π + Σ_h ln L_h) − LSE_θ(ln π + Σ_{h≠g} ln L_h),

LSE the log-sum-exp over the grid (the normalisation of π cancels). A grid point where some ln L_h = −inf keeps
zero mass in every sum that includes h and none other.

**Per-galaxy parameters.** Axes listed in ``per_galaxy`` are each galaxy's own (ψ_g, e.g. a halo per galaxy), with a
prior normalised over those axes for every galaxy (``log_prior_per_galaxy``; equal mass per grid point by default).
They are integrated out galaxy by galaxy first, L_g(θ) = Σ_ψ π(ψ) L_g(θ, ψ); leaving g out leaves ψ_g at its prior,
so the formula above applies to L_g(θ). Without global axes elpd_g = ln Σ_ψ π(ψ) L_g(ψ): **the galaxy's own
evidence**, and the comparison is a product of per-galaxy evidences (the model predicts a new galaxy from its prior).

**Totals.** ELPD_LOGO = Σ_g elpd_g with SE = √(n·Var_g(elpd_g)) (population variance, as Vehtari, Gelman & Gabry 2017
and ArviZ), which treats the galaxies as exchangeable draws; a difference between two models is judged by the SE of
the paired per-galaxy differences, √(n·Var_g(Δelpd_g)), not by the two SEs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr
from scipy.special import logsumexp

from sigcube.errors import SigcubeError

EQUAL_MASS = "equal mass per grid point"


class LogoError(SigcubeError):
    """A leave-one-galaxy-out computation that cannot run: missing axes, NaN, a galaxy the others rule out."""


@dataclass(frozen=True)
class Logo:
    """One model's exact leave-one-galaxy-out result: ``elpd`` [nat] per galaxy (an xr.DataArray over the galaxy
    dimension) and how it was computed."""

    name: str
    elpd: xr.DataArray
    global_axes: tuple[str, ...]
    per_galaxy_axes: tuple[str, ...]
    prior: str

    @property
    def n(self) -> int:
        """Number of galaxies."""
        return int(self.elpd.size)

    @property
    def total(self) -> float:
        """ELPD_LOGO = Σ_g elpd_g [nat]."""
        return float(self.elpd.sum())

    @property
    def se(self) -> float:
        """√(n·Var_g(elpd_g)) [nat] (population variance)."""
        return standard_error(self.elpd.values)

    def describe(self) -> list[str]:
        """Report lines: the number, what it is, the prior and the assumptions."""
        g = self.elpd.dims[0]
        lines = [f"{self.name}: ELPD_LOGO = {self.total:.2f} ± {self.se:.2f} nat over n = {self.n} (dim {g}; exact "
                 f"leave-one-{g}-out on the grid; SE = √(n·Var elpd_g), each {g} an exchangeable draw)"]
        if self.global_axes:
            lines.append(f"{self.name}: global axes {', '.join(self.global_axes)} (prior: {self.prior}); elpd_g = "
                         f"ln p(D_g | D_-g): the posterior from every other {g} predicting {g} g")
        if self.per_galaxy_axes:
            lines.append(f"{self.name}: per-{g} axes {', '.join(self.per_galaxy_axes)} integrated over their prior "
                         f"{g} by {g}" + ("" if self.global_axes else
                                          f": elpd_g is each {g}'s own evidence ln ∫ L_g π"))
        lines.append(f"{self.name}: every {g} independent of the others given the global parameters")
        return lines


def standard_error(values: np.ndarray) -> float:
    """√(n·Var(values)), the population variance: the SE of a sum of n exchangeable terms."""
    values = np.asarray(values, dtype=float)
    return float(np.sqrt(values.size * np.var(values)))


def logo(loglike: xr.DataArray, *, name: str = "model", galaxy_dim: str = "galaxy",
         per_galaxy: Sequence[str] = (), log_prior: xr.DataArray | None = None,
         log_prior_per_galaxy: xr.DataArray | None = None, prior: str = EQUAL_MASS) -> Logo:
    """Exact LOGO of ``loglike`` [nat] (dims: grid axes and ``galaxy_dim``), as the module docstring states.

    ``per_galaxy``: the grid axes that are each galaxy's own parameters; ``log_prior``: ln prior over (some of) the
    global axes (default equal mass per grid point; its normalisation cancels); ``log_prior_per_galaxy``: ln prior
    over (some of) the per-galaxy axes, optionally varying with ``galaxy_dim``, normalised here for every galaxy;
    ``prior``: the global prior in words, for :meth:`Logo.describe`.
    """
    ll = _loglike_per_galaxy(loglike, galaxy_dim, tuple(per_galaxy), log_prior_per_galaxy)
    global_axes = tuple(d for d in ll.dims if d != galaxy_dim)
    flat = ll.transpose(*global_axes, galaxy_dim).values.reshape(-1, ll.sizes[galaxy_dim])
    if global_axes:
        lp = _log_prior(log_prior, ll.isel({galaxy_dim: 0}, drop=True)).reshape(-1)
        elpd = loo_exact(flat, lp)
    else:
        if log_prior is not None:
            raise LogoError("log_prior is over global axes, and this model has none (use log_prior_per_galaxy)")
        elpd = flat[0]
    bad = ~np.isfinite(elpd)
    if bad.any():
        raise LogoError(f"{galaxy_dim} {ll[galaxy_dim].values[bad][0] if galaxy_dim in ll.coords else np.argmax(bad)} "
                        "has zero predictive density: the other galaxies' posterior (or its own prior) puts no mass "
                        "where its likelihood is nonzero")
    coords = {galaxy_dim: ll[galaxy_dim].values} if galaxy_dim in ll.coords else {}
    return Logo(name, xr.DataArray(elpd, dims=(galaxy_dim,), coords=coords, name="elpd",
                                   attrs={"units": "nat", "long_name": "ln p(D_g | D_-g)"}),
                global_axes, tuple(per_galaxy), prior)


def loo_exact(loglike: np.ndarray, log_prior: np.ndarray | None = None) -> np.ndarray:
    """elpd_g = LSE(ln π + ln L_tot) − LSE(ln π + ln L_tot − ln L_g) for ``loglike`` shaped (grid points, galaxies),
    with −inf entries handled exactly (a grid point excluded by galaxy h is excluded from every sum that includes h)."""
    ll = np.asarray(loglike, dtype=float)
    lp = np.zeros(ll.shape[0]) if log_prior is None else np.asarray(log_prior, dtype=float)
    finite = np.isfinite(ll)
    part = np.where(finite, ll, 0.0)
    total = part.sum(axis=1)
    dead = (~finite).sum(axis=1)
    with np.errstate(invalid="ignore"):
        others = np.where(dead[:, None] - ~finite > 0, -np.inf, total[:, None] - part)
    log_all = logsumexp(np.where(dead > 0, -np.inf, total) + lp)
    with np.errstate(divide="ignore", invalid="ignore"):
        return log_all - logsumexp(others + lp[:, None], axis=0)


def _loglike_per_galaxy(loglike: xr.DataArray, galaxy_dim: str, per_galaxy: tuple[str, ...],
                        log_prior: xr.DataArray | None) -> xr.DataArray:
    """``loglike`` checked, with the per-galaxy axes integrated over their (per-galaxy normalised) prior."""
    if not isinstance(loglike, xr.DataArray):
        raise LogoError("loglike must be an xarray.DataArray with the grid axes and the galaxy axis as dims")
    dims = [str(d) for d in loglike.dims]
    missing = [d for d in (galaxy_dim, *per_galaxy) if d not in dims]
    if missing:
        raise LogoError(f"{', '.join(map(repr, missing))} not among loglike's dimensions ({', '.join(dims)})")
    if galaxy_dim in per_galaxy:
        raise LogoError("the galaxy axis cannot be a per-galaxy parameter axis")
    values = np.asarray(loglike.values, dtype=float)
    if np.isnan(values).any() or np.isposinf(values).any():
        raise LogoError("loglike holds NaN or +inf (an unfinished or failed sweep?); only finite values and −inf "
                        "(zero likelihood) are allowed")
    ll = loglike.astype(float)
    if not per_galaxy:
        if log_prior is not None:
            raise LogoError("log_prior_per_galaxy needs per_galaxy axes")
        return ll
    lp = xr.zeros_like(ll.isel({d: 0 for d in dims if d not in per_galaxy}, drop=True))
    if log_prior is not None:
        extra = set(log_prior.dims) - {*per_galaxy, galaxy_dim}
        if extra:
            raise LogoError(f"log_prior_per_galaxy has dims {', '.join(map(str, extra))} that are no per-galaxy axis")
        lp = lp + log_prior
    lp = lp - _lse(lp, per_galaxy)
    return _lse(ll + lp, per_galaxy)


def _lse(a: xr.DataArray, dims: Sequence[str]) -> xr.DataArray:
    """Log-sum-exp of ``a`` over ``dims``."""
    return xr.apply_ufunc(lambda v: logsumexp(v.reshape(*v.shape[:-len(dims)], -1), axis=-1), a,
                          input_core_dims=[list(dims)])


def _log_prior(log_prior: xr.DataArray | None, template: xr.DataArray) -> np.ndarray:
    """ln prior over the global grid, shaped like ``template`` (zeros: equal mass per grid point)."""
    if log_prior is None:
        return np.zeros(template.shape)
    extra = set(log_prior.dims) - set(template.dims)
    if extra:
        raise LogoError(f"log_prior has dims {', '.join(map(str, extra))} that are no global grid axis")
    lp = (xr.zeros_like(template) + log_prior).transpose(*template.dims).values
    if np.isnan(lp).any() or np.isposinf(lp).any():
        raise LogoError("log_prior holds NaN or +inf")
    return lp


@dataclass(frozen=True)
class Comparison:
    """Models ranked by ELPD_LOGO. ``table`` (dim ``model``, best first): ``elpd``, ``se``, ``elpd_diff`` (best − this
    model, ≥ 0), ``dse`` (SE of the paired per-galaxy differences), ``z`` = elpd_diff/dse; ``per_galaxy`` (dims
    model, galaxy): ``elpd`` and ``elpd_diff`` (best − this model, per galaxy: positive where the best predicts the
    galaxy better)."""

    table: xr.Dataset
    per_galaxy: xr.Dataset
    describes: tuple[str, ...]

    @property
    def best(self) -> str:
        """The model with the largest ELPD_LOGO."""
        return str(self.table["model"].values[0])

    def drivers(self, model: str, k: int = 5) -> xr.Dataset:
        """The ``k`` galaxies whose elpd differs most from the best model's, by |difference| (largest first)."""
        if model not in self.table["model"].values:
            raise LogoError(f"no model {model!r}; compared: {', '.join(map(str, self.table['model'].values))}")
        diff = self.per_galaxy["elpd_diff"].sel(model=model)
        order = np.argsort(-np.abs(diff.values), kind="stable")[:k]
        return self.per_galaxy.sel(model=[self.best, model]).isel({diff.dims[0]: order})

    def describe(self) -> list[str]:
        """Report lines: each model's ELPD ± SE and difference to the best ± its paired SE, then each model's lines."""
        lines = []
        for row in self.table.to_dataframe().itertuples():
            line = f"{row.Index}: ELPD_LOGO = {row.elpd:.2f} ± {row.se:.2f} nat"
            if row.Index != self.best:
                line += (f"; {row.elpd_diff:.2f} ± {row.dse:.2f} nat below {self.best} (z = {row.z:.1f}; paired SE "
                         f"of the per-galaxy differences)")
                top = self.drivers(str(row.Index), 3)["elpd_diff"].sel(model=str(row.Index))
                line += "; largest per-galaxy differences: " + ", ".join(
                    f"{g} {d:+.1f}" for g, d in zip(top[top.dims[0]].values, top.values))
            lines.append(line)
        return lines + list(self.describes)


def compare(models: Mapping[str, Logo] | Sequence[Logo]) -> Comparison:
    """Rank models by ELPD_LOGO (their galaxies aligned by name; the sets must agree) and give each its difference to
    the best with the SE of the paired per-galaxy differences, and the per-galaxy table."""
    items = dict(models) if isinstance(models, Mapping) else {m.name: m for m in models}
    if len(items) < 2:
        raise LogoError("compare needs at least two models")
    first = next(iter(items.values())).elpd
    g = first.dims[0]
    for name, m in items.items():
        if m.elpd.dims[0] != g or m.n != first.size or (g in first.coords and not np.array_equal(
                np.sort(m.elpd[g].values), np.sort(first[g].values))):
            raise LogoError(f"model {name!r} does not hold the same {g} entries as {next(iter(items))!r}: compare "
                            "models on the same galaxies")
    elpd = xr.concat([m.elpd.reindex_like(first) if g in first.coords else m.elpd for m in items.values()],
                     dim=xr.Variable("model", list(items)))
    totals = elpd.sum(g)
    order = list(np.asarray(list(items))[np.argsort(-totals.values, kind="stable")])
    elpd = elpd.sel(model=order)
    diff = elpd.sel(model=order[0]) - elpd
    dse = xr.DataArray([standard_error(diff.sel(model=m).values) for m in order], dims="model")
    table = xr.Dataset({"elpd": elpd.sum(g), "se": xr.DataArray([items[m].se for m in order], dims="model"),
                        "elpd_diff": diff.sum(g), "dse": dse}).assign_coords(model=order)
    with np.errstate(divide="ignore", invalid="ignore"):
        table["z"] = xr.where(table["dse"] > 0, table["elpd_diff"] / table["dse"], 0.0)
    per = xr.Dataset({"elpd": elpd, "elpd_diff": diff})
    return Comparison(table, per, tuple(line for m in order for line in items[m].describe()))
