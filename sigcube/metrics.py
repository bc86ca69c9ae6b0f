"""Goodness-of-fit metrics, defined once (MODEL.md §5).

All functions work on *packed* points: arrays whose last axis runs over the valid points
of every galaxy, stored contiguously, with ``offsets`` (length n_galaxies + 1) marking
where each galaxy starts. Leading axes (e.g. a block of a parameter grid) are carried
through, so a sweep reduces a whole block in one call.

- RMS: per galaxy √mean((V_pred − V_obs)²), unweighted [km/s]; the sample figure is the
  plain mean over galaxies.
- χ²: per galaxy Σ((V_pred − V_obs)/e_V)²; χ²_red divides by the galaxy's point count.
- win rate: fraction of galaxies with RMS strictly below the baseline's.
- RAR scatter, three definitions (x = log10(V_obs/V_pred); at the same r, log10(g_obs/g_pred) = 2x):
  ``rar_rms_accel`` = √mean[log10(g_obs/g_pred)²], acceleration space, RMS about zero — the
  definition the paper gives (§3.5); ``rar_scatter_velocity`` = std(x), velocity space, about the
  mean — the only one that reproduces the printed 0.097 dex (SI §5); ``rar_scatter_accel`` =
  std(2x), acceleration space, about the mean (exactly twice the velocity std).
- Per-galaxy "needed enhancement" K_needed = mean over the galaxy's points of
  (V_obs/V_bar)² − 1 = g_obs/g_N − 1, the target of note 000's fits (as sigcube reads it).
"""

from __future__ import annotations

import numpy as np

RAR_SCATTERS = {
    "rar_rms_accel": "√mean[log10(g_obs/g_pred)²]: acceleration space, RMS about zero (the paper's §3.5 definition)",
    "rar_scatter_velocity": "std log10(V_obs/V_pred): velocity space, about the mean",
    "rar_scatter_accel": "std log10(g_obs/g_pred): acceleration space, about the mean (twice the velocity std)",
}
"""The three RAR scatter definitions [dex], by metric name, in words (labels for reports and cubes)."""


def segment_sum(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Sum of ``values`` over each galaxy's points (last axis) → (..., n_galaxies)."""
    return np.add.reduceat(values, offsets[:-1], axis=-1)


def counts(offsets: np.ndarray) -> np.ndarray:
    """Number of points of each galaxy."""
    return np.diff(offsets)


def rms_per_galaxy(v_pred: np.ndarray, v_obs: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Per-galaxy RMS velocity residual √mean((V_pred − V_obs)²) [km/s]."""
    return np.sqrt(segment_sum((v_pred - v_obs) ** 2, offsets) / counts(offsets))


def chi2_per_galaxy(v_pred: np.ndarray, v_obs: np.ndarray, e_v_obs: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Per-galaxy χ² = Σ((V_pred − V_obs)/e_V)² with the observed velocity errors."""
    return segment_sum(((v_pred - v_obs) / e_v_obs) ** 2, offsets)


def chi2_reduced(chi2: np.ndarray, offsets: np.ndarray, n_params: int = 0) -> np.ndarray:
    """χ²/(N − n_params) per galaxy; ``n_params`` counts per-galaxy fitted parameters."""
    return chi2 / (counts(offsets) - n_params)


def win_rate(rms: np.ndarray, rms_baseline: np.ndarray) -> np.ndarray:
    """Fraction of galaxies (last axis) with RMS strictly below the baseline's."""
    return np.mean(rms < rms_baseline, axis=-1)


def rar_scatter_velocity(v_obs: np.ndarray, v_pred: np.ndarray) -> np.ndarray:
    """std(log10(V_obs/V_pred)) over all points [dex]: velocity space, about the mean (reproduces SI §5's 0.097)."""
    return np.std(np.log10(v_obs / v_pred), axis=-1)


def rar_scatter_accel(g_obs: np.ndarray, g_pred: np.ndarray) -> np.ndarray:
    """std(log10(g_obs/g_pred)) over all points [dex]: acceleration space, about the mean."""
    return np.std(np.log10(g_obs / g_pred), axis=-1)


def rar_rms_accel(g_obs: np.ndarray, g_pred: np.ndarray) -> np.ndarray:
    """√mean[log10(g_obs/g_pred)²] over all points [dex]: the paper's RAR scatter (§3.5), RMS about zero."""
    return np.sqrt(np.mean(np.log10(g_obs / g_pred) ** 2, axis=-1))


def rar_scatters_from_moments(sum_x: np.ndarray, sum_xx: np.ndarray, n: int) -> dict[str, np.ndarray]:
    """The three RAR scatters [dex] from Σx and Σx² of x = log10(V_obs/V_pred) over ``n`` points.

    g = V²/r at the same r, so log10(g_obs/g_pred) = 2x: ``rar_scatter_velocity`` = std(x),
    ``rar_scatter_accel`` = 2·std(x), ``rar_rms_accel`` = 2·√(Σx²/n).
    """
    mean = sum_x / n
    std = np.sqrt(np.maximum(sum_xx / n - mean**2, 0.0))
    return {"rar_scatter_velocity": std, "rar_scatter_accel": 2.0 * std, "rar_rms_accel": 2.0 * np.sqrt(sum_xx / n)}


def needed_enhancement(v_obs: np.ndarray, v_bar: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Per-galaxy K_needed = mean over its points of (V_obs/V_bar)² − 1 [dimensionless] (g = g_N·(1 + K))."""
    return segment_sum((v_obs / v_bar) ** 2 - 1.0, offsets) / counts(offsets)


def rms_difference(model: np.ndarray, target: np.ndarray) -> np.ndarray:
    """√mean((model − target)²) over the last axis (e.g. galaxies), in the unit of the inputs."""
    return np.sqrt(np.mean((model - target) ** 2, axis=-1))


def pearson(model: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Pearson correlation over the last axis; NaN where ``model`` is constant along it."""
    a = model - model.mean(axis=-1, keepdims=True)
    b = target - target.mean(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (a * b).sum(axis=-1) / np.sqrt((a * a).sum(axis=-1) * (b * b).sum(axis=-1))
