"""Metrics on packed points, checked against per-galaxy loops."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sigcube import metrics


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(1, 12), min_size=1, max_size=10), st.integers(0, 2**31 - 1))
def test_per_galaxy_metrics_equal_a_loop(sizes, seed):
    rng = np.random.default_rng(seed)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    n = offsets[-1]
    obs, pred, err = rng.uniform(10, 200, n), rng.uniform(10, 200, (3, n)), rng.uniform(1, 10, n)
    rms = metrics.rms_per_galaxy(pred, obs, offsets)
    chi2 = metrics.chi2_per_galaxy(pred, obs, err, offsets)
    assert rms.shape == chi2.shape == (3, len(sizes))
    for g, (a, b) in enumerate(zip(offsets[:-1], offsets[1:])):
        np.testing.assert_allclose(rms[:, g], np.sqrt(np.mean((pred[:, a:b] - obs[a:b]) ** 2, axis=-1)))
        np.testing.assert_allclose(chi2[:, g], np.sum(((pred[:, a:b] - obs[a:b]) / err[a:b]) ** 2, axis=-1))


def test_win_rate_is_strict():
    assert metrics.win_rate(np.array([1.0, 2.0, 3.0, 4.0]), np.array([2.0, 2.0, 2.0, 5.0])) == 0.5


def test_acceleration_scatter_is_twice_velocity_scatter():
    rng = np.random.default_rng(0)
    v_obs, v_pred, r = rng.uniform(20, 300, 500), rng.uniform(20, 300, 500), rng.uniform(0.5, 30, 500)
    s_v = metrics.rar_scatter_velocity(v_obs, v_pred)
    s_g = metrics.rar_scatter_accel(v_obs**2 / r, v_pred**2 / r)
    assert s_g == np.float64(s_g) and abs(s_g - 2 * s_v) < 1e-12


def test_reduced_chi2_divides_by_degrees_of_freedom():
    offsets = np.array([0, 4, 10])
    np.testing.assert_allclose(metrics.chi2_reduced(np.array([8.0, 12.0]), offsets, n_params=2), [4.0, 3.0])


def test_rar_scatter_definitions_by_hand():
    """x = log10(V_obs/V_pred) = 0.1, −0.1, 0.3 at r = 1, 2, 4 kpc, by hand."""
    from sigcube.constants import accel_from_velocity

    v_pred = np.array([100.0, 150.0, 80.0])
    v_obs = v_pred * 10 ** np.array([0.1, -0.1, 0.3])
    r = np.array([1.0, 2.0, 4.0])
    g_obs, g_pred = accel_from_velocity(v_obs, r), accel_from_velocity(v_pred, r)
    assert metrics.rar_scatter_velocity(v_obs, v_pred) == pytest.approx(np.sqrt(0.08 / 3))  # about the mean 0.1
    assert metrics.rar_scatter_accel(g_obs, g_pred) == pytest.approx(2 * np.sqrt(0.08 / 3))
    assert metrics.rar_rms_accel(g_obs, g_pred) == pytest.approx(2 * np.sqrt(0.11 / 3))  # about zero
    moments = metrics.rar_scatters_from_moments(np.float64(0.3), np.float64(0.11), 3)
    assert moments["rar_rms_accel"] == pytest.approx(2 * np.sqrt(0.11 / 3))
    assert moments["rar_scatter_velocity"] == pytest.approx(np.sqrt(0.08 / 3))
