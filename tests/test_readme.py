"""The README's Python examples run as written."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from sigcube.sweeps import load_spec, run_sweep

ROOT = Path(__file__).resolve().parents[1]
# every Python block except the dask-jobqueue one, which configures a SLURM cluster
BLOCKS = [b for b in re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
          if "dask_jobqueue" not in b]


def test_readme_has_python_examples():
    assert len(BLOCKS) >= 2


@pytest.fixture(scope="module")
def workdir(sparc_store, tmp_path_factory):
    """A folder holding cubes/sparc.zarr and the A0 × k sweep, as after `make demo`."""
    work = tmp_path_factory.mktemp("readme")
    shutil.copytree(sparc_store, work / "cubes" / "sparc.zarr")
    spec = load_spec(ROOT / "sweeps" / "sigma_A0_k.toml")
    run_sweep(spec, work / "cubes" / "sigma-A0-k.zarr", cube=work / "cubes" / "sparc.zarr", synchronous=True)
    return work


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index, workdir, monkeypatch):
    block = BLOCKS[index]
    monkeypatch.chdir(workdir)
    exec(compile(block, f"README.md python block {index}", "exec"), {"__name__": "readme"})
