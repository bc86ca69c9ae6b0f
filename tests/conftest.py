"""Shared fixtures: the read-only real data folder (never copied into the repository)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(os.environ.get("SIGCUBE_DATA_DIR", Path(__file__).resolve().parents[2] / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real data mirror (shared/data layout); fail loudly if it is missing."""
    if not (SHARED / "sparc").is_dir():
        pytest.fail(
            f"real data folder {SHARED} (with sparc/) not found: set SIGCUBE_DATA_DIR to a folder "
            "laid out like shared/data. These tests need the real data and are not skipped.",
            pytrace=False,
        )
    return SHARED


@pytest.fixture(scope="session", autouse=True)
def _mirror_env(shared_data: Path):
    """Every test reads the real files from the mirror unless it sets the variable itself."""
    old = os.environ.get("SIGCUBE_DATA_DIR")
    os.environ["SIGCUBE_DATA_DIR"] = str(shared_data)
    yield
    if old is None:
        os.environ.pop("SIGCUBE_DATA_DIR", None)
    else:
        os.environ["SIGCUBE_DATA_DIR"] = old


@pytest.fixture(scope="session")
def sparc_store(tmp_path_factory, _mirror_env) -> Path:
    """A real SPARC cube, ingested once per test session into a temporary Zarr store."""
    from sigcube.cubes import write_cube
    from sigcube.ingest.sparc import build_sparc_cube

    path = tmp_path_factory.mktemp("cubes") / "sparc.zarr"
    write_cube(build_sparc_cube(), path)
    return path


@pytest.fixture(scope="session")
def sparc_cube(sparc_store: Path):
    """The session's SPARC cube, opened, validated and loaded into memory."""
    from sigcube.cubes import open_cube

    return open_cube(sparc_store).load()


@pytest.fixture(scope="session")
def sparc_points(sparc_cube):
    """The paper's SPARC sample (171 galaxies, 3373 points) packed contiguously."""
    from sigcube.sample import pack_sparc

    return pack_sparc(sparc_cube)
