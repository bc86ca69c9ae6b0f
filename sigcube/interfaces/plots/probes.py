"""Figures of the probes beyond SPARC: the joint sweep's tension under each cluster systematic and model choice
(``sigcube report joint``), the tension against each systematic's size (its scans), the Milky Way's rotation curve
with Σ and MOND at their V_bar-scale posterior and the dwarfs' σ_pred/σ_obs by class (``sigcube report regression``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import holoviews as hv
import numpy as np

from sigcube.interfaces.plots.base import COLORS, GREY, Plot, PlotError, framed, layout, own, styled
from sigcube.interfaces.plots.fields import NONNEGATIVE, POSITIVE, Field
from sigcube.interfaces.plots.labels import Label, choices_words, dataset_words, parameter_label, symbol
from sigcube.interfaces.plots.registry import figure

LEVELS = (2.0, 3.0)
"""The tension levels drawn as guides [σ]: the verdicts' moderate and strong thresholds."""
KIND_COLORS = {"data": COLORS[1], "model": COLORS[0]}
"""Rows of data systematics and of model choices, each a colour."""
KIND_WORDS = {"reference": "the reference", "data": "data systematics", "model": "model choices"}
"""What each kind of row of a joint sweep's choices table is, in the legend."""


def _kernel_colors(kernels: Sequence[str]) -> dict[str, str]:
    """A colour for each kernel a regression row compares, in the row's order."""
    return {k: COLORS[i % len(COLORS)] for i, k in enumerate(kernels)}


SIZE_LABELS = {"gas_dex": Label("σ_G [dex]", r"$\sigma_G$ [dex]"),
               "missing_baryons": Label("f_max (M_bar → M_bar·(1 + f), f ≤ f_max)",
                                        r"$f_{max}$ ($M_{bar}$ → $M_{bar}$(1 + f), f ≤ $f_{max}$)"),
               "path_scatter_dex": Label("σ_L [dex]", r"$\sigma_L$ [dex]")}
"""Axis labels of the scanned size options (any other option is labelled by its name)."""


def _label(text: str) -> Label:
    return Label(text, text)


def _tension(t: Field) -> tuple[float, float, float]:
    """σ (S) of a tension entry and the ends of its numerical range, which holds it (NaN when the tension is
    undefined)."""
    if t.mapping().get("n_sigma") is None:
        return np.nan, np.nan, np.nan
    value = t["n_sigma"].number(NONNEGATIVE)
    numerical = t.get("numerical")
    if numerical is None or numerical.get("sigma_range") is None:
        return value, value, value
    lo, hi = numerical["sigma_range"].interval(NONNEGATIVE)
    if not lo <= value <= hi:
        raise numerical["sigma_range"].refuse(f"is [{lo:g}, {hi:g}], which does not hold n_sigma = {value:g}: the "
                                              "report contradicts itself")
    return value, lo, hi


def _posterior(axis: Field) -> tuple[float, float]:
    """A posterior's mean and sd (``posterior.axes.<name>`` of a joint report)."""
    return axis["mean"].number(), axis["sd"].number(NONNEGATIVE)


def _guides(x: str, y: str, vertical: bool) -> list[hv.Element]:
    line = hv.VLine if vertical else hv.HLine
    return [styled(line(level, kdims=[x, y]), color="black", dash="dotted", width=1) for level in LEVELS]


@figure("joint-systematics", source="report", reads="sigcube report joint --json of a joint sweep with variants")
def joint_systematics(report: Any, title: str = "") -> Plot:
    """The choices table of a joint sweep drawn: for each row (a dataset under one likelihood choice) its posterior
    mean ± sd of the shared parameter beside the other dataset's (a grey band), and the tension σ (S) with its
    numerical range; data systematics and model choices each a colour, 2σ and 3σ dotted."""
    report = Field.report(report, "joint systematics")
    groups = report["choices"].elements()
    if not groups:
        raise PlotError("joint systematics: the report has no variants (no choices table)")
    rows: list[tuple[str, str, Field]] = []
    seen: set[str] = set()
    for group in groups:
        for row in group["rows"].elements(nonempty=True):
            probe = row["probe"].text()
            if probe in seen:
                continue  # the reference row heads every group: drawn once
            seen.add(probe)
            rows.append((probe, group["kind"].text() if group.get("kind") and rows else "data" if rows
                         else "reference", row))
    first = groups[0]
    dataset, against = first["dataset"].text(), first["against"].text()
    parameter = rows[0][2]["posterior"].keys(nonempty=True)[0]
    other_mean, other_sd = _posterior(report["posterior"][against]["axes"][parameter])
    data_options = frozenset(k for group in groups if group.get("kind") and group["kind"].text() == "data"
                             for row in group["rows"].elements() if len(row["changed"].keys()) <= 2
                             for k in row["changed"].keys() if not k.endswith("_scope"))
    names = [choices_words(row["changed"].mapping().value, data_options) for _, _, row in rows]
    ticks = list(enumerate(names))
    p, y = own(parameter, "rows"), own("row", "systematics")
    s, y2 = own("sigma_S", "rows"), own("row", "tension")
    left = [styled(hv.VSpan(other_mean - other_sd, other_mean + other_sd), fill=GREY, alpha=0.3)]
    right = _guides(s, y2, vertical=True)
    by_kind: dict[str, list[tuple[int, float, float, float, float, float]]] = {}
    for i, (name, kind, row) in enumerate(rows):
        by_kind.setdefault(kind, []).append((i, *_posterior(row["posterior"][parameter]), *_tension(row["tension"])))
    for kind, items in by_kind.items():  # one element per kind: an element per row is slow to draw
        color = KIND_COLORS.get(kind, "black")
        left += [styled(hv.ErrorBars([(mean, i, sd) for i, mean, sd, *_ in items], p, [y, "sd"], horizontal=True),
                        color=color, width=2),
                 styled(hv.Scatter([(mean, i) for i, mean, *_ in items], p, y), color=color, size=7)]
        tensions = [(value, i, value - lo, hi - value) for i, _, _, value, lo, hi in items if np.isfinite(value)]
        if tensions:
            right += [styled(hv.ErrorBars(tensions, s, [y2, "lo", "hi"], horizontal=True), color=color, width=2),
                      styled(hv.Scatter([(value, i) for value, i, *_ in tensions], s, y2, label=KIND_WORDS[kind]
                                        if kind in KIND_WORDS else kind), color=color, size=7)]
    height = 120 + 22 * len(rows)
    shown, other = dataset_words(dataset), dataset_words(against)
    sym = symbol(parameter)
    panels = [framed(hv.Overlay(left), title=Label(f"{shown}: {sym.unicode} under each choice\n(grey: {other} ±1 sd)",
                                                   f"{shown}: {sym.tex} under each choice\n(grey: {other} ±1 sd)"),
                     xlabel=parameter_label(parameter) + " (posterior mean ± sd)", ylabel=Label("", ""),
                     yticks=ticks, width=520, height=height, legend=None, ylim=(len(rows) - 0.4, -0.6)),
              framed(hv.Overlay(right), title=f"tension with {other}",
                     xlabel=Label("tension σ (S) [σ], with its numerical range",
                                  "tension $\\sigma$ (S) [$\\sigma$], with its numerical range"),
                     ylabel=Label("", ""), yticks=[(i, "") for i in range(len(rows))], width=420, height=height,
                     legend="right", ylim=(len(rows) - 0.4, -0.6))]
    return Plot(layout(panels, cols=2, title=title),
                f"{shown} under each of {len(rows)} likelihood choices against {other}: the "
                f"posterior of {sym.unicode} beside {other}'s, and the suspiciousness tension in σ with its "
                "numerical range, data systematics in blue and model choices in red, 2σ and 3σ dotted")


@figure("joint-scans", source="report", reads="sigcube report joint --json of a joint sweep with scans")
def joint_scans(report: Any, title: str = "") -> Plot:
    """The tension against each systematic's size: one panel per scanned option, σ (S) with its numerical range at
    each size (one curve per scan of that option), the option's cited size dashed, 2σ and 3σ dotted."""
    scans = Field.report(report, "joint scans")["scans"].elements()
    if not scans:
        raise PlotError("joint scans: the report has no scans (a joint spec's [[datasets.scans]])")
    by_option: dict[str, list[Field]] = {}
    for scan in scans:
        by_option.setdefault(scan["option"].text(), []).append(scan)
    panels = []
    for option, group in by_option.items():
        x, y = own(option, "scan"), own("sigma_S", option)
        layers: list[hv.Element] = _guides(x, y, vertical=False)
        cited = {scan["cited"].number(NONNEGATIVE) for scan in group if scan.get("cited")}
        for value in sorted(cited):
            layers.append(styled(hv.VLine(value, kdims=[x, y]), color="black", dash="dashed", width=1.5))
        tensions = []
        for i, scan in enumerate(group):
            color = COLORS[i % len(COLORS)]
            points = scan["points"].elements(nonempty=True)
            v = np.array([p["value"].number(NONNEGATIVE) for p in points])
            t, lo, hi = np.array([_tension(p["tension"]) for p in points]).T.reshape(3, len(points))
            tensions.append(t)
            keep = np.isfinite(t)
            name = scan["name"].text()
            label = scan["description"].text() if scan.get("description") else name
            layers += [styled(hv.Curve((v[keep], t[keep]), x, y, label=label), color=color, width=2),
                       styled(hv.ErrorBars((v[keep], t[keep], t[keep] - lo[keep], hi[keep] - t[keep]), x,
                                           [y, "lo", "hi"]), color=color, width=1.5),
                       styled(hv.Scatter((v[keep], t[keep]), x, y), color=color, size=6)]
        against = group[0]["against"].text()
        falling = tensions[0][-1] < tensions[0][0]
        size = SIZE_LABELS.get(option, _label(option.replace("_", " ")))
        panels.append(framed(hv.Overlay(layers), title=f"{dataset_words(group[0]['dataset'].text())} vs "
                                                       f"{dataset_words(against)}: tension against "
                                                       f"{size.unicode.split(' [')[0].split(' (')[0]}"
                                                       + (" (dashed: cited size)" if cited else ""),
                             xlabel=size, ylabel=Label("tension σ (S) [σ]", "tension $\\sigma$ (S) [$\\sigma$]"),
                             width=640, height=300, legend="top_right" if falling else "bottom_right"))
    return Plot(layout(panels, cols=1, title=title),
                "The tension in σ (suspiciousness, with its numerical range) against the size of each scanned "
                f"systematic ({', '.join(by_option)}), each option's cited size dashed, 2σ and 3σ dotted")


def _regression_rows(report: Any, prefix: str, what: str) -> list[tuple[str, Field]]:
    """The rows of a regression report whose name starts with ``prefix``, as (the rest of the name, the row)."""
    rows = [(name.removeprefix(prefix).removeprefix(": "), row)
            for row in Field.report(report, what).elements(nonempty=True)
            for name in [row["name"].text() if row.mapping().get("name") else ""] if name.startswith(prefix)]
    if not rows:
        raise PlotError(f"{what}: the report has no row named {prefix!r}… (is it `sigcube report regression --json`?)")
    return rows


@figure("milky-way-curve", source="report", reads="sigcube report regression --json (its Milky Way rows)")
def milky_way_curve(report: Any, title: str = "") -> Plot:
    """Each Milky Way tracer's rotation curve with Σ-Gravity and MOND at their posterior-mean V_bar scale f (band:
    f's 68 % interval) and V_bar as McMillan 2017 gives it, then each model's posterior of f."""
    panels = []
    for n, (name, row) in enumerate(_regression_rows(report, "Milky Way", "Milky Way curve")):
        values = row["values"]
        curve = values["curve"]
        r = curve["r"].numbers(POSITIVE)
        v, vb = (curve[k].numbers(size=len(r)) for k in ("v_obs", "v_bar"))
        lo, hi = (curve[k].numbers(NONNEGATIVE, size=len(r)) for k in ("e_minus", "e_plus"))
        x, y = own("R", str(n)), own("V", str(n))
        layers = [styled(hv.ErrorBars((r, v, lo, hi), x, [y, "lo", "hi"]), color=GREY, width=1, alpha=0.6),
                  styled(hv.Scatter((r, v), x, y, label="observed"), color="black", size=3 if len(r) > 100 else 5),
                  styled(hv.Curve((r, vb), x, y, label="V_bar (McMillan 2017, f = 1)"), color=GREY, dash="dashed",
                         width=1.5)]
        predictions = dict(curve["v_pred"].items(nonempty=True))
        colors = _kernel_colors(list(predictions))
        for kernel, pred in predictions.items():
            band = pred["ci68"].numbers(shape=(2, len(r)))
            layers += [styled(hv.Area((r, band.min(axis=0), band.max(axis=0)), x, vdims=[y, f"{y}_hi"]),
                              fill=colors[kernel], alpha=0.25),
                       styled(hv.Curve((r, pred["mean"].numbers(size=len(r))), x, y,
                                       label=f"{kernel}, f = {pred['f'].number(POSITIVE):.3f}"), color=colors[kernel],
                              width=2)]
        b = values["marginalised"]["ln_b_sigma_mond"]["value"].number()
        panels.append(framed(hv.Overlay(layers), title=f"{name}: ln B(Σ:MOND) = {b:.1f}",
                             xlabel=Label("R [kpc]", "R [kpc]"), ylabel=Label("V_c [km/s]", r"$V_c$ [km/s]"),
                             width=760, height=340, legend="right"))
        fx, fy = own("f", str(n)), own("density", str(n))
        marginals = []
        for kernel in predictions:
            m = values["marginalised"][kernel]["v_bar_scale_marginal"]
            f = m["values"].numbers(POSITIVE, increasing=True)
            mass = m["mass"].numbers(NONNEGATIVE, size=len(f))
            m["mass"].agrees(float(mass.sum()), 1.0, "a posterior's total", held="sums to")
            density = mass / np.gradient(f) if len(f) > 1 else mass
            marginals.append(styled(hv.Curve((f, density), fx, fy, label=kernel), color=colors[kernel], width=2))
        panels.append(framed(hv.Overlay(marginals), title=f"{name}: posterior of the V_bar scale f",
                             xlabel=Label("f (V_bar → f·V_bar)", "f ($V_{bar}$ → f·$V_{bar}$)"),
                             ylabel=Label("posterior density", "posterior density"), width=760, height=300,
                             legend="right"))
    return Plot(layout(panels, cols=1, title=title),
                "The Milky Way's rotation curve per tracer with Σ-Gravity and MOND at their posterior-mean V_bar "
                "scale (bands: its 68 % interval) and McMillan 2017's V_bar, and each model's posterior of the scale")


@figure("dwarf-ratios", source="report", reads="sigcube report regression --json (its dwarf spheroidal rows)")
def dwarf_ratios(report: Any, title: str = "") -> Plot:
    """Each dwarf's σ_pred/σ_obs at the prior's median Υ_V against its V luminosity, classical and ultra-faint
    dwarfs apart (the split dashed), Σ-Gravity, MOND and Newton each a colour; 1 dotted."""
    panels = []
    for n, (name, row) in enumerate(_regression_rows(report, "Dwarf spheroidals", "dwarf ratios")):
        values = row["values"]
        x, y = own("L_V", str(n)), own("ratio", str(n))
        layers: list[hv.Element] = [styled(hv.HLine(1.0, kdims=[x, y]), color="black", dash="dotted", width=1)]
        split = values["ultra_faint_L_V"].number(POSITIVE) if values.get("ultra_faint_L_V") else None
        kernels = [k for k, v in values.items() if isinstance(v.value, Mapping) and v.get("per_dwarf") is not None
                   and any(isinstance(d.value, Mapping) and "sigma_pred" in d for _, d in v["per_dwarf"].items())]
        if not kernels:
            raise PlotError(f"dwarf ratios ({name}): the row holds no kernel's per-dwarf ratios")
        for i, (kernel, color) in enumerate(_kernel_colors(kernels).items()):
            measured = [d for _, d in values[kernel]["per_dwarf"].items()
                        if not (d.mapping().get("upper_limit") and d["upper_limit"].flag())]
            if not measured or "L_V" not in measured[0]:
                raise PlotError(f"dwarf ratios ({name}): the rows carry no luminosity per dwarf (an older report)")
            for kind, marker in (("classical", "o"), ("ultra_faint", "^")):
                chosen = [d for d in measured if d["class"].text() == kind]
                if not chosen:
                    continue
                lv = np.array([d["L_V"].number(POSITIVE) for d in chosen])
                ratio = np.array([d["sigma_pred"].number(NONNEGATIVE) / d["sigma_obs"].number(POSITIVE)
                                  for d in chosen])
                layers.append(styled(hv.Scatter((lv, ratio), x, y, label=f"{kernel}, {kind.replace('_', '-')}"),
                                     color=color, marker=marker, size=8 if i % 2 else 6,
                                     fill="none" if i % 2 else None, width=1.5))
        if split is not None:
            layers.append(styled(hv.VLine(split, kdims=[x, y]), color="black", dash="dashed", width=1))
        panels.append(framed(hv.Overlay(layers), title=f"{name}: σ_pred/σ_obs at the prior's median Υ_V",
                             xlabel=Label("L_V [L☉]", r"$L_V$ [$L_\odot$]"),
                             ylabel=Label("σ_pred / σ_obs", r"$\sigma_{pred}/\sigma_{obs}$"), logx=True, logy=True,
                             width=680, height=360, legend="right"))
    return Plot(layout(panels, cols=1, title=title),
                "Each dwarf's predicted over observed velocity dispersion against its V luminosity, classical "
                "(circles) and ultra-faint (triangles) dwarfs split at L_V = 1e5 L☉, Σ-Gravity, MOND (hollow) and "
                "Newton each a colour, Υ_V at its prior's median")
