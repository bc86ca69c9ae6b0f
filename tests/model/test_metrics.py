"""The metric registry: packed-point core by hand, exact partials, and the labelled xarray wrappers."""

from __future__ import annotations

import warnings

import astropy.units as u
import dask.array as da
import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from sigcube.model import metrics, segments
from sigcube.model.metrics import METRICS, PARTIALS, MetricError

# Two objects by hand: residuals (3, −4) and (0, 1, −3) km/s, errors (1, 2) and (1, 1, 3) km/s.
OFFSETS = np.array([0, 2, 5])
V_OBS = np.array([100.0, 100.0, 50.0, 50.0, 50.0])
V_PRED = V_OBS + np.array([3.0, -4.0, 0.0, 1.0, -3.0])
E_V = np.array([1.0, 2.0, 1.0, 1.0, 3.0])
RMS = np.sqrt([25 / 2, 10 / 3])
CHI2 = np.array([9 + 16 / 4, 0 + 1 + 9 / 9])


def test_every_metric_is_declared_once_with_units_scope_and_direction():
    assert list(METRICS) == list(metrics.metric_names("global")) + list(metrics.metric_names("object"))
    for name, m in METRICS.items():
        assert m.name == name and m.scope in ("global", "object") and m.direction in ("min", "max")
        u.Unit(m.units)  # astropy-parsable
        assert m.long_name and m.definition and m.short
        assert set(m.needs) <= set(PARTIALS) and bool(m.needs) == (m.scope == "global")
    assert METRICS["win_rate"].direction == "max" and METRICS["win_rate"].units == ""
    assert METRICS["win_rate"].in_table_units(0.25) == pytest.approx(25.0)  # percent only in tables
    assert METRICS["mean_rms"].scale_to("km/s") == 1.0
    with pytest.raises(MetricError, match="unknown metric 'rms_sigma'.*mean_rms"):
        metrics.get_metric("rms_sigma")


def test_metrics_by_hand():
    values = metrics.compute(V_PRED, V_OBS, E_V, OFFSETS, baseline_rms=np.array([RMS[0], 2.0]))
    np.testing.assert_allclose(values["rms"], RMS)
    np.testing.assert_allclose(values["chi2"], CHI2)
    assert values["mean_rms"] == pytest.approx(RMS.mean())
    assert values["median_chi2_red"] == pytest.approx((13 / 2 + 2 / 3) / 2)
    assert values["win_rate"] == 0.5  # a tie is not a win
    assert "win_rate" not in metrics.compute(V_PRED, V_OBS, E_V, OFFSETS)


@pytest.mark.parametrize("below,wins", [(0.0, 0), (1e-15, 0), (1e-10, 0), (1e-8, 1), (0.1, 1)])
def test_a_win_is_more_than_rounding_below_the_baseline(below, wins):
    """The same curve by two code paths differs in the last bits (by CPU): within 1e-9 of the baseline is a tie."""
    rms = np.array([3.0 * (1.0 - below)])
    parts = metrics.partials(rms, np.array([1.0]), np.array([0, 4]), np.array(0.0), np.array(0.0), np.array([3.0]))
    assert parts["n_wins"] == wins


def test_rar_scatter_definitions_by_hand():
    """x = log10(V_obs/V_pred) = 0.1, −0.1, 0.3; log10(g_obs/g_pred) = 2x at the same r."""
    v_pred = np.array([100.0, 150.0, 80.0])
    v_obs = v_pred * 10 ** np.array([0.1, -0.1, 0.3])
    values = metrics.compute(v_pred, v_obs, np.ones(3), np.array([0, 3]))
    assert values["rar_scatter_velocity"] == pytest.approx(np.sqrt(0.08 / 3))  # about the mean 0.1
    assert values["rar_scatter_accel"] == pytest.approx(2 * np.sqrt(0.08 / 3))
    assert values["rar_rms_accel"] == pytest.approx(2 * np.sqrt(0.11 / 3))  # about zero: the paper's §3.5


def test_reduced_chi2_divides_by_degrees_of_freedom():
    np.testing.assert_allclose(metrics.chi2_reduced(np.array([8.0, 12.0]), np.array([0, 4, 10]), n_params=2), [4.0, 3.0])


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(1, 12), min_size=1, max_size=10), st.integers(0, 2**31 - 1))
def test_per_object_metrics_equal_a_loop(sizes, seed):
    rng = np.random.default_rng(seed)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    n = offsets[-1]
    obs, pred, err = rng.uniform(10, 200, n), rng.uniform(10, 200, (3, n)), rng.uniform(1, 10, n)
    values = metrics.object_metrics(pred, obs, err, offsets)
    assert values["rms"].shape == values["chi2"].shape == (3, len(sizes))
    for g, (a, b) in enumerate(zip(offsets[:-1], offsets[1:])):
        np.testing.assert_allclose(values["rms"][:, g], np.sqrt(np.mean((pred[:, a:b] - obs[a:b]) ** 2, axis=-1)))
        np.testing.assert_allclose(values["chi2"][:, g], np.sum(((pred[:, a:b] - obs[a:b]) / err[a:b]) ** 2, axis=-1))


def test_segment_sum_gives_zero_for_objects_without_points():
    np.testing.assert_array_equal(segments.segment_sum(np.arange(1.0, 5.0), np.array([0, 0, 2, 2, 4, 4])),
                                  [0.0, 3.0, 0.0, 7.0, 0.0])


def _partials(pred, obs, err, offsets, base):
    per = metrics.object_metrics(pred, obs, err, offsets)
    return metrics.partials(per["rms"], per["chi2"], offsets, *metrics.log_moments(obs, pred), base)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(1, 9), min_size=2, max_size=12), st.data(), st.integers(0, 2**31 - 1))
def test_chunks_of_objects_combine_to_the_whole(sizes, data, seed):
    """Global metrics of a sample split into object chunks equal those of the whole (issue 12's engine)."""
    rng = np.random.default_rng(seed)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    n, n_obj = offsets[-1], len(sizes)
    obs, pred, err = rng.uniform(10, 200, n), rng.uniform(10, 200, (2, n)), rng.uniform(1, 10, n)
    base = rng.uniform(5, 80, n_obj)
    cuts = sorted(data.draw(st.sets(st.integers(1, n_obj - 1), min_size=1, max_size=3)))
    edges = [0, *cuts, n_obj]
    chunks = []
    for a, b in zip(edges[:-1], edges[1:]):
        lo, hi = offsets[a], offsets[b]
        chunks.append(_partials(pred[:, lo:hi], obs[lo:hi], err[lo:hi], offsets[a:b + 1] - lo, base[a:b]))
    whole = _partials(pred, obs, err, offsets, base)
    joined = metrics.combine(chunks)
    assert joined["n_objects"] == n_obj and joined["n_points"] == n and joined["n_wins"].tolist() == whole["n_wins"].tolist()
    np.testing.assert_array_equal(joined["chi2_red"], whole["chi2_red"])  # per-object values, exactly
    final, expected = metrics.finalize(joined), metrics.finalize(whole)
    assert set(final) == set(metrics.metric_names("global"))
    for name in final:
        np.testing.assert_allclose(final[name], expected[name], rtol=1e-12, err_msg=name)


def test_finalize_refuses_what_the_partials_cannot_give():
    parts = _partials(V_PRED, V_OBS, E_V, OFFSETS, None)
    with pytest.raises(MetricError, match="win_rate"):
        metrics.finalize(parts, ["win_rate"])
    with pytest.raises(MetricError, match="rms"):
        metrics.finalize(parts, ["rms"])


def _padded(values: np.ndarray) -> np.ndarray:
    """The hand-made objects as an object × radius array, NaN-padded to 4 radii."""
    out = np.full((2, 4), np.nan)
    out[0, :2], out[1, :3] = values[:2], values[2:]
    return out


def test_labelled_wrappers_reduce_over_dim_and_broadcast_parameters():
    coords = {"galaxy": ["a", "b"], "radius": np.arange(4)}
    obs = xr.DataArray(_padded(V_OBS), dims=("galaxy", "radius"), coords=coords)
    err = xr.DataArray(_padded(E_V), dims=("galaxy", "radius"), coords=coords)
    shift = xr.DataArray([0.0, 1.0], dims="offset")
    pred = xr.DataArray(_padded(V_PRED), dims=("galaxy", "radius"), coords=coords) + shift
    ds = metrics.score(pred, obs, err, baseline_rms=xr.DataArray(RMS, dims="galaxy", coords={"galaxy": ["a", "b"]}))
    assert ds.rms.dims == ("offset", "galaxy") and ds.mean_rms.dims == ("offset",)
    np.testing.assert_allclose(ds.rms.sel(offset=0).values, RMS)
    np.testing.assert_allclose(metrics.chi2(pred, obs, err).sel(offset=0).values, CHI2)
    shifted = metrics.compute(V_PRED + 1.0, V_OBS, E_V, OFFSETS, RMS)
    for name in METRICS:
        np.testing.assert_allclose(ds[name].sel(offset=1).values, shifted[name], rtol=1e-12, err_msg=name)
        assert ds[name].attrs == METRICS[name].attrs
    lazy = metrics.rms(pred.chunk({"offset": 1, "galaxy": 1}), obs)  # objects split across blocks are rejoined
    assert isinstance(lazy.data, da.Array)
    xr.testing.assert_allclose(lazy.compute(), metrics.rms(pred, obs))


def test_an_object_without_points_is_nan_and_left_out_of_the_global_metrics():
    obs = xr.DataArray(np.vstack([_padded(V_OBS), np.full(4, np.nan)]), dims=("galaxy", "radius"))
    err = xr.ones_like(obs)
    pred = xr.DataArray(np.vstack([_padded(V_PRED), np.full(4, 60.0)]), dims=("galaxy", "radius"))
    ds = metrics.score(pred, obs, err)
    assert np.isnan(ds.rms.values[2]) and float(ds.mean_rms) == pytest.approx(RMS.mean())
    with pytest.raises(MetricError, match="v_obs must span exactly"):
        metrics.score(pred, obs.expand_dims(offset=2), err)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(rows=st.integers(1, 4), n=st.integers(0, 40), nan_at=st.one_of(st.none(), st.integers(0, 200)),
       seed=st.integers(0, 2**16))
def test_the_median_is_numpys_to_the_bit(rows, n, nan_at, seed):
    x = np.random.default_rng(seed).choice([0.5, 1.0, 2.0, 3.7, 1e300, -2.0], (rows, n)) \
        * np.random.default_rng(seed + 1).uniform(0.5, 2.0, (rows, n))
    if nan_at is not None and n:
        x.flat[nan_at % x.size] = np.nan
    with np.errstate(invalid="ignore", over="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = np.median(x, axis=-1) if n else np.full(rows, np.nan)
        np.testing.assert_array_equal(metrics.median_last_axis(x), expected)


def test_robust_scatter_by_hand():
    """1.4826·MAD by hand: y = (0, 1, 2, 3, 10): median 2, |y − 2| = (2, 1, 0, 1, 8), median 1 → 1.4826."""
    assert metrics.robust_scatter(np.array([0.0, 1.0, 2.0, 3.0, 10.0])) == pytest.approx(1.4826)
    assert metrics.robust_scatter(np.array([1.0, 2.0, np.nan, 4.0])) == pytest.approx(1.4826 * 1.0)  # NaN left out
    assert metrics.MAD_TO_SIGMA == pytest.approx(1.0 / 0.6744897501960817, abs=1e-4)  # 1/Φ⁻¹(3/4)


def test_robust_scatter_estimates_a_normal_sigma_and_ignores_one_outlier():
    """On 2000 N(0, 0.1) draws (seed 3) it gives σ = 0.1 within 5 % (its sampling error is ~2.5 %); one point moved
    to 5 dex raises the rms by > 40 % and moves the robust scatter by < 1 %."""
    y = np.random.default_rng(3).normal(0.0, 0.1, 2000)
    before = metrics.robust_scatter(y)
    assert before == pytest.approx(0.1, rel=0.05)
    moved = y.copy()
    moved[0] = 5.0
    assert np.sqrt(np.mean(moved**2)) > 1.4 * np.sqrt(np.mean(y**2))
    assert metrics.robust_scatter(moved) == pytest.approx(before, rel=0.01)


def test_rar_residual_summary_names_the_points_that_dominate_the_rms():
    """Two galaxies; y = 2·log10(V_obs/V_pred). Galaxy b's second point carries y = 2·log10(10) = 2 dex, the rest
    y = 2·log10(1.1): its share of Σy² and the rms without it follow by hand."""
    v_obs = np.array([11.0, 11.0, 11.0, 11.0, 100.0])
    v_pred = np.array([10.0, 10.0, 10.0, 10.0, 10.0])
    radius = np.array([1.0, 2.0, 1.5, 3.0, 4.5])
    offsets = np.array([0, 2, 5])
    out = metrics.rar_residual_summary(v_obs, v_pred, offsets, ["a", "b"], radius, top=1)
    small = 2 * np.log10(1.1)
    assert out["rms"] == pytest.approx(np.sqrt((4 * small**2 + 4.0) / 5))
    assert out["rms_without_top"] == pytest.approx(small)
    assert out["robust"] == pytest.approx(0.0)  # four of five residuals equal: MAD 0
    (top,) = out["top"]
    assert (top["galaxy"], top["radius_kpc"], top["y_dex"]) == ("b", 4.5, pytest.approx(2.0))
    assert top["share"] == pytest.approx(4.0 / (4 * small**2 + 4.0))
