"""The ``[nuisance]`` table of sweep and fit specs, declared once (pydantic): which per-galaxy nuisance parameters
(Υ_disk, Υ_bul, D, i) are free, their priors, and how each engine removes them.

Both tables share the parameters and the prior overrides (:data:`Priors`, each prior checked with its catalogue
columns stood in for; :func:`prior_specs`); :class:`SweepNuisance` says how a sweep removes them (marginalised by
adaptive Gauss–Hermite, or profiled), the intrinsic scatter σ_int and its error model, :class:`FitNuisance` how a
fit treats them (held, or profiled jointly with the kernel's parameters).

σ_int is one number of ``[nuisance]``, or a grid axis of its own, ``[grid.sigma_int]`` (:data:`SCATTER_AXIS`): a
parameter of the likelihood, not of the kernel, so the result cube then holds the joint posterior of the kernel's
parameters and σ_int under the global grid prior. So is τ_gal, the scatter of each galaxy's velocity scale
(``[nuisance].tau_gal`` or ``[grid.tau_gal]``, :data:`TAU_AXIS`).

The error model may be given by a legacy name (:data:`~sigcube.stats.likelihood.LEGACY_ERROR_MODELS`): a spec that
says ``lognormal_gobs`` means ``lognormal_first_order``, and the fingerprint of a spec naming the first-order model by
either name is the one it had before the rename (:data:`FINGERPRINT_NAMES`), so its cubes stay current.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, model_validator

from sigcube.stats.likelihood import ERROR_MODELS, LEGACY_ERROR_MODELS, TAU_UNIT, GaussianLikelihood, check_error_model
from sigcube.stats.nuisance import NUISANCE_PARAMETERS, SPARC_PRIORS, SYMBOLS
from sigcube.stats.priors import Prior, PriorError

GLOBAL_PRIOR = "equal mass per grid point (flat in a linspace axis, flat in the log of a logspace axis)"
"""The global prior of every sweep posterior."""
NuisanceName = Literal["upsilon_disk", "upsilon_bul", "distance", "inclination"]
ErrorModel = Literal["velocity_floor", "lognormal_first_order", "lognormal", "lognormal_gobs"]
SCATTER_AXIS = "sigma_int"
"""The grid axis of the intrinsic scatter (``[grid.sigma_int]``): a likelihood parameter of a nuisance sweep."""
TAU_AXIS = "tau_gal"
"""The grid axis of the galaxy-level velocity-scale scatter τ_gal (``[grid.tau_gal]``): a likelihood parameter too."""
LIKELIHOOD_AXES = (SCATTER_AXIS, TAU_AXIS)
"""The grid axes that are parameters of the likelihood, not of the kernel."""
FLOOR_AXIS = "sigma_floor"
"""A velocity floor σ_fl [km/s] beside σ_int (``[nuisance].sigma_floor`` of a sweep, one value): an axis of the
evidence integrals of ``report compare`` only (:data:`sigcube.engines.evidence.LIKELIHOOD`)."""
TAIL_AXIS = "tail"
"""The Student-t errors' tail weight 1/ν beside σ_int (0: Gaussian errors): an axis of the evidence integrals of
``report compare`` only, like :data:`FLOOR_AXIS`."""
FINGERPRINT_NAMES = {new: old for old, new in LEGACY_ERROR_MODELS.items()}
"""The name a renamed error model keeps in a spec's fingerprint (the name its cubes were made under)."""
_ROLE = ("likelihood parameter of the nuisance marginalisation; the plain metrics (rms, chi2, mean_rms, win_rate, …) "
         "do not depend on it")


def scatter_attrs(error_model: str, axis: str = SCATTER_AXIS) -> dict[str, str]:
    """The coordinate attributes of a σ_int (or, ``axis`` = :data:`TAU_AXIS`, a τ_gal) grid axis under
    ``error_model``."""
    error_model = check_error_model(error_model)
    if axis == TAU_AXIS:
        return {"units": TAU_UNIT, "long_name": "scatter τ_gal of each galaxy's velocity scale, ln s_g ~ N(0, τ_gal²), "
                                                "integrated per galaxy with the inclination",
                "error_model": error_model, "role": _ROLE}
    unit, meaning = ERROR_MODELS[error_model]
    return {"units": unit, "long_name": f"intrinsic scatter σ_int ({error_model}: {meaning})", "error_model": error_model,
            "role": _ROLE}


def placeholder_prior(name: str, spec: Mapping[str, Any]) -> Prior:
    """The prior of ``spec`` with every catalogue column set to 1 (checks the spec; its text names the columns)."""
    columns = {"distance": np.ones(1), "e_distance": np.ones(1), "inclination": np.full(1, 45.0),
               "e_inclination": np.ones(1)}
    try:
        return Prior.from_spec(spec, columns, name)
    except PriorError as exc:
        raise ValueError(str(exc)) from None


def _check_priors(value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    for name, spec in value.items():
        if name not in NUISANCE_PARAMETERS:
            raise ValueError(f"unknown nuisance parameter {name!r}; choose from {', '.join(NUISANCE_PARAMETERS)}")
        placeholder_prior(name, spec)
    return value


def _check_tau_gal(value: float) -> float:
    """τ_gal within what the integral over each galaxy's velocity scale takes (0: none)."""
    if value:
        from sigcube.compute.scale_prior import tau_problem

        problem = tau_problem(value)
        if problem is not None:
            raise ValueError(problem)
    return value


Priors = Annotated[dict[str, dict[str, Any]], AfterValidator(_check_priors)]
"""Prior overrides by nuisance parameter, each checked."""
PRIORS = ("prior overrides by parameter, e.g. upsilon_disk = {dist = \"log10_normal\", median = 0.5, sigma_dex = "
          "0.1}; a string value names a catalogue column (distance, e_distance, inclination, e_inclination)")
PARAMETERS = ("the free nuisance parameters (others stay at the catalogue / packing values); upsilon_bul applies "
              "only to galaxies with a bulge")


def prior_specs(parameters: list[str], priors: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The prior spec of each of ``parameters`` (an override of ``priors``, else the default: Li+2018,
    ``SPARC_PRIORS``), in quadrature order."""
    return {name: dict(priors.get(name, SPARC_PRIORS[name])) for name in NUISANCE_PARAMETERS if name in parameters}


class SweepNuisance(BaseModel):
    """A sweep's ``[nuisance]``: per-object nuisance parameters, their priors, how they are removed, the error floor."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["marginalise", "profile"] = Field(
        "marginalise", description="marginalise: ln ∫ L·prior over each object's nuisance parameters (adaptive "
                                   "Gauss–Hermite); profile: their maximum of L·prior")
    nodes: Annotated[StrictInt, Field(ge=1, le=9)] = Field(
        5, description="Gauss–Hermite nodes per nuisance dimension (marginalise; `report sweep --check-integrals` "
                       "says whether the count sums the galaxies' ln Z as accurately as the per-galaxy node rule does "
                       "— the shipped σ_int specs use 7, which it accepts)")
    parameters: list[NuisanceName] = Field(default_factory=lambda: list(NUISANCE_PARAMETERS), description=PARAMETERS)
    priors: Priors = Field(default_factory=dict, description=PRIORS)
    sigma_int: Annotated[float, Field(ge=0.0, allow_inf_nan=False)] = Field(
        0.0, description="intrinsic scatter in the error model's unit (km/s or dex); to sweep it, give its values in "
                         "[grid.sigma_int] instead")
    error_model: ErrorModel = Field(
        "velocity_floor", description="velocity_floor: σ_int [km/s] added in quadrature to e_V; lognormal: "
                                      "log-normal scatter of g_obs at fixed g_bar of σ_int [dex], ln V_obs ~ "
                                      "N(ln V_pred, (e_V/V_obs)² + ((ln 10/2)·σ_int)²); lognormal_first_order "
                                      "(formerly lognormal_gobs): Gaussian in V, σ_V = V_pred·(ln 10/2)·σ_int")
    sigma_floor: Annotated[float, Field(ge=0.0, allow_inf_nan=False)] = Field(
        0.0, description="a velocity floor [km/s] in quadrature besides the error model's σ_int (with a log-normal "
                         "model: both together; under lognormal it enters ln V as σ_fl/V_pred)")
    tau_gal: Annotated[float, Field(ge=0.0, allow_inf_nan=False), AfterValidator(_check_tau_gal)] = Field(
        0.0, description="scatter of each galaxy's velocity scale [ln V], ln s_g ~ N(0, τ_gal²), integrated per "
                         "galaxy with the inclination (correlated errors within a galaxy); to sweep it, give its values "
                         "in [grid.tau_gal] instead")

    def settings(self) -> NuisanceSettings:
        """The validated settings the engine ships with every task."""
        return NuisanceSettings(self.mode, self.nodes, prior_specs(self.parameters, self.priors),
                                float(self.sigma_int), check_error_model(self.error_model),
                                sigma_floor=float(self.sigma_floor), tau_gal=float(self.tau_gal))


class FitNuisance(BaseModel):
    """A fit's ``[nuisance]``: held at the catalogue (``none``) or profiled jointly with the kernel's parameters."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["none", "profile"] = Field(
        "none", description="none: Υ, D, i at the catalogue / packing values; profile: at the mode of L × prior")
    parameters: list[NuisanceName] | None = Field(
        None, description="the profiled nuisance parameters (default: all four with mode = profile, none with none)")
    priors: Priors = Field(default_factory=dict, description=PRIORS)

    @model_validator(mode="after")
    def _consistent(self) -> FitNuisance:
        if self.parameters is None:
            self.parameters = list(NUISANCE_PARAMETERS) if self.mode == "profile" else []
        elif self.mode == "none" and self.parameters:
            raise ValueError(f"parameters = {self.parameters!r} with mode = 'none': mode 'none' holds every nuisance "
                             "parameter at its catalogue value; set mode = 'profile' to fit them, or remove parameters")
        if self.mode == "profile" and not self.parameters:
            raise ValueError("mode = 'profile' needs at least one nuisance parameter")
        unknown = sorted(set(self.priors) - set(self.parameters))
        if unknown:
            raise ValueError(f"priors names {', '.join(unknown)}, which are not among parameters "
                             f"({', '.join(self.parameters) or 'none'})")
        return self

    def prior_specs(self) -> dict[str, dict[str, Any]]:
        """The prior spec of each profiled parameter."""
        return prior_specs(self.parameters or [], self.priors)


@dataclass(frozen=True)
class NuisanceSettings:
    """``mode``, ``nodes`` per dimension, the prior spec of each free parameter, ``sigma_int`` (in ``error_model``'s
    unit) and, when σ_int is a grid axis, its values ``sigma_int_grid``; likewise ``tau_gal`` [ln V] and
    ``tau_gal_grid``."""

    mode: str
    nodes: int
    priors: dict[str, dict[str, Any]] = field(default_factory=dict)
    sigma_int: float = 0.0
    error_model: str = "velocity_floor"
    sigma_int_grid: tuple[float, ...] = ()
    sigma_floor: float = 0.0
    tau_gal: float = 0.0
    tau_gal_grid: tuple[float, ...] = ()

    def canonical(self) -> dict[str, Any]:
        """Plain JSON-able values (part of the sweep's fingerprint; the error model, the floor and τ_gal only when not
        the defaults, and a renamed error model by its former name, so the fingerprints of earlier specs stand)."""
        out = {"mode": self.mode, "nodes": self.nodes, "sigma_int": self.sigma_int,
               "priors": {k: dict(sorted(v.items())) for k, v in self.priors.items()}}
        if self.error_model != "velocity_floor":
            out["error_model"] = FINGERPRINT_NAMES.get(self.error_model, self.error_model)
        if self.sigma_floor:
            out["sigma_floor"] = self.sigma_floor
        if self.tau_gal:
            out["tau_gal"] = self.tau_gal
        return out

    def likelihood(self, sigma_int: float | np.ndarray | None = None,
                   tau_gal: float | np.ndarray | None = None) -> GaussianLikelihood:
        """The likelihood at ``sigma_int`` and ``tau_gal`` (default: the fixed values) under the error model, with the
        floor."""
        return GaussianLikelihood(self.sigma_int if sigma_int is None else sigma_int, self.error_model,
                                  self.sigma_floor, self.tau_gal if tau_gal is None else tau_gal)

    def describe(self) -> list[str]:
        """Report lines: every prior, the likelihood and error model, the reduction, the global prior."""
        lines = [f"nuisance parameters ({self.mode}): "
                 + "; ".join(placeholder_prior(n, s).describe(SYMBOLS[n]) for n, s in self.priors.items())
                 + (" (Υ_bul only for galaxies with a bulge)" if "upsilon_bul" in self.priors else "")]
        sigma = np.asarray(self.sigma_int_grid) if self.sigma_int_grid else None
        tau = np.asarray(self.tau_gal_grid) if self.tau_gal_grid else None
        lines.append(self.likelihood(sigma, tau).describe())
        for symbol, name, grid, unit in (("σ_int", SCATTER_AXIS, sigma, ERROR_MODELS[self.error_model][0]),
                                         ("τ_gal", TAU_AXIS, tau, TAU_UNIT)):
            if grid is not None:
                lines.append(f"{symbol} is a grid axis ({name}: {len(grid)} values, {grid.min():g}–{grid.max():g} "
                             f"{unit}): a likelihood parameter, its prior the global grid prior below; the posterior "
                             f"is joint in the kernel's parameters and {symbol}")
        if self.mode == "marginalise":
            lines.append(f"per object: ln ∫ L·prior over its {len(self.priors)} nuisance parameters, adaptive "
                         f"Gauss–Hermite, {self.nodes} nodes per dimension at the conditional mode")
        else:
            lines.append("per object: max over its nuisance parameters of ln L + ln φ(z) (z the prior's normal "
                         "deviates): a profile, not an integral")
        lines.append(f"global prior: {GLOBAL_PRIOR}")
        return lines
