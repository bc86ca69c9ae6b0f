"""Exceptions raised by sigcube.

Every error a user can trigger with bad input derives from :class:`SigcubeError`,
so the CLI can print one clear message instead of a traceback.
"""

from __future__ import annotations

from pathlib import Path


class SigcubeError(Exception):
    """Base class of every user-facing sigcube error."""


class DataSourceError(SigcubeError):
    """A dataset file cannot be found, fetched, or trusted."""


class HashMismatchError(DataSourceError):
    """A file's sha256 differs from the one recorded in its manifest."""

    def __init__(self, path: Path | str, expected: str, actual: str) -> None:
        self.path, self.expected, self.actual = Path(path), expected, actual
        super().__init__(
            f"{path}: sha256 mismatch: the manifest records {expected} but the file has {actual}. "
            "The file is corrupt, truncated or a different release; replace it with the published copy."
        )


class ParseError(SigcubeError):
    """A data file does not have the layout its reader expects."""

    def __init__(self, path: Path | str, message: str, line: int | None = None) -> None:
        self.path, self.line = Path(path), line
        where = f"{path}, line {line}" if line is not None else f"{path}"
        super().__init__(f"{where}: {message}")


class SpecError(SigcubeError):
    """A sweep spec that cannot run: bad syntax, a key of the wrong type or range, unknown names."""


class SchemaError(SigcubeError):
    """A cube on disk does not match the schema sigcube expects."""


class StoreExistsError(SigcubeError):
    """A different store already exists where a new one would be written."""
