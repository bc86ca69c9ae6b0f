"""Where sigcube's Zarr stores live and how they are written safely: locations, leases, seals, checksums.

A store is named by a local path or an fsspec URL and resolved once into a :class:`Location`
(``fsspec.core.url_to_fs``). Nothing here renames a folder, so the same protocol carries over to
object stores (S3, GCS), whose rules it follows everywhere:

- **exclusive create** for objects that must be written once (``os.link`` of a finished temporary
  file locally, ``If-None-Match: *`` through ``pipe_file(mode="create")`` on S3);
- **one writer per object**, because a plain PUT is last-writer-wins: a chunk belongs to one block,
  a lease generation to one driver;
- **a seal written last**: :func:`seal` records in the root attributes the names of the store's arrays
  and a digest of their metadata, so an interrupted creation or a modified ``zarr.json`` is recognised;
- **a checksum in every chunk**: :func:`checksummed` encodings end with Zarr's ``crc32c`` codec; which chunk
  each one is, and how long, is recorded in the store's chunk manifests (:mod:`sigcube.io.chunks`).

A driver that writes a store holds a :class:`Lease`: an object ``<generation>.json`` in the hidden
folder ``.<store name>.lease`` beside the store (outside it, so Zarr and xarray never see it).
Generation ``g + 1`` is taken with an exclusive create, so two drivers can never both take it; the
holder renews its record every ``ttl / 3`` seconds. A record not renewed for ``ttl`` seconds
(``$SIGCUBE_LEASE_TTL``, default 60), or whose process is gone (same host and PID namespace), is stale
and may be taken over; a holder that finds a newer generation stops writing (:class:`LeaseToken`).
"""

from __future__ import annotations

import errno
import functools
import hashlib
import itertools
import json
import os
import posixpath
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from typing import Any, Literal

import zarr
from fsspec import AbstractFileSystem
from fsspec.core import url_to_fs
from fsspec.implementations.local import LocalFileSystem
from fsspec.registry import available_protocols
from zarr.codecs import Crc32cCodec, ZstdCodec

from sigcube.errors import SchemaError, SigcubeError, StoreExistsError

LEASE_TTL_VARIABLE = "SIGCUBE_LEASE_TTL"
"""Seconds after which a lease that was not renewed is stale (default :data:`DEFAULT_LEASE_TTL`)."""
DEFAULT_LEASE_TTL = 60.0
SEAL_ATTRS = ("arrays", "metadata_sha256")
"""Root attributes written by :func:`seal`: bookkeeping of the store, not part of the cube's content."""
MUTABLE_ATTRS = ("complete", "chunk_manifest_sha256")
"""Root attributes a writer may still change after :func:`seal` (they are left out of the digest)."""
FETCH_BATCH = 16
"""Chunks read at once when checking checksums (concurrently on object stores)."""


class StoreWriteError(SigcubeError):
    """A store cannot be written: permission denied, read-only file system, disk full, …"""


class StoreBusyError(StoreExistsError):
    """Another sweep holds a live lease on the store."""


class LeaseLostError(SigcubeError):
    """This sweep's lease was taken over: it must stop writing."""


class StoreDamagedError(SchemaError):
    """Chunks or metadata of a store are missing, corrupted or modified."""


_WRITE_ERRORS = {errno.EACCES: "permission denied", errno.EPERM: "permission denied",
                 errno.EROFS: "read-only file system", errno.ENOSPC: "no space left on device",
                 errno.EDQUOT: "disk quota exceeded"}


@contextmanager
def store_errors(where: str, action: str = "write") -> Iterator[None]:
    """Report an OS error while writing (``action``: or reading) ``where`` as one :class:`StoreWriteError` line;
    exclusive-create conflicts (:class:`FileExistsError`) pass through."""
    try:
        yield
    except FileExistsError:
        raise
    except OSError as exc:
        reason = _WRITE_ERRORS.get(exc.errno) or exc.strerror or f"{type(exc).__name__}: {exc}"
        raise StoreWriteError(f"cannot {action} {where}: {reason}") from None
    except Exception as exc:
        if type(exc).__module__.split(".")[0] not in _CLIENT_LIBRARIES:
            raise
        text = " ".join(str(exc).split())
        raise StoreWriteError(f"cannot {action} {where}: the object store cannot be reached or refused the request "
                              f"({type(exc).__name__}: {text[:200]})") from None


_CLIENT_LIBRARIES = ("botocore", "aiobotocore", "aiohttp", "urllib3", "requests", "google", "gcsfs", "adlfs", "azure")
"""Object-store client libraries whose errors (an unreachable endpoint, refused credentials) are not OSErrors."""
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


CHECKSUM_MISMATCH = "Stored and computed checksum do not match"
"""How Zarr's crc32c codec says a chunk read from a store is corrupted (a ValueError)."""


@contextmanager
def read_errors(where: str, remedy: str) -> Iterator[None]:
    """Read chunks of ``where``: OS errors as one line (:func:`store_errors`), a chunk that fails its checksum or
    cannot be decoded (Zarr raises ValueError: another chunk's bytes, the wrong size) as a
    :class:`StoreDamagedError` ending with ``remedy``. Only reads belong inside."""
    try:
        with store_errors(where, "read"):
            yield
    except ValueError as exc:
        what = ("fails its checksum as it is read (corrupted)" if str(exc).startswith(CHECKSUM_MISMATCH)
                else f"cannot be decoded ({' '.join(str(exc).split())[:120]})")
        raise StoreDamagedError(f"{where}: a chunk {what}; {remedy}") from None


@dataclass(frozen=True)
class Location:
    """A store (or a folder of objects) on any fsspec filesystem: ``name`` as the user gave it,
    ``fs`` and ``path`` as fsspec resolved it."""

    name: str
    fs: AbstractFileSystem
    path: str

    @classmethod
    def of(cls, where: object, argument: str = "path") -> Location:
        """Resolve a local path or a store URL; anything else is a :class:`SigcubeError` naming ``argument``."""
        if isinstance(where, Location):
            return where
        name = os.fspath(where) if isinstance(where, (str, os.PathLike)) else None
        if not isinstance(name, str) or not name.strip():
            raise SigcubeError(f"{argument} must be a path or a store URL (str or os.PathLike); got {where!r}")
        scheme = _SCHEME.match(name)
        if scheme and scheme.group(1).lower() not in available_protocols():  # "x://…" is a scheme, not a drive
            raise SigcubeError(f"{argument} {name!r} is not a usable store URL: {scheme.group(1)!r} is not a protocol "
                               f"fsspec knows (e.g. file, s3, gs, az, memory)")
        try:
            fs, path = url_to_fs(name)
        except (ValueError, ImportError) as exc:
            raise SigcubeError(f"{argument} {name!r} is not a usable store URL: {exc}") from None
        return cls(name, fs, path.rstrip("/") or path)

    @property
    def local(self) -> bool:
        return isinstance(self.fs, LocalFileSystem)

    @property
    def url(self) -> str:
        """What Zarr and xarray open: the absolute path locally, the full URL otherwise."""
        return self.path if self.local else self.fs.unstrip_protocol(self.path)

    def key(self, relative: str) -> str:
        return f"{self.path}/{relative}"

    def kind(self) -> Literal["absent", "file", "folder", "empty"]:
        """What is at this location (an object store's prefix with objects under it is a folder)."""
        with store_errors(self.name, "read"):
            self.fs.invalidate_cache(self.path)
            if self.fs.isfile(self.path):
                return "file"
            if not self.fs.isdir(self.path):
                return "absent"
            return "folder" if self.fs.ls(self.path, detail=False) else "empty"

    def same_or_nested(self, other: Location) -> bool:
        """Whether the two locations are the same store or one contains the other (symlinks resolved)."""
        if type(self.fs) is not type(other.fs):
            return False
        a, b = (os.path.realpath(x.path) if x.local else x.path for x in (self, other))
        return a == b or a.startswith(b.rstrip("/") + "/") or b.startswith(a.rstrip("/") + "/")

    def listing(self, relative: str = "") -> dict[str, int]:
        """The objects under ``relative`` (the whole store if empty), fresh from the store: key → size in bytes."""
        return {key: size for key, (size, _) in self.listing_detail(relative).items()}

    def listing_detail(self, relative: str = "") -> dict[str, tuple[int, str | None]]:
        """The objects under ``relative`` (the whole store if empty), fresh from the store: key → (size in bytes,
        ETag where the store gives one). Every cached listing of the filesystem is dropped first: fsspec's caches
        of the folders below ``relative`` would otherwise hide objects written since."""
        prefix = self.key(relative) if relative else self.path
        self.fs.invalidate_cache()
        try:
            found = self.fs.find(prefix, detail=True)
        except FileNotFoundError:
            return {}
        return {key[len(self.path) + 1:]: (int(info.get("size") or 0), info.get("ETag") or info.get("etag"))
                for key, info in found.items() if info.get("type", "file") == "file"}

    def zarr_store(self, read_only: bool = True) -> Any:
        """A Zarr store of this location (a ``LocalStore`` or an ``FsspecStore``)."""
        from zarr.storage import FsspecStore, LocalStore

        if self.local:
            return LocalStore(self.path, read_only=read_only)
        return FsspecStore.from_url(self.url, read_only=read_only)

    def read(self, relative: str) -> bytes | None:
        """The bytes of an object, or None if it does not exist."""
        try:
            return self.fs.cat_file(self.key(relative))
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    def fetch(self, relatives: Iterable[str]) -> Iterator[tuple[str, bytes | None]]:
        """``(relative, bytes or None)`` for many objects, read in batches (concurrently where fsspec can)."""
        keys = list(relatives)
        for start in range(0, len(keys), FETCH_BATCH):
            batch = keys[start:start + FETCH_BATCH]
            found = self.fs.cat([self.key(k) for k in batch], on_error="return")
            for k in batch:
                data = found.get(self.key(k))
                yield k, data if isinstance(data, bytes) else None

    def put(self, relative: str, data: bytes) -> None:
        """Write an object whole (atomically: a reader sees the old or the new bytes)."""
        path = self.key(relative)
        with store_errors(self.name):
            if self.local:
                tmp = self._tmp(path, data)
                os.replace(tmp, path)
            else:
                self.fs.pipe_file(path, data)

    def create(self, relative: str, data: bytes) -> None:
        """Write an object that must not exist yet; :class:`FileExistsError` if it does (never overwritten)."""
        path = self.key(relative)
        with store_errors(self.name):
            if self.local:
                tmp = self._tmp(path, data)
                try:
                    os.link(tmp, path)
                finally:
                    os.unlink(tmp)
            else:
                self.fs.pipe_file(path, data, mode="create")

    def delete(self, relative: str) -> None:
        """Delete an object if it still exists."""
        with store_errors(self.name):
            try:
                self.fs.rm_file(self.key(relative))
            except FileNotFoundError:
                pass

    def makedirs(self) -> None:
        with store_errors(self.name):
            self.fs.makedirs(self.path, exist_ok=True)

    def remove(self) -> None:
        """Delete the store and everything in it."""
        with store_errors(self.name):
            self.fs.rm(self.path, recursive=True)

    @staticmethod
    def _tmp(path: str, data: bytes) -> str:
        tmp = f"{path}.{uuid.uuid4().hex[:12]}.partial"
        with open(tmp, "wb") as f:
            f.write(data)
        return tmp


# --- checksums and the seal --------------------------------------------------------------------------------------


def checksummed(compress: bool = True) -> dict[str, Any]:
    """A Zarr v3 encoding whose chunks end with a CRC-32C of their bytes (zstd-compressed first if ``compress``)."""
    return {"compressors": (ZstdCodec(level=0), Crc32cCodec()) if compress else (Crc32cCodec(),)}


def has_checksum(array: zarr.Array) -> bool:
    """Whether every chunk of ``array`` carries a CRC-32C (stores written before checksums do not)."""
    codecs = getattr(array.metadata, "codecs", ())
    return bool(codecs) and isinstance(codecs[-1], Crc32cCodec)


def chunk_coords(array: zarr.Array) -> Iterator[tuple[int, ...]]:
    """Every chunk position of ``array``, in C order."""
    return itertools.product(*(range(-(-n // c)) for n, c in zip(array.shape, array.chunks)))


def seal(store: Location, attrs: dict[str, Any]) -> None:
    """Finish a store's creation: record ``attrs``, the names of its arrays and the digest of their metadata.

    Written last, in one root-metadata write: a store without its seal was not finished.
    """
    group = zarr.open_group(store.url, mode="r+", zarr_format=3)
    names = sorted(group.array_keys())
    merged = {**dict(group.attrs), **attrs, "arrays": names}
    with store_errors(store.name):
        group.update_attributes({**attrs, "arrays": names, "metadata_sha256": _digest(store, merged, names)})


def metadata_problems(store: Location, attrs: dict[str, Any]) -> list[str]:
    """What in a sealed store's metadata is missing or changed since :func:`seal` (nothing to check if unsealed)."""
    if "metadata_sha256" not in attrs:
        return []
    names = attrs.get("arrays")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        return ["the root attribute 'arrays' is not a list of array names"]
    missing = [n for n in names if store.read(f"{n}/zarr.json") is None]
    if missing:
        return [f"array {n!r} has no metadata ({n}/zarr.json is missing)" for n in missing]
    if _digest(store, attrs, names) != attrs["metadata_sha256"]:
        return ["its metadata (zarr.json) was modified after it was written (digest mismatch)"]
    return []


def summarize(problems: list[str], limit: int = 4) -> str:
    """The first ``limit`` problems joined by semicolons, then how many more there are."""
    more = f"; and {len(problems) - limit} more" if len(problems) > limit else ""
    return "; ".join(problems[:limit]) + more


def open_arrays(store: Location, attrs: dict[str, Any], remedy: str) -> dict[str, zarr.Array]:
    """Every array of a store whose root ``attrs`` were read, after checking its seal; a missing, unreadable
    or modified ``zarr.json`` is a :class:`StoreDamagedError` ending with ``remedy``."""
    problems = metadata_problems(store, attrs)
    if problems:
        raise StoreDamagedError(f"{store.name}: {summarize(problems)}; {remedy}")
    group = zarr.open_group(store.url, mode="r", zarr_format=3)
    arrays: dict[str, zarr.Array] = {}
    try:
        names = attrs["arrays"] if "arrays" in attrs else sorted(group.array_keys())
        for name in names:
            arrays[name] = node = group[name]
            if not isinstance(node, zarr.Array):
                raise TypeError(f"{name!r} is a group, not an array")
    except Exception as exc:
        raise StoreDamagedError(f"{store.name}: unreadable array metadata ({type(exc).__name__}: {exc}); "
                                f"{remedy}") from None
    return arrays


def _digest(store: Location, attrs: dict[str, Any], names: list[str]) -> str:
    digest = hashlib.sha256()
    fixed = {k: v for k, v in attrs.items() if k not in (*MUTABLE_ATTRS, "metadata_sha256")}
    digest.update(json.dumps(fixed, sort_keys=True, default=str).encode())
    for name in names:
        digest.update(name.encode() + b"\0" + (store.read(f"{name}/zarr.json") or b"") + b"\0")
    return digest.hexdigest()


# --- leases ------------------------------------------------------------------------------------------------------

Clock = Callable[[], float]
"""What leases read the time from: seconds since the epoch (``time.time``; a test passes a clock it advances)."""


def lease_ttl() -> float:
    """The lease time-to-live of this process: ``$SIGCUBE_LEASE_TTL`` seconds, default 60."""
    text = os.environ.get(LEASE_TTL_VARIABLE, "")
    try:
        ttl = float(text) if text else DEFAULT_LEASE_TTL
    except ValueError:
        ttl = float("nan")
    if not ttl > 0 or ttl == float("inf"):
        raise SigcubeError(f"{LEASE_TTL_VARIABLE} must be a positive number of seconds; got {text!r}")
    return ttl


def _pid_namespace() -> str:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""


def _process_start(pid: int) -> str:
    """The start time of process ``pid`` (clock ticks since boot), '' if it does not exist or is unknowable."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rpartition(")")[2].split()[19]
    except (OSError, IndexError):
        return ""


@dataclass(frozen=True)
class Holder:
    """A lease record: who holds (or held) a store, since when, and for how long it counts without renewal."""

    generation: int
    host: str
    pid: int
    pid_namespace: str
    process_start: str
    started: float
    renewed: float
    ttl: float
    released: bool = False

    @classmethod
    def parse(cls, generation: int, data: bytes | None) -> Holder | None:
        """The record of ``generation`` from its bytes; an unreadable record counts as a stale one."""
        if data is None:
            return None
        try:
            return cls(**{**json.loads(data), "generation": generation})
        except (ValueError, TypeError):
            return cls(generation, "?", 0, "", "", 0.0, 0.0, 0.0)

    def live(self, now: float | None = None) -> bool:
        """Neither released, nor unrenewed for ``ttl`` seconds at ``now`` (default: the time now), nor held by a
        process known to be gone."""
        if self.released or (time.time() if now is None else now) - self.renewed >= self.ttl:
            return False
        here = self.host == socket.gethostname() and self.pid_namespace and self.pid_namespace == _pid_namespace()
        return not (here and self.process_start and _process_start(self.pid) != self.process_start)

    def describe(self, now: float | None = None) -> str:
        """Who holds it, since when, and how long before ``now`` (default: the time now) it was last renewed."""
        since = datetime.fromtimestamp(self.started, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        ago = (time.time() if now is None else now) - self.renewed
        return f"{self.host}/{self.pid} since {since}, renewed {max(0.0, ago):.0f} s ago"

    def dumps(self) -> bytes:
        return json.dumps({k: v for k, v in asdict(self).items() if k != "generation"}).encode()


_GENERATION = re.compile(r"^(\d{12})\.json$")


def _record(generation: int) -> str:
    return f"{generation:012d}.json"


def lease_folder(store: Location) -> Location:
    """The hidden folder beside ``store`` that holds its lease records (named as the store in messages)."""
    parent, name = posixpath.split(store.path)
    return Location(store.name, store.fs, posixpath.join(parent, f".{name}.lease"))


def _generations(folder: Location) -> list[int]:
    folder.fs.invalidate_cache(folder.path)
    try:
        names = folder.fs.ls(folder.path, detail=False)
    except FileNotFoundError:
        return []
    return sorted(int(m.group(1)) for m in (_GENERATION.match(n.rpartition("/")[2]) for n in names) if m)


def current_holder(store: Location) -> Holder | None:
    """The newest lease record of ``store`` (live or not), or None if none was ever taken."""
    folder = lease_folder(store)
    for _ in range(5):  # a newer holder may delete the record we are about to read: look again
        generations = _generations(folder)
        if not generations:
            return None
        newest = generations[-1]
        holder = Holder.parse(newest, folder.read(_record(newest)))
        if holder is not None:
            return holder
    return None


def was_leased(store: Location) -> bool:
    """Whether a sigcube sweep ever took a lease on ``store`` (its lease folder exists)."""
    folder = lease_folder(store)
    return folder.fs.isdir(folder.path)


@functools.lru_cache(maxsize=16)
def _filesystem(url: str) -> tuple[AbstractFileSystem, str]:
    return url_to_fs(url)


@dataclass(frozen=True)
class LeaseToken:
    """What a worker needs to check, before each block, that its driver still holds the lease (two stats)."""

    store: str
    folder: str
    generation: int

    def check(self) -> None:
        """Raise :class:`LeaseLostError` if a newer generation was taken or this one was cleaned up."""
        fs, path = _filesystem(self.folder)
        fs.invalidate_cache(path)
        if fs.exists(f"{path}/{_record(self.generation)}") and not fs.exists(f"{path}/{_record(self.generation + 1)}"):
            return
        newer = current_holder(Location.of(self.store))
        by = f" by {newer.describe()}" if newer is not None and newer.generation > self.generation else ""
        raise LeaseLostError(f"{self.store}: this sweep's lease was taken over{by}; it stopped writing "
                             "(the other sweep owns the store now)")


class Lease:
    """This process's lease on a store, renewed by a heartbeat thread (one :meth:`beat` every ``ttl / 3`` seconds)
    while used as a context manager. Every time it records or compares comes from ``clock``.

    >>> with Lease.acquire(Location.of("cubes/r.zarr")) as lease:   # doctest: +SKIP
    ...     lease.check()                                              # before each write
    """

    def __init__(self, store: Location, holder: Holder, clock: Clock = time.time) -> None:
        self.store, self.holder, self.clock = store, holder, clock
        self.folder = lease_folder(store)
        self.token = LeaseToken(store.name, self.folder.url, holder.generation)
        self._stop = threading.Event()
        self._lost: LeaseLostError | None = None
        self._thread = threading.Thread(target=self._beat, name=f"sigcube-lease-{holder.generation}", daemon=True)

    @classmethod
    def acquire(cls, store: Location, ttl: float | None = None, clock: Clock = time.time) -> Lease:
        """Take the next generation of ``store``'s lease, or raise :class:`StoreBusyError` naming the live holder."""
        folder = lease_folder(store)
        folder.makedirs()
        ttl = ttl or lease_ttl()
        for _ in range(5):
            latest, now = current_holder(store), clock()
            if latest is not None and latest.live(now):
                raise StoreBusyError(f"{store.name}: another sigcube sweep or fit is writing here (lease held by "
                                     f"{latest.describe(now)}); wait for it to finish, or choose another --out")
            holder = Holder((latest.generation if latest else 0) + 1, socket.gethostname(), os.getpid(),
                            _pid_namespace(), _process_start(os.getpid()), now, now, ttl)
            try:
                folder.create(_record(holder.generation), holder.dumps())
            except FileExistsError:
                continue  # another driver took this generation first: look at it again
            for old in _generations(folder):
                if old < holder.generation:
                    folder.delete(_record(old))
            return cls(store, holder, clock)
        raise StoreBusyError(f"{store.name}: other sweeps keep taking its lease; wait for them, or choose another "
                             "--out")

    def check(self) -> None:
        """Raise :class:`LeaseLostError` if another driver took the lease over."""
        if self._lost is not None:
            raise self._lost
        self.token.check()

    def _write(self, **changes: Any) -> None:
        self.holder = replace(self.holder, **changes)
        self.folder.put(_record(self.holder.generation), self.holder.dumps())

    def beat(self) -> bool:
        """One heartbeat: renew the record at ``clock()``, unless the lease was taken over (then remember that
        for :meth:`check` and return False; the heartbeat thread stops)."""
        try:
            self.token.check()
        except LeaseLostError as exc:
            self._lost = exc
            return False
        try:
            self._write(renewed=self.clock())
        except SigcubeError:
            pass  # the next beat tries again; a few missed beats are within the TTL
        return True

    def _beat(self) -> None:
        while not self._stop.wait(self.holder.ttl / 3) and self.beat():
            pass

    def __enter__(self) -> Lease:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        if self._lost is None:
            try:
                self.token.check()
                self._write(released=True, renewed=self.clock())
            except SigcubeError:
                pass  # lost or unwritable: the record goes stale on its own
