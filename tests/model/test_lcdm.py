"""The ΛCDM relations and the priors built on them: the inverse SHMRs against a root finder, the relations at
hand-computed points, the propagated scatter against finite differences of the relation written out, and draws from
each prior reproducing the relation it cites (median and scatter)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize

from sigcube.model.kernels.halo_lcdm import lcdm_alpha, lcdm_concentration, lcdm_mass
from sigcube.model.lcdm import (
    BEHROOZI_2013, DC14_CONCENTRATION_SHIFT, DUTTON_MACCIO_2014, HALF_MASS_RADIUS_PER_RD, LITTLE_H, MOSTER_2013,
    MOSTER_2013_PROPAGATED, SHMRS, corenfw_core, dc14_concentration_factor, dc14_shape, einasto_alpha, shmr_deviate,
)

DRAWS = 20_000
MOSTER = {"log_m1": 11.590, "n": 0.0351, "beta": 1.376, "gamma": 0.608}
MOSTER_ERRORS = {"log_m1": 0.236, "n": 0.0058, "beta": 0.153, "gamma": 0.059}


def _moster(log_m: float, log_m1: float = 11.590, n: float = 0.0351, beta: float = 1.376, gamma: float = 0.608) -> float:
    """Moster et al. 2013 eq. 2 written out: log10 of 2N·M/[(M/M1)^−β + (M/M1)^γ]."""
    m, m1 = 10.0**log_m, 10.0**log_m1
    return math.log10(2 * n * m / ((m / m1) ** -beta + (m / m1) ** gamma))


def _behroozi(log_m: float) -> float:
    """Behroozi et al. 2013's z = 0 relation written out: log10(ε·M1) + f(x) − f(0), x = log10(M/M1)."""
    def f(x):
        tail = 3.508 * math.log10(1 + math.exp(x)) ** 0.316 / (1 + math.exp(10**-x)) if x > -2.8 else 0.0
        return -math.log10(10 ** (-1.412 * x) + 1) + tail
    return -1.777 + 11.514 + f(log_m - 11.514) - f(0.0)


@settings(max_examples=50, deadline=None)
@given(log_mstar=st.floats(4.0, 12.0))
def test_the_inverse_shmr_is_the_root_of_the_relation(log_mstar):
    root = optimize.brentq(lambda x: _moster(x) - log_mstar, 4.0, 20.0, xtol=1e-14)
    assert MOSTER_2013.log10_m200(log_mstar) == pytest.approx(root, abs=1e-11)
    assert MOSTER_2013.log10_mstar(root) == pytest.approx(log_mstar, abs=1e-11)


@settings(max_examples=50, deadline=None)
@given(log_mstar=st.floats(5.0, 11.8))
def test_behroozis_inverse_is_the_root_of_the_relation(log_mstar):
    root = optimize.brentq(lambda x: _behroozi(x) - log_mstar, 4.0, 18.0, xtol=1e-14)
    assert BEHROOZI_2013.log10_m200(log_mstar) == pytest.approx(root, abs=1e-10)
    assert BEHROOZI_2013.log10_mstar(root) == pytest.approx(log_mstar, abs=1e-10)
    eps = 1e-6
    numeric = (_behroozi(root + eps) - _behroozi(root - eps)) / (2 * eps)
    assert BEHROOZI_2013.slope(root) == pytest.approx(numeric, rel=1e-6)


def test_the_relations_at_hand_computed_points():
    # at M200 = M1 the SHMR gives M★/M200 = N; its slope there is 1 + (β − γ)/2
    assert MOSTER_2013.log10_mstar(11.59) == pytest.approx(11.59 + math.log10(0.0351), abs=1e-12)
    assert MOSTER_2013.slope(11.59) == pytest.approx(1 + (1.376 - 0.608) / 2, abs=1e-12)
    eps = 1e-6
    for x in (9.0, 11.0, 13.0):
        numeric = (MOSTER_2013.log10_mstar(x + eps) - MOSTER_2013.log10_mstar(x - eps)) / (2 * eps)
        assert MOSTER_2013.slope(x) == pytest.approx(numeric, rel=1e-7)
    # Behroozi: at M = M1, log10 M★ = log10(ε·M1)
    assert BEHROOZI_2013.log10_mstar(11.514) == pytest.approx(11.514 - 1.777, abs=1e-12)
    # c200 = 10^0.905 at M200 = 10¹² h⁻¹ M☉, and 0.101 dex lower a decade up
    assert DUTTON_MACCIO_2014.log10_c(12.0 - math.log10(LITTLE_H)) == pytest.approx(0.905, abs=1e-12)
    assert DUTTON_MACCIO_2014.log10_c(13.0 - math.log10(LITTLE_H)) == pytest.approx(0.804, abs=1e-12)
    # Einasto: at M200 = 10¹² h⁻¹ M☉, ν = 10^−0.11 and α = 0.155 + 0.0095·ν²
    assert einasto_alpha(12.0 - math.log10(LITTLE_H)) == pytest.approx(0.155 + 0.0095 * 10 ** -0.22, abs=1e-12)
    # an exponential disc holds half its mass within 1.678 R_d: (1 + x)e^−x = ½
    assert (1 + HALF_MASS_RADIUS_PER_RD) * math.exp(-HALF_MASS_RADIUS_PER_RD) == pytest.approx(0.5, abs=1e-15)


@pytest.mark.parametrize("log_m", [9.5, 10.3, 11.0, 12.0, 13.0])
def test_the_propagated_scatter_is_the_parameters_errors_through_the_relation(log_m):
    """σ★² = Σ_p (∂log10 M★/∂p·σ_p)², the derivatives by central differences of Moster's eq. 2 written out."""
    var = 0.0
    for p, sigma in MOSTER_ERRORS.items():
        h = 1e-6
        up, down = dict(MOSTER), dict(MOSTER)
        up[p] += h
        down[p] -= h
        var += ((_moster(log_m, **up) - _moster(log_m, **down)) / (2 * h) * sigma) ** 2
    assert MOSTER_2013_PROPAGATED.scatter_dex(log_m) == pytest.approx(math.sqrt(var), rel=1e-6)


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


def test_corenfw_core_at_a_hand_computed_halo():
    """r_c = 1.75·1.6783·R_d; n = tanh(0.04·14 Gyr/t_dyn), t_dyn = 2π·√(r_s³/(G·M)) at r_s = 10 kpc, M = 10¹⁰ M☉
    (G = 4.30092e-6 kpc (km/s)²/M☉; 1 kpc/(km/s) = 3.0857e16 s, a Julian Gyr 3.15576e16 s)."""
    r_c, n = corenfw_core(100.0, 10.0, 1e10, 2.0)
    assert r_c == pytest.approx(1.75 * 1.6783469900166608 * 2.0, rel=1e-12)
    t_dyn = 2 * math.pi * math.sqrt(1e3 / (4.30091727e-6 * 1e10)) * 3.0856775814913673e16 / (365.25 * 86400 * 1e9)
    assert n == pytest.approx(math.tanh(0.04 * 14.0 / t_dyn), rel=1e-6)


def _dutton_maccio(log_m200):
    """Dutton & Macciò 2014, 200c, z = 0 written out: 0.905 − 0.101·log10(M200/(10¹² h⁻¹ M☉)), h = 0.7."""
    return 0.905 - 0.101 * (log_m200 - 12.0 + math.log10(0.7))


@pytest.mark.parametrize("shmr", list(SHMRS))
def test_draws_from_the_lcdm_priors_reproduce_the_relations_they_cite(shmr):
    """The halo (log10 M200, log10 c) the ΛCDM kernels compute from M★ and standard normal deviates (z_M, z_c): at
    fixed M★, log10 M★ − f(log10 M200) has median 0 and the relation's scatter σ★ (in M★ at fixed halo mass; the
    propagated one at the halo mass on the relation), and log10 c − c–M(M200) median 0 and scatter 0.11 dex
    (Dutton & Macciò); with shmr_scatter = "halo_linear", log10 M200 − f⁻¹(log10 M★) has median 0 and scatter σ★/f′.
    The relations are written out here from the papers' numbers."""
    relation = {"moster2013": _moster, "moster2013_propagated": _moster, "behroozi2013": _behroozi}[shmr]
    rng = np.random.default_rng(20_200_131)
    z_m, z_c = rng.standard_normal((2, DRAWS))
    for log_mstar in (7.0, 9.0, 10.5, 11.3):
        root = optimize.brentq(lambda x, y=log_mstar: relation(x) - y, 4.0, 18.0, xtol=1e-14)
        sigma = {"moster2013": 0.15, "behroozi2013": 0.218}.get(shmr) or MOSTER_2013_PROPAGATED.scatter_dex(root)
        log_m = lcdm_mass(log_mstar, z_m, shmr, "stellar")
        log_c = np.log10(lcdm_concentration(log_m, z_c))
        stellar = log_mstar - np.array([relation(x) for x in log_m])
        cm = log_c - _dutton_maccio(log_m)
        for residual, width in ((stellar, sigma), (cm, 0.11)):
            assert abs(np.median(residual)) < 4 * width / math.sqrt(DRAWS)
            assert np.std(residual) == pytest.approx(width, rel=0.03)
        slope = (relation(root + 1e-5) - relation(root - 1e-5)) / 2e-5
        linear = lcdm_mass(log_mstar, z_m, shmr, "halo_linear") - root
        assert abs(np.median(linear)) < 4 * sigma / slope / math.sqrt(DRAWS)
        assert np.std(linear) == pytest.approx(sigma / slope, rel=0.03)
        for scatter in ("stellar", "halo_linear"):  # the deviate back from the mass
            np.testing.assert_allclose(shmr_deviate(log_mstar, lcdm_mass(log_mstar, z_m[:50], shmr, scatter), scatter,
                                                    SHMRS[shmr]), z_m[:50], atol=1e-8)


def test_draws_of_einastos_alpha_reproduce_its_relation():
    """log10 α − log10(0.155 + 0.0095·ν²) has median 0 and scatter 0.16 dex at fixed M200."""
    rng = np.random.default_rng(5)
    z = rng.standard_normal(DRAWS)
    for log_m in (10.0, 11.5, 12.5):
        m = log_m - 12 + math.log10(0.7)
        nu = 10 ** (-0.11 + 0.146 * m + 0.0138 * m**2 + 0.00123 * m**3)
        residual = np.log10(lcdm_alpha(log_m, z)) - math.log10(0.155 + 0.0095 * nu**2)
        assert abs(np.median(residual)) < 4 * 0.16 / math.sqrt(DRAWS)
        assert np.std(residual) == pytest.approx(0.16, rel=0.03)
