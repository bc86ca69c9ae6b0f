"""Kernels: limits the seeds claim, registry validation, broadcasting, numpy vs dask."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sigcube.constants import AU_M, G_DAGGER, G_SI, M_SUN_KG, accel_from_velocity
from sigcube.model.kernels import KernelError, get_kernel, kernel_names
from sigcube.model.kernels.sigma import A0_DEFAULT, h_function


def _points(r, v_bar, r_d=2.0, f_bulge=0.0):
    r = np.asarray(r, dtype=float)
    v_bar = np.asarray(v_bar, dtype=float)
    full = lambda x: np.full_like(r, x)  # noqa: E731
    return {
        "r": r, "v_bar": v_bar, "g_N": accel_from_velocity(v_bar, r),
        "R_d_third": full(r_d), "R_d_table": full(r_d), "R_d_vdisk_peak": full(r_d), "f_bulge": full(f_bulge),
    }


positive = st.floats(min_value=0.05, max_value=80.0, allow_nan=False)
speeds = st.floats(min_value=1.0, max_value=400.0, allow_nan=False)
curves = st.lists(st.tuples(positive, speeds), min_size=1, max_size=30)


def test_registry_lists_the_foundation_kernels():
    assert {"newtonian", "mond", "sigma"} <= set(kernel_names())


def test_unknown_kernel_lists_valid_names():
    with pytest.raises(KernelError, match="unknown kernel 'sigmaa'.*mond.*sigma"):
        get_kernel("sigmaa")


def test_unknown_parameter_lists_valid_parameters():
    with pytest.raises(KernelError, match="no parameter 'A'.*A0.*g_dagger"):
        get_kernel("sigma")(_points([1.0], [50.0]), A=1.0)


@pytest.mark.parametrize(
    ("name", "value", "match"),
    [("A0", -1.0, "outside its bounds"), ("k", np.nan, "finite"), ("window", "cubic", "one of linear, sqrt, power, c_local"),
     ("rd_source", "third ", "one of third"), ("A0", "big", "must be a number")],
)
def test_bad_parameter_values_are_clear_errors(name, value, match):
    with pytest.raises(KernelError, match=match):
        get_kernel("sigma")(_points([1.0], [50.0]), **{name: value})


def test_canonical_default_values():
    k = get_kernel("sigma").resolve()
    assert k["A0"] == pytest.approx(np.exp(1 / (2 * np.pi)))
    assert k["k"] == pytest.approx(1 / (2 * np.pi))
    assert k["g_dagger"] == pytest.approx(9.60e-11, rel=2e-3)


def test_cluster_amplitude_is_8_45():
    from sigcube.model.kernels.sigma import amplitude

    assert amplitude(A0_DEFAULT, 1.0, 600.0, 0.4, 0.27) == pytest.approx(8.45, abs=0.01)


def test_solar_system_enhancement_below_1e8_at_saturn():
    r_saturn = 9.5 * AU_M
    g = G_SI * M_SUN_KG / r_saturn**2
    # W ≤ 1 and A = A0, so Σ − 1 ≤ A0·h(g) bounds the canonical kernel's enhancement.
    assert A0_DEFAULT * h_function(g, G_DAGGER) < 1e-8


def test_window_vanishes_at_the_centre():
    v = get_kernel("sigma")(_points([1e-9], [50.0]))
    assert v[0] == pytest.approx(50.0, rel=1e-6)


def test_high_acceleration_limit_is_newtonian():
    pts = _points([0.01], [3000.0])  # g_N ~ 3e-5 m/s² ≫ g†
    for name in ("sigma", "mond"):
        assert get_kernel(name)(pts)[0] == pytest.approx(3000.0, rel=1e-4)


@settings(max_examples=50, deadline=None)
@given(curves)
def test_sigma_and_mond_enhance_and_stay_finite(curve):
    r, v = map(np.array, zip(*curve))
    pts = _points(r, v)
    for name in ("sigma", "mond"):
        out = get_kernel(name)(pts)
        assert np.all(np.isfinite(out)) and np.all(out >= v - 1e-9)
    for window in ("linear", "sqrt", "power", "c_local"):
        assert np.all(np.isfinite(get_kernel("sigma")(pts, window=window)))


@settings(max_examples=40, deadline=None)
@given(curves, st.floats(0.1, 5.0), st.floats(0.1, 5.0))
def test_sigma_is_monotone_in_amplitude(curve, a1, a2):
    r, v = map(np.array, zip(*curve))
    lo, hi = sorted((a1, a2))
    sig = get_kernel("sigma")
    for window in ("linear", "sqrt", "power", "c_local"):
        assert np.all(sig(_points(r, v), A0=lo, window=window) <= sig(_points(r, v), A0=hi, window=window) + 1e-9)


@settings(max_examples=25, deadline=None)
@given(curves, st.lists(st.floats(0.1, 5.0), min_size=1, max_size=4), st.lists(st.floats(0.01, 1.0), min_size=1, max_size=3))
def test_broadcasting_over_parameter_axes_equals_a_loop(curve, amps, ks):
    r, v = map(np.array, zip(*curve))
    pts = _points(r, v)
    sig = get_kernel("sigma")
    grid = sig(pts, A0=np.array(amps)[:, None, None], k=np.array(ks)[None, :, None])
    assert grid.shape == (len(amps), len(ks), len(r))
    for i, a in enumerate(amps):
        for j, k in enumerate(ks):
            np.testing.assert_allclose(grid[i, j], sig(pts, A0=a, k=k), rtol=1e-12)


def test_numpy_and_dask_inputs_agree():
    rng = np.random.default_rng(3)
    r = np.sort(rng.uniform(0.1, 30, 200))
    v = rng.uniform(10, 300, 200)
    pts = _points(r, v)
    lazy = {k: da.from_array(x, chunks=50) for k, x in pts.items()}
    for name in ("sigma", "mond", "newtonian"):
        np.testing.assert_allclose(np.asarray(get_kernel(name)(lazy)), get_kernel(name)(pts), rtol=1e-12)


def test_missing_point_input_is_named():
    with pytest.raises(KernelError, match="needs point inputs g_N"):
        get_kernel("mond")({"v_bar": np.ones(3)})


def test_named_windows_are_power_laws():
    r = np.array([0.2, 1.0, 5.0, 20.0])
    pts = _points(r, np.full(4, 80.0), r_d=3.0)
    sig = get_kernel("sigma")
    np.testing.assert_allclose(sig(pts, window="sqrt"), sig(pts, window="power", window_exponent=0.5), rtol=1e-14)
    np.testing.assert_allclose(sig(pts, window="linear"), sig(pts, window="power", window_exponent=1.0), rtol=1e-14)
    xi = 3.0 / (2 * np.pi)
    h = h_function(pts["g_N"], G_DAGGER)
    np.testing.assert_allclose(sig(pts, window="sqrt"), 80.0 * np.sqrt(1 + A0_DEFAULT * (1 - np.sqrt(xi / (xi + r))) * h))


def test_window_exponent_needs_the_power_window():
    with pytest.raises(KernelError, match="window_exponent applies only with window='power'"):
        get_kernel("sigma")(_points([1.0], [50.0]), window_exponent=0.5)
