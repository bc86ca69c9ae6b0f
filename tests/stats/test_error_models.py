"""The error models: the velocity floor beside an error model's σ_int (both error models together) and the log-normal
likelihood against the densities written out point by point (scipy), the first-order model's former name, and the
nuisance marginalisation (compiled and numpy) against the brute-force grid."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sigcube.compute import quadrature as Q
from sigcube.engines.sweep.spec import SpecError, parse_spec
from sigcube.model.kernels.registry import get_kernel
from sigcube.model.segments import segment_sum
from sigcube.stats.intrinsic_scatter import Scatter
from sigcube.stats.likelihood import HALF_LN10, V_MIN, GaussianLikelihood, LikelihoodError, check_error_model
from sigcube.stats.nuisance import NuisanceTransform, sparc_priors
from sigcube.stats.synthetic import synthetic_sample

KERNEL = get_kernel("mond")


@pytest.mark.parametrize("model, sigma", [("velocity_floor", 4.0), ("lognormal_first_order", 0.05)])
def test_the_floor_adds_in_quadrature_to_the_error_models_scatter(model, sigma):
    """ln L with a floor σ_fl = Σ_k ln N(V_obs,k; V_pred,k/q, e_k² + (σ_V,k/q)²), σ_V² = σ_fl² + the model's σ_V²
    (σ_int for the velocity floor, V_pred·(ln 10/2)·σ_int for lognormal_first_order), by scipy's normal density."""
    rng = np.random.default_rng(11)
    v_obs, e_v, offsets = rng.uniform(40, 200, 7), rng.uniform(2, 9, 7), np.array([0, 3, 7])
    pred = rng.uniform(40, 200, (2, 7))
    qinv = rng.uniform(0.8, 1.3, (2, 2))
    floor = 3.0
    got = GaussianLikelihood(sigma, model, floor).bind(v_obs, e_v, offsets).log_likelihood(pred, qinv)
    own = sigma ** 2 if model == "velocity_floor" else (HALF_LN10 * sigma * pred) ** 2
    q = np.repeat(qinv, [3, 4], axis=1)
    dens = stats.norm.logpdf(v_obs, pred * q, np.sqrt(e_v ** 2 + q ** 2 * (floor ** 2 + own)))
    np.testing.assert_allclose(got, np.stack([dens[:, :3].sum(1), dens[:, 3:].sum(1)], axis=1), rtol=1e-12)
    assert "velocity floor σ_fl = 3 km/s" in GaussianLikelihood(sigma, model, floor).describe()
    assert not GaussianLikelihood(0.0, model, floor).floor_free
    with pytest.raises(LikelihoodError, match="velocity floor"):
        GaussianLikelihood(sigma, model, -1.0)


def test_both_error_models_marginalised_against_brute_force():
    """lognormal_first_order with a velocity floor: the compiled and numpy marginalisations agree, and each galaxy's ln Z
    lies within 0.01 nat of the brute-force grid over Υ, D, i."""
    s = synthetic_sample(KERNEL, {}, 3, seed=9, bulge_fraction=0.5, sigma_int=0.05, error_model="lognormal_first_order")
    inputs = KERNEL.required_inputs(KERNEL.resolve({}))
    transform, priors = NuisanceTransform(s.points, s.catalogue, inputs), sparc_priors(s.catalogue)
    lik = GaussianLikelihood(0.05, "lognormal_first_order", 4.0)
    got = Q.marginalise(KERNEL, {}, transform, priors, lik, nodes=5).log_marginal[0]
    numpy = Q.marginalise(KERNEL, {}, transform, priors, lik, nodes=5, compiled=False).log_marginal[0]
    np.testing.assert_allclose(got, numpy, atol=1e-6)
    without = Q.marginalise(KERNEL, {}, transform, priors, GaussianLikelihood(0.05, "lognormal_first_order"),
                            nodes=5).log_marginal[0]
    assert np.all(np.abs(got - without) > 1e-3)  # the floor changes every galaxy's evidence
    for i in range(transform.n_galaxies):
        index = np.array([i])
        ref, _ = Q.reference_log_marginal(KERNEL, {}, transform.take(index),
                                          {k: p.take(index) for k, p in priors.items()}, lik)
        assert abs(got[i] - ref) <= 0.01, (i, got[i], ref)


def test_a_sweep_spec_takes_the_floor_and_fingerprints_it_only_when_set():
    base = """name = "x"\ndataset = "sparc"\nkernel = "mond"\n[grid.a0]\nlogspace = [1e-10, 1.2e-10, 3]\n
[grid.sigma_int]\nlinspace = [0.03, 0.05, 3]\n[nuisance]\nerror_model = "lognormal_first_order"\n"""
    plain = parse_spec(base)
    floored = parse_spec(base + "sigma_floor = 2.5\n")
    assert floored.nuisance.sigma_floor == 2.5 and plain.nuisance.sigma_floor == 0.0
    assert "sigma_floor" in floored.nuisance.canonical() and "sigma_floor" not in plain.nuisance.canonical()
    assert floored.fingerprint() != plain.fingerprint()
    assert math.isclose(floored.nuisance.likelihood(0.04).scatter_terms[0], 2.5 ** 2)
    assert any("σ_fl = 2.5 km/s" in line for line in floored.nuisance.describe())


# --- the log-normal likelihood and the first-order model's names -----------------------------------------------------

def _data(seed: int = 5):
    rng = np.random.default_rng(seed)
    return rng.uniform(20, 200, 9), rng.uniform(1, 9, 9), np.array([0, 4, 9]), rng.uniform(20, 200, (3, 9)), \
        rng.uniform(0.8, 1.25, (3, 2))


@pytest.mark.parametrize("sigma, floor", [(0.0, 0.0), (0.08, 0.0), (0.08, 4.0)])
def test_lognormal_is_the_log_normal_density_of_the_tabulated_v_obs(sigma, floor):
    """ln L = Σ_k ln lognorm.pdf(V_obs,k; s = t_k, scale = V_pred,k·u) by scipy (the 1/V_obs Jacobian is scipy's),
    t_k² = (e_V/V_obs)² + (σ_fl/V_pred)² + ((ln 10/2)·σ_int)²."""
    v_obs, e_v, offsets, pred, qinv = _data()
    got = GaussianLikelihood(sigma, "lognormal", floor).bind(v_obs, e_v, offsets).log_likelihood(pred, qinv)
    u = np.repeat(qinv, [4, 5], axis=1)
    t = np.sqrt((e_v / v_obs) ** 2 + (floor / pred) ** 2 + (HALF_LN10 * sigma) ** 2)
    dens = stats.lognorm.logpdf(v_obs, s=t, scale=pred * u)
    np.testing.assert_allclose(got, np.stack([dens[:, :4].sum(1), dens[:, 4:].sum(1)], axis=1), rtol=1e-12)


def test_with_small_errors_the_log_normal_density_is_the_gaussian_one():
    """The densities of the same tabulated V_obs agree when e_V/V_obs is small (ln V_obs ≈ ln V + δV/V): without the
    Jacobian they would differ by Σ ln V_obs, hundreds of nats."""
    v_obs, _, offsets, pred, _ = _data()
    e_v = 1e-4 * v_obs
    pred = v_obs * (1 + 1e-4 * np.random.default_rng(1).standard_normal((3, 9)))
    log_normal = GaussianLikelihood(0.0, "lognormal").bind(v_obs, e_v, offsets).log_likelihood(pred)
    gaussian = GaussianLikelihood().bind(v_obs, e_v, offsets).log_likelihood(pred)
    np.testing.assert_allclose(log_normal, gaussian, atol=0.01)
    assert np.all(np.abs(segment_sum(np.log(v_obs), offsets)) > 10)


@settings(max_examples=40, deadline=None)
@given(st.floats(0.0, 0.3), st.floats(0.0, 8.0), st.floats(0.3, 3.0), st.integers(0, 1000))
def test_lognormal_moments_are_exact_at_every_scale(sigma, floor, scale, seed):
    """Under lognormal the three sums give ln L at any velocity scale exactly (t does not depend on it)."""
    v_obs, e_v, offsets, pred, _ = _data(seed)
    bound = GaussianLikelihood(sigma, "lognormal", floor).bind(v_obs, e_v, offsets)
    qinv = np.full((3, 2), scale)
    np.testing.assert_allclose(bound.log_likelihood_from_moments(bound.moments(pred, None), qinv),
                               bound.log_likelihood(pred, qinv), rtol=1e-10, atol=1e-9)


def test_a_non_positive_prediction_is_a_finite_penalty_in_both_paths():
    """V_pred ≤ V_MIN is held at V_MIN: the numpy likelihood and the compiled state agree there, ln L finite and far
    below its value at a prediction near the data."""
    v_obs, e_v, offsets, _, _ = _data()
    bound = GaussianLikelihood(0.05, "lognormal").bind(v_obs, e_v, offsets)
    pred = np.vstack([v_obs, np.where(np.arange(9) == 2, -5.0, v_obs), np.where(np.arange(9) == 2, V_MIN, v_obs)])
    ll = bound.log_likelihood(pred)
    assert np.isfinite(ll).all() and ll[1, 0] == ll[2, 0] and ll[0, 0] - ll[1, 0] > 1000
    from sigcube.compute.quadrature_compiled import _state_log

    t2 = (e_v / v_obs) ** 2 + (HALF_LN10 * 0.05) ** 2
    ln0 = -np.log(v_obs[:4]).sum() - 2 * math.log(2 * math.pi) - 0.5 * np.log(t2[:4]).sum()
    r = np.empty(4)
    f, _ = _state_log(pred[1, :4], np.zeros(1), 0, False, np.zeros((2, 2)), np.log(v_obs), (e_v / v_obs) ** 2, 0,
                            4, 0.0, (HALF_LN10 * 0.05) ** 2, ln0, r, 1 / np.sqrt(t2[:4]))
    assert -f == pytest.approx(ll[1, 0], rel=1e-12)
    with pytest.raises(LikelihoodError, match="V_obs > 0"):
        GaussianLikelihood(0.05, "lognormal").bind(np.array([10.0, -1.0]), np.ones(2), np.array([0, 2]))


def test_the_first_order_model_keeps_its_former_name():
    """lognormal_gobs (specs, cubes and commands made before the rename) means lognormal_first_order: the same
    likelihood, reported under its new name; a spec saying either has the fingerprint it had before the rename."""
    old, new = GaussianLikelihood(0.05, "lognormal_gobs"), GaussianLikelihood(0.05, "lognormal_first_order")
    assert old.error_model == "lognormal_first_order" and old == new
    assert check_error_model("lognormal_gobs") == "lognormal_first_order"
    assert "lognormal_first_order" in old.describe() and "lognormal_gobs" not in old.describe()
    assert Scatter.parse("0.05", "lognormal_gobs").error_model == "lognormal_first_order"
    base = ('name = "x"\ndataset = "sparc"\nkernel = "mond"\n[grid.a0]\nlogspace = [1e-10, 1.2e-10, 3]\n'
            '[nuisance]\nerror_model = "{}"\n')
    specs = [parse_spec(base.format(name)) for name in ("lognormal_gobs", "lognormal_first_order", "lognormal")]
    assert specs[0].fingerprint() == specs[1].fingerprint() != specs[2].fingerprint()
    assert specs[0].nuisance.canonical()["error_model"] == "lognormal_gobs"
    with pytest.raises(LikelihoodError, match="unknown error model 'log'"):
        GaussianLikelihood(0.05, "log")


@pytest.mark.parametrize("sigma, floor", [(0.05, 0.0), (0.05, 4.0), (0.0, 0.0)])
def test_lognormal_marginalised_against_brute_force(sigma, floor):
    """The compiled and numpy marginalisations agree, and each galaxy's ln Z lies within 0.01 nat of the brute-force
    grid over Υ, D, i (with σ_int > 0; at σ_int = 0 the integrand is narrow and the grid slow)."""
    s = synthetic_sample(KERNEL, {}, 2, seed=9, bulge_fraction=0.5, sigma_int=sigma, error_model="lognormal",
                         floor=floor)
    inputs = KERNEL.required_inputs(KERNEL.resolve({}))
    transform, priors = NuisanceTransform(s.points, s.catalogue, inputs), sparc_priors(s.catalogue)
    lik = GaussianLikelihood(sigma, "lognormal", floor)
    got = Q.marginalise(KERNEL, {}, transform, priors, lik, nodes=5).log_marginal[0]
    numpy = Q.marginalise(KERNEL, {}, transform, priors, lik, nodes=5, compiled=False).log_marginal[0]
    np.testing.assert_allclose(got, numpy, atol=1e-6)
    for i in range(transform.n_galaxies if sigma else 0):
        index = np.array([i])
        ref, face = Q.reference_log_marginal(KERNEL, {}, transform.take(index),
                                          {k: p.take(index) for k, p in priors.items()}, lik)
        assert face < -15 and abs(got[i] - ref) <= 0.01, (i, got[i], ref)


def test_a_sweep_spec_takes_tau_gal_in_one_place():
    base = """name = "x"\ndataset = "sparc"\nkernel = "mond"\n[grid.a0]\nlogspace = [1e-10, 1.2e-10, 3]\n{grid}
[nuisance]\nerror_model = "lognormal"\n{extra}"""
    fixed = parse_spec(base.format(grid="", extra="tau_gal = 0.04\n"))
    swept = parse_spec(base.format(grid="[grid.tau_gal]\nlinspace = [0.0, 0.1, 3]\n", extra=""))
    plain = parse_spec(base.format(grid="", extra=""))
    assert fixed.nuisance.likelihood().tau_gal == 0.04 and "tau_gal" in fixed.nuisance.canonical()
    assert "tau_gal" not in plain.nuisance.canonical() and len({fixed.fingerprint(), plain.fingerprint()}) == 2
    assert swept.is_scatter("tau_gal") and swept.nuisance.tau_gal_grid == (0.0, 0.05, 0.1)
    assert any("τ_gal is a grid axis" in line for line in swept.nuisance.describe())
    with pytest.raises(SpecError, match=r"τ_gal is also given in \[nuisance\]\.tau_gal"):
        parse_spec(base.format(grid="[grid.tau_gal]\nvalues = [0.0, 0.1]\n", extra="tau_gal = 0.04\n"))
    with pytest.raises(SpecError, match=r"τ_gal must be ≥ 0 ln V"):
        parse_spec(base.format(grid="[grid.tau_gal]\nvalues = [-0.1, 0.1]\n", extra=""))


@pytest.mark.parametrize("nu", [1.0, 3.0, 12.0])
@pytest.mark.parametrize("model, sigma", [("velocity_floor", 6.0), ("lognormal_first_order", 0.05)])
def test_student_t_errors_are_scipys_t_density_with_the_gaussians_scale(nu, model, sigma):
    """ln L with tail weight 1/ν = Σ_k ln t_ν(V_obs,k; V_pred,k·u, s_k), s_k² = e_k² + (σ_V,k·u)² (scipy's Student-t)."""
    rng = np.random.default_rng(5)
    v_obs, e_v, offsets = rng.uniform(40, 200, 7), rng.uniform(2, 9, 7), np.array([0, 3, 7])
    pred = rng.uniform(40, 200, (2, 7))
    qinv = rng.uniform(0.8, 1.3, (2, 2))
    got = GaussianLikelihood(sigma, model, tail=1.0 / nu).bind(v_obs, e_v, offsets).log_likelihood(pred, qinv)
    own = sigma ** 2 if model == "velocity_floor" else (HALF_LN10 * sigma * pred) ** 2
    q = np.repeat(qinv, [3, 4], axis=1)
    dens = stats.t.logpdf(v_obs, nu, pred * q, np.sqrt(e_v ** 2 + q ** 2 * own))
    np.testing.assert_allclose(got, np.stack([dens[:, :3].sum(1), dens[:, 3:].sum(1)], axis=1), rtol=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.one_of(st.just(0.0), st.floats(1e-6, 1.0)), st.floats(-30.0, 30.0), st.floats(0.5, 1.5))
def test_student_t_moments_place_nodes_only_and_its_limit_is_the_gaussian(tail, offset, scale):
    """The moments are never taken as exact under Student-t errors; the pseudo-residuals' squares halve to ρ; a tail
    weight of 1e-12 gives the Gaussian's ln L (ρ − ½r² ≈ −r⁴/(4ν), the constant ≈ −1/(4ν) per point)."""
    v_obs, e_v, offsets = np.array([50.0, 80.0, 95.0]), np.array([3.0, 4.0, 5.0]), np.array([0, 3])
    pred = (v_obs + offset)[None, :]
    bound = GaussianLikelihood(0.0, tail=tail).bind(v_obs, e_v, offsets)
    assert bound.moments_exact == (tail == 0.0)
    r, _ = bound.residuals(pred, np.array([[scale]]))
    x = bound.standardised(pred, np.array([[scale]]))
    rho = 0.5 * x * x if tail == 0 else 0.5 * (1 + tail) / tail * np.log1p(tail * x * x)
    np.testing.assert_allclose(0.5 * r * r, rho, rtol=1e-12, atol=1e-300)
    near = GaussianLikelihood(0.0, tail=1e-12).bind(v_obs, e_v, offsets).log_likelihood(pred)
    assert near == pytest.approx(GaussianLikelihood(0.0).bind(v_obs, e_v, offsets).log_likelihood(pred), abs=1e-6)


def test_student_t_errors_refuse_the_log_normal_model_and_a_tail_beyond_the_cauchy():
    with pytest.raises(LikelihoodError, match="Gaussian-in-V"):
        GaussianLikelihood(0.1, "lognormal", tail=0.5)
    with pytest.raises(LikelihoodError, match="ν ≥ 1"):
        GaussianLikelihood(5.0, tail=1.5)


def test_student_t_normal_scores_are_standard_normal_where_the_errors_are_student_t():
    """Residuals drawn from Student's t (ν = 3) scored by the t error model are N(0, 1) (Kolmogorov–Smirnov), keep
    their sign and order, and a point 40 scales off has the normal deviate of its tail probability; under Gaussian errors the score is r."""
    rng = np.random.default_rng(8)
    n = 4000
    r = stats.t(3.0).rvs(n, random_state=rng)
    v_obs, e_v = 100.0 + 5.0 * r, np.full(n, 5.0)
    bound = GaussianLikelihood(0.0, tail=1.0 / 3.0).bind(v_obs, e_v, np.array([0, n]))
    z = bound.normal_scores(np.full((1, n), 100.0))[0]
    assert stats.kstest(z, "norm").pvalue > 1e-3
    assert np.all(np.sign(z) == np.sign(r)) and np.all(np.diff(z[np.argsort(r)]) >= 0)
    far = bound.normal_scores(np.array([[100.0 - 200.0] + [100.0] * (n - 1)]))[0][0]
    assert far == pytest.approx(stats.norm.isf(stats.t(3.0).sf(40.0 + r[0])), rel=1e-9)
    gauss = GaussianLikelihood(0.0).bind(v_obs, e_v, np.array([0, n]))
    np.testing.assert_allclose(gauss.normal_scores(np.full((1, n), 100.0))[0], r, rtol=1e-12)
