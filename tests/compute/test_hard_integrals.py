"""The per-galaxy integral check (:func:`~sigcube.compute.quadrature.check_integrals`) on SPARC's known hard cases,
against the independent tensor-product reference of :mod:`tests.compute.tensor_reference` (slow tier).

Issue 23 item 5: on ≥ 10 galaxies including UGC09133, UGC00128, UGC02953, UGC05253 and UGC11914, at the canonical
Σ kernel point and MOND (defaults, Li+2018 priors, σ_int = 0), the shipped specs' 5-node ln Z is within 0.1 nat of
the reference wherever check_integrals does not flag the galaxy, and every galaxy it misses by more is flagged.

Deep tier (make test-deep, not CI): the reference holds a 4-D grid of up to 140 nodes per dimension (about 3 GB) and
takes tens of minutes for the 20 integrals.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from sigcube.compute import quadrature as Q
from sigcube.model.kernels.registry import get_kernel
from sigcube.stats.nuisance import Catalogue, NuisanceTransform, sparc_priors

sys.path.insert(0, str(Path(__file__).parent))
from tensor_reference import tensor_log_marginal  # noqa: E402

GALAXIES = ("UGC09133", "UGC00128", "UGC02953", "UGC05253", "UGC11914",
            "CamB", "NGC3109", "NGC2403", "NGC6503", "DDO154")
NODES = 5
"""The node count of the shipped nuisance specs (sweeps/*_nuisance.toml)."""
TOLERANCE = 0.1
pytestmark = pytest.mark.deep


@pytest.fixture(scope="module", params=["sigma", "mond"])
def hard_cases(request, sparc_cube, sparc_points):
    kernel = get_kernel(request.param)
    catalogue = Catalogue.from_cube(sparc_cube, sparc_points)
    transform = NuisanceTransform(sparc_points, catalogue, kernel.required_inputs(kernel.resolve({})))
    priors = sparc_priors(catalogue)
    index = np.array([int(np.flatnonzero(transform.galaxy == name)[0]) for name in GALAXIES])
    sub, p = transform.take(index), {k: v.take(index) for k, v in priors.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        check = Q.check_integrals(kernel, {}, sub, p, nodes=NODES)
        refs = [tensor_log_marginal(kernel, {}, sub.take(np.array([j])),
                                    {k: v.take(np.array([j])) for k, v in p.items()}) for j in range(len(index))]
    print(f"\n{request.param}: galaxy, reference ln Z (nodes, change, face), ln Z at {NODES} and {NODES + 2} nodes, "
          "refined, differences from the reference")
    for j, name in enumerate(GALAXIES):
        r = refs[j]
        print(f"{name:10s} {r.log_z:12.4f} ({r.nodes}, {r.change:+.4f}, {r.face:.1f})  {check.log_marginal[j]:12.4f} "
              f"{check.log_marginal_more[j]:12.4f} {check.refined[j]:12.4f}  flagged={bool(check.flagged[j])}  "
              f"Δn={check.log_marginal[j] - r.log_z:+.4f} Δn+2={check.log_marginal_more[j] - r.log_z:+.4f} "
              f"Δrefined={check.refined[j] - r.log_z:+.4f} ({check.refined_nodes[j]:.0f} nodes, "
              f"{check.refined_change[j]:+.4f})")
    return request.param, check, refs


@pytest.mark.slow
@pytest.mark.data
def test_reference_converged_and_held_the_integrand(hard_cases):
    """The box holds the integrand (faces e⁻²⁰ below the peak); a 3-D reference (no bulge) settles within 0.01 nat.
    A 4-D one (Υ_bul too) is held to the comparison's own tolerance: UGC09133, UGC02953 and UGC11914 still move by
    0.02–0.06 nat between 110 and 140 nodes per dimension, the finest grid this machine holds (140⁴ nodes, ~3 GB)."""
    _, _, refs = hard_cases
    for name, r in zip(GALAXIES, refs):
        settled = 0.01 if len(r.dims) == 3 else TOLERANCE
        assert abs(r.change) < settled and r.face < -20, (name, r)


@pytest.mark.slow
@pytest.mark.data
def test_unflagged_integrals_are_within_a_tenth_of_a_nat(hard_cases):
    """Whatever check_integrals does not flag is right within 0.1 nat; every galaxy off by more is flagged."""
    kernel, check, refs = hard_cases
    error = check.log_marginal - np.array([r.log_z for r in refs])
    missed = [(name, round(float(e), 3)) for name, e, f in zip(GALAXIES, error, check.flagged)
              if abs(e) > TOLERANCE and not f]
    assert not missed, (kernel, missed)


@pytest.mark.slow
@pytest.mark.data
def test_refined_integrals_are_within_a_tenth_of_a_nat(hard_cases):
    """Every galaxy's best ln Z (refined where flagged) is within 0.1 nat of the reference."""
    kernel, check, refs = hard_cases
    error = check.best - np.array([r.log_z for r in refs])
    off = [(name, round(float(e), 3)) for name, e in zip(GALAXIES, error) if not abs(e) <= TOLERANCE]
    assert not off, (kernel, off)
