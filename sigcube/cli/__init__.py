"""The `sigcube` command line: ingest datasets, report against published figures, inspect cubes."""

from typing import Annotated

import typer

from sigcube.cli import explore, fit, info, ingest, kernels, report, sweep, synth
from sigcube.cli.common import DEBUG_VARIABLE, friendly, set_debug

app = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
app.add_typer(ingest.app, name="ingest")
app.add_typer(report.app, name="report")
app.command("sweep")(sweep.sweep)
app.command("fit")(fit.fit)
app.command("info")(info.info)
app.command("kernels")(kernels.kernels)
app.command("explore")(explore.explore)
app.command("synth")(synth.synth)


@app.callback()
def _options(
    debug: Annotated[bool, typer.Option(
        "--debug", help=f"On an unexpected error (a bug), print its traceback instead of writing it to a file "
                        f"(or set {DEBUG_VARIABLE}=1).")] = False,
) -> None:
    """Options of every command (read by the error boundary, sigcube.cli.common.friendly)."""
    set_debug(debug)


def _guard(group: typer.Typer) -> None:
    """Put every command of ``group`` and its sub-groups behind the error boundary."""
    for command in group.registered_commands:
        command.callback = friendly(command.callback)
    for sub in group.registered_groups:
        _guard(sub.typer_instance)


_guard(app)
