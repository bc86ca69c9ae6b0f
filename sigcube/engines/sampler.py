"""The evidence of a per-galaxy model by importance sampling: each galaxy's own parameters and its Υ, D, i in one
integral, the likelihood's global parameters (σ_int, τ_gal, a velocity floor) on an adaptive grid.

The grid engine (:mod:`sigcube.engines.evidence`) integrates a galaxy's own parameters on grids and its nuisance
parameters by Gauss–Hermite at every grid point: exact and fast for two parameters, but its cost multiplies with every
axis. Here each galaxy's joint posterior over x = (its parameters, Υ_disk[, Υ_bul], D, i or its velocity scale u) —
every coordinate a standard normal deviate of its prior (:mod:`sigcube.compute.importance_compiled`) — is integrated
at once:

1. **modes**: Levenberg–Marquardt descents of −ℓ(x) from a lattice of starts over the galaxy's parameters
   (:data:`LATTICE` per parameter, the nuisance at its prior median) and from probes ±:data:`PROBE` along every
   nuisance axis around the best; distinct modes within :data:`MODE_WINDOW` nat of the best are kept (a likelihood of
   several modes — DC14's — keeps each one);
2. **proposal**: a mixture of Student-t densities (ν = :data:`NU`), one at each mode with the Gauss–Newton covariance
   widened by :data:`WIDEN`, weighted by each mode's Laplace mass, and a wide component (:data:`DEFENSIVE`); a pilot
   of :data:`PILOT` draws, and while its weights are uneven (Pareto k̂ above ½ or an effective sample under a fifth of
   the draws) mixtures of :data:`COMPONENTS` components fitted by weighted EM to all the pilot draws so far, each tried
   with a pilot of its own, twice the last round's (at most :data:`ADAPT` rounds: a curved or skewed posterior takes
   several components and many draws to see); the proposal whose pilot did best is kept;
3. **estimate**: :data:`DRAWS` fresh draws (more, up to :data:`MAX_DRAWS`, until ln Ẑ's error is below
   :data:`TARGET_ERROR`): ln Ẑ = ln mean(e^ℓ/q), its 1σ from the weights' spread, the effective sample size and the
   Pareto k̂ (:mod:`sigcube.stats.importance`). Each galaxy's draws come from its own seed (its name and the model's),
   so the numbers do not depend on how galaxies are chunked or where the tasks run.

With σ_int, τ_gal or the floor free, the outer integral is :func:`sigcube.stats.adaptive_grid.integrate` over them:
its coarse pass takes each galaxy's Laplace approximation (a descent from the previous point's mode: it only locates
the mass); the proposals are built at the best coarse point (each galaxy's *reference*), and every later grid point
reweighs :data:`REWEIGH_DRAWS` posterior draws resampled there: ln Ẑ_g(point) = ln Ẑ_g(reference) + ln mean
L(x; point)/L(x; reference), σ_int's change through the draws' stored predictions
(:func:`~sigcube.compute.importance_compiled.reweigh`), τ_gal's through the ratio of the velocity scale's prior
densities at each draw's u (:func:`~sigcube.compute.scale_prior.log_densities`): the same draws everywhere, so ln Ẑ_g
is smooth across the grid. At the best final point every galaxy's estimate from all its draws corrects its column by a
constant, and that correction's change one posterior sd away along each axis is an error.

At the best point each galaxy's estimate is checked (:func:`_sure`: a usable Pareto k̂, an error within
:data:`GALAXY_ERROR`, at least :data:`SURE_SHARE` of the draws effective); one that fails has its proposal built again
there with more draws and its column evaluated again; one that still fails — a posterior whose shape no proposal
followed — takes the grid engine's ln Z there (:func:`sigcube.engines.evidence.object_evidence`, each such galaxy a task of its
own, the most points first: their integrals take from under a second to half a minute) in place of the sampler's, and
its error.

The numerical error of ln Z: the outer grid's (the last halving's change, the mass outside its box, the end term), the
correction's variation, the sampling error √(Σ_g σ_g²) at the best point (the galaxies' draws are independent), the
bias of the logarithm, Σ_g σ_g²/2, and the grid engine's errors where it gave a galaxy's ln Z.
"""

from __future__ import annotations

import math
import time
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from scipy.special import logsumexp

from sigcube.compute import importance_compiled as joint
from sigcube.compute import quadrature
from sigcube.compute import quadrature_compiled as adaptive
from sigcube.compute import scale_prior
from sigcube.engines.checkpoint import Checkpoint
from sigcube.engines.dask import Runner, in_process
from sigcube.engines.evidence import (
    FLOOR, SCATTER, SKIP, TAIL, TAU, Data, EvidenceError, Progress, likelihood_of, loo_change, object_chunks,
    object_evidence, silent,
)
from sigcube.model.kernels.registry import Kernel
from sigcube.stats import importance
from sigcube.stats.adaptive_grid import Axis, ItemIntegral, grid_points, integrate
from sigcube.stats.likelihood import GaussianLikelihood
from sigcube.stats.posterior import EDGE_WARNING
from sigcube.stats.priors import LogUniform, Prior, TruncatedNormal, Uniform

DRAWS = 2048
"""Draws of each galaxy's final estimate (before any added to meet :data:`TARGET_ERROR`)."""
PILOT = 1024
"""Draws of each pilot of a proposal."""
MAX_DRAWS = 16384
"""The most draws one galaxy's estimate takes."""
TARGET_ERROR = 0.02
"""σ(ln Ẑ_g) [nat] below which a galaxy's draws are enough (171 galaxies: 0.26 nat in the sum)."""
GALAXY_ERROR = 0.05
"""σ(ln Ẑ_g) [nat] above which a galaxy's estimate is built again at the best point, and if it stays above, given by
the grid engine there (:func:`_sure`)."""
SURE_SHARE = 0.05
"""The least share of a galaxy's draws that must be effective for its estimate to be taken (:func:`_sure`)."""
NU = 5.0
"""Degrees of freedom of the proposal's Student-t components."""
WIDEN = 1.2
"""Each component's scale over the Laplace approximation's (the Gauss–Newton covariance's Cholesky factor times this)."""
DEFENSIVE = 0.1
"""The share of the proposal in its wide components (:func:`_defensive`), which the Laplace approximation at the mode
cannot see to."""
DEFENSIVE_PARTS = 2
"""How many wide components a proposal ends with (:func:`_defensive`)."""
ADAPT = 3
"""The most rounds of refitting a proposal to all the pilot draws so far."""
EM_ITERATIONS = 100
"""The most iterations of a mixture's EM fit (:func:`_mixture`)."""
EM_TOLERANCE = 1e-6
"""The EM fit stops when the weighted mean log-density of the draws rises by less than this."""
EM_POINTS = 4096
"""A mixture is fitted to this many draws resampled from the weighted ones (:func:`_mixture`)."""
BROAD = 2.0
"""The first adaptation round also tries the Laplace mixture this many times wider (:func:`_adapted`)."""
COMPONENTS = (1, 2, 3)
"""The mixtures each round fits (components of each), every one tried with a pilot."""
LATTICE = (-2.0, 0.0, 2.0)
"""Starting values, in prior deviates, of each of a galaxy's own parameters (their product: 3^k starts)."""
PROBE = 1.5
"""Restarts of the mode search at the best mode ± this along each nuisance axis."""
MODE_WINDOW = 20.0
"""Modes whose −ln integrand lies within this many nat of the best are kept as proposal components."""
SEED = 20261128
"""The engine's base seed; each galaxy's draws are seeded by it, the model's name and the galaxy's name."""
REWEIGH_DRAWS = 512
"""Posterior draws of each galaxy, resampled at the setting where its proposal was built, that the outer grid's points
reweigh (module docstring)."""
POSTERIOR_DRAWS = 1000
"""Posterior draws kept per galaxy (resampled from the weighted draws): the halo table's quantiles are taken over
them."""
TOLERANCE = 1e-7
"""The mode search's Newton decrement at convergence [nat]."""
MAX_ITERATIONS = 80
"""Levenberg–Marquardt iterations per descent."""
END_SHARE = 0.02
"""The share of a per-object parameter's prior range (in its grid coordinate) at each end whose posterior mass a report
gives: where it exceeds :data:`~sigcube.stats.posterior.EDGE_WARNING`, the posterior piles at that bound."""
CONFLICT = 3.0
"""A parameter whose posterior mean lies more than this many prior sd (in its prior deviate) from the prior's centre
is in conflict with its prior."""


class SamplerError(EvidenceError):
    """A model the importance-sampling engine cannot integrate (a kernel that does not compile, no nuisance)."""


def axis_prior(axis: Axis) -> Prior:
    """The prior of a per-object parameter's :class:`~sigcube.stats.adaptive_grid.Axis` as a
    :class:`~sigcube.stats.priors.Prior` over its value: uniform in the value or its logarithm over the bounds, or its
    truncated normal."""
    if axis.normal is not None:
        lo, hi = axis.bounds
        return TruncatedNormal(axis.normal[0], axis.normal[1], lo, hi)
    return LogUniform(axis.lower, axis.upper) if axis.log else Uniform(axis.lower, axis.upper)


def galaxy_seed(model: str, galaxy: str) -> int:
    """The seed of a galaxy's draws: the engine's, the model's and the galaxy's names (never its place in a chunk)."""
    return SEED ^ (zlib.crc32(model.encode()) << 1) ^ (zlib.crc32(galaxy.encode()) << 33)


@dataclass(frozen=True)
class GalaxyProposal:
    """A galaxy's importance-sampling proposal (in its joint coordinates) and how many draws its estimate takes."""

    proposal: importance.Proposal
    draws: int

    def to_data(self) -> dict[str, Any]:
        p = self.proposal
        return {"weights": p.weights, "means": p.means, "chol": p.chol, "nu": p.nu, "draws": self.draws}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> GalaxyProposal:
        return cls(importance.Proposal(np.asarray(data["weights"], dtype=float), np.asarray(data["means"], dtype=float),
                                       np.asarray(data["chol"], dtype=float), float(data["nu"])), int(data["draws"]))

    def sample(self, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """The galaxy's draws (N, D) and ln q at them, the same for the same seed."""
        xs = self.proposal.draw(self.draws, np.random.default_rng(seed))
        return xs, self.proposal.log_density(xs)


class _Joint:
    """The compiled joint posterior of a sample's galaxies (built in each task from its chunk)."""

    def __init__(self, kernel: Kernel, fixed: Mapping[str, Any], axes: Sequence[Axis], data: Data,
                 error_model: str, scaled: bool) -> None:
        if not data.nuisance:
            raise SamplerError("the importance-sampling engine integrates Υ, D, i with the model's parameters: it needs "
                               "the nuisance parameters (leave out --no-nuisance, or use --engine grid)")
        self.kernel, self.axes, self.data = kernel, list(axes), data
        self.names = [a.name for a in axes]
        self.transform = data.transform(kernel, fixed)
        self.priors = data.nuisance_priors()
        params = kernel.resolve({**fixed, **{a.name: float(a.value(np.mean(a.bounds))) for a in axes}})
        probe = GaussianLikelihood(0.0, error_model, tau_gal=1.0 if scaled else 0.0)
        inputs = quadrature.solver_inputs(kernel, params, self.names, self.transform, self.priors, probe, 1,
                                          with_scale=False)
        if inputs is None:
            raise SamplerError(f"{kernel.name}: its formula does not compile to scalar code, which the importance-"
                               "sampling engine needs (use --engine grid)")
        self.inputs = inputs
        self.error_model = error_model
        self.log_space = probe.log_space
        self.scaled = scaled
        self.k = len(axes)
        self.ptabs = np.ascontiguousarray(np.stack([adaptive.tables(axis_prior(a), 1)[0] for a in axes]))
        self.offsets = np.ascontiguousarray(self.transform.offsets, dtype=np.int64)

    def dims(self, g: int) -> int:
        """The number of joint coordinates of galaxy g."""
        return self.k + int(self.inputs.n_dims[g])

    def setting(self, values: Mapping[str, np.ndarray]
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The likelihood at M settings (σ_int, τ_gal, the floor, the tail weight by axis name, each (M,)): the scatter
        terms (a, b) and the tail weight 1/ν (M,), every galaxy's velocity-scale tables (G, T, TABLE_SIZE, 2) and which
        one each setting reads (M,)."""
        m = max(np.size(v) for v in values.values()) if values else 1
        likelihood = likelihood_of({k: np.asarray(v, dtype=float).reshape(-1, 1) for k, v in values.items()},
                                   self.error_model)
        a, b, tl = (np.broadcast_to(np.asarray(t, dtype=float).reshape(-1), (m,))
                    for t in (*likelihood.scatter_terms, likelihood.tail))
        if self.scaled or self.log_space:
            scale = quadrature.scale_map(self.transform, self.priors, likelihood, m, self.log_space)
            return a, b, tl, np.ascontiguousarray(scale.tables.transpose(1, 0, 2, 3)), scale.index
        return a, b, tl, np.ascontiguousarray(self.inputs.tables[:, 3][:, None]), np.zeros(m, dtype=np.int64)

    def modes(self, starts: np.ndarray, sa: float, sb: float, tl: float, qtabs: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Every galaxy's descents from its ``starts`` (G, S, D) at one setting (``qtabs`` (G, TABLE_SIZE, 2)):
        (x̂, −ℓ(x̂), χ², Gauss–Newton Hessians, converged)."""
        i = self.inputs
        x, f, chi2, h, conv, _ = joint.modes(i.compiled.predict, i.X, i.S, self.offsets, *i.data, i.codes, i.n_dims,
                                             i.tables, self.ptabs, i.base, i.inclined, np.ascontiguousarray(qtabs),
                                             self.k, starts, sa, sb, tl, self.log_space, TOLERANCE,
                                             MAX_ITERATIONS)
        return x, f, chi2, h, conv

    def log_integrand(self, g: int, xs: np.ndarray, sa: float, sb: float, tl: float, qtab: np.ndarray,
                      keep: bool = False
                      ) -> tuple[np.ndarray, np.ndarray | None]:
        """ℓ at galaxy g's draws ``xs`` (N, D) at one setting; with ``keep`` their predictions too."""
        i = self.inputs
        a, b = int(self.offsets[g]), int(self.offsets[g + 1])
        return joint.draws(i.compiled.predict, i.X, i.S, a, b, g, xs, self.k, int(i.n_dims[g]), i.codes, i.tables,
                           self.ptabs, i.base, i.inclined, np.ascontiguousarray(qtab), *i.data, sa, sb,
                           tl, self.log_space, keep)

    def reweigh(self, g: int, v: np.ndarray, xs: np.ndarray, sa: np.ndarray, sb: np.ndarray, tl: np.ndarray,
                qtab: np.ndarray) -> np.ndarray:
        """ℓ (M, N) at galaxy g's stored draws for M scatter terms and tail weights, their velocity scales through
        ``qtab``."""
        i = self.inputs
        a, b = int(self.offsets[g]), int(self.offsets[g + 1])
        return joint.reweigh(v, xs, self.k, int(i.n_dims[g]), i.inclined, qtab, a, b, *i.data, sa, sb, tl,
                             self.log_space)

    def log_scales(self, values: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray] | None:
        """Every galaxy's velocity-scale prior as maps of ln u at M settings ``values``: (G, T, TABLE_SIZE, 2) and
        which one each setting reads (M,); None where no velocity scale is integrated."""
        if not self.scaled:
            return None
        m = max(np.size(v) for v in values.values())
        likelihood = likelihood_of({TAU: np.asarray(values.get(TAU, 0.0), dtype=float).reshape(-1, 1)},
                                   self.error_model)
        at = quadrature.scale_map(self.transform, self.priors, likelihood, m, True)
        return np.ascontiguousarray(at.tables.transpose(1, 0, 2, 3)), at.index

    def scale_shift(self, g: int, z: np.ndarray, reference: np.ndarray, scales: tuple[np.ndarray, np.ndarray] | None
                    ) -> np.ndarray | float:
        """ln π_τ(u) − ln π_ref(u) (M, N) at galaxy g's draws of velocity-scale deviate ``z`` (N,), u mapped by the
        ``reference`` setting's map of ln u (TABLE_SIZE, 2), for M settings (:meth:`log_scales`): what the velocity
        scale's prior changes between them (0 where no velocity scale is integrated)."""
        if scales is None:
            return 0.0
        tables, index = scales
        y = adaptive.lookup(reference[None, None], np.zeros(len(z), dtype=np.int64), np.asarray(z)[:, None])[:, 0]
        return (scale_prior.log_densities(tables[g], index, y)
                - scale_prior.log_densities(reference[None], np.zeros(1, dtype=np.int64), y))

    def values(self, g: int, xs: np.ndarray, qtab: np.ndarray) -> dict[str, np.ndarray]:
        """The parameters' values at galaxy g's joint coordinates ``xs`` (N, D): the model's by their axes' names, the
        nuisance parameters' by theirs (the velocity scale as ``velocity_scale``) — each as the likelihood reads it,
        held at its end value beyond the prior maps' tables (|x| > TABLE_LIMIT, where an exact quantile map of an
        unbounded prior reaches ±∞)."""
        at = np.zeros(len(xs), dtype=np.int64)
        out = {name: adaptive.lookup(self.ptabs[j][None, None], at, xs[:, j:j + 1])[:, 0]
               for j, name in enumerate(self.names)}
        dims = self.inputs.dims[g]
        for j, name in enumerate(dims):
            column = xs[:, self.k + j]
            if name == quadrature.SCALE:
                u = adaptive.lookup(qtab[None, None], at, column[:, None])[:, 0]
                out[name] = np.exp(u) if self.log_space else u
            else:
                held = np.clip(column, -adaptive.TABLE_LIMIT, adaptive.TABLE_LIMIT)
                out[name] = np.asarray(self.priors[name].take(np.array([g])).from_normal(held[:, None]))[:, 0]
        return out


def _lattice(k: int, dim: int) -> np.ndarray:
    """The starts (S, dim) of a galaxy's mode search: :data:`LATTICE` over its k parameters, the nuisance at 0."""
    grid = np.stack(np.meshgrid(*([np.asarray(LATTICE)] * k), indexing="ij"), axis=-1).reshape(-1, k) if k else \
        np.zeros((1, 0))
    return np.concatenate([grid, np.zeros((len(grid), dim - k))], axis=1)


def _padded(rows: Sequence[np.ndarray], dim: int) -> np.ndarray:
    """Per-galaxy start sets (S_g, D_g) as one (G, S, dim) array (missing starts repeat the last; unused columns NaN)."""
    s = max(len(r) for r in rows)
    out = np.full((len(rows), s, dim), np.nan)
    for g, r in enumerate(rows):
        out[g, :len(r), :r.shape[1]] = r
        out[g, len(r):, :r.shape[1]] = r[-1]
    return out


def _components(x: np.ndarray, f: np.ndarray, h: np.ndarray, k: int) -> importance.Proposal:
    """A proposal from a galaxy's descents (x̂ (S, D), −ℓ (S,), Gauss–Newton Hessians (S, D, D); its k own parameters
    first): one Student-t at each distinct mode within :data:`MODE_WINDOW` of the best, its covariance H⁻¹ widened by
    :data:`WIDEN`, weighted by its Laplace mass e^{ℓ̂}·|H|^{−½}; and, last, the wide components (:func:`_defensive`)."""
    order = np.argsort(f)
    kept: list[int] = []
    chols, log_mass = [], []
    for s in order:
        if not np.isfinite(f[s]) or f[s] > f[order[0]] + MODE_WINDOW:
            break
        try:
            chol_h = np.linalg.cholesky(h[s])
        except np.linalg.LinAlgError:
            continue
        if any(_within(x[s], x[t], h[t]) for t in kept):
            continue
        kept.append(int(s))
        chol = np.linalg.inv(chol_h).T          # L with L·Lᵀ = H⁻¹
        chols.append(WIDEN * chol)
        log_mass.append(-f[s] - float(np.sum(np.log(np.diagonal(chol_h)))))
    if not kept:
        raise SamplerError("no mode with a positive-definite curvature")
    w = np.exp(np.array(log_mass) - max(log_mass))
    return _with_defensive(w, x[kept], np.stack(chols), *_defensive(x[kept[0]], chols[0], k))


def _defensive(mode: np.ndarray, chol: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The proposal's wide components (means (2, D), Cholesky factors (2, D, D)), never refitted: at the best mode
    with its widened covariance plus the prior's (the identity), for tails where the likelihood flattens and the prior
    takes over (an inclination near 90°, a distance the data do not pin); and the model's own k parameters drawn from
    their prior (N(0, I)) with the nuisance about its mode, for the plateaus and long ridges a halo's parameters have
    where the data cannot tell them apart (a halo too small to matter, a large one of low concentration)."""
    dim = mode.size
    cov = chol @ chol.T
    own = np.zeros((dim, dim))
    own[:k, :k] = np.eye(k)
    own[k:, k:] = cov[k:, k:]
    means = np.stack([mode, np.concatenate([np.zeros(k), mode[k:]])])
    return means, np.stack([np.linalg.cholesky(cov + np.eye(dim)), np.linalg.cholesky(own + 1e-9 * np.eye(dim))])


def _with_defensive(weights: np.ndarray, means: np.ndarray, chols: np.ndarray, defensive_means: np.ndarray,
                    defensive_chols: np.ndarray) -> importance.Proposal:
    """A proposal of the fitted components (their ``weights`` scaled to 1 − :data:`DEFENSIVE`) and the wide ones
    (:data:`DEFENSIVE` shared equally), the wide ones last."""
    n = len(defensive_means)
    return importance.Proposal(np.concatenate([(1.0 - DEFENSIVE) * weights / weights.sum(), np.full(n, DEFENSIVE / n)]),
                               np.vstack([means, defensive_means]), np.concatenate([chols, defensive_chols]), NU)


def _within(a: np.ndarray, b: np.ndarray, h: np.ndarray) -> bool:
    """Whether ``a`` lies within one standard deviation of the mode ``b`` (Hessian ``h``): the same mode."""
    d = a - b
    return float(d @ h @ d) < 1.0


def _mixture(xs: np.ndarray, log_w: np.ndarray, k: int, fallback: importance.Proposal) -> importance.Proposal:
    """A proposal of k Student-t components fitted to weighted draws (``xs`` (N, D) with log-weights ``log_w``, any
    mix of earlier proposals' draws: each weight is the integrand over its own proposal's density) by EM of a Gaussian
    mixture on :data:`EM_POINTS` of them resampled by weight — started at k points along the draws' principal axis —
    each component widened by :data:`WIDEN`, and the wide component (:data:`DEFENSIVE`) kept; ``fallback`` when the
    draws cannot support it."""
    w = importance.normalised(log_w)
    dim = xs.shape[1]
    if not 1.0 / np.sum(w * w) >= k * (dim + 2):
        return fallback
    cum = np.cumsum(w)          # EM on EM_POINTS draws resampled by weight (systematic, the same every time)
    xs = xs[np.minimum(np.searchsorted(cum, (np.arange(EM_POINTS) + 0.5) / EM_POINTS * cum[-1]), len(w) - 1)]
    w = np.full(EM_POINTS, 1.0 / EM_POINTS)
    mean = w @ xs
    centred = xs - mean
    cov = (centred * w[:, None]).T @ centred + 1e-9 * np.eye(dim)
    evals, evecs = np.linalg.eigh(cov)
    along = centred @ evecs[:, -1]
    order = np.argsort(along)
    cum = np.cumsum(w[order])
    means = np.stack([mean + along[order][np.searchsorted(cum, (j + 0.5) / k)] * evecs[:, -1] for j in range(k)])
    covs = np.stack([cov / k ** 2 + (1.0 - 1.0 / k ** 2) * evals[0] * np.eye(dim)] * k)
    share = np.full(k, 1.0 / k)
    previous = -math.inf
    for _ in range(EM_ITERATIONS):
        parts = np.stack([math.log(share[j]) + _gauss_log_density(xs, means[j], covs[j]) for j in range(k)])
        total = logsumexp(parts, axis=0)
        fit = float(w @ total)
        if fit - previous < EM_TOLERANCE:
            break
        previous = fit
        resp = np.exp(parts - total) * w
        totals = resp.sum(axis=1)
        if not np.all(totals > 0):
            return fallback
        means = (resp @ xs) / totals[:, None]
        for j in range(k):
            c = xs - means[j]
            covs[j] = (c * resp[j][:, None]).T @ c / totals[j] + 1e-9 * np.eye(dim)
        share = totals / totals.sum()
    try:
        chols = np.stack([WIDEN * np.linalg.cholesky(c) for c in covs])
    except np.linalg.LinAlgError:
        return fallback
    return _with_defensive(share, means, chols, fallback.means[-DEFENSIVE_PARTS:], fallback.chol[-DEFENSIVE_PARTS:])


def _gauss_log_density(x: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """ln N(x; mean, cov) at points x (n, D)."""
    chol = np.linalg.cholesky(cov)
    y = (x - mean) @ np.linalg.inv(chol).T
    return -0.5 * np.einsum("ij,ij->i", y, y) - float(np.sum(np.log(np.diagonal(chol)))) - 0.5 * mean.size * math.log(
        2 * math.pi)


def _adapted(proposal: importance.Proposal, log_integrand: Any, rng: np.random.Generator) -> importance.Proposal:
    """The proposal a galaxy's estimate takes (module docstring, step 2): the Laplace mixture ``proposal`` tried with a
    pilot of :data:`PILOT` draws; while the best pilot's weights are uneven, mixtures of :data:`COMPONENTS` components
    fitted by weighted EM to every pilot draw so far, each tried with a pilot twice the last round's (at most
    :data:`ADAPT` rounds), the first round also trying the Laplace mixture :data:`BROAD` times wider (its draws reach
    the mass a ridge or a skew puts where the curvature at the modes does not look, and the fits after it see them).
    ``log_integrand(xs)``: ℓ at draws (N, D)."""
    pool_x: list[np.ndarray] = []
    pool_w: list[np.ndarray] = []
    tried: list[tuple[tuple[bool, float], importance.Proposal, importance.Estimate]] = []
    candidates, n = [proposal], PILOT
    for r in range(ADAPT + 1):
        if r == 1:  # a posterior the modes' curvature misjudges (a ridge, a skew): look wider too
            fitted = len(proposal.weights) - DEFENSIVE_PARTS
            candidates.append(_with_defensive(proposal.weights[:fitted], proposal.means[:fitted],
                                              BROAD * proposal.chol[:fitted], proposal.means[fitted:],
                                              proposal.chol[fitted:]))
        for candidate in candidates:
            xs = candidate.draw(n, rng)
            log_w = log_integrand(xs) - candidate.log_density(xs)
            pool_x.append(xs)
            pool_w.append(log_w)
            found = importance.estimate(log_w)
            tried.append((_quality(found), candidate, found))
        best = max(tried, key=lambda t: t[0])
        if not _uneven(best[2]):
            break
        pooled_x, pooled_w = np.concatenate(pool_x), np.concatenate(pool_w)
        candidates, n = [_mixture(pooled_x, pooled_w, c, proposal) for c in COMPONENTS], 2 * n
    return max(tried, key=lambda t: t[0])[1]


def _quality(found: importance.Estimate) -> tuple[bool, float]:
    """How good a pilot's proposal is: a usable Pareto k̂ first, then the effective share of its draws."""
    return (bool(found.pareto_k <= importance.USABLE_K), found.ess / max(found.n, 1))


def _uneven(found: importance.Estimate) -> bool:
    """Whether a pilot's weights call for refitting the proposal."""
    return not (found.pareto_k <= 0.5) or found.ess < 0.2 * found.n


@dataclass(frozen=True)
class _Built:
    """A galaxy's proposal, the setting of the likelihood it was built at (its draws' coordinates are that setting's:
    the velocity scale's deviate maps to u through its prior), its estimate there, and its best mode's χ² and −ℓ."""

    proposal: GalaxyProposal
    reference: dict[str, float]
    estimate: importance.Estimate
    chi2: float
    f: float
    mode: np.ndarray

    def to_data(self) -> dict[str, Any]:
        e = self.estimate
        return {"proposal": self.proposal.to_data(), "reference": self.reference,
                "estimate": [e.log_z, e.error, e.ess, e.pareto_k, e.n], "chi2": self.chi2, "f": self.f,
                "mode": self.mode}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> _Built:
        log_z, error, ess, k, n = data["estimate"]
        return cls(GalaxyProposal.from_data(data["proposal"]), {k: float(v) for k, v in data["reference"].items()},
                   importance.Estimate(float(log_z), float(error), float(ess), float(k), int(n)), float(data["chi2"]),
                   float(data["f"]), np.asarray(data["mode"], dtype=float))


def _build(model: str, jp: _Joint, point: Mapping[str, float], draws: int) -> list[_Built]:
    """Every galaxy's proposal at the likelihood's setting ``point`` (module docstring, steps 1–3)."""
    sa, sb, tl, qtabs, qindex = jp.setting({k: np.array([v]) for k, v in point.items()})
    qtab = qtabs[:, qindex[0]]
    at = float(sa[0]), float(sb[0]), float(tl[0])
    n_gal = jp.transform.n_galaxies
    dim = jp.k + int(jp.inputs.n_dims.max())
    starts = _padded([_lattice(jp.k, jp.dims(g)) for g in range(n_gal)], dim)
    x, f, chi2, h, _ = jp.modes(starts, *at, qtab)
    probes = []
    for g in range(n_gal):
        d = jp.dims(g)
        best = x[g, int(np.nanargmin(f[g])), :d]
        rows = [best]
        for j in range(jp.k, d):
            for sign in (1.0, -1.0):
                p = best.copy()
                p[j] = np.clip(p[j] + sign * PROBE, -adaptive.Z_LIMIT, adaptive.Z_LIMIT)
                rows.append(p)
        probes.append(np.stack(rows))
    x2, f2, chi22, h2, _ = jp.modes(_padded(probes, dim), *at, qtab)
    out = []
    for g in range(n_gal):
        d = jp.dims(g)
        xs_all = np.concatenate([x[g, :, :d], x2[g, :, :d]])
        fs = np.concatenate([f[g], f2[g]])
        hs = np.concatenate([h[g, :, :d, :d], h2[g, :, :d, :d]])
        chis = np.concatenate([chi2[g], chi22[g]])
        best = int(np.nanargmin(fs))
        seed = galaxy_seed(model, str(jp.transform.galaxy[g]))
        proposal = _adapted(_components(xs_all, fs, hs, jp.k), lambda xs_p: jp.log_integrand(
            g, xs_p, *at, qtab[g])[0], np.random.default_rng([seed, 1]))
        n = draws
        while True:
            built = GalaxyProposal(proposal, n)
            xs, log_q = built.sample(seed)
            ll, _ = jp.log_integrand(g, xs, *at, qtab[g])
            found = importance.estimate(ll - log_q)
            if (found.error <= TARGET_ERROR and found.trusted) or n >= MAX_DRAWS:
                break
            n = min(MAX_DRAWS, max(2 * n, int(n * (found.error / TARGET_ERROR) ** 2 * 1.2)))
        out.append(_Built(built, dict(point), found, float(chis[best]), float(fs[best]), xs_all[best]))
    return out


def _build_chunk(kernel: Kernel, fixed: Mapping[str, Any], axes: Sequence[Axis], data: Data, error_model: str,
                 scaled: bool, model: str, point: Mapping[str, float], draws: int, index: np.ndarray) -> list[_Built]:
    """Task: the proposals of the galaxies ``index`` at ``point``."""
    return _build(model, _Joint(kernel, fixed, axes, data.take(index), error_model, scaled), point, draws)


def _laplace_chunk(kernel: Kernel, fixed: Mapping[str, Any], axes: Sequence[Axis], data: Data, error_model: str,
                   scaled: bool, values: Mapping[str, np.ndarray], index: np.ndarray) -> np.ndarray:
    """Task: the Laplace approximation of ln Z_g (M, G_chunk) of the galaxies ``index`` at M settings ``values``, each
    setting's descent from the last one's mode (the first from the lattice)."""
    jp = _Joint(kernel, fixed, axes, data.take(index), error_model, scaled)
    sa, sb, tl, qtabs, qindex = jp.setting(values)
    n_gal = jp.transform.n_galaxies
    dim = jp.k + int(jp.inputs.n_dims.max())
    starts = _padded([_lattice(jp.k, jp.dims(g)) for g in range(n_gal)], dim)
    out = np.empty((len(sa), n_gal))
    for m in range(len(sa)):
        x, f, _, h, _ = jp.modes(starts, float(sa[m]), float(sb[m]), float(tl[m]), qtabs[:, qindex[m]])
        best = np.nanargmin(np.where(np.isfinite(f), f, np.inf), axis=1)
        for g in range(n_gal):
            d = jp.dims(g)
            s = int(best[g])
            sign, log_det = np.linalg.slogdet(h[g, s, :d, :d])
            out[m, g] = -f[g, s] + 0.5 * d * math.log(2 * math.pi) - 0.5 * log_det if sign > 0 else -math.inf
        starts = x[np.arange(n_gal), best][:, None, :]
    return out


def _reweighed(jp: _Joint, g: int, built: _Built, seed: int, values: Mapping[str, np.ndarray],
               scales: tuple[np.ndarray, np.ndarray] | None, resample: int | None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Galaxy g's draws (their seeded proposal) evaluated at its reference setting, and at M settings ``values``
    (σ_int's change through their stored predictions, τ_gal's through the velocity scale's prior at each draw's u, the
    settings' maps of ln u ``scales``, :meth:`_Joint.log_scales`): (ℓ at the reference (N,), ln q (N,), the rows
    reweighed, ℓ at the settings (M, rows)). ``resample``: that many rows drawn by their weights at the reference
    (posterior draws there); None: every draw."""
    xs, log_q = built.proposal.sample(seed)
    sa_r, sb_r, tl_r, qt_r, qi_r = jp.setting({k: np.array([v]) for k, v in built.reference.items()})
    qtab = qt_r[g, qi_r[0]]
    ll_ref, v = jp.log_integrand(g, xs, float(sa_r[0]), float(sb_r[0]), float(tl_r[0]), qtab, keep=True)
    rows = (np.arange(len(xs)) if resample is None
            else importance.resample(ll_ref - log_q, resample, np.random.default_rng([seed, 3])))
    sa, sb, tl, _, _ = jp.setting({k: v for k, v in values.items() if k != TAU})
    ll = jp.reweigh(g, v[rows], xs[rows], sa, sb, tl, qtab)
    if scales is not None:
        ll += jp.scale_shift(g, xs[rows, -1], qtab if jp.log_space else scale_prior.log_table(qtab), scales)
    return ll_ref, log_q, rows, ll


def _sample_chunk(kernel: Kernel, fixed: Mapping[str, Any], axes: Sequence[Axis], data: Data, error_model: str,
                  scaled: bool, model: str, built: Sequence[_Built], values: Mapping[str, np.ndarray],
                  resampled: bool, index: np.ndarray) -> np.ndarray:
    """Task: ln Ẑ_g (M, G_chunk) of the galaxies ``index`` at M settings ``values`` (:func:`_reweighed`). With
    ``resampled``: ln Ẑ_g at each galaxy's reference from all its draws, plus the log of the mean ratio
    L(x; setting)/L(x; reference) over :data:`REWEIGH_DRAWS` posterior draws resampled there; without: every draw
    reweighed at each setting."""
    jp = _Joint(kernel, fixed, axes, data.take(index), error_model, scaled)
    log_z = np.empty((max(np.size(v) for v in values.values()), len(index)))
    scales = jp.log_scales(values)
    for g, b in enumerate(built):
        seed = galaxy_seed(model, str(jp.transform.galaxy[g]))
        ll_ref, log_q, rows, ll = _reweighed(jp, g, b, seed, values, scales, REWEIGH_DRAWS if resampled else None)
        if resampled:
            log_z[:, g] = (importance.estimate(ll_ref - log_q).log_z + logsumexp(ll - ll_ref[rows], axis=1)
                           - math.log(len(rows)))
        else:
            log_z[:, g] = [importance.estimate(row - log_q).log_z for row in ll]
    return log_z


@dataclass(frozen=True)
class GalaxyPosterior:
    """A galaxy's evidence estimate at one setting of the likelihood and its posterior there: per parameter (the
    model's and the nuisance) the posterior mean, sd, quantiles (:data:`~sigcube.stats.halo_posteriors.QUANTILES`)
    and value at the best mode, the mean and sd of its prior deviate (``z_mean``, ``z_sd``), for the model's own
    parameters the mass at each end of the prior range (``edge_mass``, :data:`END_SHARE`), and
    :data:`POSTERIOR_DRAWS` resampled draws of every parameter."""

    estimate: importance.Estimate
    summary: dict[str, dict[str, Any]]
    draws: dict[str, np.ndarray]


def _posterior_chunk(kernel: Kernel, fixed: Mapping[str, Any], axes: Sequence[Axis], data: Data, error_model: str,
                     scaled: bool, model: str, built: Sequence[_Built], point: Mapping[str, float],
                     index: np.ndarray) -> list[GalaxyPosterior]:
    """Task: the estimate and posterior of the galaxies ``index`` at ``point`` (every draw reweighed there)."""
    from sigcube.stats.halo_posteriors import QUANTILES, weighted_quantiles

    jp = _Joint(kernel, fixed, axes, data.take(index), error_model, scaled)
    values = {k: np.array([v]) for k, v in point.items()}
    scales = jp.log_scales(values)
    out = []
    for g, b in enumerate(built):
        seed = galaxy_seed(model, str(jp.transform.galaxy[g]))
        _, log_q, _, ll = _reweighed(jp, g, b, seed, values, scales, None)
        log_w = ll[0] - log_q
        found = importance.estimate(log_w)
        w = importance.normalised(log_w)
        xs, _ = b.proposal.sample(seed)
        _, _, _, qt_r, qi_r = jp.setting({k: np.array([v]) for k, v in b.reference.items()})
        qtab = qt_r[g, qi_r[0]]
        drawn = jp.values(g, xs, qtab)
        at_mode = jp.values(g, b.mode[None], qtab)
        deviates = {name: xs[:, j] for j, name in enumerate([*jp.names, *jp.inputs.dims[g]])}
        summary = {}
        for name, v in drawn.items():
            mean = float(w @ v)
            z = deviates[name]
            z_mean = float(w @ z)
            summary[name] = {"mean": mean, "sd": float(math.sqrt(max(w @ (v - mean) ** 2, 0.0))),
                             "quantiles": weighted_quantiles(v, w, QUANTILES).tolist(), "mode": float(at_mode[name][0]),
                             "z_mean": z_mean, "z_sd": float(math.sqrt(max(w @ (z - z_mean) ** 2, 0.0)))}
        for axis in axes:
            lo, hi = axis.bounds
            u = axis.coordinate(drawn[axis.name])
            share = END_SHARE * (hi - lo)
            summary[axis.name]["edge_mass"] = [float(w @ (u <= lo + share)), float(w @ (u >= hi - share))]
        keep = importance.resample(log_w, POSTERIOR_DRAWS, np.random.default_rng([seed, 2]))
        out.append(GalaxyPosterior(found, summary, {k: v[keep] for k, v in drawn.items()}))
    return out


@dataclass(frozen=True)
class SampledEvidence:
    """A per-galaxy model's evidence by importance sampling.

    ``integral``: the outer grid over the likelihood's free parameters (None when none is free); ``loglike`` (M, G):
    each galaxy's ln Ẑ_g at its M points (M = 1 without an outer grid); ``log_z`` and its ``errors``; ``point``: the
    best setting, where ``galaxies`` (each one's :class:`GalaxyPosterior`) and the per-galaxy ``chi2`` and ``profile``
    (ln L at its best mode) are given; ``converged`` per galaxy; ``rebuilt``: the galaxies whose proposals were built
    again at ``point``; ``settings``: the engine's, for reports."""

    integral: ItemIntegral | None
    loglike: np.ndarray
    log_z: float
    errors: dict[str, float]
    point: dict[str, float]
    galaxies: list[GalaxyPosterior]
    chi2: np.ndarray
    profile: np.ndarray
    converged: np.ndarray
    rebuilt: list[str]
    settings: dict[str, Any] = field(default_factory=dict)
    galaxy_errors: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """Each galaxy's ln Z error at ``point``: its estimate's 1σ, or the grid engine's error where ``on_grid``."""
    on_grid: list[str] = field(default_factory=list)
    """The galaxies whose ln Z at ``point`` the grid engine gave (their posterior beyond the sampler's proposals)."""

    @property
    def error(self) -> float:
        return self.errors["total"]

    @property
    def galaxy_log_z(self) -> np.ndarray:
        """Each galaxy's ln Z with the outer parameters integrated under their prior alone (M, G → G)."""
        if self.integral is None:
            return self.loglike[0]
        return logsumexp(self.loglike + self.integral.log_mass[:, None], axis=0)



def engine_settings(axes: Sequence[Axis]) -> dict[str, Any]:
    """The engine's settings (and the per-object parameters ``axes`` it integrated), as a report states them."""
    return {"engine": "sampler", "axes": [a.name for a in axes], "draws": DRAWS, "pilot": PILOT,
            "max_draws": MAX_DRAWS, "target_error": TARGET_ERROR, "galaxy_error": GALAXY_ERROR,
            "sure_share": SURE_SHARE, "nu": NU, "widen": WIDEN, "defensive": DEFENSIVE, "adapt_rounds": ADAPT,
            "components": list(COMPONENTS), "broad": BROAD, "lattice": list(LATTICE), "probe": PROBE,
            "mode_window": MODE_WINDOW, "reweigh_draws": REWEIGH_DRAWS, "seed": SEED,
            "usable_k": importance.USABLE_K}


def sampled_evidence(kernel: Kernel, fixed: Mapping[str, Any], axes: Sequence[Axis], outer: Sequence[Axis],
                     data: Data, error_model: str, model: str, held: Mapping[str, float] | None = None,
                     run: Runner = in_process, checkpoint: Checkpoint = Checkpoint(None),
                     progress: Progress = silent) -> SampledEvidence:
    """ln Z of the per-galaxy model ``kernel`` (its parameters ``axes``, the rest ``fixed``; ``model``: its name, which
    seeds the draws) with Υ, D, i marginalised, the likelihood's free parameters ``outer`` (σ_int, τ_gal, the floor
    by axis name) integrated on a grid and the others at ``held`` (module docstring). Galaxy chunks run as tasks of
    ``run``; the proposals are kept in ``checkpoint``; ``progress`` hears of each stage."""
    held = dict(held or {})
    unknown = sorted({a.name for a in outer} - {SCATTER, TAU, FLOOR, TAIL})
    if unknown:
        raise SamplerError(f"the sampler integrates σ_int, τ_gal, the floor and the tail weight on its outer grid, not "
                           f"{unknown}")
    scaled = bool(held.get(TAU, 0.0)) or any(a.name == TAU for a in outer)
    chunks = object_chunks(data)
    shared = (kernel, dict(fixed), tuple(axes), data, error_model, scaled)
    names = [str(g) for g in data.points.galaxy]
    coarse: dict[str, Any] = {}
    built: list[_Built] = []

    def groups(galaxies: Sequence[int] | None) -> list[np.ndarray]:
        """Every galaxy's chunk, or ``galaxies`` in chunks of their own (:func:`object_chunks`: enough tasks that the
        galaxies rebuilt at the best point do not queue on one worker)."""
        if galaxies is None:
            return chunks
        index = np.asarray(galaxies)
        return [index[c] for c in object_chunks(data.take(index))]

    def build(point: Mapping[str, float], draws: int, galaxies: Sequence[int] | None = None) -> list[_Built]:
        parts = run(_build_chunk, (*shared, model, dict(point), draws), [(c,) for c in groups(galaxies)])
        return [b for part in parts for b in part]

    def sample(values: Mapping[str, np.ndarray], galaxies: Sequence[int] | None = None, resampled: bool = True
               ) -> np.ndarray:
        return np.concatenate(run(_sample_chunk, (*shared, model), [([built[g] for g in c], values, resampled, c)
                                                                      for c in groups(galaxies)]), axis=1)

    def proposals(point: Mapping[str, float]) -> list[_Built]:
        start = time.perf_counter()
        found = checkpoint.get("proposals", lambda: build(point, DRAWS), lambda b: [x.to_data() for x in b],
                               lambda d: [_Built.from_data(x) for x in d])
        progress(f"{len(found)} galaxies' proposals built at " + _point_text(point)
                 + f" in {time.perf_counter() - start:.0f} s")
        return found

    if not outer:
        point = {k: float(v) for k, v in held.items()}
        built.extend(proposals(point))
        loglike = np.array([[b.estimate.log_z for b in built]])
        integral = None
    else:
        def evaluate(values: Mapping[str, np.ndarray], items: np.ndarray, stage: str) -> dict[str, np.ndarray]:
            start = time.perf_counter()
            flat = {k: np.asarray(v, dtype=float)[:, 0] for k, v in values.items()}
            every = _settings(flat, held, len(next(iter(flat.values()))))
            if stage == "coarse":
                parts = run(_laplace_chunk, shared + (every,), [(c,) for c in chunks])
                ll = np.concatenate(parts, axis=1)
                coarse["best"] = {k: float(v[int(np.argmax(ll.sum(axis=1)))]) for k, v in every.items()}
                progress(f"coarse grid: {len(ll)} points (Laplace) in {time.perf_counter() - start:.0f} s")
                return {"loglike": ll[:, None, :]}
            if not built:
                built.extend(proposals(coarse["best"]))
            ll = sample(every)
            progress(f"{stage} grid: {len(ll)} points × {ll.shape[1]} galaxies reweighed in "
                     f"{time.perf_counter() - start:.0f} s")
            return {"loglike": ll[:, None, :]}

        (integral,) = integrate(evaluate, list(outer), check=loo_change, skip=SKIP)
        loglike = integral.arrays["loglike"]
        total = loglike.sum(axis=1)
        m = int(np.argmax(total))
        point = {**{k: float(v) for k, v in held.items()},
                 **{k: float(v[m]) for k, v in grid_points(integral).items()}}

    def posteriors(galaxies: Sequence[int]) -> list[GalaxyPosterior]:
        by_chunk = [c[np.isin(c, galaxies)] for c in chunks]
        tasks = [([built[g] for g in c], point, c) for c in by_chunk if c.size]
        parts = run(_posterior_chunk, (*shared, model), tasks)
        return [p for part in parts for p in part]

    found = posteriors(np.arange(len(names)))
    weak = [g for g, p in enumerate(found) if not _sure(p.estimate)]
    if weak:
        progress(f"{len(weak)} galaxies' estimates weak at the best point ({_names(names, weak)}): their proposals "
                 "built again there")
        for g, b in zip(weak, build(point, 4 * DRAWS, weak)):
            built[g] = b
        for g, p in zip(weak, posteriors(np.asarray(weak))):
            found[g] = p
        if integral is not None:
            loglike = loglike.copy()
            loglike[:, weak] = sample(_settings(grid_points(integral), held, loglike.shape[0]), weak)
    hard = [g for g in weak if not _sure(found[g].estimate)]
    sigma = np.array([p.estimate.error for p in found])
    on_grid = np.full(len(names), np.nan)
    if hard:
        start = time.perf_counter()
        sigma_int = point.get(SCATTER)
        grid = object_evidence(kernel, fixed, axes, data.take(np.asarray(hard)), error_model, sigma_int, run=run,
                               held={k: v for k, v in point.items() if k != SCATTER}, one_each=True)
        on_grid[hard] = grid.log_z
        sigma[hard] = grid.errors
        progress(f"{len(hard)} galaxies' posteriors beyond the sampler's proposals ({_names(names, hard)}): their ln Z "
                 f"at the best point by the grid engine, in {time.perf_counter() - start:.0f} s")
    errors: dict[str, float] = {}
    if integral is None:
        loglike = np.array([[p.estimate.log_z for p in found]])
        loglike[0, hard] = on_grid[hard]
        log_z = float(loglike.sum())
    else:
        start = time.perf_counter()
        probes = [point]
        summary = integral.summary()
        for axis in outer:
            for sign in (-1.0, 1.0):
                at = float(np.clip(point[axis.name] + sign * summary[axis.name]["sd"], axis.lower, axis.upper))
                if at != point[axis.name]:
                    probes.append({**point, axis.name: at})
        values = {k: np.array([p[k] for p in probes]) for k in point}
        resampled = sample(values)
        delta = sample(values, resampled=False) - resampled
        delta[:, hard] = on_grid[hard] - resampled[0, hard]
        shifts = delta.sum(axis=1)
        loglike = loglike + delta[0]
        integral = replace(integral, arrays={**integral.arrays, "loglike": loglike})
        log_z = float(logsumexp(loglike.sum(axis=1) + integral.log_mass))
        errors.update({"grid": float(integral.grid_change) if np.isfinite(integral.grid_change) else math.inf,
                       "end": integral.end_term, "outside": math.log1p(integral.outside),
                       "correction_variation": float(np.max(np.abs(shifts - shifts[0])))})
        progress(f"all draws against the grid's {REWEIGH_DRAWS} resampled ones at the best point and one posterior sd "
                 f"away in {time.perf_counter() - start:.0f} s")
    sampled = np.ones(len(names), dtype=bool)
    sampled[hard] = False
    errors.update({"sampling": float(np.sqrt(np.sum(sigma[sampled] ** 2))),
                   "bias": float(np.sum(sigma[sampled] ** 2) / 2), "grid_engine": float(np.sum(sigma[~sampled]))})
    errors["total"] = float(sum(errors.values()))
    converged = np.array([_sure(p.estimate) for p in found]) | ~sampled
    profile = np.array([_profile(b, p) for b, p in zip(built, found)])
    return SampledEvidence(integral, loglike, log_z, errors, point, found, np.array([b.chi2 for b in built]), profile,
                           converged, [names[g] for g in weak], engine_settings(axes), sigma,
                           [names[g] for g in hard])


def _sure(found: importance.Estimate) -> bool:
    """Whether an estimate can be taken: a usable Pareto k̂, an error within :data:`GALAXY_ERROR`, and at least
    :data:`SURE_SHARE` of its draws effective (below it the posterior has a shape the proposal does not follow — a
    ridge, a skew — and the tail it misses can hide from k̂)."""
    return found.trusted and found.error <= GALAXY_ERROR and found.ess >= SURE_SHARE * found.n


def _names(names: Sequence[str], index: Sequence[int], top: int = 5) -> str:
    return ", ".join(names[g] for g in index[:top]) + (", …" if len(index) > top else "")


def _settings(values: Mapping[str, np.ndarray], held: Mapping[str, float], m: int) -> dict[str, np.ndarray]:
    """M settings of the likelihood: the grid's ``values`` and the ``held`` ones repeated."""
    return {**{k: np.full(m, float(v)) for k, v in held.items()}, **{k: np.asarray(v, dtype=float) for k, v in
                                                                     values.items()}}


def _profile(built: _Built, posterior: GalaxyPosterior) -> float:
    """ln L at a galaxy's best mode where its proposal was built: −ℓ(x̂) less the prior's part."""
    x = built.mode
    return float(-built.f + 0.5 * float(x @ x) + 0.5 * x.size * math.log(2 * math.pi))


def sampled_halo_table(kernel: Kernel, fixed: Mapping[str, Any], evidence: SampledEvidence, data: Data) -> Any:
    """Each galaxy's halo quantities (:func:`~sigcube.stats.halo_posteriors.halo_dataset`) from its posterior draws:
    the halo's parameters and M★ at each draw's own Υ_disk, Υ_bul and D."""
    from sigcube.model.inputs import stellar_mass
    from sigcube.stats.halo_posteriors import HaloSample, disc_scale_lengths, halo_dataset

    columns = data.catalogue.columns
    if "L36" not in columns:
        raise SamplerError("halo quantities need the catalogue's L[3.6] (L36) for M★")
    l_bul = columns.get("L_bul", np.zeros(len(columns["L36"])))
    names = list(evidence.settings["axes"])
    samples = []
    for g, posterior in enumerate(evidence.galaxies):
        d = posterior.draws
        ratio = d["distance"] / columns["distance"][g] if "distance" in d else 1.0
        mstar = stellar_mass(d.get("upsilon_disk", 0.5), d.get("upsilon_bul", 0.7), columns["L36"][g], l_bul[g], ratio)
        mass = np.full(len(next(iter(d.values()))), 1.0)
        samples.append(HaloSample({k: d[k] for k in names}, np.log10(np.broadcast_to(mstar, mass.shape)), mass,
                                  {k: bool(max(posterior.summary[k]["edge_mass"]) > EDGE_WARNING) for k in names}))
    return halo_dataset(kernel.name, samples, [str(g) for g in data.points.galaxy],
                        disc_scale_lengths(data.points), fixed,
                        mstar="log10 M★ at each posterior draw's own Υ_disk, Υ_bul and D (the catalogue's L[3.6] and "
                              "L_bul)",
                        method="quantiles of each quantity at each galaxy's posterior draws (resampled by weight from "
                               "its importance-sampled joint posterior of the halo's parameters and Υ, D, i)")


def _point_text(point: Mapping[str, float]) -> str:
    return ", ".join(f"{k} = {v:.4g}" for k, v in point.items()) or "the quoted errors"


def conflicts(evidence: SampledEvidence, galaxies: Sequence[str], limit: float = CONFLICT) -> list[dict[str, Any]]:
    """Every (galaxy, parameter) whose posterior mean lies more than ``limit`` prior sd from its prior's centre (its
    prior deviate's posterior mean beyond ±limit): a prior–data conflict."""
    rows = []
    for name, p in zip(galaxies, evidence.galaxies):
        for param, s in p.summary.items():
            if abs(s["z_mean"]) > limit:
                rows.append({"galaxy": str(name), "parameter": param, "z_mean": s["z_mean"], "z_sd": s["z_sd"],
                             "mean": s["mean"], "sd": s["sd"]})
    return rows

