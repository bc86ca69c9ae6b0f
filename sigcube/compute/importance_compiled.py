"""One galaxy's joint posterior over its own parameters and its nuisance parameters, compiled: the mode, the
log-integrand at many draws, and the same draws' log-integrand again at other values of the likelihood's parameters.

The coordinates x ∈ ℝ^D (D = k + d) are standard normal deviates of every parameter's prior: the
model's k per-object parameters first, each through its prior map (a table of θ(z) as
:func:`sigcube.compute.quadrature_compiled.tables` makes them), then the galaxy's d nuisance dimensions in the order of
:mod:`sigcube.compute.quadrature_compiled` (Υ_disk, Υ_bul with a bulge, D; the inclination, or the velocity scale u
under τ_gal, last). The prior is N(0, I) and the log-integrand is

    ℓ(x) = ln L(θ(x)) − ½|x|² − (D/2)·ln 2π,

ln L evaluated by the quadrature's own functions (:func:`~sigcube.compute.quadrature_compiled._predict_at`,
:func:`~sigcube.compute.quadrature_compiled._state`): the same likelihood, normalisation included, as the grid engine.
σ_int changes only the scatter terms (σ_V² = a + b·V²), the Student-t's ν only the tail weight 1/ν: :func:`reweigh`
evaluates stored draws' predictions at other values of them without running the kernel again. (τ_gal changes only the velocity scale's prior: its callers add the
ratio of that prior's densities at each draw's u, :func:`sigcube.compute.scale_prior.log_densities`.)
"""

from __future__ import annotations

import math

import numba
import numpy as np

from sigcube.compute.quadrature_compiled import (
    FD_STEP, _lookup, _normal_equations, _predict_at, _state, damped_step, galaxy_constants, log_normal_constant,
    newton_converged,
)

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
_INV_FD = 1.0 / FD_STEP


@numba.njit(nogil=True)
def _objective(predict, X, S, a, b, g, x, k, d, dk, codes, tables, ptabs, base, nv, P, inclined, qtab, vo, ie, e2, n,
               sa, sb, tl, ln0, lg, rs, V, r):  # pragma: no cover
    """(F, ln-normalisation) at x: F = −ln L + ½|x|² (the prior's constant left out); V, r left at x's prediction and
    residuals."""
    for j in range(k):
        P[j] = _lookup(ptabs[j], x[j])
    _predict_at(predict, X, S, a, b, g, x[k:], dk, codes, tables, base, nv, P, V)
    f, lognorm = _state(V, x[k:], d, inclined, qtab, vo, ie, e2, a, n, sa, sb, tl, ln0, r, lg, rs)
    for j in range(k):
        f += 0.5 * x[j] * x[j]
    return f, lognorm


@numba.njit(nogil=True)
def _scale_only(V, x, k, d, inclined, qtab, vo, ie, e2, a, n, sa, sb, tl, ln0, lg, rs, r):  # pragma: no cover
    """:func:`_objective` at a prediction ``V`` already made for x's kernel parameters (only x's velocity scale differs)."""
    f, lognorm = _state(V, x[k:], d, inclined, qtab, vo, ie, e2, a, n, sa, sb, tl, ln0, r, lg, rs)
    for j in range(k):
        f += 0.5 * x[j] * x[j]
    return f, lognorm


@numba.njit(nogil=True)
def _descend(predict, X, S, a, b, g, x, k, d, dk, codes, tables, ptabs, base, inclined, qtab, vo, ie, e2, sa, sb, tl, lg,
             tol, max_iter, H):  # pragma: no cover
    """Levenberg–Marquardt on F(x) = −ln L + ½|x|² from ``x`` (moved to the mode in place), forward-difference Jacobians
    of the residuals (the normalisation's gradient by the same differences), steps kept in |x_j| ≤ Z_LIMIT (a
    coordinate on that face with its gradient pointing out is held). Leaves the Gauss–Newton Hessian JᵀJ + I in ``H``;
    returns (F, χ² = Σr² at the mode, converged, iterations, kernel calls). Converged: the Newton decrement ½gᵀH⁻¹g is
    below ``tol``."""
    n = b - a
    dim = k + d
    nv = np.zeros(3)
    P = np.zeros(max(k, 1))
    V = np.empty(n)
    Vt = np.empty(n)
    r = np.empty(n)
    rt = np.empty(n)
    cols = np.empty((dim, n))
    xt = np.empty(dim)
    grad = np.zeros(dim)
    gm = np.zeros(dim)
    step = np.zeros(dim)
    dnorm = np.zeros(dim)
    A = np.zeros((dim, dim))
    L = np.zeros((dim, dim))
    held = np.zeros(dim, dtype=np.bool_)
    rs = np.empty(n)
    ln0, _, ln0g = galaxy_constants(vo, ie, a, b, lg)
    if lg:
        ln0 = log_normal_constant(e2, a, n, sa, sb, ln0g, rs)
    predicted = k + dk  # the coordinates the kernel reads; the velocity scale (last, when inclined) only the data
    f, lognorm = _objective(predict, X, S, a, b, g, x, k, d, dk, codes, tables, ptabs, base, nv, P, inclined, qtab, vo,
                            ie, e2, n, sa, sb, tl, ln0, lg, rs, V, r)
    calls = 1
    lam = 1e-3
    conv = False
    iterations = 0
    while True:
        for jj in range(dim):
            for q in range(dim):
                xt[q] = x[q]
            xt[jj] += FD_STEP
            if jj < predicted:
                _, nj = _objective(predict, X, S, a, b, g, xt, k, d, dk, codes, tables, ptabs, base, nv, P, inclined,
                                   qtab, vo, ie, e2, n, sa, sb, tl, ln0, lg, rs, Vt, rt)
                calls += 1
            else:
                _, nj = _scale_only(V, xt, k, d, inclined, qtab, vo, ie, e2, a, n, sa, sb, tl, ln0, lg, rs, rt)
            for i in range(n):
                cols[jj, i] = (rt[i] - r[i]) * _INV_FD
            dnorm[jj] = (nj - lognorm) * _INV_FD
        _normal_equations(cols, r, x, dnorm, dim, n, grad, H)
        conv = newton_converged(x, grad, H, dim, tol, held, gm, A, L, step)
        if conv or iterations >= max_iter:
            break
        iterations += 1
        damped_step(x, H, dim, lam, held, gm, A, L, step, xt)
        ft, lognorm_t = _objective(predict, X, S, a, b, g, xt, k, d, dk, codes, tables, ptabs, base, nv, P, inclined,
                                   qtab, vo, ie, e2, n, sa, sb, tl, ln0, lg, rs, Vt, rt)
        calls += 1
        if ft <= f:
            for q in range(dim):
                x[q] = xt[q]
            for i in range(n):
                V[i] = Vt[i]
                r[i] = rt[i]
            f = ft
            lognorm = lognorm_t
            lam = max(lam * 0.2, 1e-7)
        else:
            lam = min(lam * 10.0, 1e7)
    chi2 = 0.0
    for i in range(n):
        chi2 += r[i] * r[i]
    return f, chi2, conv, iterations, calls


@numba.njit(nogil=True, cache=True)
def _modes(predict, X, S, offsets, vo, ie, e2, codes, n_dims, tables, ptabs, base, inclined, qtabs, k, starts, sa, sb,
           tl, lg, tol, max_iter, out_x, out_f, out_chi2, out_h, out_conv, out_calls):  # pragma: no cover
    """Every galaxy's descent from each of its starts: ``starts`` (G, S, D) → ``out_x`` (G, S, D), ``out_f`` (G, S),
    ``out_chi2`` (G, S), ``out_h`` (G, S, D, D), ``out_conv`` (G, S), ``out_calls`` (G, S)."""
    for g in range(offsets.size - 1):
        d = n_dims[g]
        dk = d - 1 if inclined else d
        dim = k + d
        x = np.empty(dim)
        Hg = np.zeros((dim, dim))
        for s in range(starts.shape[1]):
            for q in range(dim):
                x[q] = starts[g, s, q]
            f, chi2, conv, _, calls = _descend(predict, X, S, offsets[g], offsets[g + 1], g, x, k, d, dk, codes,
                                               tables, ptabs, base, inclined, qtabs[g], vo, ie, e2, sa, sb, tl, lg, tol,
                                               max_iter, Hg)
            for q in range(dim):
                out_x[g, s, q] = x[q]
                for q2 in range(dim):
                    out_h[g, s, q, q2] = Hg[q, q2]
            out_f[g, s] = f + dim * _HALF_LOG_2PI
            out_chi2[g, s] = chi2
            out_conv[g, s] = conv
            out_calls[g, s] = calls


@numba.njit(nogil=True, cache=True)
def _draws(predict, X, S, a, b, g, xs, k, d, codes, tables, ptabs, base, inclined, qtab, vo, ie, e2, sa, sb, tl, lg,
           keep, out_ll, out_v):  # pragma: no cover
    """ℓ(x) at every draw ``xs`` (N, D) into ``out_ll``; with ``keep``, each draw's prediction into ``out_v`` (N, n)."""
    n = b - a
    dk = d - 1 if inclined else d
    dim = k + d
    nv = np.zeros(3)
    P = np.zeros(max(k, 1))
    V = np.empty(n)
    r = np.empty(n)
    rs = np.empty(n)
    ln0, _, ln0g = galaxy_constants(vo, ie, a, b, lg)
    if lg:
        ln0 = log_normal_constant(e2, a, n, sa, sb, ln0g, rs)
    for j in range(xs.shape[0]):
        f, _ = _objective(predict, X, S, a, b, g, xs[j], k, d, dk, codes, tables, ptabs, base, nv, P, inclined, qtab,
                          vo, ie, e2, n, sa, sb, tl, ln0, lg, rs, V, r)
        out_ll[j] = -f - dim * _HALF_LOG_2PI if f == f else -np.inf
        if keep:
            for i in range(n):
                out_v[j, i] = V[i]


@numba.njit(nogil=True, cache=True)
def _reweigh(V, xs, k, d, inclined, qtab, a, b, vo, ie, e2, sa, sb, tl, lg, out_ll):  # pragma: no cover
    """ℓ at every stored draw (predictions ``V`` (N, n), coordinates ``xs`` (N, D), velocity scales through the one map
    ``qtab``) for each of M settings ``sa``, ``sb``, ``tl`` (M,) → ``out_ll`` (M, N)."""
    n = b - a
    dim = k + d
    r = np.empty(n)
    rs = np.empty(n)
    ln0c, _, ln0g = galaxy_constants(vo, ie, a, b, lg)
    for m in range(sa.size):
        ln0 = log_normal_constant(e2, a, n, sa[m], sb[m], ln0g, rs) if lg else ln0c
        for j in range(xs.shape[0]):
            f, _ = _scale_only(V[j], xs[j], k, d, inclined, qtab, vo, ie, e2, a, n, sa[m], sb[m], tl[m], ln0, lg, rs, r)
            out_ll[m, j] = -f - dim * _HALF_LOG_2PI if f == f else -np.inf


def modes(predict, X, S, offsets, vo, ie, e2, codes, n_dims, tables, ptabs, base, inclined, qtabs, k, starts, sa, sb,
          tl, lg, tol=1e-6, max_iter=60):
    """Every galaxy's Levenberg–Marquardt descent from each of its ``starts`` (G, S, D) at one setting of the likelihood
    (scatter terms ``sa``, ``sb``, tail weight ``tl`` = 1/ν; each galaxy's velocity-scale table ``qtabs[g]``; the per-object parameters' prior
    maps ``ptabs`` (k, TABLE_SIZE, 2), shared): (x̂ (G, S, D), F̂ = −ℓ(x̂) (G, S), χ² at x̂ (G, S), the Gauss–Newton
    Hessians (G, S, D, D), converged (G, S), kernel calls (G, S)). A galaxy with fewer dimensions than D leaves the
    rest of its columns NaN."""
    g_count, s_count, dim = starts.shape
    out_x = np.full((g_count, s_count, dim), np.nan)
    out_f = np.full((g_count, s_count), np.nan)
    out_chi2 = np.full((g_count, s_count), np.nan)
    out_h = np.full((g_count, s_count, dim, dim), np.nan)
    out_conv = np.zeros((g_count, s_count), dtype=np.bool_)
    out_calls = np.zeros((g_count, s_count), dtype=np.int64)
    _modes(predict, X, S, offsets, vo, ie, e2, codes, n_dims, tables, ptabs, base, inclined, qtabs, k,
           np.ascontiguousarray(starts, dtype=float), float(sa), float(sb), float(tl), lg, tol, max_iter, out_x, out_f, out_chi2,
           out_h, out_conv, out_calls)
    return out_x, out_f, out_chi2, out_h, out_conv, out_calls


def draws(predict, X, S, a, b, g, xs, k, d, codes, tables, ptabs, base, inclined, qtab, vo, ie, e2, sa, sb, tl, lg,
          keep: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """ℓ at each draw ``xs`` (N, D) of galaxy g (points a:b), and with ``keep`` the draws' predictions (N, n)."""
    xs = np.ascontiguousarray(xs, dtype=float)
    out_ll = np.empty(xs.shape[0])
    out_v = np.empty((xs.shape[0], b - a) if keep else (0, 0))
    _draws(predict, X, S, a, b, g, xs, k, d, codes, tables, ptabs, base, inclined, qtab, vo, ie, e2, float(sa),
           float(sb), float(tl), lg, keep, out_ll, out_v)
    return out_ll, (out_v if keep else None)


def reweigh(V, xs, k, d, inclined, qtab, a, b, vo, ie, e2, sa, sb, tl, lg) -> np.ndarray:
    """ℓ (M, N) of stored draws at M settings of the scatter terms and the tail weight (each (M,)), their velocity scales through ``qtab`` (:func:`_reweigh`)."""
    sa = np.ascontiguousarray(sa, dtype=float).reshape(-1)
    out = np.empty((sa.size, xs.shape[0]))
    _reweigh(np.ascontiguousarray(V), np.ascontiguousarray(xs, dtype=float), k, d, inclined, np.ascontiguousarray(qtab),
             a, b, vo, ie, e2, sa, np.ascontiguousarray(sb, dtype=float).reshape(-1),
             np.broadcast_to(np.asarray(tl, dtype=float).reshape(-1), sa.shape).copy(), lg, out)
    return out
