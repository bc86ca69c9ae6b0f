"""The lensing likelihood (sigcube.stats.lensing) against hand computations: ln L = −½ rᵀr − Σ ln diag L − n/2 ln 2π
with r = L⁻¹(d − m), checked with numpy's generic solver, against scipy's multivariate normal, and on one real
CLASH cluster from the cube's raw arrays."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sigcube.constants import GM_SUN, KM_S, KPC_M
from sigcube.stats.lensing import LensingError, MultivariateNormal, lensing_covariance


def _corr(rng: np.random.Generator, n: int) -> np.ndarray:
    a = rng.normal(size=(n, 2 * n))
    c = a @ a.T
    d = np.sqrt(np.diag(c))
    return c / np.outer(d, d)


def _by_hand(pred: np.ndarray, data: np.ndarray, cov: np.ndarray) -> float:
    chol = np.linalg.cholesky(cov)
    r = np.linalg.solve(chol, pred - data)  # generic solver, not the triangular one the module uses
    return float(-0.5 * r @ r - np.sum(np.log(np.diag(chol))) - 0.5 * len(data) * np.log(2 * np.pi))


def test_mvn_log_likelihood_matches_the_hand_computation_and_scipy():
    rng = np.random.default_rng(7)
    n = 6
    corr, stat = _corr(rng, n), rng.uniform(0.5, 2.0, n) * 1e13
    data = rng.uniform(1, 5, n) * 1e14
    cov = lensing_covariance(corr, stat)
    preds = data + rng.normal(size=(3, 4, n)) * 2e13
    mvn = MultivariateNormal.of(data, cov)
    got = mvn.log_likelihood(preds)
    assert got.shape == (3, 4)
    for idx in np.ndindex(3, 4):
        assert got[idx] == pytest.approx(_by_hand(preds[idx], data, cov), rel=1e-12)
        assert got[idx] == pytest.approx(stats.multivariate_normal(data, cov).logpdf(preds[idx]), rel=1e-10)


def test_systematics_add_in_quadrature_with_the_same_correlation():
    rng = np.random.default_rng(3)
    corr, stat, syst = _corr(rng, 4), np.array([1.0, 2.0, 3.0, 4.0]), np.array([2.0, 0.0, 4.0, 3.0])
    cov = lensing_covariance(corr, stat, syst, errors="stat+syst")
    assert np.allclose(np.diag(cov), stat**2 + syst**2)
    assert cov[0, 2] == pytest.approx(corr[0, 2] * np.sqrt(5.0) * 5.0)
    with pytest.raises(LensingError, match="unknown lensing error model"):
        lensing_covariance(corr, stat, errors="syst")
    with pytest.raises(LensingError, match="not positive definite"):
        MultivariateNormal.of(np.zeros(2), np.array([[1.0, 2.0], [2.0, 1.0]]))


def test_one_clash_cluster_by_hand(clusters_cube):
    """A209: its lensing radii inside Tian's range, M_bar interpolated by hand, ln L of Σ = 3 at every radius."""
    from sigcube.io.ingest.clusters import lensing_likelihood

    like = lensing_likelihood(clusters_cube)
    cl = clusters_cube.sel(cluster="A209")
    n_rar, n_lens = int(cl["rar_n"]), int(cl["lens_n"])
    r_t = cl["rar_r"].values[:n_rar]
    m_t = 10.0 ** cl["rar_log_g_bar"].values[:n_rar] * (r_t * KPC_M) ** 2 / GM_SUN
    r_l = cl["lens_r"].values[:n_lens]
    inside = np.flatnonzero((r_l >= r_t.min()) & (r_l <= r_t.max()))
    assert len(inside) >= 2
    m_bar = np.exp(np.interp(np.log(r_l[inside]), np.log(r_t), np.log(m_t)))
    m_lens = cl["lens_M"].values[inside]
    sig = cl["lens_M_stat_err"].values[inside]
    cov = cl["lens_M_corr"].values[np.ix_(inside, inside)] * np.outer(sig, sig)
    expected = _by_hand(3.0 * m_bar, m_lens, cov)

    k = like.names.index("A209")
    a, b = like.offsets[k], like.offsets[k + 1]
    v_bar = np.sqrt(GM_SUN * m_bar / (r_l[inside] * KPC_M)) / KM_S
    assert np.allclose(like.v_bar[a:b], v_bar, rtol=1e-12)
    v_pred = np.sqrt(3.0) * like.v_bar  # Σ = 3 everywhere: M_pred = 3·M_bar
    assert like.log_likelihood(v_pred[None])[0, k] == pytest.approx(expected, rel=1e-10)
