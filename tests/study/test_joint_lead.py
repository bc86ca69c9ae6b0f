"""The joint sweep under the comparison's lead error model against the comparison itself: two engines (the joint
sweep's fixed grid and 5-node nuisance rule, `report compare`'s adaptive grid) integrate the same galaxy likelihood
(committed records; no run here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

RESULTS = Path(__file__).resolve().parents[2] / "docs" / "results"
LEAD = "velocity_floor+tau_gal"


def _report(name: str) -> dict:
    return json.loads((RESULTS / f"{name}.json").read_text())["report"]


@pytest.fixture(scope="module")
def joint() -> dict:
    return _report("joint-sigma-lead-sparc-clash")


@pytest.mark.parametrize(("record", "model", "axes"), [
    ("joint-sigma-lead-sparc-clash", "sigma", ("A0", "sigma_int", "tau_gal")),
    ("joint-mond-lead-sparc-clash", "mond", ("a0", "sigma_int", "tau_gal")),
])
def test_the_joint_runs_galaxy_posterior_is_the_comparisons_within_its_sd(record, model, axes):
    compared = _report("compare-sigma-mond-error-models")["reports"][LEAD]["runs"]["nuisance"][model]
    posterior = compared["evidence"]["posterior"]
    sparc = _report(record)["posterior"]["sparc"]["axes"]
    for axis in axes:
        ours, theirs = sparc[axis], posterior[axis]
        assert abs(ours["mean"] - theirs["mean"]) < theirs["sd"], axis
        assert ours["sd"] == pytest.approx(theirs["sd"], rel=0.25), axis


def test_the_clusters_side_is_the_same_likelihood_as_the_earlier_joint_run(joint):
    earlier = _report("joint-sigma-systematics-sparc-clash")
    for key in ("mean", "sd"):
        assert joint["posterior"]["clash"]["axes"]["A0"][key] == \
            pytest.approx(earlier["posterior"]["clash"]["axes"]["A0"][key], rel=1e-3)
