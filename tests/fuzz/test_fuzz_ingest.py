"""Fuzzing the ingest readers: damaged input files of every dataset kind through ``sigcube ingest``.

Each example damages one real file of a copy of the mirror (a truncation, flipped or inserted bytes, a
deleted or repeated line, a deleted column, a junk or NaN token, an empty file) and runs the ingest twice:

- as shipped: the manifest's sha256 stops every damaged file — exit 2, one line naming the file, no store;
- past the hash check (as if the manifest recorded the damaged bytes), so the reader itself meets the damage:
  exit 2 with one line naming a file of the dataset (the damaged one, or the one it no longer agrees with:
  a cluster's profile and its covariance file) and no store, or exit 0 with a cube that opens as valid (some
  damage leaves a well-formed file, e.g. one row fewer); never a traceback.

``ingest table`` (no manifest) gets the same damage on the shapes users hold, made of real SPARC curves: a CSV, a
spreadsheet's CSV (semicolons, decimal commas, a byte-order mark, CRLF), Excel's "Unicode Text" (UTF-16 LE with its
byte-order mark, tabs, thousands separators), a folder of SPARC mass-model files, the same with header lines naming
the columns in another order and in other units, and SPARC's Table 1 given as the ``--galaxies`` table of that
folder. The default run is derandomized with a fixed budget
per kind; ``-m slow`` runs a deeper one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from unittest.mock import patch

import pooch
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sigcube.cli import app
from sigcube.io.cubes import open_cube
from sigcube.io.ingest import sources
from sigcube.io.ingest.rotmod import read_rotmod

runner = CliRunner()
JUNK = [b"nan", b"NaN", b"inf", b"-inf", b"-", b"x", b"", b"1e999", b"--", b"null", b"\xd9\xa3", b"1,2", b"\xff"]
TABLE_UNITS = "r=kpc,v_obs=km/s,e_v_obs=km/s,v_gas=km/s,v_disk=km/s,v_bul=km/s"
BUDGET = {"sparc": 25, "clusters": 25, "dwarfs": 25, "manga": 25, "milkyway": 3, "table": 25, "spreadsheet": 15,
          "unicode_text": 10, "rotmod_folder": 15, "rotmod_headers": 10, "galaxies": 15}
"""Examples per kind in the default run (the Milky Way's accepted damage costs ~7 s of galpy each)."""
DEEP = {"sparc": 50, "clusters": 50, "dwarfs": 50, "manga": 50, "milkyway": 6, "table": 50, "spreadsheet": 50,
        "unicode_text": 50, "rotmod_folder": 50, "rotmod_headers": 50, "galaxies": 50}
"""Examples per kind in the slow tier's run (fresh ones each run)."""


# --- damage -------------------------------------------------------------------------------------------

def _tokens(line: bytes) -> tuple[bytes, list[bytes]]:
    sep = b"," if b"," in line else b" "
    return sep, line.split(sep)


@st.composite
def damage(draw) -> Callable[[bytes], bytes]:
    """One damage: a function of the file's bytes."""
    kind = draw(st.sampled_from(["truncate", "flip", "insert", "delete_line", "repeat_line", "delete_column",
                                 "junk_token", "empty"]))
    where = draw(st.floats(0.0, 1.0, exclude_max=True))
    if kind == "truncate":
        return lambda data: data[: int(where * len(data))]
    if kind == "flip":
        bit = draw(st.integers(1, 255))
        return lambda data: data[:(i := int(where * len(data)))] + bytes([data[i] ^ bit]) + data[i + 1:]
    if kind == "insert":
        blob = draw(st.binary(min_size=1, max_size=8))
        return lambda data: data[:(i := int(where * len(data)))] + blob + data[i:]
    if kind == "empty":
        return lambda data: b""
    if kind in ("delete_line", "repeat_line"):
        def lines(data: bytes) -> bytes:
            rows = data.split(b"\n")
            i = int(where * len(rows))
            return b"\n".join(rows[:i] + ([rows[i]] * 2 if kind == "repeat_line" else []) + rows[i + 1:])
        return lines
    column = draw(st.integers(0, 12))
    token = draw(st.sampled_from(JUNK))

    def columns(data: bytes) -> bytes:
        rows = data.split(b"\n")
        chosen = range(len(rows)) if kind == "delete_column" else [int(where * len(rows))]
        for i in chosen:
            sep, cells = _tokens(rows[i])
            filled = [j for j, cell in enumerate(cells) if cell.strip()]
            if len(filled) > column:
                j = filled[column]
                cells = cells[:j] + cells[j + 1:] if kind == "delete_column" else cells[:j] + [token] + cells[j + 1:]
                rows[i] = sep.join(cells)
        return b"\n".join(rows)

    return columns


# --- the mirror copy and the files of each kind ---------------------------------------------------------

@pytest.fixture(scope="module")
def mirror(shared_data: Path, tmp_path_factory) -> Path:
    """A copy of the data mirror the examples damage (one file at a time, restored after each)."""
    root = tmp_path_factory.mktemp("mirror")
    for folder in ("sparc", "milky_way", "clusters", "dwarfs", "manga"):
        shutil.copytree(shared_data / folder, root / folder)
    return root


def kind_files(kind: str) -> list[str]:
    """The mirror paths of every file the ``kind`` ingest reads (SPARC: each rotation curve and both tables)."""
    paths = []
    for entry in sources.load_manifest(kind)["files"].values():
        members = entry.get("members")
        paths += [entry["mirror_path"] + name for name in members] if members else [entry["mirror_path"]]
    return sorted(paths)


USER_GALAXIES = ("NGC3198", "DDO154", "UGC02953")
"""The real SPARC galaxies of the ``ingest table`` shapes."""


def _user_rows(mirror: Path, separator: str, number: Callable[[float], str]) -> list[str]:
    """The header and a row per point of USER_GALAXIES' curves."""
    rows = [separator.join(("galaxy", "r", "v_obs", "e_v_obs", "v_gas", "v_disk", "v_bul"))]
    for name in USER_GALAXIES:
        curve = read_rotmod(mirror / "sparc" / "Rotmod_LTG" / f"{name}_rotmod.dat")
        rows += [separator.join((name, *map(number, values))) for values in
                 zip(curve.r, curve.v_obs, curve.e_v_obs, curve.v_gas, curve.v_disk, curve.v_bul)]
    return rows


@pytest.fixture(scope="module")
def table_file(mirror: Path) -> Path:
    """A CSV of three real SPARC rotation curves, one row per point, for ``ingest table``."""
    path = mirror / "my_curves.csv"
    path.write_text("\n".join(_user_rows(mirror, ",", str)) + "\n")
    return path


@pytest.fixture(scope="module")
def user_files(mirror: Path, table_file: Path) -> dict[str, tuple[str, list[str]]]:
    """Each ``ingest table`` kind: the file (under the mirror) its examples damage, and its command."""
    user = mirror / "user"
    (user / "curves").mkdir(parents=True)
    (user / "headers").mkdir()
    for name in USER_GALAXIES:
        shutil.copy(mirror / "sparc" / "Rotmod_LTG" / f"{name}_rotmod.dat", user / "curves")
        curve = read_rotmod(user / "curves" / f"{name}_rotmod.dat")
        rows = zip(curve.r * 1e3, curve.e_v_obs * 1e3, curve.v_obs * 1e3, curve.v_gas, curve.v_disk, curve.v_bul,
                   curve.sb_bul, curve.sb_disk)
        (user / "headers" / f"{name}_rotmod.dat").write_text("\n".join(
            [f"# Distance = {curve.distance_mpc} Mpc", "# Rad errV Vobs Vgas Vdisk Vbul SBbul SBdisk",
             "# pc m/s m/s km/s km/s km/s L/pc^2 L/pc^2", *(" ".join(map(repr, map(float, row))) for row in rows)]))
    rows = _user_rows(mirror, ";", lambda x: str(x).replace(".", ","))
    (user / "spreadsheet.csv").write_bytes(("\ufeff" + "\r\n".join(rows) + "\r\n").encode())
    grouped = _user_rows(mirror, "\t", lambda x: f"{x * 1e3:,.1f}")  # m/s and pc, with thousands separators
    (user / "unicode.txt").write_bytes(b"\xff\xfe" + ("\r\n".join(grouped) + "\r\n").encode("utf-16-le"))
    metres = TABLE_UNITS.replace("kpc", "pc").replace("km/s", "m/s")
    table1 = mirror / "sparc" / "SPARC_Lelli2016c.mrt"
    return {
        "table": (table_file.name, ["ingest", "table", str(table_file), "--units", TABLE_UNITS]),
        "spreadsheet": ("user/spreadsheet.csv", ["ingest", "table", str(user / "spreadsheet.csv"), "--units",
                                                 TABLE_UNITS]),
        "unicode_text": ("user/unicode.txt", ["ingest", "table", str(user / "unicode.txt"), "--units", metres]),
        "rotmod_folder": (None, ["ingest", "table", str(user / "curves")]),
        "rotmod_headers": (None, ["ingest", "table", str(user / "headers")]),
        "galaxies": (str(table1.relative_to(mirror)), ["ingest", "table", str(user / "curves"), "--galaxies",
                                                       str(table1), "--allow-missing"]),
    }


# --- the property -------------------------------------------------------------------------------------

def _one_line(result) -> str:
    assert "Traceback" not in result.output and result.exit_code != 1, result.output
    assert result.stderr.count("\n") == 1, result.stderr
    return result.stderr


def _check_outcome(result, out: Path, folder: Path) -> None:
    """Exit 2 naming a file under ``folder`` with nothing written, or exit 0 with a valid cube."""
    assert result.exit_code in (0, 2), (result.exit_code, result.output)
    event(f"reader: exit {result.exit_code}")  # --hypothesis-show-statistics shows how often each happens
    if result.exit_code == 2:
        assert str(folder) in _one_line(result), result.stderr
        assert not out.exists()
    else:
        open_cube(out)


def check(mirror: Path, relative: str, hurt: Callable[[bytes], bytes], command: list[str]) -> None:
    target = mirror / relative
    original = target.read_bytes()
    damaged = hurt(original)
    assume(damaged != original)
    target.write_bytes(damaged)
    env = {"SIGCUBE_DATA_DIR": str(mirror), "SIGCUBE_CUBE_DIR": str(mirror / "cubes")}
    try:
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "cube.zarr"
            result = runner.invoke(app, [*command, "--out", str(out)], env=env)
            if command[1] != "table":  # the manifest's sha256: a damaged file never gets past it
                assert result.exit_code == 2 and not out.exists()
                assert f"{target}: sha256 mismatch" in _one_line(result), result.stderr
                with patch.object(sources, "_verified_hash", lambda path, expected: pooch.file_hash(str(path))):
                    result = runner.invoke(app, [*command, "--out", str(out)], env=env)
            _check_outcome(result, out, mirror / relative.split("/")[0])
    finally:
        target.write_bytes(original)


def _test(kind: str, examples: int, derandomize: bool):
    @settings(max_examples=examples, derandomize=derandomize, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(data=st.data(), hurt=damage())
    def run(mirror, user_files, data, hurt):
        if kind in user_files:
            relative, command = user_files[kind]
            if relative is None:  # a folder: one of its files
                folder = Path(command[2]).name
                relative = data.draw(st.sampled_from([f"user/{folder}/{name}_rotmod.dat" for name in USER_GALAXIES]),
                                     label="file")
            check(mirror, relative, hurt, command)
        else:
            check(mirror, data.draw(st.sampled_from(kind_files(kind)), label="file"), hurt, ["ingest", kind])

    return run


@pytest.mark.parametrize("kind", list(BUDGET))
def test_damaged_files_are_refused_or_read_never_a_traceback(kind, mirror, user_files):
    _test(kind, BUDGET[kind], derandomize=True)(mirror, user_files)


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(BUDGET))
def test_damaged_files_deep(kind, mirror, user_files):
    _test(kind, DEEP[kind], derandomize=False)(mirror, user_files)


def test_a_real_process_stops_a_damaged_file(mirror, tmp_path):
    """The installed command on a truncated rotation curve: one line naming it, exit 2, no cube."""
    target = mirror / "sparc" / "Rotmod_LTG" / "NGC3198_rotmod.dat"
    original = target.read_bytes()
    target.write_bytes(original[: len(original) // 2])
    try:
        proc = subprocess.run([str(Path(sys.executable).with_name("sigcube")), "ingest", "sparc", "--out",
                               str(tmp_path / "cube.zarr")], capture_output=True, text=True, timeout=900,
                              env={**os.environ, "SIGCUBE_DATA_DIR": str(mirror)})
    finally:
        target.write_bytes(original)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert proc.stderr.startswith(f"error: {target}: sha256 mismatch") and not any(tmp_path.iterdir())
