"""Fixtures of the project tests: the package's source files and the third-party modules they import (read with ``ast``)."""

from __future__ import annotations

import ast
import sys
import tomllib
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def pyproject(repo_root: Path) -> dict:
    """The repository's ``pyproject.toml``, parsed."""
    return tomllib.loads((repo_root / "pyproject.toml").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def module_files(repo_root: Path) -> dict[str, Path]:
    """Every module of the package, by dotted name (a package by its name, from ``__init__.py``)."""
    out = {}
    for path in sorted((repo_root / "sigcube").rglob("*.py")):
        parts = path.relative_to(repo_root).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


@pytest.fixture(scope="session")
def third_party_modules(module_files: dict[str, Path]) -> set[str]:
    """Dotted names of the non-standard-library modules sigcube imports anywhere in its code."""
    names = set()
    for path in module_files.values():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module)
    return {n for n in names if n.split(".")[0] not in sys.stdlib_module_names and n.split(".")[0] != "sigcube"}
