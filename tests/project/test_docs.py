"""The documentation site (``docs/``): it builds offline without a warning, its examples run as written, its command
lines and module paths are real, and every number on its results pages comes from a committed report that is
remade here and compared.

- Default tier: the pages' Python examples, the plugin example (built and installed with pip), the example spec,
  every ``sigcube …`` command line against the CLI, every ``sigcube.…`` module path the pages name, the generated
  references, the committed records (their shape), no result number typed by hand on the results pages, and every
  number a page states with a marker equal to its committed report's (``sigcube_docs.numbers``).
- Slow tier (``-m slow``): the whole build, exactly as ``make docs`` runs it (warnings are errors) and offline, no
  Markdown markup shown as text on any page, its figures on every study page (alt text, not blank) and in the
  gallery, every study page opened in headless Chromium (images drawn, tables that fit or scroll), and every
  committed report in ``docs/results/`` remade by its command and compared with the committed one.
- Default tier, figures: every study page includes a figure the build draws, and no committed image is left that the
  build does not make.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

import sigcube
from sigcube.engines.sweep import load_spec, open_result, parse_spec, run_sweep

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md") if not p.relative_to(DOCS).parts[0].startswith("_"))
"""Every hand-written page (not the generated parts, not the build)."""
RESULTS_PAGES = sorted(p for p in (DOCS / "study").glob("*.md") if p.name != "lcdm-literature.md") + [
    DOCS / "performance.md"]
"""The pages of sigcube's results (lcdm-literature.md quotes the literature's numbers, labelled as such)."""


def _sibling(name: str):
    """A sibling test module's helpers (tests/project is not a package: loaded by path)."""
    spec = importlib.util.spec_from_file_location(f"_docs_{name}", Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


README = _sibling("test_readme")


def _ext():
    """The docs' own extension package (docs/_ext/sigcube_docs)."""
    if str(DOCS / "_ext") not in sys.path:
        sys.path.insert(0, str(DOCS / "_ext"))
    return importlib.import_module("sigcube_docs.records"), importlib.import_module("sigcube_docs.generate")


def _text(page: Path) -> str:
    return page.read_text(encoding="utf-8")


# --- pages, examples, command lines ------------------------------------------------------------------------------


def test_the_site_has_its_pages():
    names = {str(p.relative_to(DOCS)) for p in PAGES}
    assert {"index.md", "getting-started.md", "api.md", "cli.md", "spec.md", "changelog.md", "performance.md",
            "gallery.md", "guide/datasets.md", "guide/kernels.md", "guide/sweeps.md", "guide/stores.md",
            "guide/clusters.md", "guide/fits.md", "guide/exploring.md", "study/sparc.md", "study/regression.md",
            "study/ablation.md", "study/comparison.md", "study/sensitivity.md", "study/posterior.md"} <= names


def test_the_public_api_is_documented():
    api = _text(DOCS / "api.md")
    for name in ("open_cube", "open_result", "predict", "score", "kernel", "Parameter", "get_kernel", "kernel_names"):
        assert f"sigcube.{name}\n" in api, name


def test_the_changelog_starts_with_what_is_unreleased():
    log = _text(DOCS / "changelog.md")
    unreleased = log.split("## Unreleased", 1)[1].split("\n## ", 1)[0]
    assert log.index("## Unreleased") < log.index("\n## ", log.index("## Unreleased") + 1)
    for item in ("Chunk manifests", "Input bounds at ingest", "--replace-kind", "The layered package"):
        assert item in unreleased, item


def _module_paths(text: str) -> set[str]:
    return set(re.findall(r"(?<![\w./-])(sigcube(?:\.[A-Za-z_]\w*)+)", text))


def test_every_module_path_the_pages_name_exists():
    """Every ``sigcube.x.y`` a page names is a module or an attribute of one (after a re-organisation this test
    lists what to update: docs/api.md first, then the pages it names). The changelog is history: it may name what
    no longer exists, or what another branch brings."""
    missing = []
    for page in (p for p in PAGES if p.name != "changelog.md"):
        for path in sorted(_module_paths(_text(page))):
            if path in ("sigcube.kernels", "sigcube.manifests"):
                continue  # also the entry-point group and the installed manifests package
            module, attribute = path, None
            while True:
                try:
                    obj = importlib.import_module(module)
                    break
                except ModuleNotFoundError:
                    module, _, last = module.rpartition(".")
                    attribute = last if attribute is None else f"{last}.{attribute}"
                    if module == "sigcube":
                        obj = sigcube
                        break
            for part in (attribute or "").split(".") if attribute else ():
                if not hasattr(obj, part):
                    missing.append(f"{page.relative_to(DOCS)}: {path}")
                    break
                obj = getattr(obj, part)
    assert not missing, "\n".join(missing)


def test_every_file_path_the_pages_name_exists():
    """Every repository file a page names (``tests/…/test_x.py``, ``sigcube/…py``, ``bench/…py``, ``sweeps/…toml``)
    exists: after a move this lists the pages to update (the changelog is history and may name old paths)."""
    pattern = re.compile(r"\b((?:tests|sigcube|bench|sweeps)/[\w/.-]*\.(?:py|toml))\b")
    missing = [f"{page.relative_to(DOCS)}: {path}" for page in PAGES if page.name != "changelog.md"
               for path in sorted(set(pattern.findall(_text(page)))) if not (ROOT / path).exists()]
    assert not missing, "\n".join(missing)


def test_the_docs_build_reads_sigcube_in_one_place():
    """The docs' code imports sigcube's modules only in docs/_ext/sigcube_docs/sources.py (and the public API)."""
    offenders = []
    for path in (DOCS / "_ext").rglob("*.py"):
        if path.name == "sources.py":
            continue
        for line in _text(path).splitlines():
            if re.match(r"\s*(from|import) sigcube\.", line):
                offenders.append(f"{path.relative_to(DOCS)}: {line.strip()}")
    assert not offenders, offenders


def test_every_command_line_names_real_commands_and_options():
    lines = [line for page in [*PAGES, *(DOCS / "clusters").glob("*.md")] for line in README.command_lines(_text(page))]
    assert len(lines) >= 25
    seen = set().union(*(README.check_command_line(line) for line in lines))
    assert {"sparc", "table", "kernels", "sweep", "explore", "regression", "info", "fit", "synth"} <= seen


def _numbers():
    _ext()
    return importlib.import_module("sigcube_docs.numbers")


def test_no_result_number_is_typed_into_a_results_page():
    """The results pages' own text quotes no measured number by hand: every value they show is included from the
    generated part or carries a marker naming the committed report it comes from (section numbers, seed files and
    grid settings are not results)."""
    typed = []
    for page in RESULTS_PAGES:
        text = re.sub(r"`[^`]*`", "", _numbers().unmarked(_text(page)))  # code: commands, files, keys
        text = re.sub(r"(SI |paper |note )?§\s?\d+(\.\d+)*[a-z]?", "", text)  # citations
        for number in re.findall(r"\d+\.\d+|\d+(?:\.\d+)?\s?%", text):
            typed.append(f"{page.relative_to(DOCS)}: {number}")
    assert not typed, typed


HEADLINE_PAGES = ("sparc", "sensitivity", "regression", "ablation", "comparison", "scatter", "posterior", "population",
                  "lcdm", "joint")
"""The study pages that state their headline numbers in their Markdown source (readable without a build)."""


def test_the_numbers_the_pages_state_are_the_committed_ones():
    """Every marked number of every page equals its committed report's value as written, and each headline page
    states at least three (docs/development.md says how to mark one)."""
    records, _ = _ext()
    numbers = _numbers()
    found = [f"{page.relative_to(DOCS)}: {problem}" for page in PAGES
             for problem in numbers.problems(_text(page), records.load)]
    assert not found, "\n".join(found)
    for name in HEADLINE_PAGES:
        marked = [m for m in numbers.markers(_text(DOCS / "study" / f"{name}.md")) if not isinstance(m, str)]
        assert len(marked) >= 3, f"study/{name}.md states {len(marked)} marked numbers"


def test_a_marked_number_that_drifts_is_caught():
    """The marker check on a hand-made report: values rounded as written pass (sign, minus sign, commas, bold, a
    factor, a printed string); a wrong digit, a wrong rounding, a missing key or report, a marker after no number do
    not."""
    numbers = _numbers()
    report = {"report": [{"rms": 17.5005, "rate": 0.479532, "printed": "47.4%", "lnZ": -12944.2373, "n": 171,
                          "name/with/slash": 2.0}]}
    load = {"x": report}.get
    good = ("RMS **17.50**<!-- x.json#/report/0/rms --> km/s, 47.95<!-- x.json#/report/0/rate ×100 --> % (printed "
            "47.4<!-- x.json#/report/0/printed --> %), ln Z −12,944.24<!-- x.json#/report/0/lnZ -->, "
            "+171<!-- x.json#/report/0/n -->, 2<!-- x.json#/report/0/name~1with~1slash -->")
    assert numbers.problems(good, load) == []
    assert numbers.unmarked(good).count("<!--") == 0 and "17.50" not in numbers.unmarked(good)
    bad = ("17.51<!-- x.json#/report/0/rms -->\n17<!-- x.json#/report/0/rms -->\n47.40<!-- x.json#/report/0/printed "
           "-->\n1<!-- x.json#/report/0/missing -->\n1<!-- y.json#/report/0/rms -->\nnone: <!-- x.json#/report/0/n -->")
    found = numbers.problems(bad, load)
    assert [f.split(":")[0] for f in found] == [f"line {i}" for i in range(1, 7)], found
    assert "the report says 17.50" in found[0] and "the report says 18" in found[1] and "'47.4%'" in found[2]
    assert "no key 'missing'" in found[3] and "y.json is not committed" in found[4] and "follows no number" in found[5]


@pytest.fixture(scope="module")
def files() -> dict[str, str]:
    """The example files of the pages (blocks opening with ``# file: NAME``), by name."""
    return {name: body for page in PAGES
            for name, body in re.findall(r"```(?:toml|python)\n# file: (\S+)\n(.*?)```", _text(page), flags=re.S)}


@pytest.fixture(scope="module")
def workdir(sparc_store, tmp_path_factory):
    """A folder holding cubes/sparc.zarr and the A0 × k sweep, as after `make demo`."""
    work = tmp_path_factory.mktemp("docs")
    shutil.copytree(sparc_store, work / "cubes" / "sparc.zarr")
    run_sweep(load_spec(ROOT / "sweeps" / "sigma_A0_k.toml"), work / "cubes" / "sigma-A0-k.zarr",
              cube=work / "cubes" / "sparc.zarr", synchronous=True)
    return work


SLOW_EXAMPLES = {"guide/exploring.md"}
"""Pages whose examples run in the slow tier: exploring.md writes the whole explorer page of the demo sweep (minutes
on a loaded machine; the default tier's explorer tests build smaller pages)."""


@pytest.mark.parametrize("page", [pytest.param(p, marks=pytest.mark.slow) if str(p.relative_to(DOCS)) in SLOW_EXAMPLES
                                  else p for p in PAGES if README.python_blocks(_text(p))],
                         ids=lambda p: str(p.relative_to(DOCS)))
def test_python_examples_run(page, workdir, monkeypatch):
    """Each Python block of a page (but the example plugin's file) in its own namespace, in order, in the folder
    `make demo` leaves."""
    monkeypatch.chdir(workdir)
    for index, block in enumerate(README.python_blocks(_text(page))):
        if not block.startswith("# file: "):
            exec(compile(block, f"{page.relative_to(DOCS)} python block {index}", "exec"), {"__name__": "docs"})


def test_the_plugin_example_installs_loads_and_sweeps(files, sparc_store, sparc_cube, tmp_path):
    assert {"pyproject.toml", "sigcube_example_plugin.py", "boosted_newton_K.toml"} <= set(files)
    package = tmp_path / "sigcube-example-plugin"
    package.mkdir()
    for name in ("pyproject.toml", "sigcube_example_plugin.py"):
        (package / name).write_text(files[name])
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
                    "--target", str(site), str(package)], check=True, timeout=900)
    entry_points = next(site.glob("sigcube_example_plugin-*.dist-info")) / "entry_points.txt"
    assert "[sigcube.kernels]\nboosted_newton = sigcube_example_plugin" in entry_points.read_text()
    env = {**os.environ, "PYTHONPATH": str(site)}
    exe = str(Path(sys.executable).with_name("sigcube"))
    listed = subprocess.run([exe, "kernels", "--json"], env=env, capture_output=True, text=True, check=True)
    described = {k["name"]: k for k in json.loads(listed.stdout)}
    assert "boosted_newton" in described and described["boosted_newton"]["parameters"][0]["name"] == "K"
    assert not listed.stderr.strip()
    spec = tmp_path / "boosted_newton_K.toml"
    spec.write_text(files["boosted_newton_K.toml"])
    out = tmp_path / "boosted.zarr"
    subprocess.run([exe, "sweep", str(spec), "--cube", str(sparc_store), "--out", str(out), "--synchronous"],
                   env=env, capture_output=True, text=True, check=True)
    ds = open_result(out)
    assert ds.attrs["kernel"] == "boosted_newton" and ds.sizes["K"] == 11
    # K = 0 is Newtonian gravity; V = V_bar·√(1 + K) by hand at K = 1
    assert float(ds.mean_rms.sel(K=0.0)) == pytest.approx(float(sigcube.score(sparc_cube, "newtonian").mean_rms),
                                                          rel=1e-12)
    v = np.sqrt(2.0) * sigcube.predict(sparc_cube, "newtonian")
    hand = np.sqrt(((v - sparc_cube.v_obs) ** 2).mean("radius")).mean()
    assert float(ds.mean_rms.sel(K=1.0)) == pytest.approx(float(hand), rel=1e-12)


def test_the_example_sweep_spec_is_valid_and_runs(sparc_store, tmp_path):
    page = _text(DOCS / "guide" / "sweeps.md")
    text = next(b for b in re.findall(r"```toml\n(.*?)```", page, flags=re.S) if b.startswith('name = "sigma-A0-k"'))
    spec = parse_spec(text)
    assert [a.name for a in spec.axes] == ["A0", "g_dagger"] and spec.shape == (127, 80)
    g_dagger = spec.axes[1].values
    assert g_dagger.min() == pytest.approx(0.3e-10) and g_dagger.max() == pytest.approx(3.0e-10)  # unit converted
    run_sweep(spec, tmp_path / "example.zarr", cube=sparc_store, synchronous=True)
    ds = open_result(tmp_path / "example.zarr")
    assert {"mean_rms", "win_rate", "rms"} <= set(ds.data_vars) and "rar_rms_accel" not in ds
    assert ds.attrs["kernel"] == "sigma" and ds.sizes["galaxy"] == 171


# --- generated parts and committed records -----------------------------------------------------------------------


def test_the_references_are_generated_from_the_code(generated):
    from sigcube.engines.sweep.schema import spec_reference

    assert spec_reference() in generated["spec.md"]
    cli = generated["cli.md"]
    from sigcube.cli import command_tree

    root = command_tree()
    for name, command in root.commands.items():
        for sub in getattr(command, "commands", {None: None}):
            assert f"`sigcube {name}{' ' + sub if sub else ''}`" in cli, (name, sub)
    assert "`--replace-kind" in cli and "`--force" in cli


def test_the_committed_reports_are_the_registered_ones():
    records, generate = _ext()
    committed = {p.stem for p in (DOCS / "results").glob("*.json")}
    assert committed == set(records.RESULTS)
    for name, result in records.RESULTS.items():
        record = records.load(name)
        assert record["commands"] == [list(c) for c in result.commands]
        assert {"generated", "sigcube_version", "commit", "seconds", "report"} <= set(record)
        from sigcube_docs import reports

        assert "docs/results/" + name + ".json" in reports.render(record)


def test_the_posterior_table_leads_with_the_error_model_the_evidence_prefers():
    """Per model, the error models in the order of their ln Z, and the default's distance in posterior sd by hand:
    MOND's a0 default 1.2e-10 against a posterior 1.1e-10 ± 0.05e-10 lies +2.0 sd away."""
    _ext()
    from sigcube_docs import reports

    def post(mean: float, sd: float) -> dict:
        return {"a0": {"mean": mean, "sd": sd, "ci95": [mean - 2 * sd, mean + 2 * sd], "at_prior_edge": []},
                "sigma_int": {"mean": 4.0, "sd": 0.1, "ci95": [3.8, 4.2], "at_prior_edge": []}}

    rows = [{"model": "mond", "error_model": e, "log_evidence": z, "delta_vs_best_error_model": z + 100.0}
            for e, z in (("velocity_floor", -110.0), ("velocity_floor+tau_gal", -100.0))]
    record = {"name": "compare-sigma-mond-error-models", "commands": [], "generated": "2026-11-26",
              "sigcube_version": "0", "commit": "abc", "seconds": 1.0,
              "report": {"error_model_table": {"models": ["mond"], "run": "nuisance", "rows": rows},
                         "reports": {"velocity_floor": {"runs": {"nuisance": {"mond": {"evidence": {
                                         "posterior": post(1.0e-10, 0.05e-10)}}}}},
                                     "velocity_floor+tau_gal": {"runs": {"nuisance": {"mond": {"evidence": {
                                         "posterior": post(1.1e-10, 0.05e-10)}}}}}}}}
    body = reports.posterior_by_error_model(record)
    assert body.index("`velocity_floor+tau_gal`") < body.index("`velocity_floor`")
    lead = next(line for line in body.splitlines() if line.startswith("| `velocity_floor+tau_gal`"))
    assert "1.100 ± 0.050" in lead.replace("\u00a0", " ") and lead.rstrip(" |").endswith("+2.0")
    assert "`mond` a0 = 1.200" in body
    assert "sigma_int" not in body.split("- the scatter")[0]  # only the kernel's own parameters


def test_the_benchmark_records_say_where_they_ran():
    records, generate = _ext()
    recs = records.bench_records()
    assert recs, "no benchmark record in docs/performance/"
    for r in recs:
        assert {"cpu", "cores", "memory_gb", "avx2"} <= set(r["machine"]) and r["machine"]["cpu"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\d", r["date"]) and isinstance(r["under_load"], bool)
        assert r["file"] == records.bench_file(r) and r["file"].startswith(r["benchmark"] + "-")
    page = generate.performance()
    assert all(r["file"] in page for r in recs)


def _cube_folder(tmp: Path, stores: dict[str, Path]) -> Path:
    """A cube folder holding the session's dataset cubes (links: the reports only read them)."""
    folder = tmp / "cubes"
    folder.mkdir()
    for kind, path in stores.items():
        (folder / f"{kind}.zarr").symlink_to(path, target_is_directory=True)
    return folder


DEEP_REPORT_S = 45
"""A committed report that took longer than this to make (its record's ``seconds``), or one resumed from an earlier
run's checkpoints (its whole time unknown, more than its ``seconds``), is remade in the deep tier (``make
test-deep``), the others in the slow tier: together they are longer than the slow tier's budget."""


def test_a_record_knows_a_resumed_run_by_the_commands_own_words():
    """The words the record tool looks for are the ones `report compare` prints when it reads back finished work."""
    records, _ = _ext()
    source = (ROOT / "sigcube" / "cli" / "report.py").read_text()
    assert all(f'say(f"{words}' in source for words in records.RESUMED_WORDS)
    assert records.was_resumed("computing …\nresuming from /c/compare-1a2b (12 finished pieces)\nnfw: done in 3 s")
    assert records.was_resumed("from the finished run kept at /c/compare-1a2b; --fresh recomputes")
    assert not records.was_resumed("nfw: σ_int: every galaxy integrated at 16 values (16 in all)\nnfw: done in 5 s")


def _committed_reports() -> list:
    records = [json.loads(p.read_text()) for p in sorted((DOCS / "results").glob("*.json"))]
    return [pytest.param(r["name"], marks=pytest.mark.deep) if r["seconds"] > DEEP_REPORT_S or r.get("resumed")
            else r["name"]
            for r in sorted(records, key=lambda r: r["name"])]


def test_a_remade_report_agrees_to_its_stated_tolerance():
    """Cross-CPU rounding passes (1e-5 relative, 1e-3 for fits, 1e-15 absolute about zero, 1e-9 absolute for a
    posterior mass); a change beyond it, a changed count or string, a missing key do not; timings are never
    compared."""
    records, _ = _ext()
    committed = {"mean": 1.0, "p": 2.4e-45, "r": 6.7e-17, "n": 3, "what": "x", "seconds": 1.0, "rows": [0.5]}
    assert not records.differences(committed, {**committed, "mean": 1 + 5e-6, "r": -4.9e-17, "seconds": 9.0})
    assert records.differences(committed, {**committed, "mean": 1 + 5e-5}) == ["report.mean: committed 1.0, remade "
                                                                                 "1.00005"]
    assert not records.differences(committed, {**committed, "mean": 1 + 5e-4}, tolerance=records.FIT_TOLERANCE)
    assert records.differences(committed, {**committed, "mean": 1 + 5e-3}, tolerance=records.FIT_TOLERANCE)
    assert len(records.differences(committed, {**committed, "n": 4, "what": "y", "rows": [0.5, 1.0]})) == 3
    assert records.differences(committed, {k: v for k, v in committed.items() if k != "p"}) == ["report.p: missing"]
    assert records.RESULTS["ablation"].tolerance == records.FIT_TOLERANCE
    masses = {"excluded": 3.0063e-9, "edge_mass": [6.2e-14, 0.25], "mean": 3.0063e-9}
    assert not records.differences(masses, {**masses, "excluded": 3.0059e-9, "edge_mass": [7.3e-12, 0.25]})
    assert records.differences(masses, {**masses, "mean": 3.0059e-9, "edge_mass": [6.2e-14, 0.2501]}) == [
        "report.edge_mass[1]: committed 0.25, remade 0.2501", "report.mean: committed 3.0063e-09, remade 3.0059e-09"]
    assert records.RESULTS["sweep-demo"].tolerance == records.RELATIVE_TOLERANCE


@pytest.mark.slow
@pytest.mark.parametrize("name", _committed_reports())
def test_a_committed_report_is_current(name, cube_stores, tmp_path):
    """The command that made docs/results/<name>.json, run again, prints the same report (timings aside)."""
    records, _ = _ext()
    committed = records.load(name)
    remade = records.run(records.RESULTS[name], _cube_folder(tmp_path, cube_stores))
    differences = records.differences(committed["report"], remade["report"], tolerance=records.RESULTS[name].tolerance)
    assert not differences, (f"docs/results/{name}.json is stale (remake it: python docs/_ext/record.py results "
                             f"{name}):\n" + "\n".join(differences))


# --- the build ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(sparc_store, tmp_path_factory) -> dict:
    """`make docs`'s build (warnings are errors, --keep-going to report them all) into a fresh folder: its output
    folder and what Sphinx printed."""
    tmp = tmp_path_factory.mktemp("site")
    out = tmp / "html"
    env = {**os.environ, "SIGCUBE_CUBE_DIR": str(sparc_store.parent)}
    done = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-q",
                           "-d", str(tmp / "doctrees"), str(DOCS), str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600)
    return {"out": out, "returncode": done.returncode, "stderr": done.stderr}


@pytest.mark.slow
def test_the_site_builds_offline_without_a_warning(site):
    """The build succeeds without a warning; no page loads a script, stylesheet or image from the network."""
    out = site["out"]
    assert site["returncode"] == 0, site["stderr"][-5000:]
    # Sphinx's own messages ("file:line: WARNING: …", "WARNING: …"); the notebook kernels' log lines
    # ("[IPKernelApp] WARNING | …" about its local TCP transport) are not the site's
    sphinx_says = re.compile(r"^(?:\S+: )?(?:WARNING|ERROR|CRITICAL):", re.MULTILINE)
    assert not sphinx_says.search(site["stderr"]), site["stderr"][-5000:]
    pages = list(out.rglob("*.html"))
    assert (out / "index.html").is_file() and len(pages) > 30
    remote = re.compile(r"<(?:script|img|iframe)\b[^>]*\bsrc=\"(?:https?:)?//|<link\b[^>]*\bhref=\"(?:https?:)?//")
    loading = [str(p.relative_to(out)) for p in pages if remote.search(p.read_text(encoding="utf-8"))]
    assert not loading, loading
    for page in ("study/ablation.html", "study/regression.html", "performance.html", "cli.html", "spec.html"):
        assert (out / page).is_file(), page


HIDDEN_TAGS = frozenset({"code", "pre", "kbd", "samp", "script", "style", "tt"})
"""Where markup characters are the text itself (code, preformatted text) or not text (scripts, styles)."""
BLOCK_TAGS = frozenset({"p", "li", "td", "th", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6", "caption", "figcaption",
                        "blockquote", "summary"})
"""The blocks a page's text is read in: a paragraph, a list item, a table cell, a heading, a caption."""


class _VisibleText(HTMLParser):
    """The text a reader sees on a page, block by block (:data:`BLOCK_TAGS`; text outside any is one more block):
    everything outside :data:`HIDDEN_TAGS`."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth, self.open, self.blocks = 0, [[]], []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.depth += tag in HIDDEN_TAGS
        if tag in BLOCK_TAGS:
            self.open.append([])

    def handle_endtag(self, tag: str) -> None:
        self.depth -= tag in HIDDEN_TAGS and self.depth > 0
        if tag in BLOCK_TAGS and len(self.open) > 1:
            self.blocks.append("".join(self.open.pop()))

    def handle_data(self, data: str) -> None:
        if not self.depth:
            self.open[-1].append(data)

    def close(self) -> None:
        super().close()
        self.blocks += ["".join(parts) for parts in reversed(self.open)]


def visible_blocks(html: str) -> list[str]:
    """The visible text of an HTML page, one string per block, its white space collapsed."""
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    return [text for block in parser.blocks if (text := " ".join(block.split()))]


_ROLES = r"(?:py:)?(?:func|meth|class|mod|attr|data|obj|exc|const|ref|doc|term|any|numref|envvar|math)"
MARKUP_AS_TEXT = {
    "raw table": re.compile(r"^\|(?:[^|]*\|){2,}$|\|\s*:?-{2,}:?\s*\|"),
    "role": re.compile(rf"(?<![\w:]):{_ROLES}:|\{{{_ROLES}\}}"),
    "escape": re.compile(r"\\|`|<!--|-->|\.json#/"),
}
"""What a page shows when its Markdown is not read as the author meant: a table read as a paragraph (a block that
begins and ends with a pipe around two cells or more, or holds a table's rule ``| --: |``: a row of raw pipes); a
Sphinx role left as text (``:func:``, ``{py:mod}``); an escape shown (a backslash — Markdown escaped twice, ``\\_``,
``\\&``, or TeX's ``\\times`` — a backtick of a code span that is not one, an HTML comment or a number's marker)."""


def markup_shown(blocks: list[str]) -> list[tuple[str, str, str]]:
    """Each piece of markup the visible text ``blocks`` show: (kind of :data:`MARKUP_AS_TEXT`, what, its context)."""
    return [(kind, m.group(0), block[max(m.start() - 40, 0):m.end() + 20]) for block in blocks
            for kind, pattern in MARKUP_AS_TEXT.items() for m in pattern.finditer(block)]


def visible_markup(html: str) -> list[tuple[str, str, str]]:
    """Each piece of markup an HTML page's visible text shows (:func:`markup_shown`)."""
    return markup_shown(visible_blocks(html))


def test_the_markup_check_sees_double_escaping():
    """The check on hand-made HTML: escaped punctuation, TeX, a stray backtick, a leaked marker, a role left as text and
    a table read as a paragraph are found; the same characters inside code, a cell that is one absolute value and a
    list of choices in prose are not."""
    seen = visible_markup("<p>Kass \\&amp; Raftery, z\\_M200, 2.7 \\times 10, `sigma`, 17.50&lt;!-- x.json#/a --&gt;</p>"
                          "<pre>a\\_b `c` | a | b |</pre><p><code>z\\_M200 `x` :func:</code> fine</p>"
                          "<p>σ_L (:func:<code>chord</code>), {py:mod}<code>sigcube</code>, choices: a | b | c</p>"
                          "<p>| model | |r| &gt; 3 |\n| :-- | --: |\n| <code>sigma</code> | 1.2 |</p>"
                          "<table><tr><th>|r| &gt; 3</th><td>|z|</td><td>| a | b |</td></tr></table>")
    assert [(kind, found) for kind, found, _ in seen] == [
        ("escape", "\\"), ("escape", "\\"), ("escape", "\\"), ("escape", "`"), ("escape", "`"), ("escape", "<!--"),
        ("escape", ".json#/"), ("escape", "-->"), ("role", ":func:"), ("role", "{py:mod}"),
        ("raw table", "| model | |r| > 3 | | :-- | --: | | | 1.2 |"), ("raw table", "| a | b |")], seen


def _myst_extensions() -> set[str]:
    """The MyST extensions docs/conf.py enables (read from the file: importing it sets up a build)."""
    tree = ast.parse(_text(DOCS / "conf.py"))
    return next(set(ast.literal_eval(node.value)) for node in tree.body if isinstance(node, ast.Assign)
                and any(getattr(t, "id", None) == "myst_enable_extensions" for t in node.targets))


@pytest.fixture(scope="module")
def myst_html():
    """``myst_html(markdown)``: Markdown in HTML as the site's MyST parser reads it, with the site's extensions.
    Directives are not run: a colon fence's directive (an admonition, a figure) is opened, its body read as Markdown;
    a backtick fence's (an include, a toctree) stays a literal block."""
    from markdown_it.renderer import RendererHTML
    from myst_parser.config.main import MdParserConfig
    from myst_parser.parsers.mdit import create_md_parser

    parser = create_md_parser(MdParserConfig(enable_extensions=_myst_extensions()), RendererHTML)
    fence = re.compile(r"^:{3,}\{[^}]*\}.*\n(?::[\w-]+:.*\n)*|^:{3,}[ \t]*$", re.MULTILINE)
    return lambda markdown: parser.render(fence.sub("", markdown))


@pytest.fixture(scope="module")
def generated() -> dict[str, str]:
    """Every generated Markdown file of the site (``sigcube_docs.generate.jobs``, the figures aside), by name."""
    _, generate = _ext()
    return {name: make() for name, make in generate.jobs().items()}


def test_no_page_and_no_generated_part_shows_markup_as_text(generated, myst_html):
    """Every hand-written page and every generated part, read by MyST's parser as the build reads it (no build, no
    browser: the default tier's copy of the built pages' check), shows no markup as text: no table read as a
    paragraph, no role, no escape (:data:`MARKUP_AS_TEXT`)."""
    markdown = {**{str(p.relative_to(DOCS)): _text(p) for p in PAGES},
                **{f"_generated/{name}": body for name, body in generated.items()}}
    assert len(markdown) > 100 and any(name.startswith("_generated/results/") for name in markdown)
    shown = {name: found for name, body in markdown.items() if (found := visible_markup(myst_html(body)))}
    assert not shown, "\n".join(f"{name}: {[context for *_, context in found[:5]]}" for name, found in shown.items())


def test_the_generator_escapes_what_broke_the_pages(myst_html, generated):
    """The helpers on what broke the built pages, each read back by MyST's parser: a header cell ``|r| > 3`` stays
    one cell of a table, a role before a code span is dropped; the published figures' TeX is shown as the reports
    print it (×10⁻⁹)."""
    _ext()
    from sigcube_docs.markdown import table, text

    html = myst_html(table(["model", "|r| > 3"], [["`sigma`", text("|z| < 1")]], "lr"))
    assert len(re.findall(r"<th\b", html)) == 2 and len(re.findall(r"<td\b", html)) == 2, html
    assert ">|r| &gt; 3</th>" in html and ">|z| &lt; 1</td>" in html and not visible_markup(html), html
    html = myst_html(text("σ_L = 0.051 dex (:func:`chord_scatter_dex`); :py:data:`X`, key:`y`"))
    assert "(<code>chord_scatter_dex</code>); <code>X</code>, key:<code>y</code>" in html and not visible_markup(html)
    published = generated["published.md"]
    assert "| 2.7×10⁻⁹ " in published and "| 10⁻⁸ " in published and "times" not in published, published


def test_the_results_pages_show_the_words_of_today(generated):
    """A committed record made before a rename (``lognormal_gobs``, now ``lognormal_first_order``) or before the CLI
    stopped printing a role (``:func:`chord_scatter_dex```) is shown in the words the code prints today: no generated
    results page shows a former name (eight records held one when this was written) or a role, not even in the
    terminal's transcript (a literal block, which the pages' markup check does not read); a former name is replaced
    where it is a name, not inside another (a file name)."""
    _ext()
    from sigcube_docs import reports, sources

    former = sources.former_names()
    assert former == {"lognormal_gobs": "lognormal_first_order"}
    results = {name: body for name, body in generated.items() if name.startswith("results/")}
    shown = [(name, f) for name, body in results.items() for f in former if f in body or f.replace("_", "\\_") in body]
    shown += [(name, m[0]) for name, body in results.items() for m in re.finditer(r":(?:py:)?[a-z]+:`", body)]
    assert not shown, shown
    from sigcube.stats.lensing import SOURCES

    assert not [s for s in SOURCES.values() if re.search(r":(?:py:)?[a-z]+:`", s)], "the CLI prints no role"
    assert reports.current({"lognormal_gobs": ["error model lognormal_gobs: …", "cubes/x-lognormal_gobs.zarr", 3,
                                               "σ (:func:`f`), :py:data:`X`, key:`y`"]}) == {
        "lognormal_first_order": ["error model lognormal_first_order: …", "cubes/x-lognormal_gobs.zarr", 3,
                                  "σ (`f`), `X`, key:`y`"]}


@pytest.mark.slow
def test_the_pages_show_no_markup_as_text(site):
    """No built page shows Markdown markup as text (:data:`MARKUP_AS_TEXT`; the API reference aside: its text is the
    code's docstrings and reprs)."""
    out = site["out"]
    assert site["returncode"] == 0, site["stderr"][-5000:]
    shown = {str(page.relative_to(out)): found for page in sorted(out.rglob("*.html"))
             if not page.relative_to(out).parts[0].startswith(("_", "."))
             and (found := visible_markup(page.read_text(encoding="utf-8")))}
    assert not shown, "\n".join(f"{page}: {[context for *_, context in found[:5]]}" for page, found in shown.items())


# --- figures -----------------------------------------------------------------------------------------------------


def _figures():
    _ext()
    return importlib.import_module("sigcube_docs.figures")


def _included_figures(page: Path) -> list[str]:
    return re.findall(r"\{include\} (?:\.\./)?_generated/figures/([\w-]+)\.md", _text(page))


def test_every_study_page_includes_a_figure_the_build_draws():
    """Each page under docs/study/ includes at least one figure snippet, every snippet a page includes is a figure
    of the registry, and every figure of the registry is shown by the page it names and reads committed reports."""
    figures = {f.name: f for f in _figures().FIGURES}
    records, _ = _ext()
    for page in sorted((DOCS / "study").glob("*.md")):
        names = _included_figures(page)
        assert names, f"{page.relative_to(DOCS)} shows no figure"
        assert set(names) <= set(figures), set(names) - set(figures)
    for f in figures.values():
        assert f.name in _included_figures(DOCS / f"{f.page}.md"), (f.name, f.page)
        assert set(f.reports) <= set(records.RESULTS), f.name


def test_no_image_is_committed_that_the_build_does_not_make():
    """The site's figures are drawn at build time: the only committed picture is the explorer's screenshot, which
    tests/project/test_browser.py remakes (SIGCUBE_UPDATE_DOCS=1)."""
    listed = subprocess.run(["git", "ls-files", "docs"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    images = [f for f in listed.split() if f.lower().endswith((".png", ".svg", ".jpg", ".jpeg", ".gif", ".webp"))]
    assert images == ["docs/explorer.png"]


def _images(html: str) -> list[tuple[str, str]]:
    """(src, alt) of every image of a page."""
    return [(re.search(r'src="([^"]+)"', tag).group(1), (re.search(r'alt="([^"]*)"', tag) or [None, ""])[1])
            for tag in re.findall(r"<img\b[^>]*>", html)]


@pytest.mark.slow
def test_every_study_page_shows_its_figures_with_alt_text(site):
    """In the built site each study page shows its figures (images that are not blank, with alt text naming what is
    plotted) and the gallery shows every figure's thumbnail."""
    from PIL import Image

    out = site["out"]
    assert site["returncode"] == 0, site["stderr"][-5000:]
    figures = _figures().FIGURES
    for page in sorted((DOCS / "study").glob("*.md")):
        html_page = out / "study" / f"{page.stem}.html"
        shown = [(src, alt) for src, alt in _images(html_page.read_text(encoding="utf-8")) if "_images/" in src]
        assert len(shown) >= len(_included_figures(page)) >= 1, page.name
        for src, alt in shown:
            assert len(alt.split()) >= 6, (page.name, src, alt)  # a sentence, not a file name
            with Image.open(html_page.parent / src) as im:
                assert im.size[0] >= 400 and len(np.unique(np.asarray(im.convert("L")))) > 10, src
    gallery = _images((out / "gallery.html").read_text(encoding="utf-8"))
    thumbs = [alt for src, alt in gallery if "_images/" in src]
    shown = [e for e in _figures().GALLERY if e.figure is not None]
    assert len(thumbs) == len(shown) and all(thumbs), "one example of each figure kind drawn, each with its alt text"


def built_pages(out: Path) -> list[str]:
    """Every page of a built site (its HTML files but the static files, the images and the sources)."""
    return sorted(str(p.relative_to(out)) for p in out.rglob("*.html")
                  if p.relative_to(out).parts[0] not in ("_static", "_images", "_sources"))


@pytest.mark.slow
def test_every_page_in_headless_chromium(site, tmp_path, wait_for):
    """Every built page in a real headless Chromium at a 1280-pixel window (found as tests/project/test_browser.py
    finds it), as a reader sees it: no markup shown as text (:data:`MARKUP_AS_TEXT`: a table read as a paragraph, a
    role, an escape; the API reference's text, the code's docstrings and reprs, aside) and every table fits the content
    column: none clipped, none scrolling (test_browser.table_layout_problems). The study pages' tables also have no cell
    squeezed to a word per line and no text running over its neighbour; the study pages and the gallery show every
    image decoded and drawn (not blank), and no error in the console."""
    from io import BytesIO

    from PIL import Image
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser_helpers = _sibling("test_browser")
    binary = browser_helpers._find("SIGCUBE_CHROMIUM", "chromium")
    driver_path = browser_helpers._find("SIGCUBE_CHROMEDRIVER", "chromedriver")
    if binary is None or driver_path is None:
        pytest.fail("headless Chromium not found (chromium and chromedriver on the PATH); `make browser` installs "
                    "Debian's chromium and chromium-driver", pytrace=False)
    assert site["returncode"] == 0, site["stderr"][-5000:]
    options = webdriver.ChromeOptions()
    for flag in (*browser_helpers.FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,1600"):
        options.add_argument(flag)
    options.binary_location = str(binary)
    driver = webdriver.Chrome(service=Service(str(driver_path)), options=options)
    loaded = """return document.readyState == "complete" && Array.from(document.images).every(i => i.complete)"""
    drawn = "return Array.from(document.images).filter(i => i.src.includes('_images/')).map(i => i.naturalWidth)"
    pages = built_pages(site["out"])
    pictured = {f"study/{p.stem}.html" for p in (DOCS / "study").glob("*.md")} | {"gallery.html"}
    assert pictured <= set(pages) and len(pages) > 100
    found = {}
    try:
        for page in pages:
            driver.get((site["out"] / page).as_uri())
            wait_for(lambda: bool(driver.execute_script(loaded)), f"{page} loaded", bound=300)
            problems = browser_helpers.table_layout_problems(driver, kinds=browser_helpers.TABLE_PROBLEMS if
                                                             page.startswith("study/") else ("clipped",))
            if not page.startswith("_autosummary/"):
                problems += [f"{kind} shown as text: {context}" for kind, _, context in
                             markup_shown(browser_helpers.visible_blocks(driver, BLOCK_TAGS))]
            errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
            if page in pictured:
                widths = driver.execute_script(drawn)
                assert widths and all(w > 0 for w in widths), (page, widths)
                shot = Image.open(BytesIO(driver.get_screenshot_as_png())).convert("RGB")
                assert len(shot.getcolors(maxcolors=1 << 20) or ()) > 50, f"{page}: a blank page"
                assert errors == [], (page, errors)
            if problems:
                found[page] = problems
    finally:
        driver.quit()
    assert not found, "\n".join(f"{page}: {problem}" for page, problems in found.items() for problem in problems)
