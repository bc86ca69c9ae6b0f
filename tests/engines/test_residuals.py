"""Residuals at a posterior point: standard normal under the error model that drew the data, too wide under one that
leaves its scatter out."""

from __future__ import annotations

import numpy as np
import pytest

from sigcube.engines.evidence import Data
from sigcube.engines.residuals import residuals_at
from sigcube.model.kernels import get_kernel
from sigcube.stats.likelihood import GaussianLikelihood
from sigcube.stats.predictive_checks import reading, residual_checks
from sigcube.stats.synthetic import synthetic_sample


@pytest.fixture(scope="module")
def sample():
    return synthetic_sample(get_kernel("mond"), {}, 40, seed=21, sigma_int=6.0)


def test_residuals_at_the_truth_are_standard_normal_under_the_generating_error_model(sample):
    r = residuals_at(get_kernel("mond"), {}, Data(sample.points, sample.catalogue), GaussianLikelihood(6.0))
    assert r.shape == (sample.points.n_points,) and np.all(np.isfinite(r))
    # Υ, D, i at their conditional mode absorb up to 4 of each galaxy's 8–20 points' worth of scatter: sd a little < 1
    assert 0.8 < r.std() < 1.02 and abs(r.mean()) < 0.1


def test_residuals_without_the_intrinsic_scatter_are_wider_than_their_errors(sample):
    r = residuals_at(get_kernel("mond"), {}, Data(sample.points, sample.catalogue), GaussianLikelihood(0.0))
    # the 6 km/s scatter left out of errors e_V = 4 % V + 3 km/s: wider than them, even after Υ, D, i absorb some
    assert r.std() > 1.1
    points = sample.points
    assert "too narrow" in reading(residual_checks(r, points.offsets, points.galaxy))


def test_residuals_at_the_catalogue_values_equal_the_hand_computed_ones(sample):
    points = sample.points
    r = residuals_at(get_kernel("mond"), {}, Data(points), GaussianLikelihood(6.0))
    v = get_kernel("mond").func(points.inputs, **get_kernel("mond").resolve({}))
    hand = (points.inputs["v_obs"] - v) / np.hypot(points.inputs["e_v_obs"], 6.0)
    np.testing.assert_allclose(r, hand, rtol=1e-12)


def test_a_curve_its_catalogue_inclination_cannot_deproject_is_a_conflict_at_the_mode(sample):
    """The galaxy of lowest catalogue inclination with its velocities (and errors) 1.8 times as large: the projection
    sin i/sin i0 must grow by most of that, so at the mode its inclination's deviate lies beyond 3 prior sd; the other
    galaxies' (their values drawn from their priors) within it."""
    import dataclasses

    from sigcube.engines.residuals import at_mode

    g = int(np.argmin(sample.catalogue.columns["inclination"]))
    rows = slice(sample.points.offsets[g], sample.points.offsets[g + 1])
    inputs = dict(sample.points.inputs)
    for key in ("v_obs", "e_v_obs"):
        inputs[key] = inputs[key].copy()
        inputs[key][rows] *= 1.8
    points = dataclasses.replace(sample.points, inputs=inputs)
    _, z = at_mode(get_kernel("mond"), {}, Data(points, sample.catalogue), GaussianLikelihood(6.0))
    assert z["inclination"][g] > 3
    assert np.sum(np.abs(np.delete(z["inclination"], g)) > 3) == 0
