"""The DC14 halo's enclosed mass from a table, compiled: what :data:`sigcube.model.special.dc14_mass` runs.

A DC14 halo's shape (α, β, γ) is a function of X = log10(M★/M_halo) alone (:func:`sigcube.model.lcdm.dc14_shape`), so
its enclosed mass μ(y) = :func:`~sigcube.model.special_compiled.zhao_mass` (y, α, β, γ) is a function of two variables.
:data:`TABLE` holds ln μ and its slope d ln μ/d ln y = y^(3−γ)·(1 + y^α)^(−(β−γ)/α)/μ, both computed by that series,
at every :data:`X_STEP` of X over :data:`~sigcube.model.lcdm.DC14_RANGE` and every :data:`U_STEP` of ln y over
:data:`Y_RANGE`; between the nodes ln μ is the cubic Hermite interpolant in ln y of six rows combined by Lagrange's
six-point rule in X. Its relative error is below 5·10⁻⁹ over the table (``tests/model/test_special.py``);
``bench/halos.py`` times it against the series. Outside :data:`Y_RANGE` the series itself is summed.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from sigcube.model.lcdm import DC14_RANGE, dc14_shape
from sigcube.model.special_compiled import zhao_mass

X_STEP = 0.005
"""Spacing of the table's rows in X = log10(M★/M_halo) [dex]."""
U_STEP = 0.025
"""Spacing of the table's columns in ln y."""
Y_RANGE = (1e-4, 1e4)
"""The range of y = r/r_s the table covers."""
_X_ROWS = int(round((DC14_RANGE[1] - DC14_RANGE[0]) / X_STEP)) + 1
_U_LOW = math.log(Y_RANGE[0])
_U_COLUMNS = int(math.ceil((math.log(Y_RANGE[1]) - _U_LOW) / U_STEP)) + 1
_U_HIGH = _U_LOW + (_U_COLUMNS - 1) * U_STEP
_POINTS = 6
"""Rows of the Lagrange rule in X."""


def _build() -> np.ndarray:
    """(rows, columns, 2): ln μ and d ln μ/d ln y at every node, by the series."""
    x = DC14_RANGE[0] + X_STEP * np.arange(_X_ROWS)[:, None]
    u = _U_LOW + U_STEP * np.arange(_U_COLUMNS)[None, :]
    alpha, beta, gamma = dc14_shape(x)
    y = np.exp(u)
    mass = zhao_mass(y, alpha, beta, gamma)
    slope = np.exp((3.0 - gamma) * u - (beta - gamma) / alpha * np.log1p(y**alpha)) / mass
    return np.ascontiguousarray(np.stack([np.log(mass), slope], axis=-1))


TABLE = _build()
"""ln μ and d ln μ/d ln y at the nodes (module docstring)."""

_shape = numba.njit(nogil=True, cache=True)(dc14_shape)


@numba.vectorize(["f8(f8, f8)"], nopython=True)  # numba caches no function that reads a large global array
def dc14_mass(y, x):  # pragma: no cover
    """μ(y) of the DC14 halo at X = ``x`` (held in DC14_RANGE): ∫₀ʸ u^(2−γ)·(1 + u^α)^(−(β−γ)/α) du with (α, β, γ) of X,
    from :data:`TABLE` for y in :data:`Y_RANGE` and by the series outside it; NaN for y < 0 or a NaN X."""
    if not (y >= 0.0) or not (x == x):
        return math.nan
    if y == 0.0:
        return 0.0
    x = min(max(x, DC14_RANGE[0]), DC14_RANGE[1])
    u = math.log(y)
    if not (_U_LOW <= u < _U_HIGH):
        alpha, beta, gamma = _shape(x)
        return zhao_mass(y, alpha, beta, gamma)
    su = (u - _U_LOW) / U_STEP
    i = min(int(su), _U_COLUMNS - 2)
    s = su - i
    s2 = s * s
    h00 = (2.0 * s - 3.0) * s2 + 1.0
    h01 = 1.0 - h00
    h10 = ((s - 2.0) * s + 1.0) * s * U_STEP
    h11 = (s - 1.0) * s2 * U_STEP
    sx = (x - DC14_RANGE[0]) / X_STEP
    j = min(max(int(sx) - (_POINTS // 2 - 1), 0), _X_ROWS - _POINTS)
    t = sx - j
    total = 0.0
    for k in range(_POINTS):
        w = 1.0
        for m in range(_POINTS):
            if m != k:
                w *= (t - m) / (k - m)
        total += w * (h00 * TABLE[j + k, i, 0] + h10 * TABLE[j + k, i, 1] + h01 * TABLE[j + k, i + 1, 0]
                      + h11 * TABLE[j + k, i + 1, 1])
    return math.exp(total)
