"""The `sigcube` command line: ingest datasets, report against published figures, inspect cubes."""

# No `from __future__ import annotations`: typer reads the per-kind option help of the
# generated ingest commands from annotations that must be evaluated when they are made.
import json
import os
import sys
from functools import wraps
from pathlib import Path
from typing import Annotated, Callable, Optional

import typer
from rich.console import Console

from sigcube.errors import SigcubeError

app = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
ingest_app = typer.Typer(help="Ingest a public dataset into a labelled Zarr cube.", no_args_is_help=True)
report_app = typer.Typer(help="Compute a report on a cube and compare it with the published figures.", no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")
app.add_typer(report_app, name="report")

console = Console()
err_console = Console(stderr=True)


def emit(payload, as_json: bool, render: Callable[..., None]) -> None:
    """Print ``payload`` as one JSON line on stdout, or with ``render`` on the console."""
    if as_json:
        sys.stdout.write(json.dumps(payload, default=float) + "\n")
    else:
        render(payload, console)


def cube_dir() -> Path:
    """Where cubes live by default: ``$SIGCUBE_CUBE_DIR`` or ``./cubes``."""
    return Path(os.environ.get("SIGCUBE_CUBE_DIR") or "cubes")


def friendly(func: Callable) -> Callable:
    """Turn a :class:`SigcubeError` into one red line on stderr and exit status 2."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except SigcubeError as exc:
            err_console.print(f"[bold red]error:[/bold red] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None

    return wrapper


INGESTERS = {
    "sparc": ("sigcube.ingest.sparc", "build_sparc_cube", "SPARC rotation curves and Table 1"),
    "milkyway": ("sigcube.ingest.milkyway", "build_milkyway_cube",
                 "Eilers+2019 bins and Mróz+2019 Cepheids, V_bar from galpy's McMillan17"),
    "clusters": ("sigcube.ingest.clusters", "build_clusters_cube",
                 "the CLASH RAR (Tian+2020) and weak-lensing profiles (Mistele+2025)"),
    "dwarfs": ("sigcube.ingest.dwarfs", "build_dwarfs_cube", "Simon 2019 and McConnachie 2012 dwarfs"),
    "manga": ("sigcube.ingest.manga", "build_manga_cube", "the MaNGA DynPop f_DM subset and counter-rotator matches"),
}
"""Dataset kind → (module, builder function, what it reads)."""


def ingest_dataset(kind: str, out: Path, force: bool) -> None:
    """Build the ``kind`` cube from its verified files and write it atomically to ``out`` (one line on stderr)."""
    import importlib

    from sigcube.cubes import write_cube
    from sigcube.cubes.schema import SCHEMAS

    module, builder, what = INGESTERS[kind]
    with err_console.status(f"reading {what} …"):
        ds = getattr(importlib.import_module(module), builder)()
    with err_console.status(f"writing {out} …"):
        state = write_cube(ds, out, force=force)
    verb = {"written": "wrote", "replaced": "replaced", "unchanged": "up to date:"}[state]
    sizes = " × ".join(f"{ds.sizes[d]} {d}" for d in SCHEMAS[kind].dims)
    err_console.print(f"{verb} {out}  ({sizes})", highlight=False)


def _ingest_command(kind: str) -> Callable[..., None]:
    def command(
        out: Annotated[Optional[Path], typer.Option(help=f"Zarr store to write (default: cubes/{kind}.zarr)")] = None,
        force: Annotated[bool, typer.Option(help="Replace an existing, different store.")] = False,
    ) -> None:
        ingest_dataset(kind, out or cube_dir() / f"{kind}.zarr", force)

    what = INGESTERS[kind][2]
    command.__doc__ = f"{what[0].upper()}{what[1:]} → {kind} cube (files from $SIGCUBE_DATA_DIR or the archive)."
    command.__name__ = f"ingest_{kind}"
    return friendly(command)


for _kind in INGESTERS:
    ingest_app.command(_kind)(_ingest_command(_kind))


def _parse_quality(text: str) -> tuple[int, ...]:
    try:
        return tuple(sorted({int(q) for q in text.split(",") if q.strip()}))
    except ValueError:
        raise SigcubeError(f"--quality takes comma-separated flags from 1, 2, 3; got {text!r}") from None


@report_app.command("sparc")
@friendly
def report_sparc(
    preset: Annotated[str, typer.Option(help="paper | bulge-amplitude | c-local | vdisk-peak | all")] = "paper",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object (a list with --preset all).")] = False,
    cube: Annotated[Optional[Path], typer.Option(help="SPARC cube (default: cubes/sparc.zarr, ingested if missing)")] = None,
    min_points: Annotated[int, typer.Option(help="A galaxy needs at least this many usable points.")] = 5,
    quality: Annotated[str, typer.Option(help="Accepted SPARC quality flags, e.g. 1,2.")] = "1,2,3",
    min_inclination: Annotated[float, typer.Option(help="Smallest inclination kept [deg].")] = 0.0,
    max_inclination: Annotated[float, typer.Option(help="Largest inclination kept [deg].")] = 90.0,
) -> None:
    """Σ-Gravity vs MOND on SPARC: RMS, win rate, RAR scatter, next to the published figures."""
    from sigcube.conventions import SampleCuts
    from sigcube.cubes import open_cube
    from sigcube.presets import PRESETS, get_preset
    from sigcube.reports.sparc import render, render_summary, sparc_report

    cuts = SampleCuts(min_points, _parse_quality(quality), min_inclination, max_inclination)
    names = list(PRESETS) if preset == "all" else [get_preset(preset).name]
    path = cube or cube_dir() / "sparc.zarr"
    if cube is None and not path.exists():
        err_console.print(f"{path} does not exist yet: ingesting SPARC first")
        ingest_dataset("sparc", path, force=False)
    ds = open_cube(path).load()
    results = [sparc_report(ds, PRESETS[name], cuts) for name in names]
    if as_json or len(results) == 1:
        emit(results if preset == "all" else results[0], as_json, render)
    else:
        render_summary(results, console)


@report_app.command("sensitivity")
@friendly
def report_sensitivity(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object: tables of rows, notes, note 000.")] = False,
    cube: Annotated[Optional[Path], typer.Option(help="SPARC cube (default: cubes/sparc.zarr, ingested if missing)")] = None,
    sweeps: Annotated[Optional[Path], typer.Option(help="Folder of the shipped sweep specs (default: the repository's sweeps/)")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Folder of the result cubes (default: the cube folder, cubes/)")] = None,
) -> None:
    """SI §13.3–§14 tables and note 000's fits from the shipped sweeps (run, or read if already made), with ✓/✗."""
    from sigcube.cubes import open_cube
    from sigcube.reports.sensitivity import SWEEPS_DIR, render, run_shipped, sensitivity_report

    path = cube or cube_dir() / "sparc.zarr"
    if cube is None and not path.exists():
        err_console.print(f"{path} does not exist yet: ingesting SPARC first")
        ingest_dataset("sparc", path, force=False)
    folder = sweeps or SWEEPS_DIR
    if not folder.is_dir():
        raise SigcubeError(f"no folder of sweep specs at {folder}; pass --sweeps DIR (the repository's sweeps/)")
    with err_console.status("running the shipped sweeps (or reading their result cubes) …"):
        specs, results, state = run_shipped(path, out or cube_dir(), folder)
        report = sensitivity_report(open_cube(path).load(), specs, results, state)
    emit(report, as_json, render)


@report_app.command("sweep")
@friendly
def report_sweep(
    result: Annotated[Path, typer.Argument(help="A finished sweep result cube.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Best grid point of every global metric, and the metrics at the kernel's defaults."""
    from sigcube.reports.sweep import render, sweep_report
    from sigcube.sweeps import open_result

    emit(sweep_report(open_result(result)), as_json, render)


@app.command("sweep")
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
    dataset_cube = cube or (Path(parsed.cube) if parsed.cube else cube_dir() / f"{parsed.dataset}.zarr")
    if cube is None and parsed.cube is None and not dataset_cube.exists():
        err_console.print(f"{dataset_cube} does not exist yet: ingesting {parsed.dataset} first")
        ingest_dataset(parsed.dataset, dataset_cube, force=False)
    target = out or cube_dir() / f"{parsed.name}.zarr"
    err_console.print(f"sweep {parsed.name!r}: kernel {parsed.kernel.name}, grid "
                      f"{' × '.join(f'{a.name}[{len(a)}]' for a in parsed.axes)} = {parsed.size} points → {target}",
                      soft_wrap=True, highlight=False)
    summary = run_sweep(parsed, target, cube=dataset_cube, scheduler=scheduler, workers=workers,
                        synchronous=synchronous, force=force, keep_curves=keep_curves, console=err_console)
    err_console.print(summary.line(), highlight=False, soft_wrap=True)


@app.command("info")
@friendly
def info(path: Annotated[Path, typer.Argument(help="A sigcube Zarr store (dataset or sweep result).")]) -> None:
    """Describe a cube: its kind, dimensions, variables with units, provenance."""
    from sigcube.cubes import open_cube
    from sigcube.cubes.store import read_store
    from sigcube.sweeps import best_parameters, open_result

    if read_store(path, "no such store").attrs.get("sigcube_kind") == "sweep":
        ds = open_result(path, allow_incomplete=True)
        console.print(ds)
        done = int(ds["done"].sum())
        console.print(f"{done} of {ds['done'].size} grid points written"
                      + ("" if ds.attrs.get("complete") else " (unfinished: rerun the sweep to resume)"))
        if ds.attrs.get("complete"):
            console.print(f"best mean RMS: {best_parameters(ds)}")
    else:
        console.print(open_cube(path))


from sigcube.cli_kernels import register as _register_kernel_commands  # noqa: E402
from sigcube.cli_regression import register as _register_regression_commands  # noqa: E402
from sigcube.explore.cli import register as _register_explore_command  # noqa: E402

_register_kernel_commands(app, report_app)
_register_regression_commands(report_app)
_register_explore_command(app)


def main() -> None:  # pragma: no cover - console-script entry point
    app()
