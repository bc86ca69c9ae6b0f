"""The sweep engine on real SPARC data: equivalence, exactness, resume after SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from sigcube.compute.reduce import Prepared, reduce_block
from sigcube.engines.sweep import best_parameters, best_per_galaxy, load_spec, open_result, parse_spec, run_sweep
from sigcube.errors import SchemaError, StoreExistsError
from sigcube.io.chunks import VerifyingStore, is_chunk_key
from sigcube.io.cubes import open_cube
from sigcube.model.kernels import get_kernel
from sigcube.model.kernels.presets import get_preset
from sigcube.study.reports.sparc import sparc_report

SMALL = """
name = "small"
kernel = "sigma"
block_size = {block}
[grid.A0]
linspace = [0.6, 2.4, 7]
[grid.k]
logspace = [0.05, 0.5, 5]
"""


@pytest.fixture(scope="module")
def prep(sparc_points):
    sigma = get_kernel("sigma")
    return Prepared.build(sparc_points, sigma, sigma.resolve(), get_kernel("mond"))


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.floats(0.1, 4.0), min_size=1, max_size=4),
    st.lists(st.floats(0.01, 2.0), min_size=1, max_size=3),
    st.sampled_from([0.5, 1.0, 1.7]),
    st.sampled_from([[9.6e-11], [8e-11, 1.2e-10]]),
    st.sampled_from(["third", "table", "vdisk_peak"]),
)
def test_fused_loop_equals_the_kernel_and_metrics(prep, amps, ks, p, gds, rd_source):
    params = {"A0": np.array(amps)[:, None, None], "k": np.array(ks)[None, :, None],
              "g_dagger": np.array(gds)[None, None, :], "window_exponent": np.array([[[p]]]), "rd_source": rd_source,
              "window": "power"}
    fused = reduce_block(prep, params)
    plain = reduce_block(prep, params, keep_curves=True)  # kernel function + sigcube.model.metrics
    flat = {**{k: v for k, v in fused.items() if k != "partials"}, **fused["partials"]}
    plain = {**{k: v for k, v in plain.items() if k != "partials"}, **plain["partials"]}
    for key in flat:
        np.testing.assert_allclose(flat[key], plain[key], rtol=1e-9, atol=1e-12, err_msg=key)


def test_canonical_grid_point_reproduces_the_report(sparc_store, sparc_cube, repo_root, tmp_path):
    spec = load_spec(repo_root / "sweeps" / "sigma_A0_k.toml")
    assert spec.size >= 10_000
    run_sweep(spec, tmp_path / "ak.zarr", cube=sparc_store, synchronous=True)
    ds = open_result(tmp_path / "ak.zarr")
    point = ds.sel(A0=np.exp(1 / (2 * np.pi)), k=1 / (2 * np.pi))
    report = sparc_report(sparc_cube, get_preset("paper"))
    assert float(point.mean_rms) == pytest.approx(report["sigma"]["mean_rms"], rel=1e-12)
    assert float(point.win_rate) == pytest.approx(report["sigma"]["win_rate"], rel=1e-12)
    for name in ("rar_rms_accel", "rar_scatter_velocity", "rar_scatter_accel"):
        assert float(point[name]) == pytest.approx(report["sigma"][name], rel=1e-10), name
    assert float(point.median_chi2_red) == pytest.approx(report["sigma"]["median_chi2_red"], rel=1e-10)
    assert ds.attrs["spec_text"] == spec.text and ds.attrs["dataset_content_sha256"] == sparc_cube.attrs["content_sha256"]
    assert ds.A0.attrs["units"] == "" and ds.rms.attrs["units"] == "km / s"
    best = best_parameters(ds)
    at_best = float(ds.mean_rms.sel(A0=best["A0"], k=best["k"]))
    assert best["mean_rms"] == at_best and int((ds.mean_rms < at_best).sum()) == 0  # the coordinates point at the minimum
    per_gal = best_per_galaxy(ds)
    assert per_gal.sizes["galaxy"] == 171 and np.all(per_gal.best_rms <= ds.rms.sel(A0=1.0, k=0.02, method="nearest"))


def test_c_local_scan_reproduces_its_preset(sparc_store, sparc_cube, repo_root, tmp_path):
    spec = load_spec(repo_root / "sweeps" / "sigma_c_local_scan.toml")
    run_sweep(spec, tmp_path / "cl.zarr", cube=sparc_store, synchronous=True)
    point = open_result(tmp_path / "cl.zarr").sel(sigma_c=20.0, A0=np.exp(1 / (2 * np.pi)))
    assert float(point.mean_rms) == pytest.approx(sparc_report(sparc_cube, get_preset("c-local"))["sigma"]["mean_rms"], rel=1e-12)


def test_local_cluster_equals_synchronous_and_its_driver_reads_no_points_nor_per_object_array(sparc_store, tmp_path,
                                                                                            monkeypatch):
    """The driver reads the sample's selection and the global metrics; the tasks read the objects' points (chunk 0's
    check of the inputs too) and per-object arrays (the count of best points on the grid's ends): the driver's memory
    does not grow with the number of galaxies."""
    spec = parse_spec(SMALL.format(block=4).replace("block_size", "object_chunk = 90\nblock_size"))
    a = run_sweep(spec, tmp_path / "sync.zarr", cube=sparc_store, synchronous=True)
    read: list[str] = []
    get = VerifyingStore.get

    async def spy(self, key, prototype, byte_range=None):
        if is_chunk_key(key):
            read.append(key)
        return await get(self, key, prototype, byte_range)

    monkeypatch.setattr(VerifyingStore, "get", spy)  # in this process only: the workers import their own
    b = run_sweep(spec, tmp_path / "dask.zarr", cube=sparc_store, workers=2)
    monkeypatch.undo()
    assert a.n_blocks == b.n_blocks > 4 and b.n_chunks == 2
    assert b.notes + b.warnings and (a.best, a.notes, a.warnings) == (b.best, b.notes, b.warnings)
    assert any(key.startswith("v_obs/") for key in read) and any(key.startswith("mean_rms/") for key in read)
    assert not [key for key in read if key.split("/")[0] in ("e_v_obs", "rms", "chi2")]
    xr.testing.assert_identical(open_result(tmp_path / "sync.zarr").load(), open_result(tmp_path / "dask.zarr").load())


def test_rerun_resumes_and_a_different_spec_is_refused(sparc_store, tmp_path):
    out = tmp_path / "r.zarr"
    spec = parse_spec(SMALL.format(block=4))
    run_sweep(spec, out, cube=sparc_store, synchronous=True)
    again = run_sweep(spec, out, cube=sparc_store, synchronous=True)
    assert again.computed == 0 and again.resumed == again.n_blocks
    other = parse_spec(SMALL.format(block=4).replace("0.6, 2.4", "0.7, 2.4"))
    with pytest.raises(StoreExistsError, match="different sweep spec"):
        run_sweep(other, out, cube=sparc_store, synchronous=True)
    assert run_sweep(other, out, cube=sparc_store, synchronous=True, force=True).computed > 0


def test_keep_curves_stores_the_kernel_output(sparc_store, sparc_points, tmp_path):
    spec = parse_spec(SMALL.format(block=5))
    run_sweep(spec, tmp_path / "c.zarr", cube=sparc_store, synchronous=True, keep_curves=True)
    ds = open_result(tmp_path / "c.zarr")
    a0, k = float(ds.A0[3]), float(ds.k[2])
    expected = get_kernel("sigma")(sparc_points.inputs, A0=a0, k=k)
    np.testing.assert_allclose(ds.v_pred.sel(A0=a0, k=k).values, expected, rtol=1e-12)
    assert ds.v_pred.encoding["chunks"][-1] == sparc_points.n_points


@pytest.mark.slow  # 35–45 s; the default tier keeps the S3 store's and the store-safety SIGKILL tests
def test_sigkill_mid_run_then_rerun_gives_the_uninterrupted_cube(sparc_store, tmp_path, wait_for, blocks_done):
    spec_path = tmp_path / "kill.toml"
    spec_path.write_text('name = "kill"\nkernel = "sigma"\nblock_size = 20\n'
                         "[grid.A0]\nlinspace = [0.5, 3.0, 300]\n[grid.k]\nlogspace = [0.02, 1.0, 20]\n")
    out = tmp_path / "kill.zarr"
    cmd = [str(Path(sys.executable).with_name("sigcube")), "sweep", str(spec_path), "--out", str(out),
           "--cube", str(sparc_store), "--synchronous"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for(lambda: blocks_done(out) >= 30 or proc.poll() is not None, "30 of 300 blocks done")
        assert proc.poll() is None, f"the sweep ended (exit {proc.returncode}) before it could be killed"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    with pytest.raises(SchemaError, match="unfinished"):
        open_result(out)
    partial = open_result(out, allow_incomplete=True)
    written = int(partial.done.sum())
    assert 600 <= written < 6000 and written % 20 == 0  # whole blocks only
    resumed = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert resumed.returncode == 0, resumed.stderr
    assert "already done" in resumed.stderr
    reference = tmp_path / "ref.zarr"
    run_sweep(load_spec(spec_path), reference, cube=sparc_store, synchronous=True)
    xr.testing.assert_identical(open_result(out).load(), open_result(reference).load())


def test_open_result_refuses_other_stores(sparc_store, tmp_path):
    with pytest.raises(SchemaError, match="is a 'sparc' dataset cube; expected a sweep result cube"):
        open_result(sparc_store)
    with pytest.raises(SchemaError, match="no such result"):
        open_result(tmp_path / "missing.zarr")


def test_result_attrs_carry_the_fixed_parameters(sparc_store, tmp_path):
    spec = parse_spec('name = "f"\nkernel = "sigma"\npreset = "vdisk-peak"\n[grid.A0]\nvalues = [1.0, 1.5]')
    run_sweep(spec, tmp_path / "f.zarr", cube=sparc_store, synchronous=True)
    attrs = open_result(tmp_path / "f.zarr").attrs
    fixed = json.loads(attrs["fixed_parameters"])
    assert fixed["rd_source"] == "vdisk_peak" and attrs["kernel"] == "sigma" and attrs["sigcube_version"]


def test_report_sweep_cli(sparc_store, tmp_path):
    from typer.testing import CliRunner

    from sigcube.cli import app

    spec = tmp_path / "s.toml"
    spec.write_text('name = "s"\nkernel = "sigma"\n[grid.A0]\nlinspace = [0.5, 2.0, 4]\ninclude_default = true\n'
                    "[grid.k]\nvalues = [0.05, 0.15915494309189535, 0.5]\n")
    runner = CliRunner()
    res = runner.invoke(app, ["sweep", str(spec), "--out", str(tmp_path / "s.zarr"), "--cube", str(sparc_store),
                              "--synchronous"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["report", "sweep", str(tmp_path / "s.zarr"), "--json"])
    payload = json.loads(res.stdout)
    assert payload["grid"] == {"A0": 5, "k": 3}
    # every grid point evaluated by hand with the kernel's own numpy function and sigcube.model.metrics
    from sigcube.io.rotation_curves import pack_sparc

    pts = pack_sparc(open_cube(sparc_store).load())
    sigma = get_kernel("sigma")
    grid = [(a0, k) for a0 in (0.5, 1.0, 1.5, 2.0, np.exp(1 / (2 * np.pi))) for k in (0.05, 1 / (2 * np.pi), 0.5)]
    by_hand = {(a0, k): float(np.mean([np.sqrt(np.mean((v - o) ** 2)) for v, o in zip(
        np.split(sigma(pts.inputs, A0=a0, k=k), pts.offsets[1:-1]), np.split(pts.inputs["v_obs"], pts.offsets[1:-1]))]))
        for a0, k in grid}
    (a0_min, k_min), rms_min = min(by_hand.items(), key=lambda item: item[1])
    best = payload["best"]["mean_rms"]
    assert best["mean_rms"] == pytest.approx(rms_min, rel=1e-10)
    assert (best["A0"], best["k"]) == pytest.approx((a0_min, k_min), rel=1e-12)
    default = payload["default_point"]
    assert default["mean_rms"] == pytest.approx(by_hand[(np.exp(1 / (2 * np.pi)), 1 / (2 * np.pi))], rel=1e-10)
    res = runner.invoke(app, ["sweep", str(spec), "--workers", "2", "--synchronous"])
    assert res.exit_code == 2 and "at most one of" in res.stderr


def test_only_the_requested_metrics_are_stored(sparc_store, tmp_path):
    spec = parse_spec('name = "m"\nkernel = "sigma"\nmetrics = ["win_rate", "rms"]\n[grid.A0]\nvalues = [0.8, 1.2]')
    summary = run_sweep(spec, tmp_path / "m.zarr", cube=sparc_store, synchronous=True)
    ds = open_result(tmp_path / "m.zarr")
    assert {"win_rate", "rms", "done", "baseline_rms"} <= set(ds.data_vars)
    assert not {"mean_rms", "chi2", "rar_scatter_velocity"} & set(ds.data_vars)
    assert summary.best["win_rate"] == float(ds.win_rate.max())
