"""Sweeps on a real external Dask cluster: `dask scheduler` + two `dask worker` processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import xarray as xr
import zarr

from sigcube.engines.sweep import load_spec, open_result, run_sweep

BIN = Path(sys.executable).parent
SPEC = 'name = "ext"\nkernel = "sigma"\nblock_size = 20\n[grid.A0]\nlinspace = [0.5, 3.0, {n}]\n[grid.k]\nlogspace = [0.02, 1.0, 20]\n'


@contextmanager
def dask_cluster(tmp_path: Path, n_workers: int = 2):
    """Start a scheduler and ``n_workers`` single-thread workers on loopback; yield (address, worker procs)."""
    sched_file = tmp_path / "scheduler.json"
    procs = [subprocess.Popen([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0",
                               "--dashboard-address", ":0", "--scheduler-file", str(sched_file)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)]
    try:
        deadline = time.monotonic() + 60
        while not sched_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        address = json.loads(sched_file.read_text())["address"]
        workers = [subprocess.Popen([str(BIN / "dask"), "worker", address, "--nthreads", "1", "--nworkers", "1",
                                     "--no-dashboard", "--host", "127.0.0.1"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
                   for _ in range(n_workers)]
        procs += workers
        from distributed import Client

        with Client(address, timeout="30s") as client:
            client.wait_for_workers(n_workers, timeout=60)
        yield address, workers
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def test_external_scheduler_runs_the_spec(sparc_store, tmp_path):
    spec_path = tmp_path / "ext.toml"
    spec_path.write_text(SPEC.format(n=40))
    with dask_cluster(tmp_path) as (address, _):
        proc = subprocess.run([str(BIN / "sigcube"), "sweep", str(spec_path), "--out", str(tmp_path / "ext.zarr"),
                               "--cube", str(sparc_store), "--scheduler", address],
                              capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Dask dashboard" in proc.stderr and "40 blocks (40 computed" in proc.stderr
    run_sweep(load_spec(spec_path), tmp_path / "ref.zarr", cube=sparc_store, synchronous=True)
    xr.testing.assert_identical(open_result(tmp_path / "ext.zarr").load(), open_result(tmp_path / "ref.zarr").load())


def test_a_worker_killed_mid_run_loses_nothing(sparc_store, tmp_path):
    spec_path = tmp_path / "death.toml"
    spec_path.write_text(SPEC.format(n=400))
    out = tmp_path / "death.zarr"
    with dask_cluster(tmp_path) as (address, workers):
        sweep = subprocess.Popen([str(BIN / "sigcube"), "sweep", str(spec_path), "--out", str(out),
                                  "--cube", str(sparc_store), "--scheduler", address],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and sweep.poll() is None:
            if (out / "done" / "zarr.json").exists() and zarr.open_group(str(out), mode="r")["done"][...].sum() >= 400:
                break
            time.sleep(0.02)
        assert sweep.poll() is None, "the sweep finished before a worker could be killed"
        os.killpg(workers[0].pid, signal.SIGKILL)
        _, stderr = sweep.communicate(timeout=300)
    assert sweep.returncode == 0, stderr
    run_sweep(load_spec(spec_path), tmp_path / "ref.zarr", cube=sparc_store, synchronous=True)
    xr.testing.assert_identical(open_result(out).load(), open_result(tmp_path / "ref.zarr").load())


def test_unreachable_scheduler_is_a_clear_error(sparc_store, tmp_path):
    spec_path = tmp_path / "x.toml"
    spec_path.write_text(SPEC.format(n=2))
    proc = subprocess.run([str(BIN / "sigcube"), "sweep", str(spec_path), "--out", str(tmp_path / "x.zarr"),
                           "--cube", str(sparc_store), "--scheduler", "tcp://127.0.0.1:9"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in proc.stderr and "Traceback" not in proc.stderr
