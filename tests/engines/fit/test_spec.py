"""Fit specs: every bad key is one line naming it; the CLI exits 2 with that line."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from sigcube.cli import app
from sigcube.engines.fit.spec import FitSpecError, load_spec, parse_spec

GOOD = {"dataset": "sparc", "kernel": "sigma_xi", "free": {"A": {"bounds": [0.01, 5.0]}}}


@pytest.mark.parametrize("edit,needle", [
    ({"kernel": "nope"}, "kernel"),
    ({"dataset": "nope"}, "dataset"),
    ({"free": [1, 2]}, "[free]"),
    ({"free": {"A": {"bounds": [6.0, 1.0]}}}, "free.A.bounds"),
    ({"free": {"A": {"bounds": [0.0, 60.0]}}}, "free.A.bounds"),
    ({"kernel": "sigma", "free": {"A0": {"bounds": [0.0, 5.0], "scale": "log"}}}, "free.A0.scale"),
    ({"free": {"A": {"grid": 1}}}, "free.A.grid"),
    ({"free": {"zeta": {}}}, "free.zeta"),
    ({"free": {"A": {"bounds": [0.1, 1], "step": 2}}}, "free.A"),
    ({"fixed": {"A": 1.0}}, "[fixed] and [free]"),
    ({"fixed": {"g_dagger": -1.0}}, "[fixed]"),
    ({"fit": {"starts": 0}}, "fit.starts"),
    ({"fit": {"sigma_int": -1.0}}, "fit.sigma_int"),
    ({"nuisance": {"mode": "marginal"}}, "nuisance.mode"),
    ({"nuisance": {"mode": "profile", "parameters": ["mass"]}}, "nuisance.parameters"),
    ({"colour": 1}, "colour"),
])
def test_bad_spec_is_one_line_naming_the_key(edit, needle):
    with pytest.raises(FitSpecError) as info:
        parse_spec({**GOOD, **edit})
    message = str(info.value)
    assert needle in message and "\n" not in message


def test_shipped_specs_parse(repo_root):
    specs = sorted((repo_root / "sweeps" / "fits").glob("fit_*.toml"))
    assert specs
    for path in specs:
        spec = load_spec(path)
        assert spec.kernel.name in ("sigma_xi", "nfw", "mond") and spec.dataset == "sparc"


def test_cli_bad_spec_exits_2_with_one_line(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('dataset = "sparc"\nkernel = "sigma_xi"\n[free.A]\nbounds = [3, 1]\n')
    result = CliRunner().invoke(app, ["fit", str(path), "--synchronous", "--out", str(tmp_path / "o.zarr")])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "free.A.bounds" in lines[0]
