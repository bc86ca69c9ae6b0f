"""Numbers in the text cells of a delimited table: decimal marks, thousands separators and missing values.

A cell is read as one of:

- missing: empty, ``nan``, ``na``, ``n/a`` (any case) → NaN; ``inf``, ``-Infinity`` → ±inf;
- a plain number: digits with at most one decimal mark, ``.`` or ``,``, and an exponent (``0.32``, ``0,32``,
  ``-1.5e3``, ``12``);
- a grouped number: a first group of one to three digits, then groups of three after a thousands separator — ``.``,
  ``,``, a space (no-break and narrow ones too) or ``'`` — and a decimal part after the other mark (``1.234,5``,
  ``1,234.5``, ``1.234.567``, ``1 234,5``). It has one reading only, and is read so;
- ambiguous: one group of three digits after one dot or comma, and nothing else (``31.200``, ``31,200``): 31.2 with a
  decimal mark, 31200 with a thousands separator.

The file's decimal mark settles an ambiguous cell: the one the user gives (``--decimal``), else the one the file's
other numbers show (a plain number whose mark cannot be a thousands separator, ``0.32``, ``12,5``, or a grouped
number) — never a default: a comma-separated file may hold ``1.001`` meaning 1001. An ambiguous cell is read with
its mark as the decimal mark when that is the file's. It is read with its mark as a thousands separator only
when ``--decimal`` says so (a cell written ``2.500`` in a file of decimal commas may be 2.5 from another program),
and refused otherwise, naming both readings — as it is when the file's numbers show both marks, or neither. A cell
whose decimal mark contradicts ``--decimal`` is refused.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np

MISSING = ("", "nan", "na", "n/a")
"""Cells read as a missing value (NaN), compared in lower case."""
MARK_NAMES = {".": "point", ",": "comma"}
"""The decimal marks, as messages name them."""

_EXPONENT = r"(?:[eE][+-]?[0-9]+)?"
_PLAIN = {mark: re.compile(rf"[+-]?(?:[0-9]+(?:{re.escape(mark)}[0-9]*)?|{re.escape(mark)}[0-9]+){_EXPONENT}")
          for mark in MARK_NAMES}
_NONFINITE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.IGNORECASE)
_AMBIGUOUS = re.compile(r"[+-]?[1-9][0-9]{0,2}[.,][0-9]{3}")
_GROUPED = re.compile(r"[+-]?[1-9][0-9]{0,2}(?P<sep>[., \u00a0\u202f'])[0-9]{3}(?:(?P=sep)[0-9]{3})*"
                      r"(?:(?P<decimal>[.,])[0-9]*)?")


class Cell(NamedTuple):
    """A cell that is a number."""

    value: float
    """Its value, its mark read as a decimal mark (its only reading, unless ``grouped`` is set)."""
    mark: str | None
    """The decimal mark it shows (``.`` or ``,``), None if none (an integer, a grouped number with no decimal part
    and space separators, a missing value)."""
    grouped: float | None = None
    """An ambiguous cell's value with its mark read as a thousands separator (None for any other cell)."""


def read_cell(text: str) -> Cell | None:
    """The number a cell holds (see the module's rules), None if it is not a number."""
    cell = text.strip()
    if cell.lower() in MISSING:
        return Cell(np.nan, None)
    if _NONFINITE.fullmatch(cell):
        return Cell(float(cell), None)
    if _AMBIGUOUS.fullmatch(cell):
        mark = "." if "." in cell else ","
        return Cell(float(cell.replace(",", ".")), mark, float(cell.replace(mark, "")))
    for mark, pattern in _PLAIN.items():
        if pattern.fullmatch(cell):
            return Cell(float(cell.replace(",", ".")), mark if mark in cell else None)
    grouped = _GROUPED.fullmatch(cell)
    if grouped is None or grouped["sep"] == grouped["decimal"]:
        return None
    sep, decimal = grouped["sep"], grouped["decimal"]
    shown = decimal or {".": ",", ",": "."}.get(sep)
    digits = cell.replace(sep, "")
    return Cell(float(digits.replace(",", ".") if decimal else digits), shown)


def shown_marks(columns: list[np.ndarray]) -> set[str]:
    """The decimal marks the number cells of ``columns`` show (text cells and ambiguous cells show none)."""
    cells = [np.unique(np.asarray(column, dtype=str)) for column in columns]
    return {mark for mark in MARK_NAMES if any(_shows(text, mark) for text in cells)}


def _shows(text: np.ndarray, mark: str) -> bool:
    """Whether a cell of ``text`` shows ``mark`` as its decimal mark (only cells holding it, or holding the other
    mark twice, as ``1.234.567`` does, are read)."""
    other = "," if mark == "." else "."
    candidates = text[(np.char.find(text, mark) >= 0) | (np.char.count(text, other) > 1)]
    return any((cell := read_cell(str(raw))) is not None and cell.grouped is None and cell.mark == mark
               for raw in candidates)


def settle_mark(shown: set[str]) -> str | None:
    """A file's decimal mark from the marks its numbers show: the one shown; None if they show both, or none."""
    return next(iter(shown)) if len(shown) == 1 else None


class Convention(NamedTuple):
    """How a file writes its numbers: its decimal mark (None if unsettled), whether the user gave it, the marks its
    numbers show, and the option that gives it (named in messages)."""

    mark: str | None
    given: bool = False
    shown: frozenset[str] = frozenset()
    option: str = "--decimal"


POINT = Convention(".")
"""Numbers with a decimal point (a table whose format says so)."""


def parse_cells(cells: np.ndarray, convention: Convention) -> tuple[np.ndarray, int | None, str | None]:
    """The numbers of text cells (NaN where :data:`MISSING`, ±inf for ``inf``), with the index of the first cell that
    is not read and why (``'x' is not a number``), or (values, None, None) if all are."""
    text = np.char.strip(np.asarray(cells, dtype=str))
    values = _plain(text, convention.mark)
    if values is not None:
        return values, None, None
    unique, inverse = np.unique(text, return_inverse=True)
    read = np.empty(len(unique))
    problems: dict[int, str] = {}
    for k, raw in enumerate(map(str, unique)):
        cell = read_cell(raw)
        read[k], problem = (np.nan, f"{raw!r} is not a number") if cell is None else _resolve(raw, cell, convention)
        if problem is not None:
            problems[k] = problem
    if problems:
        first = int(np.flatnonzero(np.isin(inverse, list(problems)))[0])
        return read[inverse], first, problems[int(inverse[first])]
    return read[inverse], None, None


def _plain(text: np.ndarray, mark: str | None) -> np.ndarray | None:
    """Cells parsed at once by numpy when none has a thousands separator or a mark other than the file's decimal
    mark (``mark``, a comma turned into a point), so that every reading is the only one; None otherwise, or if a cell
    is not a number."""
    joined = "".join(text)
    blocked = "_ '" + {".": ",", ",": ".", None: ".,"}[mark]
    if not joined.isascii() or any(c in joined for c in blocked):
        return None
    plain = np.char.replace(text, ",", ".") if mark == "," else text
    try:  # numpy's float parsing accepts what read_cell accepts here, and reads it as read_cell does
        return np.where(np.isin(np.char.lower(plain), MISSING), "nan", plain).astype(float)
    except ValueError:
        return None


def _resolve(raw: str, cell: Cell, convention: Convention) -> tuple[float, str | None]:
    """A cell's value under the file's convention, or why it cannot be read."""
    mark, option = convention.mark, convention.option
    if convention.given and cell.mark is not None and cell.mark != mark and cell.grouped is None:
        return np.nan, (f"{raw!r} has a decimal {MARK_NAMES[cell.mark]}, but {option} {mark} says the decimal mark "
                        f"is a {MARK_NAMES[mark]}")
    if cell.grouped is None or cell.mark == mark:
        return cell.value, None
    if convention.given:
        return cell.grouped, None
    readings = (f"{raw!r} is {cell.value:.15g} with a decimal {MARK_NAMES[cell.mark]}, or {cell.grouped:.15g} with "
                f"a thousands separator")
    if mark is None:
        which = ("show both marks as decimal marks" if len(convention.shown) == 2 else
                 "do not show which mark is its decimal mark")
        return np.nan, (f"{readings}, and the file's other numbers {which}: give {option} . or {option} , (the file's "
                        "decimal mark)")
    written = f"{cell.value:.15g}".replace(".", mark)
    return np.nan, (f"{readings}; the file's other numbers have a decimal {MARK_NAMES[mark]}, which makes this "
                    f"{MARK_NAMES[cell.mark]} a thousands separator, unless another program wrote the cell with "
                    f"three decimals: give {option} {mark} if it is {cell.grouped:.15g}, or write it {written!r}")
