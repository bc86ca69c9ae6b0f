"""The views of a section as bokeh models whose widgets work in a standalone file, with no server and no panel.

Holoviews draws each view once; then every widget position is drawn in turn, and what the position changes in the
bokeh models (a glyph's data, a title, an axis range) is recorded from the document's change events. The page keeps
those changes, and a small script applies a position's when a widget moves: the browser redraws, nothing is computed
there. A position's frame is drawn into the same models (holoviews' update of one plot, never a new figure), so it
costs a fraction of a plot, and the file holds each frame's data once, not a document patch per widget state.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import holoviews as hv
import numpy as np
from bokeh.document import Document
from bokeh.layouts import grid
from bokeh.models import ColumnDataSource, CustomJS, CustomJSTickFormatter, LayoutDOM, Model, Select, Slider, Widget

from sigcube.interfaces.plots.base import fmt

Slot = tuple[Model, str]
"""A model's property."""

APPLY = """
const position = widgets.map((w, i) => w === null ? 0 : sliders[i] ? w.value : options[i].indexOf(w.value))
const frame = new Map(frames[position.reduce((k, p, i) => k * sizes[i] + p, 0)])
const column = (c) => c.length == 3 ? pool.slice(c[1], c[1] + c[2]) : c[1]
const value = (s, v) => data[s] ? Object.fromEntries(v.map((c) => [c[0], column(c)])) : v
slots.forEach(([m, attr], s) => { models[m][attr] = value(s, frame.has(s) ? frame.get(s) : start[s]) })
"""
"""The widgets' script: the frame of the widgets' positions (its index in row-major order), and every recorded slot
(a model's property) set to its value there: the frame's own, or the starting frame's where they are the same. A
source's data is a list of columns: ``[name, offset, length]`` in the pool of numbers (copied out: bokeh reads a
typed array's whole buffer), or ``[name, values]``."""


def static_views(views: Sequence[hv.core.Dimensioned], ncols: int = 2,
                 progress: Callable[[int, int], None] | None = None) -> tuple[list[Widget], LayoutDOM, int]:
    """The widgets (one per dimension of the views with more than one value, shared by all views), the grid of
    ``views`` drawn with bokeh, its frames recorded (module docstring), and how many frames; ``progress(done,
    total)`` hears of each frame drawn.

    The views share their widget dimensions: HoloMaps or DynamicMaps over the same kdims, or static elements. A
    dimension of numbers gets a slider over its values' positions (showing the value), any other a select; a
    dimension's default (a kernel default) is where its widget starts. The frames' columns of numbers are kept once
    each, in one pool of 32-bit floats (seven significant digits: more than a screen shows)."""
    renderer = hv.renderer("bokeh")
    plots = [renderer.get_plot(v) for v in views]
    body = grid([p.state for p in plots], ncols=ncols)
    kdims = views[0].kdims if isinstance(views[0], (hv.HoloMap, hv.DynamicMap)) else []
    values = [list(d.values) for d in kdims]
    keys = list(itertools.product(*values))
    if len(keys) <= 1:
        return [], body, 1
    start = tuple(d.default if d.default in v else v[0] for d, v in zip(kdims, values))
    for p in plots:
        p.update(start)
    first, frames = _record(plots, body, keys, start, progress)
    slots = {slot: i for i, slot in enumerate(first)}
    models = list(dict.fromkeys(model for model, _ in slots))
    data = [isinstance(m, ColumnDataSource) and attr == "data" for m, attr in slots]
    pool = _Pool()

    def packed(slot: Slot, value: Any) -> Any:
        return [pool.column(name, v) for name, v in value.items()] if data[slots[slot]] else value

    widgets = [_widget(d, v, s) if len(v) > 1 else None for d, v, s in zip(kdims, values, start)]
    args = {
        "widgets": widgets, "sliders": [isinstance(w, Slider) for w in widgets],
        "options": [[str(x) for x in v] for v in values], "sizes": [len(v) for v in values], "models": models,
        "slots": [[models.index(m), attr] for m, attr in slots], "data": data,
        "start": [packed(slot, value) for slot, value in first.items()],
        "frames": [[[slots[slot], packed(slot, value)] for slot, value in frame.items()] for frame in frames]}
    script = CustomJS(code=APPLY, args={**args, "pool": pool.array()})  # the pool, once every column is in it
    shown = [w for w in widgets if w is not None]
    for w in shown:
        w.js_on_change("value", script)
    return shown, body, len(keys)


class _Pool:
    """The frames' columns of numbers, each distinct one kept once, end to end in one array of 32-bit floats."""

    def __init__(self) -> None:
        self.parts: list[np.ndarray] = []
        self.offsets: dict[bytes, int] = {}
        self.size = 0

    def column(self, name: str, values: Any) -> list[Any]:
        """A source's column: ``[name, offset, length]`` of its numbers in the pool, or ``[name, values]`` when they
        are not a row of floats (text, integers, nested arrays)."""
        if not (isinstance(values, np.ndarray) and values.ndim == 1 and values.dtype.kind == "f"):
            return [name, values]
        numbers = values.astype(np.float32)
        key = numbers.tobytes()
        if key not in self.offsets:
            self.offsets[key] = self.size
            self.parts.append(numbers)
            self.size += len(numbers)
        return [name, self.offsets[key], len(numbers)]

    def array(self) -> np.ndarray:
        return np.concatenate(self.parts) if self.parts else np.zeros(0, np.float32)


def _record(plots: Sequence[Any], body: LayoutDOM, keys: Sequence[tuple], start: tuple,
            progress: Callable[[int, int], None] | None) -> tuple[dict[Slot, Any], list[dict[Slot, Any]]]:
    """Draw the frame of every key into ``plots`` and record what each changes: the value in the starting frame of
    every slot that differs in some frame, and per key the slots that differ there, with their values (a slot no
    frame has changed yet holds its starting value)."""
    doc = Document()
    doc.add_root(body)
    touched: dict[Slot, None] = {}

    def heard(event: Any) -> None:
        model, attr = getattr(event, "model", None), getattr(event, "attr", None)
        if isinstance(model, Model) and attr:
            touched[(model, attr)] = None

    doc.on_change(heard)
    frames = []
    for done, key in enumerate(keys):
        for p in plots:
            p.update(key)
        frames.append({slot: _value(*slot) for slot in touched})
        if progress is not None:
            progress(done + 1, len(keys))
    for p in plots:
        p.update(start)
    doc.remove_root(body)
    first = {slot: _value(*slot) for slot in touched}
    changed = [{slot: value for slot, value in frame.items() if not _same(value, first[slot])} for frame in frames]
    varying = {slot for frame in changed for slot in frame}
    return {slot: value for slot, value in first.items() if slot in varying}, changed


def _value(model: Model, attr: str) -> Any:
    """A property's value now, its containers copied (holoviews updates a source's data in place)."""
    value = getattr(model, attr)
    return dict(value) if isinstance(value, dict) else list(value) if isinstance(value, list) else value


def _same(a: Any, b: Any) -> bool:
    """Whether two property values are equal (a source's data column by column)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (np.ndarray, list)) or isinstance(b, (np.ndarray, list)):
        x, y = np.asarray(a), np.asarray(b)
        return x.shape == y.shape and x.dtype == y.dtype and bool(np.all((x == y) | ((x != x) & (y != y))))
    return a is b or a == b


def _widget(dim: hv.Dimension, values: Sequence[Any], start: Any) -> Widget:
    """A slider over the positions of numeric ``values`` (showing each value), else a select; at ``start``."""
    if all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in values):
        labels = [fmt(float(v)) for v in values]
        return Slider(title=dim.pprint_label, start=0, end=len(values) - 1, step=1, value=values.index(start),
                      format=CustomJSTickFormatter(args={"labels": labels}, code="return labels[tick]"))
    return Select(title=dim.pprint_label, options=[str(v) for v in values], value=str(start))
