"""Reader of SPARC rotation-curve files ``<Galaxy>_rotmod.dat`` (Lelli+2016, ``Rotmod_LTG.zip``), one or a folder.

Layout: a ``# Distance = D Mpc`` first line, ``#`` header lines, then rows of 8 whitespace-separated
numbers: Rad [kpc], Vobs, errV, Vgas, Vdisk, Vbul [km/s] (Vdisk, Vbul at M/L = 1; Vgas includes
helium and can be negative), SBdisk, SBbul [Lsun/pc^2]. Blank lines are allowed. The galaxy is named by the
file: its name without ``_rotmod.dat`` (without its extension when it is named otherwise).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sigcube.errors import ParseError
from sigcube.io.ingest.bounds import BOUNDS
from sigcube.io.ingest.text import parse_number, read_text_lines

ROTMOD_SUFFIX = "_rotmod.dat"
#: Column labels as in the file header, in file order.
COLUMNS = ("Rad", "Vobs", "errV", "Vgas", "Vdisk", "Vbul", "SBdisk", "SBbul")
#: Their sigcube names (the fields of :class:`RotmodCurve`), each checked against its physical bounds.
NAMES = ("r", "v_obs", "e_v_obs", "v_gas", "v_disk", "v_bul", "sb_disk", "sb_bul")

_DISTANCE = re.compile(r"#\s*Distance\s*=\s*(\S+)\s*Mpc\s*", re.IGNORECASE)


@dataclass(frozen=True)
class RotmodCurve:
    """One galaxy's rotation curve and baryonic mass model (read-only float64 arrays).

    ``r`` [kpc]; ``v_obs``, ``e_v_obs``, ``v_gas``, ``v_disk``, ``v_bul`` [km/s];
    ``sb_disk``, ``sb_bul`` [Lsun/pc^2]; ``distance_mpc`` [Mpc].
    """

    name: str
    distance_mpc: float
    r: np.ndarray
    v_obs: np.ndarray
    e_v_obs: np.ndarray
    v_gas: np.ndarray
    v_disk: np.ndarray
    v_bul: np.ndarray
    sb_disk: np.ndarray
    sb_bul: np.ndarray


def read_rotmod(path: Path | str) -> RotmodCurve:
    """Read a ``<Galaxy>_rotmod.dat`` file.

    Raises ParseError (naming file and line) if it is malformed, DataSourceError if it cannot be read.
    """
    path = Path(path)
    lines = read_text_lines(path)
    distance = _distance(lines, path)
    rows: list[list[float]] = []
    for number, text in enumerate(lines[1:], start=2):
        if text.strip() and not text.lstrip().startswith("#"):
            rows.append(_row(text, path, number, rows[-1][0] if rows else None))
    if not rows:
        raise ParseError(
            path, "no data rows: the file ends after its header (empty or truncated)", max(len(lines), 1)
        )
    columns = np.array(rows, dtype=np.float64).T
    columns.flags.writeable = False
    return RotmodCurve(rotmod_galaxy(path), distance, *columns)


def rotmod_galaxy(path: Path) -> str:
    """The galaxy a rotmod file is named for: ``NGC3198_rotmod.dat`` → ``NGC3198`` (else the name's stem)."""
    return path.name.removesuffix(ROTMOD_SUFFIX) if path.name.endswith(ROTMOD_SUFFIX) else path.stem


def is_rotmod(path: Path) -> bool:
    """Whether ``path`` is named ``*_rotmod.dat`` or opens with a ``# Distance = D Mpc`` line (a rotmod file)."""
    if path.name.endswith(ROTMOD_SUFFIX):
        return True
    with open(path, "rb") as handle:
        first = handle.readline(256).decode("utf-8", errors="replace").removeprefix("\ufeff").rstrip("\r\n")
    return _DISTANCE.fullmatch(first) is not None


def rotmod_files(folder: Path) -> list[Path]:
    """The ``*_rotmod.dat`` files of ``folder``, sorted by name; a ParseError if it has none."""
    files = sorted(p for p in folder.glob(f"*{ROTMOD_SUFFIX}") if p.is_file())
    if not files:
        raise ParseError(folder, f"the folder has no <Galaxy>{ROTMOD_SUFFIX} files (SPARC mass models); give one "
                                 "file, or a folder of them")
    return files


def _distance(lines: list[str], path: Path) -> float:
    """Distance [Mpc] from the first line, ``# Distance = D Mpc``."""
    match = _DISTANCE.fullmatch(lines[0]) if lines else None
    if match is None:
        raise ParseError(path, "the first line must be '# Distance = <D> Mpc'", 1)
    distance = parse_number(match.group(1), "Distance", path, 1)
    if BOUNDS["distance"].outside(distance):
        raise ParseError(path, f"Distance = {BOUNDS['distance'].problem(distance)}", 1)
    return distance


def _row(text: str, path: Path, line: int, previous_r: float | None) -> list[float]:
    """Parse and check one data row (8 numbers inside their bounds, radius above the previous row's)."""
    tokens = text.split()
    if len(tokens) != len(COLUMNS):
        raise ParseError(
            path, f"expected {len(COLUMNS)} columns ({' '.join(COLUMNS)}), found {len(tokens)}", line
        )
    values = [parse_number(token, column, path, line) for token, column in zip(tokens, COLUMNS)]
    for column, name, value in zip(COLUMNS, NAMES, values):
        if BOUNDS[name].outside(value):
            raise ParseError(path, f"column {column}: {BOUNDS[name].problem(value)}", line)
    if previous_r is not None and values[0] <= previous_r:
        raise ParseError(
            path, f"radii must increase strictly: Rad = {values[0]} follows Rad = {previous_r}", line
        )
    return values
