"""The evidence of a kernel on a sample of galaxies, every integral converged or flagged.

A model has *global* parameters (one value for every galaxy; σ_int among them when it is free) and/or *per-object*
parameters (each galaxy its own), each an :class:`~sigcube.stats.adaptive_grid.Axis` with a uniform prior over a range
fixed before the data are seen. The per-galaxy likelihood is :class:`~sigcube.stats.likelihood.GaussianLikelihood`
(normalisation included) at the catalogue Υ, D, i, or with them marginalised under their priors
(:func:`sigcube.compute.quadrature.marginalise`, adaptive Gauss–Hermite):

- the parameters are integrated on grids that adapt to the posterior (:func:`sigcube.stats.adaptive_grid.integrate`:
  a coarse pass over the prior's range, zooms, step halving until ln Z moves by < 0.1 nat), the nuisance at
  :data:`COARSE_NODES` nodes per dimension on the coarse pass (it only locates the mass) and :data:`GRID_NODES` on
  the fine grids;
- then, at the posterior's best grid point, the node rule (:func:`sigcube.compute.quadrature.choose_nodes`) gives
  each galaxy the node count at which its ln Z has settled; the difference between ln Z there and at
  :data:`GRID_NODES`, δ_g, is added to the galaxy's ln L at every grid point (a constant per galaxy: the posterior's
  shape is that of the grid, its normalisation and each galaxy's predictive term take the correction), and it is
  recomputed one posterior sd away along each global axis to measure how much it varies.

Every ln Z carries its numerical error: the grid's (the last halving's change plus the share of mass outside the
final box), the quadrature's (the node rule's estimate) and the correction's variation; their sum is ``error``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from scipy.special import logsumexp

from sigcube.compute import quadrature
from sigcube.errors import SigcubeError
from sigcube.model.kernels.registry import Kernel
from sigcube.model.points import PointSet
from sigcube.model.segments import segment_sum
from sigcube.engines.checkpoint import Checkpoint
from sigcube.stats.adaptive_grid import TOLERANCE, Axis, Box, ItemIntegral, box_grid, grid_points, integrate
from sigcube.stats.likelihood import GaussianLikelihood
from sigcube.stats.logo import loo_exact
from sigcube.stats.nuisance import Catalogue, NuisanceTransform, sparc_priors

COARSE_NODES = 3
"""Gauss–Hermite nodes per nuisance dimension on the coarse pass, which only locates the posterior's mass."""
GRID_NODES = 5
"""Gauss–Hermite nodes per nuisance dimension on the fine grids (the node rule's correction brings each galaxy to its
converged count)."""
BATCH_POINTS = 400_000
"""Grid points × packed points evaluated at once: bounds the memory of one evaluation."""
SCATTER = "sigma_int"
"""The name of the σ_int axis."""


Progress = Callable[[str], None]
"""Hears one line per finished piece of a long integral."""


def silent(message: str) -> None:
    """A :data:`Progress` that says nothing."""


class EvidenceError(SigcubeError):
    """A model whose evidence cannot be formed (no parameter to integrate, a global and per-object mix)."""


@dataclass(frozen=True)
class Data:
    """A sample: its packed points and, for the nuisance marginalisation, their catalogue (None: catalogue values)
    and the nuisance priors' specs (None: Li+2018, :data:`~sigcube.stats.nuisance.SPARC_PRIORS`)."""

    points: PointSet
    catalogue: Catalogue | None = None
    priors: Mapping[str, Mapping[str, Any]] | None = None

    @property
    def nuisance(self) -> bool:
        return self.catalogue is not None

    def transform(self, kernel: Kernel, params: Mapping[str, Any]) -> NuisanceTransform:
        return NuisanceTransform(self.points, self.catalogue, kernel.required_inputs(kernel.resolve(params)))

    def nuisance_priors(self) -> Mapping[str, Any]:
        return sparc_priors(self.catalogue, self.priors)


@dataclass(frozen=True)
class Correction:
    """The node rule's correction at one point: per galaxy δ_g = ln Z_g(n_g) − ln Z_g(:data:`GRID_NODES`) (0 where
    n_g ≤ GRID_NODES), the rule's per-galaxy error estimates, the rule itself (a NodeChoice summary) and how much
    Σ_g δ_g varies one posterior sd away along each global axis (``variation`` [nat], 0 without global axes)."""

    delta: np.ndarray
    errors: np.ndarray
    rule: dict[str, Any]
    variation: float = 0.0

    @property
    def shift(self) -> float:
        return float(self.delta.sum())


def _likelihood(sigma: Any, error_model: str) -> GaussianLikelihood:
    return GaussianLikelihood(0.0 if sigma is None else sigma, error_model)


def _batches(m: int, n_points: int) -> list[slice]:
    step = max(1, BATCH_POINTS // max(n_points, 1))
    return [slice(a, min(a + step, m)) for a in range(0, m, step)]


class _Evaluator:
    """ln L of every galaxy at grid points: catalogue values, or the nuisance marginalised (the evaluate() of
    :func:`~sigcube.stats.adaptive_grid.integrate`)."""

    def __init__(self, kernel: Kernel, fixed: Mapping[str, Any], data: Data, error_model: str,
                 sigma_int: float | None) -> None:
        self.kernel, self.fixed, self.data, self.error_model, self.sigma_int = kernel, dict(fixed), data, error_model, sigma_int
        self.points = data.points
        self.transform = data.transform(kernel, fixed) if data.nuisance else None
        self.priors = data.nuisance_priors() if data.nuisance else None

    def arrays(self, params: Mapping[str, np.ndarray], index: np.ndarray, per_object: Mapping[str, np.ndarray],
               sigma: np.ndarray | float | None, nodes: int | np.ndarray, restarts: bool = False
               ) -> dict[str, np.ndarray]:
        """Per galaxy of ``index`` at M points: ``loglike`` (marginalised, or at the catalogue values), ``profile`` ln L
        and ``chi2`` at the mode (or the catalogue values), ``objective`` χ² + |z|² at the mode; (M, len(index))."""
        sigma = self.sigma_int if sigma is None else sigma
        likelihood = _likelihood(sigma, self.error_model)
        if self.transform is None:
            sub = self.points.take(index)
            v = self.kernel.func(sub.inputs, **self.fixed, **params, **{
                k: np.repeat(val, np.diff(sub.offsets), axis=-1) for k, val in per_object.items()})
            m = max([np.shape(x)[0] for x in (*params.values(), *per_object.values()) if np.ndim(x)] + [1])
            v = np.broadcast_to(v, (m, sub.n_points))
            bound = likelihood.bind(sub.inputs["v_obs"], sub.inputs["e_v_obs"], sub.offsets)
            chi2, ll = bound.chi2(v), bound.log_likelihood(v)
            rms = np.sqrt(segment_sum((v - sub.inputs["v_obs"]) ** 2, sub.offsets) / np.diff(sub.offsets))
            return {"loglike": ll, "profile": ll, "chi2": chi2, "objective": chi2, "rms": rms}
        transform = self.transform if len(index) == self.transform.n_galaxies else self.transform.take(index)
        priors = self.priors if len(index) == self.transform.n_galaxies else \
            {k: p.take(index) for k, p in self.priors.items()}
        marginal = quadrature.marginalise(self.kernel, {**self.fixed, **params}, transform, priors, likelihood,
                                          nodes=nodes, per_object=per_object, restarts=restarts)
        mode = marginal.mode
        return {"loglike": marginal.log_marginal, "profile": mode.log_likelihood, "chi2": mode.chi2,
                "objective": mode.chi2 + mode.chi2_prior}

    def batched(self, params: Mapping[str, np.ndarray], index: np.ndarray, per_object: Mapping[str, np.ndarray],
                sigma: np.ndarray | None, nodes: int) -> dict[str, np.ndarray]:
        """:meth:`arrays` over M grid points in batches (memory), parameters (M, 1) or per object (M, K)."""
        m = max([np.shape(v)[0] for v in (*params.values(), *per_object.values())]
                + ([np.shape(sigma)[0]] if sigma is not None and np.ndim(sigma) else []) + [1])
        n_points = int(np.diff(self.points.offsets)[index].sum())
        parts = []
        for b in _batches(m, n_points):
            parts.append(self.arrays({k: v[b] if np.ndim(v) and np.shape(v)[0] == m else v for k, v in params.items()},
                                     index, {k: v[b] for k, v in per_object.items()},
                                     sigma[b] if sigma is not None and np.ndim(sigma) else sigma, nodes))
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}

    def correction(self, params: Mapping[str, Any], index: np.ndarray, per_object: Mapping[str, np.ndarray],
                   sigma: float | None, grid_log_z: np.ndarray) -> Correction:
        """The node rule at one point (``per_object`` (1, K) arrays) against the grid's ln Z there (K,)."""
        transform = self.transform.take(index)
        priors = {k: p.take(index) for k, p in self.priors.items()}
        choice = quadrature.choose_nodes(self.kernel, {**self.fixed, **params}, transform, priors,
                                         _likelihood(self.sigma_int if sigma is None else sigma, self.error_model),
                                         per_object=per_object)
        delta = np.where(choice.nodes > GRID_NODES, choice.log_marginal - grid_log_z, 0.0)
        return Correction(delta, choice.errors, choice.summary())


def _scalar_params(point: Mapping[str, float]) -> tuple[dict[str, float], float | None]:
    params = {k: v for k, v in point.items() if k != SCATTER}
    return params, point.get(SCATTER)


@dataclass(frozen=True)
class GlobalEvidence:
    """A model with global parameters only: the integral (its final grid: per-galaxy ``loglike`` (M, G), with the
    node rule's correction added when the nuisance is marginalised), the correction and the error budget."""

    integral: ItemIntegral
    loglike: np.ndarray
    correction: Correction | None
    log_z: float
    errors: dict[str, float]

    @property
    def error(self) -> float:
        return self.errors["total"]

    def describe(self) -> dict[str, Any]:
        return {"log_z": self.log_z, "error": self.error, "errors": self.errors,
                "grid": self.integral.describe(), "posterior": self.integral.summary(),
                **({"node_rule": {**self.correction.rule, "shift": self.correction.shift,
                                  "variation": self.correction.variation}} if self.correction else {})}


def global_evidence(kernel: Kernel, fixed: Mapping[str, Any], axes: Sequence[Axis], data: Data,
                    error_model: str = "velocity_floor", sigma_int: float | None = None,
                    loo: bool = True) -> GlobalEvidence:
    """ln Z of a model whose parameters (``axes``; σ_int among them by the name ``sigma_int``) are shared by every
    galaxy (module docstring); ``loo``: the grid must also converge for the leave-one-galaxy-out densities
    (:func:`loo_change`)."""
    ev = _Evaluator(kernel, fixed, data, error_model, sigma_int)
    everyone = np.arange(data.points.n_galaxies)

    def evaluate(values: Mapping[str, np.ndarray], items: np.ndarray, stage: str) -> dict[str, np.ndarray]:
        params = {k: v for k, v in values.items() if k != SCATTER}
        sigma = values.get(SCATTER)
        out = ev.batched(params, everyone, {}, sigma, COARSE_NODES if stage == "coarse" else GRID_NODES)
        return {k: v[:, None, :] for k, v in out.items()}

    (integral,) = integrate(evaluate, axes, check=loo_change if loo else None)
    arrays = dict(integral.arrays)
    loglike = arrays["loglike"]
    errors = {"grid": _finite(integral.grid_change), "outside": math.log1p(integral.outside)}
    correction = None
    if data.nuisance:
        correction = _global_correction(ev, integral, loglike, everyone)
        loglike = loglike + correction.delta
        errors.update({"quadrature": float(correction.errors.sum()), "correction_variation": correction.variation})
    errors["total"] = float(sum(errors.values()))
    log_z = float(logsumexp(loglike.sum(axis=1) + integral.log_mass))
    integral = _with_arrays(integral, {**arrays, "loglike": loglike})
    return GlobalEvidence(integral, loglike, correction, log_z, errors)


def loo_change(integral: ItemIntegral) -> float:
    """|ELPD_LOGO on an integral's final grid − on its sub-grid of twice the step| [nat], from its per-galaxy
    ``loglike`` (0 without a sub-grid)."""
    sub = integral.subgrid()
    if sub is None:
        return 0.0
    index, log_mass = sub
    ll = integral.arrays["loglike"]
    return abs(float(loo_exact(ll, integral.log_mass).sum() - loo_exact(ll[index], log_mass).sum()))


def _finite(x: float) -> float:
    return float(x) if np.isfinite(x) else math.inf


def _with_arrays(integral: ItemIntegral, arrays: dict[str, np.ndarray]) -> ItemIntegral:
    return replace(integral, arrays=arrays)


def _global_correction(ev: _Evaluator, integral: ItemIntegral, loglike: np.ndarray, index: np.ndarray) -> Correction:
    """The node rule at the best grid point, and the variation of its shift one posterior sd away along each axis."""
    total = loglike.sum(axis=1)
    m = int(np.argmax(np.where(np.isfinite(total), total, -np.inf)))
    point = {name: float(v[m]) for name, v in grid_points(integral).items()}
    params, sigma = _scalar_params(point)
    base = ev.correction(params, index, {}, sigma, loglike[m])
    summary = integral.summary()
    shifts = []
    for name in point:
        for sign in (-1.0, 1.0):
            probe = dict(point)
            axis = next(a for a in integral.axes if a.name == name)
            lo, hi = axis.lower, axis.upper
            probe[name] = float(np.clip(point[name] + sign * summary[name]["sd"], lo, hi))
            if probe[name] == point[name]:
                continue
            p_params, p_sigma = _scalar_params(probe)
            grid = ev.arrays({k: np.array([[v]]) for k, v in p_params.items()}, index, {},
                             None if p_sigma is None else np.array([[p_sigma]]), GRID_NODES)["loglike"][0]
            shifts.append(ev.correction(p_params, index, {}, p_sigma, grid).shift)
    variation = float(max((abs(s - base.shift) for s in shifts), default=0.0))
    return Correction(base.delta, base.errors, base.rule, variation)


@dataclass(frozen=True)
class ObjectEvidence:
    """A model with per-object parameters only: each galaxy's ln Z (correction included), its error, its integral's
    convergence, the best grid point and where that sits, and the rule's correction."""

    log_z: np.ndarray
    errors: np.ndarray
    converged: np.ndarray
    best: dict[str, np.ndarray]
    at_bound: dict[str, np.ndarray]
    best_arrays: dict[str, np.ndarray]
    correction: Correction | None
    integrals: list[ItemIntegral] = field(repr=False, default_factory=list)

    @property
    def total(self) -> float:
        return float(self.log_z.sum())

    @property
    def error(self) -> float:
        return float(self.errors.sum())


def object_evidence(kernel: Kernel, fixed: Mapping[str, Any], axes: Sequence[Axis], data: Data,
                    error_model: str = "velocity_floor", sigma_int: float | None = None,
                    correct: bool = True, start: Sequence[Box] | None = None, locate: bool = False
                    ) -> ObjectEvidence:
    """Each galaxy's ln Z over its own parameters ``axes`` (module docstring), σ_int fixed at ``sigma_int``;
    ``correct``: apply the node rule's correction (the nuisance marginalised); ``start``: each galaxy's box to begin
    with (the final boxes of an earlier integral at a nearby σ_int) instead of the coarse pass; ``locate``: only
    locate each galaxy's mass (zooms but no step halving, :data:`COARSE_NODES` throughout: a rough ln Z, for the coarse
    pass of an outer integral)."""
    ev = _Evaluator(kernel, fixed, data, error_model, sigma_int)
    n = data.points.n_galaxies

    def evaluate(values: Mapping[str, np.ndarray], items: np.ndarray, stage: str) -> dict[str, np.ndarray]:
        nodes = COARSE_NODES if stage == "coarse" or locate else GRID_NODES
        return ev.batched({}, items, dict(values), None, nodes)

    integrals = integrate(evaluate, axes, n_items=n, start=start, tol=math.inf if locate else TOLERANCE)
    log_z = np.array([r.log_z for r in integrals])
    errors = np.array([r.error for r in integrals])
    best_index = [int(np.argmax(r.loglike)) for r in integrals]
    flat = [grid_points(r) for r in integrals]
    best = {a.name: np.array([f[a.name][m] for f, m in zip(flat, best_index)]) for a in axes}
    at_bound = {a.name: np.isclose(best[a.name], a.lower) | np.isclose(best[a.name], a.upper) for a in axes}
    best_arrays = {k: np.array([r.arrays[k][m].item() for r, m in zip(integrals, best_index)])
                   for k in integrals[0].arrays}
    correction = None
    if data.nuisance and correct:
        correction = ev.correction({}, np.arange(n), {k: v[None, :] for k, v in best.items()}, None,
                                   best_arrays["loglike"])
        log_z = log_z + correction.delta
        errors = errors + correction.errors
    return ObjectEvidence(log_z, errors, np.array([r.converged for r in integrals]), best, at_bound, best_arrays,
                          correction, integrals)


@dataclass(frozen=True)
class ScatterObjectEvidence:
    """A per-object model with σ_int a global axis: the outer integral over σ_int of Π_g Z_g(σ_int), each galaxy's
    ln Z_g(σ_int) on the outer grid (``loglike`` (M, G)), the inner integrals' errors at the best σ_int, the error
    budget."""

    integral: ItemIntegral
    loglike: np.ndarray
    inner: ObjectEvidence
    sigma_int: float
    """The best σ_int grid value, where ``inner`` is evaluated."""
    log_z: float
    errors: dict[str, float]

    @property
    def error(self) -> float:
        return self.errors["total"]


def scatter_object_evidence(kernel: Kernel, fixed: Mapping[str, Any], axes: Sequence[Axis], scatter: Axis,
                            data: Data, error_model: str, checkpoint: Checkpoint = Checkpoint(None),
                            progress: Progress = silent) -> ScatterObjectEvidence:
    """ln Z of a per-object model (``axes``) with σ_int on the global axis ``scatter``: the σ_int integral of
    Π_g Z_g(σ_int).

    The coarse pass over σ_int locates every galaxy's mass at each value (:func:`object_evidence` with ``locate``,
    each value beginning from the nearest value's boxes); the zooms and halvings evaluate each galaxy on one fixed
    grid, its final box at the best coarse value, so that ln Z_g(σ_int) is smooth in σ_int and the halving compares
    like with like.
    At the best σ_int each galaxy's adaptive integral (node rule included) corrects its fixed-grid value by a constant
    δ_g; the correction's variation one posterior sd away joins the error. Every σ_int value's integrals are kept in
    ``checkpoint`` (a killed run started again skips them); ``progress`` hears of each."""
    ev = _Evaluator(kernel, fixed, data, error_model, None)
    done: dict[float, tuple[np.ndarray, list[Box]]] = {}
    grids: list[Box] = []

    def adaptive(s: float, correct: bool = False, locate: bool = True) -> ObjectEvidence:
        near = min(done, key=lambda t: abs(t - s)) if done else None
        inner = object_evidence(kernel, fixed, axes, data, error_model, s, correct=correct,
                                start=None if near is None else done[near][1], locate=locate)
        done.setdefault(s, (inner.log_z, [r.box() for r in inner.integrals]))
        return replace(inner, integrals=[])

    def kept(s: float) -> tuple[np.ndarray, list[Box]]:
        if s not in done:
            done[s] = checkpoint.get(f"sigma={s!r}", lambda: (adaptive(s).log_z, done[s][1]))
            progress(f"σ_int = {s:.6g}: every galaxy integrated ({len(done)} values)")
        return done[s]

    def evaluate(values: Mapping[str, np.ndarray], items: np.ndarray, stage: str) -> dict[str, np.ndarray]:
        sigmas = values[SCATTER][:, 0]
        if stage == "coarse":
            rows = {s: kept(s)[0] for s in sorted(float(x) for x in sigmas)}
            return {"loglike": np.array([rows[float(x)] for x in sigmas])[:, None, :]}
        if not grids:
            grids.extend(done[max(done, key=lambda t: done[t][0].sum())][1])
        out = np.stack([checkpoint.get(f"fixed-sigma={float(x)!r}", lambda x=x: _on_grids(ev, axes, grids, [x])[0])
                        for x in sigmas])
        progress(f"σ_int: {len(sigmas)} more values on the fixed grids")
        return {"loglike": out[:, None, :]}

    (integral,) = integrate(evaluate, [scatter], check=loo_change)
    fixed_ll = integral.arrays["loglike"]
    m = int(np.argmax(fixed_ll.sum(axis=1)))
    best_sigma = float(grid_points(integral)[SCATTER][m])
    inner = checkpoint.get(f"best-sigma={best_sigma!r}",
                           lambda: adaptive(best_sigma, correct=data.nuisance, locate=False))
    delta = inner.log_z - fixed_ll[m]
    sd = integral.summary()[SCATTER]["sd"]
    shifts = []
    for probe in (best_sigma - sd, best_sigma + sd):
        if scatter.lower <= probe <= scatter.upper and sd > 0:
            away = checkpoint.get(f"probe-sigma={probe!r}", lambda p=probe: adaptive(p, locate=False).log_z) + (
                inner.correction.delta if inner.correction is not None else 0.0)
            shifts.append(float((away - _on_grids(ev, axes, grids, [probe])[0]).sum()))
    progress(f"σ_int = {best_sigma:.6g}: the adaptive integrals' correction checked one posterior sd away")
    loglike = fixed_ll + delta
    errors = {"grid": _finite(integral.grid_change), "end": integral.end_term,
              "outside": math.log1p(integral.outside), "inner": float(inner.errors.sum()),
              "correction_variation": max((abs(x - float(delta.sum())) for x in shifts), default=0.0)}
    errors["total"] = float(sum(errors.values()))
    log_z = float(logsumexp(loglike.sum(axis=1) + integral.log_mass))
    return ScatterObjectEvidence(_with_arrays(integral, {"loglike": loglike}), loglike, inner, best_sigma, log_z,
                                 errors)


def _on_grids(ev: _Evaluator, axes: Sequence[Axis], boxes: Sequence[Box], sigmas: Sequence[float]) -> np.ndarray:
    """Each galaxy's ln Z on the fixed grid of its box (``boxes[g]``: trapezoid prior masses, as the adaptive grid
    weighs them) at each σ_int of ``sigmas``: (len(sigmas), G); galaxies of equal grid size evaluated together."""
    sigmas = np.asarray(sigmas, dtype=float)
    out = np.empty((sigmas.size, len(boxes)))
    by_size: dict[int, list[int]] = {}
    for g, b in enumerate(boxes):
        by_size.setdefault(b.n, []).append(g)
    for n, members in by_size.items():
        index = np.array(members)
        grids = [box_grid(axes, boxes[g]) for g in members]
        size = grids[0][1].size
        per_object = {a.name: np.tile(np.stack([g[0][a.name] for g in grids], axis=1), (sigmas.size, 1))
                      for a in axes}
        sigma = np.repeat(sigmas, size)[:, None]
        ll = ev.batched({}, index, per_object, sigma, GRID_NODES)["loglike"].reshape(sigmas.size, size, len(members))
        log_mass = np.stack([g[1] for g in grids], axis=1)
        out[:, index] = logsumexp(ll + log_mass[None], axis=1)
    return out
