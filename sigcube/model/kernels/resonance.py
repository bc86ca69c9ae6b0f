"""Metric-resonance kernel (note 001, model 3).

    g = g_N·(1 + K),   K(R) = A_res·∫ dlnλ P(λ)·C(λ,R)·W(R,λ),   V = V_bar·√(1 + K)
    P(λ)   = (λ/λ_cut)^(−α)·exp(−λ/λ_cut)           fluctuation spectrum, 1/e at λ = λ_cut for α = 0
    C(λ,R) = Q²/(Q² + (λ/λ_orb − λ_orb/λ)²)         resonance filter, λ_orb = 2πR, Q = v_c/σ_v
    W(R,λ) = R/(R + λ/2π) = 1/(1 + λ/λ_orb)         long modes average out over the orbit

The integral runs over λ/λ_orb ∈ [1/s, s] (s = ``span``). With u = ln(λ/λ_orb) the filter is
Q²/(Q² + 4 sinh²u), a Lorentzian of half-width ≈ Q/2; the substitution u = (Q/2)·tan θ makes
the Lorentzian flat, and a fixed 64-point Gauss–Legendre rule in θ gives the integral to
< 1e-7 relative for Q ≥ 0.05 (3e-5 at Q = 0.01, where K ∝ Q is small anyway). Vectorised over
points and parameters; the Python loop runs over the 64 nodes only (dask inputs: a node axis).

Swept along α, every node term is window·exp(α·slope + cut) with window, slope and cut independent of α
(:func:`node_tables`); along an arithmetic progression of α values (a linspace axis) the kernel's fast path in
sweeps (:mod:`sigcube.compute.resonance_series`) sums them as a power series in α per run of values instead of
taking 64 exponentials per value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from sigcube.model.kernels.common import DISPERSION_INPUTS, DISPERSION_PARAMETERS, DISPERSION_READING, boost, sigma_eff
from sigcube.model.kernels.registry import Parameter, kernel

QUADRATURE_ORDER = 64
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(QUADRATURE_ORDER)

PROGRESSION_RTOL = 1e-12
"""How far α values may lie from an exact arithmetic progression, relative to their magnitude (at least 1), for
the fast path to step e^(α·s̄) along it (s̄: a midpoint of −ln(λ/λ_cut), ≲ 25 in size), which is then off by at
most that times |s̄| relative."""


def spectrum_exponents(lam, lambda_cut):
    """(slope, cut) = (−ln x, −x), x = λ/λ_cut [dimensionless]: the spectrum is P = exp(α·slope + cut)."""
    x = lam / lambda_cut
    return -np.log(x), -x


def spectrum(lam, alpha, lambda_cut):
    """P(λ) = (λ/λ_cut)^(−α)·exp(−λ/λ_cut) [dimensionless], computed as exp(−α·ln x − x), x = λ/λ_cut
    (a swept α then costs one exp per value, ln x computed once)."""
    slope, cut = spectrum_exponents(lam, lambda_cut)
    return np.exp(alpha * slope + cut)


def quality_factor(points: Mapping[str, Any], sigma_gas, sigma_disk, sigma_bulge):
    """Q = v_c/σ_v [dimensionless]: the local V_bar over the galaxy's σ_eff."""
    return points["v_bar"] / sigma_eff(points, sigma_gas, sigma_disk, sigma_bulge)


def _orbital_wavelength(r_kpc):
    """λ_orb = 2πR [kpc]."""
    return 2.0 * np.pi * r_kpc


def _theta_max(Q, span):
    """The θ of λ/λ_orb = span [rad]: the integral runs over θ ∈ [−θ_max, θ_max]."""
    return np.arctan(2.0 * np.log(span) / Q)


def _node_window(t, w, Q, theta_max):
    """(w·C·(du/dθ)·W, e^u) at the θ-nodes t·θ_max, with u = (Q/2)·tan θ = ln(λ/λ_orb) [dimensionless]."""
    u = 0.5 * Q * np.tan(t * theta_max)
    # C·du/dθ = (Q/2)·(Q² + 4u²)/(Q² + 4 sinh²u), bounded by Q/2
    filtered = 0.5 * Q * (Q**2 + 4.0 * u**2) / (Q**2 + 4.0 * np.sinh(u) ** 2)
    x = np.exp(u)
    return w * filtered / (1.0 + x), x


def _node_terms(t, w, lambda_orb, Q, theta_max, alpha, lambda_cut):
    """w·C·(du/dθ)·P·W at the θ-nodes t·θ_max."""
    window, x = _node_window(t, w, Q, theta_max)
    return window * spectrum(lambda_orb * x, alpha, lambda_cut)


def resonance_integral(r_kpc, Q, alpha, lambda_cut, span):
    """∫ dlnλ P(λ)·C(λ,R)·W(R,λ) over λ/λ_orb ∈ [1/span, span] [dimensionless].

    numpy inputs: a loop over the nodes (memory of one broadcast array); dask inputs: one
    leading node axis, summed (a graph of a few tasks per chunk instead of 64 chained ones).
    """
    theta_max = _theta_max(Q, span)
    args = (_orbital_wavelength(r_kpc), Q, theta_max, alpha, lambda_cut)
    if callable(getattr(theta_max, "__dask_graph__", None)):  # a dask array (dask's own test, without importing dask)
        node_axis = (QUADRATURE_ORDER,) + (1,) * max(np.ndim(a) for a in (*args, span))
        total = _node_terms(_NODES.reshape(node_axis), _WEIGHTS.reshape(node_axis), *args).sum(axis=0)
    else:
        total = sum(_node_terms(t, w, *args) for t, w in zip(_NODES, _WEIGHTS))
    return theta_max * total


def node_tables(r_kpc: np.ndarray, Q: np.ndarray, lambda_cut: float, span: float) -> tuple[np.ndarray, ...]:
    """What :func:`resonance_integral` computes independently of α, for 1-D point arrays ``r_kpc`` [kpc] and ``Q``:
    θ_max (per point) and window, slope, cut (point × node), with ∫ = θ_max·Σ_k window_k·exp(α·slope_k + cut_k)."""
    theta_max = _theta_max(Q, span)
    window, x = _node_window(_NODES, _WEIGHTS, Q[:, None], theta_max[:, None])
    slope, cut = spectrum_exponents(_orbital_wavelength(r_kpc)[:, None] * x, lambda_cut)
    return theta_max, window, slope, cut


def arithmetic_step(values: np.ndarray) -> float | None:
    """The step Δ of sorted distinct ``values`` that lie on α_0 + j·Δ (to :data:`PROGRESSION_RTOL`; 0 for a single
    value), or None."""
    if values.size == 0:
        return None
    step = (values[-1] - values[0]) / max(values.size - 1, 1)
    drift = np.abs(values - (values[0] + step * np.arange(values.size))).max()
    return float(step) if drift <= PROGRESSION_RTOL * max(1.0, float(np.abs(values).max())) else None


@kernel(
    summary="Metric resonance: K = A_res·∫dlnλ P(λ)·C(λ,R)·W(R,λ) with orbital resonance filter.",
    source="note 001 (model 3)",
    formula=("V = V_bar·√(1 + K),  K = A_res·∫ dlnλ P·C·W,  P = (λ/λ_cut)^−α·e^(−λ/λ_cut),  "
             "C = Q²/(Q² + (λ/λ_orb − λ_orb/λ)²),  W = 1/(1 + λ/λ_orb),  λ_orb = 2πR,  Q = v_c/σ_v"),
    inputs=("r", "v_bar", *DISPERSION_INPUTS),
    parameters=(
        Parameter("A_res", 1.0, "", (0.0, 100.0), description="amplitude A_res"),
        Parameter("alpha", 0.0, "", (-5.0, 5.0), description="spectral slope α of P ∝ λ^−α"),
        Parameter("lambda_cut", 100.0, "kpc", (1e-3, 1e5), description="spectral cut-off λ_cut"),
        Parameter("span", 10.0, "", (1.01, 1e3), description="λ/λ_orb runs over [1/span, span]"),
        *DISPERSION_PARAMETERS,
    ),
    amplitude="A_res",
    readings=("W(R,λ) = R/(R + λ/2π): the note names a window but does not define it",
              "P normalised at λ_cut; the integral is cut to λ/λ_orb ∈ [1/span, span]",
              "v_c in Q: the local V_bar",
              "defaults: starting values (the note gives none): a flat spectrum (α = 0) cut at 100 kpc",
              DISPERSION_READING),
)
def resonance(points, *, A_res, alpha, lambda_cut, span, sigma_gas, sigma_disk, sigma_bulge):
    Q = quality_factor(points, sigma_gas, sigma_disk, sigma_bulge)
    return boost(points["v_bar"], A_res * resonance_integral(points["r"], Q, alpha, lambda_cut, span))
