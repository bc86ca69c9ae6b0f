"""`sigcube report sweep`: the optimum of every global metric of a result cube."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import xarray as xr
from rich.console import Console
from rich.table import Table

from sigcube.kernels import get_kernel
from sigcube.metrics import get_metric, metric_names
from sigcube.sweeps.result import best_parameters, parameter_dims


def sweep_report(ds: xr.Dataset) -> dict[str, Any]:
    """Best grid point per global metric, and every metric at the fixed-parameter point.

    The reference point is the spec's fixed parameters with each swept parameter at its
    kernel default when the grid contains it (e.g. the canonical A0 and k).
    """
    dims = parameter_dims(ds)
    metrics = [name for name in metric_names("global") if name in ds]
    kernel = get_kernel(ds.attrs["kernel"])
    fixed = json.loads(ds.attrs["fixed_parameters"])
    out: dict[str, Any] = {
        "sweep": ds.attrs["sweep_name"],
        "kernel": kernel.name,
        "baseline": ds.attrs["baseline"],
        "grid": {d: int(ds.sizes[d]) for d in dims},
        "fixed_parameters": fixed,
        "best": {name: best_parameters(ds, name) for name in metrics},
    }
    ref = {d: kernel.parameter(d).default for d in dims}
    on_grid = all(np.any(ds[d].values == v) for d, v in ref.items())
    if on_grid:
        point = ds.sel(ref)
        out["default_point"] = {**ref, **{name: float(point[name]) for name in metrics}}
    return out


def render(result: dict[str, Any], console: Console | None = None) -> None:
    """Print the sweep report as a rich table."""
    console = console or Console()
    grid = " × ".join(f"{k}[{v}]" for k, v in result["grid"].items())
    if not result["best"]:
        console.print(f"sweep {result['sweep']!r}: {result['kernel']} over {grid} stored no global metric "
                      "(only per-object ones): no best grid point", highlight=False, markup=False)
        return
    table = Table(title=f"sweep {result['sweep']!r}: {result['kernel']} over {grid} (baseline {result['baseline']})",
                  title_justify="left")
    dims = list(result["grid"])
    table.add_column("metric")
    table.add_column("best", justify="right")
    for d in dims:
        table.add_column(f"at {d}", justify="right")
    if "default_point" in result:
        table.add_column("at defaults", justify="right")
    for name, best in result["best"].items():
        m = get_metric(name)
        unit = m.table_units or m.units
        row = [f"{name} [{unit}]" if unit else name, f"{m.in_table_units(best[name]):.4g}", *(_fmt(best[d]) for d in dims)]
        if "default_point" in result:
            row.append(f"{m.in_table_units(result['default_point'][name]):.4g}")
        table.add_row(*row)
    console.print(table)
    if "default_point" in result:
        ref = ", ".join(f"{d}={_fmt(result['default_point'][d])}" for d in dims)
        console.print(f"[dim]defaults: {ref}[/dim]")


def _fmt(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)
