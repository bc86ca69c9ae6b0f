"""The c_local window's closed form (and the counter-rotation σ_eff) against the fixed-point iteration it replaces."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sigcube.model.kernels import get_kernel
from sigcube.model.kernels.sigma import c_local_velocity, h_function
from sigcube.model.points import velocity_points


def iterated_sigma(v_bar, h, A, sigma_c, f=0.0, sigma_2=0.0, rtol=1e-14, max_iter=100_000):
    """Σ by the published scripts' iteration V ← V_bar·√(1 + A·C(V)·h), C = V²/(V² + σ_eff²), from V = V_bar.

    σ_eff² = (1−f)·σ_c² + f·σ_2² + f(1−f)·(2V)² (two populations at ±V). This is sigcube's former
    implementation (which stopped at steps below 1e-6 km/s), run here until every step is below ``rtol``·V.
    """
    v_bar, h, A, sigma_c, f, sigma_2 = np.broadcast_arrays(*(np.asarray(x, dtype=float)
                                                              for x in (v_bar, h, A, sigma_c, f, sigma_2)))
    s2 = (1.0 - f) * np.maximum(sigma_c, 1e-6) ** 2 + f * sigma_2**2
    v = v_bar.copy()
    sigma = np.ones_like(v)
    for _ in range(max_iter):
        v2 = v**2
        sigma = 1.0 + A * v2 / (v2 + s2 + f * (1.0 - f) * 4.0 * v2) * h
        v_new = v_bar * np.sqrt(sigma)
        if np.all(np.abs(v_new - v) <= rtol * v):
            return sigma
        v = v_new
    raise AssertionError("the reference iteration did not converge")


positive = st.floats(1.0, 400.0)
cases = st.tuples(
    st.lists(st.tuples(positive, st.floats(1e-3, 50.0)), min_size=1, max_size=20),  # (V_bar [km/s], h)
    st.floats(0.0, 50.0),  # A
    st.floats(1e-3, 1e3),  # σ_c [km/s]
    st.floats(0.0, 1.0),  # f
    st.floats(0.0, 1e3),  # σ_2 [km/s]
)


@settings(max_examples=200, deadline=None)
@given(cases)
def test_closed_form_is_the_fixed_point_of_the_iteration(case):
    pairs, A, sigma_c, f, sigma_2 = case
    v_bar, h = np.array(pairs).T
    closed = c_local_velocity(v_bar, h, A, sigma_c, f, sigma_2)
    np.testing.assert_allclose(closed, v_bar * np.sqrt(iterated_sigma(v_bar, h, A, sigma_c, f, sigma_2)), rtol=1e-7)
    # and it is a fixed point: V² = V_bar²·(1 + A·C·h) with C of V itself
    v2 = closed**2
    c = v2 / (v2 + (1 - f) * sigma_c**2 + f * sigma_2**2 + 4 * f * (1 - f) * v2)
    np.testing.assert_allclose(v2, v_bar**2 * (1.0 + A * c * h), rtol=1e-12)


def sigma_of(v_bar, *args):
    return (c_local_velocity(v_bar, *args) / v_bar) ** 2


def test_closed_form_limits_by_hand():
    # σ → 0: C = 1, Σ = 1 + A·h; σ ≫ v: C ≈ V_bar²/σ², Σ ≈ 1 + A·h·1e-6; V_bar = 0: V = 0
    assert sigma_of(100.0, 0.5, 2.0, 1e-3) == pytest.approx(2.0, rel=1e-9)
    assert sigma_of(1.0, 0.5, 2.0, 1e3) == pytest.approx(1.0 + 1e-6, rel=1e-11)
    assert c_local_velocity(0.0, 0.5, 2.0, 20.0) == pytest.approx(0.0, abs=1e-40)
    assert c_local_velocity(0.0, 0.5, 2.0, 20.0, 1.0, 0.0) == pytest.approx(0.0, abs=1e-40)
    # f = 1, σ_2 = 0: every star counter-rotates coherently, σ_eff = 0 and C = 1
    assert sigma_of(50.0, 0.5, 2.0, 20.0, 1.0, 0.0) == pytest.approx(2.0, rel=1e-12)
    # by hand: V_bar = σ = 20, A·h = 1: Σ² − Σ − 1 = 0 (u = 1 + 1 − 1), Σ = golden ratio
    assert sigma_of(20.0, 1.0, 1.0, 20.0) == pytest.approx((1 + 5**0.5) / 2, rel=1e-14)
    # f = ½: c = 1, σ_eff² = ½σ_c² + ½σ_2² + v²; V_bar² = 400 = σ_eff² at v² → Σ² − (1 + ½ − ½)Σ − ½ = 0
    assert sigma_of(20.0, 1.0, 1.0, 20.0, 0.5, 20.0) == pytest.approx((1 + 3**0.5) / 2, rel=1e-14)


def test_kernels_on_the_closed_form_match_the_iteration():
    rng = np.random.default_rng(12)
    counts = [5, 9, 3]
    n = sum(counts)
    r = np.concatenate([np.sort(rng.uniform(0.5, 20.0, c)) for c in counts])
    v_bar = rng.uniform(20.0, 250.0, n)
    pts = velocity_points("galaxy", ["a", "b", "c"], counts, r, v_bar * 1.2, np.full(n, 5.0), v_bar).inputs
    sigma, counter = get_kernel("sigma"), get_kernel("sigma_counter_rotation")
    h = h_function(pts["g_N"], 1.2e-10)
    want = v_bar * np.sqrt(iterated_sigma(v_bar, h, 1.3, 25.0))
    np.testing.assert_allclose(sigma(pts, window="c_local", sigma_c=25.0, A0=1.3, g_dagger=1.2e-10), want, rtol=1e-9)
    np.testing.assert_allclose(counter(pts, A0=1.3, g_dagger=1.2e-10, sigma_1=25.0, f_counter=0.0), want, rtol=1e-9)
    want = v_bar * np.sqrt(iterated_sigma(v_bar, h, 1.3, 25.0, 0.3, 60.0))
    got = counter(pts, A0=1.3, g_dagger=1.2e-10, sigma_1=25.0, sigma_2=60.0, f_counter=0.3)
    np.testing.assert_allclose(got, want, rtol=1e-9)
