"""Dwarf ingest: Simon 2019 (fixed width, blank cells, footnotes, upper limits) and McConnachie 2012 ("nines")."""

from __future__ import annotations

import json
from pathlib import Path

import astropy.units as u
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sigcube.errors import ParseError
from sigcube.io.cubes import write_cube
from sigcube.io.ingest import dwarfs as dw
from sigcube.io.schema import validate

SIMON = "dwarfs/simon2019_dwarf_tab_ascii_14sep2018.dat"
MC = "dwarfs/mcconnachie2012_NearbyGalaxies.dat"


def test_simon_real_file(shared_data: Path) -> None:
    cat = dw.read_simon(shared_data / SIMON)
    c = dict(zip(cat.names, range(len(cat.names))))
    assert len(cat.names) == 54 and "Ursa Major II" in c and "Canes Venatici I" in c
    assert int(cat.columns["sigma_is_upper_limit"].sum()) == 5 and int(np.isfinite(cat.columns["sigma"]).sum()) == 39
    tri = c["Triangulum II"]
    assert cat.columns["sigma"][tri] == 3.4 and cat.columns["sigma_is_upper_limit"][tri]
    assert np.isnan(cat.columns["e_sigma_plus"][tri]) and np.isnan(cat.columns["e_sigma_minus"][tri])
    scl = c["Sculptor"]
    assert (cat.columns["sigma"][scl], cat.columns["e_sigma_plus"][scl], cat.columns["e_sigma_minus"][scl]) == (
        9.2, 1.1, 1.1)
    leo_t = c["Leo T"]  # footnote e: no uncertainty on M_V (±9.99 placeholders)
    assert cat.columns["M_V"][leo_t] == -8.0 and np.isnan(cat.columns["e_M_V_plus"][leo_t])
    assert np.isnan(cat.columns["e_feh_spread_plus"][c["Carina"]])  # footnote d
    assert np.isnan(cat.columns["sigma"][c["Tucana IV"]]) and not cat.columns["sigma_is_upper_limit"][c["Tucana IV"]]
    assert cat.columns["references"][scl] == "2,2,3,4,5,6,6"
    for name, values in cat.columns.items():
        if name.startswith("e_"):
            assert np.all(np.isnan(values) | (values >= 0)) and not np.any(np.isin(values, (9.9, 9.99)))


def test_mcconnachie_real_file(shared_data: Path) -> None:
    cat = dw.read_mcconnachie(shared_data / MC)
    c = dict(zip(cat.names, range(len(cat.names))))
    assert len(cat.names) == 133 and int(cat.columns["nearby_ambiguous"].sum()) == 22
    sgr = c["Sagittarius dSph"]
    assert cat.columns["nearby_r_half"][sgr] == 342.0 and cat.columns["nearby_sigma"][sgr] == 11.4
    assert cat.columns["nearby_ra"][sgr] == pytest.approx(15 * (18 + 55 / 60 + 19.5 / 3600))
    assert cat.columns["nearby_dec"][c["Leo IV"]] == pytest.approx(-(32 / 60))  # "-0 32 0": the sign of -0
    galaxy = c["The Galaxy"]  # "nines" everywhere, no references
    assert np.isnan(cat.columns["nearby_dmod"][galaxy]) and cat.columns["nearby_references"][galaxy] == ""
    assert np.isnan(cat.columns["e_nearby_sigma_plus"][c["Andromeda"]])
    assert cat.columns["nearby_M_HI"][c["LMC"]] == 460.0


def test_cube_layout_units_and_flags(dwarfs_cube, dwarfs_store: Path) -> None:
    ds = dwarfs_cube
    schema = validate(ds)
    assert dict(ds.sizes) == {"dwarf": 54, "nearby": 133}
    for name, spec in schema.variables.items():
        assert u.Unit(ds[name].attrs["units"]) is not None and ds[name].attrs["long_name"] == spec.long_name
    assert ds["sigma_is_upper_limit"].dtype == bool and ds["nearby_ambiguous"].dtype == bool
    assert len(json.loads(ds.attrs["source_files"])) == 2 and "Simon 2019" in ds.attrs["citation"]
    assert write_cube(ds, dwarfs_store) == "unchanged"


@pytest.mark.parametrize(
    ("line", "edit", "fragment"),
    [
        (1, lambda s: s.replace("Vhel", "Vrad"), "the first line must be the Simon 2019 header"),
        (4, lambda s: s.replace("   9.2  ", "   9.x  "), "'9.x' is not a number"),
        (4, lambda s: s.replace("-10.82 +0.14", "-10.82  +0.14"), "is not in a column"),
        (4, lambda s: s[:125] + "2" + s[126:], "is not an upper-limit flag"),
        (7, lambda s: s.replace("-9.9  -9.9", "+0.9  -0.9"), "upper limit but has no value or carries real errors"),
        (7, lambda s: s[:17] + " " * (len(s) - 17), "missing M_V, r_half, distance"),
        (5, lambda s: s.replace("0.00", "0.0O"), "'0.0O' is not a number"),
    ],
)
def test_simon_malformed_copies_name_file_and_line(mirror_copy, line, edit, fragment) -> None:
    path = mirror_copy(SIMON, line, edit)
    with pytest.raises(ParseError) as info:
        dw.read_simon(path)
    assert info.value.line == line and f"{path.name}, line {line}:" in str(info.value)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("line", "edit", "fragment"),
    [
        (38, lambda s: s[:19] + s[19:].replace("0.264", "O.264"), "'O.264' is not a number"),
        (39, lambda s: s[:19] + " ".join(s[19:].split()[:30]), "found 30 fields"),
        (40, lambda s: " " * 19 + s[19:], "expected a name"),
        (36, lambda s: "ruler", "expected the 1234567890… column ruler"),
        (35, lambda s: "labels", "no 'GalaxyName' column-label line"),
    ],
)
def test_mcconnachie_malformed_copies_name_file_and_line(mirror_copy, line, edit, fragment) -> None:
    path = mirror_copy(MC, line, edit)
    with pytest.raises(ParseError) as info:
        dw.read_mcconnachie(path)
    assert fragment in str(info.value) and path.name in str(info.value)
    assert info.value.line == (169 if "GalaxyName" in fragment else line)  # no label line: the end of the file


def test_duplicate_dwarf_is_refused(mirror_copy) -> None:
    path = mirror_copy(SIMON, 5, lambda s: s.replace("     Cetus~II", "    Tucana~IV"))
    with pytest.raises(ParseError, match="listed twice: Tucana IV"):
        dw.read_simon(path)


def _cell(value: float | None, end: int, start: int, fmt: str) -> str:
    """Text placed so that it ends at character ``end`` (blank for None)."""
    text = "" if value is None else format(value, fmt)
    return text.rjust(end - start)


optional = st.one_of(st.none(), st.floats(0.1, 99.0).map(lambda x: round(x, 1)))


@settings(max_examples=30, deadline=None)
@given(m_v=st.floats(-15, 0).map(lambda x: round(x, 2)), r_half=st.integers(1, 9999), sigma=optional,
       upper=st.booleans())
def test_simon_rows_placed_by_column_end_round_trip(shared_data: Path, tmp_path_factory, m_v, r_half, sigma,
                                                    upper) -> None:
    upper = upper and sigma is not None
    cells = {"dwarf": ("Test~Dwarf", "s"), "M_V": (m_v, ".2f"), "e_M_V_plus": (0.1, "+.2f"),
             "e_M_V_minus": (-0.2, "+.2f"), "r_half": (r_half, "d"), "distance": (50.0, ".1f"),
             "sigma": (sigma, ".1f"), "e_sigma_plus": (-9.9 if upper else 1.5, "+.1f") if sigma else (None, ""),
             "sigma_is_upper_limit": (int(upper), "d"), "feh_spread_is_upper_limit": (0, "d"),
             "references": ("1,2,3,4,5,6,7", "s")}
    line, position = "", 0
    for field, end in dw.SIMON_COLUMNS:
        value, fmt = cells.get(field, (None, ""))
        line += _cell(value, end, position, fmt)
        position = end
    header = (shared_data / SIMON).read_text().split("\n")[:2]
    path = tmp_path_factory.mktemp("simon") / "t.dat"
    path.write_text("\n".join([*header, line, "", "footnotes"]))
    cat = dw.read_simon(path)
    assert cat.names == ["Test Dwarf"] and cat.columns["M_V"][0] == m_v and cat.columns["r_half"][0] == r_half
    assert cat.columns["e_M_V_minus"][0] == 0.2 and np.isnan(cat.columns["e_r_half_plus"][0])
    assert np.array_equal(cat.columns["sigma"], [np.nan if sigma is None else sigma], equal_nan=True)
    assert bool(cat.columns["sigma_is_upper_limit"][0]) == upper
    if sigma is not None:
        assert np.isnan(cat.columns["e_sigma_plus"][0]) == upper
