"""Views of a sweep's result cube: metric heatmaps and slices, best-parameter distributions.

Two swept parameters span a heatmap (one parameter a slice); the remaining ones become
widgets (see :func:`~sigcube.interfaces.explore.frames.frames`), with at most ``max_frames``
combinations, spread evenly and always including the kernel default.
The kernel default of each plotted parameter is marked (red ×), as is the best grid
point of the frame (white ○).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  (registers the bokeh backend and its options)
import numpy as np
import xarray as xr

from sigcube.engines.sweep import best_per_galaxy
from sigcube.engines.sweep.result import axis_defaults, object_dim, parameter_dims
from sigcube.errors import SigcubeError
from sigcube.interfaces.explore.bounds import Limits, frame_counts, spread, stride
from sigcube.interfaces.explore.frames import frames
from sigcube.interfaces.explore.labels import NORM, dim_of, fmt, log_axes
from sigcube.model.metrics import get_metric, metric_names

GLOBAL_METRICS = metric_names("global")
"""The global metrics the explorer shows when the cube has them (:mod:`sigcube.model.metrics`)."""
DEFAULT_MARK = {"marker": "x", "size": 18, "color": "red", "line_width": 3, **NORM}
BEST_MARK = {"marker": "circle", "size": 12, "fill_color": "white", "line_color": "black", "line_width": 2, **NORM}


def defaults(ds: xr.Dataset) -> dict[str, Any]:
    """The default of every swept parameter of ``ds`` (the kernel's; σ_int's of ``[nuisance]``)."""
    return axis_defaults(ds)


def default_index(ds: xr.Dataset, dim: str) -> int | None:
    """Grid index of the kernel default of ``dim`` (the nearest value), None if off the grid."""
    values, default = ds[dim].values, defaults(ds)[dim]
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


def _check(ds: xr.Dataset, metric: str, dims: Sequence[str]) -> None:
    params = parameter_dims(ds)
    stored = [m for m in GLOBAL_METRICS if m in ds]
    if metric not in stored:
        raise SigcubeError(f"metric {metric!r} is not in this result cube; its global metrics: {', '.join(stored)}")
    for d in dims:
        if d not in params:
            raise SigcubeError(f"{d!r} is not a swept parameter; swept: {', '.join(params)}")
    if len(set(dims)) != len(dims):
        raise SigcubeError(f"choose distinct parameters; got {', '.join(dims)}")


def _axes(ds: xr.Dataset, x: str | None, y: str | None) -> tuple[str, str]:
    params = parameter_dims(ds)
    if len(params) < 2:
        raise SigcubeError(f"a heatmap needs two swept parameters; this sweep has {', '.join(params)}")
    x = x or next(p for p in params if p != y)
    y = y or next(p for p in params if p != x)
    return x, y


def _values(ds: xr.Dataset, dim: str, idx: np.ndarray | slice = slice(None)) -> np.ndarray:
    """Coordinate values as floats, or as Python strings for a switch."""
    values = ds[dim].values[idx]
    if values.dtype.kind in "fiu":
        return values.astype(float)
    return np.array([str(v) for v in values], dtype=object)


class _Widgets:
    """The widget dimensions of a plan: labelled, valued, starting at the kernel default."""

    def __init__(self, ds: xr.Dataset, plan: dict[str, np.ndarray]) -> None:
        self.names = list(plan)
        self.values = [_values(ds, d, idx).tolist() for d, idx in plan.items()]
        self.index = [dict(zip(v, idx.tolist())) for v, idx in zip(self.values, plan.values())]
        self.kdims = []
        for d, idx in plan.items():
            keep = default_index(ds, d)
            start = _values(ds, d, np.array([idx[0] if keep is None else keep])).tolist()[0]
            self.kdims.append(dim_of(ds, d).clone(default=start))

    def at(self, key: tuple) -> dict[str, int]:
        """Grid indices of a widget key."""
        return {d: lookup[v] for d, lookup, v in zip(self.names, self.index, key)}

    def where(self, key: tuple) -> str:
        return ", ".join(f"{d} = {fmt(v)}" for d, v in zip(self.names, key))


def _in_grid(values: np.ndarray, default: Any) -> bool:
    if values.dtype == object:
        return default in set(values)
    return bool(values.min() <= default <= values.max())


def _edges(values: np.ndarray) -> np.ndarray:
    """Cell edges of a geometric (logspace) grid: geometric midpoints, the outer cells as wide in log as their
    neighbours (half a decade each side of a single value), so every edge is > 0 on the log axis."""
    logs = np.log10(values.astype(float))
    step = np.diff(logs) if len(logs) > 1 else np.ones(1)
    return 10.0 ** np.concatenate([[logs[0] - step[0] / 2], logs[:-1] + step / 2, [logs[-1] + step[-1] / 2]])


def _heatmap_frame(ds: xr.Dataset, metric: str, x: str, y: str, at: dict[str, int], step: int,
                   title: str) -> hv.Overlay:
    field = ds[metric].isel(at).isel({x: slice(None, None, step), y: slice(None, None, step)})
    z = field.transpose(y, x).values.astype(float)
    xv, yv = _values(ds, x, slice(None, None, step)), _values(ds, y, slice(None, None, step))
    dx, dy, dz = dim_of(ds, x), dim_of(ds, y), dim_of(ds, metric)
    logs = log_axes(ds)
    if xv.dtype == object or yv.dtype == object:
        xx, yy = np.meshgrid(xv, yv)
        mesh = hv.HeatMap((xx.ravel(), yy.ravel(), z.ravel()), [dx, dy], [dz])
    else:  # holoviews' own edges are linear midpoints: on a log axis the first one can be ≤ 0
        mesh = hv.QuadMesh((_edges(xv) if x in logs else xv, _edges(yv) if y in logs else yv, z), [dx, dy], [dz])
    layers = [mesh.opts(cmap="viridis", colorbar=True, tools=["hover"], logx=x in logs, logy=y in logs, **NORM)]
    iy, ix = np.unravel_index(get_metric(metric).best_index(z), z.shape)
    layers.append(hv.Points([(xv[ix], yv[iy])], [dx, dy], label="best").opts(**BEST_MARK))
    dflt = defaults(ds)
    if _in_grid(xv, dflt[x]) and _in_grid(yv, dflt[y]):
        layers.append(hv.Points([(dflt[x], dflt[y])], [dx, dy], label="kernel default").opts(**DEFAULT_MARK))
    return hv.Overlay(layers).opts(title=title, width=460, height=340, show_legend=False, **NORM)


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
    _check(ds, metric, [x, y])
    ds = ds.load()
    widgets = _Widgets(ds, frame_plan(ds, [d for d in parameter_dims(ds) if d not in (x, y)], max_frames))
    step = stride(ds.sizes[x], ds.sizes[y], max_cells)
    label = ds[metric].attrs.get("long_name", metric) + (f" (every {step}th grid value)" if step > 1 else "")

    def build(*key: Any) -> hv.Overlay:
        where = widgets.where(key)
        return _heatmap_frame(ds, metric, x, y, widgets.at(key), step, label + (f" at {where}" if where else ""))

    return frames(build, widgets.kdims, widgets.values, dynamic)


def _slice_frame(ds: xr.Dataset, metric: str, x: str, at: dict[str, int], title: str) -> hv.Overlay:
    xv = _values(ds, x)
    yv = ds[metric].isel(at).values.astype(float)
    dx, dm = dim_of(ds, x), dim_of(ds, metric)
    layers = [hv.Curve((xv, yv), dx, dm).opts(color="#1f77b4", line_width=2, **NORM),
              hv.Scatter((xv, yv), dx, dm).opts(color="#1f77b4", size=4, **NORM)]
    best = get_metric(metric).best_index(yv)
    layers.append(hv.Points([(xv[best], yv[best])], [dx, dm], label="best").opts(**BEST_MARK))
    default = defaults(ds)[x]
    if xv.dtype != object and _in_grid(xv, default):
        layers.append(hv.VLine(default, label="kernel default").opts(color="red", line_dash="dashed", **NORM))
    return hv.Overlay(layers).opts(title=title, width=460, height=300, logx=x in log_axes(ds), show_grid=True,
                                   **NORM)


def sweep_slice(ds: xr.Dataset, metric: str = "mean_rms", x: str | None = None,
                max_frames: int = Limits.max_frames, dynamic: bool = False) -> hv.core.Dimensioned:
    """A global metric along one swept parameter, with a widget for each other parameter.

    The kernel default of ``x`` is a red dashed line, the best value a white ○.
    """
    x = x or parameter_dims(ds)[0]
    _check(ds, metric, [x])
    ds = ds.load()
    widgets = _Widgets(ds, frame_plan(ds, [d for d in parameter_dims(ds) if d != x], max_frames))
    label = f"{ds[metric].attrs.get('long_name', metric)} along {x}"

    def build(*key: Any) -> hv.Overlay:
        where = widgets.where(key)
        return _slice_frame(ds, metric, x, widgets.at(key), label + (f" at {where}" if where else ""))

    return frames(build, widgets.kdims, widgets.values, dynamic)


def plural(noun: str) -> str:
    """galaxy → galaxies, cluster → clusters."""
    return noun[:-1] + "ies" if noun.endswith("y") else noun + "s"


def best_parameter_distributions(ds: xr.Dataset, metric: str = "rms") -> hv.Layout:
    """For each swept parameter, how many galaxies have their own best ``metric`` at each grid value.

    Uses :func:`sigcube.engines.sweep.best_per_galaxy`; one spike per grid value (grids may be
    uneven), the kernel default a red dashed line.
    """
    if metric not in metric_names("object") or metric not in ds:
        raise SigcubeError(f"per-object metric must be one of {', '.join(metric_names('object'))} and stored in the "
                           f"cube; got {metric!r}")
    best = best_per_galaxy(ds, metric)
    objects = plural(object_dim(ds))
    count = hv.Dimension("count", label=f"number of {objects}")
    panels = []
    for d in parameter_dims(ds):
        grid, chosen = _values(ds, d), _values(best, d)
        counts = np.array([(chosen == g).sum() for g in grid])
        title = f"best {d} per {object_dim(ds)} (min {metric}), {len(chosen)} {objects}"
        if grid.dtype == object:
            panels.append(hv.Bars((grid, counts), [dim_of(ds, d)], [count]).opts(title=title, width=460, height=300))
            continue
        layers = [hv.Spikes((grid, counts), [dim_of(ds, d)], [count]).opts(
            color="#1f77b4", line_width=4, logx=d in log_axes(ds))]
        if _in_grid(grid, defaults(ds)[d]):
            layers.append(hv.VLine(defaults(ds)[d], label="kernel default").opts(color="red", line_dash="dashed"))
        panels.append(hv.Overlay(layers).opts(title=f"{title}, median {fmt(float(np.median(chosen)))}",
                                              width=460, height=300, show_grid=True))
    return hv.Layout(panels).cols(2)
