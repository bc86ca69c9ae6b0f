"""Fused evaluate-and-reduce loops for the canonical Σ kernel (numba, releases the GIL).

For a block of grid points :func:`sigma_power_reduce` computes each galaxy's RMS and χ²
and the moments of x = log10(V_obs/V_pred) that give the RAR scatter, without
materialising V_pred over the grid. Work is done in sub-batches of grid points: one
compiled pass writes Σ for the sub-batch into a small (point × grid point) buffer while
reducing RMS and χ², with the grid points innermost so the loops vectorise;
numpy's SIMD ``log`` takes its logarithm in place, and a second compiled pass reduces the
moments. Everything that does not depend on the swept parameters (h(g_N) while g† is
unchanged, log10(V_obs/V_bar), 1/e_V, R_d per galaxy) is computed outside the inner loop.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from sigcube.kernels.sigma import G_FLOOR, XI_FLOOR_KPC

SUB_BATCH_ELEMENTS = 262_144
"""Grid points × points per buffer (2 MiB of float64: stays in cache)."""

_HALF_LOG10_E = 0.5 / math.log(10.0)


@numba.njit(nogil=True, cache=True, fastmath=True)
def _sigma_pass(r, v_bar, v_obs, inv_e, h, rd_gal, offsets, A, k, p, linear, sig, rms_out, chi2_out):  # pragma: no cover
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
            if linear:
                for j in range(nb):
                    sig[i, j] = 1.0 + A[j] * (ri / (xi[j] + ri)) * hi
            else:
                for j in range(nb):
                    sig[i, j] = 1.0 + A[j] * (1.0 - (xi[j] / (xi[j] + ri)) ** p[j]) * hi
            for j in range(nb):
                d = vb * math.sqrt(sig[i, j]) - vo
                ss[j] += d * d
                t = d * ie
                cc[j] += t * t
        for j in range(nb):
            rms_out[j, gal] = math.sqrt(ss[j] / (s1 - s0))
            chi2_out[j, gal] = cc[j]


@numba.njit(nogil=True, cache=True, fastmath=True)
def _moments_pass(log_sig, log_obs_bar, sum_x, sum_xx):  # pragma: no cover
    """Σx and Σx² over points of x = log10(V_obs/V_bar) − ½·log10 Σ, from ``log_sig[i, j]`` = ln Σ."""
    for j in range(sum_x.size):
        sum_x[j] = 0.0
        sum_xx[j] = 0.0
    for i in range(log_sig.shape[0]):
        li = log_obs_bar[i]
        row = log_sig[i]
        for j in range(sum_x.size):
            x = li - _HALF_LOG10_E * row[j]
            sum_x[j] += x
            sum_xx[j] += x * x


@numba.njit(nogil=True, cache=True)
def _h(g_n, g_dagger):  # pragma: no cover
    out = np.empty(g_n.size)
    for i in range(g_n.size):
        gi = max(g_n[i], G_FLOOR)
        out[i] = math.sqrt(g_dagger / gi) * g_dagger / (g_dagger + gi)
    return out


def sigma_power_reduce(r, v_bar, v_obs, inv_e, g_n, log_obs_bar, rd_gal, offsets, A, k, g_dagger, p):
    """Per-galaxy RMS, χ² (n_grid, n_gal) and Σx, Σx² (n_grid) for Σ = 1 + A·W·h.

    Grid points are visited grouped by g† so that h(g_N) is computed once per g† value.
    """
    order = None if np.all(g_dagger == g_dagger[0]) else np.argsort(g_dagger, kind="stable")
    if order is not None:
        A, k, p, g_dagger = (x[order] for x in (A, k, p, g_dagger))
    A, k, p, g_dagger = (np.ascontiguousarray(x, dtype=float) for x in (A, k, p, g_dagger))
    n_grid, n = A.size, r.size
    rms = np.empty((n_grid, offsets.size - 1))
    chi2 = np.empty_like(rms)
    sum_x, sum_xx = np.empty(n_grid), np.empty(n_grid)
    step = max(1, SUB_BATCH_ELEMENTS // n)
    buf = np.empty((n, min(step, n_grid)))
    starts = np.flatnonzero(np.r_[True, g_dagger[1:] != g_dagger[:-1]])
    for lo_run, hi_run in zip(starts, np.r_[starts[1:], n_grid]):
        h = _h(g_n, g_dagger[lo_run])
        for lo in range(lo_run, hi_run, step):
            hi = min(lo + step, hi_run)
            sig = buf if hi - lo == buf.shape[1] else np.empty((n, hi - lo))
            _sigma_pass(r, v_bar, v_obs, inv_e, h, rd_gal, offsets, A[lo:hi], k[lo:hi], p[lo:hi],
                        bool(np.all(p[lo:hi] == 1.0)), sig, rms[lo:hi], chi2[lo:hi])
            np.log(sig, out=sig)
            _moments_pass(sig, log_obs_bar, sum_x[lo:hi], sum_xx[lo:hi])
    if order is None:
        return rms, chi2, sum_x, sum_xx
    inverse = np.empty_like(order)
    inverse[order] = np.arange(n_grid)
    return rms[inverse], chi2[inverse], sum_x[inverse], sum_xx[inverse]


def warm_up() -> None:
    """Load (or compile) the compiled loops now, so the first block is not slowed by it."""
    one = np.ones(2)
    offsets = np.array([0, 2], dtype=np.int64)
    sigma_power_reduce(one, one, one, one, one, one, one[:1], offsets, one[:1], one[:1], one[:1], one[:1])
