"""`sigcube synth`: a synthetic cube in SPARC's schema exactly, reproducible from its seed, whose generating kernel
parameters a sweep recovers; every command that reads SPARC runs on it."""

from __future__ import annotations

import json

import numpy as np
import pytest
import zarr
from typer.testing import CliRunner

from sigcube.cli import app
from sigcube.engines.sweep import best_parameters, open_result, parse_spec, run_sweep
from sigcube.errors import SigcubeError, StoreExistsError
from sigcube.io.cubes import open_cube
from sigcube.io.synth import BLOCK, synth_cube

runner = CliRunner()


def test_the_schema_is_the_ingested_sparc_cubes(sparc_store, tmp_path):
    synth_cube(30, tmp_path / "s.zarr", seed=3)
    real, fake = open_cube(sparc_store), open_cube(tmp_path / "s.zarr", kind="sparc")
    assert set(real.variables) == set(fake.variables)
    for name in real.variables:
        a, b = real[name], fake[name]
        assert (a.dims, a.dtype, a.attrs) == (b.dims, b.dtype, b.attrs), name
    assert fake.sizes["radius"] == real.sizes["radius"] and "synthetic" in fake.attrs["title"]


def test_the_seed_fixes_the_cube_whatever_the_batch(tmp_path):
    cubes = {}
    for name, seed, batch in (("a", 5, BLOCK), ("b", 5, 2 * BLOCK), ("c", 6, BLOCK)):
        synth_cube(2500, tmp_path / f"{name}.zarr", seed=seed, batch=batch)
        cubes[name] = open_cube(tmp_path / f"{name}.zarr").load()
    assert cubes["a"].attrs["content_sha256"] == cubes["b"].attrs["content_sha256"]
    np.testing.assert_array_equal(cubes["a"].v_obs.values, cubes["b"].v_obs.values)
    assert not np.allclose(cubes["a"].L36.values, cubes["c"].L36.values)
    assert zarr.open_group(str(tmp_path / "b.zarr"), mode="r")["v_obs"].chunks[0] == BLOCK


def test_the_drawn_galaxies_follow_their_scaling_relations(tmp_path):
    ds = open_cube(synth_cube(3000, tmp_path / "s.zarr", seed=1)).load()
    log_l = np.log10(ds.L36.values)
    slope, _ = np.polyfit(log_l, np.log10(ds.R_disk.values), 1)
    assert slope == pytest.approx(0.254, abs=0.03)  # the size–luminosity slope the docstring states
    assert np.mean(np.nanmax(ds.v_bul.values, axis=1) > 0) == pytest.approx(0.18, abs=0.03)
    assert 5 <= ds.n_points.min() and ds.n_points.max() <= 115
    n = ds.n_points.values
    assert np.all(np.isfinite(ds.v_obs.values[np.arange(115)[None, :] < n[:, None]]))
    assert np.all(np.isnan(ds.v_obs.values[np.arange(115)[None, :] >= n[:, None]]))
    rel = ds.e_v_obs.values / ds.v_obs.values
    assert np.nanmedian(rel) == pytest.approx(0.043, rel=0.2)  # SPARC's median e_V/V
    pull = (ds.v_obs.values - np.abs(ds.v_obs.values)) / ds.e_v_obs.values
    assert np.nanmax(pull) == 0  # positive velocities


def test_a_sweep_recovers_the_generating_parameter(tmp_path):
    synth_cube(600, tmp_path / "s.zarr", seed=2, kernel="sigma", params={"A0": 1.6})
    spec = parse_spec('name = "r"\ndataset = "sparc"\nkernel = "sigma"\nmetrics = ["median_chi2_red", "chi2"]\n'
                      "[grid.A0]\nlinspace = [1.0, 2.2, 13]\n")
    run_sweep(spec, tmp_path / "r.zarr", cube=tmp_path / "s.zarr", synchronous=True)
    ds = open_result(tmp_path / "r.zarr")
    assert best_parameters(ds, "median_chi2_red")["A0"] == pytest.approx(1.6, abs=1e-9)
    chi2 = ds.chi2.sum("galaxy")
    assert float(ds.A0[int(chi2.argmin("A0"))]) == pytest.approx(1.6, abs=1e-9)
    assert float(ds.median_chi2_red.min()) == pytest.approx(1.0, abs=0.15)  # noise drawn from e_V: χ²/N ≈ 1


def test_bad_requests_are_one_line_errors(tmp_path):
    with pytest.raises(SigcubeError, match="number of galaxies"):
        synth_cube(0, tmp_path / "x.zarr")
    with pytest.raises(SigcubeError, match="unknown|no kernel"):
        synth_cube(10, tmp_path / "x.zarr", kernel="nope")
    synth_cube(10, tmp_path / "x.zarr")
    with pytest.raises(StoreExistsError, match="--force"):
        synth_cube(10, tmp_path / "x.zarr", seed=9)
    synth_cube(10, tmp_path / "x.zarr", seed=9, force=True)
    other = tmp_path / "notes"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    res = runner.invoke(app, ["synth", "10", "--out", str(other), "--force"])
    assert res.exit_code == 2 and "choose another --out" in res.stderr
    assert (other / "keep.txt").read_text() == "mine"


def test_cli_synth_then_sweep_report_and_explore(tmp_path):
    cube = tmp_path / "s.zarr"
    res = runner.invoke(app, ["synth", "250", "--out", str(cube), "--seed", "4", "--param", "A0=1.3"])
    assert res.exit_code == 0, res.output
    assert json.loads(open_cube(cube).attrs["synth_params"])["A0"] == 1.3
    spec = tmp_path / "s.toml"
    spec.write_text('name = "s"\nkernel = "sigma"\nobject_chunk = 100\n[grid.A0]\nvalues = [1.0, 1.3, 1.6]\n')
    res = runner.invoke(app, ["sweep", str(spec), "--out", str(tmp_path / "r.zarr"), "--cube", str(cube),
                              "--synchronous"])
    assert res.exit_code == 0, res.output
    assert "3 object chunks" in res.stderr
    res = runner.invoke(app, ["report", "sweep", str(tmp_path / "r.zarr"), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["best"]["median_chi2_red"]["A0"] == pytest.approx(1.3)
    res = runner.invoke(app, ["explore", str(tmp_path / "r.zarr"), "--cube", str(cube), "--html",
                              str(tmp_path / "r.html"), "--max-frames", "2", "--max-galaxies", "3"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "r.html").stat().st_size > 10_000
