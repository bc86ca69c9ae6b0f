"""`sigcube report compare KERNEL…`: model selection on SPARC — χ², AIC, BIC, grid evidence, Bayes factors, k-fold CV.

Each model has *global* parameters (one value for every galaxy, on a grid) and/or *per-object* parameters
(each galaxy its own, fitted), see :data:`MODELS`. For every model, at the catalogue Υ, D, i (``catalogue``)
and with Υ_disk, Υ_bul, D, i as nuisance parameters under the Li+2018 priors (``nuisance``):

- ln L[m, g] of every galaxy g at every grid point m: −χ²/2 − Σ ln(√(2π) e_V) with the quoted errors
  (:mod:`sigcube.stats.likelihood`); the grid of a global model goes through :func:`sigcube.score` (the sweep
  engine's reduction), the nuisance through :func:`sigcube.compute.quadrature.profile` (max) and
  :func:`~sigcube.compute.quadrature.marginalise` (adaptive Gauss–Hermite, the evidence);
- **best χ²** and ln L_max: the best grid point of the summed ln L (global), or the per-galaxy fits of
  :mod:`sigcube.engines.fit` (per object; with nuisance: at the mode of L × prior);
- **AIC** = 2k − 2 ln L_max and **BIC** = k ln N − 2 ln L_max, k counting every fitted parameter — global,
  per object × galaxies, and the nuisance parameters (3 per galaxy, 4 with a bulge) — N the number of points;
- **ln Z**, the log-evidence on the grid under the stated priors (uniform in each parameter's grid coordinate
  over its bounds, trapezoid weights): ln Z = LSE_m[Σ_g ln L[m, g] + ln w_m] for global parameters,
  Σ_g LSE_m[ln L[m, g] + ln w_m] for per-object ones; with nuisance ln L is the nuisance-marginalised one;
  **ln B** = ln Z − ln Z(MOND); for two per-object models also galaxy by galaxy (the SI §15 ablation with
  the nuisance marginalised: how many galaxies' evidence favours each);
- **k-fold CV** of the global parameters: galaxy i in fold i mod K; the grid point that fits the other folds
  best is scored on the held-out fold (χ², and the point RMS [km/s] at the catalogue values);
- **ELPD_LOGO**, the exact leave-one-galaxy-out predictive density on the grid (:mod:`sigcube.stats.logo`) under
  the same priors and the same ln L as ln Z: for global parameters elpd_g = ln p(D_g | D_−g), the posterior from
  every other galaxy predicting g; for per-object parameters each galaxy's own evidence (the model predicts a new
  galaxy from its prior). ± SE = √(n·Var_g elpd_g); between models the difference ± the SE of the paired
  per-galaxy differences, and the galaxies whose contributions differ most.

With a :class:`Scatter` (``--sigma-int``), the intrinsic scatter σ_int joins every model as one more global
parameter (a grid axis under a uniform prior over its range, or one fixed value) under a stated error model
(:data:`sigcube.stats.likelihood.ERROR_MODELS`): every ln L above is then that likelihood, normalisation included;
ln Z, ln B and ELPD_LOGO marginalise σ_int, each model prints σ_int's posterior, and best χ², ln L_max, AIC and BIC
are those of the best point of the joint grid (per-object parameters: each galaxy's best grid point, no fits); the
k-fold CV, which scores χ², is left out; the galaxy-by-galaxy evidences of two per-object models integrate σ_int
under its prior galaxy by galaxy.

Also the RAR residual scatter of MOND (fixed a0) with the nuisance profiled, on the full sample and on the
McGaugh+2016 quality subset, next to two *literature* values (not seed figures), with a robust companion
(1.4826·MAD) and the points that dominate the rms.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from scipy.special import logsumexp

from sigcube.engines.checkpoint import Checkpoint, check_root, describe_run, fingerprint, resumed_seconds
from sigcube.engines.dask import Runner, in_process
from sigcube.engines.evidence import (
    COARSE_NODES, FLOOR, GRID_NODES, SCATTER, TAIL, TAU, Data, ObjectEvidence, Progress, global_evidence, likelihood_at,
    object_evidence, scatter_object_evidence, silent,
)
from sigcube.engines.fit.core import best_curves
from sigcube.engines.sampler import CONFLICT, sampled_evidence, sampled_halo_table
from sigcube.engines.sampler import conflicts as sampler_conflicts
from sigcube.engines.fit.run import fit_points
from sigcube.engines.fit.spec import parse_spec
from sigcube.engines.halo_masses import halo_table, is_halo
from sigcube.errors import SigcubeError
from sigcube.io.rotation_curves import pack_sparc
from sigcube.model import metrics, segments
from sigcube.model.kernels import Kernel, get_kernel
from sigcube.model.metrics import RAR_SCATTERS
from sigcube.model.points import PointSet
from sigcube.stats import logo, verdicts
from sigcube.stats.adaptive_grid import TOLERANCE, Axis, grid_points
from sigcube.stats.halo_posteriors import halo_summary
from sigcube.stats.intrinsic_scatter import BESIDE, Scatter
from sigcube.stats.likelihood import GaussianLikelihood
from sigcube.stats.posterior import EDGE_WARNING
from sigcube.study.reports import posterior_draws
from sigcube.study.reports.compare_models import (
    MODELS, PRIOR_WORDS, REFERENCE, CompareError, CompareModel, axes, fit_spec, fixed_params,
)

LN_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)


FOLDS = 5
QUALITY_SUBSET = {"quality": (1, 2), "min_inclination": 30.0, "max_relative_error": 0.1}
"""McGaugh, Lelli & Schombert 2016 (PRL 117, 201101): Q < 3, i ≥ 30°, points with e_V/V_obs < 0.1."""

LITERATURE = {
    "mcgaugh2016": {"value": 0.13, "unit": "dex", "what": "observed RAR scatter (McGaugh+2016, PRL 117, 201101)",
                    "origin": "literature"},
    "li2018": {"value": 0.057, "unit": "dex", "what": "RAR scatter after Υ, D, i fitted (Li+2018, A&A 615, A3)",
               "origin": "literature"},
}
"""Two literature values the MOND-with-nuisance scatter is set next to (not seed-published figures)."""

DOMINANT = ("the 5 points with the largest y² = log10(g_obs/g_pred)², the rms's own terms, each with its share of "
            "Σy²; 'rms w/o top' is §3.5's rms without them")
"""What the dominant points of the RAR rms are."""


def _scatter_axis(scatter: Scatter) -> Axis:
    return Axis(SCATTER, float(scatter.values[0]), float(scatter.values[-1]), coarse=int(scatter.values.size),
                unit=scatter.describe()["unit"])


def _likelihood_axes(scatter: Scatter | None) -> list[Axis]:
    """σ_int's, τ_gal's, the floor's and the tail weight's axes where they are grids (free), in that order."""
    if scatter is None:
        return []
    axes_ = [_scatter_axis(scatter)] if scatter.free else []
    for key, p in scatter.others.items():
        if p.free:
            axes_.append(Axis(key, float(p.values[0]), float(p.values[-1]), coarse=int(p.values.size),
                              unit=p.unit))
    return axes_


def _fixed_others(scatter: Scatter | None) -> dict[str, float]:
    """τ_gal, the floor and the tail weight where each is one fixed value (absent: 0), as keyword arguments of the
    evidence."""
    if scatter is None:
        return {}
    return {key: float(p.values[0]) for key, p in scatter.others.items() if not p.free}


ENGINES = {
    "grid": "every parameter on adaptive grids, Υ, D, i by adaptive Gauss–Hermite at each grid point "
            "(sigcube.engines.evidence)",
    "sampler": "a per-galaxy model's parameters and Υ, D, i in one importance-sampled integral per galaxy, σ_int, "
               "τ_gal, the floor and the tail weight on an adaptive grid (sigcube.engines.sampler); global models stay on "
               "the grid",
    "auto": "the sampler for a per-galaxy model with Υ, D, i marginalised when it has three or more parameters per "
            "galaxy or more than one free likelihood parameter (σ_int with τ_gal, a floor or a tail weight), the grid "
            "otherwise",
}
"""The evidence engines ``report compare --engine`` takes, in words."""
SAMPLER_FROM = 3
"""Per-galaxy parameters from which ``auto`` takes the sampler (a third grid axis multiplies the grid's cost)."""


def engine_for(name: str, nuisance: bool, scatter: Scatter | None, engine: str) -> str:
    """The engine that integrates model ``name`` (``grid`` or ``sampler``) under ``engine`` (:data:`ENGINES`): the
    sampler only for a per-galaxy model with the nuisance marginalised."""
    if engine not in ENGINES:
        raise CompareError(f"unknown engine {engine!r}; choose from {', '.join(ENGINES)}")
    model = MODELS[name]
    if not (model.per_object and nuisance) or engine == "grid":
        return "grid"
    if engine == "sampler":
        return "sampler"
    return "sampler" if len(model.per_object) >= SAMPLER_FROM or len(_likelihood_axes(scatter)) > 1 else "grid"


def _nuisance_count(points: PointSet, nuisance: bool) -> int:
    if not nuisance:
        return 0
    bulge = segments.segment_sum(points.inputs["v_bul"] ** 2, points.offsets) > 0
    return int(3 * points.n_galaxies + bulge.sum())


def _cv(ll: Mapping[str, np.ndarray], points: PointSet, nuisance: bool) -> dict[str, Any]:
    """K-fold CV over galaxies of the global grid point (deterministic folds: galaxy i in fold i mod K), on the
    evidence integral's final grid."""
    choose = ll["objective"] if nuisance else ll["chi2"]  # both are minimised
    fold = np.arange(points.n_galaxies) % FOLDS
    n = np.diff(points.offsets)
    held_chi2, held_sq, held_n, picks = 0.0, 0.0, 0, []
    for f in range(FOLDS):
        test = fold == f
        m = int(np.argmin(np.sum(choose[:, ~test], axis=1)))
        picks.append(m)
        held_chi2 += float(np.sum(ll["chi2"][m, test]))
        if "rms" in ll:
            held_sq += float(np.sum(ll["rms"][m, test] ** 2 * n[test]))
        held_n += int(n[test].sum())
    return {"folds": FOLDS, "held_out_chi2": held_chi2, "held_out_chi2_per_point": held_chi2 / held_n,
            "held_out_rms": float(np.sqrt(held_sq / held_n)) if "rms" in ll else None, "grid_points": picks}


def _logo_on_grid(name: str, loglike: np.ndarray, log_mass: np.ndarray, galaxies: Sequence[str], prior: str
                  ) -> logo.Logo:
    """Exact leave-one-galaxy-out of ln L[m, g] on an integral's final grid (prior masses ``log_mass``)."""
    ll = xr.DataArray(loglike, dims=("m", "galaxy"), coords={"galaxy": list(galaxies)})
    return logo.logo(ll, name=name, log_prior=xr.DataArray(log_mass, dims="m"), prior=prior)


def _own_evidence_logo(name: str, log_z: np.ndarray, galaxies: Sequence[str], axes_: Sequence[str],
                       prior: str) -> logo.Logo:
    """Per-object parameters only: elpd_g is each galaxy's own evidence."""
    return logo.Logo(name, xr.DataArray(log_z, dims="galaxy", coords={"galaxy": list(galaxies)}), (), tuple(axes_),
                     prior)


def _loo_error(change: float, errors: Mapping[str, float]) -> float:
    """The numerical error of ELPD_LOGO: its change on the sub-grid of twice the step, plus the evidence's errors other
    than the grid's own (the outside mass, the quadrature and its correction, the inner integrals)."""
    return float((change if np.isfinite(change) else math.inf)
                 + sum(v for k, v in errors.items() if k not in ("grid", "total")))


def _bounds(best: Mapping[str, np.ndarray], at_bound: Mapping[str, np.ndarray], galaxies: Sequence[str],
            table: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Per per-object parameter: how many galaxies' best grid point sits on a prior bound, and which."""
    out = {}
    for name, flags in at_bound.items():
        lo, hi = table[name]["bounds"]
        rows = [{"galaxy": str(g), "value": float(v), "bound": "lower" if np.isclose(v, lo) else "upper"}
                for g, v, f in zip(galaxies, best[name], flags) if f]
        out[name] = {"count": len(rows), "galaxies": rows}
    return out


def _global_numbers(name: str, model: CompareModel, kernel_axes: list[Axis], points: PointSet, catalogue: Any,
                    nuisance: bool, run: Runner, scatter: Scatter | None, prior: str, progress: Progress
                    ) -> tuple[dict[str, Any], logo.Logo, float]:
    """The numbers of a model with global parameters only (σ_int one of them when free)."""
    sigma = None if scatter is None or scatter.free else float(scatter.values[0])
    ev = global_evidence(get_kernel(model.kernel), fixed_params(model), kernel_axes + _likelihood_axes(scatter),
                         Data(points, catalogue if nuisance else None),
                         scatter.error_model if scatter is not None else "velocity_floor", sigma, run=run,
                         progress=progress, **_fixed_others(scatter))
    arrays = ev.integral.arrays
    total = ev.loglike.sum(axis=1) + ev.integral.log_mass
    m = int(np.argmax(np.where(np.isfinite(total), total, -np.inf)))
    point = {k: float(v[m]) for k, v in grid_points(ev.integral).items()}
    elpd = _logo_on_grid(name, ev.loglike, ev.integral.log_mass, points.galaxy, prior)
    elpd_error = _loo_error(ev.integral.check_change, ev.errors)
    out = {"best_chi2": float(arrays["chi2"][m].sum()), "ln_L_max": float(arrays["profile"][m].sum()), "best": point,
           "log_evidence": ev.log_z, "log_evidence_error": ev.error, "evidence": ev.describe(),
           "grid_points": int(ev.integral.log_mass.size),
           "cv": _cv(arrays, points, nuisance) if scatter is None else None}
    posterior = ev.describe()["posterior"]
    if scatter is not None and scatter.free:
        out["sigma_int"] = posterior[SCATTER]
    for key in (TAU, FLOOR, TAIL):
        if key in posterior:
            out[key] = posterior[key]
    return out, elpd, elpd_error


def _object_numbers(name: str, model: CompareModel, object_axes: list[Axis], points: PointSet, catalogue: Any,
                    nuisance: bool, run: Runner, scatter: Scatter | None, prior: str, checkpoint: Checkpoint,
                    progress: Progress) -> tuple[dict[str, Any], logo.Logo, float]:
    """The numbers of a model with per-object parameters only (σ_int a global axis when free)."""
    kernel, fixed = get_kernel(model.kernel), fixed_params(model)
    data = Data(points, catalogue if nuisance else None)
    error_model = scatter.error_model if scatter is not None else "velocity_floor"
    held = _held(scatter)
    halos = _halos_of(kernel, fixed, data, error_model, held, run)
    if scatter is not None and scatter.free:
        ev = scatter_object_evidence(kernel, fixed, object_axes, _scatter_axis(scatter), data, error_model, checkpoint,
                                     progress, run, summarise=halos if is_halo(model.kernel) else None, held=held)
        inner = ev.inner
        per_galaxy = logsumexp(ev.loglike + ev.integral.log_mass[:, None], axis=0)
        elpd = _logo_on_grid(name, ev.loglike, ev.integral.log_mass, points.galaxy, prior)
        elpd_error = _loo_error(ev.integral.check_change, ev.errors)
        out = {"best_chi2": float(inner.best_arrays["chi2"].sum()), "ln_L_max": float(inner.best_arrays["profile"].sum()),
               "best": {SCATTER: ev.sigma_int}, "log_evidence": ev.log_z, "log_evidence_error": ev.error,
               "evidence": {"log_z": ev.log_z, "error": ev.error, "errors": ev.errors, "grid": ev.integral.describe(),
                            "posterior": ev.integral.summary(), **_object_describe(inner),
                            "restarted": [str(g) for g in points.galaxy[inner.restarted]]},
               "sigma_int": ev.integral.summary()[SCATTER], "galaxy_log_evidence": per_galaxy.tolist(),
               "galaxy_log_evidence_error": inner.errors.tolist(), "grid_points": int(ev.integral.log_mass.size),
               "cv": None}
    else:
        sigma = None if scatter is None else float(scatter.values[0])
        start = time.perf_counter()
        inner = object_evidence(kernel, fixed, object_axes, data, error_model, sigma, run=run, held=held)
        progress(f"{points.n_galaxies} galaxies integrated in {time.perf_counter() - start:.0f} s")
        elpd = _own_evidence_logo(name, inner.log_z, points.galaxy, [a.name for a in object_axes], prior)
        elpd_error = inner.error
        out = {"log_evidence": inner.total, "log_evidence_error": inner.error,
               "evidence": {"log_z": inner.total, "error": inner.error, **_object_describe(inner)},
               "galaxy_log_evidence": inner.log_z.tolist(), "galaxy_log_evidence_error": inner.errors.tolist(),
               "cv": None}
        if scatter is None:
            fit = fit_points(fit_spec(model, nuisance), points, catalogue if nuisance else None, run)
            chi2 = float(fit["chi2"].sum())
            out.update({"best_chi2": chi2, "ln_L_max": -0.5 * chi2 - float(_normalisation(points).sum())})
        else:
            out.update({"best_chi2": float(inner.best_arrays["chi2"].sum()),
                        "ln_L_max": float(inner.best_arrays["profile"].sum()), "best": {SCATTER: sigma}})
    out["at_bound"] = _bounds(inner.best, inner.at_bound, points.galaxy, model.per_object)
    out["best_per_galaxy"] = {"galaxy": [str(g) for g in points.galaxy],
                              **{k: np.asarray(v, dtype=float).ravel().tolist() for k, v in inner.best.items()}}
    if is_halo(model.kernel):
        found = inner.summary if inner.summary is not None else halos(inner.integrals,
                                                                       (out.get("best") or {}).get(SCATTER))
        if "problem" in found:
            progress(f"no halo quantities: {found['problem']}")
        out["halos"] = None if "problem" in found else found
    return out, elpd, elpd_error


def _sampled_numbers(name: str, model: CompareModel, object_axes: list[Axis], points: PointSet, catalogue: Any,
                     run: Runner, scatter: Scatter | None, prior: str, checkpoint: Checkpoint,
                     progress: Progress) -> tuple[dict[str, Any], logo.Logo, float]:
    """The numbers of a per-galaxy model by the importance-sampling engine (:mod:`sigcube.engines.sampler`): its
    parameters and Υ, D, i integrated per galaxy, σ_int, τ_gal and the floor on a grid where free."""
    kernel, fixed = get_kernel(model.kernel), fixed_params(model)
    data = Data(points, catalogue)
    error_model = scatter.error_model if scatter is not None else "velocity_floor"
    outer = _likelihood_axes(scatter)
    held = {**_held(scatter), **({SCATTER: float(scatter.values[0])} if scatter is not None and not scatter.free
                                 else {})}
    ev = sampled_evidence(kernel, fixed, object_axes, outer, data, error_model, name, held, run, checkpoint, progress)
    galaxies = [str(g) for g in points.galaxy]
    if ev.integral is not None:
        elpd = _logo_on_grid(name, ev.loglike, ev.integral.log_mass, galaxies, prior)
        elpd_error = _loo_error(ev.integral.check_change, ev.errors)
        posterior = ev.integral.summary()
    else:
        elpd = _own_evidence_logo(name, ev.loglike[0], galaxies, [a.name for a in object_axes], prior)
        elpd_error, posterior = ev.error, {}
    worst = np.argsort(-ev.galaxy_errors)[:5]
    summaries = [g.summary for g in ev.galaxies]
    draws = posterior_draws.draws_data([g.draws for g in ev.galaxies], galaxies, ev.point)
    conflicts = sampler_conflicts(ev, galaxies)
    out = {"engine": "sampler", "best_chi2": float(ev.chi2.sum()), "ln_L_max": float(ev.profile.sum()),
           "best": dict(ev.point), "log_evidence": ev.log_z, "log_evidence_error": ev.error,
           "evidence": {"log_z": ev.log_z, "error": ev.error, "errors": ev.errors, "engine": ev.settings,
                        **({"grid": ev.integral.describe(), "posterior": posterior} if ev.integral is not None else {}),
                        "per_galaxy": {"converged": int(ev.converged.sum()), "of": int(ev.converged.size),
                                       "largest_errors": [float(ev.galaxy_errors[i]) for i in worst],
                                       "largest_error_galaxies": [galaxies[i] for i in worst],
                                       "effective_draws": [float(g.estimate.ess) for g in ev.galaxies],
                                       "pareto_k": [float(g.estimate.pareto_k) for g in ev.galaxies]},
                        "rebuilt": ev.rebuilt},
           "galaxy_log_evidence": ev.galaxy_log_z.tolist(), "galaxy_log_evidence_error": ev.galaxy_errors.tolist(),
           "on_grid": ev.on_grid,
           "grid_points": int(ev.loglike.shape[0]), "cv": None,
           "posterior_at_bound": _posterior_bounds(summaries, galaxies, object_axes),
           "conflicts": {"limit": CONFLICT, "rows": conflicts,
                         "count": {p: sum(1 for r in conflicts if r["parameter"] == p)
                                   for p in dict.fromkeys(r["parameter"] for r in conflicts)}},
           "best_per_galaxy": {"galaxy": galaxies, **{a.name: [float(s[a.name]["mode"]) for s in summaries]
                                                     for a in object_axes}},
           "posterior_per_galaxy": {"galaxy": galaxies, **{p: {k: [s[p][k] for s in summaries]
                                                               for k in ("mean", "sd", "quantiles")}
                                                           for p in summaries[0] if all(p in s for s in summaries)}}, posterior_draws.KEY: draws}
    for key in (SCATTER, TAU, FLOOR, TAIL):
        if key in posterior:
            out[key] = posterior[key]
    if is_halo(model.kernel):
        try:
            out["halos"] = sampled_halo_table(kernel, fixed, ev, data).to_dict(data="list")
        except SigcubeError as problem:
            progress(f"no halo quantities: {problem}")
            out["halos"] = None
    return out, elpd, elpd_error


def _posterior_bounds(summaries: Sequence[Mapping[str, Any]], galaxies: Sequence[str], axes_: Sequence[Axis]
                      ) -> dict[str, Any]:
    """Per per-object parameter: the galaxies whose posterior piles at a bound of its prior's range (more than
    :data:`~sigcube.stats.posterior.EDGE_WARNING` of the mass within its end share of the range), and which."""
    out = {}
    for axis in axes_:
        rows = [{"galaxy": str(g), "bound": side, "mass": float(s[axis.name]["edge_mass"][i])}
                for g, s in zip(galaxies, summaries) for i, side in enumerate(("lower", "upper"))
                if s[axis.name]["edge_mass"][i] > EDGE_WARNING]
        out[axis.name] = {"count": len(rows), "galaxies": rows}
    return out


def _held(scatter: Scatter | None) -> dict[str, float]:
    """The likelihood's parameters beside σ_int that ``scatter`` fixes at one value each (τ_gal, the floor, the tail
    weight)."""
    return {} if scatter is None else {k: float(p.values[0]) for k, p in scatter.others.items() if not p.free}


def _halos_of(kernel: Kernel, fixed: Mapping[str, Any], data: Data, error_model: str, held: Mapping[str, float],
              run: Runner) -> Callable[[Sequence[Any], float | None], dict[str, Any]]:
    """A halo's per-galaxy quantities from its integrals at σ_int (``halo_table`` as data, its tasks on ``run``;
    ``{"problem": why}`` when the cube gives no M★), the likelihood's parameters beside σ_int at ``held``."""
    def make(integrals: Sequence[Any], sigma: float | None) -> dict[str, Any]:
        try:
            return halo_table(kernel, fixed, integrals, data, error_model, sigma, held, run).to_dict(data="list")
        except SigcubeError as problem:
            return {"problem": str(problem)}
    return make


def _object_describe(inner: ObjectEvidence) -> dict[str, Any]:
    """The per-galaxy integrals in brief: how many converged, the largest errors, the node rule's correction."""
    worst = np.argsort(-inner.errors)[:5]
    return {"per_galaxy": {"converged": int(inner.converged.sum()), "of": int(inner.converged.size),
                           "largest_errors": [float(inner.errors[i]) for i in worst]},
            **({"node_rule": {**inner.correction.rule, "shift": inner.correction.shift}} if inner.correction else {})}


def _normalisation(points: PointSet) -> np.ndarray:
    """Σ ln(√(2π) e_V) per galaxy (ln L = −χ²/2 − this, with the quoted errors)."""
    return segments.segment_sum(LN_SQRT_2PI + np.log(points.inputs["e_v_obs"]), points.offsets)


def compare_model(name: str, points: PointSet, catalogue: Any, nuisance: bool, run: Runner = in_process,
                  scatter: Scatter | None = None, checkpoint: Checkpoint = Checkpoint(None),
                  progress: Progress = silent, engine: str = "auto") -> dict[str, Any]:
    """Every model-selection number of model ``name`` (module docstring), with or without the nuisance, with
    σ_int as ``scatter`` says (None: errors as quoted), its evidence by the engine ``engine`` chooses
    (:func:`engine_for`); the finished row, and a per-galaxy model's integrals at each σ_int, kept in ``checkpoint``;
    the per-galaxy work runs as tasks of ``run``."""
    return checkpoint.get("row", lambda: _compare_model(name, points, catalogue, nuisance, run, scatter, checkpoint,
                                                        lambda line: progress(f"{name}: {line}"), engine),
                          _row_data, _row_from_data)


def _row_data(row: Mapping[str, Any]) -> dict[str, Any]:
    """A model's row as checkpoint data: its leave-one-galaxy-out result as arrays and names."""
    found = row["_logo"]
    elpd = found.elpd
    dim = elpd.dims[0]
    return {**{k: v for k, v in row.items() if k != "_logo"},
            "_logo": {"name": found.name, "dim": dim, "values": np.asarray(elpd.values, dtype=float),
                      "coords": [str(g) for g in elpd[dim].values] if dim in elpd.coords else None,
                      "array": elpd.name, "attrs": dict(elpd.attrs), "global_axes": list(found.global_axes),
                      "per_galaxy_axes": list(found.per_galaxy_axes), "prior": found.prior}}


def _row_from_data(data: Mapping[str, Any]) -> dict[str, Any]:
    kept = data["_logo"]
    elpd = xr.DataArray(kept["values"], dims=(kept["dim"],), name=kept["array"], attrs=kept["attrs"],
                        coords={} if kept["coords"] is None else {kept["dim"]: kept["coords"]})
    return {**data, "_logo": logo.Logo(kept["name"], elpd, tuple(kept["global_axes"]), tuple(kept["per_galaxy_axes"]),
                                       kept["prior"])}


def _compare_model(name: str, points: PointSet, catalogue: Any, nuisance: bool, run: Runner,
                   scatter: Scatter | None, checkpoint: Checkpoint, progress: Progress, engine: str) -> dict[str, Any]:
    model = MODELS[name]
    if model.global_params and model.per_object:
        raise CompareError(f"model {name!r} mixes global and per-object parameters, which report compare does not "
                           "integrate")
    start, resumed = time.perf_counter(), resumed_seconds()
    prior = PRIOR_WORDS + ("; σ_int " + scatter.describe()["prior"] if scatter is not None else "") + "".join(
        f"; {p.symbol} {p.prior()}" for p in (scatter.others.values() if scatter is not None else ()))
    out: dict[str, Any] = {"kernel": model.kernel, "fixed": fixed_params(model), "what": model.what,
                           "global": list(model.global_params), "per_object": list(model.per_object),
                           "engine": engine_for(name, nuisance, scatter, engine)}
    if model.per_object and engine_for(name, nuisance, scatter, engine) == "sampler":
        numbers, elpd, elpd_error = _sampled_numbers(name, model, axes(model.per_object), points, catalogue, run,
                                                     scatter, prior, checkpoint, progress)
    elif model.per_object:
        numbers, elpd, elpd_error = _object_numbers(name, model, axes(model.per_object), points, catalogue, nuisance,
                                                    run, scatter, prior, checkpoint, progress)
    else:
        numbers, elpd, elpd_error = _global_numbers(name, model, axes(model.global_params), points, catalogue,
                                                    nuisance, run, scatter, prior, progress)
    out.update(numbers)
    out.update({"elpd_logo": elpd.total, "elpd_logo_se": elpd.se, "elpd_logo_error": elpd_error, "_logo": elpd})
    k = (len(model.global_params) + len(model.per_object) * points.n_galaxies + _nuisance_count(points, nuisance)
         + len(_likelihood_axes(scatter)))
    out.update({"k": k, "n_points": points.n_points, "aic": 2 * k - 2 * out["ln_L_max"],
                "bic": k * np.log(points.n_points) - 2 * out["ln_L_max"]})
    earlier = resumed_seconds() - resumed
    out["seconds"] = time.perf_counter() - start + earlier   # with the parts an earlier, stopped run made
    out["warnings"] = _warnings(out)
    progress(f"done in {out['seconds']:.0f} s" + (f" ({earlier:.0f} s of it in an earlier run, read back from its "
                                                   "checkpoints)" if earlier >= 0.5 else ""))
    return out


def _warnings(row: Mapping[str, Any]) -> list[str]:
    """What a reader must know before trusting a model's numbers: unconverged integrals, posterior mass at the edge of
    a prior's range, per-object best points on a prior bound."""
    out = []
    ev = row["evidence"]
    grid = ev.get("grid")
    if grid is not None and not grid["converged"]:
        check = grid.get("check_change")
        out.append(f"the evidence grid's ln Z settled (last change {grid['grid_change']:.3g} nat) but its "
                   f"leave-one-galaxy-out densities did not (ELPD_LOGO moved {check:.3g} nat on the last halving; "
                   "counted in its numerical error)" if grid["grid_change"] <= TOLERANCE and check is not None
                   and check > TOLERANCE else
                   f"the evidence grid did not converge (last change {grid['grid_change']:.3g} nat)")
    for axis, p in ev.get("posterior", {}).items():
        for side in p["at_prior_edge"]:
            out.append(f"{axis}: posterior mass at the {side} end of its prior range (the range cuts the posterior)")
        if p["unresolved"]:
            out.append(f"{axis}: posterior narrower than the final grid resolves ({p['cells_per_sd']:.2f} steps per sd)")
    per = ev.get("per_galaxy")
    if per is not None and per["converged"] < per["of"]:
        out.append(f"{per['of'] - per['converged']} of {per['of']} per-galaxy integrals did not converge")
    rule = ev.get("node_rule")
    if rule is not None and rule["unsettled"]:
        out.append(f"node rule unsettled at its largest count for {', '.join(rule['unsettled'])}")
    for name, b in row.get("at_bound", {}).items():
        if b["count"]:
            out.append(f"{name}: best grid point on a prior bound in {b['count']} galaxies ("
                       + ", ".join(f"{r['galaxy']} {r['bound']}" for r in b["galaxies"][:8])
                       + (", …" if b["count"] > 8 else "") + ")")
    for name, b in row.get("posterior_at_bound", {}).items():
        if b["count"]:
            out.append(f"{name}: posterior piles at a prior bound in {b['count']} galaxies ("
                       + ", ".join(f"{r['galaxy']} {r['bound']}" for r in b["galaxies"][:8])
                       + (", …" if b["count"] > 8 else "") + ")")
    conflicts = row.get("conflicts")
    if conflicts and conflicts["rows"]:
        rows = conflicts["rows"]
        out.append(f"prior–data conflict (posterior mean beyond {conflicts['limit']:g} prior sd) in "
                   + ", ".join(f"{p} {n}" for p, n in conflicts["count"].items()) + " galaxies ("
                   + ", ".join(f"{r['galaxy']} {r['parameter']} {r['z_mean']:+.1f} sd" for r in rows[:8])
                   + (", …" if len(rows) > 8 else "") + ")")
    if row.get("on_grid"):
        out.append(f"{len(row['on_grid'])} galaxies' ln Z at the best point by the grid engine (no proposal followed "
                   f"their posterior): {', '.join(row['on_grid'][:8])}" + (", …" if len(row["on_grid"]) > 8 else ""))
    return out


def logo_summary(models: Mapping[str, logo.Logo], errors: Mapping[str, float] | None = None,
                 top: int = 10) -> dict[str, Any]:
    """The models' ELPD_LOGO ± SE (± its numerical error, ``errors`` by model), each one's difference to the best ±
    the paired SE and ± the two numerical errors, the per-galaxy contributions and, per model, the ``top`` galaxies
    whose contributions differ most from the best model's (one model: its ELPD_LOGO ± SE alone). With fewer galaxies
    than :data:`~sigcube.stats.verdicts.SMALL_SAMPLE` no z-score is given (``se_note`` says why)."""
    errors = dict(errors or {})
    if len(models) == 1:
        ((name, only),) = models.items()
        g = only.elpd.dims[0]
        return {"best": name, "models": {name: {"elpd": only.total, "se": only.se, "error": errors.get(name, 0.0),
                                                "elpd_diff": 0.0, "dse": 0.0, "z": None, "error_diff": 0.0}},
                "per_galaxy": {"galaxy": [str(x) for x in only.elpd[g].values],
                               "elpd": {name: only.elpd.values.tolist()}},
                "drivers": {}, "describe": only.describe(), "se_note": verdicts.se_note(only.n)}
    comparison = logo.compare(models)
    table = comparison.table
    names = [str(m) for m in table["model"].values]
    per = comparison.per_galaxy
    galaxies = [str(g) for g in per["galaxy"].values]
    note = verdicts.se_note(len(galaxies))
    drivers = {}
    for m in names[1:]:
        d = comparison.drivers(m, top)
        drivers[m] = [{"galaxy": str(g), "elpd_best": float(d["elpd"].sel(model=comparison.best, galaxy=g)),
                       "elpd": float(d["elpd"].sel(model=m, galaxy=g)),
                       "elpd_diff": float(d["elpd_diff"].sel(model=m, galaxy=g))} for g in d["galaxy"].values]
    rows = {}
    for m in names:
        row = {k: float(table[k].sel(model=m)) for k in ("elpd", "se", "elpd_diff", "dse", "z")}
        row["error"] = errors.get(m, 0.0)
        row["error_diff"] = 0.0 if m == comparison.best else row["error"] + errors.get(comparison.best, 0.0)
        row["numerically_decided"] = m == comparison.best or verdicts.decided(row["elpd_diff"], row["error_diff"])
        if m != comparison.best:
            row["verdict"] = verdicts.elpd_verdict(row["elpd_diff"], row["dse"], row["error_diff"], len(galaxies),
                                                   comparison.best, m)
        if note is not None:
            row["z"] = None
        rows[m] = row
    return {"best": comparison.best, "models": rows,
            "per_galaxy": {"galaxy": galaxies, "elpd": {m: per["elpd"].sel(model=m).values.tolist() for m in names}},
            "drivers": drivers, "describe": comparison.describe(), "se_note": note}


def predictive_checks(cube: xr.Dataset, report: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Per run and per model with global parameters only: the normalised residuals' checks
    (:func:`sigcube.stats.predictive_checks.residual_checks`) at the report's best point, Υ, D, i at their conditional
    mode in the nuisance run, their reading, and there the galaxies whose Υ, D, i (or velocity scale) sit more than
    :data:`~sigcube.engines.sampler.CONFLICT` prior sd from their prior's centre (``conflicts``: the mode's deviate, a
    Laplace reading of where the posterior lies; the sampler's rows carry their own, from the posterior's mean). Per-
    galaxy models are left out (their per-galaxy best points are not in the report)."""
    from sigcube.engines.residuals import at_mode
    from sigcube.stats.predictive_checks import reading, residual_checks

    names = list(next(iter(report["runs"].values())))
    cube, points = _sample(cube, names)
    scatter = report.get("scatter")
    out: dict[str, dict[str, Any]] = {}
    for label, rows in report["runs"].items():
        data = Data(points, _catalogue(cube, points) if label == "nuisance" else None)
        for name, row in rows.items():
            if MODELS[name].per_object or not row.get("best"):
                continue
            best, likelihood = likelihood_at(row["best"], scatter)
            r, z = at_mode(get_kernel(MODELS[name].kernel), {**MODELS[name].fixed, **best}, data, likelihood)
            galaxies = [str(g) for g in points.galaxy]
            checks = residual_checks(r, points.offsets, galaxies)
            conflicts = mode_conflicts(z, galaxies)
            out.setdefault(label, {})[name] = {**checks, "reading": reading(checks),
                                               **({"conflicts": conflicts} if label == "nuisance" else {})}
    return out


def mode_conflicts(z: Mapping[str, np.ndarray], galaxies: Sequence[str]) -> list[dict[str, Any]]:
    """Every (galaxy, parameter) whose nuisance mode's prior deviate ``z`` (by parameter, one per galaxy:
    :func:`~sigcube.engines.residuals.at_mode`) lies beyond :data:`~sigcube.engines.sampler.CONFLICT` prior sd."""
    return [{"galaxy": g, "parameter": p, "z_mode": float(v[i])} for p, v in z.items()
            for i, g in enumerate(galaxies) if abs(v[i]) > CONFLICT]


def decision_vs_reference(name: str, row: Mapping[str, Any], ref: Mapping[str, Any],
                          summary: Mapping[str, Any]) -> dict[str, Any]:
    """The :data:`~sigcube.stats.verdicts.DECISION_RULE` on ``name`` against the reference model: its ln B against
    ΔELPD_LOGO(name − reference) ± the paired SE of the per-galaxy differences (± both numerical errors)."""
    per = summary["per_galaxy"]["elpd"]
    diff = np.asarray(per[name], dtype=float) - np.asarray(per[REFERENCE], dtype=float)
    models = summary["models"]
    se = float(np.sqrt(diff.size * diff.var(ddof=1))) if diff.size > 1 else math.inf
    out = verdicts.decision(row["ln_B_vs_mond"], row["ln_B_vs_mond_error"], float(diff.sum()), se,
                            models[name]["error"] + models[REFERENCE]["error"], diff.size, name, REFERENCE)
    return {**out, "elpd_diff": float(diff.sum()), "elpd_se": se}


def per_galaxy_bayes(rows: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    """For each pair of per-object models: galaxies whose ln Z favours a (ln B > 0), and by more than 1 nat either
    way (Jeffreys' 'substantial' is ln B > 1.15; 1 nat is stated as the threshold here), and how many are undecided
    numerically (|ln B_g| within :data:`~sigcube.stats.verdicts.DECIDED` × its numerical error)."""
    z = {n: np.asarray(r["galaxy_log_evidence"]) for n, r in rows.items() if "galaxy_log_evidence" in r}
    err = {n: np.asarray(r.get("galaxy_log_evidence_error", np.zeros(len(z[n])))) for n, r in rows.items() if n in z}
    out = {}
    names = list(z)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            ln_b, e = z[a] - z[b], err[a] + err[b]
            out[f"{a}_vs_{b}"] = {"n": int(ln_b.size), "a_favoured": int((ln_b > 0).sum()),
                                  "a_by_1_nat": int((ln_b > 1).sum()), "b_by_1_nat": int((ln_b < -1).sum()),
                                  "undecided": int(np.sum(np.abs(ln_b) <= verdicts.DECIDED * e))}
    return out


def rar_scatter_mond(points: PointSet, catalogue: Any, cube: xr.Dataset, run: Runner = in_process) -> dict[str, Any]:
    """The RAR residual scatter of MOND (fixed a0) with Υ, D, i profiled: full sample and, on a cube with SPARC's
    quality flags, the McGaugh+2016 subset; each with its robust scatter and dominant points
    (:func:`sigcube.model.metrics.rar_residual_summary`)."""
    spec = parse_spec({"dataset": "sparc", "kernel": "mond", "free": {}, "nuisance": {"mode": "profile"}})
    fit = fit_points(spec, points, catalogue, run)
    v_pred, v_obs, e_v = best_curves(spec, fit, points, catalogue)
    x = np.log10(v_obs / v_pred)
    counts = np.diff(points.offsets)

    def scatter(mask: np.ndarray) -> dict[str, Any]:
        p = {"sum_x": x[mask].sum(), "sum_xx": (x[mask] ** 2).sum(), "n_points": int(mask.sum())}
        kept = np.repeat(np.arange(len(counts)), counts)[mask]
        robust = metrics.rar_residual_summary(v_obs[mask], v_pred[mask], np.searchsorted(kept, np.arange(
            len(counts) + 1)), points.galaxy, points.inputs["r"][mask])
        return {name: float(metrics.METRICS[name].func(p)) for name in RAR_SCATTERS} | {
            "n_points": p["n_points"], "n_galaxies": int(len(np.unique(kept))), "rar_robust_accel": robust["robust"],
            "rar_rms_accel_without_top": robust["rms_without_top"], "dominant_points": robust["top"]}

    out = {"full": scatter(np.ones_like(x, dtype=bool)),
           "subset_definition": "SPARC quality Q < 3 (flags 1, 2), catalogue i ≥ 30°, points with e_V/V_obs < 0.1",
           "literature": LITERATURE, "definitions": {n: metrics.METRICS[n].definition for n in RAR_SCATTERS}
           | {"rar_robust_accel": metrics.RAR_ROBUST, "dominant_points": DOMINANT}}
    if "quality" not in cube:
        kind = cube.attrs.get("sigcube_kind")
        return {**out, "subset_definition": f"none: the McGaugh+2016 quality subset needs SPARC's quality flags, "
                                            f"which a {kind!r} cube lacks"}
    names = [str(n) for n in cube["galaxy"].values]
    quality = np.asarray(cube["quality"].values)[[names.index(g) for g in points.galaxy]]
    keep_galaxy = np.isin(quality, QUALITY_SUBSET["quality"]) & (
        catalogue.columns["inclination"] >= QUALITY_SUBSET["min_inclination"])
    keep = np.repeat(keep_galaxy, counts) & (points.inputs["e_v_obs"] / points.inputs["v_obs"]
                                             < QUALITY_SUBSET["max_relative_error"])
    return {**out, "quality_subset": scatter(keep)}


def _catalogue(cube: xr.Dataset, points: PointSet) -> Any:
    """The nuisance catalogue of ``points``; a cube without it is refused naming what is missing."""
    from sigcube.stats.nuisance import Catalogue, NuisanceError

    try:
        return Catalogue.from_cube(cube, points)
    except NuisanceError as exc:
        raise NuisanceError(f"{exc} (--no-nuisance compares the models at the catalogue values alone)") from None


def halo_masses(cube: xr.Dataset, model: str, *, galaxies: Sequence[str] | None = None, sigma_int: float | None = None,
                error_model: str = "velocity_floor", nuisance: bool = True, run: Runner = in_process) -> xr.Dataset:
    """Each galaxy's halo under ``model`` (a halo of :data:`MODELS`: ``nfw-lcdm``, ``burkert``, …) as `report compare`
    gives it: the median and 68 % and 95 % intervals of log10 M200, c200, log10 M★/M200, M★ and the profile's shape,
    with at-bound flags (:func:`sigcube.stats.halo_posteriors.halo_posteriors`), from each galaxy's evidence integral
    with Υ, D, i marginalised (``nuisance``) and σ_int fixed at ``sigma_int`` under ``error_model`` (None: errors as
    quoted); ``galaxies``: a subset of the cube's, by name (default: the sample)."""
    if model not in MODELS or not is_halo(MODELS[model].kernel):
        raise CompareError(f"halo masses: {model!r} is not a halo model of report compare "
                           f"({', '.join(m for m in MODELS if is_halo(MODELS[m].kernel))})")
    if galaxies is not None:
        known = {str(g) for g in cube["galaxy"].values}
        missing = [g for g in galaxies if g not in known]
        if missing:
            raise CompareError(f"halo masses: {', '.join(missing)} not in the cube")
        cube = cube.sel(galaxy=list(galaxies))
    cube, points = _sample(cube, [model])
    scatter = None if sigma_int is None else Scatter.parse(repr(float(sigma_int)), error_model)
    row = compare_model(model, points, _catalogue(cube, points) if nuisance else None, nuisance, run, scatter)
    if row.get("halos") is None:
        raise CompareError(f"halo masses: {model} on this cube has no M★ to give its halos with")
    return xr.Dataset.from_dict(row["halos"])


def model_names(names: Sequence[str]) -> list[str]:
    """``names`` checked against :data:`MODELS`, each once, MOND (the reference) added last if not given."""
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        raise CompareError(f"unknown model(s) {', '.join(unknown)}; report compare knows {', '.join(MODELS)}")
    return list(dict.fromkeys([*names, REFERENCE]))


def _sample(cube: xr.Dataset, names: Sequence[str]) -> tuple[xr.Dataset, PointSet]:
    """The cube and its packed points; a model that reads M★ gets L_bul = 0 for bulgeless galaxies, and a galaxy
    whose M★ cannot be formed is refused naming it (:func:`sigcube.stats.nuisance.check_stellar_light`)."""
    from sigcube.stats.nuisance import check_stellar_light, with_bulge_luminosity

    stellar = [n for n in names if "M_star" in get_kernel(MODELS[n].kernel).all_inputs]
    if stellar:
        cube = with_bulge_luminosity(cube)
    points = pack_sparc(cube)
    if stellar:
        check_stellar_light(cube, points.galaxy, f"model {stellar[0]}")
    return cube, points


KEPT = ("*/*/row", "rar", "report/*")
"""What a finished run leaves in its checkpoint folder (:func:`keep_report`): each model's row, the MOND RAR scatter
and the finished reports; the per-σ_int integrals are dropped."""


def compare_checkpoint(root: Path, cube: xr.Dataset, nuisance: bool, scatter: Scatter | None,
                       warn: Callable[[str], None], engine: str = "auto") -> Checkpoint:
    """The checkpoint folder of `report compare` on ``cube`` with these settings: ``root/compare-<fingerprint>``, the
    fingerprint of the cube's content hash, the settings (the engine among them), the sigcube version and code (each
    model's pieces in its own sub-folder, so a run with another list of models reuses them); nothing is kept for a cube
    without a content hash. ``warn`` hears of every piece that fails verification."""
    check_root(root)
    content = str(cube.attrs.get("content_sha256", ""))
    if not content:
        return Checkpoint(None)
    settings = {"report": "compare", "cube": content, "nuisance": bool(nuisance),
                "scatter": None if scatter is None else scatter.describe(), "engine": engine}
    return Checkpoint(root / f"compare-{fingerprint(settings)}", describe_run(settings), warn=warn)


def _report_key(names: Sequence[str]) -> str:
    return "report/" + "+".join(model_names(names))


def kept_report(checkpoint: Checkpoint, names: Sequence[str]) -> dict[str, Any] | None:
    """The finished report of ``names`` that an earlier run of the same settings kept (verified), or None."""
    found = checkpoint.read(_report_key(names))
    return None if found is None else found[0]


def keep_report(checkpoint: Checkpoint, names: Sequence[str], report: Mapping[str, Any]) -> dict[str, Any]:
    """Keep the finished ``report`` of ``names`` and drop the run's intermediate pieces (:data:`KEPT`); the report as
    it reads back, which is what the run prints (so that a second run printing from it prints the same)."""
    from sigcube.engines.checkpoint import decode, encode

    checkpoint.write(_report_key(names), report)
    checkpoint.prune(KEPT)
    return decode(encode(report))


def check_likelihood(names: Sequence[str], nuisance: bool, scatter: Scatter | None, engine: str = "auto") -> None:
    """Refuse τ_gal or a floor beside σ_int where they are not integrated: τ_gal without the nuisance (it is
    integrated with the inclination), a grid of either with a per-galaxy model on the grid engine (which holds one
    value each; the sampler integrates them)."""
    if scatter is None:
        return
    scaled = bool(np.any(scatter.tau_values))
    if scaled and not nuisance:
        raise CompareError("τ_gal, each galaxy's velocity scale, is integrated with Υ, D, i: leave out --no-nuisance")
    grids = [p for p in scatter.others.values() if p.free]
    per_galaxy = [n for n in model_names(names) if MODELS[n].per_object
                  and engine_for(n, nuisance, scatter, engine) == "grid"]
    if grids and per_galaxy:
        global_only = ", ".join(n for n, m in MODELS.items() if not m.per_object)
        raise CompareError(f"a grid of {' and '.join(p.symbol for p in grids)} is integrated by the grid engine for "
                           f"models with global parameters only ({global_only}), not for {', '.join(per_galaxy)}: "
                           f"give one value ({', '.join(p.option + ' X' for p in grids)}), or --engine sampler or "
                           "auto")


def check_sample(cube: xr.Dataset, names: Sequence[str], nuisance: bool) -> PointSet:
    """Refuse, before any work, a cube that ``names`` cannot be compared on (what :func:`compare_report` would refuse:
    a galaxy without the M★ a model reads, a catalogue the nuisance parameters need); its packed sample otherwise."""
    cube, points = _sample(cube, model_names(names))
    if nuisance:
        _catalogue(cube, points)
    return points


def plan(points: PointSet, names: Sequence[str], nuisance: bool, scatters: Mapping[str, Scatter | None],
         engine: str) -> list[str]:
    """What a comparison of ``names`` on ``points`` under each of ``scatters`` (by error model's name; one entry for
    one likelihood) will do and can decide, in lines to print before the work starts: the sample, each model's engine
    (and under which error models, where they differ), and whether the decision rule can call a model preferred with
    so few galaxies (:data:`~sigcube.stats.verdicts.SMALL_SAMPLE`)."""
    names = model_names(names)
    parts = []
    for n in names:
        by_engine: dict[str, list[str]] = {}
        for label, scatter in scatters.items():
            by_engine.setdefault(engine_for(n, nuisance, scatter, engine), []).append(label)
        parts.append(f"{n} {next(iter(by_engine))}" if len(by_engine) == 1 else
                     f"{n} " + ", ".join(f"{e} ({', '.join(labels)})" for e, labels in by_engine.items()))
    lines = [f"{points.n_galaxies} galaxies ({points.n_points} points); engines: " + "; ".join(parts)]
    if points.n_galaxies < verdicts.SMALL_SAMPLE:
        lines.append(f"with fewer than {verdicts.SMALL_SAMPLE} galaxies the decision rule cannot call a model preferred: "
                     "an ELPD difference's SE is not read as an interval (ln Z and ln B are still computed)")
    return lines


def compare_report(cube: xr.Dataset, names: Sequence[str], *, nuisance: bool = True,
                   run: Runner = in_process, scatter: Scatter | None = None, checkpoint: Checkpoint = Checkpoint(None),
                   progress: Progress = silent, engine: str = "auto") -> dict[str, Any]:
    """Model selection over ``names`` (keys of :data:`MODELS`; MOND is added as the Bayes-factor reference), with
    σ_int as ``scatter`` says (None: errors as quoted), each evidence by the engine ``engine`` chooses for it
    (:func:`engine_for`); each finished model, and a per-galaxy model's integrals at each σ_int, kept in
    ``checkpoint`` (a killed run started again skips them), ``progress`` told of each; the per-galaxy work runs as
    tasks of ``run``."""
    from sigcube.stats.nuisance import describe_priors, sparc_priors

    names = model_names(names)
    scaled = scatter is not None and bool(np.any(scatter.tau_values))
    check_likelihood(names, nuisance, scatter, engine)
    cube, points = _sample(cube, names)
    catalogue = _catalogue(cube, points) if nuisance else None
    out: dict[str, Any] = {"dataset": cube.attrs.get("sigcube_kind", ""), "n_galaxies": points.n_galaxies,
                           "n_points": points.n_points, "runs": {}}
    for profiled in ((True,) if scaled else (False, True) if nuisance else (False,)):
        label = "nuisance" if profiled else "catalogue"
        rows = {n: compare_model(n, points, catalogue, profiled, run, scatter, checkpoint.child(label, n), progress,
                                 engine) for n in names}
        ref = rows[REFERENCE]
        for name, row in rows.items():
            row["ln_B_vs_mond"] = row["log_evidence"] - ref["log_evidence"]
            row["ln_B_vs_mond_error"] = 0.0 if name == REFERENCE else row["log_evidence_error"] + ref["log_evidence_error"]
            if name != REFERENCE:
                row["verdict_vs_mond"] = verdicts.bayes_verdict(row["ln_B_vs_mond"], row["ln_B_vs_mond_error"], name,
                                                                REFERENCE)
        for row in rows.values():
            row.pop(posterior_draws.KEY, None)  # kept in the rows' checkpoints (report compare --draws), not printed
        out["runs"][label] = rows
        out.setdefault("logo", {})[label] = logo_summary({n: r.pop("_logo") for n, r in rows.items()},
                                                         {n: r["elpd_logo_error"] for n, r in rows.items()})
        out.setdefault("per_galaxy_bayes", {})[label] = per_galaxy_bayes(rows)
        for name, row in rows.items():
            if name != REFERENCE:
                row["decision_vs_mond"] = decision_vs_reference(name, row, ref, out["logo"][label])
    if nuisance:
        out["rar_mond_nuisance"] = checkpoint.get("rar", lambda: rar_scatter_mond(points, catalogue, cube, run))
    if scatter is not None:
        out["scatter"] = scatter.describe()
    out["conventions"] = {
        "likelihood": ("Gaussian, errors as quoted, no error floor: ln L = −χ²/2 − Σ ln(√(2π) e_V)" if scatter is None
                       else GaussianLikelihood(scatter.values, scatter.error_model, floor=scatter.floor_values,
                                               tau_gal=scatter.tau_values).describe()
                       + f" σ_int's prior: {scatter.describe()['prior']}."),
        "priors": {n: {p: {k: v for k, v in t.items() if k != "grid"} for p, t in
                       {**MODELS[n].global_params, **MODELS[n].per_object}.items()} for n in names},
        "prior_form": PRIOR_WORDS,
        **({"nuisance_priors": describe_priors(sparc_priors(catalogue))} if nuisance else {}),
        "k": "global parameters + per-object parameters × galaxies + nuisance parameters (3 per galaxy, 4 with a "
             "bulge, when profiled/marginalised)" + (" + 1 for σ_int on a grid" if scatter is not None else "")
             + "".join(f" + 1 for {p.symbol} on a grid" for p in (scatter.others.values() if scatter is not None
                                                                   else ()) if p.free),
        "aic": "2k − 2 ln L_max", "bic": "k ln N − 2 ln L_max, N = points",
        "best": "global parameters: the best point of the evidence integral's final grid (ln L at the nuisance mode); "
                "per-object parameters: the per-galaxy fits (with σ_int: each galaxy's best grid point)",
        "evidence": EVIDENCE_WORDS + (SCATTER_OBJECT_WORDS if scatter is not None and scatter.free and nuisance
                                      and any(MODELS[n].per_object for n in names) else ""),
        "engine": {"asked": engine, "rule": ENGINES[engine],
                   "models": {n: engine_for(n, nuisance, scatter, engine) for n in names},
                   **({"sampler": SAMPLER_WORDS} if any(engine_for(n, nuisance, scatter, engine) == "sampler"
                                                        for n in names) else {})},
        "verdict": f"a Bayes factor or an ELPD difference decides only when it exceeds {verdicts.DECIDED:g}× its "
                   "numerical error (the two models' errors added); otherwise it is printed as undecided",
        "decision": verdicts.DECISION_RULE,
        "cv": (f"{FOLDS} folds, galaxy i in fold i mod {FOLDS} (the packed order); the point of the evidence grid best "
               "on the other folds (χ², or χ² + |z|² with nuisance) scored on the held-out fold") if scatter is None
              else "not computed with σ_int (it scores χ², which σ_int changes; ELPD_LOGO is the predictive comparison)",
        "logo": "exact leave-one-galaxy-out on the evidence's final grid, same priors and ln L as ln Z (with the "
                "nuisance: marginalised): elpd_g = ln p(D_g | D_-g) for global parameters, the galaxy's own evidence "
                "for per-object ones; SE = √(n·Var_g elpd_g), each galaxy an exchangeable draw; a difference's SE "
                "from the paired per-galaxy differences (Vehtari, Gelman & Gabry 2017); its numerical error: the "
                "change on the sub-grid of twice the step plus the evidence's outside-mass and quadrature errors",
        "grids": {n: {p: t for p, t in {**MODELS[n].global_params, **MODELS[n].per_object}.items()} for n in names},
        "cube_content_sha256": cube.attrs.get("content_sha256", ""),
    }
    return out


EVIDENCE_WORDS = (
    "trapezoid rule on grids that adapt to the posterior (sigcube.stats.adaptive_grid): a coarse pass over each "
    "prior's whole range ('grid' points per axis), zooms to the box within 20 nat of the best point, step halving "
    f"until ln Z moves by at most {TOLERANCE:g} nat (per-object parameters: galaxy by galaxy); nuisance marginalised "
    f"by adaptive Gauss–Hermite ({COARSE_NODES} nodes per dimension on the coarse pass, {GRID_NODES} on the fine "
    "grids), then each galaxy brought to the node count at which its ln Z settles (the node rule at the posterior's "
    "best point, sigcube.compute.quadrature.choose_nodes), the difference added to its ln L; numerical error = the last "
    "halving's change + the estimated mass outside the final box + the node rule's error + the variation of its "
    "correction one posterior sd away")


SAMPLER_WORDS = (
    "per galaxy, the model's parameters and Υ, D, i (or the velocity scale) integrated together by importance "
    "sampling: modes by Levenberg–Marquardt from a lattice of starts, a Student-t mixture proposal at them (with a wide "
    "component), refitted to pilot draws, then fresh seeded draws until ln Ẑ's 1σ (from the weights' spread) is below "
    "the target; each estimate's Pareto k̂ checked; σ_int, τ_gal, the floor and the tail weight on the adaptive grid, "
    "each point "
    "reweighing posterior draws resampled where the proposal was built (τ_gal through the velocity scale's prior), "
    "corrected to all the draws at the best point; numerical error = the grid's + the correction's variation one "
    "posterior sd away + √Σσ_g² + Σσ_g²/2")


SCATTER_OBJECT_WORDS = (
    "; a per-galaxy model's σ_int integral evaluates each galaxy on one fixed grid at every σ_int, every grid point's "
    "Υ, D, i mode search starting from the mode a restarted search found there at the best coarse σ_int, and stops "
    "halving σ_int's step once ln Z moves by less than the tolerance plus three times its integrand's estimated noise "
    "(each new point against the cubic through the points before), that noise counted in the error")


def render_logo(summary: Mapping[str, Any], console: Console) -> None:
    """Each model's ELPD_LOGO difference to the best ± its paired SE (and numerical error), the galaxies that drive
    it; no z-score for a sample too small for it."""
    best = summary["best"]
    for name, m in summary["models"].items():
        if name == best:
            continue
        z = "" if m.get("z") is None else f"z = {m['z']:.1f}, "
        console.print(f"ELPD_LOGO: {name} is {m['elpd_diff']:.1f} ± {m['dse']:.1f} nat below {best} ({z}paired SE"
                      f"; numerical error ±{m.get('error_diff', 0.0):.2f}) — {m['verdict']}; largest per-galaxy "
                      "differences ("
                      + f"{best} − {name}): " + ", ".join(f"{escape(d['galaxy'])} {d['elpd_diff']:+.1f}"
                                                        for d in summary["drivers"][name][:5]),
                      highlight=False, soft_wrap=True)
    if summary.get("se_note"):
        console.print(f"ELPD_LOGO: {summary['se_note']}", highlight=False, soft_wrap=True)


def _g(v: float | None, fmt: str = ".1f") -> str:
    return "—" if v is None else format(v, fmt)


HALO_ROWS = 40
"""Up to this many galaxies, the text gives each galaxy's halo (beyond, the summary line; every galaxy in --json)."""
HALO_COLUMNS = {"log10_M200": "log10 M200 [M☉]", "c200": "c200", "log10_mstar_over_m200": "log10 M★/M200"}
"""The halo quantities of the per-galaxy table, by their name in the halo Dataset, with the profile's shape after."""


def halo_rows(halos: xr.Dataset) -> tuple[list[str], list[list[str]]]:
    """The per-galaxy halo table: columns, and per galaxy its name and each quantity's median [16th, 84th
    percentile] (the profile's shape or core, where it has one, last; a quantity on a prior bound marked ⇥)."""
    from sigcube.model.kernels.halo_quantities import SHAPE

    names = {**HALO_COLUMNS, **{n: n + (f" [{u}]" if u else "") for n, u, _ in SHAPE.values() if n in halos}}
    body = []
    for g in halos.galaxy.values:
        row = [str(g)]
        for n in names:
            lo, mid, hi = (float(halos[n].sel(galaxy=g, quantile=q)) for q in (0.16, 0.5, 0.84))
            row.append(f"{mid:.2f} [{lo:.2f}, {hi:.2f}]" + (" ⇥" if bool(halos[f"{n}_at_bound"].sel(galaxy=g)) else ""))
        body.append(row)
    return ["galaxy", *names.values()], body


def render(result: Mapping[str, Any], console: Console | None = None) -> None:
    """Per nuisance setting, one row per model; then the MOND RAR scatter next to the literature."""
    console = console or Console()
    for label, rows in result["runs"].items():
        dataset = "SPARC" if result["dataset"] == "sparc" else result["dataset"]
        table = Table(title=f"model comparison on {dataset} ({result['n_galaxies']} galaxies, "
                            f"{result['n_points']} points) — "
                            + ("Υ, D, i marginalised / profiled (Li+2018 priors)" if label == "nuisance"
                               else "catalogue Υ, D, i"), title_justify="left")
        for col in ("model", "k", "best χ²", "AIC", "BIC", "ln Z ± num.", "ln B vs MOND ± num.", "ELPD_LOGO ± SE",
                    "CV held-out χ²/pt", "CV RMS", "best global", "s"):
            table.add_column(col, justify="left" if col in ("model", "best global") else "right")
        for name, r in rows.items():
            cv = r["cv"]
            best = ", ".join(f"{k}={v:.3g}" for k, v in r.get("best", {}).items()) or "per galaxy"
            table.add_row(name, str(r["k"]), _g(r["best_chi2"]), _g(r["aic"]), _g(r["bic"]),
                          f"{r['log_evidence']:.2f} ± {r['log_evidence_error']:.2f}",
                          f"{r['ln_B_vs_mond']:+.2f} ± {r['ln_B_vs_mond_error']:.2f}",
                          f"{r['elpd_logo']:.1f} ± {r['elpd_logo_se']:.1f}",
                          _g(cv and cv["held_out_chi2_per_point"], ".3f"),
                          _g(cv and cv["held_out_rms"], ".2f"), escape(best), f"{r['seconds']:.0f}")
        console.print(table)
        for name, r in rows.items():
            if "verdict_vs_mond" in r:
                console.print(f"{name} vs mond: ln B = {r['ln_B_vs_mond']:+.2f} ± {r['ln_B_vs_mond_error']:.2f} "
                              f"(numerical) — {r['verdict_vs_mond']}", highlight=False, soft_wrap=True)
            if "decision_vs_mond" in r:
                console.print(f"decision, {name} vs mond: {r['decision_vs_mond']['reading']}", highlight=False,
                              soft_wrap=True)
        for name, r in rows.items():
            if "sigma_int" in r:
                p, unit = r["sigma_int"], result["scatter"]["unit"]
                console.print(f"{name}: σ_int = {p['mean']:.4g} ± {p['sd']:.2g} {unit} (posterior mean ± sd, 95 % "
                              f"{p['ci95'][0]:.4g}–{p['ci95'][1]:.4g})", highlight=False)
            for key, kind in BESIDE.items():
                if key in r:
                    p, unit = r[key], result["scatter"][key]["unit"]
                    console.print(f"{name}: {kind.symbol} = {p['mean']:.3g} ± {p['sd']:.2g}{' ' + unit if unit else ''} "
                                  f"(posterior mean ± sd, 95 % {p['ci95'][0]:.3g}–{p['ci95'][1]:.3g})", highlight=False)
        for name, r in rows.items():
            if r.get("engine") == "sampler":
                ev = r["evidence"]
                per = ev["per_galaxy"]
                console.print(f"{name}: evidence by the sampler — each galaxy's parameters and Υ, D, i importance-"
                              f"sampled together; {per['converged']} of {per['of']} galaxies' estimates sure "
                              f"(Pareto k̂ ≤ {ev['engine']['usable_k']:g}, error ≤ {ev['engine']['galaxy_error']:g} "
                              f"nat, ≥ {ev['engine']['sure_share']:.0%} of draws effective)"
                              + (f", {len(r['on_grid'])} by the grid engine at the best point" if r.get("on_grid")
                                 else "")
                              + f"; sampling error {ev['errors']['sampling']:.2f} nat", highlight=False,
                              soft_wrap=True)
        for name, r in rows.items():
            if r.get("halos"):
                halos = xr.Dataset.from_dict(r["halos"])
                console.print(f"{name}: {halo_summary(halos)}", highlight=False, soft_wrap=True)
                if halos.sizes["galaxy"] <= HALO_ROWS:
                    columns, body = halo_rows(halos)
                    table = Table(title=f"{name}: each galaxy's halo, median [68 % interval] (⇥: computed "
                                        "from a parameter whose posterior piles at a prior bound)", title_justify="left")
                    for c in columns:
                        table.add_column(c, justify="left" if c == "galaxy" else "right")
                    for row in body:
                        table.add_row(*row)
                    console.print(table)
        for name, r in rows.items():
            for w in r.get("warnings", []):
                console.print(f"⚠ {name}: {escape(w)}", highlight=False, soft_wrap=True)
        if label in result.get("logo", {}):
            render_logo(result["logo"][label], console)
    for label, checks in result.get("predictive_checks", {}).items():
        for name, c in checks.items():
            console.print(f"predictive check ({label}), {name}: {c['reading']}", highlight=False, soft_wrap=True)
            if c.get("conflicts"):
                rows = c["conflicts"]
                console.print(f"prior–data conflict ({label}), {name}: {len(rows)} (galaxy, parameter) with the mode "
                              f"beyond {CONFLICT:g} prior sd: " + ", ".join(
                                  f"{r['galaxy']} {r['parameter']} {r['z_mode']:+.1f}" for r in rows[:10])
                              + (", …" if len(rows) > 10 else "") + " (all in --json)", highlight=False,
                              soft_wrap=True)
    for label, pairs in result.get("per_galaxy_bayes", {}).items():
        for key, p in pairs.items():
            console.print(f"per-galaxy evidence ({label}), {key}: a favoured in {p['a_favoured']} of {p['n']} galaxies; "
                          f"by > 1 nat: a {p['a_by_1_nat']}, b {p['b_by_1_nat']}; undecided numerically: "
                          f"{p.get('undecided', 0)}", highlight=False)
    rar = result.get("rar_mond_nuisance")
    if rar:
        table = Table(title="MOND (a0 fixed) with Υ, D, i profiled: RAR residual scatter [dex]", title_justify="left")
        for col in ("sample", "points", "galaxies", *RAR_SCATTERS, "robust acc", "rms w/o top"):
            table.add_column(col, justify="left" if col == "sample" else "right")
        samples = [k for k in ("full", "quality_subset") if k in rar]  # the subset needs SPARC's quality flags
        for key in samples:
            s = rar[key]
            table.add_row(key, str(s["n_points"]), str(s["n_galaxies"]), *(f"{s[n]:.3f}" for n in RAR_SCATTERS),
                          f"{s['rar_robust_accel']:.3f}", f"{s['rar_rms_accel_without_top']:.3f}")
        console.print(table)
        for key in samples:
            console.print(f"{key}: points dominating the rms (share of Σy²): " + "; ".join(
                f"{escape(t['galaxy'])} r = {t['radius_kpc']:.2f} kpc, y = {t['y_dex']:+.2f} dex "
                f"({100 * t['share']:.1f} %)" for t in rar[key]["dominant_points"]), highlight=False)
        for key in ("rar_robust_accel", "dominant_points"):
            console.print(f"[dim]{key}: {escape(rar['definitions'][key])}[/dim]", highlight=False)
        for v in rar["literature"].values():
            console.print(f"literature (not a seed figure): {v['value']} {v['unit']} — {escape(v['what'])}", highlight=False)
        console.print(f"[dim]subset: {escape(rar['subset_definition'])}[/dim]", highlight=False)
    conv = result["conventions"]
    for key in ("likelihood", "prior_form", "k", "aic", "bic", "best", "evidence", "verdict", "decision", "cv",
                "logo"):
        if key in conv:
            console.print(f"[dim]{key}: {escape(conv[key])}[/dim]", highlight=False)
    if "nuisance_priors" in conv:
        console.print(f"[dim]nuisance priors: {escape('; '.join(conv['nuisance_priors']))}[/dim]", highlight=False)
