"""Fit result cubes as Zarr stores, written with the guarantees of every sigcube store (:mod:`sigcube.io.stores`).

A fit's driver takes the lease beside ``--out`` (:class:`sigcube.io.stores.Lease`) before it computes, so a second
fit writing there is refused at once; it then writes the cube with :class:`sigcube.io.cubes.CubeWriter`:
every chunk checksummed (CRC-32C), ``content_sha256`` recorded, the seal written last — into a hidden sibling
renamed into place locally, in place under ``sigcube_writing`` on an object store. A killed run therefore
leaves nothing that :func:`open_fit` accepts. ``--force`` replaces only a fit result cube (an interrupted one
is replaced without it); a dataset cube, a sweep result or any other folder never.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import xarray as xr

from sigcube.errors import SchemaError, StoreExistsError
from sigcube.io.cubes import (
    FIT_KIND, WRITING_ATTR, CubeWriter, Verify, checked_manifest, content_hash, describe, kind_of, open_dataset,
    store_attrs,
)
from sigcube.io.stores import Lease, Location, StoreDamagedError, was_leased

REMEDY = "run the fit again with --force to replace it"
MARKER = "converged/zarr.json"
"""An array's metadata every fit result has: a leased folder holding it but no readable kind is a damaged fit."""


def sealed(attrs: dict) -> bool:
    """Whether a store's root attributes show a finished write (sealed, not being written)."""
    return "metadata_sha256" in attrs and not attrs.get(WRITING_ATTR)


def check_out(store: Location, force: bool, kind: str = FIT_KIND, what: str = "fit") -> None:
    """Refuse ``--out`` unless it is absent, an empty folder, an interrupted fit result, or (with ``force``) a fit
    result cube, intact or damaged (``kind``, ``what``: another result of this kind, e.g. a joint sweep's)."""
    found = store.kind()
    if found in ("absent", "empty"):
        return
    try:
        attrs = store_attrs(store, "")[1] if found == "folder" else None
    except SchemaError:
        attrs = None
    found_kind = kind_of(attrs) if attrs is not None else None
    if found_kind == kind:
        if force or not sealed(attrs):
            return
        raise StoreExistsError(f"{store.name} already holds a {what} result; pass --force to replace it, or choose "
                               "another --out")
    if found_kind is None and found == "folder" and was_leased(store) and kind == FIT_KIND \
            and store.read(MARKER) is not None:
        if force:
            return
        raise StoreDamagedError(f"{store.name}: the fit result's root metadata is unreadable or has lost its "
                                f"sigcube_kind; {REMEDY}")
    there = ("a file" if found == "file" else describe(attrs) if attrs is not None
             else "a folder that is not a Zarr store")
    raise StoreExistsError(f"--out {store.name} is {there}, not a {what} result cube; a {what} writes only into a "
                           "new or empty folder or its own result cube (--force never replaces anything else): "
                           "choose another --out")


@contextmanager
def claim(out: str | Path | Location, force: bool = False, inputs: Iterable[str | Path | Location] = (),
          kind: str = FIT_KIND, what: str = "fit") -> Iterator[Callable[[xr.Dataset], None]]:
    """Check ``out`` (path or store URL, see :func:`check_out`) and hold its lease; yield ``write(ds)``, which
    writes a fit result cube there (checksummed, sealed last) if the lease still holds. ``inputs`` (the dataset
    cube) must not be, contain or lie inside ``out``."""
    store = Location.of(out, "--out")
    for cube in inputs:
        if store.same_or_nested(Location.of(cube, "--cube")):
            raise StoreExistsError(f"--out {store.name} is, contains or lies inside the input cube {cube}; "
                                   "choose another --out")
    check_out(store, force, kind, what)  # refuse someone else's folder before putting a lease beside it
    with Lease.acquire(store) as lease:
        check_out(store, force, kind, what)  # another run may have finished there since

        def write(ds: xr.Dataset) -> None:
            if ds.attrs.get("sigcube_kind") != kind:
                raise SchemaError(f"{store.name}: only a {what} result cube is written here; got {describe(ds.attrs)}")
            ds = ds.copy()
            ds.attrs["content_sha256"] = content_hash(ds)
            lease.check()
            with CubeWriter(store) as writer:
                writer.begin(ds)
                lease.check()
                writer.finish(ds.attrs["content_sha256"])

        yield write


def write_result(ds: xr.Dataset, out: str | Path | Location, force: bool = False) -> None:
    """Write the fit result cube ``ds`` to ``out`` (path or store URL) under its lease; see :func:`claim`."""
    with claim(out, force) as write:
        write(ds)


def open_fit(path: str | Path | Location, verify: Verify = "auto", chunks: Any = "stored") -> xr.Dataset:
    """Open a fit result cube lazily after checking its kind, its seal and its chunks (``verify``: see
    :data:`sigcube.io.cubes.Verify`); an unfinished or damaged one is refused."""
    where = Location.of(path)
    store, attrs = store_attrs(where, f"no such fit result cube; make it with `sigcube fit SPEC --out {where.name}`")
    if kind_of(attrs) != FIT_KIND:
        raise SchemaError(f"{store.name} is {describe(attrs)}; expected a fit result cube")
    if not sealed(attrs):
        raise SchemaError(f"{store.name}: this fit result is being written, or its writing was interrupted (it is "
                          f"not sealed); wait for the fit to finish, or {REMEDY}")
    return open_dataset(store, checked_manifest(store, attrs, REMEDY, verify), REMEDY, chunks)
