"""Cubes and sweep results on an S3-compatible object store: a moto server on 127.0.0.1, started by the test.

Write (a synthetic dataset cube and a sweep's result, both as s3:// URLs), resume after SIGKILL of the driver, a
second driver refused while the first holds the lease, damaged chunks refused and recomputed by a rerun — and
never a local folder named ``s3:``. Every S3 request goes through the in-process server (tens of ms each on a
loaded machine): the kill-and-resume test uses a 10-point grid (2 blocks) and kills the driver as soon as the
first block is flagged; the repair test takes minutes and is marked slow (``-m slow``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import zarr

from sigcube.engines.sweep import open_result, parse_spec, run_sweep
from sigcube.io.stores import Lease, Location, StoreDamagedError
from sigcube.io.synth import synth_cube

SPEC = 'name = "{name}"\nkernel = "sigma"\nobject_chunk = 100\nblock_size = 5\n[grid.A0]\nlinspace = [0.8, 2.0, {n}]\n'
SIGCUBE = str(Path(sys.executable).with_name("sigcube"))


@pytest.fixture(scope="module")
def s3(s3_server, tmp_path_factory):
    """The loopback S3 server (tests/conftest.py) with a 200-galaxy synthetic cube, run from a folder where a misread
    URL would create a local folder named ``s3:``."""
    with pytest.MonkeyPatch.context() as mp:
        cwd = tmp_path_factory.mktemp("cwd")
        mp.chdir(cwd)
        synth_cube(200, "s3://sigcube-test/synth.zarr", seed=7)
        yield {"fs": s3_server["fs"], "cwd": cwd, "cube": "s3://sigcube-test/synth.zarr"}
        assert not (cwd / "s3:").exists()


def _spec(tmp_path: Path, name: str, n: int) -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(SPEC.format(name=name, n=n))
    return path


def _reference(s3, tmp_path: Path, name: str, n: int) -> xr.Dataset:
    spec = parse_spec(SPEC.format(name=name, n=n))
    run_sweep(spec, tmp_path / f"{name}-local.zarr", cube=s3["cube"], synchronous=True)
    return open_result(tmp_path / f"{name}-local.zarr").load()


@pytest.mark.slow
def test_a_sweep_reads_and_writes_s3_urls(s3, tmp_path):
    spec = parse_spec(SPEC.format(name="w", n=4))
    summary = run_sweep(spec, "s3://sigcube-test/w.zarr", cube=s3["cube"], synchronous=True)
    assert summary.n_chunks == 2
    xr.testing.assert_identical(open_result("s3://sigcube-test/w.zarr").load(), _reference(s3, tmp_path, "w", 4))
    assert s3["fs"].isdir("sigcube-test/w.zarr") and not (s3["cwd"] / "s3:").exists()


def _points_done(out: str) -> int:
    try:
        return int(zarr.open_group(out, mode="r")["done"][...].sum())
    except Exception:  # not created yet, or being created (s3fs raises more than one kind of error)
        return 0


@pytest.mark.slow  # the local kill-and-resume test runs in the default tier
def test_resume_after_sigkill_of_the_driver(s3, tmp_path, wait_for):
    out = "s3://sigcube-test/kill.zarr"
    n = 10  # 2 blocks × 2 object chunks: killed once the first block is flagged done, 1 block left to resume
    spec = SPEC.format(name="kill", n=n)
    driver = (f"from sigcube.engines.sweep import parse_spec, run_sweep; run_sweep(parse_spec({spec!r}), {out!r}, "
              f"cube={s3['cube']!r}, synchronous=True)")  # a driver process without the CLI's imports
    proc = subprocess.Popen([sys.executable, "-c", driver], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        wait_for(lambda: _points_done(out) > 0 or proc.poll() is not None, "the first block done")
        assert proc.poll() is None, f"the sweep ended (exit {proc.returncode}) before it could be killed"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    partial = open_result(out, allow_incomplete=True)
    assert not partial.attrs["complete"] and 0 < int(partial.done.sum()) < n
    resumed = run_sweep(parse_spec(spec), out, cube=s3["cube"], synchronous=True)
    assert resumed.resumed >= 2 and resumed.computed == 4 - resumed.resumed  # the flagged block's 2 tasks kept
    xr.testing.assert_identical(open_result(out).load(), _reference(s3, tmp_path, "kill", n))


@pytest.mark.slow
def test_a_second_driver_is_refused_while_the_lease_is_held(s3, tmp_path):
    out = "s3://sigcube-test/busy.zarr"
    with Lease.acquire(Location.of(out)):
        res = subprocess.run([SIGCUBE, "sweep", str(_spec(tmp_path, "busy", 4)), "--out", out, "--cube", s3["cube"],
                              "--synchronous"], capture_output=True, text=True, timeout=900)
    assert res.returncode == 2
    assert "another sigcube sweep or fit is writing here" in res.stderr and len(res.stderr.strip().splitlines()) <= 3
    assert not s3["fs"].exists("sigcube-test/busy.zarr/zarr.json")


@pytest.mark.slow
def test_damaged_chunks_are_refused_then_recomputed(s3, tmp_path):
    out = "s3://sigcube-test/dmg.zarr"
    spec = parse_spec(SPEC.format(name="dmg", n=10))
    run_sweep(spec, out, cube=s3["cube"], synchronous=True)
    fs, key = s3["fs"], "sigcube-test/dmg.zarr"
    rms = f"{key}/rms/c/1/1"  # block 1's task for object chunk 1
    fs.pipe_file(rms, fs.cat_file(rms)[:-9])  # truncated: found by the listing when the cube is opened
    with pytest.raises(StoreDamagedError, match="block 1"):
        open_result(out)
    flipped = f"{key}/mean_rms/c/0"
    data = bytearray(fs.cat_file(flipped))
    data[3] ^= 0xFF  # same size: caught by its checksum when read
    fs.pipe_file(flipped, bytes(data))
    summary = run_sweep(spec, out, cube=s3["cube"], synchronous=True)
    assert summary.repaired == 2 and summary.computed == 1  # the task of rms/c/1/1; block 0 is finalized again
    xr.testing.assert_identical(open_result(out).load(), _reference(s3, tmp_path, "dmg", 10))
    assert np.all(open_result(out).done)
