"""Rotation curves of a fitted model: each galaxy's prediction and baryonic components at the fit, with a band.

At a model's global parameters (a comparison's best point) and the likelihood's σ_int, each galaxy's Υ_disk, Υ_bul, D
and i sit at their conditional mode of L × prior (:func:`sigcube.compute.quadrature.profile`); the curves are drawn in
the data's frame: V_pred·u and each component (V_gas·√(D/D0), V_disk·√(Υ_disk·D/D0), V_bul·√(Υ_bul·D/D0)) times
u = sin i/sin i0, against the catalogue radii, where the likelihood compares them with V_obs. The band is the 16–84 %
range of V_pred·u over the posterior of Υ, D, i: :data:`DRAWS` seeded draws from independent normals at the mode with
1.5 × the curvature's 1σ, importance-weighted by L × prior / proposal (a draw outside a prior's support weighs
nothing), each galaxy's effective sample size kept (:data:`MIN_ESS`: below it the band is said to be unsure). The
global parameters, and a per-galaxy model's parameters (e.g. a halo's, at each galaxy's best grid point), are held at
the given values; a dark-matter halo's own curve is V_halo = √(V_pred² − V_bar²) at the mode, in the same frame.
With τ_gal (each galaxy's velocity scale), u = (sin i/sin i0)·s_g is integrated in place of i: the curves are drawn at
its mode, the band over Υ and D with u held there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sigcube.compute import quadrature
from sigcube.engines.evidence import Data
from sigcube.model.kernels.registry import Kernel
from sigcube.stats.likelihood import GaussianLikelihood
from sigcube.model.segments import segment_sum
from sigcube.stats.nuisance import NuisanceTransform

DRAWS = 1000
"""Draws of Υ, D, i per galaxy for the band."""
WIDEN = 1.5
"""The proposal's sd over the curvature's 1σ (a wider proposal than the posterior keeps the weights bounded)."""
MIN_ESS = 30.0
"""An effective sample size below this leaves a galaxy's band unsure."""
COMPONENTS = ("v_gas", "v_disk", "v_bul")
"""The baryonic components drawn at the fit."""
NUISANCE = ("upsilon_disk", "upsilon_bul", "distance", "inclination")
"""The nuisance parameters drawn (where free)."""


@dataclass(frozen=True)
class FittedCurve:
    """One galaxy's curves at the fit: radii [kpc, catalogue], V_obs ± e_V [km/s], the prediction at the mode and its
    16–84 % band, the components at the mode, and the nuisance values at the mode ± their 1σ (with τ_gal, the
    velocity scale u, :data:`~sigcube.compute.quadrature.SCALE`, in place of the inclination)."""

    galaxy: str
    r: np.ndarray
    v_obs: np.ndarray
    e_v_obs: np.ndarray
    v_pred: np.ndarray
    band: tuple[np.ndarray, np.ndarray]
    components: dict[str, np.ndarray]
    nuisance: dict[str, tuple[float, float]]
    ess: float = float("nan")

    @property
    def band_unsure(self) -> bool:
        """Whether the band rests on fewer than :data:`MIN_ESS` effective draws."""
        return bool(self.ess < MIN_ESS)


def fitted_curves(kernel: Kernel, params: Mapping[str, Any], data: Data, likelihood: GaussianLikelihood,
                  galaxies: Sequence[int], draws: int = DRAWS, seed: int = 0,
                  per_object: Mapping[str, np.ndarray] | None = None, halo: bool = False) -> list[FittedCurve]:
    """The fitted curves of the galaxies ``galaxies`` (indices into ``data``) at the kernel's ``params``;
    ``per_object``: parameters with one value per galaxy of ``data``; ``halo``: add the halo's own curve
    (``v_halo``)."""
    index = np.asarray(galaxies, dtype=np.int64)
    sub = data.take(index)
    points = sub.points
    counts = np.diff(points.offsets)
    own = {k: np.asarray(v, dtype=float)[index] for k, v in (per_object or {}).items()}
    fixed = dict(params)
    params = {**kernel.resolve({**fixed, **{k: v[0] for k, v in own.items()}}),
              **{k: np.repeat(v, counts) for k, v in own.items()}}
    if not sub.nuisance:
        v = np.asarray(kernel.func(points.inputs, **params), dtype=float)
        comps = {c: np.asarray(points.inputs[c], dtype=float) for c in COMPONENTS if c in points.inputs}
        if halo:
            comps["v_halo"] = _halo(v, np.asarray(points.inputs["v_bar"], dtype=float))
        return [FittedCurve(str(points.galaxy[g]), *(_seg(points.inputs[k], points.offsets, g) for k in
                                                      ("r", "v_obs", "e_v_obs")), _seg(v, points.offsets, g),
                            (_seg(v, points.offsets, g),) * 2, {c: _seg(x, points.offsets, g) for c, x in comps.items()},
                            {}) for g in range(points.n_galaxies)]
    transform = sub.transform(kernel, fixed)
    priors = sub.nuisance_priors()
    mode = quadrature.profile(kernel, fixed, transform, priors, likelihood,
                              per_object={k: v[None, :] for k, v in own.items()} or None)
    values = {k: np.asarray(mode.values[k], dtype=float)[0] for k in NUISANCE}
    errors = {k: np.asarray(mode.errors[k], dtype=float)[0] for k in NUISANCE}
    wide = NuisanceTransform(points, sub.catalogue, tuple(dict.fromkeys([*transform.inputs, *COMPONENTS,
                                                                          *(("v_bar",) if halo else ())])))
    bound = likelihood.bind(points.inputs["v_obs"], points.inputs["e_v_obs"], points.offsets)
    scale = np.asarray(mode.values[quadrature.SCALE], dtype=float)[0] if likelihood.scaled else None

    def predict(at: Mapping[str, np.ndarray]) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
        inputs = wide.kernel_inputs({k: v for k, v in at.items() if k != "inclination"})
        qinv = (wide.inverse_inclination_factor(at["inclination"]) if scale is None
                else np.broadcast_to(scale, np.shape(at["distance"])))
        u = np.repeat(qinv, counts, axis=-1)
        v = np.asarray(kernel.func({k: inputs[k] for k in transform.inputs}, **params), dtype=float)
        comps = {c: np.asarray(inputs[c], dtype=float) * u for c in COMPONENTS}
        if halo:
            comps["v_halo"] = _halo(v, np.asarray(inputs["v_bar"], dtype=float)) * u
        return v * u, comps, np.broadcast_to(v, np.broadcast_shapes(v.shape, u.shape)), qinv

    v_mode, comps, *_ = predict(values)
    rng = np.random.default_rng(seed)
    log_w = np.zeros((draws, points.n_galaxies))
    drawn = {}
    for k in NUISANCE:
        free = errors[k] > 0
        sd = np.where(free, WIDEN * errors[k], 1.0)
        z = rng.standard_normal((draws, points.n_galaxies))
        x = np.where(free, values[k] + sd * z, values[k])
        prior = np.where(free, priors[k].logpdf(x), 0.0) if k in priors else np.zeros_like(x)
        log_w += prior + np.where(free, 0.5 * z * z + np.log(sd), 0.0)
        drawn[k] = np.where(np.isfinite(prior), x, values[k])  # outside the support: weight 0, evaluated at the mode
    v_draws, _, v_raw, qinv = predict(drawn)
    r, log_norm = bound.residuals(v_raw, qinv)
    log_w += -0.5 * segment_sum(r * r, points.offsets) + log_norm
    log_w[~np.isfinite(log_w)] = -np.inf
    weights = np.exp(log_w - log_w.max(axis=0))
    weights /= weights.sum(axis=0)
    ess = 1.0 / np.sum(weights**2, axis=0)
    out = []
    for g in range(points.n_galaxies):
        def seg(x: np.ndarray) -> np.ndarray:
            return _seg(x, points.offsets, g)
        lo, hi = _weighted_band(v_draws[:, points.offsets[g]:points.offsets[g + 1]], weights[:, g])
        out.append(FittedCurve(str(points.galaxy[g]), seg(points.inputs["r"]), seg(points.inputs["v_obs"]),
                               seg(points.inputs["e_v_obs"]), seg(v_mode), (lo, hi),
                               {c: seg(x) for c, x in comps.items()},
                               {k: (float(values[k][g]), float(errors[k][g])) for k in NUISANCE
                                if not (scale is not None and k == "inclination")}
                               | ({} if scale is None else {quadrature.SCALE: (float(scale[g]), float(
                                   np.asarray(mode.errors[quadrature.SCALE], dtype=float)[0][g]))}),
                               float(ess[g])))
    return out


def _halo(v: np.ndarray, v_bar: np.ndarray) -> np.ndarray:
    """A halo's own circular velocity, √(V² − V_bar²) (a halo kernel's V² = V_bar² + V_halo²)."""
    return np.sqrt(np.maximum(v * v - v_bar * v_bar, 0.0))


def _weighted_band(v: np.ndarray, w: np.ndarray, q: tuple[float, float] = (0.16, 0.84)) -> tuple[np.ndarray, np.ndarray]:
    """The weighted ``q`` quantiles of each column of ``v`` (draws × points) under weights ``w`` (draws)."""
    order = np.argsort(v, axis=0)
    cum = np.cumsum(w[order], axis=0)
    cols = np.arange(v.shape[1])
    lo = v[order[np.argmax(cum >= q[0], axis=0), cols], cols]
    hi = v[order[np.argmax(cum >= q[1], axis=0), cols], cols]
    return lo, hi


def _seg(x: Any, offsets: np.ndarray, g: int) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    return np.broadcast_to(x, x.shape[:-1] + (int(offsets[-1]),))[..., offsets[g]:offsets[g + 1]].reshape(-1)
