"""Build the SPARC galaxy × radius cube from the rotation curves and Table 1."""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

from sigcube.errors import DataSourceError
from sigcube.io.ingest.rotmod import NAMES, RotmodCurve, read_rotmod
from sigcube.io.ingest.sources import SparcFiles, fetch_sparc, load_manifest
from sigcube.io.ingest.sparc_bulges import read_bulges
from sigcube.io.ingest.sparc_table1 import Table1, read_table1
from sigcube.io.layouts import SPARC
from sigcube.io.schema import SCHEMA_VERSION, label
from sigcube.version import __version__

TABLE1_COLUMNS = (
    "hubble_type", "distance", "e_distance", "distance_method", "inclination", "e_inclination",
    "L36", "e_L36", "R_eff", "SB_eff", "R_disk", "SB_disk", "M_HI", "R_HI", "V_flat", "e_V_flat", "quality",
)


def build_sparc_cube(files: SparcFiles | None = None) -> xr.Dataset:
    """Read every SPARC rotation curve, Table 1 and the bulge luminosities into one labelled cube (in memory)."""
    files = files or fetch_sparc()
    curves = [read_rotmod(path) for _, path in sorted(files.rotmod.items())]
    table = read_table1(files.table1)
    _check_same_galaxies(curves, table, files)
    bulges = read_bulges(files.bulges)
    if set(bulges) != set(table.galaxy):
        raise DataSourceError(f"{files.bulges}: the bulge file and Table 1 list different galaxies (bulges only: "
                              f"{sorted(set(bulges) - set(table.galaxy)) or 'none'}; Table 1 only: "
                              f"{sorted(set(table.galaxy) - set(bulges)) or 'none'})")
    return _assemble(curves, table, bulges, files)


def _check_same_galaxies(curves: list[RotmodCurve], table: Table1, files: SparcFiles) -> None:
    curve_names = {c.name for c in curves}
    table_names = set(table.galaxy)
    if curve_names != table_names:
        only_c = sorted(curve_names - table_names)
        only_t = sorted(table_names - curve_names)
        raise DataSourceError(
            f"{files.table1}: Table 1 and the rotation curves list different galaxies "
            f"(curves only: {only_c or 'none'}; Table 1 only: {only_t or 'none'})"
        )


def _assemble(curves: list[RotmodCurve], table: Table1, bulges: dict[str, float], files: SparcFiles) -> xr.Dataset:
    names = [c.name for c in curves]
    n_rows = np.array([len(c.r) for c in curves])
    padded = np.full((len(curves), int(n_rows.max())), np.nan)
    data_vars: dict[str, tuple] = {}
    for col in NAMES:
        arr = padded.copy()
        for i, c in enumerate(curves):
            arr[i, : n_rows[i]] = getattr(c, col)
        data_vars[col] = (SPARC.dims, arr)
    order = [table.galaxy.index(n) for n in names]
    for col in TABLE1_COLUMNS:
        data_vars[col] = (("galaxy",), np.asarray(table.columns[col])[order])
    data_vars["L_bul"] = (("galaxy",), np.array([bulges[n] for n in names]))
    data_vars["ref"] = (("galaxy",), np.array([table.ref[i] for i in order], dtype=np.dtypes.StringDType()))
    data_vars["n_points"] = (("galaxy",), n_rows.astype(np.int64))
    data_vars["rotmod_distance"] = (("galaxy",), np.array([c.distance_mpc for c in curves]))
    manifest = load_manifest("sparc")
    ds = xr.Dataset(
        data_vars,
        coords={
            "galaxy": np.array(names, dtype=np.dtypes.StringDType()),
            "radius": np.arange(padded.shape[1], dtype=np.int64),
        },
        attrs={
            "sigcube_kind": "sparc",
            "title": "SPARC rotation curves and galaxy properties (175 disk galaxies)",
            "citation": manifest.get("citation", ""),
            "licence": manifest.get("licence", ""),
            "source_files": json.dumps(files.sha256, sort_keys=True),
            "sigcube_version": __version__,
            "schema_version": SCHEMA_VERSION,
            "conventions": "padded galaxy × radius; NaN past each curve's n_points rows",
        },
    )
    return label(ds, SPARC)
