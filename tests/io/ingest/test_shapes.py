"""`sigcube ingest table` on the shapes rotation curves come in, with no --format: every file of the corpus
(``tests/io/ingest/corpus``, three made-up galaxies) gives the same cube as its plain-CSV twin; hypothesis writes
random tables in each shape and reads them back; every refusal is one line, exit status 2.

The corpus: ``plain.csv`` (the twin), ``excel_bom_crlf.csv`` (UTF-8 with a byte-order mark, CRLF, quoted names,
rows reordered), ``excel_semicolon.csv`` (semicolons, decimal commas, a trailing separator), ``excel_latin1.csv``
(the same, saved as Latin-1, with a note column in French), ``whitespace.txt`` (a header line, spaces and tabs),
``commented_header.dat`` (the header as the last ``#`` line), ``rotmod/`` (SPARC mass-model files), and the
per-galaxy tables ``galaxies.csv`` (the twin), ``galaxies_semicolon.csv``, ``galaxies.txt`` and
``galaxies_table1.mrt`` (SPARC's Table 1 layout).
"""

from __future__ import annotations

import csv
import json
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sigcube.cli import app
from sigcube.errors import ParseError, SigcubeError
from sigcube.io.cubes import open_cube
from sigcube.io.ingest.cell_numbers import Convention, parse_cells
from sigcube.io.ingest.delimited import read_delimited
from sigcube.io.ingest.table_files import IngestNote, IngestWarning
from sigcube.io.ingest.user_table import build_table_cube

runner = CliRunner()
CORPUS = Path(__file__).parent / "corpus"
UNITS = {"r": "kpc", "v_obs": "km/s", "e_v_obs": "km/s", "v_gas": "km/s", "v_disk": "km/s", "v_bul": "km/s",
         "sb_disk": "solLum/pc2", "sb_bul": "solLum/pc2", "distance": "Mpc"}
GALAXY_UNITS = {"distance": "Mpc", "e_distance": "Mpc", "inclination": "deg", "e_inclination": "deg",
                "L36": "1e9 solLum", "R_disk": "kpc", "M_HI": "1e9 solMass"}
PROVENANCE = ("title", "source_files", "source_shape", "columns", "units_given", "galaxies_shape", "galaxy_columns",
              "galaxy_units_given", "conventions", "content_sha256")
"""Attributes that say where a cube came from, and the stored hash of them all (the rest of a cube must not depend
on the shape it came in)."""


def _pairs(mapping: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in mapping.items())


def assert_same_cube(mine, twin) -> None:
    """Same variables, values, dtypes, labels and coordinates; only the provenance attributes differ."""
    assert set(mine.variables) == set(twin.variables)
    for name in twin.variables:
        assert mine[name].dtype.kind == twin[name].dtype.kind, name
        np.testing.assert_array_equal(mine[name].values, twin[name].values, err_msg=name)
        assert mine[name].attrs == twin[name].attrs, name
    strip = lambda attrs: {k: v for k, v in attrs.items() if k not in PROVENANCE}  # noqa: E731
    assert strip(mine.attrs) == strip(twin.attrs)


@pytest.fixture(scope="module")
def plain():
    return build_table_cube(CORPUS / "plain.csv", units=UNITS)


@pytest.fixture(scope="module")
def plain_joined(plain, tmp_path_factory):
    """The twin of a curves table joined to galaxies.csv: the per-galaxy columns repeated on each row of plain.csv
    (written here with the csv module, a reader independent of sigcube's)."""
    with open(CORPUS / "galaxies.csv", newline="") as handle:
        props = {row["galaxy"]: row for row in csv.DictReader(handle)}
    with open(CORPUS / "plain.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    extra = [c for c in next(iter(props.values())) if c not in ("galaxy", "distance")]
    path = tmp_path_factory.mktemp("joined") / "per_row.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, [*rows[0], *extra])
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, **{c: props[row["galaxy"]][c] for c in extra}})
    with pytest.warns(IngestWarning, match="no bulge luminosity L_bul: SYN-C"):  # its L36 and bulge, without L_bul
        return build_table_cube(path, units={**UNITS, **GALAXY_UNITS})


@pytest.mark.parametrize("name, options", [
    ("excel_bom_crlf.csv", ["--units", _pairs(UNITS)]),
    ("excel_semicolon.csv", ["--units", _pairs(UNITS)]),
    ("excel_latin1.csv", ["--units", _pairs(UNITS), "--encoding", "latin-1"]),
    ("whitespace.txt", ["--units", _pairs(UNITS)]),
    ("commented_header.dat", ["--units", _pairs(UNITS)]),
    ("rotmod", []),
])
def test_each_shape_gives_the_cube_of_its_plain_csv_twin(name, options, plain, tmp_path):
    out = tmp_path / "mine.zarr"
    result = runner.invoke(app, ["ingest", "table", str(CORPUS / name), *options, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert_same_cube(open_cube(out).load(), plain)


def test_a_single_rotmod_file_is_its_galaxy(plain):
    cube = build_table_cube(CORPUS / "rotmod" / "SYN-C_rotmod.dat")
    assert list(cube["galaxy"].values) == ["SYN-C"] and float(cube["distance"][0]) == 41.0
    n = int(cube["n_points"][0])
    for name in ("r", "v_obs", "sb_disk", "sb_bul"):
        np.testing.assert_array_equal(cube[name].values[0], plain[name].sel(galaxy="SYN-C").values[:n])
    assert json.loads(cube.attrs["source_files"]).keys() == {"SYN-C_rotmod.dat"}


@pytest.mark.parametrize("name, options", [
    ("galaxies.csv", ["--galaxy-units", _pairs(GALAXY_UNITS)]),
    ("galaxies_semicolon.csv", ["--galaxy-units", _pairs(GALAXY_UNITS)]),
    ("galaxies.txt", ["--galaxy-units", _pairs(GALAXY_UNITS)]),
    ("galaxies_table1.mrt", []),
])
@pytest.mark.parametrize("curves", ["plain.csv", "rotmod"])
def test_each_galaxies_table_joins_like_the_per_row_twin(name, options, curves, plain_joined, tmp_path):
    out = tmp_path / "mine.zarr"
    units = ["--units", _pairs(UNITS)] if curves == "plain.csv" else []
    result = runner.invoke(app, ["ingest", "table", str(CORPUS / curves), *units, "--galaxies", str(CORPUS / name),
                                 *options, "--out", str(out)])
    assert result.exit_code == 0, result.output
    cube = open_cube(out).load()
    assert_same_cube(cube, plain_joined)
    assert cube["quality"].dtype == np.int64 and list(cube["quality"].values) == [1, 2, 1]
    assert json.loads(cube.attrs["source_files"]).keys() >= {name}


def test_another_cds_table_is_read_by_astropy_with_its_units(tmp_path):
    import astropy.units as u
    from astropy.table import Table

    table = Table({"galaxy": ["SYN-A", "SYN-B", "SYN-C"], "inclination": [1.12, 0.84, 1.34] * u.rad,
                   "e_inclination": [4.0, 6.0, 3.0] * u.deg})
    table.write(tmp_path / "g.mrt", format="ascii.mrt")
    cube = build_table_cube(CORPUS / "rotmod", galaxies=tmp_path / "g.mrt")
    np.testing.assert_allclose(cube["inclination"].values, np.degrees([1.12, 0.84, 1.34]), rtol=1e-12)
    assert list(cube["e_inclination"].values) == [4.0, 6.0, 3.0] and "ascii.cds" in cube.attrs["galaxies_shape"]


def test_curves_without_a_row_are_named_or_with_allow_missing_warned(tmp_path):
    rows = [line for line in (CORPUS / "galaxies.csv").open() if not line.startswith("SYN-B")]
    flagged = _write(tmp_path, "flagged.csv", "".join(rows))
    two = _write(tmp_path, "two.csv", "".join(line.rsplit(",", 1)[0] + "\n" for line in rows))  # no quality
    args = ["ingest", "table", str(CORPUS / "rotmod"), "--galaxy-units", _pairs(GALAXY_UNITS),
            "--out", str(tmp_path / "c.zarr")]
    refused = runner.invoke(app, [*args, "--galaxies", two])
    lost = ("no e_distance, inclination, e_inclination, L36, R_disk and M_HI, so no nuisance marginalisation, M★, "
            "M_b or R_d from the table")  # the rotmod file gives its distance
    assert refused.exit_code == 2 and " ".join(refused.stderr.split()) == (
        f"error: {two}: 1 galaxy of the curves has no row in it: SYN-B — without a row a galaxy has {lost}: a name "
        "spelled differently in the two tables? Add the rows, or leave the curves out; --allow-missing keeps them "
        "without one")
    assert not (tmp_path / "c.zarr").exists()
    kept = runner.invoke(app, [*args, "--galaxies", two, "--allow-missing"])
    assert kept.exit_code == 0, kept.output
    assert f"warning: {two}: 1 galaxy of the curves has no row in it, kept with {lost}: SYN-B" in kept.stderr
    cube = open_cube(tmp_path / "c.zarr").load()
    assert np.isnan(float(cube["inclination"].sel(galaxy="SYN-B")))
    assert float(cube["distance"].sel(galaxy="SYN-B")) == 3.2  # the rotmod header's
    assert "quality" not in cube
    # quality flags for two of three galaxies: a flag has no missing value, so the refusal offers no --allow-missing
    refused = runner.invoke(app, [*args, "--galaxies", flagged, "--force"])
    assert refused.exit_code == 2 and refused.stderr.rstrip().endswith(
        "its quality flags have no missing value, so every curve needs its row")
    flags = runner.invoke(app, [*args, "--galaxies", flagged, "--allow-missing", "--force"])
    assert flags.exit_code == 2 and f"galaxy SYN-B has no quality flag (no row in {flagged}) and 2 others have " \
                                    "one: give every galaxy its flag, or none" in " ".join(flags.stderr.split())


def _one_line_refusal(args: list[str], message: str, tmp_path: Path) -> None:
    out = tmp_path / "refused.zarr"
    result = runner.invoke(app, ["ingest", "table", *args, "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.output and result.stderr.count("\n") == 1
    assert not out.exists()


def _write(tmp_path: Path, name: str, text: str | bytes) -> str:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return str(path)


HEADER = "galaxy,r,v_obs,e_v_obs,v_gas,v_disk,v_bul\n"
ROW = "{g},{r},50,2,10,30,0\n"
ROTMOD = "# Distance = 3 Mpc\n1 2 3 4 5 6 7 8\n"
CURVE_UNITS = ["--units", "r=kpc,v_obs=km/s,e_v_obs=km/s,v_gas=km/s,v_disk=km/s,v_bul=km/s"]


def _curves(*names: str) -> str:
    return HEADER + "".join(ROW.format(g=g, r=i + 1) for g in names for i in range(3))


@pytest.mark.parametrize("files, args, message", [
    # encodings
    ({"c.csv": (CORPUS / "excel_latin1.csv").read_bytes()}, ["c.csv"],
     "line 2: byte 0xe9 is not valid UTF-8 text; if the file is Latin-1 (ISO-8859-1), as a spreadsheet may write it, "
     "read it with --encoding latin-1"),
    ({"c.csv": HEADER.encode() + "Caf\u00e9,1,50,2,10,30,0 \u2013\n".encode("cp1252")}, ["c.csv"],
     "if the file is Windows-1252, as a spreadsheet may write it, read it with --encoding cp1252"),
    ({"c.csv": _curves("A")}, ["c.csv", "--encoding", "klingon"], "--encoding 'klingon': Python knows no such text"),
    # names that differ only by case or surrounding whitespace, within a table and across two
    ({"c.csv": _curves("NGC1", "ngc1")}, ["c.csv", *CURVE_UNITS],
     "galaxy names 'NGC1' (lines 2–4) and 'ngc1' (lines 5–7) differ only by case or surrounding whitespace"),
    ({"c.csv": _curves("NGC1") + "NGC1 ,9,50,2,10,30,0\n"}, ["c.csv", *CURVE_UNITS],
     "galaxy names 'NGC1' (lines 2–4) and 'NGC1 ' (line 5) differ only by case or surrounding whitespace"),
    ({"c.csv": _curves("NGC1"), "g.csv": "galaxy,inclination\nngc1,60\n"},
     ["c.csv", *CURVE_UNITS, "--galaxies", "g.csv", "--galaxy-units", "inclination=deg"],
     "galaxy names 'NGC1' (lines 2–4) and 'ngc1' (g.csv line 2) differ only by case"),
    # the per-galaxy table
    ({"c.csv": _curves("A", "B"), "g.csv": "galaxy,inclination\nA,60\n"},
     ["c.csv", *CURVE_UNITS, "--galaxies", "g.csv", "--galaxy-units", "inclination=deg"],
     "g.csv: 1 galaxy of the curves has no row in it: B — without a row a galaxy has no inclination, so no nuisance "
     "marginalisation: a name spelled differently"),
    ({"c.csv": _curves("A"), "g.csv": "galaxy,inclination\nA,60\nA,70\n"},
     ["c.csv", *CURVE_UNITS, "--galaxies", "g.csv", "--galaxy-units", "inclination=deg"],
     "galaxy A has more than one row (lines 2–3); a per-galaxy table has one"),
    ({"c.csv": _curves("A"), "g.csv": "galaxy,colour\nA,red\n"}, ["c.csv", *CURVE_UNITS, "--galaxies", "g.csv"],
     "g.csv: the table gives none of distance, e_distance, inclination, e_inclination, L36, L_bul, R_disk, M_HI, "
     "quality (it has galaxy, colour; map yours with --galaxy-columns)"),
    ({"c.csv": _curves("A", "B"), "g.csv": "galaxy,quality\nA,1\nB,4\n"},
     ["c.csv", *CURVE_UNITS, "--galaxies", "g.csv"],
     "column 'quality', line 3 (galaxy B): 4 is not a flag: allowed 1, 2, 3"),
    ({"c.csv": _curves("A", "B"), "g.csv": "galaxy,quality\nA,1\nB,\n"}, ["c.csv", *CURVE_UNITS, "--galaxies", "g.csv"],
     "galaxy B has no quality flag and 1 others have one: give every galaxy its flag, or none"),
    ({"c.csv": _curves("SYN-A"), "g.csv": "galaxy,distance\nSYN-A,13\n"},
     [str(CORPUS / "rotmod" / "SYN-A_rotmod.dat"), "--galaxies", "g.csv", "--galaxy-units", "distance=Mpc"],
     "galaxy SYN-A: distance is 12.5 Mpc in the curves (SYN-A_rotmod.dat) and 13 Mpc here "
     "(line 2); give it once, or the same in both; a rotmod file's velocities are computed at its header's distance"),
    ({"c.csv": _curves("A")}, ["c.csv", *CURVE_UNITS, "--galaxy-units", "D=Mpc", "--allow-missing"],
     "--galaxy-units, --allow-missing apply to a --galaxies table"),
    # the bulge table
    ({"c.csv": _curves("A")}, ["c.csv", *CURVE_UNITS, "--bulge-units", "Lb=solLum"],
     "--bulge-units applies to a --bulges table; give one with --bulges FILE"),
    ({"c.csv": _curves("A"), "g.csv": "galaxy,L_bul\nA,1\n", "b.csv": "galaxy,L_bul\nA,1\n"},
     ["c.csv", *CURVE_UNITS, "--galaxies", "g.csv", "--galaxy-units", "L_bul=1e9solLum", "--bulges", "b.csv",
      "--bulge-units", "L_bul=1e9solLum"], "b.csv: L_bul is given by g.csv too (column 'L_bul'): give it once"),
    ({"c.csv": _curves("A"), "b.csv": "galaxy,Lb\nA,1\n"}, ["c.csv", *CURVE_UNITS, "--bulges", "b.csv"],
     "b.csv: the table gives none of L_bul (it has galaxy, Lb; map yours with --bulge-columns)"),
    ({"c.csv": _curves("A"), "b.csv": "galaxy,L_bul\nA,1\n"}, ["c.csv", *CURVE_UNITS, "--bulges", "b.csv"],
     "b.csv: column 'L_bul' has no unit: give it in the file (ECSV, FITS; or beside a name: r [kpc]) or with "
     "--bulge-units L_bul=1e9 solLum"),
    ({"c.csv": _curves("A"), "b.dat": "# Galaxy Lbul\nA 1.0 2.0\n"}, ["c.csv", *CURVE_UNITS, "--bulges", "b.dat"],
     "b.dat, line 2: expected 2 fields (Galaxy Lbul), found 3"),
    ({"b.dat": "# Galaxy Lbul\nSYN-C 1.0\n"}, [str(CORPUS / "rotmod"), "--bulges", "b.dat", "--decimal", ","],
     "--decimal , applies to delimited text (CSV, whitespace-separated), and this is read as SPARC mass models"),
    # delimited text
    ({"c.csv": _curves("A") + "A,9,50,2\n"}, ["c.csv", *CURVE_UNITS],
     "c.csv, line 5: 4 fields where the header (line 1) names 7 (comma-separated)"),
    ({"c.txt": "1 2 3\n4 5 6\n"}, ["c.txt"], "c.txt, line 1: no header line naming the columns: the first line "
                                             "holds a number"),
    ({"c.csv": "galaxy,r,r\nA,1,2\n"}, ["c.csv"], "line 1: the header names the column 'r' twice"),
    ({"c.csv": HEADER}, ["c.csv"], "line 1: the table has a header and no rows"),
    ({"c.csv": "# nothing\n\n"}, ["c.csv"], "no header line and no rows: the file is empty or all comments"),
    ({"c.csv": _curves("A").replace("A,2,50", "A,2,fifty")}, ["c.csv", *CURVE_UNITS],
     "column 'v_obs', line 3 (galaxy A): 'fifty' is not a number"),
    ({"c.csv": 'galaxy,r\n"A,1\n'}, ["c.csv"], "line 2: not a comma-separated line"),
    # SPARC mass models
    ({"f/NGC1_rotmod.dat": ROTMOD, "f/ngc1_rotmod.dat": ROTMOD}, ["f"], "galaxy names 'NGC1' (NGC1_rotmod.dat) and 'ngc1' (ngc1_rotmod.dat) differ only by case"),
    ({"empty/readme.txt": "no curves here"}, ["empty"], "the folder has no <Galaxy>_rotmod.dat files"),
    ({}, [str(CORPUS / "rotmod"), "--columns", "r=Rad"], "--columns does not apply: a SPARC mass models (3 "
                                                         "<Galaxy>_rotmod.dat files) gives sigcube's column names"),
    ({}, [str(CORPUS / "rotmod"), "--format", "ascii.csv"], "--format names the format of a table file"),
    ({"X_rotmod.dat": "# Distance = -3 Mpc\n1 2 3 4 5 6 7 8\n"}, ["X_rotmod.dat"],
     "X_rotmod.dat, line 1: Distance = -3 Mpc is negative"),
    ({}, ["nowhere"], "nowhere: no such file or folder"),
])
def test_refusals_are_one_line(files, args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        _write(tmp_path, name, text)
    _one_line_refusal(args, message, tmp_path)


def test_a_cp1252_file_reads_with_its_encoding(tmp_path):
    path = _write(tmp_path, "c.csv", (HEADER + "Caf\u00e9 \u2013 1,1,50,2,10,30,0\n").encode("cp1252"))
    cube = build_table_cube(path, units=dict(pair.split("=") for pair in CURVE_UNITS[1].split(",")), encoding="cp1252")
    assert list(cube["galaxy"].values) == ["Caf\u00e9 \u2013 1"]


def test_the_library_warns_with_allow_missing_and_notes_rows_without_a_curve(tmp_path):
    two = _write(tmp_path, "g.csv", "galaxy,inclination\nSYN-A,60\nSYN-C,70\nSYN-Z,80\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cube = build_table_cube(CORPUS / "rotmod", galaxies=two, galaxy_units={"inclination": "deg"},
                                allow_missing=True)
    (note,) = [w for w in caught if issubclass(w.category, IngestNote)]
    (warning,) = [w for w in caught if w.category is IngestWarning]
    assert str(note.message) == f"{two}: skipped 1 of its 3 galaxies, which have no curve: SYN-Z"
    assert "SYN-B" in str(warning.message) and "SYN-Z" not in str(warning.message)
    assert list(cube["inclination"].values[[0, 2]]) == [60.0, 70.0] and np.isnan(cube["inclination"].values[1])
    assert "quality" not in cube


# --- hypothesis: random tables in every shape read back as their plain CSV ---------------------------------------

NAME = st.text(st.sampled_from("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789-_+."), min_size=1, max_size=8).filter(
    lambda s: not s[0].isdigit() and s[0] not in "-+.")
VALUE = st.floats(-500, 500, allow_nan=False).map(lambda x: float(f"{x:.6g}"))
POSITIVE = st.floats(0.01, 500).map(lambda x: float(f"{x:.6g}"))


@st.composite
def tables(draw) -> dict[str, list[list[float]]]:
    """Galaxy → rows (r, v_obs, e_v_obs, v_gas, v_disk, v_bul, sb_disk, sb_bul), radii strictly increasing."""
    names = draw(st.lists(NAME, min_size=1, max_size=4, unique_by=lambda s: s.casefold()))
    out = {}
    for name in names:
        radii = sorted(draw(st.lists(POSITIVE, min_size=1, max_size=6, unique=True)))
        out[name] = [[r, draw(VALUE), draw(POSITIVE), draw(VALUE), draw(VALUE), draw(VALUE), draw(POSITIVE),
                      draw(POSITIVE)] for r in radii]
    return out


COLS = ("r", "v_obs", "e_v_obs", "v_gas", "v_disk", "v_bul", "sb_disk", "sb_bul")


def _text(curves, separator: str, decimal_comma: bool, commented: bool, crlf: bool, bom: bool) -> bytes:
    number = (lambda x: repr(x).replace(".", ",")) if decimal_comma else repr
    lines = [("# " if commented else "") + separator.join(("galaxy", *COLS))]
    lines += [separator.join((name, *map(number, row))) for name, rows in curves.items() for row in rows]
    text = ("\r\n" if crlf else "\n").join(lines) + "\n"
    return (("\ufeff" if bom else "") + text).encode()


def _unsettled(curves, mark: str) -> bool:
    """Whether the numbers of ``curves``, written with ``mark`` as their decimal mark, leave it unsettled: some could
    be read with a thousands separator (three digits after a first group of one to three), and every other has no
    mark."""
    written = [repr(x).replace(".", mark) for rows in curves.values() for row in rows for x in row]
    both_ways = [bool(re.fullmatch(rf"-?[1-9][0-9]{{0,2}}{re.escape(mark)}[0-9]{{3}}", text)) for text in written]
    return any(both_ways) and not any(mark in text and not two for text, two in zip(written, both_ways))


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(curves=tables(), shape=st.sampled_from(["semicolon", "whitespace", "commented", "rotmod"]),
       crlf=st.booleans(), bom=st.booleans(), give_mark=st.booleans())
def test_random_tables_read_back_in_every_shape(curves, shape, crlf, bom, give_mark, tmp_path_factory):
    """Each shape reads as the plain CSV; a file none of whose numbers settles the decimal mark is refused unless
    ``--decimal`` gives it."""
    folder = tmp_path_factory.mktemp("shape")
    units = {c: "km/s" for c in COLS} | {"r": "kpc", "sb_disk": "solLum/pc2", "sb_bul": "solLum/pc2"}
    (folder / "plain.csv").write_bytes(_text(curves, ",", False, False, False, False))
    twin = build_table_cube(folder / "plain.csv", units=units)
    if shape == "rotmod":
        (folder / "rotmod").mkdir()
        for name, rows in curves.items():
            lines = ["# Distance = 10 Mpc", "# Rad\tVobs\terrV\tVgas\tVdisk\tVbul\tSBdisk\tSBbul",
                     *("\t".join(map(repr, row)) for row in rows)]
            (folder / "rotmod" / f"{name}_rotmod.dat").write_bytes(("\r\n" if crlf else "\n").join(lines).encode())
        mine = build_table_cube(folder / "rotmod")
        assert np.all(mine["distance"].values == 10.0)
        mine = mine.drop_vars("distance")
        twin = twin.drop_vars("distance")
    else:
        separator = {"semicolon": ";", "whitespace": " \t ", "commented": " "}[shape]
        mark = "." if shape == "commented" else ","
        (folder / "mine.txt").write_bytes(_text(curves, separator, mark == ",", shape == "commented", crlf, bom))
        decimal = mark if give_mark else None
        if decimal is None and _unsettled(curves, mark):
            with pytest.raises(ParseError, match="a thousands separator, and the file's other numbers do not show"):
                build_table_cube(folder / "mine.txt", units=units)
            return
        mine = build_table_cube(folder / "mine.txt", units=units, decimal=decimal)
    assert_same_cube(mine, twin)


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300) | st.text(st.sampled_from("ab1.,; \t\r\n#\"-e"), max_size=120).map(str.encode))
def test_the_delimited_reader_reads_or_refuses_any_bytes(data, tmp_path_factory):
    path = tmp_path_factory.mktemp("bytes") / "any.csv"
    path.write_bytes(data)
    try:
        table, lines, _ = read_delimited(path)
    except ParseError as exc:
        assert "\n" not in str(exc) and str(path) in str(exc)
        return
    assert len(table) == len(lines) > 0 and all(name and name == name.strip() for name in table.colnames)


NAN, INF = float("nan"), float("inf")
CELLS = {
    # cell: (its value with its mark read as a decimal mark, the decimal mark it shows, its value with that mark read
    # as a thousands separator if it can be), by hand; None: not a number
    "1": (1.0, None, None), " 2 ": (2.0, None, None), "-.5": (-0.5, ".", None), "+5.": (5.0, ".", None),
    "1e5": (1e5, None, None), "1E-3": (1e-3, None, None), "0,25": (0.25, ",", None), "-1,5e2": (-150.0, ",", None),
    ",5": (0.5, ",", None), "5,": (5.0, ",", None), "": (NAN, None, None), "nan": (NAN, None, None),
    "NA": (NAN, None, None), "n/a": (NAN, None, None), "inf": (INF, None, None), "-Infinity": (-INF, None, None),
    "1_0": None, "0x1": None, "\u0661": None, "1,2,3": None, ".": None, "e5": None, "--1": None, "abc": None,
    "12.34.5": None, "1.234.": None, "1.23,45": None,
    "31.200": (31.2, ".", 31200.0), "-31,200": (-31.2, ",", -31200.0), "1.2345": (1.2345, ".", None),
    "0.320": (0.32, ".", None), "012,345": (12.345, ",", None), "1.234e5": (123400.0, ".", None),
    "1.234,5": (1234.5, ",", None), "1,234.5": (1234.5, ".", None), "1.234.567": (1234567.0, ",", None),
    "1,234,567.25": (1234567.25, ".", None), "1 234,5": (1234.5, ",", None), "1\u00a0234": (1234.0, None, None),
    "1'234.5": (1234.5, ".", None),
}


def _expected(cell: str, mark: str | None, given: bool) -> float | str:
    """A cell's number under a file's decimal mark (given by the user or not), or the words its refusal has."""
    if CELLS[cell] is None:
        return "is not a number"
    value, shows, grouped = CELLS[cell]
    if grouped is None:
        return "says the decimal mark" if given and shows not in (None, mark) else value
    return value if shows == mark else grouped if given else "with a thousands separator"


@settings(max_examples=200, deadline=None, derandomize=True)
@given(cells=st.lists(st.sampled_from(list(CELLS)), min_size=1, max_size=8), mark=st.sampled_from([".", ",", None]),
       given=st.booleans())
def test_cells_parse_as_the_rule_says(cells, mark, given):
    given = given and mark is not None
    values, bad, problem = parse_cells(np.array(cells), Convention(mark, given))
    expected = [_expected(cell, mark, given) for cell in cells]
    refused = [i for i, e in enumerate(expected) if isinstance(e, str)]
    if refused:
        assert bad == refused[0] and expected[bad] in problem and repr(cells[bad].strip()) in problem
    else:
        assert bad is None and problem is None
        np.testing.assert_array_equal(values, expected)


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(NAME, min_size=1, max_size=4, unique=True), twist=st.sampled_from(["lower", "space", "none"]),
       which=st.integers(0, 3))
def test_names_that_differ_only_by_case_or_whitespace_are_refused(names, twist, which, tmp_path_factory):
    """A curves table whose names are ``names`` plus one of them re-spelt (case changed, a space added): refused
    naming both spellings if the re-spelling differs from it, read as ``names`` if not."""
    original = names[which % len(names)]
    respelt = {"lower": original.lower(), "space": f" {original}", "none": original}[twist]
    path = tmp_path_factory.mktemp("names") / "c.csv"
    path.write_text(_curves(*names) + ROW.format(g=respelt, r=99))
    units = dict(pair.split("=") for pair in CURVE_UNITS[1].split(","))
    if respelt == original:
        assert sorted(build_table_cube(path, units=units)["galaxy"].values) == sorted(names)
    else:
        with pytest.raises(SigcubeError, match="differ only by case or surrounding whitespace") as info:
            build_table_cube(path, units=units)
        assert repr(original) in str(info.value) and repr(respelt) in str(info.value)
