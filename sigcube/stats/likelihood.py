"""The per-galaxy likelihood of a rotation curve, with the inclination, an intrinsic scatter and a galaxy-level scale.

The data are the tabulated V_obs,k with errors e_V,k (deprojected at the catalogue inclination i0). At inclination i the
model projects as V_pred·sin i/sin i0; with a galaxy-level velocity-scale offset s_g (``tau_gal`` below) it is
V_pred·u, u = (sin i/sin i0)·s_g. Points are independent given u. Write q = sin i0/sin i (1/q = u when s_g = 1).

**Gaussian in V** (``velocity_floor``, ``lognormal_first_order``; quoted errors when σ_int = 0):

    V_obs,k ~ N(V_pred,k·u, s_k²),   s_k² = e_V,k² + (σ_V,k·u)²,
    ln L = −½ Σ_k [(V_obs,k − V_pred,k·u)²/s_k² + ln(2π s_k²)].

σ_V,k [km/s] is the intrinsic scatter of the deprojected rotation velocity:

- ``velocity_floor``: σ_V = σ_int [km/s], the same at every point (an error floor added in quadrature);
- ``lognormal_first_order``: a log-normal scatter of g_obs at fixed g_bar of σ_int [dex] to first order in σ_int:
  g ∝ V², so ln V scatters by (ln 10/2)·σ_int and σ_V,k = V_pred,k·(ln 10/2)·σ_int — Gaussian in V with σ_V = V_pred·(ln 10/2)·σ_int,
  not a log-normal density (its normalisation −Σ ln s_k favours a lower V_pred). A fractional error σ_V = f·V_pred
  is this model with f = (ln 10/2)·σ_int. Spec files and cubes made before its rename call it ``lognormal_gobs``
  (:data:`LEGACY_ERROR_MODELS`).

Either may carry a velocity floor σ_fl [km/s] besides: σ_V,k² = σ_fl² + (the model's σ_V,k)².

In the deprojected frame of Li+2018 (V_obs' = q·V_obs, e_V' = q·e_V, σ² = e_V'² + σ_V²) this is
ln L = −½ Σ [(V_obs' − V_pred)²/σ² + ln 2πσ²] + N·ln q: the same residuals, and the normalisation of a
density of the *tabulated* data. With σ_int = 0 it is −Σ ln(√(2π) e_V), independent of i; with σ_int > 0 it
depends on i and σ_int (and, for ``lognormal_first_order``, on V_pred) and is kept. (−½Σ ln 2πσ² alone, without N·ln q,
is a density of V_obs', a variable that moves with i; it favours large i as sin^N i.) χ² = Σ_k (V_obs,k −
V_pred,k/q)²/s_k² is the profile statistic.

**Log-normal** (``lognormal``): g_obs scatters log-normally at fixed r, ln g_obs ~ N(ln g_pred, σ_meas² + σ_int²)
in dex², i.e. in V (g ∝ V² at fixed r)

    ln V_obs,k ~ N(ln(V_pred,k·u), t_k²),   t_k² = (e_V,k/V_obs,k)² + ((ln 10/2)·σ_int)² [+ (σ_fl/V_pred,k)²],
    ln L = −½ Σ_k [(ln V_obs,k − ln V_pred,k − ln u)²/t_k² + ln(2π t_k²)] − Σ_k ln V_obs,k.

σ_meas,k = e_V,k/V_obs,k is the quoted error carried into ln V (first order), a property of the measurement held
fixed like e_V; the last term is the Jacobian d ln V/dV = 1/V_obs, so ln L is a density of the tabulated V_obs and
its ln Z compares with the Gaussian-in-V models' on the same data. With a floor σ_fl ("both": log-normal scatter and a
velocity floor) the floor of the deprojected velocity enters ln V as σ_fl/V_pred,k: in log space the inclination
cancels from it (as it does from the floor's σ_V/V in the Gaussian models), the density stays normalised and can be
drawn from exactly. The scale enters additively, ln V_pred + ln u, and t_k does not depend on u: ln L at any u follows
exactly from three sums per galaxy, (A, B, C) = Σ w·((y − m)², y − m, 1), w = 1/t_k², y = ln V_obs, m = ln V_pred.
A prediction V_pred ≤ :data:`V_MIN` is held at V_MIN: a finite penalty in both the numpy and compiled paths (≥ ½·(ln(V_obs/V_MIN)/t)²
per point, ~10³ nat at V_obs ≥ 10 km/s and t ≤ 0.3; with a floor its log-space scatter σ_fl/V_MIN flattens it to
≈ ln(σ_fl/(V_MIN·t)), ≳ 15 nat per point): zero likelihood to the precision of any sum of ln Z.

**Student-t errors** (``tail`` = 1/ν > 0, the Gaussian-in-V models only): each point's standardised residual
r_k = (V_obs,k − V_pred,k·u)/s_k follows a Student-t of ν degrees of freedom instead of N(0, 1), the same scale s_k:

    ln L = Σ_k [ln Γ((ν+1)/2) − ln Γ(ν/2) − ½ ln νπ − ln s_k − ((ν+1)/2)·ln(1 + r_k²/ν)],

heavy tails for outlying points (a few points of a curve off by non-circular motions, a bad beam), the Gaussian at
1/ν = 0. The tail weight 1/ν rather than ν is the parameter: its range [0, 1] reaches the Gaussian limit (ν → ∞) and
stops at the Cauchy (ν = 1). The engines read it in the Gaussian's form: ρ_k = ((ν+1)/2)·ln(1 + r_k²/ν) = ½r̃_k² with
the pseudo-residual r̃_k = sign(r_k)·√(2ρ_k), so χ² = Σ r̃_k² = 2Σρ_k is the profile statistic (the deviance), and the
normalisation carries n·(ln Γ((ν+1)/2) − ln Γ(ν/2) − ½ ln νπ + ½ ln 2π) besides the Gaussian's.

**Galaxy-level scale** (``tau_gal``, τ_gal ≥ 0, in ln V): each galaxy's velocity scale s_g, ln s_g ~ N(0, τ_gal²), one
draw per galaxy shared by all its points (a warp, an inclination wrong beyond its quoted error, a mis-scaled V_gas, …):
the points of a galaxy are correlated through it. The likelihood depends on i and s_g only through u, so
:mod:`sigcube.compute.quadrature` integrates u under its prior, the convolution of the inclination prior's image
ln(sin i/sin i0) with N(0, τ_gal²) (:mod:`sigcube.compute.scale_prior`), in place of the inclination.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy.special import gammaln, ndtri, stdtr

from sigcube.errors import SigcubeError
from sigcube.model.segments import segment_sum

_LOG_2PI = math.log(2.0 * math.pi)
HALF_LN10 = 0.5 * math.log(10.0)
"""d ln V / d log10 g at fixed r (g ∝ V²): a scatter of σ dex in g is (ln 10/2)·σ in ln V."""
ERROR_MODELS = {
    "velocity_floor": ("km / s", ("σ_V = σ_int [km/s] added in quadrature to e_V (an error floor of the deprojected "
                                  "rotation velocity)")),
    "lognormal_first_order": ("dex", ("log-normal intrinsic scatter of g_obs at fixed g_bar of σ_int [dex], to first "
                                      "order: σ_V = V_pred·(ln 10/2)·σ_int, Gaussian in V, added in quadrature to e_V")),
    "lognormal": ("dex", ("log-normal intrinsic scatter of g_obs at fixed g_bar of σ_int [dex]: ln V_obs ~ "
                          "N(ln(V_pred·sin i/sin i0), (e_V/V_obs)² + ((ln 10/2)·σ_int)²), a density of the tabulated "
                          "V_obs (Jacobian 1/V_obs included)")),
}
"""The intrinsic-scatter models of σ_int: name → (unit of σ_int, what it means)."""
LEGACY_ERROR_MODELS = {"lognormal_gobs": "lognormal_first_order"}
"""Names of error models before a rename → their names now: spec files, cubes and commands that say
``lognormal_gobs`` (the first-order model, before the log-normal density existed) mean ``lognormal_first_order``."""
V_MIN = 1e-6
"""Predictions below this [km/s] are held at it by the log-normal model (ln V_pred must exist): a finite penalty."""
SCALE_MIN = 1e-300
"""A velocity scale u below this (an inclination quantile clipped to i = 0) is held at it where ln u is taken."""
TAU_UNIT = "ln V"
"""The unit of τ_gal: the standard deviation of ln s_g, the natural log of a galaxy's velocity scale."""
MAX_TAIL = 1.0
"""The largest tail weight 1/ν of Student-t errors: ν = 1, the Cauchy."""
STUDENT_SERIES = 100.0
"""Above this ν the Student-t's constant is taken from its series −1/(4ν) + 1/(24ν³) − 1/(20ν⁵) (its two log-gammas'
difference loses all precision as ν grows)."""


class LikelihoodError(SigcubeError):
    """Bad likelihood settings (a negative scatter, an unknown error model) or data (non-positive errors)."""


def check_error_model(name: str) -> str:
    """The error model ``name`` means (a legacy name mapped by :data:`LEGACY_ERROR_MODELS`), else a LikelihoodError
    naming the choices."""
    name = LEGACY_ERROR_MODELS.get(name, name)
    if name not in ERROR_MODELS:
        raise LikelihoodError(f"unknown error model {name!r}; choose from {', '.join(ERROR_MODELS)}")
    return name


def _check_scale(name: str, value: float | np.ndarray, unit: str) -> None:
    s = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(s)) or np.any(s < 0):
        raise LikelihoodError(f"{name} must be finite and ≥ 0 {unit}; got {value}")


@dataclass(frozen=True)
class GaussianLikelihood:
    """Independent Gaussian errors on the tabulated V_obs (or on ln V_obs under ``lognormal``), the intrinsic scatter
    ``sigma_int`` in quadrature, and a galaxy-level velocity scale of scatter ``tau_gal`` (module docstring).

    ``sigma_int`` [km/s for ``velocity_floor``, dex otherwise] and ``tau_gal`` [ln V] are floats or arrays
    broadcastable against (m, n_points) — shape (m, 1) for a value per grid point. ``error_model`` may be a legacy
    name (:data:`LEGACY_ERROR_MODELS`); it is stored as the name it means. :meth:`bind` fixes the data; the bound
    object evaluates (m, n_points) predictions.
    """

    sigma_int: float | np.ndarray = 0.0
    error_model: str = "velocity_floor"
    floor: float | np.ndarray = 0.0
    """A velocity floor σ_fl [km/s] in quadrature besides the error model's scatter (a float, or (m, 1) like
    ``sigma_int``)."""
    tau_gal: float | np.ndarray = 0.0
    """The scatter τ_gal [ln V] of each galaxy's velocity scale, ln s_g ~ N(0, τ_gal²)."""
    tail: float | np.ndarray = 0.0
    """The Student-t errors' tail weight 1/ν (0: Gaussian; at most 1, the Cauchy), a float or (m, 1) like
    ``sigma_int``."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "error_model", check_error_model(self.error_model))
        _check_scale("sigma_int", self.sigma_int, self.unit)
        _check_scale("tau_gal", self.tau_gal, TAU_UNIT)
        _check_scale("the velocity floor", self.floor, "km/s")
        _check_scale("the tail weight 1/ν", self.tail, "")
        if np.any(np.asarray(self.tail) > MAX_TAIL):
            raise LikelihoodError(f"the tail weight 1/ν must be ≤ {MAX_TAIL:g} (ν ≥ 1, the Cauchy); got {self.tail}")
        if self.tailed and self.log_space:
            raise LikelihoodError("Student-t errors (a tail weight 1/ν > 0) go with the Gaussian-in-V error models "
                                  "(velocity_floor, lognormal_first_order), not with lognormal")

    @property
    def unit(self) -> str:
        """The unit of ``sigma_int`` under the error model."""
        return ERROR_MODELS[self.error_model][0]

    @property
    def log_space(self) -> bool:
        """Whether the errors are Gaussian in ln V (``lognormal``) rather than in V."""
        return self.error_model == "lognormal"

    @property
    def scatter_terms(self) -> tuple[np.ndarray, np.ndarray]:
        """(a, b), each broadcastable like ``sigma_int``. Gaussian in V: σ_V² = a + b·V_pred² [(km/s)²], (σ_int², 0) for
        ``velocity_floor``, (0, ((ln 10/2)·σ_int)²) for ``lognormal_first_order``, the floor's σ_fl² added to a.
        ``lognormal``: t² = (e_V/V_obs)² + a/V_pred² + b in ln V, a = σ_fl², b = ((ln 10/2)·σ_int)²."""
        s2 = np.asarray(self.sigma_int, dtype=float) ** 2
        zero = np.zeros_like(s2)
        a, b = (s2, zero) if self.error_model == "velocity_floor" else (zero, HALF_LN10**2 * s2)
        return a + np.asarray(self.floor, dtype=float) ** 2, b

    @property
    def floor_free(self) -> bool:
        """Whether σ_int = 0 everywhere and there is no floor (then, Gaussian in V, χ² at any inclination follows
        from three sums per galaxy)."""
        return not np.any(np.asarray(self.sigma_int)) and not np.any(np.asarray(self.floor))

    @property
    def tailed(self) -> bool:
        """Whether the errors are Student-t (1/ν > 0 at some grid point)."""
        return bool(np.any(np.asarray(self.tail)))

    @property
    def scaled(self) -> bool:
        """Whether a galaxy-level velocity scale is integrated (τ_gal > 0 at some grid point)."""
        return bool(np.any(np.asarray(self.tau_gal)))

    def bind(self, v_obs: np.ndarray, e_v_obs: np.ndarray, offsets: np.ndarray) -> BoundLikelihood:
        """The likelihood of these data: ``v_obs``, ``e_v_obs`` [km/s] over packed points, ``offsets`` per galaxy."""
        return BoundLikelihood(self, np.asarray(v_obs, dtype=float), np.asarray(e_v_obs, dtype=float),
                               np.asarray(offsets))

    def describe(self) -> str:
        """The likelihood, error model and what is left out, for reports."""
        model = f"error model {self.error_model}: {ERROR_MODELS[self.error_model][1]}"
        floor = ("σ_int = 0 (quoted errors only)" if self.floor_free
                 else f"σ_int = {_text(self.sigma_int)} {self.unit}"
                 + (f" and a velocity floor σ_fl = {_text(self.floor)} km/s in quadrature besides"
                    if np.any(np.asarray(self.floor)) else ""))
        if self.log_space:
            floor += " (the floor enters ln V as σ_fl/V_pred)" if np.any(np.asarray(self.floor)) else ""
            text = (
                "Log-normal likelihood of each tabulated V_obs: ln V_obs ~ N(ln(V_pred·sin i/sin i0), t²), "
                f"t² = (e_V/V_obs)² + ((ln 10/2)·σ_int)², points independent; {model}; {floor}. "
                "σ_meas = e_V/V_obs is the quoted error carried into ln V, held fixed; ln L = −½Σ[(ln V_obs − ln V_pred "
                "− ln(sin i/sin i0))²/t² + ln 2πt²] − Σ ln V_obs (the Jacobian: a density of the tabulated V_obs, "
                f"comparable with the Gaussian-in-V models' on the same data); V_pred ≤ {V_MIN:g} km/s is held there "
                "(a finite penalty); χ² = Σ(ln V_obs − ln V_pred − ln(sin i/sin i0))²/t² is the profile statistic.")
        else:
            text = (
                "Gaussian likelihood of each tabulated V_obs: V_obs ~ N(V_pred·sin i/sin i0, e_V² + (σ_V·sin i/sin i0)²), "
                f"points independent; {model}; {floor}. Equivalently, deprojected at i (V_obs' = V_obs·sin i0/sin i, "
                "e_V' likewise): σ² = e_V'² + σ_V², ln L = −½Σ[(V_obs' − V_pred)²/σ² + ln 2πσ²] + N ln(sin i0/sin i). "
                "The normalisation is kept (it depends on i and σ_int when σ_int > 0, and on V_pred under "
                "lognormal_first_order); χ² = Σ(V_obs' − V_pred)²/σ² is the profile statistic.")
        if self.tailed:
            text += (f" Student-t errors in place of the Gaussian, the same scale: tail weight 1/ν = {_text(self.tail)} "
                     "(ν degrees of freedom; 0 is the Gaussian): ln L = Σ[ln Γ((ν+1)/2) − ln Γ(ν/2) − ½ ln νπ − ln s "
                     "− ((ν+1)/2)·ln(1 + r²/ν)], r the standardised residual; χ² = Σ(ν+1)·ln(1 + r²/ν) is the profile "
                     "statistic.")
        if not self.scaled:
            return text + (
                " Not modelled: correlated errors along a curve (beam smearing, a shared "
                "systematic), errors on R, uncertainty of the gas mass and disk thickness, non-circular motions beyond "
                "what σ_int absorbs.")
        return text + (
            f" A galaxy-level velocity scale s_g multiplies every prediction of a galaxy, ln s_g ~ N(0, τ_gal²), τ_gal = "
            f"{_text(self.tau_gal)} {TAU_UNIT}, integrated per galaxy with the inclination (the likelihood depends on "
            "both only through (sin i/sin i0)·s_g, whose prior is the convolution of the inclination prior's image "
            "with N(0, τ_gal²)): the points of a galaxy are correlated through it. Not modelled: correlations along a "
            "curve beyond one scale per galaxy (a radial correlation length, beam smearing), errors on R, uncertainty "
            "of the gas mass and disk thickness, non-circular motions beyond what σ_int absorbs.")


def _text(value: float | np.ndarray) -> str:
    a = np.asarray(value, dtype=float)
    return f"{float(a.reshape(-1)[0]):g}" if a.size == 1 else f"{a.min():g}–{a.max():g}"


class Moments(NamedTuple):
    """Three sums per galaxy that give ln L at any velocity scale, and the normalisation they go with (module
    docstring): Gaussian in V, (A, B, C) = Σ w·(V_obs², V_obs·V_pred, V_pred²); log-normal, Σ w·((y − m)², y − m, 1)."""

    a: np.ndarray
    b: np.ndarray
    c: np.ndarray
    log_norm: np.ndarray


class BoundLikelihood:
    """A :class:`GaussianLikelihood` with its data; every method maps (m, n_points) to (m, n_galaxies).

    ``qinv`` = the velocity scale u (1/q = sin i/sin i0 without τ_gal) per galaxy, (m, n_galaxies) or None for 1.
    """

    def __init__(self, model: GaussianLikelihood, v_obs: np.ndarray, e_v_obs: np.ndarray, offsets: np.ndarray):
        if np.any(~(e_v_obs > 0)):
            raise LikelihoodError(f"every error e_V must be > 0 km/s; {int(np.sum(~(e_v_obs > 0)))} are not")
        if model.log_space and np.any(~(v_obs > 0)):
            raise LikelihoodError(f"the {model.error_model} error model needs every V_obs > 0 km/s (it compares ln V_obs); "
                                  f"{int(np.sum(~(v_obs > 0)))} are not: cut those points")
        self.model = model
        self.v_obs, self.e_v_obs, self.offsets = v_obs, e_v_obs, offsets
        self.counts = np.diff(offsets)
        self.inv_e = 1.0 / e_v_obs
        self.sigma_int = np.asarray(model.sigma_int, dtype=float)
        self.scatter_a, self.scatter_b = model.scatter_terms
        self.floor_free = model.floor_free
        self.log_space = model.log_space
        self.tail = np.asarray(model.tail, dtype=float)
        self.tailed = model.tailed
        self.sum_oo = segment_sum((v_obs * self.inv_e) ** 2, offsets)
        self.w_o = v_obs * self.inv_e**2
        self.log_norm0 = -segment_sum(np.log(e_v_obs), offsets) - 0.5 * _LOG_2PI * self.counts
        if self.log_space:
            self.y_obs = np.log(v_obs)
            self.rel2 = (e_v_obs / v_obs) ** 2
            self.log_jacobian = -segment_sum(self.y_obs, offsets) - 0.5 * _LOG_2PI * self.counts

    def _points(self, per_galaxy: np.ndarray) -> np.ndarray:
        return np.repeat(per_galaxy, self.counts, axis=-1)

    @property
    def moments_exact(self) -> bool:
        """Whether :meth:`log_likelihood_from_moments` is exact at every velocity scale (log-normal always; Gaussian
        in V with neither σ_int nor a floor; never under Student-t errors)."""
        return (self.log_space or self.floor_free) and not self.tailed

    def scale_coordinate(self, qinv: np.ndarray) -> np.ndarray:
        """The coordinate in which ln L is quadratic: the velocity scale u itself (Gaussian in V), ln u (log-normal)."""
        return np.log(np.maximum(qinv, SCALE_MIN)) if self.log_space else qinv

    def residuals(self, v_pred: np.ndarray, qinv: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(r, ln-normalisation): r_k = (V_obs,k − V_pred,k·u)/s_k, or (ln V_obs,k − ln V_pred,k − ln u)/t_k under
        ``lognormal`` (m, n_points), and the normalisation (m, n_galaxies), Jacobian included."""
        if self.log_space:
            m = np.log(np.maximum(v_pred, V_MIN))
            if qinv is not None:
                m = m + self._points(np.log(np.maximum(qinv, SCALE_MIN)))
            t2 = self.variance(v_pred)
            log_norm = self.log_jacobian - 0.5 * segment_sum(np.log(t2), self.offsets)
            return (self.y_obs - m) / np.sqrt(t2), np.broadcast_to(log_norm, m.shape[:-1] + self.counts.shape)
        pred = v_pred if qinv is None else v_pred * self._points(qinv)
        if self.floor_free:
            r = (self.v_obs - pred) * self.inv_e
            log_norm = np.broadcast_to(self.log_norm0, pred.shape[:-1] + self.counts.shape)
        else:
            s2 = self.variance(v_pred, qinv)
            log_norm = -0.5 * segment_sum(np.log(s2), self.offsets) - 0.5 * _LOG_2PI * self.counts
            r = (self.v_obs - pred) / np.sqrt(s2)
        if not self.tailed:
            return r, log_norm
        return pseudo_residuals(r, self.tail), log_norm + student_constant(self.tail) * self.counts

    def standardised(self, v_pred: np.ndarray, qinv: np.ndarray | None = None) -> np.ndarray:
        """r_k = (V_obs,k − V_pred,k·u)/s_k (or its log-normal form), (m, n_points): the residuals before Student-t
        errors' pseudo-residuals (:meth:`residuals`) replace them."""
        if not self.tailed:
            return self.residuals(v_pred, qinv)[0]
        pred = v_pred if qinv is None else v_pred * self._points(qinv)
        return (self.v_obs - pred) / np.sqrt(self.variance(v_pred, qinv))

    def normal_scores(self, v_pred: np.ndarray, qinv: np.ndarray | None = None) -> np.ndarray:
        """Each point's residual as a standard normal deviate, (m, n_points): :meth:`standardised` under Gaussian errors,
        Φ⁻¹(F_ν(r_k)) under Student-t errors (F_ν the t's distribution function, taken in the lower tail so that far
        points keep their size): N(0, 1) wherever the error model holds, what its predictive checks read."""
        r = self.standardised(v_pred, qinv)
        if not self.tailed:
            return r
        nu = 1.0 / np.where(self.tail > 0, self.tail, 1.0)
        lower = ndtri(stdtr(nu, -np.abs(r)))
        return np.where(self.tail > 0, np.copysign(lower, r), r)

    def variance(self, v_pred: np.ndarray, qinv: np.ndarray | None = None) -> np.ndarray:
        """s_k² = e_V,k² + (σ_V,k·u)² of each point [(km/s)²], or under ``lognormal`` t_k² [(ln V)²], (m, n_points)."""
        if self.log_space:
            v = np.maximum(v_pred, V_MIN)
            return self.rel2 + self.scatter_a / (v * v) + self.scatter_b
        scale = 1.0 if qinv is None else self._points(qinv) ** 2
        return self.e_v_obs**2 + scale * (self.scatter_a + self.scatter_b * v_pred * v_pred)

    def chi2(self, v_pred: np.ndarray, qinv: np.ndarray | None = None) -> np.ndarray:
        """χ² = Σ_k r_k² per galaxy."""
        r, _ = self.residuals(v_pred, qinv)
        return segment_sum(r * r, self.offsets)

    def log_likelihood(self, v_pred: np.ndarray, qinv: np.ndarray | None = None) -> np.ndarray:
        """ln L per galaxy (normalisation included)."""
        r, log_norm = self.residuals(v_pred, qinv)
        return log_norm - 0.5 * segment_sum(r * r, self.offsets)

    def moments(self, v_pred: np.ndarray, qinv: np.ndarray | None = None) -> Moments:
        """:class:`Moments` at prediction ``v_pred`` with the weights at velocity scale ``qinv``: ln L at any other
        scale is exact from them when :attr:`moments_exact`, approximate otherwise (the weights held at ``qinv``)."""
        if self.log_space:
            t2 = self.variance(v_pred)
            w = 1.0 / t2
            d = self.y_obs - np.log(np.maximum(v_pred, V_MIN))
            wd = w * d
            log_norm = self.log_jacobian - 0.5 * segment_sum(np.log(t2), self.offsets)
            return Moments(segment_sum(wd * d, self.offsets), segment_sum(wd, self.offsets),
                           segment_sum(w, self.offsets), log_norm)
        if self.floor_free and not self.tailed:
            scaled = v_pred * self.inv_e
            shape = v_pred.shape[:-1] + self.counts.shape
            return Moments(np.broadcast_to(self.sum_oo, shape), segment_sum(v_pred * self.w_o, self.offsets),
                           segment_sum(scaled * scaled, self.offsets), np.broadcast_to(self.log_norm0, shape))
        w = 1.0 / self.variance(v_pred, qinv)
        if self.tailed:  # the Student-t's iteratively reweighted least-squares weights at qinv
            pred = v_pred if qinv is None else v_pred * self._points(qinv)
            w = w * (1.0 + self.tail) / (1.0 + self.tail * (self.v_obs - pred) ** 2 * w)
        wo = w * self.v_obs
        return Moments(segment_sum(wo * self.v_obs, self.offsets), segment_sum(wo * v_pred, self.offsets),
                       segment_sum(w * v_pred * v_pred, self.offsets), np.broadcast_to(self.log_norm0, w.shape[:-1]
                                                                                      + self.counts.shape))

    def log_likelihood_from_moments(self, moments: Moments, qinv: np.ndarray) -> np.ndarray:
        """ln L from :meth:`moments` at velocity scale ``qinv``: N − ½(A − 2Bx + Cx²), x = :meth:`scale_coordinate`;
        exact when :attr:`moments_exact`."""
        a, b, c, log_norm = moments
        x = self.scale_coordinate(qinv)
        return log_norm - 0.5 * (a - 2.0 * x * b + x * x * c)


def student_constant(tail: float | np.ndarray) -> np.ndarray:
    """ln Γ((ν+1)/2) − ln Γ(ν/2) − ½ ln νπ + ½ ln 2π at ν = 1/``tail``, the Student-t density's constant less the
    normal's (0 at tail = 0, the Gaussian limit); above ν = :data:`STUDENT_SERIES` its series, as the compiled
    :func:`~sigcube.compute.quadrature_compiled.student_constant` takes it."""
    t = np.asarray(tail, dtype=float)
    nu = 1.0 / np.where(t >= 1.0 / STUDENT_SERIES, t, 1.0)
    exact = gammaln(0.5 * (nu + 1.0)) - gammaln(0.5 * nu) - 0.5 * np.log(nu * math.pi) + 0.5 * _LOG_2PI
    t2 = t * t
    return np.where(t >= 1.0 / STUDENT_SERIES, exact, t * (-0.25 + t2 * (1.0 / 24.0 - t2 / 20.0)))


def pseudo_residuals(r: np.ndarray, tail: float | np.ndarray) -> np.ndarray:
    """sign(r)·√(2ρ(r)), ρ = ((ν+1)/2)·ln(1 + r²/ν) at ν = 1/``tail`` (r itself at tail = 0): ½ of their squares is
    the Student-t's −ln density less its constant (ρ as the compiled
    :func:`~sigcube.compute.quadrature_compiled.student_rho` takes it)."""
    t = np.asarray(tail, dtype=float)
    x2 = r * r
    y = t * x2
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(y > 1e-8, np.log1p(y) / y, 1.0 - 0.5 * y)
    return np.copysign(np.sqrt((1.0 + t) * x2 * ratio), r)


def log_likelihood(v_pred: np.ndarray, v_obs: np.ndarray, e_v_obs: np.ndarray, offsets: np.ndarray,
                   sigma_int: float | np.ndarray = 0.0, qinv: np.ndarray | None = None,
                   error_model: str = "velocity_floor") -> np.ndarray:
    """ln L per galaxy (m, n_galaxies) of predictions ``v_pred`` (m, n_points) [km/s]: :class:`GaussianLikelihood`."""
    return GaussianLikelihood(sigma_int, error_model).bind(v_obs, e_v_obs, offsets).log_likelihood(v_pred, qinv)


def chi2(v_pred: np.ndarray, v_obs: np.ndarray, e_v_obs: np.ndarray, offsets: np.ndarray,
         sigma_int: float | np.ndarray = 0.0, qinv: np.ndarray | None = None,
         error_model: str = "velocity_floor") -> np.ndarray:
    """χ² per galaxy (m, n_galaxies) with the errors of :class:`GaussianLikelihood`."""
    return GaussianLikelihood(sigma_int, error_model).bind(v_obs, e_v_obs, offsets).chi2(v_pred, qinv)
