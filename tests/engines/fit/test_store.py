"""Fit result cubes are stored like every sigcube store: under a lease, checksummed, sealed last. A half-written
or killed write never opens as complete, a damaged chunk is named, a second writer is refused, and --force
replaces only a fit result."""

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

from sigcube.engines.fit.run import fit_points
from sigcube.engines.fit.spec import parse_spec
from sigcube.engines.fit.store import claim, open_fit, write_result
from sigcube.errors import SchemaError, StoreExistsError
from sigcube.io.cubes import CubeWriter
from sigcube.io.stores import Location, StoreBusyError, StoreDamagedError, has_checksum
from sigcube.model.kernels import get_kernel
from sigcube.stats.synthetic import synthetic_sample

SPEC = {"dataset": "sparc", "kernel": "sigma_xi",
        "free": {"A": {"bounds": [0.01, 5.0]}, "xi": {"bounds": [0.1, 50.0], "scale": "log"}}}


@pytest.fixture(scope="module")
def result() -> xr.Dataset:
    """A fit result cube of 6 synthetic galaxies (sigma_xi at A = 1.5, ξ = 3 kpc)."""
    sample = synthetic_sample(get_kernel("sigma_xi"), {"A": 1.5, "xi": 3.0}, 6, seed=4, priors={})
    return fit_points(parse_spec(SPEC), sample.points)


def test_written_checksummed_and_sealed_and_read_back_equal(result, tmp_path):
    out = tmp_path / "fit.zarr"
    write_result(result, out)
    back = open_fit(out).load()
    xr.testing.assert_equal(back.drop_vars("galaxy"), result.drop_vars("galaxy"))
    assert list(back["galaxy"].values) == list(result["galaxy"].values)
    group = zarr.open_group(str(out), mode="r")
    assert all(has_checksum(a) for _, a in group.arrays())
    assert "metadata_sha256" in group.attrs and len(back.attrs["content_sha256"]) == 64
    assert (tmp_path / ".fit.zarr.lease").is_dir()  # the lease was taken beside --out


def test_a_half_written_store_is_refused_then_replaced_without_force(result):
    url = "memory://f2-half/fit.zarr"  # an object store: written in place, sealed last
    writer = CubeWriter(Location.of(url))
    writer.begin(result)  # the writer dies here: chunks written, no seal
    with pytest.raises(SchemaError, match="interrupted"):
        open_fit(url)
    write_result(result, url)  # an interrupted fit is no one's finished work: no --force needed
    assert open_fit(url).sizes["galaxy"] == result.sizes["galaxy"]


KILLED = """
import signal, sys
from pathlib import Path
import xarray as xr
import sigcube.io.cubes as cs
from sigcube.engines.fit.store import write_result

def stall(store, attrs):
    Path(sys.argv[3]).touch()
    signal.pause()  # until the test kills this writer

cs.seal = stall
write_result(xr.open_zarr(sys.argv[1], consolidated=False).load(), sys.argv[2], force=True)
"""


def test_a_killed_rewrite_leaves_the_previous_cube_and_frees_the_lease(result, tmp_path, wait_for):
    out, marker = tmp_path / "fit.zarr", tmp_path / "sealing"
    write_result(result, out)
    changed = result.assign(chi2=result["chi2"] + 1.0)
    changed.to_zarr(tmp_path / "new.zarr", consolidated=False)
    proc = subprocess.Popen([sys.executable, "-c", KILLED, str(tmp_path / "new.zarr"), str(out), str(marker)])
    try:
        wait_for(lambda: marker.exists() or proc.poll() is not None, "the writer reaching its seal")
        assert proc.poll() is None, "the writer ended before sealing"
        with pytest.raises(StoreBusyError):  # the writer is alive and holds the lease
            write_result(result, out, force=True)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    np.testing.assert_array_equal(open_fit(out)["chi2"].values, result["chi2"].values)  # the old cube, whole
    write_result(changed, out, force=True)  # the dead writer's lease is stale
    np.testing.assert_array_equal(open_fit(out)["chi2"].values, changed["chi2"].values)


def test_a_damaged_chunk_is_named(result, tmp_path):
    out = tmp_path / "fit.zarr"
    write_result(result, out)
    chunk = next(p for p in (out / "chi2").rglob("*") if p.is_file() and p.name != "zarr.json")
    data = bytearray(chunk.read_bytes())
    data[len(data) // 2] ^= 0xFF
    chunk.write_bytes(bytes(data))
    with pytest.raises(StoreDamagedError, match=r"chunk chi2/.*fails its checksum"):
        open_fit(out)


def test_a_second_writer_is_refused_while_the_first_holds_the_lease(result, tmp_path):
    out = tmp_path / "fit.zarr"
    with claim(out) as write:
        with pytest.raises(StoreBusyError, match=str(os.getpid())):
            write_result(result, out)
        write(result)
    assert open_fit(out).sizes["galaxy"] == 6


def test_force_replaces_only_a_fit_result(result, tmp_path):
    out = tmp_path / "fit.zarr"
    write_result(result, out)
    with pytest.raises(StoreExistsError, match="--force"):
        write_result(result, out)
    write_result(result.assign(chi2=result["chi2"] * 2), out, force=True)
    np.testing.assert_array_equal(open_fit(out)["chi2"].values, 2 * result["chi2"].values)
    other = tmp_path / "plain"
    other.mkdir()
    (other / "keep.txt").write_text("x")
    sweep = tmp_path / "sweep.zarr"
    xr.Dataset(attrs={"sigcube_kind": "sweep"}).to_zarr(sweep, consolidated=False)
    for victim in (other, sweep):
        with pytest.raises(StoreExistsError, match="not a fit result"):
            write_result(result, victim, force=True)
    assert (other / "keep.txt").read_text() == "x" and zarr.open_group(str(sweep)).attrs["sigcube_kind"] == "sweep"
    with pytest.raises(StoreExistsError, match="input cube"):
        with claim(tmp_path / "sweep.zarr" / "inner", inputs=[sweep]):
            pass


def test_an_unsealed_fit_written_by_hand_is_not_complete(result, tmp_path):
    out = tmp_path / "plain.zarr"
    result.to_zarr(out, consolidated=False)  # how fits were written before: no seal, no checksum
    with pytest.raises(SchemaError, match="not sealed"):
        open_fit(out)
    assert Path(out).is_dir()


def test_info_describes_a_fit_cube_and_refuses_a_damaged_one(result, tmp_path):
    from typer.testing import CliRunner

    from sigcube.cli import app

    out = tmp_path / "fit.zarr"
    write_result(result, out)
    shown = CliRunner().invoke(app, ["info", str(out)])
    assert shown.exit_code == 0, shown.output
    text = " ".join(shown.output.split())
    dof = result["n_points"].values - 2  # k = 2 free parameters, no nuisance
    red = result["chi2"].values / dof
    assert "kernel sigma_xi, 6 objects (galaxy), free A ∈ [0.01, 5], xi ∈ [0.1, 50], nuisance none" in text
    assert f"χ²_red median {np.median(red):.3g}, mean {np.mean(red):.3g} over 6 objects" in text
    assert f"{int(result['converged'].sum())} of 6 converged" in text and "0 with N − k − d ≤ 0" in text
    (out / "converged" / "zarr.json").unlink()
    broken = CliRunner().invoke(app, ["info", str(out)])
    assert broken.exit_code != 0 and "converged" in broken.output and "Traceback" not in broken.output


def test_a_local_cluster_fits_as_in_process_and_leaves_dask_logging_as_it_was(result):
    import logging

    from sigcube.engines.fit.run import executor

    sample = synthetic_sample(get_kernel("sigma_xi"), {"A": 1.5, "xi": 3.0}, 6, seed=4, priors={})
    before = logging.getLogger("distributed").level
    with executor(workers=1) as run:
        assert logging.getLogger("distributed").level > logging.CRITICAL  # its tracebacks kept off the terminal
        on_cluster = fit_points(parse_spec({**SPEC, "fit": {"chunk": 4}}), sample.points, run=run)
    assert logging.getLogger("distributed").level == before
    xr.testing.assert_equal(on_cluster, result)  # chunks of 4 on a worker = one chunk here
