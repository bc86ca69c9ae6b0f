"""The velocity floor beside an error model's σ_int (both error models together): the likelihood against the density
written out point by point, and the nuisance marginalisation (compiled and numpy) against the brute-force grid."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from sigcube.compute import quadrature as Q
from sigcube.engines.sweep.spec import parse_spec
from sigcube.model.kernels.registry import get_kernel
from sigcube.stats.likelihood import HALF_LN10, GaussianLikelihood, LikelihoodError
from sigcube.stats.nuisance import NuisanceTransform, sparc_priors
from sigcube.stats.synthetic import synthetic_sample

KERNEL = get_kernel("mond")


@pytest.mark.parametrize("model, sigma", [("velocity_floor", 4.0), ("lognormal_gobs", 0.05)])
def test_the_floor_adds_in_quadrature_to_the_error_models_scatter(model, sigma):
    """ln L with a floor σ_fl = Σ_k ln N(V_obs,k; V_pred,k/q, e_k² + (σ_V,k/q)²), σ_V² = σ_fl² + the model's σ_V²
    (σ_int for the velocity floor, V_pred·(ln 10/2)·σ_int for lognormal_gobs), by scipy's normal density."""
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
    """lognormal_gobs with a velocity floor: the compiled and numpy marginalisations agree, and each galaxy's ln Z
    lies within 0.01 nat of the brute-force grid over Υ, D, i."""
    s = synthetic_sample(KERNEL, {}, 3, seed=9, bulge_fraction=0.5, sigma_int=0.05, error_model="lognormal_gobs")
    inputs = KERNEL.required_inputs(KERNEL.resolve({}))
    transform, priors = NuisanceTransform(s.points, s.catalogue, inputs), sparc_priors(s.catalogue)
    lik = GaussianLikelihood(0.05, "lognormal_gobs", 4.0)
    got = Q.marginalise(KERNEL, {}, transform, priors, lik, nodes=5).log_marginal[0]
    numpy = Q.marginalise(KERNEL, {}, transform, priors, lik, nodes=5, compiled=False).log_marginal[0]
    np.testing.assert_allclose(got, numpy, atol=1e-6)
    without = Q.marginalise(KERNEL, {}, transform, priors, GaussianLikelihood(0.05, "lognormal_gobs"),
                            nodes=5).log_marginal[0]
    assert np.all(np.abs(got - without) > 1e-3)  # the floor changes every galaxy's evidence
    for i in range(transform.n_galaxies):
        index = np.array([i])
        ref, _ = Q.reference_log_marginal(KERNEL, {}, transform.take(index),
                                          {k: p.take(index) for k, p in priors.items()}, lik)
        assert abs(got[i] - ref) <= 0.01, (i, got[i], ref)


def test_a_sweep_spec_takes_the_floor_and_fingerprints_it_only_when_set():
    base = """name = "x"\ndataset = "sparc"\nkernel = "mond"\n[grid.a0]\nlogspace = [1e-10, 1.2e-10, 3]\n
[grid.sigma_int]\nlinspace = [0.03, 0.05, 3]\n[nuisance]\nerror_model = "lognormal_gobs"\n"""
    plain = parse_spec(base)
    floored = parse_spec(base + "sigma_floor = 2.5\n")
    assert floored.nuisance.sigma_floor == 2.5 and plain.nuisance.sigma_floor == 0.0
    assert "sigma_floor" in floored.nuisance.canonical() and "sigma_floor" not in plain.nuisance.canonical()
    assert floored.fingerprint() != plain.fingerprint()
    assert math.isclose(floored.nuisance.likelihood(0.04).scatter_terms[0], 2.5 ** 2)
    assert any("σ_fl = 2.5 km/s" in line for line in floored.nuisance.describe())
