"""Writing a figure: PNG, SVG or PDF with the static backend (matplotlib), standalone HTML with bokeh (its JavaScript
inlined: the file opens offline)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import holoviews as hv

from sigcube.interfaces.plots.base import INTERACTIVE, STATIC, Plot, PlotError

STATIC_FORMATS = ("png", "svg", "pdf")
DPI = 110
"""Resolution of a static figure [dots per inch] (sizes are given in pixels at 100 dpi)."""


def render(plot: Plot, backend: str = STATIC) -> Any:
    """The backend's own figure of ``plot`` (a matplotlib Figure or a bokeh model)."""
    return hv.render(plot.view, backend=backend)


def save(plot: Plot, path: str | Path, dpi: int = DPI) -> Path:
    """Write ``plot`` to ``path``, its format from the suffix: ``.png``/``.svg``/``.pdf`` (static) or ``.html``
    (interactive bokeh, standalone and offline). The folder must exist; the file is replaced."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in (*STATIC_FORMATS, "html"):
        raise PlotError(f"{path.name}: write a figure as .png, .svg, .pdf or .html")
    if not path.parent.is_dir():
        raise PlotError(f"{path.parent} is not a folder")
    if fmt == "html":
        from bokeh.embed import file_html
        from bokeh.resources import INLINE

        title = plot.alt.split(":")[0][:120]
        path.write_text(file_html(render(plot, INTERACTIVE), INLINE, title), encoding="utf-8")
        return path
    import matplotlib

    matplotlib.use("Agg")
    figure = render(plot, STATIC)
    try:
        figure.savefig(path, format=fmt, dpi=dpi, bbox_inches="tight", metadata=_metadata(fmt))
    finally:
        import matplotlib.pyplot as plt

        plt.close(figure)
    return path


def _metadata(fmt: str) -> dict[str, Any]:
    """No creation date in the file: the same figure writes the same bytes."""
    return {"png": {"Software": None}, "svg": {"Date": None}, "pdf": {"CreationDate": None}}[fmt]
