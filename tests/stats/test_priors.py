"""Prior families: normalised densities, exact quantile maps (checked against scipy.stats), precise tails, specs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from sigcube.stats.priors import Log10Normal, LogUniform, Normal, Prior, PriorError, TruncatedNormal, Uniform

PRIORS = {
    "normal": Normal(loc=2.0, scale=0.5),
    "log10_normal": Log10Normal(median=0.5, sigma_dex=0.1),
    "truncated_normal": TruncatedNormal(loc=3.0, scale=2.0, lower=0.0),
    "inclination": TruncatedNormal(loc=85.0, scale=6.0, lower=0.0, upper=90.0),
    "uniform": Uniform(lower=-1.0, upper=3.0),
    "log_uniform": LogUniform(lower=0.01, upper=100.0),
}

SCIPY = {  # the same distributions from scipy.stats: an independent CDF
    "normal": stats.norm(2.0, 0.5),
    "log10_normal": stats.lognorm(s=0.1 * math.log(10), scale=0.5),
    "truncated_normal": stats.truncnorm(-1.5, np.inf, loc=3.0, scale=2.0),
    "inclination": stats.truncnorm(-85.0 / 6.0, 5.0 / 6.0, loc=85.0, scale=6.0),
    "uniform": stats.uniform(-1.0, 4.0),
    "log_uniform": stats.loguniform(0.01, 100.0),
}


@pytest.mark.parametrize("name", PRIORS)
def test_density_integrates_to_one(name):
    prior = PRIORS[name]
    lo, hi = prior.support()
    dist = SCIPY[name]
    lo, hi = max(float(lo), dist.ppf(1e-12)), min(float(hi), dist.ppf(1 - 1e-12))
    total, _ = integrate.quad(lambda x: math.exp(float(prior.logpdf(x))), lo, hi, limit=200, points=[dist.median()])
    assert total == pytest.approx(1.0, abs=1e-7)


@pytest.mark.parametrize("name", PRIORS)
def test_density_and_quantile_map_match_scipy(name):
    prior, dist = PRIORS[name], SCIPY[name]
    z = np.linspace(-4.0, 4.0, 17)
    x = prior.from_normal(z)
    np.testing.assert_allclose(x, dist.ppf(stats.norm.cdf(z)), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(prior.logpdf(x), dist.logpdf(x), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", PRIORS)
def test_to_normal_inverts_from_normal(name):
    """|z| ≤ 6 for every family; to |z| ≤ 8 for the unbounded ones (near a bound x is limited by float spacing)."""
    prior = PRIORS[name]
    reach = 8.0 if name in ("normal", "log10_normal") else 6.0
    z = np.linspace(-reach, reach, 33)
    np.testing.assert_allclose(prior.to_normal(prior.from_normal(z)), z, atol=1e-6)


def test_upper_tail_keeps_precision():
    """At z = 9 (1 − Φ = 1e-19) a map through Φ(z) would round to 1 and return inf; the upper-tail form does not."""
    prior = TruncatedNormal(loc=10.0, scale=1.0, lower=0.0)
    x = prior.from_normal(9.0)
    assert x == pytest.approx(19.0, abs=1e-6)  # the bound is 10σ below: the map is the plain normal's
    assert prior.to_normal(x) == pytest.approx(9.0, abs=1e-6)


def test_truncation_is_respected_in_the_tails():
    incl = PRIORS["inclination"]
    dist = PRIORS["truncated_normal"]
    z = np.array([-30.0, -12.0, 12.0, 30.0])
    assert np.all((incl.from_normal(z) >= 0.0) & (incl.from_normal(z) <= 90.0))
    assert np.all(dist.from_normal(z) >= 0.0)
    assert np.isneginf(incl.logpdf(90.5)) and np.isneginf(dist.logpdf(-0.1))


def test_per_object_arrays_and_catalogue_columns():
    catalogue = {"distance": np.array([5.0, 10.0]), "e_distance": np.array([1.0, 2.0])}
    prior = Prior.from_spec({"dist": "truncated_normal", "loc": "distance", "scale": "e_distance", "lower": 0},
                            catalogue, "distance")
    medians = [stats.truncnorm(-loc / sd, np.inf, loc=loc, scale=sd).median() for loc, sd in ((5, 1), (10, 2))]
    np.testing.assert_allclose(prior.from_normal(np.zeros(2)), medians, rtol=1e-9)
    assert prior.describe("D") == "D ~ N(distance, e_distance) truncated to [0, ∞]"
    assert prior.to_spec() == {"dist": "truncated_normal", "loc": "distance", "scale": "e_distance", "lower": 0.0}
    assert float(prior.take(np.array([1])).loc[0]) == 10.0


@pytest.mark.parametrize("spec, match", [
    ({"dist": "cauchy"}, "unknown prior dist"),
    ({"dist": "normal", "loc": 0}, "missing scale"),
    ({"dist": "normal", "loc": 0, "scale": 1, "width": 2}, "unknown width"),
    ({"dist": "normal", "loc": 0, "scale": -1}, "scale must be > 0"),
    ({"dist": "normal", "loc": "distance", "scale": 1}, "names no catalogue column"),
    ({"dist": "uniform", "lower": 2, "upper": 1}, "lower must be < upper"),
    ({"dist": "log10_normal", "median": True, "sigma_dex": 0.1}, "must be a number"),
])
def test_bad_specs_raise_one_line(spec, match):
    with pytest.raises(PriorError, match=match):
        Prior.from_spec(spec, None, "upsilon_disk")
