"""The README's Python examples run as written; its example plugin package installs, loads and sweeps."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import sigcube
from sigcube.engines.sweep import load_spec, open_result, parse_spec, run_sweep


@pytest.fixture(scope="module")
def readme(repo_root: Path) -> str:
    return (repo_root / "README.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def files(readme: str) -> dict[str, str]:
    """The README's example files (blocks opening with ``# file: NAME``), by name."""
    return dict(re.findall(r"```(?:toml|python)\n# file: (\S+)\n(.*?)```", readme, flags=re.S))


@pytest.fixture(scope="module")
def blocks(readme: str) -> list[str]:
    """Every Python block except the example files (installed and run below) and the dask-jobqueue one,
    which configures a SLURM cluster."""
    return [b for b in re.findall(r"```python\n(.*?)```", readme, flags=re.S)
            if "dask_jobqueue" not in b and not b.startswith("# file: ")]


def test_readme_has_python_examples(blocks):
    assert len(blocks) >= 2


@pytest.fixture(scope="module")
def workdir(sparc_store, repo_root, tmp_path_factory):
    """A folder holding cubes/sparc.zarr and the A0 × k sweep, as after `make demo`."""
    work = tmp_path_factory.mktemp("readme")
    shutil.copytree(sparc_store, work / "cubes" / "sparc.zarr")
    spec = load_spec(repo_root / "sweeps" / "sigma_A0_k.toml")
    run_sweep(spec, work / "cubes" / "sigma-A0-k.zarr", cube=work / "cubes" / "sparc.zarr", synchronous=True)
    return work


def test_readme_examples_run(blocks, workdir, monkeypatch):
    """Each block in its own namespace, in order, in the folder `make demo` leaves."""
    monkeypatch.chdir(workdir)
    for index, block in enumerate(blocks):
        exec(compile(block, f"README.md python block {index}", "exec"), {"__name__": "readme"})


def _install(files: dict[str, str], tmp_path: Path) -> Path:
    """Build and install the example package with pip (``pip install --target``); the folder it went to.

    pip builds it in an isolated environment from the README's pyproject.toml (setuptools from the
    package index) and installs the module with its dist-info and entry points.
    """
    package = tmp_path / "sigcube-example-plugin"
    package.mkdir()
    for name in ("pyproject.toml", "sigcube_example_plugin.py"):
        (package / name).write_text(files[name])
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
                    "--target", str(site), str(package)], check=True, timeout=300)
    return site


def test_the_readme_plugin_package_installs_loads_and_sweeps(files, sparc_store, sparc_cube, tmp_path):
    assert {"pyproject.toml", "sigcube_example_plugin.py", "boosted_newton_K.toml"} <= set(files)
    site = _install(files, tmp_path)
    entry_points = next(site.glob("sigcube_example_plugin-*.dist-info")) / "entry_points.txt"
    assert "[sigcube.kernels]\nboosted_newton = sigcube_example_plugin" in entry_points.read_text()
    name = "boosted_newton"
    env = {**os.environ, "PYTHONPATH": str(site)}
    exe = str(Path(sys.executable).with_name("sigcube"))
    listed = subprocess.run([exe, "kernels", "--json"], env=env, capture_output=True, text=True, check=True)
    described = {k["name"]: k for k in json.loads(listed.stdout)}
    assert name in described and described[name]["parameters"][0]["name"] == "K" and not listed.stderr.strip()
    spec = tmp_path / "boosted_newton_K.toml"
    spec.write_text(files["boosted_newton_K.toml"])
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


def _command_lines(readme: str) -> list[str]:
    """Every ``sigcube …`` line of the README's bash blocks, continuation lines joined, comments dropped."""
    lines: list[str] = []
    for block in re.findall(r"```bash\n(.*?)```", readme, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            text = line.split("  #")[0].strip()
            if text.startswith("sigcube "):
                lines.append(text)
            elif text.startswith("[") and lines:  # an option list continued on the next line
                lines[-1] += " " + text
    return lines


def test_every_command_line_names_real_commands_and_options(readme):
    """The synopses (``sigcube ingest sparc|milkyway … [--out …]``) against the CLI itself: each command
    (each of the alternatives ``a|b``) exists and takes each ``--option`` the line shows."""
    from sigcube.cli import command_tree

    root = command_tree()
    lines = _command_lines(readme)
    assert len(lines) >= 20
    seen = set()
    for line in lines:
        words = line.split()[1:]
        groups = [root]
        while words and words[0].split("|")[0] in getattr(groups[0], "commands", {}):  # a group: its sub-commands
            names = words.pop(0).split("|")
            groups = [group.commands[name] for group in groups for name in names]
        assert not hasattr(groups[0], "commands"), f"{line}: no command after the group"
        options = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", " ".join(words)))
        for command in groups:
            accepted = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
            assert options <= accepted, f"{line}: {sorted(options - accepted)} not options of {command.name}"
            seen.add(command.name)
    assert {"sparc", "table", "kernels", "sweep", "explore", "regression", "info"} <= seen


def test_the_readme_sweep_spec_is_valid_and_runs(readme, sparc_store, tmp_path):
    text = next(b for b in re.findall(r"```toml\n(.*?)```", readme, flags=re.S) if b.startswith('name = "sigma-A0-k"'))
    spec = parse_spec(text)
    assert [a.name for a in spec.axes] == ["A0", "g_dagger"] and spec.shape == (127, 80)
    g_dagger = spec.axes[1].values
    assert g_dagger.min() == pytest.approx(0.3e-10) and g_dagger.max() == pytest.approx(3.0e-10)  # unit converted
    run_sweep(spec, tmp_path / "readme.zarr", cube=sparc_store, synchronous=True)
    ds = open_result(tmp_path / "readme.zarr")
    assert {"mean_rms", "win_rate", "rms"} <= set(ds.data_vars) and "rar_rms_accel" not in ds
    assert ds.attrs["kernel"] == "sigma" and ds.sizes["galaxy"] == 171
