"""The engine's nuisance mode: a [nuisance] spec table, per-object loglike in the result cube (the same whatever
the object chunking, and equal to the quadrature called directly), the posterior, and one-line errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from sigcube.compute import quadrature
from sigcube.engines.sweep import open_result, parse_spec, run_sweep
from sigcube.engines.sweep.nuisance import sweep_posterior
from sigcube.errors import SigcubeError
from sigcube.io.stores import StoreDamagedError
from sigcube.model.kernels.registry import get_kernel
from sigcube.stats.nuisance import Catalogue, NuisanceTransform, sparc_priors

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
                                        sparc_priors(catalogue), nodes=3, restarts=True).log_marginal[0]
    # the engine warm-starts along its block from modes found with restarts; the integral must not depend on where
    # the mode search began (a cold start without restarts leaves one galaxy 0.2 nat low in a local mode)
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
    from sigcube.interfaces.sweep_report import sweep_report

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

    from sigcube.interfaces.sweep_report import render, sweep_report

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

    from sigcube.interfaces.sweep_report import render, sweep_report

    result = sweep_report(marginalised)
    k = result["posterior"]["axes"]["k"]
    assert k["on_edge"]
    console = Console(record=True, width=200)
    render(result, console)
    assert "⚠ k:" in console.export_text()


def test_explorer_shows_the_posterior(marginalised, sparc_cube):
    from sigcube.interfaces.explore.page import sections

    found = [s for s in sections(marginalised, sparc_cube) if s.title.startswith("Posterior")]
    assert len(found) == 1
    (layout,) = found[0].views
    assert len(layout) == 3  # A0 and k marginals, the A0 × k map
    assert "marginalise" in found[0].note and "equal mass per grid point" in found[0].note


POSTERIOR_ARRAYS = ("loglike_total", "posterior", "log_evidence", "marginal_A0", "marginal_k", "marginal_A0_k")


def test_the_stored_posterior_is_the_normalised_sum_of_the_stored_loglike(marginalised):
    ds = marginalised
    total = ds["loglike"].values.sum(axis=-1)  # objects last
    np.testing.assert_allclose(ds["loglike_total"].values, total, rtol=1e-12)
    # equal grid prior: mass ∝ exp(Σ loglike − max), normalised; done here in long double, independently
    t = total.astype(np.longdouble)
    w = np.exp(t - t.max())
    expected = (w / w.sum()).astype(float)
    post = ds["posterior"].values
    assert post.shape == (3, 2) and post.sum() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(post, expected, rtol=1e-9, atol=1e-300)
    assert float(ds["log_evidence"]) == pytest.approx(float(t.max() + np.log(w.sum()) - np.log(6)), abs=1e-9)
    np.testing.assert_allclose(ds["marginal_A0"].values, post.sum(axis=1), rtol=1e-12)
    np.testing.assert_allclose(ds["marginal_k"].values, post.sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(ds["marginal_A0_k"].values, post, rtol=1e-12)
    assert ds["marginal_A0_k"].dims == ("A0", "k")
    for name in POSTERIOR_ARRAYS:
        assert "equal mass per grid point" in ds[name].attrs["global_prior"]
        assert "log10 Υ_disk ~ N(log10 0.5, 0.1)" in ds[name].attrs["likelihood"]


def test_readers_use_the_stored_arrays(marginalised):
    """Report and explorer read ``posterior`` and the marginals as stored (a changed array shows through)."""
    from sigcube.interfaces.sweep_report import sweep_report

    ds = marginalised.copy(deep=True)
    ds["marginal_k"][:] = [0.25, 0.75]
    ds["loglike_total"][:] = 0.0
    ds["loglike_total"][2, 1] = 1.0
    post = sweep_posterior(ds)
    np.testing.assert_array_equal(post.marginal("k").mass, [0.25, 0.75])
    np.testing.assert_array_equal(post.mass, marginalised["posterior"].values)
    report = sweep_report(ds)["posterior"]
    assert report["axes"]["k"]["mean"] == pytest.approx(0.25 * 0.1 + 0.75 * 0.2)
    assert report["at_max"] == {"A0": 1.5, "k": 0.2} and report["loglike_total_max"] == 1.0
    # a cube without them (written before they were stored) is derived on read, to the same posterior
    old = marginalised.drop_vars(list(POSTERIOR_ARRAYS))
    np.testing.assert_allclose(sweep_posterior(old).mass, marginalised["posterior"].values, rtol=1e-9, atol=1e-300)


def test_an_interrupted_then_resumed_sweep_stores_identical_posterior_arrays(marginalised, sparc_store, tmp_path,
                                                                           monkeypatch):
    from sigcube.engines.sweep import engine

    out = tmp_path / "r.zarr"
    real = engine.run_task

    def dies_on_block_1(job, b, c):
        if b == 1:
            raise RuntimeError("killed")
        return real(job, b, c)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        monkeypatch.setattr(engine, "run_task", dies_on_block_1)
        with pytest.raises(RuntimeError, match="killed"):
            run_sweep(_spec(), out, cube=sparc_store, synchronous=True)
        partial = open_result(out, allow_incomplete=True)
        assert int(partial["done"].sum()) == 2 and np.isnan(partial["posterior"].values).all()
        monkeypatch.setattr(engine, "run_task", real)
        resumed = run_sweep(_spec(), out, cube=sparc_store, synchronous=True)
    assert resumed.resumed == 1 and resumed.computed == 2  # three blocks of one A0 row
    ds = open_result(out).load()
    for name in POSTERIOR_ARRAYS:
        np.testing.assert_array_equal(ds[name].values, marginalised[name].values, err_msg=name)
    # the stored posterior is checksummed: a flipped byte is refused on open, and a rerun writes it again
    chunk = out / "posterior" / "c" / "0" / "0"
    data = bytearray(chunk.read_bytes())
    data[len(data) // 2] ^= 0xFF
    chunk.write_bytes(bytes(data))
    with pytest.raises(StoreDamagedError, match="posterior"):
        open_result(out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        run_sweep(_spec(), out, cube=sparc_store, synchronous=True)
    np.testing.assert_array_equal(open_result(out)["posterior"].values, marginalised["posterior"].values)
