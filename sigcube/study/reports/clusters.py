"""`sigcube report clusters`: Σ-Gravity, MOND and NFW-ΛCDM halos on the CLASH lensing masses, by one rule.

The three models are judged on the same data and likelihood (the Mistele+2025 M(<r) at the radii inside Tian+2020's
range, their published correlation matrices: the ``clusters:lensing`` view) as the galaxies are: each model's evidence
under stated priors, the exact leave-one-cluster-out predictive density, and the decision rules of
:mod:`sigcube.stats.verdicts`.

- **Σ-Gravity** with the paper's cluster rule (preset ``paper``, D = 1, L = 600 kpc, L0 = 0.4 kpc, n = 0.27: paper
  §2.12, SI §1), A0 global under the prior ``report compare`` gives it on galaxies; no slip.
- **MOND**, a0 global under ``report compare``'s prior.
- **NFW-ΛCDM**, a halo per cluster (:mod:`sigcube.stats.cluster_halos`): M200 log-uniform, c200 about Dutton &
  Macciò 2014's relation at the cluster's redshift. Its leave-one-out density of a cluster is that cluster's own
  evidence (no parameter is shared).

The global models' integrals are on a grid of their one parameter (the trapezoid rule; the numerical error is the change
when every second point is dropped). The sensitivity rows redo the verdicts with the other choices a reader may ask
about: the lensing errors with their systematic part, the priors of the joint sweeps (wider), and the halo prior's
mass range and concentration scatter.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import xarray as xr
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from scipy.special import logsumexp

from sigcube.io.ingest.clusters import LensingLikelihood, cluster_redshift, lensing_likelihood
from sigcube.model.kernels import get_kernel
from sigcube.model.kernels.presets import get_preset
from sigcube.stats.cluster_halos import CONFLICT, EDGE, HaloPrior, halo_evidence
from sigcube.stats.intrinsic_scatter import trapezoid_weights
from sigcube.stats.logo import loo_exact, standard_error
from sigcube.stats.verdicts import bayes_verdict, elpd_verdict
from sigcube.study.reports.compare_models import MODELS

CLUSTER_RULE = {"D": 1.0, "L": 600.0, "L0": 0.4, "n": 0.27}
"""Σ-Gravity's cluster rule as the joint sweeps fix it (paper §2.12, SI §1)."""
GRID_POINTS = 4001
"""Points of a global model's one-parameter grid (odd: dropping every second point keeps both ends)."""
JOINT_PRIORS = {"sigma": ("A0", (0.2, 2.0), "linear"), "mond": ("a0", (5e-11, 4e-9), "log")}
"""The wider priors of the joint sweeps (``sweeps/joint_*_sparc_clash.toml``): a sensitivity row."""
MASS_RANGES = ((14.0, 15.8), (13.0, 16.5))
"""The halo prior's other log10 M200 ranges of the sensitivity rows (narrower, wider than :class:`HaloPrior`'s)."""
MODEL_NAMES = {"sigma": "Σ-Gravity (cluster rule)", "mond": "MOND", "nfw-lcdm": "NFW-ΛCDM"}


CLUSTER_PARAMETER = {"sigma": "A0", "mond": "a0"}
"""The one global parameter a cluster's prediction depends on (Σ's k scales ξ by R_d, which is 0 for a cluster)."""


def _compare_prior(model: str) -> tuple[str, tuple[float, float], str]:
    """``report compare``'s prior of the model's cluster parameter: (name, bounds, scale)."""
    name = CLUSTER_PARAMETER[model]
    table = MODELS[model].global_params[name]
    return name, tuple(table["bounds"]), table.get("scale", "linear")


def global_model(likelihood: LensingLikelihood, model: str, prior: tuple[str, tuple[float, float], str]
                 ) -> dict[str, Any]:
    """A one-parameter model's ln Z, its error, the posterior and each cluster's exact leave-one-out density."""
    name, (lo, hi), scale = prior
    grid = np.geomspace(lo, hi, GRID_POINTS) if scale == "log" else np.linspace(lo, hi, GRID_POINTS)
    params = {**get_preset("paper").kernel_params(), **CLUSTER_RULE} if model == "sigma" else {}
    values = likelihood.evaluate(get_kernel(model), params, {name: grid}).values
    log_w = np.log(trapezoid_weights(GRID_POINTS))
    total = values.sum(axis=1)
    ln_z = float(logsumexp(total + log_w))
    coarse = float(logsumexp(total[::2] + np.log(trapezoid_weights(GRID_POINTS // 2 + 1))))
    post = np.exp(total + log_w - ln_z)
    x = np.log10(grid) if scale == "log" else grid
    mean = float(np.sum(post * x))
    edge = max(1, GRID_POINTS // 100)
    return {"model": model, "parameter": name, "prior": f"{name} uniform{' in log10' if scale == 'log' else ''} on "
                                                         f"[{lo:g}, {hi:g}]",
            "ln_z": ln_z, "error": abs(ln_z - coarse), "max_log_like": float(total.max()),
            "posterior": {"variable": f"log10 {name}" if scale == "log" else name, "mean": mean,
                          "sd": float(np.sqrt(np.sum(post * (x - mean) ** 2)))},
            "edge_mass": float(post[:edge].sum() + post[-edge:].sum()),
            "elpd": [float(v) for v in loo_exact(values, log_w)]}


def halo_model(likelihood: LensingLikelihood, prior: HaloPrior) -> dict[str, Any]:
    """NFW-ΛCDM: each cluster's evidence (its leave-one-out density), summed."""
    r = likelihood.inputs["r"]
    rows = []
    for name, normal, a, b in zip(likelihood.names, likelihood.normals, likelihood.offsets[:-1],
                                  likelihood.offsets[1:]):
        z = cluster_redshift(name)
        rows.append({"cluster": name, "z": z, **halo_evidence(normal, r[a:b], z, prior).to_dict()})
    return {"model": "nfw-lcdm", "prior": prior.describe(), "ln_z": float(sum(r["ln_z"] for r in rows)),
            "error": float(sum(r["error"] for r in rows)), "clusters": rows,
            "edge_mass": max(r["edge_mass"] for r in rows), "elpd": [r["ln_z"] for r in rows],
            "conflicts": [r["cluster"] for r in rows if r["conflict"]]}


def verdicts(models: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Every pair's ln B with its verdict, and its paired ΔELPD (leave one cluster out) with its reading."""
    out = []
    names = list(models)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            ma, mb = models[a], models[b]
            ln_b, err = ma["ln_z"] - mb["ln_z"], ma["error"] + mb["error"]
            diff = np.asarray(ma["elpd"]) - np.asarray(mb["elpd"])
            total, se = float(diff.sum()), standard_error(diff)
            best, other = (a, b) if total >= 0 else (b, a)
            out.append({"a": a, "b": b, "ln_b": ln_b, "error": err,
                        "bayes": bayes_verdict(ln_b, err, MODEL_NAMES[a], MODEL_NAMES[b]),
                        "delta_elpd": total, "se": se,
                        "elpd": elpd_verdict(abs(total), se, err, diff.size, MODEL_NAMES[best], MODEL_NAMES[other])})
    return out


def _judged(likelihood: LensingLikelihood, priors: dict[str, tuple], halo: HaloPrior) -> dict[str, Any]:
    models = {m: global_model(likelihood, m, priors[m]) for m in ("sigma", "mond")}
    models["nfw-lcdm"] = halo_model(likelihood, halo)
    return {"models": models, "verdicts": verdicts(models)}


def clusters_report(cube: xr.Dataset, errors: str = "stat", halo: HaloPrior = HaloPrior()) -> dict[str, Any]:
    """Σ-Gravity, MOND and NFW-ΛCDM on CLASH (module docstring), with the sensitivity rows."""
    likelihood = lensing_likelihood(cube, options={"errors": errors})
    priors = {m: _compare_prior(m) for m in ("sigma", "mond")}
    lead = _judged(likelihood, priors, halo)
    other_errors = "stat+syst" if errors == "stat" else "stat"
    choices = [
        (f"lensing errors {other_errors}", _judged(lensing_likelihood(cube, options={"errors": other_errors}),
                                                    priors, halo)),
        ("the joint sweeps' wider priors (A0 on [0.2, 2], a0 on [5e-11, 4e-9])", _judged(likelihood, JOINT_PRIORS,
                                                                                         halo)),
        *((f"halo log10 M200 on [{lo:g}, {hi:g}]", {"models": {**lead["models"], "nfw-lcdm": halo_model(
            likelihood, replace(halo, mass_range=(lo, hi)))}}) for lo, hi in MASS_RANGES),
        ("concentration scatter doubled", {"models": {**lead["models"], "nfw-lcdm": halo_model(
            likelihood, replace(halo, scatter_factor=2.0 * halo.scatter_factor))}}),
    ]
    sensitivity = []
    for label, judged in choices:
        rows = judged.get("verdicts") or verdicts(judged["models"])
        sensitivity.append({"choice": label, "ln_z": {m: v["ln_z"] for m, v in judged["models"].items()},
                            "verdicts": rows})
    summary = {str(c): float(cube["log_M200c_NFW"].sel(cluster=c)) for c in likelihood.names}
    for row in lead["models"]["nfw-lcdm"]["clusters"]:
        row["mistele_log10_m200c_nfw"] = summary[row["cluster"]]
    return {
        "data": (f"CLASH weak lensing (Mistele+2025): M(<r) at {int(likelihood.offsets[-1])} radii of "
                 f"{len(likelihood.names)} clusters inside Tian+2020's range, the published correlation matrices"),
        "likelihood": likelihood.describe(),
        "errors": errors,
        "clusters": list(likelihood.names),
        **lead,
        "sensitivity": sensitivity,
        "assumptions": [
            "Σ-Gravity: preset paper with the cluster rule D = 1, L = 600 kpc, L0 = 0.4 kpc, n = 0.27, no lensing slip; "
            "M_pred = Σ·M_bar at Tian+2020's baryons without error.",
            "MOND: the kernel's interpolating function at its defaults, M_pred = ν(g_N)·M_bar.",
            "NFW-ΛCDM: one NFW halo per cluster fitted to the total lensing mass (no baryon term, so the baryon "
            "systematics do not enter); redshifts from Postman et al. 2012 (sigcube.io.ingest.clusters.REDSHIFTS).",
            "Priors: the global models' as `report compare` gives them on galaxies; a trapezoid rule on "
            f"{GRID_POINTS} grid points; the halo prior as stated; the numerical error of each ln Z is its change when "
            "every second grid point is dropped.",
            "ELPD: exact leave-one-cluster-out on the grid; for NFW-ΛCDM each cluster's own evidence. With 14 "
            "clusters the paired SE is not read as an interval (stats.verdicts.SMALL_SAMPLE).",
            f"Prior–data conflict: a halo whose concentration deviate has a posterior mean beyond {CONFLICT:g} prior "
            "sd of the relation.",
        ],
    }


def render(report: dict[str, Any], console: Console) -> None:
    """The models' evidence and ELPD, the verdicts, the sensitivity rows and each cluster's halo."""
    console.print(escape(report["data"]))
    models = Table(title="Evidence and leave-one-cluster-out predictive density", box=box.SIMPLE)
    for col in ("model", "prior", "ln Z [nat]", "ELPD [nat]", "posterior", "edge mass"):
        models.add_column(col)
    for name, m in report["models"].items():
        post = m.get("posterior")
        models.add_row(MODEL_NAMES[name], escape(m["prior"][:70] + ("…" if len(m["prior"]) > 70 else "")),
                       f"{m['ln_z']:.2f} ± {m['error']:.2g}", f"{sum(m['elpd']):.2f}",
                       f"{post['variable']} = {post['mean']:.4g} ± {post['sd']:.2g}" if post else "per cluster",
                       f"{m['edge_mass']:.2g}")
    console.print(models)
    for name, m in report["models"].items():
        if m["edge_mass"] > EDGE:
            where = ("a cluster's M200 posterior" if name == "nfw-lcdm"
                     else f"the posterior of {m['posterior']['variable']}")
            console.print(escape(f"⚠ {MODEL_NAMES[name]}: {where} has {m['edge_mass']:.2g} of its mass within 1 % of "
                                 "its prior's edge: the prior range, not the data, stops it"))
    for v in report["verdicts"]:
        console.print(escape(f"ln B({MODEL_NAMES[v['a']]} : {MODEL_NAMES[v['b']]}) = {v['ln_b']:.2f} ± "
                             f"{v['error']:.2g}: {v['bayes']}; ΔELPD = {v['delta_elpd']:.2f} (paired SE "
                             f"{v['se']:.2f}): {v['elpd']}"))
    sens = Table(title="The verdicts under other choices: ln B", box=box.SIMPLE)
    sens.add_column("choice")
    for v in report["verdicts"]:
        sens.add_column(f"{MODEL_NAMES[v['a']]} : {MODEL_NAMES[v['b']]}")
    for row in report["sensitivity"]:
        sens.add_row(escape(row["choice"]), *(f"{v['ln_b']:.1f}" for v in row["verdicts"]))
    console.print(sens)
    halos = Table(title="NFW-ΛCDM per cluster", box=box.SIMPLE)
    for col in ("cluster", "z", "log10 M200", "Mistele+2025 NFW", "log10 c200", "c deviate", "ln Z"):
        halos.add_column(col)
    for r in report["models"]["nfw-lcdm"]["clusters"]:
        halos.add_row(r["cluster"], f"{r['z']:.3f}", f"{r['log10_m200']['mean']:.3f} ± {r['log10_m200']['sd']:.3f}",
                      f"{r['mistele_log10_m200c_nfw']:.3f}",
                      f"{r['log10_c200']['mean']:.3f} ± {r['log10_c200']['sd']:.3f}",
                      f"{r['c_deviate']:+.2f}" + (" ⚠" if r["conflict"] else ""), f"{r['ln_z']:.2f}")
    console.print(halos)
    for line in report["assumptions"]:
        console.print(escape("• " + line))
