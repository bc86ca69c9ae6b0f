"""What a drawn matplotlib figure shows badly, measured by its renderer: texts that overlap (titles, axis labels,
tick labels, annotations, legend entries) and legends or texts drawn over data (markers, error bars, lines).

Every box is the artist's window extent after ``figure.canvas.draw()``; data are the display positions of scatter
markers, error-bar and segment ends, and line vertices (lines sampled every few pixels), of artists in data
coordinates only (reference lines spanning an axis and shaded bands are not data).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.text import Text
from matplotlib.transforms import Bbox

SLACK = 1.0
"""Pixels each box is shrunk by before two are said to overlap (anti-aliasing, rounding)."""
STEP = 3.0
"""Pixels between the samples of a line's segments."""
COVERED = 0.005
"""The largest fraction of a panel's data (markers and line samples) a legend may lie over: a few stray points of
thousands (the RAR's) do not hide what the panel shows; a curve or a cluster of markers does."""


@dataclass(frozen=True)
class Box:
    what: str
    box: Bbox


def _shown(text: Text) -> bool:
    return text.get_visible() and bool(text.get_text().strip())


def _tick_texts(ax) -> list[Box]:
    out = []
    for axis, limits, name in ((ax.xaxis, ax.get_xlim(), "x"), (ax.yaxis, ax.get_ylim(), "y")):
        lo, hi = sorted(limits)
        for label in axis.get_ticklabels(which="both"):
            at = label.get_position()[0 if name == "x" else 1]
            if _shown(label) and lo - 1e-12 * abs(hi - lo) <= at <= hi + 1e-12 * abs(hi - lo):
                out.append(Box(f"{name} tick label {label.get_text()!r}", label.get_window_extent()))
    return out


def texts(figure: Figure) -> list[Box]:
    """Every visible text of ``figure`` with its box, named for messages."""
    out = []
    if figure._suptitle is not None and _shown(figure._suptitle):
        out.append(Box(f"figure title {figure._suptitle.get_text()!r}", figure._suptitle.get_window_extent()))
    for i, ax in enumerate(figure.axes):
        where = f"panel {i} ({ax.get_title()[:40]!r})"
        for title in (ax.title, ax._left_title, ax._right_title):
            if _shown(title):
                out.append(Box(f"{where} title", title.get_window_extent()))
        for label, name in ((ax.xaxis.label, "x label"), (ax.yaxis.label, "y label")):
            if _shown(label):
                out.append(Box(f"{where} {name} {label.get_text()!r}", label.get_window_extent()))
        out += [Box(f"{where} {b.what}", b.box) for b in _tick_texts(ax)]
        out += [Box(f"{where} annotation {t.get_text()!r}", t.get_window_extent()) for t in ax.texts if _shown(t)]
        legend = ax.get_legend()
        if legend is not None and legend.get_visible():
            out += [Box(f"{where} legend entry {t.get_text()!r}", t.get_window_extent()) for t in legend.get_texts()
                    if _shown(t)]
    return out


def _sampled(points: np.ndarray) -> np.ndarray:
    """Points along a polyline every :data:`STEP` pixels (display coordinates)."""
    points = points[np.isfinite(points).all(axis=1)]
    if len(points) < 2:
        return points
    out = [points[:1]]
    for a, b in zip(points[:-1], points[1:]):
        n = max(1, int(np.hypot(*(b - a)) // STEP))
        out.append(a + (b - a) * np.linspace(0, 1, n + 1)[1:, None])
    return np.concatenate(out)


def data_points(ax) -> np.ndarray:
    """Display positions of an axes' data: markers, segment samples, line samples (data coordinates only)."""
    out = [np.empty((0, 2))]
    for line in ax.lines:
        if isinstance(line, Line2D) and line.get_visible() and line.get_transform() == ax.transData:
            xy = line.get_transform().transform(np.asarray(line.get_xydata(), dtype=float))
            out.append(_sampled(xy) if line.get_linestyle() not in ("None", "") else xy)
    for coll in ax.collections:
        if not coll.get_visible():
            continue
        if isinstance(coll, PathCollection) and len(coll.get_offsets()):
            out.append(coll.get_offset_transform().transform(np.asarray(coll.get_offsets(), dtype=float)))
        elif isinstance(coll, LineCollection) and coll.get_transform() == ax.transData:
            for seg in coll.get_segments():
                out.append(_sampled(ax.transData.transform(np.asarray(seg, dtype=float))))
    points = np.concatenate(out)
    inside = ax.get_window_extent()
    keep = np.isfinite(points).all(axis=1)
    points = points[keep]
    return points[(points[:, 0] >= inside.x0 - 1) & (points[:, 0] <= inside.x1 + 1) & (points[:, 1] >= inside.y0 - 1)
                  & (points[:, 1] <= inside.y1 + 1)]


def _overlap(a: Bbox, b: Bbox) -> bool:
    return (min(a.x1, b.x1) - max(a.x0, b.x0) > 2 * SLACK) and (min(a.y1, b.y1) - max(a.y0, b.y0) > 2 * SLACK)


def _covers(box: Bbox, points: np.ndarray) -> int:
    return int(np.sum((points[:, 0] > box.x0 + SLACK) & (points[:, 0] < box.x1 - SLACK)
                      & (points[:, 1] > box.y0 + SLACK) & (points[:, 1] < box.y1 - SLACK)))


def problems(figure: Figure) -> list[str]:
    """Overlapping texts, legends over data, axis texts over data, each as one line."""
    FigureCanvasAgg(figure)  # holoviews leaves the base canvas, whose draw() lays nothing out
    figure.canvas.draw()
    found = texts(figure)
    out = [f"{a.what} overlaps {b.what}" for i, a in enumerate(found) for b in found[i + 1:] if _overlap(a.box, b.box)]
    data = [(i, data_points(ax)) for i, ax in enumerate(figure.axes)]
    for i, ax in enumerate(figure.axes):
        legend = ax.get_legend()
        if legend is not None and legend.get_visible():
            box = legend.get_window_extent()
            for j, points in data:
                n = _covers(box, points)
                if n > COVERED * len(points):
                    out.append(f"panel {i}'s legend covers {n} of the {len(points)} data points of panel {j}")
            out += [f"panel {i}'s legend covers {t.what}" for t in found if "legend entry" not in t.what
                    and _overlap(box, t.box)]
    for t in found:
        if "annotation" in t.what or "legend entry" in t.what:
            continue
        for j, points in data:
            n = _covers(t.box, points)
            if n:
                out.append(f"{t.what} lies over {n} data point(s) of panel {j}")
    return out


# --- what a figure says: labels, units, legends, room ----------------------------------------------------------------

INTERNAL_KEY = re.compile(r"(?<![\w$\\{])[a-z][a-z0-9]+(?:_[a-z0-9]+)+(?![\w}])")
"""A snake_case identifier (``velocity_floor``, ``clash_syst``): a report's key, not a word a reader knows."""
DIMENSIONAL = re.compile(r"(?i:velocity|radius|acceleration|distance|luminosity|halo mass|stellar mass|evidence)|"
                         r"\bV_|\bg_|\bR\b|M_?\{?200|M_?\\star|M★|\bL_\{?V|ELPD|\bln\s*[LZ]\b|^\s*σ_int|"
                         r"^\s*\\?\$?\\?sigma_|^\$?a_\{?0|^a₀")
"""Words and symbols of a quantity with a unit (km/s, kpc, m/s², M☉, L☉, nat, dex): its axis label must give it."""
UNIT = re.compile(r"\[[^\]]+\]")
RATIO = re.compile(r"[/÷→]")
"""A ratio or a scale factor (σ_pred/σ_obs, V_bar → f·V_bar): a number without a unit."""
TITLE_SPILL = 0.1
"""How far a panel's title may run past either side of its frame, as a fraction of the frame's width."""


def _plain(text: str) -> str:
    """A text as drawn, without mathtext's markup (``$V_\\mathrm{obs}$`` → ``V_obs``), for reading its words."""
    out = re.sub(r"\\mathrm\{([^{}]*)\}", r"\1", text)
    return out.replace("$", "")


def _numeric(labels: list[str]) -> bool:
    """Whether tick labels are numbers (a quantity's axis), not names (a categorical one)."""
    shown = [t for t in labels if t.strip()]
    return bool(shown) and all(re.fullmatch(r"[−\-+]?[\d.,]+(e[−\-+]?\d+)?|\$[^$]*\$|[\d.]+%?", t.strip()) for t in shown)


def reading_problems(figure: Figure, allowed: frozenset[str] = frozenset()) -> list[str]:
    """What a reader of ``figure`` cannot read, each as one line: a quantity's axis without a label or without its
    unit, a report's key (a snake_case identifier, but the names of ``allowed``: a report's model names) in any text,
    a legend entry without a name or named twice, panels whose frames intersect, a panel's title too long for it
    (past its frame's sides by more than :data:`TITLE_SPILL` of its width: cut at the figure's edge, or over its
    neighbour)."""
    FigureCanvasAgg(figure)
    figure.canvas.draw()
    out = []
    frames = [(i, ax) for i, ax in enumerate(figure.axes) if ax.axison and ax.get_visible()]
    for i, ax in frames:
        where = f"panel {i} ({ax.get_title()[:40]!r})"
        for axis, label, name in ((ax.xaxis, ax.get_xlabel(), "x"), (ax.yaxis, ax.get_ylabel(), "y")):
            ticks = [t.get_text() for t in axis.get_ticklabels() if t.get_visible()]
            if axis.get_visible() and _numeric(ticks):
                if not label.strip():
                    out.append(f"{where}: its {name} axis has no label")
                elif DIMENSIONAL.search(_plain(label)) and not UNIT.search(label) and not RATIO.search(label):
                    out.append(f"{where}: its {name} axis {label!r} names a quantity with a unit but gives none")
        legend = ax.get_legend()
        if legend is not None and legend.get_visible():
            entries = [t.get_text() for t in legend.get_texts()]
            if any(not e.strip() for e in entries):
                out.append(f"{where}: a legend entry has no name")
            if len(set(entries)) != len(entries):
                out.append(f"{where}: a legend names a series twice ({entries})")
    for (i, a), (j, b) in ((x, y) for n, x in enumerate(frames) for y in frames[n + 1:]):
        if _overlap(a.get_window_extent(), b.get_window_extent()):
            out.append(f"panels {i} and {j} overlap")
    for text in (t.get_text() for t in figure.findobj(Text) if _shown(t)):
        for key in INTERNAL_KEY.findall(_plain(text)):
            if key not in allowed:
                out.append(f"the text {text!r} shows the key {key!r}")
    for i, ax in frames:
        frame, title = ax.get_window_extent(), ax.title.get_window_extent()
        spill = max(frame.x0 - title.x0, title.x1 - frame.x1)
        if _shown(ax.title) and spill > TITLE_SPILL * frame.width:
            out.append(f"panel {i}'s title {ax.get_title()[:40]!r} runs {spill:.0f} px past its frame: too long for "
                       "its panel (cut, or over its neighbour)")
    return out
