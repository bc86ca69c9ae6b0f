"""Markdown renderings of the committed reports (``docs/results/<name>.json``).

Every number a results page shows is read here from a committed report — never typed into a page. Each page starts
with where its numbers come from (the command, the date, the sigcube version and commit) and ends with the report
as the terminal prints it (the report module's own renderer, run on the same JSON). Published figures are shown
with their citation and seed file.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from sigcube_docs import records, sources
from sigcube_docs.markdown import ROLE, bullets, code, details, fixed, items, mark, number, percent, table, text

RAR = ("rar_rms_accel", "rar_scatter_velocity", "rar_scatter_accel")
RAR_LABEL = {"rar_rms_accel": "§3.5 rms", "rar_scatter_velocity": "std vel", "rar_scatter_accel": "std acc"}


def current(value: Any) -> Any:
    """A committed record (or any part of it) in the code's words of today: every former name (an error model
    renamed since the record was made, :func:`sigcube_docs.sources.former_names`) in a string or a key replaced by its
    name now, and a reStructuredText role before a code span (``:func:`` of ``:func:`name```, which the CLI no longer
    prints) dropped, so that a page never shows words the CLI no longer prints. The record's file is left as it is (it
    is remade, not edited)."""
    if isinstance(value, str):
        value = ROLE.sub("", value)
        for former, now in sources.former_names().items():
            value = re.sub(rf"(?<![\w-]){re.escape(former)}(?![\w-])", now, value)
        return value
    if isinstance(value, Mapping):
        return {current(k): current(v) for k, v in value.items()}
    if isinstance(value, list):
        return [current(v) for v in value]
    return value


def command_lines(record: Mapping[str, Any]) -> list[str]:
    """The command lines that make a committed report (:func:`current` words)."""
    return [current(c) for c in records.RESULTS[record["name"]].command_lines()]


def cited(value: str, unit: str, citation: str) -> str:
    """A printed figure with its citation: ``17.75 km/s (paper §4.1)`` (the citation's short name is a seed file,
    named by :func:`seed_legend` at the top of the page)."""
    shown = f"{value}{'' if unit in ('', '%') or value.endswith(unit) else ' ' + unit}"
    return f"{text(shown)} ({text(citation)})"


def verdict(c: Mapping[str, Any]) -> str:
    """✓ / ✗ of a comparison, or its verdict in words when it is neither (a count matched by construction)."""
    words = c.get("verdict")
    return text(words) if words == sources.published_figures()["count_matched"] else mark(c["reproduced"])


def provenance(record: Mapping[str, Any]) -> str:
    """Where the page's numbers come from."""
    commands = "; ".join(code(c) for c in command_lines(record))
    return (f":::{{admonition}} Where these numbers come from\n:class: note\n\n"
            f"Generated from {code('docs/results/' + record['name'] + '.json')}: the output of {commands}, run on "
            f"{record['generated']} (sigcube {record['sigcube_version']}, commit {code(record['commit'])}, "
            f"{record['seconds']:.0f} s on the documentation machine"
            f"{' for its last part, resumed from the checkpoints of an earlier run' if record.get('resumed') else ''}). "
            f"{code('tests/project/test_docs.py')} runs the "
            f"command again (slow or deep tier) and fails if any number differs by more than "
            f"1e{round(math.log10(records.RESULTS[record['name']].tolerance))} relative, a posterior mass by more than "
            f"1e{round(math.log10(records.MASS_TOLERANCE))} absolute (CPUs differ in the last bits); remake the file with "
            f"{code('python docs/_ext/record.py results ' + record['name'])}. A citation's short name is the seed file "
            f"that prints the figure: {seed_legend()}; every published figure with its section is listed on the "
            f"[published figures](published.md) page.\n:::\n")


def seed_legend() -> str:
    """``paper`` = ``004_….txt``, ``SI`` = ``003_….txt``, … (the seed files' short names)."""
    names = sources.published_figures()["seed_names"]
    return ", ".join(f"{text(short)} = {code(seed)}" for seed, short in names.items())


def terminal(record: Mapping[str, Any], kind: str, width: int = 160) -> str:
    """The report as ``sigcube`` prints it in a terminal (the report's own renderer on the committed JSON)."""
    from rich.console import Console

    console = Console(record=True, width=width, file=io.StringIO(), color_system=None, force_terminal=False)
    sources.report_renderers()[kind](record["report"], console)
    return details(f"The report as the terminal prints it ({' · '.join(command_lines(record))})",
                   console.export_text())


# --- sigcube report sparc --preset all ---------------------------------------------------------------------------


def sparc(record: Mapping[str, Any]) -> str:
    presets = record["report"]
    first = presets[0]
    out = [provenance(record)]
    out.append(f"Sample: {first['n_galaxies']} galaxies, {first['n_points']:,} points; left out: "
               + ", ".join(f"{text(g)} ({text(why)})" for g, why in first["excluded_galaxies"].items()) + ".\n\n")
    out.append("## Every preset next to the figures the seeds print\n\n")
    rows = []
    for p in presets:
        s = p["sigma"]
        rows.append([code(p["preset"]), text(p["conventions"]["what"]), fixed(s["mean_rms"], 3),
                     percent(s["win_rate"], 2), " / ".join(fixed(s[m], 4) for m in RAR)])
    out.append(table(["preset", "convention", "RMS Σ [km/s]", "win Σ vs MOND", "RAR Σ: §3.5 rms / std vel / std acc [dex]"],
                     rows, "llrrr"))
    mond = first["mond"]
    out.append(f"\nMOND (the same in every preset): RMS {fixed(mond['mean_rms'], 3)} km/s, RAR "
               + " / ".join(f"{RAR_LABEL[m]} {fixed(mond[m], 4)}" for m in RAR) + " dex.\n\n")
    for p in presets:
        out.append(f"### {code(p['preset'])}: {text(p['conventions']['what'])}\n\n")
        out.append(f"{text(p['conventions']['description'])}\n\n")
        rows = [[text(f["what"]), code(f["quantity"]), cited(f["value"], f["unit"], f["citation"]) if f["seed"]
                 else f"{text(f['value'])} ({text(f['citation'])}: not a published figure)", _sparc_value(f),
                 verdict(f)] for f in p["figures"]]
        out.append(table(["figure", "quantity", "printed", "sigcube", ""], rows, "lllrc"))
        out.append("\n" + bullets(p["findings"]))
    out.append(terminal(record, "sparc"))
    return "".join(out)


def _sparc_value(f: Mapping[str, Any]) -> str:
    value = f["computed"]
    if f["unit"] == "%":
        return percent(value, 2)
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return fixed(value, 3 if f["unit"] == "km/s" else 4)


# --- sigcube report kernels --------------------------------------------------------------------------------------


def kernels(record: Mapping[str, Any]) -> str:
    rows_in = record["report"]
    out = [provenance(record)]
    done = [r for r in rows_in if "skipped" not in r]
    if done:
        out.append(f"{done[0]['n_galaxies']} galaxies, {done[0]['n_points']:,} points; each kernel at its "
                   "registered defaults, sorted by mean RMS.\n\n")
    rows = [[code(r["kernel"]), fixed(r["mean_rms"], 2), fixed(r["median_chi2_red"], 2),
             "baseline" if r["win_rate"] is None else percent(r["win_rate"], 1), *(fixed(r[m], 4) for m in RAR)]
            for r in done]
    out.append(table(["kernel", "RMS [km/s]", "median χ²_red", "win vs MOND", "§3.5 rms [dex]", "std vel [dex]",
                      "std acc [dex]"], rows, "lrrrrrr"))
    out.append("\n" + table(["kernel", "parameters", "source"],
                             [[code(r["kernel"]), r["n_params"], text(r["source"])] for r in done], "lrl"))
    skipped = [r for r in rows_in if "skipped" in r]
    if skipped:
        out.append("\nSkipped: " + "; ".join(f"{code(r['kernel'])} ({text(r['skipped'])})" for r in skipped) + ".\n")
    out.append("\n" + terminal(record, "kernels"))
    return "".join(out)


# --- sigcube report sensitivity ----------------------------------------------------------------------------------


def sensitivity(record: Mapping[str, Any]) -> str:
    report = record["report"]
    out = [provenance(record)]
    out.append("Shipped sweeps read: " + ", ".join(f"{code(name)} ({text(how)})" for name, how in report["sweeps"].items())
               + ".\n\n")
    for t in report["tables"]:
        out.append(f"## {text(t['title'])}\n\n")
        rows = [[text(r["quantity"]), cited(r["value"], r["unit"], r["citation"]), _sens_value(r), verdict(r)]
                for r in t["rows"]]
        out.append(table(["quantity", "printed", "sigcube", ""], rows, "llrc"))
        out.append("\nHow each was computed:\n\n" + items(f"{text(r['quantity'])}: {text(r['convention'])}; computed "
                                                           f"from {text(r['source'])}" for r in t["rows"]))
        out.append("\n" + bullets(t["notes"]))
    note = report["note000"]
    out.append("## Note 000 in its own terms\n\n")
    out.append("Readings of the note's undefined target: "
               + "; ".join(f"{code(k)}: {text(v)}" for k, v in note["readings"].items()) + ".\n\n")
    for model, m in note["models"].items():
        rows = [[code(reading), text(where.replace("_", " ")),
                 text(", ".join(f"{k} = {number(v)}" for k, v in f["parameters"].items())),
                 fixed(f["rms"], 2), fixed(f["correlation"], 3), fixed(f["velocity_mean_rms"], 1)]
                for reading, fit in m["fits"].items()
                for where, f in ((w, fit[w]) for w in ("note_parameters", "least_rms", "largest_correlation"))]
        out.append(f"{text(model)} (kernel {code(m['kernel'])}): the RMS of K and its correlation at each point, and "
                   "the mean RMS of the velocities with the point as a kernel:\n\n"
                   + table(["reading", "point", "parameters", "RMS of K", "correlation", "RMS [km/s]"], rows,
                           "lllrrr") + "\n")
    out.append("\nThe note's printed figures: " + "; ".join(
        f"{text(model)} {text(k)} {cited(v['value'], '', v['citation'])}"
        for model, m in note["models"].items() for k, v in m["figures"].items()) + ". Its functional form: "
        + text(note["functional_form"]["status"]) + ".\n\n")
    out.append(bullets(note["findings"]))
    out.append(terminal(record, "sensitivity"))
    return "".join(out)


def _sens_value(r: Mapping[str, Any]) -> str:
    value = r["computed"]
    if value is None:
        return "—"
    if r["percent"]:
        return percent(value, 2)
    if float(value).is_integer() and abs(value) < 1e6:
        return str(int(value))
    return number(value, 4)


# --- sigcube report regression -----------------------------------------------------------------------------------


def regression(record: Mapping[str, Any]) -> str:
    rows_in = record["report"]
    out = [provenance(record)]
    counts: dict[str, int] = {}
    for r in rows_in:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    out.append(f"{len(rows_in)} rows: " + ", ".join(f"{n} {text(s)}" for s, n in counts.items()) + ".\n\n")
    rows = [[i, "—" if r["si4a"] is None else r["si4a"], text(r["name"]),
             text("; ".join([r["status"], *(f"{label}: {sources.published_figures()['count_matched']}"
                                            for label in r.get("matched_by_construction") or {})]))]
            for i, r in enumerate(rows_in, 1)]
    out.append(table(["#", "SI §4a", "test", "status"], rows, "rrll"))
    out.append("\n## Each row: sigcube's numbers, the published ones, in words\n\n")
    for i, r in enumerate(rows_in, 1):
        conv = r.get("conventions") or {}
        summary = conv.get("summary") if isinstance(conv, Mapping) else None
        published = "; ".join(f"{k}: {v}" for k, v in r["published"].items()) or "—"
        indent = " " * len(f"{i}. ")  # the sub-list belongs to the numbered item
        out.append(f"{i}. **{text(r['name'])}** ({text(r['status'])}"
                   + (f"; {text(summary)}" if summary else "") + ").\n"
                   + "".join(f"{indent}- {line}\n" for line in (f"sigcube: {text(r['headline'])}",
                                                                f"published (seed section): {text(published)}",
                                                                text(r["note"]))))
    out.append("\n" + terminal(record, "regression", width=220))
    return "".join(out)


# --- sigcube report ablation -------------------------------------------------------------------------------------


def ablation(record: Mapping[str, Any]) -> str:
    report = record["report"]
    if report["sigma_int"] is None:
        return ablation_grid(record)
    out = [provenance(record)]
    floor = report["sigma_int"]
    out.append(f"{report['n_galaxies']} galaxies, {report['n_points']:,} points"
               + (f"; error floor σ_int = {number(floor)} km/s added in quadrature to every e_V" if floor else
                  "; errors as quoted (no error floor)") + ".\n\n")
    titles = {"catalogue": "Catalogue Υ, D, i (the SI's setting)",
              "nuisance_profiled": "Υ_disk, Υ_bul, D, i profiled (Li+2018 priors)"}
    for label, run in report["runs"].items():
        out.append(f"## {titles.get(label, text(label))}\n\n")
        rows = [[code(name), m["k"], fixed(m["mean_chi2_red"], 3), fixed(m["median_chi2_red"], 3),
                 percent(m["at_bound_fraction"], 0), *(fixed(m[s], 3) for s in RAR)]
                for name, m in run["models"].items()]
        out.append(table(["model", "k", "mean χ²_red", "median χ²_red", "on a bound", "§3.5 rms [dex]",
                          "std vel [dex]", "std acc [dex]"], rows, "lrrrrrrr"))
        rows = [[code(name), code(p), number(v["percentiles"]["5"], 3), number(v["percentiles"]["50"], 3),
                 number(v["percentiles"]["95"], 3), v.get("at_bound") or 0]
                for name, m in run["models"].items() for p, v in m["parameters"].items()]
        if rows:
            out.append("\nThe fitted parameters across galaxies:\n\n"
                       + table(["model", "parameter", "5 %", "50 %", "95 %", "galaxies on a bound"], rows, "llrrrr"))
        rows = [[text(key.replace("_vs_", " vs ")), p["n"], p["wins_strict"], p["losses_strict"],
                 f"{p['wins']} / {p['ties']} / {p['losses']}", percent(p["win_fraction"], 1),
                 f"{percent(p['bootstrap_ci95'][0], 1)} – {percent(p['bootstrap_ci95'][1], 1)}"]
                for key, p in run["pairs"].items()]
        out.append("\n" + table(["a vs b", "galaxies", "a wins", "b wins", "wins / ties / losses (±5 %)",
                                 "a's win fraction", "bootstrap 95 %"], rows, "lrrrrrr") + "\n")
    return "".join(out) + _ablation_tail(record, "## Next to SI §15.2\n\n", ("dof", "tie", "bootstrap", "nuisance_grid"))


def _ablation_tail(record: Mapping[str, Any], heading: str, conventions: tuple[str, ...]) -> str:
    """The SI §15.2 figures (under ``heading``, when there are any), the findings, the conventions and the terminal."""
    report = record["report"]
    out = []
    if report["figures"]:
        rows = [[code(f["quantity"]), _scaled(f), cited(f["value"], f["unit"], f["citation"]), mark(f["reproduced"])]
                for f in report["figures"]]
        out.append(heading + table(["quantity", "sigcube", "printed", ""], rows, "lrlc"))
    out.append("\n## What holds and what fails\n\n" + bullets(report["findings"]))
    conv = report["conventions"]
    out.append("Conventions: " + "; ".join(f"{text(k)}: {text(conv[k])}" for k in conventions)
               + ". Priors: " + text("; ".join(conv["priors"])) + ".\n\n")
    out.append(terminal(record, "ablation"))
    return "".join(out)


def ablation_grid(record: Mapping[str, Any]) -> str:
    """The ablation with σ_int on a grid: the head-to-head by σ_int, each model's profile, the models at their best."""
    report = record["report"]
    unit = report["scatter"]["unit"]
    values = report["scatter"]["values"]
    out = [provenance(record), f"{report['n_galaxies']} galaxies, {report['n_points']:,} points; error floor σ_int on "
                               f"a grid of {len(values)} values from {number(values[0])} to {number(values[-1])} "
                               f"{text(unit)}, one global value per model.\n\n"]
    titles = {"catalogue": "Catalogue Υ, D, i", "nuisance_profiled": "Υ_disk, Υ_bul, D, i profiled (Li+2018 priors)"}
    for label, profile in report["sigma_int_profile"].items():
        out.append(f"## {titles.get(label, text(label))}\n\n")
        models = list(profile)
        chi2, ln_l = [], []
        for j, block in enumerate(report["by_sigma_int"]):
            run = block["runs"][label]
            pair = run["pairs"].get("sigma_xi_vs_nfw")
            chi2.append([number(block["sigma_int"]), *(fixed(run["models"][m]["median_chi2_red"], 3) for m in models),
                         percent(pair["win_fraction"], 1) if pair else "—"])
            ln_l.append([number(block["sigma_int"]),
                         *(fixed(profile[m]["ln_L"][j] - max(profile[m]["ln_L"]), 1) for m in models)])
        out.append("Median χ²_red of each model, and Σ (A, ξ)'s win fraction against NFW on χ²_red, at each σ_int:\n\n"
                   + table([f"σ_int [{text(unit)}]", *(code(m) for m in models), "Σ (A, ξ) wins vs NFW"], chi2,
                           "r" * (2 + len(models))))
        out.append("\nEach model's Σ ln L at each σ_int, from its best value (Δ ln L [nat]):\n\n"
                   + table([f"σ_int [{text(unit)}]", *(code(m) for m in models)], ln_l, "r" * (1 + len(models))))
        rows = [[code(m), number(p["best"]), f"{number(p['interval_68'][0])} – {number(p['interval_68'][1])}",
                 f"{number(p['parabola']['best'], 3)} ± {number(p['parabola']['sd'], 2)}" if p["parabola"] else "—",
                 "at the grid's end" if p["cut_by_grid"] else "inside", p["n_galaxies"]] for m, p in profile.items()]
        out.append("\n" + table(["model", f"best σ_int [{text(unit)}]", "within Δ ln L ≤ ½",
                                  "parabola (best three)", "best value", "galaxies"], rows, "lrrrlr"))
        rows = [[text(key.replace("_vs_", " vs ")), p["n"], p["wins_strict"], p["losses_strict"], p["a_by_1_nat"],
                 p["b_by_1_nat"], fixed(p["ln_L_difference"], 1),
                 f"{percent(p['bootstrap_ci95'][0], 1)} – {percent(p['bootstrap_ci95'][1], 1)}"]
                for key, p in report["pairs_at_best"][label].items()]
        out.append("\nEach model at its own best σ_int, galaxy by galaxy on ln L:\n\n"
                   + table(["a vs b", "galaxies", "a higher", "b higher", "a by > 1 nat", "b by > 1 nat", "Σ Δ ln L",
                            "bootstrap 95 % of a's share"], rows, "lrrrrrrr") + "\n")
    return "".join(out) + _ablation_tail(record, "## Next to SI §15.2 (σ_int = 0)\n\n",
                                         ("sigma_int", "ln_L", "dof", "tie", "bootstrap", "nuisance_grid"))


def _scaled(f: Mapping[str, Any]) -> str:
    value = f["computed"] * f["scale"]
    return f"{number(value, 4)}{' %' if f['unit'] == '%' else ''}"


# --- sigcube report compare --------------------------------------------------------------------------------------


def compare_error_models(record: Mapping[str, Any]) -> str:
    """The model × error model table of ``report compare --error-model all``, led by the error model the data prefer:
    a table per model (its evidence under each error model; against MOND its Bayes factor, ELPD difference and
    decision), then the scatter's posterior and the residuals of every row (two tables that fit the column where one
    did not)."""
    t = record["report"]["error_model_table"]
    out = [provenance(record),
           f"{t['n_galaxies']} galaxies, {t['n_points']:,} points; the {text(t['run'])} run of each error model.\n\n",
           f"**Error model the data prefer**: {text(t['data_prefer']['statement'])}.\n\n"]
    if "lead_basis" in t:
        out.append(f"**The table leads with** {code(t['lead'])}: {text(t['lead_basis'])}.\n\n")
    lead = [f"under {code(t['lead'])}: {text(d['reading'])}" for d in t["lead_decisions"].values() if d]
    averaged = [f"averaged over the error models: {code(m)} against {code('mond')}: ln B = "
                f"{a['ln_B_vs_mond']:+.1f} ± {fixed(a['ln_B_vs_mond_error'], 2)} nat — {text(a['verdict_vs_mond'])}"
                for m, a in t["averaged"].items() if "ln_B_vs_mond" in a]
    out.append(items(lead + averaged))
    models = list(dict.fromkeys(r["model"] for r in t["rows"]))
    for model in models:
        rows = [r for r in t["rows"] if r["model"] == model]
        compared = any(r["decision_vs_mond"] for r in rows)
        cells = []
        for r in rows:
            d = r["decision_vs_mond"]
            against = [] if not compared else ["—"] * 3 if d is None else [
                f"{r['ln_B_vs_mond']:+.1f} ± {fixed(r['ln_B_vs_mond_error'], 2)}",
                f"{d['elpd_diff']:+.1f} ± {fixed(d['elpd_se'], 1)}", text(d["preferred"] or "not distinguished")]
            cells.append([code(r["error_model"]), f"{fixed(r['log_evidence'], 1)} ± {fixed(r['log_evidence_error'], 2)}",
                          f"{r['delta_vs_best_error_model']:+.1f}", *against])
        header = ["error model", "ln Z [nat]", "Δ to the model's best"] + (
            ["ln B vs MOND", "ΔELPD vs MOND ± SE", "decision"] if compared else [])
        out.append(f"**{code(model)}**{'' if compared else ' (the reference of the Bayes factors)'}, by error model:\n\n"
                   + table(header, cells, "lrrrrl"[:len(header)]) + "\n")
    beside = [(k, symbol) for k, symbol in (("sigma_floor", "σ_fl"), ("tau_gal", "τ_gal"))
              if any(r.get(k) for r in t["rows"])]
    rows = []
    for r in t["rows"]:
        s = r["sigma_int"]
        unit = {k: v["unit"] for k, v in (t["grids"].get(r["error_model"]) or {}).items() if isinstance(v, Mapping)}
        rows.append([code(r["model"]), code(r["error_model"]),
                     "—" if s is None else f"{number(s['mean'], 4)} ± {number(s['sd'], 2)} {text(r['unit'])}",
                     *["—" if (p := r.get(k)) is None else
                       f"{number(p['mean'], 3)} ± {number(p['sd'], 2)} {text(unit[k])}" for k, _ in beside],
                     *(("—", "—") if (c := r.get("predictive_check")) is None else
                       (fixed(c["sd"], 2), f"{fixed(100 * c['tail3'], 2)} %"))])
    out.append("The scatter's posterior (mean ± sd) and the normalised residuals at the best point:\n\n"
               + table(["model", "error model", "σ_int", *(symbol for _, symbol in beside), "residual sd", "|r| > 3"],
                       rows, "llr" + "r" * len(beside) + "rr") + "\n")
    checked = [r for r in t["rows"] if r.get("adequacy")]
    if checked:
        first = checked[0]["adequacy"]
        out.append(f"Adequacy: the data's residual statistics among {first['replicates'] + first.get('unusable', 0)} "
                   f"samples drawn from each fitted model and treated as the data ({text(t['conventions']['lead'])}); "
                   "outside, the data's value [the samples' range]:\n\n"
                   + table(["model", "error model", "adequate", "outside the samples' range"],
                           [[code(r["model"]), code(r["error_model"]), "yes" if r["adequacy"]["adequate"] else "no",
                             ("; ".join(f"{text(s['what'])} {number(s['data'], 3)} [{number(s['range'][0], 3)} to "
                                        f"{number(s['range'][1], 3)}]" for s in r["adequacy"]["statistics"].values()
                                        if not s["inside"]) or "—")
                             + (f" ({r['adequacy']['unusable']} samples with a non-finite residual set aside)"
                                if r["adequacy"].get("unusable") else "")] for r in checked], "llll") + "\n")
    checks = [f"{code(r['model'])} under {code(r['error_model'])}: {text(r['predictive_check']['reading'])}"
              for r in t["rows"] if r.get("predictive_check")]
    if checks:
        out.append("Predictive checks (normalised residuals at the best point; N(0, 1) has sd 1 and |r| > 3 in 0.27 % "
                   "of points):\n\n" + items(checks))
    notes = [text(p["statement"]) for p in t["preferred_by_model"].values()]
    if t["sign_moves"]:
        notes.append("the sign of ln B against MOND moves with the error model for "
                     + ", ".join(code(m) for m in t["sign_moves"]))
    notes.append(f"decision rule: {text(t['rule'])}")
    notes += [f"{text(k)}: {text(v)}" for k, v in t["conventions"].items()]
    notes += [f"{code(e)}: {text(w)}" + ("" if t["grids"].get(e) is None else f"; σ_int's prior {text(t['grids'][e]['prior'])}")
              for e, w in t["error_model_words"].items()]
    out.append(items(notes))
    return "".join(out)


def posterior_by_error_model(record: Mapping[str, Any]) -> str:
    """Each model's global parameters under every error model of ``report compare --error-model all`` (posterior
    mean ± sd and 95 % interval on the evidence's final grid), the error models in the order of their evidence, and how
    far the kernel's default value lies from each posterior mean (in posterior sd): a table per parameter."""
    t = record["report"]["error_model_table"]
    defaults = {k["name"]: {p["name"]: p["default"] for p in k["parameters"]} for k in sources.kernels()
                if k["name"] in t["models"]}
    out, shown = [provenance(record)], []
    for model in t["models"]:
        rows = sorted((r for r in t["rows"] if r["model"] == model), key=lambda r: -r["log_evidence"])
        reports = record["report"]["reports"]
        posts = {r["error_model"]: reports[r["error_model"]]["runs"][t["run"]][model]["evidence"]["posterior"]
                 for r in rows}
        names = [n for n in next(iter(posts.values())) if n in defaults[model]]
        scale = {n: 1e10 if n == "a0" else 1.0 for n in names}
        shown += [f"{code(model)} {n} = {number(defaults[model][n] * scale[n], 4)}" for n in names]
        for n in names:
            unit = " [10⁻¹⁰ m/s²]" if scale[n] != 1 else ""
            cells = []
            for r in rows:
                p, f = posts[r["error_model"]][n], scale[n]
                edge = f" ({', '.join(p['at_prior_edge'])} edge of its prior)" if p["at_prior_edge"] else ""
                cells.append([code(r["error_model"]), f"{r['delta_vs_best_error_model']:+.1f}",
                              f"{number(p['mean'] * f, 4)} ± {number(p['sd'] * f, 2)}{edge}",
                              _ci([p["ci95"][0] * f, p["ci95"][1] * f]),
                              f"{(defaults[model][n] - p['mean']) / p['sd']:+.1f}"])
            out.append(f"**{code(model)}** {text(n)}{unit}\n\n"
                       + table(["error model", "Δ ln Z to the best [nat]", "mean ± sd", "95 %", "z₀"], cells, "lrlrr")
                       + "\n")
    out.append(items([
        "z₀: how far the kernel's default lies from the posterior mean, in posterior sd ((default − mean)/sd); the "
        "defaults: " + "; ".join(shown),
        f"the scatter's posterior under each error model is in the table of {code(record['name'])} (σ_int, τ_gal, "
        "σ_fl columns)",
        "an edge: the posterior's mass reaches that end of the parameter's prior range, which then cuts it (the mean "
        "and interval are those of the truncated posterior)"]))
    return "".join(out)


def compare(record: Mapping[str, Any]) -> str:
    report = record["report"]
    out = [provenance(record)]
    out.append(f"{report['n_galaxies']} galaxies, {report['n_points']:,} points of {code(report['dataset'])}.\n\n")
    titles = {"catalogue": "Catalogue Υ, D, i", "nuisance": "Υ, D, i marginalised (ln Z) / profiled (χ², AIC, BIC, CV)"}
    for label, models in report["runs"].items():
        out.append(f"## {titles.get(label, text(label))}\n\n")
        rows = [[code(name), f"{m['k']:,}",
                 text(", ".join(f"{k} = {number(v, 3)}" for k, v in (m.get("best") or {}).items()) or "per galaxy")]
                for name, m in models.items()]
        out.append(items(f"{code(name)}: {text(m['what'])}" for name, m in models.items()))
        out.append(table(["model", "k (parameters)", "best global"], rows, "lrl") + "\n")
        rows = []
        for name, m in models.items():
            cv = m.get("cv") or {}
            rows.append([code(name), fixed(m["best_chi2"], 1), fixed(m["aic"], 1), fixed(m["bic"], 1),
                         fixed(cv.get("held_out_chi2_per_point"), 3), fixed(cv.get("held_out_rms"), 2),
                         f"{fixed(m['log_evidence'], 2)} ± {fixed(m['log_evidence_error'], 2)}",
                         f"{m['ln_B_vs_mond']:+.2f} ± {fixed(m['ln_B_vs_mond_error'], 2)}"])
        out.append("The criteria (ln Z and ln B with their numerical errors; CV: held out over galaxies):\n\n"
                   + table(["model", "best χ²", "AIC", "BIC", "CV χ²/pt", "CV RMS [km/s]", "ln Z [nat]",
                            "ln B vs MOND [nat]"], rows, "lrrrrrrr") + "\n")
        verdicts = [f"{code(name)} against {code('mond')}: ln B = {m['ln_B_vs_mond']:+.2f} ± "
                    f"{fixed(m['ln_B_vs_mond_error'], 2)} nat — {text(m['verdict_vs_mond'])}"
                    for name, m in models.items() if m.get("verdict_vs_mond")]
        scatter = [f"{code(name)}: σ_int = {number(m['sigma_int']['mean'], 4)} ± {number(m['sigma_int']['sd'], 2)} "
                   f"{text(report['scatter']['unit'])} (95 %: {number(m['sigma_int']['ci95'][0], 4)} – "
                   f"{number(m['sigma_int']['ci95'][1], 4)})" for name, m in models.items() if "sigma_int" in m]
        scatter += [f"{code(name)}: {symbol} = {number(m[k]['mean'], 3)} ± {number(m[k]['sd'], 2)} "
                    f"{text(report['scatter'][k]['unit'])} (95 %: {number(m[k]['ci95'][0], 3)} – "
                    f"{number(m[k]['ci95'][1], 3)})"
                    for k, symbol in (("tau_gal", "τ_gal"), ("sigma_floor", "σ_fl"))
                    for name, m in models.items() if k in m]
        decisions = [f"decision, {code(name)} against {code('mond')}: {text(m['decision_vs_mond']['reading'])}"
                     for name, m in models.items() if m.get("decision_vs_mond")]
        halos = [f"{code(name)}: {text(sources.halo_summary(m['halos']))}" for name, m in models.items()
                 if m.get("halos")]
        warnings = [f"⚠ {code(name)}: {text(w)}" for name, m in models.items() for w in m.get("warnings", [])]
        if verdicts or decisions or scatter or halos or warnings:
            out.append(items(verdicts + decisions + scatter + halos + warnings))
        out.append(_compare_reading(models))
        if label in report.get("logo", {}):
            out.append(_logo(report["logo"][label]))
    for label, pairs in report.get("per_galaxy_bayes", {}).items():
        for key, p in pairs.items():
            out.append(f"Per-galaxy evidence ({text(titles.get(label, label))}), {text(key.replace('_vs_', ' vs '))}: "
                       f"the first favoured in {p['a_favoured']} of {p['n']} galaxies; by more than 1 nat: "
                       f"{p['a_by_1_nat']} against {p['b_by_1_nat']}; undecided within 3× the numerical error: "
                       f"{p.get('undecided', 0)}.\n\n")
    rar = report.get("rar_mond_nuisance")
    if rar:
        out.append("## MOND (a0 fixed) with Υ, D, i profiled: RAR residual scatter\n\n")
        rows = [[text({"full": "every galaxy", "quality_subset": "McGaugh+2016 quality subset"}.get(k, k)), s["n_points"],
                 s["n_galaxies"], *(fixed(s[m], 3) for m in RAR)]
                for k in ("full", "quality_subset") if k in rar for s in [rar[k]]]
        out.append(table(["sample", "points", "galaxies", "§3.5 rms [dex]", "std vel [dex]", "std acc [dex]"], rows, "lrrrrr"))
        out.append("\nSubset: " + text(rar["subset_definition"]) + ". Literature (not seed figures): "
                   + "; ".join(f"{number(v['value'])} {text(v['unit'])}, {text(v['what'])}" for v in rar["literature"].values())
                   + ".\n\n")
    conv = report["conventions"]
    out.append("Conventions: " + "; ".join(f"{text(k)}: {text(conv[k])}" for k in
                                         ("likelihood", "prior_form", "k", "aic", "bic", "best", "evidence",
                                          "verdict", "cv", "logo")
                                         if k in conv)
               + ".\n\n")
    out.append(terminal(record, "compare"))
    return "".join(out)


def verdict_change(quoted: Mapping[str, Any] | None, marginalised: Mapping[str, Any] | None) -> str:
    """The same comparison with the errors as quoted and with σ_int marginalised, side by side: each model's ln B
    against MOND and ELPD_LOGO difference to the best, with the verdicts the reports printed."""
    if not (quoted and marginalised):
        return "(both comparisons must be committed to set them side by side)\n"
    label = "nuisance" if "nuisance" in marginalised["report"]["runs"] else "catalogue"
    runs = {"errors as quoted": quoted["report"], "σ_int marginalised": marginalised["report"]}
    names = [n for n in marginalised["report"]["runs"][label] if n in quoted["report"]["runs"][label]]
    rows = []
    for what, report in runs.items():
        models, logo = report["runs"][label], report["logo"][label]
        for name in names:
            m, e = models[name], logo["models"][name]
            rows.append([text(what), code(name),
                         "—" if name == "mond" else f"{m['ln_B_vs_mond']:+.2f} ± {fixed(m['ln_B_vs_mond_error'], 2)}",
                         text(m.get("verdict_vs_mond", "reference")),
                         "best" if name == logo["best"] else f"−{fixed(e['elpd_diff'], 1)} ± {fixed(e['dse'], 1)}",
                         text(e.get("verdict", "—"))])
    return ("What changes when σ_int is marginalised (Υ, D, i marginalised in both; the numbers from the two "
            "committed reports):\n\n" + table(["errors", "model", "ln B vs MOND ± numerical", "verdict",
                                                "ELPD_LOGO to the best ± SE", "ELPD reading"], rows, "llrlrl") + "\n")


def _logo(summary: Mapping[str, Any]) -> str:
    """ELPD_LOGO ± SE per model, each difference to the best ± its paired SE, and the galaxies that drive it."""
    best = summary["best"]
    rows = [[code(name), f"{fixed(m['elpd'], 1)} ± {fixed(m['se'], 1)}",
             "—" if name == best else f"{fixed(m['elpd_diff'], 1)} ± {fixed(m['dse'], 1)}",
             fixed(m.get("error_diff", m.get("error")), 2),
             "—" if name == best or m["z"] is None else fixed(m["z"], 1)]
            for name, m in summary["models"].items()]
    drivers = [f"{code(name)}: " + text(", ".join(f"{d['galaxy']} {d['elpd_diff']:+.1f}"
                                                  for d in summary["drivers"][name][:5]))
               for name in summary["models"] if name != best]
    note = f"{text(summary['se_note'])}.\n\n" if summary.get("se_note") else ""
    return ("Leave-one-galaxy-out predictive density (exact on the grid; differences are the best model's minus "
            "each model's, with the SE of the paired per-galaxy differences, and the numerical error of the "
            "integrals):\n\n"
            + table(["model", "ELPD_LOGO ± SE [nat]", "below the best ± SE", "numerical ±", "z"], rows, "lrrrr")
            + "\nThe galaxies that drive each difference (best − model, nat):\n\n" + items(drivers) + note)


def _compare_reading(models: Mapping[str, Any]) -> str:
    """Which model each criterion prefers, read from the table (lowest χ², AIC, BIC, held-out χ²; highest ln Z)."""
    def best(key: Callable[[Mapping[str, Any]], Any], low: bool = True) -> str | None:
        scored = {n: key(m) for n, m in models.items() if key(m) is not None}
        if not scored:
            return None
        return (min if low else max)(scored, key=scored.get)

    criteria = {"best χ²": best(lambda m: m["best_chi2"]), "AIC": best(lambda m: m["aic"]), "BIC": best(lambda m: m["bic"]),
                "ln Z": best(lambda m: m["log_evidence"], low=False),
                "held-out χ²": best(lambda m: (m.get("cv") or {}).get("held_out_chi2_per_point"))}
    return "Preferred by each criterion: " + "; ".join(f"{k} → {code(v)}" for k, v in criteria.items() if v) + ".\n\n"


# --- sigcube report sweep ----------------------------------------------------------------------------------------


def sweep(record: Mapping[str, Any]) -> str:
    report = record["report"]
    out = [provenance(record)]
    grid = " × ".join(f"{text(d)} ({n})" for d, n in report["grid"].items())
    out.append(f"Sweep {code(report['sweep'])}: kernel {code(report['kernel'])}, baseline {code(report['baseline'])}, "
               f"grid {grid}; fixed: "
               + (text(", ".join(f"{k} = {number(v) if isinstance(v, (int, float)) else v}"
                                 for k, v in report["fixed_parameters"].items())) or "none") + ".\n\n")
    if report.get("best"):
        rows = [[code(metric), text(", ".join(f"{k} = {number(v)}" for k, v in point.items() if k != metric)),
                 number(point[metric])] for metric, point in report["best"].items()]
        out.append(table(["metric", "best grid point", "value"], rows, "llr"))
    if report.get("default_point"):
        point = report["default_point"]
        out.append("\nAt the kernel's defaults (" + text(", ".join(f"{k} = {number(point[k])}" for k in report["grid"] if k in point))
                   + "): " + text(", ".join(f"{k} = {number(v)}" for k, v in point.items() if k not in report["grid"]))
                   + ".\n\n")
    post = report.get("posterior")
    if post:
        out.append("## Posterior of the global parameters\n\n")
        axes = post["axes"].values()
        rows = [["mean", *(number(a["mean"]) for a in axes)], ["sd", *(number(a["sd"]) for a in axes)],
                *([f"{level} %", *(f"{number(a[key][0])} – {number(a[key][1])}" for a in axes)]
                  for level, key in (("68", "ci68"), ("95", "ci95"))),
                ["largest cell", *(percent(a["largest_cell_mass"], 0) for a in axes)],
                ["", *("⚠ truncated" if a["on_edge"] else ("⚠ one cell" if a["unresolved"] else "resolved")
                       for a in axes)]]
        out.append(table(["", *(code(name) for name in post["axes"])], rows, "l" + "r" * len(post["axes"])))
        out.append(f"\nMaximum of Σ ln L over the grid: {fixed(post['loglike_total_max'], 1)} nat at "
                   + text(", ".join(f"{k} = {number(v)}" for k, v in post["at_max"].items()))
                   + f"; ln evidence {fixed(post['log_evidence'], 1)} nat; {post['objects']} galaxies, "
                   f"{post['points']:,} points; free nuisance parameters: "
                   + ", ".join(code(n) for n in post["nuisance_parameters"]) + ".\n\n")
        defaults = post.get("defaults")
        if defaults:
            outside = [n for n, d in defaults.items() if not d["inside_ci95"]]
            out.append("The kernel's default point (" + text(", ".join(f"{n} = {number(d['value'], 4)}"
                                                                       for n, d in defaults.items()))
                       + "): " + text("; ".join(f"{n} {d['z']:+.1f} sd from the posterior mean"
                                                + ("" if d["inside_grid"] else ", outside the grid")
                                                for n, d in defaults.items()))
                       + (" — outside the 95 % interval of " + ", ".join(code(n) for n in outside)
                          + ": excluded by this posterior.\n\n" if outside else
                          " — inside every 95 % interval: not excluded.\n\n"))
        num = post.get("numerics")
        if num:
            out.append(f"The grid's numerical error: ln Z moves by {fixed(num['grid_change'], 3)} nat on the sub-grid "
                       "of every other point" + ("" if num["resolved"] else " — more than "
                                                 f"{number(num['tolerance'])} nat: the grid does not resolve it")
                       + "; posterior means move by " + text(", ".join(
                           f"{k} {number(v, 2)} sd" for k, v in num["mean_shift_sd"].items())) + ". Note: "
                       + text(num["prior_note"]) + ".\n\n")
        model = [line for line in post["model"] if line]
        if not any(line.lower().startswith("global prior") for line in model):
            model.append(f"global prior: {post['global_prior']}")
        out.append("What the posterior rests on (stored with the result cube):\n\n" + bullets(model))
    if report.get("warnings"):
        out.append(items(f"⚠ {text(w)}" for w in report["warnings"]))
    out.append(terminal(record, "sweep"))
    return "".join(out)


def floor_comparison(without: Mapping[str, Any] | None, floor: Mapping[str, Any] | None) -> str:
    """The two nuisance sweeps side by side: the maximum of Σ ln L with and without the error floor."""
    if not (without and floor):
        return "(both nuisance sweeps must be committed to compare them)\n"
    a, b = without["report"]["posterior"], floor["report"]["posterior"]
    gain = b["loglike_total_max"] - a["loglike_total_max"]
    verdict = ("the data prefer the error floor" if gain > 0 else "the error floor does not raise the likelihood")
    return (f"The maximum of Σ ln L over the grid is {fixed(a['loglike_total_max'], 1)} nat with the quoted errors "
            f"({code('docs/results/' + without['name'] + '.json')}) and {fixed(b['loglike_total_max'], 1)} nat with "
            f"the error floor ({code('docs/results/' + floor['name'] + '.json')}): {fixed(abs(gain), 1)} nat "
            f"{'higher' if gain > 0 else 'lower'} — {verdict}, and posteriors from the quoted errors alone are "
            f"{'overconfident' if gain > 0 else 'not shown to be overconfident by this comparison'}.\n")


# --- sigcube report joint ----------------------------------------------------------------------------------------


def _tension_reading(t: Mapping[str, Any]) -> str:
    """What one tension entry says, in words generated from its numbers."""
    shared = t["dimensionality"]["shared"]
    if t["n_sigma"] is None or shared < 0.5:
        return (f"{text(t['a'])} and {text(t['b'])} share no parameter that both constrain (d = {fixed(shared, 2)}): "
                "every value one prefers, the other can meet by moving the parameters only it depends on, so this "
                "grid cannot show a tension between them")
    words = ("no significant tension" if t["n_sigma"] < 2 else "moderate tension" if t["n_sigma"] < 3
             else "strong tension")
    return (f"{text(t['a'])} vs {text(t['b'])}: suspiciousness ln S = {fixed(t['ln_s'], 2)} nat with d = "
            f"{fixed(shared, 2)}, p = {number(t['p'])} ({fixed(t['n_sigma'], 1)}σ) — {words}; the posterior means "
            f"differ by {fixed(t['shift'], 1)} combined standard deviations")


def _joint_posteriors(report: Mapping[str, Any]) -> str:
    """The posterior table of a joint report: each dataset's (variants left out) and the joint one."""
    datasets = [p for p in report["probes"] if not p.get("variant_of")]
    names = [p["label"] for p in datasets] + ["joint"]
    constant = {p["label"]: set(p["independent_of"]) for p in datasets}
    rows = []
    for axis in report["grid"]:
        row = [code(axis)]
        for name in names:
            a = report["posterior"][name]["axes"][axis]
            row.append("— (constant along it)" if axis in constant.get(name, ()) else
                       f"{number(a['mean'])} ± {number(a['sd'])} ({number(a['ci68'][0])} – {number(a['ci68'][1])})"
                       + (" ⚠ edge" if a["on_edge"] else ""))
        rows.append(row)
    rows.append(["ln Z [nat]", *(fixed(report["posterior"][n]["log_evidence"], 1) for n in names)])
    return ("Each parameter's posterior, dataset by dataset and joint: mean ± sd (68 % interval).\n\n"
            + table(["parameter", *(text(n) for n in names)], rows, "l" + "r" * len(names)))


def _pm(value: float | None, error: float | None, digits: int = 2) -> str:
    if value is None:
        return "—"
    return fixed(value, digits) + ("" if error is None else f" ± {fixed(error, digits)}")


def _tension_cells(t: Mapping[str, Any]) -> list[str]:
    """shift m, ln S, d, σ (S) with their numerical errors, and the verdict, of one tension entry."""
    e = (t.get("numerical") or {}).get("error") or {}
    r = (t.get("numerical") or {}).get("sigma_range")
    value = None if t["n_sigma"] is None else fixed(t["n_sigma"], 2)
    sigma = "—" if value is None else value + (  # the range only where it differs from the value as printed
        f" ({fixed(r[0], 2)} – {fixed(r[1], 2)})" if r and {fixed(r[0], 2), fixed(r[1], 2)} != {value} else "")
    return [f"{_pm(t['shift'], e.get('shift'))} ({fixed(t['shift_sigma'], 2)}σ)", _pm(t["ln_s"], e.get("ln_s")),
            _pm(t["dimensionality"]["shared"], e.get("dimensionality")), sigma, text(t.get("verdict", "—"))]


def _tension_table(labels: list[str], rows: list[list[str]], verdict: str = "verdict") -> str:
    """A table of tensions: the ``labels`` columns of each row, then its :func:`_tension_cells`. The dimensionality d,
    when the rows share one value, is said once under the table instead of in a column of its own (the table then
    fits the content column)."""
    header = [*labels, "shift m (σ)", "ln S [nat]", "d", "σ (S) (range)", verdict]
    align = "l" + "r" * (len(header) - 2) + "l"
    at = len(labels) + 2
    if len(rows) < 2 or len({r[at] for r in rows}) > 1:
        return table(header, rows, align)
    keep = [k for k in range(len(header)) if k != at]
    return (table([header[k] for k in keep], [[r[k] for k in keep] for r in rows], "".join(align[k] for k in keep))
            + f"\nd = {rows[0][at]} in every row.\n")


def joint(record: Mapping[str, Any]) -> str:
    report = record["report"]
    out = [provenance(record)]
    grid = " × ".join(f"{text(d)} ({n}, {number(report['grid_range'][d][0])} – {number(report['grid_range'][d][1])})"
                      for d, n in report["grid"].items())
    out.append(f"Joint sweep {code(report['joint'])}: kernel {code(report['kernel'])}, grid {grid}.\n\n")
    out.append(_joint_posteriors(report))
    entries = [*report["tension"], *report["against_rest"].values()]
    out.append("\n" + _tension_table(["datasets"], [[text(f"{t['a']} vs {t['b']}"), *_tension_cells(t)]
                                                     for t in entries]))
    out.append("\n" + items(_tension_reading(t) for t in entries))
    edges = [n for n, post in report["posterior"].items() for axis, a in post["axes"].items() if a["on_edge"]
             and not any(p["label"] == n and axis in p["independent_of"] for p in report["probes"])]
    if edges:
        out.append("Posteriors against an edge of the grid (their intervals are truncated by it): "
                   + ", ".join(code(n) for n in dict.fromkeys(edges)) + ".\n\n")
    if report.get("choices"):
        out.append(joint_choices_table(report))
    out.append("The likelihood of each dataset, as stored with the result cube:\n\n" + bullets(
        [f"{p['label']} ({'variant of ' + p['variant_of'] if p.get('variant_of') else p['dataset']}, "
         f"{p['objects']} objects; own parameters "
         + ", ".join(f"{k} = {v}" for k, v in p["fixed"].items() if k in ("D", "L", "L0", "n")) + "; constant along "
         + (", ".join(p["independent_of"]) or "no axis") + f"): {p['likelihood']}" + _integral(p)
         for p in report["probes"]] + report["assumptions"]))
    out.append(terminal(record, "joint", width=250))
    return "".join(out)


def _integral(p: Mapping[str, Any]) -> str:
    """What a probe's nuisance integral used and its numerical error, in words."""
    integral = p.get("integral") or {}
    if not integral.get("nodes"):
        return ""
    error = integral.get("quadrature_error")
    return (f" ({integral['nodes']} nodes per nuisance dimension; quadrature error "
            + ("not estimated" if error is None else f"{number(error)} nat") + ")")


BEFORE = "joint-sigma-paper-sparc-clash"
"""The committed joint report whose SPARC side fixes σ_int = 0 and k = 1/2π (the page's earlier headline)."""


def joint_choices_table(report: Mapping[str, Any]) -> str:
    """The choices table of a joint report (a dataset under each likelihood choice, one changed at a time), the
    earlier headline's row from :data:`BEFORE` when it is committed, and which choices the tension survives."""
    out = []
    before = records.load(BEFORE)
    for group in report["choices"]:
        first = next(iter(group["rows"][0]["posterior"]))
        choices, rows = [], []
        same_kernel = before and before["report"]["kernel"] == report["kernel"]  # MOND's a0 has no earlier Σ row
        if same_kernel and group is report["choices"][0]:
            t = next(t for t in before["report"]["tension"])
            a = before["report"]["posterior"][t["a"]]["axes"][first]
            b = before["report"]["posterior"][t["b"]]["axes"][first]
            choices.append([text(f"{BEFORE} (committed)"), text(f"SPARC side as before: σ_int = 0, k = 1/2π; "
                                                               f"{t['a']} {first} = {number(a['mean'])} ± "
                                                               f"{number(a['sd'])}")])
            rows.append([text(BEFORE), f"{number(b['mean'])} ± {number(b['sd'])}", *_tension_cells(t)])
        for row in group["rows"]:
            a = row["posterior"][first]
            what = row["description"] or ("; ".join(f"{k}: {v[0]} → {v[1]}" for k, v in row["changed"].items())
                                          or "the reference: the dataset's own likelihood")
            choices.append([code(row["probe"]), text(what)])
            rows.append([code(row["probe"]), f"{number(a['mean'])} ± {number(a['sd'])}", *_tension_cells(row["tension"])])
        heading = (f"{text(group['title'])} (the first {text(group['dataset'])} row is the reference)" if
                   group.get("title") else f"one choice changed at a time from the reference (first "
                                           f"{text(group['dataset'])} row); the last row changes them all")
        out.append(f"\n{text(group['dataset'])} under each likelihood choice against {text(group['against'])}: "
                   f"{heading}:\n\n" + table(["probe", "choice"], choices, "ll"))
        out.append(f"\nEach choice's {text(group['dataset'])} {text(first)} (mean ± sd) and its tension with "
                   f"{text(group['against'])}:\n\n"
                   + _tension_table(["probe", text(first)], rows, "verdict (S)"))
        strong = [r["probe"] for r in group["rows"] if r["tension"].get("verdict") == "strong tension"]
        weaker = [r["probe"] for r in group["rows"] if r["probe"] not in strong]
        sources = {k: v for r in group["rows"] for k, v in (r.get("sources") or {}).items()}
        out.append("\n" + items([
            text(f"The tension stays strong (≥ 3σ by the suspiciousness) under: {', '.join(strong) or 'none'}."),
            text(f"It does not (below 3σ, or undecided within its numerical error) under: "
                 f"{', '.join(weaker) or 'none'}."),
            *(f"{code(k)}: {text(v)}" for k, v in sources.items()),
        ]))
    return "".join(out)


def clash_rows(regression_record: Mapping[str, Any] | None) -> str:
    """The regression report's CLASH rows and the paper's Fox+2022 figures, for the joint page."""
    if not regression_record:
        return "(the regression report must be committed to show its CLASH rows)\n"
    rows = []
    for row in regression_record["report"]:
        if "CLASH" not in row["name"] and "Fox" not in row["name"]:
            continue
        v = row["values"]
        shown = "; ".join(f"{k}: median ratio {number(v[k]['median_ratio'])}"
                          + (f", χ² {fixed(v[k]['chi2'], 0)}/{v[k]['dof']}" if v[k].get("chi2") is not None else "")
                          for k in ("sigma", "sigma_lensing_slip", "mond") if isinstance(v.get(k), dict)) or "—"
        published = "; ".join(f"{k}: {text(x)}" for k, x in row["published"].items())
        rows.append([text(row["name"]), text(row["status"]), text(shown), published])
    return ("From " + code("docs/results/regression.json") + " ([the regression suite](regression.md)):\n\n"
            + table(["row", "status", "computed", "published"], rows, "llll") + "\n")


LITERATURE_SCATTER = (
    ("Desmond 2023 (MNRAS, the underlying RAR; joint HMC of every SPARC galaxy's D, i, L, Υ)",
     "1.19 ± 0.04 (stat) ± 0.09 (sys)", "~0.03 (intrinsic)"),
    ("Li+2018 (A&A 615, A3; per-galaxy Υ, D, i fits)", "—", "0.057 (after the fits)"),
    ("McGaugh+2016 (PRL 117, 201101; the observed RAR)", "—", "0.13 (observed)"),
)
"""Literature values of a0 [10⁻¹⁰ m/s²] and of the RAR's scatter [dex] as quoted in issue 23: not figures of the seed
files, so never marked as published."""


def scatter_literature(mond: Mapping[str, Any] | None, sigma: Mapping[str, Any] | None,
                       table_record: Mapping[str, Any] | None = None) -> str:
    """The σ_int sweeps' posteriors (a0 and σ_int, mean ± sd), and those of the comparison's error models whose σ_int
    is in dex (``report compare --error-model all``: each with its evidence against the model's preferred error
    model), next to the literature's values."""
    if not (mond and sigma):
        return "(both σ_int sweeps must be committed to compare them with the literature)\n"

    def a0_cell(axes: Mapping[str, Any]) -> str:
        return (f"{number(axes['a0']['mean'] * 1e10)} ± {number(axes['a0']['sd'] * 1e10, 2)}" if "a0" in axes
                else "— (Σ has no a0)")

    rows = []
    if table_record:
        t = table_record["report"]["error_model_table"]
        for r in sorted(t["rows"], key=lambda r: (r["model"] != "mond", -r["log_evidence"])):
            if r["unit"] != "dex":
                continue
            post = table_record["report"]["reports"][r["error_model"]]["runs"][t["run"]][r["model"]]["evidence"]
            s = post["posterior"]["sigma_int"]
            who = "MOND (RAR ν)" if r["model"] == "mond" else "Σ-Gravity A0 × k"
            rows.append([f"{text(who)}, {code(r['error_model'])} (comparison; {r['delta_vs_best_error_model']:+.0f} nat "
                         "to the model's best error model)", a0_cell(post["posterior"]),
                         f"{number(s['mean'])} ± {number(s['sd'], 2)}"])
    for record, label in ((mond, "MOND (RAR ν), this sweep"), (sigma, "Σ-Gravity A0 × k, this sweep")):
        axes = record["report"]["posterior"]["axes"]
        s = axes["sigma_int"]
        rows.append([text(label) + f" ({code('docs/results/' + record['name'] + '.json')})", a0_cell(axes),
                     f"{number(s['mean'])} ± {number(s['sd'], 2)}"])
    rows += [[text(who), text(a0), text(scatter)] for who, a0, scatter in LITERATURE_SCATTER]
    return (table(["", "a0 [10⁻¹⁰ m/s²]", "scatter [dex]"], rows, "lrr")
            + "\nThe literature rows are values quoted in the issue that asked for this study, not figures of the "
              "seed files: they are context, not published figures sigcube reproduces. "
              "This study's rows are posterior means ± sd on the grid (the global prior, the Li+2018 nuisance priors "
              "and the error model as named: the comparison's rows marginalise σ_int over a range fixed in "
              "advance (the priors are in the comparison's table), and its floor beside it under "
            + code("lognormal+sigma_floor") + "; the sweeps use the first-order log-normal model on a zoomed grid)."
              " The error models the data prefer (a velocity floor and "
              "a velocity scale per galaxy) measure the scatter in km/s and are not in this table: their rows are in "
              "the comparison's. The scatters differ in kind: "
              "this σ_int and Desmond's are intrinsic (beyond the quoted errors, Υ, D and i), Li+2018's remains after "
              "per-galaxy fits, McGaugh+2016's is the observed scatter of the RAR, errors included.\n")


# --- sigcube report population -----------------------------------------------------------------------------------


def _ci(a: list[float], digits: int = 4) -> str:
    return f"{number(a[0], digits)} – {number(a[1], digits)}"


def _errors_label(r: Mapping[str, Any]) -> str:
    """A population report's error model in words (from its cube's spec)."""
    em = r.get("error_model")
    if not em:
        return "as stated in the report"
    if em["error_model"] == "quoted errors":
        return "quoted errors"
    sigma = em["sigma_int"]
    if isinstance(sigma, list):
        label = f"{em['error_model']} σ_int marginalised ({_ci(sigma, 3)})"
    else:
        label = f"{em['error_model']} σ_int = {sigma:g}"
    floor = em.get("sigma_floor") or []
    floors = [f for f in (floor if isinstance(floor, list) else [floor]) if f]
    tau = em.get("tau_gal")
    tau_label = (f"τ_gal marginalised ({_ci(tau, 3)})" if isinstance(tau, list) else f"τ_gal = {number(tau, 3)}")
    stacked = " stacked" if len(floors) > 1 else ""
    return (label + (f" + floor {', '.join(number(f) for f in floors)} km/s{stacked}" if floors else "")
            + (f" + each galaxy's velocity scale, {tau_label}" if tau else ""))


def population_summary(recs: Mapping[str, Mapping[str, Any] | None]) -> str:
    """The population reports side by side, and the published answers to the same question."""
    rows, readings, literature = [], [], {}
    for name, rec in recs.items():
        if rec is None:
            rows.append([code(name), "not committed", "", "", "", ""])
            continue
        r = rec["report"]
        k_note = " (k marginalised)" if "k" in r["others"]["shared"] else ""
        rows.append([code(r["kernel"]) + " " + text(r["parameter"] + k_note), r["objects"], text(_errors_label(r)),
                     _ci(r["mu"]["theta"]["ci95"], 3), f"{number(r['tau']['mean'], 3)} ({_ci(r['tau']['ci95'], 3)})",
                     f"{r['ln_bayes_factor']:+.1f}" + (f" ± {r['ln_bayes_factor_error']:.2f}"
                                                       if "ln_bayes_factor_error" in r else "")])
        readings.append(f"{code(r['kernel'])} {text(r['parameter'] + k_note + ', ' + _errors_label(r))}: "
                        f"{text(r['interpretation'].split('nat: ', 1)[1])}")
        for lit in r["literature"]:
            literature[lit["who"]] = lit["finding"] + (f" (sample: {lit['sample']})" if lit.get("sample") else "")
    out = table(["model", "galaxies", "errors", "95 % of 10^μ", "τ [dex]: mean (95 %)", "ln B(τ = 0 : τ > 0)"],
                rows, "lrlrrr")
    out += "\nEach report's reading of its Bayes factor:\n\n" + items(readings)
    if literature:
        out += "\nPublished answers (literature, not seed figures):\n\n" + bullets(
            [f"{who}: {finding}" for who, finding in literature.items()])
    return out


def _theta(h: Mapping[str, Any], level: str = "ci95") -> str:
    """10^μ's median and interval of a log population's μ (or μ itself)."""
    if "theta" in h:
        t = h["theta"]
        return f"{number(t['median'])} ({_ci(t[level], 3)})"
    return f"{number(h['mean'])} ({_ci(h[level], 3)})"


def _hyper(models: Mapping[str, Any], name: str) -> str:
    """A model's hyper-parameters other than μ: mean (95 % interval)."""
    return "; ".join(f"{k} {number(v['mean'], 3)} ({_ci(v['ci95'], 3)})"
                     for k, v in models[name]["hyper"].items() if k != "mu") or "—"


def _verdict_sentences(questions: list[Mapping[str, Any]]) -> list[str]:
    return [f"{q['shape']}: ln B({q['universal']} : {q['spread']}) = {q['ln_b']:+.2f} ± {q['error']:.2f} nat — "
            f"{q['verdict']}: {q['reading']}" for q in questions]


def population_models(record: Mapping[str, Any]) -> str:
    """One cube's population report: every model by evidence, each shape's question, the outliers and the forest
    data's furthest objects."""
    r = record["report"]
    out = [provenance(record)]
    group = next(iter(r["objects_table"]))
    errors = f"error model {text(_errors_label(r))}" if r.get("error_model") else "error model as stated below"
    out.append(f"Sweep {code(r['sweep'])} (kernel {code(r['kernel'])}): {r['objects']} objects along {code(group)}, "
               f"{r['points']:,} points; {r['grid']['points']} grid values of {text(r['unit'])} from "
               f"{number(r['grid']['range'][0])} to {number(r['grid']['range'][1])}; {errors}. Other grid axes: "
               f"{text(r['others']['how'])}.\n\n")
    rows = [[code(row["model"]), f"{fixed(row['log_evidence'], 2)} ± {fixed(row['error'], 2)}",
             fixed(row["delta"], 2), _theta(r["models"][row["model"]]["hyper"]["mu"]),
             text(_hyper(r["models"], row["model"])), len(r["models"][row["model"]]["outliers"])]
            for row in r["ranking"]]
    out.append("Each population model by its evidence (ln Z ± its numerical error; the hyper-parameters' posterior "
               "mean and 95 % interval):\n\n"
               + table(["model", "ln Z [nat]", "Δ ln Z", "10^μ (95 %)", "other hyper-parameters",
                        "outliers"], rows, "lrrrlr"))
    out.append(f"\n{text(r['best'])}.\n\n" + bullets(_verdict_sentences(r["questions"])))
    for name, m in r["models"].items():
        if m["outliers"]:
            out.append(f"- Outliers of {code(name)} ({len(m['outliers'])}; {text(m['outlier_rule'])}): "
                       + ", ".join(code(g) for g in m["outliers"]) + "\n")
    forest = r["forest"]
    pull = forest["shrunk"]["gaussian"]["pull"] if "gaussian" in forest["shrunk"] else None
    if pull:
        order = sorted(range(len(pull)), key=lambda i: -abs(pull[i] or 0))[:10]
        shown = [m for m in ("gaussian", "mixture", "outliers") if m in forest["shrunk"]]
        rows = [[code(forest["names"][i]), f"{number(forest['own']['median'][i])} ({_ci(forest['own']['ci95'][i], 3)})",
                 *(f"{number(forest['shrunk'][m]['median'][i])} ({_ci(forest['shrunk'][m]['ci95'][i], 3)})"
                   for m in shown), f"{pull[i]:+.1f}"] for i in order]
        out.append("\nThe ten objects furthest from μ (Gaussian pull), their own estimate and their shrunk posterior "
                   "under each model — median (95 %) of " + text(forest["unit"]) + "; every object's numbers are in "
                   "the report's " + code("forest") + " field:\n\n"
                   + table([group, "own", *(f"shrunk: {m}" for m in shown), "pull"], rows, "l" + "r" * (len(shown) + 2)))
    if r["warnings"]:
        out.append("\n" + bullets(r["warnings"]))
    out.append("\nWhat the answer rests on (every prior, the likelihood, the count of parameters):\n\n"
               + bullets([r["likelihood_note"], r["fitted"]["statement"],
                          *(f"{name}: {m['describe']}" for name, m in r["models"].items()), *r["nuisance"]["model"]]))
    out.append(terminal(record, "population"))
    return "".join(out)


def _verdict_word(row: Mapping[str, Any]) -> str:
    return {"universal": "**universal**", "not universal": "not universal", "undecided": "undecided"}[row["verdict"]]


def li2018_table(record: Mapping[str, Any]) -> str:
    """The Li+2018 set-up and one choice changed per row: ln B and the verdict of each row, and which single choice
    moves the verdict."""
    r = record["report"]
    out = [provenance(record)]
    preset = r.get("preset") or {}
    if preset:
        out.append(f"The {code(preset['name'])} preset ({text(preset['who'])}; sweep {code(preset['spec'])}) sets "
                   "these options:\n\n" + bullets(preset["options"]) + "Their headline statements:\n\n"
                   + bullets(preset["statements"]) + "What could not be verified:\n\n" + bullets(preset["unverified"]))
    rows, setups = [], []
    for row in r["rows"]:
        spread = row["models"][row["spread"]]["hyper"]
        core = next((spread[k] for k in ("tau", "tau_t", "tau_c") if k in spread), None)
        f = next((row["models"][m]["hyper"]["f"] for m in (row["spread"], row["universal"])
                  if "f" in row["models"][m]["hyper"]), None)
        setups.append([text(row["label"]), code(row["change"] or "—"), row["objects"], text(row["error_model"]),
                       code(row["shape"])])
        rows.append([text(row["label"]), f"{row['ln_b']:+.2f} ± {row['error']:.2f}", _verdict_word(row),
                     "—" if core is None else f"{number(core['mean'], 3)} ({_ci(core['ci95'], 3)})",
                     "—" if f is None else f"{number(f['mean'], 3)} ({_ci(f['ci95'], 3)})", code(row["best_model"])])
    out.append(table(["row", "choice changed", "galaxies", "errors", "shape"], setups, "llrll"))
    out.append("\nEach row's answer: ln B(universal : spread) ± its numerical error, the verdict, the spread's core "
               "width τ and outlier share f (mean, 95 %), and the best model of the row's analysis:\n\n"
               + table(["row", "ln B [nat]", "verdict", "τ [dex]", "f", "best model"], rows, "lrlrrl"))
    base = r["rows"][0]
    flips = [row for row in r["rows"][1:] if row["verdict"] != base["verdict"]]
    words = [f"In the Li+2018 set-up the verdict is {base['verdict']} (ln B = {base['ln_b']:+.2f} ± "
             f"{base['error']:.2f} nat)."]
    if flips:
        words.append("Changing one choice moves it in " + "; ".join(
            f"{row['label']} → {row['verdict']} (ln B = {row['ln_b']:+.2f} ± {row['error']:.2f})" for row in flips)
            + ".")
    else:
        words.append("No single choice of the table moves it: every row's verdict is " + base["verdict"] + ".")
    own = r.get("own_terms")
    if own:
        words.append(f"Li+2018's own test, per galaxy (each alone, a0 fixed at {number(own['value'])} m/s² against its "
                     f"own a0): {own['statement']}; as fractions "
                     f"{percent(own['gain_above_2']['value'])} (95 % {percent(own['gain_above_2']['ci'][0])}–"
                     f"{percent(own['gain_above_2']['ci'][1])}) gain more than 2 nat and "
                     f"{percent(own['own_favoured']['value'])} (95 % {percent(own['own_favoured']['ci'][0])}–"
                     f"{percent(own['own_favoured']['ci'][1])}) favour their own a0.")
    out.append("\n" + bullets(words) + f"Verdicts: {text(r['verdict_rule'])}.\n\n")
    out.append("Published answers to the same question, each with the sample it rests on:\n\n" + bullets(
        [f"{lit['who']} — sample: {lit['sample']}; assumed: {lit['assumed']}; finding: {lit['finding']}"
         for lit in r["literature"]]))
    notes = [f"{row['label']}: {w}" for row in r["rows"] for w in row["warnings"]]
    if notes:
        out.append(details("Warnings of the rows' analyses", "\n".join(f"- {n}" for n in notes)))
    out.append(terminal(record, "population_table", width=200))
    return "".join(out)


def error_models_table(record: Mapping[str, Any]) -> str:
    """The error models by evidence for each kernel, the best named, and MOND's a0 under each beside the
    literature's."""
    r = record["report"]
    out = [provenance(record)]
    by_kernel: dict[str, list[Mapping[str, Any]]] = {}
    for row in r["rows"]:
        by_kernel.setdefault(row["kernel"], []).append(row)
    words = []
    for kernel, rows in by_kernel.items():
        ranked = sorted(rows, key=lambda row: -row["models"]["universal"]["log_evidence"])
        best = ranked[0]["models"]["universal"]
        lines = []
        for row in rows:
            uni = row["models"]["universal"]
            scatter = "; ".join(f"{k} {number(v['mean'], 3)} ± {number(v['sd'], 2)}"
                                for k, v in uni["hyper"].items() if k != "mu") or "—"
            lines.append([text(row["error_model"]), row["objects"],
                          f"{fixed(uni['log_evidence'], 2)} ± {fixed(uni['error'], 2)}",
                          fixed(uni["log_evidence"] - best["log_evidence"], 2), text(scatter),
                          _theta(uni["hyper"]["mu"], "ci68")])
        param = rows[0]["parameter"]
        out.append(f"## {text(kernel)}: {text(param)}\n\n"
                   f"ln Z of one universal {text(param)} ± its numerical error, the scatter's posterior (mean ± sd) "
                   f"and 10^μ of {text(param)} (median, 68 %) under each error model:\n\n" + table(
            ["error model", "galaxies", "ln Z [nat]", "Δ ln Z", "scatter", "10^μ (68 %)"], lines, "lrrrlr")
                   + "\n")
        gap = ranked[0]["models"]["universal"]["log_evidence"] - (ranked[1]["models"]["universal"]["log_evidence"]
                                                                   if len(ranked) > 1 else math.nan)
        err = ranked[0]["models"]["universal"]["error"] + (ranked[1]["models"]["universal"]["error"]
                                                            if len(ranked) > 1 else 0.0)
        if len(ranked) > 1 and abs(gap) > 3 * err:
            words.append(f"{kernel}: the best error model is {ranked[0]['error_model']}, {gap:.2f} ± {err:.2f} nat "
                         f"above {ranked[1]['error_model']}.")
        elif len(ranked) > 1:
            words.append(f"{kernel}: {ranked[0]['error_model']} and {ranked[1]['error_model']} are undecided "
                         f"({gap:.2f} ± {err:.2f} nat).")
    out.append(bullets(words))
    lit_rows = [[text(lit["who"]), "—" if lit["a0"] is None else
                 f"{lit['a0']:g} ± {lit['stat']:g} (stat)" + (f" ± {lit['sys']:g} (sys)" if lit.get("sys") else ""),
                 text(lit["seed"]) if lit.get("seed") else "not a seed figure"] for lit in r["literature"]]
    out.append("MOND's a0 in the literature [10⁻¹⁰ m/s²], with what each assumed (abstracts; the SI's figure is "
               "the only seed figure among them):\n\n" + table(["", "a0", "seed"], lit_rows, "lrl")
               + "\n" + bullets(f"{lit['who']} — sample: {lit['sample']}; assumed: {lit['assumed']}; error model: "
                                 f"{lit['error_model']}" for lit in r["literature"]))
    notes = [f"{row['label']}: {w}" for row in r["rows"] for w in row["warnings"]]
    if notes:
        out.append(details("Warnings of the rows' analyses", "\n".join(f"- {n}" for n in notes)))
    out.append(terminal(record, "population_table", width=220))
    return "".join(out)


def calibration(record: Mapping[str, Any]) -> str:
    """ln B(model : MOND) on synthetic samples drawn from each of the two models: its distribution per generating
    model, and each sample."""
    r = record["report"]
    model, ref = r["model"], r["reference"]
    out = [provenance(record),
           f"{r['n_samples']} samples drawn from each model on SPARC's galaxies; σ_int {text(r['scatter']['prior'])} "
           f"under {code(r['scatter']['error_model'])}"
           + "".join(f"; {symbol} {text(r['scatter'][key]['prior'])}" for key, symbol in
                     (("tau_gal", "τ_gal"), ("sigma_floor", "σ_fl")) if key in r["scatter"]) + "; drawn at "
           + "; ".join(f"{code(truth)} " + ", ".join(f"{text(p)} = {v:.4g}" for p, v in params.items())
                       for truth, params in r.get("drawn_at", {}).items()) + ".\n\n"]
    rows = []
    for truth, block in r["by_truth"].items():
        s, q = block["summary"], block["summary"]["quantiles"]
        rows.append([code(truth), f"{s['mean']:+.1f} ± {fixed(s['sd'], 1)}", f"{q['0.05']:+.1f} to {q['0.95']:+.1f}",
                     f"{s['min']:+.1f} to {s['max']:+.1f}", f"{s['positive']} of {s['n']}",
                     str(s["preferred"][model]), str(s["preferred"][ref]), str(s["not_distinguished"])])
    out.append(table(["drawn from", f"ln B({model} : {ref}) mean ± sd", "5–95 %", "range", "ln B > 0",
                      f"{model} preferred", f"{ref} preferred", "not distinguished"], rows, "lrrrrrrr") + "\n")
    samples = [[code(truth), str(x["seed"]), f"{x['ln_B']:+.2f} ± {fixed(x['ln_B_error'], 2)}",
                f"{x['elpd_diff']:+.1f} ± {fixed(x['elpd_se'], 1)}", text(x["preferred"] or "not distinguished")]
               for truth, block in r["by_truth"].items() for x in block["samples"]]
    out.append("Each sample:\n\n" + table(["drawn from", "seed", "ln B ± num.", "ΔELPD ± SE", "decision"], samples,
                                           "lrrrl") + "\n")
    out.append(items(f"{k}: {text(v)}" for k, v in r["conventions"].items()))
    return "".join(out)


# --- sigcube report clusters ---------------------------------------------------------------------------------------

CLUSTER_MODELS = {"sigma": "Σ-Gravity (cluster rule)", "mond": "MOND", "nfw-lcdm": "NFW-ΛCDM"}


def clusters(record: Mapping[str, Any]) -> str:
    r = record["report"]
    out = [provenance(record), text(r["data"]) + ".\n\n"]
    out.append(table(["model", "prior", "ln Z [nat]", "ELPD [nat]", "posterior edge mass"],
                     [[CLUSTER_MODELS[n], text(m["prior"]), f"{fixed(m['ln_z'], 2)} ± {number(m['error'], 2)}",
                       fixed(sum(m["elpd"]), 2), number(m["edge_mass"], 2)] for n, m in r["models"].items()],
                     "llrrr"))
    out.append("\n" + table(["pair", "ln B ± num.", "Bayes verdict", "ΔELPD (paired SE)", "predictive reading"],
                             [[f"{CLUSTER_MODELS[v['a']]} : {CLUSTER_MODELS[v['b']]}",
                               f"{fixed(v['ln_b'], 2)} ± {number(v['error'], 2)}", text(v["bayes"]),
                               f"{fixed(v['delta_elpd'], 1)} ({fixed(v['se'], 1)})", text(v["elpd"])]
                              for v in r["verdicts"]], "lrlrl"))
    pairs = [f"{CLUSTER_MODELS[v['a']]} : {CLUSTER_MODELS[v['b']]}" for v in r["verdicts"]]
    out.append("\nThe verdicts under other choices (ln B):\n\n"
               + table(["choice", *pairs], [[text(s["choice"]), *(fixed(v["ln_b"], 1) for v in s["verdicts"])]
                                            for s in r["sensitivity"]], "l" + "r" * len(pairs)))
    out.append("\n" + terminal(record, "clusters", width=200))
    return "".join(out)


# --- sigcube report verdict ----------------------------------------------------------------------------------------


def answer(record: Mapping[str, Any]) -> str:
    r = record["report"]
    lead = r["lead_error_model"]
    out = [provenance(record), text(f"Galaxy error model: {lead['name']}: {lead['basis']}.") + "\n\n"]
    rows, moves = [], []
    for row in r["rows"]:
        comparison, reading, moved = sources.verdict_cells(row)
        for k, (c, v) in enumerate(zip(comparison, reading + [""] * (len(comparison) - len(reading)))):
            rows.append([text(row["probe"]) if k == 0 else "", str(row["n"] or "") if k == 0 else "", text(c),
                         text(v)])
        if moved:
            moves.append(f"- **{text(row['probe'])}**: " + "; ".join(text(m) for m in moved))
    out.append(table(["probe", "n", "comparison", "reading"], rows, "lrll"))
    out.append("\n" + text("Calibration of the rotation curves' ln B: " + r["rows"][0]["calibration"]["reading"])
               + ".\n\nWhat moves each verdict:\n\n" + "\n".join(moves) + "\n\n")
    out.append("Choices that differ between the parts:\n\n" + ("\n".join(f"- {text(d)}" for d in r["differences"])
                                                              or "- none") + "\n\n")
    out.append("Not answered here:\n\n" + "\n".join(f"- {text(d)}" for d in r["not_answered"]) + "\n")
    out.append("\n" + terminal(record, "verdict", width=200))
    return "".join(out)


BY_SUBCOMMAND: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "sparc": sparc, "kernels": kernels, "sensitivity": sensitivity, "regression": regression, "ablation": ablation,
    "calibrate": calibration, "sweep": sweep, "joint": joint, "clusters": clusters, "verdict": answer,
}
"""The renderer of a committed report by the ``sigcube report`` subcommand that made it (``compare`` and
``population``, whose reports come in several kinds, are told apart by :func:`renderer`)."""
TABLES = {"choices": li2018_table, "error_models": error_models_table}
"""The population tables' renderers by the report's ``kind``."""


def renderer(record: Mapping[str, Any]) -> Callable[[Mapping[str, Any]], str]:
    """The function that writes a committed report's results page: by the subcommand of its last command, and for
    ``compare`` and ``population`` by what the report holds (an error-model table, a population table)."""
    subcommand, report = record["commands"][-1][1], record["report"]
    if subcommand == "compare":
        return compare_error_models if "error_model_table" in report else compare
    if subcommand == "population":
        return TABLES[report["kind"]] if "kind" in report else population_models
    return BY_SUBCOMMAND[subcommand]


def render(record: Mapping[str, Any]) -> str:
    """A committed report's results page."""
    return renderer(record)(record)
