"""σ_int as a grid axis of a nuisance sweep (``[grid.sigma_int]``): spec checks, the result cube's σ_int dimension,
per-object ln L equal to the quadrature at each σ_int, kernel metrics spread along it, and `report sweep`'s joint
posterior with the error model stated."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from rich.console import Console

from sigcube.compute import quadrature
from sigcube.engines.sweep import SpecError, load_spec, open_result, parse_spec, run_sweep
from sigcube.interfaces.sweep_report import render, sweep_report
from sigcube.model.kernels.registry import get_kernel
from sigcube.stats.likelihood import GaussianLikelihood
from sigcube.stats.nuisance import Catalogue, NuisanceTransform, sparc_priors

SPEC = """
name = "scatter-test"
kernel = "sigma"
preset = "paper"
{extra}
[grid.A0]
values = [0.8, 0.9]
[grid.sigma_int]
values = [0.0, 5.0]
{nuisance}
"""
NUISANCE = '[nuisance]\nnodes = 3\n'


@pytest.mark.parametrize("extra, nuisance, message", [
    ("", "", r"\[grid\.sigma_int\]: σ_int is the intrinsic scatter of the likelihood a nuisance sweep marginalises; "
             r"a sweep without a \[nuisance\] table has no likelihood"),
    ("", NUISANCE + "sigma_int = 3\n", r"σ_int is also given in \[nuisance\]\.sigma_int = 3; give it in one place"),
    ("", NUISANCE + 'error_model = "lognormal_gobs"\n', None),
    ("", NUISANCE + 'error_model = "log"\n', r"nuisance\.error_model: input should be 'velocity_floor', "
                                               r"'lognormal_first_order', 'lognormal' or 'lognormal_gobs'"),
])
def test_spec_checks(extra, nuisance, message):
    text = SPEC.format(extra=extra, nuisance=nuisance)
    if message is None:
        spec = parse_spec(text)
        assert spec.is_scatter("sigma_int") and spec.nuisance.sigma_int_grid == (0.0, 5.0)
        return
    with pytest.raises(SpecError, match=message) as info:
        parse_spec(text)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("axis, message", [
    ("values = [-1.0, 2.0]", r"σ_int must be ≥ 0 km / s"),
    ('values = ["a", "b"]', r"σ_int takes numbers \[km / s\], not switch values"),
    ("values = [2.0, 2.0]", r"repeats 2\.0; each value may appear once"),
])
def test_bad_sigma_int_axes(axis, message):
    text = SPEC.format(extra="", nuisance=NUISANCE).replace("values = [0.0, 5.0]", axis)
    with pytest.raises(SpecError, match=message):
        parse_spec(text)


def test_sigma_int_units():
    spec = parse_spec(SPEC.format(extra="", nuisance=NUISANCE).replace("values = [0.0, 5.0]",
                                                                        'values = [0.0, 5000.0]\nunit = "m/s"'))
    assert spec.nuisance.sigma_int_grid == (0.0, 5.0)
    dex = SPEC.format(extra="", nuisance=NUISANCE + 'error_model = "lognormal_gobs"\n').replace(
        "values = [0.0, 5.0]", 'values = [0.0, 0.05]\nunit = "km/s"')
    with pytest.raises(SpecError, match="σ_int of error model lognormal_first_order is in dex"):
        parse_spec(dex)


FINGERPRINTS = {
    # computed by the code before σ_int could be swept (branch integ): adding the axis changes none of them
    "docs/results/specs/sigma_A0_k_nuisance_floor5.toml":
        "71c29b3e1a1b9b0da0d15eaf63f623b757410b1dcbcffb2d030af7916831ebfb",
    # the demo spec's grid reaches its limits since 2026-11-25 (its text changed, so its fingerprint did)
    "sweeps/sigma_A0_k.toml": "ce8bc732c67922ae2ce1b159e4946f394f230e84fc079bc8c507e15a9973e606",
    "sweeps/sigma_A0_k_nuisance.toml": "88abbf1c8b279a5ea4774417c477f71290d4cde7762fdc97821532b76f489ef6",
    "sweeps/sigma_gdagger_A0.toml": "f088354427295df0715b3a56dd196ae7acc85e11e56ff58fde09621c423769c9",
    "sweeps/clusters_L_n.toml": "55963e79d4f638b0ef77450c9f3ad1fb015c7c5991df778f91ec3451e35e76e3",
}


def test_fingerprints_of_earlier_specs_are_unchanged(repo_root):
    for path, expected in FINGERPRINTS.items():
        assert load_spec(repo_root / path).fingerprint() == expected, path
    with_model = parse_spec(SPEC.format(extra="", nuisance=NUISANCE + 'error_model = "lognormal_gobs"\n'))
    assert with_model.fingerprint() != parse_spec(SPEC.format(extra="", nuisance=NUISANCE)).fingerprint()


@pytest.fixture(scope="module")
def swept_path(sparc_store, tmp_path_factory):
    out = tmp_path_factory.mktemp("scatter") / "s.zarr"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        run_sweep(parse_spec(SPEC.format(extra="", nuisance=NUISANCE)), out, cube=sparc_store, synchronous=True)
    return out


@pytest.fixture(scope="module")
def swept(swept_path):
    return open_result(swept_path).load()


def test_the_cube_has_a_sigma_int_dimension_with_the_quadrature_at_each_value(swept, sparc_cube, sparc_points):
    ds = swept
    assert ds["loglike"].dims == ("A0", "sigma_int", "galaxy") and np.isfinite(ds["loglike"]).all()
    attrs = ds["sigma_int"].attrs
    assert attrs["units"] == "km / s" and attrs["error_model"] == "velocity_floor"
    kernel = get_kernel("sigma")
    catalogue = Catalogue.from_cube(sparc_cube, sparc_points)
    transform = NuisanceTransform(sparc_points, catalogue, kernel.required_inputs(kernel.resolve({})))
    for sigma in (0.0, 5.0):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            direct = quadrature.marginalise(kernel, {"A0": np.array([[0.9]])}, transform, sparc_priors(catalogue),
                                            GaussianLikelihood(sigma), nodes=3).log_marginal[0]
        # the engine warm-starts along its walk, the direct call at the prior median: equal to the mode search's
        # tolerance, except UGC07577, whose long flat ridge makes its mode (and ln Z, by 0.3 nat) depend on the start
        diff = np.abs(ds["loglike"].sel(A0=0.9, sigma_int=sigma).values - direct)
        assert np.median(diff) < 1e-4 and diff.max() < 0.5, (sigma, diff.max())
        assert set(ds["galaxy"].values[diff > 1e-3]) <= {"UGC07577"}, ds["galaxy"].values[diff > 1e-3]
    # the kernel's metrics do not depend on the likelihood's scatter
    for name in ("rms", "chi2", "mean_rms"):
        np.testing.assert_array_equal(ds[name].isel(sigma_int=0).values, ds[name].isel(sigma_int=1).values)
    # the quoted errors alone are far from a good fit: the data prefer a 5 km/s floor by thousands of nats
    assert float(ds["loglike_total"].sel(A0=0.9, sigma_int=5.0) - ds["loglike_total"].sel(A0=0.9, sigma_int=0.0)) > 1e3


def test_report_sweep_prints_the_joint_posterior_and_the_error_model(swept):
    result = sweep_report(swept)
    post = result["posterior"]
    assert post["axes"]["sigma_int"]["units"] == "km / s"
    scatter = post["scatter"]
    assert scatter["error_model"] == "velocity_floor" and scatter["kernel_parameters"] == ["A0"]
    masses = [row["mass"] for row in scatter["rows"]]
    assert sum(masses) == pytest.approx(1.0)
    np.testing.assert_allclose(masses, swept["marginal_sigma_int"].values, rtol=1e-9)
    # the kernel metrics' best points leave σ_int out
    assert all("sigma_int" not in best for best in result["best"].values())
    console = Console(record=True, width=240)
    render(result, console)
    text = console.export_text()
    for needed in ("joint posterior: σ_int [km / s] × kernel parameters", "sigma_int [km / s]", "A0 | σ_int",
                   "error model velocity_floor", "σ_int is a grid axis", "global prior: equal mass per grid point",
                   "The normalisation is kept (it depends on i and σ_int"):
        assert needed in text, needed


def test_a_lognormal_scatter_alone_on_the_grid(sparc_store, tmp_path):
    """σ_int the only axis, under lognormal_gobs [dex] (the legacy name of lognormal_first_order): one kernel point, the
    posterior over σ_int, "first order"."""
    text = SPEC.format(extra="[sample]\nquality = [1]\n", nuisance=NUISANCE + 'error_model = "lognormal_gobs"\n')
    text = text.replace("[grid.A0]\nvalues = [0.8, 0.9]\n", "").replace("values = [0.0, 5.0]", "values = [0.0, 0.05, 0.1]")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        run_sweep(parse_spec(text), tmp_path / "l.zarr", cube=sparc_store, synchronous=True)
    ds = open_result(tmp_path / "l.zarr").load()
    assert ds["sigma_int"].attrs["units"] == "dex" and ds["loglike"].dims == ("sigma_int", "galaxy")
    assert np.isfinite(ds["posterior"]).all() and float(ds["posterior"].sum()) == pytest.approx(1.0)
    console = Console(record=True, width=240)
    render(sweep_report(ds), console)
    out = console.export_text()
    assert "lognormal_first_order" in out and "to first order: σ_V = V_pred·(ln 10/2)·σ_int" in out


def test_report_sweep_checks_the_integrals_at_the_posterior_maximum(swept, swept_path, sparc_store, sparc_cube):
    """`report sweep --check-integrals`: every galaxy's ln Z at the largest grid point with 2 more nodes; the flagged
    ones (a 3-node spec: the 3 → 5 change flags many) refined until settled, against the 3-node value stored there."""
    import json

    from typer.testing import CliRunner

    from sigcube.cli import app
    from sigcube.engines.sweep.nuisance import check_sweep_integrals
    from sigcube.errors import SigcubeError

    total = swept["loglike_total"].values
    a, s = np.unravel_index(np.argmax(total), total.shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = CliRunner().invoke(app, ["report", "sweep", str(swept_path), "--check-integrals", "--cube",
                                       str(sparc_store), "--json"])
    assert res.exit_code == 0, res.output + str(res.exception)
    check = json.loads(res.stdout)["integrals"]
    assert check["point"] == {"A0": float(swept["A0"][a]), "sigma_int": float(swept["sigma_int"][s])}
    assert check["objects"] == swept.sizes["galaxy"] and check["flagged"]
    stored = swept["loglike"].isel(A0=a, sigma_int=s).to_series()
    for row in check["flagged"]:
        assert abs(row["change"]) > check["tolerance"] or row["near_edge"], row
        assert row["settled"] == (abs(row["refined_change"]) <= quadrature.SETTLED), row
        # the engine warm-starts its modes along the grid; UGC07577's flat ridge moves its ln Z with the start
        assert row["galaxy"] == "UGC07577" or abs(row["log_z"] - stored[row["galaxy"]]) < 1e-3, row
    assert check["shift"] == pytest.approx(sum(r["refined"] - r["log_z"] for r in check["flagged"]))
    console = Console(record=True, width=200)
    render({**sweep_report(swept), "integrals": check}, console)
    assert f"{len(check['flagged'])} of {check['objects']} galaxies flagged" in console.export_text()
    moved = sparc_cube.assign_attrs(content_sha256="0" * 64)
    with pytest.raises(SigcubeError, match="not the one the sweep read"):
        check_sweep_integrals(swept, moved)
    plain = swept.drop_vars("loglike")
    with pytest.raises(SigcubeError, match="needs a nuisance sweep"):
        check_sweep_integrals(plain, sparc_cube)
