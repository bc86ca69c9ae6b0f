"""Tension statistics (sigcube.stats.tension) against the closed forms of Gaussian likelihoods under a flat prior,
their prior (in)dependence, brute-force sums on a non-Gaussian case, and synthetic probes over seeds."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy import stats

from sigcube.stats import tension as T


def centred_grid(half_width: float, step: float) -> np.ndarray:
    """Cell centres tiling [−w, w] exactly: equal mass per point is the flat prior on [−w, w]."""
    n = int(round(2 * half_width / step))
    return -half_width + step * (np.arange(n) + 0.5)


def gaussian_1d(grid: np.ndarray, mean: float, sd: float) -> xr.DataArray:
    """ln N(mean; θ, sd²) over θ: the likelihood of one Gaussian measurement."""
    return xr.DataArray(stats.norm.logpdf(mean, grid, sd), dims="theta", coords={"theta": grid})


def gaussian_2d(axes: dict[str, np.ndarray], mean: np.ndarray, cov: np.ndarray) -> xr.DataArray:
    """ln N(mean; θ, cov) over a 2-D grid."""
    a, b = np.meshgrid(*axes.values(), indexing="ij")
    theta = np.stack([a, b], axis=-1)
    return xr.DataArray(stats.multivariate_normal(np.zeros(2), cov).logpdf(mean - theta), dims=tuple(axes),
                        coords=axes)


MA, SA, MB, SB = 0.3, 0.5, 1.9, 0.8


def test_one_parameter_closed_forms():
    """Two Gaussian measurements, flat prior on [−W, W]: ln Z_X = −ln 2W, ln Z_AB = ln N(Δ; 0, σ_A² + σ_B²) − ln 2W,
    D_X = ln 2W − ½ − ln √(2π)σ_X, ln S = ½ − Δ²/2(σ_A² + σ_B²), every d_X = 1, p = 2Φ(−|Δ|/√(σ_A² + σ_B²)), shift
    = |Δ|/√(σ_A² + σ_B²); means and variances of A, B, AB — all to 1e-8."""
    w = 12.0
    grid = centred_grid(w, 0.01)
    t = T.tension(gaussian_1d(grid, MA, SA), gaussian_1d(grid, MB, SB))
    var = SA ** 2 + SB ** 2
    s_ab = np.sqrt(SA ** 2 * SB ** 2 / var)
    delta = MA - MB
    assert t.a.log_evidence == pytest.approx(-np.log(2 * w), abs=1e-8)
    assert t.ln_r == pytest.approx(stats.norm.logpdf(delta, 0, np.sqrt(var)) + np.log(2 * w), abs=1e-8)
    for probe, sd in ((t.a, SA), (t.b, SB), (t.ab, s_ab)):
        assert probe.kl == pytest.approx(np.log(2 * w) - 0.5 - np.log(np.sqrt(2 * np.pi) * sd), abs=1e-8)
        assert probe.dimensionality == pytest.approx(1.0, abs=1e-8)
        assert probe.cov[0, 0] == pytest.approx(sd ** 2, rel=1e-8)
    assert t.ab.mean[0] == pytest.approx((MA / SA ** 2 + MB / SB ** 2) * s_ab ** 2, abs=1e-8)
    assert t.ln_i == pytest.approx(t.a.kl + t.b.kl - t.ab.kl)
    assert t.ln_s == pytest.approx(0.5 - delta ** 2 / (2 * var), abs=1e-8)
    assert t.dimensionality == pytest.approx(1.0, abs=1e-8)
    assert t.p == pytest.approx(2 * stats.norm.cdf(-abs(delta) / np.sqrt(var)), rel=1e-7)
    assert t.sigma == pytest.approx(abs(delta) / np.sqrt(var), rel=1e-7)
    assert t.shift == pytest.approx(abs(delta) / np.sqrt(var), rel=1e-8)
    assert t.shift_sigma == pytest.approx(t.shift, rel=1e-7)


AXES = {"a": centred_grid(6.0, 0.03), "b": centred_grid(5.0, 0.025)}
C_A = np.array([[0.30, 0.12], [0.12, 0.20]])
C_B = np.array([[0.25, -0.10], [-0.10, 0.40]])
M_A, M_B = np.array([0.2, -0.3]), np.array([1.1, 0.4])


def test_two_correlated_parameters_closed_forms():
    """2-D Gaussians with correlations: ln R = ln N(Δ; 0, C_A + C_B) + ln V, D_X = ln V − 1 − ½ ln|2π C_X|,
    ln S = 1 − χ²/2, d = 2, p = P(χ²_2 > χ²) = shift p, covariances — to 1e-6."""
    volume = 12.0 * 10.0
    t = T.tension(gaussian_2d(AXES, M_A, C_A), gaussian_2d(AXES, M_B, C_B), names=("SPARC", "lensing"))
    delta = M_A - M_B
    chi2 = delta @ np.linalg.solve(C_A + C_B, delta)
    c_ab = np.linalg.inv(np.linalg.inv(C_A) + np.linalg.inv(C_B))
    assert t.ln_r == pytest.approx(stats.multivariate_normal(np.zeros(2), C_A + C_B).logpdf(delta) + np.log(volume),
                                   abs=1e-6)
    for probe, cov in ((t.a, C_A), (t.b, C_B), (t.ab, c_ab)):
        assert probe.kl == pytest.approx(np.log(volume) - 1 - 0.5 * np.log(np.linalg.det(2 * np.pi * cov)), abs=1e-6)
        assert probe.cov == pytest.approx(cov, abs=1e-7)
        assert probe.dimensionality == pytest.approx(2.0, abs=1e-6)
    assert t.ln_s == pytest.approx(1 - chi2 / 2, abs=1e-6)
    assert t.p == pytest.approx(stats.chi2.sf(chi2, 2), rel=1e-5)
    assert t.shift == pytest.approx(np.sqrt(chi2), rel=1e-6)
    assert t.shift_log_p == pytest.approx(t.log_p, abs=1e-5)
    text = "\n".join(t.describe())
    assert "suspiciousness ln S" in text and "SPARC vs lensing" in text and "2 dof" in text


def test_suspiciousness_and_dimensionality_do_not_depend_on_the_prior_width():
    """Widening the flat prior 3-fold in both parameters: ln R and ln I both grow by ln 9; ln S, d, p and the shift
    stay the same (to 1e-6)."""
    wide = {"a": centred_grid(18.0, 0.03), "b": centred_grid(15.0, 0.025)}
    narrow = T.tension(gaussian_2d(AXES, M_A, C_A), gaussian_2d(AXES, M_B, C_B))
    broad = T.tension(gaussian_2d(wide, M_A, C_A), gaussian_2d(wide, M_B, C_B))
    assert broad.ln_r - narrow.ln_r == pytest.approx(np.log(9), abs=1e-6)
    assert broad.ln_i - narrow.ln_i == pytest.approx(np.log(9), abs=1e-6)
    for attr in ("ln_s", "dimensionality", "log_p", "shift"):
        assert getattr(broad, attr) == pytest.approx(getattr(narrow, attr), abs=1e-6)


def test_non_gaussian_probes_match_brute_force_sums():
    """A bimodal probe against a skewed one with a non-flat prior: every statistic from its definition, summed
    here by hand (ln S also as ln R − ln I)."""
    grid = np.linspace(-4, 4, 801)
    ll_a = np.logaddexp(stats.norm.logpdf(grid, -1.2, 0.4), stats.norm.logpdf(grid, 1.0, 0.3))
    ll_b = stats.skewnorm.logpdf(grid, 4, -0.5, 1.1)
    lp = -0.1 * grid ** 2
    t = T.tension(xr.DataArray(ll_a, dims="x", coords={"x": grid}), xr.DataArray(ll_b, dims="x", coords={"x": grid}),
                  log_prior=xr.DataArray(lp, dims="x", coords={"x": grid}))
    prior = np.exp(lp) / np.exp(lp).sum()
    for probe, ll in ((t.a, ll_a), (t.b, ll_b), (t.ab, ll_a + ll_b)):
        z = np.sum(prior * np.exp(ll))
        post = prior * np.exp(ll) / z
        assert probe.log_evidence == pytest.approx(np.log(z), abs=1e-10)
        assert probe.kl == pytest.approx(np.sum(post * np.log(post / prior)), abs=1e-9)
        assert probe.dimensionality == pytest.approx(2 * (np.sum(post * ll ** 2) - np.sum(post * ll) ** 2), abs=1e-8)
        assert probe.mean[0] == pytest.approx(np.sum(post * grid), abs=1e-10)
    assert t.ln_s == pytest.approx(t.ln_r - t.ln_i, abs=1e-9)


REGRESSION_AXES = {"a": np.arange(-1.6, 5.6, 0.04), "b": np.arange(0.6, 3.4, 0.04)}


def regression_probes(seed: int, shift: float = 0.0) -> tuple[xr.DataArray, xr.DataArray]:
    """Two probes of (intercept a, slope b): 10 points each of y = 1 + 2x + N(0, 0.2²), A at x ∈ [0, 1], B at
    x ∈ [1.5, 2.5] with its intercept moved by ``shift``; each ln L exactly Gaussian in (a, b) (from its sums), on
    one grid wide enough for both (B alone pins a only to ±0.42)."""
    rng = np.random.default_rng(seed)
    a, b = np.meshgrid(*REGRESSION_AXES.values(), indexing="ij")
    out = []
    for lo, extra in ((0.0, 0.0), (1.5, shift)):
        x = np.linspace(lo, lo + 1.0, 10)
        y = 1.0 + extra + 2.0 * x + rng.normal(0, 0.2, x.size)
        chi2 = (np.sum(y ** 2) - 2 * a * y.sum() - 2 * b * np.sum(x * y) + x.size * a ** 2 + 2 * a * b * x.sum()
                + b ** 2 * np.sum(x ** 2)) / 0.2 ** 2
        out.append(xr.DataArray(-0.5 * chi2, dims=("a", "b"), coords=REGRESSION_AXES))
    return out[0], out[1]


def test_probes_of_the_same_parameters_show_no_tension_over_seeds():
    """200 seeds of two consistent linear-regression probes: the suspiciousness p is uniform (KS p > 0.01; exact for
    Gaussian likelihoods), fewer than 10 % of seeds fall below p = 0.05, and d ≈ 2 (the shared parameters)."""
    results = [T.tension(*regression_probes(seed)) for seed in range(200)]
    p = np.array([r.p for r in results])
    assert stats.kstest(p, "uniform").pvalue > 0.01
    assert np.mean(p < 0.05) < 0.1
    assert np.array([r.dimensionality for r in results]) == pytest.approx(2.0, abs=0.05)
    assert np.array([r.shift_log_p for r in results]) == pytest.approx(np.log(p), abs=0.01)


def test_shifted_probes_show_a_tension_over_seeds():
    """30 seeds with probe B's intercept moved by 2.0, 6.1σ of the two probes' combined uncertainty on the line at
    x = 2 (A: ±0.32, B: ±0.06): p < 0.01 (> 2.6σ) in every seed."""
    for seed in range(300, 330):
        t = T.tension(*regression_probes(seed, shift=2.0))
        assert t.p < 0.01 and t.sigma > 2.6, (seed, t.p)


def test_each_probe_against_the_rest():
    """Three probes, one moved: its tension against the other two is the largest, and each entry equals tension()
    of that probe against the product of the others."""
    grid = centred_grid(8.0, 0.01)
    probes = {"sparc": gaussian_1d(grid, 0.1, 0.3), "lensing": gaussian_1d(grid, -0.2, 0.4),
              "clusters": gaussian_1d(grid, 2.0, 0.35)}
    out = T.against_rest(probes)
    assert max(out, key=lambda k: out[k].sigma) == "clusters"
    direct = T.tension(probes["sparc"], probes["lensing"] + probes["clusters"])
    assert out["sparc"].ln_s == pytest.approx(direct.ln_s, abs=1e-12)
    assert out["clusters"].sigma > 3 > out["sparc"].sigma


def test_bad_input_is_refused_in_one_sentence():
    grid = centred_grid(4.0, 0.1)
    a = gaussian_1d(grid, 0, 1)
    with pytest.raises(T.TensionError, match="grids differ along 'theta'"):
        T.tension(a, gaussian_1d(grid + 0.01, 0, 1))
    with pytest.raises(T.TensionError, match="grids differ: dims"):
        T.tension(a, a.rename(theta="x"))
    with pytest.raises(T.TensionError, match="NaN"):
        T.tension(a, a.where(a.theta > 0))
    with pytest.raises(T.TensionError, match="zero likelihood at every grid point"):
        T.tension(a, a * 0 - np.inf)
    with pytest.raises(T.TensionError, match="at least three probes"):
        T.against_rest({"a": a, "b": a})


def test_numerical_error_is_small_on_a_fine_grid_and_large_on_a_coarse_one():
    """Gaussian probes: on a grid of 20 steps per σ the statistics barely move when the step doubles; on a grid of
    one step per σ they move, and the error says so; a quadrature error ε of ln L adds 2ε to ln S's."""
    fine = centred_grid(12.0, 0.025)
    coarse = centred_grid(12.0, 0.5)
    errors = {}
    for name, grid in (("fine", fine), ("coarse", coarse)):
        a, b = gaussian_1d(grid, MA, SA), gaussian_1d(grid, MB, SB)
        errors[name] = T.numerical_error(T.tension(a, b), a, b)
    assert errors["fine"]["error"]["ln_s"] < 1e-3 and errors["fine"]["error"]["shift"] < 1e-3
    assert errors["coarse"]["error"]["ln_s"] > 10 * errors["fine"]["error"]["ln_s"]
    a, b = gaussian_1d(fine, MA, SA), gaussian_1d(fine, MB, SB)
    with_quadrature = T.numerical_error(T.tension(a, b), a, b, quadrature=0.05)
    assert with_quadrature["error"]["ln_s"] == pytest.approx(errors["fine"]["error"]["ln_s"] + 0.1)
    t = T.tension(a, b)
    lo, hi = with_quadrature["sigma_range"]
    assert lo < t.sigma < hi


def test_verdict_is_undecided_when_the_range_straddles_a_threshold():
    assert T.verdict([3.2, 3.9]) == "strong tension"
    assert T.verdict([1.1, 1.5]) == "no significant tension"
    assert T.verdict([2.8, 3.1]).startswith("undecided: moderate tension to strong tension")
    assert T.verdict(None).startswith("undefined")
    grid = centred_grid(12.0, 0.05)
    flat = xr.DataArray(np.zeros(len(grid)), dims="theta", coords={"theta": grid})
    a = gaussian_1d(grid, MA, SA)
    t = T.tension(a, flat)  # a probe that constrains nothing: d ≈ 0
    assert t.dimensionality < T.MIN_SHARED and T.numerical_error(t, a, flat)["sigma_range"] is None
    assert T.coarser(gaussian_1d(np.arange(9.0), 0.0, 1.0)).sizes["theta"] == 5
    assert T.coarser(gaussian_1d(np.arange(4.0), 0.0, 1.0)).sizes["theta"] == 4
