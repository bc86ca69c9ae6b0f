"""The ΛCDM relations and the priors built on them: the inverse SHMR against a root finder, the relations at
hand-computed points, and draws from each prior reproducing the relation it cites (median and scatter)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize

from sigcube.model.kernels.halo_lcdm import lcdm_halo
from sigcube.model.lcdm import (
    DC14_CONCENTRATION_SHIFT, DUTTON_MACCIO_2014, LITTLE_H, MOSTER_2013, dc14_concentration_factor, dc14_shape,
)

DRAWS = 20_000


def _moster(log_m: float) -> float:
    """Moster et al. 2013 eq. 2 written out: log10 of 2N·M/[(M/M1)^−β + (M/M1)^γ]."""
    m, m1 = 10.0**log_m, 10.0**11.590
    return math.log10(2 * 0.0351 * m / ((m / m1) ** -1.376 + (m / m1) ** 0.608))


@settings(max_examples=50, deadline=None)
@given(log_mstar=st.floats(4.0, 12.0))
def test_the_inverse_shmr_is_the_root_of_the_relation(log_mstar):
    root = optimize.brentq(lambda x: _moster(x) - log_mstar, 4.0, 20.0, xtol=1e-14)
    assert MOSTER_2013.log10_m200(log_mstar) == pytest.approx(root, abs=1e-11)
    assert MOSTER_2013.log10_mstar(root) == pytest.approx(log_mstar, abs=1e-11)


def test_the_relations_at_hand_computed_points():
    # at M200 = M1 the SHMR gives M★/M200 = N; its slope there is 1 + (β − γ)/2
    assert MOSTER_2013.log10_mstar(11.59) == pytest.approx(11.59 + math.log10(0.0351), abs=1e-12)
    assert MOSTER_2013.slope(11.59) == pytest.approx(1 + (1.376 - 0.608) / 2, abs=1e-12)
    eps = 1e-6
    for x in (9.0, 11.0, 13.0):
        numeric = (MOSTER_2013.log10_mstar(x + eps) - MOSTER_2013.log10_mstar(x - eps)) / (2 * eps)
        assert MOSTER_2013.slope(x) == pytest.approx(numeric, rel=1e-7)
    # c200 = 10^0.905 at M200 = 10¹² h⁻¹ M☉, and 0.101 dex lower a decade up
    assert DUTTON_MACCIO_2014.log10_c(12.0 - math.log10(LITTLE_H)) == pytest.approx(0.905, abs=1e-12)
    assert DUTTON_MACCIO_2014.log10_c(13.0 - math.log10(LITTLE_H)) == pytest.approx(0.804, abs=1e-12)


def test_dc14_is_nfw_at_low_stellar_fractions_and_cored_in_between():
    """Di Cintio et al.: the profile tends to NFW's (α, β, γ) = (1, 3, 1) at the low end of their range and is most
    cored near X ≈ −2.7; X outside the range is held at its ends."""
    alpha, beta, gamma = dc14_shape(np.array([-4.1, -2.7, -1.3, -6.0, 0.0]))
    assert abs(alpha[0] - 1) < 0.05 and abs(beta[0] - 3) < 0.15 and abs(gamma[0] - 1) < 0.02
    assert gamma[1] < 0.3 and gamma[1] < gamma[0] and gamma[1] < gamma[2]
    assert (alpha[3], beta[3], gamma[3]) == (alpha[0], beta[0], gamma[0])
    assert (alpha[4], beta[4], gamma[4]) == (alpha[2], beta[2], gamma[2])
    for reading, k in DC14_CONCENTRATION_SHIFT.items():
        assert dc14_concentration_factor(-4.5, reading) == pytest.approx(1 + k * math.exp(3.4 * 0.4))  # held at −4.1


def _dutton_maccio(log_m200):
    """Dutton & Macciò 2014, 200c, z = 0 written out: 0.905 − 0.101·log10(M200/(10¹² h⁻¹ M☉)), h = 0.7."""
    return 0.905 - 0.101 * (log_m200 - 12.0 + math.log10(0.7))


def test_draws_from_the_lcdm_priors_reproduce_the_relations_they_cite():
    """The halo (log10 M200, log10 c) the ΛCDM kernels compute from M★ and standard normal deviates (z_M, z_c): at
    fixed M★, log10 M★ − f(log10 M200) has median 0 and scatter 0.15 dex
    (Moster et al.: the scatter of M★ at fixed halo mass), and log10 c − c–M(M200) median 0 and scatter 0.11 dex
    (Dutton & Macciò); with shmr_scatter = "halo_linear", log10 M200 − f⁻¹(log10 M★) has median 0 and scatter
    0.15 dex/f′. The relations are written out here from the papers' numbers."""
    rng = np.random.default_rng(20_200_131)
    z_m, z_c = rng.standard_normal((2, DRAWS))
    for log_mstar in (7.0, 9.0, 10.5, 11.3):
        log_m, c = lcdm_halo(log_mstar, z_m, z_c, "stellar")
        log_c = np.log10(c)
        shmr = log_mstar - np.array([_moster(x) for x in log_m])
        cm = log_c - _dutton_maccio(log_m)
        for residual, sigma in ((shmr, 0.15), (cm, 0.11)):
            assert abs(np.median(residual)) < 4 * sigma / math.sqrt(DRAWS)
            assert np.std(residual) == pytest.approx(sigma, rel=0.03)
        root = optimize.brentq(lambda x: _moster(x) - log_mstar, 4.0, 20.0, xtol=1e-14)
        slope = (_moster(root + 1e-5) - _moster(root - 1e-5)) / 2e-5
        linear = lcdm_halo(log_mstar, z_m, z_c, "halo_linear")[0] - root
        assert abs(np.median(linear)) < 4 * 0.15 / slope / math.sqrt(DRAWS)
        assert np.std(linear) == pytest.approx(0.15 / slope, rel=0.03)
