"""The figures by name: what ``sigcube plot NAME`` draws, what each reads, the function that draws it.

A figure function is registered by the :func:`figure` decorator where it is defined; :func:`figures` imports every
figure module first, so the registry is complete whichever was imported before.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from sigcube.errors import SigcubeError

Source = Literal["report", "cube", "bench", "code"]
MODULES = ("posteriors", "population", "comparison", "published", "performance", "galaxies", "sweeps", "halos",
           "probes", "fits", "rar")
"""The modules of :mod:`sigcube.interfaces.plots` that define figures."""


@dataclass(frozen=True)
class FigureKind:
    """A registered figure: its ``name``, the ``function`` that draws it (returning a
    :class:`~sigcube.interfaces.plots.base.Plot`), whether it reads a report's JSON, a cube, benchmark records or
    nothing but sigcube's own relations (``source``), and what exactly (``reads``, in words); ``cube_alone``: a
    figure of a report and its dataset cube that also draws a dataset cube given alone (the RAR)."""

    name: str
    function: Callable[..., Any]
    source: Source
    reads: str
    cube_alone: bool = False

    @property
    def summary(self) -> str:
        """The first paragraph of the function's docstring, on one line."""
        return " ".join(self.description.split("\n\n")[0].split())

    @property
    def description(self) -> str:
        """The function's whole docstring, its paragraphs kept."""
        return inspect.getdoc(self.function) or ""


def plain(text: str) -> str:
    """A docstring's paragraph as plain text: on one line, without reST markup (``x``, :func:`~a.b`)."""
    return re.sub(r":\w+:`~?([\w.]+)`", lambda m: m.group(1).split(".")[-1], " ".join(text.split())).replace("``", "")


FIGURES: dict[str, FigureKind] = {}


def figure(name: str, source: Source, reads: str, cube_alone: bool = False
           ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the decorated function as figure ``name``."""
    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        if name in FIGURES and FIGURES[name].function.__qualname__ != function.__qualname__:
            raise ValueError(f"figure {name!r} is registered twice")
        FIGURES[name] = FigureKind(name, function, source, reads, cube_alone)
        return function
    return register


def figures() -> dict[str, FigureKind]:
    """Every registered figure, by name."""
    for module in MODULES:
        importlib.import_module(f"sigcube.interfaces.plots.{module}")
    return dict(sorted(FIGURES.items()))


def get_figure(name: str) -> FigureKind:
    """The figure ``name``; a SigcubeError listing the figures otherwise."""
    known = figures()
    if name not in known:
        raise SigcubeError(f"no figure {name!r}; the figures: {', '.join(known)}")
    return known[name]
