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

The per-galaxy work runs as tasks of a :data:`~sigcube.engines.dask.Runner` — in this process or on a Dask cluster,
the same tasks either way, so the numbers are the same bit for bit: a global model's grid is evaluated in tasks of one
run of evaluation batches of grid points (:data:`BATCH_POINTS` over the whole sample: each galaxy's mode search walks
a batch's points in order, so the batches, not the tasks, decide the last bits) × one galaxy chunk (:data:`CHUNK_POINTS`), the
node rule at all its points in galaxy chunks at once, a per-object model's integrals chunk by chunk
(:data:`OBJECT_CHUNK_POINTS`, or a 1/:data:`MIN_TASKS` share of the points where that is smaller; each galaxy's
integral is its own, so its chunk does not change its numbers); at the catalogue values, where ln L is cheap, in
larger chunks (:data:`CATALOGUE_CHUNK_POINTS`) — a global model's grid there in this process, every grid point at
once: its (points × galaxies) arrays would take longer to move from a worker than to compute; the sums over galaxies
are formed here, on the whole sample's arrays.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from scipy.special import logsumexp

from sigcube.compute import quadrature
from sigcube.engines.checkpoint import Checkpoint
from sigcube.engines.dask import Runner, in_process
from sigcube.engines.nuisance_spec import FLOOR_AXIS as FLOOR
from sigcube.engines.nuisance_spec import LIKELIHOOD_AXES
from sigcube.engines.nuisance_spec import SCATTER_AXIS as SCATTER
from sigcube.engines.nuisance_spec import TAIL_AXIS as TAIL
from sigcube.engines.nuisance_spec import TAU_AXIS as TAU
from sigcube.errors import SigcubeError
from sigcube.model.kernels.registry import Kernel
from sigcube.model.points import PointSet
from sigcube.model.segments import segment_sum
from sigcube.stats.adaptive_grid import (
    SKIP, TOLERANCE, Axis, Box, EmptyIntegrand, ItemIntegral, box_grid, grid_points, integrate,
)
from sigcube.stats.likelihood import GaussianLikelihood
from sigcube.stats.logo import loo_exact
from sigcube.stats.nuisance import Catalogue, NuisanceTransform, sparc_priors

COARSE_NODES = 3
"""Gauss–Hermite nodes per nuisance dimension on the coarse pass, which only locates the posterior's mass."""
GRID_NODES = 5
"""Gauss–Hermite nodes per nuisance dimension on the fine grids (the node rule's correction brings each galaxy to its
converged count)."""
BATCH_POINTS = 400_000
"""Grid points × packed points evaluated at once: bounds the memory of one evaluation, and the size of a task."""
CHUNK_POINTS = 500
"""Packed points per galaxy chunk of a global model's tasks (SPARC: 7 chunks, few enough that each worker keeps every
chunk's prior tables, :func:`sigcube.compute.quadrature.marginalise`'s cache of 8)."""
OBJECT_CHUNK_POINTS = 250
"""Packed points per galaxy chunk of a per-object model's tasks (SPARC: 13 chunks of about 13 galaxies)."""
RUNS = 16
"""A global model's grid goes out, per galaxy chunk, in at most this many runs of consecutive evaluation batches (a
refinement of 24,389 points on SPARC: 207 batches, 16 runs of 13): a grid level is then at most RUNS × chunks tasks,
enough to keep a cluster busy and few enough that each carries its cost."""
CATALOGUE_CHUNK_POINTS = 5000
"""Packed points per galaxy chunk at the catalogue values (no nuisance), where ln L is a few array operations: a task
of a global model takes every grid point of its chunk (SPARC: one task per grid), of a per-object model its
chunk's integrals (:data:`MIN_TASKS` bounds the chunks' size there); its work then outweighs a task's cost."""
MIN_TASKS = 8
"""A per-object model's chunks hold at most a 1/MIN_TASKS share of a call's packed points (:func:`object_chunks`;
a galaxy is never split, so a chunk holds a share and at most one galaxy more: about this many tasks): its integrals
at the catalogue values (SPARC in one chunk of :data:`CATALOGUE_CHUNK_POINTS` would be one task per
σ_int), or the few galaxies the sampler hands to this engine, would otherwise queue on one worker of a small cluster
while the others wait."""
MAX_GRID_CELLS = 20_000_000
"""The most coarse grid points × galaxies of an evidence integral over global axes (it holds per-galaxy ln L, χ², …
arrays of that size: 160 MB each); a larger coarse grid is refused before anything is allocated, naming its size, and
the refinements stop short of it (the integral is then called unconverged)."""
LIKELIHOOD = (*LIKELIHOOD_AXES, FLOOR, TAIL)
"""The global axes that are parameters of the likelihood, not of the kernel: σ_int, τ_gal, a velocity floor σ_fl
beside σ_int and the Student-t errors' tail weight 1/ν (:class:`~sigcube.stats.likelihood.GaussianLikelihood`)."""
Values = Mapping[str, Any]
"""Values of likelihood parameters by axis name (:data:`LIKELIHOOD`): floats, or (M, 1) arrays, one per grid point."""
GLOBAL_MAX_POINTS = 90_000
"""The most points of one refinement of a global model's grid (:data:`MAX_GRID_CELLS` over the galaxies bounds it
further): 17⁴ = 83,521, so a four-axis grid (Σ's A0 and k with σ_int and τ_gal) halves its step once more than the
adaptive grid's own limit (:data:`~sigcube.stats.adaptive_grid.MAX_POINTS`, 9⁴ there) allows."""
CHECK_WINDOW = 30.0
"""A seeded per-galaxy integral (:func:`_object_chunk`) is checked at the points of its final grid's sub-grid whose ln L
+ ln prior mass lies within this many nat of the best point's: every search there restarted."""
CHECK_GAIN = 0.01
"""A restarted search that raises a checked point's ln L by more than this [nat] shows a mode the seeds missed: the
galaxy's integral is done again with every search restarted."""
PROGRESS_SECONDS = 1.0
"""A global model's grid that took at least this long is reported to ``progress`` (quicker ones are not worth a line)."""


Progress = Callable[[str], None]
"""Hears one line per finished piece of a long integral."""


def silent(message: str) -> None:
    """A :data:`Progress` that says nothing."""


class EvidenceError(SigcubeError):
    """A model whose evidence cannot be formed (no parameter to integrate, no finite likelihood, a grid too large)."""


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

    def take(self, index: np.ndarray) -> Data:
        """The sample of the galaxies ``index`` only."""
        index = np.asarray(index, dtype=np.int64)
        catalogue = None if self.catalogue is None else self.catalogue.take(index, self.points.rows(index))
        return Data(self.points.take(index), catalogue, self.priors)


def object_chunks(data: Data) -> list[np.ndarray]:
    """The galaxy chunks of a per-object model's tasks: :data:`OBJECT_CHUNK_POINTS` (or
    :data:`CATALOGUE_CHUNK_POINTS`) packed points each, or a 1/:data:`MIN_TASKS` share of the points where that is
    smaller."""
    offsets = np.asarray(data.points.offsets)
    size = OBJECT_CHUNK_POINTS if data.nuisance else CATALOGUE_CHUNK_POINTS
    return galaxy_chunks(offsets, min(size, max(1, -(-int(offsets[-1] - offsets[0]) // MIN_TASKS))))


def longest_first(run: Runner, func: Callable[..., Any], shared: tuple, chunks: Sequence[np.ndarray], data: Data
                  ) -> list[Any]:
    """``run(func, shared, [(c,) for c in chunks])`` with the chunks of the most packed points handed out first (a
    long task started last keeps one worker busy while the others wait); the results in the chunks' order."""
    counts = np.diff(np.asarray(data.points.offsets))
    order = sorted(range(len(chunks)), key=lambda i: -int(counts[chunks[i]].sum()))
    parts = run(func, shared, [(chunks[i],) for i in order])
    return [parts[j] for j in np.argsort(order)]


def galaxy_chunks(offsets: np.ndarray, size: int) -> list[np.ndarray]:
    """Consecutive galaxies in chunks of about ``size`` packed points (a galaxy is never split; every chunk but the
    last has at least ``size`` points): the galaxy share of one task, the same whatever runs the tasks."""
    counts = np.diff(np.asarray(offsets))
    chunks, start, total = [], 0, 0
    for g, c in enumerate(counts):
        total += int(c)
        if total >= size:
            chunks.append(np.arange(start, g + 1))
            start, total = g + 1, 0
    if start < len(counts):
        chunks.append(np.arange(start, len(counts)))
    return chunks


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

    def to_data(self) -> dict[str, Any]:
        return {"delta": self.delta, "errors": self.errors, "rule": self.rule, "variation": self.variation}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Correction:
        return cls(np.asarray(data["delta"], dtype=float), np.asarray(data["errors"], dtype=float), dict(data["rule"]),
                   float(data["variation"]))


def _correction(choice: quadrature.NodeChoice, grid_log_z: np.ndarray) -> Correction:
    """The node rule's choice against the grid's ln Z of each galaxy at the same point."""
    delta = np.where(choice.nodes > GRID_NODES, choice.log_marginal - grid_log_z, 0.0)
    return Correction(delta, choice.errors, choice.summary())


def _merged(parts: Sequence[quadrature.NodeChoice]) -> quadrature.NodeChoice:
    """The node rule's choices of consecutive galaxy chunks as one choice over them all."""
    if len(parts) == 1:
        return parts[0]

    def joined(name: str) -> np.ndarray:
        return np.concatenate([getattr(p, name) for p in parts])

    return replace(parts[0], galaxy=joined("galaxy"), nodes=joined("nodes"), log_marginal=joined("log_marginal"),
                   change=joined("change"), settled=joined("settled"), near_edge=joined("near_edge"),
                   z=np.concatenate([p.z for p in parts], axis=1))


def likelihood_of(values: Values, error_model: str) -> GaussianLikelihood:
    """The per-galaxy likelihood at σ_int, τ_gal, the floor and the tail weight ``values`` (an absent or None value:
    0, so no σ_int is the errors as quoted, no tail weight Gaussian errors) under ``error_model``; each galaxy's
    velocity scale integrated with the nuisance."""
    def get(name: str) -> Any:
        value = values.get(name)
        return 0.0 if value is None else value
    return GaussianLikelihood(get(SCATTER), error_model, floor=get(FLOOR), tau_gal=get(TAU), tail=get(TAIL))


def _step(n_points: int) -> int:
    """Grid points per evaluation of ``n_points`` packed points (:data:`BATCH_POINTS`)."""
    return max(1, BATCH_POINTS // max(n_points, 1))


class _Evaluator:
    """ln L of every galaxy at grid points: catalogue values, or the nuisance marginalised (the evaluate() of
    :func:`~sigcube.stats.adaptive_grid.integrate`)."""

    def __init__(self, kernel: Kernel, fixed: Mapping[str, Any], data: Data, error_model: str,
                 sigma_int: float | None, tau_gal: float = 0.0, sigma_floor: float = 0.0,
                 tail: float = 0.0) -> None:
        self.kernel, self.fixed, self.data, self.error_model = kernel, dict(fixed), data, error_model
        self.likelihood_values = {SCATTER: sigma_int, TAU: tau_gal, FLOOR: sigma_floor, TAIL: tail}
        """The likelihood's values where a grid point gives none."""
        if tau_gal and not data.nuisance:
            raise EvidenceError("τ_gal, each galaxy's velocity scale, is integrated with the nuisance parameters: "
                                "marginalise Υ, D, i (leave out --no-nuisance)")
        self.points = data.points
        self.transform = data.transform(kernel, fixed) if data.nuisance else None
        self.priors = data.nuisance_priors() if data.nuisance else None

    def likelihood(self, values: Values) -> GaussianLikelihood:
        """The likelihood at ``values`` of σ_int, τ_gal, the floor, the tail weight (those absent: the evaluator's
        own)."""
        return likelihood_of({**self.likelihood_values, **values}, self.error_model)

    def arrays(self, params: Mapping[str, np.ndarray], index: np.ndarray, per_object: Mapping[str, np.ndarray],
               values: Values, nodes: int | np.ndarray, restarts: bool = False, start: np.ndarray | None = None
               ) -> dict[str, np.ndarray]:
        """Per galaxy of ``index`` at M points: ``loglike`` (marginalised, or at the catalogue values), ``profile`` ln L
        and ``chi2`` at the mode (or the catalogue values), ``objective`` χ² + |z|² at the mode; (M, len(index)).
        ``values``: the likelihood's parameters at each point (:data:`Values`; those absent: the evaluator's own);
        ``restarts``: restart every mode search (:func:`~sigcube.compute.quadrature.marginalise`); ``start``: each
        point's starting deviates (M, len(index), 4) instead of its predecessor's mode."""
        likelihood = self.likelihood(values)
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
        transform, priors = self._nuisance(index)
        marginal = quadrature.marginalise(self.kernel, {**self.fixed, **params}, transform, priors, likelihood,
                                          nodes=nodes, per_object=per_object, restarts=restarts, start=start)
        mode = marginal.mode
        return {"loglike": marginal.log_marginal, "profile": mode.log_likelihood, "chi2": mode.chi2,
                "objective": mode.chi2 + mode.chi2_prior}

    def modes(self, index: np.ndarray, per_object: Mapping[str, np.ndarray], values: Values) -> np.ndarray:
        """The nuisance mode in the priors' deviates (M, len(index), 4) of the galaxies ``index`` at M points
        (``per_object`` (M, K)), every search restarted from the prior centre and around its best mode
        (:func:`~sigcube.compute.quadrature.profile`)."""
        transform, priors = self._nuisance(index)
        return quadrature.profile(self.kernel, dict(self.fixed), transform, priors, self.likelihood(values),
                                  per_object=per_object, restarts=True).z

    def _nuisance(self, index: np.ndarray) -> tuple[NuisanceTransform, Mapping[str, Any]]:
        """The nuisance transform and priors of the galaxies ``index``."""
        assert self.transform is not None and self.priors is not None
        if len(index) == self.transform.n_galaxies:
            return self.transform, self.priors
        return self.transform.take(index), {k: p.take(index) for k, p in self.priors.items()}

    def batched(self, params: Mapping[str, np.ndarray], index: np.ndarray, per_object: Mapping[str, np.ndarray],
                values: Values, nodes: int, step: int | None = None, start: np.ndarray | None = None,
                restarts: bool = False) -> dict[str, np.ndarray]:
        """:meth:`arrays` over M grid points in batches of ``step`` (default: by memory, :data:`BATCH_POINTS` over the
        galaxies' points), parameters (M, 1) or per object (M, K), the likelihood's ``values`` (M, 1). Each galaxy's
        mode search walks a batch's grid points in order, each from its predecessor's mode (the batches decide the
        last bits), or from its row of ``start`` (M, K, 4); ``restarts`` as :meth:`arrays`."""
        m = max([np.shape(v)[0] for v in (*params.values(), *per_object.values())]
                + [np.shape(x)[0] for x in values.values() if x is not None and np.ndim(x)] + [1])
        if step is None:
            step = _step(int(np.diff(self.points.offsets)[index].sum()))

        def rows(x: Any, b: slice) -> Any:
            return x[b] if x is not None and np.ndim(x) else x

        parts = []
        for b in (slice(a, min(a + step, m)) for a in range(0, m, step)):
            parts.append(self.arrays({k: v[b] if np.ndim(v) and np.shape(v)[0] == m else v for k, v in params.items()},
                                     index, {k: v[b] for k, v in per_object.items()},
                                     {k: rows(x, b) for k, x in values.items()}, nodes, restarts,
                                     None if start is None else start[b]))
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}

    def node_choice(self, params: Mapping[str, Any], index: np.ndarray, per_object: Mapping[str, np.ndarray],
                    values: Values) -> quadrature.NodeChoice:
        """The node rule of the galaxies ``index`` at one point (``per_object`` (1, K) arrays; the likelihood's
        ``values`` as :meth:`arrays`)."""
        transform = self.transform.take(index)
        priors = {k: p.take(index) for k, p in self.priors.items()}
        return quadrature.choose_nodes(self.kernel, {**self.fixed, **params}, transform, priors,
                                       self.likelihood(values), per_object=per_object)

    def no_mass(self, problem: EmptyIntegrand, galaxies: Sequence[int], sigma_max: float | None) -> EvidenceError:
        """The error of an integral with no finite integrand at any grid point: the galaxies it names and the likely
        cause."""
        names = [str(g) for g in self.points.galaxy[np.asarray(galaxies, dtype=np.int64)]]
        who = (("galaxy " if len(names) == 1 else "galaxies ") + ", ".join(names[:5])
               + (f" and {len(names) - 5} more" if len(names) > 5 else "")) if names else "the sample"
        return EvidenceError(f"{self.kernel.name}: no point of the {problem.stage} grid gives {who} a finite "
                             f"log-likelihood: {self._cause(galaxies, sigma_max)}")

    def _cause(self, galaxies: Sequence[int], sigma_max: float | None) -> str:
        """What most likely makes the likelihood of ``galaxies`` vanish everywhere."""
        sub = self.data.take(np.asarray(galaxies, dtype=np.int64)) if len(galaxies) else self.data
        causes = []
        inputs = sub.points.inputs
        if "M_star" in self.kernel.required_inputs(self.kernel.resolve(self.fixed)):
            columns = sub.catalogue.columns if sub.catalogue is not None else {}
            m_star = inputs.get("M_star", np.array([np.nan]))
            light = columns.get("L36", m_star)
            if not np.all(np.asarray(m_star) > 0) or not np.all(np.asarray(light) > 0):
                causes.append("its stellar mass M★ is 0 or unknown (L36 = 0 or absent in the cube)")
        e_v = inputs["e_v_obs"]
        if not np.all(np.isfinite(e_v) & (e_v > 0)):
            causes.append("an error e_V is 0 or not finite")
        with np.errstate(over="ignore"):
            overflows = sigma_max is not None and not np.isfinite(np.square(np.float64(sigma_max) * max(
                1.0, float(np.nanmax(inputs["v_obs"])))))
        if overflows:
            causes.append(f"σ_int reaches {sigma_max:g}, whose square overflows the likelihood's variance (choose a "
                          "range in the error model's unit: km/s or dex)")
        return "; ".join(causes) or ("the kernel's prediction or the likelihood is not finite at any grid point "
                                     "(check the galaxies' inputs and the prior ranges)")


def _split(point: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A grid point's (or grid's) kernel parameters, and its likelihood's values (:data:`LIKELIHOOD`)."""
    return ({k: v for k, v in point.items() if k not in LIKELIHOOD},
            {k: v for k, v in point.items() if k in LIKELIHOOD})


def likelihood_at(point: Mapping[str, Any], scatter: Mapping[str, Any] | None
                  ) -> tuple[dict[str, Any], GaussianLikelihood]:
    """A report's best point split into the kernel's parameters and the likelihood there: σ_int, τ_gal and the floor
    from the point where they are axes, else at the one value ``scatter`` (a report's description of them, keyed by
    axis name; None: errors as quoted) fixes."""
    params, values = _split(point)
    if scatter is None:
        return params, GaussianLikelihood()
    fixed = {k: scatter[k]["values"][0] for k in (TAU, FLOOR, TAIL) if k in scatter}
    if len(scatter.get("values", ())) == 1:
        fixed[SCATTER] = scatter["values"][0]
    return params, likelihood_of({**fixed, **values}, scatter["error_model"])


def _held(held: Mapping[str, float] | None) -> dict[str, float]:
    """The likelihood's parameters beside σ_int held at one value each (τ_gal, the floor, the tail weight), checked by
    name."""
    out = {k: float(v) for k, v in (held or {}).items()}
    unknown = sorted(set(out) - {TAU, FLOOR, TAIL})
    if unknown:
        raise EvidenceError(f"held likelihood parameters {unknown}: only {TAU}, {FLOOR} and {TAIL} are held beside "
                            "σ_int")
    return out


def _sigma_max(axes: Sequence[Axis], sigma_int: float | None) -> float | None:
    """The largest σ_int an integral evaluates: its axis's upper bound, or the fixed value."""
    return next((a.upper for a in axes if a.name == SCATTER), sigma_int)


# --- global parameters ------------------------------------------------------------------------------------------


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


def _grid_block(ev: _Evaluator, params: Mapping[str, np.ndarray], values: Values, nodes: int, step: int, lo: int,
                hi: int, index: np.ndarray) -> dict[str, np.ndarray]:
    """Task: the galaxies ``index`` at the grid points lo:hi, in evaluations of ``step`` points."""
    return ev.batched({k: v[lo:hi] for k, v in params.items()}, index, {}, {k: v[lo:hi] for k, v in values.items()},
                      nodes, step)


def _check_size(kernel: Kernel, axes: Sequence[Axis], n_galaxies: int) -> None:
    """Refuse, before anything is allocated, a coarse grid whose points × galaxies exceed :data:`MAX_GRID_CELLS`."""
    size = math.prod(a.coarse for a in axes) * n_galaxies
    if size > MAX_GRID_CELLS:
        shape = " × ".join(f"{a.coarse} {a.name}" for a in axes)
        raise EvidenceError(f"{kernel.name}: its coarse grid ({shape}) over {n_galaxies} galaxies holds {size:,} values, "
                            f"more than the {MAX_GRID_CELLS:,} an evidence integral may hold (MAX_GRID_CELLS: 160 MB "
                            "per array); choose fewer σ_int values (N of --sigma-int LO:HI:N) or fewer galaxies")


def _evaluate_grid(ev: _Evaluator, run: Runner, params: Mapping[str, np.ndarray], values: Values, nodes: int,
                   chunks: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
    """Every galaxy at M global grid points (``params`` and the likelihood's ``values`` (M, 1)), assembled into (M, G)
    arrays:
    with the nuisance, from tasks of ``run``, runs of whole evaluation batches of grid points (the whole sample's,
    :func:`_step` of all its points, as if the sample were evaluated at once: the same numbers however the tasks are
    cut; at most :data:`RUNS` runs) × each galaxy chunk; at the catalogue values, every grid point × each galaxy chunk,
    in this process — there ln L costs less than moving its arrays from a worker (module docstring)."""
    m = max(np.shape(v)[0] for v in (*params.values(), *values.values()))
    g = ev.points.n_galaxies
    step = _step(ev.points.n_points)
    batches = -(-m // step)
    span = step * -(-batches // RUNS) if ev.transform is not None else m
    tasks = [(lo, min(lo + span, m), c) for lo in range(0, m, span) for c in chunks]
    parts = (run if ev.transform is not None else in_process)(_grid_block, (ev, dict(params), dict(values), nodes, step),
                                                            tasks)
    out = {k: np.empty((m, g), dtype=v.dtype) for k, v in parts[0].items()}
    for (lo, hi, c), part in zip(tasks, parts):
        for k, v in part.items():
            out[k][lo:hi, c[0]:c[-1] + 1] = v
    return out


def global_evidence(kernel: Kernel, fixed: Mapping[str, Any], axes: Sequence[Axis], data: Data,
                    error_model: str = "velocity_floor", sigma_int: float | None = None,
                    loo: bool = True, run: Runner = in_process, progress: Progress = silent,
                    tau_gal: float = 0.0, sigma_floor: float = 0.0, tail: float = 0.0) -> GlobalEvidence:
    """ln Z of a model whose parameters (``axes``; σ_int, τ_gal, the velocity floor and the tail weight among them by
    the names :data:`SCATTER`, :data:`TAU`, :data:`FLOOR` and :data:`TAIL`, else fixed at ``sigma_int``, ``tau_gal``,
    ``sigma_floor`` and ``tail``) are
    shared by every galaxy (module docstring); ``loo``:
    the grid must also converge for the leave-one-galaxy-out densities (:func:`loo_change`); the grids and the node
    rule run as tasks of ``run``; ``progress`` hears of each grid."""
    _check_size(kernel, axes, data.points.n_galaxies)
    ev = _Evaluator(kernel, fixed, data, error_model, sigma_int, tau_gal, sigma_floor, tail)
    chunks = galaxy_chunks(data.points.offsets, CHUNK_POINTS if data.nuisance else CATALOGUE_CHUNK_POINTS)
    grids = []

    def evaluate(values: Mapping[str, np.ndarray], items: np.ndarray, stage: str) -> dict[str, np.ndarray]:
        start = time.perf_counter()
        out = _evaluate_grid(ev, run, *_split(values), COARSE_NODES if stage == "coarse" else GRID_NODES, chunks)
        grids.append(stage)
        if time.perf_counter() - start >= PROGRESS_SECONDS:
            progress(f"{stage} grid {len(grids)}: {len(out['loglike'])} points × {data.points.n_galaxies} galaxies "
                     f"in {time.perf_counter() - start:.0f} s")
        return {k: v[:, None, :] for k, v in out.items()}

    try:
        (integral,) = integrate(evaluate, axes, check=loo_change if loo else None, skip=SKIP,
                                max_points=min(GLOBAL_MAX_POINTS, MAX_GRID_CELLS // data.points.n_galaxies))
    except EmptyIntegrand as problem:
        raise ev.no_mass(problem, problem.entries, _sigma_max(axes, sigma_int)) from None
    arrays = dict(integral.arrays)
    loglike = arrays["loglike"]
    errors = {"grid": _finite(integral.grid_change), "outside": math.log1p(integral.outside)}
    correction = None
    if data.nuisance:
        start = time.perf_counter()
        correction = _global_correction(ev, run, chunks, integral, loglike)
        progress(f"node rule at the best point and one posterior sd away in {time.perf_counter() - start:.0f} s")
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


def _node_rule(ev: _Evaluator, points: Sequence[Mapping[str, float]], i: int, index: np.ndarray
               ) -> tuple[np.ndarray | None, quadrature.NodeChoice]:
    """Task: the node rule of the galaxies ``index`` at ``points[i]``, and (but at the first point, whose grid values
    the caller has) their ln L at :data:`GRID_NODES` there."""
    params, values = _split(points[i])
    grid = None
    if i > 0:
        grid = ev.arrays({k: np.array([[v]]) for k, v in params.items()}, index, {},
                         {k: np.array([[v]]) for k, v in values.items()}, GRID_NODES)["loglike"][0]
    return grid, ev.node_choice(params, index, {}, values)


def _global_correction(ev: _Evaluator, run: Runner, chunks: Sequence[np.ndarray], integral: ItemIntegral,
                       loglike: np.ndarray) -> Correction:
    """The node rule at the best grid point, and the variation of its shift one posterior sd away along each axis:
    every point's galaxy chunks as tasks of ``run``."""
    total = loglike.sum(axis=1)
    m = int(np.argmax(np.where(np.isfinite(total), total, -np.inf)))
    point = {name: float(v[m]) for name, v in grid_points(integral).items()}
    summary = integral.summary()
    points = [point]
    for name in point:
        axis = next(a for a in integral.axes if a.name == name)
        for sign in (-1.0, 1.0):
            probe = dict(point)
            probe[name] = float(np.clip(point[name] + sign * summary[name]["sd"], axis.lower, axis.upper))
            if probe[name] != point[name]:
                points.append(probe)
    tasks = [(i, c) for i in range(len(points)) for c in chunks]
    parts = run(_node_rule, (ev, points), tasks)
    by_point: list[list[tuple[np.ndarray | None, quadrature.NodeChoice]]] = [[] for _ in points]
    for (i, _), part in zip(tasks, parts):
        by_point[i].append(part)
    base = _correction(_merged([choice for _, choice in by_point[0]]), loglike[m])
    shifts = [_correction(_merged([choice for _, choice in found]), np.concatenate([g for g, _ in found])).shift
              for found in by_point[1:]]
    return replace(base, variation=float(max((abs(s - base.shift) for s in shifts), default=0.0)))


# --- per-object parameters --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ObjectEvidence:
    """A model with per-object parameters only: each galaxy's ln Z (correction included), its error, its integral's
    convergence, the best grid point and where that sits, the rule's correction, each galaxy's final box (a start for
    a neighbouring integral) and its integral (not kept by :meth:`to_data`); ``summary``: what a caller made of the
    integrals (e.g. halo quantities), kept with the rest."""

    log_z: np.ndarray
    errors: np.ndarray
    converged: np.ndarray
    best: dict[str, np.ndarray]
    at_bound: dict[str, np.ndarray]
    best_arrays: dict[str, np.ndarray]
    correction: Correction | None
    boxes: list[Box] = field(repr=False, default_factory=list)
    integrals: list[ItemIntegral] = field(repr=False, default_factory=list)
    summary: dict[str, Any] | None = field(repr=False, default=None)
    restarted: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, dtype=bool))
    """Per galaxy: its seeded integral was done again with every search restarted (:func:`_object_chunk`)."""

    @property
    def total(self) -> float:
        return float(self.log_z.sum())

    @property
    def error(self) -> float:
        return float(self.errors.sum())

    def to_data(self) -> dict[str, Any]:
        """Everything but the integrals, as checkpoint data (:func:`sigcube.engines.checkpoint.encode`)."""
        return {"log_z": self.log_z, "errors": self.errors, "converged": self.converged, "best": self.best,
                "at_bound": self.at_bound, "best_arrays": self.best_arrays,
                "correction": None if self.correction is None else self.correction.to_data(),
                "boxes": [b.to_data() for b in self.boxes], "summary": self.summary, "restarted": self.restarted}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> ObjectEvidence:
        arrays = {k: {n: np.asarray(v) for n, v in data[k].items()} for k in ("best", "at_bound", "best_arrays")}
        return cls(np.asarray(data["log_z"], dtype=float), np.asarray(data["errors"], dtype=float),
                   np.asarray(data["converged"], dtype=bool), arrays["best"], arrays["at_bound"], arrays["best_arrays"],
                   None if data["correction"] is None else Correction.from_data(data["correction"]),
                   [Box.from_data(b) for b in data["boxes"]], summary=data.get("summary"),
                   restarted=np.asarray(data["restarted"], dtype=bool))


Seeds = tuple[Sequence[Box], Sequence[np.ndarray]]
"""Each galaxy's fixed grid (a :class:`Box`) and the nuisance modes found there in the priors' deviates (M_g, 4): where
the mode searches of a later integral over the galaxy's parameters start (:func:`_seeded`)."""


def _seeded(axes: Sequence[Axis], seeds: Seeds, galaxies: np.ndarray, values: Mapping[str, np.ndarray]) -> np.ndarray:
    """Starting deviates (M, K, 4) of the points ``values`` (M, K) of ``galaxies`` (K,): each point's the mode at the
    nearest point of its galaxy's fixed grid."""
    boxes, modes = seeds
    return np.stack([modes[g][boxes[g].nearest(axes, {a.name: values[a.name][:, k] for a in axes})]
                     for k, g in enumerate(galaxies)], axis=1)


def _object_chunk(kernel: Kernel, fixed: Mapping[str, Any], axes: Sequence[Axis], data: Data, error_model: str,
                  sigma_int: float | None, held: Mapping[str, float], correct: bool, start: Sequence[Box] | None,
                  locate: bool, seeds: Seeds | None, index: np.ndarray
                  ) -> tuple[list[ItemIntegral], quadrature.NodeChoice | None, np.ndarray]:
    """Task: the per-object integrals of the galaxies ``index`` (:func:`object_evidence`), the node rule at each one's
    best grid point when ``correct``, and which galaxies' integrals were done again with restarted searches: with
    ``seeds``, each integral's searches start from them, and one that restarted searches beat (:func:`_misses_a_mode`)
    is done again with every point's search restarted around its seed's mode. Per galaxy, what the seeded integral's
    ln Z exceeded the one done again by [nat] (0 where it did not; NaN where not done again): mass that one search
    found and the other missed, an error of the ln Z kept."""
    part = data.take(index)
    ev = _Evaluator(kernel, fixed, part, error_model, sigma_int, **held)

    def evaluate(values: Mapping[str, np.ndarray], items: np.ndarray, stage: str) -> dict[str, np.ndarray]:
        nodes = COARSE_NODES if stage == "coarse" or locate else GRID_NODES
        return ev.batched({}, items, dict(values), {}, nodes,
                          start=None if seeds is None else _seeded(axes, seeds, index[items], values))

    def restarted(values: Mapping[str, np.ndarray], items: np.ndarray, stage: str) -> dict[str, np.ndarray]:
        assert seeds is not None
        return ev.batched({}, redo[items], dict(values), {}, GRID_NODES, restarts=True,
                          start=_seeded(axes, seeds, index[redo[items]], values))

    boxes = None if start is None else [start[g] for g in index]
    try:
        integrals = integrate(evaluate, axes, n_items=len(index), start=boxes, tol=math.inf if locate else TOLERANCE)
        redone = np.array([seeds is not None and _misses_a_mode(ev, k, r, lambda v, g=index[k]: _seeded(
            axes, seeds, np.array([g]), v)) for k, r in enumerate(integrals)], dtype=bool)
        redo = np.flatnonzero(redone)
        lost = np.where(redone, 0.0, np.nan)
        if redo.size:
            again = integrate(restarted, axes, n_items=redo.size, start=None if boxes is None else
                              [boxes[k] for k in redo], tol=TOLERANCE)
            for k, r in zip(redo, again):
                lost[k] = max(integrals[k].log_z - r.log_z, 0.0)
                integrals[k] = r
    except EmptyIntegrand as problem:
        raise ev.no_mass(problem, [problem.item], _sigma_max(axes, sigma_int)) from None
    if not correct:
        return integrals, None, lost
    best = _best(integrals, axes)
    return integrals, ev.node_choice({}, np.arange(len(index)), {k: v[None, :] for k, v in best.items()}, {}), lost


def _misses_a_mode(ev: _Evaluator, k: int, integral: ItemIntegral,
                   seeded: Callable[[Mapping[str, np.ndarray]], np.ndarray]) -> bool:
    """Whether restarted searches beat the seeded ones of galaxy ``k``'s integral: at the points of its final grid's
    sub-grid within :data:`CHECK_WINDOW` of the best (every point where no sub-grid exists), by :data:`CHECK_GAIN`;
    each search from the point's seed (``seeded(values)``: (M, 1, 4)), then restarted around it."""
    sub = integral.subgrid()
    at = np.arange(integral.log_mass.size) if sub is None else sub[0]
    ll = integral.loglike[at]
    weight = ll + integral.log_mass[at]
    at, ll = at[weight >= weight.max() - CHECK_WINDOW], ll[weight >= weight.max() - CHECK_WINDOW]
    values = {name: v[at][:, None] for name, v in grid_points(integral).items()}
    fresh = ev.batched({}, np.array([k]), values, {}, GRID_NODES, restarts=True, start=seeded(values))["loglike"][:, 0]
    return bool(np.any(fresh - ll > CHECK_GAIN))


def _best(integrals: Sequence[ItemIntegral], axes: Sequence[Axis]) -> dict[str, np.ndarray]:
    """Each integral's grid point of the largest ln L, by axis."""
    flat = [grid_points(r) for r in integrals]
    at = [int(np.argmax(r.loglike)) for r in integrals]
    return {a.name: np.array([f[a.name][m] for f, m in zip(flat, at)]) for a in axes}


def object_evidence(kernel: Kernel, fixed: Mapping[str, Any], axes: Sequence[Axis], data: Data,
                    error_model: str = "velocity_floor", sigma_int: float | None = None,
                    correct: bool = True, start: Sequence[Box] | None = None, locate: bool = False,
                    run: Runner = in_process, held: Mapping[str, float] | None = None,
                    seeds: Seeds | None = None, one_each: bool = False) -> ObjectEvidence:
    """Each galaxy's ln Z over its own parameters ``axes`` (module docstring), σ_int fixed at ``sigma_int`` and the
    likelihood's parameters beside it at ``held`` (τ_gal, the floor by axis name, :data:`LIKELIHOOD`; absent: 0);
    ``correct``: apply the node rule's correction (the nuisance marginalised); ``start``: each galaxy's box to begin
    with (the final boxes of an earlier integral at a nearby σ_int) instead of the coarse pass; ``locate``: only
    locate each galaxy's mass (zooms but no step halving, :data:`COARSE_NODES` throughout: a rough ln Z, for the coarse
    pass of an outer integral); ``seeds``: where each point's nuisance mode search starts (:data:`Seeds`: for a
    likelihood with several modes; without them, from the preceding point's mode), each galaxy's integral checked
    against restarted searches and done again with them where they find a better mode (:func:`_object_chunk`; which
    galaxies: ``restarted``; where the seeded integral's ln Z was the larger, the difference joins the galaxy's error).
    Galaxy chunks (``one_each``: each galaxy alone) run as tasks of ``run``, those with the most points first."""
    correct = correct and data.nuisance
    chunks = [np.array([g]) for g in range(data.points.n_galaxies)] if one_each else object_chunks(data)
    parts = longest_first(run, _object_chunk, (kernel, dict(fixed), tuple(axes), data, error_model, sigma_int,
                                               _held(held), correct, None if start is None else list(start), locate,
                                               seeds), chunks, data)
    integrals = [r for found, _, _ in parts for r in found]
    log_z = np.array([r.log_z for r in integrals])
    lost = np.concatenate([lost for _, _, lost in parts])
    errors = np.array([r.error for r in integrals]) + np.nan_to_num(lost)
    best = _best(integrals, axes)
    at_bound = {a.name: np.isclose(best[a.name], a.lower) | np.isclose(best[a.name], a.upper) for a in axes}
    at = [int(np.argmax(r.loglike)) for r in integrals]
    best_arrays = {k: np.array([r.arrays[k][m].item() for r, m in zip(integrals, at)]) for k in integrals[0].arrays}
    correction = None
    if correct:
        correction = _correction(_merged([choice for _, choice, _ in parts]), best_arrays["loglike"])
        log_z = log_z + correction.delta
        errors = errors + correction.errors
    return ObjectEvidence(log_z, errors, np.array([r.converged for r in integrals]), best, at_bound, best_arrays,
                          correction, [r.box() for r in integrals], integrals,
                          restarted=np.isfinite(lost))


@dataclass(frozen=True)
class ScatterObjectEvidence:
    """A per-object model with σ_int a global axis: the outer integral over σ_int of Π_g Z_g(σ_int), each galaxy's
    ln Z_g(σ_int) on the outer grid (``loglike`` (M, G)), the inner integrals' errors at the best σ_int, the error
    budget."""

    integral: ItemIntegral
    loglike: np.ndarray
    inner: ObjectEvidence
    """The per-galaxy integrals at the best σ_int (their ``integrals`` not kept; their ``summary`` kept)."""
    sigma_int: float
    """The best σ_int grid value, where ``inner`` is evaluated."""
    log_z: float
    errors: dict[str, float]

    @property
    def error(self) -> float:
        return self.errors["total"]


def _located(value: tuple[np.ndarray, list[Box]]) -> dict[str, Any]:
    return {"log_z": value[0], "boxes": [b.to_data() for b in value[1]]}


def _from_located(data: Mapping[str, Any]) -> tuple[np.ndarray, list[Box]]:
    return np.asarray(data["log_z"], dtype=float), [Box.from_data(b) for b in data["boxes"]]


def _values(data: Any) -> np.ndarray:
    return np.asarray(data, dtype=float)


def _stacked(arrays: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
    return {"rows": np.concatenate(arrays), "sizes": np.array([len(a) for a in arrays])}


def _unstacked(data: Mapping[str, Any]) -> list[np.ndarray]:
    return np.split(np.asarray(data["rows"], dtype=float), np.cumsum(np.asarray(data["sizes"]))[:-1])


def scatter_object_evidence(kernel: Kernel, fixed: Mapping[str, Any], axes: Sequence[Axis], scatter: Axis,
                            data: Data, error_model: str, checkpoint: Checkpoint = Checkpoint(None),
                            progress: Progress = silent, run: Runner = in_process,
                            summarise: Callable[[list[ItemIntegral], float], dict[str, Any]] | None = None,
                            held: Mapping[str, float] | None = None) -> ScatterObjectEvidence:
    """ln Z of a per-object model (``axes``) with σ_int on the global axis ``scatter``: the σ_int integral of
    Π_g Z_g(σ_int), the likelihood's parameters beside σ_int at ``held`` (as :func:`object_evidence`);
    ``summarise(integrals, σ_int)``: made of the per-galaxy integrals at the best σ_int, kept with them (so that a
    resumed run gives what an uninterrupted one did).

    The coarse pass over σ_int locates every galaxy's mass at each value (:func:`object_evidence` with ``locate``;
    each galaxy chunk one task through the values in ascending order, each value begun from the boxes of the one
    before it); the zooms and halvings evaluate each galaxy on one fixed
    grid, its final box at the best coarse value, so that ln Z_g(σ_int) is smooth in σ_int and the halving compares
    like with like. With the nuisance marginalised, every fixed-grid point's mode search starts, at every σ_int, from
    the mode a restarted search found there at the best coarse value (each point from its predecessor's mode instead, a
    galaxy whose likelihood has several modes can take another at each σ_int, and ln Z_g(σ_int) then jumps), and every
    point of the adaptive integrals below from the mode at its nearest fixed-grid point — each galaxy's checked at its
    sub-grid against restarted searches and done again with them where they find a better mode (the winning mode can
    change with σ_int). The galaxies' ln Z are numerical integrals: the halving stops within
    their sum's estimated noise (:func:`~sigcube.stats.adaptive_grid.integrate`), which joins the error.
    At the best σ_int each galaxy's adaptive integral (node rule included) corrects its fixed-grid value by a constant
    δ_g; the correction's variation one posterior sd away joins the error. Every σ_int value's integrals are kept in
    ``checkpoint`` (a killed run started again skips them); ``progress`` hears of each; the galaxies' work runs as
    tasks of ``run``."""
    _check_size(kernel, [scatter], data.points.n_galaxies)
    seeded = data.nuisance  # at the catalogue values there is no mode to search
    done: dict[float, tuple[np.ndarray, list[Box]]] = {}
    grids: list[Box] = []
    seeds: list[np.ndarray] = []

    def adaptive(s: float, correct: bool = False, locate: bool = True, summarised: bool = False) -> ObjectEvidence:
        near = min(done, key=lambda t: abs(t - s)) if done else None
        inner = object_evidence(kernel, fixed, axes, data, error_model, s, correct=correct,
                                start=None if near is None else done[near][1], locate=locate, run=run, held=held,
                                seeds=None if locate or not seeded else fixed_grids())
        done.setdefault(s, (inner.log_z, inner.boxes))
        summary = summarise(inner.integrals, s) if summarised and summarise is not None else None
        return replace(inner, integrals=[], summary=summary)

    def located(sigmas: Sequence[float]) -> None:
        """Every galaxy's mass located at each of ``sigmas`` (ascending), each value begun from the boxes of the one
        before it (the first from the coarse pass): values kept read, the others in one call of ``run``
        (:func:`_located_chunk`: each galaxy chunk a task through them in turn)."""
        for s in sigmas:
            found = None if s in done else checkpoint.read(f"sigma={s!r}", _from_located)
            if found is not None:
                done[s] = found[0]
        missing = [i for i, s in enumerate(sigmas) if s not in done]
        if not missing:
            return
        begin = [None if i == 0 or sigmas[i - 1] not in done else done[sigmas[i - 1]][1] for i in missing]
        start = checkpoint.clock()
        parts = longest_first(run, _located_chunk, (kernel, dict(fixed), tuple(axes), data, error_model,
                                                    [sigmas[i] for i in missing], _held(held), begin),
                              object_chunks(data), data)
        each = (checkpoint.clock() - start) / len(missing)
        for j, i in enumerate(missing):
            done[sigmas[i]] = (np.concatenate([part[j][0] for part in parts]), [b for part in parts for b in part[j][1]])
            checkpoint.write(f"sigma={sigmas[i]!r}", _located(done[sigmas[i]]), each)
        progress(f"σ_int: every galaxy integrated at {len(missing)} value" + ("s" if len(missing) > 1 else "")
                 + f" ({len(done)} in all)")

    def fixed_grids() -> Seeds:
        """Every galaxy's fixed grid, its final box at the best σ_int located so far, and (with the nuisance) the
        modes a restarted search finds on it there; made once."""
        if not grids:
            best = max(done, key=lambda t: done[t][0].sum())
            grids.extend(done[best][1])
            if seeded:
                seeds.extend(checkpoint.get(f"seeds-sigma={best!r}", lambda: _grid_modes(
                    kernel, fixed, data, error_model, run, axes, grids, best, held), _stacked, _unstacked))
                progress(f"σ_int = {best:.6g}: every galaxy's nuisance modes found on its fixed grid, searches "
                         "restarted")
        return grids, seeds

    def on_grids(sigmas: Sequence[float]) -> np.ndarray:
        """Every galaxy on its fixed grid at each of ``sigmas`` (S, G): those kept read, the others' tasks at once."""
        fixed_grids()
        found = {s: checkpoint.read(f"fixed-sigma={s!r}", _values) for s in sigmas}
        missing = [s for s, kept_ in found.items() if kept_ is None]
        start = checkpoint.clock()
        made = (_on_grids(kernel, fixed, data, error_model, run, axes, grids, missing, held, seeds if seeded else None)
                if missing else [])
        each = (checkpoint.clock() - start) / max(len(missing), 1)
        for s, row in zip(missing, made):
            checkpoint.write(f"fixed-sigma={s!r}", row, each)
            found[s] = (row,)
        return np.stack([found[s][0] for s in sigmas])

    def evaluate(values: Mapping[str, np.ndarray], items: np.ndarray, stage: str) -> dict[str, np.ndarray]:
        sigmas = [float(x) for x in values[SCATTER][:, 0]]
        if stage == "coarse":
            located(sorted(sigmas))
            return {"loglike": np.array([done[s][0] for s in sigmas])[:, None, :]}
        out = on_grids(sigmas)
        progress(f"σ_int: {len(sigmas)} more values on the fixed grids")
        return {"loglike": out[:, None, :]}

    (integral,) = integrate(evaluate, [scatter], check=loo_change, noise=True)
    fixed_ll = integral.arrays["loglike"]
    m = int(np.argmax(fixed_ll.sum(axis=1)))
    best_sigma = float(grid_points(integral)[SCATTER][m])
    inner = checkpoint.get(f"best-sigma={best_sigma!r}",
                           lambda: adaptive(best_sigma, correct=data.nuisance, locate=False, summarised=True),
                           ObjectEvidence.to_data, ObjectEvidence.from_data)
    done.setdefault(best_sigma, (inner.log_z, inner.boxes))
    delta = inner.log_z - fixed_ll[m]
    sd = integral.summary()[SCATTER]["sd"]
    shifts = []
    for probe in (best_sigma - sd, best_sigma + sd):
        if scatter.lower <= probe <= scatter.upper and sd > 0:
            away = checkpoint.get(f"probe-sigma={probe!r}", lambda p=probe: adaptive(p, locate=False).log_z,
                                  from_data=_values) + (inner.correction.delta if inner.correction is not None else 0.0)
            shifts.append(float((away - on_grids([probe])[0]).sum()))
    progress(f"σ_int = {best_sigma:.6g}: the adaptive integrals' correction checked one posterior sd away")
    loglike = fixed_ll + delta
    errors = {"grid": _finite(integral.grid_change), "end": integral.end_term,
              "outside": math.log1p(integral.outside), "noise": integral.noise, "inner": float(inner.errors.sum()),
              "correction_variation": max((abs(x - float(delta.sum())) for x in shifts), default=0.0)}
    errors["total"] = float(sum(errors.values()))
    log_z = float(logsumexp(loglike.sum(axis=1) + integral.log_mass))
    return ScatterObjectEvidence(_with_arrays(integral, {"loglike": loglike}), loglike, inner, best_sigma, log_z,
                                 errors)


def _located_chunk(kernel: Kernel, fixed: Mapping[str, Any], axes: Sequence[Axis], data: Data, error_model: str,
                   sigmas: Sequence[float], held: Mapping[str, float], begin: Sequence[Sequence[Box] | None],
                   index: np.ndarray) -> list[tuple[np.ndarray, list[Box]]]:
    """Task: the galaxies of ``index`` located (:func:`object_evidence` with ``locate``) at each σ_int of ``sigmas``
    (ascending) in turn, each begun from ``begin``'s boxes (every galaxy's: those a run kept of the value before it),
    else from the boxes found here at the value before (None at the first: the coarse pass): per value, the galaxies'
    rough ln Z and final boxes."""
    found: list[Box | None] = [None] * data.points.n_galaxies
    out = []
    for i, s in enumerate(sigmas):
        start = begin[i] if begin[i] is not None else (found if i else None)
        integrals, _, _ = _object_chunk(kernel, fixed, axes, data, error_model, s, held, False, start, True, None,
                                        index)
        boxes = [r.box() for r in integrals]
        out.append((np.array([r.log_z for r in integrals]), boxes))
        for g, b in zip(index, boxes):
            found[g] = b
    return out


def _by_grid(axes: Sequence[Axis], boxes: Sequence[Box], index: np.ndarray
             ) -> list[tuple[list[int], dict[str, np.ndarray], list[np.ndarray]]]:
    """The galaxies of ``index`` (positions k in it) by the size of their fixed grids: per size, the members, their
    grids' points per axis (M, K) and each grid's ln prior masses."""
    by_size: dict[int, list[int]] = {}
    for k, g in enumerate(index):
        by_size.setdefault(boxes[g].n, []).append(k)
    out = []
    for members in by_size.values():
        grids = [box_grid(axes, boxes[index[k]]) for k in members]
        out.append((members, {a.name: np.stack([g[0][a.name] for g in grids], axis=1) for a in axes},
                    [g[1] for g in grids]))
    return out


def _modes_chunk(kernel: Kernel, fixed: Mapping[str, Any], data: Data, error_model: str, axes: Sequence[Axis],
                 boxes: Sequence[Box], sigma: float, held: Mapping[str, float], index: np.ndarray) -> list[np.ndarray]:
    """Task: each galaxy of ``index``'s nuisance mode (M_g, 4) at every point of the fixed grid of its box at σ_int
    ``sigma``, every search restarted (:meth:`_Evaluator.modes`)."""
    ev = _Evaluator(kernel, fixed, data.take(index), error_model, None, **held)
    out: list[np.ndarray] = [np.empty(0)] * len(index)
    for members, per_object, _ in _by_grid(axes, boxes, index):
        z = ev.modes(np.array(members), per_object, {SCATTER: sigma})
        for j, k in enumerate(members):
            out[k] = z[:, j]
    return out


def _grids_chunk(kernel: Kernel, fixed: Mapping[str, Any], data: Data, error_model: str, axes: Sequence[Axis],
                 boxes: Sequence[Box], sigmas: Sequence[float], held: Mapping[str, float],
                 seeds: Sequence[np.ndarray] | None, i: int, index: np.ndarray) -> np.ndarray:
    """Task: each galaxy of ``index``'s ln Z on the fixed grid of its box (trapezoid prior masses, as the adaptive grid
    weighs them) at σ_int ``sigmas[i]``; galaxies of equal grid size evaluated together, each one's sum formed alone;
    each grid point's mode search starts from its row of the galaxy's ``seeds`` (M_g, 4) (None: from its
    predecessor's mode)."""
    ev = _Evaluator(kernel, fixed, data.take(index), error_model, None, **held)
    out = np.empty(len(index))
    for members, per_object, log_masses in _by_grid(axes, boxes, index):
        start = None if seeds is None else np.stack([seeds[index[k]] for k in members], axis=1)
        ll = ev.batched({}, np.array(members), per_object, {SCATTER: np.full((log_masses[0].size, 1), sigmas[i])},
                        GRID_NODES, start=start)["loglike"]
        for j, k in enumerate(members):
            out[k] = logsumexp(ll[:, j] + log_masses[j])
    return out


def _grid_modes(kernel: Kernel, fixed: Mapping[str, Any], data: Data, error_model: str, run: Runner,
                axes: Sequence[Axis], boxes: Sequence[Box], sigma: float, held: Mapping[str, float] | None
                ) -> list[np.ndarray]:
    """Every galaxy's restarted nuisance modes on the fixed grid of its box at σ_int ``sigma`` (:func:`_modes_chunk`),
    galaxy chunks as tasks of ``run``."""
    parts = run(_modes_chunk, (kernel, dict(fixed), data, error_model, tuple(axes), list(boxes), float(sigma),
                               _held(held)), [(c,) for c in object_chunks(data)])
    return [z for part in parts for z in part]


def _on_grids(kernel: Kernel, fixed: Mapping[str, Any], data: Data, error_model: str, run: Runner,
              axes: Sequence[Axis], boxes: Sequence[Box], sigmas: Sequence[float],
              held: Mapping[str, float] | None = None, seeds: Sequence[np.ndarray] | None = None) -> np.ndarray:
    """Every galaxy's ln Z on the fixed grid of its box (``boxes[g]``) at each σ_int of ``sigmas`` (S, G), each grid
    point's mode search from ``seeds`` (:func:`_grids_chunk`): σ_int values × galaxy chunks as tasks of ``run``."""
    chunks = object_chunks(data)
    tasks = [(i, c) for i in range(len(sigmas)) for c in chunks]
    parts = run(_grids_chunk, (kernel, dict(fixed), data, error_model, tuple(axes), list(boxes),
                               [float(s) for s in sigmas], _held(held), None if seeds is None else list(seeds)), tasks)
    return np.stack([np.concatenate(parts[i * len(chunks):(i + 1) * len(chunks)]) for i in range(len(sigmas))])
