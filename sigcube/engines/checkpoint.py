"""Checkpoints of a long computation: finished pieces kept in a folder so that a killed run started again skips them.

A :class:`Checkpoint` maps keys (path-like strings) to Python values, each pickled to its own file written atomically
(a temporary file renamed into place: a killed writer leaves the piece absent, never half written). Its folder is named
by a fingerprint of everything the pieces depend on (the dataset cube's content hash, the settings, the sigcube
version), so a piece is reused only by the same computation; the pieces are deterministic, so a resumed run's result
is the uninterrupted run's. ``Checkpoint(None)`` keeps nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sigcube.version import __version__

T = TypeVar("T")


def fingerprint(settings: Any) -> str:
    """A short hash of JSON-able ``settings`` and the sigcube version: the name of a checkpoint folder."""
    text = json.dumps({"settings": settings, "sigcube": __version__}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Checkpoint:
    """Pieces of one computation under ``folder`` (None: nothing is kept)."""

    folder: Path | None

    def child(self, *parts: str) -> Checkpoint:
        """The checkpoint of a sub-computation (its pieces in a sub-folder)."""
        if self.folder is None:
            return self
        return Checkpoint(self.folder.joinpath(*(_safe(p) for p in parts)))

    def _path(self, key: str) -> Path:
        assert self.folder is not None
        return self.folder / f"{_safe(key)}.pickle"

    def get(self, key: str, make: Callable[[], T]) -> T:
        """The piece ``key``: read when a finished run kept it, else ``make()``'s value, kept."""
        if self.folder is None:
            return make()
        path = self._path(key)
        if path.is_file():
            with path.open("rb") as f:
                return pickle.load(f)
        value = make()
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".writing-")
        with os.fdopen(fd, "wb") as f:
            pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        return value

    def count(self) -> int:
        """How many pieces are kept (in every sub-folder)."""
        return 0 if self.folder is None or not self.folder.is_dir() else sum(1 for _ in self.folder.rglob("*.pickle"))

    def clear(self) -> None:
        """Remove every kept piece (the computation finished)."""
        if self.folder is not None and self.folder.is_dir():
            shutil.rmtree(self.folder)


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_.=" else "_" for c in text)
