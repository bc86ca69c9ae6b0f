"""A per-galaxy model's σ_int integral evaluates each galaxy on one fixed grid at every σ_int; where the galaxy's
likelihood has several nuisance modes, where each grid point's search ends decides ln Z_g(σ_int). The seeded search
(every point starting from the mode a restarted search found at one σ_int) is checked against an independent one that
restarts every point's search at every σ_int, on the SPARC galaxy where the warm chain (each point from its
neighbour's mode) jumped between σ_int values: DC14 under ΛCDM priors with each galaxy's velocity scale (τ_gal held).
Slow tier (SPARC; about a minute)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import logsumexp

from sigcube.engines import evidence
from sigcube.engines.evidence import GRID_NODES, SCATTER, Data, object_evidence
from sigcube.io.rotation_curves import pack_sparc
from sigcube.model.kernels import get_kernel
from sigcube.stats.adaptive_grid import box_grid
from sigcube.stats.nuisance import Catalogue, with_bulge_luminosity
from sigcube.study.reports.compare_models import MODELS, axes, fixed_params

HELD = {"tau_gal": 0.31}
SIGMAS = [2.0, 3.5, 6.5, 15.5]
"""σ_int values [km/s] at which the warm chain's ln Z of NGC5985 dropped below its neighbours'."""


@pytest.fixture(scope="module")
def ngc5985(sparc_cube):
    cube = with_bulge_luminosity(sparc_cube.sel(galaxy=["NGC5985"]))
    points = pack_sparc(cube)
    model = MODELS["dc14-lcdm"]
    kernel, fixed, grid_axes = get_kernel(model.kernel), fixed_params(model), axes(model.per_object)
    data = Data(points, Catalogue.from_cube(cube, points))
    box = object_evidence(kernel, fixed, grid_axes, data, "velocity_floor", 6.0, correct=False, locate=True,
                          held=HELD).boxes
    return kernel, fixed, grid_axes, data, box


def _restarted_everywhere(kernel, fixed, grid_axes, data, box, sigma: float) -> float:
    """ln Z on the fixed grid with every point's mode search restarted at this σ_int (no seeds, no chain)."""
    ev = evidence._Evaluator(kernel, fixed, data, "velocity_floor", None, **HELD)
    grid, log_mass = box_grid(grid_axes, box[0])
    ll = ev.arrays({}, np.array([0]), {k: v[:, None] for k, v in grid.items()}, {SCATTER: sigma}, GRID_NODES,
                   restarts=True)["loglike"][:, 0]
    return float(logsumexp(ll + log_mass))


@pytest.mark.slow
def test_the_seeded_search_finds_what_a_search_restarted_at_every_point_finds(ngc5985):
    kernel, fixed, grid_axes, data, box = ngc5985
    seeds = evidence._grid_modes(kernel, fixed, data, "velocity_floor", evidence.in_process, grid_axes, box, 6.0, HELD)
    seeded = evidence._on_grids(kernel, fixed, data, "velocity_floor", evidence.in_process, grid_axes, box, SIGMAS,
                                HELD, seeds)[:, 0]
    warm = evidence._on_grids(kernel, fixed, data, "velocity_floor", evidence.in_process, grid_axes, box, SIGMAS,
                              HELD)[:, 0]
    restarted = np.array([_restarted_everywhere(kernel, fixed, grid_axes, data, box, s) for s in SIGMAS])
    assert np.all(np.abs(seeded - restarted) <= 0.05), (seeded, restarted)
    assert np.max(restarted - warm) > 0.2, "the case has several modes: the warm chain misses the best one somewhere"

