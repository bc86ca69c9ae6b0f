"""Figures of sigcube's reports and cubes: one home for every plot the documentation, ``sigcube plot`` and the
explorer draw.

Each figure is a function of a report's JSON (``sigcube report … --json``), of a cube, or of benchmark records,
returning a :class:`~sigcube.interfaces.plots.base.Plot`: a holoviews object styled for both backends (bokeh for
interactive HTML, matplotlib for static PNG/SVG) and one sentence naming what it plots. :func:`save` writes it.

    >>> from sigcube.interfaces.plots import figures, save
    >>> plot = figures()["population-forest"].function(json.load(open("population.json")))   # doctest: +SKIP
    >>> save(plot, "forest.png")                                                               # doctest: +SKIP

A new figure is one function decorated with :func:`~sigcube.interfaces.plots.registry.figure` in one of the
modules of :data:`~sigcube.interfaces.plots.registry.MODULES`.
"""

_LAZY = {"Plot": "base", "PlotError": "base", "figures": "registry", "get_figure": "registry", "save": "output",
         "render": "output"}
"""Public names, by the module that defines them: imported on first use (the plotting libraries are heavy)."""

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
