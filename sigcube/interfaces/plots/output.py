"""Writing a figure or a page: PNG, SVG or PDF with the static backend (matplotlib), standalone HTML with bokeh (its
JavaScript inlined: the file opens offline); and the one rule of every command that writes such a file.

:func:`output_file` says whether a path may take the file: a folder, a Zarr store, a device, an existing file that
holds something else (a report's JSON, a cube's metadata, another kind of image) or a name whose suffix says another
kind is refused in one line, before anything is drawn; an existing file of the same kind is replaced. :func:`replaced`
writes it whole or not at all.
"""

from __future__ import annotations

import contextlib
import os
import stat
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from sigcube.errors import SigcubeError
from sigcube.io.stores import store_errors

STATIC_FORMATS = ("png", "svg", "pdf")
PAGE_FORMATS = ("html", "htm")
FORMATS = {"png": "a PNG image", "svg": "an SVG image", "pdf": "a PDF document", "html": "an HTML page",
           "htm": "an HTML page"}
"""What each format sigcube writes a figure or a page in holds, in words."""
OTHER_SUFFIXES = {"json": "JSON (a report or a record)", "zarr": "a Zarr store (a cube)", "toml": "a spec (TOML)",
                  "csv": "a table", "tsv": "a table", "txt": "text", "md": "Markdown", "py": "Python", "nc": "netCDF",
                  "npy": "a NumPy array", "npz": "NumPy arrays", "dat": "a data table", "mrt": "a data table",
                  "ipynb": "a notebook", "jpg": "a JPEG image", "jpeg": "a JPEG image", "gif": "a GIF image",
                  "eps": "a PostScript image", "ps": "a PostScript image", "tex": "TeX", "log": "a log",
                  "yaml": "YAML", "yml": "YAML", "pickle": "a pickle", "pkl": "a pickle"}
"""Suffixes that name a kind of file sigcube never writes as a figure or a page."""
SNIFF_BYTES = 2048
DPI = 110
"""Resolution of a static figure [dots per inch] (sizes are given in pixels at 100 dpi)."""


class OutputError(SigcubeError):
    """A path a command may not write its figure or page to."""


def held(path: Path) -> str | None:
    """The format (a key of :data:`FORMATS`) an existing file holds, read from its first bytes; None for an empty
    file; otherwise what it holds in words (``JSON (a report or a record)``, ``text``, ``binary data``)."""
    with store_errors(str(path), "read"):
        with open(path, "rb") as handle:
            head = handle.read(SNIFF_BYTES)
    if not head.strip():
        return None
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"%PDF"):
        return "pdf"
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n").lower()
    if text.startswith(("<!doctype html", "<html")):
        return "html"
    if text.startswith(("<?xml", "<svg", "<!doctype svg")) and "<svg" in text:
        return "svg"
    if text.startswith(("{", "[")):
        return OTHER_SUFFIXES["json"]
    return "text" if "\ufffd" not in text and "\x00" not in text else "binary data"


def output_file(path: str | Path, formats: Sequence[str], what: str, option: str = "--out",
                suffixless: bool = False, make_folder: bool = False) -> Path:
    """``path`` as the file a command writes ``what`` (one of ``formats``, keys of :data:`FORMATS`) to, refused in one
    :class:`OutputError` line when it is a folder or a Zarr store, not a regular file (a device, a pipe), an existing
    file holding anything but one of ``formats``, or a new name whose suffix is not one of ``formats`` (a name with no
    suffix is taken when ``suffixless``); its folder must exist (``make_folder``: is made) and take a new file (tried
    with an empty temporary file, removed): a read-only or full file system, a missing permission, ``/proc`` are one
    line too. An existing file of one of ``formats`` is replaced (by :func:`replaced`)."""
    path = Path(path)
    names = list(dict.fromkeys(f.upper() if f != "htm" else "HTML" for f in formats))
    words = ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0]
    suffix = path.suffix.lower().lstrip(".")
    if path.is_dir():
        kind = "a Zarr store (a cube)" if (path / "zarr.json").is_file() or suffix == "zarr" else "a folder"
        raise OutputError(f"{option} {path}: is {kind}; give the path of a file to write {what} to ({words})")
    if path.exists() or path.is_symlink():
        try:
            mode = path.stat().st_mode
        except OSError:
            mode = 0
        if not stat.S_ISREG(mode):
            raise OutputError(f"{option} {path}: is not a regular file (a device, a pipe, a broken link); give the "
                              f"path of a file to write {what} to ({words})")
        found = held(path)
        if found is not None and found not in formats and not (found == "html" and "htm" in formats):
            raise OutputError(f"{option} {path}: the file holds {FORMATS.get(found, found)}, not {words}: it is not "
                              f"replaced by {what}; choose another name, or remove the file first")
    if suffix not in formats and (suffix or not suffixless):
        other = FORMATS.get(suffix) or OTHER_SUFFIXES.get(suffix)
        named = (f".{suffix} names {other}" if other else f".{suffix} is not a format of {what}" if suffix
                 else "the name has no suffix")
        raise OutputError(f"{option} {path.name}: {named}; write {what} as " + ", ".join(f".{f}" for f in formats))
    folder = path.parent
    if make_folder and not folder.exists():
        with store_errors(str(path)):
            folder.mkdir(parents=True, exist_ok=True)
    if not folder.is_dir():
        raise OutputError(f"{option} {path}: the folder {folder} does not exist")
    probe = folder / f".{path.name}.{uuid.uuid4().hex[:12]}.probe"
    with store_errors(str(path)):
        try:
            os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileNotFoundError:  # a folder that lists but takes no new file (/proc, /sys)
            raise OutputError(f"{option} {path}: the folder {folder} takes no new files; write {what} elsewhere"
                              ) from None
        probe.unlink()
    return path


def in_folder(path: str | Path, name: str) -> Path:
    """``path/name`` when ``path`` is a folder (not a Zarr store: :func:`output_file` refuses that), else ``path``."""
    path = Path(path)
    return path / name if path.is_dir() and not (path / "zarr.json").is_file() else path


@contextlib.contextmanager
def replaced(out: Path) -> Iterator[Path]:
    """A new temporary file beside ``out`` to write, moved onto ``out`` (``os.replace``, after an fsync) when the block
    ends without error and removed otherwise: ``out`` is written whole or not at all. OS errors (a full disk, a
    read-only file system) are one StoreWriteError line."""
    temporary = out.with_name(f".{out.name}.{uuid.uuid4().hex[:12]}.tmp")
    with store_errors(str(out)):
        os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    try:
        yield temporary
        with store_errors(str(out)):
            with open(temporary, "rb+") as handle:
                os.fsync(handle.fileno())
            os.replace(temporary, out)
    finally:
        temporary.unlink(missing_ok=True)


def render(plot: Any, backend: str | None = None) -> Any:
    """The backend's own figure of ``plot`` (a matplotlib Figure or a bokeh model; default: the static backend)."""
    import holoviews as hv

    from sigcube.interfaces.plots.base import STATIC

    return hv.render(plot.view, backend=backend or STATIC)


def save(plot: Any, path: str | Path, dpi: int = DPI) -> Path:
    """Write the :class:`~sigcube.interfaces.plots.base.Plot` ``plot`` to ``path``, its format from the suffix:
    ``.png``/``.svg``/``.pdf`` (static) or ``.html`` (interactive bokeh, standalone and offline). The path must pass
    :func:`output_file`; the file is written whole or not at all (:func:`replaced`)."""
    path = output_file(path, (*STATIC_FORMATS, "html"), "a figure")
    fmt = path.suffix.lower().lstrip(".")
    if fmt == "html":
        from bokeh.embed import file_html
        from bokeh.resources import INLINE

        from sigcube.interfaces.plots.base import INTERACTIVE

        title = plot.alt.split(":")[0][:120]
        text = file_html(render(plot, INTERACTIVE), INLINE, title)
        with replaced(path) as temporary, store_errors(str(path)):
            temporary.write_text(text, encoding="utf-8")
        return path
    import matplotlib

    matplotlib.use("Agg")
    figure = render(plot)
    try:
        with replaced(path) as temporary, store_errors(str(path)):
            figure.savefig(temporary, format=fmt, dpi=dpi, bbox_inches="tight", metadata=_metadata(fmt))
    finally:
        import matplotlib.pyplot as plt

        plt.close(figure)
    return path


def page_path(path: str | Path, page: str) -> Path:
    """The file of a figure's page ``page`` beside ``path``: ``curves.png`` → ``curves-<page>.png``."""
    path = Path(path)
    return path.with_name(f"{path.stem}-{page}{path.suffix}")


def save_all(drawn: Any, path: str | Path, dpi: int = DPI) -> list[Path]:
    """Write a :class:`~sigcube.interfaces.plots.base.Plot` to ``path`` (:func:`save`), or each page of a
    :class:`~sigcube.interfaces.plots.base.Pages` to its own file beside it (:func:`page_path`), every path checked
    before the first is written; the paths written."""
    from sigcube.interfaces.plots.base import Pages

    if not isinstance(drawn, Pages):
        return [save(drawn, path, dpi)]
    paths = {name: output_file(page_path(path, name), (*STATIC_FORMATS, "html"), "a figure") for name in drawn.pages}
    return [save(plot, paths[name], dpi) for name, plot in drawn.pages.items()]


def _metadata(fmt: str) -> dict[str, Any]:
    """No creation date in the file: the same figure writes the same bytes."""
    return {"png": {"Software": None}, "svg": {"Date": None}, "pdf": {"CreationDate": None}}[fmt]
