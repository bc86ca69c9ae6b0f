"""The package layout: layers a newcomer can see in the folder names, enforced on every import.

sigcube is cut into layers, each importing only from itself and the layers below it (function-level imports and
those under ``if TYPE_CHECKING`` included):

    base (errors, constants, conventions, version) < model < stats < compute < io < engines
        < interfaces (and the facade ``sigcube``) < study < cli

No import cycle exists, at module level or inside functions; no generic module names a dataset kind or a
kernel (only the modules that define one, or that are about one, may); the Σ-Gravity study imports only the
public API; and every module imports first in a fresh process. Pure tests: no data mirror needed.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

LAYERS = ("base", "model", "stats", "compute", "io", "engines", "interfaces", "study", "cli")
BASE = ("sigcube.version", "sigcube.errors", "sigcube.constants", "sigcube.conventions")


def layer(module: str) -> int:
    """The layer of a sigcube module (its rank in :data:`LAYERS`)."""
    if module in BASE:
        return 0
    if module == "sigcube":
        return LAYERS.index("interfaces")  # the facade: the public API, imported lazily
    part = module.split(".")[1]
    if part not in LAYERS:
        raise AssertionError(f"{module} belongs to no layer: put it in one of {', '.join(LAYERS)}")
    return LAYERS.index(part)


def all_imports(path: Path, name: str, modules: dict[str, Path]) -> list[tuple[int, str]]:
    """(line, target module) of every sigcube import in ``path``, module-level and function-level alike."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "sigcube"]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            if base.split(".")[0] != "sigcube":
                continue
            subs = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in modules]
            out += [(node.lineno, s) for s in subs]
            if len(subs) < len(node.names):
                out.append((node.lineno, base))
        elif isinstance(node, ast.Call) and ast.unparse(node.func) in ("importlib.import_module", "import_module") \
                and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            out.append((node.lineno, node.args[0].value))
    return [(line, t) for line, t in out if t != "sigcube.manifests"]


def test_every_import_goes_down_or_stays_in_its_layer(module_files):
    upward = []
    for name, path in module_files.items():
        if name == "sigcube.manifests":
            continue
        for line, target in all_imports(path, name, module_files):
            if layer(target) > layer(name):
                upward.append(f"{path.relative_to(path.parents[len(name.split('.')) - 1])}:{line} "
                              f"{name} ({LAYERS[layer(name)]}) imports {target} ({LAYERS[layer(target)]})")
    assert not upward, "imports that go up a layer:\n" + "\n".join(upward)


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a list of modules (first = last), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
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


def test_the_cycle_finder_finds_cycles():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_even_inside_functions(module_files):
    graph = {name: {t for _, t in all_imports(path, name, module_files) if t in module_files and t != name}
             for name, path in module_files.items()}
    cycle = find_cycle(graph)
    assert cycle is None, " → ".join(cycle)


SPECIFIC = ("sigcube.model.kernels.", "sigcube.compute.sigma_loop", "sigcube.compute.resonance_series",
            "sigcube.compute.fast_paths", "sigcube.io.ingest.", "sigcube.io.kinds", "sigcube.io.layouts",
            "sigcube.io.rotation_curves", "sigcube.io.synth", "sigcube.study", "sigcube.cli")
"""Modules about particular kernels or dataset kinds: the kernel families and their fast paths, the readers and
packers of each dataset kind, the built-in kinds' registrations, the study and the command line."""
GENERIC_EXCEPTIONS = ("sigcube.model.kernels.registry", "sigcube.model.kernels.common", "sigcube.model.kernels")


def _names_of_things() -> set[str]:
    from sigcube.io.datasets import dataset_kinds, dataset_names
    from sigcube.model.kernels import kernel_names

    return set(kernel_names()) | {k.name for k in dataset_kinds()} | set(dataset_names())


def test_no_generic_module_names_a_kernel_or_a_dataset_kind(module_files):
    names = _names_of_things()
    found = []
    for name, path in module_files.items():
        if name.startswith(SPECIFIC) and name not in GENERIC_EXCEPTIONS or name == "sigcube.manifests":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                      if isinstance(n, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                      and n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings \
                    and node.value in names:
                found.append(f"{name}:{node.lineno} names {node.value!r}")
    assert not found, "generic modules that name a kernel or a dataset kind:\n" + "\n".join(found)


PUBLIC = ("sigcube", "sigcube.errors", "sigcube.constants", "sigcube.conventions", "sigcube.version",
          "sigcube.model.kernels", "sigcube.model.kernels.", "sigcube.model.metrics", "sigcube.model.points",
          "sigcube.model.inputs", "sigcube.model.segments", "sigcube.model.galaxies", "sigcube.model.lcdm",
          "sigcube.stats.",
          "sigcube.compute.quadrature",
          "sigcube.io.datasets", "sigcube.io.cubes", "sigcube.io.rotation_curves", "sigcube.io.ingest.clusters",
          "sigcube.io.ingest.milkyway", "sigcube.io.synth_sparc", "sigcube.engines.", "sigcube.interfaces.")
"""The public API: the facade and the modules the API reference documents (a name ending in a dot: every module
under it)."""


def test_the_study_imports_only_the_public_api(module_files):
    private = []
    for name, path in module_files.items():
        if not name.startswith("sigcube.study"):
            continue
        for line, target in all_imports(path, name, module_files):
            if not (target.startswith("sigcube.study") or target in PUBLIC
                    or any(p.endswith(".") and target.startswith(p) for p in PUBLIC)):
                private.append(f"{name}:{line} imports {target}")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sigcube") \
                    and not node.module.startswith("sigcube.study"):
                private += [f"{name}:{node.lineno} imports the private {a.name} of {node.module}"
                            for a in node.names if a.name.startswith("_") and a.name != "__version__"]
    assert not private, "the study reaches past the public API:\n" + "\n".join(private)


# Imports every third-party module sigcube uses (those installed), then forks one child per sigcube module
# that imports that module first: a fresh process as far as sigcube is concerned, without paying for numpy,
# astropy, xarray, holoviews, … 100 times.
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


@pytest.mark.slow  # a fresh import of each of ~120 modules: the AST checks above run in the default tier
def test_every_module_imports_first_in_a_fresh_process(tmp_path, module_files, third_party_modules):
    modules = sorted(module_files)
    proc = subprocess.run([sys.executable, "-c", _IMPORT_EACH, ",".join(sorted(third_party_modules)),
                           ",".join(modules)], capture_output=True, text=True, timeout=900, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout == "", proc.stdout
    assert len(modules) > 60


@pytest.mark.parametrize("module, expected", [("sigcube.errors", 0), ("sigcube.model.metrics", 1),
                                              ("sigcube.io.cubes", 4), ("sigcube.cli.report", 8)])
def test_layers_are_read_from_folder_names(module, expected):
    assert layer(module) == expected
