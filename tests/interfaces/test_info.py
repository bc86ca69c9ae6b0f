"""`sigcube info`: one row per variable with its dimensions, unit, values and meaning (no raw xarray repr), read from
the store itself; best points and posteriors with their units; in a 100-column terminal no line is wider. Unit tests:
a small synthetic cube (no data mirror)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from typer.testing import CliRunner

import sigcube
import sigcube.cli.info as info
from sigcube.cli import app
from sigcube.cli.common import ReportConsole
from sigcube.io.synth import synth_cube

runner = CliRunner()


@pytest.fixture(scope="module")
def cube(tmp_path_factory):
    out = tmp_path_factory.mktemp("info") / "synth.zarr"
    synth_cube(40, out, seed=3)
    return out


def _row(text: str, name: str) -> list[str]:
    line = next(x for x in text.splitlines() if x.startswith(("│ " + name + " ", "│ " + name + "│")))
    return [cell.strip() for cell in line.strip("│").split("│")]


def test_info_lists_every_variable_with_its_unit_and_range(cube):
    res = runner.invoke(app, ["info", str(cube)])
    assert res.exit_code == 0, res.output
    assert "<xarray." not in res.stdout and "Dimensions:" not in res.stdout, "no raw xarray repr"
    ds = sigcube.open(cube).load()
    for name in ds.data_vars:
        var = ds[name]
        row = _row(res.stdout, name)
        assert row[1] == ", ".join(var.dims) and row[2] == (var.attrs.get("units") or "—"), row
        if var.dtype.kind == "f":
            values = np.asarray(var.values, dtype=float)
            low, high = np.nanmin(values), np.nanmax(values)
            assert row[3].startswith(f"{low:.4g} … {high:.4g}, mean {np.nanmean(values):.4g}"), row
            missing = int(np.isnan(values).sum())
            assert (f"({missing} of {values.size} NaN)" in row[3]) == (missing > 0), row
    assert "every chunk checked" in res.stdout and f"content_sha256: {ds.attrs['content_sha256']}" in res.stdout


def test_info_fits_a_100_column_terminal(cube, monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr(info, "console", ReportConsole(file=out, width=100))
    info.info(str(cube))
    lines = out.getvalue().splitlines()
    assert lines and max(len(x) for x in lines) <= 100, max(lines, key=len)
