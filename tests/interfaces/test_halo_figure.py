"""The halo-relations figure: each galaxy's fitted halo (median, 68 %) over the ΛCDM relations, from a comparison
report's halo posteriors; a report without halos, an unknown model or all-NaN medians one line each."""

from __future__ import annotations

import json

import holoviews as hv
import numpy as np
import pytest

from sigcube.errors import SigcubeError
from sigcube.interfaces.plots.halos import recovered_relations
from sigcube.stats.adaptive_grid import Axis, Box, ItemIntegral, box_grid
from sigcube.stats.halo_posteriors import halo_posteriors


def _integral(centre: float) -> ItemIntegral:
    """A flat-prior halo posterior: log10 M200 ~ N(centre, 0.1), c ~ N(10, 1), on a fine grid."""
    axes = [Axis("log10_M200", 9.0, 13.0), Axis("c", 1.0, 30.0)]
    lo, hi = np.array([a.bounds for a in axes], dtype=float).T
    values, log_mass = box_grid(axes, Box(lo, hi, 121))
    ll = -0.5 * ((values["log10_M200"] - centre) / 0.1) ** 2 - 0.5 * ((values["c"] - 10.0) / 1.0) ** 2
    grid = {a.name: a.value(np.linspace(a_lo, a_hi, 121)) for a, a_lo, a_hi in zip(axes, lo, hi)}
    return ItemIntegral(tuple(axes), grid, log_mass, {"loglike": ll[:, None]}, 0.0, 0.0, 0.0, True, ())


def _report(**rows) -> dict:
    return json.loads(json.dumps({"runs": {"nuisance": {"mond": {"kernel": "mond"}, **rows}}}, default=float))


def _burkert() -> dict:
    ds = halo_posteriors("burkert", [_integral(10.5), _integral(11.5)], ["a", "b"], np.array([8.5, 10.0]))
    return {"kernel": "burkert", "halos": ds.to_dict(data="list")}


def test_each_galaxy_sits_at_its_medians():
    plot = recovered_relations(_report(burkert=_burkert()))
    stellar, concentration, _key = plot.view
    (points,) = [e for e in stellar if isinstance(e, hv.Scatter)]
    assert points.dimension_values(0) == pytest.approx([10.5, 11.5], abs=0.01)  # the posterior's centres
    assert points.dimension_values(1) == pytest.approx([8.5, 10.0])
    (c,) = [e for e in concentration if isinstance(e, hv.Scatter)]
    assert c.dimension_values(1) == pytest.approx([1.0, 1.0], abs=0.01)  # log10 of c's centre, 10
    assert "burkert (2 galaxies)" in plot.alt


@pytest.mark.parametrize("report, message", [
    (_report(), "holds no halo posteriors"),
    ({"runs": {"nuisance": {}}}, "holds no halo posteriors"),
    ({"runs": {}}, "nuisance"),
])
def test_a_report_without_halos_is_one_line(report, message):
    with pytest.raises(SigcubeError, match=message) as err:
        recovered_relations(report)
    assert "\n" not in str(err.value)


def test_an_unknown_model_or_nan_medians_are_one_line():
    with pytest.raises(SigcubeError, match="nfw-lcdm not among the report's halo models"):
        recovered_relations(_report(burkert=_burkert()), models=["nfw-lcdm"])
    row = _burkert()
    row["halos"]["data_vars"]["log10_M200"]["data"] = [[None] * 5, [None] * 5]
    with pytest.raises(SigcubeError) as err:
        recovered_relations(_report(burkert=row))
    assert "\n" not in str(err.value)


def test_each_models_stellar_to_halo_relation_is_drawn_with_its_own_scatter():
    """A model under Behroozi et al.'s relation is drawn over that relation (at M200 = M1 its median is log10(ε·M1) =
    −1.777 + 11.514, by hand), one under Moster's with the parameters' errors propagated over a band whose width moves
    with mass; a relation the project does not know is one line."""
    rows = {"behroozi": {**_burkert(), "fixed": {"shmr": "behroozi2013"}},
            "propagated": {**_burkert(), "fixed": {"shmr": "moster2013_propagated"}}}
    stellar, _, _ = recovered_relations(_report(**rows)).view
    curves = {c.label: c for c in stellar if type(c) is hv.Curve}  # an Area is a Curve too
    (behroozi,) = [c for label, c in curves.items() if label.startswith("Behroozi+2013")]
    x, y = behroozi.dimension_values(0), behroozi.dimension_values(1)
    assert np.interp(11.514, x, y) == pytest.approx(-1.777 + 11.514, abs=0.01)
    (band,) = [a for a in stellar if isinstance(a, hv.Area) and a.label.startswith("Moster+2013 (its parameters' errors propagated)")
               and a.label.endswith("±1σ")]
    width = band.dimension_values(2) - band.dimension_values(1)
    assert width.max() > 1.5 * width.min()
    rows["behroozi"]["fixed"] = {"shmr": "unknown2099"}
    with pytest.raises(SigcubeError, match="runs.nuisance.behroozi.fixed.shmr is 'unknown2099', not one of") as err:
        recovered_relations(_report(**rows))
    assert "\n" not in str(err.value)
