"""Shared fixtures and the two test tiers.

- **Unit tests** need nothing outside the repository (and the seed files of ``shared/seeds``): kernels on
  synthetic arrays, metrics, specs, parsers, the registry, the layout. ``pytest -m "not data"`` runs them.
- **Data-backed tests** read the real data mirror (``SIGCUBE_DATA_DIR``, default ``../shared/data`` beside
  the checkout, never copied into the repository). The :func:`shared_data` fixture is the only way to it:
  every fixture that ingests a real cube requests it, and every test whose fixture closure includes it is
  marked ``data`` (:func:`pytest_collection_modifyitems`). Without the mirror they fail, never skip.

Every other test runs with ``SIGCUBE_DATA_DIR`` naming an empty folder (:func:`pytest_runtest_protocol`, from its
fixtures' set-up to their teardown, subprocesses included): a unit test that reaches the mirror fails in every run.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parents[1]
"""The repository checkout."""
SHARED = ROOT.parent / "shared"
"""The project's shared folder beside the checkout: ``data`` (the mirror), ``seeds``, ``docs``."""
DATA_DIR_VARIABLE = "SIGCUBE_DATA_DIR"
"""The variable naming the data mirror, read by sigcube and by :func:`shared_data`."""
HYPOTHESIS_PROFILES = {"derandomized": settings(derandomize=True, database=None),
                       "wide": settings(derandomize=False, database=None)}
"""Hypothesis's profiles: ``derandomized`` (every run, CI's included: each property test draws the same examples, so a
test cannot fail by chance, and no example database replays an old failure), ``wide`` (fresh examples: the slow tier's
wide search runs it with fixed seeds, ``tests/project/test_wide_search.py``; ``--hypothesis-seed`` picks others)."""
for _name, _profile in HYPOTHESIS_PROFILES.items():
    settings.register_profile(_name, _profile)
settings.load_profile("derandomized")
_MIRROR = pytest.StashKey[str]()
_NO_MIRROR = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    """Remember the mirror this run was given (the variable, else ``shared/data``) and make the empty folder the
    unit tests see instead."""
    import tempfile

    config.stash[_MIRROR] = os.environ.get(DATA_DIR_VARIABLE, str(SHARED / "data"))
    config.stash[_NO_MIRROR] = tempfile.mkdtemp(prefix="sigcube-no-mirror-")


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(config.stash.get(_NO_MIRROR, ""), ignore_errors=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    """Run a ``data`` test with ``SIGCUBE_DATA_DIR`` naming the mirror, any other with it naming an empty folder."""
    saved = os.environ.get(DATA_DIR_VARIABLE)
    data = item.get_closest_marker("data") is not None
    os.environ[DATA_DIR_VARIABLE] = item.config.stash[_MIRROR if data else _NO_MIRROR]
    try:
        return (yield)
    finally:
        if saved is None:
            os.environ.pop(DATA_DIR_VARIABLE, None)
        else:
            os.environ[DATA_DIR_VARIABLE] = saved


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark ``data`` every test that reaches the mirror (its fixtures include ``shared_data``)."""
    for item in items:
        if "shared_data" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.data)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository checkout (README, sweeps/, notebooks/, docs/, …)."""
    return ROOT


@pytest.fixture(scope="session")
def seeds() -> Path:
    """The seed files (paper, SI, notes) in ``shared/seeds``; fail loudly if they are missing."""
    folder = SHARED / "seeds"
    if not any(folder.glob("*.txt")):
        pytest.fail(f"seed files not found in {folder}: the citation tests read them and are not skipped",
                    pytrace=False)
    return folder


@pytest.fixture(scope="session")
def shared_data(request: pytest.FixtureRequest) -> Path:
    """The real data mirror (shared/data layout), named by ``SIGCUBE_DATA_DIR`` while a data test runs.

    Fails loudly when the mirror is missing: the data-backed tests are never skipped.
    """
    folder = Path(request.config.stash[_MIRROR])
    if not (folder / "sparc").is_dir():
        pytest.fail(
            f"real data folder {folder} (with sparc/) not found: set {DATA_DIR_VARIABLE} to a folder "
            "laid out like shared/data. These tests need the real data and are not skipped.",
            pytrace=False,
        )
    return folder


def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A temporary folder shared by every process of this test run: the run's base temporary folder, or under
    pytest-xdist the folder above the workers' own (``pytest-N/`` holding ``popen-gw0/``, ``popen-gw1/``…)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@contextmanager
def built_once(folder: Path, name: str) -> Iterator[bool]:
    """``with built_once(folder, name) as build:`` — ``build`` is True in the one process of the run that must build
    ``name`` (the others wait on a file lock, then find it built); the build counts only if the block succeeds."""
    folder.mkdir(parents=True, exist_ok=True)
    done = folder / f".{name}.built"
    with open(folder / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield not done.exists()
            done.touch()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _ingest(tmp_path_factory: pytest.TempPathFactory, kind: str) -> Path:
    """The real cube of dataset kind ``kind``, built from the mirror into a temporary Zarr store once per test run
    (shared by the xdist workers; the tests only read it)."""
    from sigcube.io.cubes import write_cube
    from sigcube.io.datasets import dataset_kind

    folder = run_folder(tmp_path_factory) / "cubes" / kind  # one cube per folder: tests use the folder as a cube dir
    path = folder / f"{kind}.zarr"
    with built_once(folder, kind) as build:
        if build:
            shutil.rmtree(path, ignore_errors=True)  # left by a build that failed
            write_cube(dataset_kind(kind).builder(), path)
    return path


def _open(path: Path):
    from sigcube.io.cubes import open_cube

    return open_cube(path).load()


@pytest.fixture(scope="session")
def sparc_store(tmp_path_factory, shared_data) -> Path:
    """A real SPARC cube, ingested once per test session into a temporary Zarr store."""
    return _ingest(tmp_path_factory, "sparc")


@pytest.fixture(scope="session")
def sparc_cube(sparc_store: Path):
    """The session's SPARC cube, opened, validated and loaded into memory."""
    return _open(sparc_store)


@pytest.fixture(scope="session")
def sparc_points(sparc_cube):
    """The paper's SPARC sample (171 galaxies, 3373 points) packed contiguously."""
    from sigcube.io.rotation_curves import pack_sparc

    return pack_sparc(sparc_cube)


@pytest.fixture(scope="session")
def milkyway_store(tmp_path_factory, shared_data) -> Path:
    return _ingest(tmp_path_factory, "milkyway")


@pytest.fixture(scope="session")
def clusters_store(tmp_path_factory, shared_data) -> Path:
    return _ingest(tmp_path_factory, "clusters")


@pytest.fixture(scope="session")
def dwarfs_store(tmp_path_factory, shared_data) -> Path:
    return _ingest(tmp_path_factory, "dwarfs")


@pytest.fixture(scope="session")
def manga_store(tmp_path_factory, shared_data) -> Path:
    return _ingest(tmp_path_factory, "manga")


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


PROBE_BOUND_S = 600
"""Seconds a readiness probe waits (a server listening, a sweep's first blocks on disk) before the test fails: a
bound on a hang, generous for a loaded machine, never a statement about speed."""


def _wait_for(ready: Callable[[], bool], what: str, output: Callable[[], str] = str,
              bound: float = PROBE_BOUND_S) -> None:
    deadline = time.monotonic() + bound
    while not ready():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not after {bound:.0f} s\n{output()}", pytrace=False)
        time.sleep(0.05)


@pytest.fixture(scope="session")
def wait_for() -> Callable[..., None]:
    """``wait_for(ready, what, output=str, bound=PROBE_BOUND_S)``: poll ``ready()`` until it holds; after ``bound``
    seconds fail naming ``what`` and showing ``output()`` (what the process waited on printed)."""
    return _wait_for


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def free_port() -> Callable[[], int]:
    """``free_port()``: a TCP port on 127.0.0.1 no process listens on now (the kernel's pick)."""
    return _free_port


class FakeClock:
    """Seconds since the epoch that move only when a test says so: what lease tests give ``Lease.acquire(clock=)``
    instead of sleeping through a TTL."""

    def __init__(self, start: float = 1.7e9) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture()
def clock() -> FakeClock:
    """A :class:`FakeClock` at 2023-11-14 22:13:20 UTC."""
    return FakeClock()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """An S3-compatible server (moto) on 127.0.0.1, started for the session, with a bucket; the AWS environment of
    this process points at it. Yields ``{"fs", "bucket", "endpoint", "env"}``; nothing reaches outside the machine."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()  # returns once the server listens
    host, port = server.get_host_and_port()
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_ENDPOINT_URL": f"http://{host}:{port}"}
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        from sigcube.io.stores import Location

        fs = Location.of("s3://sigcube-test").fs
        fs.mkdir("sigcube-test")
        yield {"fs": fs, "bucket": "sigcube-test", "endpoint": env["AWS_ENDPOINT_URL"], "env": env}
    server.stop()


TINY_NUISANCE = """
name = "tiny-nuisance"
description = "MOND a0, 5 values, Υ, D, i marginalised"
dataset = "sparc"
kernel = "mond"
[grid.a0]
logspace = [0.8e-10, 1.4e-10, 5]
[nuisance]
mode = "marginalise"
nodes = 3
"""
TINY_JOINT = """
name = "tiny-joint"
description = "MOND a0 on SPARC (quoted errors) and CLASH lensing"
kernel = "mond"
[grid.a0]
logspace = [0.5e-10, 4e-9, 7]
[[datasets]]
name = "sparc"
dataset = "sparc"
cube = "{sparc}"
[[datasets]]
name = "clash"
dataset = "clusters:lensing"
cube = "{clusters}"
[datasets.likelihood]
errors = "stat"
"""


@pytest.fixture(scope="session")
def tiny_results(sparc_store, clusters_store, tmp_path_factory) -> dict[str, Path]:
    """A small nuisance sweep (MOND a0, 5 values) and a small joint sweep (MOND a0 on SPARC and CLASH) of the real
    cubes: result cubes of each kind, made once per worker."""
    from sigcube.engines.joint import parse_joint_spec, run_joint
    from sigcube.engines.sweep import parse_spec, run_sweep

    tmp = tmp_path_factory.mktemp("tiny-results")
    run_sweep(parse_spec(TINY_NUISANCE), tmp / "nuisance.zarr", cube=sparc_store, synchronous=True)
    run_joint(parse_joint_spec(TINY_JOINT.format(sparc=sparc_store, clusters=clusters_store), "joint spec"),
              tmp / "joint.zarr", synchronous=True)
    return {"nuisance": tmp / "nuisance.zarr", "joint": tmp / "joint.zarr"}
