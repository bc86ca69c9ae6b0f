"""The columns of a user's table (:class:`~sigcube.io.ingest.table_files.Source`): sigcube names mapped to the
table's, values converted by astropy to the cube's units and checked against their bounds, and galaxy names.

Galaxy names that differ only by case or surrounding whitespace (``NGC3198``, ``ngc3198``, ``NGC3198 ``), within a
table or across two, are refused naming the rows of each spelling: they are one galaxy with a typo or two galaxies
whose names need to differ by more, and sigcube neither merges nor splits them on a guess.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import astropy.units as u
import numpy as np

from sigcube.errors import ParseError
from sigcube.io.ingest.bounds import BOUNDS
from sigcube.io.ingest.cell_numbers import parse_cells
from sigcube.io.ingest.sparc_table1 import CODES
from sigcube.io.ingest.table_files import Source
from sigcube.io.layouts import CURVE_VARIABLES, GEOMETRY_VARIABLES, MASS_VARIABLES, SPARC

SPEC = {**CURVE_VARIABLES, **GEOMETRY_VARIABLES, **MASS_VARIABLES, "quality": SPARC.variables["quality"]}
"""The layout of every column a user's table may give, by sigcube name (``quality`` as in the SPARC cube)."""


@dataclass(frozen=True)
class Options:
    """The command-line options that map a table's columns and give their units (named in messages)."""

    columns: str = "--columns"
    units: str = "--units"


def label(column: str, name: str) -> str:
    """How an error names a table column: ``column 'Vobs' (v_obs)``, or ``column 'v_obs'``."""
    return f"column {column!r}" + (f" ({name})" if column != name else "")


def column_names(source: Source, columns: Mapping[str, str], units: Mapping[str, str], known: Sequence[str],
                 required: Sequence[str], options: Options = Options()) -> dict[str, str]:
    """sigcube name → table column, for every name of ``known`` the table gives (a ParseError names what is
    wrong: an unknown name, a missing column, a unit for a column not read, a mapping of a fixed format)."""
    path, table = source.path, source.table
    if source.fixed and (columns or units):
        raise ParseError(path, f"{options.columns if columns else options.units} does not apply: a {source.shape} "
                               "gives sigcube's column names and units itself")
    unknown = sorted(set(columns) - set(known))
    if unknown:
        raise ParseError(path, f"{options.columns} names {', '.join(map(repr, unknown))}, which sigcube does not "
                               f"know here; columns: {', '.join(known)}")
    have = set(table.colnames)
    names = {name: columns.get(name, name) for name in known}
    for name in set(known) - set(columns) - have:  # ``r [kpc]`` for ``r``: the name with its unit beside it
        beside = [col for col in table.colnames if (named := named_unit(col)) is not None and named[0] == name]
        if len(beside) == 1:
            names[name] = beside[0]
    missing = [name for name in known if names[name] not in have and (name in required or name in columns)]
    if missing:
        what = ", ".join(f"{names[m]!r}" + (f" ({m})" if names[m] != m else "") for m in missing)
        raise ParseError(path, f"no column {what}; the table has {', '.join(table.colnames)} "
                               f"(map sigcube names to yours with {options.columns} {missing[0]}=NAME)")
    used = {name: col for name, col in names.items() if col in have}
    readers: dict[str, list[str]] = defaultdict(list)
    for name, col in used.items():
        readers[col].append(name)
    shared = next(((col, names) for col, names in readers.items() if len(names) > 1), None)
    if shared is not None:
        col, both = shared
        raise ParseError(path, f"the column {col!r} would be read as {' and as '.join(both)}: map each sigcube name "
                               f"to a column of its own with {options.columns}")
    stray = sorted(set(units) - set(used.values()))
    if stray:
        raise ParseError(path, f"{options.units} names {', '.join(map(repr, stray))}, which is not a column read "
                               f"from the table ({', '.join(used.values())})")
    _require_units(source, used, units, options)
    return used


def _require_units(source: Source, used: Mapping[str, str], units: Mapping[str, str], options: Options) -> None:
    """Refuse numeric columns with no unit (from the file or ``units``), naming them all and the option to give."""
    lacking = {name: col for name, col in used.items() if name != "galaxy" and col not in units
               and source.table[col].unit is None and named_unit(col) is None and SPEC[name].units}
    if not lacking:
        return
    what = (f"{label(*next(iter(lacking.items()))[::-1])} has no unit: give it" if len(lacking) == 1 else
            f"columns {', '.join(map(repr, lacking.values()))} have no unit: give them")
    pairs = ",".join(f"{col}={SPEC[name].units.replace(' / ', '/')}" for name, col in lacking.items())
    raise ParseError(source.path, f"{what} in the file (ECSV, FITS; or beside a name: r [kpc]) or with "
                                  f"{options.units} {pairs}")


_NUMBER = re.compile(r"[0-9.eE+-]+")
_NAMED_UNIT = re.compile(r"(?P<name>.*?)\s*(?:\[(?P<bracket>[^\]]+)\]|\((?P<paren>[^)]+)\))\s*")


def named_unit(column: str) -> tuple[str, u.UnitBase] | None:
    """A column name's own name and the unit written beside it — ``r [kpc]``, ``v_obs (m/s)``, ``e_v_obs (%)`` — or
    None if it has none (a word astropy cannot parse, or a number as in ``L[3.6]``, is no unit)."""
    match = _NAMED_UNIT.fullmatch(column)
    text = match and (match["bracket"] or match["paren"]).strip()
    if not text or _NUMBER.fullmatch(text):
        return None
    try:
        return match["name"], u.Unit(text)
    except (ValueError, TypeError):
        return None


def converted(source: Source, column: str, name: str, override: str | None, galaxy: np.ndarray,
              options: Options = Options()) -> np.ndarray:
    """The column's values in the cube's unit of ``name`` (missing values → NaN), inside the bounds of ``name``."""
    path, col = source.path, source.table[column]
    target = u.Unit(SPEC[name].units)
    where = label(column, name)
    stated = []  # (who states it, the unit)
    if override is not None:
        try:
            stated.append((f"{options.units}", u.Unit(override)))
        except ValueError:
            raise ParseError(path, f"{where}: astropy cannot parse the unit {override!r} given with "
                                   f"{options.units}") from None
    if isinstance(col.unit, u.UnrecognizedUnit):
        if override is None:
            raise ParseError(path, f"{where} has the unit {col.unit.to_string()!r}, which astropy cannot parse; "
                                   f"override it with {options.units} {column}=UNIT")
    elif col.unit is not None:
        stated.append(("the file", col.unit))
    if (named := named_unit(column)) is not None:
        stated.append(("its name", named[1]))
    for who, other in stated[1:]:
        if other != stated[0][1]:
            raise ParseError(path, f"{where} is in {stated[0][1].to_string()!r} by {stated[0][0]} and in "
                                   f"{other.to_string()!r} by {who}: give one unit")
    unit = stated[0][1] if stated else target  # no unit: a flag (column_names refused any other column without one)
    data = _numbers(source, column, name, galaxy)
    try:
        values = (data * unit).to_value(target)
    except u.UnitConversionError:
        raise ParseError(path, f"{where} is in {unit.to_string()!r}, which cannot be converted to "
                               f"{target.to_string() or 'a pure number'!r}") from None
    _check_bounds(source, column, name, values, galaxy)
    return values


def _numbers(source: Source, column: str, name: str, galaxy: np.ndarray) -> np.ndarray:
    """The column as floats; text cells parsed (a ParseError names the first that is not a number)."""
    col = source.table[column]
    raw = np.ma.getdata(col)
    if raw.dtype.kind in "USO":
        cells = np.char.decode(raw, "utf-8", "replace") if raw.dtype.kind == "S" else raw.astype(str)
        values, bad, problem = parse_cells(cells, source.convention)
        if bad is not None:
            raise ParseError(source.path, f"{label(column, name)}, {source.where(bad)} (galaxy {galaxy[bad]}): "
                                          f"{problem}")
        return np.where(np.ma.getmaskarray(col), np.nan, values)
    try:
        return np.ma.asarray(col, dtype=float).filled(np.nan)
    except (TypeError, ValueError):
        raise ParseError(source.path, f"{label(column, name)} is not numeric") from None


def _check_bounds(source: Source, column: str, name: str, values: np.ndarray, galaxy: np.ndarray) -> None:
    """Refuse a value outside the bounds of ``name`` (a flag outside its codes), naming its row and galaxy."""
    where = label(column, name)
    if name in CODES:
        low, high = CODES[name]
        finite = np.isfinite(values)
        bad = np.flatnonzero(np.isinf(values) | (finite & ((values != np.round(values)) | (values < low)
                                                           | (values > high))))
        if bad.size:
            allowed = ", ".join(map(str, range(low, high + 1)))
            raise ParseError(source.path, f"{where}, {source.where(bad[0])} (galaxy {galaxy[bad[0]]}): "
                                          f"{values[bad[0]]:g} is not a flag: allowed {allowed}")
        return
    if (bad := np.flatnonzero(BOUNDS[name].outside(values))).size:
        raise ParseError(source.path, f"{where}, {source.where(bad[0])} (galaxy {galaxy[bad[0]]}): "
                                      f"{BOUNDS[name].problem(values[bad[0]])}")


def raw_galaxy_names(source: Source, column: str) -> np.ndarray:
    """The galaxy of every row as written (bytes decoded); an empty name is a ParseError."""
    col = source.table[column]
    raw = np.ma.getdata(col)
    text = np.char.decode(raw, "utf-8", "replace") if raw.dtype.kind == "S" else raw.astype(str)
    empty = np.flatnonzero((np.char.strip(text) == "") | np.ma.getmaskarray(col))
    if empty.size:
        raise ParseError(source.path, f"{label(column, 'galaxy')}: {source.where(empty[0])} has no galaxy name")
    return text.astype(str)


def refuse_twins(tables: Sequence[tuple[Source, np.ndarray]]) -> None:
    """Refuse galaxy names that differ only by case or surrounding whitespace, within or across ``tables`` (each a
    source and the raw name of each of its rows), naming where each spelling is."""
    spellings: dict[str, set[str]] = defaultdict(set)
    for _, raw in tables:
        for name in np.unique(raw):
            spellings[name.strip().casefold()].add(str(name))
    twins = [sorted(names) for names in spellings.values() if len(names) > 1]
    if not twins:
        return
    first = tables[0][0].path
    where = []
    for name in twins[0]:
        for source, raw in tables:
            index = np.flatnonzero(raw == name)
            if index.size:
                where.append(f"{name!r} ({'' if source.path == first else source.path.name + ' '}"
                             f"{source.rows(index)})")
    more = f" (and {len(twins) - 1} more such sets of names)" if len(twins) > 1 else ""
    raise ParseError(first, f"galaxy names {' and '.join(where)} differ only by case or surrounding whitespace{more}: "
                            "one galaxy with a typo, or two galaxies whose names must differ by more — sigcube "
                            "neither merges nor splits them; make the spellings agree, or differ")
