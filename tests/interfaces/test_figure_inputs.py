"""Regressions of issue 66 (its figure part): every figure validates the report it reads. A report edited into what
cannot be — without its cube's hash, a negative error, a difference that is not the difference of its parts, a mass
of 1e308 — is refused in one line naming the field's JSON path, where it was drawn as given; a damaged halo table, a
missing QQ, a null ``logo`` are one line, where they were tracebacks; a table of error models is drawn by ``sigcube
plot`` as ``report compare --save`` draws it. Unit tests: no data mirror (the committed reports, synthetic cubes)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import holoviews as hv
import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

from sigcube.cli import app
from sigcube.interfaces.plots.comparison import elpd_ranking, per_object_difference
from sigcube.interfaces.plots.fields import Bound, Field, FieldError
from sigcube.interfaces.plots.fits import fitted_rotation_curves

RESULTS = Path(__file__).resolve().parents[2] / "docs" / "results"
runner = CliRunner()


def record(name: str) -> dict:
    return json.loads((RESULTS / f"{name}.json").read_text(encoding="utf-8"))


def refused(tmp_path: Path, figure: str, data: dict, *options: str) -> str:
    """``sigcube plot`` of ``data``: exit 2, one line on stderr (returned), no figure written."""
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    result = runner.invoke(app, ["plot", figure, str(path), *[x for o in options for x in ("--set", o)], "--out",
                                 str(tmp_path / "x.png")])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "this is a bug" not in lines[0], result.output
    assert not (tmp_path / "x.png").exists()
    return lines[0]


def cube(names: list[str], digest: str) -> xr.Dataset:
    """A dataset cube of the report's galaxies (the properties the per-galaxy figure reads) with content ``digest``."""
    rng = np.random.default_rng(1)
    return xr.Dataset({"V_flat": ("galaxy", rng.uniform(50, 300, len(names)), {"units": "km / s"}),
                       "SB_disk": ("galaxy", rng.uniform(10, 1e4, len(names)), {"units": "solLum / pc2"})},
                      coords={"galaxy": names}, attrs={"sigcube_kind": "sparc", "content_sha256": digest})


# --- silent wrong results ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("recorded, says", [(None, "is missing"), ("", "is empty")])
@pytest.mark.parametrize("figure", ["per-galaxy-difference", "fitted-curves"])
def test_a_report_without_its_cubes_hash_is_refused_by_every_figure_of_a_cube(figure, recorded, says):
    """Drawn before against any cube with the report's galaxy names (here one whose hash is the report's)."""
    data = record("compare-sigma-mond-nfw")
    digest = data["report"]["conventions"].pop("cube_content_sha256")
    if recorded is not None:
        data["report"]["conventions"]["cube_content_sha256"] = recorded
    same = cube(data["report"]["logo"]["nuisance"]["per_galaxy"]["galaxy"], digest)
    with pytest.raises(FieldError, match=f"report.conventions.cube_content_sha256 {says}") as caught:
        if figure == "per-galaxy-difference":
            per_object_difference(data, same, "sigma", "mond")
        else:
            fitted_rotation_curves(data, same, models=["sigma", "mond"], galaxies=["NGC3198"])
    assert "\n" not in str(caught.value)


def _true_difference(report: dict, model: str) -> float:
    models = report["logo"]["nuisance"]["models"]
    return models["nfw"]["elpd"] - models[model]["elpd"]


@pytest.mark.parametrize("field, value, says", [
    ("dse", -5.0, "report.logo.nuisance.models.mond.dse is -5, not ≥ 0 (an error, a spread"),
    ("elpd_diff", 1000.0, "report.logo.nuisance.models.mond.elpd_diff is 1000, but elpd(nfw) − elpd(mond) is "
                          "1427.29295: the report contradicts itself"),
    ("elpd_diff", -3.0, "report.logo.nuisance.models.mond.elpd_diff is -3, not ≥ 0 (nfw is the best"),
    ("elpd", math.nan, "report.logo.nuisance.models.mond.elpd is nan, not a finite number"),
])
def test_elpd_refuses_an_error_or_a_difference_that_cannot_be(tmp_path, field, value, says):
    data = record("compare-sigma-mond-nfw")
    assert _true_difference(data["report"], "mond") == pytest.approx(1427.29295, abs=1e-5)  # the report's own
    data["report"]["logo"]["nuisance"]["models"]["mond"][field] = value
    assert says in refused(tmp_path, "elpd", data)


def test_a_halo_mass_of_1e308_is_refused(tmp_path):
    data = record("compare-halos-shmr")
    data["report"]["runs"]["catalogue"]["nfw-lcdm"]["halos"]["data_vars"]["log10_M200"]["data"][0][2] = 1e308
    line = refused(tmp_path, "halo-relations", data, "run=catalogue")
    assert ("report.runs.catalogue.nfw-lcdm.halos.data_vars.log10_M200.data.0.2 is 1e+308, not between 4 and 17 "
            "(log10 of a halo's mass") in line


def test_a_number_no_report_holds_is_refused_where_no_bound_is_declared(tmp_path):
    """A prediction over observation of 1e308 drew an infinite log axis (matplotlib: a traceback; found by the slow
    fuzz): every number beyond ±1e100 is refused."""
    data = record("regression")
    row = next(r for r in data["report"] if "per_cluster" in (r.get("values") or {}).get("mond", {}))
    row["values"]["mond"]["per_cluster"]["A209"] = {"median_ratio": 1e308}
    line = refused(tmp_path, "prediction-ratios", data)
    assert line.endswith(".values.mond.per_cluster.A209.median_ratio is 1e+308, beyond ±1e+100: no number of a "
                         "report comes near it"), line


def test_an_interval_outside_its_wider_interval_or_upside_down_is_refused(tmp_path):
    data = record("sweep-nuisance")
    axis = data["report"]["posterior"]["axes"]["A0"]
    axis["ci68"] = [axis["ci95"][0] - 1.0, axis["ci68"][1]]
    assert "report.posterior.axes.A0.ci68 is [" in refused(tmp_path, "sweep-intervals", data)
    axis["ci68"] = axis["ci95"][::-1]
    assert "its lower end is above its upper end" in refused(tmp_path, "sweep-intervals", data)


# --- tracebacks ----------------------------------------------------------------------------------------------------


def _halos(data: dict) -> dict:
    return data["report"]["runs"]["catalogue"]["nfw-lcdm"]["halos"]


@pytest.mark.parametrize("edit, says", [
    (lambda d: _halos(d)["data_vars"].pop("c200"), "halos.data_vars.c200 is missing"),
    (lambda d: _halos(d)["data_vars"]["c200"]["data"].pop(5), "halos.data_vars.c200.data has 170 values, not 171"),
    (lambda d: _halos(d)["coords"]["galaxy"]["data"].pop(5),
     "halos.data_vars.log10_M200.data has 171 values, not 170"),
    (lambda d: d["report"]["runs"]["catalogue"]["nfw-lcdm"].update(halos="x"), "halos is text, not an object"),
    (lambda d: _halos(d)["data_vars"]["c200"]["data"][7].reverse(),
     "halos.data_vars.c200.data.7 (galaxy {galaxy}) has its percentiles out of order"),
])
def test_an_edited_or_cut_halo_table_is_one_line(tmp_path, edit, says):
    data = record("compare-halos-shmr")
    galaxy = _halos(data)["coords"]["galaxy"]["data"][7]
    edit(data)
    line = refused(tmp_path, "halo-relations", data, "run=catalogue")
    assert line.startswith(f"error: halo relations: report.runs.catalogue.nfw-lcdm.{says.format(galaxy=galaxy)}"), line


def test_residual_checks_without_a_models_qq_is_one_line(tmp_path):
    data = record("compare-halos-shmr")
    del data["report"]["predictive_checks"]["catalogue"]["mond"]["qq"]
    line = refused(tmp_path, "residual-checks", data, "run=catalogue")
    assert line == ("error: residual checks: report.predictive_checks.catalogue.mond.qq is missing (is it the JSON of "
                    "the report this figure reads?)")


def test_per_galaxy_difference_of_a_null_logo_is_one_line():
    data = record("compare-sigma-mond-nfw")
    report = data["report"]
    same = cube(report["logo"]["nuisance"]["per_galaxy"]["galaxy"], report["conventions"]["cube_content_sha256"])
    report["logo"] = None
    with pytest.raises(FieldError, match=r"^per-object difference: report.logo is null, not an object"):
        per_object_difference(data, same, "sigma", "mond")


# --- a table of error models, as --save draws it --------------------------------------------------------------------


def _rows(plot) -> dict[str, list[float]]:
    """The ELPD figure's points by panel (run)."""
    out: dict[str, list[float]] = {}
    for e in plot.view.traverse(lambda e: e, [hv.Scatter]):
        out.setdefault(e.kdims[0].name, []).extend(float(v) for v in e.dimension_values(0))
    return {k: sorted(v) for k, v in out.items()}


def test_elpd_and_per_galaxy_difference_draw_a_table_of_error_models_by_its_preferred_one(tmp_path, monkeypatch):
    table = record("compare-sigma-mond-error-models")
    lead = table["report"]["error_model_table"]["lead"]
    preferred = table["report"]["reports"][lead]
    assert _rows(elpd_ranking(table)) == _rows(elpd_ranking(preferred))
    names = preferred["logo"]["nuisance"]["per_galaxy"]["galaxy"]
    digest = preferred["conventions"]["cube_content_sha256"]
    plot = per_object_difference(table, cube(names, digest), "sigma", "mond")
    assert plot.alt == per_object_difference(preferred, cube(names, digest), "sigma", "mond").alt
    drawn: dict[str, str] = {}  # what `sigcube plot` and `--save` each draw, by figure (not rendered: the same call)
    monkeypatch.setattr("sigcube.interfaces.plots.output.save", lambda plot, path, *_: drawn.setdefault("plot", plot.alt))
    result = runner.invoke(app, ["plot", "elpd", str(RESULTS / "compare-sigma-mond-error-models.json"), "--out",
                                 str(tmp_path / "x.png")])
    assert result.exit_code == 0, result.output
    from sigcube.cli.report import _save_compare

    def save(plot, path):  # what --save draws, by figure; an empty file where it would write one
        drawn.setdefault(Path(path).stem, plot.alt)
        Path(path).write_bytes(b"")
        return path

    monkeypatch.setattr("sigcube.interfaces.saved.save", save)
    _save_compare(str(tmp_path / "saved"), "compare-error-models", table["report"], lambda p, c: None, preferred,
                  cube(names, "0" * 64))
    assert drawn["compare-error-models-elpd"] == drawn["plot"]


# --- the layer itself ----------------------------------------------------------------------------------------------


def test_a_field_names_its_path_from_the_top_of_the_file():
    top = Field.report({"report": {"a": [{"b": "x"}]}, "commands": []}, "a figure")
    assert top["a"][0]["b"].where == "report.a.0.b"
    with pytest.raises(FieldError, match=r"^a figure: report.a.0.b is text, not a number$"):
        top["a"][0]["b"].number()
    with pytest.raises(FieldError, match=r"^a figure: report.a.1 is missing \(report.a has 1 items\)$"):
        top["a"][1]
    plain = Field.report({"a": [1.0, None, 3.0]}, "a figure")
    assert plain["a"].where == "a"
    with pytest.raises(FieldError, match=r"^a figure: a.1 is null, not a number$"):
        plain["a"].numbers()
    assert np.isnan(plain["a"].numbers(missing=True)[1])
    with pytest.raises(FieldError, match=r"^a figure: a has 3 values, not 2$"):
        plain["a"].numbers(size=2, missing=True)
    odd = Field.report({"a\nb": {"Σ": True}}, "a figure")
    with pytest.raises(FieldError, match=r"^a figure: a\\nb.Σ is true/false, not a number$"):
        odd["a\nb"]["Σ"].number()


@pytest.mark.parametrize("bound, text", [(Bound(0.0), "≥ 0"), (Bound(0.0, open_low=True), "> 0"),
                                         (Bound(0.0, 1.0), "between 0 and 1"), (Bound(high=5.0), "≤ 5"),
                                         (Bound(), "finite")])
def test_a_bound_says_its_range(bound, text):
    assert bound.text == text
