"""reduce_block's contract: shapes, partials of object chunks that combine into the whole sample's metrics."""

from __future__ import annotations

import numpy as np
import pytest

from sigcube.compute.reduce import Prepared, reduce_block
from sigcube.model import metrics
from sigcube.model.kernels import get_kernel
from sigcube.model.points import PointSet, velocity_points

KERNELS = ("sigma", "sigma_xi", "burr_xii", "nfw")
"""The canonical kernel (its numba FastReduce) and kernels on the generic traced path."""


def synthetic(seed: int, counts: list[int]) -> PointSet:
    rng = np.random.default_rng(seed)
    n = sum(counts)
    r = np.concatenate([np.sort(rng.uniform(0.2, 30.0, c)) for c in counts])
    v_bar = rng.uniform(10.0, 250.0, n)
    return velocity_points("galaxy", [f"g{i}" for i in range(len(counts))], counts, r,
                           v_bar * rng.uniform(0.8, 1.5, n), rng.uniform(2.0, 15.0, n), v_bar,
                           r_d=np.repeat(rng.uniform(0.5, 6.0, len(counts)), counts))


def take(points: PointSet, g0: int, g1: int) -> PointSet:
    """Objects [g0, g1) of ``points`` as a point set of their own (a chunk)."""
    p0, p1 = points.offsets[g0], points.offsets[g1]
    return PointSet(galaxy=points.galaxy[g0:g1], offsets=points.offsets[g0:g1 + 1] - p0,
                    inputs={k: v[p0:p1] for k, v in points.inputs.items()}, group=points.group)


def _grid(kernel) -> dict[str, np.ndarray]:
    """A 3 × 4 block over the amplitude and one more parameter, values inside their bounds."""
    names = [kernel.amplitude, *(p.name for p in kernel.numeric_parameters if p.name != kernel.amplitude)][:2]
    values = []
    for name, n in zip(names, (3, 4)):
        p = kernel.parameter(name)
        values.append(np.linspace(max(p.bounds[0], 0.5 * p.default), min(p.bounds[1], 1.5 * p.default), n))
    return {names[0]: values[0][:, None], names[1]: values[1][None, :]}


@pytest.mark.parametrize("name", KERNELS)
def test_block_shapes_and_curves(name):
    kernel = get_kernel(name)
    points = synthetic(1, [6, 3, 8, 1, 5])
    block = _grid(kernel)
    out = reduce_block(Prepared.build(points, kernel, {}, get_kernel("newtonian")), block, keep_curves=True)
    assert out["rms"].shape == out["chi2"].shape == (3, 4, 5)
    assert out["v_pred"].shape == (3, 4, points.n_points)
    assert out["mean_rms"].shape == out["win_rate"].shape == (3, 4)
    assert out["partials"]["chi2_red"].shape == (3, 4, 5) and out["partials"]["sum_rms"].shape == (3, 4)
    # the kernel called at one grid point gives that row of curves, and its RMS by hand
    a, b = block
    v = kernel(points.inputs, **{a: block[a][2, 0], b: block[b][0, 3]})
    np.testing.assert_allclose(out["v_pred"][2, 3], v, rtol=1e-12)
    d = v - points.inputs["v_obs"]
    np.testing.assert_allclose(out["rms"][2, 3, 1], np.sqrt(np.mean(d[6:9] ** 2)), rtol=1e-12)
    np.testing.assert_allclose(out["chi2"][2, 3, 3], (d[17] / points.inputs["e_v_obs"][17]) ** 2, rtol=1e-12)
    np.testing.assert_allclose(out["mean_rms"], out["rms"].mean(axis=-1), rtol=1e-12)


@pytest.mark.parametrize("name", KERNELS)
def test_chunk_partials_combine_into_the_whole_sample(name):
    """Objects split into chunks, each reduced on its own: combined partials give the one-chunk metrics
    (counts exactly, sums and medians to rounding), and per-object values are the same numbers."""
    kernel = get_kernel(name)
    points = synthetic(2, [4, 7, 1, 9, 2, 5, 3])
    block = _grid(kernel)
    newton = get_kernel("newtonian")
    whole = reduce_block(Prepared.build(points, kernel, {}, newton), block)
    bounds = [0, 2, 3, 7]
    chunks = [reduce_block(Prepared.build(take(points, a, b), kernel, {}, newton), block)
              for a, b in zip(bounds[:-1], bounds[1:])]
    np.testing.assert_allclose(np.concatenate([c["rms"] for c in chunks], -1), whole["rms"], rtol=1e-12)
    np.testing.assert_allclose(np.concatenate([c["chi2"] for c in chunks], -1), whole["chi2"], rtol=1e-12)
    parts = metrics.combine([c["partials"] for c in chunks])
    for key in ("n_objects", "n_points", "n_wins"):
        np.testing.assert_array_equal(parts[key], whole["partials"][key])
    assert parts["n_objects"] == 7 and parts["n_points"] == 31
    combined = metrics.finalize(parts)
    assert combined.keys() == metrics.finalize(whole["partials"]).keys()
    for key, value in combined.items():
        np.testing.assert_allclose(value, whole[key], rtol=1e-12, atol=1e-15, err_msg=key)


def test_a_switch_in_the_block_is_resolved():
    kernel = get_kernel("sigma")
    points = synthetic(3, [5, 5])
    prep = Prepared.build(points, kernel, {}, None)
    A0 = np.array([0.5, 1.0, 2.0])
    out = reduce_block(prep, {"A0": A0, "window": "sqrt"}, keep_curves=True)
    assert "win_rate" not in out  # no baseline
    for i, a in enumerate(A0):
        np.testing.assert_allclose(out["v_pred"][i], kernel(points.inputs, A0=a, window="sqrt"), rtol=1e-12)


def test_partials_on_sparc_chunks_equal_the_whole_sample(sparc_points):
    """The real sample (171 galaxies) in uneven chunks, canonical Σ and MOND: the same global metrics."""
    newton = get_kernel("newtonian")
    bounds = [0, 50, 51, 120, sparc_points.n_galaxies]
    for name, block in (("sigma", {"A0": np.linspace(0.8, 1.6, 5)}), ("mond", {"a0": np.geomspace(6e-11, 2e-10, 5)})):
        kernel = get_kernel(name)
        whole = reduce_block(Prepared.build(sparc_points, kernel, {}, newton), block)
        parts = metrics.combine([reduce_block(Prepared.build(take(sparc_points, a, b), kernel, {}, newton),
                                              block)["partials"] for a, b in zip(bounds[:-1], bounds[1:])])
        np.testing.assert_array_equal(parts["n_wins"], whole["partials"]["n_wins"])
        for key, value in metrics.finalize(parts).items():
            np.testing.assert_allclose(value, whole[key], rtol=1e-12, err_msg=f"{name}: {key}")
