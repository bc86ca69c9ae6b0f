"""NFW-ΛCDM halos of lensing clusters: the enclosed mass, the concentration–mass relation at z, the evidence against
an independent integrator, and posterior coverage on synthetic clusters with known truth."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate

from sigcube.errors import DataSourceError
from sigcube.io.ingest.clusters import cluster_redshift
from sigcube.model.kernels.halo import nfw_enclosed_mass, r200_kpc
from sigcube.model.lcdm import DUTTON_MACCIO_2014, DUTTON_MACCIO_2014_EINASTO
from sigcube.stats.cluster_halos import ClusterHaloError, HaloPrior, halo_evidence
from sigcube.stats.lensing import MultivariateNormal

RADII = np.array([250.0, 500.0, 800.0, 1200.0])


@settings(deadline=None)  # the first example builds astropy's cosmology
@given(st.floats(12.0, 16.0), st.floats(1.0, 20.0), st.floats(0.0, 1.0))
def test_an_nfw_halo_holds_m200_inside_r200_at_its_redshift(log_m, c, z):
    m = nfw_enclosed_mass(r200_kpc(10.0**log_m, z), log_m, c, z)
    assert m == pytest.approx(10.0**log_m, rel=1e-10)


def test_r200_shrinks_with_the_critical_density_at_z():
    # ρ_crit(z) = ρ_crit0·E(z)², E² = 0.3(1 + z)³ + 0.7 for the project's flat ΛCDM (radiation neglected by astropy
    # when Tcmb0 = 0): r200 ∝ ρ_crit^(−1/3)
    e2 = 0.3 * 1.5**3 + 0.7
    assert r200_kpc(1e15, 0.5) / r200_kpc(1e15) == pytest.approx(e2 ** (-1 / 3), rel=1e-9)


def test_the_concentration_relation_at_z_follows_dutton_maccio_eqs_10_and_11():
    # by hand: a(1) = 0.520 + 0.385·exp(−0.617), b(1) = −0.101 + 0.026; M200 = 10¹² h⁻¹ M☉ puts the mass term at 0
    log_m = 12.0 - math.log10(0.7)
    assert DUTTON_MACCIO_2014.log10_c(log_m, 0.0) == pytest.approx(0.905)
    assert DUTTON_MACCIO_2014.log10_c(log_m, 1.0) == pytest.approx(0.520 + 0.385 * math.exp(-0.617))
    assert DUTTON_MACCIO_2014.log10_c(log_m + 1.0, 1.0) - DUTTON_MACCIO_2014.log10_c(log_m, 1.0) == \
        pytest.approx(-0.075)
    with pytest.raises(ValueError, match="z = 0 relation"):
        DUTTON_MACCIO_2014_EINASTO.log10_c(log_m, 0.5)


def _cluster(log_m: float, c: float, z: float, rel: float = 0.1, rho: float = 0.5
             ) -> tuple[np.ndarray, np.ndarray]:
    mass = nfw_enclosed_mass(RADII, log_m, c, z)
    corr = rho ** np.abs(np.subtract.outer(np.arange(RADII.size), np.arange(RADII.size)))
    return mass, corr * np.outer(rel * mass, rel * mass)


def test_the_evidence_agrees_with_scipy_adaptive_quadrature():
    z = 0.4
    mass, cov = _cluster(15.0, 4.0, z)
    normal = MultivariateNormal.of(mass * 1.05, cov)
    prior = HaloPrior()
    ev = halo_evidence(normal, RADII, z, prior)

    def integrand(log_c, log_m):
        mu = DUTTON_MACCIO_2014.log10_c(log_m, z)
        density = math.exp(-0.5 * ((log_c - mu) / 0.11) ** 2) / (0.11 * math.sqrt(2 * math.pi)) / 2.5
        return math.exp(normal.log_likelihood(nfw_enclosed_mass(RADII, log_m, 10.0**log_c, z)) - ev.max_log_like) \
            * density

    value, _ = integrate.dblquad(integrand, 14.3, 15.7, -0.6, 1.6, epsabs=0, epsrel=1e-9)
    assert ev.ln_z == pytest.approx(math.log(value) + ev.max_log_like, abs=1e-6)
    assert ev.error < 1e-6
    assert ev.edge_mass < 1e-20


def test_posteriors_cover_the_truth_of_synthetic_clusters_at_their_nominal_rate():
    rng = np.random.default_rng(20261129)
    prior = HaloPrior()
    inside, n = 0, 40
    for _ in range(n):
        z = rng.uniform(0.2, 0.7)
        log_m = rng.uniform(14.5, 15.5)
        c = 10.0 ** (DUTTON_MACCIO_2014.log10_c(log_m, z) + 0.11 * rng.standard_normal())
        mass, cov = _cluster(log_m, c, z)
        data = rng.multivariate_normal(mass, cov)
        ev = halo_evidence(MultivariateNormal.of(data, cov), RADII, z, prior, mass_nodes=401, deviate_nodes=81)
        inside += abs(ev.log10_m200[0] - log_m) < ev.log10_m200[1]
    # a posterior mean ± sd covers the truth with probability ≈ 0.68; the binomial 99.9 % range for 40 draws
    assert 16 <= inside <= 37


def test_a_bad_prior_and_an_unknown_cluster_are_refused_by_name():
    with pytest.raises(ClusterHaloError, match="low < high"):
        HaloPrior(mass_range=(15.0, 14.0))
    with pytest.raises(ClusterHaloError, match="scatter factor"):
        HaloPrior(scatter_factor=0.0)
    with pytest.raises(DataSourceError, match="no redshift is known for cluster 'Abell 1689'"):
        cluster_redshift("Abell 1689")
    assert cluster_redshift("MACSJ1206") == 0.440
