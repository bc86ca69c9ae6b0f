"""The derived inputs of kernels: their names and the formulas that compute them from a curve's components.

Point inputs a kernel may read (:class:`~sigcube.model.points.PointSet` documents each) are either tabulated
(r, V_obs, e_V and the baryonic components) or derived from them by the formulas here — V_bar, σ_eff's weights,
M_b, M★, the stellar and gas surface densities — and the names of the three R_d choices and of Ω_d = V_bar(R_d)/R_d.
Each formula is written once, with numpy operators on arrays or scalars: the packers of cubes, the nuisance
transform (at any Υ, D) and its compiled twin (:mod:`sigcube.compute.nuisance_codegen`, which compiles these same
functions) all call it.
"""

from __future__ import annotations

import numpy as np

from sigcube.constants import G_PC_KMS2_MSUN, HELIUM_FACTOR
from sigcube.conventions import MassToLight
from sigcube.model.segments import segment_sum

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


def baryonic_v2(gas2, disk2, bul2, upsilon_disk, upsilon_bul):
    """V_bar² [(km/s)²] = sign(V_gas)·V_gas² + Υ_disk·V_disk² + Υ_bul·V_bul² from the components' squares at Υ = 1
    (``gas2`` signed: gas whose pressure pushes outwards subtracts)."""
    return gas2 + upsilon_disk * disk2 + upsilon_bul * bul2


def baryonic_velocity(v_gas, v_disk, v_bul, ml: MassToLight):
    """V_bar = sign(V²)·√|V²| [km/s], V² = :func:`baryonic_v2` of the tabulated components (V_disk, V_bul at Υ = 1)."""
    v2 = baryonic_v2(np.sign(v_gas) * v_gas**2, v_disk**2, v_bul**2, ml.upsilon_disk, ml.upsilon_bul)
    return np.sign(v2) * np.sqrt(np.abs(v2))


def dispersion_weights(peak_gas, peak_disk, peak_bul):
    """(w_gas, w_disk, w_bul): each Υ-scaled component's share of the sum of the squared peak |V| of the three (SI
    §13.2: the weights of σ_eff = Σ w_i·σ_i); they sum to 1."""
    total = peak_gas + peak_disk + peak_bul
    return peak_gas / total, peak_disk / total, peak_bul / total


def baryonic_mass(upsilon_disk, L36, M_HI, distance_ratio=1.0):
    """M_b [M☉] = 10⁹·(Υ_disk·L[3.6] + 1.33·M_HI)·(D/D0)² (L[3.6] in 10⁹ L☉ and M_HI in 10⁹ M☉ as catalogued at D0,
    both ∝ D²; the whole 3.6 μm luminosity at Υ_disk)."""
    return 1e9 * (upsilon_disk * L36 + HELIUM_FACTOR * M_HI) * distance_ratio**2


def stellar_mass(upsilon_disk, upsilon_bul, L36, L_bul, distance_ratio=1.0):
    """M★ [M☉] = 10⁹·(Υ_disk·(L[3.6] − L_bul) + Υ_bul·L_bul)·(D/D0)² (L[3.6], the bulge's L_bul in 10⁹ L☉ as
    catalogued at D0, both ∝ D²)."""
    return 1e9 * (upsilon_disk * (L36 - L_bul) + upsilon_bul * L_bul) * distance_ratio**2


def stellar_surface_density(upsilon_disk, upsilon_bul, sb_disk, sb_bul):
    """Σ★ [M☉/pc²] = Υ_disk·Σ_disk + Υ_bul·Σ_bul of the 3.6 μm surface brightness [L☉/pc²] (distance-invariant)."""
    return upsilon_disk * sb_disk + upsilon_bul * sb_bul


def mestel_surface_density(v2_km2_s2, r_kpc):
    """Σ = V²/(2πG·r) [M☉/pc²]: the surface density of a Mestel disk with rotation speed V."""
    return v2_km2_s2 / (2.0 * np.pi * G_PC_KMS2_MSUN * r_kpc * 1e3)


def rd_third(r, offsets):
    """R_d as the SI's snippet takes it: R[N//3] of each object's curve of N points (R[N−1]/2 when N < 3) [kpc]."""
    n = np.diff(offsets)
    return np.where(n // 3 > 0, r[offsets[:-1] + n // 3], r[offsets[1:] - 1] / 2.0)


def bulge_fraction(v_gas, v_disk, v_bul, offsets):
    """Each object's bulge share ΣV_bul²/Σ(V_disk² + V_bul² + V_gas²) of the unscaled components (0 without any)."""
    total = segment_sum(v_disk**2 + v_bul**2 + v_gas**2, offsets)
    return segment_sum(v_bul**2, offsets) / np.maximum(total, 1e-10)
