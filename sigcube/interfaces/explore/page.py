"""The explorer: every view of a sweep and its dataset cube on one page.

:func:`save_explorer` writes a standalone HTML file: each section is its own document
root whose widget states are precomputed and embedded (panel ``embed_state``), so
sections do not multiply each other's states and the page works from ``file://`` with
no server and no network (bokeh/panel JavaScript and CSS inlined). :func:`explorer`
returns the same sections as one live panel for a notebook or ``panel serve``.
"""

from __future__ import annotations

import contextlib
import html
import io
import itertools
import json
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import holoviews as hv
import numpy as np
import panel as pn
import xarray as xr
from bokeh.document import Document
from bokeh.models import Div, ImportedStyleSheet, InlineStyleSheet
from panel.config import config
from panel.io.embed import embed_state
from panel.io.resources import CDN_DIST, DIST_DIR, set_resource_mode
from panel.io.save import save
from pyviz_comms import Comm

from sigcube.conventions import SampleCuts
from sigcube.engines.sweep.result import object_dim, parameter_dims
from sigcube.errors import SigcubeError
from sigcube.interfaces.explore.bounds import Limits
from sigcube.interfaces.explore.data import DEFAULT_KERNELS, predictions
from sigcube.interfaces.explore.labels import fmt
from sigcube.interfaces.explore.posterior_views import posterior_note, posterior_views
from sigcube.interfaces.explore.sweep_views import (
    GLOBAL_METRICS, best_parameter_distributions, frame_plan, plan_note, plural, sweep_heatmap, sweep_slice,
)
from sigcube.interfaces.explore.views import rar, rar_note, rotation_curve_gallery
from sigcube.io.datasets import dataset_kind
from sigcube.io.stores import store_errors
from sigcube.model.kernels.presets import DEFAULT_PRESET


@dataclass(frozen=True)
class Section:
    """One block of the page: a heading, a line saying what was embedded, its views.

    The views of a section are maps over the same dimensions (or static elements); one
    set of widgets drives them all. ``frames``: widget states embedded.
    """

    title: str
    note: str
    views: tuple[hv.core.Dimensioned, ...]
    frames: int


def sections(result: xr.Dataset, cube: xr.Dataset | None = None, kernels: Sequence[str] = DEFAULT_KERNELS,
             preset: str = DEFAULT_PRESET, limits: Limits = Limits()) -> list[Section]:
    """The explorer's sections for a finished sweep ``result``.

    A sweep over rotation curves (a kind that ``has_curves``: SPARC, a user's table) also gets the
    rotation-curve gallery and the RAR, drawn from its dataset ``cube`` with the sweep's sample cuts.
    """
    result = result.load()
    out: list[Section] = []
    kind = result.attrs.get("dataset")
    if dataset_kind(kind).has_curves:
        if cube is None:
            raise SigcubeError(f"the explorer of a {kind!r} sweep needs its dataset cube (rotation curves, RAR)")
        out += _galaxy_sections(result, cube, kernels, preset, limits)
    dims = parameter_dims(result)
    metrics = [m for m in GLOBAL_METRICS if m in result]  # none: a sweep that stored only per-object metrics
    for x, y in list(itertools.combinations(dims, 2))[: limits.max_pairs] if metrics else ():
        plan = frame_plan(result, [d for d in dims if d not in (x, y)], limits.max_frames)
        views = tuple(sweep_heatmap(result, m, x, y, limits.max_frames, limits.max_cells, dynamic=True)
                      for m in metrics)
        out.append(Section(f"Heatmaps over {x} × {y}", plan_note(result, plan), views, _n_frames(plan)))
    for x in dims if metrics else ():
        plan = frame_plan(result, [d for d in dims if d != x], limits.max_frames)
        views = tuple(sweep_slice(result, m, x, limits.max_frames, dynamic=True) for m in metrics)
        out.append(Section(f"Slices along {x}", plan_note(result, plan), views, _n_frames(plan)))
    if "loglike" in result:
        out.append(Section("Posterior (nuisance parameters per object)", posterior_note(result),
                           (posterior_views(result),), 1))
    if "rms" in result:
        objects = plural(object_dim(result))
        out.append(Section(f"Best parameters per {object_dim(result)}",
                           f"{result.sizes[object_dim(result)]} {objects}, parameters minimising each one's RMS",
                           (best_parameter_distributions(result, "rms"),), 1))
    if not out:
        raise SigcubeError(f"nothing to explore in sweep {result.attrs.get('sweep_name')!r}: it stored no global "
                           f"metric ({', '.join(GLOBAL_METRICS)}) and no per-object rms; rerun it with one in `metrics`")
    return out


def _galaxy_sections(result: xr.Dataset, cube: xr.Dataset, kernels: Sequence[str], preset: str,
                     limits: Limits) -> list[Section]:
    pred = predictions(cube, kernels, preset, SampleCuts(**json.loads(result.attrs["sample_cuts"])))
    n_gal = pred.points.n_galaxies
    gallery = rotation_curve_gallery(pred, max_galaxies=limits.max_galaxies, dynamic=True)
    shown = len(gallery.kdims[0].values)
    return [
        Section("Rotation curves", f"{shown} of {n_gal} galaxies embedded"
                + (" (evenly spread through the sample)" if shown < n_gal else ""), (gallery,), shown),
        Section("Radial acceleration relation",
                f"{rar_note(pred.points.n_points, limits.max_points)}; kernel curves are the median prediction "
                "in bins of g_bar over all points", (rar(pred, max_points=limits.max_points),), 1),
    ]


def _n_frames(plan: dict[str, np.ndarray]) -> int:
    return int(np.prod([len(i) for i in plan.values()]))


def _header(result: xr.Dataset, parts: list[Section], limits: Limits, embedded: bool) -> str:
    grid = " × ".join(f"{d}[{result.sizes[d]}]" for d in parameter_dims(result))
    fixed = ", ".join(f"{k} = {fmt(v)}" for k, v in json.loads(result.attrs["fixed_parameters"]).items())
    bounds = "".join(f"<li><b>{html.escape(s.title)}</b>: {html.escape(s.note)}</li>" for s in parts)
    mode = (f"Static page: every widget state is precomputed ({sum(s.frames for s in parts)} frames in all; at most "
            f"{limits.max_frames} per sweep view, {limits.max_galaxies} galaxies, {limits.max_cells} cells per "
            f"heatmap, {limits.max_points} RAR points)." if embedded else "Live session: widgets update on demand.")
    return (f"<h1>sigcube explorer: {html.escape(result.attrs['sweep_name'])}</h1>"
            f"<p>{html.escape(result.attrs.get('description', ''))}</p>"
            f"<p>kernel <b>{html.escape(result.attrs['kernel'])}</b> over {html.escape(grid)}; win rates against "
            f"{html.escape(result.attrs['baseline'])}; fixed: {html.escape(fixed) or 'none'}. "
            "Red ×: kernel default; white ○: best grid point of the frame.</p>"
            f"<p>{mode}</p><ul>{bounds}</ul>")


def _text(markup: str) -> pn.pane.Bokeh:
    """HTML text as a plain bokeh Div (no MathJax or CDN stylesheet needed offline)."""
    return pn.pane.Bokeh(Div(text=markup, width=980))


def _block(section: Section) -> pn.Column:
    """A section as one panel: its heading, one set of widgets, its views in a grid."""
    first = pn.pane.HoloViews(section.views[0], widget_location="top_left")
    kdims = section.views[0].kdims if isinstance(section.views[0], (hv.HoloMap, hv.DynamicMap)) else []
    shared = {d.name: w for d, w in zip(kdims, first.widget_box)}
    panes = [first, *(pn.pane.HoloViews(v, widgets=shared) for v in section.views[1:])]
    heading = _text(f"<h2>{html.escape(section.title)}</h2><p>{html.escape(section.note)}</p>")
    return pn.Column(heading, pn.Row(*first.widget_box), pn.GridBox(*panes, ncols=2))


def explorer(result: xr.Dataset, cube: xr.Dataset | None = None, kernels: Sequence[str] = DEFAULT_KERNELS,
             preset: str = DEFAULT_PRESET, limits: Limits = Limits()) -> pn.Column:
    """The whole explorer as one live panel (a notebook cell or ``pn.serve``)."""
    parts = sections(result, cube, kernels, preset, limits)
    return pn.Column(_text(_header(result, parts, limits, embedded=False)), *(_block(s) for s in parts))


def save_explorer(result: xr.Dataset, cube: xr.Dataset | None, out: str | Path,
                  kernels: Sequence[str] = DEFAULT_KERNELS, preset: str = DEFAULT_PRESET, limits: Limits = Limits()) -> Path:
    """Write the standalone HTML explorer to ``out`` (widgets embedded, no server) and return its path.

    The folder is checked before the page is drawn, and the page is written whole or not at all
    (:func:`_html_writer`); OS errors are one StoreWriteError line.

    >>> save_explorer(sigcube.open_result("cubes/sigma-A0-k.zarr"),
    ...               sigcube.open_cube("cubes/sparc.zarr"), "explorer.html")   # doctest: +SKIP
    """
    out = Path(out)
    with _html_writer(out) as write:
        write(_page(result, cube, kernels, preset, limits))
    return out


def _page(result: xr.Dataset, cube: xr.Dataset | None, kernels: Sequence[str], preset: str, limits: Limits) -> str:
    """The standalone HTML explorer's text."""
    parts = sections(result, cube, kernels, preset, limits)
    page = Document()
    header = pn.Column(_text(_header(result, parts, limits, embedded=True)))
    roots = [(header, 1), *((_block(s), s.frames) for s in parts)]
    with config.set(embed=True), set_resource_mode("inline"):
        for root, frames in roots:
            doc = Document()  # a section's own document: bokeh rescans a document's models at every update
            embed_state(root, root.get_root(doc, Comm()), doc, max_states=frames, max_opts=frames, progress=False)
            with page.models.freeze():  # one rescan, not one per root
                for model in list(doc.roots):
                    doc.remove_root(model)
                    page.add_root(model)
        _inline_stylesheets(page)
        text = io.StringIO()  # a file object: given a name, panel would append .html to one without it
        save(page, text, title=f"sigcube explorer: {result.attrs['sweep_name']}", resources="inline")
    return text.getvalue()


@contextlib.contextmanager
def _html_writer(out: Path) -> Iterator[Callable[[str], None]]:
    """``write(text)`` of ``out``, atomically: a temporary file beside it is created first (so an unwritable folder
    is refused before any work), filled and moved onto ``out`` (``os.replace``), and removed on any failure."""
    if out.is_dir():
        raise SigcubeError(f"{out} is a folder; give the path of the HTML file to write")
    temporary = out.with_name(f".{out.name}.{uuid.uuid4().hex[:12]}.tmp")
    with store_errors(str(out)):
        out.parent.mkdir(parents=True, exist_ok=True)
        handle = os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), "w", encoding="utf-8")

    def write(text: str) -> None:
        with store_errors(str(out)):
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
            os.replace(temporary, out)

    try:
        yield write
    finally:
        with contextlib.suppress(OSError):  # a full disk fails the close's flush too
            handle.close()
        temporary.unlink(missing_ok=True)


def _inline_stylesheets(doc: Document) -> None:
    """Replace stylesheets linked from the panel CDN by the same files, inlined."""
    cache: dict[str, InlineStyleSheet] = {}

    def local(sheet: Any) -> Any:
        if not isinstance(sheet, ImportedStyleSheet) or not sheet.url.startswith(CDN_DIST):
            return sheet
        path = DIST_DIR / sheet.url[len(CDN_DIST):].split("?")[0]
        if not path.is_file():
            return sheet
        if sheet.url not in cache:
            cache[sheet.url] = InlineStyleSheet(css=path.read_text(encoding="utf-8"))
        return cache[sheet.url]

    with doc.models.freeze():  # one rescan of the document, not one per model
        for model in list(doc.models):
            sheets = getattr(model, "stylesheets", None)
            if sheets and any(local(s) is not s for s in sheets):
                model.stylesheets = [local(s) for s in sheets]
