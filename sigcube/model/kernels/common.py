"""Pieces shared by several kernel families.

- :func:`boost`: the multiplicative law g = g_N·(1 + K) of notes 000–002, as a velocity.
- the point inputs each ``rd_source`` reads, as a kernel's ``switch_inputs`` (:data:`RD_SWITCH_INPUTS`,
  :data:`OMEGA_D_SWITCH_INPUTS`; the names themselves are :mod:`sigcube.model.inputs`').
- :func:`sigma_eff`: the per-galaxy velocity dispersion of SI §13.2, which every
  dispersion-dependent kernel uses for its σ_v. SPARC measures no dispersions, so the
  component values are assumptions (gas 10, disk 25, bulge 120 km/s in the SI) and are
  parameters of each kernel that uses them (:data:`DISPERSION_PARAMETERS`). Setting all
  three to the same s gives σ_eff = s for every galaxy (the weights sum to 1).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from sigcube.model.inputs import RD_SOURCES, omega_d_input, rd_input
from sigcube.model.kernels.registry import Parameter

RD_SWITCH_INPUTS = {"rd_source": {source: (rd_input(source),) for source in RD_SOURCES}}
"""The R_d input each ``rd_source`` reads (a kernel's ``switch_inputs``)."""
OMEGA_D_SWITCH_INPUTS = {"rd_source": {source: (omega_d_input(source),) for source in RD_SOURCES}}
"""The Ω_d input each ``rd_source`` reads (a kernel's ``switch_inputs``)."""
DISPERSION_INPUTS = ("w_gas", "w_disk", "w_bul")
"""Point inputs of σ_eff: each component's share of the squared peak |V| (Υ-scaled)."""

DISPERSION_PARAMETERS = (
    Parameter("sigma_gas", 10.0, "km / s", (0.1, 1e3), description="assumed gas dispersion in σ_eff (SI §13.2)"),
    Parameter("sigma_disk", 25.0, "km / s", (0.1, 1e3), description="assumed stellar-disk dispersion in σ_eff"),
    Parameter("sigma_bulge", 120.0, "km / s", (0.1, 1e3), description="assumed bulge dispersion in σ_eff"),
)

DISPERSION_READING = (
    "σ_v: SPARC has no dispersions; σ_v is the per-galaxy σ_eff = w_gas·σ_gas + w_disk·σ_disk + "
    "w_bul·σ_bulge of SI §13.2 (weights from the squared peak |V| of the Υ-scaled components); "
    "set the three σ's equal for one σ_v for all galaxies"
)


def sigma_eff(points: Mapping[str, np.ndarray], sigma_gas, sigma_disk, sigma_bulge):
    """Mass-weighted dispersion σ_eff = Σ_i w_i·σ_i [km/s] (SI §13.2, linear weighting as its code)."""
    return points["w_gas"] * sigma_gas + points["w_disk"] * sigma_disk + points["w_bul"] * sigma_bulge


def boost(v_bar, K):
    """V = V_bar·√(1 + K) [km/s]: the velocity of g = g_N·(1 + K)."""
    return v_bar * np.sqrt(1.0 + K)
