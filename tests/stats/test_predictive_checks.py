"""Predictive checks of normalised residuals: standard normal draws pass, over- and under-dispersed ones are named."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sigcube.stats.predictive_checks import residual_checks, reading


def _offsets(rng, n_galaxies=200):
    counts = rng.integers(5, 40, n_galaxies)
    return np.concatenate([[0], np.cumsum(counts)])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_standard_normal_residuals_look_standard_normal(seed):
    rng = np.random.default_rng(seed)
    offsets = _offsets(rng)
    r = rng.standard_normal(offsets[-1])
    c = residual_checks(r, offsets, [f"g{i}" for i in range(len(offsets) - 1)])
    assert sum(c["histogram"]["counts"]) == r.size
    assert sum(c["histogram"]["expected"]) == pytest.approx(r.size)
    assert sum(c["pit"]["counts"]) == r.size and c["pit"]["expected"] == pytest.approx(r.size / 10)
    # a chi-square goodness of fit of the PIT histogram to the uniform (independent of the KS distance)
    assert stats.chisquare(c["pit"]["counts"]).pvalue > 1e-3
    assert c["ks"]["p_value"] > 1e-3 and abs(c["sd"] - 1) < 0.05
    lo, hi = c["chi2_red"]["p_below_5pc"]["ci"]
    assert lo <= 0.05 <= hi
    assert "consistent in width" in reading(c)


def test_residuals_wider_than_their_errors_are_called_too_narrow():
    rng = np.random.default_rng(3)
    offsets = _offsets(rng)
    c = residual_checks(1.5 * rng.standard_normal(offsets[-1]), offsets, [str(i) for i in range(len(offsets) - 1)])
    assert c["sd"] == pytest.approx(1.5, rel=0.05) and c["ks"]["p_value"] < 1e-6
    assert c["tails"]["|r|>3"]["observed"] > 5 * c["tails"]["|r|>3"]["expected"]
    assert "too narrow" in reading(c)


def test_residuals_narrower_than_their_errors_are_called_too_wide():
    rng = np.random.default_rng(4)
    offsets = _offsets(rng)
    c = residual_checks(0.6 * rng.standard_normal(offsets[-1]), offsets, [str(i) for i in range(len(offsets) - 1)])
    assert "too wide" in reading(c)


def test_qq_quantiles_of_normal_draws_follow_the_normal_ones():
    rng = np.random.default_rng(5)
    offsets = _offsets(rng, 400)
    c = residual_checks(rng.standard_normal(offsets[-1]), offsets, [str(i) for i in range(len(offsets) - 1)])
    mid = slice(3, -3)  # the central quantiles, where 8000 draws pin them to a few hundredths
    np.testing.assert_allclose(np.array(c["qq"]["observed"])[mid], np.array(c["qq"]["normal"])[mid], atol=0.06)
