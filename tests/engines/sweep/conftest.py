"""Fixtures of the sweep tests: a real external Dask cluster (``dask scheduler`` + ``dask worker`` processes) that
is waited for on readiness probes with generous bounds, and says what its processes printed when it is not ready."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
READY_BOUND_S = 600
"""Seconds the workers may take to register: generous, for a loaded machine."""


@dataclass
class DaskCluster:
    """A running scheduler (``address``) and its workers, each process logging to a file in ``logs``."""

    address: str
    scheduler: subprocess.Popen
    workers: list[subprocess.Popen]
    logs: Path
    wait: Callable[..., None]

    def output(self) -> str:
        """The tail of what every process of the cluster printed (for a failure message)."""
        return "\n".join(f"--- {log.name}:\n{log.read_text(errors='replace')[-2000:]}"
                         for log in sorted(self.logs.glob("*.log")))

    def wait_for(self, ready: Callable[[], bool], what: str, extra: Callable[[], str] = str) -> None:
        """Poll ``ready`` until it holds (the ``wait_for`` fixture); fail naming ``what``, with ``extra()`` and what
        the cluster printed."""
        self.wait(ready, what, lambda: f"{extra()}\n{self.output()}")


def _blocks_done(out: Path) -> int:
    folder = out / "done" / "c"
    return sum(1 for chunk in folder.rglob("*") if chunk.is_file()) if folder.is_dir() else 0


@pytest.fixture(scope="session")
def blocks_done() -> Callable[[Path], int]:
    """``blocks_done(out)``: how many blocks a sweep writing the local store ``out`` has finished (its chunk files of
    ``done``), counted in milliseconds without opening the store, so a test acts on a running sweep at once (reading the
    array of a 300-block store takes about a second, long enough for the sweep to finish meanwhile)."""
    return _blocks_done


def _scheduler_address(path: Path) -> str | None:
    try:
        return json.loads(path.read_text())["address"]
    except (OSError, ValueError, KeyError):  # not written yet, or half written
        return None


@pytest.fixture()
def dask_cluster(tmp_path: Path, wait_for) -> Iterator[Callable[..., DaskCluster]]:
    """``start(n_workers=2) -> DaskCluster``: a scheduler and single-thread workers on loopback, ready (every worker
    registered) when it returns. Every process is killed at the end of the test."""
    procs: list[subprocess.Popen] = []
    logs = tmp_path / "dask-logs"
    logs.mkdir()

    def spawn(name: str, args: list[str]) -> subprocess.Popen:
        with (logs / f"{name}.log").open("wb") as log:
            proc = subprocess.Popen([str(BIN / "dask"), *args], stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        procs.append(proc)
        return proc

    def start(n_workers: int = 2) -> DaskCluster:
        sched_file = tmp_path / "scheduler.json"
        scheduler = spawn("scheduler", ["scheduler", "--host", "127.0.0.1", "--port", "0", "--dashboard-address",
                                        ":0", "--scheduler-file", str(sched_file)])
        cluster = DaskCluster("", scheduler, [], logs, wait_for)
        wait_for(lambda: _scheduler_address(sched_file) is not None or scheduler.poll() is not None,
                 "the Dask scheduler wrote no scheduler file", cluster.output)
        if scheduler.poll() is not None:
            pytest.fail(f"the Dask scheduler exited with {scheduler.returncode}\n{cluster.output()}", pytrace=False)
        cluster.address = _scheduler_address(sched_file)
        cluster.workers = [spawn(f"worker{i}", ["worker", cluster.address, "--nthreads", "1", "--nworkers", "1",
                                                "--no-dashboard", "--host", "127.0.0.1"]) for i in range(n_workers)]
        from distributed import Client

        with Client(cluster.address, timeout=f"{READY_BOUND_S}s") as client:
            try:
                client.wait_for_workers(n_workers, timeout=READY_BOUND_S)
            except TimeoutError:
                pytest.fail(f"{n_workers} Dask workers did not register in {READY_BOUND_S} s\n{cluster.output()}",
                            pytrace=False)
        return cluster

    yield start
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
        p.wait()
