"""The numba implementations behind :mod:`sigcube.model.special` (imported on first use, with numba)."""

from __future__ import annotations

import math

import numba

CUSP_SERIES_BELOW = 0.1
"""Below this y the NFW mass is summed as its power series; above, the closed form's relative error is below ~3·10⁻¹⁴
(its largest, at y = 0.1, where ln(1 + y) and y/(1 + y) cancel to 1/22 of their size)."""
CORE_SERIES_BELOW = 0.5
"""Below this y the cored masses are summed as power series (terms fall by y⁴ or y² ≤ 1/16 or 1/4 each)."""

_EPS = 1e-16
_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TINY = 1e-300
_MAX_TERMS = 2000
_ROOT_TOLERANCE = 1e-13


@numba.njit(nogil=True, cache=True)
def _gamma_series(a: float, x: float) -> float:  # pragma: no cover
    """P(a, x) by its power series (x < a + 1)."""
    term = 1.0 / a
    total = term
    ap = a
    for _ in range(_MAX_TERMS):
        ap += 1.0
        term *= x / ap
        total += term
        if abs(term) < abs(total) * _EPS:
            break
    return total * math.exp(-x + a * math.log(x) - math.lgamma(a))


@numba.njit(nogil=True, cache=True)
def _gamma_fraction(a: float, x: float) -> float:  # pragma: no cover
    """Q(a, x) = 1 − P(a, x) by its continued fraction, modified Lentz (x ≥ a + 1)."""
    b = x + 1.0 - a
    c = 1.0 / _TINY
    d = 1.0 / b
    h = d
    for i in range(1, _MAX_TERMS):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        if abs(d) < _TINY:
            d = _TINY
        c = b + an / c
        if abs(c) < _TINY:
            c = _TINY
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return math.exp(-x + a * math.log(x) - math.lgamma(a)) * h


@numba.vectorize(["f8(f8, f8)"], nopython=True, cache=True)
def gammainc_lower(a, x):  # pragma: no cover
    """P(a, x) = γ(a, x)/Γ(a), a > 0, x ≥ 0 (Numerical Recipes §6.2: series below a + 1, continued fraction above);
    NaN for a ≤ 0 or x < 0."""
    if not (a > 0.0) or not (x >= 0.0):
        return math.nan
    if x == 0.0:
        return 0.0
    if x < a + 1.0:
        return _gamma_series(a, x)
    return 1.0 - _gamma_fraction(a, x)


@numba.njit(nogil=True, cache=True)
def _beta_head(t: float, a: float, b: float) -> float:  # pragma: no cover
    """∫₀ᵗ s^(a−1)(1 − s)^(b−1) ds for 0 < t ≤ ½ = t^a Σ_n (1 − b)_n/n! · t^n/(a + n) (ratio ≤ ½)."""
    coefficient = 1.0
    power = 1.0
    total = 1.0 / a
    for n in range(_MAX_TERMS):
        coefficient *= (n + 1.0 - b) / (n + 1.0)
        power *= t
        term = coefficient * power / (a + n + 1.0)
        total += term
        if abs(term) < abs(total) * _EPS:
            break
    return math.exp(a * math.log(t)) * total


@numba.njit(nogil=True, cache=True)
def _beta_tail(w_lo: float, a: float, b: float) -> float:  # pragma: no cover
    """∫ w^(b−1)(1 − w)^(a−1) dw over [w_lo, ½] (0 < w_lo < ½) by the series of (1 − w)^(a−1) (ratio ≤ ½):
    Σ_n (1 − a)_n/n! · (½^(b+n) − w_lo^(b+n))/(b + n), the powers by one product each per term and the one term whose
    k = b + n is near 0 (where the difference cancels) by expm1, continuously through k = 0."""
    log_ratio = math.log(0.5 / w_lo)
    p_hi = math.exp(b * -_LN2)
    p_lo = math.exp(b * math.log(w_lo))
    coefficient = 1.0
    part = 0.0
    for n in range(_MAX_TERMS):
        if n > 0:
            coefficient *= (n - a) / n
            p_hi *= 0.5
            p_lo *= w_lo
        k = b + n
        if abs(k * log_ratio) < 0.5:
            term = coefficient * p_lo * (log_ratio if k == 0.0 else math.expm1(k * log_ratio) / k)
        else:
            term = coefficient * (p_hi - p_lo) / k
        part += term
        if n > 0 and abs(term) < abs(part) * _EPS:
            break
    return part


@numba.vectorize(["f8(f8, f8, f8, f8)"], nopython=True, cache=True)
def zhao_mass(y, alpha, beta, gamma):  # pragma: no cover
    """∫₀ʸ u^(2−γ)·(1 + u^α)^(−(β−γ)/α) du for y ≥ 0, α > 0, γ < 3 (NaN otherwise).

    With t = u^α/(1 + u^α) it is B(T; a, b)/α, the incomplete beta integral ∫₀ᵀ t^(a−1)(1 − t)^(b−1) dt with
    a = (3 − γ)/α > 0, b = (β − 3)/α of either sign and T = y^α/(1 + y^α). Up to t = ½ the binomial series of
    (1 − t)^(b−1) is summed term by term (:func:`_beta_head`); beyond, the rest is ∫ w^(b−1)(1 − w)^(a−1) dw over
    w = 1 − t ∈ [1/(1 + y^α), ½] (:func:`_beta_tail`). Relative error ~1e-14.
    """
    if not (y >= 0.0) or not (alpha > 0.0) or not (gamma < 3.0):
        return math.nan
    if y == 0.0:
        return 0.0
    a = (3.0 - gamma) / alpha
    b = (beta - 3.0) / alpha
    ya = math.exp(alpha * math.log(y))
    if ya <= 1.0:  # T = y^α/(1 + y^α) ≤ ½
        return _beta_head(ya / (1.0 + ya), a, b) / alpha
    return (_beta_head(0.5, a, b) + _beta_tail(1.0 / (1.0 + ya), a, b)) / alpha


@numba.vectorize(["f8(f8)"], nopython=True, cache=True)
def cusp_mass(y):  # pragma: no cover
    """ln(1 + y) − y/(1 + y) for y ≥ 0 (the NFW enclosed mass in units of 4π·ρ_s·r_s³, y = r/r_s); below y = 0.1
    its series Σ_{n≥2} (−1)^n·(n − 1)·yⁿ/n."""
    if not (y >= 0.0):
        return math.nan
    if y >= CUSP_SERIES_BELOW:  # ln(1 + y) to ~ε there; log is twice as fast as log1p
        return math.log(1.0 + y) - y / (1.0 + y)
    power = y * y
    total = 0.0
    for n in range(2, _MAX_TERMS):
        term = (n - 1.0) * power / n
        total += term if n % 2 == 0 else -term
        if term < total * _EPS:
            break
        power *= y
    return total


@numba.vectorize(["f8(f8)"], nopython=True, cache=True)
def burkert_mass(y):  # pragma: no cover
    """ln(1 + y²) + 2·ln(1 + y) − 2·arctan(y) for y ≥ 0 (the Burkert enclosed mass in units of π·ρ0·r0³, y = r/r0);
    below y = ½ its series 4·Σ_k [y^(4k+3)/(4k + 3) − y^(4k+4)/(4k + 4)]."""
    if not (y >= 0.0):
        return math.nan
    if y >= CORE_SERIES_BELOW:
        return math.log1p(y * y) + 2.0 * math.log1p(y) - 2.0 * math.atan(y)
    y4 = y * y * y * y
    power = y * y * y
    total = 0.0
    for k in range(_MAX_TERMS):
        term = power / (4 * k + 3) - power * y / (4 * k + 4)
        total += term
        if term < total * _EPS:
            break
        power *= y4
    return 4.0 * total


@numba.vectorize(["f8(f8)"], nopython=True, cache=True)
def core_mass(y):  # pragma: no cover
    """y − arctan(y) for y ≥ 0 (the pseudo-isothermal enclosed mass in units of 4π·ρ0·r_c³, y = r/r_c); below
    y = ½ its series Σ_k (−1)^k·y^(2k+3)/(2k + 3)."""
    if not (y >= 0.0):
        return math.nan
    if y >= CORE_SERIES_BELOW:
        return y - math.atan(y)
    y2 = y * y
    power = y * y2
    total = 0.0
    for k in range(_MAX_TERMS):
        term = power / (2 * k + 3)
        total += term if k % 2 == 0 else -term
        if term < total * _EPS:
            break
        power *= y2
    return total


@numba.vectorize(["f8(f8, f8, f8, f8, f8)"], nopython=True, cache=True)
def double_power_inverse(y, log_m1, log_2n, beta, gamma):  # pragma: no cover
    """x with x + log_2n − log10(10^(−β(x − log_m1)) + 10^(γ(x − log_m1))) = y (β > 0, 0 ≤ γ < 1).

    f lies between min(L1, L2) − log10 2 and min(L1, L2), L1 and L2 its two power-law asymptotes, so the root is
    bracketed by [x0, x0 + log10 2/(1 − γ)], x0 = max of the asymptotes' roots; Newton steps kept in the bracket."""
    lo = max((y - log_2n + beta * log_m1) / (1.0 + beta), (y - log_2n - gamma * log_m1) / (1.0 - gamma))
    hi = lo + math.log10(2.0) / (1.0 - gamma)
    x = lo
    for _ in range(100):
        d = x - log_m1
        a = 10.0 ** (-beta * d)
        b = 10.0 ** (gamma * d)
        f = x + log_2n - math.log10(a + b) - y
        if f > 0.0:
            hi = x
        else:
            lo = x
        step = f / (1.0 + (beta * a - gamma * b) / (a + b))
        if abs(step) <= _ROOT_TOLERANCE or hi - lo <= _ROOT_TOLERANCE:
            return x - step
        x = x - step
        if not (lo <= x <= hi):
            x = 0.5 * (lo + hi)
    return x


@numba.njit(nogil=True, cache=True)
def _behroozi_shape(x: float, alpha: float, delta: float, gamma: float) -> tuple[float, float]:  # pragma: no cover
    """(f, df/dx) of f(x) = −log10(10^(αx) + 1) + δ·(log10(1 + eˣ))^γ/(1 + exp(10^(−x))), the fitting function of
    Behroozi, Wechsler & Conroy 2013 (ApJ 770, 57), written with w = exp(−10^(−x)) (no overflow at low mass)."""
    p = 10.0 ** (alpha * x)
    u = 10.0 ** -x
    w = math.exp(-u)
    ex = math.exp(x)
    lg = math.log10(1.0 + ex)
    share = w / (1.0 + w)
    f = -math.log10(p + 1.0) + delta * lg**gamma * share
    slope = -alpha * p / (p + 1.0) + delta * share * (gamma * lg ** (gamma - 1.0) * ex / ((1.0 + ex) * _LN10)
                                                      + lg**gamma * u * _LN10 / (1.0 + w))
    return f, slope


@numba.vectorize(["f8(f8, f8, f8, f8, f8, f8)"], nopython=True, cache=True)
def behroozi_inverse(y, log_eps_m1, log_m1, alpha, delta, gamma):  # pragma: no cover
    """log10 M_h with log_eps_m1 + f(log10 M_h − log_m1) − f(0) = y, f of :func:`_behroozi_shape` (α < 0, δ, γ > 0: the
    relation rises in M_h): Newton steps on x = log10 M_h − log_m1 kept inside a bisection bracket in [−12, 12]; NaN
    when y is outside the relation's range there."""
    target = y - log_eps_m1 + _behroozi_shape(0.0, alpha, delta, gamma)[0]
    lo, hi = -12.0, 12.0
    if not (_behroozi_shape(lo, alpha, delta, gamma)[0] <= target <= _behroozi_shape(hi, alpha, delta, gamma)[0]):
        return math.nan
    x = target / -alpha  # the low-mass power law's root: f ≈ −αx there
    x = min(max(x, lo), hi)
    for _ in range(200):
        f, slope = _behroozi_shape(x, alpha, delta, gamma)
        f -= target
        if f > 0.0:
            hi = x
        else:
            lo = x
        step = f / slope if slope > 0.0 else 2.0 * (hi - lo)
        if abs(step) <= _ROOT_TOLERANCE or hi - lo <= _ROOT_TOLERANCE:
            return log_m1 + x - step
        x = x - step
        if not (lo <= x <= hi):
            x = 0.5 * (lo + hi)
    return log_m1 + x
