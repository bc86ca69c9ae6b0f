"""--save DIR never replaces a file sigcube did not write there (the issue: a user's notes in compare.txt were lost),
nor one edited since; sigcube's own files are replaced; the JSON it saves is strict."""

from __future__ import annotations

import json
import math

import pytest
from typer.testing import CliRunner

from sigcube.errors import SigcubeError
from sigcube.interfaces.saved import RECORD, save_report, saved_paths

NOTES = "my notes on the NFW run — keep\n"


def _render(payload, console):
    console.print(f"ln B = {payload['ln_b']}")


def test_a_users_file_of_the_same_name_is_not_replaced(tmp_path):
    folder = tmp_path / "talk"
    folder.mkdir()
    (folder / "compare.txt").write_text(NOTES)
    with pytest.raises(SigcubeError) as caught:
        save_report(folder, "compare", {"ln_b": 4.0}, _render)
    assert str(caught.value) == (f"--save {folder / 'compare.txt'}: the file was not written by sigcube ({RECORD} does "
                                 "not list it): it is not replaced; move it away or save elsewhere")
    assert (folder / "compare.txt").read_text() == NOTES and not (folder / "compare.json").exists()


def test_its_own_files_are_replaced_and_an_edited_one_is_not(tmp_path):
    folder = tmp_path / "talk"
    save_report(folder, "compare", {"ln_b": 4.0}, _render)
    save_report(folder, "compare", {"ln_b": 5.0}, _render)                 # its own files: replaced
    assert json.loads((folder / "compare.json").read_text()) == {"ln_b": 5.0}
    assert sorted(json.loads((folder / RECORD).read_text())) == ["compare.json", "compare.txt"]
    with (folder / "compare.txt").open("a") as handle:
        handle.write(NOTES)                                                # annotated by hand since
    with pytest.raises(SigcubeError, match="compare.txt: the file was edited since sigcube wrote it"):
        save_report(folder, "compare", {"ln_b": 6.0}, _render)
    assert (folder / "compare.txt").read_text().endswith(NOTES)
    assert json.loads((folder / "compare.json").read_text()) == {"ln_b": 5.0}  # nothing written


def test_a_figure_of_the_same_name_sigcube_did_not_write_is_refused_before_anything_is_written(tmp_path):
    folder = tmp_path / "talk"
    save_report(folder, "compare", {"ln_b": 4.0}, _render)
    (folder / "compare-elpd.png").write_bytes(b"\x89PNG\r\n\x1a\nmine")
    with pytest.raises(SigcubeError, match="compare-elpd.png: the file was not written by sigcube"):
        saved_paths(folder, "compare", ("elpd",))
    assert [p.name for p in saved_paths(folder, "compare", ("fitted-curves",))] == [
        "compare.json", "compare.txt", "compare-fitted-curves.png"]


def test_the_saved_json_is_strict(tmp_path):
    save_report(tmp_path, "r", {"ln_b": math.nan, "sd": [1.0, math.inf]}, lambda *_: None)
    text = (tmp_path / "r.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {"ln_b": None, "sd": [1.0, None]}


def test_report_compare_refuses_the_save_folder_before_it_runs(tmp_path, monkeypatch):
    """The issue's case: compare.txt holding a user's notes is refused in one line before any evidence is computed
    (no checkpoint folder made), and left as it was."""
    from sigcube.cli import app

    monkeypatch.setenv("SIGCUBE_CUBE_DIR", str(tmp_path / "cubes"))
    folder = tmp_path / "talk"
    folder.mkdir()
    (folder / "compare.txt").write_text(NOTES)
    result = CliRunner().invoke(app, ["report", "compare", "mond", "--no-nuisance", "--save", str(folder)])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
    assert f"--save {folder / 'compare.txt'}: the file was not written by sigcube" in result.stderr
    assert (folder / "compare.txt").read_text() == NOTES and not (tmp_path / "cubes").exists()
    (folder / "compare-error-models-elpd.png").write_text("not mine to replace")
    table = CliRunner().invoke(app, ["report", "compare", "mond", "--error-model", "all", "--save", str(folder)])
    assert table.exit_code == 2 and "compare-error-models-elpd.png: the file holds text, not png" in table.stderr
