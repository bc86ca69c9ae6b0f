"""The vectorising exp, expm1, log, log1p, √ and x^−½ loops against the exact values (80-bit long double, rounded
once more to float64) and, at the special values, numpy's results."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sigcube.compute import vecmath

ULPS = {np.log: 1.0, np.exp: 1.0, np.log1p: 2.0, np.expm1: 2.0, np.sqrt: 0.0, vecmath.inverse_sqrt: 2.0}
"""The accuracy the module promises, in units in the last place of the exact result (of numpy's at special values)."""
NUMPY = {vecmath.inverse_sqrt: lambda x: np.power(x, -0.5)}
"""numpy's function where it is not the ufunc itself."""
EXACT = {vecmath.inverse_sqrt: lambda x: 1.0 / np.sqrt(x)}
"""The function in long double where it is not the ufunc itself."""

EDGES = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 2.0, 0.5, 5e-324, -5e-324, 2.2250738585072014e-308,
                  1e-300, -1e-300, 1e-20, -1e-20, 2.0**-54, -(2.0**-54), 2.0**-53, 0.34657359027997264,
                  -0.34657359027997264, 36.7, 37.5, -37.5, -40.0, 709.0, 709.78, 709.79, 710.0, -708.4, -744.4, -745.1,
                  -745.2, -746.0, -800.0, 1e300, 1.7976931348623157e308, -1.7976931348623157e308])


def ulps(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    """|got − want| in units of the spacing at ``want``; 0 where both are the same ±∞, NaN or signed zero."""
    same = (got == want) & (np.signbit(got) == np.signbit(want)) | np.isnan(got) & np.isnan(want)
    with np.errstate(invalid="ignore"):
        diff = np.abs(got - want) / np.spacing(np.abs(want))
    return np.where(same, 0.0, np.where(np.isfinite(diff), diff, np.inf))


def loop_result(ufunc: np.ufunc, x: np.ndarray) -> np.ndarray:
    out = np.full_like(x, 7.0)
    assert vecmath.loop_for(ufunc, x, out) is not None
    vecmath.apply(ufunc, x, out)
    return out


def numpy_result(ufunc: np.ufunc, x: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return NUMPY.get(ufunc, ufunc)(x)


def exact_result(ufunc: np.ufunc, x: np.ndarray) -> np.ndarray:
    """The exact value rounded to float64: computed in x86's 80-bit long double (the C library's expl, logl, …; 11 more
    bits) and rounded once more, which is the correctly rounded value but where the second rounding falls on a tie
    (about 1 value in 2000). √ is IEEE's, correctly rounded in float64 itself. numpy's own float64 results are not the
    reference: on CPUs with AVX-512 numpy has its own SIMD exp and log, whose last bits differ from the C library's.
    Where numpy's result is ±0, ±∞ or NaN, its value (and sign) is the reference."""
    special = numpy_result(ufunc, x)
    if ufunc is np.sqrt:
        return special
    assert np.finfo(np.longdouble).nmant >= 63, "the exact reference needs an 80-bit long double"
    with np.errstate(all="ignore"):
        exact = EXACT.get(ufunc, ufunc)(x.astype(np.longdouble)).astype(np.float64)
    return np.where(np.isfinite(special) & (special != 0), exact, special)


@pytest.mark.parametrize("ufunc", list(ULPS), ids=lambda u: u.__name__)
def test_edge_values_match_numpy(ufunc):
    """±0 (with their sign), ±∞, NaN, subnormals, the reduction's interval ends, overflow and underflow."""
    assert ulps(loop_result(ufunc, EDGES), numpy_result(ufunc, EDGES)).max() <= ULPS[ufunc]


RANGES = {np.log: [(-700.0, 700.0)], np.sqrt: [(-700.0, 700.0)], vecmath.inverse_sqrt: [(-700.0, 700.0)], np.log1p: [(-700.0, 700.0), (-1.0, 10.0)],
          np.exp: [(-745.0, 709.7), (-3.0, 3.0)], np.expm1: [(-40.0, 709.7), (-3.0, 3.0)]}
"""Where the dense sample is drawn: ±log ranges are exponents (x = ±e^u) for the logarithms, values otherwise."""


@pytest.mark.parametrize("ufunc", list(ULPS), ids=lambda u: u.__name__)
def test_dense_sample_within_the_promised_ulps(ufunc):
    rng = np.random.default_rng(12)
    parts = []
    for lo, hi in RANGES[ufunc]:
        u = rng.uniform(lo, hi, 200_000)
        parts += [np.exp(u), -np.exp(u[:1000])] if hi == 700.0 else [u]
    x = np.concatenate(parts)
    err = ulps(loop_result(ufunc, x), exact_result(ufunc, x))
    assert err.max() <= ULPS[ufunc]
    if ufunc is not vecmath.inverse_sqrt:  # two roundings: a quarter of its results are one ulp off
        assert np.mean(err > 0.5) < 0.1  # most results are correctly rounded


@settings(max_examples=300, deadline=None)
@given(x=st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True),
       ufunc=st.sampled_from(list(ULPS)))
def test_any_float_within_the_promised_ulps(x, ufunc):
    """Within the promise of the exact value, plus one ulp where the reference's second rounding fell on a tie."""
    arr = np.array([x])
    assert ulps(loop_result(ufunc, arr), exact_result(ufunc, arr))[0] <= ULPS[ufunc] + (ufunc is not np.sqrt)


@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.floats(-50.0, 50.0), min_size=0, max_size=70), ufunc=st.sampled_from(list(ULPS)))
def test_in_place_equals_into_another_array(values, ufunc):
    """Both loops of one function give the same bits, at any length (vector body and scalar remainder)."""
    x = np.array(values, dtype=float)
    into = loop_result(ufunc, x)
    same = x.copy()
    assert vecmath.loop_for(ufunc, same, same) is not None
    vecmath.apply(ufunc, same, same)
    np.testing.assert_array_equal(same, into)


def test_apply_falls_back_to_the_ufunc_where_no_loop_applies():
    x = np.linspace(1.0, 2.0, 12)
    cases = [(np.sin, x, np.empty(12)),  # no loop for this ufunc
             (np.log, x.astype(np.float32), np.empty(12, np.float32)),  # another dtype
             (np.log, x[::2], np.empty(6)),  # not contiguous
             (np.log, np.float64(2.0), np.empty(3)),  # a scalar broadcast
             (np.log, x[:6], x[3:9])]  # overlapping, not the same
    for ufunc, arg, out in cases:
        assert vecmath.loop_for(ufunc, arg, out) is None
        want = ufunc(np.array(arg, copy=True)) * np.ones(out.shape, out.dtype)
        vecmath.apply(ufunc, arg, out)
        np.testing.assert_array_equal(out, want)


def test_a_read_only_input_takes_the_loop():
    x = np.linspace(1.0, 2.0, 12)
    x.flags.writeable = False
    out = np.empty(12)
    assert vecmath.loop_for(np.log, x, out) is not None
    vecmath.apply(np.log, x, out)
    assert ulps(out, np.log(x)).max() <= ULPS[np.log]


def test_the_nfw_mass_loop_equals_its_ufunc():
    """The vectorising loop of :func:`sigcube.model.special.cusp_mass` (closed form and series both computed, one
    selected) against the ufunc (one of them computed), from 10⁻¹² to 10³ and at the special values."""
    from sigcube.model.special import cusp_mass

    y = np.concatenate([10.0 ** np.random.default_rng(0).uniform(-12.0, 3.0, 20_000), [0.0, 0.1, np.inf, -1.0, np.nan]])
    got = loop_result(cusp_mass.ufunc, y)
    with np.errstate(invalid="ignore"):  # NaN for y < 0 and NaN
        want = cusp_mass(y)
    np.testing.assert_allclose(got, want, rtol=3e-14, equal_nan=True)
    in_place = y.copy()
    vecmath.apply(cusp_mass.ufunc, in_place, in_place)
    np.testing.assert_array_equal(in_place, got)
