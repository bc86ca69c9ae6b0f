"""Checkpoints of a long computation: finished pieces kept in a folder so that a killed run started again skips them.

A :class:`Checkpoint` keeps each piece of a run under its key (a path-like string, e.g. ``nuisance/sigma/row``) as
one JSON file, ``<folder>/<key>.json``, that holds only data (:func:`encode`: JSON values, non-finite floats and
numpy arrays tagged; nothing is ever unpickled or executed) and says what made it:

- ``key``: the piece's own key, so a piece moved or copied to another key (another model's folder, another σ_int)
  is told apart;
- ``run``: the run's description — whatever its owner puts in (the cube's content hash, the settings), the sigcube
  version and a digest of sigcube's own source (:func:`code_digest`: a piece made by other code is never reused);
- ``seconds``: the computing time the piece holds — the time it took to make, plus the ``seconds`` of the pieces
  an earlier run made that were read back while it was made (:func:`resumed_seconds`: a run stopped and resumed still
  reports its whole time; a piece this run made, or has read back before, adds nothing: its time is counted once);
- ``sha256`` of the canonical JSON (keys sorted) of the format, key, run, seconds and value (the file keeps the
  value's keys in their order: a report reads back as it was printed).

Every read checks all of it; a piece that fails (damaged, truncated, empty, edited, moved, made by another run, not
a piece at all, a folder in its place) is reported in one line to ``warn``, removed and made again. A piece is written
whole or not at all (a temporary file, flushed to disk, renamed into place). The folder is named by
:func:`fingerprint` of the run, so two runs with other settings never share one. ``Checkpoint(None)`` keeps nothing.
"""

from __future__ import annotations

import base64
import fnmatch
import functools
import hashlib
import json
import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from sigcube.errors import SigcubeError
from sigcube.version import __version__

T = TypeVar("T")

FORMAT = "sigcube-checkpoint/2"
"""The format of a piece; a file without it is not one."""
SUFFIX = ".json"
WRITING = ".writing-"
"""Prefix of a piece being written (a killed writer may leave one; it is never read, and removed by :meth:`prune`)."""
MAX_PIECE_BYTES = 1 << 30
"""A file larger than this at a piece's path is not read (no piece of sigcube's runs comes near it)."""
ARRAY_KINDS = "biuf"
"""numpy dtype kinds a piece may hold: booleans, integers, floats (never objects or strings)."""


class CheckpointError(SigcubeError):
    """A checkpoint folder that cannot be used or written."""


def _silent(message: str) -> None:
    """Says nothing."""


_RESUMED: ContextVar[list[float] | None] = ContextVar("sigcube_checkpoint_resumed", default=None)
"""The seconds of the pieces this context (thread, task) has read back so far, in a one-item list."""


def _ledger() -> list[float]:
    found = _RESUMED.get()
    if found is None:
        found = [0.0]
        _RESUMED.set(found)
    return found


def resumed_seconds() -> float:
    """The computing time, in seconds, of every piece made by an earlier, stopped run that :meth:`Checkpoint.read` (or
    :meth:`Checkpoint.get`) has read back in this context so far, each once (a piece this run wrote is not counted):
    a computation's whole time is its wall-clock time plus the growth of this during it."""
    return _ledger()[0]


@functools.cache
def code_digest() -> str:
    """sha256 of sigcube's own Python source (every module's path and bytes): pieces made by other code differ."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def describe_run(settings: Mapping[str, Any]) -> dict[str, Any]:
    """What made a run's pieces: ``settings`` (JSON-able) plus the sigcube version and :func:`code_digest`."""
    return json.loads(_canonical({"settings": encode(dict(settings)), "sigcube": __version__, "code": code_digest()}))


def fingerprint(settings: Mapping[str, Any]) -> str:
    """A short hash of :func:`describe_run` of ``settings``: the name of a run's checkpoint folder."""
    return hashlib.sha256(_canonical(describe_run(settings)).encode()).hexdigest()[:16]


def encode(value: Any) -> Any:
    """``value`` as JSON data: dicts (string keys), lists and tuples (as lists), strings, booleans, None, ints and
    floats (numpy scalars as their Python kind; NaN and ±inf as ``{"$float": "nan" | "inf" | "-inf"}``), numpy
    arrays of :data:`ARRAY_KINDS` as ``{"$array": {"dtype", "shape", "base64"}}`` (the raw bytes: every bit kept).
    Anything else is a TypeError (a bug: the caller converts its objects to data first)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        x = float(value)
        return x if math.isfinite(x) else {"$float": "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")}
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in ARRAY_KINDS:
            raise TypeError(f"a checkpoint holds numeric arrays only, not {value.dtype}")
        a = np.ascontiguousarray(value)
        return {"$array": {"dtype": a.dtype.str, "shape": list(a.shape),
                           "base64": base64.b64encode(a.tobytes()).decode("ascii")}}
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str) or k.startswith("$"):
                raise TypeError(f"a checkpoint's dict keys are strings not starting with '$', not {k!r}")
            out[k] = encode(v)
        return out
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    raise TypeError(f"a checkpoint holds data only, not {type(value).__name__}")


def decode(data: Any) -> Any:
    """The value :func:`encode` gave ``data`` for (tuples come back as lists); ValueError on anything else."""
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict):
        if data is None or isinstance(data, (bool, int, float, str)):
            return data
        raise ValueError(f"not checkpoint data: {type(data).__name__}")
    if "$float" in data:
        special = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
        if set(data) != {"$float"} or data["$float"] not in special:
            raise ValueError("a malformed $float")
        return special[data["$float"]]
    if "$array" in data:
        if set(data) != {"$array"}:
            raise ValueError("a malformed $array")
        return _array(data["$array"])
    if any(k.startswith("$") for k in data):
        raise ValueError("an unknown $ tag")
    return {k: decode(v) for k, v in data.items()}


def _array(spec: Any) -> np.ndarray:
    if not isinstance(spec, dict) or set(spec) != {"dtype", "shape", "base64"}:
        raise ValueError("a malformed $array")
    dtype = np.dtype(str(spec["dtype"]))
    shape = spec["shape"]
    if dtype.kind not in ARRAY_KINDS or not isinstance(shape, list) or \
            not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape):
        raise ValueError("a malformed $array")
    raw = base64.b64decode(str(spec["base64"]).encode("ascii"), validate=True)
    if len(raw) != dtype.itemsize * math.prod(shape):
        raise ValueError("an $array whose bytes do not fill its shape")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


def _canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False, ensure_ascii=True)


def _identity(value: Any) -> Any:
    return value


class _Damaged(Exception):
    """A piece that fails verification (its reason)."""


@dataclass(frozen=True)
class Checkpoint:
    """Pieces of one run under ``folder`` (None: nothing is kept), made by ``run`` (:func:`describe_run`); ``prefix``:
    the key prefix of a sub-computation (:meth:`child`); ``warn`` hears one line per piece that failed verification;
    ``clock`` times the pieces :meth:`get` makes; ``counted``: the keys whose time this run (this object and its
    children) has counted — those it wrote and those it read back —, whose reads add nothing to
    :func:`resumed_seconds`."""

    folder: Path | None
    run: Mapping[str, Any] = field(default_factory=dict)
    prefix: tuple[str, ...] = ()
    warn: Callable[[str], None] = _silent
    clock: Callable[[], float] = time.perf_counter
    counted: set[str] = field(default_factory=set, compare=False, repr=False)

    def child(self, *parts: str) -> Checkpoint:
        """The checkpoint of a sub-computation (its pieces under the keys ``<prefix>/<parts>/…``)."""
        return Checkpoint(self.folder, self.run, (*self.prefix, *parts), self.warn, self.clock, self.counted)

    def key(self, name: str) -> str:
        """The full key of the piece ``name`` of this (sub-)computation."""
        return "/".join((*self.prefix, name))

    def path(self, name: str) -> Path:
        """The file of the piece ``name``."""
        assert self.folder is not None
        parts = [_safe(p) for p in self.key(name).split("/")]
        return self.folder.joinpath(*parts[:-1], parts[-1] + SUFFIX)

    def get(self, name: str, make: Callable[[], T], to_data: Callable[[T], Any] = _identity,
            from_data: Callable[[Any], T] = _identity) -> T:
        """The piece ``name``: read and verified when a run kept it, else ``make()``'s value, kept (``to_data`` and
        ``from_data`` convert it to and from :func:`encode`-able data)."""
        if self.folder is None:
            return make()
        found = self.read(name, from_data)
        if found is not None:
            return found[0]
        resumed, start = resumed_seconds(), self.clock()
        value = make()
        self.write(name, to_data(value), self.clock() - start + resumed_seconds() - resumed)
        return value

    def read(self, name: str, from_data: Callable[[Any], T] = _identity) -> tuple[T] | None:
        """``(value,)`` of the piece ``name`` if it is kept and verified, else None (a piece that fails is reported to
        ``warn``, naming it and why, and removed); the ``seconds`` of one an earlier run made are added to
        :func:`resumed_seconds` the first time it is read."""
        if self.folder is None:
            return None
        path = self.path(name)
        if not os.path.lexists(path):
            return None
        try:
            value, seconds = self._verified(path, name, from_data)
            if self.key(name) not in self.counted:
                self.counted.add(self.key(name))
                _ledger()[0] += seconds
            return (value,)
        except _Damaged as damage:
            reason = str(damage)
        except OSError as exc:
            reason = f"cannot be read ({exc.strerror or exc})"
        self.warn(f"checkpoint piece {path} {reason}: computing it again")
        _remove(path)
        return None

    def _verified(self, path: Path, name: str, from_data: Callable[[Any], T]) -> tuple[T, float]:
        if path.is_symlink() or not path.is_file():
            raise _Damaged("is not a file")
        size = path.stat().st_size
        if size == 0:
            raise _Damaged("is empty")
        if size > MAX_PIECE_BYTES:
            raise _Damaged(f"is {size} bytes, larger than any piece")
        try:
            piece = json.loads(path.read_bytes().decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise _Damaged("is not a checkpoint piece (not JSON: damaged or truncated)") from None
        if not isinstance(piece, dict) or piece.get("format") != FORMAT or \
                set(piece) != {"format", "key", "run", "seconds", "value", "sha256"}:
            raise _Damaged("is not a sigcube checkpoint piece")
        body = {k: piece[k] for k in ("format", "key", "run", "seconds", "value")}
        try:
            digest = hashlib.sha256(_canonical(body).encode()).hexdigest()
        except (ValueError, TypeError):
            raise _Damaged("is not a sigcube checkpoint piece") from None
        if digest != piece["sha256"]:
            raise _Damaged("does not match its sha256 (damaged or edited)")
        if piece["key"] != self.key(name):
            raise _Damaged(f"holds the piece {piece['key']!r}, not {self.key(name)!r} (moved or copied)")
        if piece["run"] != json.loads(_canonical(self.run)):
            raise _Damaged("was made by another run (another cube, settings or sigcube code)")
        seconds = piece["seconds"]
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds < math.inf:
            raise _Damaged("does not say how long it took")
        try:
            return from_data(decode(piece["value"])), float(seconds)
        except (ValueError, TypeError, KeyError, IndexError):
            raise _Damaged("does not hold what this piece holds") from None

    def write(self, name: str, data: Any, seconds: float = 0.0) -> None:
        """Keep ``data`` (:func:`encode`-able), which took ``seconds`` to compute, as the piece ``name``, atomically."""
        if self.folder is None:
            return
        body = {"format": FORMAT, "key": self.key(name), "run": json.loads(_canonical(self.run)),
                "seconds": float(seconds), "value": encode(data)}
        text = json.dumps({**body, "sha256": hashlib.sha256(_canonical(body).encode()).hexdigest()},
                          separators=(",", ":"), allow_nan=False)  # keys in their order; the hash over sorted keys
        path = self.path(name)
        try:
            self._make_folder(path.parent)
            _write_atomic(path, text.encode())
            self.counted.add(self.key(name))
        except OSError as exc:
            raise CheckpointError(f"cannot keep the checkpoint piece {path}: {exc.strerror or exc} (free space, "
                                  "or fix the folder's permissions)") from None

    def check_writable(self) -> None:
        """Make the run's folder and try a file in it (removed), so that a run whose pieces could not be kept is
        refused in one CheckpointError line before it computes anything, not at its first piece."""
        if self.folder is None:
            return
        try:
            self._make_folder(self.folder)
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=WRITING, suffix=".tmp")
            os.close(fd)
            os.unlink(tmp)
        except OSError as exc:
            raise CheckpointError(f"cannot keep checkpoints in {self.folder}: {exc.strerror or exc} (free space, fix "
                                  "the folder's permissions, or set SIGCUBE_CUBE_DIR to another folder)") from None

    def _make_folder(self, folder: Path) -> None:
        """Create ``folder`` (inside the run's folder); a file of the run's own where a folder belongs is removed."""
        assert self.folder is not None
        root = self.folder
        if not root.parent.is_dir():
            check_root(root.parent)
            root.parent.mkdir(parents=True, exist_ok=True)
        for part in (root, *[root.joinpath(*folder.relative_to(root).parts[:i + 1])
                             for i in range(len(folder.relative_to(root).parts))]):
            if os.path.lexists(part) and (part.is_symlink() or not part.is_dir()):
                self.warn(f"checkpoint folder {part} is not a folder: replacing it")
                _remove(part)
            part.mkdir(exist_ok=True)

    def count(self) -> int:
        """How many pieces are kept (in every sub-folder)."""
        if self.folder is None or not self.folder.is_dir():
            return 0
        return sum(1 for p in self.folder.rglob(f"*{SUFFIX}") if not p.name.startswith(WRITING))

    def prune(self, keep: tuple[str, ...]) -> None:
        """Remove every file of the run's folder but the pieces whose key matches a pattern of ``keep`` (fnmatch,
        e.g. ``*/*/row``), and the folders left empty."""
        if self.folder is None or not self.folder.is_dir():
            return
        for path in sorted(self.folder.rglob("*"), key=lambda p: -len(p.parts)):
            if path.is_dir() and not path.is_symlink():
                if not any(path.iterdir()):
                    _remove(path)
                continue
            key = path.relative_to(self.folder).as_posix().removesuffix(SUFFIX)
            if path.name.startswith(WRITING) or path.suffix != SUFFIX or \
                    not any(fnmatch.fnmatchcase(key, pattern) for pattern in keep):
                _remove(path)

    def clear(self) -> None:
        """Remove the run's folder (or a file in its place) and everything in it."""
        if self.folder is not None and os.path.lexists(self.folder):
            _remove(self.folder)


def check_root(root: Path) -> None:
    """Raise CheckpointError when ``root``, the folder of every run's checkpoint folder, or a folder above it is a
    file."""
    for part in (root, *root.parents):
        if os.path.lexists(part) and not part.is_dir():
            raise CheckpointError(f"{part} is a file, not a folder: sigcube keeps its checkpoints in {root}; move the "
                                  "file away (or set SIGCUBE_CUBE_DIR to another folder)")


def _write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all: a temporary file beside it, flushed to disk, renamed into place
    (a folder in the way is removed first), then the folder's entry flushed."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=WRITING, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        os.replace(tmp, path)
    except BaseException:
        _remove(Path(tmp))
        raise
    try:
        folder = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(folder)
    except OSError:
        pass
    finally:
        os.close(folder)


def _remove(path: Path) -> None:
    """Remove a file, a link or a folder tree, if it is there and may be removed (what cannot be stays: a piece in
    its place is then refused by its write, in one line)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            path.unlink()
        except OSError:
            pass


def _safe(text: str) -> str:
    """A key's part as a file name: letters, digits and ``-_.=+`` kept, anything else and a leading dot as ``_``."""
    name = "".join(c if c.isalnum() or c in "-_.=+" else "_" for c in text)
    return "_" + name[1:] if name.startswith(".") or not name else name
