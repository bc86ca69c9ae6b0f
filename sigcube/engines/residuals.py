"""Each point's normalised residual at one point of a model's posterior, the input of its predictive checks.

At the kernel's parameters (global values, and per-object values for a per-galaxy model) and the likelihood's σ_int,
each galaxy's Υ, D, i (with τ_gal: Υ, D and its velocity scale u = (sin i/sin i0)·s_g) sit at their conditional mode
of L × prior (:func:`sigcube.compute.quadrature.profile`; at the catalogue values without a nuisance catalogue). The
residual r_k is the likelihood's own (V_obs,k − V_pred,k·u)/s_k, or its log-space counterpart under the log-normal
model, as a standard normal deviate under Student-t errors (Φ⁻¹(F_ν(r_k)),
:meth:`sigcube.stats.likelihood.BoundLikelihood.normal_scores`): N(0, 1) wherever the error model holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from sigcube.compute import quadrature
from sigcube.engines.evidence import Data
from sigcube.model.kernels.registry import Kernel
from sigcube.stats.likelihood import GaussianLikelihood
from sigcube.stats.nuisance import NUISANCE_PARAMETERS


def residuals_at(kernel: Kernel, params: Mapping[str, Any], data: Data, likelihood: GaussianLikelihood,
                 per_object: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
    """The normalised residual of every packed point (n_points,) at ``params`` (numbers) and ``per_object`` values
    (one per galaxy), the nuisance at its conditional mode."""
    return at_mode(kernel, params, data, likelihood, per_object)[0]


def at_mode(kernel: Kernel, params: Mapping[str, Any], data: Data, likelihood: GaussianLikelihood,
            per_object: Mapping[str, np.ndarray] | None = None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """:func:`residuals_at`, and each galaxy's nuisance mode in its prior's normal deviates, by parameter name (G,)
    (NaN where a parameter is not free; with τ_gal, the velocity scale's as :data:`~sigcube.compute.quadrature.SCALE`
    in place of the inclination's); no deviates at the catalogue values."""
    points = data.points
    per_object = {k: np.asarray(v, dtype=float)[None, :] for k, v in (per_object or {}).items()}
    params = {k: v for k, v in kernel.resolve({**params, **{k: float(v[0, 0]) for k, v in per_object.items()}}).items()
              if k not in per_object}
    bound = likelihood.bind(points.inputs["v_obs"], points.inputs["e_v_obs"], points.offsets)
    if not data.nuisance:
        counts = np.diff(points.offsets)
        v = kernel.func(points.inputs, **params, **{k: np.repeat(x[0], counts) for k, x in per_object.items()})
        return bound.normal_scores(np.asarray(v, dtype=float)[None, :])[0], {}
    transform = data.transform(kernel, params)
    mode = quadrature.profile(kernel, params, transform, data.nuisance_priors(), likelihood, per_object=per_object)
    values = {k: v for k, v in mode.values.items() if k not in ("inclination", quadrature.SCALE)}
    inputs = transform.kernel_inputs(values)
    counts = np.diff(points.offsets)
    v = kernel.func(inputs, **params, **{k: np.repeat(x, counts, axis=-1) for k, x in per_object.items()})
    qinv = (mode.values[quadrature.SCALE] if likelihood.scaled
            else transform.inverse_inclination_factor(mode.values["inclination"]))
    r = bound.normal_scores(np.broadcast_to(np.asarray(v, dtype=float), (1, points.n_points)), qinv)[0]
    names = [quadrature.SCALE if likelihood.scaled and n == "inclination" else n for n in NUISANCE_PARAMETERS]
    return r, {name: mode.z[0, :, j] for j, name in enumerate(names)}
