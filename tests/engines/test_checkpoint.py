"""A long comparison killed mid-run and started again skips what it finished and gives the uninterrupted result."""

from __future__ import annotations

import pickle

import pytest

from sigcube.engines import evidence
from sigcube.engines.checkpoint import Checkpoint, fingerprint
from sigcube.model.kernels import get_kernel
from sigcube.stats.intrinsic_scatter import Scatter
from sigcube.stats.synthetic import synthetic_sample
from sigcube.study.reports.compare import compare_model


class Killed(Exception):
    """Stands for the process dying."""


def test_a_piece_is_written_whole_or_not_at_all(tmp_path):
    kept = Checkpoint(tmp_path / "c")
    assert kept.get("a", lambda: [1, 2]) == [1, 2]

    def dies():
        raise Killed

    with pytest.raises(Killed):
        kept.get("b", dies)
    assert kept.count() == 1 and not list((tmp_path / "c").glob(".writing-*"))
    assert kept.get("a", dies) == [1, 2]                      # read back, not made again
    assert pickle.loads((tmp_path / "c" / "a.pickle").read_bytes()) == [1, 2]
    assert Checkpoint(None).get("a", lambda: 3) == 3 and Checkpoint(None).count() == 0
    assert fingerprint({"x": 1}) != fingerprint({"x": 2})


def test_a_killed_comparison_resumes_where_it_stopped_with_the_same_result(tmp_path, monkeypatch):
    sample = synthetic_sample(get_kernel("mond"), {}, 3, seed=6, sigma_int=5.0, priors={})
    scatter = Scatter.parse("0:15:7")
    whole = compare_model("nfw", sample.points, None, False, scatter=scatter)

    kept = Checkpoint(tmp_path / "kept")
    lines = []

    def dies_on_the_fourth(line):
        lines.append(line)
        if len(lines) == 4:
            raise Killed

    with pytest.raises(Killed):
        compare_model("nfw", sample.points, None, False, scatter=scatter, checkpoint=kept, progress=dies_on_the_fourth)
    finished = kept.count()
    assert finished >= 3

    calls = []
    original = evidence.object_evidence
    monkeypatch.setattr(evidence, "object_evidence", lambda *a, **k: calls.append(1) or original(*a, **k))
    resumed = compare_model("nfw", sample.points, None, False, scatter=scatter, checkpoint=kept)
    first_calls = len(calls)
    for key in ("log_evidence", "log_evidence_error", "elpd_logo", "galaxy_log_evidence", "sigma_int"):
        assert resumed[key] == whole[key], key
    # the finished σ_int values were read, not integrated again
    fresh = []
    monkeypatch.setattr(evidence, "object_evidence", lambda *a, **k: fresh.append(1) or original(*a, **k))
    compare_model("nfw", sample.points, None, False, scatter=scatter)
    assert first_calls <= len(fresh) - (finished - 1)
    # and a finished row is read whole
    calls.clear()
    again = compare_model("nfw", sample.points, None, False, scatter=scatter, checkpoint=kept)
    assert not calls and again["log_evidence"] == whole["log_evidence"]
