"""Importance sampling of an evidence integral: proposals, draws, the estimate and how far to trust it.

An integral Z = ∫ f(x) dx over x ∈ ℝ^D is estimated from draws x_k ~ q of a proposal density q as the mean of the
weights w_k = f(x_k)/q(x_k): Ẑ = (1/N)·Σ w_k, unbiased whenever q > 0 wherever f > 0. Its numerical error is the
spread of the weights: to first order (the delta method) the standard deviation of ln Ẑ is

    σ(ln Ẑ) = √(Σ (w_k − w̄)²) / (N·w̄) ≈ √(1/ESS − 1/N),   ESS = (Σ w)²/Σ w²,

and ln Ẑ sits below ln Z by σ²/2 on average (Jensen), a bias added to the error where it matters. Both hold when the
weights have a finite variance; the shape k̂ of a generalised Pareto distribution fitted to the largest weights
(:func:`pareto_k`; Zhang & Stephens 2009, Technometrics 51, 316, as Vehtari et al. 2024, JMLR 25, 72 use it for
Pareto-smoothed importance sampling) says whether they do: k̂ < ½ finite variance, ½–0.7 the estimate still usable,
above 0.7 not to be trusted (the proposal misses part of the mass, or its tails are too light).

The proposals are mixtures of multivariate Student-t densities (:class:`Proposal`): their tails are heavier than a
Gaussian posterior's in every direction, so the weights stay bounded under a Gaussian prior.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln, logsumexp

USABLE_K = 0.7
"""Pareto k̂ above which an importance-sampling estimate is not trusted (Vehtari et al. 2024)."""


@dataclass(frozen=True)
class Proposal:
    """A mixture of D-dimensional Student-t densities with ``nu`` degrees of freedom: component j has weight
    ``weights[j]``, centre ``means[j]`` and scale matrix L_j·L_jᵀ, ``chol[j]`` = L_j (lower triangular)."""

    weights: np.ndarray
    means: np.ndarray
    chol: np.ndarray
    nu: float

    def __post_init__(self) -> None:
        w = np.asarray(self.weights, dtype=float)
        if w.ndim != 1 or w.size == 0 or not np.all(w >= 0) or not w.sum() > 0:
            raise ValueError(f"a proposal needs non-negative component weights that sum above 0; got {w}")
        object.__setattr__(self, "weights", w / w.sum())
        object.__setattr__(self, "means", np.atleast_2d(np.asarray(self.means, dtype=float)))
        object.__setattr__(self, "chol", np.asarray(self.chol, dtype=float).reshape(
            (w.size, self.means.shape[1], self.means.shape[1])))

    @property
    def dim(self) -> int:
        return int(self.means.shape[1])

    def draw(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` draws (n, D): each component's share by a multinomial draw, then x = μ + L·t, t a standard t."""
        counts = rng.multinomial(n, self.weights)
        parts = []
        for j, c in enumerate(counts):
            if c:
                z = rng.standard_normal((c, self.dim))
                scale = np.sqrt(self.nu / rng.chisquare(self.nu, c))
                parts.append(self.means[j] + (z @ self.chol[j].T) * scale[:, None])
        x = np.concatenate(parts)
        return x[rng.permutation(n)]

    def log_density(self, x: np.ndarray) -> np.ndarray:
        """ln q(x) of points x (n, D)."""
        x = np.atleast_2d(x)
        parts = [math.log(w) + t_log_density(x, m, l, self.nu)
                 for w, m, l in zip(self.weights, self.means, self.chol) if w > 0]
        return logsumexp(np.stack(parts), axis=0)


def t_log_density(x: np.ndarray, mean: np.ndarray, chol: np.ndarray, nu: float) -> np.ndarray:
    """ln of the D-dimensional Student-t density with ``nu`` degrees of freedom, centre ``mean`` and scale matrix
    L·Lᵀ (``chol`` = L), at points x (n, D)."""
    d = mean.size
    y = (np.atleast_2d(x) - mean) @ np.linalg.inv(chol).T
    quad = np.einsum("ij,ij->i", y, y)
    log_det = float(np.sum(np.log(np.abs(np.diagonal(chol)))))
    return (gammaln(0.5 * (nu + d)) - gammaln(0.5 * nu) - 0.5 * d * math.log(nu * math.pi) - log_det
            - 0.5 * (nu + d) * np.log1p(quad / nu))


@dataclass(frozen=True)
class Estimate:
    """ln Ẑ from N weights, its numerical error (1σ, the delta method), the effective sample size and the Pareto
    k̂ of the largest weights."""

    log_z: float
    error: float
    ess: float
    pareto_k: float
    n: int

    @property
    def trusted(self) -> bool:
        """Whether the weights' variance is finite enough for the error to mean what it says (k̂ ≤ :data:`USABLE_K`)."""
        return bool(self.pareto_k <= USABLE_K) and math.isfinite(self.log_z)


def estimate(log_w: np.ndarray) -> Estimate:
    """The importance-sampling estimate of ln Z from the log-weights ``log_w`` (module docstring); −∞ weights count
    as zero, NaN ones are an error of the caller."""
    log_w = np.asarray(log_w, dtype=float).ravel()
    if np.isnan(log_w).any():
        raise ValueError("log-weights must not be NaN")
    n = log_w.size
    top = float(np.max(log_w)) if n else -math.inf
    if not math.isfinite(top):
        return Estimate(-math.inf, math.inf, 0.0, math.inf, n)
    w = np.exp(log_w - top)
    total = float(w.sum())
    mean = total / n
    spread = float(np.sqrt(np.sum((w - mean) ** 2))) / (n * mean)
    return Estimate(top + math.log(mean), spread, total * total / float(np.sum(w * w)), pareto_k(log_w), n)


def pareto_k(log_w: np.ndarray) -> float:
    """The shape k̂ of the generalised Pareto distribution fitted to the largest weights: the M = ⌈min(N/5, 3√N)⌉
    largest, as excesses over the next one, by Zhang & Stephens's (2009) empirical-Bayes estimate with the weak prior
    Vehtari et al. (2024) add (k̂ shrunk towards ½ by 10 pseudo-observations). NaN with fewer than 5 tail weights; −∞
    weights are zeros."""
    log_w = np.sort(np.asarray(log_w, dtype=float).ravel())
    n = log_w.size
    m = int(math.ceil(min(0.2 * n, 3.0 * math.sqrt(n))))
    if m < 5 or not math.isfinite(log_w[-1]):
        return math.nan
    top = log_w[-1]
    threshold = math.exp(log_w[-m - 1] - top) if math.isfinite(log_w[-m - 1]) else 0.0
    excess = np.exp(log_w[-m:] - top) - threshold
    if not excess[-1] > 0:
        return 0.0
    return _gpd_shape(excess)


def _gpd_shape(x: np.ndarray) -> float:
    """Zhang & Stephens's estimate of a generalised Pareto shape from sorted excesses ``x`` > 0: θ (= −k/σ) averaged
    over a grid of its values, each weighted by its profile likelihood, then k̂ = mean ln(1 − θ̂x), shrunk by Vehtari
    et al.'s prior; k̂ > 0 is a heavy tail."""
    n = x.size
    grid = 30 + int(math.sqrt(n))
    theta = 1.0 - np.sqrt(grid / (np.arange(1, grid + 1) - 0.5))
    theta = theta / (3.0 * x[max(int(n / 4 + 0.5) - 1, 0)]) + 1.0 / x[-1]
    k = np.log1p(-theta[:, None] * x).mean(axis=1)
    profile = n * (np.log(-theta / k) - k - 1.0)
    weights = np.exp(profile - logsumexp(profile))
    theta_hat = float(np.sum(theta * weights))
    k_hat = float(np.log1p(-theta_hat * x).mean())
    return (n * k_hat + 10 * 0.5) / (n + 10)


def normalised(log_w: np.ndarray) -> np.ndarray:
    """The self-normalised weights, summing to 1."""
    log_w = np.asarray(log_w, dtype=float)
    return np.exp(log_w - logsumexp(log_w))


def weighted_moments(x: np.ndarray, log_w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The weighted mean (D,) and covariance (D, D) of draws x (n, D)."""
    w = normalised(log_w)
    mean = w @ x
    centred = x - mean
    return mean, (centred * w[:, None]).T @ centred


def resample(log_w: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``n`` draws resampled in proportion to their weights (systematic resampling: one uniform offset,
    n evenly spaced points through the cumulative weights)."""
    cum = np.cumsum(normalised(log_w))
    cum[-1] = 1.0
    return np.searchsorted(cum, (rng.random() + np.arange(n)) / n)
