"""The kernel decorator: names and signatures checked at registration; fast paths attached to kernels."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import sigcube
from sigcube.compute.reduce import Prepared, reduce_block
from sigcube.model import metrics
from sigcube.model.kernels import FastReduce, KernelError, Parameter, get_kernel, kernel, registry
from sigcube.model.points import velocity_points

SCALE = Parameter("s", 1.0, "", (0.0, 10.0), description="velocity scale")
MODE = Parameter("mode", "plain", choices=("plain", "other"), description="a switch")


@pytest.fixture
def scratch_registry(monkeypatch):
    """Register into a copy of the registry, so test kernels do not outlive the test."""
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))


def _declare(**extra):
    return kernel(summary="s", source="test", formula="V = s·V_bar", inputs=("v_bar",), **extra)


def test_the_decorator_registers_under_the_function_name(scratch_registry):
    @sigcube.kernel(summary="s", source="test", formula="V = s·V_bar", inputs=("v_bar",), parameters=(SCALE,))
    def scaled(points, *, s):
        return s * points["v_bar"]

    assert get_kernel("scaled") is scaled and scaled.parameters == (SCALE,)
    np.testing.assert_allclose(scaled({"v_bar": np.array([2.0, 3.0])}, s=2.0), [4.0, 6.0])
    named = _declare(name="other_name", parameters=(SCALE,))(lambda points, *, s: s * points["v_bar"])
    assert get_kernel("other_name") is named


@pytest.mark.parametrize(("params", "func", "match"), [
    ((SCALE,), lambda points, *, t: points["v_bar"], "declared but not in the function: s; in the function but "
                                                     "not declared: t"),
    ((SCALE, MODE), lambda points, *, s: points["v_bar"], "declared but not in the function: mode$"),
    ((), lambda points, *, s=1.0: points["v_bar"], "in the function but not declared: s$"),
    ((SCALE,), lambda points, s: points["v_bar"], r"must be f\(points, \*, <parameters>\)"),
    ((SCALE,), lambda points, **params: points["v_bar"], r"must be f\(points, \*, <parameters>\)"),
])
def test_a_signature_that_differs_from_the_declaration_is_refused(scratch_registry, params, func, match):
    with pytest.raises(KernelError, match=match):
        _declare(name="mismatched", parameters=params)(func)
    assert "mismatched" not in registry._REGISTRY


def test_names_are_unique_and_the_amplitude_must_be_declared(scratch_registry):
    with pytest.raises(KernelError, match="'sigma' is already registered"):
        _declare(name="sigma", parameters=(SCALE,))(lambda points, *, s: points["v_bar"])
    sigma = get_kernel("sigma")
    assert registry.register(sigma) is sigma  # the same object again: a no-op
    with pytest.raises(KernelError, match="amplitude 'A' is not a declared parameter"):
        _declare(name="no_amplitude", parameters=(SCALE,), amplitude="A")(lambda points, *, s: points["v_bar"])


def test_switch_inputs_are_required_only_under_their_value(scratch_registry):
    @sigcube.kernel(summary="s", source="test", formula="V = s·V_bar or s·V_alt", inputs=("v_bar",),
                    parameters=(SCALE, MODE), switch_inputs={"mode": {"other": ("v_alt",)}})
    def switched(points, *, s, mode):
        return s * points["v_alt" if mode == "other" else "v_bar"]

    points = {"v_bar": np.array([2.0, 3.0])}
    assert switched.all_inputs == ("v_bar", "v_alt") and switched.missing_inputs(points) == []
    assert switched.required_inputs({"s": 1.0, "mode": "other"}) == ("v_bar", "v_alt")
    np.testing.assert_allclose(switched(points, s=2.0), [4.0, 6.0])
    assert switched.missing_inputs(points, {"mode": "other"}) == ["v_alt"]
    with pytest.raises(KernelError, match=r"'switched' needs point inputs v_alt \(read with mode = 'other'; "
                                          r"mode = 'plain' needs none of them\)$"):
        switched(points, mode="other")
    assert switched.describe()["switch_inputs"] == {"mode": {"other": ["v_alt"]}}
    for wrong, match in (({"s": {"x": ("v",)}}, "not a value of a declared switch"),
                         ({"mode": {"third": ("v",)}}, r"\['third'\], which is not a value"),
                         ({"nope": {"x": ("v",)}}, "has no parameter 'nope'")):
        with pytest.raises(KernelError, match=match):
            _declare(name="bad_switch", parameters=(SCALE, MODE), switch_inputs=wrong)(
                lambda points, *, s, mode: points["v_bar"])
    assert "bad_switch" not in registry._REGISTRY


def _points():
    """Two objects, V_obs = 1.1·V_bar, e_V = 2 km/s."""
    v_bar = np.array([50.0, 80.0, 100.0, 120.0, 90.0])
    return velocity_points("object", ["a", "b"], [2, 3], np.arange(1.0, 6.0), 1.1 * v_bar, np.full(5, 2.0), v_bar)


def test_a_fast_path_attached_to_a_kernel_runs_where_it_applies(scratch_registry):
    """reduce_block asks the kernel, never its name: the fast path runs for mode = plain only, and agrees."""
    calls = []

    def reduce(points, params, grid, n_grid):
        calls.append(n_grid)
        p = points.inputs
        v = np.broadcast_to(grid.get("s", params["s"]), (n_grid,))[:, None] * p["v_bar"]
        per = metrics.object_metrics(v, p["v_obs"], p["e_v_obs"], points.offsets)
        return (per["rms"], per["chi2"], *metrics.log_moments(p["v_obs"], v))

    fast = FastReduce(lambda params: params["mode"] == "plain", reduce)
    toy = _declare(name="toy", parameters=(SCALE, MODE), fast_reduce=fast)(lambda points, *, s, mode: s * points["v_bar"])
    prep = Prepared.build(_points(), toy, {}, get_kernel("newtonian"))
    block = {"s": np.array([1.0, 1.1, 1.2])}
    fast_out = reduce_block(prep, block)
    assert calls == [3]
    plain = reduce_block(prep, block, keep_curves=True)
    other = reduce_block(prep, {**block, "mode": "other"})
    assert calls == [3], "keep_curves and mode = other use the kernel's numpy function"
    # The paths round differently (the generic one takes ln V_pred, the toy's log10(V_obs/V_pred)), so a
    # metric that is 0 in exact arithmetic is not 0 on every path: the RMS at s = 1.1 (~1e-16 km/s), and the
    # RAR scatter of a constant residual (every s here), √(Σx²/N − (Σx/N)²) of x ≈ log10 1.1, which cancels
    # to √(ε·x²) ≈ 1e-9 dex or to 0 depending on the last bit of the sums. rtol alone cannot compare them;
    # an absolute 1e-12 km/s for velocities and 1e-8 dex for the scatters can.
    for key in fast_out.keys() - {"partials"}:
        atol = 1e-8 if key.startswith("rar_scatter") else 1e-12
        np.testing.assert_allclose(fast_out[key], plain[key], rtol=1e-12, atol=atol, err_msg=key)
        np.testing.assert_allclose(other[key], plain[key], rtol=1e-12, atol=atol, err_msg=key)
    for key in fast_out["partials"]:
        np.testing.assert_allclose(fast_out["partials"][key], plain["partials"][key], rtol=1e-12, atol=1e-12,
                                   err_msg=key)
    # by hand: s = 1.1 reproduces V_obs exactly; the RMS is 0 there and the win rate against Newton is 1
    assert fast_out["mean_rms"][1] == pytest.approx(0.0, abs=1e-12) and fast_out["win_rate"][1] == 1.0


def test_no_generic_module_chooses_code_by_kernel_name():
    root = Path(sigcube.__file__).parent
    literal = r"""["'](?:sigma|mond|newtonian)\w*["']"""
    pattern = re.compile(rf"""kernel\w*\.name\s*[!=]=\s*["']|["']\s*[!=]=\s*\w*kernel\w*\.name|name\s*[!=]=\s*{literal}""")
    hits = [f"{path.relative_to(root)}:{i}" for path in root.rglob("*.py") if path.parent.name != "kernels"
            for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if pattern.search(line)]
    assert hits == []
