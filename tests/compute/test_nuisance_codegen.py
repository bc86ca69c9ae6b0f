"""The compiled nuisance path against the numpy path it is derived from, for every registered kernel.

- the kernel traced to scalar code and the nuisance transform written as scalar code (:mod:`sigcube.compute.nuisance_codegen`)
  give the numpy transform's inputs and the kernel function's V_pred, at random parameters and nuisance values;
- the prior-map tables interpolate every prior family's exact map;
- the compiled pair solver (:mod:`sigcube.compute.quadrature_compiled`) gives the numpy implementation's marginal likelihood,
  profile and errors (``compiled=False``: :mod:`sigcube.compute.quadrature`'s reference), with and without an
  error floor, for subsets of the nuisance parameters and for per-object parameters;
- a kernel the trace cannot follow is marginalised by the numpy implementation.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sigcube.compute import quadrature as Q
from sigcube.compute import quadrature_compiled as adaptive
from sigcube.compute.nuisance_codegen import SUPPORTED_INPUTS, compile_predict, evaluate
from sigcube.compute.tracer import Untraceable, trace
from sigcube.model.kernels import Parameter, get_kernel, kernel, kernel_names, registry
from sigcube.stats.likelihood import GaussianLikelihood
from sigcube.stats.nuisance import Catalogue, NuisanceTransform, sparc_priors
from sigcube.stats.priors import Prior
from sigcube.stats.synthetic import synthetic_sample

SIGMA = get_kernel("sigma")
TRACEABLE = [name for name in kernel_names() if name != "newtonian"]
"""Every registered kernel but ``newtonian`` (np.asarray of an input: no parameter, nothing to compile)."""
SLOW_TO_COMPILE = {"resonance"}
"""Its 64-node quadrature is ~1,900 scalar operations: numba takes ~18 s to compile it (checked with -m slow)."""


def _sample(seed: int, n: int = 5):
    """Synthetic galaxies (half with a bulge) with every catalogue column a kernel input needs."""
    s = synthetic_sample(SIGMA, {}, n, seed=seed, bulge_fraction=0.5)
    rng = np.random.default_rng(seed)
    n_pts = s.points.n_points
    lum = 10 ** rng.uniform(-1, 2, n)
    columns = {**s.catalogue.columns, "L36": lum, "L_bul": lum * rng.uniform(0, 0.5, n),
               "M_HI": 10 ** rng.uniform(-1, 1, n)}
    points = {"sb_disk": 10 ** rng.uniform(0, 3, n_pts), "sb_bul": 10 ** rng.uniform(-1, 3, n_pts)}
    return s.points, Catalogue(s.catalogue.galaxy, columns, points)


def _draw(rng: np.random.Generator, p: Parameter, size=None):
    lo, hi = p.bounds
    if lo > 0 and hi / lo > 1e3:
        return 10.0 ** rng.uniform(np.log10(lo), np.log10(hi), size)
    return rng.uniform(lo, hi, size)


def test_every_registered_kernel_but_newtonian_traces_with_every_input_supported():
    for name in TRACEABLE:
        k = get_kernel(name)
        params = k.resolve({})
        assert set(k.required_inputs(params)) <= SUPPORTED_INPUTS
        program = trace(k, params, tuple(p.name for p in k.numeric_parameters), k.required_inputs(params))
        assert program.nodes and program.out[0] == "node", name


@settings(max_examples=20, deadline=None, derandomize=True)
@given(name=st.sampled_from(sorted(set(TRACEABLE) - SLOW_TO_COMPILE)), seed=st.integers(0, 2**16))
def test_compiled_predict_equals_the_numpy_transform_and_kernel(name, seed):
    """Random switches and fixed values, 1–2 variable parameters with a value per galaxy, random Υ and D."""
    _check_predict(name, seed)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SLOW_TO_COMPILE))
def test_compiled_predict_of_the_slow_to_compile_kernels(name):
    for seed in range(3):
        _check_predict(name, seed)


def _check_predict(name: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    k = get_kernel(name)
    fixed = {p.name: p.choices[rng.integers(len(p.choices))] if p.categorical else p.default for p in k.parameters}
    try:
        params = k.resolve(fixed)
    except Exception:  # noqa: BLE001 — a switch combination the kernel's constraint refuses
        params = k.resolve({})
    numeric = [p.name for p in k.numeric_parameters]
    variable = list(rng.permutation(numeric)[:rng.integers(1, 3)])
    points, catalogue = _sample(seed % 7)
    transform = NuisanceTransform(points, catalogue, k.required_inputs(params))
    n = transform.n_galaxies
    values = np.column_stack([_draw(rng, k.parameter(v), n) for v in variable])
    nuisance = np.column_stack([rng.uniform(0.2, 1.5, n), rng.uniform(0.2, 1.5, n), rng.uniform(0.5, 2.0, n)])
    compiled = compile_predict(k, params, variable)
    if compiled is None:  # a Python branch on a variable parameter (e.g. the power window's exponent)
        with pytest.raises(Untraceable):
            trace(k, params, tuple(variable), k.required_inputs(params))
        return
    got = evaluate(compiled, transform, nuisance, values)
    inputs = transform.kernel_inputs({"upsilon_disk": nuisance[None, :, 0], "upsilon_bul": nuisance[None, :, 1],
                                      "distance": (nuisance[:, 2] * transform.distance0)[None, :]})
    per_point = {v: transform.to_points(values[:, j])[None, :] for j, v in enumerate(variable)}
    with np.errstate(all="ignore"):
        expected = np.broadcast_to(k.func(inputs, **{**params, **per_point}), (1, transform.n_points))[0]
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12, equal_nan=True, err_msg=f"{name} {variable}")


def test_the_trace_refuses_what_scalar_code_cannot_hold(monkeypatch):
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))  # the test kernel does not outlive the test

    @kernel(summary="s", source="test", formula="V = …", inputs=("v_bar",),
            parameters=(Parameter("s", 1.0, "", (0.0, 10.0), description="a boost"),), name="clipped_boost")
    def clipped_boost(points, *, s):
        return np.where(points["v_bar"] > 50.0, s * points["v_bar"], points["v_bar"])

    with pytest.raises(Untraceable, match="where"):
        trace(clipped_boost, clipped_boost.resolve({}), ("s",), ("v_bar",))
    assert compile_predict(clipped_boost, clipped_boost.resolve({}), ["s"]) is None


@pytest.mark.parametrize("spec", [
    {"dist": "normal", "loc": 2.0, "scale": 0.5},
    {"dist": "log10_normal", "median": 0.5, "sigma_dex": 0.1},
    {"dist": "truncated_normal", "loc": 80.0, "scale": 6.0, "lower": 0.0, "upper": 90.0},
    {"dist": "truncated_normal", "loc": 3.0, "scale": 2.0, "lower": 0.0},
    {"dist": "uniform", "lower": 0.3, "upper": 1.2},
    {"dist": "log_uniform", "lower": 0.1, "upper": 10.0},
])
def test_prior_tables_interpolate_the_exact_maps(spec):
    prior = Prior.from_spec(spec)
    tab = adaptive.tables(prior, 1)[0]
    z = np.random.default_rng(0).uniform(-adaptive.Z_LIMIT, adaptive.Z_LIMIT, 2000)
    got = np.array([adaptive._lookup(tab, float(v)) for v in z])
    lo, hi = prior.support()
    scale = np.ptp(prior.from_normal(np.array([-3.0, 3.0])))
    np.testing.assert_allclose(got, prior.from_normal(z), rtol=0, atol=1e-7 * scale)
    assert np.all(got >= lo - 1e-12 * abs(lo)) and np.all(got <= hi + 1e-12 * abs(hi))  # the exact maps round so too


def _compare(k, params, transform, priors, sigma_int=0.0, per_object=None, nodes=5):
    """Compiled vs numpy at every pair whose mode both find inside the z box and converged."""
    lik = GaussianLikelihood(sigma_int)
    fast = Q.marginalise(k, params, transform, priors, lik, nodes=nodes, per_object=per_object)
    ref = Q.marginalise(k, params, transform, priors, lik, nodes=nodes, per_object=per_object, compiled=False)
    clean = fast.mode.converged & ref.mode.converged
    clean &= (np.nanmax(np.abs(fast.mode.z), -1) < 11.9) & (np.nanmax(np.abs(ref.mode.z), -1) < 11.9)
    assert clean.mean() > 0.9
    np.testing.assert_allclose(fast.log_marginal[clean], ref.log_marginal[clean], rtol=0, atol=2e-3)
    objective = [-m.log_likelihood + 0.5 * m.chi2_prior for m in (fast.mode, ref.mode)]  # what the mode minimises
    np.testing.assert_allclose(objective[0][clean], objective[1][clean], rtol=0, atol=1e-4)
    np.testing.assert_allclose(fast.log_laplace[clean], ref.log_laplace[clean], rtol=0, atol=2e-3)
    return fast, ref, clean


@pytest.fixture(scope="module")
def galaxies():
    s = synthetic_sample(SIGMA, {}, 12, seed=3, bulge_fraction=0.4, sigma_int=3.0)
    return s.points, s.catalogue


@pytest.mark.parametrize("name, grid, sigma_int, free", [
    ("sigma", {"A0": np.linspace(0.8, 1.6, 4)[:, None], "k": np.full((4, 1), 0.1)}, 0.0, None),
    ("sigma", {"A0": np.linspace(0.8, 1.6, 4)[:, None]}, 4.0, None),
    ("sigma", {"A0": np.linspace(0.8, 1.6, 4)[:, None]}, 0.0, ("upsilon_disk", "distance")),
    ("sigma", {"A0": np.linspace(0.8, 1.6, 4)[:, None], "window": "c_local"}, 0.0, ("inclination",)),
    ("mond", {"a0": np.geomspace(0.6e-10, 2e-10, 4)[:, None]}, 0.0, None),
    ("nfw", {"log10_M200": np.linspace(10.5, 12.0, 3)[:, None], "c": np.full((3, 1), 8.0)}, 2.0, None),
    ("sigma_dynamical", {"k": np.linspace(0.2, 0.5, 3)[:, None]}, 0.0, ("upsilon_disk", "upsilon_bul")),
])
def test_the_compiled_solver_equals_the_numpy_reference(galaxies, name, grid, sigma_int, free):
    points, catalogue = galaxies
    k = get_kernel(name)
    scalars = {key: (v if isinstance(v, str) else float(np.asarray(v).flat[0])) for key, v in grid.items()}
    transform = NuisanceTransform(points, catalogue, k.required_inputs(k.resolve(scalars)))
    priors = sparc_priors(catalogue)
    if free:
        priors = {key: p for key, p in priors.items() if key in free}
    _compare(k, grid, transform, priors, sigma_int)


def test_per_object_parameters_and_the_profile_match_the_reference(galaxies):
    """SI §15's per-galaxy (A, ξ) as per-object parameters; the profile's values and 1σ errors."""
    points, catalogue = galaxies
    k = get_kernel("sigma_xi")
    transform = NuisanceTransform(points, catalogue, k.required_inputs(k.resolve({})))
    priors = sparc_priors(catalogue)
    rng = np.random.default_rng(1)
    per_object = {"A": rng.uniform(0.5, 2.0, (3, transform.n_galaxies)),
                  "xi": rng.uniform(0.5, 5.0, (3, transform.n_galaxies))}
    _compare(k, {}, transform, priors, per_object=per_object)
    fast = Q.profile(k, {}, transform, priors, per_object=per_object)
    ref = Q.profile(k, {}, transform, priors, per_object=per_object, compiled=False)
    ok = fast.converged & ref.converged
    for name in ("upsilon_disk", "distance", "inclination"):
        np.testing.assert_allclose(fast.values[name][ok], ref.values[name][ok], rtol=1e-3)
        np.testing.assert_allclose(fast.errors[name][ok], ref.errors[name][ok], rtol=2e-2)


def test_a_kernel_that_cannot_be_compiled_is_marginalised_by_the_numpy_path(galaxies, monkeypatch):
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))

    @kernel(summary="s", source="test", formula="V = …", inputs=("v_bar",),
            parameters=(Parameter("s", 1.0, "", (0.0, 10.0), description="a boost"),), name="gated_boost")
    def gated_boost(points, *, s):
        return np.where(points["v_bar"] > 0.0, points["v_bar"] * np.sqrt(s), 0.0)

    @kernel(summary="s", source="test", formula="V = …", inputs=("v_bar",),
            parameters=(Parameter("s", 1.0, "", (0.0, 10.0), description="a boost"),), name="stepped_boost")
    def stepped_boost(points, *, s):  # traces, but numba has no scalar np.heaviside
        return points["v_bar"] * np.sqrt(1.0 + s * np.heaviside(points["v_bar"] - 50.0, 0.5))

    points, catalogue = galaxies
    transform = NuisanceTransform(points, catalogue, ("v_bar",))
    priors = sparc_priors(catalogue)
    grid = {"s": np.array([[1.0], [1.4]])}
    for k in (gated_boost, stepped_boost):
        assert compile_predict(k, k.resolve({}), ["s"]) is None
        default = Q.marginalise(k, grid, transform, priors)
        reference = Q.marginalise(k, grid, transform, priors, compiled=False)
        np.testing.assert_array_equal(default.log_marginal, reference.log_marginal)


def test_what_reads_only_per_galaxy_values_is_computed_once_per_galaxy():
    """A ΛCDM halo's M200 (the SHMR's inverse, an iteration) and μ(c) read only M★ and the parameters: the scalar code
    computes them before the point loop, and the compiled predict still equals the kernel's numpy function."""
    for name in ("nfw_lcdm", "dc14_lcdm"):
        k = get_kernel(name)
        params = k.resolve({})
        program = trace(k, params, ("z_M200", "z_c"), k.required_inputs(params))
        source, _, n_hoisted = program.source("point", {"M_star"})
        once, per_point = source.split("def point(")
        assert n_hoisted >= 2 and "ufunc_double_power_inverse" in once and "ufunc_double_power_inverse" not in per_point
        points, catalogue = _sample(2)
        transform = NuisanceTransform(points, catalogue, k.required_inputs(params))
        n = transform.n_galaxies
        rng = np.random.default_rng(7)
        values = rng.normal(0.0, 1.5, (n, 2))
        nuisance = np.column_stack([rng.uniform(0.2, 1.5, n), rng.uniform(0.2, 1.5, n), rng.uniform(0.5, 2.0, n)])
        got = evaluate(compile_predict(k, params, ["z_M200", "z_c"]), transform, nuisance, values)
        inputs = transform.kernel_inputs({"upsilon_disk": nuisance[None, :, 0], "upsilon_bul": nuisance[None, :, 1],
                                          "distance": (nuisance[:, 2] * transform.distance0)[None, :]})
        per_point = {v: transform.to_points(values[:, j])[None, :] for j, v in enumerate(("z_M200", "z_c"))}
        np.testing.assert_allclose(got, k.func(inputs, **{**params, **per_point})[0], rtol=1e-12, err_msg=name)
