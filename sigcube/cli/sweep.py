"""`sigcube sweep SPEC`: evaluate a kernel over a parameter grid into a resumable result cube."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from sigcube.cli.common import dataset_cube, err_console, friendly
from sigcube.cubes.store import cube_dir
from sigcube.errors import SigcubeError


@friendly
def sweep(
    spec: Annotated[Path, typer.Argument(help="Sweep spec (TOML), e.g. sweeps/sigma_A0_k.toml.")],
    out: Annotated[Optional[Path], typer.Option(help="Result cube (default: cubes/<spec name>.zarr)")] = None,
    cube: Annotated[Optional[Path], typer.Option(help="Dataset cube (default: the spec's, or cubes/<dataset>.zarr)")] = None,
    scheduler: Annotated[Optional[str], typer.Option(help="Address of a running Dask scheduler, tcp://host:port.")] = None,
    workers: Annotated[Optional[int], typer.Option(help="LocalCluster worker processes (default: one per core).")] = None,
    synchronous: Annotated[bool, typer.Option(help="Run in this process, without Dask (debugging).")] = False,
    force: Annotated[bool, typer.Option(help="Discard an existing result cube made by a different spec.")] = False,
    keep_curves: Annotated[bool, typer.Option(help="Also store V_pred for every point and grid point.")] = False,
) -> None:
    """Evaluate a kernel over a parameter grid into a resumable result cube."""
    from sigcube.sweeps import load_spec, run_sweep

    if sum([scheduler is not None, workers is not None, synchronous]) > 1:
        raise SigcubeError("choose at most one of --scheduler, --workers, --synchronous")
    if workers is not None and workers < 1:
        raise SigcubeError(f"--workers must be ≥ 1; got {workers}")
    parsed = load_spec(spec)
    dataset = dataset_cube(parsed.dataset, cube or (Path(parsed.cube) if parsed.cube else None))
    target = out or cube_dir() / f"{parsed.name}.zarr"
    err_console.print(f"sweep {parsed.name!r}: kernel {parsed.kernel.name}, grid "
                      f"{' × '.join(f'{a.name}[{len(a)}]' for a in parsed.axes)} = {parsed.size} points → {target}",
                      soft_wrap=True, highlight=False)
    summary = run_sweep(parsed, target, cube=dataset, scheduler=scheduler, workers=workers,
                        synchronous=synchronous, force=force, keep_curves=keep_curves, console=err_console)
    err_console.print(summary.line(), highlight=False, soft_wrap=True)
