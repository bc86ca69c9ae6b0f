"""`sigcube sweep SPEC`: evaluate a kernel over a parameter grid into a resumable result cube."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional
from urllib.parse import urlsplit

import typer

from sigcube.cli.common import dataset_cube, err_console
from sigcube.cubes.store import cube_dir
from sigcube.errors import SigcubeError

DASK_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")
"""Dask comm protocols a scheduler in another process listens on (``inproc://`` lives inside one process)."""


def scheduler_address(address: str) -> str:
    """``address`` as ``scheme://host:port`` (``host:port`` means tcp), or a SigcubeError saying what is wrong."""
    given = address if "://" in address else f"tcp://{address}"
    what = f"--scheduler {address!r} is not a Dask scheduler address"
    example = "give tcp://HOST:PORT, e.g. tcp://10.0.0.5:8786"
    parts = urlsplit(given)
    if parts.scheme == "inproc":
        raise SigcubeError(f"{what}: inproc:// addresses live inside one Python process, out of this command's "
                           f"reach; {example}")
    if parts.scheme not in DASK_SCHEMES:
        dashboard = "; http(s):// is the dashboard's address, the scheduler's is tcp://HOST:8786" \
            if parts.scheme in ("http", "https") else ""
        raise SigcubeError(f"{what}: {parts.scheme!r} is not a Dask protocol ({', '.join(DASK_SCHEMES)}){dashboard}")
    try:
        port = parts.port
    except ValueError:
        port = -1
    if not parts.hostname or port is None or port < 1 or parts.path or parts.query or parts.fragment or parts.username:
        raise SigcubeError(f"{what}: {example}")
    return given


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
    address = scheduler_address(scheduler) if scheduler is not None else None
    parsed = load_spec(spec)
    dataset = dataset_cube(parsed.dataset, cube or (Path(parsed.cube) if parsed.cube else None))
    target = out or cube_dir() / f"{parsed.name}.zarr"
    err_console.print(f"sweep {parsed.name!r}: kernel {parsed.kernel.name}, grid "
                      f"{' × '.join(f'{a.name}[{len(a)}]' for a in parsed.axes)} = {parsed.size} points → {target}",
                      soft_wrap=True)
    summary = run_sweep(parsed, target, cube=dataset, scheduler=address, workers=workers,
                        synchronous=synchronous, force=force, keep_curves=keep_curves, console=err_console)
    err_console.print(summary.line(), soft_wrap=True)
