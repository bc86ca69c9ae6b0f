"""MaNGA: the DynPop f_DM subset and the counter-rotating cases with their matched controls.

Files (manifest ``ingest/manga.toml``), both derived third-party tables (see the manifest notes):

- ``tangosidm_dynpop_gNFWcyl_fdm_subset.csv``: 534 galaxies, ``PlateIFU, MaNGAID, M*[Msun],
  Reff[kpc], fDM(Reff)`` (Zhu+2023 JAM_cyl + gNFW f_DM within R_eff, TangoSIDM selection).
- ``counterrotation_bevacqua_cases_matched_controls.csv``: 310 rows, 62 counter-rotating cases
  (Bevacqua+2022) × 5 matched controls: ``case_mangaid, case_plateifu, control_mangaid,
  control_plateifu, match_rank, standardized_distance``.

The cube has dim ``galaxy`` (the 534, keyed by plate-IFU: MaNGA IDs repeat when a galaxy was
observed twice) with flags marking the cases and controls found among them, and dim ``match``
(the 310 rows). Only 1 case and 22 controls are in the f_DM subset.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import xarray as xr

from sigcube.errors import ParseError
from sigcube.io.ingest.sources import DatasetFiles, fetch_dataset
from sigcube.io.ingest.text import csv_rows, parse_cell
from sigcube.io.layouts import MANGA
from sigcube.io.schema import dataset_attrs, label

DYNPOP_FILE = "tangosidm_dynpop_gNFWcyl_fdm_subset.csv"
MATCH_FILE = "counterrotation_bevacqua_cases_matched_controls.csv"
DYNPOP_HEADER = ("PlateIFU", "MaNGAID", "M*[Msun]", "Reff[kpc]", "fDM(Reff)")
MATCH_HEADER = ("case_mangaid", "case_plateifu", "control_mangaid", "control_plateifu", "match_rank",
                "standardized_distance")
N_CONTROLS = 5
"""Controls matched to each case (match_rank 1 … 5)."""

_ID = re.compile(r"\d+-\d+")
_STRING = np.dtypes.StringDType()


def _identifier(token: str, column: str, path: Path, line: int) -> str:
    token = token.strip()
    if not _ID.fullmatch(token):
        raise ParseError(path, f"column {column}: {token!r} is not a MaNGA identifier like 8455-1902", line)
    return token


def read_dynpop(path: Path | str) -> dict[str, np.ndarray]:
    """Read the f_DM subset: ``galaxy`` (plate-IFU), ``mangaid``, ``M_star`` [M☉], ``R_eff`` [kpc], ``f_DM``."""
    path = Path(path)
    rows = csv_rows(path, DYNPOP_HEADER)
    out: dict[str, list] = {k: [] for k in ("galaxy", "mangaid", "M_star", "R_eff", "f_DM")}
    for number, cells in rows:
        plateifu = _identifier(cells[0], "PlateIFU", path, number)
        if plateifu in out["galaxy"]:
            raise ParseError(path, f"plate-IFU {plateifu} appears twice", number)
        m_star, r_eff, f_dm = (parse_cell(c, h, path, number) for c, h in zip(cells[2:], DYNPOP_HEADER[2:]))
        if m_star <= 0 or r_eff <= 0 or not 0.0 <= f_dm <= 1.0:
            raise ParseError(path, "M* and Reff must be positive and fDM within [0, 1]", number)
        out["galaxy"].append(plateifu)
        out["mangaid"].append(_identifier(cells[1], "MaNGAID", path, number))
        for key, value in (("M_star", m_star), ("R_eff", r_eff), ("f_DM", f_dm)):
            out[key].append(value)
    return {k: np.array(v, dtype=_STRING if k in ("galaxy", "mangaid") else float) for k, v in out.items()}


def read_matches(path: Path | str) -> dict[str, np.ndarray]:
    """Read the case/control table; every case has controls of rank 1 … 5 and no pair repeats."""
    path = Path(path)
    out: dict[str, list] = {k: [] for k in MATCH_HEADER}
    ranks: dict[str, set[int]] = {}
    for number, cells in csv_rows(path, MATCH_HEADER):
        ids = [_identifier(c, h, path, number) for c, h in zip(cells[:4], MATCH_HEADER)]
        rank = cells[4].strip()
        if not rank.isdigit() or not 1 <= int(rank) <= N_CONTROLS:
            raise ParseError(path, f"match_rank {rank!r} is not a whole number from 1 to {N_CONTROLS}", number)
        distance = parse_cell(cells[5], "standardized_distance", path, number)
        if distance < 0:
            raise ParseError(path, f"standardized_distance {distance} is negative", number)
        if int(rank) in ranks.setdefault(ids[1], set()):
            raise ParseError(path, f"case {ids[1]} has two controls of rank {rank}", number)
        ranks[ids[1]].add(int(rank))
        for key, value in zip(MATCH_HEADER, (*ids, int(rank), distance)):
            out[key].append(value)
    incomplete = sorted(case for case, seen in ranks.items() if len(seen) != N_CONTROLS)
    if incomplete:
        raise ParseError(path, f"cases without {N_CONTROLS} controls: {', '.join(incomplete)}")
    return {k: np.array(v, dtype=np.int64 if k == "match_rank" else float if k == "standardized_distance" else _STRING)
            for k, v in out.items()}


def build_manga_cube(files: DatasetFiles | None = None) -> xr.Dataset:
    """Read both tables; flag the f_DM galaxies that are counter-rotating cases or matched controls."""
    files = files or fetch_dataset("manga")
    dynpop = read_dynpop(files.paths[DYNPOP_FILE])
    matches = read_matches(files.paths[MATCH_FILE])
    galaxy = dynpop.pop("galaxy")
    data = {k: (("galaxy",), v) for k, v in dynpop.items()}
    data["is_counter_rotating_case"] = (("galaxy",), np.isin(galaxy, matches["case_plateifu"]))
    data["is_matched_control"] = (("galaxy",), np.isin(galaxy, matches["control_plateifu"]))
    data.update({k: (("match",), v) for k, v in matches.items()})
    ds = xr.Dataset(
        data,
        coords={"galaxy": galaxy, "match": np.arange(len(matches["match_rank"]), dtype=np.int64)},
        attrs=dataset_attrs(
            MANGA, "MaNGA: DynPop f_DM subset and counter-rotating cases with matched controls", files.provenance(),
            "galaxy = plate-IFU of the 534-galaxy f_DM subset; cases and controls are found in it by plate-IFU; "
            "match = row of the 310-row case/control table",
        ),
    )
    return label(ds, MANGA)
