"""Kernel predictions on the packed SPARC sample, computed once for every galaxy view."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr

from sigcube.constants import accel_from_velocity
from sigcube.conventions import SampleCuts
from sigcube.io.rotation_curves import pack_sparc
from sigcube.model import metrics
from sigcube.model.kernels import get_kernel
from sigcube.model.kernels.baseline import BASELINE
from sigcube.model.kernels.presets import DEFAULT_PRESET, KERNEL, get_preset
from sigcube.model.points import PointSet

DEFAULT_KERNELS = (KERNEL, BASELINE)


@dataclass(frozen=True)
class Predictions:
    """The valid points of a SPARC cube and each kernel's V_pred [km/s] on them.

    ``v_pred`` is keyed by a display label: ``sigma (paper)`` for the preset's kernel with the
    preset's parameters, the kernel name otherwise (its default parameters).
    """

    cube: xr.Dataset
    points: PointSet
    v_pred: dict[str, np.ndarray]

    def rows(self, galaxy: str) -> slice:
        """The points of ``galaxy`` in the packed arrays."""
        matches = np.flatnonzero(self.points.galaxy == galaxy)
        if not len(matches):
            raise KeyError(f"galaxy {galaxy!r} is not in the sample")
        i = int(matches[0])
        return slice(int(self.points.offsets[i]), int(self.points.offsets[i + 1]))

    def rms(self, label: str) -> np.ndarray:
        """Per-galaxy RMS of ``label``'s prediction [km/s]."""
        p = self.points.inputs
        return metrics.object_metrics(self.v_pred[label], p["v_obs"], p["e_v_obs"], self.points.offsets, ["rms"])["rms"]

    def g_pred(self, label: str) -> np.ndarray:
        """Predicted centripetal acceleration V_pred²/r [m/s²] at every point."""
        return accel_from_velocity(self.v_pred[label], self.points.inputs["r"])


def predictions(cube: xr.Dataset, kernels: Sequence[str] = DEFAULT_KERNELS, preset: str = DEFAULT_PRESET,
                cuts: SampleCuts | None = None) -> Predictions:
    """Evaluate ``kernels`` on the sample of ``cube``; the preset's kernel takes the parameters of ``preset``.

    >>> pred = predictions(sigcube.open_cube("cubes/sparc.zarr").load())   # doctest: +SKIP
    >>> sorted(pred.v_pred)                                                # doctest: +SKIP
    ['mond', 'sigma (paper)']
    """
    cube = cube.load()
    points = pack_sparc(cube, cuts)
    v_pred: dict[str, np.ndarray] = {}
    chosen = get_preset(preset)
    for name in kernels:
        kernel = get_kernel(name)
        params = chosen.kernel_params() if name == chosen.kernel else {}
        v_pred[f"{name} ({preset})" if name == chosen.kernel else name] = kernel(points.inputs, **params)
    return Predictions(cube, points, v_pred)
