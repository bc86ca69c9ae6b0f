"""`sigcube kernels [NAME]` and `sigcube report kernels`: the kernel library on the command line.

:func:`register` adds both commands to the main app; ``sigcube.cli`` is imported when a
command runs (not at import time), so ``register`` may be called anywhere in ``cli.py``.
"""

from __future__ import annotations

import json
import sys
from functools import wraps
from pathlib import Path
from typing import Annotated, Callable, Optional

import typer
from rich.markup import escape
from rich.table import Table


def _friendly(func: Callable) -> Callable:
    """``sigcube.cli.friendly`` (one red line, exit 2), looked up when the command runs."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        from sigcube.cli import friendly

        return friendly(func)(*args, **kwargs)

    return wrapper


def _bounds(param: dict) -> str:
    if param["choices"] is not None:
        return " | ".join(param["choices"])
    lo, hi = param["bounds"] or (None, None)
    return "—" if lo is None else f"[{lo:g}, {hi:g}]"


def _default(param: dict) -> str:
    value = param["default"]
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _list_table(described: list[dict]) -> Table:
    table = Table(title=f"{len(described)} registered kernels", title_justify="left")
    for col in ("kernel", "summary", "source", "parameter = default unit  bounds"):
        table.add_column(col, no_wrap=col == "kernel")
    for d in described:
        params = "\n".join(f"{p['name']} = {_default(p)}{' ' + p['unit'] if p['unit'] else ''}  {_bounds(p)}"
                           for p in d["parameters"]) or "—"
        table.add_row(*(escape(text) for text in (d["name"], d["summary"], d["source"], params)))
    return table


def _print_one(d: dict, console) -> None:
    console.print(f"[bold]{d['name']}[/bold] — {escape(d['summary'])}", highlight=False)
    console.print(f"source: {escape(d['source'])}", highlight=False)
    console.print(f"formula: {escape(d['formula'])}", highlight=False)
    console.print(f"inputs: {', '.join(d['inputs'])}", highlight=False)
    if d["amplitude"]:
        console.print(f"amplitude (V non-decreasing in it): {d['amplitude']}", highlight=False)
    table = Table(title="parameters", title_justify="left")
    for col in ("name", "default", "unit", "bounds / choices", "description"):
        table.add_column(col)
    for p in d["parameters"]:
        cells = (p["name"], _default(p), p["unit"] or "—", _bounds(p), p["description"])
        table.add_row(*(escape(text) for text in cells))
    console.print(table)
    for reading in d["readings"]:
        console.print(f"[dim]reading: {escape(reading)}[/dim]", highlight=False)


def register(app: typer.Typer, report_app: typer.Typer) -> None:
    """Add ``kernels`` to ``app`` and ``kernels`` to ``report_app``."""

    @app.command("kernels")
    @_friendly
    def kernels(
        name: Annotated[Optional[str], typer.Argument(help="One kernel: its formula, inputs and parameters.")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON (a list without NAME).")] = False,
    ) -> None:
        """List the registered kernels (name, summary, source, parameters), or describe one."""
        from sigcube.cli import console
        from sigcube.kernels import get_kernel, kernel_names

        described = [get_kernel(n).describe() for n in ([name] if name else kernel_names())]
        if as_json:
            sys.stdout.write(json.dumps(described[0] if name else described) + "\n")
        elif name:
            _print_one(described[0], console)
        else:
            console.print(_list_table(described))

    @report_app.command("kernels")
    @_friendly
    def report_kernels(
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON list, one object per kernel.")] = False,
        cube: Annotated[Optional[Path],
                        typer.Option(help="SPARC cube (default: cubes/sparc.zarr, ingested if missing)")] = None,
    ) -> None:
        """Every kernel at its defaults on SPARC: RMS, χ²_red, RAR scatter, win rate vs MOND."""
        from sigcube.cli import cube_dir, emit, err_console, ingest_dataset
        from sigcube.cubes import open_cube
        from sigcube.reports.kernels import kernel_report, render

        path = cube or cube_dir() / "sparc.zarr"
        if cube is None and not path.exists():
            err_console.print(f"{path} does not exist yet: ingesting SPARC first")
            ingest_dataset("sparc", path, force=False)
        emit(kernel_report(open_cube(path).load()), as_json, render)
