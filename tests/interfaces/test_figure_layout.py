"""Every figure of the documentation (docs/_ext/sigcube_docs/figures.py: which committed report feeds which figure),
drawn from the committed reports in docs/results/ (and the SPARC cube for those that read it), is laid out clearly:
no two texts overlap (titles, axis labels, tick labels, annotations, legend entries) and no legend or axis text lies
over data, measured by matplotlib's renderer (layout_check.py). The checker is tested on figures drawn wrong."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

import holoviews as hv
import numpy as np
import pytest

from sigcube.interfaces.plots.base import Plot, framed, layout, styled
from sigcube.interfaces.plots.galaxies import GalaxyCurve, rotation_curves
from sigcube.interfaces.plots.labels import Label
from sigcube.interfaces.plots.output import render

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _sibling(name: str):
    """A helper module beside this file (the tests are not a package: loaded by path)."""
    spec = importlib.util.spec_from_file_location(f"_layout_{name}", Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


_check = _sibling("layout_check")
problems, reading_problems = _check.problems, _check.reading_problems


def _docs_figures():
    if str(DOCS / "_ext") not in sys.path:
        sys.path.insert(0, str(DOCS / "_ext"))
    return importlib.import_module("sigcube_docs.figures")


FIGURES = {f.name: f for f in _docs_figures().FIGURES}
GALLERY = {e.kind: e for e in _docs_figures().GALLERY}
SLOW_KINDS = {"rar", "rotation-curves", "fitted-curves", "per-galaxy-difference", "prediction-ratios", "joint-scans",
              "residual-checks", "halo-relations", "dwarf-ratios"}
"""Kinds whose example takes more than a few seconds to draw (the SPARC cube's, the largest records'): slow tier."""


@pytest.fixture(scope="module")
def inputs():
    return _docs_figures().Inputs()


def _drawn_problems(plot: Plot) -> list[str]:
    import matplotlib.pyplot as plt

    figure = render(plot)
    try:
        return problems(figure)
    finally:
        plt.close(figure)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(n for n, f in FIGURES.items() if not f.cube))
def test_a_figure_of_the_committed_reports_is_laid_out_clearly(name, inputs):
    assert _drawn_problems(FIGURES[name].draw(inputs)) == []


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(n for n, f in FIGURES.items() if f.cube))
def test_a_figure_of_the_sparc_cube_is_laid_out_clearly(name, inputs, sparc_store, monkeypatch):
    monkeypatch.setenv("SIGCUBE_CUBE_DIR", str(sparc_store.parent))
    assert _drawn_problems(FIGURES[name].draw(inputs)) == []


def _curve(i: int, labels: tuple[str, ...]) -> GalaxyCurve:
    r = np.linspace(0.5, 20, 25)
    v = 200 * (1 - np.exp(-r / (2 + i % 4)))
    return GalaxyCurve(f"SYN{i:04d}-long-name", r, v + 5 * np.sin(r + i), np.full(r.size, 6.0),
                       {"v_gas": 0.3 * v, "v_disk": 0.7 * v, "v_bar": 0.8 * v},
                       {label: v * (0.9 + 0.05 * k) for k, label in enumerate(labels)}, "as drawn")


@pytest.mark.slow
def test_twelve_rotation_curves_of_three_kernels_keep_their_titles_apart():
    labels = ("sigma (paper)", "mond", "nfw (marginalised)")
    plot = rotation_curves([_curve(i, labels) for i in range(12)])
    assert _drawn_problems(plot) == []
    assert "RMS against V_obs of sigma (paper) · mond · nfw (marginalised)" in plot.alt


def test_the_checker_finds_overlapping_titles_and_a_legend_over_data():
    x = np.linspace(0, 1, 50)
    long = "a title far too long for its narrow panel, running into its neighbour's"  # a Label: not wrapped
    crowded = [framed(hv.Overlay([styled(hv.Scatter((x, x), "a", "b", label="many points"), color="red"),
                                  styled(hv.Curve((x, 1 - x), "a", "b", label="a line"), color="blue")]),
                      title=Label(long, long), width=200, height=200, legend="top_left") for _ in range(2)]
    found = _drawn_problems(Plot(layout(crowded, cols=2), "crowded"))
    assert any("title overlaps" in p for p in found), found
    assert any("legend covers" in p for p in found), found
    clear = framed(styled(hv.Scatter((x, x), "a", "b"), color="red"), title="fine", width=300, height=200)
    assert _drawn_problems(Plot(clear, "clear")) == []


def test_error_bars_keep_their_colour_in_the_static_figure():
    """matplotlib's error bars take their colour from edgecolor, not color: a red series' bars are red, not black."""
    import matplotlib.colors

    bars = styled(hv.ErrorBars((np.arange(3.0), np.arange(3.0), np.ones(3))), color="#d62728")
    fig = hv.render(bars, backend="matplotlib")
    (lines,) = [c for c in fig.axes[0].collections if len(c.get_segments())]
    assert matplotlib.colors.to_hex(lines.get_edgecolor()[0]) == "#d62728"


def test_a_key_panel_beside_a_panel_draws_no_axes():
    """A key panel holds only its legend: no axis labels or ticks of its own to collide with its neighbour's."""
    from sigcube.interfaces.plots.base import key_panel

    panel = framed(hv.Overlay([hv.Curve(([0, 1], [0, 1]), "x", "y", label="data")]), title="t", legend=None)
    key = key_panel([styled(hv.Curve([], label="a line"), color="red", width=2),
                     styled(hv.Scatter([], label="a model"), color="blue", size=5)], 320, 380)
    assert _drawn_problems(Plot(layout([panel, key], cols=2), "a panel and its key")) == []


def test_the_gallery_holds_one_example_of_every_figure_kind():
    """Every registered figure has its example in the gallery (drawn from the committed records, or its command alone
    where it reads a sweep's result cube), with a command that names it."""
    from sigcube.interfaces.plots import figures

    assert set(GALLERY) == set(figures())
    assert all(e.command.startswith(f"sigcube plot {kind} ") for kind, e in GALLERY.items())
    assert {k for k, e in GALLERY.items() if e.figure is None} == {"heatmap", "sensitivity", "joint-costs", "galaxy-corner"}


def _models(example, inputs) -> frozenset[str]:
    """The names a user gives and reads back: the registered kernels and the comparisons' models, and the models an
    example's reports compare or pair (``a_vs_b``): allowed in a figure's text though spelled like keys."""
    from sigcube.model.kernels.registry import kernel_names
    from sigcube.study.reports.compare_models import MODELS

    names = set(kernel_names()) | set(MODELS)

    def walk(value, parent: str = "") -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                if "_vs_" in key:
                    names.update(key.split("_vs_"))
                if parent in ("runs", "sigma_int_profile") and isinstance(inner, dict):
                    names.update(inner)
                if parent == "values" and isinstance(inner, dict) and "median_ratio" in inner:
                    names.add(key)  # a model the regression suite compares
                walk(inner, key)
        elif isinstance(value, list):
            for inner in value:
                walk(inner, parent)

    for report in example.figure.reports:
        walk(inputs.record(report)["report"])
    return frozenset(names)


def _read(kind: str, inputs) -> list[str]:
    import matplotlib.pyplot as plt

    example = GALLERY[kind]
    drawn = example.figure.draw(inputs)
    found = []
    for plot in getattr(drawn, "pages", {"": drawn}).values():
        figure = render(plot)
        try:
            found += reading_problems(figure, _models(example, inputs))
        finally:
            plt.close(figure)
    return found


@pytest.mark.parametrize("kind", sorted(k for k, e in GALLERY.items() if e.figure is not None and k not in SLOW_KINDS
                                        and not e.figure.cube))
def test_a_figure_kind_reads_well(kind, inputs):
    """Each kind's example, drawn from the committed records and rendered by matplotlib: every quantity's axis has a
    label with its unit, no report key shows as a word, every legend names each series once, no two panels intersect,
    no title runs past its panel."""
    assert _read(kind, inputs) == []


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(k for k, e in GALLERY.items() if e.figure is not None and (k in SLOW_KINDS
                                                                                                   or e.figure.cube)))
def test_a_figure_kind_of_the_sparc_cube_or_a_large_record_reads_well(kind, inputs, sparc_store, monkeypatch):
    monkeypatch.setenv("SIGCUBE_CUBE_DIR", str(sparc_store.parent))
    assert _read(kind, inputs) == []


def test_the_reading_checker_finds_a_missing_unit_and_a_key():
    """The checker itself, on a figure drawn wrong: a velocity and a radius axis without their units, a report's key
    as a title; and a clean figure passes."""
    import matplotlib.pyplot as plt

    x = np.linspace(1, 2, 20)
    wrong = framed(hv.Overlay([styled(hv.Curve((x, x), "r", "v", label="model"), color="red"),
                               styled(hv.Curve((x, 2 * x), "r", "v", label="model"), color="blue")]),
                   title="velocity_floor", xlabel=Label("radius", "radius"), ylabel=Label("velocity", "velocity"),
                   legend="top_left")
    figure = render(Plot(wrong, "wrong"))
    try:
        found = reading_problems(figure)
    finally:
        plt.close(figure)
    assert any("'velocity' names a quantity with a unit" in p for p in found), found
    assert any("'radius' names a quantity with a unit" in p for p in found), found
    assert any("shows the key 'velocity_floor'" in p for p in found), found
    fine = framed(styled(hv.Curve((x, x), "r", "v"), color="red"), title="fine",
                  xlabel=Label("radius [kpc]", "radius [kpc]"), ylabel=Label("velocity [km/s]", "velocity [km/s]"))
    figure = render(Plot(fine, "fine"))
    try:
        assert reading_problems(figure) == []
    finally:
        plt.close(figure)


def test_the_reading_checker_finds_overlapping_panels_a_doubled_legend_entry_and_a_cut_title():
    """Drawn with matplotlib directly (holoviews merges legend entries of one name): two frames that intersect, a
    legend naming a series twice, a title far wider than its frame; two panels side by side pass."""
    from matplotlib.figure import Figure

    wrong = Figure(figsize=(6, 4), dpi=100)
    left, right = wrong.add_axes((0.1, 0.1, 0.5, 0.8)), wrong.add_axes((0.4, 0.1, 0.5, 0.8))
    left.plot([0, 1], [0, 1], label="model")
    left.plot([0, 1], [1, 0], label="model")
    left.legend()
    right.set_title("a title far too long for its narrow panel, running into its neighbour's and out of the figure")
    for ax in (left, right):
        ax.set_xlabel("x")
        ax.set_ylabel("y")
    found = reading_problems(wrong)
    assert any("panels 0 and 1 overlap" in p for p in found), found
    assert any("names a series twice" in p for p in found), found
    assert any("panel 1's title" in p and "past its frame" in p for p in found), found
    fine = Figure(figsize=(6, 4), dpi=100)
    for box in ((0.1, 0.15, 0.35, 0.7), (0.6, 0.15, 0.35, 0.7)):
        ax = fine.add_axes(box)
        ax.plot([0, 1], [0, 1], label="model")
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.set_title("short")
    assert reading_problems(fine) == []
