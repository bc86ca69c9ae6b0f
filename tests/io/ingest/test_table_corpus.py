"""`sigcube ingest table` on the shapes that misread before: rotmod header lines (columns named in another order, some
left out, units other than SPARC's), thousands separators in both conventions, byte-order marks, folders with other
files. Each file that reads must give the cube of its twin, a plain CSV of the same numbers in the cube's units
(``tests/io/ingest/corpus``, or written here); each that cannot is refused in one line naming the file and line.

Corpus (twin: ``plain.csv``): ``rotmod_header/`` (SYN-A with errV before Vobs; SYN-B in pc and m/s, its numbers
written by shifting the decimal point of SPARC-layout text; SYN-C with sigcube's names and units beside them, Vobs
first, the surface brightnesses swapped), ``excel_thousands.csv`` (semicolons, decimal commas, thousands points:
``2.210,50``), ``thousands_comma.csv`` (commas, decimal points, quoted thousands commas: ``"2,210.50"``),
``excel_unicode.txt`` (UTF-16 LE with its byte-order mark, tabs, CRLF: Excel's "Unicode Text").

The hypothesis strategies write random curves in each shape; the default run is derandomized with a small budget,
the slow tier runs a deeper random one.
"""

from __future__ import annotations

import csv
import io
import math
import re
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sigcube.cli import app
from sigcube.errors import ParseError
from sigcube.io.cubes import open_cube
from sigcube.io.ingest.table_files import IngestWarning
from sigcube.io.ingest.user_table import build_table_cube

runner = CliRunner()
CORPUS = Path(__file__).parent / "corpus"
CURVE = ("r", "v_obs", "e_v_obs", "v_gas", "v_disk", "v_bul", "sb_disk", "sb_bul")
LABELS = ("Rad", "Vobs", "errV", "Vgas", "Vdisk", "Vbul", "SBdisk", "SBbul")
UNITS = {"r": "kpc", **{c: "km/s" for c in CURVE[1:6]}, "sb_disk": "solLum/pc2", "sb_bul": "solLum/pc2",
         "distance": "Mpc"}
UNITS_OPTION = ["--units", ",".join(f"{k}={v}" for k, v in UNITS.items())]
PC_IN_M = 648_000 / math.pi * 149_597_870_700
"""One parsec in metres, from its definition (IAU 2015 B2: 648000/π au; IAU 2012 B2: 1 au = 149 597 870 700 m)."""


@pytest.fixture(scope="module")
def plain():
    return build_table_cube(CORPUS / "plain.csv", units=UNITS)


def assert_twin(mine, twin, rtol: float = 0.0, skip: tuple[str, ...] = ()) -> None:
    """The same galaxies and points, each curve variable equal (to ``rtol``: 0 is exact) and in the same units."""
    assert list(mine["galaxy"].values) == list(twin["galaxy"].values)
    np.testing.assert_array_equal(mine["n_points"].values, twin["n_points"].values)
    for name in (*CURVE, "distance"):
        if name in skip:
            continue
        assert mine[name].attrs["units"] == twin[name].attrs["units"], name
        np.testing.assert_allclose(mine[name].values, twin[name].values, rtol=rtol, atol=0, err_msg=name)


def _one_line(args: list[str], tmp_path: Path, *fragments: str) -> str:
    """Run ``ingest table``: exit 2, one line on stderr holding every fragment, nothing written."""
    out = tmp_path / "refused.zarr"
    result = runner.invoke(app, ["ingest", "table", *args, "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output, result.output
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr
    assert not out.exists()
    return result.stderr


@pytest.fixture
def chdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --- the corpus -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, options", [
    ("excel_thousands.csv", UNITS_OPTION),
    ("thousands_comma.csv", UNITS_OPTION),
    ("excel_unicode.txt", UNITS_OPTION),
    ("rotmod_header", []),
])
def test_each_file_gives_the_cube_of_its_plain_csv_twin(name, options, plain, tmp_path):
    out = tmp_path / "mine.zarr"
    result = runner.invoke(app, ["ingest", "table", str(CORPUS / name), *options, "--out", str(out)])
    assert result.exit_code == 0, result.output
    # SYN-B of rotmod_header is in pc and m/s: astropy's conversion back may differ from the text in the last bit
    assert_twin(open_cube(out).load(), plain, rtol=1e-15 if name == "rotmod_header" else 0.0)


def test_the_rotmod_header_files_convert_only_what_is_not_in_the_cubes_units(plain):
    """SYN-A and SYN-C (in SPARC's units, reordered) are read exactly; SYN-B's pc and m/s are converted."""
    cube = build_table_cube(CORPUS / "rotmod_header")
    for galaxy in ("SYN-A", "SYN-C"):
        for name in CURVE:
            np.testing.assert_array_equal(cube[name].sel(galaxy=galaxy).values, plain[name].sel(galaxy=galaxy).values)
    assert float(cube["r"].sel(galaxy="SYN-B")[0]) == pytest.approx(0.15, rel=1e-15)  # written as 150.00 pc


@pytest.mark.parametrize("encoding, mark", [("utf-8", b"\xef\xbb\xbf"), ("utf-16-le", b"\xff\xfe"),
                                            ("utf-16-be", b"\xfe\xff"), ("utf-32-le", b"\xff\xfe\x00\x00"),
                                            ("utf-32-be", b"\x00\x00\xfe\xff")])
@pytest.mark.parametrize("what", ["plain.csv", "rotmod"])
def test_a_byte_order_mark_says_the_encoding(encoding, mark, what, plain, tmp_path):
    """The twin's bytes in another encoding, opened by its byte-order mark: the same cube, no option needed."""
    if what == "rotmod":
        for path in sorted((CORPUS / "rotmod").iterdir()):
            (tmp_path / path.name).write_bytes(mark + path.read_text().encode(encoding))
        mine = build_table_cube(tmp_path)
    else:
        (tmp_path / "c.csv").write_bytes(mark + (CORPUS / "plain.csv").read_text().encode(encoding))
        mine = build_table_cube(tmp_path / "c.csv", units=UNITS)
    assert_twin(mine, plain)


def test_utf16_without_a_mark_or_against_the_given_encoding_is_refused(chdir):
    tmp_path = chdir
    text = (CORPUS / "plain.csv").read_text()
    (tmp_path / "bare.csv").write_bytes(text.encode("utf-16-le"))
    _one_line(["bare.csv", *UNITS_OPTION], tmp_path, "bare.csv, line 1: the text holds a NUL character",
              "looks like UTF-16 LE text without a byte-order mark: read it with --encoding utf-16-le")
    (tmp_path / "marked.csv").write_bytes(b"\xfe\xff" + text.encode("utf-16-be"))
    _one_line(["marked.csv", *UNITS_OPTION, "--encoding", "latin-1"], tmp_path,
              "marked.csv, line 1: the file opens with a UTF-16 BE byte-order mark, so it is UTF-16 BE text, not "
              "latin-1: leave out --encoding")
    (tmp_path / "cut.csv").write_bytes(b"\xff\xfe" + text.encode("utf-16-le")[:-1])
    _one_line(["cut.csv", *UNITS_OPTION], tmp_path, "cut.csv, line 16: the file ends inside a UTF-16 LE character")


# --- rotmod header lines --------------------------------------------------------------------------------------

DISTANCE = "# Distance = 12.5 Mpc"
ROWS = ["0.42 31.20 6.10 4.15 40.22 0.00 512.30 0.00", "0.85 55.70 4.40 9.02 58.11 0.00 330.04 0.00"]


@pytest.mark.parametrize("header, rows, line, message", [
    (["# Rad Vrot errV Vgas Vdisk Vbul SBdisk SBbul"], ROWS, 2,
     "the header names 'Vrot', which is not a column of SPARC's mass-model files"),
    (["# Rad Vobs errV Vgas Vdisk Vbul SBdisk SBbul Vstar"], [r + " 9.0" for r in ROWS], 2,
     "the header names 'Vstar', which is not a column"),
    (["# Rad Vobs Vobs Vgas Vdisk Vbul SBdisk SBbul"], ROWS, 2,
     "the header names the column Vobs twice ('Vobs' and 'Vobs')"),
    (["# Rad Vobs errV Vgas Vdisk SBdisk SBbul"], [" ".join(r.split()[:5] + r.split()[6:]) for r in ROWS], 2,
     "the header names no Vbul column (Rad Vobs errV Vgas Vdisk SBdisk SBbul): a mass model needs"),
    (["# Rad Vobs errV Vgas Vdisk Vbul"], ROWS, 3,
     "expected 6 columns (Rad Vobs errV Vgas Vdisk Vbul, as line 2 names them), found 8"),
    (["# Rad Vobs errV Vgas Vdisk Vbul SBdisk SBbul", "# rad vobs errv vgas vdisk vbul sbdisk sbbul"], ROWS, 3,
     "lines 2 and 3 both name the columns: keep one"),
    (["# kpc km/s km/s km/s km/s L/pc^2 L/pc^2"], ROWS, 2,
     "the units line gives 7 units (kpc km/s km/s km/s km/s L/pc^2 L/pc^2) for 8 columns"),
    (["# pc m/sec m/sec m/sec m/sec m/sec L/pc^2 L/pc^2"], ROWS, 2,
     "column Vobs: astropy cannot parse the unit 'm/sec' on the units line; write it as astropy does (e.g. km/s)"),
    (["# kpc km/s km/s km/s km/s km/s mag/arcsec^2 mag/arcsec^2"], ROWS, 2,
     "column SBdisk has the unit 'mag/arcsec^2' on the units line, which is not a surface brightness"),
    (["# Vobs Rad errV Vgas Vdisk Vbul SBdisk SBbul", "# kpc km/s km/s km/s km/s km/s L/pc^2 L/pc^2"], ROWS, 3,
     "column Vobs has the unit 'kpc' on the units line (line 2 names it), which is not a velocity (km/s)"),
    (["# Rad[pc] Vobs errV Vgas Vdisk Vbul SBdisk SBbul", "# kpc km/s km/s km/s km/s km/s L/pc^2 L/pc^2"], ROWS, 3,
     "column Rad is in 'pc' beside its name (line 2) and in 'kpc' on the units line: give one unit"),
    (["# kpc m/s m/s m/s m/s m/s L/pc^2 L/pc^2"], ["0.42 3.1e7 6100 4150 40220 0 512.3 0"], 3,
     "column Vobs: 31000 km/s is outside: allowed |v_obs| ≤ 10000 km/s"),
    ([], [ROWS[0], "# Rad errV Vobs Vgas Vdisk Vbul SBdisk SBbul", ROWS[1]], 3,
     "a line naming the columns below the first row (line 2): header lines go above the rows"),
    ([], [ROWS[0], "# pc km/s km/s km/s km/s km/s L/pc^2 L/pc^2"], 3, "a units line below the first row"),
    (["# Rad Vobs errV Vgas Vdisk Vbul SBdisk SBbul"], [ROWS[0], DISTANCE, ROWS[1]], 4,
     "a second '# Distance' line (a file holds one galaxy) below the first row (line 3)"),
])
def test_rotmod_headers_that_cannot_be_read_are_refused(header, rows, line, message, chdir):
    (chdir / "X_rotmod.dat").write_text("\n".join([DISTANCE, *header, *rows]) + "\n")
    _one_line(["X_rotmod.dat"], chdir, f"X_rotmod.dat, line {line}: {message}")


@pytest.mark.parametrize("header", [
    ["# Rad, errV, Vobs, Vgas, Vdisk, Vbul, SBdisk, SBbul", "# kpc, km/s, m/s, km/s, km/s, km/s, L/pc^2, L/pc^2"],
    ["# Rad | errV | Vobs | Vgas | Vdisk | Vbul | SBdisk | SBbul",
     "# [kpc] [km/s] [m/s] [km/s] [km/s] [km/s] [L/pc^2] [L/pc^2]"],
    ["# Rad [kpc]  errV [km/s]  Vobs [m/s]  Vgas  Vdisk  Vbul  SBdisk  SBbul"],
    ["## rad(kpc)\terrv\tvobs(m/s)\tvgas\tvdisk\tvbul\tsbdisk\tsbbul"],
])
def test_header_lines_as_people_write_them(header, tmp_path):
    """Names and units separated by commas or bars, units in brackets on their own or beside a name: errV before
    Vobs, Vobs in m/s."""
    rows = ["0.42 6.10 31200 4.15 40.22 0.00 512.30 0.00", "0.85 4.40 55700 9.02 58.11 0.00 330.04 0.00"]
    (tmp_path / "X_rotmod.dat").write_text("\n".join([DISTANCE, *header, *rows]) + "\n")
    cube = build_table_cube(tmp_path / "X_rotmod.dat")
    np.testing.assert_allclose(cube["v_obs"].values[0], [31.2, 55.7], rtol=1e-15)
    assert list(cube["e_v_obs"].values[0]) == [6.1, 4.4] and list(cube["sb_disk"].values[0]) == [512.3, 330.04]


def test_a_unit_beside_a_name_and_another_on_the_units_line_is_refused(chdir):
    header = ["# Rad [kpc] Vobs [km/s] errV Vgas Vdisk Vbul SBdisk SBbul",
              "# kpc m/s km/s km/s km/s km/s L/pc^2 L/pc^2"]
    (chdir / "X_rotmod.dat").write_text("\n".join([DISTANCE, *header, *ROWS]) + "\n")
    _one_line(["X_rotmod.dat"], chdir, "X_rotmod.dat, line 3: column Vobs is in 'km / s' beside its name (line 2) and "
                                       "in 'm/s' on the units line: give one unit")


def test_a_units_line_out_of_the_cubes_units_is_said_when_a_value_is_refused(chdir):
    (chdir / "X_rotmod.dat").write_text("\n".join([DISTANCE, "# kpc m/s m/s m/s m/s m/s L/pc^2 L/pc^2",
                                                   "0.42 3.1e7 6100 4150 40220 0 512.3 0"]) + "\n")
    assert "(converted from m/s)" in _one_line(["X_rotmod.dat"], chdir)


def test_free_text_comments_are_not_header_lines(tmp_path):
    """A comment naming one column or one unit is prose: the rows are read in SPARC's layout."""
    lines = [DISTANCE, "# Rotation curve of X, Rad in kpc and the velocities in km/s (Smith 2020)",
             "# radii measured in kpc", *ROWS]
    (tmp_path / "X_rotmod.dat").write_text("\n".join(lines) + "\n")
    cube = build_table_cube(tmp_path / "X_rotmod.dat")
    assert list(cube["v_obs"].values[0]) == [31.2, 55.7] and list(cube["r"].values[0]) == [0.42, 0.85]


def test_surface_brightnesses_may_be_left_out(plain, tmp_path):
    """A names line without SBdisk and SBbul: the rows have six columns, the cube NaN surface brightnesses."""
    for path in sorted((CORPUS / "rotmod").iterdir()):
        lines = path.read_text().splitlines()
        rows = ["\t".join(line.split("\t")[:6]) for line in lines[3:]]
        (tmp_path / path.name).write_text("\n".join([lines[0], "# Rad Vobs errV Vgas Vdisk Vbul", *rows]) + "\n")
    cube = build_table_cube(tmp_path)
    assert_twin(cube, plain, skip=("sb_disk", "sb_bul"))
    assert np.isnan(cube["sb_disk"].values).all() and np.isnan(cube["sb_bul"].values).all()


# --- folders with other files ---------------------------------------------------------------------------------

def test_a_folder_says_what_it_skipped(plain, tmp_path):
    folder = tmp_path / "curves"
    shutil.copytree(CORPUS / "rotmod", folder)
    (folder / "README.txt").write_text("my galaxies\n")
    (folder / "notes [draft].csv").write_text("a,b\n")
    (folder / "old").mkdir()
    (folder / "SYN-D.dat").write_text((CORPUS / "rotmod" / "SYN-A_rotmod.dat").read_text())
    result = runner.invoke(app, ["ingest", "table", str(folder), "--out", str(tmp_path / "c.zarr")])
    assert result.exit_code == 0, result.output
    warning = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert warning == [f"warning: {folder}: read 3 <Galaxy>_rotmod.dat files, skipped 4 other entries of the folder: "
                       "README.txt, SYN-D.dat, notes [draft].csv, old/; SYN-D.dat opens like a rotmod file: name it "
                       "SYN-D_rotmod.dat to read it"]
    assert_twin(open_cube(tmp_path / "c.zarr").load(), plain)


# --- thousands separators and decimal marks -------------------------------------------------------------------

HEADER = "galaxy;r;v_obs;e_v_obs;v_gas;v_disk;v_bul;sb_disk\n"


@pytest.mark.parametrize("cells, options, values, message", [
    # (r, sb_disk) of two rows. Decimal commas elsewhere: a point with three digits after it may be either
    ([("0,5", "31.200"), ("1", "40,5")], [], None,
     "column 'sb_disk', line 2 (galaxy A): '31.200' is 31.2 with a decimal point, or 31200 with a thousands "
     "separator; the file's other numbers have a decimal comma, which makes this point a thousands separator, unless "
     "another program wrote the cell with three decimals: give --decimal , if it is 31200, or write it '31,2'"),
    ([("0,5", "31.200"), ("1", "40,5")], ["--decimal", ","], [31200.0, 40.5], None),
    # a grouped number with its decimal part, or two groups, has one reading in either convention
    ([("0,5", "1.234,5"), ("1", "40,5")], [], [1234.5, 40.5], None),
    ([("0.5", "1,234.5"), ("1", "40.5")], [], [1234.5, 40.5], None),
    ([("0.5", "1.234.567"), ("1", "40,5")], [], [1234567.0, 40.5], None),
    ([("0,5", "-1\u00a0234,5"), ("1", "40,5")], [], None, "-1234.5 solLum/pc2 is negative"),
    ([("0,5", "1\u00a0234,5"), ("1", "1 234 567")], [], [1234.5, 1234567.0], None),
    # decimal points elsewhere: a comma with three digits after it may be either
    ([("0.5", "31,200"), ("1", "40.5")], [], None,
     "'31,200' is 31.2 with a decimal comma, or 31200 with a thousands separator; the file's other numbers have a "
     "decimal point"),
    ([("0.5", "31,200"), ("1", "40.5")], ["--decimal", "."], [31200.0, 40.5], None),
    # nothing else settles the mark, or both marks are decimal marks
    ([("1", "31.200"), ("2", "40")], [], None,
     "'31.200' is 31.2 with a decimal point, or 31200 with a thousands separator, and the file's other numbers do "
     "not show which mark is its decimal mark: give --decimal . or --decimal , (the file's decimal mark)"),
    ([("0,5", "31.200"), ("1", "40.5")], [], None, "other numbers show both marks as decimal marks"),
    ([("1", "31.200"), ("2", "40")], ["--decimal", "."], [31.2, 40.0], None),
    # a number against the mark given
    ([("0.5", "31"), ("1", "40.5")], ["--decimal", ","], None,
     "column 'r', line 2 (galaxy A): '0.5' has a decimal point, but --decimal , says the decimal mark is a comma"),
    ([("1", "31")], ["--decimal", "x"], None, "--decimal takes . or , (the decimal mark of the file's numbers); got "
                                              "'x'"),
])
def test_thousands_separators_are_read_when_they_have_one_reading(cells, options, values, message, chdir):
    (chdir / "c.csv").write_text(HEADER + "".join(f"A;{r};31;2;10;30;0;{sb}\n" for r, sb in cells))
    args = ["c.csv", "--units", "r=kpc,v_obs=km/s,e_v_obs=km/s,v_gas=km/s,v_disk=km/s,v_bul=km/s,sb_disk=solLum/pc2",
            *options]
    if message is not None:
        _one_line(args, chdir, message)
        return
    out = chdir / "c.zarr"
    result = runner.invoke(app, ["ingest", "table", *args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert list(open_cube(out).load()["sb_disk"].values[0]) == values


def test_decimal_applies_to_delimited_text_only(tmp_path):
    _one_line([str(CORPUS / "rotmod"), "--decimal", ","], tmp_path,
              "--decimal , applies to delimited text (CSV, whitespace-separated), and this is read as SPARC mass "
              "models")


# --- values that differ past %g's six digits ------------------------------------------------------------------

def test_mismatched_values_are_printed_with_the_digits_that_differ(chdir):
    (chdir / "g.csv").write_text("galaxy,distance\nSYN-A,12.5000001\nSYN-B,3.2\nSYN-C,41.0\n")
    _one_line([str(CORPUS / "rotmod"), "--galaxies", "g.csv", "--galaxy-units", "distance=Mpc"], chdir,
              "galaxy SYN-A: distance is 12.5 Mpc in the curves (SYN-A_rotmod.dat) and 12.5000001 Mpc here (line 2)")
    (chdir / "c.csv").write_text("galaxy,r,v_obs,e_v_obs,v_gas,v_disk,v_bul,inclination\n"
                                 "A,1,31,2,10,30,0,60\nA,2,31,2,10,30,0,60.0000001\n")
    _one_line(["c.csv", "--units", "r=kpc,v_obs=km/s,e_v_obs=km/s,v_gas=km/s,v_disk=km/s,v_bul=km/s,inclination=deg"],
              chdir, "column 'inclination' takes more than one value for galaxy A (60 and 60.0000001 deg)")


# --- units beside a column's name -----------------------------------------------------------------------------

def test_a_unit_beside_a_name_is_read_and_may_not_be_contradicted(plain, tmp_path):
    text = (CORPUS / "plain.csv").read_text().splitlines()
    header = "galaxy,r [kpc],v_obs (km/s),e_v_obs [km/s],v_gas [km/s],v_disk [km/s],v_bul [km/s],sb_disk [Lsun/pc2]," \
             "sb_bul [Lsun/pc2],distance [Mpc]"
    (tmp_path / "named.csv").write_text("\n".join([header, *text[1:]]) + "\n")
    assert_twin(build_table_cube(tmp_path / "named.csv"), plain)
    with pytest.raises(ParseError, match=r"column 'r \[kpc\]' \(r\) is in 'pc' by --units and in 'kpc' by its name: "
                                         "give one unit"):
        build_table_cube(tmp_path / "named.csv", units={"r [kpc]": "pc"})
    (tmp_path / "percent.csv").write_text("galaxy,r,v_obs,e_v_obs (%),v_gas,v_disk,v_bul,L[3.6]\nA,1,31,2,10,30,0,5\n")
    velocities = {"r": "kpc", "v_obs": "km/s", "v_gas": "km/s", "v_disk": "km/s", "v_bul": "km/s"}
    with pytest.raises(ParseError, match=r"column 'e_v_obs \(%\)' \(e_v_obs\) is in '%', which cannot be converted"):
        build_table_cube(tmp_path / "percent.csv", units=velocities)  # an error in per cent of V_obs is not km/s
    with pytest.raises(ParseError, match=r"column 'L\[3.6\]' \(L36\) has no unit"):  # 3.6 μm: a name, not a unit
        build_table_cube(tmp_path / "percent.csv", {"L36": "L[3.6]"}, {**velocities, "e_v_obs (%)": "%"})


# --- found trying the command -----------------------------------------------------------------------------------

def test_one_column_read_as_two_names_is_refused(chdir):
    (chdir / "c.csv").write_text("galaxy,r,v_obs,e_v_obs,v_gas,v_disk,v_bul\nA,1,31,2,10,30,0\n")
    _one_line(["c.csv", "--columns", "v_disk=v_obs", "--units", "r=kpc,v_obs=km/s,e_v_obs=km/s,v_gas=km/s,v_bul=km/s"],
              chdir, "c.csv: the column 'v_obs' would be read as v_obs and as v_disk: map each sigcube name to a "
                     "column of its own with --columns")


def test_a_spreadsheets_empty_rows_are_skipped(plain, tmp_path):
    """Rows of separators only (``;;;;``, as a spreadsheet saves formatted empty rows) are blank lines."""
    lines = (CORPUS / "excel_semicolon.csv").read_text().splitlines()
    (tmp_path / "c.csv").write_text("\n".join([*lines[:4], ";;;;;;;;;;", *lines[4:], ";;;", " ; ;"]) + "\n")
    assert_twin(build_table_cube(tmp_path / "c.csv", units=UNITS), plain)


def test_a_rotmod_file_takes_carriage_return_line_ends_and_the_given_encoding(plain, tmp_path):
    """Old Mac line ends (CR alone), and Latin-1 prose in a header comment read with --encoding latin-1."""
    for path in sorted((CORPUS / "rotmod").iterdir()):
        lines = path.read_text().splitlines()
        text = "\r".join([lines[0], "# Données : courbe de rotation", *lines[1:]]) + "\r"
        (tmp_path / path.name).write_bytes(text.encode("latin-1"))
    with pytest.raises(ParseError, match="line 2: byte 0xe9 is not valid UTF-8 text; if the file is Latin-1"):
        build_table_cube(tmp_path)
    assert_twin(build_table_cube(tmp_path, encoding="latin-1"), plain)


# --- hypothesis: random curves in each shape ------------------------------------------------------------------

DEFAULT, DEEP = 12, 150
"""Examples per property in the default run (derandomized) and in the slow tier (fresh ones each run)."""

NAME = st.text(st.sampled_from("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789-"), min_size=1, max_size=6).filter(
    lambda s: s[0].isalpha())
TWO_DECIMALS = st.integers(-50_000, 50_000).map(lambda n: n / 100)


@st.composite
def curves(draw) -> dict[str, list[list[float]]]:
    """Galaxy → rows of the 8 curve columns in the cube's units (whole radii, increasing; errors ≥ 1 km/s; the rest
    with 2 decimals), whole numbers where a value rounded to none must stay inside its bounds and distinct."""
    out = {}
    for name in draw(st.lists(NAME, min_size=1, max_size=3, unique_by=str.casefold)):
        radii = sorted(draw(st.lists(st.integers(1, 9_999), min_size=1, max_size=5, unique=True)))
        out[name] = [[float(r), draw(TWO_DECIMALS), draw(st.integers(100, 5_000)) / 100, draw(TWO_DECIMALS),
                      draw(TWO_DECIMALS), draw(TWO_DECIMALS), draw(st.integers(0, 10**8)) / 100,
                      draw(st.integers(0, 10**8)) / 100] for r in radii]
    return out


def _twin(curves, folder: Path, distance: float | None = None):
    """The curves as a plain CSV (Python's csv module, ``repr`` numbers), read back."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["galaxy", *CURVE, *(["distance"] if distance else [])])
    for name, rows in curves.items():
        writer.writerows([name, *map(repr, row), *([repr(distance)] if distance else [])] for row in rows)
    (folder / "twin.csv").write_text(buffer.getvalue())
    return build_table_cube(folder / "twin.csv", units={k: v for k, v in UNITS.items() if distance or k != "distance"})


LENGTHS = {"kpc": 1.0, "pc": 1e3, "m": PC_IN_M * 1e3}
SPEEDS = {"km/s": 1.0, "m/s": 1e3, "cm/s": 1e5}
BRIGHTNESSES = {"L/pc^2": 1.0, "Lsun/pc2": 1.0, "solLum/kpc2": 1e6}
"""Units a rotmod header may give, and how many of each make the cube's unit (kpc, km/s, L☉/pc²)."""


@st.composite
def rotmod_layouts(draw):
    """(columns in file order, their units, how the units are written, what is wrong): SPARC's columns in any order,
    the surface brightnesses perhaps left out, units on a units line, beside the names, or not at all."""
    columns = list(range(8 if draw(st.booleans()) else 6))
    columns = draw(st.permutations(columns))
    where = draw(st.sampled_from(["line", "beside", "none"]))
    units = [draw(st.sampled_from(list((LENGTHS, SPEEDS, SPEEDS, SPEEDS, SPEEDS, SPEEDS, BRIGHTNESSES,
                                        BRIGHTNESSES)[i]))) if where != "none" else None for i in columns]
    wrong = draw(st.sampled_from([None] * 4 + ["unknown", "missing"]))
    return list(columns), units, where, wrong


def _rotmod_text(rows, columns, units, where, wrong, spelling) -> str:
    """The rotmod file of ``rows`` (cube units) in a layout; ``wrong``: an unknown column added, or the first
    required column left out (its name, unit and numbers); ``spelling``: the labels' case, the header lines'
    separator, and what stands between a name and its unit."""
    label_case, separator, gap = spelling
    names = [label_case(LABELS[i]) + (f"{gap}[{unit}]" if where == "beside" else "") for i, unit in zip(columns, units)]
    factors = [(LENGTHS, SPEEDS, SPEEDS, SPEEDS, SPEEDS, SPEEDS, BRIGHTNESSES, BRIGHTNESSES)[i][unit] if unit else 1.0
               for i, unit in zip(columns, units)]
    body = [[repr(row[i] * factor) for i, factor in zip(columns, factors)] for row in rows]
    unit_words = list(units)
    if wrong == "unknown":
        names, unit_words, body = names + ["Vstar"], unit_words + ["km/s"], [cells + ["1.0"] for cells in body]
    elif wrong == "missing":
        j = next(j for j, i in enumerate(columns) if i < 6)
        drop = lambda cells: cells[:j] + cells[j + 1:]  # noqa: E731
        names, unit_words, body = drop(names), drop(unit_words), [drop(cells) for cells in body]
    lines = ["# Distance = 10 Mpc", "# " + separator.join(names)]
    if where == "line":
        lines.append("# " + separator.join(unit_words))
    return "\n".join(lines + ["\t".join(cells) for cells in body]) + "\n"


def check_rotmod_header(curves, layout, spelling, folder: Path) -> None:
    """Curves written as rotmod files with ``layout``: the twin's cube (converted columns to 1e-12), or, for an
    unknown or missing column, a refusal naming it."""
    columns, units, where, wrong = layout
    twin = _twin(curves, folder, distance=10.0)
    (folder / "rotmod").mkdir()
    for name, rows in curves.items():
        (folder / "rotmod" / f"{name}_rotmod.dat").write_text(_rotmod_text(rows, columns, units, where, wrong,
                                                                          spelling))
    if wrong is not None:
        left_out = LABELS[next(i for i in columns if i < 6)]
        message = ("the header names 'Vstar', which is not a column" if wrong == "unknown" else
                   f"the header names no {left_out} column")
        with pytest.raises(ParseError, match=re.escape(message)):
            build_table_cube(folder / "rotmod")
        return
    mine = build_table_cube(folder / "rotmod")
    assert_twin(mine, twin, rtol=1e-12, skip=() if len(columns) == 8 else ("sb_disk", "sb_bul"))
    if len(columns) == 6:
        assert np.isnan(mine["sb_disk"].values).all() and np.isnan(mine["sb_bul"].values).all()


def _settings(examples: int, derandomize: bool):
    return settings(max_examples=examples, derandomize=derandomize, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


SPELLINGS = st.tuples(st.sampled_from([str, str.lower, str.upper]), st.sampled_from(["\t", "  ", ", ", " | "]),
                      st.sampled_from(["", " "]))


@_settings(DEFAULT, True)
@given(curves=curves(), layout=rotmod_layouts(), spelling=SPELLINGS)
def test_rotmod_headers_are_read_by_their_names_and_units(curves, layout, spelling, tmp_path_factory):
    check_rotmod_header(curves, layout, spelling, tmp_path_factory.mktemp("rotmod"))


@pytest.mark.slow
@_settings(DEEP, False)
@given(curves=curves(), layout=rotmod_layouts(), spelling=SPELLINGS)
def test_rotmod_headers_deep(curves, layout, spelling, tmp_path_factory):
    check_rotmod_header(curves, layout, spelling, tmp_path_factory.mktemp("rotmod"))


CONVENTIONS = {"comma": (",", "."), "point": (".", ","), "space": (",", "\u00a0")}
"""(decimal mark, thousands separator) of the number conventions a spreadsheet writes."""


def _grouped(value: float, decimals: int, convention: str) -> str:
    """``value`` as a spreadsheet writes it with a thousands separator (Python's own grouping, marks swapped)."""
    decimal, thousands = CONVENTIONS[convention]
    text = f"{value:,.{decimals}f}"  # 1,234.50
    return text.replace(",", "\x00").replace(".", decimal).replace("\x00", thousands)


def _two_way(cell: str) -> bool:
    """Whether a cell reads both ways: one group of three digits after one mark, after one to three digits."""
    return re.fullmatch(r"-?[1-9][0-9]{0,2}[.,][0-9]{3}", cell) is not None


def check_thousands(curves, convention, decimals, separator, give, folder: Path) -> None:
    """Curves written with thousands separators and ``decimals`` decimals: the twin's cube, or — without
    ``--decimal`` — a refusal when a cell reads both ways and the other cells do not settle the decimal mark."""
    decimal = CONVENTIONS[convention][0]
    rounded = {name: [[round(x, decimals) for x in row] for row in rows] for name, rows in curves.items()}
    cells = {name: [[_grouped(x, decimals, convention) for x in row] for row in rows] for name, rows in curves.items()}
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=separator, lineterminator="\r\n")
    writer.writerow(["galaxy", *CURVE])
    for name, rows in cells.items():
        writer.writerows([name, *row] for row in rows)
    (folder / "mine.csv").write_text(buffer.getvalue())
    flat = [cell for rows in cells.values() for row in rows for cell in row]
    thousands = CONVENTIONS[convention][1]
    shows_mark = any((decimal in cell and not _two_way(cell)) or (thousands in ".," and cell.count(thousands) > 1)
                     for cell in flat)
    settled = decimal if give or shows_mark else None
    units = {name: unit for name, unit in UNITS.items() if name != "distance"}
    twin = _twin(rounded, folder)
    if any(_two_way(cell) and cell[-4] != settled for cell in flat) and not give:
        with pytest.raises(ParseError, match="with a thousands separator"):
            build_table_cube(folder / "mine.csv", units=units)
        return
    assert_twin(build_table_cube(folder / "mine.csv", units=units, decimal=decimal if give else None), twin,
                skip=("distance",))


THOUSANDS = dict(curves=curves(), convention=st.sampled_from(list(CONVENTIONS)), decimals=st.sampled_from([0, 2, 3]),
                 separator=st.sampled_from([";", ","]), give=st.booleans())


@_settings(DEFAULT, True)
@given(**THOUSANDS)
def test_thousands_separators_read_as_written_or_refused(curves, convention, decimals, separator, give,
                                                         tmp_path_factory):
    check_thousands(curves, convention, decimals, separator, give, tmp_path_factory.mktemp("thousands"))


@pytest.mark.slow
@_settings(DEEP, False)
@given(**THOUSANDS)
def test_thousands_separators_deep(curves, convention, decimals, separator, give, tmp_path_factory):
    check_thousands(curves, convention, decimals, separator, give, tmp_path_factory.mktemp("thousands"))


MARKS = {"utf-8": b"\xef\xbb\xbf", "utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff", "utf-32-le": b"\xff\xfe\x00\x00",
         "utf-32-be": b"\x00\x00\xfe\xff"}
STRAY = st.text(st.sampled_from("abcxyz_-. 0123"), min_size=1, max_size=10).filter(
    lambda s: s.strip(" .") == s and not s.endswith("_rotmod.dat"))


def check_encoding_and_strays(curves, encoding, strays, folder: Path) -> None:
    """Curves as rotmod files in ``encoding`` (with its mark) in a folder with ``strays`` beside them: the twin's
    cube, and one warning that counts the strays and names the first five in order (none if there are none)."""
    twin = _twin(curves, folder, distance=10.0)
    (folder / "rotmod").mkdir()
    for name, rows in curves.items():
        text = _rotmod_text(rows, list(range(8)), [None] * 8, "none", None, (str, "\t", ""))
        (folder / "rotmod" / f"{name}_rotmod.dat").write_bytes(MARKS[encoding] + text.encode(encoding))
    for stray in strays:
        (folder / "rotmod" / stray).write_text("not a curve\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mine = build_table_cube(folder / "rotmod")
    said = [str(w.message) for w in caught if issubclass(w.category, IngestWarning)]
    assert_twin(mine, twin)
    if not strays:
        assert said == []
        return
    (message,) = said
    names = sorted(strays)
    listed = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    assert f"skipped {len(names)} other entr{'ies' if len(names) > 1 else 'y'} of the folder: {listed}" in message


ENCODED = dict(curves=curves(), encoding=st.sampled_from(list(MARKS)),
               strays=st.lists(STRAY, max_size=7, unique=True))


@_settings(DEFAULT, True)
@given(**ENCODED)
def test_marked_encodings_and_stray_files(curves, encoding, strays, tmp_path_factory):
    check_encoding_and_strays(curves, encoding, strays, tmp_path_factory.mktemp("encoded"))


@pytest.mark.slow
@_settings(DEEP, False)
@given(**ENCODED)
def test_marked_encodings_and_stray_files_deep(curves, encoding, strays, tmp_path_factory):
    check_encoding_and_strays(curves, encoding, strays, tmp_path_factory.mktemp("encoded"))
