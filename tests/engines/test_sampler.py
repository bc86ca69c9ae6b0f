"""The importance-sampling evidence engine (sigcube.engines.sampler) against what it must equal.

- Its compiled log-integrand is the likelihood of sigcube.stats.likelihood evaluated the numpy way (the kernel's numpy
  function at the nuisance transform's inputs, the priors' exact quantile maps), and reweighing stored draws is
  evaluating them again.
- Each galaxy's ln Z agrees with the grid engine's (sigcube.engines.evidence, itself checked against dense integrals)
  within their combined errors, on synthetic galaxies with a flat-prior halo.
- The numbers do not depend on how the galaxies are chunked into tasks.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sigcube.engines import evidence, sampler
from sigcube.engines.evidence import Data, object_evidence
from sigcube.model.kernels import get_kernel
from sigcube.stats.adaptive_grid import Axis
from sigcube.stats.likelihood import GaussianLikelihood
from sigcube.stats.synthetic import synthetic_sample

AXES = [Axis("log10_M200", 8.0, 14.0, coarse=13), Axis("c", 1.0, 50.0, log=True, coarse=11)]
"""A flat-prior NFW halo's parameters (narrower in mass than report compare's, for a quick grid)."""


@pytest.fixture(scope="module")
def nfw_sample():
    """8 galaxies with NFW halos (log10 M200 = 11, c = 10), Υ, D, i drawn from the Li+2018 priors, σ_int = 4 km/s."""
    return synthetic_sample(get_kernel("nfw"), {"log10_M200": 11.0, "c": 10.0}, 8, seed=3, sigma_int=4.0)


@pytest.mark.parametrize("error_model,sigma,tail", [("velocity_floor", 4.0, 0.0), ("lognormal", 0.05, 0.0),
                                                    ("lognormal_first_order", 0.05, 0.0), ("velocity_floor", 4.0, 0.4)])
def test_the_joint_log_integrand_is_the_numpy_likelihood(nfw_sample, error_model, sigma, tail):
    data = Data(nfw_sample.points, nfw_sample.catalogue)
    kernel = get_kernel("nfw")
    jp = sampler._Joint(kernel, {}, AXES, data, error_model, scaled=False)
    sa, sb, tl, qtabs, qindex = jp.setting({"sigma_int": np.array([sigma]), "tail": np.array([tail])})
    priors = data.nuisance_priors()
    transform = data.transform(kernel, {})
    rng = np.random.default_rng(0)
    for g in range(data.points.n_galaxies):
        dims = jp.inputs.dims[g]
        xs = rng.normal(scale=1.5, size=(25, jp.dims(g)))
        ll, _ = jp.log_integrand(g, xs, float(sa[0]), float(sb[0]), float(tl[0]), qtabs[g, qindex[0]])
        one = transform.take(np.array([g]))
        nuisance = {name: priors[name].take(np.array([g])).from_normal(xs[:, 2 + j][:, None])
                    for j, name in enumerate(dims)}
        params = {a.name: sampler.axis_prior(a).from_normal(xs[:, j])[:, None] for j, a in enumerate(AXES)}
        v = np.asarray(kernel.func(one.kernel_inputs({k: v for k, v in nuisance.items() if k != "inclination"}),
                                   **kernel.resolve(params)))
        qinv = 1.0 / one.inclination_factor(nuisance["inclination"])
        bound = GaussianLikelihood(sigma, error_model, tail=tail).bind(one.v_obs, one.e_v_obs, one.offsets)
        want = bound.log_likelihood(v, qinv)[:, 0] - 0.5 * np.sum(xs**2, axis=1) - 0.5 * xs.shape[1] * math.log(
            2 * math.pi)
        np.testing.assert_allclose(ll, want, rtol=1e-7, atol=1e-6)


def test_a_draw_far_out_in_a_tail_has_the_values_the_likelihood_read(nfw_sample):
    """A proposal's heavy tail can draw a deviate of 40, where the exact quantile map of the distance's unbounded
    prior is +∞ (a posterior mean of 0·∞ = NaN): the values are those at the tables' end, which the likelihood
    evaluated, and finite."""
    data = Data(nfw_sample.points, nfw_sample.catalogue)
    jp = sampler._Joint(get_kernel("nfw"), {}, AXES, data, "velocity_floor", scaled=False)
    _, _, _, qtabs, qindex = jp.setting({"sigma_int": np.array([4.0])})
    column = 2 + list(jp.inputs.dims[0]).index("distance")
    xs = np.zeros((2, jp.dims(0)))
    xs[0, column], xs[1, column] = 40.0, sampler.adaptive.TABLE_LIMIT
    assert np.isinf(data.nuisance_priors()["distance"].take(np.array([0])).from_normal(np.array([[40.0]]))).all()
    values = jp.values(0, xs, qtabs[0, qindex[0]])
    assert all(np.all(np.isfinite(v)) for v in values.values())
    assert values["distance"][0] == values["distance"][1]


def test_reweighing_stored_draws_is_evaluating_them_again(nfw_sample):
    """σ_int and the Student-t's tail weight change only the likelihood: stored predictions give ℓ at other values of
    both, bit for bit."""
    data = Data(nfw_sample.points, nfw_sample.catalogue)
    jp = sampler._Joint(get_kernel("nfw"), {}, AXES, data, "velocity_floor", scaled=False)
    sigmas, tails = np.array([0.0, 2.0, 7.5, 4.0]), np.array([0.0, 0.0, 0.0, 0.5])
    sa, sb, tl, qtabs, qindex = jp.setting({"sigma_int": sigmas, "tail": tails})
    xs = np.random.default_rng(1).normal(size=(40, jp.dims(0)))
    _, v = jp.log_integrand(0, xs, float(sa[0]), float(sb[0]), float(tl[0]), qtabs[0, qindex[0]], keep=True)
    again = jp.reweigh(0, v, xs, sa, sb, tl, qtabs[0, qindex[0]])
    for m in range(len(sigmas)):
        direct, _ = jp.log_integrand(0, xs, float(sa[m]), float(sb[m]), float(tl[m]), qtabs[0, qindex[m]])
        np.testing.assert_array_equal(again[m], direct)


@pytest.mark.parametrize("tail", [0.0, 0.5], ids=["gaussian", "student"])
def test_each_galaxys_evidence_is_the_grid_engines(nfw_sample, tail):
    """Per galaxy within three combined errors (and 0.02 nat of slack for the grid's own error budget), the total
    within the two engines' stated errors; with Gaussian errors and with Student-t errors (ν = 2)."""
    data = Data(nfw_sample.points, nfw_sample.catalogue)
    kernel = get_kernel("nfw")
    held = {"tail": tail} if tail else {}
    found = sampler.sampled_evidence(kernel, {}, AXES, [], data, "velocity_floor", "nfw",
                                     held={"sigma_int": 4.0, **held})
    grid = object_evidence(kernel, {}, AXES, data, "velocity_floor", 4.0, held=held)
    diff = found.loglike[0] - grid.log_z
    allowed = 3 * np.hypot(found.galaxy_errors, grid.errors) + 0.02
    assert np.all(np.abs(diff) <= allowed), (diff, allowed)
    assert abs(found.log_z - grid.total) <= found.error + grid.error
    assert found.converged.all()
    assert len(found.on_grid) <= (0 if not tail else 1), found.on_grid  # the sampler integrated (nearly) all itself


@pytest.mark.slow
def test_the_tail_weight_on_the_outer_grid_is_the_grid_engines_integral_over_it():
    """Student-t errors drawn with 1/ν = 0.5: the sampler's ln Z with 1/ν uniform on [0, 1] on its outer grid against
    the grid engine's ln Z at 17 fixed values of 1/ν, integrated by the trapezoid rule, within 0.1 nat."""
    from scipy.special import logsumexp

    from sigcube.stats.intrinsic_scatter import trapezoid_weights

    sample = synthetic_sample(get_kernel("nfw"), {"log10_M200": 11.0, "c": 10.0}, 8, seed=3, sigma_int=4.0, tail=0.5)
    data, kernel = Data(sample.points, sample.catalogue), get_kernel("nfw")
    found = sampler.sampled_evidence(kernel, {}, AXES, [Axis("tail", 0.0, 1.0, coarse=5)], data, "velocity_floor",
                                     "nfw", held={"sigma_int": 4.0})
    tails = np.linspace(0.0, 1.0, 17)
    on_grid = [object_evidence(kernel, {}, AXES, data, "velocity_floor", 4.0, held={"tail": t}).total for t in tails]
    expected = logsumexp(np.array(on_grid) + np.log(trapezoid_weights(tails.size)))
    assert abs(found.log_z - expected) < 0.1, (found.log_z, found.error, expected)


def test_the_numbers_do_not_depend_on_the_chunking(nfw_sample, monkeypatch):
    data = Data(nfw_sample.points, nfw_sample.catalogue)
    kernel = get_kernel("nfw")
    outer = [Axis("sigma_int", 0.0, 15.0, coarse=6)]
    whole = sampler.sampled_evidence(kernel, {}, AXES, outer, data, "velocity_floor", "nfw")
    monkeypatch.setattr(evidence, "OBJECT_CHUNK_POINTS", 30)
    assert len(evidence.object_chunks(data)) > 2
    chunked = sampler.sampled_evidence(kernel, {}, AXES, outer, data, "velocity_floor", "nfw")
    np.testing.assert_array_equal(chunked.loglike, whole.loglike)
    assert chunked.log_z == whole.log_z and chunked.errors == whole.errors
