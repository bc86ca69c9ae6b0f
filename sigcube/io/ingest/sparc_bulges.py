"""Reader of SPARC's bulge luminosities (``Bulges.mrt``; the mirror's ``sparc/Bulges.dat``).

Layout: ``#`` comment lines (the file's own caution: SPARC's bulge–disk decompositions are non-parametric and the
bulges extrapolated linearly outwards, so the total bulge luminosities are approximate), then one row per galaxy of
two whitespace-separated fields: the name and L_bul, the bulge's 3.6 μm luminosity [10⁹ L☉] (0 without a bulge).
"""

from __future__ import annotations

from pathlib import Path

from sigcube.errors import ParseError
from sigcube.io.ingest.bounds import BOUNDS
from sigcube.io.ingest.text import parse_number, read_text_lines


def read_bulges(path: Path | str) -> dict[str, float]:
    """L_bul [10⁹ L☉] by galaxy name. Raises ParseError (naming file and line) on a malformed row, a value outside
    its bounds (:data:`~sigcube.io.ingest.bounds.BOUNDS`), a galaxy listed twice, or a file without rows;
    DataSourceError if it cannot be read."""
    path = Path(path)
    out: dict[str, float] = {}
    for number, text in enumerate(read_text_lines(path), start=1):
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        tokens = text.split()
        if len(tokens) != 2:
            raise ParseError(path, f"expected 2 fields (Galaxy Lbul), found {len(tokens)}", number)
        name, value = tokens[0], parse_number(tokens[1], "Lbul", path, number)
        if BOUNDS["L_bul"].outside(value):
            raise ParseError(path, f"column Lbul: {BOUNDS['L_bul'].problem(value)}", number)
        if name in out:
            raise ParseError(path, f"galaxy {name} is listed twice", number)
        out[name] = value
    if not out:
        raise ParseError(path, "no data rows", 1)
    return out
