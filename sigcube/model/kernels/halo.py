"""NFW dark-matter halo added to the baryons: the ΛCDM side of the fitted ablation (SI §15).

    V² = V_bar² + V_NFW²(r; M200, c)
    V_NFW² = V200²·[ln(1 + c·x) − c·x/(1 + c·x)] / (x·[ln(1 + c) − c/(1 + c)]),   x = r/r200
    r200 = (3·M200/(4π·200·ρ_crit))^{1/3},   V200² = G·M200/r200

ρ_crit from astropy's flat ΛCDM with H0 = 70 km/s/Mpc (136 M☉/kpc³). As a global kernel
one (M200, c) serves every galaxy; the SI's per-galaxy fit is a sweep over log10 M200 ∈
[6, 14] × c ∈ [1, 50] reduced with ``sigcube.engines.sweep.best_per_galaxy``.
"""

from __future__ import annotations

import numpy as np

from sigcube.constants import G_KPC_KMS2_MSUN, rho_crit_msun_kpc3
from sigcube.model.kernels.registry import Parameter, kernel


def r200_kpc(m200_msun):
    """Radius enclosing a mean density of 200·ρ_crit [kpc]."""
    return (3.0 * m200_msun / (4.0 * np.pi * 200.0 * rho_crit_msun_kpc3())) ** (1.0 / 3.0)


def nfw_mass_profile(y):
    """m(y) = ln(1 + y) − y/(1 + y): the NFW enclosed mass in units of 4π·ρ_s·r_s³ at y = r/r_s."""
    return np.log1p(y) - y / (1.0 + y)


def nfw_mass_fraction(x, c):
    """M(<x·r200)/M200 = m(c·x)/m(c)."""
    return nfw_mass_profile(c * x) / nfw_mass_profile(c)


def nfw_velocity_squared(r_kpc, log10_m200, c):
    """V_NFW² = G·M(<r)/r = [G·M200/m(c)]·m(r·c/r200)/r [(km/s)²] (M200 and c grouped: fewest per-point steps)."""
    m200 = 10.0**log10_m200
    return G_KPC_KMS2_MSUN * m200 / nfw_mass_profile(c) * nfw_mass_profile(r_kpc * (c / r200_kpc(m200))) / r_kpc


@kernel(
    summary="Baryons plus an NFW halo: V² = V_bar² + V_NFW²(M200, c).",
    source="SI §15; paper §4.1.1 (ΛCDM side of the equal-parameter ablation)",
    formula=("V² = V_bar² + G·M200·m(c·r/r200)/(m(c)·r),  m(y) = ln(1+y) − y/(1+y),  "
             "r200 = (3·M200/(800π·ρ_crit))^{1/3}"),
    inputs=("r", "v_bar"),
    parameters=(
        Parameter("log10_M200", 11.0, "", (6.0, 14.0), description="log10 of the halo mass M200 [M☉]"),
        Parameter("c", 10.0, "", (1.0, 50.0), description="concentration c = r200/r_s"),
    ),
    amplitude="log10_M200",
    readings=("ρ_crit: astropy FlatLambdaCDM(H0 = 70, Ωm = 0.3); M200 within 200·ρ_crit",
              "defaults: a starting point (the SI fits both per galaxy)"),
)
def nfw(points, *, log10_M200, c):
    return np.sqrt(points["v_bar"] ** 2 + nfw_velocity_squared(points["r"], log10_M200, c))
