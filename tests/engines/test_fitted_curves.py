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


def test_a_per_galaxy_halo_is_drawn_at_each_galaxys_own_parameters_with_its_own_curve(sample):
    """An NFW halo per galaxy (values chosen here): without the nuisance, each galaxy's V_pred is the kernel on its
    rows at its own scalar M200, c, and V_halo² + V_bar² = V_pred²; with it, a galaxy's fit is the same drawn alone or
    beside others (its values are not another galaxy's)."""
    nfw = get_kernel("nfw")
    per = {"log10_M200": np.linspace(10.0, 12.0, 40), "c": np.linspace(5.0, 15.0, 40)}
    picked = [3, 17, 30]
    curves = fitted_curves(nfw, {}, Data(sample.points), GaussianLikelihood(6.0), picked, per_object=per, halo=True)
    off, inputs = sample.points.offsets, sample.points.inputs
    for g, c in zip(picked, curves):
        rows = slice(off[g], off[g + 1])
        alone = nfw({k: np.asarray(v)[rows] for k, v in inputs.items() if np.ndim(v)},
                    log10_M200=per["log10_M200"][g], c=per["c"][g])
        assert c.v_pred == pytest.approx(alone, rel=1e-12)
        assert c.components["v_halo"] ** 2 + inputs["v_bar"][rows] ** 2 == pytest.approx(c.v_pred**2, rel=1e-9)
    data = Data(sample.points, sample.catalogue)
    together = fitted_curves(nfw, {}, data, GaussianLikelihood(6.0), picked, per_object=per, halo=True, draws=50)
    alone = fitted_curves(nfw, {}, data, GaussianLikelihood(6.0), [17], per_object=per, halo=True, draws=50)[0]
    assert together[1].v_pred == pytest.approx(alone.v_pred, rel=1e-9)
    assert together[1].components["v_halo"] == pytest.approx(alone.components["v_halo"], rel=1e-9)
    heavier = {**per, "log10_M200": per["log10_M200"] + np.where(np.arange(40) == 17, 0.5, 0.0)}
    moved = fitted_curves(nfw, {}, data, GaussianLikelihood(6.0), [17], per_object=heavier, halo=True, draws=50)[0]
    assert np.all(moved.components["v_halo"] > alone.components["v_halo"])
