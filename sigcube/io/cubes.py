"""Reading and writing cubes as Zarr v3 stores.

Writes are never seen half done. Locally a cube is written into a hidden sibling folder, sealed
(:func:`sigcube.io.stores.seal`) and renamed into place once complete; an object store has no rename, so
there the cube is written in place under the root attribute ``sigcube_writing`` — which every reader
refuses — and the seal, written last, removes it. Cubes too large for memory (``sigcube synth``) are
written row by row the same way (:class:`CubeWriter`). Every chunk ends with a CRC-32C and every cube
carries ``content_sha256``, a hash of its data, coordinates and attributes; re-writing identical content
is a no-op and a different existing dataset cube is only replaced with ``force=True`` (never a sweep
result or anything else). Opening a store checks its kind first, then its seal and its chunks: every
chunk's checksum locally, the presence (and size) of every chunk by one listing on an object store, where
each chunk's checksum is then checked as it is read (the codec).
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import xarray as xr
import zarr

from sigcube.errors import SchemaError, SigcubeError, StoreExistsError
from sigcube.io.chunks import (
    CUBE_MANIFEST, MANIFEST_ATTR, Digest, Manifest, RecordingStore, VerifyingStore, check_store, every_chunk,
    write_manifest,
)
from sigcube.io.schema import SCHEMAS, base_kind, validate
from sigcube.io.stores import (
    SEAL_ATTRS, Location, StoreDamagedError, StoreWriteError, checksummed, has_checksum, seal, store_errors,
)

ZARR_FORMAT = 3
CONSOLIDATED = False
"""Consolidated metadata is not part of the Zarr v3 spec: sigcube never writes or needs it."""
RESULT_KIND = "sweep"
"""The ``sigcube_kind`` of a sweep's result cube (every other kind is a dataset cube of :data:`SCHEMAS`)."""
FIT_KIND = "fit"
"""The ``sigcube_kind`` of a fit's per-object result cube (:mod:`sigcube.engines.fit.store`)."""
JOINT_KIND = "joint"
"""The ``sigcube_kind`` of a joint sweep's result cube (:mod:`sigcube.engines.joint`)."""
WRITING_ATTR = "sigcube_writing"
"""Root attribute of a cube being written in place (object stores): readers refuse it, the seal removes it."""
BOOKKEEPING_ATTRS = ("content_sha256", WRITING_ATTR, MANIFEST_ATTR, *SEAL_ATTRS)
"""Root attributes about the store rather than the cube's content (left out of :func:`content_hash`)."""
HASH_BATCH_BYTES = 64 * 2**20
"""Bytes of one variable read at once when a stored cube is hashed."""
Verify = Literal["auto", "full", "listing", "seal"]
"""How much of a store to check on open, against its chunk manifest (:mod:`sigcube.io.chunks`): every chunk read and
compared with its digest (``full``); every chunk's size and, where the object store reports one, MD5 ETag compared
by listing (``listing``: a chunk the listing cannot decide is read); the seal and the manifest only (``seal``).
``auto`` is ``full`` locally, ``listing`` on an object store (where reading every chunk means downloading the
cube). Whatever is chosen, every chunk read afterwards is checked against its digest as it is read."""


def cube_dir() -> Path:
    """Where cubes live by default: ``$SIGCUBE_CUBE_DIR`` or ``./cubes`` (a folder, or not there yet)."""
    given = os.environ.get("SIGCUBE_CUBE_DIR")
    path = Path(given or "cubes")
    if path.exists() and not path.is_dir():
        where = f"SIGCUBE_CUBE_DIR={given}" if given else "./cubes"
        raise SigcubeError(f"{where} is a file, not a folder: the default cubes live in a folder (set "
                           "SIGCUBE_CUBE_DIR to one, or give --cube/--out)")
    return path


def default_cube(kind: str) -> Path:
    """The default store of a ``kind`` dataset cube: ``<cube_dir()>/<kind>.zarr`` (a view's: its kind's)."""
    return cube_dir() / f"{base_kind(kind)}.zarr"


def _hash_variable(digest: Any, name: str, var: xr.Variable, batches: Iterable[np.ndarray]) -> None:
    """Feed one variable (header, then its values in C order, given as batches along the first axis)."""
    text = var.dtype.kind in "TUO"  # text, whether held as StringDType, fixed-width or objects: one content
    header = {"name": name, "dims": var.dims, "dtype": "T" if text else var.dtype.kind, "shape": var.shape,
              "attrs": var.attrs}
    digest.update(json.dumps(header, sort_keys=True, default=str).encode())
    first = True
    for values in batches:
        if text:
            digest.update(("" if first else "\0").encode() + "\0".join(map(str, values.ravel())).encode())
        else:
            digest.update(np.ascontiguousarray(values).tobytes())
        first = False


def _content_attrs(attrs: dict[str, Any]) -> bytes:
    return json.dumps({k: v for k, v in attrs.items() if k not in BOOKKEEPING_ATTRS}, sort_keys=True,
                      default=str).encode()


def content_hash(ds: xr.Dataset) -> str:
    """sha256 of every variable's name, dims, dtype, attrs and values, and of the cube attrs."""
    digest = hashlib.sha256()
    digest.update(_content_attrs(ds.attrs))
    for name in sorted(map(str, ds.variables)):
        var = ds.variables[name]
        _hash_variable(digest, name, var, [np.asarray(var.values)])
    return digest.hexdigest()


def stored_content_hash(store: Location) -> str:
    """:func:`content_hash` of a stored cube, read variable by variable in batches of bounded size."""
    ds = xr.open_zarr(store.url, consolidated=CONSOLIDATED, zarr_format=ZARR_FORMAT)
    digest = hashlib.sha256()
    digest.update(_content_attrs(ds.attrs))
    for name in sorted(map(str, ds.variables)):
        var = ds.variables[name]
        if var.ndim == 0:
            _hash_variable(digest, name, var, [np.asarray(var.values)])
            continue
        row = max(1, int(np.prod(var.shape[1:])) * var.dtype.itemsize)
        step = max(1, HASH_BATCH_BYTES // row)
        _hash_variable(digest, name, var, (np.asarray(var[i:i + step].values) for i in range(0, var.shape[0], step)))
    return digest.hexdigest()


class CubeWriter:
    """Write a dataset cube at ``store`` whole or row by row, so that no reader ever sees it half written.

    :meth:`begin` writes the metadata and the eager variables of a template (lazy Dask variables are left
    to :meth:`write_rows`), :meth:`finish` records ``content_sha256`` (computed by re-reading the cube unless
    given), seals it and — locally — renames it into place. Used as a context manager, a failure removes
    what was written.
    """

    def __init__(self, store: Location) -> None:
        self.store = store
        if store.local:
            parent, name = posixpath.split(store.path)
            self.target = Location(store.name, store.fs, posixpath.join(parent, f".{name}.tmp-{uuid.uuid4().hex[:8]}"))
        else:
            self.target = store
        self._arrays: dict[str, zarr.Array] = {}
        self._recorder = RecordingStore(self.target.zarr_store(read_only=False), md5=not store.local)

    def begin(self, template: xr.Dataset, chunks: dict[str, int] | None = None) -> None:
        """Write ``template``'s metadata and eager values; ``chunks`` sets the chunk length along dimensions."""
        encoding = {}
        for name, var in template.variables.items():
            encoding[name] = checksummed()
            if chunks and var.ndim:
                encoding[name]["chunks"] = tuple(min(chunks.get(d, n), n) for d, n in zip(var.dims, var.shape))
        with store_errors(self.store.name):
            if self.target.kind() != "absent":
                self.target.remove()
            if not self.store.local:
                template = template.assign_attrs({WRITING_ATTR: 1})
            else:
                try:
                    self.target.fs.makedirs(posixpath.dirname(self.target.path), exist_ok=True)
                except FileExistsError:
                    raise StoreWriteError(f"cannot write {self.store.name}: a file stands where a folder of its path "
                                          "should be") from None
            template.to_zarr(self._recorder, mode="w", compute=False, zarr_format=ZARR_FORMAT,
                             consolidated=CONSOLIDATED, encoding=encoding, write_empty_chunks=True)
            group = zarr.open_group(self._recorder, mode="r+", zarr_format=ZARR_FORMAT)
            self._arrays = {name: a.with_config({"write_empty_chunks": True}) for name, a in group.arrays()}

    def write_rows(self, start: int, values: dict[str, np.ndarray]) -> None:
        """Write each variable of ``values`` from row ``start`` of its first dimension (whole chunks)."""
        with store_errors(self.store.name):
            for name, array in values.items():
                self._arrays[name][start:start + len(array)] = array

    def finish(self, content_sha256: str | None = None) -> None:
        """Record the content hash and the chunk manifest, seal the cube and move it into place (replacing what was
        there)."""
        manifest = self._recorder.take()
        unwritten = [k for k in every_chunk(self._arrays) if k not in manifest]
        if unwritten:
            raise SigcubeError(f"{self.store.name}: {len(unwritten)} chunks were never written (first: {unwritten[0]})")
        with store_errors(self.store.name):
            write_manifest(self.target, CUBE_MANIFEST, manifest)
            group = zarr.open_group(self.target.url, mode="r+", zarr_format=ZARR_FORMAT)
            group.attrs[MANIFEST_ATTR] = manifest.sha256()
            group.attrs["content_sha256"] = content_sha256 or stored_content_hash(self.target)
            if WRITING_ATTR in group.attrs:
                del group.attrs[WRITING_ATTR]
            seal(self.target, {})
            if self.store.local:
                _move_into_place(self.target.path, self.store.path)

    def abort(self) -> None:
        """Remove what was written (best effort: a failing store may refuse this too)."""
        try:
            if self.target.kind() != "absent":
                self.target.remove()
        except SigcubeError:
            pass

    def __enter__(self) -> CubeWriter:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is not None:
            self.abort()


def _move_into_place(tmp: str, path: str) -> None:
    """Rename the finished store ``tmp`` to ``path``; whatever was at ``path`` is swapped out first, then deleted."""
    if os.path.lexists(path):
        trash = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.old-{uuid.uuid4().hex[:8]}")
        os.rename(path, trash)
        os.rename(tmp, path)
        Location.of(trash).remove()
    else:
        os.rename(tmp, path)


def write_cube(ds: xr.Dataset, path: str | Path | Location, force: bool = False) -> str:
    """Write ``ds`` to ``path`` (a folder or a store URL); return ``"written"``, ``"replaced"`` or ``"unchanged"``.

    An existing intact store with the same ``content_sha256`` is left as it is (one written before
    checksums is rewritten, with the same content); a different or damaged dataset cube raises
    :class:`StoreExistsError` unless ``force``; anything else at ``path`` (a sweep result, a folder of
    other files) is never replaced.
    """
    store = Location.of(path, "--out")
    validate(ds, where=store.name)
    ds = ds.copy()
    ds.attrs["content_sha256"] = content_hash(ds)
    existed = store.kind() != "absent"
    if existed:
        old, sealed = existing_cube_hash(store)
        if old == ds.attrs["content_sha256"] and sealed:
            return "unchanged"
        if old != ds.attrs["content_sha256"] and not force:
            raise StoreExistsError(
                f"{store.name} already holds a different or damaged cube (content_sha256 {old or 'unknown'}); "
                "pass --force (force=True) to replace it, or choose another --out path"
            )
    with CubeWriter(store) as writer:
        writer.begin(ds)
        writer.finish(ds.attrs["content_sha256"])
    return "replaced" if existed else "written"


def existing_cube_hash(store: Location) -> tuple[str | None, bool]:
    """The ``content_sha256`` of the intact dataset cube at ``store`` (None if it is one but damaged or
    unfinished), and whether it is sealed (written with checksums). Anything that is not a dataset cube raises:
    ``--force`` must never replace it.
    """
    refuse = "only a dataset cube is ever replaced there (--force included): choose another --out"
    try:
        _, attrs = store_attrs(store, "")
    except SchemaError as exc:
        raise StoreExistsError(f"{exc}; {refuse}") from None
    if kind_of(attrs) not in SCHEMAS:
        raise StoreExistsError(f"{store.name} is {describe(attrs)}; {refuse}")
    try:
        return open_cube(store).attrs.get("content_sha256"), "metadata_sha256" in attrs
    except SchemaError:
        return None, False


class CubeMismatchError(SigcubeError):
    """A dataset cube that is not the one a result (a sweep, a report) was made from."""


def check_source_cube(cube: xr.Dataset, recorded: str | None, made: str, name: str = "the dataset cube") -> bool:
    """Refuse ``cube`` (named ``name`` in the message) unless its ``content_sha256`` is ``recorded``, the hash of the
    cube that ``made`` (e.g. "the sweep", "the report") read: a :class:`CubeMismatchError` line with both hashes.
    False when nothing was recorded (a result older than the record: nothing to check), True when checked."""
    if not recorded:
        return False
    have = str(cube.attrs.get("content_sha256") or "")
    if have != recorded:
        raise CubeMismatchError(f"{name} is not the one {made} read (content sha256 "
                                f"{have[:12] + '…' if have else 'not recorded'}, {made}'s {recorded[:12]}…): name that "
                                "cube with --cube")
    return True


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
    if kind == FIT_KIND:
        return "a fit result cube"
    if kind == JOINT_KIND:
        return "a joint sweep result cube"
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


def open_dataset(store: Location, manifest: Mapping[str, Digest] | None, remedy: str,
                 chunks: Any = "stored", sizes: Mapping[str, int] | None = None) -> xr.Dataset:
    """Open a checked store lazily with xarray (its coordinates are read now), without the seal's bookkeeping.

    Every chunk read later is checked against ``manifest`` (:class:`~sigcube.io.chunks.VerifyingStore`): a damaged one
    raises :class:`~sigcube.io.stores.StoreDamagedError` ending with ``remedy`` (``sizes``: see
    :class:`~sigcube.io.chunks.VerifyingStore`). ``chunks``: ``"stored"`` (Dask arrays chunked as stored), None (no Dask:
    indexing reads only the chunks it needs) or as ``xr.open_zarr`` takes them."""
    verified = VerifyingStore(store.zarr_store(read_only=True), store.name, manifest, remedy, sizes)
    try:
        ds = xr.open_zarr(verified, chunks={} if chunks == "stored" else chunks, consolidated=CONSOLIDATED,
                          zarr_format=ZARR_FORMAT)
    except StoreDamagedError:
        raise
    except Exception as exc:
        raise SchemaError(f"{store.name}: not a readable Zarr v3 store ({_short(exc)})") from None
    for name in (*SEAL_ATTRS, WRITING_ATTR, MANIFEST_ATTR):
        ds.attrs.pop(name, None)
    return ds


def _short(exc: Exception, limit: int = 200) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= limit else text[:limit] + " …"


def open_cube(path: str | Path | Location, kind: str | Sequence[str] | None = None,
              verify: Verify = "auto", chunks: Any = "stored") -> xr.Dataset:
    """Open a dataset cube lazily: check its kind (one of ``kind`` if given), its seal and chunks (``verify``, see
    :data:`Verify`), its schema. A cube still being written (or whose writing was interrupted) is refused. Every chunk
    read later is checked against the cube's chunk manifest. ``chunks``: see :func:`open_dataset`.

    >>> ds = open_cube("cubes/sparc.zarr", kind="sparc")   # doctest: +SKIP
    >>> ds.v_obs.sel(galaxy="NGC3198").dropna("radius")    # doctest: +SKIP
    """
    kinds = (kind,) if isinstance(kind, str) else tuple(SCHEMAS) if kind is None else tuple(kind)
    kinds = tuple(base_kind(k) for k in kinds)  # a view reads its kind's cubes
    if not kinds or not set(kinds) <= SCHEMAS.keys():
        raise SigcubeError(f"open_cube: kind must be one or more of {', '.join(SCHEMAS)}; got {kind!r}")
    store = Location.of(path)
    store, attrs = store_attrs(store, f"no such cube; create it with `sigcube ingest <dataset> --out {store.name}`")
    if kind_of(attrs) not in kinds:
        expected = " or ".join(map(repr, kinds)) + " dataset cube" if kind is not None else "dataset cube"
        raise SchemaError(f"{store.name} is {describe(attrs)}; expected a {expected}")
    if attrs.get(WRITING_ATTR):
        raise SchemaError(f"{store.name}: this cube is being written, or its writing was interrupted (it is not "
                          "sealed yet); wait for the writer to finish, or write it again")
    remedy = f"re-ingest it (`sigcube ingest … --out {store.name} --force`)"
    ds = open_dataset(store, checked_manifest(store, attrs, remedy, verify), remedy, chunks)
    validate(ds, where=store.name)
    return ds


def checked_manifest(store: Location, attrs: dict[str, Any], remedy: str,
                     verify: Verify) -> Mapping[str, Digest] | None:
    """Check a store written once (dataset or fit cube) as ``verify`` says; the manifest its reads are checked
    against (empty for a store written before manifests whose chunks all carry a CRC-32C: each read checks that;
    None for one written before checksums)."""
    arrays, manifest = check_store(store, attrs, remedy, method=verify_method(store, verify))
    if manifest is None and all(has_checksum(a) for a in arrays.values()):
        manifest = Manifest()
    return manifest


def verify_method(store: Location, verify: Verify) -> Literal["full", "listing", "seal"]:
    """What ``verify`` means for ``store``: ``auto`` is ``full`` locally, ``listing`` on an object store."""
    if verify not in ("auto", "full", "listing", "seal"):
        raise SigcubeError(f"verify must be auto, full, listing or seal; got {verify!r}")
    return ("full" if store.local else "listing") if verify == "auto" else verify
