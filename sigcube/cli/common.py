"""What every command shares: the consoles, JSON-or-table output, the error boundary, finite numbers, default cubes.

The error boundary (:func:`friendly`, applied to every command by :mod:`sigcube.cli`): a
:class:`~sigcube.errors.SigcubeError` is bad input and prints one line on stderr, exit status 2; any
other exception is a bug and prints one line saying so and where its traceback was written (a file under
the user cache folder, :func:`log_dir`), exit status 1. ``sigcube --debug …`` (or ``SIGCUBE_DEBUG=1``)
prints the traceback instead. Messages are printed as plain text, never read as rich markup.

Numbers: every number an option takes must be finite (:func:`finite`) — each float option of every command is checked
as the command starts (:func:`finite_options`), and options that carry numbers in text check theirs with the same
function. JSON output is strict (:mod:`sigcube.interfaces.report_json`: an undefined number is ``null``).
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer
from rich.console import Console, ConsoleDimensions
from rich.markup import escape
from rich.text import Text

from sigcube.errors import SchemaError, SigcubeError, StoreExistsError

if TYPE_CHECKING:
    import xarray as xr

PIPE_WIDTH = 1000
"""Columns of stdout when it is a file or a pipe: wide enough that no table cell is cut or ellipsized (a report in a
log keeps every digit the terminal shows)."""


class ReportConsole(Console):
    """stdout: the terminal's own width on a terminal; :data:`PIPE_WIDTH` columns when redirected to a file or a pipe,
    whatever ``$COLUMNS`` says (decided at each print, so a test's captured stdout counts as a pipe)."""

    def __init__(self, *args: Any, width: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, width=width, **kwargs)
        self._chosen_width = width is not None  # given here, not taken from $COLUMNS (a terminal's, not a file's)

    @property
    def size(self) -> ConsoleDimensions:
        size = super().size
        return size if self.is_terminal or self._chosen_width else ConsoleDimensions(PIPE_WIDTH, size.height)

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        self._width, self._height = new_size


console = ReportConsole()
err_console = Console(stderr=True, markup=False, highlight=False, soft_wrap=True)
"""stderr: messages, progress and status lines. ``markup=False``: text (paths, names, messages) prints as is;
``soft_wrap``: a line is never broken by the console (a wrapped path could not be copied), the terminal wraps it."""

DEBUG_VARIABLE = "SIGCUBE_DEBUG"
"""Set to 1 for ``--debug``: print the traceback of a bug instead of writing it to a file."""
_PASS = (typer.Exit, typer.Abort, typer.BadParameter)
"""What typer itself handles (exit codes, aborts, usage errors): passed through the boundary."""
_options = {"debug": False}
"""The root command's options of the running invocation (set by :func:`set_debug`)."""
REPLACE_KIND = "With --force, also replace a dataset cube of another kind (e.g. the SPARC cube by your own)."
"""The help of every writer's ``--replace-kind`` (:func:`replacing`)."""


def emit(payload: Any, as_json: bool, render: Callable[[Any, Console], None]) -> None:
    """Print ``payload`` as one line of strict JSON on stdout (an undefined number as ``null``:
    :mod:`sigcube.interfaces.report_json`), or with ``render`` on the console."""
    if as_json:
        from sigcube.interfaces.report_json import report_json

        sys.stdout.write(report_json(payload) + "\n")
    else:
        render(payload, console)


def finite(value: float, option: str) -> float:
    """``value`` if it is a finite number; a SigcubeError naming ``option`` (``--observed``, ``--param A0``)
    otherwise — the one check of every number a command takes."""
    if not math.isfinite(value):
        raise SigcubeError(f"{option} must be a finite number, not {value}")
    return value


def tau_gal_within_limits(values: Iterable[float], option: str) -> None:
    """Refuse, naming ``option`` and why, a τ_gal value the integral over a galaxy's velocity scale cannot take
    (:func:`~sigcube.compute.scale_prior.tau_problem`)."""
    from sigcube.compute.scale_prior import tau_problem

    problem = next(filter(None, map(tau_problem, values)), None)
    if problem is not None:
        raise SigcubeError(f"{option}: {problem}")


def finite_options(func: Callable[..., None], params: list[Any]) -> Callable[..., None]:
    """``func``, a command's callback, checking first that every float it is given — the value of a float option or
    argument, or each value of a repeated one — is finite (:func:`finite`, naming it as ``params``, the command's
    parameters, spell it)."""
    names = {p.name: p.opts[0] if p.opts and p.opts[0].startswith("-") else p.name.upper() for p in params}

    @wraps(func)
    def checked(*args: Any, **kwargs: Any) -> None:
        for name, given in kwargs.items():
            for value in given if isinstance(given, (list, tuple)) else [given]:
                if isinstance(value, float):
                    finite(value, names.get(name, name))
        return func(*args, **kwargs)

    return checked


def error_line(message: str) -> None:
    """``error: <message>`` on stderr, the message as plain text (never markup)."""
    err_console.print(Text.assemble(("error: ", "bold red"), message), soft_wrap=True)


def friendly(func: Callable[..., None]) -> Callable[..., None]:
    """The error boundary of a command: SigcubeError → one line, exit 2; anything else → a bug report, exit 1."""
    if getattr(func, "sigcube_boundary", False):
        return func

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            return func(*args, **kwargs)
        except _PASS:
            raise
        except SigcubeError as exc:
            error_line(str(exc))
            raise typer.Exit(2) from None
        except Exception as exc:  # noqa: BLE001 — the last line of defence: every bug ends here
            report_bug(exc)
            raise typer.Exit(1) from None

    wrapper.sigcube_boundary = True  # type: ignore[attr-defined]
    return wrapper


def set_debug(on: bool) -> None:
    """Record ``sigcube --debug`` for this invocation (the root command's callback calls it first)."""
    _options["debug"] = on


def debug_enabled() -> bool:
    """``sigcube --debug …`` or ``SIGCUBE_DEBUG=1``."""
    return _options["debug"] or os.environ.get(DEBUG_VARIABLE) == "1"


def log_dir() -> Path:
    """Where tracebacks of bugs are written: ``logs/`` in sigcube's user cache folder (``~/.cache/sigcube``)."""
    import pooch

    return Path(pooch.os_cache("sigcube")) / "logs"


def report_bug(exc: BaseException) -> None:
    """One line on stderr saying an unexpected error is a bug, and where its traceback is (``--debug``: printed)."""
    text = "".join(traceback.format_exception(exc))
    what = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}".rstrip(": ")
    what = what if len(what) <= 160 else what[:159] + "…"
    if debug_enabled():
        sys.stderr.write(text)
        error_line(f"this is a bug in sigcube ({what}); please report it with the traceback above")
        return
    path = write_traceback(text)
    where = f"the traceback is in {path}" if path else "the traceback could not be saved; rerun with sigcube --debug"
    error_line(f"this is a bug in sigcube ({what}); {where} — please report it (sigcube --debug … prints it)")


def write_traceback(text: str) -> Optional[Path]:
    """Write the command line and ``text`` to a new file under :func:`log_dir` (else the temp folder); its path."""
    name = f"traceback-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.txt"
    body = f"sigcube {' '.join(sys.argv[1:])}\n{time.strftime('%Y-%m-%d %H:%M:%S %z')}\n\n{text}"
    for folder in (log_dir(), Path(tempfile.gettempdir()) / "sigcube-logs"):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / name
            path.write_text(body, encoding="utf-8")
            return path
        except OSError:
            continue
    return None


def cube_kind(kind: str, synthetic: bool) -> str:
    """A dataset cube's kind as ``--force`` compares it: ``sparc``, or ``synthetic sparc`` for one sigcube synth drew."""
    return f"synthetic {kind}" if synthetic else kind


def replacing(out: str | Path, kind: str, replace_kind: bool) -> str:
    """The dataset cube that writing one of ``kind`` (:func:`cube_kind`) at ``out`` would replace, as the status line
    names it ("a 'sparc' cube (content f521aad8d490…)"; "" when there is none). One of another kind is refused
    unless ``replace_kind``; whether anything is replaced at all (``--force``) is :func:`write_cube`'s rule."""
    from sigcube.io.cubes import kind_of, store_attrs
    from sigcube.io.schema import SCHEMAS
    from sigcube.io.synth import is_synthetic

    try:
        _, attrs = store_attrs(out, "no store", "--out")
    except SchemaError:
        return ""  # nothing there, or nothing write_cube would replace
    if kind_of(attrs) not in SCHEMAS:
        return ""
    held = cube_kind(kind_of(attrs), is_synthetic(attrs))
    digest = attrs.get("content_sha256")
    what = f"a {held!r} cube ({f'content {digest[:12]}…' if isinstance(digest, str) else 'no content hash'})"
    if held != kind and not replace_kind:
        raise StoreExistsError(f"{out} holds {what}; this is a {kind!r} cube: pass --force --replace-kind to replace "
                               "a cube of another kind, or choose another --out")
    return what


def write_dataset(ds: xr.Dataset, out: str | Path, force: bool, replace_kind: bool = False) -> None:
    """Write the dataset cube ``ds`` atomically to ``out`` and say so in one line on stderr, naming the cube it
    replaced (one of another kind only with ``replace_kind``: :func:`replacing`)."""
    from sigcube.io.cubes import write_cube
    from sigcube.io.datasets import dataset_kind

    held = replacing(out, ds.attrs["sigcube_kind"], replace_kind)
    with err_console.status(f"writing {escape(str(out))} …"):
        state = write_cube(ds, out, force=force)
    verb = {"written": "wrote", "replaced": "replaced", "unchanged": "up to date:"}[state]
    sizes = " × ".join(f"{ds.sizes[d]} {d}" for d in dataset_kind(ds.attrs["sigcube_kind"]).schema.dims)
    err_console.print(f"{verb} {out}  ({sizes})" + (f"; it held {held}" if state == "replaced" else ""))


def ingest_dataset(kind: str, out: str | Path, force: bool, replace_kind: bool = False) -> None:
    """Build the ``kind`` cube from its verified public files and write it atomically to ``out``."""
    from sigcube.io.datasets import dataset_kind

    record = dataset_kind(kind)
    with err_console.status(f"reading {record.description} …"):
        ds = record.builder()
    write_dataset(ds, out, force, replace_kind)


def dataset_cube(kind: str, cube: Optional[str | Path]) -> str | Path:
    """``cube`` (a path or a store URL) if given, else the default ``kind`` cube (``cubes/<kind>.zarr``), ingested
    first if missing."""
    from sigcube.io.cubes import default_cube
    from sigcube.io.datasets import dataset_kind
    from sigcube.io.schema import base_kind

    if cube is not None:
        return cube
    path, built = default_cube(kind), base_kind(kind)  # a view (clusters:lensing) reads its kind's cube
    if not path.exists():
        if dataset_kind(built).builder is None:
            raise SigcubeError(f"no {built} cube at {path}: make one with `sigcube ingest table FILE --out {path}` "
                               "or name an existing cube with --cube")
        err_console.print(f"{path} does not exist yet: ingesting {built} first")
        ingest_dataset(built, path, force=False)
    return path
