"""Reader of a user's rotation curves → ``rotation_curves`` cube, from a table or SPARC's mass-model files.

The curves come in any shape :func:`~sigcube.io.ingest.table_files.read_source` reads: a table with one row per
point of a curve (CSV as spreadsheets write it, whitespace-separated text with a header line, ECSV, FITS, …), or
SPARC mass-model files ``<Galaxy>_rotmod.dat`` (one, or a folder of them: galaxy from the file name, distance from
its header, SBdisk and SBbul kept). A table's required columns (sigcube names): ``galaxy``, ``r``, ``v_obs``,
``e_v_obs``, ``v_gas``, ``v_disk``, ``v_bul``; optional per point: ``sb_disk``, ``sb_bul``; optional per galaxy
(one value repeated on its rows): those of :data:`~sigcube.io.ingest.galaxy_table.PER_GALAXY`. ``columns`` maps
sigcube names to the table's own column names. Every numeric column needs a unit — the table's own (ECSV, FITS) or
one from ``units`` (table column name → astropy unit string) — and is converted by astropy to the unit of the
SPARC cube. Per-galaxy values may instead come from a second table (``galaxies``:
:mod:`~sigcube.io.ingest.galaxy_table`), and the bulges' luminosities L_bul from a third (``bulges``: SPARC's bulge
file, or a table with an L_bul column), joined on the galaxy name. The cube has the SPARC cube's variables, units
and labels (and SPARC's ``quality`` flags when a table gives them); what the tables do not give is NaN, except L_bul
of a galaxy without a bulge (V_bul = 0 at every radius), which is 0.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import xarray as xr

from sigcube.errors import ParseError
from sigcube.io.ingest.galaxy_table import (
    BULGE_OPTIONS, PER_GALAXY, GalaxyTable, check_rows, join_galaxies, read_galaxy_table,
)
from sigcube.io.ingest.table_columns import SPEC, column_names, converted, label, raw_galaxy_names, refuse_twins
from sigcube.io.ingest.table_files import IngestWarning, Source, listed, read_source
from sigcube.io.ingest.text import distinct
from sigcube.io.layouts import GEOMETRY_VARIABLES, MASS_VARIABLES, ROTATION_CURVES
from sigcube.io.schema import dataset_attrs
from sigcube.io.schema import label as label_variables
from sigcube.model.kernels import get_kernel, kernel_names
from sigcube.stats.nuisance import with_bulge_luminosity

REQUIRED = ("galaxy", "r", "v_obs", "e_v_obs", "v_gas", "v_disk", "v_bul")
"""Columns every table must have (sigcube names)."""
POINT_OPTIONAL = ("sb_disk", "sb_bul")
GALAXY_COLUMNS = PER_GALAXY
"""Optional per-galaxy columns: one value per galaxy, repeated on each of its rows (or empty on all of them)."""
COLUMNS = (*REQUIRED, *POINT_OPTIONAL, *GALAXY_COLUMNS)
_ONE = {"galaxies": "galaxy", "bulges": "bulge"}
"""The word of each kind of per-galaxy table in the cube's provenance attributes (``galaxy_columns``, …)."""


def build_table_cube(path: Path | str, columns: Mapping[str, str] | None = None,
                     units: Mapping[str, str] | None = None, fmt: str | None = None, *,
                     galaxies: Path | str | None = None, galaxy_columns: Mapping[str, str] | None = None,
                     galaxy_units: Mapping[str, str] | None = None, bulges: Path | str | None = None,
                     bulge_columns: Mapping[str, str] | None = None, bulge_units: Mapping[str, str] | None = None,
                     encoding: str | None = None, decimal: str | None = None,
                     allow_missing: bool = False) -> xr.Dataset:
    """Read a user's rotation curves (and, with ``galaxies``, a per-galaxy table; with ``bulges``, a table of the
    bulges' L_bul) into a labelled ``rotation_curves`` cube (in memory).

    Raises ParseError (one line naming the file and column) for an unknown, missing or non-numeric
    column, a missing, unparsable or non-convertible unit, a missing value in a required column, a value
    outside its column's physical bounds (:data:`~sigcube.io.ingest.bounds.BOUNDS`, naming the row and galaxy),
    a galaxy with two rows at one radius, a per-galaxy value that changes within a galaxy, galaxy names that differ
    only by case or surrounding whitespace, a galaxy of the curves without a row in the ``galaxies`` table (a warning
    with ``allow_missing``), a value the curves and a table give differently, and L_bul given twice. Rows of a table
    without a curve are skipped, said in an :class:`~sigcube.io.ingest.table_files.IngestNote`; galaxies with a bulge
    and no L_bul are named in an :class:`~sigcube.io.ingest.table_files.IngestWarning`.
    """
    source = read_source(path, fmt, encoding, decimal)
    units = dict(units or {})
    names = column_names(source, dict(columns or {}), units, COLUMNS, REQUIRED)
    raw = raw_galaxy_names(source, names["galaxy"])
    refuse_twins([(source, raw)])
    galaxy = np.char.strip(raw)
    values = {name: converted(source, col, name, units.get(col), galaxy) for name, col in names.items()
              if name != "galaxy"}
    for name in REQUIRED[1:]:
        _require_values(source, names[name], name, values[name], galaxy)
    order = np.lexsort((values["r"], galaxy))
    _refuse_duplicates(source, galaxy[order], values["r"][order], order)
    galaxy, values = galaxy[order], {name: v[order] for name, v in values.items()}
    gal_names, starts, counts = np.unique(galaxy, return_index=True, return_counts=True)
    per_galaxy = {name: _per_galaxy(source, names[name], name, values[name], starts, gal_names)
                  for name in GALAXY_COLUMNS if name in values}
    tables: dict[str, GalaxyTable] = {}
    if galaxies is not None:
        table = tables["galaxies"] = read_galaxy_table(galaxies, galaxy_columns, galaxy_units, encoding, decimal)
        per_galaxy, no_row = join_galaxies(table, source, raw, gal_names, per_galaxy)
        check_rows(table, gal_names, no_row, per_galaxy, allow_missing)
    if bulges is not None:
        table = read_galaxy_table(bulges, bulge_columns, bulge_units, encoding, decimal, ("L_bul",), BULGE_OPTIONS)
        _refuse_second_bulges(table, source, names, tables.get("galaxies"))
        per_galaxy, _ = join_galaxies(table, source, raw, gal_names, per_galaxy)
        tables["bulges"] = table
    if decimal is not None and not any(s.delimited for s in (source, *(t.source for t in tables.values()))):
        raise ParseError(source.path, f"--decimal {decimal} applies to delimited text (CSV, whitespace-separated), "
                                      f"and this is read as {source.shape}, which writes its numbers its own way: "
                                      "leave it out")
    if "quality" in per_galaxy:
        _require_flags(source, tables.get("galaxies"), per_galaxy["quality"], gal_names)
    ds = with_bulge_luminosity(_assemble(source, galaxy, values, per_galaxy, names, units, tables))
    _warn_bulges_without_light(ds)
    return ds


def _refuse_second_bulges(bulges: GalaxyTable, curves: Source, names: Mapping[str, str],
                          galaxies: GalaxyTable | None) -> None:
    """Refuse a bulge table when the curves or the ``galaxies`` table give L_bul already."""
    others = [(curves, names), *([(galaxies.source, galaxies.columns)] if galaxies is not None else [])]
    for source, columns in others:
        if "L_bul" in columns:
            raise ParseError(bulges.source.path, f"L_bul is given by {source.path.name} too (column "
                                                 f"{columns['L_bul']!r}): give it once, in one table")


def _warn_bulges_without_light(ds: xr.Dataset) -> None:
    """Name, in an IngestWarning, the galaxies with a bulge and a 3.6 μm luminosity but no L_bul, and the kernels
    that then cannot run on them (those reading M★)."""
    dark = np.isfinite(ds["L36"].values) & np.isnan(ds["L_bul"].values)
    if not dark.any():
        return
    shown = [str(g) for g in ds["galaxy"].values[dark]]
    readers = [name for name in kernel_names() if "M_star" in get_kernel(name).all_inputs]
    many = len(shown) > 1
    warnings.warn(f"{len(shown)} galax{'ies' if many else 'y'} with a bulge (V_bul ≠ 0) {'have' if many else 'has'} "
                  f"no bulge luminosity L_bul: {listed(shown)} — the stellar mass M★ cannot be formed without it, so the "
                  f"kernels that read M★ cannot run on {'them' if many else 'it'} ({', '.join(readers)}: report "
                  "compare's ΛCDM halos and dc14); give L_bul with --bulges (SPARC's Bulges.dat, or a table with an "
                  "L_bul column)", IngestWarning, stacklevel=3)


def _require_values(source: Source, column: str, name: str, values: np.ndarray, galaxy: np.ndarray) -> None:
    """Refuse a required column with missing or NaN values."""
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise ParseError(source.path, f"{label(column, name)} has {bad.size} missing or non-finite values "
                                      f"(first: {source.where(bad[0])}, galaxy {galaxy[bad[0]]})")


def _refuse_duplicates(source: Source, galaxy: np.ndarray, r: np.ndarray, order: np.ndarray) -> None:
    """Refuse two rows of one galaxy at the same radius (rows sorted by galaxy, then r; ``order``: their rows)."""
    same = np.flatnonzero((galaxy[1:] == galaxy[:-1]) & (r[1:] == r[:-1]))
    if same.size:
        i = same[0]
        raise ParseError(source.path, f"galaxy {galaxy[i]} has two rows at r = {r[i]:g} kpc "
                                      f"({source.rows(np.sort(order[i:i + 2]))}: duplicated galaxy/radius)")


def _per_galaxy(source: Source, column: str, name: str, values: np.ndarray, starts: np.ndarray,
                galaxies: np.ndarray) -> np.ndarray:
    """One value per galaxy of a per-galaxy column: it must be the same on all of a galaxy's rows."""
    first = values[starts]
    row_first = np.repeat(first, np.diff(np.append(starts, len(values))))
    differs = ~((values == row_first) | (np.isnan(values) & np.isnan(row_first)))
    if differs.any():
        row = np.flatnonzero(differs)[0]
        g = np.searchsorted(starts, row, side="right") - 1
        first_value, other = distinct(first[g], values[row])
        unit = SPEC[name].units.replace(" / ", "/")
        raise ParseError(source.path, f"{label(column, name)} takes more than one value for galaxy {galaxies[g]} "
                                      f"({first_value} and {other}{' ' + unit if unit else ''}); a per-galaxy column "
                                      "repeats one value on "
                                      "every row of its galaxy")
    return first


def _require_flags(source: Source, table: GalaxyTable | None, quality: np.ndarray, galaxies: np.ndarray) -> None:
    """Refuse quality flags given for some galaxies and not others (a flag has no missing value)."""
    bad = np.flatnonzero(np.isnan(quality))
    if bad.size:
        g = galaxies[bad[0]]
        absent = table is not None and g not in np.char.strip(table.raw)
        raise ParseError(source.path, f"galaxy {g} has no quality flag"
                                      + (f" (no row in {table.source.path})" if absent else "")
                                      + f" and {len(galaxies) - bad.size} others have one: give every galaxy its "
                                        "flag, or none")


def _assemble(source: Source, galaxy: np.ndarray, values: dict[str, np.ndarray], per_galaxy: dict[str, np.ndarray],
              names: dict[str, str], units: Mapping[str, str], tables: Mapping[str, GalaxyTable]) -> xr.Dataset:
    """The padded galaxy × radius cube of rows sorted by galaxy, then r (``tables``: the per-galaxy tables joined, by
    kind: ``galaxies``, ``bulges``)."""
    galaxies, starts, counts = np.unique(galaxy, return_index=True, return_counts=True)
    row = np.arange(len(galaxy)) - np.repeat(starts, counts)
    gal_index = np.repeat(np.arange(len(galaxies)), counts)
    data_vars: dict[str, tuple] = {}
    for name in (*REQUIRED[1:], *POINT_OPTIONAL):
        arr = np.full((len(galaxies), int(counts.max())), np.nan)
        if name in values:
            arr[gal_index, row] = values[name]
        data_vars[name] = (ROTATION_CURVES.dims, arr)
    for name in (*GEOMETRY_VARIABLES, *MASS_VARIABLES):
        data_vars[name] = (("galaxy",), per_galaxy.get(name, np.full(len(galaxies), np.nan)))
    if "quality" in per_galaxy:
        data_vars["quality"] = (("galaxy",), per_galaxy["quality"].astype(np.int64))
    data_vars["n_points"] = (("galaxy",), counts.astype(np.int64))
    files = dict(source.files)
    provenance = {"source_shape": source.shape, "columns": json.dumps(names, sort_keys=True),
                  "units_given": json.dumps(dict(units), sort_keys=True)}
    title = f"rotation curves from {source.path.name} ({len(galaxies)} galaxies)"
    conventions = ("padded galaxy × radius, rows sorted by r within each galaxy; NaN past each curve's n_points rows "
                   "and where the table gives no value (L_bul: 0 where V_bul is 0 at every radius); units converted "
                   "by astropy to the SPARC cube's")
    for kind, table in tables.items():
        one = _ONE[kind]
        files.update(table.source.files)
        provenance.update({f"{kind}_shape": table.source.shape,
                           f"{one}_columns": json.dumps(table.columns, sort_keys=True),
                           f"{one}_units_given": json.dumps(table.units, sort_keys=True)})
        title += f" and {table.source.path.name}"
        conventions += (f"; {'per-galaxy values' if kind == 'galaxies' else 'L_bul'} from {table.source.path.name}, "
                        "joined on the galaxy name")
    ds = xr.Dataset(
        data_vars,
        coords={"galaxy": np.array(list(galaxies), dtype=np.dtypes.StringDType()),
                "radius": np.arange(int(counts.max()), dtype=np.int64)},
        attrs=dataset_attrs(ROTATION_CURVES, title, {"source_files": json.dumps(files, sort_keys=True), **provenance},
                            conventions),
    )
    ds = label_variables(ds, ROTATION_CURVES)
    if "quality" in ds:
        ds["quality"].attrs.update(units=SPEC["quality"].units, long_name=SPEC["quality"].long_name)
    return ds
