"""`sigcube ingest table … --bulges FILE`: the bulges' L_bul joined to the corpus's three made-up galaxies (SYN-C has
a bulge, SYN-A and SYN-B none) from SPARC's bulge layout or any table with an L_bul column; a galaxy without a bulge
needs no row (L_bul = 0), a galaxy with a bulge and no L_bul is named with the kernels that cannot run on it, and a
row without a curve is skipped with a note."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from sigcube.cli import app
from sigcube.io.cubes import open_cube
from sigcube.io.ingest.table_files import IngestNote, IngestWarning
from sigcube.io.ingest.user_table import build_table_cube

runner = CliRunner()
CORPUS = Path(__file__).parent / "corpus"
GALAXY_UNITS = "distance=Mpc,e_distance=Mpc,inclination=deg,e_inclination=deg,L36=1e9solLum,R_disk=kpc,M_HI=1e9solMass"
SPARC_LAYOUT = "# CAUTION: made-up bulges.\n#\n# Galaxy \tLbul (10^9 Lsun)\nSYN-A\t\t0.0\nSYN-C\t\t31.4\nSYN-Z\t\t2.5\n"
"""SPARC's Bulges.dat layout: SYN-B (no bulge) has no row, SYN-Z no curve."""


def _ingest(tmp_path: Path, *args: str) -> tuple[object, str]:
    out = tmp_path / "mine.zarr"
    result = runner.invoke(app, ["ingest", "table", str(CORPUS / "rotmod"), "--galaxies", str(CORPUS / "galaxies.csv"),
                                 "--galaxy-units", GALAXY_UNITS, *args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return open_cube(out).load(), result.stderr


@pytest.mark.parametrize("name, text, options, shape", [
    ("Bulges.dat", SPARC_LAYOUT, [], "SPARC bulge luminosities (Galaxy Lbul)"),
    ("bulges.csv", "galaxy,L_bul [1e9 solLum]\nSYN-A,0\nSYN-C,31.4\nSYN-Z,2.5\n", [], "comma-separated text"),
    ("bulges.txt", "Name Lb colour\nSYN-C 3.14e10 red\nSYN-A 0 blue\nSYN-Z 2.5e9 green\n",
     ["--bulge-columns", "galaxy=Name,L_bul=Lb", "--bulge-units", "Lb=solLum"], "whitespace-separated text"),
])
def test_a_bulge_table_gives_l_bul_and_a_bulgeless_galaxy_needs_no_row(name, text, options, shape, tmp_path):
    bulges = tmp_path / name
    bulges.write_text(text)
    cube, stderr = _ingest(tmp_path, "--bulges", str(bulges), *options)
    np.testing.assert_allclose(cube["L_bul"].values, [0.0, 0.0, 31.4], rtol=1e-12, atol=0)
    assert cube["L_bul"].attrs["units"] == "1e9 solLum"
    assert stderr.splitlines() == [f"note: {bulges}: skipped 1 of its 3 galaxies, which have no curve: SYN-Z",
                                   f"wrote {tmp_path / 'mine.zarr'}  (3 galaxy × 6 radius)"]
    assert cube.attrs["bulges_shape"].startswith(shape)
    assert name in cube.attrs["title"] and name in cube.attrs["source_files"]


def test_the_sparc_layout_is_found_from_the_file_and_serves_as_a_galaxies_table(tmp_path):
    """Named ``b`` (no extension), it is found from its lines; SYN-B, bulgeless, lacks nothing without its row."""
    bulges = tmp_path / "b"
    bulges.write_text(SPARC_LAYOUT)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cube = build_table_cube(CORPUS / "rotmod", galaxies=bulges, allow_missing=True)
    assert cube.attrs["galaxies_shape"] == "SPARC bulge luminosities (Galaxy Lbul)"
    np.testing.assert_array_equal(cube["L_bul"].values, [0.0, 0.0, 31.4])
    assert [str(w.message) for w in caught] == [
        f"{bulges}: skipped 1 of its 3 galaxies, which have no curve: SYN-Z",
        f"{bulges}: 1 galaxy of the curves has no row in it, kept with nothing from it: SYN-B"]


def test_without_a_bulge_table_bulgeless_galaxies_have_l_bul_0_and_a_bulge_is_named(tmp_path):
    cube, stderr = _ingest(tmp_path)
    np.testing.assert_array_equal(cube["L_bul"].values, [0.0, 0.0, np.nan])
    (warning,) = [line for line in stderr.splitlines() if line.startswith("warning:")]
    assert warning.startswith("warning: 1 galaxy with a bulge (V_bul ≠ 0) has no bulge luminosity L_bul: SYN-C — the "
                              "stellar mass M★ cannot be formed without it, so the kernels that read M★ cannot run on "
                              "it (")
    assert {"nfw_lcdm", "einasto_lcdm", "dc14_lcdm", "corenfw_lcdm"} <= set(warning.split("(")[2].split(":")[0]
                                                                            .split(", "))
    assert warning.endswith("give L_bul with --bulges (SPARC's Bulges.dat, or a table with an L_bul column)")


def test_a_bulge_missing_from_the_bulge_table_is_named(tmp_path):
    bulges = tmp_path / "Bulges.dat"
    bulges.write_text(SPARC_LAYOUT.replace("SYN-C\t\t31.4\n", ""))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cube = build_table_cube(CORPUS / "rotmod", galaxies=CORPUS / "galaxies.csv", bulges=bulges,
                                galaxy_units=dict(pair.split("=") for pair in GALAXY_UNITS.split(",")))
    np.testing.assert_array_equal(cube["L_bul"].values, [0.0, 0.0, np.nan])
    (note,) = [w for w in caught if w.category is IngestNote]
    (warning,) = [w for w in caught if w.category is IngestWarning]
    assert "SYN-Z" in str(note.message) and "L_bul: SYN-C —" in str(warning.message)


def test_no_warning_without_l36(tmp_path):
    """Without L36 there is no M★ whatever L_bul is: no galaxy is named for its bulge."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cube = build_table_cube(CORPUS / "rotmod")
    assert not [w for w in caught if issubclass(w.category, IngestWarning)]
    np.testing.assert_array_equal(cube["L_bul"].values, [0.0, 0.0, np.nan])
