"""A user's table file in whichever shape it comes, read into one :class:`Source` (an astropy table and its origin).

The shape is found from the file itself, with no format option:

- a folder: its SPARC mass-model files ``<Galaxy>_rotmod.dat`` (:mod:`~sigcube.io.ingest.rotmod`);
- one such file (named so, or opening with ``# Distance = D Mpc``);
- a CDS machine-readable table: SPARC's Table 1 (:mod:`~sigcube.io.ingest.sparc_table1`), any other through
  astropy's ``ascii.cds`` reader;
- SPARC's bulge luminosities (``Bulges.dat``: ``#`` lines, the last naming ``Galaxy Lbul``, then a galaxy and its
  L_bul per line; :mod:`~sigcube.io.ingest.sparc_bulges`);
- ECSV (its ``# %ECSV`` line), FITS, VOTable, HDF5, …: ``astropy.table`` (with units);
- anything else (``.csv``, ``.txt``, ``.dat``, no extension): delimited text (:mod:`~sigcube.io.ingest.delimited`).

SPARC's files give sigcube's column names and units themselves (a "fixed" source); the others their own names,
mapped by the caller, with units from the file or the user.
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.table import Table

from sigcube.errors import DataSourceError, ParseError
from sigcube.io.ingest.cell_numbers import MARK_NAMES, POINT, Convention, settle_mark, shown_marks
from sigcube.io.ingest.delimited import read_delimited, separator_name
from sigcube.io.ingest.rotmod import NAMES, ROTMOD_SUFFIX, is_rotmod, opens_like_rotmod, read_rotmod, rotmod_files
from sigcube.io.ingest.sparc_bulges import declares_bulges, read_bulge_rows
from sigcube.io.ingest.sparc_table1 import declares_table1, read_table1
from sigcube.io.ingest.text import head_text, read_bytes
from sigcube.io.layouts import CURVE_VARIABLES, GEOMETRY_VARIABLES, MASS_VARIABLES

DELIMITED_SUFFIXES = frozenset({".csv", ".txt", ".dat", ".tsv", ".tab", ""})
"""File extensions read as delimited text (unless the file says it is ECSV, a CDS table or a rotmod file)."""
_HEAD = 8192
"""Bytes of a file read to recognise its shape."""
SHOWN = 5
"""Names listed in a message before "and N more"."""


class IngestWarning(UserWarning):
    """Something an ingest let through, said (e.g. files of a folder it skipped, galaxies missing from one table)."""


class IngestNote(IngestWarning):
    """Something an ingest did as it should that the user may not expect, said (e.g. rows of a per-galaxy table
    without a curve, skipped)."""


@dataclass(frozen=True)
class Source:
    """One table read from a file (or a folder of rotmod files): its rows, where each came from, its files' hashes."""

    path: Path
    table: Table
    shape: str
    """What the file was read as, in words (recorded in the cube's provenance)."""
    files: dict[str, str]
    """sha256 of every file read, by name."""
    fixed: bool = False
    """The format gives sigcube's column names and units (SPARC's files): nothing to map."""
    separator: str | None = ","
    """The separator of delimited text (None: whitespace)."""
    convention: Convention = POINT
    """How the text cells write numbers: the decimal mark (delimited text; a point for other formats)."""
    lines: np.ndarray | None = None
    """The file line of each row (delimited text)."""
    row_files: np.ndarray | None = None
    """The file of each row (a folder of rotmod files)."""

    @property
    def delimited(self) -> bool:
        """Whether the table was read as delimited text (whose decimal mark ``--decimal`` gives)."""
        return self.lines is not None and not self.fixed

    def where(self, row: int) -> str:
        """Where row ``row`` (0-based) is: ``line 12``, ``NGC3198_rotmod.dat`` or ``row 11``."""
        if self.row_files is not None:
            return str(self.row_files[row])
        return f"line {self.lines[row]}" if self.lines is not None else f"row {row + 1}"

    def rows(self, index: np.ndarray, limit: int = 3) -> str:
        """Where the rows ``index`` (0-based, increasing) are, in few words: ``lines 2–11, 15``."""
        if self.row_files is not None:
            files = list(dict.fromkeys(str(f) for f in self.row_files[index]))
            return ", ".join(files[:limit]) + (", …" if len(files) > limit else "")
        numbers = self.lines[index] if self.lines is not None else np.asarray(index) + 1
        breaks = np.flatnonzero(np.diff(numbers) != 1) + 1
        runs = [(int(run[0]), int(run[-1])) for run in np.split(numbers, breaks)]
        text = ", ".join(f"{a}–{b}" if b > a else f"{a}" for a, b in runs[:limit])
        text += ", …" if len(runs) > limit else ""
        plural = "s" if len(numbers) > 1 else ""
        return f"{'line' if self.lines is not None else 'row'}{plural} {text}"


def read_source(path: Path | str, fmt: str | None = None, encoding: str | None = None,
                decimal: str | None = None) -> Source:
    """Read the table at ``path`` in the shape it has (``fmt``: an astropy format name, which skips the search;
    ``decimal``: the decimal mark of delimited text's numbers, ``.`` or ``,``, else found from its cells)."""
    path = Path(path)
    if path.is_dir():
        if fmt is not None:
            raise ParseError(path, "--format names the format of a table file; a folder is read as SPARC "
                                   "mass-model files")
        return _rotmod_source(path, *rotmod_files(path), encoding=encoding)
    if not path.is_file():
        raise DataSourceError(f"{path}: no such file or folder")
    if fmt is not None:
        return _astropy_source(path, fmt)
    if is_rotmod(path):
        return _rotmod_source(path, [path], encoding=encoding)
    head = head_text(read_bytes(path)[:_HEAD])
    if "Byte-by-byte Description" in head:
        return _table1_source(path) if declares_table1(path) else _astropy_source(path, "ascii.cds")
    if head.startswith("# %ECSV"):
        return _astropy_source(path, "ascii.ecsv")
    if declares_bulges(head):
        return _bulges_source(path, encoding)
    if path.suffix.lower() in DELIMITED_SUFFIXES:
        table, lines, separator = read_delimited(path, encoding)
        shown = shown_marks([table[name] for name in table.colnames])
        convention = Convention(decimal or settle_mark(shown), decimal is not None, frozenset(shown))
        return Source(path, table, f"{separator_name(separator)} text{_mark_words(convention)}", _sha256(path),
                      separator=separator, convention=convention, lines=lines)
    return _astropy_source(path, None)


def _mark_words(convention: Convention) -> str:
    """The decimal mark of delimited text, in words for its shape: ``, decimal comma (given)``."""
    if convention.mark is None:
        return ""
    return f", decimal {MARK_NAMES[convention.mark]}{' (given)' if convention.given else ''}"


def _sha256(*paths: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(read_bytes(p)).hexdigest() for p in paths}


def _astropy_source(path: Path, fmt: str | None) -> Source:
    """``path`` read by ``astropy.table.Table.read`` (``fmt`` as astropy names formats, else guessed)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unparsable units are reported per column by the reader of the columns
            table = Table.read(path, format=fmt)
    except Exception as exc:  # astropy raises many types for unreadable files
        raise ParseError(path, f"astropy cannot read it as a table ({type(exc).__name__}: {' '.join(str(exc).split())})"
                         " — give --format (e.g. ascii.csv, ascii.ecsv, fits)") from None
    if len(table) == 0:
        raise ParseError(path, "the table has no rows")
    return Source(path, table, f"astropy.table ({fmt or 'format guessed'})", _sha256(path))


def _rotmod_source(path: Path, files: list[Path], others: list[str] | None = None,
                   encoding: str | None = None) -> Source:
    """SPARC mass-model files as one table: a row per point, the galaxy named by its file, distance per galaxy;
    the ``others`` entries of a folder, skipped, are said in an :class:`IngestWarning`."""
    curves = [read_rotmod(f, encoding, "--encoding") for f in files]
    if others:
        _warn_skipped(path, len(files), others)
    counts = [len(c.r) for c in curves]
    table = Table({"galaxy": np.repeat([c.name for c in curves], counts),
                   **{name: np.concatenate([getattr(c, name) for c in curves]) for name in NAMES},
                   "distance": np.repeat([c.distance_mpc for c in curves], counts)})
    for name in (*NAMES, "distance"):
        table[name].unit = {**CURVE_VARIABLES, **GEOMETRY_VARIABLES}[name].units
    shape = f"SPARC mass models ({len(files)} <Galaxy>_rotmod.dat file{'s' if len(files) > 1 else ''})"
    return Source(path, table, shape, _sha256(*files), fixed=True,
                  row_files=np.repeat([f.name for f in files], counts))


def _table1_source(path: Path) -> Source:
    """SPARC's Table 1 (galaxy properties) as a table with sigcube's names and units, a row per galaxy."""
    table1 = read_table1(path)
    table = Table({"galaxy": table1.galaxy, **table1.columns})
    for name, unit in table1.units.items():
        table[name].unit = unit or None
    return Source(path, table, "SPARC Table 1 (CDS machine-readable)", _sha256(path), fixed=True)


def _bulges_source(path: Path, encoding: str | None) -> Source:
    """SPARC's bulge luminosities as a table with sigcube's names and units, a row per galaxy."""
    rows = read_bulge_rows(path, encoding, "--encoding")
    table = Table({"galaxy": [row.galaxy for row in rows], "L_bul": [row.L_bul for row in rows]})
    table["L_bul"].unit = MASS_VARIABLES["L_bul"].units
    return Source(path, table, "SPARC bulge luminosities (Galaxy Lbul)", _sha256(path), fixed=True,
                  lines=np.array([row.line for row in rows]))


def listed(names: list[str]) -> str:
    """The first :data:`SHOWN` of ``names`` for a message: ``A, B, C, D, E and 3 more``."""
    return ", ".join(names[:SHOWN]) + (f" and {len(names) - SHOWN} more" if len(names) > SHOWN else "")


def _warn_skipped(folder: Path, n_files: int, others: list[str]) -> None:
    """Say which entries of a folder of rotmod files were skipped (and which of them open like a rotmod file)."""
    like = [name for name in others if opens_like_rotmod(folder / name)]
    hint = (f"; {like[0]} opens like a rotmod file: name it {Path(like[0]).stem}{ROTMOD_SUFFIX} to read it"
            if like else "")
    warnings.warn(f"{folder}: read {n_files} <Galaxy>{ROTMOD_SUFFIX} file{'s' if n_files > 1 else ''}, skipped "
                  f"{len(others)} other entr{'ies' if len(others) > 1 else 'y'} of the folder: {listed(others)}{hint}",
                  IngestWarning, stacklevel=4)
