"""The regression report on the real cubes: labelled results, independent re-computations, and the CLI."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

from sigcube.cli import app
from sigcube.constants import G_DAGGER, G_SI, KM_S, KPC_M, M_SUN_KG
from sigcube.reports import regression as rg

pytest_plugins = ("_fixtures_regression",)  # the shared session cubes

runner = CliRunner()
A0 = float(np.exp(1 / (2 * np.pi)))


def h(g):
    return np.sqrt(G_DAGGER / g) * G_DAGGER / (G_DAGGER + g)


@pytest.fixture(scope="module")
def report(cube_stores) -> dict:
    start = time.perf_counter()
    rows = rg.regression_report(cube_stores)
    return {"rows": {row["name"]: row for row in rows}, "order": [r["name"] for r in rows],
            "seconds": time.perf_counter() - start}


def _row(report, prefix: str) -> dict:
    return next(row for name, row in report["rows"].items() if name.startswith(prefix))


def test_every_row_is_labelled(report) -> None:
    rows = report["rows"].values()
    assert len(report["order"]) == len(report["rows"]) == 17 and report["seconds"] < 60
    for row in rows:
        assert row["status"] in rg.STATUSES and row["headline"] and row["conventions"]["summary"]
        assert set(row) == {"name", "status", "headline", "values", "published", "conventions", "note", "n",
                            "reproduced"}
        if row["status"] == "prediction-only":
            assert rg.PREDICTION in row["headline"] and rg.PREDICTION in row["note"]
    json.dumps(list(rows), allow_nan=False)  # strict JSON: NaN became null
    statuses = [r["status"] for r in rows]
    assert statuses.count("data unavailable") == 2 and statuses.count("prediction-only") == 4


def test_nothing_is_compared_across_different_data(report) -> None:
    for prefix in ("Milky Way", "Clusters: CLASH", "Dwarf", "Baryonic", "Clusters: sweep"):
        for name, row in report["rows"].items():
            if name.startswith(prefix):
                assert row["reproduced"] == {} and row["published"] is not None
    fox = _row(report, "Clusters: Fox")
    assert fox["status"] == "data unavailable" and fox["values"] == {}
    assert fox["published"]["median_ratio_sigma"] == "0.987"
    assert "Fox+2022" in _row(report, "Clusters: CLASH RAR")["note"]


def test_sparc_row_reproduces_the_paper_preset(report) -> None:
    row = _row(report, "SPARC")
    assert row["n"] == 171 and all(row["reproduced"].values()) and len(row["reproduced"]) == 7


def test_milky_way_rms_recomputed_by_hand(report, milkyway_cube) -> None:
    r, v_obs, v_bar = (milkyway_cube[k].values for k in ("eilers_r", "eilers_v_c", "eilers_v_bar"))
    xi = 2.6 / (2 * np.pi)
    for scale, key in ((1.0, "sigma"), (1.16, "sigma_x1.16")):
        vb = scale * v_bar
        g_n = (vb * KM_S) ** 2 / (r * KPC_M)
        v = vb * np.sqrt(1 + A0 * r / (xi + r) * h(g_n))
        row = _row(report, "Milky Way: Eilers")
        assert row["values"][key]["rms"] == pytest.approx(np.sqrt(np.mean((v - v_obs) ** 2)), rel=1e-10)
    assert "not applied" in row["conventions"]["asymmetric_drift"] and row["n"] == 38
    assert _row(report, "Milky Way: Mróz")["n"] == 773


def test_cluster_rar_ratio_recomputed_by_hand(report, clusters_cube) -> None:
    r = clusters_cube["rar_r"].values
    ok = np.isfinite(r)
    g_bar, g_tot = (10 ** clusters_cube[k].values[ok] for k in ("rar_log_g_bar", "rar_log_g_tot"))
    sigma = 1 + A0 * (600 / 0.4) ** 0.27 * r[ok] / (r[ok] + 0.01) * h(g_bar)
    ratio = sigma * g_bar / g_tot
    values = _row(report, "Clusters: CLASH RAR")["values"]
    assert values["sigma"]["median_ratio"] == pytest.approx(10 ** np.median(np.log10(ratio)), rel=1e-10)
    assert values["sigma"]["scatter_dex"] == pytest.approx(np.std(np.log10(ratio)), rel=1e-10)
    assert len(values["sigma"]["per_cluster_median_ratio"]) == 20


def test_cluster_lensing_uses_only_radii_inside_tian_range(report, clusters_cube) -> None:
    row = _row(report, "Clusters: CLASH weak-lensing")
    per_cluster = row["values"]["sigma"]["per_cluster"]
    assert sum(c["n_radii"] for c in per_cluster.values()) == row["values"]["sigma"]["dof"] > 0
    for name, c in per_cluster.items():
        cl = clusters_cube.sel(cluster=name)
        r_t, r_l = cl["rar_r"].values, cl["lens_r"].values
        assert c["n_radii"] == int(np.sum((r_l >= np.nanmin(r_t)) & (r_l <= np.nanmax(r_t))))
    newton, mond = row["values"]["newtonian"]["median_ratio"], row["values"]["mond"]["median_ratio"]
    assert newton < mond < row["values"]["sigma"]["median_ratio"]
    assert row["values"]["sigma_lensing_slip"]["median_ratio"] < row["values"]["sigma"]["median_ratio"]


def test_cluster_sweep_best_point_and_paper_point(report) -> None:
    row = _row(report, "Clusters: sweep")
    best, paper = row["values"]["best"]["median_chi2_red"], row["values"]["paper_point"]
    assert paper["L"] == 600 and paper["n"] == 0.27 and paper["A"] == pytest.approx(8.446, abs=1e-3)
    assert best["L"] in row["values"]["grid"]["L"] and best["n"] in row["values"]["grid"]["n"]
    assert best["median_chi2_red"] <= paper["median_chi2_red"]
    assert best["A"] == pytest.approx(A0 * (best["L"] / 0.4) ** best["n"])


def test_dwarfs_use_the_wolf_estimator_and_keep_limits_apart(report, dwarfs_cube) -> None:
    row = _row(report, "Dwarf spheroidals: Simon")
    values = row["values"]
    assert values["n_measured"] + values["n_upper_limits"] == row["n"] and values["n_upper_limits"] == 5
    fornax = dwarfs_cube.sel(dwarf="Fornax")
    m_half = 0.5 * 2.0 * 10 ** (-0.4 * (float(fornax["M_V"]) - 4.83)) * M_SUN_KG
    r3d = 4 / 3 * float(fornax["r_half"]) * 1e-3 * KPC_M
    sigma_newton = np.sqrt(G_SI * m_half / r3d / 3) / KM_S
    assert values["newtonian"]["per_dwarf"]["Fornax"]["sigma_pred"] == pytest.approx(sigma_newton, rel=1e-10)
    limits = [d for d in values["sigma"]["per_dwarf"].values() if d["upper_limit"]]
    assert len(limits) == 5 and all(d["e_sigma_obs"] is None for d in limits)  # NaN errors → null
    assert _row(report, "Dwarf spheroidals: McConnachie")["values"]["n_upper_limits"] == 0


def test_solar_system_btfr_and_formulas(report) -> None:
    solar = _row(report, "Solar System")["values"]
    assert solar["per_kernel"]["newtonian"] == {"earth": 0.0, "saturn": 0.0, "below_cassini": True}
    g_saturn = G_SI * M_SUN_KG / (9.5 * 1.495978707e11) ** 2
    assert solar["field_estimate_W1"]["saturn"] == pytest.approx(A0 * h(g_saturn), rel=1e-6)
    assert all(isinstance(v, (dict, str)) for v in solar["per_kernel"].values())
    btfr = _row(report, "Baryonic Tully-Fisher")
    assert btfr["n"] == 135 and 2.5 < btfr["values"]["observed_table1_V_flat"]["slope"] < 4.5
    assert set(btfr["values"]["kernels"]) >= {"sigma", "mond", "newtonian"}
    assert _row(report, "Redshift")["reproduced"] == {"z=1": False, "z=2": True}
    assert all(_row(report, "Lensing/dynamics slip")["reproduced"].values())


def test_predictions_without_data(report) -> None:
    counter = _row(report, "Counter-rotation: Σ")["values"]
    assert counter["mond"] == pytest.approx(2.56, rel=1e-9)  # the reference point is fixed by the paper's MOND column
    assert counter["sigma"]["f=0"] == pytest.approx(counter["sigma"]["f=1"], rel=1e-9)
    assert counter["sigma"]["f=0.5"] < counter["sigma"]["f=0"]
    binaries = _row(report, "Wide binaries")["values"]
    assert binaries["W1_efe"]["10000 AU"] < binaries["W1_no_efe"]["10000 AU"]
    fdm = _row(report, "Counter-rotation f_DM")
    assert fdm["status"] == "data unavailable" and fdm["n"] == 1 and fdm["values"]["p_value"] is None
    assert list(fdm["values"]["cases"]) == ["8332-3704"]


def test_render_prints_one_row_per_test(report) -> None:
    console = Console(record=True, width=220)
    rg.render([report["rows"][name] for name in report["order"]], console)
    text = console.export_text()
    assert all(name[:20] in text for name in report["order"])
    assert "data unavailable" in text and "prediction-only" in text and "hard-coded pass" in text


# ------------------------------------------------------------------------------------------------ CLI


def _app() -> typer.Typer:
    """The real `sigcube` app: `ingest <kind>` lives in sigcube.cli, `report regression` is registered there."""
    return app


def test_report_regression_ingests_missing_cubes_then_prints_json(cube_stores, tmp_path: Path, monkeypatch) -> None:
    cubes = tmp_path / "cubes"
    cubes.mkdir()
    for kind in ("sparc", "milkyway"):
        (cubes / f"{kind}.zarr").symlink_to(cube_stores[kind])
    monkeypatch.setenv("SIGCUBE_CUBE_DIR", str(cubes))
    start = time.perf_counter()
    result = runner.invoke(_app(), ["report", "regression", "--json"])
    assert result.exit_code == 0, result.output
    assert time.perf_counter() - start < 120
    assert "ingesting clusters first" in result.stderr and "ingesting sparc" not in result.stderr
    rows = json.loads(result.stdout)
    assert len(rows) == 17 and {r["status"] for r in rows} == set(rg.STATUSES)
    table = runner.invoke(_app(), ["report", "regression"], terminal_width=200)
    assert table.exit_code == 0 and "Fox+2022" in table.stdout


def test_ingest_commands_write_refuse_and_replace(tmp_path: Path) -> None:
    out = tmp_path / "manga.zarr"
    first = runner.invoke(_app(), ["ingest", "manga", "--out", str(out)])
    assert first.exit_code == 0 and "wrote" in first.stderr and "534 galaxy × 310 match" in first.stderr
    assert "up to date" in runner.invoke(_app(), ["ingest", "manga", "--out", str(out)]).stderr
    other = runner.invoke(_app(), ["ingest", "dwarfs", "--out", str(out)])
    assert other.exit_code == 2 and "--force" in other.stderr and "Traceback" not in other.output
    forced = runner.invoke(_app(), ["ingest", "dwarfs", "--out", str(out), "--force"])
    assert forced.exit_code == 0 and "replaced" in forced.stderr


def test_ingest_errors_are_one_line(shared_data: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SIGCUBE_DATA_DIR", str(tmp_path))
    missing = runner.invoke(_app(), ["ingest", "clusters", "--out", str(tmp_path / "c.zarr")])
    assert missing.exit_code == 2 and "missing" in missing.stderr and "fig2.dat" in missing.stderr
    (tmp_path / "dwarfs").mkdir()
    for name in ("simon2019_dwarf_tab_ascii_14sep2018.dat", "mcconnachie2012_NearbyGalaxies.dat"):
        (tmp_path / "dwarfs" / name).write_bytes((shared_data / "dwarfs" / name).read_bytes()[:-10])
    changed = runner.invoke(_app(), ["ingest", "dwarfs", "--out", str(tmp_path / "d.zarr")])
    assert changed.exit_code == 2 and "sha256 mismatch" in changed.stderr and "Traceback" not in changed.output
    assert not (tmp_path / "d.zarr").exists()
