"""Goodness-of-fit metrics, defined once (MODEL.md §5).

All functions work on *packed* points: arrays whose last axis runs over the valid points
of every galaxy, stored contiguously, with ``offsets`` (length n_galaxies + 1) marking
where each galaxy starts. Leading axes (e.g. a block of a parameter grid) are carried
through, so a sweep reduces a whole block in one call.

- RMS: per galaxy √mean((V_pred − V_obs)²), unweighted [km/s]; the sample figure is the
  plain mean over galaxies.
- χ²: per galaxy Σ((V_pred − V_obs)/e_V)²; χ²_red divides by the galaxy's point count.
- win rate: fraction of galaxies with RMS strictly below the baseline's.
- RAR scatter: std over all points of log10(V_obs/V_pred) (velocity space, what the paper
  calls "RAR scatter") and of log10(g_obs/g_pred) (acceleration space, exactly twice it).
"""

from __future__ import annotations

import numpy as np


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
    """std(log10(V_obs/V_pred)) over all points [dex] — the paper's "RAR scatter"."""
    return np.std(np.log10(v_obs / v_pred), axis=-1)


def rar_scatter_accel(g_obs: np.ndarray, g_pred: np.ndarray) -> np.ndarray:
    """std(log10(g_obs/g_pred)) over all points [dex], acceleration space."""
    return np.std(np.log10(g_obs / g_pred), axis=-1)
