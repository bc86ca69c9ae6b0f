"""Per-galaxy halo quantities from grid posteriors, against posteriors whose answer is known in closed form: a
Gaussian likelihood in the ΛCDM deviates times their N(0, 1) priors is Gaussian, and with the SHMR scatter linear in
log10 M200 (halo_linear) log10 M200 and log10 c are linear in the deviates, so their quantiles are normal quantiles
computed here from Moster et al.'s and Dutton & Macciò's relations written out."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, stats

from sigcube.model.kernels.halo import r200_kpc
from sigcube.stats.adaptive_grid import Axis, Box, ItemIntegral, box_grid
from sigcube.stats.halo_posteriors import (
    QUANTILES, HaloPosteriorError, halo_posteriors, shmr_tail, weighted_quantiles,
)

LOG_MSTAR = 9.3


def _moster(log_m: float) -> float:
    m, m1 = 10.0**log_m, 10.0**11.590
    return math.log10(2 * 0.0351 * m / ((m / m1) ** -1.376 + (m / m1) ** 0.608))


def _integral(axes: list[Axis], loglike, n: int = 161, box: list[tuple[float, float]] | None = None) -> ItemIntegral:
    """An integral on ``box`` (grid coordinates; default: the whole prior range) with ``n`` points per axis and
    ln L = ``loglike(**values)``."""
    lo, hi = np.array(box or [a.bounds for a in axes], dtype=float).T
    values, log_mass = box_grid(axes, Box(lo, hi, n))
    ll = loglike(**values)
    grid = {a.name: a.value(np.linspace(a_lo, a_hi, n)) for a, a_lo, a_hi in zip(axes, lo, hi)}
    return ItemIntegral(tuple(axes), grid, log_mass, {"loglike": ll[:, None]}, 0.0, 0.0, 0.0, True, ())


def _deviates() -> list[Axis]:
    return [Axis("z_M200", -5.0, 5.0, normal=(0.0, 1.0)), Axis("z_c", -5.0, 5.0, normal=(0.0, 1.0))]


def _gaussian(mu_m: float, s_m: float, mu_c: float, s_c: float):
    return lambda z_M200, z_c: -0.5 * ((z_M200 - mu_m) / s_m) ** 2 - 0.5 * ((z_c - mu_c) / s_c) ** 2


def _posterior(mu: float, s: float) -> tuple[float, float]:
    """N(mu, s) likelihood × N(0, 1) prior: the posterior's mean and sd."""
    precision = 1 / s**2 + 1
    return mu / s**2 / precision, 1 / math.sqrt(precision)


def test_halo_quantities_of_a_known_posterior():
    (m_z, s_z), (c_z, t_z) = _posterior(1.5, 0.5), _posterior(-1.0, 0.4)
    integral = _integral(_deviates(), _gaussian(1.5, 0.5, -1.0, 0.4))
    ds = halo_posteriors("nfw_lcdm", [integral], ["G"], np.array([LOG_MSTAR]), fixed={"shmr_scatter": "halo_linear"})
    root = optimize.brentq(lambda x: _moster(x) - LOG_MSTAR, 4.0, 20.0, xtol=1e-14)
    slope = (_moster(root + 1e-6) - _moster(root - 1e-6)) / 2e-6
    k = 0.15 / slope  # log10 M200 = root + k·z_M
    q = stats.norm.ppf(QUANTILES)
    want_m = root + k * (m_z + s_z * q)
    np.testing.assert_allclose(ds["log10_M200"].sel(galaxy="G").values, want_m, atol=2e-3 * k)
    np.testing.assert_allclose(ds["log10_mstar_over_m200"].sel(galaxy="G").values, LOG_MSTAR - want_m[::-1],
                               atol=2e-3 * k)
    # log10 c = 0.905 − 0.101·(log10 M200 − 12 + log10 0.7) + 0.11·z_c: Gaussian, mean and sd from the two deviates
    mean = 0.905 - 0.101 * (root + k * m_z - 12 + math.log10(0.7)) + 0.11 * c_z
    sd = math.hypot(0.101 * k * s_z, 0.11 * t_z)
    np.testing.assert_allclose(np.log10(ds["c200"].sel(galaxy="G").values), mean + sd * q, atol=3e-3 * sd)
    assert not ds["log10_M200_at_bound"].item() and not ds["c200_at_bound"].item()
    assert ds["log10_M200"].attrs["units"] == "" and "M200" in ds["log10_M200"].attrs["long_name"]
    assert "Υ_disk = 0.5" in ds.attrs["mstar"]


def test_a_posterior_piled_at_the_bound_is_flagged():
    piled = _integral(_deviates(), lambda z_M200, z_c: 20.0 * z_M200 - 0.5 * z_c**2, n=61)  # × N(0, 1): peak at 20
    centred = _integral(_deviates(), _gaussian(0.3, 0.5, 0.0, 0.5), n=61)
    ds = halo_posteriors("nfw_lcdm", [piled, centred], ["piled", "centred"], np.array([LOG_MSTAR, LOG_MSTAR]))
    assert ds["log10_M200_at_bound"].values.tolist() == [True, False]
    assert ds["c200_at_bound"].values.tolist() == [True, False]  # c is computed from M200 too


def test_the_core_radius_of_a_flat_burkert_posterior():
    """A narrow posterior at (log10 M200, c) = (11, 12): r0 = r200/(q·c), q the root of q³ − q − 2 = 0."""
    axes = [Axis("log10_M200", 6.0, 14.0), Axis("c", 1.0, 100.0, log=True)]
    integral = _integral(axes, lambda log10_M200, c: -0.5 * ((log10_M200 - 11.0) / 0.02) ** 2
                         - 0.5 * ((np.log10(c) - math.log10(12.0)) / 0.005) ** 2, n=121,
                         box=[(10.8, 11.2), (math.log10(12.0) - 0.04, math.log10(12.0) + 0.04)])
    ds = halo_posteriors("burkert", [integral], ["G"], np.array([LOG_MSTAR]))
    q = optimize.brentq(lambda x: x**3 - x - 2, 1.0, 2.0, xtol=1e-14)
    assert ds["r_core"].sel(quantile=0.5).item() == pytest.approx(float(r200_kpc(1e11)) / (q * 12.0), rel=2e-3)
    assert ds["log10_M200"].sel(quantile=0.5).item() == pytest.approx(11.0, abs=2e-3)


def test_where_the_shmr_deviate_sits():
    tail = _integral(_deviates(), _gaussian(4.0, 0.3, 0.0, 1.0))  # posterior mean 4/(1/0.09 + 1)/0.09 ≈ 3.67
    middle = _integral(_deviates(), _gaussian(0.5, 0.5, 0.0, 1.0))
    ds = shmr_tail([tail, middle], ["tail", "middle"])
    assert ds["in_tail"].values.tolist() == [True, False]
    assert ds.attrs["n_in_tail"] == 1 and ds.attrs["n_above"] == 1 and ds.attrs["n_below"] == 0
    mean, sd = _posterior(4.0, 0.3)
    assert ds["z_M200_median"].sel(galaxy="tail").item() == pytest.approx(mean, abs=0.01)
    assert ds["z_M200_ci68"].sel(galaxy="tail").values == pytest.approx([mean - sd, mean + sd], abs=0.01)


def test_weighted_quantiles_of_a_fine_uniform_grid_are_the_uniform_ones():
    x = np.linspace(0.0, 1.0, 2001)
    np.testing.assert_allclose(weighted_quantiles(x, np.ones_like(x), [0.1, 0.5, 0.9]), [0.1, 0.5, 0.9], atol=1e-3)


def test_what_is_not_a_halo_is_refused():
    integral = _integral(_deviates(), _gaussian(0.0, 1.0, 0.0, 1.0), n=11)
    with pytest.raises(HaloPosteriorError, match="not a dark-matter halo"):
        halo_posteriors("mond", [integral], ["G"], np.array([LOG_MSTAR]))
    with pytest.raises(HaloPosteriorError, match="2 galaxies"):
        halo_posteriors("nfw_lcdm", [integral], ["G", "H"], np.array([LOG_MSTAR, LOG_MSTAR]))


def test_a_spread_stellar_mass_widens_the_halo_mass_as_a_monte_carlo_does():
    """M★ given per grid point with a 1σ (0.2 dex): the quantiles of log10 M200 are those of z_M ~ posterior and
    log10 M★ ~ N(9.3, 0.2) drawn independently and mapped through Moster et al.'s inverse written out (stellar scatter,
    0.15 dex)."""
    integral = _integral(_deviates(), _gaussian(1.0, 0.5, 0.0, 1.0), n=101)
    mstar = np.column_stack([np.full(integral.log_mass.size, LOG_MSTAR), np.full(integral.log_mass.size, 0.2)])
    ds = halo_posteriors("nfw_lcdm", [integral], ["G"], [mstar])
    rng = np.random.default_rng(3)
    mean, sd = _posterior(1.0, 0.5)
    target = rng.normal(LOG_MSTAR, 0.2, 40_000) + 0.15 * rng.normal(mean, sd, 40_000)
    table = np.linspace(8.0, 14.0, 601)
    inverse = np.interp(target, [_moster(x) for x in table], table)
    np.testing.assert_allclose(ds["log10_M200"].sel(galaxy="G").values, np.quantile(inverse, QUANTILES), atol=0.01)


def test_the_summary_line_gives_the_spread_of_medians_and_the_bound_count_and_survives_a_json_round_trip():
    """Three galaxies with the same posterior but M★ 1 dex apart: each median log10 M★/M200 is the first galaxy's
    plus 0, 1, 2 dex for a flat-prior halo (M200 from its own axis); the line quotes the galaxies' 16–50–84th
    percentiles of the medians (numpy's linear interpolation, by hand) and reads the same after `to_dict` → JSON."""
    import json

    import xarray as xr

    from sigcube.stats.halo_posteriors import halo_summary

    axes = [Axis("log10_M200", 9.0, 13.0), Axis("c", 1.0, 30.0)]
    integral = _integral(axes, lambda log10_M200, c: -0.5 * ((log10_M200 - 11.0) / 0.2) ** 2
                         - 0.5 * ((c - 10.0) / 2.0) ** 2, n=81)
    ds = halo_posteriors("burkert", [integral] * 3, ["a", "b", "c"], np.array([8.0, 9.0, 10.0]))
    assert ds["log10_mstar"].values == pytest.approx(np.repeat([[8.0], [9.0], [10.0]], len(QUANTILES), axis=1))
    ratio = ds["log10_mstar_over_m200"].sel(quantile=0.5).values
    np.testing.assert_allclose(ratio - ratio[0], [0.0, 1.0, 2.0], atol=1e-9)
    line = halo_summary(xr.Dataset.from_dict(json.loads(json.dumps(ds.to_dict(data="list")))))
    lo, mid, hi = ratio[0] + 0.32, ratio[0] + 1.0, ratio[0] + 1.68  # 16/50/84th of (0, 1, 2): 0.32, 1, 1.68
    assert f"log10 M★/M200 {mid:.2f} [{lo:.2f}, {hi:.2f}]" in line and "halos of 3 galaxies" in line
    assert "at a prior bound" not in line
    core = ds["r_core"].sel(quantile=0.5).values  # the same posterior in every galaxy: one r0 = r200/(1.5214·c)
    assert f"r_core [kpc] {core[0]:.2f} [{core[0]:.2f}, {core[0]:.2f}]" in line


def test_the_text_gives_each_galaxys_halo_and_marks_a_bound():
    """The per-galaxy table of `report compare`'s text: two Burkert galaxies of the same posterior, M★ 1 dex apart,
    read back 1 dex between their medians of log10 M★/M200; each median inside its own 68 % interval; a third galaxy's
    posterior piled on c's upper bound (c → 30) marked on the quantities computed from c, not on M200."""
    from sigcube.study.reports.compare import halo_rows

    axes = [Axis("log10_M200", 9.0, 13.0), Axis("c", 1.0, 30.0)]
    centred = _integral(axes, lambda log10_M200, c: -0.5 * ((log10_M200 - 11.0) / 0.2) ** 2
                        - 0.5 * ((c - 10.0) / 2.0) ** 2, n=81)
    piled = _integral(axes, lambda log10_M200, c: -0.5 * ((log10_M200 - 11.0) / 0.2) ** 2 + 0.8 * c, n=81)
    ds = halo_posteriors("burkert", [centred, centred, piled], ["a", "b", "c"], np.array([8.0, 9.0, 10.0]))
    columns, rows = halo_rows(ds)
    assert columns[:4] == ["galaxy", "log10 M200 [M☉]", "c200", "log10 M★/M200"] and [r[0] for r in rows] == list("abc")
    ratio = columns.index("log10 M★/M200")
    medians = [float(r[ratio].split()[0]) for r in rows]
    assert medians[1] - medians[0] == pytest.approx(1.0, abs=0.011)
    for r in rows:
        mid, lo, hi = (float(x) for x in r[1].replace("[", "").replace("]", "").replace(",", "").split()[:3])
        assert lo <= mid <= hi
    assert "⇥" not in rows[0][2] and "⇥" in rows[2][2] and "⇥" not in rows[2][1]
