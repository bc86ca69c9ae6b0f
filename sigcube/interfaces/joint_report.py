"""`sigcube report joint`: a joint sweep's posteriors, each dataset's own and the joint one side by side, with the
tension between the datasets (:mod:`sigcube.stats.tension`: shift, evidence ratio R, suspiciousness and its p, each
dataset against the rest, each with its numerical error) and every likelihood and prior stated. A dataset's variants
(the same data under other likelihood choices) each take its place in turn: the choices table says, one choice changed
at a time, what becomes of the tension."""

from __future__ import annotations

import itertools
import json
from typing import Any

import numpy as np
import xarray as xr
from rich.console import Console
from rich.table import Table
from scipy.special import logsumexp

from sigcube.stats.posterior import LEVELS, GridPosterior
from sigcube.stats.tension import MIN_SHARED, Tension, numerical_error, tension, verdict


def _axes_summary(post: GridPosterior) -> dict[str, Any]:
    out = {}
    for name in post.axes:
        m = post.marginal(name)
        out[name] = {"mean": m.mean, "sd": m.sd, "edge_mass": list(m.edge_mass), "on_edge": m.on_edge,
                     "unresolved": m.unresolved, **{f"ci{int(round(100 * lv))}": list(m.interval(lv)) for lv in LEVELS}}
    return out


def _tension(t: Tension, ll_a: xr.DataArray, ll_b: xr.DataArray, quadrature: float) -> dict[str, Any]:
    finite = t.dimensionality >= MIN_SHARED
    numerics = numerical_error(t, ll_a, ll_b, quadrature=quadrature)
    return {"a": t.a.name, "b": t.b.name, "parameters": list(t.parameters),
            "ln_z": {"a": t.a.log_evidence, "b": t.b.log_evidence, "joint": t.ab.log_evidence},
            "ln_r": t.ln_r, "ln_i": t.ln_i, "ln_s": t.ln_s,
            "dimensionality": {"a": t.a.dimensionality, "b": t.b.dimensionality, "joint": t.ab.dimensionality,
                               "shared": t.dimensionality},
            "p": t.p if finite else None, "n_sigma": t.sigma if finite else None,
            "shift": t.shift, "shift_p": float(np.exp(t.shift_log_p)), "shift_sigma": t.shift_sigma,
            "edge_mass": {"a": t.a.edge_mass, "b": t.b.edge_mass, "joint": t.ab.edge_mass},
            "numerical": numerics, "verdict": verdict(numerics["sigma_range"]),
            "shift_verdict": verdict(numerics["shift_sigma_range"]),
            "lines": t.describe()}


def _shared(ll_a: xr.DataArray, ll_b: xr.DataArray, constant: set[str]) -> tuple[xr.DataArray, xr.DataArray]:
    """Both ln L marginalised over the ``constant`` axes (those one of the two does not depend on) under the grid's
    equal-mass prior: ln L̄ = ln mean over those axes of L. What is left are the parameters both constrain."""
    axes = [d for d in ll_a.dims if d in constant]
    if not axes or len(axes) == len(ll_a.dims):
        return ll_a, ll_b

    def marginal(ll: xr.DataArray) -> xr.DataArray:
        n = int(np.prod([ll.sizes[d] for d in axes]))
        values = logsumexp(ll.values, axis=tuple(ll.dims.index(d) for d in axes)) - np.log(n)
        kept = [d for d in ll.dims if d not in axes]
        return xr.DataArray(values, dims=kept, coords={d: ll[d].values for d in kept})

    return marginal(ll_a), marginal(ll_b)


def _quadrature(probes: dict[str, dict[str, Any]], *labels: str) -> float:
    """The summed quadrature errors [nat] of the probes' ln L (0 where a probe has no estimate)."""
    return float(sum((probes[k].get("integral") or {}).get("quadrature_error") or 0.0 for k in labels))


def _changed(base: dict[str, Any], variant: dict[str, Any]) -> dict[str, list[Any]]:
    """The likelihood choices a variant makes differently from its dataset: name → [dataset's, variant's]."""
    a = base.get("likelihood_choices") or base.get("likelihood_options", {})
    b = variant.get("likelihood_choices") or variant.get("likelihood_options", {})
    return {k: [a.get(k), b.get(k)] for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}


GROUP_TITLES = {
    "data": "data systematics, each at its cited size, one at a time, then all of them together",
    "model": "model choices of Σ-Gravity (not data systematics): each alone, then with every data systematic",
    "choices": "each likelihood choice, one changed at a time from the reference",
}
"""What each row group of the choices table holds."""


def _groups(by_label: dict[str, dict[str, Any]], base: str, variants: list[str]) -> dict[str, list[str]]:
    """A dataset's variants by kind: ``data`` (changing data systematics only) and ``model`` (changing a choice its
    likelihood names a model option); a kind with no variant is left out. A result that does not say which options
    are model choices (made before they were named) keeps its variants in one group, ``choices``."""
    if "model_options" not in by_label[base]:
        return {"choices": variants} if variants else {}
    model = set(by_label[base].get("model_options") or ())
    out: dict[str, list[str]] = {"data": [], "model": []}
    for label in variants:
        out["model" if model & set(_changed(by_label[base], by_label[label])) else "data"].append(label)
    return {k: v for k, v in out.items() if v}


def joint_report(ds: xr.Dataset) -> dict[str, Any]:
    """The joint result cube ``ds`` (:func:`sigcube.engines.joint.open_joint`) as a report: every posterior (mean,
    sd, 68/95 % intervals, edge flags per axis), the log-evidences, the tension of each pair of datasets and, with
    three or more, of each against the rest; each variant in its dataset's place (the choices table); every
    likelihood, integral and the global prior. Variants that change a model choice (the dataset's ``model_options``)
    are a row group of their own, apart from the data systematics; a scan (one option over a list of sizes) gives the
    tension against that size, with the option's cited size."""
    probes = json.loads(ds.attrs["probes"])
    by_label = {p["label"]: p for p in probes}
    labels = [p["label"] for p in probes]
    datasets = [p["label"] for p in probes if not p.get("variant_of")]
    dims = list(ds["posterior_joint"].dims)
    axes = {d: np.asarray(ds[d].values, dtype=float) for d in dims}
    prior = ds.attrs["global_prior"]
    posts = {label: GridPosterior(axes, np.asarray(ds["posterior"].sel(probe=label).values, dtype=float), prior,
                                  float(ds["log_evidence"].sel(probe=label))) for label in labels}
    posts["joint"] = GridPosterior(axes, np.asarray(ds["posterior_joint"].values, dtype=float), prior,
                                   float(ds["log_evidence_joint"]))
    ll = {label: ds["loglike_total"].sel(probe=label).drop_vars("probe").transpose(*dims) for label in labels}

    constant = {label: set(by_label[label]["independent_of"]) for label in labels}

    def pair(a: str, b: str) -> dict[str, Any]:
        x, y = _shared(ll[a], ll[b], constant[a] | constant[b])
        return _tension(tension(x, y, names=(a, b), prior=prior), x, y, _quadrature(by_label, a, b))

    def against(name: str, others: list[str]) -> dict[str, Any]:
        rest = sum(ll[o] for o in others)
        x, y = _shared(ll[name], rest, constant[name] | set.intersection(*(constant[o] for o in others)))
        return _tension(tension(x, y, names=(name, f"rest({len(others)})"), prior=prior), x, y,
                        _quadrature(by_label, name, *others))

    pairs = [pair(a, b) for a, b in itertools.combinations(datasets, 2)]
    rest = {k: against(k, [o for o in datasets if o != k]) for k in datasets} if len(datasets) >= 3 else {}
    choices, scans = [], []
    for base in datasets:
        variants = [p["label"] for p in probes if p.get("variant_of") == base and not p.get("scan")]
        scanned = [p["label"] for p in probes if p.get("variant_of") == base and p.get("scan")]
        for other in (o for o in datasets if o != base):
            def row(label: str, base: str = base, other: str = other) -> dict[str, Any]:
                return {"probe": label, "changed": _changed(by_label[base], by_label[label]),
                        "description": by_label[label].get("description", ""),
                        "sources": by_label[label].get("sources") or {},
                        "posterior": _axes_summary(posts[label]), "tension": pair(other, label)}

            rows = {label: row(label) for label in (base, *variants, *scanned)}
            for kind, labels in _groups(by_label, base, variants).items():
                choices.append({"dataset": base, "against": other, "kind": kind, "title": GROUP_TITLES[kind],
                                "rows": [rows[label] for label in (base, *labels)]})
            for name in dict.fromkeys(by_label[label]["scan"]["name"] for label in scanned):
                members = [label for label in scanned if by_label[label]["scan"]["name"] == name]
                scan = by_label[members[0]]["scan"]
                option = scan["option"]
                base_value = (by_label[base].get("likelihood_choices") or {}).get(option)
                points = ([{**rows[base], "value": base_value}] if isinstance(base_value, (int, float)) else []) + [
                    {**rows[label], "value": by_label[label]["scan"]["value"]} for label in members]
                scans.append({"dataset": base, "against": other, "name": name, "option": option,
                              "description": scan.get("description", ""), "cited": scan.get("cited"),
                              "source": next((by_label[label].get("sources", {}).get(option) for label in members
                                              if by_label[label].get("sources", {}).get(option)), None),
                              "points": sorted(points, key=lambda x: x["value"])})
    total = np.asarray(ds["loglike_joint"].values, dtype=float)
    best = np.unravel_index(int(np.argmax(total)), total.shape)
    return {
        "joint": ds.attrs["joint_name"],
        "description": ds.attrs.get("description", ""),
        "kernel": ds.attrs["kernel"],
        "fixed_parameters": json.loads(ds.attrs["fixed_parameters"]),
        "grid": {d: int(ds.sizes[d]) for d in dims},
        "grid_range": {d: [float(v[0]), float(v[-1])] for d, v in axes.items()},
        "probes": [{k: p.get(k) for k in ("label", "dataset", "objects", "fixed", "independent_of", "likelihood",
                                          "likelihood_options", "likelihood_choices", "sources", "model_options",
                                          "scan", "cuts", "variant_of", "description", "range", "truncation",
                                          "integral")} for p in probes],
        "posterior": {name: {"log_evidence": p.log_evidence, "axes": _axes_summary(p)} for name, p in posts.items()},
        "max_loglike": {"joint": float(total[best]), "at": {d: float(axes[d][i]) for d, i in zip(dims, best)},
                        **{label: float(ll[label].values[best]) for label in datasets}},
        "tension": pairs,
        "against_rest": rest,
        "choices": choices,
        "scans": scans,
        "global_prior": prior,
        "assumptions": [
            f"global prior: {prior}, normalised over the grid; every number is an exact sum over the grid",
            "datasets independent given the shared parameters: ln L_joint = Σ ln L_dataset (a variant is the same data "
            "under another likelihood choice: it replaces its dataset, never multiplies it)",
            "each dataset's likelihood as stated under 'probes'; a dataset's ln L is constant along the axes it is "
            "independent_of (checked on its points before the run) and −∞ outside its range (checked: the mass left "
            "out is below e^−30 of the grid's)",
            "tension over the parameters both sides depend on: each side's ln L marginalised (grid prior) over the "
            "axes one of the two is independent_of, which carry no shared information",
            "tension: Handley & Lemos 2019 suspiciousness with the Bayesian model dimensionality; the shift assumes "
            "near-Gaussian posteriors; R and I depend on the prior volume (the grid's ranges), S and d do not",
            "numerical error: each statistic recomputed on every second grid point (grid error), ln S also ± 2 × the "
            "probes' quadrature errors of ln L; a verdict whose σ range straddles 2σ or 3σ is undecided; a dataset's "
            "fixed-node nuisance integral (rotation curves) has no error estimate here",
        ],
    }


def _pm(value: float | None, error: float | None, digits: int = 2) -> str:
    if value is None:
        return "—"
    return f"{value:.{digits}f}" + ("" if error is None or not np.isfinite(error) else f" ± {error:.{digits}f}")


def _choice(value: Any) -> str:
    """A likelihood choice as printed: a size to 3 significant digits."""
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _sigma(t: dict[str, Any]) -> str:
    r = t["numerical"]["sigma_range"]
    if t["n_sigma"] is None or r is None:
        return "—"
    return f"{t['n_sigma']:.2f} [{r[0]:.2f}, {r[1]:.2f}]"


def render(report: dict[str, Any], console: Console | None = None) -> None:
    """Print the joint report: posteriors side by side, the tension table, the choices table, every assumption."""
    console = console or Console()
    grid = " × ".join(f"{k}[{v}]" for k, v in report["grid"].items())
    datasets = [p["label"] for p in report["probes"] if not p.get("variant_of")]
    names = datasets + ["joint"]
    constant = {p["label"]: set(p["independent_of"]) for p in report["probes"]}
    table = Table(title=f"joint sweep {report['joint']!r}: {report['kernel']} over {grid}", title_justify="left")
    table.add_column("parameter")
    for name in names:
        table.add_column(f"{name}: mean ± sd [68 %]", justify="right")
    for axis in report["grid"]:
        row = [axis]
        for name in names:
            a = report["posterior"][name]["axes"][axis]
            flag = " ⚠edge" if a["on_edge"] else ""
            row.append("— (constant along it: the prior)" if axis in constant.get(name, ()) else
                       f"{a['mean']:.4g} ± {a['sd']:.2g} [{a['ci68'][0]:.4g}, {a['ci68'][1]:.4g}]{flag}")
        table.add_row(*row)
    table.add_row("ln Z [nat]", *(f"{report['posterior'][n]['log_evidence']:.2f}" for n in names))
    console.print(table)
    tab = Table(title="tension between datasets (exact on the grid; ± numerical error)", title_justify="left")
    for col in ("pair", "shift m", "shift σ", "ln R", "ln S", "d", "p (S)", "σ (S) [range]", "verdict (S)"):
        tab.add_column(col, justify="left" if col in ("pair", "verdict (S)") else "right")
    for t in [*report["tension"], *report["against_rest"].values()]:
        e = t["numerical"]["error"]
        p = "—" if t["p"] is None else f"{t['p']:.3g}"
        tab.add_row(f"{t['a']} vs {t['b']}", _pm(t["shift"], e["shift"], 3), f"{t['shift_sigma']:.2f}",
                    f"{t['ln_r']:.2f}", _pm(t["ln_s"], e["ln_s"]), _pm(t["dimensionality"]["shared"],
                                                                        e["dimensionality"]), p, _sigma(t),
                    t["verdict"])
    console.print(tab)
    for group in report["choices"]:
        first = next(iter(group["rows"][0]["posterior"]))
        tab = Table(title=f"{group['dataset']} against {group['against']}: "
                          + group.get("title", "each likelihood choice, one changed at a time"), title_justify="left")
        for col in ("probe", "changed", f"{first}: mean ± sd", "shift m (σ)", "ln S", "d", "σ (S) [range]",
                    "verdict (S)"):
            tab.add_column(col, justify="left" if col in ("probe", "changed", "verdict (S)") else "right")
        for row in group["rows"]:
            t, e = row["tension"], row["tension"]["numerical"]["error"]
            a = row["posterior"][first]
            changed = "; ".join(f"{k}: {_choice(v[0])} → {_choice(v[1])}" for k, v in row["changed"].items()
                                ) or "(the dataset's own)"
            tab.add_row(row["probe"], changed, f"{a['mean']:.4g} ± {a['sd']:.2g}",
                        f"{_pm(t['shift'], e['shift'])} ({t['shift_sigma']:.2f}σ)", _pm(t["ln_s"], e["ln_s"]),
                        _pm(t["dimensionality"]["shared"], e["dimensionality"]), _sigma(t), t["verdict"])
        console.print(tab)
    for scan in report.get("scans", []):
        cited = "" if scan["cited"] is None else f" (cited size {scan['cited']:.3g})"
        tab = Table(title=f"{scan['dataset']} against {scan['against']}: the tension against {scan['option']}"
                          f"{cited}, scan {scan['name']!r}", title_justify="left")
        for col in (scan["option"], "mean ± sd", "shift m (σ)", "ln S", "σ (S) [range]", "verdict (S)"):
            tab.add_column(col, justify="left" if col == "verdict (S)" else "right")
        for point in scan["points"]:
            t, e = point["tension"], point["tension"]["numerical"]["error"]
            a = next(iter(point["posterior"].values()))
            tab.add_row(f"{point['value']:.4g}", f"{a['mean']:.4g} ± {a['sd']:.2g}",
                        f"{_pm(t['shift'], e['shift'])} ({t['shift_sigma']:.2f}σ)", _pm(t["ln_s"], e["ln_s"]),
                        _sigma(t), t["verdict"])
        console.print(tab)
    for t in [*report["tension"], *report["against_rest"].values()]:
        for line in t["lines"]:
            console.print(line, highlight=False, markup=False, soft_wrap=True)
    console.print("likelihoods:", highlight=False, markup=False)
    shown_scans: set[str] = set()
    for p in report["probes"]:
        scan = p.get("scan")
        if scan and scan["name"] in shown_scans:
            continue  # one line per scan: its first value's likelihood stands for the others
        integral = p.get("integral") or {}
        error = integral.get("quadrature_error")
        numerics = ("" if not integral.get("nodes") else
                    f"; {integral['nodes']} nodes per nuisance dimension, quadrature error "
                    + ("not estimated" if error is None else f"{error:.2g} nat"
                       + ("" if integral.get("settled") else " (⚠ not settled)")))
        where = "".join(f"; evaluated on {k} ∈ [{v[0]:g}, {v[1]:g}] (ln L at the range's inner ends "
                        + ", ".join(f"{e:.0f}" for e in p["truncation"][k] if e is not None)
                        + " nat below its largest)" for k, v in (p.get("range") or {}).items())
        kind = f"variant of {p['variant_of']}" if p.get("variant_of") else p["dataset"]
        if scan:
            shown_scans.add(scan["name"])
            values = [q["scan"]["value"] for q in report["probes"] if (q.get("scan") or {}).get("name") == scan["name"]]
            kind += f"; scan {scan['name']!r}: {scan['option']} = " + ", ".join(f"{v:g}" for v in values) + ", shown at the first"
        sources = "; ".join(f"{k}: {v}" for k, v in (p.get("sources") or {}).items())
        sources = f"; sources — {sources}" if sources else ""
        console.print(f"  {p['label']} ({kind}, {p['objects']} objects, fixed {p['fixed']}, constant along "
                      f"{', '.join(p['independent_of']) or 'none'}): {p['likelihood']}{numerics}{where}{sources}",
                      highlight=False, markup=False, soft_wrap=True)
    for line in report["assumptions"]:
        console.print(f"• {line}", highlight=False, markup=False, soft_wrap=True)
