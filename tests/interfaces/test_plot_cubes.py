"""Figures and explorers of cubes on the real SPARC and CLASH data: the RAR's residuals are the committed SPARC
report's scatter, the rotation-curve panels the sample's best and worst, a nuisance sweep's curves sit at its
posterior, and ``sigcube.open``, ``sigcube info``, ``sigcube explore`` and ``sigcube plot`` take a nuisance sweep, a
joint sweep's cube and a population's posterior export (the explorer pages themselves in the slow tier)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import holoviews as hv
import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

import sigcube
from sigcube.cli import app
from sigcube.errors import SigcubeError
from sigcube.interfaces.explore import Limits, PopulationQuestion, save_explorer, sections
from sigcube.interfaces.explore.posterior_curves import posterior_curves, posterior_point
from sigcube.interfaces.plots import galaxies, rar, sweeps
from sigcube.interfaces.plots.data import grids_of
from sigcube.interfaces.plots.posteriors import corner
from sigcube.model import metrics

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.fixture(scope="module")
def stores(tiny_results, tmp_path_factory) -> dict[str, Path]:
    """A nuisance sweep, a joint sweep's cube and the population export of the nuisance sweep."""
    tmp = tmp_path_factory.mktemp("kinds")
    done = runner.invoke(app, ["export", str(tiny_results["nuisance"]), "--out", str(tmp / "population.zarr"),
                               "--population", "a0", "--scale", "log", "--draws", "200"])
    assert done.exit_code == 0, done.output
    return {**tiny_results, "population": tmp / "population.zarr"}


@pytest.fixture(scope="module")
def pred(sparc_cube):
    return galaxies.predictions(sparc_cube)


def _committed(name: str) -> dict:
    return json.loads((ROOT / "docs" / "results" / f"{name}.json").read_text(encoding="utf-8"))["report"]


def test_the_rar_residuals_give_the_reports_scatter(pred):
    """The residual panel's points, log10(g_obs/g_pred) of the paper preset, have the RMS the committed SPARC report
    prints as its §3.5 scatter (computed there by the metric code, here from the plotted points)."""
    plot = rar.rar(pred)
    (points,) = [e for e in plot.view.traverse(lambda e: e, [hv.Scatter]) if e.vdims[0].name == "residual"]
    y = np.asarray(points.dimension_values(1), dtype=float)
    paper = next(p for p in _committed("sparc") if p["preset"] == "paper")
    assert len(y) == paper["n_points"]
    assert np.sqrt(np.mean(y ** 2)) == pytest.approx(paper["sigma"]["rar_rms_accel"], rel=1e-9)
    (data,) = [e for e in plot.view.traverse(lambda e: e, [hv.Scatter]) if e.label == "data points"]
    assert len(data) == paper["n_points"], "every point drawn"


def test_the_rotation_curves_are_representative_and_worst(pred):
    plot = galaxies.rotation_curves(pred, n=3)
    panels = list(plot.view)
    assert len(panels) == 6
    names = [p.opts.get(backend="bokeh").kwargs["title"].split("\n")[0] for p in panels]
    rms = pred.rms(next(iter(pred.v_pred)))
    order = [str(pred.points.galaxy[i]) for i in np.argsort(rms)[::-1]]
    assert names[3:] == order[:3], "the three worst fitted, worst first"
    rest = order[3:][::-1]  # the others, best first: the representative ones sit at their quartiles and median
    assert names[:3] == [rest[round(q * (len(rest) - 1))] for q in (0.25, 0.5, 0.75)]
    for panel, name in zip(panels, names):  # the title's RMS (first: the first kernel's) is the plotted curve's
        (obs,) = [e for e in panel if isinstance(e, hv.Scatter)]
        (line,) = [e for e in panel if isinstance(e, hv.Curve) and e.label == next(iter(pred.v_pred))]
        r = np.sqrt(np.mean((obs.dimension_values(1) - line.dimension_values(1)) ** 2))
        assert f"\nRMS [km/s]: {next(iter(pred.v_pred))} {r:.1f} · " in panel.opts.get(backend="bokeh").kwargs["title"]
    assert "representative galaxies (" in plot.alt and "3 worst fitted" in plot.alt


def test_a_nuisance_sweeps_curves_sit_at_its_posterior(stores, sparc_cube):
    result = sigcube.open(stores["nuisance"]).load()
    curves, where = posterior_curves(result, sparc_cube)
    post = result.sigcube.posterior()
    best = float(post.axes["a0"][np.argmax(post.mass)])
    assert f"a0 = {best:.4g}" in where and posterior_point(result) == {"a0": int(np.argmax(post.mass))}
    assert len(curves) == result.sizes["galaxy"]
    one = next(c for c in curves if c.name == "NGC3198")
    kernel_rms = metrics.object_metrics(next(iter(one.predictions.values())), one.v_obs, one.e_v,
                                        np.array([0, len(one.r)]), ["rms"])["rms"][0]
    assert one.rms_of(next(iter(one.predictions))) == pytest.approx(kernel_rms)
    assert one.detail.startswith("Υ_disk ") and "i [deg]" not in one.detail
    cube_row = sparc_cube.sel(galaxy="NGC3198")
    assert not np.allclose(one.v_obs, cube_row["v_obs"].values[: len(one.v_obs)]), "deprojected at its own i"


def test_open_and_info_take_every_kind_of_result(stores):
    joint = sigcube.open(stores["joint"])
    assert isinstance(joint, xr.Dataset) and joint.sigcube.kind == "joint"
    assert isinstance(sigcube.open(stores["population"]), xr.DataTree)
    shown = runner.invoke(app, ["info", str(stores["nuisance"])])
    assert shown.exit_code == 0 and "posterior (global prior: equal mass per grid point" in shown.stdout
    shown = runner.invoke(app, ["info", str(stores["joint"])])
    assert shown.exit_code == 0, shown.output
    assert "sparc: ln Z = " in shown.stdout and "clash: ln Z = " in shown.stdout and "joint: ln Z = " in shown.stdout
    shown = runner.invoke(app, ["info", str(stores["population"])])
    assert shown.exit_code == 0 and "posterior export" in shown.stdout and re.search(r"\bmu: mean -?\d", shown.stdout)


def test_a_damaged_export_is_one_line(stores, tmp_path):
    import shutil

    broken = tmp_path / "broken.zarr"
    shutil.copytree(stores["population"], broken)
    shutil.rmtree(broken / "posterior")
    res = runner.invoke(app, ["info", str(broken)])
    assert res.exit_code == 2 and "this posterior export has no posterior group" in res.output
    assert "Traceback" not in res.output
    shutil.copytree(stores["population"], broken, dirs_exist_ok=True)
    for chunk in (broken / "posterior" / "mu" / "c").rglob("*"):
        if chunk.is_file():
            chunk.unlink()
    res = runner.invoke(app, ["explore", str(broken), "--html", str(tmp_path / "b.html")])
    assert res.exit_code == 2 and "the posterior draws of mu have missing values" in res.output, res.output


def test_the_explorer_has_a_section_for_every_kind(stores, sparc_cube):
    limits = Limits(max_frames=3, max_galaxies=4)
    parts = {s.title: s for s in sections(sigcube.open(stores["nuisance"]), sparc_cube, limits=limits,
                                          population=PopulationQuestion("a0", "log"))}
    assert {"Rotation curves at the posterior", "Posterior (nuisance parameters per object)",
            "Population of a0"} <= set(parts)
    assert parts["Rotation curves at the posterior"].note.startswith("4 of 171 galaxies embedded")
    parts = {s.title: s for s in sections(sigcube.open(stores["joint"]), limits=limits)}
    assert set(parts) == {"Posterior: each dataset and the joint", "Each object at the joint posterior"}
    labels = {e.label for e in parts["Posterior: each dataset and the joint"].views[0].traverse(lambda e: e,
                                                                                               [hv.Curve])}
    assert labels == {"sparc", "clash", "joint"}
    (part,) = sections(sigcube.open(stores["population"]), limits=limits)
    assert part.title == "Posterior draws" and "mu" in str(part.views[0])
    res = runner.invoke(app, ["explore", str(stores["joint"]), "--scale", "log"])
    assert res.exit_code == 2 and "--scale and --others belong to --population" in res.output


def test_the_static_figures_of_a_result_cube(stores):
    result = sigcube.open(stores["nuisance"]).load()
    plot = sweeps.sensitivity(result, "mean_rms")
    (curve,) = plot.view.traverse(lambda e: e, [hv.Curve])
    np.testing.assert_allclose(curve.dimension_values(1), result["mean_rms"].values)
    with pytest.raises(SigcubeError, match="a heat map needs two swept parameters; this sweep has a0"):
        sweeps.metric_map(result)
    grids = grids_of(sigcube.open(stores["joint"]))
    assert set(grids) == {"sparc", "clash", "joint"}
    plot = corner(grids)
    (joint,) = [e for e in plot.view.traverse(lambda e: e, [hv.Curve]) if e.label == "joint"]
    np.testing.assert_allclose(joint.dimension_values(1), sigcube.open(stores["joint"])["posterior_joint"].values)


def test_sigcube_plot_draws_a_report_a_cube_and_refuses_in_one_line(stores, sparc_store, tmp_path, monkeypatch):
    monkeypatch.setenv("SIGCUBE_CUBE_DIR", str(sparc_store.parent))
    out = tmp_path / "e.png"
    res = runner.invoke(app, ["plot", "per-galaxy-difference", str(ROOT / "docs/results/compare-sigma-mond-nfw.json"),
                              "--set", "model=sigma", "--set", "against=mond", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert res.stdout.strip() == str(out) and out.stat().st_size > 10_000
    res = runner.invoke(app, ["plot", "posterior-corner", str(stores["joint"]), "--out", str(tmp_path / "j.html")])
    assert res.exit_code == 0 and "<script" in (tmp_path / "j.html").read_text(encoding="utf-8")
    for argv, message in ((["plot", "nope", "x.json", "--out", "x.png"], "no figure 'nope'; the figures: "),
                          (["plot", "population-forest", str(tmp_path / "missing.json"), "--out", "x.png"],
                           "missing.json: no such file"),
                          (["plot", "heatmap", str(stores["nuisance"]), "--set", "colour=red", "--out", "x.png"],
                           "--set 'colour=red': give KEY=VALUE with KEY one of metric, x, y"),
                          (["plot", "elpd", str(ROOT / "docs/results/sparc.json"), "--out", str(tmp_path / "x.png")],
                           "ELPD ranking: report is a list, not an object")):
        res = runner.invoke(app, argv)
        assert res.exit_code == 2 and message in res.output and len(res.output.strip().splitlines()) == 1, res.output


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["nuisance", "joint", "population"])
def test_sigcube_explore_writes_the_page_of_every_kind(kind, stores, sparc_store, tmp_path, monkeypatch):
    monkeypatch.setenv("SIGCUBE_CUBE_DIR", str(sparc_store.parent))
    extra = ["--population", "a0", "--scale", "log"] if kind == "nuisance" else []
    res = runner.invoke(app, ["explore", str(stores[kind]), "--html", str(tmp_path / "p.html"), "--max-frames", "3",
                              "--max-galaxies", "4", *extra])
    assert res.exit_code == 0, res.output
    page = (tmp_path / "p.html").read_text(encoding="utf-8")
    assert not re.search(r"<(?:script|link)[^>]+(?:src|href)=\"https?://", page), "nothing from the network"
    title = {"nuisance": "Rotation curves at the posterior", "joint": "Each object at the joint posterior",
             "population": "Posterior draws"}[kind]
    assert title in page


def test_explore_keeps_its_refusal_of_what_is_not_a_result(sparc_store):
    res = runner.invoke(app, ["explore", str(sparc_store)])
    assert res.exit_code == 2 and "is a 'sparc' dataset cube; expected a sweep result cube" in res.output


def test_the_saved_explorer_asks_nothing_of_the_network(stores, sparc_cube, tmp_path):
    out = save_explorer(sigcube.open(stores["joint"]), None, tmp_path / "j.html", limits=Limits(max_frames=2))
    page = out.read_text(encoding="utf-8")
    assert not re.search(r"<link[^>]+href=\"https?://", page) and '<link rel="icon" href="data:,">' in page
