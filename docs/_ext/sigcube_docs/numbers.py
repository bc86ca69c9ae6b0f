"""Numbers written into a page's prose, each tied to the committed report it comes from.

A study page states its headline numbers in its Markdown source, so that they read without a build; each is followed
by a marker, an HTML comment (invisible on the rendered page and on GitHub) naming the committed report and a JSON
Pointer (RFC 6901) into it, and optionally a factor::

    Σ-Gravity's mean RMS is 17.50<!-- sparc.json#/report/0/sigma/mean_rms --> km/s, its win rate
    47.95<!-- sparc.json#/report/0/sigma/win_rate ×100 --> %.

The number directly before the marker (``**bold**`` allowed) must equal the value, times the factor, rounded to the
decimals it is written with (a leading ``+``, the minus sign ``−`` and thousands commas are read as such); a value
that is a string (a figure as a seed prints it, ``"47.4%"``) must begin with the number, digit for digit.
:func:`problems` lists every marker that does not hold; the build warns about each (``make docs`` fails) and
``tests/project/test_docs.py`` checks every page without a build.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

MARKER = re.compile(r"<!--\s*([\w.-]+\.json)#(/\S*)\s*(?:×\s*(\S+)\s*)?-->")
"""``<!-- NAME.json#/json/pointer -->`` or ``<!-- NAME.json#/json/pointer ×FACTOR -->``."""
NUMBER = re.compile(r"[+\-−]?\d[\d,]*(?:\.\d+)?")
"""A written number: a sign, digits with thousands commas, decimals."""
WRITTEN = re.compile(rf"({NUMBER.pattern})[*_]*$")
"""The number a marker follows (closing emphasis allowed between them)."""


@dataclass(frozen=True)
class Marker:
    """One number of a page and where it comes from."""

    line: int
    written: str
    report: str
    pointer: str
    factor: float


def markers(text: str) -> Iterator[Marker | str]:
    """Each marker of ``text`` in order, or a sentence saying why it cannot be read."""
    for match in MARKER.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        before = WRITTEN.search(text[max(match.start() - 40, 0):match.start()])
        if before is None:
            yield f"line {line}: {match.group(0)} follows no number (write the number directly before it)"
            continue
        try:
            factor = float(match.group(3)) if match.group(3) else 1.0
        except ValueError:
            yield f"line {line}: {match.group(0)}: the factor {match.group(3)!r} is not a number"
            continue
        yield Marker(line, before.group(1), match.group(1).removesuffix(".json"), match.group(2), factor)


def unmarked(text: str) -> str:
    """``text`` without its marked numbers (each number with its marker removed): what is left is typed by hand."""
    return re.sub(rf"{NUMBER.pattern}[*_]*{MARKER.pattern}", "", text)


def resolve(document: Any, pointer: str) -> Any:
    """The value a JSON Pointer (RFC 6901: ``/``-separated keys or list indices, ``~1`` for ``/``, ``~0`` for ``~``)
    names in ``document``; KeyError naming the first step that does not exist."""
    value = document
    for step in pointer.split("/")[1:]:
        key = step.replace("~1", "/").replace("~0", "~")
        if isinstance(value, list):
            if not key.isdigit() or int(key) >= len(value):
                raise KeyError(f"no item {key!r} in a list of {len(value)}")
            value = value[int(key)]
        elif isinstance(value, Mapping):
            if key not in value:
                raise KeyError(f"no key {key!r} (keys: {', '.join(list(value)[:12])})")
            value = value[key]
        else:
            raise KeyError(f"{key!r} below a {type(value).__name__}")
    return value


def _as_written(value: float, written: str) -> str:
    """``value`` rounded to the decimals of ``written``, in plain digits."""
    decimals = len(written.split(".", 1)[1]) if "." in written else 0
    return f"{value:.{decimals}f}"


def problems(text: str, load: Callable[[str], Mapping[str, Any] | None]) -> list[str]:
    """Every marker of ``text`` that does not hold: its report not committed, its pointer naming nothing or no number,
    or the number before it not the value rounded as written. ``load(name)`` reads a committed report."""
    found, loaded = [], {}
    for marker in markers(text):
        if isinstance(marker, str):
            found.append(marker)
            continue
        where = f"line {marker.line}: {marker.written} from {marker.report}.json#{marker.pointer}"
        if marker.report not in loaded:
            loaded[marker.report] = load(marker.report)
        record = loaded[marker.report]
        if record is None:
            found.append(f"{where}: docs/results/{marker.report}.json is not committed")
            continue
        try:
            value = resolve(record, marker.pointer)
        except KeyError as error:
            found.append(f"{where}: the pointer names nothing ({error.args[0]})")
            continue
        written = _plain(marker.written)
        if isinstance(value, str):  # a figure as a seed prints it ("47.4%"): its number, digit for digit
            printed = NUMBER.match(value.strip())
            if printed is None or _plain(printed.group(0)) != written:
                found.append(f"{where}: the report prints {value!r}; update the page")
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            found.append(f"{where}: the pointer names {value!r}, not a finite number")
            continue
        expected = _as_written(value * marker.factor, written)
        if float(written) != float(expected):
            found.append(f"{where}: the report says {expected} (×{marker.factor:g} of {value!r}); update the page")
    return found


def _plain(number: str) -> str:
    """A written number in Python's digits: ASCII minus, no thousands commas, no leading ``+``."""
    return number.replace("−", "-").replace(",", "").lstrip("+")


def pointers(document: Any, prefix: str = "") -> Iterator[tuple[str, float]]:
    """Every number of ``document`` with its JSON Pointer (to find the one a page states)."""
    if isinstance(document, Mapping):
        for key, value in document.items():
            yield from pointers(value, f"{prefix}/{str(key).replace('~', '~0').replace('/', '~1')}")
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from pointers(value, f"{prefix}/{index}")
    elif isinstance(document, (int, float)) and not isinstance(document, bool):
        yield prefix, document
