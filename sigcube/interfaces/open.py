"""One way in: :func:`open_store` (``sigcube.open``) opens any sigcube store — a dataset cube, a sweep's, a joint
sweep's or a fit's result, or a posterior export — by the kind it records, with one ``verify`` rule for all."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from sigcube.engines.fit.store import open_fit
from sigcube.engines.joint.run import open_joint
from sigcube.engines.sweep.result import open_result
from sigcube.errors import SchemaError
from sigcube.interfaces.arviz_export import CREATED_BY
from sigcube.io.cubes import FIT_KIND, JOINT_KIND, RESULT_KIND, Verify, describe, kind_of, open_cube, store_attrs
from sigcube.io.schema import SCHEMAS
from sigcube.io.stores import Location

OPENS = "sigcube opens dataset cubes, sweep, joint sweep and fit results, and posterior exports (sigcube export)"


def is_export(attrs: dict) -> bool:
    """Whether a store's root attributes are those of a posterior export (``sigcube export``)."""
    return attrs.get("created_by") in CREATED_BY


def open_store(path: str | Path | Location, verify: Verify = "auto", *, allow_incomplete: bool = False,
               chunks: Any = "stored") -> xr.Dataset | xr.DataTree:
    """The sigcube store at ``path`` (a path or a store URL) as a lazily loaded ``xr.Dataset`` — or, for a
    posterior export (``sigcube export``: ArviZ groups), as an ``xr.DataTree``.

    Its kind, seal and chunk manifest are checked first, then its chunks as ``verify`` says
    (:data:`sigcube.io.cubes.Verify`: ``auto`` reads and checks every chunk locally, lists them on an object store);
    every chunk read later is checked as it is read. A damaged, unfinished or foreign store is refused in one line.
    ``allow_incomplete``: an unfinished sweep's result opens too (``ds.where(ds.done)`` keeps what is written).
    ``chunks``: ``"stored"`` (Dask arrays chunked as stored), None (no Dask) or as ``xr.open_zarr`` takes them.
    An export carries no checksums (ArviZ's layout): it is read as it is.

    >>> ds = sigcube.open("cubes/sigma-A0-k.zarr")   # doctest: +SKIP
    >>> ds.sigcube.best("mean_rms")                   # doctest: +SKIP
    """
    store, attrs = store_attrs(path, f"no such store; {OPENS}")
    kind = kind_of(attrs)
    if kind == RESULT_KIND:
        return open_result(store, allow_incomplete=allow_incomplete, verify=verify, chunks=chunks)
    if kind == FIT_KIND:
        return open_fit(store, verify=verify, chunks=chunks)
    if kind == JOINT_KIND:
        return open_joint(store, verify=verify, chunks=chunks)
    if kind in SCHEMAS:
        return open_cube(store, verify=verify, chunks=chunks)
    if is_export(attrs):
        return open_export(store)
    raise SchemaError(f"{store.name} is {describe(attrs)}; {OPENS}")


def open_export(path: str | Path | Location) -> xr.DataTree:
    """A posterior export (``sigcube export``, or ``report compare --draws``) as its ``xr.DataTree``; one that is not
    one, or that cannot be read whole, is refused in one line."""
    from sigcube.stats.export import DRAWS_MARK

    store, attrs = store_attrs(path, f"no such store; {OPENS}")
    if not is_export(attrs):
        raise SchemaError(f"{store.name} is {describe(attrs)}; expected a posterior export (sigcube export)")
    draws = attrs.get("created_by") == DRAWS_MARK
    again = "write it again with report compare --draws" if draws else "write it again with sigcube export --force"
    try:
        tree = xr.open_datatree(store.url, engine="zarr", consolidated=False)  # the groups as they are stored
        missing = [g for g in ("posterior",) + (() if draws else ("log_likelihood",)) if g not in tree.children]
        if not missing:
            tree = tree.load()
    except Exception as exc:  # noqa: BLE001 — any failure to read the groups is a damaged export
        raise SchemaError(f"{store.name}: this posterior export cannot be read ({type(exc).__name__}: "
                          f"{str(exc).splitlines()[0][:160] if str(exc) else ''}); {again}") from None
    if missing:
        raise SchemaError(f"{store.name}: this posterior export has no {' and no '.join(missing)} group; {again}")
    holes = [str(v) for v, a in tree["posterior"].to_dataset().data_vars.items() if _holes(a, draws)]
    if holes:  # a draw is a grid point's value: a missing chunk reads as the fill value
        raise SchemaError(f"{store.name}: the posterior draws of {', '.join(holes)} have missing values (a damaged "
                          f"export); {again}")
    return tree


def _holes(a: xr.DataArray, per_galaxy: bool) -> bool:
    """Whether draws are missing: any NaN in a grid posterior's; in per-galaxy draws, a galaxy with some NaN draws of a
    parameter but not all (a galaxy without a parameter, Υ_bul without a bulge, has NaN for every draw of it)."""
    finite = np.isfinite(a.values)
    if not per_galaxy:
        return not finite.all()
    rows = finite.reshape(-1, finite.shape[-1])  # (chain·draw, galaxy)
    return bool(np.any(rows.any(axis=0) != rows.all(axis=0)))
