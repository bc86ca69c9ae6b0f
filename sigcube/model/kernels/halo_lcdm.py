"""The haloes of :mod:`.halo` under ΛCDM priors: mass from the galaxy's stellar mass, concentration from its mass.

Each kernel here takes, instead of (log10 M200, c), the standard normal deviates of the two ΛCDM relations of
:mod:`sigcube.model.lcdm`, so that their priors are fixed, N(0, 1) each, whatever the galaxy and its nuisance
parameters::

    log10 M200 = f⁻¹(log10 M★ + σ★·z_M)            (Moster et al. 2013, scatter σ★ = 0.15 dex in M★ at fixed M200;
                                                     shmr_scatter = "halo_linear": f⁻¹(log10 M★) + z_M·σ★/f′)
    log10 c    = log10 c_DM14(M200) + σ_c·z_c       (Dutton & Macciò 2014, σ_c = 0.11 dex)

The scatters are the relations' own (:mod:`sigcube.model.lcdm`), not parameters: the priors are fixed.

M★ = Υ_disk·L_disk + Υ_bul·L_bul is the point input ``M_star``, which the nuisance transform recomputes at each
(Υ_disk, Υ_bul, D) (L ∝ D²): the same Υ and D the baryons use, so integrating z_M and z_c with the nuisance
parameters integrates the halo over π(M200, c | ΛCDM, M★(Υ, D)) with no coupled prior. :data:`HALO_PRIORS` gives
the prior of every per-galaxy parameter of every halo kernel as a spec dict
(:meth:`sigcube.stats.priors.Prior.from_spec`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from sigcube.model.kernels.halo import (
    EINASTO_ALPHA, M_STAR, RHO_CRIT, burkert_velocity_squared, dc14_velocity_squared, einasto_velocity_squared,
    nfw_velocity_squared, pseudo_isothermal_velocity_squared,
)
from sigcube.model.kernels.registry import Parameter, get_kernel, kernel
from sigcube.model.lcdm import (
    DC14_CONCENTRATION_SHIFT, DUTTON_MACCIO_2014, MOSTER_2013, SHMR_SCATTER, dc14_concentration_factor,
    halo_log10_m200,
)

Z_MASS = Parameter("z_M200", 0.0, "", (-8.0, 8.0),
                   description="standard normal deviate of the stellar-to-halo mass prior on M200; prior N(0, 1)")
Z_CONCENTRATION = Parameter("z_c", 0.0, "", (-8.0, 8.0),
                            description="standard normal deviate of the concentration–mass prior on c; prior N(0, 1)")
SCATTER = Parameter("shmr_scatter", SHMR_SCATTER[0], choices=SHMR_SCATTER,
                    description="direction of the SHMR scatter: stellar (in M★, through the inverse) or halo_linear")
COMMON = (Z_MASS, Z_CONCENTRATION, SCATTER)
RELATIONS = (MOSTER_2013.describe(), DUTTON_MACCIO_2014.describe())
PRIORS_TEXT = (f"log10 M200 = f⁻¹(log10 M★ + σ★·z_M) (stellar) or f⁻¹(log10 M★) + z_M·σ★/f′ (halo_linear), "
               f"σ★ = {MOSTER_2013.sigma_dex:g} dex; log10 c = log10 c_DM14(M200) + σ_c·z_c, "
               f"σ_c = {DUTTON_MACCIO_2014.sigma_dex:g} dex; z_M, z_c ~ N(0, 1)")
LCDM_SOURCE = ("Moster, Naab & White 2013, MNRAS 428, 3121; Dutton & Macciò 2014, MNRAS 441, 3359; "
               "as priors: Katz et al. 2017, MNRAS 466, 1648; Li et al. 2020, ApJS 247, 31")


def lcdm_halo(log10_mstar, z_M200, z_c, shmr_scatter, dc14_concentration=None):
    """(log10 M200, c) of a galaxy of stellar mass log10 M★ at the prior deviates z: M200 from the SHMR, c from the c–M
    relation, each with its scatter (times the DC14 factor of X = log10(M★/M200) when ``dc14_concentration`` names its
    reading)."""
    log10_m200 = halo_log10_m200(log10_mstar, z_M200, MOSTER_2013.sigma_dex, shmr_scatter)
    c = 10.0 ** (DUTTON_MACCIO_2014.log10_c(log10_m200) + DUTTON_MACCIO_2014.sigma_dex * z_c)
    if dc14_concentration is not None:
        c = c * dc14_concentration_factor(log10_mstar - log10_m200, dc14_concentration)
    return log10_m200, c


HALO_ARGUMENTS = ("z_M200", "z_c", "shmr_scatter", "dc14_concentration")
"""The parameters of the ΛCDM kernels that :func:`lcdm_halo` reads."""


def halo_of(kernel: str, log10_mstar, params: Mapping[str, Any]) -> dict[str, Any]:
    """{"log10_M200": …, "c": …} of the ΛCDM kernel ``kernel`` at its resolved ``params`` for stellar mass log10 M★
    (the halo it adds to the baryons); {} for any other kernel."""
    if kernel not in LCDM_KERNELS.values():
        return {}
    log10_m200, c = lcdm_halo(log10_mstar, **{k: v for k, v in params.items() if k in HALO_ARGUMENTS})
    return {"log10_M200": log10_m200, "c": c}


def _describe(profile: str) -> tuple[str, ...]:
    return (RHO_CRIT, M_STAR, *RELATIONS, PRIORS_TEXT, f"the halo: kernel {profile!r}")


@kernel(
    summary="Baryons plus an NFW halo under ΛCDM priors: M200 from M★ (SHMR), c from M200 (c–M).",
    source=LCDM_SOURCE,
    formula="V² = V_bar² + V_NFW²(M200(M★, z_M), c(M200, z_c))",
    inputs=("r", "v_bar", "M_star"),
    parameters=COMMON,
    readings=_describe("nfw"),
)
def nfw_lcdm(points, *, z_M200, z_c, shmr_scatter):
    m, c = lcdm_halo(np.log10(points["M_star"]), z_M200, z_c, shmr_scatter)
    return np.sqrt(points["v_bar"] ** 2 + nfw_velocity_squared(points["r"], m, c))


@kernel(
    summary="Baryons plus an Einasto halo under ΛCDM priors on M200 and c (α free).",
    source=LCDM_SOURCE,
    formula="V² = V_bar² + V_Ein²(M200(M★, z_M), c(M200, z_c), α)",
    inputs=("r", "v_bar", "M_star"),
    parameters=(*COMMON, EINASTO_ALPHA),
    readings=(*_describe("einasto"), "α has no ΛCDM prior here (its prior is flat over its bounds)"),
)
def einasto_lcdm(points, *, z_M200, z_c, shmr_scatter, alpha):
    m, c = lcdm_halo(np.log10(points["M_star"]), z_M200, z_c, shmr_scatter)
    return np.sqrt(points["v_bar"] ** 2 + einasto_velocity_squared(points["r"], m, c, alpha))


@kernel(
    summary="Baryons plus a Burkert halo under ΛCDM priors on M200 and c = r200/r_−2.",
    source=LCDM_SOURCE,
    formula="V² = V_bar² + V_Bur²(M200(M★, z_M), c(M200, z_c))",
    inputs=("r", "v_bar", "M_star"),
    parameters=COMMON,
    readings=(*_describe("burkert"), "the c–M relation of NFW haloes applied to r200/r_−2 of the core"),
)
def burkert_lcdm(points, *, z_M200, z_c, shmr_scatter):
    m, c = lcdm_halo(np.log10(points["M_star"]), z_M200, z_c, shmr_scatter)
    return np.sqrt(points["v_bar"] ** 2 + burkert_velocity_squared(points["r"], m, c))


@kernel(
    summary="Baryons plus a pseudo-isothermal halo under ΛCDM priors on M200 and c = r200/r_c.",
    source=LCDM_SOURCE,
    formula="V² = V_bar² + V_pISO²(M200(M★, z_M), c(M200, z_c))",
    inputs=("r", "v_bar", "M_star"),
    parameters=COMMON,
    readings=(*_describe("piso"), "the c–M relation of NFW haloes applied to r200/r_c (pISO has no r_−2)"),
)
def piso_lcdm(points, *, z_M200, z_c, shmr_scatter):
    m, c = lcdm_halo(np.log10(points["M_star"]), z_M200, z_c, shmr_scatter)
    return np.sqrt(points["v_bar"] ** 2 + pseudo_isothermal_velocity_squared(points["r"], m, c))


DC14_SHIFT = Parameter("dc14_concentration", "katz2017", choices=tuple(DC14_CONCENTRATION_SHIFT),
                       description="k of c_DC14 = c_DMO·(1 + k·exp(3.4(X + 4.5))): katz2017 (3e-5) or naik2019 (1e-5)")


@kernel(
    summary="Baryons plus a DC14 halo under ΛCDM priors: c_DMO from the c–M relation, raised by feedback.",
    source=LCDM_SOURCE + "; Di Cintio et al. 2014, MNRAS 441, 2986",
    formula="V² = V_bar² + V_DC14²(M200(M★, z_M), c_DMO(M200, z_c)·(1 + k·e^{3.4(X+4.5)}); M★)",
    inputs=("r", "v_bar", "M_star"),
    parameters=(*COMMON, DC14_SHIFT),
    readings=(*_describe("dc14"), "the c–M relation holds for the dark-matter-only concentration c_DMO; the DC14 "
              "halo's c = c_DMO·(1 + k·exp(3.4(X + 4.5))), X = log10(M★/M200) held in the DC14 range"),
)
def dc14_lcdm(points, *, z_M200, z_c, shmr_scatter, dc14_concentration):
    log_mstar = np.log10(points["M_star"])
    m, c = lcdm_halo(log_mstar, z_M200, z_c, shmr_scatter, dc14_concentration)
    return np.sqrt(points["v_bar"] ** 2 + dc14_velocity_squared(points["r"], m, c, log_mstar))


STANDARD_NORMAL = {"dist": "normal", "loc": 0.0, "scale": 1.0}

LCDM_KERNELS = {"nfw": "nfw_lcdm", "einasto": "einasto_lcdm", "burkert": "burkert_lcdm", "piso": "piso_lcdm",
                "dc14": "dc14_lcdm"}
"""Each halo kernel with flat priors and its ΛCDM-prior twin."""


def _flat(name: str, parameter: str) -> dict:
    lo, hi = get_kernel(name).parameter(parameter).bounds
    return {"dist": "uniform", "lower": lo, "upper": hi}


HALO_PRIORS: dict[str, dict[str, dict]] = {
    **{flat: {p: _flat(flat, p) for p in ("log10_M200", "c", *(("alpha",) if flat == "einasto" else ()))}
       for flat in LCDM_KERNELS},
    **{lcdm: {"z_M200": STANDARD_NORMAL, "z_c": STANDARD_NORMAL, **({"alpha": _flat("einasto", "alpha")}
                                                                     if lcdm == "einasto_lcdm" else {})}
       for lcdm in LCDM_KERNELS.values()},
}
"""The prior of each per-galaxy parameter of each halo kernel, as a spec dict: flat over the bounds for the plain
profiles (log10 M200, c and Einasto's α), N(0, 1) for the ΛCDM deviates (α of ``einasto_lcdm`` flat)."""
