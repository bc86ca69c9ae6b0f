"""`sigcube report compare`: the grid evidence against analytic integrals, AIC/BIC and CV bookkeeping by hand,
and a real run checked through independent paths (sigcube.score, the cube's quality flags)."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from sigcube.engines.fit.spec import FreeParameter
from sigcube.stats.intrinsic_scatter import Scatter
from sigcube.study.reports.compare import (
    CompareError, _cv, _grid, compare_model, compare_report, log_evidence, logo_summary, model_logo,
)


def test_grid_evidence_of_a_gaussian_likelihood_is_the_analytic_integral():
    # ln L(θ) = −(θ − μ)²/(2σ²) with θ uniform on [a, b]: Z = σ√(2π)/(b − a) (the peak well inside)
    p = FreeParameter("t", 0.0, 10.0, grid=401)
    grid, log_w = _grid([p])
    mu, sigma = 4.0, 0.5
    ll = -0.5 * ((grid["t"] - mu) / sigma) ** 2
    expected = np.log(sigma * np.sqrt(2 * np.pi) / 10.0)
    assert log_evidence(ll[:, None], log_w, per_object=False) == pytest.approx(expected, abs=1e-6)
    # per-object: two galaxies with their own peaks → the sum of their ln Z; global: one shared θ
    two = np.stack([ll, -0.5 * ((grid["t"] - 6.0) / sigma) ** 2], axis=1)
    assert log_evidence(two, log_w, per_object=True) == pytest.approx(2 * expected, abs=1e-6)
    shared = np.log(sigma / np.sqrt(2) * np.sqrt(2 * np.pi) / 10.0) - (6.0 - 4.0) ** 2 / (4 * sigma**2)
    assert log_evidence(two, log_w, per_object=False) == pytest.approx(shared, abs=1e-6)


def test_grid_weights_are_a_normalised_prior():
    grid, log_w = _grid([FreeParameter("a", 1.0, 2.0, 5), FreeParameter("b", 0.1, 10.0, 3, "log")])
    assert np.exp(log_w).sum() == pytest.approx(1.0)
    assert sorted(set(np.round(grid["b"], 12))) == [0.1, 1.0, 10.0]


class _Points:
    def __init__(self, counts):
        self.offsets = np.concatenate([[0], np.cumsum(counts)])
        self.n_galaxies = len(counts)


def test_cv_folds_are_deterministic_and_held_out():
    # 10 galaxies of 2 points; grid point 0 fits galaxies 0–4 exactly, point 1 fits 5–9
    chi2 = np.zeros((2, 10))
    chi2[0, 5:] = 4.0
    chi2[1, :5] = 1.0
    out = _cv({"chi2": chi2, "rms": np.sqrt(chi2)}, _Points([2] * 10), nuisance=False)
    # every training set holds 4 galaxies of each half: point 1 (cost 4·1) beats point 0 (cost 4·4)
    assert out["grid_points"] == [1] * 5
    assert out["held_out_chi2"] == pytest.approx(5.0)
    assert out["held_out_chi2_per_point"] == pytest.approx(5.0 / 20)


def test_cv_with_nuisance_picks_the_least_profile_objective():
    # the profile objective χ² + |z|² is minimised like χ²: point 1 is best everywhere, point 0 worst
    objective = np.array([[9.0] * 10, [1.0] * 10, [5.0] * 10])
    chi2 = objective - 0.5
    out = _cv({"chi2": chi2, "objective": objective}, _Points([2] * 10), nuisance=True)
    assert out["grid_points"] == [1] * 5
    assert out["held_out_chi2"] == pytest.approx(10 * 0.5)


def test_logo_of_a_global_grid_is_the_posterior_predictive_by_hand():
    """One global θ with a uniform prior, galaxies measuring it as x_g ± 1: elpd_g = ln ∫ N(x_g; θ, 1) p(θ | x_−g) dθ,
    p(θ | x_−g) = N(mean of the others, 1/(n − 1)) (the grid wide and fine): the closed form N(x_g; x̄_−g, 1 + 1/(n−1))."""
    p = FreeParameter("t", -6.0, 6.0, grid=2401)
    grid, log_w = _grid([p])
    x = np.array([-0.4, 0.1, 0.3, 0.9, 1.5])
    ll = -0.5 * (grid["t"][:, None] - x) ** 2 - 0.5 * np.log(2 * np.pi)
    got = model_logo("m", ll, log_w, [f"g{i}" for i in range(x.size)], per_object=False)
    n = x.size
    others = (x.sum() - x) / (n - 1)
    var = 1 + 1 / (n - 1)
    expected = -0.5 * (x - others) ** 2 / var - 0.5 * np.log(2 * np.pi * var)
    assert got.elpd.values == pytest.approx(expected, abs=1e-6)
    assert got.se == pytest.approx(np.sqrt(n * np.var(expected)), abs=1e-5)


def test_logo_of_per_object_parameters_is_each_galaxys_evidence():
    """Per-object parameters: Σ_g elpd_g equals the per-object grid evidence ln Z computed by log_evidence."""
    p = FreeParameter("t", 0.0, 10.0, grid=101)
    grid, log_w = _grid([p])
    ll = -0.5 * ((grid["t"][:, None] - np.array([2.0, 5.0, 7.0])) / 0.7) ** 2
    got = model_logo("m", ll, log_w, ["a", "b", "c"], per_object=True)
    assert got.total == pytest.approx(log_evidence(ll, log_w, per_object=True), abs=1e-10)


def test_logo_summary_ranks_models_and_names_the_galaxies_that_drive_the_difference():
    """Two per-object models whose evidences differ by hand-set amounts per galaxy: the best is the larger total, the
    difference and its paired SE are the hand sums, and the drivers are ordered by |difference|."""
    p = FreeParameter("t", 0.0, 1.0, grid=3)
    _, log_w = _grid([p])
    names = ["a", "b", "c", "d"]
    shift = np.array([0.0, 3.0, -1.0, 0.5])
    base = np.zeros((3, 4))
    one = model_logo("one", base, log_w, names, per_object=True)
    two = model_logo("two", base + shift, log_w, names, per_object=True)
    out = logo_summary({"one": one, "two": two}, top=3)
    assert out["best"] == "two"
    assert out["models"]["one"]["elpd_diff"] == pytest.approx(shift.sum())
    assert out["models"]["one"]["dse"] == pytest.approx(np.sqrt(4 * np.var(shift)))
    assert [d["galaxy"] for d in out["drivers"]["one"]] == ["b", "c", "d"]
    assert out["per_galaxy"]["elpd"]["two"] == pytest.approx((np.zeros(4) + shift).tolist())


def test_unknown_model_is_one_line():
    with pytest.raises(CompareError, match="unknown model"):
        compare_report(None, ["nope"])


@pytest.fixture(scope="module")
def floor_truth():
    """20 synthetic galaxies observed under MOND with a 6 km/s intrinsic velocity scatter (a known truth)."""
    import warnings

    from sigcube.model.kernels.registry import get_kernel
    from sigcube.stats.synthetic import synthetic_sample

    sample = synthetic_sample(get_kernel("mond"), {}, 20, seed=3, sigma_int=6.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        runs = {text: compare_model("mond", None, sample.points, sample.catalogue, True, scatter=Scatter.parse(text))
                for text in ("2:12:11", "0:3:4", "4", "6", "8")}
    return sample, runs


def test_sigma_int_on_the_grid_recovers_a_known_scatter(floor_truth):
    sample, runs = floor_truth
    post = runs["2:12:11"]["sigma_int"]
    assert abs(post["mean"] - 6.0) < 2.5 * post["sd"] and 0.1 < post["sd"] < 1.5 and not post["cut_by_grid"]
    assert sum(post["posterior"]) == pytest.approx(1.0)
    # a grid below the truth piles the posterior on its end, and says so
    assert runs["0:3:4"]["sigma_int"]["cut_by_grid"] and runs["0:3:4"]["sigma_int"]["mode"] == 3.0
    # σ_int on a grid is one more parameter; a fixed value is not
    assert runs["2:12:11"]["k"] == runs["6"]["k"] + 1


def test_a_sigma_int_grid_marginalises_the_fixed_value_evidences(floor_truth):
    """ln Z over σ_int ∈ {4, 6, 8} (trapezoid weights ¼, ½, ¼) is LSE_s(ln Z(σ_s) + ln w_s) of three separate
    fixed-σ_int runs; the best point is the best of theirs."""
    from scipy.special import logsumexp

    sample, runs = floor_truth
    grid = compare_model("mond", None, sample.points, sample.catalogue, True, scatter=Scatter.parse("4:8:3"))
    fixed = [runs[t] for t in ("4", "6", "8")]
    expected = logsumexp([r["log_evidence"] for r in fixed] + np.log([0.25, 0.5, 0.25]))
    assert grid["log_evidence"] == pytest.approx(expected, abs=1e-6)
    assert grid["ln_L_max"] == pytest.approx(max(r["ln_L_max"] for r in fixed), abs=1e-6)


@pytest.fixture(scope="module")
def plain(sparc_cube):
    return compare_report(sparc_cube, ["mond", "nfw"], nuisance=False)


def test_real_run_bookkeeping(plain, sparc_cube):
    import sigcube

    rows = plain["runs"]["catalogue"]
    mond, nfw = rows["mond"], rows["nfw"]
    assert mond["ln_B_vs_mond"] == 0.0
    n, g = plain["n_points"], plain["n_galaxies"]
    assert (n, g) == (3373, 171)
    assert (mond["k"], nfw["k"]) == (1, 2 * 171)
    for r in (mond, nfw):
        assert r["aic"] == pytest.approx(2 * r["k"] - 2 * r["ln_L_max"])
        assert r["bic"] - r["aic"] == pytest.approx(r["k"] * (np.log(n) - 2))
    # the best global χ² is sigcube.score's at the reported a0
    chi2 = sigcube.score(sparc_cube, "mond", baseline=None, a0=mond["best"]["a0"])["chi2"].values.sum()
    assert mond["best_chi2"] == pytest.approx(chi2, rel=1e-9)
    # the a0 fitted to the SPARC sample lies near the conventional 1.2e-10 m/s² (within a factor 1.5)
    assert 0.8e-10 < mond["best"]["a0"] < 1.8e-10
    # a halo per galaxy fits far better than one a0 for all; the evidence still pays for 342 parameters
    assert nfw["best_chi2"] < mond["best_chi2"]
    assert nfw["log_evidence"] < -0.5 * nfw["best_chi2"] - float(
        np.sum(np.log(np.sqrt(2 * np.pi) * sigcube.io.datasets.pack(sparc_cube).inputs["e_v_obs"])))
    # leave-one-galaxy-out: a per-galaxy model predicts a galaxy by its own evidence (Σ elpd_g = ln Z)
    logo = plain["logo"]["catalogue"]
    assert nfw["elpd_logo"] == pytest.approx(nfw["log_evidence"], abs=1e-6)
    assert set(logo["models"]) == {"mond", "nfw"} and len(logo["per_galaxy"]["galaxy"]) == 171
    assert sum(logo["per_galaxy"]["elpd"]["mond"]) == pytest.approx(mond["elpd_logo"], rel=1e-12)


def test_a_zero_sigma_int_is_the_quoted_errors_likelihood(plain, sparc_cube):
    """σ_int fixed at 0 goes through the likelihood module, not sigcube.score: the same ln Z, ln L_max and ELPD_LOGO,
    for a global (MOND) and a per-object (NFW) model."""
    zero = compare_report(sparc_cube, ["nfw"], nuisance=False, scatter=Scatter.parse("0"))
    for name in ("mond", "nfw"):
        a, b = plain["runs"]["catalogue"][name], zero["runs"]["catalogue"][name]
        assert b["log_evidence"] == pytest.approx(a["log_evidence"], abs=1e-6)
        assert b["elpd_logo"] == pytest.approx(a["elpd_logo"], abs=1e-6)
        assert b["galaxy_log_evidence" if name == "nfw" else "k"] == pytest.approx(
            a["galaxy_log_evidence" if name == "nfw" else "k"], abs=1e-6)
    assert zero["runs"]["catalogue"]["mond"]["ln_L_max"] == pytest.approx(
        plain["runs"]["catalogue"]["mond"]["ln_L_max"], abs=1e-6)
    assert zero["runs"]["catalogue"]["mond"]["cv"] is None and zero["scatter"]["prior"].startswith("fixed at 0 km")


def test_mond_nuisance_rar_scatter_subset(sparc_cube):
    from sigcube.io.rotation_curves import pack_sparc
    from sigcube.stats.nuisance import Catalogue
    from sigcube.study.reports.compare import rar_scatter_mond

    points = pack_sparc(sparc_cube)
    out = rar_scatter_mond(points, Catalogue.from_cube(sparc_cube, points), sparc_cube)
    names = list(sparc_cube["galaxy"].values)
    rows = [names.index(g) for g in points.galaxy]
    q, inc = sparc_cube["quality"].values[rows], sparc_cube["inclination"].values[rows]
    assert out["quality_subset"]["n_galaxies"] <= int(((q < 3) & (inc >= 30)).sum())
    assert out["full"]["n_points"] == 3373
    # profiled Υ, D, i: the scatter on the clean subset is below the full sample's
    assert out["quality_subset"]["rar_rms_accel"] < out["full"]["rar_rms_accel"]
    assert {v["origin"] for v in out["literature"].values()} == {"literature"}


@pytest.mark.slow
def test_cli_compare_json(sparc_store):
    import json

    from sigcube.cli import app

    result = CliRunner().invoke(app, ["report", "compare", "sigma", "mond", "nfw", "--json", "--cube", str(sparc_store)])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout.splitlines()[-1])
    assert set(out["runs"]) == {"catalogue", "nuisance"}
    assert set(out["runs"]["nuisance"]) == {"sigma", "mond", "nfw"}


def test_per_galaxy_bayes_counts_by_hand():
    from sigcube.study.reports.compare import per_galaxy_bayes

    rows = {"a": {"galaxy_log_evidence": [0.0, 5.0, -3.0, 0.5]}, "b": {"galaxy_log_evidence": [2.0, 1.0, -3.5, 0.0]},
            "mond": {}}
    out = per_galaxy_bayes(rows)
    assert out == {"a_vs_b": {"n": 4, "a_favoured": 3, "a_by_1_nat": 1, "b_by_1_nat": 1}}


def test_cli_compare_with_sigma_int_on_a_grid(sparc_store):
    """`--sigma-int LO:HI:N --error-model lognormal_gobs` at the catalogue values: σ_int's posterior in the JSON, the
    likelihood stated. A Gaussian scatter fitted by maximum likelihood leaves χ²/N near 1 (∂ ln L/∂σ_int = 0 weighs
    each r²/σ² against 1), and at catalogue Υ, D, i it exceeds Li+2018's 0.057 dex after fitting them."""
    import json

    from sigcube.cli import app

    args = ["report", "compare", "mond", "--no-nuisance", "--cube", str(sparc_store), "--sigma-int", "0.1:0.2:21",
            "--error-model", "lognormal_gobs"]
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout.splitlines()[-1])
    row = out["runs"]["catalogue"]["mond"]
    post = row["sigma_int"]
    assert post["mean"] > 0.057 and not post["cut_by_grid"]
    assert row["best_chi2"] / out["n_points"] == pytest.approx(1.0, abs=0.1)
    assert "lognormal_gobs" in out["conventions"]["likelihood"] and out["scatter"]["unit"] == "dex"
    bad = CliRunner().invoke(app, ["report", "compare", "mond", "--error-model", "lognormal_gobs"])
    assert bad.exit_code != 0 and "give --sigma-int too" in bad.output


def test_cli_compare_refuses_an_unknown_error_model(sparc_store):
    from sigcube.cli import app

    bad = CliRunner().invoke(app, ["report", "compare", "mond", "--sigma-int", "3", "--error-model", "gaussian"])
    assert bad.exit_code != 0 and "unknown error model 'gaussian'" in bad.output
