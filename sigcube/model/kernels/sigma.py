"""The canonical Σ-Gravity kernel and its switches (MODEL.md §2).

    g_eff = g_N·Σ,   Σ = 1 + A·W(r)·h(g_N),   V_pred = V_bar·√Σ
    h(g)  = √(g†/g) · g†/(g† + g)            (g floored at 1e-15 m/s²)
    W(r)  = 1 − (ξ/(ξ + r))^p,  ξ = max(k·R_d, 0.01 kpc)   (p = 1: the canonical r/(ξ + r))
    A     = A0·[1 − D + D·(L/L0)^n]
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from sigcube.constants import G_DAGGER
from sigcube.model.inputs import RD_SOURCES, rd_input
from sigcube.model.kernels.common import RD_SWITCH_INPUTS
from sigcube.model.kernels.registry import Parameter, kernel

A0_DEFAULT = float(np.exp(1.0 / (2.0 * np.pi)))
"""Canonical disk amplitude A0 = e^{1/(2π)} ≈ 1.1725."""

XI_FLOOR_KPC = 0.01
"""Smallest coherence scale ξ [kpc], as in the paper's reference code."""

G_FLOOR = 1e-15
"""Floor on g_N inside h(g) [m/s²]."""

WINDOW_EXPONENTS = {"linear": 1.0, "sqrt": 0.5}
"""Named windows W = 1 − (ξ/(ξ+r))^p: ``linear`` is the canonical r/(ξ+r), ``sqrt`` the
SI §14 variant; ``power`` takes p from the ``window_exponent`` parameter."""


def h_function(g_n: np.ndarray, g_dagger: float | np.ndarray) -> np.ndarray:
    """Acceleration function h(g) = √(g†/g)·g†/(g†+g) [dimensionless]."""
    g = np.maximum(g_n, G_FLOOR)
    return np.sqrt(g_dagger / g) * g_dagger / (g_dagger + g)


def coherence_scale(k, r_d_kpc):
    """ξ = max(k·R_d, 0.01 kpc) [kpc]."""
    return np.maximum(k * r_d_kpc, XI_FLOOR_KPC)


def enhanced_velocity(v_bar, A, W, h):
    """V_pred = V_bar·√Σ with Σ = 1 + A·(W·h) [km/s] (W·h first: it is often parameter-free)."""
    return v_bar * np.sqrt(1.0 + A * (W * h))


def coherence_window(r_kpc: np.ndarray, xi_kpc: np.ndarray, p: float | np.ndarray = 1.0) -> np.ndarray:
    """W(r) = 1 − (ξ/(ξ+r))^p: p = 1 is the canonical r/(ξ+r), p = ½ the SI §14 variant."""
    if np.all(np.asarray(p) == 1.0):
        return r_kpc / (xi_kpc + r_kpc)
    return 1.0 - (xi_kpc / (xi_kpc + r_kpc)) ** p


def window_power(window: str, window_exponent):
    """The exponent p of W = 1 − (ξ/(ξ+r))^p for a power-law window choice."""
    return window_exponent if window == "power" else WINDOW_EXPONENTS[window]


def _check_window(params: dict) -> str | None:
    if params["window"] != "power" and np.any(np.asarray(params["window_exponent"]) != 1.0):
        return (f"window_exponent applies only with window='power' (window={params['window']!r} "
                "fixes the window); set window = \"power\" to vary it")
    return None


def amplitude(A0, D, L, L0, n):
    """Unified amplitude A(D, L) = A0·[1 − D + D·(L/L0)^n] (paper §2.12)."""
    return A0 * (1.0 - D + D * (L / L0) ** n)


V2_FLOOR_KM2_S2 = 1e-100
"""Floor on V_bar² in the c_local closed form [(km/s)²], so that V_bar = 0 (with σ_eff = 0) gives V ≈ 0, not 0/0."""


def c_local_velocity(v_bar, h, A, sigma_c, f_counter=0.0, sigma_counter=0.0):
    """V = V_bar·√Σ [km/s], Σ = 1 + A·C·h with W replaced by C = v²/(v²+σ_eff²) of the *predicted* v (SI §13.5).

    With a counter-rotating fraction f = ``f_counter`` (paper §2.6) the dispersion is
    σ_eff² = (1−f)·σ_c² + f·σ_2² + f(1−f)(v1 − v2)², v1 = +v, v2 = −v (``sigma_counter`` = σ_2),
    i.e. σ_eff² = s² + c·v² with s² = (1−f)·σ_c² + f·σ_2² and c = 4f(1−f); f = 0 is the SI §13.5
    scalar σ_c. The published scripts iterate v ← V_bar·√(1 + A·C(v)·h) to its fixed point; with
    b = V_bar², S = s²/(1+c) and v² = b·Σ that fixed point is the positive root of

        b·Σ² − (b + A·h·b/(1+c) − S)·Σ − S = 0,  so  V² = b·Σ = max(U, 0) + 2S·b/(√(U² + 4S·b) + |U|),
        U = b·(1 + A·h/(1+c)) − S,

    in which both terms are ≥ 0 (nothing cancels). b is floored at :data:`V2_FLOOR_KM2_S2`; V ≥ 0.
    Operations are ordered so that what the swept parameters do not touch is computed once.
    """
    grow = 1.0 + 4.0 * f_counter * (1.0 - f_counter)
    S = ((1.0 - f_counter) * np.maximum(sigma_c, 1e-6) ** 2 + f_counter * sigma_counter**2) / grow
    b = np.maximum(v_bar**2, V2_FLOOR_KM2_S2)
    U = A * (b * (h / grow)) + (b - S)
    return np.sqrt(np.maximum(U, 0.0) + 2.0 * S * b / (np.sqrt(U * U + 4.0 * S * b) + np.abs(U)))


A0_PARAM = Parameter("A0", A0_DEFAULT, "", (0.0, 50.0), description="base amplitude A0 = e^{1/(2π)}")
K_PARAM = Parameter("k", float(1 / (2 * np.pi)), "", (0.0, 100.0), description="coherence scale ξ = k·R_d")
G_DAGGER_PARAM = Parameter("g_dagger", G_DAGGER, "m / s2", (1e-13, 1e-8),
                           description="critical acceleration g† = cH0/(4√π)")
RD_SOURCE_PARAM = Parameter("rd_source", "third", choices=RD_SOURCES, description="where R_d comes from")
"""Parameters the Σ variants share with the canonical kernel (same names, units, bounds)."""


@kernel(
    summary="Canonical Σ-Gravity: Σ = 1 + A(D,L)·W(r)·h(g_N), with its published switches.",
    source="paper §2 and §6.1; SI §13–14 (MODEL.md §2)",
    formula=(
        "V = V_bar·√Σ,  Σ = 1 + A·W(r)·h(g_N),  h = √(g†/g)·g†/(g†+g),  "
        "W = r/(ξ+r) [linear] or 1 − (ξ/(ξ+r))^½ [sqrt] or 1 − (ξ/(ξ+r))^p [power], "
        "or C = v²/(v²+σ_c²) of the predicted v [c_local],  "
        "ξ = max(k·R_d, 0.01 kpc),  A = A0·[1 − D + D·(L/L0)^n]"
    ),
    inputs=("r", "v_bar", "g_N"),
    switch_inputs={**RD_SWITCH_INPUTS, "amplitude_mode": {"bulge_fraction": ("f_bulge",)}},
    parameters=(
        A0_PARAM,
        K_PARAM,
        G_DAGGER_PARAM,
        Parameter("D", 0.0, "", (0.0, 1.0), description="dimensionality: 0 disk, 1 cluster"),
        Parameter("L", 0.4, "kpc", (1e-6, 1e5), description="path length through baryons"),
        Parameter("L0", 0.4, "kpc", (1e-6, 1e5), description="reference path length"),
        Parameter("n", 0.27, "", (0.0, 5.0), description="path-length exponent"),
        Parameter("window", "linear", choices=("linear", "sqrt", "power", "c_local"),
                  description="coherence factor: linear r/(ξ+r), sqrt (SI §14), power (exponent p), "
                  "or c_local C(v) of the predicted v (closed form)"),
        Parameter("window_exponent", 1.0, "", (0.01, 10.0),
                  description="p in W = 1 − (ξ/(ξ+r))^p, with window='power'"),
        RD_SOURCE_PARAM,
        Parameter(
            "amplitude_mode",
            "unified",
            choices=("unified", "bulge_fraction"),
            description="unified: A(D, L) from the D, L parameters; bulge_fraction: D = per-galaxy "
            "bulge fraction and L = L_per_Rd·R_d (the scripts' earlier amplitude)",
        ),
        Parameter("L_per_Rd", 0.3, "", (0.0, 100.0), description="L/R_d with amplitude_mode=bulge_fraction"),
        Parameter("sigma_c", 20.0, "km / s", (1e-3, 1e3), description="dispersion σ in C = v²/(v²+σ²) (window=c_local)"),
    ),
    constraint=_check_window,
    amplitude="A0",
    readings=("R_d: R[N//3] of the filtered curve by default (rd_source)",),
)
def sigma(
    points: Mapping[str, np.ndarray],
    *,
    A0,
    k,
    g_dagger,
    D,
    L,
    L0,
    n,
    window: str,
    window_exponent,
    rd_source: str,
    amplitude_mode: str,
    L_per_Rd,
    sigma_c,
) -> np.ndarray:
    r, v_bar = points["r"], points["v_bar"]
    r_d = points[rd_input(rd_source)]
    h = h_function(points["g_N"], g_dagger)
    if amplitude_mode == "bulge_fraction":
        A = amplitude(A0, points["f_bulge"], L_per_Rd * r_d, L0, n)
    else:
        A = amplitude(A0, D, L, L0, n)
    if window == "c_local":
        return c_local_velocity(v_bar, h, A, sigma_c)
    W = coherence_window(r, coherence_scale(k, r_d), window_power(window, window_exponent))
    return enhanced_velocity(v_bar, A, W, h)
