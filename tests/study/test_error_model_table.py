"""The model × error model table: its preferred error model, averaged Bayes factors and decisions from hand-made
reports, the --error-model list's grammar, and the command on the SPARC cube (catalogue values: seconds)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from sigcube.study.reports.error_model_table import (
    ERROR_MODEL_GRIDS, ErrorModelError, error_model_table, parse_error_models,
)


def _report(z: dict[str, float], unit: str | None) -> dict:
    """A comparison report holding only what the table reads: ln Z per model (±0.1), ln B vs mond."""
    rows = {m: {"log_evidence": v, "log_evidence_error": 0.1, "ln_B_vs_mond": v - z["mond"],
                "ln_B_vs_mond_error": 0.0 if m == "mond" else 0.2} for m, v in z.items()}
    out = {"runs": {"nuisance": rows}, "n_galaxies": 40, "n_points": 800, "conventions": {}}
    if unit:
        out["scatter"] = {"unit": unit, "prior": "uniform"}
    return out


def test_the_data_prefer_the_error_model_of_highest_summed_evidence_and_the_average_is_a_mixture():
    reports = {"quoted": _report({"sigma": -1000.0, "mond": -990.0}, None),
               "velocity_floor": _report({"sigma": -800.0, "mond": -805.0}, "km / s"),
               "lognormal": _report({"sigma": -802.0, "mond": -790.0}, "dex")}
    t = error_model_table(reports)
    # ln Σ_m Z: quoted −990 + ln(1 + e^−10); floor −800 + ln(1 + e^−5); lognormal −790 + ln(1 + e^−12)
    assert t["lead"] == "lognormal" and t["data_prefer"]["decided"]
    assert t["data_prefer"]["margin"] == pytest.approx(-790 + math.log1p(math.exp(-12)) + 800 - math.log1p(math.exp(-5)))
    assert t["preferred_by_model"]["sigma"]["error_model"] == "velocity_floor"
    assert t["preferred_by_model"]["mond"]["error_model"] == "lognormal"
    z_sigma = math.log((math.exp(-200) + 1 + math.exp(-2)) / 3) - 800
    z_mond = math.log((math.exp(-200) + math.exp(-15) + 1) / 3) - 790
    assert t["averaged"]["sigma"]["ln_B_vs_mond"] == pytest.approx(z_sigma - z_mond)
    assert t["sign_moves"] == ["sigma"]  # −10, +5, −12
    delta = {(r["model"], r["error_model"]): r["delta_vs_best_error_model"] for r in t["rows"]}
    assert delta["sigma", "lognormal"] == pytest.approx(-2.0) and delta["mond", "quoted"] == pytest.approx(-200.0)


def test_equal_evidences_leave_the_error_model_undecided():
    t = error_model_table({"velocity_floor": _report({"sigma": -800.0, "mond": -805.0}, "km / s"),
                           "lognormal": _report({"sigma": -800.1, "mond": -805.1}, "dex")})
    assert not t["data_prefer"]["decided"] and "undecided" in t["data_prefer"]["statement"]


def test_the_error_model_list_grammar():
    every = parse_error_models("all")
    assert list(every) == [*ERROR_MODEL_GRIDS, "lognormal+sigma_floor", "velocity_floor+tau_gal"]
    assert every["quoted"] is None and list(parse_error_models("all", extras=False)) == list(ERROR_MODEL_GRIDS)
    assert every["lognormal"].values[-1] == pytest.approx(0.2) and every["velocity_floor"].unit == "km / s"
    both = every["lognormal+sigma_floor"]
    assert both.error_model == "lognormal" and both.sigma_floor.values.tolist() == list(range(0, 21, 2))
    assert both.tau_gal is None and every["velocity_floor+tau_gal"].sigma_floor is None
    two = parse_error_models("lognormal=0:0.3:31, lognormal_gobs")
    assert two["lognormal"].values.size == 31 and list(two) == ["lognormal", "lognormal_first_order"]
    three = parse_error_models("lognormal=0:0.3:31+sigma_floor=5+tau_gal=0.3")
    (key, s), = three.items()
    assert key == "lognormal=0:0.3:31+sigma_floor=5+tau_gal=0.3" and s.values.size == 31
    assert s.sigma_floor.values.tolist() == [5.0] and s.tau_gal.values.tolist() == [0.3]
    scaled = parse_error_models("velocity_floor+tau_gal, lognormal+tau_gal=0:0.2:5")
    floor = scaled["velocity_floor+tau_gal"]
    assert floor.error_model == "velocity_floor" and floor.values.size == 21 and floor.tau_gal.values[-1] == 0.8
    assert scaled["lognormal+tau_gal=0:0.2:5"].tau_gal.values.tolist() == pytest.approx([0, 0.05, 0.1, 0.15, 0.2])
    fixed = parse_error_models("velocity_floor+tau_gal=0.2,velocity_floor+tau_gal=0.3")
    assert [s.tau_gal.values.tolist() for s in fixed.values()] == [[0.2], [0.3]]
    for text, message in (("gaussian", "unknown error model 'gaussian'"), ("quoted=0:1:3", "no σ_int grid"),
                          ("lognormal,lognormal", "named twice"), (" , ", "at least one"),
                          ("lognormal=0:1:100000", "more than"), ("gaussian+tau_gal", "unknown error model"),
                          ("velocity_floor+tau_gal=0:1", "LO:HI:N"),
                          ("velocity_floor+tau_gal,velocity_floor+tau_gal", "named twice"),
                          ("velocity_floor+sigma_floor", "goes with a log-normal"), ("quoted+tau_gal", "nothing beside"),
                          ("lognormal+tau", "not one of"), ("lognormal+sigma_floor+sigma_floor", "named twice"),
                          ("lognormal+sigma_floor=-1", "≥ 0")):
        with pytest.raises(ErrorModelError, match=message):
            parse_error_models(text)


def test_report_compare_under_two_error_models_on_sparc(sparc_store, tmp_path, monkeypatch):
    """Catalogue Υ, D, i: the table's rows are the single runs' numbers, its average the mixture of them, and the
    data prefer the log-normal scatter over the quoted errors (σ_int ≈ 0.14 dex is far from 0 at 3,373 points)."""
    from sigcube.cli import app

    monkeypatch.setenv("SIGCUBE_CUBE_DIR", str(tmp_path))
    args = ["report", "compare", "sigma", "--no-nuisance", "--cube", str(sparc_store), "--synchronous"]
    res = CliRunner().invoke(app, [*args, "--error-model", "quoted,lognormal=0.1:0.2:21", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout.splitlines()[-1])
    t = out["error_model_table"]
    single = CliRunner().invoke(app, [*args, "--sigma-int", "0.1:0.2:21", "--error-model", "lognormal", "--json"])
    one = json.loads(single.stdout.splitlines()[-1])["runs"]["catalogue"]
    rows = {(r["model"], r["error_model"]): r for r in t["rows"]}
    for m in ("sigma", "mond"):
        assert rows[m, "lognormal"]["log_evidence"] == pytest.approx(one[m]["log_evidence"], abs=1e-9)
    assert t["lead"] == "lognormal" and t["run"] == "catalogue"
    z = {m: np.logaddexp(rows[m, "quoted"]["log_evidence"], rows[m, "lognormal"]["log_evidence"]) - math.log(2)
         for m in ("sigma", "mond")}
    assert t["averaged"]["sigma"]["ln_B_vs_mond"] == pytest.approx(z["sigma"] - z["mond"])
    assert rows["sigma", "lognormal"]["decision_vs_mond"]["rule"] == t["rule"]
    # the quoted errors are far too narrow for SPARC; the fitted scatter brings the residuals near N(0, 1)
    assert rows["mond", "quoted"]["predictive_check"]["sd"] > 3
    assert 0.85 < rows["mond", "lognormal"]["predictive_check"]["sd"] < 1.2
    text = CliRunner().invoke(app, [*args, "--error-model", "quoted,lognormal=0.1:0.2:21"])
    assert text.exit_code == 0 and "error model the data prefer" in text.stdout and "decision rule:" in text.stdout


def test_the_table_names_every_error_model_whole_in_a_narrow_terminal():
    """At 80 columns the numbers wrap; a model's and an error model's names are never cut or broken (one cut name can
    read as another's)."""
    import io
    import json

    from rich.console import Console

    from sigcube.study.reports.error_model_table import render_error_model_table

    table = json.loads((Path(__file__).parents[2] / "docs" / "results" / "compare-sigma-mond-error-models.json")
                       .read_text())["report"]["error_model_table"]
    console = Console(file=io.StringIO(), width=80, color_system=None)
    render_error_model_table(table, console)
    rows = [line for line in console.file.getvalue().splitlines() if line.startswith("│")]
    for row in table["rows"]:
        assert any(f"│ {row['model']}" in line and f" {row['error_model']} " in line for line in rows), row["error_model"]
