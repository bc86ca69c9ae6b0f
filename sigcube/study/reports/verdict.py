"""`sigcube report verdict`: the seeds' question answered probe by probe — Σ-Gravity, MOND and ΛCDM halos side by
side — from the saved reports that answer each part, with the choices each was made under.

The verdict integrates nothing itself: the parts take from seconds to half an hour each (the halo family on SPARC
about 25 minutes on 2 cores), so it reads their saved JSON (``sigcube report … --json``, or the committed records of
``docs/results/`` that the docs are generated from, :data:`SOURCES`) and sets them in one table. Each row names its
source, the commit and date it was made at and the command that remakes it. It checks what must agree across the
parts — the galaxy error model the comparison leads with is the one the family run and the joint run use, the sample
is the same, the joint run's SPARC A0 equals the comparison's within its sd — and lists every choice that differs, so
a reader sees which rows are made under one set of choices and which are not.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from scipy.special import logsumexp

from sigcube.errors import SigcubeError
from sigcube.model.lcdm import DEFAULT_SHMR
from sigcube.stats.verdicts import bayes_verdict, decided

RESULTS_DIR = Path(__file__).resolve().parents[3] / "docs" / "results"
"""The committed records of the checkout: the default folder of the sources."""
SOURCES = {
    "family": ("compare-family-lead.json", "the halo family, Σ and MOND on SPARC under the lead error model"),
    "relations": ("compare-family-shmr-lead.json", "the ΛCDM halos under the other stellar-to-halo relations, with the "
                                                   "family run's choices"),
    "error_models": ("compare-sigma-mond-error-models.json", "Σ and MOND under every error model, and the lead"),
    "tails": ("compare-sigma-mond-tails.json", "Σ and MOND under Student-t errors beside the lead error model"),
    "calibration": ("calibrate-sigma-mond-tau-gal.json", "ln B(Σ : MOND) on samples drawn from each model"),
    "regression": ("regression.json", "the Milky Way, the dwarfs and DF2 (the regression suite)"),
    "clusters": ("clusters-lcdm.json", "Σ, MOND and NFW-ΛCDM on the CLASH lensing masses"),
    "joint_sigma": ("joint-sigma-lead-sparc-clash.json", "Σ's one A0 on SPARC and CLASH under the lead error model"),
    "joint_mond": ("joint-mond-lead-sparc-clash.json", "MOND's one a0 on SPARC and CLASH under the lead error model"),
}
"""Each part of the verdict: key → (file name in the sources' folder, what it answers)."""
REGRESSION_ROWS = {"eilers": "Milky Way: Eilers+2019 bins", "mroz": "Milky Way: Mróz+2019 Cepheids",
                   "simon": "Dwarf spheroidals: Simon 2019", "mcconnachie": "Dwarf spheroidals: McConnachie 2012",
                   "df2": "Ultra-diffuse galaxy NGC 1052-DF2"}
"""The regression suite's rows the verdict reads, by the start of their names."""


class VerdictError(SigcubeError):
    """A source of the verdict missing, unreadable or without what the verdict reads."""


def _remake(key: str) -> str:
    name = SOURCES[key][0].removesuffix(".json")
    return f"python docs/_ext/record.py results {name}"


def load_sources(folder: str | Path | None = None) -> dict[str, dict[str, Any]]:
    """Every source of :data:`SOURCES` from ``folder`` (default :data:`RESULTS_DIR`): a committed record (its report
    under ``report``, with its commit, date and commands) or a report's bare ``--json`` output."""
    root = Path(folder) if folder is not None else RESULTS_DIR
    out: dict[str, dict[str, Any]] = {}
    for key, (name, what) in SOURCES.items():
        path = root / name
        if not path.is_file():
            raise VerdictError(f"{path}: missing — the verdict reads {what} from it; make it with `{_remake(key)}` "
                               "(or save that report's --json output there)")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise VerdictError(f"{path}: not a readable JSON report ({exc}); remake it with `{_remake(key)}`") from None
        if not isinstance(data, (dict, list)):
            raise VerdictError(f"{path}: a report is a JSON object or list; remake it with `{_remake(key)}`")
        record = isinstance(data, dict) and "report" in data and "commands" in data
        out[key] = {"file": name, "report": data["report"] if record else data,
                    "commit": data.get("commit") if record else None,
                    "generated": data.get("generated") if record else None,
                    "commands": [" ".join(["sigcube", *c]) for c in data["commands"]] if record else []}
    return out


def _get(source: Mapping[str, Any], *path: Any) -> Any:
    """``source``'s report at ``path``, or a VerdictError naming the file and the key it lacks."""
    node: Any = source["report"]
    for i, key in enumerate(path):
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            where = "/".join(str(p) for p in path[:i + 1])
            raise VerdictError(f"{source['file']}: no {where!r} — not the report the verdict reads (remake it)") from None
    return node


def error_model_name(scatter: Mapping[str, Any] | None) -> str:
    """The error model's name as the error-model table gives it (``velocity_floor+tau_gal``, …) from a compare
    report's ``scatter`` block: τ_gal, a floor or a tail weight beside σ_int count where they are not held at 0."""
    if not scatter:
        return "quoted"
    name = scatter["error_model"]
    for key in ("sigma_floor", "tau_gal", "tail"):
        extra = scatter.get(key)
        if extra and any(float(v) > 0 for v in extra["values"]):
            name += f"+{key}"
    return name


def _pair(a: str, b: str, ln_b: float, error: float, **more: Any) -> dict[str, Any]:
    return {"a": a, "b": b, "ln_b": float(ln_b), "error": float(error),
            "bayes": bayes_verdict(float(ln_b), float(error), a, b), **more}


def _provenance(source: Mapping[str, Any]) -> dict[str, Any]:
    return {k: source[k] for k in ("file", "commit", "generated", "commands")}


def _halo_relation(model: str) -> tuple[str, str]:
    """(halo, stellar-to-halo relation) of a ΛCDM model's name: ``nfw-lcdm`` → (nfw, the default relation),
    ``nfw-lcdm-behroozi2013`` → (nfw, behroozi2013)."""
    halo, _, relation = model.partition("-lcdm")
    return halo, relation.removeprefix("-") or DEFAULT_SHMR


def _relations(family: Mapping[str, Any], relations: Mapping[str, Any]) -> dict[str, Any]:
    """Every ΛCDM halo's run under every stellar-to-halo relation, the family run's (the default relation) and the
    relations record's, by model name, each with its own MOND run's ln B; and each halo's relation of highest ln Z."""
    runs = {m: r for source in (family, relations) for m, r in _get(source, "runs", "nuisance").items()
            if "-lcdm" in m}
    by_halo: dict[str, dict[str, float]] = {}
    for model, r in runs.items():
        halo, relation = _halo_relation(model)
        by_halo.setdefault(halo, {})[relation] = r["ln_B_vs_mond"]
    return {"runs": runs, "ln_b": by_halo, "default": DEFAULT_SHMR,
            "relations": list(dict.fromkeys(r for rel in by_halo.values() for r in rel)),
            "preferred": {h: max(rel, key=rel.get) for h, rel in by_halo.items()}}


def _rotation_curves(family: Mapping[str, Any], table: Mapping[str, Any], calibration: Mapping[str, Any],
                     relations: Mapping[str, Any], tails: Mapping[str, Any]) -> dict[str, Any]:
    runs = _get(family, "runs", "nuisance")
    if "sigma" not in runs or "mond" not in runs or "nfw-lcdm" not in runs:
        raise VerdictError(f"{family['file']}: the rotation-curve row needs Σ, MOND and NFW-ΛCDM among its models; it "
                           f"has {', '.join(runs)}")
    shmr = _relations(family, relations)
    lcdm = shmr["runs"]
    nfw = max((m for m in lcdm if _halo_relation(m)[0] == "nfw"), key=lambda m: lcdm[m]["log_evidence"])
    best = max(lcdm, key=lambda m: lcdm[m]["log_evidence"])

    def against_mond(model: str) -> dict[str, Any]:
        r = runs.get(model) or lcdm[model]
        d = r.get("decision_vs_mond") or {}
        return _pair(model, "mond", r["ln_B_vs_mond"], r["ln_B_vs_mond_error"],
                     elpd_diff=d.get("elpd_diff"), elpd_se=d.get("elpd_se"), decision=d.get("reading"),
                     engine=r.get("engine"))

    pairs = [against_mond("sigma"), against_mond(nfw)] + ([against_mond(best)] if best != nfw else [])
    lead = _get(table, "error_model_table", "lead")
    tabled = _get(table, "error_model_table", "error_models")
    sensitivity = [{"choice": f"error model {row['error_model']}", "ln_b": row["ln_B_vs_mond"],
                    "error": row["ln_B_vs_mond_error"],
                    "decision": (row.get("decision_vs_mond") or {}).get("reading")}
                   for source in (table, tails) for row in _get(source, "error_model_table", "rows")
                   if row["model"] == "sigma" and row["error_model"] != lead
                   and (source is table or row["error_model"] not in tabled)]
    sensitivity += [{"choice": f"ΛCDM halos under the relation {relation} (ln B vs MOND)",
                     "ln_b": {h: rel[relation] for h, rel in shmr["ln_b"].items() if relation in rel}}
                    for relation in shmr["relations"]]
    by_truth = _get(calibration, "by_truth")
    observed = pairs[0]["ln_b"]
    drawn = {truth: by_truth[truth]["summary"] for truth in ("sigma", "mond")}
    reading = (f"the data's ln B(Σ : MOND) = {observed:.1f} against samples drawn at the fitted parameters: "
               + "; ".join(f"{truth}-drawn median {s['quantiles']['0.5']:+.1f}, 5–95 % "
                           f"[{s['quantiles']['0.05']:+.1f}, {s['quantiles']['0.95']:+.1f}] (n = {s['n']})"
                           for truth, s in drawn.items()))
    inside = {truth: s["quantiles"]["0.05"] <= observed <= s["quantiles"]["0.95"] for truth, s in drawn.items()}
    reading += ": " + "; ".join(f"{'inside' if inside[t] else 'outside'} the {t}-drawn samples' central 90 %"
                                for t in drawn)
    return {"probe": "SPARC rotation curves", "n": _get(family, "n_galaxies"), "pairs": pairs,
            "lcdm_best": best, "shmr": {k: shmr[k] for k in ("default", "ln_b", "preferred")},
            "choices": {"error_model": error_model_name(_get(family, "scatter")),
                        "stellar_to_halo_relation": "each ΛCDM halo under the relation of highest evidence among "
                                                    f"{', '.join(shmr['relations'])}"
                                                    f" (NFW: {_halo_relation(nfw)[1]}; the best halo: "
                                                    f"{_halo_relation(best)[1]})",
                                           "sigma_int_prior": _get(family, "scatter", "prior"),
                                           "tau_gal_prior": (_get(family, "scatter").get("tau_gal") or {}).get("prior"),
                                           "n_galaxies": _get(family, "n_galaxies")},
            "calibration": {"reading": reading, "inside_central_90": inside,
                            "drawn_at": _get(calibration, "drawn_at"), "error_model": error_model_name(
                                _get(calibration, "scatter"))},
            "sensitivity": sensitivity, "sources": ["family", "relations", "error_models", "tails", "calibration"]}


def _regression_row(rows: list[dict[str, Any]], start: str, file: str) -> dict[str, Any]:
    found = [r for r in rows if r["name"].startswith(start)]
    if not found:
        raise VerdictError(f"{file}: no row {start!r} in the regression suite")
    if found[0]["status"] != "computed":
        raise VerdictError(f"{file}: the row {found[0]['name']!r} is {found[0]['status']!r}, not computed")
    return found[0]


def _milky_way(regression: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = _get(regression)
    out = []
    for key in ("eilers", "mroz"):
        row = _regression_row(rows, REGRESSION_ROWS[key], regression["file"])
        m, v = row["values"]["marginalised"], row["values"]
        out.append({"probe": row["name"], "n": v["sigma"]["rms_bootstrap"]["n"],
                    "pairs": [_pair("sigma", "mond", m["ln_b_sigma_mond"]["value"], m["ln_b_sigma_mond"]["error"])],
                    "lcdm_best": None, "lcdm": "not modelled: no halo model of the Milky Way in sigcube",
                    "choices": {"likelihood": row["conventions"]["summary"]},
                    "sensitivity": [{"choice": "V_bar fixed at ×1 (RMS, not an evidence)",
                                     "rms": {k: v[k]["rms"] for k in ("sigma", "mond")}},
                                    {"choice": "V_bar fixed at ×1.16 (RMS, not an evidence)",
                                     "rms": {k: v[f"{k}_x1.16"]["rms"] for k in ("sigma", "mond")}}],
                    "sources": ["regression"]})
    return out


def _dwarfs(regression: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = _get(regression)
    out = []
    for key in ("simon", "mcconnachie"):
        row = _regression_row(rows, REGRESSION_ROWS[key], regression["file"])
        iso = row["values"]["marginalised"]["isolated"]
        field = row["values"]["marginalised"].get("milky_way_field")
        pairs = []
        for cls in ("classical", "ultra_faint"):
            b = iso["by_class"][cls]["ln_b"]["sigma_mond"]
            pairs.append(_pair("sigma", "mond", b["value"], b["error"], subset=cls))
        sens = []
        if field:
            for cls in ("classical", "ultra_faint"):
                b = field["by_class"][cls]["ln_b"]["sigma_mond"]
                sens.append({"choice": f"{cls}: in the Milky Way's field by the paper's quadrature rule",
                             "ln_b": b["value"], "error": b["error"]})
        out.append({"probe": row["name"], "n": row["values"]["n_measured"], "pairs": pairs, "lcdm_best": None,
                    "lcdm": "not modelled: no dark-matter halo model of the dwarfs in sigcube",
                    "choices": {"likelihood": row["conventions"]["summary"],
                                "upsilon_V_prior": row["conventions"].get("upsilon_V_prior")},
                    "sensitivity": sens, "sources": ["regression"]})
    return out


def _df2(regression: Mapping[str, Any]) -> dict[str, Any]:
    row = _regression_row(_get(regression), REGRESSION_ROWS["df2"], regression["file"])
    v = row["values"]
    return {"probe": row["name"], "n": 1, "pairs": [], "lcdm_best": None,
            "lcdm": "not modelled", "prediction": {"sigma_pred": v["sigma_pred"], "sigma_obs": v["sigma_obs"],
                                                   "sigma_obs_90": v["sigma_obs_90"],
                                                   "above_90_limit": v["above_90_limit"]},
            "choices": {"likelihood": row["conventions"]["summary"]},
            "reading": (f"no likelihood (literature inputs, one galaxy): σ predicted Σ {v['sigma_pred']['sigma']:.1f}, "
                        f"MOND {v['sigma_pred']['mond']:.1f} km/s (isolated, no external field) against σ_obs "
                        f"{v['sigma_obs']} km/s, < {v['sigma_obs_90']} at 90 %: both above the limit"),
            "sensitivity": [], "sources": ["regression"]}


def _clusters(clusters: Mapping[str, Any]) -> dict[str, Any]:
    verdicts = _get(clusters, "verdicts")
    pairs = [_pair(v["a"], v["b"], v["ln_b"], v["error"], elpd_diff=v["delta_elpd"], elpd_se=v["se"],
                   decision=v["elpd"]) for v in verdicts]
    sens = [{"choice": s["choice"], "ln_b": {f"{v['a']}:{v['b']}": v["ln_b"] for v in s["verdicts"]}}
            for s in _get(clusters, "sensitivity")]
    return {"probe": "CLASH clusters (lensing masses)", "n": len(_get(clusters, "models", "nfw-lcdm", "clusters")),
            "pairs": pairs, "lcdm_best": "nfw-lcdm", "choices": {"likelihood": _get(clusters, "likelihood"),
                                                                  "errors": _get(clusters, "errors")},
            "sensitivity": sens, "sources": ["clusters"]}


def _tension_rows(source: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = [{"choice": "the report's lead: data systematics off", "n_sigma": _get(source, "tension", 0, "n_sigma")}]
    for block in _get(source, "choices"):
        for r in block["rows"][1:]:
            rows.append({"choice": f"{block['kind']}: {r['description']}", "n_sigma": r["tension"]["n_sigma"]})
    return rows


def _joint(sigma: Mapping[str, Any], mond: Mapping[str, Any], family: Mapping[str, Any]) -> dict[str, Any]:
    a0 = _get(sigma, "posterior", "sparc", "axes", "A0")
    compare = _get(family, "runs", "nuisance", "sigma", "evidence", "posterior", "A0")
    shift = (a0["mean"] - compare["mean"]) / compare["sd"]
    return {"probe": "SPARC and CLASH with one A0 (a0)", "n": None, "pairs": [], "lcdm_best": None,
            "lcdm": "not run jointly: ΛCDM halos are fitted per object, with no shared parameter to be in tension",
            "tension": {"sigma": _tension_rows(sigma), "mond": _tension_rows(mond)},
            "sparc_a0": {"joint": {"mean": a0["mean"], "sd": a0["sd"]},
                         "comparison": {"mean": compare["mean"], "sd": compare["sd"]},
                         "shift_in_sd": shift, "agree": abs(shift) <= 1.0},
            "choices": {"sparc": _get(sigma, "description")}, "sensitivity": [], "sources": ["joint_sigma", "joint_mond"]}


def _priors(scatter: Mapping[str, Any] | None) -> tuple[str | None, str | None]:
    """(σ_int's prior, τ_gal's prior) as a compare report's ``scatter`` block states them."""
    if not scatter:
        return None, None
    return scatter.get("prior"), (scatter.get("tau_gal") or {}).get("prior")


def _joint_evidence(table: Mapping[str, Any]) -> dict[str, tuple[float, float]]:
    """Each error model's ln Σ_m Z(m, e) over the table's gravity models, and its numerical error (the largest of the
    models'), as the error-model table ranks them."""
    rows = _get(table, "error_model_table", "rows")
    out = {}
    for e in _get(table, "error_model_table", "error_models"):
        mine = [r for r in rows if r["error_model"] == e]
        out[e] = (float(logsumexp([r["log_evidence"] for r in mine])), max(r["log_evidence_error"] for r in mine))
    return out


def _tails_differences(table: Mapping[str, Any], tails: Mapping[str, Any], used: str) -> list[str]:
    """What the Student-t record says against the lead: its error models the data prefer to the lead (ranked by
    ln Σ_m Z, the gravity models equally likely), and whether it repeats the lead's integrals."""
    out = []
    here, there = _joint_evidence(table), _joint_evidence(tails)
    lead = _get(table, "error_model_table", "lead")
    if lead in there:
        (z0, e0), (z1, e1) = here[lead], there[lead]
        if abs(z0 - z1) > 3 * max(e0 + e1, 0.01):
            out.append(f"the lead error model {lead}'s evidence differs between {table['file']} ({z0:.2f}) and "
                       f"{tails['file']} ({z1:.2f}) beyond their errors")
    adequate = _get(tails, "error_model_table", "adequate")
    for e, (z, error) in sorted(there.items(), key=lambda item: -item[1][0]):
        if e in here or e == used or lead not in there:
            continue
        margin, margin_error = z - there[lead][0], error + there[lead][1]
        if margin > 3 * margin_error:
            out.append(f"the data prefer {e} to {used}, the error model of the family run, by {margin:.1f} ± "
                       f"{margin_error:.2f} nat ({tails['file']}; {'adequate' if adequate.get(e) else 'not adequate'} "
                       "by its checks): the halo family and the calibration have not been run under it")
    return out


def _differences(family: Mapping[str, Any], table: Mapping[str, Any], joint: Mapping[str, Any],
                 calibration: Mapping[str, Any], relations: Mapping[str, Any], tails: Mapping[str, Any]) -> list[str]:
    """The galaxy choices that differ from the lead's between the parts (none: one set of choices), and the error
    models the data prefer to it (:func:`_tails_differences`)."""
    lead = _get(table, "error_model_table", "lead")
    out = []
    used = error_model_name(_get(family, "scatter"))
    if used != lead:
        out.append(f"the family run ({family['file']}) uses error model {used}, the comparison leads with {lead}")
    if (error_model_name(_get(relations, "scatter")) != used
            or _priors(_get(relations, "scatter")) != _priors(_get(family, "scatter"))
            or _get(relations, "n_galaxies") != _get(family, "n_galaxies")):
        out.append(f"the relations record ({relations['file']}) is not made under the family run's error model, "
                   "priors and sample: its ln B are not comparable with the family's")
    here, there = (_get(source, "runs", "nuisance", "mond") for source in (family, relations))
    if abs(here["log_evidence"] - there["log_evidence"]) > 3 * max(here["log_evidence_error"]
                                                                   + there["log_evidence_error"], 0.01):
        out.append(f"MOND's ln Z differs between the family run ({here['log_evidence']:.2f}) and the relations record "
                   f"({there['log_evidence']:.2f}) beyond their errors")
    cal = error_model_name(_get(calibration, "scatter"))
    if cal != lead:
        out.append(f"the calibration ({calibration['file']}) draws under {cal}, the comparison leads with {lead}")
    lead_scatter = _get(table, "reports", lead, "scatter")
    for source, name in ((family, "the family run"), (calibration, "the calibration")):
        for what, got, want in zip(("σ_int", "τ_gal"), _priors(_get(source, "scatter")), _priors(lead_scatter)):
            if got != want:
                out.append(f"{what}'s prior: {got} in {name} ({source['file']}), {want} in the error-model table")
    n = {"family": _get(family, "n_galaxies"), "error_models": _get(table, "error_model_table", "n_galaxies"),
         "joint": _get(joint, "probes", 0, "objects")}
    if len(set(n.values())) > 1:
        out.append("samples differ: " + ", ".join(f"{k} {v} galaxies" for k, v in n.items()))
    likelihood = _get(joint, "probes", 0, "likelihood")
    if "velocity_floor" in lead and ("error model velocity_floor" not in likelihood
                                     or ("tau_gal" in lead) != ("τ_gal =" in likelihood)):
        out.append(f"the joint run's SPARC likelihood is not the lead error model {lead}")
    return out + _tails_differences(table, tails, used)


def _read(build: Any, *parts: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The row(s) ``build`` makes of ``parts``; a part without a key or value the row reads (a damaged or foreign
    report) refused naming its files."""
    try:
        made = build(*parts)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        files = ", ".join(dict.fromkeys(p["file"] for p in parts))
        raise VerdictError(f"{files}: not the report the verdict reads ({type(exc).__name__}: {exc}); remake it with "
                           "the command its source names") from None
    return made if isinstance(made, list) else [made]


def verdict_report(sources: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The verdict per probe from :func:`load_sources`'s ``sources``."""
    family, table = sources["family"], sources["error_models"]
    rows = [*_read(_rotation_curves, family, table, sources["calibration"], sources["relations"], sources["tails"]),
            *_read(_milky_way, sources["regression"]), *_read(_dwarfs, sources["regression"]),
            *_read(_df2, sources["regression"]), *_read(_clusters, sources["clusters"]),
            *_read(_joint, sources["joint_sigma"], sources["joint_mond"], family)]
    t = _get(table, "error_model_table")
    return {
        "question": "does one Σ-Gravity formula serve disk galaxies, the Milky Way, dwarfs and clusters better than "
                    "MOND and dark-matter halos?",
        "lead_error_model": {"name": t["lead"], "basis": t["lead_basis"], "adequate": t["adequate"]},
        "rule": t["rule"],
        "rows": rows,
        "differences": _differences(family, table, sources["joint_sigma"], sources["calibration"],
                                    sources["relations"], sources["tails"]),
        "not_answered": [
            "the RAR: the same SPARC points as the rotation-curve row, judged there (its scatter is in `report "
            "regression`)",
            "MOND's external field by the formula MOND's users apply (the one-dimensional QUMOND approximation): not "
            "implemented; the dwarf rows' field column uses the paper's quadrature rule",
            "ΛCDM halos for the Milky Way, the dwarfs and DF2: not modelled",
        ],
        "sources": {k: _provenance(s) for k, s in sources.items()},
    }


def pair_text(p: Mapping[str, Any]) -> str:
    """A comparison as text: ln B ± its numerical error, ΔELPD ± paired SE where there is one, the subset."""
    text = f"ln B({p['a']} : {p['b']}) = {p['ln_b']:+.2f} ± {p['error']:.2g}"
    if p.get("elpd_diff") is not None:
        text += f", ΔELPD {p['elpd_diff']:+.1f} ± {p['elpd_se']:.1f}"
    return text + (f" [{p['subset']}]" if p.get("subset") else "")


def row_cells(row: Mapping[str, Any]) -> tuple[list[str], list[str], list[str]]:
    """A probe's (comparisons, readings, what moves it) as lines, for the terminal and the docs alike."""
    if row["pairs"]:
        comparison = [pair_text(p) for p in row["pairs"]]
        reading = [p.get("decision") or p["bayes"] for p in row["pairs"]]
    elif "tension" in row:
        comparison = [f"{m}: {r['n_sigma']:.2f}σ ({r['choice']})" for m in ("sigma", "mond") for r in row["tension"][m]]
        a = row["sparc_a0"]
        reading = [f"SPARC A0 {a['joint']['mean']:.4f} ± {a['joint']['sd']:.4f} jointly, {a['comparison']['mean']:.4f} "
                   f"± {a['comparison']['sd']:.4f} in the comparison ({a['shift_in_sd']:+.2f} sd)"]
    else:
        comparison, reading = ["—"], [row["reading"]]
    moves = [sensitivity_text(s) for s in row["sensitivity"]]
    if row.get("lcdm"):
        moves.append(f"ΛCDM: {row['lcdm']}")
    return comparison, reading, moves


def render(report: dict[str, Any], console: Console) -> None:
    """The verdict per probe, the choices that differ, what is not answered and the sources."""
    console.print(escape("The question: " + report["question"]))
    lead = report["lead_error_model"]
    console.print(escape(f"Galaxy error model: {lead['name']} — {lead['basis']}"))
    table = Table(title="The verdict, probe by probe", box=box.SIMPLE, show_lines=True)
    for col in ("probe", "n", "comparison", "reading", "what moves it"):
        table.add_column(col, overflow="fold")
    for row in report["rows"]:
        comparison, reading, moves = row_cells(row)
        table.add_row(escape(row["probe"]), "" if row["n"] is None else str(row["n"]), escape("\n".join(comparison)),
                      escape("\n".join(reading)), escape("\n".join(moves)))
    console.print(table)
    rc = report["rows"][0]
    console.print(escape("Calibration (rotation curves): " + rc["calibration"]["reading"]))
    if report["differences"]:
        for line in report["differences"]:
            console.print(escape(f"⚠ choices differ: {line}"))
    else:
        console.print("Every galaxy row is made under one set of choices (error model, σ_int prior, sample).")
    for row in report["rows"]:
        for key, value in row["choices"].items():
            if value:
                console.print(escape(f"• {row['probe']}, {key.replace('_', ' ')}: {value}"))
    for line in report["not_answered"]:
        console.print(escape(f"• not answered here: {line}"))
    for key, s in report["sources"].items():
        console.print(escape(f"source {s['file']}: commit {s['commit'] or '?'}, {s['generated'] or 'date unknown'}"
                             + (f" — {s['commands'][-1]}" if s["commands"] else "")))


def sensitivity_text(s: Mapping[str, Any]) -> str:
    """A sensitivity entry as text: the verdict (or the RMS) under another choice."""
    if "rms" in s:
        return f"{s['choice']}: Σ {s['rms']['sigma']:.1f}, MOND {s['rms']['mond']:.1f} km/s"
    ln_b = s["ln_b"]
    if isinstance(ln_b, Mapping):
        return f"{s['choice']}: " + ", ".join(f"{k} {v:+.1f}" for k, v in ln_b.items())
    text = f"{s['choice']}: ln B {ln_b:+.1f}"
    if s.get("error") is not None and not decided(ln_b, s["error"]):
        text += " (undecided)"
    return text
