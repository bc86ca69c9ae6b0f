"""Fuzzing the figures: the project's own report records, edited at random, through ``sigcube plot``.

Each figure of the registry that reads a report (or benchmark records) is paired with the smallest committed record
of the kind it reads (``docs/results/*.json``, ``docs/performance/*.json``; the kind from the figure's ``reads``
and the record's command) on which it draws. Drawing it once with every JSON object and list wrapped in a recorder
gives the fields the figure reads; each example edits one of them — deletes it, sets it to null, text, a list, an
object, a negative, NaN, an infinity, 1e308 or zero, drops or damages an element of an array, truncates an array,
swaps it with another field the figure reads — and draws the edited record with ``sigcube plot``. The figure must
draw it (exit 0, the file written) or refuse it (exit 2, nothing written) in exactly one line on stderr: never a
traceback nor a bug's line. The default run is derandomized with a budget of 100 edits and writes HTML (the cheapest
backend); ``-m slow`` draws more than 200 fresh edits as HTML and some as PNG (the static backend).
"""

from __future__ import annotations

import inspect
import json
import math
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sigcube.cli import app
from sigcube.errors import SigcubeError
from sigcube.interfaces.plots.registry import figures

ROOT = Path(__file__).resolve().parents[2]
RECORDS = sorted([*(ROOT / "docs" / "results").glob("*.json"), *(ROOT / "docs" / "performance").glob("*.json")],
                 key=lambda p: (p.stat().st_size, p.name))
"""The committed records, smallest first (a figure is fuzzed on the smallest it draws)."""
OPTIONS = {"per-galaxy-difference": ("model=sigma", "against=mond"),
           "fitted-curves": ("galaxies=NGC3198,DDO154", "models=sigma,mond")}
"""``--set`` options of the figures that need them (two named galaxies: the fitted curves of every galaxy, to pick
them, would take seconds an example)."""
CUBE_FIGURES = tuple(sorted(n for n, k in figures().items()
                            if k.source == "report" and "cube" in inspect.signature(k.function).parameters))
REPORT_FIGURES = tuple(sorted(n for n, k in figures().items() if k.source in ("report", "bench")
                              and n not in CUBE_FIGURES))
EXAMPLES = 5
"""Edits per figure in the default run: at least 100 over the figures (the slow tier's :data:`DEEP`, at least 200)."""
runner = CliRunner()


# --- which record each figure reads --------------------------------------------------------------------------------


def kinds_read(reads: str) -> tuple[str, ...]:
    """The ``sigcube report`` commands a figure's ``reads`` names (``sigcube report sparc / sensitivity / ablation
    --json``: sparc, sensitivity, ablation); none for benchmark records."""
    found = re.match(r"sigcube report ([\w-]+(?: / [\w-]+)*)", reads)
    return tuple(found.group(1).split(" / ")) if found else ()


def made_by(record: Any) -> str:
    """The report a committed record holds (its last command's, ``report compare`` → compare), ``bench`` for a
    benchmark record."""
    if isinstance(record, dict) and "benchmark" in record:
        return "bench"
    command = record["commands"][-1]
    return command[1] if command[0] == "report" else ""


class _Read(dict):
    """A JSON object that records the paths of the fields read from it."""

    def __init__(self, items: dict, path: tuple, seen: set) -> None:
        super().__init__({k: _track(v, (*path, k), seen) for k, v in items.items()})
        self._path, self._seen = path, seen

    def _mark(self, key: Any) -> None:
        if dict.__contains__(self, key):
            self._seen.add((*self._path, key))

    def __getitem__(self, key: Any) -> Any:
        self._mark(key)
        return super().__getitem__(key)

    def get(self, key: Any, default: Any = None) -> Any:
        self._mark(key)
        return super().get(key, default)

    def _all(self) -> None:
        for key in dict.keys(self):
            self._mark(key)

    def items(self):  # type: ignore[override]
        self._all()
        return super().items()

    def values(self):  # type: ignore[override]
        self._all()
        return super().values()

    def keys(self):  # type: ignore[override]
        self._all()
        return super().keys()

    def __iter__(self) -> Iterator[Any]:
        self._all()
        return super().__iter__()


class _ReadList(list):
    """A JSON array that records the paths of the elements read from it."""

    def __init__(self, items: list, path: tuple, seen: set) -> None:
        super().__init__(_track(v, (*path, i), seen) for i, v in enumerate(items))
        self._path, self._seen = path, seen

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, int) and -len(self) <= index < len(self):
            self._seen.add((*self._path, index % len(self)))
        return super().__getitem__(index)

    def __iter__(self) -> Iterator[Any]:
        self._seen.update((*self._path, i) for i in range(len(self)))
        return super().__iter__()


def _track(value: Any, path: tuple, seen: set) -> Any:
    """``value`` (JSON at ``path``) with its objects and lists recording into ``seen`` the paths read."""
    if isinstance(value, dict):
        return _Read(value, path, seen)
    if isinstance(value, list):
        return _ReadList(value, path, seen)
    return value


@dataclass(frozen=True)
class Case:
    """A figure and the committed record it is fuzzed on: the record's text, and the paths (in the record) of every
    field the figure reads, grouped by their shape (:func:`shape_of`): an edit picks a shape first, so that a field
    is as likely to be edited as an array of a thousand."""

    figure: str
    record: Path
    text: str
    fields: dict[tuple, tuple[tuple, ...]]


def _draw(name: str, record: Any, cube: Any) -> None:
    """Draw figure ``name`` of ``record`` in this process, with its options (as ``sigcube plot`` would)."""
    from sigcube.interfaces.plots.options import figure_options, given_options

    kind = figures()[name]
    taken = ("records",) if kind.source == "bench" else (next(iter(inspect.signature(kind.function).parameters)),)
    taken += ("cube",) if cube is not None else ()
    options = given_options(list(OPTIONS.get(name, ())), figure_options(kind.function, taken), name)
    kind.function(record, *([cube] if cube is not None else []), **options)


TABLE = 12
"""An object of more entries than this, all of one kind, is a table keyed by names (galaxies, dwarfs, clusters): its
names are one shape, as an array's indices are."""


def _kind(value: Any) -> Any:
    return (type(value).__name__, tuple(sorted(value)) if isinstance(value, dict) else ())


def shape_of(record: Any, path: tuple) -> tuple:
    """``path`` with each index of an array, and each name of a table (:data:`TABLE`), as ``*``."""
    shape, here = [], record
    for key in path:
        table = isinstance(here, dict) and len(here) > TABLE and len({_kind(v) for v in here.values()}) == 1
        shape.append("*" if isinstance(key, int) or table else key)
        here = here[key]
    return tuple(shape)


@cache
def case(name: str, cube_path: str | None = None) -> Case:
    """The fuzzed record of figure ``name``: the smallest committed record of a kind it reads that it draws."""
    from sigcube import open as open_store

    kind = figures()[name]
    wanted = ("bench",) if kind.source == "bench" else kinds_read(kind.reads)
    cube = open_store(cube_path) if cube_path else None
    for path in RECORDS:
        text = path.read_text(encoding="utf-8")
        record = json.loads(text)
        if made_by(record) not in wanted:
            continue
        seen: set = set()
        tracked = _track(record, (), seen)
        try:
            _draw(name, [tracked] if kind.source == "bench" else tracked, cube)
        except SigcubeError:
            continue
        fields: dict[tuple, list[tuple]] = {}
        for p in sorted({p[:i] for p in seen for i in range(1, len(p) + 1)} - {("report",)},
                        key=lambda p: tuple(map(str, p))):
            fields.setdefault(shape_of(record, p), []).append(p)
        return Case(name, path, text, {shape: tuple(paths) for shape, paths in fields.items()})
    raise AssertionError(f"{name}: no committed record of {', '.join(wanted)} that it draws")


# --- the edits -----------------------------------------------------------------------------------------------------

BAD = {"null": None, "text": "x", "list": [1.0, 2.0], "object": {}, "nan": math.nan, "inf": math.inf,
       "-inf": -math.inf, "huge": 1e308, "zero": 0, "true": True}
"""A value put in place of a field (or of one element of an array)."""


def _at(data: Any, path: tuple) -> Any:
    """The value at ``path`` of ``data``."""
    for key in path:
        data = data[key]
    return data


def _negative(value: Any) -> Any:
    """``value`` made negative: a number's −|x| (−1 for 0), every number of a list, −1 in place of anything else."""
    if isinstance(value, bool) or not isinstance(value, (int, float, list)):
        return -1.0
    if isinstance(value, list):
        return [_negative(v) if isinstance(v, (int, float, list)) and not isinstance(v, bool) else v for v in value]
    return -abs(value) if value else -1.0


def field(c: Case) -> st.SearchStrategy[tuple]:
    """The path of a field the figure reads: a shape, then one field of that shape."""
    return st.sampled_from(sorted(c.fields, key=lambda s: tuple(map(str, s)))).flatmap(
        lambda shape: st.sampled_from(c.fields[shape]))


@st.composite
def edits(draw, c: Case) -> tuple[str, Any]:
    """One edit of the record: a description and the edited record."""
    record = json.loads(c.text)
    path = draw(field(c))
    parent, key = _at(record, path[:-1]), path[-1]
    value = parent[key]
    ops = ["delete", "negative", "swap", *BAD]
    if isinstance(value, (list, dict)) and value:
        ops += ["drop", "element", *(["truncate"] if isinstance(value, list) else [])]
    op = draw(st.sampled_from(ops))
    where = ".".join(map(str, path))
    if op == "delete":
        del parent[key]
    elif op == "negative":
        parent[key] = _negative(value)
    elif op == "swap":
        other = draw(field(c).filter(lambda p: p[:len(path)] != path and path[:len(p)] != p))
        other_parent = _at(record, other[:-1])
        parent[key], other_parent[other[-1]] = other_parent[other[-1]], value
        where += " ↔ " + ".".join(map(str, other))
    elif op in BAD:
        parent[key] = BAD[op]
    elif op == "truncate":
        end = draw(st.integers(0, len(value) - 1))
        del value[end:]
        where += f"[:{end}]"
    else:
        keys = list(range(len(value))) if isinstance(value, list) else list(value)
        chosen = draw(st.sampled_from(keys))
        where += f"[{chosen!r}]"
        if op == "drop":
            del value[chosen]
        else:
            bad = draw(st.sampled_from(["null", "text", "nan", "huge", "negative", "object"]))
            value[chosen] = _negative(value[chosen]) if bad == "negative" else BAD[bad]
            op += f" {bad}"
    return f"{op} {where}", record


# --- the property --------------------------------------------------------------------------------------------------


def check(c: Case, edit: tuple[str, Any], suffix: str = "html", cube: str | None = None) -> int:
    """``sigcube plot`` of the edited record: drawn (exit 0), or refused (exit 2) in one line; never a traceback.
    The exit status."""
    what, record = edit
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / c.record.name
        path.write_text(json.dumps(record), encoding="utf-8")
        options = [x for o in OPTIONS.get(c.figure, ()) for x in ("--set", o)]
        args = ["--debug", "plot", c.figure, str(path), *options, "--out", str(Path(folder) / f"x.{suffix}"),
                *(["--cube", cube] if cube else [])]
        result = runner.invoke(app, args)
        said = f"{c.figure} of {c.record.name}, {what}: exit {result.exit_code}\n{result.output}"
        assert "Traceback" not in result.output and "this is a bug" not in result.output, said
        assert result.exit_code in (0, 2), said
        if result.exit_code == 2:
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: "), said
            assert not (Path(folder) / f"x.{suffix}").exists(), said
        else:
            assert (Path(folder) / f"x.{suffix}").stat().st_size > 0, said
        return result.exit_code


FUZZ = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
DEEP = {"html": 20, "png": 5}
"""Edits per figure in the slow run, by format: fresh ones each run, many more as HTML, and some drawn by the static
backend (matplotlib: seconds a figure)."""


def test_the_budget_and_the_fields_read():
    """At least 100 edits in the default run and 200 in the slow one; the recorder finds what a figure reads (the ELPD
    ranking: each model's ELPD and its difference from the best, nothing of the per-galaxy table)."""
    assert EXAMPLES * (len(REPORT_FIGURES) + len(CUBE_FIGURES)) >= 100
    assert DEEP["html"] * (len(REPORT_FIGURES) + len(CUBE_FIGURES)) >= 200
    c = case("elpd")
    assert made_by(json.loads(c.text)) == "compare"
    assert {("report", "logo", "*", "models", "*", "elpd"), ("report", "logo", "*", "models", "*", "elpd_diff")} <= {
        tuple("*" if k not in ("report", "logo", "models", "elpd", "elpd_diff") else k for k in shape)
        for shape in c.fields}
    assert not any("per_galaxy" in shape for shape in c.fields)


@pytest.mark.parametrize("name", REPORT_FIGURES)
@FUZZ
@given(data=st.data())
def test_an_edited_report_is_drawn_or_refused_in_one_line(name, data):
    c = case(name)
    check(c, data.draw(edits(c), label="edit"))


@pytest.mark.parametrize("name", CUBE_FIGURES)
@FUZZ
@given(data=st.data())
def test_an_edited_report_of_a_cube_is_drawn_or_refused_in_one_line(name, data, sparc_store):
    c = case(name, str(sparc_store))
    check(c, data.draw(edits(c), label="edit"), cube=str(sparc_store))


def deep(name: str, suffix: str, cube: str | None = None) -> None:
    """:data:`DEEP` fresh edits of figure ``name``'s record, drawn as ``suffix``."""
    c = case(name, cube)

    @settings(max_examples=DEEP[suffix], deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(data=st.data())
    def edited(data):
        check(c, data.draw(edits(c), label="edit"), suffix=suffix, cube=cube)

    edited()


@pytest.mark.slow
@pytest.mark.parametrize("suffix", DEEP)
@pytest.mark.parametrize("name", REPORT_FIGURES)
def test_an_edited_report_deep(name, suffix):
    deep(name, suffix)


@pytest.mark.slow
@pytest.mark.parametrize("suffix", DEEP)
@pytest.mark.parametrize("name", CUBE_FIGURES)
def test_an_edited_report_of_a_cube_deep(name, suffix, sparc_store):
    deep(name, suffix, str(sparc_store))
