"""Plain-text helpers shared by the readers: lines of a UTF-8 file, number tokens and CSV rows.

Every failure is a ParseError naming the file and line (or a DataSourceError if the file cannot be
read at all).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from sigcube.errors import DataSourceError, ParseError

_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NONFINITE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.IGNORECASE)


def parse_number(token: str, column: str, path: Path | str, line: int) -> float:
    """Parse an ASCII decimal number token, raising ParseError if it is not a finite number."""
    if _NONFINITE.fullmatch(token):
        raise ParseError(path, f"column {column}: {token!r} is not a finite number", line)
    if not _NUMBER.fullmatch(token):
        raise ParseError(path, f"column {column}: {token!r} is not a number", line)
    value = float(token)
    if not math.isfinite(value):
        raise ParseError(path, f"column {column}: {token!r} overflows to infinity", line)
    return value


def read_text_lines(path: Path | str) -> list[str]:
    """Return the lines of a UTF-8 text file (no line ends).

    Raises DataSourceError if the file cannot be read, ParseError on bytes that are not UTF-8.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise DataSourceError(f"{path}: cannot read the file: {exc.strerror or exc}") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ParseError(path, f"byte {data[exc.start]:#04x} is not valid UTF-8 text", line) from None
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def parse_cell(token: str, column: str, path: Path, line: int, allow_nan: bool = False) -> float:
    """A numeric CSV cell; ``NaN`` (missing) only where ``allow_nan``, ParseError otherwise."""
    token = token.strip()
    if allow_nan and token.lower() == "nan":
        return math.nan
    return parse_number(token, column, path, line)


def csv_rows(path: Path, header: tuple[str, ...] | None, n_columns: int | None = None) -> list[tuple[int, list[str]]]:
    """(line number, cells) of every non-blank data line of a comma-separated file without quoting.

    With ``header`` the first line must list exactly those names; every row must have as many
    cells as the header (or ``n_columns``). Raises ParseError naming the file and line.
    """
    lines = read_text_lines(path)
    start = 0
    if header is not None:
        found = lines[0].lstrip("\ufeff").split(",") if lines else []
        if [c.strip() for c in found] != list(header):
            raise ParseError(path, f"header {','.join(found)!r} is not the expected {','.join(header)!r}", 1)
        start, n_columns = 1, len(header)
    rows = []
    for number, text in enumerate(lines[start:], start=start + 1):
        if not text.strip():
            continue
        cells = text.split(",")
        if n_columns is not None and len(cells) != n_columns:
            raise ParseError(path, f"expected {n_columns} comma-separated fields, found {len(cells)}", number)
        rows.append((number, cells))
    if not rows:
        raise ParseError(path, "no data rows (empty or truncated file)", max(len(lines), 1))
    return rows


def whitespace_rows(path: Path, columns: tuple[str, ...]) -> list[tuple[int, list[str]]]:
    """(1-based line number, tokens) of every non-blank line, each with exactly ``len(columns)`` tokens.

    An empty file is a ParseError, as is a line with another token count (naming the columns).
    """
    rows = []
    for number, text in enumerate(read_text_lines(path), start=1):
        if not text.strip():
            continue
        tokens = text.split()
        if len(tokens) != len(columns):
            raise ParseError(path, f"expected {len(columns)} columns ({' '.join(columns)}), found {len(tokens)}", number)
        rows.append((number, tokens))
    if not rows:
        raise ParseError(path, "no data rows (empty or truncated file)", 1)
    return rows
