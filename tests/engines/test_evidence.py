"""The evidence engine against brute-force integrals computed another way: dense fixed grids over the whole prior
(no zooms, no halving) and, for the nuisance, a high fixed Gauss–Hermite node count for every galaxy."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy.special import logsumexp

from sigcube.compute.quadrature import marginalise
from sigcube.engines.evidence import Data, global_evidence, object_evidence, scatter_object_evidence
from sigcube.model.kernels import get_kernel
from sigcube.stats.adaptive_grid import Axis
from sigcube.stats.likelihood import GaussianLikelihood
from sigcube.stats.nuisance import NuisanceTransform, sparc_priors
from sigcube.stats.synthetic import synthetic_sample


def _dense_log_mass(u: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """ln trapezoid prior mass of a dense uniform grid ``u`` over [lo, hi] (uniform prior)."""
    w = np.full(u.size, u[1] - u[0])
    w[[0, -1]] *= 0.5
    return np.log(w / (hi - lo))


def _loglike(kernel, params, points, sigma: float = 0.0) -> np.ndarray:
    """Per-galaxy ln L at the catalogue values, (M, G), params (M, 1) arrays."""
    v = np.broadcast_to(kernel.func(points.inputs, **kernel.resolve(params)),
                        (max(np.shape(x)[0] for x in params.values()), points.n_points))
    bound = GaussianLikelihood(sigma).bind(points.inputs["v_obs"], points.inputs["e_v_obs"], points.offsets)
    return bound.log_likelihood(v)


@pytest.fixture(scope="module")
def mond_sample():
    """12 galaxies observed at their catalogue Υ, D, i (no nuisance drawn) with a 4 km/s intrinsic scatter."""
    return synthetic_sample(get_kernel("mond"), {"a0": 1.1e-10}, 12, seed=11, sigma_int=4.0, priors={})


def test_a_global_parameter_is_integrated_as_a_dense_grid_over_the_prior_does(mond_sample):
    kernel = get_kernel("mond")
    axis = Axis("a0", 3e-11, 3e-10, log=True, coarse=9)
    ev = global_evidence(kernel, {}, [axis], Data(mond_sample.points), sigma_int=4.0)
    u = np.linspace(math.log10(3e-11), math.log10(3e-10), 20001)
    ll = _loglike(kernel, {"a0": 10 ** u[:, None]}, mond_sample.points, 4.0)
    brute = float(logsumexp(ll.sum(axis=1) + _dense_log_mass(u, u[0], u[-1])))
    assert ev.integral.converged
    assert abs(ev.log_z - brute) <= ev.error + 1e-3
    assert ev.error <= 0.1 + 1e-9
    best = ev.integral.best()["a0"]
    assert best == pytest.approx(10 ** u[np.argmax(ll.sum(axis=1))], rel=0.01)


def test_sigma_int_as_a_global_axis_is_the_two_dimensional_integral(mond_sample):
    kernel = get_kernel("mond")
    axes = [Axis("a0", 3e-11, 3e-10, log=True, coarse=9), Axis("sigma_int", 0.0, 20.0, coarse=9, unit="km/s")]
    ev = global_evidence(kernel, {}, axes, Data(mond_sample.points))
    u = np.linspace(math.log10(3e-11), math.log10(3e-10), 1201)
    s = np.linspace(0.0, 20.0, 801)
    total = np.stack([_loglike(kernel, {"a0": 10 ** u[:, None]}, mond_sample.points, float(x)).sum(axis=1)
                      for x in s], axis=1)
    brute = float(logsumexp(total + _dense_log_mass(u, u[0], u[-1])[:, None] + _dense_log_mass(s, 0, 20)[None, :]))
    assert abs(ev.log_z - brute) <= ev.error + 2e-3
    post = ev.integral.summary()["sigma_int"]
    assert abs(post["mean"] - 4.0) < 3 * post["sd"] and not post["unresolved"] and post["at_prior_edge"] == []


def test_per_object_parameters_are_each_galaxys_own_dense_integral():
    sample = synthetic_sample(get_kernel("mond"), {}, 3, seed=5, sigma_int=3.0, priors={})
    kernel = get_kernel("nfw")
    axes = [Axis("log10_M200", 6.0, 14.0, coarse=17), Axis("c", 1.0, 50.0, log=True, coarse=13)]
    ev = object_evidence(kernel, {}, axes, Data(sample.points), sigma_int=3.0)
    m = np.linspace(6.0, 14.0, 801)
    c = np.linspace(0.0, math.log10(50.0), 801)
    mm, cc = (g.ravel() for g in np.meshgrid(m, c, indexing="ij"))
    ll = _loglike(kernel, {"log10_M200": mm[:, None], "c": 10 ** cc[:, None]}, sample.points, 3.0)
    log_mass = (_dense_log_mass(m, 6, 14)[:, None] + _dense_log_mass(c, c[0], c[-1])[None, :]).ravel()
    brute = logsumexp(ll + log_mass[:, None], axis=0)
    assert ev.converged.all()
    assert np.all(np.abs(ev.log_z - brute) <= ev.errors + 2e-3)
    assert set(ev.at_bound) == {"log10_M200", "c"}


def test_a_per_object_model_with_sigma_int_integrates_the_product_of_the_galaxies_evidences():
    sample = synthetic_sample(get_kernel("mond"), {}, 3, seed=9, sigma_int=5.0, priors={})
    kernel = get_kernel("mond")
    axes = [Axis("a0", 3e-11, 3e-10, log=True, coarse=9)]
    scatter = Axis("sigma_int", 0.0, 15.0, coarse=7, unit="km/s")
    ev = scatter_object_evidence(kernel, {}, axes, scatter, Data(sample.points), "velocity_floor")
    u = np.linspace(math.log10(3e-11), math.log10(3e-10), 4001)
    s = np.linspace(0.0, 15.0, 601)
    per_sigma = np.array([logsumexp(_loglike(kernel, {"a0": 10 ** u[:, None]}, sample.points, float(x))
                                    + _dense_log_mass(u, u[0], u[-1])[:, None], axis=0).sum() for x in s])
    brute = float(logsumexp(per_sigma + _dense_log_mass(s, 0, 15)))
    assert abs(ev.log_z - brute) <= ev.error + 2e-3


def test_a_per_object_model_with_tau_gal_held_is_each_galaxys_own_global_integral():
    """A per-object parameter of one galaxy is that galaxy's global parameter: with τ_gal held (each galaxy's velocity
    scale integrated with its Υ, D, i), every galaxy's per-object ln Z is the global engine's ln Z of that galaxy
    alone at the same τ_gal — and τ_gal reaches the integrals (τ_gal = 0 gives other numbers)."""
    sample = synthetic_sample(get_kernel("mond"), {"a0": 1.2e-10}, 3, seed=4, sigma_int=4.0, tau_gal=0.3)
    kernel = get_kernel("mond")
    axes = [Axis("a0", 3e-11, 3e-10, log=True, coarse=9)]
    data = Data(sample.points, sample.catalogue)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ev = object_evidence(kernel, {}, axes, data, sigma_int=4.0, held={"tau_gal": 0.3})
        alone = [global_evidence(kernel, {}, axes, data.take(np.array([g])), sigma_int=4.0, tau_gal=0.3)
                 for g in range(3)]
        unscaled = object_evidence(kernel, {}, axes, data, sigma_int=4.0)
    for g, one in enumerate(alone):
        assert abs(ev.log_z[g] - one.log_z) <= ev.errors[g] + one.error + 0.02
    assert np.all(np.abs(ev.log_z - unscaled.log_z) > ev.errors + unscaled.errors)


def test_held_likelihood_parameters_are_named_or_refused():
    from sigcube.engines.evidence import EvidenceError

    sample = synthetic_sample(get_kernel("mond"), {}, 1, seed=5, sigma_int=3.0)
    with pytest.raises(EvidenceError, match="only tau_gal, sigma_floor and tail"):
        object_evidence(get_kernel("mond"), {}, [Axis("a0", 3e-11, 3e-10, log=True, coarse=9)],
                        Data(sample.points, sample.catalogue), sigma_int=3.0, held={"sigma_int": 1.0})


def test_the_nuisance_marginalised_evidence_agrees_with_a_high_fixed_node_count():
    """The engine's grids run at 3 and 5 nodes and correct each galaxy to the node rule's count at the best point;
    the reference runs every galaxy at 9 nodes on a dense a0 grid."""
    sample = synthetic_sample(get_kernel("mond"), {"a0": 1.2e-10}, 8, seed=2, sigma_int=5.0)
    kernel = get_kernel("mond")
    axis = Axis("a0", 3e-11, 3e-10, log=True, coarse=9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ev = global_evidence(kernel, {}, [axis], Data(sample.points, sample.catalogue), sigma_int=5.0)
        box = ev.integral.grid["a0"]
        # the posterior sits well inside the box the engine kept; the dense reference covers that box and adds
        # the prior volume outside it (whose mass the engine bounds by ev.integral.outside)
        u = np.linspace(math.log10(box[0]), math.log10(box[-1]), 241)
        transform = NuisanceTransform(sample.points, sample.catalogue, kernel.required_inputs(kernel.resolve({})))
        priors = sparc_priors(sample.catalogue)
        ll = marginalise(kernel, kernel.resolve({"a0": 10 ** u[:, None]}), transform, priors,
                         GaussianLikelihood(5.0), nodes=9).log_marginal
    log_mass = _dense_log_mass(u, u[0], u[-1]) + math.log((u[-1] - u[0]) / 1.0)
    brute = float(logsumexp(ll.sum(axis=1) + log_mass))
    assert ev.correction is not None
    assert abs(ev.log_z - brute) <= ev.error + 0.05


def test_an_integral_with_no_finite_likelihood_names_its_galaxies_and_the_likely_cause():
    """σ_int = 1e300 makes every point's variance overflow (ln L = −inf everywhere); a ΛCDM halo of a galaxy whose
    M★ is 0 has no finite prediction: each is one line naming the galaxies and the cause, not an item number."""
    from dataclasses import replace

    from sigcube.engines.evidence import EvidenceError

    sample = synthetic_sample(get_kernel("mond"), {}, 3, seed=5, sigma_int=3.0, priors={})
    names = list(sample.points.galaxy)
    mond = Axis("a0", 3e-11, 3e-10, log=True, coarse=9)
    with pytest.raises(EvidenceError) as caught:
        global_evidence(get_kernel("mond"), {}, [mond], Data(sample.points), sigma_int=1e300)
    message = str(caught.value)
    assert all(n in message for n in names) and "σ_int reaches 1e+300" in message and "item" not in message
    nfw = [Axis("log10_M200", 6.0, 14.0, coarse=5), Axis("c", 1.0, 50.0, log=True, coarse=5)]
    with pytest.raises(EvidenceError, match=f"galaxy ({'|'.join(names)}) a finite log-likelihood: σ_int reaches "
                                            "1e\\+300"):
        object_evidence(get_kernel("nfw"), {}, nfw, Data(sample.points), sigma_int=1e300)
    dark = replace(sample.points, inputs={**sample.points.inputs, "M_star": np.zeros(sample.points.n_points)})
    lcdm = [Axis("z_M200", -5.0, 5.0, coarse=5), Axis("z_c", -5.0, 5.0, coarse=5)]
    kernel = get_kernel("nfw_lcdm")
    fixed = {k: v for k, v in kernel.resolve({}).items() if k not in ("z_M200", "z_c")}
    with pytest.raises(EvidenceError, match="stellar mass M★ is 0"):
        object_evidence(kernel, fixed, lcdm, Data(dark))


def test_a_seeded_integral_that_restarted_searches_beat_is_done_again_with_them(monkeypatch):
    """With seeds, each galaxy's integral is checked against restarted searches at its sub-grid: a galaxy whose
    seeded ln L sits below a restarted one's anywhere there (here: lowered by hand at one point) is flagged, and a
    flagged galaxy's integral is done again with restarted searches — the same ln Z as searches never seeded."""
    from dataclasses import replace

    from sigcube.engines import evidence

    sample = synthetic_sample(get_kernel("mond"), {"a0": 1.2e-10}, 3, seed=7, sigma_int=4.0)
    kernel, data = get_kernel("mond"), Data(sample.points, sample.catalogue)
    axes = [Axis("a0", 3e-11, 3e-10, log=True, coarse=9)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        located = object_evidence(kernel, {}, axes, data, sigma_int=4.0, correct=False, locate=True)
        seeds = evidence._grid_modes(kernel, {}, data, "velocity_floor", evidence.in_process, axes, located.boxes, 4.0,
                                     None)
        plain = object_evidence(kernel, {}, axes, data, sigma_int=4.0, start=located.boxes)
        seeded = object_evidence(kernel, {}, axes, data, sigma_int=4.0, start=located.boxes,
                                 seeds=(located.boxes, seeds))
        ev = evidence._Evaluator(kernel, {}, data, "velocity_floor", 4.0)
        assert not seeded.restarted.any()
        def seeded_at(g):
            return lambda values: evidence._seeded(axes, (located.boxes, seeds), np.array([g]), values)

        assert not any(evidence._misses_a_mode(ev, g, r, seeded_at(g)) for g, r in enumerate(seeded.integrals))
        integral = seeded.integrals[1]
        lowered = integral.arrays["loglike"].copy()
        lowered[integral.subgrid()[0][len(integral.subgrid()[0]) // 2]] -= 0.05
        assert evidence._misses_a_mode(ev, 1, replace(integral, arrays={**integral.arrays, "loglike": lowered}),
                                       seeded_at(1))

        monkeypatch.setattr(evidence, "MIN_TASKS", 1)  # one task: k, the index in a task's chunk, is the galaxy's
        monkeypatch.setattr(evidence, "_misses_a_mode", lambda ev, k, integral, seeded: k == 1)
        redone = object_evidence(kernel, {}, axes, data, sigma_int=4.0, start=located.boxes,
                                 seeds=(located.boxes, seeds))
    assert redone.restarted.tolist() == [False, True, False]
    assert np.allclose(redone.log_z, plain.log_z, atol=1e-3) and np.allclose(seeded.log_z, plain.log_z, atol=1e-3)
