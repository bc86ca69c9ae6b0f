"""`sigcube report sparc`: Σ-Gravity and MOND on SPARC next to the figures the seeds print.

Every figure comes from :mod:`sigcube.study.published` by key (value as printed, seed file and
section); a preset (:mod:`sigcube.study.presets`) names which figures its results are set against.
The verdict is computed (:meth:`sigcube.study.published.Figure.verdict`): a figure is reproduced when the
computed value rounds to the printed digits, except a count that sigcube's own sample cut was made to give, which
is labelled "count matched by construction" (SI §3.1's own selection chain is computed beside it). A preset that
uses the scripts' g† is also evaluated with astropy's, and what its ✓ rest on is said in the findings. Win rates are
fractions here and percentages only where printed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sigcube.constants import G_DAGGER_CONVENTIONS
from sigcube.conventions import MassToLight, SampleCuts
from sigcube.io.rotation_curves import pack_sparc
from sigcube.model import metrics
from sigcube.model.inputs import baryonic_velocity
from sigcube.model.kernels import get_kernel
from sigcube.model.kernels.presets import Preset
from sigcube.model.metrics import RAR_SCATTERS, get_metric, metric_names
from sigcube.model.points import PointSet
from sigcube.study.presets import BASELINE, NOT_IN_SEEDS, figures, split_quantity
from sigcube.stats.verdicts import fraction
from sigcube.study.published import (
    COUNT_MATCHED, COUNTS_BY_CONSTRUCTION, REPRODUCED, Figure, figure, not_the_seed_sample,
)

DIGITS = {"km / s": 3, "dex": 4, "%": 2, "": 3}
"""Decimals a report table prints, by the unit it prints in."""
ASTROPY = "astropy"
"""The g† convention computed from astropy's constants (:data:`sigcube.constants.G_DAGGER_CONVENTIONS`)."""


def global_metrics(points: PointSet, v_pred: np.ndarray, baseline_rms: np.ndarray | None = None) -> dict[str, float]:
    """The global metrics of :mod:`sigcube.model.metrics` for ``v_pred`` on ``points`` (win rate against ``baseline_rms``)."""
    p = points.inputs
    values = metrics.compute(v_pred, p["v_obs"], p["e_v_obs"], points.offsets, baseline_rms)
    return {name: float(values[name]) for name in metric_names("global") if name in values}


def object_rms(points: PointSet, v_pred: np.ndarray) -> np.ndarray:
    """Per-object RMS of ``v_pred`` on ``points`` [km/s]."""
    p = points.inputs
    return metrics.object_metrics(v_pred, p["v_obs"], p["e_v_obs"], points.offsets, ["rms"])["rms"]


def value_of(result: dict[str, Any], quantity: str) -> float:
    """A report quantity: ``n_galaxies`` or ``<kernel>.<metric>`` (a global metric, in its registry unit)."""
    parts = split_quantity(quantity)
    return result[quantity] if parts is None else result[parts[0]][parts[1]]


def scale_for(quantity: str, unit: str) -> float:
    """Factor from a quantity's unit to ``unit`` (a win rate as the seeds' percent)."""
    parts = split_quantity(quantity)
    return 1.0 if parts is None else get_metric(parts[1]).scale_to(unit)


def comparison(fig: Figure, quantity: str, computed: float) -> dict[str, Any]:
    """One computed value next to one figure: the figure's value, citation and origin, and the verdict.

    ``verdict`` is one of :data:`sigcube.study.published.VERDICTS`; ``reproduced`` is True or False for
    ``reproduced``/``differs`` and None for a count matched by construction (neither ✓ nor ✗)."""
    verdict = fig.verdict(computed, scale_for(quantity, fig.unit))
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
        "verdict": verdict,
        "reproduced": None if verdict == COUNT_MATCHED else verdict == REPRODUCED,
        **({"by_construction": COUNTS_BY_CONSTRUCTION[fig.key]} if verdict == COUNT_MATCHED else {}),
    }


def si_sample_chain(cube: xr.Dataset, ml: MassToLight | None = None) -> dict[str, Any]:
    """SI §3.1's sample selection as it prints it, run on ``cube``: every galaxy, then those with a valid
    V_bar (> 0) at all radii, then those of them with at least :class:`SampleCuts`' minimum of points (5)."""
    ml = ml or MassToLight()
    v_bar = baryonic_velocity(cube["v_gas"].values, cube["v_disk"].values, cube["v_bul"].values, ml)
    measured = np.isfinite(cube["r"].values)
    with np.errstate(invalid="ignore"):
        valid = np.all(~measured | (v_bar > 0), axis=1)
    minimum = SampleCuts().min_points
    enough = valid & (measured.sum(axis=1) >= minimum)
    names = np.array([str(g) for g in cube["galaxy"].values])
    return {"n_galaxies": len(names), "n_valid_v_bar": int(valid.sum()), "invalid_v_bar": names[~valid].tolist(),
            "min_points": minimum, "n_sample": int(enough.sum()), "too_few_points": names[valid & ~enough].tolist(),
            "printed": {"n_galaxies": figure("sparc.sample.n_database").label(),
                        "n_valid_v_bar": figure("sparc.sample.n_valid_v_bar").label(),
                        "n_sample": figure("sparc.sample.n_galaxies").label()}}


def _kernel_figures(preset: Preset, result: dict[str, Any]) -> list[dict[str, Any]]:
    """The comparisons of ``preset``'s own kernel quantities with ``result``'s values."""
    return [comparison(figure(key), quantity, value_of(result, quantity))
            for quantity, keys in figures(preset).items() if (split_quantity(quantity) or ("",))[0] == preset.kernel
            for key in keys]


def sparc_report(
    cube: xr.Dataset,
    preset: Preset,
    cuts: SampleCuts | None = None,
    ml: MassToLight | None = None,
) -> dict[str, Any]:
    """Compute every quantity of the SPARC report for ``preset`` on ``cube`` and compare it.

    The preset's kernel and the baseline (MOND) each get the global metrics of
    :mod:`sigcube.model.metrics` under their name (``result["sigma"]["mean_rms"]``; each one's
    ``win_rate``, a fraction, is against the other). ``figures`` lists each comparison
    (:func:`comparison`); ``findings`` says in sentences what is and is not reproduced.
    """
    cuts = cuts or SampleCuts()
    points = pack_sparc(cube, cuts, ml)
    params = preset.kernel_params()
    v_pred = {preset.kernel: get_kernel(preset.kernel)(points.inputs, **params),
              BASELINE: get_kernel(BASELINE)(points.inputs)}
    rms = {name: object_rms(points, v) for name, v in v_pred.items()}
    other = {preset.kernel: BASELINE, BASELINE: preset.kernel}
    out: dict[str, Any] = {
        "preset": preset.name,
        "kernel": preset.kernel,
        "baseline": BASELINE,
        "n_galaxies": points.n_galaxies,
        "n_points": points.n_points,
        **{name: global_metrics(points, v, rms[other[name]]) for name, v in v_pred.items()},
    }
    out["win_rate_intervals"] = {name: fraction(int(round(out[name]["win_rate"] * points.n_galaxies)),
                                                points.n_galaxies) for name in v_pred}
    elsewhere = not_the_seed_sample(cube.attrs, cube.sizes["galaxy"], cuts == SampleCuts())
    out["seed_sample"] = elsewhere is None
    out["figures"] = [] if elsewhere else [comparison(figure(key), quantity, value_of(out, quantity))
                                           for quantity, keys in figures(preset).items() for key in keys]
    published = [c for c in out["figures"] if c["origin"] == "published"]
    out["published"] = {c["quantity"]: c["value"] for c in published}
    out["reproduced"] = {c["quantity"]: c["reproduced"] for c in published}
    out["verdicts"] = {c["quantity"]: c["verdict"] for c in published}
    if not elsewhere:
        out["si_sample_chain"] = si_sample_chain(cube, ml)
    if preset.g_dagger != ASTROPY and not elsewhere:
        g_astropy = G_DAGGER_CONVENTIONS[ASTROPY]
        v = get_kernel(preset.kernel)(points.inputs, **{**params, "g_dagger": g_astropy})
        check: dict[str, Any] = {"g_dagger": g_astropy, preset.kernel: global_metrics(points, v, rms[BASELINE])}
        check["figures"] = _kernel_figures(preset, check)
        out["astropy_g_dagger"] = check
    out["findings"] = [elsewhere[0].upper() + elsewhere[1:] + "."] if elsewhere else findings(preset, out)
    out["conventions"] = {
        "what": preset.what,
        "description": preset.description,
        **{k: v for k, v in get_kernel(preset.kernel).resolve(params).items()},
        "g_dagger_convention": preset.g_dagger,
        **({"not_in_the_seeds": NOT_IN_SEEDS[preset.name]} if preset.name in NOT_IN_SEEDS else {}),
        "mond_a0": get_kernel(BASELINE).resolve()["a0"],
        "upsilon_disk": points.mass_to_light.upsilon_disk,
        "upsilon_bul": points.mass_to_light.upsilon_bul,
        **{f"cut_{k}": v for k, v in cuts.as_dict().items()},
        "point_cut": "drop points with V_bar <= 0, R <= 0 or V_obs <= 0",
        **{name: m.definition for name, m in metrics.METRICS.items()},
        "cube_content_sha256": cube.attrs.get("content_sha256", ""),
    }
    out["excluded_galaxies"] = points.excluded
    return out


def _shown(c: dict[str, Any]) -> str:
    """The computed value of a comparison in the figure's unit, with one digit more than printed."""
    decimals = figure(c["key"]).decimals + 1
    return f"{c['computed'] * scale_for(c['quantity'], c['unit']):.{decimals}f}" + ("%" if c["unit"] == "%" else "")


def _metric(c: dict[str, Any]) -> str:
    """The metric of a comparison's quantity ("" for a sample quantity)."""
    parts = split_quantity(c["quantity"])
    return "" if parts is None else parts[1]


def _kernel(c: dict[str, Any]) -> str:
    parts = split_quantity(c["quantity"])
    return "" if parts is None else parts[0]


def findings(preset: Preset, result: dict[str, Any]) -> list[str]:
    """Sentences derived from the comparisons of ``result`` (:func:`sparc_report`): what this convention does and does
    not reproduce, and what its ✓ rest on."""
    out: list[str] = []
    figures = result["figures"]
    published = [c for c in figures if c["origin"] == "published"]
    sample = [c for c in published if c["quantity"] == "n_galaxies"]
    sigma = [c for c in published if _metric(c) == "win_rate" or _kernel(c) == preset.kernel and _metric(c) == "mean_rms"]
    mond = [c for c in published if _kernel(c) == BASELINE and _metric(c) == "mean_rms"]
    out += [_sample_sentence(c, result.get("si_sample_chain")) for c in sample]
    what = f"{preset.what[0].upper()}{preset.what[1:]}"
    missed = [c for c in sigma if not c["reproduced"]]
    if missed:
        out.append(f"{what} does not give the printed number{'s' if len(missed) > 1 else ''}: "
                   + "; ".join(f"{c['value']}{_unit(c)} ({c['citation']}) → sigcube {_shown(c)}" for c in missed) + ".")
    hit = [c for c in sigma if c["reproduced"]]
    if hit:
        out.append(f"{what} reproduces at the printed precision: "
                   + ", ".join(f"{c['value']}{_unit(c)} ({c['citation']}) → sigcube {_shown(c)}" for c in hit) + ".")
        if preset.name in NOT_IN_SEEDS:
            out.append(f"These ✓ rest on a convention the seeds do not give: {NOT_IN_SEEDS[preset.name]}.")
    check = result.get("astropy_g_dagger")
    if check:
        out += _g_dagger_sentence(preset, [c for c in published if _kernel(c) == preset.kernel and c["reproduced"]],
                                  check)
    out += [f"MOND: {c['value']}{_unit(c)} ({c['citation']}) {'✓' if c['reproduced'] else '✗'} → sigcube {_shown(c)}."
            for c in mond]
    for key in dict.fromkeys(c["key"] for c in published if _metric(c) in RAR_SCATTERS):
        out.append(_scatter_sentence([c for c in published if c["key"] == key]))
    repo = [c for c in figures if c["origin"] != "published"]
    if repo:
        same = all(c["reproduced"] for c in repo)
        out.append(f"Numbers from re-running the author's public scripts, printed nowhere in the seeds, are "
                   f"{'reproduced' if same else 'not all reproduced'}: "
                   + ", ".join(f"{c['value']}{_unit(c)} {'✓' if c['reproduced'] else '✗'}" for c in repo) + ".")
    return out


def _sample_sentence(c: dict[str, Any], chain: dict[str, Any] | None) -> str:
    """The sample count next to its printed figure; a count matched by construction with SI §3.1's own chain."""
    head = f"Sample: {c['computed']} galaxies, printed {c['value']} ({c['citation']})"
    if c["verdict"] != COUNT_MATCHED:
        return f"{head} {'✓' if c['reproduced'] else '✗'}."
    text = f"{head}: {COUNT_MATCHED} — {c['by_construction']}."
    if chain:
        text += (f" SI §3.1's own chain on this cube: {chain['n_galaxies']} galaxies, {chain['n_valid_v_bar']} with "
                 f"V_bar > 0 at all radii (dropping {', '.join(chain['invalid_v_bar']) or 'none'}), "
                 f"{chain['n_sample']} of them with ≥ {chain['min_points']} points (printed: "
                 + ", ".join(chain["printed"].values()) + ").")
    return text


def _g_dagger_sentence(preset: Preset, hits: list[dict[str, Any]], check: dict[str, Any]) -> list[str]:
    """What the ✓ ``hits`` of a preset that uses another g† give with astropy's g† (``check``)."""
    if not hits:
        return []
    again = {(c["quantity"], c["key"]): c for c in check["figures"]}
    parts = []
    for c in hits:
        a = again[(c["quantity"], c["key"])]
        fig = figure(c["key"])
        rounded = f"{a['computed'] * scale_for(a['quantity'], a['unit']):.{fig.decimals}f}"
        mark = "✓" if a["reproduced"] else f"✗: it rounds to {rounded}{'%' if a['unit'] == '%' else _unit(a)}"
        parts.append(f"{c['value']}{_unit(c)} ({c['citation']}) → {_shown(a)}{_unit(a)} {mark}")
    g_own = G_DAGGER_CONVENTIONS[preset.g_dagger]
    return [f"These ✓ use g† = {g_own:.4e} m/s² (convention '{preset.g_dagger}'); with astropy's g† "
            f"({check['g_dagger']:.4e} m/s²) the same convention gives " + "; ".join(parts) + "."]


def _unit(c: dict[str, Any]) -> str:
    return f" {c['unit']}" if c["unit"] and c["unit"] != "%" else ""


def _scatter_sentence(comparisons: list[dict[str, Any]]) -> str:
    """How the printed RAR scatter relates to each definition it was compared with."""
    label = f"{comparisons[0]['value']} dex ({comparisons[0]['citation']})"
    who = "MOND's" if _kernel(comparisons[0]) == BASELINE else "The"

    def definition(c: dict[str, Any]) -> str:
        formula, _, words = get_metric(_metric(c)).definition.partition(": ")
        return f"{formula} ({words.split(' (')[0]}) = {c['computed']:.4f}"

    paper = [c for c in comparisons if _metric(c) == "rar_rms_accel"]
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


def _mark(c: dict[str, Any]) -> str:
    if c["verdict"] == COUNT_MATCHED:
        return f"[cyan]{COUNT_MATCHED}[/cyan]"
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
    for key, label in rows(result):
        value = formatted(result, key)
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


def rows(result: dict[str, Any]) -> list[tuple[str, str]]:
    """(quantity, label) of every report row: the sample, then each global metric of the kernel and the baseline."""
    out = [("n_galaxies", "galaxies"), ("n_points", "points")]
    for kernel in (result["kernel"], result["baseline"]):
        for name in metric_names("global"):
            m = get_metric(name)
            other = result["baseline" if kernel == result["kernel"] else "kernel"]
            label = m.long_name.replace("the baseline's", f"{other}'s")
            out.append((f"{kernel}.{name}", f"{kernel}: {label} [{m.table_units or m.units or '—'}]"))
    return out


def formatted(result: dict[str, Any], quantity: str) -> str:
    """A quantity as a report table prints it (a metric in its table unit, e.g. a win rate in %)."""
    parts = split_quantity(quantity)
    if parts is None:
        return str(result[quantity])
    m = get_metric(parts[1])
    unit = m.table_units or m.units
    text = f"{m.in_table_units(value_of(result, quantity)):.{DIGITS[unit]}f}" + ("%" if unit == "%" else "")
    interval = result.get("win_rate_intervals", {}).get(parts[0]) if parts[1] == "win_rate" else None
    if interval:
        lo, hi = (m.in_table_units(x) for x in interval["ci"])
        text += f" (95 %: {lo:.1f}–{hi:.1f}{'%' if unit == '%' else ''})"
    return text


def _cell(result: dict[str, Any], quantity: str) -> str:
    value = formatted(result, quantity)
    comps = [c for c in result["figures"] if c["quantity"] == quantity and c["origin"] == "published"]
    if not comps:
        return f"{value} [dim](no seed figure)[/dim]"
    c = comps[0]
    mark = "[green]✓[/green]" if c["reproduced"] else "[red]✗[/red]"
    again = [a for a in (result.get("astropy_g_dagger") or {}).get("figures", ())
             if (a["quantity"], a["key"]) == (quantity, c["key"]) and a["verdict"] != c["verdict"]]
    other = "".join(f"\n[dim]astropy g†: {_shown(a)} {'✓' if a['reproduced'] else '✗'}[/dim]" for a in again)
    return f"{value} {mark}\n{c['value']}{_unit(c)} ({c['citation']}){other}"


def _scatter_cell(result: dict[str, Any]) -> str:
    parts = []
    for name in RAR_SCATTERS:
        q = f"{result['kernel']}.{name}"
        comps = [c for c in result["figures"] if c["quantity"] == q and c["origin"] == "published"]
        mark = "" if not comps else (" [green]✓[/green]" if comps[0]["reproduced"] else " [red]✗[/red]")
        parts.append(f"{get_metric(name).short} {formatted(result, q)}{mark}")
    printed = {c["value"] + f" dex ({c['citation']})" for c in result["figures"]
               if _kernel(c) == result["kernel"] and _metric(c) in RAR_SCATTERS and c["origin"] == "published"}
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
        k = res["kernel"]
        table.add_row(res["preset"], _cell(res, f"{k}.mean_rms"), _cell(res, f"{k}.win_rate"), _scatter_cell(res))
    console.print(table)
    first = results[0]
    base = first["baseline"]
    console.print(
        f"{first['n_galaxies']} galaxies, {first['n_points']} points. MOND (every preset): RMS "
        f"{formatted(first, f'{base}.mean_rms')} km/s, RAR scatter {formatted(first, f'{base}.rar_rms_accel')} (§3.5) / "
        f"{formatted(first, f'{base}.rar_scatter_velocity')} (std vel) dex.", highlight=False)
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
