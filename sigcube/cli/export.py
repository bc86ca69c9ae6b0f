"""`sigcube export`: a nuisance sweep's grid posterior, or its population posterior, as an ArviZ DataTree in Zarr."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from sigcube.cli.common import console, emit, err_console
from sigcube.errors import SigcubeError


def export(
    result: Annotated[str, typer.Argument(help="A finished nuisance sweep's result cube (path or store URL).")],
    out: Annotated[str, typer.Option(help="The Zarr store to write the DataTree to (a new path).")],
    population: Annotated[Optional[str], typer.Option(help="Export the population posterior (μ, τ) of this swept "
                                                           "parameter instead of the grid's (as `sigcube report "
                                                           "population --param`).")] = None,
    scale: Annotated[str, typer.Option(help="With --population: linear or log (log10 of the parameter).")] = "linear",
    others: Annotated[str, typer.Option(help="With --population: marginalise or best (the other grid axes).")] = "marginalise",
    chains: Annotated[int, typer.Option(help="Chains (consecutive blocks of the independent draws).", min=1)] = 4,
    draws: Annotated[int, typer.Option(help="Draws per chain.", min=1)] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of numpy.random.default_rng for the draws.", min=0)] = 0,
    jitter: Annotated[bool, typer.Option(help="Move each grid draw uniformly within its cell (grid posterior "
                                              "only).")] = False,
    force: Annotated[bool, typer.Option(help="Replace an earlier export at --out.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object describing the export.")] = False,
) -> None:
    """Write posterior draws, per-object log-likelihoods and the data's sizes as an ArviZ InferenceData DataTree
    (arviz.from_datatree reads it; arviz.loo and arviz.compare run on it)."""
    from sigcube.engines.sweep import open_result
    from sigcube.interfaces.arviz_export import describe_export, population_tree, sweep_tree, write_tree

    if scale not in ("linear", "log"):
        raise SigcubeError(f"--scale takes linear or log, not {scale!r}")
    if population is None and (scale != "linear" or others != "marginalise"):
        raise SigcubeError("--scale and --others belong to --population; pass --population PARAM with them")
    if population is not None and jitter:
        raise SigcubeError("--jitter moves draws within grid cells of a sweep; a population export draws hyper-grid "
                           "cells at their centres")
    ds = open_result(result)
    with err_console.status("drawing from the posterior …"):
        tree = (sweep_tree(ds, chains=chains, draws=draws, seed=seed, jitter=jitter) if population is None else
                population_tree(ds, population, scale=scale, others=others, chains=chains, draws=draws, seed=seed))
        path = write_tree(tree, out, force)
    emit(describe_export(tree, path), as_json, _render)


def _render(info: dict, _console=console) -> None:
    _console.print(f"wrote {info['out']}: groups {', '.join(info['groups'])}", highlight=False, markup=False)
    for line in info["describe"]:
        _console.print(line, highlight=False, markup=False, soft_wrap=True)
