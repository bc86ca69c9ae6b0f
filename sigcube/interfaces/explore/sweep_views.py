"""Views of a sweep's result cube with widgets: metric heatmaps and slices, best-parameter distributions.

Two swept parameters span a heatmap (one parameter a slice); the remaining ones become
widgets (see :func:`~sigcube.interfaces.explore.frames.frames`), with at most ``max_frames``
combinations, spread evenly and always including the kernel default. Each frame is drawn by
:mod:`sigcube.interfaces.plots.sweeps`: the kernel default of each plotted parameter is marked (red ×), as is the
best grid point of the frame (white ○). The likelihood's scatter axes of a nuisance sweep (σ_int, τ_gal:
:func:`~sigcube.engines.sweep.result.scatter_dims`) get neither an axis nor a widget: the metrics do not depend on
them (a heat map over one is stripes, a slice along one a flat line, every widget position the same frame).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

import holoviews as hv
import numpy as np
import xarray as xr

from sigcube.engines.sweep import best_per_galaxy
from sigcube.engines.sweep.result import axis_defaults, object_dim, parameter_dims, scatter_dims
from sigcube.errors import SigcubeError
from sigcube.interfaces.explore.bounds import Limits, frame_counts, spread, stride
from sigcube.interfaces.explore.frames import frames
from sigcube.interfaces.plots.base import COLORS, FRAMEWISE, dimension, fmt, framed, framewise, plural, styled
from sigcube.interfaces.plots.galaxies import TITLE_PX_PER_CHAR
from sigcube.interfaces.plots.labels import Label, log_axes, parameter_label, ticks_for
from sigcube.interfaces.plots.sweeps import (
    PANEL_WIDTH, check_metric, heatmap_frame, in_grid, slice_frame, values_of,
)
from sigcube.model.metrics import metric_names


def metric_dims(ds: xr.Dataset) -> list[str]:
    """The swept parameters the metrics depend on: every grid axis but the likelihood's scatters."""
    scatter = scatter_dims(ds)
    return [d for d in parameter_dims(ds) if d not in scatter]


AXIS_PX = 60
"""Pixels of a panel's width its vertical axis takes, about: a title line has the rest."""


def title_lines(parts: Sequence[str], width: int) -> str:
    """A panel's title from ``parts`` (phrases), as many on a line as fit a panel ``width`` pixels wide, a phrase
    longer than a line wrapped at its spaces (bokeh cuts a title at the panel's edge)."""
    chars = (width - AXIS_PX) // TITLE_PX_PER_CHAR
    lines: list[str] = []
    for part in filter(None, parts):
        if lines and len(lines[-1]) + 1 + len(part) <= chars:
            lines[-1] += " " + part
        else:
            lines += textwrap.wrap(part, chars, break_long_words=False)
    return "\n".join(lines)


def default_index(ds: xr.Dataset, dim: str) -> int | None:
    """Grid index of the kernel default of ``dim`` (the nearest value), None if off the grid."""
    values, default = ds[dim].values, axis_defaults(ds)[dim]
    if isinstance(default, str):
        hits = np.flatnonzero(values.astype(object) == default)
        return int(hits[0]) if len(hits) else None
    if not values.min() <= default <= values.max():
        return None
    return int(np.argmin(np.abs(values.astype(float) - default)))


def frame_plan(ds: xr.Dataset, dims: Sequence[str], max_frames: int) -> dict[str, np.ndarray]:
    """Indices kept along each widget dimension: ≤ ``max_frames`` combinations, defaults kept."""
    counts = frame_counts([ds.sizes[d] for d in dims], max_frames)
    return {d: spread(ds.sizes[d], c, default_index(ds, d)) for d, c in zip(dims, counts)}


def plan_note(ds: xr.Dataset, plan: dict[str, np.ndarray]) -> str:
    """One line saying which widget values were embedded."""
    parts = [f"{d}: {len(i)} of {ds.sizes[d]} values" + ("" if len(i) == ds.sizes[d] else " (evenly spread)")
             for d, i in plan.items()]
    return "; ".join(parts) if parts else "no widgets"


def _axes(ds: xr.Dataset, x: str | None, y: str | None) -> tuple[str, str]:
    params = metric_dims(ds)
    if len(params) < 2:
        raise SigcubeError(f"a heatmap needs two swept parameters; this sweep has {', '.join(params)}")
    x = x or next(p for p in params if p != y)
    y = y or next(p for p in params if p != x)
    return x, y


class _Widgets:
    """The widget dimensions of a plan over every metric axis but ``drawn``: labelled, valued, starting at the kernel
    default; a scatter axis not drawn is held at its first value (the metrics do not depend on it)."""

    def __init__(self, ds: xr.Dataset, drawn: Sequence[str], max_frames: int) -> None:
        plan = frame_plan(ds, [d for d in metric_dims(ds) if d not in drawn], max_frames)
        self.held = {d: 0 for d in scatter_dims(ds) if d not in drawn}
        self.names = list(plan)
        self.values = [values_of(ds, d, idx).tolist() for d, idx in plan.items()]
        self.index = [dict(zip(v, idx.tolist())) for v, idx in zip(self.values, plan.values())]
        self.kdims = []
        for d, idx in plan.items():
            keep = default_index(ds, d)
            start = values_of(ds, d, np.array([idx[0] if keep is None else keep])).tolist()[0]
            self.kdims.append(dimension(d, ds[d].attrs, parameter=True).clone(default=start))

    def at(self, key: tuple) -> dict[str, int]:
        """Grid indices of a widget key (and of the scatter axes held)."""
        return {**self.held, **{d: lookup[v] for d, lookup, v in zip(self.names, self.index, key)}}

    def where(self, key: tuple) -> str:
        """"at d = v, …" of a widget key (nothing with no widget)."""
        return ("at " if self.names else "") + ", ".join(f"{d} = {fmt(v)}" for d, v in zip(self.names, key))


def sweep_heatmap(ds: xr.Dataset, metric: str = "mean_rms", x: str | None = None, y: str | None = None,
                  max_frames: int = Limits.max_frames, max_cells: int = Limits.max_cells,
                  dynamic: bool = False) -> hv.core.Dimensioned:
    """A global metric over two swept parameters, with a widget for each other parameter.

    At most ``max_frames`` widget combinations (evenly spread, defaults kept) and
    ``max_cells`` cells (the grid strided beyond it); see :func:`~sigcube.interfaces.explore.frames.frames`
    for ``dynamic``. Red ×: the kernel default; white ○: the frame's best grid point.

    >>> hvplot.render(sweep_heatmap(res, "mean_rms", "A0", "k"), backend="bokeh")   # doctest: +SKIP
    """
    x, y = _axes(ds, x, y)
    check_metric(ds, metric, [x, y])
    ds = ds.load()
    widgets = _Widgets(ds, (x, y), max_frames)
    step = stride(ds.sizes[x], ds.sizes[y], max_cells)
    label = ds[metric].attrs.get("long_name", metric) + (f" (every {step}th grid value)" if step > 1 else "")

    def build(*key: Any) -> hv.Overlay:
        return framewise(heatmap_frame(ds, metric, x, y, widgets.at(key), step,
                                       title_lines([label, widgets.where(key)], PANEL_WIDTH)))

    return frames(build, widgets.kdims, widgets.values, dynamic)


def sweep_slice(ds: xr.Dataset, metric: str = "mean_rms", x: str | None = None,
                max_frames: int = Limits.max_frames, dynamic: bool = False) -> hv.core.Dimensioned:
    """A global metric along one swept parameter, with a widget for each other parameter.

    The kernel default of ``x`` is a red dashed line, the best value a white ○.
    """
    x = x or metric_dims(ds)[0]
    check_metric(ds, metric, [x])
    ds = ds.load()
    widgets = _Widgets(ds, (x,), max_frames)
    label = f"{ds[metric].attrs.get('long_name', metric)} along {x}"

    def build(*key: Any) -> hv.Overlay:
        return framewise(slice_frame(ds, metric, x, widgets.at(key),
                                     title_lines([label, widgets.where(key)], PANEL_WIDTH)))

    return frames(build, widgets.kdims, widgets.values, dynamic)


def best_parameter_distributions(ds: xr.Dataset, metric: str = "rms") -> hv.Layout:
    """For each swept parameter the metric depends on (:func:`metric_dims`), how many galaxies have their own best
    ``metric`` at each grid value.

    Uses :func:`sigcube.engines.sweep.best_per_galaxy`; one spike per grid value (grids may be
    uneven), the kernel default a red dashed line.
    """
    if metric not in metric_names("object") or metric not in ds:
        raise SigcubeError(f"per-object metric must be one of {', '.join(metric_names('object'))} and stored in the "
                           f"cube; got {metric!r}")
    best = best_per_galaxy(ds.isel({d: 0 for d in scatter_dims(ds)}), metric)
    objects = plural(object_dim(ds))
    count = Label(f"number of {objects}", f"number of {objects}")
    defaults = axis_defaults(ds)
    logs = log_axes(ds)
    panels = []
    for d in metric_dims(ds):
        grid, chosen = values_of(ds, d), values_of(best, d)
        counts = np.array([(chosen == g).sum() for g in grid])
        title = [f"best {d} per {object_dim(ds)} (min {metric}),", f"{len(chosen)} {objects}"]
        if grid.dtype == object:
            panels.append(framed(hv.Bars((grid, counts), [d], ["count"]), title=title_lines(title, PANEL_WIDTH), xlabel=parameter_label(d, ds[d].attrs),
                                 ylabel=count, width=PANEL_WIDTH, height=300, legend=None))
            continue
        layers = [styled(hv.Spikes((grid, counts), d, "count"), color=COLORS[1], width=4)]
        if in_grid(grid, defaults[d]):
            layers.append(styled(hv.VLine(defaults[d], kdims=[d, "count"], label="kernel default"), color="red", dash="dashed"))
        panels.append(framed(hv.Overlay(layers).opts(**FRAMEWISE),
                             title=title_lines([title[0], f"{title[1]}, median {fmt(float(np.median(chosen)))}"], PANEL_WIDTH), xlabel=parameter_label(d, ds[d].attrs),
                             ylabel=count, logx=d in logs, xticks=ticks_for(grid, d in logs), width=PANEL_WIDTH, height=300,
                             legend=None))
    return hv.Layout(panels).cols(2)
