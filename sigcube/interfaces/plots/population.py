"""Population figures (``sigcube report population``): the forest of each object's own and shrunk estimate of the
parameter with the population's band, and the posterior of the population's mean μ and spread τ."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import holoviews as hv
import numpy as np

from sigcube.interfaces.plots.base import COLORS, GREY, Plot, PlotError, framed, layout, plural, styled
from sigcube.interfaces.plots.fields import FINITE, NONNEGATIVE, Field
from sigcube.interfaces.plots.labels import Label, prose
from sigcube.interfaces.plots.posteriors import LEVEL_STYLE, hpd_contours
from sigcube.interfaces.plots.registry import figure

READS = "sigcube report population --json"


COLUMNS = ("own_mean", "own_sd", "shrunk_mean", "shrunk_sd")
"""The columns of a population report's objects table (its other column names the objects)."""


def _unit(report: Field) -> Label:
    """The parameter's label: the report's unit, else its parameter's name."""
    named = report.get("unit") or report.get("parameter")
    return prose(named.text() if named is not None else "θ")


def _estimate(report: Field, name: str) -> tuple[float, tuple[float, float], tuple[float, float]]:
    """A population parameter's posterior (``mu``, ``tau``, ``mu_universal``): its mean, 68 % and 95 % credible
    intervals (nested), checked; τ, a spread, is ≥ 0."""
    bound = NONNEGATIVE if name == "tau" else FINITE
    estimate = report[name]
    ci95 = estimate["ci95"].interval(bound)
    ci68 = estimate["ci68"].interval(bound, inside=ci95) if estimate.get("ci68") else ci95
    return estimate["mean"].number(bound), ci68, ci95


@figure("population-forest", source="report", reads=READS)
def forest(report: Any, title: str = "") -> Plot:
    """Every object's own estimate of the parameter (mean ± sd, grey) and its estimate shrunk towards the population
    (colour), sorted by the own estimate, over the population's band: μ ± τ (posterior means, τ > 0 model) shaded,
    μ's 95 % interval darker, and the single value of the τ = 0 model (dashed)."""
    what = "population forest"
    report = Field.report(report, what)
    table = report["objects_table"]
    group = next((k for k in table.keys() if k not in COLUMNS), None)
    if group is None:
        raise table.refuse("names no objects")
    names = table[group].names()
    own, shrunk = (table[k].numbers(size=len(names), missing=True) for k in ("own_mean", "shrunk_mean"))
    own_sd, shrunk_sd = (table[k].numbers(NONNEGATIVE, size=len(names), missing=True) for k in ("own_sd", "shrunk_sd"))
    mu, _, mu95 = _estimate(report, "mu")
    tau = _estimate(report, "tau")[0]
    universal = _estimate(report, "mu_universal")[0] if report.get("mu_universal") else None
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
    if universal is not None:
        layers.append(styled(hv.VLine(universal, kdims=dims, label="τ = 0: one value"), color="black", dash="dashed",
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
    what = "population (μ, τ) posterior"
    report = Field.report(report, what)
    mu, mu68, mu95 = _estimate(report, "mu")
    tau, tau68, tau95 = _estimate(report, "tau")
    layers = [styled(hv.Rectangles([(mu95[0], tau95[0], mu95[1], tau95[1])], label="95 % intervals"),
                     color=COLORS[1], alpha=0.15),
              styled(hv.Rectangles([(mu68[0], tau68[0], mu68[1], tau68[1])], label="68 % intervals"),
                     color=COLORS[1], alpha=0.35),
              styled(hv.Scatter([(mu, tau)], "mu", "tau", label="posterior mean (τ > 0)"), color=COLORS[1], size=9)]
    if report.get("mu_universal"):
        universal, _, (lo, hi) = _estimate(report, "mu_universal")
        layers += [styled(hv.Segments([(lo, 0.0, hi, 0.0)], label="μ if τ = 0 (95 %)"), color="black", width=5),
                   styled(hv.Scatter([(universal, 0.0)], "mu", "tau"), color="black", size=7)]
    if grid is not None:
        if "mass" not in grid:
            raise PlotError(f"{what}: the grid has no mass")
        mass = np.asarray(grid["mass"], dtype=float)
        for level in (0.68, 0.95):
            for path in hpd_contours(np.asarray(grid["mu"]), np.asarray(grid["tau"]), mass, level):
                layers.append(styled(hv.Path([path], ["mu", "tau"]), color=COLORS[0], **LEVEL_STYLE[level]))
    u = _unit(report)
    ln_b = report["ln_bayes_factor"].number() if report.get("ln_bayes_factor") else None
    head = f"ln B(τ = 0 : τ > 0) = {ln_b:.2f}" if ln_b is not None else "population posterior"
    view = framed(hv.Overlay(layers), title=title or head, xlabel=Label("μ: ", "$\\mu$: ") + u,
                  ylabel=Label("τ: ", "$\\tau$: ") + u, width=560, height=400, legend="right")
    return Plot(view, f"Posterior of the population mean μ and spread τ of {u.unicode}: 68 % and 95 % credible "
                      "intervals of each" + (" and their joint 68/95 % contours" if grid is not None else "")
                + ", and μ of the one-value (τ = 0) model")


def population_figures(report: Any, grid: Mapping[str, Any] | None = None) -> Plot:
    """The forest and the (μ, τ) posterior side by side."""
    a, b = forest(report), hyper(report, grid)
    return Plot(layout([a.view, b.view], cols=2), f"{a.alt}; {b.alt}")
