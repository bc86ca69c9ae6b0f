"""The committed records (``docs/results/*.json``, ``docs/performance/*.json``) are the ones record.py wrote, and their
numbers agree with one another.

- Every record's bytes hash to its entry in its folder's ``MANIFEST.toml``, every record has an entry and every entry
  a record, and the entry's provenance is the record's (``sigcube_docs.manifest``): a number edited anywhere fails.
- Every record keeps the identities of its own numbers (``sigcube_docs.consistency``): ln B = ln Z − ln Z(MOND),
  ΔELPD = ELPD − ELPD of the best, totals the sums of their per-galaxy terms, errors ≥ 0 and finite, …; each family
  of identities is shown to catch an edit of the numbers it ties.
- record.py makes a record only from committed sources (``--draft`` otherwise, marked dirty), and not from sources
  that changed while it ran.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import math
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
RECORD_PY = ROOT / "docs" / "_ext" / "record.py"
if str(ROOT / "docs" / "_ext") not in sys.path:
    sys.path.insert(0, str(ROOT / "docs" / "_ext"))
consistency = importlib.import_module("sigcube_docs.consistency")
manifest = importlib.import_module("sigcube_docs.manifest")
numbers = importlib.import_module("sigcube_docs.numbers")
records = importlib.import_module("sigcube_docs.records")

RECORDS = [p for folder in manifest.FOLDERS for p in manifest.record_files(folder)]
ERROR_MODELS = "compare-sigma-mond-error-models.json"


def _load(name: str) -> dict[str, Any]:
    folder = records.RESULTS_DIR if (records.RESULTS_DIR / name).is_file() else records.PERFORMANCE_DIR
    return json.loads((folder / name).read_text(encoding="utf-8"))


# --- the manifest ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("folder", manifest.FOLDERS, ids=lambda f: f.name)
def test_every_record_is_the_one_its_manifest_hashes(folder: Path):
    assert manifest.record_files(folder), f"no record in {folder}"
    assert not manifest.problems(folder), "\n".join(manifest.problems(folder)) + (
        "\n(a record is written by python docs/_ext/record.py, which writes its manifest entry; never edit one by "
        "hand — docs/development.md, 'Committed records')")


def _copy(tmp_path: Path, *names: str) -> Path:
    """A folder holding ``names`` (records of docs/results/) and their manifest entries."""
    folder = tmp_path / "results"
    folder.mkdir()
    for name in names:
        shutil.copyfile(records.RESULTS_DIR / name, folder / name)
    manifest.write(folder, {n: e for n, e in manifest.read(records.RESULTS_DIR).items() if n in names})
    return folder


def test_a_number_edited_by_hand_is_caught_where_no_page_marks_it(tmp_path: Path):
    """The tester's edit: sigma's ln Z under the velocity floor lowered by 500 nat in the error-model table, a number
    no page states."""
    folder = _copy(tmp_path, ERROR_MODELS, "sparc.json")
    assert not manifest.problems(folder)
    path = folder / ERROR_MODELS
    record = json.loads(path.read_text(encoding="utf-8"))
    row = next(r for r in record["report"]["error_model_table"]["rows"]
               if (r["model"], r["error_model"]) == ("sigma", "velocity_floor"))
    text = path.read_text(encoding="utf-8")
    written = f'"log_evidence": {row["log_evidence"]!r}'
    assert text.count(written) >= 1
    path.write_text(text.replace(written, f'"log_evidence": {row["log_evidence"] - 500!r}', 1), encoding="utf-8")
    found = manifest.problems(folder)
    assert len(found) == 1 and found[0].startswith(f"{folder.parent.name}/results/{ERROR_MODELS}: its bytes are not "
                                                   "those record.py wrote") and "record.py results" in found[0]


def test_a_record_without_an_entry_and_an_entry_without_a_record_are_named(tmp_path: Path):
    folder = _copy(tmp_path, "sparc.json", "kernels.json")
    entries = manifest.read(folder)
    (folder / "kernels.json").unlink()
    shutil.copyfile(records.RESULTS_DIR / "ablation.json", folder / "ablation.json")
    found = manifest.problems(folder)
    assert len(found) == 2
    assert found[0].endswith("ablation.json: not in its MANIFEST.toml (a record is written by docs/_ext/record.py, "
                             "which adds it)")
    assert found[1].endswith("MANIFEST.toml: an entry for kernels.json, which is not there")
    manifest.write(folder, {**entries, "sparc.json": {**entries["sparc.json"], "tree": "dirty"}})
    assert any("sparc.json: the manifest states" in p for p in manifest.problems(folder))


def test_save_writes_the_record_with_its_entry_and_rewrite_says_what_changed(tmp_path: Path):
    folder = tmp_path / "performance"
    record = {"benchmark": "compare", "label": "table", "command": "python bench/compare.py --json --table --workers 2",
              "date": "2026-11-29", "commit": "abc1234+changes", "seconds": 1.5, "result": {"speedup": 1.8}}
    path = folder / records.bench_file(record)
    manifest.save(record, path)
    assert json.loads(path.read_text(encoding="utf-8")) == record
    assert manifest.read(folder) == {"compare-table-2026-11-29.json": {
        "sha256": manifest.sha256(path),
        "command": "python docs/_ext/record.py bench --label table compare -- --table --workers 2",
        "commit": "abc1234", "tree": "dirty"}}
    assert not manifest.problems(folder)
    path.write_text(path.read_text(encoding="utf-8").replace("1.8", "2.8"), encoding="utf-8")
    plain = {k: v for k, v in record.items() if k != "label"} | {"command": "python bench/compare.py --json",
                                                                  "commit": "abc1234"}
    (folder / records.bench_file(plain)).write_text(json.dumps(plain), encoding="utf-8")
    manifest.write(folder, {**manifest.read(folder), "gone.json": {"sha256": "0"}})
    assert manifest.rewrite(folder) == ["gone.json: entry removed (no such record)",
                                        "compare-2026-11-29.json: entry added",
                                        "compare-table-2026-11-29.json: entry rewritten (sha256)"]
    assert not manifest.problems(folder) and manifest.rewrite(folder) == []


def test_an_entry_names_the_command_commit_and_tree_the_record_states():
    assert manifest.provenance({"commit": "c5cc8a3"}) == ("c5cc8a3", "clean")
    assert manifest.provenance({"commit": "c5cc8a3+changes"}) == ("c5cc8a3", "dirty")
    assert manifest.provenance({"commit": "unknown"}) == ("unknown", "unknown")
    assert manifest.command({"name": "sparc", "commands": [["report", "sparc"]]}) == (
        "python docs/_ext/record.py results sparc")
    assert manifest.command({"benchmark": "vecmath", "command": "python bench/vecmath.py --json"}) == (
        "python docs/_ext/record.py bench vecmath")
    assert manifest.command({"benchmark": "compare", "label": "family", "command": "python bench/compare.py --json "
                             "--workers 2"}) == "python docs/_ext/record.py bench --label family compare -- --workers 2"


@settings(max_examples=60, derandomize=True, deadline=None, database=None)
@given(st.dictionaries(st.text(min_size=1, max_size=12).map(lambda s: s + ".json"),
                       st.fixed_dictionaries({"sha256": st.text(max_size=20), "command": st.text(max_size=30)}),
                       max_size=4))
def test_a_manifest_reads_back_as_written(entries: dict[str, dict[str, str]]):
    """Any file names and values (quotes, backslashes, control characters, any Unicode) survive the TOML round trip."""
    with tempfile.TemporaryDirectory() as folder:
        manifest.write(Path(folder), entries)
        assert manifest.read(Path(folder)) == entries


def _record_py(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    """Run ``docs/_ext/record.py ARGS`` in this process; its exit status."""
    spec = importlib.util.spec_from_file_location("_record_py", RECORD_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(sys, "argv", ["record.py", *args])
    with pytest.raises(SystemExit) as done:
        module.main()
    return done.value.code


def test_record_py_checks_every_record_against_its_manifest_and_itself(monkeypatch: pytest.MonkeyPatch,
                                                                       capsys: pytest.CaptureFixture[str]):
    assert _record_py(monkeypatch, "manifest", "--check") == 0
    assert capsys.readouterr().out == "every record is the one its manifest hashes, and consistent\n"
    assert _record_py(monkeypatch, "manifest", str(ROOT / "README.md")) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"record.py: error: {ROOT / 'README.md'}: not a record of docs/results/ or docs/performance/")


# --- committed sources only --------------------------------------------------------------------------------------


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=repo, check=True,
                          capture_output=True, text=True).stdout.strip()


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    """A git repository with a file in each folder of sources and one elsewhere, committed."""
    root = tmp_path / "repo"
    for name in ("sigcube/model.py", "bench/b.py", "sweeps/s.toml", "docs/results/specs/x.toml", "docs/page.md"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("1\n")
    _git(root.parent, "init", "-q", str(root))
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "first")
    return root


def test_a_record_is_made_from_committed_sources_or_as_a_draft(repo: Path):
    sha = _git(repo, "rev-parse", "--short", "HEAD")
    assert records.source_commit(repo=repo) == sha
    (repo / "docs/page.md").write_text("2\n")
    (repo / "sigcube/new.py").write_text("untracked\n")
    assert records.source_commit(repo=repo) == sha  # only tracked files under the sources count
    for name in ("sigcube/model.py", "docs/results/specs/x.toml"):
        (repo / name).write_text("2\n")
    with pytest.raises(records.RecordError, match=r"^uncommitted changes to docs/results/specs/x.toml, "
                                                  r"sigcube/model.py: .*--draft"):
        records.source_commit(repo=repo)
    assert records.source_commit(draft=True, repo=repo) == sha + records.CHANGES
    assert manifest.provenance({"commit": sha + records.CHANGES}) == (sha, "dirty")


def test_a_record_whose_sources_changed_while_it_ran_is_not_written(repo: Path):
    start = records.source_commit(repo=repo)
    _git(repo, "commit", "-qam", "nothing", "--allow-empty")
    records.check_unchanged(start, repo)  # a new commit that leaves the sources as they were
    (repo / "bench/b.py").write_text("2\n")
    with pytest.raises(records.RecordError, match=r"^bench/b.py changed while the record was made from"):
        records.check_unchanged(start, repo)
    _git(repo, "commit", "-qam", "bench changed")
    with pytest.raises(records.RecordError, match="bench/b.py changed"):
        records.check_unchanged(start, repo)  # committed since: still not the commit the record would name
    records.check_unchanged(start + records.CHANGES, repo)  # a draft names no clean commit


def test_record_py_refuses_to_start_with_uncommitted_sources(tmp_path: Path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--shared", str(ROOT), str(clone)], check=True)
    (clone / "sigcube" / "__init__.py").write_text("# changed\n", encoding="utf-8")
    done = subprocess.run([sys.executable, str(clone / "docs/_ext/record.py"), "results", "sparc"], cwd=clone,
                          capture_output=True, text=True)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines()[-1] == (
        "record.py: error: uncommitted changes to sigcube/__init__.py: a record is made from committed sources; "
        "commit them, or pass --draft (the record's manifest entry then says dirty)")


# --- the identities of each record's own numbers -----------------------------------------------------------------


@pytest.mark.parametrize("path", RECORDS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_record_keeps_the_identities_of_its_numbers(path: Path):
    found = consistency.problems(json.loads(path.read_text(encoding="utf-8")))
    assert not found, "\n".join(found[:20])


def _edit(name: str, pointer: str, change: Callable[[Any], Any]) -> list[str]:
    """The problems of record ``name`` with the value at ``pointer`` changed."""
    record = _load(name)
    parent_pointer, _, key = pointer.rpartition("/")
    parent = numbers.resolve(record, parent_pointer)
    key = int(key) if isinstance(parent, list) else key.replace("~1", "/").replace("~0", "~")
    parent[key] = change(parent[key])
    return consistency.problems(record)


def _sigma_vf_row() -> int:
    rows = _load(ERROR_MODELS)["report"]["error_model_table"]["rows"]
    return next(i for i, r in enumerate(rows) if (r["model"], r["error_model"]) == ("sigma", "velocity_floor"))


EDITS = [
    # (record, the number edited, how, a pointer its identity names)
    (ERROR_MODELS, f"/report/error_model_table/rows/{_sigma_vf_row()}/log_evidence", lambda v: v - 500,
     f"/report/error_model_table/rows/{_sigma_vf_row()}/ln_B_vs_mond = "),
    (ERROR_MODELS, "/report/reports/velocity_floor/runs/nuisance/sigma/log_evidence", lambda v: v - 500,
     "/report/reports/velocity_floor/runs/nuisance/sigma/ln_B_vs_mond = "),
    (ERROR_MODELS, "/report/error_model_table/averaged/sigma/log_evidence", lambda v: v + 0.01,
     "/report/error_model_table/averaged/sigma/log_evidence = "),
    (ERROR_MODELS, "/report/error_model_table/data_prefer/margin", lambda v: v + 1,
     "/report/error_model_table/data_prefer/margin = "),
    ("compare-sigma-mond-nfw.json", "/report/runs/nuisance/sigma/ln_B_vs_mond", lambda v: v + 1e-3,
     "/report/runs/nuisance/sigma/ln_B_vs_mond = "),
    ("compare-sigma-mond-nfw.json", "/report/logo/nuisance/per_galaxy/elpd/mond/7", lambda v: v + 0.5,
     "/report/logo/nuisance/models/mond/elpd = "),
    ("compare-sigma-mond-nfw.json", "/report/runs/catalogue/nfw/galaxy_log_evidence/3", lambda v: v - 2,
     "/report/runs/catalogue/nfw/log_evidence = "),
    ("compare-halos-lcdm.json", "/report/runs/nuisance/sigma/decision_vs_mond/elpd_se", lambda v: v * 1.01,
     "/report/runs/nuisance/sigma/decision_vs_mond/elpd_se = "),
    ("compare-sigma-mond-nfw.json", "/report/logo/nuisance/models/sigma/dse", lambda v: v / 2,
     "/report/logo/nuisance/models/sigma/dse = "),
    ("compare-sigma-mond-nfw.json", "/report/runs/nuisance/nfw/aic", lambda v: v - 10,
     "/report/runs/nuisance/nfw/aic = "),
    ("compare-sigma-mond-nfw.json", "/report/runs/nuisance/sigma/evidence/errors/grid", lambda v: v + 0.1,
     "/report/runs/nuisance/sigma/evidence/errors/total = "),
    ("compare-sigma-mond-nfw.json", "/report/runs/nuisance/sigma/elpd_logo_se", lambda v: -v,
     "/report/runs/nuisance/sigma/elpd_logo_se: "),
    ("calibrate-sigma-mond.json", "/report/by_truth/mond/samples/4/ln_B", lambda v: v + 3,
     "/report/by_truth/mond/summary/mean = "),
    ("population-mond-a0-floor.json", "/report/models/gaussian/log_evidence", lambda v: v + 2,
     "/report/questions/0/ln_b = "),
    ("population-mond-a0-floor.json", "/report/ranking/1/delta_error", lambda v: v + 0.1,
     "/report/ranking/1/delta_error = "),
    ("error-models-population-table.json", "/report/rows/1/models/universal/log_evidence", lambda v: v + 1,
     "/report/preferred/0/ranking/"),
    ("sweep-nuisance.json", "/report/posterior/axes/A0/mean", lambda v: v * 1.001,
     "/report/posterior/axes/A0/mean = "),
    ("sweep-nuisance.json", "/report/posterior/marginals/one/k/20", lambda v: v * 1.5,
     "/report/posterior/marginals/one/k = "),
    ("joint-sigma-sparc-clash.json", "/report/tension/0/ln_i", lambda v: v + 0.5, "/report/tension/0/ln_s = "),
    ("ablation.json", "/report/runs/catalogue/pairs/sigma_xi_vs_nfw/wins_strict", lambda v: v + 1,
     "/report/runs/catalogue/pairs/sigma_xi_vs_nfw/losses_strict = "),
    ("ablation.json", "/report/runs/catalogue/pairs/sigma_xi_vs_nfw/binomial/ci/1", lambda v: v + 0.01,
     "/report/runs/catalogue/pairs/sigma_xi_vs_nfw/binomial/ci/1 = "),
    ("sparc.json", "/report/0/sigma/mean_rms", lambda v: v + 0.01, "/report/0/figures/"),
    ("sparc.json", "/report/0/sigma/rar_scatter_velocity", lambda v: v * 1.01, "/report/0/sigma/rar_scatter_accel = "),
    ("compare-2026-11-27.json", "/result/pairs/0/in process/models/mond/log_evidence", lambda v: v + 1,
     "/result/pairs/0/in process/models/sigma/ln_B_vs_mond = "),
    ("sweep-mond-sigma-int.json", "/report/posterior/axes/a0/ci68", lambda v: [v[0], v[0] / 2],
     "/report/posterior/axes/a0/ci68: "),
    ("kernels.json", "/report/3/mean_rms", lambda v: math.nan, "/report/3/mean_rms: nan"),
]


@pytest.mark.parametrize("name, pointer, change, named", EDITS, ids=[f"{e[0]}#{e[1]}" for e in EDITS])
def test_each_identity_catches_an_edit_of_the_numbers_it_ties(name: str, pointer: str, change: Callable[[Any], Any],
                                                              named: str):
    found = _edit(name, pointer, change)
    assert any(p.startswith(named) for p in found), "\n".join(found) or "nothing found"


def test_the_identities_allow_the_rounding_of_the_sums_that_made_the_numbers():
    """A total moved by 1e-12 of its terms' scale (a sum taken in another order) holds; one moved by 1e-7 does not."""
    pointer = "/report/logo/nuisance/models/sigma/elpd"
    assert not _edit("compare-sigma-mond-nfw.json", pointer, lambda v: v * (1 + 1e-12))
    assert _edit("compare-sigma-mond-nfw.json", pointer, lambda v: v * (1 + 1e-7))


def test_a_binomial_interval_is_the_clopper_pearson_one():
    """5 of 10 at 95 %: [0.187086, 0.812914] (Clopper & Pearson 1934, as tabulated); 0 of 10: [0, 0.308497]."""
    from sigcube.stats.verdicts import fraction

    for k, lo, hi in ((5, 0.187086, 0.812914), (0, 0.0, 0.308497)):
        stated = fraction(k, 10)
        assert stated["ci"] == pytest.approx([lo, hi], abs=1e-6)
        assert not consistency.problems({"p": stated})
        assert consistency.problems({"p": {**stated, "ci": [stated["ci"][0], stated["ci"][1] + 1e-6]}})
