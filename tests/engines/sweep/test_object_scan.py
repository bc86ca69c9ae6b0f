"""Per-object scans of a result cube read a slice of objects at a time (``object_minima``): each object's best grid
point (``best_per_galaxy``) and the objects whose best point lies on an end of an axis (``grid_edges``, counted in
tallies that add up over any split of the objects, as a sweep's workers count their chunks) are those a brute-force
scan of every grid point finds, however the objects are sliced or chunked."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from sigcube.engines.sweep import result
from sigcube.engines.sweep.result import EDGE_LISTED, PLATEAU, best_per_galaxy, edge_tally, grid_edges, object_minima
from sigcube.model.kernels import get_kernel

SOURCES = ("third", "table", "vdisk_peak")


@st.composite
def cubes(draw):
    """A result cube in memory: rms over (rd_source, A0, k, galaxy) of small integers (ties everywhere, exact
    arithmetic) with NaN holes, every object keeping a finite value; A0 starts at its bound 0."""
    n_src, n_a, n_k, n = draw(st.integers(1, 3)), draw(st.integers(1, 5)), draw(st.integers(3, 5)), draw(
        st.integers(1, 30))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    rms = rng.integers(0, draw(st.integers(1, 6)), size=(n_src, n_a, n_k, n)).astype(np.float32)
    rms[rng.random(rms.shape) < draw(st.sampled_from([0.0, 0.3]))] = np.nan
    rms[0, 0, 0, np.isnan(rms).reshape(-1, n).all(axis=0)] = 7.0
    grid = (n_src, n_a, n_k)
    return xr.Dataset(
        {"rms": (("rd_source", "A0", "k", "galaxy"), rms, {"units": "km / s"}),
         "done": (("rd_source", "A0", "k"), np.ones(grid, dtype=bool)),
         "baseline_rms": ("galaxy", np.ones(n))},
        coords={"rd_source": np.array(SOURCES[:n_src], dtype=np.dtypes.StringDType()),
                "A0": ("A0", np.linspace(0.0, 2.0, n_a), {"units": "1"}), "k": np.geomspace(0.01, 1.0, n_k),
                "galaxy": [f"G{i:02d}" for i in range(n)]},
        attrs={"kernel": "sigma"})


def brute_best(ds: xr.Dataset) -> list[tuple[tuple[int, ...], float]]:
    """Each object's first smallest finite rms in C order of the grid, and where."""
    values = ds["rms"].values
    out = []
    for j in range(values.shape[-1]):
        best = None
        for at in itertools.product(*(range(s) for s in values.shape[:-1])):
            v = values[at + (j,)]
            if not np.isnan(v) and (best is None or v < best[1]):
                best = (at, float(v))
        out.append(best)
    return out


def brute_edges(ds: xr.Dataset) -> dict:
    """The per-object part of grid_edges, by definition: per numeric axis of ≥ 3 values and end, the objects whose best
    point lies there, each a bound (the kernel parameter's own), a plateau (the metric changes by at most PLATEAU of
    its range over the grid in the last step) or cut off."""
    values, names, out = ds["rms"].values, [str(g) for g in ds["galaxy"].values], {}
    best = brute_best(ds)
    for i, d in ((1, "A0"), (2, "k")):
        if ds.sizes[d] < 3:
            continue
        bounds = get_kernel("sigma").parameter(d).bounds
        for side, end, step, bound in (("lower", 0, 1, bounds[0]), ("upper", ds.sizes[d] - 1, -1, bounds[1])):
            hits, kinds = [], []
            for j, (at, _) in enumerate(best):
                if at[i] != end:
                    continue
                line = values[(*at[:i], slice(None), *at[i + 1:], j)]
                span = np.nanmax(values[..., j]) - np.nanmin(values[..., j])
                hits.append(names[j])
                kinds.append("bound" if ds[d].values[end] == bound else "plateau"
                             if abs(line[end + step] - line[end]) <= PLATEAU * span or span == 0 else "cut")
            if hits:
                out.setdefault(d, {})[side] = {
                    "value": float(ds[d].values[end]), "count": len(hits), "of": len(names),
                    "objects": hits[:EDGE_LISTED], "kinds": {k: kinds.count(k) for k in ("cut", "plateau", "bound")},
                    "cut_objects": [h for h, k in zip(hits, kinds) if k == "cut"][:EDGE_LISTED]}
    return out


def scans(ds: xr.Dataset, chunk: int) -> list[xr.Dataset]:
    """The cube in memory and chunked along its objects (as a stored cube is read)."""
    return [ds, ds.chunk({"galaxy": chunk, "A0": 1})]


@settings(max_examples=40, deadline=None, derandomize=True)
@given(cubes(), st.integers(1, 12), st.integers(1, 400))
def test_best_per_galaxy_is_the_brute_force_best_however_the_objects_are_read(ds, chunk, budget):
    expected = brute_best(ds)
    dims = ("rd_source", "A0", "k")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(result, "SCAN_BYTES", budget)  # down to one object per slice
        for cube in scans(ds, chunk):
            best = best_per_galaxy(cube, "rms")
            assert best["best_rms"].values.tolist() == [v for _, v in expected]
            for i, d in enumerate(dims):
                assert best[d].values.tolist() == [ds[d].values[at[i]] for at, _ in expected]
            assert best["best_rms"].dtype == np.float32 and best.A0.attrs == {"units": "1"}
            slices = [objects for objects, _, _ in object_minima(cube["rms"], dims, "galaxy")]
            assert [s.start for s in slices] == list(range(0, ds.sizes["galaxy"], slices[0].stop))
            assert slices[0].stop == min(chunk if cube.chunks else ds.sizes["galaxy"],
                                         max(1, budget // (4 * ds["rms"][..., 0].size)), ds.sizes["galaxy"])


@settings(max_examples=40, deadline=None, derandomize=True)
@given(cubes(), st.integers(1, 12), st.lists(st.integers(1, 30), max_size=5))
def test_grid_edges_per_object_are_the_brute_force_ends_and_tallies_of_any_split_add_up(ds, chunk, cuts):
    expected = brute_edges(ds)
    n = ds.sizes["galaxy"]
    bounds = sorted({0, n, *(c for c in cuts if c < n)})
    for cube in scans(ds, chunk):
        whole = grid_edges(cube, [], "rms")
        assert whole["per_object"] == expected
        split = grid_edges(cube, [], "rms", tallies=[edge_tally(cube, "rms", slice(a, b))
                                                     for a, b in zip(bounds, bounds[1:])])
        assert split == whole
