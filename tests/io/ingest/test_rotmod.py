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
