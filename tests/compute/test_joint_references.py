"""Each galaxy's ln Z of the ΛCDM halos with Υ, D, i marginalised (issue 62's references kept outside the engines),
against ``joint_references.json`` beside this file: NFW-ΛCDM (z_M200, z_c) and Einasto-ΛCDM (z_M200, z_c, z_alpha)
on ten SPARC galaxies under the velocity-floor likelihood at σ_int = :data:`SIGMA_INT`, each integrated together with
the galaxy's Υ_disk, (Υ_bul,) D and i by the defensive importance sampler of :mod:`joint_reference` (2·10⁶ draws).

- Slow tier: the reference method reproduces the tensor rule's ln Z of ``hard_integrals.json`` (4-D and 3-D
  nuisance integrals, MOND); ``report compare nfw-lcdm einasto-lcdm`` on the ten galaxies, with the engine ``auto``
  picks (the grid for NFW's two deviates, the sampler for Einasto's three) and with the other engine, puts every
  galaxy within :data:`TOLERANCE` of the reference and their sum within three stated errors — but one galaxy the grid
  misses on Einasto-ΛCDM at a fixed σ_int (:data:`KNOWN_MISSES`).
- Deep tier (``make test-deep``, not CI): the references recomputed equal the file's;
  ``SIGCUBE_WRITE_REFERENCES=1 make test-deep PYTEST_ARGS="-k joint_references"`` rewrites it.
"""

from __future__ import annotations

import json
import math
import os
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from sigcube.model.kernels.registry import get_kernel
from sigcube.stats.intrinsic_scatter import Scatter
from sigcube.stats.likelihood import GaussianLikelihood
from sigcube.stats.nuisance import Catalogue, NuisanceTransform, sparc_priors
from sigcube.study.reports.compare import compare_report, engine_for

sys.path.insert(0, str(Path(__file__).parent))
from joint_reference import joint_log_marginal  # noqa: E402
from tensor_reference import fingerprint  # noqa: E402

GALAXIES = ("DDO154", "NGC2403", "NGC6503", "UGC00128", "NGC2903", "NGC3109", "CamB", "ESO563-G021", "NGC2366",
            "NGC0891")
"""Easy and hard cases: ESO563-G021, NGC2366 and NGC0891 (a bulge) are among those the sampler hands to the grid
under the lead error model; NGC2903 and ESO563-G021 sit far from their catalogue distances there."""
MODELS = {"nfw-lcdm": ("nfw_lcdm", ("z_M200", "z_c")), "einasto-lcdm": ("einasto_lcdm", ("z_M200", "z_c", "z_alpha"))}
SIGMA_INT = 4.0
"""σ_int [km/s] of the references' velocity-floor likelihood: a value inside the posteriors of SPARC's fits."""
TOLERANCE = 0.05
"""How far [nat] an engine's ln Z of one galaxy may sit from the reference (issue 62: 0.01–0.05 nat)."""
KNOWN_MISSES = {("grid", "einasto-lcdm"): ("ESO563-G021",)}
"""Galaxies an engine misses by more than :data:`TOLERANCE`, kept in view (the test fails once one is mended, so that
it leaves this list): the grid engine at a fixed σ_int begins each grid point's nuisance search from its predecessor's
mode, and on ESO563-G021's Einasto-ΛCDM grid that chain holds a whole region on a lesser mode — 2.9 nat short of the
reference; searches restarted at every point of its final grid find the reference's value within 0.005 nat, at five
times the cost."""
REFERENCES = Path(__file__).with_name("joint_references.json")
SAME = 3.0
"""How many of its stated errors a recomputed reference may move (the draws are seeded, BLAS is not)."""
pytestmark = [pytest.mark.slow, pytest.mark.data]


def _case(sparc_cube, sparc_points, kernel_name: str, own: tuple[str, ...], galaxies: tuple[str, ...]):
    kernel = get_kernel(kernel_name)
    catalogue = Catalogue.from_cube(sparc_cube, sparc_points)
    transform = NuisanceTransform(sparc_points, catalogue, kernel.required_inputs(kernel.resolve(dict.fromkeys(own,
                                                                                                               0.0))))
    priors = sparc_priors(catalogue)
    index = np.array([int(np.flatnonzero(transform.galaxy == name)[0]) for name in galaxies])
    return kernel, transform.take(index), {k: v.take(index) for k, v in priors.items()}


def _reference(kernel, own, sub, priors, j: int, sigma_int: float):
    one = np.array([j])
    return joint_log_marginal(kernel, {}, own, sub.take(one), {k: v.take(one) for k, v in priors.items()},
                              GaussianLikelihood(sigma_int))


@pytest.fixture(scope="module")
def committed(sparc_cube, sparc_points):
    """The file's references, checked to be of the same galaxies and the same data."""
    doc = json.loads(REFERENCES.read_text())
    assert doc["sigma_int"] == SIGMA_INT
    for name, (kernel_name, own) in MODELS.items():
        _, sub, _ = _case(sparc_cube, sparc_points, kernel_name, own, GALAXIES)
        refs = doc["models"][name]
        assert [r["galaxy"] for r in refs] == list(GALAXIES)
        assert [r["data"] for r in refs] == fingerprint(sub), f"{REFERENCES.name} is of other data: recompute it"
    return doc["models"]


def test_the_reference_method_reproduces_the_tensor_rule(sparc_cube, sparc_points):
    """On nuisance-only integrals with a tensor-product reference (MOND at its defaults, σ_int = 0): a curved 3-D
    posterior (UGC00128's), a plain one (CamB) and a 4-D one with a bulge whose tensor reference settled (UGC11914),
    within three of the method's stated errors plus 0.005 nat."""
    tensor = {r["galaxy"]: r for r in
              json.loads(Path(__file__).with_name("hard_integrals.json").read_text())["kernels"]["mond"]}
    galaxies = ("UGC00128", "CamB", "UGC11914")
    kernel, sub, priors = _case(sparc_cube, sparc_points, "mond", (), galaxies)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        found = [_reference(kernel, (), sub, priors, j, 0.0) for j in range(len(galaxies))]
    off = [(g, round(r.log_z - tensor[g]["log_z"], 4), round(r.error, 4)) for g, r in zip(galaxies, found)
           if not abs(r.log_z - tensor[g]["log_z"]) <= 3 * r.error + 0.005]
    assert not off, off


def test_the_references_are_sure(committed):
    """Every reference's stated error is under 0.02 nat, from enough effective draws to mean it."""
    for name, refs in committed.items():
        for r in refs:
            assert r["error"] < 0.02 and r["ess"] > 1000, (name, r)


@pytest.fixture(scope="module", params=["auto", "other"])
def report(request, sparc_cube, sparc_points):
    """``report compare nfw-lcdm einasto-lcdm --sigma-int 4`` on the ten galaxies, each model on the engine ``auto``
    picks or on the other one."""
    scatter = Scatter.parse(str(SIGMA_INT), "velocity_floor")
    cube = sparc_cube.sel(galaxy=list(GALAXIES))
    rows = {}
    for name in MODELS:
        picked = engine_for(name, True, scatter, "auto")
        engine = picked if request.param == "auto" else {"grid": "sampler", "sampler": "grid"}[picked]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            out = compare_report(cube, [name], scatter=scatter, engine=engine)
        row = out["runs"]["nuisance"][name]
        assert row["engine"] == engine
        rows[name] = row
    return request.param, rows


def test_report_compare_holds_the_references(report, committed):
    """Each galaxy within :data:`TOLERANCE` nat of the reference (but the :data:`KNOWN_MISSES`, still missed); the sum
    over those galaxies within three of its stated errors (the galaxies' 1σ errors and the references' own, in
    quadrature)."""
    which, rows = report
    for name, refs in committed.items():
        row = rows[name]
        found = dict(zip(row["best_per_galaxy"]["galaxy"], row["galaxy_log_evidence"]))
        errors = dict(zip(row["best_per_galaxy"]["galaxy"], row["galaxy_log_evidence_error"]))
        missed = KNOWN_MISSES.get((row["engine"], name), ())
        held = [r for r in refs if r["galaxy"] not in missed]
        assert all(found[g] - next(r["log_z"] for r in refs if r["galaxy"] == g) < -TOLERANCE for g in missed), \
            f"{row['engine']} now holds {name}'s {missed}: take them out of KNOWN_MISSES"
        diff = np.array([found[r["galaxy"]] - r["log_z"] for r in held])
        off = [(r["galaxy"], round(float(d), 3), round(float(errors[r["galaxy"]]), 3))
               for r, d in zip(held, diff) if not abs(d) <= TOLERANCE]
        assert not off, (which, name, row["engine"], off)
        stated = math.sqrt(sum(errors[r["galaxy"]] ** 2 + r["error"] ** 2 for r in held))
        assert abs(diff.sum()) <= 3 * stated, (which, name, row["engine"], float(diff.sum()), stated)


@pytest.mark.deep
def test_the_references_are_current(sparc_cube, sparc_points):
    """The references recomputed equal the file's within :data:`SAME` of their errors (``SIGCUBE_WRITE_REFERENCES=1``
    rewrites the file)."""
    fresh = {}
    for name, (kernel_name, own) in MODELS.items():
        kernel, sub, priors = _case(sparc_cube, sparc_points, kernel_name, own, GALAXIES)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            found = [_reference(kernel, own, sub, priors, j, SIGMA_INT) for j in range(len(GALAXIES))]
        fresh[name] = [{"galaxy": g, "log_z": r.log_z, "error": r.error, "ess": r.ess, "draws": r.draws,
                        "modes": r.modes, "dims": list(r.dims), "data": d}
                       for g, r, d in zip(GALAXIES, found, fingerprint(sub))]
    if os.environ.get("SIGCUBE_WRITE_REFERENCES") == "1":
        REFERENCES.write_text(json.dumps({
            "what": "ln Z [nat] of each galaxy over its ΛCDM halo deviates (N(0, 1) truncated to ±5) and Υ, D, i "
                    "(Li+2018 priors), velocity-floor likelihood at sigma_int [km/s], the SHMR and c–M relations at "
                    "the kernels' defaults, by the defensive importance sampler of tests/compute/joint_reference.py",
            "sigma_int": SIGMA_INT, "models": fresh}, indent=1, ensure_ascii=False) + "\n")
    stored = json.loads(REFERENCES.read_text())["models"]
    moved = [(name, f["galaxy"], f["log_z"], s["log_z"]) for name in MODELS
             for f, s in zip(fresh[name], stored[name])
             if f["data"] != s["data"] or abs(f["log_z"] - s["log_z"]) > SAME * math.hypot(f["error"], s["error"])]
    assert not moved, f"{REFERENCES.name} is stale: {moved}"
