"""The halo kernels against their density profiles: the enclosed mass by scipy's quadrature of ρ·4πr², the scale
radius found where the test's own density has logarithmic slope −2, and the ΛCDM kernels against the relations
written out here from the papers' numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, optimize

from sigcube.constants import G_KPC_KMS2_MSUN, rho_crit_msun_kpc3
from sigcube.model.kernels import get_kernel
from sigcube.model.kernels.halo import EINASTO_ALPHA
from sigcube.model.lcdm import dc14_shape
from sigcube.model.mass_tables import DC14_ACCURACY, EINASTO_ACCURACY


def _r200(log_m200: float) -> float:
    return (3 * 10**log_m200 / (4 * math.pi * 200 * rho_crit_msun_kpc3())) ** (1 / 3)


def _slope_radius(density, guess: float, width: float = 3.0) -> float:
    """The radius where d ln ρ/d ln r = −2, by a root finder on a central difference of the density, within ``width``
    of ``guess`` in ln r."""
    def slope(log_r):
        h = 1e-5
        return (math.log(density(math.exp(log_r + h))) - math.log(density(math.exp(log_r - h)))) / (2 * h) + 2
    return math.exp(optimize.brentq(slope, math.log(guess) - width, math.log(guess) + width,
                                    xtol=1e-13))


def _enclosed_fraction(density, r: float, r200: float) -> float:
    """M(<r)/M(<r200) = ∫₀ʳ ρ r² dr / ∫₀^r200 ρ r² dr by scipy's quad in ln r."""
    def mass(upper):
        return integrate.quad(lambda s: density(math.exp(s)) * math.exp(3 * s), math.log(upper) - 50, math.log(upper),
                              epsabs=0.0, epsrel=1e-12, limit=400)[0]
    return mass(r) / mass(r200)


def _profile(name: str, params: dict, r200: float, log_mstar: float):
    """The kernel's density profile written from its definition, with the scale radius the definition of c gives."""
    c = params["c"]
    if name == "nfw":
        rs = r200 / c
        return lambda r: 1 / ((r / rs) * (1 + r / rs) ** 2), rs
    if name == "einasto":
        rs, a = r200 / c, params["alpha"]
        return lambda r: math.exp(-(2 / a) * ((r / rs) ** a - 1)), rs
    if name == "burkert":
        def shape(r0):
            return lambda r: 1 / ((r + r0) * (r * r + r0 * r0))
        r0 = (r200 / c) / _slope_radius(shape(1.0), 1.0)  # r_−2 = r200/c in units of r0 found numerically
        return shape(r0), r200 / c
    if name == "piso":
        rc = r200 / c
        return lambda r: 1 / (1 + (r / rc) ** 2), rc
    alpha, beta, gamma = (float(v) for v in dc14_shape(log_mstar - params["log10_M200"]))

    def zhao(rs):
        return lambda r: (r / rs) ** -gamma * (1 + (r / rs) ** alpha) ** (-(beta - gamma) / alpha)
    rs = (r200 / c) / _slope_radius(zhao(1.0), 1.0)
    return zhao(rs), r200 / c


TABLED = {"einasto": EINASTO_ACCURACY, "dc14": DC14_ACCURACY}
"""The halos whose enclosed mass is read from a table, and the table's stated relative accuracy."""


@pytest.mark.parametrize("name", ["nfw", "einasto", "burkert", "piso", "dc14"])
@settings(max_examples=12, deadline=None)
@given(log_m200=st.floats(8.0, 13.0), c=st.floats(2.0, 40.0), x=st.floats(1e-3, 1.5), alpha=st.floats(*EINASTO_ALPHA.bounds),
       stellar_fraction=st.floats(-4.5, -1.0))
def test_the_halo_encloses_its_density(name, log_m200, c, x, alpha, stellar_fraction):
    """V_h² = G·M(<r)/r with M(<r) = M200 × the quadrature of the kernel's density; r_−2 = r200/c where defined. V² is
    M(<r)/M(<r200) from two reads of a tabled mass: within twice the table's stated accuracy, over Einasto's whole α range
    in the registry, plus the quadrature's 1e-8."""
    kernel = get_kernel(name)
    params = {"log10_M200": log_m200, "c": c, **({"alpha": alpha} if name == "einasto" else {})}
    r200 = _r200(log_m200)
    log_mstar = log_m200 + stellar_fraction
    density, scale = _profile(name, params, r200, log_mstar)
    r = x * r200
    points = {"r": np.array([r, r200]), "v_bar": np.zeros(2), "M_star": np.full(2, 10**log_mstar)}
    v2 = kernel(points, **params) ** 2
    want = G_KPC_KMS2_MSUN * 10**log_m200 * _enclosed_fraction(density, r, r200) / r
    assert v2[0] == pytest.approx(want, rel=1e-8 + 2 * TABLED.get(name, 0.0))
    assert v2[1] * r200 / G_KPC_KMS2_MSUN == pytest.approx(10**log_m200, rel=1e-12)  # M(<r200) = M200
    if name != "piso":
        assert _slope_radius(density, scale, width=1.0) == pytest.approx(scale, rel=1e-6)


def _moster(log_m: float) -> float:
    m, m1 = 10.0**log_m, 10.0**11.590
    return math.log10(2 * 0.0351 * m / ((m / m1) ** -1.376 + (m / m1) ** 0.608))


@pytest.mark.parametrize("name", ["nfw", "einasto", "dc14", "corenfw"])
@settings(max_examples=10, deadline=None)
@given(log_mstar=st.floats(6.5, 11.5), z_m=st.floats(-3.0, 3.0), z_c=st.floats(-3.0, 3.0), z_a=st.floats(-3.0, 3.0))
def test_a_lcdm_halo_is_the_flat_one_at_the_relations(name, log_mstar, z_m, z_c, z_a):
    """The ΛCDM kernel = the flat-prior kernel at log10 M200 = f⁻¹(log10 M★ + 0.15·z_M) (Moster et al. 2013 by a root
    finder) and log10 c = a + b·log10(M200/(10¹² h⁻¹ M☉)) + 0.11·z_c (Dutton & Macciò 2014: NFW a = 0.905, b = −0.101;
    Einasto a = 0.977, b = −0.130); DC14's c raised by (1 + 3·10⁻⁵·exp(3.4(X + 4.5))); Einasto's α =
    (0.155 + 0.0095·ν²)·10^(0.16·z_α), log10 ν = −0.11 + 0.146m + 0.0138m² + 0.00123m³."""
    log_m = optimize.brentq(lambda x: _moster(x) - (log_mstar + 0.15 * z_m), 4.0, 20.0, xtol=1e-14)
    m = log_m - 12 + math.log10(0.7)
    a, b = (0.977, -0.130) if name == "einasto" else (0.905, -0.101)
    c = 10 ** (a + b * m + 0.11 * z_c)
    if name == "dc14":
        c *= 1 + 3e-5 * math.exp(3.4 * (min(max(log_mstar - log_m, -4.1), -1.3) + 4.5))
    nu = 10 ** (-0.11 + 0.146 * m + 0.0138 * m**2 + 0.00123 * m**3)
    alpha = (0.155 + 0.0095 * nu**2) * 10 ** (0.16 * z_a)
    points = {"r": np.geomspace(0.1, 60.0, 7), "v_bar": np.linspace(10.0, 80.0, 7), "M_star": np.full(7, 10**log_mstar),
              "R_d_table": np.full(7, 1.7)}
    flat = {"log10_M200": log_m, "c": c, **({"alpha": alpha} if name == "einasto" else {})}
    lcdm = {"z_M200": z_m, "z_c": z_c, **({"z_alpha": z_a} if name == "einasto" else {})}
    want = get_kernel(name).func(points, **get_kernel(name).resolve({}) | flat)
    np.testing.assert_allclose(get_kernel(f"{name}_lcdm")(points, **lcdm), want, rtol=1e-9)


def test_only_the_lcdm_motivated_haloes_have_lcdm_priors():
    """Burkert and the pseudo-isothermal sphere are empirical cores: no ΛCDM-prior kernel (Li et al. 2020's catalogue
    fits them with flat priors only)."""
    from sigcube.model.kernels import kernel_names

    names = set(kernel_names())
    assert {"nfw_lcdm", "einasto_lcdm", "dc14_lcdm", "corenfw_lcdm"} <= names
    assert not {"burkert_lcdm", "piso_lcdm"} & names


@settings(max_examples=25, deadline=None)
@given(log_m200=st.floats(9.0, 12.5), c=st.floats(3.0, 30.0), x=st.floats(1e-3, 1.0), r_d=st.floats(0.3, 6.0))
def test_corenfw_encloses_its_density(log_m200, c, x, r_d):
    """Read, Agertz & Collins 2016: M(<r) = M_NFW(<r)·fⁿ, f = tanh(r/r_c), whose density is
    ρ = fⁿ·ρ_NFW + n·fⁿ⁻¹·(1 − f²)·M_NFW(<r)/(4π·r²·r_c); the kernel's V² against scipy's quadrature of that density,
    with r_c = 1.75·1.678·R_d and n = tanh(0.04·14 Gyr/t_dyn), t_dyn = 2π·√(r_s³/(G·M_NFW(<r_s))) written out here."""
    r200 = _r200(log_m200)
    rs = r200 / c
    m200 = 10**log_m200

    def m_nfw(r):
        return m200 * (math.log1p(r / rs) - r / (r + rs)) / (math.log1p(c) - c / (1 + c))

    def rho_nfw(r):
        return m200 / (4 * math.pi * rs**3 * (math.log1p(c) - c / (1 + c))) / ((r / rs) * (1 + r / rs) ** 2)

    kms_per_kpc_in_per_gyr = 365.25 * 86400 * 1e9 / 3.0856775814913673e16  # (km/s)/kpc in 1/Gyr (Julian year)
    t_dyn = 2 * math.pi * math.sqrt(rs**3 / (G_KPC_KMS2_MSUN * m_nfw(rs))) / kms_per_kpc_in_per_gyr
    n = math.tanh(0.04 * 14.0 / t_dyn)
    rc = 1.75 * 1.678347 * r_d

    def density(r):
        f = math.tanh(r / rc)
        return f**n * rho_nfw(r) + n * f ** (n - 1) * (1 - f * f) * m_nfw(r) / (4 * math.pi * r * r * rc)

    r = x * r200
    mass, _ = integrate.quad(lambda s: 4 * math.pi * density(math.exp(s)) * math.exp(3 * s), math.log(r) - 40,
                             math.log(r), epsabs=0.0, epsrel=1e-11, limit=400)
    points = {"r": np.array([r]), "v_bar": np.zeros(1), "R_d_table": np.array([r_d])}
    v2 = get_kernel("corenfw")(points, log10_M200=log_m200, c=c) ** 2
    assert v2[0] == pytest.approx(G_KPC_KMS2_MSUN * mass / r, rel=1e-6)
