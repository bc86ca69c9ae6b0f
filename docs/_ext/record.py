"""Remake the data the results and performance pages are generated from.

    python docs/_ext/record.py results [NAME ...]          # docs/results/<NAME>.json (default: every report)
    python docs/_ext/record.py bench NAME [-- ARGS ...]     # docs/performance/<NAME>-<date>.json
    python docs/_ext/record.py bench --label L NAME [-- ...]  # docs/performance/<NAME>-<L>-<date>.json (a 2nd mode)
    python docs/_ext/record.py check [NAME ...]             # remake reports and compare, write nothing
    python docs/_ext/record.py numbers [PAGE ...]           # check the numbers pages state (default: every page)
    python docs/_ext/record.py pointers NAME [WORD ...]     # the numbers of a committed report, with their pointers

Run from the repository root with the environment sigcube is installed in and ``SIGCUBE_DATA_DIR`` set to the data
mirror. Reports run with ``$SIGCUBE_CUBE_DIR`` (default ``cubes/``) as their cube folder, ingesting what is missing.
A benchmark record keeps the machine it ran on and the load average before and after; commit it as it is (the
performance page renders every file in docs/performance/).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sigcube_docs import numbers, records  # noqa: E402


def _label(text: str) -> str:
    """A benchmark record's label: lower-case letters, digits and '_', as it becomes part of a file name."""
    if not re.fullmatch(r"[a-z0-9_]+", text):
        raise argparse.ArgumentTypeError(f"{text!r}: a label is lower-case letters, digits and '_' (part of the "
                                         "record's file name)")
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    for name in ("results", "check"):
        p = sub.add_parser(name)
        p.add_argument("names", nargs="*", metavar="NAME", help=f"any of: {', '.join(records.RESULTS)}")
    pages = sub.add_parser("numbers")
    pages.add_argument("pages", nargs="*", metavar="PAGE", help="Markdown pages (default: every page of docs/)")
    find = sub.add_parser("pointers")
    find.add_argument("name", help=f"any of: {', '.join(records.RESULTS)}")
    find.add_argument("words", nargs="*", metavar="WORD", help="only pointers containing every WORD")
    bench = sub.add_parser("bench")
    bench.add_argument("name")
    bench.add_argument("--label", type=_label,
                       help="what this run measures, when the benchmark has several modes (its file name)")
    bench.add_argument("args", nargs=argparse.REMAINDER)
    args = parser.parse_args()

    if args.what == "bench":
        known = sorted(p.stem for p in (records.REPO / "bench").glob("*.py"))
        if args.name not in known:
            parser.error(f"unknown benchmark {args.name!r}; known: {', '.join(known)}")
        extra = args.args[1:] if args.args[:1] == ["--"] else args.args
        record = records.run_bench(args.name, extra, args.label)
        path = records.PERFORMANCE_DIR / records.bench_file(record)
        records.save(record, path)
        print(f"wrote {path.relative_to(records.REPO)} ({record['seconds']} s, load "
              f"{record['load_average_before'][0]} → {record['load_average_after'][0]})")
        return

    if args.what == "numbers":
        paths = [Path(p) for p in args.pages] or sorted(p for p in records.DOCS.rglob("*.md")
                                                        if not p.relative_to(records.DOCS).parts[0].startswith("_"))
        found = [f"{path}: {problem}" for path in paths
                 for problem in numbers.problems(path.read_text(encoding="utf-8"), records.load)]
        print("\n".join(found) or f"every number of {len(paths)} page(s) is the committed one")
        sys.exit(1 if found else 0)
    if args.what == "pointers":
        record = records.load(args.name)
        if record is None:
            parser.error(f"docs/results/{args.name}.json is not committed")
        for pointer, value in numbers.pointers(record):
            if all(word in pointer for word in args.words):
                print(f"{value!r:>24}  <!-- {args.name}.json#{pointer} -->")
        return

    cube_dir = Path(os.environ.get("SIGCUBE_CUBE_DIR", records.REPO / "cubes")).resolve()
    failed = False
    unknown = sorted(set(args.names) - set(records.RESULTS))
    if unknown:
        parser.error(f"unknown report {', '.join(unknown)}; known: {', '.join(records.RESULTS)}")
    for name in args.names or list(records.RESULTS):
        result = records.RESULTS[name]
        record = records.run(result, cube_dir)
        if args.what == "results":
            records.save(record, result.path)
            print(f"wrote {result.path.relative_to(records.REPO)} ({record['seconds']} s)")
        else:
            committed = records.load(name)
            diff = ["not committed"] if committed is None else records.differences(committed["report"], record["report"],
                                                                                 tolerance=result.tolerance)
            failed |= bool(diff)
            print(f"{name}: " + ("same as committed" if not diff else "differs\n  " + "\n  ".join(diff)))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
