"""Nuisance input scalings (hand-computed) and the Gaussian likelihood (hand-computed small cases)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sigcube.model.kernels.registry import get_kernel
from sigcube.stats.likelihood import GaussianLikelihood, LikelihoodError, chi2, log_likelihood
from sigcube.stats.nuisance import NuisanceError, NuisanceTransform, check_inputs
from sigcube.stats.synthetic import synthetic_sample

INPUTS = ("r", "v_gas", "v_disk", "v_bul", "v_bar", "g_N", "R_d_third", "Omega_d_third", "w_disk")


@pytest.fixture(scope="module")
def sample():
    return synthetic_sample(get_kernel("sigma"), {}, 3, seed=11, bulge_fraction=0.5)


@pytest.fixture(scope="module")
def transform(sample):
    return NuisanceTransform(sample.points, sample.catalogue, INPUTS)


def test_distance_and_mass_to_light_scalings(sample, transform):
    base = sample.points.inputs
    d0 = sample.catalogue.columns["distance"]
    ups = np.array([[0.25, 1.0, 2.0]])  # Υ_disk per galaxy; the packing's Υ0 is 0.5
    out = transform.kernel_inputs({"distance": 2.0 * d0[None, :], "upsilon_disk": ups})
    per_point = np.repeat(ups[0], transform.counts)
    np.testing.assert_allclose(out["r"][0], 2.0 * base["r"])                        # r ∝ D
    np.testing.assert_allclose(out["R_d_third"][0], 2.0 * base["R_d_third"])        # R_d ∝ D
    np.testing.assert_allclose(out["v_gas"][0], math.sqrt(2.0) * base["v_gas"])     # V_gas ∝ √D
    np.testing.assert_allclose(out["v_disk"][0], np.sqrt(2.0 * per_point / 0.5) * base["v_disk"])
    np.testing.assert_allclose(out["v_bul"][0], math.sqrt(2.0) * base["v_bul"])     # Υ_bul at its base
    v2 = np.sign(base["v_gas"]) * base["v_gas"] ** 2 + base["v_disk"] ** 2 * per_point / 0.5 + base["v_bul"] ** 2
    np.testing.assert_allclose(out["v_bar"][0], np.sqrt(2.0 * np.maximum(v2, 1e-6)))
    # g_N = V_bar²/r does not depend on D
    np.testing.assert_allclose(out["g_N"][0], transform.kernel_inputs({"upsilon_disk": ups})["g_N"][0])
    # Ω_d = V_bar(R_d)/R_d ∝ √D/D
    at_base = transform.kernel_inputs({"upsilon_disk": ups})["Omega_d_third"][0]
    np.testing.assert_allclose(out["Omega_d_third"][0], at_base / math.sqrt(2.0))


def test_inclination_scales_the_data(sample, transform):
    i0 = sample.catalogue.columns["inclination"]
    out = transform({"inclination": np.full((1, 3), 90.0)})
    q = np.repeat(np.sin(np.radians(i0)), transform.counts)  # sin i0/sin 90°
    np.testing.assert_allclose(out["v_obs"][0], q * sample.points.inputs["v_obs"])
    np.testing.assert_allclose(out["e_v_obs"][0], q * sample.points.inputs["e_v_obs"])
    np.testing.assert_allclose(transform.inclination_factor(30.0) * np.sin(np.radians(30.0)), np.sin(np.radians(i0)))


def test_unsupported_inputs_are_named():
    with pytest.raises(NuisanceError, match="g_obs"):
        check_inputs(("r", "g_obs"), kernel="k")


def test_wrong_galaxy_axis_is_an_error(transform):
    with pytest.raises(NuisanceError, match="last axis"):
        transform.kernel_inputs({"distance": np.ones((1, 5))})


def test_likelihood_hand_computed():
    v_obs, e_v, offsets = np.array([10.0, 20.0]), np.array([1.0, 2.0]), np.array([0, 2])
    pred = np.array([[11.0, 18.0]])
    # σ_int = 0: residuals −1, +1 → χ² = 2; ln L = −1 − ln(1·√2π) − ln(2·√2π)
    assert chi2(pred, v_obs, e_v, offsets)[0, 0] == pytest.approx(2.0)
    assert log_likelihood(pred, v_obs, e_v, offsets)[0, 0] == pytest.approx(-1.0 - math.log(2.0) - math.log(2 * math.pi))
    # σ_int = 1: s² = 2, 5 → χ² = 1/2 + 4/5
    expected = -0.5 * 1.3 - 0.5 * (math.log(2 * math.pi * 2) + math.log(2 * math.pi * 5))
    assert log_likelihood(pred, v_obs, e_v, offsets, sigma_int=1.0)[0, 0] == pytest.approx(expected)
    # inclination: 1/q = 2 projects the prediction to 22, 36 and σ_int to 2: s² = 1 + 4, 4 + 4
    qinv = np.array([[2.0]])
    expected = -0.5 * (144 / 5 + 256 / 8) - 0.5 * (math.log(2 * math.pi * 5) + math.log(2 * math.pi * 8))
    assert log_likelihood(pred, v_obs, e_v, offsets, sigma_int=1.0, qinv=qinv)[0, 0] == pytest.approx(expected)


def test_moments_give_the_likelihood_at_any_inclination():
    rng = np.random.default_rng(3)
    v_obs, e_v, offsets = rng.uniform(50, 150, 9), rng.uniform(2, 8, 9), np.array([0, 4, 9])
    pred = rng.uniform(50, 150, (2, 9))
    bound = GaussianLikelihood().bind(v_obs, e_v, offsets)
    qinv = rng.uniform(0.7, 1.4, (2, 2))
    np.testing.assert_allclose(bound.log_likelihood_from_moments(bound.moments(pred), qinv),
                               bound.log_likelihood(pred, qinv), rtol=1e-12)


def test_likelihood_errors():
    with pytest.raises(LikelihoodError, match="sigma_int"):
        GaussianLikelihood(-1.0)
    with pytest.raises(LikelihoodError, match="e_V must be > 0"):
        GaussianLikelihood().bind(np.ones(2), np.array([1.0, 0.0]), np.array([0, 2]))
