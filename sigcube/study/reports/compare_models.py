"""The models `sigcube report compare` knows: each kernel with its global grid and its per-object parameters, their
priors and what they mean (:data:`MODELS`), and MOND, the reference of every Bayes factor."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sigcube.engines.fit.spec import FitSpec, parse_spec
from sigcube.errors import SigcubeError
from sigcube.model.kernels import get_kernel
from sigcube.model.kernels.halo_lcdm import FLAT_ONLY, HALO_PRIORS, LCDM_KERNELS
from sigcube.model.lcdm import DEFAULT_SHMR, SHMRS
from sigcube.stats.adaptive_grid import Axis
from sigcube.study.reports.ablation import NUISANCE_STARTS


@dataclass(frozen=True)
class CompareModel:
    """A kernel with its global grid and its per-object fitted parameters (spec tables as in sigcube.engines.fit), the
    kernel's other parameters it sets (``fixed``; the rest at their defaults) and what it means."""

    kernel: str
    global_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    per_object: dict[str, dict[str, Any]] = field(default_factory=dict)
    what: str = ""
    fixed: dict[str, Any] = field(default_factory=dict)


HALOS = {"nfw": "NFW", "einasto": "Einasto", "burkert": "Burkert", "piso": "pseudo-isothermal",
         "dc14": "DC14 (Di Cintio et al. 2014)", "corenfw": "coreNFW (Read, Agertz & Collins 2016)"}
"""The halo profiles `report compare` takes with flat priors (``nfw``, ``einasto``, …); the ΛCDM-motivated ones
(:data:`~sigcube.model.kernels.halo_lcdm.LCDM_KERNELS`) also under ΛCDM priors (``nfw-lcdm``, …)."""
Z_RANGE = 5.0
"""The ΛCDM deviates are N(0, 1) truncated to ±this (mass outside 6e-7)."""
GRID = {"log10_M200": 17, "c": 13, "alpha": 9}
"""Coarse-pass points of the flat priors' axes; every ΛCDM deviate has 11."""

LCDM_MAPPING = {
    "nfw": "c from Dutton & Macciò 2014's NFW c–M relation (0.11 dex)",
    "einasto": "c from Dutton & Macciò 2014's Einasto c–M relation (0.11 dex), α = 0.155 + 0.0095·ν(M200)² (Gao et al. "
               "2008's form as Dutton & Macciò 2014 fit it; 0.16 dex)",
    "dc14": "c_DMO from Dutton & Macciò 2014's NFW c–M relation (0.11 dex) raised by feedback, c = c_DMO·(1 + "
            "3·10⁻⁵·e^{3.4(X+4.5)}) (Katz et al. 2017), the shape (α, β, γ) of X = log10 M★/M200",
    "corenfw": "the NFW halo's c from Dutton & Macciò 2014's c–M relation (0.11 dex), cored by tanh(r/r_c)ⁿ with "
               "r_c = 1.75·1.678·R_d, n = tanh(0.04·14 Gyr/t_dyn)",
}
"""How each ΛCDM prior maps the halo's parameters (the kernels' readings say it in full)."""
SHMR_WORDS = {"moster2013": "Moster et al. 2013's stellar-to-halo relation (0.15 dex in M★)",
              "moster2013_propagated": "Moster et al. 2013's stellar-to-halo relation with its parameters' errors "
                                       "propagated (0.11–0.46 dex in M★, by mass)",
              "behroozi2013": "Behroozi et al. 2013's stellar-to-halo relation (0.218 dex in M★)"}
"""The SHMR of each ΛCDM model, in the model table's words."""


def _axis_table(spec: Mapping[str, Any], coarse: int) -> dict[str, Any]:
    """A prior spec of :data:`~sigcube.model.kernels.halo_lcdm.HALO_PRIORS` as a grid table: uniform (linear axis),
    log_uniform (log axis) or N(loc, scale) truncated to ±:data:`Z_RANGE` sd."""
    if spec["dist"] == "normal":
        return {"bounds": [spec["loc"] - Z_RANGE * spec["scale"], spec["loc"] + Z_RANGE * spec["scale"]], "grid": 11,
                "normal": [spec["loc"], spec["scale"]]}
    return {"bounds": [spec["lower"], spec["upper"]], "grid": coarse,
            **({"scale": "log"} if spec["dist"] == "log_uniform" else {})}


def _halo_table(kernel: str) -> dict[str, dict[str, Any]]:
    return {p: _axis_table(spec, GRID.get(p, 11)) for p, spec in HALO_PRIORS[kernel].items()}


def _flat_what(name: str) -> str:
    free = "log10 M200, c" + (", α" if name == "einasto" else "")
    if name == "nfw":
        return f"NFW halo, {free} per galaxy, flat priors (SI §15 bounds)"
    if name in FLAT_ONLY:
        return f"{HALOS[name]} halo, {free} per galaxy: empirical cored, no ΛCDM prior (flat priors)"
    return f"{HALOS[name]} halo, {free} per galaxy, flat priors"


def _lcdm_what(name: str, shmr: str) -> str:
    return (f"{HALOS[name]} halo under ΛCDM priors: M200 from {SHMR_WORDS[shmr]} at the galaxy's M★ (its own Υ, D), "
            f"{LCDM_MAPPING[name]}")


MODELS: dict[str, CompareModel] = {
    "sigma": CompareModel("sigma", {"A0": {"bounds": [0.5, 3.0], "grid": 21},
                                    "k": {"bounds": [0.02, 1.0], "grid": 16, "scale": "log"}},
                          what="canonical Σ-Gravity, A0 and k (ξ = k·R_d) global"),
    "sigma-k-uniform": CompareModel("sigma", {"A0": {"bounds": [0.5, 3.0], "grid": 21},
                                              "k": {"bounds": [0.0, 1.0], "grid": 21}},
                                    what="canonical Σ-Gravity, A0 and k global, k uniform on 0–1 (its range reaches "
                                         "k = 0, where ξ is at its 0.01 kpc floor and W(r) = r/(ξ + r) → 1)"),
    "mond": CompareModel("mond", {"a0": {"bounds": [3e-11, 3e-10], "grid": 41, "scale": "log"}},
                         what="MOND, a0 global"),
    "sigma_xi": CompareModel("sigma_xi", per_object={"A": {"bounds": [0.01, 5.0], "grid": 17},
                                                     "xi": {"bounds": [0.1, 50.0], "grid": 13, "scale": "log"}},
                             what="Σ-Gravity, A and ξ per galaxy (SI §15 bounds)"),
    **{name: CompareModel(name, per_object=_halo_table(name), what=_flat_what(name)) for name in HALOS},
    **{f"{name}-lcdm" + ("" if shmr == DEFAULT_SHMR else f"-{shmr}"):
       CompareModel(kernel, per_object=_halo_table(kernel), what=_lcdm_what(name, shmr),
                    fixed={} if shmr == DEFAULT_SHMR else {"shmr": shmr})
       for name, kernel in LCDM_KERNELS.items() for shmr in SHMRS},
}
"""The models `report compare` knows, by the name given on the command line: ``<halo>-lcdm`` uses the default SHMR,
``<halo>-lcdm-<shmr>`` another one of :data:`~sigcube.model.lcdm.SHMRS`."""

REFERENCE = "mond"
"""Bayes factors are against this model."""
PRIOR_WORDS = ("uniform in each parameter's grid coordinate (linear, or log10 where scale = log) over its bounds; "
               "the ΛCDM deviates z_M200, z_c, z_alpha: N(0, 1) truncated to their bounds")
"""The prior of every model parameter."""


class CompareError(SigcubeError):
    """An unknown model name."""


def fit_spec(model: CompareModel, nuisance: bool) -> FitSpec:
    """The per-galaxy fit (maximum likelihood over the parameters' bounds) of a model's per-object parameters, the
    nuisance profiled or not."""
    free = {p: {k: v for k, v in t.items() if k != "normal"} for p, t in model.per_object.items()}  # ML: no prior
    return parse_spec({"dataset": "sparc", "kernel": model.kernel, "free": free,
                       **({"fixed": dict(model.fixed)} if model.fixed else {}),
                       **({"nuisance": {"mode": "profile"}, "fit": {"starts": NUISANCE_STARTS}} if nuisance else {})})


def axes(table: Mapping[str, Mapping[str, Any]]) -> list[Axis]:
    """The :class:`~sigcube.stats.adaptive_grid.Axis` of every parameter of a model table (``bounds``, ``grid``: the
    coarse pass's points, ``scale``)."""
    return [Axis(name, float(t["bounds"][0]), float(t["bounds"][1]), log=t.get("scale") == "log", coarse=int(t["grid"]),
                 normal=tuple(t["normal"]) if "normal" in t else None)
            for name, t in table.items()]


def fixed_params(model: CompareModel) -> dict[str, Any]:
    """The kernel's parameters other than the model's free ones: the model's ``fixed`` values, the rest at their
    defaults."""
    kernel = get_kernel(model.kernel)
    free = {**model.global_params, **model.per_object}
    start = {n: t["bounds"][0] for n, t in free.items()}
    return {k: v for k, v in kernel.resolve({**start, **model.fixed}).items() if k not in free}
