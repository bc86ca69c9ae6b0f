"""`sigcube fit SPEC`: every object's own best values of a kernel's parameters, into a result cube."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from sigcube.cli.common import dataset_cube, err_console


def fit(
    spec: Annotated[Path, typer.Argument(help="Fit spec (TOML), e.g. sweeps/fits/fit_sigma_xi.toml.")],
    out: Annotated[Optional[str], typer.Option(help="Result cube, path or URL (default: cubes/<spec name>.zarr).")] = None,
    cube: Annotated[Optional[str], typer.Option(
        help="Dataset cube, path or URL (default: the spec's, or cubes/<dataset>.zarr)")] = None,
    scheduler: Annotated[Optional[str], typer.Option(help="Address of a running Dask scheduler, tcp://host:port.")] = None,
    workers: Annotated[Optional[int], typer.Option(help="LocalCluster worker processes (default: one per core).")] = None,
    synchronous: Annotated[bool, typer.Option(help="Run in this process, without Dask (debugging).")] = False,
    force: Annotated[bool, typer.Option(help="Replace an existing fit result cube at --out (never anything else).")] = False,
) -> None:
    """Fit each object's own values of the spec's parameters (coarse grid, then bounded least squares)."""
    from sigcube.engines.fit.run import executor, fit_cube, summary
    from sigcube.engines.fit.spec import load_spec
    from sigcube.engines.fit.store import claim
    from sigcube.engines.sweep.engine import check_workers
    from sigcube.io.cubes import cube_dir, open_cube

    scheduler = check_workers(scheduler, workers, synchronous)
    parsed = load_spec(spec)
    target = out or str(cube_dir() / f"{parsed.name}.zarr")
    source = dataset_cube(parsed.dataset, cube or parsed.cube)
    err_console.print(f"fit {parsed.name!r}: kernel {parsed.kernel.name}, free "
                      f"{', '.join(f'{p.name} ∈ [{p.lower:g}, {p.upper:g}]' for p in parsed.free)}, nuisance "
                      f"{parsed.nuisance} → {target}", soft_wrap=True, highlight=False)
    start = time.perf_counter()
    with claim(target, force, inputs=[source]) as write:
        ds = open_cube(source, kind=parsed.dataset).load()
        with executor(scheduler, workers, synchronous, err_console) as run:
            result = fit_cube(parsed, ds, run)
        write(result)
    seconds = time.perf_counter() - start
    err_console.print(f"{target}: written in {seconds:.1f} s", soft_wrap=True, highlight=False)
    for line in summary(result):
        err_console.print(line, soft_wrap=True, highlight=False)
