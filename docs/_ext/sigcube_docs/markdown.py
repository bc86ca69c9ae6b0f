"""Small helpers that write Markdown (MyST) safely: escaped text, inline code, tables, numbers."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

_PUNCTUATION = re.compile(r"([\\`*_{}\[\]<>#+!|~$&])")
_ROLE = r"(?<![\w:])(?::[a-z]+)?:[a-z]+:"
_CODE_SPAN = re.compile(rf"(?:{_ROLE})?`([^`]+)`")
"""A span in single backticks, with the reStructuredText role that a sentence written like a docstring may put before
it (``:func:`name```, ``:py:data:`NAME```)."""
ROLE = re.compile(rf"{_ROLE}(?=`)")
"""A reStructuredText role before a span in single backticks (``:func:`` of ``:func:`name```)."""


def text(value: Any) -> str:
    """``value`` (plain text, such as a report's sentence) as Markdown, escaped once: a span in single backticks
    becomes inline code (a role before it, ``:func:``, is dropped), every other character Markdown could read as markup
    is escaped, newlines become spaces (a table cell or a list item stays on one line). Never pass it Markdown (the
    output of this module's functions): MyST would show the escapes."""
    parts = _CODE_SPAN.split(" ".join(str(value).split()))
    return "".join(code(part) if k % 2 else _PUNCTUATION.sub(r"\\\1", part) for k, part in enumerate(parts))


def code(value: Any) -> str:
    """``value`` as an inline code span (a fence longer than any run of backticks inside it)."""
    body = " ".join(str(value).split())
    fence = "`" * (max((len(run) for run in re.findall(r"`+", body)), default=0) + 1)
    pad = " " if body.startswith("`") or body.endswith("`") else ""
    return f"{fence}{pad}{body}{pad}{fence}"


def bullets(sentences: Iterable[Any]) -> str:
    """A list of plain-text sentences (each escaped by :func:`text`), ending in a blank line."""
    return items(text(s) for s in sentences)


def items(lines: Iterable[str]) -> str:
    """A list of lines that are Markdown already (built with :func:`text`, :func:`code`, …), ending in a blank
    line."""
    return "".join(f"- {line}\n" for line in lines) + "\n"


_UNBROKEN = {" ± ": "\u00a0±\u00a0", " – ": "\u00a0–\u2060\u00a0"}
"""A value with its error (``1.2 ± 0.3``) or a range (``0.8 – 0.9``) is one word in a table cell: no-break spaces,
and a word joiner after the dash (a line may break after a dash even before a no-break space)."""


def table(header: Sequence[str], rows: Iterable[Sequence[Any]], align: str | None = None) -> str:
    """A GitHub-style table; cells, the header's included, are taken as Markdown already (escape them with
    :func:`text`), ``|`` in a cell is escaped (a header's ``|r| > 3`` would end the row), and a value ± its error or
    a range ``lo – hi`` in the body is held on one line, so a narrow column wraps between values, never inside one.
    ``align``: one letter per column, ``l``/``r``/``c``."""
    def escaped(value: Any) -> str:
        return "" if value is None else str(value).replace("\n", " ").replace("|", r"\|").replace(r"\\|", r"\|")

    def cell(value: Any) -> str:
        body = escaped(value)
        for spaced, unbroken in _UNBROKEN.items():
            body = body.replace(spaced, unbroken)
        return body

    marks = {"l": ":--", "r": "--:", "c": ":-:"}
    rule = [marks[a] for a in align] if align else ["---"] * len(header)
    lines = ["| " + " | ".join(escaped(h) for h in header) + " |", "| " + " | ".join(rule) + " |"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def number(value: Any, digits: int = 4) -> str:
    """A number the way the reports print it: ``digits`` significant digits, scientific below 1e-3 or above 1e6,
    ``—`` for None/NaN."""
    if value is None or isinstance(value, str):
        return "—" if value in (None, "") else str(value)
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, int):
        return f"{value:,}"
    if not math.isfinite(value):
        return "—"
    if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e6):
        mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
        return f"{mantissa}×10{_superscript(int(exponent))}"
    return f"{value:.{max(digits - 1 - int(math.floor(math.log10(abs(value)))), 0) if value else digits - 1}f}"


def fixed(value: Any, decimals: int) -> str:
    """``value`` with ``decimals`` decimals (``—`` for None/NaN)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return f"{value:.{decimals}f}"


def percent(fraction: Any, decimals: int = 1) -> str:
    """A fraction as a percentage (``0.4795`` → ``47.95 %`` with 2 decimals)."""
    if fraction is None or (isinstance(fraction, float) and not math.isfinite(fraction)):
        return "—"
    return f"{100 * fraction:.{decimals}f} %"


def mark(ok: bool | None) -> str:
    """✓ / ✗, or nothing where no verdict applies."""
    return "" if ok is None else ("✓" if ok else "✗")


_SUPER = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _superscript(n: int) -> str:
    return str(n).translate(_SUPER)


def details(summary: str, body: str) -> str:
    """A collapsed block (raw HTML ``<details>``) holding ``body`` as preformatted text, HTML-escaped."""
    import html

    return (f"<details><summary>{html.escape(summary)}</summary>\n<pre class=\"sigcube-terminal\">"
            f"{html.escape(body.rstrip())}</pre></details>\n")
