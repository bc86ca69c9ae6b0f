"""Reader of delimited text tables as spreadsheets and scripts write them (``.csv``, ``.txt``, ``.dat``, …).

- encoding: UTF-8, or as the file's byte-order mark says (UTF-16, UTF-32), or the one given; a file in another is
  refused naming the encoding it is likely in (:func:`~sigcube.io.ingest.text.decode_text`);
- line ends: LF, CRLF or CR; blank lines, lines of separators only (a spreadsheet's empty rows, ``;;;;``) and lines
  starting with ``#`` are skipped;
- header: the first other line names the columns — unless it holds a number, when the last ``#`` line above it
  does (``# r v_obs …``, as numpy's ``savetxt`` writes it);
- separator, read from the header: ``;`` if it has one, else ``,`` if it has one (quoted as in CSV), else runs of
  spaces and tabs;
- numbers may be written with a decimal point or a decimal comma, with or without thousands separators
  (:mod:`~sigcube.io.ingest.cell_numbers`: a cell that could be read both ways is refused unless the file's decimal
  mark is settled).

Every cell is kept as text: the reader of a column turns it into numbers
(:func:`~sigcube.io.ingest.cell_numbers.parse_cells`), knowing the file's decimal mark. Every refusal is a ParseError
naming the file and line.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from astropy.table import Table

from sigcube.errors import ParseError
from sigcube.io.ingest.cell_numbers import read_cell
from sigcube.io.ingest.text import decode_text, read_bytes


def read_delimited(path: Path, encoding: str | None = None) -> tuple[Table, np.ndarray, str | None]:
    """The table of text cells of ``path``, the file line of each row, and its separator (None: whitespace)."""
    text = decode_text(read_bytes(path), path, encoding, "--encoding")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept = [(number, line) for number, line in enumerate(lines, start=1) if line.strip()]
    body = [(number, line) for number, line in kept if not line.lstrip().startswith("#")]
    if not body:
        raise ParseError(path, "no header line and no rows: the file is empty or all comments", max(len(lines), 1))
    first_line, first = body[0]
    separator = ";" if ";" in first else "," if "," in first else None
    cells = _split(first, separator, path, first_line)
    if any(_is_number(cell) for cell in cells):  # the first line is data: the header is the comment line above it
        comments = [(n, line) for n, line in kept if n < first_line]
        if not comments:
            raise ParseError(path, "no header line naming the columns: the first line holds a number", first_line)
        header_line, header = comments[-1]
        names = _split(header.lstrip().removeprefix("#"), separator, path, header_line)
        rows = body
    else:
        header_line, names, rows = first_line, cells, body[1:]
    if separator is not None:  # a spreadsheet's empty rows: separators only (;;;;)
        rows = [(number, line) for number, line in rows if line.replace(separator, "").strip()]
    if not rows:
        raise ParseError(path, "the table has a header and no rows", header_line)
    split = [_split(line, separator, path, number) for number, line in rows]
    for (number, _), row in zip(rows, split):
        if len(row) != len(names):
            raise ParseError(path, f"{len(row)} fields where the header (line {header_line}) names {len(names)} "
                                   f"({separator_name(separator)})", number)
    columns = _named_columns(names, split, path, header_line)
    return Table(columns), np.array([number for number, _ in rows], dtype=np.int64), separator


def _split(line: str, separator: str | None, path: Path, number: int) -> list[str]:
    """The cells of one line, as written (a galaxy name's surrounding spaces are kept, to be judged)."""
    if separator is None:
        return line.split()
    if '"' not in line:  # no quoting: what the csv module would make of it
        return line.split(separator)
    try:
        (cells,) = csv.reader([line], delimiter=separator, strict=True)
    except csv.Error as exc:
        raise ParseError(path, f"not a {separator_name(separator)} line: {exc}", number) from None
    return cells


def separator_name(separator: str | None) -> str:
    """How a separator is named in messages: ``semicolon-separated``, …"""
    return {";": "semicolon-separated", ",": "comma-separated", None: "whitespace-separated"}[separator]


def _named_columns(names: list[str], rows: list[list[str]], path: Path, header_line: int) -> dict[str, np.ndarray]:
    """Column name → its cells; a column with no name is dropped if it is empty (a trailing separator)."""
    columns: dict[str, np.ndarray] = {}
    for j, name in enumerate(name.strip() for name in names):
        cells = np.array([row[j] for row in rows], dtype=str)
        if not name:
            if (np.char.strip(cells) == "").all():
                continue
            raise ParseError(path, f"column {j + 1} of the header has no name", header_line)
        if name in columns:
            raise ParseError(path, f"the header names the column {name!r} twice", header_line)
        columns[name] = cells
    return columns


def _is_number(cell: str) -> bool:
    """Whether a cell is a finite number (a header names columns with none)."""
    number = read_cell(cell)
    return number is not None and bool(np.isfinite(number.value))
