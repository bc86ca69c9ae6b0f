"""`sigcube report sparc`: Σ-Gravity and MOND on SPARC next to the figures the seeds print.

Every figure comes from :mod:`sigcube.published` by key (value as printed, seed file and
section); a preset (:mod:`sigcube.presets`) names which figures its results are set against.
The verdict is computed: a figure is reproduced when the computed value rounds to the
printed digits. Win rates are fractions here and percentages only where printed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sigcube import metrics
from sigcube.constants import accel_from_velocity
from sigcube.conventions import MassToLight, SampleCuts
from sigcube.kernels import get_kernel
from sigcube.presets import FRACTIONS, Preset
from sigcube.published import Figure, figure
from sigcube.sample import PointSet, pack_sparc

_RAR = metrics.RAR_SCATTERS
ROWS: tuple[tuple[str, str, str], ...] = (
    ("n_galaxies", "galaxies", "{:d}"),
    ("n_points", "points", "{:d}"),
    ("rms_sigma", "mean per-galaxy RMS, Σ-Gravity [km/s]", "{:.3f}"),
    ("rms_mond", "mean per-galaxy RMS, MOND [km/s]", "{:.3f}"),
    ("win_fraction", "win rate, Σ beats MOND [%]", "{:.2%}"),
    ("win_fraction_mond", "win rate, MOND beats Σ [%]", "{:.2%}"),
    ("rar_rms_accel_sigma", f"RAR scatter Σ, {_RAR['rar_rms_accel']} [dex]", "{:.4f}"),
    ("rar_scatter_velocity_sigma", f"RAR scatter Σ, {_RAR['rar_scatter_velocity']} [dex]", "{:.4f}"),
    ("rar_scatter_accel_sigma", f"RAR scatter Σ, {_RAR['rar_scatter_accel']} [dex]", "{:.4f}"),
    ("rar_rms_accel_mond", "RAR scatter MOND, paper §3.5 definition [dex]", "{:.4f}"),
    ("rar_scatter_velocity_mond", "RAR scatter MOND, std, velocity space [dex]", "{:.4f}"),
    ("rar_scatter_accel_mond", "RAR scatter MOND, std, acceleration space [dex]", "{:.4f}"),
    ("chi2_red_median_sigma", "median χ²_red, Σ-Gravity", "{:.3f}"),
    ("chi2_red_median_mond", "median χ²_red, MOND", "{:.3f}"),
)
"""Report quantities: key, label, display format (fractions shown as %)."""


def evaluate(points: PointSet, kernel: str, params: dict[str, Any] | None = None) -> dict[str, np.ndarray]:
    """Run one kernel on ``points``; return predicted V and per-galaxy RMS, χ²."""
    v = get_kernel(kernel)(points.inputs, **(params or {}))
    p = points.inputs
    return {
        "v_pred": v,
        "rms": metrics.rms_per_galaxy(v, p["v_obs"], points.offsets),
        "chi2": metrics.chi2_per_galaxy(v, p["v_obs"], p["e_v_obs"], points.offsets),
    }


def rar_scatters(points: PointSet, v_pred: np.ndarray) -> dict[str, float]:
    """The three RAR scatter definitions of :mod:`sigcube.metrics` for ``v_pred`` on ``points`` [dex]."""
    p = points.inputs
    g_pred = accel_from_velocity(v_pred, p["r"])
    return {
        "rar_rms_accel": float(metrics.rar_rms_accel(p["g_obs"], g_pred)),
        "rar_scatter_velocity": float(metrics.rar_scatter_velocity(p["v_obs"], v_pred)),
        "rar_scatter_accel": float(metrics.rar_scatter_accel(p["g_obs"], g_pred)),
    }


def comparison(fig: Figure, quantity: str, computed: float) -> dict[str, Any]:
    """One computed value next to one figure: the figure's value, citation and origin, and the verdict."""
    scale = 100.0 if quantity in FRACTIONS else 1.0
    return {
        "quantity": quantity,
        "computed": computed,
        "key": fig.key,
        "value": fig.value,
        "unit": fig.unit,
        "what": fig.what,
        "citation": fig.citation(),
        "seed": fig.seed,
        "section": fig.section,
        "origin": fig.origin,
        "reproduced": fig.reproduced_by(computed, scale),
    }


def sparc_report(
    cube: xr.Dataset,
    preset: Preset,
    cuts: SampleCuts | None = None,
    ml: MassToLight | None = None,
) -> dict[str, Any]:
    """Compute every quantity of the SPARC report for ``preset`` on ``cube`` and compare it.

    Win rates are fractions (``win_fraction``: Σ beats MOND; ``win_fraction_mond``: MOND
    beats Σ); RMS in km/s; scatters in dex, three definitions each. ``figures`` lists each
    comparison (:func:`comparison`); ``findings`` says in sentences what is and is not reproduced.
    """
    cuts = cuts or SampleCuts()
    points = pack_sparc(cube, cuts, ml)
    params = preset.kernel_params()
    sig = evaluate(points, "sigma", params)
    mond = evaluate(points, "mond")
    out: dict[str, Any] = {
        "preset": preset.name,
        "n_galaxies": points.n_galaxies,
        "n_points": points.n_points,
        "rms_sigma": float(sig["rms"].mean()),
        "rms_mond": float(mond["rms"].mean()),
        "win_fraction": float(metrics.win_rate(sig["rms"], mond["rms"])),
        "win_fraction_mond": float(metrics.win_rate(mond["rms"], sig["rms"])),
        **{f"{k}_sigma": v for k, v in rar_scatters(points, sig["v_pred"]).items()},
        **{f"{k}_mond": v for k, v in rar_scatters(points, mond["v_pred"]).items()},
        "chi2_red_median_sigma": float(np.median(metrics.chi2_reduced(sig["chi2"], points.offsets))),
        "chi2_red_median_mond": float(np.median(metrics.chi2_reduced(mond["chi2"], points.offsets))),
    }
    out["figures"] = [comparison(figure(key), quantity, out[quantity])
                      for quantity, keys in preset.figures.items() for key in keys]
    published = [c for c in out["figures"] if c["origin"] == "published"]
    out["published"] = {c["quantity"]: c["value"] for c in published}
    out["reproduced"] = {c["quantity"]: c["reproduced"] for c in published}
    out["findings"] = findings(preset, out["figures"], cuts)
    out["conventions"] = {
        "what": preset.what,
        "description": preset.description,
        **{k: v for k, v in get_kernel("sigma").resolve(params).items()},
        "g_dagger_convention": preset.g_dagger,
        "mond_a0": get_kernel("mond").resolve()["a0"],
        "upsilon_disk": points.mass_to_light.upsilon_disk,
        "upsilon_bul": points.mass_to_light.upsilon_bul,
        **{f"cut_{k}": v for k, v in cuts.as_dict().items()},
        "point_cut": "drop points with V_bar <= 0, R <= 0 or V_obs <= 0",
        "rms": "per galaxy sqrt(mean((V_pred - V_obs)^2)), unweighted; plain mean over galaxies",
        "win_rate": "win_fraction: fraction of galaxies with RMS_sigma < RMS_mond (strict); the seeds print percent",
        "rar_scatter": "; ".join(f"{k}: {v}" for k, v in _RAR.items()),
        "chi2_red": "per galaxy sum(((V_pred - V_obs)/e_V)^2)/N; median over galaxies",
        "cube_content_sha256": cube.attrs.get("content_sha256", ""),
    }
    out["excluded_galaxies"] = points.excluded
    return out


def _shown(c: dict[str, Any]) -> str:
    """The computed value of a comparison with one digit more than printed (a fraction as %)."""
    decimals = figure(c["key"]).decimals + 1
    if c["quantity"] in FRACTIONS:
        return f"{100 * c['computed']:.{decimals}f}%"
    return f"{c['computed']:.{decimals}f}"


def findings(preset: Preset, figures: list[dict[str, Any]], cuts: SampleCuts) -> list[str]:
    """Sentences derived from the comparisons: what this convention does and does not reproduce."""
    out: list[str] = []
    published = [c for c in figures if c["origin"] == "published"]
    sample = [c for c in published if c["quantity"] == "n_galaxies"]
    sigma = [c for c in published if c["quantity"] in ("rms_sigma", "win_fraction", "win_fraction_mond")]
    mond = [c for c in published if c["quantity"] == "rms_mond"]
    out += [f"Sample: {c['computed']} galaxies, printed {c['value']} ({c['citation']}) "
            f"{'✓' if c['reproduced'] else '✗'}." for c in sample]
    missed = [c for c in sigma if not c["reproduced"]]
    if missed:
        out.append(f"{preset.what[0].upper()}{preset.what[1:]} does not give the printed number"
                   f"{'s' if len(missed) > 1 else ''}: "
                   + "; ".join(f"{c['value']}{_unit(c)} ({c['citation']}) → sigcube {_shown(c)}" for c in missed) + ".")
    hit = [c for c in sigma if c["reproduced"]]
    if hit:
        out.append(f"{preset.what[0].upper()}{preset.what[1:]} reproduces at the printed precision: "
                   + ", ".join(f"{c['value']}{_unit(c)} ({c['citation']}) → sigcube {_shown(c)}" for c in hit) + ".")
    out += [f"MOND: {c['value']}{_unit(c)} ({c['citation']}) {'✓' if c['reproduced'] else '✗'} → sigcube {_shown(c)}."
            for c in mond]
    for key in dict.fromkeys(c["key"] for c in published if c["quantity"].startswith("rar_")):
        out.append(_scatter_sentence([c for c in published if c["key"] == key]))
    repo = [c for c in figures if c["origin"] != "published"]
    if repo:
        same = all(c["reproduced"] for c in repo)
        out.append(f"Numbers from re-running the author's public scripts, printed nowhere in the seeds, are "
                   f"{'reproduced' if same else 'not all reproduced'}: "
                   + ", ".join(f"{c['value']}{_unit(c)} {'✓' if c['reproduced'] else '✗'}" for c in repo) + ".")
    if cuts != SampleCuts():
        out.append("The sample cuts differ from the paper's (≥ 5 points, every quality flag and inclination): "
                   "the seed figures are for the paper's sample.")
    return out


def _unit(c: dict[str, Any]) -> str:
    return f" {c['unit']}" if c["unit"] and c["unit"] != "%" else ""


def _scatter_sentence(comparisons: list[dict[str, Any]]) -> str:
    """How the printed RAR scatter relates to each definition it was compared with."""
    label = f"{comparisons[0]['value']} dex ({comparisons[0]['citation']})"
    who = "MOND's" if comparisons[0]["quantity"].endswith("_mond") else "The"

    def definition(c: dict[str, Any]) -> str:
        formula, _, words = _RAR[c["quantity"].rsplit("_", 1)[0]].partition(": ")
        return f"{formula} ({words.split(' (')[0]}) = {c['computed']:.4f}"

    paper = [c for c in comparisons if c["quantity"].startswith("rar_rms_accel")]
    others = [c for c in comparisons if c not in paper]
    yes = [definition(c) for c in others if c["reproduced"]]
    if paper and not paper[0]["reproduced"]:
        text = (f"{who} printed {label} does not follow the paper's own §3.5 formula "
                f"({definition(paper[0])} here)")
        return text + (f"; it is reproduced by {' and '.join(yes)}." if yes else ".")
    if paper:
        both = [definition(paper[0])] + yes
        return f"{who} printed {label} is reproduced by {' and by '.join(both)}."
    return f"{who} printed {label}: " + ", ".join(f"{definition(c)} {'✓' if c['reproduced'] else '✗'}" for c in others) + "."


def rounds_to(value: float, printed: str) -> bool:
    """True when ``value`` formatted with the printed number of decimals equals ``printed``."""
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    return f"{value:.{decimals}f}" == printed


def _mark(c: dict[str, Any]) -> str:
    ok = "[green]✓ reproduced[/green]" if c["reproduced"] else "[red]✗ differs[/red]"
    return ok if c["origin"] == "published" else ok + " [dim](not a seed figure)[/dim]"


def render(result: dict[str, Any], console: Console | None = None) -> None:
    """Print one preset's report: every quantity, the figures it is compared with, the findings."""
    console = console or Console()
    table = Table(title=f"SPARC — preset [bold]{result['preset']}[/bold]: {escape(result['conventions']['what'])}",
                  title_justify="left")
    for col, justify in (("quantity", "left"), ("sigcube", "right"), ("compared with", "right"), ("", "left")):
        table.add_column(col, justify=justify)
    by_quantity: dict[str, list[dict[str, Any]]] = {}
    for c in result["figures"]:
        by_quantity.setdefault(c["quantity"], []).append(c)
    for key, label, fmt in ROWS:
        value = fmt.format(result[key])
        comps = by_quantity.get(key) or [None]
        for i, c in enumerate(comps):
            shown = "—" if c is None else f"{c['value']}{_unit(c)} ({c['citation']})"
            table.add_row(escape(label) if i == 0 else "", value if i == 0 else "", escape(shown),
                          "" if c is None else _mark(c))
    console.print(table)
    for sentence in result["findings"]:
        console.print(escape(sentence), highlight=False)
    conv = result["conventions"]
    console.print(f"[dim]conventions: {escape(conv['description'])}[/dim]", highlight=False)
    keys = ("window", "rd_source", "amplitude_mode", "A0", "k", "g_dagger", "g_dagger_convention",
            "upsilon_disk", "upsilon_bul", "cut_min_points", "cut_quality", "cut_min_inclination",
            "cut_max_inclination")
    console.print("[dim]" + ", ".join(f"{k}={_fmt(conv[k])}" for k in keys) + "[/dim]")
    if result["excluded_galaxies"]:
        names = ", ".join(sorted(result["excluded_galaxies"]))
        console.print(f"[dim]excluded ({len(result['excluded_galaxies'])}): {names}[/dim]")


def _cell(result: dict[str, Any], quantity: str) -> str:
    value = f"{result[quantity]:.2%}" if quantity in FRACTIONS else f"{result[quantity]:.3f}"
    comps = [c for c in result["figures"] if c["quantity"] == quantity and c["origin"] == "published"]
    if not comps:
        return f"{value} [dim](no seed figure)[/dim]"
    c = comps[0]
    mark = "[green]✓[/green]" if c["reproduced"] else "[red]✗[/red]"
    return f"{value} {mark}\n{c['value']}{_unit(c)} ({c['citation']})"


def _scatter_cell(result: dict[str, Any]) -> str:
    parts = []
    for name, short in zip(_RAR, ("§3.5 rms", "std vel", "std acc")):
        q = f"{name}_sigma"
        comps = [c for c in result["figures"] if c["quantity"] == q and c["origin"] == "published"]
        mark = "" if not comps else (" [green]✓[/green]" if comps[0]["reproduced"] else " [red]✗[/red]")
        parts.append(f"{short} {result[q]:.4f}{mark}")
    printed = {c["value"] + f" dex ({c['citation']})" for c in result["figures"]
               if c["quantity"].startswith("rar_") and c["quantity"].endswith("_sigma") and c["origin"] == "published"}
    return "\n".join(parts) + (f"\nvs {', '.join(sorted(printed))}" if printed else "\n[dim](no seed figure)[/dim]")


def render_summary(results: list[dict[str, Any]], console: Console | None = None) -> None:
    """One row per preset: RMS, win rate and the three RAR scatters, each against its seed figure."""
    console = console or Console()
    table = Table(title="SPARC: each preset next to the figures the seeds print", title_justify="left",
                  box=box.SIMPLE_HEAD, pad_edge=False, show_lines=True)
    table.add_column("preset", no_wrap=True)
    for col in ("RMS Σ [km/s]", "win Σ vs MOND", "RAR scatter Σ [dex]"):
        table.add_column(escape(col))
    for res in results:
        table.add_row(res["preset"], _cell(res, "rms_sigma"), _cell(res, "win_fraction"), _scatter_cell(res))
    console.print(table)
    first = results[0]
    console.print(
        f"{first['n_galaxies']} galaxies, {first['n_points']} points. MOND (every preset): RMS "
        f"{first['rms_mond']:.3f} km/s, RAR scatter {first['rar_rms_accel_mond']:.4f} (§3.5) / "
        f"{first['rar_scatter_velocity_mond']:.4f} (std vel) dex.", highlight=False)
    common = [s for s in results[0]["findings"] if all(s in res["findings"] for res in results)]
    for sentence in common:
        console.print(f"[bold]every preset[/bold]: {escape(sentence)}", highlight=False)
    for res in results:
        for sentence in res["findings"]:
            if sentence not in common:
                console.print(f"[bold]{res['preset']}[/bold]: {escape(sentence)}", highlight=False)
    console.print("[dim]✓ = the computed value rounds to the printed digits; the citation is the seed section "
                  "that prints it. The seeds call several of these computations 'canonical'.[/dim]")


def _fmt(v: Any) -> str:
    return f"{v:.5g}" if isinstance(v, float) else str(v)
