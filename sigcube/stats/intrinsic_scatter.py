"""σ_int and τ_gal as global parameters of a model: a grid of values under a uniform prior, or one fixed value.

`report compare` and `report ablation` take σ_int as ``--sigma-int X`` (fixed) or ``--sigma-int LO:HI:N`` (a grid),
in the unit of the error model (:data:`sigcube.stats.likelihood.ERROR_MODELS`); τ_gal, the scatter of each galaxy's
velocity scale [ln V] (:class:`~sigcube.stats.likelihood.GaussianLikelihood`), is given the same way
(:class:`GalaxyScale`), and so are a velocity floor σ_fl [km/s] beside a log-normal σ_int (:class:`VelocityFloor`: the
two together) and the tail weight 1/ν of Student-t errors (:class:`TailWeight`). A grid has at most
:data:`MAX_GRID_VALUES` values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from scipy.special import logsumexp

from sigcube.errors import SigcubeError
from sigcube.stats.likelihood import ERROR_MODELS, MAX_TAIL, TAU_UNIT, GaussianLikelihood, check_error_model

FLOOR_UNIT = "km / s"
"""The unit of a velocity floor σ_fl."""
MAX_GRID_VALUES = 1001
"""The most values of a σ_int or τ_gal grid. Each value is one more slice of every evidence integral's coarse pass:
per-galaxy ln L, profile ln L, χ² and objective (4 arrays of 8 bytes) for each of the model's coarse grid points —
175 SPARC galaxies × 81 points of a two-parameter model, ≈ 450 kB per value, ≈ 0.45 GB at this limit (and a τ_gal
grid multiplies a σ_int grid) — and, for a per-galaxy model, one more adaptive integral of every galaxy."""


class ScatterError(SigcubeError):
    """A σ_int or τ_gal that is neither one value ≥ 0 nor a grid LO:HI:N within the limits."""


def trapezoid_weights(n: int) -> np.ndarray:
    """The trapezoid rule's weights of ``n`` evenly spaced values, normalised to sum 1."""
    w = np.ones(n)
    w[[0, -1]] = 0.5
    return w / w.sum()


def parse_grid(text: str, option: str, unit: str) -> np.ndarray:
    """``"X"`` (one value) or ``"LO:HI:N"`` (N ≤ :data:`MAX_GRID_VALUES` values evenly spaced from LO to HI), each
    finite and ≥ 0 [``unit``]; ScatterError naming ``option`` otherwise."""
    parts = text.split(":")
    try:
        if len(parts) == 1:
            values = np.array([float(parts[0])])
        elif len(parts) == 3:
            lo, hi, n = float(parts[0]), float(parts[1]), int(parts[2])
            if not (n >= 2 and lo < hi and np.isfinite(hi)):
                raise ValueError
            if n > MAX_GRID_VALUES:
                raise ScatterError(
                    f"{option} {text}: {n} grid values, more than the {MAX_GRID_VALUES} allowed — each value adds a "
                    f"slice of per-galaxy arrays to every evidence integral (≈ 0.45 GB at {MAX_GRID_VALUES} values for "
                    "SPARC and a two-parameter model); a uniform prior is integrated well by 21–101 values")
            values = np.linspace(lo, hi, n)
        else:
            raise ValueError
    except ValueError:
        raise ScatterError(f"{option} takes a value X or a grid LO:HI:N (LO < HI, N ≥ 2), not {text!r}") from None
    if not (np.all(np.isfinite(values)) and values.min() >= 0):
        raise ScatterError(f"{option} must be finite and ≥ 0 {unit}; got {text!r}")
    return values


@dataclass(frozen=True)
class GridParameter:
    """A likelihood parameter's grid ``values`` (one value: fixed) under a uniform prior over [min, max] (trapezoid
    weights): what :class:`Scatter` and :class:`GalaxyScale` share."""

    values: np.ndarray
    symbol: ClassVar[str] = ""

    @property
    def free(self) -> bool:
        """Whether the parameter is a grid axis (fitted, a parameter that k counts) rather than one fixed value."""
        return self.values.size > 1

    @property
    def log_w(self) -> np.ndarray:
        """ln of its prior weights (sum 1)."""
        return np.log(trapezoid_weights(self.values.size)) if self.free else np.zeros(1)

    @property
    def unit(self) -> str:
        raise NotImplementedError

    def prior(self) -> str:
        """The prior, in words."""
        unit = f" {self.unit}" if self.unit else ""
        return (f"uniform on [{self.values[0]:g}, {self.values[-1]:g}]{unit}, {self.values.size} grid values, "
                "trapezoid weights" if self.free else f"fixed at {self.values[0]:g}{unit}")

    def posterior(self, log_post: np.ndarray) -> dict[str, Any]:
        """The marginal posterior from its unnormalised ln p over the grid values: mean, sd, mode, and whether the grid
        cuts it (the density at an end above 1 % of its peak)."""
        p = np.exp(log_post - logsumexp(log_post))
        mean = float(p @ self.values)
        density = np.exp(log_post - log_post.max())
        return {"mean": mean, "sd": float(np.sqrt(max(p @ (self.values - mean) ** 2, 0.0))),
                "mode": float(self.values[int(np.argmax(p))]), "posterior": p.tolist(),
                "cut_by_grid": bool(self.free and max(density[0], density[-1]) > 0.01)}

    def profile(self, log_like: np.ndarray) -> dict[str, Any]:
        """The profile over the grid values from the maximised ln L at each: the best grid value, the grid values within
        Δ ln L ≤ ½ of it (≈ 68 % by Wilks, resolved only to the grid's step), whether the best sits at an end of the
        grid, and — best inside the grid — the parabola through it and its two neighbours: its vertex and the 1σ
        half-width √(−1/(2a)) of ln L ≈ c + bσ + aσ² (None at an end, or where the three are not concave)."""
        log_like = np.asarray(log_like, dtype=float)
        best = int(np.nanargmax(log_like))
        inside = self.values[log_like >= log_like[best] - 0.5]
        edge = best in (0, self.values.size - 1)
        parabola = None
        if not edge:
            a, b, _ = np.polyfit(self.values[best - 1:best + 2], log_like[best - 1:best + 2], 2)
            if a < 0:
                parabola = {"best": float(-b / (2 * a)), "sd": float(np.sqrt(-1 / (2 * a)))}
        return {"ln_L": log_like.tolist(), "best": float(self.values[best]),
                "interval_68": [float(inside.min()), float(inside.max())], "cut_by_grid": bool(self.free and edge),
                "parabola": parabola}


@dataclass(frozen=True)
class Scatter(GridParameter):
    """σ_int's grid ``values`` (one value: fixed) in the unit of ``error_model`` (a legacy name is stored as the name it
    means, :data:`~sigcube.stats.likelihood.LEGACY_ERROR_MODELS`), under a uniform prior over [min, max]; with
    ``tau_gal``, each galaxy's velocity scale of scatter τ_gal beside it (correlated errors within a galaxy); with
    ``sigma_floor``, a velocity floor beside a log-normal σ_int (both together); with ``tail``, Student-t errors of
    tail weight 1/ν (heavy tails) in place of the Gaussian."""

    error_model: str = "velocity_floor"
    tau_gal: GalaxyScale | None = None
    sigma_floor: VelocityFloor | None = None
    tail: TailWeight | None = None
    symbol: ClassVar[str] = "σ_int"

    def __post_init__(self) -> None:
        object.__setattr__(self, "error_model", check_error_model(self.error_model))
        if self.sigma_floor is not None and self.error_model == "velocity_floor":
            raise ScatterError("a velocity floor beside σ_int goes with a log-normal error model (lognormal, or "
                               "lognormal_first_order): under velocity_floor σ_int is the floor")
        if self.tail is not None and self.error_model == "lognormal":
            raise ScatterError("Student-t errors (a tail weight 1/ν) go with the Gaussian-in-V error models "
                               "(velocity_floor, lognormal_first_order), not with lognormal")

    @classmethod
    def parse(cls, text: str, error_model: str = "velocity_floor", tau_gal: str | None = None,
              sigma_floor: str | None = None, tail: str | None = None) -> Scatter:
        """``"X"`` (fixed) or ``"LO:HI:N"`` (N values evenly spaced from LO to HI), each ≥ 0; ``tau_gal`` τ_gal's
        values alike (None: no galaxy-level scale), ``sigma_floor`` the floor's (None: no floor), ``tail`` the tail
        weight's (None: Gaussian errors)."""
        error_model = check_error_model(error_model)
        return cls(parse_grid(text, "--sigma-int", ERROR_MODELS[error_model][0]), error_model,
                   None if tau_gal is None else GalaxyScale.parse(tau_gal),
                   None if sigma_floor is None else VelocityFloor.parse(sigma_floor),
                   None if tail is None else TailWeight.parse(tail))

    @property
    def unit(self) -> str:
        return ERROR_MODELS[self.error_model][0]

    def likelihood(self, m: int, tau_gal: float | np.ndarray = 0.0) -> GaussianLikelihood:
        """The likelihood of the joint grid: σ_int-major, ``m`` model grid points per σ_int value, shape (S·m, 1);
        ``tau_gal`` one value, or (S·m, 1) like σ_int."""
        return GaussianLikelihood(np.repeat(self.values, m)[:, None], self.error_model, tau_gal=tau_gal)

    @property
    def tau_values(self) -> np.ndarray:
        """τ_gal's values [ln V] (0: no galaxy-level scale)."""
        return np.zeros(1) if self.tau_gal is None else self.tau_gal.values

    @property
    def floor_values(self) -> np.ndarray:
        """The velocity floor's values [km/s] (0: no floor)."""
        return np.zeros(1) if self.sigma_floor is None else self.sigma_floor.values

    @property
    def tail_values(self) -> np.ndarray:
        """The tail weight's values 1/ν (0: Gaussian errors)."""
        return np.zeros(1) if self.tail is None else self.tail.values

    @property
    def others(self) -> dict[str, GridParameter]:
        """The likelihood's parameters beside σ_int, by axis name (the evidence's, and the key of each in reports):
        ``tau_gal``, ``sigma_floor``, ``tail`` (those given)."""
        return {k: v for k, v in (("tau_gal", self.tau_gal), ("sigma_floor", self.sigma_floor), ("tail", self.tail))
                if v is not None}

    def describe(self) -> dict[str, Any]:
        return {"error_model": self.error_model, "unit": self.unit, "values": self.values.tolist(),
                "prior": self.prior(), "what": ERROR_MODELS[self.error_model][1],
                **{k: v.describe() for k, v in self.others.items()}}


@dataclass(frozen=True)
class BesideScatter(GridParameter):
    """A likelihood parameter beside σ_int with a fixed unit: given as ``option`` X or LO:HI:N, described by ``what``."""

    option: ClassVar[str] = ""
    unit_name: ClassVar[str] = ""
    what: ClassVar[str] = ""

    @classmethod
    def parse(cls, text: str) -> Any:
        """``"X"`` (fixed) or ``"LO:HI:N"`` (N values evenly spaced from LO to HI), each ≥ 0."""
        return cls(parse_grid(text, cls.option, cls.unit_name))

    @property
    def unit(self) -> str:
        return self.unit_name

    def describe(self) -> dict[str, Any]:
        return {"unit": self.unit, "values": self.values.tolist(), "prior": self.prior(), "what": self.what}


@dataclass(frozen=True)
class GalaxyScale(BesideScatter):
    """τ_gal's grid ``values`` (one value: fixed) [ln V]: the scatter of each galaxy's velocity scale, ln s_g ~
    N(0, τ_gal²), under a uniform prior over [min, max]."""

    symbol: ClassVar[str] = "τ_gal"
    option: ClassVar[str] = "--tau-gal"
    unit_name: ClassVar[str] = TAU_UNIT
    what: ClassVar[str] = ("each galaxy's velocity scale s_g multiplies all its predictions, ln s_g ~ N(0, τ_gal²), "
                           "integrated per galaxy with the inclination")


@dataclass(frozen=True)
class VelocityFloor(BesideScatter):
    """A velocity floor's grid ``values`` (one value: fixed) [km/s] beside a log-normal σ_int, in quadrature with e_V
    (under ``lognormal`` it enters ln V as σ_fl/V_pred), under a uniform prior over [min, max]."""

    symbol: ClassVar[str] = "σ_fl"
    option: ClassVar[str] = "--sigma-floor"
    unit_name: ClassVar[str] = FLOOR_UNIT
    what: ClassVar[str] = ("a velocity floor σ_fl [km/s] in quadrature with e_V beside the log-normal σ_int (under "
                           "lognormal it enters ln V as σ_fl/V_pred): the log-normal scatter and a floor together")


@dataclass(frozen=True)
class TailWeight(BesideScatter):
    """The tail weight 1/ν of Student-t errors: its grid ``values`` (one value: fixed) in [0, 1] (0 the Gaussian, 1 the
    Cauchy), under a uniform prior over [min, max]: uniform in 1/ν, so the range reaches the Gaussian limit ν → ∞."""

    symbol: ClassVar[str] = "1/ν"
    option: ClassVar[str] = "--tail"
    unit_name: ClassVar[str] = ""
    what: ClassVar[str] = ("Student-t errors of ν degrees of freedom in place of the Gaussian, the same scale s (heavy "
                           "tails: a few points of a curve far off); 1/ν = 0 is the Gaussian")

    def __post_init__(self) -> None:
        if self.values.max() > MAX_TAIL:
            raise ScatterError(f"{self.option}: the tail weight 1/ν is at most {MAX_TAIL:g} (ν ≥ 1, the Cauchy); got "
                               f"{self.values.max():g}")


BESIDE: dict[str, type[BesideScatter]] = {"tau_gal": GalaxyScale, "sigma_floor": VelocityFloor, "tail": TailWeight}
"""The likelihood's parameters beside σ_int by axis name (:attr:`Scatter.others`' keys), each with its class."""
