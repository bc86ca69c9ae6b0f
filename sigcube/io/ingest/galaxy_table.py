"""Per-galaxy tables (``sigcube ingest table … --galaxies FILE --bulges FILE``), joined to rotation curves on the
galaxy name.

A table comes in any shape :func:`~sigcube.io.ingest.table_files.read_source` reads — SPARC's Table 1 and SPARC's
bulge file among them — with a row per galaxy: its name (``galaxy``) and any of :data:`PER_GALAXY`: distance and
inclination with their errors (the nuisance priors' centres and widths), the 3.6 μm luminosity ``L36`` (SPARC's
L[3.6]), the bulge's ``L_bul``, ``R_disk``, ``M_HI`` and SPARC's ``quality`` flag (1, 2, 3); a bulge table gives
``L_bul`` alone. Rows without a curve are skipped (the user picked some of the table's galaxies), said in an
:class:`~sigcube.io.ingest.table_files.IngestNote`. A curve without a row in the ``--galaxies`` table is refused
(:func:`check_rows`: a name that differs between the tables is the likely cause), or with ``allow_missing`` kept
without the table's values, said in a warning with what that rules out. A value both the curves and a table give
must agree.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sigcube.errors import ParseError
from sigcube.io.ingest.table_columns import SPEC, Options, column_names, converted, raw_galaxy_names, refuse_twins
from sigcube.io.ingest.table_files import IngestNote, IngestWarning, Source, listed, read_source
from sigcube.io.ingest.text import distinct
from sigcube.io.layouts import GEOMETRY_VARIABLES, MASS_VARIABLES

PER_GALAXY = (*GEOMETRY_VARIABLES, *MASS_VARIABLES, "quality")
"""The per-galaxy columns, by sigcube name: in a per-galaxy table, or repeated on every row of a curves table."""
OPTIONS = Options("--galaxy-columns", "--galaxy-units")
BULGE_OPTIONS = Options("--bulge-columns", "--bulge-units")
NEEDED_FOR = {**dict.fromkeys(GEOMETRY_VARIABLES, ("nuisance marginalisation",)), "L36": ("M★", "M_b"),
              "M_HI": ("M_b",), "R_disk": ("R_d from the table",), "quality": ("quality cuts",)}
"""What each per-galaxy column but L_bul is needed for: the nuisance priors centre on the distance and inclination
and take their errors as widths; M★ = Υ_disk·(L36 − L_bul) + Υ_bul·L_bul, M_b = Υ_disk·L36 + 1.33·M_HI; ``R_disk``
is the ``table`` R_d of the Σ kernels (``rd_source``)."""


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
                      decimal: str | None = None, known: Sequence[str] = PER_GALAXY,
                      options: Options = OPTIONS) -> GalaxyTable:
    """Read a per-galaxy table's columns ``known`` (others are not read; ``options``: those that map its columns and
    give their units, named in messages); a ParseError names a missing or unusable column, a value outside its bounds,
    a galaxy with two rows, or names that differ only by case or surrounding whitespace."""
    source = read_source(path, None, encoding, decimal)
    units = dict(units or {})
    names = column_names(source, dict(columns or {}), units, ("galaxy", *known), ("galaxy",), options)
    if len(names) == 1:
        raise ParseError(source.path, f"the table gives none of {', '.join(known)} (it has "
                                      f"{', '.join(source.table.colnames)}; map yours with {options.columns})")
    raw = raw_galaxy_names(source, names["galaxy"])
    refuse_twins([(source, raw)])
    unique, first, counts = np.unique(raw, return_index=True, return_counts=True)
    if (counts > 1).any():
        twice = unique[counts > 1][0]
        raise ParseError(source.path, f"galaxy {twice.strip()} has more than one row "
                                      f"({source.rows(np.flatnonzero(raw == twice))}); a per-galaxy table has one")
    values = {name: converted(source, col, name, units.get(col), raw, options)
              for name, col in names.items() if name != "galaxy"}
    return GalaxyTable(source, raw, values, names, units)


def join_galaxies(table: GalaxyTable, curves: Source, curve_raw: np.ndarray, galaxies: np.ndarray,
                  per_galaxy: Mapping[str, np.ndarray]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """``per_galaxy`` (one value per galaxy of ``galaxies``, from the curves) completed by ``table``'s values, and
    which galaxies have no row in it (a boolean per galaxy); the table's rows without a curve are skipped, said in an
    :class:`~sigcube.io.ingest.table_files.IngestNote`.

    ``curve_raw`` is the raw galaxy name of every row of ``curves``; ``galaxies`` are the cube's names (stripped).
    """
    refuse_twins([(curves, curve_raw), (table.source, table.raw)])
    names = np.char.strip(table.raw)
    row_of = {str(name): i for i, name in enumerate(names)}
    rows = np.array([row_of.get(str(g), -1) for g in galaxies], dtype=np.int64)
    no_curve = sorted(set(map(str, names)) - set(map(str, galaxies)))
    if no_curve:
        warnings.warn(f"{table.source.path}: skipped {len(no_curve)} of its {len(names)} galaxies, which have no "
                      f"curve: {listed(no_curve)}", IngestNote, stacklevel=3)
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
    return joined, ~found


def check_rows(table: GalaxyTable, galaxies: np.ndarray, no_row: np.ndarray, joined: Mapping[str, np.ndarray],
               allow_missing: bool) -> None:
    """Refuse the galaxies of the curves that have no row in the ``--galaxies`` table (``no_row``, a boolean per galaxy
    of ``galaxies``), naming them, what they would lack (``joined``: the values joined) and what that rules out; with
    ``allow_missing``, say it in a warning. L_bul is not counted: a galaxy without a bulge needs none, and one with a
    bulge and no L_bul is named when the cube is made."""
    if not no_row.any():
        return
    lacking = [name for name in table.values if name != "L_bul" and not np.isfinite(joined[name][no_row]).all()]
    needs = list(dict.fromkeys(need for name in lacking for need in NEEDED_FOR[name]))
    many = no_row.sum() > 1
    count = f"{int(no_row.sum())} galax{'ies' if many else 'y'} of the curves {'have' if many else 'has'} no row in it"
    which = listed([str(g) for g in galaxies[no_row]])
    lost = f"no {_either(lacking, 'and')}, so no {_either(needs, 'or')}" if lacking else "nothing from it"
    if allow_missing:
        warnings.warn(f"{table.source.path}: {count}, kept with {lost}: {which}", IngestWarning, stacklevel=3)
        return
    keep = ("; its quality flags have no missing value, so every curve needs its row" if "quality" in table.values
            else "; --allow-missing keeps them without one")
    raise ParseError(table.source.path, f"{count}: {which} — without a row a galaxy has {lost}: a name spelled "
                                        f"differently in the two tables? Add the rows, or leave the curves out{keep}")


def _either(words: Sequence[str], conjunction: str) -> str:
    """``a, b and c`` (or ``or``)."""
    return f"{', '.join(words[:-1])} {conjunction} {words[-1]}" if len(words) > 1 else words[0]


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
