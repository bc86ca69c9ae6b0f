"""`sigcube report kernels`: every galaxy kernel at its defaults on the paper's SPARC sample."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sigcube.conventions import MassToLight, SampleCuts
from sigcube.io.rotation_curves import pack_sparc
from sigcube.model.kernels import get_kernel, kernel_names
from sigcube.model.metrics import get_metric, metric_names
from sigcube.model.points import PointSet
from sigcube.study.presets import BASELINE
from sigcube.study.reports.sparc import global_metrics, object_rms

CONVENTIONS = (
    "Each kernel at its registered defaults ('sigma' = preset paper), no per-galaxy fitting. "
    "RMS: per galaxy √mean((V_pred − V_obs)²), unweighted, mean over galaxies. "
    "χ²_red: Σ((V_pred − V_obs)/e_V)²/N per galaxy, median. "
    "RAR scatter [dex]: √mean[log10(g_obs/g_pred)²] (the paper's §3.5 definition, about zero), and std over all "
    "points of log10(V_obs/V_pred) (velocity, matches the printed 0.097) and of log10(g_obs/g_pred) (acceleration). "
    "Win: % of galaxies with RMS below MOND's (strict; a fraction in JSON). "
    "Params: the kernel's global numeric parameters (switches not counted)."
)


def kernel_row(points: PointSet, name: str, baseline_rms: np.ndarray) -> dict[str, Any]:
    """The global metrics of one kernel at its defaults (``win_rate`` a fraction, None for the baseline)."""
    kernel = get_kernel(name)
    values = global_metrics(points, kernel(points.inputs), None if name == BASELINE else baseline_rms)
    return {
        "kernel": name,
        "source": kernel.source,
        "n_params": len(kernel.numeric_parameters),
        **{metric: values.get(metric) for metric in metric_names("global")},
        "n_galaxies": points.n_galaxies,
        "n_points": points.n_points,
        "cuts": points.cuts.as_dict(),
        "mass_to_light": {"upsilon_disk": points.mass_to_light.upsilon_disk,
                          "upsilon_bul": points.mass_to_light.upsilon_bul},
    }


def kernel_report(cube: xr.Dataset, cuts: SampleCuts | None = None, ml: MassToLight | None = None) -> list[dict]:
    """One row per registered kernel at its defaults on ``cube`` (paper sample by default).

    The kernels the packed sample serves come first, by mean RMS; then, for each kernel that reads an
    input the cube cannot give (a user's table without ``R_disk``, ``L36``, …), a row holding only its
    ``kernel``, ``source`` and the reason it was ``skipped``.
    """
    points = pack_sparc(cube, cuts, ml)
    baseline_rms = object_rms(points, get_kernel(BASELINE)(points.inputs))
    rows, skipped = [], []
    for name in kernel_names():
        missing = get_kernel(name).missing_inputs(points.inputs)
        if missing:
            skipped.append({"kernel": name, "source": get_kernel(name).source,
                            "skipped": f"the cube gives no {', '.join(missing)}"})
        else:
            rows.append(kernel_row(points, name, baseline_rms))
    return sorted(rows, key=lambda row: row["mean_rms"]) + skipped


DECIMALS = {"km / s": 2, "": 2, "dex": 4, "%": 1}
"""Decimals of the table, by the unit it prints in."""


def render(rows: list[dict], console: Console | None = None) -> None:
    """Print the kernel table, the kernels skipped (and why) and the conventions behind it."""
    console = console or Console()
    skipped = [row for row in rows if "skipped" in row]
    rows = [row for row in rows if "skipped" not in row]
    first = rows[0]
    table = Table(title=f"SPARC: every kernel at its defaults ({first['n_galaxies']} galaxies, "
                  f"{first['n_points']} points)", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for col, justify in (("kernel", "left"), ("source", "left"), ("params", "right")):
        table.add_column(col, justify=justify, no_wrap=col != "source")
    for name in metric_names("global"):
        m = get_metric(name)
        unit = m.table_units or m.units
        vs = f" vs {BASELINE}" if name == "win_rate" else ""
        label = f"{m.short}{vs}" + (f" [{unit.replace(' / ', '/')}]" if unit else "")
        table.add_column(escape(label), justify="right", no_wrap=True)
    for row in rows:
        cells = []
        for name in metric_names("global"):
            m = get_metric(name)
            value = row[name]
            cells.append("baseline" if value is None else f"{m.in_table_units(value):.{DECIMALS[m.table_units or m.units]}f}")
        table.add_row(row["kernel"], row["source"], str(row["n_params"]), *cells)
    console.print(table)
    for row in skipped:
        console.print(f"not evaluated: {escape(row['kernel'])} — {escape(row['skipped'])}", highlight=False)
    ml, cuts = first["mass_to_light"], first["cuts"]
    console.print(f"[dim]Sample: {', '.join(f'{k}={v}' for k, v in cuts.items())}; points with V_bar, R or V_obs "
                  f"≤ 0 dropped. Υ_disk = {ml['upsilon_disk']}, Υ_bul = {ml['upsilon_bul']}. {escape(CONVENTIONS)}[/dim]")
