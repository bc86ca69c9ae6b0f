"""The installed version of sigcube (``0+unknown`` in a source tree that was never installed)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("sigcube")
except PackageNotFoundError:
    __version__ = "0+unknown"
