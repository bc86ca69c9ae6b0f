"""Store safety on real SPARC sweeps: damaged chunks are refused and recomputed, `--force` replaces only a
result cube nobody is writing, concurrent drivers are refused, write errors are one line.

The silent cases of issue 11 (served NaNs or ~1e23 values, mixed stores, deleted inputs) are tested through
the public API and the command line only, so that they fail on a sigcube without these safeguards.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import zarr
from rich.console import Console
from typer.testing import CliRunner

from sigcube.cli import app
from sigcube.engines.sweep import best_parameters, open_result, parse_spec, run_sweep
from sigcube.errors import SchemaError, SigcubeError, StoreExistsError
from sigcube.io.cubes import open_cube

SMALL = ('name = "small"\nkernel = "sigma"\nblock_size = 4\n[grid.A0]\nlinspace = [0.6, 2.4, 7]\n'
         "[grid.k]\nlogspace = [0.05, 0.5, 5]\n")
"""14 blocks: A0 one value per block, k in runs of 4 and 1."""
LONG = ('name = "long"\nkernel = "sigma"\nblock_size = 2\n[grid.A0]\nlinspace = [0.5, 3.0, 300]\n'
        "[grid.k]\nvalues = [0.05, 0.5]\n")
"""300 one-row blocks: a few seconds of synchronous work (Zarr writes); tests pause it (SIGSTOP) to interfere."""
SIGCUBE = str(Path(sys.executable).with_name("sigcube"))
QUIET = Console(stderr=True, quiet=True)
runner = CliRunner()


@pytest.fixture(scope="module")
def finished(sparc_store, tmp_path_factory) -> Path:
    """A finished result cube of :data:`SMALL` (never modified: tests damage copies)."""
    out = tmp_path_factory.mktemp("finished") / "small.zarr"
    run_sweep(parse_spec(SMALL), out, cube=sparc_store, synchronous=True, console=QUIET)
    return out


@pytest.fixture(scope="module")
def long_reference(sparc_store, tmp_path_factory) -> xr.Dataset:
    """The result of :data:`LONG`, computed alone in this process."""
    out = tmp_path_factory.mktemp("long") / "long.zarr"
    run_sweep(parse_spec(LONG), out, cube=sparc_store, synchronous=True, console=QUIET)
    return open_result(out).load()


@pytest.fixture()
def copy(finished, tmp_path) -> Path:
    out = tmp_path / "small.zarr"
    shutil.copytree(finished, out)
    return out


def _flip(path: Path, offset: int = 40) -> None:
    data = bytearray(path.read_bytes())
    data[offset % len(data)] ^= 0xFF
    path.write_bytes(bytes(data))


DAMAGE = {
    "deleted": lambda p: p.unlink(),
    "flipped": _flip,
    "truncated": lambda p: p.write_bytes(p.read_bytes()[:7]),
}


def _sweep_cli(spec: Path, out: Path, cube: Path, *extra: str) -> list[str]:
    return [SIGCUBE, "sweep", str(spec), "--out", str(out), "--cube", str(cube), "--synchronous", *extra]


@pytest.mark.parametrize("chunk", ["rms/c/3/1/0", "chi2/c/5/0/0", "mean_rms/c/2/0", "done/c/6/1", "A0/c/0"])
@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_chunk_is_refused_then_recomputed_by_a_rerun(sparc_store, finished, copy, chunk, damage):
    DAMAGE[damage](copy / chunk)
    array = chunk.split("/")[0]
    named = "done flag" if (array, damage) == ("done", "deleted") else chunk
    with pytest.raises(SchemaError, match=f"damaged.*{named}"):
        best_parameters(open_result(copy))
    for command in (["info", str(copy)], ["report", "sweep", str(copy)]):
        res = runner.invoke(app, command)
        assert res.exit_code == 2 and named in res.stderr and "Traceback" not in res.output, res.output
    if array != "A0":  # a block's chunk: the block is named
        assert "block" in res.stderr
    summary = run_sweep(parse_spec(SMALL), copy, cube=sparc_store, synchronous=True, console=QUIET)
    assert summary.computed == (0 if array == "A0" else 1) and summary.resumed == summary.n_blocks - summary.computed
    xr.testing.assert_identical(open_result(copy).load(), open_result(finished).load())


def test_flipped_per_galaxy_bytes_are_never_served(finished, copy):
    raw = open_result(finished).rms.values
    assert np.nanmax(raw) < 1e4
    _flip(copy / "rms/c/0/0/0", offset=4 * 171 + 3)  # the high byte of a float32 in the block's chunk
    with pytest.raises(SchemaError, match=r"block 0 \(A0\[0\], k\[0:4\]\): chunk rms/c/0/0/0 fails its checksum"):
        open_result(copy)
    with pytest.raises(SchemaError, match="block 0"):
        open_result(copy, allow_incomplete=True)


def test_a_rerun_cli_repairs_and_says_so(sparc_store, finished, copy, tmp_path):
    (copy / "rms/c/4/0/0").unlink()
    spec = tmp_path / "small.toml"
    spec.write_text(SMALL)
    proc = subprocess.run(_sweep_cli(spec, copy, sparc_store), capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    assert "repairing 1 of 14 blocks damaged — block 8 (A0[4], k[0:4]): chunk rms/c/4/0/0 is missing" in proc.stderr
    assert "(1 computed, 1 of them damaged and recomputed, 13 already done)" in proc.stderr
    xr.testing.assert_identical(open_result(copy).load(), open_result(finished).load())


STOPPED_ENV = {**os.environ, "SIGCUBE_LEASE_TTL": "86400"}
"""The environment of a driver the test stops (SIGSTOP): its lease stays live however long the test takes, as it would
for a driver that is only slow (with the default TTL, a loaded machine could make it stale and let another take over)."""


@pytest.mark.slow
def test_force_is_refused_while_another_sweep_writes(sparc_store, long_reference, tmp_path, wait_for, blocks_done):
    spec, other = tmp_path / "long.toml", tmp_path / "other.toml"
    spec.write_text(LONG)
    other.write_text(LONG.replace("0.05, 0.5", "0.07, 0.7"))
    out = tmp_path / "r.zarr"
    first = subprocess.Popen(_sweep_cli(spec, out, sparc_store), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             text=True, env=STOPPED_ENV)
    wait_for(lambda: blocks_done(out) >= 5 or first.poll() is not None, "5 blocks of the first sweep done")
    assert first.poll() is None, f"the first sweep ended early: {first.communicate()[1][-2000:]}"
    first.send_signal(signal.SIGSTOP)  # still writing, as far as anyone can tell
    try:
        second = subprocess.run(_sweep_cli(other, out, sparc_store, "--force"), capture_output=True, text=True,
                                timeout=900)
    finally:
        first.send_signal(signal.SIGCONT)
    assert second.returncode == 2, second.stderr
    assert "another sigcube sweep or fit is writing here (lease held by" in second.stderr and f"/{first.pid} since" in second.stderr
    assert "Traceback" not in second.stderr
    _, stderr = first.communicate(timeout=900)
    assert first.returncode == 0, stderr
    xr.testing.assert_identical(open_result(out).load(), long_reference)


@pytest.mark.slow  # two 300-block drivers and their reference
def test_two_drivers_started_at_once_compute_each_block_once(sparc_store, long_reference, tmp_path):
    spec = tmp_path / "long.toml"
    spec.write_text(LONG)
    out = tmp_path / "r.zarr"
    procs = [subprocess.Popen(_sweep_cli(spec, out, sparc_store), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    results = [(p.wait(timeout=900), p.stderr.read()) for p in procs]
    for code, stderr in results:
        assert "Traceback" not in stderr and code in (0, 2), stderr
    computed = [int(stderr.split(" blocks (")[1].split(" computed")[0]) for code, stderr in results if code == 0]
    refused = [stderr for code, stderr in results if code == 2]
    assert sum(computed) == 300 and all("another sigcube sweep or fit is writing here (lease held by" in s for s in refused)
    xr.testing.assert_identical(open_result(out).load(), long_reference)


def test_force_never_replaces_anything_but_a_result_cube(sparc_store, finished, tmp_path):
    spec = parse_spec(SMALL.replace("0.6, 2.4", "0.7, 2.4"))
    folder = tmp_path / "thesis"
    folder.mkdir()
    (folder / "chapter1.tex").write_text("precious")
    cube = tmp_path / "cube.zarr"
    shutil.copytree(sparc_store, cube)
    cases = {
        folder: "is a folder that is not a Zarr store",
        cube: "is, contains or lies inside the input cube",
        cube / "v_obs": "is, contains or lies inside the input cube",
        tmp_path: "is, contains or lies inside the input cube",
        folder / "chapter1.tex": "is a file",
    }
    for out, message in cases.items():
        with pytest.raises(StoreExistsError, match=message):
            run_sweep(spec, out, cube=cube, synchronous=True, force=True, console=QUIET)
    other = tmp_path / "other.zarr"
    shutil.copytree(sparc_store, other)
    with pytest.raises(StoreExistsError, match="is a 'sparc' dataset cube; a sweep writes only into"):
        run_sweep(spec, other, cube=cube, synchronous=True, force=True, console=QUIET)
    assert (folder / "chapter1.tex").read_text() == "precious"
    xr.testing.assert_identical(open_cube(cube).load(), open_cube(sparc_store).load())
    xr.testing.assert_identical(open_cube(other).load(), open_cube(sparc_store).load())
    result = tmp_path / "small.zarr"
    shutil.copytree(finished, result)
    assert run_sweep(spec, result, cube=cube, synchronous=True, force=True, console=QUIET).computed == 14


def test_an_interrupted_creation_is_remade_and_lost_metadata_needs_force(sparc_store, finished, tmp_path):
    spec = parse_spec(SMALL)
    out = tmp_path / "small.zarr"
    shutil.copytree(finished, out)
    group = zarr.open_group(str(out), mode="r+")
    group.attrs.pop("store_id")  # as if killed before the seal was written
    with pytest.raises(SchemaError, match="creation of this result cube was interrupted"):
        open_result(out)
    assert run_sweep(spec, out, cube=sparc_store, synchronous=True, console=QUIET).computed == 14
    (out / "zarr.json").unlink()  # the sweep above left its lease beside: this is a damaged sigcube store
    with pytest.raises(SchemaError, match="root metadata is unreadable or has lost its sigcube_kind; a rerun cannot"):
        run_sweep(spec, out, cube=sparc_store, synchronous=True, console=QUIET)
    assert run_sweep(spec, out, cube=sparc_store, synchronous=True, force=True, console=QUIET).computed == 14
    xr.testing.assert_identical(open_result(out).load(), open_result(finished).load())


def test_wrong_kinds_and_missing_metrics_get_specific_messages(sparc_store, finished, tmp_path):
    plain = tmp_path / "plain.zarr"
    zarr.open_group(str(plain), mode="w", zarr_format=3).attrs["title"] = "someone else's"
    milky = tmp_path / "milky.zarr"
    zarr.open_group(str(milky), mode="w", zarr_format=3).attrs["sigcube_kind"] = "milkyway"
    cases = [
        (["info", str(plain)], "plain.zarr is a Zarr store without a sigcube_kind attribute"),
        (["explore", str(sparc_store)], "is a 'sparc' dataset cube; expected a sweep result cube"),
        (["report", "sweep", str(plain)], "without a sigcube_kind attribute (not written by sigcube, or damaged); "
                                          "expected a sweep result cube"),
        (["report", "sparc", "--cube", str(finished)], "is a sweep result cube; expected a 'sparc' or 'rotation_curves'"),
        (["report", "kernels", "--cube", str(milky)], "is a 'milkyway' dataset cube; expected a 'sparc' or"),
        (["explore", str(finished), "--cube", str(milky)], "is a 'milkyway' dataset cube; expected a 'sparc' dataset"),
    ]
    for command, message in cases:
        res = runner.invoke(app, command)
        assert res.exit_code == 2 and message in " ".join(res.stderr.split()), (command, res.output)
    spec = parse_spec('name = "m"\nkernel = "sigma"\nmetrics = ["win_rate", "rms"]\n[grid.A0]\nvalues = [0.8, 1.2]')
    run_sweep(spec, tmp_path / "m.zarr", cube=sparc_store, synchronous=True, console=QUIET)
    res = runner.invoke(app, ["info", str(tmp_path / "m.zarr")])
    assert res.exit_code == 0 and "best win_rate: A0 = " in res.stdout and "mean_rms" not in res.stdout
    only = parse_spec('name = "o"\nkernel = "sigma"\nmetrics = ["rms"]\n[grid.A0]\nvalues = [0.8, 1.2]')
    run_sweep(only, tmp_path / "o.zarr", cube=sparc_store, synchronous=True, console=QUIET)
    res = runner.invoke(app, ["explore", str(tmp_path / "o.zarr"), "--cube", str(sparc_store), "--max-galaxies", "2",
                              "--max-points", "50"])
    assert res.exit_code == 0 and (tmp_path / "o.html").is_file(), res.output


@pytest.mark.parametrize("junk", [None, 3, "", 2.5, b"cubes/sparc.zarr"])
def test_open_cube_and_open_result_name_a_junk_argument(junk):
    for opener in (open_cube, open_result):
        with pytest.raises(SigcubeError, match=f"path must be a path or a store URL .*; got {junk!r}"):
            opener(junk)


def test_open_cube_names_a_missing_path_a_file_and_a_bad_kind(sparc_store, tmp_path):
    with pytest.raises(SchemaError, match="missing.zarr: no such cube"):
        open_cube(tmp_path / "missing.zarr")
    (tmp_path / "file.zarr").write_text("not a folder")
    with pytest.raises(SchemaError, match="file.zarr is a file, not a Zarr store"):
        open_cube(tmp_path / "file.zarr")
    with pytest.raises(SigcubeError, match="kind must be one or more of sparc, .*; got 'galaxies'"):
        open_cube(sparc_store, kind="galaxies")


def _as_unprivileged(cmd: list[str]) -> list[str]:
    """``cmd`` bound by permission bits: as root, without the capabilities that let root ignore them
    (its own files stay readable, so the checkout and its venv may live anywhere)."""
    return (["setpriv", "--bounding-set=-dac_override,-dac_read_search", *cmd] if os.geteuid() == 0 else cmd)


@pytest.mark.slow  # an unprivileged process compiles the loops into an empty numba cache
def test_a_read_only_output_folder_is_one_line(sparc_store):
    with tempfile.TemporaryDirectory() as tmp:  # world-readable, unlike pytest's tmp_path under root
        base = Path(tmp)
        base.chmod(0o755)
        cube = base / "sparc.zarr"
        shutil.copytree(sparc_store, cube)
        (base / "small.toml").write_text(SMALL)
        locked = base / "locked"
        locked.mkdir(mode=0o555)
        for p in [cube, *cube.rglob("*")]:
            p.chmod(0o755 if p.is_dir() else 0o644)
        numba_cache = base / "numba"  # compiled loops are cached: the unprivileged user must write somewhere
        numba_cache.mkdir(mode=0o777)
        numba_cache.chmod(0o777)
        env = {**os.environ, "HOME": tmp, "NUMBA_CACHE_DIR": str(numba_cache)}
        proc = subprocess.run(_as_unprivileged(_sweep_cli(base / "small.toml", locked / "r.zarr", cube)),
                              capture_output=True, text=True, timeout=900, env=env)
    assert proc.returncode == 2, proc.stderr
    assert f"cannot write {locked}/r.zarr: permission denied" in " ".join(proc.stderr.split())
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(("options", "reason"), [("size=64k", "no space left on device"),
                                                  ("ro", "read-only file system")])
def test_a_full_or_read_only_file_system_is_one_line(sparc_store, tmp_path, options, reason):
    mount = tmp_path / "mnt"
    mount.mkdir()
    (tmp_path / "small.toml").write_text(SMALL)
    sweep = " ".join(_sweep_cli(tmp_path / "small.toml", mount / "r.zarr", sparc_store))
    probe = subprocess.run(["unshare", "--mount", "--map-root-user", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"this system cannot mount a private tmpfs (unshare: {probe.stderr.decode().strip()})")
    proc = subprocess.run(["unshare", "--mount", "--map-root-user", "sh", "-c",
                           f"mount -t tmpfs -o {options} tmpfs {mount} && exec {sweep}"],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 2, proc.stderr
    assert f"cannot write {mount}/r.zarr: {reason}" in " ".join(proc.stderr.split())
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_a_store_being_written_then_its_sigkilled_driver(sparc_store, long_reference, tmp_path, wait_for, blocks_done):
    spec = tmp_path / "long.toml"
    spec.write_text(LONG)
    out = tmp_path / "r.zarr"
    proc = subprocess.Popen(_sweep_cli(spec, out, sparc_store), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=STOPPED_ENV)
    wait_for(lambda: blocks_done(out) >= 3 or proc.poll() is not None, "3 blocks of the sweep done")
    assert proc.poll() is None, f"the sweep ended (exit {proc.returncode}) before it could be stopped"
    proc.send_signal(signal.SIGSTOP)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # zarr would warn about objects it does not recognise in the store
        partial = open_result(out, allow_incomplete=True)
        with pytest.raises(SchemaError, match=f"unfinished .*a sweep is writing it now \\(.*/{proc.pid} since"):
            open_result(out)
    assert 3 <= int(partial.done.sum())
    res = runner.invoke(app, ["info", str(out)])
    assert res.exit_code == 0 and "a sweep is writing it now:" in " ".join(res.stdout.split()), res.output
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    record = json.loads(next((tmp_path / ".r.zarr.lease").glob("*.json")).read_text())
    assert record["pid"] == proc.pid and not record["released"]
    resumed = subprocess.run(_sweep_cli(spec, out, sparc_store), capture_output=True, text=True, timeout=900)
    assert resumed.returncode == 0 and "already done" in resumed.stderr, resumed.stderr
    assert [p.name for p in (tmp_path / ".r.zarr.lease").iterdir()] == ["000000000002.json"]
    xr.testing.assert_identical(open_result(out).load(), long_reference)


def test_explore_says_when_a_sweep_stored_nothing_it_can_show(clusters_store, tmp_path):
    spec = parse_spec('name = "c"\nkernel = "sigma"\ndataset = "clusters"\nmetrics = ["chi2"]\n'
                      "[grid.A0]\nvalues = [0.8, 1.2]")
    run_sweep(spec, tmp_path / "c.zarr", cube=clusters_store, synchronous=True, console=QUIET)
    res = runner.invoke(app, ["explore", str(tmp_path / "c.zarr"), "--cube", str(clusters_store)])
    assert res.exit_code == 2 and "nothing to explore in sweep 'c': it stored no global metric" in res.stderr
