"""The limits of τ_gal the galaxy-scale table takes (TAU_MIN, TAU_MAX): at both, over a grid of inclination priors
from nearly face-on to edge-on and tight to loose, the quantile map is finite and increasing and the table of u = e^y
finite; outside, :func:`tau_problem` says why and the table is not made."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sigcube.compute import quadrature_compiled as QC
from sigcube.compute.scale_prior import TAU_MAX, TAU_MIN, convolved_table, exp_table, log_table, tau_problem
from sigcube.stats.priors import TruncatedNormal

I0 = (5.0, 15.0, 30.0, 45.0, 60.0, 75.0, 85.0, 89.9)
E_I = (0.5, 2.0, 5.0, 10.0, 20.0)


@pytest.fixture(scope="module")
def inclinations() -> np.ndarray:
    """The log-scale tables h = ln(sin i/sin i0) of every (i0, e_i) of the grid, and one with i held (zeros)."""
    i0 = np.repeat(I0, len(E_I))
    prior = TruncatedNormal(i0, np.tile(E_I, len(I0)), 0.0, 90.0)
    tab = QC.tables(prior, len(i0))
    rad = np.radians(tab[..., 0])
    u = np.stack([np.sin(rad), np.cos(rad) * np.radians(tab[..., 1])], axis=-1) / np.sin(np.radians(i0))[:, None, None]
    return np.concatenate([log_table(u), np.zeros((1, QC.TABLE_SIZE, 2))])


@pytest.mark.parametrize("tau", [TAU_MIN, TAU_MAX])
def test_the_table_is_sound_at_both_limits(inclinations, tau):
    table = convolved_table(inclinations, tau)
    assert np.isfinite(table).all() and np.all(np.diff(table[..., 0], axis=1) > 0)
    assert np.isfinite(exp_table(table)).all()
    assert table[-1, :, 0] == pytest.approx(tau * np.linspace(-QC.TABLE_LIMIT, QC.TABLE_LIMIT, QC.TABLE_SIZE),
                                            rel=1e-6, abs=1e-9)  # i held: y = τζ exactly


def test_the_upper_limit_keeps_the_scale_finite_with_room():
    """u = e^(±TABLE_LIMIT·τ) times a velocity of 10⁴ km/s stays below float64's largest number at TAU_MAX."""
    assert TAU_MAX * QC.TABLE_LIMIT + math.log(1e4) < math.log(np.finfo(float).max)


@pytest.mark.parametrize("tau, says", [
    (0.0, None), (TAU_MIN, None), (0.3, None), (TAU_MAX, None),
    (TAU_MIN / 2, "below 0.001"), (1e-300, "below 0.001"), (TAU_MAX * 1.01, "above 30"), (1e300, "above 30"),
    (math.inf, "finite"), (math.nan, "finite"), (-0.1, "≥ 0"),
])
def test_what_tau_problem_says(tau, says):
    problem = tau_problem(tau)
    assert problem is None if says is None else says in problem
    if says is not None:
        with pytest.raises(ValueError, match="τ_gal"):
            convolved_table(np.zeros((1, QC.TABLE_SIZE, 2)), tau)
