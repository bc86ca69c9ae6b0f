"""The store failures of the third reliability review, one test each: a chunk moved over another, swapped, resized or
bit-flipped (locally and on S3) is refused by ``info``, ``report`` and ``explore`` and repaired by a rerun; bad store
locations and an unreachable object store are one line; the advice an error gives works when followed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import xarray as xr
from rich.console import Console
from typer.testing import CliRunner

from sigcube.cli import app
from sigcube.engines.fit.run import fit_points
from sigcube.engines.fit.spec import parse_spec as parse_fit_spec
from sigcube.engines.fit.store import open_fit, write_result
from sigcube.engines.sweep import open_result, parse_spec, run_sweep
from sigcube.io.stores import StoreDamagedError
from sigcube.model.kernels import get_kernel
from sigcube.stats.synthetic import synthetic_sample

runner = CliRunner()
SPEC = ('name = "reg"\nkernel = "sigma"\nblock_size = 4\n[grid.A0]\nlinspace = [0.6, 2.4, 5]\n'
        "[grid.k]\nlogspace = [0.05, 0.5, 5]\n")
SIGCUBE = str(Path(sys.executable).with_name("sigcube"))


@pytest.fixture(scope="module")
def finished(sparc_store, tmp_path_factory) -> dict:
    """A finished 5 × 5 sweep (blocks of 1 × 4 grid points: mean_rms chunks c/0/0 … c/4/1), its spec and content."""
    folder = tmp_path_factory.mktemp("finished")
    spec = folder / "reg.toml"
    spec.write_text(SPEC)
    result = folder / "result.zarr"
    run_sweep(parse_spec(SPEC), result, cube=sparc_store, synchronous=True, console=Console(quiet=True))
    return {"result": result, "spec": spec, "content": open_result(result).load(), "cube": sparc_store}


def _copy(finished: dict, tmp_path: Path) -> Path:
    store = tmp_path / "r.zarr"
    shutil.copytree(finished["result"], store)
    return store


def _swap(root: Path, a: str, b: str) -> None:
    x, y = (root / a).read_bytes(), (root / b).read_bytes()
    (root / a).write_bytes(y)
    (root / b).write_bytes(x)


def _one_line(res, *words: str) -> str:
    assert res.exit_code == 2, res.output
    errors = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in res.output, res.stderr
    message = " ".join(res.stderr.split())
    for word in words:
        assert word in message, (word, message)
    return message


def _rerun(finished: dict, store: Path, *extra: str):
    return runner.invoke(app, ["sweep", str(finished["spec"]), "--out", str(store), "--cube", str(finished["cube"]),
                               "--synchronous", *extra])


@pytest.mark.parametrize("damage, chunk", [
    (lambda root: _swap(root, "mean_rms/c/3/0", "mean_rms/c/4/0"), "mean_rms/c/"),        # S1, two blocks' metrics
    (lambda root: shutil.copy(root / "rms/c/3/0/0", root / "rms/c/4/0/0"), "rms/c/4/0/0"),  # S1, per-galaxy RMS
    (lambda root: shutil.copy(root / "rms/c/3/0/0", root / "chi2/c/3/0/0"), "chi2/c/3/0/0"),  # S2, the wrong size
])
def test_a_moved_chunk_is_refused_by_every_reader_and_repaired_by_a_rerun(finished, tmp_path, damage, chunk):
    store = _copy(finished, tmp_path)
    damage(store)
    for argv in (["info", str(store)], ["report", "sweep", str(store)],
                 ["explore", str(store), "--cube", str(finished["cube"]), "--html", str(tmp_path / "e.html")]):
        _one_line(runner.invoke(app, argv), chunk, "rerun the same `sigcube sweep` command")  # T8: explore too
    with pytest.raises(StoreDamagedError, match=chunk):
        open_result(store)
    res = _rerun(finished, store)
    assert res.exit_code == 0 and "damaged and recomputed" in res.stderr and "0 computed" not in res.stderr, res.stderr
    xr.testing.assert_identical(open_result(store).load(), finished["content"])


def test_a_chunk_of_one_fit_variable_over_another_is_refused(tmp_path):  # S1b
    sample = synthetic_sample(get_kernel("sigma_xi"), {"A": 1.5, "xi": 3.0}, 4, seed=4, priors={})
    spec = parse_fit_spec({"dataset": "sparc", "kernel": "sigma_xi",
                           "free": {"A": {"bounds": [0.01, 5.0]}, "xi": {"bounds": [0.1, 50.0], "scale": "log"}}})
    out = tmp_path / "fit.zarr"
    write_result(fit_points(spec, sample.points), out)
    shutil.copy(out / "A" / "c" / "0", out / "xi" / "c" / "0")
    with pytest.raises(StoreDamagedError, match="chunk xi/c/0 holds another chunk's bytes"):
        open_fit(out)
    _one_line(runner.invoke(app, ["info", str(out)]), "xi/c/0", "--force")


def test_swapped_variables_of_a_dataset_cube_are_refused(sparc_store, tmp_path):  # S1c
    cube = tmp_path / "sparc.zarr"
    shutil.copytree(sparc_store, cube)
    _swap(cube, "v_gas/c/0/0", "v_disk/c/0/0")
    _one_line(runner.invoke(app, ["info", str(cube)]), "v_disk/c/0/0", "re-ingest it")
    _one_line(runner.invoke(app, ["report", "sparc", "--cube", str(cube)]), "re-ingest it")


@pytest.mark.parametrize("chunk", ["rms/c/3/0/0", "mean_rms/c/3/0"])  # S3, T6
def test_a_flipped_byte_on_s3_is_refused_by_info_and_report(finished, s3_server, chunk):
    fs = s3_server["fs"]
    url = f"s3://{s3_server['bucket']}/flip-{chunk.split('/')[0]}.zarr"
    fs.put(str(finished["result"]), url[5:], recursive=True)
    data = bytearray(fs.cat_file(f"{url[5:]}/{chunk}"))
    data[len(data) // 2] ^= 0x10
    fs.pipe_file(f"{url[5:]}/{chunk}", bytes(data))
    for argv in (["info", url], ["report", "sweep", url]):
        _one_line(runner.invoke(app, argv), chunk)
    with pytest.raises(StoreDamagedError, match=chunk):
        open_result(url)


def test_a_one_letter_scheme_is_a_scheme_not_a_drive(finished, tmp_path, monkeypatch):  # T9
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["sweep", str(finished["spec"]), "--out", "x://foo/x.zarr", "--cube",
                              str(finished["cube"]), "--synchronous"])
    _one_line(res, "'x' is not a protocol")
    assert list(tmp_path.iterdir()) == []


def test_a_file_as_the_cube_folder_is_one_line(tmp_path, monkeypatch):  # T10
    (tmp_path / "not-a-folder").write_text("")
    monkeypatch.setenv("SIGCUBE_CUBE_DIR", str(tmp_path / "not-a-folder"))
    _one_line(runner.invoke(app, ["report", "sparc"]), "is a file, not a folder")


def test_an_unreachable_object_store_is_one_line(tmp_path):  # T11
    env = {**os.environ, "AWS_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_ACCESS_KEY_ID": "x",
           "AWS_SECRET_ACCESS_KEY": "y", "AWS_MAX_ATTEMPTS": "1"}
    res = subprocess.run([SIGCUBE, "info", "s3://bucket/r.zarr"], capture_output=True, text=True, env=env,
                         timeout=900, cwd=tmp_path)
    assert res.returncode == 2 and res.stderr.count("error:") == 1, res.stderr
    assert "cannot be reached" in res.stderr and "this is a bug" not in res.stderr


@pytest.mark.parametrize("damage", [
    lambda root: (root / "done" / "zarr.json").unlink(),
    lambda root: (root / "zarr.json").write_text((root / "zarr.json").read_text().replace('"sigma"', '"sigmb"', 1)),
])
def test_the_force_the_error_advises_starts_over(finished, tmp_path, damage):  # U1
    store = _copy(finished, tmp_path)
    damage(store)
    _one_line(runner.invoke(app, ["info", str(store)]), "pass --force")
    _one_line(_rerun(finished, store), "pass --force")
    assert _rerun(finished, store, "--force").exit_code == 0
    xr.testing.assert_identical(open_result(store).load(), finished["content"])
