"""`sigcube report ablation`: SI §15 redone — Σ-Gravity (A, ξ) vs NFW (M200, c) fitted per galaxy, and MOND.

Every model is fitted per galaxy with :mod:`sigcube.engines.fit` (coarse grid, then bounded least squares) on the
paper's SPARC sample: ``sigma_xi`` (A ∈ [0.01, 5], ξ ∈ [0.1, 50] kpc), ``nfw`` (log10 M200 ∈ [6, 14],
c ∈ [1, 50]), MOND with a0 free per galaxy and MOND at the fixed a0 = 1.2×10⁻¹⁰ m/s² — first at the catalogue
Υ, D, i, then with Υ_disk, Υ_bul, D, i profiled under the Li+2018 priors. For each: mean and median χ²_red
(dof N − k − d), fits on a bound, parameter percentiles and the RAR scatter under every definition of
:mod:`sigcube.model.metrics`; for each pair: wins / ties (|ratio − 1| < 0.05) / losses on χ²_red and a seeded
bootstrap 95 % interval on the win fraction. The SI §15.2 figures (:mod:`sigcube.study.published`) sit next to the
measured values with ✓/✗; ``findings`` says in sentences where they hold and where they fail.

The error floor σ_int [km/s] is one value (0: errors as quoted) or a grid (``--sigma-int LO:HI:N``): one more
global parameter of every model, profiled over the grid (:func:`ablation`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sigcube.engines.fit.core import best_curves
from sigcube.engines.fit.run import Runner, fit_points, in_process, likelihood_text
from sigcube.engines.fit.spec import FitSpec, parse_spec
from sigcube.errors import SigcubeError
from sigcube.io.rotation_curves import pack_sparc
from sigcube.model import metrics
from sigcube.model.metrics import RAR_SCATTERS
from sigcube.model.points import PointSet
from sigcube.stats.intrinsic_scatter import Scatter
from sigcube.stats.verdicts import fraction
from sigcube.study.published import figure, not_the_seed_sample

class AblationError(SigcubeError):
    """Settings the ablation's per-galaxy fits cannot take."""


TIE = 0.05
"""|χ²_red ratio − 1| below this is a tie."""

MODELS: dict[str, dict[str, Any]] = {
    "sigma_xi": {"kernel": "sigma_xi", "free": {"A": {"bounds": [0.01, 5.0], "grid": 12},
                                               "xi": {"bounds": [0.1, 50.0], "grid": 12, "scale": "log"}}},
    "nfw": {"kernel": "nfw", "free": {"log10_M200": {"bounds": [6.0, 14.0], "grid": 12},
                                      "c": {"bounds": [1.0, 50.0], "grid": 12, "scale": "log"}}},
    "mond_free": {"kernel": "mond", "free": {"a0": {"bounds": [1e-12, 1e-8], "grid": 17, "scale": "log"}}},
    "mond_fixed": {"kernel": "mond", "free": {}},
}
"""The ablation's models as fit specs (the shipped sweeps/fits/fit_sigma_xi.toml and fit_nfw.toml are the first two)."""

NUISANCE_GRID = 8
"""Coarse-grid points per free parameter when the nuisance is profiled (each grid point runs a profile)."""

NUISANCE_STARTS = 6
"""Local optimisations per galaxy when the nuisance is profiled (from the grid's local minima first): with the
nuisance the objective has more local minima than the coarse grid's two best points reach."""

PAIRS = (("sigma_xi", "nfw"), ("sigma_xi", "mond_free"), ("nfw", "mond_free"), ("sigma_xi", "mond_fixed"))
"""Head-to-head comparisons on χ²_red (the first is SI §15's)."""

PERCENTILES = (5, 16, 50, 84, 95)


def model_spec(name: str, nuisance: bool, sigma_int: float = 0.0) -> FitSpec:
    """The fit spec of model ``name``, with the nuisance profiled or not, and an error floor σ_int [km/s]."""
    raw = {"name": name + ("_nuisance" if nuisance else ""), "dataset": "sparc", **MODELS[name],
           "fit": {"sigma_int": sigma_int}}
    if nuisance:
        raw = {**raw, "free": {p: {**v, "grid": min(v["grid"], NUISANCE_GRID)} for p, v in raw["free"].items()},
               "nuisance": {"mode": "profile"}, "fit": {"starts": NUISANCE_STARTS, "sigma_int": sigma_int}}
    return parse_spec(raw)


def fit_model(name: str, nuisance: bool, points: PointSet, catalogue: Any, run: Runner,
              sigma_int: float = 0.0) -> tuple[FitSpec, xr.Dataset]:
    spec = model_spec(name, nuisance, sigma_int)
    return spec, fit_points(spec, points, catalogue if nuisance else None, run)


def _summary(spec: FitSpec, fit: xr.Dataset, points: PointSet, catalogue: Any, seconds: float) -> dict[str, Any]:
    ok = fit["dof_ok"].values & np.isfinite(fit["chi2_red"].values)
    red = fit["chi2_red"].values[ok]
    v, v_obs, e_v = best_curves(spec, fit, points, catalogue)
    scatter = metrics.compute(v, v_obs, e_v, points.offsets)
    robust = metrics.rar_residual_summary(v_obs, v, points.offsets, points.galaxy, points.inputs["r"], top=3)
    bound = np.zeros(fit.sizes["galaxy"], dtype=bool)
    out: dict[str, Any] = {
        "kernel": spec.kernel.name, "k": spec.k, "nuisance": spec.nuisance,
        "nuisance_parameters": list(spec.nuisance_parameters),
        "n_galaxies": int(fit.sizes["galaxy"]), "n_with_dof": int(ok.sum()),
        "mean_chi2_red": float(np.mean(red)), "median_chi2_red": float(np.median(red)),
        "total_chi2": float(fit["chi2"].sum()), "converged": int(fit["converged"].sum()),
        **{name: float(scatter[name]) for name in RAR_SCATTERS}, "rar_robust_accel": robust["robust"],
        "dominant_points": robust["top"], "seconds": seconds, "parameters": {},
    }
    names = [str(g) for g in fit["galaxy"].values]
    for p in spec.free:
        at = fit[f"{p.name}_at_bound"].values
        bound |= at
        values = fit[p.name].values
        lower = at & (np.abs(p.to_u(values) - p.u_bounds[0]) < np.abs(p.to_u(values) - p.u_bounds[1]))
        out["parameters"][p.name] = {
            "bounds": [p.lower, p.upper], "scale": p.scale, "at_bound": int(at.sum()), "at_lower": int(lower.sum()),
            "galaxies_at_bound": [{"galaxy": names[i], "bound": "lower" if lower[i] else "upper"}
                                  for i in np.flatnonzero(at)],
            "percentiles": {str(q): float(v) for q, v in zip(PERCENTILES, np.percentile(values, PERCENTILES))}}
    for n in spec.nuisance_parameters:
        values = fit[n].values[np.isfinite(fit[n].values)]
        out["parameters"][n] = {"percentiles": {str(q): float(v) for q, v in zip(PERCENTILES,
                                                                                 np.percentile(values, PERCENTILES))}}
    out["at_bound_fraction"] = float(bound.mean()) if spec.k else 0.0
    return out


def _bootstrap(win: np.ndarray, seed: int, n_boot: int) -> dict[str, Any]:
    """A seeded bootstrap over galaxies of the fraction of ``win``: mean, 1σ and the 95 % percentile interval; and
    the fraction's exact binomial 95 % interval (:func:`~sigcube.stats.verdicts.fraction`)."""
    rng = np.random.default_rng(seed)
    fractions = win[rng.integers(0, win.size, size=(n_boot, win.size))].mean(axis=1)
    lo, hi = np.percentile(fractions, [2.5, 97.5])
    return {"win_fraction": float(win.mean()), "bootstrap_mean": float(fractions.mean()),
            "bootstrap_std": float(fractions.std(ddof=1)), "bootstrap_ci95": [float(lo), float(hi)],
            "bootstrap_seed": seed, "bootstrap_resamples": n_boot,
            "binomial": fraction(int(win.sum()), int(win.size))}


def head_to_head(a: xr.Dataset, b: xr.Dataset, seed: int, n_boot: int) -> dict[str, Any]:
    """Wins / ties / losses of ``a`` against ``b`` on χ²_red, and a bootstrap over galaxies of a's win fraction."""
    ra, rb = a["chi2_red"].values, b["chi2_red"].values
    both = a["dof_ok"].values & b["dof_ok"].values & np.isfinite(ra) & np.isfinite(rb)
    ratio = ra[both] / rb[both]
    win = ratio < 1.0
    tie = np.abs(ratio - 1.0) < TIE
    return {"n": int(both.sum()), "wins_strict": int(win.sum()), "losses_strict": int((~win).sum()),
            "wins": int((win & ~tie).sum()), "ties": int(tie.sum()), "losses": int((~win & ~tie).sum()),
            **_bootstrap(win, seed, n_boot)}


def loglike_head_to_head(a: np.ndarray, b: np.ndarray, seed: int, n_boot: int) -> dict[str, Any]:
    """Galaxy by galaxy, a's profile ln L against b's (each at its own σ_int): wins (higher), by more than 1 nat
    either way, and a bootstrap over galaxies of a's win fraction."""
    both = np.isfinite(a) & np.isfinite(b)
    d = a[both] - b[both]
    return {"n": int(both.sum()), "wins_strict": int((d > 0).sum()), "losses_strict": int((d <= 0).sum()),
            "a_by_1_nat": int((d > 1).sum()), "b_by_1_nat": int((d < -1).sum()), "ln_L_difference": float(d.sum()),
            **_bootstrap(d > 0, seed, n_boot)}


def galaxy_loglike(spec: FitSpec, fit: xr.Dataset, points: PointSet, catalogue: Any) -> np.ndarray:
    """Each galaxy's ln L at its fit: the density of the tabulated V_obs (:mod:`sigcube.stats.likelihood`, error
    floor σ_int, normalisation included) at the fitted parameters and, when profiled, the fitted Υ, D, i — less
    ½|z|², the Li+2018 priors' penalty in their normal deviates (the objective the profile minimises)."""
    from sigcube.stats.likelihood import GaussianLikelihood

    v_pred, _, _ = best_curves(spec, fit, points, catalogue)
    qinv = None
    if spec.nuisance != "none":
        qinv = (np.sin(np.radians(fit["inclination"].values))
                / np.sin(np.radians(catalogue.columns["inclination"])))[None, :]
    bound = GaussianLikelihood(spec.sigma_int).bind(points.inputs["v_obs"], points.inputs["e_v_obs"], points.offsets)
    log_like = bound.log_likelihood(v_pred[None, :], qinv)[0]
    if spec.nuisance != "none":
        log_like = log_like - 0.5 * (fit["objective"].values - fit["chi2"].values)
    return log_like


def _run(profiled: bool, points: PointSet, catalogue: Any, models: Sequence[str], run: Runner, seed: int,
         n_boot: int, sigma_int: float) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Every model fitted per galaxy at the error floor ``sigma_int`` [km/s], compared pair by pair on χ²_red; with
    each model's per-galaxy ln L (:func:`galaxy_loglike`)."""
    fits: dict[str, xr.Dataset] = {}
    log_like: dict[str, np.ndarray] = {}
    out: dict[str, Any] = {"models": {}, "pairs": {}, "likelihood": {}}
    for name in models:
        start = time.perf_counter()
        spec, fits[name] = fit_model(name, profiled, points, catalogue, run, sigma_int)
        out["models"][name] = _summary(spec, fits[name], points, catalogue, time.perf_counter() - start)
        out["likelihood"][name] = likelihood_text(spec)
        log_like[name] = galaxy_loglike(spec, fits[name], points, catalogue)
    for a, b in PAIRS:
        if a in fits and b in fits:
            out["pairs"][f"{a}_vs_{b}"] = head_to_head(fits[a], fits[b], seed, n_boot)
    return out, log_like


def ablation_report(cube: xr.Dataset, *, nuisance: bool = True, run: Runner = in_process, seed: int = 0,
                    n_boot: int = 2000, models: Sequence[str] = tuple(MODELS),
                    sigma_int: float | Scatter = 0.0) -> dict[str, Any]:
    """:func:`ablation` of the SPARC-schema ``cube``'s sample, its content hash in the conventions."""
    from sigcube.stats.nuisance import Catalogue

    points = pack_sparc(cube)
    out = ablation(points, Catalogue.from_cube(cube, points), nuisance=nuisance, run=run, seed=seed, n_boot=n_boot,
                   models=models, sigma_int=sigma_int, elsewhere=not_the_seed_sample(cube.attrs, cube.sizes["galaxy"]))
    out["conventions"]["cube_content_sha256"] = cube.attrs.get("content_sha256", "")
    return out


def ablation(points: PointSet, catalogue: Any, *, nuisance: bool = True, run: Runner = in_process, seed: int = 0,
             n_boot: int = 2000, models: Sequence[str] = tuple(MODELS),
             sigma_int: float | Scatter = 0.0, elsewhere: str | None = None) -> dict[str, Any]:
    """Fit every model per galaxy of ``points`` (with and, when ``nuisance``, without the nuisance profiled under
    the priors of ``catalogue``) and compare.

    ``sigma_int`` [km/s] is an error floor added in quadrature to every velocity error (0: errors as quoted); a
    :class:`~sigcube.stats.intrinsic_scatter.Scatter` grid makes it one more global parameter of every model: the
    ablation runs at each grid value (``by_sigma_int``), each model's σ_int is profiled (``sigma_int_profile``)
    and the models are compared galaxy by galaxy on ln L, each at its own best σ_int (``pairs_at_best``).
    ``elsewhere``: why the sample is not the one SI §15 used (its figures are then not set beside the values)."""
    from sigcube.stats.nuisance import describe_priors, sparc_priors

    scatter = sigma_int if isinstance(sigma_int, Scatter) else Scatter(np.array([float(sigma_int)]))
    if scatter.error_model != "velocity_floor":
        raise AblationError("report ablation's per-galaxy fits take σ_int as a velocity floor [km/s] only "
                            f"(error model velocity_floor), not {scatter.error_model}; report compare and nuisance "
                            "sweeps take the log-normal error models too")
    labels = {False: "catalogue", True: "nuisance_profiled"}
    modes = (False, True) if nuisance else (False,)
    blocks = []
    for value in scatter.values:
        ran = {labels[p]: _run(p, points, catalogue, models, run, seed, n_boot, float(value)) for p in modes}
        blocks.append((float(value), ran))
    out: dict[str, Any] = {"n_galaxies": points.n_galaxies, "n_points": points.n_points}
    if not scatter.free:
        out["sigma_int"] = blocks[0][0]
        out["runs"] = {label: r for label, (r, _) in blocks[0][1].items()}
        out["figures"], out["findings"] = _against_si(out, models, elsewhere)
    else:
        out["sigma_int"] = None
        out["scatter"] = scatter.describe()
        out["by_sigma_int"] = [{"sigma_int": v, "runs": {label: r for label, (r, _) in ran.items()}} for v, ran in blocks]
        out.update(_scatter_comparison(scatter, blocks, models, seed, n_boot))
        zero = [b for b in out["by_sigma_int"] if b["sigma_int"] == 0.0]
        if zero:
            out["figures"], found = _against_si({"n_galaxies": points.n_galaxies, "runs": zero[0]["runs"]}, models,
                                                elsewhere)
        else:
            out["figures"], found = [], ["σ_int = 0, the SI's setting, is not on the grid: no SI §15.2 figure is "
                                         "compared."]
        out["findings"] = found + scatter_findings(out)
    out["conventions"] = {
        "dof": "N − k − d per galaxy: N points, k fitted kernel parameters, d profiled nuisance parameters "
               "(3, or 4 with a bulge); χ²_red = χ²/dof; galaxies with dof ≤ 0 are left out of the means",
        "tie": f"|χ²_red(a)/χ²_red(b) − 1| < {TIE}; 'strict' wins/losses ignore the tie band",
        "priors": describe_priors(sparc_priors(catalogue)),
        "bootstrap": f"{n_boot} resamples of the galaxies with replacement, numpy seed {seed}; 95 % = 2.5–97.5 "
                     "percentiles of the win fraction",
        "nuisance_grid": f"{NUISANCE_GRID} points per free parameter when profiled (the profile runs at each); "
                         f"{NUISANCE_STARTS} local optimisations per galaxy, from the grid's local minima first",
        "rar_scatter": {name: metrics.METRICS[name].definition for name in RAR_SCATTERS}
        | {"rar_robust_accel": metrics.RAR_ROBUST, "dominant_points": "the 3 points with the largest "
           "log10(g_obs/g_pred)², the §3.5 rms's own terms, with their share of the sum"},
        "sample_cuts": points.cuts.as_dict(),
    }
    if scatter.free:
        out["conventions"]["ln_L"] = (
            "per galaxy, the Gaussian density of the tabulated V_obs at the fit (errors e_V ⊕ σ_int, normalisation "
            "included; with the nuisance profiled, at the fitted Υ, D, i, less ½|z|² of the priors). The fits "
            "minimise χ² (+ |z|²) at each σ_int; the normalisation's dependence on i is not optimised (exact at "
            "σ_int = 0)")
        out["conventions"]["sigma_int"] = (
            f"σ_int on a grid of {scatter.values.size} values from {scatter.values[0]:g} to {scatter.values[-1]:g} "
            f"{scatter.describe()['unit']} (no prior: a profile), one global value per model: every model is fitted "
            "at each grid value; its profile is Σ_g ln L_g at each (every galaxy's parameters at their best there), its best "
            "value the grid maximum, its interval the grid values within Δ ln L ≤ ½ (≈ 68 %, to the grid's step) "
            "and, the maximum inside the grid, the vertex ± 1σ = √(−1/(2a)) of the parabola ln L ≈ c + bσ + aσ² "
            "through the best three grid values; a galaxy whose ln L is not finite at some value is left out of that "
            "model's profile (n_galaxies says how many are in). pairs_at_best: galaxy g favours a when ln L_g(a) > ln L_g(b), each model at its own best σ_int (one "
            "more global parameter each, so the count of parameters is equal)")
    return out


def _against_si(result: Mapping[str, Any], models: Sequence[str], elsewhere: str | None = None
                ) -> tuple[list[dict[str, Any]], list[str]]:
    """The SI §15.2 figures and findings of ``result`` (its ``runs`` at σ_int = 0 or a fixed floor), when it fits
    both models the SI compares on the sample the SI used (``elsewhere``: why the cube is not that sample)."""
    if elsewhere:
        return [], [elsewhere[0].upper() + elsewhere[1:] + " (SI §15.2's figures are for SPARC)."]
    if not {"sigma_xi", "nfw"} <= set(models):
        return [], ["SI §15.2 compares sigma_xi with nfw: with not both among the models, no SI figure is compared."]
    figs = figures(result)
    return figs, findings({**result, "figures": figs})


def _scatter_comparison(scatter: Scatter, blocks: Sequence[tuple[float, Mapping[str, Any]]], models: Sequence[str],
                        seed: int, n_boot: int) -> dict[str, Any]:
    """Each model's σ_int profile per run, and the models compared galaxy by galaxy at their own best σ_int."""
    profile: dict[str, Any] = {}
    pairs: dict[str, Any] = {}
    for label in blocks[0][1]:
        per_galaxy = {name: np.stack([ran[label][1][name] for _, ran in blocks]) for name in models}  # (S, G)
        finite = {name: np.all(np.isfinite(ll), axis=0) for name, ll in per_galaxy.items()}
        profile[label] = {name: {**scatter.profile(ll[:, finite[name]].sum(axis=1)),
                                 "n_galaxies": int(finite[name].sum())} for name, ll in per_galaxy.items()}
        at_best = {name: ll[int(np.flatnonzero(scatter.values == profile[label][name]["best"])[0])]
                   for name, ll in per_galaxy.items()}
        pairs[label] = {f"{a}_vs_{b}": loglike_head_to_head(at_best[a], at_best[b], seed, n_boot)
                        for a, b in PAIRS if a in at_best and b in at_best}
    return {"sigma_int_profile": profile, "pairs_at_best": pairs}


def scatter_findings(result: Mapping[str, Any]) -> list[str]:
    """Sentences on σ_int: each model's best value, and how SI §15's head-to-head moves along the grid."""
    out = []
    unit = result["scatter"]["unit"]
    for label, models in result["sigma_int_profile"].items():
        where = "catalogue Υ, D, i" if label == "catalogue" else "Υ, D, i profiled"
        out.append(f"σ_int profiled ({where}): " + "; ".join(
            f"{name} {p['best']:g} {unit} (grid values within Δ ln L ≤ ½: {p['interval_68'][0]:g}–"
            f"{p['interval_68'][1]:g}" + (", at the grid's end: widen the grid" if p["cut_by_grid"] else "")
            + (f"; parabola {p['parabola']['best']:.3g} ± {p['parabola']['sd']:.2g}" if p["parabola"] else "") + ")"
            for name, p in models.items()) + ".")
        trend = [(b["sigma_int"], b["runs"][label]["pairs"].get("sigma_xi_vs_nfw")) for b in result["by_sigma_int"]]
        if all(p for _, p in trend):
            out.append(f"Σ (A, ξ) vs NFW on χ²_red ({where}), Σ's win fraction by σ_int: " + ", ".join(
                f"{v:g} {unit}: {100 * p['win_fraction']:.1f} %" for v, p in trend) + ".")
        best = result["pairs_at_best"][label].get("sigma_xi_vs_nfw")
        if best:
            out.append(f"Each at its own best σ_int ({where}), Σ (A, ξ) has the higher ln L in {best['wins_strict']} of "
                       f"{best['n']} galaxies ({100 * best['win_fraction']:.1f} %, 95 % "
                       f"{100 * best['bootstrap_ci95'][0]:.1f}–{100 * best['bootstrap_ci95'][1]:.1f} %); by > 1 nat: "
                       f"Σ {best['a_by_1_nat']}, NFW {best['b_by_1_nat']}; Σ ln L(Σ) − ln L(NFW) = "
                       f"{best['ln_L_difference']:.1f}.")
    return out


_SI_ROWS = (("mean_chi2_red", "ablation.{m}.mean_chi2_red"), ("median_chi2_red", "ablation.{m}.median_chi2_red"))


def figures(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every SI §15.2 figure next to the value measured at the catalogue Υ, D, i (the SI's setting)."""
    run = result["runs"]["catalogue"]
    pair = run["pairs"]["sigma_xi_vs_nfw"]
    rows: list[tuple[str, str, float, float]] = []
    for model, key in (("sigma_xi", "sigma"), ("nfw", "nfw")):
        m = run["models"][model]
        rows += [(f"{model}.{q}", f.format(m=key), m[q], 1.0) for q, f in _SI_ROWS]
        for name in RAR_SCATTERS:
            rows.append((f"{model}.{name}", f"ablation.{key}.rar_scatter", m[name], 1.0))
    rows += [("sigma_xi.wins_strict", "ablation.sigma.wins", pair["wins_strict"], 1.0),
             ("nfw.wins_strict", "ablation.nfw.wins", pair["losses_strict"], 1.0),
             ("win_fraction", "ablation.sigma.win_rate", pair["win_fraction"], 100.0),
             ("bootstrap_ci95_half_width", "ablation.sigma.win_rate_ci",
              (pair["bootstrap_ci95"][1] - pair["bootstrap_ci95"][0]) / 2.0, 100.0),
             ("bootstrap_std", "ablation.sigma.win_rate_ci", pair["bootstrap_std"], 100.0)]
    out = []
    for quantity, key, value, scale in rows:
        fig = figure(key)
        out.append({"quantity": quantity, "computed": value, "key": key, "value": fig.value, "unit": fig.unit,
                    "citation": fig.citation(), "seed": fig.seed, "section": fig.section, "scale": scale,
                    "reproduced": fig.reproduced_by(value, scale)})
    return out


def findings(result: Mapping[str, Any]) -> list[str]:
    """Sentences: where the SI §15 claims hold and where they fail, from the measured numbers."""
    cat = result["runs"]["catalogue"]
    s, n = cat["models"]["sigma_xi"], cat["models"]["nfw"]
    pair = cat["pairs"]["sigma_xi_vs_nfw"]
    wins_fig, losses_fig = figure("ablation.sigma.wins").number, figure("ablation.nfw.wins").number
    rate_fig = figure("ablation.sigma.win_rate").number
    out = []
    for q, label in (("mean_chi2_red", "mean χ²_red"), ("median_chi2_red", "median χ²_red")):
        key = "mean" if q.startswith("mean") else "median"
        fs, fn = figure(f"ablation.sigma.{q}").value, figure(f"ablation.nfw.{q}").value
        order = "agrees" if (s[q] < n[q]) == (float(fs) < float(fn)) else "is reversed"
        out.append(f"{label}: SI §15.2 prints {fs} (Σ) vs {fn} (NFW); measured {s[q]:.3g} vs {n[q]:.3g} — the "
                   f"ordering {order}, the {key} values {'match' if _ok(result, q) else 'do not match'}.")
    out.append(f"Wins on χ²_red: SI §15.2 prints {wins_fig:g} vs {losses_fig:g} (sum {wins_fig + losses_fig:g}, "
               f"no ties); measured {pair['wins_strict']} vs {pair['losses_strict']} of {pair['n']} "
               f"(with the ±{TIE:g} tie band: {pair['wins']} / {pair['ties']} / {pair['losses']}).")
    out.append(f"The SI's own numbers disagree: {wins_fig:g}/{wins_fig + losses_fig:g} = "
               f"{100 * wins_fig / (wins_fig + losses_fig):.1f} %, not the printed {rate_fig:g} %; and ±"
               f"{figure('ablation.sigma.win_rate_ci').value} on {result['n_galaxies']} galaxies is the 1σ binomial "
               f"error √(p(1−p)/n) = {100 * np.sqrt(rate_fig / 100 * (1 - rate_fig / 100) / result['n_galaxies']):.1f} %, "
               f"not a 95 % half-width (≈ 2σ).")
    out.append(f"Measured win fraction {100 * pair['win_fraction']:.1f} %, bootstrap 95 % interval "
               f"{100 * pair['bootstrap_ci95'][0]:.1f}–{100 * pair['bootstrap_ci95'][1]:.1f} % (1σ "
               f"{100 * pair['bootstrap_std']:.1f} %).")
    scat = [c for c in result["figures"] if c["key"].endswith("rar_scatter")]
    hits = sorted({c["quantity"].split(".", 1)[1] for c in scat if c["reproduced"]})
    fs, fn = figure("ablation.sigma.rar_scatter").value, figure("ablation.nfw.rar_scatter").value
    lower = [name for name in RAR_SCATTERS if s[name] < n[name]]
    out.append(f"RAR scatter: SI §15.2 prints {fs} (Σ) / {fn} (NFW) dex without a definition; "
               + (f"reproduced under {', '.join(hits)}" if hits else
                  "no definition in sigcube.model.metrics reproduces either (measured "
                  + "; ".join(f"{c['quantity']} = {c['computed']:.3f}" for c in scat) + ")")
               + f"; Σ's scatter is the lower under {len(lower)} of {len(RAR_SCATTERS)} definitions"
               + (f" ({', '.join(lower)})." if lower else "."))
    for model, label in (("sigma_xi", "Σ-Gravity"), ("nfw", "NFW")):
        for p, info in cat["models"][model]["parameters"].items():
            if info.get("at_bound"):
                out.append(f"{label}: {p} sits on a bound in {info['at_bound']} of {cat['models'][model]['n_galaxies']}"
                           f" fits ({info['at_lower']} at the lower bound {info['bounds'][0]:g}, "
                           f"{info['at_bound'] - info['at_lower']} at the upper {info['bounds'][1]:g}): "
                           + ", ".join(g["galaxy"] for g in info["galaxies_at_bound"])
                           + " — a fit on its bound is a finding, not a converged fit.")
    prof = result["runs"].get("nuisance_profiled")
    if prof:
        pp = prof["pairs"]["sigma_xi_vs_nfw"]
        out.append(f"With Υ, D, i profiled (Li+2018 priors): median χ²_red Σ {prof['models']['sigma_xi']['median_chi2_red']:.3g}"
                   f" vs NFW {prof['models']['nfw']['median_chi2_red']:.3g}; Σ wins {pp['wins_strict']} of {pp['n']} "
                   f"({100 * pp['win_fraction']:.1f} %, 95 % {100 * pp['bootstrap_ci95'][0]:.1f}–"
                   f"{100 * pp['bootstrap_ci95'][1]:.1f} %).")
    return out


def _ok(result: Mapping[str, Any], quantity: str) -> bool:
    return all(c["reproduced"] for c in result["figures"] if c["quantity"].endswith("." + quantity))


def _mark(ok: bool) -> str:
    return "[green]✓[/green]" if ok else "[red]✗[/red]"


def _render_run(label: str, run: Mapping[str, Any], result: Mapping[str, Any], console: Console) -> None:
    """One run's tables: per model, its dominant points, and the head-to-head pairs."""
    table = Table(title=f"SI §15 ablation on SPARC ({result['n_galaxies']} galaxies) — Υ, D, i: "
                        + ("profiled under Li+2018 priors" if label != "catalogue" else "catalogue values")
                        + (f"; error floor σ_int = {result['sigma_int']:g} km/s" if result["sigma_int"] else ""),
                  title_justify="left")
    for col in ("model", "k", "mean χ²_red", "median χ²_red", "on a bound", "§3.5 rms", "std vel", "std acc",
                "robust acc", "parameters (5/50/95 %)", "s"):
        table.add_column(col, justify="left" if col in ("model", "parameters (5/50/95 %)") else "right")
    for name, m in run["models"].items():
        params = "; ".join(f"{p} {v['percentiles']['5']:.3g}/{v['percentiles']['50']:.3g}/{v['percentiles']['95']:.3g}"
                           + (f" ({v['at_bound']} on bound)" if v.get("at_bound") else "")
                           for p, v in m["parameters"].items())
        table.add_row(name, str(m["k"]), f"{m['mean_chi2_red']:.3f}", f"{m['median_chi2_red']:.3f}",
                      f"{100 * m['at_bound_fraction']:.0f} %", f"{m['rar_rms_accel']:.3f}",
                      f"{m['rar_scatter_velocity']:.3f}", f"{m['rar_scatter_accel']:.3f}",
                      f"{m['rar_robust_accel']:.3f}", escape(params), f"{m['seconds']:.0f}")
    console.print(table)
    for name, m in run["models"].items():
        console.print(f"{name}: points dominating the §3.5 rms (share of Σy²): " + "; ".join(
            f"{escape(t['galaxy'])} r = {t['radius_kpc']:.2f} kpc, y = {t['y_dex']:+.2f} dex "
            f"({100 * t['share']:.1f} %)" for t in m["dominant_points"]), highlight=False)
    pairs = Table(title="head to head on χ²_red", title_justify="left")
    for col in ("a vs b", "n", "wins (strict)", "losses (strict)", "wins/ties/losses (±5 %)", "a's win fraction",
                "bootstrap 95 %", "binomial 95 %"):
        pairs.add_column(col, justify="left" if col == "a vs b" else "right")
    for key, p in run["pairs"].items():
        pairs.add_row(key, str(p["n"]), str(p["wins_strict"]), str(p["losses_strict"]),
                      f"{p['wins']}/{p['ties']}/{p['losses']}", f"{100 * p['win_fraction']:.1f} %",
                      f"{100 * p['bootstrap_ci95'][0]:.1f}–{100 * p['bootstrap_ci95'][1]:.1f} %",
                      "{:.1f}–{:.1f} %".format(*(100 * x for x in p["binomial"]["ci"])))
    console.print(pairs)


def _render_scatter(result: Mapping[str, Any], console: Console) -> None:
    """A σ_int grid: the ablation's headline numbers at each value, each model's σ_int profile, and the models
    compared at their own best σ_int (every table at every value is in --json)."""
    unit = result["scatter"]["unit"]
    for label in result["sigma_int_profile"]:
        where = "catalogue Υ, D, i" if label == "catalogue" else "Υ, D, i profiled under Li+2018 priors"
        table = Table(title=f"SI §15 ablation on SPARC ({result['n_galaxies']} galaxies) by error floor σ_int — {where}",
                      title_justify="left")
        models = list(result["sigma_int_profile"][label])
        for col in (f"σ_int [{unit}]", *(f"{m} median χ²_red" for m in models), *(f"{m} Δ ln L" for m in models),
                    "Σ vs NFW: Σ wins"):
            table.add_column(col, justify="right")
        for j, block in enumerate(result["by_sigma_int"]):
            run = block["runs"][label]
            prof = result["sigma_int_profile"][label]
            pair = run["pairs"].get("sigma_xi_vs_nfw")
            table.add_row(f"{block['sigma_int']:g}", *(f"{run['models'][m]['median_chi2_red']:.3f}" for m in models),
                          *(f"{prof[m]['ln_L'][j] - max(prof[m]['ln_L']):.1f}" for m in models),
                          f"{100 * pair['win_fraction']:.1f} %" if pair else "—")
        console.print(table)
        console.print("best σ_int by the profile: " + "; ".join(
            f"{m} {p['best']:g} {unit}" + (f" (parabola {p['parabola']['best']:.3g} ± {p['parabola']['sd']:.2g})"
                                           if p["parabola"] else " (at the grid's end)" if p["cut_by_grid"] else "")
            for m, p in result["sigma_int_profile"][label].items()), highlight=False)
        best = Table(title="each model at its own best σ_int: galaxy by galaxy on ln L", title_justify="left")
        for col in ("a vs b", "n", "a higher", "b higher", "a by > 1 nat", "b by > 1 nat", "Σ Δ ln L",
                    "bootstrap 95 %"):
            best.add_column(col, justify="left" if col == "a vs b" else "right")
        for key, p in result["pairs_at_best"][label].items():  # empty unless both models of a pair ran
            best.add_row(key, str(p["n"]), str(p["wins_strict"]), str(p["losses_strict"]), str(p["a_by_1_nat"]),
                         str(p["b_by_1_nat"]), f"{p['ln_L_difference']:.1f}",
                         f"{100 * p['bootstrap_ci95'][0]:.1f}–{100 * p['bootstrap_ci95'][1]:.1f} %")
        if result["pairs_at_best"][label]:
            console.print(best)


def render(result: Mapping[str, Any], console: Console | None = None) -> None:
    """The ablation as tables: per model, per pair (per σ_int value on a grid), the SI figures, the findings and the
    conventions."""
    console = console or Console()
    if result["sigma_int"] is None:
        _render_scatter(result, console)
    else:
        for label, run in result["runs"].items():
            _render_run(label, run, result, console)
    if result["figures"]:
        figs = Table(title="next to SI §15.2 (catalogue Υ, D, i, σ_int = 0)" if result["sigma_int"] is None
                     else "next to SI §15.2 (catalogue Υ, D, i)", title_justify="left")
        for col in ("quantity", "sigcube", "SI", ""):
            figs.add_column(col)
        for c in result["figures"]:
            shown = c["computed"] * c["scale"]
            figs.add_row(escape(c["quantity"]), f"{shown:.4g}{' %' if c['unit'] == '%' else ''}",
                         escape(f"{c['value']} {c['unit'] if c['unit'] != '%' else ''}({c['citation']})"),
                         _mark(c["reproduced"]))
        console.print(figs)
    for sentence in result["findings"]:
        console.print("• " + escape(sentence), highlight=False)
    conv = result["conventions"]
    for key in ("dof", "tie", "bootstrap", "nuisance_grid", "sigma_int", "ln_L"):
        if key in conv:
            console.print(f"[dim]{key}: {escape(conv[key])}[/dim]", highlight=False)
    for key in ("rar_robust_accel", "dominant_points"):
        console.print(f"[dim]{key}: {escape(conv['rar_scatter'][key])}[/dim]", highlight=False)
    console.print(f"[dim]priors: {escape('; '.join(conv['priors']))}[/dim]", highlight=False)
    grid = result["sigma_int"] is None
    runs = result["by_sigma_int"][-1]["runs"] if grid else result["runs"]
    for name, text in runs["catalogue"]["likelihood"].items():
        console.print(f"[dim]{name}{' (at the grid’s largest σ_int; likewise at each value)' if grid else ''}: "
                      f"{escape(text)}[/dim]", highlight=False)
