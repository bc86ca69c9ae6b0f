"""The explorer: every view of a sweep and its dataset cube on one page.

:func:`save_explorer` writes a standalone HTML file: each section is its own document
root whose widget states are precomputed and embedded (panel ``embed_state``), so
sections do not multiply each other's states and the page works from ``file://`` with
no server and no network (bokeh/panel JavaScript and CSS inlined). :func:`explorer`
returns the same sections as one live panel for a notebook or ``panel serve``.
"""

from __future__ import annotations

import html
import itertools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import holoviews as hv
import numpy as np
import panel as pn
import xarray as xr
from bokeh.document import Document
from bokeh.embed import file_html
from bokeh.layouts import column, row
from bokeh.models import Div, Plot
from bokeh.resources import Resources

from sigcube.conventions import SampleCuts
from sigcube.engines.sweep.result import grid_edges, object_dim, parameter_dims, scatter_dims
from sigcube.errors import SigcubeError
from sigcube.interfaces.explore.bounds import Limits, spread
from sigcube.interfaces.explore.posterior_curves import posterior_curves
from sigcube.interfaces.explore.posterior_views import joint_posterior_views, posterior_note, posterior_views
from sigcube.interfaces.explore.static import static_views
from sigcube.interfaces.explore.sweep_views import (
    best_parameter_distributions, frame_plan, metric_dims, plan_note, sweep_heatmap, sweep_slice,
)
from sigcube.interfaces.explore.views import curve_gallery, rar, rotation_curve_gallery
from sigcube.interfaces.plots.base import fmt, plural
from sigcube.interfaces.plots.comparison import joint_costs
from sigcube.interfaces.plots.galaxies import DEFAULT_KERNELS, predictions
from sigcube.interfaces.plots.rar import rar_note
from sigcube.interfaces.plots.output import PAGE_FORMATS, output_file, replaced
from sigcube.interfaces.plots.population import population_figures
from sigcube.interfaces.plots.sweeps import GLOBAL_METRICS
from sigcube.interfaces.arviz_export import describe_export
from sigcube.interfaces.plots.data import grids_of
from sigcube.interfaces.plots.posteriors import corner
from sigcube.interfaces.population_report import population_of, population_report
from sigcube.interfaces.sweep_report import sweep_report, warning_lines
from sigcube.io.cubes import JOINT_KIND, check_source_cube
from sigcube.io.datasets import dataset_kind
from sigcube.io.stores import store_errors
from sigcube.model.kernels.presets import DEFAULT_PRESET


TEXT_WIDTH = 980
"""Pixels of the page's text blocks."""


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


@dataclass(frozen=True)
class PopulationQuestion:
    """Ask a nuisance sweep whether ``parameter`` is universal (:mod:`sigcube.interfaces.population_report`): the
    explorer then shows the forest of per-object estimates and the (μ, τ) posterior."""

    parameter: str
    scale: str = "linear"
    others: str = "marginalise"


Progress = Callable[[str, int, int], None]
"""``progress(part, done, total)``: the part of the page being drawn, and how many of its frames are (``total`` 0: a
step of its own)."""


def _silent(part: str, done: int, total: int) -> None:
    """The :data:`Progress` that says nothing."""


def sections(result: xr.Dataset | xr.DataTree, cube: xr.Dataset | None = None, kernels: Sequence[str] = DEFAULT_KERNELS,
             preset: str = DEFAULT_PRESET, limits: Limits = Limits(),
             population: PopulationQuestion | None = None, progress: Progress = _silent) -> list[Section]:
    """The explorer's sections for a finished sweep ``result``, a joint sweep's cube or a posterior export.

    A sweep over rotation curves (a kind that ``has_curves``: SPARC, a user's table) also gets the
    rotation-curve gallery and the RAR, drawn from its dataset ``cube`` with the sweep's sample cuts; a nuisance
    sweep draws its curves at the posterior (:mod:`~sigcube.interfaces.explore.posterior_curves`) and its credible
    contours, and with ``population`` the population of one parameter. A joint sweep's cube gets each dataset's
    posterior and the joint one, overlaid, and each object's cost of the compromise; a posterior export
    (``sigcube export``) the marginals and contours of its draws. The metrics' heat maps and slices span the axes
    they depend on (:func:`~sigcube.interfaces.explore.sweep_views.metric_dims`: not a likelihood's scatter).
    ``progress`` hears of each step.
    """
    progress("reading the result", 0, 0)
    result = result.load()
    if isinstance(result, xr.DataTree):
        return [Section("Posterior draws", "marginals and 68/95 % credible contours of the draws counted per grid "
                        f"point; prior: {result.attrs.get('prior', '')}", (corner(grids_of(result),
                                                                                  limits.max_pairs).view,), 1)]
    if result.attrs.get("sigcube_kind") == JOINT_KIND:
        return _joint_sections(result, limits)
    out: list[Section] = []
    kind = result.attrs.get("dataset")
    if dataset_kind(kind).has_curves:
        if cube is None:
            raise SigcubeError(f"the explorer of a {kind!r} sweep needs its dataset cube (rotation curves, RAR)")
        out += _galaxy_sections(result, cube, kernels, preset, limits, progress)
    dims = metric_dims(result)
    held = "".join(f"; the metrics do not depend on {d} (a scatter of the likelihood): not drawn"
                   for d in scatter_dims(result))
    metrics = [m for m in GLOBAL_METRICS if m in result]  # none: a sweep that stored only per-object metrics
    for x, y in list(itertools.combinations(dims, 2))[: limits.max_pairs] if metrics else ():
        plan = frame_plan(result, [d for d in dims if d not in (x, y)], limits.max_frames)
        views = tuple(sweep_heatmap(result, m, x, y, limits.max_frames, limits.max_cells, dynamic=True)
                      for m in metrics)
        out.append(Section(f"Heatmaps over {x} × {y}", plan_note(result, plan) + held, views, _n_frames(plan)))
    for x in dims if metrics else ():
        plan = frame_plan(result, [d for d in dims if d != x], limits.max_frames)
        views = tuple(sweep_slice(result, m, x, limits.max_frames, dynamic=True) for m in metrics)
        out.append(Section(f"Slices along {x}", plan_note(result, plan) + held, views, _n_frames(plan)))
    if "loglike" in result:
        progress("the posterior", 0, 0)
        out.append(Section("Posterior (nuisance parameters per object)", posterior_note(result),
                           (posterior_views(result, limits.max_pairs),), 1))
        if population is not None:
            out.append(_population_section(result, population))
    elif population is not None:
        raise SigcubeError("the population question needs a nuisance sweep (a spec with a [nuisance] table)")
    if "rms" in result:
        objects = plural(object_dim(result))
        out.append(Section(f"Best parameters per {object_dim(result)}",
                           f"{result.sizes[object_dim(result)]} {objects}, parameters minimising each one's RMS"
                           + _edge_note(result), (best_parameter_distributions(result, "rms"),), 1))
    if not out:
        raise SigcubeError(f"nothing to explore in sweep {result.attrs.get('sweep_name')!r}: it stored no global "
                           f"metric ({', '.join(GLOBAL_METRICS)}) and no per-object rms; rerun it with one in `metrics`")
    return out


def _edge_note(result: xr.Dataset) -> str:
    """How many objects have their best RMS on each end of each axis (:func:`grid_edges`), those cut off by it
    (their optimum may lie beyond the grid) counted apart."""
    ends = grid_edges(result, [], "rms")["per_object"]
    parts = [f"{e['count']} on the {side} end of {d}"
             + (f" ({e['kinds']['cut']} still falling there: the grid cuts them off)" if e.get("kinds", {}).get("cut")
                else " (the end is their answer)")
             for d, sides in ends.items() for side, e in sides.items()]
    return ("; ⚠ " + ", ".join(parts) + " — the spikes at the axes' ends") if parts else "; none on an end of the grid"


def _galaxy_sections(result: xr.Dataset, cube: xr.Dataset, kernels: Sequence[str], preset: str,
                     limits: Limits, progress: Progress = _silent) -> list[Section]:
    check_source_cube(cube, result.attrs.get("dataset_content_sha256"), "the sweep")
    progress("the kernels' rotation curves and the RAR", 0, 0)
    pred = predictions(cube, kernels, preset, SampleCuts(**json.loads(result.attrs["sample_cuts"])))
    n_gal = pred.points.n_galaxies
    if "loglike" in result and all(np.issubdtype(result[d].dtype, np.number) for d in parameter_dims(result)):
        progress("the rotation curves at the posterior", 0, 0)
        curves, where = posterior_curves(result, cube)
        curves = [curves[i] for i in spread(len(curves), limits.max_galaxies)]
        gallery = curve_gallery(curves, dynamic=True)
        title, note = "Rotation curves at the posterior", f"; {where}"
    else:
        gallery = rotation_curve_gallery(pred, max_galaxies=limits.max_galaxies, dynamic=True)
        title, note = "Rotation curves", ""
    shown = len(gallery.kdims[0].values)
    return [
        Section(title, f"{shown} of {n_gal} galaxies embedded"
                + (" (evenly spread through the sample)" if shown < n_gal else "") + note, (gallery,), shown),
        Section("Radial acceleration relation",
                f"{rar_note(pred.points.n_points, limits.max_points)}; kernel curves ({', '.join(pred.v_pred)}, "
                "catalogue Υ, D, i) are the median prediction in bins of g_bar over all points",
                (rar(pred, max_points=limits.max_points),), 1),
    ]


def _population_section(result: xr.Dataset, question: PopulationQuestion) -> Section:
    """The forest of each object's own and shrunk estimate and the (μ, τ) posterior with its credible contours."""
    report = population_report(result, question.parameter, scale=question.scale, others=question.others)
    pop, _ = population_of(result, question.parameter, scale=question.scale, others=question.others)
    mass = pop.mass.reshape(pop.mu.size, pop.tau.size, -1).sum(axis=-1)
    views = population_figures(report, {"mu": pop.mu, "tau": pop.tau, "mass": mass}).view
    note = (f"{report['unit']}_g ~ N(μ, τ²) over {report['objects']} objects; {report['tau_prior']['describe']}; "
            f"other axes: {report['others']['how']}; {report['interpretation']}")
    return Section(f"Population of {question.parameter}", note, (views,), 1)


def _joint_sections(result: xr.Dataset, limits: Limits) -> list[Section]:
    """A joint sweep: each dataset's posterior and the joint one, and each object's cost of the joint mode."""
    probes = json.loads(result.attrs["probes"])
    labels = [p["label"] for p in probes]
    note = (f"{', '.join(labels)} and their joint posterior (global prior: {result.attrs.get('global_prior', '')}); "
            "contours: the highest-mass regions holding 68 % (solid) and 95 % (dashed) of the grid's mass")
    out = [Section("Posterior: each dataset and the joint", note,
                   (joint_posterior_views(result, limits.max_pairs),), 1)]
    out.append(Section("Each object at the joint posterior",
                       "per object, ln L at the joint posterior's mode minus ln L at its own dataset's mode: what the "
                       "compromise costs each object (negative: it fits worse)", (joint_costs(result).view,), 1))
    return out


def _n_frames(plan: dict[str, np.ndarray]) -> int:
    return int(np.prod([len(i) for i in plan.values()]))


def warnings_of(result: xr.Dataset | xr.DataTree) -> tuple[list[str], list[str]]:
    """What ``sigcube report sweep`` warns of a sweep's result (best points cut off by an end of the grid, per object
    too; a posterior truncated or unresolved by the grid) and what it notes (best points on an end that is their
    answer: a plateau, the parameter's own bound); nothing for a joint sweep or a posterior export."""
    if isinstance(result, xr.DataTree) or result.attrs.get("sigcube_kind") == JOINT_KIND:
        return [], []
    report = sweep_report(result)
    return warning_lines(report), list(report.get("notes", []))


def _warnings_html(warned: tuple[list[str], list[str]]) -> str:
    warnings, notes = warned
    if not warnings and not notes:
        return "<p>No warning: no best point on an end of the grid, as sigcube report sweep checks.</p>"
    items = "".join(f"<li>⚠ {html.escape(w)}</li>" for w in warnings) + "".join(
        f"<li>note: {html.escape(n)}</li>" for n in notes)
    return f'<h2 class="sigcube-warnings">Warnings, as sigcube report sweep prints them</h2><ul>{items}</ul>'


def _header(result: xr.Dataset | xr.DataTree, parts: list[Section], limits: Limits, embedded: bool,
            warned: tuple[list[str], list[str]] = ([], [])) -> str:
    bounds = "".join(f"<li><b>{html.escape(s.title)}</b>: {html.escape(s.note)}</li>" for s in parts)
    if isinstance(result, xr.DataTree):
        lines = "".join(f"<p>{html.escape(line)}</p>" for line in describe_export(result)["describe"])
        return f"<h1>sigcube explorer: {html.escape(name_of(result))}</h1>{lines}<ul>{bounds}</ul>"
    joint = result.attrs.get("sigcube_kind") == JOINT_KIND
    grid = " × ".join(f"{d}[{result.sizes[d]}]" for d in (result["posterior_joint"].dims if joint
                                                          else parameter_dims(result)))
    fixed = ", ".join(f"{k} = {fmt(v)}" for k, v in json.loads(result.attrs.get("fixed_parameters", "{}")).items())
    mode = (f"Static page: every widget state is precomputed ({sum(s.frames for s in parts)} frames in all; at most "
            f"{limits.max_frames} per sweep view, {limits.max_galaxies} galaxies, {limits.max_cells} cells per "
            f"heatmap, {limits.max_points} RAR points)." if embedded else "Live session: widgets update on demand.")
    if joint:
        what = ", ".join(f"{p['label']} ({p['dataset']}, {p['objects']} objects)" for p in json.loads(
            result.attrs["probes"]))
        line = (f"joint sweep of kernel <b>{html.escape(result.attrs['kernel'])}</b> over {html.escape(grid)} on "
                f"{html.escape(what)}; fixed: {html.escape(fixed) or 'none'}.")
    else:
        line = (f"kernel <b>{html.escape(result.attrs['kernel'])}</b> over {html.escape(grid)}; win rates against "
                f"{html.escape(result.attrs['baseline'])}; fixed: {html.escape(fixed) or 'none'}. "
                "Red ×: kernel default; white ○: best grid point of the frame.")
    return (f"<h1>sigcube explorer: {html.escape(name_of(result))}</h1>"
            f"<p>{html.escape(result.attrs.get('description', ''))}</p>"
            f"<p>{line}</p>{'' if joint else _warnings_html(warned)}<p>{mode}</p><ul>{bounds}</ul>")


def name_of(result: xr.Dataset | xr.DataTree) -> str:
    """The name of a sweep's result or of a joint sweep's cube ("posterior export" for an export)."""
    if isinstance(result, xr.DataTree):
        return "posterior export"
    return str(result.attrs.get("sweep_name") or result.attrs.get("joint_name") or "result")


def _text(markup: str) -> pn.pane.Bokeh:
    """HTML text as a plain bokeh Div (no MathJax or CDN stylesheet needed offline)."""
    return pn.pane.Bokeh(Div(text=markup, width=TEXT_WIDTH))


def _heading(section: Section) -> str:
    return f"<h2>{html.escape(section.title)}</h2><p>{html.escape(section.note)}</p>"


def _block(section: Section) -> pn.Column:
    """A section as one live panel: its heading, one set of widgets, its views in a grid."""
    first = pn.pane.HoloViews(section.views[0], widget_location="top_left")
    kdims = section.views[0].kdims if isinstance(section.views[0], (hv.HoloMap, hv.DynamicMap)) else []
    shared = {d.name: w for d, w in zip(kdims, first.widget_box)}
    panes = [first, *(pn.pane.HoloViews(v, widgets=shared) for v in section.views[1:])]
    widgets = [pn.Row(*first.widget_box)] if len(first.widget_box) else []
    return pn.Column(_text(_heading(section)), *widgets, pn.GridBox(*panes, ncols=2))


def explorer(result: xr.Dataset | xr.DataTree, cube: xr.Dataset | None = None, kernels: Sequence[str] = DEFAULT_KERNELS,
             preset: str = DEFAULT_PRESET, limits: Limits = Limits(),
             population: PopulationQuestion | None = None) -> pn.Column:
    """The whole explorer as one live panel (a notebook cell or ``pn.serve``)."""
    parts = sections(result, cube, kernels, preset, limits, population)
    header = _header(result, parts, limits, embedded=False, warned=warnings_of(result))
    return pn.Column(_text(header), *(_block(s) for s in parts))


def save_explorer(result: xr.Dataset | xr.DataTree, cube: xr.Dataset | None, out: str | Path,
                  kernels: Sequence[str] = DEFAULT_KERNELS, preset: str = DEFAULT_PRESET, limits: Limits = Limits(),
                  population: PopulationQuestion | None = None, progress: Progress = _silent) -> Path:
    """Write the standalone HTML explorer to ``out`` (widgets embedded, no server) and return its path.

    ``out`` is checked before the page is drawn (:func:`~sigcube.interfaces.plots.output.output_file`: an HTML name,
    never a folder, a store or a file holding something else) and written whole or not at all; OS errors are one
    StoreWriteError line. ``progress`` hears of each part drawn.

    >>> save_explorer(sigcube.open_result("cubes/sigma-A0-k.zarr"),
    ...               sigcube.open_cube("cubes/sparc.zarr"), "explorer.html")   # doctest: +SKIP
    """
    out = output_file(out, PAGE_FORMATS, "the explorer's page", "--html", suffixless=True,
                      make_folder=True)
    text = _page(result, cube, kernels, preset, limits, population, progress)
    with replaced(out) as temporary, store_errors(str(out)):
        temporary.write_text(text, encoding="utf-8")
    return out


def _page(result: xr.Dataset | xr.DataTree, cube: xr.Dataset | None, kernels: Sequence[str], preset: str, limits: Limits,
          population: PopulationQuestion | None = None, progress: Progress = _silent) -> str:
    """The standalone HTML explorer's text: bokeh's models, their widgets' frames recorded
    (:mod:`~sigcube.interfaces.explore.static`), and bokeh's JavaScript inlined. The plots are drawn on a canvas, not
    with WebGL: the page then needs no WebGL code (a fifth of a megabyte), and a few thousand points need no GPU."""
    parts = sections(result, cube, kernels, preset, limits, population, progress)
    progress("the warnings of sigcube report sweep", 0, 0)
    page = Document()
    page.add_root(Div(text=_header(result, parts, limits, embedded=True, warned=warnings_of(result)),
                      width=TEXT_WIDTH))
    for section in parts:
        progress(section.title, 0, section.frames)
        widgets, views, _ = static_views(section.views, progress=lambda done, total: progress(section.title, done,
                                                                                              total))
        page.add_root(column(Div(text=_heading(section), width=TEXT_WIDTH), *([row(*widgets)] if widgets else []),
                             views))
    progress("writing the page", 0, 0)
    for model in page.models:
        if isinstance(model, Plot):
            model.output_backend = "canvas"
    html = file_html(page, _Inline(), title=f"sigcube explorer: {name_of(result)}")
    return html.replace("<head>", '<head>\n    <link rel="icon" href="data:,">', 1)  # no favicon fetched on view


class _Inline(Resources):
    """Bokeh's JavaScript and CSS inlined, and no file linked: bokeh would link the files every imported extension
    declares (panel's models, which this page does not use, and whose links a page opened from disk cannot load)."""

    def __init__(self, components: list[Any] | None = None) -> None:
        super().__init__(mode="inline", components=components)

    def clone(self, *, components: list[Any] | None = None) -> _Inline:
        """The same, with ``components`` (bokeh keeps those the page uses)."""
        return _Inline(components if components is not None else list(self.components))

    @property
    def js_files(self) -> list[str]:
        return []

    @property
    def css_files(self) -> list[str]:
        return []
