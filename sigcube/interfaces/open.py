"""One way in: :func:`open_store` (``sigcube.open``) opens any sigcube store — a dataset cube, a sweep's result or a fit's
result — by the kind it records, with one ``verify`` rule for all three."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import xarray as xr

from sigcube.engines.fit.store import open_fit
from sigcube.engines.sweep.result import open_result
from sigcube.errors import SchemaError
from sigcube.io.cubes import FIT_KIND, RESULT_KIND, Verify, describe, kind_of, open_cube, store_attrs
from sigcube.io.schema import SCHEMAS
from sigcube.io.stores import Location


def open_store(path: str | Path | Location, verify: Verify = "auto", *, allow_incomplete: bool = False,
               chunks: Any = "stored") -> xr.Dataset:
    """The sigcube store at ``path`` (a path or a store URL) as a lazily loaded ``xr.Dataset``.

    Its kind, seal and chunk manifest are checked first, then its chunks as ``verify`` says
    (:data:`sigcube.io.cubes.Verify`: ``auto`` reads and checks every chunk locally, lists them on an object store);
    every chunk read later is checked as it is read. A damaged, unfinished or foreign store is refused in one line.
    ``allow_incomplete``: an unfinished sweep's result opens too (``ds.where(ds.done)`` keeps what is written).
    ``chunks``: ``"stored"`` (Dask arrays chunked as stored), None (no Dask) or as ``xr.open_zarr`` takes them.

    >>> ds = sigcube.open("cubes/sigma-A0-k.zarr")   # doctest: +SKIP
    >>> ds.sigcube.best("mean_rms")                   # doctest: +SKIP
    """
    store, attrs = store_attrs(path, "no such store; sigcube opens dataset cubes, sweep results and fit results")
    kind = kind_of(attrs)
    if kind == RESULT_KIND:
        return open_result(store, allow_incomplete=allow_incomplete, verify=verify, chunks=chunks)
    if kind == FIT_KIND:
        return open_fit(store, verify=verify, chunks=chunks)
    if kind in SCHEMAS:
        return open_cube(store, verify=verify, chunks=chunks)
    raise SchemaError(f"{store.name} is {describe(attrs)}; sigcube opens dataset cubes, sweep results and fit results")
