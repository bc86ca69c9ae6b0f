"""A report saved whole into a folder: its text, its JSON and its standard figures, from one run (``--save DIR``)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from rich.console import Console

from sigcube.errors import SigcubeError
from sigcube.interfaces.plots.output import OTHER_SUFFIXES, OutputError, held, replaced, save
from sigcube.io.stores import store_errors

TEXT_WIDTH = 140
"""Columns of the saved text (its tables are not cut at a terminal's width)."""


def save_folder(path: str | Path) -> Path:
    """``path`` as the folder a report is saved into (made if missing); a file or a Zarr store is refused."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputError(f"--save {path}: is a file; give a folder to save the report's text, JSON and figures in")
    if (path / "zarr.json").is_file() or path.suffix.lower() == ".zarr":
        raise OutputError(f"--save {path}: is a Zarr store (a cube); give another folder")
    with store_errors(str(path)):
        path.mkdir(parents=True, exist_ok=True)
    return path


def _file(folder: Path, name: str, holds: str) -> Path:
    """``folder/name``, refused when an existing file there holds something other than ``holds`` (a key of
    :func:`~sigcube.interfaces.plots.output.held`'s answers)."""
    path = folder / name
    if path.is_dir():
        raise OutputError(f"--save {path}: is a folder; remove it or save elsewhere")
    if path.exists():
        found = held(path)
        if found not in (None, holds):
            raise OutputError(f"--save {path}: the file holds {found}, not {holds}: it is not replaced; remove it or "
                              "save elsewhere")
    return path


def save_report(folder: str | Path, name: str, payload: Any, render: Callable[[Any, Console], None],
                figures: Mapping[str, Callable[[], Any]] = {}, say: Callable[[str], None] = print) -> list[Path]:
    """Write ``name``.json (``payload``), ``name``.txt (``render``'s text) and each figure of ``figures`` (a name →
    a function returning a :class:`~sigcube.interfaces.plots.base.Plot`) as ``<name>-<figure>.png`` into ``folder``,
    each file whole or not at all; a figure that cannot be drawn is said (``say``) and left out. The paths written."""
    folder = save_folder(folder)
    json_path = _file(folder, f"{name}.json", OTHER_SUFFIXES["json"])
    text_path = _file(folder, f"{name}.txt", "text")
    with replaced(json_path) as tmp:
        tmp.write_text(json.dumps(payload, default=float, indent=1) + "\n", encoding="utf-8")
    buffer = io.StringIO()
    render(payload, Console(file=buffer, width=TEXT_WIDTH, record=True, highlight=False, color_system=None))
    with replaced(text_path) as tmp:
        tmp.write_text(buffer.getvalue(), encoding="utf-8")
    written = [json_path, text_path]
    for fig, make in figures.items():
        try:
            written.append(save(make(), folder / f"{name}-{fig}.png"))
        except SigcubeError as exc:
            say(f"--save: figure {fig} left out: {exc}")
    return written
