"""The per-galaxy Gaussian likelihood of a rotation curve, with the inclination and an intrinsic scatter.

The data are the tabulated V_obs,k with errors e_V,k (deprojected at the catalogue inclination i0).
At inclination i the model projects as V_pred·sin i/sin i0, so with q = sin i0/sin i:

    V_obs,k ~ N(V_pred,k/q, s_k²),   s_k² = e_V,k² + (σ_V,k/q)²,   points independent,

    ln L = −½ Σ_k [(V_obs,k − V_pred,k/q)²/s_k² + ln(2π s_k²)].

σ_V,k [km/s] is the intrinsic scatter of the deprojected rotation velocity, by one of :data:`ERROR_MODELS`:

- ``velocity_floor``: σ_V = σ_int [km/s], the same at every point (an error floor added in quadrature);
- ``lognormal_gobs``: a log-normal scatter of g_obs at fixed g_bar of σ_int [dex], to first order in σ_int:
  g ∝ V², so ln V scatters by (ln 10/2)·σ_int and σ_V,k = V_pred,k·(ln 10/2)·σ_int (Gaussian in V, not in log V).
  A fractional error σ_V = f·V_pred is this model with f = (ln 10/2)·σ_int.

Either may carry a velocity floor σ_fl [km/s] besides: σ_V,k² = σ_fl² + (the model's σ_V,k)² (both error models
together when the model is ``lognormal_gobs``).

In the deprojected frame of Li+2018 (V_obs' = q·V_obs, e_V' = q·e_V, σ² = e_V'² + σ_V²) this is
ln L = −½ Σ [(V_obs' − V_pred)²/σ² + ln 2πσ²] + N·ln q: the same residuals, and the normalisation of a
density of the *tabulated* data. With σ_int = 0 it is −Σ ln(√(2π) e_V), independent of i; with σ_int > 0 it
depends on i and σ_int (and, for ``lognormal_gobs``, on V_pred) and is kept. (−½Σ ln 2πσ² alone, without N·ln q,
is a density of V_obs', a variable that moves with i; it favours large i as sin^N i.) χ² = Σ_k (V_obs,k −
V_pred,k/q)²/s_k² is the profile statistic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sigcube.errors import SigcubeError
from sigcube.model.segments import segment_sum

_LOG_2PI = math.log(2.0 * math.pi)
HALF_LN10 = 0.5 * math.log(10.0)
"""d ln V / d log10 g at fixed r (g ∝ V²): a scatter of σ dex in g is (ln 10/2)·σ in ln V."""
ERROR_MODELS = {
    "velocity_floor": ("km / s", "σ_V = σ_int [km/s] added in quadrature to e_V (an error floor of the deprojected "
                                 "rotation velocity)"),
    "lognormal_gobs": ("dex", "log-normal intrinsic scatter of g_obs at fixed g_bar of σ_int [dex], to first order: "
                              "σ_V = V_pred·(ln 10/2)·σ_int, Gaussian in V, added in quadrature to e_V"),
}
"""The intrinsic-scatter models of σ_int: name → (unit of σ_int, what it means)."""


class LikelihoodError(SigcubeError):
    """Bad likelihood settings (a negative scatter, an unknown error model) or data (non-positive errors)."""


def check_error_model(name: str) -> str:
    """``name`` if it is one of :data:`ERROR_MODELS`, else a LikelihoodError naming them."""
    if name not in ERROR_MODELS:
        raise LikelihoodError(f"unknown error model {name!r}; choose from {', '.join(ERROR_MODELS)}")
    return name


@dataclass(frozen=True)
class GaussianLikelihood:
    """Independent Gaussian errors on the tabulated V_obs, plus the intrinsic scatter ``sigma_int`` in quadrature.

    ``sigma_int`` [km/s for ``velocity_floor``, dex for ``lognormal_gobs``] is a float or an array broadcastable
    against (m, n_points) — shape (m, 1) for a value per grid point. :meth:`bind` fixes the data; the bound object
    evaluates (m, n_points) predictions.
    """

    sigma_int: float | np.ndarray = 0.0
    error_model: str = "velocity_floor"
    floor: float = 0.0
    """A velocity floor σ_fl [km/s] in quadrature besides the error model's scatter."""

    def __post_init__(self) -> None:
        check_error_model(self.error_model)
        s = np.asarray(self.sigma_int, dtype=float)
        if not np.all(np.isfinite(s)) or np.any(s < 0):
            raise LikelihoodError(f"sigma_int must be finite and ≥ 0 {self.unit}; got {self.sigma_int}")
        if not (math.isfinite(self.floor) and self.floor >= 0):
            raise LikelihoodError(f"the velocity floor must be finite and ≥ 0 km/s; got {self.floor}")

    @property
    def unit(self) -> str:
        """The unit of ``sigma_int`` under the error model."""
        return ERROR_MODELS[self.error_model][0]

    @property
    def scatter_terms(self) -> tuple[np.ndarray, np.ndarray]:
        """(a, b) with σ_V² = a + b·V_pred² [(km/s)²]: (σ_int², 0) for ``velocity_floor``, (0, ((ln 10/2)·σ_int)²)
        for ``lognormal_gobs``, the floor's σ_fl² added to a; each broadcastable like ``sigma_int``."""
        s2 = np.asarray(self.sigma_int, dtype=float) ** 2
        zero = np.zeros_like(s2)
        a, b = (s2, zero) if self.error_model == "velocity_floor" else (zero, HALF_LN10**2 * s2)
        return a + self.floor ** 2, b

    @property
    def floor_free(self) -> bool:
        """Whether σ_int = 0 everywhere and there is no floor (then χ² at any inclination follows from three sums per
        galaxy)."""
        return not np.any(np.asarray(self.sigma_int)) and self.floor == 0

    def bind(self, v_obs: np.ndarray, e_v_obs: np.ndarray, offsets: np.ndarray) -> BoundLikelihood:
        """The likelihood of these data: ``v_obs``, ``e_v_obs`` [km/s] over packed points, ``offsets`` per galaxy."""
        return BoundLikelihood(self, np.asarray(v_obs, dtype=float), np.asarray(e_v_obs, dtype=float),
                               np.asarray(offsets))

    def describe(self) -> str:
        """The likelihood, error model and what is left out, for reports."""
        model = f"error model {self.error_model}: {ERROR_MODELS[self.error_model][1]}"
        floor = ("σ_int = 0 (quoted errors only)" if self.floor_free
                 else f"σ_int = {_text(self.sigma_int)} {self.unit}"
                 + (f" and a velocity floor σ_fl = {self.floor:g} km/s in quadrature besides" if self.floor else ""))
        return (
            "Gaussian likelihood of each tabulated V_obs: V_obs ~ N(V_pred·sin i/sin i0, e_V² + (σ_V·sin i/sin i0)²), "
            f"points independent; {model}; {floor}. Equivalently, deprojected at i (V_obs' = V_obs·sin i0/sin i, "
            "e_V' likewise): σ² = e_V'² + σ_V², ln L = −½Σ[(V_obs' − V_pred)²/σ² + ln 2πσ²] + N ln(sin i0/sin i). "
            "The normalisation is kept (it depends on i and σ_int when σ_int > 0, and on V_pred under lognormal_gobs); "
            "χ² = Σ(V_obs' − V_pred)²/σ² "
            "is the profile statistic. Not modelled: correlated errors along a curve (beam smearing, a shared "
            "systematic), errors on R, uncertainty of the gas mass and disk thickness, non-circular motions beyond "
            "what σ_int absorbs."
        )


def _text(value: float | np.ndarray) -> str:
    a = np.asarray(value, dtype=float)
    return f"{float(a):g}" if a.size == 1 else f"{a.min():g}–{a.max():g}"


class BoundLikelihood:
    """A :class:`GaussianLikelihood` with its data; every method maps (m, n_points) to (m, n_galaxies).

    ``qinv`` = 1/q = sin i/sin i0 per galaxy, (m, n_galaxies) or None for the catalogue inclination.
    """

    def __init__(self, model: GaussianLikelihood, v_obs: np.ndarray, e_v_obs: np.ndarray, offsets: np.ndarray):
        if np.any(~(e_v_obs > 0)):
            raise LikelihoodError(f"every error e_V must be > 0 km/s; {int(np.sum(~(e_v_obs > 0)))} are not")
        self.model = model
        self.v_obs, self.e_v_obs, self.offsets = v_obs, e_v_obs, offsets
        self.counts = np.diff(offsets)
        self.inv_e = 1.0 / e_v_obs
        self.sigma_int = np.asarray(model.sigma_int, dtype=float)
        self.scatter_a, self.scatter_b = model.scatter_terms
        self.floor_free = model.floor_free
        self.sum_oo = segment_sum((v_obs * self.inv_e) ** 2, offsets)
        self.w_o = v_obs * self.inv_e**2
        self.log_norm0 = -segment_sum(np.log(e_v_obs), offsets) - 0.5 * _LOG_2PI * self.counts

    def _points(self, per_galaxy: np.ndarray) -> np.ndarray:
        return np.repeat(per_galaxy, self.counts, axis=-1)

    def residuals(self, v_pred: np.ndarray, qinv: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(r, ln-normalisation): r_k = (V_obs,k − V_pred,k/q)/s_k (m, n_points) and −½Σ ln(2π s²) (m, n_galaxies)."""
        pred = v_pred if qinv is None else v_pred * self._points(qinv)
        if self.floor_free:
            return (self.v_obs - pred) * self.inv_e, np.broadcast_to(self.log_norm0, pred.shape[:-1] + self.counts.shape)
        s2 = self.variance(v_pred, qinv)
        log_norm = -0.5 * segment_sum(np.log(s2), self.offsets) - 0.5 * _LOG_2PI * self.counts
        return (self.v_obs - pred) / np.sqrt(s2), log_norm

    def variance(self, v_pred: np.ndarray, qinv: np.ndarray | None = None) -> np.ndarray:
        """s_k² = e_V,k² + (σ_V,k/q)² of each point [(km/s)²], (m, n_points)."""
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

    def moments(self, v_pred: np.ndarray, qinv: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(A, B, C) = Σ w·(V_obs², V_obs·V_pred, V_pred²) per galaxy, w = 1/s² at 1/q = ``qinv``: χ² at any other
        1/q is A − 2B/q + C/q² when σ_int = 0 (exact) and approximately otherwise (w held at ``qinv``)."""
        if self.floor_free:
            scaled = v_pred * self.inv_e
            return (np.broadcast_to(self.sum_oo, v_pred.shape[:-1] + self.counts.shape),
                    segment_sum(v_pred * self.w_o, self.offsets), segment_sum(scaled * scaled, self.offsets))
        w = 1.0 / self.variance(v_pred, qinv)
        wo = w * self.v_obs
        return (segment_sum(wo * self.v_obs, self.offsets), segment_sum(wo * v_pred, self.offsets),
                segment_sum(w * v_pred * v_pred, self.offsets))

    def log_likelihood_from_moments(self, moments: tuple[np.ndarray, np.ndarray, np.ndarray],
                                    qinv: np.ndarray) -> np.ndarray:
        """ln L from :meth:`moments` at 1/q = ``qinv``, exact when σ_int = 0: χ² = A − 2B/q + C/q²."""
        a, b, c = moments
        return self.log_norm0 - 0.5 * (a - 2.0 * qinv * b + qinv * qinv * c)


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
