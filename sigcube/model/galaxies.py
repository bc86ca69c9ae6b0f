"""Mass models of galaxy components: circular speeds and surface densities of an exponential disk and a Hernquist
sphere, for synthetic galaxies (``sigcube synth``'s survey cubes, the known-truth samples of
:mod:`sigcube.stats.synthetic`). Radii in kpc, masses in M☉, speeds in km/s."""

from __future__ import annotations

import numpy as np
from scipy.special import i0e, i1e, k0e, k1e

from sigcube.constants import G_KPC_KMS2_MSUN


def exponential_disk_v2(r: np.ndarray, mass: np.ndarray | float, scale: np.ndarray | float) -> np.ndarray:
    """V² [(km/s)²] in the plane of a razor-thin exponential disk of ``mass`` and scale length ``scale`` (Freeman
    1970, ApJ 160, 811): V² = 2GM/R_d·y²·[I0(y)K0(y) − I1(y)K1(y)], y = r/(2R_d) (scaled Bessel functions: the
    exponentials cancel)."""
    y = r / (2.0 * scale)
    return 2.0 * G_KPC_KMS2_MSUN * mass / scale * y**2 * (i0e(y) * k0e(y) - i1e(y) * k1e(y))


def hernquist_v2(r: np.ndarray, mass: np.ndarray | float, a: np.ndarray | float) -> np.ndarray:
    """V² [(km/s)²] of a Hernquist (1990, ApJ 356, 359) sphere of ``mass`` and scale ``a``: GM·r/(r + a)²."""
    return G_KPC_KMS2_MSUN * mass * r / (r + a) ** 2


def exponential_surface_density(r: np.ndarray, mass: np.ndarray | float, scale: np.ndarray | float) -> np.ndarray:
    """Surface density [M☉/kpc²] of an exponential disk: M/(2πR_d²)·e^(−r/R_d)."""
    return mass / (2.0 * np.pi * scale**2) * np.exp(-r / scale)


def hernquist_surface_density(r: np.ndarray, mass: np.ndarray | float, a: np.ndarray | float) -> np.ndarray:
    """Projected surface density [M☉/kpc²] of a Hernquist sphere at projected radius ``r`` (Hernquist 1990, eq. 32)."""
    s = np.clip(r / a, 1e-6, None)
    s = np.where(np.abs(s - 1.0) < 1e-6, 1.0 + 1e-6, s)
    with np.errstate(invalid="ignore"):
        x = np.where(s < 1, np.arccosh(1 / np.minimum(s, 1)) / np.sqrt(np.abs(1 - s**2)),
                     np.arccos(1 / np.maximum(s, 1)) / np.sqrt(np.abs(s**2 - 1)))
    return mass / (2 * np.pi * a**2 * (1 - s**2) ** 2) * ((2 + s**2) * x - 3)
