"""Parameter sweeps: spec (TOML) → grid blocks → Dask → reductions → result cube (Zarr).

The names below are imported on first use, so that a module that needs only the spec's schema (fits, comparisons)
does not load the sweep engine."""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {"SweepSummary": "engine", "run_sweep": "engine", "best_parameters": "result", "best_per_galaxy": "result",
          "open_result": "result", "SpecError": "spec", "SweepSpec": "spec", "load_spec": "spec", "parse_spec": "spec"}
"""Where each public name lives (SpecError is re-exported for ``from sigcube.engines.sweep import SpecError``; it is
documented in :mod:`sigcube.errors`)."""

__all__ = ["SweepSpec", "SweepSummary", "best_parameters", "best_per_galaxy", "load_spec",
           "open_result", "parse_spec", "run_sweep"]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])
