"""The radial acceleration relation: g_obs against g_bar with the data's and each model's binned medians and a residual
panel, of a dataset cube's preset kernels or of a comparison report's fitted models."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from typing import Any

import holoviews as hv
import numpy as np
import xarray as xr

from sigcube.interfaces.plots.base import COLORS, GREY, Plot, PlotError, framed, layout, numbers, styled
from sigcube.interfaces.plots.fits import fitted_predictions
from sigcube.interfaces.plots.galaxies import DEFAULT_KERNELS, Predictions, predictions
from sigcube.interfaces.plots.labels import Label, axis_label
from sigcube.interfaces.plots.registry import figure
from sigcube.model.kernels.presets import DEFAULT_PRESET

RAR_BINS = 24
"""Bins of log g_bar for the binned medians of the RAR."""
MAX_POINTS = 20_000
"""RAR points drawn at most (beyond: datashaded when datashader is installed, else a random subsample)."""
ACCEL = {"units": "m / s2"}
G_BAR = axis_label("g_bar", ACCEL, text="baryonic acceleration g_bar")
G_OBS = axis_label("g_obs", ACCEL, text="observed acceleration g_obs")


def datashader_available() -> bool:
    """Whether datashader is installed (it is optional: the RAR subsamples without it)."""
    return importlib.util.find_spec("datashader") is not None


def rar_note(n: int, max_points: int) -> str:
    """What the RAR draws of ``n`` points."""
    if n <= max_points:
        return f"all {n} points"
    if datashader_available():
        return f"{n} points, datashaded (points per log-spaced cell)"
    return f"random {max_points} of {n} points (datashader not installed)"


def _density(x: np.ndarray, y: np.ndarray, cells: int = 300) -> hv.QuadMesh:
    """Points per cell of a log-log grid, aggregated by datashader (drawn right on log axes)."""
    import datashader
    import pandas as pd

    canvas = datashader.Canvas(plot_width=cells, plot_height=cells, x_axis_type="log", y_axis_type="log")
    agg = canvas.points(pd.DataFrame({"g_bar": x, "g_obs": y}), "g_bar", "g_obs")
    mesh = hv.QuadMesh(agg.where(agg > 0), ["g_bar", "g_obs"], [hv.Dimension("count", label="points per cell")])
    return mesh.opts(backend="bokeh", cmap="Greys", cnorm="log", colorbar=True).opts(
        backend="matplotlib", cmap="Greys", logz=True, colorbar=True)


def binned(x: np.ndarray, y: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per bin of ``x`` (``edges``): the geometric centre and the 16th, 50th and 84th percentiles of ``y``; empty
    bins left out."""
    which = np.clip(np.digitize(x, edges) - 1, 0, len(edges) - 2)
    centres, lo, mid, hi = [], [], [], []
    for b in range(len(edges) - 1):
        sel = y[which == b]
        if sel.size:
            centres.append(np.sqrt(edges[b] * edges[b + 1]))
            p16, p50, p84 = np.percentile(sel, [16, 50, 84])
            lo.append(p16), mid.append(p50), hi.append(p84)
    return np.array(centres), np.array(lo), np.array(mid), np.array(hi)


@figure("rar", source="report", cube_alone=True,
        reads="sigcube report compare --json with the dataset cube it was made from (--cube): the fitted models; or "
              "a dataset cube of rotation curves alone (e.g. cubes/sparc.zarr): the preset kernels")
def rar(data: Any, cube: xr.Dataset | None = None, kernels: Sequence[str] = DEFAULT_KERNELS,
        preset: str = DEFAULT_PRESET, run: str = "nuisance", models: Sequence[str] = (), max_points: int = MAX_POINTS,
        seed: int = 0, residuals: bool = True, title: str = "") -> Plot:
    """The radial acceleration relation: g_obs against g_bar (every point up to ``max_points``), the data's median
    in bins of g_bar, each model's median g_pred in the same bins and g_obs = g_bar; below, each model's residual
    log10(g_obs/g_pred) (the first model's every point, each model's binned median and 16–84 % band). Of a comparison
    report, its fitted models at their best points (a per-galaxy model at each galaxy's best grid point), on the
    dataset cube it was made from (its content hash checked); of a cube alone, the kernels at their defaults and the
    preset's parameters. Accelerations at the catalogue's Υ, D and i.

    ``kernels``: the kernels drawn of a cube alone; ``preset``: the parameters of the preset's kernel (paper, …);
    ``run``: the report's run whose fit is drawn (nuisance, with Υ, D, i marginalised, or catalogue); ``models``: the
    report's models drawn, all by default; ``max_points``: the most points drawn one by one (beyond: datashaded, or
    a random subsample of this many without datashader); ``seed``: that subsample's seed; ``residuals``: the
    residual panel below (true or false)."""
    if isinstance(data, Predictions):
        pred, fitted = data, ""
    elif isinstance(data, xr.Dataset):
        pred, fitted = predictions(data, kernels, preset), ""
    else:
        if cube is None:
            raise PlotError("RAR of a comparison report: give the dataset cube it was made from (--cube)")
        pred = fitted_predictions(data, cube, run, models)
        fitted = f"fitted models ({run} run) at their best points, "
    p = pred.points.inputs
    g_bar = numbers(p["g_N"], "RAR: g_bar", allow_nan=False)
    g_obs = numbers(p["g_obs"], "RAR: g_obs", allow_nan=False)
    if np.any(g_bar <= 0) or np.any(g_obs <= 0):
        raise PlotError("RAR: accelerations must be positive on log axes")
    n = len(g_bar)
    dims = ["g_bar", "g_obs"]
    if n <= max_points:
        shown = styled(hv.Scatter((g_bar, g_obs), *dims, label="data points"), color=GREY, alpha=0.3, size=3)
    elif datashader_available():
        shown = _density(g_bar, g_obs)
    else:
        keep = np.sort(np.random.default_rng(seed).choice(n, max_points, replace=False))
        shown = styled(hv.Scatter((g_bar[keep], g_obs[keep]), *dims, label="data points"), color=GREY, alpha=0.3,
                       size=3)
    lo, hi = float(min(g_bar.min(), g_obs.min())), float(max(g_bar.max(), g_obs.max()))
    edges = np.geomspace(g_bar.min(), g_bar.max() * (1 + 1e-12), RAR_BINS + 1)
    centre, d16, d50, d84 = binned(g_bar, np.log10(g_obs), edges)
    layers = [shown, styled(hv.Curve(([lo, hi], [lo, hi]), *dims, label="g_obs = g_bar"), color="black",
                            dash="dotted", width=1),
              styled(hv.ErrorBars((centre, 10 ** d50, 10 ** d50 - 10 ** d16, 10 ** d84 - 10 ** d50), "g_bar",
                                  ["g_obs", "below", "above"]), color="black", width=1.5),
              styled(hv.Scatter((centre, 10 ** d50), *dims, label="data: binned median (16–84 %)"), color="black",
                     size=7, marker="s")]
    for color, label in zip(COLORS, pred.v_pred):
        c, _, m, _ = binned(g_bar, np.log10(pred.g_pred(label)), edges)
        layers.append(styled(hv.Curve((c, 10 ** m), *dims, label=f"{label}: binned median"), color=color,
                             width=3))
    top = framed(hv.Overlay(layers), title=f"Radial acceleration relation{' of the fitted models' if fitted else ''}"
                                           f":\n{pred.points.n_galaxies} galaxies, {rar_note(n, max_points)}",
                 xlabel=G_BAR, ylabel=G_OBS, logx=True, logy=True, width=620, height=460, legend="right")
    panels = [top]
    if residuals:
        panels.append(rar_residuals(pred, g_bar, g_obs, edges))
    return Plot(layout(panels, cols=1, title=title),
                f"Radial acceleration relation of {pred.points.n_galaxies} galaxies ({n} points, at the catalogue's "
                f"Υ, D, i): observed against baryonic acceleration with the data's binned medians and the binned "
                f"median prediction of the {fitted}{', '.join(pred.v_pred)}"
                + (", and below each one's residual log10(g_obs/g_pred)" if residuals else ""))


def rar_residuals(pred: Predictions, g_bar: np.ndarray, g_obs: np.ndarray, edges: np.ndarray) -> hv.Overlay:
    """log10(g_obs/g_pred) against g_bar: the first kernel's every point (faint), each kernel's binned median and
    16–84 % band."""
    dims = ["g_bar", "residual"]
    layers = [styled(hv.HLine(0.0, kdims=dims), color="black", dash="dotted", width=1)]
    for i, (color, label) in enumerate(zip(COLORS, pred.v_pred)):
        y = np.log10(g_obs / pred.g_pred(label))
        if i == 0:
            layers.append(styled(hv.Scatter((g_bar, y), *dims), color=color, alpha=0.15, size=3))
        c, lo, m, hi = binned(g_bar, y, edges)
        layers += [styled(hv.Spread((c, m, m - lo, hi - m), "g_bar", ["residual", "below", "above"]), fill=color,
                          alpha=0.2),
                   styled(hv.Curve((c, m), *dims, label=f"{label}: median, 16–84 %"), color=color, width=2.5)]
    return framed(hv.Overlay(layers), xlabel=G_BAR,
                  ylabel=Label("log10(g_obs/g_pred) [dex]", r"$\log_{10}(g_{\rm obs}/g_{\rm pred})$ [dex]"),
                  logx=True, width=620, height=260, legend="top", ylim=(-1, 1))
