"""Importance sampling (sigcube.stats.importance) on integrals whose value is known: Gaussian and skewed integrands in a
few dimensions. The estimate is unbiased to within its stated error, the stated error matches the spread of repeated
estimates, the Student-t density is scipy's, and the Pareto k̂ is ArviZ's (an independent implementation of
Zhang & Stephens's estimate with Vehtari et al.'s prior)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sigcube.stats import importance


def _gaussian(dim: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, float]:
    """A Gaussian integrand c·N(x; μ, Σ) with known integral c: (μ, Σ, ln c)."""
    a = rng.normal(size=(dim, dim))
    cov = a @ a.T / dim + 0.3 * np.eye(dim)
    return rng.normal(size=dim), cov, float(rng.normal(scale=50.0))


def _proposal(mean: np.ndarray, cov: np.ndarray, widen: float = 1.3) -> importance.Proposal:
    return importance.Proposal(np.array([1.0]), mean[None], widen * np.linalg.cholesky(cov)[None], 5.0)


@pytest.mark.parametrize("dim", [1, 3, 7])
def test_the_estimate_of_a_gaussian_integral_is_within_its_error(dim):
    rng = np.random.default_rng(dim)
    mean, cov, log_c = _gaussian(dim, rng)
    proposal = _proposal(mean + 0.2, cov)
    x = proposal.draw(4000, rng)
    log_w = log_c + stats.multivariate_normal(mean, cov).logpdf(x).reshape(-1) - proposal.log_density(x)
    found = importance.estimate(log_w)
    assert abs(found.log_z - log_c) < 4 * found.error
    assert found.trusted and 0 < found.ess <= found.n == 4000


def test_the_stated_error_is_the_spread_of_repeated_estimates():
    """40 estimates of one integral from independent draws: their sd within 30 % of the mean stated error."""
    rng = np.random.default_rng(3)
    mean, cov, log_c = _gaussian(5, rng)
    proposal = _proposal(mean - 0.3, 1.8 * cov)
    target = stats.multivariate_normal(mean, cov)
    found = []
    for seed in range(40):
        x = proposal.draw(1000, np.random.default_rng(100 + seed))
        found.append(importance.estimate(log_c + target.logpdf(x) - proposal.log_density(x)))
    spread = np.std([f.log_z for f in found], ddof=1)
    stated = np.mean([f.error for f in found])
    assert 0.7 < spread / stated < 1.3, (spread, stated)
    assert abs(np.mean([f.log_z for f in found]) - log_c) < 3 * spread / math.sqrt(40)


@settings(max_examples=25, deadline=None)
@given(dim=st.integers(1, 6), nu=st.floats(2.5, 30.0), seed=st.integers(0, 2**31))
def test_the_t_density_is_scipys(dim, nu, seed):
    rng = np.random.default_rng(seed)
    mean, cov, _ = _gaussian(dim, rng)
    chol = np.linalg.cholesky(cov)
    x = rng.normal(size=(20, dim)) * 3
    np.testing.assert_allclose(importance.t_log_density(x, mean, chol, nu),
                               stats.multivariate_t(mean, cov, df=nu).logpdf(x).reshape(-1), rtol=1e-10, atol=1e-10)


def test_a_mixtures_draws_follow_its_density():
    """A two-component mixture: its draws' histogram against its density (a χ² test of 20 equal-probability bins in
    one dimension), and its density integrating to 1."""
    proposal = importance.Proposal(np.array([0.3, 0.7]), np.array([[-2.0], [1.5]]), np.array([[[0.5]], [[1.0]]]), 4.0)
    x = proposal.draw(20000, np.random.default_rng(7))[:, 0]
    grid = np.linspace(-60, 60, 240001)
    pdf = np.exp(proposal.log_density(grid[:, None]))
    assert np.trapezoid(pdf, grid) == pytest.approx(1.0, abs=2e-3)  # the t tails beyond ±60 hold ~1e-3
    cdf = np.cumsum(pdf) * (grid[1] - grid[0])
    edges = np.interp(np.linspace(0, 1, 21)[1:-1] * cdf[-1], cdf, grid)
    counts = np.bincount(np.searchsorted(edges, x), minlength=20)
    assert stats.chisquare(counts).pvalue > 1e-3


def test_pareto_k_is_arvizs():
    """ArviZ's psislw returns the same k̂ (its own implementation of the same estimate) on weights of every kind of
    tail: bounded, exponential, Pareto tails of shape 0.3, 0.6 and 0.9."""
    arviz = pytest.importorskip("arviz")
    rng = np.random.default_rng(4)
    samples = [rng.uniform(size=4000), rng.exponential(size=4000)] + [rng.pareto(1.0 / k, size=4000) + 1 for k in
                                                                       (0.3, 0.6, 0.9)]
    for w in samples:
        log_w = np.log(w)
        _, k = arviz.psislw(log_w.copy())
        assert importance.pareto_k(log_w) == pytest.approx(float(k), abs=1e-6)


def test_heavy_weights_are_flagged():
    """An integrand with a heavier tail than its proposal (a Cauchy sampled by a normal) has k̂ above the usable bound;
    a matched proposal's is below ½."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(20000, 1))
    log_w = stats.cauchy.logpdf(x[:, 0]) - stats.norm.logpdf(x[:, 0])
    assert importance.estimate(log_w).pareto_k > importance.USABLE_K
    matched = stats.norm.logpdf(x[:, 0]) - stats.norm.logpdf(x[:, 0]) + rng.normal(scale=0.1, size=20000)
    assert importance.estimate(matched).pareto_k < 0.5


def test_resampling_keeps_the_weights_proportions():
    log_w = np.log(np.array([0.1, 0.2, 0.7]))
    picks = importance.resample(log_w, 10000, np.random.default_rng(0))
    np.testing.assert_allclose(np.bincount(picks, minlength=3) / 10000, [0.1, 0.2, 0.7], atol=1e-3)


def test_no_finite_weight_is_an_infinite_error():
    found = importance.estimate(np.full(10, -np.inf))
    assert found.log_z == -math.inf and found.error == math.inf and not found.trusted
    with pytest.raises(ValueError, match="NaN"):
        importance.estimate(np.array([0.0, np.nan]))
