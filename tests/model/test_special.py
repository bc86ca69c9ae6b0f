"""The compiled special functions of halo profiles against independent computations: scipy's incomplete gamma
function and scipy's adaptive quadrature of each density profile."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, special

from sigcube.model.special import (
    burkert_mass, core_mass, cusp_mass, dc14_mass, einasto_mass, gammainc_lower, zhao_mass,
)
from sigcube.model.lcdm import DC14_RANGE, dc14_shape
from sigcube.model.mass_tables import DC14_ACCURACY, EINASTO_ACCURACY


def _quad(density_times_u2, y: float) -> float:
    """∫₀ʸ f(u) du by scipy's quad in ln u (the integrands here vanish like a power of u at 0)."""
    value, _ = integrate.quad(lambda s: density_times_u2(math.exp(s)) * math.exp(s), math.log(y) - 60.0, math.log(y),
                              epsabs=0.0, epsrel=1e-13, limit=400)
    return value


@settings(max_examples=60, deadline=None)
@given(a=st.floats(0.5, 60.0), x=st.floats(1e-6, 200.0))
def test_incomplete_gamma_is_scipys(a, x):
    assert gammainc_lower(a, x) == pytest.approx(special.gammainc(a, x), rel=1e-12, abs=1e-300)


def test_incomplete_gamma_edges():
    assert gammainc_lower(2.0, 0.0) == 0.0
    with np.errstate(invalid="ignore"):
        assert np.isnan(gammainc_lower(0.0, 1.0)) and np.isnan(gammainc_lower(1.0, -1.0))


@settings(max_examples=60, deadline=None)
@given(y=st.floats(1e-4, 100.0), alpha=st.floats(0.3, 3.0), beta=st.floats(2.0, 5.0), gamma=st.floats(0.0, 1.5))
def test_zhao_mass_is_the_integral_of_its_density(y, alpha, beta, gamma):
    """Every β, above and below 3 (where the incomplete beta function's b = (β − 3)/α changes sign) and at 3."""
    want = _quad(lambda u: u ** (2.0 - gamma) * (1.0 + u**alpha) ** (-(beta - gamma) / alpha), y)
    assert zhao_mass(y, alpha, beta, gamma) == pytest.approx(want, rel=1e-9)


@settings(max_examples=200, deadline=None)
@given(log10_y=st.floats(-6.0, 6.0), x=st.floats(-5.0, -0.5))
def test_dc14_mass_is_the_series_at_its_shape(log10_y, x):
    """The table (y in 1e-4..1e4, X in DC14's range) and the series beyond it, X held at the range's ends."""
    y = 10.0**log10_y
    assert dc14_mass(y, x) == pytest.approx(zhao_mass(y, *dc14_shape(x)), rel=DC14_ACCURACY)


def test_dc14_mass_between_every_node_of_its_table():
    """At 200 000 random points over the table — every cell of it hit about once — within 5e-9 of the series (whose
    own error the quadrature above bounds); and its edges: μ(0) = 0, NaN for y < 0 or a NaN X."""
    rng = np.random.default_rng(7)
    y = np.exp(rng.uniform(math.log(1e-4), math.log(1e4), 200_000))
    x = rng.uniform(*DC14_RANGE, 200_000)
    np.testing.assert_allclose(dc14_mass(y, x), zhao_mass(y, *dc14_shape(x)), rtol=DC14_ACCURACY)
    assert dc14_mass(0.0, -2.0) == 0.0
    with np.errstate(invalid="ignore"):
        assert np.isnan(dc14_mass(-1.0, -2.0)) and np.isnan(dc14_mass(1.0, math.nan))


def _einasto_series(y, alpha):
    return gammainc_lower(3.0 / alpha, (2.0 / alpha) * y**alpha)


@settings(max_examples=200, deadline=None)
@given(log10_y=st.floats(-6.0, 6.0), log10_alpha=st.floats(-2.5, 0.8))
def test_einasto_mass_is_the_incomplete_gamma_function(log10_y, log10_alpha):
    """The table (y in 1e-4..1e4, α in 0.02..3) and the series beyond it; P itself is checked against scipy above."""
    y, alpha = 10.0**log10_y, 10.0**log10_alpha
    assert einasto_mass(y, alpha) == pytest.approx(_einasto_series(y, alpha), rel=EINASTO_ACCURACY, abs=1e-300)


def test_einasto_mass_between_every_node_of_its_table():
    rng = np.random.default_rng(8)
    y = np.exp(rng.uniform(math.log(1e-4), math.log(1e4), 200_000))
    alpha = np.exp(rng.uniform(math.log(0.02), math.log(3.0), 200_000))
    np.testing.assert_allclose(einasto_mass(y, alpha), _einasto_series(y, alpha), rtol=EINASTO_ACCURACY)
    assert einasto_mass(0.0, 0.2) == 0.0
    with np.errstate(invalid="ignore"):
        assert np.isnan(einasto_mass(-1.0, 0.2)) and np.isnan(einasto_mass(1.0, 0.0))


def test_zhao_mass_of_nfw_and_of_a_core():
    y = np.array([1e-3, 0.3, 1.0, 7.0, 50.0])
    np.testing.assert_allclose(zhao_mass(y, 1.0, 3.0, 1.0), np.log1p(y) - y / (1 + y), rtol=1e-12)  # (1, 3, 1): NFW
    np.testing.assert_allclose(zhao_mass(y[1:], 2.0, 2.0, 0.0), y[1:] - np.arctan(y[1:]), rtol=1e-12)  # a core


@settings(max_examples=60, deadline=None)
@given(y=st.floats(1e-7, 1e3))
def test_cored_and_cusped_masses_are_the_integrals_of_their_densities(y):
    assert cusp_mass(y) == pytest.approx(_quad(lambda u: u / (1 + u) ** 2, y), rel=3e-13)
    assert burkert_mass(y) == pytest.approx(4.0 * _quad(lambda u: u * u / ((1 + u) * (1 + u * u)), y), rel=3e-13)
    assert core_mass(y) == pytest.approx(_quad(lambda u: u * u / (1 + u * u), y), rel=3e-13)
