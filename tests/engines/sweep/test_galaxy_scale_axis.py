"""τ_gal, the scatter of each galaxy's velocity scale, as a grid axis of a nuisance sweep (``[grid.tau_gal]``): the
result cube's τ_gal dimension holds the quadrature at each value, the kernel's metrics do not move along it, and the
report states the likelihood with it."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from sigcube.compute import quadrature
from sigcube.engines.sweep import open_result, parse_spec, run_sweep
from sigcube.interfaces.sweep_report import sweep_report
from sigcube.model.kernels.registry import get_kernel
from sigcube.stats.likelihood import GaussianLikelihood
from sigcube.stats.nuisance import Catalogue, NuisanceTransform, sparc_priors

SPEC = """
name = "tau-test"
kernel = "mond"
[sample]
quality = [1]
[grid.a0]
values = [1.2e-10]
[grid.tau_gal]
values = [0.0, 0.06]
[nuisance]
nodes = 3
error_model = "lognormal"
sigma_int = 0.05
"""


@pytest.fixture(scope="module")
def swept(sparc_store, tmp_path_factory):
    out = tmp_path_factory.mktemp("tau") / "t.zarr"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        run_sweep(parse_spec(SPEC), out, cube=sparc_store, synchronous=True)
    return open_result(out).load()


def test_the_cube_has_a_tau_gal_dimension_with_the_quadrature_at_each_value(swept, sparc_cube):
    from sigcube.io.datasets import pack

    ds = swept
    assert ds["loglike"].dims == ("a0", "tau_gal", "galaxy") and np.isfinite(ds["loglike"]).all()
    assert ds["tau_gal"].attrs["units"] == "ln V" and ds["tau_gal"].attrs["error_model"] == "lognormal"
    spec = parse_spec(SPEC)
    points = pack(sparc_cube, spec.cuts)
    kernel = get_kernel("mond")
    catalogue = Catalogue.from_cube(sparc_cube, points)
    transform = NuisanceTransform(points, catalogue, kernel.required_inputs(kernel.resolve({})))
    for tau in (0.0, 0.06):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            direct = quadrature.marginalise(kernel, {"a0": np.array([[1.2e-10]])}, transform, sparc_priors(catalogue),
                                            GaussianLikelihood(0.05, "lognormal", tau_gal=tau), nodes=3).log_marginal[0]
        diff = np.abs(ds["loglike"].sel(a0=1.2e-10, tau_gal=tau).values - direct)
        assert np.median(diff) < 1e-4 and diff.max() < 0.5, (tau, diff.max())
    for name in ("rms", "chi2", "mean_rms"):
        np.testing.assert_array_equal(ds[name].isel(tau_gal=0).values, ds[name].isel(tau_gal=1).values)
    model = "\n".join(sweep_report(ds)["posterior"]["model"])
    assert "τ_gal is a grid axis (tau_gal: 2 values, 0–0.06 ln V)" in model and "ln s_g ~ N(0, τ_gal²)" in model
