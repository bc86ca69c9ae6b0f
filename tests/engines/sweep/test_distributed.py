"""Sweeps on a real external Dask cluster: `dask scheduler` + two `dask worker` processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import xarray as xr

from sigcube.engines.sweep import load_spec, open_result, run_sweep

BIN = Path(sys.executable).parent
SPEC = 'name = "ext"\nkernel = "sigma"\nblock_size = 20\n[grid.A0]\nlinspace = [0.5, 3.0, {n}]\n[grid.k]\nlogspace = [0.02, 1.0, 20]\n'


@pytest.mark.slow
def test_external_scheduler_runs_the_spec(sparc_store, tmp_path, dask_cluster):
    spec_path = tmp_path / "ext.toml"
    spec_path.write_text(SPEC.format(n=40))
    cluster = dask_cluster()
    proc = subprocess.run([str(BIN / "sigcube"), "sweep", str(spec_path), "--out", str(tmp_path / "ext.zarr"),
                           "--cube", str(sparc_store), "--scheduler", cluster.address],
                          capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, f"{proc.stderr}\n{cluster.output()}"
    assert "Dask dashboard" in proc.stderr and "40 blocks (40 computed" in proc.stderr
    run_sweep(load_spec(spec_path), tmp_path / "ref.zarr", cube=sparc_store, synchronous=True)
    xr.testing.assert_identical(open_result(tmp_path / "ext.zarr").load(), open_result(tmp_path / "ref.zarr").load())


@pytest.mark.slow  # a 400-block sweep on an external cluster, then its reference
def test_a_worker_killed_mid_run_loses_nothing(sparc_store, tmp_path, dask_cluster, blocks_done):
    spec_path = tmp_path / "death.toml"
    spec_path.write_text(SPEC.format(n=400))  # 400 × 20 points in blocks of 20
    out, log = tmp_path / "death.zarr", tmp_path / "sweep.log"
    cluster = dask_cluster()
    with log.open("wb") as f:
        sweep = subprocess.Popen([str(BIN / "sigcube"), "sweep", str(spec_path), "--out", str(out),
                                  "--cube", str(sparc_store), "--scheduler", cluster.address],
                                 stdout=f, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        cluster.wait_for(lambda: blocks_done(out) >= 20 or sweep.poll() is not None, "20 blocks (400 points) of the sweep done",
                         lambda: log.read_text(errors="replace")[-2000:])
        assert sweep.poll() is None, f"the sweep ended before a worker could be killed:\n{log.read_text()[-2000:]}"
        os.killpg(cluster.workers[0].pid, signal.SIGKILL)
        sweep.wait(timeout=1200)
    finally:
        if sweep.poll() is None:
            os.killpg(sweep.pid, signal.SIGKILL)
            sweep.wait()
    assert sweep.returncode == 0, f"{log.read_text(errors='replace')[-3000:]}\n{cluster.output()}"
    run_sweep(load_spec(spec_path), tmp_path / "ref.zarr", cube=sparc_store, synchronous=True)
    xr.testing.assert_identical(open_result(out).load(), open_result(tmp_path / "ref.zarr").load())


def test_unreachable_scheduler_is_a_clear_error(sparc_store, tmp_path):
    spec_path = tmp_path / "x.toml"
    spec_path.write_text(SPEC.format(n=2))
    proc = subprocess.run([str(BIN / "sigcube"), "sweep", str(spec_path), "--out", str(tmp_path / "x.zarr"),
                           "--cube", str(sparc_store), "--scheduler", "tcp://127.0.0.1:9"],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in proc.stderr and "Traceback" not in proc.stderr
