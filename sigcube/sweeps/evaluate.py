"""Evaluate a kernel over one block of the grid and reduce it to metrics.

:class:`Prepared` holds what every block shares (the packed points, the baseline's
per-galaxy RMS, quantities that do not depend on the swept parameters). :func:`reduce_block`
returns only reductions — per-galaxy RMS and χ², and the global metrics — never the
point × grid array, unless ``keep_curves`` asks for the predicted velocities.

The canonical Σ kernel with a power-law window and the unified amplitude runs through the fused
numba loop of :mod:`sigcube.kernels.fused`; every other kernel and switch runs through
the kernel's own numpy function in sub-batches of bounded memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sigcube import metrics
from sigcube.constants import accel_from_velocity
from sigcube.kernels import Kernel
from sigcube.kernels.sigma import amplitude, window_power
from sigcube.sample import PointSet

SUB_BATCH_ELEMENTS = 2_000_000
"""Grid points × points per numpy sub-batch (≈ 16 MB per temporary array)."""

GLOBAL_METRICS = ("mean_rms", "median_chi2_red", "win_rate", "rar_rms_accel", "rar_scatter_velocity", "rar_scatter_accel")
"""Global metrics of a grid point (definitions in :mod:`sigcube.metrics`; ``win_rate`` is a fraction)."""
GALAXY_METRICS = ("rms", "chi2")


@dataclass(frozen=True)
class Prepared:
    """Block-independent inputs of a sweep, computed once and shipped to every worker."""

    points: PointSet
    kernel: Kernel
    fixed: dict[str, Any]
    baseline_rms: np.ndarray
    inv_e: np.ndarray
    log_obs_bar: np.ndarray

    @classmethod
    def build(cls, points: PointSet, kernel: Kernel, fixed: dict[str, Any], baseline: Kernel) -> Prepared:
        p = points.inputs
        base = baseline(p)
        return cls(
            points=points,
            kernel=kernel,
            fixed=dict(fixed),
            baseline_rms=metrics.rms_per_galaxy(base, p["v_obs"], points.offsets),
            inv_e=1.0 / p["e_v_obs"],
            log_obs_bar=np.log10(p["v_obs"] / p["v_bar"]),
        )


def reduce_block(prep: Prepared, block_params: dict[str, Any], keep_curves: bool = False) -> dict[str, np.ndarray]:
    """Metrics for every grid point of a block.

    ``block_params`` maps each swept parameter to an array of the block's shape (a switch
    to one string). Returns arrays of shape ``block_shape`` (global metrics) and
    ``block_shape + (n_galaxies,)`` (``rms``, ``chi2``); with ``keep_curves`` also
    ``v_pred`` of shape ``block_shape + (n_points,)``.
    """
    numeric = {k: np.asarray(v, dtype=float) for k, v in block_params.items() if not isinstance(v, str)}
    shape = np.broadcast_shapes(*(v.shape for v in numeric.values())) if numeric else ()
    flat = {k: np.broadcast_to(v, shape).ravel() for k, v in numeric.items()}
    switches = {k: v for k, v in block_params.items() if isinstance(v, str)}
    params = prep.kernel.resolve({**prep.fixed, **switches})
    n_grid = int(np.prod(shape))
    fused = None if keep_curves else _fused_sigma(prep, params, flat, n_grid)
    if fused is not None:
        rms, chi2, sx, sxx = fused
        out = {"rms": rms, "chi2": chi2, **metrics.rar_scatters_from_moments(sx, sxx, prep.points.n_points)}
    else:
        out = _numpy_path(prep, params, flat, n_grid, keep_curves)
    out["mean_rms"] = out["rms"].mean(axis=-1)
    out["win_rate"] = metrics.win_rate(out["rms"], prep.baseline_rms)
    out["median_chi2_red"] = np.median(metrics.chi2_reduced(out["chi2"], prep.points.offsets), axis=-1)
    return {k: v.reshape(shape + v.shape[1:]) for k, v in out.items()}


def _numpy_path(prep, params, flat, n_grid, keep_curves):
    pts = prep.points
    p = pts.inputs
    n = pts.n_points
    rms = np.empty((n_grid, pts.n_galaxies))
    chi2 = np.empty_like(rms)
    scatter = {name: np.empty(n_grid) for name in ("rar_rms_accel", "rar_scatter_velocity", "rar_scatter_accel")}
    curves = np.empty((n_grid, n)) if keep_curves else None
    step = max(1, SUB_BATCH_ELEMENTS // n)
    for a in range(0, n_grid, step):
        b = min(a + step, n_grid)
        sub = {**params, **{k: v[a:b, None] for k, v in flat.items()}}
        v = np.broadcast_to(prep.kernel.func(p, **sub), (b - a, n))
        rms[a:b] = metrics.rms_per_galaxy(v, p["v_obs"], pts.offsets)
        chi2[a:b] = metrics.chi2_per_galaxy(v, p["v_obs"], p["e_v_obs"], pts.offsets)
        g_pred = accel_from_velocity(v, p["r"])
        scatter["rar_scatter_velocity"][a:b] = metrics.rar_scatter_velocity(p["v_obs"], v)
        scatter["rar_scatter_accel"][a:b] = metrics.rar_scatter_accel(p["g_obs"], g_pred)
        scatter["rar_rms_accel"][a:b] = metrics.rar_rms_accel(p["g_obs"], g_pred)
        if keep_curves:
            curves[a:b] = v
    out = {"rms": rms, "chi2": chi2, **scatter}
    if keep_curves:
        out["v_pred"] = curves
    return out


def _fused_sigma(prep: Prepared, params: dict[str, Any], flat: dict[str, np.ndarray], n_grid: int):
    """Run the numba loop when the kernel/switches allow it; None otherwise."""
    if prep.kernel.name != "sigma" or params["window"] == "c_local" or params["amplitude_mode"] != "unified":
        return None
    from sigcube.kernels.fused import sigma_power_reduce

    grid = {k: np.broadcast_to(flat.get(k, params[k]), (n_grid,)).astype(float)
            for k in ("A0", "D", "L", "L0", "n", "k", "g_dagger", "window_exponent")}
    grid["window_exponent"] = np.broadcast_to(window_power(params["window"], grid["window_exponent"]), (n_grid,))
    A = np.ascontiguousarray(amplitude(grid["A0"], grid["D"], grid["L"], grid["L0"], grid["n"]))
    pts = prep.points
    p = pts.inputs
    return sigma_power_reduce(
        p["r"], p["v_bar"], p["v_obs"], prep.inv_e, p["g_N"], prep.log_obs_bar,
        pts.per_galaxy(f"R_d_{params['rd_source']}"), pts.offsets,
        A, np.ascontiguousarray(grid["k"]), np.ascontiguousarray(grid["g_dagger"]),
        np.ascontiguousarray(grid["window_exponent"]),
    )
