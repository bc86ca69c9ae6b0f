"""σ_int as a global parameter: its grid syntax, its prior weights and its profile."""

from __future__ import annotations

import numpy as np
import pytest

from sigcube.stats.intrinsic_scatter import Scatter, ScatterError


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
