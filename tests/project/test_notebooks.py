"""The notebooks run top to bottom on the real data (nbclient) and are stored without outputs. How long they take
is not asserted (the machine may be loaded); a cell still running after ``CELL_LIMIT_S`` is a hang, and fails."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = ("01_quick_tour", "02_sensitivity")
CELL_LIMIT_S = 900
"""Seconds a cell may run before nbclient stops it: a bound on a hang, generous for a loaded machine."""


@pytest.fixture(params=NOTEBOOKS)
def path(request, repo_root: Path) -> Path:
    return repo_root / "notebooks" / f"{request.param}.ipynb"


def test_the_notebooks_are_there(repo_root):
    assert sorted(p.name for p in (repo_root / "notebooks").glob("*.ipynb")) == ["01_quick_tour.ipynb",
                                                                                   "02_sensitivity.ipynb"]


def test_notebook_is_saved_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]


@pytest.mark.slow  # a LocalCluster sweep and the shipped sensitivity sweeps; the docs build runs them too (slow)
def test_notebook_runs(path, sparc_store, monkeypatch):
    monkeypatch.setenv("SIGCUBE_CUBE_DIR", str(sparc_store.parent))  # the session's cube; results go to a temp dir
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=CELL_LIMIT_S, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    text = "".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", "")) for c in nb.cells
                   if c.cell_type == "code" for o in c.outputs)
    expected = {"01_quick_tour": "mean RMS at the canonical point: 17.50 km/s",
                "02_sensitivity": "ξ_dyn (k = 0.24)"}[path.stem]
    assert expected in text
