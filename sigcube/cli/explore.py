"""`sigcube explore RESULT`: the explorer of a sweep, a joint sweep or a posterior export as a standalone HTML file
or a live panel server."""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape

from sigcube.cli.common import console, err_console
from sigcube.errors import SigcubeError
from sigcube.interfaces.explore.bounds import Limits


def explore(
    result: Annotated[str, typer.Argument(help="A finished sweep's or joint sweep's result cube, or a posterior export (path or store URL), e.g. cubes/sigma-A0-k.zarr.")],
    html: Annotated[Optional[Path], typer.Option(help="HTML file to write, or a folder to write <result name>.html in (default: RESULT with .html; for a URL, its name with .html here)")] = None,
    serve: Annotated[bool, typer.Option(help="Serve it with panel (blocks; Ctrl-C stops); --html writes too.")] = False,
    port: Annotated[int, typer.Option(help="Port of --serve (localhost).", min=1, max=65535)] = 5006,
    cube: Annotated[Optional[str], typer.Option(
        help="Dataset cube of a sweep over rotation curves (default: cubes/<its kind>.zarr)")] = None,
    kernel: Annotated[Optional[list[str]], typer.Option(help="Kernel of the rotation curves and RAR (repeat).")] = None,
    preset: Annotated[str, typer.Option(help="Preset of the sigma kernel's curves.")] = "paper",
    population: Annotated[Optional[str], typer.Option(help="A nuisance sweep's parameter to ask the population "
                                                           "question of (forest and (μ, τ) posterior, as `sigcube "
                                                           "report population --param`).")] = None,
    scale: Annotated[str, typer.Option(help="With --population: linear or log (log10 of the parameter).")] = "linear",
    others: Annotated[str, typer.Option(help="With --population: marginalise or best (the other grid axes).")] = "marginalise",
    max_frames: Annotated[int, typer.Option(help="Most slider positions embedded per sweep view.")] = Limits.max_frames,
    max_galaxies: Annotated[int, typer.Option(help="Most galaxies in the rotation curves.")] = Limits.max_galaxies,
    max_points: Annotated[int, typer.Option(help="Most RAR points drawn.")] = Limits.max_points,
) -> None:
    """Explore a sweep (rotation curves, RAR, metric heatmaps and slices, best parameters per galaxy; a nuisance
    sweep: curves at the posterior, credible contours, with --population its population), a joint sweep (each
    dataset's posterior and the joint one, each object's cost of the compromise) or a posterior export (its draws'
    marginals and contours)."""
    from sigcube.interfaces.explore.page import PopulationQuestion, explorer, save_explorer
    from sigcube.interfaces.plots.galaxies import DEFAULT_KERNELS
    from sigcube.interfaces.plots.output import PAGE_FORMATS, in_folder, output_file
    from sigcube.io.cubes import RESULT_KIND, default_cube, open_cube
    from sigcube.io.datasets import dataset_kind
    from sigcube.io.stores import Location
    from sigcube.model.kernels import get_kernel
    from sigcube.model.kernels.presets import get_preset

    kernels = kernel or list(DEFAULT_KERNELS)
    for name in kernels:
        get_kernel(name)
    get_preset(preset)
    if scale not in ("linear", "log") or others not in ("marginalise", "best"):
        raise SigcubeError("--scale takes linear or log, --others marginalise or best")
    if population is None and (scale != "linear" or others != "marginalise"):
        raise SigcubeError("--scale and --others belong to --population; pass --population PARAM with them")
    limits = Limits(max_frames=max_frames, max_galaxies=max_galaxies, max_points=max_points)
    target = None
    if html is not None or not serve:
        local = Location.of(result, "RESULT")
        default = Path(local.path if local.local else posixpath.basename(local.path)).with_suffix(".html")
        target = output_file(in_folder(html, default.name) if html is not None else default, PAGE_FORMATS,
                             "the explorer's page", "--html", suffixless=True,
                             make_folder=True)
    res = _open(result)
    kind = res.attrs.get("sigcube_kind")
    dataset = res.attrs.get("dataset") if kind == RESULT_KIND else None
    curves = (open_cube(cube or default_cube(dataset), kind=dataset)
              if dataset is not None and dataset_kind(dataset).has_curves else None)
    question = PopulationQuestion(population, scale, others) if population is not None else None
    if target is not None:
        with _progress(result) as progress:
            out = save_explorer(res, curves, target, kernels, preset, limits, question, progress)
        console.print(str(out), highlight=False, soft_wrap=True)
    if serve:
        import panel as pn

        from sigcube.interfaces.explore.page import name_of

        err_console.print(f"serving the explorer of {result} on http://localhost:{port} (Ctrl-C stops)")
        pn.serve(explorer(res, curves, kernels, preset, limits, question), port=port, address="localhost",
                 show=False, title=f"sigcube explorer: {name_of(res)}")


@contextmanager
def _progress(result: str) -> Iterator[Callable[[str, int, int], None]]:
    """A bar on stderr naming the part of the page being drawn and counting its frames (a spinner for a step)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task(f"the explorer of {escape(result)}", total=None)

        def progress(part: str, done: int, total: int) -> None:
            bar.update(task, description=f"the explorer of {escape(result)}: {escape(part)}", completed=done,
                       total=total or None, refresh=True)

        yield progress


def _open(result: str):
    """A joint sweep's cube or a posterior export by the kind it records, anything else as a sweep's result cube
    (which refuses what is not one, saying what it is)."""
    from sigcube.engines.joint import open_joint
    from sigcube.engines.sweep import open_result
    from sigcube.errors import SchemaError
    from sigcube.interfaces.open import is_export, open_export
    from sigcube.io.cubes import JOINT_KIND, kind_of, store_attrs

    try:
        _, attrs = store_attrs(result, "", "RESULT")
    except SchemaError:
        attrs = {}
    if kind_of(attrs) == JOINT_KIND:
        return open_joint(result)
    if is_export(attrs):
        return open_export(result)
    return open_result(result)
