"""Evaluate a kernel over one block of the grid and reduce it to metrics.

:class:`Prepared` holds what every block shares (the packed points, the kernel, its fixed
parameters, the baseline's per-object RMS). :func:`reduce_block` returns only reductions — the
per-object and global metrics of :mod:`sigcube.metrics` — never the point × grid array, unless
``keep_curves`` asks for the predicted velocities.

A kernel with a :class:`~sigcube.kernels.registry.FastReduce` that applies to the block's
switches runs through it (the canonical Σ kernel's numba loop); every other kernel and switch
runs through the kernel's own numpy function in sub-batches of bounded memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sigcube import metrics
from sigcube.kernels import Kernel
from sigcube.sample import PointSet

SUB_BATCH_ELEMENTS = 2_000_000
"""Grid points × points per numpy sub-batch (≈ 16 MB per temporary array)."""


@dataclass(frozen=True)
class Prepared:
    """Block-independent inputs of a sweep, computed once and shipped to every worker."""

    points: PointSet
    kernel: Kernel
    fixed: dict[str, Any]
    baseline_rms: np.ndarray | None
    """Per-object RMS of the baseline kernel [km/s]; None: no ``win_rate``."""

    @classmethod
    def build(cls, points: PointSet, kernel: Kernel, fixed: dict[str, Any], baseline: Kernel | None) -> Prepared:
        p = points.inputs
        rms = None if baseline is None else metrics.object_metrics(
            baseline(p), p["v_obs"], p["e_v_obs"], points.offsets, ["rms"])["rms"]
        return cls(points=points, kernel=kernel, fixed=dict(fixed), baseline_rms=rms)


def reduce_block(prep: Prepared, block_params: dict[str, Any], keep_curves: bool = False) -> dict[str, np.ndarray]:
    """Every metric for every grid point of a block.

    ``block_params`` maps each swept parameter to an array broadcastable to the block's shape
    (a switch to one string). Returns arrays of shape ``block_shape`` (global metrics) and
    ``block_shape + (n_objects,)`` (``rms``, ``chi2``); with ``keep_curves`` also ``v_pred`` of
    shape ``block_shape + (n_points,)``.
    """
    numeric = {k: np.asarray(v, dtype=float) for k, v in block_params.items() if not isinstance(v, str)}
    shape = np.broadcast_shapes(*(v.shape for v in numeric.values())) if numeric else ()
    flat = {k: np.broadcast_to(v, shape).ravel() for k, v in numeric.items()}
    switches = {k: v for k, v in block_params.items() if isinstance(v, str)}
    params = prep.kernel.resolve({**prep.fixed, **switches})
    n_grid = int(np.prod(shape))
    fast = prep.kernel.fast_reduce
    out: dict[str, np.ndarray] = {}
    if fast is not None and not keep_curves and fast.applies(params):
        rms, chi2, sum_x, sum_xx = fast.reduce(prep.points, params, flat, n_grid)
    else:
        rms, chi2, sum_x, sum_xx, curves = _numpy_path(prep, params, flat, n_grid, keep_curves)
        if keep_curves:
            out["v_pred"] = curves
    parts = metrics.partials(rms, chi2, prep.points.offsets, sum_x, sum_xx, prep.baseline_rms)
    out.update(metrics.finalize(parts), rms=rms, chi2=chi2)
    return {k: v.reshape(shape + v.shape[1:]) for k, v in out.items()}


def _numpy_path(prep: Prepared, params: dict[str, Any], flat: dict[str, np.ndarray], n_grid: int,
                keep_curves: bool) -> tuple[np.ndarray, ...]:
    """The kernel's numpy function on sub-batches of grid points: RMS, χ², Σx, Σx² (and V_pred)."""
    pts = prep.points
    p = pts.inputs
    n = pts.n_points
    rms = np.empty((n_grid, pts.n_galaxies))
    chi2 = np.empty_like(rms)
    sum_x, sum_xx = np.empty(n_grid), np.empty(n_grid)
    curves = np.empty((n_grid, n)) if keep_curves else None
    step = max(1, SUB_BATCH_ELEMENTS // n)
    for a in range(0, n_grid, step):
        b = min(a + step, n_grid)
        sub = {**params, **{k: v[a:b, None] for k, v in flat.items()}}
        v = np.broadcast_to(prep.kernel.func(p, **sub), (b - a, n))
        per_object = metrics.object_metrics(v, p["v_obs"], p["e_v_obs"], pts.offsets)
        rms[a:b], chi2[a:b] = per_object["rms"], per_object["chi2"]
        sum_x[a:b], sum_xx[a:b] = metrics.log_moments(p["v_obs"], v)
        if keep_curves:
            curves[a:b] = v
    return rms, chi2, sum_x, sum_xx, curves
