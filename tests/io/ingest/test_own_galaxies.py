"""Real SPARC files through `sigcube ingest table`: a folder of three real ``<Galaxy>_rotmod.dat`` files (copied
from the mirror at test time) with SPARC's Table 1 — whole, or cut to those three galaxies — gives the SPARC cube's
rows of those galaxies, and a nuisance sweep over it gives the SPARC cube's per-galaxy likelihoods under the same
priors; all 175 files with Table 1 give the whole SPARC cube. A spec whose public dataset cube is missing ingests it
(a view's cube included)."""

from __future__ import annotations

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


@pytest.fixture(scope="module")
def files(shared_data: Path, tmp_path_factory) -> dict[str, Path]:
    """The three rotmod files in a folder; Table 1 whole, and cut to their rows (its header kept)."""
    folder = tmp_path_factory.mktemp("own")
    (folder / "curves").mkdir()
    for name in GALAXIES:
        shutil.copy(shared_data / "sparc" / "Rotmod_LTG" / f"{name}_rotmod.dat", folder / "curves")
    whole = shared_data / "sparc" / "SPARC_Lelli2016c.mrt"
    lines = whole.read_text().split("\n")
    header_end = max(i for i, line in enumerate(lines) if line.startswith("-----")) + 1  # the rule above the rows
    rows = [line for line in lines[header_end:] if line.split()[:1] and line.split()[0] in GALAXIES]
    assert len(rows) == 3
    cut = folder / "table1_three.mrt"
    cut.write_text("\n".join(lines[:header_end] + rows) + "\n")
    return {"curves": folder / "curves", "table1": whole, "table1_three": cut}


@pytest.fixture(scope="module")
def stores(files, sparc_cube, tmp_path_factory) -> dict[str, Path]:
    """The user's cube (from the cut Table 1) and the SPARC cube's rows of the three galaxies, written."""
    folder = tmp_path_factory.mktemp("stores")
    result = runner.invoke(app, ["ingest", "table", str(files["curves"]), "--galaxies", str(files["table1_three"]),
                                 "--out", str(folder / "mine.zarr")])
    assert result.exit_code == 0, result.output
    write_cube(sparc_cube.sel(galaxy=GALAXIES), folder / "sparc.zarr")
    return {"mine": folder / "mine.zarr", "sparc": folder / "sparc.zarr"}


def test_the_cube_holds_the_sparc_rows_of_those_galaxies(stores, sparc_cube):
    mine = open_cube(stores["mine"]).load()
    theirs = sparc_cube.sel(galaxy=GALAXIES)
    assert mine.attrs["sigcube_kind"] == "rotation_curves" and list(mine["galaxy"].values) == GALAXIES
    width = mine.sizes["radius"]
    for name in mine.data_vars:
        if name == "L_bul":  # Table 1 has no bulge luminosity (SPARC's is in its Bulges file): NaN in this cube
            assert np.isnan(mine[name].values).all()
            continue
        values = theirs[name].values
        np.testing.assert_array_equal(mine[name].values, values[:, :width] if values.ndim == 2 else values,
                                      err_msg=name)
        assert mine[name].attrs == theirs[name].attrs, name
    assert {"quality", "L36", "e_distance", "e_inclination", "sb_disk", "sb_bul"} <= set(mine.data_vars)


def test_the_whole_table1_gives_the_same_cube_with_allow_missing(files, stores, tmp_path):
    args = ["ingest", "table", str(files["curves"]), "--galaxies", str(files["table1"]), "--out",
            str(tmp_path / "whole.zarr")]
    refused = runner.invoke(app, args)
    assert refused.exit_code == 2 and "172 of its galaxies have no curve: CamB, D512-2" in refused.stderr
    kept = runner.invoke(app, [*args, "--allow-missing"])
    assert kept.exit_code == 0 and "warning:" in kept.stderr and "(skipped)" in kept.stderr
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
    assert mine.sizes == sparc_cube.sizes and list(mine["galaxy"].values) == list(sparc_cube["galaxy"].values)
    for name in mine.variables:
        if name == "L_bul":  # Table 1 has no bulge luminosity (SPARC's is in its Bulges file): NaN in this cube
            assert np.isnan(mine[name].values).all()
            continue
        np.testing.assert_array_equal(mine[name].values, sparc_cube[name].values, err_msg=name)


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
        if name == "L_bul":  # not in Table 1 (see above)
            continue
        np.testing.assert_array_equal(catalogues["mine"].columns[name], values, err_msg=name)
    assert describe_priors(sparc_priors(catalogues["mine"])) == describe_priors(sparc_priors(catalogues["theirs"]))


def test_a_missing_view_cube_is_ingested_as_its_kind(shared_data, tmp_path, monkeypatch):
    """The joint specs' CLASH probe reads the view ``clusters:lensing``: a missing cubes/clusters.zarr is ingested
    (by `sigcube ingest clusters`), where the message once said to make it with `ingest table`."""
    from sigcube.cli.common import dataset_cube

    monkeypatch.setenv("SIGCUBE_CUBE_DIR", str(tmp_path))
    path = dataset_cube("clusters:lensing", None)
    assert path == tmp_path / "clusters.zarr"
    assert open_cube(path).attrs["sigcube_kind"] == "clusters"
