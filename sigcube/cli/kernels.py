"""`sigcube kernels [NAME]`: the kernel registry on the command line (formulas, inputs, parameters)."""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sigcube.cli.common import emit


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


def _print_one(d: dict, console: Console) -> None:
    console.print(f"[bold]{escape(d['name'])}[/bold] — {escape(d['summary'])}", highlight=False)
    console.print(f"source: {escape(d['source'])}", highlight=False)
    console.print(f"formula: {escape(d['formula'])}", highlight=False)
    console.print(f"inputs: {escape(', '.join(d['inputs']))}", highlight=False)
    for switch, by_value in d["switch_inputs"].items():
        reads = "; ".join(f"{value}: {', '.join(names)}" for value, names in by_value.items())
        console.print(f"inputs by {escape(switch)}: {escape(reads)}", highlight=False)
    if d["amplitude"]:
        console.print(f"amplitude (V non-decreasing in it): {escape(d['amplitude'])}", highlight=False)
    table = Table(title="parameters", title_justify="left")
    for col in ("name", "default", "unit", "bounds / choices", "description"):
        table.add_column(col)
    for p in d["parameters"]:
        cells = (p["name"], _default(p), p["unit"] or "—", _bounds(p), p["description"])
        table.add_row(*(escape(text) for text in cells))
    console.print(table)
    for reading in d["readings"]:
        console.print(f"[dim]reading: {escape(reading)}[/dim]", highlight=False)


def _render(described: Any, console: Console) -> None:
    """One kernel in full (a dict), or the table of every kernel (a list)."""
    if isinstance(described, dict):
        _print_one(described, console)
    else:
        console.print(_list_table(described))


def kernels(
    name: Annotated[Optional[str], typer.Argument(help="One kernel: its formula, inputs and parameters.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (a list without NAME).")] = False,
) -> None:
    """List the registered kernels (name, summary, source, parameters), or describe one."""
    from sigcube.model.kernels import get_kernel, kernel_names

    described = [get_kernel(n).describe() for n in ([name] if name else kernel_names())]
    emit(described[0] if name else described, as_json, _render)
