"""Evidence integrals over parameters on grids that adapt to the posterior, each with its numerical error.

Every parameter has a uniform prior in its grid coordinate u (the value, or its log10 on a log :class:`Axis`) over
[lower, upper], fixed before the data are looked at. :func:`integrate` computes ln Z = ln ∫ exp(T(u)) π(u) du for one
or several *items* at once — the global parameters of a model (one item: T is Σ_g ln L_g, every galaxy sharing the
point) or the per-object parameters of each galaxy (one item per galaxy: T is its own ln L_g):

1. **coarse pass**: each axis's ``coarse`` points over the whole prior range (evaluated at the ``coarse`` stage, which
   may be cheaper: it only locates the mass);
2. **zoom**: the box of the grid points whose T lies within :data:`KEEP` nat of the largest, widened by one step each
   way and clipped to the prior range, is evaluated on :data:`FINE` points per axis; repeated while the box shrinks in
   some axis to less than :data:`ZOOM` of its width, or grows past a face that is not the prior's bound (at any
   level: the mass goes on beyond it, e.g. along a narrow ridge the coarser grid cut across);
3. **step halving**: ln Z on the box's grid is compared with ln Z on its sub-grid of every other point (twice the
   step), and while they differ by more than ``tol`` (:data:`TOLERANCE`) the step is halved on the same box (2N − 1
   points per axis) and compared with the grid before, or until the next grid would exceed ``max_points`` (then the
   item is *unconverged*); a ``check`` (another quantity computed on the grid, e.g. a leave-one-out density) must move
   by at most ``tol`` between the grid and its sub-grid too. With ``noise`` (one axis: an integrand that is itself the
   sum of numerical integrals, such as the galaxies' ln Z at each σ_int) the integrand's own noise ε is estimated at
   each halving — the posterior-weighted rms deviation of the new points from the cubic through the old ones, which
   a smooth integrand makes negligible — and the halving stops once the change is within ``tol`` + :data:`NOISE_FACTOR`
   ε: a finer step cannot do better than the integrand it samples; ε joins the error.
   With ``skip`` a halved grid reuses its sub-grid's values (the grid before) and evaluates only the new points with
   a neighbour on the sub-grid (a corner of the cell they lie in) within ``skip`` nat of the sub-grid's largest T; the
   others, in cells whose corners all lie more than ``skip`` nat below it, take the multilinear interpolation of
   those corners. It is for integrands whose value at a point does not depend, beyond their own numerical tolerance,
   on which other points are evaluated with it.

On the final box ln Z = ln Σ_m exp(T_m + ln μ_m), μ_m the prior mass of grid point m (trapezoid weights times the
box's share V_box/V_prior of the prior volume). The mass outside the box is estimated as the sum of (a) the masses of
the points of earlier grids that a zoom left outside (each point's trapezoid mass on its grid) and (b) the tails beyond
the box's faces that are not on the prior's bounds, each face point's integrand extrapolated outwards with the decay
rate between it and its inner neighbour (an upper bound for a log-concave integrand) up to the prior's bound; its
share of the mass inside is ``outside``. The numerical error is |ln Z(h) − ln Z(2h)| + ln(1 + outside): the last
halving's change and the mass the box may leave out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from scipy.special import logsumexp, ndtr

from sigcube.errors import SigcubeError
from sigcube.stats.posterior import EDGE_WARNING, RESOLUTION_WARNING, Marginal1D, cell_edges

KEEP = 20.0
"""ln-integrand drop [nat] below its largest value that a box keeps (a Gaussian's ±6.3σ)."""
FINE = {1: 17, 2: 15, 3: 15, 4: 9}
"""Points per axis of a zoomed box, by the number of axes (5 and more axes: 7); odd, so every other point makes the
sub-grid of twice the step (on a Gaussian posterior the box spans about ±7 sd, ~1 sd per step)."""
ZOOM = 0.8
"""A box whose kept region is narrower than this share of its width along some axis is zoomed again."""
TOLERANCE = 0.1
"""|ln Z(h) − ln Z(2h)| [nat] at which the refinement stops."""
CUBIC_SPREAD = math.sqrt(1.0 + 2.0 * (9.0**2 + 1.0) / 16.0**2)
"""sd of a point's deviation from the cubic (−1, 9, 9, −1)/16 through its neighbours when every point carries
independent noise of sd 1."""
NOISE_FACTOR = 3.0
"""With ``noise``, the halving stops once its change is within the tolerance plus this many times the integrand's
estimated noise (:func:`integrate`)."""
MAX_POINTS = 40_000
"""The most grid points one item's refinement evaluates at once; a finer grid is not attempted (unconverged)."""
MIN_CELLS = 0.75
"""Posterior sd in grid steps below which a marginal is called unresolved (on a converged grid the trapezoid rule's
moments of a smooth posterior are accurate to far better than its width from about one step per sd)."""
MAX_ZOOMS = 8
"""The most zoom steps before the step is halved regardless."""
SKIP = KEEP + 10.0
"""A halved grid's point whose every sub-grid neighbour lies more than this many nat below the sub-grid's largest T is
interpolated, not evaluated (``skip`` of :func:`integrate`): 10 nat beyond the drop a box keeps, so the points a box is
made to hold are evaluated."""

Evaluate = Callable[[Mapping[str, np.ndarray], np.ndarray, str], Mapping[str, np.ndarray]]
"""``evaluate(values, items, stage)``: ``values[name]`` (M, K) — M grid points for each of the K ``items`` (indices);
``stage`` is ``"coarse"`` or ``"fine"``; returns arrays with leading shape (M, K), among them ``"loglike"`` (M, K, …),
whose sum over its trailing axes is the ln-integrand T (non-finite: no mass)."""


class GridIntegralError(SigcubeError):
    """An integral that cannot be formed: bad axes, or an item with no finite integrand anywhere."""


class EmptyIntegrand(GridIntegralError):
    """An item with no finite integrand at any point of a grid: ``item`` (its index), ``stage`` (``coarse`` or
    ``zoomed``) and ``entries``, the flat indices over ``loglike``'s trailing axes (e.g. the galaxies of a global
    item) whose ln L is finite nowhere on that grid."""

    def __init__(self, item: int, stage: str, entries: np.ndarray) -> None:
        self.item, self.stage, self.entries = int(item), stage, np.asarray(entries, dtype=np.int64)
        super().__init__(f"item {item}: no point of the {stage} grid has a finite log-likelihood")


def _empty(item: int, stage: str, loglike: np.ndarray) -> EmptyIntegrand:
    """The error of an item whose ``loglike`` (M, …) on a grid is finite nowhere, naming the trailing entries that
    are finite at no point."""
    flat = np.asarray(loglike).reshape(len(loglike), -1)
    return EmptyIntegrand(item, stage, np.flatnonzero(~np.isfinite(flat).any(axis=0)))


@dataclass(frozen=True)
class Axis:
    """A parameter with a uniform prior in u (the value, or its log10 when ``log``) over [``lower``, ``upper``], and
    the number of points of the coarse pass over that range."""

    name: str
    lower: float
    upper: float
    log: bool = False
    coarse: int = 9
    unit: str = ""
    normal: tuple[float, float] | None = None
    """(mean, sd) in u of a normal prior truncated to [lower, upper] in place of the uniform one."""

    def __post_init__(self) -> None:
        if not (np.isfinite(self.lower) and np.isfinite(self.upper) and self.lower < self.upper):
            raise GridIntegralError(f"axis {self.name}: the prior range needs lower < upper, both finite; got "
                                    f"[{self.lower}, {self.upper}]")
        if self.log and self.lower <= 0:
            raise GridIntegralError(f"axis {self.name}: a log axis needs lower > 0; got {self.lower}")
        if self.coarse < 2:
            raise GridIntegralError(f"axis {self.name}: the coarse pass needs ≥ 2 points; got {self.coarse}")
        if self.normal is not None and not (np.isfinite(self.normal[0]) and self.normal[1] > 0):
            raise GridIntegralError(f"axis {self.name}: a normal prior needs a finite mean and sd > 0; got "
                                    f"{self.normal}")

    def log_density(self, u: np.ndarray) -> np.ndarray:
        """ln of the prior density in u over [lower, upper] in u (uniform: −ln of the range)."""
        a, b = self.bounds
        u = np.asarray(u, dtype=float)
        if self.normal is None:
            return np.full(u.shape, -math.log(b - a))
        mean, sd = self.normal
        mass = ndtr((b - mean) / sd) - ndtr((a - mean) / sd)
        return -0.5 * ((u - mean) / sd) ** 2 - math.log(sd * math.sqrt(2 * math.pi) * mass)

    @property
    def bounds(self) -> tuple[float, float]:
        """[lower, upper] in u."""
        return (math.log10(self.lower), math.log10(self.upper)) if self.log else (self.lower, self.upper)

    def value(self, u: np.ndarray) -> np.ndarray:
        """The parameter's value at grid coordinate ``u``."""
        return 10.0 ** np.asarray(u) if self.log else np.asarray(u, dtype=float)

    def coordinate(self, value: np.ndarray) -> np.ndarray:
        """The grid coordinate u of the parameter's ``value`` (the inverse of :meth:`value`)."""
        return np.log10(value) if self.log else np.asarray(value, dtype=float)

    def describe(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        of = f"{'log10 ' if self.log else ''}{self.name}"
        if self.normal is not None:
            return (f"{self.name}: {of} ~ N({self.normal[0]:g}, {self.normal[1]:g}) truncated to [{self.lower:g}, "
                    f"{self.upper:g}]{unit}")
        return f"{self.name}: uniform in {of} on [{self.lower:g}, {self.upper:g}]{unit}"


@dataclass(frozen=True)
class Level:
    """One evaluated grid of an item: what it was, its points per axis, its box (values) and ln Z there."""

    stage: str
    points: tuple[int, ...]
    box: tuple[tuple[float, float], ...]
    log_z: float


@dataclass(frozen=True)
class ItemIntegral:
    """One item's integral on its final grid.

    ``grid``: the final grid's 1-D coordinates per axis (values); ``log_mass`` (M,): ln prior mass of each grid point
    (flattened, C order over the axes); ``arrays``: what ``evaluate`` returned there, each (M, …); ``log_z`` [nat];
    ``grid_change`` |ln Z(h) − ln Z(2h)| of the last halving (NaN if no halving was reached); ``check_change`` the
    same for the ``check`` of :func:`integrate` (NaN without one); ``outside``: the
    estimated prior-weighted mass outside the final box over the mass inside; ``end_term`` [nat]: the Euler–Maclaurin
    estimate of the trapezoid rule's error from the integrand's slopes at the box's faces (where a prior bound cuts
    the posterior the rule converges as h², and the halving's change can understate what remains); ``error`` [nat] =
    grid_change + end_term + ln(1 + outside) (+ ``noise``, where estimated: the integrand's own noise, :func:`integrate`);
    ``converged``: the refinement met its tolerance; ``levels``: every grid evaluated.
    """

    axes: tuple[Axis, ...]
    grid: dict[str, np.ndarray]
    log_mass: np.ndarray
    arrays: dict[str, np.ndarray]
    log_z: float
    grid_change: float
    outside: float
    converged: bool
    levels: tuple[Level, ...]
    check_change: float = math.nan
    end_term: float = 0.0
    noise: float = math.nan

    @property
    def error(self) -> float:
        """The numerical error of ln Z [nat] (module docstring); inf when no halving was compared."""
        change = self.grid_change if np.isfinite(self.grid_change) else math.inf
        return float(change + self.end_term + math.log1p(self.outside) + (0.0 if math.isnan(self.noise) else self.noise))

    @property
    def loglike(self) -> np.ndarray:
        """T on the final grid, (M,)."""
        a = self.arrays["loglike"]
        return a.reshape(a.shape[0], -1).sum(axis=1)

    @property
    def log_posterior(self) -> np.ndarray:
        """ln of the normalised posterior mass of each final grid point (M,)."""
        t = np.where(np.isfinite(self.loglike), self.loglike + self.log_mass, -np.inf)
        return t - logsumexp(t)

    def best(self) -> dict[str, float]:
        """The final grid point of the largest T, by axis name."""
        m = int(np.nanargmax(np.where(np.isfinite(self.loglike), self.loglike, -np.inf)))
        index = np.unravel_index(m, tuple(len(v) for v in self.grid.values()))
        return {name: float(v[i]) for (name, v), i in zip(self.grid.items(), index)}

    def marginal(self, name: str) -> Marginal1D:
        """The 1-D posterior marginal of axis ``name`` on the final grid."""
        names = list(self.grid)
        k = names.index(name)
        mass = np.exp(self.log_posterior).reshape(tuple(len(v) for v in self.grid.values()))
        mass = mass.sum(axis=tuple(j for j in range(len(names)) if j != k))
        axis = self.axes[k]
        return Marginal1D(name, self.grid[name], mass, np.clip(cell_edges(self.grid[name]), axis.lower, axis.upper))

    def summary(self) -> dict[str, Any]:
        """Per axis the posterior mean, sd, 68/95 % intervals and where the mass sits: ``at_prior_edge`` (more than
        :data:`~sigcube.stats.posterior.EDGE_WARNING` in an end cell of a box that reaches the prior's bound: the prior
        range cuts the posterior) and ``cells_per_sd`` (the sd over the final step; ``unresolved`` below
        :data:`MIN_CELLS`, or with more than half the mass in one cell)."""
        out = {}
        for axis in self.axes:
            m = self.marginal(axis.name)
            lo, hi = axis.bounds
            u = axis.coordinate(m.values)
            step = float(u[1] - u[0]) if len(u) > 1 else math.inf
            mean_u = float(np.sum(m.mass * u))
            sd_u = float(np.sqrt(max(np.sum(m.mass * (u - mean_u) ** 2), 0.0)))
            at_edge = [side for side, touches, mass in (("lower", np.isclose(u[0], lo), m.mass[0]),
                                                      ("upper", np.isclose(u[-1], hi), m.mass[-1]))
                       if touches and mass > EDGE_WARNING]
            out[axis.name] = {"mean": m.mean, "sd": m.sd, "ci68": list(m.interval(0.68)), "ci95": list(m.interval(0.95)),
                              "unit": axis.unit, "at_prior_edge": at_edge,
                              "cells_per_sd": sd_u / step if step > 0 else math.inf,
                              "largest_cell_mass": float(np.max(m.mass)),
                              "unresolved": bool(np.max(m.mass) > RESOLUTION_WARNING or sd_u < MIN_CELLS * step)}
        return out

    def subgrid(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The final grid's sub-grid of every other point (twice the step): the indices of its points into the final
        grid's flattened order and their prior masses (ln); None when an axis has fewer than 3 points."""
        ticks = [a.coordinate(v) for a, v in zip(self.axes, self.grid.values())]
        if any(len(t) < 3 for t in ticks):
            return None
        shape = tuple(len(t) for t in ticks)
        index = np.arange(int(np.prod(shape))).reshape(shape)[tuple(slice(None, None, 2) for _ in ticks)].ravel()
        return index, _log_trapezoid([t[::2] for t in ticks], self.axes)

    def box(self) -> Box:
        """The final grid's box in grid coordinates and its points per axis: a ``start`` for :func:`integrate`."""
        ticks = [a.coordinate(v) for a, v in zip(self.axes, self.grid.values())]
        return Box(np.array([t[0] for t in ticks]), np.array([t[-1] for t in ticks]), len(ticks[0]))

    def describe(self) -> dict[str, Any]:
        """JSON-able: ln Z, its error and its parts, convergence and every grid evaluated."""
        return {"log_z": self.log_z, "error": self.error, "grid_change": self.grid_change, "end_term": self.end_term,
                "outside": self.outside,
                "check_change": None if math.isnan(self.check_change) else self.check_change,
                **({} if math.isnan(self.noise) else {"noise": self.noise}),
                "converged": self.converged, "final_points": int(self.log_mass.size),
                "levels": [{"stage": lv.stage, "points": list(lv.points), "box": [list(b) for b in lv.box],
                            "log_z": lv.log_z} for lv in self.levels]}


@dataclass(frozen=True)
class Box:
    """A box [lo, hi] in grid coordinates with ``n`` points per axis, where :func:`integrate` may start an item
    instead of its coarse pass (an earlier integral of a neighbouring integrand: :meth:`ItemIntegral.box`)."""

    lo: np.ndarray
    hi: np.ndarray
    n: int

    def to_data(self) -> dict[str, Any]:
        """The box as plain data (a checkpoint's)."""
        return {"lo": np.asarray(self.lo, dtype=float), "hi": np.asarray(self.hi, dtype=float), "n": int(self.n)}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Box:
        return cls(np.asarray(data["lo"], dtype=float), np.asarray(data["hi"], dtype=float), int(data["n"]))

    def nearest(self, axes: Sequence[Axis], values: Mapping[str, np.ndarray]) -> np.ndarray:
        """The index, in :func:`box_grid`'s order, of the box's grid point nearest, axis by axis, to each point of
        ``values`` (parameter values by axis name, all of one shape); points outside the box go to its faces."""
        index = []
        for a, lo, hi in zip(axes, self.lo, self.hi):
            u = a.coordinate(values[a.name])
            at = (u - lo) * ((self.n - 1) / (hi - lo)) if self.n > 1 and hi > lo else np.zeros(np.shape(u))
            index.append(np.clip(np.rint(at), 0, self.n - 1).astype(np.int64))
        return np.ravel_multi_index(tuple(index), (self.n,) * len(axes))


@dataclass
class _State:
    """An item's refinement in progress (u coordinates)."""

    lo: np.ndarray
    hi: np.ndarray
    n: int
    zooms: int = 0
    previous: float = math.nan
    outside: float = -math.inf
    """ln of the estimated mass of the points that zooms left outside the box."""
    levels: list[Level] = field(default_factory=list)
    done: ItemIntegral | None = None
    last: tuple[np.ndarray, dict[str, np.ndarray]] | None = None
    """T and the arrays of the grid before, when the next grid halves its step on the same box (else None)."""


def _ticks(lo: np.ndarray, hi: np.ndarray, n: Sequence[int]) -> list[np.ndarray]:
    return [np.linspace(a, b, k) for a, b, k in zip(lo, hi, n)]


def _log_trapezoid(ticks: Sequence[np.ndarray], axes: Sequence[Axis]) -> np.ndarray:
    """ln prior mass of each point of the product grid ``ticks`` (flattened, in u): trapezoid weights over the box
    times each axis's prior density there (a uniform prior: the box's share of the prior volume)."""
    out = np.zeros(1)
    for t, axis in zip(ticks, axes):
        if len(t) == 1:
            w = np.full(1, axis.bounds[1] - axis.bounds[0])
        else:
            w = np.full(len(t), t[1] - t[0])
            w[[0, -1]] *= 0.5
        out = (out[:, None] + (np.log(w) + axis.log_density(t))[None, :]).ravel()
    return out


def _product(ticks: Sequence[np.ndarray]) -> np.ndarray:
    """(M, d) points of the product grid, C order."""
    return np.stack([g.ravel() for g in np.meshgrid(*ticks, indexing="ij")], axis=-1)


def integrate(evaluate: Evaluate, axes: Sequence[Axis], n_items: int = 1, *, tol: float = TOLERANCE,
              max_points: int = MAX_POINTS, keep: float = KEEP,
              check: Callable[[ItemIntegral], float] | None = None,
              start: Sequence[Box | None] | None = None, noise: bool = False,
              skip: float | None = None) -> list[ItemIntegral]:
    """ln Z of each of ``n_items`` items over ``axes`` on adapted grids (module docstring); ``check(result)``: the
    change of another quantity between a result's final grid and its sub-grid (:meth:`ItemIntegral.subgrid`);
    ``noise``: estimate the integrand's noise and stop halving within it (one axis only, module docstring);
    ``start``: per item a :class:`Box` to begin with instead of the coarse pass (None: the coarse pass). A started
    item whose mass the box may cut (its ``outside`` share above :data:`RESTART_OUTSIDE`) is integrated again from
    the coarse pass. ``skip`` [nat] (e.g. :data:`SKIP`; None: every point evaluated): a halved grid evaluates only
    its new points near the mass (module docstring)."""
    axes = tuple(axes)
    if not axes:
        raise GridIntegralError("an integral needs at least one axis")
    d = len(axes)
    if noise and d != 1:
        raise GridIntegralError(f"the integrand's noise is estimated on one axis; got {d}")
    bounds = [a.bounds for a in axes]
    lo_p, hi_p = np.array([b[0] for b in bounds]), np.array([b[1] for b in bounds])
    fine = FINE.get(d, 7)

    def run(items: np.ndarray, ticks_of: Callable[[int], list[np.ndarray]], stage: str,
            last: Sequence[tuple[np.ndarray, dict[str, np.ndarray]] | None] = ()):
        grids = [ticks_of(int(i)) for i in items]
        points = np.stack([_product(t) for t in grids], axis=1)                 # (M, K, d)
        values = {a.name: a.value(points[..., j]) for j, a in enumerate(axes)}
        if skip is not None and last and all(x is not None for x in last):
            arrays = _halved(evaluate, values, items, stage, last, d, skip)     # type: ignore[arg-type]
        else:
            arrays = {k: np.asarray(v) for k, v in evaluate(values, items, stage).items()}
        ll = arrays["loglike"]
        total = ll.reshape(ll.shape[0], ll.shape[1], -1).sum(axis=2)
        return grids, points, arrays, np.where(np.isfinite(total), total, -np.inf)

    begin = list(start) if start is not None else [None] * n_items
    if len(begin) != n_items:
        raise GridIntegralError(f"start needs one box (or None) per item: {len(begin)} for {n_items} items")
    states = [_State(lo_p.copy(), hi_p.copy(), fine) if b is None else
              _State(np.clip(b.lo, lo_p, hi_p), np.clip(b.hi, lo_p, hi_p), int(b.n)) for b in begin]
    cold = np.array([i for i, b in enumerate(begin) if b is None], dtype=int)
    _coarse_pass(run, states, cold, axes, bounds, lo_p, hi_p, keep)
    _refine(run, states, list(range(n_items)), axes, bounds, lo_p, hi_p, fine, tol, max_points, keep, check, noise)
    again = np.array([i for i, b in enumerate(begin) if b is not None and states[i].done.outside > RESTART_OUTSIDE],
                     dtype=int)
    if again.size:
        for i in again:
            states[i] = _State(lo_p.copy(), hi_p.copy(), fine)
        _coarse_pass(run, states, again, axes, bounds, lo_p, hi_p, keep)
        _refine(run, states, list(again), axes, bounds, lo_p, hi_p, fine, tol, max_points, keep, check, noise)
    return [s.done for s in states]  # type: ignore[misc]


RESTART_OUTSIDE = 1e-3
"""The share of an item's mass its final box may leave out when it began from a given :class:`Box`; above it the item
is integrated again from the coarse pass (its posterior moved or widened beyond the box)."""


def _coarse_pass(run: Callable, states: list[_State], items: np.ndarray, axes: tuple[Axis, ...],
                 bounds: list[tuple[float, float]], lo_p: np.ndarray, hi_p: np.ndarray, keep: float) -> None:
    """The coarse pass of ``items`` over the whole prior range: each one's first box."""
    if not items.size:
        return
    coarse = [a.coarse for a in axes]
    grids, points, arrays, total = run(items, lambda i: _ticks(lo_p, hi_p, coarse), "coarse")
    for k, i in enumerate(items):
        s, t = states[i], total[:, k]
        if not np.isfinite(t).any():
            raise _empty(int(i), "coarse", arrays["loglike"][:, k])
        log_mass = _log_trapezoid(grids[k], axes)
        s.levels.append(Level("coarse", tuple(coarse), _box(axes, lo_p, hi_p), float(logsumexp(t + log_mass))))
        s.lo, s.hi = _kept_box(points[:, k], t, grids[k], lo_p, hi_p, keep)
        s.outside = _left_out(points[:, k], t + log_mass, s.lo, s.hi)


def _refine(run: Callable, states: list[_State], active: list[int], axes: tuple[Axis, ...],
            bounds: list[tuple[float, float]], lo_p: np.ndarray, hi_p: np.ndarray, fine: int, tol: float,
            max_points: int, keep: float, check: Callable[[ItemIntegral], float] | None, noise: bool) -> None:
    """Zooms and step halving of the ``active`` items until each is done; items of equal points run together."""
    d = len(axes)
    while active:
        by_n: dict[int, list[int]] = {}
        for i in active:
            by_n.setdefault(states[i].n, []).append(i)
        for n, group in by_n.items():
            items = np.array(group)
            grids, points, arrays, total = run(items, lambda i: _ticks(states[i].lo, states[i].hi, [n] * d), "fine",
                                               [states[i].last for i in group])
            for k, i in enumerate(group):
                if not np.isfinite(total[:, k]).any():
                    raise _empty(i, "zoomed", arrays["loglike"][:, k])
                _advance(states[i], axes, grids[k], points[:, k], {name: a[:, k] for name, a in arrays.items()},
                         total[:, k], bounds, lo_p, hi_p, fine, tol, max_points, keep, check, noise)
        active = [i for i in active if states[i].done is None]


def _halved(evaluate: Evaluate, values: Mapping[str, np.ndarray], items: np.ndarray, stage: str,
            last: Sequence[tuple[np.ndarray, dict[str, np.ndarray]]], d: int, skip: float) -> dict[str, np.ndarray]:
    """The arrays of a halved grid of the K ``items`` (``values`` (M, K), M = (2N − 1)^d) from their sub-grids'
    (``last``: per item T (N^d,) and its arrays (N^d, …)): the sub-grid's values kept, the new points with a sub-grid
    corner within ``skip`` nat of some item's largest T evaluated, the others interpolated (module docstring)."""
    n = int(round(len(last[0][0]) ** (1.0 / d)))
    near = np.zeros((2 * n - 1,) * d, dtype=bool)
    for total, _ in last:
        t = np.where(np.isfinite(total), total, -np.inf).reshape((n,) * d)
        if np.isfinite(t).any():
            near |= _refined(t, np.maximum, d) >= np.max(t) - skip
    near[(slice(None, None, 2),) * d] = False                                     # the sub-grid's own points
    near = near.ravel()
    arrays = {}
    for k in last[0][1]:
        old = np.stack([a[k] for _, a in last], axis=1)                           # (N^d, K, …)
        arrays[k] = _refined(old.reshape((n,) * d + old.shape[1:]), _mean, d).reshape((near.size,) + old.shape[1:])
    if near.any():
        for k, v in evaluate({name: x[near] for name, x in values.items()}, items, stage).items():
            arrays[k][near] = np.asarray(v)
    return arrays


def _mean(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return 0.5 * (x + y)


def _refined(a: np.ndarray, between: Callable[[np.ndarray, np.ndarray], np.ndarray], d: int) -> np.ndarray:
    """``a``, whose first ``d`` axes are a grid of N points each, on the grid of 2N − 1: its values at the even
    indices, ``between`` the two neighbours at the odd ones, axis by axis (the mean: multilinear interpolation; the
    maximum: the largest corner of each cell)."""
    for j in range(d):
        out = np.empty(a.shape[:j] + (2 * a.shape[j] - 1,) + a.shape[j + 1:], dtype=np.result_type(a, float))
        head = (slice(None),) * j
        out[head + (slice(None, None, 2),)] = a
        out[head + (slice(1, None, 2),)] = between(a[head + (slice(None, -1),)], a[head + (slice(1, None),)])
        a = out
    return a


def _box(axes: Sequence[Axis], lo: np.ndarray, hi: np.ndarray) -> tuple[tuple[float, float], ...]:
    return tuple((float(a.value(x)), float(a.value(y))) for a, x, y in zip(axes, lo, hi))


def _kept_box(points: np.ndarray, total: np.ndarray, ticks: Sequence[np.ndarray], lo: np.ndarray, hi: np.ndarray,
              keep: float) -> tuple[np.ndarray, np.ndarray]:
    """The box of the points within ``keep`` of the largest ``total``, one step wider each way, inside [lo, hi]."""
    kept = points[total >= np.max(total) - keep]
    step = np.array([t[1] - t[0] if len(t) > 1 else 0.0 for t in ticks])
    return np.maximum(kept.min(axis=0) - step, lo), np.minimum(kept.max(axis=0) + step, hi)


def _left_out(points: np.ndarray, log_mass: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
    """ln Σ exp(``log_mass``) over the ``points`` outside the box [lo, hi] (−inf if none)."""
    eps = 1e-12 * np.maximum(1.0, np.abs(hi - lo))
    outside = np.any((points < lo - eps) | (points > hi + eps), axis=1)
    return float(logsumexp(log_mass[outside])) if outside.any() else -math.inf


def _advance(s: _State, axes: tuple[Axis, ...], ticks: list[np.ndarray], points: np.ndarray,
             arrays: dict[str, np.ndarray], total: np.ndarray, bounds: list[tuple[float, float]], lo_p: np.ndarray,
             hi_p: np.ndarray, fine: int, tol: float, max_points: int, keep: float,
             check: Callable[[ItemIntegral], float] | None, noise: bool) -> None:
    """One evaluated grid of an item (some point of it finite): zoom, halve the step, or finish (within the
    integrand's estimated noise, with ``noise``)."""
    d = len(axes)
    log_mass = _log_trapezoid(ticks, axes)
    log_z = float(logsumexp(total + log_mass))
    lo, hi = _kept_box(points, total, ticks, lo_p, hi_p, keep)
    width = np.where(s.hi > s.lo, s.hi - s.lo, 1.0)
    first = math.isnan(s.previous)
    s.levels.append(Level("zoom" if first else "refine", (s.n,) * d, _box(axes, s.lo, s.hi), log_z))
    # the kept points reach a face of the box that is not the prior's bound: the mass goes on beyond it (a ridge
    # the coarser grid cut across), and the box follows it
    grows = bool(np.any(lo < s.lo - 1e-12 * width) or np.any(hi > s.hi + 1e-12 * width))
    if (grows or first and np.any((hi - lo) / width < ZOOM)) and s.zooms < MAX_ZOOMS:
        s.outside = float(np.logaddexp(s.outside, _left_out(points, total + log_mass, lo, hi)))
        s.lo, s.hi, s.n, s.zooms, s.previous, s.last = lo, hi, fine, s.zooms + 1, math.nan, None
        return
    if first:  # the sub-grid of every other point: twice the step on the same box
        sub = [t[::2] for t in ticks]
        coarse = total.reshape(tuple(len(t) for t in ticks))[tuple(slice(None, None, 2) for _ in ticks)].ravel()
        s.previous = float(logsumexp(coarse + _log_trapezoid(sub, axes)))
    change = abs(log_z - s.previous)
    end = _end_term(ticks, total, log_mass, log_z)
    eps = _noise(total, log_mass) if noise else math.nan
    allowed = tol + (NOISE_FACTOR * eps if noise else 0.0)
    next_n = 2 * s.n - 1
    if change + end <= allowed or next_n**d > max_points:
        result = _finish(s, axes, ticks, log_mass, arrays, total, log_z, change, bounds, lo_p, hi_p,
                         converged=bool(change + end <= allowed))
        result = replace(result, end_term=end, noise=eps)
        extra = math.nan if check is None else float(check(result))
        if not (extra > allowed) or next_n**d > max_points:
            s.done = replace(result, check_change=extra, converged=result.converged and not extra > allowed)
            s.last = None
            return
    s.previous, s.n, s.last = log_z, next_n, (total, arrays)


def _end_term(ticks: list[np.ndarray], total: np.ndarray, log_mass: np.ndarray, log_z: float) -> float:
    """|ln(1 + E/Z)| [nat], E = Σ_axes h²/12·∫(∂f/∂u(b) − ∂f/∂u(a)) over the other axes: the leading Euler–Maclaurin
    term of the trapezoid rule's error along each axis, f = exp(T)·prior, the slopes by one-sided differences of T at
    the two faces (second order: exact for a Gaussian's quadratic T)."""
    if any(len(t) < 3 for t in ticks):
        return 0.0
    shape = tuple(len(t) for t in ticks)
    f = (total + log_mass).reshape(shape)
    log_e = []
    signs = []
    for j, t in enumerate(ticks):
        h = t[1] - t[0]
        t_cube = total.reshape(shape)
        for end, inner, next_, sign in ((-1, -2, -3, 1.0), (0, 1, 2, -1.0)):
            face = np.take(f, end, axis=j)                              # ln(f·w) on the face
            slope = (3 * np.take(t_cube, end, axis=j) - 4 * np.take(t_cube, inner, axis=j)
                     + np.take(t_cube, next_, axis=j)) / (2 * h) * (1 if end == -1 else -1)   # d ln f/du
            # f'·w = f·w·slope; the face's trapezoid weight along j is h/2: divide it out
            term = face - math.log(h / 2) + np.log(np.abs(slope) + 1e-300)
            log_e.append(term.ravel() + 2 * math.log(h) - math.log(12))
            signs.append(sign * np.sign(slope).ravel())
    values, weights = np.concatenate(log_e), np.concatenate(signs)
    finite = np.isfinite(values) & (weights != 0)
    if not finite.any():
        return 0.0
    top = values[finite].max()
    e = float(np.sum(weights[finite] * np.exp(values[finite] - top)))
    rel = abs(e) * math.exp(min(top - log_z, 700.0))
    return float(abs(math.log1p(min(rel, 0.999)))) if rel < 1 else math.inf


def _noise(total: np.ndarray, log_mass: np.ndarray) -> float:
    """The noise ε of a 1-D ln-integrand on a uniform grid: the posterior-weighted rms deviation of every other point
    (those a halving added) from the cubic through its four neighbours of the sub-grid, over :data:`CUBIC_SPREAD`; 0
    with fewer than 7 points. A smooth integrand leaves O(h⁴) there; independent noise of sd ε leaves CUBIC_SPREAD·ε."""
    n = total.size
    odd = np.arange(3, n - 3, 2)
    if not odd.size:
        return 0.0
    cubic = (9.0 * (total[odd - 1] + total[odd + 1]) - (total[odd - 3] + total[odd + 3])) / 16.0
    deviation = total[odd] - cubic
    keep = np.isfinite(deviation)
    if not keep.any():
        return 0.0
    weight = np.exp((total + log_mass)[odd][keep] - logsumexp((total + log_mass)[odd][keep]))
    return float(np.sqrt(np.sum(weight * deviation[keep] ** 2)) / CUBIC_SPREAD)


def _finish(s: _State, axes: tuple[Axis, ...], ticks: list[np.ndarray], log_mass: np.ndarray,
            arrays: dict[str, np.ndarray], total: np.ndarray, log_z: float, change: float,
            bounds: list[tuple[float, float]], lo_p: np.ndarray, hi_p: np.ndarray, converged: bool) -> ItemIntegral:
    """The item's result, with the estimated share of the mass outside its box (module docstring)."""
    tails = [s.outside]
    if all(len(t) > 1 for t in ticks):
        cube = total.reshape(tuple(len(t) for t in ticks))
        for j, (t, (a, b)) in enumerate(zip(ticks, bounds)):
            step = t[1] - t[0]
            others = _log_trapezoid([u for k, u in enumerate(ticks) if k != j],
                                    [w for k, w in enumerate(axes) if k != j]) if len(ticks) > 1 else np.zeros(1)
            for end, inner, bound in ((0, 1, a), (-1, -2, b)):
                room = abs(bound - t[end])
                if room <= 1e-12 * max(1.0, abs(bound)):
                    continue                                       # the face lies on the prior's bound
                face, next_in = np.take(cube, end, axis=j).ravel(), np.take(cube, inner, axis=j).ravel()
                rate = (next_in - face) / step                     # decay outwards [1/u]
                with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                    reach = np.where(rate > 0, -np.expm1(-rate * room) / rate, room)
                density = float(axes[j].log_density(np.array([t[end]]))[0])   # the prior at the face
                tails.append(float(logsumexp(face + np.log(reach) + others + density)))
    left = float(logsumexp(tails))
    outside = 0.0 if left == -math.inf else float(math.exp(min(left - log_z, 700.0)))
    grid = {a.name: a.value(t) for a, t in zip(axes, ticks)}
    return ItemIntegral(axes, grid, log_mass, arrays, log_z, change, outside, converged, tuple(s.levels))


def box_grid(axes: Sequence[Axis], box: Box) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The grid of ``box`` (its points (M,) per axis, values, C order) and ln of their prior masses, as an integral
    on that box weighs them."""
    ticks = _ticks(box.lo, box.hi, [box.n] * len(axes))
    mesh = np.meshgrid(*ticks, indexing="ij")
    return ({a.name: a.value(m.ravel()) for a, m in zip(axes, mesh)}, _log_trapezoid(ticks, tuple(axes)))


def grid_points(integral: ItemIntegral) -> dict[str, np.ndarray]:
    """The final grid's points (M,) per axis, in the order of ``integral.log_mass``."""
    mesh = np.meshgrid(*integral.grid.values(), indexing="ij")
    return {name: m.ravel() for name, m in zip(integral.grid, mesh)}

