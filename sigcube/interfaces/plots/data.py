"""What the figures of cubes read from them: a grid posterior with its axes' labels (:class:`PosteriorGrid`), from a
nuisance sweep's result cube or from each dataset of a joint sweep's cube, and the mass levels of credible regions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from sigcube.engines.sweep.nuisance import sweep_posterior
from sigcube.interfaces.plots.base import PlotError
from sigcube.interfaces.plots.fields import NONNEGATIVE, Field
from sigcube.interfaces.plots.labels import log_axes
from sigcube.stats.posterior import GridPosterior, Marginal1D, PosteriorError


@dataclass(frozen=True)
class PosteriorGrid:
    """A normalised grid posterior (:class:`~sigcube.stats.posterior.GridPosterior`) with what its figures label
    its axes with: each axis's ``attrs`` (``long_name``, ``units``) and the axes drawn on a log scale (``log``)."""

    posterior: GridPosterior
    attrs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    log: frozenset[str] = frozenset()

    @property
    def axes(self) -> dict[str, np.ndarray]:
        return self.posterior.axes

    def marginal(self, name: str) -> Marginal1D:
        return self.posterior.marginal(name)

    def pair(self, x: str, y: str) -> np.ndarray:
        """The 2-D marginal mass over ``x`` × ``y`` (shaped (len x, len y))."""
        return self.posterior.marginal2d(x, y)


def posterior_from_report(posterior: Mapping[str, Any]) -> PosteriorGrid:
    """The :class:`PosteriorGrid` of a ``report sweep`` JSON's ``posterior`` (its ``marginals``: axes, 1-D and pair
    marginals, each checked against its axes; each axis's units from ``axes``); log axes where the grid's values are
    geometric."""
    post = Field(posterior, "posterior", ("posterior",))
    if post.mapping().get("marginals") is None:
        raise PlotError("posterior: the report has no marginals (remake it with this sigcube: report sweep --json)")
    stored = post["marginals"]
    axes = {n: a.numbers(increasing=True) for n, a in stored["axes"].items(nonempty=True)}

    def mass(field: Field, names: Sequence[str]) -> np.ndarray:
        unknown = [n for n in names if n not in axes]
        if unknown:
            raise field.refuse(f"is over {', '.join(unknown)}, not an axis of the grid ({', '.join(axes)})")
        shape = tuple(len(axes[n]) for n in names)
        values = field.numbers(NONNEGATIVE, size=shape[0]) if len(shape) == 1 else field.numbers(NONNEGATIVE,
                                                                                                 shape=shape)
        if values.sum() <= 0:
            raise field.refuse("holds no mass")
        return values

    marginals = {(n,): mass(m, [n]) for n, m in stored["one"].items()}
    marginals.update({tuple(key.split("|")): mass(m, key.split("|")) for key, m in stored["two"].items()})
    grid = GridPosterior(axes, np.empty(0), post["global_prior"].text() if post.get("global_prior") else "",
                         post["log_evidence"].number() if post.get("log_evidence") else np.nan, marginals)
    units = post.get("axes")
    attrs = {n: {"units": a["units"].text() if a.mapping().get("units") else ""}
             for n, a in (units.items() if units is not None else ())}
    geometric = {n for n, v in axes.items() if v.size > 2 and np.all(v > 0)
                 and np.allclose(np.diff(np.log(v)), np.log(v[1] / v[0])) and not np.allclose(np.diff(v), v[1] - v[0])}
    return PosteriorGrid(grid, attrs, frozenset(geometric))


def credible_levels(mass: np.ndarray, levels: Sequence[float]) -> list[float]:
    """For each level p, a contour level of the mass per cell that encloses the highest-mass cells holding at least
    p of the total: between the last cell needed and the next one (their geometric mean), so that a region of one
    cell still has a boundary."""
    flat = np.sort(np.asarray(mass, dtype=float).ravel())[::-1]
    flat = flat[np.isfinite(flat)]
    if flat.size == 0 or flat.sum() <= 0:
        raise PlotError("credible regions: the posterior has no mass")
    cumulative = np.cumsum(flat) / flat.sum()
    out = []
    for p in levels:
        k = min(int(np.searchsorted(cumulative, p)), flat.size - 1)
        below = flat[k + 1] if k + 1 < flat.size else 0.0
        out.append(float(np.sqrt(flat[k] * below)) if below > 0 else 0.5 * float(flat[k]))
    return out


def _attrs(ds: xr.Dataset, names: Sequence[str]) -> dict[str, dict[str, Any]]:
    return {n: dict(ds[n].attrs) for n in names if n in ds.coords or n in ds}


def sweep_grid(ds: xr.Dataset) -> PosteriorGrid:
    """The grid posterior of a nuisance sweep's result cube (:func:`~sigcube.engines.sweep.nuisance.sweep_posterior`)."""
    try:
        post = sweep_posterior(ds)
    except PosteriorError as exc:
        raise PlotError(f"posterior: {exc}") from None
    return PosteriorGrid(post, _attrs(ds, list(post.axes)), frozenset(log_axes(ds)))


def joint_grids(ds: xr.Dataset) -> dict[str, PosteriorGrid]:
    """Each dataset's own grid posterior of a joint sweep's cube (its stored ``posterior``) and the joint one
    (``joint``: ``posterior_joint``), by label."""
    if "posterior_joint" not in ds or "posterior" not in ds or "probe" not in ds.coords:
        raise PlotError("joint posterior: the cube has no posterior and posterior_joint (not a joint sweep's result "
                        "cube)")
    dims = list(ds["posterior_joint"].dims)
    axes = {d: np.asarray(ds[d].values, dtype=float) for d in dims}
    prior = str(ds.attrs.get("global_prior", ""))
    log, attrs = frozenset(log_axes(ds)), _attrs(ds, dims)
    masses = {str(label): (ds["posterior"].sel(probe=label).transpose(*dims).values,
                           float(ds["log_evidence"].sel(probe=label))) for label in ds["probe"].values}
    masses["joint"] = (ds["posterior_joint"].values, float(ds["log_evidence_joint"]))
    out = {}
    for label, (mass, log_z) in masses.items():
        mass = np.asarray(mass, dtype=float)
        if mass.size == 0 or not np.isfinite(mass).all() or not np.isclose(mass.sum(), 1.0, rtol=1e-6):
            raise PlotError(f"joint posterior: the stored posterior of {label} is not a normalised mass (damaged "
                            "or unfinished cube)")
        out[label] = PosteriorGrid(GridPosterior(axes, mass, prior, log_z), attrs, log)
    return out


DRAW_BINS = 40
"""Bins per variable of a posterior rebuilt from draws, when the draws take more distinct values than that."""


def draws_grid(tree: xr.DataTree, variables: Sequence[str] | None = None) -> PosteriorGrid:
    """The posterior of an ArviZ export's draws (``sigcube export``) as a grid: draws that sit on grid points (the
    export's default) are counted per grid point, so the grid posterior is recovered up to the draws' sampling noise;
    a variable with more than :data:`DRAW_BINS` distinct values is binned."""
    if "posterior" not in tree.children:
        raise PlotError("posterior draws: the store has no posterior group (not an ArviZ export)")
    post = tree["posterior"].to_dataset()
    names = list(variables) if variables is not None else [str(v) for v in post.data_vars]
    if not names:
        raise PlotError("posterior draws: the posterior group has no variable")
    samples = []
    for name in names:
        if name not in post:
            raise PlotError(f"posterior draws: no variable {name!r}; the export has {', '.join(map(str, post))}")
        samples.append(np.asarray(post[name].values, dtype=float).ravel())
    data = np.column_stack(samples)
    data = data[np.isfinite(data).all(axis=1)]
    if data.shape[0] == 0:
        raise PlotError("posterior draws: no finite draw")
    axes, index = {}, []
    for j, name in enumerate(names):
        values = np.unique(data[:, j])
        if len(values) > DRAW_BINS:
            edges = np.linspace(values[0], values[-1], DRAW_BINS + 1)
            values = 0.5 * (edges[1:] + edges[:-1])
            index.append(np.clip(np.digitize(data[:, j], edges) - 1, 0, DRAW_BINS - 1))
        else:
            index.append(np.searchsorted(values, data[:, j]))
        axes[name] = values
    counts = np.zeros(tuple(len(v) for v in axes.values()))
    np.add.at(counts, tuple(index), 1.0)
    prior = str(tree.attrs.get("prior", ""))
    attrs = {n: dict(post[n].attrs) for n in names}
    return PosteriorGrid(GridPosterior(axes, counts / counts.sum(), prior, float("nan")), attrs)


def grids_of(data: xr.Dataset | xr.DataTree) -> dict[str, PosteriorGrid]:
    """The grid posteriors a store holds, by label: a nuisance sweep's, each dataset's of a joint sweep and the
    joint one, or an ArviZ export's draws."""
    from sigcube.io.cubes import JOINT_KIND

    if isinstance(data, xr.DataTree):
        return {"draws": draws_grid(data)}
    if data.attrs.get("sigcube_kind") == JOINT_KIND:
        return joint_grids(data)
    return {"posterior": sweep_grid(data)}
