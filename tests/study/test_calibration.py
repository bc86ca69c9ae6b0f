"""`sigcube report calibrate`: ln B(Σ : MOND) on synthetic samples of SPARC galaxies drawn from each model favours the
model that made them, the draws are reproducible from their seeds and a killed run resumes to the same numbers; samples
drawn and analysed with each galaxy's velocity scale say so; what it cannot calibrate is refused in one line. The draws and analyses are in the slow tier (a minute on 2 cores)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from rich.console import Console
from typer.testing import CliRunner

from sigcube.engines.checkpoint import Checkpoint
from sigcube.stats.intrinsic_scatter import Scatter
from sigcube.study.reports.calibration import SEED_STRIDE, CalibrationError, calibrate, render

FLOOR = Scatter.parse("6.0", "velocity_floor")


@pytest.fixture(scope="module")
def small(sparc_cube):
    """24 SPARC galaxies, every seventh."""
    return sparc_cube.isel(galaxy=slice(0, None, 7))


@pytest.fixture(scope="module")
def calibrated(small):
    return calibrate(small, "sigma", FLOOR, 3, seed=5, observed=-10.0, at="defaults")


@pytest.mark.slow
def test_each_models_samples_favour_it(calibrated):
    """With the truth known, the evidence favours the generating model on average (the samples differ only in the
    kernel that made V_obs: same galaxies, priors and noise model)."""
    by = calibrated["by_truth"]
    assert by["sigma"]["summary"]["mean"] > 0 > by["mond"]["summary"]["mean"]
    assert by["sigma"]["summary"]["n"] == by["mond"]["summary"]["n"] == 3
    assert calibrated["drawn_at"] == {"sigma": {"A0": pytest.approx(np.exp(1 / (2 * np.pi))),
                                                "k": pytest.approx(1 / (2 * np.pi))},
                                      "mond": {"a0": pytest.approx(1.2e-10)}}  # the seeds' canonical values
    assert [s["seed"] for s in by["mond"]["samples"]] == [1005, 1006, 1007]
    for block in by.values():
        ln_b = np.array([s["ln_B"] for s in block["samples"]])
        assert block["summary"]["sd"] == pytest.approx(ln_b.std(ddof=1))
        assert block["summary"]["observed_rank"] == {"below": int((ln_b < -10.0).sum()), "of": 3}
        assert all(s["ln_B_error"] > 0 and s["elpd_se"] > 0 for s in block["samples"])


@pytest.mark.slow
def test_a_killed_run_resumes_to_the_same_numbers(small, calibrated, tmp_path):
    kept = Checkpoint(tmp_path / "calibration")
    calibrate(small, "sigma", FLOOR, 2, seed=5, checkpoint=kept, at="defaults")  # the first two samples of each kept
    again = calibrate(small, "sigma", FLOOR, 3, seed=5, checkpoint=kept, observed=-10.0, at="defaults")
    assert again["by_truth"] == calibrated["by_truth"]


@pytest.mark.parametrize("model, scatter, n, message", [
    ("nfw", FLOOR, 3, "per-galaxy parameters"),
    ("mond", FLOOR, 3, "besides MOND"),
    ("sigma", Scatter.parse("0:10:5"), 3, "σ_int is one value"),
    ("sigma", Scatter.parse("4", "velocity_floor", "0:0.5:3"), 3, "τ_gal is one value"),
    ("sigma", Scatter.parse("0.03", "lognormal", None, "0:10:3"), 3, "σ_fl is one value"),
    ("sigma", FLOOR, 1, "at least 2"),
    ("sigma", FLOOR, SEED_STRIDE + 1, "--samples 1001 is more than 1000: sample s of the model at position j is drawn "
                                      "with seed \\+ 1000·j \\+ s, so the two models' samples would share seeds"),
])
def test_what_cannot_be_calibrated_is_one_line(small, model, scatter, n, message):
    with pytest.raises(CalibrationError, match=message) as err:
        calibrate(small, model, scatter, n)
    assert "\n" not in str(err.value)


def test_samples_are_drawn_at_the_fitted_or_the_default_parameters_and_nowhere_else(small):
    with pytest.raises(CalibrationError, match="--at 'best': the samples are drawn at one of fitted, defaults"):
        calibrate(small, "sigma", FLOOR, 3, at="best")


@pytest.mark.parametrize("args, says", [
    (["--seed", "-1"], "report calibrate: --seed must be ≥ 0 (numpy's SeedSequence takes no negative seed; got -1)"),
    (["--samples", "1000000000"], "report calibrate: --samples 1000000000 is more than 1000"),
])
def test_the_issues_seed_and_size_are_refused_in_one_line(args, says, sparc_store, tmp_path, monkeypatch):
    """`--seed -1` was a ValueError traceback from numpy; a billion samples were accepted (their seeds overlapping)."""
    from sigcube.cli import app

    monkeypatch.setenv("SIGCUBE_CUBE_DIR", str(tmp_path))
    res = CliRunner().invoke(app, ["report", "calibrate", "sigma", *args, "--cube", str(sparc_store), "--synchronous"])
    assert res.exit_code == 2 and res.stderr.startswith(f"error: {says}"), res.output
    assert len(res.stderr.strip().splitlines()) == 1


def test_the_cli_refuses_a_grid_in_one_line(sparc_store, tmp_path, monkeypatch):
    from sigcube.cli import app

    monkeypatch.setenv("SIGCUBE_CUBE_DIR", str(tmp_path))
    res = CliRunner().invoke(app, ["report", "calibrate", "sigma", "--sigma-int", "0:10:5", "--cube", str(sparc_store),
                                   "--synchronous"])
    assert res.exit_code == 2 and "one value" in res.output
    assert len(res.output.strip().splitlines()) == 1


@pytest.mark.slow
def test_samples_drawn_with_a_galaxy_scale_are_analysed_under_it(sparc_cube):
    """Eight SPARC galaxies, two samples from each model, σ_int = 4 km/s and τ_gal = 0.3: the report states both,
    and the draws differ from those without τ_gal (the same seeds)."""
    cube = sparc_cube.isel(galaxy=slice(0, 8))
    with_tau = calibrate(cube, "sigma", Scatter.parse("4", "velocity_floor", "0.3"), 2)
    without = calibrate(cube, "sigma", Scatter.parse("4"), 2)
    assert with_tau["scatter"]["tau_gal"]["values"] == [0.3] and "tau_gal" not in without["scatter"]
    for truth in ("sigma", "mond"):
        a, b = (r["by_truth"][truth]["samples"] for r in (with_tau, without))
        assert [s["seed"] for s in a] == [s["seed"] for s in b]
        assert all(x["ln_B"] != y["ln_B"] for x, y in zip(a, b))
    out = io.StringIO()
    render(with_tau, Console(file=out, width=200))
    assert "τ_gal fixed at 0.3" in out.getvalue()


@pytest.mark.slow
def test_samples_are_drawn_at_the_parameters_fitted_to_the_data(sparc_cube):
    """A cube drawn from MOND at a0 = 0.8e-10 (a known truth, off MOND's default 1.2e-10): calibrated at the fitted
    parameters, MOND's samples are drawn near the truth, Σ's at its own fit (the defaults: the fixture above)."""
    from sigcube.io.synth_sparc import draw_on_baryons
    from sigcube.stats.likelihood import GaussianLikelihood

    cube = draw_on_baryons(sparc_cube.isel(galaxy=slice(0, None, 6)), "mond", {"a0": 0.8e-10}, seed=9,
                           likelihood=GaussianLikelihood(6.0))
    at_fit = calibrate(cube, "sigma", FLOOR, 2, at="fitted")
    assert at_fit["drawn_at"]["mond"]["a0"] == pytest.approx(0.8e-10, rel=0.1)
    assert at_fit["drawn_at"]["sigma"]["A0"] != pytest.approx(np.exp(1 / (2 * np.pi)), rel=1e-3)
    out = io.StringIO()
    render(at_fit, Console(file=out, width=200))
    assert "drawn at: sigma A0 = " in out.getvalue() and "posterior means" in out.getvalue()


@pytest.mark.parametrize("also, message", [
    (["nope"], "--also-from 'nope' is not a model report compare knows"),
    (["mond"], "--also-from mond is drawn from already"),
    (["nfw-lcdm", "nfw-lcdm"], "--also-from nfw-lcdm is drawn from already"),
    (["sigma_xi"], "--also-from sigma_xi: its per-galaxy parameters have no prior to draw them from"),
])
def test_a_generating_model_it_cannot_draw_from_is_one_line(small, also, message):
    with pytest.raises(CalibrationError, match=message) as err:
        calibrate(small, "sigma", FLOOR, 3, also_from=also)
    assert "\n" not in str(err.value)


def test_galaxies_whose_data_their_priors_cannot_reach_are_in_conflict(sparc_cube):
    """A sample drawn from MOND (a known truth) with distances and inclinations quoted to 1 %: at the truth at most
    one galaxy is in prior–data conflict (a 3-sd deviate is a 0.3 % event per parameter). Halve the velocities of its
    six most luminous galaxies (their stars dominate the baryons, so only ϒ, pinned D and i could answer): each of the
    six is in conflict."""
    from sigcube.io.synth_sparc import draw_on_baryons
    from sigcube.stats.likelihood import GaussianLikelihood
    from sigcube.study.reports.calibration import conflicted

    source = sparc_cube.isel(galaxy=slice(0, None, 7))
    source = source.assign(e_distance=0.01 * source.distance, e_inclination=0.01 * source.inclination)
    cube = draw_on_baryons(source, "mond", seed=3, likelihood=GaussianLikelihood(6.0))
    truth = {"a0": 1.2e-10}
    assert len(conflicted(cube, "mond", truth, FLOOR)) <= 1
    moved = [str(g) for g in cube.L36.sortby(cube.L36, ascending=False).galaxy.values[:6]]
    where = cube.galaxy.isin(moved)
    cube = cube.assign(v_obs=cube.v_obs.where(~where, 0.5 * cube.v_obs),
                       e_v_obs=cube.e_v_obs.where(~where, 0.5 * cube.e_v_obs))
    assert set(moved) <= set(conflicted(cube, "mond", truth, FLOOR))


@pytest.mark.slow
def test_samples_drawn_from_a_halo_are_analysed_as_the_data_with_conflicts_counted(small):
    """--also-from nfw-lcdm: samples whose halos are drawn from the ΛCDM priors, each analysed as Σ against MOND, on
    the third stride of seeds; each sample counts both analysed models' galaxies in conflict (within the sample),
    and samples drawn from a model its own analysis finds in conflict rarely (fewer than one galaxy in ten)."""
    out = calibrate(small, "sigma", FLOOR, 2, seed=5, at="defaults", also_from=["nfw-lcdm"])
    assert list(out["by_truth"]) == ["sigma", "mond", "nfw-lcdm"] and out["drawn_at"]["nfw-lcdm"] == {}
    assert [s["seed"] for s in out["by_truth"]["nfw-lcdm"]["samples"]] == [2005, 2006]
    n = out["n_galaxies"]
    for truth, block in out["by_truth"].items():
        for s in block["samples"]:
            assert set(s["conflicts"]) == {"sigma", "mond"} and all(0 <= c <= n for c in s["conflicts"].values())
        if truth != "nfw-lcdm":
            assert block["summary"]["conflicts"][truth]["mean"] < 0.1 * n
    text = io.StringIO()
    render(out, Console(file=text, width=200))
    assert f"galaxies in prior–data conflict (of {n})" in text.getvalue() and "│ nfw-lcdm " in text.getvalue()
