"""`sigcube plot FIGURE INPUT… --out PATH`: a figure of reports' JSON, of a cube or of benchmark records, as PNG,
SVG, PDF or standalone HTML (:mod:`sigcube.interfaces.plots`)."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from sigcube.cli.common import console, err_console
from sigcube.errors import SigcubeError


def _list(value: bool) -> None:
    if not value:
        return
    from sigcube.interfaces.plots.registry import figures

    for name, kind in figures().items():
        console.print(f"{name:24} {kind.source:7} {kind.summary}", highlight=False, markup=False, soft_wrap=True)
        console.print(f"{'':24} reads: {kind.reads}", highlight=False, markup=False, soft_wrap=True)
    raise typer.Exit()


def _json(path: str) -> Any:
    """A JSON file (a report's ``--json`` output, a committed record, a benchmark record)."""
    file = Path(path)
    if not file.is_file():
        raise SigcubeError(f"{path}: no such file (a figure of this kind reads JSON: a report's --json output)")
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SigcubeError(f"{path}: not JSON ({exc})") from None


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _options(pairs: list[str], function: Any, taken: set[str]) -> dict[str, Any]:
    """``--set KEY=VALUE`` as keyword arguments of ``function`` (a value read as JSON when it parses)."""
    accepted = [p for p in inspect.signature(function).parameters if p not in taken]
    out = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or key not in accepted:
            raise SigcubeError(f"--set {pair!r}: give KEY=VALUE with KEY one of {', '.join(accepted) or 'none'}")
        out[key] = _value(text)
    return out


def plot(
    figure: Annotated[Optional[str], typer.Argument(help="The figure (sigcube plot --list names them).")] = None,
    inputs: Annotated[Optional[list[str]], typer.Argument(help="What it reads: reports' JSON files (several: "
                                                               "compared, labelled by --label or their names), a "
                                                               "cube, or benchmark records.")] = None,
    out: Annotated[Optional[Path], typer.Option(help="The file to write: .png, .svg, .pdf (static) or .html "
                                                     "(interactive, offline).")] = None,
    label: Annotated[Optional[list[str]], typer.Option(help="The label of each input, in order (default: the "
                                                            "file names).")] = None,
    cube: Annotated[Optional[str], typer.Option(help="The dataset cube a figure of a report reads galaxy "
                                                     "properties from (default: cubes/<the report's dataset>.zarr).")
                    ] = None,
    set_: Annotated[Optional[list[str]], typer.Option("--set", help="A figure's option, KEY=VALUE (repeat), e.g. "
                                                                    "--set metric=win_rate.")] = None,
    list_: Annotated[bool, typer.Option("--list", help="List the figures and what each reads.", is_eager=True,
                                        callback=_list)] = False,
) -> None:
    """Draw a figure of reports, a cube or benchmark records (the documentation's figures are these)."""
    from sigcube.interfaces.plots.output import save
    from sigcube.interfaces.plots.registry import get_figure

    if figure is None or out is None:
        raise SigcubeError("give FIGURE, its INPUTs and --out PATH (sigcube plot --list names the figures)")
    kind = get_figure(figure)
    if kind.source != "code" and not inputs:
        raise SigcubeError(f"{figure} reads {kind.reads}: give at least one INPUT")
    inputs = list(inputs or [])
    labels = list(label or [])
    if labels and len(labels) != len(inputs):
        raise SigcubeError(f"--label: {len(labels)} labels for {len(inputs)} inputs")
    labels = labels or [Path(p.rstrip("/")).stem for p in inputs]
    params = list(inspect.signature(kind.function).parameters)
    first = params[0]
    if kind.source == "code":  # drawn from sigcube's own relations
        args: list = []
    elif kind.source == "cube":
        if len(inputs) != 1:
            raise SigcubeError(f"{figure} reads one cube; got {len(inputs)} inputs")
        from sigcube import open as open_store

        data = open_store(inputs[0])
        if first == "grids":
            from sigcube.interfaces.plots.data import grids_of

            data = grids_of(data)
        args = [data]
    elif first == "records":
        args = [[_json(p) for p in inputs]]
    elif first == "reports":
        reports = [_json(p) for p in inputs]
        args = [reports[0] if len(reports) == 1 else dict(zip(labels, reports))]
    else:
        if len(inputs) != 1:
            raise SigcubeError(f"{figure} reads one report; got {len(inputs)} inputs")
        args = [_json(inputs[0])]
    taken = {first}
    if "cube" in params:
        from sigcube.cli.common import dataset_cube
        from sigcube.interfaces.plots.base import report_of

        dataset = report_of(args[0]).get("dataset") if isinstance(report_of(args[0]), dict) else None
        if cube is None and not dataset:
            raise SigcubeError(f"{figure} reads galaxy properties from a dataset cube: name it with --cube")
        from sigcube import open as open_store

        args.append(open_store(dataset_cube(dataset, cube)))
        taken.add("cube")
    options = _options(list(set_ or []), kind.function, taken)
    with err_console.status(f"drawing {figure} …"):
        drawn = kind.function(*args, **options)
        path = save(drawn, out)
    console.print(str(path), highlight=False, soft_wrap=True)
    err_console.print(drawn.alt)
