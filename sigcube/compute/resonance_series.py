"""The resonance kernel's evaluate-and-reduce loop for sweeps along α (numba, releases the GIL).

Per point the integral is I(α) = θ_max·Σ_k window_k·exp(α·slope_k + cut_k) over the 64 nodes, with θ_max, window,
slope and cut independent of α (:func:`sigcube.model.kernels.resonance.node_tables`, computed once per block). The α
values of a block form an arithmetic progression α_j = α_0 + j·Δ, taken in runs of consecutive values around a
centre α_c. With slope_k = s̄ + d_k (s̄ the midpoint of the point's slopes) and α = α_c + y,

    I(α) = θ_max·e^(α·s̄)·Σ_k C_k·e^(y·d_k) = θ_max·e^(α·s̄)·Σ_n M_n·y^n,
    C_k = window_k·e^(α_c·d_k + cut_k),   M_n = Σ_k C_k·d_k^n/n!

so per run and point there are 64 exponentials (a true restart at the exact α_c) and the moments M_0 … M_16, and
per α a polynomial of degree :data:`SERIES_DEGREE` in the exact y (16 multiply-adds instead of 64 exponentials)
times e^(α·s̄), one multiply on from the previous α's (a true exponential at each run's first α). A point's terms
all have one sign, so the series cut after y^16 errs by less than X^17/17!·e^(2X) relative, X = max|y|·max|d_k|;
runs are as long as keeps X ≤ :data:`RUN_RADIUS`.

For a block, :func:`progression_reduce` takes the objects in tiles of whole objects; per tile and run it fills I
(α × points) in a small buffer, then, a sub-batch of grid points at a time, V = V_bar·√(1 + A_res·I) and the
generic path's reduction (:func:`sigcube.compute.replay.reduce_rows`: per-object RMS and χ², Σx and Σx² of
x = log10(V_obs/V)). Nothing of size grid × points (let alone × nodes) is allocated. :data:`FAST_REDUCE` declares it
as the resonance kernel's fast path (:mod:`sigcube.compute.fast_paths`); ``tests/model/kernels/test_resonance.py``
checks it against the kernel's numpy formula.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

import numba
import numpy as np

from sigcube.compute import vecmath
from sigcube.compute.replay import ROWS, SUB_BATCH_ELEMENTS, Observed, reduce_rows
from sigcube.model.kernels.registry import FastReduce
from sigcube.model.metrics import Reduction
from sigcube.model.kernels.resonance import arithmetic_step, node_tables, quality_factor
from sigcube.model.points import PointSet
from sigcube.model.segments import object_tiles

SERIES_DEGREE = 16
"""Degree of the power series in y = α − α_c."""

RUN_RADIUS = 0.7
"""Largest X = max|α − α_c|·max_k|slope_k − s̄| of a run: the series is cut with a relative error below
X^17/17!·e^(2X) < 3e-17, and its rounding errors grow by at most e^(2X) ≈ 4."""

RUN_MAX = 1024
"""Most α values per run: e^(α·s̄) is stepped this often from one true exponential (≲ 2e-13 relative)."""

TILE_POINTS = 256
"""Points per tile (whole objects; a larger object alone): its tables and (RUN_MAX × points) buffer stay in cache."""

_PASS = 4
"""α values per pass of :func:`_series` (rows of its output come in multiples of it)."""

_FLAGS = {"reassoc", "contract"}
"""Reassociation for vectorised sums, fused multiply-add; NaN and ∞ keep their meaning. A loop that sums stores
nothing (why: :data:`sigcube.compute.quadrature_compiled._FLAGS`)."""


@numba.njit("void(f8[:, ::1], f8[:, ::1], f8[:, ::1])", nogil=True, cache=True, fastmath=_FLAGS)
def _moments(C, d, out):  # pragma: no cover
    """``out[n, p]`` = M_n = Σ_k C[p, k]·d[p, k]^n/n! for n ≤ SERIES_DEGREE (the nodes innermost: it vectorises)."""
    nodes = C.shape[1]
    t = np.empty(nodes)
    for p in range(C.shape[0]):
        dp = d[p]
        for k in range(nodes):
            t[k] = C[p, k]
        for n in range(SERIES_DEGREE + 1):
            s = 0.0
            for k in range(nodes):
                s += t[k]
            out[n, p] = s
            inv = 1.0 / (n + 1)
            for k in range(nodes):
                t[k] = t[k] * dp[k] * inv


@numba.njit("void(f8[:, ::1], f8[::1], f8[::1], f8[::1], f8[:, ::1])", nogil=True, cache=True, fastmath=_FLAGS)
def _series(moments, y, scale, ratio, out):  # pragma: no cover
    """``out[j, p]`` = scale[p]·ratio[p]^j·Σ_n moments[n, p]·y[j]^n for the rows j of ``out`` (a multiple of 4, at most
    ``y.size``); ``scale`` is left at scale·ratio^rows. Horner's rule for four α at once, the points innermost."""
    for j in range(0, out.shape[0], _PASS):
        y0 = y[j]
        y1 = y[j + 1]
        y2 = y[j + 2]
        y3 = y[j + 3]
        o0 = out[j]
        o1 = out[j + 1]
        o2 = out[j + 2]
        o3 = out[j + 3]
        for p in range(out.shape[1]):
            a0 = a1 = a2 = a3 = moments[SERIES_DEGREE, p]
            for n in range(SERIES_DEGREE - 1, -1, -1):
                m = moments[n, p]
                a0 = a0 * y0 + m
                a1 = a1 * y1 + m
                a2 = a2 * y2 + m
                a3 = a3 * y3 + m
            r = ratio[p]
            c = scale[p]
            o0[p] = c * a0
            c *= r
            o1[p] = c * a1
            c *= r
            o2[p] = c * a2
            c *= r
            o3[p] = c * a3
            scale[p] = c * r


@numba.njit("void(f8[:, ::1], i8[::1], i8, f8[::1], f8[::1], f8[:, ::1])", nogil=True, cache=True, fastmath=_FLAGS)
def _velocities(integral, index, first, amplitude, v_bar, out):  # pragma: no cover
    """V_pred = V_bar·√(1 + A_res·I) [km/s] into ``out[j]`` for grid point j: A_res = amplitude[j] and
    I = integral[index[j] − first] (``integral`` holds the α values from the ``first``-th on)."""
    for j in range(out.shape[0]):
        ii = integral[index[j] - first]
        a = amplitude[j]
        for i in range(out.shape[1]):
            out[j, i] = v_bar[i] * math.sqrt(1.0 + a * ii[i])


def run_length(step: float, spread: float) -> int:
    """α values per run (odd, at most :data:`RUN_MAX`) for a progression of step Δ = ``step`` and slopes within
    ± ``spread`` of their midpoints: ⌊run/2⌋·Δ·spread ≤ :data:`RUN_RADIUS`."""
    reach = step * spread
    return RUN_MAX if reach * RUN_MAX <= 2.0 * RUN_RADIUS else 2 * int(RUN_RADIUS / reach) + 1


def _runs(tables: tuple[np.ndarray, ...], alphas: np.ndarray, step: float) -> Iterator[tuple[int, int, np.ndarray]]:
    """(first, n, I) for each run of the α values ``alphas`` (a progression of step ``step``) on one tile: I[j, p] is
    the integral at α = alphas[first + j] for j < n and the tile's point p (``tables``: :func:`node_tables`'s)."""
    theta_max, window, slope, cut = tables
    top, bottom = slope.max(axis=1), slope.min(axis=1)
    mid = 0.5 * (top + bottom)
    d = slope - mid[:, None]
    half = 0.5 * (top - bottom)
    run = run_length(step, float(np.max(half[np.isfinite(half)], initial=0.0)))
    ratio = np.exp(step * mid)
    integral = np.empty((-(-min(run, alphas.size) // _PASS) * _PASS, slope.shape[0]))
    moments = np.empty((SERIES_DEGREE + 1, slope.shape[0]))
    y = np.zeros(integral.shape[0])
    for first in range(0, alphas.size, run):
        n = min(run, alphas.size - first)
        centre = alphas[first + (n - 1) // 2]
        _moments(window * np.exp(centre * d + cut), d, moments)
        y[:n] = alphas[first:first + n] - centre
        y[n:] = 0.0
        _series(moments, y, theta_max * np.exp(alphas[first] * mid), ratio, integral[:-(-n // _PASS) * _PASS])
        yield first, n, integral


def progression_reduce(points: PointSet, params: Mapping[str, Any], grid: Mapping[str, np.ndarray],
                       n_grid: int) -> Reduction:
    """The :class:`~sigcube.model.metrics.Reduction` of ``resonance`` over ``n_grid`` grid points whose α values
    (``grid["alpha"]``) form an arithmetic progression, with A_res fixed or swept (``grid["A_res"]``) and every
    other parameter fixed (``params``)."""
    alphas, index = np.unique(grid["alpha"], return_inverse=True)
    step = arithmetic_step(alphas)
    if step is None:
        raise ValueError("resonance's fast path needs α values in an arithmetic progression")
    order = np.argsort(index.reshape(-1), kind="stable")  # grid points by α: a run's grid points are one range
    index = np.ascontiguousarray(index.reshape(-1)[order], dtype=np.int64)
    amplitude = np.ascontiguousarray(np.broadcast_to(grid.get("A_res", params["A_res"]), (n_grid,))[order], dtype=float)
    p = points.inputs
    r, v_bar = (np.ascontiguousarray(p[name], dtype=float) for name in ("r", "v_bar"))
    Q = np.asarray(quality_factor(p, params["sigma_gas"], params["sigma_disk"], params["sigma_bulge"]), dtype=float)
    obs = Observed.of(points)
    offsets = np.asarray(points.offsets, dtype=np.int64)
    rms = np.empty((n_grid, points.n_galaxies))
    chi2 = np.empty_like(rms)
    sum_x, sum_xx = np.zeros(n_grid), np.zeros(n_grid)
    for g0, g1 in object_tiles(offsets, TILE_POINTS):
        p0, p1 = int(offsets[g0]), int(offsets[g1])
        rows = min(max(ROWS, SUB_BATCH_ELEMENTS // max(p1 - p0, 1) // ROWS * ROWS), n_grid)
        v, log_v = np.empty((rows, p1 - p0)), np.empty((rows, p1 - p0))
        off = offsets[g0:g1 + 1] - p0
        v_obs, inv_e, log10_obs = (a[p0:p1] for a in (obs.v_obs, obs.inv_e, obs.log10_obs))
        tables = node_tables(r[p0:p1], Q[p0:p1], params["lambda_cut"], params["span"])
        for first, n, integral in _runs(tables, alphas, step):
            start, stop = np.searchsorted(index, (first, first + n))
            for a in range(start, stop, rows):
                b = min(a + rows, stop)
                _velocities(integral, index[a:b], first, amplitude[a:b], v_bar[p0:p1], v[:b - a])
                vecmath.apply(np.log, v[:b - a], log_v[:b - a])
                reduce_rows(v[:b - a], log_v[:b - a], v_obs, inv_e, log10_obs, off, rms[a:b, g0:g1],
                             chi2[a:b, g0:g1], sum_x[a:b], sum_xx[a:b])
    unsorted = tuple(np.empty_like(x) for x in (rms, chi2, sum_x, sum_xx))
    for out, x in zip(unsorted, (rms, chi2, sum_x, sum_xx)):
        out[order] = x
    return Reduction(*unsorted)


def applies(params: Mapping[str, Any]) -> bool:
    """Where this path applies: α swept over an arithmetic progression (a linspace axis), nothing else swept but
    A_res, which only scales K (``params`` carries swept parameters as arrays)."""
    swept = {name for name, value in params.items() if not isinstance(value, str) and np.ndim(value)}
    return "alpha" in swept and swept <= {"alpha", "A_res"} and arithmetic_step(np.unique(params["alpha"])) is not None


FAST_REDUCE = FastReduce(applies, progression_reduce)
"""The resonance kernel's fast path in sweeps (its loops compile when this module is imported: explicit signatures)."""
