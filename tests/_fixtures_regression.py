"""Session fixtures for the datasets beyond SPARC: real cubes ingested once into temporary stores.

A test module loads them with ``pytest_plugins = ("_fixtures_regression",)``: pytest reads only
``conftest.py`` by itself, and importing this module directly would bypass its assertion rewriting.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


def _ingest(tmp_path_factory, kind: str) -> Path:
    from sigcube.cubes import write_cube
    from sigcube.datasets import dataset_kind

    path = tmp_path_factory.mktemp("cubes") / f"{kind}.zarr"
    write_cube(dataset_kind(kind).builder(), path)
    return path


@pytest.fixture(scope="session")
def milkyway_store(tmp_path_factory, _mirror_env) -> Path:
    return _ingest(tmp_path_factory, "milkyway")


@pytest.fixture(scope="session")
def clusters_store(tmp_path_factory, _mirror_env) -> Path:
    return _ingest(tmp_path_factory, "clusters")


@pytest.fixture(scope="session")
def dwarfs_store(tmp_path_factory, _mirror_env) -> Path:
    return _ingest(tmp_path_factory, "dwarfs")


@pytest.fixture(scope="session")
def manga_store(tmp_path_factory, _mirror_env) -> Path:
    return _ingest(tmp_path_factory, "manga")


def _open(path: Path):
    from sigcube.cubes import open_cube

    return open_cube(path).load()


@pytest.fixture(scope="session")
def milkyway_cube(milkyway_store: Path):
    return _open(milkyway_store)


@pytest.fixture(scope="session")
def clusters_cube(clusters_store: Path):
    return _open(clusters_store)


@pytest.fixture(scope="session")
def dwarfs_cube(dwarfs_store: Path):
    return _open(dwarfs_store)


@pytest.fixture(scope="session")
def manga_cube(manga_store: Path):
    return _open(manga_store)


@pytest.fixture(scope="session")
def cube_stores(sparc_store, milkyway_store, clusters_store, dwarfs_store, manga_store) -> dict[str, Path]:
    """Every cube the regression report reads, by kind."""
    return {"sparc": sparc_store, "milkyway": milkyway_store, "clusters": clusters_store, "dwarfs": dwarfs_store,
            "manga": manga_store}


@pytest.fixture()
def mirror_copy(shared_data: Path, tmp_path: Path):
    """``copy(relative, line=None, edit=None) -> Path``: copy a real file into the mirror ``tmp_path``.

    With ``line`` (1-based) and ``edit``, that line is replaced by ``edit(old_line)`` in the copy,
    so a test can corrupt it; the real file is never touched.
    """

    def copy(relative: str, line: int | None = None, edit=None) -> Path:
        target = tmp_path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(shared_data / relative, target)
        target.chmod(0o644)
        if line is not None:
            lines = target.read_text(encoding="utf-8").split("\n")
            lines[line - 1] = edit(lines[line - 1])
            target.write_text("\n".join(lines), encoding="utf-8")
        return target

    return copy
