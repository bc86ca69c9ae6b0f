"""The README's Python examples run as written; its example plugin package installs, loads and sweeps."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

import sigcube
from sigcube.sweeps import load_spec, open_result, run_sweep

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
FILES = dict(re.findall(r"```(?:toml|python)\n# file: (\S+)\n(.*?)```", README, flags=re.S))
"""The README's example files (blocks opening with ``# file: NAME``), by name."""
# every Python block except the files above (installed and run below) and the dask-jobqueue one,
# which configures a SLURM cluster
BLOCKS = [b for b in re.findall(r"```python\n(.*?)```", README, flags=re.S)
          if "dask_jobqueue" not in b and not b.startswith("# file: ")]


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


def _install(files: dict[str, str], site: Path) -> str:
    """Put the example package on ``site`` as pip would: its module and a dist-info with its entry points.

    Returns the entry point of group ``sigcube.kernels`` (its name), read from the README's pyproject.toml.
    """
    pyproject = tomllib.loads(files["pyproject.toml"])
    project = pyproject["project"]
    site.mkdir()
    for name in pyproject["tool"]["setuptools"]["py-modules"]:
        (site / f"{name}.py").write_text(files[f"{name}.py"])
    dist = site / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n")
    groups = project["entry-points"]
    (dist / "entry_points.txt").write_text("".join(
        f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in entries.items()) + "\n" for group, entries in groups.items()))
    return next(iter(groups["sigcube.kernels"]))


def test_the_readme_plugin_package_loads_and_sweeps(sparc_store, sparc_cube, tmp_path):
    assert {"pyproject.toml", "sigcube_example_plugin.py", "boosted_newton_K.toml"} <= set(FILES)
    name = _install(FILES, tmp_path / "site")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    exe = str(Path(sys.executable).with_name("sigcube"))
    listed = subprocess.run([exe, "kernels", "--json"], env=env, capture_output=True, text=True, check=True)
    described = {k["name"]: k for k in json.loads(listed.stdout)}
    assert name in described and described[name]["parameters"][0]["name"] == "K" and not listed.stderr.strip()
    spec = tmp_path / "boosted_newton_K.toml"
    spec.write_text(FILES["boosted_newton_K.toml"])
    out = tmp_path / "boosted.zarr"
    subprocess.run([exe, "sweep", str(spec), "--cube", str(sparc_store), "--out", str(out), "--synchronous"],
                   env=env, capture_output=True, text=True, check=True)
    ds = open_result(out)
    assert ds.attrs["kernel"] == name and ds.sizes["K"] == 11
    # K = 0 is Newtonian gravity; V = V_bar·√(1 + K) by hand at K = 1
    assert float(ds.mean_rms.sel(K=0.0)) == pytest.approx(float(sigcube.score(sparc_cube, "newtonian").mean_rms), rel=1e-12)
    v = np.sqrt(2.0) * sigcube.predict(sparc_cube, "newtonian")
    hand = np.sqrt(((v - sparc_cube.v_obs) ** 2).mean("radius")).mean()
    assert float(ds.mean_rms.sel(K=1.0)) == pytest.approx(float(hand), rel=1e-12)
