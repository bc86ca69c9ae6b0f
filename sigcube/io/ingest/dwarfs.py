"""Dwarf galaxies: Simon 2019's Milky Way satellites and McConnachie 2012's Local Group database.

Files (manifest ``ingest/dwarfs.toml``):

- ``simon2019_dwarf_tab_ascii_14sep2018.dat``: two header lines, 54 fixed-width rows, a blank line
  and footnotes. Cells may be blank (missing), so a value is placed by where it *ends* on the line
  (:data:`SIMON_COLUMNS`); footnote marks (``1^c``, ``-9.99^e``) are dropped. ``Upper`` = 1 marks a
  90 % upper limit: the value is the limit, its error cells hold the -9.9 placeholder. Error cells
  of ±9.9/±9.99 ("no uncertainty given", footnotes c-e) become NaN; errors are stored as positive
  numbers. Names use ``~`` for spaces (stored with spaces).
- ``mcconnachie2012_NearbyGalaxies.dat``: a descriptive header, a column-label line, a column ruler,
  then one row per object: the name in the first 19 characters (a leading ``*`` marks an ambiguous
  system), 45 whitespace-separated numbers and the reference numbers. "Nines" (9.99, 99.9, 999.9 …)
  mean no value (for an error: highly uncertain) and become NaN.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from sigcube.errors import ParseError
from sigcube.io.ingest.sources import DatasetFiles, fetch_dataset
from sigcube.io.ingest.text import parse_number, read_text_lines
from sigcube.io.layouts import DWARFS
from sigcube.io.schema import dataset_attrs, label

SIMON_FILE = "simon2019_dwarf_tab_ascii_14sep2018.dat"
MCCONNACHIE_FILE = "mcconnachie2012_NearbyGalaxies.dat"

#: Simon 2019 columns in file order: (cube field, character position where the cell ends).
SIMON_COLUMNS = (
    ("dwarf", 17),
    ("M_V", 27), ("e_M_V_plus", 33), ("e_M_V_minus", 39),
    ("r_half", 46), ("e_r_half_plus", 52), ("e_r_half_minus", 59),
    ("distance", 68), ("e_distance_plus", 74), ("e_distance_minus", 80),
    ("v_hel", 88), ("e_v_hel_plus", 94), ("e_v_hel_minus", 100),
    ("sigma", 108), ("e_sigma_plus", 114), ("e_sigma_minus", 120),
    ("sigma_is_upper_limit", 126),
    ("feh", 136), ("e_feh_plus", 144), ("e_feh_minus", 152),
    ("feh_spread", 162), ("e_feh_spread_plus", 171), ("e_feh_spread_minus", 181),
    ("feh_spread_is_upper_limit", 187),
    ("references", 212),
)
SIMON_HEADER = ("Dwarf", "M_V", "dM_V+", "dM_V-", "r_1/2", "dr_1/2+", "dr_1/2-", "Dist", "ddist+", "ddist-", "Vhel",
                "dVhel+", "dVhel-", "sigma", "dsig+", "dsig-", "Upper", "[Fe/H]", "d[Fe/H]+", "d[Fe/H]-", "sigFe/H",
                "dsigFe/H+", "dsigFe/H-", "Upper", "References")
SIMON_REQUIRED = ("dwarf", "M_V", "r_half", "distance", "sigma_is_upper_limit", "feh_spread_is_upper_limit",
                  "references")
#: Upper-limit flag → the value it qualifies.
SIMON_LIMITS = {"sigma_is_upper_limit": "sigma", "feh_spread_is_upper_limit": "feh_spread"}
NO_ERROR = (9.9, 9.99)
"""|error| values that mean "no uncertainty given" (upper limits, footnotes d and e)."""

_FOOTNOTE = re.compile(r"\^[a-z]$")
_NINES = re.compile(r"9*\.?9+|9+\.")

MC_NAME_WIDTH = 19
#: McConnachie numeric fields after the name: cube field (None = not stored) for each of the 45 numbers.
MC_FIELDS = (
    "ra_h", "ra_m", "ra_s", "dec_d", "dec_m", "dec_s", "nearby_ebv",
    "nearby_dmod", "e_nearby_dmod_plus", "e_nearby_dmod_minus",
    "nearby_v_h", "e_nearby_v_h_plus", "e_nearby_v_h_minus",
    "nearby_vmag", "e_nearby_vmag_plus", "e_nearby_vmag_minus",
    None, None, None,  # position angle
    "nearby_ellipticity", "e_nearby_ellipticity_plus", "e_nearby_ellipticity_minus",
    None, None, None,  # central surface brightness
    "nearby_r_half", "e_nearby_r_half_plus", "e_nearby_r_half_minus",
    "nearby_sigma", "e_nearby_sigma_plus", "e_nearby_sigma_minus",
    None, None, None,  # stellar rotation
    "nearby_M_HI",
    None, None, None, None, None, None,  # HI dispersion and rotation
    "nearby_feh", "e_nearby_feh_plus", "e_nearby_feh_minus",
    None,  # metallicity technique flag
)
MC_POSITION = MC_FIELDS[:6]


@dataclass(frozen=True)
class Catalogue:
    """Rows of a dwarf catalogue: ``names`` and cube field → array (float, or bool for flags, str for references)."""

    names: list[str]
    columns: dict[str, np.ndarray]


def _value(token: str, field: str, path: Path, line: int) -> float:
    """One Simon cell: a number; error cells as positive numbers, NaN for the ±9.9/±9.99 placeholders."""
    value = parse_number(token, field, path, line)
    if field.startswith("e_"):
        value = abs(value)
        return np.nan if value in NO_ERROR else value
    return value


def _flag(token: str, field: str, path: Path, line: int) -> bool:
    if token not in ("0", "1"):
        raise ParseError(path, f"column {field}: {token!r} is not an upper-limit flag (0 or 1)", line)
    return token == "1"


def _simon_row(text: str, path: Path, line: int) -> dict[str, object]:
    """Place every token of a Simon row in the column where it ends; parse and check it."""
    ends = {end: field for field, end in SIMON_COLUMNS}
    row: dict[str, object] = {}
    for match in re.finditer(r"\S+", text):
        token = _FOOTNOTE.sub("", match.group())
        field = ends.get(match.start() + len(token))
        if field is None or field in row:
            raise ParseError(path, f"{match.group()!r} at characters {match.start() + 1}-{match.end()} is not in a "
                             "column of the Simon 2019 layout (misaligned or extra field)", line)
        if field == "dwarf":
            row[field] = token.replace("~", " ")
        elif field == "references":
            row[field] = token
        elif field.endswith("_is_upper_limit"):
            row[field] = _flag(token, field, path, line)
        else:
            row[field] = _value(token, field, path, line)
    missing = [f for f in SIMON_REQUIRED if f not in row]
    if missing:
        raise ParseError(path, f"missing {', '.join(missing)}", line)
    for flag, value in SIMON_LIMITS.items():
        errors = [row.get(f"e_{value}_plus", np.nan), row.get(f"e_{value}_minus", np.nan)]
        if row[flag] and (value not in row or not np.all(np.isnan(errors))):
            raise ParseError(path, f"{value} is flagged as an upper limit but has no value or carries real errors",
                             line)
    return row


def read_simon(path: Path | str) -> Catalogue:
    """Read Simon 2019's Table 1 (the rows between the two header lines and the first blank line)."""
    path = Path(path)
    lines = read_text_lines(path)
    if len(lines) < 3 or tuple(lines[0].split()) != SIMON_HEADER:
        raise ParseError(path, f"the first line must be the Simon 2019 header ({' '.join(SIMON_HEADER)})", 1)
    rows = []
    for number, text in enumerate(lines[2:], start=3):
        if not text.strip():
            break
        rows.append(_simon_row(text, path, number))
    if not rows:
        raise ParseError(path, "no data rows after the header", 3)
    return _catalogue(rows, [f for f, _ in SIMON_COLUMNS[1:]], "dwarf", path)


def _catalogue(rows: list[dict[str, object]], fields: list[str], name_field: str, path: Path) -> Catalogue:
    names = [str(row[name_field]) for row in rows]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ParseError(path, f"objects listed twice: {', '.join(duplicates)}")
    columns = {}
    for field in fields:
        values = [row.get(field, np.nan) for row in rows]
        if field.endswith("_is_upper_limit") or field == "nearby_ambiguous":
            columns[field] = np.array(values, dtype=bool)
        elif "references" in field:
            columns[field] = np.array(values, dtype=np.dtypes.StringDType())
        else:
            columns[field] = np.array(values, dtype=float)
    return Catalogue(names, columns)


def _mc_number(token: str, field: str, path: Path, line: int) -> float:
    return np.nan if _NINES.fullmatch(token) else parse_number(token, field, path, line)


def _mc_row(text: str, path: Path, line: int) -> dict[str, object]:
    name = text[:MC_NAME_WIDTH].strip()
    tokens = text[MC_NAME_WIDTH:].split()
    if not name or len(tokens) not in (len(MC_FIELDS), len(MC_FIELDS) + 1):
        raise ParseError(path, f"expected a name in characters 1-{MC_NAME_WIDTH}, {len(MC_FIELDS)} numbers and the "
                         f"references; found {len(tokens)} fields after {name!r}", line)
    row: dict[str, object] = {"nearby": name.removeprefix("*").strip(), "nearby_ambiguous": name.startswith("*"),
                              "nearby_references": tokens[len(MC_FIELDS)] if len(tokens) > len(MC_FIELDS) else ""}
    values = {f: parse_number(t, f, path, line) if f in MC_POSITION else _mc_number(t, f, path, line)
              for f, t in zip(MC_FIELDS, tokens) if f is not None}
    sign = -1.0 if tokens[3].startswith("-") else 1.0
    row["nearby_ra"] = 15.0 * (values["ra_h"] + values["ra_m"] / 60 + values["ra_s"] / 3600)
    row["nearby_dec"] = sign * (abs(values["dec_d"]) + values["dec_m"] / 60 + values["dec_s"] / 3600)
    row.update({f: v for f, v in values.items() if f not in MC_POSITION})
    for field in [f for f in row if f.startswith("e_nearby_")]:
        if np.isnan(row[field.removeprefix("e_").rsplit("_", 1)[0]]):
            row[field] = np.nan
    return row


def read_mcconnachie(path: Path | str) -> Catalogue:
    """Read McConnachie's ``NearbyGalaxies.dat`` (rows after the column ruler)."""
    path = Path(path)
    lines = read_text_lines(path)
    labels = next((i for i, t in enumerate(lines) if t.startswith("GalaxyName")), None)
    if labels is None:
        raise ParseError(path, "no 'GalaxyName' column-label line: not the NearbyGalaxies.dat layout",
                         max(len(lines), 1))
    if labels + 1 >= len(lines) or not lines[labels + 1].startswith("1234567890"):
        raise ParseError(path, "expected the 1234567890… column ruler after the GalaxyName labels", labels + 2)
    rows = [_mc_row(text, path, number) for number, text in enumerate(lines[labels + 2:], start=labels + 3)
            if text.strip()]
    if not rows:
        raise ParseError(path, "no data rows after the column ruler", labels + 2)
    fields = ["nearby_ambiguous", "nearby_ra", "nearby_dec", *[f for f in MC_FIELDS if f and f not in MC_POSITION],
              "nearby_references"]
    return _catalogue(rows, fields, "nearby", path)


def build_dwarfs_cube(files: DatasetFiles | None = None) -> xr.Dataset:
    """Read both catalogues into one cube with dims ``dwarf`` (Simon 2019) and ``nearby`` (McConnachie)."""
    files = files or fetch_dataset("dwarfs")
    simon = read_simon(files.paths[SIMON_FILE])
    mc = read_mcconnachie(files.paths[MCCONNACHIE_FILE])
    data = {**{k: (("dwarf",), v) for k, v in simon.columns.items()},
            **{k: (("nearby",), v) for k, v in mc.columns.items()}}
    ds = xr.Dataset(
        data,
        coords={"dwarf": np.array(simon.names, dtype=np.dtypes.StringDType()),
                "nearby": np.array(mc.names, dtype=np.dtypes.StringDType())},
        attrs=dataset_attrs(
            DWARFS, "Dwarf galaxies: Milky Way satellites (Simon 2019) and Local Group objects (McConnachie 2012)",
            files.provenance(),
            "errors stored as positive numbers, NaN where missing or a placeholder; upper limits are the boolean "
            "*_is_upper_limit flags, the value being the 90 % limit; McConnachie 'nines' are NaN; names with spaces",
        ),
    )
    return label(ds, DWARFS)
