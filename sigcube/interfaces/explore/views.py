"""Views of the SPARC dataset cube: rotation curves with kernel predictions, and the RAR.

Every view returns a holoviews object for the bokeh backend; render it with
``hvplot.render(obj, backend="bokeh")``, show it in a notebook, or put it in a panel.
A view takes a SPARC cube (``xr.Dataset``) or the :class:`Predictions` made from one.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  (registers the bokeh backend and its options)
import numpy as np
import xarray as xr

from sigcube.interfaces.explore.bounds import Limits, spread
from sigcube.interfaces.explore.data import DEFAULT_KERNELS, Predictions, predictions
from sigcube.interfaces.explore.frames import frames
from sigcube.interfaces.explore.labels import NORM, dimension
from sigcube.model.kernels.presets import DEFAULT_PRESET

COLORS = ("#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
"""One colour per kernel, in the order the kernels are given."""
RAR_BINS = 24
ACCEL = {"units": "m / s2"}


def _data(data: xr.Dataset | Predictions, kernels: Sequence[str], preset: str) -> Predictions:
    return data if isinstance(data, Predictions) else predictions(data, kernels, preset)


def rotation_curve(data: xr.Dataset | Predictions, galaxy: str, kernels: Sequence[str] = DEFAULT_KERNELS,
                   preset: str = DEFAULT_PRESET) -> hv.Overlay:
    """V_obs with error bars, V_bar and each kernel's V_pred against radius, for one galaxy.

    >>> hvplot.render(rotation_curve(cube, "NGC3198"), backend="bokeh")   # doctest: +SKIP
    """
    pred = _data(data, kernels, preset)
    rows = pred.rows(galaxy)
    p = pred.points.inputs
    cube = pred.cube
    r = dimension("r", cube["r"].attrs)
    v = dimension("v", cube["v_obs"].attrs, label="circular velocity")
    err = dimension("e_v_obs", cube["e_v_obs"].attrs)
    gal = int(np.flatnonzero(pred.points.galaxy == galaxy)[0])
    layers = [
        hv.ErrorBars((p["r"][rows], p["v_obs"][rows], p["e_v_obs"][rows]), [r], [v, err]).opts(color="black", **NORM),
        hv.Scatter((p["r"][rows], p["v_obs"][rows]), r, v, label="V_obs").opts(color="black", size=5, **NORM),
        hv.Curve((p["r"][rows], p["v_bar"][rows]), r, v, label="V_bar").opts(color="gray", line_dash="dashed", **NORM),
    ]
    rms = []
    for color, (label, v_pred) in zip(COLORS, pred.v_pred.items()):
        layers.append(hv.Curve((p["r"][rows], v_pred[rows]), r, v, label=label).opts(color=color, line_width=2, **NORM))
        rms.append(f"{label} {pred.rms(label)[gal]:.1f}")
    title = f"{galaxy}: RMS " + ", ".join(rms) + " km/s" if rms else galaxy
    return hv.Overlay(layers).opts(title=title, legend_position="bottom_right", width=620, height=400,
                                   show_grid=True, **NORM)


def rotation_curve_gallery(data: xr.Dataset | Predictions, kernels: Sequence[str] = DEFAULT_KERNELS,
                           preset: str = DEFAULT_PRESET, galaxies: Sequence[str] | None = None,
                           max_galaxies: int = Limits.max_galaxies, dynamic: bool = False) -> hv.core.Dimensioned:
    """Rotation curves with a galaxy selector: at most ``max_galaxies`` galaxies, evenly
    spread through the sample when it is larger (``dynamic``: see :func:`~sigcube.interfaces.explore.frames.frames`).
    """
    pred = _data(data, kernels, preset)
    names = list(galaxies) if galaxies is not None else [str(g) for g in pred.points.galaxy]
    names = [names[i] for i in spread(len(names), max_galaxies)]
    return frames(lambda galaxy: rotation_curve(pred, galaxy), [hv.Dimension("galaxy")], [names], dynamic)


def datashader_available() -> bool:
    """Whether datashader is installed (it is optional: the RAR subsamples without it)."""
    return importlib.util.find_spec("datashader") is not None


def _density(x: np.ndarray, y: np.ndarray, dx: hv.Dimension, dy: hv.Dimension, cells: int = 300) -> hv.QuadMesh:
    """Points per cell of a log-log grid, aggregated by datashader (drawn right on log axes)."""
    import datashader
    import pandas as pd

    canvas = datashader.Canvas(plot_width=cells, plot_height=cells, x_axis_type="log", y_axis_type="log")
    agg = canvas.points(pd.DataFrame({dx.name: x, dy.name: y}), dx.name, dy.name)
    count = hv.Dimension("count", label="points per cell")
    return hv.QuadMesh(agg.where(agg > 0), [dx, dy], [count]).opts(cmap="Greys", cnorm="log", colorbar=True)


def rar_note(n: int, max_points: int) -> str:
    """What the RAR view draws of ``n`` points."""
    if n <= max_points:
        return f"all {n} points"
    if datashader_available():
        return f"{n} points, datashaded (points per log-spaced cell)"
    return f"random {max_points} of {n} points (datashader not installed)"


def rar(data: xr.Dataset | Predictions, kernels: Sequence[str] = DEFAULT_KERNELS, preset: str = DEFAULT_PRESET,
        max_points: int = Limits.max_points, seed: int = 0) -> hv.Overlay:
    """The radial acceleration relation g_obs against g_bar, with each kernel's median g_pred.

    Every point is drawn up to ``max_points``; beyond it the points are datashaded when
    datashader is installed, otherwise a random subsample of ``max_points`` is drawn (the
    title says which). The kernel curves are the median of log10 g_pred in bins of g_bar
    over all points, whatever is drawn.
    """
    pred = _data(data, kernels, preset)
    p = pred.points.inputs
    g_bar, g_obs = p["g_N"], p["g_obs"]
    gb = dimension("g_bar", ACCEL, label="baryonic acceleration g_bar")
    go = dimension("g_obs", ACCEL, label="observed acceleration g_obs")
    n = len(g_bar)
    scatter = hv.Scatter((g_bar, g_obs), gb, go, label="SPARC points")
    if n <= max_points:
        shown = scatter.opts(color="gray", alpha=0.35, size=3)
    elif datashader_available():
        shown = _density(g_bar, g_obs, gb, go)
    else:
        keep = np.sort(np.random.default_rng(seed).choice(n, max_points, replace=False))
        shown = hv.Scatter((g_bar[keep], g_obs[keep]), gb, go, label="SPARC points").opts(
            color="gray", alpha=0.35, size=3)
    lo, hi = float(min(g_bar.min(), g_obs.min())), float(max(g_bar.max(), g_obs.max()))
    layers = [shown, hv.Curve(([lo, hi], [lo, hi]), gb, go, label="g_obs = g_bar").opts(
        color="black", line_dash="dotted")]
    edges = np.linspace(np.log10(g_bar.min()), np.log10(g_bar.max()), RAR_BINS + 1)
    which = np.clip(np.digitize(np.log10(g_bar), edges) - 1, 0, RAR_BINS - 1)
    centres = 10 ** (0.5 * (edges[1:] + edges[:-1]))
    filled = np.bincount(which, minlength=RAR_BINS) > 0
    for color, label in zip(COLORS, pred.v_pred):
        log_g = np.log10(pred.g_pred(label))
        med = np.array([np.median(log_g[which == b]) if filled[b] else np.nan for b in range(RAR_BINS)])
        layers.append(hv.Curve((centres[filled], 10 ** med[filled]), gb, go, label=f"{label} (median)").opts(
            color=color, line_width=3))
    title = f"Radial acceleration relation: {pred.points.n_galaxies} galaxies, {rar_note(n, max_points)}"
    return hv.Overlay(layers).opts(logx=True, logy=True, title=title, legend_position="top_left",
                                   width=620, height=480, show_grid=True)
