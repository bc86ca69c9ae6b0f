"""Is an error model adequate? The data's residual statistics set among those of samples drawn from the fitted model.

For a model with global parameters at a comparison's best point (σ_int, τ_gal and a floor included), the data's
normalised residuals are taken with Υ, D, i (or the velocity scale) at their conditional mode
(:func:`~sigcube.engines.residuals.at_mode`), and :data:`STATISTICS` are computed from them. :data:`REPLICATES` samples
are then drawn from the same model at the same point on the cube's own galaxies — Υ, D, i from their priors, each
galaxy's velocity scale from τ_gal, the noise from the likelihood (:func:`~sigcube.io.synth_sparc.draw_on_baryons`) —
and each is treated as the data are: its nuisance mode found at the same point, its residuals' statistics computed. The
replicates carry what fitting Υ, D, i does to residuals (a plug-in check shrinks them), so the data are compared with
like. A statistic is inside when the data's value lies within the replicates' range (with 199 replicates a central
99 % interval: a described model's statistic falls outside it with probability 1 %); the error model is adequate for
the model when every statistic is inside (Bonferroni over the five: a described model fails with probability ≤ 5 %).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import xarray as xr
from scipy import stats

from sigcube.engines.evidence import Data, likelihood_at
from sigcube.engines.residuals import at_mode
from sigcube.errors import SigcubeError
from sigcube.io.rotation_curves import pack_sparc
from sigcube.io.synth_sparc import draw_on_baryons
from sigcube.model.kernels import get_kernel
from sigcube.model.segments import segment_sum
from sigcube.stats.nuisance import Catalogue
from sigcube.study.reports.compare_models import MODELS, fixed_params

REPLICATES = 199
"""Samples drawn from the fitted model per check (the range of 199 is a central 99 % interval)."""
SEED = 20261128
"""The first replicate's seed (replicate j: SEED + j)."""


def _tail3(r: np.ndarray, offsets: np.ndarray) -> float:
    return float(np.mean(np.abs(r) > 3.0))


def _ks(r: np.ndarray, offsets: np.ndarray) -> float:
    return float(stats.kstest(r, "norm").statistic)


def _chi2(r: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = np.diff(offsets)
    return segment_sum(r * r, offsets), n


def _chi2_tail(r: np.ndarray, offsets: np.ndarray) -> float:
    chi2, n = _chi2(r, offsets)
    return float(np.mean(stats.chi2.sf(chi2, n) < 0.01))


def _chi2_spread(r: np.ndarray, offsets: np.ndarray) -> float:
    chi2, n = _chi2(r, offsets)
    return float(np.std(chi2 / n, ddof=1))


def _lag1(r: np.ndarray, offsets: np.ndarray) -> float:
    """The residuals' lag-1 autocorrelation along the radius, pooled over galaxies (each galaxy's residuals about
    their own mean; pairs of neighbouring points within a galaxy)."""
    n = np.diff(offsets)
    centred = r - np.repeat(segment_sum(r, offsets) / n, n)
    same = np.repeat(np.arange(n.size), n)
    pair = same[1:] == same[:-1]
    return float(np.sum((centred[1:] * centred[:-1])[pair]) / np.sum(centred * centred))


STATISTICS: dict[str, tuple[str, Callable[[np.ndarray, np.ndarray], float]]] = {
    "tail3": ("share of points with |r| > 3", _tail3),
    "ks": ("Kolmogorov–Smirnov distance of the residuals to N(0, 1)", _ks),
    "chi2_tail": ("share of galaxies whose χ² tail probability is below 1 %", _chi2_tail),
    "chi2_spread": ("sd over galaxies of χ²/n", _chi2_spread),
    "lag1": ("lag-1 autocorrelation of the residuals along the radius, within galaxies", _lag1),
}
"""The statistics of normalised residuals an error model must reproduce: its tails, its shape, the spread from one
galaxy to the next, the correlation along a curve (name: what it is, the function of residuals and offsets)."""


def statistics(r: np.ndarray, offsets: np.ndarray) -> dict[str, float]:
    """:data:`STATISTICS` of residuals ``r`` packed by galaxy (``offsets``)."""
    offsets = np.asarray(offsets)
    return {name: f(np.asarray(r, dtype=float), offsets) for name, (_, f) in STATISTICS.items()}


def adequacy(cube: xr.Dataset, model: str, best: Mapping[str, Any], scatter: Mapping[str, Any] | None,
             replicates: int = REPLICATES, seed: int = SEED) -> dict[str, Any]:
    """The check (module docstring) of the error model ``scatter`` (a report's ``scatter``, None: errors as quoted)
    for the global ``model`` at its ``best`` point on ``cube`` (Υ, D, i marginalised)."""
    params, likelihood = likelihood_at(best, scatter)
    kernel_name = MODELS[model].kernel
    kernel = get_kernel(kernel_name)
    point = {**fixed_params(MODELS[model]), **params}

    def residual_statistics(sample: xr.Dataset) -> dict[str, float]:
        points = pack_sparc(sample)
        r, _ = at_mode(kernel, point, Data(points, Catalogue.from_cube(sample, points)), likelihood)
        return statistics(r, points.offsets)

    data = residual_statistics(cube)
    drawn, unusable = [], 0
    for j in range(replicates):
        found = residual_statistics(draw_on_baryons(cube, kernel_name, point, seed=seed + j, likelihood=likelihood))
        if all(np.isfinite(v) for v in found.values()):
            drawn.append(found)
        else:  # a drawn velocity of 0 or beyond float range: a sample no data set holds
            unusable += 1
    if not drawn:
        raise SigcubeError(f"adequacy of {model}: none of the {replicates} samples drawn from the fitted model has "
                           "finite residuals")
    out = {}
    for name, (what, _) in STATISTICS.items():
        values = np.array([d[name] for d in drawn])
        lo, hi = float(values.min()), float(values.max())
        out[name] = {"what": what, "data": data[name], "median": float(np.median(values)), "range": [lo, hi],
                     "inside": bool(lo <= data[name] <= hi)}
    return {"statistics": out, "adequate": all(s["inside"] for s in out.values()), "replicates": len(drawn),
            "unusable": unusable, "seeds": f"{seed} to {seed + replicates - 1}", "rule": RULE}


RULE = (f"adequate when each of {len(STATISTICS)} residual statistics of the data ({', '.join(STATISTICS)}) lies "
        f"within the range of {REPLICATES} samples drawn from the fitted model at its best point and treated as the "
        "data (a central 99 % interval each; Bonferroni over the five: a described model fails with probability "
        "≤ 5 %); a sample with a non-finite residual (a drawn velocity of 0 or beyond float range) is set aside and "
        "counted")
"""The adequacy rule, in the report's words."""


def adequacy_checks(cube: xr.Dataset, report: Mapping[str, Any], replicates: int = REPLICATES,
                    progress: Callable[[str], None] = lambda line: None) -> dict[str, Any]:
    """The check of a comparison ``report``'s error model for each of its global models at its best point, in the
    nuisance run (Υ, D, i marginalised; none without it), by model."""
    rows = report["runs"].get("nuisance", {})
    out: dict[str, Any] = {}
    for name, row in rows.items():
        if MODELS[name].per_object or not row.get("best"):
            continue
        out[name] = adequacy(cube, name, row["best"], report.get("scatter"), replicates)
        progress(f"adequacy of the error model for {name}: " + ("adequate" if out[name]["adequate"] else
                 "outside on " + ", ".join(k for k, s in out[name]["statistics"].items() if not s["inside"])))
    return out
