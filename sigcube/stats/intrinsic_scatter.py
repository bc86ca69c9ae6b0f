"""σ_int as one more global parameter of a model: a grid of values under a uniform prior, or one fixed value.

`report compare` and `report ablation` take it as ``--sigma-int X`` (fixed) or ``--sigma-int LO:HI:N`` (a grid),
in the unit of the error model (:data:`sigcube.stats.likelihood.ERROR_MODELS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import logsumexp

from sigcube.errors import SigcubeError
from sigcube.stats.likelihood import ERROR_MODELS, GaussianLikelihood, check_error_model


class ScatterError(SigcubeError):
    """A σ_int that is neither one value ≥ 0 nor a grid LO:HI:N."""


def trapezoid_weights(n: int) -> np.ndarray:
    """The trapezoid rule's weights of ``n`` evenly spaced values, normalised to sum 1."""
    w = np.ones(n)
    w[[0, -1]] = 0.5
    return w / w.sum()


@dataclass(frozen=True)
class Scatter:
    """σ_int's grid ``values`` (one value: fixed) in the unit of ``error_model``, under a uniform prior over
    [min, max] (trapezoid weights)."""

    values: np.ndarray
    error_model: str = "velocity_floor"

    @classmethod
    def parse(cls, text: str, error_model: str = "velocity_floor") -> Scatter:
        """``"X"`` (fixed) or ``"LO:HI:N"`` (N values evenly spaced from LO to HI), each ≥ 0."""
        check_error_model(error_model)
        parts = text.split(":")
        try:
            if len(parts) == 1:
                values = np.array([float(parts[0])])
            elif len(parts) == 3:
                lo, hi, n = float(parts[0]), float(parts[1]), int(parts[2])
                if not (n >= 2 and lo < hi and np.isfinite(hi)):
                    raise ValueError
                values = np.linspace(lo, hi, n)
            else:
                raise ValueError
        except ValueError:
            raise ScatterError(f"--sigma-int takes a value X or a grid LO:HI:N (LO < HI, N ≥ 2), not {text!r}") from None
        if not (np.all(np.isfinite(values)) and values.min() >= 0):
            raise ScatterError(f"--sigma-int must be finite and ≥ 0 {ERROR_MODELS[error_model][0]}; got {text!r}")
        return cls(values, error_model)

    @property
    def free(self) -> bool:
        """Whether σ_int is a grid axis (fitted, a parameter that k counts) rather than one fixed value."""
        return self.values.size > 1

    @property
    def log_w(self) -> np.ndarray:
        """ln of its prior weights (sum 1)."""
        return np.log(trapezoid_weights(self.values.size)) if self.free else np.zeros(1)

    def likelihood(self, m: int) -> GaussianLikelihood:
        """The likelihood of the joint grid: σ_int-major, ``m`` model grid points per σ_int value, shape (S·m, 1)."""
        return GaussianLikelihood(np.repeat(self.values, m)[:, None], self.error_model)

    def describe(self) -> dict[str, Any]:
        unit = ERROR_MODELS[self.error_model][0]
        prior = (f"uniform on [{self.values[0]:g}, {self.values[-1]:g}] {unit}, {self.values.size} grid values, "
                 "trapezoid weights" if self.free else f"fixed at {self.values[0]:g} {unit}")
        return {"error_model": self.error_model, "unit": unit, "values": self.values.tolist(), "prior": prior,
                "what": ERROR_MODELS[self.error_model][1]}

    def posterior(self, log_post: np.ndarray) -> dict[str, Any]:
        """σ_int's marginal posterior from its unnormalised ln p over the grid values: mean, sd, mode, and whether
        the grid cuts it (the density at an end above 1 % of its peak)."""
        p = np.exp(log_post - logsumexp(log_post))
        mean = float(p @ self.values)
        density = np.exp(log_post - log_post.max())
        return {"mean": mean, "sd": float(np.sqrt(max(p @ (self.values - mean) ** 2, 0.0))),
                "mode": float(self.values[int(np.argmax(p))]), "posterior": p.tolist(),
                "cut_by_grid": bool(self.free and max(density[0], density[-1]) > 0.01)}

    def profile(self, log_like: np.ndarray) -> dict[str, Any]:
        """σ_int's profile over the grid values from the maximised ln L at each: the best grid value, the grid values
        within Δ ln L ≤ ½ of it (≈ 68 % by Wilks, resolved only to the grid's step), whether the best sits at an end
        of the grid, and — best inside the grid — the parabola through it and its two neighbours: its vertex and
        the 1σ half-width √(−1/(2a)) of ln L ≈ c + bσ + aσ² (None at an end, or where the three are not concave)."""
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
