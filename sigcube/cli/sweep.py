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
        help="Dataset cube, path or URL (default: the spec's, or cubes/<dataset>.zarr)")] = None,
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
