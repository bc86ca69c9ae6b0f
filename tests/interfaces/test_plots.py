"""The plotting layer (sigcube.interfaces.plots): each figure's plotted data are the numbers of the report it reads
(the committed reports of docs/results), read from the holoviews elements without rendering; labels render their
mathematics; log axes get readable ticks; credible contours enclose their mass; an empty, all-NaN or damaged input
is one PlotError line. Unit tests: no data mirror (the figures of cubes are in test_plot_cubes.py)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import holoviews as hv
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from sigcube.errors import SigcubeError
from sigcube.interfaces.plots import comparison, performance, population, posteriors, published
from sigcube.interfaces.plots.base import Plot, PlotError
from sigcube.interfaces.plots.data import PosteriorGrid, credible_levels, draws_grid, joint_grids
from sigcube.interfaces.plots.labels import axis_label, log_ticks, prose, symbol
from sigcube.interfaces.plots.output import save
from sigcube.interfaces.plots.registry import figures, get_figure
from sigcube.stats.posterior import grid_posterior

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "docs" / "results"


def report(name: str) -> dict:
    return json.loads((RESULTS / f"{name}.json").read_text(encoding="utf-8"))["report"]


def elements(plot: Plot, kind: type, label: str | None = None) -> list[hv.Element]:
    """Every element of ``kind`` in the figure (with ``label``, when given)."""
    found = plot.view.traverse(lambda e: e, [kind])
    return [e for e in found if label is None or e.label == label]


def column(element: hv.Element, index: int) -> np.ndarray:
    return np.asarray(element.dimension_values(index), dtype=float)


# --- labels and ticks --------------------------------------------------------------------------------------------


def test_labels_render_their_mathematics():
    label = prose("base amplitude A0 = e^{1/(2π)}")
    assert label.unicode == "base amplitude A₀ = exp(1/(2π))"
    assert "^{" not in label.unicode and "e^" not in label.unicode
    assert label.tex == r"base amplitude $A_{0}$ = $e^{1/(2\pi)}$"
    assert prose("A = A0·L^{1/4}").unicode == "A = A₀·L^(1/4)"
    assert symbol("sigma_int").unicode == "σᵢₙₜ" and symbol("log10_M200").unicode == "log₁₀ M₂₀₀"
    assert axis_label("a0", {"long_name": "MOND acceleration scale a0", "units": "m / s2"}).unicode == \
        "MOND acceleration scale a₀ [m s⁻²]"
    long = "intrinsic scatter σ_int (lognormal_gobs: log-normal intrinsic scatter of g_obs at fixed g_bar)"
    assert axis_label("sigma_int", {"long_name": long, "units": "dex"}).unicode == "σᵢₙₜ [dex]", "a definition "\
        "is too long for an axis: the symbol stands for it"


def test_a_parameters_axis_names_it_and_its_unit_not_its_defaults_formula():
    from sigcube.interfaces.plots.labels import parameter_label

    cases = {("A0", "base amplitude A0 = e^{1/(2π)}", ""): "base amplitude A₀",
             ("k", "coherence scale ξ = k·R_d", ""): "k",  # the words define ξ, not k
             ("a0", "MOND acceleration scale", "m / s2"): "MOND acceleration scale a₀ [m s⁻²]",
             ("g_dagger", "critical acceleration g† = cH0/(4√π)", "m / s2"): "critical acceleration g† [m s⁻²]",
             ("c", "concentration c = r200/r_s", ""): "concentration c",
             ("L0", "reference path length", "kpc"): "reference path length L₀ [kpc]",
             ("R_eff_factor", "R_eff = R_eff_factor·R_d", ""): "R_eff_factor"}
    for (name, long_name, units), want in cases.items():
        assert parameter_label(name, {"long_name": long_name, "units": units}).unicode == want
    assert "=" not in parameter_label("A0", {"long_name": "base amplitude A0 = e^{1/(2π)}"}).tex


def test_every_label_is_valid_mathtext():
    from matplotlib.mathtext import MathTextParser

    parser = MathTextParser("path")
    for text in ("base amplitude A0 = e^{1/(2π)}", "exponent α of N_coh^α", "spectral slope α of P ∝ λ^−α",
                 "r200 = (3·M200/(800π·ρ_crit))^{1/3}", "observed acceleration g_obs"):
        tex = prose(text).tex
        for piece in tex.split("$")[1::2]:
            parser.parse(f"${piece}$")  # raises on invalid mathtext
    for name in ("A0", "sigma_int", "log10_M200", "upsilon_disk", "tau", "K_max"):
        parser.parse(symbol(name).tex.replace(r"$\log_{10}$ ", ""))


def test_narrow_log_axes_get_few_short_ticks():
    ticks = log_ticks(5e-11, 3e-10)
    assert [t for _, t in ticks] == ["5e-11", "1e-10", "2e-10", "3e-10"], "the a0 axis: four readable labels"
    for lo, hi in ((5e-11, 3e-10), (0.02, 0.6), (0.7, 1.3), (3.5, 9.0), (1e-3, 0.09)):
        ticks = log_ticks(lo, hi)
        assert 3 <= len(ticks) <= 6, (lo, hi, ticks)
        assert all(lo * (1 - 1e-9) <= v <= hi * (1 + 1e-9) for v, _ in ticks)
        assert all(len(t) <= 7 for _, t in ticks) and [v for v, _ in ticks] == sorted(v for v, _ in ticks)
    assert log_ticks(1e-12, 1e-9) is None, "several decades: the backends' own decade ticks"


# --- figures of reports ------------------------------------------------------------------------------------------


def test_sweep_intervals_are_the_reports_intervals():
    quoted, floor = report("sweep-nuisance"), report("sweep-nuisance-floor-5")
    plot = posteriors.sweep_intervals({"as quoted": quoted, "floor": floor})
    for name in ("A0", "k"):
        spans = [e for e in elements(plot, hv.Segments) if e.kdims[0].name == name]
        got = sorted(tuple(np.round([s.data.iloc[0, 0], s.data.iloc[0, 2]], 12)) for s in spans)
        want = sorted(tuple(np.round(r["posterior"]["axes"][name][k], 12)) for r in (quoted, floor)
                      for k in ("ci68", "ci95"))
        assert got == want
        means = sorted(float(column(e, 0)[0]) for e in elements(plot, hv.Scatter) if e.kdims[0].name == name)
        assert means == pytest.approx(sorted(r["posterior"]["axes"][name]["mean"] for r in (quoted, floor)))
    assert "A₀, k" in plot.alt and "as quoted, floor" in plot.alt


def test_joint_intervals_overlay_each_dataset_and_the_joint():
    r = report("joint-sigma-sparc-clash")
    plot = posteriors.joint_intervals(r)
    means = {e.label: float(column(e, 0)[0]) for e in elements(plot, hv.Scatter) if e.kdims[0].name == "A0"}
    assert means == pytest.approx({p: r["posterior"][p]["axes"]["A0"]["mean"] for p in ("sparc", "clash", "joint")})


def test_scatter_posterior_is_sigma_ints_marginal_and_the_conditional_means():
    mond = report("sweep-mond-sigma-int")
    plot = posteriors.scatter_posterior({"MOND": mond})
    rows = mond["posterior"]["scatter"]["rows"]
    x = np.array([row["value"] for row in rows])
    (curve,) = [e for e in elements(plot, hv.Curve, "MOND")]
    density = column(curve, 1)
    widths = np.gradient(x)  # an evenly spaced axis: every cell as wide as the step
    assert np.sum(density * widths) == pytest.approx(sum(row["mass"] for row in rows), rel=1e-9)
    (mean,) = [e for e in elements(plot, hv.Curve, "posterior mean")]
    keep = np.array([row["mass"] for row in rows]) >= 1e-4 * max(row["mass"] for row in rows)
    np.testing.assert_allclose(column(mean, 1), [row["given"]["a0"]["mean"] for row, k in zip(rows, keep) if k])


def test_population_forest_draws_own_and_shrunk_estimates_over_the_band():
    r = report("population-mond-a0")
    plot = population.forest(r)
    table = r["objects_table"]
    own = column(elements(plot, hv.Scatter, "own estimate")[0], 0)
    shrunk = column(elements(plot, hv.Scatter, "shrunk towards the population")[0], 0)
    assert sorted(own) == pytest.approx(sorted(table["own_mean"]))
    assert sorted(shrunk) == pytest.approx(sorted(table["shrunk_mean"]))
    rank = column(elements(plot, hv.Scatter, "own estimate")[0], 1)
    assert np.all(np.diff(own[np.argsort(rank)]) >= 0), "sorted by the own estimate"
    (band,) = elements(plot, hv.VSpan, "μ ± τ")
    assert band.data == pytest.approx((r["mu"]["mean"] - r["tau"]["mean"], r["mu"]["mean"] + r["tau"]["mean"]))
    assert "171 galaxies" in plot.alt


def test_population_hyper_draws_the_intervals_and_contours_of_a_grid():
    r = report("population-sigma-A0")
    plot = population.hyper(r)
    (box68,) = elements(plot, hv.Rectangles, "68 % intervals")
    assert tuple(box68.data.iloc[0]) == pytest.approx((*r["mu"]["ci68"][:1], r["tau"]["ci68"][0], r["mu"]["ci68"][1],
                                                       r["tau"]["ci68"][1]))
    mu, tau = np.linspace(-1, 1, 41), np.linspace(0, 1, 31)
    mass = np.exp(-0.5 * ((mu[:, None] / 0.2) ** 2 + ((tau[None, :] - 0.5) / 0.1) ** 2))
    with_grid = population.hyper(r, {"mu": mu, "tau": tau, "mass": mass / mass.sum()})
    assert len(elements(with_grid, hv.Path)) >= 2 and "contours" in with_grid.alt


def test_elpd_ranking_is_the_reports_differences():
    r = report("compare-sigma-mond-nfw")
    plot = comparison.elpd_ranking(r)
    for run, result in r["logo"].items():
        dots = [e for e in elements(plot, hv.Scatter) if e.kdims[0].name.endswith(run)]
        got = sorted(float(v) for e in dots for v in column(e, 0))
        assert got == pytest.approx(sorted(-m["elpd_diff"] for m in result["models"].values()))
        (bars,) = [e for e in elements(plot, hv.Segments) if e.kdims[0].name.endswith(run)]
        half = sorted((bars.data.iloc[:, 2] - bars.data.iloc[:, 0]) / 2)
        assert half == pytest.approx(sorted(2 * m["dse"] for m in result["models"].values())), "±2 paired SE"
        filled, hollow = dots  # filled: the best predicts better by more than 2 paired SE (the report's verdict)
        better = [n for n, m in result["models"].items() if "predicts better" in m.get("verdict", "")]
        assert sorted(column(filled, 0)) == pytest.approx(sorted(-result["models"][n]["elpd_diff"] for n in better))
    assert "not a credible interval" in plot.alt


def test_ablation_pairs_are_the_win_fractions_and_their_intervals():
    r = report("ablation")
    plot = comparison.ablation_pairs(r)
    fractions = sorted(float(v) for e in elements(plot, hv.Scatter) for v in column(e, 0))
    want = sorted(p["win_fraction"] for run in r["runs"].values() for p in run["pairs"].values())
    assert fractions == pytest.approx(want)


def test_sigma_int_profile_is_each_models_ln_l_below_its_maximum():
    r = report("ablation-sigma-int-grid")
    plot = comparison.sigma_int_profile(r)
    for model, prof in r["sigma_int_profile"]["catalogue"].items():
        (curve,) = [e for e in elements(plot, hv.Curve, model)][:1]
        np.testing.assert_allclose(column(curve, 1), np.array(prof["ln_L"]) - max(prof["ln_L"]))


def test_kernel_ranking_bars_are_the_mean_rms_sorted():
    r = report("kernels")
    plot = comparison.kernel_ranking(r)
    bars = pd.concat([e.data for e in elements(plot, hv.Segments) if e.kdims[0].name == "mean_rms"])
    lengths = list(bars.sort_values(bars.columns[1]).iloc[:, 2])  # the bars by row, top to bottom
    assert lengths == sorted(lengths) == pytest.approx(sorted(k["mean_rms"] for k in r if "skipped" not in k))


def test_prediction_ratios_are_each_objects_ratio():
    r = report("regression")
    plot = comparison.prediction_ratios(r)
    lensing = next(row for row in r if "per_cluster" in row["values"].get("sigma", {}))
    want = sorted(c["median_ratio"] for c in lensing["values"]["sigma"]["per_cluster"].values())
    assert any(sorted(column(e, 0)) == pytest.approx(want) for e in elements(plot, hv.Scatter, "sigma"))
    dwarfs = next(row for row in r if "per_dwarf" in row["values"].get("mond", {}))
    per = dwarfs["values"]["mond"]["per_dwarf"].values()
    want = sorted(d["sigma_pred"] / d["sigma_obs"] for d in per)
    assert any(sorted(column(e, 0)) == pytest.approx(want) for e in elements(plot, hv.Scatter, "mond"))


def test_published_ratio_is_sigcubes_value_over_the_printed_one():
    sparc = report("sparc")
    rows = published.comparison_rows(sparc)
    rms = next(x for x in rows if x["label"] == "preset paper · sigma.mean_rms")
    assert rms["printed"] == 17.75 and rms["shown"] == pytest.approx(sparc[0]["sigma"]["mean_rms"])
    win = next(x for x in rows if x["label"] == "preset paper · sigma.win_rate")
    assert win["printed"] == 47.4 and win["shown"] == pytest.approx(100 * sparc[0]["sigma"]["win_rate"])
    for row in rows:  # a figure reproduced to its printed digits is within 1 % of it
        if row["reproduced"] is True:
            assert row["shown"] / row["printed"] == pytest.approx(1, abs=0.01), row
    plot = published.published_ratio({"sparc": sparc})
    drawn = sum(len(e) for e in elements(plot, hv.Scatter))
    assert drawn == len(rows) and f"{len(rows)} published figures" in plot.alt


def test_throughput_is_the_benchmarks_rates():
    records = [json.loads(p.read_text()) for p in sorted((ROOT / "docs" / "performance").glob("*.json"))]
    plot = performance.throughput(records)
    want = {rate for r in records if r["benchmark"] == "survey"
            for rate in (r["result"]["sparc"]["evals_per_s"], *(run["evals_per_s"] for run in r["result"]["runs"]))}
    got = {float(v) for e in elements(plot, hv.Scatter) if e.label.startswith("survey") and e.kdims[0].name == "points"
           for v in column(e, 1)}
    assert sorted(got) == pytest.approx(sorted(want))


# --- grids, contours, draws, joint cubes ------------------------------------------------------------------------


def gaussian_grid(rho: float = 0.6) -> PosteriorGrid:
    x, y = np.linspace(-4, 4, 81), np.linspace(-4, 4, 61)
    xx, yy = np.meshgrid(x, y, indexing="ij")
    ll = -0.5 * (xx ** 2 - 2 * rho * xx * yy + yy ** 2) / (1 - rho ** 2)
    return PosteriorGrid(grid_posterior(ll, {"x": x, "y": y}))


def test_credible_levels_enclose_their_mass():
    mass = np.array([0.5, 0.2, 0.15, 0.1, 0.05])
    lo68, lo95 = credible_levels(mass, [0.68, 0.95])
    assert mass[mass > lo68].sum() == pytest.approx(0.7) and mass[mass > lo95].sum() == pytest.approx(0.95)
    assert credible_levels(np.array([1.0, 0.0]), [0.68])[0] < 1.0, "one cell still has a boundary"


@pytest.mark.parametrize("level", [0.68, 0.95])
def test_the_contour_of_a_gaussian_holds_its_level(level):
    """The contour of a correlated 2-D Gaussian encloses the level's mass (an independent count of the grid cells
    inside the path) and matches the analytic ellipse: Δχ² = −2 ln(1 − level) for two parameters."""
    from matplotlib.path import Path as MPath

    grid = gaussian_grid()
    (path,) = posteriors.hpd_contours(grid.axes["x"], grid.axes["y"], grid.pair("x", "y"), level)
    xx, yy = np.meshgrid(grid.axes["x"], grid.axes["y"], indexing="ij")
    inside = MPath(path).contains_points(np.column_stack([xx.ravel(), yy.ravel()])).reshape(xx.shape)
    assert grid.pair("x", "y")[inside].sum() == pytest.approx(level, abs=0.02)
    rho = 0.6
    chi2 = (path[:, 0] ** 2 - 2 * rho * path[:, 0] * path[:, 1] + path[:, 1] ** 2) / (1 - rho ** 2)
    assert np.median(chi2) == pytest.approx(-2 * np.log(1 - level), rel=0.05)


def test_the_corner_draws_marginals_and_contours_overlaid():
    a, b = gaussian_grid(0.6), gaussian_grid(-0.3)
    plot = posteriors.corner({"a": a, "b": b})
    (curve,) = [e for e in elements(plot, hv.Curve, "a") if e.kdims[0].name == "x"]
    np.testing.assert_allclose(column(curve, 1), a.marginal("x").mass)
    assert len(elements(plot, hv.Path)) == 4, "two levels for each of the two posteriors"
    assert "x × y" in plot.alt


def test_draws_on_grid_points_give_back_the_grid_posterior():
    rng = np.random.default_rng(1)
    grid = gaussian_grid()
    flat = grid.posterior.mass.ravel()
    pick = rng.choice(flat.size, 200_000, p=flat / flat.sum())
    i, j = np.unravel_index(pick, grid.posterior.mass.shape)
    post = xr.Dataset({"x": (("chain", "draw"), grid.axes["x"][i].reshape(4, -1)),
                       "y": (("chain", "draw"), grid.axes["y"][j].reshape(4, -1))})
    tree = xr.DataTree.from_dict({"/posterior": post})
    rebuilt = draws_grid(tree)
    assert rebuilt.axes["x"].size == 40 and rebuilt.marginal("y").mean == pytest.approx(0.0, abs=0.02)
    assert rebuilt.marginal("x").sd == pytest.approx(grid.marginal("x").sd, rel=0.02)


def joint_cube() -> xr.Dataset:
    """A joint sweep's cube in miniature: two datasets over one axis, with the variables run_joint writes."""
    a = np.linspace(0.5, 1.5, 11)
    la = np.stack([-0.5 * ((a - 0.8) / 0.05) ** 2 - g for g in (0.0, 1.0, 2.0)], axis=-1)
    lb = np.stack([-0.5 * ((a - 1.2) / 0.1) ** 2 - g for g in (0.0, 3.0)], axis=-1)
    totals = np.stack([la.sum(-1), lb.sum(-1)])
    joint = totals.sum(0)
    posts = [grid_posterior(t, {"A0": a}) for t in totals]
    pj = grid_posterior(joint, {"A0": a})
    ds = xr.Dataset({
        "loglike_a": (("A0", "a_galaxy"), la), "loglike_b": (("A0", "b_galaxy"), lb),
        "loglike_total": (("probe", "A0"), totals), "loglike_joint": (("A0",), joint),
        "posterior": (("probe", "A0"), np.stack([p.mass for p in posts])), "posterior_joint": (("A0",), pj.mass),
        "log_evidence": (("probe",), [p.log_evidence for p in posts]), "log_evidence_joint": pj.log_evidence},
        coords={"A0": a, "probe": ["a", "b"], "a_galaxy": ["g1", "g2", "g3"], "b_galaxy": ["c1", "c2"]})
    ds.attrs.update(sigcube_kind="joint", probes=json.dumps([{"label": "a"}, {"label": "b"}]),
                    global_prior="equal mass per grid point", spec_text="[grid.A0]\nlinspace = [0.5, 1.5, 11]\n")
    return ds


def test_joint_grids_and_costs():
    ds = joint_cube()
    grids = joint_grids(ds)
    assert list(grids) == ["a", "b", "joint"]
    np.testing.assert_allclose(grids["b"].posterior.mass, ds["posterior"].sel(probe="b").values)
    plot = comparison.joint_costs(ds)
    joint = int(np.argmax(ds["posterior_joint"].values))
    for label in ("a", "b"):
        own = int(np.argmax(ds["posterior"].sel(probe=label).values))
        ll = ds[f"loglike_{label}"].values
        want = sorted(ll[joint] - ll[own])
        bars = [e for e in elements(plot, hv.Segments) if e.kdims[0].name.endswith(label)]
        assert sorted(float(v) for v in bars[0].data.iloc[:, 2]) == pytest.approx(want)
    damaged = ds.copy()
    damaged["posterior"] = damaged["posterior"] * np.nan
    with pytest.raises(PlotError, match="not a normalised mass"):
        joint_grids(damaged)


# --- refusals ----------------------------------------------------------------------------------------------------

REPORT_FIGURES = {"sweep-intervals": "sweep-nuisance", "joint-intervals": "joint-mond-sparc-clash",
                  "scatter-posterior": "sweep-mond-sigma-int", "population-forest": "population-mond-a0",
                  "population-hyper": "population-mond-a0", "elpd": "compare-sigma-mond-nfw",
                  "ablation-pairs": "ablation", "sigma-int-profile": "ablation-sigma-int-grid",
                  "kernel-ranking": "kernels", "published-ratio": "sparc", "prediction-ratios": "regression",
                  "residual-checks": "compare-sigma-mond-error-models",
                  "joint-systematics": "joint-sigma-systematics-sparc-clash",
                  "joint-scans": "joint-sigma-systematics-sparc-clash", "milky-way-curve": "regression",
                  "dwarf-ratios": "regression", "verdict": "verdict"}


def _nan(value):
    """Every number of a JSON value made NaN (the structure kept)."""
    if isinstance(value, dict):
        return {k: _nan(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nan(v) for v in value]
    return float("nan") if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def test_every_report_figure_is_tested_here():
    made = {name for name, kind in figures().items() if kind.source == "report"} - {
        "per-galaxy-difference", "fitted-curves", "halo-relations", "rar"}  # these: their own test files
    assert made == set(REPORT_FIGURES)


@pytest.mark.parametrize("name", sorted(REPORT_FIGURES))
@pytest.mark.parametrize("damage", ["empty", "nan", "cut"])
def test_a_figure_of_an_empty_nan_or_damaged_report_is_one_error(name, damage):
    function = get_figure(name).function
    good = report(REPORT_FIGURES[name])
    if damage == "empty":
        bad = [] if isinstance(good, list) else {}
    elif damage == "nan":
        bad = _nan(copy.deepcopy(good))
    else:  # every list inside cut to nothing: the report's tables are gone
        bad = json.loads(json.dumps(good), object_hook=lambda d: {k: ([] if isinstance(v, list) else v)
                                                                  for k, v in d.items()})
    try:
        plot = function(bad)
    except SigcubeError as exc:
        assert "\n" not in str(exc) and str(exc)
        return
    assert damage == "cut", "an empty or all-NaN report is refused"
    drawn = [e for e in plot.view.traverse(lambda e: e, [hv.Scatter, hv.Segments, hv.Curve]) if len(e)]
    finite = [e for e in drawn if np.isfinite(np.asarray(e.dimension_values(0), dtype=float)).any()]
    assert finite, "what a figure still draws of a cut report is not blank"


def test_a_figure_of_benchmarks_without_rates_is_one_error():
    with pytest.raises(PlotError, match="no benchmark record with a throughput"):
        performance.throughput([])


def test_save_writes_a_static_figure_and_an_offline_page(tmp_path):
    plot = posteriors.corner(gaussian_grid())
    png = save(plot, tmp_path / "c.png")
    from PIL import Image

    with Image.open(png) as im:
        assert im.size[0] > 300 and len(np.unique(np.asarray(im.convert("L")))) > 10, "not a blank image"
    page = save(plot, tmp_path / "c.html").read_text(encoding="utf-8")
    assert "<script" in page and not __import__("re").search(r"<script[^>]+src=\"https?://", page)
    with pytest.raises(SigcubeError, match="write a figure as"):
        save(plot, tmp_path / "c.txt")


def test_the_lcdm_relations_are_the_relations_with_their_scatter():
    """Independent of the plotting code: Moster+2013 at M200 = M1 gives M★/M200 = N (eq. 2: 2N/(1 + 1)); the
    Dutton & Macciò 2014 z = 0 fit at M200 = 10¹² h⁻¹ M☉ gives log10 c200 = a = 0.905."""
    from sigcube.interfaces.plots import halos
    from sigcube.model.lcdm import DUTTON_MACCIO_2014, MOSTER_2013

    plot = halos.relations((11.0, 12.5))
    stellar = elements(plot, hv.Curve, "Moster+2013")[0]
    x, y = column(stellar, 0), column(stellar, 1)
    at_m1 = np.interp(11.59, x, y)
    assert at_m1 == pytest.approx(11.59 + np.log10(0.0351), abs=1e-3)
    concentration = elements(plot, hv.Curve, "Dutton & Macciò 2014")[0]
    m12 = 12.0 - np.log10(0.7)
    assert np.interp(m12, column(concentration, 0), column(concentration, 1)) == pytest.approx(0.905, abs=1e-3)
    bands = [e for e in elements(plot, hv.Area) if e.label == "Dutton & Macciò 2014 ±1σ"]
    width = column(bands[0], 2) - column(bands[0], 1)
    assert width == pytest.approx(np.full(width.size, 2 * DUTTON_MACCIO_2014.sigma_dex))
    assert MOSTER_2013.sigma_dex == 0.15 and "Moster" in plot.alt


def test_a_posterior_is_drawn_from_a_reports_marginals():
    """The corner of a report's stored marginals: its contours hold the stated mass of the stored 2-D marginal."""
    from sigcube.interfaces.plots.data import posterior_from_report

    a, b = np.linspace(0.8, 1.1, 31), np.linspace(0.03, 0.06, 25)
    mass = np.exp(-0.5 * (((a[:, None] - 0.93) / 0.013) ** 2 + ((b[None, :] - 0.044) / 0.0011) ** 2))
    mass /= mass.sum()
    stored = {"axes": {"A0": a.tolist(), "sigma_int": b.tolist()},
              "one": {"A0": mass.sum(1).tolist(), "sigma_int": mass.sum(0).tolist()},
              "two": {"A0|sigma_int": mass.tolist()}}
    grid = posterior_from_report({"marginals": stored, "axes": {"A0": {"units": ""}, "sigma_int": {"units": "dex"}}})
    assert grid.pair("A0", "sigma_int") == pytest.approx(mass)
    assert grid.marginal("A0").mean == pytest.approx(0.93, abs=1e-3)
    plot = posteriors.corner(grid)
    assert "A₀ × σ" in plot.alt
    with pytest.raises(PlotError, match="no marginals"):
        posterior_from_report({"axes": {}})
