"""ΛCDM scaling relations of dark-matter haloes: concentration–mass, stellar-to-halo mass, Einasto's shape, and the
feedback-cored profiles' mappings (DC14, coreNFW).

The one home of these relations and of their fitted numbers; the ΛCDM-prior kernels
(:mod:`sigcube.model.kernels.halo_lcdm`) and the synthetic samples drawn from them read them here. Halo masses are
M200 (within the radius enclosing 200·ρ_crit, :func:`sigcube.model.kernels.halo.r200_kpc`), logarithms are base 10,
masses in M☉, and the Hubble constant is the project's (h = 0.7, :data:`~sigcube.constants.H0_DEFAULT_KM_S_MPC`). Where
each number was read, and what could not be checked, is on the docs page ``study/lcdm-literature``.

**Concentration–mass** (:data:`DUTTON_MACCIO_2014`, :data:`DUTTON_MACCIO_2014_EINASTO`). Dutton & Macciò 2014 (MNRAS
441, 3359), their fits for haloes with M200 relative to the critical density at z = 0::

    log10 c200 = a + b·log10(M200 / (10¹² h⁻¹ M☉)),   NFW: a = 0.905, b = −0.101;   Einasto: a = 0.977, b = −0.130

(c = r200/r_−2), with a log-normal scatter of 0.11 dex about the NFW fit; the Einasto fit is given the same scatter.
At redshift z (the clusters; their eqs. 10–11, NFW 200c) a = 0.520 + (0.905 − 0.520)·exp(−0.617·z^1.21),
b = −0.101 + 0.026·z (:meth:`ConcentrationMass.at_redshift`).

**Einasto's shape** (:func:`einasto_alpha`). α = 0.155 + 0.0095·ν² (the form of Gao et al. 2008, MNRAS 387, 536, as
Dutton & Macciò 2014 refit it), ν the peak height from Dutton & Macciò's approximation for their Planck cosmology at
z = 0, log10 ν = −0.11 + 0.146·m + 0.0138·m² + 0.00123·m³, m = log10(M200/(10¹² h⁻¹ M☉)); a log-normal scatter of
:data:`EINASTO_ALPHA_SCATTER_DEX` about it.

**Stellar-to-halo mass** (:data:`SHMRS`). Moster, Naab & White 2013 (MNRAS 428, 3121), eq. 2 with the z = 0 parameters
of their Table 1::

    M★/M200 = 2N·[(M200/M1)^(−β) + (M200/M1)^γ]^(−1),   log10 M1 = 11.590, N = 0.0351, β = 1.376, γ = 0.608

with a log-normal scatter in M★ at fixed halo mass: ``moster2013`` a constant 0.15 dex; ``moster2013_propagated`` the
1σ errors of the four parameters (0.236 in log10 M1, 0.0058, 0.153, 0.059) propagated to log10 M★ through the
relation's derivatives, a mass-dependent width (0.46 dex at M200 = 10^9.5, 0.39 at 10^10.3, 0.11 at 10^12 M☉). And
``behroozi2013``: Behroozi, Wechsler & Conroy 2013 (ApJ 770, 57), log10 M★ = log10(ε·M1) + f(log10(M/M1)) − f(0),
f(x) = −log10(10^(αx) + 1) + δ·(log10(1 + eˣ))^γ/(1 + exp(10^(−x))), z = 0: log10 ε = −1.777, log10 M1 = 11.514,
α = −1.412, δ = 3.508, γ = 0.316, scatter ξ = 0.218 dex; their M is M_vir (h = 0.7), used here as M200 without
conversion. Each relation rises monotonically in M200, so it has an inverse (``log10_m200``).

**The direction of the scatter** (:func:`halo_log10_m200`). The scatter is in log M★ at fixed M200. Given a galaxy's M★
and a standard normal deviate z, ``"stellar"`` (the default) carries it through the inverse: log10 M200 =
f⁻¹(log10 M★ + σ★·z), the density N(log10 M★; f(log10 M200), σ★)·f′(log10 M200) in log10 M200 — proper and exactly
normalised; ``"halo_linear"`` is the Gaussian in log10 M200 centred on f⁻¹(log10 M★) with the width σ★/f′ there. A
mass-dependent σ★ is taken at the halo mass on the relation, f⁻¹(log10 M★) (so that the map from z stays monotonic and
the prior normalised).

**DC14** (Di Cintio et al. 2014b, MNRAS 441, 2986): the (α, β, γ) of an (α, β, γ) double-power-law halo
as functions of X = log10(M★/M_halo), valid for −4.1 < X < −1.3::

    α = 2.94 − log10[(10^(X+2.33))^(−1.08) + (10^(X+2.33))^2.29]
    β = 4.23 + 1.34·X + 0.26·X²
    γ = −0.06 + log10[(10^(X+2.56))^(−0.68) + 10^(X+2.56)]

:func:`dc14_shape` holds X at the ends of that range. Their concentration is c = r_vir/r_−2 with r_s =
r_−2·((β − 2)/(2 − γ))^(1/α), and the DC14 halo is more concentrated than the dark-matter-only halo of the same mass by
c_DC14 = c_DMO·(1 + k·exp(3.4·(X + 4.5))); k is 3·10⁻⁵ as Katz et al. 2017 are recalled to print it, 10⁻⁵ in
A. P. Naik's code ("Katz typo corrected") — both offered (:data:`DC14_CONCENTRATION_SHIFT`).

**coreNFW** (Read, Agertz & Collins 2016, MNRAS 459, 2573): the NFW enclosed mass times fⁿ, f = tanh(r/r_c), with
r_c = η·R_1/2 (η = 1.75, R_1/2 the projected stellar half-mass radius, :data:`HALF_MASS_RADIUS_PER_RD`·R_d for an
exponential disc), n = tanh(q), q = κ·t_SF/t_dyn (κ = 0.04), t_dyn = 2π·√(r_s³/(G·M_NFW(r_s))) the NFW halo's
dynamical time at its scale radius and t_SF :data:`CORENFW_STAR_FORMATION_GYR` (late-type discs form stars over a
Hubble time): :func:`corenfw_core`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import astropy.units as u
import numpy as np

from sigcube.constants import G_KPC_KMS2_MSUN, H0_DEFAULT_KM_S_MPC
from sigcube.model.special import behroozi_inverse, double_power_inverse

LITTLE_H = H0_DEFAULT_KM_S_MPC / 100.0
"""h of the project's cosmology: masses in h⁻¹ M☉ (Dutton & Macciò's unit) are converted with it."""


def _log10_mass_per_1e12_over_h(log10_m200):
    """m = log10(M200/(10¹² h⁻¹ M☉)): the mass variable of Dutton & Macciò's fits."""
    return log10_m200 + (math.log10(LITTLE_H) - 12.0)


@dataclass(frozen=True)
class ConcentrationMass:
    """log10 c200 = a + b·log10(M200/(10¹² h⁻¹ M☉)) with a log-normal scatter ``sigma_dex``; at redshift z (where the
    fit gives its evolution, ``evolution`` = (a_∞, γ, p, b_z)) a(z) = a_∞ + (a − a_∞)·exp(−γ·z^p), b(z) = b + b_z·z."""

    name: str
    citation: str
    a: float
    b: float
    sigma_dex: float
    evolution: tuple[float, float, float, float] | None = None

    def at_redshift(self, z: float) -> tuple[float, float]:
        """(a, b) at redshift ``z``; the z = 0 fit where the relation has no evolution (only z = 0 is allowed then)."""
        if z == 0:
            return self.a, self.b
        if self.evolution is None:
            raise ValueError(f"{self.name} is a z = 0 relation; it has no value at z = {z:g}")
        a_inf, gamma, power, b_z = self.evolution
        return a_inf + (self.a - a_inf) * math.exp(-gamma * z**power), self.b + b_z * z

    def log10_c(self, log10_m200, z: float = 0.0):
        """The median log10 c200 at log10 M200 [M☉] (any array, or a traced value) and redshift ``z``."""
        a, b = self.at_redshift(z)
        return a + b * _log10_mass_per_1e12_over_h(log10_m200)

    def describe(self) -> str:
        sign = "+" if self.b >= 0 else "−"
        return (f"{self.name}: log10 c200 = {self.a:g} {sign} {abs(self.b):g}·log10(M200/(1e12 h⁻¹ M☉)), h = {LITTLE_H:g}, "
                f"scatter {self.sigma_dex:g} dex ({self.citation})")


DUTTON_MACCIO_2014 = ConcentrationMass(
    "dutton_maccio_2014", "Dutton & Macciò 2014, MNRAS 441, 3359 (NFW, 200c, z = 0)", 0.905, -0.101, 0.11,
    evolution=(0.520, 0.617, 1.21, 0.026))
DUTTON_MACCIO_2014_EINASTO = ConcentrationMass(
    "dutton_maccio_2014_einasto", "Dutton & Macciò 2014, MNRAS 441, 3359 (Einasto, 200c, z = 0; the NFW fit's scatter)",
    0.977, -0.130, 0.11)

EINASTO_ALPHA_SCATTER_DEX = 0.16
"""Log-normal scatter of Einasto's α about :func:`einasto_alpha` [dex] (module docstring; the value an independent
implementation of Dutton & Macciò's relations uses, not checked against the paper's text)."""


def peak_height(log10_m200):
    """ν(M200) at z = 0 by Dutton & Macciò 2014's approximation for their Planck cosmology:
    log10 ν = −0.11 + 0.146·m + 0.0138·m² + 0.00123·m³, m = log10(M200/(10¹² h⁻¹ M☉))."""
    m = _log10_mass_per_1e12_over_h(log10_m200)
    return 10.0 ** (-0.11 + m * (0.146 + m * (0.0138 + m * 0.00123)))


def einasto_alpha(log10_m200):
    """The median Einasto shape α = 0.155 + 0.0095·ν² at log10 M200 (Gao et al. 2008's form, Dutton & Macciò 2014)."""
    nu = peak_height(log10_m200)
    return 0.155 + 0.0095 * nu * nu


@dataclass(frozen=True)
class StellarHaloMass:
    """Moster et al.'s M★/M200 = 2N·[(M200/M1)^(−β) + (M200/M1)^γ]^(−1), with a log-normal scatter in M★: the constant
    ``sigma_dex``, or, with ``errors`` (1σ of log10 M1, N, β, γ), those errors propagated (:meth:`scatter_dex`)."""

    name: str
    citation: str
    log10_m1: float
    n: float
    beta: float
    gamma: float
    sigma_dex: float
    errors: tuple[float, float, float, float] | None = None

    def _powers(self, log10_m200):
        x = log10_m200 - self.log10_m1
        return x, 10.0 ** (-self.beta * x), 10.0 ** (self.gamma * x)

    def log10_mstar(self, log10_m200):
        """The median log10 M★ [M☉] at log10 M200 [M☉]."""
        _, lo, hi = self._powers(log10_m200)
        return log10_m200 + math.log10(2.0 * self.n) - np.log10(lo + hi)

    def slope(self, log10_m200):
        """d log10 M★ / d log10 M200 at log10 M200: 1 + (β·A − γ·B)/(A + B), A = (M200/M1)^(−β), B = (M200/M1)^γ."""
        _, lo, hi = self._powers(log10_m200)
        return 1.0 + (self.beta * lo - self.gamma * hi) / (lo + hi)

    def log10_m200(self, log10_mstar):
        """The halo mass on the relation: log10 M200 with :meth:`log10_mstar` = ``log10_mstar`` (a ufunc)."""
        return double_power_inverse(log10_mstar, self.log10_m1, math.log10(2.0 * self.n), self.beta, self.gamma)

    def scatter_dex(self, log10_m200):
        """σ★ [dex] at log10 M200: ``sigma_dex``, or with ``errors`` √Σ_p (∂log10 M★/∂p · σ_p)², the derivatives
        ∂/∂log10 M1 = (γ·B − β·A)/(A + B), ∂/∂N = 1/(N·ln 10), ∂/∂β = x·A/(A + B), ∂/∂γ = −x·B/(A + B),
        x = log10(M200/M1)."""
        if self.errors is None:
            return self.sigma_dex + 0.0 * log10_m200
        x, lo, hi = self._powers(log10_m200)
        s_m1, s_n, s_beta, s_gamma = self.errors
        total = lo + hi
        return np.sqrt(((self.gamma * hi - self.beta * lo) / total * s_m1) ** 2 + (s_n / (self.n * math.log(10.0))) ** 2
                       + (x * lo / total * s_beta) ** 2 + (x * hi / total * s_gamma) ** 2)

    def describe(self) -> str:
        scatter = (f"scatter in M★ from the parameters' 1σ errors {self.errors} (log10 M1, N, β, γ) propagated"
                   if self.errors is not None else f"scatter {self.sigma_dex:g} dex in M★")
        return (f"{self.name}: M★/M200 = 2N/[(M200/M1)^−β + (M200/M1)^γ], log10 M1 = {self.log10_m1:g}, "
                f"N = {self.n:g}, β = {self.beta:g}, γ = {self.gamma:g}, {scatter} ({self.citation})")


@dataclass(frozen=True)
class Behroozi:
    """Behroozi et al.'s log10 M★ = log10(ε·M1) + f(log10(M/M1)) − f(0) with a constant log-normal scatter in M★."""

    name: str
    citation: str
    log10_eps: float
    log10_m1: float
    alpha: float
    delta: float
    gamma: float
    sigma_dex: float

    def _f(self, x):
        """f(x) and its derivative (the compiled inverse's function), with w = exp(−10^(−x)) = 1/E in place of E."""
        p = 10.0 ** (self.alpha * x)
        u = 10.0 ** -x
        w = np.exp(-u)
        ex = np.exp(x)
        lg = np.log10(1.0 + ex)
        f = -np.log10(p + 1.0) + self.delta * lg**self.gamma * w / (1.0 + w)
        d = -self.alpha * p / (p + 1.0) + self.delta * w / (1.0 + w) * (
            self.gamma * lg ** (self.gamma - 1.0) * ex / ((1.0 + ex) * math.log(10.0))
            + lg**self.gamma * u * math.log(10.0) / (1.0 + w))
        return f, d

    def log10_mstar(self, log10_m200):
        """The median log10 M★ [M☉] at log10 M200 [M☉]."""
        f0 = -math.log10(2.0) + self.delta * math.log10(2.0) ** self.gamma / (1.0 + math.e)
        return self.log10_eps + self.log10_m1 + self._f(log10_m200 - self.log10_m1)[0] - f0

    def slope(self, log10_m200):
        """d log10 M★ / d log10 M200 at log10 M200."""
        return self._f(log10_m200 - self.log10_m1)[1]

    def log10_m200(self, log10_mstar):
        """The halo mass on the relation (a ufunc)."""
        return behroozi_inverse(log10_mstar, self.log10_eps + self.log10_m1, self.log10_m1, self.alpha, self.delta,
                                self.gamma)

    def scatter_dex(self, log10_m200):
        """σ★ [dex]: the constant ``sigma_dex``."""
        return self.sigma_dex + 0.0 * log10_m200

    def describe(self) -> str:
        return (f"{self.name}: log10 M★ = log10(ε·M1) + f(log10(M/M1)) − f(0), f(x) = −log10(10^(αx) + 1) + "
                f"δ·(log10(1 + eˣ))^γ/(1 + exp(10^−x)), log10 ε = {self.log10_eps:g}, log10 M1 = {self.log10_m1:g}, "
                f"α = {self.alpha:g}, δ = {self.delta:g}, γ = {self.gamma:g}, scatter {self.sigma_dex:g} dex in M★; "
                f"M_vir used as M200 ({self.citation})")


MOSTER_2013 = StellarHaloMass(
    "moster2013", "Moster, Naab & White 2013, MNRAS 428, 3121, eq. 2 and Table 1 (z = 0)",
    11.590, 0.0351, 1.376, 0.608, 0.15)
MOSTER_2013_PROPAGATED = replace(MOSTER_2013, name="moster2013_propagated", errors=(0.236, 0.0058, 0.153, 0.059))
BEHROOZI_2013 = Behroozi("behroozi2013", "Behroozi, Wechsler & Conroy 2013, ApJ 770, 57 (z = 0)",
                         -1.777, 11.514, -1.412, 3.508, 0.316, 0.218)
SHMRS: dict[str, StellarHaloMass | Behroozi] = {r.name: r for r in (MOSTER_2013, MOSTER_2013_PROPAGATED, BEHROOZI_2013)}
"""The stellar-to-halo mass relations a ΛCDM prior can use, by name (module docstring); the first is the default."""
DEFAULT_SHMR = next(iter(SHMRS))
"""The relation a ΛCDM prior uses unless a model names another (``nfw-lcdm`` against ``nfw-lcdm-behroozi2013``)."""

SHMR_SCATTER = ("stellar", "halo_linear")
"""Readings of the direction of the SHMR scatter (module docstring)."""


def halo_log10_m200(log10_mstar, z, scatter: str, shmr: StellarHaloMass | Behroozi = MOSTER_2013):
    """log10 M200 of a galaxy of stellar mass log10 M★ at the standard normal deviate ``z`` of the SHMR prior.

    ``scatter``: ``"stellar"`` — f⁻¹(log10 M★ + σ★·z) (σ★ in M★ at fixed M200, carried through the inverse);
    ``"halo_linear"`` — f⁻¹(log10 M★) + z·σ★/f′ (the same scatter as a Gaussian in log10 M200). A mass-dependent σ★ is
    taken at f⁻¹(log10 M★)."""
    constant = getattr(shmr, "errors", None) is None
    if scatter == "stellar" and constant:
        return shmr.log10_m200(log10_mstar + shmr.sigma_dex * z)
    centre = shmr.log10_m200(log10_mstar)
    sigma = shmr.scatter_dex(centre)
    if scatter == "stellar":
        return shmr.log10_m200(log10_mstar + sigma * z)
    return centre + z * sigma / shmr.slope(centre)


def shmr_deviate(log10_mstar, log10_m200, scatter: str, shmr: StellarHaloMass | Behroozi = MOSTER_2013):
    """The deviate z at which :func:`halo_log10_m200` gives ``log10_m200`` (its inverse, for data that give M200)."""
    centre = shmr.log10_m200(log10_mstar)
    sigma = shmr.scatter_dex(centre)
    if scatter == "stellar":
        return (shmr.log10_mstar(log10_m200) - log10_mstar) / sigma
    return (log10_m200 - centre) * shmr.slope(centre) / sigma


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


CORENFW_ETA = 1.75
"""η of coreNFW's core radius r_c = η·R_1/2 (Read, Agertz & Collins 2016)."""
CORENFW_KAPPA = 0.04
"""κ of coreNFW's core index n = tanh(κ·t_SF/t_dyn) (Read, Agertz & Collins 2016)."""
CORENFW_STAR_FORMATION_GYR = 14.0
"""t_SF [Gyr]: how long the galaxies have formed stars (late-type discs: a Hubble time)."""
HALF_MASS_RADIUS_PER_RD = 1.6783469900166608
"""R_1/2/R_d of an exponential disc: the root of (1 + x)·e^(−x) = ½ (the projected half-mass radius)."""
GYR_PER_KPC_S_KM = float((u.kpc / (u.km / u.s)).to(u.Gyr))
"""1 kpc/(km/s) in Gyr: a time from a radius and a velocity."""


def corenfw_core(r200, c, mass_at_scale, r_d):
    """(r_c [kpc], n) of the coreNFW halo of an NFW halo with r200 [kpc], concentration c and mass M_NFW(<r_s) [M☉]
    around a disc of scale length R_d [kpc] (module docstring)."""
    r_s = r200 / c
    t_dyn = 2.0 * math.pi * np.sqrt(r_s**3 / (G_KPC_KMS2_MSUN * mass_at_scale)) * GYR_PER_KPC_S_KM
    return CORENFW_ETA * HALF_MASS_RADIUS_PER_RD * r_d, np.tanh(CORENFW_KAPPA * CORENFW_STAR_FORMATION_GYR / t_dyn)
