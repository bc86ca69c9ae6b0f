"""Posterior figures: credible intervals side by side (sweeps, joint probes, error models), 1-D marginals and 2-D
credible contours of a grid posterior, and the posterior of the kernel's parameters given an intrinsic scatter.

The reports' JSON carries each axis's mean and 68/95 % credible intervals (and, for a σ_int axis, σ_int's marginal
with the kernel parameters' mean and sd given each σ_int); a result cube carries the whole grid posterior
(:class:`~sigcube.interfaces.plots.data.PosteriorGrid`), from which the contours are drawn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import holoviews as hv
import numpy as np

from sigcube.interfaces.plots.base import COLORS, Plot, PlotError, framed, labelled, layout, own, styled
from sigcube.interfaces.plots.data import PosteriorGrid, credible_levels
from sigcube.interfaces.plots.fields import FRACTION, NONNEGATIVE, Field
from sigcube.interfaces.plots.labels import Label, axis_label, parameter_label, symbol, ticks_for
from sigcube.interfaces.plots.registry import figure
from sigcube.stats.posterior import cell_edges

LOG_SPAN = 10
"""Intervals of positive values spanning more than this ratio are drawn on a log axis."""
LEVEL_STYLE = {0.68: {"width": 2.5, "dash": "solid"}, 0.95: {"width": 1.5, "dash": "dashed"}}
"""How each credible level's contour is drawn."""


def _axis_label(name: str, units: str | None) -> Label:
    return axis_label(name, {"units": units}, text=None) if units else symbol(name)


def intervals(posteriors: Mapping[str, Field], title: str = "", axes: Sequence[str] | None = None) -> Plot:
    """Credible intervals of several posteriors side by side, one panel per parameter: each posterior's 95 %
    interval (thin), 68 % interval (thick) and mean (dot).

    ``posteriors``: a label (a probe, an error model, a report) → the field of a report holding, by parameter,
    ``{"mean", "ci68", "ci95"}`` and optionally ``"units"`` (the ``posterior.axes`` of ``sigcube report sweep
    --json``)."""
    if not posteriors:
        raise PlotError("credible intervals: no posterior given")
    names = list(axes) if axes is not None else list(dict.fromkeys(a for p in posteriors.values() for a in p.keys()))
    if not names:
        raise PlotError("credible intervals: the posteriors have no parameter")
    labels = list(posteriors)
    panels = []
    for name in names:
        layers, ends = [], []
        units = None
        for i, label in enumerate(labels):
            s = posteriors[label].get(name)
            if s is None:
                continue
            mean = s["mean"].number()
            lo95, hi95 = s["ci95"].interval()
            lo68, hi68 = s["ci68"].interval(inside=(lo95, hi95))
            units = units or (s["units"].text() if s.get("units") else None)
            ends += [lo95, hi95, mean]
            color = COLORS[i % len(COLORS)]
            y = len(labels) - 1 - i
            dims = [name, "row", f"{name}_end", "row_end"]  # the parameter's own name: panels keep their own ranges
            layers += [styled(hv.Segments([(lo95, y, hi95, y)], dims), color=color, width=2),
                       styled(hv.Segments([(lo68, y, hi68, y)], dims), color=color, width=7, alpha=0.8),
                       styled(hv.Scatter([(mean, y)], name, "row", label=label), color="black", size=7, marker="o")]
        if not layers:
            continue
        ticks = [(len(labels) - 1 - i, label) for i, label in enumerate(labels) if posteriors[label].get(name)]
        log = bool(min(ends) > 0 and max(ends) / min(ends) > LOG_SPAN)
        panels.append(framed(hv.Overlay(layers), title=f"{symbol(name).unicode}: 68 % (thick) and 95 % (thin)",
                             xlabel=_axis_label(name, units), ylabel=Label("", ""), yticks=ticks, logx=log,
                             xticks=ticks_for(ends, log),
                             width=460, height=90 + 45 * len(labels), legend=None, ylim=(-0.7, len(labels) - 0.3)))
    if not panels:
        raise PlotError(f"credible intervals: no posterior has {', '.join(names)}")
    what = ", ".join(symbol(n).unicode for n in names)
    return Plot(layout(panels, cols=min(3, len(panels)), title=title),
                f"Posterior means with 68 % and 95 % credible intervals of {what} for {', '.join(labels)}")


@figure("sweep-intervals", source="report", reads="sigcube report sweep --json of one or more nuisance sweeps")
def sweep_intervals(reports: Mapping[str, Any] | Any, title: str = "") -> Plot:
    """:func:`intervals` of nuisance sweeps' posteriors (``{label: report}``, or one report)."""
    reports = {label or "posterior": r for label, r in labelled(reports, ("posterior",), "sweep intervals").items()}
    return intervals({label: Field.report(r, f"sweep intervals ({label})")["posterior"]["axes"].mapping(nonempty=True)
                      for label, r in reports.items()}, title)


@figure("joint-intervals", source="report", reads="sigcube report joint --json")
def joint_intervals(report: Any, title: str = "") -> Plot:
    """:func:`intervals` of a joint sweep: each dataset's own posterior and the joint one, parameter by parameter."""
    posts = Field.report(report, "joint intervals")["posterior"]
    return intervals({label: p["axes"].mapping(nonempty=True) for label, p in posts.items(nonempty=True)}, title)


@figure("scatter-posterior", source="report",
        reads="sigcube report sweep --json of nuisance sweeps with a σ_int axis (one or more, compared)")
def scatter_posterior(reports: Mapping[str, Any] | Any, title: str = "") -> Plot:
    """The posterior over an intrinsic-scatter axis: σ_int's marginal of each sweep (overlaid: one error model,
    several kernels), then each kernel parameter's posterior mean given σ_int with ±1 sd and ±2 sd bands."""
    reports = {label or "posterior": r for label, r in labelled(reports, ("posterior",), "scatter posterior").items()}
    marginal, panels, units = [], [], set()
    for i, (label, r) in enumerate(reports.items()):
        scatter = Field.report(r, f"scatter posterior ({label})")["posterior"]["scatter"]
        rows = scatter["rows"].elements(nonempty=True)
        x = np.array([row["value"].number(NONNEGATIVE) for row in rows])
        if np.any(np.diff(x) <= 0):
            raise scatter["rows"].refuse("is not in increasing order of σ_int")
        mass = np.array([row["mass"].number(FRACTION) for row in rows])
        scatter["rows"].agrees(float(mass.sum()), 1.0, "a posterior's total", held="have masses summing to")
        units_of = scatter["units"].text() if scatter.get("units") else None
        units.add(units_of)
        color = COLORS[i % len(COLORS)]
        density = mass / np.diff(cell_edges(x)) if len(x) > 1 else mass
        marginal.append(styled(hv.Curve((x, density), "sigma_int", "density", label=label), color=color, width=2.5))
        marginal.append(styled(hv.Scatter((x, density), "sigma_int", "density"), color=color, size=4))
        parameters = scatter["kernel_parameters"].elements() if scatter.get("kernel_parameters") else []
        axes = Field.report(r, f"scatter posterior ({label})")["posterior"].get("axes")
        for name in [p.text() for p in parameters]:
            axis = axes.get(name) if axes is not None else None
            unit = axis["units"].text() if axis is not None and axis.get("units") else None
            mean = np.array([row["given"][name]["mean"].number() for row in rows])
            sd = np.array([row["given"][name]["sd"].number(NONNEGATIVE) for row in rows])
            keep = mass >= 1e-4 * np.nanmax(mass)
            layers = [styled(hv.Spread((x[keep], mean[keep], 2 * sd[keep]), "sigma_int", [name, "two_sd"],
                                       label="±2 sd"), fill=color, alpha=0.15),
                      styled(hv.Spread((x[keep], mean[keep], sd[keep]), "sigma_int", [name, "sd"], label="±1 sd"),
                             fill=color, alpha=0.35),
                      styled(hv.Curve((x[keep], mean[keep]), "sigma_int", name, label="posterior mean"),
                             color=color, width=2)]
            panels.append(framed(hv.Overlay(layers), title=f"{label}: {symbol(name).unicode} given σ_int",
                                 xlabel=_axis_label("sigma_int", units_of),
                                 ylabel=_axis_label(name, unit) + " (posterior given σ_int)", width=460,
                                 height=320,
                                 legend="top_right"))
    unit = next(iter(units)) if len(units) == 1 else None
    per = f" [1/{unit}]" if unit else ""
    head = framed(hv.Overlay(marginal), title="σ_int: marginal posterior density",
                  xlabel=_axis_label("sigma_int", unit), ylabel=Label(f"posterior density{per}",
                                                                      f"posterior density{per}"),
                  width=460, height=320, legend="top_right")
    return Plot(layout([head, *panels], cols=2, title=title),
                f"Intrinsic scatter σ_int: its marginal posterior density (mass per grid cell over the cell's width) for {', '.join(reports)}, and each kernel "
                "parameter's posterior mean with ±1 sd and ±2 sd bands given σ_int (only σ_int values holding "
                "at least 1e-4 of the largest mass)")


# --- the whole grid posterior (from a cube) ------------------------------------------------------------------------


def hpd_contours(x: np.ndarray, y: np.ndarray, mass: np.ndarray, level: float) -> list[np.ndarray]:
    """The boundary of the highest-mass region of a 2-D grid posterior holding ``level`` of the mass, as paths
    of (x, y) vertices (``mass`` shaped (len x, len y), traced on the grid points); none when an axis has one
    value."""
    import contourpy

    if min(np.shape(mass)) < 2:
        return []
    threshold = credible_levels(mass, [level])[0]
    generator = contourpy.contour_generator(np.asarray(x, float), np.asarray(y, float), np.asarray(mass, float).T)
    return [np.asarray(line) for line in generator.lines(threshold) if len(line) > 1]


def contour_panel(grids: Mapping[str, PosteriorGrid], x: str, y: str, levels: Sequence[float] = (0.68, 0.95)
                  ) -> hv.Overlay:
    """The 68/95 % credible contours of each grid's 2-D marginal over ``x`` × ``y``, overlaid (one colour per
    grid, the mode marked)."""
    layers = []
    first = next(iter(grids.values()))
    xs, ys = [], []
    for i, (label, g) in enumerate(grids.items()):
        color = COLORS[i % len(COLORS)]
        mass = g.pair(x, y)
        for level in levels:
            for path in hpd_contours(g.axes[x], g.axes[y], mass, level):
                layers.append(styled(hv.Path([path], [x, y]), color=color, **LEVEL_STYLE.get(level, {"width": 1})))
                xs.append(path[:, 0]), ys.append(path[:, 1])
        j, k = np.unravel_index(int(np.argmax(mass)), mass.shape)
        layers.append(styled(hv.Scatter([(g.axes[x][j], g.axes[y][k])], x, y, label=label), color=color, size=9,
                             marker="x", width=2))
        xs.append(g.axes[x][j:j + 1]), ys.append(g.axes[y][k:k + 1])
    shown_x, shown_y = np.concatenate(xs), np.concatenate(ys)
    return framed(hv.Overlay(layers), title=f"{symbol(x).unicode} × {symbol(y).unicode}: credible regions",
                  xlabel=parameter_label(x, first.attrs.get(x)), ylabel=parameter_label(y, first.attrs.get(y)),
                  logx=x in first.log, logy=y in first.log, xticks=ticks_for(shown_x, x in first.log, 3) or 4,
                  yticks=ticks_for(shown_y, y in first.log, 3) or 4, width=460, height=380,
                  legend="best" if len(grids) > 1 else None, xrotation=30)


def marginal_panel(grids: Mapping[str, PosteriorGrid], name: str) -> hv.Overlay:
    """Each grid's 1-D marginal of ``name`` (mass per grid point), with its 68 % interval shaded."""
    layers = []
    first = next(iter(grids.values()))
    for i, (label, g) in enumerate(grids.items()):
        color = COLORS[i % len(COLORS)]
        m = g.marginal(name)
        lo, hi = m.interval(0.68)
        layers += [styled(hv.VSpan(lo, hi, kdims=[name, f"mass_{name}"]), color=color, alpha=0.15),
                   styled(hv.Curve((m.values, m.mass), name, f"mass_{name}", label=label), color=color, width=2.5)]
    return framed(hv.Overlay(layers), title=f"{symbol(name).unicode}: marginal posterior (68 % shaded)",
                  xlabel=parameter_label(name, first.attrs.get(name)), ylabel=Label("mass per grid point",
                                                                               "mass per grid point"),
                  logx=name in first.log, xticks=ticks_for(first.axes[name], name in first.log, 3) or 4, width=460,
                  height=300, legend="best" if len(grids) > 1 else None)


@figure("posterior-corner", source="cube", reads="a nuisance sweep's or a joint sweep's result cube")
def corner(grids: Mapping[str, PosteriorGrid] | PosteriorGrid, max_pairs: int = 3, title: str = "") -> Plot:
    """1-D marginals of every axis and 68/95 % credible contours of up to ``max_pairs`` axis pairs, the grids
    overlaid (e.g. SPARC, CLASH and their joint posterior).

    ``max_pairs``: the most pairs of axes given credible contours."""
    if isinstance(grids, PosteriorGrid):
        grids = {"posterior": grids}
    if not grids:
        raise PlotError("posterior corner: no posterior given")
    first = next(iter(grids.values()))
    names = [n for n in first.axes if len(first.axes[n]) > 1]
    fixed = [n for n in first.axes if len(first.axes[n]) == 1]
    for label, g in grids.items():
        if list(g.axes) != list(first.axes):
            raise PlotError(f"posterior corner: {label} has axes {', '.join(g.axes)}, not {', '.join(first.axes)}")
    if not names:
        raise PlotError("posterior corner: every axis has a single value; nothing to draw")
    pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1:]][:max_pairs]
    panels = [marginal_panel(grids, n) for n in names] + [contour_panel(grids, a, b) for a, b in pairs]
    what = (f"Marginal posteriors of {', '.join(symbol(n).unicode for n in names)}"
            + (f" and 68 % (solid) and 95 % (dashed) credible contours of "
               f"{', '.join(f'{symbol(a).unicode} × {symbol(b).unicode}' for a, b in pairs)}" if pairs else "")
            + f" for {', '.join(grids)}"
            + (f" ({', '.join(f'{symbol(n).unicode} = {first.axes[n][0]:.4g}' for n in fixed)}: one value)"
               if fixed else ""))
    return Plot(layout(panels, cols=2, title=title), what)


@figure("galaxy-corner", "cube", "a model's per-galaxy posterior draws, MODEL.zarr of report compare --draws")
def galaxy_corner(draws: Any, galaxy: str = "", parameters: Sequence[str] = (), bins: int = 30) -> Plot:
    """One galaxy's joint posterior from the sampler's draws: each parameter's histogram on the diagonal, each pair's
    draws below it (the model's own parameters, then Υ, D, i or the velocity scale u).

    ``galaxy``: which galaxy (default: the first); ``parameters``: which, in order (default: every one the galaxy
    has); ``bins``: the histograms' bins."""
    from sigcube.interfaces.plots.labels import nuisance_symbol
    from sigcube.stats.export import DRAWS_MARK

    attrs = getattr(draws, "attrs", None)
    if not isinstance(attrs, Mapping) or attrs.get("created_by") != DRAWS_MARK:
        raise PlotError("galaxy-corner reads a model's per-galaxy posterior draws (MODEL.zarr written by report compare "
                        "--draws); this is not one")
    post = draws["posterior"].to_dataset()
    names = [str(g) for g in post["galaxy"].values]
    chosen = galaxy or names[0]
    if chosen not in names:
        raise PlotError(f"galaxy-corner: no galaxy {chosen!r} among the draws' {len(names)} (e.g. {', '.join(names[:5])})")
    one = post.sel(galaxy=chosen)
    values = {str(k): np.asarray(v.values, dtype=float).ravel() for k, v in one.data_vars.items()}
    values = {k: v for k, v in values.items() if np.isfinite(v).all()}
    unknown = [p for p in parameters if p not in values]
    if unknown:
        raise PlotError(f"galaxy-corner: {chosen} has no draws of {', '.join(unknown)} (it has {', '.join(values)})")
    shown = list(parameters) or list(values)
    if bins < 2:
        raise PlotError(f"galaxy-corner: bins must be ≥ 2, not {bins}")
    labels = {p: nuisance_symbol(p) for p in shown}
    panels: list[hv.core.Dimensioned] = []
    size = max(160, 560 // len(shown))
    for i, py in enumerate(shown):
        for j, px in enumerate(shown):
            if j > i:
                panels.append(hv.Empty())
                continue
            if i == j:
                density, edges = np.histogram(values[px], bins=bins, density=True)
                view = styled(hv.Histogram((edges, density), kdims=[px], vdims=[own("density", px)]), color=COLORS[0], alpha=0.6)
                ylabel = Label("density", "density")
            else:
                view = styled(hv.Points((values[px], values[py]), [px, py]), color=COLORS[0], alpha=0.15, size=2)
                ylabel = labels[py]
            panels.append(framed(view, xlabel=labels[px], ylabel=ylabel, width=size, height=size, legend=None))
    n = next(iter(values.values())).size
    return Plot(layout(panels, cols=len(shown), title=f"{draws.attrs.get('model', '')}: {chosen}'s posterior, "
                                                         f"{n} draws"),
                f"Corner plot of {chosen}'s posterior under {draws.attrs.get('model', 'the model')}: {n} draws of "
                f"{', '.join(labels[p].unicode for p in shown)}.")
