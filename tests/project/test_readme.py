"""The README is short and right: its Python examples run as written, its ``sigcube …`` command lines are real
commands and options, the output it quotes is what the committed report prints, and its facts match the code.

The manual moved to the documentation site; its examples are run by ``tests/project/test_docs.py``.
"""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import pytest

from sigcube.engines.sweep import load_spec, run_sweep

MAX_LINES = 200
"""A README a user reads in five minutes."""


@pytest.fixture(scope="module")
def readme(repo_root: Path) -> str:
    return (repo_root / "README.md").read_text(encoding="utf-8")


def python_blocks(text: str) -> list[str]:
    """Every ```python block of a Markdown text."""
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def command_lines(text: str) -> list[str]:
    """Every ``sigcube …`` line of a Markdown text's bash blocks, continuation lines joined, comments dropped."""
    lines: list[str] = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            words = line.split("  #")[0].strip()
            if words.startswith("sigcube "):
                lines.append(words)
            elif words.startswith("[") and lines:  # an option list continued on the next line
                lines[-1] += " " + words
    return lines


def check_command_line(line: str) -> set[str]:
    """Check a synopsis (``sigcube ingest sparc|milkyway … [--out …]``) against the CLI itself: each command (each
    of the alternatives ``a|b``) exists and takes each ``--option`` the line shows. The commands' names."""
    from sigcube.cli import command_tree

    root = command_tree()
    words = line.split()[1:]
    groups = [root]
    while words and words[0].split("|")[0] in getattr(groups[0], "commands", {}):  # a group: its sub-commands
        names = words.pop(0).split("|")
        groups = [group.commands[name] for group in groups for name in names]
    assert not hasattr(groups[0], "commands"), f"{line}: no command after the group"
    options = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", " ".join(words)))
    for command in groups:
        accepted = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
        assert options <= accepted, f"{line}: {sorted(options - accepted)} not options of {command.name}"
    return {command.name for command in groups}


def test_the_readme_is_short(readme):
    assert len(readme.splitlines()) <= MAX_LINES


def test_the_readme_says_where_the_docs_are_and_how_to_cite_the_data(readme):
    assert "make docs" in readme and "docs/_build/html/index.html" in readme
    assert "Lelli, F., McGaugh, S. S. & Schombert, J. M. 2016, AJ 152, 157" in readme
    for cited in ("Eilers", "Mróz", "McMillan 2017", "Tian et al. 2020", "Mistele", "Simon 2019", "McConnachie 2012",
                  "Zhu et al. 2023", "Bevacqua et al. 2022"):
        assert cited in readme, cited


def test_every_command_line_names_real_commands_and_options(readme):
    lines = command_lines(readme)
    assert len(lines) >= 8
    seen = set().union(*(check_command_line(line) for line in lines))
    assert {"sparc", "table", "kernels", "sweep", "explore", "regression", "info", "fit", "synth"} <= seen


def test_the_quoted_report_is_what_the_committed_report_prints(readme, repo_root):
    """The excerpt under "Quick start" is `sigcube report sparc --preset all` as the committed report renders it
    (tests/project/test_docs.py remakes that report and compares it with the committed one)."""
    from rich.console import Console

    from sigcube.study.reports.sparc import render_summary

    record = json.loads((repo_root / "docs" / "results" / "sparc.json").read_text(encoding="utf-8"))
    console = Console(record=True, width=160, file=io.StringIO(), color_system=None)
    render_summary(record["report"], console)
    printed = {" ".join(line.split()) for line in console.export_text().splitlines()}
    excerpt = re.search(r"```text\n(.*?)```", readme, flags=re.S).group(1).splitlines()
    assert len(excerpt) >= 4
    for line in excerpt:
        assert " ".join(line.split()) in printed, line


def test_every_marked_number_is_its_committed_reports(readme, repo_root):
    """The findings' numbers carry markers naming the committed report each comes from, and equal it."""
    import importlib
    import sys

    ext = str(repo_root / "docs" / "_ext")
    if ext not in sys.path:
        sys.path.insert(0, ext)
    numbers, records = (importlib.import_module(f"sigcube_docs.{m}") for m in ("numbers", "records"))
    assert sum(1 for _ in numbers.markers(readme)) >= 8
    assert numbers.problems(readme, records.load) == []


def test_the_kernel_count_is_the_registry(readme):
    import sigcube

    built_in = [name for name in sigcube.kernel_names() if sigcube.get_kernel(name).func.__module__.startswith("sigcube.")]
    count = int(re.search(r"(\d+) registered kernels", readme).group(1))
    assert count == len(built_in)


@pytest.fixture(scope="module")
def workdir(sparc_store, repo_root, tmp_path_factory):
    """A folder holding cubes/sparc.zarr and the A0 × k sweep, as after `make demo`."""
    work = tmp_path_factory.mktemp("readme")
    shutil.copytree(sparc_store, work / "cubes" / "sparc.zarr")
    spec = load_spec(repo_root / "sweeps" / "sigma_A0_k.toml")
    run_sweep(spec, work / "cubes" / "sigma-A0-k.zarr", cube=work / "cubes" / "sparc.zarr", synchronous=True)
    return work


def test_readme_examples_run(readme, workdir, monkeypatch):
    """Each Python block in its own namespace, in order, in the folder `make demo` leaves."""
    blocks = python_blocks(readme)
    assert blocks
    monkeypatch.chdir(workdir)
    for index, block in enumerate(blocks):
        exec(compile(block, f"README.md python block {index}", "exec"), {"__name__": "readme"})
