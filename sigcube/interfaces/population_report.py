"""`sigcube report population RESULT --param P`: is the swept parameter P universal, universal but for a few
outliers, or does it vary between the objects of a nuisance sweep? The population models of
:mod:`sigcube.stats.population_shapes` on the result cube's per-object ``loglike`` (each object's ln ∫ L·prior over
its nuisance parameters, or the profile, as the cube says).

The other grid axes (a ``sigma_int`` axis among them) are either **marginalised** — one value shared by every
object, under the sweep's own global prior (equal mass per grid point), the default — or **conditioned** on the grid
point of the largest Σ ln L (``others="best"``). Several result cubes that differ only in their ``[nuisance]``
``sigma_floor`` are **stacked** along a shared axis ``sigma_floor`` (equal mass per cube): the velocity floor
marginalised beside the error model's σ_int (both error models together). Every prior, the likelihood, the error
model and the count of fitted parameters are in the report.

**The report's JSON** (what a plotting layer reads; every value in the population's variable u = θ or log10 θ, see
``scale`` and ``unit``; ln Z in nat):

- ``models.<model>``: ``describe`` (the model and its priors), ``log_evidence`` and ``log_evidence_error`` (the
  sum of ``errors``: ``hyper_grid``, ``shared_grid``, ``sweep_grid``), ``hyper`` (each hyper-parameter's and shared
  axis's posterior: mean, sd, ci68, ci95; for ``mu`` of a log population also ``theta``: median and intervals of
  10^μ), ``outliers`` (names, most probable first), ``outlier_rule``, ``warnings``;
- ``questions``: per population shape, ``ln_b`` = ln Z(universal model) − ln Z(spread model), its ``error``, the
  ``verdict`` (``universal`` / ``not universal`` / ``undecided`` when |ln B| is within 3× its error) and its
  ``reading`` in words;
- ``ranking``: every model by ln Z, with ``delta`` from the best and its error;
- ``forest``: per object (``names``), its own estimate (``own``: its likelihood alone, flat on the grid's range —
  ``mean``, ``sd``, ``median``, ``ci68`` and ``ci95`` as [lo, hi] pairs), and under each model ``shrunk.<model>``
  (the same fields for the shrunk posterior — every object, hyper-parameter and shared axis marginalised — plus
  ``pull``, ``outlier_prob`` (null where the model has no outlier variable) and ``outlier``); ``edge_share`` (own
  mass in the grid's end cells) and ``resolution`` (the change of the object's own ln ∫ L du when every other grid
  point is dropped).

The earlier Gaussian keys (``mu``, ``mu_universal``, ``tau``, ``log_evidence_tau0``, ``log_evidence_tau_pos``,
``ln_bayes_factor``, ``objects_table``, ``furthest``, ``model``) are filled from the ``universal`` and ``gaussian``
models.

A **table** (:func:`table_report`) runs the same analysis on several rows — each a set of cubes with its own shape
and τ prior — described by a TOML file: the Li+2018 set-up with one choice changed at a time, or the error models
compared by evidence.
"""

from __future__ import annotations

import math
import tomllib
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import xarray as xr
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sigcube.engines.nuisance_spec import GLOBAL_PRIOR, LIKELIHOOD_AXES
from sigcube.engines.sweep.nuisance import loglike_total
from sigcube.engines.sweep.result import object_dim, parameter_dims
from sigcube.errors import SigcubeError
from sigcube.stats import population as pop
from sigcube.stats import population_shapes as shapes_mod
from sigcube.stats import verdicts
from sigcube.stats.population_shapes import Shape
from sigcube.stats.posterior import LEVELS

OTHERS = ("marginalise", "best")
"""How the grid axes other than the population's parameter enter (module docstring)."""
TOP = 10
"""Objects listed as the furthest from the population mean (by their own estimate, in their own sd)."""
STACK_AXIS = "sigma_floor"
"""The shared axis along which cubes differing only in their velocity floor are stacked."""
SHAPE_WORDS = {"gaussian": ("one universal value", "a Gaussian spread"),
               "student_t": ("one universal value", "a Student-t spread"),
               "mixture": ("one universal value plus outliers", "a spread plus outliers")}
"""What each shape's two models claim, in words."""
ALL_SHAPES = (Shape("gaussian"), Shape("student_t"), Shape("mixture"))


class PopulationReportError(SigcubeError):
    """A result cube the population question cannot be asked of: no loglike, an unknown parameter, a switch axis."""


def population_loglike(ds: xr.Dataset, parameter: str, others: Literal["marginalise", "best"] = "marginalise"
                       ) -> tuple[xr.DataArray, dict[str, float]]:
    """The cube's per-object ``loglike`` over ``parameter`` (and, marginalising, the other axes), with the other axes'
    values it was conditioned on (``others="best"``: the grid point of the largest Σ_objects ln L; else empty)."""
    if "loglike" not in ds:
        raise PopulationReportError("this result cube has no loglike: the population question needs a nuisance sweep "
                                    "(a spec with a [nuisance] table)")
    if others not in OTHERS:
        raise PopulationReportError(f"others must be one of {', '.join(OTHERS)}, not {others!r}")
    dims = parameter_dims(ds)
    if parameter not in dims:
        raise PopulationReportError(f"{parameter!r} is not a grid axis of this sweep; its axes are {', '.join(dims)}")
    for d in dims:
        if not np.issubdtype(ds[d].dtype, np.number):
            raise PopulationReportError(f"the grid axis {d!r} is a switch; the population analysis needs numeric axes "
                                        f"(sweep one switch value at a time)")
    ll = ds["loglike"]
    rest = [d for d in dims if d != parameter]
    if others == "best" and rest:
        total = loglike_total(ds)
        best = np.unravel_index(int(np.nanargmax(total)), total.shape)
        at = {d: float(ds[d].values[i]) for d, i in zip(dims, best) if d != parameter}
        ll = ll.isel({d: i for d, i in zip(dims, best) if d != parameter})
        return ll.load(), at
    return ll.load(), {}


def _floor_of(ds: xr.Dataset) -> tuple[float, dict[str, Any]]:
    """A result cube's velocity floor and the rest of its spec's fingerprint (what stacked cubes must share)."""
    from sigcube.engines.sweep.spec import parse_spec

    spec = parse_spec(ds.attrs.get("spec_text", ""), "the result cube's spec")
    if spec.nuisance is None:
        raise PopulationReportError("stacking needs nuisance sweeps (specs with a [nuisance] table)")
    rest = spec.canonical()
    rest["nuisance"].pop("sigma_floor", None)
    return spec.nuisance.sigma_floor, rest


def stacked_loglike(datasets: Sequence[xr.Dataset], parameter: str,
                    others: Literal["marginalise", "best"] = "marginalise") -> xr.DataArray:
    """The per-object ``loglike`` of cubes that differ only in their velocity floor, stacked along
    :data:`STACK_AXIS` (increasing floors)."""
    if others != "marginalise":
        raise PopulationReportError("stacked cubes marginalise their other axes (others = marginalise)")
    floors, parts, reference = [], [], None
    for ds in datasets:
        floor, rest = _floor_of(ds)
        if reference is None:
            reference = rest
        elif rest != reference:
            raise PopulationReportError("stacked cubes must share everything but [nuisance].sigma_floor: kernel, grid, "
                                        "sample, priors, error model and node count")
        floors.append(floor)
        parts.append(population_loglike(ds, parameter, others)[0])
    if len(set(floors)) != len(floors):
        raise PopulationReportError(f"stacked cubes need different velocity floors; got {floors}")
    order = np.argsort(floors)
    out = xr.concat([parts[i] for i in order], dim=xr.DataArray(np.array(floors)[order], dims=STACK_AXIS,
                                                                  name=STACK_AXIS))
    out[STACK_AXIS].attrs = {"units": "km / s", "long_name": "velocity floor σ_fl in quadrature besides σ_int"}
    grid, galaxy = parts[0].dims[:-1], parts[0].dims[-1]
    return out.transpose(*grid, STACK_AXIS, galaxy)


def population_of(ds: xr.Dataset, parameter: str, *, scale: Literal["linear", "log"] = "linear",
                  others: Literal["marginalise", "best"] = "marginalise", tau_prior: pop.TauPrior | None = None,
                  mu_range: tuple[float, float] | None = None, prior_zero: float = 0.0, n_mu: int = 40,
                  n_tau: int = 30) -> tuple[pop.Population, dict[str, float]]:
    """The Gaussian population of :func:`sigcube.stats.population.population` on a result cube (its warnings kept in
    ``Population.notes``, not emitted), and the values the other axes were conditioned on (empty when
    marginalised): what the accessor and the ArviZ export read."""
    ll, at = population_loglike(ds, parameter, others)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pop.PopulationWarning)
        result = pop.population(ll, parameter, scale=scale, galaxy_dim=object_dim(ds), mu_range=mu_range,
                                tau_prior=tau_prior, prior_zero=prior_zero, n_mu=n_mu, n_tau=n_tau)
    return result, at


def _marginal(m: Any, back: bool) -> dict[str, Any]:
    """Mean, sd and credible intervals of a marginal (and, for a log10 population, the intervals in θ)."""
    out = {"mean": m.mean, "sd": m.sd, **{f"ci{int(round(100 * lv))}": list(m.interval(lv)) for lv in LEVELS}}
    if back:
        out["theta"] = {"median": float(10 ** m.quantile(0.5)),
                        **{f"ci{int(round(100 * lv))}": [10 ** v for v in m.interval(lv)] for lv in LEVELS}}
    return out


def _pairs(a: np.ndarray) -> list[list[float]]:
    return [[float(x), float(y)] for x, y in a]


def _floats(a: np.ndarray) -> list[float | None]:
    return [None if not np.isfinite(x) else float(x) for x in a]


def question(result: shapes_mod.PopulationModels, shape: Shape) -> dict[str, Any]:
    """One shape's question: ln B(universal model : spread model) with its error, the verdict and the reading."""
    ln_b, error = result.ln_bayes_factor(shape)
    universal, spread = shape.models
    yes, no = SHAPE_WORDS[shape.kind]
    decided = verdicts.decided(ln_b, error)
    verdict = "undecided" if not decided else "universal" if ln_b > 0 else "not universal"
    strength = pop.interpret_ln_b(ln_b).split("nat: ", 1)[1].split(" evidence")[0]
    reading = (verdicts.bayes_verdict(ln_b, error, yes, no) if not decided else
               f"{strength} evidence for {yes if ln_b > 0 else no} (Kass & Raftery 1995)")
    return {"shape": shape.kind, "universal": universal, "spread": spread, "ln_b": ln_b, "error": error,
            "verdict": verdict, "reading": reading}


def models_report(result: shapes_mod.PopulationModels) -> dict[str, Any]:
    """The models, questions, ranking and forest data of a :class:`~sigcube.stats.population_shapes.PopulationModels`
    (the JSON the module docstring describes)."""
    log = result.scale == "log"
    models = {}
    for name, m in result.models.items():
        models[name] = {
            "describe": m.describe, "log_evidence": m.log_evidence, "log_evidence_error": m.error,
            "errors": dict(m.errors),
            "hyper": {k: _marginal(v, log and k == "mu") for k, v in m.marginals.items()},
            "outliers": list(m.outliers), "outlier_rule": m.outlier_rule, "warnings": list(m.notes)}
    ranked = sorted(result.models.values(), key=lambda m: -m.log_evidence)
    best = ranked[0]
    ranking = [{"model": m.name, "log_evidence": m.log_evidence, "error": m.error,
                "delta": m.log_evidence - best.log_evidence, "delta_error": m.error + best.error} for m in ranked]
    own = result.own
    forest = {"unit": result.unit, "scale": result.scale, "names": [str(g) for g in result.galaxies],
              "own": {"mean": _floats(own["mean"]), "sd": _floats(own["sd"]), "median": _floats(own["median"]),
                      "ci68": _pairs(own["ci68"]), "ci95": _pairs(own["ci95"])},
              "edge_share": _floats(own["edge_share"]), "resolution": _floats(own["resolution"]),
              "shrunk": {}}
    for name, m in result.models.items():
        g = m.galaxies
        outlier = set(m.outliers)
        forest["shrunk"][name] = {
            "mean": _floats(g["shrunk_mean"]), "sd": _floats(g["shrunk_sd"]), "median": _floats(g["shrunk_median"]),
            "ci68": _pairs(g["shrunk_ci68"]), "ci95": _pairs(g["shrunk_ci95"]), "pull": _floats(g["pull"]),
            "outlier_prob": _floats(g["outlier_prob"]), "outlier": [str(n) in outlier for n in result.galaxies]}
    top = ranking[1] if len(ranking) > 1 else None
    if top is None:
        best_words = f"only {best.name} was evaluated"
    elif verdicts.decided(top["delta"], top["delta_error"]):
        best_words = (f"{best.name} has the largest evidence, {-top['delta']:.2f} ± {top['delta_error']:.2f} nat above "
                      f"{top['model']}")
    else:
        best_words = (f"{best.name} and {top['model']} are undecided: their ln Z differ by {-top['delta']:.2f} nat, "
                      f"within {verdicts.DECIDED:g}× the numerical error ({top['delta_error']:.2f} nat)")
    return {"models": models, "questions": [question(result, s) for s in result.shapes], "ranking": ranking,
            "best": best_words, "forest": forest, "shared_points": result.shared_points, "passes": result.passes,
            "notes": list(result.notes)}


def _describe_cubes(datasets: Sequence[xr.Dataset]) -> dict[str, Any]:
    ds = datasets[0]
    attrs = ds["loglike"].attrs
    return {"sweep": " + ".join(d.attrs.get("sweep_name", "") for d in datasets), "kernel": ds.attrs.get("kernel", ""),
            "objects": int(ds.sizes[object_dim(ds)]),
            "points": int(ds["n_points"].sum()) if "n_points" in ds else None,
            "nuisance": {"mode": attrs.get("nuisance_mode", "marginalise"),
                         "parameters": [n for n in attrs.get("nuisance_parameters", "").split(",") if n],
                         "model": attrs.get("nuisance", "").split("\n")}}


def population_report(datasets: xr.Dataset | Sequence[xr.Dataset], parameter: str, *,
                      scale: Literal["linear", "log"] = "linear",
                      others: Literal["marginalise", "best"] = "marginalise", tau_prior: pop.TauPrior | None = None,
                      mu_range: tuple[float, float] | None = None, shapes: Sequence[Shape] = (Shape(),),
                      n_mu: int = 30, literature: Sequence[Mapping[str, str]] = ()) -> dict[str, Any]:
    """The population report of ``parameter`` on one nuisance sweep, or on cubes stacked along their velocity floor
    (module docstring), as plain data, with the published answers ``literature`` to the same question beside it."""
    datasets = [datasets] if isinstance(datasets, xr.Dataset) else list(datasets)
    if not datasets:
        raise PopulationReportError("name at least one result cube")
    if len(datasets) > 1:
        ll, at = stacked_loglike(datasets, parameter, others), {}
    else:
        ll, at = population_loglike(datasets[0], parameter, others)
    ds = datasets[0]
    group = object_dim(ds)
    result = shapes_mod.population_models(ll, parameter, scale=scale, galaxy_dim=group, mu_range=mu_range,
                                          tau_prior=tau_prior, shapes=shapes, n_mu=n_mu)
    info = _describe_cubes(datasets)
    mode = info["nuisance"]["mode"]
    nuisance = info["nuisance"]["parameters"]
    shared = list(result.shared)
    log = scale == "log"
    body = models_report(result)
    universal = result.models.get("universal")
    gaussian = result.models.get("gaussian")
    gq = next((q for q in body["questions"] if q["shape"] == "gaussian"), None)
    axes = [d for d in ll.dims if d not in (parameter, group)]
    out = {
        **{k: info[k] for k in ("sweep", "kernel", "objects", "points", "nuisance")},
        "error_model": ({**_error_model_of(ds), "sigma_floor": [_error_model_of(d)["sigma_floor"] for d in datasets]}
                        if all(d.attrs.get("spec_text") for d in datasets) else None),
        "parameter": parameter, "scale": scale, "unit": result.unit,
        "others": {"mode": others, "axes": axes, "shared": shared, "at": at,
                   "how": ("conditioned on the grid point of the largest Σ ln L" if at else
                           f"marginalised: one value shared by every {group}, global prior {GLOBAL_PRIOR}"
                           + (f"; {STACK_AXIS}: equal mass on each stacked cube" if STACK_AXIS in shared else "")
                           if shared else "none: the sweep has no other axis")},
        "grid": {"points": int(result.u.size), "range": [float(result.u[0]), float(result.u[-1])],
                 "step_min": float(np.min(np.diff(result.u))), "step_max": float(np.max(np.diff(result.u)))},
        "likelihood_note": ("each object's ln L_g is its marginal likelihood (nuisance integrated under its prior)"
                            if mode == "marginalise" else
                            "each object's ln L_g is its profile: max over the nuisance of ln L + ln prior (not a "
                            "marginal likelihood; the evidences are then approximate)"),
        "fitted": {"hyper_parameters": {name: len(m.marginals) - len(shared) for name, m in result.models.items()},
                   "shared_axes": len(shared), "per_object_integrated": 1 + len(nuisance),
                   "statement": f"per model its hyper-parameters (μ, and τ, ν, f, τ_b, τ_c as it has them), "
                                f"{len(shared)} shared grid axes marginalised, and per {group} its own "
                                f"{result.unit} plus {len(nuisance)} nuisance parameters integrated out "
                                f"({info['objects']} × {1 + len(nuisance)})"},
        "mu_prior": list(result.mu_range),
        "tau_prior": {"kind": result.tau_prior.kind, "scale": result.tau_prior.scale, "upper": result.tau_prior.upper,
                      "describe": result.tau_prior.describe(result.unit)},
        **body,
        "warnings": list(result.notes) + [w for m in body["models"].values() for w in m["warnings"]],
        "literature": [dict(item) for item in literature],
    }
    if universal is not None:
        out["mu_universal"] = _marginal(universal.marginals["mu"], log)
        out["log_evidence_tau0"] = universal.log_evidence
    if gaussian is not None and gq is not None:
        tau = gaussian.marginals["tau"]
        out.update({
            "mu": _marginal(gaussian.marginals["mu"], log),
            "tau": {"mean": tau.mean, "sd": tau.sd, **{f"ci{int(round(100 * lv))}": list(tau.interval(lv))
                                                       for lv in LEVELS},
                    "upper95": float(tau.quantile(0.95))},
            "log_evidence_tau_pos": gaussian.log_evidence, "ln_bayes_factor": gq["ln_b"],
            "ln_bayes_factor_error": gq["error"],
            "interpretation": f"ln B(τ = 0 : τ > 0) = {gq['ln_b']:+.2f} ± {gq['error']:.2f} nat: {gq['reading']}",
            "model": [universal.describe if universal else "", gaussian.describe],
        })
        est = gaussian.galaxies
        own = result.own
        pull = est["pull"]
        order = np.argsort(-np.nan_to_num(np.abs(pull), nan=-1.0), kind="stable")[:TOP]
        out["objects_table"] = {group: [str(g) for g in result.galaxies],
                                "own_mean": _floats(own["mean"]), "own_sd": _floats(own["sd"]),
                                "shrunk_mean": _floats(est["shrunk_mean"]), "shrunk_sd": _floats(est["shrunk_sd"])}
        out["furthest"] = [{"name": str(result.galaxies[i]), "own_mean": float(own["mean"][i]),
                            "own_sd": float(own["sd"][i]), "shrunk_mean": float(est["shrunk_mean"][i]),
                            "shrunk_sd": float(est["shrunk_sd"][i]), "pull": float(pull[i])} for i in order]
    return out


# --- the terminal ---------------------------------------------------------------------------------------------------


def parameter_unit(kernel: str, parameter: str) -> str:
    """The unit of a kernel's parameter as the kernel registry declares it ("" when dimensionless or unknown)."""
    from sigcube.model.kernels import get_kernel
    from sigcube.model.kernels.registry import KernelError

    try:
        known = {p.name: p for p in get_kernel(kernel).parameters}
    except KernelError:
        return ""
    return str(known[parameter].unit or "") if parameter in known else ""


def _interval(a: Sequence[float]) -> str:
    return f"[{a[0]:.4g}, {a[1]:.4g}]"


def _plain(console: Console, text: str) -> None:
    console.print(text, highlight=False, markup=False, soft_wrap=True)


def render(result: Mapping[str, Any], console: Console | None = None) -> None:
    """Every model's evidence and hyper-parameters, the questions' verdicts, the outliers, every assumption."""
    console = console or Console()
    u = result["unit"]
    group = next(iter(result.get("objects_table", {"galaxy": 0})))
    _plain(console, f"population of {result['parameter']} in sweep {result['sweep']!r} ({result['kernel']}; "
                    f"{result['objects']} objects along {group}, {result['points']} points), in {u}")
    table = Table(title="models by evidence", title_justify="left")
    for col in ("model", "ln Z [nat]", "± numerical", "Δ from best", "hyper-parameters: mean ± sd (95 %)",
                "outliers"):
        table.add_column(col, justify="left" if col in ("model", "hyper-parameters: mean ± sd (95 %)") else "right")
    for row in result["ranking"]:
        m = result["models"][row["model"]]
        hyper = "; ".join(f"{k} {v['mean']:.4g} ± {v['sd']:.2g} {_interval(v['ci95'])}" for k, v in m["hyper"].items())
        table.add_row(row["model"], f"{row['log_evidence']:.2f}", f"{row['error']:.2f}", f"{row['delta']:+.2f}",
                      escape(hyper), str(len(m["outliers"])))
    console.print(table)
    _plain(console, f"best: {result['best']}")
    for q in result["questions"]:
        _plain(console, f"{q['shape']}: ln B({q['universal']} : {q['spread']}) = {q['ln_b']:+.2f} ± {q['error']:.2f} "
                        f"nat → {q['verdict']}: {q['reading']}")
    if "theta" in result.get("mu_universal", {}):
        t = result["mu_universal"]["theta"]
        unit = parameter_unit(result["kernel"], result["parameter"])
        _plain(console, f"universal {result['parameter']} = 10^μ{f' [{unit}]' if unit else ''}: median "
                        f"{t['median']:.4g}, 68 % {_interval(t['ci68'])}, 95 % {_interval(t['ci95'])}")
    for name, m in result["models"].items():
        if m["outliers"]:
            _plain(console, f"outliers of {name} ({len(m['outliers'])}; {m['outlier_rule']}): "
                            + ", ".join(m["outliers"][:20]) + (" …" if len(m["outliers"]) > 20 else ""))
    rows = result.get("furthest", [])
    if rows:
        t = Table(title=f"the {len(rows)} objects furthest from μ (gaussian model; pull = (own − μ)/√(own sd² + τ²))",
                  title_justify="left")
        for col in (group, "own mean ± sd", "shrunk mean ± sd", "pull"):
            t.add_column(col, justify="left" if col == group else "right")
        for r in rows:
            t.add_row(escape(r["name"]), f"{r['own_mean']:.4g} ± {r['own_sd']:.2g}",
                      f"{r['shrunk_mean']:.4g} ± {r['shrunk_sd']:.2g}", f"{r['pull']:+.1f}")
        console.print(t)
    for w in result["warnings"]:
        _plain(console, w)
    _plain(console, f"other grid axes: {result['others']['how']}"
                    + "".join(f", {k} = {v:.4g}" for k, v in result["others"]["at"].items()))
    _plain(console, f"likelihood: {result['likelihood_note']}")
    _plain(console, f"fitted: {result['fitted']['statement']}")
    for name, m in result["models"].items():
        _plain(console, f"{name}: {m['describe']}; numerical error of ln Z: "
                        + ", ".join(f"{k} {v:.3f}" for k, v in m["errors"].items()))
    for line in result["nuisance"]["model"]:
        if line:
            console.print(f"[dim]{escape(line)}[/dim]", highlight=False, soft_wrap=True)
    for lit in result["literature"]:
        _plain(console, f"literature (not a seed figure): {lit['who']}: {lit['finding']}"
                        + (f" [sample: {lit['sample']}]" if lit.get("sample") else ""))


# --- tables: several rows of cubes and options -------------------------------------------------------------------

TABLE_KINDS = ("choices", "error_models")
"""``choices``: one set-up with one choice changed per row; ``error_models``: the error models compared by
evidence."""
ROW_KEYS = {"label", "change", "cubes", "parameter", "scale", "shape", "nu", "tau_scale", "error_model"}


class TableError(PopulationReportError):
    """A population table file that cannot be read: a bad key, a missing cube, an unknown shape."""


def load_table(path: str | Path) -> dict[str, Any]:
    """A population table (TOML): ``kind``, ``title``, ``parameter``, ``scale``, optional ``kernel`` (whose
    literature to cite), ``preset``, ``fixed_value`` (the baseline's fixed parameter value, for the preset's own
    test), ``shapes`` (population shapes every analysis computes besides the rows' own; default all; empty: the
    universal model alone where no row asks for a shape) and ``shape`` (the question of a row that names none:
    default gaussian in a ``choices`` table, none — the universal model alone — in an ``error_models`` one), and
    ``[[row]]`` tables with
    ``label``, ``change``, ``cubes`` (result cubes, relative to the cube folder) and optionally ``parameter``,
    ``scale``, ``shape``, ``nu``, ``tau_scale`` (the half-normal τ prior's σ), ``error_model`` (a label)."""
    path = Path(path)
    try:
        spec = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise TableError(f"{path}: cannot read the population table ({exc})") from None
    if spec.get("kind") not in TABLE_KINDS:
        raise TableError(f"{path}: kind must be one of {', '.join(TABLE_KINDS)}, not {spec.get('kind')!r}")
    if spec.get("shape", "gaussian") not in (*shapes_mod.SHAPE_MODELS, "none"):
        raise TableError(f"{path}: unknown shape {spec.get('shape')!r}; choose from "
                         f"{', '.join((*shapes_mod.SHAPE_MODELS, 'none'))}")
    rows = spec.get("row") or []
    if not rows:
        raise TableError(f"{path}: no [[row]] tables")
    for i, row in enumerate(rows):
        unknown = sorted(set(row) - ROW_KEYS)
        if unknown:
            raise TableError(f"{path}: row {i + 1} has unknown keys {', '.join(unknown)}")
        if not row.get("cubes") or not row.get("label"):
            raise TableError(f"{path}: row {i + 1} needs a label and its cubes")
        if row.get("shape", "gaussian") not in (*shapes_mod.SHAPE_MODELS, "none"):
            raise TableError(f"{path}: row {i + 1}: unknown shape {row.get('shape')!r}")
    return spec


def _error_model_of(ds: xr.Dataset) -> dict[str, Any]:
    """The error model a result cube was swept with: its name, σ_int (fixed or the grid's range), the floor and the
    galaxy-level velocity scale's τ_gal [ln V] (fixed or the grid's range)."""
    from sigcube.engines.sweep.spec import parse_spec
    from sigcube.stats.likelihood import check_error_model

    spec = parse_spec(ds.attrs.get("spec_text", ""), "the result cube's spec")
    n = spec.nuisance
    grid, tau = list(n.sigma_int_grid), list(n.tau_gal_grid)
    quoted = not grid and n.sigma_int == 0 and n.sigma_floor == 0
    return {"error_model": "quoted errors" if quoted else check_error_model(n.error_model),
            "sigma_int": [min(grid), max(grid)] if grid else n.sigma_int, "sigma_floor": n.sigma_floor,
            "tau_gal": [min(tau), max(tau)] if tau else n.tau_gal, "cuts": spec.cuts.as_dict()}


def own_terms(ll: xr.DataArray, parameter: str, scale: str, value: float) -> dict[str, Any]:
    """A fixed value's test in the per-galaxy terms of a fit (each object alone): per object the gain of ln L when
    its own value is free (max over the grid − ln L at ``value``), and the Bayes factor of its own value (flat on the
    grid's range) against ``value``; fractions with binomial intervals."""
    data, u, _, galaxies = pop._read(ll, parameter, scale, ll.dims[-1])
    if data.shape[0] != 1:
        raise PopulationReportError("the per-object test needs a cube without other grid axes")
    rows = data[0]
    at = float(np.log10(value)) if scale == "log" else float(value)
    fixed = pop._interpolate(rows, u, np.array([at]))[0]
    gain = np.max(rows, axis=1) - fixed
    own = shapes_mod._flat_shares(rows, u)[0] - math.log(u[-1] - u[0])
    ln_b = own - fixed
    n = rows.shape[0]
    return {"value": value, "objects": n, "median_gain": float(np.median(gain)),
            "gain_above_2": verdicts.fraction(int(np.sum(gain > 2)), n),
            "own_favoured": verdicts.fraction(int(np.sum(ln_b > 1)), n),
            "fixed_favoured": verdicts.fraction(int(np.sum(ln_b < -1)), n),
            "statement": (f"freeing {parameter} per object (each alone, nuisance marginalised) raises ln L by more "
                          f"than 2 nat (Δχ² > 4) in {int(np.sum(gain > 2))} of {n}; each object's own {parameter} "
                          f"(flat in {'log10 ' if scale == 'log' else ''}{parameter} on the grid's range) beats "
                          f"{parameter} = {value:g} by ln B > 1 in {int(np.sum(ln_b > 1))} of {n}, and loses by "
                          f"ln B < −1 in {int(np.sum(ln_b < -1))}")}


def table_report(spec: Mapping[str, Any], folder: Path, *, preset: Mapping[str, Any] | None = None,
                 literature: Sequence[Mapping[str, str]] = (), n_mu: int = 30) -> dict[str, Any]:
    """Every row of a population table (:func:`load_table`) on its cubes in ``folder``: per row the question of its
    shape — ln B ± numerical error, the verdict — and the models' evidences and hyper-parameters. Rows sharing cubes
    and priors share one analysis (every shape is computed on it)."""
    from sigcube.engines.sweep import open_result

    kind = spec["kind"]
    cache: dict[tuple, tuple[dict[str, Any], shapes_mod.PopulationModels]] = {}
    rows = []
    extra = tuple(spec.get("shapes", [s.kind for s in ALL_SHAPES]))
    default = spec.get("shape", "gaussian" if kind == "choices" else "none")

    def key_of(row: Mapping[str, Any]) -> tuple:
        return (tuple(row["cubes"]), row.get("parameter", spec.get("parameter")), row.get("scale", spec.get("scale")),
                row.get("tau_scale"), row.get("nu"))

    wanted: dict[tuple, set[str]] = {}
    for row in spec["row"]:  # each analysis computes the shapes its rows ask about (and the table's extra ones)
        wanted.setdefault(key_of(row), set(extra)).add(row.get("shape", default))
    for row in spec["row"]:
        parameter = row.get("parameter", spec.get("parameter"))
        scale = row.get("scale", spec.get("scale", "log"))
        if not parameter:
            raise TableError(f"row {row['label']!r}: no parameter (give parameter at the top or in the row)")
        paths = [folder / c for c in row["cubes"]]
        missing = [str(p) for p in paths if not p.exists()]
        if missing:
            raise TableError(f"row {row['label']!r}: no result cube at {', '.join(missing)} (run its sweep first)")
        tau = pop.TauPrior("half_normal", row.get("tau_scale"))
        key = key_of(row)
        if key not in cache:
            datasets = [open_result(str(p)) for p in paths]
            ll = stacked_loglike(datasets, parameter) if len(datasets) > 1 else population_loglike(
                datasets[0], parameter)[0]
            shapes = tuple(Shape(s.kind, row.get("nu")) if s.kind == "student_t" else s for s in ALL_SHAPES
                           if s.kind in wanted[key])
            result = shapes_mod.population_models(ll, parameter, scale=scale, galaxy_dim=object_dim(datasets[0]),
                                                  tau_prior=tau, shapes=shapes, n_mu=n_mu)
            info = {**_describe_cubes(datasets), "errors": _error_model_of(datasets[0]),
                    "floors": [_error_model_of(d)["sigma_floor"] for d in datasets], "ll": ll}
            cache[key] = (info, result)
        info, result = cache[key]
        shape = next((s for s in result.shapes if s.kind == row.get("shape", default)), None)
        q = question(result, shape) if shape is not None else {
            "shape": None, "universal": "universal", "spread": None, "ln_b": None, "error": None,
            "verdict": None, "reading": "only the universal model was evaluated"}
        log = scale == "log"
        models = {name: {"log_evidence": m.log_evidence, "error": m.error,
                         "hyper": {k: _marginal(v, log and k == "mu") for k, v in m.marginals.items()},
                         "outliers": len(m.outliers)} for name, m in result.models.items()}
        best = max(result.models.values(), key=lambda m: m.log_evidence)
        rows.append({
            "label": row["label"], "change": row.get("change", ""), "cubes": list(row["cubes"]),
            "error_model": row.get("error_model", info["errors"]["error_model"]), "errors": info["errors"],
            "floors": info["floors"], "sweep": info["sweep"], "kernel": info["kernel"], "objects": info["objects"],
            "points": info["points"], "parameter": parameter, "scale": scale, "unit": result.unit,
            "tau_prior": result.tau_prior.describe(result.unit), **q, "models": models,
            "best_model": best.name, "shared": {k: [float(v[0]), float(v[-1]), int(v.size)]
                                                for k, v in result.shared.items()},
            "warnings": list(result.notes) + [w for m in result.models.values() for w in m.notes]})
    out = {"kind": kind, "title": spec.get("title", ""), "rows": rows, "literature": [dict(x) for x in literature],
           "preset": dict(preset) if preset else None,
           "verdict_rule": (f"universal when ln B(universal : spread) > {verdicts.DECIDED:g}× its numerical error, not "
                            "universal when below −that, undecided otherwise; the numerical error is the sum of both "
                            "evidences' estimates (hyper-grid, shared grid, sweep grid)")}
    if kind == "error_models":
        out["preferred"] = preferred_error_models(rows)
    if spec.get("fixed_value") is not None:
        first = spec["row"][0]
        info = next(iter(cache.values()))[0]
        out["own_terms"] = own_terms(info["ll"], first.get("parameter", spec.get("parameter")),
                                     first.get("scale", spec.get("scale", "log")), float(spec["fixed_value"]))
    return out


def preferred_error_models(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per kernel (in the rows' order) and per population model that every one of the kernel's rows evaluated: its
    rows ranked by that model's ln Z, and the preferred error model named with its margin over the next (± the sum of
    both numerical errors; a preference only beyond :data:`~sigcube.stats.verdicts.DECIDED` × that error)."""
    out = []
    for kernel in dict.fromkeys(r["kernel"] for r in rows):
        mine = [r for r in rows if r["kernel"] == kernel]
        for name in (m for m in shapes_mod.MODELS if all(m in r["models"] for r in mine)):
            ranked = sorted(mine, key=lambda r: -r["models"][name]["log_evidence"])
            top = ranked[0]["models"][name]
            ranking = [{"label": r["label"], "error_model": r["error_model"],
                        "log_evidence": r["models"][name]["log_evidence"], "error": r["models"][name]["error"],
                        "delta": r["models"][name]["log_evidence"] - top["log_evidence"],
                        "delta_error": r["models"][name]["error"] + top["error"]} for r in ranked]
            best = ranking[0]
            if len(ranking) == 1:
                statement = f"{kernel}, {name} population: one error model only ({best['label']})"
            else:
                nxt = ranking[1]
                margin, error = -nxt["delta"], nxt["delta_error"]
                statement = (f"{kernel}, {name} population: the evidence prefers {best['label']} ({best['error_model']}), "
                             f"ln Z {margin:.2f} ± {error:.2f} nat above the next, {nxt['label']} "
                             f"({verdicts.strength(margin)} on the Kass & Raftery 1995 scale)"
                             if verdicts.decided(margin, error) else
                             f"{kernel}, {name} population: {best['label']} and {nxt['label']} are undecided: their "
                             f"ln Z differ by {margin:.2f} nat, within {verdicts.DECIDED:g}× the numerical error "
                             f"({error:.2f} nat)")
            out.append({"kernel": kernel, "parameter": mine[0]["parameter"], "model": name, "preferred": best["label"],
                        "ranking": ranking, "statement": statement})
    return out


def _literature_line(lit: Mapping[str, Any]) -> str:
    """A literature entry in one line: who, then every other field."""
    rest = "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in lit.items() if k not in ("who", "origin")
                     and v not in (None, ""))
    return f"literature (not a seed figure): {lit['who']}: {rest}"


def render_table(result: Mapping[str, Any], console: Console | None = None) -> None:
    """A population table: one line per row with its ln B, verdict and evidences."""
    console = console or Console()
    _plain(console, result["title"])
    table = Table(title_justify="left")
    error_models = result["kind"] == "error_models"
    cols = (("row", "objects", "ln Z universal", "Δ (kernel's best)", "10^μ universal (68 %)",
             "error model: mean ± sd", "ln B(universal : spread)", "verdict", "τ (spread model, 95 %)")
            if error_models else
            ("row", "objects", "error model", "shape", "ln B(universal : spread)", "verdict", "τ (spread model)"))
    for col in cols:
        table.add_column(col, justify="left" if col in ("row", "verdict", "error model: mean ± sd", "error model",
                                                        "shape") else "right")
    top: dict[str, float] = {}
    for r in result["rows"] if error_models else ():
        top[r["kernel"]] = max(top.get(r["kernel"], -math.inf), r["models"]["universal"]["log_evidence"])
    for r in result["rows"]:
        if error_models:
            uni = r["models"]["universal"]
            theta = uni["hyper"]["mu"].get("theta", {})
            scatter = "; ".join(f"{k} {v['mean']:.4g} ± {v['sd']:.2g}" for k, v in uni["hyper"].items()
                                if k in (*LIKELIHOOD_AXES, STACK_AXIS)) or "—"
            spread = r["models"][r["spread"]]["hyper"] if r.get("spread") else {}
            core = next((spread[k] for k in ("tau", "tau_t", "tau_c") if k in spread), None)
            table.add_row(escape(r["label"]), str(r["objects"]), f"{uni['log_evidence']:.2f} ± {uni['error']:.2f}",
                          f"{uni['log_evidence'] - top[r['kernel']]:+.2f}",
                          f"{theta.get('median', float('nan')):.4g} {_interval(theta.get('ci68', [math.nan] * 2))}",
                          escape(scatter), "—" if r["ln_b"] is None else f"{r['ln_b']:+.2f} ± {r['error']:.2f}",
                          r["verdict"] or "—", "—" if core is None else f"{core['mean']:.3g} {_interval(core['ci95'])}")
        else:
            spread = r["models"][r["spread"]]["hyper"]
            core = next((spread[k] for k in ("tau", "tau_t", "tau_c") if k in spread), None)
            table.add_row(escape(r["label"]), str(r["objects"]), escape(r["error_model"]), r["shape"],
                          f"{r['ln_b']:+.2f} ± {r['error']:.2f}", r["verdict"],
                          "—" if core is None else f"{core['mean']:.3g} {_interval(core['ci95'])}")
    console.print(table)
    for p in result.get("preferred", []):
        _plain(console, p["statement"])
    if error_models:
        for r in result["rows"]:
            axes = "; ".join(f"{k} on [{lo:.4g}, {hi:.4g}] ({n} values, equal mass each)"
                             for k, (lo, hi, n) in r["shared"].items()) or "none"
            cuts = ", ".join(f"{k} {v}" for k, v in r["errors"]["cuts"].items())
            _plain(console, f"{r['label']}: error model {r['error_model']}; shared axes (priors) {axes}; "
                            f"τ prior {r['tau_prior']}; sample {r['objects']} objects of {r['sweep']} ({cuts})")
    if result.get("own_terms"):
        _plain(console, f"in the per-galaxy terms of a fit: {result['own_terms']['statement']}")
    _plain(console, f"verdicts: {result['verdict_rule']}")
    for r in result["rows"]:
        for w in r["warnings"]:
            _plain(console, f"{r['label']}: {w}")
    for lit in result["literature"]:
        _plain(console, _literature_line(lit))
