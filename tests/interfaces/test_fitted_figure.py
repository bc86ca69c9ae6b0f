"""The fitted-curves figure on the SPARC cube: a report's best point drawn with Υ, D, i at their mode, the cube the
report was made from checked, unknown models and galaxies one line each."""

from __future__ import annotations

import holoviews as hv
import numpy as np
import pytest

from sigcube.errors import SigcubeError
from sigcube.interfaces.plots.fits import fitted_rotation_curves


def _report(cube, a0: float = 1.2e-10) -> dict:
    """A comparison report of MOND alone: what the figure reads (a0 and a 5 km/s floor at its best point)."""
    row = {"kernel": "mond", "per_object": [], "best": {"a0": a0, "sigma_int": 5.0}}
    return {"runs": {"nuisance": {"mond": row}, "catalogue": {"mond": row}},
            "scatter": {"error_model": "velocity_floor"},
            "conventions": {"cube_content_sha256": cube.attrs["content_sha256"]}}


def test_fitted_curves_beat_the_catalogue_values_and_carry_bands(sparc_cube):
    """At the mode of Υ, D, i the curves fit better than at the catalogue values (RMS lower in most of the panels),
    each model's band is drawn, and the caption names the fit."""
    galaxies = ["NGC3198", "DDO154", "UGC02953", "NGC2403"]
    plot = fitted_rotation_curves(_report(sparc_cube), sparc_cube, galaxies=galaxies)
    fitted = {}
    for panel in plot.view:
        name = panel.opts.get(backend="bokeh").kwargs["title"].split("\n")[0]
        (obs,) = [e for e in panel if isinstance(e, hv.Scatter)]
        (line,) = [e for e in panel if isinstance(e, hv.Curve) and e.label == "mond"]
        assert any(isinstance(e, hv.Area) for e in panel), "the posterior band"
        fitted[name] = np.sqrt(np.mean((obs.dimension_values(1) - line.dimension_values(1)) ** 2))
    assert list(fitted) == galaxies
    catalogue = fitted_rotation_curves(_report(sparc_cube), sparc_cube, galaxies=galaxies, run="catalogue")
    for panel, name in zip(catalogue.view, galaxies):
        assert not any(isinstance(e, hv.Area) for e in panel)
        (obs,) = [e for e in panel if isinstance(e, hv.Scatter)]
        (line,) = [e for e in panel if isinstance(e, hv.Curve) and e.label == "mond"]
        rms = np.sqrt(np.mean((obs.dimension_values(1) - line.dimension_values(1)) ** 2))
        assert fitted[name] <= rms * 1.05, name
    assert "a0 = 1.2e-10, sigma_int = 5" in plot.alt and "conditional mode" in plot.alt


def test_the_default_picks_representative_and_worst_galaxies(sparc_cube):
    plot = fitted_rotation_curves(_report(sparc_cube), sparc_cube, n=1, run="catalogue")
    assert len(plot.view) == 2 and "the 1 worst fitted by mond" in plot.alt


@pytest.mark.parametrize("change, message", [
    ({"models": ["sigma"]}, "sigma not among the report's models"),
    ({"galaxies": ["NOPE"]}, "NOPE not in the report's sample"),
    ({"run": "other"}, "other"),
])
def test_bad_choices_are_one_line(sparc_cube, change, message):
    with pytest.raises(SigcubeError, match=message) as err:
        fitted_rotation_curves(_report(sparc_cube), sparc_cube, **change)
    assert "\n" not in str(err.value)


def test_another_cube_is_refused_with_both_hashes(sparc_cube):
    other = sparc_cube.assign_attrs(content_sha256="0" * 64)
    with pytest.raises(SigcubeError, match="not the one the report read"):
        fitted_rotation_curves(_report(sparc_cube), other)


def test_residual_checks_draw_each_error_model_and_say_a_missing_check():
    from sigcube.interfaces.plots.fits import residual_checks_figure
    from sigcube.stats.predictive_checks import residual_checks

    rng = np.random.default_rng(4)
    offsets = np.arange(0, 401, 20)

    def report(scale):
        checks = residual_checks(scale * rng.standard_normal(400), offsets, [f"G{i}" for i in range(20)])
        return {"runs": {}, "predictive_checks": {"nuisance": {"mond": checks}}}

    table = {"error_model_table": {"lead": "lognormal"}, "reports": {"quoted": report(5.0), "lognormal": report(1.0)}}
    plot = residual_checks_figure(table)
    assert len(plot.view) == 4 and "under quoted, lognormal" in plot.alt
    (hist,) = [e for e in plot.view[1] if getattr(e, "label", "").startswith("mond")]
    assert "sd 5." in hist.label  # the wide residuals' sd, drawn from N(0, 25)
    with pytest.raises(SigcubeError, match="predictive_checks") as err:
        residual_checks_figure({"runs": {}})
    assert "\n" not in str(err.value)
