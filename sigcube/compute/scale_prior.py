"""The prior of a galaxy's velocity scale u = (sin i/sin i0)·s_g, ln s_g ~ N(0, τ²), tabulated as its quantile map.

The likelihood depends on the inclination i and on the galaxy-level offset s_g only through u
(:mod:`sigcube.stats.likelihood`), so the two integrate as one variable. With h(z) = ln(sin i(z)/sin i0) the
inclination prior's image in ln u (z its normal deviate; h ≡ 0 when i is held at the catalogue value), and e a second
standard normal deviate,

    y = ln u = h(z) + τ·e,      F(y) = P(h(Z) + τE ≤ y).

The quadrature integrates in the normal deviate of u's prior, ζ = Φ⁻¹(F(y)), so what it needs is the quantile map
y(ζ) = F⁻¹(Φ(ζ)) and dy/dζ = φ(ζ)/f(y) (f = F') on the table grid of :mod:`sigcube.compute.quadrature_compiled`
(:data:`~sigcube.compute.quadrature_compiled.TABLE_STEP` over ±:data:`~sigcube.compute.quadrature_compiled.TABLE_LIMIT`).

F is computed in coordinates rotated to the line along which y changes fastest at the prior median: with h₁ = h'(0),
σ = √(h₁² + τ²), c = h₁/σ, s = τ/σ, (Z, E) = (c·w − s·v, s·w + c·v) is a rotation, Y(w, v) = h(c·w − s·v) +
τ·(s·w + c·v) increases with w (∂Y/∂w = c·h' + τ·s > 0), and

    F(y) = ∫ φ(v) Φ(w*(y, v)) dv,   f(y) = ∫ φ(v) φ(w*) / ∂_w Y(w*, v) dv,   Y(w*(y, v), v) = y,

exact with one node when h is linear (then y is normal with sd σ) and smooth in v otherwise: the trapezoid rule over
v ∈ ±:data:`V_LIMIT` at :data:`V_STEP` (weights renormalised to 1). w* is found by safeguarded Newton steps, y by Newton
steps on ln F (lower half, ζ < 0) or ln(1 − F) (upper half), each warm-started at the previous table knot. h and h'
come from the inclination's own table by cubic Hermite interpolation, held at its ends.
"""

from __future__ import annotations

import math
import sys

import numba
import numpy as np

from sigcube.compute.quadrature_compiled import TABLE_LIMIT, TABLE_SIZE, TABLE_STEP, _lookup2
from sigcube.stats.likelihood import SCALE_MIN

V_NODES = 24
"""Gauss–Hermite nodes of the integral over v."""
H_MIN = math.log(1e-3)
"""Below this, h = ln(sin i/sin i0) is continued linearly in z in the convolution: the inclination quantiles clipped to
i = 0 (u = 0) by float resolution would otherwise make a cliff in the table (an atom in the prior); a velocity scale
below 10⁻³ has no likelihood, so the prior's shape there does not matter."""
STRIDE = 8
"""The quantile is solved at every this-many knots of the table; the knots between are cubic Hermite interpolants
(error ~(STRIDE·TABLE_STEP)⁴/384 times the fourth derivative of y, ~1e-7 of the scale)."""
Y_TOL = 1e-11
"""Newton on y stops when a step is below this (relative to 1 + |y|)."""
MAX_STEP = 0.5
"""Longest Newton step in y = ln u towards a quantile."""
TAU_MIN = 1e-3
"""The narrowest spread τ_gal [ln V] > 0 the table resolves. Newton's steps on F solve for a quantile of width τ beside
the inclination's own spread; below ~1e-4 they stall for low-inclination priors and the table comes out non-monotonic
or NaN (``tests/compute/test_scale_limits.py`` checks both limits over a grid of inclination priors). A scale this small
is all but none: τ_gal = 0 (no galaxy scale) says the same."""
TAU_MAX = 30.0
"""The widest spread τ_gal [ln V] the table holds. Its ln u spans ±τ·TABLE_LIMIT (±540 at 30), and u = e^y times a
velocity must stay finite in float64 (e^709.8 at most): above τ ≈ 39 the table of u holds infinities, and far above,
the solve divides by zero. A galaxy's velocities scattered by a factor e^30 describe no data."""
_OVERFLOW = math.log(sys.float_info.max)
_SQRT_HALF = math.sqrt(0.5)
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


@numba.njit(nogil=True, cache=True)
def _log_ndtr(x):  # pragma: no cover
    """ln Φ(x) to full relative precision (the asymptotic series below x = −30)."""
    if x > -30.0:
        return math.log(0.5 * math.erfc(-x * _SQRT_HALF))
    x2 = x * x
    return -0.5 * x2 - math.log(-x) - _HALF_LOG_2PI + math.log(1.0 - 1.0 / x2 + 3.0 / (x2 * x2))


@numba.njit(nogil=True, cache=True)
def _h(tab, z):  # pragma: no cover
    """(h, h') at z from a (TABLE_SIZE, 2) table of ln u and d ln u/dz, held (h' = 0) beyond its ends."""
    if z <= -TABLE_LIMIT:
        return tab[0, 0], 0.0
    if z >= TABLE_LIMIT:
        return tab[TABLE_SIZE - 1, 0], 0.0
    value, first, _ = _lookup2(tab, z)
    return value, first


@numba.njit(nogil=True, cache=True)
def _root(tab, y, v, c, s, tau, w):  # pragma: no cover
    """(w*, ∂_w Y there): Y(w*, v) = y by Newton steps from ``w``, bisection where a step leaves the bracket."""
    lo = -np.inf
    hi = np.inf
    slope = tau * s
    for _ in range(200):
        hz, dh = _h(tab, c * w - s * v)
        f = hz + tau * (s * w + c * v) - y
        slope = c * dh + tau * s
        if f > 0.0:
            hi = w
        elif f < 0.0:
            lo = w
        else:
            return w, slope
        step = f / slope
        nxt = w - step
        if not (lo < nxt < hi):
            if lo == -np.inf:
                nxt = hi - 2.0 * max(hi - w, 1.0)
            elif hi == np.inf:
                nxt = lo + 2.0 * max(w - lo, 1.0)
            else:
                nxt = 0.5 * (lo + hi)
        if abs(nxt - w) <= 1e-13 * (1.0 + abs(w)):
            return nxt, slope
        w = nxt
    return w, slope


@numba.njit(nogil=True, cache=True)
def _cdf(tab, y, c, s, tau, vs, lw, ws, upper, lp, ld):  # pragma: no cover
    """(ln F(y), ln f(y)) — ln(1 − F) for ``upper`` — with the roots w*_v updated in ``ws`` (their warm starts);
    ``lp``, ``ld``: scratch."""
    top_p = -np.inf
    top_d = -np.inf
    for k in range(vs.size):
        w, slope = _root(tab, y, vs[k], c, s, tau, ws[k])
        ws[k] = w
        lp[k] = lw[k] + _log_ndtr(-w if upper else w)
        ld[k] = lw[k] - 0.5 * w * w - _HALF_LOG_2PI - math.log(slope)
        top_p = max(top_p, lp[k])
        top_d = max(top_d, ld[k])
    sp = 0.0
    sd = 0.0
    for k in range(vs.size):
        sp += math.exp(lp[k] - top_p)
        sd += math.exp(ld[k] - top_d)
    return top_p + math.log(sp), top_d + math.log(sd)


@numba.njit(nogil=True, cache=True)
def _solve_knot(tab, zeta, y, c, s, tau, vs, lw, ws, lp, ld):  # pragma: no cover
    """(y, dy/dζ) with F(y) = Φ(ζ): Newton steps on ln F (ln(1 − F) for ζ ≥ 0) from ``y``, each at most
    :data:`MAX_STEP` long, bisection where a step leaves the bracket found so far."""
    upper = zeta >= 0.0
    target = _log_ndtr(-zeta if upper else zeta)
    lo = -np.inf
    hi = np.inf
    log_f = 0.0
    for _ in range(200):
        log_p, log_f = _cdf(tab, y, c, s, tau, vs, lw, ws, upper, lp, ld)
        gap = target - log_p if upper else log_p - target  # increases with y
        if gap > 0.0:
            hi = y
        elif gap < 0.0:
            lo = y
        else:
            break
        step = min(max(gap * math.exp(log_p - log_f), -MAX_STEP), MAX_STEP)
        nxt = y - step
        if not (lo < nxt < hi):
            nxt = 0.5 * (lo + hi) if (lo > -np.inf and hi < np.inf) else y - step
        done = abs(nxt - y) <= Y_TOL * (1.0 + abs(y))
        y = nxt
        if done:
            break
    return y, math.exp(-0.5 * zeta * zeta - _HALF_LOG_2PI - log_f)


@numba.njit(nogil=True, cache=True)
def _design_slope(tab, zeta, tau):  # pragma: no cover
    """h'(z*) at the z of the boundary point h(z) + τe = y nearest the origin for the quantile ζ: the root of
    |z|·√(1 + τ²/h'(z)²) = |ζ| between 0 and ζ (bisection to 1e-4 of ζ). The normal there, (h', τ), is the direction in
    which the quantile moves."""
    lo = 0.0
    hi = zeta
    for _ in range(14):
        mid = 0.5 * (lo + hi)
        dh = _h(tab, mid)[1]
        reach = abs(mid) * math.sqrt(1.0 + (tau * tau) / (dh * dh)) if dh > 0.0 else np.inf
        if reach > abs(zeta):
            hi = mid
        else:
            lo = mid
    return _h(tab, 0.5 * (lo + hi))[1]


@numba.njit(nogil=True, cache=True)
def _convolve(h_tabs, tau, vs, lw, out):  # pragma: no cover
    n_v = vs.size
    ws = np.empty(n_v)
    lp = np.empty(n_v)
    ld = np.empty(n_v)
    step = STRIDE * TABLE_STEP
    for g in range(h_tabs.shape[0]):
        tab = h_tabs[g]
        zeta = -TABLE_LIMIT
        for k in range(n_v):
            ws[k] = zeta
        y = _h(tab, 0.0)[0] + math.sqrt(tab[(TABLE_SIZE - 1) // 2, 1] ** 2 + tau * tau) * zeta
        slope = 0.0
        for k in range(0, TABLE_SIZE, STRIDE):
            zeta = -TABLE_LIMIT + k * TABLE_STEP
            if k:
                y += min(slope * step, MAX_STEP)
            h1 = _design_slope(tab, zeta, tau)
            sigma = math.sqrt(h1 * h1 + tau * tau)
            y, slope = _solve_knot(tab, zeta, y, h1 / sigma, tau / sigma, tau, vs, lw, ws, lp, ld)
            out[g, k, 0] = y
            out[g, k, 1] = slope
        # the knots between: cubic Hermite through the solved ones (values and slopes)
        for k in range(0, TABLE_SIZE - 1, STRIDE):
            f0, f1 = out[g, k, 0], out[g, k + STRIDE, 0]
            d0, d1 = step * out[g, k, 1], step * out[g, k + STRIDE, 1]
            for j in range(1, STRIDE):
                t = j / STRIDE
                t2 = t * t
                t3 = t2 * t
                out[g, k + j, 0] = ((2.0 * t3 - 3.0 * t2 + 1.0) * f0 + (t3 - 2.0 * t2 + t) * d0
                                    + (3.0 * t2 - 2.0 * t3) * f1 + (t3 - t2) * d1)
                out[g, k + j, 1] = ((6.0 * t2 - 6.0 * t) * (f0 - f1) + (3.0 * t2 - 4.0 * t + 1.0) * d0
                                    + (3.0 * t2 - 2.0 * t) * d1) / step


def tau_problem(tau: float) -> str | None:
    """Why the velocity scale's prior cannot be tabulated at τ_gal = ``tau`` [ln V] (:data:`TAU_MIN`,
    :data:`TAU_MAX`); None if it can, or if ``tau`` is 0 (no galaxy scale)."""
    if tau == 0.0:
        return None
    if not math.isfinite(tau) or tau < 0:
        return f"τ_gal must be finite and ≥ 0 ln V (got {tau:g})"
    if tau < TAU_MIN:
        return (f"τ_gal = {tau:g} ln V is below {TAU_MIN:g}, the narrowest spread of the galaxy's velocity scale its "
                "tabulated prior resolves beside the inclination's (below ~1e-4 the table breaks down); a scale so "
                "small is all but none: give 0 for none")
    if tau > TAU_MAX:
        return (f"τ_gal = {tau:g} ln V is above {TAU_MAX:g}: the galaxy's velocity scale is tabulated out to "
                f"e^(±{TABLE_LIMIT:g}·τ_gal), which overflows float64 above τ_gal ≈ {_OVERFLOW / TABLE_LIMIT:.0f}, "
                f"and velocities scattered by a factor e^{TAU_MAX:g} describe no data")
    return None


def convolved_table(h_tables: np.ndarray, tau: float) -> np.ndarray:
    """The quantile map of y = h(Z) + τE per galaxy (module docstring): (G, TABLE_SIZE, 2) of y and dy/dζ on the table
    grid, from ``h_tables`` (G, TABLE_SIZE, 2) of h = ln(sin i/sin i0) and dh/dz (zeros: the inclination held).
    ``tau`` > 0 within :func:`tau_problem`'s limits (the options and spec keys that take τ_gal refuse others)."""
    problem = tau_problem(tau) if tau != 0.0 else "τ_gal = 0 has no convolution: use the inclination's own table"
    if problem is not None:
        raise ValueError(problem)
    vs, w = np.polynomial.hermite_e.hermegauss(V_NODES)
    h = np.array(h_tables, dtype=float)
    z = np.linspace(-TABLE_LIMIT, TABLE_LIMIT, TABLE_SIZE)
    for g in range(len(h)):
        low = np.flatnonzero(h[g, :, 0] < H_MIN)
        if len(low):
            k = low[-1] + 1
            h[g, :k, 0] = h[g, k, 0] + h[g, k, 1] * (z[:k] - z[k])
            h[g, :k, 1] = h[g, k, 1]
    out = np.empty((len(h_tables), TABLE_SIZE, 2))
    _convolve(h, float(tau), vs, np.log(w / w.sum()), out)
    return out


def log_table(u_tables: np.ndarray) -> np.ndarray:
    """(ln u, d ln u/dz) from a table of u and du/dz (G, TABLE_SIZE, 2); u held above SCALE_MIN (a quantile clipped to
    i = 0 has u = 0)."""
    u = np.maximum(u_tables[..., 0], SCALE_MIN)
    slope = np.where(u_tables[..., 0] > SCALE_MIN, u_tables[..., 1] / u, 0.0)
    return np.stack([np.log(u), slope], axis=-1)


def exp_table(log_tables: np.ndarray) -> np.ndarray:
    """(u, du/dz) from a table of ln u and d ln u/dz."""
    u = np.exp(log_tables[..., 0])
    return np.stack([u, u * log_tables[..., 1]], axis=-1)


@numba.njit(nogil=True, cache=True)
def _log_density(tab, y):  # pragma: no cover
    """ln f(y) of the variable whose quantile map ``tab`` holds ((TABLE_SIZE, 2) of y(ζ) and dy/dζ): at the ζ with
    y(ζ) = y (bisection over the knots, then Newton on the table's cubic Hermite interpolant), ln φ(ζ) − ln dy/dζ;
    −∞ outside the table's range or where the map is flat."""
    if not (tab[0, 0] <= y <= tab[TABLE_SIZE - 1, 0]):
        return -np.inf
    lo = 0
    hi = TABLE_SIZE - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if tab[mid, 0] <= y:
            lo = mid
        else:
            hi = mid
    z_lo = -TABLE_LIMIT + lo * TABLE_STEP
    span = tab[hi, 0] - tab[lo, 0]
    z = z_lo + (TABLE_STEP * (y - tab[lo, 0]) / span if span > 0 else 0.0)
    for _ in range(30):
        value, first, _ = _lookup2(tab, z)
        if not first > 0:
            return -np.inf
        step = (value - y) / first
        z = min(max(z - step, z_lo), z_lo + TABLE_STEP)
        if abs(step) < 1e-13:
            break
    _, first, _ = _lookup2(tab, z)
    if not first > 0:
        return -np.inf
    return -0.5 * z * z - _HALF_LOG_2PI - math.log(first)


@numba.njit(nogil=True, cache=True)
def _log_densities(tables, index, y, out):  # pragma: no cover
    for m in range(index.size):
        for k in range(y.size):
            out[m, k] = _log_density(tables[index[m]], y[k])


def log_densities(tables: np.ndarray, index: np.ndarray, y: np.ndarray) -> np.ndarray:
    """ln f(y) (M, K) of K values ``y`` under each of M quantile maps ``tables[index[m]]`` (T, TABLE_SIZE, 2) of y(ζ)
    and dy/dζ — a velocity scale's prior in ln u at each of M values of τ_gal."""
    out = np.empty((len(index), len(y)))
    _log_densities(np.ascontiguousarray(tables, dtype=float), np.ascontiguousarray(index, dtype=np.int64),
                   np.ascontiguousarray(y, dtype=float), out)
    return out
