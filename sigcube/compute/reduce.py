"""Evaluate a kernel over one block of the grid and reduce it to metrics.

:class:`Prepared` holds what every block shares (the packed points of one chunk of objects, the
kernel, its fixed parameters, the baseline's per-object RMS). :func:`reduce_block` returns only
reductions — the per-object metrics, the chunk's :data:`~sigcube.model.metrics.PARTIALS` and the global
metrics they give — never the point × grid array, unless ``keep_curves`` asks for the predicted
velocities.

A kernel with a fast path (:mod:`sigcube.compute.fast_paths`) that applies to the block (its switches
and swept values) runs through it (the canonical Σ kernel's numba loop, along k); every other block
runs through the generic fast path of :mod:`sigcube.compute.replay` (the kernel's own numpy
function, traced once, replayed on cache-sized sub-batches).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sigcube.compute import replay
from sigcube.compute.fast_paths import fast_reduce_of
from sigcube.model import metrics
from sigcube.model.kernels import Kernel
from sigcube.model.points import PointSet


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


def reduce_block(prep: Prepared, block_params: dict[str, Any], keep_curves: bool = False,
                 chunk_metrics: bool = True) -> dict[str, Any]:
    """Every metric for every grid point of a block, on the chunk of objects of ``prep``.

    ``block_params`` maps each swept parameter to an array broadcastable to the block's shape
    (a switch to one string). Returns arrays of shape ``block_shape`` (the global metrics of this
    chunk alone) and ``block_shape + (n_objects,)`` (``rms``, ``chi2``); under ``partials`` the
    chunk's :func:`sigcube.model.metrics.partials` (sums of shape ``block_shape``, ``chi2_red`` of shape
    ``block_shape + (n_objects,)``, the counts as scalars), which
    ``metrics.finalize(metrics.combine([...]))`` turns into the global metrics of several chunks;
    with ``keep_curves`` also ``v_pred`` of shape ``block_shape + (n_points,)``. ``chunk_metrics=False`` leaves out
    the chunk's own global metrics (a sweep task, which combines partials instead: its median costs a sort).
    """
    numeric = {k: np.asarray(v, dtype=float) for k, v in block_params.items() if not isinstance(v, str)}
    shape = np.broadcast_shapes(*(v.shape for v in numeric.values())) if numeric else ()
    flat = {k: np.broadcast_to(v, shape).ravel() for k, v in numeric.items()}
    switches = {k: v for k, v in block_params.items() if isinstance(v, str)}
    params = prep.kernel.resolve({**prep.fixed, **switches})
    n_grid = int(np.prod(shape))
    fast = fast_reduce_of(prep.kernel)
    curves = np.empty((n_grid, prep.points.n_points)) if keep_curves else None
    if fast is not None and not keep_curves and fast.applies({**params, **flat}):
        rms, chi2, sum_x, sum_xx = fast.reduce(prep.points, params, flat, n_grid)
    else:
        rms, chi2, sum_x, sum_xx = replay.reduce(prep.points, prep.kernel, params, flat, n_grid, curves)
    parts = metrics.partials(rms, chi2, prep.points.offsets, sum_x, sum_xx, prep.baseline_rms)
    out = {**(metrics.finalize(parts) if chunk_metrics else {}), "rms": rms, "chi2": chi2}
    if curves is not None:
        out["v_pred"] = curves
    block = {k: v.reshape(shape + v.shape[1:]) for k, v in out.items()}
    block["partials"] = {k: v if np.ndim(v) == 0 else v.reshape(shape + v.shape[1:]) for k, v in parts.items()}
    return block
