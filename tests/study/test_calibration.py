"""`report calibrate`: samples drawn and analysed under the error model a comparison leads with — τ_gal or a floor
beside σ_int held at one value each; a grid is refused before any work."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from sigcube.stats.intrinsic_scatter import Scatter
from sigcube.study.reports.calibration import CalibrationError, calibrate, render


@pytest.mark.parametrize(("scatter", "symbol"), [
    (Scatter.parse("0:10:3"), "σ_int"),
    (Scatter.parse("4", "velocity_floor", "0:0.5:3"), "τ_gal"),
    (Scatter.parse("0.03", "lognormal", None, "0:10:3"), "σ_fl"),
])
def test_a_grid_is_refused_naming_the_parameter(scatter, symbol):
    with pytest.raises(CalibrationError, match=f"{symbol} is one value"):
        calibrate(None, "sigma", scatter, 2)


@pytest.mark.slow
def test_samples_drawn_with_a_galaxy_scale_are_analysed_under_it(sparc_cube):
    """Eight SPARC galaxies, two samples from each model, σ_int = 4 km/s and τ_gal = 0.3: the report states both,
    and the draws differ from those without τ_gal (the same seeds)."""
    cube = sparc_cube.isel(galaxy=slice(0, 8))
    with_tau = calibrate(cube, "sigma", Scatter.parse("4", "velocity_floor", "0.3"), 2)
    without = calibrate(cube, "sigma", Scatter.parse("4"), 2)
    assert with_tau["scatter"]["tau_gal"]["values"] == [0.3] and "tau_gal" not in without["scatter"]
    for truth in ("sigma", "mond"):
        a, b = (r["by_truth"][truth]["samples"] for r in (with_tau, without))
        assert [s["seed"] for s in a] == [s["seed"] for s in b]
        assert all(x["ln_B"] != y["ln_B"] for x, y in zip(a, b))
    out = io.StringIO()
    render(with_tau, Console(file=out, width=200))
    assert "τ_gal fixed at 0.3" in out.getvalue()
