"""Performance figures from the committed benchmark records (``docs/performance/*.json``: ``bench/<name>.py --json``
wrapped with the machine it ran on): throughput against the sample's size and against the grid's."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import holoviews as hv
import numpy as np

from sigcube.interfaces.plots.base import COLORS, Plot, PlotError, framed, layout, numbers, styled
from sigcube.interfaces.plots.fields import POSITIVE, Field
from sigcube.interfaces.plots.labels import BENCHMARKS, Label
from sigcube.interfaces.plots.registry import figure

RATE = Label("point-evaluations per second", "point-evaluations per second")


def _points(run: Field) -> float:
    """A run's sample points: its ``points``, else its evaluations over its grid."""
    if run.get("points"):
        return run["points"].number(POSITIVE)
    return run["evaluations"].number(POSITIVE) / run["grid"].number(POSITIVE)


def _run(base: dict[str, Any], what: str, run: Field, grid: str, rate: str, points: float | None = None
         ) -> dict[str, Any]:
    """A row of :func:`throughput_rows`: the run's ``grid`` points and ``rate`` read by those names."""
    return {**base, "what": what, "grid": run[grid].number(POSITIVE),
            "points": _points(run) if points is None else points, "rate": run[rate].number(POSITIVE)}


def throughput_rows(records: Sequence[Any]) -> list[dict[str, Any]]:
    """One row per measured run of the records: ``benchmark``, ``what``, ``grid`` points, sample ``points``,
    ``rate`` [point-evaluations/s], ``date``, ``under_load``."""
    rows = []
    for i, data in enumerate(records):
        rec = Field(data, f"throughput (record {i + 1})")
        res, name = rec["result"].mapping(), rec["benchmark"].text()
        base = {"benchmark": name, "date": rec["date"].text() if rec.get("date") else "",
                "under_load": rec["under_load"].flag() if rec.get("under_load") is not None else False}
        if name == "survey":  # its reference sample (a named entry) and its synthetic samples (runs)
            rows += [_run(base, f"survey: {key} (reference)", s, "grid", "evals_per_s") for key, s in res.items()
                     if isinstance(s.value, Mapping) and "evals_per_s" in s and key != "two_workers"]
            rows += [_run(base, f"survey: {r['galaxies'].number(POSITIVE):,.0f} synthetic galaxies", r, "grid",
                          "evals_per_s") for r in res["runs"].elements()]
        elif name == "sweep_throughput":
            points = res["points"].number(POSITIVE) if res.get("points") else np.nan
            rows += [_run(base, "sweep", r, "grid", "evals_per_s", points) for r in res["runs"].elements()]
        elif name == "kernel_throughput":
            rows.append(_run(base, "canonical kernel, one core", res, "grid", "canonical_evals_per_s",
                             res["points"].number(POSITIVE)))
        elif name == "nuisance":
            rows.append(_run(base, f"nuisance-marginalised ({res['nodes'].number(POSITIVE):g} nodes), per core", res,
                             "grid_points", "node_point_evals_per_s_per_core",
                             res["sample"]["points"].number(POSITIVE)))
    return rows


@figure("throughput", source="bench", reads="the committed benchmark records (docs/performance/*.json)")
def throughput(records: Sequence[Mapping[str, Any]], title: str = "") -> Plot:
    """Point-evaluations per second of every benchmarked run against the sample's size (points) and against the
    grid's (grid points), one colour per benchmark; hollow: measured while other processes shared the cores."""
    rows = throughput_rows(records)
    if not rows:
        raise PlotError("throughput: no benchmark record with a throughput (survey, sweep_throughput, "
                        "kernel_throughput, nuisance)")
    benchmarks = list(dict.fromkeys(r["benchmark"] for r in rows))
    panels = []
    for axis, text in (("points", "sample points"), ("grid", "grid points")):
        layers = []
        for i, name in enumerate(benchmarks):
            for loaded in (False, True):
                chosen = [r for r in rows if r["benchmark"] == name and r["under_load"] is loaded
                          and np.isfinite(r[axis]) and r[axis] > 0]
                if not chosen:
                    continue
                x = numbers([r[axis] for r in chosen], f"throughput: {axis}")
                y = numbers([r["rate"] for r in chosen], "throughput: rate")
                label = f"{BENCHMARKS.get(name, name)}{' (under load)' if loaded else ''}"
                layers.append(styled(hv.Scatter((x, y), axis, "rate", label=label), color=COLORS[i % len(COLORS)],
                                     size=10, fill="none" if loaded else None, width=2))
        panels.append(framed(hv.Overlay(layers), title=f"throughput against {text}", xlabel=Label(text, text),
                             ylabel=RATE, logx=True, logy=True, width=460, height=340, legend="best"))
    return Plot(layout(panels, cols=2, title=title),
                f"Point-evaluations per second against sample points and against grid points for {len(rows)} "
                f"benchmarked runs ({', '.join(benchmarks)})")
