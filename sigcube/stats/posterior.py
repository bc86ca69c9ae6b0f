"""The posterior of the global parameters on a sweep grid: normalisation, marginals, means, credible intervals.

The grid is a product of 1-D axes. The global prior is stated, never implied: ``prior = "grid"`` (the
default) gives every grid point equal mass — flat in the parameter on a linear axis, flat in its log on a
log axis — and ``log_prior`` (an array over the grid) adds any other prior. The posterior mass of a grid
point is exp(ln L_total + ln prior − max) normalised to sum 1.

1-D marginals are sums of that mass over the other axes. Means and credible intervals treat each grid
point's mass as spread uniformly over its cell (edges halfway between neighbours, half a step beyond the
ends), so an interval's ends interpolate between grid points; a credible interval is equal-tailed.
``edge_mass`` is the marginal mass in the first and last cell of an axis: when it exceeds
:data:`EDGE_WARNING` the grid truncates the posterior and the interval is a lower bound on the true one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from sigcube.errors import SigcubeError

EDGE_WARNING = 0.01
RESOLUTION_WARNING = 0.5
"""Marginal mass in one cell above which a report says the grid does not resolve the posterior."""
"""Marginal mass in an end cell of an axis above which a report says the posterior sits on the grid's edge."""
LEVELS = (0.68, 0.95)
"""Credible levels reported by default."""


class PosteriorError(SigcubeError):
    """A posterior that cannot be formed: shapes that disagree with the axes, or no finite log-likelihood."""


@dataclass(frozen=True)
class Marginal1D:
    """One axis's marginal: grid ``values``, ``mass`` per grid point (sums to 1), cell ``edges``."""

    name: str
    values: np.ndarray
    mass: np.ndarray
    edges: np.ndarray

    @property
    def mean(self) -> float:
        """Posterior mean (mass at the grid points)."""
        return float(np.sum(self.mass * self.values))

    @property
    def sd(self) -> float:
        """Posterior standard deviation (mass at the grid points)."""
        return float(np.sqrt(max(np.sum(self.mass * (self.values - self.mean) ** 2), 0.0)))

    def _cdf_at_edges(self) -> np.ndarray:
        cdf = np.concatenate([[0.0], np.cumsum(self.mass)])
        return cdf / cdf[-1]

    def quantile(self, p: float | np.ndarray) -> np.ndarray:
        """The value below which the marginal holds mass ``p`` (mass uniform within each cell)."""
        return np.interp(p, self._cdf_at_edges(), self.edges)

    def cdf(self, x: float | np.ndarray) -> np.ndarray:
        """Marginal mass below ``x`` (the inverse of :meth:`quantile`)."""
        return np.interp(x, self.edges, self._cdf_at_edges())

    def interval(self, level: float) -> tuple[float, float]:
        """Equal-tailed credible interval holding ``level`` of the mass."""
        lo, hi = self.quantile(np.array([(1 - level) / 2, (1 + level) / 2]))
        return float(lo), float(hi)

    @property
    def edge_mass(self) -> tuple[float, float]:
        """Mass in the first and the last grid cell."""
        return float(self.mass[0]), float(self.mass[-1])

    @property
    def unresolved(self) -> bool:
        """Whether one cell holds more than :data:`RESOLUTION_WARNING` (intervals then reflect the cell width)."""
        return float(np.max(self.mass)) > RESOLUTION_WARNING

    @property
    def on_edge(self) -> bool:
        """Whether an end cell holds more than :data:`EDGE_WARNING` (the grid truncates the posterior)."""
        return len(self.mass) > 1 and max(self.edge_mass) > EDGE_WARNING


@dataclass(frozen=True)
class GridPosterior:
    """Normalised posterior mass over the grid (``mass``, shaped like the axes) and its marginals."""

    axes: dict[str, np.ndarray]
    mass: np.ndarray
    prior: str
    log_evidence: float
    """ln Σ_grid L·prior (prior masses sum to 1): the grid's log-evidence [nat]."""
    stored: Mapping[tuple[str, ...], np.ndarray] = field(default_factory=dict)
    """Marginals read from a result cube, keyed by their axes (one or two, in axis order); the others are summed."""

    def marginal(self, name: str) -> Marginal1D:
        """The 1-D marginal of axis ``name``."""
        names = list(self.axes)
        if name not in names:
            raise PosteriorError(f"no grid axis {name!r}; the axes are {', '.join(names)}")
        k = names.index(name)
        mass = self.stored.get((name,))
        if mass is None:
            mass = self.mass.sum(axis=tuple(j for j in range(len(names)) if j != k))
        return Marginal1D(name, self.axes[name], mass, cell_edges(self.axes[name]))

    def marginal2d(self, x: str, y: str) -> np.ndarray:
        """The 2-D marginal mass over axes ``x`` and ``y``, shaped (len x, len y)."""
        names = list(self.axes)
        for n in (x, y):
            if n not in names:
                raise PosteriorError(f"no grid axis {n!r}; the axes are {', '.join(names)}")
        first, second = (x, y) if names.index(x) < names.index(y) else (y, x)
        mass = self.stored.get((first, second))
        if mass is None:
            mass = self.mass.sum(axis=tuple(j for j, n in enumerate(names) if n not in (x, y)))
        return mass if first == x else mass.T


def cell_edges(values: np.ndarray) -> np.ndarray:
    """Cell edges of a sorted 1-D grid: halfway between neighbours, half a step beyond the ends (in the
    grid's own spacing: geometric midpoints on a positive axis whose steps are equal ratios)."""
    v = np.asarray(values, dtype=float)
    if v.size == 1:
        return np.array([v[0], v[0]])
    logarithmic = bool(np.all(v > 0) and v.size > 2 and np.allclose(np.diff(np.log(v)), np.log(v[1] / v[0]))
                       and not np.allclose(np.diff(v), v[1] - v[0]))
    u = np.log(v) if logarithmic else v
    mid = 0.5 * (u[1:] + u[:-1])
    edges = np.concatenate([[u[0] - (mid[0] - u[0])], mid, [u[-1] + (u[-1] - mid[-1])]])
    return np.exp(edges) if logarithmic else edges


def grid_posterior(log_like: np.ndarray, axes: Mapping[str, Sequence[float] | np.ndarray],
                   log_prior: np.ndarray | None = None, prior: str = "equal mass per grid point") -> GridPosterior:
    """The normalised posterior of ``log_like`` [nat] (shaped like ``axes``, in order) under the grid prior.

    ``log_prior``: ln prior over the grid (need not be normalised; its normalised form is used for the
    evidence), stated in words by ``prior``. Grid points with non-finite ln L get zero mass.
    """
    axes = {k: np.asarray(v, dtype=float) for k, v in axes.items()}
    shape = tuple(len(v) for v in axes.values())
    log_like = np.asarray(log_like, dtype=float)
    if log_like.shape != shape:
        raise PosteriorError(f"the log-likelihood has shape {log_like.shape}; the axes "
                             f"({', '.join(axes)}) make {shape}")
    lp = np.zeros(shape) if log_prior is None else np.broadcast_to(np.asarray(log_prior, dtype=float), shape)
    lp = lp - _logsumexp(lp)
    t = np.where(np.isfinite(log_like), log_like + lp, -np.inf)
    if not np.isfinite(t).any():
        raise PosteriorError("no grid point has a finite log-likelihood")
    log_z = _logsumexp(t)
    return GridPosterior(axes, np.exp(t - log_z), prior, float(log_z))


def _logsumexp(a: np.ndarray) -> float:
    a = np.asarray(a, dtype=float)
    top = np.max(a[np.isfinite(a)]) if np.isfinite(a).any() else -np.inf
    return float(top + np.log(np.sum(np.exp(a - top)))) if np.isfinite(top) else -np.inf


def summary_lines(post: GridPosterior, levels: Sequence[float] = LEVELS,
                  units: Mapping[str, str] | None = None) -> list[str]:
    """Report lines: per axis (with its unit from ``units``, when it has one) the mean ± sd, the credible intervals,
    and an edge warning when mass sits on an end."""
    lines = []
    for name in post.axes:
        m = post.marginal(name)
        cis = "  ".join(f"{int(round(100 * lv))}%: [{lo:.4g}, {hi:.4g}]" for lv in levels
                        for lo, hi in [m.interval(lv)])
        unit = (units or {}).get(name, "").strip()
        line = f"{name}{f' [{unit}]' if unit else ''}: mean {m.mean:.4g} ± {m.sd:.3g}  {cis}"
        if m.on_edge:
            lo, hi = m.edge_mass
            side = "lower" if lo >= hi else "upper"
            line += (f"  ⚠ {max(lo, hi):.1%} of the mass sits in the {side} end cell of the grid "
                     f"({m.values[0]:.4g}–{m.values[-1]:.4g}): the posterior is truncated, widen the axis")
        if m.unresolved:
            line += f"  ⚠ {np.max(m.mass):.0%} of the mass in one grid cell: refine the axis around the mean"
        lines.append(line)
    return lines
