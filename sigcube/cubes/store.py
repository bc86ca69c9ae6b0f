"""Reading and writing cubes as Zarr v3 stores.

Writes are atomic: a cube is written to a hidden sibling folder, sealed (:func:`sigcube.stores.seal`)
and renamed into place only once complete, so an interrupted ingest never leaves a half-written
store that looks whole. Every chunk ends with a CRC-32C and every cube carries ``content_sha256``,
a hash of its data, coordinates and attributes; re-writing identical content is a no-op and a
different existing dataset cube is only replaced with ``force=True`` (never a sweep result or
anything else). Opening a store checks its kind first, then its seal and its chunks.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import xarray as xr
import zarr

from sigcube.cubes.schema import SCHEMAS, validate
from sigcube.errors import SchemaError, SigcubeError, StoreExistsError
from sigcube.stores import SEAL_ATTRS, Location, check_store, checksummed, seal, store_errors

ZARR_FORMAT = 3
CONSOLIDATED = False
"""Consolidated metadata is not part of the Zarr v3 spec: sigcube never writes or needs it."""
RESULT_KIND = "sweep"
"""The ``sigcube_kind`` of a sweep's result cube (every other kind is a dataset cube of :data:`SCHEMAS`)."""


def cube_dir() -> Path:
    """Where cubes live by default: ``$SIGCUBE_CUBE_DIR`` or ``./cubes``."""
    return Path(os.environ.get("SIGCUBE_CUBE_DIR") or "cubes")


def default_cube(kind: str) -> Path:
    """The default store of a ``kind`` dataset cube: ``<cube_dir()>/<kind>.zarr``."""
    return cube_dir() / f"{kind}.zarr"


def replace_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """Let ``write(tmp)`` make a store in a hidden sibling of ``path``, then move it to ``path``.

    Whatever is at ``path`` is swapped out only once the new store is complete, then deleted; if
    ``write`` fails the temporary store is removed. An interrupted write never leaves a
    half-written store at ``path``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        write(tmp)
        if path.exists():
            trash = path.parent / f".{path.name}.old-{uuid.uuid4().hex[:8]}"
            path.rename(trash)
            tmp.rename(path)
            if trash.is_dir():
                shutil.rmtree(trash)
            else:
                trash.unlink()
        else:
            tmp.rename(path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def content_hash(ds: xr.Dataset) -> str:
    """sha256 of every variable's name, dims, dtype, attrs and values, and of the cube attrs."""
    digest = hashlib.sha256()
    attrs = {k: v for k, v in ds.attrs.items() if k != "content_sha256"}
    digest.update(json.dumps(attrs, sort_keys=True, default=str).encode())
    for name in sorted(map(str, ds.variables)):
        var = ds.variables[name]
        values = np.asarray(var.values)
        header = {"name": name, "dims": var.dims, "dtype": values.dtype.kind, "shape": values.shape,
                  "attrs": var.attrs}
        digest.update(json.dumps(header, sort_keys=True, default=str).encode())
        if values.dtype.kind in "TUO":
            digest.update("\0".join(map(str, values.ravel())).encode())
        else:
            digest.update(np.ascontiguousarray(values).tobytes())
    return digest.hexdigest()


def write_cube(ds: xr.Dataset, path: str | Path, force: bool = False) -> str:
    """Write ``ds`` to ``path`` atomically; return ``"written"``, ``"replaced"`` or ``"unchanged"``.

    An existing intact store with the same ``content_sha256`` is left as it is (one written before
    checksums is rewritten, with the same content); a different or damaged dataset cube raises
    :class:`StoreExistsError` unless ``force``; anything else at ``path`` (a sweep result, a folder of
    other files) is never replaced.
    """
    path = Path(path)
    validate(ds, where=str(path))
    ds = ds.copy()
    ds.attrs["content_sha256"] = content_hash(ds)
    existed = Location.of(path, "--out").kind() != "absent"
    if existed:
        old, sealed = _existing_hash(path)
        if old == ds.attrs["content_sha256"] and sealed:
            return "unchanged"
        if old != ds.attrs["content_sha256"] and not force:
            raise StoreExistsError(
                f"{path} already holds a different or damaged cube (content_sha256 {old or 'unknown'}); "
                "pass --force (force=True) to replace it, or choose another --out path"
            )
    encoding = {name: checksummed() for name in ds.variables}

    def write(tmp: Path) -> None:
        ds.to_zarr(tmp, mode="w", zarr_format=ZARR_FORMAT, consolidated=CONSOLIDATED, encoding=encoding,
                   write_empty_chunks=True)
        seal(Location.of(tmp), {})

    with store_errors(str(path)):
        replace_atomically(path, write)
    return "replaced" if existed else "written"


def _existing_hash(path: Path) -> tuple[str | None, bool]:
    """The ``content_sha256`` of the intact dataset cube at ``path`` (None if it is one but damaged), and
    whether it is sealed (written with checksums). Anything that is not a dataset cube raises: ``--force``
    must never replace it.
    """
    refuse = "only a dataset cube is ever replaced there (--force included): choose another --out"
    try:
        _, attrs = store_attrs(path, "")
    except SchemaError as exc:
        raise StoreExistsError(f"{exc}; {refuse}") from None
    if kind_of(attrs) not in SCHEMAS:
        raise StoreExistsError(f"{path} is {describe(attrs)}; {refuse}")
    try:
        return open_cube(path).attrs.get("content_sha256"), "metadata_sha256" in attrs
    except SchemaError:
        return None, False


def kind_of(attrs: dict) -> str | None:
    """The ``sigcube_kind`` of a store's root attributes, or None if it has none that is a name."""
    kind = attrs.get("sigcube_kind")
    return kind if isinstance(kind, str) else None


def describe(attrs: dict) -> str:
    """What kind of store root attributes ``attrs`` describe, for messages ("a 'sparc' dataset cube")."""
    kind = kind_of(attrs)
    if "sigcube_kind" in attrs and kind is None:
        return f"a store whose sigcube_kind is not a name ({attrs['sigcube_kind']!r})"
    if kind == RESULT_KIND:
        return "a sweep result cube"
    if kind in SCHEMAS:
        return f"a {kind!r} dataset cube"
    if kind is None:
        return "a Zarr store without a sigcube_kind attribute (not written by sigcube, or damaged)"
    return f"a store of unknown sigcube_kind {kind!r}"


def store_attrs(path: str | Path | Location, missing_hint: str, argument: str = "path") -> tuple[Location, dict]:
    """Resolve ``path`` and read its root attributes; a missing, non-folder or unreadable store is a SchemaError."""
    store = Location.of(path, argument)
    found = store.kind()
    if found == "absent":
        raise SchemaError(f"{store.name}: {missing_hint}")
    if found == "file":
        raise SchemaError(f"{store.name} is a file, not a Zarr store (a folder)")
    try:
        return store, dict(zarr.open_group(store.url, mode="r", zarr_format=ZARR_FORMAT).attrs)
    except Exception as exc:
        raise SchemaError(f"{store.name}: not a readable Zarr v3 store ({_short(exc)})") from None


def open_dataset(store: Location) -> xr.Dataset:
    """Open a checked store lazily with xarray (its coordinates are read now), without the seal's bookkeeping."""
    try:
        ds = xr.open_zarr(store.url, consolidated=CONSOLIDATED, zarr_format=ZARR_FORMAT)
    except Exception as exc:
        raise SchemaError(f"{store.name}: not a readable Zarr v3 store ({_short(exc)})") from None
    for name in SEAL_ATTRS:
        ds.attrs.pop(name, None)
    return ds


def _short(exc: Exception, limit: int = 200) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= limit else text[:limit] + " …"


def open_cube(path: str | Path | Location, kind: str | Sequence[str] | None = None) -> xr.Dataset:
    """Open a dataset cube lazily: check its kind (one of ``kind`` if given), its seal and checksums, its schema.

    >>> ds = open_cube("cubes/sparc.zarr", kind="sparc")   # doctest: +SKIP
    >>> ds.v_obs.sel(galaxy="NGC3198").dropna("radius")    # doctest: +SKIP
    """
    kinds = (kind,) if isinstance(kind, str) else tuple(SCHEMAS) if kind is None else tuple(kind)
    if not kinds or not set(kinds) <= SCHEMAS.keys():
        raise SigcubeError(f"open_cube: kind must be one or more of {', '.join(SCHEMAS)}; got {kind!r}")
    store = Location.of(path)
    store, attrs = store_attrs(store, f"no such cube; create it with `sigcube ingest <dataset> --out {store.name}`")
    if kind_of(attrs) not in kinds:
        expected = " or ".join(map(repr, kinds)) + " dataset cube" if kind is not None else "dataset cube"
        raise SchemaError(f"{store.name} is {describe(attrs)}; expected a {expected}")
    check_store(store, attrs, f"re-ingest it (`sigcube ingest … --out {store.name} --force`)")
    ds = open_dataset(store)
    validate(ds, where=store.name)
    return ds
