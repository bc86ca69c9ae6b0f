"""`sigcube ingest <kind>`: one command per dataset kind built from verified public files."""

# No `from __future__ import annotations`: typer reads the per-kind option help of the
# generated commands from annotations that must be evaluated when they are made.
from pathlib import Path
from typing import Annotated, Callable, Optional

import typer

from sigcube.cli.common import friendly, ingest_dataset
from sigcube.cubes.store import default_cube
from sigcube.datasets import DatasetKind, dataset_kinds

app = typer.Typer(help="Ingest a public dataset into a labelled Zarr cube.", no_args_is_help=True)


def _ingest_command(kind: DatasetKind) -> Callable[..., None]:
    """The ``ingest <kind>`` command of a kind with a builder."""

    def command(
        out: Annotated[Optional[Path], typer.Option(help=f"Zarr store to write (default: cubes/{kind.name}.zarr)")] = None,
        force: Annotated[bool, typer.Option(help="Replace an existing, different store.")] = False,
    ) -> None:
        ingest_dataset(kind.name, out or default_cube(kind.name), force)

    what = kind.description
    command.__doc__ = f"{what[0].upper()}{what[1:]} → {kind.name} cube (files from $SIGCUBE_DATA_DIR or the archive)."
    command.__name__ = f"ingest_{kind.name}"
    return friendly(command)


for _kind in dataset_kinds():
    if _kind.builder is not None:
        app.command(_kind.name)(_ingest_command(_kind))
