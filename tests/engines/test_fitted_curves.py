"""Fitted curves on synthetic galaxies of known truth: the band holds the true curve about as often as it says, it
collapses without nuisance parameters, and the components are the baryons at the mode's Υ and D."""

from __future__ import annotations

import numpy as np
import pytest

from sigcube.engines.evidence import Data
from sigcube.engines.fitted_curves import MIN_ESS, fitted_curves
from sigcube.model.kernels import get_kernel
from sigcube.stats.likelihood import GaussianLikelihood
from sigcube.stats.synthetic import synthetic_sample

MOND = get_kernel("mond")


@pytest.fixture(scope="module")
def sample():
    return synthetic_sample(MOND, {}, 40, 3, sigma_int=6.0)


def test_the_band_covers_the_true_curve_at_about_its_level(sample):
    """The 68 % band of the noiseless curve in the data's frame (V_true·sin i_true/sin i0) holds the truth at
    45–85 % of the points of 40 galaxies (0.59 measured with this seed), with every band resting on enough draws."""
    curves = fitted_curves(MOND, {}, Data(sample.points, sample.catalogue), GaussianLikelihood(6.0), np.arange(40))
    i0 = sample.catalogue.columns["inclination"]
    u = np.sin(np.radians(sample.truth["inclination"])) / np.sin(np.radians(i0))
    off = sample.points.offsets
    inside = np.concatenate([(lo <= t) & (t <= hi) for t, (lo, hi) in
                             ((sample.v_true[off[g]:off[g + 1]] * u[g], c.band) for g, c in enumerate(curves))])
    assert 0.45 < inside.mean() < 0.85
    assert all(c.ess > MIN_ESS and not c.band_unsure for c in curves)
    assert all(np.all(c.band[0] <= c.band[1]) for c in curves)


def test_without_nuisance_the_curve_is_the_kernel_at_the_catalogue_and_has_no_band(sample):
    c = fitted_curves(MOND, {}, Data(sample.points), GaussianLikelihood(6.0), [2])[0]
    rows = slice(sample.points.offsets[2], sample.points.offsets[3])
    assert c.v_pred == pytest.approx(MOND(sample.points.inputs)[rows])
    assert np.array_equal(c.band[0], c.band[1]) and c.nuisance == {}


def test_the_components_are_the_baryons_at_the_modes_upsilon_and_distance_in_the_data_frame(sample):
    """V_disk at the fit is the unit-Υ disk × √(Υ_disk·D/D0) × sin i/sin i0 (the hand computation, from the mode)."""
    data = Data(sample.points, sample.catalogue)
    c = fitted_curves(MOND, {}, data, GaussianLikelihood(6.0), [5])[0]
    rows = slice(sample.points.offsets[5], sample.points.offsets[6])
    disk1 = sample.points.inputs["v_disk"][rows] / np.sqrt(0.5)  # packed at Υ_disk = 0.5
    ud, d, i = (c.nuisance[k][0] for k in ("upsilon_disk", "distance", "inclination"))
    d0, i0 = sample.catalogue.columns["distance"][5], sample.catalogue.columns["inclination"][5]
    u = np.sin(np.radians(i)) / np.sin(np.radians(i0))
    assert c.components["v_disk"] == pytest.approx(disk1 * np.sqrt(ud * d / d0) * u, rel=1e-9)
