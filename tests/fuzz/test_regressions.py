"""Regressions of the hostile-user review (issue 20, third pass): each input that once reached a traceback, a
division by zero or a silent misstep now gives one line naming what is wrong (exit status 2), or works.

Every case runs the command line (``typer.testing.CliRunner`` on ``sigcube.cli.app``) on small inputs built here.
"""

from __future__ import annotations

import json
import shutil

import astropy.units as u
import numpy as np
import pytest
from astropy.table import Table
from typer.testing import CliRunner

from sigcube.cli import app
from sigcube.io.cubes import open_cube

runner = CliRunner()
UNITS = {"r": u.kpc, "v_obs": u.km / u.s, "e_v_obs": u.km / u.s, "v_gas": u.km / u.s, "v_disk": u.km / u.s,
         "v_bul": u.km / u.s, "distance": u.Mpc, "e_distance": u.Mpc, "inclination": u.deg, "e_inclination": u.deg}


def curves(n_galaxies: int = 2, n_points: int = 8) -> Table:
    """A small, well-formed table of rotation curves with units (an exponential disk and gas, no bulge)."""
    rows: dict[str, list] = {name: [] for name in ("galaxy", *UNITS)}
    for g in range(n_galaxies):
        for i in range(n_points):
            r = 0.5 + i
            disk = 100.0 * np.sqrt(r / (r + 2.0))
            rows["galaxy"].append(f"G{g + 1}")
            for name, value in (("r", r), ("v_obs", 1.1 * disk), ("e_v_obs", 5.0), ("v_gas", 20.0),
                                ("v_disk", disk), ("v_bul", 0.0), ("distance", 10.0 + g), ("e_distance", 1.0),
                                ("inclination", 60.0), ("e_inclination", 3.0)):
                rows[name].append(value)
    table = Table(rows)
    for name, unit in UNITS.items():
        table[name].unit = unit
    return table


def ingest(table: Table, tmp_path, *args: str):
    """``sigcube ingest table`` of ``table`` (written as ECSV) into ``tmp_path/c.zarr``."""
    path = tmp_path / "curves.ecsv"
    table.write(path, overwrite=True)
    return runner.invoke(app, ["ingest", "table", str(path), "--out", str(tmp_path / "c.zarr"), *args])


def no_data(tmp_path, monkeypatch) -> None:
    """Default cubes in ``tmp_path/cubes`` and an empty data mirror: a command that went on to ingest a cube would
    fail (never reach the network); a refused spec leaves ``tmp_path/cubes`` absent."""
    monkeypatch.setenv("SIGCUBE_CUBE_DIR", str(tmp_path / "cubes"))
    monkeypatch.setenv("SIGCUBE_DATA_DIR", str(tmp_path / "no-data"))


def one_line_error(result) -> str:
    """The single stderr line of a refused command (exit status 2, no traceback), whitespace collapsed."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "this is a bug" not in result.stderr
    return " ".join(result.stderr.split())


# --- S4, T1, T2, U5: non-physical values are refused at the door ----------------------------------------------


@pytest.mark.parametrize("column, rows, value, says", [
    ("v_obs", [2], 1e308, "1e+308 km/s is outside: allowed |v_obs| ≤ 10000 km/s"),
    ("e_v_obs", [2], 0.0, "0 km/s is outside: allowed 0.001 ≤ e_v_obs ≤ 10000 km/s"),
    ("e_v_obs", [2], 1e-300, "1e-300 km/s is outside: allowed 0.001 ≤ e_v_obs"),
    ("e_v_obs", [2], -1.0, "-1 km/s is negative: allowed 0.001 ≤ e_v_obs"),
    ("r", [2], 0.0, "0 kpc is outside: allowed 0 < r ≤ 10000 kpc"),
    ("v_gas", [2], 1e300, "1e+300 km/s is outside: allowed |v_gas| ≤ 10000 km/s"),
    ("inclination", range(8), 0.0, "0 deg is outside: allowed 0 < inclination ≤ 90 deg"),
    ("inclination", range(8), 120.0, "120 deg is outside: allowed 0 < inclination ≤ 90 deg"),
    ("distance", range(8), np.inf, "inf Mpc is not finite: allowed 0 < distance ≤ 100000 Mpc"),
    ("e_distance", range(8), 0.0, "0 Mpc is outside: allowed 1e-05 ≤ e_distance"),
])
def test_ingest_table_refuses_non_physical_values_naming_row_galaxy_and_column(tmp_path, column, rows, value, says):
    table = curves()
    for row in rows:
        table[column][row] = value
    line = one_line_error(ingest(table, tmp_path))
    assert f"column '{column}', row {rows[0] + 1} (galaxy G1): {says}" in line
    assert not (tmp_path / "c.zarr").exists()


def test_ingest_table_names_the_users_column_and_the_converted_value(tmp_path):
    table = curves()
    table["e_v_obs"] = table["e_v_obs"].to(u.m / u.s)
    table["e_v_obs"][9] = 0.5  # m/s: below the 1 m/s floor
    table.rename_column("e_v_obs", "errV")
    line = one_line_error(ingest(table, tmp_path, "--columns", "e_v_obs=errV"))
    assert "column 'errV' (e_v_obs), row 10 (galaxy G2): 0.0005 km/s is outside: allowed 0.001 ≤ e_v_obs" in line


def test_ingest_table_accepts_signed_velocities_the_sample_drops_later(tmp_path):
    table = curves()
    table["v_obs"][0], table["v_gas"][1] = -3.0, -12.0  # V_obs ≤ 0 is dropped by the sample; V_gas is signed
    result = ingest(table, tmp_path)
    assert result.exit_code == 0, result.output
    report = runner.invoke(app, ["report", "sparc", "--cube", str(tmp_path / "c.zarr"), "--json"])
    assert report.exit_code == 0, report.output
    assert "RuntimeWarning" not in report.stderr and "Warning" not in report.stderr


# --- T3, T4: nuisance parameters only where they exist, and never contradicting the mode ----------------------

SWEEP = 'name = "s"\ndataset = "{dataset}"\nkernel = "sigma"\n[grid.A0]\nvalues = [1.0, 1.2]\n{extra}'
FIT = 'name = "{name}"\ndataset = "{dataset}"\nkernel = "sigma_xi"\n[free.A]\nbounds = [0.1, 5.0]\n{extra}'


@pytest.mark.parametrize("command, text, says", [
    ("sweep", SWEEP.format(dataset="clusters", extra='[nuisance]\nmode = "marginalise"\n'),
     "[nuisance]: nuisance parameters (Υ, D, i) exist only for datasets of rotation curves (sparc, rotation_curves), "
     "not for 'clusters'"),
    ("sweep", SWEEP.format(dataset="milkyway", extra='[nuisance]\nmode = "profile"\n'),
     "[nuisance]: nuisance parameters (Υ, D, i) exist only for datasets of rotation curves"),
    ("fit", FIT.format(name="f", dataset="clusters", extra='[nuisance]\nmode = "profile"\n'),
     "nuisance.mode = 'profile': nuisance parameters (Υ, D, i) exist only for datasets of rotation curves "
     "(sparc, rotation_curves), not for 'clusters'"),
    ("fit", FIT.format(name="f", dataset="sparc", extra='[nuisance]\nmode = "none"\nparameters = ["distance"]\n'),
     "[nuisance]: parameters = ['distance'] with mode = 'none': mode 'none' holds every nuisance parameter "
     "at its catalogue value; set mode = 'profile' to fit them, or remove parameters"),
])
def test_nuisance_tables_that_cannot_run_are_refused_with_the_spec(tmp_path, monkeypatch, command, text, says):
    no_data(tmp_path, monkeypatch)
    spec = tmp_path / "spec.toml"
    spec.write_text(text)
    line = one_line_error(runner.invoke(app, [command, str(spec), "--synchronous"]))
    assert f"{spec}: {says}" in line
    assert not (tmp_path / "cubes").exists()


# --- U3: a fit's name names its default result cube, like a sweep's -------------------------------------------


@pytest.mark.parametrize("name", ["../../etc", "a/b", "", " x", "-x", "x y"])
def test_a_fit_name_that_is_not_a_plain_name_is_refused(tmp_path, monkeypatch, name):
    no_data(tmp_path, monkeypatch)
    spec = tmp_path / "spec.toml"
    spec.write_text(FIT.format(name=name, dataset="sparc", extra=""))
    line = one_line_error(runner.invoke(app, ["fit", str(spec), "--synchronous"]))
    assert f"{spec}: name: must match ^\\w[\\w.+-]*$ (letters, digits, . + - _; it names the default result cube " \
           f"cubes/<name>.zarr); got {name!r}" in line
    assert not (tmp_path / "cubes").exists()


def test_a_fit_named_by_a_file_stem_that_is_not_a_plain_name_is_refused(tmp_path, monkeypatch):
    no_data(tmp_path, monkeypatch)
    spec = tmp_path / "my fit.toml"
    spec.write_text(FIT.format(name="x", dataset="sparc", extra="").replace('name = "x"\n', ""))
    line = one_line_error(runner.invoke(app, ["fit", str(spec), "--synchronous"]))
    assert "name: must match" in line and "got 'my fit' (the file's stem: give name = \"…\")" in line


# --- T7: seeds are non-negative -------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["synth", "1000", "--out", "{tmp}/s.zarr"], ["report", "ablation"]])
def test_a_negative_seed_is_refused_before_any_work(tmp_path, monkeypatch, command):
    no_data(tmp_path, monkeypatch)
    result = runner.invoke(app, [*(a.format(tmp=tmp_path) for a in command), "--seed", "-1"])
    assert result.exit_code == 2 and "Traceback" not in result.output and "this is a bug" not in result.output
    assert "Invalid value for '--seed'" in result.output and "greater than or equal to 0" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("port", ["-5", "0", "70000"])
def test_a_port_outside_1_to_65535_is_refused(tmp_path, port):
    result = runner.invoke(app, ["explore", str(tmp_path / "r.zarr"), "--serve", "--port", port])
    assert result.exit_code == 2 and "this is a bug" not in result.output  # old: socket.gaierror, a bug report
    assert "Invalid value for '--port'" in result.output


# --- U2: report compare reads any cube of rotation curves, as its help says -------------------------------------


@pytest.mark.slow
def test_report_compare_runs_on_a_cube_of_rotation_curves(tmp_path):
    assert ingest(curves(n_galaxies=3), tmp_path).exit_code == 0
    result = runner.invoke(app, ["report", "compare", "mond", "--cube", str(tmp_path / "c.zarr"), "--json",
                                 "--synchronous"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert (out["n_galaxies"], out["n_points"], sorted(out["runs"])) == (3, 24, ["catalogue", "nuisance"])
    rar = out["rar_mond_nuisance"]
    assert rar["full"]["n_galaxies"] == 3 and "quality_subset" not in rar  # it needs SPARC's quality flags
    assert rar["subset_definition"].startswith("none: the McGaugh+2016 quality subset needs SPARC's quality flags")
    table = runner.invoke(app, ["report", "compare", "mond", "--cube", str(tmp_path / "c.zarr"), "--no-nuisance",
                                "--synchronous"], terminal_width=200)
    assert table.exit_code == 0 and "Traceback" not in table.output, table.output  # rendered from the same report


def test_report_compare_without_the_catalogue_the_nuisance_needs_names_it(tmp_path):
    table = curves()
    table.remove_columns(["distance", "e_distance"])
    assert ingest(table, tmp_path).exit_code == 0
    line = one_line_error(runner.invoke(app, ["report", "compare", "mond", "--cube", str(tmp_path / "c.zarr")]))
    assert "distance is missing for G1, G2: nuisance priors centred on the catalogue need it for every galaxy" in line
    assert "--no-nuisance" in line


# --- U5: --force replaces a dataset cube of the same kind only; --replace-kind says another kind may go ---------


def content(path) -> str:
    """The ``content_sha256`` of the dataset cube at ``path``."""
    return open_cube(path).attrs["content_sha256"]


def test_ingest_table_force_does_not_replace_a_cube_of_another_kind(tmp_path):
    target = tmp_path / "c.zarr"
    assert runner.invoke(app, ["synth", "3", "--out", str(target)]).exit_code == 0
    before = content(target)
    line = one_line_error(ingest(curves(), tmp_path, "--force"))
    assert f"{target} holds a 'synthetic sparc' cube (content {before[:12]}…); this is a 'rotation_curves' cube: " \
           "pass --force --replace-kind to replace a cube of another kind" in line
    assert content(target) == before
    result = ingest(curves(), tmp_path, "--force", "--replace-kind")
    assert result.exit_code == 0, result.output
    assert f"replaced {target} (2 galaxy × 8 radius); it held a 'synthetic sparc' cube (content {before[:12]}…)" \
        in " ".join(result.stderr.split())
    assert open_cube(target).attrs["sigcube_kind"] == "rotation_curves"


def test_force_replacing_a_cube_of_the_same_kind_says_what_it_replaced(tmp_path):
    assert ingest(curves(), tmp_path).exit_code == 0
    before = content(tmp_path / "c.zarr")
    result = ingest(curves(n_galaxies=3), tmp_path, "--force")
    assert result.exit_code == 0, result.output
    assert f"it held a 'rotation_curves' cube (content {before[:12]}…)" in " ".join(result.stderr.split())


def test_synth_force_does_not_replace_the_real_sparc_cube(sparc_store, tmp_path):
    target = tmp_path / "sparc.zarr"
    shutil.copytree(sparc_store, target)
    before = content(target)
    line = one_line_error(runner.invoke(app, ["synth", "3", "--out", str(target), "--force"]))
    assert f"{target} holds a 'sparc' cube (content {before[:12]}…); this is a 'synthetic sparc' cube: pass " \
           "--force --replace-kind" in line
    assert content(target) == before
    result = runner.invoke(app, ["synth", "3", "--out", str(target), "--force", "--replace-kind"])
    assert result.exit_code == 0, result.output
    assert f"replaced {target} (3 synthetic galaxies, seed 0, V_obs from sigma); it held a 'sparc' cube " \
           f"(content {before[:12]}…)" in " ".join(result.stderr.split())
