"""Checkpoints hold data only and prove what they hold: a `report compare` killed mid-run and started again with any
one piece damaged, moved, swapped or replaced prints the uninterrupted run's numbers, says which piece it made
again, and never loads what it did not write."""

from __future__ import annotations

import json
import os
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest

from sigcube.engines import evidence
from sigcube.engines.checkpoint import Checkpoint, CheckpointError, decode, encode, resumed_seconds
from sigcube.io.cubes import open_cube
from sigcube.io.synth import synth_cube
from sigcube.stats.intrinsic_scatter import Scatter
from sigcube.study.reports import calibration, compare
from sigcube.study.reports.compare import compare_checkpoint, compare_report, keep_report, kept_report

SCATTER = "0:15:3"
NAMES = ["mond", "sigma", "nfw"]
"""MOND and Σ (global) finish first; NFW (per galaxy, σ_int on a grid) is killed once its σ_int pieces are kept."""


class Killed(Exception):
    """Stands for the process dying."""


def test_pieces_hold_data_bit_for_bit_and_nothing_else():
    arrays = {"f": np.array([[1.5, np.nan], [np.inf, -0.0]]), "i": np.arange(3, dtype=np.int32),
              "b": np.array([True, False]), "odd": np.frombuffer(b"\x01\x00\x00\x00\x00\x00\xf8\x7f", dtype=float)}
    value = {"x": [1, 2.5, float("nan"), float("inf"), -float("inf"), None, True, "text"], **arrays,
             "scalars": [np.float64(0.1), np.int64(7), np.bool_(True)], "pair": (1, 2)}
    back = decode(json.loads(json.dumps(encode(value), allow_nan=False)))
    for k, a in arrays.items():
        assert back[k].dtype == a.dtype and back[k].shape == a.shape and back[k].tobytes() == a.tobytes(), k
    assert back["x"][:2] == [1, 2.5] and np.isnan(back["x"][2]) and back["x"][3:] == [np.inf, -np.inf, None, True,
                                                                                       "text"]
    assert back["scalars"] == [0.1, 7, True] and type(back["scalars"][1]) is int and back["pair"] == [1, 2]
    for bad in (object(), np.array(["s"]), np.array([None], dtype=object), {1: 2}, {"$float": 1}):
        with pytest.raises(TypeError):
            encode({"v": bad})
    for bad in ({"$array": {"dtype": "|O", "shape": [1], "base64": ""}}, {"$array": {"dtype": "<f8", "shape": [2],
                                                                                      "base64": "AAAA"}},
                {"$float": "nan", "x": 1}, {"$code": "print()"}):
        with pytest.raises(ValueError):
            decode(bad)


def test_a_piece_is_written_whole_or_not_at_all(tmp_path, monkeypatch):
    kept = Checkpoint(tmp_path / "run", {"settings": 1})
    assert kept.get("a", lambda: [1, 2]) == [1, 2]

    def dies():
        raise Killed

    with pytest.raises(Killed):
        kept.get("b", dies)

    def dies_renaming(*args):
        raise Killed

    monkeypatch.setattr(os, "replace", dies_renaming)
    with pytest.raises(Killed):
        kept.get("c", lambda: [3])
    monkeypatch.undo()
    assert kept.count() == 1 and sorted(p.name for p in (tmp_path / "run").iterdir()) == ["a.json"]
    assert kept.get("a", dies) == [1, 2]                      # read back, not made again
    assert Checkpoint(None).get("a", lambda: 3) == 3 and Checkpoint(None).count() == 0


def test_a_piece_answers_only_to_its_own_key_and_run(tmp_path):
    warned = []
    one = Checkpoint(tmp_path / "run", {"settings": 1}, warn=warned.append)
    one.write("x", {"v": 1.0})
    shutil.copy(one.path("x"), one.path("y"))
    assert one.read("y") is None and "holds the piece 'x', not 'y'" in warned[-1] and not one.path("y").exists()
    other = Checkpoint(tmp_path / "run", {"settings": 2}, warn=warned.append)
    assert other.read("x") is None and "made by another run" in warned[-1]
    assert len(warned) == 2 and all("\n" not in line for line in warned)


def test_a_resumed_piece_keeps_the_time_its_parts_took_in_the_run_that_made_them(tmp_path):
    now = [0.0]

    def computing(seconds: float, value):
        def make():
            now[0] += seconds
            return value
        return make

    first = Checkpoint(tmp_path / "run", {"settings": 1}, clock=lambda: now[0])
    assert first.get("inner", computing(5.0, [1])) == [1]

    def dies_after_its_inner_piece():
        first.get("inner", computing(99.0, [0]))
        now[0] += 2.0
        raise Killed

    with pytest.raises(Killed):                                   # the run dies before its outer piece is kept
        first.get("outer", dies_after_its_inner_piece)
    again = Checkpoint(tmp_path / "run", {"settings": 1}, clock=lambda: now[0])
    before = resumed_seconds()
    assert again.get("outer", lambda: again.get("inner", computing(99.0, [0])) + computing(3.0, [2])()) == [1, 2]
    assert resumed_seconds() - before == 5.0                      # the inner piece's time, read back with it
    assert json.loads(again.path("outer").read_text())["seconds"] == 8.0      # 3 s now and 5 s before
    # a piece this run made itself reads back as no earlier time; one the earlier run made counts once
    assert again.get("outer", computing(99.0, None)) == [1, 2] and resumed_seconds() - before == 5.0
    assert again.get("inner", computing(99.0, None)) == [1] and resumed_seconds() - before == 5.0
    third = Checkpoint(tmp_path / "run", {"settings": 1}, clock=lambda: now[0])
    assert third.get("outer", computing(99.0, None)) == [1, 2] and resumed_seconds() - before == 13.0


def test_a_run_that_cannot_keep_its_pieces_is_refused_before_it_computes(tmp_path):
    blocked = Checkpoint(tmp_path / "file" / "run", {"settings": 1})
    (tmp_path / "file").write_text("a file where the folder belongs")
    with pytest.raises(CheckpointError, match="is a file, not a folder"):
        blocked.check_writable()
    with pytest.raises(CheckpointError, match=r"cannot keep checkpoints in /proc/self/\S+/run: .* SIGCUBE_CUBE_DIR"):
        Checkpoint(Path("/proc/self/sigcube-test") / "run").check_writable()
    fine = Checkpoint(tmp_path / "cubes" / "run")
    fine.check_writable()
    assert fine.folder.is_dir() and fine.count() == 0 and not any(fine.folder.iterdir())
    Checkpoint(None).check_writable()


@pytest.mark.parametrize("seconds", [-1.0, "5", True, None])
def test_a_piece_that_does_not_say_how_long_it_took_is_made_again(tmp_path, seconds):
    import hashlib

    warned = []
    kept = Checkpoint(tmp_path / "run", {"settings": 1}, warn=warned.append)
    kept.write("x", [1.0], 2.0)
    piece = json.loads(kept.path("x").read_text())
    piece["seconds"] = seconds
    body = {k: piece[k] for k in ("format", "key", "run", "seconds", "value")}
    piece["sha256"] = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    kept.path("x").write_text(json.dumps(piece))
    assert kept.get("x", lambda: [2.0]) == [2.0] and "does not say how long it took" in warned[0]


@pytest.fixture(scope="module")
def cube_path(tmp_path_factory) -> Path:
    """Four synthetic galaxies drawn under MOND, stored as a cube with its content hash."""
    path = tmp_path_factory.mktemp("cube") / "synth.zarr"
    synth_cube(4, path, seed=3, kernel="mond")
    return path


@pytest.fixture(scope="module")
def cube(cube_path):
    return open_cube(cube_path).load()


def _numbers(report):
    """The report as JSON without its timings (every float's digits kept)."""
    def strip(x):
        if isinstance(x, dict):
            return {k: strip(v) for k, v in x.items() if k != "seconds"}
        return [strip(v) for v in x] if isinstance(x, list) else x
    return json.dumps(strip(report), sort_keys=True, default=float)


def _run(cube, root: Path, warned: list[str] | None = None, progress=lambda line: None):
    kept = compare_checkpoint(root, cube, False, Scatter.parse(SCATTER), (warned if warned is not None else []).append)
    return kept, compare_report(cube, NAMES, nuisance=False, scatter=Scatter.parse(SCATTER), checkpoint=kept,
                                progress=progress)


@pytest.fixture(scope="module")
def whole(cube):
    """The uninterrupted run's numbers (no checkpoint)."""
    return _numbers(compare_report(cube, NAMES, nuisance=False, scatter=Scatter.parse(SCATTER)))


@pytest.fixture(scope="module")
def killed(cube, tmp_path_factory) -> Path:
    """The checkpoint root of a run killed once NFW's σ_int pieces exist (all but its row)."""
    root = tmp_path_factory.mktemp("killed") / "checkpoints"

    def dies_in_nfw(line):
        if line.startswith("nfw: σ_int =") and "one posterior sd away" in line:
            raise Killed

    with pytest.raises(Killed):
        _run(cube, root, progress=dies_in_nfw)
    return root


def _piece(folder: Path, pattern: str) -> Path:
    return sorted(folder.glob(pattern))[0]


def _flip(folder):
    path = folder / "catalogue/sigma/row.json"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    return path


def _truncate(folder):
    path = _piece(folder, "catalogue/nfw/sigma=*.json")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return path


def _empty(folder):
    path = folder / "catalogue/mond/row.json"
    path.write_bytes(b"")
    return path


def _edit(folder):
    path = folder / "catalogue/sigma/row.json"
    piece = json.loads(path.read_text())
    piece["value"]["log_evidence"] += 1000.0           # the sha256 left as it was
    path.write_text(json.dumps(piece))
    return path


def _swap(a: Path, b: Path) -> Path:
    tmp = a.with_suffix(".swap")
    a.rename(tmp)
    b.rename(a)
    tmp.rename(b)
    return a


def _swap_rows(folder):
    return _swap(folder / "catalogue/sigma/row.json", folder / "catalogue/mond/row.json")


def _swap_sigmas(folder):
    first, *_, last = sorted(folder.glob("catalogue/nfw/sigma=*.json"))
    return _swap(first, last)


def _copy_to_key(folder):
    first, *_, last = sorted(folder.glob("catalogue/nfw/fixed-sigma=*.json"))
    shutil.copy(first, last)
    return last


def _not_json(folder):
    path = _piece(folder, "catalogue/nfw/fixed-sigma=*.json")
    path.write_bytes(b"\x00\x01 not a checkpoint \xff")
    return path


def _other_run(folder):
    """A well-formed piece of a run with other settings (its hash made right), moved into this run."""
    import hashlib

    path = folder / "catalogue/mond/row.json"
    piece = json.loads(path.read_text())
    piece["run"]["settings"]["scatter"]["values"] = [0.0, 10.0]
    body = {k: piece[k] for k in ("format", "key", "run", "seconds", "value")}
    piece["sha256"] = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    path.write_text(json.dumps(piece))
    return path


def _folder_in_place(folder):
    path = folder / "catalogue/sigma/row.json"
    path.unlink()
    path.mkdir()
    (path / "x").write_text("x")
    return path


def _file_in_place(folder):
    path = folder / "catalogue/nfw"
    shutil.rmtree(path)
    path.write_text("not a folder")
    return path


class Planted:
    """A pickle that leaves a marker file if it is ever loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def _pickles(folder):
    marker = folder.parent / "LOADED"
    payload = pickle.dumps(Planted(marker))
    (folder / "catalogue/nfw/row.pickle").write_bytes(payload)
    path = folder / "catalogue/sigma/row.json"
    path.write_bytes(payload)
    return path


DAMAGE = {"flipped byte": _flip, "truncated": _truncate, "empty": _empty, "edited number": _edit,
          "swapped catalogue/sigma and catalogue/mond": _swap_rows, "swapped sigma_int pieces": _swap_sigmas,
          "copied to another key": _copy_to_key, "not JSON": _not_json, "from another run": _other_run,
          "a folder in its place": _folder_in_place, "a model's folder replaced by a file": _file_in_place,
          "pickles planted": _pickles}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_resumed_run_with_a_damaged_piece_prints_the_uninterrupted_numbers(damage, cube, whole, killed, tmp_path):
    root = tmp_path / "checkpoints"
    shutil.copytree(killed, root)
    (folder,) = root.iterdir()
    path = DAMAGE[damage](folder)
    warned: list[str] = []
    _, report = _run(cube, root, warned)
    assert _numbers(report) == whole
    assert any(str(path) in line for line in warned), warned      # the piece made again is named
    assert all("\n" not in line for line in warned)
    assert not (tmp_path / "LOADED").exists()


def test_a_resumed_run_reads_what_it_finished_and_keeps_only_its_report(cube, whole, killed, tmp_path, monkeypatch):
    root = tmp_path / "checkpoints"
    shutil.copytree(killed, root)
    calls = []
    monkeypatch.setattr(evidence, "object_evidence", lambda *a, **k: calls.append(1))
    monkeypatch.setattr(evidence, "_on_grids", lambda *a, **k: calls.append(1))
    monkeypatch.setattr(compare, "global_evidence", lambda *a, **k: calls.append(1))
    earlier = sum(json.loads(p.read_text())["seconds"] for p in (root / next(root.iterdir()).name).rglob("nfw/*.json"))
    kept, report = _run(cube, root)
    assert _numbers(report) == whole and not calls           # every row and σ_int piece was read, none made again
    assert report["runs"]["catalogue"]["nfw"]["seconds"] >= earlier > 0   # its time counts the killed run's part
    monkeypatch.undo()
    printed = keep_report(kept, NAMES, report)
    assert _numbers(printed) == whole
    keys = sorted(p.relative_to(kept.folder).as_posix() for p in kept.folder.rglob("*.json"))
    assert keys == ["catalogue/mond/row.json", "catalogue/nfw/row.json", "catalogue/sigma/row.json",
                    "report/mond+sigma+nfw.json"]
    again = kept_report(compare_checkpoint(root, cube, False, Scatter.parse(SCATTER), print), NAMES)
    assert json.dumps(again, sort_keys=True) == json.dumps(printed, sort_keys=True)
    assert kept_report(kept, ["sigma", "mond"]) is None          # another list of models: its own report
    # a damaged report is never printed: it is made again (from the kept rows)
    _flip_report = kept.folder / "report/mond+sigma+nfw.json"
    _flip_report.write_bytes(_flip_report.read_bytes().replace(b'"log_evidence":', b'"log_evidenze":', 1))
    warned = []
    assert kept_report(compare_checkpoint(root, cube, False, Scatter.parse(SCATTER), warned.append), NAMES) is None
    assert str(_flip_report) in warned[0]


def test_an_uninterrupted_run_reads_no_time_back_from_an_earlier_one(cube, tmp_path):
    """The issue's fresh run said "(6 s of it in an earlier run, read back from its checkpoints)": pieces it had made
    and read again were counted as an earlier run's. With every piece taking at least a second on this clock, a fresh
    run reads back nothing, and its progress lines say nothing of an earlier run."""
    import dataclasses

    ticks = [0.0]

    def clock() -> float:
        ticks[0] += 1.0
        return ticks[0]

    kept = dataclasses.replace(compare_checkpoint(tmp_path / "checkpoints", cube, False, Scatter.parse(SCATTER), print),
                               clock=clock)
    lines: list[str] = []
    before = resumed_seconds()
    compare_report(cube, NAMES, nuisance=False, scatter=Scatter.parse(SCATTER), checkpoint=kept, progress=lines.append)
    assert resumed_seconds() == before
    assert [line for line in lines if "done in" in line] and not [line for line in lines if "earlier run" in line]


def test_a_checkpoint_root_that_is_a_file_is_refused_in_one_line(cube, tmp_path):
    root = tmp_path / "checkpoints"
    root.write_text("a file")
    with pytest.raises(CheckpointError, match="is a file, not a folder") as caught:
        compare_checkpoint(root, cube, False, None, print)
    assert str(root) in str(caught.value) and "\n" not in str(caught.value)
    with pytest.raises(CheckpointError):
        compare_checkpoint(root / "below", cube, False, None, print)


def test_the_command_prints_a_finished_run_again_from_its_report_and_fresh_starts_over(cube_path, tmp_path,
                                                                                       monkeypatch):
    from typer.testing import CliRunner

    from sigcube.cli import app

    monkeypatch.setenv("SIGCUBE_CUBE_DIR", str(tmp_path / "cubes"))
    args = ["report", "compare", "mond", "--no-nuisance", "--cube", str(cube_path), "--synchronous", "--json"]
    first, again = (CliRunner().invoke(app, args) for _ in range(2))
    assert first.exit_code == again.exit_code == 0, first.output
    assert "from the finished run kept at" not in first.stderr and first.stdout
    assert "from the finished run kept at" in again.stderr and "--fresh recomputes" in again.stderr
    assert again.stdout == first.stdout
    (folder,) = (tmp_path / "cubes" / "checkpoints").iterdir()
    (folder / "catalogue" / "mond" / "stale.json").write_text("{}")
    fresh = CliRunner().invoke(app, [*args, "--fresh"])
    assert fresh.exit_code == 0 and "kept at" not in fresh.stderr and not (folder / "catalogue/mond/stale.json").exists()
    assert json.loads(fresh.stdout)["runs"]["catalogue"]["mond"]["log_evidence"] == \
        json.loads(first.stdout)["runs"]["catalogue"]["mond"]["log_evidence"]
    (tmp_path / "cubes" / "checkpoints").rename(tmp_path / "moved")
    (tmp_path / "cubes" / "checkpoints").write_text("not a folder")
    refused = CliRunner().invoke(app, args)
    assert refused.exit_code == 2 and "checkpoints is a file, not a folder" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_a_killed_command_resumed_with_a_damaged_piece_prints_the_uninterrupted_numbers(cube_path, tmp_path, wait_for):
    """`sigcube report compare` as a process, SIGKILLed once NFW's σ_int pieces exist, one finished row flipped, then
    run again: the uninterrupted run's numbers, the piece named on stderr."""
    import signal
    import subprocess
    import sys

    sigcube = str(Path(sys.executable).with_name("sigcube"))
    args = [sigcube, "report", "compare", *NAMES, "--cube", str(cube_path), "--no-nuisance", "--sigma-int", SCATTER,
            "--synchronous", "--json"]

    def run(cubes: Path) -> subprocess.CompletedProcess:
        return subprocess.run(args, env={**os.environ, "SIGCUBE_CUBE_DIR": str(cubes)}, capture_output=True, text=True)

    whole = run(tmp_path / "whole")
    assert whole.returncode == 0, whole.stderr
    cubes = tmp_path / "killed"
    proc = subprocess.Popen(args, env={**os.environ, "SIGCUBE_CUBE_DIR": str(cubes)}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: any(cubes.glob("checkpoints/*/catalogue/nfw/sigma=*.json")) or proc.poll() is not None,
                 "NFW's first σ_int piece")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
    (folder,) = (cubes / "checkpoints").iterdir()
    damaged = _flip(folder)
    resumed = run(cubes)
    assert resumed.returncode == 0, resumed.stderr
    assert _numbers(json.loads(resumed.stdout)) == _numbers(json.loads(whole.stdout))
    assert str(damaged) in resumed.stderr and "computing it again" in resumed.stderr


@pytest.mark.parametrize("command, computes", [
    (["report", "compare", "mond", "--no-nuisance"], (compare, "compare_report")),
    (["report", "calibrate", "sigma", "--samples", "2"], (calibration, "calibrate")),
])
def test_a_command_whose_checkpoints_cannot_be_written_is_refused_before_it_computes(command, computes, cube_path,
                                                                                  monkeypatch):
    """The checkpoint folder under /proc cannot be made: one line, exit 2, and the computation never called (it
    used to be refused at its first finished piece, after the work)."""
    from typer.testing import CliRunner

    from sigcube.cli import app

    calls = []
    monkeypatch.setattr(*computes, lambda *a, **k: calls.append(1))
    monkeypatch.setenv("SIGCUBE_CUBE_DIR", "/proc/self/sigcube-test")
    result = CliRunner().invoke(app, [*command, "--cube", str(cube_path), "--synchronous"])
    assert result.exit_code == 2 and not calls, result.output
    assert result.stderr.startswith("error: cannot keep checkpoints in /proc/self/sigcube-test/checkpoints/")
    assert len(result.stderr.strip().splitlines()) == 1
