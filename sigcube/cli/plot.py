"""`sigcube plot FIGURE INPUT… --out PATH`: a figure of reports' JSON, of a cube or of benchmark records, as PNG,
SVG, PDF or standalone HTML (:mod:`sigcube.interfaces.plots`). ``sigcube plot FIGURE --help`` lists the figure's
options (:mod:`sigcube.interfaces.plots.options`), given as ``--set KEY=VALUE``."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from sigcube.cli.common import console, err_console
from sigcube.errors import SigcubeError

GRAMMAR = ("--set KEY=VALUE, repeated: text as written; integers and numbers as written (5, 2.5e4); yes/no as true "
           "or false; a list as comma-separated items (kernels=sigma,mond); a pair of numbers as two (9,13.5)")
"""How ``--set`` values are read (:mod:`sigcube.interfaces.plots.options`)."""


def _list(value: bool) -> None:
    if not value:
        return
    import textwrap

    from sigcube.interfaces.plots.registry import figures

    indent = " " * 33
    width = max(console.width - len(indent), 40)
    for name, kind in figures().items():
        lines = textwrap.wrap(_plain(kind.summary), width) + textwrap.wrap(f"reads: {kind.reads}", width)
        console.print(f"{name:24} {kind.source:7} {lines[0]}", highlight=False, markup=False, soft_wrap=True)
        for line in lines[1:]:
            console.print(indent + line, highlight=False, markup=False, soft_wrap=True)
    console.print("sigcube plot FIGURE --help lists a figure's options.", highlight=False, markup=False)
    raise typer.Exit()


def _plain(text: str) -> str:
    """A docstring's paragraph as terminal text (:func:`sigcube.interfaces.plots.registry.plain`)."""
    from sigcube.interfaces.plots.registry import plain

    return plain(text)


def _inputs(name: str) -> tuple[str, ...]:
    """The parameters of a figure's function that the command gives: its input (the first) and the dataset cube."""
    from sigcube.interfaces.plots.registry import get_figure

    params = list(inspect.signature(get_figure(name).function).parameters)
    taken = () if get_figure(name).source == "code" else (params[0],)
    return taken + (("cube",) if "cube" in params else ())


def _figure_help(name: str) -> None:
    """A figure's description, what it reads and each of its options with its kind and default."""
    from sigcube.interfaces.plots.options import figure_options
    from sigcube.interfaces.plots.registry import get_figure

    kind = get_figure(name)
    text = "\n\n".join(_plain(p) for p in kind.description.split("\n\n") if not p.lstrip().startswith("``"))
    lines = [f"sigcube plot {name} {'' if kind.source == 'code' else 'INPUT… '}--out PATH "
             "[--set KEY=VALUE …]", "", text, "",
             f"reads: {kind.reads}" if kind.source != "code" else "reads: no input (sigcube's own relations)"]
    if "cube" in _inputs(name):
        lines.append("--cube: the dataset cube the report was made from (default: cubes/<the report's dataset>.zarr; "
                     "its content hash must be the one the report records)")
    options = figure_options(kind.function, _inputs(name))
    lines += ["", "options:" if options else "options: none"]
    lines += [f"  {o.describe()}" for o in options]
    lines += ["", GRAMMAR]
    for line in lines:
        console.print(line, highlight=False, markup=False)


def _json(path: str, reads: str) -> Any:
    """A JSON file (a report's ``--json`` output, a committed record, a benchmark record)."""
    file = Path(path)
    if file.is_dir():
        raise SigcubeError(f"{path}: is a folder (a cube?), not a JSON file; this figure reads {reads}")
    if not file.is_file():
        raise SigcubeError(f"{path}: no such file (this figure reads {reads})")
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SigcubeError(f"{path}: cannot be read as text ({type(exc).__name__}); this figure reads {reads}"
                           ) from None
    if not text.strip():
        raise SigcubeError(f"{path}: is empty; this figure reads {reads}")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SigcubeError(f"{path}: not JSON, or cut short ({exc}); this figure reads {reads}") from None


def plot(
    ctx: typer.Context,
    figure: Annotated[Optional[str], typer.Argument(help="The figure (sigcube plot --list names them).")] = None,
    inputs: Annotated[Optional[list[str]], typer.Argument(help="What it reads: reports' JSON files (several: "
                                                               "compared, labelled by --label or their names), a "
                                                               "cube, or benchmark records.")] = None,
    out: Annotated[Optional[Path], typer.Option(help="The file to write: .png, .svg, .pdf (static) or .html "
                                                     "(interactive, offline). An existing file of these kinds is "
                                                     "replaced; one holding anything else is refused. A figure of "
                                                     "several pages (fitted-curves --set galaxies=all) writes each "
                                                     "beside it, as NAME-<page>-<first>-to-<last galaxy>.png.")
                                     ] = None,
    label: Annotated[Optional[list[str]], typer.Option(help="The label of each input, in order (default: the "
                                                            "file names).")] = None,
    cube: Annotated[Optional[str], typer.Option(help="The dataset cube a figure of a report reads galaxy "
                                                     "properties from (default: cubes/<the report's dataset>.zarr); "
                                                     "it must be the cube the report was made from.")] = None,
    set_: Annotated[Optional[list[str]], typer.Option("--set", help="A figure's option, KEY=VALUE (repeat), e.g. "
                                                                    "--set metric=win_rate or --set kernels=sigma,mond "
                                                                    "(sigcube plot FIGURE --help lists them).")] = None,
    list_: Annotated[bool, typer.Option("--list", help="List the figures and what each reads.", is_eager=True,
                                        callback=_list)] = False,
    help_: Annotated[bool, typer.Option("--help", help="Show this message; with FIGURE, that figure's options.")
                     ] = False,
) -> None:
    """Draw a figure of reports, a cube or benchmark records (the documentation's figures are these)."""
    if help_:
        if figure is None:
            ctx.get_help()  # typer prints it
        else:
            _figure_help(figure)
        raise typer.Exit()
    from sigcube.interfaces.plots.options import figure_options, given_options
    from sigcube.interfaces.plots.output import STATIC_FORMATS, output_file, save_all
    from sigcube.interfaces.plots.registry import get_figure

    if figure is None or out is None:
        raise SigcubeError("give FIGURE, its INPUTs and --out PATH (sigcube plot --list names the figures)")
    kind = get_figure(figure)
    out = output_file(out, (*STATIC_FORMATS, "html"), "a figure")
    inputs = list(inputs or [])
    if kind.source == "code" and inputs:
        raise SigcubeError(f"{figure} reads no input (it draws {kind.reads}); give only --out and its options")
    if kind.source != "code" and not inputs:
        raise SigcubeError(f"{figure} reads {kind.reads}: give at least one INPUT")
    taken = _inputs(figure)
    options = given_options(list(set_ or []), figure_options(kind.function, taken), figure)
    labels = list(label or [])
    if labels and len(labels) != len(inputs):
        raise SigcubeError(f"--label: {len(labels)} labels for {len(inputs)} inputs")
    labels = labels or [Path(p.rstrip("/")).stem for p in inputs]
    if len(set(labels)) != len(labels):
        raise SigcubeError(f"the inputs' labels repeat ({', '.join(labels)}): give each its own with --label")
    args = _read(figure, kind, inputs, labels, taken)
    if "cube" in taken and not _store(args[0]):
        from sigcube import open as open_store
        from sigcube.cli.common import dataset_cube
        from sigcube.interfaces.plots.base import report_of

        report = report_of(args[0])
        if isinstance(report, dict) and isinstance(report.get("error_model_table"), dict):  # its lead's dataset
            report = (report.get("reports") or {}).get(report["error_model_table"].get("lead")) or report
        dataset = report.get("dataset") if isinstance(report, dict) else None
        if cube is None and not isinstance(dataset, str):
            raise SigcubeError(f"{figure} reads galaxy properties from a dataset cube and the report names none: "
                               "name it with --cube")
        args.append(open_store(dataset_cube(dataset, cube)))
    with err_console.status(f"drawing {figure} …"):
        drawn = kind.function(*args, **options)
        paths = save_all(drawn, out)
    for path in paths:  # a figure of several pages: each beside --out, named for what it shows
        console.print(str(path), highlight=False, soft_wrap=True)
    err_console.print(drawn.alt)


def _read(figure: str, kind: Any, inputs: list[str], labels: list[str], taken: tuple[str, ...]) -> list[Any]:
    """The figure function's input argument: a cube, the records, one report, or several by label."""
    if kind.source == "code":
        return []
    first = taken[0]
    if kind.source == "cube":
        if len(inputs) != 1:
            raise SigcubeError(f"{figure} reads one cube; got {len(inputs)} inputs")
        from sigcube import open as open_store

        data = open_store(inputs[0])
        if first == "grids":
            from sigcube.interfaces.plots.data import grids_of

            data = grids_of(data)
        return [data]
    if first == "records":
        return [[_json(p, kind.reads) for p in inputs]]
    if first == "reports":
        reports = [_json(p, kind.reads) for p in inputs]
        return [reports[0] if len(reports) == 1 else dict(zip(labels, reports))]
    if len(inputs) != 1:
        raise SigcubeError(f"{figure} reads one report; got {len(inputs)} inputs")
    if kind.cube_alone and Path(inputs[0]).is_dir():  # a dataset cube given alone (the RAR's preset kernels)
        from sigcube import open as open_store

        return [open_store(inputs[0])]
    return [_json(inputs[0], kind.reads)]


def _store(data: Any) -> bool:
    """Whether a figure's input is a store (a cube given alone), not a report's JSON."""
    return hasattr(data, "attrs") and hasattr(data, "dims")


app = typer.Typer(add_completion=False)
app.command("plot", context_settings={"help_option_names": []})(plot)  # --help is plot's own: FIGURE --help
"""The command, with its own ``--help`` (``sigcube plot FIGURE --help`` describes the figure)."""
