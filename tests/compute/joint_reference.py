"""An independent reference for one galaxy's ln Z over its model's own parameters *and* its nuisance parameters
together (a ΛCDM halo's deviates with Υ, D, i): defensive importance sampling with many draws.

    Z = ∫ L(θ(z)) φ_d(z) dz

in each prior's own normal-deviate variable z_j (the nuisance priors' ``from_normal``; a ΛCDM deviate is its own
z, N(0, 1) truncated to ±``bound``). The proposal is a mixture: a Student-t (ν = 4) at every distinct mode that
scipy's L-BFGS-B finds from many starts, its scale the finite-difference inverse Hessian widened 1.3×, then
refitted ``adapt`` times to the weighted draws (k-means clusters, :func:`_refitted`), and a tenth
of the draws from the prior N(0, I) itself, so that no weight exceeds ten times the likelihood's largest value
(Hesterberg 1995's defensive mixture). ln Z and its error are from ``batches`` independent batches of draws: the
error is their standard error of the mean, not a formula of the method's.

It uses only the kernel's ``func``, :class:`~sigcube.stats.nuisance.NuisanceTransform`, the priors' ``from_normal``
and :class:`~sigcube.stats.likelihood.BoundLikelihood` — none of the sampler's Laplace modes, proposals, compiled
likelihood or the grid engine's quadrature. Its agreement with the tensor-product rule of
:mod:`tensor_reference` on 4-D nuisance integrals is a test of its own (``test_joint_references``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import cluster, optimize, special, stats

from sigcube.model.kernels.registry import Kernel
from sigcube.stats.likelihood import GaussianLikelihood
from sigcube.stats.nuisance import NUISANCE_PARAMETERS, NuisanceTransform
from sigcube.stats.priors import Prior

NU = 4.0
WIDEN = 1.3
DEFENSIVE = 0.1


@dataclass(frozen=True)
class JointReference:
    log_z: float
    """ln Z [nat]."""
    error: float
    """The standard error of ln Z over the batches [nat]."""
    ess: float
    """Effective draws (Kish) of all batches together."""
    draws: int
    modes: int
    """Distinct modes in the proposal."""
    dims: tuple[str, ...]


class _Integrand:
    def __init__(self, kernel: Kernel, params: Mapping[str, Any], own: Sequence[str], bound: float,
                 transform: NuisanceTransform, priors: Mapping[str, Prior], likelihood: GaussianLikelihood) -> None:
        if transform.n_galaxies != 1:
            raise ValueError("the joint reference integrates one galaxy")
        self.kernel, self.transform, self.priors, self.own, self.bound = kernel, transform, priors, tuple(own), bound
        self.params = kernel.resolve({**params, **{p: 0.0 for p in own}})
        self.lik = likelihood.bind(transform.v_obs, transform.e_v_obs, transform.offsets)
        self.nuisance = tuple(n for n in NUISANCE_PARAMETERS if n in priors
                              and (n != "upsilon_bul" or bool(transform.has_bulge[0])))
        self.dims = self.own + self.nuisance
        # each own deviate's prior N(0, 1) truncated to ±bound: its density is φ(z)/(1 − 2Φ(−bound))
        self.log_trunc = -len(self.own) * math.log1p(-2.0 * special.ndtr(-bound))

    def __call__(self, z: np.ndarray) -> np.ndarray:
        """ln[L(θ(z)) φ_d(z)] at draws ``z`` (k, d)."""
        z = np.atleast_2d(z)
        k, d = z.shape
        n_own = len(self.own)
        params = {**self.params, **{p: z[:, j: j + 1] for j, p in enumerate(self.own)}}
        values = {name: self.priors[name].from_normal(z[:, n_own + j: n_own + j + 1])
                  for j, name in enumerate(self.nuisance) if name != "inclination"}
        qinv = None
        if "inclination" in self.nuisance:
            theta_i = self.priors["inclination"].from_normal(z[:, -1:])
            qinv = self.transform.inverse_inclination_factor(theta_i)
        with np.errstate(all="ignore"):
            v = self.kernel.func(self.transform.kernel_inputs(values), **params)
            v = np.broadcast_to(v, (k, self.transform.n_points))
            ll = self.lik.log_likelihood(v, qinv)[:, 0]
        f = ll - 0.5 * np.sum(z * z, axis=1) - 0.5 * d * math.log(2 * math.pi) + self.log_trunc
        outside = np.any(np.abs(z[:, :n_own]) > self.bound, axis=1) if n_own else np.zeros(k, dtype=bool)
        return np.where(np.isnan(f) | outside, -np.inf, f)


def _hessian(f: Any, x: np.ndarray, h: float = 2e-3) -> np.ndarray:
    d = len(x)
    steps = np.eye(d) * h
    points = [x]
    for i in range(d):
        for j in range(i, d):
            for si, sj in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                points.append(x + si * steps[i] + sj * steps[j])
    values = f(np.array(points))
    hess = np.empty((d, d))
    at = 1
    for i in range(d):
        for j in range(i, d):
            pp, pm, mp, mm = values[at: at + 4]
            at += 4
            hess[i, j] = hess[j, i] = (pp - pm - mp + mm) / (4 * h * h)
    return hess


def _modes(f: Any, d: int, rng: np.random.Generator, starts: int, window: float) -> list[tuple[np.ndarray, float]]:
    """Distinct local maxima of ``f`` within ``window`` nat of the best: L-BFGS-B from the best of a prior scan and
    from random prior draws."""
    scan = rng.standard_normal((20000, d)) * 1.5
    values = f(scan)
    order = np.argsort(-values)
    begin = [np.zeros(d), *scan[order[:starts // 2]], *rng.standard_normal((starts - starts // 2, d))]
    found: list[tuple[np.ndarray, float]] = []
    for x0 in begin:
        res = optimize.minimize(lambda x: -float(f(x[None, :])[0]) if np.isfinite(f(x[None, :])[0]) else 1e300,
                                x0, method="L-BFGS-B", options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-8})
        found.append((res.x, -float(res.fun)))
    found.sort(key=lambda m: -m[1])
    best = found[0][1]
    distinct: list[tuple[np.ndarray, float]] = []
    for x, value in found:
        if value < best - window:
            continue
        if all(np.linalg.norm(x - y) > 0.3 for y, _ in distinct):
            distinct.append((x, value))
    return distinct


def joint_log_marginal(kernel: Kernel, params: Mapping[str, Any], own: Sequence[str], transform: NuisanceTransform,
                       priors: Mapping[str, Prior], likelihood: GaussianLikelihood | None = None, *,
                       bound: float = 5.0, draws: int = 2_000_000, batches: int = 16, starts: int = 24,
                       window: float = 15.0, adapt: int = 3, adapt_draws: int = 200_000,
                       seed: int = 20261129) -> JointReference:
    """ln Z of one galaxy over the kernel's parameters ``own`` (N(0, 1) deviates truncated to ±``bound``) and its
    nuisance parameters, the kernel's other parameters at ``params`` (module docstring)."""
    g = _Integrand(kernel, params, own, bound, transform, priors, likelihood or GaussianLikelihood())
    d = len(g.dims)
    rng = np.random.default_rng(seed)
    modes = _modes(g, d, rng, starts, window)
    comps = []
    for x, value in modes:
        hess = -_hessian(g, x)
        w, vecs = np.linalg.eigh(hess)
        w = np.maximum(w, 1e-2)                                   # a flat or negative direction: sd ≤ 10
        cov = (vecs / w) @ vecs.T * WIDEN**2
        comps.append((x, cov, value + 0.5 * float(np.sum(np.log(2 * math.pi / w)))))
    laplace = np.array([c[2] for c in comps])
    mix = np.exp(laplace - laplace.max())
    proposal = _Mixture([c[0] for c in comps], [c[1] for c in comps], mix / mix.sum(), d)
    for _ in range(adapt):
        z = proposal.draw(adapt_draws, rng)
        lw = np.concatenate([g(z[a: a + 20000]) for a in range(0, len(z), 20000)]) - proposal.log_density(z)
        proposal = _refitted(z, lw, proposal, rng)
    per = draws // batches
    estimates, all_lw = [], []
    for _ in range(batches):
        z = proposal.draw(per, rng)
        lw = np.concatenate([g(z[a: a + 20000]) for a in range(0, len(z), 20000)]) - proposal.log_density(z)
        estimates.append(float(special.logsumexp(lw) - math.log(len(lw))))
        all_lw.append(lw)
    lw = np.concatenate(all_lw)
    w = np.exp(lw - lw.max())
    log_z = float(special.logsumexp(lw) - math.log(len(lw)))
    z_batches = np.exp(np.array(estimates) - log_z)
    error = float(np.std(z_batches, ddof=1) / math.sqrt(batches))
    return JointReference(log_z, error, float(w.sum() ** 2 / np.sum(w * w)), len(lw), len(modes), g.dims)


class _Mixture:
    """Student-t components (ν = :data:`NU`) and, with weight :data:`DEFENSIVE`, the prior N(0, I)."""

    def __init__(self, means: Sequence[np.ndarray], covs: Sequence[np.ndarray], weights: np.ndarray, d: int) -> None:
        self.d = d
        self.dists = [stats.multivariate_t(loc=m, shape=c, df=NU) for m, c in zip(means, covs)]
        self.weights = np.array([*((1 - DEFENSIVE) * np.asarray(weights)), DEFENSIVE])
        self.prior = stats.multivariate_normal(mean=np.zeros(d), cov=np.eye(d))

    def draw(self, n: int, rng: np.random.Generator) -> np.ndarray:
        counts = rng.multinomial(n, self.weights)
        return np.concatenate([*(dist.rvs(size=k, random_state=rng).reshape(k, self.d)
                                 for dist, k in zip(self.dists, counts[:-1])),
                               rng.standard_normal((counts[-1], self.d))])

    def log_density(self, z: np.ndarray) -> np.ndarray:
        parts = [dist.logpdf(z).reshape(len(z)) for dist in self.dists] + [self.prior.logpdf(z).reshape(len(z))]
        return special.logsumexp(np.stack(parts), axis=0, b=self.weights[:, None])


def _refitted(z: np.ndarray, lw: np.ndarray, old: _Mixture, rng: np.random.Generator, k: int = 8,
              keep: int = 20000) -> _Mixture:
    """A mixture fitted to ``keep`` draws resampled by their weights: k-means clusters, each a component with its
    draws' covariance widened :data:`WIDEN`× and its share of the draws, beside the old proposal's components."""
    w = np.exp(lw - np.max(lw))
    picked = z[rng.choice(len(z), size=keep, p=w / w.sum())]
    _, labels = cluster.vq.kmeans2(picked, k, seed=rng, minit="++")
    means, covs, shares = [], [], []
    for j in range(k):
        members = picked[labels == j]
        if len(members) <= 2 * old.d:
            continue
        means.append(members.mean(axis=0))
        covs.append(np.cov(members.T) * WIDEN**2 + 1e-6 * np.eye(old.d))
        shares.append(len(members) / keep)
    shares_new = 0.7 * np.array(shares) / np.sum(shares)
    old_weights = 0.3 * old.weights[:-1] / old.weights[:-1].sum()
    return _Mixture([*means, *(d.loc for d in old.dists)], [*covs, *(d.shape for d in old.dists)],
                    np.concatenate([shares_new, old_weights]), old.d)
