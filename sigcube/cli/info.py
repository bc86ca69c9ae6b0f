"""`sigcube info PATH`: describe a dataset cube, a sweep result or a fit result."""

from __future__ import annotations

from typing import Annotated

import typer

from sigcube.cli.common import console


def info(path: Annotated[str, typer.Argument(help="A sigcube Zarr store (dataset, sweep or fit result): a path or a store URL.")]) -> None:
    """Describe a cube: its kind, dimensions, variables with units, provenance; for a sweep, its progress,
    whether a sweep is writing it now, and the best grid point of every stored global metric; for a fit, what was
    fitted, the χ²_red median and mean, convergence and at-bound counts.

    Every chunk is checked against its checksum first: a damaged cube is an error naming what is damaged.
    """
    from sigcube.engines.sweep import best_parameters, open_result
    from sigcube.errors import SchemaError
    from sigcube.io.cubes import FIT_KIND, RESULT_KIND, describe, kind_of, open_cube, store_attrs
    from sigcube.io.schema import SCHEMAS
    from sigcube.io.stores import current_holder
    from sigcube.model.metrics import metric_names

    store, attrs = store_attrs(path, "no such store")
    kind = kind_of(attrs)
    if kind in SCHEMAS:
        console.print(open_cube(store))
        return
    if kind == FIT_KIND:
        from sigcube.engines.fit import open_fit
        from sigcube.engines.fit.run import summary

        ds = open_fit(store)
        console.print(ds)
        for line in [*summary(ds.load()), "every chunk checked"]:
            console.print(line, highlight=False)
        return
    if kind != RESULT_KIND:
        raise SchemaError(f"{store.name} is {describe(attrs)}; expected a dataset cube, a sweep or a fit result cube")
    ds = open_result(store, allow_incomplete=True)
    console.print(ds)
    done = int(ds["done"].sum())
    holder = current_holder(store)
    writing = f" (a sweep is writing it now: {holder.describe()})" if holder is not None and holder.live() else ""
    unfinished = "" if ds.attrs.get("complete") else writing or " (unfinished: rerun the sweep to resume)"
    console.print(f"{done} of {ds['done'].size} grid points written{unfinished}; every chunk checked", highlight=False)
    if ds.attrs.get("complete"):
        stored = [m for m in metric_names("global") if m in ds]
        for metric in stored:
            console.print(f"best {metric}: {best_parameters(ds, metric)}", highlight=False)
        if not stored:
            console.print("no global metric stored (only per-object ones): no best grid point", highlight=False)
