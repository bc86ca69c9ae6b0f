"""MaNGA ingest: the DynPop f_DM subset and the counter-rotating cases with their matched controls."""

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
from sigcube.io.ingest import manga as mg
from sigcube.io.schema import validate

DYNPOP = "manga/tangosidm_dynpop_gNFWcyl_fdm_subset.csv"
MATCH = "manga/counterrotation_bevacqua_cases_matched_controls.csv"


def test_real_files(shared_data: Path) -> None:
    dynpop = mg.read_dynpop(shared_data / DYNPOP)
    assert len(dynpop["galaxy"]) == 534 and len(set(dynpop["galaxy"])) == 534
    assert len(set(dynpop["mangaid"])) == 529  # five galaxies observed on two plates
    assert dynpop["galaxy"][0] == "7443-12705" and dynpop["f_DM"][0] == 0.878
    assert np.all((dynpop["f_DM"] >= 0) & (dynpop["f_DM"] <= 1))
    matches = mg.read_matches(shared_data / MATCH)
    assert len(matches["match_rank"]) == 310 and len(set(matches["case_plateifu"])) == 62
    assert len(set(matches["control_plateifu"])) == 310


def test_cube_flags_the_one_case_and_22_controls(manga_cube, manga_store: Path) -> None:
    ds = manga_cube
    schema = validate(ds)
    assert dict(ds.sizes) == {"galaxy": 534, "match": 310}
    for name, spec in schema.variables.items():
        assert u.Unit(ds[name].attrs["units"]) is not None and ds[name].attrs["long_name"] == spec.long_name
    assert list(ds["galaxy"].values[ds["is_counter_rotating_case"].values]) == ["8332-3704"]
    assert int(ds["is_matched_control"].sum()) == 22
    assert len(json.loads(ds.attrs["source_files"])) == 2 and "Bevacqua" in ds.attrs["citation"]
    assert write_cube(ds, manga_store) == "unchanged"


@pytest.mark.parametrize(
    ("relative", "line", "edit", "fragment"),
    [
        (DYNPOP, 1, lambda s: s.replace("fDM(Reff)", "fDM"), "header"),
        (DYNPOP, 3, lambda s: "7495_12703" + s[10:], "not a MaNGA identifier"),
        (DYNPOP, 4, lambda s: s.rsplit(",", 1)[0] + ",1.5", "fDM within [0, 1]"),
        (DYNPOP, 5, lambda s: s.replace(s.split(",")[2], "many"), "'many' is not a number"),
        (DYNPOP, 6, lambda s: "7443-12705" + s[s.index(","):], "appears twice"),
        (MATCH, 2, lambda s: s.replace(",1,", ",6,"), "match_rank '6'"),
        (MATCH, 3, lambda s: s.replace(",2,", ",1,"), "two controls of rank 1"),
        (MATCH, 4, lambda s: s.rsplit(",", 1)[0] + ",-0.5", "is negative"),
        (MATCH, 5, lambda s: s + ",extra", "expected 6 comma-separated fields"),
    ],
)
def test_malformed_copies_name_file_and_line(mirror_copy, relative, line, edit, fragment) -> None:
    path = mirror_copy(relative, line, edit)
    reader = mg.read_dynpop if relative == DYNPOP else mg.read_matches
    with pytest.raises(ParseError) as info:
        reader(path)
    assert info.value.line == line and f"{path.name}, line {line}:" in str(info.value)
    assert fragment in str(info.value)


def test_case_without_five_controls_is_refused(mirror_copy) -> None:
    path = mirror_copy(MATCH)
    lines = path.read_text().split("\n")
    path.write_text("\n".join(lines[:4] + lines[6:]))
    with pytest.raises(ParseError, match="cases without 5 controls: 8455-1902"):
        mg.read_matches(path)


ids = st.tuples(st.integers(7000, 12999), st.integers(1901, 12705)).map(lambda t: f"{t[0]}-{t[1]}")


@settings(max_examples=30, deadline=None)
@given(rows=st.lists(st.tuples(ids, st.floats(1e8, 1e12), st.floats(0.1, 30.0), st.floats(0.0, 1.0)),
                     min_size=1, max_size=20, unique_by=lambda r: r[0]))
def test_dynpop_reader_round_trips_generated_tables(tmp_path_factory, rows) -> None:
    lines = [",".join(mg.DYNPOP_HEADER)] + [f"{p},1-{i},{m!r},{r!r},{f!r}" for i, (p, m, r, f) in enumerate(rows)]
    path = tmp_path_factory.mktemp("dynpop") / "t.csv"
    path.write_text("\n".join(lines) + "\n")
    out = mg.read_dynpop(path)
    assert list(out["galaxy"]) == [p for p, *_ in rows]
    assert np.array_equal(out["f_DM"], [f for *_, f in rows])
    assert np.array_equal(out["M_star"], [m for _, m, _, _ in rows])
