"""Population figures (``sigcube report population``): the forest of each object's own and shrunk estimate of the
parameter with the population's band, and the posterior of the population's mean μ and spread τ."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import holoviews as hv
import numpy as np

from sigcube.interfaces.plots.base import (
    COLORS, GREY, Plot, PlotError, framed, layout, need, numbers, plural, report_of, styled,
)
from sigcube.interfaces.plots.labels import Label, prose
from sigcube.interfaces.plots.posteriors import LEVEL_STYLE, hpd_contours
from sigcube.interfaces.plots.registry import figure

READS = "sigcube report population --json"


def _unit(report: Mapping[str, Any]) -> Label:
    return prose(str(report.get("unit") or report.get("parameter") or "θ"))


@figure("population-forest", source="report", reads=READS)
def forest(report: Any, title: str = "") -> Plot:
    """Every object's own estimate of the parameter (mean ± sd, grey) and its estimate shrunk towards the population
    (colour), sorted by the own estimate, over the population's band: μ ± τ (posterior means, τ > 0 model) shaded,
    μ's 95 % interval darker, and the single value of the τ = 0 model (dashed)."""
    report = report_of(report)
    table = need(report, "objects_table", what="population forest")
    group = next((k for k in table if k not in ("own_mean", "own_sd", "shrunk_mean", "shrunk_sd")), None)
    if group is None:
        raise PlotError("population forest: the objects table names no objects")
    names = list(table[group])
    what = "population forest"
    own, own_sd = (numbers(need(table, k, what=what), f"{what}: {k}") for k in ("own_mean", "own_sd"))
    shrunk, shrunk_sd = (numbers(need(table, k, what=what), f"{what}: {k}") for k in ("shrunk_mean", "shrunk_sd"))
    if not len(names) == len(own) == len(own_sd) == len(shrunk) == len(shrunk_sd):
        raise PlotError(f"{what}: the objects table's columns differ in length")
    mu = numbers([need(report, "mu", "mean", what=what)], what)[0]
    mu95 = numbers(need(report, "mu", "ci95", what=what), what, allow_nan=False)
    tau = numbers([need(report, "tau", "mean", what=what)], what)[0]
    universal = report.get("mu_universal", {}).get("mean")
    order = np.argsort(np.where(np.isfinite(own), own, np.inf), kind="stable")
    y = np.empty(len(order))
    y[order] = np.arange(len(order))
    u = _unit(report)
    dims = ["u", "rank"]
    layers = [styled(hv.VSpan(mu - tau, mu + tau, kdims=dims, label="μ ± τ"), color=COLORS[1], alpha=0.12),
              styled(hv.VSpan(*mu95, kdims=dims, label="μ 95 %"), color=COLORS[1], alpha=0.35),
              styled(hv.ErrorBars((own, y, own_sd), dims[0], [dims[1], "own_sd"], horizontal=True), color=GREY,
                     width=1, alpha=0.6),
              styled(hv.Scatter((own, y), dims[0], dims[1], label="own estimate"), color=GREY, size=4),
              styled(hv.ErrorBars((shrunk, y + 0.3, shrunk_sd), dims[0], [dims[1], "shrunk_sd"], horizontal=True),
                     color=COLORS[0], width=1, alpha=0.7),
              styled(hv.Scatter((shrunk, y + 0.3), dims[0], dims[1], label="shrunk towards the population"),
                     color=COLORS[0], size=4)]
    if universal is not None and np.isfinite(universal):
        layers.append(styled(hv.VLine(float(universal), kdims=dims, label="τ = 0: one value"), color="black", dash="dashed",
                             width=1.5))
    objects = f"{len(names)} {group if len(names) == 1 else plural(group)}"
    view = framed(hv.Overlay(layers), title=title or f"{u.unicode} per {group}: own and shrunk estimates",
                  xlabel=u, ylabel=Label(f"{objects}, sorted by own estimate", f"{objects}, sorted by own estimate"),
                  width=620, height=max(420, min(820, 4 * len(names) + 160)), legend="bottom_right", yticks=0)
    return Plot(view, f"Forest plot of {u.unicode} for {objects}: each one's own estimate and its estimate shrunk "
                      "towards the population (mean ± sd), over the population band μ ± τ and μ's 95 % interval")


@figure("population-hyper", source="report", reads=READS)
def hyper(report: Any, grid: Mapping[str, Any] | None = None, title: str = "") -> Plot:
    """The posterior of the population's mean μ and spread τ: each one's 68 % and 95 % credible interval (the
    τ > 0 model; boxes, not a joint contour) and μ of the τ = 0 model on τ = 0; with ``grid`` (``mu``, ``tau`` and
    the 2-D ``mass``, from the population itself) its 68/95 % credible contours too.

    ``grid``: the population's own (μ, τ) grid posterior (``mu``, ``tau`` and ``mass``), for its contours."""
    report = report_of(report)
    what = "population (μ, τ) posterior"
    mu68, mu95 = (numbers(need(report, "mu", k, what=what), what, allow_nan=False) for k in ("ci68", "ci95"))
    tau68, tau95 = (numbers(need(report, "tau", k, what=what), what, allow_nan=False) for k in ("ci68", "ci95"))
    mu = float(need(report, "mu", "mean", what=what))
    tau = float(need(report, "tau", "mean", what=what))
    layers = [styled(hv.Rectangles([(mu95[0], tau95[0], mu95[1], tau95[1])], label="95 % intervals"),
                     color=COLORS[1], alpha=0.15),
              styled(hv.Rectangles([(mu68[0], tau68[0], mu68[1], tau68[1])], label="68 % intervals"),
                     color=COLORS[1], alpha=0.35),
              styled(hv.Scatter([(mu, tau)], "mu", "tau", label="posterior mean (τ > 0)"), color=COLORS[1], size=9)]
    universal = report.get("mu_universal")
    if universal:
        lo, hi = numbers(need(universal, "ci95", what=what), what, allow_nan=False)
        layers += [styled(hv.Segments([(lo, 0.0, hi, 0.0)], label="μ if τ = 0 (95 %)"), color="black", width=5),
                   styled(hv.Scatter([(float(universal["mean"]), 0.0)], "mu", "tau"), color="black", size=7)]
    if grid is not None:
        mass = np.asarray(need(grid, "mass", what=what), dtype=float)
        for level in (0.68, 0.95):
            for path in hpd_contours(np.asarray(grid["mu"]), np.asarray(grid["tau"]), mass, level):
                layers.append(styled(hv.Path([path], ["mu", "tau"]), color=COLORS[0], **LEVEL_STYLE[level]))
    u = _unit(report)
    ln_b = report.get("ln_bayes_factor")
    head = f"ln B(τ = 0 : τ > 0) = {ln_b:.2f}" if isinstance(ln_b, (int, float)) else "population posterior"
    view = framed(hv.Overlay(layers), title=title or head, xlabel=Label("μ: ", "$\\mu$: ") + u,
                  ylabel=Label("τ: ", "$\\tau$: ") + u, width=560, height=400, legend="right")
    return Plot(view, f"Posterior of the population mean μ and spread τ of {u.unicode}: 68 % and 95 % credible "
                      "intervals of each" + (" and their joint 68/95 % contours" if grid is not None else "")
                + ", and μ of the one-value (τ = 0) model")


def population_figures(report: Any, grid: Mapping[str, Any] | None = None) -> Plot:
    """The forest and the (μ, τ) posterior side by side."""
    a, b = forest(report), hyper(report, grid)
    return Plot(layout([a.view, b.view], cols=2), f"{a.alt}; {b.alt}")
