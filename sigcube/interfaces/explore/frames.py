"""Views with widgets: one frame per combination of dimension values, built now or on demand."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import holoviews as hv


def frames(build: Callable[..., hv.core.Dimensioned], kdims: Sequence[hv.Dimension],
           values: Sequence[Sequence[Any]], dynamic: bool = False) -> hv.core.Dimensioned:
    """A widget per dimension of ``kdims``, taking the given ``values``; ``build(*key)`` makes a frame.

    ``dynamic=False`` builds every frame now (a ``HoloMap``: ``hv.save``/``hvplot.save``
    embed it in a standalone file). ``dynamic=True`` returns a ``DynamicMap`` with the
    same declared values: frames are built when a widget asks, so a live panel stays
    fast, and panel's ``save(embed=True)`` still records every frame into a static file
    (the explorer does this: a HoloMap's plot setup scans all frames for every frame).
    With no dimension the single frame is returned as it is.
    """
    if not kdims:
        return build()
    dims = [d.clone(values=list(v)) for d, v in zip(kdims, values)]
    if dynamic:
        return hv.DynamicMap(build, kdims=dims)
    return hv.HoloMap({key: build(*key) for key in itertools.product(*values)}, kdims=dims)
