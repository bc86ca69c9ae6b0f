"""Halo enclosed masses of one shape parameter from tables, compiled: what :data:`sigcube.model.special.dc14_mass` and
:data:`sigcube.model.special.einasto_mass` run.

A halo whose enclosed mass μ(y) (y = r/r_s) has one shape parameter p — the DC14 halo's X = log10(M★/M_halo), whose
(α, β, γ) are functions of it alone (:func:`sigcube.model.lcdm.dc14_shape`), or Einasto's ln α — has a mass that is a
function of two variables. A :class:`Table` holds ln μ and its slope d ln μ/d ln y, both from the exact function (a
series of :mod:`sigcube.model.special_compiled`), at every step of p over its range and of ln y over [ln 10⁻⁴, ln 10⁴];
between the nodes ln μ is the cubic Hermite interpolant in ln y of six rows combined by Lagrange's six-point rule in
p. Its relative error over the table is below :data:`DC14_ACCURACY` and :data:`EINASTO_ACCURACY`
(``tests/model/test_special.py``; the halo kernels' tests hold a velocity to the same bounds); ``bench/halos.py`` times
each against its series. Outside the table the series itself is summed.

- DC14: ∫₀ʸ u^(2−γ)·(1 + u^α)^(−(β−γ)/α) du (:func:`~sigcube.model.special_compiled.zhao_mass`), X over
  :data:`~sigcube.model.lcdm.DC14_RANGE` (held at its ends, as the shape is) every 0.005 dex;
- Einasto: P(3/α, (2/α)·y^α) (:func:`~sigcube.model.special_compiled.gammainc_lower`), α from 0.02 to 3 every 0.01
  in ln α.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba
import numpy as np
from scipy.special import gammaln

from sigcube.model.lcdm import DC14_RANGE, dc14_shape
from sigcube.model.special_compiled import gammainc_lower, zhao_mass

Y_RANGE = (1e-4, 1e4)
"""The range of y = r/r_s the tables cover."""
U_STEP = 0.025
"""Spacing of the tables' columns in ln y."""
_U_LOW = math.log(Y_RANGE[0])
_U_COLUMNS = int(math.ceil((math.log(Y_RANGE[1]) - _U_LOW) / U_STEP)) + 1
_U_HIGH = _U_LOW + (_U_COLUMNS - 1) * U_STEP
_POINTS = 6
"""Rows of the Lagrange rule in the shape parameter."""
DC14_ACCURACY = 5e-9
"""The largest relative error of DC14's tabled μ(y) against its series, anywhere in the table."""
EINASTO_ACCURACY = 1e-7
"""The largest relative error of Einasto's tabled μ(y) against its series, anywhere in the table (it grows with α: μ
turns over within fewer columns in ln y)."""


class Table(NamedTuple):
    """ln μ and d ln μ/d ln y (``values``: rows of the shape parameter p from ``low`` every ``step``, columns of ln y)."""

    values: np.ndarray
    low: float
    step: float


def _table(low: float, high: float, step: float, mass_and_slope) -> Table:
    """A :class:`Table` of p from ``low`` to ``high`` every ``step``; ``mass_and_slope(p, u)`` gives μ and
    d ln μ/d ln y at shape p and ln y = u (broadcast arrays)."""
    rows = int(round((high - low) / step)) + 1
    p = low + step * np.arange(rows)[:, None]
    u = _U_LOW + U_STEP * np.arange(_U_COLUMNS)[None, :]
    mass, slope = mass_and_slope(p, u)
    return Table(np.ascontiguousarray(np.stack([np.log(mass), slope], axis=-1)), low, step)


@numba.njit(nogil=True, cache=True)
def _interpolated(values: np.ndarray, low: float, step: float, p: float, u: float) -> float:  # pragma: no cover
    """μ at shape ``p`` and ln y = ``u`` inside a table's range, from its ``values`` (rows from ``low`` every
    ``step``)."""
    su = (u - _U_LOW) / U_STEP
    i = min(int(su), _U_COLUMNS - 2)
    s = su - i
    s2 = s * s
    h00 = (2.0 * s - 3.0) * s2 + 1.0
    h01 = 1.0 - h00
    h10 = ((s - 2.0) * s + 1.0) * s * U_STEP
    h11 = (s - 1.0) * s2 * U_STEP
    sx = (p - low) / step
    j = min(max(int(sx) - (_POINTS // 2 - 1), 0), values.shape[0] - _POINTS)
    t = sx - j
    total = 0.0
    for k in range(_POINTS):
        w = 1.0
        for m in range(_POINTS):
            if m != k:
                w *= (t - m) / (k - m)
        total += w * (h00 * values[j + k, i, 0] + h10 * values[j + k, i, 1] + h01 * values[j + k, i + 1, 0]
                      + h11 * values[j + k, i + 1, 1])
    return math.exp(total)


def _dc14(x: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    alpha, beta, gamma = dc14_shape(x)
    y = np.exp(u)
    mass = zhao_mass(y, alpha, beta, gamma)
    return mass, np.exp((3.0 - gamma) * u - (beta - gamma) / alpha * np.log1p(y**alpha)) / mass


def _einasto(log_alpha: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    alpha = np.exp(log_alpha)
    a = 3.0 / alpha
    x = (2.0 / alpha) * np.exp(alpha * u)
    mass = gammainc_lower(a, x)
    return mass, np.exp(log_alpha + a * np.log(x) - x - gammaln(a)) / mass


DC14 = _table(DC14_RANGE[0], DC14_RANGE[1], 0.005, _dc14)
"""DC14's table in X = log10(M★/M_halo)."""
EINASTO = _table(math.log(0.02), math.log(3.0), 0.01, _einasto)
"""Einasto's table in ln α."""
_DC14_VALUES, _DC14_LOW, _DC14_STEP = DC14
_DC14_HIGH = _DC14_LOW + (_DC14_VALUES.shape[0] - 1) * _DC14_STEP
_EINASTO_VALUES, _EINASTO_LOW, _EINASTO_STEP = EINASTO
_EINASTO_HIGH = _EINASTO_LOW + (_EINASTO_VALUES.shape[0] - 1) * _EINASTO_STEP

_shape = numba.njit(nogil=True, cache=True)(dc14_shape)

# numba caches no function that reads a large global array: these compile in each process that uses them.


@numba.vectorize(["f8(f8, f8)"], nopython=True)
def dc14_mass(y, x):  # pragma: no cover
    """μ(y) of the DC14 halo at X = ``x`` (held in DC14_RANGE): ∫₀ʸ u^(2−γ)·(1 + u^α)^(−(β−γ)/α) du with (α, β, γ) of X;
    NaN for y < 0 or a NaN X."""
    if not (y >= 0.0) or not (x == x):
        return math.nan
    if y == 0.0:
        return 0.0
    x = min(max(x, DC14_RANGE[0]), DC14_RANGE[1])
    u = math.log(y)
    if not (_U_LOW <= u < _U_HIGH):
        alpha, beta, gamma = _shape(x)
        return zhao_mass(y, alpha, beta, gamma)
    return _interpolated(_DC14_VALUES, _DC14_LOW, _DC14_STEP, min(x, _DC14_HIGH), u)


@numba.vectorize(["f8(f8, f8)"], nopython=True)
def einasto_mass(y, alpha):  # pragma: no cover
    """μ(y) = P(3/α, (2/α)·y^α) of an Einasto halo of shape ``alpha``; NaN for y < 0 or α ≤ 0."""
    if not (y >= 0.0) or not (alpha > 0.0):
        return math.nan
    if y == 0.0:
        return 0.0
    u = math.log(y)
    p = math.log(alpha)
    if not (_U_LOW <= u < _U_HIGH) or not (_EINASTO_LOW <= p <= _EINASTO_HIGH):
        return gammainc_lower(3.0 / alpha, (2.0 / alpha) * math.exp(alpha * u))
    return _interpolated(_EINASTO_VALUES, _EINASTO_LOW, _EINASTO_STEP, p, u)
