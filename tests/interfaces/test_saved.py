"""--save DIR: a report's text, JSON and figures written together, nothing of another kind replaced."""

from __future__ import annotations

import json

import holoviews as hv
import pytest
from typer.testing import CliRunner

from sigcube.errors import SigcubeError
from sigcube.interfaces.plots.base import Plot, PlotError
from sigcube.interfaces.saved import save_report


def _render(payload, console):
    console.print(f"ln B = {payload['ln_b']:+.2f}")


def _figure():
    return Plot(hv.Curve(([0, 1], [0, 1])), "a line")


def _broken():
    raise PlotError("the report holds no ELPD")


def test_a_report_is_saved_whole_and_a_figure_that_cannot_be_drawn_is_said(tmp_path):
    said = []
    written = save_report(tmp_path / "talk", "compare", {"ln_b": 4.0}, _render,
                          {"line": _figure, "elpd": _broken}, say=said.append)
    assert [p.name for p in written] == ["compare.json", "compare.txt", "compare-line.png"]
    assert json.loads((tmp_path / "talk" / "compare.json").read_text()) == {"ln_b": 4.0}
    assert (tmp_path / "talk" / "compare.txt").read_text().strip() == "ln B = +4.00"
    assert (tmp_path / "talk" / "compare-line.png").read_bytes().startswith(b"\x89PNG")
    assert said == ["--save: figure elpd left out: the report holds no ELPD"]
    save_report(tmp_path / "talk", "compare", {"ln_b": 5.0}, _render)  # its own files are replaced
    assert json.loads((tmp_path / "talk" / "compare.json").read_text()) == {"ln_b": 5.0}


def test_nothing_of_another_kind_is_replaced(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(SigcubeError, match="is a file"):
        save_report(tmp_path / "file", "r", {}, _render)
    (tmp_path / "cube.zarr").mkdir()
    with pytest.raises(SigcubeError, match="Zarr store"):
        save_report(tmp_path / "cube.zarr", "r", {}, _render)
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "r.json").write_bytes(b"\x89PNG\r\n\x1a\n....")
    with pytest.raises(SigcubeError, match="not replaced"):
        save_report(folder, "r", {}, _render)
    assert (folder / "r.json").read_bytes().startswith(b"\x89PNG") and not (folder / "r.txt").exists()


@pytest.mark.slow  # every galaxy's fitted curve drawn and written: minutes (the paging: the test of Pages below)
def test_report_compare_save_writes_text_json_and_the_fitted_curves(sparc_store, tmp_path, monkeypatch):
    from sigcube.cli import app

    monkeypatch.setenv("SIGCUBE_CUBE_DIR", str(tmp_path))
    res = CliRunner().invoke(app, ["report", "compare", "mond", "--no-nuisance", "--cube", str(sparc_store),
                                   "--synchronous", "--save", str(tmp_path / "talk")])
    assert res.exit_code == 0, res.output
    names = sorted(p.name for p in (tmp_path / "talk").iterdir())
    pages = [n for n in names if n.startswith("compare-fitted-curves-")]
    assert [n for n in names if n not in pages] == [".sigcube-saved.json", "compare-elpd.png",
                                                    "compare-residual-checks.png", "compare.json", "compare.txt"]
    saved = json.loads((tmp_path / "talk" / "compare.json").read_text())
    assert len(pages) == -(-saved["n_galaxies"] // 8) > 1, "every galaxy drawn, eight to a page"
    assert pages[0].startswith("compare-fitted-curves-01-") and "-to-" in pages[0]
    assert saved["runs"]["catalogue"]["mond"]["kernel"] == "mond"
    assert "model comparison on SPARC" in (tmp_path / "talk" / "compare.txt").read_text()


def test_report_compare_refuses_a_save_path_before_it_runs(tmp_path, monkeypatch):
    """A file given as --save is refused in one line before any evidence is computed (no checkpoint folder made)."""
    from sigcube.cli import app

    monkeypatch.setenv("SIGCUBE_CUBE_DIR", str(tmp_path / "cubes"))
    (tmp_path / "report.json").write_text("{}")
    res = CliRunner().invoke(app, ["report", "compare", "mond", "--save", str(tmp_path / "report.json")])
    assert res.exit_code == 2 and "is a file" in res.output and not (tmp_path / "cubes").exists()
    both = CliRunner().invoke(app, ["report", "compare", "mond", "--error-model", "all", "--sigma-int", "5"])
    assert both.exit_code == 2 and "name one error model" in both.output


def _pages(names):
    from sigcube.interfaces.plots.base import Pages

    return lambda: Pages({name: _figure() for name in names}, "pages")


def test_a_figure_of_pages_is_saved_page_by_page_and_an_earlier_save_s_pages_go(tmp_path):
    """A figure of several pages writes ``<name>-<figure>-<page>.png`` each; a later save whose pages differ removes
    the earlier pages sigcube wrote (not a file it did not write)."""
    written = save_report(tmp_path, "compare", {"ln_b": 1.0}, _render,
                          {"curves": _pages(["1-A-to-B", "2-C-to-D"])}, say=print)
    assert [p.name for p in written][2:] == ["compare-curves-1-A-to-B.png", "compare-curves-2-C-to-D.png"]
    record = json.loads((tmp_path / ".sigcube-saved.json").read_text())
    assert {"compare-curves-1-A-to-B.png", "compare-curves-2-C-to-D.png"} <= set(record)
    (tmp_path / "compare-curves-notes.txt").write_text("mine")
    save_report(tmp_path, "compare", {"ln_b": 1.0}, _render, {"curves": _pages(["1-A-to-C"])}, say=print)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert "compare-curves-1-A-to-C.png" in names and "compare-curves-2-C-to-D.png" not in names
    assert "compare-curves-1-A-to-B.png" not in names and "compare-curves-notes.txt" in names
    assert set(json.loads((tmp_path / ".sigcube-saved.json").read_text())) == {
        "compare.json", "compare.txt", "compare-curves-1-A-to-C.png"}
