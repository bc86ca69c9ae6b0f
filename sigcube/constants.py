"""Physical constants and unit conversions, taken from astropy once.

All values are plain floats in SI units unless the name says otherwise, so kernels can
use them in vectorised numpy code without Quantity overhead.
"""

from __future__ import annotations

import math

import functools
from typing import Any

import astropy.constants as const
import astropy.units as u

C_M_S: float = const.c.to_value(u.m / u.s)
"""Speed of light [m/s]."""

G_SI: float = const.G.to_value(u.m**3 / (u.kg * u.s**2))
"""Newton's constant [m³ kg⁻¹ s⁻²]."""

M_SUN_KG: float = const.M_sun.to_value(u.kg)
"""Solar mass [kg]."""

KPC_M: float = u.kpc.to(u.m)
"""One kiloparsec [m]."""

KM_S: float = (u.km / u.s).to(u.m / u.s)
"""One km/s [m/s]."""

ACCEL_KM2_S2_PER_KPC: float = KM_S**2 / KPC_M
"""(km/s)²/kpc in m/s²: V²/r of a velocity [km/s] at a radius [kpc] as an acceleration."""

AU_M: float = u.AU.to(u.m)
"""One astronomical unit [m]."""

AU_KPC: float = u.AU.to(u.kpc)
"""One astronomical unit [kpc]."""

GM_SUN: float = G_SI * M_SUN_KG
"""G·M☉ [m³/s²]."""

C_KM_S: float = C_M_S / KM_S
"""Speed of light [km/s]."""

GRAVITATIONAL_RADIUS_KPC: float = G_SI * M_SUN_KG / C_M_S**2 / KPC_M
"""G·M☉/c² [kpc]."""

G_KPC_KMS2_MSUN: float = const.G.to_value(u.kpc * u.km**2 / (u.s**2 * u.M_sun))
"""Newton's constant [kpc (km/s)² / M☉]."""

H0_DEFAULT_KM_S_MPC: float = 70.0
"""Hubble constant of the Σ-Gravity paper [km/s/Mpc]."""

A0_MOND: float = 1.2e-10
"""MOND acceleration scale a0 [m/s²] (MODEL.md §3)."""

G_PC_KMS2_MSUN: float = const.G.to_value(u.pc * u.km**2 / (u.s**2 * u.M_sun))
"""Newton's constant in pc (km/s)² / M☉, for surface densities from velocities."""

M_V_SUN: float = 4.83
"""Absolute V magnitude of the Sun (Binney & Merrifield 1998), for L_V from M_V."""

HELIUM_FACTOR: float = 1.33
"""Total gas mass per HI mass (helium and metals), as in SPARC's V_gas and note 000's M_b."""


def hubble_rate_si(h0_km_s_mpc: float) -> float:
    """H0 in km/s/Mpc → s⁻¹."""
    return (h0_km_s_mpc * u.km / u.s / u.Mpc).to_value(1 / u.s)


def g_dagger(h0_km_s_mpc: float = H0_DEFAULT_KM_S_MPC) -> float:
    """Critical acceleration g† = c·H0/(4√π) [m/s²] (MODEL.md §2)."""
    return C_M_S * hubble_rate_si(h0_km_s_mpc) / (4.0 * math.sqrt(math.pi))


G_DAGGER: float = g_dagger()
"""g† for H0 = 70 km/s/Mpc with astropy's c: 9.5925e-11 m/s²."""

# The authors' regression scripts type their constants by hand (c = 2.998e8 m/s,
# H0 = 2.27e-18 s⁻¹), which moves g† by +0.07 %. Three of the four published SPARC
# figures need that value to reproduce to the printed digits, so it is kept here, once,
# as a named convention ("script") rather than re-typed anywhere else.
_SCRIPT_C_M_S = 2.998e8
_SCRIPT_H0_PER_S = 2.27e-18
G_DAGGER_SCRIPT: float = _SCRIPT_C_M_S * _SCRIPT_H0_PER_S / (4.0 * math.sqrt(math.pi))
"""g† as the published scripts compute it: 9.5989e-11 m/s²."""

G_DAGGER_CONVENTIONS: dict[str, float] = {"astropy": G_DAGGER, "script": G_DAGGER_SCRIPT}
"""Named choices of g† [m/s²]: ``astropy`` (c·H0/(4√π), H0 = 70) or ``script``."""


def accel_from_velocity(v_km_s, r_kpc):
    """Centripetal acceleration V²/r [m/s²] from V [km/s] and r [kpc] (array-friendly)."""
    return (v_km_s * KM_S) ** 2 / (r_kpc * KPC_M)


PAPER_OMEGA_M: float = 0.3
"""Matter density Ωm of the flat ΛCDM of the paper (H0 = 70): g†(z) ∝ H(z) = H0·√(Ωm(1+z)³ + 1 − Ωm) (MODEL.md §2)."""


@functools.cache
def paper_cosmology() -> Any:
    """astropy's flat ΛCDM with H0 = 70 km/s/Mpc and Ωm = :data:`PAPER_OMEGA_M` (built on first use: importing
    ``astropy.cosmology`` takes seconds)."""
    from astropy.cosmology import FlatLambdaCDM

    return FlatLambdaCDM(H0=H0_DEFAULT_KM_S_MPC, Om0=PAPER_OMEGA_M)


@functools.cache
def rho_crit_msun_kpc3(z: float = 0.0) -> float:
    """Critical density of :func:`paper_cosmology` at redshift ``z`` (today by default) [M☉/kpc³]."""
    return float(paper_cosmology().critical_density(z).to_value(u.M_sun / u.kpc**3))
