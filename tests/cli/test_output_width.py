"""A report redirected to a file or a pipe keeps every digit the terminal shows: stdout is as wide as its widest line
when it is not a terminal."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from sigcube.cli.common import PIPE_WIDTH, ReportConsole
from sigcube.study.reports.kernels import render

NUMBER = re.compile(r"[-+−]?\d+(?:\.\d+)?(?:e[-+]?\d+)?%?")


def test_a_wide_table_sent_to_a_pipe_is_not_cut(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")  # a shell's terminal width, exported: not the width of a file
    table = Table()
    for i in range(14):
        table.add_column(f"column {i}")
    table.add_row(*[f"-12345.678{i}" for i in range(14)])
    ReportConsole().print(table)
    out = capsys.readouterr().out
    assert "…" not in out
    for i in range(14):
        assert f"-12345.678{i}" in out
    assert max(len(line) for line in out.splitlines()) < PIPE_WIDTH


def test_the_width_a_terminal_reports_is_kept_on_a_terminal():
    terminal = ReportConsole(file=io.StringIO(), force_terminal=True, width=97)
    assert terminal.size.width == 97


def test_a_report_written_to_a_file_holds_every_number_a_wide_terminal_shows(sparc_store, tmp_path):
    base = [str(Path(sys.executable).with_name("sigcube")), "report", "kernels", "--cube", str(sparc_store)]
    payload = json.loads(subprocess.run([*base, "--json"], capture_output=True, text=True, check=True).stdout)
    terminal = Console(file=io.StringIO(), force_terminal=True, width=260, color_system=None)
    render(payload, terminal)
    shown = set(NUMBER.findall(terminal.file.getvalue()))
    path = tmp_path / "report.txt"
    with path.open("w") as f:
        subprocess.run(base, stdout=f, check=True, env={**os.environ, "COLUMNS": "80"})
    written = path.read_text()
    assert "…" not in written
    missing = sorted(n for n in shown if n not in written)
    assert not missing, f"numbers on the terminal but not in the file: {missing[:10]}"
    # rich's default for a file, 80 columns, cuts this table's numbers ("17.…"): the check above has teeth
    narrow = Console(file=io.StringIO(), width=80, color_system=None)
    render(payload, narrow)
    assert shown - set(NUMBER.findall(narrow.file.getvalue()))
