"""Note 000's per-galaxy fits, attempted in the note's own terms, from the shipped Ψ0 sweeps.

Note 000 fits its mass- and velocity-coherence laws to a per-galaxy "missing enhancement" and
reports, over N = 158 galaxies, an RMS and a correlation between model and target (mass
coherence 11.05 / 0.225, velocity coherence 11.20 / 0.061, an undefined "functional form"
10.28 / 0.405). It states neither the target's formula nor the sample cut. sigcube's reading:

- **K_needed** per galaxy = mean over its points of (V_obs/V_bar)² − 1 (:func:`sigcube.model.metrics.needed_enhancement`);
  **K_rough** = the ``roughness`` kernel at its defaults (note 000's K_rough = 0.774·Ξ^0.1).
- **target**, two readings: ``ratio`` F_missing = K_needed/K_rough (the note's "F_missing", and the
  scale of its K_max ≈ 20) and ``difference`` K_missing = K_needed − K_rough (its
  "K_total = K_rough + K_missing").
- **sample**: SPARC quality 1–2 with ≥ 5 usable points (the sweeps' ``[sample]``), and K_needed > 0
  (a ratio target needs a positive need): 158 galaxies — a selection chosen to give the note's N, so the match
  is labelled "count matched by construction", not reproduced.
- **model K** of a grid point: the registered kernel evaluated on one unit-V_bar point per galaxy
  (V = √(1 + K)), so the formula has one home.

For each model the grid of the shipped sweep spec is scored in K space (RMS and Pearson
correlation over galaxies); the velocity metrics come from the sweep's result cube.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from sigcube.engines.sweep.spec import SweepSpec
from sigcube.io.rotation_curves import pack_sparc
from sigcube.model import metrics
from sigcube.model.kernels import get_kernel
from sigcube.model.points import PointSet
from sigcube.study.published import figure

READINGS = {
    "ratio": "F_missing = K_needed/K_rough",
    "difference": "K_missing = K_needed − K_rough",
}
"""The two readings of note 000's per-galaxy target (K_needed = mean (V_obs/V_bar)² − 1)."""

MODELS = {
    "mass": ("mass_coherence_psi0_gamma", "note000.mass"),
    "velocity": ("velocity_coherence_fmax_psi0_delta", "note000.velocity"),
}
"""Note 000's models: the shipped sweep spec (file stem) and the prefix of the note's figures."""


def per_galaxy_inputs(points: PointSet) -> dict[str, np.ndarray]:
    """One point per galaxy carrying its per-galaxy inputs, with V_bar = 1 (a kernel then returns √(1 + K))."""
    first = points.offsets[:-1]
    one = {name: values[first] for name, values in points.inputs.items()}
    one["v_bar"] = np.ones(len(first))
    return one


def enhancement(kernel: str, galaxies: dict[str, np.ndarray], **params: Any) -> np.ndarray:
    """K per galaxy (last axis) of a per-galaxy kernel, broadcast over parameter arrays [dimensionless]."""
    return get_kernel(kernel)(galaxies, **params) ** 2 - 1.0


def note_targets(points: PointSet) -> dict[str, Any]:
    """K_needed, K_rough, the galaxies kept (K_needed > 0) and each reading's target over them."""
    p = points.inputs
    needed = metrics.needed_enhancement(p["v_obs"], p["v_bar"], points.offsets)
    galaxies = per_galaxy_inputs(points)
    rough = enhancement("roughness", galaxies)
    keep = needed > 0
    return {
        "keep": keep,
        "dropped": [str(g) for g in points.galaxy[~keep]],
        "galaxies": {k: v[keep] for k, v in galaxies.items()},
        "targets": {"ratio": needed[keep] / rough[keep], "difference": needed[keep] - rough[keep]},
        "K_rough_range": (float(rough.min()), float(rough.max())),
    }


def _grid_params(spec: SweepSpec) -> dict[str, Any]:
    """The spec's fixed parameters and its axes as arrays broadcasting over (grid..., galaxy)."""
    ndim = len(spec.axes)
    params: dict[str, Any] = dict(spec.fixed)
    for i, axis in enumerate(spec.axes):
        shape = [1] * (ndim + 1)
        shape[i] = len(axis)
        params[axis.name] = np.asarray(axis.values, dtype=float).reshape(shape)
    return params


def _point(spec: SweepSpec, index: tuple[int, ...]) -> dict[str, float]:
    return {axis.name: float(axis.values[i]) for axis, i in zip(spec.axes, index)}


def _on_edge(spec: SweepSpec, index: tuple[int, ...]) -> list[str]:
    return [axis.name for axis, i in zip(spec.axes, index) if len(axis) > 1 and i in (0, len(axis) - 1)]


def fit_on_grid(spec: SweepSpec, galaxies: dict[str, np.ndarray], target: np.ndarray,
                result: xr.Dataset | None = None) -> dict[str, Any]:
    """Score every grid point of ``spec`` in K space against ``target``.

    Returns the note's own parameters (the kernel defaults; None unless on the grid), the grid point of least
    RMS and the one of largest correlation, each with RMS, correlation, and — when ``result``
    (the sweep's result cube) is given — the velocity mean RMS there [km/s].
    """
    K = enhancement(spec.kernel.name, galaxies, **_grid_params(spec))
    rms = metrics.rms_difference(K, target)
    corr = metrics.pearson(K, target)
    kernel = spec.kernel

    def at(index: tuple[int, ...]) -> dict[str, Any]:
        out = {"parameters": _point(spec, index), "rms": float(rms[index]), "correlation": float(corr[index]),
               "on_grid_edge": _on_edge(spec, index)}
        if result is not None and "mean_rms" in result:
            out["velocity_mean_rms"] = float(result["mean_rms"].isel(dict(zip(result["done"].dims, index))))
        return out

    on_grid = [np.flatnonzero(np.isclose(a.values, kernel.parameter(a.name).default, rtol=1e-12)) for a in spec.axes]
    with np.errstate(invalid="ignore"):
        best_corr = np.unravel_index(np.nanargmax(corr), corr.shape)
    out = {
        "note_parameters": at(tuple(int(i[0]) for i in on_grid)) if all(len(i) for i in on_grid) else None,
        "least_rms": at(np.unravel_index(np.nanargmin(rms), rms.shape)),
        "largest_correlation": at(best_corr),
        "n_grid": int(rms.size),
        "target_mean": float(target.mean()),
        "target_std": float(target.std()),
    }
    if result is not None and "mean_rms" in result:
        dims = list(result["done"].dims)
        v = result["mean_rms"].values
        best_v = np.unravel_index(np.nanargmin(v), v.shape)
        out["velocity_best"] = {"parameters": _point(spec, best_v), "velocity_mean_rms": float(v[best_v]),
                                "rms": float(rms[best_v]), "correlation": float(corr[best_v]),
                                "on_grid_edge": _on_edge(spec, best_v), "dims": dims}
    return out


def note000_report(cube: xr.Dataset, specs: dict[str, SweepSpec],
                   results: dict[str, xr.Dataset] | None = None) -> dict[str, Any]:
    """Note 000's figures next to sigcube's attempt, per model and per reading of the target.

    ``specs`` maps the :data:`MODELS` names (``mass``, ``velocity``) to their shipped sweep specs;
    ``results`` optionally to the sweeps' result cubes (for velocity-space metrics).
    """
    results = results or {}
    out: dict[str, Any] = {"readings": READINGS, "models": {}}
    for model, (stem, prefix) in MODELS.items():
        spec = specs[model]
        points = pack_sparc(cube, spec.cuts)
        t = note_targets(points)
        n = int(t["keep"].sum())
        fits = {reading: fit_on_grid(spec, t["galaxies"], target, results.get(model))
                for reading, target in t["targets"].items()}
        figures = {q: figure(f"{prefix}.{q}") for q in ("rms", "correlation", "n_galaxies")}
        out["models"][model] = {
            "kernel": spec.kernel.name,
            "spec": f"sweeps/{stem}.toml",
            "sample": {"cuts": spec.cuts.as_dict(), "n_packed": points.n_galaxies, "n_galaxies": n,
                       "dropped_K_needed_le_0": t["dropped"]},
            "K_rough_range": t["K_rough_range"],
            "figures": {q: {"key": f.key, "value": f.value, "citation": f.citation()} for q, f in figures.items()},
            "n_galaxies_verdict": figures["n_galaxies"].verdict(n),
            "fits": {reading: {**fit, "verdict_at_note_parameters": None if fit["note_parameters"] is None else {
                "rms": figures["rms"].reproduced_by(fit["note_parameters"]["rms"]),
                "correlation": figures["correlation"].reproduced_by(fit["note_parameters"]["correlation"])}}
                for reading, fit in fits.items()},
        }
    form = {q: figure(f"note000.functional_form.{q}") for q in ("rms", "correlation")}
    out["functional_form"] = {
        "figures": {q: {"key": f.key, "value": f.value, "citation": f.citation()} for q, f in form.items()},
        "status": "cannot be reproduced: note 000 names an 'empirical functional form' but does not define it",
    }
    out["findings"] = note000_findings(out)
    return out


def note000_findings(report: dict[str, Any]) -> list[str]:
    """Sentences from the numbers: what the note's figures can and cannot be in sigcube's readings."""
    out = []
    for model, m in report["models"].items():
        rms_fig = m["figures"]["rms"]
        for reading, fit in m["fits"].items():
            note = fit["note_parameters"] or {"rms": float("nan"), "correlation": float("nan")}
            if fit["target_std"] < float(rms_fig["value"]):
                out.append(
                    f"{model} coherence, {reading} reading: the target's spread over the {m['sample']['n_galaxies']} "
                    f"galaxies is {fit['target_std']:.2f}, below the note's fitted RMS {rms_fig['value']} "
                    f"({rms_fig['citation']}): a constant K would already do better, so this reading cannot be "
                    f"the note's target. At the note's parameters: RMS {note['rms']:.2f}, correlation "
                    f"{note['correlation']:+.3f} (printed {m['figures']['correlation']['value']}).")
            else:
                out.append(f"{model} coherence, {reading} reading: at the note's parameters RMS {note['rms']:.2f}, "
                           f"correlation {note['correlation']:+.3f}; printed {rms_fig['value']} / "
                           f"{m['figures']['correlation']['value']} ({rms_fig['citation']}).")
        vb = next(iter(m["fits"].values())).get("velocity_best")
        if vb:
            edge = f" (on the grid edge in {', '.join(vb['on_grid_edge'])})" if vb["on_grid_edge"] else ""
            at_note = (next(iter(m["fits"].values()))["note_parameters"] or {}).get("velocity_mean_rms", float("nan"))
            out.append(f"{model} coherence as a rotation-curve kernel (g = g_N·(1 + K)): the sweep's best mean RMS is "
                       f"{vb['velocity_mean_rms']:.2f} km/s at {_params(vb['parameters'])}{edge}; at the note's "
                       f"parameters {at_note:.1f} km/s.")
    out.append("A correlation is undefined where the grid point's K is the same for every galaxy (K saturated at "
               "its maximum); such points are scored by RMS only.")
    return out


def _params(params: dict[str, float]) -> str:
    return ", ".join(f"{k} = {v:.4g}" for k, v in params.items())
