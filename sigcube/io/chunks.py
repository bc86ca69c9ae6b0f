"""Chunk identity: every chunk of a sigcube store is listed in a manifest by its writer, and checked against it.

A CRC-32C inside a chunk proves that its bytes are intact, not *which* chunk they are: a chunk copied over
another of the same array, or over one of another array, still passes it. So every writer of chunks records,
for each chunk key it writes, a :class:`Digest` — the chunk's size, the CRC-32C of its stored bytes and, on an
object store, their MD5 (what S3 reports as the object's ETag) — and the store keeps these records as
manifests: JSON objects in the store's hidden Zarr group ``_manifest`` (a group, so Zarr and xarray pass over
it; its objects are never listed by them). A chunk is the chunk written at its key only if its bytes match the
digest recorded for that key.

- :class:`RecordingStore` wraps the Zarr store a writer writes through and records the digest of every chunk
  it sets, from the bytes themselves (no second read).
- :class:`VerifyingStore` wraps the store a reader reads through: every chunk read is checked against its
  digest (or, for a chunk no manifest lists — a sweep's done flags —, against its own CRC-32C trailer), and a
  missing, resized, swapped or corrupted chunk is a :class:`~sigcube.io.stores.StoreDamagedError` naming the
  key, never a number served or a raw codec error.
- :func:`chunk_problems` checks many chunks at once: ``full`` reads them; ``listing`` lists them (one listing
  per array) and compares sizes and, where the object store gives an MD5 ETag, the MD5 — no chunk is
  downloaded unless the listing cannot decide.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import threading
from collections.abc import AsyncGenerator, Iterable, Mapping
from typing import Any, Literal, NamedTuple

import google_crc32c
import numpy as np
import zarr
from zarr.abc.store import ByteRequest, Store
from zarr.core.buffer import Buffer, BufferPrototype
from zarr.storage import WrapperStore

from sigcube.io.stores import (
    Location, StoreDamagedError, chunk_coords, has_checksum, open_arrays, store_errors, summarize,
)

MANIFEST_GROUP = "_manifest"
"""The hidden group of a store whose objects are its chunk manifests."""
MANIFEST_FORMAT = "sigcube-chunk-manifest/1"
_MD5 = re.compile(r"^[0-9a-f]{32}$")


class Digest(NamedTuple):
    """What a chunk's stored bytes are: their length, the CRC-32C of all but their last four bytes (which hold that
    same CRC-32C: every sigcube array ends with Zarr's ``crc32c`` codec) and, on object stores, their MD5.

    (The CRC-32C of a whole chunk would not do: a message followed by its own CRC-32C always has the same CRC.)"""

    size: int
    crc32c: int
    md5: str | None = None

    @classmethod
    def of(cls, data: bytes, md5: bool = False) -> Digest:
        return cls(len(data), google_crc32c.value(data[:-4]), hashlib.md5(data).hexdigest() if md5 else None)

    def problem(self, data: bytes | None) -> str | None:
        """What is wrong with ``data`` as the chunk this digest records (None: it is that chunk)."""
        if data is None:
            return "is missing"
        if len(data) != self.size:
            return f"has {len(data)} bytes where {self.size} were written (another chunk, or truncated)"
        crc = google_crc32c.value(data[:-4])
        if crc != int.from_bytes(data[-4:], "little"):
            return "fails its checksum (corrupted or truncated)"
        if crc != self.crc32c:
            return "holds another chunk's bytes, not the chunk written there"
        return None

    def listed_problem(self, size: int | None, etag: str | None) -> str | None | Literal["read"]:
        """What a listing shows is wrong (``size`` None: not listed); ``"read"`` when only the bytes can tell."""
        if size is None:
            return "is missing"
        if size != self.size:
            return f"has {size} bytes where {self.size} were written (another chunk, or truncated)"
        tag = (etag or "").strip('"').lower()
        if self.md5 is not None and _MD5.match(tag):
            return None if tag == self.md5 else "is not the chunk written there (another chunk's bytes, or corrupted)"
        return "read"


def trailer_problem(data: bytes | None, size: int | None = None) -> str | None:
    """What is wrong with a chunk no manifest lists, judged by its own CRC-32C trailer (Zarr's ``crc32c`` codec) and,
    for an array whose chunks all have one ``size`` (uncompressed, fixed width: :func:`fixed_sizes`), its length."""
    if data is None:
        return "is missing"
    if size is not None and len(data) != size:
        return f"has {len(data)} bytes where every chunk of its array has {size} (another chunk, or truncated)"
    if len(data) < 4 or google_crc32c.value(data[:-4]) != int.from_bytes(data[-4:], "little"):
        return "fails its checksum (corrupted or truncated)"
    return None


def fixed_sizes(arrays: Mapping[str, zarr.Array]) -> dict[str, int]:
    """Array path → the size of each of its stored chunks, for the uncompressed, checksummed, fixed-width arrays."""
    from zarr.codecs import Crc32cCodec

    out = {}
    for array in arrays.values():
        codecs = getattr(array.metadata, "codecs", ())
        if len(codecs) == 2 and isinstance(codecs[-1], Crc32cCodec) and array.dtype.kind in "biuf":
            out[array.path] = int(np.prod(array.chunks)) * array.dtype.itemsize + 4
    return out


def _array_of(key: str) -> str:
    return key.rsplit("/c/", 1)[0] if "/c/" in key else key.split("/", 1)[0]


class Manifest(dict[str, Digest]):
    """Chunk key (relative to the store root, e.g. ``rms/c/3/0/0``) → :class:`Digest`."""

    def dumps(self) -> bytes:
        chunks = {k: list(d) if d.md5 else list(d[:2]) for k, d in sorted(self.items())}
        return json.dumps({"format": MANIFEST_FORMAT, "chunks": chunks}, separators=(",", ":")).encode()

    @classmethod
    def loads(cls, data: bytes) -> Manifest:
        """A manifest from its JSON; ValueError if it is not one."""
        try:
            doc = json.loads(data)
            if doc.get("format") != MANIFEST_FORMAT:
                raise ValueError(f"format {doc.get('format')!r}")
            return cls({str(k): Digest(int(v[0]), int(v[1]), str(v[2]) if len(v) > 2 else None)
                        for k, v in doc["chunks"].items()})
        except (TypeError, KeyError, IndexError, AttributeError, UnicodeDecodeError) as exc:
            raise ValueError(f"not a chunk manifest ({type(exc).__name__})") from None

    def sha256(self) -> str:
        return hashlib.sha256(self.dumps()).hexdigest()


def is_chunk_key(key: str) -> bool:
    """Whether a store key names a chunk (not metadata, not a manifest)."""
    return not key.endswith("zarr.json") and not key.startswith(f"{MANIFEST_GROUP}/")


def manifest_key(name: str) -> str:
    return f"{MANIFEST_GROUP}/{name}.json"


def write_manifest(store: Location, name: str, manifest: Manifest) -> None:
    """Write the manifest ``name`` into ``store`` (creating the ``_manifest`` group on first use)."""
    with store_errors(store.name):
        if store.read(f"{MANIFEST_GROUP}/zarr.json") is None:
            zarr.open_group(store.url, mode="r+", zarr_format=3).require_group(MANIFEST_GROUP)
        store.put(manifest_key(name), manifest.dumps())


def read_manifest(store: Location, name: str) -> Manifest | None:
    """The manifest ``name`` of ``store``, or None if it is missing or unreadable (a damaged manifest is as good
    as none: what it listed is checked as unlisted)."""
    with store_errors(store.name, "read"):
        data = store.read(manifest_key(name))
    if data is None:
        return None
    try:
        return Manifest.loads(data)
    except ValueError:
        return None


def read_manifests(store: Location, names: Iterable[str]) -> dict[str, Manifest | None]:
    """Several manifests of ``store`` at once (concurrently on object stores)."""
    with store_errors(store.name, "read"):
        found = dict(store.fetch(manifest_key(n) for n in names))
    out: dict[str, Manifest | None] = {}
    for key, data in found.items():
        name = key[len(MANIFEST_GROUP) + 1:-len(".json")]
        try:
            out[name] = None if data is None else Manifest.loads(data)
        except ValueError:
            out[name] = None
    return out


def chunk_keys(array: zarr.Array, coords: Iterable[tuple[int, ...]]) -> dict[str, tuple[int, ...]]:
    """Store key → chunk position of ``array``'s chunks at ``coords``."""
    return {f"{array.path}/{array.metadata.encode_chunk_key(c)}": c for c in coords}


class ChunkProblem(NamedTuple):
    """A chunk that is missing, resized, swapped or corrupted."""

    key: str
    what: str

    @property
    def missing(self) -> bool:
        return self.what == "is missing"

    def __str__(self) -> str:
        return f"chunk {self.key} {self.what}"


def chunk_problems(store: Location, expected: Mapping[str, Digest | None],
                   method: Literal["full", "listing"] = "full",
                   sizes: Mapping[str, int] | None = None) -> dict[str, ChunkProblem]:
    """The chunks of ``expected`` (key → its digest, None for one no manifest lists) that are not what was written.

    ``full`` reads every chunk; ``listing`` lists the arrays they belong to and reads only the chunks whose listing
    cannot decide (no MD5 ETag to compare, or no digest at all). A chunk without a digest is judged by its CRC-32C
    trailer and, if its array is in ``sizes`` (:func:`fixed_sizes`), its length.
    """
    sizes = sizes or {}
    keys = list(expected)
    if method == "listing":
        listed: dict[str, tuple[int, str | None]] = {}
        for prefix in sorted({k.split("/", 1)[0] for k in keys}):
            with store_errors(store.name, "read"):
                listed.update(store.listing_detail(prefix))
        problems: dict[str, ChunkProblem] = {}
        unsure = []
        for key in keys:
            digest = expected[key]
            size, etag = listed.get(key, (None, None))
            what = "is missing" if size is None else digest.listed_problem(size, etag) if digest else "read"
            if what == "read":
                unsure.append(key)
            elif what is not None:
                problems[key] = ChunkProblem(key, what)
        return {**problems, **chunk_problems(store, {k: expected[k] for k in unsure}, "full", sizes)}
    out = {}
    with store_errors(store.name, "read"):
        for key, data in store.fetch(keys):  # checked batch by batch: a store is never held whole
            digest = expected[key]
            what = digest.problem(data) if digest is not None else trailer_problem(data, sizes.get(_array_of(key)))
            if what is not None:
                out[key] = ChunkProblem(key, what)
    return out


# --- Zarr stores that record and verify ----------------------------------------------------------------------------


class RecordingStore(WrapperStore):
    """A Zarr store that records the :class:`Digest` of every chunk written through it (thread-safe);
    :meth:`take` hands a writer the digests of the keys it wrote."""

    def __init__(self, store: Store, md5: bool = False, record: dict[str, Digest] | None = None,
                 lock: Any = None) -> None:
        super().__init__(store)
        self.md5 = md5
        self.record = {} if record is None else record
        self.lock = lock or threading.Lock()

    def _with_store(self, store: Store) -> RecordingStore:
        return type(self)(store, self.md5, self.record, self.lock)

    def _note(self, key: str, value: Buffer) -> None:
        if is_chunk_key(key):
            digest = Digest.of(value.to_bytes(), self.md5)
            with self.lock:
                self.record[key] = digest

    async def set(self, key: str, value: Buffer) -> None:
        await self._store.set(key, value)
        self._note(key, value)

    async def set_if_not_exists(self, key: str, value: Buffer) -> None:
        await self._store.set_if_not_exists(key, value)
        self._note(key, value)

    async def _set_many(self, values: Iterable[tuple[str, Buffer]]) -> None:
        values = list(values)
        await self._store._set_many(values)
        for key, value in values:
            self._note(key, value)

    async def delete(self, key: str) -> None:
        await self._store.delete(key)
        with self.lock:
            self.record.pop(key, None)

    def take(self, keys: Iterable[str] | None = None) -> Manifest:
        """The recorded digests of ``keys`` (default: all), forgotten here."""
        with self.lock:
            wanted = list(self.record) if keys is None else [k for k in keys if k in self.record]
            return Manifest({k: self.record.pop(k) for k in wanted})

    def __getstate__(self) -> dict[str, Any]:
        return {"store": self._store, "md5": self.md5}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["store"], state["md5"])  # type: ignore[misc]


class VerifyingStore(WrapperStore):
    """A read-only Zarr store that checks every whole-chunk read against ``manifest`` (key → digest; a key it does
    not list against the chunk's own CRC-32C trailer, a missing one as missing) before Zarr decodes it.

    A chunk that fails is a :class:`~sigcube.io.stores.StoreDamagedError`: ``<name>: chunk <key> <what is wrong>;
    <remedy>``. ``manifest`` None (a store written before manifests) leaves the check to Zarr's codec.
    """

    def __init__(self, store: Store, name: str, manifest: Mapping[str, Digest] | None, remedy: str,
                 sizes: Mapping[str, int] | None = None) -> None:
        super().__init__(store)
        self.name, self.manifest, self.remedy, self.sizes = name, manifest, remedy, dict(sizes or {})

    def _with_store(self, store: Store) -> VerifyingStore:
        return type(self)(store, self.name, self.manifest, self.remedy, self.sizes)

    def _check(self, key: str, buf: Buffer | None) -> Buffer | None:
        if self.manifest is None or not is_chunk_key(key):
            return buf
        data = None if buf is None else buf.to_bytes()
        digest = self.manifest.get(key)
        what = (digest.problem(data) if digest is not None else None if data is None
                else trailer_problem(data, self.sizes.get(_array_of(key))))
        if what is not None:
            raise StoreDamagedError(f"{self.name}: chunk {key} {what}; {self.remedy}")
        return buf

    async def get(self, key: str, prototype: BufferPrototype, byte_range: ByteRequest | None = None) -> Buffer | None:
        buf = await self._store.get(key, prototype, byte_range)
        return buf if byte_range is not None else self._check(key, buf)

    async def get_partial_values(self, prototype: BufferPrototype,
                                 key_ranges: Iterable[tuple[str, ByteRequest | None]]) -> list[Buffer | None]:
        key_ranges = list(key_ranges)
        return list(await asyncio.gather(*(self.get(k, prototype, r) for k, r in key_ranges)))

    async def _get_many(self, requests: Iterable[tuple[str, BufferPrototype, ByteRequest | None]]
                        ) -> AsyncGenerator[tuple[str, Buffer | None], None]:
        for key, prototype, byte_range in requests:
            yield key, await self.get(key, prototype, byte_range)

    def __getstate__(self) -> dict[str, Any]:
        return {"store": self._store, "name": self.name, "manifest": self.manifest, "remedy": self.remedy,
                "sizes": self.sizes}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)  # type: ignore[misc]


# --- whole stores written once: dataset and fit cubes ---------------------------------------------------------------

CUBE_MANIFEST = "cube"
"""The manifest of a store written once (a dataset or fit cube): every chunk of every array."""
MANIFEST_ATTR = "chunk_manifest_sha256"
"""Root attribute (sealed) of a store written once: the sha256 of its manifest, so the manifest is checked first."""


def every_chunk(arrays: Mapping[str, zarr.Array]) -> list[str]:
    """The key of every chunk of ``arrays`` (a store written with ``write_empty_chunks`` holds them all)."""
    return [key for a in arrays.values() for key in chunk_keys(a, chunk_coords(a))]


def cube_manifest(store: Location, attrs: Mapping[str, Any], remedy: str) -> Manifest | None:
    """The sealed manifest of a store written once, checked against its recorded sha256; None for a store written
    before manifests. A missing or modified manifest is a :class:`StoreDamagedError` ending with ``remedy``."""
    recorded = attrs.get(MANIFEST_ATTR)
    if recorded is None:
        return None
    manifest = read_manifest(store, CUBE_MANIFEST)
    if manifest is None or manifest.sha256() != recorded:
        what = "is missing or unreadable" if manifest is None else "was modified after it was written"
        raise StoreDamagedError(f"{store.name}: its chunk manifest ({manifest_key(CUBE_MANIFEST)}) {what}; {remedy}")
    return manifest


def check_store(store: Location, attrs: dict[str, Any], remedy: str,
                method: Literal["full", "listing", "seal"] = "full") -> tuple[dict[str, zarr.Array], Manifest | None]:
    """Check a store written once: its seal, its manifest, then (unless ``method`` is ``seal``) every chunk of every
    array against its digest (``full``: read; ``listing``: listed, see :func:`chunk_problems`). Returns its arrays
    and its manifest (None for a store written before manifests, whose chunks are checked by their CRC-32C)."""
    arrays = open_arrays(store, attrs, remedy)
    manifest = cube_manifest(store, attrs, remedy)
    if method == "seal":
        return arrays, manifest
    keys = every_chunk({n: a for n, a in arrays.items() if manifest is not None or has_checksum(a)})
    if manifest is not None:
        unlisted = [k for k in keys if k not in manifest]
        if unlisted:
            raise StoreDamagedError(f"{store.name}: {summarize([f'chunk {k} is not in its manifest' for k in unlisted])}"
                                    f"; {remedy}")
    expected = {k: manifest[k] if manifest is not None else None for k in keys}
    problems = [str(p) for p in chunk_problems(store, expected, method).values()]
    if problems:
        raise StoreDamagedError(f"{store.name}: {summarize(problems)}; {remedy}")
    return arrays, manifest
