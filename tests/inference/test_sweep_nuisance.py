"""The engine's nuisance mode: a [nuisance] spec table, per-object loglike in the result cube (the same whatever
the object chunking, and equal to the quadrature called directly), the posterior, and one-line errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from sigcube.errors import SigcubeError
from sigcube.inference import quadrature
from sigcube.inference.nuisance import Catalogue, NuisanceTransform, sparc_priors
from sigcube.kernels.registry import get_kernel
from sigcube.sweeps import open_result, parse_spec, run_sweep
from sigcube.sweeps.nuisance import sweep_posterior

SPEC = """
name = "nuisance-test"
kernel = "sigma"
preset = "paper"
block_size = 3
{extra}
[grid.A0]
values = [0.9, 1.2, 1.5]
[grid.k]
values = [0.1, 0.2]
[nuisance]
mode = "{mode}"
nodes = 3
"""


def _spec(mode: str = "marginalise", extra: str = ""):
    return parse_spec(SPEC.format(mode=mode, extra=extra))


@pytest.fixture(scope="module")
def marginalised(sparc_store, tmp_path_factory):
    out = tmp_path_factory.mktemp("nuisance") / "m.zarr"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        run_sweep(_spec(), out, cube=sparc_store, synchronous=True)
    return open_result(out).load()


def test_loglike_equals_the_quadrature_and_the_posterior_is_normalised(marginalised, sparc_cube, sparc_points):
    ds = marginalised
    assert ds["loglike"].shape == (3, 2, 171) and np.isfinite(ds["loglike"]).all()
    kernel = get_kernel("sigma")
    catalogue = Catalogue.from_cube(sparc_cube, sparc_points)
    transform = NuisanceTransform(sparc_points, catalogue, kernel.required_inputs(kernel.resolve({})))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        direct = quadrature.marginalise(kernel, {"A0": np.array([[1.2]]), "k": np.array([[0.2]])}, transform,
                                        sparc_priors(catalogue), nodes=3).log_marginal[0]
    # the engine warm-starts along its block; the integral must not depend on where the mode search began
    np.testing.assert_allclose(ds["loglike"].sel(A0=1.2, k=0.2).values, direct, atol=1e-3)
    post = sweep_posterior(ds)
    assert post.mass.sum() == pytest.approx(1.0)
    assert "equal mass per grid point" in post.prior
    assert "log10 Υ_disk ~ N(log10 0.5, 0.1)" in ds["loglike"].attrs["nuisance"]


def test_object_chunking_does_not_change_loglike(marginalised, sparc_store, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        run_sweep(_spec(extra="object_chunk = 50"), tmp_path / "c.zarr", cube=sparc_store, synchronous=True)
    chunked = open_result(tmp_path / "c.zarr").load()
    # equal to the mode search's tolerance (galaxies grouped differently take different iteration paths)
    np.testing.assert_allclose(chunked["loglike"].values, marginalised["loglike"].values, atol=1e-3)


def test_profile_stores_the_nuisance_values(sparc_store, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        run_sweep(_spec("profile"), tmp_path / "p.zarr", cube=sparc_store, synchronous=True)
    ds = open_result(tmp_path / "p.zarr").load()
    d = ds["nuisance_distance"]
    assert d.shape == (3, 2, 171) and bool((d > 0).all())
    assert bool(((ds["nuisance_inclination"] > 0) & (ds["nuisance_inclination"] <= 90)).all())
    from sigcube.reports.sweep import sweep_report

    at_max = sweep_report(ds)["posterior"]["profile_at_max"]
    assert set(at_max) == {"upsilon_disk", "upsilon_bul", "distance", "inclination"}
    # Υ_disk profiled under log10 Υ ~ N(log10 0.5, 0.1): the galaxies' values sit around the prior's median
    assert 0.3 < np.median(at_max["upsilon_disk"]) < 0.8


@pytest.mark.parametrize("line, match", [
    ('mode = "sample"', r"nuisance\.mode: input should be 'marginalise' or 'profile'"),
    ("nodes = 0", r"nuisance\.nodes: must be ≥ 1"),
    ("sigma_int = -1", r"nuisance\.sigma_int: must be ≥ 0"),
    ('priors = {mass = {dist = "normal", loc = 0, scale = 1}}', "unknown nuisance parameter 'mass'"),
    ('priors = {distance = {dist = "normal", loc = "velocity", scale = 1}}', "'velocity' names no catalogue column"),
    ("size = 3", r"nuisance.*size"),
])
def test_bad_nuisance_tables_are_one_line_errors(line, match):
    text = SPEC.format(mode="marginalise", extra="").replace('mode = "marginalise"\n', "").replace("nodes = 3\n", line + "\n")
    with pytest.raises(SigcubeError, match=match) as info:
        parse_spec(text)
    assert "\n" not in str(info.value)


def test_fingerprint_includes_the_nuisance_settings():
    assert _spec().fingerprint() != _spec("profile").fingerprint()
    plain = parse_spec(SPEC.format(mode="marginalise", extra="").split("[nuisance]")[0])
    assert plain.nuisance is None and "nuisance" not in plain.canonical()


def test_report_sweep_prints_the_posterior_and_every_assumption(marginalised):
    from rich.console import Console

    from sigcube.reports.sweep import render, sweep_report

    result = sweep_report(marginalised)
    post = result["posterior"]
    a0 = post["axes"]["A0"]
    assert a0["ci95"][0] <= a0["ci68"][0] <= a0["mean"] <= a0["ci68"][1] <= a0["ci95"][1]
    console = Console(record=True, width=200)
    render(result, console)
    text = console.export_text()
    for needed in ("posterior over the grid", "log10 Υ_disk ~ N(log10 0.5, 0.1)", "i [deg] ~ N(inclination",
                   "σ_int = 0", "global prior: equal mass per grid point", "dof ≤", "3 nodes per dimension"):
        assert needed in text, needed


def test_edge_warning_when_the_mass_sits_on_the_grid_edge(marginalised):
    """A0 = 0.9, 1.2, 1.5 with k = 0.1, 0.2: the SPARC likelihood is so sharp that all mass sits in one cell."""
    from rich.console import Console

    from sigcube.reports.sweep import render, sweep_report

    result = sweep_report(marginalised)
    k = result["posterior"]["axes"]["k"]
    assert k["on_edge"]
    console = Console(record=True, width=200)
    render(result, console)
    assert "⚠ k:" in console.export_text()


def test_explorer_shows_the_posterior(marginalised, sparc_cube):
    from sigcube.explore.page import sections

    found = [s for s in sections(marginalised, sparc_cube) if s.title.startswith("Posterior")]
    assert len(found) == 1
    (layout,) = found[0].views
    assert len(layout) == 3  # A0 and k marginals, the A0 × k map
    assert "marginalise" in found[0].note and "equal mass per grid point" in found[0].note
