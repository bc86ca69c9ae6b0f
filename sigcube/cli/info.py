"""`sigcube info PATH`: describe a dataset cube, a sweep, joint sweep or fit result, or a posterior export."""

from __future__ import annotations

from typing import Annotated

import typer

from sigcube.cli.common import console


SHOWN_ATTRS = ("title", "description", "citation", "licence", "dataset", "kernel", "baseline", "sweep_name",
               "joint_name", "sigcube_version", "content_sha256", "dataset_content_sha256")
"""Root attributes ``sigcube info`` prints with their value (the others by name: the store holds their text)."""
DISTINCT = 10_000
"""Values of a text variable above which its distinct values are not counted."""


def _lines(lines: list[str]) -> None:
    """Lines of text, wrapped at the terminal's width (a file or a pipe is wide enough for none to wrap)."""
    for line in lines:
        console.print(line, highlight=False, markup=False, overflow="fold")


def summarise(ds, title: str) -> None:
    """Print ``ds`` as a table, one row per coordinate and variable: its dimensions, unit, values (range and mean of
    numbers, computed chunk by chunk; how many flags are set; how many distinct names) and long name; then its root
    attributes (:data:`SHOWN_ATTRS` with their value, the others by name)."""
    from rich.table import Table

    table = Table(title=title + ": " + (" × ".join(f"{n} {d}" for d, n in ds.sizes.items()) or "no dimension"),
                  title_justify="left")
    for column in ("name", "dims", "unit", "values", "what"):
        table.add_column(column, overflow="fold")
    rows = [(f"{name} (coord)", var) for name, var in ds.coords.items()] + list(ds.data_vars.items())
    for name, var in rows:
        unit = str(var.attrs.get("units", "")).strip() or "—"
        table.add_row(str(name), ", ".join(map(str, var.dims)) or "scalar", unit, _values(var),
                      str(var.attrs.get("long_name", "")))
    console.print(table)
    shown = [f"{k}: {' '.join(str(ds.attrs[k]).split())}" for k in SHOWN_ATTRS if k in ds.attrs]
    others = [k for k in ds.attrs if k not in SHOWN_ATTRS and k != "sigcube_kind"]
    _lines(shown + ([f"other attributes: {', '.join(others)}"] if others else []))


def _values(var) -> str:
    """What a variable holds, in one cell (numbers reduced by Dask chunk by chunk: nothing is held whole)."""
    import dask.array as da
    import numpy as np

    if var.size == 0:
        return "empty"
    data = var.data
    kind = var.dtype.kind
    if kind == "b":
        return f"{int(data.sum())} of {var.size} set"
    if kind in "fiu":
        lib = da if isinstance(data, da.Array) else np
        finite = lib.isfinite(data)
        count, low, high, mean = (float(x) for x in da.compute(finite.sum(), lib.nanmin(data), lib.nanmax(data),
                                                                lib.nanmean(data)))
        if count == 0:
            return f"{var.size} values, none finite"
        if var.size == 1:
            return f"{low:.6g}"
        missing = var.size - int(count)
        return (f"{low:.4g} … {high:.4g}, mean {mean:.4g}" + (f" ({missing} of {var.size} NaN)" if missing else ""))
    if kind == "M":
        return f"{np.datetime_as_string(var.min().values)} … {np.datetime_as_string(var.max().values)}"
    if var.size > DISTINCT:
        return f"{var.size} values ({var.dtype})"
    values = [str(v) for v in np.asarray(var.values).ravel()]
    distinct = list(dict.fromkeys(values))
    listed = ", ".join(distinct[:3]) + (f", … {distinct[-1]}" if len(distinct) > 3 else "")
    return f"{len(distinct)} distinct: {listed}"


def info(path: Annotated[str, typer.Argument(help="A sigcube Zarr store (dataset cube; sweep, joint sweep or fit result; posterior export): a path or a store URL.")]) -> None:
    """Describe a store: its kind, dimensions, variables with units, provenance; for a sweep, its progress,
    whether a sweep is writing it now, the best grid point of every stored global metric and, for a nuisance sweep,
    its posterior; for a joint sweep, each dataset's evidence and posterior next to the joint one; for a fit, what
    was fitted, the χ²_red median and mean, convergence and at-bound counts; for a posterior export (sigcube
    export), its groups, draws, prior and likelihood and each variable's posterior.

    Every chunk is checked against its checksum first: a damaged cube is an error naming what is damaged.
    """
    from sigcube.engines.sweep import best_parameters, open_result
    from sigcube.errors import SchemaError
    from sigcube.interfaces.open import OPENS, is_export, open_export
    from sigcube.io.cubes import FIT_KIND, JOINT_KIND, RESULT_KIND, describe, kind_of, open_cube, store_attrs
    from sigcube.io.schema import SCHEMAS
    from sigcube.io.stores import current_holder
    from sigcube.model.metrics import metric_names

    store, attrs = store_attrs(path, "no such store")
    kind = kind_of(attrs)
    if kind in SCHEMAS:
        summarise(open_cube(store), f"{kind!r} dataset cube {store.name}")
        _lines(["every chunk checked"])
        return
    if kind == FIT_KIND:
        from sigcube.engines.fit import open_fit
        from sigcube.engines.fit.run import summary

        ds = open_fit(store)
        summarise(ds, f"fit result {store.name}")
        _lines([*summary(ds.load()), "every chunk checked"])
        return
    if kind == JOINT_KIND:
        _joint(store)
        return
    if is_export(attrs):
        _export(open_export(store))
        return
    if kind != RESULT_KIND:
        raise SchemaError(f"{store.name} is {describe(attrs)}; {OPENS}")
    ds = open_result(store, allow_incomplete=True)
    summarise(ds, f"sweep result {store.name}")
    done = int(ds["done"].sum())
    holder = current_holder(store)
    writing = f" (a sweep is writing it now: {holder.describe()})" if holder is not None and holder.live() else ""
    unfinished = "" if ds.attrs.get("complete") else writing or " (unfinished: rerun the sweep to resume)"
    _lines([f"{done} of {ds['done'].size} grid points written{unfinished}; every chunk checked"])
    if ds.attrs.get("complete"):
        stored = [m for m in metric_names("global") if m in ds]
        for metric in stored:
            best = best_parameters(ds, metric)
            _lines([f"best {metric}: " + ", ".join(_with_unit(ds, k, v) for k, v in best.items())])
        if not stored:
            _lines(["no global metric stored (only per-object ones): no best grid point"])
        if "loglike" in ds:
            from sigcube.engines.sweep.nuisance import sweep_posterior
            from sigcube.stats.posterior import summary_lines

            post = sweep_posterior(ds.load())
            _lines([f"posterior (global prior: {post.prior}; ln Z = {post.log_evidence:.2f} nat):",
                    *(f"  {line}" for line in summary_lines(post, units=_units(ds, post.axes)))])


def _units(ds, names) -> dict[str, str]:
    """The ``units`` of each of ``names`` among ``ds``'s variables and coordinates."""
    return {n: str(ds[n].attrs.get("units", "")) for n in names if n in ds.variables}


def _with_unit(ds, name: str, value) -> str:
    """``name = value unit``: the unit of the variable or coordinate ``name`` of ``ds`` (the metric registry's for a
    metric), or none."""
    from sigcube.model.metrics import METRICS

    unit = str(ds[name].attrs.get("units", "")).strip() if name in ds.variables else ""
    if name in METRICS:
        metric = METRICS[name]
        value, unit = metric.in_table_units(value), metric.table_units or metric.units
    shown = f"{value:.4g}" if isinstance(value, float) else str(value)
    return f"{name} = {shown}" + (f" {unit}" if unit else "")


def _joint(store) -> None:
    """A joint sweep's cube, each dataset's posterior and evidence, and the joint one's."""
    import json

    from sigcube.engines.joint import open_joint
    from sigcube.interfaces.plots.data import joint_grids
    from sigcube.stats.posterior import summary_lines

    ds = open_joint(store).load()
    summarise(ds, f"joint sweep result {store.name}")
    probes = json.loads(ds.attrs["probes"])
    lines = [f"joint sweep {ds.attrs.get('joint_name', '')!r} of kernel {ds.attrs['kernel']}: "
             + ", ".join(f"{p['label']} ({p['dataset']}, {p['objects']} objects)" for p in probes)
             + f"; global prior: {ds.attrs.get('global_prior', '')}; every chunk checked"]
    for label, grid in joint_grids(ds).items():
        lines.append(f"{label}: ln Z = {grid.posterior.log_evidence:.2f} nat")
        lines += [f"  {line}" for line in summary_lines(grid.posterior, units=_units(ds, grid.axes))]
    _lines(lines)


def _export(tree) -> None:
    """A posterior export: what it holds, how it was drawn, each variable's posterior from the draws."""
    import numpy as np

    from sigcube.interfaces.arviz_export import describe_export

    described = describe_export(tree)
    summarise(tree["posterior"].to_dataset(), "posterior export (its posterior group)")
    lines = [f"posterior export (ArviZ groups {', '.join(described['groups'])}): {described['chains']} chains × "
             f"{described['draws']} draws, seed {described['seed']}; no checksums (ArviZ's layout): read as written",
             *described["describe"]]
    post = tree["posterior"].to_dataset()
    for name in post.data_vars:
        v = np.asarray(post[name].values, dtype=float).ravel()
        lo, hi = np.percentile(v, [16, 84])
        unit = str(post[name].attrs.get("units", "")).strip()
        lines.append(f"{name}{f' [{unit}]' if unit else ''}: mean {v.mean():.4g} ± {v.std():.3g} (draws' 16–84 %: "
                     f"{lo:.4g} – {hi:.4g})")
    _lines(lines)
