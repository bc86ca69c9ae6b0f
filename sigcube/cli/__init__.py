"""The `sigcube` command line: ingest datasets, report against published figures, inspect cubes."""

import typer

from sigcube.cli import explore, info, ingest, kernels, report, sweep

app = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
app.add_typer(ingest.app, name="ingest")
app.add_typer(report.app, name="report")
app.command("sweep")(sweep.sweep)
app.command("info")(info.info)
app.command("kernels")(kernels.kernels)
app.command("explore")(explore.explore)
