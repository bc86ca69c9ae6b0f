"""Grid posterior: normalisation, means and credible intervals against a Gaussian by hand, edges, 2-D marginals."""

from __future__ import annotations

import numpy as np
import pytest

from sigcube.stats.posterior import PosteriorError, cell_edges, grid_posterior, summary_lines


def test_gaussian_log_likelihood_gives_its_mean_and_intervals():
    x = np.linspace(0.0, 2.0, 401)
    y = np.array([0.0, 1.0])
    log_like = -0.5 * ((x[:, None] - 1.2) / 0.1) ** 2 + 0.0 * y  # flat in y
    post = grid_posterior(log_like, {"x": x, "y": y})
    assert post.mass.sum() == pytest.approx(1.0)
    m = post.marginal("x")
    assert m.mean == pytest.approx(1.2, abs=1e-9) and m.sd == pytest.approx(0.1, rel=1e-3)
    lo, hi = m.interval(0.95)
    assert lo == pytest.approx(1.2 - 1.95996 * 0.1, abs=2e-3) and hi == pytest.approx(1.2 + 1.95996 * 0.1, abs=2e-3)
    assert not m.on_edge
    np.testing.assert_allclose(post.marginal("y").mass, [0.5, 0.5])
    # the evidence: ln Σ L/N with L a Gaussian of σ = 0.1 on a step of 0.005 → ln(√(2π)·0.1/0.005/401)
    assert post.log_evidence == pytest.approx(np.log(np.sqrt(2 * np.pi) * 0.1 / 0.005 / 401), abs=1e-6)


def test_edge_mass_is_reported():
    x = np.linspace(0.0, 1.0, 11)
    post = grid_posterior(-0.5 * ((x - 1.0) / 0.2) ** 2, {"A0": x})
    assert post.marginal("A0").on_edge
    (line,) = summary_lines(post)
    assert "upper end cell" in line and "95%" in line


def test_two_d_marginal_orientation_and_prior():
    a, b, c = np.arange(3.0), np.arange(4.0), np.arange(2.0)
    rng = np.random.default_rng(1)
    ll = rng.normal(size=(3, 4, 2))
    post = grid_posterior(ll, {"a": a, "b": b, "c": c}, log_prior=np.log(np.arange(1.0, 4.0))[:, None, None])
    expected = np.exp(ll) * np.arange(1.0, 4.0)[:, None, None]
    expected /= expected.sum()
    np.testing.assert_allclose(post.marginal2d("a", "c"), expected.sum(axis=1))
    np.testing.assert_allclose(post.marginal2d("c", "a"), expected.sum(axis=1).T)


def test_log_axis_cells_are_geometric():
    np.testing.assert_allclose(cell_edges(np.array([1.0, 10.0, 100.0])), [10**-0.5, 10**0.5, 10**1.5, 10**2.5])
    np.testing.assert_allclose(cell_edges(np.array([1.0, 2.0, 3.0])), [0.5, 1.5, 2.5, 3.5])


def test_errors():
    with pytest.raises(PosteriorError, match="shape"):
        grid_posterior(np.zeros(3), {"a": np.arange(4.0)})
    with pytest.raises(PosteriorError, match="finite"):
        grid_posterior(np.full(3, -np.inf), {"a": np.arange(3.0)})
    with pytest.raises(PosteriorError, match="no grid axis"):
        grid_posterior(np.zeros(3), {"a": np.arange(3.0)}).marginal("b")
