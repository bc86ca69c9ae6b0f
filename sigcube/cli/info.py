"""`sigcube info PATH`: describe a dataset cube or a sweep result."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sigcube.cli.common import console, friendly


@friendly
def info(path: Annotated[Path, typer.Argument(help="A sigcube Zarr store (dataset or sweep result).")]) -> None:
    """Describe a cube: its kind, dimensions, variables with units, provenance."""
    from sigcube.cubes import open_cube
    from sigcube.cubes.store import read_store
    from sigcube.sweeps import best_parameters, open_result

    if read_store(path, "no such store").attrs.get("sigcube_kind") == "sweep":
        ds = open_result(path, allow_incomplete=True)
        console.print(ds)
        done = int(ds["done"].sum())
        console.print(f"{done} of {ds['done'].size} grid points written"
                      + ("" if ds.attrs.get("complete") else " (unfinished: rerun the sweep to resume)"))
        if ds.attrs.get("complete"):
            console.print(f"best mean RMS: {best_parameters(ds)}")
    else:
        console.print(open_cube(path))
