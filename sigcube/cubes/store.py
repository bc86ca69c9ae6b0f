"""Reading and writing cubes as Zarr v3 stores.

Writes are atomic: a cube is written to a hidden sibling folder and renamed into place
only once complete, so an interrupted ingest never leaves a half-written store that looks
whole. Every cube carries ``content_sha256``, a hash of its data, coordinates and
attributes; re-writing identical content is a no-op and a different existing store is
only replaced with ``force=True``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np
import xarray as xr

from sigcube.cubes.schema import validate
from sigcube.errors import SchemaError, StoreExistsError

ZARR_FORMAT = 3
CONSOLIDATED = False
"""Consolidated metadata is not part of the Zarr v3 spec: sigcube never writes or needs it."""


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

    An existing store with the same ``content_sha256`` is left as it is; a different one
    raises :class:`StoreExistsError` unless ``force``.
    """
    path = Path(path)
    validate(ds, where=str(path))
    ds = ds.copy()
    ds.attrs["content_sha256"] = content_hash(ds)
    existed = path.exists()
    if existed:
        old = _existing_hash(path)
        if old == ds.attrs["content_sha256"]:
            return "unchanged"
        if not force:
            raise StoreExistsError(
                f"{path} already holds a different cube (content_sha256 {old or 'unknown'}); "
                "pass --force (force=True) to replace it, or choose another --out path"
            )
    replace_atomically(path, lambda tmp: ds.to_zarr(tmp, mode="w", zarr_format=ZARR_FORMAT, consolidated=CONSOLIDATED))
    return "replaced" if existed else "written"


def _existing_hash(path: Path) -> str | None:
    try:
        return xr.open_zarr(path, consolidated=CONSOLIDATED, zarr_format=ZARR_FORMAT).attrs.get("content_sha256")
    except Exception:  # an unreadable store is "different": never overwritten silently
        return None


def read_store(path: str | Path, missing_hint: str) -> xr.Dataset:
    """Open any sigcube Zarr store lazily; a missing or unreadable one is a SchemaError."""
    path = Path(path)
    if not path.exists():
        raise SchemaError(f"{path}: {missing_hint}")
    try:
        return xr.open_zarr(path, consolidated=CONSOLIDATED, zarr_format=ZARR_FORMAT)
    except Exception as exc:
        raise SchemaError(f"{path}: not a readable Zarr v3 store ({type(exc).__name__}: {exc})") from None


def open_cube(path: str | Path) -> xr.Dataset:
    """Open a dataset cube lazily and validate it against its schema.

    >>> ds = open_cube("cubes/sparc.zarr")            # doctest: +SKIP
    >>> ds.v_obs.sel(galaxy="NGC3198").dropna("radius")  # doctest: +SKIP
    """
    ds = read_store(path, f"no such cube; create it with `sigcube ingest <dataset> --out {path}`")
    validate(ds, where=str(path))
    return ds
