"""float64 exp, expm1, log, log1p, √, x^−½ and the NFW mass written so that a compiled loop over an array vectorises.

A loop of numba's ``math.log`` (or numpy's ``np.log`` on a core without AVX-512) calls the C
library once per value: the largest cost of a sweep whose kernel has an exponential or a logarithm
per point × grid point. The
functions here are the classical fdlibm reductions with their polynomials, written without
branches or tables — the exponent moved in and out of a float by reinterpreting its bits
(:func:`_bits`, :func:`_float`), special values chosen by selects — so LLVM compiles their array
loops (:data:`VECTOR_UFUNCS`, run by :func:`apply` and :func:`bind`) to SIMD code (four values per
instruction with AVX2).

Accuracy, checked against numpy on random and edge inputs in ``tests/compute/test_vecmath.py``: log and exp
within 1 ulp, log1p and expm1 within 2 ulp; ±0, ±∞, NaN, subnormal inputs and results as the C library.
Cost per value against numpy's: ``bench/vecmath.py`` (its results are on the docs' performance page).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from sigcube.model.special import cusp_mass
from sigcube.model.special_compiled import CUSP_SERIES_BELOW

__all__ = ["VECTOR_UFUNCS", "apply", "bind", "inverse_sqrt", "log_in_place", "loop_for"]


@intrinsic
def _bits(typingctx, x):  # pragma: no cover (compiled)
    """The IEEE-754 bits of a float64, as an int64 (a reinterpretation, no conversion)."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))
    return types.int64(types.float64), codegen


@intrinsic
def _float(typingctx, n):  # pragma: no cover (compiled)
    """The float64 whose IEEE-754 bits are the int64 ``n``."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())
    return types.float64(types.int64), codegen


_JIT = {"nogil": True, "cache": True, "inline": "always", "fastmath": {"contract"}, "error_model": "numpy"}
"""Scalar cores: inlined into the array loops; fused multiply-add allowed (it only removes roundings)."""

_MAGIC = 6755399441055744.0
"""1.5·2⁵²: adding it rounds a float of magnitude < 2⁵¹ to an integer held in the low bits."""
_MAGIC_BITS = 0x4338000000000000

_LN2_HI = 6.93147180369123816490e-01  # ln 2 split so that k·ln2_hi is exact for |k| < 2¹¹
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e00
_SQRT_HALF_BITS = 0x3FE6A09E667F3BCD  # √½
_TINY = 2.2250738585072014e-308  # smallest normal float64
_TWO54 = 18014398509481984.0

# fdlibm e_log.c: log(1+f) = f − f²/2 + s·(f²/2 + R(s²)), s = f/(2+f)
_LG1, _LG2, _LG3, _LG4 = 6.666666666666735130e-01, 3.999999999940941908e-01, 2.857142874366239149e-01, \
    2.222219843214978396e-01
_LG5, _LG6, _LG7 = 1.818357216161805012e-01, 1.531383769920937332e-01, 1.479819860511658591e-01

_EXP_HI = 709.8
"""Above this exp overflows (ln(max float) = 709.78…); inputs are clamped here, the result comes out ∞."""
_EXP_LO = -746.0
"""Below this exp underflows to 0 (ln of the smallest subnormal is −744.44…)."""


@numba.njit(**_JIT)
def _log(x: float) -> float:  # pragma: no cover (compiled)
    """ln x (fdlibm's reduction and polynomial, branch-free): x = 2^k·m with m ∈ [√½, √2), f = m − 1."""
    sub = x < _TINY
    b = _bits(x * _TWO54 if sub else x)
    k = (b - _SQRT_HALF_BITS) >> 52
    f = _float(b - (k << 52)) - 1.0
    kf = _float(k + _MAGIC_BITS) - _MAGIC - (54.0 if sub else 0.0)
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    r = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7))) + w * (_LG2 + w * (_LG4 + w * _LG6))
    hfsq = 0.5 * f * f
    out = kf * _LN2_HI - ((hfsq - (s * (hfsq + r) + kf * _LN2_LO)) - f)
    out = np.inf if x == np.inf else out
    out = -np.inf if x == 0.0 else out
    return np.nan if not x >= 0.0 else out


@numba.njit(**_JIT)
def _log1p(x: float) -> float:  # pragma: no cover (compiled)
    """ln(1 + x): ln u of u = 1 + x (rounded), plus the first-order correction (x − (u − 1))/u of that rounding."""
    u = 1.0 + x
    c = (x - (u - 1.0)) / u
    out = _log(u) + (c if 0.0 < u < 1e300 else 0.0)  # no correction at u = 0 (−∞) or u = ∞
    return x if abs(x) < 2.0**-54 else out  # ln(1 + x) rounds to x below 2⁻⁵⁴ (±0 keep their sign)


# fdlibm e_exp.c: e^r = 1 + r + r·c/(2 − c), c = r − r²·P(r²) on |r| ≤ ½·ln 2 (a rational approximation, error
# below 2⁻⁵⁹ before the last roundings)
_P1, _P2, _P3 = 1.66666666666666019037e-01, -2.77777777770155933842e-03, 6.61375632143793436117e-05
_P4, _P5 = -1.65339022054652515390e-06, 4.13813679705723846039e-08


@numba.njit(**_JIT)
def _reduced(x: float) -> tuple[float, float]:  # pragma: no cover (compiled)
    """x = k·ln 2 + r with |r| ≤ ½·ln 2: (k as a float, exp(r) − 1), the rounding of r carried to first order."""
    x = _EXP_LO if x < _EXP_LO else _EXP_HI if x > _EXP_HI else x
    kf = (x * _INV_LN2 + _MAGIC) - _MAGIC
    hi = x - kf * _LN2_HI
    lo = kf * _LN2_LO
    r = hi - lo
    c = (hi - r) - lo
    t = r * r
    q = r - t * (_P1 + t * (_P2 + t * (_P3 + t * (_P4 + t * _P5))))
    em1 = r + (r * q) / (2.0 - q)
    return kf, em1 + c * (1.0 + em1)


@numba.njit(**_JIT)
def _int(kf: float) -> int:  # pragma: no cover (compiled)
    """An integer-valued float (|k| < 2⁵¹) as an int64, through its bits after adding :data:`_MAGIC` (AVX2 has
    no vector float-to-int64 conversion)."""
    return _bits(kf + _MAGIC) - _MAGIC_BITS


@numba.njit(**_JIT)
def _pow2(k: int) -> float:  # pragma: no cover (compiled)
    """2^k for −1022 ≤ k ≤ 1023 (its bits built directly)."""
    return _float((k + 1023) << 52)


@numba.njit(**_JIT)
def _scaled(y: float, kf: float) -> float:  # pragma: no cover (compiled)
    """y·2^k for an integer −1076 ≤ k ≤ 1024 (given as a float), applied in two halves so that the result may
    be subnormal or near overflow."""
    k = _int(kf)
    half = k >> 1
    return y * _pow2(half) * _pow2(k - half)


@numba.njit(**_JIT)
def _exp(x: float) -> float:  # pragma: no cover (compiled)
    """eˣ = 2^k·(1 + (e^r − 1)), 2^k applied in two halves so that subnormal and near-overflow results are right."""
    kf, em1 = _reduced(x)
    return x if math.isnan(x) else _scaled(1.0 + em1, kf)


@numba.njit(**_JIT)
def _expm1(x: float) -> float:  # pragma: no cover (compiled)
    """eˣ − 1 = 2^k·(e^r − 1) + (2^k − 1): 2^k − 1 is exact for |k| ≤ 53 and one rounding remains with the fused
    multiply-add; beyond, the −1 (k > 53) or e^r − 1 (k < −53) is below the rounding, so k is clamped to
    [−60, 1023], and k = 1024 (x within ln 2 of overflow) doubled afterwards."""
    kf, em1 = _reduced(x)
    k = _int(kf)
    s = _pow2(-60 if k < -60 else 1023 if k > 1023 else k)
    out = s * em1 + (s - 1.0)
    out = out * 2.0 if k > 1023 else out
    return x if not abs(x) >= 2.0**-54 else out  # eˣ − 1 rounds to x below 2⁻⁵⁴ (±0 keep their sign); NaN


@numba.njit(**_JIT)
def _sqrt(x: float) -> float:  # pragma: no cover (compiled)
    """√x (IEEE sqrt is correctly rounded: numpy's values, without its per-call overhead)."""
    return math.sqrt(x)


_ARRAY = types.Array(types.float64, 1, "C")
_READONLY = types.Array(types.float64, 1, "C", readonly=True)


@numba.njit(**_JIT)
def _inverse_sqrt(x: float) -> float:  # pragma: no cover (compiled)
    """x^−½ as 1/√x (two correctly rounded steps, within 2 ulp of np.power); ±0 → ∞ and −∞ → 0 as pow."""
    out = 1.0 / math.sqrt(x)  # computed first, then selected: a branch around it would not vectorise
    out = 0.0 if x == -np.inf else out
    return np.inf if x == 0.0 else out


@numba.vectorize(["float64(float64)"], cache=True)
def inverse_sqrt(x):  # pragma: no cover (compiled)
    """x^−½ as a ufunc: the tracer records it for ``x**-0.5``; the replay runs its loop of :data:`VECTOR_UFUNCS`."""
    return _inverse_sqrt(x)


_CUSP_TERMS = np.array([(-1.0) ** n * (n + 1.0) / (n + 2.0) for n in range(18)])
"""m(y) = y²·Σ_n (−1)ⁿ(n + 1)/(n + 2)·yⁿ: 18 terms reach ε below y = 0.1 (the 18th is < 10⁻¹⁷ of the first)."""


@numba.njit(**_JIT)
def _cusp_mass(y: float) -> float:  # pragma: no cover (compiled)
    """ln(1 + y) − y/(1 + y) (:data:`sigcube.model.special.cusp_mass`): both the closed form and the series (below
    y = 0.1) computed, then one selected, so that the loop vectorises."""
    closed = _log1p(y) - y / (1.0 + y)
    series = 0.0
    for n in range(_CUSP_TERMS.size - 1, -1, -1):
        series = series * y + _CUSP_TERMS[n]
    out = series * y * y if y < CUSP_SERIES_BELOW else closed
    return np.nan if not y >= 0.0 else out


LOG, LOG1P, EXP, EXPM1, SQRT, INVERSE_SQRT, CUSP_MASS = range(7)
"""Codes of the scalar functions in :func:`_scalar`."""


@numba.njit(**_JIT)
def _scalar(code: int, x: float) -> float:  # pragma: no cover (compiled)
    """The function numbered ``code`` at x (``code`` a compile-time constant in the loops: the other branches go)."""
    if code == LOG:
        return _log(x)
    if code == LOG1P:
        return _log1p(x)
    if code == EXP:
        return _exp(x)
    if code == EXPM1:
        return _expm1(x)
    if code == SQRT:
        return _sqrt(x)
    if code == CUSP_MASS:
        return _cusp_mass(x)
    return _inverse_sqrt(x)


def _loops(code: int) -> tuple[Callable[..., None], Callable[..., None]]:
    """Two compiled loops applying function ``code`` to a contiguous 1-d float64 array: ``(x, out)`` into another
    array, and ``(x,)`` in place. (One loop serving both would test its two arrays for overlap and fall back to
    scalar code when they are the same.) The loops close over an int, not over a compiled function, so that
    numba's on-disk cache finds them again in a new process."""
    @numba.njit([types.void(_ARRAY, _ARRAY), types.void(_READONLY, _ARRAY)], **{**_JIT, "inline": "never"})
    def into(x, out):  # pragma: no cover (compiled)
        for i in range(x.size):
            out[i] = _scalar(code, x[i])

    @numba.njit("void(f8[::1])", **{**_JIT, "inline": "never"})
    def in_place(x):  # pragma: no cover (compiled)
        for i in range(x.size):
            x[i] = _scalar(code, x[i])
    return into, in_place


log_into, log_in_place = _loops(LOG)
log1p_into, log1p_in_place = _loops(LOG1P)
exp_into, exp_in_place = _loops(EXP)
expm1_into, expm1_in_place = _loops(EXPM1)
sqrt_into, sqrt_in_place = _loops(SQRT)
inverse_sqrt_into, inverse_sqrt_in_place = _loops(INVERSE_SQRT)
cusp_mass_into, cusp_mass_in_place = _loops(CUSP_MASS)

VECTOR_UFUNCS = {np.log: (log_into, log_in_place), np.log1p: (log1p_into, log1p_in_place),
                 np.exp: (exp_into, exp_in_place), np.expm1: (expm1_into, expm1_in_place),
                 np.sqrt: (sqrt_into, sqrt_in_place), inverse_sqrt: (inverse_sqrt_into, inverse_sqrt_in_place),
                 cusp_mass.ufunc: (cusp_mass_into, cusp_mass_in_place)}
"""ufuncs and the vectorising loops (into another array, in place) that replace each."""


def loop_for(ufunc: np.ufunc, x: np.ndarray, out: np.ndarray) -> Callable[..., None] | None:
    """The loop of :data:`VECTOR_UFUNCS` that computes ``out[...] = ufunc(x)`` (called as ``loop(x, out)`` or, when
    ``x`` is ``out``, ``loop(out)``), if ``ufunc`` has one and ``x``, ``out`` are C-contiguous float64 arrays of one
    shape that are the same array or do not overlap; None otherwise."""
    loops = VECTOR_UFUNCS.get(ufunc)
    if loops is None or not all(isinstance(a, np.ndarray) and a.dtype == np.float64 and a.flags.c_contiguous
                                for a in (x, out)) or x.shape != out.shape:
        return None
    if x.__array_interface__["data"][0] == out.__array_interface__["data"][0]:
        return loops[1]
    return None if np.shares_memory(x, out) else loops[0]


def bind(ufunc: np.ufunc, x: Any, out: np.ndarray) -> Callable[[], Any]:
    """A call without arguments that computes ``out[...] = ufunc(x)``: by its SIMD loop where :func:`loop_for`
    finds one, by the ufunc itself otherwise (for a replay that repeats it on the same arrays)."""
    loop = loop_for(ufunc, x, out)
    if loop is None:
        return functools.partial(ufunc, x, out=out)
    if loop in _IN_PLACE:
        return functools.partial(loop, out.reshape(-1))
    return functools.partial(loop, x.reshape(-1), out.reshape(-1))


def apply(ufunc: np.ufunc, x: Any, out: np.ndarray) -> None:
    """``out[...] = ufunc(x)``, as :func:`bind` computes it."""
    bind(ufunc, x, out)()


_IN_PLACE = {in_place for _, in_place in VECTOR_UFUNCS.values()}
