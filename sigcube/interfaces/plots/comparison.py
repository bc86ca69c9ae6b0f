"""Model-comparison figures: each model's ELPD against the best one's, per-object differences against a galaxy
property (``sigcube report compare``), the ablation's pairwise win fractions and the profile of its error floor
(``sigcube report ablation``), and the kernels side by side (``sigcube report kernels``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import holoviews as hv
import numpy as np

from sigcube.interfaces.plots.base import (
    COLORS, GREY, Plot, PlotError, framed, key_panel, labelled, layout, numbers, own, styled,
)
from sigcube.interfaces.plots.fields import FRACTION, NONNEGATIVE, POSITIVE, Bound, Field
from sigcube.interfaces.plots.labels import Label, axis_label, model_words, symbol
from sigcube.interfaces.plots.registry import figure
from sigcube.io.cubes import check_source_cube
from sigcube.stats.verdicts import STATISTICAL

RUNS = {"catalogue": "catalogue Υ, D, i", "nuisance": "Υ, D, i marginalised",
        "nuisance_profiled": "Υ, D, i profiled"}
"""How each run of a comparison or ablation treats the nuisance parameters (the reports' run names)."""
BINS = 8
"""Bins (equal counts) of the running median drawn over a per-object scatter."""


def _run(name: str) -> str:
    return RUNS.get(name, name)


def compared(report: Field) -> Field:
    """A comparison report (``sigcube report compare --json``): ``report`` itself, or of a table of error models
    (``--error-model all``, or a list) the report of the one the evidence prefers, as ``--save`` draws it."""
    if "error_model_table" in report:
        table = report["error_model_table"]
        return report["reports"][table["lead"].text(report["reports"].keys(nonempty=True))]
    return report


def source_cube(report: Field, cube: Any) -> None:
    """Refuse ``cube`` unless it is the dataset cube ``report`` (a comparison) was made from: the report must record
    its cube's content hash (``conventions.cube_content_sha256``), and the cube must have it."""
    recorded = report["conventions"]["cube_content_sha256"]
    if not recorded.text().strip():
        raise recorded.refuse("is empty: the report does not say which cube it was made from, so no cube can be "
                              "checked against it (make the report again with this sigcube)")
    check_source_cube(cube, recorded.text(), "the report")


@figure("elpd", source="report", reads="sigcube report compare --json")
def elpd_ranking(report: Any, title: str = "") -> Plot:
    """Each model's leave-one-galaxy-out ELPD minus the best model's, one panel per run (catalogue Υ, D, i; Υ, D, i
    marginalised), with the band the report reads it by: ±2 paired SE of the per-galaxy differences, within which a
    model is called indistinguishable from the best (hollow: inside it; filled: the best predicts better). A paired
    SE is a spread, not a credible interval; a run whose report says its objects are too few to read one gets no
    band."""
    what = "ELPD ranking"
    logo = compared(Field.report(report, what))["logo"]
    panels, unread = [], []
    for i, (run, result) in enumerate(logo.items(nonempty=True)):
        models = result["models"]
        best = result["best"].text(models.keys(nonempty=True))
        note = result["se_note"].text() if result.get("se_note") else None
        unread += [f"{_run(run)}: {note}"] if note else []
        top = models[best]["elpd"].number()
        below = Bound(0.0, why=f"{best} is the best: no model's ELPD is above its")
        rows = []
        for name, m in models.items():
            diff = m["elpd_diff"]
            gap = diff.agrees(diff.number(below), top - m["elpd"].number(), f"elpd({best}) − elpd({name})")
            dse = m["dse"].number(NONNEGATIVE) if m.get("dse") else 0.0
            rows.append((name, -gap, dse))
        rows.sort(key=lambda r: r[1])
        color = COLORS[i % len(COLORS)]
        x, d = own("delta_elpd", run), own("row", run)
        layers = [styled(hv.VLine(0.0, kdims=[x, d]), color="black", dash="dotted", width=1)]
        inside = [(dv, y) for y, (_, dv, se) in enumerate(rows) if note or abs(dv) <= STATISTICAL * se]
        outside = [(dv, y) for y, (_, dv, se) in enumerate(rows) if not note and abs(dv) > STATISTICAL * se]
        if not note:
            layers.append(styled(hv.Segments([(dv - STATISTICAL * se, y, dv + STATISTICAL * se, y)
                                              for y, (_, dv, se) in enumerate(rows)], [x, d, f"{x}_e", f"{d}_e"]),
                                 color=color, width=2, alpha=0.7))
        layers += [styled(hv.Scatter(outside, x, d), color=color, size=9),
                   styled(hv.Scatter(inside, x, d), color=color, fill="white", size=9, width=2)]
        ticks = [(y, name + (" (best)" if name == best else "")) for y, (name, _, _) in enumerate(rows)]
        panels.append(framed(hv.Overlay(layers), title=_run(run) + (" (no SE band: too few objects)" if note else ""),
                             xlabel=Label("ELPD(model) − ELPD(best) [nat]", "ELPD(model) − ELPD(best) [nat]"),
                             ylabel=Label("", ""), yticks=ticks, xticks=5, width=620, height=100 + 36 * len(rows),
                             legend=None, ylim=(-0.6, len(rows) - 0.4)))
    runs = "; ".join(_run(r) for r in logo.keys())
    return Plot(layout(panels, cols=1, title=title),
                f"Each model's leave-one-galaxy-out ELPD minus the best model's, one panel per run ({runs}); bars: "
                f"±{STATISTICAL:g} paired SE of the per-galaxy differences, the band within which the report calls a "
                "model indistinguishable from the best (hollow: inside it), a spread and not a credible interval"
                + "".join(f"; {u}" for u in unread))


def _binned_median(x: np.ndarray, y: np.ndarray, bins: int = BINS) -> tuple[np.ndarray, np.ndarray]:
    """Running median of ``y`` in ``bins`` bins of equal counts along ``x`` (bin centres: the median of x)."""
    order = np.argsort(x)
    groups = [g for g in np.array_split(order, min(bins, max(1, len(order) // 5))) if len(g)]
    return np.array([np.median(x[g]) for g in groups]), np.array([np.median(y[g]) for g in groups])


def object_properties(cube: Any, names: Sequence[str], group: str = "galaxy") -> dict[str, Mapping[str, Any]]:
    """Per-object properties of a dataset cube (variables over ``group`` only), by name: ``values`` by object,
    ``attrs``, ``positive`` (a quantity with a unit: a value ≤ 0 means "not measured") and ``log`` (positive values
    spanning more than two decades: drawn on a log axis)."""
    from astropy import units as u

    if group not in getattr(cube, "dims", {}):
        raise PlotError(f"per-object properties: the cube has no {group!r} dimension")
    objects = [str(g) for g in cube[group].values]
    out = {}
    for name in names:
        if name not in cube or cube[name].dims != (group,):
            raise PlotError(f"per-object properties: the cube has no per-{group} variable {name!r}")
        values = np.asarray(cube[name].values, dtype=float)
        units = cube[name].attrs.get("units") or ""
        try:
            positive = bool(units.strip()) and u.Unit(units) != u.dimensionless_unscaled
        except ValueError:
            positive = False
        good = values[np.isfinite(values) & (values > 0)]
        out[name] = {"values": dict(zip(objects, values)), "attrs": dict(cube[name].attrs), "positive": positive,
                     "log": bool(good.size) and bool(np.all(values[np.isfinite(values)] > 0) or positive)
                     and good.max() / good.min() > 100}
    return out


OUTLIER_FENCE = 1.5
"""A per-object difference further beyond the 5th or 95th percentile than this many times the 5–95 % range lies
beyond the axis of a per-object panel: drawn at the axis's edge and labelled with its object and value."""


def bulk_range(values: np.ndarray, fence: float = OUTLIER_FENCE) -> tuple[float, float]:
    """The range of ``values`` within the fences ``fence`` × (P95 − P5) beyond their 5th and 95th percentiles, with
    8 % padding: an axis that shows the bulk of a heavy-tailed sample."""
    v = values[np.isfinite(values)]
    p5, p95 = np.percentile(v, [5, 95])
    inner = v[(v >= p5 - fence * (p95 - p5)) & (v <= p95 + fence * (p95 - p5))]
    lo, hi = float(inner.min()), float(inner.max())
    pad = 0.08 * (hi - lo) if hi > lo else 1.0
    return lo - pad, hi + pad


def per_object_panels(names: Sequence[str], delta: np.ndarray, properties: Mapping[str, Mapping[str, Any]],
                      ylabel: Label, color: str, title: str) -> tuple[list[hv.Overlay], list[str]]:
    """``delta`` per object against each property (:func:`object_properties`), with a zero line and the running
    median; objects without the property (or a value ≤ 0 of a ``positive`` one) are left out. The y axis shows the
    bulk (:func:`bulk_range`): an object beyond it is drawn on the axis's edge (▲/▼) and labelled. Returns the panels
    and the objects drawn on an edge, as ``name (value)``."""
    panels, beyond = [], {}
    y_lo, y_hi = bulk_range(np.asarray(delta, dtype=float))
    for prop, spec in properties.items():
        values = spec["values"]
        x = np.array([float(values.get(n, np.nan)) for n in names])
        keep = np.isfinite(x) & np.isfinite(delta) & ((x > 0) if spec.get("log") or spec.get("positive") else True)
        if keep.sum() < 2:
            raise PlotError(f"per-object differences: fewer than two objects have {prop}")
        xs, ys, who = x[keep], delta[keep], np.asarray(names, dtype=object)[keep]
        mx, my = _binned_median(xs, ys)
        inside = (ys >= y_lo) & (ys <= y_hi)
        layers = [styled(hv.HLine(0.0, kdims=[prop, "delta"]), color="black", dash="dotted", width=1),
                  styled(hv.Scatter((xs[inside], ys[inside]), prop, "delta", label=f"{keep.sum()} objects"),
                         color=color, size=5, alpha=0.6),
                  styled(hv.Curve((mx, my), prop, "delta", label="running median"), color="black", width=2.5)]
        for side, edge, marker in (("above", y_hi, "^"), ("below", y_lo, "v")):
            out = (ys > y_hi) if side == "above" else (ys < y_lo)
            if not out.any():
                continue
            pad = 0.04 * (y_hi - y_lo)
            at = edge - pad if side == "above" else edge + pad
            layers.append(styled(hv.Scatter((xs[out], np.full(out.sum(), at)), prop, "delta"), color=color,
                                 size=8, marker=marker))
            for j, k in enumerate(np.flatnonzero(out)[np.argsort(xs[out])]):
                beyond[str(who[k])] = float(ys[k])
                step = (1.6 + 2.2 * (j % 3)) * pad  # neighbours' labels staggered downwards (upwards below)
                layers.append(hv.Text(float(xs[k]), at - step if side == "above" else at + step,
                                      f"{who[k]} {ys[k]:+.0f}", kdims=[prop, "delta"], fontsize=8,
                                      halign="center", valign="top" if side == "above" else "bottom"))
        panels.append(framed(hv.Overlay(layers), title=f"{title} against {symbol(prop).unicode}",
                             xlabel=axis_label(prop, spec["attrs"]), ylabel=ylabel, logx=bool(spec.get("log")),
                             width=460, height=340, legend="best", ylim=(y_lo, y_hi)))
    return panels, [f"{n} ({v:+.1f})" for n, v in beyond.items()]


@figure("per-galaxy-difference", source="report",
        reads="sigcube report compare --json, with per-galaxy properties from the dataset cube (--cube)")
def per_object_difference(report: Any, cube: Any, model: str, against: str,
                          properties: Sequence[str] = ("V_flat", "SB_disk"), run: str = "nuisance",
                          quantity: Literal["elpd", "log_evidence"] = "elpd", title: str = "") -> Plot:
    """Per object, one model's leave-one-out ELPD or evidence minus another's, against per-object properties of the
    dataset cube the report was made from (its content hash checked), with the running median.

    ``model``, ``against``: the two models of the report (difference: model − against); ``properties``: per-object
    variables of the cube, one panel each; ``run``: the report's run (nuisance, with Υ, D, i marginalised, or catalogue);
    ``quantity``: elpd (leave-one-galaxy-out) or log_evidence (per-object ln Z, for models with per-object
    parameters)."""
    what = "per-object difference"
    report = compared(Field.report(report, what))
    source_cube(report, cube)
    logo = report["logo"]
    runs = logo.keys()
    if run not in runs:
        raise PlotError(f"{what}: the report has no run {run!r}; its runs: {', '.join(runs)}")
    per = logo[run]["per_galaxy"]
    models = per["elpd"].keys(nonempty=True)
    for name in (model, against):
        if name not in models:
            raise PlotError(f"{what}: the report compares no model {name!r}; its models: {', '.join(models)}")
    if model == against:
        raise PlotError(f"{what}: model and against are both {model!r}; name two models of {', '.join(models)}")
    names = per["galaxy"].names()
    if quantity == "elpd":
        a, b = (_per_galaxy_elpd(logo[run], name, len(names)) for name in (model, against))
        label = Label(f"ΔELPD_g = {model} − {against} [nat]", f"ΔELPD$_g$ = {model} − {against} [nat]")
    elif quantity == "log_evidence":
        a, b = (report["runs"][run][name]["galaxy_log_evidence"].numbers(size=len(names))
                for name in (model, against))
        label = Label(f"Δln Z_g = {model} − {against} [nat]", f"$\\Delta\\ln Z_g$ = {model} − {against} [nat]")
    else:
        raise PlotError(f"{what}: quantity is elpd or log_evidence, not {quantity!r}")
    head = f"{'ΔELPD' if quantity == 'elpd' else 'Δln Z'} {model} − {against}"
    props = object_properties(cube, properties)
    panels, beyond = per_object_panels(names, a - b, props, label, COLORS[1], head)
    wins = int(np.sum((a - b) > 0))
    return Plot(layout(panels, cols=2, title=title),
                f"Per galaxy, {'leave-one-out ELPD' if quantity == 'elpd' else 'ln Z'} of {model} minus {against} "
                f"({_run(run)}; {wins} of {len(names)} galaxies favour {model}) against "
                + ", ".join(spec["attrs"].get("long_name", p) for p, spec in props.items())
                + ", with the running median"
                + (f"; the y axis shows the bulk (within {OUTLIER_FENCE:g}× the 5–95 % range beyond those "
                   f"percentiles): {', '.join(beyond)} drawn on its edge (▲/▼) and labelled" if beyond else ""))


def _per_galaxy_elpd(result: Field, model: str, size: int) -> np.ndarray:
    """``model``'s leave-one-out ELPD of each of ``size`` galaxies in a run of ``logo``, refused unless they sum to
    the model's ELPD."""
    values = result["per_galaxy"]["elpd"][model].numbers(size=size)
    total = result["models"][model]["elpd"]
    total.agrees(total.number(), float(values.sum()), f"the sum of {model}'s per-galaxy ELPD")
    return values


@figure("ablation-pairs", source="report", reads="sigcube report ablation --json (any --sigma-int)")
def ablation_pairs(reports: Mapping[str, Any] | Any, title: str = "") -> Plot:
    """The fraction of galaxies the first model of each pair fits better (0.5: as many each way) with its bootstrap
    95 % interval; one panel per report given (``{label: report}``, or one report), one colour per run."""
    reports = labelled(reports, ("runs", "pairs_at_best"), "ablation pairs")
    panels, by_label = [], {}
    for label, r in reports.items():
        r = Field.report(r, f"ablation pairs {label}".strip())
        runs = (dict(r["pairs_at_best"].items(nonempty=True)) if "pairs_at_best" in r else
                {run: result["pairs"].mapping() for run, result in r["runs"].items(nonempty=True)})
        by_label[label] = runs
    names = list(dict.fromkeys(pair for runs in by_label.values() for pairs in runs.values() for pair in pairs.keys()))
    if not names:
        raise PlotError("ablation pairs: the report has no pair of models")
    for n, (label, runs) in enumerate(by_label.items()):  # one row per pair in every panel: the first names them
        x, d = own("win", label), own("row", label)
        layers = [styled(hv.VLine(0.5, kdims=[x, d]), color="black", dash="dotted", width=1)]
        last = label == list(reports)[-1]
        for i, (run, pairs) in enumerate(runs.items()):
            color = COLORS[i % len(COLORS)]
            offset = 0.15 * (i - (len(runs) - 1) / 2)
            rows = []
            for pair, p in pairs.items():
                frac = p["win_fraction"].number(FRACTION)
                lo, hi = p["bootstrap_ci95"].interval(FRACTION)
                rows.append((len(names) - 1 - names.index(pair) + offset, frac, lo, hi))
            layers += [styled(hv.Segments([(lo, y, hi, y) for y, _, lo, hi in rows], [x, d, f"{x}_end", f"{d}_end"]),
                              color=color, width=3),
                       styled(hv.Scatter([(f, y) for y, f, _, _ in rows], x, d, label=_run(run)), color=color,
                              size=8)]
        ticks = [(len(names) - 1 - k, pair.replace("_vs_", " vs ") if n == 0 else "") for k, pair in enumerate(names)]
        panels.append(framed(hv.Overlay(layers), title=label or "win fractions",
                             xlabel=Label("fraction of galaxies the first model fits better",
                                          "fraction of galaxies the first model fits better"),
                             ylabel=Label("", ""), yticks=ticks, width=460, height=110 + 40 * len(names),
                             legend="right" if last else None, xlim=(0, 1), ylim=(-0.6, len(names) - 0.4)))
    return Plot(layout(panels, cols=min(3, len(panels)), title=title),
                "For each pair of models, the fraction of galaxies the first fits better with its bootstrap 95 % "
                f"interval, per run, for {', '.join(x or 'the report' for x in reports)}")


@figure("sigma-int-profile", source="report", reads="sigcube report ablation --sigma-int LO:HI:N --json")
def sigma_int_profile(report: Any, title: str = "") -> Plot:
    """Each model's total ln L profiled over the error floor σ_int (relative to its maximum), per run, its best
    value marked."""
    what = "σ_int profile"
    report = Field.report(report, what)
    values = report["scatter"]["values"].numbers(NONNEGATIVE)
    unit = report["scatter"]["unit"].text() if report["scatter"].get("unit") else None
    grid = Bound(float(values.min()), float(values.max()), why="the best σ_int is on the profile's grid")
    profiles = report["sigma_int_profile"]
    panels = []
    for run, models in profiles.items(nonempty=True):
        layers = []
        x, y = own("sigma_int", run), own("dlnL", run)
        for i, (model, prof) in enumerate(models.items(nonempty=True)):
            ll = prof["ln_L"].numbers(size=len(values), missing=True)
            rel = ll - np.nanmax(ll)
            color = COLORS[i % len(COLORS)]
            layers += [styled(hv.Curve((values, rel), x, y, label=model), color=color, width=2),
                       styled(hv.Scatter((values, rel), x, y), color=color, size=5)]
            best = prof["best"].number(grid) if prof.get("best") else None
            if best is not None:
                layers.append(styled(hv.Scatter([(best, 0.0)], x, y), color=color, size=12,
                                     marker="x", width=2))
        panels.append(framed(hv.Overlay(layers), title=f"{_run(run)}: ln L profiled over σ_int",
                             xlabel=axis_label("sigma_int", {"units": unit}, text="error floor σ_int"),
                             ylabel=Label("ln L − max ln L [nat]", "ln L − max ln L [nat]"), width=460, height=340,
                             legend="bottom_right"))
    if not panels:
        raise PlotError(f"{what}: the report has no profile")
    return Plot(layout(panels, cols=2, title=title),
                "Total log-likelihood of each model over the error floor σ_int, relative to its maximum, the best "
                "σ_int marked (×), for " + ", ".join(_run(r) for r in profiles.keys()))


KERNEL_METRICS = (("mean_rms", "mean RMS [km/s]"), ("rar_scatter_velocity", "RAR scatter, std log10(V_obs/V_pred) "
                                                                            "[dex]"))


@figure("kernel-ranking", source="report", reads="sigcube report kernels --json")
def kernel_ranking(report: Any, title: str = "") -> Plot:
    """Every kernel at its defaults: mean RMS and RAR scatter, sorted by mean RMS (the baseline marked)."""
    what = "kernel ranking"
    rows = [r for r in Field.report(report, what).elements(nonempty=True) if "skipped" not in r.mapping()]
    if not rows:
        raise PlotError(f"{what}: the report has no kernel")
    metrics = [{metric: r[metric].number(NONNEGATIVE) if r.get(metric) else np.nan for metric, _ in KERNEL_METRICS}
               for r in rows]
    order = sorted(range(len(rows)), key=lambda i: np.nan_to_num(metrics[i]["mean_rms"], nan=np.inf))
    names = [rows[i]["kernel"].text() for i in order]
    panels = []
    for metric, text in KERNEL_METRICS:
        v = numbers([metrics[i][metric] for i in order], f"{what}: {metric}")
        colors = [COLORS[1] if rows[i].get("win_rate") else GREY for i in order]
        bars = [styled(hv.Segments([(0.0, i, v[i], i) for i, c in enumerate(colors)
                                    if c == color and np.isfinite(v[i])],
                                   [metric, "row", f"{metric}_end", "row_end"]), color=color, width=9)
                for color in dict.fromkeys(colors)]  # one element per colour: a bar each is slow to draw
        panels.append(framed(hv.Overlay(bars), title=text.split(" [")[0], xlabel=Label(text, text),
                             ylabel=Label("", ""), yticks=list(enumerate(names)), width=420,
                             height=80 + 22 * len(names), legend=None))
    return Plot(layout(panels, cols=2, title=title),
                f"Mean RMS and RAR scatter of {len(names)} kernels at their registered defaults, sorted by mean RMS "
                "(grey: the baseline the win rates are against)")


@figure("joint-costs", source="cube", reads="a joint sweep's result cube")
def joint_costs(ds: Any) -> Plot:
    """Per dataset of a joint sweep, each object's ln L at the joint posterior's mode minus its ln L at its own
    dataset's mode: which objects the compromise costs (negative) and which it helps, sorted."""
    import json

    if "posterior_joint" not in ds or "probes" not in ds.attrs:
        raise PlotError("joint costs: not a joint sweep's result cube (no posterior_joint and probes)")
    dims = list(ds["posterior_joint"].dims)
    joint = np.unravel_index(int(np.argmax(np.asarray(ds["posterior_joint"].values))), ds["posterior_joint"].shape)
    at = dict(zip(dims, (int(i) for i in joint)))
    panels = []
    for i, probe in enumerate(json.loads(ds.attrs["probes"])):
        label = probe["label"]
        ll = ds[f"loglike_{label}"]
        own_dims = [d for d in ll.dims if d in dims]
        own_post = ds["posterior"].sel(probe=label).transpose(*dims).values
        best = dict(zip(dims, (int(i) for i in np.unravel_index(int(np.argmax(own_post)), own_post.shape))))
        at_joint = numbers(ll.isel({d: at[d] for d in own_dims}).values, f"joint costs ({label})")
        at_own = numbers(ll.isel({d: best[d] for d in own_dims}).values, f"joint costs ({label})")
        names = [str(n) for n in ll[ll.dims[-1]].values]
        cost = at_joint - at_own
        order = np.argsort(cost, kind="stable")
        x, y = own("cost", label), own("object", label)
        color = COLORS[i % len(COLORS)]
        if len(names) <= 40:
            marks = styled(hv.Segments([(0.0, k, cost[j], k) for k, j in enumerate(order)],
                                       [x, y, f"{x}_e", f"{y}_e"]), color=color, width=6)
            ticks: Any = [(k, names[j]) for k, j in enumerate(order)]
        else:
            marks = styled(hv.Scatter((cost[order], np.arange(len(order))), x, y), color=color, size=4)
            ticks = 0
        same = bool(np.all(cost == 0))
        panels.append(framed(hv.Overlay([styled(hv.VLine(0.0, kdims=[x, y]), color="black", width=1), marks]),
                             title=f"{label}: {len(names)} objects, Σ = {np.nansum(cost):.1f} nat"
                                   + (" (the joint mode is its own)" if same else ""),
                             xlabel=Label("ln L(joint mode) − ln L(own mode) [nat]",
                                          "ln L(joint mode) − ln L(own mode) [nat]"),
                             ylabel=Label("objects, sorted", "objects, sorted"), yticks=ticks, width=460,
                             height=120 + 14 * len(names) if len(names) <= 40 else 360, legend=None))
    where = ", ".join(f"{d} = {float(ds[d].values[i]):.4g}" for d, i in at.items())
    return Plot(layout(panels, cols=2), f"Per dataset of the joint sweep, each object's log-likelihood at the joint "
                                        f"posterior's mode ({where}) minus at its own dataset's mode, sorted")


def _ratio(value: Field) -> float:
    """A per-object prediction over observation: a number, a ``median_ratio``, or ``<x>_pred`` over ``<x>_obs``;
    NaN for null."""
    if isinstance(value.value, Mapping):
        if "median_ratio" in value:
            value = value["median_ratio"]
        else:
            pred = next((k for k in value.keys() if k.endswith("_pred")), None)
            if pred is None:
                raise value.refuse("holds no median_ratio, nor a prediction <x>_pred with its observation <x>_obs")
            return value[pred].number(NONNEGATIVE) / value[f"{pred[:-5]}_obs"].number(POSITIVE)
    return float("nan") if value.value is None else value.number(NONNEGATIVE)


def ratio_rows(report: Any) -> list[tuple[str, dict[str, dict[str, float]]]]:
    """The rows of ``sigcube report regression`` that hold a prediction/observation ratio per object, as (row name,
    {model: {object: ratio}}): a model's values with a ``median_ratio`` and a ``per_…`` table of objects, at least
    one of them a finite positive ratio."""
    out = []
    for row in Field.report(report, "prediction ratios").elements(nonempty=True):
        values = row.mapping().get("values")
        models = {}
        for model, v in values.items() if values is not None else ():
            if not isinstance(v.value, Mapping) or "median_ratio" not in v:
                continue
            table = next((t for k, t in v.items() if k.startswith("per_") and isinstance(t.value, Mapping)), None)
            ratios = {name: _ratio(x) for name, x in (table.items() if table is not None else ())}
            if any(np.isfinite(r) and r > 0 for r in ratios.values()):
                models[model] = ratios
        if models:
            out.append((row["name"].text() if row.get("name") else "", models))
    return out


@figure("prediction-ratios", source="report", reads="sigcube report regression --json")
def prediction_ratios(report: Any, title: str = "") -> Plot:
    """Per object (cluster, dwarf), each model's prediction over the observation, for every row of the regression
    suite that has one per object; objects sorted by the first model's ratio, 1 (a perfect prediction) dotted; each
    model one colour in every panel, named in the key panel."""
    rows = ratio_rows(report)
    if not rows:
        raise PlotError("prediction ratios: no row of the report holds a ratio per object")
    colors = {m: COLORS[i % len(COLORS)] for i, m in enumerate(dict.fromkeys(m for _, ms in rows for m in ms))}
    panels = []
    for n, (name, models) in enumerate(rows):
        first = next(iter(models.values()))
        objects = sorted(first, key=lambda o: (not np.isfinite(first[o]), first[o]))
        x, y = own("ratio", str(n)), own("object", str(n))
        layers = [styled(hv.VLine(1.0, kdims=[x, y]), color="black", dash="dotted", width=1)]
        for model, ratios in models.items():
            v = np.array([ratios.get(o, np.nan) for o in objects])
            keep = np.isfinite(v) & (v > 0)
            layers.append(styled(hv.Scatter((v[keep], np.flatnonzero(keep)), x, y, label=model),
                                 color=colors[model], size=7))
        many = len(objects) > 30
        panels.append(framed(hv.Overlay(layers), title=name, logx=True,
                             xlabel=Label("prediction ÷ observation", "prediction ÷ observation"),
                             ylabel=Label(f"{len(objects)} objects", f"{len(objects)} objects"),
                             yticks=0 if many else list(enumerate(objects)), width=460,
                             height=140 + (8 if many else 16) * len(objects), legend=None))
    key = key_panel([styled(hv.Scatter([], label=m), color=c, size=7) for m, c in colors.items()], 460, 200)
    return Plot(layout([*panels, key], cols=2, title=title),
                "Prediction over observation per object, each model a colour (" + ", ".join(colors) + "), for "
                + "; ".join(f"{name} ({len(next(iter(m.values())))} objects)" for name, m in rows))


SIGNED_TICKS = (0.0, 1.0, 3.0, 10.0, 30.0, 100.0, 1000.0)
"""|ln B| values ticked on the verdict figure's signed logarithmic axis."""


def _signed_log(value: float) -> float:
    """sign(v)·log10(1 + |v|): ln B from −1000 to +1000 on one axis, the bare-mention band |ln B| ≤ 1 still visible."""
    return float(np.sign(value) * np.log10(1.0 + abs(value)))


@figure("verdict", source="report", reads="sigcube report verdict --json")
def verdict_bayes_factors(report: Any, title: str = "") -> Plot:
    """Every probe's Bayes factors from the verdict report: ln B(a : b) of each pair, on a signed logarithmic axis
    (sign × log10(1 + |ln B|)), filled where a is favoured, hollow where b is; the grey band |ln B| ≤ 1 is Kass &
    Raftery's "not worth more than a bare mention". Probes without a Bayes factor (a tension, a prediction) are
    left out and named."""
    what = "verdict"
    entries, without = [], []
    for row in Field.report(report, what)["rows"].elements(nonempty=True):
        probe = row["probe"].text()
        pairs = row["pairs"].elements()
        if not pairs:
            without.append(probe)
        for pair in pairs:
            subset = f" ({pair['subset'].text().replace('_', '-')})" if pair.get("subset") else ""
            entries.append((f"{probe}{subset}: {model_words(pair['a'].text())} : {model_words(pair['b'].text())}",
                            pair["ln_b"].number()))
    if not entries:
        raise PlotError(f"{what}: the report has no Bayes factor")
    x, d = "signed_log_B", "pair"
    points = [(_signed_log(v), len(entries) - 1 - i) for i, (_, v) in enumerate(entries)]
    top = max(max(abs(p[0]) for p in points), 1.0)
    ticks = [(s * _signed_log(t), f"{s * t:+g}" if t else "0") for t in SIGNED_TICKS for s in ((1,) if not t else (-1, 1))
             if _signed_log(t) <= top + 0.2]
    layers = [styled(hv.VSpan(-_signed_log(1.0), _signed_log(1.0)), color=GREY, alpha=0.25),
              styled(hv.VLine(0.0, kdims=[x, d]), color="black", dash="dotted", width=1),
              styled(hv.Scatter([p for p in points if p[0] > 0], x, d), color=COLORS[0], size=9),
              styled(hv.Scatter([p for p in points if p[0] <= 0], x, d), color=COLORS[0], fill="white", size=9,
                     width=2)]
    label = Label("ln B(a : b) [nat], signed log scale", "ln B(a : b) [nat], signed log scale")
    view = framed(hv.Overlay(layers), title=title or "The verdict, probe by probe: ln B(a : b)", xlabel=label,
                  ylabel=Label("", ""), xticks=sorted(ticks), width=760, height=90 + 30 * len(entries), legend=None,
                  yticks=[(len(entries) - 1 - i, name) for i, (name, _) in enumerate(entries)],
                  xlim=(-top - 0.2, top + 0.2), ylim=(-0.6, len(entries) - 0.4))
    return Plot(view, f"The Bayes factor ln B(a : b) of every pair on every probe of the verdict ({len(entries)} "
                      "pairs), on a signed logarithmic axis; filled: a favoured, hollow: b favoured; grey: |ln B| ≤ 1, "
                      "not worth more than a bare mention" + (f"; without a Bayes factor: {', '.join(without)}"
                                                                if without else ""))
