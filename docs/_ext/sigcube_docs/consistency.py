"""The identities a committed record's numbers obey among themselves, checked from the record alone (nothing remade).

A report states many numbers twice or derives one from others: ln B = ln Z − ln Z(MOND), ΔELPD = ELPD − ELPD of the
best, a total the sum of its per-galaxy terms, a table row the copy of its run's. A number edited by hand breaks one of
them; :func:`problems` lists every identity a record breaks, each as ``POINTER = value, but WHAT = value`` (JSON
Pointers into the record, RFC 6901). The rules that hold wherever their keys appear (:data:`MAPPING_RULES` and
:func:`_generic`) run on every record, benchmark records included; each report kind adds its own
(:data:`BY_SUBCOMMAND`).

The numbers are JSON floats written with every bit (``repr``), so an identity holds to the rounding of the sum or
difference that made it: :data:`TOLERANCE` relative to the largest term.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from itertools import combinations
from typing import Any

import numpy as np
from scipy import stats
from scipy.special import logsumexp

from sigcube_docs import sources

TOLERANCE = 1e-9
"""An identity holds when its two sides differ by less than this, relative to its largest term: a sum of 171
galaxies' terms agrees with its stored total to ~1e-13 relative, a value copied or subtracted exactly; an edited digit
moves it by far more."""
FLOOR = 1e-15
"""…or by less than this, absolute (rounding noise about zero)."""

ERROR_KEY = re.compile(r"(^|_)(error|errors|se|sd|dse|std)$")
"""Keys whose numbers (every number inside them) are spreads or numerical-error estimates: never negative."""
INTERVAL_KEY = re.compile(r"^(ci|ci\d+|\w+_ci\d+)$")
"""Keys of intervals ``[lo, hi]`` (or of lists of them, one per galaxy): lo ≤ hi."""


class Checks:
    """The problems found in one record, and the rules of sigcube's reports they are judged by
    (:func:`sigcube_docs.sources.report_rules`)."""

    def __init__(self) -> None:
        self.found: list[str] = []
        rules = sources.report_rules()
        self.reference: str = rules["reference"]
        """The model Bayes factors are against (MOND)."""
        self.decided: float = rules["decided"]
        """A difference decides when it exceeds this many times its numerical error."""
        self.reproduced: str = rules["reproduced"]
        self.count_matched: str = rules["count_matched"]

    def close(self, at: str, value: Any, expected: float, *terms: float, why: str = "its identity") -> None:
        """``value`` is ``expected`` (what ``why`` gives) to :data:`TOLERANCE` relative to the largest of the two and
        ``terms``."""
        if not _number(value):
            self.found.append(f"{at} = {_short(value)}, but {why} = {expected!r}")
            return
        scale = max([abs(value), abs(expected), *(abs(t) for t in terms)])
        if not abs(value - expected) <= max(TOLERANCE * scale, FLOOR):
            self.found.append(f"{at} = {value!r}, but {why} = {expected!r}")

    def equal(self, at: str, value: Any, expected: Any, why: str = "its identity") -> None:
        """``value`` is ``expected``: a count, a name, or (deeply) a copy of other numbers, floats by :meth:`close`."""
        if isinstance(expected, Mapping) and isinstance(value, Mapping) and set(value) == set(expected):
            for key in expected:
                self.equal(child(at, key), value[key], expected[key], why)
        elif isinstance(expected, list) and isinstance(value, list) and len(value) == len(expected):
            for i, (v, e) in enumerate(zip(value, expected)):
                self.equal(child(at, i), v, e, why)
        elif isinstance(expected, float) and _number(value):
            self.close(at, value, expected, why=why)
        elif value != expected or type(value) is not type(expected):
            self.found.append(f"{at} = {_short(value)}, but {why} = {_short(expected)}")

    def count(self, at: str, items: Sequence[Any], n: int) -> None:
        """``items`` holds ``n`` entries (one per galaxy, per grid point)."""
        if len(items) != n:
            self.found.append(f"{at} holds {len(items)} entries, where {n} are implied")

    def holds(self, at: str, condition: bool, what: str) -> None:
        """``condition``, or the problem ``at: what``."""
        if not condition:
            self.found.append(f"{at}: {what}")


def child(at: str, *keys: Any) -> str:
    """The JSON Pointer of ``keys`` (object keys or list indices, in turn) under ``at``."""
    return at + "".join(f"/{str(k).replace('~', '~0').replace('/', '~1')}" for k in keys)


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _short(x: Any) -> str:
    text = repr(x)
    return text if len(text) <= 80 else text[:77] + "…"


def _fsum(values: Sequence[float]) -> tuple[float, float]:
    """The correctly rounded sum of ``values`` and the sum of their magnitudes (the scale of its rounding)."""
    return math.fsum(values), math.fsum(abs(v) for v in values)


def _se(values: Sequence[float], ddof: int = 0) -> float:
    """√(n·Var) of ``values``, the variance with ``ddof`` (0: ELPD_LOGO's SE, 1: the decision rule's paired SE)."""
    x = np.asarray(values, dtype=float)
    return float(np.sqrt(x.size * x.var(ddof=ddof))) if x.size > ddof else math.inf


# --- rules that hold wherever their keys appear ------------------------------------------------------------------


def _generic(node: Any, at: str, c: Checks) -> None:
    """Every rule of this section on ``node`` (parsed JSON) and on everything inside it; every number finite."""
    if isinstance(node, list):
        for i, value in enumerate(node):
            if isinstance(value, (dict, list)):
                _generic(value, child(at, i), c)
            elif isinstance(value, float) and not math.isfinite(value):
                c.holds(child(at, i), False, f"{value!r} (every number of a record is finite)")
        return
    for rule in MAPPING_RULES:
        rule(node, at, c)
    for key, value in node.items():
        where = child(at, key)
        if ERROR_KEY.search(key):
            _not_negative(value, where, c)
        if INTERVAL_KEY.match(key):
            _ordered(value, where, c)
        if key == "ranking":
            _ranking(value, where, c)
        if isinstance(value, (dict, list)):
            _generic(value, where, c)
        elif isinstance(value, float) and not math.isfinite(value):
            c.holds(where, False, f"{value!r} (every number of a record is finite)")


def _not_negative(node: Any, at: str, c: Checks) -> None:
    if isinstance(node, Mapping):
        for key, value in node.items():
            _not_negative(value, child(at, key), c)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _not_negative(value, child(at, i), c)
    elif _number(node):
        c.holds(at, node >= 0, f"{node!r} (a spread or a numerical error is never negative)")


def _pair(x: Any) -> bool:
    return isinstance(x, list) and len(x) == 2 and all(_number(v) for v in x)


def _ordered(node: Any, at: str, c: Checks) -> None:
    """An interval, or a list of intervals (or of None), each ``[lo, hi]`` with lo ≤ hi."""
    if _pair(node):
        c.holds(at, node[0] <= node[1], f"{node!r}: an interval's ends in the wrong order")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            if value is not None:
                _ordered(value, child(at, i), c)


def _nested(node: Mapping[str, Any], at: str, c: Checks) -> None:
    """ci68 inside ci95 (one interval each, or one per galaxy)."""
    inner, outer = node.get("ci68"), node.get("ci95")
    if _pair(inner) and _pair(outer):
        pairs = [(child(at, "ci68"), inner, outer)]
    elif isinstance(inner, list) and isinstance(outer, list):
        pairs = [(child(at, "ci68", i), a, b) for i, (a, b) in enumerate(zip(inner, outer)) if _pair(a) and _pair(b)]
    else:
        return
    for where, a, b in pairs:
        c.holds(where, b[0] <= a[0] + FLOOR and a[1] <= b[1] + FLOOR, f"{a!r} is not inside ci95 {b!r}")


def _fraction(node: Mapping[str, Any], at: str, c: Checks) -> None:
    """A fraction with its binomial interval (:func:`sigcube.stats.verdicts.fraction`): value = k/n, and the
    Clopper–Pearson interval of k of n at the level its words state."""
    if not ({"value", "k", "n", "ci", "interval"} <= set(node) and _pair(node["ci"])):
        return
    k, n = node["k"], node["n"]
    c.holds(child(at, "k"), 0 <= k <= n, f"{k} of {n}")
    if not 0 <= k <= n or n == 0:
        return
    c.close(child(at, "value"), node["value"], k / n, why="k/n")
    level = float(re.search(r"(\d+(?:\.\d+)?) %", node["interval"]).group(1)) / 100
    tail = (1 - level) / 2
    lo = 0.0 if k == 0 else float(stats.beta.ppf(tail, k, n - k + 1))
    hi = 1.0 if k == n else float(stats.beta.ppf(1 - tail, k + 1, n - k))
    c.equal(child(at, "ci"), node["ci"], [lo, hi], why=f"the Clopper–Pearson {level:.0%} interval of {k} of {n}")


def _wins(node: Mapping[str, Any], at: str, c: Checks) -> None:
    """Wins and losses of one model against another over n galaxies count every galaxy once."""
    if not {"n", "wins_strict", "losses_strict"} <= set(node):
        return
    n = node["n"]
    c.equal(child(at, "losses_strict"), node["losses_strict"], n - node["wins_strict"], why="n − wins_strict")
    if {"wins", "ties", "losses"} <= set(node):
        c.equal(child(at, "losses"), node["losses"], n - node["wins"] - node["ties"], why="n − wins − ties")
    if "win_fraction" in node and n:
        c.close(child(at, "win_fraction"), node["win_fraction"], node["wins_strict"] / n, why="wins_strict/n")
    if isinstance(node.get("binomial"), Mapping):
        c.equal(child(at, "binomial", "k"), node["binomial"]["k"], node["wins_strict"], why="wins_strict")


def _quantiles(node: Mapping[str, Any], at: str, c: Checks) -> None:
    """Quantiles (or percentiles) keyed by their level never decrease with it."""
    for key in ("quantiles", "percentiles"):
        q = node.get(key)
        if isinstance(q, Mapping) and q and all(_number(v) for v in q.values()):
            levels = sorted(q, key=float)
            for a, b in zip(levels, levels[1:]):
                c.holds(child(at, key, b), q[a] <= q[b], f"{q[b]!r} is below the {a} level's {q[a]!r}")


def _against_reference(node: Mapping[str, Any], at: str, c: Checks) -> None:
    """Rows by model, MOND among them: ln B = ln Z − ln Z(MOND), and its numerical error the sum of the two
    evidences' errors (MOND's own: 0)."""
    ref = node.get(c.reference)
    if not (isinstance(ref, Mapping) and all(isinstance(r, Mapping) and "log_evidence" in r for r in node.values())
            and any("ln_B_vs_mond" in r for r in node.values())):
        return
    for name, row in node.items():
        if "ln_B_vs_mond" not in row:
            continue
        c.close(child(at, name, "ln_B_vs_mond"), row["ln_B_vs_mond"], row["log_evidence"] - ref["log_evidence"],
                row["log_evidence"], ref["log_evidence"], why=f"ln Z − ln Z({c.reference})")
        if "ln_B_vs_mond_error" in row and "log_evidence_error" in row:
            c.close(child(at, name, "ln_B_vs_mond_error"), row["ln_B_vs_mond_error"],
                    0.0 if name == c.reference else row["log_evidence_error"] + ref["log_evidence_error"],
                    why=f"the error of ln Z + that of ln Z({c.reference})")


def _evidence(node: Mapping[str, Any], at: str, c: Checks) -> None:
    """A model's ln Z and its error as its evidence integral states them; an error the sum of its parts."""
    ev = node.get("evidence")
    if isinstance(ev, Mapping) and "log_evidence" in node and "log_z" in ev:
        c.close(child(at, "log_evidence"), node["log_evidence"], ev["log_z"], why=child(at, "evidence", "log_z"))
        if "log_evidence_error" in node:
            c.close(child(at, "log_evidence_error"), node["log_evidence_error"], ev["error"],
                    why=child(at, "evidence", "error"))
    errors = node.get("errors")
    if isinstance(errors, Mapping) and errors and all(_number(v) for v in errors.values()):
        total, scale = _fsum([v for k, v in errors.items() if k != "total"])
        if "total" in errors:
            c.close(child(at, "errors", "total"), errors["total"], total, scale, why="the sum of the other errors")
        elif "log_evidence_error" in node:
            c.close(child(at, "log_evidence_error"), node["log_evidence_error"], total, scale,
                    why=f"the sum of {child(at, 'errors')}")


def _information(node: Mapping[str, Any], at: str, c: Checks) -> None:
    """AIC = 2k − 2 ln L_max and BIC = k ln N − 2 ln L_max."""
    if not ({"aic", "bic", "k", "ln_L_max", "n_points"} <= set(node) and _number(node["ln_L_max"])):
        return
    k, ln_l = node["k"], node["ln_L_max"]
    c.close(child(at, "aic"), node["aic"], 2 * k - 2 * ln_l, 2 * k, 2 * ln_l, why="2k − 2 ln L_max")
    c.close(child(at, "bic"), node["bic"], k * math.log(node["n_points"]) - 2 * ln_l, 2 * ln_l,
            why="k ln N − 2 ln L_max")


def _tension(node: Mapping[str, Any], at: str, c: Checks) -> None:
    """Two probes' tension: ln R = ln Z_joint − ln Z_a − ln Z_b, ln S = ln R − ln I, d = d_a + d_b − d_joint."""
    z = node.get("ln_z")
    if not (isinstance(z, Mapping) and {"ln_r", "ln_i", "ln_s"} <= set(node)):
        return
    c.close(child(at, "ln_r"), node["ln_r"], z["joint"] - z["a"] - z["b"], z["joint"], z["a"], z["b"],
            why="ln Z_joint − ln Z_a − ln Z_b")
    c.close(child(at, "ln_s"), node["ln_s"], node["ln_r"] - node["ln_i"], node["ln_r"], node["ln_i"],
            why="ln R − ln I")
    d = node.get("dimensionality")
    if isinstance(d, Mapping):
        c.close(child(at, "dimensionality", "shared"), d["shared"], d["a"] + d["b"] - d["joint"], d["a"], d["b"],
                d["joint"], why="d_a + d_b − d_joint")


def _rar(node: Mapping[str, Any], at: str, c: Checks) -> None:
    """The RAR scatter in acceleration is twice that in velocity (log g = 2 log V − log r at each point)."""
    v, a = node.get("rar_scatter_velocity"), node.get("rar_scatter_accel")
    if _number(v) and _number(a):
        c.close(child(at, "rar_scatter_accel"), a, 2 * v, why="2 × rar_scatter_velocity")


def _ranking(node: Any, at: str, c: Checks) -> None:
    """Models (or rows) ranked by ln Z, best first: each one's distance to the best, its error the sum of both."""
    if not (isinstance(node, list) and node and all(
            isinstance(r, Mapping) and {"log_evidence", "error", "delta", "delta_error"} <= set(r) for r in node)):
        return
    top = node[0]
    for i, r in enumerate(node):
        if i:
            c.holds(child(at, i, "log_evidence"), r["log_evidence"] <= node[i - 1]["log_evidence"],
                    "ranked below a smaller ln Z")
        c.close(child(at, i, "delta"), r["delta"], r["log_evidence"] - top["log_evidence"], r["log_evidence"],
                top["log_evidence"], why="ln Z − the first's ln Z")
        c.close(child(at, i, "delta_error"), r["delta_error"], r["error"] + top["error"],
                why="its error + the first's")


MAPPING_RULES: tuple[Callable[[Mapping[str, Any], str, Checks], None], ...] = (
    _nested, _fraction, _wins, _quantiles, _against_reference, _evidence, _information, _tension, _rar)
"""The rules :func:`_generic` applies to every mapping of a record."""


# --- sigcube report compare ----------------------------------------------------------------------------------------


def _compare(report: Mapping[str, Any], at: str, c: Checks) -> None:
    """A model comparison: each run's rows against its leave-one-galaxy-out summary and its per-galaxy terms; for an
    error-model table, the table against its comparisons and each comparison on its own."""
    if "error_model_table" in report:
        _error_model_table(report["error_model_table"], report["reports"], child(at, "error_model_table"), c)
        for em, one in report["reports"].items():
            _compare(one, child(at, "reports", em), c)
        return
    for label, rows in report["runs"].items():
        here = child(at, "runs", label)
        for name, row in rows.items():
            _row(row, report["n_galaxies"], report["n_points"], child(here, name), c)
        summary = report["logo"][label]
        _logo(summary, rows, child(at, "logo", label), here, c)
        per = summary["per_galaxy"]["elpd"]
        for name, row in rows.items():
            if "galaxy_log_evidence" in row and "sigma_int" not in row:
                c.equal(child(at, "logo", label, "per_galaxy", "elpd", name), per[name], row["galaxy_log_evidence"],
                        why=child(here, name, "galaxy_log_evidence"))
            d = row.get("decision_vs_mond")
            if d is not None:
                diff = np.asarray(per[name], dtype=float) - np.asarray(per[c.reference], dtype=float)
                c.close(child(here, name, "decision_vs_mond", "elpd_diff"), d["elpd_diff"], *_fsum(diff.tolist()),
                        why=f"Σ_g (elpd_g − elpd_g({c.reference}))")
                c.close(child(here, name, "decision_vs_mond", "elpd_se"), d["elpd_se"], _se(diff, ddof=1),
                        why="√(n·Var) of the per-galaxy differences")
        _per_galaxy_bayes(report["per_galaxy_bayes"][label], rows, child(at, "per_galaxy_bayes", label), c)


def _row(row: Mapping[str, Any], n: int, n_points: int, at: str, c: Checks) -> None:
    """One model's row: its points, its CV per point, a per-galaxy model's galaxies and its totals from their terms
    (with σ_int on a grid each galaxy's ln Z integrates σ_int on its own: only their count and errors are checked)."""
    c.equal(child(at, "n_points"), row["n_points"], n_points, why="the report's n_points")
    cv = row.get("cv")
    if cv:
        c.close(child(at, "cv", "held_out_chi2_per_point"), cv["held_out_chi2_per_point"],
                cv["held_out_chi2"] / n_points, why="held_out_chi2 / n_points")
    if "galaxy_log_evidence" not in row:
        return
    z, e = row["galaxy_log_evidence"], row["galaxy_log_evidence_error"]
    c.count(child(at, "galaxy_log_evidence"), z, n)
    c.count(child(at, "galaxy_log_evidence_error"), e, n)
    per = row["evidence"].get("per_galaxy")
    if per is not None:
        c.equal(child(at, "evidence", "per_galaxy", "of"), per["of"], n, why="the report's n_galaxies")
        c.equal(child(at, "evidence", "per_galaxy", "largest_errors"), per["largest_errors"],
                sorted(e, reverse=True)[:len(per["largest_errors"])], why="the largest galaxy_log_evidence_error")
    if "sigma_int" in row:
        return
    c.close(child(at, "log_evidence"), row["log_evidence"], *_fsum(z), why="Σ galaxy_log_evidence")
    c.close(child(at, "log_evidence_error"), row["log_evidence_error"], *_fsum(e), why="Σ galaxy_log_evidence_error")
    c.close(child(at, "elpd_logo"), row["elpd_logo"], row["log_evidence"], why="ln Z (each galaxy's own evidence)")
    c.close(child(at, "elpd_logo_error"), row["elpd_logo_error"], row["log_evidence_error"], why="ln Z's error")


def _logo(summary: Mapping[str, Any], rows: Mapping[str, Any], at: str, rows_at: str, c: Checks) -> None:
    """ELPD_LOGO: each total the sum of its per-galaxy terms and its SE √(n·Var), the rows' copies of them, each
    difference to the best and its paired SE, the drivers' terms."""
    per, models, best = summary["per_galaxy"], summary["models"], summary["best"]
    galaxies = per["galaxy"]
    terms = {m: np.asarray(per["elpd"][m], dtype=float) for m in models}
    totals = {m: _fsum(terms[m].tolist()) for m in models}
    c.equal(child(at, "best"), best, max(models, key=lambda m: totals[m][0]), why="the model of largest ELPD")
    for m, entry in models.items():
        where = child(at, "models", m)
        c.count(child(at, "per_galaxy", "elpd", m), terms[m], len(galaxies))
        c.close(child(where, "elpd"), entry["elpd"], *totals[m], why="Σ_g elpd_g")
        c.close(child(where, "se"), entry["se"], _se(terms[m]), why="√(n·Var_g elpd_g)")
        diff = terms[best] - terms[m]
        c.close(child(where, "elpd_diff"), entry["elpd_diff"], math.fsum(diff), totals[best][1] + totals[m][1],
                why=f"ELPD({best}) − ELPD({m})")
        c.close(child(where, "dse"), entry["dse"], _se(diff), why="√(n·Var) of the paired differences")
        if entry.get("z") is not None:
            c.close(child(where, "z"), entry["z"], entry["elpd_diff"] / entry["dse"] if entry["dse"] > 0 else 0.0,
                    why="elpd_diff / dse")
        c.close(child(where, "error_diff"), entry["error_diff"],
                0.0 if m == best else entry["error"] + models[best]["error"], why=f"its error + {best}'s")
        if m in rows:
            for key, copy in (("elpd", "elpd_logo"), ("se", "elpd_logo_se"), ("error", "elpd_logo_error")):
                c.close(child(rows_at, m, copy), rows[m][copy], entry[key], why=child(where, key))
    for m, drivers in summary["drivers"].items():
        for i, d in enumerate(drivers):
            where = child(at, "drivers", m, i)
            g = galaxies.index(d["galaxy"])
            c.close(child(where, "elpd_best"), d["elpd_best"], float(terms[best][g]),
                    why=child(at, "per_galaxy", "elpd", best, g))
            c.close(child(where, "elpd"), d["elpd"], float(terms[m][g]), why=child(at, "per_galaxy", "elpd", m, g))
            c.close(child(where, "elpd_diff"), d["elpd_diff"], d["elpd_best"] - d["elpd"], d["elpd_best"], d["elpd"],
                    why="elpd_best − elpd")


def _per_galaxy_bayes(pairs: Mapping[str, Any], rows: Mapping[str, Any], at: str, c: Checks) -> None:
    """Per pair of per-galaxy models: how many galaxies' ln B favours each, counted from their ln Z."""
    z = {n: np.asarray(r["galaxy_log_evidence"]) for n, r in rows.items() if "galaxy_log_evidence" in r}
    expected = {}
    for a, b in combinations(z, 2):
        ln_b = z[a] - z[b]
        error = np.asarray(rows[a]["galaxy_log_evidence_error"]) + np.asarray(rows[b]["galaxy_log_evidence_error"])
        expected[f"{a}_vs_{b}"] = {"n": int(ln_b.size), "a_favoured": int((ln_b > 0).sum()),
                                   "a_by_1_nat": int((ln_b > 1).sum()), "b_by_1_nat": int((ln_b < -1).sum()),
                                   "undecided": int(np.sum(np.abs(ln_b) <= c.decided * error))}
    c.equal(at, dict(pairs), expected, why="the counts of the rows' galaxy_log_evidence")


def _error_model_table(table: Mapping[str, Any], reports: Mapping[str, Any], at: str, c: Checks) -> None:
    """One comparison under every error model: each row the copy of its run's, ln B against MOND's row under the same
    error model, each model's distance to its best error model, the error model each model and the data prefer, the
    decisions under it and the averaged evidences."""
    run, models, ems = table["run"], table["models"], table["error_models"]
    c.equal(child(at, "error_models"), ems, list(reports), why="the comparisons' error models")
    by: dict[tuple[str, str], Mapping[str, Any]] = {}
    for i, row in enumerate(table["rows"]):
        source = child(at.rsplit("/", 1)[0], "reports", row["error_model"], "runs", run, row["model"])
        copied = reports[row["error_model"]]["runs"][run][row["model"]]
        for key in ("log_evidence", "log_evidence_error", "ln_B_vs_mond", "ln_B_vs_mond_error", "decision_vs_mond"):
            c.equal(child(at, "rows", i, key), row[key], copied.get(key), why=child(source, key))
        by[row["model"], row["error_model"]] = row
    c.equal(child(at, "rows"), sorted(by), sorted((m, e) for m in models for e in ems),
            why="one row per model and error model")
    if sorted(by) != sorted((m, e) for m in models for e in ems):
        return
    z = {k: r["log_evidence"] for k, r in by.items()}
    error = {k: r["log_evidence_error"] for k, r in by.items()}
    for i, row in enumerate(table["rows"]):
        m, e = row["model"], row["error_model"]
        c.close(child(at, "rows", i, "ln_B_vs_mond"), row["ln_B_vs_mond"], z[m, e] - z[c.reference, e], z[m, e],
                z[c.reference, e], why=f"ln Z − ln Z of {c.reference}'s row under {e}")
        best = max(z[m, x] for x in ems)
        c.close(child(at, "rows", i, "delta_vs_best_error_model"), row["delta_vs_best_error_model"], z[m, e] - best,
                z[m, e], best, why=f"ln Z − {m}'s largest ln Z")
    for m in models:
        _margin(table["preferred_by_model"][m], {e: z[m, e] for e in ems}, {e: error[m, e] for e in ems},
                child(at, "preferred_by_model", m), c)
    _margin(table["data_prefer"], {e: float(logsumexp([z[m, e] for m in models])) for e in ems},
            {e: max(error[m, e] for m in models) for e in ems}, child(at, "data_prefer"), c)
    lead = table["data_prefer"]["error_model"]
    if "adequate" in table:  # the highest evidence among the error models adequate for every model checked under them
        ranked = sorted(ems, key=lambda e: -float(logsumexp([z[m, e] for m in models])))
        for i, row in enumerate(table["rows"]):
            if row.get("adequacy"):
                inside = {k: s["range"][0] <= s["data"] <= s["range"][1] for k, s in row["adequacy"]["statistics"].items()}
                c.equal(child(at, "rows", i, "adequacy", "adequate"), row["adequacy"]["adequate"], all(inside.values()),
                        why="every statistic within its samples' range")
        verdicts = {e: [by[m, e]["adequacy"]["adequate"] for m in models if by[m, e].get("adequacy")] for e in ems}
        c.equal(child(at, "adequate"), table["adequate"], {e: all(v) if v else None for e, v in verdicts.items()},
                why="the rows' adequacy")
        lead = next((e for e in ranked if verdicts[e] and all(verdicts[e])), ranked[0])
    c.equal(child(at, "lead"), table["lead"], lead, why="the highest evidence among the adequate error models")
    c.equal(child(at, "lead_decisions"), table["lead_decisions"],
            {m: by[m, lead]["decision_vs_mond"] for m in models if m != c.reference}, why=f"the rows' under {lead}")
    for m in models:
        values = [z[m, e] for e in ems]
        c.close(child(at, "averaged", m, "log_evidence"), table["averaged"][m]["log_evidence"],
                float(logsumexp(values)) - math.log(len(ems)), *values, why="ln mean_e Z(m, e)")
        c.close(child(at, "averaged", m, "log_evidence_error"), table["averaged"][m]["log_evidence_error"],
                max(error[m, e] for e in ems), why="the largest of its rows' errors")
    signs = {m: {math.copysign(1, by[m, e]["ln_B_vs_mond"]) for e in ems} for m in models if m != c.reference}
    c.equal(child(at, "sign_moves"), table["sign_moves"], [m for m, s in signs.items() if len(s) > 1],
            why="the models whose ln B changes sign")


def _margin(stated: Mapping[str, Any], z: Mapping[str, float], error: Mapping[str, float], at: str,
            c: Checks) -> None:
    """The error model of largest ln Z, its margin over the next, the error of that margin and whether it decides."""
    ranked = sorted(z, key=lambda e: -z[e])
    c.equal(child(at, "error_model"), stated["error_model"], ranked[0], why="the error model of largest ln Z")
    if len(ranked) > 1:
        first, second = ranked[:2]
        c.close(child(at, "margin"), stated["margin"], z[first] - z[second], z[first], z[second],
                why=f"ln Z({first}) − ln Z({second})")
        c.close(child(at, "error"), stated["error"], error[first] + error[second], why="the sum of their errors")
        c.equal(child(at, "decided"), stated["decided"], abs(stated["margin"]) > c.decided * stated["error"],
                why=f"|margin| > {c.decided:g} × error")


# --- the other report kinds --------------------------------------------------------------------------------------


def _calibration(report: Mapping[str, Any], at: str, c: Checks) -> None:
    """ln B on synthetic samples: each sample's seed and decision, each generating model's summary of its samples."""
    model, ref = report["model"], report["reference"]
    c.equal(child(at, "by_truth"), list(report["by_truth"]), [model, ref], why="the model, then the reference")
    for j, (truth, block) in enumerate(report["by_truth"].items()):
        where = child(at, "by_truth", truth)
        samples, s = block["samples"], block["summary"]
        ln_b = np.array([x["ln_B"] for x in samples], dtype=float)
        preferred = [x["preferred"] for x in samples]
        for i, x in enumerate(samples):
            c.equal(child(where, "samples", i, "seed"), x["seed"], report["seed"] + 1000 * j + i,
                    why="seed + 1000·j + s")
            c.holds(child(where, "samples", i, "preferred"), x["preferred"] in (None, model if x["ln_B"] > 0 else ref),
                    f"{x['preferred']!r} against ln B = {x['ln_B']!r}")
        summary = child(where, "summary")
        c.equal(child(summary, "n"), s["n"], len(samples), why="the number of samples")
        for key, value in (("mean", ln_b.mean()), ("sd", ln_b.std(ddof=1)), ("min", ln_b.min()), ("max", ln_b.max())):
            c.close(child(summary, key), s[key], float(value), *ln_b, why=f"the {key} of the samples' ln B")
        for q, value in s["quantiles"].items():
            c.close(child(summary, "quantiles", q), value, float(np.quantile(ln_b, float(q))), *ln_b,
                    why=f"the {q} quantile of the samples' ln B")
        c.equal(child(summary, "positive"), s["positive"], int((ln_b > 0).sum()), why="the samples of ln B > 0")
        c.equal(child(summary, "preferred"), s["preferred"], {m: preferred.count(m) for m in (model, ref)},
                why="the samples' decisions")
        c.equal(child(summary, "not_distinguished"), s["not_distinguished"], preferred.count(None),
                why="the samples' decisions")
        if "observed_rank" in s:
            c.equal(child(summary, "observed_rank"), s["observed_rank"],
                    {"below": int((ln_b < report["observed"]).sum()), "of": len(samples)},
                    why="the samples below the observed ln B")


def _sparc(report: Sequence[Mapping[str, Any]], at: str, c: Checks) -> None:
    """Each preset's figures computed from its own numbers and their verdicts, its win-rate intervals, SI §3.1's
    selection chain."""
    for i, block in enumerate(report):
        where = child(at, i)
        for j, f in enumerate(block["figures"]):
            kernel, _, metric = f["quantity"].rpartition(".")
            c.equal(child(where, "figures", j, "computed"), f["computed"],
                    block[kernel][metric] if kernel else block[metric], why=child(where, *f["quantity"].split(".")))
            c.equal(child(where, "figures", j, "reproduced"), f["reproduced"],
                    None if f["verdict"] == c.count_matched else f["verdict"] == c.reproduced, why="its verdict")
        for quantity, verdict in block["verdicts"].items():
            c.equal(child(where, "reproduced", quantity), block["reproduced"][quantity],
                    None if verdict == c.count_matched else verdict == c.reproduced,
                    why=child(where, "verdicts", quantity))
        for kernel, interval in block.get("win_rate_intervals", {}).items():
            c.equal(child(where, "win_rate_intervals", kernel, "value"), interval["value"], block[kernel]["win_rate"],
                    why=child(where, kernel, "win_rate"))
            c.equal(child(where, "win_rate_intervals", kernel, "n"), interval["n"], block["n_galaxies"],
                    why=child(where, "n_galaxies"))
        chain = block.get("si_sample_chain")
        if chain:
            c.equal(child(where, "si_sample_chain", "n_valid_v_bar"), chain["n_valid_v_bar"],
                    chain["n_galaxies"] - len(chain["invalid_v_bar"]), why="n_galaxies less those with invalid V_bar")
            c.equal(child(where, "si_sample_chain", "n_sample"), chain["n_sample"],
                    chain["n_valid_v_bar"] - len(chain["too_few_points"]), why="n_valid_v_bar less those too short")


def _regression(report: Sequence[Mapping[str, Any]], at: str, c: Checks) -> None:
    """Each bootstrapped uncertainty is about the value its entry states beside it (where it states one)."""
    for i, entry in enumerate(report):
        values = entry.get("values") or {}
        for quantity, u in (values.get("uncertainty") or {}).items():
            kernel, _, metric = quantity.rpartition(".")
            stated = (values.get(kernel) or {}).get(metric) if kernel else values.get(metric)
            if _number(stated):
                c.close(child(at, i, "values", "uncertainty", quantity, "value"), u["value"], stated,
                        why=child(at, i, "values", *quantity.split(".")))


def _ablation(report: Mapping[str, Any], at: str, c: Checks) -> None:
    """The fits of each run: each parameter's galaxies at a bound, counted (at every σ_int of a grid)."""
    if "by_sigma_int" in report:
        for i, block in enumerate(report["by_sigma_int"]):
            _ablation(block, child(at, "by_sigma_int", i), c)
        return
    for label, run in report["runs"].items():
        for name, model in run["models"].items():
            for p, info in (model.get("parameters") or {}).items():
                listed = info.get("galaxies_at_bound")
                if listed is None:
                    continue
                where = child(at, "runs", label, "models", name, "parameters", p)
                c.equal(child(where, "at_bound"), info["at_bound"], len(listed), why="the galaxies listed at a bound")
                c.equal(child(where, "at_lower"), info["at_lower"], sum(g["bound"] == "lower" for g in listed),
                        why="the galaxies listed at the lower bound")


def _sweep(report: Mapping[str, Any], at: str, c: Checks) -> None:
    """A grid posterior: its marginals normalised, each the sum of the two-dimensional ones, each axis's mean, sd,
    largest cell and end masses those of its marginal."""
    post = report.get("posterior")
    if not post:
        return
    where = child(at, "posterior")
    marginals = post["marginals"]
    one = {k: np.asarray(v, dtype=float) for k, v in marginals["one"].items()}
    for k, w in one.items():
        x = np.asarray(marginals["axes"][k], dtype=float)
        c.count(child(where, "marginals", "one", k), w, x.size)
        c.close(child(where, "marginals", "one", k), float(w.sum()), 1.0, why="a normalised marginal's sum")
        if w.size != x.size:
            continue
        p, stated = w / w.sum(), post["axes"][k]
        mean = float((p * x).sum())
        c.close(child(where, "axes", k, "mean"), stated["mean"], mean, *(p * x), why=f"the mean of marginals/one/{k}")
        c.close(child(where, "axes", k, "sd"), stated["sd"], float(np.sqrt((p * (x - mean) ** 2).sum())),
                why=f"the sd of marginals/one/{k}")
        c.close(child(where, "axes", k, "largest_cell_mass"), stated["largest_cell_mass"], float(p.max()),
                why=f"the largest of marginals/one/{k}")
        c.equal(child(where, "axes", k, "edge_mass"), stated["edge_mass"], [float(w[0]), float(w[-1])],
                why=f"the ends of marginals/one/{k}")
    for key, table in marginals["two"].items():
        t = np.asarray(table, dtype=float)
        for axis, name in enumerate(reversed(key.split("|"))):
            off = float(np.max(np.abs(t.sum(axis=axis) - one[name])))
            c.holds(child(where, "marginals", "two", key), off <= max(TOLERANCE * float(one[name].max()), FLOOR),
                    f"its sum along one axis is not marginals/one/{name} (off by up to {off:.3g})")


def _joint(report: Mapping[str, Any], at: str, c: Checks) -> None:
    """A joint posterior: its maximum the sum of the probes' ln L there, each tension's ln Z the probes' own."""
    best = report.get("max_loglike") or {}
    parts = [v for k, v in best.items() if k not in ("joint", "at")]
    if "joint" in best and parts:
        c.close(child(at, "max_loglike", "joint"), best["joint"], *_fsum(parts), why="the sum of the probes' ln L")
    for i, t in enumerate(report.get("tension") or []):
        for side in ("a", "b"):
            probe = report["posterior"].get(t[side])
            if probe is not None and "log_evidence" in probe:
                c.close(child(at, "tension", i, "ln_z", side), t["ln_z"][side], probe["log_evidence"],
                        why=child(at, "posterior", t[side], "log_evidence"))


def _population(report: Mapping[str, Any], at: str, c: Checks) -> None:
    """A population report: its questions and ranking from its models' ln Z, its counts, warnings and forest from its
    models, the earlier Gaussian keys copies of its universal and Gaussian models'; or a table of such rows."""
    if "rows" in report:
        _population_table(report, at, c)
        return
    models = report["models"]
    _questions(report["questions"], models, "log_evidence_error", [child(at, "questions", i) for i in
                                                                     range(len(report["questions"]))], c)
    c.equal(child(at, "ranking"), sorted(r["model"] for r in report["ranking"]), sorted(models),
            why="the models, each once")
    for i, r in enumerate(report["ranking"]):
        for key, source in (("log_evidence", "log_evidence"), ("error", "log_evidence_error")):
            c.equal(child(at, "ranking", i, key), r[key], models[r["model"]][source],
                    why=child(at, "models", r["model"], source))
    shared = len(report["others"]["shared"])
    for name, m in models.items():
        c.equal(child(at, "fitted", "hyper_parameters", name), report["fitted"]["hyper_parameters"][name],
                len(m["hyper"]) - shared, why="its hyper-parameters less the shared axes")
    c.equal(child(at, "warnings"), report["warnings"],
            list(report["notes"]) + [w for m in models.values() for w in m["warnings"]],
            why="the notes, then each model's warnings")
    forest = report["forest"]
    names = forest["names"]
    c.equal(child(at, "objects"), report["objects"], len(names), why="the forest's galaxies")
    for name, shrunk in forest["shrunk"].items():
        outliers = set(models[name]["outliers"])
        c.equal(child(at, "forest", "shrunk", name, "outlier"), shrunk["outlier"], [g in outliers for g in names],
                why=child(at, "models", name, "outliers"))
    copies = {"log_evidence_tau0": ("universal", "log_evidence"), "mu_universal": ("universal", "hyper", "mu"),
              "log_evidence_tau_pos": ("gaussian", "log_evidence"), "mu": ("gaussian", "hyper", "mu")}
    for key, path in copies.items():
        if key in report:
            source = models
            for step in path:
                source = source[step]
            c.equal(child(at, key), report[key], source, why=child(at, "models", *path))
    gaussian = next((i for i, q in enumerate(report["questions"]) if q["shape"] == "gaussian"), None)
    if gaussian is not None and "ln_bayes_factor" in report:
        q = report["questions"][gaussian]
        for key, source in (("ln_bayes_factor", "ln_b"), ("ln_bayes_factor_error", "error")):
            c.equal(child(at, key), report[key], q[source], why=child(at, "questions", gaussian, source))
        tau = models["gaussian"]["hyper"]["tau"]
        c.equal(child(at, "tau"), {k: v for k, v in report["tau"].items() if k in tau}, tau,
                why=child(at, "models", "gaussian", "hyper", "tau"))
    table = report.get("objects_table")
    if table:
        for key, path in (("own_mean", ("own", "mean")), ("own_sd", ("own", "sd")),
                          ("shrunk_mean", ("shrunk", "gaussian", "mean")), ("shrunk_sd", ("shrunk", "gaussian", "sd"))):
            source = forest
            for step in path:
                source = source[step]
            c.equal(child(at, "objects_table", key), table[key], source, why=child(at, "forest", *path))


def _questions(questions: Sequence[Mapping[str, Any]], models: Mapping[str, Any], error_key: str,
               where: Sequence[str], c: Checks) -> None:
    """ln B(universal : spread) of each question (at ``where``) from its two models' ln Z, its error the sum of theirs,
    its verdict from both."""
    for at, q in zip(where, questions):
        if q.get("ln_b") is None:
            continue
        u, s = models[q["universal"]], models[q["spread"]]
        c.close(child(at, "ln_b"), q["ln_b"], u["log_evidence"] - s["log_evidence"], u["log_evidence"],
                s["log_evidence"], why=f"ln Z({q['universal']}) − ln Z({q['spread']})")
        c.close(child(at, "error"), q["error"], u[error_key] + s[error_key], why="the sum of their errors")
        c.equal(child(at, "verdict"), q["verdict"], "undecided" if abs(q["ln_b"]) <= c.decided * q["error"]
                else "universal" if q["ln_b"] > 0 else "not universal", why=f"ln B against {c.decided:g} × its error")


def _population_table(report: Mapping[str, Any], at: str, c: Checks) -> None:
    """Rows of population reports: each row's question and best model from its models, each preferred error model's
    ranking the rows' ln Z."""
    rows = report["rows"]
    for i, row in enumerate(rows):
        _questions([row], row["models"], "error", [child(at, "rows", i)], c)
        c.equal(child(at, "rows", i, "best_model"), row["best_model"],
                max(row["models"], key=lambda m: row["models"][m]["log_evidence"]), why="the model of largest ln Z")
    by_label = {r["label"]: (i, r) for i, r in enumerate(rows)}
    for i, p in enumerate(report.get("preferred") or []):
        c.equal(child(at, "preferred", i, "preferred"), p["preferred"], p["ranking"][0]["label"],
                why=child(at, "preferred", i, "ranking", 0, "label"))
        for j, r in enumerate(p["ranking"]):
            k, row = by_label[r["label"]]
            for key, source in (("log_evidence", "log_evidence"), ("error", "error")):
                c.equal(child(at, "preferred", i, "ranking", j, key), r[key], row["models"][p["model"]][source],
                        why=child(at, "rows", k, "models", p["model"], source))


BY_SUBCOMMAND: dict[str, Callable[[Any, str, Checks], None]] = {
    "compare": _compare, "calibrate": _calibration, "sparc": _sparc, "regression": _regression,
    "ablation": _ablation, "sweep": _sweep, "joint": _joint, "population": _population,
}
"""The identities of each report kind, by the ``sigcube report`` subcommand that made it (``kernels`` and
``sensitivity`` reports hold only those of :data:`MAPPING_RULES`)."""


def problems(record: Mapping[str, Any]) -> list[str]:
    """Every identity ``record`` (a committed report record or a benchmark record) breaks."""
    c = Checks()
    _generic(record, "", c)
    if "report" in record:
        check = BY_SUBCOMMAND.get(record["commands"][-1][1])
        if check is not None:
            check(record["report"], "/report", c)
    return c.found
