"""`sigcube report sparc`: Σ-Gravity and MOND on SPARC next to the published figures."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from rich import box
from rich.console import Console
from rich.table import Table

from sigcube import metrics
from sigcube.constants import accel_from_velocity
from sigcube.conventions import MassToLight, SampleCuts
from sigcube.kernels import get_kernel
from sigcube.presets import Preset
from sigcube.sample import PointSet, pack_sparc

ROWS: tuple[tuple[str, str, str], ...] = (
    ("n_galaxies", "galaxies", "{:d}"),
    ("n_points", "points", "{:d}"),
    ("rms_sigma", "mean per-galaxy RMS, Σ-Gravity [km/s]", "{:.3f}"),
    ("rms_mond", "mean per-galaxy RMS, MOND [km/s]", "{:.3f}"),
    ("win_rate", "win rate Σ vs MOND [%]", "{:.2f}"),
    ("rar_scatter_velocity_sigma", "RAR scatter, velocity space, Σ [dex]", "{:.4f}"),
    ("rar_scatter_velocity_mond", "RAR scatter, velocity space, MOND [dex]", "{:.4f}"),
    ("rar_scatter_accel_sigma", "RAR scatter, acceleration space, Σ [dex]", "{:.4f}"),
    ("rar_scatter_accel_mond", "RAR scatter, acceleration space, MOND [dex]", "{:.4f}"),
    ("chi2_red_median_sigma", "median χ²_red, Σ-Gravity", "{:.3f}"),
    ("chi2_red_median_mond", "median χ²_red, MOND", "{:.3f}"),
)
SAMPLE_PUBLISHED = {"n_galaxies": "171", "n_points": "3373"}
"""The paper's sample (MODEL.md §5) — reproduced only with the default cuts."""


def evaluate(points: PointSet, kernel: str, params: dict[str, Any] | None = None) -> dict[str, np.ndarray]:
    """Run one kernel on ``points``; return predicted V and per-galaxy RMS, χ²."""
    v = get_kernel(kernel)(points.inputs, **(params or {}))
    p = points.inputs
    return {
        "v_pred": v,
        "rms": metrics.rms_per_galaxy(v, p["v_obs"], points.offsets),
        "chi2": metrics.chi2_per_galaxy(v, p["v_obs"], p["e_v_obs"], points.offsets),
    }


def sparc_report(
    cube: xr.Dataset,
    preset: Preset,
    cuts: SampleCuts | None = None,
    ml: MassToLight | None = None,
) -> dict[str, Any]:
    """Compute every figure of the SPARC report for ``preset`` on ``cube``.

    ``win_rate`` is in percent; scatters are in dex. ``published`` holds the paper's
    figures as printed and ``reproduced`` says, per figure, whether the computed value
    rounds to it at the printed precision.
    """
    cuts = cuts or SampleCuts()
    points = pack_sparc(cube, cuts, ml)
    params = preset.kernel_params()
    sig = evaluate(points, "sigma", params)
    mond = evaluate(points, "mond")
    v_obs, r = points.inputs["v_obs"], points.inputs["r"]
    g_obs = points.inputs["g_obs"]
    out: dict[str, Any] = {
        "preset": preset.name,
        "n_galaxies": points.n_galaxies,
        "n_points": points.n_points,
        "rms_sigma": float(sig["rms"].mean()),
        "rms_mond": float(mond["rms"].mean()),
        "win_rate": float(100 * metrics.win_rate(sig["rms"], mond["rms"])),
        "rar_scatter_velocity_sigma": float(metrics.rar_scatter_velocity(v_obs, sig["v_pred"])),
        "rar_scatter_velocity_mond": float(metrics.rar_scatter_velocity(v_obs, mond["v_pred"])),
        "rar_scatter_accel_sigma": float(metrics.rar_scatter_accel(g_obs, accel_from_velocity(sig["v_pred"], r))),
        "rar_scatter_accel_mond": float(metrics.rar_scatter_accel(g_obs, accel_from_velocity(mond["v_pred"], r))),
        "chi2_red_median_sigma": float(np.median(metrics.chi2_reduced(sig["chi2"], points.offsets))),
        "chi2_red_median_mond": float(np.median(metrics.chi2_reduced(mond["chi2"], points.offsets))),
    }
    published = {**(SAMPLE_PUBLISHED if cuts == SampleCuts() else {}), **preset.published}
    out["published"] = published
    out["reproduced"] = {key: rounds_to(out[key], text) for key, text in published.items()}
    out["conventions"] = {
        "description": preset.description,
        **{k: v for k, v in get_kernel("sigma").resolve(params).items()},
        "g_dagger_convention": preset.g_dagger,
        "mond_a0": get_kernel("mond").resolve()["a0"],
        "upsilon_disk": points.mass_to_light.upsilon_disk,
        "upsilon_bul": points.mass_to_light.upsilon_bul,
        **{f"cut_{k}": v for k, v in cuts.as_dict().items()},
        "point_cut": "drop points with V_bar <= 0, R <= 0 or V_obs <= 0",
        "rms": "per galaxy sqrt(mean((V_pred - V_obs)^2)), unweighted; plain mean over galaxies",
        "win_rate": "percent of galaxies with RMS_sigma < RMS_mond (strict)",
        "rar_scatter": "std over all points of log10(V_obs/V_pred) (velocity) and log10(g_obs/g_pred) (acceleration)",
        "chi2_red": "per galaxy sum(((V_pred - V_obs)/e_V)^2)/N; median over galaxies",
        "cube_content_sha256": cube.attrs.get("content_sha256", ""),
    }
    out["excluded_galaxies"] = points.excluded
    return out


def rounds_to(value: float, printed: str) -> bool:
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    return f"{value:.{decimals}f}" == printed


def render(result: dict[str, Any], console: Console | None = None) -> None:
    """Print one preset's report as a rich table plus its conventions."""
    console = console or Console()
    table = Table(title=f"SPARC — preset [bold]{result['preset']}[/bold]", title_justify="left")
    for col, justify in (("quantity", "left"), ("sigcube", "right"), ("published", "right"), ("", "left")):
        table.add_column(col, justify=justify)
    for key, label, fmt in ROWS:
        printed = result["published"].get(key, "—")
        mark = ""
        if key in result["reproduced"]:
            mark = "[green]✓ reproduced[/green]" if result["reproduced"][key] else "[red]✗ differs[/red]"
        table.add_row(label, fmt.format(result[key]), printed, mark)
    console.print(table)
    conv = result["conventions"]
    console.print(f"[dim]conventions:[/dim] {conv['description']}")
    keys = ("window", "rd_source", "amplitude_mode", "A0", "k", "g_dagger", "g_dagger_convention",
            "upsilon_disk", "upsilon_bul", "cut_min_points", "cut_quality", "cut_min_inclination",
            "cut_max_inclination")
    console.print("[dim]" + ", ".join(f"{k}={_fmt(conv[k])}" for k in keys) + "[/dim]")
    if result["excluded_galaxies"]:
        names = ", ".join(sorted(result["excluded_galaxies"]))
        console.print(f"[dim]excluded ({len(result['excluded_galaxies'])}): {names}[/dim]")


def render_summary(results: list[dict[str, Any]], console: Console | None = None) -> None:
    """One row per preset: RMS, win rate and the preset's headline scatter vs published."""
    console = console or Console()
    table = Table(title="SPARC: each published Σ-Gravity row and its preset", title_justify="left",
                  box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("preset", no_wrap=True)
    for col in ("RMS Σ [km/s]", "win [%]", "RAR scatter [dex]", ""):
        table.add_column(col, justify="right" if col else "left", no_wrap=True)
    for res in results:
        pub = res["published"]
        skey = next(k for k in pub if k.startswith("rar_scatter") and k.endswith("_sigma"))
        ok = all(res["reproduced"].values())
        table.add_row(
            res["preset"],
            f"{res['rms_sigma']:.3f} ({pub['rms_sigma']})",
            f"{res['win_rate']:.2f} ({pub['win_rate']})",
            f"{'vel' if 'velocity' in skey else 'acc'} {res[skey]:.4f} ({pub[skey]})",
            "[green]✓[/green]" if ok else "[red]✗ " + ",".join(k for k, v in res["reproduced"].items() if not v) + "[/red]",
        )
    console.print(table)
    first = results[0]
    console.print(
        f"{first['n_galaxies']} galaxies, {first['n_points']} points. MOND (every preset): RMS "
        f"{first['rms_mond']:.3f} ({first['published']['rms_mond']}) km/s, velocity scatter "
        f"{first['rar_scatter_velocity_mond']:.4f} ({first['published']['rar_scatter_velocity_mond']}) dex."
    )
    console.print("[dim]Published figures in parentheses; ✓ = every computed figure rounds to the printed digits. "
                  "The paper's single 'canonical' label covers these four computations.[/dim]")


def _fmt(v: Any) -> str:
    return f"{v:.5g}" if isinstance(v, float) else str(v)
