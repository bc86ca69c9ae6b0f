"""ΛCDM scaling relations of dark-matter haloes: concentration–mass, stellar-to-halo mass, and the DC14 shape.

The one home of these relations and of their fitted numbers; the ΛCDM-prior kernels
(:mod:`sigcube.model.kernels.halo_lcdm`) and the synthetic samples drawn from them read them here. Halo masses are
M200 (within the radius enclosing 200·ρ_crit, :func:`sigcube.model.kernels.halo.r200_kpc`), logarithms are base 10,
masses in M☉, and the Hubble constant is the project's (h = 0.7, :data:`~sigcube.constants.H0_DEFAULT_KM_S_MPC`).

**Concentration–mass** (:data:`DUTTON_MACCIO_2014`). Dutton & Macciò 2014 (MNRAS 441, 3359), their fit for NFW haloes
with M200 relative to the critical density, at redshift z::

    log10 c200 = a + b·log10(M200 / (10¹² h⁻¹ M☉)),
    a = 0.520 + (0.905 − 0.520)·exp(−0.617·z^1.21),   b = −0.101 + 0.026·z

so a = 0.905 and b = −0.101 at z = 0, with a log-normal scatter of 0.11 dex about it. The numbers are those of
NumCosmo's implementation (``numcosmo/lss/nc_halo_cm_dutton14.c``; another implementation cites them as the paper's
eqs. 7 and 10–13); the scatter is the one A. P. Naik's SPARC prior code takes "from Dutton et al.". The paper's text
was not at hand to check either against.

**Stellar-to-halo mass** (:data:`MOSTER_2013`). Moster, Naab & White 2013 (MNRAS 428, 3121), eq. 2 with the z = 0
parameters of their Table 1::

    M★/M200 = 2N·[(M200/M1)^(−β) + (M200/M1)^γ]^(−1),
    log10 M1 = 11.590, N = 0.0351, β = 1.376, γ = 0.608

(halotools' ``Moster13SmHm`` and Naik's code print the same values), and a log-normal scatter σ★ = 0.15 dex in M★ at
fixed halo mass (the scatter Moster et al. assume; not checked against the paper's text here). The relation rises
monotonically (d log M★/d log M200 falls from 1 + β to 1 − γ > 0), so it has an inverse, :func:`log10_m200_of_mstar`.

**The direction of the scatter.** Moster's scatter is in log M★ at fixed M200. Given a galaxy's M★, the prior on its
halo mass is then taken as that scatter carried through the inverse (``"stellar"``, the default): with a standard
normal deviate z, log10 M200 = f⁻¹(log10 M★ + σ★·z), i.e. the density N(log10 M★; f(log10 M200), σ★)·f′(log10 M200)
in log10 M200 — proper and exactly normalised. The alternative ``"halo_linear"`` is the Gaussian in log10 M200
centred on f⁻¹(log10 M★) with the width σ★/f′ there (the same scatter, linearised). Katz et al. 2017 (as A. P. Naik's
re-implementation of their priors reads them) multiply N(log10 M★; f(log10 M200), σ★) into a prior flat in
log V200 — the ``"stellar"`` density without the factor f′, and not normalised over M200; it is not offered.

**DC14** (Di Cintio et al. 2014b, MNRAS 441, 2986): the (α, β, γ) of an (α, β, γ) double-power-law halo
as functions of X = log10(M★/M_halo), valid for −4.1 < X < −1.3::

    α = 2.94 − log10[(10^(X+2.33))^(−1.08) + (10^(X+2.33))^2.29]
    β = 4.23 + 1.34·X + 0.26·X²
    γ = −0.06 + log10[(10^(X+2.56))^(−0.68) + 10^(X+2.56)]

(the same numbers in SatGen's ``DC14`` profile class); :func:`dc14_shape` holds X at the ends of that range. Their
concentration is c = r_vir/r_−2 with r_s = r_−2·((β − 2)/(2 − γ))^(1/α), and the DC14 halo is more concentrated than
the dark-matter-only halo of the same mass by c_DC14 = c_DMO·(1 + k·exp(3.4·(X + 4.5))). The value of k could not be
checked against the paper: Naik's code uses k = 10⁻⁵ with the comment "Katz typo corrected", so Katz et al. 2017
print another value — 3·10⁻⁵ as recalled here. Both are offered (:data:`DC14_CONCENTRATION_SHIFT`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sigcube.constants import H0_DEFAULT_KM_S_MPC
from sigcube.model.special import double_power_inverse

LITTLE_H = H0_DEFAULT_KM_S_MPC / 100.0
"""h of the project's cosmology: masses in h⁻¹ M☉ (Dutton & Macciò's unit) are converted with it."""


@dataclass(frozen=True)
class ConcentrationMass:
    """log10 c200 = a + b·log10(M200/(10¹² h⁻¹ M☉)) with a log-normal scatter ``sigma_dex``."""

    name: str
    citation: str
    a: float
    b: float
    sigma_dex: float

    def log10_c(self, log10_m200):
        """The median log10 c200 at log10 M200 [M☉] (any array, or a traced value)."""
        return self.a + self.b * (log10_m200 + (math.log10(LITTLE_H) - 12.0))

    def describe(self) -> str:
        sign = "+" if self.b >= 0 else "−"
        return (f"{self.name}: log10 c200 = {self.a:g} {sign} {abs(self.b):g}·log10(M200/(1e12 h⁻¹ M☉)), h = {LITTLE_H:g}, "
                f"scatter {self.sigma_dex:g} dex ({self.citation})")


DUTTON_MACCIO_2014 = ConcentrationMass(
    "dutton_maccio_2014", "Dutton & Macciò 2014, MNRAS 441, 3359 (NFW, 200c, z = 0)", 0.905, -0.101, 0.11)


@dataclass(frozen=True)
class StellarHaloMass:
    """M★/M200 = 2N·[(M200/M1)^(−β) + (M200/M1)^γ]^(−1) with a log-normal scatter ``sigma_dex`` in M★."""

    name: str
    citation: str
    log10_m1: float
    n: float
    beta: float
    gamma: float
    sigma_dex: float

    def log10_mstar(self, log10_m200):
        """The median log10 M★ [M☉] at log10 M200 [M☉]."""
        x = log10_m200 - self.log10_m1
        return log10_m200 + math.log10(2.0 * self.n) - np.log10(10.0 ** (-self.beta * x) + 10.0 ** (self.gamma * x))

    def slope(self, log10_m200):
        """d log10 M★ / d log10 M200 at log10 M200: 1 + (β·A − γ·B)/(A + B), A = (M200/M1)^(−β), B = (M200/M1)^γ."""
        x = log10_m200 - self.log10_m1
        lo, hi = 10.0 ** (-self.beta * x), 10.0 ** (self.gamma * x)
        return 1.0 + (self.beta * lo - self.gamma * hi) / (lo + hi)

    def log10_m200(self, log10_mstar):
        """The halo mass on the relation: log10 M200 with :meth:`log10_mstar` = ``log10_mstar`` (a ufunc)."""
        return double_power_inverse(log10_mstar, self.log10_m1, math.log10(2.0 * self.n), self.beta, self.gamma)

    def describe(self) -> str:
        return (f"{self.name}: M★/M200 = 2N/[(M200/M1)^−β + (M200/M1)^γ], log10 M1 = {self.log10_m1:g}, "
                f"N = {self.n:g}, β = {self.beta:g}, γ = {self.gamma:g}, scatter {self.sigma_dex:g} dex in M★ "
                f"({self.citation})")


MOSTER_2013 = StellarHaloMass(
    "moster_2013", "Moster, Naab & White 2013, MNRAS 428, 3121, eq. 2 and Table 1 (z = 0)",
    11.590, 0.0351, 1.376, 0.608, 0.15)

SHMR_SCATTER = ("stellar", "halo_linear")
"""Readings of the direction of the SHMR scatter (module docstring)."""


def halo_log10_m200(log10_mstar, z, sigma_dex, scatter: str, shmr: StellarHaloMass = MOSTER_2013):
    """log10 M200 of a galaxy of stellar mass log10 M★ at the standard normal deviate ``z`` of the SHMR prior.

    ``scatter``: ``"stellar"`` — f⁻¹(log10 M★ + σ·z) (σ in M★ at fixed M200, carried through the inverse);
    ``"halo_linear"`` — f⁻¹(log10 M★) + z·σ/f′ (the same scatter as a Gaussian in log10 M200)."""
    if scatter == "stellar":
        return shmr.log10_m200(log10_mstar + sigma_dex * z)
    centre = shmr.log10_m200(log10_mstar)
    return centre + z * sigma_dex / shmr.slope(centre)


DC14_RANGE = (-4.1, -1.3)
"""X = log10(M★/M_halo) over which Di Cintio et al. fitted (α, β, γ); outside, the shape at the nearest end."""

DC14_CONCENTRATION_SHIFT = {"katz2017": 3e-5, "naik2019": 1e-5}
"""k of c_DC14 = c_DMO·(1 + k·exp(3.4·(X + 4.5))), by the reading (module docstring: neither value checked)."""


def dc14_shape(log10_mstar_over_mhalo):
    """(α, β, γ) of the DC14 profile at X = log10(M★/M_halo), X held in :data:`DC14_RANGE`."""
    x = np.minimum(np.maximum(log10_mstar_over_mhalo, DC14_RANGE[0]), DC14_RANGE[1])
    a = 10.0 ** (x + 2.33)
    alpha = 2.94 - np.log10(a ** -1.08 + a ** 2.29)
    beta = 4.23 + 1.34 * x + 0.26 * x * x
    g = 10.0 ** (x + 2.56)
    gamma = -0.06 + np.log10(g ** -0.68 + g)
    return alpha, beta, gamma


def dc14_concentration_factor(log10_mstar_over_mhalo, reading: str):
    """c_DC14/c_DMO = 1 + k·exp(3.4·(X + 4.5)) (X held in :data:`DC14_RANGE`; ``reading`` names k)."""
    x = np.minimum(np.maximum(log10_mstar_over_mhalo, DC14_RANGE[0]), DC14_RANGE[1])
    return 1.0 + DC14_CONCENTRATION_SHIFT[reading] * np.exp(3.4 * (x + 4.5))
