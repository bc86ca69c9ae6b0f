"""Graviton-pairing (superfluid condensate) kernel (note 001, model 2).

    g = g_N·(1 + K),   K = A_pair·G_σ(σ_v)·C_R(R),   V = V_bar·√(1 + K)
    G_σ = min(1, (σ_c/σ_v)^γ)          1 below the critical dispersion σ_c, ∝ (σ_c/σ_v)^γ above
    C_R = 1 − exp(−(R/ℓ_pair)^p)       radial envelope, ∝ R^p → 0 at small R

The note names the parameters (A_pair, σ_c, γ_σ, ℓ_pair) and the shape of G_σ but not the
envelope C_R nor any value: C_R and the defaults here are sigcube's starting values.
"""

from __future__ import annotations

import numpy as np

from sigcube.model.kernels.common import DISPERSION_INPUTS, DISPERSION_PARAMETERS, DISPERSION_READING, boost, sigma_eff
from sigcube.model.kernels.registry import Parameter, kernel


def condensate_gate(sigma_v, sigma_c, gamma):
    """G_σ = min(1, (σ_c/σ_v)^γ) [dimensionless]."""
    return np.minimum(1.0, (sigma_c / sigma_v) ** gamma)


def radial_envelope(r_kpc, ell, p):
    """C_R = 1 − exp(−(R/ℓ)^p) [dimensionless], 0 at R = 0, → 1 for R ≫ ℓ (−(R/ℓ)^p as R^p·(−ℓ^−p))."""
    return -np.expm1(r_kpc**p * -(ell**-p))


@kernel(
    summary="Graviton pairing: K = A_pair·G_σ(σ_v)·C_R(R), destroyed above a critical dispersion.",
    source="note 001 (model 2)",
    formula="V = V_bar·√(1 + K),  K = A_pair·min(1, (σ_c/σ_v)^γ)·[1 − exp(−(R/ℓ_pair)^p)]",
    inputs=("r", "v_bar", *DISPERSION_INPUTS),
    parameters=(
        Parameter("A_pair", 2.0, "", (0.0, 100.0), description="amplitude A_pair"),
        Parameter("sigma_c", 30.0, "km / s", (0.1, 1e3), description="critical dispersion σ_c"),
        Parameter("gamma_sigma", 2.0, "", (0.0, 10.0), description="fall-off exponent γ above σ_c"),
        Parameter("ell_pair", 3.0, "kpc", (1e-3, 1e3), description="envelope scale ℓ_pair"),
        Parameter("p", 2.0, "", (0.1, 10.0), description="envelope exponent p"),
        *DISPERSION_PARAMETERS,
    ),
    amplitude="A_pair",
    readings=("G_σ: exactly 1 below σ_c and (σ_c/σ_v)^γ above (the note's two regimes, joined continuously)",
              "C_R = 1 − exp(−(R/ℓ_pair)^p) (the note only says it vanishes at small R)",
              "defaults: starting values (the note gives none)", DISPERSION_READING),
)
def pairing(points, *, A_pair, sigma_c, gamma_sigma, ell_pair, p, sigma_gas, sigma_disk, sigma_bulge):
    gate = condensate_gate(sigma_eff(points, sigma_gas, sigma_disk, sigma_bulge), sigma_c, gamma_sigma)
    return boost(points["v_bar"], A_pair * (gate * radial_envelope(points["r"], ell_pair, p)))
