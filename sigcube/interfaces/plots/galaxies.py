"""Figures of rotation curves: rotation-curve panels (V_obs, the baryonic components, each kernel's V_pred) of chosen
galaxies (the radial acceleration relation of the same predictions: :mod:`sigcube.interfaces.plots.rar`).

They are functions of a dataset cube of rotation curves and the kernels evaluated on it (:class:`Predictions`, at
the catalogue's Υ, D and i), or of :class:`GalaxyCurve` records built elsewhere (e.g. at a nuisance sweep's
posterior, :mod:`sigcube.interfaces.explore.posterior_curves`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import holoviews as hv
import numpy as np
import xarray as xr

from sigcube.constants import accel_from_velocity
from sigcube.conventions import SampleCuts
from sigcube.interfaces.plots.base import (
    COLORS, GREY, TITLE_PX_PER_CHAR, Plot, PlotError, framed, layout, numbers, own, require_store, styled,
)
from sigcube.interfaces.plots.labels import Label, prose
from sigcube.interfaces.plots.registry import figure
from sigcube.io.datasets import curve_kinds
from sigcube.io.rotation_curves import pack_sparc
from sigcube.model import metrics
from sigcube.model.kernels import get_kernel
from sigcube.model.kernels.baseline import BASELINE
from sigcube.model.kernels.presets import DEFAULT_PRESET, KERNEL, get_preset
from sigcube.model.points import PointSet

DEFAULT_KERNELS = (KERNEL, BASELINE)
RADIUS = Label("radius r [kpc]", "radius $r$ [kpc]")
VELOCITY = Label("circular velocity V [km/s]", "circular velocity $V$ [km/s]")
COMPONENTS = {"v_gas": ("V_gas", "dotted"), "v_disk": ("V_disk", "dashdot"), "v_bul": ("V_bul", "dashed"),
              "v_bar": ("V_bar", "solid")}
"""The baryonic components drawn in a rotation-curve panel, their label and line."""
LINES = {**COMPONENTS, "v_halo": ("V_halo", "longdash")}
"""Every component a panel draws: the baryons', and a fitted halo's own curve."""


@dataclass(frozen=True)
class Predictions:
    """The valid points of a dataset cube of rotation curves and each kernel's V_pred [km/s] on them.

    ``v_pred`` is keyed by a display label: ``<kernel> (<preset>)`` for the preset's kernel with the preset's
    parameters, the kernel's name otherwise (its default parameters).
    """

    cube: xr.Dataset
    points: PointSet
    v_pred: dict[str, np.ndarray]

    def rows(self, galaxy: str) -> slice:
        """The points of ``galaxy`` in the packed arrays."""
        matches = np.flatnonzero(self.points.galaxy == galaxy)
        if not len(matches):
            raise PlotError(f"galaxy {galaxy!r} is not in the sample")
        i = int(matches[0])
        return slice(int(self.points.offsets[i]), int(self.points.offsets[i + 1]))

    def rms(self, label: str) -> np.ndarray:
        """Per-galaxy RMS of ``label``'s prediction [km/s]."""
        p = self.points.inputs
        return metrics.object_metrics(self.v_pred[label], p["v_obs"], p["e_v_obs"], self.points.offsets, ["rms"])["rms"]

    def g_pred(self, label: str) -> np.ndarray:
        """Predicted centripetal acceleration V_pred²/r [m/s²] at every point."""
        return accel_from_velocity(self.v_pred[label], self.points.inputs["r"])

    def curve(self, galaxy: str) -> GalaxyCurve:
        """The rotation curve of ``galaxy`` at the catalogue's Υ, D and i, with every prediction."""
        rows = self.rows(galaxy)
        p = self.points.inputs
        return GalaxyCurve(galaxy, p["r"][rows], p["v_obs"][rows], p["e_v_obs"][rows],
                           {k: p[k][rows] for k in COMPONENTS if k in p},
                           {label: v[rows] for label, v in self.v_pred.items()},
                           "catalogue Υ, D, i")


def predictions(cube: xr.Dataset, kernels: Sequence[str] = DEFAULT_KERNELS, preset: str = DEFAULT_PRESET,
                cuts: SampleCuts | None = None) -> Predictions:
    """Evaluate ``kernels`` on the sample of ``cube``; the preset's kernel takes the parameters of ``preset``.

    >>> pred = predictions(sigcube.open_cube("cubes/sparc.zarr").load())   # doctest: +SKIP
    """
    require_store(cube, curve_kinds(), "a figure of rotation curves", "a dataset cube of rotation curves (e.g. "
                  "cubes/sparc.zarr)")
    cube = cube.load()
    points = pack_sparc(cube, cuts)
    v_pred: dict[str, np.ndarray] = {}
    chosen = get_preset(preset)
    for name in kernels:
        kernel = get_kernel(name)
        params = chosen.kernel_params() if name == chosen.kernel else {}
        v_pred[f"{name} ({preset})" if name == chosen.kernel else name] = kernel(points.inputs, **params)
    return Predictions(cube, points, v_pred)


@dataclass(frozen=True)
class GalaxyCurve:
    """One galaxy's rotation curve as drawn: radius ``r`` [kpc], ``v_obs`` and its error ``e_v`` [km/s], the
    baryonic ``components`` (``v_gas``, ``v_disk``, ``v_bul``, ``v_bar`` at the Υ used) and each kernel's
    ``predictions`` [km/s] by label; ``note`` says at which Υ, D, i (for all the curves of a figure), ``detail``
    this galaxy's values (its panel's second title line)."""

    name: str
    r: np.ndarray
    v_obs: np.ndarray
    e_v: np.ndarray
    components: Mapping[str, np.ndarray]
    predictions: Mapping[str, np.ndarray]
    note: str = ""
    detail: str | Label = ""
    rms: Mapping[str, float] = field(default_factory=dict)
    bands: Mapping[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    """A shaded band (lower, upper) [km/s] under a prediction, by its label."""

    def rms_of(self, label: str) -> float:
        """The RMS of ``label``'s prediction against V_obs [km/s] (the stored one, else computed here)."""
        if label in self.rms:
            return float(self.rms[label])
        return float(np.sqrt(np.mean((self.v_obs - self.predictions[label]) ** 2)))


def rotation_curve_panel(curve: GalaxyCurve, width: int = 460, height: int = 320,
                         legend: str | None = "bottom_right", own_axes: bool = True) -> hv.Overlay:
    """V_obs with error bars, the baryonic components (grey lines) and each prediction against radius; the title
    names the galaxy, each prediction's RMS against V_obs by its label (lines wrapped to the panel's width:
    :func:`rms_lines`), and ``detail``.
    ``own_axes``: dimensions named for the galaxy, so that its panel keeps its own ranges in a layout (False: the
    same names for every galaxy, as the frames of one view with a galaxy selector need)."""
    r_dim, v_dim = (own("r", curve.name), own("v", curve.name)) if own_axes else ("r", "v")
    r = numbers(curve.r, f"rotation curve of {curve.name}: radius", allow_nan=False)
    v = numbers(curve.v_obs, f"rotation curve of {curve.name}: V_obs")
    layers = [styled(hv.ErrorBars((r, v, curve.e_v), r_dim, [v_dim, "e_v"]), color="black", width=1),
              styled(hv.Scatter((r, v), r_dim, v_dim, label="V_obs"), color="black", size=5)]
    for key, values in curve.components.items():
        if key == "v_bul" and not np.any(np.abs(values) > 0):
            continue
        layers.append(component_line(key, hv.Curve((r, values), r_dim, v_dim)))
    for color, (label, v_pred) in zip(COLORS, curve.predictions.items()):
        if label in curve.bands:
            lo, hi = curve.bands[label]
            layers.append(styled(hv.Area((r, lo, hi), r_dim, vdims=[v_dim, f"{v_dim}_hi"]), fill=color, alpha=0.25))
        layers.append(styled(hv.Curve((r, v_pred), r_dim, v_dim, label=label), color=color, width=2.5))
    detail = curve.detail if isinstance(curve.detail, Label) else prose(curve.detail)
    lines = [Label(curve.name, curve.name.replace("$", r"\$")), *(Label(t, t) for t in rms_lines(curve, width))]
    title = lines[0]
    for line in [*lines[1:], *([detail] if detail.unicode else [])]:
        title = title + "\n" + line
    return framed(hv.Overlay(layers), title=title, xlabel=RADIUS, ylabel=VELOCITY, width=width, height=height,
                  legend=legend)


def component_line(key: str, curve: hv.Curve) -> hv.Curve:
    """A baryonic component's (or a fitted halo's) curve as every rotation-curve panel draws it: grey, its own dash,
    labelled (:data:`LINES`)."""
    text, dash = LINES[key]
    return styled(curve.relabel(text), color=GREY, dash=dash, width=2.5 if key in ("v_bar", "v_halo") else 1.5)


def rms_lines(curve: GalaxyCurve, width: int) -> list[str]:
    """Each prediction's RMS against V_obs by its label (``RMS [km/s]: sigma 3.6 · mond 3.5``), in lines that fit a
    panel ``width`` pixels wide (:data:`TITLE_PX_PER_CHAR`); none without a prediction."""
    parts = [f"{label} {curve.rms_of(label):.1f}" for label in curve.predictions]
    lines = ["RMS [km/s]:"] if parts else []
    for part in parts:
        fresh = lines[-1].endswith(":")
        if not fresh and len(lines[-1]) + 3 + len(part) > width // TITLE_PX_PER_CHAR:
            lines.append(part)
        else:
            lines[-1] += (" " if fresh else " · ") + part
    return lines


def chosen_galaxies(names: Sequence[str], rms: np.ndarray, n: int = 3) -> tuple[list[str], list[str]]:
    """``n`` representative galaxies (those at evenly spaced quantiles, 25th to 75th percentile, of the RMS of the
    galaxies that are not among the worst) and the ``n`` worst fitted (the largest RMS), by name."""
    rms = np.asarray(rms, dtype=float)
    finite = np.flatnonzero(np.isfinite(rms))
    if len(finite) == 0:
        raise PlotError("rotation curves: no galaxy has a finite RMS")
    order = finite[np.argsort(rms[finite], kind="stable")]
    worst = [str(names[i]) for i in order[::-1][:n]]
    rest = order[: max(len(order) - n, 0)]  # the representative ones are chosen among the others
    quantiles = np.linspace(0.25, 0.75, n) if n > 1 else np.array([0.5])
    picks = [int(rest[int(round(q * (len(rest) - 1)))]) for q in quantiles] if len(rest) else []
    return [str(names[i]) for i in dict.fromkeys(picks)], worst


@figure("rotation-curves", source="cube", reads="a dataset cube of rotation curves (e.g. cubes/sparc.zarr)")
def rotation_curves(data: xr.Dataset | Predictions | Sequence[GalaxyCurve], n: int = 3,
                    kernels: Sequence[str] = DEFAULT_KERNELS, preset: str = DEFAULT_PRESET, title: str = "") -> Plot:
    """Rotation-curve panels of ``n`` representative galaxies (at the 25th–75th percentiles of the first kernel's
    RMS, the worst left out) and of the ``n`` worst fitted, each with the baryonic components and every kernel's
    prediction; or the panels of the given :class:`GalaxyCurve` records.

    ``n``: galaxies of each kind; ``kernels``: the kernels drawn (a cube's figure); ``preset``: the parameters of the
    preset's kernel (paper, …)."""
    if isinstance(data, (xr.Dataset, Predictions)):
        pred = data if isinstance(data, Predictions) else predictions(data, kernels, preset)
        first = next(iter(pred.v_pred))
        rms = pred.rms(first)
        representative, worst = chosen_galaxies(pred.points.galaxy, rms, n)
        index = {str(g): i for i, g in enumerate(pred.points.galaxy)}
        curves = [replace(pred.curve(g), rms={k: float(pred.rms(k)[index[g]]) for k in pred.v_pred})
                  for g in (*representative, *worst)]
        parts = [f"representative galaxies ({', '.join(representative)}: 25th–75th percentiles of {first}'s RMS "
                 "among the others)"] if representative else []
        what = " and ".join(parts + [f"the {len(worst)} worst fitted by {first} ({', '.join(worst)})"])
    else:
        curves = list(data)
        what = ", ".join(c.name for c in curves)
    notes = sorted({c.note for c in curves if c.note})
    labels = list(dict.fromkeys(label for c in curves for label in c.predictions))
    return Plot(curve_grid(curves, title),
                f"Rotation curves (V_obs with errors, V_gas, V_disk, V_bul, V_bar and each kernel's V_pred against "
                f"radius; {', '.join(notes) or 'as given'}) of {what}; each title gives the RMS against V_obs of "
                f"{' · '.join(labels)}")


def curve_grid(curves: Sequence[GalaxyCurve], title: str = "", caption: str | Label = "") -> hv.Layout:
    """Rotation-curve panels (:func:`rotation_curve_panel`) three to a row, the legend right of the first row's last
    panel, under ``title`` and ``caption``."""
    if not curves:
        raise PlotError("rotation curves: no galaxy to draw")
    cols = min(3, len(curves))
    panels = [rotation_curve_panel(c, legend="right" if i == cols - 1 else None) for i, c in enumerate(curves)]
    return layout(panels, cols=cols, title=title, caption=caption)
