"""Store URLs on the command line: any fsspec store works for --out, --cube and RESULT (here the in-process
``memory://`` filesystem); an unknown protocol is one line, and never a local folder named after it."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from sigcube.cli import app
from sigcube.io.cubes import open_cube

runner = CliRunner()
SPEC = 'name = "u"\nkernel = "sigma"\nobject_chunk = 20\n[grid.A0]\nvalues = [1.0, 1.3, 1.6]\n'


def test_synth_sweep_report_and_info_through_urls(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cube, out = "memory://cli-urls/synth.zarr", "memory://cli-urls/r.zarr"
    res = runner.invoke(app, ["synth", "50", "--out", cube, "--seed", "3", "--param", "A0=1.3"])
    assert res.exit_code == 0, res.output
    assert open_cube(cube).sizes["galaxy"] == 50
    (tmp_path / "u.toml").write_text(SPEC)
    res = runner.invoke(app, ["sweep", "u.toml", "--cube", cube, "--out", out, "--synchronous"])
    assert res.exit_code == 0, res.output
    assert "3 object chunks" in res.stderr
    res = runner.invoke(app, ["report", "sweep", out, "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["grid"] == {"A0": 3}
    res = runner.invoke(app, ["info", out])
    assert res.exit_code == 0 and "sweep" in res.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["u.toml"]  # nothing written locally


def test_an_unknown_protocol_is_one_line_and_writes_nothing_local(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "u.toml").write_text(SPEC)
    for args in (["synth", "5", "--out", "nosuch://bucket/x.zarr"],
                 ["sweep", "u.toml", "--cube", "memory://cli-urls-none/c.zarr", "--out", "nosuch://bucket/r.zarr",
                  "--synchronous"],
                 ["info", "nosuch://bucket/r.zarr"]):
        res = runner.invoke(app, args)
        assert res.exit_code == 2, (args, res.output)
        assert "is not a usable store URL" in res.stderr and len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["u.toml"]
