"""The adaptive evidence grid against integrals known in closed form (Gaussians inside and at the edge of a uniform
prior box), for one item and for many items at once."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sigcube.stats.adaptive_grid import KEEP, SKIP, Axis, Box, GridIntegralError, box_grid, integrate


def gaussian(centres: np.ndarray, widths: np.ndarray, peak: float = 0.0, log_axes: tuple[bool, ...] = ()):
    """evaluate() of T(u) = peak − ½Σ((u − c)/s)² per item, u the grid coordinate (log10 on a log axis); also
    counts the calls by stage."""
    calls = {"coarse": 0, "fine": 0}

    def evaluate(values, items, stage):
        calls[stage] += 1
        u = [np.log10(v) if (j < len(log_axes) and log_axes[j]) else v for j, v in enumerate(values.values())]
        z = sum(((uj - centres[items, j]) / widths[items, j]) ** 2 for j, uj in enumerate(u))
        return {"loglike": peak - 0.5 * z}

    return evaluate, calls


def exact(centres, widths, lo, hi, peak=0.0):
    """ln ∫ exp(T) du/V over the box [lo, hi] (T a product of Gaussians)."""
    out = peak
    for c, s, a, b in zip(centres, widths, lo, hi):
        mass = math.log(max(math.erf((b - c) / (s * math.sqrt(2))) - math.erf((a - c) / (s * math.sqrt(2))), 1e-300) / 2)
        out += math.log(s * math.sqrt(2 * math.pi)) + mass - math.log(b - a)
    return out


@settings(max_examples=30, deadline=None)
@given(d=st.integers(1, 3), seed=st.integers(0, 2**16), log_width=st.floats(-3.5, -1.0))
def test_a_narrow_gaussian_anywhere_in_the_box_is_integrated_to_its_stated_error(d, seed, log_width):
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0.1, 0.9, size=(1, d))
    widths = 10 ** (log_width + rng.uniform(-0.3, 0.3, size=(1, d)))
    axes = [Axis(f"x{j}", 0.0, 1.0, coarse=7) for j in range(d)]
    evaluate, _ = gaussian(centres, widths, peak=-1000.0)
    (result,) = integrate(evaluate, axes)
    truth = exact(centres[0], widths[0], [0] * d, [1] * d, peak=-1000.0)
    assert result.converged
    assert abs(result.log_z - truth) <= max(result.error, 1e-6) + 1e-6
    assert result.error <= 0.1 + 1e-9
    for j in range(d):
        if not 6 * widths[0, j] < centres[0, j] < 1 - 6 * widths[0, j]:
            continue  # the prior cuts this axis's Gaussian: its moments are not the Gaussian's
        m = result.marginal(f"x{j}")
        assert m.mean == pytest.approx(centres[0, j], abs=0.05 * widths[0, j] + 1e-9)
        assert m.sd == pytest.approx(widths[0, j], rel=0.05)


def test_a_posterior_cut_by_the_prior_is_integrated_and_said_to_sit_at_the_edge():
    centres, widths = np.array([[0.0, 0.5]]), np.array([[0.05, 0.02]])
    evaluate, _ = gaussian(centres, widths)
    (result,) = integrate(evaluate, [Axis("a", 0.0, 1.0), Axis("b", 0.0, 1.0)])
    truth = exact(centres[0], widths[0], [0, 0], [1, 1])
    assert abs(result.log_z - truth) <= result.error + 1e-9
    summary = result.summary()
    assert summary["a"]["at_prior_edge"] == ["lower"]
    assert summary["b"]["at_prior_edge"] == []
    assert not summary["b"]["unresolved"] and summary["b"]["cells_per_sd"] >= 0.75
    assert summary["a"]["ci95"][0] >= 0.0


def test_a_log_axis_integrates_in_the_log_of_the_parameter():
    centres, widths = np.array([[-10.0]]), np.array([[0.01]])
    evaluate, _ = gaussian(centres, widths, log_axes=(True,))
    (result,) = integrate(evaluate, [Axis("a0", 3e-11, 3e-10, log=True, coarse=5)])
    truth = exact(centres[0], widths[0], [math.log10(3e-11)], [math.log10(3e-10)])
    assert abs(result.log_z - truth) <= result.error + 1e-9
    assert result.best()["a0"] == pytest.approx(1e-10, rel=0.01)


def test_many_items_each_get_their_own_box():
    rng = np.random.default_rng(3)
    centres = rng.uniform(0.05, 0.95, size=(40, 2))
    widths = 10 ** rng.uniform(-3, -1.3, size=(40, 2))
    evaluate, calls = gaussian(centres, widths)
    results = integrate(evaluate, [Axis("a", 0.0, 1.0), Axis("b", 0.0, 1.0)], n_items=40)
    assert calls["coarse"] == 1
    for c, w, r in zip(centres, widths, results):
        assert abs(r.log_z - exact(c, w, [0, 0], [1, 1])) <= r.error + 1e-9
        assert r.converged


def test_a_budget_too_small_to_converge_says_so():
    evaluate, _ = gaussian(np.array([[0.5, 0.5, 0.5]]), np.array([[0.2, 0.2, 0.2]]) * 1e-3)
    (result,) = integrate(evaluate, [Axis(n, 0.0, 1.0, coarse=3) for n in "abc"], max_points=800, tol=1e-9)
    assert not result.converged
    assert result.error > 0


def test_the_mass_left_outside_the_box_is_estimated():
    # a second mode 30 nat below the first, far away: the box drops it and says how much it dropped
    def evaluate(values, items, stage):
        x = values["x"]
        return {"loglike": np.logaddexp(-0.5 * ((x - 0.2) / 0.01) ** 2, -30 - 0.5 * ((x - 0.8) / 0.01) ** 2)}

    (result,) = integrate(evaluate, [Axis("x", 0.0, 1.0, coarse=101)])
    assert 0 < result.outside < 1e-6
    assert result.log_z == pytest.approx(exact([0.2], [0.01], [0], [1]), abs=result.error + 1e-9)


def test_no_finite_likelihood_is_a_clear_error():
    with pytest.raises(GridIntegralError, match="no point of the coarse grid"):
        integrate(lambda v, i, s: {"loglike": np.full(v["x"].shape, -np.inf)}, [Axis("x", 0.0, 1.0)])
    with pytest.raises(GridIntegralError, match="lower < upper"):
        Axis("x", 1.0, 1.0)
    with pytest.raises(GridIntegralError, match="lower > 0"):
        Axis("x", 0.0, 1.0, log=True)


def test_an_integral_begun_from_a_neighbours_box_agrees_and_one_begun_far_off_starts_over():
    rng = np.random.default_rng(7)
    centres = rng.uniform(0.2, 0.8, size=(6, 2))
    widths = 10 ** rng.uniform(-2.5, -1.5, size=(6, 2))
    axes = [Axis("a", 0.0, 1.0), Axis("b", 0.0, 1.0)]
    evaluate, _ = gaussian(centres, widths)
    first = integrate(evaluate, axes, n_items=6)
    moved = centres + 0.5 * widths                       # a neighbouring integrand: each peak half a width away
    evaluate2, calls = gaussian(moved, widths)
    again = integrate(evaluate2, axes, n_items=6, start=[r.box() for r in first])
    assert calls["coarse"] == 0                            # no coarse pass: every item began in its box
    for c, w, r in zip(moved, widths, again):
        assert abs(r.log_z - exact(c, w, [0, 0], [1, 1])) <= r.error + 1e-9
    far = [Box(np.array([0.0, 0.0]), np.array([0.05, 0.05]), 15)] * 6   # boxes that miss every peak
    evaluate3, calls3 = gaussian(moved, widths)
    redone = integrate(evaluate3, axes, n_items=6, start=far)
    assert calls3["coarse"] == 1
    for c, w, r in zip(moved, widths, redone):
        assert abs(r.log_z - exact(c, w, [0, 0], [1, 1])) <= r.error + 1e-9 and r.outside < 1e-3


def _noisy_gaussian(centre: float, width: float, eps: float, peak: float = -500.0):
    """evaluate() of a 1-D Gaussian T(u) plus noise of sd ``eps`` fixed per point (drawn from a generator seeded by the
    point, so a point evaluated twice gives one value): a sum of numerical integrals as an integrand."""
    def evaluate(values, items, stage):
        u = next(iter(values.values()))
        noise = np.array([np.random.default_rng(int(round(x * 1e9))).normal(0.0, eps) for x in u.ravel()])
        return {"loglike": peak - 0.5 * ((u - centre) / width) ** 2 + noise.reshape(u.shape)}
    return evaluate


def test_the_noise_of_a_smooth_integrand_is_nil_and_of_a_noisy_one_its_size():
    """Every other point against the cubic through its sub-grid neighbours: a quadratic leaves nothing; independent
    noise of sd ε leaves ε·√(1 + 2·(9² + 1)/16²) = 1.2808 ε (by hand), which the estimate divides out."""
    from sigcube.stats.adaptive_grid import _noise

    u = np.linspace(0.0, 1.0, 257)
    log_mass = np.full(u.size, -math.log(u.size))
    assert _noise(-0.5 * ((u - 0.4) / 0.1) ** 2, log_mass) < 1e-9
    noise = np.random.default_rng(3).normal(0.0, 0.2, u.size)
    assert _noise(noise, log_mass) == pytest.approx(0.2, rel=0.15)


@pytest.mark.parametrize("eps", [0.3, 0.6])
def test_a_noisy_integrand_stops_halving_within_its_noise_and_says_how_large_it_is(eps):
    """Without ``noise`` a noisy integrand halves its step until the budget runs out; with it the halving stops once
    the change is within the noise, the truth (the noiseless Gaussian's ln Z, up to the noise) lies within the stated
    error, and the estimated noise is near ε."""
    axis = Axis("s", 0.0, 30.0, coarse=16)
    (noisy,) = integrate(_noisy_gaussian(3.0, 0.4, eps), [axis], noise=True)
    truth = exact([3.0], [0.4], [0.0], [30.0], peak=-500.0)
    assert noisy.converged and noisy.log_mass.size <= 129
    assert abs(noisy.log_z - truth) <= noisy.error
    assert 0.5 * eps <= noisy.noise <= 2.5 * eps
    (plain,) = integrate(_noisy_gaussian(3.0, 0.4, eps), [axis], max_points=2049)
    assert plain.log_mass.size > noisy.log_mass.size


def test_the_noise_is_estimated_on_one_axis_only():
    with pytest.raises(GridIntegralError, match="noise is estimated on one axis; got 2"):
        integrate(gaussian(np.zeros((1, 2)), np.ones((1, 2)))[0], [Axis("a", -5, 5), Axis("b", -5, 5)], noise=True)


@settings(max_examples=40, deadline=None)
@given(d=st.integers(1, 3), n=st.integers(1, 9), seed=st.integers(0, 2**16))
def test_a_boxs_nearest_grid_point_is_itself_on_the_grid_and_within_half_a_step_off_it(d, n, seed):
    rng = np.random.default_rng(seed)
    axes = [Axis(f"p{j}", 0.1, 100.0, log=bool(j % 2)) for j in range(d)]
    lo = rng.uniform(-1, 0.5, d)
    box = Box(lo, lo + rng.uniform(0.1, 1.5, d), n)
    grid, _ = box_grid(axes, box)
    assert np.array_equal(box.nearest(axes, grid), np.arange(n ** d))
    u = rng.uniform(box.lo - 0.3, box.hi + 0.3, (50, d))   # inside and outside the box
    found = {a.name: v[box.nearest(axes, {a.name: a.value(u[:, j]) for j, a in enumerate(axes)})]
             for a, v in zip(axes, grid.values())}
    for j, a in enumerate(axes):
        step = (box.hi[j] - box.lo[j]) / (n - 1) if n > 1 else math.inf
        by_hand = np.clip(u[:, j], box.lo[j], box.hi[j])   # the point moved onto the box, then the nearest tick
        assert np.all(np.abs(a.coordinate(found[a.name]) - by_hand) <= step / 2 + 1e-9)


def correlated_gaussian(d: int, seed: int):
    """evaluate() of a correlated Gaussian T in [−1, 1]^d with per-"galaxy" terms (T split in three shares), and the
    (values, loglike) of every point it evaluated."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(d, d))
    precision = np.linalg.inv(a @ a.T / d + 0.05 * np.eye(d)) * 400
    centre = rng.uniform(-0.3, 0.3, d)
    seen: list[tuple[np.ndarray, np.ndarray]] = []

    def evaluate(values, items, stage):
        x = np.stack([values[f"x{j}"] for j in range(d)], axis=-1)
        t = -0.5 * np.einsum("mki,ij,mkj->mk", x - centre, precision, x - centre)
        seen.append((x, t))
        return {"loglike": t[..., None] * np.array([0.2, 0.3, 0.5]), "other": x[..., 0] ** 2}

    return evaluate, seen


def rows_in(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Whether each row of ``a`` is a row of ``b`` (to 1e-12)."""
    rows = {tuple(r) for r in b.round(12).tolist()}
    return np.array([tuple(r) in rows for r in a.round(12).tolist()])


@settings(max_examples=10, deadline=None)
@given(d=st.integers(2, 4), seed=st.integers(0, 2**16))
def test_a_halved_grid_evaluates_only_near_the_mass_and_integrates_as_the_full_grid(d, seed):
    axes = [Axis(f"x{j}", -1.0, 1.0) for j in range(d)]
    evaluate, full_points = correlated_gaussian(d, seed)
    (full,) = integrate(evaluate, axes, tol=1e-4, max_points=90_000)
    evaluate, seen = correlated_gaussian(d, seed)
    (sparse,) = integrate(evaluate, axes, tol=1e-4, max_points=90_000, skip=SKIP)
    assert sparse.log_z == pytest.approx(full.log_z, abs=1e-9)
    assert [lv.points for lv in sparse.levels] == [lv.points for lv in full.levels]
    assert sum(t.size for _, t in seen) <= sum(t.size for _, t in full_points)
    # the final grid's new points evaluated are those with a corner of their cell (a point of the grid before, every
    # other one) within SKIP of the best of that grid; every point a box keeps (within KEEP of the best) is evaluated
    t = full.loglike
    near = t >= t.max() - KEEP
    np.testing.assert_array_equal(sparse.loglike[near], t[near])
    if sparse.levels[-1].stage == "refine":                                 # the last grid halved the one before
        n = len(sparse.grid["x0"])
        cube = t.reshape((n,) * d)
        best = cube[(slice(None, None, 2),) * d].max()
        expected = np.zeros(n**d, dtype=bool)
        for m, index in enumerate(np.ndindex(*(n,) * d)):
            if all(i % 2 == 0 for i in index):
                continue                                                   # a point of the grid before: kept
            corners = [range(i // 2 * 2, (i + 1) // 2 * 2 + 1, 2) for i in index]
            expected[m] = max(cube[c] for c in np.array(np.meshgrid(*corners, indexing="ij")).reshape(d, -1).T.tolist()
                              for c in [tuple(c)]) >= best - SKIP
        final = np.stack([np.ravel(v) for v in np.meshgrid(*sparse.grid.values(), indexing="ij")], axis=-1)
        np.testing.assert_array_equal(rows_in(final, seen[-1][0].reshape(-1, d)), expected)
        assert expected.sum() < n**d - ((n + 1) // 2) ** d                # fewer than the points the halving added


def test_an_interpolated_point_is_its_cells_multilinear_interpolation():
    """The far points of a halved grid take the value a multilinear interpolation of the grid before gives there
    (scipy's RegularGridInterpolator), array by array."""
    from scipy.interpolate import RegularGridInterpolator

    d = 3
    axes = [Axis(f"x{j}", -1.0, 1.0) for j in range(d)]
    evaluate, seen = correlated_gaussian(d, 7)
    (result,) = integrate(evaluate, axes, tol=1e-4, skip=SKIP)
    assert result.levels[-1].stage == "refine"
    final = np.stack([np.ravel(v) for v in np.meshgrid(*result.grid.values(), indexing="ij")], axis=-1)
    before = [g[::2] for g in result.grid.values()]
    coarse_other = (np.meshgrid(*before, indexing="ij")[0]) ** 2
    interpolated = RegularGridInterpolator(before, coarse_other)(final)
    evaluated = rows_in(final, seen[-1][0].reshape(-1, d))
    assert (~evaluated).any()
    np.testing.assert_allclose(result.arrays["other"][~evaluated], interpolated[~evaluated], rtol=1e-12)
    np.testing.assert_allclose(result.arrays["other"][evaluated], final[evaluated, 0] ** 2, rtol=1e-12)
