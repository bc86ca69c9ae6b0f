"""`sigcube report calibrate MODEL`: what a Bayes factor against MOND means on this sample — ln B(MODEL : MOND) and
ΔELPD_LOGO on synthetic samples drawn from each of the two models, and from any halo model named beside them.

Each sample keeps the cube's galaxies (their baryons, radii, quoted errors and catalogue): Υ, D, i are drawn from the
Li+2018 priors, V_obs from the generating kernel with its global parameters at their posterior means on the data
(``--at fitted``, the default: each model fitted first as `report compare` fits it, under the same likelihood) or at the
kernel's defaults (``--at defaults``: canonical Σ's A0 and k, MOND's a0), and the noise
from the likelihood the comparison states (``--error-model`` with σ_int at the value given, and each galaxy's velocity
scale drawn with ``--tau-gal`` or a floor beside a log-normal σ_int, ``--sigma-floor``, when given;
:func:`sigcube.io.synth_sparc.draw_on_baryons`). Each is analysed as `report compare` analyses the data (Υ, D, i
marginalised, the same likelihood with σ_int, τ_gal and the floor held at the values that made it), giving ln B ± its numerical error,
ΔELPD_LOGO ± its paired SE and the decision rule's reading. Per generating model the report gives the distribution of
ln B over the samples (mean, sd, range, quantiles) and how often each model was preferred, and sets the observed ln B
of a comparison beside both. ``also_from`` adds generating models that are neither (``nfw-lcdm``, …): their
per-galaxy parameters drawn from the model's priors (a ΛCDM halo's from its stellar-to-halo and concentration–mass
relations), each sample analysed as the data, MODEL against MOND. On every sample, and on the data at the fitted
parameters, each of the two analysed models' galaxies in prior–data conflict are counted: a galaxy whose Υ, D, i (or
velocity scale) mode sits beyond :data:`~sigcube.engines.sampler.CONFLICT` prior sd from its prior's centre. Sample
``s`` of the generating model at position ``j`` (MODEL, MOND, then ``also_from``) is drawn with seed
``seed + SEED_STRIDE·j + s`` (:data:`SEED_STRIDE` = 1000): so at most 1000 samples per model, and a seed ≥ 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr
from rich.console import Console
from rich.table import Table

from sigcube.engines.checkpoint import Checkpoint
from sigcube.engines.dask import Runner, in_process
from sigcube.engines.evidence import Progress, silent
from sigcube.engines.sampler import CONFLICT
from sigcube.errors import SigcubeError
from sigcube.io.rotation_curves import pack_sparc
from sigcube.io.synth_sparc import draw_on_baryons, per_galaxy_priors
from sigcube.model.kernels import get_kernel
from sigcube.stats.intrinsic_scatter import BESIDE, Scatter
from sigcube.stats.likelihood import GaussianLikelihood
from sigcube.study.reports.compare import compare_model, decision_vs_reference, logo_summary, mode_conflicts
from sigcube.study.reports.compare_models import MODELS, REFERENCE, fixed_params

QUANTILES = (0.05, 0.16, 0.5, 0.84, 0.95)
"""The quantiles of ln B over the samples given per generating model."""
SEED_STRIDE = 1000
"""Sample s of the model at position j is drawn with seed + SEED_STRIDE·j + s; more samples per model than this would
draw the second model's first samples with the first model's seeds (the same noise, Υ, D and i)."""


DRAWN_AT = {"fitted": "its global parameters' posterior means on the data (Υ, D, i marginalised, the stated likelihood)",
            "defaults": "its defaults (canonical Σ's A0 and k, MOND's a0)"}
"""Where the samples' global parameters are set (``--at``), in the report's words."""


class CalibrationError(SigcubeError):
    """A calibration that cannot run as asked."""


def _check(model: str, scatter: Scatter, n_samples: int, seed: int, at: str, also_from: Sequence[str] = ()) -> None:
    for truth in also_from:
        if truth not in MODELS:
            raise CalibrationError(f"report calibrate: --also-from {truth!r} is not a model report compare knows "
                                   f"({', '.join(MODELS)})")
        if truth in (model, REFERENCE) or list(also_from).count(truth) > 1:
            raise CalibrationError(f"report calibrate: --also-from {truth} is drawn from already: name each "
                                   f"generating model once, besides {model} and {REFERENCE}")
        if MODELS[truth].per_object and not per_galaxy_priors(MODELS[truth].kernel):
            raise CalibrationError(f"report calibrate: --also-from {truth}: its per-galaxy parameters have no prior "
                                   "to draw them from (a halo model's do: nfw-lcdm, …)")
    if at not in DRAWN_AT:
        raise CalibrationError(f"report calibrate: --at {at!r}: the samples are drawn at one of {', '.join(DRAWN_AT)}")
    if model not in MODELS or model == REFERENCE:
        raise CalibrationError(f"report calibrate: model {model!r} is not one report compare knows besides MOND "
                               f"({', '.join(m for m in MODELS if m != REFERENCE)})")
    if MODELS[model].per_object:
        raise CalibrationError(f"report calibrate: {model} has per-galaxy parameters; its samples would draw them "
                               "from their priors, which is not the model a comparison fits — calibrate a model with "
                               "global parameters (sigma, …)")
    for given in (scatter, *scatter.others.values()):
        if given.free:
            raise CalibrationError(f"report calibrate: {given.symbol} is one value (what the samples are drawn with and "
                                   "analysed under), not a grid")
    if n_samples < 2:
        raise CalibrationError(f"report calibrate: --samples must be at least 2 (got {n_samples})")
    if n_samples > SEED_STRIDE:
        raise CalibrationError(f"report calibrate: --samples {n_samples} is more than {SEED_STRIDE}: sample s of the "
                               f"model at position j is drawn with seed + {SEED_STRIDE}·j + s, so the two models' "
                               "samples would share seeds (and each sample is a full comparison, ~30 s on 2 cores)")
    if seed < 0:
        raise CalibrationError(f"report calibrate: --seed must be ≥ 0 (numpy's SeedSequence takes no negative "
                               f"seed; got {seed})")


def fitted(cube: xr.Dataset, model: str, scatter: Scatter, run: Runner = in_process) -> dict[str, float]:
    """The posterior means of ``model``'s global parameters on ``cube`` as `report compare` fits them (Υ, D, i
    marginalised, the likelihood of ``scatter``); none for a model without global parameters."""
    from sigcube.stats.nuisance import Catalogue

    if not MODELS[model].global_params:
        return {}
    points = pack_sparc(cube)
    row = compare_model(model, points, Catalogue.from_cube(cube, points), True, run, scatter)
    posterior = row["evidence"]["posterior"]
    return {name: float(posterior[name]["mean"]) for name in MODELS[model].global_params}


def _likelihood(scatter: Scatter) -> GaussianLikelihood:
    """The one likelihood of ``scatter`` (its single values) that samples are drawn with and analysed under."""
    return GaussianLikelihood(float(scatter.values[0]), scatter.error_model, floor=float(scatter.floor_values[0]),
                              tau_gal=float(scatter.tau_values[0]), tail=float(scatter.tail_values[0]))


def conflicted(cube: xr.Dataset, model: str, params: Mapping[str, float], scatter: Scatter) -> list[str]:
    """The galaxies of ``cube`` in prior–data conflict (:func:`~sigcube.study.reports.compare.mode_conflicts`) under
    the global ``model`` at ``params``, their nuisance parameters at their conditional mode."""
    from sigcube.engines.evidence import Data
    from sigcube.engines.residuals import at_mode
    from sigcube.stats.nuisance import Catalogue

    points = pack_sparc(cube)
    data = Data(points, Catalogue.from_cube(cube, points))
    _, z = at_mode(get_kernel(MODELS[model].kernel), {**fixed_params(MODELS[model]), **params}, data,
                   _likelihood(scatter))
    return list(dict.fromkeys(c["galaxy"] for c in mode_conflicts(z, [str(g) for g in points.galaxy])))


def _one(cube: xr.Dataset, model: str, truth: str, seed: int, scatter: Scatter, run: Runner,
         params: Mapping[str, float]) -> dict[str, Any]:
    """ln B(model : MOND), ΔELPD_LOGO and the decision on one sample drawn from ``truth`` with its global ``params``
    (the rest at the model's fixed values and the kernel's defaults)."""
    from sigcube.stats.nuisance import Catalogue

    sample = draw_on_baryons(cube, MODELS[truth].kernel, {**fixed_params(MODELS[truth]), **params}, seed=seed,
                             likelihood=_likelihood(scatter))
    points = pack_sparc(sample)
    catalogue = Catalogue.from_cube(sample, points)
    rows = {n: compare_model(n, points, catalogue, True, run, scatter) for n in (model, REFERENCE)}
    summary = logo_summary({n: r.pop("_logo") for n, r in rows.items()}, {n: r["elpd_logo_error"] for n, r in rows.items()})
    row, ref = rows[model], rows[REFERENCE]
    row["ln_B_vs_mond"] = row["log_evidence"] - ref["log_evidence"]
    row["ln_B_vs_mond_error"] = row["log_evidence_error"] + ref["log_evidence_error"]
    decision = decision_vs_reference(model, row, ref, summary)
    conflicts = {n: len(conflicted(sample, n, {k: v for k, v in r["best"].items() if k in MODELS[n].global_params},
                                   scatter)) for n, r in rows.items()}
    return {"seed": seed, "ln_B": row["ln_B_vs_mond"], "ln_B_error": row["ln_B_vs_mond_error"],
            "elpd_diff": decision["elpd_diff"], "elpd_se": decision["elpd_se"], "preferred": decision["preferred"],
            "reading": decision["reading"], "conflicts": conflicts}


def _summary(samples: Sequence[Mapping[str, Any]], model: str) -> dict[str, Any]:
    ln_b = np.array([s["ln_B"] for s in samples], dtype=float)
    preferred = [s["preferred"] for s in samples]
    return {"n": len(samples), "mean": float(ln_b.mean()), "sd": float(ln_b.std(ddof=1)), "min": float(ln_b.min()),
            "max": float(ln_b.max()), "quantiles": dict(zip(map(str, QUANTILES), np.quantile(ln_b, QUANTILES).tolist())),
            "positive": int((ln_b > 0).sum()), "preferred": {m: preferred.count(m) for m in (model, REFERENCE)},
            "not_distinguished": preferred.count(None),
            "conflicts": {m: _spread([x["conflicts"][m] for x in samples]) for m in (model, REFERENCE)}}


def _spread(counts: Sequence[int]) -> dict[str, float]:
    """Mean, min and max of counts over the samples."""
    return {"mean": float(np.mean(counts)), "min": int(min(counts)), "max": int(max(counts))}


def calibrate(cube: xr.Dataset, model: str, scatter: Scatter, n_samples: int, *, seed: int = 0,
              observed: float | None = None, at: str = "fitted", also_from: Sequence[str] = (),
              run: Runner = in_process, checkpoint: Checkpoint = Checkpoint(None),
              progress: Progress = silent) -> dict[str, Any]:
    """The calibration of ln B(``model`` : MOND) (module docstring): ``n_samples`` samples drawn from each of the two
    models and of ``also_from``, their global parameters ``at`` their posterior means on ``cube`` (``fitted``,
    :func:`fitted`) or at the kernels' defaults (``defaults``); ``observed``: a comparison's ln B, placed in each
    distribution; the fits and each sample's numbers kept in ``checkpoint`` (a killed run resumes); the per-galaxy
    work runs as tasks of ``run``."""
    _check(model, scatter, n_samples, seed, at, also_from)
    truths = (model, REFERENCE, *also_from)
    out: dict[str, Any] = {"model": model, "reference": REFERENCE, "n_samples": n_samples, "seed": seed,
                           "n_galaxies": pack_sparc(cube).n_galaxies, "scatter": scatter.describe(),
                           "observed": observed, "at": at, "drawn_at": {}, "by_truth": {}}
    for truth in truths:
        if at == "fitted" and MODELS[truth].global_params:
            progress(f"fitting {truth} to the data (its posterior means are where its samples are drawn) …")
        params = checkpoint.get(f"fit/{truth}", lambda t=truth: fitted(cube, t, scatter, run)) if at == "fitted" \
            else {}
        kernel = get_kernel(MODELS[truth].kernel).resolve({**fixed_params(MODELS[truth]), **params})
        out["drawn_at"][truth] = {name: float(kernel[name]) for name in MODELS[truth].global_params}
    if at == "fitted":
        out["data_conflicts"] = {m: checkpoint.get(f"conflicts/{m}", lambda m=m: len(conflicted(
            cube, m, out["drawn_at"][m], scatter))) for m in (model, REFERENCE)}
    for j, truth in enumerate(truths):
        samples = []
        params = out["drawn_at"][truth]
        for s in range(n_samples):
            seed_s = seed + SEED_STRIDE * j + s
            samples.append(checkpoint.get(f"{truth}/seed={seed_s}", lambda t=truth, x=seed_s, p=params: _one(
                cube, model, t, x, scatter, run, p)))
            progress(f"drawn from {truth}: sample {s + 1} of {n_samples}, ln B = {samples[-1]['ln_B']:+.1f}")
        summary = _summary(samples, model)
        if observed is not None:
            ln_b = np.array([x["ln_B"] for x in samples])
            summary["observed_rank"] = {"below": int((ln_b < observed).sum()), "of": len(samples)}
        out["by_truth"][truth] = {"samples": samples, "summary": summary}
    out["conventions"] = {
        "draws": "the cube's galaxies with Υ, D, i drawn from the Li+2018 priors, V_obs from the generating kernel at "
                 f"{DRAWN_AT[at]} (drawn_at), noise from the stated likelihood "
                 "(sigcube.io.synth_sparc.draw_on_baryons)",
        "analysis": "as report compare: Υ, D, i marginalised, the same likelihood with σ_int (and τ_gal or the "
                    "floor, when given) held at the values that made the samples; ln B ± numerical error, ΔELPD_LOGO ± "
                    "paired SE, the decision rule",
        "conflicts": f"galaxies whose Υ, D, i (or velocity scale) mode lies beyond {CONFLICT:g} prior sd from its "
                     "prior's centre, under each analysed model at its best point on a sample (on the data: at its "
                     "posterior means)",
        **({"also_from": "per-galaxy parameters drawn from the model's priors (a ΛCDM halo's from its stellar-to-halo "
                         "and concentration–mass relations), global ones at " + DRAWN_AT[at]} if also_from else {}),
        "seeds": f"sample s of the model at position j ({', '.join(truths)}) is drawn with seed + {SEED_STRIDE}·j + s"}
    return out


def render(result: Mapping[str, Any], console: Console | None = None) -> None:
    """One row per generating model: ln B's distribution over the samples and how often each model was preferred."""
    console = console or Console()
    model, ref = result["model"], result["reference"]
    beside = "".join(f"; {kind.symbol} {result['scatter'][key]['prior']}" for key, kind in BESIDE.items()
                     if key in result["scatter"])
    table = Table(title=f"ln B({model} : {ref}) on {result['n_samples']} synthetic samples drawn from each "
                        f"({result['scatter']['prior']} under {result['scatter']['error_model']}{beside})",
                  title_justify="left")
    for col in ("drawn from", "mean ± sd", "5–95 %", "range", "ln B > 0", f"{model} preferred", f"{ref} preferred",
                "not distinguished"):
        table.add_column(col, justify="left" if col == "drawn from" else "right")
    for truth, block in result["by_truth"].items():
        s = block["summary"]
        q = s["quantiles"]
        table.add_row(truth, f"{s['mean']:+.1f} ± {s['sd']:.1f}", f"{q['0.05']:+.1f} to {q['0.95']:+.1f}",
                      f"{s['min']:+.1f} to {s['max']:+.1f}", f"{s['positive']} of {s['n']}",
                      str(s["preferred"][model]), str(s["preferred"][ref]), str(s["not_distinguished"]))
    console.print(table)
    if result.get("observed") is not None:
        for truth, block in result["by_truth"].items():
            rank = block["summary"]["observed_rank"]
            console.print(f"observed ln B = {result['observed']:+.1f}: above {rank['below']} of {rank['of']} samples "
                          f"drawn from {truth}", highlight=False)
    if any("conflicts" in block["summary"] for block in result["by_truth"].values()):
        console.print(f"galaxies in prior–data conflict (of {result.get('n_galaxies', 'the sample')}), under each "
                      "analysed model: mean (range) over the samples", highlight=False)
        counts = Table()
        for col in ("drawn from", model, ref):
            counts.add_column(col, justify="left" if col == "drawn from" else "right")
        if "data_conflicts" in result:
            counts.add_row("the data (at the fit)", *(str(result["data_conflicts"][m]) for m in (model, ref)))
        for truth, block in result["by_truth"].items():
            c = block["summary"].get("conflicts")
            if c:
                counts.add_row(truth, *(f"{c[m]['mean']:.1f} ({c[m]['min']}–{c[m]['max']})" for m in (model, ref)))
        console.print(counts)
    console.print("drawn at: " + "; ".join(f"{truth} " + ", ".join(f"{p} = {v:.4g}" for p, v in params.items())
                                          for truth, params in result["drawn_at"].items()), highlight=False)
    for key, words in result["conventions"].items():
        console.print(f"[dim]{key}: {words}[/dim]", highlight=False)
