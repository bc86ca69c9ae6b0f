"""The command line answers at once: ``sigcube --help``, ``sigcube kernels`` and every command's ``--help`` import no
plotting library, no numba, no distributed and no galpy (each command imports what it needs when it runs). How long
they take is measured by ``bench/startup.py``, not here."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("holoviews", "panel", "bokeh", "hvplot", "numba", "distributed", "galpy")
"""Modules no help or listing may import."""

_RUN = r"""
import json, sys
heavy = json.loads(sys.argv[2])
sys.argv = ["sigcube", *json.loads(sys.argv[1])]
from sigcube.cli import app
try:
    app()
except SystemExit:
    pass
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules} & set(heavy))), file=sys.stderr)
"""


def _imported(*args: str) -> list[str]:
    proc = subprocess.run([sys.executable, "-c", _RUN, json.dumps(list(args)), json.dumps(HEAVY)],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stderr.strip().splitlines()[-1])


def test_the_root_help_imports_no_command():
    assert _imported("--help") == []


@pytest.mark.parametrize("args", [["kernels"], ["kernels", "sigma"], ["ingest", "--help"], ["ingest", "table", "--help"],
                                  ["report", "--help"], ["report", "sparc", "--help"], ["sweep", "--help"],
                                  ["fit", "--help"], ["info", "--help"], ["explore", "--help"], ["synth", "--help"]])
def test_listings_and_helps_import_nothing_heavy(args):
    assert _imported(*args) == []


def test_the_root_help_lists_every_command():
    from typer.testing import CliRunner

    from sigcube.cli import COMMANDS, app, command_tree

    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    assert all(name in result.output for name in COMMANDS)
    assert set(command_tree().commands) == set(COMMANDS)  # the list and the commands it loads agree
