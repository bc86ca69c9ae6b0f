"""`sigcube synth --baryons`: a synthetic sample on the real SPARC galaxies' baryons whose stored truths follow their
priors and whose V_obs is the truth's curve plus noise at the quoted errors, both checked by hand from the cube's own
columns (the velocities rebuilt without the nuisance transform)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, stats
from typer.testing import CliRunner

from sigcube.cli import app
from sigcube.constants import ACCEL_KM2_S2_PER_KPC, G_KPC_KMS2_MSUN, rho_crit_msun_kpc3
from sigcube.errors import SigcubeError
from sigcube.io.cubes import open_cube
from sigcube.io.synth_sparc import draw_on_baryons, synth_on_baryons
from sigcube.model.kernels import get_kernel

runner = CliRunner()


@pytest.fixture(scope="module")
def samples(sparc_cube):
    return {kernel: draw_on_baryons(sparc_cube, kernel, seed=11) for kernel in ("nfw_lcdm", "mond")}


def _standard(x: np.ndarray) -> tuple[float, float]:
    x = x[np.isfinite(x)]
    return float(np.mean(x)), float(np.std(x))


def _is_standard_normal(z: np.ndarray) -> None:
    """A sample of standard normal deviates: the KS test does not reject it at 1 % (one seed: a fixed draw)."""
    z = z[np.isfinite(z)]
    assert stats.kstest(z, "norm").pvalue > 0.01


def _moster(log_m: float) -> float:
    m, m1 = 10.0**log_m, 10.0**11.590
    return math.log10(2 * 0.0351 * m / ((m / m1) ** -1.376 + (m / m1) ** 0.608))


def _stellar_mass(ds) -> np.ndarray:
    """M★ at the truth, by hand: 10⁹·(Υ_disk·(L − L_bul) + Υ_bul·L_bul)·(D/D0)²."""
    bulge = np.where(ds.L_bul.values > 0, ds.true_upsilon_bul.values, 0.0)
    return 1e9 * (ds.true_upsilon_disk.values * (ds.L36 - ds.L_bul).values + bulge * ds.L_bul.values) \
        * (ds.true_distance.values / ds.distance.values) ** 2


def test_the_truths_follow_their_priors(samples):
    ds = samples["nfw_lcdm"]
    _is_standard_normal((np.log10(ds.true_upsilon_disk.values) - math.log10(0.5)) / 0.1)
    _is_standard_normal((np.log10(ds.true_upsilon_bul.values) - math.log10(0.7)) / 0.1)
    assert np.isfinite(ds.true_upsilon_bul.values).sum() == 32  # the galaxies with a bulge
    _is_standard_normal((ds.true_distance - ds.distance).values / ds.e_distance.values)  # D ≫ e_D: truncation moot
    inclined = ds.inclination.values + 3 * ds.e_inclination.values < 90  # away from the 90° truncation
    _is_standard_normal(((ds.true_inclination - ds.inclination) / ds.e_inclination).values[inclined])
    assert np.all(ds.true_inclination.values <= 90) and np.all(ds.true_inclination.values > 0)
    for name in ("true_z_M200", "true_z_c"):
        _is_standard_normal(ds[name].values)
    # the halo: M200 on the SHMR of the true M★ with 0.15 dex in M★, c on the c–M relation with 0.11 dex
    log_mstar = np.log10(_stellar_mass(ds))
    shmr = log_mstar - np.array([_moster(x) for x in ds.true_log10_M200.values])
    _is_standard_normal(shmr / 0.15)
    np.testing.assert_allclose(shmr, -0.15 * ds.true_z_M200.values, atol=1e-9)
    cm = np.log10(ds.true_c.values) - (0.905 - 0.101 * (ds.true_log10_M200.values - 12 + math.log10(0.7)))
    np.testing.assert_allclose(cm, 0.11 * ds.true_z_c.values, atol=1e-9)


def _true_curve(ds, kernel: str) -> np.ndarray:
    """V at the truth (galaxy × radius), rebuilt from the cube's columns: r and V_bar² ∝ D, V_disk² ∝ Υ_disk, …"""
    d = (ds.true_distance / ds.distance).values[:, None]
    bulge = np.where(ds.L_bul.values > 0, ds.true_upsilon_bul.values, 0.7)[:, None]
    r = ds.r.values * d
    v2 = (np.sign(ds.v_gas) * ds.v_gas**2).values + ds.true_upsilon_disk.values[:, None] * ds.v_disk.values**2 \
        + bulge * ds.v_bul.values**2
    v_bar2 = np.maximum(v2, 1e-6) * d
    if kernel == "mond":
        inside = np.isfinite(r)
        out = np.full(r.shape, np.nan)
        out[inside] = get_kernel("mond")({"v_bar": np.sqrt(v_bar2[inside]),
                                          "g_N": (v_bar2 / r)[inside] * ACCEL_KM2_S2_PER_KPC})
        return out
    m200 = 10 ** ds.true_log10_M200.values[:, None]
    c = ds.true_c.values[:, None]
    r200 = (3 * m200 / (4 * math.pi * 200 * rho_crit_msun_kpc3())) ** (1 / 3)

    def m(y):
        return np.log1p(y) - y / (1 + y)
    return np.sqrt(v_bar2 + G_KPC_KMS2_MSUN * m200 * m(c * r / r200) / (m(c) * r))


@pytest.mark.parametrize("kernel", ["nfw_lcdm", "mond"])
def test_the_observed_curve_is_the_truth_plus_the_quoted_noise(samples, sparc_cube, kernel):
    """(V_obs − V_true·sin i/sin i0)/e_V is standard normal; e_V and every baryonic column are the real galaxy's."""
    ds = samples[kernel]
    seen = np.sin(np.radians(ds.true_inclination.values)) / np.sin(np.radians(ds.inclination.values))
    pull = (ds.v_obs.values - _true_curve(ds, kernel) * seen[:, None]) / ds.e_v_obs.values
    mean, std = _standard(pull)
    n = np.isfinite(pull).sum()
    assert n > 3300 and abs(mean) < 4 / math.sqrt(n) and std == pytest.approx(1.0, abs=0.05)
    for name in ("r", "v_gas", "v_disk", "v_bul", "L36", "L_bul", "M_HI", "distance", "inclination"):
        np.testing.assert_array_equal(ds[name].values, sparc_cube[name].values, err_msg=name)
    observed = np.isfinite(ds.v_obs.values)
    np.testing.assert_array_equal(ds.e_v_obs.values[observed], sparc_cube.e_v_obs.values[observed])
    assert np.all(ds.V_flat.values == 0)


def test_mond_draws_no_halo_and_states_what_it_drew(samples):
    ds = samples["mond"]
    assert sorted(v for v in ds.data_vars if v.startswith("true_")) == [
        "true_distance", "true_inclination", "true_upsilon_bul", "true_upsilon_disk"]
    assert '"a0": 1.2e-10' in ds.attrs["synth_params"] and '"per_galaxy": {}' in ds.attrs["synth_priors"]
    assert "log10_normal" in ds.attrs["synth_priors"]


def test_one_seed_one_sample_and_the_cli(sparc_store, tmp_path):
    a = synth_on_baryons(sparc_store, tmp_path / "a.zarr", "nfw_lcdm", seed=4)
    result = runner.invoke(app, ["synth", "--baryons", str(sparc_store), "--kernel", "nfw_lcdm", "--seed", "4",
                                 "--out", str(tmp_path / "b.zarr")])
    assert result.exit_code == 0, result.output
    first, second = open_cube(a.name), open_cube(tmp_path / "b.zarr")
    assert first.attrs["content_sha256"] == second.attrs["content_sha256"]
    other = open_cube(synth_on_baryons(sparc_store, tmp_path / "c.zarr", "nfw_lcdm", seed=5).name)
    assert other.attrs["content_sha256"] != first.attrs["content_sha256"]
    store = str(sparc_store)
    for args, message in ((["3", "--baryons", store], "not both"), ([], "not both"),
                          (["--baryons", store, "--param", "z_c=1"], "draws z_c per galaxy")):
        bad = runner.invoke(app, ["synth", *args, "--kernel", "nfw_lcdm", "--out", str(tmp_path / "d.zarr")])
        assert bad.exit_code == 2 and message in bad.output, bad.output


def test_a_kernel_parameter_drawn_per_galaxy_takes_no_value(sparc_cube):
    with pytest.raises(SigcubeError, match="draws z_M200 per galaxy"):
        draw_on_baryons(sparc_cube, "nfw_lcdm", {"z_M200": 1.0})


def test_the_inverse_relation_puts_the_median_halo_on_the_relation(samples):
    """At z_M200 = 0 the halo is the relation's: log10 M200 = f⁻¹(log10 M★) (a root finder here)."""
    ds = samples["nfw_lcdm"]
    log_mstar = np.log10(_stellar_mass(ds))
    i = int(np.argmin(np.abs(ds.true_z_M200.values)))
    root = optimize.brentq(lambda x: _moster(x) - (log_mstar[i] + 0.15 * ds.true_z_M200.values[i]), 4, 20, xtol=1e-14)
    assert ds.true_log10_M200.values[i] == pytest.approx(root, abs=1e-10)


def test_an_intrinsic_scatter_and_galaxy_scales_are_drawn_as_the_likelihood_says(sparc_cube):
    """With a 6 km/s velocity floor, (V_obs − V_true·u)/√(e_V² + (u·6)²) is standard normal at the stored truths
    (u = sin i/sin i0 · s_g), and ln s_g has the sd τ_gal it was drawn with."""
    from sigcube.stats.likelihood import GaussianLikelihood

    ds = draw_on_baryons(sparc_cube, "mond", seed=7, likelihood=GaussianLikelihood(6.0, tau_gal=0.2))
    u = (np.sin(np.radians(ds.true_inclination.values)) / np.sin(np.radians(ds.inclination.values))
         * ds.true_scale_offset.values)
    pull = (ds.v_obs.values - _true_curve(ds, "mond") * u[:, None]) / np.hypot(ds.e_v_obs.values, 6.0 * u[:, None])
    _is_standard_normal(pull)
    offsets = np.log(ds.true_scale_offset.values[np.isfinite(ds.true_scale_offset.values)])
    assert stats.chi2(offsets.size).cdf(np.sum((offsets / 0.2) ** 2)) == pytest.approx(0.5, abs=0.49)  # not rejected
    assert "velocity_floor" in ds.attrs["synth_likelihood"]


def test_a_log_normal_scatter_is_drawn_in_ln_v(sparc_cube):
    """Under the log-normal model ln V_obs − ln(V_true·u) over √((e_V/V_obs)² + ((ln 10/2)·σ)²) is standard normal."""
    from sigcube.stats.likelihood import GaussianLikelihood

    ds = draw_on_baryons(sparc_cube, "mond", seed=6, likelihood=GaussianLikelihood(0.05, "lognormal"))
    u = np.sin(np.radians(ds.true_inclination.values)) / np.sin(np.radians(ds.inclination.values))
    t = np.sqrt((ds.e_v_obs.values / ds.v_obs.values) ** 2 + (0.5 * math.log(10) * 0.05) ** 2)
    _is_standard_normal((np.log(ds.v_obs.values) - np.log(_true_curve(ds, "mond") * u[:, None])) / t)
