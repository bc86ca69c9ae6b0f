"""Packing the SPARC cube: the paper's sample, R_d conventions, sample cuts."""

from __future__ import annotations

import numpy as np
import pytest

from sigcube.conventions import MassToLight, SampleCuts
from sigcube.errors import SigcubeError
from sigcube.io.rotation_curves import PACK_VARIABLES, pack_sparc
from sigcube.model.inputs import baryonic_velocity


def test_paper_sample_is_171_galaxies_and_3373_points(sparc_points):
    assert sparc_points.n_galaxies == 171
    assert sparc_points.n_points == 3373
    assert sorted(sparc_points.excluded) == ["D512-2", "NGC6789", "UGC00634", "UGC07232"]
    assert sparc_points.points_dropped == 2  # UGC01281 loses two points and stays
    assert "UGC01281" in set(sparc_points.galaxy)


def test_points_are_contiguous_and_valid(sparc_points):
    p = sparc_points.inputs
    assert np.all(p["v_bar"] > 0) and np.all(p["r"] > 0) and np.all(p["v_obs"] > 0)
    idx = sparc_points.galaxy_index()
    # radii increase within each galaxy's contiguous run
    same = idx[1:] == idx[:-1]
    assert np.all(np.diff(p["r"])[same] > 0)


def test_radius_index_unpacks_points_to_the_cube(sparc_cube, sparc_points):
    """Each point sits at (its galaxy, its radius index) of the cube; UGC01281's two dropped points leave gaps."""
    cube = sparc_cube.sel(galaxy=list(sparc_points.galaxy))
    at = (sparc_points.galaxy_index(), sparc_points.radius)
    for name in ("r", "v_obs", "e_v_obs"):
        np.testing.assert_array_equal(cube[name].transpose("galaxy", "radius").values[at], sparc_points.inputs[name])
    g = int(np.flatnonzero(sparc_points.galaxy == "UGC01281")[0])
    radius = sparc_points.radius[sparc_points.offsets[g]:sparc_points.offsets[g + 1]]
    assert int(np.isfinite(cube.r.sel(galaxy="UGC01281")).sum()) - len(radius) == 2


def test_rd_conventions_on_a_known_galaxy(sparc_cube, sparc_points):
    g = int(np.flatnonzero(sparc_points.galaxy == "NGC3198")[0])
    a, b = sparc_points.offsets[g], sparc_points.offsets[g + 1]
    r = sparc_points.inputs["r"][a:b]
    assert sparc_points.per_galaxy("R_d_third")[g] == r[(b - a) // 3]
    assert sparc_points.per_galaxy("R_d_table")[g] == float(sparc_cube.R_disk.sel(galaxy="NGC3198"))
    vdisk = sparc_cube.v_disk.sel(galaxy="NGC3198").values[: b - a]
    assert sparc_points.per_galaxy("R_d_vdisk_peak")[g] == r[np.argmax(np.abs(vdisk))]


def test_baryonic_velocity_keeps_the_sign_of_negative_gas():
    v = baryonic_velocity(np.array([-30.0]), np.array([10.0]), np.array([0.0]), MassToLight())
    assert v[0] == pytest.approx(-np.sqrt(900 - 50))


def test_the_packer_reads_only_its_declared_variables(sparc_cube, sparc_points):
    """A sweep reads each object chunk with PACK_VARIABLES alone: the cube cut to them packs the same points (a
    packer that read another variable would fail here, not in a sweep)."""
    assert len(PACK_VARIABLES) < len(sparc_cube.data_vars)
    small = pack_sparc(sparc_cube[[v for v in PACK_VARIABLES if v in sparc_cube.data_vars]])
    assert list(small.galaxy) == list(sparc_points.galaxy)
    np.testing.assert_array_equal(small.offsets, sparc_points.offsets)
    assert small.inputs.keys() == sparc_points.inputs.keys()
    for name, values in sparc_points.inputs.items():
        np.testing.assert_array_equal(small.inputs[name], values, err_msg=name)


def test_cuts_are_options(sparc_cube):
    q1 = pack_sparc(sparc_cube, SampleCuts(quality=(1,)))
    assert 0 < q1.n_galaxies < 171
    assert set(sparc_cube.quality.sel(galaxy=list(q1.galaxy)).values) == {1}
    inc = pack_sparc(sparc_cube, SampleCuts(min_inclination=30.0))
    assert np.all(sparc_cube.inclination.sel(galaxy=list(inc.galaxy)).values >= 30.0)
    # the seeds also state the cut as ≥ 3 points: then every SPARC galaxy stays
    assert pack_sparc(sparc_cube, SampleCuts(min_points=3)).n_galaxies == 175


@pytest.mark.parametrize("kwargs", [{"min_points": 0}, {"quality": (4,)}, {"min_inclination": 60, "max_inclination": 50}])
def test_invalid_cuts_are_refused(kwargs):
    with pytest.raises(SigcubeError):
        SampleCuts(**kwargs)


def test_cuts_that_leave_nothing_are_an_error(sparc_cube):
    with pytest.raises(SigcubeError, match="leave no galaxy"):
        pack_sparc(sparc_cube, SampleCuts(min_points=1000))
