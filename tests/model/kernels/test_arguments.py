"""Kernels called from Python with wrong shapes, NaNs or junk: a KernelError naming the argument, never numpy's."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest

from sigcube.constants import accel_from_velocity
from sigcube.model.kernels import KernelError, get_kernel

R = np.linspace(0.5, 10.0, 10)
V_BAR = np.linspace(20.0, 120.0, 10)


def points(**changes) -> dict:
    """The inputs of ``sigma`` at its defaults (rd_source = third) for ten points, with ``changes``."""
    base = {"r": R, "v_bar": V_BAR, "g_N": accel_from_velocity(V_BAR, R), "R_d_third": np.full(10, 2.0)}
    return {**base, **changes}


# (points, parameters, the message after "kernel 'sigma': " or the whole message). The cases marked "old: …"
# were a bare numpy/Python error, or a silent wrong result, before the checks.
CASES = [
    (points(v_bar=V_BAR[:9]), {}, "input 'r' has 10 values, 'v_bar' has 9; every input has one value per point"),
    (points(r=R.reshape(2, 5), v_bar=V_BAR.reshape(2, 5), g_N=np.ones((2, 5)), R_d_third=np.ones((2, 5))), {},
     "input 'r' must be a 1-D array over the points; got shape (2, 5)"),  # old: evaluated silently
    (points(r=5.0), {}, "input 'r' must be a 1-D array over the points; got shape ()"),
    (points(r=["a"] * 10), {}, "input 'r' must hold numbers; got ['a', 'a', "),  # old: UFuncTypeError
    (points(r="abc"), {}, "input 'r' must hold numbers; got 'abc'"),
    (points(r=None), {}, "input 'r' must hold numbers; got None"),  # old: TypeError
    (points(r=[1.0, [2.0, 3.0]]), {}, "input 'r' must be a 1-D array of numbers; got [1.0, [2.0, 3.0]]"),
    (points(r=np.where(np.arange(10) == 3, np.nan, R)), {},  # old: NaN in the output, silently
     "input 'r' has 1 non-finite value(s) (NaN or ±inf), the first at index 3 (nan)"),
    (points(v_bar=np.where(np.arange(10) == 7, np.inf, V_BAR)), {}, "input 'v_bar' has 1 non-finite value(s)"),
    (points(r=np.ones(10, dtype=bool)), {}, "input 'r' must hold numbers"),
    (points(), {"A0": np.nan}, "parameter 'A0' must be finite; got nan"),
    (points(), {"A0": np.inf}, "parameter 'A0' must be finite; got inf"),
    (points(), {"A0": None}, "parameter 'A0' must be a number (or an array of numbers); got None"),
    (points(), {"A0": "1.5"}, "parameter 'A0' must be a number (or an array of numbers); got '1.5'"),  # old: 1.5
    (points(), {"A0": True}, "parameter 'A0' must be a number (or an array of numbers); got True"),  # old: 1.0
    (points(), {"A0": [1.0, [2.0]]}, "parameter 'A0' must be a number (or an array of numbers)"),
    (points(), {"A0": np.array([1.0, 1.5, 2.0])},  # old: numpy's broadcast ValueError
     "parameter 'A0' has shape (3,), which does not broadcast against the 10 points (the point axis is last: "
     "shape (3, 1) evaluates each value at every point)"),
    (points(), {"A0": np.ones((3, 1)), "k": np.full((4, 1), 0.2)},
     "parameters 'A0' (3, 1), 'k' (4, 1) do not broadcast together"),
    (points(), {"window": 1}, "parameter 'window' must be one of linear, sqrt, power, c_local; got 1"),
    ({k: v for k, v in points().items() if k != "g_N"}, {}, "needs point inputs g_N"),
]


@pytest.mark.parametrize(("pts", "params", "message"), CASES, ids=[c[2][:40] for c in CASES])
def test_bad_arguments_raise_a_kernel_error_naming_them(pts, params, message):
    with pytest.raises(KernelError) as caught:
        get_kernel("sigma")(pts, **params)
    assert message in str(caught.value) and str(caught.value).startswith("kernel 'sigma'"), str(caught.value)


@pytest.mark.parametrize("junk", [None, [1.0, 2.0], np.ones(3), "r"])
def test_points_must_be_a_mapping(junk):
    with pytest.raises(KernelError, match="kernel 'mond': points must be a mapping of input name to a 1-D array"):
        get_kernel("mond")(junk)


@pytest.mark.parametrize("name", [["sigma"], None, 3])
def test_a_kernel_name_must_be_a_string(name):
    with pytest.raises(KernelError, match="a kernel name is a string; got"):
        get_kernel(name)


def test_what_is_valid_still_evaluates():
    """Lists and integer arrays are numbers; a parameter swept along its own axis; no points; Dask stays lazy."""
    sigma = get_kernel("sigma")
    reference = sigma(points())
    np.testing.assert_allclose(sigma(points(r=list(R), R_d_third=np.full(10, 2))), reference, rtol=1e-15)
    assert sigma(points(), A0=np.array([1.0, 1.5])[:, None], k=[0.2]).shape == (2, 10)
    assert sigma({k: np.empty(0) for k in points()}).shape == (0,)
    lazy = {k: da.from_array(np.asarray(v, dtype=float), chunks=5) for k, v in points().items()}
    out = sigma(lazy)
    assert isinstance(out, da.Array)
    np.testing.assert_allclose(out.compute(), reference, rtol=1e-12)
    with pytest.raises(KernelError, match="input 'r' must be a 1-D array over the points; got shape"):
        sigma({**lazy, "r": da.ones((2, 5))})
