"""Plain-text helpers shared by the readers: decoding (byte-order marks), lines of a text file, number tokens and
CSV rows.

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


def distinct(a: float, b: float) -> tuple[str, str]:
    """Two numbers written with as many significant digits as it takes to tell them apart (``%g``'s six at least):
    12.5000001 and 12.5, not 12.5 and 12.5."""
    for digits in range(6, 18):
        first, second = f"{a:.{digits}g}", f"{b:.{digits}g}"
        if first != second:
            break
    return first, second


def read_bytes(path: Path | str) -> bytes:
    """The bytes of a file; DataSourceError if it cannot be read."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise DataSourceError(f"{path}: cannot read the file: {exc.strerror or exc}") from exc


BYTE_ORDER_MARKS = (  # UTF-32 LE first: its mark begins with UTF-16 LE's
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32 LE"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32 BE"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16 LE"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16 BE"),
)
"""The byte-order marks a text file may open with: (bytes, Python codec, name in messages)."""
_READERS_OF_MARK = {"utf-32-le": ("utf-32-le", "utf-32"), "utf-32-be": ("utf-32-be", "utf-32"),
                    "utf-8": ("utf-8", "utf-8-sig"), "utf-16-le": ("utf-16-le", "utf-16"),
                    "utf-16-be": ("utf-16-be", "utf-16")}
"""The encodings (as :func:`codecs.lookup` names them) a user may give for a file with each mark."""


def byte_order_mark(data: bytes) -> tuple[bytes, str, str] | None:
    """The byte-order mark ``data`` opens with (its bytes, codec and name), or None."""
    return next((mark for mark in BYTE_ORDER_MARKS if data.startswith(mark[0])), None)


def _utf16_without_mark(data: bytes) -> str | None:
    """``utf-16-le`` or ``utf-16-be`` if ``data`` looks like UTF-16 text with no byte-order mark (a NUL byte beside
    most characters of its first kilobyte, as ASCII text in UTF-16 has), else None."""
    head = data[:1024]
    for codec, zeros in (("utf-16-le", head[1::2]), ("utf-16-be", head[0::2])):
        if len(zeros) >= 2 and zeros.count(0) >= 0.75 * len(zeros):
            return codec
    return None


def head_text(data: bytes) -> str:
    """The text of the first bytes of a file, for recognising its shape: decoded as its byte-order mark says (else
    UTF-8), undecodable bytes replaced."""
    mark = byte_order_mark(data)
    return data[len(mark[0]) if mark else 0:].decode(mark[1] if mark else "utf-8", errors="replace")


def decode_text(data: bytes, path: Path | str, encoding: str | None = None, option: str | None = None) -> str:
    """The text of a file's bytes: as its byte-order mark says (UTF-8, UTF-16 or UTF-32, LE or BE; the mark
    dropped), else UTF-8, or ``encoding`` if given.

    Bytes that are not text in the encoding are a ParseError naming the first one and its line, as is an
    ``encoding`` that contradicts the file's byte-order mark. With ``option`` (e.g. ``--encoding``: the file is a
    user's) a UTF-8 failure also names the encoding the file is likely in (Latin-1, or Windows-1252 if it has bytes
    0x80–0x9f, which Latin-1 leaves unprinted; UTF-16 if every other byte is NUL) and how to read it in that
    encoding, and a NUL character in the text is refused (a text file has none).
    """
    codec = "utf-8"
    if encoding is not None:
        try:
            codec = codecs.lookup(encoding).name
        except LookupError:
            raise ParseError(path, f"{option or 'encoding'} {encoding!r}: Python knows no such text encoding "
                                   "(e.g. utf-8, latin-1, cp1252)") from None
    mark = byte_order_mark(data)
    start = 0
    if mark is not None:
        bom, mark_codec, mark_name = mark
        if encoding is not None and codec not in _READERS_OF_MARK[mark_codec]:
            raise ParseError(path, f"the file opens with a {mark_name} byte-order mark, so it is {mark_name} text, "
                                   f"not {encoding}: leave out {option or 'the encoding'}", 1)
        codec, start = mark_codec, len(bom)
    try:
        text = data[start:].decode(codec)
    except UnicodeDecodeError as exc:
        line = _line_of(data[start: start + exc.start].decode(codec))
        name = mark[2] if mark else "UTF-8" if encoding is None else encoding
        problem = (f"the file ends inside a {name} character (truncated)" if exc.reason == "truncated data" else
                   f"byte {data[start + exc.start]:#04x} is not valid {name} text")
        if mark is not None and exc.reason != "truncated data":
            problem += f" (the file opens with a {mark[2]} byte-order mark)"
        elif encoding is None and option:
            problem += "; " + _likely_encoding(data, option)
        raise ParseError(path, problem, line) from None
    text = text.removeprefix("\ufeff")
    if option is not None and "\x00" in text:
        line = _line_of(text[: text.index("\x00")])
        hint = "" if mark is not None or encoding is not None else "; " + _likely_encoding(data, option)
        raise ParseError(path, f"the text holds a NUL character, which no text table has{hint}", line)
    return text


def _line_of(before: str) -> int:
    """The line (1-based) of the character after ``before``, lines ending in LF, CRLF or CR."""
    return before.count("\n") + before.count("\r") - before.count("\r\n") + 1


def _likely_encoding(data: bytes, option: str) -> str:
    """Which encoding a user's file that is not UTF-8 is likely in, and the ``option`` that reads it so."""
    if (utf16 := _utf16_without_mark(data)) is not None:
        return f"the file looks like UTF-16 {utf16[-2:].upper()} text without a byte-order mark: read it with " \
               f"{option} {utf16}"
    likely = "cp1252" if any(0x80 <= b <= 0x9F for b in data) else "latin-1"
    return (f"if the file is {'Windows-1252' if likely == 'cp1252' else 'Latin-1 (ISO-8859-1)'}, as a spreadsheet "
            f"may write it, read it with {option} {likely}")


def read_text_lines(path: Path | str, encoding: str | None = None, option: str | None = None) -> list[str]:
    """Return the lines of a text file, UTF-8 or as its byte-order mark says, or in ``encoding`` (no line ends —
    LF, CRLF or CR —, no byte-order mark; ``option``: see :func:`decode_text`).

    Raises DataSourceError if the file cannot be read, ParseError on bytes that are not text in that encoding.
    """
    text = decode_text(read_bytes(path), path, encoding, option)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


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
