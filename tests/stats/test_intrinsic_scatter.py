"""σ_int as a global parameter: its grid syntax, its prior weights and its profile."""

from __future__ import annotations

import numpy as np
import pytest

from sigcube.stats.intrinsic_scatter import MAX_GRID_VALUES, GalaxyScale, Scatter, ScatterError


@pytest.mark.parametrize("text", ["-1", "3:1:5", "0:1:1", "1:2", "a:b:3", "nan", "0:inf:3"])
def test_a_sigma_int_that_is_not_a_grid_is_one_line(text):
    with pytest.raises(ScatterError, match="--sigma-int"):
        Scatter.parse(text)


def test_sigma_int_grid_and_its_prior():
    s = Scatter.parse("0.03:0.05:5", "lognormal_gobs")
    assert s.values == pytest.approx([0.03, 0.035, 0.04, 0.045, 0.05]) and s.free
    assert np.exp(s.log_w) == pytest.approx(np.array([0.5, 1, 1, 1, 0.5]) / 4)
    assert Scatter.parse("5").log_w == pytest.approx([0.0]) and not Scatter.parse("5").free
    assert s.describe()["unit"] == "dex"


def test_the_profile_of_a_quadratic_ln_l_is_its_vertex_and_width():
    """ln L = −(σ − 4.3)²/(2·0.7²): the parabola through any three grid points is the function itself."""
    s = Scatter.parse("0:10:11")
    prof = s.profile(-((s.values - 4.3) ** 2) / (2 * 0.7**2))
    assert prof["best"] == 4.0 and prof["interval_68"] == [4.0, 5.0] and not prof["cut_by_grid"]
    assert prof["parabola"]["best"] == pytest.approx(4.3) and prof["parabola"]["sd"] == pytest.approx(0.7)
    at_end = s.profile(-s.values)
    assert at_end["best"] == 0.0 and at_end["cut_by_grid"] and at_end["parabola"] is None


def test_a_grid_past_the_memory_limit_is_refused_by_name():
    with pytest.raises(ScatterError, match=rf"--sigma-int 0:1:100000: 100000 grid values, more than the "
                                           rf"{MAX_GRID_VALUES} allowed"):
        Scatter.parse("0:1:100000")
    assert Scatter.parse(f"0:1:{MAX_GRID_VALUES}").values.size == MAX_GRID_VALUES
    with pytest.raises(ScatterError, match="--tau-gal"):
        GalaxyScale.parse(f"0:0.2:{MAX_GRID_VALUES + 1}")


def test_tau_gal_grid_and_its_prior():
    t = GalaxyScale.parse("0:0.2:5")
    assert t.values == pytest.approx([0.0, 0.05, 0.1, 0.15, 0.2]) and t.free and t.unit == "ln V"
    assert "uniform on [0, 0.2] ln V" in t.describe()["prior"]
    with pytest.raises(ScatterError, match="--tau-gal must be finite and ≥ 0 ln V"):
        GalaxyScale.parse("-0.1")
    lik = Scatter.parse("0:10:3").likelihood(2, tau_gal=0.05)
    assert lik.sigma_int.ravel().tolist() == [0, 0, 5, 5, 10, 10] and lik.tau_gal == 0.05
