"""`sigcube report kernels` and `sigcube kernels` on the real SPARC data."""

from __future__ import annotations

import json

import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

from sigcube.model import metrics
from sigcube.model.kernels import get_kernel, kernel_names
from sigcube.model.kernels.presets import get_preset
from sigcube.study.published import figure
from sigcube.study.reports.kernels import kernel_report, render
from sigcube.study.reports.sparc import sparc_report

runner = CliRunner()
ROW_KEYS = {"kernel", "source", "n_params", "mean_rms", "median_chi2_red", "rar_rms_accel", "rar_scatter_velocity",
            "rar_scatter_accel", "win_rate", "n_galaxies", "n_points", "cuts", "mass_to_light"}


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    from sigcube.cli import app

    return app


@pytest.fixture(scope="module")
def rows(sparc_cube):
    return kernel_report(sparc_cube)  # its time is measured by bench/reports.py


def test_every_kernel_has_a_row_sorted_by_rms(rows):
    assert [r["kernel"] for r in rows if "skipped" in r] == []  # the SPARC cube serves every kernel
    assert {r["kernel"] for r in rows} == set(kernel_names()) and len(rows) >= 21
    assert all(set(r) == ROW_KEYS for r in rows)
    assert all(r["n_galaxies"] == 171 and r["n_points"] == 3373 for r in rows)
    means = [r["mean_rms"] for r in rows]
    assert means == sorted(means)


def test_rows_match_the_sparc_report(rows, sparc_cube, sparc_points):
    by = {r["kernel"]: r for r in rows}
    paper = sparc_report(sparc_cube, get_preset("paper"))
    for key in ("rar_rms_accel", "rar_scatter_velocity", "rar_scatter_accel"):
        assert by["sigma"][key] == pytest.approx(paper["sigma"][key], rel=1e-12)
        assert by["mond"][key] == pytest.approx(paper["mond"][key], rel=1e-12)
    assert by["sigma"]["mean_rms"] == pytest.approx(paper["sigma"]["mean_rms"], rel=1e-12)
    assert by["sigma"]["win_rate"] == pytest.approx(paper["sigma"]["win_rate"], rel=1e-12)
    assert by["mond"]["mean_rms"] == pytest.approx(paper["mond"]["mean_rms"], rel=1e-12)
    assert figure("sparc.canonical.rms_mond").reproduced_by(by["mond"]["mean_rms"])  # 17.15 km/s, paper §4.1
    assert by["mond"]["win_rate"] is None  # the baseline
    assert by["sigma"]["rar_scatter_accel"] == pytest.approx(2 * by["sigma"]["rar_scatter_velocity"], rel=1e-12)
    assert by["newtonian"]["n_params"] == 0 and by["nfw"]["n_params"] == 2
    # paper §2.6: with no counter-rotating share (f = 0) the counter-rotation kernel is C(r) = v²/(v²+σ²)
    # with σ = σ_1 — the canonical kernel's c_local window at the same σ, A0 and g†
    counter = get_kernel("sigma_counter_rotation").resolve()
    c_local = get_kernel("sigma")(sparc_points.inputs, window="c_local", sigma_c=counter["sigma_1"], A0=counter["A0"],
                                  g_dagger=counter["g_dagger"])
    p = sparc_points.inputs
    expected = metrics.object_metrics(c_local, p["v_obs"], p["e_v_obs"], sparc_points.offsets)["rms"].mean()
    assert by["sigma_counter_rotation"]["mean_rms"] == pytest.approx(expected, rel=1e-9)
    # SI §13.3: the dynamical ξ (k = 0.24) has a lower RMS than the canonical one (17.39 < 17.48 km/s)
    assert figure("sparc.si13_3.xi_dyn_k024.rms_sigma").number < figure("sparc.si13_3.rms_sigma").number
    assert by["sigma_dynamical"]["mean_rms"] < by["sigma"]["mean_rms"]


def test_render_states_the_conventions(rows):
    console = Console(record=True, width=200)
    render(rows, console)
    text = console.export_text()
    by = {r["kernel"]: r for r in rows}
    for needle in ("171 galaxies, 3373 points", "registered defaults", "Υ_disk = 0.5", "min_points=5", "baseline",
                   f"{by['sigma']['mean_rms']:.2f}", f"{by['mond']['mean_rms']:.2f}", "RMS [km/s]", "§3.5 rms [dex]",
                   "√mean[log10(g_obs/g_pred)²]"):
        assert needle in text


def test_report_kernels_cli(app, sparc_store):
    result = runner.invoke(app, ["report", "kernels", "--cube", str(sparc_store), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert len(payload) >= 21 and set(payload[0]) == ROW_KEYS
    assert "sigma_dynamical" in {row["kernel"] for row in payload}
    table = runner.invoke(app, ["report", "kernels", "--cube", str(sparc_store)], terminal_width=200)
    assert table.exit_code == 0 and "Traceback" not in table.output, table.output  # the same rows, rendered


def test_kernels_cli_lists_and_describes(app):
    listing = json.loads(runner.invoke(app, ["kernels", "--json"]).stdout)
    assert len(listing) >= 15 and {k["name"] for k in listing} == set(kernel_names())
    for k in listing:
        assert k["summary"] and k["source"]
        for p in k["parameters"]:
            assert {"unit", "default", "bounds"} <= set(p)
    one = json.loads(runner.invoke(app, ["kernels", "cmsi", "--json"]).stdout)
    assert one == get_kernel("cmsi").describe()
    text = runner.invoke(app, ["kernels", "sigma"], terminal_width=200).stdout
    assert "[linear]" in text and "inputs: r, v_bar, g_N\n" in text  # markup-like text printed verbatim
    words = " ".join(text.split())  # the console wraps long lines
    assert "inputs by rd_source: third: R_d_third; table: R_d_table; vdisk_peak: R_d_vdisk_peak" in words
    assert "inputs by amplitude_mode: bulge_fraction: f_bulge" in words
    assert "sigma_redshift" in runner.invoke(app, ["kernels"], terminal_width=200).stdout


def test_cli_errors_are_one_red_line(app, tmp_path):
    result = runner.invoke(app, ["kernels", "nope"])
    assert result.exit_code == 2 and "unknown kernel 'nope'" in result.stderr and "Traceback" not in result.output
    result = runner.invoke(app, ["report", "kernels", "--cube", str(tmp_path / "missing.zarr")])
    assert result.exit_code == 2 and "no such cube" in result.stderr
