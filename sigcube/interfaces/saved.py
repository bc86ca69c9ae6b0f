"""A report saved whole into a folder: its text, its JSON and its standard figures, from one run (``--save DIR``).

What sigcube writes there it lists in the folder's :data:`RECORD` (each file's name and the sha256 of its bytes); a
file a save would write is replaced only when the record lists it with the bytes it holds — a file sigcube did not
write there (a user's notes named ``compare.txt``), or one edited since, is refused in one line, never replaced."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from rich.console import Console

from sigcube.errors import SigcubeError
from sigcube.interfaces.plots.output import OTHER_SUFFIXES, OutputError, held, replaced, save
from sigcube.interfaces.report_json import report_json
from sigcube.io.stores import store_errors

TEXT_WIDTH = 140
"""Columns of the saved text (its tables are not cut at a terminal's width)."""
RECORD = ".sigcube-saved.json"
"""The file, in a ``--save`` folder, that lists what sigcube wrote there: ``{name: sha256 of its bytes}``."""


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


def _file(folder: Path, name: str, holds: str, record: Mapping[str, str]) -> Path:
    """``folder/name``, refused when an existing file there holds something other than ``holds`` (a key of
    :func:`~sigcube.interfaces.plots.output.held`'s answers), or is not what ``record`` (:func:`_record`) says sigcube
    wrote there."""
    path = folder / name
    if path.is_dir():
        raise OutputError(f"--save {path}: is a folder; remove it or save elsewhere")
    if path.exists():
        found = held(path)
        if found not in (None, holds):
            raise OutputError(f"--save {path}: the file holds {found}, not {holds}: it is not replaced; remove it or "
                              "save elsewhere")
        if record.get(name) != _digest(path):
            why = "was edited since sigcube wrote it" if name in record else f"was not written by sigcube ({RECORD} " \
                                                                              "does not list it)"
            raise OutputError(f"--save {path}: the file {why}: it is not replaced; move it away or save elsewhere")
    return path


def _digest(path: Path) -> str:
    """sha256 of the file's bytes."""
    with store_errors(str(path), "read"):
        return hashlib.sha256(path.read_bytes()).hexdigest()


def _record(folder: Path) -> dict[str, str]:
    """What the folder's :data:`RECORD` lists (nothing when it is missing, or not such a record)."""
    path = folder / RECORD
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    valid = isinstance(data, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in data.items())
    return data if valid else {}


def _keep(folder: Path, record: dict[str, str], path: Path) -> None:
    """List the file ``path``, just written, in the folder's record (rewritten whole)."""
    record[path.name] = _digest(path)
    with replaced(folder / RECORD) as tmp:
        tmp.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def saved_paths(folder: str | Path, name: str, figures: Iterable[str] = ()) -> list[Path]:
    """The files :func:`save_report` writes for ``name`` into ``folder`` (made if missing): ``name``.json,
    ``name``.txt and ``<name>-<figure>.png`` of each of ``figures``, each refused in one line when a file is there
    that sigcube did not write or that holds another kind (:func:`_file`): checked before a run, and again by the save.
    """
    folder = save_folder(folder)
    record = _record(folder)
    return [_file(folder, f"{name}.json", OTHER_SUFFIXES["json"], record), _file(folder, f"{name}.txt", "text", record),
            *(_file(folder, f"{name}-{fig}.png", "png", record) for fig in figures)]


def save_report(folder: str | Path, name: str, payload: Any, render: Callable[[Any, Console], None],
                figures: Mapping[str, Callable[[], Any]] = {}, say: Callable[[str], None] = print) -> list[Path]:
    """Write ``name``.json (``payload``), ``name``.txt (``render``'s text) and each figure of ``figures`` (a name →
    a function returning a :class:`~sigcube.interfaces.plots.base.Plot`, or :class:`~sigcube.interfaces.plots.base.Pages`:
    one file per page, ``<name>-<figure>-<page>.png``) as ``<name>-<figure>.png`` into ``folder``, each file whole or
    not at all; a figure that cannot be drawn is said (``say``) and left out. Files of a figure that an earlier save
    wrote and this one does not (the pages of another sample) are removed, when they hold what sigcube wrote. The
    paths written."""
    from sigcube.interfaces.plots.base import Pages
    from sigcube.interfaces.plots.output import page_path

    json_path, text_path, *figure_paths = saved_paths(folder, name, figures)
    folder, record = json_path.parent, _record(json_path.parent)
    with replaced(json_path) as tmp:
        tmp.write_text(report_json(payload, indent=1) + "\n", encoding="utf-8")
    _keep(folder, record, json_path)
    buffer = io.StringIO()
    render(payload, Console(file=buffer, width=TEXT_WIDTH, record=True, highlight=False, color_system=None))
    with replaced(text_path) as tmp:
        tmp.write_text(buffer.getvalue(), encoding="utf-8")
    _keep(folder, record, text_path)
    written = [json_path, text_path]
    for (fig, make), path in zip(figures.items(), figure_paths):
        try:
            drawn = make()
            plots = ({page_path(path, page).name: plot for page, plot in drawn.pages.items()}
                     if isinstance(drawn, Pages) else {path.name: drawn})
            paths = [_file(folder, file, "png", record) for file in plots]
            done = [save(plot, out) for plot, out in zip(plots.values(), paths)]
        except SigcubeError as exc:
            say(f"--save: figure {fig} left out: {exc}")
            continue
        for out in done:
            _keep(folder, record, out)
        written += done
        _forget(folder, record, [f for f in record if f == path.name or f.startswith(f"{path.stem}-")], done)
    return written


def _forget(folder: Path, record: dict[str, str], files: Iterable[str], kept: Iterable[Path]) -> None:
    """Remove the ``files`` the record lists but ``kept`` are not, each when it still holds what sigcube wrote."""
    names = {p.name for p in kept}
    for file in [f for f in files if f not in names]:
        path = folder / file
        if path.is_file() and record.get(file) == _digest(path):
            with store_errors(str(path)):
                path.unlink()
        record.pop(file, None)
    with replaced(folder / RECORD) as tmp:
        tmp.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8")
