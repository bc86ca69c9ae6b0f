"""One model comparison under every error model: model × error model, and the verdict the data's error model gives.

``sigcube report compare MODELS --error-model all`` (or a list) runs :func:`~sigcube.study.reports.compare.compare_report`
once per error model — errors as quoted, and σ_int marginalised under each of
:data:`~sigcube.stats.likelihood.ERROR_MODELS` on its own grid (:data:`ERROR_MODEL_GRIDS`) — and
:func:`error_model_table` sets the runs side by side: per model and error model ln Z ± its numerical error, its
distance to the model's best error model, ln B against MOND, ΔELPD_LOGO against MOND ± the paired SE, the decision
rule's reading and σ_int's posterior. The error model the data prefer is the one of highest evidence with the gravity
models equally likely a priori (ln Σ_m Z(m, e)); the table leads with the verdicts under it, and gives the
error-model-averaged Bayes factors (every error model equally likely a priori: ln Z̄(m) = ln mean_e Z(m, e)).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from scipy.special import logsumexp

from sigcube.errors import SigcubeError
from sigcube.stats import verdicts
from sigcube.stats.intrinsic_scatter import BESIDE, Scatter
from sigcube.stats.likelihood import ERROR_MODELS, check_error_model
from sigcube.study.reports.adequacy import RULE as ADEQUACY_RULE
from sigcube.study.reports.compare_models import REFERENCE

QUOTED = "quoted"
"""The error model of no intrinsic scatter: the errors as quoted."""
ERROR_MODEL_GRIDS = {QUOTED: None, "velocity_floor": "0:40:21", "lognormal_first_order": "0:0.2:21",
                     "lognormal": "0:0.2:21"}
"""The σ_int grid (LO:HI:N in the error model's unit; a uniform prior over it) each error model is run with by
``--error-model all`` or by its bare name in a list: wide enough to hold every SPARC model's posterior (velocity
floor 4–22 km/s, log-normal 0.04–0.15 dex, catalogue or marginalised Υ, D, i) well inside; 21 values, a coarse pass
that locates the posterior (the adaptive grid refines it) and leaves room under the coarse grid's limit
(:data:`~sigcube.engines.evidence.MAX_GRID_CELLS`) for Σ's two parameters with τ_gal or a floor beside σ_int."""
EXTRAS = {"tau_gal": "0:0.8:9", "sigma_floor": "0:20:11", "tail": "0:1:11"}
"""The likelihood's parameters an error model may take beside σ_int, ``NAME+tau_gal`` (each galaxy's velocity scale:
correlated errors within a galaxy) and ``NAME+sigma_floor`` (a velocity floor beside a log-normal σ_int: both
together) and ``NAME+tail`` (Student-t errors: heavy tails), each with its default grid (``+tau_gal=LO:HI:N`` another
grid, ``+tau_gal=X`` one value, each its own entry): τ_gal to a scale scatter of 0.8 in ln V, where SPARC's first
galaxies' evidence under MOND has fallen from its peak; the floor to 20 km/s, three times the floor SPARC's MOND fit
gives alone; the tail weight 1/ν over its whole range, 0 (the Gaussian) to 1 (the Cauchy)."""
ALL_EXTRA = ("lognormal+sigma_floor", "velocity_floor+tau_gal")
"""What ``all`` adds to :data:`ERROR_MODEL_GRIDS` where the models and the run can integrate them (global parameters
only, Υ, D, i marginalised): the log-normal scatter and a floor together, and the floor with each galaxy's velocity
scale (correlated errors)."""


class ErrorModelError(SigcubeError):
    """An ``--error-model`` list that names an unknown error model or gives a bad grid."""


def parse_error_models(text: str, extras: bool = True) -> dict[str, Scatter | None]:
    """``all``, or a comma-separated list of error models, each ``NAME`` (its σ_int grid from
    :data:`ERROR_MODEL_GRIDS`) or ``NAME=LO:HI:N``, followed by any of ``+tau_gal``, ``+sigma_floor`` and ``+tail``
    (:data:`EXTRAS`, each with its grid, ``=LO:HI:N``, or one value, ``=X``); ``quoted`` is the errors as quoted.
    ``all`` is :data:`ERROR_MODEL_GRIDS` and, with ``extras``, :data:`ALL_EXTRA`. Keyed by the entry as written (a
    σ_int grid given to a bare name is left out of its key), in the order given."""
    items = ((list(ERROR_MODEL_GRIDS) + (list(ALL_EXTRA) if extras else [])) if text.strip() == "all"
             else [t.strip() for t in text.split(",") if t.strip()])
    out: dict[str, Scatter | None] = {}
    for item in items:
        base, *parts = [p.strip() for p in item.split("+")]
        name, _, grid = base.partition("=")
        name, grid = name.strip(), grid.strip()
        if name == QUOTED:
            if grid or parts:
                raise ErrorModelError(f"--error-model {item}: errors as quoted have no σ_int grid and nothing beside")
            key, scatter = QUOTED, None
        else:
            given: dict[str, str] = {}
            for part in parts:
                extra, _, value = part.partition("=")
                extra = extra.strip()
                if extra not in EXTRAS or extra in given:
                    raise ErrorModelError(f"--error-model {item}: {'+' + extra!r} is "
                                          + ("named twice" if extra in given else
                                             f"not one of {', '.join('+' + e for e in EXTRAS)}"))
                given[extra] = value.strip()
            try:
                name = check_error_model(name)
                scatter = Scatter.parse(grid or ERROR_MODEL_GRIDS[name], name,
                                        **{e: given[e] or EXTRAS[e] for e in given})
            except SigcubeError as exc:
                raise ErrorModelError(f"--error-model {item}: {exc}" + ("" if parts else f" (or {QUOTED}, or all)")
                                      ) from None
            key = name + (f"={grid}" if grid and parts else "") + "".join(
                f"+{e}" + (f"={given[e]}" if given[e] else "") for e in given)
        if key in out:
            raise ErrorModelError(f"--error-model {text}: {key} named twice")
        out[key] = scatter
    if not out:
        raise ErrorModelError("--error-model: name at least one error model (or all)")
    return out


def _run_of(report: Mapping[str, Any]) -> str:
    return "nuisance" if "nuisance" in report["runs"] else "catalogue"


def error_model_table(reports: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The comparison reports of one cube and model list, one per error model (keyed by its name), as one table (the
    nuisance-marginalised run where there is one): rows per model and error model, each model's preferred error
    model, the error model the data prefer (highest ln Σ_m Z(m, e)), the decisions under it and the error-model-
    averaged Bayes factors against MOND."""
    if not reports:
        raise ErrorModelError("no comparison to tabulate")
    first = next(iter(reports.values()))
    run = _run_of(first)
    models = list(first["runs"][run])
    rows = []
    for em, report in reports.items():
        for model in models:
            r = report["runs"][run][model]
            post = r.get("sigma_int")
            rows.append({"model": model, "error_model": em, "log_evidence": r["log_evidence"],
                         "log_evidence_error": r["log_evidence_error"], "ln_B_vs_mond": r["ln_B_vs_mond"],
                         "ln_B_vs_mond_error": r["ln_B_vs_mond_error"],
                         "unit": report["scatter"]["unit"] if "scatter" in report else None,
                         "sigma_int": None if post is None else {k: post[k] for k in ("mean", "sd", "ci95")},
                         **{e: None if r.get(e) is None else {k: r[e][k] for k in ("mean", "sd", "ci95")}
                            for e in EXTRAS},
                         "decision_vs_mond": r.get("decision_vs_mond"), "warnings": r.get("warnings", []),
                         "predictive_check": _check_summary(report.get("predictive_checks", {}).get(run, {}).get(model)),
                         "adequacy": report.get("adequacy", {}).get(model) if run == "nuisance" else None})
    by = {(r["model"], r["error_model"]): r for r in rows}
    preferred = {}
    for model in models:
        ranked = sorted(reports, key=lambda e: -by[model, e]["log_evidence"])
        for e in reports:
            by[model, e]["delta_vs_best_error_model"] = by[model, e]["log_evidence"] - by[model, ranked[0]]["log_evidence"]
        preferred[model] = _margin(ranked, [by[model, e] for e in ranked], f"{model}: ")
    joint = {e: float(logsumexp([by[m, e]["log_evidence"] for m in models])) for e in reports}
    joint_error = {e: max(by[m, e]["log_evidence_error"] for m in models) for e in reports}
    ranked = sorted(reports, key=lambda e: -joint[e])
    data_prefer = _margin(ranked, [{"log_evidence": joint[e], "log_evidence_error": joint_error[e]} for e in ranked],
                          "every model equally likely: ")
    adequate = {e: _adequate([by[m, e] for m in models]) for e in reports}
    lead, lead_basis = _lead(ranked, adequate)
    n = len(reports)
    averaged = {}
    for model in models:
        z = float(logsumexp([by[model, e]["log_evidence"] for e in reports]) - math.log(n))
        averaged[model] = {"log_evidence": z,
                           "log_evidence_error": max(by[model, e]["log_evidence_error"] for e in reports)}
    for model in models:
        if model != REFERENCE:
            ln_b = averaged[model]["log_evidence"] - averaged[REFERENCE]["log_evidence"]
            error = averaged[model]["log_evidence_error"] + averaged[REFERENCE]["log_evidence_error"]
            averaged[model].update(ln_B_vs_mond=ln_b, ln_B_vs_mond_error=error,
                                   verdict_vs_mond=verdicts.bayes_verdict(ln_b, error, model, REFERENCE))
    signs = {m: sorted({math.copysign(1, by[m, e]["ln_B_vs_mond"]) for e in reports}) for m in models if m != REFERENCE}
    return {"run": run, "models": models, "error_models": list(reports),
            "error_model_words": {e: _words(e, reports[e].get("scatter")) for e in reports},
            "grids": {e: reports[e].get("scatter") for e in reports},
            "rows": rows, "preferred_by_model": preferred, "data_prefer": data_prefer, "adequate": adequate,
            "lead": lead, "lead_basis": lead_basis,
            "lead_decisions": {m: by[m, lead]["decision_vs_mond"] for m in models if m != REFERENCE},
            "averaged": averaged,
            "sign_moves": [m for m, s in signs.items() if len(s) > 1],
            "n_galaxies": first["n_galaxies"], "n_points": first["n_points"],
            "cube_content_sha256": first["conventions"].get("cube_content_sha256", ""),
            "rule": verdicts.DECISION_RULE,
            "conventions": {
                "preferred": "the error model of highest ln Σ_m Z(m, e) over the gravity models m (each equally "
                             "likely a priori); decided only when its margin exceeds "
                             f"{verdicts.DECIDED:g}× the numerical error (the larger of the models' errors, each side)",
                "averaged": "ln Z̄(m) = ln mean_e Z(m, e): every error model equally likely a priori; its numerical "
                            "error the largest of the runs'",
                "delta": "ln Z(m, e) − ln Z(m, the model's best error model)",
                "elpd": "ΔELPD_LOGO(m − mond) ± the paired SE of the per-galaxy differences",
                "lead": "the error model of highest evidence among the adequate ones (each model's check at its best "
                        "point: " + ADEQUACY_RULE + "); when none is adequate, the highest evidence, flagged",
                "residuals": "normalised residuals at the best point (Υ, D, i at their conditional mode in the nuisance "
                             "run, at the catalogue values otherwise): sd 1 and "
                             "|r| > 3 in 0.27 % of points when the error model describes the data"}}


def _adequate(rows: list[Mapping[str, Any]]) -> bool | None:
    """Whether an error model is adequate for every model checked under it (None: no model was checked)."""
    checked = [r["adequacy"]["adequate"] for r in rows if r.get("adequacy")]
    return all(checked) if checked else None


def _lead(ranked: list[str], adequate: Mapping[str, bool | None]) -> tuple[str, str]:
    """The error model the table leads with, and why: the first of ``ranked`` (by evidence) that is adequate; the
    first of all when none is (flagged), or when none was checked."""
    if all(a is None for a in adequate.values()):
        return ranked[0], ("the highest evidence (no error model's adequacy was checked: they are checked with Υ, D, i "
                            "marginalised)")
    passed = [e for e in ranked if adequate[e]]
    if passed:
        return passed[0], ("the highest evidence, and adequate" if passed[0] == ranked[0] else
                           f"the highest evidence among the adequate error models ({ranked[0]}, ahead by evidence, "
                           "is not adequate)")
    return ranked[0], ("none is adequate: the highest evidence, flagged — no error model passes its checks, so the "
                       "verdict under it is provisional")


def _words(name: str, scatter: Mapping[str, Any] | None) -> str:
    """What error model ``name`` means, in words."""
    if name == QUOTED:
        return "errors as quoted, no intrinsic scatter"
    words = ERROR_MODELS[(scatter or {}).get("error_model") or name.partition("+")[0].partition("=")[0]][1]
    for key, kind in BESIDE.items():
        extra = (scatter or {}).get(key)
        if extra is not None:
            words += f"; and {extra['what']} ({kind.symbol}'s prior {extra['prior']})"
    return words


def _beside(row: Mapping[str, Any], scatter: Mapping[str, Any] | None) -> str:
    """The posteriors of τ_gal, the floor and the tail weight in a row (those on a grid), or —."""
    shown = [f"{kind.symbol} {p['mean']:.3g} ± {p['sd']:.2g} {scatter[key]['unit']}".rstrip()
             for key, kind in BESIDE.items() if (p := row.get(key)) is not None]
    return "; ".join(shown) or "—"


def _check_summary(checks: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """What the table shows of a model's predictive check: the residuals' sd, their |r| > 3 fraction against N(0, 1)'s,
    the share of galaxies whose χ² tail p < 1 %, and the reading."""
    if checks is None:
        return None
    tail = checks["tails"]["|r|>3"]
    return {"sd": checks["sd"], "tail3": tail["observed"], "tail3_expected": tail["expected"],
            "chi2_p_below_1pc": checks["chi2_red"]["p_below_1pc"]["value"], "reading": checks["reading"]}


def _adequacy_cell(check: Mapping[str, Any] | None) -> str:
    """A row's adequacy: yes, or the statistics outside the replicates' range; — unchecked."""
    if not check:
        return "—"
    outside = [k for k, v in check["statistics"].items() if not v["inside"]]
    return "yes" if not outside else "no: " + ", ".join(outside)


def _margin(ranked: list[str], entries: list[Mapping[str, Any]], prefix: str) -> dict[str, Any]:
    """The first of ``ranked`` against the second: its ln Z margin ± both errors, and whether that decides."""
    if len(ranked) == 1:
        return {"error_model": ranked[0], "margin": None, "error": None, "decided": False,
                "statement": f"{prefix}one error model only ({ranked[0]})"}
    margin = entries[0]["log_evidence"] - entries[1]["log_evidence"]
    error = entries[0]["log_evidence_error"] + entries[1]["log_evidence_error"]
    decided = verdicts.decided(margin, error)
    statement = (f"{prefix}the evidence prefers {ranked[0]} by {margin:.1f} ± {error:.2f} nat over {ranked[1]} "
                 f"({verdicts.strength(margin)} on the Kass & Raftery 1995 scale)" if decided else
                 f"{prefix}{ranked[0]} and {ranked[1]} undecided: ln Z differ by {margin:.2f} nat, within "
                 f"{verdicts.DECIDED:g}× the numerical error ({error:.2f})")
    return {"error_model": ranked[0], "margin": margin, "error": error, "decided": decided, "statement": statement}


def render_error_model_table(result: Mapping[str, Any], console: Console | None = None) -> None:
    """The lead (the error model the data prefer and the decisions under it), the model × error model table, each
    model's preferred error model, the averaged Bayes factors, the rule and the error models' meanings."""
    console = console or Console()

    def say(text: str) -> None:
        console.print(text, markup=False, highlight=False, soft_wrap=True)

    say(f"error model the data prefer ({result['n_galaxies']} galaxies, {result['n_points']} points, "
        f"{result['run']} run): {result['data_prefer']['statement']}")
    if "lead_basis" in result:
        say(f"the table leads with {result['lead']}: {result['lead_basis']}")
    for model, d in result["lead_decisions"].items():
        if d is not None:
            say(f"under {result['lead']}: {d['reading']}")
    run = "Υ, D, i marginalised" if result["run"] == "nuisance" else "catalogue Υ, D, i"
    names = {"model": max(len(r["model"]) for r in result["rows"]),
             "error model": max(len(r["error_model"]) for r in result["rows"])}

    def cells(r: Mapping[str, Any]) -> dict[str, str]:
        """The row's cells; a value ± its error never breaks (no-break spaces)."""
        d, s, c = r["decision_vs_mond"], r["sigma_int"], r["predictive_check"]
        return {"model": escape(r["model"]), "error model": escape(r["error_model"]),
                "ln Z ± num.": f"{r['log_evidence']:.1f} ± {r['log_evidence_error']:.2f}",
                "Δ (model's best)": f"{r['delta_vs_best_error_model']:+.1f}",
                "ln B vs MOND": "—" if r["model"] == REFERENCE else
                f"{r['ln_B_vs_mond']:+.1f} ± {r['ln_B_vs_mond_error']:.2f}",
                "ΔELPD vs MOND ± SE": "—" if d is None else f"{d['elpd_diff']:+.1f} ± {d['elpd_se']:.1f}",
                "decision": "—" if d is None else (d["preferred"] or "not distinguished"),
                "σ_int (mean ± sd)": "—" if s is None else f"{s['mean']:.4g} ± {s['sd']:.2g} {r['unit']}",
                "beside σ_int (mean ± sd)": _beside(r, result["grids"].get(r["error_model"])),
                "residual sd": "—" if c is None else f"{c['sd']:.2f}",
                "|r|>3": "—" if c is None else f"{100 * c['tail3']:.2f} %",
                "adequate": _adequacy_cell(r.get("adequacy"))}

    # three tables of a few columns each, so that every one reads in a narrow terminal; the names never shrink nor
    # break (a cut error model's name is another's)
    for title, columns in ((f"evidence, model × error model ({run})",
                            ("ln Z ± num.", "Δ (model's best)", "ln B vs MOND")),
                           (f"prediction against MOND ({run})", ("ΔELPD vs MOND ± SE", "decision")),
                           (f"scatter and residuals ({run})",
                            ("σ_int (mean ± sd)", "beside σ_int (mean ± sd)", "residual sd", "|r|>3")),
                           (f"adequacy: the data among samples drawn from the fitted model ({run})", ("adequate",))):
        table = Table(title=title, title_justify="left")
        for col in ("model", "error model", *columns):
            table.add_column(col, justify="left" if col in ("model", "error model", "decision") else "right",
                             no_wrap=col in names, min_width=names.get(col))
        for r in result["rows"]:
            row = cells(r)
            table.add_row(*(row[col].replace(" ± ", "\u00a0±\u00a0") for col in ("model", "error model", *columns)))
        console.print(table)
    for p in result["preferred_by_model"].values():
        say(p["statement"])
    for model, a in result["averaged"].items():
        if "ln_B_vs_mond" in a:
            say(f"averaged over the error models: {model} vs mond ln B = {a['ln_B_vs_mond']:+.1f} ± "
                f"{a['ln_B_vs_mond_error']:.2f} — {a['verdict_vs_mond']}")
    if result["sign_moves"]:
        say(f"the sign of ln B vs mond moves with the error model for: {', '.join(result['sign_moves'])}")
    for r in result["rows"]:
        if r["predictive_check"] is not None:
            say(f"predictive check, {r['model']} under {r['error_model']}: {r['predictive_check']['reading']}")
    say(f"decision rule: {result['rule']}")
    for key, words in result["conventions"].items():
        say(f"{key}: {words}")
    for e, words in result["error_model_words"].items():
        grid = result["grids"].get(e)
        say(f"{e}: {words}" + ("" if grid is None else f"; σ_int's prior {grid['prior']}"))
