"""Real SPARC files through `sigcube ingest table`: a folder of three real ``<Galaxy>_rotmod.dat`` files (copied
from the mirror at test time) with SPARC's Table 1 — whole, or cut to those three galaxies — gives the SPARC cube's
rows of those galaxies, and a nuisance sweep over it gives the SPARC cube's per-galaxy likelihoods under the same
priors; all 175 files with Table 1 give the whole SPARC cube. Fifteen of them with Table 1 and SPARC's Bulges.dat,
in one command and no flag, give the SPARC cube's rows, L_bul included, and `report compare` with ΛCDM halos runs on
a few of them as on the SPARC cube. A spec whose public dataset cube is missing ingests it (a view's cube
included)."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from sigcube.cli import app
from sigcube.conventions import SampleCuts
from sigcube.engines.sweep import open_result, parse_spec, run_sweep
from sigcube.io.cubes import open_cube, write_cube
from sigcube.io.rotation_curves import pack_sparc
from sigcube.stats.nuisance import Catalogue, describe_priors, sparc_priors

runner = CliRunner()
GALAXIES = ["DDO154", "NGC3198", "NGC7814"]  # sorted; NGC7814 has a bulge (Υ_bul's prior), DDO154 quality 2
FIFTEEN = sorted(["IC2574", "NGC0024", "NGC2403", "NGC3198", "DDO154", "F568-3", "UGC00128", "NGC0055", "DDO064",
                  "UGC05750", "NGC2841", "NGC4138", "NGC7814", "UGC02953", "UGC06786"])  # the last five have bulges
COMPARED = ["DDO154", "NGC7814"]
"""The galaxies `report compare` runs on in the default tier (one with a bulge)."""
SPEC = """
name = "own-galaxies"
dataset = "{kind}"
kernel = "sigma"
preset = "paper"
[grid.A0]
values = [0.9, 1.5]
[grid.k]
values = [0.1, 0.2]
[sample]
quality = [1, 2]
[nuisance]
mode = "marginalise"
nodes = 3
"""


def _copied_curves(shared_data: Path, folder: Path, galaxies: list[str]) -> Path:
    """``folder``/curves holding the mirror's rotmod files of ``galaxies``, as a user who picked them has them."""
    (folder / "curves").mkdir()
    for name in galaxies:
        shutil.copy(shared_data / "sparc" / "Rotmod_LTG" / f"{name}_rotmod.dat", folder / "curves")
    return folder / "curves"


@pytest.fixture(scope="module")
def files(shared_data: Path, tmp_path_factory) -> dict[str, Path]:
    """The three rotmod files in a folder; Table 1 whole, and cut to their rows (its header kept)."""
    folder = tmp_path_factory.mktemp("own")
    curves = _copied_curves(shared_data, folder, GALAXIES)
    whole = shared_data / "sparc" / "SPARC_Lelli2016c.mrt"
    lines = whole.read_text().split("\n")
    header_end = max(i for i, line in enumerate(lines) if line.startswith("-----")) + 1  # the rule above the rows
    rows = [line for line in lines[header_end:] if line.split()[:1] and line.split()[0] in GALAXIES]
    assert len(rows) == 3
    cut = folder / "table1_three.mrt"
    cut.write_text("\n".join(lines[:header_end] + rows) + "\n")
    return {"curves": curves, "table1": whole, "table1_three": cut}


@pytest.fixture(scope="module")
def stores(files, sparc_cube, tmp_path_factory) -> dict[str, Path]:
    """The user's cube (from the cut Table 1) and the SPARC cube's rows of the three galaxies, written."""
    folder = tmp_path_factory.mktemp("stores")
    result = runner.invoke(app, ["ingest", "table", str(files["curves"]), "--galaxies", str(files["table1_three"]),
                                 "--out", str(folder / "mine.zarr")])
    assert result.exit_code == 0, result.output
    write_cube(sparc_cube.sel(galaxy=GALAXIES), folder / "sparc.zarr")
    return {"mine": folder / "mine.zarr", "sparc": folder / "sparc.zarr"}


def assert_sparc_rows(mine, sparc_cube, galaxies: list[str], bulges: bool) -> None:
    """``mine`` holds the SPARC cube's rows of ``galaxies`` in every variable the two share, labels included; without
    SPARC's ``bulges`` file, L_bul is 0 where the galaxy has no bulge (as SPARC's) and NaN where it has one."""
    theirs = sparc_cube.sel(galaxy=galaxies)
    assert mine.attrs["sigcube_kind"] == "rotation_curves" and list(mine["galaxy"].values) == galaxies
    assert {"quality", "L36", "L_bul", "e_distance", "e_inclination", "sb_disk", "sb_bul"} <= set(mine.data_vars)
    width = mine.sizes["radius"]
    np.testing.assert_array_equal(mine["radius"].values, theirs["radius"].values[:width])
    for name in mine.data_vars:
        values = theirs[name].values
        values = values[:, :width] if values.ndim == 2 else values
        if name == "L_bul" and not bulges:
            values = np.where(values > 0, np.nan, values)
        np.testing.assert_array_equal(mine[name].values, values, err_msg=name)
        assert mine[name].attrs == theirs[name].attrs, name


def test_the_cube_holds_the_sparc_rows_of_those_galaxies(stores, sparc_cube):
    assert_sparc_rows(open_cube(stores["mine"]).load(), sparc_cube, GALAXIES, bulges=False)


def test_the_whole_table1_gives_the_same_cube_and_a_note(files, stores, tmp_path):
    """The documented command, as a user who picked three of SPARC's galaxies gives it: no flag."""
    result = runner.invoke(app, ["ingest", "table", str(files["curves"]), "--galaxies", str(files["table1"]),
                                 "--out", str(tmp_path / "whole.zarr")])
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert lines[0] == (f"note: {files['table1']}: skipped 172 of its 175 galaxies, which have no curve: CamB, D512-2, "
                        "D564-8, D631-7, DDO064 and 167 more")
    assert lines[1].startswith("warning: 1 galaxy with a bulge (V_bul ≠ 0) has no bulge luminosity L_bul: NGC7814 — ")
    whole, cut = open_cube(tmp_path / "whole.zarr").load(), open_cube(stores["mine"]).load()
    for name in cut.variables:
        np.testing.assert_array_equal(whole[name].values, cut[name].values, err_msg=name)


def test_the_whole_mirror_gives_every_row_of_the_sparc_cube(shared_data, sparc_cube, tmp_path):
    """All 175 rotmod files with Table 1, as a user holding SPARC's files would give them."""
    sparc = shared_data / "sparc"
    result = runner.invoke(app, ["ingest", "table", str(sparc / "Rotmod_LTG"), "--galaxies",
                                 str(sparc / "SPARC_Lelli2016c.mrt"), "--out", str(tmp_path / "all.zarr")])
    assert result.exit_code == 0, result.output
    mine = open_cube(tmp_path / "all.zarr").load()
    assert mine.sizes == sparc_cube.sizes
    assert_sparc_rows(mine, sparc_cube, list(map(str, sparc_cube["galaxy"].values)), bulges=False)


def test_the_nuisance_sweep_matches_the_sparc_cube(stores, tmp_path):
    results = {}
    for kind in ("rotation_curves", "sparc"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            run_sweep(parse_spec(SPEC.format(kind="rotation_curves" if kind == "rotation_curves" else "sparc")),
                      tmp_path / f"{kind}.zarr", cube=stores["mine" if kind == "rotation_curves" else "sparc"],
                      synchronous=True)
        results[kind] = open_result(tmp_path / f"{kind}.zarr").load()
    mine, theirs = results["rotation_curves"], results["sparc"]
    assert list(mine["galaxy"].values) == GALAXIES and mine["loglike"].shape == (2, 2, 3)
    assert np.isfinite(mine["loglike"].values).all()
    # the same inputs; the adaptive quadrature's summation order may differ at the last bits between runs
    np.testing.assert_allclose(mine["loglike"].values, theirs["loglike"].values, rtol=1e-12, atol=0)
    assert mine["loglike"].attrs["nuisance"] == theirs["loglike"].attrs["nuisance"]
    np.testing.assert_allclose(mine["posterior"].values, theirs["posterior"].values, rtol=1e-12, atol=0)


def test_the_catalogue_and_priors_are_the_sparc_cubes(stores):
    mine, theirs = open_cube(stores["mine"]).load(), open_cube(stores["sparc"]).load()
    cuts = SampleCuts(quality=(1,))
    points = {"mine": pack_sparc(mine, cuts), "theirs": pack_sparc(theirs, cuts)}
    assert list(points["mine"].galaxy) == ["NGC3198", "NGC7814"]  # DDO154 is quality 2
    assert points["mine"].excluded == points["theirs"].excluded == {"DDO154": "quality flag 2 not in [1]"}
    catalogues = {k: Catalogue.from_cube(cube, points[k]) for k, cube in (("mine", mine), ("theirs", theirs))}
    assert catalogues["mine"].columns.keys() == catalogues["theirs"].columns.keys() >= {"L36", "e_distance"}
    for name, values in catalogues["theirs"].columns.items():
        if name == "L_bul":  # not in Table 1: NGC7814's bulge has none here (see above)
            values = np.where(values > 0, np.nan, values)
        np.testing.assert_array_equal(catalogues["mine"].columns[name], values, err_msg=name)
    assert describe_priors(sparc_priors(catalogues["mine"])) == describe_priors(sparc_priors(catalogues["theirs"]))


@pytest.fixture(scope="module")
def fifteen(shared_data: Path, tmp_path_factory) -> dict[str, object]:
    """Fifteen rotmod files, five with a bulge, ingested with Table 1 and Bulges.dat in one command, no flag."""
    folder = tmp_path_factory.mktemp("fifteen")
    curves = _copied_curves(shared_data, folder, FIFTEEN)
    sparc = shared_data / "sparc"
    result = runner.invoke(app, ["ingest", "table", str(curves), "--galaxies",
                                 str(sparc / "SPARC_Lelli2016c.mrt"), "--bulges", str(sparc / "Bulges.dat"),
                                 "--out", str(folder / "mine.zarr")])
    assert result.exit_code == 0, result.output
    return {"store": folder / "mine.zarr", "stderr": result.stderr, "sparc": sparc}


def test_table1_and_bulges_in_one_command_give_the_sparc_rows(fifteen, sparc_cube):
    mine = open_cube(fifteen["store"]).load()
    assert_sparc_rows(mine, sparc_cube, FIFTEEN, bulges=True)
    assert (mine["L_bul"].values > 0).sum() == 5 and (mine["L_bul"].values[:10] >= 0).all()
    sparc = fifteen["sparc"]
    assert fifteen["stderr"].splitlines()[:2] == [
        f"note: {sparc / name}: skipped 160 of its 175 galaxies, which have no curve: CamB, D512-2, D564-8, D631-7, "
        "DDO161 and 155 more" for name in ("SPARC_Lelli2016c.mrt", "Bulges.dat")]
    assert "warning" not in fifteen["stderr"]
    assert json.loads(mine.attrs["source_files"]).keys() >= {"Bulges.dat", "SPARC_Lelli2016c.mrt", "NGC7814_rotmod.dat"}


def _compare(cube, tmp_path: Path) -> dict:
    """`report compare mond nfw-lcdm --sigma-int 5 --synchronous` on ``cube`` (written to a store of its own)."""
    write_cube(cube, tmp_path / "cube.zarr")
    result = runner.invoke(app, ["report", "compare", "mond", "nfw-lcdm", "--sigma-int", "5", "--synchronous",
                                 "--cube", str(tmp_path / "cube.zarr"), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _evidences(report: dict) -> dict:
    return {(run, model): row["log_evidence"] for run, rows in report["runs"].items() for model, row in rows.items()}


@pytest.mark.parametrize("galaxies", [pytest.param(COMPARED, id="two"),
                                      pytest.param(FIFTEEN, id="fifteen", marks=pytest.mark.slow)])
def test_report_compare_runs_on_it_as_on_the_sparc_cube(galaxies, fifteen, sparc_cube, tmp_path, monkeypatch):
    """ΛCDM halos read M★, so the bulge's L_bul: the comparison runs on the cube's bulge galaxies and gives the SPARC
    cube's numbers (the same inputs; the adaptive quadrature's sums may differ in the last bits between runs)."""
    monkeypatch.setenv("SIGCUBE_CUBE_DIR", str(tmp_path))
    mine = _compare(open_cube(fifteen["store"]).load().sel(galaxy=galaxies), tmp_path / "mine")
    theirs = _compare(sparc_cube.sel(galaxy=galaxies), tmp_path / "sparc")
    assert mine["n_galaxies"] == len(galaxies) and set(mine["runs"]) == {"catalogue", "nuisance"}
    ours, sparc = _evidences(mine), _evidences(theirs)
    assert ours.keys() == sparc.keys() and len(ours) == 4
    for key, value in ours.items():
        assert np.isfinite(value), key
        np.testing.assert_allclose(value, sparc[key], rtol=1e-9, atol=0, err_msg=str(key))


def test_a_missing_view_cube_is_ingested_as_its_kind(shared_data, tmp_path, monkeypatch):
    """The joint specs' CLASH probe reads the view ``clusters:lensing``: a missing cubes/clusters.zarr is ingested
    (by `sigcube ingest clusters`), where the message once said to make it with `ingest table`."""
    from sigcube.cli.common import dataset_cube

    monkeypatch.setenv("SIGCUBE_CUBE_DIR", str(tmp_path))
    path = dataset_cube("clusters:lensing", None)
    assert path == tmp_path / "clusters.zarr"
    assert open_cube(path).attrs["sigcube_kind"] == "clusters"
