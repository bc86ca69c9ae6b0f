"""A per-galaxy table (``sigcube ingest table … --galaxies FILE``), joined to rotation curves on the galaxy name.

The table comes in any shape :func:`~sigcube.io.ingest.table_files.read_source` reads — SPARC's Table 1 among them —
with a row per galaxy: its name (``galaxy``) and any of :data:`PER_GALAXY`: distance and inclination with their
errors (the nuisance priors' centres and widths), the 3.6 μm luminosity ``L36`` (SPARC's L[3.6]), ``R_disk``,
``M_HI`` and SPARC's ``quality`` flag (1, 2, 3). Every galaxy must be in both tables (a ParseError names those that
are not; with ``allow_missing`` a warning does: curves without a row keep NaN properties, rows without curves are
left out). A value both tables give must agree.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sigcube.errors import ParseError
from sigcube.io.ingest.table_columns import SPEC, Options, column_names, converted, raw_galaxy_names, refuse_twins
from sigcube.io.ingest.table_files import IngestWarning, Source, read_source
from sigcube.io.ingest.text import distinct
from sigcube.io.layouts import GEOMETRY_VARIABLES, MASS_VARIABLES

PER_GALAXY = (*GEOMETRY_VARIABLES, *MASS_VARIABLES, "quality")
"""The per-galaxy columns, by sigcube name: in a per-galaxy table, or repeated on every row of a curves table."""
OPTIONS = Options("--galaxy-columns", "--galaxy-units")
_SHOWN = 5
"""Galaxies named in a message before "and N more"."""


@dataclass(frozen=True)
class GalaxyTable:
    """A per-galaxy table read: its source, each row's name as written, and each column in the cube's units."""

    source: Source
    raw: np.ndarray
    values: dict[str, np.ndarray]
    columns: dict[str, str]
    """sigcube name → the table's column."""
    units: dict[str, str]
    """The units given for its columns (column → astropy unit string)."""


def read_galaxy_table(path: Path | str, columns: Mapping[str, str] | None = None,
                      units: Mapping[str, str] | None = None, encoding: str | None = None,
                      decimal: str | None = None) -> GalaxyTable:
    """Read a per-galaxy table; a ParseError names a missing or unusable column, a value outside its bounds, a
    galaxy with two rows, or names that differ only by case or surrounding whitespace."""
    source = read_source(path, None, encoding, decimal)
    units = dict(units or {})
    names = column_names(source, dict(columns or {}), units, ("galaxy", *PER_GALAXY), ("galaxy",), OPTIONS)
    if len(names) == 1:
        raise ParseError(source.path, f"the galaxies table gives none of {', '.join(PER_GALAXY)} (the table has "
                                      f"{', '.join(source.table.colnames)}; map yours with {OPTIONS.columns})")
    raw = raw_galaxy_names(source, names["galaxy"])
    refuse_twins([(source, raw)])
    unique, first, counts = np.unique(raw, return_index=True, return_counts=True)
    if (counts > 1).any():
        twice = unique[counts > 1][0]
        raise ParseError(source.path, f"galaxy {twice.strip()} has more than one row "
                                      f"({source.rows(np.flatnonzero(raw == twice))}); a per-galaxy table has one")
    values = {name: converted(source, col, name, units.get(col), raw, OPTIONS)
              for name, col in names.items() if name != "galaxy"}
    return GalaxyTable(source, raw, values, names, units)


def join_galaxies(table: GalaxyTable, curves: Source, curve_raw: np.ndarray, galaxies: np.ndarray,
                  per_galaxy: Mapping[str, np.ndarray], allow_missing: bool = False) -> dict[str, np.ndarray]:
    """``per_galaxy`` (one value per galaxy of ``galaxies``, from the curves) completed by ``table``'s values.

    ``curve_raw`` is the raw galaxy name of every row of ``curves``; ``galaxies`` are the cube's names (stripped).
    """
    refuse_twins([(curves, curve_raw), (table.source, table.raw)])
    names = np.char.strip(table.raw)
    row_of = {str(name): i for i, name in enumerate(names)}
    rows = np.array([row_of.get(str(g), -1) for g in galaxies], dtype=np.int64)
    _check_membership(table, galaxies, names, rows, allow_missing)
    found = rows >= 0
    joined = dict(per_galaxy)
    for name, values in table.values.items():
        given = np.full(len(galaxies), np.nan)
        given[found] = values[rows[found]]
        if name in joined:
            _check_agreement(table, curves, curve_raw, galaxies, name, joined[name], given, rows)
            joined[name] = np.where(np.isnan(joined[name]), given, joined[name])
        else:
            joined[name] = given
    return joined


def _listed(names: list[str]) -> str:
    return ", ".join(names[:_SHOWN]) + (f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else "")


def _check_membership(table: GalaxyTable, galaxies: np.ndarray, names: np.ndarray, rows: np.ndarray,
                      allow_missing: bool) -> None:
    """Refuse (or, with ``allow_missing``, warn of) galaxies in one table and not the other."""
    no_row = [str(g) for g in galaxies[rows < 0]]
    no_curve = sorted(set(map(str, names)) - set(map(str, galaxies)))
    problems = []
    if no_row:
        problems.append((f"{len(no_row)} galaxies of the curves have no row in it", "kept with no properties from it",
                         _listed(no_row)))
    if no_curve:
        problems.append((f"{len(no_curve)} of its galaxies have no curve", "skipped", _listed(no_curve)))
    if not problems:
        return
    if not allow_missing:
        raise ParseError(table.source.path, "; ".join(f"{what}: {which}" for what, _, which in problems)
                         + " — every galaxy needs its curve and its row (--allow-missing keeps curves without a row, "
                           "with no properties, and skips rows without a curve)")
    warnings.warn(f"{table.source.path}: " + "; ".join(f"{what} ({done}): {which}" for what, done, which in problems),
                  IngestWarning, stacklevel=3)


def _check_agreement(table: GalaxyTable, curves: Source, curve_raw: np.ndarray, galaxies: np.ndarray, name: str,
                     mine: np.ndarray, given: np.ndarray, rows: np.ndarray) -> None:
    """Refuse a per-galaxy value the curves and the table both give, with different values."""
    both = np.isfinite(mine) & np.isfinite(given)
    differ = np.flatnonzero(both & ~np.isclose(mine, given, rtol=1e-9, atol=0.0))
    if differ.size:
        i = differ[0]
        where = curves.rows(np.flatnonzero(np.char.strip(curve_raw) == galaxies[i]))
        if curves.row_files is None:  # rotmod files name themselves
            where = f"{curves.path.name}, {where}"
        unit = SPEC[name].units.replace(" / ", "/")
        theirs, here = distinct(mine[i], given[i])
        raise ParseError(table.source.path, f"galaxy {galaxies[i]}: {name} is {theirs} {unit} in the curves ({where}) "
                                            f"and {here} {unit} here ({table.source.where(rows[i])}); give it once, or "
                                            "the same in both"
                                            + ("; a rotmod file's velocities are computed at its header's distance"
                                               if curves.fixed and name == "distance" else ""))
