"""Packaging: every imported package is declared, every package ships, and a wheel install can ingest and report."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest


def _canonical(name: str) -> str:
    """A distribution name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def declared_distributions(pyproject: dict) -> set[str]:
    """Distributions the package requires, or offers as a non-test extra."""
    project = pyproject["project"]
    extras = [req for extra, reqs in project["optional-dependencies"].items() if extra != "test" for req in reqs]
    return {_canonical(re.match(r"[A-Za-z0-9._-]+", req).group()) for req in project["dependencies"] + extras}


def test_every_imported_package_is_declared(pyproject, third_party_modules):
    installed = packages_distributions()
    declared = declared_distributions(pyproject)
    top_level = {name.split(".")[0] for name in third_party_modules}
    assert {"numpy", "xarray", "requests", "distributed"} <= top_level
    # a module that is not installed (an optional extra) is looked up by its own name
    providers = {m: {_canonical(d) for d in installed.get(m, [m])} for m in top_level}
    assert {m: dists for m, dists in providers.items() if not dists & declared} == {}


def test_every_package_folder_is_listed_and_the_manifests_ship(pyproject, repo_root):
    listed = set(pyproject["tool"]["setuptools"]["packages"])
    folders = {".".join(p.parent.relative_to(repo_root).parts) for p in (repo_root / "sigcube").rglob("__init__.py")}
    assert listed == folders | {"sigcube.manifests"}
    manifests = repo_root / pyproject["tool"]["setuptools"]["package-dir"]["sigcube.manifests"]
    assert (manifests / "__init__.py").is_file() and (manifests / "sparc.toml").is_file()
    assert pyproject["tool"]["setuptools"]["package-data"]["sigcube.manifests"] == ["*.toml"]


@pytest.mark.slow
def test_a_wheel_installed_elsewhere_ingests_and_reports(shared_data, repo_root, tmp_path):
    """Build the wheel, install it alone in a fresh venv (dependencies from this one), run it outside the checkout."""
    src = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for name in ("sigcube", "ingest"):
        shutil.copytree(repo_root / name, src / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(repo_root / name, src / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    subprocess.run([*pip, "wheel", "--no-deps", "-w", str(tmp_path / "dist"), str(src)], check=True, timeout=900)
    wheel, = (tmp_path / "dist").glob("sigcube-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=600)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    # this interpreter's packages, appended to the new venv's path (their .pth files, e.g. an editable
    # sigcube, stay inert); pip sees that sigcube's metadata there, so it is told to install regardless
    Path(purelib, "dependencies.pth").write_text("\n".join(p for p in sys.path if p.endswith("site-packages")) + "\n")
    subprocess.run([*pip, "--python", str(python), "install", "--no-deps", "--no-index", "--ignore-installed",
                    str(wheel)], check=True, timeout=900)

    run = tmp_path / "elsewhere"
    run.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SIGCUBE_", "PYTHON", "VIRTUAL_ENV"))}
    env["SIGCUBE_DATA_DIR"] = str(shared_data)
    sigcube = str(venv / "bin" / "sigcube")

    def call(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(args, cwd=run, env=env, capture_output=True, text=True, timeout=900)

    where = call(str(python), "-c", "import sigcube.io.ingest.sources as s; print(s.__file__, s.MANIFEST_DIR)")
    assert where.returncode == 0, where.stderr
    assert all(path.startswith(str(venv)) for path in where.stdout.split()), where.stdout
    ingest = call(sigcube, "ingest", "sparc")
    assert ingest.returncode == 0, ingest.stderr
    assert "wrote cubes/sparc.zarr  (175 galaxy × 115 radius)" in ingest.stderr
    report = call(sigcube, "report", "sparc", "--json")
    assert report.returncode == 0, report.stderr
    payload = json.loads(report.stdout)
    assert (payload["preset"], payload["n_galaxies"], payload["n_points"]) == ("paper", 171, 3373)
