"""The canonical Σ kernel's evaluate-and-reduce loop for sweeps along ξ (numba, releases the GIL).

For a block of grid points :func:`sigma_linear_reduce` computes each galaxy's RMS and χ² and the
moments of x = log10(V_obs/V_pred) that give the RAR scatter for Σ = 1 + A·r/(ξ+r)·h(g_N),
ξ = max(k·R_d, 0.01 kpc), without materialising V_pred over the grid. Work is done in sub-batches
of grid points: one compiled pass writes Σ for the sub-batch into a small (point × grid point)
buffer while reducing RMS and χ², with the grid points innermost so the loops vectorise; a second
compiled pass takes its logarithm in place (:mod:`sigcube.compute.vecmath`, SIMD) and a third reduces the
moments. The whole loop is one compiled call that holds no GIL (a sweep's writes and reads ahead run
beside it on other threads). What does not depend on the grid (h(g_N), log10(V_obs/V_bar), 1/e_V, R_d per galaxy) is computed once.

It pays where ξ changes from one grid point to the next (a swept k): where it does not, the generic
path of :mod:`sigcube.compute.replay` computes the window once per block and is faster (:func:`applies`).
:data:`FAST_REDUCE` declares the loop as the Σ kernel's fast path (:mod:`sigcube.compute.fast_paths`);
``tests/compute/test_replay.py`` checks it against the kernel's numpy formula.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numba
import numpy as np

from sigcube.compute.vecmath import log_in_place
from sigcube.model.inputs import rd_input
from sigcube.model.kernels.registry import FastReduce
from sigcube.model.metrics import Reduction
from sigcube.model.kernels.sigma import XI_FLOOR_KPC, amplitude, h_function
from sigcube.model.points import PointSet
from sigcube.model.segments import object_tiles

SUB_BATCH_ELEMENTS = 262_144
"""Grid points × points per buffer (2 MiB of float64: stays in cache)."""
TILE_POINTS = 4096
"""Points per tile of whole galaxies: sub-batches of ≥ 64 grid points whatever the object chunk's size."""

_HALF_LOG10_E = 0.5 / math.log(10.0)


@numba.njit(nogil=True, fastmath=True)
def _sigma_pass(r, v_bar, v_obs, inv_e, h, rd_gal, offsets, A, k, sig, rms_out, chi2_out):  # pragma: no cover
    """Σ into ``sig[i, j]`` for point i and grid point j of the sub-batch; per-galaxy RMS and χ².

    The innermost loop runs over the sub-batch's grid points, so it is long and vectorises.
    """
    nb = A.size
    xi = np.empty(nb)
    ss = np.empty(nb)
    cc = np.empty(nb)
    for gal in range(offsets.size - 1):
        s0 = offsets[gal]
        s1 = offsets[gal + 1]
        for j in range(nb):
            xi[j] = max(k[j] * rd_gal[gal], XI_FLOOR_KPC)
            ss[j] = 0.0
            cc[j] = 0.0
        for i in range(s0, s1):
            ri = r[i]
            hi = h[i]
            vb = v_bar[i]
            vo = v_obs[i]
            ie = inv_e[i]
            for j in range(nb):
                sig[i, j] = 1.0 + A[j] * (ri / (xi[j] + ri)) * hi
            for j in range(nb):
                d = vb * math.sqrt(sig[i, j]) - vo
                ss[j] += d * d
                t = d * ie
                cc[j] += t * t
        for j in range(nb):
            rms_out[j, gal] = math.sqrt(ss[j] / (s1 - s0))
            chi2_out[j, gal] = cc[j]


@numba.njit(nogil=True, fastmath=True)
def _moments_pass(log_sig, log_obs_bar, sum_x, sum_xx):  # pragma: no cover
    """Σx and Σx² over points of x = log10(V_obs/V_bar) − ½·log10 Σ, from ``log_sig[i, j]`` = ln Σ, added to
    ``sum_x``, ``sum_xx``."""
    for i in range(log_sig.shape[0]):
        li = log_obs_bar[i]
        row = log_sig[i]
        for j in range(sum_x.size):
            x = li - _HALF_LOG10_E * row[j]
            sum_x[j] += x
            sum_xx[j] += x * x


@numba.njit(nogil=True, cache=True)
def _reduce_tiles(r, v_bar, v_obs, inv_e, h, log_obs_bar, rd_gal, offsets, tiles, A, k, step, buf, rms, chi2,
                  sum_x, sum_xx):  # pragma: no cover
    """Every tile (rows of ``tiles``: galaxies [g0, g1)) × sub-batch of ``step`` grid points, in one call that
    holds no GIL: threads writing or reading beside it do not make it wait at each sub-batch."""
    n_grid = A.size
    for t in range(tiles.shape[0]):
        g0, g1 = tiles[t, 0], tiles[t, 1]
        p0, p1 = offsets[g0], offsets[g1]
        local = offsets[g0:g1 + 1] - p0
        for lo in range(0, n_grid, step):
            hi = min(lo + step, n_grid)
            sig = buf[:(p1 - p0) * (hi - lo)].reshape((p1 - p0, hi - lo))
            _sigma_pass(r[p0:p1], v_bar[p0:p1], v_obs[p0:p1], inv_e[p0:p1], h[p0:p1], rd_gal[g0:g1], local,
                        A[lo:hi], k[lo:hi], sig, rms[lo:hi, g0:g1], chi2[lo:hi, g0:g1])
            log_in_place(buf[:(p1 - p0) * (hi - lo)])
            _moments_pass(sig, log_obs_bar[p0:p1], sum_x[lo:hi], sum_xx[lo:hi])


def sigma_linear_reduce(r, v_bar, v_obs, inv_e, h, log_obs_bar, rd_gal, offsets, A, k):
    """Per-galaxy RMS, χ² (n_grid, n_gal) and Σx, Σx² (n_grid) for Σ = 1 + A·r/(ξ+r)·h, ξ = max(k·R_d, floor);
    ``h`` = h(g_N) per point, ``A`` and ``k`` one value per grid point.

    The points are taken in tiles of whole galaxies (:data:`TILE_POINTS`), so that each sub-batch of the grid is
    long (≥ SUB_BATCH_ELEMENTS / TILE_POINTS grid points: the innermost loops vectorise) however many points the
    object chunk holds."""
    A, k = (np.ascontiguousarray(x, dtype=float) for x in (A, k))
    n_grid = A.size
    offsets = np.asarray(offsets, dtype=np.int64)
    rms = np.empty((n_grid, offsets.size - 1))
    chi2 = np.empty_like(rms)
    sum_x, sum_xx = np.zeros(n_grid), np.zeros(n_grid)
    tiles = np.array(object_tiles(offsets, TILE_POINTS), dtype=np.int64).reshape(-1, 2)
    width = max((int(offsets[g1] - offsets[g0]) for g0, g1 in tiles), default=0)
    step = max(1, SUB_BATCH_ELEMENTS // max(width, 1))
    buf = np.empty(min(step, n_grid) * width)
    inputs = (np.ascontiguousarray(a, dtype=float) for a in (r, v_bar, v_obs, inv_e, h, log_obs_bar, rd_gal))
    _reduce_tiles(*inputs, offsets, tiles, A, k, step, buf, rms, chi2, sum_x, sum_xx)
    return Reduction(rms, chi2, sum_x, sum_xx)


def warm_up() -> None:
    """Load (or compile) the compiled loops now, so the first block is not slowed by it."""
    one = np.ones(2)
    offsets = np.array([0, 2], dtype=np.int64)
    sigma_linear_reduce(one, one, one, one, one, one, one[:1], offsets, one[:1], one[:1])


def applies(params: Mapping[str, Any]) -> bool:
    """Where the loop (linear window, unified amplitude) is the fastest path: ξ varies over the block (a swept k;
    ``params`` carries swept parameters as arrays) and g† does not. Elsewhere the generic path, which computes the
    window and h(g_N) once per block, is faster (``bench/kernel_throughput.py``)."""
    if params["window"] != "linear" or params["amplitude_mode"] != "unified":
        return False
    k, g_dagger = np.asarray(params["k"]), np.asarray(params["g_dagger"])
    return bool(k.size > 1 and np.any(k != k.flat[0]) and np.all(g_dagger == g_dagger.flat[0]))


def reduce(points: PointSet, params: Mapping[str, Any], grid: Mapping[str, np.ndarray], n_grid: int) -> Reduction:
    """The block's reductions by :func:`sigma_linear_reduce`, its inputs from the Σ kernel's own pieces."""
    flat = {k: np.broadcast_to(grid.get(k, params[k]), (n_grid,)).astype(float)
            for k in ("A0", "D", "L", "L0", "n", "k", "g_dagger")}
    p = points.inputs
    return sigma_linear_reduce(
        p["r"], p["v_bar"], p["v_obs"], 1.0 / p["e_v_obs"], h_function(p["g_N"], flat["g_dagger"][0]),
        np.log10(p["v_obs"] / p["v_bar"]), points.per_galaxy(rd_input(params["rd_source"])), points.offsets,
        amplitude(flat["A0"], flat["D"], flat["L"], flat["L0"], flat["n"]), flat["k"],
    )


FAST_REDUCE = FastReduce(applies, reduce, warm_up)
"""The Σ kernel's fast path in sweeps."""
