"""The slow tier's wide search: every property test of the default tier again, with fresh examples.

The default tier draws each property test's examples derandomized (``tests/conftest.py``: no test fails by chance, no
example database replays an old failure). Here the same tests run under the ``wide`` profile with a seed of their own,
so they meet examples the default tier never draws — fixed, so CI's verdict is the same on every run; pass another
with ``--hypothesis-seed`` to search further by hand.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

WIDE_SEED = 20261128
"""The wide search's seed in CI."""


@pytest.mark.slow
def test_every_property_test_passes_on_fresh_examples(repo_root, shared_data, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_XDIST_WORKER"}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-m", "hypothesis and not slow",
         "--ignore=tests/fuzz", "--hypothesis-profile=wide", f"--hypothesis-seed={WIDE_SEED}",
         "--basetemp", str(tmp_path / "run"), "tests"],
        cwd=repo_root, env=env, capture_output=True, text=True, timeout=1500)
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-2000:]
    assert " passed" in run.stdout.strip().splitlines()[-1]
