"""The galaxy-level velocity scale u = (sin i/sin i0)·s_g, ln s_g ~ N(0, τ²): its tabulated prior against direct
numerical integration, and the marginal likelihood with τ_gal against brute-force integrals over (i, ln s_g) that never
see the tables."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import integrate, special, stats

from sigcube.compute import quadrature as Q
from sigcube.compute import quadrature_compiled as QC
from sigcube.compute.scale_prior import H_MIN, convolved_table, exp_table, log_table
from sigcube.model.kernels.registry import get_kernel
from sigcube.stats.likelihood import GaussianLikelihood
from sigcube.stats.nuisance import NuisanceTransform, sparc_priors
from sigcube.stats.priors import TruncatedNormal
from sigcube.stats.synthetic import synthetic_sample

ZETA = np.linspace(-QC.TABLE_LIMIT, QC.TABLE_LIMIT, QC.TABLE_SIZE)
KERNEL = get_kernel("mond")


def _inclination_h(i0: float, e_i: float):
    """The inclination prior of a galaxy (Li+2018's truncated normal), its table of h = ln(sin i/sin i0), and h(z)
    computed from the prior's quantile map directly."""
    prior = TruncatedNormal(np.array([i0]), np.array([e_i]), 0.0, 90.0)
    tab = QC.tables(prior, 1)
    rad = np.radians(tab[..., 0])
    s0 = math.sin(math.radians(i0))
    u = np.stack([np.sin(rad), np.cos(rad) * np.radians(tab[..., 1])], axis=-1) / s0

    def h(z: float) -> float:
        return float(np.log(max(np.sin(np.radians(prior.from_normal(np.array([z]))[0])), 1e-300) / s0))

    return log_table(u), h


@pytest.mark.parametrize("i0, e_i, tau", [(60.0, 3.0, 0.05), (20.0, 10.0, 0.3), (85.0, 5.0, 0.02), (35.0, 6.0, 0.01)])
def test_the_quantile_map_against_the_convolution_integral(i0, e_i, tau):
    """F(y) = ∫ φ(z) Φ((y − h(z))/τ) dz by scipy's adaptive quad (h from the inclination prior's own quantile map) at
    the tabulated y(ζ) gives back Φ(ζ) to 5e-6 in ζ over |ζ| ≤ 5 (where the linear continuation below u = 10⁻³ is not
    reached); the slope column is dy/dζ (central differences of the values, 1e-4)."""
    h_tab, h = _inclination_h(i0, e_i)
    table = convolved_table(h_tab, tau)[0]
    checked = 0
    for k in range(0, QC.TABLE_SIZE, 53):
        zeta, y = ZETA[k], table[k, 0]
        if abs(zeta) > 5 or y < H_MIN + 8 * tau:
            continue
        upper = zeta > 0
        mass, _ = integrate.quad(lambda z, y=y, upper=upper: stats.norm.pdf(z) * special.ndtr(
                                 (h(z) - y if upper else y - h(z)) / tau),
                                 -12, 12, points=[0.0, zeta], limit=500, epsabs=0, epsrel=1e-11)
        back = -special.ndtri(mass) if upper else special.ndtri(mass)
        assert back == pytest.approx(zeta, abs=5e-6), (zeta, back)
        checked += 1
    assert checked >= 8
    inside = (np.abs(ZETA) < 5) & (table[:, 0] > H_MIN + 8 * tau)
    slope = np.gradient(table[:, 0], ZETA)
    np.testing.assert_allclose(table[inside, 1], slope[inside], rtol=1e-4)
    assert np.all(np.diff(table[:, 0]) > 0) and np.isfinite(table).all()


def test_without_an_inclination_the_scale_is_log_normal():
    """i held at the catalogue value: y = τ·e exactly, u = exp(τζ)."""
    flat = np.zeros((2, QC.TABLE_SIZE, 2))
    table = convolved_table(flat, 0.07)
    expected = np.broadcast_to(0.07 * ZETA, (2, QC.TABLE_SIZE))
    np.testing.assert_allclose(table[..., 0], expected, atol=1e-10)
    np.testing.assert_allclose(table[..., 1], np.full((2, QC.TABLE_SIZE), 0.07), rtol=1e-8)
    np.testing.assert_allclose(exp_table(table)[..., 0], np.exp(expected), rtol=1e-9)


def _incline_only(sample):
    """The sample's transform and a prior on the inclination alone (Υ and D held)."""
    transform = NuisanceTransform(sample.points, sample.catalogue, KERNEL.required_inputs(KERNEL.resolve({})))
    return transform, {"inclination": sparc_priors(sample.catalogue)["inclination"]}


def _brute_force(transform, prior, lik: GaussianLikelihood, g: int) -> float:
    """ln ∫∫ L(u) π(i) N(ln s; 0, τ²) di d(ln s) of galaxy g, u = (sin i/sin i0)·s, Υ and D held: written as
    ∫ L(e^y) p(y) dy with p(y) = ∫ φ(z) φ((y − h(z))/τ)/τ dz, h from the prior's quantile map; trapezoid rules on dense
    grids in y (around L's peak) and z — no table of the quadrature is read."""
    sub = transform.take(np.array([g]))
    bound = lik.bind(sub.v_obs, sub.e_v_obs, sub.offsets)
    v = KERNEL.func(sub.kernel_inputs({}), **KERNEL.resolve({}))[None, :]

    def log_l(y: np.ndarray) -> np.ndarray:
        return bound.log_likelihood(np.broadcast_to(v, (len(y), v.shape[1])), np.exp(y)[:, None])[:, 0]

    coarse = np.linspace(-0.6, 0.6, 1201)
    keep = coarse[log_l(coarse) > log_l(coarse).max() - 60]
    assert keep[0] > coarse[0] and keep[-1] < coarse[-1]
    y = np.linspace(keep[0] - 1e-3, keep[-1] + 1e-3, 801)
    z = np.linspace(-10, 10, 2001)
    h = np.log(np.sin(np.radians(prior.take(np.array([g])).from_normal(z[:, None])[:, 0])) / transform.sin_i0[g])
    tau = float(lik.tau_gal)
    density = np.trapezoid(stats.norm.pdf(z)[None, :] * stats.norm.pdf((y[:, None] - h[None, :]) / tau) / tau, z, axis=1)
    values = log_l(y)
    top = values.max()
    return float(top + np.log(np.trapezoid(np.exp(values - top) * density, y)))


@pytest.fixture(scope="module")
def inclined():
    s = synthetic_sample(KERNEL, {}, 3, seed=21, sigma_int=4.0, tau_gal=0.06)
    return _incline_only(s)


@pytest.mark.parametrize("model, sigma", [("velocity_floor", 0.0), ("velocity_floor", 4.0), ("lognormal", 0.05),
                                          ("lognormal_first_order", 0.05)])
def test_the_scale_integral_against_a_brute_force_over_inclination_and_offset(inclined, model, sigma):
    transform, priors = inclined
    lik = GaussianLikelihood(sigma, model, tau_gal=0.06)
    got = Q.marginalise(KERNEL, {}, transform, priors, lik, nodes=7).log_marginal[0]
    numpy = Q.marginalise(KERNEL, {}, transform, priors, lik, nodes=7, compiled=False).log_marginal[0]
    np.testing.assert_allclose(got, numpy, atol=1e-6)
    for g in range(transform.n_galaxies):
        assert got[g] == pytest.approx(_brute_force(transform, priors["inclination"], lik, g), abs=2e-3), g


def test_an_offset_alone_against_scipy_quad():
    """The inclination held, σ_int = 0: Z = ∫ L(e^{τe}) φ(e) de by scipy's quad, per galaxy."""
    s = synthetic_sample(KERNEL, {}, 2, seed=4, tau_gal=0.1)
    transform = NuisanceTransform(s.points, s.catalogue, KERNEL.required_inputs(KERNEL.resolve({})))
    lik = GaussianLikelihood(tau_gal=0.1)
    got = Q.marginalise(KERNEL, {}, transform, {}, lik, nodes=9).log_marginal[0]
    v = KERNEL.func(transform.kernel_inputs({}), **KERNEL.resolve({}))[None, :]
    bound = GaussianLikelihood().bind(transform.v_obs, transform.e_v_obs, transform.offsets)
    for g in range(2):
        def log_l(e: float, g: int = g) -> float:
            return float(bound.log_likelihood(v, np.full((1, 2), math.exp(0.1 * e)))[0, g])
        peak = max(log_l(e) for e in np.linspace(-8, 8, 1601))
        area, _ = integrate.quad(lambda e, peak=peak: math.exp(log_l(e) - peak) * stats.norm.pdf(e), -12, 12, limit=500,
                                 epsabs=0, epsrel=1e-10)
        assert got[g] == pytest.approx(peak + math.log(area), abs=1e-4)


def test_tau_per_grid_point_and_the_mode_it_reports():
    """τ_gal shaped (m, 1) with every nuisance parameter free: each row is the call at that τ alone (compiled and
    numpy agree); at τ = 0 the row is the plain inclination's integral; the mode names u and leaves i undefined."""
    s = synthetic_sample(KERNEL, {}, 3, seed=8, bulge_fraction=0.5, sigma_int=0.05, error_model="lognormal",
                         tau_gal=0.05)
    transform = NuisanceTransform(s.points, s.catalogue, KERNEL.required_inputs(KERNEL.resolve({})))
    priors = sparc_priors(s.catalogue)
    tau = np.array([[0.0], [0.05], [0.12]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        both = [Q.marginalise(KERNEL, {}, transform, priors, GaussianLikelihood(0.05, "lognormal", tau_gal=tau),
                              nodes=5, compiled=c) for c in (True, False)]
        np.testing.assert_allclose(both[0].log_marginal, both[1].log_marginal, atol=1e-6)
        for row, t in enumerate(tau[:, 0]):
            alone = Q.marginalise(KERNEL, {}, transform, priors, GaussianLikelihood(0.05, "lognormal", tau_gal=t),
                                  nodes=5).log_marginal[0]
            np.testing.assert_allclose(both[0].log_marginal[row], alone, atol=1e-6)
    mode = Q.profile(KERNEL, {}, transform, priors, GaussianLikelihood(0.05, "lognormal", tau_gal=0.05))
    assert np.isnan(mode.values["inclination"]).all() and np.all(mode.values["velocity_scale"] > 0)
    assert set(both[0].dims[str(transform.galaxy[0])]) >= {"upsilon_disk", "distance", Q.SCALE}
