"""Per-galaxy nuisance marginalisation by adaptive Gauss–Hermite quadrature, and the profile (mode).

Coordinates: each nuisance parameter θ_j is mapped to the standard normal deviate of its prior,
z_j = Φ⁻¹(F_j(θ_j)) (:meth:`~sigcube.stats.priors.Prior.to_normal`), so the prior is N(0, I) on all of ℝ^d
(truncations included, no boundary) and

    Z = ∫ L(θ) π(θ) dθ = ∫ L(θ(z)) φ_d(z) dz.

For every (global grid point, galaxy) pair at once:

1. **Mode**: minimise F(z) = −ln L(θ(z)) + ½|z|² by Levenberg–Marquardt on the residuals of
   :mod:`~sigcube.stats.likelihood` (forward-difference Jacobians, step 1e-6 in z; gradient of the
   normalisation by the same differences; Hessian J^TJ + I), from ``start`` (a previous mode: warm start) or
   from the prior median z = 0. F need not have one minimum (a V_bar² that changes sign as Υ moves meets the
   floor in a cusp), so the profile restarts the descent from z = 0 and from ẑ ± s·e_j (s in :data:`PROBES`)
   around the best mode so far, keeping the lowest (``restarts``; optional for the marginalisation).
2. **Scale**: C = chol((J^TJ + I)⁻¹), refined by the finite-difference Hessian of F at ±1 along the axes of C
   (the curvature over the width that matters; eigenvalues clipped to [0.2, 5]). C is lower triangular
   with the inclination last, so the last coordinate moves only i and i moves only the data.
3. **Quadrature**: z = ẑ + C·x over the product Gauss–Hermite rule x (``nodes`` per dimension):
   ln Z = ln|C| + LSE_k[ln W_k + ½|x_k|² + ln L(z_k) + ln φ_d(z_k)], summed with a running log-sum-exp
   (the node axis is never stored). The kernel runs once per node of the Υ/D dimensions; the inclination
   nodes reuse its prediction (with σ_int = 0 through three sums per galaxy).

With a galaxy-level velocity scale (τ_gal > 0, :mod:`sigcube.stats.likelihood`) the inclination's dimension becomes
the scale u = (sin i/sin i0)·s_g (:data:`SCALE`) under the convolution of the inclination's prior with the offset's
(:mod:`sigcube.compute.scale_prior`): the likelihood depends on i and s_g only through u, so no dimension is added.
Under the log-normal error model ln L is quadratic in ln u, and the three sums are exact at every node.

:func:`marginalise` and :func:`profile` run this algorithm compiled, pair by pair
(:mod:`sigcube.compute.quadrature_compiled`), whenever the kernel's formula traces to scalar code; the numpy implementation
here is the fallback for a kernel that does not (a Python branch or ``np.where`` on a varying parameter) and the
reference the compiled solver is tested against (``compiled=False``). In it, galaxies are grouped by their
dimension (3 without a bulge: Υ_disk, D, i; 4 with one), each group vectorised over (m, galaxies, points).

:func:`profile` returns the mode: the maximum of L × prior in z, i.e. the MAP of the normal-deviate coordinates —
the MAP of log10 Υ, D and i themselves where their priors are (untruncated) normal, and kept off a truncation bound
where a θ-space MAP could sit on it. It maximises
likelihood × prior, not likelihood alone, because Υ, D and i are degenerate with each other and with the
kernel's amplitude: the priors (external measurements) are what pin them, as in Li+2018.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sigcube.compute import quadrature_compiled as adaptive
from sigcube.compute.nuisance_codegen import compile_predict, layout
from sigcube.compute.quadrature_compiled import (
    FD_STEP, MAX_STEP, NEWTON_ITERATIONS, PROBES, RESTART_GAIN, RESTART_ROUNDS, SCALE_CLIP, Z_LIMIT,
)
from sigcube.compute.scale_prior import convolved_table, exp_table, log_table
from sigcube.errors import SigcubeError
from sigcube.model.kernels.registry import Kernel
from sigcube.model.segments import segment_sum
from sigcube.stats.likelihood import BoundLikelihood, GaussianLikelihood
from sigcube.stats.nuisance import NUISANCE_PARAMETERS, NuisanceTransform, check_inputs
from sigcube.stats.priors import Prior

NEWTON_STEP = 1e-4
"""Finite-difference step in z_i of the conditional inclination mode."""
SCALE = "velocity_scale"
"""The dimension that replaces the inclination when a galaxy-level velocity scale is integrated (τ_gal > 0): u =
(sin i/sin i0)·s_g under its convolved prior (:mod:`sigcube.compute.scale_prior`), in the inclination's place (last)
and its column of :attr:`Mode.z`."""


class QuadratureError(SigcubeError):
    """Bad settings of the marginalisation (nodes, shapes, parameters)."""


@dataclass(frozen=True)
class Mode:
    """The conditional mode of every (grid point, galaxy) pair: the profile.

    ``values``: nuisance values at the mode by name, (m, n_galaxies) (the base value where a parameter does
    not apply: Υ_bul of a galaxy without a bulge), and ``velocity_scale``, u = (sin i/sin i0)·s_g; with τ_gal > 0 the
    integrated variable is u (:data:`SCALE`), and the inclination alone has no value at the mode (NaN);
    ``errors``: their 1σ from the curvature (0 where fixed);
    ``z``: the mode in prior normal-deviate coordinates (m, n_galaxies, 4), NaN where a parameter does not
    apply (the last column: the inclination's, or u's with τ_gal > 0) — pass it as ``start`` to warm-start a
    neighbouring block; ``chi2`` = Σ r² of the data and
    ``chi2_prior`` = |z|² at the mode; ``log_likelihood`` = ln L there; ``converged``: the Newton decrement
    fell below the tolerance; ``iterations``: Levenberg–Marquardt iterations used.
    """

    values: dict[str, np.ndarray]
    errors: dict[str, np.ndarray]
    z: np.ndarray
    chi2: np.ndarray
    chi2_prior: np.ndarray
    log_likelihood: np.ndarray
    converged: np.ndarray
    iterations: int
    kernel_evaluations: int
    """Kernel evaluations per (grid point, galaxy) spent on the mode (the largest group's count)."""


@dataclass(frozen=True)
class Marginal:
    """Nuisance-marginalised log-likelihood of every (grid point, galaxy) pair, (m, n_galaxies).

    ``log_marginal`` = ln ∫ L π over the nuisance parameters [nat]; ``log_laplace`` its Laplace
    approximation (the difference measures how far from Gaussian the integrand is); ``mode`` the profile;
    ``nodes`` per dimension; ``kernel_point_evaluations``: kernel calls × points, summed over every pair (the mode
    search, the curvature and the quadrature's Υ/D nodes; the inclination's nodes reuse the prediction);
    ``scale_clipped``: the refined curvature was clipped (a non-Gaussian integrand).
    """

    log_marginal: np.ndarray
    log_laplace: np.ndarray
    mode: Mode
    nodes: int
    kernel_point_evaluations: int
    scale_clipped: np.ndarray
    dims: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Active nuisance parameters per galaxy."""


def gauss_hermite(nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Probabilists' Gauss–Hermite nodes and ln weights: Σ w f(x) ≈ ∫ f(x) e^{−x²/2} dx (Σ w = √(2π))."""
    if not isinstance(nodes, (int, np.integer)) or not 1 <= nodes <= 40:
        raise QuadratureError(f"nodes per dimension must be an integer in 1–40; got {nodes!r}")
    x, w = np.polynomial.hermite_e.hermegauss(int(nodes))
    return x, np.log(w)


class _Group:
    """The galaxies sharing one set of active nuisance dimensions, with everything a node evaluation needs."""

    def __init__(self, kernel: Kernel, params: Mapping[str, Any], transform: NuisanceTransform,
                 priors: Mapping[str, Prior], likelihood: BoundLikelihood, dims: tuple[str, ...],
                 per_object: Mapping[str, np.ndarray], scale: ScaleMap | None = None) -> None:
        self.kernel, self.transform, self.likelihood = kernel, transform, likelihood
        self.dims = dims
        self.priors = [priors.get(name) for name in dims]
        self.scale_map = scale
        self.inclined = dims[-1] in ("inclination", SCALE) if dims else False
        self.dk = len(dims) - self.inclined
        self.params = {**params, **{k: transform.to_points(v) for k, v in per_object.items()}}
        self.kernel_evaluations = 0
        self.point_evaluations = 0

    @property
    def d(self) -> int:
        return len(self.dims)

    def theta(self, z: np.ndarray) -> dict[str, np.ndarray]:
        """Nuisance values at z (…, n_galaxies, d)."""
        return {name: self.scale_map.from_normal(z[..., j]) if name == SCALE else prior.from_normal(z[..., j])
                for j, (name, prior) in enumerate(zip(self.dims, self.priors))}

    def predict(self, z_kernel: np.ndarray) -> np.ndarray:
        """V_pred (m, n_points) [km/s] at the Υ/D coordinates ``z_kernel`` (m, n_galaxies, dk)."""
        values = {name: prior.from_normal(z_kernel[..., j])
                  for j, (name, prior) in enumerate(zip(self.dims[: self.dk], self.priors))}
        self.kernel_evaluations += 1
        v = self.kernel.func(self.transform.kernel_inputs(values), **self.params)
        self.point_evaluations += int(np.prod(np.broadcast_shapes(np.shape(v), z_kernel.shape[:-2]
                                                                  + (self.transform.n_points,))))
        return v

    def qinv(self, z_incl: np.ndarray | None) -> np.ndarray | None:
        """The velocity scale u = 1/q = sin i/sin i0 at the inclination coordinate, or u of :data:`SCALE` (None without
        either dimension)."""
        if z_incl is None:
            return None
        if self.scale_map is not None:
            return self.scale_map.from_normal(z_incl)
        return self.transform.inverse_inclination_factor(self.priors[-1].from_normal(z_incl))

    def state(self, v_pred: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(F, r, ln-normalisation): F = −ln L + ½|z|² (m, G), residuals (m, n_points)."""
        qinv = self.qinv(z[..., -1]) if self.inclined else None
        r, log_norm = self.likelihood.residuals(v_pred, qinv)
        f = 0.5 * segment_sum(r * r, self.transform.offsets) - log_norm + 0.5 * np.sum(z * z, axis=-1)
        return f, r, log_norm

    def log_likelihood(self, v_pred: np.ndarray, z_incl: np.ndarray | None,
                       moments: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
        """ln L (m, G) at prediction ``v_pred`` and inclination coordinate ``z_incl``."""
        qinv = self.qinv(z_incl)
        if moments is not None and qinv is not None:
            return self.likelihood.log_likelihood_from_moments(moments, qinv)
        return self.likelihood.log_likelihood(v_pred, qinv)

    # --- mode --------------------------------------------------------------------------------------------
    def jacobian(self, z: np.ndarray, v_pred: np.ndarray, r: np.ndarray, log_norm: np.ndarray):
        """Gradient g and Gauss–Newton Hessian J^TJ + I of F at z (forward differences)."""
        off = self.transform.offsets
        cols, dnorm = [], []
        for j in range(self.d):
            zj = z.copy()
            zj[..., j] += FD_STEP
            vj = v_pred if j >= self.dk else self.predict(zj[..., : self.dk])
            _, rj, nj = self.state(vj, zj)
            cols.append((rj - r) / FD_STEP)
            dnorm.append((nj - log_norm) / FD_STEP)
        g = np.stack([segment_sum(c * r, off) - dn for c, dn in zip(cols, dnorm)], axis=-1) + z
        h = np.empty(z.shape + (self.d,))
        for j in range(self.d):
            for k in range(j, self.d):
                h[..., j, k] = h[..., k, j] = segment_sum(cols[j] * cols[k], off)
        h += np.eye(self.d)
        return g, h

    def mode(self, z: np.ndarray, tol: float, max_iter: int) -> tuple[np.ndarray, ...]:
        """Levenberg–Marquardt from ``z`` (m, G, d): (ẑ, F, V_pred, r, Hessian, converged, iterations)."""
        v = self.predict(z[..., : self.dk])
        f, r, log_norm = self.state(v, z)
        lam = np.full(f.shape, 1e-3)
        eye = np.eye(self.d)
        converged = np.zeros(f.shape, dtype=bool)
        iterations = 0
        for iterations in range(1, max_iter + 1):
            g, h = self.jacobian(z, v, r, log_norm)
            g, h_free = _hold_at_box(z, g, h)
            step = -np.linalg.solve(h_free, g[..., None])[..., 0]
            converged = -0.5 * np.sum(g * step, axis=-1) < tol
            if converged.all():
                break
            step = -np.linalg.solve(h_free + lam[..., None, None] * eye, g[..., None])[..., 0]
            norm = np.sqrt(np.sum(step * step, axis=-1, keepdims=True))
            trial = np.clip(z + step * np.minimum(1.0, MAX_STEP / np.maximum(norm, 1e-300)), -Z_LIMIT, Z_LIMIT)
            v_t = self.predict(trial[..., : self.dk])
            f_t, r_t, n_t = self.state(v_t, trial)
            better = (f_t <= f) & ~converged
            on_points = self.transform.to_points(better)
            z = np.where(better[..., None], trial, z)
            f = np.where(better, f_t, f)
            v = np.where(on_points, v_t, v)
            r = np.where(on_points, r_t, r)
            log_norm = np.where(better, n_t, log_norm)
            lam = np.where(better, np.maximum(lam * 0.2, 1e-7), np.minimum(lam * 10.0, 1e7))
        else:
            g, h = self.jacobian(z, v, r, log_norm)
            g, h_free = _hold_at_box(z, g, h)
            step = -np.linalg.solve(h_free, g[..., None])[..., 0]
            converged = -0.5 * np.sum(g * step, axis=-1) < tol
        return z, f, v, r, h, converged, iterations

    # --- scale and quadrature -----------------------------------------------------------------------------
    def scale(self, z: np.ndarray, f: np.ndarray, v: np.ndarray, h: np.ndarray, refine: bool):
        """Lower-triangular C with z = ẑ + C·x, and whether the refinement was clipped."""
        c_gn = np.linalg.cholesky(np.linalg.inv(h))
        if not refine:
            return c_gn, np.zeros(f.shape, dtype=bool)
        cache: dict[tuple[float, ...], np.ndarray] = {(0.0,) * self.dk: v}

        def f_at(x: np.ndarray) -> np.ndarray:
            zx = z + np.einsum("...ij,j->...i", c_gn, x)
            key = tuple(x[: self.dk])
            if key not in cache:
                cache[key] = self.predict(zx[..., : self.dk])
            return self.state(cache[key], zx)[0]

        e = np.eye(self.d)
        plus = [f_at(e[j]) for j in range(self.d)]
        hx = np.empty(h.shape)
        for j in range(self.d):
            hx[..., j, j] = plus[j] + f_at(-e[j]) - 2.0 * f
            for k in range(j + 1, self.d):
                hx[..., j, k] = hx[..., k, j] = f_at(e[j] + e[k]) - plus[j] - plus[k] + f
        w, vecs = np.linalg.eigh(hx)
        clipped = np.any((w < SCALE_CLIP[0]) | (w > SCALE_CLIP[1]) | ~np.isfinite(w), axis=-1)
        w = np.clip(np.nan_to_num(w, nan=1.0), *SCALE_CLIP)
        hx = np.einsum("...ij,...j,...kj->...ik", vecs, w, vecs)
        return c_gn @ np.linalg.cholesky(np.linalg.inv(hx)), clipped

    def quadrature(self, centre: np.ndarray, c: np.ndarray, nodes: int, v_centre: np.ndarray | None = None,
                   nested: bool = True) -> np.ndarray:
        """ln ∫ L φ dz (m, G) by Gauss–Hermite on z = centre + C·x, streamed.

        ``nested``: the Υ/D dimensions by the product rule on C's leading block, the inclination by a 1-D adaptive
        rule at its conditional mode for each of their nodes (:meth:`inclination_integral`); otherwise the plain
        product rule over every dimension.
        """
        x, lw = gauss_hermite(nodes)
        d, dk = self.d, self.dk
        outer = dk if nested else d
        log_det = np.sum(np.log(np.abs(np.diagonal(c[..., :outer, :outer], axis1=-2, axis2=-1))), axis=-1)
        total = _LogSumExp(centre.shape[:-1])
        for index in itertools.product(range(nodes), repeat=outer):
            xk = x[list(index)]
            zk = centre[..., :outer] + np.einsum("...ij,j->...i", c[..., :outer, :outer], xk)
            v = v_centre if (v_centre is not None and not np.any(xk[:dk])) else None
            base = (np.sum(lw[list(index)]) + 0.5 * np.sum(xk * xk) - 0.5 * np.sum(zk * zk, axis=-1) + log_det
                    - 0.5 * outer * math.log(2.0 * math.pi))
            if nested and self.inclined:
                v = self.predict(zk) if v is None else v
                z_cond = centre[..., -1] + np.einsum("...j,j->...", c[..., -1, :dk], xk)
                total.add(base + self.inclination_integral(v, z_cond, c[..., -1, -1], x, lw))
            else:
                v = self.predict(zk[..., :dk]) if v is None or (outer > dk and np.any(xk[:dk])) else v
                total.add(base + self.log_likelihood(v, zk[..., -1] if self.inclined else None, None))
        return total.value()

    def inclination_integral(self, v: np.ndarray, z_start: np.ndarray, width: np.ndarray, x: np.ndarray,
                             lw: np.ndarray) -> np.ndarray:
        """ln ∫ L(z_i) φ(z_i) dz_i at prediction ``v`` by Gauss–Hermite centred and scaled at the conditional mode.

        The likelihood is a Gaussian in the scale coordinate x (1/q = sin i/sin i0, or ln u under ``lognormal``) with
        moments (A, B, C) (:meth:`BoundLikelihood.moments`, exact with σ_int = 0 or under ``lognormal``), so the
        conditional mode follows from Newton steps on per-galaxy numbers, starting at ``z_start`` (the joint mode's
        conditional mean); the amplitude ridge of √D·sin i is followed exactly.
        """
        lik = self.likelihood
        moments = lik.moments(v, None if lik.moments_exact else self.qinv(z_start))
        a, b, c, _ = moments

        def f(z: np.ndarray) -> np.ndarray:
            q = lik.scale_coordinate(self.qinv(z))
            return 0.5 * (a - 2.0 * b * q + c * q * q) + 0.5 * z * z

        z = z_start
        h = NEWTON_STEP
        for _ in range(NEWTON_ITERATIONS):
            f0, fp, fm = f(z), f(z + h), f(z - h)
            g1, g2 = (fp - fm) / (2 * h), (fp + fm - 2 * f0) / (h * h)
            step = np.clip(np.where(g2 > 0, -g1 / np.where(g2 > 0, g2, 1.0), -np.sign(g1) * width), -1.0, 1.0)
            z = np.clip(z + step, -Z_LIMIT, Z_LIMIT)
            if np.all(np.abs(step) < 1e-7):
                break
        f0, fp, fm = f(z), f(z + h), f(z - h)
        curvature = (fp + fm - 2 * f0) / (h * h)
        s = np.where(curvature > 0, 1.0 / np.sqrt(np.where(curvature > 0, curvature, 1.0)), width)
        inner = _LogSumExp(z.shape)
        for xi, lwi in zip(x, lw):
            zi = z + s * xi
            inner.add(lwi + 0.5 * xi * xi - 0.5 * zi * zi
                      + self.log_likelihood(v, zi, moments if lik.moments_exact else None))
        return inner.value() + np.log(s) - 0.5 * math.log(2.0 * math.pi)


def _hold_at_box(z: np.ndarray, g: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The gradient and Hessian with every coordinate on the box |z| = Z_LIMIT whose descent direction points out
    held (its gradient 0, its row and column of the Hessian the identity's): the projected Newton step."""
    held = ((z >= Z_LIMIT) & (g < 0)) | ((z <= -Z_LIMIT) & (g > 0))
    pair = held[..., :, None] | held[..., None, :]
    return np.where(held, 0.0, g), np.where(pair, np.eye(z.shape[-1]), h)


class _LogSumExp:
    """A running ln Σ exp(t) over terms added one at a time (running maximum and scaled sum); NaN terms count as 0."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.max = np.full(shape, -np.inf)
        self.sum = np.zeros(shape)

    def add(self, t: np.ndarray) -> None:
        t = np.where(np.isnan(t), -np.inf, t)
        new = np.maximum(self.max, t)
        finite = np.isfinite(new)
        safe = np.where(finite, new, 0.0)
        self.sum = np.where(finite, self.sum * np.exp(self.max - safe) + np.exp(t - safe), 0.0)
        self.max = new

    def value(self) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return self.max + np.log(self.sum)


def _lead(params: Mapping[str, Any], per_object: Mapping[str, np.ndarray], likelihood: GaussianLikelihood) -> int:
    """The number m of global grid points the call evaluates (from the (m, 1) parameters and σ_int)."""
    sizes = {np.shape(v)[0] for v in params.values() if not isinstance(v, str) and np.ndim(v) == 2}
    sizes |= {np.shape(v)[0] for v in per_object.values()}
    for value in (likelihood.sigma_int, likelihood.tau_gal, likelihood.floor):
        if np.ndim(value) == 2:
            sizes.add(np.shape(value)[0])
    sizes.discard(1)
    if len(sizes) > 1:
        raise QuadratureError(f"the parameters (and σ_int, τ_gal, the floor) disagree on the number of grid points: {sorted(sizes)}")
    bad = {k: np.shape(v) for k, v in params.items() if not isinstance(v, str) and np.ndim(v)
           and (np.ndim(v) != 2 or np.shape(v)[1] != 1)}
    if bad:
        raise QuadratureError("kernel parameters must be numbers or shaped (m, 1), one value per grid point; got "
                              + ", ".join(f"{k} {s}" for k, s in bad.items())
                              + " (per-galaxy values go in per_object, shaped (m, n_galaxies))")
    return sizes.pop() if sizes else 1


def _resolve(kernel: Kernel, params: Mapping[str, Any], transform: NuisanceTransform, priors: Mapping[str, Prior],
             per_object: Mapping[str, np.ndarray] | None, likelihood: GaussianLikelihood
             ) -> tuple[dict[str, Any], dict[str, np.ndarray], int]:
    """Check the call and resolve the parameters: (kernel parameters, per-object parameters, m)."""
    unknown = sorted(set(priors) - set(NUISANCE_PARAMETERS))
    if unknown:
        raise QuadratureError(f"unknown nuisance parameter(s) {', '.join(unknown)}; "
                              f"choose from {', '.join(NUISANCE_PARAMETERS)}")
    per_object = dict(per_object or {})
    resolved = kernel.resolve({**params, **per_object})
    required = kernel.required_inputs(resolved)
    check_inputs(required, transform.catalogue, kernel.name)
    missing = [name for name in required if name not in transform.inputs]
    if missing:
        raise QuadratureError(f"the nuisance transform was built without {', '.join(missing)}, which kernel "
                              f"{kernel.name!r} reads: build it with kernel.required_inputs(params)")
    for k, v in per_object.items():
        if np.shape(v)[-1] != transform.n_galaxies:
            raise QuadratureError(f"per_object {k!r} has shape {np.shape(v)}: the last axis runs over the "
                                  f"{transform.n_galaxies} galaxies")
    kernel_params = {k: v for k, v in resolved.items() if k not in per_object}
    return kernel_params, {k: np.asarray(resolved[k]) for k in per_object}, _lead(kernel_params, per_object, likelihood)


def _groups(kernel: Kernel, params: Mapping[str, Any], transform: NuisanceTransform, priors: Mapping[str, Prior],
            likelihood: GaussianLikelihood, per_object: Mapping[str, np.ndarray] | None):
    """Resolve the parameters and split the galaxies by active dimensions: [(galaxy index, _Group)], m."""
    kernel_params, per_object, m = _resolve(kernel, params, transform, priors, per_object, likelihood)
    keys = list(_dims_by_galaxy(transform, priors, likelihood.scaled).values())
    scale = scale_map(transform, priors, likelihood, m, log_space=False) if likelihood.scaled else None
    groups = []
    for dims in dict.fromkeys(keys):
        index = np.array([g for g, k in enumerate(keys) if k == dims])
        sub = transform.take(index)
        lik = likelihood.bind(sub.v_obs, sub.e_v_obs, sub.offsets)
        groups.append((index, _Group(kernel, kernel_params, sub, {k: p.take(index) for k, p in priors.items()},
                                     lik, dims, {k: v[..., index] for k, v in per_object.items()},
                                     None if scale is None else scale.take(index))))
    return groups, m


def _dims_by_galaxy(transform: NuisanceTransform, priors: Mapping[str, Prior],
                    scaled: bool = False) -> dict[str, tuple[str, ...]]:
    """The active nuisance parameters of each galaxy (Υ_bul only with a bulge), by galaxy name; ``scaled`` (τ_gal > 0):
    the velocity scale :data:`SCALE` last, in place of the inclination."""
    active = [n for n in NUISANCE_PARAMETERS if n in priors and not (scaled and n == "inclination")]
    return {str(name): tuple(n for n in active if n != "upsilon_bul" or transform.has_bulge[i])
            + ((SCALE,) if scaled else ()) for i, name in enumerate(transform.galaxy)}


def _column(name: str) -> int:
    """The column of :attr:`Mode.z` of a dimension (the velocity scale takes the inclination's)."""
    return NUISANCE_PARAMETERS.index("inclination" if name == SCALE else name)


@dataclass(frozen=True)
class SolverInputs:
    """What the compiled likelihood reads of a galaxy sample (:mod:`~sigcube.compute.quadrature_compiled`): the compiled
    kernel and its layout (X, S), every galaxy's nuisance dimensions (``dims`` by name, their ``codes`` and ``n_dims``),
    the prior-map ``tables``, the ``base`` values of what is not free, whether the last dimension is the inclination or
    the velocity scale (``inclined``), the velocity scale's ``scale`` map (None: the inclination's own table) and the
    data slots (:func:`~sigcube.compute.quadrature_compiled.data_slots`)."""

    compiled: Any
    X: np.ndarray
    S: np.ndarray
    dims: list[tuple[str, ...]]
    codes: np.ndarray
    n_dims: np.ndarray
    tables: np.ndarray
    base: np.ndarray
    inclined: bool
    scale: ScaleMap | None
    data: tuple[np.ndarray, np.ndarray, np.ndarray]


def solver_inputs(kernel: Kernel, params: Mapping[str, Any], variable: list[str], transform: NuisanceTransform,
                  priors: Mapping[str, Prior], likelihood: GaussianLikelihood, m: int,
                  with_scale: bool = True) -> SolverInputs | None:
    """The :class:`SolverInputs` of ``transform``'s galaxies for the kernel at its resolved ``params`` with the
    ``variable`` parameters as arguments, the velocity scale's maps for m grid points of ``likelihood`` (not made
    without ``with_scale``: ``scale`` is then None); None when the kernel cannot be compiled."""
    compiled = compile_predict(kernel, params, variable)
    if compiled is None:
        return None
    n = transform.n_galaxies
    X, S = layout(transform)
    codes = np.zeros((n, 4), dtype=np.int64)
    scaled = likelihood.scaled
    dims = list(_dims_by_galaxy(transform, priors, scaled).values())
    n_dims = np.array([len(d) for d in dims], dtype=np.int64)
    for g, names in enumerate(dims):
        codes[g, :len(names)] = [_column(name) for name in names]
    scale = (scale_map(transform, priors, likelihood, m, likelihood.log_space)
             if with_scale and (scaled or likelihood.log_space) else None)
    base = np.column_stack([np.full(n, float(transform.upsilon0["upsilon_disk"])),
                            np.full(n, float(transform.upsilon0["upsilon_bul"])), np.ones(n)])
    return SolverInputs(compiled, X, S, dims, codes, n_dims, _tables(transform, priors), base,
                        "inclination" in priors or scaled, scale,
                        adaptive.data_slots(transform.v_obs, transform.e_v_obs, likelihood.log_space))


def _compiled(kernel: Kernel, params: Mapping[str, Any], transform: NuisanceTransform, priors: Mapping[str, Prior],
              likelihood: GaussianLikelihood, per_object: Mapping[str, np.ndarray] | None, start: np.ndarray | None,
              nodes: int, marginal: bool, refine: bool, tol: float, max_iter: int, restarts: bool
              ) -> tuple[Mode, adaptive.PairResults] | None:
    """Every pair by the compiled solver (:mod:`~sigcube.compute.quadrature_compiled`): (the mode, the raw results), or None
    when the kernel cannot be compiled (the caller then runs the numpy implementation)."""
    kernel_params, per_object, m = _resolve(kernel, params, transform, priors, per_object, likelihood)
    variable = [k for k, v in kernel_params.items() if not isinstance(v, str) and np.ndim(v)] + list(per_object)
    inputs = solver_inputs(kernel, {**kernel_params, **per_object}, variable, transform, priors, likelihood, m)
    if inputs is None:
        return None
    n = transform.n_galaxies
    pars = np.empty((m, n, len(variable)))
    for k, name in enumerate(variable):
        value = per_object[name] if name in per_object else np.asarray(kernel_params[name]).reshape(-1, 1)
        pars[..., k] = np.broadcast_to(value, (m, n))
    scatter = tuple(np.broadcast_to(np.asarray(t, dtype=float).reshape(-1), (m,)) for t in likelihood.scatter_terms)
    scaled, scale, dims, codes = likelihood.scaled, inputs.scale, inputs.dims, inputs.codes
    if start is None:
        rows, start_rows = np.zeros((1, n, 4)), False
    else:
        s = np.asarray(start, dtype=float)
        s = np.broadcast_to(s, s.shape[:-2] + (n, 4)).reshape(-1, n, 4)
        rows = np.take_along_axis(s, np.broadcast_to(codes, s.shape), axis=-1)
        start_rows = len(rows) > 1
    pairs = adaptive.solve(inputs.compiled, inputs.X, inputs.S, transform.offsets, transform.v_obs, transform.e_v_obs,
                           pars, scatter, inputs.tables, codes, inputs.n_dims, inputs.inclined, inputs.base, rows,
                           start_rows, nodes, marginal, refine, tol, max_iter, PROBES if restarts else (),
                           *((scale.tables, scale.index) if scale is not None else (None, None)),
                           log_space=likelihood.log_space,
                           tails=np.broadcast_to(np.asarray(likelihood.tail, dtype=float).reshape(-1), (m,)))
    # back to NUISANCE_PARAMETERS order
    z_all, var_all = np.full((m, n, 4), np.nan), np.full((m, n, 4), np.nan)
    for g, names in enumerate(dims):
        cols = [_column(name) for name in names]
        z_all[:, g, cols] = pairs.z[:, g, :len(names)]
        var_all[:, g, cols] = pairs.variance[:, g, :len(names)]
    values, errors = _base_values(transform, m, scaled)
    maps = {name: priors[name].from_normal for name in NUISANCE_PARAMETERS
            if name in priors and not (scaled and name == "inclination")}
    if scaled:
        maps[SCALE] = (scale if not likelihood.log_space else scale_map(transform, priors, likelihood, m, False)
                       ).from_normal
    with np.errstate(invalid="ignore"):
        for name, from_normal in maps.items():
            j = _column(name)
            z = z_all[..., j]
            on = np.isfinite(z)
            theta = from_normal(np.where(on, z, 0.0))
            slope = (from_normal(np.where(on, z, 0.0) + 1e-4) - theta) / 1e-4
            values[name] = np.where(on, theta, values[name])
            errors[name] = np.where(on, np.abs(slope) * np.sqrt(var_all[..., j]), 0.0)
    chi2_prior = np.nansum(z_all * z_all, axis=-1)
    mode = Mode(values, errors, z_all, pairs.chi2, chi2_prior, -(pairs.F - 0.5 * chi2_prior), pairs.converged,
                int(pairs.iterations.max(initial=0)), int(pairs.kernel_calls.max(initial=0)))
    return mode, pairs


_TABLES: dict[bytes, np.ndarray] = {}
"""This process's recent prior-map tables, by the content of the priors and catalogue they were built from."""
_SCALE_TABLES: dict[tuple[bytes, float], np.ndarray] = {}
"""This process's recent velocity-scale tables (ln u, per τ_gal), by priors, catalogue and τ_gal."""
SCALE_TABLE_BYTES = 256 * 2**20
"""How many bytes of velocity-scale tables (one per galaxy chunk and τ_gal value, galaxies × TABLE_SIZE × 2 numbers
each: ≈ 1 MB for 30 galaxies) a process keeps, the oldest dropped first: every chunk's table at every value of a τ_gal
grid, so that a grid's tasks, each over many τ_gal values, do not rebuild them."""


def _digest(transform: NuisanceTransform, priors: Mapping[str, Prior]) -> bytes:
    """The content of the priors and catalogue a table is built from."""
    digest = hashlib.sha256(transform.distance0.tobytes() + transform.sin_i0.tobytes())
    for name in sorted(priors):
        prior = priors[name]
        digest.update(f"{name}:{type(prior).__name__}".encode())
        for f in dataclasses.fields(prior):
            if f.name != "refs":
                digest.update(np.asarray(getattr(prior, f.name), dtype=float).tobytes())
    return digest.digest()


def _tables(transform: NuisanceTransform, priors: Mapping[str, Prior]) -> np.ndarray:
    """The prior-map tables of :func:`sigcube.compute.quadrature_compiled.solve`: (galaxies, 4, TABLE_SIZE, 2) by nuisance
    code; the distance's maps D/D0 and the inclination's sin i/sin i0 (with their derivatives in z). Kept for the
    next call with the same priors and catalogue (a sweep's tasks share them)."""
    key = _digest(transform, priors)
    if key not in _TABLES:
        if len(_TABLES) >= 8:
            _TABLES.pop(next(iter(_TABLES)))
        _TABLES[key] = _build_tables(transform, priors)
    return _TABLES[key]


@dataclass(frozen=True)
class ScaleMap:
    """The velocity scale of every galaxy at its normal deviate, by the solver's tables: ``tables`` (T, G, TABLE_SIZE,
    2) of u (or ln u: ``log_space``), ``index`` (m,) the table each grid point reads (one table: any number of
    rows)."""

    tables: np.ndarray
    index: np.ndarray
    log_space: bool = False

    def take(self, galaxies: np.ndarray) -> ScaleMap:
        return ScaleMap(self.tables[:, galaxies], self.index, self.log_space)

    def from_normal(self, z: np.ndarray) -> np.ndarray:
        """u (or ln u) at z (rows, G): row j through table ``index[j]`` (every row through the one table if T = 1)."""
        z = np.asarray(z, dtype=float)
        flat = z.reshape(-1, z.shape[-1])
        lead = z.shape[:-1]
        index = np.zeros(len(flat), dtype=np.int64) if len(self.tables) == 1 else np.broadcast_to(
            self.index.reshape((-1,) + (1,) * (len(lead) - 1)), lead).reshape(-1)
        return adaptive.lookup(self.tables, index, flat).reshape(z.shape)


def scale_map(transform: NuisanceTransform, priors: Mapping[str, Prior], likelihood: GaussianLikelihood, m: int,
               log_space: bool) -> ScaleMap:
    """The velocity scale's tables for the m grid points: one per distinct τ_gal (grid points grouped by value). τ_gal
    = 0: the inclination's own table (u = sin i/sin i0; u ≡ 1 when the inclination is held); τ_gal > 0: its convolution
    with N(0, τ_gal²) in ln u (:func:`~sigcube.compute.scale_prior.convolved_table`), kept for the next call."""
    taus = np.broadcast_to(np.asarray(likelihood.tau_gal, dtype=float).reshape(-1), (m,))
    values, index = np.unique(taus, return_inverse=True)
    n = transform.n_galaxies
    if "inclination" in priors:
        u = _tables(transform, priors)[:, 3]
    else:
        u = np.stack([np.ones((n, adaptive.TABLE_SIZE)), np.zeros((n, adaptive.TABLE_SIZE))], axis=-1)
    key = _digest(transform, priors)
    out = []
    for tau in values:
        if tau == 0.0:
            out.append(log_table(u) if log_space else u)
            continue
        if (key, float(tau)) not in _SCALE_TABLES:
            table = convolved_table(log_table(u), float(tau))
            while _SCALE_TABLES and sum(t.nbytes for t in _SCALE_TABLES.values()) + table.nbytes > SCALE_TABLE_BYTES:
                _SCALE_TABLES.pop(next(iter(_SCALE_TABLES)))
            _SCALE_TABLES[key, float(tau)] = table
        table = _SCALE_TABLES[key, float(tau)]
        out.append(table if log_space else exp_table(table))
    return ScaleMap(np.stack(out), index.astype(np.int64), log_space)


def _base_values(transform: NuisanceTransform, m: int, scaled: bool) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Every nuisance value (m, G) where it is not free, and zero errors: the packing's Υ, the catalogue's D and i;
    with a velocity scale integrated (``scaled``) u (1 until set) and the inclination alone has no value (NaN)."""
    n = transform.n_galaxies
    base = {"upsilon_disk": transform.upsilon0["upsilon_disk"], "upsilon_bul": transform.upsilon0["upsilon_bul"],
            "distance": transform.distance0,
            "inclination": np.nan if scaled else transform.catalogue.columns["inclination"],
            **({SCALE: 1.0} if scaled else {})}
    values = {k: np.broadcast_to(np.asarray(v, dtype=float), (m, n)).copy() for k, v in base.items()}
    return values, {k: np.zeros((m, n)) for k in base}


def _build_tables(transform: NuisanceTransform, priors: Mapping[str, Prior]) -> np.ndarray:
    n = transform.n_galaxies
    out = np.zeros((n, 4, adaptive.TABLE_SIZE, 2))
    for code, name in enumerate(NUISANCE_PARAMETERS):
        if name not in priors:
            continue
        tab = adaptive.tables(priors[name], n)
        if name == "distance":
            tab = tab / transform.distance0[:, None, None]
        elif name == "inclination":
            rad = np.radians(tab[..., 0])
            tab = np.stack([np.sin(rad), np.cos(rad) * np.radians(tab[..., 1])], axis=-1) \
                / transform.sin_i0[:, None, None]
        out[:, code] = tab
    return out


def _start(start: np.ndarray | None, index: np.ndarray, dims: tuple[str, ...], m: int) -> np.ndarray:
    """The group's starting z (m, G, d): the columns of a previous mode, or the prior median 0."""
    cols = [_column(n) for n in dims]
    if start is None:
        return np.zeros((m, len(index), len(dims)))
    s = np.asarray(start, dtype=float)
    s = s[..., index, :][..., cols]
    return np.broadcast_to(np.nan_to_num(s, nan=0.0), (m, len(index), len(dims))).copy()


def _find_modes(groups, m: int, start, tol: float, max_iter: int, restarts: bool):
    """Run the mode search of every group; returns per group (ẑ, F, V_pred, r, H, converged, iterations)."""
    return [(_restarted if restarts else _Group.mode)(g, _start(start, index, g.dims, m), tol, max_iter)
            for index, g in groups]


def _restarted(g: _Group, z: np.ndarray, tol: float, max_iter: int) -> tuple[np.ndarray, ...]:
    """:meth:`_Group.mode` from ``z``, then restarted from the prior centre and from ẑ ± s·e_j (every axis j, every
    s in :data:`PROBES`) around the best mode so far, pair by pair; a lower F (by > :data:`RESTART_GAIN`) replaces
    the mode and the probes repeat around it (at most :data:`RESTART_ROUNDS` rounds). The compiled solver's rule."""
    best = list(g.mode(z, tol, max_iter))
    for rnd in range(RESTART_ROUNDS):
        centre = best[0].copy()
        starts = [np.zeros_like(centre)] if rnd == 0 else []
        for j, s, sign in itertools.product(range(g.d), PROBES, (1.0, -1.0)):
            zs = centre.copy()
            zs[..., j] = np.clip(zs[..., j] + sign * s, -Z_LIMIT, Z_LIMIT)
            starts.append(zs)
        improved = np.zeros(centre.shape[:-1], dtype=bool)
        for zs in starts:
            z_t, f_t, v_t, r_t, h_t, c_t, it_t = g.mode(zs, tol, max_iter)
            better = f_t < best[1] - RESTART_GAIN
            improved |= better
            on_points = g.transform.to_points(better)
            best = [np.where(better[..., None], z_t, best[0]), np.where(better, f_t, best[1]),
                    np.where(on_points, v_t, best[2]), np.where(on_points, r_t, best[3]),
                    np.where(better[..., None, None], h_t, best[4]), np.where(better, c_t, best[5]),
                    max(best[6], it_t)]
        if not improved.any():
            break
    return tuple(best)


def _assemble_mode(groups, solved, scales, transform: NuisanceTransform, priors: Mapping[str, Prior], m: int) -> Mode:
    """Scatter every group's mode into (m, n_galaxies) arrays."""
    n = transform.n_galaxies
    values, errors = _base_values(transform, m, any(SCALE in g.dims for _, g in groups))
    z_all = np.full((m, n, len(NUISANCE_PARAMETERS)), np.nan)
    chi2, chi2_prior, log_l = (np.empty((m, n)) for _ in range(3))
    converged = np.empty((m, n), dtype=bool)
    iterations = evaluations = 0
    for (index, g), (z, f, v, r, h, conv, its), c in zip(groups, solved, scales):
        theta = g.theta(z)
        cov = np.einsum("...ij,...kj->...ik", c, c)
        for j, name in enumerate(g.dims):
            values[name][:, index] = theta[name]
            zp = z.copy()
            zp[..., j] += 1e-4
            slope = (g.theta(zp)[name] - theta[name]) / 1e-4
            errors[name][:, index] = np.abs(slope) * np.sqrt(cov[..., j, j])
            z_all[:, index, _column(name)] = z[..., j]
        c2 = segment_sum(r * r, g.transform.offsets)
        chi2[:, index] = c2
        chi2_prior[:, index] = np.sum(z * z, axis=-1)
        log_l[:, index] = -(f - 0.5 * np.sum(z * z, axis=-1))
        converged[:, index] = conv
        iterations = max(iterations, its)
        evaluations = max(evaluations, g.kernel_evaluations)
    return Mode(values, errors, z_all, chi2, chi2_prior, log_l, converged, iterations, evaluations)


def profile(kernel: Kernel, params: Mapping[str, Any], transform: NuisanceTransform, priors: Mapping[str, Prior],
            likelihood: GaussianLikelihood | None = None, *, per_object: Mapping[str, np.ndarray] | None = None,
            start: np.ndarray | None = None, tol: float = 1e-6, max_iter: int = 40, compiled: bool = True,
            restarts: bool = True) -> Mode:
    """The mode of L × prior of every (grid point, galaxy) pair (module docstring), with its χ² and 1σ errors.

    ``params``: the kernel's parameters, numbers or arrays shaped (m, 1) (m global grid points); ``per_object``:
    parameters with a value per (grid point, galaxy), shaped (m, n_galaxies); ``priors``: nuisance priors bound
    to the transform's galaxies (a parameter left out is fixed); ``start``: a previous :attr:`Mode.z`;
    ``compiled``: use the compiled pair solver (:mod:`~sigcube.compute.quadrature_compiled`) when the kernel can be compiled
    (False: this module's numpy implementation, the reference it is tested against); ``restarts``: restart the
    search from the prior centre and around the best mode so far (:data:`PROBES`), since F can have several minima
    (e.g. a V_bar² that changes sign with Υ: the floor makes a cusp); False: one descent from ``start``.
    """
    likelihood = likelihood or GaussianLikelihood()
    if compiled:
        fast = _compiled(kernel, params, transform, priors, likelihood, per_object, start, 1, False, True, tol,
                         max_iter, restarts)
        if fast is not None:
            return fast[0]
    groups, m = _groups(kernel, params, transform, priors, likelihood, per_object)
    solved = _find_modes(groups, m, start, tol, max_iter, restarts)
    scales = [g.scale(z, f, v, h, refine=True)[0] for (_, g), (z, f, v, r, h, *_rest) in zip(groups, solved)]
    return _assemble_mode(groups, solved, scales, transform, priors, m)


def marginalise(kernel: Kernel, params: Mapping[str, Any], transform: NuisanceTransform,
                priors: Mapping[str, Prior], likelihood: GaussianLikelihood | None = None, *,
                nodes: int | np.ndarray = 3, per_object: Mapping[str, np.ndarray] | None = None,
                start: np.ndarray | None = None, refine: bool = True, tol: float = 1e-6, max_iter: int = 40,
                compiled: bool = True, restarts: bool = False) -> Marginal:
    """ln ∫ L π over the nuisance parameters of every (grid point, galaxy) pair by adaptive Gauss–Hermite.

    Arguments as :func:`profile`; ``nodes`` per dimension (3–5 typical; the kernel runs nodes^(d−1) times per
    pair and the likelihood nodes^d times), one number for every galaxy or one per galaxy (e.g. a
    :class:`NodeChoice`'s); ``refine``: refine the Gauss–Newton scale by finite differences;
    ``compiled`` and ``restarts`` as :func:`profile` (restarts off by default: a sweep warm-starts each grid point
    at its neighbour's mode).
    """
    if np.ndim(nodes):
        return _by_node_count(kernel, params, transform, priors, likelihood, np.asarray(nodes), per_object, start,
                              refine, tol, max_iter, compiled, restarts)
    gauss_hermite(nodes)
    likelihood = likelihood or GaussianLikelihood()
    if compiled:
        fast = _compiled(kernel, params, transform, priors, likelihood, per_object, start, nodes, True, refine, tol,
                         max_iter, restarts)
        if fast is not None:
            mode, pairs = fast
            return Marginal(pairs.log_marginal, pairs.log_laplace, mode, int(nodes), pairs.kernel_point_evaluations,
                            pairs.scale_clipped, _dims_by_galaxy(transform, priors, likelihood.scaled))
    groups, m = _groups(kernel, params, transform, priors, likelihood, per_object)
    solved = _find_modes(groups, m, start, tol, max_iter, restarts)
    n = transform.n_galaxies
    log_z, laplace = np.empty((m, n)), np.empty((m, n))
    clipped = np.zeros((m, n), dtype=bool)
    scales = []
    for (index, g), (z, f, v, r, h, *_rest) in zip(groups, solved):
        c, clip = g.scale(z, f, v, h, refine)
        scales.append(c)
        log_det = np.sum(np.log(np.abs(np.diagonal(c, axis1=-2, axis2=-1))), axis=-1)
        laplace[:, index] = -f + log_det
        log_z[:, index] = g.quadrature(z, c, nodes, v_centre=v)
        clipped[:, index] = clip
    mode = _assemble_mode(groups, solved, scales, transform, priors, m)
    return Marginal(log_z, laplace, mode, int(nodes),
                    sum(g.point_evaluations for _, g in groups),
                    clipped, {str(transform.galaxy[i]): g.dims for index, g in groups for i in index})


def _by_node_count(kernel: Kernel, params: Mapping[str, Any], transform: NuisanceTransform,
                   priors: Mapping[str, Prior], likelihood: GaussianLikelihood | None, nodes: np.ndarray,
                   per_object: Mapping[str, np.ndarray] | None, start: np.ndarray | None, refine: bool, tol: float,
                   max_iter: int, compiled: bool, restarts: bool) -> Marginal:
    """:func:`marginalise` with a node count per galaxy: the galaxies of each count in one call, merged."""
    if nodes.shape != (transform.n_galaxies,):
        raise QuadratureError(f"nodes per galaxy must have one value for each of the {transform.n_galaxies} galaxies; "
                              f"got shape {nodes.shape}")
    parts = []
    for count in np.unique(nodes):
        index = np.flatnonzero(nodes == count)
        sub_start = None if start is None else np.asarray(start)[..., index, :]
        part = marginalise(kernel, params, transform.take(index), {k: p.take(index) for k, p in priors.items()},
                           likelihood, nodes=int(count),
                           per_object={k: np.asarray(v)[..., index] for k, v in (per_object or {}).items()},
                           start=sub_start, refine=refine, tol=tol, max_iter=max_iter, compiled=compiled,
                           restarts=restarts)
        parts.append((index, part))
    n = transform.n_galaxies

    def merge(arrays: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        first = arrays[0][1]
        out = np.empty(first.shape[:1] + (n,) + first.shape[2:], dtype=first.dtype)
        for index, a in arrays:
            out[:, index] = a
        return out

    modes = [(i, p.mode) for i, p in parts]
    mode = Mode({k: merge([(i, m.values[k]) for i, m in modes]) for k in modes[0][1].values},
                {k: merge([(i, m.errors[k]) for i, m in modes]) for k in modes[0][1].errors},
                merge([(i, m.z) for i, m in modes]), merge([(i, m.chi2) for i, m in modes]),
                merge([(i, m.chi2_prior) for i, m in modes]), merge([(i, m.log_likelihood) for i, m in modes]),
                merge([(i, m.converged) for i, m in modes]), max(m.iterations for _, m in modes),
                max(m.kernel_evaluations for _, m in modes))
    return Marginal(merge([(i, p.log_marginal) for i, p in parts]), merge([(i, p.log_laplace) for i, p in parts]),
                    mode, int(nodes.max()), sum(p.kernel_point_evaluations for _, p in parts),
                    merge([(i, p.scale_clipped) for i, p in parts]),
                    _dims_by_galaxy(transform, priors, (likelihood or GaussianLikelihood()).scaled))


def prior_gauss_hermite(kernel: Kernel, params: Mapping[str, Any], transform: NuisanceTransform,
                        priors: Mapping[str, Prior], likelihood: GaussianLikelihood | None = None, *,
                        nodes: int = 5) -> np.ndarray:
    """ln Z by Gauss–Hermite nodes placed by the prior (centre z = 0, unit scale): the method that fails on SPARC.

    Kept to document the failure (the likelihood is far narrower than the priors); use :func:`marginalise`.
    """
    likelihood = likelihood or GaussianLikelihood()
    groups, m = _groups(kernel, params, transform, priors, likelihood, None)
    out = np.empty((m, transform.n_galaxies))
    for index, g in groups:
        centre = np.zeros((m, len(index), g.d))
        out[:, index] = g.quadrature(centre, np.broadcast_to(np.eye(g.d), centre.shape + (g.d,)), nodes, nested=False)
    return out


def reference_log_marginal(kernel: Kernel, params: Mapping[str, Any], transform: NuisanceTransform,
                           priors: Mapping[str, Prior], likelihood: GaussianLikelihood | None = None, *,
                           half_width: float = 6.0, spacing: float = 0.6, edge: float = -18.0,
                           batch: int = 20000, max_points: float = 2e6) -> tuple[float, float]:
    """Brute-force ln Z of one galaxy at one global point: a dense trapezoid grid, for tests.

    Independent of the adaptive machinery: the centre comes from scipy's BFGS, the axes from a central-difference
    Hessian there (its eigenvectors); the grid spans ±``half_width`` of each axis's 1σ at ``spacing`` σ and is
    widened by half a width, as often as needed, until the ln-integrand on its faces is below its maximum
    + ``edge``; the spacing grows to keep at most ``max_points`` nodes (the trapezoid rule on a smooth
    integrand that decays at the faces stays accurate to ~1e-8 relative at 1σ spacing and ~1e-3 at 1.5σ).
    Returns (ln Z, the largest ln-integrand on the faces minus the maximum).
    """
    from scipy.optimize import minimize

    likelihood = likelihood or GaussianLikelihood()
    if transform.n_galaxies != 1:
        raise QuadratureError(f"the reference integrates one galaxy; the transform has {transform.n_galaxies}")
    ((_, g),), _ = _groups(kernel, params, transform, priors, likelihood, None)
    d = g.d

    def log_integrand(zs: np.ndarray) -> np.ndarray:
        zs = np.atleast_2d(zs)[:, None, :]
        out = [g.state(g.predict(zs[a: a + batch, :, : g.dk]), zs[a: a + batch])[0][:, 0]
               for a in range(0, len(zs), batch)]
        with np.errstate(invalid="ignore", divide="ignore"):
            f = np.concatenate(out)
        # past the representable quantiles (D → 0, i → 0) the kernel gives NaN where the integrand is nil
        return np.where(np.isnan(f), -np.inf, -f - 0.5 * d * math.log(2 * math.pi))

    best = minimize(lambda z: -float(log_integrand(z)[0]), np.zeros(d), method="BFGS", options={"gtol": 1e-8})
    centre, step = best.x, 1e-3
    hess = np.empty((d, d))
    e = np.eye(d) * step
    for j in range(d):
        for k in range(j, d):
            fp = log_integrand(np.array([centre + e[j] + e[k], centre + e[j] - e[k],
                                         centre - e[j] + e[k], centre - e[j] - e[k]]))
            hess[j, k] = hess[k, j] = -(fp[0] - fp[1] - fp[2] + fp[3]) / (4 * step * step)
    w, vecs = np.linalg.eigh(hess)
    if np.any(w <= 0):
        raise QuadratureError(f"the reference's Hessian at the mode is not positive definite (eigenvalues {w})")
    axes = vecs / np.sqrt(w)
    most = int(max_points ** (1.0 / d))
    while True:
        spacing = max(spacing, 2.0 * half_width / (most - 1))
        ticks = np.arange(-half_width, half_width + 1e-9, spacing)
        grid = np.stack(np.meshgrid(*([ticks] * d), indexing="ij"), axis=-1).reshape(-1, d)
        log_g = log_integrand(centre + grid @ axes.T)
        top = np.max(log_g)
        face = float(np.max(log_g[np.any(np.abs(grid) >= ticks[-1] - 1e-9, axis=1)]) - top)
        if face < edge or half_width > 40:
            break
        half_width *= 1.5
    log_z = top + math.log(np.sum(np.exp(log_g - top))) + d * math.log(spacing) + math.log(abs(np.linalg.det(axes)))
    return float(log_z), face


# --- how sure an integral is ----------------------------------------------------------------------------------------

HARD_TOLERANCE = 0.02
"""|ln Z(nodes + 2) − ln Z(nodes)| [nat] above which a galaxy's integral is called hard, refined and flagged (on SPARC
at the canonical point, 5 → 7 nodes: median 4e-4 nat; the known hard cases UGC09133, UGC02953, UGC05253, UGC00128
change by 0.03–0.06)."""
EDGE_MARGIN = 2.0
"""A mode with a coordinate within this of the z-box's faces (|z| ≤ Z_LIMIT: the prior density e^−50 there) sits
near the edge: the priors, not the data, hold it, and the rule's nodes may leave the tabulated maps."""
SETTLED = 0.005
"""|ln Z(n + 2) − ln Z(n)| [nat] at which the refinement's ladder of node counts stops."""
MAX_NODES = 25
"""The refinement's largest node count per dimension (25³ likelihood nodes per galaxy without a bulge, 25⁴ with)."""


@dataclass(frozen=True)
class IntegralCheck:
    """Per galaxy of one grid point: ln Z at ``nodes`` and ``nodes`` + 2, their ``change``, whether the mode is
    ``near_edge`` of the z-box, ``flagged`` (change above ``tolerance`` or near the edge) and, for the flagged ones,
    the ``refined`` ln Z: the same adaptive rule with ``nodes`` + 4, + 6, … nodes per dimension until two successive
    rules differ by at most :data:`SETTLED` or ``max_nodes`` is reached (``refined_nodes``, ``refined_change``: the
    last difference; NaN for galaxies not flagged)."""

    galaxy: np.ndarray
    log_marginal: np.ndarray
    log_marginal_more: np.ndarray
    near_edge: np.ndarray
    refined: np.ndarray
    refined_nodes: np.ndarray
    refined_change: np.ndarray
    nodes: int
    tolerance: float
    max_nodes: int

    @property
    def change(self) -> np.ndarray:
        return self.log_marginal_more - self.log_marginal

    @property
    def flagged(self) -> np.ndarray:
        return (np.abs(self.change) > self.tolerance) | ~np.isfinite(self.change) | self.near_edge

    @property
    def unsettled(self) -> np.ndarray:
        """Flagged galaxies whose refinement still moved by more than :data:`SETTLED` at ``max_nodes``."""
        return self.flagged & ~(np.abs(self.refined_change) <= SETTLED)

    @property
    def best(self) -> np.ndarray:
        """The refined ln Z where a galaxy is flagged, else ln Z at ``nodes``."""
        return np.where(self.flagged, self.refined, self.log_marginal)

    def describe(self) -> str:
        """What was checked and how (for reports)."""
        return (f"each galaxy's ln Z at {self.nodes} and {self.nodes + 2} Gauss–Hermite nodes per dimension; flagged "
                f"where they differ by more than {self.tolerance:g} nat or the mode lies within {EDGE_MARGIN:g} of the "
                f"z-box faces |z| = {Z_LIMIT:g}; a flagged ln Z is refined by the same adaptive rule with 2 more "
                f"nodes per dimension at a time until two successive rules agree within {SETTLED:g} nat (at most "
                f"{self.max_nodes} nodes); one still moving then is called unsettled")


def _ladder(kernel: Kernel, params: Mapping[str, Any], transform: NuisanceTransform, priors: Mapping[str, Prior],
            likelihood: GaussianLikelihood, open_: np.ndarray, previous: np.ndarray, first: int, max_nodes: int,
            tolerance: float, restarts: bool, per_object: Mapping[str, np.ndarray] | None = None
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The galaxies ``open_`` (indices) climb a ladder of node counts ``first``, ``first`` + 2, … ≤ ``max_nodes``, each
    stopping once ln Z at a count differs from ln Z at the count below (``previous`` at ``first`` − 2) by at most
    ``tolerance``. Returns per galaxy of the transform (NaN for galaxies not in ``open_``): ln Z at the last count, that
    count, the last change, and ln Z at the count below it."""
    n = transform.n_galaxies
    last, used, change, below = (np.full(n, np.nan) for _ in range(4))
    below[open_] = previous
    for k in range(first, max_nodes + 1, 2):
        if not len(open_):
            break
        value = marginalise(kernel, params, transform.take(open_), {a: p.take(open_) for a, p in priors.items()},
                            likelihood, nodes=k, restarts=restarts,
                            per_object={a: np.asarray(v)[..., open_] for a, v in (per_object or {}).items()}
                            ).log_marginal[0]
        last[open_], used[open_], change[open_] = value, k, value - previous
        keep = ~(np.abs(value - previous) <= tolerance)
        below[open_[keep]] = value[keep]
        open_, previous = open_[keep], value[keep]
    return last, used, change, below


def check_integrals(kernel: Kernel, params: Mapping[str, Any], transform: NuisanceTransform,
                    priors: Mapping[str, Prior], likelihood: GaussianLikelihood | None = None, *, nodes: int = 5,
                    tolerance: float = HARD_TOLERANCE, max_nodes: int = MAX_NODES) -> IntegralCheck:
    """:class:`IntegralCheck` of every galaxy at one grid point (``params``: numbers, a switch as a string), every mode
    search restarted (:func:`profile`)."""
    likelihood = likelihood or GaussianLikelihood()
    low = marginalise(kernel, params, transform, priors, likelihood, nodes=nodes, restarts=True)
    high = marginalise(kernel, params, transform, priors, likelihood, nodes=nodes + 2, restarts=True)
    z = low.mode.z[0]
    near = np.any(np.abs(np.nan_to_num(z, nan=0.0)) > Z_LIMIT - EDGE_MARGIN, axis=-1)
    placeholder = np.full(transform.n_galaxies, np.nan)
    check = IntegralCheck(transform.galaxy, low.log_marginal[0], high.log_marginal[0], near, placeholder,
                          placeholder, placeholder, int(nodes), float(tolerance), int(max_nodes))
    open_ = np.flatnonzero(check.flagged)
    refined, used, last, _ = _ladder(kernel, params, transform, priors, likelihood, open_,
                                     check.log_marginal_more[open_], nodes + 4, max_nodes, SETTLED, True)
    return dataclasses.replace(check, refined=refined, refined_nodes=used, refined_change=last)


NODE_TOLERANCE = 0.0005
"""|ln Z(n + 2) − ln Z(n)| [nat] at which the node rule accepts n nodes for a galaxy (:func:`choose_nodes`): summed
over SPARC's 171 galaxies, under 0.1 nat."""
ERROR_FACTOR = 3.0
"""The node rule's error estimate of a galaxy's ln Z is this many times its last change |ln Z(n + 2) − ln Z(n)|: Gauss–
Hermite converges from below, and the last change understates what remains (on the ten hard-integral references of
tests/compute/hard_integrals.json, the chosen ln Z of a settled galaxy sits within 1–3.6 times its last change of
the tensor-product value)."""
FIRST_NODES = 3
"""The node rule's first count per dimension."""


@dataclass(frozen=True)
class NodeChoice:
    """The node rule at one point: per galaxy the smallest count n (from :data:`FIRST_NODES` up in steps of 2, at most
    ``max_nodes``) with |ln Z(n + 2) − ln Z(n)| ≤ ``tolerance`` — the rule :func:`check_integrals` refines by —
    ``log_marginal`` ln Z at n, ``change`` ln Z(n + 2) − ln Z(n) (the estimate of ln Z(n)'s quadrature error),
    ``settled`` (False where ``max_nodes`` was reached first), ``near_edge`` (the mode within
    :data:`EDGE_MARGIN` of the z-box faces) and the modes found there, ``z``, to warm-start neighbouring points."""

    galaxy: np.ndarray
    nodes: np.ndarray
    log_marginal: np.ndarray
    change: np.ndarray
    settled: np.ndarray
    near_edge: np.ndarray
    z: np.ndarray
    tolerance: float
    max_nodes: int

    @property
    def errors(self) -> np.ndarray:
        """Per galaxy :data:`ERROR_FACTOR` × |ln Z_g(n_g + 2) − ln Z_g(n_g)| [nat]: the estimated error of its ln Z."""
        return ERROR_FACTOR * np.abs(self.change)

    @property
    def error(self) -> float:
        """Σ_g of :attr:`errors` [nat]: the estimated quadrature error of Σ_g ln Z_g at this point."""
        return float(np.sum(self.errors))

    def summary(self, top: int = 5) -> dict[str, Any]:
        """JSON-able: the rule, how many galaxies took each count, the error, the galaxies with the largest changes."""
        counts, freq = np.unique(self.nodes, return_counts=True)
        worst = np.argsort(-np.abs(self.change))[:top]
        return {"rule": self.describe(), "nodes": {str(int(c)): int(f) for c, f in zip(counts, freq)},
                "error": self.error, "unsettled": [str(g) for g in self.galaxy[~self.settled]],
                "near_edge": [str(g) for g in self.galaxy[self.near_edge]],
                "largest": [{"galaxy": str(self.galaxy[i]), "nodes": int(self.nodes[i]),
                             "change": float(self.change[i])} for i in worst]}

    def describe(self) -> str:
        return (f"per galaxy, the smallest Gauss–Hermite node count n per dimension (from {FIRST_NODES} in steps of 2, "
                f"at most {self.max_nodes}) with |ln Z(n + 2) − ln Z(n)| ≤ {self.tolerance:g} nat, chosen at the "
                "posterior's best grid point; the quadrature error of a galaxy's ln Z is estimated as "
                f"{ERROR_FACTOR:g} times that last change (Gauss–Hermite converges from below and the last change "
                "understates what remains), of Σ_g ln Z_g as the sum")


def choose_nodes(kernel: Kernel, params: Mapping[str, Any], transform: NuisanceTransform,
                 priors: Mapping[str, Prior], likelihood: GaussianLikelihood | None = None, *,
                 per_object: Mapping[str, np.ndarray] | None = None, tolerance: float = NODE_TOLERANCE,
                 max_nodes: int = MAX_NODES) -> NodeChoice:
    """:class:`NodeChoice` of every galaxy at one point (``params`` numbers; ``per_object`` (1, n_galaxies) arrays),
    every mode search restarted (:func:`profile`)."""
    likelihood = likelihood or GaussianLikelihood()
    first = marginalise(kernel, params, transform, priors, likelihood, nodes=FIRST_NODES, restarts=True,
                        per_object=per_object)
    z = first.mode.z[0]
    near = np.any(np.abs(np.nan_to_num(z, nan=0.0)) > Z_LIMIT - EDGE_MARGIN, axis=-1)
    n = transform.n_galaxies
    last, used, change, below = _ladder(kernel, params, transform, priors, likelihood, np.arange(n),
                                        first.log_marginal[0], FIRST_NODES + 2, max_nodes, tolerance, True,
                                        per_object)
    settled = np.abs(change) <= tolerance
    return NodeChoice(transform.galaxy, (used - 2).astype(int), below, change, settled, near, first.mode.z[:1],
                      float(tolerance), int(max_nodes))



FIXED_TOLERANCE = 0.1
"""|Σ_g ln Z_g(n) − Σ_g ln Z_g(node rule)| [nat], beyond the rule's own error estimate, within which one node count n
for every galaxy is accepted (:func:`fixed_count_check`): a sweep at n then sums the galaxies' ln Z as accurately as
the per-galaxy rule does."""


def fixed_count_check(fixed: np.ndarray, nodes: int, choice: NodeChoice) -> dict[str, Any]:
    """Whether ``nodes`` for every galaxy (their ln Z ``fixed`` at one point) is accepted against the node rule at the
    same point (``choice``): |Σ_g (ln Z_g(n) − ln Z_g(rule))| ≤ :data:`FIXED_TOLERANCE` + the rule's error."""
    shift = float(np.sum(np.asarray(fixed) - choice.log_marginal))
    limit = FIXED_TOLERANCE + choice.error
    return {"nodes": int(nodes), "shift": shift, "limit": limit, "accepted": bool(abs(shift) <= limit),
            "rule": choice.summary(), "describe": (
                f"one node count for every galaxy is accepted when Σ_g ln Z_g at that count is within "
                f"{FIXED_TOLERANCE:g} nat plus the node rule's own error estimate of Σ_g ln Z_g at each galaxy's "
                "rule-chosen count, at the posterior's largest grid point")}
