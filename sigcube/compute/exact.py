"""Exact sums of float64 values, combined across object chunks bit for bit.

A galaxy-chunked sweep adds per-object values (each galaxy's RMS) and per-chunk sums (Σx, Σx² of the RAR
scatter) over chunks that finish in any order. Float additions in another order differ in the last bits, so
sums are carried exactly instead: an **accumulator** is a row of :data:`WIDTH` int64 — :data:`N_LIMBS` limbs,
limb k counting units of 2^(32k − 1074) (2^−1074 is the smallest subnormal double, so every double is a whole
number of it, below 2^2098), then the counts of NaN, +inf and −inf values. Each double splits exactly into
three limbs; adding accumulators adds integers (exact, associative, commutative); :func:`to_float` rounds the
total once, correctly (to nearest, ties to even, as ``math.fsum``). The sum of any values thus comes out the
same, bit for bit, whatever the chunking and order, and equals ``math.fsum`` of them all; non-finite values
follow IEEE addition (NaN if any NaN or both infinities, else ±inf).

>>> acc = add(accumulate(np.array([[0.1, 0.2]])), accumulate(np.array([[0.3]])))
>>> float(to_float(acc)[0]) == math.fsum([0.1, 0.2, 0.3])
True
"""

from __future__ import annotations

import math

import numba
import numpy as np

N_LIMBS = 68
"""Limbs of 32 bits from 2^−1074 up: room for 2^32 doubles of any magnitude without overflow."""
NAN, POS_INF, NEG_INF = N_LIMBS, N_LIMBS + 1, N_LIMBS + 2
"""Columns counting the non-finite values."""
WIDTH = N_LIMBS + 3
"""int64 per accumulator."""
_MASK = (1 << 32) - 1
_MAX_TERMS = 1 << 28
"""Terms added per row before carries are propagated (each adds < 2^33 to a limb: no int64 overflow)."""


@numba.njit(nogil=True, cache=True)
def _add_terms(values, acc):  # pragma: no cover (compiled)
    """Add every value of row i of ``values`` (m, n) into ``acc[i]`` (m, WIDTH), limbs not normalised."""
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            x = values[i, j]
            if x != x:
                acc[i, NAN] += 1
            elif x == math.inf:
                acc[i, POS_INF] += 1
            elif x == -math.inf:
                acc[i, NEG_INF] += 1
            elif x != 0.0:
                frac, e = math.frexp(x)  # x = frac·2^e, 0.5 ≤ |frac| < 1
                mant = np.int64(frac * 9007199254740992.0)  # frac·2^53: a whole number, |mant| < 2^53
                sign = 1
                if mant < 0:
                    sign = -1
                    mant = -mant
                shift = e + 1021  # x = mant·2^(e − 53) = mant·2^(shift − 1074)
                if shift < 0:  # a subnormal: the bits shifted out are zeros
                    mant >>= -shift
                    shift = 0
                limb = shift >> 5
                r = shift & 31
                lo = (mant & _MASK) << r  # < 2^63
                hi = (mant >> 32) << r  # < 2^52
                acc[i, limb] += sign * (lo & _MASK)
                acc[i, limb + 1] += sign * ((lo >> 32) + (hi & _MASK))
                acc[i, limb + 2] += sign * (hi >> 32)


@numba.njit(nogil=True, cache=True)
def _normalize(acc):  # pragma: no cover (compiled)
    """Propagate carries: limbs 0 … N−2 in [0, 2^32), the top limb signed (same value)."""
    for i in range(acc.shape[0]):
        for k in range(N_LIMBS - 1):
            carry = acc[i, k] >> 32  # floor division, negative limbs included
            acc[i, k] -= carry << 32
            acc[i, k + 1] += carry


@numba.njit(nogil=True, cache=True)
def _round(acc, out):  # pragma: no cover (compiled)
    """The correctly rounded double of each normalised accumulator (math.fsum's final rounding)."""
    parts = np.empty(N_LIMBS)
    mag = np.empty(N_LIMBS, dtype=np.int64)
    for i in range(acc.shape[0]):
        if acc[i, NAN] > 0 or (acc[i, POS_INF] > 0 and acc[i, NEG_INF] > 0):
            out[i] = math.nan
            continue
        if acc[i, POS_INF] > 0:
            out[i] = math.inf
            continue
        if acc[i, NEG_INF] > 0:
            out[i] = -math.inf
            continue
        negative = acc[i, N_LIMBS - 1] < 0
        for k in range(N_LIMBS):
            mag[k] = -acc[i, k] if negative else acc[i, k]
        if negative:  # |value|: negate every limb, then propagate the borrows again
            for k in range(N_LIMBS - 1):
                carry = mag[k] >> 32
                mag[k] -= carry << 32
                mag[k + 1] += carry
        n = 0
        for k in range(N_LIMBS):  # non-overlapping, increasing: fsum's partials
            if mag[k] != 0:
                parts[n] = math.ldexp(float(mag[k]), 32 * k - 1074)
                n += 1
        hi = 0.0
        if n > 0:
            n -= 1
            hi = parts[n]
            lo = 0.0
            while n > 0:
                x = hi
                n -= 1
                y = parts[n]
                hi = x + y
                lo = y - (hi - x)
                if lo != 0.0:
                    break
            if n > 0 and ((lo < 0.0 and parts[n - 1] < 0.0) or (lo > 0.0 and parts[n - 1] > 0.0)):
                y = lo * 2.0
                x = hi + y
                if y == x - hi:
                    hi = x
        out[i] = -hi if negative else hi


def accumulate(values: np.ndarray) -> np.ndarray:
    """Accumulators (..., WIDTH) of the exact sums of ``values`` (..., n) over their last axis."""
    values = np.asarray(values, dtype=np.float64)
    lead = values.shape[:-1]
    rows = np.ascontiguousarray(values.reshape(math.prod(lead), values.shape[-1]))
    acc = np.zeros((rows.shape[0], WIDTH), dtype=np.int64)
    for start in range(0, max(rows.shape[1], 1), _MAX_TERMS):
        _add_terms(rows[:, start:start + _MAX_TERMS], acc)
        _normalize(acc)
    return acc.reshape(lead + (WIDTH,))


def of_values(values: np.ndarray) -> np.ndarray:
    """One accumulator per value: (...) → (..., WIDTH)."""
    return accumulate(np.asarray(values, dtype=np.float64)[..., None])


def normalized(acc: np.ndarray) -> np.ndarray:
    """``acc`` (..., WIDTH) with its carries propagated (a sum of up to 2^31 normalised accumulators may be given)."""
    flat = np.array(acc, dtype=np.int64).reshape(-1, WIDTH)
    _normalize(flat)
    return flat.reshape(np.shape(acc))


def add(*accs: np.ndarray) -> np.ndarray:
    """The accumulator of the sum of several (same shape (..., WIDTH)); exact."""
    return normalized(np.sum(np.stack(accs), axis=0, dtype=np.int64))


def to_float(acc: np.ndarray) -> np.ndarray:
    """The correctly rounded double of each accumulator (..., WIDTH) → (...)."""
    acc = np.asarray(acc, dtype=np.int64)
    flat = np.ascontiguousarray(acc.reshape(-1, WIDTH))
    out = np.empty(flat.shape[0])
    _round(flat, out)
    return out.reshape(acc.shape[:-1])


def warm_up() -> None:
    """Load (or compile) the loops now."""
    to_float(add(accumulate(np.ones((1, 2))), of_values(np.ones(1))))
