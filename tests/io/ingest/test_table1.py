"""Tests of the SPARC Table 1 reader on the real file and corrupted copies."""

from __future__ import annotations

import re
from pathlib import Path

import astropy.units as u
import numpy as np
import pytest

from sigcube.errors import ParseError
from sigcube.io.ingest.rotmod import read_rotmod
from sigcube.io.ingest.sparc_table1 import Table1, read_table1

NAME = "SPARC_Lelli2016c.mrt"
COLUMNS = (
    "hubble_type", "distance", "e_distance", "distance_method", "inclination", "e_inclination",
    "L36", "e_L36", "R_eff", "SB_eff", "R_disk", "SB_disk", "M_HI", "R_HI", "V_flat", "e_V_flat", "quality",
)
# Values typed from the real file (1-based line number, 17 numbers in COLUMNS order, reference).
KNOWN = {
    "CamB": (99, (10, 3.36, 0.26, 2, 65.0, 5.0, 0.075, 0.003, 1.21, 7.89, 0.47, 66.20, 0.012, 1.21, 0.0, 0.0, 2), "Bm03"),
    "D631-7": (102, (10, 7.72, 0.18, 2, 59.0, 3.0, 0.196, 0.009, 1.22, 20.93, 0.70, 115.04, 0.290, 0.00, 57.7, 2.7, 1),
               "Tr09,dB01"),
    "ESO563-G021": (111, (4, 60.80, 9.10, 1, 83.0, 3.0, 311.177, 2.579, 10.59, 429.37, 5.45, 6558.89, 24.298, 55.71,
                          314.6, 11.7, 1), "SG06"),
    "NGC3198": (152, (5, 13.80, 1.40, 3, 73.0, 3.0, 38.279, 0.212, 5.84, 178.99, 3.14, 1602.62, 10.869, 35.66, 150.1,
                      3.9, 1), "Da06,Be91,Be87"),
    "UGC01281": (201, (8, 5.27, 0.24, 2, 90.0, 1.0, 0.353, 0.009, 2.01, 13.83, 1.63, 135.78, 0.294, 5.26, 55.2, 3.5, 1),
                 "dB02,Sw02"),
    "UGCA444": (273, (10, 0.98, 0.05, 2, 78.0, 4.0, 0.012, 0.000, 0.41, 11.94, 0.83, 22.74, 0.067, 2.08, 37.0, 4.8, 2),
                "Ke07"),
}
NGC3198_LINE, D631_LINE = KNOWN["NGC3198"][0], KNOWN["D631-7"][0]


@pytest.fixture(scope="session")
def table1_path(shared_data: Path) -> Path:
    return shared_data / "sparc" / NAME


@pytest.fixture(scope="session")
def table1(table1_path: Path) -> Table1:
    return read_table1(table1_path)


def _lines(table1_path: Path) -> list[str]:
    return table1_path.read_text().split("\n")


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / NAME
    path.write_text("\n".join(lines))
    return path


def _with_token(line: str, index: int, token: str | None) -> str:
    """Replace (or, with None, delete) the index-th whitespace-separated token, keeping the spacing."""
    parts = re.split(r"(\s+)", line.strip())
    if token is None:
        del parts[2 * index - 1: 2 * index + 1]
    else:
        parts[2 * index] = token
    return "".join(parts)


def _assert_parse_error(path: Path, line: int, *fragments: str) -> None:
    with pytest.raises(ParseError) as info:
        read_table1(path)
    message = str(info.value)
    assert info.value.line == line
    assert f"{path.name}, line {line}:" in message
    for fragment in fragments:
        assert fragment in message


def test_shape_and_types(table1: Table1) -> None:
    assert len(table1.galaxy) == len(table1.ref) == 175
    assert tuple(table1.columns) == COLUMNS and tuple(table1.units) == COLUMNS
    for name, column in table1.columns.items():
        assert column.shape == (175,) and not column.flags.writeable
        assert column.dtype == (np.int64 if name in {"hubble_type", "distance_method", "quality"} else np.float64)


def test_known_galaxies_every_column(table1: Table1, table1_path: Path) -> None:
    lines = _lines(table1_path)
    for galaxy, (line, values, ref) in KNOWN.items():
        assert lines[line - 1].split()[0] == galaxy
        i = table1.galaxy.index(galaxy)
        assert tuple(table1.columns[c][i] for c in COLUMNS) == values, galaxy
        assert table1.ref[i] == ref
    assert table1.galaxy[-1] == "UGCA444" and table1.galaxy[0] == "CamB"


def test_units_are_astropy_units(table1: Table1) -> None:
    units = {name: u.Unit(text) for name, text in table1.units.items()}
    assert units["distance"] == u.Mpc and units["inclination"] == u.deg
    assert units["L36"] == u.Unit(1e9 * u.solLum) and units["M_HI"] == u.Unit(1e9 * u.solMass)
    assert units["SB_disk"] == u.solLum / u.pc**2 and units["V_flat"] == u.km / u.s
    assert units["quality"] == u.dimensionless_unscaled


def test_galaxies_match_rotmod_files(table1: Table1, shared_data: Path) -> None:
    files = sorted((shared_data / "sparc" / "Rotmod_LTG").glob("*_rotmod.dat"))
    assert table1.galaxy == [f.name.removesuffix("_rotmod.dat") for f in files]
    distances = [read_rotmod(f).distance_mpc for f in files]
    np.testing.assert_array_equal(table1.columns["distance"], distances)


def test_whitespace_parse_is_right_and_header_byte_ranges_are_not(table1: Table1, table1_path: Path) -> None:
    lines = _lines(table1_path)
    rows = [line for line in lines[98:] if line.strip()]
    assert [float(line.split()[11]) for line in rows] == list(table1.columns["R_disk"])
    declared = next(line for line in lines if re.search(r"\bRdisk\b", line) and "Disk Scale Length" in line)
    start, end = map(int, re.match(r"\s*(\d+)-\s*(\d+)", declared).groups())
    assert (start, end) == (62, 66)

    def by_bytes(line: str) -> float | None:
        try:
            return float(line[start - 1: end])
        except ValueError:
            return None

    differing = [line for line, r in zip(rows, table1.columns["R_disk"]) if by_bytes(line) != r]
    assert len(differing) == len(rows) == 175  # the caveat is real: no row fits its declared bytes


def test_non_numeric_rdisk(table1_path: Path, tmp_path: Path) -> None:
    lines = _lines(table1_path)
    lines[NGC3198_LINE - 1] = _with_token(lines[NGC3198_LINE - 1], 11, "3.l4")
    _assert_parse_error(_write(tmp_path, lines), NGC3198_LINE, "Rdisk", "'3.l4'")


def test_missing_field(table1_path: Path, tmp_path: Path) -> None:
    lines = _lines(table1_path)
    lines[D631_LINE - 1] = _with_token(lines[D631_LINE - 1], 16, None)
    _assert_parse_error(_write(tmp_path, lines), D631_LINE, "expected 19", "found 18")


def test_nan_value(table1_path: Path, tmp_path: Path) -> None:
    lines = _lines(table1_path)
    lines[NGC3198_LINE - 1] = _with_token(lines[NGC3198_LINE - 1], 15, "NaN")
    _assert_parse_error(_write(tmp_path, lines), NGC3198_LINE, "Vflat", "finite")


def test_truncated_header(table1_path: Path, tmp_path: Path) -> None:
    _assert_parse_error(_write(tmp_path, _lines(table1_path)[:20]), 20, "truncated header")


def test_truncated_after_header(table1_path: Path, tmp_path: Path) -> None:
    _assert_parse_error(_write(tmp_path, _lines(table1_path)[:98]), 98, "no data rows")


def test_not_the_sparc_layout(table1_path: Path, tmp_path: Path) -> None:
    lines = _lines(table1_path)
    number = next(i for i, line in enumerate(lines, 1) if "Disk Scale Length" in line)
    lines[number - 1] = lines[number - 1].replace("Rdisk ", "Rd    ")
    _assert_parse_error(_write(tmp_path, lines), number, "'Rd'", "'Rdisk'", "not the SPARC Table 1 layout")


def test_missing_header_field(table1_path: Path, tmp_path: Path) -> None:
    lines = _lines(table1_path)
    del lines[26]  # the "Q" field
    _assert_parse_error(_write(tmp_path, lines), 27, "'Ref.'", "'Q'")


def test_no_byte_by_byte_description(tmp_path: Path) -> None:
    _assert_parse_error(_write(tmp_path, ["Title: something else", "x"]), 2, "Byte-by-byte")


@pytest.mark.parametrize(
    ("index", "token", "fragment"),
    [(5, "95.0", "Inc"), (17, "4", "Q"), (1, "12", "T"), (2, "0.00", "D"), (4, "7", "f_D"), (17, "1.5", "Q"),
     (5, "0", "Inc = 0 deg is outside: allowed 0 < inclination ≤ 90 deg"),
     (3, "0.00", "e_D = 0 Mpc is outside: allowed 1e-05 ≤ e_distance"),
     (6, "0", "e_Inc = 0 deg is outside: allowed 0.01 ≤ e_inclination"), (11, "0", "Rdisk = 0 kpc is outside")],
)
def test_implausible_values(index: int, token: str, fragment: str, table1_path: Path, tmp_path: Path) -> None:
    lines = _lines(table1_path)
    lines[NGC3198_LINE - 1] = _with_token(lines[NGC3198_LINE - 1], index, token)
    _assert_parse_error(_write(tmp_path, lines), NGC3198_LINE, fragment, "NGC3198" if token != "1.5" else "integer")


def test_duplicate_galaxy(table1_path: Path, tmp_path: Path) -> None:
    lines = _lines(table1_path)
    lines.insert(NGC3198_LINE, lines[NGC3198_LINE - 1])
    _assert_parse_error(_write(tmp_path, lines), NGC3198_LINE + 1, "NGC3198", "twice")
