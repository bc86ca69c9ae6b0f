"""`sigcube report ablation`: head-to-head counts by hand, the SI §15.2 figures next to a real run, and the
shipped fit specs equal to the report's models."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

from sigcube.engines.fit.spec import load_spec
from sigcube.stats.intrinsic_scatter import Scatter
from sigcube.study.reports.ablation import (
    AblationError, ablation, ablation_report, galaxy_loglike, head_to_head, loglike_head_to_head, model_spec,
)


def _fit(chi2_red, dof_ok=None):
    n = len(chi2_red)
    return xr.Dataset({"chi2_red": ("galaxy", np.asarray(chi2_red, float)),
                       "dof_ok": ("galaxy", np.ones(n, bool) if dof_ok is None else np.asarray(dof_ok))})


def test_wins_ties_losses_by_hand():
    a = _fit([1.0, 2.0, 1.00, 3.0, 0.5, 9.0])
    b = _fit([2.0, 1.0, 1.02, 2.9, 0.6, 1.0], dof_ok=[True, True, True, True, True, False])
    out = head_to_head(a, b, seed=1, n_boot=500)
    # ratios 0.5, 2, 0.98, 1.034, 0.833 (the last galaxy has no dof in b)
    assert out["n"] == 5
    assert (out["wins_strict"], out["losses_strict"]) == (3, 2)
    assert (out["wins"], out["ties"], out["losses"]) == (2, 2, 1)
    assert out["win_fraction"] == pytest.approx(0.6)
    lo, hi = out["bootstrap_ci95"]
    assert 0.0 <= lo <= 0.6 <= hi <= 1.0
    assert out == head_to_head(a, b, seed=1, n_boot=500)  # seeded


def test_loglike_head_to_head_by_hand():
    a = np.array([-10.0, -5.0, -7.5, np.nan, -3.0])
    b = np.array([-12.0, -4.5, -7.0, -1.0, -9.0])
    out = loglike_head_to_head(a, b, seed=2, n_boot=300)
    # differences 2, −0.5, −0.5, 6 (the NaN galaxy is left out)
    assert out["n"] == 4 and (out["wins_strict"], out["losses_strict"]) == (2, 2)
    assert (out["a_by_1_nat"], out["b_by_1_nat"]) == (2, 0) and out["ln_L_difference"] == pytest.approx(7.0)
    assert out["win_fraction"] == pytest.approx(0.5) and out == loglike_head_to_head(a, b, seed=2, n_boot=300)


@pytest.fixture(scope="module")
def floor_truth():
    """24 synthetic galaxies observed under MOND (its default a0) with a 6 km/s intrinsic velocity scatter."""
    from sigcube.model.kernels.registry import get_kernel
    from sigcube.stats.synthetic import synthetic_sample

    return synthetic_sample(get_kernel("mond"), {}, 24, seed=3, sigma_int=6.0)


def test_galaxy_loglike_is_the_gaussian_density_by_hand(floor_truth):
    """At the catalogue values, MOND at its fixed a0: Σ_k ln N(V_obs,k; V_pred,k, e_V,k² + σ_int²) per galaxy."""
    from scipy.stats import norm

    from sigcube.engines.fit.run import fit_points
    from sigcube.model.kernels.registry import get_kernel

    points = floor_truth.points
    spec = model_spec("mond_fixed", nuisance=False, sigma_int=4.0)
    fit = fit_points(spec, points)
    p = points.inputs
    density = norm.logpdf(p["v_obs"], get_kernel("mond")(p), np.hypot(p["e_v_obs"], 4.0))
    expected = np.add.reduceat(density, points.offsets[:-1])
    assert galaxy_loglike(spec, fit, points, None) == pytest.approx(expected, rel=1e-10)


@pytest.fixture(scope="module")
def floor_grid(floor_truth):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return {text: ablation(floor_truth.points, floor_truth.catalogue, models=("mond_fixed", "mond_free"),
                               n_boot=200, sigma_int=Scatter.parse(text)) for text in ("2:12:6", "0:3:4")}


def test_a_sigma_int_grid_recovers_a_known_floor(floor_grid):
    """With Υ, D, i profiled (the model the synthetic data were drawn from), each model's profiled σ_int is the
    grid value nearest the truth, 6 km/s; a grid that stops below the truth says its best sits at its end."""
    out = floor_grid["2:12:6"]
    for name in ("mond_fixed", "mond_free"):
        prof = out["sigma_int_profile"]["nuisance_profiled"][name]
        assert prof["best"] == 6.0 and prof["interval_68"][0] <= 6.0 <= prof["interval_68"][1]
        assert not prof["cut_by_grid"] and len(prof["ln_L"]) == 6
    below = floor_grid["0:3:4"]["sigma_int_profile"]["nuisance_profiled"]["mond_fixed"]
    assert below["best"] == 3.0 and below["cut_by_grid"]
    assert [b["sigma_int"] for b in out["by_sigma_int"]] == [2.0, 4.0, 6.0, 8.0, 10.0, 12.0]
    assert out["sigma_int"] is None and out["scatter"]["unit"] == "km / s"
    assert any("not on the grid" in s for s in out["findings"]) and out["figures"] == []
    assert "mond_fixed_vs_mond_free" not in out["pairs_at_best"]["catalogue"]  # only the PAIRS are compared


def test_a_grid_value_is_the_fixed_floor_run(floor_truth, floor_grid):
    """The grid's block at σ_int = 4 is the ablation at a fixed 4 km/s floor, seconds apart."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        fixed = ablation(floor_truth.points, floor_truth.catalogue, models=("mond_fixed", "mond_free"), n_boot=200,
                         sigma_int=4.0)
    block = floor_grid["2:12:6"]["by_sigma_int"][1]

    def drop_seconds(runs):
        return {label: {**run, "models": {n: {k: v for k, v in m.items() if k != "seconds"}
                                          for n, m in run["models"].items()}} for label, run in runs.items()}

    assert block["sigma_int"] == fixed["sigma_int"] == 4.0
    assert drop_seconds(block["runs"]) == drop_seconds(fixed["runs"])


def test_a_galaxy_without_a_finite_ln_l_is_left_out_of_the_profile():
    """Galaxy 2 of sigma_xi has no finite ln L at σ_int = 4: its profile sums galaxies 0–1 only (best at 4 by hand),
    and the comparison at the best values leaves galaxy 2 out."""
    from sigcube.study.reports.ablation import _scatter_comparison

    ll = {"sigma_xi": np.array([[-10.0, -10.0, -50.0], [-8.0, -9.0, np.nan], [-9.0, -9.5, -1.0]]),
          "nfw": np.array([[-12.0, -11.0, -3.0], [-9.0, -8.0, -3.0], [-10.0, -10.0, -3.0]])}
    blocks = [(v, {"catalogue": ({}, {n: x[j] for n, x in ll.items()})}) for j, v in enumerate((2.0, 4.0, 6.0))]
    out = _scatter_comparison(Scatter.parse("2:6:3"), blocks, ("sigma_xi", "nfw"), seed=0, n_boot=100)
    prof = out["sigma_int_profile"]["catalogue"]
    assert prof["sigma_xi"]["n_galaxies"] == 2 and prof["sigma_xi"]["ln_L"] == [-20.0, -17.0, -18.5]
    assert prof["sigma_xi"]["best"] == 4.0 and prof["nfw"]["best"] == 4.0 and prof["nfw"]["n_galaxies"] == 3
    pair = out["pairs_at_best"]["catalogue"]["sigma_xi_vs_nfw"]
    assert pair["n"] == 2 and pair["wins_strict"] == 1 and pair["ln_L_difference"] == pytest.approx(0.0)


def test_the_ablation_refuses_a_scatter_its_fits_cannot_take(floor_truth):
    with pytest.raises(AblationError, match="velocity_floor"):
        ablation(floor_truth.points, floor_truth.catalogue, sigma_int=Scatter.parse("0.1", "lognormal_gobs"))


@pytest.mark.parametrize("name,file", [("sigma_xi", "fit_sigma_xi.toml"), ("nfw", "fit_nfw.toml")])
def test_shipped_specs_are_the_reports_models(repo_root, name, file):
    shipped, model = load_spec(repo_root / "sweeps" / "fits" / file), model_spec(name, nuisance=False)
    assert shipped.free == model.free and shipped.kernel is model.kernel


def test_si_15_bounds_are_the_papers(seeds):
    si = (seeds / "003_f0739dc89bf394d5.txt").read_text(encoding="utf-8")
    sigma, nfw = model_spec("sigma_xi", False), model_spec("nfw", False)
    assert "[0.01, 5.0]" in si and "[0.1, 50.0]" in si and "[6, 14]" in si and "[1, 50]" in si
    assert [(p.lower, p.upper) for p in sigma.free] == [(0.01, 5.0), (0.1, 50.0)]
    assert [(p.lower, p.upper) for p in nfw.free] == [(6.0, 14.0), (1.0, 50.0)]


@pytest.fixture(scope="module")
def report(sparc_cube):
    return ablation_report(sparc_cube, nuisance=False, n_boot=500)


def test_real_run_against_the_si(report, sparc_cube):
    import sigcube

    run = report["runs"]["catalogue"]
    assert report["n_galaxies"] == 171
    pair = run["pairs"]["sigma_xi_vs_nfw"]
    assert pair["wins_strict"] + pair["losses_strict"] == pair["n"] == 171
    assert pair["wins"] + pair["ties"] + pair["losses"] == 171
    # every SI §15.2 figure is set against a measured value, with a verdict
    keys = {c["key"] for c in report["figures"]}
    assert {"ablation.sigma.mean_chi2_red", "ablation.nfw.wins", "ablation.sigma.win_rate_ci"} <= keys
    assert all(isinstance(c["reproduced"], bool) for c in report["figures"])
    assert any("97/171 = 56.7 %" in s for s in report["findings"])
    # fixed MOND (nothing fitted) is the χ² of sigcube.score at the kernel's defaults, dof = N
    score = sigcube.score(sparc_cube, "mond", baseline=None)
    n = np.diff(sigcube.io.datasets.pack(sparc_cube).offsets)
    assert run["models"]["mond_fixed"]["median_chi2_red"] == pytest.approx(np.median(score["chi2"].values / n))
    # one more free parameter never fits worse: a0 free ≤ a0 fixed, galaxy by galaxy in the mean
    assert run["models"]["mond_free"]["mean_chi2_red"] < run["models"]["mond_fixed"]["mean_chi2_red"]
    for name in ("sigma_xi", "nfw", "mond_free"):
        assert run["models"][name]["converged"] == 171


@pytest.mark.slow
def test_cli_json_with_nuisance(sparc_store):
    from sigcube.cli import app

    result = CliRunner().invoke(app, ["report", "ablation", "--json", "--cube", str(sparc_store)])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout.splitlines()[-1])
    prof = out["runs"]["nuisance_profiled"]["models"]
    assert set(prof) == {"sigma_xi", "nfw", "mond_free", "mond_fixed"}
    # profiling the nuisance can only lower the χ² of the objective the fit minimises at z = 0
    assert prof["mond_fixed"]["total_chi2"] < out["runs"]["catalogue"]["models"]["mond_fixed"]["total_chi2"]


@pytest.mark.parametrize("text", ["3:1:5", "-2", "0:10"])
def test_cli_a_bad_sigma_int_is_one_line(text):
    from sigcube.cli import app

    bad = CliRunner().invoke(app, ["report", "ablation", "--sigma-int", text])
    assert bad.exit_code != 0 and "--sigma-int" in bad.output and "Traceback" not in bad.output


def test_the_committed_grid_report_holds_the_fixed_floor_reports(repo_root):
    """docs/results: the σ_int grid's blocks at 0 and 5 km/s are the committed ablation at the quoted errors and at a
    5 km/s floor (runs, figures and findings), timings apart; each model's profile is the grid's sums."""
    results = repo_root / "docs" / "results"
    grid = json.loads((results / "ablation-sigma-int-grid.json").read_text(encoding="utf-8"))["report"]

    def same(a, b, at=""):
        """Equal but for timings, floats to 1e-4 relative: the reports may come from CPUs whose numpy differs in the
        last bits of exp and power (AVX-512 or not), which a local optimiser's stopping point along a flat direction
        amplifies to ~1e-4 (docs/_ext/sigcube_docs/records.py, FIT_TOLERANCE)."""
        if isinstance(a, dict) and isinstance(b, dict):
            assert set(a) == set(b), at
            for key in a.keys() - {"seconds"}:
                same(a[key], b[key], f"{at}.{key}")
        elif isinstance(a, list) and isinstance(b, list):
            assert len(a) == len(b), at
            for i, (x, y) in enumerate(zip(a, b)):
                same(x, y, f"{at}[{i}]")
        elif isinstance(a, float) or isinstance(b, float):
            assert a == pytest.approx(b, rel=1e-4, nan_ok=True), at
        else:
            assert a == b, at

    blocks = {b["sigma_int"]: b["runs"] for b in grid["by_sigma_int"]}
    for value, name in ((0.0, "ablation"), (5.0, "ablation-sigma-int-5")):
        fixed = json.loads((results / f"{name}.json").read_text(encoding="utf-8"))["report"]
        same(blocks[value], fixed["runs"], name)
    ablation_zero = json.loads((results / "ablation.json").read_text(encoding="utf-8"))["report"]
    assert grid["figures"] == ablation_zero["figures"]
    for label, models in grid["sigma_int_profile"].items():
        for name, prof in models.items():
            assert len(prof["ln_L"]) == len(blocks) and prof["best"] == grid["scatter"]["values"][int(np.argmax(prof["ln_L"]))]
