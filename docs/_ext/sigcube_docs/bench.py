"""Markdown renderings of the committed benchmark records (``docs/performance/*.json``).

One section per record: what was run, on which machine, how busy it was, then the benchmark's own numbers. A record
whose benchmark has no renderer here is shown as its JSON.
"""

from __future__ import annotations

import json
import re
import statistics
from collections.abc import Callable, Mapping
from typing import Any

from sigcube_docs.markdown import code, fixed, number, percent, table, text

TITLES = {
    "vecmath": "SIMD loops against numpy (ns per value)",
    "kernel_throughput": "Every kernel, one core",
    "sweep_throughput": "Sweep throughput, SPARC, end to end",
    "survey": "Survey scale: synthetic samples of 10³–10⁵ galaxies",
    "nuisance": "Nuisance-marginalised sweep",
    "fits": "Per-galaxy fits",
    "startup": "Start-up: how long a command takes from a fresh process",
    "compare": "Model comparison on SPARC",
    "explore": "The explorer page of a SPARC nuisance sweep",
}
COMPARE_TITLES = {"pairs": "in process and on workers", "runs": "in process and on workers",
                  "table_wall_s": "the error-model table", "halo_family_wall_s": "the ΛCDM halo family"}
"""What a ``bench/compare.py`` record measured, by the key its result carries."""


def title(r: Mapping[str, Any]) -> str:
    """A record's section title: its benchmark's, and for ``compare`` what it measured."""
    name = TITLES.get(r["benchmark"], r["benchmark"])
    if r["benchmark"] == "compare":
        name += ": " + next(COMPARE_TITLES[k] for k in ("table_wall_s", "halo_family_wall_s", "pairs", "runs")
                            if k in r["result"])
    return name


def header(r: Mapping[str, Any]) -> str:
    m = r["machine"]
    simd = ", ".join(name for name, key in (("AVX2", "avx2"), ("AVX-512", "avx512f")) if m.get(key)) or "no AVX2"
    busy = ("**measured under load**: other processes shared the cores (1-minute load average "
            f"{r['load_average_before'][0]:g} before, {r['load_average_after'][0]:g} after, on {m['cores']} cores); "
            "rates per CPU-second are less affected than wall times" if r["under_load"] else
            f"quiet machine (1-minute load average {r['load_average_before'][0]:g} before, "
            f"{r['load_average_after'][0]:g} after, on {m['cores']} cores)")
    return (f"## {text(title(r))} ({r['date']})\n\n"
            f"{code(r['command'])} on {text(m['cpu'])}, {m['cores']} cores ({simd}), {m['memory_gb']:g} GB, "
            f"{text(m['system'])}, Python {m['python']}, numpy {m['numpy']}, sigcube {m['sigcube']} (commit "
            f"{code(r['commit'])}); {r['seconds']:.0f} s in all; {busy}. Data: {code('docs/performance/' + r['file'])}.\n\n")


def vecmath(res: Mapping[str, Any]) -> str:
    rows = [[code(row["function"]), fixed(row["loop_ns"], 2), fixed(row["numpy_ns"], 2), f"{row['speedup']:.1f}×"]
            for row in res["rows"]]
    return (f"{res['size']:,} values in cache per call, the best of {res['repeats']} calls.\n\n"
            + table(["function", "vecmath loop [ns]", "numpy [ns]", "speed-up"], rows, "lrrr"))


def kernel_throughput(res: Mapping[str, Any]) -> str:
    rows = [[code(row["kernel"]), text(row["role"]), code(row["parameter"]), text(row["path"]),
             number(row["evals_per_s"], 3), number(row["evals_per_wall_s"], 3), fixed(row["ratio_to_canonical"], 2)]
            for row in res["rows"]]
    below = ", ".join(code(b) for b in res["below_half"]) or "none"
    return (f"SPARC, {res['galaxies']} galaxies, {res['points']:,} points; {res['grid']:,} grid values per sweep, "
            f"the best of {res['repeats']} runs (round-robin over the kernels). The canonical kernel ({code('sigma')} "
            f"along {code('A0')}) ran at {number(res['canonical_evals_per_s'], 3)} point-evaluations per CPU-second; "
            f"rows below half of it: {below}.\n\n"
            + table(["kernel", "swept", "parameter", "path", "evaluations/s per CPU-second", "per wall second",
                     "× canonical"], rows, "lllrrrr"))


def sweep_throughput(res: Mapping[str, Any]) -> str:
    rows = [[f"{r['grid']:,}", number(r["evals_per_s"], 3), fixed(r["seconds"], 2), fixed(r["peak_rss_mb"], 0)]
            for r in res["runs"]]
    return (table(["grid points", "point-evaluations/s/core", "seconds", "peak RSS [MB]"], rows, "rrrr")
            + f"\nLargest grid: {number(res['evals_per_s_per_core'], 3)} evaluations/s per core, "
            f"{res['speedup_vs_loop']:.0f}× the loop baseline ({number(res['loop_evals_per_s'], 3)}/s, Python loops "
            f"over grid points and galaxies as the published scripts do); 1 → 2 LocalCluster workers "
            f"{res['speedup_2_workers']:.2f}×; peak RSS grows {res['rss_growth_1e4_to_max']:.2f}× from 10⁴ to the "
            f"largest grid.\n")


def points(run: Mapping[str, Any]) -> int:
    """A survey run's sample points (its evaluations over its grid)."""
    return int(run.get("points") or run["evaluations"] // run["grid"])


def survey(res: Mapping[str, Any]) -> str:
    s = res["sparc"]
    rows = [[f"SPARC, {s['grid']:,}-point grid (reference)", f"{points(s):,}", s.get("tasks", "—"), fixed(s["seconds"], 1),
             number(s["evals_per_s"], 3), "1", fixed(s["driver_peak_rss_mb"], 0), fixed(s["worker_peak_rss_mb"], 0)]]
    rows += [[f"synth {r['galaxies']:,}, {r['grid']:,}-point grid", f"{points(r):,}", r.get("tasks", "—"),
              fixed(r["seconds"], 1), number(r["evals_per_s"], 3), fixed(r["throughput_vs_sparc"], 2),
              fixed(r["driver_peak_rss_mb"], 0), fixed(r["worker_peak_rss_mb"], 0)] for r in res["runs"]]
    two = res["two_workers"]
    runs = "One run" if res["repeats"] == 1 else f"The best of {res['repeats']} runs (round-robin)"
    return (f"{runs} per sample, one worker process, end to end (chunk reads, reductions, exact partials, Zarr "
            "writes, finalisation).\n\n"
            + table(["sample", "points", "tasks", "wall [s]", "evaluations/s", "vs SPARC", "driver peak RSS [MB]",
                     "worker peak RSS [MB]"], rows, "lrrrrrrr")
            + f"\n1 → 2 workers on {two['galaxies']:,} galaxies: {res['speedup_2_workers']:.2f}×. Peak RSS, largest "
            f"over smallest sample: driver {res['driver_rss_ratio_max_to_min']:.2f}×, worker "
            f"{res['worker_rss_ratio_max_to_min']:.2f}×.\n" + _survey_floor(res))


def _survey_floor(res: Mapping[str, Any]) -> str:
    """The driver's floor a survey record measured (records before 2026-11-28 have none), and its notes."""
    floor = res.get("floor")
    line = (f"\nThe driver's floor: {fixed(floor['imports_rss_mb'], 0)} MB for its modules alone, "
            f"{fixed(floor['driver_peak_rss_mb'], 0)} MB for a sweep of {floor['galaxies']:,} galaxies.\n" if floor else "")
    return line + "".join(f"\n{text(note)}\n" for note in res.get("notes", ()))


def nuisance(res: Mapping[str, Any]) -> str:
    rows = [["plain sweep", "—", number(res["plain_point_evals_per_s_per_core"], 3), "1"],
            [f"marginalised ({text(res['solver'])})", res["nodes"], number(res["node_point_evals_per_s_per_core"], 3),
             fixed(res["node_ratio"], 2)],
            ["marginalised, counted as kernel calls", res["nodes"], number(res["kernel_point_evals_per_s_per_core"], 3),
             fixed(res["kernel_ratio"], 2)]]
    memory = ", ".join(f"{n} nodes {float(v):.1f}" for n, v in res["peak_traced_MiB_by_nodes_32_grid_points"].items())
    return (f"{res['sample']['galaxies']} galaxies, {res['sample']['points']:,} points, {res['grid_points']} grid "
            "points, one thread.\n\n" + table(["", "nodes", "point-evaluations/s/core", "× plain"], rows, "lrrr")
            + f"\n{fixed(1e3 * res['marginalised_s_per_grid_point_per_core'], 2)} ms per grid point per core; a 10⁴-point "
            f"grid on 2 cores extrapolates to {fixed(res['extrapolated_1e4_grid_2_cores_s'], 0)} s. Peak traced memory "
            f"of a 32-point batch [MiB]: {memory}.\n")


def fits(res: Mapping[str, Any]) -> str:
    rows = [[code(r["kernel"]), text(r["nuisance"]), r["galaxies"], fixed(r["seconds"], 2), fixed(r["galaxies_per_s"], 0),
             fixed(r["evaluations_per_galaxy"], 1), percent(r["converged"], 0)] for r in res["rows"]]
    return table(["kernel", "nuisance", "galaxies", "seconds", "galaxies/s", "residual evaluations per galaxy",
                  "converged"], rows, "llrrrrr")


def startup(res: Mapping[str, Any]) -> str:
    rows = [[code(re.sub(r"\S*/", "", r["command"])), fixed(r["cold_s"], 2), f"{fixed(r['cold_range_s'][0], 2)} – {fixed(r['cold_range_s'][1], 2)}",
             fixed(r["warm_s"], 2), f"{fixed(r['warm_range_s'][0], 2)} – {fixed(r['warm_range_s'][1], 2)}"]
            for r in res["rows"]]
    return (f"Each command is a new process, timed end to end; the median of {res['repeats']} runs with numba's cache "
            "emptied before each cold run (a new, empty NUMBA_CACHE_DIR) and filled by it for the warm run. The sweeps "
            "are small (their specs written to a temporary folder): they measure start-up and compilation.\n\n"
            + table(["command", "cold [s]", "cold range", "warm [s]", "warm range"], rows, "lrrrr"))


def _within(res: Mapping[str, Any]) -> str:
    """Whether a run kept to its time limit, in words (records before the limit was named held 30 minutes)."""
    limit = res.get("limit_s", 1800)
    return f"within {limit // 60} minutes: {'yes' if res.get('within_limit', res.get('within_30_min')) else 'no'}"


def _model_rows(models: Mapping[str, Any]) -> list[list[Any]]:
    """Per model of a run: its engine, seconds, ln Z, ln B vs MOND ± its error and its integrals' convergence."""
    return [[code(m), text(v.get("engine", "grid")), fixed(v["seconds"], 0), fixed(v["log_evidence"], 2),
             f"{fixed(v['ln_B_vs_mond'], 2)} ± {fixed(v['ln_B_error'], 2)}", text(v.get("converged", "–"))]
            for m, v in models.items()]


MODEL_COLUMNS = ["model", "engine", "seconds", "ln Z", "ln B vs MOND", "converged"]


def compare(res: Mapping[str, Any]) -> str:
    """``bench/compare.py``: the speed-up pairs, the error-model table's runs, or the halo family's."""
    if "table_wall_s" in res:
        run = res["runs"]["the table"]
        models = text(" ".join(res.get("models", "sigma,mond").split(",")))
        where = (f" on {res['galaxies']} galaxies of a user's rotmod files and Table 1" if res.get("galaxies")
                 else "")
        parts = [f"`report compare {models} --error-model all`{where}: {fixed(run['wall_s'], 0)} s wall, "
                 f"{fixed(run['cpu_s'], 0)} s CPU (of it and its workers); {_within(res)}. Each error model's "
                 "marginalised runs (the rest of the wall: the catalogue-value runs, the checks, start-up):\n\n"]
        rows = [[code(e), *row] for e, ms in run["error_models"].items() for row in _model_rows(ms)]
        return parts[0] + table(["error model", *MODEL_COLUMNS], rows, "lllrrrr")
    if "halo_family_wall_s" in res:
        run = res["runs"]["the family"]
        return (f"The family as one command (Σ, MOND and {', '.join(code(h) for h in res['halos'])}; σ_int "
                f"{text(res['sigma_int'])}" + (f", τ_gal {text(res['tau_gal'])}" if res.get("tau_gal") else "")
                + f"): {fixed(run['wall_s'], 0)} s wall, {fixed(run['cpu_s'], 0)} s CPU; {_within(res)}.\n\n"
                + table(MODEL_COLUMNS, _model_rows(run["models"]), "llrrrr"))
    pairs = res.get("pairs") or [res["runs"]]
    rows = []
    names = list(pairs[0][next(iter(pairs[0]))]["models"])
    for k, pair in enumerate(pairs, 1):
        (here, a), (there, b) = pair.items()
        rows.append([k, fixed(a["wall_s"], 0), fixed(a["cpu_s"], 0), fixed(b["wall_s"], 0), fixed(b["cpu_s"], 0),
                     f"{a['wall_s'] / b['wall_s']:.2f}×",
                     *(f"{a['models'][n]['seconds'] / b['models'][n]['seconds']:.2f}×" for n in names),
                     *(fixed(v["log_evidence"], 2) for v in a["models"].values())])
    models = text(" ".join(res.get("models", "sigma,mond").split(",")))
    options = (f"--sigma-int {text(res['sigma_int'])}" + (f" --tau-gal {text(res['tau_gal'])}" if res.get("tau_gal")
                                                          else "")
               + (f" --engine {text(res['engine'])}" if res.get("engine", "auto") != "auto" else ""))
    engines = {n: pairs[0][here]["models"][n].get("engine", "grid") for n in names}
    own = "; ".join(f"{code(n)} ({engines[n]}) {statistics.median(_own(p, n) for p in pairs):.2f}×" for n in names)
    return (f"`report compare {models} {options}` {text(here)} and on {text(there)}, in turn: speed-up of the wall "
            f"time {res['speedup']:.2f}× (median of the pairs); of each model's own marginalised run (its engine, "
            f"apart from start-up, the catalogue-value run and the checks), median of the pairs: {own}; every run "
            f"printed the same numbers: {'yes' if res['identical'] else 'no'}.\n\n"
            + table(["pair", f"{here} wall [s]", "CPU [s]", f"{there} wall [s]", "CPU [s]", "speed-up",
                     *(f"{n}'s run" for n in names), *(f"ln Z {n}" for n in names)], rows,
                    "r" * (6 + 2 * len(names))))


def _own(pair: Mapping[str, Any], name: str) -> float:
    """A model's own marginalised run, in process over on workers, in one pair of a scaling record."""
    a, b = pair.values()
    return a["models"][name]["seconds"] / b["models"][name]["seconds"]


def explore(res: Mapping[str, Any]) -> str:
    """``bench/explore.py``: ``sigcube explore``'s wall and CPU seconds and the page's size."""
    grid = " × ".join(f"{text(axis)} {n}" for axis, n in res["grid"].items())
    return (f"`sigcube explore` of {code(res['sweep'])} ({grid}, {res['galaxies']} galaxies), a new process each "
            f"run, the median of {res['repeats']}: {fixed(res['wall_s'], 1)} s wall (range "
            f"{fixed(res['wall_range_s'][0], 1)} – {fixed(res['wall_range_s'][1], 1)}), {fixed(res['cpu_s'], 1)} s CPU "
            f"(range {fixed(res['cpu_range_s'][0], 1)} – {fixed(res['cpu_range_s'][1], 1)}); the page "
            f"{res['page_bytes'] / 1e6:.2f} MB." + (f" Note: {text(res['note'])}." if res.get("note") else "") + "\n")


RENDERERS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "startup": startup, "compare": compare, "explore": explore,
    "vecmath": vecmath, "kernel_throughput": kernel_throughput, "sweep_throughput": sweep_throughput,
    "survey": survey, "nuisance": nuisance, "fits": fits,
}


def render(record: Mapping[str, Any]) -> str:
    body = RENDERERS.get(record["benchmark"])
    shown = body(record["result"]) if body else f"```json\n{json.dumps(record['result'], indent=1)}\n```\n"
    return header(record) + shown + "\n"
