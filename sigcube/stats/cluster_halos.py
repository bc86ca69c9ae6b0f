"""NFW-ΛCDM halos of lensing clusters: each cluster's evidence and posterior under a concentration–mass prior.

A cluster's deprojected lensing mass M(<r_k) is the whole mass inside r_k (dark matter, gas and galaxies alike), so
the ΛCDM model of it is one NFW halo (Navarro, Frenk & White 1997) with no baryon term:

    M_pred(<r) = M200·m(c·r/r200)/m(c),   m(y) = ln(1 + y) − y/(1 + y),   r200 = (3·M200/(800π·ρ_crit(z)))^{1/3}

(:func:`sigcube.model.kernels.halo.nfw_enclosed_mass`), ρ_crit(z) that of the project's flat ΛCDM at the cluster's
redshift. The likelihood is the lensing one the gravity models use (:class:`sigcube.stats.lensing.MultivariateNormal`,
the published correlation matrix); the baryon systematics of :mod:`sigcube.stats.lensing` do not enter, because the
halo is fitted to the total mass.

**Prior** (:class:`HaloPrior`): log10 M200 uniform on [lo, hi] (the cluster-mass range, stated; the evidence moves
with its width by about ln(width ratio) per cluster, which the report shows); log10 c200 normal about a
concentration–mass relation at the cluster's z (Dutton & Macciò 2014's NFW 200c fit and its redshift evolution,
:data:`sigcube.model.lcdm.DUTTON_MACCIO_2014`) with its scatter, c = 10^(μ(M200, z) + σ·t), t ~ N(0, 1).

**Integral** (:func:`halo_evidence`): the trapezoid rule on a grid of log10 M200 (over the whole prior range) × t
(over ±:data:`T_MAX`), the prior density as weights; its numerical error is the change when every second grid point
is dropped, and a posterior with mass at the edge of the mass range is flagged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import logsumexp

from sigcube.errors import SigcubeError
from sigcube.model.kernels.halo import nfw_enclosed_mass
from sigcube.model.lcdm import DUTTON_MACCIO_2014, ConcentrationMass
from sigcube.stats.intrinsic_scatter import trapezoid_weights
from sigcube.stats.lensing import MultivariateNormal

T_MAX = 6.0
"""The concentration deviate t is integrated over [−T_MAX, T_MAX] (the normal mass outside is 2·10⁻⁹)."""
MASS_NODES = 1201
"""Grid points in log10 M200 over the prior range (odd: dropping every second point keeps both ends)."""
DEVIATE_NODES = 241
"""Grid points in the concentration deviate t over [−T_MAX, T_MAX] (odd)."""
EDGE = 1e-3
"""Posterior mass within the outermost 1 % of the log10 M200 range above which the range is said to cut the
posterior."""
CONFLICT = 3.0
"""A posterior mean of t beyond this many prior sd is a prior–data conflict with the concentration–mass relation."""


class ClusterHaloError(SigcubeError):
    """A halo prior that cannot be used (an empty or reversed mass range, a non-positive scatter)."""


@dataclass(frozen=True)
class HaloPrior:
    """log10 M200 [M☉] uniform on ``mass_range``; log10 c200 ~ N(relation at z, ``relation.sigma_dex`` ×
    ``scatter_factor``)."""

    mass_range: tuple[float, float] = (13.5, 16.0)
    relation: ConcentrationMass = DUTTON_MACCIO_2014
    scatter_factor: float = 1.0

    def __post_init__(self) -> None:
        lo, hi = self.mass_range
        if not (np.isfinite(lo) and np.isfinite(hi) and hi > lo):
            raise ClusterHaloError(f"the log10 M200 range must be two finite numbers, low < high; got {lo}, {hi}")
        if not self.scatter_factor > 0:
            raise ClusterHaloError(f"the concentration scatter factor must be > 0; got {self.scatter_factor}")

    @property
    def sigma_dex(self) -> float:
        return self.relation.sigma_dex * self.scatter_factor

    def describe(self) -> str:
        lo, hi = self.mass_range
        rel = self.relation
        a_inf, gamma, power, b_z = rel.evolution or (rel.a, 0.0, 1.0, 0.0)
        return (f"log10 M200 [M☉] uniform on [{lo:g}, {hi:g}] (M200 within 200·ρ_crit(z)); log10 c200 normal about "
                f"{rel.name} at the cluster's z (a(z) = {a_inf:g} + {rel.a - a_inf:.3g}·exp(−{gamma:g}·z^{power:g}), "
                f"b(z) = {rel.b:g} + {b_z:g}·z, log10 c200 = a + b·log10(M200/(1e12 h⁻¹ M☉)); {rel.citation}, and "
                f"their eqs. 10–11 for z > 0) with a scatter of {self.sigma_dex:g} dex")


@dataclass(frozen=True)
class HaloEvidence:
    """One cluster's NFW ln Z [nat] and its numerical error, the best ln L, and posterior summaries: log10 M200 and
    log10 c200 (mean, sd), the concentration deviate's posterior mean, the posterior mass at the mass range's edges."""

    ln_z: float
    error: float
    max_log_like: float
    log10_m200: tuple[float, float]
    log10_c200: tuple[float, float]
    deviate: float
    edge_mass: float

    def to_dict(self) -> dict[str, Any]:
        return {"ln_z": self.ln_z, "error": self.error, "max_log_like": self.max_log_like,
                "log10_m200": {"mean": self.log10_m200[0], "sd": self.log10_m200[1]},
                "log10_c200": {"mean": self.log10_c200[0], "sd": self.log10_c200[1]},
                "c_deviate": self.deviate, "edge_mass": self.edge_mass,
                "conflict": bool(abs(self.deviate) > CONFLICT)}


def _log_evidence(log_like: np.ndarray, log_w_mass: np.ndarray, log_w_dev: np.ndarray) -> float:
    return float(logsumexp(log_like + log_w_mass[:, None] + log_w_dev[None, :]))


def _log_weights(x: np.ndarray, log_density: np.ndarray) -> np.ndarray:
    """ln of the trapezoid rule's weights over an even grid ``x`` times the density there."""
    return np.log(trapezoid_weights(x.size) * (x[-1] - x[0])) + log_density


def _grid_weights(log_m: np.ndarray, t: np.ndarray, width: float) -> tuple[np.ndarray, np.ndarray]:
    """The ln weights of the log10 M200 grid (uniform prior over ``width`` dex) and of the deviate grid (N(0, 1))."""
    return (_log_weights(log_m, np.full(log_m.size, -np.log(width))),
            _log_weights(t, -0.5 * t * t - 0.5 * np.log(2.0 * np.pi)))


def halo_evidence(normal: MultivariateNormal, r_kpc: np.ndarray, z: float, prior: HaloPrior = HaloPrior(),
                  mass_nodes: int = MASS_NODES, deviate_nodes: int = DEVIATE_NODES) -> HaloEvidence:
    """The NFW halo's evidence for one cluster's lensing masses ``normal`` at radii ``r_kpc``, redshift ``z``
    (module docstring)."""
    lo, hi = prior.mass_range
    log_m = np.linspace(lo, hi, mass_nodes)
    t = np.linspace(-T_MAX, T_MAX, deviate_nodes)
    log_c = prior.relation.log10_c(log_m, z)[:, None] + prior.sigma_dex * t[None, :]
    pred = nfw_enclosed_mass(np.asarray(r_kpc, dtype=float)[None, None, :], log_m[:, None, None],
                             10.0 ** log_c[..., None], z)
    log_like = normal.log_likelihood(pred)
    log_w_mass, log_w_dev = _grid_weights(log_m, t, hi - lo)
    ln_z = _log_evidence(log_like, log_w_mass, log_w_dev)
    coarse = _log_evidence(log_like[::2, ::2], *_grid_weights(log_m[::2], t[::2], hi - lo))
    post = np.exp(log_like + log_w_mass[:, None] + log_w_dev[None, :] - ln_z)
    m_mass, t_mass = post.sum(axis=1), post.sum(axis=0)
    mean_m = float(np.sum(m_mass * log_m))
    mean_c = float(np.sum(post * log_c))
    edge = max(1, mass_nodes // 100)
    return HaloEvidence(
        ln_z, abs(ln_z - coarse), float(np.max(log_like)),
        (mean_m, float(np.sqrt(max(np.sum(m_mass * (log_m - mean_m) ** 2), 0.0)))),
        (mean_c, float(np.sqrt(max(np.sum(post * (log_c - mean_c) ** 2), 0.0)))),
        float(np.sum(t_mass * t)), float(m_mass[:edge].sum() + m_mass[-edge:].sum()))
