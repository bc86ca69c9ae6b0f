"""Faults around the Dask cluster seen from the command line: one clear line, never distributed's tracebacks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from sigcube.engines.sweep import open_result

BIN = Path(sys.executable).parent
SPEC = ('name = "ext"\nkernel = "sigma"\nblock_size = 20\n[grid.A0]\nlinspace = [0.5, 3.0, 500]\n'
        "[grid.k]\nlogspace = [0.02, 1.0, 20]\n")


@pytest.mark.slow
def test_a_scheduler_dying_mid_run_is_one_line(sparc_store, tmp_path, dask_cluster, blocks_done):
    spec, out, log = tmp_path / "ext.toml", tmp_path / "ext.zarr", tmp_path / "sweep.err"
    spec.write_text(SPEC)
    cluster = dask_cluster(n_workers=1)
    with log.open("w") as f:
        sweep = subprocess.Popen([str(BIN / "sigcube"), "sweep", str(spec), "--out", str(out), "--cube",
                                  str(sparc_store), "--scheduler", cluster.address],
                                 stdout=subprocess.DEVNULL, stderr=f, text=True, start_new_session=True)
    try:
        cluster.wait_for(lambda: blocks_done(out) >= 5 or sweep.poll() is not None, "5 blocks of the sweep done",
                         lambda: log.read_text(errors="replace")[-2000:])
        assert sweep.poll() is None, f"the sweep ended before the scheduler could be killed:\n{log.read_text()}"
        os.killpg(cluster.scheduler.pid, signal.SIGKILL)
        sweep.wait(timeout=900)
    finally:
        if sweep.poll() is None:
            os.killpg(sweep.pid, signal.SIGKILL)
            sweep.wait()
    stderr = log.read_text()
    assert sweep.returncode == 2, stderr
    assert "Traceback" not in stderr and "distributed." not in stderr, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert errors == ["error: the connection to the Dask scheduler was lost; every finished block is saved — rerun "
                      "the same command to resume"], stderr
    written = int(open_result(out, allow_incomplete=True).done.sum())  # the finished blocks, checked intact
    assert written > 0 and written % 20 == 0
