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

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from scipy.special import logsumexp

from sigcube.engines.fit.core import best_curves
from sigcube.engines.fit.run import Runner, fit_points, in_process
from sigcube.engines.fit.spec import FitSpec, FreeParameter, parse_spec
from sigcube.errors import SigcubeError
from sigcube.io.rotation_curves import pack_sparc
from sigcube.model import metrics, segments
from sigcube.model.metrics import RAR_SCATTERS
from sigcube.model.points import PointSet
from sigcube.stats import logo
from sigcube.stats.intrinsic_scatter import Scatter, trapezoid_weights
from sigcube.stats.likelihood import GaussianLikelihood
from sigcube.study.reports.ablation import NUISANCE_STARTS

LN_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)


@dataclass(frozen=True)
class CompareModel:
    """A kernel with its global grid and its per-object fitted parameters (spec tables as in sigcube.engines.fit)."""

    kernel: str
    global_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    per_object: dict[str, dict[str, Any]] = field(default_factory=dict)
    what: str = ""


MODELS: dict[str, CompareModel] = {
    "sigma": CompareModel("sigma", {"A0": {"bounds": [0.5, 3.0], "grid": 21},
                                    "k": {"bounds": [0.02, 1.0], "grid": 16, "scale": "log"}},
                          what="canonical Σ-Gravity, A0 and k (ξ = k·R_d) global"),
    "mond": CompareModel("mond", {"a0": {"bounds": [3e-11, 3e-10], "grid": 41, "scale": "log"}},
                         what="MOND, a0 global"),
    "nfw": CompareModel("nfw", per_object={"log10_M200": {"bounds": [6.0, 14.0], "grid": 17},
                                           "c": {"bounds": [1.0, 50.0], "grid": 13, "scale": "log"}},
                        what="NFW halo, log10 M200 and c per galaxy (SI §15 bounds)"),
    "sigma_xi": CompareModel("sigma_xi", per_object={"A": {"bounds": [0.01, 5.0], "grid": 17},
                                                     "xi": {"bounds": [0.1, 50.0], "grid": 13, "scale": "log"}},
                             what="Σ-Gravity, A and ξ per galaxy (SI §15 bounds)"),
}
"""The models `report compare` knows, by the name given on the command line."""

REFERENCE = "mond"
"""Bayes factors are against this model."""

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


class CompareError(SigcubeError):
    """An unknown model name."""


def _spec(model: CompareModel) -> FitSpec:
    return parse_spec({"dataset": "sparc", "kernel": model.kernel, "free": {**model.global_params, **model.per_object}})


def fit_spec(model: CompareModel, nuisance: bool) -> FitSpec:
    """The per-galaxy fit of a model's per-object parameters, the nuisance profiled or not."""
    return parse_spec({"dataset": "sparc", "kernel": model.kernel, "free": model.per_object,
                       **({"nuisance": {"mode": "profile"}, "fit": {"starts": NUISANCE_STARTS}} if nuisance else {})})


def _grid(free: Sequence[FreeParameter]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The flattened product grid (one (M,) array per parameter) and ln of its prior weights (sum 1)."""
    values = np.meshgrid(*(p.grid_values() for p in free), indexing="ij")
    weights = np.meshgrid(*(trapezoid_weights(p.grid) for p in free), indexing="ij")
    return {p.name: v.ravel() for p, v in zip(free, values)}, np.log(np.prod([w.ravel() for w in weights], axis=0))


def _normalisation(points: PointSet) -> np.ndarray:
    """Σ ln(√(2π) e_V) per galaxy (ln L = −χ²/2 − this, with the quoted errors)."""
    return segments.segment_sum(LN_SQRT_2PI + np.log(points.inputs["e_v_obs"]), points.offsets)


def grid_loglike(spec: FitSpec, cube: xr.Dataset | None, points: PointSet, catalogue: Any,
                 nuisance: bool, scatter: Scatter | None = None) -> dict[str, np.ndarray]:
    """ln L over the grid of every free parameter of ``spec``: ``chi2``, ``loglike`` (max over the nuisance, at
    the mode of L × prior, its search restarted against local minima) and ``evidence_loglike`` (marginalised over
    the nuisance, about that mode), each (M, galaxies); with ``scatter``, over the joint grid (S·M, galaxies),
    σ_int-major, under its likelihood (``cube`` is read only without nuisance and scatter)."""
    import sigcube

    grid, _ = _grid(spec.free)
    fixed = {k: v for k, v in spec.kernel.resolve({p.name: p.lower for p in spec.free}).items() if k not in spec.names}
    if scatter is not None:
        return _scatter_loglike(spec, grid, fixed, points, catalogue, nuisance, scatter)
    if not nuisance:
        arrays = {n: xr.DataArray(v, dims="m") for n, v in grid.items()}
        score = sigcube.score(cube, spec.kernel.name, baseline=None, **fixed, **arrays)
        chi2 = score["chi2"].transpose("m", ...).values
        loglike = -0.5 * chi2 - _normalisation(points)
        return {"chi2": chi2, "loglike": loglike, "evidence_loglike": loglike,
                "rms": score["rms"].transpose("m", ...).values}
    from sigcube.compute.quadrature import marginalise
    from sigcube.stats.nuisance import NuisanceTransform, sparc_priors

    transform = NuisanceTransform(points, catalogue, spec.kernel.required_inputs({**fixed, **{
        p.name: p.lower for p in spec.free}}))
    marginal = marginalise(spec.kernel, {**fixed, **{n: v[:, None] for n, v in grid.items()}}, transform,
                           sparc_priors(catalogue), nodes=3, restarts=True)
    mode = marginal.mode
    return {"chi2": mode.chi2, "loglike": mode.log_likelihood, "objective": mode.chi2 + mode.chi2_prior,
            "evidence_loglike": marginal.log_marginal}


def _scatter_loglike(spec: FitSpec, grid: Mapping[str, np.ndarray], fixed: Mapping[str, Any], points: PointSet,
                     catalogue: Any, nuisance: bool, scatter: Scatter) -> dict[str, np.ndarray]:
    """:func:`grid_loglike` on the joint grid of ``scatter`` × the model's grid."""
    m = next(iter(grid.values())).size
    if not nuisance:
        v = np.broadcast_to(spec.kernel.func(points.inputs, **fixed, **{n: x[:, None] for n, x in grid.items()}),
                            (m, points.n_points))
        chi2, loglike = [], []
        for s in scatter.values:
            bound = GaussianLikelihood(s, scatter.error_model).bind(points.inputs["v_obs"], points.inputs["e_v_obs"],
                                                                     points.offsets)
            chi2.append(bound.chi2(v))
            loglike.append(bound.log_likelihood(v))
        return {"chi2": np.concatenate(chi2), "loglike": np.concatenate(loglike),
                "evidence_loglike": np.concatenate(loglike)}
    from sigcube.compute.quadrature import marginalise
    from sigcube.stats.nuisance import NuisanceTransform, sparc_priors

    transform = NuisanceTransform(points, catalogue, spec.kernel.required_inputs({**fixed, **{
        p.name: p.lower for p in spec.free}}))
    tiled = {n: np.tile(x, scatter.values.size)[:, None] for n, x in grid.items()}
    marginal = marginalise(spec.kernel, {**fixed, **tiled}, transform, sparc_priors(catalogue),
                           scatter.likelihood(m), nodes=3, restarts=True)
    mode = marginal.mode
    return {"chi2": mode.chi2, "loglike": mode.log_likelihood, "objective": mode.chi2 + mode.chi2_prior,
            "evidence_loglike": marginal.log_marginal}


def log_evidence(loglike: np.ndarray, log_w: np.ndarray, per_object: bool) -> float:
    """ln Z from ln L[m, g] on a grid with ln prior weights ``log_w`` (sum 1): global parameters share the grid
    point (LSE over m of Σ_g), per-object parameters each take their own (Σ_g of LSE over m)."""
    if per_object:
        return float(np.sum(logsumexp(loglike + log_w[:, None], axis=0)))
    return float(logsumexp(loglike.sum(axis=1) + log_w))


def model_logo(name: str, loglike: np.ndarray, log_w: np.ndarray, galaxies: Sequence[str],
               per_object: bool) -> logo.Logo:
    """Exact leave-one-galaxy-out of ln L[m, g] on a grid with ln prior weights ``log_w``: global parameters shared
    by every galaxy, or (``per_object``) each galaxy's own."""
    ll = xr.DataArray(loglike, dims=("m", "galaxy"), coords={"galaxy": list(galaxies)})
    prior = xr.DataArray(log_w, dims="m")
    words = "uniform in each parameter's grid coordinate over its bounds, trapezoid weights"
    if per_object:
        return logo.logo(ll, name=name, per_galaxy=("m",), log_prior_per_galaxy=prior, prior=words)
    return logo.logo(ll, name=name, log_prior=prior, prior=words)


def logo_summary(models: Mapping[str, logo.Logo], top: int = 10) -> dict[str, Any]:
    """The models' ELPD_LOGO ± SE, each one's difference to the best ± the paired SE, the per-galaxy contributions
    and, per model, the ``top`` galaxies whose contributions differ most from the best model's (one model: its
    ELPD_LOGO ± SE alone)."""
    if len(models) == 1:
        ((name, only),) = models.items()
        g = only.elpd.dims[0]
        return {"best": name, "models": {name: {"elpd": only.total, "se": only.se, "elpd_diff": 0.0, "dse": 0.0,
                                                "z": 0.0}},
                "per_galaxy": {"galaxy": [str(x) for x in only.elpd[g].values],
                               "elpd": {name: only.elpd.values.tolist()}},
                "drivers": {}, "describe": only.describe()}
    comparison = logo.compare(models)
    table = comparison.table
    names = [str(m) for m in table["model"].values]
    per = comparison.per_galaxy
    galaxies = [str(g) for g in per["galaxy"].values]
    drivers = {}
    for m in names[1:]:
        d = comparison.drivers(m, top)
        drivers[m] = [{"galaxy": str(g), "elpd_best": float(d["elpd"].sel(model=comparison.best, galaxy=g)),
                       "elpd": float(d["elpd"].sel(model=m, galaxy=g)),
                       "elpd_diff": float(d["elpd_diff"].sel(model=m, galaxy=g))} for g in d["galaxy"].values]
    return {"best": comparison.best,
            "models": {m: {k: float(table[k].sel(model=m)) for k in ("elpd", "se", "elpd_diff", "dse", "z")}
                       for m in names},
            "per_galaxy": {"galaxy": galaxies, "elpd": {m: per["elpd"].sel(model=m).values.tolist() for m in names}},
            "drivers": drivers, "describe": comparison.describe()}


def _nuisance_count(points: PointSet, nuisance: bool) -> int:
    if not nuisance:
        return 0
    bulge = segments.segment_sum(points.inputs["v_bul"] ** 2, points.offsets) > 0
    return int(3 * points.n_galaxies + bulge.sum())


def _cv(ll: Mapping[str, np.ndarray], points: PointSet, nuisance: bool) -> dict[str, Any]:
    """K-fold CV over galaxies of the global grid point (deterministic folds: galaxy i in fold i mod K)."""
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


def _with_scatter(name: str, model: CompareModel, spec: FitSpec, ll: Mapping[str, np.ndarray], log_w: np.ndarray,
                  galaxies: Sequence[str], scatter: Scatter) -> tuple[dict[str, Any], logo.Logo]:
    """The numbers of :func:`compare_model` on the joint grid σ_int × the model's grid (module docstring)."""
    s_n, m_n = scatter.values.size, log_w.size
    g_n = len(galaxies)
    shape = (s_n, m_n, g_n)
    loglike, evidence, chi2 = (ll[k].reshape(shape) for k in ("loglike", "evidence_loglike", "chi2"))
    grid, _ = _grid(spec.free)
    out: dict[str, Any] = {"grid_points": int(s_n * m_n), "cv": None}
    words = "uniform in each parameter's grid coordinate over its bounds, trapezoid weights; σ_int " + \
        scatter.describe()["prior"]
    dims = ("sigma_int", "m", "galaxy")
    ll_da = xr.DataArray(evidence, dims=dims, coords={"galaxy": list(galaxies)})
    w_s = xr.DataArray(scatter.log_w, dims="sigma_int")
    w_m = xr.DataArray(log_w, dims="m")
    if model.per_object:
        best_m = np.argmax(loglike, axis=1)                                            # (S, G)
        total = np.take_along_axis(loglike, best_m[:, None], axis=1)[:, 0].sum(axis=1)  # (S,)
        s = int(np.argmax(total))
        out["best_chi2"] = float(np.take_along_axis(chi2[s], best_m[s][None], axis=0).sum())
        out["ln_L_max"] = float(total[s])
        out["best"] = {"sigma_int": float(scatter.values[s])}
        per_galaxy = logsumexp(evidence + log_w[None, :, None], axis=1)              # (S, G)
        log_post = per_galaxy.sum(axis=1) + scatter.log_w
        out["galaxy_log_evidence"] = logsumexp(per_galaxy + scatter.log_w[:, None], axis=0).tolist()
        elpd = logo.logo(ll_da, name=name, per_galaxy=("m",), log_prior_per_galaxy=w_m, log_prior=w_s, prior=words)
    else:
        total = loglike.sum(axis=2)
        s, m = np.unravel_index(int(np.argmax(total)), total.shape)
        out["best_chi2"] = float(chi2[s, m].sum())
        out["ln_L_max"] = float(total[s, m])
        out["best"] = {**{n: float(v[m]) for n, v in grid.items()}, "sigma_int": float(scatter.values[s])}
        log_post = logsumexp(evidence.sum(axis=2) + log_w[None, :], axis=1) + scatter.log_w
        elpd = logo.logo(ll_da, name=name, log_prior=w_s + w_m, prior=words)
    out["log_evidence"] = float(logsumexp(log_post))
    out["sigma_int"] = scatter.posterior(log_post)
    return out, elpd


def compare_model(name: str, cube: xr.Dataset | None, points: PointSet, catalogue: Any, nuisance: bool,
                  run: Runner = in_process, scatter: Scatter | None = None) -> dict[str, Any]:
    """Every model-selection number of model ``name`` (module docstring), with or without the nuisance, with
    σ_int as ``scatter`` says (None: errors as quoted)."""
    model = MODELS[name]
    spec = _spec(model)
    start = time.perf_counter()
    ll = grid_loglike(spec, cube, points, catalogue, nuisance, scatter)
    _, log_w = _grid(spec.free)
    norm = float(_normalisation(points).sum())
    n_points = points.n_points
    out: dict[str, Any] = {"kernel": model.kernel, "what": model.what, "global": list(model.global_params),
                           "per_object": list(model.per_object), "grid_points": int(log_w.size)}
    if scatter is not None:
        numbers, elpd = _with_scatter(name, model, spec, ll, log_w, points.galaxy, scatter)
        out.update(numbers)
    elif model.per_object:
        fit = fit_points(fit_spec(model, nuisance), points, catalogue if nuisance else None, run)
        chi2 = float(fit["chi2"].sum())
        out["best_chi2"] = chi2
        out["ln_L_max"] = -0.5 * chi2 - norm
        out["log_evidence"] = log_evidence(ll["evidence_loglike"], log_w, per_object=True)
        out["galaxy_log_evidence"] = logsumexp(ll["evidence_loglike"] + log_w[:, None], axis=0).tolist()
        out["cv"] = None
    else:
        total = ll["loglike"].sum(axis=1)
        m = int(np.argmax(total))
        out["best_chi2"] = float(ll["chi2"][m].sum())
        out["ln_L_max"] = float(total[m])
        grid, _ = _grid(spec.free)
        out["best"] = {n: float(v[m]) for n, v in grid.items()}
        out["log_evidence"] = log_evidence(ll["evidence_loglike"], log_w, per_object=False)
        out["cv"] = _cv(ll, points, nuisance)
    if scatter is None:
        elpd = model_logo(name, ll["evidence_loglike"], log_w, points.galaxy, bool(model.per_object))
    out.update({"elpd_logo": elpd.total, "elpd_logo_se": elpd.se, "_logo": elpd})
    k = (len(model.global_params) + len(model.per_object) * points.n_galaxies + _nuisance_count(points, nuisance)
         + int(scatter is not None and scatter.free))
    out.update({"k": k, "n_points": n_points, "aic": 2 * k - 2 * out["ln_L_max"],
                "bic": k * np.log(n_points) - 2 * out["ln_L_max"], "seconds": time.perf_counter() - start})
    return out


def per_galaxy_bayes(rows: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    """For each pair of per-object models: galaxies whose ln Z favours a (ln B > 0), and by more than 1 nat either
    way (Jeffreys' 'substantial' is ln B > 1.15; 1 nat is stated as the threshold here)."""
    z = {n: np.asarray(r["galaxy_log_evidence"]) for n, r in rows.items() if "galaxy_log_evidence" in r}
    out = {}
    names = list(z)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            ln_b = z[a] - z[b]
            out[f"{a}_vs_{b}"] = {"n": int(ln_b.size), "a_favoured": int((ln_b > 0).sum()),
                                  "a_by_1_nat": int((ln_b > 1).sum()), "b_by_1_nat": int((ln_b < -1).sum())}
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


def compare_report(cube: xr.Dataset, names: Sequence[str], *, nuisance: bool = True,
                   run: Runner = in_process, scatter: Scatter | None = None) -> dict[str, Any]:
    """Model selection over ``names`` (keys of :data:`MODELS`; MOND is added as the Bayes-factor reference), with
    σ_int as ``scatter`` says (None: errors as quoted)."""
    from sigcube.stats.nuisance import describe_priors, sparc_priors

    unknown = [n for n in names if n not in MODELS]
    if unknown:
        raise CompareError(f"unknown model(s) {', '.join(unknown)}; report compare knows {', '.join(MODELS)}")
    names = list(dict.fromkeys([*names, REFERENCE]))
    points = pack_sparc(cube)
    catalogue = _catalogue(cube, points) if nuisance else None
    out: dict[str, Any] = {"dataset": cube.attrs.get("sigcube_kind", ""), "n_galaxies": points.n_galaxies,
                           "n_points": points.n_points, "runs": {}}
    for profiled in ((False, True) if nuisance else (False,)):
        rows = {n: compare_model(n, cube, points, catalogue, profiled, run, scatter) for n in names}
        for row in rows.values():
            row["ln_B_vs_mond"] = row["log_evidence"] - rows[REFERENCE]["log_evidence"]
        label = "nuisance" if profiled else "catalogue"
        out["runs"][label] = rows
        out.setdefault("logo", {})[label] = logo_summary({n: r.pop("_logo") for n, r in rows.items()})
        out.setdefault("per_galaxy_bayes", {})[label] = per_galaxy_bayes(rows)
    if nuisance:
        out["rar_mond_nuisance"] = rar_scatter_mond(points, catalogue, cube, run)
    if scatter is not None:
        out["scatter"] = scatter.describe()
    out["conventions"] = {
        "likelihood": ("Gaussian, errors as quoted, no error floor: ln L = −χ²/2 − Σ ln(√(2π) e_V)" if scatter is None
                       else GaussianLikelihood(scatter.values, scatter.error_model).describe()
                       + f" σ_int's prior: {scatter.describe()['prior']}."),
        "priors": {n: {p: {k: v for k, v in t.items() if k != "grid"} for p, t in
                       {**MODELS[n].global_params, **MODELS[n].per_object}.items()} for n in names},
        "prior_form": "uniform in each parameter's grid coordinate (linear, or log10 where scale = log) over its bounds",
        **({"nuisance_priors": describe_priors(sparc_priors(catalogue))} if nuisance else {}),
        "k": "global parameters + per-object parameters × galaxies + nuisance parameters (3 per galaxy, 4 with a "
             "bulge, when profiled/marginalised)" + (" + 1 for σ_int on a grid" if scatter is not None else ""),
        "aic": "2k − 2 ln L_max", "bic": "k ln N − 2 ln L_max, N = points",
        "evidence": "grid sum with trapezoid prior weights; nuisance marginalised by adaptive Gauss–Hermite "
                    "(3 nodes per dimension, sigcube.compute.quadrature)",
        "cv": (f"{FOLDS} folds, galaxy i in fold i mod {FOLDS} (the packed order); the grid point best on the other "
               "folds (χ², or χ² + |z|² with nuisance) scored on the held-out fold") if scatter is None else
              "not computed with σ_int (it scores χ², which σ_int changes; ELPD_LOGO is the predictive comparison)",
        "logo": "exact leave-one-galaxy-out on the grid, same priors and ln L as ln Z (with the nuisance: marginalised): "
                "elpd_g = ln p(D_g | D_-g) for global parameters, the galaxy's own evidence for per-object ones; "
                "SE = √(n·Var_g elpd_g), each galaxy an exchangeable draw; a difference's SE from the paired "
                "per-galaxy differences (Vehtari, Gelman & Gabry 2017)",
        "grids": {n: {p: t for p, t in {**MODELS[n].global_params, **MODELS[n].per_object}.items()} for n in names},
        "cube_content_sha256": cube.attrs.get("content_sha256", ""),
    }
    return out


def render_logo(summary: Mapping[str, Any], console: Console) -> None:
    """Each model's ELPD_LOGO difference to the best ± its paired SE, and the galaxies that drive it."""
    best = summary["best"]
    for name, m in summary["models"].items():
        if name == best:
            continue
        console.print(f"ELPD_LOGO: {name} is {m['elpd_diff']:.1f} ± {m['dse']:.1f} nat below {best} (z = {m['z']:.1f}, "
                      "paired SE); largest per-galaxy differences ("
                      + f"{best} − {name}): " + ", ".join(f"{escape(d['galaxy'])} {d['elpd_diff']:+.1f}"
                                                        for d in summary["drivers"][name][:5]),
                      highlight=False, soft_wrap=True)


def _g(v: float | None, fmt: str = ".1f") -> str:
    return "—" if v is None else format(v, fmt)


def render(result: Mapping[str, Any], console: Console | None = None) -> None:
    """Per nuisance setting, one row per model; then the MOND RAR scatter next to the literature."""
    console = console or Console()
    for label, rows in result["runs"].items():
        dataset = "SPARC" if result["dataset"] == "sparc" else result["dataset"]
        table = Table(title=f"model comparison on {dataset} ({result['n_galaxies']} galaxies, "
                            f"{result['n_points']} points) — "
                            + ("Υ, D, i marginalised / profiled (Li+2018 priors)" if label == "nuisance"
                               else "catalogue Υ, D, i"), title_justify="left")
        for col in ("model", "k", "best χ²", "AIC", "BIC", "ln Z", "ln B vs MOND", "ELPD_LOGO ± SE",
                    "CV held-out χ²/pt", "CV RMS", "best global", "s"):
            table.add_column(col, justify="left" if col in ("model", "best global") else "right")
        for name, r in rows.items():
            cv = r["cv"]
            best = ", ".join(f"{k}={v:.3g}" for k, v in r.get("best", {}).items()) or "per galaxy"
            table.add_row(name, str(r["k"]), _g(r["best_chi2"]), _g(r["aic"]), _g(r["bic"]), _g(r["log_evidence"]),
                          _g(r["ln_B_vs_mond"]), f"{r['elpd_logo']:.1f} ± {r['elpd_logo_se']:.1f}",
                          _g(cv and cv["held_out_chi2_per_point"], ".3f"),
                          _g(cv and cv["held_out_rms"], ".2f"), escape(best), f"{r['seconds']:.0f}")
        console.print(table)
        for name, r in rows.items():
            if "sigma_int" in r:
                p, unit = r["sigma_int"], result["scatter"]["unit"]
                console.print(f"{name}: σ_int = {p['mean']:.4g} ± {p['sd']:.2g} {unit} (posterior mean ± sd, "
                              f"mode {p['mode']:.4g})" + (" — the grid cuts the posterior: widen --sigma-int"
                                                          if p["cut_by_grid"] else ""), highlight=False)
        if label in result.get("logo", {}):
            render_logo(result["logo"][label], console)
    for label, pairs in result.get("per_galaxy_bayes", {}).items():
        for key, p in pairs.items():
            console.print(f"per-galaxy evidence ({label}), {key}: a favoured in {p['a_favoured']} of {p['n']} galaxies; "
                          f"by > 1 nat: a {p['a_by_1_nat']}, b {p['b_by_1_nat']}", highlight=False)
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
    for key in ("likelihood", "prior_form", "k", "aic", "bic", "evidence", "cv", "logo"):
        console.print(f"[dim]{key}: {escape(conv[key])}[/dim]", highlight=False)
    if "nuisance_priors" in conv:
        console.print(f"[dim]nuisance priors: {escape('; '.join(conv['nuisance_priors']))}[/dim]", highlight=False)
