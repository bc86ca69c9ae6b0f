"""The models `sigcube report compare` knows: each kernel with its global grid and its per-object parameters, their
priors and what they mean (:data:`MODELS`), and MOND, the reference of every Bayes factor."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sigcube.engines.fit.spec import FitSpec, parse_spec
from sigcube.errors import SigcubeError
from sigcube.model.kernels import get_kernel
from sigcube.model.kernels.halo_lcdm import HALO_PRIORS, LCDM_KERNELS
from sigcube.stats.adaptive_grid import Axis
from sigcube.study.reports.ablation import NUISANCE_STARTS


@dataclass(frozen=True)
class CompareModel:
    """A kernel with its global grid and its per-object fitted parameters (spec tables as in sigcube.engines.fit)."""

    kernel: str
    global_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    per_object: dict[str, dict[str, Any]] = field(default_factory=dict)
    what: str = ""


HALOS = {"nfw": "NFW", "einasto": "Einasto", "burkert": "Burkert", "piso": "pseudo-isothermal",
         "dc14": "DC14 (Di Cintio et al. 2014)"}
"""The halo profiles `report compare` takes, flat (``nfw``, ``einasto``, …) or under ΛCDM priors (``nfw-lcdm``, …)."""
Z_RANGE = 5.0
"""The ΛCDM deviates z_M200, z_c are N(0, 1) truncated to ±this (mass outside 6e-7)."""


def _flat_halo(name: str) -> dict[str, dict[str, Any]]:
    """Flat priors over the kernel's own bounds: log10 M200 linear, c (and Einasto's α) in log."""
    kernel = get_kernel(name)
    return {p: {"bounds": list(kernel.parameter(p).bounds), "grid": 17 if p == "log10_M200" else 13,
                **({} if p == "log10_M200" else {"scale": "log"})}
            for p in ("log10_M200", "c", *(("alpha",) if name == "einasto" else ()))}


def _lcdm_halo(name: str) -> dict[str, dict[str, Any]]:
    """The ΛCDM deviates under their N(0, 1) priors (:data:`~sigcube.model.kernels.halo_lcdm.HALO_PRIORS`), Einasto's α
    uniform in log10 over its bounds."""
    specs = HALO_PRIORS[LCDM_KERNELS[name]]
    out = {}
    for p, spec in specs.items():
        if spec["dist"] == "normal":
            out[p] = {"bounds": [spec["loc"] - Z_RANGE * spec["scale"], spec["loc"] + Z_RANGE * spec["scale"]],
                      "grid": 11, "normal": [spec["loc"], spec["scale"]]}
        else:
            out[p] = {"bounds": [spec["lower"], spec["upper"]], "grid": 9, "scale": "log"}
    return out


MODELS: dict[str, CompareModel] = {
    "sigma": CompareModel("sigma", {"A0": {"bounds": [0.5, 3.0], "grid": 21},
                                    "k": {"bounds": [0.02, 1.0], "grid": 16, "scale": "log"}},
                          what="canonical Σ-Gravity, A0 and k (ξ = k·R_d) global"),
    "mond": CompareModel("mond", {"a0": {"bounds": [3e-11, 3e-10], "grid": 41, "scale": "log"}},
                         what="MOND, a0 global"),
    "nfw": CompareModel("nfw", per_object={"log10_M200": {"bounds": [6.0, 14.0], "grid": 17},
                                           "c": {"bounds": [1.0, 50.0], "grid": 13, "scale": "log"}},
                        what="NFW halo, log10 M200 and c per galaxy (SI §15 bounds)"),
    "sigma_xi": CompareModel("sigma_xi", per_object={"A": {"bounds": [0.01, 5.0], "grid": 17},
                                                     "xi": {"bounds": [0.1, 50.0], "grid": 13, "scale": "log"}},
                             what="Σ-Gravity, A and ξ per galaxy (SI §15 bounds)"),
    **{name: CompareModel(name, per_object=_flat_halo(name), what=f"{what} halo, flat priors on log10 M200, c"
                          + (", α" if name == "einasto" else "") + " per galaxy")
       for name, what in HALOS.items() if name != "nfw"},
    **{f"{name}-lcdm": CompareModel(LCDM_KERNELS[name], per_object=_lcdm_halo(name),
                                    what=f"{what} halo under ΛCDM priors: M200 from the stellar-to-halo relation at "
                                         "the galaxy's M★ (its own Υ, D), c from the c–M relation, both with their "
                                         "scatter" + (" (α flat)" if name == "einasto" else ""))
       for name, what in HALOS.items()},
}
"""The models `report compare` knows, by the name given on the command line."""

REFERENCE = "mond"
"""Bayes factors are against this model."""
PRIOR_WORDS = ("uniform in each parameter's grid coordinate (linear, or log10 where scale = log) over its bounds; "
               "the ΛCDM deviates z_M200, z_c: N(0, 1) truncated to their bounds")
"""The prior of every model parameter."""


class CompareError(SigcubeError):
    """An unknown model name."""


def fit_spec(model: CompareModel, nuisance: bool) -> FitSpec:
    """The per-galaxy fit (maximum likelihood over the parameters' bounds) of a model's per-object parameters, the
    nuisance profiled or not."""
    free = {p: {k: v for k, v in t.items() if k != "normal"} for p, t in model.per_object.items()}  # ML: no prior
    return parse_spec({"dataset": "sparc", "kernel": model.kernel, "free": free,
                       **({"nuisance": {"mode": "profile"}, "fit": {"starts": NUISANCE_STARTS}} if nuisance else {})})


def axes(table: Mapping[str, Mapping[str, Any]]) -> list[Axis]:
    """The :class:`~sigcube.stats.adaptive_grid.Axis` of every parameter of a model table (``bounds``, ``grid``: the
    coarse pass's points, ``scale``)."""
    return [Axis(name, float(t["bounds"][0]), float(t["bounds"][1]), log=t.get("scale") == "log", coarse=int(t["grid"]),
                 normal=tuple(t["normal"]) if "normal" in t else None)
            for name, t in table.items()]


def fixed_params(model: CompareModel) -> dict[str, Any]:
    """The kernel's parameters other than the model's free ones (its defaults)."""
    kernel = get_kernel(model.kernel)
    free = {**model.global_params, **model.per_object}
    return {k: v for k, v in kernel.resolve({n: t["bounds"][0] for n, t in free.items()}).items() if k not in free}
