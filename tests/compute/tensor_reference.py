"""An independent reference for one galaxy's ln Z over its nuisance parameters: a brute-force tensor-product
trapezoid rule on an axis-aligned box in each prior's own normal-deviate variable z_j = Φ⁻¹(F_j(θ_j)).

    Z = ∫ L(θ(z)) φ_d(z) dz

It uses only the kernel, :class:`~sigcube.stats.nuisance.NuisanceTransform`, the priors' ``from_normal`` and
:class:`~sigcube.stats.likelihood.BoundLikelihood` — no mode search, no Hessian, no rotation, nothing of the adaptive
rule. The box is found from the grid itself (shrunk to where the integrand is within ``threshold`` nat of its largest
grid value, then widened until its faces are below that), and the node count per dimension is doubled-ish until
ln Z changes by less than ``tol`` nat twice running.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from sigcube.model.kernels.registry import Kernel
from sigcube.stats.likelihood import GaussianLikelihood
from sigcube.stats.nuisance import NUISANCE_PARAMETERS, NuisanceTransform
from sigcube.stats.priors import Prior

Z_BOX = 12.0
"""The widest box |z_j| ≤ Z_BOX (the adaptive rule's Z_LIMIT: prior density e^−72 at its faces)."""


@dataclass(frozen=True)
class TensorReference:
    log_z: float
    """ln Z at the finest rule [nat]."""
    change: float
    """The larger of the last two changes of ln Z along the ladder [nat]."""
    nodes: int
    """Nodes per dimension of the finest rule."""
    face: float
    """Largest ln-integrand on the box's faces minus the largest inside [nat]."""
    box: np.ndarray
    """(d, 2) the box in z."""
    dims: tuple[str, ...]


class _Integrand:
    def __init__(self, kernel: Kernel, params: Mapping[str, Any], transform: NuisanceTransform,
                 priors: Mapping[str, Prior], likelihood: GaussianLikelihood) -> None:
        if transform.n_galaxies != 1:
            raise ValueError("the tensor reference integrates one galaxy")
        self.kernel, self.transform, self.priors = kernel, transform, priors
        self.params = kernel.resolve(params)
        self.lik = likelihood.bind(transform.v_obs, transform.e_v_obs, transform.offsets)
        self.dims = tuple(n for n in NUISANCE_PARAMETERS if n in priors
                          and (n != "upsilon_bul" or bool(transform.has_bulge[0])))
        self.inclined = "inclination" in self.dims
        self.outer = self.dims[:-1] if self.inclined else self.dims

    def on_grid(self, axes: list[np.ndarray], batch: int = 4000) -> np.ndarray:
        """ln[L(θ(z)) φ_d(z)] on the tensor grid of ``axes`` (one 1-D array per dimension), shape (n_1, …, n_d)."""
        d = len(self.dims)
        outer_axes = axes[:-1] if self.inclined else axes
        mesh = np.stack(np.meshgrid(*outer_axes, indexing="ij"), axis=-1).reshape(-1, len(outer_axes))
        if self.inclined:
            theta_i = self.priors["inclination"].from_normal(axes[-1][:, None])            # (n_i, 1)
            qinv = self.transform.inverse_inclination_factor(theta_i)                       # (n_i, 1)
        out = []
        for a in range(0, len(mesh), batch):
            zk = mesh[a: a + batch]
            values = {name: self.priors[name].from_normal(zk[:, j: j + 1]) for j, name in enumerate(self.outer)}
            with np.errstate(all="ignore"):
                v = self.kernel.func(self.transform.kernel_inputs(values), **self.params)   # (k, n_points)
                v = np.broadcast_to(v, (len(zk), self.transform.n_points))
                if self.inclined and self.lik.floor_free:
                    # σ_int = 0: χ² is exactly A − 2B/q + C/q² in 1/q (BoundLikelihood.moments)
                    ll = self.lik.log_likelihood_from_moments(self.lik.moments(v), qinv[None, :, 0])  # (k, n_i)
                elif self.inclined:
                    ll = np.stack([self.lik.log_likelihood(v, np.broadcast_to(q, (len(zk), 1)))[:, 0]
                                   for q in qinv[:, 0]], axis=-1)                           # (k, n_i)
                else:
                    ll = self.lik.log_likelihood(v)[:, 0]
            out.append(ll)
        ll = np.concatenate(out).reshape([len(x) for x in axes])
        log_prior = sum(np.reshape(-0.5 * x * x, [-1 if j == k else 1 for k in range(d)]) for j, x in enumerate(axes))
        f = ll + log_prior - 0.5 * d * math.log(2 * math.pi)
        return np.where(np.isnan(f), -np.inf, f)


def fingerprint(transform: NuisanceTransform) -> list[dict]:
    """What identifies each galaxy's data in a reference file: its point count and Σ V_obs, Σ e_V [km/s]."""
    return [{"points": int(b - a), "sum_v_obs": round(float(transform.v_obs[a:b].sum()), 6),
             "sum_e_v_obs": round(float(transform.e_v_obs[a:b].sum()), 6)}
            for a, b in zip(transform.offsets[:-1], transform.offsets[1:])]


def _trapezoid(f: np.ndarray, axes: list[np.ndarray]) -> float:
    top = float(np.max(f))
    w = np.exp(f - top)
    for x in axes:
        w = np.trapezoid(w, x, axis=0)
    return top + math.log(float(w))


def _face(f: np.ndarray) -> float:
    top = float(np.max(f))
    faces = [np.take(f, [0, -1], axis=j) for j in range(f.ndim)]
    return max(float(np.max(x)) for x in faces) - top


def tensor_log_marginal(kernel: Kernel, params: Mapping[str, Any], transform: NuisanceTransform,
                        priors: Mapping[str, Prior], likelihood: GaussianLikelihood | None = None, *,
                        tol: float = 0.01, threshold: float = 30.0, search_nodes: int = 25,
                        ladder: tuple[int, ...] = (24, 32, 44, 60, 80, 110, 140)) -> TensorReference:
    """ln Z of one galaxy at one kernel point (``params``: numbers) by the tensor trapezoid rule (module docstring).

    Box: start at |z| ≤ Z_BOX, evaluate ``search_nodes`` per dimension, shrink each side to one spacing beyond the
    points within ``threshold`` nat of the maximum, repeat until the box stops shrinking; widen a side whose face is
    not ``threshold`` below the maximum. Then the ``ladder`` of node counts until three successive rules agree
    within ``tol``. The grid is held whole: 140⁴ nodes need ~3 GB, 180⁴ more than this machine has. One agreeing
    pair can be a coincidence of an under-resolved ridge: NGC2403 moves 0.005 nat from 24 to 32 nodes and 0.11
    from 32 to 60."""
    g = _Integrand(kernel, params, transform, priors, likelihood or GaussianLikelihood())
    d = len(g.dims)
    box = np.tile([-Z_BOX, Z_BOX], (d, 1)).astype(float)
    for _ in range(12):
        axes = [np.linspace(lo, hi, search_nodes) for lo, hi in box]
        f = g.on_grid(axes)
        keep = f > np.max(f) - threshold
        new = box.copy()
        for j in range(d):
            other = tuple(k for k in range(d) if k != j)
            idx = np.flatnonzero(np.any(keep, axis=other))
            h = axes[j][1] - axes[j][0]
            new[j] = [max(-Z_BOX, axes[j][idx[0]] - h), min(Z_BOX, axes[j][idx[-1]] + h)]
        if np.all(np.abs(new - box) < 0.05 * (box[:, 1:] - box[:, :1])):
            box = new
            break
        box = new
    previous, changes = None, []
    for level, n in enumerate(ladder):
        for _ in range(6 if level == 0 else 2):   # widen any face that still carries integrand
            axes = [np.linspace(lo, hi, n) for lo, hi in box]
            f = g.on_grid(axes)
            top = float(np.max(f))
            grown = False
            for j in range(d):
                for side, k in ((0, 0), (1, -1)):
                    if np.max(np.take(f, k, axis=j)) > top - threshold and abs(box[j, side]) < Z_BOX:
                        width = box[j, 1] - box[j, 0]
                        box[j, side] = float(np.clip(box[j, side] + (0.25 * width if side else -0.25 * width),
                                                     -Z_BOX, Z_BOX))
                        grown = True
            if not grown:
                break
        log_z = _trapezoid(f, axes)
        changes.append(log_z - previous if previous is not None else np.inf)
        if len(changes) >= 3 and abs(changes[-1]) < tol and abs(changes[-2]) < tol:
            break
        previous = log_z
    return TensorReference(log_z, float(max(changes[-2:], key=abs)), n, _face(f), box.copy(), g.dims)
