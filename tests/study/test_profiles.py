"""Profiles that converge: every profile `report compare` and `report ablation` use (per-object fits with
``[nuisance] mode = "profile"``, the global grids' modes, MOND's RAR fit) reaches, galaxy by galaxy, an objective
χ² + |z|² within 1e-3 of an independent multi-start optimum (:func:`multistart`); the profile's restarts find the
lower of the two minima of UGC07577 (MOND, a0 fixed), where a single descent stops 0.77 short."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pytest
from scipy.optimize import least_squares

from sigcube.compute.quadrature import profile
from sigcube.compute.quadrature_compiled import Z_LIMIT
from sigcube.engines.evidence import Data, global_evidence
from sigcube.engines.fit.core import _fixed
from sigcube.engines.fit.run import fit_points
from sigcube.engines.fit.spec import FitSpec, FreeParameter
from sigcube.model.kernels.registry import Kernel, get_kernel
from sigcube.model.segments import segment_sum
from sigcube.stats.adaptive_grid import grid_points
from sigcube.stats.nuisance import NUISANCE_PARAMETERS, Catalogue, NuisanceTransform, sparc_priors
from sigcube.study.reports import ablation, compare_models

GAP = 1e-3
"""Largest allowed excess of a profile's objective over the multi-start optimum."""


def multistart(kernel: Kernel, fixed: Mapping, free: Sequence[FreeParameter], transform: NuisanceTransform,
               priors: Mapping, starts: int = 40, iterations: int = 80, polish: int = 2,
               seed: int = 0) -> np.ndarray:
    """Per galaxy, min over (u, z) of χ² + |z|² (σ_int = 0): u the free kernel parameters in their fit coordinates
    (bounded), z the nuisance priors' normal deviates within the profile's stated box |z_j| ≤ Z_LIMIT (a prior
    density e^−72 below its peak: where the data pull further, at a grid's far corners, the profile says it has
    not converged). Independent of sigcube's optimisers: ``starts`` seeded starts
    per galaxy (the first at the box centre, the others uniform over the u-box × [−3, 3]^d), a damped
    Gauss–Newton run on all (start, galaxy) pairs at once with numpy (central-difference Jacobians through
    :class:`NuisanceTransform` and the kernel's numpy function; the bounds by u = lo + (hi − lo)(1 + sin t)/2
    over free t; every iteration taken, no stopping rule), then scipy's bounded least squares (tolerances 1e-12)
    from each galaxy's ``polish`` best distinct outcomes."""
    names = [n for n in NUISANCE_PARAMETERS if n in priors]
    n_gal, k, d = transform.n_galaxies, len(free), len(names)
    counts, offsets = transform.counts, transform.offsets
    lo = np.array([p.u_bounds[0] for p in free])
    hi = np.array([p.u_bounds[1] for p in free])
    rng = np.random.default_rng(seed)
    w = np.concatenate([rng.uniform(-0.5 * np.pi, 0.5 * np.pi, size=(starts, n_gal, k)),
                        rng.uniform(-3.0, 3.0, size=(starts, n_gal, d))], axis=-1)
    w[0] = 0.0

    def u(t: np.ndarray) -> np.ndarray:  # strictly inside: a bound through from_u may round past the kernel's own
        return lo + (hi - lo) * (1e-9 + (1.0 - 2e-9) * 0.5 * (1.0 + np.sin(t)))

    def residuals(w: np.ndarray) -> np.ndarray:
        inputs = transform({n: priors[n].from_normal(w[..., k + j]) for j, n in enumerate(names)})
        x = {p.name: np.repeat(p.from_u(u(w[..., :k])[..., j]), counts, axis=-1) for j, p in enumerate(free)}
        with np.errstate(all="ignore"):
            r = (inputs["v_obs"] - kernel.func(inputs, **fixed, **x)) / inputs["e_v_obs"]
        return np.where(np.isfinite(r), r, 1e3)

    def objective(w: np.ndarray, r: np.ndarray) -> np.ndarray:
        return segment_sum(r * r, offsets) + np.sum(w[..., k:] ** 2, axis=-1)

    r = residuals(w)
    f = objective(w, r)
    lam = np.full(f.shape, 1e-2)
    h = 1e-6
    eye = np.eye(k + d)
    for _ in range(iterations):
        cols = []
        for j in range(k + d):
            wp, wm = w.copy(), w.copy()
            wp[..., j] += h
            wm[..., j] -= h
            cols.append((residuals(wp) - residuals(wm)) / (2 * h))
        g = np.stack([segment_sum(c * r, offsets) for c in cols], axis=-1)
        g[..., k:] += w[..., k:]
        jtj = np.empty(f.shape + (k + d, k + d))
        for a in range(k + d):
            for b in range(a, k + d):
                jtj[..., a, b] = jtj[..., b, a] = segment_sum(cols[a] * cols[b], offsets)
        jtj[..., range(k, k + d), range(k, k + d)] += 1.0
        damped = jtj + lam[..., None, None] * eye * (np.diagonal(jtj, axis1=-2, axis2=-1)[..., None, :] + 1e-9)
        trial = w - np.linalg.solve(damped, g[..., None])[..., 0]
        trial[..., k:] = np.clip(trial[..., k:], -Z_LIMIT, Z_LIMIT)
        r_t = residuals(trial)
        f_t = objective(trial, r_t)
        better = f_t < f
        w = np.where(better[..., None], trial, w)
        f = np.where(better, f_t, f)
        r = np.where(transform.to_points(better), r_t, r)
        lam = np.where(better, np.maximum(lam / 5.0, 1e-9), np.minimum(lam * 10.0, 1e9))
    best = f.min(axis=0)
    lower = np.concatenate([lo, np.full(d, -Z_LIMIT)])
    upper = np.concatenate([hi, np.full(d, Z_LIMIT)])
    for g in range(n_gal):
        one = transform.take(np.array([g]))
        pg = {n: priors[n].take(np.array([g])) for n in names}

        def res(x: np.ndarray, one=one, pg=pg) -> np.ndarray:
            inputs = one({n: pg[n].from_normal(np.array([x[k + j]])) for j, n in enumerate(names)})
            params = {p.name: float(p.from_u(x[j])) for j, p in enumerate(free)}
            with np.errstate(all="ignore"):
                rr = np.ravel((inputs["v_obs"] - kernel.func(inputs, **fixed, **params)) / inputs["e_v_obs"])
            return np.concatenate([np.where(np.isfinite(rr), rr, 1e3), x[k:]])

        order = np.argsort(f[:, g])
        _, first = np.unique(np.round(f[order, g], 6), return_index=True)
        for s in order[np.sort(first)[:polish]]:
            x0 = np.concatenate([u(w[s, g, :k]), w[s, g, k:]])
            fit = least_squares(res, np.clip(x0, lower, upper), bounds=(lower, upper), method="trf",
                                x_scale="jac", xtol=1e-12, ftol=1e-12, gtol=1e-12, max_nfev=2000)
            best[g] = min(best[g], 2.0 * fit.cost)
    return best


@pytest.fixture(scope="module")
def sparc(sparc_cube, sparc_points):
    return sparc_points, Catalogue.from_cube(sparc_cube, sparc_points)


def _transform(spec: FitSpec, points, catalogue) -> tuple[dict, NuisanceTransform]:
    fixed = _fixed(spec)
    inputs = spec.kernel.required_inputs({**fixed, **{p.name: p.lower for p in spec.free}})
    return fixed, NuisanceTransform(points, catalogue, inputs)


def _gaps(got: np.ndarray, best: np.ndarray, galaxies) -> dict[str, float]:
    gap = got - best
    return {str(galaxies[i]): float(gap[i]) for i in np.flatnonzero(~(gap <= GAP))}


def test_ugc07577_profile_finds_the_lower_of_two_minima(sparc):
    """MOND at a0 = 1.2e-10 (report compare's RAR fit): one descent from the prior centre stops in the minimum at
    F = χ² + |z|² = 72.007 (χ² 36.74); the multi-start optimum is 71.236 (χ² 36.77). The restarted profile reaches
    it, by the compiled solver and by the numpy one."""
    points, catalogue = sparc
    index = np.array([list(points.galaxy).index("UGC07577")])
    kernel = get_kernel("mond")
    fixed = kernel.resolve({})
    transform = NuisanceTransform(points, catalogue, kernel.required_inputs(fixed)).take(index)
    priors = {n: p.take(index) for n, p in sparc_priors(catalogue).items()}
    best = multistart(kernel, fixed, [], transform, priors)[0]
    assert best == pytest.approx(71.2358, abs=1e-3)
    single = profile(kernel, fixed, transform, priors, restarts=False)
    assert float(single.chi2[0, 0] + single.chi2_prior[0, 0]) > best + 0.5  # the known short stop
    for compiled in (True, False):
        mode = profile(kernel, fixed, transform, priors, compiled=compiled)
        assert float(mode.chi2[0, 0] + mode.chi2_prior[0, 0]) == pytest.approx(best, abs=GAP)


FITS = [("ablation", name) for name in ablation.MODELS] + [("compare", name) for name, m in compare_models.MODELS.items()
                                                             if m.per_object]
DEEP = {"einasto", "dc14", *(n for n in compare_models.MODELS if "-lcdm" in n)}
"""Fits past the slow tier's budget (each several minutes): Einasto's three parameters, DC14, the ΛCDM halos (every
stellar-to-halo relation)."""
SHORT = {"dc14": "ESO444-G084", "dc14-lcdm": "NGC2955"}
"""Profiles known to stop short of the multi-start optimum (the first galaxy named)."""


def _case(report: str, name: str):
    marks = [pytest.mark.deep] if report == "compare" and name in DEEP else []
    if report == "compare" and name in SHORT:
        marks.append(pytest.mark.xfail(strict=True, reason=f"DC14's profile stops short on {SHORT[name]} and others"))
    return pytest.param(report, name, marks=marks, id=f"{report}-{name}")


def _fit_spec(report: str, name: str) -> FitSpec:
    if report == "ablation":
        return ablation.model_spec(name, True)
    return compare_models.fit_spec(compare_models.MODELS[name], nuisance=True)


@pytest.mark.slow
@pytest.mark.parametrize(("report", "name"), [_case(r, n) for r, n in FITS])
def test_profiled_fits_reach_the_multistart_optimum(sparc, report, name):
    """Every galaxy's profiled fit of every per-object model of report ablation and report compare (MOND at
    the fixed a0 is also report compare's RAR fit): objective within 1e-3 of the multi-start optimum."""
    points, catalogue = sparc
    spec = _fit_spec(report, name)
    fit = fit_points(spec, points, catalogue)
    fixed, transform = _transform(spec, points, catalogue)
    best = multistart(spec.kernel, fixed, spec.free, transform, sparc_priors(catalogue))
    assert _gaps(fit["objective"].values, best, points.galaxy) == {}


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n, m in compare_models.MODELS.items() if m.global_params])
def test_global_grid_profiles_reach_the_multistart_optimum(sparc, name):
    """report compare's global models: the profile (the mode behind ln L_max and the CV) at the final grid's best
    point and at its two ends, every galaxy within 1e-3 of the multi-start optimum at those kernel parameters but
    UGC07577 (see the test above), within 2."""
    points, catalogue = sparc
    model = compare_models.MODELS[name]
    ev = global_evidence(get_kernel(model.kernel), compare_models.fixed_params(model), compare_models.axes(model.global_params),
                         Data(points, catalogue), loo=False)
    grid = grid_points(ev.integral)
    objective = np.asarray(ev.integral.arrays["objective"]).reshape(ev.integral.log_mass.size, -1)
    total = ev.loglike.sum(axis=1)
    for m in sorted({0, int(np.argmax(total)), len(total) - 1}):
        at = {n: float(v[m]) for n, v in grid.items()}
        kernel = get_kernel(model.kernel)
        fixed = kernel.resolve({**compare_models.fixed_params(model), **at})
        transform = NuisanceTransform(points, catalogue, kernel.required_inputs(fixed))
        best = multistart(kernel, fixed, [], transform, sparc_priors(catalogue))
        # UGC07577's two minima: the grid's modes are found without restarts (its node rule, with them, corrects
        # ln Z at the best point), so its profile may stop in the upper one, 0.7–1.1 above the lower in χ² + |z|²
        gaps = _gaps(objective[m], best, points.galaxy)
        assert set(gaps) <= {"UGC07577"} and all(g < 2.0 for g in gaps.values()), (at, gaps)
