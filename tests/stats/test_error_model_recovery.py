"""Synthetic validation of the error models: samples drawn from each error model (quoted errors, velocity_floor,
lognormal, lognormal_first_order, "both" = lognormal + a velocity floor, and a galaxy-level scale τ_gal on top of
velocity_floor and of lognormal) are drawn exactly from their likelihood (default tier); in the slow tier each model
recovers its own σ_int (and τ_gal) within its 95 % interval and the evidence picks the generating model among all seven.

The evidence of a candidate is ln ∫ Π_g Z_g(σ_int, τ_gal) π(σ_int) π(τ_gal), Z_g the nuisance-marginalised likelihood
of galaxy g (:func:`sigcube.compute.quadrature.marginalise`, Υ_disk, Υ_bul, D, i under the Li+2018 priors), the kernel
held at the truth, σ_int and τ_gal uniform on :data:`SIGMA_PRIORS` and :data:`TAU_PRIOR`, integrated here by the
trapezoid rule on a grid that zooms onto the posterior (:func:`_evidence`)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import stats
from scipy.special import logsumexp

from sigcube.compute import quadrature as Q
from sigcube.model.kernels.registry import get_kernel
from sigcube.stats.likelihood import HALF_LN10, GaussianLikelihood
from sigcube.stats.nuisance import NuisanceTransform, sparc_priors
from sigcube.stats.synthetic import synthetic_sample

KERNEL = get_kernel("mond")
INPUTS = KERNEL.required_inputs(KERNEL.resolve({}))
FLOOR = 6.0
"""σ_fl [km/s] of the "both" samples, and of the "both" candidate (its floor is a setting, not a fitted parameter)."""
SIGMA_PRIORS = {"velocity_floor": (0.0, 20.0), "lognormal": (0.0, 0.3), "lognormal_first_order": (0.0, 0.3)}
"""Each error model's uniform prior on σ_int [km/s, dex, dex]."""
TAU_PRIOR = (0.0, 0.3)
"""τ_gal's uniform prior [ln V]."""
CANDIDATES = {
    "quoted": ("velocity_floor", False, 0.0, False),
    "velocity_floor": ("velocity_floor", True, 0.0, False),
    "lognormal": ("lognormal", True, 0.0, False),
    "lognormal_first_order": ("lognormal_first_order", True, 0.0, False),
    "both": ("lognormal", True, FLOOR, False),
    "velocity_floor+tau_gal": ("velocity_floor", True, 0.0, True),
    "lognormal+tau_gal": ("lognormal", True, 0.0, True),
}
"""Each candidate: (error model, σ_int free, floor σ_fl, τ_gal free)."""
TRUTH = {
    "quoted": {},
    "velocity_floor": {"sigma_int": 10.0},
    "lognormal": {"sigma_int": 0.15, "error_model": "lognormal"},
    "lognormal_first_order": {"sigma_int": 0.15, "error_model": "lognormal_first_order"},
    "both": {"sigma_int": 0.1, "error_model": "lognormal", "floor": FLOOR},
    "velocity_floor+tau_gal": {"sigma_int": 6.0, "tau_gal": 0.1},
    "lognormal+tau_gal": {"sigma_int": 0.1, "error_model": "lognormal", "tau_gal": 0.1},
}
"""The generating settings of each candidate's samples."""
GALAXIES = 60
COARSE, FINE = 16, 25
"""Grid values per free axis of the coarse pass over the prior and of the zoomed grid."""


def _sample(name: str, seed: int, n: int = GALAXIES):
    s = synthetic_sample(KERNEL, {}, n, seed=seed, error_fraction=0.02, error_floor=1.0, **TRUTH[name])
    return s, NuisanceTransform(s.points, s.catalogue, INPUTS), sparc_priors(s.catalogue)


def _total(transform, priors, name: str, sigma: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """Σ_g ln Z_g on the grid sigma × tau."""
    model, _, floor, _ = CANDIDATES[name]
    ss, tt = np.meshgrid(sigma, tau, indexing="ij")
    lik = GaussianLikelihood(ss.reshape(-1, 1), model, floor, tt.reshape(-1, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return Q.marginalise(KERNEL, {}, transform, priors, lik, nodes=5).log_marginal.sum(axis=1).reshape(ss.shape)


def _trapezoid_log(values: np.ndarray, axes: list[np.ndarray]) -> float:
    """ln ∫ exp(values) over the grid ``axes`` by the trapezoid rule."""
    out = values
    for x in reversed(axes):
        if len(x) == 1:
            out = out[..., 0]
            continue
        w = np.full(len(x), x[1] - x[0])
        w[[0, -1]] *= 0.5
        out = logsumexp(out + np.log(w), axis=-1)
    return float(out)


def _evidence(transform, priors, name: str) -> dict:
    """ln Z of a candidate and the 95 % intervals of its free parameters: a coarse pass over the priors' ranges, then a
    grid of FINE values per free axis over the box where the posterior exceeds e⁻²⁰ of its peak (one coarse step
    wider on each side), whose trapezoid integral gives ln Z (mass outside the box below e⁻¹⁵ of the whole, checked)."""
    model, free_sigma, _, free_tau = CANDIDATES[name]
    ranges = [SIGMA_PRIORS[model] if free_sigma else None, TAU_PRIOR if free_tau else None]
    coarse = [np.linspace(*r, COARSE) if r else np.zeros(1) for r in ranges]
    total = _total(transform, priors, name, *coarse)
    fine = []
    for k, (r, grid) in enumerate(zip(ranges, coarse)):
        if r is None:
            fine.append(grid)
            continue
        profile = np.max(total, axis=1 - k)
        inside = np.flatnonzero(profile > profile.max() - 20)
        lo, hi = grid[max(inside[0] - 1, 0)], grid[min(inside[-1] + 1, len(grid) - 1)]
        fine.append(np.linspace(lo, hi, FINE))
    values = _total(transform, priors, name, *fine)
    log_prior = -sum(math.log(r[1] - r[0]) for r in ranges if r)
    out = {"log_z": _trapezoid_log(values, fine) + log_prior}
    for k, (symbol, grid) in enumerate(zip(("sigma_int", "tau_gal"), fine)):
        if len(grid) == 1:
            continue
        profile = np.max(values, axis=1 - k)
        for end, bound in ((0, ranges[k][0]), (-1, ranges[k][1])):
            assert grid[end] == bound or profile[end] < values.max() - 15, (name, symbol, "the box cuts the posterior")
        mass = np.exp(logsumexp(values, axis=1 - k) - logsumexp(values))
        cdf = np.cumsum(mass) / mass.sum()
        out[symbol] = (float(np.interp(0.025, cdf, grid)), float(np.interp(0.975, cdf, grid)))
    return out


# --- default tier: the draws are the likelihood's -------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(TRUTH))
def test_the_draws_are_the_likelihoods(name):
    """At the true nuisance values and offsets, the residuals standardised by the error model written out here are
    N(0, 1) (Kolmogorov–Smirnov), and the galaxies' ln s_g/τ_gal too: the samples come from the likelihood exactly."""
    s = synthetic_sample(KERNEL, {}, 80, seed=3, error_fraction=0.02, error_floor=1.0, **TRUTH[name])
    truth = TRUTH[name]
    counts = np.diff(s.points.offsets)
    u = np.repeat(s.truth["scale_offset"] * np.sin(np.radians(s.truth["inclination"]))
                  / np.sin(np.radians(s.catalogue.columns["inclination"])), counts)
    v, v_obs, e_v = s.v_true, s.points.inputs["v_obs"], s.points.inputs["e_v_obs"]
    sigma, floor = truth.get("sigma_int", 0.0), truth.get("floor", 0.0)
    model = truth.get("error_model", "velocity_floor")
    if model == "lognormal":
        t2 = (e_v / v_obs) ** 2 + (floor / v) ** 2 + (HALF_LN10 * sigma) ** 2
        r = (np.log(v_obs) - np.log(u * v)) / np.sqrt(t2)
    else:
        own = sigma**2 if model == "velocity_floor" else (HALF_LN10 * sigma * v) ** 2
        r = (v_obs - u * v) / np.sqrt(e_v**2 + u**2 * (floor**2 + own))
    assert len(r) > 800 and stats.kstest(r, "norm").pvalue > 1e-3
    if "tau_gal" in truth:
        assert stats.kstest(np.log(s.truth["scale_offset"]) / truth["tau_gal"], "norm").pvalue > 1e-3
    else:
        assert np.all(s.truth["scale_offset"] == 1.0)


# --- slow tier: recovery and the evidence ---------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("name", list(TRUTH))
def test_each_model_recovers_itself_and_the_evidence_picks_it(name):
    """On 60 galaxies drawn from ``name``: its own σ_int (and τ_gal) 95 % intervals hold the truth, and its ln Z is
    the largest of the seven candidates'."""
    _, transform, priors = _sample(name, seed=31)
    results = {c: _evidence(transform, priors, c) for c in CANDIDATES}
    own = results[name]
    for symbol in ("sigma_int", "tau_gal"):
        if symbol in TRUTH[name]:
            lo, hi = own[symbol]
            assert lo <= TRUTH[name][symbol] <= hi, (name, symbol, lo, hi)
    margins = {c: round(own["log_z"] - r["log_z"], 2) for c, r in results.items() if c != name}
    assert min(margins.values()) > 0, margins


@pytest.mark.slow
def test_lognormal_sigma_int_covers_the_truth_at_nominal_rates():
    """24 samples of 12 galaxies drawn from lognormal (σ_int = 0.1 dex): the 68 % and 95 % intervals of σ_int hold the
    truth at binomially consistent rates."""
    truth, grid = 0.1, np.linspace(0.0, 0.3, 61)
    inside = {0.68: 0, 0.95: 0}
    seeds = range(200, 224)
    for seed in seeds:
        s = synthetic_sample(KERNEL, {}, 12, seed=seed, sigma_int=truth, error_model="lognormal",
                             error_fraction=0.02, error_floor=1.0)
        transform = NuisanceTransform(s.points, s.catalogue, INPUTS)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            total = Q.marginalise(KERNEL, {}, transform, sparc_priors(s.catalogue),
                                  GaussianLikelihood(grid[:, None], "lognormal"), nodes=3).log_marginal.sum(axis=1)
        cdf = np.cumsum(np.exp(total - logsumexp(total)))
        for level in inside:
            lo, hi = np.interp([(1 - level) / 2, (1 + level) / 2], cdf, grid)
            inside[level] += lo <= truth <= hi
    n = len(seeds)
    assert abs(inside[0.68] - 0.68 * n) <= 3 * np.sqrt(0.68 * 0.32 * n), inside
    assert inside[0.95] >= 0.95 * n - 3 * np.sqrt(0.95 * 0.05 * n), inside
