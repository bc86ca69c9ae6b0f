"""The derived inputs of kernels: their names and the formulas that compute them from a curve's components.

Point inputs a kernel may read (:class:`~sigcube.model.points.PointSet` documents each) are either tabulated
(r, V_obs, e_V and the baryonic components) or derived from them here: V_bar, the Mestel gas surface density,
and the names of the three R_d choices and of Ω_d = V_bar(R_d)/R_d.
"""

from __future__ import annotations

import numpy as np

from sigcube.constants import G_PC_KMS2_MSUN
from sigcube.conventions import MassToLight

RD_SOURCES = ("third", "table", "vdisk_peak")
"""Where R_d comes from: ``third`` = R[N//3] of the filtered curve (the SI's snippet),
``table`` = SPARC Table 1 ``Rdisk``, ``vdisk_peak`` = radius of the |V_disk| maximum."""


def rd_input(source: str) -> str:
    """The point input holding the R_d of ``source`` [kpc], e.g. ``R_d_third``."""
    return f"R_d_{source}"


def omega_d_input(source: str) -> str:
    """The point input holding Ω_d = V_bar(R_d)/R_d for the R_d of ``source`` [km/s/kpc]."""
    return f"Omega_d_{source}"


RD_INPUTS = tuple(rd_input(source) for source in RD_SOURCES)
"""Point inputs of the three R_d choices [kpc]."""


def baryonic_velocity(v_gas, v_disk, v_bul, ml: MassToLight):
    """V_bar = sign(V²)·√|V²|, V² = sign(V_gas)V_gas² + Υ_d V_disk² + Υ_b V_bul² [km/s]."""
    v2 = np.sign(v_gas) * v_gas**2 + ml.upsilon_disk * v_disk**2 + ml.upsilon_bul * v_bul**2
    return np.sign(v2) * np.sqrt(np.abs(v2))


def mestel_surface_density(v2_km2_s2, r_kpc):
    """Σ = V²/(2πG·r) [M☉/pc²]: the surface density of a Mestel disk with rotation speed V."""
    return v2_km2_s2 / (2.0 * np.pi * G_PC_KMS2_MSUN * r_kpc * 1e3)
