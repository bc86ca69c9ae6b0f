"""The ArviZ export (sigcube.stats.export): structure, reproducible draws from the grid posterior, a Zarr round trip,
and arviz.loo / arviz.compare on the export agreeing with the exact leave-one-galaxy-out of sigcube.stats.logo."""

from __future__ import annotations

import warnings

import arviz as az
import numpy as np
import pytest
import xarray as xr
from scipy import stats

from sigcube.stats import export as E
from sigcube.stats import logo as L

N = 50
NAMES = [f"NGC {i:04d}" for i in range(N)]


def population(seed: int, widen: float = 1.0) -> xr.DataArray:
    """Per-galaxy ln L of one global parameter a0 on a grid: 50 galaxies whose true values scatter by 0.1 around 0.05,
    each measured with its own error s_g (lognormal, median 0.15); ``widen`` inflates the model's errors."""
    rng = np.random.default_rng(seed)
    s = np.exp(rng.normal(np.log(0.15), 0.35, N))
    x = rng.normal(rng.normal(0.05, 0.1, N), s)
    grid = np.linspace(-0.5, 0.5, 201)
    return xr.DataArray(stats.norm.logpdf(x, grid[:, None], widen * s), dims=("a0", "galaxy"),
                        coords={"a0": grid, "galaxy": NAMES})


N_POINTS = np.arange(N) % 17 + 5


def loo(dt: xr.DataTree) -> az.ELPDData:
    """arviz.loo on the tree, read the way a user without sigcube reads it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return az.loo(az.from_datatree(dt), pointwise=True)


def test_groups_dimensions_and_attributes():
    ll = population(0)
    dt = E.to_datatree(ll, N_POINTS, observed={"source": ["SPARC"] * N}, chains=3, draws=40, seed=7,
                       likelihood="Gaussian rotation-curve likelihood, nuisance marginalised")
    assert set(dt.children) == {"posterior", "log_likelihood", "sample_stats", "observed_data"}
    assert dt["posterior"]["a0"].dims == ("chain", "draw") and dt["posterior"]["a0"].shape == (3, 40)
    assert dt["log_likelihood"]["obs"].dims == ("chain", "draw", "galaxy")
    assert list(dt["observed_data"]["galaxy"].values) == NAMES
    assert dt["observed_data"]["n_points"].values.tolist() == N_POINTS.tolist()
    assert dt["observed_data"]["source"].values[0] == "SPARC"
    assert dt.attrs["seed"] == 7 and dt.attrs["prior"] == "equal mass per grid point"
    assert dt.attrs["likelihood"].startswith("Gaussian") and dt["posterior"].attrs["seed"] == 7
    text = E.describe(dt)
    assert text[0].startswith("3 chains × 40 draws of a0: independent draws") and "(seed 7)" in text[0]
    assert text[2] == "prior: equal mass per grid point" and "draws sit on grid points" in text[1]
    # each draw's log-likelihood and lp are the grid point's
    a0 = dt["posterior"]["a0"].values
    assert dt["log_likelihood"]["obs"].values == pytest.approx(ll.sel(a0=a0.ravel()).values.reshape(3, 40, N))
    assert dt["sample_stats"]["lp"].values == pytest.approx(ll.sel(a0=a0.ravel()).sum("galaxy").values.reshape(3, 40))


def test_draws_are_reproducible_and_follow_the_posterior_mass():
    """Same seed, same draws; another seed, other draws; 20 000 draws of a 41-point posterior match its masses
    (χ² goodness of fit p > 0.001, cells with ≥ 5 expected draws)."""
    ll = population(1).isel(a0=slice(60, 141, 2))
    one = E.to_datatree(ll, N_POINTS, chains=4, draws=5000, seed=3)
    assert one.identical(E.to_datatree(ll, N_POINTS, chains=4, draws=5000, seed=3))
    assert not np.array_equal(one["posterior"]["a0"].values, E.to_datatree(ll, N_POINTS, chains=4, draws=5000,
                                                                           seed=4)["posterior"]["a0"].values)
    total = ll.sum("galaxy").values
    mass = np.exp(total - total.max())
    expected = 20000 * mass / mass.sum()
    counts = np.array([np.sum(one["posterior"]["a0"].values == v) for v in ll["a0"].values])
    keep = expected >= 5
    chi2 = np.sum((counts[keep] - expected[keep]) ** 2 / expected[keep])
    assert counts.sum() == 20000 and stats.chi2.sf(chi2, keep.sum() - 1) > 0.001


def test_jittered_draws_stay_in_their_cells():
    """With jitter a draw lies inside its grid point's cell — uniformly on a linear axis, log-uniformly on a
    geometric one (KS p > 0.01 of the position within the cell) — and keeps that grid point's ln L."""
    k = np.geomspace(0.02, 0.4, 9)
    a0 = np.linspace(0.6, 1.2, 13)
    rng = np.random.default_rng(0)
    ll = xr.DataArray(rng.normal(0, 0.3, (13, 9, 4)) - 0.5 * ((a0[:, None, None] - 0.9) / 0.15) ** 2,
                      dims=("A0", "k", "galaxy"), coords={"A0": a0, "k": k, "galaxy": list("abcd")})
    dt = E.to_datatree(ll, [3, 4, 5, 6], jitter=True, chains=2, draws=4000, seed=11)
    plain = E.to_datatree(ll, [3, 4, 5, 6], jitter=False, chains=2, draws=4000, seed=11)
    for name, grid, geometric in (("A0", a0, False), ("k", k, True)):
        drawn = dt["posterior"][name].values.ravel()
        point = plain["posterior"][name].values.ravel()
        i = np.searchsorted(grid, point)
        edges = np.concatenate([[grid[0] - (grid[1] - grid[0]) / 2], (grid[1:] + grid[:-1]) / 2,
                                [grid[-1] + (grid[-1] - grid[-2]) / 2]])
        if geometric:
            edges = np.exp(np.concatenate([[np.log(grid[0]) - np.log(grid[1] / grid[0]) / 2],
                                           (np.log(grid[1:]) + np.log(grid[:-1])) / 2,
                                           [np.log(grid[-1]) + np.log(grid[-1] / grid[-2]) / 2]]))
        lo, hi = edges[i], edges[i + 1]
        assert np.all((drawn >= lo) & (drawn <= hi))
        position = np.log(drawn / lo) / np.log(hi / lo) if geometric else (drawn - lo) / (hi - lo)
        assert stats.kstest(position, "uniform").pvalue > 0.01
    assert dt["log_likelihood"]["obs"].values == pytest.approx(plain["log_likelihood"]["obs"].values)
    assert "uniform within each grid cell" in dt.attrs["jitter"]


def test_zarr_round_trip_and_arviz_read_it_back(tmp_path):
    """dt.to_zarr(path) and xarray.open_datatree(path) give the same tree (values, coordinates, attributes), and
    arviz.loo of the reread tree equals that of the original."""
    dt = E.to_datatree(population(2), N_POINTS, observed={"source": ["SPARC"] * N}, chains=2, draws=300, seed=5)
    path = tmp_path / "export.zarr"
    dt.to_zarr(path, consolidated=False)
    back = xr.open_datatree(path, engine="zarr", consolidated=False).load()
    assert back.identical(dt)
    assert loo(back).elpd_loo == pytest.approx(loo(dt).elpd_loo, abs=1e-12)


def test_arviz_loo_agrees_with_the_exact_logo():
    """4 chains × 1000 draws: arviz's PSIS-LOO over galaxies matches the exact ELPD_LOGO of sigcube.stats.logo within
    a tenth of its SE (well within the SE the brief asks for), every Pareto k̂ is good (< 0.7), and the two SEs agree
    to 5 %."""
    ll = population(3)
    psis = loo(E.to_datatree(ll, N_POINTS, chains=4, draws=1000, seed=1))
    exact = L.logo(ll)
    assert abs(psis.elpd_loo - exact.total) < 0.1 * exact.se
    assert np.all(psis.pareto_k.values < 0.7)
    assert psis.se == pytest.approx(exact.se, rel=0.05)
    assert np.max(np.abs(psis.loo_i.values - exact.elpd.values)) < 0.05


def test_arviz_compare_orders_models_as_the_exact_comparison():
    """Three exported models (the stated errors, errors inflated 1.5×, errors shrunk 0.6×) on the same galaxies:
    arviz.compare ranks them as sigcube.stats.logo.compare does, and its differences match within the paired SE."""
    lls = {"stated": population(4), "inflated": population(4, 1.5), "shrunk": population(4, 0.6)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        table = az.compare({k: az.from_datatree(E.to_datatree(v, N_POINTS, seed=i))
                            for i, (k, v) in enumerate(lls.items())})
    exact = L.compare([L.logo(v, name=k) for k, v in lls.items()])
    assert list(table.index) == list(exact.table["model"].values)
    for name in lls:
        row = exact.table.sel(model=name)
        assert table.loc[name, "elpd_diff"] == pytest.approx(float(row["elpd_diff"]), abs=max(0.2 * float(row["dse"]),
                                                                                              0.05))


def test_to_inference_data_reads_through_arviz():
    idata = E.to_inference_data(population(5), N_POINTS, chains=2, draws=100)
    assert isinstance(idata, az.InferenceData) and "log_likelihood" in idata.groups()


@pytest.mark.parametrize("kwargs, match", [
    ({"galaxy_dim": "object"}, "the galaxy axis 'object' is not a dimension"),
    ({"chains": 0}, "chains and draws must be positive"),
    ({"n_points": [1, 2]}, "one value per galaxy"),
    ({"log_prior": xr.DataArray(np.zeros(3), dims="k")}, "no grid axis"),
])
def test_bad_input_is_refused_in_one_sentence(kwargs, match):
    with pytest.raises(E.ExportError, match=match):
        E.to_datatree(population(6), **{"n_points": N_POINTS, **kwargs})
    with pytest.raises(E.ExportError, match="NaN"):
        E.to_datatree(population(6).where(population(6).a0 > 0), N_POINTS)


def _per_galaxy_draws(seed: int = 7) -> dict[str, np.ndarray]:
    """Two galaxies' draws (galaxy × draw): a parameter both have, one only the first has (NaN for the second)."""
    rng = np.random.default_rng(seed)
    shared = np.stack([rng.normal(1.0, 0.1, 1000), rng.normal(5.0, 2.0, 1000)])
    only = np.stack([rng.uniform(0.0, 1.0, 1000), np.full(1000, np.nan)])
    return {"a": shared, "upsilon_bul": only}


def test_per_galaxy_draws_keep_every_draw_in_chain_blocks(tmp_path):
    """Chains are consecutive blocks: chain c, draw d is input draw c·250 + d of each galaxy; ArviZ reads the tree
    back from Zarr and its means are the inputs' means."""
    values = _per_galaxy_draws()
    tree = E.draws_to_datatree(values, ["G1", "G2"], chains=4, units={"a": "km/s"}, attrs={"model": "m"})
    post = tree["posterior"]
    assert dict(post.sizes) == {"chain": 4, "draw": 250, "galaxy": 2}
    assert post["a"].values[2, 17, 1] == values["a"][1, 2 * 250 + 17]
    assert np.isnan(post["upsilon_bul"].sel(galaxy="G2")).all() and post["a"].attrs["units"] == "km/s"
    assert tree.attrs["created_by"] == E.DRAWS_MARK and tree.attrs["model"] == "m"
    tree.to_zarr(tmp_path / "d.zarr")
    idata = az.from_datatree(xr.open_datatree(tmp_path / "d.zarr", engine="zarr"))
    np.testing.assert_allclose(idata.posterior["a"].mean(("chain", "draw")).values, values["a"].mean(axis=1))


@pytest.mark.parametrize("values,galaxies,chains,match", [
    ({}, ["G"], 4, "no parameter's draws"),
    ({"a": np.zeros((2, 10))}, ["G"], 2, r"shape \(galaxies = 1, draws\)"),
    ({"a": np.zeros((1, 10)), "b": np.zeros((1, 9))}, ["G"], 1, "every parameter needs draws"),
    ({"a": np.zeros((1, 10))}, ["G"], 4, "10 draws per galaxy cannot be cut into 4 equal chains"),
])
def test_bad_per_galaxy_draws_are_refused(values, galaxies, chains, match):
    with pytest.raises(E.ExportError, match=match):
        E.draws_to_datatree(values, galaxies, chains=chains)
