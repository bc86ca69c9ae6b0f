"""`sigcube report population RESULT --param P`: is the swept parameter P universal, or does it vary between the
objects of a nuisance sweep? The exact hierarchical model of :mod:`sigcube.stats.population` on the result cube's
per-object ``loglike`` (each object's ln ∫ L·prior over its nuisance parameters, or the profile, as the cube says).

The other grid axes (a ``sigma_int`` axis among them) are either **marginalised** — one value shared by every
object, under the sweep's own global prior (equal mass per grid point), the default — or **conditioned** on the grid
point of the largest Σ ln L (``others="best"``). Every prior, the likelihood, the error model and the count of
fitted parameters are in the report.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import xarray as xr
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sigcube.engines.nuisance_spec import GLOBAL_PRIOR
from sigcube.engines.sweep.nuisance import loglike_total
from sigcube.engines.sweep.result import object_dim, parameter_dims
from sigcube.errors import SigcubeError
from sigcube.stats import population as pop
from sigcube.stats.posterior import LEVELS

OTHERS = ("marginalise", "best")
"""How the grid axes other than the population's parameter enter (module docstring)."""
TOP = 10
"""Objects listed as the furthest from the population mean (by their own estimate, in their own sd)."""

class PopulationReportError(SigcubeError):
    """A result cube the population question cannot be asked of: no loglike, an unknown parameter, a switch axis."""


def population_loglike(ds: xr.Dataset, parameter: str, others: Literal["marginalise", "best"] = "marginalise"
                       ) -> tuple[xr.DataArray, dict[str, float]]:
    """The cube's per-object ``loglike`` over ``parameter`` (and, marginalising, the other axes), with the other axes'
    values it was conditioned on (``others="best"``: the grid point of the largest Σ_objects ln L; else empty)."""
    if "loglike" not in ds:
        raise PopulationReportError("this result cube has no loglike: the population question needs a nuisance sweep "
                                    "(a spec with a [nuisance] table)")
    if others not in OTHERS:
        raise PopulationReportError(f"others must be one of {', '.join(OTHERS)}, not {others!r}")
    dims = parameter_dims(ds)
    if parameter not in dims:
        raise PopulationReportError(f"{parameter!r} is not a grid axis of this sweep; its axes are {', '.join(dims)}")
    for d in dims:
        if not np.issubdtype(ds[d].dtype, np.number):
            raise PopulationReportError(f"the grid axis {d!r} is a switch; the population analysis needs numeric axes "
                                        f"(sweep one switch value at a time)")
    ll = ds["loglike"]
    rest = [d for d in dims if d != parameter]
    if others == "best" and rest:
        total = loglike_total(ds)
        best = np.unravel_index(int(np.nanargmax(total)), total.shape)
        at = {d: float(ds[d].values[i]) for d, i in zip(dims, best) if d != parameter}
        ll = ll.isel({d: i for d, i in zip(dims, best) if d != parameter})
        return ll.load(), at
    return ll.load(), {}


def population_of(ds: xr.Dataset, parameter: str, *, scale: Literal["linear", "log"] = "linear",
                  others: Literal["marginalise", "best"] = "marginalise", tau_prior: pop.TauPrior | None = None,
                  mu_range: tuple[float, float] | None = None, prior_zero: float = 0.0, n_mu: int = 40,
                  n_tau: int = 30) -> tuple[pop.Population, dict[str, float]]:
    """:func:`sigcube.stats.population.population` on a result cube (its warnings kept in ``Population.notes``, not
    emitted), and the values the other axes were conditioned on (empty when marginalised)."""
    ll, at = population_loglike(ds, parameter, others)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pop.PopulationWarning)
        result = pop.population(ll, parameter, scale=scale, galaxy_dim=object_dim(ds), mu_range=mu_range,
                                tau_prior=tau_prior, prior_zero=prior_zero, n_mu=n_mu, n_tau=n_tau)
    return result, at


def _marginal(m: Any, back: bool) -> dict[str, Any]:
    """Mean, sd and credible intervals of a marginal (and, for a log10 population, the intervals in θ)."""
    out = {"mean": m.mean, "sd": m.sd, **{f"ci{int(round(100 * lv))}": list(m.interval(lv)) for lv in LEVELS}}
    if back:
        out["theta"] = {"median": float(10 ** m.quantile(0.5)),
                        **{f"ci{int(round(100 * lv))}": [10 ** v for v in m.interval(lv)] for lv in LEVELS}}
    return out


def population_report(ds: xr.Dataset, parameter: str, *, scale: Literal["linear", "log"] = "linear",
                      others: Literal["marginalise", "best"] = "marginalise", tau_prior: pop.TauPrior | None = None,
                      mu_range: tuple[float, float] | None = None, prior_zero: float = 0.0, n_mu: int = 40,
                      n_tau: int = 30, literature: Sequence[Mapping[str, str]] = ()) -> dict[str, Any]:
    """The population report of ``parameter`` on the nuisance sweep ``ds`` (module docstring), as plain data, with
    the published answers ``literature`` to the same question (``who``, ``finding``) set beside it."""
    result, at = population_of(ds, parameter, scale=scale, others=others, tau_prior=tau_prior, mu_range=mu_range,
                               prior_zero=prior_zero, n_mu=n_mu, n_tau=n_tau)
    group = object_dim(ds)
    n_objects = int(ds.sizes[group])
    n_points = int(ds["n_points"].sum()) if "n_points" in ds else None
    attrs = ds["loglike"].attrs
    nuisance = [n for n in attrs.get("nuisance_parameters", "").split(",") if n]
    mode = attrs.get("nuisance_mode", "marginalise")
    tau = result.marginal("tau")
    log = scale == "log"
    est = result.galaxy_estimates
    mu_mean = result.marginal("mu").mean
    pull = (est["own_mean"].values - mu_mean) / np.where(est["own_sd"].values > 0, est["own_sd"].values, np.nan)
    order = np.argsort(-np.nan_to_num(np.abs(pull), nan=-1.0), kind="stable")[:TOP]
    shared = list(result.shared)
    kernel = ds.attrs.get("kernel", "")
    return {
        "sweep": ds.attrs.get("sweep_name", ""),
        "kernel": kernel,
        "parameter": parameter,
        "scale": scale,
        "unit": result.unit,
        "others": {"mode": others, "axes": [d for d in parameter_dims(ds) if d != parameter], "shared": shared,
                   "at": at,
                   "how": ("conditioned on the grid point of the largest Σ ln L" if at else
                           f"marginalised: one value shared by every {group}, global prior {GLOBAL_PRIOR}"
                           if shared else "none: the sweep has no other axis")},
        "grid": {"points": int(result.u.size), "range": [float(result.u[0]), float(result.u[-1])],
                 "step_min": float(np.min(np.diff(result.u))), "step_max": float(np.max(np.diff(result.u)))},
        "objects": n_objects,
        "points": n_points,
        "nuisance": {"mode": mode, "parameters": nuisance, "model": attrs.get("nuisance", "").split("\n")},
        "likelihood_note": ("each object's ln L_g is its marginal likelihood (nuisance integrated under its prior)"
                            if mode == "marginalise" else
                            "each object's ln L_g is its profile: max over the nuisance of ln L + ln prior (not a "
                            "marginal likelihood; the evidences are then approximate)"),
        "fitted": {"hyper_parameters": 2, "shared_axes": len(shared), "per_object_integrated": 1 + len(nuisance),
                   "statement": f"μ and τ, {len(shared)} shared grid axes marginalised, and per {group} its own "
                                f"{result.unit} plus {len(nuisance)} nuisance parameters integrated out "
                                f"({n_objects} × {1 + len(nuisance)})"},
        "mu_prior": list(result.mu_range),
        "tau_prior": {"kind": result.tau_prior.kind, "scale": result.tau_prior.scale, "upper": result.tau_prior.upper,
                      "describe": result.tau_prior.describe(result.unit)},
        "prior_zero": result.prior_zero,
        "hyper_grid": {"n_mu": int(result.mu.size), "n_tau": int(result.tau.size), "passes": result.passes,
                       "excluded": result.excluded, "mu": [float(result.mu_edges[0]), float(result.mu_edges[-1])],
                       "tau": [float(result.tau_edges[0]), float(result.tau_edges[-1])]},
        "mu": _marginal(result.marginal("mu"), log),
        "mu_universal": _marginal(result.marginal("mu", model="zero"), log),
        "tau": {"mean": tau.mean, "sd": tau.sd, **{f"ci{int(round(100 * lv))}": list(tau.interval(lv))
                                                   for lv in LEVELS},
                "upper95": tau.upper_limit(0.95), "atom": tau.atom},
        "log_evidence_tau0": result.log_evidence_zero,
        "log_evidence_tau_pos": result.log_evidence_spread,
        "ln_bayes_factor": result.ln_bayes_factor,
        "prob_tau_zero": result.prob_tau_zero if result.prior_zero else None,
        "interpretation": pop.interpret_ln_b(result.ln_bayes_factor),
        "objects_table": {group: [str(g) for g in result.galaxies], **{
            k: [float(v) for v in est[k].values] for k in ("own_mean", "own_sd", "shrunk_mean", "shrunk_sd")}},
        "furthest": [{"name": str(result.galaxies[i]), "own_mean": float(est["own_mean"].values[i]),
                      "own_sd": float(est["own_sd"].values[i]), "shrunk_mean": float(est["shrunk_mean"].values[i]),
                      "shrunk_sd": float(est["shrunk_sd"].values[i]), "pull": float(pull[i])} for i in order],
        "model": result.describe(),
        "warnings": list(result.notes),
        "literature": [dict(item) for item in literature],
    }


def _interval(a: Sequence[float]) -> str:
    return f"[{a[0]:.4g}, {a[1]:.4g}]"


def render(result: Mapping[str, Any], console: Console | None = None) -> None:
    """The hyper-parameters' posterior, the Bayes factor, the objects furthest from the mean, every assumption."""
    console = console or Console()
    u, group = result["unit"], next(iter(result["objects_table"]))
    title = (f"population of {result['parameter']} in sweep {result['sweep']!r} ({result['kernel']}; "
             f"{result['objects']} objects along {group}, {result['points']} points): {u}_g ~ N(μ, τ²)")
    table = Table(title=title, title_justify="left")
    for col in ("quantity", "mean ± sd", "68 % interval", "95 % interval"):
        table.add_column(col, justify="left" if col == "quantity" else "right")
    for key, label in (("mu", "μ (τ ≥ 0 model)"), ("mu_universal", "μ if τ = 0 (one universal value)"),
                       ("tau", "τ")):
        m = result[key]
        table.add_row(escape(label), f"{m['mean']:.4g} ± {m['sd']:.2g}", _interval(m["ci68"]), _interval(m["ci95"]))
    console.print(table)
    if "theta" in result["mu"]:
        t = result["mu"]["theta"]
        console.print(f"10^μ: median {t['median']:.4g} {result['parameter']}, 68 % {_interval(t['ci68'])}, "
                      f"95 % {_interval(t['ci95'])}", highlight=False, markup=False)
    console.print(f"τ: 95 % upper limit {result['tau']['upper95']:.4g} {u}", highlight=False, markup=False)
    console.print(f"ln Z(τ = 0) = {result['log_evidence_tau0']:.2f} nat, ln Z(τ > 0) = "
                  f"{result['log_evidence_tau_pos']:.2f} nat; {result['interpretation']}", highlight=False, markup=False)
    rows = result["furthest"]
    if rows:
        t = Table(title=f"the {len(rows)} objects furthest from μ by their own estimate (pull = (own − μ)/own sd)",
                  title_justify="left")
        for col in (group, "own mean ± sd", "shrunken mean ± sd", "pull"):
            t.add_column(col, justify="left" if col == group else "right")
        for r in rows:
            t.add_row(escape(r["name"]), f"{r['own_mean']:.4g} ± {r['own_sd']:.2g}",
                      f"{r['shrunk_mean']:.4g} ± {r['shrunk_sd']:.2g}", f"{r['pull']:+.1f}")
        console.print(t)
    for w in result["warnings"]:
        console.print(w, highlight=False, markup=False, soft_wrap=True)
    console.print(f"other grid axes: {result['others']['how']}"
                  + "".join(f", {k} = {v:.4g}" for k, v in result["others"]["at"].items()),
                  highlight=False, markup=False, soft_wrap=True)
    console.print(f"likelihood: {result['likelihood_note']}", highlight=False, markup=False, soft_wrap=True)
    console.print(f"fitted: {result['fitted']['statement']}", highlight=False, markup=False, soft_wrap=True)
    for line in [*result["model"], *result["nuisance"]["model"]]:
        if line and line not in result["warnings"]:
            console.print(f"[dim]{escape(line)}[/dim]", highlight=False, soft_wrap=True)
    for lit in result["literature"]:
        console.print(f"literature (not a seed figure): {lit['who']}: {lit['finding']}", highlight=False,
                      markup=False, soft_wrap=True)
