"""SPARC's bulge luminosities: the reader on the real file and on broken copies, and the cube's L_bul against the
rotation curves' own bulge components."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sigcube.errors import ParseError
from sigcube.io.ingest.sparc_bulges import read_bulges


def test_every_galaxy_and_only_those_with_a_bulge_component_have_bulge_light(shared_data: Path, sparc_cube):
    bulges = read_bulges(shared_data / "sparc" / "Bulges.dat")
    assert set(bulges) == set(map(str, sparc_cube.galaxy.values))
    has_component = (np.nan_to_num(sparc_cube.v_bul.values) > 0).any(axis=1)
    np.testing.assert_array_equal(sparc_cube.L_bul.values > 0, has_component)  # 32 galaxies either way
    assert has_component.sum() == 32
    assert np.all(sparc_cube.L_bul.values < sparc_cube.L36.values)  # a bulge is part of the 3.6 μm light
    assert [bulges[str(g)] for g in sparc_cube.galaxy.values] == list(sparc_cube.L_bul.values)


@pytest.mark.parametrize("row, message", [
    ("NGC0001\t1.0\t2.0", "expected 2 fields"),
    ("NGC0001\tabc", "column Lbul: 'abc' is not a number"),
    ("NGC0001\t-1.0", "column Lbul: -1 1e9 solLum is negative"),
    ("CamB\t0.0", "galaxy CamB is listed twice"),
])
def test_a_broken_row_is_named(tmp_path: Path, row: str, message: str):
    path = tmp_path / "Bulges.dat"
    path.write_text(f"# Galaxy \tLbul (10^9 Lsun)\nCamB\t\t0.0\n{row}\n")
    with pytest.raises(ParseError, match=message) as info:
        read_bulges(path)
    assert ":3" in str(info.value) or "line 3" in str(info.value)


def test_a_file_without_rows_is_refused(tmp_path: Path):
    path = tmp_path / "Bulges.dat"
    path.write_text("# only comments\n\n")
    with pytest.raises(ParseError, match="no data rows"):
        read_bulges(path)
