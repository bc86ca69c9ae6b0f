"""The ΛCDM-motivated haloes of :mod:`.halo` — NFW, Einasto, DC14, coreNFW — under ΛCDM priors: mass from the galaxy's
stellar mass, concentration (and Einasto's shape) from its mass. Burkert and the pseudo-isothermal sphere are empirical
cores that ΛCDM makes no prediction for: they keep flat priors only (as in Li et al. 2020's catalogue).

Each kernel here takes, instead of (log10 M200, c[, α]), the standard normal deviates of the ΛCDM relations of
:mod:`sigcube.model.lcdm`, so that their priors are fixed, N(0, 1) each, whatever the galaxy and its nuisance
parameters::

    log10 M200 = f⁻¹(log10 M★ + σ★·z_M)         (the SHMR ``shmr``, its scatter σ★ in M★ at fixed M200;
                                                  shmr_scatter = "halo_linear": f⁻¹(log10 M★) + z_M·σ★/f′)
    log10 c    = log10 c(M200) + σ_c·z_c         (Dutton & Macciò 2014's c–M relation for the profile, σ_c = 0.11 dex)
    log10 α    = log10 α(M200) + σ_α·z_α         (Einasto: Gao et al. 2008's α–ν as Dutton & Macciò 2014 fit it)

DC14's c–M prior holds for the dark-matter-only concentration, raised by feedback (Katz et al. 2017); coreNFW's for the
NFW halo the core is cut into. The scatters are the relations' own, not parameters: the priors are fixed.

M★ = Υ_disk·L_disk + Υ_bul·L_bul is the point input ``M_star``, which the nuisance transform recomputes at each
(Υ_disk, Υ_bul, D) (L ∝ D²): the same Υ and D the baryons use, so integrating the deviates with the nuisance
parameters integrates the halo over π(M200, c | ΛCDM, M★(Υ, D)) with no coupled prior. :data:`HALO_PRIORS` gives
the prior of every per-galaxy parameter of every halo kernel as a spec dict
(:meth:`sigcube.stats.priors.Prior.from_spec`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from sigcube.model.kernels.halo import (
    CORENFW_MAPPING, M_STAR, RHO_CRIT, corenfw_velocity_squared, dc14_velocity_squared, einasto_velocity_squared,
    nfw_velocity_squared,
)
from sigcube.model.kernels.registry import Parameter, kernel
from sigcube.model.lcdm import (
    DC14_CONCENTRATION_SHIFT, DEFAULT_SHMR, DUTTON_MACCIO_2014, DUTTON_MACCIO_2014_EINASTO, EINASTO_ALPHA_SCATTER_DEX,
    SHMR_SCATTER, SHMRS, ConcentrationMass, dc14_concentration_factor, einasto_alpha, halo_log10_m200,
)

Z_MASS = Parameter("z_M200", 0.0, "", (-8.0, 8.0),
                   description="standard normal deviate of the stellar-to-halo mass prior on M200; prior N(0, 1)")
Z_CONCENTRATION = Parameter("z_c", 0.0, "", (-8.0, 8.0),
                            description="standard normal deviate of the concentration–mass prior on c; prior N(0, 1)")
Z_ALPHA = Parameter("z_alpha", 0.0, "", (-8.0, 8.0),
                    description="standard normal deviate of the α–mass prior on Einasto's α; prior N(0, 1)")
SHMR = Parameter("shmr", DEFAULT_SHMR, choices=tuple(SHMRS),
                 description="the stellar-to-halo mass relation and its scatter: " + ", ".join(SHMRS))
SCATTER = Parameter("shmr_scatter", SHMR_SCATTER[0], choices=SHMR_SCATTER,
                    description="direction of the SHMR scatter: stellar (in M★, through the inverse) or halo_linear")
COMMON = (Z_MASS, Z_CONCENTRATION, SHMR, SCATTER)
MASS_TEXT = ("log10 M200 = f⁻¹(log10 M★ + σ★·z_M) (shmr_scatter stellar) or f⁻¹(log10 M★) + z_M·σ★/f′ (halo_linear), "
             "σ★ taken at f⁻¹(log10 M★) when it depends on mass; z ~ N(0, 1) for every deviate")
LCDM_SOURCE = ("Moster, Naab & White 2013, MNRAS 428, 3121; Behroozi, Wechsler & Conroy 2013, ApJ 770, 57; Dutton & "
               "Macciò 2014, MNRAS 441, 3359; as priors: Katz et al. 2017, MNRAS 466, 1648; Li et al. 2020, ApJS 247, 31")


def lcdm_mass(log10_mstar, z_M200, shmr: str, shmr_scatter: str):
    """log10 M200 of a galaxy of stellar mass log10 M★ at the SHMR deviate z_M200."""
    return halo_log10_m200(log10_mstar, z_M200, shmr_scatter, SHMRS[shmr])


def lcdm_concentration(log10_m200, z_c, relation: ConcentrationMass = DUTTON_MACCIO_2014):
    """c of a halo of mass log10 M200 at the c–M deviate z_c."""
    return 10.0 ** (relation.log10_c(log10_m200) + relation.sigma_dex * z_c)


def lcdm_alpha(log10_m200, z_alpha):
    """Einasto's α of a halo of mass log10 M200 at the α deviate z_alpha."""
    return einasto_alpha(log10_m200) * 10.0 ** (EINASTO_ALPHA_SCATTER_DEX * z_alpha)


def _relations(shmr: str | None = None) -> tuple[str, ...]:
    names = SHMRS if shmr is None else {shmr: SHMRS[shmr]}
    return tuple(r.describe() for r in names.values())


@kernel(
    summary="Baryons plus an NFW halo under ΛCDM priors: M200 from M★ (SHMR), c from M200 (c–M).",
    source=LCDM_SOURCE,
    formula="V² = V_bar² + V_NFW²(M200(M★, z_M), c(M200, z_c))",
    inputs=("r", "v_bar", "M_star"),
    parameters=COMMON,
    readings=(RHO_CRIT, M_STAR, *_relations(), MASS_TEXT, DUTTON_MACCIO_2014.describe(),
              "log10 c = log10 c_DM14(M200) + 0.11·z_c"),
)
def nfw_lcdm(points, *, z_M200, z_c, shmr, shmr_scatter):
    m = lcdm_mass(np.log10(points["M_star"]), z_M200, shmr, shmr_scatter)
    return np.sqrt(points["v_bar"] ** 2 + nfw_velocity_squared(points["r"], m, lcdm_concentration(m, z_c)))


@kernel(
    summary="Baryons plus an Einasto halo under ΛCDM priors: M200 from M★, c and the shape α from M200.",
    source=LCDM_SOURCE + "; Gao et al. 2008, MNRAS 387, 536",
    formula="V² = V_bar² + V_Ein²(M200(M★, z_M), c(M200, z_c), α(M200, z_α))",
    inputs=("r", "v_bar", "M_star"),
    parameters=(*COMMON, Z_ALPHA),
    readings=(RHO_CRIT, M_STAR, *_relations(), MASS_TEXT, DUTTON_MACCIO_2014_EINASTO.describe(),
              "log10 c = log10 c_DM14,Einasto(M200) + 0.11·z_c, c = r200/r_−2",
              f"log10 α = log10[0.155 + 0.0095·ν(M200)²] + {EINASTO_ALPHA_SCATTER_DEX:g}·z_α, log10 ν = −0.11 + 0.146·m + "
              "0.0138·m² + 0.00123·m³, m = log10(M200/(1e12 h⁻¹ M☉)) (Dutton & Macciò 2014's approximation)"),
)
def einasto_lcdm(points, *, z_M200, z_c, shmr, shmr_scatter, z_alpha):
    m = lcdm_mass(np.log10(points["M_star"]), z_M200, shmr, shmr_scatter)
    c = lcdm_concentration(m, z_c, DUTTON_MACCIO_2014_EINASTO)
    return np.sqrt(points["v_bar"] ** 2 + einasto_velocity_squared(points["r"], m, c, lcdm_alpha(m, z_alpha)))


DC14_SHIFT = Parameter("dc14_concentration", "katz2017", choices=tuple(DC14_CONCENTRATION_SHIFT),
                       description="k of c_DC14 = c_DMO·(1 + k·exp(3.4(X + 4.5))): katz2017 (3e-5) or naik2019 (1e-5)")


@kernel(
    summary="Baryons plus a DC14 halo under ΛCDM priors: c_DMO from the c–M relation, raised by feedback.",
    source=LCDM_SOURCE + "; Di Cintio et al. 2014, MNRAS 441, 2986",
    formula="V² = V_bar² + V_DC14²(M200(M★, z_M), c_DMO(M200, z_c)·(1 + k·e^{3.4(X+4.5)}); M★)",
    inputs=("r", "v_bar", "M_star"),
    parameters=(*COMMON, DC14_SHIFT),
    readings=(RHO_CRIT, M_STAR, *_relations(), MASS_TEXT, DUTTON_MACCIO_2014.describe(),
              "the c–M relation holds for the dark-matter-only concentration c_DMO (Katz et al. 2017); the DC14 "
              "halo's c = r200/r_−2 = c_DMO·(1 + k·exp(3.4(X + 4.5))), X = log10(M★/M200) held in the DC14 range; "
              "its shape (α, β, γ) of X (Di Cintio et al. 2014)"),
)
def dc14_lcdm(points, *, z_M200, z_c, shmr, shmr_scatter, dc14_concentration):
    log_mstar = np.log10(points["M_star"])
    m = lcdm_mass(log_mstar, z_M200, shmr, shmr_scatter)
    c = lcdm_concentration(m, z_c) * dc14_concentration_factor(log_mstar - m, dc14_concentration)
    return np.sqrt(points["v_bar"] ** 2 + dc14_velocity_squared(points["r"], m, c, log_mstar))


@kernel(
    summary="Baryons plus a coreNFW halo under ΛCDM priors: the NFW halo's M200 from M★ and c from M200, cored.",
    source=LCDM_SOURCE + "; Read, Agertz & Collins 2016, MNRAS 459, 2573",
    formula="V² = V_bar² + V_NFW²(M200(M★, z_M), c(M200, z_c))·tanh(r/r_c)ⁿ",
    inputs=("r", "v_bar", "M_star", "R_d_table"),
    parameters=COMMON,
    readings=(RHO_CRIT, M_STAR, *_relations(), MASS_TEXT, DUTTON_MACCIO_2014.describe(),
              "the c–M relation holds for the NFW halo before its core formed (its c = r200/r_s)", CORENFW_MAPPING),
)
def corenfw_lcdm(points, *, z_M200, z_c, shmr, shmr_scatter):
    m = lcdm_mass(np.log10(points["M_star"]), z_M200, shmr, shmr_scatter)
    v2 = corenfw_velocity_squared(points["r"], m, lcdm_concentration(m, z_c), points["R_d_table"])
    return np.sqrt(points["v_bar"] ** 2 + v2)


LCDM_KERNELS = {"nfw": "nfw_lcdm", "einasto": "einasto_lcdm", "dc14": "dc14_lcdm", "corenfw": "corenfw_lcdm"}
"""Each ΛCDM-motivated halo kernel with flat priors and its ΛCDM-prior twin."""
FLAT_ONLY = ("burkert", "piso")
"""Empirical cores: flat priors only, no ΛCDM prior."""
CONCENTRATION_MASS = {"nfw": DUTTON_MACCIO_2014, "einasto": DUTTON_MACCIO_2014_EINASTO, "dc14": DUTTON_MACCIO_2014,
                      "corenfw": DUTTON_MACCIO_2014}
"""The concentration–mass relation each ΛCDM-motivated profile's prior uses (DC14's c_DMO and coreNFW's NFW halo take
the NFW one), by the profile's name as in :data:`LCDM_KERNELS`."""


HALO_QUANTITIES = {"log10_M200": "log10 of the halo mass M200 [M☉]",
                   "c": "halo concentration r200/r_s (DC14: r200/r_−2 of the DC14 halo; coreNFW: the NFW halo's)",
                   "alpha": "Einasto shape index α"}
"""The halo quantities :func:`halo_of` gives, and what each is."""


def halo_of(kernel: str, log10_mstar, params: Mapping[str, Any]) -> dict[str, Any]:
    """{"log10_M200": …, "c": …[, "alpha": …]} of the ΛCDM kernel ``kernel`` at its resolved ``params`` for stellar mass
    log10 M★ — the halo it adds to the baryons, in the flat kernel's parameters (c is r200/r_−2 of the DC14 halo
    itself, the NFW c of coreNFW); {} for any other kernel."""
    if kernel not in LCDM_KERNELS.values():
        return {}
    m = lcdm_mass(log10_mstar, params["z_M200"], params["shmr"], params["shmr_scatter"])
    if kernel == "einasto_lcdm":
        return {"log10_M200": m, "c": lcdm_concentration(m, params["z_c"], DUTTON_MACCIO_2014_EINASTO),
                "alpha": lcdm_alpha(m, params["z_alpha"])}
    c = lcdm_concentration(m, params["z_c"])
    if kernel == "dc14_lcdm":
        c = c * dc14_concentration_factor(log10_mstar - m, params["dc14_concentration"])
    return {"log10_M200": m, "c": c}


STANDARD_NORMAL = {"dist": "normal", "loc": 0.0, "scale": 1.0}
FLAT_RANGES = {"log10_M200": {"dist": "uniform", "lower": 6.0, "upper": 14.0},
               "c": {"dist": "log_uniform", "lower": 1.0, "upper": 100.0},
               "alpha": {"dist": "log_uniform", "lower": 0.05, "upper": 2.5}}
"""The flat priors of the plain profiles: log10 M200 uniform, c and Einasto's α uniform in log (NFW's c: SI §15's
[1, 50])."""

HALO_PRIORS: dict[str, dict[str, dict]] = {
    **{flat: {p: ({**FLAT_RANGES[p], "upper": 50.0} if (flat, p) == ("nfw", "c") else FLAT_RANGES[p])
              for p in ("log10_M200", "c", *(("alpha",) if flat == "einasto" else ()))}
       for flat in (*LCDM_KERNELS, *FLAT_ONLY)},
    **{lcdm: {"z_M200": STANDARD_NORMAL, "z_c": STANDARD_NORMAL, **({"z_alpha": STANDARD_NORMAL}
                                                                     if lcdm == "einasto_lcdm" else {})}
       for lcdm in LCDM_KERNELS.values()},
}
"""The prior of each per-galaxy parameter of each halo kernel, as a spec dict: flat for the plain profiles
(:data:`FLAT_RANGES`), N(0, 1) for the ΛCDM deviates."""
