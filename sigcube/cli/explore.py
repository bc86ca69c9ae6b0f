"""`sigcube explore RESULT`: the explorer of a sweep as a standalone HTML file or a live panel server."""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape

from sigcube.cli.common import console, err_console
from sigcube.interfaces.explore.bounds import Limits


def explore(
    result: Annotated[str, typer.Argument(help="A finished sweep result cube (path or store URL), e.g. cubes/sigma-A0-k.zarr.")],
    html: Annotated[Optional[Path], typer.Option(help="HTML file to write, or a folder to write <result name>.html in (default: RESULT with .html; for a URL, its name with .html here)")] = None,
    serve: Annotated[bool, typer.Option(help="Serve it with panel (blocks; Ctrl-C stops); --html writes too.")] = False,
    port: Annotated[int, typer.Option(help="Port of --serve (localhost).", min=1, max=65535)] = 5006,
    cube: Annotated[Optional[str], typer.Option(
        help="Dataset cube of a sweep over rotation curves (default: cubes/<its kind>.zarr)")] = None,
    kernel: Annotated[Optional[list[str]], typer.Option(help="Kernel of the rotation curves and RAR (repeat).")] = None,
    preset: Annotated[str, typer.Option(help="Preset of the sigma kernel's curves.")] = "paper",
    max_frames: Annotated[int, typer.Option(help="Most slider positions embedded per sweep view.")] = Limits.max_frames,
    max_galaxies: Annotated[int, typer.Option(help="Most galaxies in the rotation curves.")] = Limits.max_galaxies,
    max_points: Annotated[int, typer.Option(help="Most RAR points drawn.")] = Limits.max_points,
) -> None:
    """Explore a sweep: rotation curves, RAR, metric heatmaps and slices, best parameters per galaxy."""
    from sigcube.engines.sweep import open_result
    from sigcube.interfaces.explore.page import explorer, save_explorer
    from sigcube.interfaces.explore.data import DEFAULT_KERNELS
    from sigcube.io.cubes import default_cube, open_cube
    from sigcube.io.stores import Location
    from sigcube.io.datasets import dataset_kind
    from sigcube.model.kernels import get_kernel
    from sigcube.model.kernels.presets import get_preset

    kernels = kernel or list(DEFAULT_KERNELS)
    for name in kernels:
        get_kernel(name)
    get_preset(preset)
    limits = Limits(max_frames=max_frames, max_galaxies=max_galaxies, max_points=max_points)
    res = open_result(result)
    kind = res.attrs.get("dataset")
    curves = open_cube(cube or default_cube(kind), kind=kind) if dataset_kind(kind).has_curves else None
    if html is not None or not serve:
        local = Location.of(result, "RESULT")
        default = Path(local.path if local.local else posixpath.basename(local.path)).with_suffix(".html")
        target = html / default.name if html is not None and html.is_dir() else html or default
        with err_console.status(f"writing the explorer of {escape(result)} …"):
            out = save_explorer(res, curves, target, kernels, preset, limits)
        console.print(str(out), highlight=False, soft_wrap=True)
    if serve:
        import panel as pn

        err_console.print(f"serving the explorer of {result} on http://localhost:{port} (Ctrl-C stops)")
        pn.serve(explorer(res, curves, kernels, preset, limits), port=port, address="localhost", show=False,
                 title=f"sigcube explorer: {res.attrs['sweep_name']}")

