"""Reader of SPARC Table 1, galaxy properties (``SPARC_Lelli2016c.mrt``, Lelli+2016).

The file is a CDS machine-readable table, but its data lines do NOT sit in the byte ranges its
own "Byte-by-byte Description" declares (e.g. Rdisk is declared at bytes 62-66 and sits at 74-77).
The reader therefore uses the header only to check the column labels, units and order, and splits
each data line on whitespace: name, 17 numbers, one reference token (e.g. ``Tr09,dB01``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from sigcube.errors import ParseError
from sigcube.io.ingest.bounds import BOUNDS
from sigcube.io.ingest.text import parse_number, read_text_lines


@dataclass(frozen=True)
class Column:
    """One numeric column: file label and unit (CDS), sigcube name, astropy unit, integer or not."""

    label: str
    cds_unit: str
    name: str
    unit: str
    integer: bool = False


#: The 17 numeric columns between ``Galaxy`` and ``Ref.``, in file order.
NUMERIC = (
    Column("T", "---", "hubble_type", "", integer=True),
    Column("D", "Mpc", "distance", "Mpc"),
    Column("e_D", "Mpc", "e_distance", "Mpc"),
    Column("f_D", "---", "distance_method", "", integer=True),
    Column("Inc", "deg", "inclination", "deg"),
    Column("e_Inc", "deg", "e_inclination", "deg"),
    Column("L[3.6]", "10+9solLum", "L36", "1e9 solLum"),
    Column("e_L[3.6]", "10+9solLum", "e_L36", "1e9 solLum"),
    Column("Reff", "kpc", "R_eff", "kpc"),
    Column("SBeff", "solLum/pc2", "SB_eff", "solLum / pc2"),
    Column("Rdisk", "kpc", "R_disk", "kpc"),
    Column("SBdisk", "solLum/pc2", "SB_disk", "solLum / pc2"),
    Column("MHI", "10+9solMass", "M_HI", "1e9 solMass"),
    Column("RHI", "kpc", "R_HI", "kpc"),
    Column("Vflat", "km/s", "V_flat", "km / s"),
    Column("e_Vflat", "km/s", "e_V_flat", "km / s"),
    Column("Q", "---", "quality", "", integer=True),
)
#: (label, CDS unit) of every field the header must declare, in order.
HEADER = (("Galaxy", "---"), *((c.label, c.cds_unit) for c in NUMERIC), ("Ref.", "---"))
#: Ranges (inclusive) of the integer codes, those of the file's Notes; the physical columns sigcube's rotation
#: curves share are checked against :data:`~sigcube.io.ingest.bounds.BOUNDS`.
CODES = {
    "hubble_type": (0, 11),
    "distance_method": (1, 5),
    "quality": (1, 3),
}

_FIELD = re.compile(r"\s*(\d+)\s*(?:-\s*(\d+))?\s+(\S+)\s+(\S+)\s+(\S+)(?:\s+(.*))?")
_INTEGER = re.compile(r"[+-]?[0-9]+")


@dataclass(frozen=True)
class Table1:
    """SPARC Table 1: one entry per galaxy, in file order.

    ``columns`` maps the sigcube names of :data:`NUMERIC` to read-only arrays (int64 for hubble_type,
    distance_method, quality; float64 otherwise); ``units`` maps them to astropy unit strings.
    V_flat = e_V_flat = 0 means no flat part was measured, R_HI = 0 that R_HI was not measured.
    """

    galaxy: list[str]
    columns: dict[str, np.ndarray]
    ref: list[str]
    units: dict[str, str]


def read_table1(path: Path | str) -> Table1:
    """Read ``SPARC_Lelli2016c.mrt``.

    Raises ParseError (naming file and line) if it is malformed, DataSourceError if it cannot be read.
    """
    path = Path(path)
    lines = read_text_lines(path)
    first_data = _check_header(lines, path)
    rows = [
        _row(text, path, number)
        for number, text in enumerate(lines[first_data:], start=first_data + 1)
        if text.strip()
    ]
    if not rows:
        raise ParseError(path, "no data rows after the header (empty or truncated table)", max(len(lines), 1))
    _check_unique(rows, path)
    values = zip(*(row.values for row in rows))
    columns = {
        c.name: np.array(column, dtype=np.int64 if c.integer else np.float64)
        for c, column in zip(NUMERIC, values)
    }
    for array in columns.values():
        array.flags.writeable = False
    return Table1(
        galaxy=[row.galaxy for row in rows],
        columns=columns,
        ref=[row.ref for row in rows],
        units={c.name: c.unit for c in NUMERIC},
    )


def declares_table1(path: Path | str) -> bool:
    """Whether ``path`` is a CDS machine-readable table whose byte-by-byte description is SPARC Table 1's."""
    try:
        _check_header(read_text_lines(path), Path(path))
    except ParseError:
        return False
    return True


def _is_separator(text: str) -> bool:
    """True for a ``-----`` rule line."""
    stripped = text.strip()
    return len(stripped) >= 10 and set(stripped) == {"-"}


def _check_header(lines: list[str], path: Path) -> int:
    """Check the byte-by-byte description is SPARC Table 1's; return the index of the first data line.

    The data start after the last ``----`` rule (the one closing the Notes).
    """
    last_line = max(len(lines), 1)
    start = next((i for i, t in enumerate(lines) if t.startswith("Byte-by-byte Description")), None)
    if start is None:
        raise ParseError(path, "no 'Byte-by-byte Description' line: not a CDS machine-readable table", last_line)
    rules = [i for i in range(start + 1, len(lines)) if _is_separator(lines[i])]
    if len(rules) < 3:
        raise ParseError(path, "the file ends inside the byte-by-byte description (truncated header)", last_line)
    fields = [_field(lines[i], path, i + 1) for i in range(rules[1] + 1, rules[2])]
    _check_labels(fields, path, rules[2] + 1)
    return rules[-1] + 1


def _field(text: str, path: Path, line: int) -> tuple[str, str, int]:
    """(label, unit, line) of one byte-by-byte description line."""
    match = _FIELD.fullmatch(text)
    if match is None:
        raise ParseError(path, f"not a byte-by-byte field description: {text.strip()!r}", line)
    return match.group(5), match.group(4), line


def _check_labels(fields: list[tuple[str, str, int]], path: Path, end_line: int) -> None:
    """Raise ParseError unless the fields are SPARC Table 1's labels and units, in order."""
    for (label, unit, line), (want_label, want_unit) in zip(fields, HEADER):
        if (label, unit) != (want_label, want_unit):
            raise ParseError(
                path,
                f"header field {label!r} [{unit}] where SPARC Table 1 has {want_label!r} [{want_unit}]: "
                "not the SPARC Table 1 layout",
                line,
            )
    if len(fields) != len(HEADER):
        raise ParseError(
            path,
            f"the header declares {len(fields)} fields, SPARC Table 1 has {len(HEADER)}: "
            "not the SPARC Table 1 layout",
            end_line,
        )


class _Row(NamedTuple):
    """One parsed data line."""

    galaxy: str
    values: list[float | int]
    ref: str
    line: int


def _row(text: str, path: Path, line: int) -> _Row:
    """Parse and range-check one data line."""
    tokens = text.split()
    if len(tokens) != len(HEADER):
        raise ParseError(
            path,
            f"expected {len(HEADER)} whitespace-separated fields (Galaxy, {len(NUMERIC)} numbers, Ref.), "
            f"found {len(tokens)}",
            line,
        )
    galaxy = tokens[0]
    numbers = [_value(token, column, path, line) for token, column in zip(tokens[1:-1], NUMERIC)]
    for column, value in zip(NUMERIC, numbers):
        _check_range(galaxy, column, value, path, line)
    return _Row(galaxy, numbers, tokens[-1], line)


def _value(token: str, column: Column, path: Path, line: int) -> float | int:
    """Parse one numeric token of ``column``."""
    if column.integer:
        if not _INTEGER.fullmatch(token):
            raise ParseError(path, f"column {column.label}: {token!r} is not an integer", line)
        return int(token)
    return parse_number(token, column.label, path, line)


def _check_range(galaxy: str, column: Column, value: float | int, path: Path, line: int) -> None:
    """Raise ParseError if ``value`` is outside its column's physical bounds or code range."""
    if column.name in BOUNDS and BOUNDS[column.name].outside(value):
        raise ParseError(path, f"{galaxy}: {column.label} = {BOUNDS[column.name].problem(value)}", line)
    low, high = CODES.get(column.name, (-np.inf, np.inf))
    if not low <= value <= high:
        raise ParseError(path, f"{galaxy}: {column.label} = {value} is outside [{low}, {high}]", line)


def _check_unique(rows: list[_Row], path: Path) -> None:
    """Raise ParseError at the second occurrence of a galaxy name."""
    seen: set[str] = set()
    for row in rows:
        if row.galaxy in seen:
            raise ParseError(path, f"galaxy {row.galaxy} appears twice", row.line)
        seen.add(row.galaxy)
