"""The compiled pair solver's sums do not depend on where its arrays lie in memory.

Its loops are compiled with reassociation (SIMD sums). A loop that stores through one array while reading another is
run in a vector or a scalar version chosen by the two arrays' addresses, and the two versions round a sum differently:
a galaxy's ln L then changed in its last bits with the heap of the process that computed it (a worker process or
this one). Here each function's output array is put at every place around and between its inputs in one buffer, and
every placement must give the same bits."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pytest

from sigcube.compute import quadrature_compiled as QC

SIZES = [3, 8, 17, 23, 40, 64]
"""Points per galaxy: below, at and above a run of LOG_RUN and the vector widths."""


def _table() -> np.ndarray:
    """A (TABLE_SIZE, 2) map θ(z) = 1 + 0.05 z and its slope: the velocity scale near 1."""
    z = np.linspace(-QC.TABLE_LIMIT, QC.TABLE_LIMIT, QC.TABLE_SIZE)
    return np.ascontiguousarray(np.stack([1.0 + 0.05 * z, np.full_like(z, 0.05)], axis=-1))


def _placed(n: int, inputs: dict[str, np.ndarray]) -> Iterator[tuple[dict[str, np.ndarray], np.ndarray]]:
    """The inputs copied into one buffer 3n apart, with an output array of n values at every offset (in steps of one
    value) from 2n before the first input to 2n after the last that overlaps none of them."""
    spacing = 3 * n
    size = (len(inputs) + 4) * spacing
    starts = {name: (2 + k) * spacing for k, name in enumerate(inputs)}
    busy = np.zeros(size, dtype=bool)
    for s in starts.values():
        busy[s:s + n] = True
    for at in range(size - n):
        if busy[at:at + n].any():
            continue
        buf = np.zeros(size)
        placed = {}
        for name, s in starts.items():
            buf[s:s + n] = inputs[name]
            placed[name] = buf[s:s + n]
        yield placed, buf[at:at + n]


def _data(n: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(n)
    v_obs = rng.uniform(40.0, 160.0, n)
    e_v = rng.uniform(2.0, 9.0, n)
    return {"V": v_obs * rng.uniform(0.8, 1.2, n), "vo": v_obs, "ie": 1.0 / e_v, "e2": e_v ** 2,
            "yo": np.log(v_obs), "d2": (e_v / v_obs) ** 2}


def _one_value(n: int, names: list[str], call: Callable[[dict[str, np.ndarray], np.ndarray], float]) -> set[float]:
    data = _data(n)
    return {call(arrays, out) for arrays, out in _placed(n, {k: data[k] for k in names})}


Z = np.array([0.3, -0.2, 0.1, 0.0])


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("sa, sb", [(0.0, 0.0), (25.0, 0.0), (9.0, 0.01)], ids=["no scatter", "sigma_int", "floor"])
@pytest.mark.parametrize("tl", [0.0, 0.25], ids=["gaussian", "student"])
def test_the_gaussian_state_is_the_same_wherever_the_residuals_lie(n, sa, sb, tl):
    tab = _table()

    def call(x, r):
        f, lognorm = QC._state(x["V"], Z, 2, True, tab, x["vo"], x["ie"], x["e2"], 0, n, sa, sb, tl, -1.0, r, False,
                               np.ones(n))
        return (f, lognorm, r.tobytes())

    assert len(_one_value(n, ["V", "vo", "ie", "e2"], call)) == 1


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("sa, sb", [(0.0, 0.003), (25.0, 0.003)], ids=["fixed t", "floor"])
def test_the_log_normal_state_is_the_same_wherever_the_residuals_lie(n, sa, sb):
    tab = _table()
    data = _data(n)
    rs = 1.0 / np.sqrt(data["d2"] + sb)

    def call(x, r):
        f, lognorm = QC._state_log(x["V"], Z, 2, True, tab, x["yo"], x["d2"], 0, n, sa, sb, -1.0, r, rs)
        return (f, lognorm, r.tobytes())

    assert len(_one_value(n, ["V", "yo", "d2"], call)) == 1


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("tl", [0.0, 0.25], ids=["gaussian", "student"])
def test_the_inclination_integral_is_the_same_wherever_its_scratch_lies(n, tl):
    tab = _table()
    x_nodes, w = np.polynomial.hermite_e.hermegauss(7)
    lw = np.log(w)

    def call(x, cv):
        return QC._inclination(x["V"], 0.1, 1.0, tab, x["vo"], x["ie"], x["e2"], 0, n, 16.0, 0.002, tl, -1.0, 0.0,
                               x_nodes, lw, np.empty(7), cv, False, np.ones(n))

    assert len(_one_value(n, ["V", "vo", "ie", "e2"], call)) == 1
