"""`sigcube report clusters` on the real CLASH cube: Σ-Gravity's and MOND's cluster evidence against the joint
sweeps' independent computation (their committed reports), NFW-ΛCDM halos against Mistele+2025's own NFW fits."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from sigcube.cli import app

RESULTS = Path(__file__).resolve().parents[2] / "docs" / "results"


@pytest.fixture(scope="module")
def report(clusters_store) -> dict:
    out = CliRunner().invoke(app, ["report", "clusters", "--json", "--cube", str(clusters_store)])
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)


def _joint(name: str) -> dict:
    return json.loads((RESULTS / f"{name}.json").read_text())["report"]


def test_the_cluster_evidence_under_the_joint_priors_is_the_joint_sweeps(report):
    # the joint sweeps integrate the same likelihood on their own grids (721 A0 points, 181 a0 points): ln Z of CLASH
    wider = next(r for r in report["sensitivity"] if r["choice"].startswith("the joint sweeps"))
    sigma = _joint("joint-sigma-systematics-sparc-clash")
    mond = _joint("joint-mond-sparc-clash")
    assert wider["ln_z"]["sigma"] == pytest.approx(sigma["tension"][0]["ln_z"]["b"], abs=0.02)
    assert wider["ln_z"]["mond"] == pytest.approx(mond["tension"][0]["ln_z"]["b"], abs=0.02)
    a0 = sigma["posterior"]["clash"]["axes"]["A0"]
    post = report["models"]["sigma"]["posterior"]
    assert post["mean"] == pytest.approx(a0["mean"], abs=0.002) and post["sd"] == pytest.approx(a0["sd"], rel=0.02)


def test_nfw_halos_find_the_masses_mistele_fitted(report):
    rows = report["models"]["nfw-lcdm"]["clusters"]
    assert len(rows) == 14
    # Mistele+2025 fitted NFW halos to all ten radii of each profile; here only the radii inside Tian's range count,
    # under a concentration prior: most of their masses lie within 2 of this posterior's sd
    close = [abs(r["log10_m200"]["mean"] - r["mistele_log10_m200c_nfw"]) < 2 * r["log10_m200"]["sd"] for r in rows]
    assert sum(close) >= 12
    assert all(r["error"] < 1e-3 for r in rows)


def test_every_pair_has_a_verdict_and_the_sensitivity_rows_move_the_halo_evidence_as_its_prior_width(report):
    pairs = {(v["a"], v["b"]) for v in report["verdicts"]}
    assert pairs == {("sigma", "mond"), ("sigma", "nfw-lcdm"), ("mond", "nfw-lcdm")}
    lead = report["models"]["nfw-lcdm"]["ln_z"]
    by = {r["choice"]: r["ln_z"]["nfw-lcdm"] for r in report["sensitivity"]}
    # a uniform prior on a range that holds the likelihood: ln Z moves by ln(width ratio) per cluster at most
    narrow, wide = by["halo log10 M200 on [14, 15.8]"], by["halo log10 M200 on [13, 16.5]"]
    assert narrow - lead <= 14 * np.log(2.5 / 1.8) + 1e-6
    assert wide - lead == pytest.approx(14 * np.log(2.5 / 3.5), abs=3.0)
    assert report["models"]["mond"]["edge_mass"] > 0.1  # MOND's a0 on clusters wants more than the galaxies' prior


def test_an_unknown_error_choice_is_refused_in_one_line(clusters_store):
    out = CliRunner().invoke(app, ["report", "clusters", "--errors", "syst", "--cube", str(clusters_store)])
    assert out.exit_code == 2
    assert "--errors must be one of stat, stat+syst; got 'syst'" in out.output
    assert "Traceback" not in out.output
