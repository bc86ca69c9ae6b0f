"""`sigcube report verdict`: the probes' verdicts read from the committed reports, checked against those reports'
own numbers computed here another way, and its refusals of missing or foreign sources."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sigcube.cli import app
from sigcube.study.reports.verdict import RESULTS_DIR, SOURCES, VerdictError, load_sources, verdict_report


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A copy of the verdict's committed sources, free to be spoiled."""
    for name, _ in SOURCES.values():
        shutil.copy(RESULTS_DIR / name, tmp_path / name)
    return tmp_path


@pytest.fixture(scope="module")
def report() -> dict:
    return verdict_report(load_sources())


def _record(name: str) -> dict:
    return json.loads((RESULTS_DIR / name).read_text())["report"]


def test_rotation_curves_are_the_family_runs_evidences(report: dict) -> None:
    """Each ln B against MOND is the difference of its run's two ln Z (the family run's, or the relations record's for
    a halo under another stellar-to-halo relation); NFW's row is NFW under the relation of highest ln Z, and the best
    ΛCDM halo the one of highest ln Z among every ΛCDM-prior profile under every relation."""
    family = _record(SOURCES["family"][0])["runs"]["nuisance"]
    others = _record(SOURCES["relations"][0])["runs"]["nuisance"]
    row = report["rows"][0]
    for pair in row["pairs"]:
        runs = family if pair["a"] in family else others
        assert pair["ln_b"] == pytest.approx(runs[pair["a"]]["log_evidence"] - runs["mond"]["log_evidence"], abs=1e-9)
    lcdm = {m: r["log_evidence"] for runs in (family, others) for m, r in runs.items() if "-lcdm" in m}
    assert len(lcdm) == 11  # NFW, DC14, coreNFW and Einasto under three relations, but Einasto under Behroozi's
    assert row["lcdm_best"] == max(lcdm, key=lcdm.get)
    nfw = {m: z for m, z in lcdm.items() if m.startswith("nfw-lcdm")}
    assert row["pairs"][1]["a"] == max(nfw, key=nfw.get)
    assert {p["a"] for p in row["pairs"]} >= {"sigma", row["lcdm_best"]}


def test_the_relations_record_repeats_the_family_runs_mond(report: dict) -> None:
    """The relations record is made with the family run's choices: its MOND run, the same integral made again, has the
    family's ln Z within their errors, so the ln B of the two records compare; no difference is listed for it."""
    here, there = (_record(SOURCES[k][0])["runs"]["nuisance"]["mond"] for k in ("family", "relations"))
    assert abs(here["log_evidence"] - there["log_evidence"]) <= 3 * max(
        here["log_evidence_error"] + there["log_evidence_error"], 0.01)
    assert not any("relations" in d or "MOND's ln Z" in d for d in report["differences"])


def test_the_family_run_and_the_error_model_table_agree_on_sigma_against_mond(report: dict) -> None:
    """Two independent runs of Σ and MOND under the lead error model (the family's σ_int prior 0–30 km/s, the table's
    0–40: the posterior lies inside both, so ln B is the same) agree within their numerical errors."""
    table = _record(SOURCES["error_models"][0])["error_model_table"]
    lead = next(r for r in table["rows"] if r["model"] == "sigma" and r["error_model"] == table["lead"])
    pair = report["rows"][0]["pairs"][0]
    assert pair["a"] == "sigma"
    assert abs(pair["ln_b"] - lead["ln_B_vs_mond"]) < 3 * math.hypot(pair["error"], lead["ln_B_vs_mond_error"])


def test_the_joint_runs_sparc_a0_is_the_comparisons(report: dict) -> None:
    """The joint run recomputes SPARC's likelihood under the lead error model: its A0 equals the comparison's within
    the comparison's sd (the issue's condition), read from both files here."""
    joint = _record(SOURCES["joint_sigma"][0])["posterior"]["sparc"]["axes"]["A0"]
    compare = _record(SOURCES["family"][0])["runs"]["nuisance"]["sigma"]["evidence"]["posterior"]["A0"]
    assert abs(joint["mean"] - compare["mean"]) < compare["sd"]
    assert report["rows"][-1]["sparc_a0"]["agree"]


def test_the_calibration_places_the_data_among_mond_drawn_samples(report: dict) -> None:
    """The data's ln B lies inside the MOND-drawn samples' central 90 % and below every Σ-drawn sample's 5 % point,
    as the calibration record's quantiles say."""
    cal = _record(SOURCES["calibration"][0])["by_truth"]
    ln_b = report["rows"][0]["pairs"][0]["ln_b"]
    q = {t: cal[t]["summary"]["quantiles"] for t in ("sigma", "mond")}
    inside = report["rows"][0]["calibration"]["inside_central_90"]
    assert inside == {t: q[t]["0.05"] <= ln_b <= q[t]["0.95"] for t in q}
    assert inside["mond"] and not inside["sigma"]


def test_every_probe_has_a_row_and_every_gap_is_said(report: dict) -> None:
    probes = " ".join(r["probe"] for r in report["rows"])
    for word in ("SPARC", "Eilers", "Mróz", "Simon", "McConnachie", "DF2", "CLASH", "one A0"):
        assert word in probes
    assert any("QUMOND" in line for line in report["not_answered"])
    assert all(r["lcdm_best"] or r.get("lcdm") for r in report["rows"])


def test_a_source_under_another_error_model_is_named(folder: Path) -> None:
    path = folder / SOURCES["family"][0]
    data = json.loads(path.read_text())
    data["report"]["scatter"]["error_model"] = "lognormal"
    path.write_text(json.dumps(data))
    differences = verdict_report(load_sources(folder))["differences"]
    assert any("uses error model lognormal+tau_gal" in d for d in differences)


def test_a_relations_record_under_other_choices_is_named(folder: Path) -> None:
    path = folder / SOURCES["relations"][0]
    data = json.loads(path.read_text())
    data["report"]["scatter"]["tau_gal"]["prior"] = "uniform on 0–2 ln V"
    data["report"]["runs"]["nuisance"]["mond"]["log_evidence"] += 5.0
    path.write_text(json.dumps(data))
    differences = verdict_report(load_sources(folder))["differences"]
    assert any("compare-family-shmr-lead.json) is not made under the family run's" in d for d in differences)
    assert any("MOND's ln Z differs" in d for d in differences)


def test_an_error_model_the_data_prefer_to_the_lead_is_named_with_its_margin(report: dict) -> None:
    """The Student-t record's error models, ranked by ln(Z_Σ + Z_MOND) summed here from its runs: one the data prefer to
    the family run's error model by more than three errors is named with its margin; the record repeats the lead's
    integrals of the error-model table, so no difference is listed for those; its Σ rows join the sensitivity."""
    tails = _record(SOURCES["tails"][0])["reports"]
    lead = _record(SOURCES["error_models"][0])["error_model_table"]["lead"]

    def joint(e: str) -> float:
        z = [tails[e]["runs"]["nuisance"][m]["log_evidence"] for m in ("sigma", "mond")]
        top = max(z)
        return top + math.log(sum(math.exp(v - top) for v in z))

    best = max(tails, key=joint)
    assert best != lead
    named = [d for d in report["differences"] if d.startswith(f"the data prefer {best} to {lead}")]
    assert len(named) == 1 and f"by {joint(best) - joint(lead):.1f} ±" in named[0]
    assert not any("differs between" in d for d in report["differences"])
    sigma = tails[best]["runs"]["nuisance"]["sigma"]
    line = [s for s in report["rows"][0]["sensitivity"] if s["choice"] == f"error model {best}"]
    assert len(line) == 1 and line[0]["ln_b"] == pytest.approx(
        sigma["log_evidence"] - tails[best]["runs"]["nuisance"]["mond"]["log_evidence"], abs=1e-9)


def test_a_tails_record_that_does_not_repeat_the_leads_integrals_is_named(folder: Path) -> None:
    path = folder / SOURCES["tails"][0]
    data = json.loads(path.read_text())
    lead = _record(SOURCES["error_models"][0])["error_model_table"]["lead"]
    for row in data["report"]["error_model_table"]["rows"]:
        if row["error_model"] == lead:
            row["log_evidence"] += 4.0
    path.write_text(json.dumps(data))
    differences = verdict_report(load_sources(folder))["differences"]
    assert any(f"the lead error model {lead}'s evidence differs between" in d for d in differences)


def test_a_missing_or_broken_source_is_refused_by_name(folder: Path) -> None:
    (folder / SOURCES["clusters"][0]).unlink()
    with pytest.raises(VerdictError, match="clusters-lcdm.json: missing.*record.py results clusters-lcdm"):
        load_sources(folder)
    (folder / SOURCES["clusters"][0]).write_text("{not json")
    with pytest.raises(VerdictError, match="clusters-lcdm.json: not a readable JSON report"):
        load_sources(folder)
    (folder / SOURCES["clusters"][0]).write_text(json.dumps({"verdicts": []}))
    with pytest.raises(VerdictError, match="clusters-lcdm.json: no 'sensitivity'"):
        verdict_report(load_sources(folder))


def test_the_command_prints_the_table_and_its_json(folder: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(app, ["report", "verdict", "--from", str(folder), "--json"])
    assert out.exit_code == 0, out.output
    assert len(json.loads(out.stdout)["rows"]) == 8
    text = runner.invoke(app, ["report", "verdict", "--from", str(folder)])
    assert text.exit_code == 0 and "not answered here" in text.stdout
    (folder / SOURCES["regression"][0]).unlink()
    bad = runner.invoke(app, ["report", "verdict", "--from", str(folder)])
    assert bad.exit_code != 0 and "regression.json: missing" in bad.output


def test_bare_reports_serve_as_well_as_records(folder: Path, report: dict) -> None:
    """A user's saved `sigcube report … --json` output (the report alone, no record around it) gives the same
    verdict; its sources then have no commit to name."""
    for name, _ in SOURCES.values():
        path = folder / name
        path.write_text(json.dumps(json.loads(path.read_text())["report"]))
    bare = verdict_report(load_sources(folder))
    assert bare["rows"] == report["rows"] and bare["differences"] == report["differences"]
    assert all(s["commit"] is None and s["commands"] == [] for s in bare["sources"].values())


def test_a_damaged_row_inside_a_source_is_refused_by_name(folder: Path) -> None:
    path = folder / SOURCES["regression"][0]
    data = json.loads(path.read_text())
    next(r for r in data["report"] if r["name"].startswith("Milky Way: Eilers"))["values"] = {}
    path.write_text(json.dumps(data))
    with pytest.raises(VerdictError, match="regression.json: not the report the verdict reads"):
        verdict_report(load_sources(folder))
