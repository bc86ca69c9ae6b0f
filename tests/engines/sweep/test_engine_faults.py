"""Faults around the Dask cluster seen from the command line: one clear line, never distributed's tracebacks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sigcube.engines.sweep import open_result

BIN = Path(sys.executable).parent
SPEC = ('name = "ext"\nkernel = "sigma"\nblock_size = 20\n[grid.A0]\nlinspace = [0.5, 3.0, 500]\n'
        "[grid.k]\nlogspace = [0.02, 1.0, 20]\n")


def _start(cmd: list[str]) -> subprocess.Popen:
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def test_a_scheduler_dying_mid_run_is_one_line(sparc_store, tmp_path):
    spec, out, sched_file = tmp_path / "ext.toml", tmp_path / "ext.zarr", tmp_path / "scheduler.json"
    spec.write_text(SPEC)
    scheduler = _start([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0",
                        "--dashboard-address", ":0", "--scheduler-file", str(sched_file)])
    procs = [scheduler]
    try:
        deadline = time.monotonic() + 60
        while not sched_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        address = json.loads(sched_file.read_text())["address"]
        procs.append(_start([str(BIN / "dask"), "worker", address, "--nthreads", "1", "--no-dashboard",
                             "--host", "127.0.0.1"]))
        sweep = subprocess.Popen([str(BIN / "sigcube"), "sweep", str(spec), "--out", str(out), "--cube",
                                  str(sparc_store), "--scheduler", address],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        while time.monotonic() < deadline + 120 and sweep.poll() is None:
            if (out / "done" / "c").is_dir() and sum(1 for _ in (out / "done" / "c").rglob("*")) >= 5:
                break
            time.sleep(0.05)
        assert sweep.poll() is None, "the sweep ended before the scheduler could be killed"
        os.killpg(scheduler.pid, signal.SIGKILL)
        _, stderr = sweep.communicate(timeout=120)
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    assert sweep.returncode == 2
    assert "Traceback" not in stderr and "distributed." not in stderr, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert errors == ["error: the connection to the Dask scheduler was lost; every finished block is saved — rerun "
                      "the same command to resume"], stderr
    written = int(open_result(out, allow_incomplete=True).done.sum())  # the finished blocks, checked intact
    assert written > 0 and written % 20 == 0
