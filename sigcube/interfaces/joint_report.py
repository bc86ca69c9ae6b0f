"""`sigcube report joint`: a joint sweep's posteriors, each dataset's own and the joint one side by side, with the
tension between the datasets (:mod:`sigcube.stats.tension`: shift, evidence ratio R, suspiciousness and its p, each
dataset against the rest) and every likelihood and prior stated."""

from __future__ import annotations

import itertools
import json
from typing import Any

import numpy as np
import xarray as xr
from rich.console import Console
from rich.table import Table

from sigcube.stats.posterior import LEVELS, GridPosterior
from sigcube.stats.tension import Tension, against_rest, tension


def _axes_summary(post: GridPosterior) -> dict[str, Any]:
    out = {}
    for name in post.axes:
        m = post.marginal(name)
        out[name] = {"mean": m.mean, "sd": m.sd, "edge_mass": list(m.edge_mass), "on_edge": m.on_edge,
                     "unresolved": m.unresolved, **{f"ci{int(round(100 * lv))}": list(m.interval(lv)) for lv in LEVELS}}
    return out


def _tension(t: Tension) -> dict[str, Any]:
    finite = t.dimensionality > 0
    return {"a": t.a.name, "b": t.b.name, "parameters": list(t.parameters),
            "ln_z": {"a": t.a.log_evidence, "b": t.b.log_evidence, "joint": t.ab.log_evidence},
            "ln_r": t.ln_r, "ln_i": t.ln_i, "ln_s": t.ln_s,
            "dimensionality": {"a": t.a.dimensionality, "b": t.b.dimensionality, "joint": t.ab.dimensionality,
                               "shared": t.dimensionality},
            "p": t.p if finite else None, "n_sigma": t.sigma if finite else None,
            "shift": t.shift, "shift_p": float(np.exp(t.shift_log_p)), "shift_sigma": t.shift_sigma,
            "edge_mass": {"a": t.a.edge_mass, "b": t.b.edge_mass, "joint": t.ab.edge_mass},
            "lines": t.describe()}


def joint_report(ds: xr.Dataset) -> dict[str, Any]:
    """The joint result cube ``ds`` (:func:`sigcube.engines.joint.open_joint`) as a report: every posterior (mean,
    sd, 68/95 % intervals, edge flags per axis), the log-evidences, the tension of each pair of datasets and, with
    three or more, of each against the rest; every likelihood and the global prior."""
    probes = json.loads(ds.attrs["probes"])
    labels = [p["label"] for p in probes]
    dims = list(ds["posterior_joint"].dims)
    axes = {d: np.asarray(ds[d].values, dtype=float) for d in dims}
    prior = ds.attrs["global_prior"]
    posts = {label: GridPosterior(axes, np.asarray(ds["posterior"].sel(probe=label).values, dtype=float), prior,
                                  float(ds["log_evidence"].sel(probe=label))) for label in labels}
    posts["joint"] = GridPosterior(axes, np.asarray(ds["posterior_joint"].values, dtype=float), prior,
                                   float(ds["log_evidence_joint"]))
    ll = {label: ds["loglike_total"].sel(probe=label).drop_vars("probe").transpose(*dims) for label in labels}
    pairs = [_tension(tension(ll[a], ll[b], names=(a, b), prior=prior)) for a, b in itertools.combinations(labels, 2)]
    rest = {k: _tension(v) for k, v in against_rest(ll, prior=prior).items()} if len(labels) >= 3 else {}
    total = np.asarray(ds["loglike_joint"].values, dtype=float)
    best = np.unravel_index(int(np.argmax(total)), total.shape)
    return {
        "joint": ds.attrs["joint_name"],
        "description": ds.attrs.get("description", ""),
        "kernel": ds.attrs["kernel"],
        "fixed_parameters": json.loads(ds.attrs["fixed_parameters"]),
        "grid": {d: int(ds.sizes[d]) for d in dims},
        "grid_range": {d: [float(v[0]), float(v[-1])] for d, v in axes.items()},
        "probes": [{k: p[k] for k in ("label", "dataset", "objects", "fixed", "independent_of", "likelihood",
                                      "likelihood_options", "cuts")} for p in probes],
        "posterior": {name: {"log_evidence": p.log_evidence, "axes": _axes_summary(p)} for name, p in posts.items()},
        "max_loglike": {"joint": float(total[best]), "at": {d: float(axes[d][i]) for d, i in zip(dims, best)},
                        **{label: float(ll[label].values[best]) for label in labels}},
        "tension": pairs,
        "against_rest": rest,
        "global_prior": prior,
        "assumptions": [
            f"global prior: {prior}, normalised over the grid; every number is an exact sum over the grid",
            "datasets independent given the shared parameters: ln L_joint = Σ ln L_dataset",
            "each dataset's likelihood as stated under 'probes'; a dataset's ln L is constant along the axes it is "
            "independent_of (checked on its points before the run)",
            "tension: Handley & Lemos 2019 suspiciousness with the Bayesian model dimensionality; the shift assumes "
            "near-Gaussian posteriors; R and I depend on the prior volume (the grid's ranges), S and d do not",
        ],
    }


def render(report: dict[str, Any], console: Console | None = None) -> None:
    """Print the joint report: posteriors side by side, the tension table, every assumption."""
    console = console or Console()
    grid = " × ".join(f"{k}[{v}]" for k, v in report["grid"].items())
    names = [p["label"] for p in report["probes"]] + ["joint"]
    table = Table(title=f"joint sweep {report['joint']!r}: {report['kernel']} over {grid}", title_justify="left")
    table.add_column("parameter")
    for name in names:
        table.add_column(f"{name}: mean ± sd [68 %]", justify="right")
    for axis in report["grid"]:
        row = [axis]
        for name in names:
            a = report["posterior"][name]["axes"][axis]
            flag = " ⚠edge" if a["on_edge"] else ""
            row.append(f"{a['mean']:.4g} ± {a['sd']:.2g} [{a['ci68'][0]:.4g}, {a['ci68'][1]:.4g}]{flag}")
        table.add_row(*row)
    table.add_row("ln Z [nat]", *(f"{report['posterior'][n]['log_evidence']:.2f}" for n in names))
    console.print(table)
    tab = Table(title="tension between datasets (exact on the grid)", title_justify="left")
    for col in ("pair", "shift m", "shift σ", "ln R", "ln S", "d", "p (S)", "σ (S)"):
        tab.add_column(col, justify="left" if col == "pair" else "right")
    for t in [*report["tension"], *report["against_rest"].values()]:
        p = "—" if t["p"] is None else f"{t['p']:.3g}"
        s = "—" if t["n_sigma"] is None else f"{t['n_sigma']:.2f}"
        tab.add_row(f"{t['a']} vs {t['b']}", f"{t['shift']:.3g}", f"{t['shift_sigma']:.2f}", f"{t['ln_r']:.2f}",
                    f"{t['ln_s']:.2f}", f"{t['dimensionality']['shared']:.2f}", p, s)
    console.print(tab)
    for t in [*report["tension"], *report["against_rest"].values()]:
        for line in t["lines"]:
            console.print(line, highlight=False, markup=False, soft_wrap=True)
    console.print("likelihoods:", highlight=False, markup=False)
    for p in report["probes"]:
        console.print(f"  {p['label']} ({p['dataset']}, {p['objects']} objects, fixed {p['fixed']}, constant along "
                      f"{', '.join(p['independent_of']) or 'none'}): {p['likelihood']}",
                      highlight=False, markup=False, soft_wrap=True)
    for line in report["assumptions"]:
        console.print(f"• {line}", highlight=False, markup=False, soft_wrap=True)
