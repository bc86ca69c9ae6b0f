"""Sphinx configuration of the sigcube documentation site (``make docs``; offline, warnings are errors).

Everything a page shows that sigcube computes is generated here, at build time, by the local extension
``docs/_ext/sigcube_docs``: the CLI reference (from the typer app), the spec reference (from the pydantic
schema), the results pages (from ``docs/results/*.json``), the performance page (from ``docs/performance/*.json``)
and the table of published figures (from the figure registry). The notebooks in ``notebooks/`` are executed by
MyST-NB (cached, so only a changed notebook runs again).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))

import sigcube  # noqa: E402

project = "sigcube"
author = "the sigcube authors"
copyright = "the sigcube authors, MIT licence"  # noqa: A001
release = sigcube.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_nb",  # MyST Markdown pages and executed notebooks (includes myst_parser)
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sigcube_docs",
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}  # .rst first: autosummary writes .rst stubs
root_doc = "index"
exclude_patterns = ["_build", "_generated", "_ext", "_templates", "clusters", "Thumbs.db", ".DS_Store",
                    "**.ipynb_checkpoints"]
templates_path = ["_templates"]

# --- MyST ------------------------------------------------------------------------------------------------
myst_enable_extensions = ["deflist", "colon_fence", "attrs_inline", "substitution"]
myst_heading_anchors = 3
myst_substitutions: dict[str, str] = {}  # filled by sigcube_docs from the committed results (numbers in prose)
# Quotes and ellipses are typeset, dashes are not: "--json" in a report's sentence stays two hyphens (the pages write
# their dashes as "–" and "—").
smartquotes_action = "qe"

# --- Notebooks (MyST-NB) ---------------------------------------------------------------------------------
# "cache": a notebook is executed once and its outputs are kept in docs/_build/.jupyter_cache until it changes.
# SIGCUBE_DOCS_EXECUTE=off builds without running them (their pages then show the code only).
nb_execution_mode = os.environ.get("SIGCUBE_DOCS_EXECUTE", "cache")
nb_execution_cache_path = str(DOCS / "_build" / ".jupyter_cache")
nb_execution_timeout = 300
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True

# The notebooks' plots must work offline: their kernels start with holoviews and panel set to embed bokeh's and
# panel's JavaScript and CSS in the outputs instead of loading them from a CDN (an IPython startup file, written
# under docs/_build for this build only).
_IPYTHON = DOCS / "_build" / ".ipython"
(_IPYTHON / "profile_default" / "startup").mkdir(parents=True, exist_ok=True)
(_IPYTHON / "profile_default" / "startup" / "00-sigcube-docs-offline.py").write_text(
    "# written by docs/conf.py\nimport holoviews\nimport panel\n\nholoviews.extension.inline = True\n"
    "panel.config.inline = True\n", encoding="utf-8")
os.environ["IPYTHONDIR"] = str(_IPYTHON)

# --- API reference (autosummary + autodoc) ----------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autosummary_ignore_module_all = False
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True
autodoc_inherit_docstrings = False  # a method without its own docstring (e.g. zarr's Store API) is not repeated
add_module_names = False

# --- HTML ----------------------------------------------------------------------------------------------
html_theme = "furo"
html_title = f"sigcube {release}"
html_static_path = ["_static"]
html_css_files = ["sigcube.css"]  # tables: smaller type, unbroken code in cells
html_last_updated_fmt = None
html_copy_source = False
html_show_sourcelink = False
html_theme_options = {"navigation_with_keys": True, "top_of_page_buttons": []}

# Offline: no intersphinx, no remote images, fonts or scripts (tests/project/test_docs.py checks the pages).
# Math is written in Unicode, so no page loads MathJax (its default remote path is used only by a page with math).
