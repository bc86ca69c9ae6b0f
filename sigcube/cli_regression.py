"""`sigcube report regression [--json]`: :func:`register` adds it to the ``report`` sub-app."""

from typing import Annotated

import typer

from sigcube.cli import cube_dir, emit, err_console, friendly, ingest_dataset


@friendly
def report_regression(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list, one object per test.")] = False,
) -> None:
    """The paper's regression suite on every dataset cube, next to the published figures (ingests missing cubes)."""
    from sigcube.reports.regression import KINDS, regression_report, render

    paths = {}
    for kind in KINDS:
        paths[kind] = cube_dir() / f"{kind}.zarr"
        if not paths[kind].exists():
            err_console.print(f"{paths[kind]} does not exist yet: ingesting {kind} first", highlight=False)
            ingest_dataset(kind, paths[kind], force=False)
    with err_console.status("running the regression suite …"):
        rows = regression_report(paths)
    emit(rows, as_json, render)


def register(report_app: typer.Typer) -> None:
    """Add ``report regression`` to the CLI's ``report`` sub-app."""
    report_app.command("regression")(report_regression)
