"""The adequacy of an error model: the data's residual statistics among those of samples drawn from the fitted model
and treated as the data. A sample drawn from the model it is checked under passes; one whose noise is heavier-tailed
or correlated along the radius (what the checked likelihood leaves out) fails on the statistic that sees it; the
statistics themselves against hand computations; the error-model table leads with the best adequate error model."""

from __future__ import annotations

import numpy as np
import pytest

from sigcube.study.reports.adequacy import STATISTICS, adequacy, statistics
from sigcube.study.reports.error_model_table import _lead

BEST = {"a0": 1.2e-10, "sigma_int": 6.0}
FLOOR = {"error_model": "velocity_floor"}


def test_the_statistics_by_hand():
    offsets = np.array([0, 4, 7])
    r = np.array([1.0, -1.0, 1.0, -1.0, 4.0, 0.0, -4.0])
    got = statistics(r, offsets)
    assert got["tail3"] == pytest.approx(2 / 7)
    # galaxy 1: alternating about 0, products −1 × 3 over a sum of squares 4; galaxy 2: (4·0 + 0·−4) over 32
    assert got["lag1"] == pytest.approx(-3 / 36)
    chi2n = np.array([4 / 4, 32 / 3])
    assert got["chi2_spread"] == pytest.approx(np.std(chi2n, ddof=1))
    assert got["chi2_tail"] == pytest.approx(0.5)  # χ²₃ = 32 has p ≈ 5e-7; χ²₄ = 4 has p ≈ 0.41
    assert set(got) == set(STATISTICS)


@pytest.fixture(scope="module")
def cube(sparc_cube):
    return sparc_cube.isel(galaxy=slice(0, None, 3))


def _noisy(cube, seed: int, kind: str):
    """A MOND sample at BEST's point, its quoted errors' noise and, in place of the floor's Gaussian, 6 km/s of noise
    the floor does not describe: Student-t with ν = 2 (heavy tails) or an AR(1) along the radius with ρ = 0.9 per
    point (correlated)."""
    from sigcube.io.synth_sparc import draw_on_baryons
    from sigcube.stats.likelihood import GaussianLikelihood

    quoted = draw_on_baryons(cube, "mond", {"a0": BEST["a0"]}, seed=seed, likelihood=GaussianLikelihood(0.0))
    rng = np.random.default_rng(seed)
    shape = quoted.v_obs.shape
    if kind == "heavy":
        z = rng.standard_t(2, size=shape)
    else:
        z = np.empty(shape)
        z[:, 0] = rng.standard_normal(shape[0])
        for j in range(1, shape[1]):
            z[:, j] = 0.9 * z[:, j - 1] + np.sqrt(1 - 0.9**2) * rng.standard_normal(shape[0])
    return quoted.assign(v_obs=np.abs(quoted.v_obs + BEST["sigma_int"] * z))


def test_a_sample_of_the_checked_model_is_adequate(cube):
    from sigcube.io.synth_sparc import draw_on_baryons
    from sigcube.stats.likelihood import GaussianLikelihood

    sample = draw_on_baryons(cube, "mond", {"a0": BEST["a0"]}, seed=11, likelihood=GaussianLikelihood(6.0))
    check = adequacy(sample, "mond", BEST, FLOOR, replicates=59, seed=500)
    assert check["adequate"], {k: (v["data"], v["range"]) for k, v in check["statistics"].items()}


@pytest.mark.parametrize("kind, seen", [("heavy", "tail3"), ("correlated", "lag1")])
def test_noise_the_likelihood_leaves_out_is_caught(cube, kind, seen):
    check = adequacy(_noisy(cube, 12, kind), "mond", BEST, FLOOR, replicates=59, seed=500)
    assert not check["statistics"][seen]["inside"] and not check["adequate"]


def test_the_table_leads_with_the_best_adequate_error_model():
    ranked = ["a", "b", "c"]
    assert _lead(ranked, {"a": False, "b": True, "c": True})[0] == "b"
    assert "is not adequate" in _lead(ranked, {"a": False, "b": True, "c": True})[1]
    assert _lead(ranked, {"a": True, "b": True, "c": False}) == ("a", "the highest evidence, and adequate")
    lead, why = _lead(ranked, {"a": False, "b": False, "c": False})
    assert lead == "a" and why.startswith("none is adequate")
    assert _lead(ranked, {"a": None, "b": None, "c": None})[0] == "a"


@pytest.mark.slow
def test_the_error_model_table_leads_with_an_adequate_error_model(sparc_cube, tmp_path, monkeypatch):
    """`report compare mond --error-model quoted,velocity_floor` on 15 galaxies drawn from MOND with a 6 km/s floor:
    each row carries its adequacy, the quoted errors fail theirs, and the table leads with the floor and says why."""
    import json

    from typer.testing import CliRunner

    from sigcube.cli import app
    from sigcube.io.cubes import write_cube
    from sigcube.io.synth_sparc import draw_on_baryons
    from sigcube.stats.likelihood import GaussianLikelihood

    cube = draw_on_baryons(sparc_cube.isel(galaxy=slice(0, None, 12)), "mond", seed=4,
                           likelihood=GaussianLikelihood(6.0))
    path = tmp_path / "drawn.zarr"
    write_cube(cube, path)
    monkeypatch.setenv("SIGCUBE_CUBE_DIR", str(tmp_path / "cubes"))
    res = CliRunner().invoke(app, ["report", "compare", "mond", "--cube", str(path), "--synchronous", "--error-model",
                                   "quoted,velocity_floor=0:20:11", "--json"])
    assert res.exit_code == 0, res.output
    table = json.loads(res.stdout.splitlines()[-1])["error_model_table"]
    rows = {r["error_model"]: r for r in table["rows"]}
    assert rows["quoted"]["adequacy"]["adequate"] is False and table["adequate"]["quoted"] is False
    assert rows["quoted"]["adequacy"]["replicates"] == 199
    assert table["lead"] == "velocity_floor" and table["adequate"]["velocity_floor"] is True
    assert table["lead_basis"] == "the highest evidence, and adequate"
