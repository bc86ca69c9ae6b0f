"""The resonance kernel's fast path along α (:mod:`sigcube.compute.resonance_series`) == the reference.

The reference is the kernel function on the whole (grid × points) array, then :mod:`sigcube.model.metrics`. The fast path
takes blocks whose α values form an arithmetic progression (a linspace axis), with A_res swept too or not; random α
values (tests/compute/test_replay.py) never do, so these tests draw linspace axes.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sigcube.compute.fast_paths import fast_reduce_of
from sigcube.compute.reduce import Prepared, reduce_block
from sigcube.compute.resonance_series import RUN_MAX, RUN_RADIUS, progression_reduce, run_length
from sigcube.model import metrics
from sigcube.model.kernels import get_kernel
from sigcube.model.points import PointSet, velocity_points

RTOL = 1e-9
ATOL = 1e-9
"""As tests/compute/test_replay.py: km/s and dex, relative and absolute."""

RESONANCE = get_kernel("resonance")


def resonance_points(seed: int, counts: list[int]) -> PointSet:
    """Objects of ``counts`` points with the inputs the resonance kernel reads (σ_eff's weights per object)."""
    rng = np.random.default_rng(seed)
    n = sum(counts)
    r = np.concatenate([np.sort(rng.uniform(0.1, 40.0, c)) for c in counts])
    v_bar = rng.uniform(5.0, 300.0, n)
    points = velocity_points("galaxy", [f"g{i}" for i in range(len(counts))], counts, r,
                             v_bar * rng.uniform(0.7, 1.6, n), rng.uniform(1.0, 20.0, n), v_bar)
    weights = np.repeat(rng.dirichlet(np.ones(3), len(counts)), counts, axis=0)
    points.inputs.update(w_gas=weights[:, 0], w_disk=weights[:, 1], w_bul=weights[:, 2])
    return points


def fixed_parameters(seed: int) -> dict[str, float]:
    """Random λ_cut, span and dispersions (log-uniform over their bounds) and A_res."""
    rng = np.random.default_rng(seed)
    values = {name: float(10.0 ** rng.uniform(*np.log10(RESONANCE.parameter(name).bounds)))
              for name in ("lambda_cut", "span", "sigma_gas", "sigma_disk", "sigma_bulge")}
    return {"A_res": float(rng.uniform(0.0, 100.0)), **values}


def reference(points: PointSet, fixed: dict, flat: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
    """Per-object RMS, χ² and Σx, Σx² from the kernel on the whole (grid × points) array."""
    params = {**RESONANCE.resolve(fixed), **{k: v[:, None] for k, v in flat.items()}}
    p = points.inputs
    v = RESONANCE.func(p, **params)
    per_object = metrics.object_metrics(v, p["v_obs"], p["e_v_obs"], points.offsets, ["rms", "chi2"])
    return (per_object["rms"], per_object["chi2"], *metrics.log_moments(p["v_obs"], v))


def check_fast(points: PointSet, fixed: dict, block: dict[str, np.ndarray]) -> None:
    """The block takes the fast path, which agrees with the reference, and so does :func:`reduce_block` (against its
    generic path: with ``keep_curves`` it never takes a FastReduce)."""
    shape = np.broadcast_shapes(*(np.shape(v) for v in block.values()))
    flat = {k: np.broadcast_to(v, shape).ravel() for k, v in block.items()}
    params = RESONANCE.resolve(fixed)
    assert fast_reduce_of(RESONANCE).applies({**params, **flat})
    got = progression_reduce(points, params, flat, int(np.prod(shape)))
    for name, g, w in zip(("rms", "chi2", "sum_x", "sum_xx"), got, reference(points, fixed, flat)):
        np.testing.assert_allclose(g, w, rtol=RTOL, atol=ATOL, err_msg=f"{name}: fixed={fixed}")
    prep = Prepared.build(points, RESONANCE, fixed, None)  # no baseline: a win tied to rounding could go either way
    fast, generic = reduce_block(prep, block), reduce_block(prep, block, keep_curves=True)
    for key, value in fast.items():
        for sub, x in (value.items() if isinstance(value, dict) else [(None, value)]):
            want = generic[key][sub] if sub else generic[key]
            np.testing.assert_allclose(x, want, rtol=RTOL, atol=ATOL, err_msg=f"reduce_block {key} {sub or ''}")


def test_the_fast_path_takes_linspace_alpha_blocks_alone_or_with_a_res():
    points = resonance_points(1, [6, 1, 14, 3])
    alpha, a_res = np.linspace(-2.0, 3.0, 9), np.linspace(0.0, 40.0, 9)
    check_fast(points, {}, {"alpha": alpha})
    check_fast(points, {"span": 200.0, "lambda_cut": 3.0}, {"alpha": alpha, "A_res": a_res})
    check_fast(points, {}, {"A_res": a_res[:4, None], "alpha": alpha[None, :]})  # A_res × α
    check_fast(points, {}, {"alpha": alpha[:, None], "A_res": a_res[None, :5]})  # α × A_res
    check_fast(points, {}, {"alpha": np.full(3, 0.5)})  # one distinct α


def test_other_blocks_fall_back_to_the_generic_path():
    applies = fast_reduce_of(RESONANCE).applies
    params = RESONANCE.resolve()
    alpha = np.linspace(-1.0, 1.0, 6)
    assert applies({**params, "alpha": alpha})
    assert not applies({**params, "alpha": np.array([-1.0, 0.0, 0.3, 2.0])})  # not a progression
    assert not applies({**params, "alpha": alpha + np.array([0, 0, 0, 1e-9, 0, 0])})  # nearly one
    assert not applies({**params, "alpha": alpha, "lambda_cut": np.linspace(10.0, 200.0, 6)})
    assert not applies({**params, "alpha": alpha, "sigma_gas": np.linspace(5.0, 20.0, 6)})
    assert not applies({**params, "A_res": np.linspace(0.0, 5.0, 6)})  # the generic path hoists the integral
    with pytest.raises(ValueError, match="arithmetic progression"):
        progression_reduce(resonance_points(2, [3]), params, {"alpha": np.array([0.0, 0.1, 0.5])}, 3)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), counts=st.lists(st.integers(1, 12), min_size=1, max_size=5),
       ends=st.tuples(st.floats(-5.0, 5.0), st.floats(-5.0, 5.0)), n_alpha=st.integers(1, 40),
       layout=st.sampled_from(["alpha", "alpha with A_res", "A_res × alpha"]))
def test_fast_path_equals_the_reference_over_random_linspace_axes(seed, counts, ends, n_alpha, layout):
    alpha = np.linspace(min(ends), max(ends), n_alpha)
    a_res = np.random.default_rng(seed).uniform(0.0, 100.0, n_alpha)
    block = {"alpha": {"alpha": alpha}, "alpha with A_res": {"alpha": alpha, "A_res": a_res},
             "A_res × alpha": {"A_res": a_res[:3, None], "alpha": alpha[None, :]}}[layout]
    check_fast(resonance_points(seed, counts), fixed_parameters(seed), block)


@pytest.mark.parametrize(("ends", "span"), [((-5.0, 5.0), 1000.0), ((-0.4, 0.1), 10.0)],
                         ids=["wide span, many short runs", "narrow range, runs of RUN_MAX"])
def test_a_long_progression_stays_within_tolerance(ends, span):
    """5000 α values: every run restarts from true exponentials, so rounding does not accumulate along the axis."""
    points = resonance_points(5, [300, 7, 40, 2])  # the first object alone exceeds a tile
    check_fast(points, {"span": span, "lambda_cut": 30.0}, {"alpha": np.linspace(*ends, 5000)})


@given(step=st.floats(0.0, 10.0), spread=st.floats(0.0, 20.0))
def test_runs_keep_the_series_within_its_radius(step, spread):
    run = run_length(step, spread)
    assert 1 <= run <= RUN_MAX
    assert run // 2 * step * spread <= RUN_RADIUS
