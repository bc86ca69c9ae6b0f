"""Population shapes beside the Gaussian: is one swept parameter universal, universal but for a few outliers, or
spread between galaxies? Every shape is a scale mixture of the Gaussian population, so each galaxy's integral is a
weighted sum of the exact grid integral of :mod:`sigcube.stats.population`.

**Models** (u = θ or log10 θ of each galaxy; every other grid axis φ shared by all galaxies, as there):

- ``universal``: u_g = μ for every galaxy (τ = 0);
- ``gaussian``: u_g ~ N(μ, τ²);
- ``student_t``: u_g ~ t_ν(μ, τ) — heavy tails; ν fixed, or a hyper-parameter (log-uniform on :data:`NU_RANGE`);
- ``outliers``: u_g ~ (1 − f) δ(μ) + f N(μ, τ_b²) — one value for all but a fraction f of outliers, which follow a
  broad component of their own (f ≤ ``f_max``, so the universal value holds the majority);
- ``mixture``: u_g ~ (1 − f) N(μ, τ_c²) + f N(μ, τ_b²) with τ_c < τ_b — a spread core plus the same outliers.

A :class:`Shape` names the question asked with each: ``gaussian`` compares universal with gaussian, ``student_t``
universal with student_t, ``mixture`` outliers with mixture (is the core universal once outliers are allowed?).

**Scale lattice.** Write s for the standard deviation of one Gaussian component. Each galaxy's
F_g(μ, s) = ln ∫ L_g(u) N(u; μ, s²) du is exact on the grid for ln L_g linear in u between grid points
(:func:`sigcube.stats.population.log_gaussian_integral`); s = 0 is L_g(μ) interpolated. [0, s_max] is cut into
cells (the first [0, s_1] represented by s = 0, the others by their geometric centre): uniform in ln s, finer where
the posterior of a τ-like parameter lies, :data:`S_MAX_RANGES` times the grid's range at the top. τ, τ_c and τ_b
take the cells below the τ prior's end as their hyper-grid, each cell with its exact prior mass. The Student-t is
the Gaussian scale mixture with precision w = τ²/s² ~ Gamma(ν/2, rate ν/2): every cell gets its exact mass under
that law (incomplete gamma functions), and the mass beyond s_max, where N is flat across the grid, contributes
Z_g/(s√(2π)) with Z_g = ∫ L_g du, integrated in closed form.

**Priors.** μ uniform on ``mu_range``; τ, τ_c, τ_b each by the :class:`~sigcube.stats.population.TauPrior`
(τ_c < τ_b in ``mixture``, the joint prior renormalised); f uniform on [0, f_max]; ν as above; the shared axes
equal mass per grid point. Hyper-grids are midpoint rules with exact prior masses per cell, zoomed onto the
posterior (like :func:`~sigcube.stats.population.population`). Shared grid points are visited outward from the
universal model's best one until every model's mass there falls below :data:`SHARED_CUT` of its largest.

**Numerical error** of each ln Z (nat): the change when every hyper-grid axis's step is tripled (cells merged in
threes, centred on the middle node; ÷8 for a midpoint rule), the shared grid's likewise, and the sweep grid's:
the change when every other grid point of u is dropped (÷3, linear interpolation). Their sum is reported beside
ln Z; a Bayes factor carries the sum of its two evidences' errors (:mod:`sigcube.stats.verdicts`).

**Per galaxy**, under every model: the shrunk posterior of u_g (all galaxies, hyper-parameters and shared axes
marginalised) as mass per grid cell (uniform within a cell) plus point masses at μ, summarised by mean, sd, median
and the 68/95 % equal-tailed intervals, beside its own (its likelihood alone, flat on the grid's range); and the
probability that it is an outlier of the model: in ``outliers`` and ``mixture`` the posterior probability of the
broad component; in ``student_t`` that its own scale s_g exceeds 3τ; in ``universal`` and ``gaussian`` (no
latent outlier variable) a galaxy is listed when its own estimate lies more than 3 predictive sds from μ.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import xarray as xr
from scipy.special import gammainc, gammaincc, gammaln, logsumexp

from sigcube.stats import population as pop
from sigcube.stats import posterior
from sigcube.stats.population import PopulationError, TauPrior

MODELS = ("universal", "gaussian", "student_t", "outliers", "mixture")
"""Every population model, in the order reports list them."""
SHAPE_MODELS = {"gaussian": ("universal", "gaussian"), "student_t": ("universal", "student_t"),
                "mixture": ("outliers", "mixture")}
"""Each shape's question: (the universal model, the model with a spread) whose Bayes factor it reports."""
NU_RANGE = (1.0, 30.0)
"""ν's log-uniform prior range when ν is a hyper-parameter."""
N_NU = 9
"""ν's hyper-grid: this many nodes equally spaced in ln ν, equal prior mass each (a multiple of 3)."""
N_F = 21
"""f's hyper-grid: this many equal cells on [0, f_max] (a multiple of 3)."""
COARSE_STEP = 0.3
"""Step in ln s of the scale lattice away from the posterior (and everywhere in the first pass)."""
FINE_STEP = 0.05
"""Step in ln s where a τ-like parameter's posterior lies (after the first pass), unless that region would then
take more than :data:`MAX_FINE_CELLS` cells (a posterior reaching down to τ ≈ 0 is flat in ln τ there)."""
MAX_FINE_CELLS = 24
S_MAX_RANGES = 30.0
"""The lattice ends at this many times the grid's range in u; beyond, N(μ, s²) is flat across the grid."""
SHARED_CUT = math.exp(-25.0)
"""Shared grid points are evaluated outward until every model's mass at the frontier is below this share of its
largest (the mass left out is at most this times the number of shared points)."""
KEPT_MASS = 1 - 1e-6
"""A galaxy's shrunk cell masses sum its largest (shared point, μ, scale) terms until they hold this share."""
OUTLIER_LEVEL = 0.5
"""A galaxy is listed as an outlier of a model when its outlier probability exceeds this."""
PULL_OUTLIER = 3.0
"""In ``universal`` and ``gaussian``: the predictive pull beyond which a galaxy is listed as an outlier."""
TAIL_SCALE = 3.0
"""In ``student_t``: a galaxy is in the tail when its own scale s_g exceeds this many τ."""


@dataclass(frozen=True)
class Shape:
    """A population shape and its question (module docstring): ``kind`` gaussian, student_t or mixture; ``nu`` the
    Student-t's fixed degrees of freedom (None: a hyper-parameter); ``f_max`` the mixture's largest outlier
    fraction."""

    kind: Literal["gaussian", "student_t", "mixture"] = "gaussian"
    nu: float | None = None
    f_max: float = 0.5

    def __post_init__(self) -> None:
        if self.kind not in SHAPE_MODELS:
            raise PopulationError(f"unknown population shape {self.kind!r}; choose from {', '.join(SHAPE_MODELS)}")
        if self.nu is not None and not (np.isfinite(self.nu) and self.nu > 0):
            raise PopulationError(f"the Student-t's ν must be a positive number, not {self.nu}")
        if not 0 < self.f_max <= 1:
            raise PopulationError(f"f_max is a fraction in (0, 1], not {self.f_max}")

    @property
    def models(self) -> tuple[str, str]:
        """(universal model, spread model)."""
        return SHAPE_MODELS[self.kind]


@dataclass(frozen=True)
class Lattice:
    """Cells of s ∈ [0, s_max]: ``edges`` (K + 1, edges[0] = 0) and ``nodes`` (K: 0 for the first cell, else the
    geometric centre); ``runs`` lists (first cell, cell count) of the uniform-in-ln-s runs (each a multiple of 3,
    so cells merge in threes centred on a node)."""

    edges: np.ndarray
    nodes: np.ndarray
    runs: tuple[tuple[int, int], ...]

    @classmethod
    def build(cls, s_min: float, s_max: float, fine: Sequence[tuple[float, float]] = (),
              tau_upper: float | None = None) -> Lattice:
        """Runs of :data:`COARSE_STEP` from ``s_min`` to ``s_max``, :data:`FINE_STEP` inside the ``fine`` intervals,
        with ``tau_upper`` (the τ prior's end) made an edge."""
        marks = sorted({s_min, s_max, *(x for a, b in fine for x in (max(a, s_min), min(b, s_max))),
                        *((tau_upper,) if tau_upper is not None and s_min < tau_upper < s_max else ())})
        fine_set = [(max(a, s_min), min(b, s_max)) for a, b in fine]
        edges, runs = [0.0, s_min], []
        for a, b in zip(marks[:-1], marks[1:]):
            if b <= a:
                continue
            inside = any(lo <= a and b <= hi for lo, hi in fine_set)
            step = max(FINE_STEP, math.log(b / a) / MAX_FINE_CELLS) if inside else COARSE_STEP
            n = max(3, 3 * math.ceil(math.log(b / a) / step / 3))
            runs.append((len(edges) - 1, n))
            edges.extend(np.exp(np.linspace(math.log(a), math.log(b), n + 1))[1:])
        edges = np.array(edges)
        nodes = np.concatenate([[0.0], np.sqrt(edges[1:-1] * edges[2:])])
        return cls(edges, nodes, tuple(runs))

    @property
    def size(self) -> int:
        return self.nodes.size

    def tripled(self) -> tuple[Lattice, np.ndarray, np.ndarray]:
        """The lattice with every run's cells merged in threes: (that lattice, the fine node standing for each merged
        cell — the middle one, its geometric centre —, the merged cell of each fine cell)."""
        group = np.arange(self.size)
        for first, count in self.runs:
            for t in range(count // 3):
                group[first + 3 * t: first + 3 * t + 3] = first + 3 * t + 1
        rep, inverse = np.unique(group, return_inverse=True)
        last = np.r_[np.flatnonzero(np.diff(inverse)), self.size - 1]  # the last fine cell of each merged cell
        edges = np.concatenate([[0.0], self.edges[last + 1]])
        nodes = self.nodes[rep]
        runs = tuple((int(inverse[first]), count // 3) for first, count in self.runs)
        return Lattice(edges, nodes, runs), rep, inverse


@dataclass(frozen=True)
class Axis1D:
    """One hyper-parameter's hyper-grid: node values, cell edges and prior mass per cell."""

    name: str
    nodes: np.ndarray
    edges: np.ndarray
    prior: np.ndarray


@dataclass
class ModelResult:
    """One population model's outputs (module docstring)."""

    name: str
    log_evidence: float
    errors: dict[str, float]
    """Numerical error estimates of ln Z [nat] by source: hyper_grid, shared_grid, sweep_grid."""
    marginals: dict[str, posterior.Marginal1D]
    galaxies: dict[str, np.ndarray]
    """Per galaxy: shrunk_mean, shrunk_sd, shrunk_median, shrunk_ci68 (2 columns), shrunk_ci95, outlier_prob."""
    outliers: tuple[str, ...]
    outlier_rule: str
    describe: str
    notes: list[str] = field(default_factory=list)

    @property
    def error(self) -> float:
        """The numerical error of ln Z: the sum of the estimates."""
        return float(sum(self.errors.values()))


@dataclass
class PopulationModels:
    """Every model's result on one sweep's per-galaxy likelihoods, with each galaxy's own estimate."""

    parameter: str
    scale: str
    galaxy_dim: str
    galaxies: np.ndarray
    u: np.ndarray
    shared: dict[str, np.ndarray]
    mu_range: tuple[float, float]
    tau_prior: TauPrior
    shapes: tuple[Shape, ...]
    models: dict[str, ModelResult]
    own: dict[str, np.ndarray]
    """Per galaxy, its likelihood alone (flat on the grid's range, shared axes at the universal model's
    posterior): mean, sd, median, ci68, ci95, edge_share (mass in the grid's two end cells), and resolution: the
    change of its own ln ∫ L du when every other grid point is dropped [nat]."""
    shared_points: int
    """Shared grid points evaluated (of the shared grid's size)."""
    passes: int
    notes: list[str] = field(default_factory=list)

    @property
    def unit(self) -> str:
        return self.parameter if self.scale == "linear" else f"log10 {self.parameter}"

    def ln_bayes_factor(self, shape: Shape) -> tuple[float, float]:
        """ln B(universal model : spread model) of ``shape`` and its numerical error [nat]."""
        a, b = (self.models[m] for m in shape.models)
        return a.log_evidence - b.log_evidence, a.error + b.error


# --- the shared machinery ----------------------------------------------------------------------------------------


def _f_table(ll: np.ndarray, u: np.ndarray, mu: np.ndarray, nodes: np.ndarray, needed: np.ndarray) -> np.ndarray:
    """F[μ, k, g] = ln ∫ L_g N(μ, s_k²) for the lattice nodes with ``needed`` (−inf elsewhere); node 0 is s = 0."""
    out = np.full((mu.size, nodes.size, ll.shape[0]), -np.inf)
    for k in np.flatnonzero(needed):
        if nodes[k] == 0:
            out[:, k] = pop._interpolate(ll, u, mu)
        else:
            out[:, k] = pop.log_integral(ll, u, mu, float(nodes[k]))
    return out


def _t_weights(tau: np.ndarray, nu: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ln of each lattice cell's mass under s = τ/√w, w ~ Gamma(ν/2, rate ν/2): (len τ, len ν, K); and the log of
    E[√w; s > s_max] (the tail's weight, × Z_g/(τ√2π)): (len τ, len ν)."""
    t, n = tau[:, None, None], nu[None, :, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where(edges > 0, 1.0 / edges, np.inf) ** 2  # 1/s² at each edge
        cdf = np.where(t > 0, gammaincc(n / 2, n * t ** 2 * inv / 2), (edges > 0) * 1.0)  # P(s < edge); τ = 0: s = 0
        log_w = np.log(np.clip(np.diff(cdf, axis=-1), 0.0, None))
        a = (nu[None, :] * tau[:, None] ** 2 / edges[-1] ** 2) / 2  # w < τ²/s_max², in units of the scale 2/ν
        k = nu[None, :] / 2
        log_tail = (0.5 * np.log(2 / nu[None, :]) + gammaln(k + 0.5) - gammaln(k)
                    + np.log(gammainc(k + 0.5, a)))
    return log_w, log_tail


def _log_matmul(log_w: np.ndarray, f: np.ndarray) -> np.ndarray:
    """ln Σ_k exp(log_w[r, k] + f[k, g]) for every row r and column g, by a matrix product on scaled exponentials;
    entries it underflows are recomputed by logsumexp."""
    top = np.max(f, axis=0)
    top = np.where(np.isfinite(top), top, 0.0)
    wmax = np.max(log_w, axis=1)
    wmax = np.where(np.isfinite(wmax), wmax, 0.0)
    with np.errstate(divide="ignore", under="ignore"):
        prod = np.exp(log_w - wmax[:, None]) @ np.exp(f - top[None, :])
        out = np.log(prod) + wmax[:, None] + top[None, :]
    bad = ~(prod > 1e-250)
    if bad.any():
        r, g = np.nonzero(bad)
        out[r, g] = logsumexp(log_w[r] + f[:, g].T, axis=1)
    return out


# --- the models on one shared point -------------------------------------------------------------------------------


@dataclass
class _Grid:
    """One pass's hyper-grid: μ, the scale lattice and the cells each τ-like parameter takes, ν, f."""

    mu: Axis1D
    lattice: Lattice
    tau_cells: dict[str, np.ndarray]
    """Lattice cells (contiguous) each τ-like parameter takes: tau, tau_t, tau_c, tau_b."""
    tau_prior: np.ndarray
    """Exact prior mass of every lattice cell under the τ prior (0 beyond its end)."""
    nu: Axis1D
    f: Axis1D
    needed: np.ndarray
    """Lattice nodes whose F the models read."""


@dataclass
class _View:
    """A hyper-grid and the F table read on it: the pass's own, or one with an axis's step tripled."""

    mu: Axis1D
    lattice: Lattice
    F: np.ndarray
    """(μ, lattice node, galaxy)."""
    tau_prior: np.ndarray
    tau_cells: dict[str, np.ndarray]
    nu: Axis1D
    f: Axis1D
    log_zflat: np.ndarray
    """ln ∫ L_g du per galaxy (the Student-t's tail beyond s_max)."""


def _tripled_axis(ax: Axis1D) -> tuple[Axis1D, np.ndarray]:
    """An axis of equal cells (a multiple of 3) with its cells merged in threes (middle nodes), and the kept nodes."""
    keep = np.arange(1, ax.nodes.size, 3)
    return Axis1D(ax.name, ax.nodes[keep], ax.edges[::3], np.bincount(np.arange(ax.nodes.size) // 3, ax.prior)), keep


def _view(grid: _Grid, F: np.ndarray, log_zflat: np.ndarray, merge: str | None = None) -> _View:
    """The pass's hyper-grid with F, or with the step of ``merge`` (mu, lattice, nu, f) tripled."""
    mu, lattice, tau_prior, cells, nu, f = grid.mu, grid.lattice, grid.tau_prior, grid.tau_cells, grid.nu, grid.f
    if merge == "mu":
        mu, keep = _tripled_axis(mu)
        F = F[keep]
    elif merge == "lattice":
        lattice, rep, inverse = lattice.tripled()
        F = F[:, rep]
        tau_prior = np.bincount(inverse, tau_prior, minlength=lattice.size)
        cells = {k: np.unique(inverse[v]) for k, v in cells.items()}
    elif merge == "nu" and nu.nodes.size >= 3:
        nu = _tripled_axis(nu)[0]
    elif merge == "f":
        f = _tripled_axis(f)[0]
    return _View(mu, lattice, F, tau_prior, cells, nu, f, log_zflat)


def _tau_axis(view: _View, key: str) -> Axis1D:
    """The τ-like parameter ``key``'s hyper-grid on the view's lattice (contiguous cells)."""
    c = view.tau_cells[key]
    return Axis1D(key, view.lattice.nodes[c], view.lattice.edges[c[0]:c[-1] + 2], view.tau_prior[c])


def _model_loglike(name: str, view: _View) -> tuple[np.ndarray, np.ndarray, list[Axis1D]]:
    """Σ_g ln I_g over the model's hyper-grid (axes: μ, then its own), the log prior mass of each hyper point (they
    sum to the share of the prior the hyper-grid covers) and the axes."""
    F, mu = view.F, view.mu
    log_mu = np.log(mu.prior)
    with np.errstate(divide="ignore"):
        if name == "universal":
            return F[:, 0].sum(axis=-1), log_mu, [mu]
        if name == "gaussian":
            ax = _tau_axis(view, "tau")
            cells = view.tau_cells["tau"]
            return F[:, cells].sum(axis=-1), log_mu[:, None] + np.log(ax.prior)[None, :], [mu, ax]
        f = view.f.nodes
        if name == "outliers":
            ax = _tau_axis(view, "tau_b")
            cells = view.tau_cells["tau_b"]
            core = np.log1p(-f)[None, :, None, None] + F[:, 0][:, None, None, :]
            broad = np.log(f)[None, :, None, None] + F[:, cells][:, None, :, :]
            total = np.logaddexp(core, broad).sum(axis=-1)
            lp = log_mu[:, None, None] + np.log(view.f.prior)[None, :, None] + np.log(ax.prior)[None, None, :]
            return total, lp, [mu, view.f, ax]
        if name == "mixture":
            axc, axb = _tau_axis(view, "tau_c"), _tau_axis(view, "tau_b")
            cc, cb = view.tau_cells["tau_c"], view.tau_cells["tau_b"]
            order = axc.nodes[:, None] < axb.nodes[None, :]
            total = np.full((mu.nodes.size, f.size, cc.size, cb.size), -np.inf)
            for j, c in enumerate(cc):
                ok = np.flatnonzero(order[j])
                if ok.size:
                    core = np.log1p(-f)[None, :, None, None] + F[:, c][:, None, None, :]
                    broad = np.log(f)[None, :, None, None] + F[:, cb[ok]][:, None, :, :]
                    total[:, :, j, ok] = np.logaddexp(core, broad).sum(axis=-1)
            norm = (1.0 - np.sum(view.tau_prior ** 2)) / 2.0  # P(τ_c < τ_b) on the lattice
            pair = np.where(order, np.log(axc.prior)[:, None] + np.log(axb.prior)[None, :] - np.log(norm), -np.inf)
            lp = log_mu[:, None, None, None] + np.log(view.f.prior)[None, :, None, None] + pair[None, None]
            return total, lp, [mu, view.f, axc, axb]
        if name == "student_t":
            ax = _tau_axis(view, "tau_t")
            total = np.empty((mu.nodes.size, ax.nodes.size, view.nu.nodes.size))
            for i, body in enumerate(_t_terms(view, ax.nodes)):
                total[i] = body.sum(axis=-1)
            lp = log_mu[:, None, None] + np.log(ax.prior)[None, :, None] + np.log(view.nu.prior)[None, None, :]
            return total, lp, [mu, ax, view.nu]
    raise PopulationError(f"unknown population model {name!r}")


def _t_tail(log_tail: np.ndarray, tau: np.ndarray, log_zflat: np.ndarray) -> np.ndarray:
    """ln of the Student-t's contribution beyond s_max, (len τ, len ν, galaxies): Z_g/(τ√2π)·E[√w; s > s_max]
    (−inf at τ = 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(tau > 0, -np.log(np.where(tau > 0, tau, 1.0) * math.sqrt(2 * math.pi)), -np.inf)
        return np.where(np.isfinite(log_tail)[:, :, None] & (tau > 0)[:, None, None],
                        log_tail[:, :, None] + scale[:, None, None] + log_zflat[None, None, :], -np.inf)


def _t_terms(view: _View, tau: np.ndarray):
    """For each μ of the view: ln I_g of the Student-t at every (τ, ν) node, (len τ, len ν, galaxies)."""
    log_w, log_tail = _t_weights(tau, view.nu.nodes, view.lattice.edges)
    J, M = log_w.shape[:2]
    tail = _t_tail(log_tail, tau, view.log_zflat)
    for i in range(view.mu.nodes.size):
        body = _log_matmul(log_w.reshape(J * M, -1), view.F[i]).reshape(J, M, -1)
        yield np.logaddexp(body, tail)


# --- the driver ---------------------------------------------------------------------------------------------------


def _models_of(shapes: Sequence[Shape]) -> tuple[str, ...]:
    """The models the shapes' questions need (the universal model alone without a shape)."""
    wanted = {"universal", *(m for s in shapes for m in s.models)}
    return tuple(m for m in MODELS if m in wanted)


TAU_KEYS = {"gaussian": ("tau",), "student_t": ("tau_t",), "outliers": ("tau_b",), "mixture": ("tau_c", "tau_b")}
"""The τ-like hyper-parameters of each model."""


def _make_grid(mu_box: tuple[float, float], n_mu: int, mu_support: tuple[float, float], lattice: Lattice,
               boxes: Mapping[str, tuple[float, float]], tau_prior: TauPrior, nu: float | None, f_max: float,
               models: Sequence[str]) -> _Grid:
    """A pass's hyper-grid: ``n_mu`` equal μ cells on ``mu_box`` (prior mass relative to ``mu_support``), the
    lattice, and each τ-like parameter's cells inside its box."""
    edges = np.linspace(*mu_box, n_mu + 1)
    mu = Axis1D("mu", 0.5 * (edges[1:] + edges[:-1]), edges, np.diff(edges) / (mu_support[1] - mu_support[0]))
    upper = tau_prior.upper
    inside = lattice.edges[1:] <= upper * (1 + 1e-12)
    tau_mass = np.where(inside, tau_prior.cell_mass(np.minimum(lattice.edges, upper)), 0.0)
    cells = {}
    for key in {k for m in models for k in TAU_KEYS.get(m, ())}:
        lo, hi = boxes.get(key, (0.0, upper))
        pick = np.flatnonzero(inside & (lattice.edges[1:] > lo * (1 + 1e-12)) & (lattice.edges[:-1] < hi * (1 - 1e-12)))
        cells[key] = pick if pick.size else np.flatnonzero(inside)[:1]
    if nu is None:
        log_nu = np.linspace(math.log(NU_RANGE[0]), math.log(NU_RANGE[1]), N_NU)
        step = log_nu[1] - log_nu[0]
        nu_ax = Axis1D("nu", np.exp(log_nu), np.exp(np.r_[log_nu - step / 2, log_nu[-1] + step / 2]),
                       np.full(N_NU, 1.0 / N_NU))
    else:
        nu_ax = Axis1D("nu", np.array([float(nu)]), np.array([nu * 0.999, nu * 1.001]), np.ones(1))
    f_edges = np.linspace(0.0, f_max, N_F + 1)
    f_ax = Axis1D("f", 0.5 * (f_edges[1:] + f_edges[:-1]), f_edges, np.full(N_F, 1.0 / N_F))
    needed = np.zeros(lattice.size, dtype=bool)
    needed[0] = True
    for key, c in cells.items():
        needed[c] = True
    if "student_t" in models:
        needed[:] = True
    return _Grid(mu, lattice, cells, tau_mass, nu_ax, f_ax, needed)


@dataclass
class _Point:
    """One shared grid point's F table and each model's Σ_g ln I_g and log prior on the pass's hyper-grid."""

    F: np.ndarray
    log_zflat: np.ndarray
    terms: dict[str, tuple[np.ndarray, np.ndarray, list[Axis1D]]]

    def log_z(self, model: str) -> float:
        total, lp, _ = self.terms[model]
        return float(logsumexp(total + lp))


def _evaluate(ll: np.ndarray, u: np.ndarray, grid: _Grid, models: Sequence[str]) -> _Point:
    """Every model at one shared point (``ll``: galaxies × grid points, u relative to the grid's centre)."""
    F = _f_table(ll, u, grid.mu.nodes, grid.lattice.nodes, grid.needed)
    log_zflat = pop._flat(ll, u)[0]
    view = _view(grid, F, log_zflat)
    return _Point(F, log_zflat, {m: _model_loglike(m, view) for m in models})


def _neighbours(index: int, shape: tuple[int, ...]) -> list[int]:
    """The flat indices one step away along each axis of a grid of ``shape``."""
    at = np.unravel_index(index, shape)
    out = []
    for axis in range(len(shape)):
        for step in (-1, 1):
            j = at[axis] + step
            if 0 <= j < shape[axis]:
                out.append(int(np.ravel_multi_index(tuple(j if a == axis else v for a, v in enumerate(at)), shape)))
    return out


def _flood(ll: np.ndarray, u: np.ndarray, grid: _Grid, models: Sequence[str], shape: tuple[int, ...],
           start: int, points: Sequence[int] | None = None) -> dict[int, _Point]:
    """Every model at the shared points: ``points`` when given, else outward from ``start`` while some model's mass
    at a point is above :data:`SHARED_CUT` of its largest so far."""
    if points is not None:
        return {p: _evaluate(ll[p], u, grid, models) for p in points}
    done: dict[int, _Point] = {}
    best = dict.fromkeys(models, -np.inf)
    queue = [start]
    while queue:
        p = queue.pop(0)
        if p in done:
            continue
        done[p] = point = _evaluate(ll[p], u, grid, models)
        z = {m: point.log_z(m) for m in models}
        for m in models:
            best[m] = max(best[m], z[m])
        if any(z[m] >= best[m] + math.log(SHARED_CUT) for m in models):
            queue.extend(q for q in _neighbours(p, shape) if q not in done)
    return done


def _shared_log_z(per_point: Mapping[int, float], n_points: int) -> float:
    """ln Σ_φ Z(φ)/P over the evaluated shared points (equal prior mass per point)."""
    return float(logsumexp(list(per_point.values())) - math.log(n_points))


def _box(mass: np.ndarray, edges: np.ndarray, support: tuple[float, float]) -> tuple[float, float]:
    """The cells holding ``mass`` beyond the zoom tails (one more each side), as an interval inside ``support``."""
    return pop._zoom(edges, [mass], support)


def _posterior(points: Mapping[int, _Point], model: str, log_z: float, n_points: int
               ) -> dict[int, np.ndarray]:
    """Each shared point's posterior mass over the model's hyper-grid (all of them sum to 1)."""
    out = {}
    for p, point in points.items():
        total, lp, _ = point.terms[model]
        with np.errstate(under="ignore"):
            out[p] = np.exp(total + lp - math.log(n_points) - log_z)
    return out


def population_models(loglike: xr.DataArray, parameter: str, *, scale: Literal["linear", "log"] = "linear",
                      galaxy_dim: str = "galaxy", mu_range: tuple[float, float] | None = None,
                      tau_prior: TauPrior | None = None, shapes: Sequence[Shape] = (Shape(),), n_mu: int = 42,
                      max_passes: int = 3, estimate_errors: bool = True) -> PopulationModels:
    """Every model the ``shapes`` ask about on per-galaxy ``loglike`` [nat] (dims: ``parameter``, the shared axes,
    ``galaxy_dim``), as the module docstring says: evidences with their numerical errors, hyper-parameter
    marginals, per-galaxy shrinkage and outliers (the universal model alone when ``shapes`` is empty). ``n_mu``: μ
    cells (a multiple of 3); ``max_passes``: hyper-grid passes (a coarse one over the priors' support, then zooms
    onto the posterior)."""
    ll, u, shared, galaxies = pop._read(loglike, parameter, scale, galaxy_dim)
    lo, hi = (u[0], u[-1]) if mu_range is None else (float(mu_range[0]), float(mu_range[1]))
    if not (u[0] <= lo < hi <= u[-1]):
        raise PopulationError(f"μ's prior range [{lo:.4g}, {hi:.4g}] must be an interval inside the grid's range "
                              f"[{u[0]:.4g}, {u[-1]:.4g}] (in the {scale} scale)")
    if n_mu < 6 or n_mu % 3:
        raise PopulationError(f"n_mu must be a multiple of 3 and at least 6, not {n_mu}")
    nus = {s.nu for s in shapes if s.kind == "student_t"}
    f_maxes = {s.f_max for s in shapes if s.kind == "mixture"}
    if len(nus) > 1 or len(f_maxes) > 1:
        raise PopulationError("one Student-t ν setting and one f_max per analysis")
    nu, f_max = next(iter(nus), None), next(iter(f_maxes), 0.5)
    tau_prior = (tau_prior or TauPrior()).resolve(hi - lo)
    models = _models_of(shapes)
    centre = 0.5 * (u[0] + u[-1])
    us = u - centre
    setup = _Setup(ll, us, tuple(v.size for v in shared.values()) or (1,), (lo - centre, hi - centre), tau_prior,
                   nu, f_max, n_mu, max(max_passes, 2), float(np.min(np.diff(u))) / 10,
                   S_MAX_RANGES * float(u[-1] - u[0]))
    # the universal model exactly, at every shared point (Σ_g ln L_g is linear in μ between grid points: no μ
    # hyper-grid); the others start from its best shared point
    universal = _universal(setup, u, centre, shared, estimate_errors)
    rest = tuple(m for m in models if m != "universal")
    runs = {}
    if rest:
        run = _run(setup, rest, universal.best)
        runs.update(dict.fromkeys(rest, run))
    results = {"universal": universal.result} if "universal" in models else {}
    for m in rest:
        run = runs[m]
        errors = _errors(m, run.grid, run.points, run.coarse(setup, u), setup.n_points, setup.shape,
                         run.log_z[m]) if estimate_errors else {}
        results[m] = ModelResult(m, run.log_z[m], errors, _marginals(m, run.grid, run.points, run.post[m], shared,
                                                                      centre), {}, (), "", "")
    results = {m: results[m] for m in models}
    return _finish(parameter, scale, galaxy_dim, galaxies, u, shared, (lo, hi), tau_prior, tuple(shapes), results,
                   runs, universal, ll, centre)


UNIVERSAL_SPLIT = 8
"""The universal model's μ posterior is reported on each grid cell cut into this many parts (its density is
exponential within a cell: the parts' masses are exact)."""


@dataclass
class _Universal:
    """The universal model, exact: its result, each shared point's ln Z, its μ posterior on the split grid."""

    result: ModelResult
    per_point: np.ndarray
    edges: np.ndarray
    """The split grid inside μ's range (relative to the grid's centre)."""
    mass: np.ndarray
    """μ's posterior mass per split cell (all shared points)."""

    @property
    def best(self) -> int:
        return int(np.nanargmax(self.per_point))


def _universal_terms(ll: np.ndarray, us: np.ndarray, support: tuple[float, float]
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Σ_g ln L_g at the nodes of the split grid inside ``support`` (per shared point: (P, nodes)) and those nodes:
    linear in μ between grid points, so exact on every split cell."""
    edges = np.unique(np.clip(np.concatenate([np.linspace(a, b, UNIVERSAL_SPLIT + 1) for a, b in zip(us[:-1], us[1:])]),
                              *support))
    edges = edges[(edges >= support[0]) & (edges <= support[1])]
    total = np.stack([pop._interpolate(ll[p], us, edges).sum(axis=1) for p in range(ll.shape[0])])
    return total, edges


def _universal(setup: _Setup, u: np.ndarray, centre: float, shared: Mapping[str, np.ndarray],
               estimate_errors: bool) -> _Universal:
    """The universal model: ln Z = ln Σ_φ ∫ exp(Σ_g ln L_g(μ, φ)) dμ/(W P), exactly for Σ ln L linear in μ between
    grid points; its errors from the shared grid and the sweep grid (every other point dropped)."""
    support = setup.support
    width = support[1] - support[0]

    def evidence(ll: np.ndarray, us: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        total, edges = _universal_terms(ll, us, support)
        log_z, shares = _flat_shares(total, edges)
        return log_z - math.log(width), shares, edges

    per, shares, edges = evidence(setup.ll, setup.us)
    log_z = _shared_log_z(dict(enumerate(per)), setup.n_points)
    with np.errstate(under="ignore"):
        weight = np.exp(per - math.log(setup.n_points) - log_z)
    mass = weight @ shares
    errors = {}
    if estimate_errors:
        per_p = dict(enumerate(per))
        errors["hyper_grid"] = 0.0
        if setup.n_points > 1:
            errors["shared_grid"] = _shared_error(per_p, setup.shape, setup.n_points, log_z)
        half = _every_other(u.size)
        coarse = evidence(setup.ll[:, :, half], setup.us[half])[0]
        errors["sweep_grid"] = abs(_shared_log_z(dict(enumerate(coarse)), setup.n_points) - log_z) / 3
    mids = 0.5 * (edges[1:] + edges[:-1]) + centre
    marginals = {"mu": posterior.Marginal1D("mu", mids, mass, edges + centre)}
    if shared:
        per_shape = weight.reshape(tuple(v.size for v in shared.values()))
        for k, (name, values) in enumerate(shared.items()):
            m = per_shape.sum(axis=tuple(j for j in range(per_shape.ndim) if j != k))
            marginals[name] = posterior.Marginal1D(name, values, m, posterior.cell_edges(values))
    result = ModelResult("universal", log_z, errors, marginals, {}, (), "", "")
    return _Universal(result, per, edges, mass)


def _every_other(n: int) -> np.ndarray:
    """Every other index of n grid points, the last always kept."""
    return np.r_[np.arange(0, n, 2), [n - 1] if (n - 1) % 2 else []].astype(int)


def _shared_error(per: Mapping[int, float], shape: tuple[int, ...], n_points: int, log_z: float) -> float:
    """The shared grid's error estimate of ln Z: for each axis of at least 3 points, the largest change when only
    every third point is kept (its mass tripled), ÷8."""
    out = 0.0
    for axis, size in enumerate(shape):
        if size < 3:
            continue
        worst = 0.0
        for r in range(3):
            sub = [z for p, z in per.items() if np.unravel_index(p, shape)[axis] % 3 == r]
            z = float(logsumexp(sub) + math.log(3.0 / n_points)) if sub else -np.inf
            worst = max(worst, abs(z - log_z))
        out += worst / 8
    return out


@dataclass(frozen=True)
class _Setup:
    """What every pass shares: the likelihoods (shared points × galaxies × grid), u relative to the grid's centre,
    the shared grid's shape, μ's support, the priors' settings, the hyper-grid's size and the lattice's ends."""

    ll: np.ndarray
    us: np.ndarray
    shape: tuple[int, ...]
    support: tuple[float, float]
    tau_prior: TauPrior
    nu: float | None
    f_max: float
    n_mu: int
    max_passes: int
    s_min: float
    s_max: float

    @property
    def n_points(self) -> int:
        return self.ll.shape[0]


@dataclass
class _Run:
    """The final pass of some models: its hyper-grid, the shared points evaluated, each model's ln Z and posterior."""

    grid: _Grid
    points: dict[int, _Point]
    log_z: dict[str, float]
    post: dict[str, dict[int, np.ndarray]]
    passes: int
    models: tuple[str, ...]
    _coarse: dict[int, _Point] | None = None

    @property
    def best(self) -> int:
        """The shared point holding the most posterior mass of the first model."""
        w = self.post[self.models[0]]
        return max(w, key=lambda p: float(w[p].sum()))

    def coarse(self, setup: _Setup, u: np.ndarray) -> dict[int, _Point]:
        """The same hyper-grid on the sweep grid with every other point dropped (computed once)."""
        if self._coarse is None:
            half = _every_other(u.size)
            self._coarse = {p: _evaluate(setup.ll[p][:, half], setup.us[half], self.grid, self.models)
                            for p in self.points}
        return self._coarse


def _run(setup: _Setup, models: tuple[str, ...], start: int | None) -> _Run:
    """The hyper-grid passes for ``models``: the priors' whole support with a third of the μ cells and the coarse
    lattice (the shared points flooded from ``start``, or from the best of the universal model), then zooms onto
    the posterior while a box halves, at most ``setup.max_passes`` passes."""
    ll, us, shape, support, tau_prior = setup.ll, setup.us, setup.shape, setup.support, setup.tau_prior
    grid = _make_grid(support, max(setup.n_mu // 3, 6), support,
                      Lattice.build(setup.s_min, setup.s_max, tau_upper=tau_prior.upper), {}, tau_prior, setup.nu,
                      setup.f_max, models)
    if start is None:
        start = int(np.nanargmax([logsumexp(pop._interpolate(ll[p], us, grid.mu.nodes).sum(axis=1))
                                  for p in range(setup.n_points)]))
    points = _flood(ll, us, grid, models, shape, start)
    passes, mu_box, boxes = 1, support, {}
    while True:
        log_z = {m: _shared_log_z({p: pt.log_z(m) for p, pt in points.items()}, setup.n_points) for m in models}
        post = {m: _posterior(points, m, log_z[m], setup.n_points) for m in models}
        if passes >= setup.max_passes:
            break
        mu_mass = [sum(w.reshape(w.shape[0], -1).sum(axis=1) for w in post[m].values()) for m in models]
        new_mu = pop._zoom(grid.mu.edges, [m for m in mu_mass if np.sum(m) > 0], support)
        new_boxes = {}
        for key, cells in grid.tau_cells.items():
            masses = []
            for m in models:
                if key in TAU_KEYS.get(m, ()):
                    axes = next(iter(points.values())).terms[m][2]
                    k = [a.name for a in axes].index(key)
                    masses.append(sum(w.sum(axis=tuple(j for j in range(w.ndim) if j != k)) for w in post[m].values()))
            new_boxes[key] = pop._zoom(grid.lattice.edges[cells[0]:cells[-1] + 2], masses, (0.0, tau_prior.upper))
        if passes > 1 and np.ptp(new_mu) > np.ptp(mu_box) / 2 and all(
                _log_width(b, setup.s_min) > 0.5 * _log_width(boxes[k], setup.s_min) for k, b in new_boxes.items()):
            break
        keep = [p for p in points if max(points[p].log_z(m) - (log_z[m] + math.log(setup.n_points)) for m in models)
                > math.log(SHARED_CUT)]
        keep = sorted({q for p in keep for q in [p, *_neighbours(p, shape)] if q in points})
        mu_box, boxes = new_mu, new_boxes
        lattice = Lattice.build(setup.s_min, setup.s_max, [(max(a, setup.s_min), b) for a, b in boxes.values()],
                                tau_upper=tau_prior.upper)
        grid = _make_grid(mu_box, setup.n_mu, support, lattice, boxes, tau_prior, setup.nu, setup.f_max, models)
        points = _flood(ll, us, grid, models, shape, keep[0], keep)
        passes += 1
    return _Run(grid, points, log_z, post, passes, models)


def _log_width(box: tuple[float, float], s_min: float) -> float:
    """The width of a τ box in ln s (its lower end taken as at least ``s_min``)."""
    return math.log(max(box[1], s_min) / max(box[0], s_min))


def _merge_axes(model: str, grid: _Grid) -> list[str]:
    """The hyper-grid axes whose step the error estimate triples for ``model``."""
    out = ["mu"]
    if model != "universal":
        out.append("lattice")
    if model == "student_t" and grid.nu.nodes.size >= 3:
        out.append("nu")
    if model in ("outliers", "mixture"):
        out.append("f")
    return out


def _errors(model: str, grid: _Grid, points: Mapping[int, _Point], coarse: Mapping[int, _Point], n_points: int,
            shape: tuple[int, ...], log_z: float) -> dict[str, float]:
    """The numerical error estimates of ``model``'s ln Z (module docstring): hyper_grid, shared_grid, sweep_grid."""
    hyper = 0.0
    for axis in _merge_axes(model, grid):
        per = {}
        for p, pt in points.items():
            total, lp, _ = _model_loglike(model, _view(grid, pt.F, pt.log_zflat, axis))
            per[p] = float(logsumexp(total + lp))
        hyper += abs(_shared_log_z(per, n_points) - log_z) / 8
    out = {"hyper_grid": hyper}
    if n_points > 1:
        out["shared_grid"] = _shared_error({p: pt.log_z(model) for p, pt in points.items()}, shape, n_points, log_z)
    out["sweep_grid"] = abs(_shared_log_z({p: pt.log_z(model) for p, pt in coarse.items()}, n_points) - log_z) / 3
    return out


def _marginals(model: str, grid: _Grid, points: Mapping[int, _Point], post: Mapping[int, np.ndarray],
               shared: Mapping[str, np.ndarray], centre: float) -> dict[str, posterior.Marginal1D]:
    """The 1-D posterior marginals of the model's hyper-parameters (μ in u) and of the shared axes."""
    _, _, axes = next(iter(points.values())).terms[model]
    out = {}
    for k, ax in enumerate(axes):
        mass = sum(w.sum(axis=tuple(j for j in range(w.ndim) if j != k)) for w in post.values())
        shift = centre if ax.name == "mu" else 0.0
        out[ax.name] = posterior.Marginal1D(ax.name, ax.nodes + shift, mass, ax.edges + shift)
    if shared:
        shape = tuple(v.size for v in shared.values())
        per = np.zeros(int(np.prod(shape)))
        for p, w in post.items():
            per[p] = w.sum()
        per = per.reshape(shape)
        for k, (name, values) in enumerate(shared.items()):
            mass = per.sum(axis=tuple(j for j in range(per.ndim) if j != k))
            out[name] = posterior.Marginal1D(name, values, mass, posterior.cell_edges(values))
    return out


def _flat_shares(ll: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each galaxy's ln ∫ L du and the share of it in each grid cell (ln L linear in u within a cell): (rows,),
    (rows, cells)."""
    h = np.diff(u)
    l0, l1 = ll[:, :-1], ll[:, 1:]
    ok = np.isfinite(l0) & np.isfinite(l1)
    log_k = pop._exponential_cell(np.where(ok, l1 - l0, 0.0))[0]
    log_mass = np.where(ok, l0 + np.log(h) + log_k, -np.inf)
    total = pop._logsumexp(log_mass)
    return total, np.exp(log_mass - total[:, None])


def _responsibilities(model: str, view: _View, mass: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                                          np.ndarray | None]:
    """At one shared point with posterior ``mass`` over the model's hyper-grid: each galaxy's share of its posterior
    held by a point mass at each μ node (μ, G), by N(μ, s_k²) for each lattice node (μ, K, G; node 0 is s = 0 and
    counted as the point mass), by the Student-t's tail beyond s_max (G), and its outlier probability (G; None for
    models without an outlier variable). They sum over the shared points to 1 per galaxy."""
    F = view.F
    n_mu, K, G = F.shape
    delta = np.zeros((n_mu, G))
    scales = np.zeros((n_mu, K, G))
    tail = np.zeros(G)
    prob = None
    with np.errstate(divide="ignore", under="ignore", invalid="ignore"):
        if model == "universal":
            delta += mass[:, None]
        elif model == "gaussian":
            scales[:, view.tau_cells["tau"], :] += mass[:, :, None]
        elif model == "outliers":
            f = view.f.nodes
            cells = view.tau_cells["tau_b"]
            prob = np.zeros(G)
            for i in range(n_mu):
                core = np.log1p(-f)[:, None, None] + F[i, 0][None, None, :]
                broad = np.log(f)[:, None, None] + F[i, cells][None, :, :]
                lnI = np.logaddexp(core, broad)
                lm = np.log(mass[i])[:, :, None]
                delta[i] += np.exp(lm + core - lnI).sum(axis=(0, 1))
                scales[i, cells] += np.exp(lm + broad - lnI).sum(axis=0)
            prob = scales.sum(axis=(0, 1))
        elif model == "mixture":
            f = view.f.nodes
            cc, cb = view.tau_cells["tau_c"], view.tau_cells["tau_b"]
            prob = np.zeros(G)
            for i in range(n_mu):
                for j, c in enumerate(cc):
                    m = mass[i, :, j, :]
                    ok = np.flatnonzero(m.sum(axis=0) > 0)
                    if not ok.size:
                        continue
                    core = np.log1p(-f)[:, None, None] + F[i, c][None, None, :]
                    broad = np.log(f)[:, None, None] + F[i, cb[ok]][None, :, :]
                    lnI = np.logaddexp(core, broad)
                    lm = np.log(m[:, ok])[:, :, None]
                    scales[i, c] += np.exp(lm + core - lnI).sum(axis=(0, 1))
                    share = np.exp(lm + broad - lnI).sum(axis=0)
                    scales[i, cb[ok]] += share
                    prob += share.sum(axis=0)
        elif model == "student_t":
            cells = view.tau_cells["tau_t"]
            tau = view.lattice.nodes[cells]
            log_w, log_tail = _t_weights(tau, view.nu.nodes, view.lattice.edges)
            J, M = log_w.shape[:2]
            lw = log_w.reshape(J * M, -1)
            far = np.where(view.lattice.nodes[None, None, :] > TAIL_SCALE * tau[:, None, None], log_w, -np.inf)
            far = far.reshape(J * M, -1)
            tail_g = _t_tail(log_tail, tau, view.log_zflat).reshape(J * M, -1)
            prob = np.zeros(G)
            for i, lnI in enumerate(_t_terms(view, tau)):
                lnA = np.log(mass[i]).reshape(J * M)[:, None] - lnI.reshape(J * M, -1)
                if not np.isfinite(lnA).any():
                    continue
                scales[i] += np.exp(F[i] + _log_matmul(lw.T, lnA))
                tail += np.exp(logsumexp(lnA + tail_g, axis=0))
                far_g = np.logaddexp(_log_matmul(far, F[i]), tail_g)
                prob += np.exp(logsumexp(lnA + far_g, axis=0))
        else:
            raise PopulationError(f"unknown population model {model!r}")
    delta += scales[:, 0]
    scales[:, 0] = 0.0
    return delta, np.nan_to_num(scales), tail, prob


def _shrunk(model: str, grid: _Grid, points: Mapping[int, _Point], post: Mapping[int, np.ndarray], ll: np.ndarray,
            us: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Each galaxy's shrunk posterior under ``model``: mass per grid cell (G, cells), point masses at the μ nodes
    (G, μ) and its outlier probability (None without an outlier variable)."""
    G, n_mu, K = ll.shape[1], grid.mu.nodes.size, grid.lattice.size
    keys, blocks, prob = [], [], None
    for p, mass in post.items():
        if mass.sum() == 0:
            continue
        delta, scales, tail, pr = _responsibilities(model, _view(grid, points[p].F, points[p].log_zflat), mass)
        keys.append(p)
        blocks.append(np.concatenate([delta, scales.reshape(n_mu * K, G), tail[None, :]]))  # (1 + μ·K + ... , G)
        if pr is not None:
            prob = pr if prob is None else prob + pr
    R = np.concatenate(blocks)  # (terms, G): per shared point, n_mu point masses, n_mu·K scales, one tail
    per = n_mu + n_mu * K + 1
    cells, point_mass = np.zeros((G, us.size - 1)), np.zeros((G, n_mu))
    order = np.argsort(-R, axis=0)
    ranked = np.take_along_axis(R, order, axis=0)
    reach = np.cumsum(ranked, axis=0) < KEPT_MASS * R.sum(axis=0)
    keep = np.zeros_like(R, dtype=bool)
    np.put_along_axis(keep, order, np.vstack([np.ones((1, G), dtype=bool), reach[:-1]]), axis=0)
    term, gal = np.nonzero(keep & (R > 0))
    which, local = term // per, term % per
    for b, p in enumerate(keys):
        mine = which == b
        t, g = local[mine], gal[mine]
        w = R[term[mine], g]
        is_delta = t < n_mu
        np.add.at(point_mass, (g[is_delta], t[is_delta]), w[is_delta])
        is_tail = t == per - 1
        if is_tail.any():
            shares = _flat_shares(ll[p], us)[1]
            cells[g[is_tail]] += w[is_tail, None] * shares[g[is_tail]]
        scale = ~is_delta & ~is_tail
        m, k = np.divmod(t[scale] - n_mu, K)
        pop.accumulate_shares(ll[p], us, g[scale], grid.mu.nodes[m], grid.lattice.nodes[k], w[scale], cells)
    return cells, point_mass, prob


def _summaries(u: np.ndarray, cells: np.ndarray, at: np.ndarray, points: np.ndarray) -> dict[str, np.ndarray]:
    """Mean, sd, median and the 68/95 % equal-tailed intervals of each galaxy's posterior: mass ``cells`` (G, cells)
    uniform within each grid cell of ``u`` plus point masses ``points`` (G, Q) at ``at`` (Q,)."""
    G = cells.shape[0]
    mid, h = 0.5 * (u[1:] + u[:-1]), np.diff(u)
    total = cells.sum(axis=1) + points.sum(axis=1)
    cells, points = cells / total[:, None], points / total[:, None]
    mean = cells @ mid + points @ at
    var = cells @ (h ** 2 / 12) + np.sum(cells * (mid[None, :] - mean[:, None]) ** 2, axis=1) \
        + np.sum(points * (at[None, :] - mean[:, None]) ** 2, axis=1)
    levels = np.array([0.5, 0.16, 0.84, 0.025, 0.975])
    q = np.empty((G, levels.size))
    xs = np.union1d(u, at)
    for g in range(G):
        # CDF just left (lo) and right (hi) of every breakpoint x
        left = np.interp(xs, u, np.r_[0.0, np.cumsum(cells[g])])
        jump = np.zeros(xs.size)
        np.add.at(jump, np.searchsorted(xs, at), points[g])
        below = np.r_[0.0, np.cumsum(jump)[:-1]]
        lo, hi = left + below, left + below + jump
        for j, a in enumerate(levels):
            k = int(np.searchsorted(hi, a))
            k = min(k, xs.size - 1)
            if lo[k] >= a and k > 0:  # inside the continuous part before x_k
                span = lo[k] - hi[k - 1]
                t = (a - hi[k - 1]) / span if span > 0 else 1.0
                q[g, j] = xs[k - 1] + t * (xs[k] - xs[k - 1])
            else:
                q[g, j] = xs[k]
    return {"mean": mean, "sd": np.sqrt(np.maximum(var, 0.0)), "median": q[:, 0], "ci68": q[:, 1:3],
            "ci95": q[:, 3:5]}


def _finish(parameter: str, scale: str, galaxy_dim: str, galaxies: np.ndarray, u: np.ndarray,
            shared: dict[str, np.ndarray], mu_range: tuple[float, float], tau_prior: TauPrior,
            shapes: tuple[Shape, ...], results: dict[str, ModelResult], runs: Mapping[str, _Run],
            universal: _Universal, ll: np.ndarray, centre: float) -> PopulationModels:
    """Per galaxy, own and shrunk estimates and outliers under every model; the warnings."""
    us = u - centre
    G = ll.shape[1]
    # own: the universal model's shared-axis posterior weights each point's flat posterior
    with np.errstate(under="ignore"):
        weight = dict(enumerate(np.exp(universal.per_point - logsumexp(universal.per_point))))
    own_cells = np.zeros((G, u.size - 1))
    resolution = np.zeros(G)
    half = _every_other(u.size)
    for p, w in weight.items():
        total, shares = _flat_shares(ll[p], us)
        own_cells += w * shares
        resolution += w * (_flat_shares(ll[p][:, half], us[half])[0] - total)
    own = {k: v for k, v in _summaries(u, own_cells, np.zeros(0), np.zeros((G, 0))).items()}
    own["edge_share"] = own_cells[:, 0] + own_cells[:, -1]
    own["resolution"] = resolution
    names = [str(g) for g in galaxies]
    for model, result in results.items():
        if model == "universal":
            summary = {k: np.repeat(v, G, axis=0) for k, v in _summaries(
                universal.edges + centre, universal.mass[None, :], np.zeros(0), np.zeros((1, 0))).items()}
            prob = None
        else:
            run = runs[model]
            cells, point_mass, prob = _shrunk(model, run.grid, run.points, run.post[model], ll, us)
            summary = _summaries(u, cells, run.grid.mu.nodes + centre, point_mass)
        mu_hat = result.marginals["mu"].mean
        core = {"gaussian": "tau", "student_t": "tau_t", "mixture": "tau_c"}.get(model)
        spread = result.marginals[core].mean if core else 0.0
        pull = (own["mean"] - mu_hat) / np.sqrt(own["sd"] ** 2 + spread ** 2)
        if prob is None:
            flag = np.abs(pull) > PULL_OUTLIER
            rule = (f"|pull| > {PULL_OUTLIER:g}: the galaxy's own estimate lies more than {PULL_OUTLIER:g} predictive "
                    f"sds √(own sd² + {'τ̂²' if core else '0'}) from the posterior mean of μ (the model has no outlier "
                    "variable)")
        else:
            flag = prob > OUTLIER_LEVEL
            rule = {"student_t": f"P(s_g > {TAIL_SCALE:g}τ | data) > {OUTLIER_LEVEL:g}: the galaxy's own scale in the "
                                 "t's Gaussian scale mixture lies in the tail",
                    "outliers": f"P(broad component | data) > {OUTLIER_LEVEL:g}",
                    "mixture": f"P(broad component | data) > {OUTLIER_LEVEL:g}"}[model]
        result.galaxies = {"shrunk_mean": summary["mean"], "shrunk_sd": summary["sd"],
                           "shrunk_median": summary["median"], "shrunk_ci68": summary["ci68"],
                           "shrunk_ci95": summary["ci95"], "pull": pull,
                           "outlier_prob": prob if prob is not None else np.full(G, np.nan)}
        order = np.argsort(-(prob if prob is not None else np.abs(pull)))
        result.outliers = tuple(names[i] for i in order if flag[i])
        result.outlier_rule = rule
        result.describe = describe_model(model, tau_prior, shapes, mu_range, u, scale, parameter)
        result.notes = _model_notes(result, shared, tau_prior, mu_range)
    notes = []
    edge = np.flatnonzero(own["edge_share"] > posterior.EDGE_WARNING)
    if edge.size:
        notes.append(f"⚠ {edge.size} {galaxy_dim}(s) hold more than {posterior.EDGE_WARNING:.0%} of their own "
                     f"likelihood in an end cell of the grid (truncated), e.g. {', '.join(names[i] for i in edge[:3])}")
    coarse = np.flatnonzero(np.abs(own["resolution"]) > 0.1)
    if coarse.size:
        notes.append(f"⚠ the grid resolves {coarse.size} {galaxy_dim}(s)' own likelihood coarsely: dropping every "
                     f"other grid point moves their ln ∫ L by more than 0.1 nat, e.g. "
                     f"{', '.join(names[i] for i in coarse[np.argsort(-np.abs(own['resolution'][coarse]))][:3])}")
    evaluated = max([len(r.points) for r in runs.values()] + [ll.shape[0] if "universal" in results else 0])
    return PopulationModels(parameter, scale, galaxy_dim, galaxies, u, shared, mu_range, tau_prior, shapes, results,
                            own, evaluated, max([r.passes for r in runs.values()] + [1]), notes)


def describe_model(model: str, tau_prior: TauPrior, shapes: Sequence[Shape], mu_range: tuple[float, float],
                   u: np.ndarray, scale: str, parameter: str) -> str:
    """One sentence: the model and every prior."""
    unit = parameter if scale == "linear" else f"log10 {parameter}"
    tau = tau_prior.describe(unit)
    mu = f"μ ~ uniform on [{mu_range[0]:.4g}, {mu_range[1]:.4g}]"
    nu = next((s.nu for s in shapes if s.kind == "student_t"), None)
    f_max = next((s.f_max for s in shapes if s.kind == "mixture"), 0.5)
    return {
        "universal": f"{unit}_g = μ for every galaxy (τ = 0); {mu}",
        "gaussian": f"{unit}_g ~ N(μ, τ²); {mu}; {tau}",
        "student_t": f"{unit}_g ~ Student-t_ν(μ, τ); {mu}; {tau}; "
                     + (f"ν = {nu:g} fixed" if nu is not None else
                        f"ν log-uniform on [{NU_RANGE[0]:g}, {NU_RANGE[1]:g}] ({N_NU} nodes, equal mass)"),
        "outliers": f"{unit}_g ~ (1 − f) δ(μ) + f N(μ, τ_b²): one value for all but a fraction f; {mu}; "
                    f"f ~ uniform on [0, {f_max:g}]; {tau.replace('τ ~', 'τ_b ~', 1)}",
        "mixture": f"{unit}_g ~ (1 − f) N(μ, τ_c²) + f N(μ, τ_b²), τ_c < τ_b; {mu}; f ~ uniform on [0, {f_max:g}]; "
                   f"τ_c, τ_b: each {tau}, the pair ordered (renormalised)",
    }[model]


def _model_notes(result: ModelResult, shared: Mapping[str, np.ndarray], tau_prior: TauPrior,
                 mu_range: tuple[float, float]) -> list[str]:
    """Warnings: a marginal truncated by its prior range or the shared grid, or held by one cell."""
    notes = []
    for name, m in result.marginals.items():
        if m.mass.size < 2 or m.mass.sum() == 0:
            continue
        ends = []
        if name == "mu":
            ends = [(m.edge_mass[0], abs(m.edges[0] - mu_range[0]) < 1e-12),
                    (m.edge_mass[1], abs(m.edges[-1] - mu_range[1]) < 1e-12)]
        elif name in shared:
            ends = [(m.edge_mass[0], True), (m.edge_mass[1], True)]
        elif name.startswith("tau"):
            ends = [(m.edge_mass[1], abs(m.edges[-1] - tau_prior.upper) < 1e-9 * max(tau_prior.upper, 1))]
        elif name == "nu":
            ends = [(m.edge_mass[0], True), (m.edge_mass[1], True)]
        elif name == "f":
            ends = [(m.edge_mass[1], True)]
        for mass, at_end in ends:
            if at_end and mass > posterior.EDGE_WARNING:
                notes.append(f"⚠ {result.name}: {mass:.1%} of {name}'s posterior sits in an end cell of its range "
                             f"[{m.edges[0]:.4g}, {m.edges[-1]:.4g}]: the " + ("grid" if name in shared else "prior")
                             + " truncates it")
        if m.unresolved and name not in ("nu", "f"):
            notes.append(f"⚠ {result.name}: more than {posterior.RESOLUTION_WARNING:.0%} of {name}'s posterior in "
                         f"one cell ({m.values[int(np.argmax(m.mass))]:.4g}): its intervals reflect the cell width")
    return notes
