"""Exact hierarchical (population) analysis of per-galaxy grid likelihoods: is one swept parameter universal?

**Model.** One swept parameter θ varies between galaxies: u_g ~ N(μ, τ²) independently per galaxy, with u = θ
(``scale="linear"``) or u = log10 θ (``scale="log"``). Every other grid axis φ is *shared*: one value for all
galaxies, under the grid's prior (equal mass per grid point, as the sweep's posterior uses). Galaxies are
independent given (μ, τ, φ).

**Likelihood.** Each galaxy's ln L_g(u, φ) [nat] is known at the stored grid points (nuisance parameters already
marginalised by the sweep). Between neighbouring grid points ln L_g is taken *linear in u* (L_g piecewise
exponential); outside the grid's range L_g = 0. Under that assumption the population integral is exact, cell by
cell (no quadrature in u):

    ∫ L_g(u) N(u; μ, τ²) du = Σ_i exp(l_i + b_i(μ − u_i) + b_i²τ²/2) · [Φ(β_i) − Φ(α_i)],
    b_i = (l_{i+1} − l_i)/(u_{i+1} − u_i),   α_i = (u_i − μ − b_iτ²)/τ,   β_i = (u_{i+1} − μ − b_iτ²)/τ,

evaluated in logarithms. As τ → 0 it tends to L_g(μ) interpolated, which is what τ = 0 uses, so a τ far below the
grid step is as exact as a wide one. A cell with a non-finite end (ln L_g = −inf) contributes nothing. The
assumption itself is only as good as the grid: Σ_g ln L_g is then linear between grid points too, so the τ = 0 model
needs a step below half its posterior's sd (a warning says when it is not; the sweep's own posterior needs the same).

**Hyper-priors.** μ uniform on ``mu_range`` (default: the θ grid's whole range, in u); τ by :class:`TauPrior`
(default half-normal with scale a quarter of μ's range); optionally a point mass ``prior_zero`` at τ = 0 (spike and
slab). The hyper-grid cuts μ's range and τ's support into equal cells, each represented by its centre and carrying
its exact prior mass (midpoint rule). The τ = 0 model — one universal θ, the global sweep's model — is evaluated
on the same μ cells: its log-likelihood is the sweep's Σ_g ln L_g interpolated linearly in u.

**Outputs** (:class:`Population`): the joint posterior of (μ, τ), the 1-D marginals, ln Z of the τ = 0 and τ > 0
models and their Bayes factor, and each galaxy's shrunken u_g (posterior mean and sd given all data, hyper-parameters
and φ marginalised) next to its own unshrunk estimate. Every number is in nats and in u.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Literal

import math

import numba
import numpy as np
import xarray as xr
from scipy.special import erfc, expit, log_ndtr, logsumexp, ndtr

from sigcube.errors import SigcubeError
from sigcube.stats import posterior

LN_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)
SQRT_HALF = np.sqrt(0.5)
DEEP_TAIL = -30.0
"""Below this standard deviate Φ is taken through its logarithm (Φ(−30) ≈ 5e−198; erfc underflows near −37.5)."""
HALF_NORMAL_SPAN = 4.0
"""The half-normal τ prior is truncated at this many scales (6.3 × 10⁻⁵ of its mass lies beyond; renormalised)."""
CHUNK_ELEMENTS = 1 << 19
"""(μ points × galaxies × grid cells) evaluated at once: bounds the memory of one step (~4 MB per array)."""
SHRINK_SKIP = 1e-14
"""Hyper-grid points holding less posterior mass than this are left out of the shrinkage sums."""
UPPER_LIMIT = 0.95
"""Credible level of the one-sided upper limit on τ."""
ZOOM_TAIL = 1e-7
"""A zoomed hyper-grid keeps each marginal's cells from this tail quantile to its complement, plus one cell each side."""
MAX_PASSES = 4
"""Hyper-grid evaluations at most: the priors' whole support at half the cells first, then the full hyper-grid on
the posterior's region, zoomed again while that region halves."""


class PopulationError(SigcubeError):
    """A population analysis that cannot run: a missing axis, NaN log-likelihoods, an impossible hyper-prior."""


class PopulationWarning(UserWarning):
    """The grid or the hyper-grid truncates or under-resolves the population posterior."""


@dataclass(frozen=True)
class TauPrior:
    """The prior of the population spread τ ≥ 0 (in u): ``half_normal`` (density ∝ exp(−τ²/2σ²), truncated at
    :data:`HALF_NORMAL_SPAN` σ and renormalised) or ``uniform`` on [0, τ_max]. ``scale`` is σ or τ_max; None takes it
    from the width W of μ's prior range: σ = W/4, τ_max = W/2.

    Half-normal is the default: it is proper (so the Bayes factor against τ = 0 is defined), its density is largest
    at τ = 0 and falls off smoothly (no hard edge whose placement sets the upper limit on τ), and it is the usual
    weakly informative prior for a hierarchical scale (Gelman 2006, Bayesian Analysis 1, 515). Either way ln B(τ = 0 :
    τ > 0) depends on the scale: when the data pin τ well inside the prior, widening the prior by a factor f moves
    ln B by about +ln f (Lindley's paradox)."""

    kind: Literal["half_normal", "uniform"] = "half_normal"
    scale: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("half_normal", "uniform"):
            raise PopulationError(f"unknown τ prior {self.kind!r}; choose half_normal or uniform")
        if self.scale is not None and not (np.isfinite(self.scale) and self.scale > 0):
            raise PopulationError(f"the τ prior's scale must be a positive number, not {self.scale}")

    def resolve(self, width: float) -> TauPrior:
        """This prior with its scale set (from μ's prior width ``width`` when it was None)."""
        if self.scale is not None:
            return self
        return TauPrior(self.kind, width / 4 if self.kind == "half_normal" else width / 2)

    @property
    def upper(self) -> float:
        """Where the τ hyper-grid ends: the support's end (uniform) or the truncation (half-normal)."""
        return HALF_NORMAL_SPAN * self.scale if self.kind == "half_normal" else self.scale

    def cell_mass(self, edges: np.ndarray) -> np.ndarray:
        """Exact prior mass of each cell between ``edges`` (inside [0, :attr:`upper`]; all of it sums to 1)."""
        if self.kind == "uniform":
            return np.diff(edges) / self.scale
        return np.diff(ndtr(edges / self.scale)) / (ndtr(HALF_NORMAL_SPAN) - 0.5)

    def describe(self, unit: str) -> str:
        """One line: the family, its scale and its truncation."""
        if self.kind == "half_normal":
            return (f"τ ~ half-normal(σ = {self.scale:.4g} {unit}) truncated at {self.upper:.4g} "
                    f"({HALF_NORMAL_SPAN:g}σ; mass beyond 6.3e-5, renormalised)")
        return f"τ ~ uniform on [0, {self.scale:.4g}] {unit}"


def log_gaussian_integral(loglike: np.ndarray, u: np.ndarray, mu: np.ndarray, tau: float) -> np.ndarray:
    """ln ∫ L(u) N(u; μ, τ²) du [nat] for each μ in ``mu`` and each row of ``loglike`` (ln L at the grid ``u``,
    shape (…, len(u))), with ln L linear in u between grid points and L = 0 outside [u[0], u[-1]]; τ = 0 gives
    ln L(μ) interpolated. Shape: (len(mu), …)."""
    ll, u, mu = _prepare(loglike, u, mu, tau)
    out = _interpolate(ll, u, mu) if tau == 0 else log_integral(ll, u, mu, tau)
    return out.reshape(mu.shape + np.shape(loglike)[:-1])


PRUNE = 36.0
"""The compiled integral skips a cell whose upper bound lies this many nats below one cell's exact term (each such
cell changes the sum by less than e^−36 ≈ 2e−16 of it)."""


def log_integral(ll: np.ndarray, u: np.ndarray, mu: np.ndarray, tau: float) -> np.ndarray:
    """The closed form of the module docstring for τ > 0 (rows of ``ll`` over the grid ``u``), compiled: each
    (μ, row) sums its cells' terms in logs, skipping cells whose bound e^{max ln L}·∫_cell N lies :data:`PRUNE`
    nats below the exact term of the cell with the largest bound. Shape (len(mu), rows)."""
    out = np.empty((mu.size, ll.shape[0]))
    _log_integral(np.ascontiguousarray(ll, dtype=float), np.ascontiguousarray(u, dtype=float),
                  np.ascontiguousarray(mu, dtype=float), float(tau), out)
    return out


@numba.njit(cache=True)
def _log_ndtr(x):  # pragma: no cover
    """ln Φ(x): through erfc above −30, else the asymptotic series (relative error below 1e−14 there)."""
    if x > -30.0:
        return math.log(0.5 * math.erfc(-x * 0.7071067811865476))
    z = 1.0 / (x * x)
    series = 1.0 - z * (1.0 - 3.0 * z * (1.0 - 5.0 * z * (1.0 - 7.0 * z)))
    return -0.5 * x * x - math.log(-x) - 0.9189385332046728 + math.log(series)


@numba.njit(cache=True)
def _cell_term(l0, l1, u0, h, mu, tau):  # pragma: no cover
    """ln ∫ exp(ln L linear from l0 to l1 over [u0, u0 + h]) N(u; μ, τ²) du."""
    b = (l1 - l0) / h
    alpha = (u0 - mu - b * tau * tau) / tau
    q = h / tau
    beta = alpha + q
    m = alpha + 0.5 * q
    if q * (1.0 + abs(m)) < 0.2:
        # the midpoint series Φ(m + q/2) − Φ(m − q/2) = qφ(m)·Σ_k (q/2)^2k He_2k(m)/(2k + 1)!, to k = 3: the next
        # term is below 3e−14 relative here (and the difference of Φ's would cancel)
        m2, q2 = m * m, q * q
        series = (q2 * (m2 - 1.0) / 24.0 + q2 * q2 * ((m2 - 6.0) * m2 + 3.0) / 1920.0
                  + q2 * q2 * q2 * (((m2 - 15.0) * m2 + 45.0) * m2 - 15.0) / 322560.0)
        log_dphi = math.log(q) - 0.5 * m2 - 0.9189385332046728 + math.log1p(series)
    else:
        if alpha > 0.0:
            hi, lo = -alpha, -beta
        else:
            hi, lo = beta, alpha
        if hi < -30.0:
            lh = _log_ndtr(hi)
            log_dphi = lh + math.log(-math.expm1(_log_ndtr(lo) - lh))
        else:
            d = 0.5 * (math.erfc(-hi * 0.7071067811865476) - math.erfc(-lo * 0.7071067811865476))
            log_dphi = math.log(d) if d > 0.0 else _log_ndtr(hi) + math.log(-math.expm1(_log_ndtr(lo) - _log_ndtr(hi)))
    return l0 - b * u0 + 0.5 * (b * tau) ** 2 + b * mu + log_dphi


@numba.njit(cache=True)
def _row_terms(ll, u, r, m, tau, terms):  # pragma: no cover
    """Fill ``terms`` with ln c_i of row ``r`` at μ = ``m`` (−inf for pruned or dead cells); return ln Σ c_i."""
    n = u.size
    log_norm = -math.log(tau * 2.5066282746310002)
    best, at = -np.inf, -1
    for i in range(n - 1):
        l0, l1 = ll[r, i], ll[r, i + 1]
        if not (math.isfinite(l0) and math.isfinite(l1)):
            terms[i] = -np.inf
            continue
        h = u[i + 1] - u[i]
        d = max(u[i] - m, m - u[i + 1], 0.0)
        cap = min(math.log(h) + log_norm, 0.0 if d == 0.0 else -0.6931471805599453)
        terms[i] = max(l0, l1) + cap - 0.5 * (d / tau) ** 2
        if terms[i] > best:
            best, at = terms[i], i
    if at < 0:
        return -np.inf
    floor = _cell_term(ll[r, at], ll[r, at + 1], u[at], u[at + 1] - u[at], m, tau) - PRUNE
    top = -np.inf
    for i in range(n - 1):
        if terms[i] >= floor:
            terms[i] = _cell_term(ll[r, i], ll[r, i + 1], u[i], u[i + 1] - u[i], m, tau)
            top = max(top, terms[i])
        else:
            terms[i] = -np.inf
    total = 0.0
    for i in range(n - 1):
        if terms[i] > -np.inf:
            total += math.exp(terms[i] - top)
    return top + math.log(total)


@numba.njit(cache=True)
def _log_integral(ll, u, mu, tau, out):  # pragma: no cover
    terms = np.empty(u.size - 1)
    for r in range(ll.shape[0]):
        for k in range(mu.size):
            out[k, r] = _row_terms(ll, u, r, mu[k], tau, terms)


def accumulate_shares(ll: np.ndarray, u: np.ndarray, row: np.ndarray, mu: np.ndarray, tau: np.ndarray,
                      weight: np.ndarray, out: np.ndarray) -> None:
    """For every entry e: add ``weight[e]`` × the share of each grid cell in ∫ L_row N(u; μ_e, τ_e²) du (τ_e > 0)
    to ``out[row[e]]`` (rows × cells): a galaxy's posterior mass per cell, summed over hyper-grid points."""
    _accumulate(np.ascontiguousarray(ll, dtype=float), np.ascontiguousarray(u, dtype=float),
                np.ascontiguousarray(row, dtype=np.int64), np.ascontiguousarray(mu, dtype=float),
                np.ascontiguousarray(tau, dtype=float), np.ascontiguousarray(weight, dtype=float), out)


@numba.njit(cache=True)
def _accumulate(ll, u, row, mu, tau, weight, out):  # pragma: no cover
    terms = np.empty(u.size - 1)
    for e in range(row.size):
        total = _row_terms(ll, u, row[e], mu[e], tau[e], terms)
        if not math.isfinite(total):
            continue
        for i in range(u.size - 1):
            if terms[i] > -np.inf:
                out[row[e], i] += weight[e] * math.exp(terms[i] - total)


def conditional_moments(loglike: np.ndarray, u: np.ndarray, mu: np.ndarray, tau: float
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of u_g under the density ∝ L_g(u) N(u; μ, τ²) (one galaxy's posterior given μ, τ), exact for
    ln L_g linear in u between grid points and L_g = 0 outside the grid (τ = 0: the point μ). Shapes as
    :func:`log_gaussian_integral`."""
    ll, u, mu = _prepare(loglike, u, mu, tau)
    shape = mu.shape + np.shape(loglike)[:-1]
    if tau == 0:
        mean = np.broadcast_to(mu[:, None], (mu.size, ll.shape[0]))
        return mean.reshape(shape).copy(), np.zeros(shape)
    _, mean, var = _chunked(ll, u, mu, tau, moments=True)
    return mean.reshape(shape), var.reshape(shape)


def flat_moments(loglike: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ln ∫ L du, and the mean and variance of u under the density ∝ L(u) (a flat prior on the grid's range), exact
    for ln L linear in u between grid points; one value per row of ``loglike`` (…, len(u))."""
    ll, u, _ = _prepare(loglike, u, np.zeros(1))
    shape = np.shape(loglike)[:-1]
    return tuple(a.reshape(shape) for a in _flat(ll, u)[:3])


def _flat(ll: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`flat_moments` of the rows of ``ll`` (rows, len(u)), and the share of ∫ L du in the two end cells."""
    h = np.diff(u)
    l0, l1 = ll[:, :-1], ll[:, 1:]
    ok = np.isfinite(l0) & np.isfinite(l1)
    log_k, frac_mean, frac_var = _exponential_cell(np.where(ok, l1 - l0, 0.0))
    log_mass = np.where(ok, l0 + np.log(h) + log_k, -np.inf)
    total = _logsumexp(log_mass)
    w = np.exp(log_mass - total[:, None])
    cell_mean = u[:-1] + h * frac_mean
    mean = np.sum(w * cell_mean, axis=-1)
    var = np.sum(w * (h ** 2 * frac_var + (cell_mean - mean[:, None]) ** 2), axis=-1)
    return total, mean, var, w[:, 0] + w[:, -1]


def _prepare(loglike: np.ndarray, u: np.ndarray, mu: np.ndarray, tau: float = 0.0
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows, len(u)) log-likelihoods, the grid and μ as float arrays; the grid must increase strictly, τ ≥ 0."""
    u = np.asarray(u, dtype=float)
    ll = np.asarray(loglike, dtype=float).reshape(-1, u.size)
    if u.size < 2 or not np.all(np.diff(u) > 0):
        raise PopulationError("the θ grid must have at least two strictly increasing points")
    if not (np.isfinite(tau) and tau >= 0):
        raise PopulationError(f"τ must be a finite number ≥ 0, not {tau}")
    return ll, u, np.atleast_1d(np.asarray(mu, dtype=float))


def _interpolate(ll: np.ndarray, u: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """ln L at ``mu``, linear in u between grid points, −inf outside the grid or inside a cell with a non-finite end:
    shape (len(mu), rows)."""
    i = np.clip(np.searchsorted(u, mu, side="right") - 1, 0, u.size - 2)
    t = (mu - u[i]) / (u[i + 1] - u[i])
    l0, l1 = ll[:, i].T, ll[:, i + 1].T
    with np.errstate(invalid="ignore"):
        inside = np.where(np.isfinite(l0) & np.isfinite(l1), l0 + t[:, None] * (l1 - l0), -np.inf)
    out = np.where(t[:, None] == 0, l0, np.where(t[:, None] == 1, l1, inside))
    return np.where(((mu < u[0]) | (mu > u[-1]))[:, None], -np.inf, out)


def _chunked(ll: np.ndarray, u: np.ndarray, mu: np.ndarray, tau: float, moments: bool
             ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """:func:`_cells` over row chunks of at most :data:`CHUNK_ELEMENTS` (μ × rows × cells): ln I, and with
    ``moments`` the conditional mean and variance; each (len(mu), rows)."""
    rows = max(1, CHUNK_ELEMENTS // max(mu.size * (u.size - 1), 1))
    parts = [_cells(ll[a:a + rows], u, mu, tau, moments) for a in range(0, ll.shape[0], rows)]
    log_i = np.concatenate([p[0] for p in parts], axis=1)
    if not moments:
        return log_i, None, None
    return log_i, np.concatenate([p[1] for p in parts], axis=1), np.concatenate([p[2] for p in parts], axis=1)


def cell_log_terms(ll: np.ndarray, u: np.ndarray, mu: np.ndarray, tau: float
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each grid cell's term of the closed form (module docstring) for τ > 0: ln c_i = ln ∫_cell L N(μ, τ²) du,
    shape (len(mu), rows, cells) for ``ll`` (rows, len(u)); with the slopes b, the standardised lower ends α and
    ln ΔΦ the moments need."""
    h = np.diff(u)
    l0, l1 = ll[:, :-1], ll[:, 1:]
    ok = np.isfinite(l0) & np.isfinite(l1)
    with np.errstate(invalid="ignore"):
        b = np.where(ok, (l1 - l0) / h, 0.0)
    base = np.where(ok, l0 - b * u[:-1] + 0.5 * (b * tau) ** 2, -np.inf)  # ln c_i = base + b·μ + ln ΔΦ
    alpha = (u[:-1] - b * tau ** 2) / tau - (mu / tau)[:, None, None]
    log_dphi = _log_ndtr_diff(alpha, h / tau)
    return base + b * mu[:, None, None] + log_dphi, b, alpha, log_dphi


def _cells(ll: np.ndarray, u: np.ndarray, mu: np.ndarray, tau: float, moments: bool
           ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """The closed form of the module docstring for τ > 0, cell by cell, summed in logs: ln I (len(mu), rows); with
    ``moments`` also the mean and variance of u under L·N (each cell's share is a truncated normal)."""
    h = np.diff(u)
    log_c, b, alpha, log_dphi = cell_log_terms(ll, u, mu, tau)
    log_i = _logsumexp(log_c)
    if not moments:
        return log_i, None, None
    with np.errstate(invalid="ignore", over="ignore"):
        w = _exp(log_c - log_i[..., None])
        beta = alpha + h / tau
        ra = np.exp(-0.5 * alpha ** 2 - LN_SQRT_2PI - log_dphi)
        rb = np.exp(-0.5 * beta ** 2 - LN_SQRT_2PI - log_dphi)
        used = w > 0
        offset = np.where(used, tau * (ra - rb), 0.0)  # cell mean − (μ + b τ²)
        second = tau ** 2 * (1 + alpha * ra - beta * rb)
        cell_var = np.where(used, np.clip(second - offset ** 2, 0.0, h ** 2 / 4), 0.0)  # width h: var ≤ h²/4
    cell_mean = mu[:, None, None] + b * tau ** 2 + offset
    mean = np.sum(w * cell_mean, axis=-1)
    var = np.sum(w * (cell_var + (cell_mean - mean[..., None]) ** 2), axis=-1)
    return log_i, mean, var


def _log_ndtr_diff(alpha: np.ndarray, q: np.ndarray) -> np.ndarray:
    """ln(Φ(α + q) − Φ(α)) for q > 0, accurate in both tails: mirrored to the lower tail when α > 0, then a difference
    of erfc values, or of log Φ values where the upper end lies below :data:`DEEP_TAIL` (erfc would underflow)."""
    flip = alpha > 0
    beta = alpha + q
    hi, lo = np.where(flip, -alpha, beta), np.where(flip, -beta, alpha)
    with np.errstate(divide="ignore"):
        out = np.log(0.5 * (erfc(-SQRT_HALF * hi) - erfc(-SQRT_HALF * lo)))
    deep = hi < DEEP_TAIL
    if deep.any():
        l_hi = log_ndtr(hi[deep])
        out[deep] = l_hi + np.log(-np.expm1(log_ndtr(lo[deep]) - l_hi))
    return out


def _logsumexp(x: np.ndarray) -> np.ndarray:
    """ln Σ exp over the last axis (−inf for an all −inf row)."""
    top = np.max(x, axis=-1)
    top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        return np.log(np.sum(_exp(x - top[..., None]), axis=-1)) + top


def _exp(x: np.ndarray) -> np.ndarray:
    """exp(x) with results below e^−700 set to 0: subnormal numbers would slow every later operation a hundredfold,
    and they change no sum of terms up to 1 by more than 1e−300."""
    return np.exp(np.where(x > -700.0, x, -np.inf))


def _exponential_cell(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For the density ∝ e^{x s} on s ∈ [0, 1]: ln ∫ e^{xs} ds = ln((e^x − 1)/x), the mean and the variance of s
    (series below |x| = 0.01, where the closed forms cancel)."""
    small = np.abs(x) < 1e-2
    xs = np.where(small, 1.0, x)
    with np.errstate(over="ignore", invalid="ignore"):
        log_k = np.where(xs > 0, xs + np.log(-np.expm1(-xs)), np.log(-np.expm1(xs))) - np.log(np.abs(xs))
        mean = 1 / (-np.expm1(-xs)) - 1 / xs
        var = 1 / xs ** 2 - 1 / (4 * np.sinh(xs / 2) ** 2)
    return (np.where(small, x / 2 + x ** 2 / 24 - x ** 4 / 2880, log_k),
            np.where(small, 0.5 + x / 12 - x ** 3 / 720, mean),
            np.where(small, 1 / 12 - x ** 2 / 240 + x ** 4 / 6048, var))


def interpret_ln_b(ln_b: float) -> str:
    """Words for ln B(τ = 0 : τ > 0) on the Kass & Raftery (1995) scale (|ln B| < 1, 1–3, 3–5, > 5 nat)."""
    size = abs(ln_b)
    strength = ("not worth more than a bare mention" if size < 1 else "positive" if size < 3
                else "strong" if size < 5 else "very strong")
    favoured = "one universal value (τ = 0)" if ln_b > 0 else "a spread between galaxies (τ > 0)"
    return f"ln B(τ = 0 : τ > 0) = {ln_b:+.2f} nat: {strength} evidence for {favoured} (Kass & Raftery 1995)"


@dataclass(frozen=True)
class TauMarginal:
    """τ's posterior: the atom ``atom`` = P(τ = 0 | data) (0 without a spike) and the τ > 0 part ``slab`` (normalised
    on its own; mass uniform within each hyper-grid cell)."""

    atom: float
    slab: posterior.Marginal1D
    name: str = "tau"

    @property
    def mean(self) -> float:
        """Posterior mean of τ."""
        return (1 - self.atom) * self.slab.mean

    @property
    def sd(self) -> float:
        """Posterior standard deviation of τ."""
        second = (1 - self.atom) * (self.slab.sd ** 2 + self.slab.mean ** 2)
        return float(np.sqrt(max(second - self.mean ** 2, 0.0)))

    def quantile(self, p: float | np.ndarray) -> np.ndarray:
        """The value below which τ's posterior holds mass ``p`` (0 while ``p`` falls in the atom)."""
        p = np.asarray(p, dtype=float)
        inner = np.clip((p - self.atom) / (1 - self.atom), 0.0, 1.0) if self.atom < 1 else np.zeros_like(p)
        return np.where(p <= self.atom, 0.0, self.slab.quantile(inner))

    def cdf(self, x: float | np.ndarray) -> np.ndarray:
        """Posterior mass of τ ≤ ``x`` (the atom included at x = 0)."""
        x = np.asarray(x, dtype=float)
        return np.where(x < 0, 0.0, self.atom + (1 - self.atom) * self.slab.cdf(x))

    def interval(self, level: float) -> tuple[float, float]:
        """Equal-tailed credible interval holding ``level`` (it starts at 0 when the atom covers the lower tail)."""
        lo, hi = self.quantile(np.array([(1 - level) / 2, (1 + level) / 2]))
        return float(lo), float(hi)

    def upper_limit(self, level: float = UPPER_LIMIT) -> float:
        """One-sided upper limit: P(τ ≤ limit | data) = ``level``."""
        return float(self.quantile(level))


@dataclass(frozen=True)
class Population:
    """The result of :func:`population`, in u (θ or log10 θ) and nats.

    The τ = 0 model (one universal value) and the τ > 0 model are kept apart: ``log_like_zero`` (μ, shared…) and
    ``log_like`` (μ, τ, shared…) are Σ_g ln ∫ L_g N on the final hyper-grid, ``mass_zero`` and ``mass`` each model's
    normalised posterior there; ``prior_mu`` and ``prior_tau`` the prior masses of the hyper-grid's cells (they sum
    to less than 1 when the grid was zoomed onto the posterior); the shared axes' prior is equal mass per point."""

    parameter: str
    scale: str
    galaxy_dim: str
    u: np.ndarray
    galaxies: np.ndarray
    shared: dict[str, np.ndarray]
    mu_range: tuple[float, float]
    tau_prior: TauPrior
    prior_zero: float
    mu: np.ndarray
    mu_edges: np.ndarray
    tau: np.ndarray
    tau_edges: np.ndarray
    prior_mu: np.ndarray
    prior_tau: np.ndarray
    log_like_zero: np.ndarray
    log_like: np.ndarray
    mass_zero: np.ndarray
    mass: np.ndarray
    log_evidence_zero: float
    log_evidence_spread: float
    passes: int
    excluded: float
    """Posterior mass the previous pass put outside the final hyper-grid (0 without zooming)."""
    grid_loglike: np.ndarray = field(repr=False)
    """The input ln L_g as (shared points, galaxies, θ points), θ increasing: what the shrinkage is computed from."""
    own_mean: np.ndarray
    own_sd: np.ndarray
    own_edge_galaxies: tuple[str, ...]
    outside_mass: float
    """Posterior expectation of the population's mass N(μ, τ²) outside the grid's range."""
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def unit(self) -> str:
        """The population's variable in words: θ or log10 θ."""
        return self.parameter if self.scale == "linear" else f"log10 {self.parameter}"

    @property
    def ln_bayes_factor(self) -> float:
        """ln B(τ = 0 : τ > 0) = ln Z(τ = 0) − ln Z(τ > 0) [nat], whatever ``prior_zero``."""
        return self.log_evidence_zero - self.log_evidence_spread

    @property
    def prob_tau_zero(self) -> float:
        """Posterior probability of τ = 0: 1/(1 + (1 − p₀)/p₀ · e^{−ln B}) (0 without a spike, p₀ = 0)."""
        if self.prior_zero == 0:
            return 0.0
        return float(expit(np.log(self.prior_zero / (1 - self.prior_zero)) + self.ln_bayes_factor))

    def marginal(self, name: str, model: Literal["both", "zero", "spread"] = "both"
                 ) -> posterior.Marginal1D | TauMarginal:
        """The 1-D posterior marginal of ``mu``, ``tau`` (a :class:`TauMarginal`) or a shared axis under ``model``:
        ``both`` mixes the two models by their posterior probabilities, ``zero`` is the τ = 0 model alone (one
        universal value: the global sweep's posterior), ``spread`` the τ > 0 model alone. Mass is uniform within each
        cell for quantiles and intervals."""
        axes = ["mu", "tau", *self.shared]
        if name not in axes or model not in ("both", "zero", "spread") or (model, name) == ("zero", "tau"):
            raise PopulationError(f"no marginal {name!r} of the {model!r} model; the axes are {', '.join(axes)} "
                                  "(τ is 0 in the zero model) and the models both, zero, spread")
        p0 = {"both": self.prob_tau_zero, "zero": 1.0, "spread": 0.0}[model]
        spread = self.mass.sum(axis=tuple(j for j in range(self.mass.ndim) if j != axes.index(name)))
        if name == "tau":
            return TauMarginal(p0, posterior.Marginal1D("tau", self.tau, spread, self.tau_edges))
        k = axes.index(name) - (name != "mu")
        zero = self.mass_zero.sum(axis=tuple(j for j in range(self.mass_zero.ndim) if j != k))
        mass = (1 - p0) * spread + p0 * zero
        if name == "mu":
            return posterior.Marginal1D(name, self.mu, mass, self.mu_edges)
        return posterior.Marginal1D(name, self.shared[name], mass, posterior.cell_edges(self.shared[name]))

    @cached_property
    def galaxy_estimates(self) -> xr.Dataset:
        """Per galaxy: ``shrunk_mean``, ``shrunk_sd`` (posterior of u_g given every galaxy, (μ, τ, shared axes)
        marginalised over both models) beside ``own_mean``, ``own_sd`` (its own ln L alone, flat prior on the grid's
        range). Computed on first use: it costs about one more pass over the hyper-grid's posterior bulk."""
        centre = 0.5 * (self.u[0] + self.u[-1])
        p0 = self.prob_tau_zero
        n_phi = self.grid_loglike.shape[0]
        mean, var = _shrinkage(self.grid_loglike, self.u - centre, self.mu - centre, self.tau,
                               (1 - p0) * self.mass.reshape(self.mu.size, self.tau.size, n_phi),
                               p0 * self.mass_zero.reshape(self.mu.size, n_phi))
        g = self.galaxy_dim
        return xr.Dataset({
            "shrunk_mean": (g, mean + centre, {"long_name": f"posterior mean of {self.unit}_g"}),
            "shrunk_sd": (g, np.sqrt(var), {"long_name": f"posterior sd of {self.unit}_g"}),
            "own_mean": (g, self.own_mean, {"long_name": f"mean of {self.unit}_g from its own ln L alone"}),
            "own_sd": (g, self.own_sd, {"long_name": f"sd of {self.unit}_g from its own ln L alone"}),
        }, coords={g: self.galaxies})

    def describe(self, levels: Sequence[float] = posterior.LEVELS) -> list[str]:
        """Report lines: the model, every prior and assumption, the results and the warnings."""
        lo, hi = self.mu_range
        gal = self.galaxy_dim
        lines = [
            f"model: {self.unit}_g ~ N(μ, τ²) independently per {gal}; "
            + (f"shared (global) axes {', '.join(self.shared)}: one value for every {gal}, prior equal mass per grid "
               "point; " if self.shared else "")
            + f"independent across {gal} given the hyper-parameters",
            f"likelihood: each {gal}'s stored ln L (nuisance marginalised by the sweep), taken linear in {self.unit} "
            f"between the {self.u.size} grid points and zero outside [{self.u[0]:.4g}, {self.u[-1]:.4g}]; the "
            "population integral is exact for that (erf per cell)",
            f"μ ~ uniform on [{lo:.4g}, {hi:.4g}]; {self.tau_prior.describe(self.unit)}; P(τ = 0) = {self.prior_zero:g}"
            + (" a priori (spike and slab)" if self.prior_zero else " (no spike: the reported posterior is the τ > 0 "
                                                                    "model's)"),
            f"hyper-grid: {self.mu.size} × {self.tau.size} equal cells (midpoint rule, each with its exact prior "
            f"mass) over μ ∈ [{self.mu_edges[0]:.4g}, {self.mu_edges[-1]:.4g}], τ ∈ [{self.tau_edges[0]:.4g}, "
            f"{self.tau_edges[-1]:.4g}]" + (f", zoomed onto the posterior in {self.passes} passes (the previous pass "
                                            f"put {self.excluded:.1e} of it outside)" if self.passes > 1 else ""),
            f"ln Z(τ = 0) = {self.log_evidence_zero:.3f} nat (one universal {self.unit}: the sweep's Σ ln L, "
            f"interpolated, under the same μ prior); ln Z(τ > 0) = {self.log_evidence_spread:.3f} nat",
            interpret_ln_b(self.ln_bayes_factor) + "; it depends on the τ prior's scale (about +ln f when the prior "
                                                   "is widened f-fold and the data pin τ inside it)",
        ]
        if self.prior_zero:
            lines.append(f"P(τ = 0 | data) = {self.prob_tau_zero:.4g}")
        for name in ("mu", "tau", *self.shared):
            m = self.marginal(name)
            cis = "  ".join(f"{int(round(100 * lv))}%: [{a:.4g}, {b:.4g}]" for lv in levels
                            for a, b in [m.interval(lv)])
            extra = (f"  {int(round(100 * UPPER_LIMIT))}% upper limit {m.upper_limit():.4g}"
                     if isinstance(m, TauMarginal) else "")
            lines.append(f"{name}: mean {m.mean:.4g} ± {m.sd:.3g}  {cis}{extra}")
        lines.append(f"shrunken {self.unit}_g: posterior mean and sd given every {gal}, (μ, τ"
                     + "".join(f", {n}" for n in self.shared) + f") marginalised; own estimate: the {gal}'s ln L "
                     "alone under a flat prior on the grid's range" + (", shared axes weighted by their posterior"
                                                                      if self.shared else ""))
        return lines + list(self.notes)

    def to_dataset(self) -> xr.Dataset:
        """The result as an xr.Dataset (coordinates mu, tau, the shared axes and the galaxies; attrs["describe"])."""
        shared = tuple(self.shared)
        nat = {"units": "nat"}
        g = self.galaxy_dim
        data = {
            "log_like": (("mu", "tau", *shared), self.log_like, {**nat, "long_name": "Σ_g ln ∫ L_g N(μ, τ²), τ > 0"}),
            "log_like_tau0": (("mu", *shared), self.log_like_zero, {**nat, "long_name": "Σ_g ln L_g(μ), τ = 0"}),
            "prior_mu": ("mu", self.prior_mu, {"long_name": "prior mass of each μ cell"}),
            "prior_tau": ("tau", self.prior_tau, {"long_name": "prior mass of each τ cell (τ > 0 model)"}),
            "posterior": (("mu", "tau", *shared), self.mass, {"long_name": "posterior mass, τ > 0 model"}),
            "posterior_tau0": (("mu", *shared), self.mass_zero, {"long_name": "posterior mass, τ = 0 model"}),
            "log_evidence_tau0": ((), self.log_evidence_zero, nat),
            "log_evidence_tau_pos": ((), self.log_evidence_spread, nat),
            "ln_bayes_factor": ((), self.ln_bayes_factor, {**nat, "long_name": "ln Z(τ = 0) − ln Z(τ > 0)"}),
            "prob_tau_zero": ((), self.prob_tau_zero, {"long_name": "posterior probability of τ = 0"}),
        }
        coords = {"mu": self.mu, "tau": self.tau, **self.shared, g: self.galaxies}
        out = xr.Dataset(data, coords=coords).merge(self.galaxy_estimates)
        return out.assign_attrs(parameter=self.parameter, scale=self.scale, describe="\n".join(self.describe()))


def population(loglike: xr.DataArray, parameter: str, *, scale: Literal["linear", "log"] = "linear",
               galaxy_dim: str = "galaxy", mu_range: tuple[float, float] | None = None,
               tau_prior: TauPrior | None = None, prior_zero: float = 0.0, n_mu: int = 40,
               n_tau: int = 30) -> Population:
    """The population analysis of the module docstring on per-galaxy ``loglike`` [nat] (dims: ``parameter``, the
    shared axes, ``galaxy_dim``; numeric coordinates on every grid axis).

    ``scale``: the population lives in θ or log10 θ; ``mu_range``: μ's uniform prior range in that scale (default the
    grid's range; it must lie inside it); ``tau_prior``: τ's prior (default half-normal, σ = a quarter of μ's range);
    ``prior_zero``: prior probability of τ = 0 exactly (0: no spike; the Bayes factor is reported either way);
    ``n_mu`` × ``n_tau``: the hyper-grid's equal cells. A first pass with half as many cells covers the priors' whole
    support; the hyper-grid is then laid over the posterior's region (beyond :data:`ZOOM_TAIL` in either tail, plus
    one cell each side) and zoomed again while that region halves (at most :data:`MAX_PASSES` passes; cost ∝
    passes × n_mu × n_tau × galaxies × grid cells × shared points). Emits :class:`PopulationWarning` when the population reaches beyond the
    grid or a hyper-parameter's posterior sits on a hyper-grid edge or in one cell.
    """
    ll, u, shared, galaxies = _read(loglike, parameter, scale, galaxy_dim)
    lo, hi = (u[0], u[-1]) if mu_range is None else (float(mu_range[0]), float(mu_range[1]))
    if not (u[0] <= lo < hi <= u[-1]):
        raise PopulationError(f"μ's prior range [{lo:.4g}, {hi:.4g}] must be an interval inside the grid's range "
                              f"[{u[0]:.4g}, {u[-1]:.4g}] (in the {scale} scale)")
    if not 0 <= prior_zero < 1:
        raise PopulationError(f"prior_zero is a probability below 1, not {prior_zero}")
    if n_mu < 2 or n_tau < 2:
        raise PopulationError("the hyper-grid needs at least 2 cells in μ and 2 in τ")
    tau_prior = (tau_prior or TauPrior()).resolve(hi - lo)
    centre = 0.5 * (u[0] + u[-1])  # sums run relative to the grid's centre (no cancellation in the moments)
    us = u - centre
    mu_box, tau_box, excluded = (lo, hi), (0.0, tau_prior.upper), 0.0
    for passes in range(1, MAX_PASSES + 1):
        cells = (max(n_mu // 2, 2), max(n_tau // 2, 2)) if passes == 1 else (n_mu, n_tau)  # the first only aims
        mu_edges, tau_edges = np.linspace(*mu_box, cells[0] + 1), np.linspace(*tau_box, cells[1] + 1)
        mu, tau = 0.5 * (mu_edges[1:] + mu_edges[:-1]), 0.5 * (tau_edges[1:] + tau_edges[:-1])
        prior_mu, prior_tau = np.diff(mu_edges) / (hi - lo), tau_prior.cell_mass(tau_edges)
        zero, spread = _evaluate(ll, us, mu - centre, tau)
        mass_zero = _normalise(zero + np.log(prior_mu)[:, None])
        mass = _normalise(spread + np.log(prior_mu)[:, None, None] + np.log(prior_tau)[:, None])
        mu_next = _zoom(mu_edges, [mass_zero.sum(axis=-1), mass.sum(axis=(1, 2))], (lo, hi))
        tau_next = _zoom(tau_edges, [mass.sum(axis=(0, 2))], (0.0, tau_prior.upper))
        if passes == MAX_PASSES or (passes > 1 and np.ptp(mu_next) > np.ptp(mu_box) / 2
                                    and np.ptp(tau_next) > np.ptp(tau_box) / 2):
            break
        excluded = _outside(mass_zero, mass, mu, tau, mu_next, tau_next)
        mu_box, tau_box = mu_next, tau_next
    lp_phi = -np.log(ll.shape[0])
    log_z0 = float(logsumexp(zero + np.log(prior_mu)[:, None])) + lp_phi
    log_zs = float(logsumexp(spread + np.log(prior_mu)[:, None, None] + np.log(prior_tau)[:, None])) + lp_phi
    if not (np.isfinite(log_z0) or np.isfinite(log_zs)):
        raise PopulationError("the likelihood is zero at every hyper-grid point: no galaxy population fits the grid")
    p0 = 0.0 if prior_zero == 0 else float(expit(np.log(prior_zero / (1 - prior_zero)) + log_z0 - log_zs))
    own_mean, own_var, edge_share = _own(ll, us, (1 - p0) * mass.sum(axis=(0, 1)) + p0 * mass_zero.sum(axis=0))
    shape = tuple(v.size for v in shared.values())
    result = Population(
        parameter, scale, galaxy_dim, u, galaxies, shared, (lo, hi), tau_prior, float(prior_zero),
        mu, mu_edges, tau, tau_edges, prior_mu, prior_tau,
        zero.reshape(mu.size, *shape), spread.reshape(mu.size, tau.size, *shape),
        mass_zero.reshape(mu.size, *shape), mass.reshape(mu.size, tau.size, *shape), log_z0, log_zs, passes, excluded,
        ll, own_mean + centre, np.sqrt(own_var),
        tuple(str(g) for g in galaxies[edge_share > posterior.EDGE_WARNING]),
        (1 - p0) * _outside_grid(u, mu, tau, mass))
    notes = _warnings(result)
    for note in notes:
        warnings.warn(note, PopulationWarning, stacklevel=2)
    return replace(result, notes=tuple(notes))


def _read(loglike: xr.DataArray, parameter: str, scale: str, galaxy_dim: str
          ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """(shared points, galaxies, θ points) log-likelihoods, the θ grid in u (increasing), the shared axes, the names."""
    if not isinstance(loglike, xr.DataArray):
        raise PopulationError("loglike must be an xarray.DataArray with the grid axes and the galaxy axis as dims")
    dims = list(loglike.dims)
    for name, what in ((parameter, "the swept parameter"), (galaxy_dim, "the galaxy axis")):
        if name not in dims:
            raise PopulationError(f"{what} {name!r} is not a dimension of loglike ({', '.join(map(str, dims))})")
    if parameter == galaxy_dim:
        raise PopulationError("the swept parameter and the galaxy axis must be different dimensions")
    if scale not in ("linear", "log"):
        raise PopulationError(f"scale must be linear or log, not {scale!r}")
    shared_dims = [d for d in dims if d not in (parameter, galaxy_dim)]
    axes = {}
    for d in (parameter, *shared_dims):
        if d not in loglike.coords or not np.issubdtype(loglike[d].dtype, np.number):
            raise PopulationError(f"the grid axis {d!r} needs numeric coordinates")
        axes[d] = np.asarray(loglike[d].values, dtype=float)
    theta = axes.pop(parameter)
    if scale == "log" and not np.all(theta > 0):
        raise PopulationError(f"scale='log' needs {parameter} > 0 at every grid point")
    u = np.log10(theta) if scale == "log" else theta
    order = np.argsort(u)
    if u.size < 2 or np.any(np.diff(u[order]) <= 0):
        raise PopulationError(f"the {parameter} axis needs at least two distinct grid points")
    values = np.asarray(loglike.transpose(*shared_dims, galaxy_dim, parameter).values, dtype=float)
    if np.isnan(values).any() or np.isposinf(values).any():
        raise PopulationError("loglike holds NaN or +inf (an unfinished or failed sweep?); only finite values and "
                              "−inf (zero likelihood) are allowed")
    galaxies = (np.asarray(loglike[galaxy_dim].values) if galaxy_dim in loglike.coords
                else np.arange(loglike.sizes[galaxy_dim]))
    ll = values.reshape(-1, loglike.sizes[galaxy_dim], u.size)[..., order]
    dead = ~np.isfinite(ll).any(axis=(0, 2))
    if dead.any():
        raise PopulationError(f"{galaxy_dim} {galaxies[dead][0]} has no finite log-likelihood anywhere on the grid")
    return ll, u[order], axes, galaxies


def _evaluate(ll: np.ndarray, u: np.ndarray, mu: np.ndarray, tau: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Σ_g ln ∫ L_g N(μ, τ²) per shared point: the τ = 0 model (μ, shared) and the τ > 0 cells (μ, τ, shared)."""
    zero = np.empty((mu.size, ll.shape[0]))
    spread = np.empty((mu.size, tau.size, ll.shape[0]))
    for k, rows in enumerate(ll):
        zero[:, k] = _interpolate(rows, u, mu).sum(axis=1)
        for j, t in enumerate(tau):
            spread[:, j, k] = log_integral(rows, u, mu, t).sum(axis=1)
    return zero, spread


def _normalise(log_w: np.ndarray) -> np.ndarray:
    """exp(log_w) normalised to sum 1 (all zeros when every weight is zero)."""
    total = logsumexp(log_w)
    return np.exp(log_w - total) if np.isfinite(total) else np.zeros_like(log_w)


def _zoom(edges: np.ndarray, masses: list[np.ndarray], support: tuple[float, float]) -> tuple[float, float]:
    """The cells holding each (non-empty) marginal beyond :data:`ZOOM_TAIL` in either tail, one more cell each side,
    as an interval inside ``support``."""
    lo, hi = len(edges) - 1, 0
    for m in (m for m in masses if m.sum() > 0):
        cdf = np.cumsum(m) / m.sum()
        lo = min(lo, int(np.searchsorted(cdf, ZOOM_TAIL, side="right")))
        hi = max(hi, int(np.searchsorted(cdf, 1 - ZOOM_TAIL, side="left")))
    lo, hi = max(lo - 1, 0), min(hi + 1, len(edges) - 2)
    return max(edges[lo], support[0]), min(edges[hi + 1], support[1])


def _outside(mass_zero: np.ndarray, mass: np.ndarray, mu: np.ndarray, tau: np.ndarray,
             mu_box: tuple[float, float], tau_box: tuple[float, float]) -> float:
    """The larger of the two models' posterior mass outside the next hyper-grid's box."""
    in_mu = (mu >= mu_box[0]) & (mu <= mu_box[1])
    in_tau = (tau >= tau_box[0]) & (tau <= tau_box[1])
    return float(max(1 - mass_zero[in_mu].sum() if mass_zero.sum() else 0.0,
                     1 - mass[np.ix_(in_mu, in_tau)].sum() if mass.sum() else 0.0, 0.0))


def _shrinkage(ll: np.ndarray, u: np.ndarray, mu: np.ndarray, tau: np.ndarray, spread: np.ndarray,
               zero: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mean and variance of each u_g: its conditional moments given (μ, τ, φ) averaged over their posterior
    masses ``spread`` (τ > 0 cells) and ``zero`` (τ = 0, where u_g = μ); points below :data:`SHRINK_SKIP` left out."""
    first, second, total = np.zeros(ll.shape[1]), np.zeros(ll.shape[1]), 0.0
    for k, rows in enumerate(ll):
        keep = zero[:, k] > SHRINK_SKIP
        p = zero[keep, k]
        first += p @ mu[keep]
        second += p @ mu[keep] ** 2
        total += p.sum()
        for j, t in enumerate(tau):
            keep = spread[:, j, k] > SHRINK_SKIP
            if keep.any():
                p = spread[keep, j, k]
                mean, var = conditional_moments(rows, u, mu[keep], t)
                first += p @ mean
                second += p @ (var + mean ** 2)
                total += p.sum()
    mean = first / total
    return mean, np.maximum(second / total - mean ** 2, 0.0)


def _own(ll: np.ndarray, u: np.ndarray, phi_mass: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each galaxy's own mean and variance of u (flat prior on the grid's range; shared axes weighted by their
    posterior ``phi_mass``) and the share of its own likelihood in the grid's two end cells."""
    mean, second, edge = np.zeros(ll.shape[1]), np.zeros(ll.shape[1]), np.zeros(ll.shape[1])
    for p, rows in zip(phi_mass / phi_mass.sum(), ll):
        if p > 0:
            _, m, v, share = _flat(rows, u)
            mean += p * m
            second += p * (v + m ** 2)
            edge += p * share
    return mean, np.maximum(second - mean ** 2, 0.0), edge


def _outside_grid(u: np.ndarray, mu: np.ndarray, tau: np.ndarray, mass: np.ndarray) -> float:
    """Expectation over the τ > 0 posterior ``mass`` of the mass of N(μ, τ²) outside [u[0], u[-1]]."""
    out = ndtr((u[0] - mu[:, None]) / tau) + ndtr((mu[:, None] - u[-1]) / tau)
    return float(np.sum(out * mass.sum(axis=-1)))


def _warnings(result: Population) -> list[str]:
    """One line per truncation or resolution problem of ``result``."""
    notes = []
    if result.outside_mass > posterior.EDGE_WARNING:
        notes.append(f"⚠ {result.outside_mass:.1%} of the population N(μ, τ²) lies outside the grid's range "
                     f"[{result.u[0]:.4g}, {result.u[-1]:.4g}], where every L_g is taken as 0: widen the "
                     f"{result.parameter} axis")
    if result.own_edge_galaxies:
        notes.append(f"⚠ {len(result.own_edge_galaxies)} {result.galaxy_dim}(s) hold more than "
                     f"{posterior.EDGE_WARNING:.0%} of their own likelihood in an end cell of the grid (truncated), "
                     f"e.g. {', '.join(result.own_edge_galaxies[:3])}")
    zero = result.marginal("mu", model="zero")
    step = float(np.diff(result.u)[np.clip(np.searchsorted(result.u, zero.mean) - 1, 0, result.u.size - 2)])
    if zero.mass.sum() > 0 and step > zero.sd / 2:
        notes.append(f"⚠ the {result.parameter} grid's step ({step:.3g}) exceeds half the τ = 0 posterior's sd of μ "
                     f"({zero.sd:.3g}): Σ_g ln L_g is taken linear across it, so ln Z(τ = 0), the Bayes factor and "
                     f"small-τ results are coarse: refine the {result.parameter} axis")
    mu, tau = result.marginal("mu"), result.marginal("tau").slab
    for m, edges, end in ((mu, result.mu_edges, max(mu.edge_mass)), (tau, result.tau_edges, tau.edge_mass[1])):
        if end > posterior.EDGE_WARNING:
            notes.append(f"⚠ {end:.1%} of {m.name}'s posterior sits in an end cell of its hyper-grid "
                         f"[{edges[0]:.4g}, {edges[-1]:.4g}]: its prior range truncates it")
        if m.unresolved:
            notes.append(f"⚠ more than {posterior.RESOLUTION_WARNING:.0%} of {m.name}'s posterior in one hyper-grid "
                         "cell: add cells")
    return notes
