"""The xarray front door: sigcube.predict and sigcube.score on the real cubes."""

from __future__ import annotations

import json
import re

import dask.array as da
import numpy as np
import pytest
import xarray as xr

import sigcube
from sigcube.conventions import SampleCuts
from sigcube.errors import SigcubeError
from sigcube.io.rotation_curves import pack_sparc
from sigcube.model import metrics
from sigcube.model.kernels import KernelError
from sigcube.model.kernels.presets import get_preset
from sigcube.model.metrics import METRICS
from sigcube.study.published import figure
from sigcube.study.reports.sparc import sparc_report

A0_GRID = xr.DataArray(np.linspace(0.8, 1.6, 5), dims="A0")


@pytest.fixture(scope="module")
def paper(sparc_cube):
    return sigcube.score(sparc_cube, "sigma")


def test_predict_unpacks_to_galaxy_by_radius(sparc_cube, sparc_points):
    v = sigcube.predict(sparc_cube, "sigma")
    assert v.dims == ("galaxy", "radius") and v.sizes == {"galaxy": 171, "radius": sparc_cube.sizes["radius"]}
    assert v.attrs["units"] == "km / s" and v.attrs["kernel"] == "sigma" and v.long_name
    assert int(v.notnull().sum()) == 3373  # NaN wherever the cube has no point or the sample drops it
    assert "UGC00634" not in v.galaxy  # 4 usable points < 5
    ugc = v.sel(galaxy="UGC01281")
    assert int(sparc_cube.r.sel(galaxy="UGC01281").notnull().sum()) - int(ugc.notnull().sum()) == 2
    # on the points, the kernel's own values at their (galaxy, radius)
    v_obs = sparc_cube.v_obs.sel(galaxy=v.galaxy)
    np.testing.assert_array_equal(np.isfinite(v.values), np.isfinite(v_obs.values) & np.isfinite(v.values))
    np.testing.assert_allclose(v.values[sparc_points.galaxy_index(), sparc_points.radius],
                               sigcube.get_kernel("sigma")(sparc_points.inputs), rtol=0)


def test_score_is_the_sparc_report_and_the_printed_mond_rms(sparc_cube, paper):
    report = sparc_report(sparc_cube, get_preset("paper"))
    assert paper.rms.dims == ("galaxy",) and paper.mean_rms.dims == ()
    for name in metrics.metric_names("global"):
        assert float(paper[name]) == pytest.approx(report["sigma"][name], rel=1e-12), name
        assert paper[name].attrs == METRICS[name].attrs
    assert figure("sparc.canonical.rms_mond").reproduced_by(float(sigcube.score(sparc_cube, "mond").mean_rms))
    assert paper.attrs["kernel"] == "sigma" and paper.attrs["baseline"] == "mond"
    assert json.loads(paper.attrs["parameters"])["window"] == "linear"
    assert json.loads(paper.attrs["sample_cuts"])["min_points"] == 5
    assert "win_rate" not in sigcube.score(sparc_cube, "sigma", baseline=None)


def test_a_parameter_array_is_a_sweep_in_one_call(sparc_cube):
    swept = sigcube.score(sparc_cube, "sigma", A0=A0_GRID)
    assert swept.mean_rms.dims == ("A0",) and swept.rms.dims == ("A0", "galaxy")
    assert swept.A0.attrs["units"] == "" and swept.A0.attrs["long_name"].startswith("base amplitude")
    for a in A0_GRID.values:
        one = sigcube.score(sparc_cube, "sigma", A0=float(a))
        for name in METRICS:
            np.testing.assert_allclose(swept[name].sel(A0=a).values, one[name].values, rtol=1e-12, err_msg=name)
    grid = sigcube.score(sparc_cube, "sigma", A0=A0_GRID, k=xr.DataArray([0.1, 0.3], dims="k"), window="sqrt")
    assert grid.mean_rms.dims == ("A0", "k") and json.loads(grid.attrs["parameters"])["window"] == "sqrt"
    assert float(grid.mean_rms.isel(A0=1, k=1)) == pytest.approx(
        float(sigcube.score(sparc_cube, "sigma", A0=A0_GRID.values[1], k=0.3, window="sqrt").mean_rms), rel=1e-12)


def test_chunked_parameters_stay_lazy(sparc_cube):
    lazy_a0 = xr.DataArray(da.from_array(A0_GRID.values, chunks=2), dims="A0")
    lazy = sigcube.score(sparc_cube, "sigma", A0=lazy_a0)
    assert isinstance(lazy.mean_rms.data, da.Array) and lazy.mean_rms.data.numblocks == (3,)
    eager = sigcube.score(sparc_cube, "sigma", A0=A0_GRID).mean_rms
    np.testing.assert_allclose(lazy.mean_rms.compute().values, eager.values, rtol=1e-12)
    v = sigcube.predict(sparc_cube, "mond", a0=xr.DataArray(da.from_array([1.0e-10, 1.2e-10], chunks=1), dims="a0"))
    assert isinstance(v.data, da.Array) and v.dims == ("a0", "galaxy", "radius")
    xr.testing.assert_allclose(v.isel(a0=1).compute().drop_vars("a0", errors="ignore"),
                               sigcube.predict(sparc_cube, "mond"), check_dim_order=True)
    bad = sigcube.score(sparc_cube, "sigma", A0=xr.DataArray(da.from_array([1.0, 99.0], chunks=1), dims="A0"))
    with pytest.raises(KernelError, match="outside its bounds"):
        bad.mean_rms.compute()


def test_labelled_metrics_of_the_prediction_equal_the_score(sparc_cube, paper):
    v = sigcube.predict(sparc_cube, "sigma")
    baseline = sigcube.score(sparc_cube, "mond").rms
    labelled = metrics.score(v, sparc_cube.v_obs, sparc_cube.e_v_obs, baseline_rms=baseline)
    for name in METRICS:
        np.testing.assert_allclose(labelled[name].values, paper[name].values, rtol=1e-12, err_msg=name)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"kernel": "sigmaa"}, "unknown kernel 'sigmaa'.*sigma"),
    ({"kernel": "sigma", "A": 1.0}, "no parameter 'A'.*A0"),
    ({"kernel": "sigma", "A0": -1.0}, "outside its bounds"),
    ({"kernel": "sigma", "A0": xr.DataArray([1.0, -1.0], dims="A0")}, "outside its bounds"),
    ({"kernel": "sigma", "window": xr.DataArray(["linear", "sqrt"], dims="w")}, "switch 'window' takes one string"),
    ({"kernel": "sigma", "A0": [1.0, 1.2]}, "xarray.DataArray with named dims"),
    ({"kernel": "sigma", "A0": xr.DataArray([1.0, 1.2], dims="galaxy")}, "output dims"),
])
def test_bad_arguments_are_kernel_errors(sparc_cube, kwargs, match):
    with pytest.raises(KernelError, match=match):
        sigcube.score(sparc_cube, **kwargs)


def test_other_kinds_unpack_along_their_object_dim(clusters_cube):
    params = {"D": 1.0, "L": 600.0, "n": 0.27}
    v = sigcube.predict(clusters_cube, "sigma", **params)
    assert v.dims == ("cluster", "radius") and int(v.notnull().sum()) == 84  # Tian+2020: 20 clusters, 84 radii
    np.testing.assert_array_equal(v.notnull().values, clusters_cube.rar_r.notnull().values)
    scored = sigcube.score(clusters_cube, "sigma", **params)
    assert scored.rms.dims == ("cluster",) and scored.sizes["cluster"] == 20


def test_parameter_arrays_sharing_a_dim_must_agree_along_it(sparc_cube):
    a0 = xr.DataArray([1.0, 1.2], dims="A0")
    with pytest.raises(KernelError, match=r"parameter arrays A0 \(2\), k \(3\) run along dim 'A0' with different "
                                          r"lengths; arrays that share a dim must have the same length"):
        sigcube.score(sparc_cube, "sigma", A0=a0, k=xr.DataArray([0.1, 0.2, 0.3], dims="A0"))  # old: AlignmentError
    shifted = xr.DataArray([0.1, 0.2], dims="A0", coords={"A0": [5.0, 6.0]})
    with pytest.raises(KernelError, match=r"parameter arrays A0, k run along dim 'A0' with different coordinates"):
        sigcube.score(sparc_cube, "sigma", A0=a0, k=shifted)


def test_a_parameter_array_may_run_along_its_own_dim_and_another(sparc_cube):
    a0 = xr.DataArray([1.0, 1.2], dims="A0")
    k = xr.DataArray([[0.05, 0.1, 0.2], [0.06, 0.12, 0.24]], dims=("A0", "k"))  # old: ValueError (a 1-D coordinate)
    swept = sigcube.score(sparc_cube, "sigma", A0=a0, k=k)
    assert swept.mean_rms.dims == ("A0", "k") and swept.A0.values.tolist() == [1.0, 1.2]
    one = sigcube.score(sparc_cube, "sigma", A0=1.2, k=0.24)
    assert float(swept.mean_rms[1, 2]) == pytest.approx(float(one.mean_rms), rel=1e-12)


@pytest.mark.parametrize("drop", [["v_obs"], ["e_v_obs", "inclination"]])
def test_a_cube_lacking_what_the_packer_needs_names_the_variables(sparc_cube, drop):
    for call in (sigcube.score, sigcube.predict):
        with pytest.raises(SigcubeError, match=f"the 'sparc' cube lacks {', '.join(drop)}, which packing it into "
                                               "points needs"):  # old: KeyError
            call(sparc_cube.drop_vars(drop), "sigma")


def test_cuts_may_be_a_dict_of_sample_cuts_fields(sparc_cube):
    given = sigcube.score(sparc_cube, "mond", cuts={"min_points": 10, "quality": [1, 2]})  # old: AttributeError
    assert float(given.mean_rms) == float(sigcube.score(sparc_cube, "mond", cuts=SampleCuts(10, (1, 2))).mean_rms)
    assert json.loads(given.attrs["sample_cuts"])["min_points"] == 10
    v = sigcube.predict(sparc_cube, "mond", cuts={"max_inclination": 60.0})
    assert v.sizes["galaxy"] == len(pack_sparc(sparc_cube, SampleCuts(max_inclination=60.0)).galaxy)


@pytest.mark.parametrize("cuts, message", [
    ({"min_pts": 5, "qualty": [1]}, "cuts: unknown keys 'min_pts', 'qualty'; keys: min_points, quality, "
                                    "min_inclination, max_inclination"),
    ([5], "cuts must be a SampleCuts or a dict of its fields (min_points, quality, min_inclination, "
          "max_inclination); got list"),
    ({"min_points": "5"}, "min_points must be a whole number ≥ 1; got '5'"),
    ({"quality": 2}, "quality flags must be a non-empty subset of 1, 2, 3; got 2"),
    ({"min_inclination": "30"}, "inclination cut must satisfy 0 ≤ min ≤ max ≤ 90 deg; got ['30', 90.0]"),
])
def test_bad_cuts_are_one_sigcube_error(sparc_cube, cuts, message):
    with pytest.raises(SigcubeError, match=re.escape(message)):
        sigcube.score(sparc_cube, "sigma", cuts=cuts)
