"""Tension between probes that share parameters, exactly on a grid (sums over the grid, no sampling).

Setting: a grid over the shared parameters θ with prior masses π (equal mass per grid point unless ``log_prior`` is
given; normalised here) and each probe's ln L_X(θ) [nat] on that grid. Probes are independent given θ, so the joint
likelihood of A and B is L_AB = L_A·L_B. For X = A, B, AB:

- evidence Z_X = Σ π L_X, posterior P_X = π L_X / Z_X, posterior mean μ_X and covariance Σ_X (mass at the grid
  points), KL divergence from prior to posterior D_X = Σ P_X ln(P_X/π) = ⟨ln L_X⟩_X − ln Z_X, and the Bayesian model
  dimensionality d_X = 2 Var_{P_X}(ln L_X) (Handley & Lemos 2019, PRD 100, 023512);
- evidence ratio ln R = ln Z_AB − ln Z_A − ln Z_B; information ratio ln I = D_A + D_B − D_AB;
- **suspiciousness** (Handley & Lemos 2019, PRD 100, 043504) ln S = ln R − ln I = ⟨ln L_AB⟩_AB − ⟨ln L_A⟩_A −
  ⟨ln L_B⟩_B, with d = d_A + d_B − d_AB and the tension probability p = P(χ²_d > d − 2 ln S), quoted also as the
  two-sided Gaussian σ = Φ⁻¹(1 − p/2);
- **parameter shift**: Δ = μ_A − μ_B in units of the combined covariance, m² = Δᵀ(Σ_A + Σ_B)⁻¹Δ, p = P(χ²_k > m²)
  with k the number of grid axes (for one parameter m = |Δμ|/√(σ_A² + σ_B²)), and its σ.

Numerical error (:func:`numerical_error`): every statistic is recomputed on the grid with every second point along each
axis of more than four points; the change is its grid error (a grid that resolves the posteriors changes it
little). A probe's ln L known only to ±ε [nat] (a quadrature's estimate) moves each posterior average of ln L by up
to ε to first order, so ln S by up to 2ε; the σ of S is then quoted over ln S ± its error and d ± its error, and a
verdict whose σ range straddles a threshold (2σ, 3σ) is undecided between the two readings
(:func:`verdict`).

For Gaussian likelihoods well inside a flat prior, ln S = (k − χ²)/2 with χ² = Δᵀ(Σ_A + Σ_B)⁻¹Δ, every d_X = k, and
both p values coincide. ln R and ln I grow with the prior volume (by ln f for each parameter whose prior is widened
f-fold); ln S and d do not: that is why the suspiciousness, not R, measures tension. R and S assume the grid holds
every posterior (its edges are reported); the shift assumes near-Gaussian posteriors, S does not.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from dataclasses import dataclass

import numpy as np
import xarray as xr
from scipy import stats
from scipy.special import logsumexp, ndtri_exp

from sigcube.errors import SigcubeError

EQUAL_MASS = "equal mass per grid point"
EDGE_WARNING = 0.01
"""Posterior mass on the grid's outer faces above which a probe's posterior is reported as truncated."""


class TensionError(SigcubeError):
    """A tension computation that cannot run: grids that differ, NaN, a probe with zero evidence on the grid."""


@dataclass(frozen=True)
class Probe:
    """One probe's (or a product's) posterior summary on the grid: ln Z [nat], mean, covariance, ⟨ln L⟩ [nat], KL
    divergence D [nat], dimensionality d = 2 Var(ln L), and the posterior mass on the grid's outer faces."""

    name: str
    log_evidence: float
    mean: np.ndarray
    cov: np.ndarray
    mean_loglike: float
    kl: float
    dimensionality: float
    edge_mass: float


@dataclass(frozen=True)
class Tension:
    """Tension between probes ``a`` and ``b`` (each a :class:`Probe`; ``ab`` their product) over ``parameters``."""

    parameters: tuple[str, ...]
    a: Probe
    b: Probe
    ab: Probe
    prior: str

    @property
    def ln_r(self) -> float:
        """Evidence ratio ln R = ln Z_AB − ln Z_A − ln Z_B [nat] (prior-volume dependent)."""
        return self.ab.log_evidence - self.a.log_evidence - self.b.log_evidence

    @property
    def ln_i(self) -> float:
        """Information ratio ln I = D_A + D_B − D_AB [nat] (prior-volume dependent)."""
        return self.a.kl + self.b.kl - self.ab.kl

    @property
    def ln_s(self) -> float:
        """Suspiciousness ln S = ln R − ln I = ⟨ln L_AB⟩_AB − ⟨ln L_A⟩_A − ⟨ln L_B⟩_B [nat]."""
        return self.ab.mean_loglike - self.a.mean_loglike - self.b.mean_loglike

    @property
    def dimensionality(self) -> float:
        """d = d_A + d_B − d_AB, the number of parameters both probes constrain."""
        return self.a.dimensionality + self.b.dimensionality - self.ab.dimensionality

    @property
    def log_p(self) -> float:
        """ln P(χ²_d > d − 2 ln S) (NaN when d ≤ 0: no shared constrained parameter)."""
        d = self.dimensionality
        return float(stats.chi2.logsf(d - 2 * self.ln_s, d)) if d > 0 else float("nan")

    @property
    def p(self) -> float:
        """Tension probability of the suspiciousness."""
        return float(np.exp(self.log_p))

    @property
    def sigma(self) -> float:
        """The suspiciousness p as a two-sided Gaussian σ, Φ⁻¹(1 − p/2)."""
        return sigma_of(self.log_p)

    @property
    def shift(self) -> float:
        """m = √(Δᵀ(Σ_A + Σ_B)⁻¹Δ), the posterior means' shift in units of the combined uncertainty."""
        delta = self.a.mean - self.b.mean
        try:
            return float(np.sqrt(delta @ np.linalg.solve(self.a.cov + self.b.cov, delta)))
        except np.linalg.LinAlgError:
            raise TensionError("Σ_A + Σ_B is singular: some parameter has no posterior spread in either probe "
                               "(refine the grid)") from None

    @property
    def shift_log_p(self) -> float:
        """ln P(χ²_k > m²), k the number of parameters."""
        return float(stats.chi2.logsf(self.shift ** 2, len(self.parameters)))

    @property
    def shift_sigma(self) -> float:
        """The shift's p as a two-sided Gaussian σ (equals m for one parameter)."""
        return sigma_of(self.shift_log_p)

    def describe(self) -> list[str]:
        """Report lines: every number, what it assumes, and how to read it."""
        a, b = self.a.name, self.b.name
        lines = [
            f"tension {a} vs {b} over {', '.join(self.parameters)}: prior {self.prior} (normalised over the grid); "
            f"probes independent given the parameters (L_{a}{b} = L_{a}·L_{b}); every number an exact grid sum",
            f"ln Z: {a} {self.a.log_evidence:.3f}, {b} {self.b.log_evidence:.3f}, joint {self.ab.log_evidence:.3f} nat;"
            f" ln R = {self.ln_r:.3f} nat; ln I = D_{a} + D_{b} − D_joint = {self.a.kl:.3f} + {self.b.kl:.3f} − "
            f"{self.ab.kl:.3f} = {self.ln_i:.3f} nat (R and I depend on the prior's volume)",
            f"suspiciousness ln S = ln R − ln I = {self.ln_s:.3f} nat; d = d_{a} + d_{b} − d_joint = "
            f"{self.a.dimensionality:.2f} + {self.b.dimensionality:.2f} − {self.ab.dimensionality:.2f} = "
            f"{self.dimensionality:.2f} (d_X = 2 Var ln L_X); "
            + (f"p = P(χ²_d > d − 2 ln S) = {self.p:.3g} ({self.sigma:.2f}σ): {_reading(self.sigma)}"
               if self.dimensionality > 0 else "p undefined: the probes share no constrained parameter (d ≤ 0)"),
            f"parameter shift: |Δμ| in units of (Σ_{a} + Σ_{b}) = {self.shift:.3f}, p = "
            f"{np.exp(self.shift_log_p):.3g} ({self.shift_sigma:.2f}σ, χ² with {len(self.parameters)} dof; assumes "
            "near-Gaussian posteriors)",
            "Handley & Lemos 2019 (PRD 100, 043504): S is prior-independent for Gaussian likelihoods inside the prior",
        ]
        for probe in (self.a, self.b, self.ab):
            if probe.edge_mass > EDGE_WARNING:
                lines.append(f"⚠ {probe.edge_mass:.1%} of the {probe.name} posterior sits on the grid's outer faces: "
                             "the grid truncates it and every number above is affected")
        return lines


STATISTICS: dict[str, Any] = {"shift": lambda t: t.shift, "shift_sigma": lambda t: t.shift_sigma,
                              "ln_s": lambda t: t.ln_s, "dimensionality": lambda t: t.dimensionality,
                              "n_sigma": lambda t: t.sigma}
"""The statistics :func:`numerical_error` gives an error for, by name."""
MIN_SHARED = 0.5
"""A shared dimensionality d below this: the probes share no parameter both constrain, and no tension can be read
(the χ²_d of the suspiciousness is not a distribution of anything for d → 0)."""
THRESHOLDS = (2.0, 3.0)
"""σ below 2: no significant tension; 2–3: moderate; 3 and above: strong (:func:`verdict`)."""


def coarser(log_like: xr.DataArray) -> xr.DataArray:
    """Every second grid point along each axis of more than four points (the grid error's comparison grid)."""
    return log_like.isel({d: slice(None, None, 2) for d in log_like.dims if log_like.sizes[d] > 4})


def suspiciousness_sigma(ln_s: float, d: float) -> float:
    """σ of P(χ²_d > d − 2 ln S) (NaN when d ≤ 0)."""
    return sigma_of(float(stats.chi2.logsf(d - 2 * ln_s, d))) if d > 0 else float("nan")


def numerical_error(full: Tension, log_like_a: xr.DataArray, log_like_b: xr.DataArray, *,
                    quadrature: float = 0.0, log_prior: xr.DataArray | None = None) -> dict[str, Any]:
    """Each statistic's numerical error (module docstring): its change on :func:`coarser` grids, plus 2·``quadrature``
    for ln S; the range of the S σ over ln S ± error, d ± error."""
    half = tension(coarser(log_like_a), coarser(log_like_b), names=(full.a.name, full.b.name),
                   log_prior=None if log_prior is None else coarser(log_prior), prior=full.prior)
    grid = {k: abs(float(of(full)) - float(of(half))) for k, of in STATISTICS.items()}
    err = {k: (v if np.isfinite(v) else float("nan")) for k, v in grid.items()}
    err["ln_s"] += 2.0 * quadrature
    corners = [suspiciousness_sigma(full.ln_s + a * err["ln_s"], full.dimensionality + b * err["dimensionality"])
               for a in (-1, 1) for b in (-1, 1)]
    finite = [c for c in corners if np.isfinite(c)] if full.dimensionality >= MIN_SHARED else []
    return {"grid": grid,
            "quadrature_ln_l": quadrature, "error": err,
            "sigma_range": [min(finite), max(finite)] if finite else None,
            "shift_sigma_range": [max(full.shift_sigma - err["shift_sigma"], 0.0), full.shift_sigma + err["shift_sigma"]],
            "method": "each statistic recomputed on every second grid point along each axis of more than four "
                      "points (the change is the grid error); ln S also ± 2 × the probes' quadrature error ε of ln L "
                      "(first order); σ of S over ln S ± error and d ± error"}


def reading(sigma: float) -> str:
    """Conventional words for a tension of ``sigma`` (:data:`THRESHOLDS`)."""
    return _reading(sigma)


def verdict(sigma_range: tuple[float, float] | list[float] | None) -> str:
    """The reading of a σ range (None: no shared constrained parameter, :data:`MIN_SHARED`): one reading when both
    ends give it, else undecided between the two."""
    if sigma_range is None:
        return f"undefined: the probes share no parameter both constrain (d < {MIN_SHARED:g})"
    lo, hi = (reading(x) for x in sigma_range)
    return lo if lo == hi else f"undecided: {lo} to {hi} within the numerical error"


def sigma_of(log_p: float) -> float:
    """The two-sided Gaussian σ of a probability given by its logarithm: Φ⁻¹(1 − p/2) = −Φ⁻¹(p/2) (stable for tiny p)."""
    return float(-ndtri_exp(log_p - np.log(2.0))) if np.isfinite(log_p) or log_p == -np.inf else float("nan")


def _reading(sigma: float) -> str:
    """Conventional words for a tension in σ."""
    return "no significant tension" if sigma < 2 else "moderate tension" if sigma < 3 else "strong tension"


def tension(log_like_a: xr.DataArray, log_like_b: xr.DataArray, *, names: tuple[str, str] = ("A", "B"),
            log_prior: xr.DataArray | None = None, prior: str = EQUAL_MASS) -> Tension:
    """Every statistic of the module docstring for probes A and B: ``log_like_a`` and ``log_like_b`` [nat] over the
    same grid (same dims and coordinates, numeric); ``log_prior`` over (some of) its axes, default equal mass per grid
    point, stated in words by ``prior``."""
    axes = _axes(log_like_a, log_like_b)
    ll_a, ll_b = (_values(x, axes, n) for x, n in ((log_like_a, names[0]), (log_like_b, names[1])))
    lp = _log_prior(log_prior, axes)
    with np.errstate(invalid="ignore"):
        ll_ab = ll_a + ll_b
    points = np.stack([g.ravel() for g in np.meshgrid(*axes.values(), indexing="ij")], axis=1)
    face = _face(axes)
    summary = [_probe(n, ll, lp, points, face) for n, ll in ((names[0], ll_a), (names[1], ll_b),
                                                              (f"{names[0]}+{names[1]}", ll_ab))]
    return Tension(tuple(axes), *summary, prior)


def against_rest(log_likes: Mapping[str, xr.DataArray], *, log_prior: xr.DataArray | None = None,
                 prior: str = EQUAL_MASS) -> dict[str, Tension]:
    """Each probe against the product of all the others (at least three probes; with two use :func:`tension`)."""
    if len(log_likes) < 3:
        raise TensionError("against_rest needs at least three probes; compare two with tension()")
    out = {}
    for name, ll in log_likes.items():
        rest = [v for k, v in log_likes.items() if k != name]
        out[name] = tension(ll, sum(rest[1:], rest[0]), names=(name, f"rest({len(rest)})"), log_prior=log_prior,
                            prior=prior)
    return out


def _axes(a: xr.DataArray, b: xr.DataArray) -> dict[str, np.ndarray]:
    """The shared grid's axes (numeric, in ``a``'s order); the two arrays must have the same grid."""
    for x in (a, b):
        if not isinstance(x, xr.DataArray):
            raise TensionError("each probe's log-likelihood must be an xarray.DataArray over the shared grid")
    if set(a.dims) != set(b.dims):
        raise TensionError(f"the probes' grids differ: dims ({', '.join(map(str, a.dims))}) vs "
                           f"({', '.join(map(str, b.dims))})")
    axes = {}
    for d in map(str, a.dims):
        for x in (a, b):
            if d not in x.coords or not np.issubdtype(x[d].dtype, np.number):
                raise TensionError(f"the grid axis {d!r} needs numeric coordinates")
        if not np.array_equal(a[d].values, b[d].values):
            raise TensionError(f"the probes' grids differ along {d!r}: evaluate both on the same grid")
        axes[d] = np.asarray(a[d].values, dtype=float)
    return axes


def _values(ll: xr.DataArray, axes: Mapping[str, np.ndarray], name: str) -> np.ndarray:
    """The flattened ln L of one probe in the grid's axis order; NaN and +inf refused."""
    values = np.asarray(ll.transpose(*axes).values, dtype=float).ravel()
    if np.isnan(values).any() or np.isposinf(values).any():
        raise TensionError(f"probe {name}'s log-likelihood holds NaN or +inf; only finite values and −inf are allowed")
    return values


def _log_prior(log_prior: xr.DataArray | None, axes: Mapping[str, np.ndarray]) -> np.ndarray:
    """ln prior masses per flattened grid point, normalised to sum 1."""
    shape = tuple(v.size for v in axes.values())
    if log_prior is None:
        return np.full(int(np.prod(shape)), -np.log(np.prod(shape)))
    extra = set(map(str, log_prior.dims)) - set(axes)
    if extra:
        raise TensionError(f"log_prior has dims {', '.join(sorted(extra))} that are no grid axis")
    template = xr.DataArray(np.zeros(shape), dims=tuple(axes), coords=axes)
    lp = (template + log_prior).transpose(*axes).values.ravel()
    if np.isnan(lp).any() or np.isposinf(lp).any() or not np.isfinite(lp).any():
        raise TensionError("log_prior must be finite somewhere and hold no NaN or +inf")
    return lp - logsumexp(lp)


def _face(axes: Mapping[str, np.ndarray]) -> np.ndarray:
    """Flattened mask of the grid's outer faces (first or last point of an axis with more than two points)."""
    grids = np.meshgrid(*(np.arange(v.size) for v in axes.values()), indexing="ij")
    mask = np.zeros(grids[0].shape, dtype=bool)
    for g, v in zip(grids, axes.values()):
        if v.size > 2:
            mask |= (g == 0) | (g == v.size - 1)
    return mask.ravel()


def _probe(name: str, ll: np.ndarray, lp: np.ndarray, points: np.ndarray, face: np.ndarray) -> Probe:
    """The posterior summary of one likelihood on the grid."""
    w = lp + ll
    top = float(np.max(w))
    if not np.isfinite(top):
        raise TensionError(f"probe {name} has zero likelihood at every grid point with prior mass")
    d = w - top
    e = np.exp(np.where(d > -700.0, d, -np.inf))  # no subnormal masses (they slow every sum a hundredfold)
    log_z = top + float(np.log(e.sum()))
    p = e / e.sum()
    mean = p @ points
    centred = points - mean
    cov = (centred * p[:, None]).T @ centred
    finite = np.where(p > 0, ll, 0.0)
    mean_ll = float(p @ finite)
    var_ll = float(p @ (np.where(p > 0, ll - mean_ll, 0.0) ** 2))
    return Probe(name, log_z, mean, cov, mean_ll, mean_ll - log_z, 2 * var_ll, float(p[face].sum()))
