"""Plain-text helpers shared by the readers: decoding, lines of a UTF-8 file, number tokens and CSV rows.

Every failure is a ParseError naming the file and line (or a DataSourceError if the file cannot be
read at all).
"""

from __future__ import annotations

import codecs
import math
import re
from pathlib import Path

from sigcube.errors import DataSourceError, ParseError

NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
NONFINITE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.IGNORECASE)


def parse_number(token: str, column: str, path: Path | str, line: int) -> float:
    """Parse an ASCII decimal number token, raising ParseError if it is not a finite number."""
    if NONFINITE.fullmatch(token):
        raise ParseError(path, f"column {column}: {token!r} is not a finite number", line)
    if not NUMBER.fullmatch(token):
        raise ParseError(path, f"column {column}: {token!r} is not a number", line)
    value = float(token)
    if not math.isfinite(value):
        raise ParseError(path, f"column {column}: {token!r} overflows to infinity", line)
    return value


def read_bytes(path: Path | str) -> bytes:
    """The bytes of a file; DataSourceError if it cannot be read."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise DataSourceError(f"{path}: cannot read the file: {exc.strerror or exc}") from exc


def decode_text(data: bytes, path: Path | str, encoding: str | None = None, option: str | None = None) -> str:
    """The text of a file's bytes: UTF-8 (a leading byte-order mark dropped), or ``encoding`` if given.

    Bytes that are not text in the encoding are a ParseError naming the first one and its line; with ``option``
    (e.g. ``--encoding``) a UTF-8 failure also names the single-byte encoding the file is likely in (Latin-1, or
    Windows-1252 if it has bytes 0x80–0x9f, which Latin-1 leaves unprinted) and how to read it in that encoding.
    """
    name = "utf-8" if encoding is None else encoding
    try:
        codecs.lookup(name)
    except LookupError:
        raise ParseError(path, f"{option or 'encoding'} {encoding!r}: Python knows no such text encoding "
                               "(e.g. utf-8, latin-1, cp1252)") from None
    try:
        text = data.decode(name)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problem = f"byte {data[exc.start]:#04x} is not valid {'UTF-8' if encoding is None else encoding} text"
        if encoding is None and option:
            likely = "cp1252" if any(0x80 <= b <= 0x9F for b in data) else "latin-1"
            problem += (f"; if the file is {'Windows-1252' if likely == 'cp1252' else 'Latin-1 (ISO-8859-1)'}, "
                        f"as a spreadsheet may write it, read it with {option} {likely}")
        raise ParseError(path, problem, line) from None
    return text.removeprefix("\ufeff")


def read_text_lines(path: Path | str) -> list[str]:
    """Return the lines of a UTF-8 text file (no line ends, no byte-order mark).

    Raises DataSourceError if the file cannot be read, ParseError on bytes that are not UTF-8.
    """
    lines = decode_text(read_bytes(path), path).split("\n")
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
