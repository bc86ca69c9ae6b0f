"""Plot dimensions labelled from a variable's ``long_name`` and ``units`` attributes."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from typing import Any

import holoviews as hv
import xarray as xr


def fmt(value: Any) -> str:
    """A parameter value as a short string (4 significant digits for numbers)."""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def dimension(name: str, attrs: Mapping[str, Any], label: str | None = None) -> hv.Dimension:
    """A holoviews dimension labelled ``long_name (units)``; no unit shown when dimensionless."""
    return hv.Dimension(name, label=label or attrs.get("long_name") or name, unit=attrs.get("units") or None,
                        value_format=fmt)


def dim_of(ds: xr.Dataset, name: str) -> hv.Dimension:
    """The labelled dimension of variable or coordinate ``name`` of ``ds``."""
    return dimension(name, ds[name].attrs)


def log_axes(ds: xr.Dataset) -> set[str]:
    """Swept parameters whose grid the sweep spec declares geometric (``logspace``)."""
    grid = tomllib.loads(ds.attrs.get("spec_text", "")).get("grid", {})
    return {name for name, table in grid.items() if "logspace" in table}


NORM = {"framewise": True}
"""Axis ranges follow each frame (a galaxy, a slider position), and holoviews does not scan
every frame of a view to normalise it (slow for many frames). Not ``axiswise``: with it a
DynamicMap's overlays keep the first frame's ranges."""
