"""Per-galaxy coherence kernels of the time-coherence notes (000, 001): g = g_N·(1 + K).

K is one number per galaxy (it multiplies the whole curve):

- ``roughness``          K = K0·Ξ^γ, Ξ = τ_coh/T_orb (the exposure factor)
- ``mass_coherence``     K = K_max·[1 − exp(−(Ψ/Ψ0)^γ)], Ψ = (G·M_b/c²)·ℓ0²/R_eff³
- ``velocity_coherence`` K = F_max·[1 − exp(−Ψ/Ψ0)], Ψ = (v_c/v_ref)^δ

The galaxy's circular speed v_c is its largest baryonic speed ``V_bar_max``: no observed
velocity enters a prediction, and SPARC measured no V_flat for 40 galaxies (Table 1 and the
cube store V_flat = 0, "not measured"). Note 000 fitted K_missing and F_max to a *ratio*
F_missing = K_total/K_rough, not to an enhancement: taken as K in g = g_N·(1 + K), the fitted
values (K = 10–17 for mass coherence, 4–10.4 for velocity coherence on SPARC) over-predict V by
factors 2–4. The kernels implement the formulas as written; sweep K_max, F_max.
"""

from __future__ import annotations

import numpy as np

from sigcube.constants import GRAVITATIONAL_RADIUS_KPC
from sigcube.model.inputs import RD_SOURCES, rd_input
from sigcube.model.kernels.common import (
    DISPERSION_INPUTS, DISPERSION_PARAMETERS, DISPERSION_READING, RD_SWITCH_INPUTS, boost, sigma_eff,
)
from sigcube.model.kernels.empirical import ELL0_DEFAULT
from sigcube.model.kernels.registry import Parameter, kernel


def exposure(v_c, sigma_v, beta):
    """Ξ = τ_coh/T_orb = 1/(2π·(1 + (σ_v/v_c)^β)) [dimensionless].

    T_orb = 2πR/v_c, τ_geom = R/v_c, τ_noise = (R/v_c)·(v_c/σ_v)^β (= R/σ_v for β = 1) and
    1/τ_coh = 1/τ_geom + 1/τ_noise; R cancels, so Ξ is one number per galaxy.
    """
    return 1.0 / (2.0 * np.pi * (1.0 + (sigma_v / v_c) ** beta))


def saturating(K_max, x, gamma):
    """K_max·[1 − exp(−x^γ)]: the saturating law of notes 000's coherence models."""
    return K_max * -np.expm1(-(x**gamma))


def potential_depth(M_b, R_eff_kpc, ell0):
    """Ψ = (G·M_b/c²)·ℓ0²/R_eff³ [dimensionless], M_b in M☉, lengths in kpc."""
    return GRAVITATIONAL_RADIUS_KPC * M_b * ell0**2 / R_eff_kpc**3


@kernel(
    summary="Roughness / time coherence: K = K0·Ξ^γ per galaxy, Ξ = τ_coh/T_orb.",
    source="note 000 (K_rough), note 001 (model 1)",
    formula=("V = V_bar·√(1 + K),  K = K0·Ξ^γ,  Ξ = τ_coh/T_orb = 1/(2π(1 + (σ_v/v_c)^β)),  "
             "1/τ_coh = 1/τ_geom + 1/τ_noise,  τ_geom = R/v_c,  τ_noise = (R/v_c)(v_c/σ_v)^β"),
    inputs=("v_bar", "V_bar_max", *DISPERSION_INPUTS),
    parameters=(
        Parameter("K0", 0.774, "", (0.0, 100.0), description="amplitude K0"),
        Parameter("gamma", 0.1, "", (0.0, 5.0), description="exposure exponent γ"),
        Parameter("beta", 1.0, "", (0.0, 5.0), description="noise exponent β of τ_noise"),
        *DISPERSION_PARAMETERS,
    ),
    amplitude="K0",
    readings=("τ_noise ~ R/σ_v^β made dimensionless as (R/v_c)·(v_c/σ_v)^β (= R/σ_v at β = 1, the default)",
              "v_c: the galaxy's largest V_bar; K is constant per galaxy", DISPERSION_READING),
)
def roughness(points, *, K0, gamma, beta, sigma_gas, sigma_disk, sigma_bulge):
    xi = exposure(points["V_bar_max"], sigma_eff(points, sigma_gas, sigma_disk, sigma_bulge), beta)
    return boost(points["v_bar"], K0 * xi**gamma)

@kernel(
    summary="Mass coherence: K = K_max·[1 − exp(−(Ψ/Ψ0)^γ)], Ψ = (G M_b/c²)·ℓ0²/R_eff³ per galaxy.",
    source="note 000 (model 1)",
    formula=("V = V_bar·√(1 + K),  K = K_max·[1 − exp(−(Ψ/Ψ0)^γ)],  Ψ = (G·M_b/c²)·ℓ0²/R_eff³,  "
             "R_eff = R_eff_factor·R_d,  M_b = Υ_disk·L[3.6] + 1.33·M_HI"),
    inputs=("v_bar", "M_b"),
    switch_inputs=RD_SWITCH_INPUTS,
    parameters=(
        Parameter("K_max", 19.58, "", (0.0, 100.0), description="saturation value K_max"),
        Parameter("Psi0", 7.34e-8, "", (1e-15, 1.0), description="potential-depth scale Ψ0"),
        Parameter("gamma", 0.136, "", (0.01, 10.0), description="shape exponent γ"),
        Parameter("R_eff_factor", 1.33, "", (0.01, 100.0), description="R_eff = R_eff_factor·R_d"),
        Parameter("ell0", ELL0_DEFAULT, "kpc", (1e-3, 1e3), description="coherence length ℓ0 in Ψ"),
        Parameter("rd_source", "table", choices=RD_SOURCES, description="where R_d comes from"),
    ),
    amplitude="K_max",
    readings=("ℓ0: the note does not give it; the Burr-XII ℓ0 = 4.993 kpc",
              "R_d: SPARC Table 1 R_disk (rd_source = table)",
              "M_b = Υ_disk·L[3.6] + 1.33·M_HI from Table 1",
              "K_missing is used as the enhancement K (the note fitted it to the ratio F_missing)"),
)
def mass_coherence(points, *, K_max, Psi0, gamma, R_eff_factor, ell0, rd_source):
    psi = potential_depth(points["M_b"], R_eff_factor * points[rd_input(rd_source)], ell0)
    return boost(points["v_bar"], saturating(K_max, psi / Psi0, gamma))

@kernel(
    summary="Velocity coherence: K = F_max·[1 − exp(−Ψ/Ψ0)], Ψ = (v_c/v_ref)^δ per galaxy.",
    source="note 000 (model 2)",
    formula="V = V_bar·√(1 + K),  K = F_max·[1 − exp(−Ψ/Ψ0)],  Ψ = (v_c/v_ref)^δ,  v_c = max V_bar",
    inputs=("v_bar", "V_bar_max"),
    parameters=(
        Parameter("F_max", 10.38, "", (0.0, 100.0), description="saturation value F_max"),
        Parameter("Psi0", 9.80e-3, "", (1e-12, 1e6), description="scale Ψ0"),
        Parameter("delta", 2.04, "", (0.01, 10.0), description="velocity exponent δ"),
        Parameter("v_ref", 125.5, "km / s", (1.0, 1e3), description="reference speed v_ref"),
    ),
    amplitude="F_max",
    readings=("the note gives parameters, not a formula: the mass model's law with Ψ = (v_c/v_ref)^δ and "
              "no extra exponent (δ plays γ's role)",
              "v_c: the galaxy's largest V_bar; K is constant per galaxy"),
)
def velocity_coherence(points, *, F_max, Psi0, delta, v_ref):
    psi = (points["V_bar_max"] / v_ref) ** delta
    return boost(points["v_bar"], saturating(F_max, psi / Psi0, 1.0))
