"""The two test tiers (tests/conftest.py): unit tests pass without the data mirror; data-backed tests fail without it.

Each check runs pytest in a subprocess with ``SIGCUBE_DATA_DIR`` naming an empty folder (the variable the
conftest reads before ``../shared/data``), so no mirror is reachable.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

DATA_TEST = "tests/io/ingest/test_table1.py::test_shape_and_types"
"""A data-backed test: it reads SPARC Table 1 from the mirror (through ``shared_data``)."""


def _pytest(repo_root: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """pytest on this repository with an empty folder as the data mirror."""
    empty = tmp_path / "no-mirror"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGCUBE_")}
    env["SIGCUBE_DATA_DIR"] = str(empty)
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args], cwd=repo_root,
                          env=env, capture_output=True, text=True, timeout=1500)


def _counts(summary: str) -> dict[str, int]:
    """``{"passed": 3, "error": 1, …}`` from pytest's last summary line (warnings left out)."""
    counts = {word.rstrip("s"): int(n) for n, word in re.findall(r"(\d+) (\w+)", summary.strip().splitlines()[-1])}
    counts.pop("warning", None)
    return counts


@pytest.mark.slow  # it reruns the whole unit tier (about 3 minutes here): run with -m slow
def test_the_unit_tier_passes_without_the_mirror(repo_root, tmp_path, request):
    run = _pytest(repo_root, tmp_path, "-m", "not data and not slow", "--deselect", request.node.nodeid)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    counts = _counts(run.stdout)
    assert counts["passed"] >= 300 and counts["deselected"] >= 300, counts
    assert set(counts) == {"passed", "deselected"}, counts  # nothing skipped, failed or in error


def test_a_data_backed_test_is_marked_and_fails_without_the_mirror(repo_root, tmp_path):
    run = _pytest(repo_root, tmp_path, "-m", "data", DATA_TEST)
    assert run.returncode == 1, run.stdout[-3000:]
    assert _counts(run.stdout) == {"error": 1}, run.stdout[-3000:]  # selected by the marker, not skipped
    assert "not found: set SIGCUBE_DATA_DIR" in run.stdout and "are not skipped" in run.stdout
