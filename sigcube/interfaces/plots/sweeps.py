"""Figures of a sweep's result cube: a global metric over two swept parameters (heat map, the best grid point and
the kernel default marked) and along each one (sensitivity curves), the other parameters at a given grid point.

:func:`heatmap_frame` and :func:`slice_frame` draw one frame; the explorer puts a widget on every other parameter
(:mod:`sigcube.interfaces.explore.sweep_views`), the static figures fix them at the metric's best grid point.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import holoviews as hv
import numpy as np
import xarray as xr

from sigcube.engines.sweep.result import axis_defaults, parameter_dims
from sigcube.interfaces.plots.base import (
    COLORS, FRAMEWISE, Plot, PlotError, fmt, framed, layout, require_store, styled,
)
from sigcube.interfaces.plots.labels import axis_label, log_axes, parameter_label, ticks_for
from sigcube.interfaces.plots.registry import figure
from sigcube.io.cubes import RESULT_KIND
from sigcube.model.metrics import get_metric, metric_names

GLOBAL_METRICS = metric_names("global")
"""The global metrics of the metric registry (:mod:`sigcube.model.metrics`)."""
PANEL_WIDTH = 460
"""Pixels of a heat map's or a slice's panel."""


def values_of(ds: xr.Dataset, dim: str, idx: np.ndarray | slice = slice(None)) -> np.ndarray:
    """Coordinate values as floats, or as Python strings for a switch."""
    values = ds[dim].values[idx]
    if values.dtype.kind in "fiu":
        return values.astype(float)
    return np.array([str(v) for v in values], dtype=object)


def in_grid(values: np.ndarray, default: Any) -> bool:
    """Whether ``default`` lies within the grid's values (a switch: is one of them)."""
    if values.dtype == object:
        return default in set(values)
    return bool(values.min() <= default <= values.max())


def log_edges(values: np.ndarray) -> np.ndarray:
    """Cell edges of a geometric (logspace) grid: geometric midpoints, the outer cells as wide in log as their
    neighbours (half a decade each side of a single value), so every edge is > 0 on the log axis."""
    logs = np.log10(values.astype(float))
    step = np.diff(logs) if len(logs) > 1 else np.ones(1)
    return 10.0 ** np.concatenate([[logs[0] - step[0] / 2], logs[:-1] + step / 2, [logs[-1] + step[-1] / 2]])


def check_metric(ds: xr.Dataset, metric: str, dims: list[str]) -> None:
    """Refuse a cube that is not a sweep's result, a metric it does not store, an axis that is not swept, an axis
    named twice."""
    require_store(ds, (RESULT_KIND,), f"a figure of {metric}", "a sweep's result cube")
    params = parameter_dims(ds)
    stored = [m for m in GLOBAL_METRICS if m in ds]
    if metric not in stored:
        raise PlotError(f"metric {metric!r} is not in this result cube; its global metrics: "
                        f"{', '.join(stored) or 'none'}")
    for d in dims:
        if d not in params:
            raise PlotError(f"{d!r} is not a swept parameter; swept: {', '.join(params)}")
    if len(set(dims)) != len(dims):
        raise PlotError(f"choose distinct parameters; got {', '.join(dims)}")


def heatmap_frame(ds: xr.Dataset, metric: str, x: str, y: str, at: Mapping[str, int], step: int = 1,
                  title: str = "") -> hv.Overlay:
    """``metric`` over ``x`` × ``y`` at the grid indices ``at`` of the other parameters (every ``step``-th
    value): the frame's best grid point (white ○) and the kernel default (red ×) marked."""
    field = ds[metric].isel(dict(at)).isel({x: slice(None, None, step), y: slice(None, None, step)})
    z = field.transpose(y, x).values.astype(float)
    if z.size == 0 or not np.isfinite(z).any():
        raise PlotError(f"{metric} over {x} × {y}: no finite value to draw")
    xv, yv = values_of(ds, x, slice(None, None, step)), values_of(ds, y, slice(None, None, step))
    logs = log_axes(ds)
    dz = hv.Dimension(metric, label=ds[metric].attrs.get("long_name", metric), unit=ds[metric].attrs.get("units"))
    if xv.dtype == object or yv.dtype == object:
        xx, yy = np.meshgrid(xv, yv)
        mesh = hv.HeatMap((xx.ravel(), yy.ravel(), z.ravel()), [x, y], [dz])
    else:  # holoviews' own edges are linear midpoints: on a log axis the first one can be ≤ 0
        mesh = hv.QuadMesh((log_edges(xv) if x in logs else xv, log_edges(yv) if y in logs else yv, z), [x, y], [dz])
    mesh = mesh.opts(backend="bokeh", cmap="viridis", colorbar=True, tools=["hover"], **FRAMEWISE).opts(
        backend="matplotlib", cmap="viridis", colorbar=True)
    iy, ix = np.unravel_index(get_metric(metric).best_index(z), z.shape)
    layers = [mesh, styled(hv.Points([(xv[ix], yv[iy])], [x, y], label="best"), fill="white", color="black",
                           size=12, width=2)]
    default = axis_defaults(ds)
    if in_grid(xv, default[x]) and in_grid(yv, default[y]):
        layers.append(styled(hv.Points([(default[x], default[y])], [x, y], label="kernel default"), color="red",
                             size=16, marker="x", width=3))
    numeric = xv.dtype != object and yv.dtype != object
    return framed(hv.Overlay(layers).opts(**FRAMEWISE), title=title, xlabel=parameter_label(x, ds[x].attrs),
                  ylabel=parameter_label(y, ds[y].attrs), logx=x in logs, logy=y in logs,
                  xticks=ticks_for(xv, x in logs) if numeric else None,
                  yticks=ticks_for(yv, y in logs) if numeric else None, width=PANEL_WIDTH, height=340, legend=None,
                  grid=False)


def slice_frame(ds: xr.Dataset, metric: str, x: str, at: Mapping[str, int], title: str = "",
                color: str = COLORS[1]) -> hv.Overlay:
    """``metric`` along ``x`` at the grid indices ``at`` of the other parameters: the best value (white ○) and the
    kernel default (red dashed line) marked."""
    xv = values_of(ds, x)
    yv = ds[metric].isel(dict(at)).values.astype(float)
    if not np.isfinite(yv).any():
        raise PlotError(f"{metric} along {x}: no finite value to draw")
    dm = hv.Dimension(metric, label=ds[metric].attrs.get("long_name", metric), unit=ds[metric].attrs.get("units"))
    layers = [styled(hv.Curve((xv, yv), x, dm), color=color, width=2),
              styled(hv.Scatter((xv, yv), x, dm), color=color, size=4)]
    best = get_metric(metric).best_index(yv)
    layers.append(styled(hv.Points([(xv[best], yv[best])], [x, metric], label="best"), fill="white", color="black",
                         size=12, width=2))
    default = axis_defaults(ds)[x]
    if xv.dtype != object and in_grid(xv, default):
        layers.append(styled(hv.VLine(default, kdims=[x, metric], label="kernel default"), color="red", dash="dashed", width=1.5))
    log = x in log_axes(ds)
    return framed(hv.Overlay(layers).opts(**FRAMEWISE), title=title, xlabel=parameter_label(x, ds[x].attrs),
                  ylabel=axis_label(metric, ds[metric].attrs), logx=log,
                  xticks=ticks_for(xv, log) if xv.dtype != object else None, width=PANEL_WIDTH, height=300, legend=None)


def best_index(ds: xr.Dataset, metric: str) -> dict[str, int]:
    """The grid indices of ``metric``'s best grid point (over every swept parameter it depends on)."""
    var = ds[metric]
    dims = [d for d in parameter_dims(ds) if d in var.dims]
    values = var.transpose(*dims).values.astype(float)
    if not np.isfinite(values).any():
        raise PlotError(f"{metric}: no finite value in the cube")
    return dict(zip(dims, (int(i) for i in np.unravel_index(get_metric(metric).best_index(values), values.shape))))


def _where(ds: xr.Dataset, at: Mapping[str, int]) -> str:
    return ", ".join(f"{d} = {fmt(values_of(ds, d)[i])}" for d, i in at.items())


@figure("heatmap", source="cube", reads="a sweep's result cube with a global metric and at least two axes")
def metric_map(ds: xr.Dataset, metric: str = "mean_rms", x: str | None = None, y: str | None = None) -> Plot:
    """A global metric over two swept parameters (the first two by default), the others at the metric's best grid
    point; the best point and the kernel default marked.

    ``metric``: a global metric the cube stores (mean_rms, median_chi2_red, win_rate, rar_scatter_velocity, …);
    ``x``, ``y``: the two swept parameters on the axes (default: the first two)."""
    require_store(ds, (RESULT_KIND,), "a heat map", "a sweep's result cube")
    params = parameter_dims(ds)
    if len(params) < 2:
        raise PlotError(f"a heat map needs two swept parameters; this sweep has {', '.join(params) or 'none'}")
    x = x or next(p for p in params if p != y)
    y = y or next(p for p in params if p != x)
    check_metric(ds, metric, [x, y])
    ds = ds.load()
    at = {d: i for d, i in best_index(ds, metric).items() if d not in (x, y)}
    where = _where(ds, at)
    name = ds[metric].attrs.get("long_name", metric)
    view = heatmap_frame(ds, metric, x, y, at, title=f"{name}" + (f" at {where}" if where else ""))
    return Plot(view, f"Heat map of {name} over {x} × {y}" + (f" at {where} (the best grid point)" if where else "")
                + ", the best grid point (○) and the kernel default (×) marked")


@figure("sensitivity", source="cube", reads="a sweep's result cube with a global metric")
def sensitivity(ds: xr.Dataset, metric: str = "mean_rms") -> Plot:
    """A global metric along each swept parameter, the others at the metric's best grid point.

    ``metric``: a global metric the cube stores (mean_rms, median_chi2_red, win_rate, rar_scatter_velocity, …)."""
    require_store(ds, (RESULT_KIND,), "a sensitivity figure", "a sweep's result cube")
    params = parameter_dims(ds)
    check_metric(ds, metric, params)
    ds = ds.load()
    best = best_index(ds, metric)
    name = ds[metric].attrs.get("long_name", metric)
    panels = []
    for x in params:
        at = {d: i for d, i in best.items() if d != x}
        where = _where(ds, at)
        panels.append(slice_frame(ds, metric, x, at, title=f"along {x}" + (f" at {where}" if where else "")))
    return Plot(layout(panels, cols=2), f"{name} along each of {', '.join(params)}, the other parameters at the best "
                                        "grid point; the best value (○) and the kernel default (dashed) marked")
