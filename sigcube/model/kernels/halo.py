"""Dark-matter haloes added to the baryons: NFW (the ΛCDM side of the fitted ablation, SI §15), Einasto, Burkert,
pseudo-isothermal, DC14 and coreNFW, with (M200, c) free (the ΛCDM-prior versions of the ΛCDM-motivated ones:
:mod:`.halo_lcdm`; the priors of both: :data:`.halo_lcdm.HALO_PRIORS`).

Every halo is parametrised alike, so one prior serves all: its mass M200 within r200, the radius enclosing a mean
density of 200·ρ_crit, and a concentration c = r200/r_s (plus a shape parameter where the profile has one)::

    V² = V_bar² + V_h²,   V_h² = G·M(<r)/r = (G·M200/r)·μ(r/r_s)/μ(r200/r_s)
    r200 = (3·M200/(4π·200·ρ_crit))^{1/3}

with μ(y) the profile's enclosed mass in units of its scale (μ's constant factor cancels). ρ_crit is astropy's flat
ΛCDM with H0 = 70 km/s/Mpc, Ωm = 0.3 (136 M☉/kpc³). r_s is the radius where the logarithmic density slope is −2
(NFW, Einasto, Burkert, DC14: c is the concentration of the c–M relations) except for the pseudo-isothermal sphere,
whose slope never reaches −2: its r_s is the core radius; coreNFW's c is that of the NFW halo its core is cut into. As a global kernel one (M200, c) serves every galaxy; per
galaxy, a sweep over log10 M200 × c reduced with ``sigcube.engines.sweep.best_per_galaxy`` (the SI's NFW fit) or the
per-object evidence integrates them.
"""

from __future__ import annotations

import math

import numpy as np

from sigcube.constants import G_KPC_KMS2_MSUN, rho_crit_msun_kpc3
from sigcube.model.kernels.registry import Parameter, kernel
from sigcube.model.lcdm import (
    CORENFW_ETA, CORENFW_KAPPA, CORENFW_STAR_FORMATION_GYR, DC14_RANGE, HALF_MASS_RADIUS_PER_RD, corenfw_core, dc14_shape,
)
from sigcube.model.special import burkert_mass, core_mass, cusp_mass, dc14_mass, einasto_mass

BURKERT_SLOPE_2 = (1.0 + math.sqrt(26.0 / 27.0)) ** (1.0 / 3.0) + (1.0 - math.sqrt(26.0 / 27.0)) ** (1.0 / 3.0)
"""r_−2/r_0 of the Burkert profile: the real root of q³ − q − 2 = 0 (slope −q/(1+q) − 2q²/(1+q²) = −2), ≈ 1.5214."""


def r200_kpc(m200_msun, z: float = 0.0):
    """Radius enclosing a mean density of 200·ρ_crit(z) [kpc] (today's ρ_crit by default: the galaxies')."""
    return (3.0 * m200_msun / (4.0 * np.pi * 200.0 * rho_crit_msun_kpc3(z))) ** (1.0 / 3.0)


def halo_velocity_squared(r_kpc, log10_m200, c_scale, mass_profile):
    """V_h² = (G·M200/r)·μ(r·c/r200)/μ(c) [(km/s)²]: ``c_scale`` = r200/r_s of the scale radius r_s in which the
    profile's enclosed mass ``mass_profile`` (y = r/r_s ↦ μ(y)) is written (M200 and c grouped: fewest per-point
    steps)."""
    m200 = 10.0**log10_m200
    return G_KPC_KMS2_MSUN * m200 / mass_profile(c_scale) * mass_profile(r_kpc * (c_scale / r200_kpc(m200))) / r_kpc


def nfw_mass_fraction(x, c):
    """M(<x·r200)/M200 = m(c·x)/m(c), m(y) = ln(1 + y) − y/(1 + y) (:data:`~sigcube.model.special.cusp_mass`)."""
    return cusp_mass(c * x) / cusp_mass(c)


def nfw_enclosed_mass(r_kpc, log10_m200, c, z: float = 0.0):
    """M(<r) [M☉] of an NFW halo of mass M200 (200·ρ_crit at redshift ``z``) and concentration c:
    M200·m(c·r/r200)/m(c) (:func:`nfw_mass_fraction`)."""
    m200 = 10.0 ** np.asarray(log10_m200, dtype=float)
    return m200 * nfw_mass_fraction(r_kpc / r200_kpc(m200, z), c)


def nfw_velocity_squared(r_kpc, log10_m200, c):
    """V_NFW² = G·M(<r)/r [(km/s)²] of an NFW halo (Navarro, Frenk & White 1997, ApJ 490, 493)."""
    return halo_velocity_squared(r_kpc, log10_m200, c, cusp_mass)


def einasto_velocity_squared(r_kpc, log10_m200, c, alpha):
    """V² of an Einasto halo, ρ ∝ exp{−(2/α)[(r/r_−2)^α − 1]}: μ(y) = P(3/α, (2/α)·y^α), P the regularised lower
    incomplete gamma function (the constant e^{2/α}·(α/2)^{3/α}·Γ(3/α)/α cancels), from
    :data:`~sigcube.model.special.einasto_mass`."""
    def mass(y):
        return einasto_mass(y, alpha)
    return halo_velocity_squared(r_kpc, log10_m200, c, mass)


def burkert_velocity_squared(r_kpc, log10_m200, c):
    """V² of a Burkert halo, ρ = ρ0·r0³/((r + r0)(r² + r0²)), with c = r200/r_−2 (r_−2 = :data:`BURKERT_SLOPE_2`·r0):
    μ(y) = ln(1 + y²) + 2·ln(1 + y) − 2·arctan(y), y = r/r0 (:data:`~sigcube.model.special.burkert_mass`)."""
    return halo_velocity_squared(r_kpc, log10_m200, c * BURKERT_SLOPE_2, burkert_mass)


def pseudo_isothermal_velocity_squared(r_kpc, log10_m200, c):
    """V² of a pseudo-isothermal sphere, ρ = ρ0/(1 + (r/r_c)²), with c = r200/r_c: μ(y) = y − arctan(y), y = r/r_c
    (:data:`~sigcube.model.special.core_mass`)."""
    return halo_velocity_squared(r_kpc, log10_m200, c, core_mass)


def dc14_velocity_squared(r_kpc, log10_m200, c, log10_mstar):
    """V² of a DC14 halo of stellar mass M★: ρ ∝ (r/r_s)^−γ·[1 + (r/r_s)^α]^−((β−γ)/α), (α, β, γ) of
    X = log10(M★/M200) (:func:`sigcube.model.lcdm.dc14_shape`), c = r200/r_−2 and r_s = r_−2·((β − 2)/(2 − γ))^{1/α};
    μ(y) from :data:`~sigcube.model.special.dc14_mass`."""
    x = log10_mstar - log10_m200
    alpha, beta, gamma = dc14_shape(x)

    def mass(y):
        return dc14_mass(y, x)
    return halo_velocity_squared(r_kpc, log10_m200, c * ((2.0 - gamma) / (beta - 2.0)) ** (1.0 / alpha), mass)


def corenfw_velocity_squared(r_kpc, log10_m200, c, r_d_kpc):
    """V² of a coreNFW halo: the NFW halo's (M200, c) times fⁿ, f = tanh(r/r_c), (r_c, n) of
    :func:`sigcube.model.lcdm.corenfw_core` for a disc of scale length R_d."""
    m200 = 10.0**log10_m200
    r200 = r200_kpc(m200)
    core, index = corenfw_core(r200, c, m200 * (cusp_mass(1.0) / cusp_mass(c)), r_d_kpc)
    return nfw_velocity_squared(r_kpc, log10_m200, c) * np.tanh(r_kpc / core) ** index


MASS = Parameter("log10_M200", 11.0, "", (6.0, 14.0), description="log10 of the halo mass M200 [M☉]")
CONCENTRATION = Parameter("c", 10.0, "", (1.0, 100.0), description="concentration c = r200/r_−2")
EINASTO_ALPHA = Parameter("alpha", 0.17, "", (0.01, 5.0), description="Einasto shape index α")
RHO_CRIT = "ρ_crit: astropy FlatLambdaCDM(H0 = 70, Ωm = 0.3); M200 within 200·ρ_crit"
STARTING_POINT = "defaults: a starting point (fitted per galaxy)"
EMPIRICAL = ("empirical cored, no ΛCDM prior: ΛCDM predicts no mass or concentration relation for this core, so it is "
             "fitted with flat priors only (as in Li et al. 2020's catalogue)")
LI2020 = "Li, Lelli, McGaugh & Schombert 2020, ApJS 247, 31 fit it to SPARC"
M_STAR = "M★ = Υ_disk·L_disk + Υ_bul·L_bul at 3.6 μm (∝ D²): the baryons' own Υ and D"
CORENFW_MAPPING = (f"r_c = {CORENFW_ETA:g}·R_1/2, R_1/2 = {HALF_MASS_RADIUS_PER_RD:.4f}·R_d (SPARC's Rdisk, ∝ D; an "
                   f"exponential disc's projected half-mass radius); n = tanh({CORENFW_KAPPA:g}·t_SF/t_dyn), "
                   f"t_SF = {CORENFW_STAR_FORMATION_GYR:g} Gyr, t_dyn = 2π·√(r_s³/(G·M_NFW(<r_s))); "
                   "M(<r200) = M200·tanh(r200/r_c)ⁿ ≈ M200")


@kernel(
    summary="Baryons plus an NFW halo: V² = V_bar² + V_NFW²(M200, c).",
    source="SI §15; paper §4.1.1 (ΛCDM side of the equal-parameter ablation)",
    formula=("V² = V_bar² + G·M200·m(c·r/r200)/(m(c)·r),  m(y) = ln(1+y) − y/(1+y),  "
             "r200 = (3·M200/(800π·ρ_crit))^{1/3}"),
    inputs=("r", "v_bar"),
    parameters=(MASS, Parameter("c", 10.0, "", (1.0, 50.0), description="concentration c = r200/r_s")),
    amplitude="log10_M200",
    readings=(RHO_CRIT, "defaults: a starting point (the SI fits both per galaxy)"),
)
def nfw(points, *, log10_M200, c):
    return np.sqrt(points["v_bar"] ** 2 + nfw_velocity_squared(points["r"], log10_M200, c))


@kernel(
    summary="Baryons plus an Einasto halo: V² = V_bar² + V_Ein²(M200, c, α).",
    source=f"Einasto 1965, Trudy Astrofiz. Inst. Alma-Ata 5, 87 (as Navarro et al. 2004, MNRAS 349, 1039); {LI2020}",
    formula=("V² = V_bar² + G·M200·P(3/α, (2/α)(c·r/r200)^α)/(P(3/α, (2/α)c^α)·r),  "
             "ρ ∝ exp{−(2/α)[(r/r_−2)^α − 1]},  P the regularised lower incomplete gamma function"),
    inputs=("r", "v_bar"),
    parameters=(MASS, CONCENTRATION, EINASTO_ALPHA),
    amplitude="log10_M200",
    readings=(RHO_CRIT, "c = r200/r_−2", STARTING_POINT),
)
def einasto(points, *, log10_M200, c, alpha):
    return np.sqrt(points["v_bar"] ** 2 + einasto_velocity_squared(points["r"], log10_M200, c, alpha))


@kernel(
    summary="Baryons plus a Burkert halo (a core): V² = V_bar² + V_Bur²(M200, c).",
    source=f"Burkert 1995, ApJ 447, L25; {LI2020}",
    formula=("V² = V_bar² + G·M200·μ(q·c·r/r200)/(μ(q·c)·r),  μ(y) = ln(1+y²) + 2·ln(1+y) − 2·arctan y,  "
             "ρ = ρ0·r0³/((r+r0)(r²+r0²)),  q = r_−2/r0 ≈ 1.5214"),
    inputs=("r", "v_bar"),
    parameters=(MASS, CONCENTRATION),
    amplitude="log10_M200",
    readings=(RHO_CRIT, "c = r200/r_−2 with r_−2 = 1.5214·r0 (the root of q³ − q − 2 = 0), so that concentrations "
              "of cored and cuspy haloes compare like with like (Li et al. 2020's C200 is R200/r0)", EMPIRICAL,
              STARTING_POINT),
)
def burkert(points, *, log10_M200, c):
    return np.sqrt(points["v_bar"] ** 2 + burkert_velocity_squared(points["r"], log10_M200, c))


@kernel(
    summary="Baryons plus a pseudo-isothermal halo (a core): V² = V_bar² + V_pISO²(M200, c).",
    source=f"e.g. Begeman, Broeils & Sanders 1991, MNRAS 249, 523; {LI2020}",
    formula="V² = V_bar² + G·M200·μ(c·r/r200)/(μ(c)·r),  μ(y) = y − arctan y,  ρ = ρ0/(1 + (r/r_c)²)",
    inputs=("r", "v_bar"),
    parameters=(MASS, Parameter("c", 10.0, "", (1.0, 100.0), description="concentration c = r200/r_c")),
    amplitude="log10_M200",
    readings=(RHO_CRIT, "c = r200/r_c (the logarithmic slope never reaches −2: the core radius is the scale)",
              EMPIRICAL, STARTING_POINT),
)
def piso(points, *, log10_M200, c):
    return np.sqrt(points["v_bar"] ** 2 + pseudo_isothermal_velocity_squared(points["r"], log10_M200, c))


@kernel(
    summary="Baryons plus a DC14 halo, cored by feedback as M★/M200 sets: V² = V_bar² + V_DC14²(M200, c; M★).",
    source=f"Di Cintio et al. 2014, MNRAS 441, 2986; Zhao 1996, MNRAS 278, 488; {LI2020}",
    formula=("V² = V_bar² + G·M200·I(c_s·r/r200)/(I(c_s)·r),  I(y) = ∫₀ʸ u^{2−γ}(1+u^α)^{−(β−γ)/α} du,  "
             "(α, β, γ)(X = log10 M★/M200),  c_s = c·((2−γ)/(β−2))^{1/α}"),
    inputs=("r", "v_bar", "M_star"),
    parameters=(MASS, CONCENTRATION),
    readings=(RHO_CRIT, "c = r200/r_−2 of the DC14 halo itself", M_STAR,
              f"X held in [{DC14_RANGE[0]}, {DC14_RANGE[1]}], the range of Di Cintio et al.'s fit; M200 for their "
              "M_vir", STARTING_POINT),
)
def dc14(points, *, log10_M200, c):
    v2 = dc14_velocity_squared(points["r"], log10_M200, c, np.log10(points["M_star"]))
    return np.sqrt(points["v_bar"] ** 2 + v2)


@kernel(
    summary="Baryons plus a coreNFW halo (an NFW halo cored by star formation): V² = V_bar² + V_cNFW²(M200, c; R_d).",
    source=f"Read, Agertz & Collins 2016, MNRAS 459, 2573; {LI2020}",
    formula=("V² = V_bar² + V_NFW²(M200, c)·tanh(r/r_c)ⁿ,  r_c = η·R_1/2,  n = tanh(κ·t_SF/t_dyn),  "
             "t_dyn = 2π·√(r_s³/(G·M_NFW(<r_s)))"),
    inputs=("r", "v_bar", "R_d_table"),
    parameters=(MASS, CONCENTRATION),
    amplitude="log10_M200",
    readings=(RHO_CRIT, "c = r200/r_s of the NFW halo before its core formed", CORENFW_MAPPING, STARTING_POINT),
)
def corenfw(points, *, log10_M200, c):
    return np.sqrt(points["v_bar"] ** 2 + corenfw_velocity_squared(points["r"], log10_M200, c, points["R_d_table"]))
