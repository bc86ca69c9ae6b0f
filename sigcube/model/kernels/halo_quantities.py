"""The halo quantities of each dark-matter halo profile at its parameter values: M200, c200, M★/M200 and the profile's
shape or core (Einasto's α, DC14's inner slope γ, coreNFW's core index n, Burkert's and the pseudo-isothermal sphere's
core radius) — what :mod:`sigcube.stats.halo_posteriors` gives posteriors of."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from sigcube.errors import SigcubeError
from sigcube.model.kernels.halo import BURKERT_SLOPE_2, r200_kpc
from sigcube.model.kernels.halo_lcdm import LCDM_KERNELS, halo_of
from sigcube.model.kernels.registry import get_kernel
from sigcube.model.lcdm import corenfw_core, dc14_shape
from sigcube.model.special import cusp_mass

SHAPE = {"einasto": ("alpha", "", "Einasto shape index α"),
         "dc14": ("gamma", "", "DC14 inner logarithmic density slope γ (of X = log10 M★/M200)"),
         "corenfw": ("n", "", "coreNFW core index n = tanh(κ·t_SF/t_dyn)"),
         "burkert": ("r_core", "kpc", "Burkert core radius r0 = r200/(1.5214·c)"),
         "piso": ("r_core", "kpc", "pseudo-isothermal core radius r_c = r200/c")}
"""The shape or core quantity of each profile: (name, unit, long_name)."""
CONCENTRATION = {"piso": "r200/r_c", "corenfw": "r200/r_s of the NFW halo before its core formed"}
"""What c200 is where it is not r200/r_−2."""


class HaloPosteriorError(SigcubeError):
    """A kernel that is not a halo, or inputs that do not match the integrals."""


def halo_profile(kernel: str) -> str:
    """The profile of a halo kernel (its flat-prior name); refuses any other kernel."""
    flat = {v: k for k, v in LCDM_KERNELS.items()}.get(kernel, kernel)
    if flat not in (*LCDM_KERNELS, "burkert", "piso"):
        raise HaloPosteriorError(f"kernel {kernel!r} is not a dark-matter halo; halo posteriors need one of "
                                 f"{', '.join([*LCDM_KERNELS, 'burkert', 'piso', *LCDM_KERNELS.values()])}")
    return flat


def halo_values(kernel: str, values: Mapping[str, np.ndarray], log10_mstar: float | np.ndarray,
                r_d: float | None = None, fixed: Mapping[str, Any] | None = None) -> dict[str, np.ndarray]:
    """The halo quantities (module docstring) at the parameter values ``values`` (arrays by parameter name) of
    ``kernel`` for a galaxy of stellar mass log10 M★ (a number, or one per value) and disc scale length R_d [kpc]
    (coreNFW); ``fixed``: the kernel's other parameters (defaults otherwise)."""
    profile = halo_profile(kernel)
    params = get_kernel(kernel).resolve({**(fixed or {}), **{k: np.asarray(v, dtype=float) for k, v in values.items()}})
    halo = halo_of(kernel, log10_mstar, params) if kernel in LCDM_KERNELS.values() else params
    log_m, c = np.asarray(halo["log10_M200"], dtype=float), np.asarray(halo["c"], dtype=float)
    out = {"log10_M200": log_m, "c200": c, "log10_mstar_over_m200": log10_mstar - log_m}
    if profile == "einasto":
        out["alpha"] = np.asarray(halo["alpha"], dtype=float)
    elif profile == "dc14":
        out["gamma"] = np.asarray(dc14_shape(log10_mstar - log_m)[2], dtype=float)
    elif profile == "corenfw":
        if r_d is None:
            raise HaloPosteriorError("coreNFW's core index needs the galaxy's disc scale length R_d")
        m200 = 10.0**log_m
        out["n"] = np.asarray(corenfw_core(r200_kpc(m200), c, m200 * cusp_mass(1.0) / cusp_mass(c), r_d)[1])
    elif profile in ("burkert", "piso"):
        out["r_core"] = r200_kpc(10.0**log_m) / (c * (BURKERT_SLOPE_2 if profile == "burkert" else 1.0))
    return out
