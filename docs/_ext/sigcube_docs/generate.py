"""The generated parts of the site, written as Markdown into ``docs/_generated/`` when a build starts.

Pages include them (``{include}``); nothing in ``_generated`` is committed. Each function returns the Markdown of one
generated file; :func:`write_all` writes every file whose text changed (so an unchanged build re-reads nothing).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

from sigcube_docs import records, reports, sources
from sigcube_docs.markdown import code, fixed, number, table, text

DOCS = records.DOCS
OUT = DOCS / "_generated"
REPO = records.REPO


# --- CLI reference -------------------------------------------------------------------------------------------------


def cli() -> str:
    """The CLI reference, written by typer's own documentation generator from the ``sigcube`` app (the same command
    objects ``sigcube --help`` prints), one section per command."""
    module, attr = sources.cli_entry_point()
    argv = [sys.executable, "-m", "typer", "--app", attr, module, "utils", "docs", "--name", sources.CLI_SCRIPT]
    done = subprocess.run(argv, capture_output=True, text=True, cwd=REPO)
    if done.returncode:
        raise RuntimeError(f"{' '.join(argv)} failed: {done.stderr.strip()[-1000:]}")
    lines = done.stdout.splitlines()
    out = lines[1:] if lines and lines[0].startswith("# ") else lines  # the page has its own title
    return "\n".join(out).rstrip() + "\n"


# --- spec reference ------------------------------------------------------------------------------------------------


def spec() -> str:
    return (f"<!-- generated from the pydantic schema ({sources.spec_schema_command()} prints the same table) -->\n\n"
            + sources.spec_reference())


# --- published figures ---------------------------------------------------------------------------------------------


def published() -> str:
    """Every published figure: its key, the value as printed (in plain text, TeX's powers as ×10⁻⁹; with its origin
    when that is not a seed), what it is, and where: the seed by its short name (the legend above the table names its
    file) and the section."""
    registry = sources.published_figures()

    def where(f: Any) -> str:
        short = registry["seed_names"][f.seed] if f.seed else ""
        section = f.section or "—"
        return text(section if not short or section.startswith(short) else f"{short}, {section}")

    rows = [[code(f.key), text(registry["shown"](f) + ("" if f.unit in ("", "%") else " " + f.unit)
                               + ("" if f.origin == "published" else f" ({f.origin})")), text(f.what), where(f)]
            for f in registry["figures"].values()]
    return (f"Seed files: {reports.seed_legend()}.\n\n"
            + table(["key", "as printed", "what", "where"], rows, "llll"))


# --- kernels, metrics, bounds, datasets, shipped specs -----------------------------------------------------------


def _default(p: dict[str, Any]) -> str:
    value = p["default"]
    return code(value) if isinstance(value, str) else number(value, 5)


def _range(p: dict[str, Any]) -> str:
    if p["choices"] is not None:
        return " · ".join(code(c) for c in p["choices"])
    if not p["bounds"]:
        return "—"
    lo, hi = p["bounds"]
    return f"[{number(lo, 3)}, {number(hi, 3)}]"


def kernels_table() -> str:
    rows = [[f"[{code(k['name'])}](#kernel-{k['name'].replace('_', '-')})", text(k["summary"]), text(k["source"]),
             text(", ".join(p["name"] for p in k["parameters"])) or "—"] for k in sources.kernels()]
    return table(["kernel", "summary", "source", "parameters"], rows, "llll")


def kernels_detail() -> str:
    out = []
    for k in sources.kernels():
        out.append(f"({'kernel-' + k['name'].replace('_', '-')})=\n### {code(k['name'])}\n\n{text(k['summary'])}\n\n")
        out.append(f"- source: {text(k['source'])}\n- formula: {text(k['formula'])}\n"
                   f"- point inputs: {', '.join(code(i) for i in k['inputs']) or '—'}\n")
        for switch, by_value in k["switch_inputs"].items():
            out.append(f"- inputs read by {code(switch)}: "
                       + "; ".join(f"{code(v)}: {', '.join(code(n) for n in names)}" for v, names in by_value.items())
                       + "\n")
        if k["amplitude"]:
            out.append(f"- amplitude (V is non-decreasing in it): {code(k['amplitude'])}\n")
        for reading in k["readings"]:
            out.append(f"- reading: {text(reading)}\n")
        if k["parameters"]:
            rows = [[code(p["name"]), _default(p), text(p["unit"]) or "—", _range(p), text(p["description"])]
                    for p in k["parameters"]]
            out.append("\n" + table(["parameter", "default", "unit", "bounds / choices", "meaning"], rows, "lrlll"))
        out.append("\n")
    return "".join(out)


def metrics_table() -> str:
    rows = [[code(m.name), text(m.scope), text(m.units) or "—", text(m.direction),
             f"{text(m.long_name)}: {text(m.definition)}"] for m in sources.metrics()]
    return table(["key", "scope", "units", "better", "long name: definition"], rows, "lllll")


def bounds_table() -> str:
    rows = [[code(b.name), text(b.text), text(b.why)] for b in sources.bounds()]
    return table(["column", "allowed", "why"], rows, "lll")


def datasets_table() -> str:
    rows = []
    for kind in sources.dataset_kinds():
        schema = kind.schema
        sweepable = "yes" if kind.packer is not None else "no"
        source = "—"
        if kind.manifest:
            m = sources.manifest(kind.manifest)
            cites = sorted({f.get("citation") for f in m.get("files", {}).values() if f.get("citation")} |
                           ({m["citation"]} if m.get("citation") else set()))
            source = text("; ".join(cites))
        rows.append([code(kind.name), text(kind.description), " × ".join(code(d) for d in schema.dims),
                     code(kind.objects), sweepable, source])
    return table(["kind", "what", "dimensions", "objects", "sweepable", "sources"], rows, "llllll")


def schema_tables() -> str:
    out = []
    for kind in sources.dataset_kinds():
        out.append(f"#### {code(kind.name)}\n\n")
        rows = [[code(name), " × ".join(code(d) for d in spec.dims), text(spec.units) or "—", text(spec.long_name)]
                for name, spec in kind.schema.variables.items()]
        out.append(table(["variable", "dims", "units", "long name"], rows, "llll") + "\n")
    return "".join(out)


def manifests_table() -> str:
    rows = []
    for name in sources.public_kinds():
        m = sources.manifest(name)
        files = m.get("files", {})
        rows.append([code(name), text(m.get("title", "")), len(files),
                     text(m.get("licence") or "; ".join(sorted({f.get("licence", "") for f in files.values()} - {""}))),
                     code(f"ingest/{name}.toml")])
    return table(["kind", "dataset", "files", "licence", "manifest"], rows, "llrll")


def shipped_specs() -> str:
    """The spec files of ``sweeps/`` (named within it, as the page introduces them): kernel and preset, grid and its
    points, what each is; the joint sweep specs and the fit specs of ``sweeps/fits/``."""
    rows, joint_rows = [], []
    for path in sorted((REPO / "sweeps").glob("*.toml")):
        joint = sources.load_joint_spec(path)
        if joint is not None:
            grid = " × ".join(f"{text(a.name)} ({len(a.values)})" for a in joint.axes)
            joint_rows.append([code(path.name), f"{code(joint.kernel.name)}: {grid}",
                               text(", ".join(p.label if p.label == p.sweep.dataset else f"{p.label} ({p.sweep.dataset})"
                                              for p in joint.probes)), text(joint.description) or "—"])
            continue
        s = sources.load_spec(path)
        grid = " × ".join(f"{text(a.name)} ({len(a.values)})" for a in s.axes)
        rows.append([code(path.name), code(s.kernel.name) + (f" ({text(s.preset)})" if s.preset else ""),
                     f"{grid} = {s.size:,}" if len(s.axes) > 1 else grid, text(s.description) or "—"])
    out = table(["spec", "kernel (preset)", "grid (values) = points", "description"], rows, "llll")
    out += "\nJoint sweep specs (`[[datasets]]`: several dataset cubes on one shared grid):\n\n" + table(
        ["spec", "kernel: shared grid", "datasets", "description"], joint_rows, "llll")
    rows = []
    for path in sorted((REPO / "sweeps" / "fits").glob("*.toml")):
        f = sources.load_fit_spec(path)
        free = ", ".join(f"{text(p.name)} ∈ [{number(p.lower, 3)}, {number(p.upper, 3)}]"
                         + (" (log)" if p.scale == "log" else "") for p in f.free)
        rows.append([code(f"fits/{path.name}"), code(f.kernel.name), free, text(f.nuisance)])
    return out + "\nFit specs:\n\n" + table(["spec", "kernel", "free per object", "nuisance"], rows, "llll")


def presets_table() -> str:
    rows = [[code(name), text(p.what), text(p.description)] for name, p in sources.presets().items()]
    return table(["preset", "convention", "in full"], rows, "lll")


def demo_excerpt() -> str:
    """``sigcube report sparc --preset all`` as the terminal prints it, from the committed report."""
    import io

    from rich.console import Console

    record = records.load("sparc")
    if record is None:
        return "(docs/results/sparc.json is not committed yet)\n"
    console = Console(record=True, width=120, file=io.StringIO(), color_system=None, force_terminal=False)
    sources.report_renderers()["sparc"](record["report"], console)
    lines = [line.rstrip() for line in console.export_text().splitlines()]
    return ("~~~~text\n" + "\n".join(lines).strip("\n") + "\n~~~~\n\n"
            f"(Printed by {code('sigcube report sparc --preset all')} on {record['generated']}, sigcube "
            f"{record['sigcube_version']}; this page shows the committed {code('docs/results/sparc.json')}.)\n")


# --- performance ---------------------------------------------------------------------------------------------------


def performance() -> str:
    from sigcube_docs import bench

    recs = records.bench_records()
    if not recs:
        return "No benchmark results are committed yet (`docs/performance/*.json`).\n"
    order = {name: i for i, name in enumerate(bench.TITLES)}  # the page's order; newest first within a benchmark
    recs.sort(key=lambda r: (order.get(r["benchmark"], len(order)), r["benchmark"], [-ord(c) for c in r["date"]]))
    return "".join(bench.render(r) for r in recs)


def _duration(seconds: float) -> str:
    if seconds < 1:
        return "< 1 s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def cost_model() -> str:
    """The cluster cost model from the newest committed benchmark records (survey scale, else the per-kernel rate)."""
    recs = records.bench_records()
    survey = [r for r in recs if r["benchmark"] == "survey"]
    kernel = [r for r in recs if r["benchmark"] == "kernel_throughput"]
    sparc_points, sparc_galaxies = 3373, 171
    if survey:
        rec = max(survey, key=lambda r: r["date"])
        res = rec["result"]
        largest = max(res["runs"], key=lambda r: r["galaxies"])
        r_sparc, r_survey = res["sparc"]["evals_per_s"], largest["evals_per_s"]
        from sigcube_docs.bench import points

        per_galaxy = points(largest) / largest["galaxies"]
        source = (f"R from {code('bench/survey.py')} ({code(rec['file'])}, {rec['date']}): {number(r_sparc, 2)} "
                  f"evaluations/s for SPARC, {number(r_survey, 2)} for {largest['galaxies']:,} synthetic galaxies (end "
                  "to end, one worker)")
    elif kernel:
        rec = max(kernel, key=lambda r: r["date"])
        r_sparc = r_survey = rec["result"]["canonical_evals_per_s"]
        per_galaxy = sparc_points / sparc_galaxies
        source = (f"R from {code('bench/kernel_throughput.py')} ({code(rec['file'])}, {rec['date']}"
                  f"{', under load' if rec['under_load'] else ''}): the canonical kernel's "
                  f"{number(r_sparc, 2)} evaluations per CPU-second — the kernel and its reductions only, without "
                  f"reads and writes, so an upper bound on R (commit a {code('bench/survey.py')} record for the end-to-end "
                  "rate)")
    else:
        return "No benchmark record is committed yet (`docs/performance/*.json`): no cost model.\n"
    if rec["under_load"]:
        source += (f" — measured under load (1-minute load average {rec['load_average_before'][0]:g} → "
                   f"{rec['load_average_after'][0]:g} on {rec['machine']['cores']} cores), so the times below are "
                   "pessimistic for a quiet core")
    cases = [("10⁶ × SPARC (171)", 1e6, sparc_points, r_sparc), ("10³ × 10⁵ galaxies", 1e3, 1e5 * per_galaxy, r_survey),
             ("10⁴ × 2·10⁵ galaxies (WALLABY-like)", 1e4, 2e5 * per_galaxy, r_survey),
             ("10⁶ × 2·10⁵ galaxies", 1e6, 2e5 * per_galaxy, r_survey)]
    rows = [[label, number(grid * points, 2), number(rate, 2), *(_duration(grid * points / (rate * cores))
                                                                  for cores in (1, 64, 512))]
            for label, grid, points, rate in cases]
    out = (f"{source}; sample points ≈ {per_galaxy:.1f} per SPARC-like galaxy.\n\n"
           + table(["grid × sample", "evaluations", "R used", "1 core", "64 cores", "512 cores"], rows, "lrrrrr"))
    nuisance = [r for r in recs if r["benchmark"] == "nuisance"]
    if nuisance:
        rec = max(nuisance, key=lambda r: r["date"])
        res = rec["result"]
        per_pair = res["marginalised_s_per_grid_point_per_core"] / res["sample"]["galaxies"]
        core_hours = 1e4 * 2e5 * per_pair / 3600
        out += (f"\nA nuisance-marginalised sweep ({code(rec['file'])}: Υ, D, i per galaxy, {res['nodes']} nodes) costs "
                f"{fixed(1e3 * res['marginalised_s_per_grid_point_per_core'], 1)} ms per grid point per core for the "
                f"{res['sample']['galaxies']} SPARC galaxies, i.e. {fixed(1e6 * per_pair, 0)} µs per grid point and "
                f"galaxy: 10⁴ grid points × 2·10⁵ galaxies ≈ {fixed(core_hours, 1)} core-hours "
                f"(≈ {_duration(core_hours * 3600 / 512)} on 512 cores).\n")
    storage = 1e6 * 2e5 * 12
    out += (f"\nStorage: a 10⁶-point grid × 2·10⁵ galaxies stores {storage / 1e12:.1f} TB of per-object "
            "`rms` and `chi2`.\n")
    return out


GENERATED: dict[str, Callable[[], str]] = {
    "cli.md": cli,
    "spec.md": spec,
    "published.md": published,
    "kernels-table.md": kernels_table,
    "kernels-detail.md": kernels_detail,
    "metrics.md": metrics_table,
    "bounds.md": bounds_table,
    "datasets.md": datasets_table,
    "schemas.md": schema_tables,
    "manifests.md": manifests_table,
    "specs.md": shipped_specs,
    "presets.md": presets_table,
    "demo-excerpt.md": demo_excerpt,
    "performance.md": performance,
    "cost-model.md": cost_model,
}
"""Every generated file of ``docs/_generated/`` and what writes it (results pages are added per committed report)."""


def jobs() -> dict[str, Callable[[], str]]:
    """Every generated Markdown file of ``docs/_generated/`` (not the figures) and what writes it: :data:`GENERATED`,
    a results page per committed report and the pages that set reports side by side, each reading the records in
    the code's words of today (:func:`sigcube_docs.reports.current`)."""
    def load(name: str) -> dict[str, Any] | None:
        record = records.load(name)
        return None if record is None else reports.current(record)

    jobs = dict(GENERATED)
    for name in records.RESULTS:
        record = load(name)
        jobs[f"results/{name}.md"] = (lambda r=record: reports.render(r)) if record else (
            lambda n=name: f"The report `{n}` is not committed yet (`docs/results/{n}.json`).\n")
    jobs["results/clash-rows.md"] = lambda: reports.clash_rows(load("regression"))
    jobs["results/floor-comparison.md"] = lambda: reports.floor_comparison(load("sweep-nuisance"),
                                                                           load("sweep-nuisance-floor-5"))
    table = load("compare-sigma-mond-error-models")
    jobs["results/scatter-literature.md"] = lambda: reports.scatter_literature(load("sweep-mond-sigma-int"),
                                                                               load("sweep-sigma-sigma-int"), table)
    jobs["results/posterior-by-error-model.md"] = lambda: (
        reports.posterior_by_error_model(table) if table else
        "The report `compare-sigma-mond-error-models` is not committed yet.\n")
    jobs["results/compare-verdict-change.md"] = lambda: reports.verdict_change(
        load("compare-sigma-mond-nfw"), load("compare-sigma-mond-sigma-int"))
    jobs["results/ablation-verdict-change.md"] = lambda: reports.verdict_change(
        load("compare-sigma_xi-nfw"), load("compare-sigma_xi-nfw-sigma-int"))
    names = [n for n in records.RESULTS if n.startswith("population-")]
    jobs["results/population-summary.md"] = lambda: reports.population_summary({n: load(n) for n in names})
    return jobs


def write_all() -> list[str]:
    """Write every generated file whose text changed (:func:`jobs`), and draw every figure whose inputs changed
    (:mod:`sigcube_docs.figures`); the names written."""
    from sigcube_docs import figures

    OUT.mkdir(exist_ok=True)
    written = []
    for name, make in jobs().items():
        path = OUT / name
        path.parent.mkdir(parents=True, exist_ok=True)
        body = make()
        if not path.is_file() or path.read_text(encoding="utf-8") != body:
            path.write_text(body, encoding="utf-8")
            written.append(name)
    return written + [f"figures/{name}.png" for name in figures.write_all()]
