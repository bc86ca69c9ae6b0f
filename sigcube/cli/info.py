"""`sigcube info PATH`: describe a dataset cube, a sweep, joint sweep or fit result, or a posterior export."""

from __future__ import annotations

from typing import Annotated

import typer

from sigcube.cli.common import console


def _lines(lines: list[str]) -> None:
    for line in lines:
        console.print(line, highlight=False, markup=False, soft_wrap=True)


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
        console.print(open_cube(store))
        return
    if kind == FIT_KIND:
        from sigcube.engines.fit import open_fit
        from sigcube.engines.fit.run import summary

        ds = open_fit(store)
        console.print(ds)
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
        if "loglike" in ds:
            from sigcube.engines.sweep.nuisance import sweep_posterior
            from sigcube.stats.posterior import summary_lines

            post = sweep_posterior(ds.load())
            _lines([f"posterior (global prior: {post.prior}; ln Z = {post.log_evidence:.2f} nat):",
                    *(f"  {line}" for line in summary_lines(post))])


def _joint(store) -> None:
    """A joint sweep's cube, each dataset's posterior and evidence, and the joint one's."""
    import json

    from sigcube.engines.joint import open_joint
    from sigcube.interfaces.plots.data import joint_grids
    from sigcube.stats.posterior import summary_lines

    ds = open_joint(store).load()
    console.print(ds)
    probes = json.loads(ds.attrs["probes"])
    lines = [f"joint sweep {ds.attrs.get('joint_name', '')!r} of kernel {ds.attrs['kernel']}: "
             + ", ".join(f"{p['label']} ({p['dataset']}, {p['objects']} objects)" for p in probes)
             + f"; global prior: {ds.attrs.get('global_prior', '')}; every chunk checked"]
    for label, grid in joint_grids(ds).items():
        lines.append(f"{label}: ln Z = {grid.posterior.log_evidence:.2f} nat")
        lines += [f"  {line}" for line in summary_lines(grid.posterior)]
    _lines(lines)


def _export(tree) -> None:
    """A posterior export: what it holds, how it was drawn, each variable's posterior from the draws."""
    import numpy as np

    from sigcube.interfaces.arviz_export import describe_export

    described = describe_export(tree)
    console.print(tree["posterior"].to_dataset())
    lines = [f"posterior export (ArviZ groups {', '.join(described['groups'])}): {described['chains']} chains × "
             f"{described['draws']} draws, seed {described['seed']}; no checksums (ArviZ's layout): read as written",
             *described["describe"]]
    post = tree["posterior"].to_dataset()
    for name in post.data_vars:
        v = np.asarray(post[name].values, dtype=float).ravel()
        lo, hi = np.percentile(v, [16, 84])
        lines.append(f"{name}: mean {v.mean():.4g} ± {v.std():.3g} (draws' 16–84 %: {lo:.4g} – {hi:.4g})")
    _lines(lines)
