"""Fast paths == the reference numpy path, for every registered kernel and switch, at random parameters and points.

The reference is what the fast paths avoid: the kernel function on the whole point × grid array, then the
reductions of :mod:`sigcube.model.metrics`. Whatever path a block takes (a kernel's FastReduce, the traced generic
path, direct calls for a kernel the trace cannot follow), :func:`reduce_block` must give the same metrics.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sigcube.compute import replay as fastpath
from sigcube.compute.fast_paths import fast_reduce_of
from sigcube.compute.reduce import Prepared, reduce_block
from sigcube.model import metrics
from sigcube.model.kernels import KernelError, Parameter, get_kernel, kernel, kernel_names, registry
from sigcube.model.points import PointSet, velocity_points

RTOL = 1e-9
"""Paths differ in summation order and in log10(V_obs/V) vs log10 V_obs − ln V/ln 10: ~1e-15 per term."""
ATOL = 1e-9
"""km/s, dex: a metric that is ~0 (a perfect fit) cannot be compared relatively."""


def random_points(seed: int, counts: list[int]) -> PointSet:
    """Objects of ``counts`` points with every input a registered kernel declares; per-object inputs repeated."""
    rng = np.random.default_rng(seed)
    n = sum(counts)
    r = np.concatenate([np.sort(rng.uniform(0.1, 40.0, c)) for c in counts])
    v_bar = rng.uniform(5.0, 300.0, n)
    pts = velocity_points("galaxy", [f"g{i}" for i in range(len(counts))], counts, r,
                          v_bar * rng.uniform(0.7, 1.6, n), rng.uniform(1.0, 20.0, n), v_bar)
    per_object = lambda values: np.repeat(values, counts)  # noqa: E731
    k = len(counts)
    weights = rng.dirichlet(np.ones(3), k)
    r_d = rng.uniform(0.3, 8.0, (3, k))
    inputs = {
        **{f"R_d_{s}": per_object(r_d[i]) for i, s in enumerate(("third", "table", "vdisk_peak"))},
        **{f"Omega_d_{s}": per_object(rng.uniform(5.0, 100.0, k)) for s in ("third", "table", "vdisk_peak")},
        "f_bulge": per_object(rng.uniform(0.0, 0.5, k)),
        "w_gas": per_object(weights[:, 0]), "w_disk": per_object(weights[:, 1]), "w_bul": per_object(weights[:, 2]),
        "V_bar_max": np.maximum.reduceat(v_bar, pts.offsets[:-1]).repeat(counts),
        "M_b": per_object(10.0 ** rng.uniform(8.0, 11.5, k)), "M_star": per_object(10.0 ** rng.uniform(6.0, 11.5, k)),
        "Sigma_star": 10.0 ** rng.uniform(0.0, 3.0, n), "Sigma_gas": 10.0 ** rng.uniform(-1.0, 1.5, n),
    }
    pts.inputs.update(inputs)
    return pts


def draw_value(rng: np.random.Generator, p: Parameter, size: int | None = None) -> np.ndarray:
    """Values in p's declared bounds: log-uniform where they span more than three decades above 0."""
    lo, hi = p.bounds
    if lo > 0 and hi / lo > 1e3:
        return 10.0 ** rng.uniform(np.log10(lo), np.log10(hi), size)
    return rng.uniform(lo, hi, size)


def draw_parameters(kernel, seed: int, n_swept: int, n_grid: int) -> tuple[dict, dict]:
    """Random switches and fixed values, and ``n_swept`` numeric parameters swept over ``n_grid`` random values.
    A value a kernel's constraint refuses (window_exponent of a fixed window) goes back to its default."""
    rng = np.random.default_rng(seed)
    fixed = {p.name: p.choices[rng.integers(len(p.choices))] if p.categorical else float(draw_value(rng, p))
             for p in kernel.parameters}
    numeric = [p.name for p in kernel.numeric_parameters]
    swept = {name: draw_value(rng, kernel.parameter(name), n_grid)
             for name in rng.permutation(numeric)[:n_swept]} if numeric else {}
    for name in [*numeric, None]:
        try:
            kernel.resolve({**fixed, **{k: v[0] for k, v in swept.items()}})
            break
        except KernelError:
            fixed[name] = kernel.parameter(name).default
            swept.pop(name, None)
    return {k: v for k, v in fixed.items() if k not in swept}, swept


def reference(points: PointSet, kernel, fixed: dict, swept: dict, baseline_rms: np.ndarray) -> dict:
    """The kernel on the full (grid × points) array, then sigcube.model.metrics' reductions."""
    n_grid = len(next(iter(swept.values()))) if swept else 1
    params = kernel.resolve(fixed)
    with np.errstate(all="ignore"):
        v = np.broadcast_to(kernel.func(points.inputs, **{**params, **{k: x[:, None] for k, x in swept.items()}}),
                            (n_grid, points.n_points))
        p = points.inputs
        per_object = metrics.object_metrics(v, p["v_obs"], p["e_v_obs"], points.offsets)
        parts = metrics.partials(per_object["rms"], per_object["chi2"], points.offsets,
                                 *metrics.log_moments(p["v_obs"], v), baseline_rms)
        return {**metrics.finalize(parts), "rms": per_object["rms"], "chi2": per_object["chi2"], "v_pred": v,
                "partials": parts}


def assert_same(got: dict, want: dict, context: str) -> None:
    for key in want.keys() - {"partials"}:
        np.testing.assert_allclose(got[key], want[key], rtol=RTOL, atol=ATOL, err_msg=f"{context}: {key}")
    for key, value in want["partials"].items():
        np.testing.assert_allclose(got["partials"][key], value, rtol=RTOL, atol=ATOL,
                                   err_msg=f"{context}: partials {key}")


def check(points: PointSet, kernel, fixed: dict, swept: dict) -> None:
    """reduce_block (and with keep_curves, which never takes a FastReduce) against :func:`reference`."""
    prep = Prepared.build(points, kernel, fixed, get_kernel("newtonian"))
    want = reference(points, kernel, fixed, swept, prep.baseline_rms)
    block = swept or {}
    context = f"{kernel.name} fixed={fixed} swept={ {k: v.tolist() for k, v in swept.items()} }"
    with np.errstate(all="ignore"):
        fast = reduce_block(prep, block)
        curves = reduce_block(prep, block, keep_curves=True)
    # A win is RMS < the baseline's: where the two tie to rounding (a kernel that is Newtonian at these
    # parameters) either answer is right, so n_wins may be anything from the sure wins to the possible ones.
    base = prep.baseline_rms
    sure = np.sum(want["rms"] < base - ATOL - RTOL * base, axis=-1)
    possible = np.sum(want["rms"] < base + ATOL + RTOL * base, axis=-1)
    got_wins = np.reshape(fast["partials"]["n_wins"], sure.shape)
    assert np.all((sure <= got_wins) & (got_wins <= possible)), f"{context}: n_wins {got_wins} not in [{sure}, {possible}]"
    want["partials"]["n_wins"] = got_wins
    want["win_rate"] = got_wins / want["partials"]["n_objects"]
    want_fast = {k: v for k, v in want.items() if k != "v_pred"}
    if not swept:  # a 0-d block: the reference's single grid row
        want_fast = {k: v[0] if np.ndim(v) and k != "partials" else v for k, v in want_fast.items()}
        want_fast["partials"] = {k: v[0] if np.ndim(v) else v for k, v in want["partials"].items()}
        want["v_pred"] = want["v_pred"][0]
    assert_same(fast, want_fast, context)
    assert_same(curves, {**want_fast, "v_pred": want["v_pred"]}, context + " (keep_curves)")


layouts = st.lists(st.integers(1, 12), min_size=1, max_size=5)
seeds = st.integers(0, 2**32 - 1)


@pytest.mark.parametrize("name", kernel_names())
@settings(max_examples=15, deadline=None)
@given(seed=seeds, counts=layouts, n_swept=st.integers(1, 2), n_grid=st.integers(1, 19))
def test_every_kernel_fast_path_equals_the_reference(name, seed, counts, n_swept, n_grid):
    kernel = get_kernel(name)
    fixed, swept = draw_parameters(kernel, seed, n_swept, n_grid)
    check(random_points(seed, counts), kernel, fixed, swept)


def _switch_settings(kernel) -> list[dict]:
    switches = [p for p in kernel.parameters if p.categorical]
    return [dict(zip((p.name for p in switches), values)) for values in
            itertools.product(*(p.choices for p in switches))]


CASES = [(name, s) for name in kernel_names() for s in _switch_settings(get_kernel(name))]


@pytest.mark.parametrize(("name", "switches"), CASES, ids=[f"{n}-{'-'.join(s.values()) or 'plain'}" for n, s in CASES])
def test_every_switch_setting_is_traced_and_equals_the_reference(name, switches):
    """Each switch value at a swept amplitude and a second parameter: the generic path traces it (never
    the direct fallback), and agrees; a kernel's FastReduce, where it applies, agrees too."""
    kernel = get_kernel(name)
    points = random_points(7, [4, 1, 9, 3])
    rng = np.random.default_rng(11)
    numeric = [p.name for p in kernel.numeric_parameters if p.name != "window_exponent"
               or switches.get("window") == "power"]
    swept = {n: draw_value(rng, kernel.parameter(n), 6) for n in numeric[:2]}
    params = kernel.resolve(switches)
    if swept:
        assert fastpath.path(points, kernel, params, swept) == "traced"
    check(points, kernel, switches, swept)


@pytest.fixture
def scratch_registry(monkeypatch):
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))


SCALE = Parameter("s", 1.0, "", (0.0, 10.0), description="velocity scale")
SHAPE = Parameter("ell", 2.0, "kpc", (0.1, 10.0), description="a length")


def _plugin(func, name: str):
    return kernel(summary="s", source="test", formula="V = …", inputs=("r", "v_bar", "R_d_table"),
                  parameters=(SCALE, SHAPE), name=name)(func)


def test_a_plugin_kernel_without_a_fast_reduce_takes_the_traced_path(scratch_registry):
    def plugin(points, *, s, ell):
        r, r_d = points["r"], points["R_d_table"]
        return points["v_bar"] * np.sqrt(1.0 + s * np.tanh(r / (ell * r_d)) ** 1.5)

    toy = _plugin(plugin, "toy_traced")
    assert toy.fast_reduce is None and "toy_traced" in kernel_names()
    points = random_points(3, [5, 2, 8])
    swept = {"s": np.linspace(0.0, 3.0, 7), "ell": np.linspace(0.5, 4.0, 7)}
    assert fastpath.path(points, toy, toy.resolve(), swept) == "traced"
    check(points, toy, {}, swept)
    # by hand: s = 0 is Newtonian, so its RMS is Newton's
    newton = reference(points, get_kernel("newtonian"), {}, {}, None)["rms"][0]
    np.testing.assert_allclose(reduce_block(Prepared.build(points, toy, {}, None), swept)["rms"][0], newton, rtol=1e-12)


def test_an_untraceable_kernel_falls_back_to_direct_calls(scratch_registry):
    def branchy(points, *, s, ell):  # np.where and np.interp on a swept value: not ufuncs the trace can record
        r = points["r"]
        boost = np.where(r > ell, s, 0.5 * s) + np.interp(ell, [0.0, 10.0], [0.0, 1.0]) * 0.0
        return points["v_bar"] * np.sqrt(1.0 + boost)

    toy = _plugin(branchy, "toy_direct")
    points = random_points(5, [3, 6, 1, 4])
    swept = {"s": np.linspace(0.1, 2.0, 5), "ell": np.linspace(1.0, 20.0, 5)}
    assert fastpath.path(points, toy, toy.resolve(), swept) == "direct"
    check(points, toy, {}, swept)
    check(points, toy, {"ell": 3.0}, {"s": swept["s"]})  # only s swept: np.where still meets a swept value


def test_a_sweep_that_does_not_reach_v_pred_is_evaluated_once(scratch_registry):
    def flat(points, *, s, ell):  # s and ell are declared, neither enters V_pred
        return points["v_bar"] * 1.1

    toy = _plugin(flat, "toy_constant")
    points = random_points(9, [4, 4])
    swept = {"s": np.linspace(0.0, 2.0, 4)}
    assert fastpath.path(points, toy, toy.resolve(), swept) == "constant"
    check(points, toy, {}, swept)


def test_the_canonical_numba_loop_runs_along_k_and_agrees():
    """Σ's FastReduce takes a block where ξ varies and g† does not (linear window); elsewhere the generic path."""
    sigma = get_kernel("sigma")
    fast = fast_reduce_of(sigma)
    params = sigma.resolve()
    k, A0 = np.linspace(0.05, 0.5, 9), np.linspace(0.5, 2.0, 9)
    assert fast.applies({**params, "k": k, "A0": A0})
    assert not fast.applies({**params, "A0": A0})
    assert not fast.applies({**params, "k": k, "g_dagger": np.linspace(0.8e-10, 1.2e-10, 9)})
    assert not fast.applies({**sigma.resolve({"window": "sqrt"}), "k": k})
    points = random_points(21, [7, 2, 11, 5])
    check(points, sigma, {}, {"k": k, "A0": A0})
    check(points, sigma, {"D": 0.7, "L": 3.0, "n": 0.5}, {"k": k})


def test_the_canonical_numba_loop_tiles_a_large_object_chunk():
    """Over TILE_POINTS points the loop takes tiles of whole galaxies (one larger than a tile alone): the same
    metrics as the reference, and each tile's RAR moments added to the grid's."""
    from sigcube.compute.sigma_loop import TILE_POINTS

    rng = np.random.default_rng(8)
    counts = [int(c) for c in rng.integers(5, 60, 200)] + [TILE_POINTS + 7] + [int(c) for c in rng.integers(5, 60, 90)]
    points = random_points(8, counts)
    assert points.n_points > 2 * TILE_POINTS
    check(points, get_kernel("sigma"), {}, {"k": np.linspace(0.05, 0.5, 70), "A0": np.linspace(0.5, 2.0, 70)})


@pytest.mark.parametrize(("name", "fixed", "swept"),
                         [("burr_xii", {"n_coh": 0.5}, "ell0"), ("cmsi", {"n": 2.0}, "ell0")])
def test_a_power_of_minus_one_half_is_an_inverse_square_root(name, fixed, swept):
    """x**−0.5 (Burr-XII at n_coh = ½, CMSI's profile at n = 2) is replayed as 1/√x, not np.power, and agrees
    with the reference (np.power) over the whole reduction."""
    from sigcube.compute.replay import _traced
    from sigcube.compute.vecmath import inverse_sqrt

    kernel = get_kernel(name)
    points = random_points(5, [9, 4, 13, 6])
    grid = {swept: np.linspace(0.5, 8.0, 11)}
    trace = _traced(points, kernel, kernel.resolve(fixed), grid)
    ufuncs = [node.ufunc for node in trace.nodes if node.domain == fastpath.POINT]
    assert inverse_sqrt in ufuncs and np.power not in ufuncs
    check(points, kernel, fixed, grid)
