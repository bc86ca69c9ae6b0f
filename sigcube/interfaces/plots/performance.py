"""Performance figures from the committed benchmark records (``docs/performance/*.json``: ``bench/<name>.py --json``
wrapped with the machine it ran on): throughput against the sample's size and against the grid's."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import holoviews as hv
import numpy as np

from sigcube.interfaces.plots.base import COLORS, Plot, PlotError, framed, layout, need, numbers, styled
from sigcube.interfaces.plots.labels import Label
from sigcube.interfaces.plots.registry import figure

RATE = Label("point-evaluations per second", "point-evaluations per second")


def _points(run: Mapping[str, Any]) -> float:
    """A run's sample points: its evaluations over its grid."""
    return float(run.get("points") or need(run, "evaluations", what="throughput") / need(run, "grid",
                                                                                          what="throughput"))


def throughput_rows(records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per measured run of the records: ``benchmark``, ``what``, ``grid`` points, sample ``points``,
    ``rate`` [point-evaluations/s], ``date``, ``under_load``."""
    rows = []
    for rec in records:
        res, name = need(rec, "result", what="throughput"), need(rec, "benchmark", what="throughput")
        base = {"benchmark": name, "date": rec.get("date", ""), "under_load": bool(rec.get("under_load"))}
        if name == "survey":  # its reference sample (a named entry) and its synthetic samples (runs)
            rows += [{**base, "what": f"survey: {key} (reference)", "grid": float(s["grid"]), "points": _points(s),
                      "rate": float(s["evals_per_s"])} for key, s in res.items()
                     if isinstance(s, Mapping) and "evals_per_s" in s and key != "two_workers"]
            rows += [{**base, "what": f"survey: {r['galaxies']:,} synthetic galaxies", "grid": float(r["grid"]),
                      "points": _points(r), "rate": float(r["evals_per_s"])} for r in need(res, "runs", what="")]
        elif name == "sweep_throughput":
            rows += [{**base, "what": "sweep", "grid": float(r["grid"]), "points": float(res.get("points", np.nan)),
                      "rate": float(r["evals_per_s"])} for r in need(res, "runs", what="throughput (sweep)")]
        elif name == "kernel_throughput":
            rows.append({**base, "what": "canonical kernel, one core", "grid": float(res["grid"]),
                         "points": float(res["points"]), "rate": float(res["canonical_evals_per_s"])})
        elif name == "nuisance":
            rows.append({**base, "what": f"nuisance-marginalised ({res['nodes']} nodes), per core",
                         "grid": float(res["grid_points"]), "points": float(res["sample"]["points"]),
                         "rate": float(res["node_point_evals_per_s_per_core"])})
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
                label = f"{name}{' (under load)' if loaded else ''}"
                layers.append(styled(hv.Scatter((x, y), axis, "rate", label=label), color=COLORS[i % len(COLORS)],
                                     size=10, fill="none" if loaded else None, width=2))
        panels.append(framed(hv.Overlay(layers), title=f"throughput against {text}", xlabel=Label(text, text),
                             ylabel=RATE, logx=True, logy=True, width=460, height=340, legend="best"))
    return Plot(layout(panels, cols=2, title=title),
                f"Point-evaluations per second against sample points and against grid points for {len(rows)} "
                f"benchmarked runs ({', '.join(benchmarks)})")
