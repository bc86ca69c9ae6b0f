"""`sigcube sweep SPEC`: evaluate a kernel over a parameter grid into a resumable result cube."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from sigcube.cli.common import dataset_cube, err_console


def sweep(
    spec: Annotated[Path, typer.Argument(help="Sweep spec (TOML), e.g. sweeps/sigma_A0_k.toml.")],
    out: Annotated[Optional[str], typer.Option(
        help="Result cube: a path or a store URL such as s3://bucket/r.zarr (default: cubes/<spec name>.zarr)")] = None,
    cube: Annotated[Optional[str], typer.Option(
        help="Dataset cube, path or URL (default: the spec's, or cubes/<dataset>.zarr); for a joint spec "
             "([[datasets]]) LABEL=PATH[,LABEL=PATH…]")] = None,
    scheduler: Annotated[Optional[str], typer.Option(help="Address of a running Dask scheduler, tcp://host:port.")] = None,
    workers: Annotated[Optional[int], typer.Option(help="LocalCluster worker processes (default: one per core).")] = None,
    synchronous: Annotated[bool, typer.Option(help="Run in this process, without Dask (debugging).")] = False,
    force: Annotated[bool, typer.Option(help="Discard an existing result cube made by a different spec.")] = False,
    keep_curves: Annotated[bool, typer.Option(help="Also store V_pred for every point and grid point.")] = False,
) -> None:
    """Evaluate a kernel over a parameter grid into a resumable result cube."""
    from sigcube.engines.sweep import load_spec, run_sweep
    from sigcube.engines.sweep.engine import check_workers
    from sigcube.io.cubes import cube_dir
    from sigcube.io.stores import Location

    check_workers(scheduler, workers, synchronous)
    from sigcube.engines.joint import is_joint_spec

    if is_joint_spec(spec):
        _joint(spec, out, cube, scheduler, workers, synchronous, force)
        return
    parsed = load_spec(spec)
    dataset = dataset_cube(parsed.dataset, cube or parsed.cube)
    target = out or str(cube_dir() / f"{parsed.name}.zarr")
    Location.of(target, "--out")  # an unusable URL is refused before anything is said or read
    err_console.print(f"sweep {parsed.name!r}: kernel {parsed.kernel.name}, grid "
                      f"{' × '.join(f'{a.name}[{len(a)}]' for a in parsed.axes)} = {parsed.size} points → {target}",
                      soft_wrap=True)
    summary = run_sweep(parsed, target, cube=dataset, scheduler=scheduler, workers=workers,
                        synchronous=synchronous, force=force, keep_curves=keep_curves, console=err_console)
    err_console.print(summary.line(), soft_wrap=True)
    for note in summary.notes:
        err_console.print(f"note: {note}", soft_wrap=True)
    for warning in summary.warnings:
        err_console.print(f"⚠ {warning}", soft_wrap=True)


def _joint(spec: Path, out: str | None, cube: str | None, scheduler: str | None, workers: int | None,
           synchronous: bool, force: bool) -> None:
    """`sigcube sweep` of a joint spec: every dataset's sweep, then the joint result cube."""
    from sigcube.engines.joint import load_joint_spec, run_joint
    from sigcube.errors import SigcubeError
    from sigcube.io.cubes import cube_dir
    from sigcube.io.stores import Location

    parsed = load_joint_spec(spec)
    cubes = {}
    for item in (cube.split(",") if cube else []):
        label, sep, path = item.partition("=")
        if not sep or not label or not path:
            raise SigcubeError(f"--cube {cube!r}: a joint spec takes LABEL=PATH[,LABEL=PATH…] (labels: "
                               f"{', '.join(p.label for p in parsed.datasets)})")
        cubes[label.strip()] = path.strip()
    for probe in parsed.datasets:
        if probe.label not in cubes and probe.sweep.cube is None:
            cubes[probe.label] = str(dataset_cube(probe.sweep.dataset, None))
    target = out or str(cube_dir() / f"{parsed.name}.zarr")
    Location.of(target, "--out")
    err_console.print(f"joint sweep {parsed.name!r}: kernel {parsed.kernel.name}, grid "
                      f"{' × '.join(f'{a.name}[{len(a)}]' for a in parsed.axes)}, datasets "
                      f"{', '.join(p.label for p in parsed.probes)} → {target}", soft_wrap=True)
    summary = run_joint(parsed, target, cubes=cubes, scheduler=scheduler, workers=workers, synchronous=synchronous,
                        force=force, console=err_console)
    err_console.print(summary.line(), soft_wrap=True)
