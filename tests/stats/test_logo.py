"""Exact leave-one-galaxy-out (sigcube.stats.logo) against closed-form predictive densities and brute force."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.special import logsumexp

from sigcube.stats import logo as L

RNG = np.random.default_rng(20)
N = 25
SIGMA = RNG.uniform(0.5, 2.0, N)
Y = RNG.normal(1.3, SIGMA)
NAMES = [f"G{i:02d}" for i in range(N)]


def cube(values: np.ndarray, axes: dict[str, np.ndarray]) -> xr.DataArray:
    """ln L over the grid ``axes`` (in order) and the galaxies, as a sweep stores it."""
    return xr.DataArray(values, dims=(*axes, "galaxy"), coords={**axes, "galaxy": NAMES})


def conjugate_elpd(y: np.ndarray, var: np.ndarray) -> np.ndarray:
    """Flat prior, y_g ~ N(θ, var_g): p(y_g | y_-g) = N(y_g; m_-g, var_g + v_-g), m_-g and v_-g the precision-weighted
    mean and variance of the others."""
    w = 1 / var
    v = 1 / (w.sum() - w)
    m = v * ((w * y).sum() - w * y)
    return stats.norm.logpdf(y, m, np.sqrt(var + v))


THETA = np.linspace(-4.0, 7.0, 4001)


def test_gaussian_model_matches_the_closed_form_predictive():
    """y_g ~ N(θ, σ_g²) with a flat prior on a wide fine grid: elpd_g = ln N(y_g; m_-g, σ_g² + v_-g) to 1e-4 nat."""
    ll = stats.norm.logpdf(Y, THETA[:, None], SIGMA)
    result = L.logo(cube(ll, {"theta": THETA}), name="gauss")
    expect = conjugate_elpd(Y, SIGMA ** 2)
    assert np.max(np.abs(result.elpd.values - expect)) < 1e-4
    assert result.total == pytest.approx(expect.sum(), abs=1e-3)
    assert result.se == pytest.approx(np.sqrt(N * np.var(expect)), rel=1e-5)
    assert "exact leave-one-galaxy-out" in result.describe()[0]


def test_two_global_parameters_match_the_regression_predictive():
    """y_g ~ N(a + b x_g, σ²), flat prior on a 2-D grid: the leave-one-out predictive of least squares,
    N(y_g; â_-g + b̂_-g x_g, σ²(1 + x̃ᵀ(X_-gᵀX_-g)⁻¹x̃)), to 1e-4 nat."""
    rng = np.random.default_rng(4)
    x = rng.uniform(-1, 1, N)
    sigma = 0.3
    y = 0.5 + 1.2 * x + rng.normal(0, sigma, N)
    a, b = np.linspace(-0.5, 1.5, 301), np.linspace(-0.5, 3.0, 401)
    ll = stats.norm.logpdf(y, a[:, None, None] + b[None, :, None] * x, sigma)
    result = L.logo(cube(ll, {"a": a, "b": b}))
    design = np.column_stack([np.ones(N), x])
    expect = []
    for g in range(N):
        keep = np.arange(N) != g
        xtx = np.linalg.inv(design[keep].T @ design[keep])
        coef = xtx @ design[keep].T @ y[keep]
        expect.append(stats.norm.logpdf(y[g], design[g] @ coef, sigma * np.sqrt(1 + design[g] @ xtx @ design[g])))
    assert np.max(np.abs(result.elpd.values - np.array(expect))) < 1e-4


def test_per_galaxy_parameters_give_each_galaxys_own_evidence():
    """ψ_g per galaxy with prior N(0, 1) on its grid, y_g ~ N(ψ_g, σ_g²): elpd_g = ln N(y_g; 0, 1 + σ_g²), the
    galaxy's own evidence, to 1e-4 nat (the prior normalised over the grid for every galaxy)."""
    psi = np.linspace(-8, 8, 3201)
    ll = stats.norm.logpdf(Y, psi[:, None], SIGMA)
    prior = xr.DataArray(stats.norm.logpdf(psi), dims="psi", coords={"psi": psi})
    result = L.logo(cube(ll, {"psi": psi}), per_galaxy=["psi"], log_prior_per_galaxy=prior + 17.0)
    assert np.max(np.abs(result.elpd.values - stats.norm.logpdf(Y, 0, np.sqrt(1 + SIGMA ** 2)))) < 1e-4
    assert "own evidence" in "\n".join(result.describe())


def test_global_and_per_galaxy_parameters_together():
    """y_g ~ N(θ + ψ_g, σ_g²), ψ_g ~ N(0, 0.5²) per galaxy, flat θ: the conjugate predictive with variances
    σ_g² + 0.25, to 1e-4 nat."""
    theta = np.linspace(-3, 6, 361)
    psi = np.linspace(-4, 4, 321)
    ll = stats.norm.logpdf(Y, theta[:, None, None] + psi[None, :, None], SIGMA)
    prior = xr.DataArray(stats.norm.logpdf(psi, 0, 0.5), dims="psi", coords={"psi": psi})
    result = L.logo(cube(ll, {"theta": theta, "psi": psi}), per_galaxy=["psi"], log_prior_per_galaxy=prior)
    assert np.max(np.abs(result.elpd.values - conjugate_elpd(Y, SIGMA ** 2 + 0.25))) < 1e-4


def brute_force(ll: np.ndarray, lp: np.ndarray) -> np.ndarray:
    """elpd_g by refitting without galaxy g, galaxy by galaxy: ln Σ π L_g Π_{h≠g} L_h − ln Σ π Π_{h≠g} L_h."""
    out = []
    for g in range(ll.shape[1]):
        others = ll[:, [h for h in range(ll.shape[1]) if h != g]].sum(axis=1) + lp
        out.append(logsumexp(others + ll[:, g]) - logsumexp(others))
    return np.array(out)


def test_elpd_and_standard_errors_against_brute_force():
    """A bumpy non-Gaussian 1-D model with a non-flat prior and −inf entries: elpd_g, ELPD and SE as refitting
    without each galaxy gives them (SE with the population variance, n·Var), to 1e-10."""
    rng = np.random.default_rng(3)
    theta = np.linspace(0, 1, 97)
    ll = -np.abs(rng.normal(size=(theta.size, N))).cumsum(axis=0) * 0.05 + 2 * np.sin(7 * theta)[:, None]
    ll[:4, 3] = -np.inf
    ll[-2:, 7] = -np.inf
    lp = -3 * theta
    prior = xr.DataArray(lp, dims="theta", coords={"theta": theta})
    result = L.logo(cube(ll, {"theta": theta}), log_prior=prior)
    expect = brute_force(ll, lp)
    assert result.elpd.values == pytest.approx(expect, abs=1e-10)
    assert result.se == pytest.approx(np.sqrt(N * np.mean((expect - expect.mean()) ** 2)), abs=1e-10)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(-50, 50), min_size=N, max_size=N), st.floats(-1e4, 1e4))
def test_differences_do_not_change_when_a_constant_is_added(shifts, constant):
    """Adding c_g to both models' ln L_g moves each elpd_g by c_g and leaves every difference and its SE unchanged;
    adding a constant to the log prior changes nothing."""
    shift = np.asarray(shifts)[None, :]
    good = stats.norm.logpdf(Y, THETA[::8, None], SIGMA)
    worse = stats.norm.logpdf(Y, THETA[::8, None], 1.5 * SIGMA)
    base = L.compare([L.logo(cube(good, {"theta": THETA[::8]}), name="good"),
                      L.logo(cube(worse, {"theta": THETA[::8]}), name="worse")])
    moved_good = L.logo(cube(good + shift, {"theta": THETA[::8]}), name="good",
                        log_prior=xr.DataArray(np.full(THETA[::8].size, constant), dims="theta"))
    moved = L.compare([moved_good, L.logo(cube(worse + shift, {"theta": THETA[::8]}), name="worse")])
    assert moved.best == base.best
    assert moved.table["elpd_diff"].values == pytest.approx(base.table["elpd_diff"].values, abs=1e-8)
    assert moved.table["dse"].values == pytest.approx(base.table["dse"].values, abs=1e-8)
    assert moved_good.elpd.values - base.per_galaxy["elpd"].sel(model="good").values == pytest.approx(
        shift[0], abs=1e-8)


def test_compare_ranks_models_and_pairs_the_differences():
    """Three models on the same galaxies: ranked by ELPD, Δ = best − model summed per galaxy, its SE from the paired
    per-galaxy differences (brute force), the per-galaxy table aligned by name when a model lists them reversed."""
    right = stats.norm.logpdf(Y, THETA[:, None], SIGMA)
    wide = stats.norm.logpdf(Y, THETA[:, None], 2 * SIGMA)
    shifted = stats.norm.logpdf(Y + 0.8, THETA[:, None], SIGMA)
    models = [L.logo(cube(right, {"theta": THETA}), name="right"),
              L.logo(cube(wide, {"theta": THETA}).isel(galaxy=slice(None, None, -1)), name="wide"),
              L.logo(cube(shifted, {"theta": THETA}), name="shifted")]
    result = L.compare(models)
    expect = {m.name: m.elpd.sel(galaxy=NAMES).values for m in models}
    best = max(expect, key=lambda k: expect[k].sum())
    assert result.best == best == "right"
    for name, values in expect.items():
        d = expect[best] - values
        row = result.table.sel(model=name)
        assert float(row["elpd_diff"]) == pytest.approx(d.sum(), abs=1e-9)
        assert float(row["dse"]) == pytest.approx(np.sqrt(N * np.var(d)), abs=1e-9)
        assert result.per_galaxy["elpd_diff"].sel(model=name).values == pytest.approx(d, abs=1e-9)
    top = result.drivers("wide", 3)["elpd_diff"].sel(model="wide")
    d = expect["right"] - expect["wide"]
    assert list(top["galaxy"].values) == [NAMES[i] for i in np.argsort(-np.abs(d))[:3]]
    text = result.describe()
    assert text[0].startswith("right: ELPD_LOGO") and "below right" in text[1]


def test_bad_input_is_refused_in_one_sentence():
    ll = cube(stats.norm.logpdf(Y, THETA[::40, None], SIGMA), {"theta": THETA[::40]})
    with pytest.raises(L.LogoError, match="'galaxies' not among"):
        L.logo(ll, galaxy_dim="galaxies")
    with pytest.raises(L.LogoError, match="NaN"):
        L.logo(ll.where(ll.theta > -3))
    with pytest.raises(L.LogoError, match="at least two models"):
        L.compare([L.logo(ll)])
    with pytest.raises(L.LogoError, match="does not hold the same galaxy entries"):
        L.compare([L.logo(ll, name="a"), L.logo(ll.isel(galaxy=slice(1, None)), name="b")])
    dead = ll.copy()
    dead[:, 0] = -np.inf
    with pytest.raises(L.LogoError, match="G00 has zero predictive density"):
        L.logo(dead)
