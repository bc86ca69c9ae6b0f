"""Tests of the SPARC rotmod reader on the real files, corrupted copies and generated curves."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sigcube.errors import DataSourceError, ParseError
from sigcube.io.ingest.rotmod import RotmodCurve, read_rotmod

NAME = "NGC3198_rotmod.dat"
FIELDS = ("r", "v_obs", "e_v_obs", "v_gas", "v_disk", "v_bul", "sb_disk", "sb_bul")
NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


@pytest.fixture(scope="session")
def rotmod_dir(shared_data: Path) -> Path:
    return shared_data / "sparc" / "Rotmod_LTG"


def _lines(rotmod_dir: Path) -> list[str]:
    return (rotmod_dir / NAME).read_text().split("\n")


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / NAME
    path.write_text("\n".join(lines))
    return path


def _with_field(line: str, index: int, token: str) -> str:
    fields = line.split("\t")
    fields[index] = token
    return "\t".join(fields)


def _assert_parse_error(path: Path, line: int, *fragments: str) -> None:
    with pytest.raises(ParseError) as info:
        read_rotmod(path)
    message = str(info.value)
    assert info.value.line == line
    assert f"{path.name}, line {line}:" in message
    for fragment in fragments:
        assert fragment in message


def test_all_real_files_parse(rotmod_dir: Path) -> None:
    curves = [read_rotmod(p) for p in sorted(rotmod_dir.glob("*_rotmod.dat"))]
    assert len(curves) == 175
    assert sum(len(c.r) for c in curves) == 3391
    for curve in curves:
        assert all(getattr(curve, f).dtype == np.float64 and len(getattr(curve, f)) == len(curve.r) for f in FIELDS)
        assert np.all(np.diff(curve.r) > 0)
    assert sum(bool(np.any(c.v_gas < 0)) for c in curves) == 48  # negative Vgas is real (inner gas holes)


def test_known_curve(rotmod_dir: Path) -> None:
    curve = read_rotmod(rotmod_dir / NAME)
    assert isinstance(curve, RotmodCurve)
    assert curve.name == "NGC3198" and curve.distance_mpc == 13.8
    first = [getattr(curve, f)[0] for f in FIELDS]
    assert first == [0.32, 24.40, 35.90, 0.00, 63.28, 0.00, 1084.92, 0.00]
    assert [getattr(curve, f)[1] for f in FIELDS] == [0.64, 43.30, 16.30, 0.00, 73.66, 0.00, 590.57, 0.00]
    assert not curve.r.flags.writeable


def test_blank_lines_and_zero_vobs_are_accepted(rotmod_dir: Path, tmp_path: Path) -> None:
    lines = _lines(rotmod_dir)
    lines[4] = _with_field(lines[4], 1, "0.00")
    lines[5:5] = ["", "   \t"]
    curve = read_rotmod(_write(tmp_path, lines))
    reference = read_rotmod(rotmod_dir / NAME)
    assert curve.v_obs[1] == 0.0 and len(curve.r) == len(reference.r)
    np.testing.assert_array_equal(curve.v_gas, reference.v_gas)


def test_seven_fields(rotmod_dir: Path, tmp_path: Path) -> None:
    lines = _lines(rotmod_dir)
    lines[4] = "\t".join(lines[4].split("\t")[:7])
    _assert_parse_error(_write(tmp_path, lines), 5, "expected 8 columns", "found 7")


def test_non_numeric_field(rotmod_dir: Path, tmp_path: Path) -> None:
    lines = _lines(rotmod_dir)
    lines[5] = _with_field(lines[5], 4, "6x.1")
    _assert_parse_error(_write(tmp_path, lines), 6, "Vdisk", "'6x.1'")


def test_negative_radius(rotmod_dir: Path, tmp_path: Path) -> None:
    lines = _lines(rotmod_dir)
    lines[3] = _with_field(lines[3], 0, "-0.32")
    _assert_parse_error(_write(tmp_path, lines), 4, "Rad", "negative")


def test_negative_error(rotmod_dir: Path, tmp_path: Path) -> None:
    lines = _lines(rotmod_dir)
    lines[8] = _with_field(lines[8], 2, "-1.0")
    _assert_parse_error(_write(tmp_path, lines), 9, "errV", "negative")


def test_negative_surface_brightness(rotmod_dir: Path, tmp_path: Path) -> None:
    lines = _lines(rotmod_dir)
    lines[8] = _with_field(lines[8], 6, "-3")
    _assert_parse_error(_write(tmp_path, lines), 9, "SBdisk", "negative")


@pytest.mark.parametrize("field, token, says", [
    (2, "0.00", "column errV: 0 km/s is outside: allowed 0.001 ≤ e_v_obs ≤ 10000 km/s"),
    (1, "1e308", "column Vobs: 1e+308 km/s is outside: allowed |v_obs| ≤ 10000 km/s"),
    (0, "0.00", "column Rad: 0 kpc is outside: allowed 0 < r ≤ 10000 kpc"),
])
def test_values_outside_the_physical_bounds(field: int, token: str, says: str, rotmod_dir: Path,
                                            tmp_path: Path) -> None:
    lines = _lines(rotmod_dir)
    lines[3] = _with_field(lines[3], field, token)
    _assert_parse_error(_write(tmp_path, lines), 4, says)


def test_radii_not_increasing(rotmod_dir: Path, tmp_path: Path) -> None:
    lines = _lines(rotmod_dir)
    lines[6] = _with_field(lines[6], 0, lines[5].split("\t")[0])
    _assert_parse_error(_write(tmp_path, lines), 7, "increase strictly")


def test_truncated_header_only(rotmod_dir: Path, tmp_path: Path) -> None:
    _assert_parse_error(_write(tmp_path, _lines(rotmod_dir)[:3] + [""]), 3, "no data rows")


def test_empty_file(tmp_path: Path) -> None:
    _assert_parse_error(_write(tmp_path, []), 1, "Distance")


def test_missing_distance_line(rotmod_dir: Path, tmp_path: Path) -> None:
    _assert_parse_error(_write(tmp_path, _lines(rotmod_dir)[1:]), 1, "# Distance = <D> Mpc")


@pytest.mark.parametrize("token", ["nan", "NaN", "inf", "-Infinity", "1e999"])
def test_non_finite_value(token: str, rotmod_dir: Path, tmp_path: Path) -> None:
    lines = _lines(rotmod_dir)
    lines[6] = _with_field(lines[6], 1, token)
    _assert_parse_error(_write(tmp_path, lines), 7, "Vobs", "finite" if "999" not in token else "infinity")


@pytest.mark.parametrize("token", ["\u0661.5", "1_000", "0x10", "1,5", "--1", ".", "1e", "5 km"])
def test_tokens_python_float_might_accept_are_rejected(token: str, rotmod_dir: Path, tmp_path: Path) -> None:
    lines = _lines(rotmod_dir)
    lines[6] = _with_field(lines[6], 3, token)
    with pytest.raises(ParseError, match="line 7: "):
        read_rotmod(_write(tmp_path, lines))


def test_missing_file_is_a_data_source_error(tmp_path: Path) -> None:
    with pytest.raises(DataSourceError, match="No such file"):
        read_rotmod(tmp_path / NAME)


def test_non_utf8_bytes(rotmod_dir: Path, tmp_path: Path) -> None:
    lines = _lines(rotmod_dir)
    path = tmp_path / NAME
    path.write_bytes("\n".join(lines[:7]).encode() + b"\n0.5\t\xff\xfe\n" + "\n".join(lines[7:]).encode())
    _assert_parse_error(path, 8, "UTF-8")


# --- property tests -------------------------------------------------------------------------------

VELOCITY = st.floats(-400, 400, allow_nan=False)
POSITIVE = st.floats(0, 1e4, allow_nan=False)
ERROR = st.floats(0.01, 1e4, allow_nan=False)  # the bounds of e_v_obs: at least 1 m/s


@st.composite
def curves(draw: st.DrawFn) -> tuple[float, np.ndarray]:
    """(distance [Mpc], 8 x n array) of a valid curve, values as the file stores them (2 decimals)."""
    n = draw(st.integers(1, 25))
    steps = draw(st.lists(st.integers(1, 500), min_size=n, max_size=n))
    radius = np.cumsum(steps) / 100.0
    columns = [radius]
    for strategy in (VELOCITY, ERROR, VELOCITY, VELOCITY, VELOCITY, POSITIVE, POSITIVE):
        columns.append(np.array(draw(st.lists(strategy, min_size=n, max_size=n))))
    return draw(st.floats(0.01, 200)), np.array(columns)


def _format(distance: float, table: np.ndarray, separator: str) -> str:
    header = [f"# Distance = {distance:.2f} Mpc", "# Rad\tVobs\terrV\tVgas\tVdisk\tVbul\tSBdisk\tSBbul\t\t",
              "# kpc\tkm/s\tkm/s\tkm/s\tkm/s\tkm/s\tL/pc^2\tL/pc^2"]
    rows = [separator.join(f"{v:.2f}" for v in row) for row in table.T]
    return "\n".join(header + rows) + "\n"


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(curve=curves(), separator=st.sampled_from(["\t", " ", "  ", " \t "]))
def test_round_trip(curve: tuple[float, np.ndarray], separator: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    distance, table = curve
    path = tmp_path_factory.mktemp("roundtrip") / "G_rotmod.dat"
    path.write_text(_format(distance, table, separator))
    read = read_rotmod(path)
    assert read.name == "G"
    assert read.distance_mpc == pytest.approx(distance, abs=0.005 + 1e-9)
    for field, column in zip(FIELDS, table):
        np.testing.assert_allclose(getattr(read, field), column, rtol=0, atol=0.005 + 1e-9)


def _is_valid_row(line: str) -> bool:
    tokens = line.split()
    return len(tokens) == 8 and all(NUMBER.fullmatch(t) for t in tokens)


#: Tokens close to valid numbers (Unicode digits, underscores, hex, non-finite) mixed with free text.
NEAR_NUMBERS = st.sampled_from(["1.0", "-2", "0.5e3", "nan", "-inf", "1e999", "1_000", "0x10", "\u0661.5", "1,5", "--1", "."])
GARBAGE = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"), min_size=1),
    st.lists(NEAR_NUMBERS, min_size=1, max_size=10).map("\t".join),
)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(curve=curves(), garbage=GARBAGE, where=st.integers(0, 30))
def test_garbage_line_is_a_parse_error(
    curve: tuple[float, np.ndarray], garbage: str, where: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    assume(garbage.strip() and not garbage.lstrip().startswith("#") and not _is_valid_row(garbage))
    lines = _format(*curve, "\t").splitlines()
    where = min(where, len(lines))
    lines.insert(where, garbage)
    path = tmp_path_factory.mktemp("garbage") / "G_rotmod.dat"
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(ParseError) as info:
        read_rotmod(path)
    assert info.value.line == where + 1


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(curve=curves(), garbage=st.binary(min_size=1, max_size=40), where=st.integers(0, 30))
def test_garbage_bytes_never_escape_as_other_errors(
    curve: tuple[float, np.ndarray], garbage: bytes, where: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    lines = _format(*curve, "\t").encode().split(b"\n")
    lines.insert(min(where, len(lines)), garbage)
    path = tmp_path_factory.mktemp("bytes") / "G_rotmod.dat"
    path.write_bytes(b"\n".join(lines))
    try:
        garbage.decode("utf-8")
    except UnicodeDecodeError:
        with pytest.raises(ParseError, match="UTF-8"):
            read_rotmod(path)
        return
    try:  # decodable garbage may be blank or a comment and read fine; only ParseError may escape
        read_rotmod(path)
    except ParseError:
        pass


# --- units stated in prose header lines -----------------------------------------------------------------------

ROW = "320 24.4 35.9 0 63.28 0 1084.92 0"


def _file(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / NAME
    path.write_text("\n".join(["# Distance = 13.8 Mpc", *lines]) + "\n")
    return path


@pytest.mark.parametrize("header", ["# Rad [pc]", "# Rad(pc)", "# Radius in pc", "# Rad [pc], velocities in km/s",
                                    "# rad: pc", "# radii measured in pc (Smith 2020)"])
def test_a_radius_unit_stated_in_prose_is_read(header: str, tmp_path: Path) -> None:
    """The issue's files: a radius of 320 pc is 0.32 kpc, not 320 kpc."""
    curve = read_rotmod(_file(tmp_path, header, ROW))
    assert curve.r[0] == pytest.approx(0.32, rel=1e-15) and curve.v_obs[0] == 24.4


@pytest.mark.parametrize("header, message", [
    ("# pc", "'pc' states the unit of a length but names no column it is for: write it beside the column's name "
             "(Rad [pc]) or on a units line"),
    ("# [pc]", "'[pc]' states the unit of a length but names no column"),
    ("# Rdisk [pc] = 2300", "'Rdisk[pc]' states the unit of a length but names no column"),
    ("# distances from NED in Mpc", "'Mpc' states the unit of a length but names no column"),
    ("# speeds in m/s", "'m/s' states the unit of a velocity but names no column it is for: write it beside the "
                        "column's name (Vobs [m/s])"),
    ("# Vobs [kpc]", "column Vobs has the unit 'kpc' in 'Vobs[kpc]', which is not a velocity (km/s)"),
    ("# Vdisk (Msun)", "column Vdisk has the unit 'Msun' in 'Vdisk(Msun)', which is not a velocity"),
    ("# radii in km/s", "column Rad has the unit 'km/s' in 'km/s', which is not a length (kpc)"),
    ("# Rad [pc], radii in kpc", "column Rad is in 'pc' on line 2 and in 'kpc' on line 2: give one unit"),
])
def test_a_unit_a_prose_line_cannot_place_is_refused(header: str, message: str, tmp_path: Path) -> None:
    _assert_parse_error(_file(tmp_path, header, ROW), 2, message)


def test_a_prose_unit_against_the_units_line_is_refused(tmp_path: Path) -> None:
    path = _file(tmp_path, "# Rad Vobs errV Vgas Vdisk Vbul SBdisk SBbul", "# pc km/s km/s km/s km/s km/s L/pc^2 L/pc^2",
                 "# all radii in kpc", ROW)
    _assert_parse_error(path, 4, "column Rad is in 'pc' on line 3 and in 'kpc' on line 4: give one unit")


def test_prose_that_states_no_other_unit_reads_the_format(tmp_path: Path) -> None:
    """Quantities (a number before the unit), units of no column's kind, and the format's own units change nothing."""
    curve = read_rotmod(_file(tmp_path, "# D = 13.8 Mpc, Rdisk = 2.3 kpc, i = 60 deg (HI beam 30 arcsec)",
                              "# I am here: distances in kpc, velocities in km/s, M/L in Msun/Lsun", "320.5" + ROW[3:]))
    assert curve.r[0] == 320.5 and curve.v_obs[0] == 24.4


def test_a_unit_stated_below_the_rows_is_refused(tmp_path: Path) -> None:
    _assert_parse_error(_file(tmp_path, ROW, "# radii in pc"), 3,
                        "a line stating the unit 'pc' below the first row (line 2): header lines go above the rows")
    assert read_rotmod(_file(tmp_path, ROW, "# radii in kpc")).r[0] == 320  # the format's unit: nothing to change


@settings(max_examples=40, deadline=None, derandomize=True)
@given(subject=st.sampled_from(["Rad", "rad", "r", "Radius", "radii"]),
       form=st.sampled_from(["{} [{}]", "{}({})", "{} in {}", "{} [{}], velocities in km/s", "{}: {}",
                             "the {} are measured in {}."]),
       unit=st.sampled_from(["pc", "kpc", "Mpc", "lyr", "AU", "km"]),
       radius=st.floats(0.01, 100))
def test_a_radius_unit_in_any_such_header_is_converted(subject: str, form: str, unit: str, radius: float,
                                                       tmp_path_factory: pytest.TempPathFactory) -> None:
    """A radius of ``radius`` kpc written in ``unit`` under a prose header stating it reads back as ``radius``."""
    import astropy.units as u

    written = float((radius * u.kpc).to_value(u.Unit(unit)))
    path = _file(tmp_path_factory.mktemp("prose"), "# " + form.format(subject, unit), f"{written!r} {ROW[4:]}")
    assert read_rotmod(path).r[0] == pytest.approx(radius, rel=1e-12)


def test_velocities_stated_in_prose_are_converted(tmp_path: Path) -> None:
    curve = read_rotmod(_file(tmp_path, "# Rad [pc]; velocities in m/s", "320 24400 35900 0 63280 0 1084.92 0"))
    assert curve.r[0] == pytest.approx(0.32) and curve.v_obs[0] == pytest.approx(24.4)
    assert curve.e_v_obs[0] == pytest.approx(35.9) and curve.v_disk[0] == pytest.approx(63.28)
