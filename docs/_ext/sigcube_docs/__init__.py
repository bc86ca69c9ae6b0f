"""A local Sphinx extension: the generated parts of the sigcube site, and two rules for a warning-free build.

- **Generated pages.** When a build starts, :func:`sigcube_docs.generate.write_all` writes the CLI reference (typer's
  generator on the ``sigcube`` app), the spec reference (the pydantic schema), the kernel, metric, bound, dataset and
  preset tables (the registries), the results pages (``docs/results/*.json``) and the performance page
  (``docs/performance/*.json``) as Markdown into ``docs/_generated/``; the pages include them.
- **References from the pages are checked.** A Python cross-reference written in a page (``{py:mod}`sigcube.x``` and
  the like) that resolves to nothing is a warning, so a page naming a module that moved fails ``make docs``.
  References inside an object's signature or docstring are left as plain text when they name something the API
  reference does not document (private helpers, third-party types such as ``xr.Dataset``, offline: no intersphinx):
  the docstrings belong to the code, the build does not police them.
- **holoviews' notebook comms are not outputs.** An executed notebook cell that draws a holoviews plot also emits
  ``application/vnd.holoviews_load.v0+json`` / ``…_exec.v0+json`` bundles: messages to a live Jupyter front end,
  meaningless in a static page (the plot itself is rendered from the HTML and JavaScript of the same output).
  MyST-NB warns that it cannot render them; :class:`HoloviewsComms` drops exactly those warnings, nothing else.
- **Numbers in a page's prose are the committed ones.** A number followed by a marker naming a committed report and
  a JSON Pointer into it (:mod:`sigcube_docs.numbers`) must equal the report's value as written; each that does not
  is a warning.
- **Docstrings are read as written.** sigcube's docstrings use ``|x|`` for absolute values; reStructuredText would
  read that as a substitution, so :func:`escape_bars` escapes a ``|`` outside literals and tables before autodoc
  parses the docstring.
"""

from __future__ import annotations

import logging as std_logging
import re
from typing import Any

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

API_PREFIX = "_autosummary/"
"""Where autosummary writes the API reference's module pages (their text comes from docstrings)."""


def _generate(app: Sphinx) -> None:
    from sigcube_docs import generate

    written = generate.write_all()
    if written:
        logger.info(f"sigcube_docs: generated {len(written)} file(s) in docs/_generated: {', '.join(written)}")


_LITERAL = re.compile(r"(``.+?``|`[^`]*`)")


def escape_bars(app: Sphinx, what: str, name: str, obj: Any, options: Any, lines: list[str]) -> None:
    """Escape ``|`` in a docstring's prose (not in literal blocks, inline literals, roles or table lines)."""
    literal_indent: int | None = None
    previous_opens_literal = False
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        indent = len(line) - len(stripped)
        if literal_indent is not None:
            if stripped and indent <= literal_indent:
                literal_indent = None
            else:
                continue
        if previous_opens_literal and stripped:
            literal_indent = indent - 1
            previous_opens_literal = False
            continue
        if stripped.startswith(("+-", "+=", ">>>")) or (stripped.startswith("|") and stripped.endswith("|")):
            continue  # a table row or border, a doctest
        parts = _LITERAL.split(line)
        lines[i] = "".join(p if k % 2 else p.replace("|", r"\|") for k, p in enumerate(parts))
        if stripped.endswith("::"):
            previous_opens_literal = True
            literal_indent = None


def _check_numbers(app: Sphinx, docname: str, source: list[str]) -> None:
    """Warn about every number of a page's prose that its marker's committed report does not give."""
    from sigcube_docs import numbers, records

    for problem in numbers.problems(source[0], records.load):
        logger.warning(problem, location=docname, type="sigcube", subtype="number")


def _missing_reference(app: Sphinx, env: Any, node: Any, contnode: Any) -> None:
    """Warn about an unresolved Python reference written in a page's prose (not in an object's signature or
    docstring, which autodoc renders inside a ``desc`` node)."""
    from sphinx import addnodes
    from sphinx.ext.autosummary import autosummary_table

    if node.get("refdomain") != "py" or node.get("refdoc", "").startswith(API_PREFIX):
        return None
    parent = node.parent
    while parent is not None:
        if isinstance(parent, (addnodes.desc, autosummary_table)):
            return None  # written by autodoc or autosummary from the code's signatures and docstrings
        parent = parent.parent
    logger.warning(f"{node['reftype']} reference target not found: {node['reftarget']} (a module or object the "
                   "API reference does not document: update the page or docs/api.md)", location=node,
                   type="sigcube", subtype="ref")
    return None


class HoloviewsComms(std_logging.Filter):
    """Drop MyST-NB's "skipping unknown output mime type" warning for holoviews' comm bundles only."""

    PREFIX = "skipping unknown output mime type: application/vnd.holoviews_"

    def filter(self, record: std_logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.PREFIX)


def setup(app: Sphinx) -> dict[str, Any]:
    for handler in std_logging.getLogger("sphinx").handlers:  # MyST-NB logs through one logger per document
        if handler.level == std_logging.WARNING:
            handler.filters.insert(0, HoloviewsComms())  # before -W's filter can turn the record into an error
    app.connect("builder-inited", _generate)
    app.connect("source-read", _check_numbers)
    app.connect("autodoc-process-docstring", escape_bars)
    app.connect("missing-reference", _missing_reference)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
