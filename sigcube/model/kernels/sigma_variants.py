"""Variants of the canonical Σ kernel named in the seeds (MODEL.md §2), one kernel each.

Each changes one piece of Σ = 1 + A·W(r)·h(g_N), V = V_bar·√Σ and keeps the rest canonical
(W = r/(ξ+r), ξ = max(k·R_d, 0.01 kpc), A = A0, h with g†):

- ``sigma_dynamical`` ξ = k·σ_eff/Ω_d (SI §13.2)
- ``sigma_gated``     W → W·exp(−(σ_v/v_c)²) (paper §5.2)
- ``sigma_counter_rotation`` C = v²/(v²+σ_eff²) with a counter-rotating share (paper §2.6)
- ``sigma_redshift``  g† → g†0·H(z)/H0 (SI §8, paper §5.4.3)
- ``sigma_efe``       g_N → √(g_N² + g_ext²) inside h (paper §2.14.1, option A)
- ``sigma_path_length`` A = A0·L^{1/4} (paper §2.12.1)
- ``sigma_xi``        A and ξ [kpc] given directly (the per-galaxy ablation, SI §15)

They are separate kernels rather than switches of ``sigma`` so that the fused loop attached to
``sigma`` (which knows only the canonical parameters) never runs them.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from sigcube.constants import PAPER_OMEGA_M
from sigcube.model.inputs import RD_SOURCES, omega_d_input, rd_input
from sigcube.model.kernels.common import (
    DISPERSION_INPUTS, DISPERSION_PARAMETERS, DISPERSION_READING, OMEGA_D_SWITCH_INPUTS, RD_SWITCH_INPUTS, sigma_eff,
)
from sigcube.model.kernels.registry import Parameter, kernel
from sigcube.model.kernels.sigma import (
    A0_PARAM, G_DAGGER_PARAM, K_PARAM, RD_SOURCE_PARAM, c_local_velocity, coherence_scale, coherence_window,
    enhanced_velocity, h_function,
)

CANONICAL = ("r", "v_bar", "g_N")
"""Inputs of the canonical window and h(g_N); the R_d of ``rd_source`` comes with :data:`RD_SWITCH_INPUTS`."""
SIGMA_FORMULA = "V = V_bar·√Σ,  Σ = 1 + A·W·h(g_N),  h = √(g†/g)·g†/(g†+g),  W = r/(ξ+r)"


def canonical_window(points: Mapping[str, np.ndarray], k, rd_source: str):
    """W = r/(ξ+r), ξ = max(k·R_d, 0.01 kpc)."""
    return coherence_window(points["r"], coherence_scale(k, points[rd_input(rd_source)]))


def g_dagger_at(g_dagger0, z):
    """g†(z) = g†0·H(z)/H0 [m/s²], H(z)/H0 = √(Ωm(1+z)³ + ΩΛ) with Ωm = :data:`~sigcube.constants.PAPER_OMEGA_M`, ΩΛ = 1 − Ωm (the flat ΛCDM of the paper)
    (no radiation: astropy's ``efunc``, written out so that a swept z stays on the grid axis)."""
    return g_dagger0 * np.sqrt(PAPER_OMEGA_M * (1.0 + z) ** 3 + (1.0 - PAPER_OMEGA_M))


def dynamical_scale(points: Mapping[str, np.ndarray], k, sigma_gas, sigma_disk, sigma_bulge, rd_source: str):
    """ξ_dyn = max(k·σ_eff/Ω_d, 0.01 kpc) [kpc] (SI §13.2), Ω_d = V_bar(R_d)/R_d of the ``rd_source`` R_d."""
    sigma_over_omega = sigma_eff(points, sigma_gas, sigma_disk, sigma_bulge) / points[omega_d_input(rd_source)]
    return coherence_scale(k, sigma_over_omega)


@kernel(
    summary="Σ with the dynamical coherence scale ξ = k·σ_eff/Ω_d.",
    source="SI §13.2–13.4",
    formula=f"{SIGMA_FORMULA},  ξ = max(k·σ_eff/Ω_d, 0.01 kpc),  Ω_d = V_bar(R_d)/R_d,  A = A0",
    inputs=("r", "v_bar", "g_N", *DISPERSION_INPUTS),
    switch_inputs=OMEGA_D_SWITCH_INPUTS,
    parameters=(A0_PARAM, Parameter("k", 0.24, "", (0.0, 100.0), description="ξ = k·σ_eff/Ω_d (0.24 calibrated, "
                                    "0.47 optimal in SI §13.3)"),
                G_DAGGER_PARAM, *DISPERSION_PARAMETERS,
                Parameter("rd_source", "vdisk_peak", choices=RD_SOURCES, description="where R_d comes from "
                          "(vdisk_peak reproduces SI §13.3)")),
    amplitude="A0",
    readings=("R_d: radius of the |V_disk| peak, the convention that reproduces SI §13.3 (17.39 km/s, 46.8 %, "
              "0.191 dex acceleration space at k = 0.24; 17.29, 44.4 %, 0.190 at k = 0.47)",
              "V_bar(R_d): linear interpolation of V_bar in r, held at the end values outside the curve",
              "σ_eff weights: peak |V| of the Υ-scaled components; σ_eff = Σ w_i·σ_i (linear, as the SI code)"),
)
def sigma_dynamical(points, *, A0, k, g_dagger, sigma_gas, sigma_disk, sigma_bulge, rd_source):
    W = coherence_window(points["r"], dynamical_scale(points, k, sigma_gas, sigma_disk, sigma_bulge, rd_source))
    return enhanced_velocity(points["v_bar"], A0, W, h_function(points["g_N"], g_dagger))


@kernel(
    summary="Σ with the dispersion gate W_eff = W·exp(−(σ_v/v_c)²).",
    source="paper §5.2 (prediction 2)",
    formula=f"{SIGMA_FORMULA}·exp(−(σ_v/v_c)²),  v_c = V_bar,  σ_v = σ_eff,  A = A0",
    inputs=(*CANONICAL, *DISPERSION_INPUTS),
    switch_inputs=RD_SWITCH_INPUTS,
    parameters=(A0_PARAM, K_PARAM, G_DAGGER_PARAM, *DISPERSION_PARAMETERS, RD_SOURCE_PARAM),
    amplitude="A0",
    readings=("v_c: the local baryonic circular speed V_bar (QUMOND-like, no iteration)", DISPERSION_READING),
)
def sigma_gated(points, *, A0, k, g_dagger, sigma_gas, sigma_disk, sigma_bulge, rd_source):
    v_bar = points["v_bar"]
    gate = np.exp(-((sigma_eff(points, sigma_gas, sigma_disk, sigma_bulge) / v_bar) ** 2))
    W = canonical_window(points, k, rd_source) * gate
    return enhanced_velocity(v_bar, A0, W, h_function(points["g_N"], g_dagger))


@kernel(
    summary="Σ with C = v²/(v²+σ_eff²), σ_eff including a counter-rotating share f.",
    source="paper §2.6 and §5.2 (prediction 1); SI §13.5",
    formula=("V = V_bar·√Σ,  Σ = 1 + A0·C·h(g_N),  C = v²/(v²+σ_eff²) of the predicted v (fixed point),  "
             "σ_eff² = (1−f)σ_1² + f·σ_2² + f(1−f)(v1 − v2)²,  v1 = v, v2 = −v"),
    inputs=("v_bar", "g_N"),
    parameters=(
        A0_PARAM, G_DAGGER_PARAM,
        Parameter("sigma_1", 20.0, "km / s", (1e-3, 1e3), description="dispersion of the co-rotating population"),
        Parameter("sigma_2", 20.0, "km / s", (0.0, 1e3), description="dispersion of the counter-rotating population"),
        Parameter("f_counter", 0.0, "", (0.0, 1.0), description="counter-rotating mass fraction f = f2 (f1 = 1 − f)"),
    ),
    amplitude="A0",
    readings=("v1, v2: both populations rotate at the predicted circular speed, in opposite senses",
              "f = 0 is the c_local window of 'sigma' with sigma_c = sigma_1",
              "f = 1 is again a normal disk (σ_eff = σ_2): the formula, unlike the paper's table, "
              "puts the largest suppression at f = ½"),
)
def sigma_counter_rotation(points, *, A0, g_dagger, sigma_1, sigma_2, f_counter):
    v_bar = points["v_bar"]
    return c_local_velocity(v_bar, h_function(points["g_N"], g_dagger), A0, sigma_1, f_counter, sigma_2)


@kernel(
    summary="Σ with the redshift-dependent critical acceleration g†(z) = g†0·H(z)/H0.",
    source="SI §8 (prediction 2); paper §5.4.3",
    formula=f"{SIGMA_FORMULA},  g† → g†0·H(z)/H0,  H(z) = H0·√(Ωm(1+z)³ + ΩΛ),  A = A0",
    inputs=CANONICAL,
    switch_inputs=RD_SWITCH_INPUTS,
    parameters=(A0_PARAM, K_PARAM, G_DAGGER_PARAM,
                Parameter("z", 0.0, "", (0.0, 20.0), description="redshift of the system"), RD_SOURCE_PARAM),
    amplitude="A0",
    readings=("H(z): astropy FlatLambdaCDM(H0 = 70, Ωm = 0.3), no radiation: g†(2)/g†(0) = 2.966 "
              "(g†(1)/g†(0) = 1.761; the SI §8 table prints 1.77)",
              "z is one value for all galaxies; at fixed g_N a larger g† gives more enhancement (h grows with g†)"),
)
def sigma_redshift(points, *, A0, k, g_dagger, z, rd_source):
    h = h_function(points["g_N"], g_dagger_at(g_dagger, z))
    return enhanced_velocity(points["v_bar"], A0, canonical_window(points, k, rd_source), h)


@kernel(
    summary="Σ with the external-field effect: h evaluated at √(g_N² + g_ext²).",
    source="paper §2.14.1 (option A)",
    formula=f"{SIGMA_FORMULA.replace('h(g_N)', 'h(√(g_N² + g_ext²))')},  A = A0,  g_eff = g_N·Σ",
    inputs=CANONICAL,
    switch_inputs=RD_SWITCH_INPUTS,
    parameters=(A0_PARAM, K_PARAM, G_DAGGER_PARAM,
                Parameter("g_ext", 0.0, "m / s2", (0.0, 1e-8), description="external field g_ext"), RD_SOURCE_PARAM),
    amplitude="A0",
    readings=("the quadrature sum enters h only; the Newtonian factor stays g_N (g = g_N·Σ)",
              "g_ext is one value for all galaxies (sweep it; SPARC gives no environment)"),
)
def sigma_efe(points, *, A0, k, g_dagger, g_ext, rd_source):
    h = h_function(np.sqrt(points["g_N"] ** 2 + g_ext**2), g_dagger)
    return enhanced_velocity(points["v_bar"], A0, canonical_window(points, k, rd_source), h)


@kernel(
    summary="Σ with the path-length amplitude A = A0·L^{1/4}.",
    source="paper §2.12.1 and §2.8.5",
    formula=f"{SIGMA_FORMULA},  A = A0·(L/kpc)^q,  q = 1/4",
    inputs=CANONICAL,
    switch_inputs=RD_SWITCH_INPUTS,
    parameters=(A0_PARAM, K_PARAM, G_DAGGER_PARAM,
                Parameter("L", 1.5, "kpc", (1e-3, 1e4), description="path length through baryons "
                          "(disks 1.5, ellipticals 17, clusters 400 kpc)"),
                Parameter("L_exponent", 0.25, "", (0.0, 2.0), description="exponent q of A = A0·L^q"),
                RD_SOURCE_PARAM),
    amplitude="A0",
    readings=("A0: e^{1/(2π)} as in §2.8.5 (A = 1.30 for L = 1.5 kpc); the §2.12.1 table uses A0 = 1.6",
              "L in kpc, one value for all galaxies"),
)
def sigma_path_length(points, *, A0, k, g_dagger, L, L_exponent, rd_source):
    h = h_function(points["g_N"], g_dagger)
    return enhanced_velocity(points["v_bar"], A0 * L**L_exponent, canonical_window(points, k, rd_source), h)


@kernel(
    summary="Σ with A and ξ given directly: the two per-galaxy parameters of the fitted ablation.",
    source="SI §15; paper §4.1.1",
    formula=f"{SIGMA_FORMULA},  A, ξ free (A ∈ [0.01, 5], ξ ∈ [0.1, 50] kpc per galaxy)",
    inputs=("r", "v_bar", "g_N"),
    parameters=(
        Parameter("A", 1.0, "", (0.01, 5.0), description="amplitude (the ablation's bounds)"),
        Parameter("xi", 1.0, "kpc", (0.1, 50.0), description="coherence scale ξ (the ablation's bounds)"),
        G_DAGGER_PARAM,
    ),
    amplitude="A",
    readings=("per-galaxy fits: sweep A × xi and take sigcube.engines.sweep.best_per_galaxy",),
)
def sigma_xi(points, *, A, xi, g_dagger):
    W = coherence_window(points["r"], xi)
    return enhanced_velocity(points["v_bar"], A, W, h_function(points["g_N"], g_dagger))
