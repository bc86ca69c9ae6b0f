"""The two test tiers (tests/conftest.py): unit tests run without the data mirror; data-backed tests fail without it.

Unit tests see ``SIGCUBE_DATA_DIR`` naming an empty folder (the conftest); the data-backed check runs pytest in a
subprocess with the variable naming an empty folder (the conftest reads it before ``../shared/data``).
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


def test_a_unit_test_sees_an_empty_folder_as_the_mirror():
    """The conftest hides the mirror from every test not marked ``data``, so the unit tier needs no data in every
    run: sigcube, asked for SPARC here, says the folder is not a mirror."""
    from sigcube.errors import SigcubeError
    from sigcube.io.ingest.sources import data_dir, fetch_sparc

    folder = Path(os.environ["SIGCUBE_DATA_DIR"])
    assert data_dir() == folder and folder.is_dir() and not any(folder.iterdir())
    with pytest.raises(SigcubeError, match=str(folder)):
        fetch_sparc()


def test_a_data_test_sees_the_mirror(shared_data):
    assert Path(os.environ["SIGCUBE_DATA_DIR"]) == shared_data and (shared_data / "sparc").is_dir()


def test_a_data_backed_test_is_marked_and_fails_without_the_mirror(repo_root, tmp_path):
    run = _pytest(repo_root, tmp_path, "-m", "data", DATA_TEST)
    assert run.returncode == 1, run.stdout[-3000:]
    assert _counts(run.stdout) == {"error": 1}, run.stdout[-3000:]  # selected by the marker, not skipped
    assert "not found: set SIGCUBE_DATA_DIR" in run.stdout and "are not skipped" in run.stdout
