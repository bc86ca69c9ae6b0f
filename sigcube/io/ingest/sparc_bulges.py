"""Reader of SPARC's bulge luminosities (``Bulges.mrt``; the mirror's ``sparc/Bulges.dat``).

Layout: ``#`` comment lines (the file's own caution: SPARC's bulge–disk decompositions are non-parametric and the
bulges extrapolated linearly outwards, so the total bulge luminosities are approximate), the last of them naming the
columns (``# Galaxy  Lbul (10^9 Lsun)``), then one row per galaxy of two whitespace-separated fields: the name and
L_bul, the bulge's 3.6 μm luminosity [10⁹ L☉] (0 without a bulge).
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from sigcube.errors import ParseError
from sigcube.io.ingest.bounds import BOUNDS
from sigcube.io.ingest.text import parse_number, read_text_lines

HEADER = ("Galaxy", "Lbul")
"""The first words of the ``#`` line that names the file's columns."""


class BulgeRow(NamedTuple):
    """One galaxy's row: its name, L_bul [10⁹ L☉] and the file line it is on."""

    galaxy: str
    L_bul: float
    line: int


def read_bulge_rows(path: Path | str, encoding: str | None = None, option: str | None = None) -> list[BulgeRow]:
    """The rows of a bulge file, in file order (UTF-8 or as its byte-order mark says, or in ``encoding``; ``option``:
    the option that gives it, named in messages). Raises ParseError (naming file and line) on a malformed row, a value
    outside its bounds (:data:`~sigcube.io.ingest.bounds.BOUNDS`), a galaxy listed twice, or a file without rows;
    DataSourceError if it cannot be read."""
    path = Path(path)
    rows: list[BulgeRow] = []
    seen: set[str] = set()
    for number, text in enumerate(read_text_lines(path, encoding, option), start=1):
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        tokens = text.split()
        if len(tokens) != 2:
            raise ParseError(path, f"expected 2 fields (Galaxy Lbul), found {len(tokens)}", number)
        name, value = tokens[0], parse_number(tokens[1], "Lbul", path, number)
        if BOUNDS["L_bul"].outside(value):
            raise ParseError(path, f"column Lbul: {BOUNDS['L_bul'].problem(value)}", number)
        if name in seen:
            raise ParseError(path, f"galaxy {name} is listed twice", number)
        seen.add(name)
        rows.append(BulgeRow(name, value, number))
    if not rows:
        raise ParseError(path, "no data rows", 1)
    return rows


def read_bulges(path: Path | str) -> dict[str, float]:
    """L_bul [10⁹ L☉] by galaxy name (:func:`read_bulge_rows`, which names what it refuses)."""
    return {row.galaxy: row.L_bul for row in read_bulge_rows(path)}


def declares_bulges(head: str) -> bool:
    """Whether a text file opening with ``head`` is laid out as SPARC's bulge file: ``#`` lines (and blank ones) above
    its first row, the last of them naming the columns ``Galaxy``, ``Lbul`` first."""
    names = None
    for text in head.splitlines():
        if text.lstrip().startswith("#"):
            names = text.lstrip().lstrip("#").split()[:len(HEADER)]
        elif text.strip():
            break
    return names is not None and tuple(names) == HEADER
