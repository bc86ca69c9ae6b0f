"""Explore views on the real SPARC cube and a small real sweep: each renders with the bokeh
backend, with the expected glyphs, labels (long_name and units), markers and bounds."""

from __future__ import annotations

import html
import io
import re
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import holoviews as hv
import hvplot
import numpy as np
import pytest
import xarray as xr
from bokeh.models import ColorBar, LogScale, Select, Slider, Span, Whisker
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from typer.testing import CliRunner

import sigcube
from sigcube.engines.sweep import best_per_galaxy, parse_spec, run_sweep
from sigcube.errors import SigcubeError
from sigcube.interfaces.explore import (
    Limits, best_parameter_distributions, predictions, rar, rotation_curve, rotation_curve_gallery, save_explorer,
    sections, sweep_heatmap, sweep_slice,
)
from sigcube.interfaces.explore.bounds import frame_counts, spread, stride
from sigcube.interfaces.explore.static import static_views
from sigcube.interfaces.explore.sweep_views import AXIS_PX, title_lines
from sigcube.interfaces.plots.base import dimension
from sigcube.interfaces.plots.galaxies import TITLE_PX_PER_CHAR
from sigcube.interfaces.plots.rar import datashader_available
from sigcube.interfaces.sweep_report import render as sweep_render
from sigcube.interfaces.sweep_report import sweep_report
from sigcube.model.metrics import METRICS

SPEC = """
name = "explore-test"
description = "A0 × k × R_d source, a small real sweep"
kernel = "sigma"
preset = "paper"
[grid.A0]
linspace = [0.8, 1.6, 5]
include_default = true
[grid.k]
logspace = [0.05, 0.5, 4]
include_default = true
[grid.rd_source]
values = ["third", "table"]
"""
K_DEFAULT = 1 / (2 * np.pi)
PROBE_BOUND_S = 600
"""Seconds the served explorer's first page may take: a bound on a hang, generous for a loaded machine."""
A0_DEFAULT = float(np.exp(K_DEFAULT))


@pytest.fixture(scope="module")
def result_path(sparc_store, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("explore") / "explore-test.zarr"
    run_sweep(parse_spec(SPEC), out, cube=sparc_store, synchronous=True)
    return out


TINY = """
name = "explore-test"
description = "A0 × k, 2 × 2: the smallest page, for the command-line tests (what they test is paths and errors)"
kernel = "sigma"
preset = "paper"
[grid.A0]
values = [1.0, 1.5]
[grid.k]
values = [0.1, 0.2]
"""


@pytest.fixture(scope="module")
def tiny_path(sparc_store, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("explore-tiny") / "explore-test.zarr"
    run_sweep(parse_spec(TINY), out, cube=sparc_store, synchronous=True)
    return out


@pytest.fixture(scope="module")
def result(result_path):
    return sigcube.open_result(result_path).load()


@pytest.fixture(scope="module")
def pred(sparc_cube):
    return predictions(sparc_cube, ["sigma", "mond"])


def render(obj):
    return hvplot.render(obj, backend="bokeh")


def words(title: str) -> str:
    """A title's words, its line breaks read as spaces."""
    return " ".join(title.split())


def glyphs(fig) -> set[str]:
    return {type(r.glyph).__name__ for r in fig.renderers if hasattr(r, "glyph")}


def test_dimension_labels_come_from_long_name_and_units():
    assert dimension("r", {"long_name": "galactocentric radius", "units": "kpc"}).pprint_label == \
        "galactocentric radius [kpc]"
    assert dimension("k", {"long_name": "coherence scale", "units": ""}).pprint_label == "coherence scale"
    assert dimension("A0", {"long_name": "base amplitude A0 = e^{1/(2π)}"}).pprint_label == \
        "base amplitude A₀", "the parameter's name, not its default's formula"
    assert dimension("k", {"long_name": "coherence scale ξ = k·R_d"}, parameter=True).pprint_label == "k", \
        "a definition of another quantity (ξ) does not name the k axis"
    assert dimension("a0", {"long_name": "MOND acceleration scale", "units": "m / s2"}, parameter=True
                     ).pprint_label == "MOND acceleration scale a₀ [m s⁻²]", "name, symbol and unit"


def test_bounds_keep_the_default_and_the_budget():
    idx = spread(101, 10, keep=27)
    assert len(idx) <= 10 and 27 in idx and idx[0] == 0 and idx[-1] == 100
    assert list(spread(5, 10)) == [0, 1, 2, 3, 4]
    counts = frame_counts([3, 101, 127], 60)
    assert counts[0] == 3 and np.prod(counts) <= 60
    assert stride(127, 101, 40_000) == 1 and stride(1000, 1000, 40_000) == 5
    with pytest.raises(SigcubeError, match="max_frames"):
        Limits(max_frames=0)


def test_rotation_curve_has_data_errors_baryons_and_each_kernel(pred):
    fig = render(rotation_curve(pred, "NGC3198"))
    assert {"Scatter", "Line"} <= glyphs(fig)
    assert any(isinstance(a, Whisker) for a in fig.center), "V_obs error bars"
    labels = [item.label.value for item in fig.legend[0].items]
    assert labels == ["V_obs", "V_gas", "V_disk", "V_bar", "sigma (paper)", "mond"], "NGC3198 has no bulge"
    assert fig.xaxis[0].axis_label == "radius r [kpc]"
    assert fig.yaxis[0].axis_label == "circular velocity V [km/s]"
    rms = [pred.rms(label)[list(pred.points.galaxy).index("NGC3198")] for label in pred.v_pred]
    labels = list(pred.v_pred)
    assert fig.title.text == f"NGC3198\nRMS [km/s]: {labels[0]} {rms[0]:.1f} · {labels[1]} {rms[1]:.1f}"
    with pytest.raises(SigcubeError, match="'NOPE' is not in the sample"):
        rotation_curve(pred, "NOPE")


def test_rotation_curve_gallery_is_bounded_and_keyed_by_galaxy(pred, sparc_cube):
    gallery = rotation_curve_gallery(pred, max_galaxies=7)
    assert isinstance(gallery, hv.HoloMap) and gallery.kdims[0].name == "galaxy"
    assert len(gallery) == 7 and gallery.keys()[0] == pred.points.galaxy[0]
    assert render(gallery).title.text  # renders its first frame
    lazy = rotation_curve_gallery(sparc_cube, ["mond"], galaxies=["NGC3198", "DDO154"], dynamic=True)
    assert isinstance(lazy, hv.DynamicMap) and lazy.kdims[0].values == ["NGC3198", "DDO154"]
    assert [i.label.value for i in render(lazy).legend[0].items] == ["V_obs", "V_gas", "V_disk", "V_bar", "mond"]


def _first(layout):
    """The first panel of a rendered layout (the RAR; the residuals are the second)."""
    return next(p for p, *_ in layout.children if hasattr(p, "x_scale"))


def test_rar_is_log_log_with_kernel_medians(pred):
    fig = _first(render(rar(pred)))
    assert isinstance(fig.x_scale, LogScale) and isinstance(fig.y_scale, LogScale)
    assert "[m s⁻²]" in fig.xaxis[0].axis_label and "g_bar" in fig.xaxis[0].axis_label
    assert "g_obs" in fig.yaxis[0].axis_label
    assert "171 galaxies, all 3373 points" in fig.title.text
    labels = [item.label.value for item in fig.legend[0].items]
    assert "sigma (paper): binned median" in labels and "mond: binned median" in labels
    small = _first(render(rar(pred, max_points=500)))
    if datashader_available():
        assert "3373 points, datashaded" in " ".join(small.title.text.split()) and "Quad" in glyphs(small)
    else:  # the title wrapped to its panel
        assert "random 500 of 3373 points (datashader not installed)" in " ".join(small.title.text.split())
        assert len(small.renderers[0].data_source.data["g_bar"]) == 500


def test_heatmap_marks_the_default_and_has_a_widget_per_other_parameter(result):
    hm = sweep_heatmap(result, "mean_rms", "A0", "k")
    assert isinstance(hm, hv.HoloMap) and [d.name for d in hm.kdims] == ["rd_source"]
    assert hm.kdims[0].default == "third" and sorted(hm.keys()) == ["table", "third"]
    fig = render(hm)
    assert "Quad" in glyphs(fig)
    assert fig.xaxis[0].axis_label == "base amplitude A₀", "the parameter's name, not its default's formula"
    assert fig.yaxis[0].axis_label == "k"
    assert isinstance(fig.y_scale, LogScale), "k is a logspace grid"
    bar = next(c for c in fig.right if isinstance(c, ColorBar))
    assert bar.title == f"{METRICS['mean_rms'].long_name} (km / s)"  # labels from the metric registry
    points = [r.data_source.data for r in fig.renderers if type(r.glyph).__name__ == "Scatter"]
    marks = {(round(float(d["A0"][0]), 6), round(float(d["k"][0]), 6)) for d in points}
    assert (round(A0_DEFAULT, 6), round(K_DEFAULT, 6)) in marks, "kernel default marked"
    best = sigcube.engines.sweep.best_parameters(result.sel(rd_source="third"), "mean_rms")
    assert (round(best["A0"], 6), round(best["k"], 6)) in marks, "best point marked"
    assert "at rd_source = third" in words(fig.title.text)


def test_heatmap_cells_of_a_logspace_axis_have_geometric_edges(result):
    """Linear midpoints put the first cell's lower edge at ≤ 0 on a coarse log grid (holoviews then logs a raw
    'Logarithmic axis range encountered value less than or equal to zero' warning on stderr)."""
    fig = render(sweep_heatmap(result.sel(rd_source="third"), "mean_rms", "A0", "k"))
    quad = next(r.data_source.data for r in fig.renderers if type(r.glyph).__name__ == "Quad")
    k = result.k.values
    edges = np.unique(np.concatenate([quad["bottom"], quad["top"]]))
    np.testing.assert_allclose(edges[1:-1], np.sqrt(k[1:] * k[:-1]))
    np.testing.assert_allclose([edges[0], edges[-1]], [k[0] * np.sqrt(k[0] / k[1]), k[-1] * np.sqrt(k[-1] / k[-2])])
    left = np.unique(quad["left"])  # a linspace axis keeps holoviews' linear midpoints
    np.testing.assert_allclose(left[1:], (result.A0.values[1:] + result.A0.values[:-1]) / 2)


def test_heatmap_with_a_switch_axis_and_a_frame_budget(result):
    hm = sweep_heatmap(result, "win_rate", x="A0", y="rd_source", max_frames=3)
    assert len(hm) == 3 and K_DEFAULT in hm.keys(), "budget kept, default kept"
    fig = render(hm)
    assert "Rect" in glyphs(fig)
    assert words(fig.title.text).startswith(f"{METRICS['win_rate'].long_name} at k = ")


def test_slice_has_the_default_line_and_widgets(result):
    sl = sweep_slice(result, "rar_scatter_velocity", "k", dynamic=True)
    assert isinstance(sl, hv.DynamicMap) and [d.name for d in sl.kdims] == ["A0", "rd_source"]
    assert sl.kdims[0].default == pytest.approx(A0_DEFAULT)
    fig = render(sl)
    assert {"Line", "Scatter"} <= glyphs(fig)
    span = next(c for c in fig.renderers if isinstance(c, Span))
    assert span.location == pytest.approx(K_DEFAULT)
    assert "[dex]" in fig.yaxis[0].axis_label
    assert words(fig.title.text).endswith("along k at A0 = 1.173, rd_source = third")


def test_best_parameter_distributions(result):
    fig = render(best_parameter_distributions(result))
    plots = [p for p, *_ in fig.children]
    assert len(plots) == 3
    titles = [p.title.text for p in plots]
    assert all(f"{result.sizes['galaxy']} galaxies" in t for t in titles)
    assert "Segment" in glyphs(plots[0]) and "VBar" in glyphs(plots[2])
    counts = plots[2].renderers[0].data_source.data["count"]
    assert sum(counts) == result.sizes["galaxy"]


def test_views_refuse_bad_names(result):
    with pytest.raises(SigcubeError, match="not a swept parameter; swept: A0, k, rd_source"):
        sweep_heatmap(result, "mean_rms", "A0", "g_dagger")
    with pytest.raises(SigcubeError, match="metric 'nope' is not in this result cube"):
        sweep_slice(result, "nope", "A0")
    with pytest.raises(SigcubeError, match="distinct"):
        sweep_heatmap(result, "mean_rms", "A0", "A0")


def test_sections_say_what_they_embed(result, sparc_cube):
    parts = sections(result, sparc_cube, limits=Limits(max_frames=4, max_galaxies=9))
    notes = {s.title: s.note for s in parts}
    assert notes["Rotation curves"] == "9 of 171 galaxies embedded (evenly spread through the sample)"
    assert notes["Radial acceleration relation"].startswith("all 3373 points")
    assert notes["Heatmaps over A0 × k"] == "rd_source: 2 of 2 values"
    assert notes["Slices along A0"] == "k: 2 of 5 values (evenly spread); rd_source: 2 of 2 values"
    assert all(s.frames <= 9 for s in parts)
    with pytest.raises(SigcubeError, match="explorer of a 'sparc' sweep needs its dataset cube"):
        sections(result, None)


SCATTER = """
name = "explore-scatter"
description = "MOND a0 × σ_int, 3 × 3, Υ, D, i marginalised on a few galaxies"
kernel = "mond"
[grid.a0]
logspace = [0.9e-10, 1.3e-10, 3]
[grid.sigma_int]
linspace = [0.03, 0.05, 3]
[sample]
quality = [1]
min_inclination = 60.0
[nuisance]
nodes = 3
error_model = "lognormal_first_order"
"""


@pytest.fixture(scope="module")
def scatter(sparc_store, tmp_path_factory) -> xr.Dataset:
    """A nuisance sweep with a σ_int axis: a likelihood parameter, on which the metrics do not depend."""
    out = tmp_path_factory.mktemp("explore-scatter") / "explore-scatter.zarr"
    run_sweep(parse_spec(SCATTER), out, cube=sparc_store, synchronous=True)
    return sigcube.open_result(out).load()


def test_metric_views_span_only_the_axes_the_metrics_depend_on(scatter, sparc_cube):
    """The stripes of a nuisance sweep's heat maps: every metric is constant along σ_int (a scatter of the
    likelihood), so a heat map over a0 × σ_int is a column per a0 value, a slice along σ_int a flat line, and each
    σ_int widget position the same frame. The metrics' views span a0 alone, with no widget."""
    for m in ("mean_rms", "win_rate", "rar_scatter_velocity"):
        assert np.ptp(scatter[m].values, axis=scatter[m].dims.index("sigma_int")).max() == 0, m
    parts = {s.title: s for s in sections(scatter, sparc_cube, limits=Limits(max_galaxies=2))}
    assert not [t for t in parts if "sigma_int" in t], list(parts)
    along = parts["Slices along a0"]
    assert along.frames == 1 and "do not depend on sigma_int" in along.note
    fig = render(along.views[0])
    curve = next(r.data_source.data for r in fig.renderers if type(r.glyph).__name__ == "Line")
    np.testing.assert_array_equal(curve["mean_rms"], scatter.mean_rms.isel(sigma_int=0).values)
    best = render(parts["Best parameters per galaxy"].views[0])
    assert [words(p.title.text).split(" per ")[0] for p, *_ in best.children] == ["best a0"]


@settings(derandomize=True, max_examples=200)
@given(st.lists(st.text(st.sampled_from("abc σ₀="), min_size=1, max_size=70), max_size=4),
       st.integers(min_value=120, max_value=900))
def test_titles_fit_their_panel_and_keep_every_word(parts, width):
    title = title_lines(parts, width)
    chars = (width - AXIS_PX) // TITLE_PX_PER_CHAR
    assert all(len(line) <= chars or " " not in line for line in title.split("\n")), title
    assert title.split() == " ".join(parts).split()


def _frames(widgets, position: tuple[int, ...]) -> None:
    """What the page's script does when the widgets are at ``position`` (their values' indices): the recorded slots
    set to that frame's values, here in Python."""
    args = widgets[0].js_property_callbacks["change:value"][0].args
    k = int(np.ravel_multi_index(position, args["sizes"]))
    frame = dict((s, v) for s, v in args["frames"][k])
    for s, (m, attr) in enumerate(args["slots"]):
        value = frame.get(s, args["start"][s])
        if args["data"][s]:
            value = {c[0]: args["pool"][c[1]:c[1] + c[2]] if len(c) == 3 else c[1] for c in value}
        setattr(args["models"][m], attr, value)


def test_the_static_page_replays_each_frame_as_holoviews_draws_it(result):
    """Every widget position of a static section, replayed from what was recorded, shows what holoviews draws of
    that frame on its own: the title and every glyph's data (to the 32-bit floats the page keeps)."""
    view = sweep_slice(result, "mean_rms", "A0", dynamic=True)
    widgets, body, frames = static_views([view])
    assert frames == 10 and [w.title for w in widgets] == [d.pprint_label for d in view.kdims]
    assert isinstance(widgets[0], Slider) and widgets[0].end == 4 and isinstance(widgets[1], Select)
    (fig, *_), = body.children
    for position in [(0, 0), (4, 1), (2, 0), (1, 1)]:
        _frames(widgets, position)
        key = (view.kdims[0].values[position[0]], view.kdims[1].values[position[1]])
        fresh = render(view[key])
        assert fig.title.text == fresh.title.text
        for mine, theirs in zip(fig.renderers, fresh.renderers, strict=True):
            if hasattr(mine, "data_source"):
                for column, values in theirs.data_source.data.items():
                    np.testing.assert_allclose(np.asarray(mine.data_source.data[column], dtype=float),
                                               np.asarray(values, dtype=float), rtol=1e-6, err_msg=column)


@pytest.mark.slow
def test_save_explorer_writes_a_standalone_page(result, sparc_cube, tmp_path):
    out = save_explorer(result, sparc_cube, tmp_path / "x" / "explorer.html", limits=Limits(max_frames=3,
                                                                                          max_galaxies=4))
    text = out.read_text(encoding="utf-8")
    printed = io.StringIO()  # what `sigcube report sweep` prints: every warning of it is on the page
    sweep_render(sweep_report(result), Console(file=printed, width=1000))
    warned = [line[2:] for line in printed.getvalue().splitlines() if line.startswith("⚠ ")]
    assert warned, "this sweep's grid cuts some galaxies' best k off (its k axis is short)"
    page = html.unescape(html.unescape(re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)))
    for line in warned:  # the header is HTML inside the JSON of a bokeh Div: escaped twice, non-ASCII as \\uXXXX
        assert f"⚠ {line}" in page, line
    best = best_per_galaxy(result, "rms")
    for d in ("A0", "k"):
        ends = int((best[d] == result[d].values[0]).sum())
        if ends:
            assert f"{ends} on the lower end of {d}" in page
    assert "sigcube explorer: explore-test" in text
    assert "Static page: every widget state is precomputed" in text
    assert "4 of 171 galaxies embedded" in text
    assert "/* BEGIN bokeh.min.js */" in text and "panel.min.js" not in text, "bokeh inlined, no panel"
    assert not re.findall(r"<(?:script|link)[^>]*(?:src|href)=\"(?!data:)[^>]*>", text), "nothing linked"


@pytest.fixture()
def cli():
    from sigcube.cli import app

    return app


def test_cli_writes_the_html_and_prints_its_path(cli, tiny_path, sparc_store, tmp_path, monkeypatch):
    """The page's path on stdout; on stderr (a terminal's) a bar naming each part as it is drawn, counting the
    frames of a part with widgets."""
    import sigcube.cli.explore as command

    terminal = io.StringIO()
    monkeypatch.setattr(command, "err_console", Console(file=terminal, force_terminal=True, width=200))
    out = tmp_path / "page.html"
    res = CliRunner().invoke(cli, ["explore", str(tiny_path), "--html", str(out), "--cube", str(sparc_store),
                                   "--max-frames", "2", "--max-galaxies", "3", "--kernel", "mond"])
    assert res.exit_code == 0, res.output
    assert res.stdout.strip().endswith(str(out)) and out.stat().st_size > 100_000
    assert "3 of 171 galaxies embedded" in out.read_text(encoding="utf-8")
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", terminal.getvalue())
    for part, count in [("reading the result", ""), ("Rotation curves", "3/3"), ("Radial acceleration relation", ""),
                        ("Heatmaps over A0 × k", ""), ("Slices along A0", "2/2"), ("Slices along k", "2/2"),
                        ("Best parameters per galaxy", ""), ("writing the page", "")]:
        assert re.search(f"explore-test.zarr: {re.escape(part)}[^\n\r]*{count}", shown), part


SMALL = ["--max-frames", "2", "--max-galaxies", "3", "--kernel", "mond"]


@pytest.mark.parametrize("given, written", [("folder", "folder/explore-test.html"), ("page.htm", "page.htm")])
def test_cli_writes_and_prints_exactly_the_path_it_writes(cli, tiny_path, sparc_store, tmp_path, given, written):
    """--html DIR (an existing folder) writes DIR/<result name>.html; any other name is written as given (panel
    once appended .html to a name without it, and the command printed the name it was given)."""
    (tmp_path / "folder").mkdir()
    res = CliRunner().invoke(cli, ["explore", str(tiny_path), "--html", str(tmp_path / given), "--cube",
                                   str(sparc_store), *SMALL])
    assert res.exit_code == 0, res.output
    assert res.stdout.strip().endswith(str(tmp_path / written))
    assert "sigcube explorer: explore-test" in (tmp_path / written).read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.rglob("*")) == sorted({"folder", *Path(written).parts})


@pytest.mark.parametrize("options, reason, rendered", [
    ("ro", "read-only file system", False),  # refused before the page is drawn: drawing it would fail the test
    pytest.param("size=64k", "no space left on device", True,  # the page is drawn, then cannot be written
                 marks=pytest.mark.slow),
])
def test_cli_on_an_unwritable_folder_is_one_line_and_leaves_nothing(tiny_path, sparc_store, tmp_path, options,
                                                                    reason, rendered):
    probe = subprocess.run(["unshare", "--mount", "--map-root-user", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"this system cannot mount a private tmpfs (unshare: {probe.stderr.decode().strip()})")
    mount = tmp_path / "mnt"
    mount.mkdir()
    code = ("import os, sys\n"
            + ("" if rendered else "import sigcube.interfaces.explore.page as page\n"
                                   "def drawn(*args, **kwargs): raise RuntimeError('the page was drawn')\n"
                                   "page.sections = drawn\n")
            + "from sigcube.cli import app\n"
              "try:\n    app(sys.argv[2:])\n"
              "finally:\n    print('left:', sorted(os.listdir(sys.argv[1])), file=sys.stderr)\n")
    proc = subprocess.run(["unshare", "--mount", "--map-root-user", "sh", "-c",
                           f'mount -t tmpfs -o {options} tmpfs "$0" && exec "$@"', str(mount),
                           sys.executable, "-c", code, str(mount), "explore", str(tiny_path), "--html",
                           str(mount / "page.html"), "--cube", str(sparc_store), *SMALL],
                          capture_output=True, text=True, timeout=600)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr
    assert " ".join(lines[-2].split()) == f"error: cannot write {mount / 'page.html'}: {reason}", proc.stderr
    assert lines[-1] == "left: []" and "Traceback" not in proc.stderr


@pytest.mark.parametrize("args, message", [
    (["missing.zarr"], "no such result cube"),
    (["{result}", "--kernel", "nope"], "unknown kernel 'nope'"),
    (["{result}", "--cube", "missing-cube.zarr"], "no such cube"),
    (["{result}", "--max-frames", "0"], "max_frames must be ≥ 1"),
])
def test_cli_errors_are_one_line(cli, tiny_path, tmp_path, args, message):
    res = CliRunner().invoke(cli, ["explore", *(a.format(result=tiny_path) for a in args),
                                   "--html", str(tmp_path / "x.html")])
    assert res.exit_code == 2
    assert message in res.output and "Traceback" not in res.output


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("localhost", port), timeout=5):
            return True
    except OSError:
        return False


def test_cli_serves_the_explorer(tiny_path, sparc_store, tmp_path, wait_for, free_port):
    port, log = free_port(), tmp_path / "server.log"
    code = "import sys; from sigcube.cli import app; app(sys.argv[1:])"
    with log.open("wb") as out:  # a file, not a pipe nobody reads: the server never blocks on its own output
        proc = subprocess.Popen([sys.executable, "-c", code, "explore", str(tiny_path), "--serve", "--port",
                                 str(port), "--cube", str(sparc_store), "--max-frames", "2", "--max-galaxies", "3"],
                                stdout=out, stderr=subprocess.STDOUT)

    def printed() -> str:
        return f"the server printed:\n{log.read_text(errors='replace')[-3000:]}"

    try:
        # the readiness probe is a connection, not a page request: no page is built (and abandoned) while waiting
        wait_for(lambda: _listening(port) or proc.poll() is not None, f"the server listening on port {port}", printed)
        assert proc.poll() is None, f"the server exited with {proc.returncode}; {printed()}"
        try:  # one request, its bound long enough to build the page on a loaded machine
            with urllib.request.urlopen(f"http://localhost:{port}/", timeout=PROBE_BOUND_S) as resp:
                body = resp.read().decode()
        except OSError as exc:
            pytest.fail(f"the first page request failed: {exc!r}; {printed()}", pytrace=False)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert "sigcube explorer: explore-test" in body, f"not the explorer page; {printed()}"
