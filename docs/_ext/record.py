"""Remake the data the results and performance pages are generated from.

    python docs/_ext/record.py results [NAME ...]          # docs/results/<NAME>.json (default: every report)
    python docs/_ext/record.py bench NAME [-- ARGS ...]     # docs/performance/<NAME>-<date>.json
    python docs/_ext/record.py bench --label L NAME [-- ...]  # docs/performance/<NAME>-<L>-<date>.json (a 2nd mode)
    python docs/_ext/record.py check [NAME ...]             # remake reports and compare, write nothing
    python docs/_ext/record.py numbers [PAGE ...]           # check the numbers pages state (default: every page)
    python docs/_ext/record.py pointers NAME [WORD ...]     # the numbers of a committed report, with their pointers
    python docs/_ext/record.py manifest [FILE ...]          # rewrite the manifest entries of records already there
    python docs/_ext/record.py manifest --check             # check every record against its manifest and itself

Run from the repository root with the environment sigcube is installed in and ``SIGCUBE_DATA_DIR`` set to the data
mirror. Reports run with ``$SIGCUBE_CUBE_DIR`` (default ``cubes/``) as their cube folder, ingesting what is missing.
A benchmark record keeps the machine it ran on and the load average before and after; commit it as it is (the
performance page renders every file in docs/performance/).

``results`` and ``bench`` write each record with its entry in its folder's ``MANIFEST.toml`` (its sha256, this
command, the commit it was made from and whether the tree was clean), and refuse to start while a tracked file under
sigcube/, bench/, sweeps/ or docs/results/specs/ has uncommitted changes: ``--draft`` makes one anyway, marked dirty.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sigcube_docs import consistency, manifest, numbers, records  # noqa: E402


def _label(text: str) -> str:
    """A benchmark record's label: lower-case letters, digits and '_', as it becomes part of a file name."""
    if not re.fullmatch(r"[a-z0-9_]+", text):
        raise argparse.ArgumentTypeError(f"{text!r}: a label is lower-case letters, digits and '_' (part of the "
                                         "record's file name)")
    return text


DRAFT = ("make the record even though a tracked file under sigcube/, bench/, sweeps/ or docs/results/specs/ has "
         "uncommitted changes (its commit gets +changes; its manifest entry says dirty)")
"""What ``--draft`` does."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    for name in ("results", "check"):
        p = sub.add_parser(name)
        p.add_argument("names", nargs="*", metavar="NAME", help=f"any of: {', '.join(records.RESULTS)}")
        if name == "results":
            p.add_argument("--draft", action="store_true", help=DRAFT)
    pages = sub.add_parser("numbers")
    pages.add_argument("pages", nargs="*", metavar="PAGE", help="Markdown pages (default: every page of docs/)")
    find = sub.add_parser("pointers")
    find.add_argument("name", help=f"any of: {', '.join(records.RESULTS)}")
    find.add_argument("words", nargs="*", metavar="WORD", help="only pointers containing every WORD")
    bench = sub.add_parser("bench")
    bench.add_argument("name")
    bench.add_argument("--label", type=_label,
                       help="what this run measures, when the benchmark has several modes (its file name)")
    bench.add_argument("--draft", action="store_true", help=DRAFT)
    bench.add_argument("args", nargs=argparse.REMAINDER)
    kept = sub.add_parser("manifest", help="rewrite the manifest entries of the records as they are (a record is "
                                           "written with its entry: this is for a manifest that missed one)")
    kept.add_argument("files", nargs="*", metavar="FILE", help="record files (default: every record of "
                                                               "docs/results/ and docs/performance/)")
    kept.add_argument("--check", action="store_true", help="write nothing: list every record that differs from its "
                                                           "manifest entry or breaks an identity of its own numbers")
    args = parser.parse_args()

    try:
        if args.what == "manifest":
            sys.exit(_manifest(parser, args.files, args.check))
        if args.what == "bench":
            _bench(parser, args)
            return
        if args.what == "numbers":
            sys.exit(_numbers(args.pages))
        if args.what == "pointers":
            _pointers(parser, args.name, args.words)
            return
        sys.exit(_results(parser, args))
    except records.RecordError as problem:
        parser.error(str(problem))


def _manifest(parser: argparse.ArgumentParser, files: list[str], check: bool) -> int:
    """``record.py manifest``: rewrite the named records' entries (default: every record's), or with ``check`` list
    every record that differs from its entry or breaks an identity; the exit status."""
    if check:
        found = [p for folder in manifest.FOLDERS for p in manifest.problems(folder)] + [
            f"{path.relative_to(records.REPO)}: {p}" for folder in manifest.FOLDERS
            for path in manifest.record_files(folder) for p in consistency.problems(json.loads(path.read_text(
                encoding="utf-8")))]
        print("\n".join(found) or "every record is the one its manifest hashes, and consistent")
        return 1 if found else 0
    paths = [Path(f).resolve() for f in files]
    for path in paths:
        if path.parent not in manifest.FOLDERS or path.suffix != ".json" or not path.is_file():
            parser.error(f"{path}: not a record of docs/results/ or docs/performance/")
    for folder in manifest.FOLDERS:
        mine = [p.name for p in paths if p.parent == folder]
        if mine or not paths:
            for line in manifest.rewrite(folder, mine or None):
                print(f"{folder.relative_to(records.REPO)}/{line}")
    return 0


def _bench(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """``record.py bench``: one benchmark run, written with its manifest entry."""
    known = sorted(p.stem for p in (records.REPO / "bench").glob("*.py"))
    if args.name not in known:
        parser.error(f"unknown benchmark {args.name!r}; known: {', '.join(known)}")
    extra = args.args[1:] if args.args[:1] == ["--"] else args.args
    commit = records.source_commit(args.draft)
    record = records.run_bench(args.name, extra, args.label, commit)
    records.check_unchanged(commit)
    path = records.PERFORMANCE_DIR / records.bench_file(record)
    manifest.save(record, path)
    print(f"wrote {path.relative_to(records.REPO)} ({record['seconds']} s, load "
          f"{record['load_average_before'][0]} → {record['load_average_after'][0]})")


def _numbers(pages: list[str]) -> int:
    """``record.py numbers``: every marked number of the pages that is not its committed report's; the exit status."""
    paths = [Path(p) for p in pages] or sorted(p for p in records.DOCS.rglob("*.md")
                                               if not p.relative_to(records.DOCS).parts[0].startswith("_"))
    found = [f"{path}: {problem}" for path in paths
             for problem in numbers.problems(path.read_text(encoding="utf-8"), records.load)]
    print("\n".join(found) or f"every number of {len(paths)} page(s) is the committed one")
    return 1 if found else 0


def _pointers(parser: argparse.ArgumentParser, name: str, words: list[str]) -> None:
    """``record.py pointers``: the numbers of a committed report whose pointers hold every word, with their markers."""
    record = records.load(name)
    if record is None:
        parser.error(f"docs/results/{name}.json is not committed")
    for pointer, value in numbers.pointers(record):
        if all(word in pointer for word in words):
            print(f"{value!r:>24}  <!-- {name}.json#{pointer} -->")


def _results(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """``record.py results`` (each record written with its manifest entry) or ``check`` (each compared with the
    committed one); the exit status."""
    cube_dir = Path(os.environ.get("SIGCUBE_CUBE_DIR", records.REPO / "cubes")).resolve()
    failed = False
    unknown = sorted(set(args.names) - set(records.RESULTS))
    if unknown:
        parser.error(f"unknown report {', '.join(unknown)}; known: {', '.join(records.RESULTS)}")
    commit = records.source_commit(args.draft) if args.what == "results" else None
    for name in args.names or list(records.RESULTS):
        result = records.RESULTS[name]
        record = records.run(result, cube_dir, commit=commit)
        if args.what == "results":
            records.check_unchanged(record["commit"])
            manifest.save(record, result.path)
            print(f"wrote {result.path.relative_to(records.REPO)} ({record['seconds']} s)")
        else:
            committed = records.load(name)
            diff = ["not committed"] if committed is None else records.differences(committed["report"], record["report"],
                                                                                 tolerance=result.tolerance)
            failed |= bool(diff)
            print(f"{name}: " + ("same as committed" if not diff else "differs\n  " + "\n  ".join(diff)))
    return 1 if failed else 0


if __name__ == "__main__":
    main()
