"""The manifests of the committed records: what each file's exact bytes hash to and what made it.

Each folder of records (``docs/results/``, ``docs/performance/``) keeps a ``MANIFEST.toml`` beside them, one table
per record file::

    ["ablation.json"]
    sha256 = "9f2c…"                                        # of the file's exact bytes
    command = "python docs/_ext/record.py results ablation"  # what wrote it
    commit = "a0b627c"                                       # the commit it was made from (the record's own "commit")
    tree = "clean"                                           # or "dirty": sigcube's sources differed from that commit

``docs/_ext/record.py`` writes a record and its entry together (:func:`save`) and nothing else writes either;
``record.py manifest`` rewrites the entries of records already there (:func:`rewrite`). A record's commit and tree are
read from the record (:func:`provenance`), so the manifest states nothing the record does not: it makes them checkable
apart from the record, whose every byte the hash covers. ``tests/project/test_records.py`` (default tier) requires
:func:`problems` to find nothing: a number edited by hand anywhere in a record fails it, marked by a page or not.
"""

from __future__ import annotations

import hashlib
import json
import shlex
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sigcube_docs import records

NAME = "MANIFEST.toml"
"""The manifest's file name in each folder of records."""
FOLDERS = (records.RESULTS_DIR, records.PERFORMANCE_DIR)
"""The folders of committed records, each with its manifest."""


def record_files(folder: Path) -> list[Path]:
    """The records of ``folder``: every ``*.json`` in it."""
    return sorted(folder.glob("*.json"))


def sha256(path: Path) -> str:
    """The sha256 of the file's exact bytes (hex)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def provenance(record: Mapping[str, Any]) -> tuple[str, str]:
    """The commit a record was made from and whether the tree was ``clean``, ``dirty`` (its sources differed from the
    commit) or ``unknown`` (no git), from the record's own ``commit``."""
    commit = str(record.get("commit", "unknown"))
    if commit == "unknown":
        return commit, "unknown"
    return commit.removesuffix(records.CHANGES), "dirty" if commit.endswith(records.CHANGES) else "clean"


def command(record: Mapping[str, Any]) -> str:
    """The ``record.py`` command line that makes ``record`` (a report record, or a benchmark record with its
    ``bench/NAME.py --json ARGS``)."""
    if "benchmark" not in record:
        return f"python docs/_ext/record.py results {record['name']}"
    args = shlex.split(record["command"])[3:]
    return shlex.join(["python", "docs/_ext/record.py", "bench", *(["--label", record["label"]] if "label" in record
                                                                  else []), record["benchmark"],
                       *(["--", *args] if args else [])])


def entry(path: Path) -> dict[str, str]:
    """The manifest entry of the record at ``path``: its hash, the command that makes it, its commit and tree."""
    record = json.loads(path.read_text(encoding="utf-8"))
    commit, tree = provenance(record)
    return {"sha256": sha256(path), "command": command(record), "commit": commit, "tree": tree}


def read(folder: Path) -> dict[str, dict[str, str]]:
    """The manifest of ``folder`` by record file name (empty when there is none)."""
    path = folder / NAME
    return tomllib.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _string(text: str) -> str:
    """``text`` as a TOML basic string (quotes, backslashes and control characters escaped)."""
    return '"' + "".join(f"\\u{ord(ch):04x}" if ch in '"\\' or ch < " " or ch == "\x7f" else ch for ch in text) + '"'


def write(folder: Path, entries: Mapping[str, Mapping[str, str]]) -> None:
    """``entries`` as the manifest of ``folder``, by file name, in file-name order."""
    lines = [f"# The sha256 of each record in {folder.parent.name}/{folder.name}/ and what made it. Written by "
             "docs/_ext/record.py alone;", "# checked by tests/project/test_records.py. See docs/development.md."]
    for name in sorted(entries):
        lines += ["", f"[{_string(name)}]", *(f"{key} = {_string(value)}" for key, value in entries[name].items())]
    (folder / NAME).write_text("\n".join(lines) + "\n", encoding="utf-8")


def save(record: Mapping[str, Any], path: Path) -> None:
    """Write ``record`` to ``path`` and its entry to the folder's manifest."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    entries = read(path.parent)
    entries[path.name] = entry(path)
    write(path.parent, entries)


def rewrite(folder: Path, names: Iterable[str] | None = None) -> list[str]:
    """Rewrite the entries of the records ``names`` of ``folder`` (default: every record, and no entry without one)
    from the files as they are; what changed, one line each."""
    entries = read(folder)
    files = {p.name: p for p in record_files(folder)}
    changed = []
    for name in sorted(set(entries) - set(files)) if names is None else ():
        del entries[name]
        changed.append(f"{name}: entry removed (no such record)")
    for name in sorted(files) if names is None else names:
        new = entry(files[name])
        if entries.get(name) != new:
            changed.append(f"{name}: " + ("entry added" if name not in entries else "entry rewritten (" + ", ".join(
                key for key in new if entries[name].get(key) != new[key]) + ")"))
            entries[name] = new
    write(folder, entries)
    return changed


def problems(folder: Path) -> list[str]:
    """Every way the records of ``folder`` and its manifest disagree: a record without an entry or an entry without a
    record, a file whose bytes are not those hashed, provenance that is not the record's."""
    entries = read(folder)
    files = {p.name: p for p in record_files(folder)}
    where = f"{folder.parent.name}/{folder.name}"
    out = [f"{where}/{name}: not in its {NAME} (a record is written by docs/_ext/record.py, which adds it)"
           for name in sorted(set(files) - set(entries))]
    out += [f"{where}/{NAME}: an entry for {name}, which is not there" for name in sorted(set(entries) - set(files))]
    for name in sorted(set(files) & set(entries)):
        stated, actual = entries[name], entry(files[name])
        if stated.get("sha256") != actual["sha256"]:
            out.append(f"{where}/{name}: its bytes are not those record.py wrote (sha256 {actual['sha256'][:12]}…, "
                       f"the manifest's {str(stated.get('sha256'))[:12]}…): remake it with {actual['command']}")
        elif stated != actual:
            out.append(f"{where}/{name}: the manifest states {stated}, the record {actual}")
    return out
