"""Reader of a user's rotation-curve table (CSV, ECSV, FITS, … via ``astropy.table``) → ``rotation_curves`` cube.

One row per point of a rotation curve. Required columns (sigcube names): ``galaxy``, ``r``, ``v_obs``,
``e_v_obs``, ``v_gas``, ``v_disk``, ``v_bul``; optional per point: ``sb_disk``, ``sb_bul``; optional per
galaxy (one value repeated on its rows): ``distance``, ``e_distance``, ``inclination``, ``e_inclination``,
``L36``, ``L_bul``, ``R_disk``, ``M_HI``. ``columns`` maps sigcube names to the table's own column names. Every
numeric column needs a unit — the table's own (ECSV, FITS) or one from ``units`` (table column name →
astropy unit string) — and is converted by astropy to the unit of the SPARC cube. The cube has the
SPARC cube's variables, units and labels; what the table does not give is NaN.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Mapping
from pathlib import Path

import astropy.units as u
import numpy as np
import xarray as xr
from astropy.table import Table

from sigcube.errors import DataSourceError, ParseError
from sigcube.io.ingest.bounds import BOUNDS
from sigcube.io.layouts import CURVE_VARIABLES, GEOMETRY_VARIABLES, MASS_VARIABLES, ROTATION_CURVES
from sigcube.io.schema import dataset_attrs, label

REQUIRED = ("galaxy", "r", "v_obs", "e_v_obs", "v_gas", "v_disk", "v_bul")
"""Columns every table must have (sigcube names)."""
POINT_OPTIONAL = ("sb_disk", "sb_bul")
GALAXY_COLUMNS = (*GEOMETRY_VARIABLES, *MASS_VARIABLES)
"""Optional per-galaxy columns: one value per galaxy, repeated on each of its rows (or empty on all of them)."""
COLUMNS = (*REQUIRED, *POINT_OPTIONAL, *GALAXY_COLUMNS)
_SPEC = {**CURVE_VARIABLES, **GEOMETRY_VARIABLES, **MASS_VARIABLES}


def read_user_table(path: Path | str, fmt: str | None = None) -> Table:
    """Read ``path`` with ``astropy.table.Table.read`` (``fmt`` as astropy names formats, else guessed)."""
    path = Path(path)
    if not path.is_file():
        raise DataSourceError(f"{path}: no such file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unparsable units are reported per column below
            table = Table.read(path, format=fmt)
    except Exception as exc:  # astropy raises many types for unreadable files
        raise ParseError(path, f"astropy cannot read it as a table ({type(exc).__name__}: {' '.join(str(exc).split())})"
                         " — give --format (e.g. ascii.csv, ascii.ecsv, fits)") from None
    if len(table) == 0:
        raise ParseError(path, "the table has no rows")
    return table


def build_table_cube(path: Path | str, columns: Mapping[str, str] | None = None,
                     units: Mapping[str, str] | None = None, fmt: str | None = None) -> xr.Dataset:
    """Read a user's rotation-curve table into a labelled ``rotation_curves`` cube (in memory).

    Raises ParseError (one line naming the file and column) for an unknown, missing or non-numeric
    column, a missing, unparsable or non-convertible unit, a missing value in a required column, a value
    outside its column's physical bounds (:data:`~sigcube.io.ingest.bounds.BOUNDS`, naming the row and galaxy),
    a galaxy with two rows at one radius or a per-galaxy value that changes within a galaxy.
    """
    path = Path(path)
    table = read_user_table(path, fmt)
    names = _column_names(path, table, dict(columns or {}), dict(units or {}))
    galaxy = _galaxy_names(path, table[names["galaxy"]])
    values = {name: _converted(path, table[col], name, (units or {}).get(col)) for name, col in names.items()
              if name != "galaxy"}
    for name in REQUIRED[1:]:
        _require_values(path, names[name], name, values[name], galaxy)
    for name, v in values.items():
        if (bad := np.flatnonzero(BOUNDS[name].outside(v))).size:
            raise ParseError(path, f"{_column(names[name], name)}, row {bad[0] + 1} (galaxy {galaxy[bad[0]]}): "
                                   f"{BOUNDS[name].problem(v[bad[0]])}")
    order = np.lexsort((values["r"], galaxy))
    galaxy, values = galaxy[order], {name: v[order] for name, v in values.items()}
    _refuse_duplicates(path, galaxy, values["r"])
    return _assemble(path, galaxy, values, names, units or {})


def _column_names(path: Path, table: Table, columns: dict[str, str], units: dict[str, str]) -> dict[str, str]:
    """sigcube name → table column, for every column the table gives (a ParseError names what is wrong)."""
    unknown = sorted(set(columns) - set(COLUMNS))
    if unknown:
        raise ParseError(path, f"--columns names {', '.join(map(repr, unknown))}, which sigcube does not know; "
                               f"columns: {', '.join(COLUMNS)}")
    names = {name: columns.get(name, name) for name in COLUMNS}
    have = set(table.colnames)
    missing = [name for name in COLUMNS if names[name] not in have and (name in REQUIRED or name in columns)]
    if missing:
        what = ", ".join(f"{names[m]!r}" + (f" ({m})" if names[m] != m else "") for m in missing)
        raise ParseError(path, f"no column {what}; the table has {', '.join(table.colnames)} "
                               f"(map sigcube names to yours with --columns {missing[0]}=NAME)")
    used = {name: col for name, col in names.items() if col in have}
    stray = sorted(set(units) - set(used.values()))
    if stray:
        raise ParseError(path, f"--units names {', '.join(map(repr, stray))}, which is not a column read from the "
                               f"table ({', '.join(used.values())})")
    return used


def _column(column: str, name: str) -> str:
    """How an error names a table column: ``column 'Vobs' (v_obs)``, or ``column 'v_obs'``."""
    return f"column {column!r}" + (f" ({name})" if column != name else "")


def _galaxy_names(path: Path, column) -> np.ndarray:
    """The galaxy of every row, as text (bytes from FITS decoded); an empty name is a ParseError."""
    raw = np.ma.getdata(column)
    text = np.char.decode(raw, "utf-8") if raw.dtype.kind == "S" else raw.astype(str)
    names = np.char.strip(text)
    empty = np.flatnonzero((names == "") | np.ma.getmaskarray(column))
    if empty.size:
        raise ParseError(path, f"{_column(column.name, 'galaxy')}: row {empty[0] + 1} has no galaxy name")
    return names.astype(str)


def _converted(path: Path, column, name: str, override: str | None) -> np.ndarray:
    """The column's values in the SPARC cube's unit of ``name`` (missing values → NaN)."""
    target = u.Unit(_SPEC[name].units)
    where = _column(column.name, name)
    if override is not None:
        try:
            unit = u.Unit(override)
        except ValueError:
            raise ParseError(path, f"{where}: astropy cannot parse the unit {override!r} given with --units") from None
    elif column.unit is None:
        raise ParseError(path, f"{where} has no unit: give it in the file (ECSV, FITS) or with "
                               f"--units {column.name}={_SPEC[name].units.replace(' / ', '/')}")
    elif isinstance(column.unit, u.UnrecognizedUnit):
        raise ParseError(path, f"{where} has the unit {column.unit.to_string()!r}, which astropy cannot parse; "
                               f"override it with --units {column.name}=UNIT")
    else:
        unit = column.unit
    try:
        data = np.ma.asarray(column, dtype=float).filled(np.nan)
    except (TypeError, ValueError):
        raise ParseError(path, f"{where} is not numeric") from None
    try:
        return (data * unit).to_value(target)
    except u.UnitConversionError:
        raise ParseError(path, f"{where} is in {unit.to_string()!r}, which cannot be converted to "
                               f"{target.to_string()!r}") from None


def _require_values(path: Path, column: str, name: str, values: np.ndarray, galaxy: np.ndarray) -> None:
    """Refuse a required column with missing or NaN values."""
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise ParseError(path, f"{_column(column, name)} has {bad.size} missing or non-finite values "
                               f"(first: row {bad[0] + 1}, galaxy {galaxy[bad[0]]})")


def _refuse_duplicates(path: Path, galaxy: np.ndarray, r: np.ndarray) -> None:
    """Refuse two rows of one galaxy at the same radius (rows sorted by galaxy, then r)."""
    same = np.flatnonzero((galaxy[1:] == galaxy[:-1]) & (r[1:] == r[:-1]))
    if same.size:
        i = same[0]
        raise ParseError(path, f"galaxy {galaxy[i]} has two rows at r = {r[i]:g} kpc (duplicated galaxy/radius)")


def _per_galaxy(path: Path, column: str, name: str, values: np.ndarray, starts: np.ndarray,
                galaxies: np.ndarray) -> np.ndarray:
    """One value per galaxy of a per-galaxy column: it must be the same on all of a galaxy's rows."""
    first = values[starts]
    row_first = np.repeat(first, np.diff(np.append(starts, len(values))))
    differs = ~((values == row_first) | (np.isnan(values) & np.isnan(row_first)))
    if differs.any():
        g = np.searchsorted(starts, np.flatnonzero(differs)[0], side="right") - 1
        raise ParseError(path, f"{_column(column, name)} takes more than one value for galaxy {galaxies[g]}; "
                               "a per-galaxy column repeats one value on every row of its galaxy")
    return first


def _assemble(path: Path, galaxy: np.ndarray, values: dict[str, np.ndarray], names: dict[str, str],
              units: Mapping[str, str]) -> xr.Dataset:
    """The padded galaxy × radius cube of rows sorted by galaxy, then r."""
    galaxies, starts, counts = np.unique(galaxy, return_index=True, return_counts=True)
    row = np.arange(len(galaxy)) - np.repeat(starts, counts)
    gal_index = np.repeat(np.arange(len(galaxies)), counts)
    data_vars: dict[str, tuple] = {}
    for name in (*REQUIRED[1:], *POINT_OPTIONAL):
        arr = np.full((len(galaxies), int(counts.max())), np.nan)
        if name in values:
            arr[gal_index, row] = values[name]
        data_vars[name] = (ROTATION_CURVES.dims, arr)
    for name in GALAXY_COLUMNS:
        per = (_per_galaxy(path, names[name], name, values[name], starts, galaxies) if name in values
               else np.full(len(galaxies), np.nan))
        data_vars[name] = (("galaxy",), per)
    data_vars["n_points"] = (("galaxy",), counts.astype(np.int64))
    provenance = {
        "source_files": json.dumps({path.name: hashlib.sha256(path.read_bytes()).hexdigest()}),
        "columns": json.dumps(names, sort_keys=True),
        "units_given": json.dumps(dict(units), sort_keys=True),
    }
    ds = xr.Dataset(
        data_vars,
        coords={"galaxy": np.array(list(galaxies), dtype=np.dtypes.StringDType()),
                "radius": np.arange(int(counts.max()), dtype=np.int64)},
        attrs=dataset_attrs(
            ROTATION_CURVES, f"rotation curves from {path.name} ({len(galaxies)} galaxies)", provenance,
            "padded galaxy × radius, rows sorted by r within each galaxy; NaN past each curve's n_points rows and "
            "where the table gives no value; units converted by astropy to the SPARC cube's",
        ),
    )
    return label(ds, ROTATION_CURVES)
