"""`sigcube report ablation`: head-to-head counts by hand, the SI §15.2 figures next to a real run, and the
shipped fit specs equal to the report's models."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

from sigcube.engines.fit.spec import load_spec
from sigcube.study.reports.ablation import ablation_report, head_to_head, model_spec


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
