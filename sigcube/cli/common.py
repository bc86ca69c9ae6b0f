"""What every command shares: the consoles, JSON-or-table output, the error boundary, default cubes."""

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, Optional

import typer
import xarray as xr
from rich.console import Console

from sigcube.cubes.store import default_cube, write_cube
from sigcube.datasets import dataset_kind
from sigcube.errors import SigcubeError

console = Console()
err_console = Console(stderr=True)


def emit(payload: Any, as_json: bool, render: Callable[[Any, Console], None]) -> None:
    """Print ``payload`` as one JSON line on stdout, or with ``render`` on the console."""
    if as_json:
        sys.stdout.write(json.dumps(payload, default=float) + "\n")
    else:
        render(payload, console)


def friendly(func: Callable[..., None]) -> Callable[..., None]:
    """Turn a :class:`SigcubeError` into one red line on stderr and exit status 2."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            return func(*args, **kwargs)
        except SigcubeError as exc:
            err_console.print(f"[bold red]error:[/bold red] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None

    return wrapper


def write_dataset(ds: xr.Dataset, out: Path, force: bool) -> None:
    """Write the dataset cube ``ds`` atomically to ``out`` and say so in one line on stderr."""
    with err_console.status(f"writing {out} …"):
        state = write_cube(ds, out, force=force)
    verb = {"written": "wrote", "replaced": "replaced", "unchanged": "up to date:"}[state]
    sizes = " × ".join(f"{ds.sizes[d]} {d}" for d in dataset_kind(ds.attrs["sigcube_kind"]).schema.dims)
    err_console.print(f"{verb} {out}  ({sizes})", highlight=False)


def ingest_dataset(kind: str, out: Path, force: bool) -> None:
    """Build the ``kind`` cube from its verified public files and write it atomically to ``out``."""
    record = dataset_kind(kind)
    with err_console.status(f"reading {record.description} …"):
        ds = record.builder()
    write_dataset(ds, out, force)


def dataset_cube(kind: str, cube: Optional[Path]) -> Path:
    """``cube`` if given, else the default ``kind`` cube (``cubes/<kind>.zarr``), ingested first if missing."""
    if cube is not None:
        return cube
    path = default_cube(kind)
    if not path.exists():
        if dataset_kind(kind).builder is None:
            raise SigcubeError(f"no {kind} cube at {path}: make one with `sigcube ingest table FILE --out {path}` "
                               "or name an existing cube with --cube")
        err_console.print(f"{path} does not exist yet: ingesting {kind} first", highlight=False)
        ingest_dataset(kind, path, force=False)
    return path
