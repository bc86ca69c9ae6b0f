"""Per-object fits on packed points: a coarse grid, then bounded least squares from the best grid points.

For objects ``lo:hi`` of a :class:`~sigcube.model.points.PointSet` (contiguous, so a Dask task gets a slice):

1. **Grid**: the spec's free parameters on a product grid (even in u = x or log10 x); the kernel runs once
   on all the chunk's points for every grid point, χ² per object by segment sums. With nuisance parameters
   in ``profile`` mode the grid value is min over the nuisance of χ² + |z|² (the mode of likelihood × prior
   in the priors' normal deviates z, :func:`sigcube.compute.quadrature.profile`; at the grid points chosen
   as starts its search is restarted against local minima).
2. **Local**: ``scipy.optimize.least_squares`` (trust-region reflective, bounded in u) on the residuals
   (V_obs − V_pred)/s, s = √(e_V² + σ_int²) (σ_int: the spec's error floor, 0 by default) — with nuisance,
   on [(V_obs' − V_pred)/s', z] over (u, z) jointly, s' = √(e_V'² + σ_int²) in the deprojected frame — from
   ``starts`` grid points — the grid's local minima, lowest first, then the lowest others (the two lowest
   points are often neighbours in one basin) — the lowest cost wins. With σ_int > 0 and the inclination free the
   likelihood's normalisation depends on i (:mod:`sigcube.stats.likelihood`); the least-squares profile
   ignores that term (exact for σ_int = 0).
3. **Errors**: the Gauss–Newton covariance (JᵀJ)⁻¹ at the optimum in (u, z), mapped to x and the nuisance
   values by the derivative of the coordinate map (1σ, errors as quoted; not rescaled by χ²_red). A
   parameter on a bound is flagged: its error is then not a two-sided interval.

Degrees of freedom: N − k − d, N the object's points, k fitted kernel parameters, d its active nuisance
parameters (the prior-constrained nuisance counted as fitted, as Li+2018 count f); N − k − d ≤ 0 gives
χ²_red = NaN and ``dof_ok`` False. The kernel must be pointwise in the fitted parameters (one value per
object repeated on its points), which every registered kernel is.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy.optimize import OptimizeResult, least_squares

from sigcube.engines.fit.spec import FitSpec
from sigcube.model.points import PointSet
from sigcube.model.segments import segment_sum

BOUND_TOL = 1e-6
"""A parameter within this fraction of its (u-space) range from a bound is flagged as on the bound."""

MAX_NFEV = 1000
"""Most residual evaluations of one local optimisation (Jacobians not counted)."""

BAD_RESIDUAL = 1e3
"""Residual [σ] given to a point where the kernel returns a non-finite prediction (keeps the optimiser finite)."""


def _slice(points: PointSet, names: tuple[str, ...], lo: int, hi: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The inputs ``names`` of objects lo:hi and their offsets (starting at 0)."""
    a, b = int(points.offsets[lo]), int(points.offsets[hi])
    return {n: points.inputs[n][a:b] for n in names}, np.asarray(points.offsets[lo:hi + 1]) - a


def _fixed(spec: FitSpec) -> dict[str, Any]:
    """The kernel's resolved parameters other than the fitted ones."""
    resolved = spec.kernel.resolve({**spec.fixed, **{p.name: p.lower for p in spec.free}})
    return {k: v for k, v in resolved.items() if k not in spec.names}


def _grid(spec: FitSpec) -> dict[str, np.ndarray]:
    """The coarse grid flattened: one (M, 1) array per free parameter."""
    mesh = np.meshgrid(*(p.grid_values() for p in spec.free), indexing="ij") if spec.free else []
    return {p.name: m.reshape(-1, 1) for p, m in zip(spec.free, mesh)}


def _finite(r: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(r), r, BAD_RESIDUAL)


def _errors(jac: np.ndarray) -> np.ndarray:
    """1σ from the Gauss–Newton covariance pinv(JᵀJ) (NaN where the Jacobian gives no constraint)."""
    cov = np.linalg.pinv(jac.T @ jac)
    var = np.diag(cov)
    return np.where(var > 0, np.sqrt(np.abs(var)), np.nan)


class _Result:
    """Per-object output arrays of a chunk, filled object by object."""

    def __init__(self, spec: FitSpec, n: int, nuisance: tuple[str, ...]) -> None:
        self.out: dict[str, np.ndarray] = {}
        for p in spec.names:
            self.out[p] = np.full(n, np.nan)
            self.out[f"{p}_err"] = np.full(n, np.nan)
            self.out[f"{p}_at_bound"] = np.zeros(n, dtype=bool)
        for name in nuisance:
            self.out[name] = np.full(n, np.nan)
            self.out[f"{name}_err"] = np.full(n, np.nan)
        for name in ("chi2", "objective", "grid_objective", "chi2_red"):
            self.out[name] = np.full(n, np.nan)
        for name in ("n_points", "dof", "evaluations"):
            self.out[name] = np.zeros(n, dtype=np.int64)
        self.out["converged"] = np.zeros(n, dtype=bool)
        self.out["dof_ok"] = np.zeros(n, dtype=bool)


def fit_objects(spec: FitSpec, points: PointSet, lo: int, hi: int, catalogue: Any = None) -> dict[str, np.ndarray]:
    """Fit objects ``lo:hi`` of ``points`` (module docstring): per-object arrays keyed by output name.

    ``catalogue`` (:class:`sigcube.stats.nuisance.Catalogue` of all of ``points``' objects) is needed when
    the spec profiles nuisance parameters.
    """
    fixed = _fixed(spec)
    required = spec.kernel.required_inputs({**fixed, **{p.name: p.lower for p in spec.free}})
    if spec.nuisance == "profile":
        return _fit_profiled(spec, points, lo, hi, catalogue, fixed, required)
    inputs, offsets = _slice(points, tuple(dict.fromkeys((*required, "v_obs", "e_v_obs"))), lo, hi)
    inputs["e_v_obs"] = np.hypot(inputs["e_v_obs"], spec.sigma_int)
    grid = _grid(spec)
    v = np.atleast_2d(spec.kernel.func(inputs, **fixed, **grid))
    objective = segment_sum(((v - inputs["v_obs"]) / inputs["e_v_obs"]) ** 2, offsets)
    shape = tuple(p.grid for p in spec.free)
    res = _Result(spec, hi - lo, ())
    for g in range(hi - lo):
        a, b = offsets[g], offsets[g + 1]
        gin = {n: x[a:b] for n, x in inputs.items()}

        def residual(u: np.ndarray, gin: dict[str, np.ndarray] = gin) -> np.ndarray:
            x = {p.name: float(p.from_u(ui)) for p, ui in zip(spec.free, u)}
            return _finite((gin["v_obs"] - spec.kernel.func(gin, **fixed, **x)) / gin["e_v_obs"])

        starts = [np.array([float(p.to_u(grid[p.name][j, 0])) for p in spec.free]) for j in _best(objective[:, g],
                                                                                                spec.starts, shape)]
        _local(spec, res, g, residual, starts, b - a, 0, float(np.nanmin(objective[:, g])))
    return res.out


def _best(objective: np.ndarray, n: int, shape: tuple[int, ...]) -> np.ndarray:
    """Indices of ``n`` starts on the grid of ``shape`` (C order): its local minima (no lower neighbour, diagonals
    included), lowest first — one per basin the grid resolves — then the lowest other finite values (fewer when
    fewer are finite; the first index if none is)."""
    value = np.where(np.isfinite(objective), objective, np.inf)
    order = np.argsort(value, kind="stable")
    finite = int(np.isfinite(objective).sum())
    grid = value.reshape(shape)
    padded = np.pad(grid, 1, constant_values=np.inf)
    minimum = np.isfinite(grid)
    for shift in itertools.product((-1, 0, 1), repeat=len(shape)):
        if any(shift):
            minimum &= grid <= padded[tuple(slice(1 + s, 1 + s + m) for s, m in zip(shift, shape))]
    minimum = minimum.ravel()[order]
    order = np.concatenate([order[minimum], order[~minimum]])
    return order[:max(1, min(n, finite))]


def _local(spec: FitSpec, res: _Result, g: int, residual, starts: list[np.ndarray], n_points: int, d: int,
           grid_objective: float, extra: int = 0, jac: Any = "2-point") -> np.ndarray:
    """Bounded least squares from every start; store the best in ``res`` for object ``g``; return its variables.

    The first ``spec.k`` variables are the kernel parameters in u (bounded), the rest nuisance z (unbounded);
    ``extra`` trailing residuals are the prior terms z (not part of χ²); ``jac`` as least_squares takes it.
    """
    lower = [p.u_bounds[0] for p in spec.free] + [-np.inf] * d
    upper = [p.u_bounds[1] for p in spec.free] + [np.inf] * d
    best, evaluations = None, 0
    if not lower:  # nothing to fit: the χ² of the fixed model
        r0 = residual(np.empty(0))
        best = OptimizeResult(x=np.empty(0), fun=r0, cost=0.5 * float(r0 @ r0), jac=np.empty((len(r0), 0)),
                              active_mask=np.empty(0), status=1, nfev=1)
        starts = []
    for u0 in starts:
        fit = least_squares(residual, np.clip(u0, lower, upper), jac=jac, bounds=(lower, upper), method="trf",
                            x_scale="jac", xtol=1e-10, ftol=1e-10, gtol=1e-10, max_nfev=MAX_NFEV)
        evaluations += fit.nfev
        if best is None or fit.cost < best.cost:
            best = fit
    assert best is not None
    r = best.fun[:len(best.fun) - extra] if extra else best.fun
    out = res.out
    errors = _errors(best.jac)
    for j, p in enumerate(spec.free):
        lo_u, hi_u = p.u_bounds
        u = best.x[j]
        out[p.name][g] = float(p.from_u(u))
        out[f"{p.name}_err"][g] = float(p.dx_du(out[p.name][g]) * errors[j])
        out[f"{p.name}_at_bound"][g] = bool(best.active_mask[j] != 0 or min(u - lo_u, hi_u - u) <= BOUND_TOL * (hi_u - lo_u))
    out["chi2"][g] = float(r @ r)
    out["objective"][g] = 2.0 * best.cost
    out["grid_objective"][g] = grid_objective
    out["n_points"][g] = n_points
    dof = n_points - spec.k - d
    out["dof"][g] = dof
    out["dof_ok"][g] = dof > 0
    out["chi2_red"][g] = out["chi2"][g] / dof if dof > 0 else np.nan
    out["converged"][g] = best.status > 0
    out["evaluations"][g] = evaluations
    return np.concatenate([best.x, errors])


def _forward_jacobian(residuals, spec: FitSpec):
    """The Jacobian of ``residuals`` (rows of variables → rows of residuals) by forward differences, every column
    from one call: steps √ε·max(1, |w_j|) as scipy's '2-point' rule, taken backwards from an upper bound."""
    upper = np.array([p.u_bounds[1] for p in spec.free])

    def jac(w: np.ndarray) -> np.ndarray:
        h = np.sqrt(np.finfo(float).eps) * np.maximum(1.0, np.abs(w))
        h[:spec.k] = np.where(w[:spec.k] + h[:spec.k] > upper, -h[:spec.k], h[:spec.k])
        rows = residuals(w + np.vstack([np.zeros_like(w), np.diag(h)]))
        return ((rows[1:] - rows[0]) / h[:, None]).T

    return jac


def _fit_profiled(spec: FitSpec, points: PointSet, lo: int, hi: int, catalogue: Any, fixed: Mapping[str, Any],
                  required: tuple[str, ...]) -> dict[str, np.ndarray]:
    """:func:`fit_objects` with the nuisance parameters profiled (joint least squares in (u, z))."""
    from sigcube.compute.quadrature import profile
    from sigcube.stats.likelihood import GaussianLikelihood
    from sigcube.stats.nuisance import NUISANCE_PARAMETERS, NuisanceTransform, sparc_priors

    if catalogue is None:
        raise ValueError("a fit with nuisance parameters needs the objects' catalogue")
    index = np.arange(lo, hi)
    transform = NuisanceTransform(points, catalogue, required).take(index)
    priors = {k: p.take(index) for k, p in sparc_priors(catalogue, spec.priors).items()}
    grid = _grid(spec)
    likelihood = GaussianLikelihood(spec.sigma_int)
    mode = profile(spec.kernel, {**fixed, **grid}, transform, priors, likelihood, restarts=False)
    objective = mode.chi2 + mode.chi2_prior  # (M, G); M = 1 when only the nuisance is fitted
    shape = tuple(p.grid for p in spec.free)
    # the starts: their profiles again, restarted against local minima (one grid point per (start, galaxy))
    n_pick = min(spec.starts, len(objective))
    picks = np.stack([np.resize(_best(objective[:, g], n_pick, shape), n_pick) for g in range(hi - lo)], axis=-1)
    picked = profile(spec.kernel, fixed, transform, priors, likelihood,
                     per_object={p.name: grid[p.name][picks, 0] for p in spec.free},
                     start=mode.z[picks, np.arange(hi - lo)])
    picked_objective = picked.chi2 + picked.chi2_prior  # (n_pick, G)
    names = spec.nuisance_parameters
    res = _Result(spec, hi - lo, names)
    order = [n for n in NUISANCE_PARAMETERS if n in names]
    for g in range(hi - lo):
        tg = transform.take(np.array([g]))
        active = [n for n in order if n != "upsilon_bul" or tg.has_bulge[0]]
        pg = {n: priors[n].take(np.array([g])) for n in active}
        d = len(active)

        def theta(z: np.ndarray, pg: dict = pg, active: list = active) -> dict[str, np.ndarray]:
            return {n: pg[n].from_normal(np.array([zj])) for n, zj in zip(active, z)}

        def residuals(w: np.ndarray, tg=tg, pg=pg, active=active) -> np.ndarray:
            """The residuals at each row of ``w`` (m, k + d) at once: (m, points + d)."""
            x = {p.name: p.from_u(w[:, j:j + 1]) for j, p in enumerate(spec.free)}
            inp = tg({n: pg[n].from_normal(w[:, spec.k + j:spec.k + j + 1]) for j, n in enumerate(active)})
            with np.errstate(all="ignore"):
                r = (inp["v_obs"] - spec.kernel.func(inp, **fixed, **x)) / np.hypot(inp["e_v_obs"], spec.sigma_int)
            return np.concatenate([_finite(np.broadcast_to(r, inp["v_obs"].shape)), w[:, spec.k:]], axis=1)

        cols = [NUISANCE_PARAMETERS.index(n) for n in active]
        starts = [np.concatenate([[float(p.to_u(grid[p.name][j, 0])) for p in spec.free],
                                  np.nan_to_num(picked.z[s, g, cols])]) for s, j in enumerate(picks[:, g])]
        n_points = int(transform.counts[g])
        w = _local(spec, res, g, lambda w, f=residuals: f(w[None])[0], starts, n_points, d,
                   float(np.nanmin(np.append(objective[:, g], picked_objective[:, g]))), extra=d,
                   jac=_forward_jacobian(residuals, spec))
        z, z_err = w[spec.k:spec.k + d], w[2 * spec.k + d:]
        values = theta(z)
        for j, n in enumerate(active):
            step = np.zeros(d)
            step[j] = 1e-4
            slope = (theta(z + step)[n] - values[n]) / 1e-4
            res.out[n][g] = float(values[n][0])
            res.out[f"{n}_err"][g] = float(abs(slope[0]) * z_err[j])
    return res.out


def best_curves(spec: FitSpec, fit: Mapping[str, Any], points: PointSet,
                catalogue: Any = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """V_pred at every object's fitted values, with V_obs and the error used (e_V ⊕ σ_int) in the fit's frame
    [km/s], over all points.

    ``fit`` maps each free parameter (and, when profiled, each nuisance parameter) to one value per object of
    ``points``; with nuisance the data are deprojected at the fitted inclination (V_obs' = q·V_obs) and the
    inputs rescaled to the fitted Υ and D (:class:`~sigcube.stats.nuisance.NuisanceTransform`).
    """
    fixed = _fixed(spec)
    counts = np.diff(points.offsets)
    x = {p.name: np.repeat(np.asarray(fit[p.name], dtype=float), counts) for p in spec.free}
    if spec.nuisance == "none":
        p = points.inputs
        return (np.asarray(spec.kernel.func(p, **fixed, **x), dtype=float), p["v_obs"],
                np.hypot(p["e_v_obs"], spec.sigma_int))
    from sigcube.stats.nuisance import NuisanceTransform

    required = spec.kernel.required_inputs({**fixed, **{p.name: p.lower for p in spec.free}})
    transform = NuisanceTransform(points, catalogue, required)
    base = {"upsilon_disk": points.mass_to_light.upsilon_disk, "upsilon_bul": points.mass_to_light.upsilon_bul}
    values = {n: np.where(np.isnan(fit[n]), base.get(n, np.nan), fit[n])[None, :] for n in spec.nuisance_parameters}
    inputs = {k: v[0] for k, v in transform(values).items()}
    return (np.asarray(spec.kernel.func(inputs, **fixed, **x), dtype=float), inputs["v_obs"],
            np.hypot(inputs["e_v_obs"], spec.sigma_int))
