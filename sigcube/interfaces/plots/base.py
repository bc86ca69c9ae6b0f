"""What every figure shares: its two backends, the neutral style of its elements, the checks of its input, and the
:class:`Plot` it returns.

A figure is one holoviews object styled for both backends at once: bokeh (interactive HTML: the explorer, ``sigcube
plot --out x.html``) and matplotlib (static PNG/SVG: the documentation's pages, ``--out x.png``). Styles are written
once in neutral words (:func:`styled`, :func:`framed`) and translated to each backend's option names here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  (the interactive backend, loaded first: it stays the current one)
import holoviews.plotting.mpl  # noqa: F401  (the static backend)
import numpy as np

from sigcube.errors import SigcubeError
from sigcube.interfaces.plots.labels import Label, axis_label, parameter_label

INTERACTIVE = "bokeh"
STATIC = "matplotlib"
COLORS = ("#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")
"""One colour per series (a kernel, a model, a probe), in the order they are given."""
GREY = "#7f7f7f"
LN10 = math.log(10.0)
FRAMEWISE = {"framewise": True}
"""Axis ranges follow each frame of a view with widgets (a galaxy, a slider position), and holoviews does not scan
every frame to normalise them (slow for many frames). Not ``axiswise``: with it a DynamicMap's overlays keep the
first frame's ranges."""


class PlotError(SigcubeError):
    """A figure asked of an input it cannot draw: empty, all-NaN, or missing what the figure reads."""


@dataclass(frozen=True)
class Plot:
    """A figure: the holoviews ``view`` (styled for both backends) and ``alt``, one sentence naming what it plots
    (the pages' alt text, the line ``sigcube plot`` prints)."""

    view: hv.core.Dimensioned
    alt: str


@dataclass(frozen=True)
class Pages:
    """A figure drawn on several pages (every galaxy of a sample, a grid per page): each page's :class:`Plot` by a
    short name saying what it shows (``01-CamB-to-D631-7``: the page's number, its first and last galaxy; a file
    name's tail), and ``alt``, one sentence naming what all of them plot."""

    pages: Mapping[str, Plot]
    alt: str


FILE_SAFE = re.compile(r"[^A-Za-z0-9._+-]+")
"""Characters a page's name keeps of an object's name (the rest become ``_``: a file name on any system)."""


def page_name(number: int, of: int, first: str, last: str) -> str:
    """A page's name: its number (zero-padded to the pages' count) and its first and last object, file-safe."""
    safe = [FILE_SAFE.sub("_", name).strip("._") or "_" for name in (first, last)]
    head = f"{number:0{len(str(of))}d}"
    return f"{head}-{safe[0]}" if first == last else f"{head}-{safe[0]}-to-{safe[1]}"


def report_of(data: Any) -> Any:
    """A report's JSON: ``data`` itself, or the report inside a committed record (``docs/results/<name>.json``); a
    PlotError when it is not a JSON object or list (null, a number, text)."""
    if isinstance(data, Mapping) and "report" in data and "commands" in data:
        data = data["report"]
    if not isinstance(data, (Mapping, list)):
        raise PlotError(f"the input is not a report: its JSON is {type(data).__name__ if data is not None else 'null'}"
                        ", not an object or a list (give a report's --json output)")
    return data


def require_store(data: Any, kinds: tuple[str, ...], what: str, reads: str) -> None:
    """Refuse a store whose ``sigcube_kind`` is not one of ``kinds``: a PlotError saying what ``what`` reads and
    what ``data`` is."""
    from sigcube.io.cubes import describe

    attrs = getattr(data, "attrs", None)
    if not isinstance(attrs, Mapping) or attrs.get("sigcube_kind") not in kinds:
        held = describe(dict(attrs)) if isinstance(attrs, Mapping) else f"a {type(data).__name__}"
        raise PlotError(f"{what} reads {reads}; this is {held}")


def labelled(reports: Any, keys: tuple[str, ...], what: str) -> dict[str, Any]:
    """Reports given as ``{label: report}``, or one report (recognised by one of its top-level ``keys``, or by
    being a committed record) as ``{"": report}``; none is a PlotError."""
    if not isinstance(reports, Mapping) or "report" in reports or any(k in reports for k in keys):
        reports = {"": reports}
    if not reports:
        raise PlotError(f"{what}: no report given")
    return dict(reports)


def numbers(values: Any, what: str, allow_nan: bool = True) -> np.ndarray:
    """``values`` as a 1-D float array; a PlotError when it is empty, not numbers, or has no finite value."""
    try:
        a = np.asarray([np.nan if v is None else v for v in values] if isinstance(values, (list, tuple)) else values,
                       dtype=float).ravel()
    except (TypeError, ValueError):
        raise PlotError(f"{what}: not numbers") from None
    if a.size == 0:
        raise PlotError(f"{what}: nothing to plot (empty)")
    if not np.isfinite(a).any():
        raise PlotError(f"{what}: nothing to plot (no finite value)")
    if not allow_nan and not np.isfinite(a).all():
        raise PlotError(f"{what}: {int((~np.isfinite(a)).sum())} values are not finite")
    return a


# --- neutral styles ----------------------------------------------------------------------------------------------

_MARKERS = {"o": ("circle", "o"), "x": ("x", "x"), "s": ("square", "s"), "d": ("diamond", "D"), "^": ("triangle", "^"),
            "v": ("inverted_triangle", "v"), "|": ("dash", "|")}
_DASH = {"solid": ("solid", "-"), "dashed": ("dashed", "--"), "dotted": ("dotted", ":"), "dashdot": ("dashdot", "-."),
         "longdash": ("10 4", (0, (10, 4)))}
_MARKED = (hv.Scatter, hv.Points)
_FILLED = (hv.Area, hv.Spread, hv.VSpan, hv.HSpan, hv.Rectangles, hv.Bars)


def styled(element: hv.Element, *, color: str | None = None, alpha: float | None = None, width: float | None = None,
           dash: str | None = None, size: float | None = None, marker: str | None = None,
           fill: str | None = None, label: str | None = None) -> hv.Element:
    """``element`` styled for both backends from neutral words: ``color``, ``alpha``, line ``width`` [px],
    ``dash`` (solid, dashed, dotted, dashdot), marker ``size`` [px] and ``marker`` (o, x, s, d, ^, v, |), ``fill``
    (a marker's or an area's fill colour, ``"none"`` for hollow markers)."""
    if label is not None:
        element = element.relabel(label)
    bokeh: dict[str, Any] = {}
    mpl: dict[str, Any] = {}
    if isinstance(element, _MARKED):
        if color is not None:
            bokeh["line_color"] = mpl["edgecolors"] = color
            bokeh["fill_color"] = mpl["color"] = color
        if fill is not None:
            bokeh["fill_color"] = None if fill == "none" else fill
            mpl["color"] = "none" if fill == "none" else fill
        if size is not None:
            bokeh["size"], mpl["s"] = size, (0.75 * size) ** 2
        if marker is not None:
            bokeh["marker"], mpl["marker"] = _MARKERS[marker]
        if width is not None:
            bokeh["line_width"] = mpl["linewidth"] = width
        if marker in ("x", "|"):
            mpl["edgecolors"] = None  # matplotlib draws an unfilled marker in its face colour
    elif isinstance(element, _FILLED):
        if color is not None:
            bokeh["color"], mpl["facecolor"] = color, color
        if fill is not None:
            bokeh["fill_color"] = mpl["facecolor"] = fill
        if width is not None:
            bokeh["line_width"], mpl["linewidth"] = width, width
        if isinstance(element, (hv.VSpan, hv.HSpan)):
            mpl["color"] = None  # matplotlib's spans refuse a colour beside a face colour
        elif isinstance(element, (hv.Area, hv.Spread)) and mpl.get("facecolor"):
            mpl["color"] = mpl["facecolor"]  # else holoviews' colour cycle paints the area
        else:
            mpl["edgecolor"] = "none" if width is None else (color or "black")
    else:
        if color is not None:
            bokeh["color"] = mpl["color"] = color
            if isinstance(element, hv.ErrorBars):
                mpl["edgecolor"] = color  # matplotlib's error bars take their colour from edgecolor alone
        if width is not None:
            bokeh["line_width"], mpl["linewidth"] = width, width
        if dash is not None:
            bokeh["line_dash"], mpl["linestyle"] = _DASH[dash]
    if alpha is not None:
        bokeh["alpha"] = mpl["alpha"] = alpha
    return element.opts(backend=INTERACTIVE, **bokeh).opts(backend=STATIC, **mpl)


def _braces(text: str) -> str:
    """A title as holoviews reads it: a format string, whose braces (mathtext's) are doubled to stay as written."""
    return text.replace("{", "{{").replace("}", "}}")


def framed(view: hv.core.Dimensioned, *, title: str | Label = "", xlabel: Label | None = None, ylabel: Label | None = None,
           width: int = 560, height: int = 380, logx: bool = False, logy: bool = False,
           xticks: Sequence[tuple[float, str]] | int | None = None,
           yticks: Sequence[tuple[float, str]] | int | None = None,
           legend: str | None = "top_left", grid: bool = True, **both: Any) -> hv.core.Dimensioned:
    """A panel's frame for both backends: title (text, or a :class:`~sigcube.interfaces.plots.labels.Label` whose
    mathematics matplotlib typesets), axis labels (Unicode for bokeh, mathtext for matplotlib), size in
    pixels (matplotlib: the same aspect at 100 dpi), log axes, explicit ticks (``(value, label)`` pairs, or a
    count: 0 for none), legend position (``best``: where it covers the fewest data in the static figure, top left in
    the interactive one, whose legend hides a series on a click), grid."""
    common: dict[str, Any] = {"logx": logx, "logy": logy, "show_grid": grid, **both}
    for key, ticks in (("xticks", xticks), ("yticks", yticks)):
        if ticks is not None:
            common[key] = ticks if isinstance(ticks, int) else list(ticks)
    shown = legend is not None and isinstance(view, hv.Overlay)
    bokeh = {**common, "width": width, "height": height}
    # matplotlib draws a panel taller than wide in a square figure of its width: its frame narrower by width/height
    room = int(width * min(1.0, width / height)
               * (TITLE_ROOM_LEGEND if legend == "right" and isinstance(view, hv.Overlay) else TITLE_ROOM))
    titles = _titles(title if isinstance(title, Label) else wrapped(title, room))
    if titles:
        bokeh["title"] = titles[0]
    # holoviews sets a numeric aspect from the natural log of a log axis's range where matplotlib reads log10: with
    # one log axis the panel came out ln 10 times too narrow or too flat, unless the aspect says so beforehand
    mpl = {**common, "aspect": width / height * (LN10 if logx and not logy else 1 / LN10 if logy and not logx else 1),
           "fig_inches": width / 100}
    if titles:
        mpl["title"] = titles[1]
    if shown:
        bokeh["legend_position"] = "top_left" if legend == "best" else legend
        mpl["legend_position"] = legend
        mpl["legend_opts"] = {"fontsize": 8, "framealpha": 0.8}
    if isinstance(view, hv.Overlay):
        bokeh["show_legend"] = mpl["show_legend"] = shown
    mpl["hooks"] = []
    if (logx and xticks is not None and not isinstance(xticks, int)) or (logy and yticks is not None
                                                                          and not isinstance(yticks, int)):
        mpl["hooks"].append(_no_minor_labels)
    if xlabel is not None:
        bokeh["xlabel"], mpl["xlabel"] = xlabel.unicode, xlabel.tex
    if ylabel is not None:
        bokeh["ylabel"], mpl["ylabel"] = ylabel.unicode, ylabel.tex
    return view.opts(backend=INTERACTIVE, **bokeh).opts(backend=STATIC, **mpl)


def wrapped(text: str, width: int) -> str:
    """A plain title with each line broken at spaces to fit ``width`` pixels (:data:`TITLE_PX_PER_CHAR`)."""
    import textwrap

    return "\n".join(part for line in text.split("\n")
                     for part in (textwrap.wrap(line, max(12, width // TITLE_PX_PER_CHAR)) or [""]))


def _titles(title: str | Label) -> tuple[str, str] | None:
    """A title for bokeh and for matplotlib (mathtext), braces doubled (:func:`_braces`); None for no title."""
    if isinstance(title, Label):
        return (_braces(title.unicode), _braces(title.tex)) if title.unicode else None
    return (_braces(title), _braces(title.replace("$", r"\$"))) if title else None


def key_panel(entries: Iterable[hv.Element], width: int = 300, height: int = 200) -> hv.Overlay:
    """A panel holding only a legend: one entry per styled, labelled element of ``entries`` (drawn with no data),
    no axes. The key of a layout whose panels are too full of data to carry their own legend."""
    layers = [e.clone(data=[(np.nan, np.nan)], kdims=["key_x"], vdims=["key_y"]).opts(
        backend=STATIC, xaxis=None, yaxis=None) for e in entries]  # matplotlib: the axes hidden on every layer
    if not layers:
        raise PlotError("a key panel needs at least one entry")
    view = hv.Overlay(layers)
    common = {"xaxis": None, "yaxis": None, "show_legend": True, "show_grid": False}
    return (view.opts(backend=INTERACTIVE, width=width, height=height, legend_position="top_left", toolbar=None,
                      **common)
            .opts(backend=STATIC, fig_inches=width / 100, aspect=width / height, show_frame=False,
                  legend_position="top_left", legend_opts={"fontsize": 9, "framealpha": 0.0}, **common))


def _no_minor_labels(plot: Any, element: Any) -> None:
    """matplotlib: no labels on a log axis's minor ticks when the major ticks are given (they would overlap)."""
    from matplotlib.ticker import NullFormatter

    axis = plot.handles["axis"]
    axis.xaxis.set_minor_formatter(NullFormatter())
    axis.yaxis.set_minor_formatter(NullFormatter())


def layout(panels: Iterable[hv.core.Dimensioned], cols: int = 2, title: str = "",
           caption: str | Label | Sequence[Label] = "") -> hv.Layout:
    """Panels side by side, ``cols`` per row (matplotlib: no A/B sublabels, the figure as wide as the panels'
    pixel widths at 100 dpi), under the figure's ``title`` and ``caption`` (what its symbols are: what u is; clauses,
    joined by semicolons into lines as wide as the figure: :func:`caption_lines`).
    Panels whose dimensions have the same name share their ranges: give a panel that needs its own range dimensions
    of its own name (:func:`own`)."""
    panels = list(panels)
    cols = max(1, min(cols, len(panels)))
    rows = -(-len(panels) // cols)
    sizes = [(_size(p, "width", 460), _size(p, "height", 340)) for p in panels]
    width = max(sum(w for w, _ in sizes[r * cols:(r + 1) * cols]) for r in range(rows))
    height = sum(max(h for _, h in sizes[r * cols:(r + 1) * cols]) for r in range(rows))
    height += TITLE_LINE_PX * max(_title_lines(p) for p in panels[:cols])  # room for the first row's titles
    out = hv.Layout(panels).cols(cols)
    head = _titles(title) or ("", "")
    note = _titles(caption_lines(caption, width)) or ("", "")
    both = ["\n".join(t for t in (head[k], note[k]) if t) for k in (0, 1)]
    out = out.opts(backend=INTERACTIVE, shared_axes=False, **({"title": both[0]} if both[0] else {}))
    lines = max(_title_lines(p) for p in panels)
    return out.opts(backend=STATIC, sublabel_format="", fig_inches=(width / 100, height / 100),
                    vspace=0.3 + 0.1 * lines, hspace=0.35, **({"title": both[1], "fontsize": {"title": 11 if title else 10}} if both[1] else {}))


TITLE_PX_PER_CHAR = 9
"""Pixels a title's character takes, about: a plain title is wrapped to its panel's width (:func:`wrapped`)."""
TITLE_ROOM, TITLE_ROOM_LEGEND = 0.8, 0.65
"""The share of a panel's width its frame takes (its axis labels and ticks take the rest; a legend on its right
more): a plain title is wrapped to it."""
TITLE_LINE_PX = 20
"""Pixels a line of a panel's title takes above its frame."""
CAPTION_PX_PER_CHAR = 6.5
"""Pixels a caption's character takes, about (its lines are broken to the figure's width)."""


def caption_lines(caption: str | Label | Sequence[Label], width: int) -> Label:
    """A caption's clauses joined by semicolons, a line broken before a clause that would pass ``width`` pixels."""
    clauses = [caption] if isinstance(caption, (str, Label)) else list(caption)
    clauses = [c if isinstance(c, Label) else Label(c, c.replace("$", r"\$")) for c in clauses if c]
    if not clauses:
        return Label("", "")
    most, out, line = int(width / CAPTION_PX_PER_CHAR), clauses[0], len(clauses[0].unicode)
    for clause in clauses[1:]:
        joint = "\n" if line + 2 + len(clause.unicode) > most else "; "
        line = len(clause.unicode) if joint == "\n" else line + 2 + len(clause.unicode)
        out = out + (";\n" if joint == "\n" else joint) + clause
    return out


def _title_lines(view: hv.core.Dimensioned) -> int:
    """The lines of a panel's title (the room a layout leaves above it)."""
    title = hv.Store.lookup_options(STATIC, view, "plot").kwargs.get("title") or ""
    return title.count("\n") + 1 if title else 0


def _size(view: hv.core.Dimensioned, key: str, default: int) -> int:
    """A panel's width or height in pixels, as set for the interactive backend."""
    return int(hv.Store.lookup_options(INTERACTIVE, view, "plot").kwargs.get(key) or default)


def framewise(view: hv.Overlay) -> hv.Overlay:
    """``view`` and each of its elements with ranges that follow the frame (:data:`FRAMEWISE`): the frames of a
    view with widgets."""
    return view.map(lambda e: e.opts(**FRAMEWISE), hv.Element).opts(**FRAMEWISE)


def own(name: str, key: str) -> str:
    """A dimension name made unique by ``key``: the panel keeps its own range in a layout (holoviews gives the
    dimensions of one label one range); :func:`framed` labels the axes."""
    return f"{name}_{key}"


def dimension(name: str, attrs: Mapping[str, Any] | None = None, text: str | None = None,
              parameter: bool = False) -> hv.Dimension:
    """A holoviews dimension (a widget's, a hover's) labelled ``long_name [units]`` in Unicode
    (:func:`~sigcube.interfaces.plots.labels.axis_label`; a ``parameter``'s name, symbol and unit:
    :func:`~sigcube.interfaces.plots.labels.parameter_label`), its values shown with :func:`fmt`."""
    label = parameter_label(name, attrs) if parameter and text is None else axis_label(name, attrs, text)
    return hv.Dimension(name, label=label.unicode, value_format=fmt)


def fmt(value: Any) -> str:
    """A number as a short string (4 significant digits); anything else as it is."""
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.4g}" if math.isfinite(value) else "nan"
    return str(value)


def plural(noun: str) -> str:
    """galaxy → galaxies, cluster → clusters."""
    return noun[:-1] + "ies" if noun.endswith("y") else noun + "s"
