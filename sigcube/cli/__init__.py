"""The `sigcube` command line: ingest datasets, sweep and fit kernels, report against published figures, explore.

The root group loads each command's module only when that command runs (or its own ``--help`` is asked for):
``sigcube --help`` lists the commands from :data:`COMMANDS` without importing any of them, so it answers at once,
and a command imports what it needs when it runs. Every command is put behind the error boundary
(:func:`sigcube.cli.common.friendly`) as it is loaded, its float options checked finite first
(:func:`sigcube.cli.common.finite_options`).
"""

from __future__ import annotations

import importlib
from typing import Annotated, Any, NamedTuple

import typer
from typer.core import TyperCommand, TyperGroup

from sigcube.cli.common import DEBUG_VARIABLE, finite_options, friendly, set_debug


class Entry(NamedTuple):
    """Where a command lives (module and attribute: a function, or a typer app of sub-commands) and its one line."""

    module: str
    attribute: str
    help: str


COMMANDS: dict[str, Entry] = {
    "ingest": Entry("sigcube.cli.ingest", "app", "Ingest a public dataset, or your own table, into a labelled Zarr "
                                                 "cube."),
    "report": Entry("sigcube.cli.report", "app", "Compute a report on a cube and compare it with the published "
                                                 "figures."),
    "sweep": Entry("sigcube.cli.sweep", "sweep", "Evaluate a kernel over a parameter grid into a resumable result "
                                                 "cube."),
    "fit": Entry("sigcube.cli.fit", "fit", "Fit each object's own kernel parameters (and nuisance) into a result "
                                           "cube."),
    "info": Entry("sigcube.cli.info", "info", "Describe a sigcube store (dataset, sweep, joint or fit result, "
                                              "posterior export) after checking it."),
    "kernels": Entry("sigcube.cli.kernels", "kernels", "List the registered kernels, or describe one."),
    "explore": Entry("sigcube.cli.explore", "explore", "Write (or serve) the interactive explorer of a sweep, a joint "
                                                       "sweep or a posterior export."),
    "plot": Entry("sigcube.cli.plot", "app", "Draw a figure of reports' JSON, a cube or benchmark records (PNG, SVG, "
                                              "PDF or HTML)."),
    "synth": Entry("sigcube.cli.synth", "synth", "Draw a SPARC-like synthetic survey cube of N galaxies."),
    "export": Entry("sigcube.cli.export", "export", "Write a nuisance sweep's (or its population's) posterior as an "
                                                    "ArviZ DataTree in Zarr."),
}
"""Every command of the root group, in the order ``sigcube --help`` lists them."""


def _guarded(command: TyperCommand) -> TyperCommand:
    """``command`` and its sub-commands behind the error boundary, each refusing a non-finite float option."""
    for sub in getattr(command, "commands", {}).values():
        _guarded(sub)
    if command.callback is not None and not hasattr(command, "commands"):
        command.callback = friendly(finite_options(command.callback, command.params))
    return command


def load(name: str) -> TyperCommand:
    """The command ``name`` of :data:`COMMANDS` (a click command of typer's), its module imported now, behind the
    error boundary."""
    entry = COMMANDS[name]
    obj = getattr(importlib.import_module(entry.module), entry.attribute)
    if not isinstance(obj, typer.Typer):
        single = typer.Typer()
        single.command(name)(obj)
        obj = single
    command = typer.main.get_command(obj)
    command.name = name
    return _guarded(command)


class LazyGroup(TyperGroup):
    """The root group: commands are loaded on first use; the root's own help lists them from :data:`COMMANDS`."""

    _listing = False

    def list_commands(self, ctx: typer.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: typer.Context, name: str) -> TyperCommand | None:
        if name not in COMMANDS:
            return None
        if self._listing:
            return TyperCommand(name, help=COMMANDS[name].help)
        return load(name)

    def format_help(self, ctx: typer.Context, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


app = typer.Typer(cls=LazyGroup, help=__doc__.split("\n\n")[0], no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False)


@app.callback()
def _options(
    debug: Annotated[bool, typer.Option(
        "--debug", help=f"On an unexpected error (a bug), print its traceback instead of writing it to a file "
                        f"(or set {DEBUG_VARIABLE}=1).")] = False,
) -> None:
    """Options of every command (read by the error boundary, sigcube.cli.common.friendly)."""
    set_debug(debug)


def command_tree() -> TyperGroup:
    """The whole command line as click objects of typer's, every command loaded (for references and checks)."""
    root = typer.main.get_command(app)
    ctx = typer.Context(root, info_name="sigcube")
    return TyperGroup(name="sigcube", params=root.params, help=root.help,
                      commands={name: root.get_command(ctx, name) for name in root.list_commands(ctx)})
