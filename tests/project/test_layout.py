"""The package layout: every module imports on its own, and no module-level import cycle exists.

Pure tests: no data mirror needed. The import graph is read from the source with ``ast``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path


def module_level_imports(path: Path) -> list[ast.Import | ast.ImportFrom]:
    """The import statements run when ``path`` is imported: not those inside functions or ``if TYPE_CHECKING``."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                found.append(node)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                visit(node.orelse)
            else:
                for field in ("body", "orelse", "finalbody", "handlers"):
                    visit(getattr(node, field, []))

    visit(ast.parse(path.read_text(encoding="utf-8"), str(path)).body)
    return found


def _ancestors(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module → the sigcube modules its import runs (a target's parent packages run first, except shared ones).

    ``modules``: every sigcube module's file, by dotted name.
    """
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in module_level_imports(path):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
                continue
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            submodules = {f"{base}.{alias.name}" for alias in node.names} & modules.keys()
            targets.update(submodules)
            # ``from <own package> import <submodule>`` does not need the (partly run) package's attributes
            if len(submodules) < len(node.names) or base not in _ancestors(name):
                targets.add(base)
        edges = set()
        for target in (t for t in targets if t in modules):
            edges.add(target)
            edges.update(a for a in _ancestors(target) if a not in _ancestors(name) and a != name)
        graph[name] = edges - {name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a list of modules (first = last), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = 2
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_graph_reader_sees_module_level_imports_only(module_files):
    graph = import_graph(module_files)
    assert "sigcube.cli.common" in graph["sigcube.cli.report"]
    assert "sigcube.datasets" in graph["sigcube.cli.common"]
    assert "sigcube.cubes" in graph["sigcube.datasets"]  # the package runs before its schema module
    assert "sigcube.cli" not in graph["sigcube.cli.report"]  # a module's own package is already importing
    # report.py imports sigcube.reports.sparc inside its command functions only
    assert "sigcube.reports.sparc" not in graph["sigcube.cli.report"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_module_level_import_cycle(module_files):
    assert find_cycle(import_graph(module_files)) is None


# Imports every third-party module sigcube uses (those installed), then forks one child per sigcube module
# that imports that module first: a fresh process as far as sigcube is concerned, without paying for numpy,
# astropy, xarray, holoviews, … 70 times.
_IMPORT_EACH = r"""
import importlib, importlib.util, os, sys
third_party, modules = sys.argv[1].split(","), sys.argv[2].split(",")
for name in third_party:
    if importlib.util.find_spec(name.split(".")[0]) is not None:
        importlib.import_module(name)
assert not any(m == "sigcube" or m.startswith("sigcube.") for m in sys.modules)
for name in modules:
    pid = os.fork()
    if pid == 0:
        try:
            importlib.import_module(name)
        except BaseException as exc:
            print(f"import {name}: {type(exc).__name__}: {exc}", flush=True)
            os._exit(1)
        os._exit(0)
    os.waitpid(pid, 0)
"""


def test_every_module_imports_first_in_a_fresh_process(tmp_path, module_files, third_party_modules):
    modules = sorted(module_files)
    proc = subprocess.run([sys.executable, "-c", _IMPORT_EACH, ",".join(sorted(third_party_modules)),
                           ",".join(modules)], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout == "", proc.stdout
    assert len(modules) > 60
