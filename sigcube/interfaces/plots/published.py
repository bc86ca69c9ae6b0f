"""Published figures against sigcube's values: for every row of a report that sets a value next to a printed
figure (``figures`` of ``report sparc`` and ``report ablation``, the tables of ``report sensitivity``), the ratio of
sigcube's value to the printed one, coloured by the report's verdict."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import holoviews as hv
import numpy as np

from sigcube.interfaces.plots.base import COLORS, GREY, Plot, PlotError, framed, labelled, styled
from sigcube.interfaces.plots.fields import POSITIVE, Field
from sigcube.interfaces.plots.labels import Label
from sigcube.interfaces.plots.registry import figure

VERDICTS = {True: ("reproduced", COLORS[2]), False: ("differs", COLORS[0]), None: ("not a test", GREY)}
RANGE = (0.0, 2.0)
"""The ratios drawn; one outside is drawn as × at the nearer edge."""
_PLAIN = re.compile(r"^\s*([-−]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)\s*%?\s*$")


def printed_number(text: str) -> float | None:
    """A printed figure written as a plain number (``17.75``, ``47.4%``, ``-0.2``); None for any other form (a
    bound, a power of ten, a range): those rows are left out of the figure."""
    m = _PLAIN.match(str(text))
    return float(m.group(1).replace("−", "-")) if m else None


def comparison_rows(report: Any) -> list[dict[str, Any]]:
    """The rows of a report that set a computed value next to a printed figure: ``label``, ``printed``,
    ``shown`` (sigcube's value in the printed figure's unit: ``computed × scale``, a fraction × 100 for a figure
    printed in %), ``reproduced`` (True, False, None for a count matched by construction)."""
    report = Field.report(report, "published figures")
    groups: list[tuple[str, list[Field]]] = []
    if isinstance(report.value, list):
        groups = [(f"preset {_text(p.mapping(), 'preset') or i}", p["figures"].elements() if p.get("figures") else [])
                  for i, p in enumerate(report.elements())]
    else:
        if "tables" in report:
            groups = [(_text(t.mapping(), "title").split(" — ")[0], t["rows"].elements())
                      for t in report["tables"].elements()]
        if "figures" in report:
            groups.append(("", report["figures"].elements()))
    rows = []
    for group, items in groups:
        for item in items:
            if item.mapping().get("computed") is None or "value" not in item:
                continue
            printed = printed_number(item["value"].text())
            computed = item["computed"].number()
            if printed is None or printed == 0:
                continue
            scale = (item["scale"].number(POSITIVE) if item.get("scale") else
                     100.0 if _text(item, "unit") == "%" else 1.0)
            verdict = item["verdict"].text() if item.get("verdict") else None
            reproduced = (True if verdict == "reproduced" else False if verdict == "differs" else None if verdict
                          else item["reproduced"].flag() if item.get("reproduced") is not None else None)
            label = " · ".join(x for x in (group, _text(item, "quantity") or _text(item, "key"),
                                           _text(item, "convention")) if x)
            rows.append({"label": label, "group": group, "printed": printed, "shown": computed * scale,
                         "reproduced": reproduced})
    return rows


def _text(item: Field, key: str) -> str:
    """The text at ``key`` of an object, "" when it is absent or null."""
    return item[key].text() if item.get(key) is not None else ""


@figure("published-ratio", source="report",
        reads="sigcube report sparc / sensitivity / ablation --json (one or more, by label)")
def published_ratio(reports: Mapping[str, Any] | Any, title: str = "") -> Plot:
    """sigcube's value over the printed figure for every comparable row, one line per report (or preset, or
    table), coloured by the verdict (green: reproduced to the printed digits, red: differs, grey: not a test)."""
    reports = labelled(reports, ("tables", "figures"), "published figures")
    rows = [{**row, "source": f"{label}: {row['group']}".strip(": ") or "report"}
            for label, r in reports.items() for row in comparison_rows(r)]
    if not rows:
        raise PlotError("published figures: no row sets a computed value next to a printed number")
    sources = list(dict.fromkeys(r["source"] for r in rows))
    layers = [styled(hv.VLine(1.0, kdims=["ratio", "row"]), color="black", dash="dotted", width=1)]
    rng = np.random.default_rng(0)  # a fixed vertical jitter within each line, so that equal ratios stay visible
    lo, hi = RANGE
    for verdict, (name, color) in VERDICTS.items():
        chosen = [r for r in rows if r["reproduced"] is verdict]
        if not chosen:
            continue
        x = np.array([r["shown"] / r["printed"] for r in chosen])
        y = np.array([len(sources) - 1 - sources.index(r["source"]) for r in chosen]) + rng.uniform(-0.2, 0.2,
                                                                                                    len(chosen))
        inside = (x >= lo) & (x <= hi)
        layers.append(styled(hv.Scatter((x[inside], y[inside]), "ratio", "row", label=f"{name} ({len(chosen)})"),
                             color=color, size=8, alpha=0.8))
        if (~inside).any():
            layers.append(styled(hv.Scatter((np.clip(x[~inside], lo, hi), y[~inside]), "ratio", "row"), color=color,
                                 size=10, marker="x", width=2))
    outside = sum(not lo <= r["shown"] / r["printed"] <= hi for r in rows)
    ticks = [(len(sources) - 1 - i, s) for i, s in enumerate(sources)]
    view = framed(hv.Overlay(layers), title=title or "sigcube's value ÷ the printed figure",
                  xlabel=Label("sigcube ÷ printed (1: equal)", "sigcube ÷ printed (1: equal)"), ylabel=Label("", ""),
                  yticks=ticks, width=640, height=100 + 36 * len(sources), legend="right",
                  xlim=(lo - 0.05, hi + 0.05), ylim=(-0.6, len(sources) - 0.4))
    return Plot(view, f"Ratio of sigcube's value to the printed figure for {len(rows)} published figures "
                      f"({sum(r['reproduced'] is True for r in rows)} reproduced, "
                      f"{sum(r['reproduced'] is False for r in rows)} differing; {outside} ratios outside "
                      f"{lo:g}–{hi:g} drawn as × at the edge), by " + ", ".join(sources))
