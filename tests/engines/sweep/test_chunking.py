"""Galaxy-chunked sweeps: the global metrics do not depend on how the objects are chunked, and equal the metrics
computed by hand from the full point × grid array of the kernel's own numpy function.

Sums over objects (Σ RMS, win counts) and the median of the stored χ² are bit-identical for any chunking. The RAR
sums Σx, Σx² come from the kernel's reduction as one float sum per chunk (its loop's order), combined exactly:
they agree to 1e-12 relative (the issue's bound), not bit for bit."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sigcube.engines.sweep import open_result, parse_spec, run_sweep
from sigcube.io.cubes import open_cube
from sigcube.io.rotation_curves import pack_sparc
from sigcube.model.kernels import get_kernel

SPEC = """
name = "chunks"
kernel = "sigma"
object_chunk = {chunk}
[grid.A0]
values = [0.8, 1.4, 2.2]
[grid.k]
values = [0.05, 0.3]
"""
EXACT = ("mean_rms", "win_rate", "median_chi2_red")
RAR = ("rar_rms_accel", "rar_scatter_velocity", "rar_scatter_accel")
GLOBALS = EXACT + RAR


@pytest.fixture(scope="module")
def by_hand(sparc_store):
    """Every metric at every grid point from the whole V_pred array (kernel function, plain numpy)."""
    pts = pack_sparc(open_cube(sparc_store).load())
    o, e = pts.inputs["v_obs"], pts.inputs["e_v_obs"]
    splits = pts.offsets[1:-1]
    n = np.diff(pts.offsets)
    base = np.array([np.sqrt(np.mean(r**2)) for r in np.split(get_kernel("mond")(pts.inputs) - o, splits)])
    out = {}
    for a0 in (0.8, 1.4, 2.2):
        for k in (0.05, 0.3):
            v = get_kernel("sigma")(pts.inputs, A0=a0, k=k)
            rms = np.array([np.sqrt(np.mean(r**2)) for r in np.split(v - o, splits)])
            chi2 = np.array([np.sum(r**2) for r in np.split((v - o) / e, splits)])
            x = np.log10(o / v)
            mean_x = math.fsum(x) / len(x)
            std = math.sqrt(math.fsum(x * x) / len(x) - mean_x**2)
            out[a0, k] = {"mean_rms": math.fsum(rms) / len(rms), "win_rate": np.mean(rms < base),
                          "rar_rms_accel": 2 * math.sqrt(math.fsum(x * x) / len(x)),
                          "rar_scatter_velocity": std, "rar_scatter_accel": 2 * std,
                          "median_chi2_red": float(np.median(chi2 / n)), "rms": rms, "chi2": chi2}
    return out


def test_global_metrics_do_not_depend_on_the_object_chunking(sparc_store, by_hand, tmp_path):
    cubes = {}
    for chunk in (1, 7, 0):  # 0: the default, all 171 SPARC galaxies in one chunk
        summary = run_sweep(parse_spec(SPEC.format(chunk=chunk)), tmp_path / f"c{chunk}.zarr", cube=sparc_store,
                            synchronous=True)
        assert summary.n_chunks == {1: 171, 7: 25, 0: 1}[chunk]
        cubes[chunk] = open_result(tmp_path / f"c{chunk}.zarr").load()
    for chunk in (1, 7):
        for name in (*EXACT, "rms", "chi2", "baseline_rms"):
            np.testing.assert_array_equal(cubes[chunk][name].values, cubes[0][name].values, err_msg=name)
        for name in RAR:
            np.testing.assert_allclose(cubes[chunk][name].values, cubes[0][name].values, rtol=1e-12, err_msg=name)
    ds = cubes[7]
    for (a0, k), truth in by_hand.items():
        point = ds.sel(A0=a0, k=k)
        for name in GLOBALS:
            assert float(point[name]) == pytest.approx(truth[name], rel=1e-12, abs=1e-15), name
        np.testing.assert_allclose(point.chi2.values, truth["chi2"], rtol=1e-12)
        np.testing.assert_allclose(point.rms.values, truth["rms"], rtol=1e-6)  # stored in single precision


def test_workers_read_only_the_variables_the_kernels_need(sparc_store, tmp_path):
    """Σ★ (CMSI) is packed from the surface brightness: read when a kernel needs it, skipped otherwise; either way
    the chunked sweep equals the whole cube packed at once."""
    from sigcube.io.datasets import dataset_kind

    sparc = dataset_kind("sparc")
    assert sparc.unread(get_kernel("sigma").all_inputs + get_kernel("mond").all_inputs) == ("sb_disk", "sb_bul")
    assert sparc.unread(get_kernel("cmsi").all_inputs) == ()
    spec = parse_spec('name = "cmsi-chunks"\nkernel = "cmsi"\nobject_chunk = 40\n[grid.chi0]\nvalues = [400.0, 800.0]\n')
    run_sweep(spec, tmp_path / "c.zarr", cube=sparc_store, synchronous=True)
    pts = pack_sparc(open_cube(sparc_store).load())
    o, splits = pts.inputs["v_obs"], pts.offsets[1:-1]
    got = open_result(tmp_path / "c.zarr")["rms"].values
    for row, chi0 in zip(got, (400.0, 800.0)):
        v = get_kernel("cmsi")(pts.inputs, chi0=chi0)
        expected = [np.sqrt(np.mean(r**2)) for r in np.split(v - o, splits)]
        np.testing.assert_allclose(row, expected, rtol=1e-6)  # rms is stored in float32


def test_each_object_chunk_is_read_once_ahead_of_its_task(sparc_store, tmp_path, monkeypatch):
    """A task reads the next object chunk on a second thread while it computes: every chunk is read exactly once
    (the one read ahead is the one its task takes), the chunks after the first by the read-ahead thread."""
    import threading

    from sigcube.engines.sweep import engine

    readers: dict[int, list[str]] = {}
    load = engine.load_points

    def counted(source, c):
        readers.setdefault(c, []).append(threading.current_thread().name)
        return load(source, c)

    monkeypatch.setattr(engine, "load_points", counted)
    engine._PREPARED.clear()
    run_sweep(parse_spec(SPEC.format(chunk=50)), tmp_path / "r.zarr", cube=sparc_store, synchronous=True)
    assert sorted(readers) == [0, 1, 2, 3]
    assert all(len(names) == 1 for names in readers.values()), readers
    assert all(readers[c][0].startswith("sigcube-read-ahead") for c in (1, 2, 3)), readers
