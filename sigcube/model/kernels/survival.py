"""Coherence-survival kernel (SI §9b).

    Σ = 1 + A·Φ(r)·P(r, g_N)·h(g_N),   V = V_bar·√Σ
    Φ(r)    = 1 − exp(−(r/r0)^β)                 coherence field, in [0, 1)
    P(r, g) = exp(−(r0/r)^β·(g/g†)^α)            survival probability, in (0, 1]
    h(g)    = √(g†/g)·g†/(g†+g)                  the canonical acceleration function

r0 = 20 kpc, β = 0.3, α = 0.1, A = √3 (mode counting).
"""

from __future__ import annotations

import numpy as np

from sigcube.model.kernels.registry import Parameter, kernel
from sigcube.model.kernels.sigma import G_DAGGER_PARAM, G_FLOOR, enhanced_velocity, h_function


def coherence_field(r_kpc, r0, beta):
    """Φ(r) = 1 − exp(−(r/r0)^β) [dimensionless]."""
    return -coherence_deficit(r_kpc, r0, beta)


def coherence_deficit(r_kpc, r0, beta):
    """−Φ(r) = exp(−(r/r0)^β) − 1 [dimensionless], as expm1(r^β·(−r0^−β)) (a swept r0 then costs one product per
    point, the sign taken with the parameter)."""
    return np.expm1(r_kpc**beta * -(r0**-beta))


def survival_probability(r_kpc, g_n, r0, beta, alpha, g_dagger):
    """P = exp(−(r0/r)^β·(g/g†)^α) [dimensionless] (g floored like h), the parameter-only factor r0^β·g†^−α apart."""
    return np.exp(-(r0**beta * g_dagger**-alpha) * (r_kpc**-beta * np.maximum(g_n, G_FLOOR) ** alpha))


@kernel(
    summary="Coherence survival: Σ = 1 + A·Φ(r)·P(r,g)·h(g).",
    source="SI §9b",
    formula=("V = V_bar·√Σ,  Σ = 1 + A·Φ·P·h(g_N),  Φ = 1 − exp(−(r/r0)^β),  "
             "P = exp(−(r0/r)^β·(g_N/g†)^α)"),
    inputs=("r", "v_bar", "g_N"),
    parameters=(
        Parameter("A", float(np.sqrt(3.0)), "", (0.0, 50.0), description="amplitude √3 (mode counting)"),
        Parameter("r0", 20.0, "kpc", (1e-3, 1e4), description="coherence horizon r0"),
        Parameter("beta", 0.3, "", (0.01, 5.0), description="radial transition sharpness β"),
        Parameter("alpha", 0.1, "", (0.0, 5.0), description="acceleration exponent α of the survival probability"),
        G_DAGGER_PARAM,
    ),
    amplitude="A",
    readings=("g† = cH0/(4√π) with astropy constants, as the canonical kernel",),
)
def survival(points, *, A, r0, beta, alpha, g_dagger):
    r, g = points["r"], points["g_N"]
    # A·Φ·P as (−A)·(−Φ)·P: the same values (sign changes are exact), one pass over points × grid fewer
    minus_W = coherence_deficit(r, r0, beta) * survival_probability(r, g, r0, beta, alpha, g_dagger)
    return enhanced_velocity(points["v_bar"], -A, minus_W, h_function(g, g_dagger))
