"""Formulas written for hoisting (parameter-only factors apart) equal their textbook forms."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sigcube.constants import G_KPC_KMS2_MSUN, paper_cosmology
from sigcube.model.kernels.cmsi import cmsi_enhancement
from sigcube.model.kernels.empirical import burr_xii_window
from sigcube.model.kernels.halo import nfw_mass_fraction, nfw_velocity_squared, r200_kpc
from sigcube.model.kernels.pairing import radial_envelope
from sigcube.model.kernels.resonance import spectrum
from sigcube.model.kernels.sigma import G_FLOOR
from sigcube.model.kernels.sigma_variants import g_dagger_at
from sigcube.model.kernels.survival import coherence_field, survival_probability

radii = st.lists(st.floats(0.01, 200.0), min_size=1, max_size=10).map(np.array)
scale = st.floats(0.01, 100.0)
power = st.floats(0.05, 5.0)


@settings(max_examples=60, deadline=None)
@given(radii, scale, power, power)
def test_windows_equal_their_textbook_forms(r, ell, p, n):
    np.testing.assert_allclose(burr_xii_window(r, ell, p, n), 1.0 - (1.0 + (r / ell) ** p) ** (-n), rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(radial_envelope(r, ell, p), 1.0 - np.exp(-((r / ell) ** p)), rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(coherence_field(r, ell, p), 1.0 - np.exp(-((r / ell) ** p)), rtol=1e-10, atol=1e-15)


@settings(max_examples=60, deadline=None)
@given(radii, st.floats(1e-13, 1e-8), scale, power, st.floats(0.0, 3.0), st.floats(1e-11, 1e-9))
def test_survival_probability_equals_its_textbook_form(r, g_n, r0, beta, alpha, g_dagger):
    want = np.exp(-((r0 / r) ** beta) * (np.maximum(g_n, G_FLOOR) / g_dagger) ** alpha)
    np.testing.assert_allclose(survival_probability(r, g_n, r0, beta, alpha, g_dagger), want, rtol=1e-10, atol=1e-300)


@settings(max_examples=60, deadline=None)
@given(radii, st.floats(8.0, 14.0), st.floats(1.0, 50.0))
def test_nfw_velocity_is_g_m_over_r(r, log10_m200, c):
    m200 = 10.0**log10_m200
    want = G_KPC_KMS2_MSUN * m200 * nfw_mass_fraction(r / r200_kpc(m200), c) / r
    np.testing.assert_allclose(nfw_velocity_squared(r, log10_m200, c), want, rtol=1e-11)


def test_cmsi_profile_and_redshift_scaling():
    r = np.geomspace(0.05, 100.0, 25)
    v = np.full_like(r, 150.0)
    kw = dict(chi0=800.0, gamma=1.5, alpha=0.55, ell0=2.2, Sigma_ref=50.0, epsilon=0.5, n=2.0)
    flat_profile = cmsi_enhancement(r, v, 50.0, v, **{**kw, "ell0": 1e300})  # (1 + 0)^(−1/n) = 1
    np.testing.assert_allclose(cmsi_enhancement(r, v, 50.0, v, **kw),
                               flat_profile * (1.0 + (r / 2.2) ** 2) ** -0.5, rtol=1e-12)
    z = np.array([0.0, 0.3, 1.0, 4.0, 12.0])
    np.testing.assert_allclose(g_dagger_at(1.2e-10, z), 1.2e-10 * paper_cosmology().efunc(z), rtol=1e-13)


def test_spectrum_equals_its_textbook_form():
    lam = np.geomspace(1e-3, 1e4, 40)
    for alpha in (-3.0, 0.0, 1.7):
        x = lam / 100.0
        np.testing.assert_allclose(spectrum(lam, alpha, 100.0), x ** (-alpha) * np.exp(-x), rtol=1e-12, atol=1e-300)
