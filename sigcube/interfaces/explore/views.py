"""Interactive views of a dataset cube of rotation curves: one galaxy's curve, the gallery with a galaxy selector,
and the RAR (:mod:`sigcube.interfaces.plots.galaxies` draws them; here they get the explorer's widgets and bounds).

Every view returns a holoviews object; render it with ``hvplot.render(obj, backend="bokeh")``, show it in a
notebook, or put it in a panel. A view takes a cube (``xr.Dataset``) or the
:class:`~sigcube.interfaces.plots.galaxies.Predictions` made from one.
"""

from __future__ import annotations

from collections.abc import Sequence

import holoviews as hv
import xarray as xr

from sigcube.interfaces.explore.bounds import Limits, spread
from sigcube.interfaces.explore.frames import frames
from sigcube.interfaces.plots.base import framewise
from sigcube.interfaces.plots.galaxies import (
    DEFAULT_KERNELS, GalaxyCurve, Predictions, predictions, rotation_curve_panel,
)
from sigcube.interfaces.plots.rar import rar as rar_figure
from sigcube.model.kernels.presets import DEFAULT_PRESET


def _data(data: xr.Dataset | Predictions, kernels: Sequence[str], preset: str) -> Predictions:
    return data if isinstance(data, Predictions) else predictions(data, kernels, preset)


def rotation_curve(data: xr.Dataset | Predictions, galaxy: str, kernels: Sequence[str] = DEFAULT_KERNELS,
                   preset: str = DEFAULT_PRESET) -> hv.Overlay:
    """V_obs with error bars, the baryonic components and each kernel's V_pred against radius, for one galaxy.

    >>> hvplot.render(rotation_curve(cube, "NGC3198"), backend="bokeh")   # doctest: +SKIP
    """
    return framewise(rotation_curve_panel(_data(data, kernels, preset).curve(galaxy), width=620, height=400,
                                          own_axes=False))


def curve_gallery(curves: Sequence[GalaxyCurve], dynamic: bool = False) -> hv.core.Dimensioned:
    """Rotation-curve panels of ``curves`` with a galaxy selector."""
    by_name = {c.name: c for c in curves}
    return frames(lambda galaxy: framewise(rotation_curve_panel(by_name[galaxy], width=620, height=400,
                                                                own_axes=False)),
                  [hv.Dimension("galaxy")], [list(by_name)], dynamic)


def rotation_curve_gallery(data: xr.Dataset | Predictions, kernels: Sequence[str] = DEFAULT_KERNELS,
                           preset: str = DEFAULT_PRESET, galaxies: Sequence[str] | None = None,
                           max_galaxies: int = Limits.max_galaxies, dynamic: bool = False) -> hv.core.Dimensioned:
    """Rotation curves with a galaxy selector: at most ``max_galaxies`` galaxies, evenly
    spread through the sample when it is larger (``dynamic``: see :func:`~sigcube.interfaces.explore.frames.frames`).
    """
    pred = _data(data, kernels, preset)
    names = list(galaxies) if galaxies is not None else [str(g) for g in pred.points.galaxy]
    names = [names[i] for i in spread(len(names), max_galaxies)]
    return frames(lambda galaxy: rotation_curve(pred, galaxy), [hv.Dimension("galaxy")], [names], dynamic)


def rar(data: xr.Dataset | Predictions, kernels: Sequence[str] = DEFAULT_KERNELS, preset: str = DEFAULT_PRESET,
        max_points: int = Limits.max_points, seed: int = 0) -> hv.Layout:
    """The radial acceleration relation with each kernel's binned median and the residual panel
    (:func:`sigcube.interfaces.plots.rar.rar`): every point up to ``max_points``, then datashaded (or a random
    subsample without datashader)."""
    return rar_figure(_data(data, kernels, preset), max_points=max_points, seed=seed).view
