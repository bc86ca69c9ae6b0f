"""ΛCDM halos validated before use: synthetic SPARC-like samples on real galaxies' baryons (`sigcube synth --baryons`:
Υ, D, i and the halos' deviates drawn from their priors, noise at the quoted errors), analysed as the comparison
analyses SPARC. The per-galaxy posteriors of the halo deviates cover the truth at their nominal rate, and the evidence
prefers the model that made the sample — against MOND, and, for each ΛCDM-prior profile (NFW, coreNFW, DC14, Einasto),
against the rest of the family; each profile's halo masses and concentrations (Einasto's α too) from
:func:`sigcube.stats.halo_posteriors.halo_posteriors`, with M★ at the nuisance mode, cover their truths. Slow tier
(each test a few minutes on 2 cores: 20 galaxies, errors as quoted)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from sigcube.engines.evidence import Data, ObjectEvidence, object_evidence
from sigcube.engines.halo_masses import MSTAR_AT_MODE, mode_log10_mstar
from sigcube.io.rotation_curves import pack_sparc
from sigcube.io.synth_sparc import draw_on_baryons
from sigcube.model.kernels import get_kernel
from sigcube.stats.halo_posteriors import halo_posteriors
from sigcube.stats.nuisance import Catalogue
from sigcube.study.reports.compare import compare_model
from sigcube.study.reports.compare_models import MODELS, axes, fixed_params

pytestmark = pytest.mark.slow

N_GALAXIES = 40


def _sample(sparc_cube, kernel: str, seed: int, n: int = N_GALAXIES):
    rng = np.random.default_rng(seed)
    names = [str(g) for g in sparc_cube["galaxy"].values]
    chosen = sorted(rng.choice(len(names), size=n, replace=False))
    cube = draw_on_baryons(sparc_cube.isel(galaxy=chosen), kernel, seed=seed)
    points = pack_sparc(cube)
    return cube, points, Catalogue.from_cube(cube, points)


@pytest.fixture(scope="module")
def lcdm_sample(sparc_cube):
    return _sample(sparc_cube, "nfw_lcdm", 11)


@pytest.fixture(scope="module")
def mond_sample(sparc_cube):
    return _sample(sparc_cube, "mond", 12)


def test_per_galaxy_halo_posteriors_cover_the_truth(lcdm_sample):
    cube, points, catalogue = lcdm_sample
    model = MODELS["nfw-lcdm"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ev = object_evidence(get_kernel(model.kernel), {}, axes(model.per_object), Data(points, catalogue))
    rows = [list(cube["galaxy"].values).index(g) for g in points.galaxy]
    inside = {0.68: [], 0.95: []}
    for integral, row in zip(ev.integrals, rows):
        summary = integral.summary()
        for name in ("z_M200", "z_c"):
            truth = float(cube[f"true_{name}"].values[row])
            for level, key in ((0.68, "ci68"), (0.95, "ci95")):
                lo, hi = summary[name][key]
                inside[level].append(lo <= truth <= hi)
    n = len(inside[0.68])
    # 2 × 40 intervals: the binomial sd of a 68 % coverage is 5 %; hold it to ± 3 sd, and 95 % above 85 %
    assert abs(np.mean(inside[0.68]) - 0.68) <= 3 * np.sqrt(0.68 * 0.32 / n), np.mean(inside[0.68])
    assert np.mean(inside[0.95]) >= 0.85, np.mean(inside[0.95])


def test_the_comparisons_halo_masses_cover_the_truth_with_sigma_int_marginalised(lcdm_sample):
    """`report compare`'s row of a ΛCDM halo carries each galaxy's M200 and c200 quantiles (as an xarray Dataset's
    dict) at the best σ_int of a velocity-floor grid, and its best grid point per galaxy; on a sample drawn from
    NFW-ΛCDM with errors as quoted, the 68 % intervals of log10 M200 and log10 c200 hold the truths at their rate."""
    import xarray as xr

    from sigcube.stats.intrinsic_scatter import Scatter

    cube, points, catalogue = lcdm_sample
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        row = compare_model("nfw-lcdm", points, catalogue, True, scatter=Scatter.parse("0:8:5", "velocity_floor"))
    assert row["sigma_int"]["mean"] < 3.0  # no scatter was drawn
    ds = xr.Dataset.from_dict(row["halos"])
    assert list(ds["galaxy"].values) == list(points.galaxy) == row["best_per_galaxy"]["galaxy"]
    assert {"z_M200", "z_c"} <= set(row["best_per_galaxy"])
    _assert_masses_cover_the_truth(ds, cube, points)


def _assert_masses_cover_the_truth(ds, cube, points) -> None:
    """The 68 % intervals of log10 M200 and log10 c200 of a report's halo posteriors ``ds`` (quantiles in order) hold
    the sample's truths at their rate (± 3 binomial sd)."""
    rows = [list(cube["galaxy"].values).index(g) for g in points.galaxy]
    inside = []
    for name, truth in (("log10_M200", "true_log10_M200"), ("c200", "true_c")):
        q, t = ds[name].values, cube[truth].values[rows]
        if name == "c200":
            q, t = np.log10(q), np.log10(t)
        assert np.all(np.diff(q, axis=1) >= 0)
        inside += list((q[:, 1] <= t) & (t <= q[:, 3]))
    assert abs(np.mean(inside) - 0.68) <= 3 * np.sqrt(0.68 * 0.32 / len(inside)), np.mean(inside)


def test_halo_masses_under_a_held_tau_gal_cover_the_truth(sparc_cube):
    """A sample drawn from NFW-ΛCDM with a 4 km/s floor and each galaxy's velocity scale of τ_gal = 0.3, compared with
    τ_gal held at the truth (σ_int on a grid): the per-galaxy integrals take τ_gal (ln Z moves from the run without
    it by more than both errors), σ_int's 95 % interval holds the truth, and the 68 % intervals of log10 M200 and
    log10 c200 made under τ_gal hold the truths at their rate."""
    import xarray as xr

    from sigcube.stats.intrinsic_scatter import Scatter
    from sigcube.stats.likelihood import GaussianLikelihood

    rng = np.random.default_rng(31)
    chosen = sorted(rng.choice(sparc_cube.sizes["galaxy"], size=24, replace=False))
    cube = draw_on_baryons(sparc_cube.isel(galaxy=chosen), "nfw_lcdm", seed=31,
                           likelihood=GaussianLikelihood(4.0, tau_gal=0.3))
    points = pack_sparc(cube)
    catalogue = Catalogue.from_cube(cube, points)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        rows = {held: compare_model("nfw-lcdm", points, catalogue, True, scatter=Scatter.parse("0:10:6",
                                                                                             tau_gal=held))
                for held in ("0.3", None)}
    row = rows["0.3"]
    assert "τ_gal" in row["_logo"].prior and row["k"] == rows[None]["k"]
    assert (abs(row["log_evidence"] - rows[None]["log_evidence"])
            > row["log_evidence_error"] + rows[None]["log_evidence_error"])
    assert row["sigma_int"]["ci95"][0] < 4.0 < row["sigma_int"]["ci95"][1]
    _assert_masses_cover_the_truth(xr.Dataset.from_dict(row["halos"]), cube, points)


@pytest.mark.parametrize("which, better", [("lcdm", "nfw-lcdm"), ("mond", "mond")])
def test_the_evidence_and_elpd_prefer_the_model_that_made_the_sample(request, which, better):
    cube, points, catalogue = request.getfixturevalue(f"{which}_sample")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        rows = {name: compare_model(name, points, catalogue, True) for name in ("nfw-lcdm", "mond")}
    ln_b = rows["nfw-lcdm"]["log_evidence"] - rows["mond"]["log_evidence"]
    error = rows["nfw-lcdm"]["log_evidence_error"] + rows["mond"]["log_evidence_error"]
    assert (ln_b > 3 * error) if better == "nfw-lcdm" else (ln_b < -3 * error), (ln_b, error)
    elpd = rows["nfw-lcdm"]["elpd_logo"] - rows["mond"]["elpd_logo"]
    assert (elpd > 0) if better == "nfw-lcdm" else (elpd < 0), elpd


FAMILY = ("nfw", "corenfw", "dc14", "einasto")
"""The ΛCDM-prior profiles, each of which makes a sample that the others are tested on."""
N_FAMILY = 20
SEEDS = {"nfw": 21, "corenfw": 22, "dc14": 23, "einasto": 24}


def _evidence(points, catalogue, model: str) -> ObjectEvidence:
    """``model``-lcdm's per-galaxy evidence (errors as quoted)."""
    table = MODELS[f"{model}-lcdm"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return object_evidence(get_kernel(table.kernel), fixed_params(table), axes(table.per_object),
                               Data(points, catalogue))


def _coverage(profile: str, cube, points, catalogue, ev: ObjectEvidence) -> dict[float, list[bool]]:
    """For log10 M200 and log10 c (and Einasto's log10 α): whether each galaxy's 68 and 95 % intervals hold the truth;
    asserts that the median misses the truth by less than 1.5 times the 68 % half-width (0.67 for a Gaussian)."""
    table = MODELS[f"{profile}-lcdm"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mstar = mode_log10_mstar(get_kernel(table.kernel), fixed_params(table), ev.integrals, Data(points, catalogue))
    r_d = points.inputs["R_d_table"][points.offsets[:-1]]
    ds = halo_posteriors(table.kernel, ev.integrals, list(points.galaxy), mstar, r_d=r_d, fixed=fixed_params(table),
                         mstar_source=MSTAR_AT_MODE)
    rows = [list(cube["galaxy"].values).index(g) for g in points.galaxy]
    inside: dict[float, list[bool]] = {0.68: [], 0.95: []}
    for name, truth in (("log10_M200", "true_log10_M200"), ("c200", "true_c"), ("alpha", "true_alpha")):
        if name not in ds:
            continue
        q = ds[name].values
        t = cube[truth].values[rows]
        if name != "log10_M200":
            q, t = np.log10(q), np.log10(t)
        inside[0.68] += list((q[:, 1] <= t) & (t <= q[:, 3]))
        inside[0.95] += list((q[:, 0] <= t) & (t <= q[:, 4]))
        assert np.median(np.abs(q[:, 2] - t)) < 1.5 * np.median((q[:, 3] - q[:, 1]) / 2), name
    return inside


@pytest.mark.parametrize("profile", FAMILY)
def test_each_profile_is_recovered_and_picked_among_the_family(sparc_cube, profile):
    """20 galaxies drawn from ``profile`` under its ΛCDM priors. Its halo masses and concentrations (Einasto's α too):
    the 68 % intervals hold the truth at 0.68 within 3 binomial sd, the 95 % ones at least 0.85 of the time. Its summed
    ln Z exceeds every other ΛCDM-prior profile's by more than three times the two models' numerical errors."""
    cube, points, catalogue = _sample(sparc_cube, f"{profile}_lcdm", SEEDS[profile], N_FAMILY)
    ev = {model: _evidence(points, catalogue, model) for model in FAMILY}
    inside = _coverage(profile, cube, points, catalogue, ev[profile])
    n = len(inside[0.68])
    assert abs(np.mean(inside[0.68]) - 0.68) <= 3 * np.sqrt(0.68 * 0.32 / n), np.mean(inside[0.68])
    assert np.mean(inside[0.95]) >= 0.85, np.mean(inside[0.95])
    for model in FAMILY:
        if model != profile:
            gap = ev[profile].total - ev[model].total
            assert gap > 3 * (ev[profile].error + ev[model].error), (model, gap, ev[profile].error, ev[model].error)
