"""The adaptive Gauss–Hermite marginalisation and the profile, compiled: every (grid point, galaxy) pair in numba.

The algorithm is :mod:`sigcube.compute.quadrature`'s (its module docstring says it: a Levenberg–Marquardt
mode of F(z) = −ln L + ½|z|² in the priors' normal deviates z, a scale from the Gauss–Newton Hessian refined by
finite differences, the product Gauss–Hermite rule on the Υ/D dimensions and a 1-D rule at the conditional
inclination mode). Here it runs pair by pair in one numba loop, galaxy by galaxy (a galaxy's points stay in
cache) and grid point by grid point (each warm-started at the previous grid point's mode), with the kernel
compiled to scalar code (:mod:`sigcube.compute.nuisance_codegen`): no (grid × points) temporaries, a pair's node terms
(at most nodes³) summed by one log-sum-exp, and d ≤ 4 linear algebra written out. The kernel is a C function of a
fixed signature passed to the solver, so the solver itself is compiled once and cached on disk for every kernel.

The prior maps z → θ are tabulated per galaxy and dimension on a uniform grid in z (:data:`TABLE_STEP` over
±:data:`TABLE_LIMIT`) with their derivatives, and read by cubic Hermite interpolation (error ~1e-10 of the
parameter's scale), so every prior family costs the same few flops. The inclination's table holds
1/q = sin i/sin i0 directly; the velocity scale's tables (one per τ_gal value, each grid point reading its own) hold
u = (sin i/sin i0)·s_g under its convolved prior (:mod:`sigcube.compute.scale_prior`), or ln u for the log-normal error
model, whose likelihood is quadratic in ln u. :func:`solve` returns the pairs' raw results; :mod:`~sigcube.compute.quadrature`
builds its :class:`~sigcube.compute.quadrature.Marginal` and :class:`~sigcube.compute.quadrature.Mode`
from them (values and errors from the exact prior maps at the mode).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numba
import numpy as np

from sigcube.compute.nuisance_codegen import Compiled
from sigcube.stats.likelihood import STUDENT_SERIES, V_MIN

warnings.filterwarnings("ignore", message="First-class function type feature is experimental",
                        category=numba.NumbaExperimentalFeatureWarning)
# The solver takes the kernel's compiled function as an argument (module docstring): numba warns of that at each first
# compilation, in every worker, which a user would read as a fault. Only this message is silenced.

Z_LIMIT = 12.0
"""The mode search keeps |z| below this (prior density e^−72 there): steps never leave the representable
quantiles. (This and the settings below are shared with the numpy reference, :mod:`sigcube.compute.quadrature`.)"""
TABLE_LIMIT = 18.0
"""The prior-map tables cover |z| ≤ this: the quadrature's nodes around a mode held at ±Z_LIMIT (5 nodes reach
2.9 scales out) still read the exact maps; beyond it θ is held at the end value."""
TABLE_STEP = 1.0 / 64.0
"""Spacing in z of the prior-map tables."""
TABLE_SIZE = int(round(2 * TABLE_LIMIT / TABLE_STEP)) + 1
FD_STEP = 1e-6
"""Forward-difference step in z for the Jacobians."""
_INV_FD = 1.0 / FD_STEP
MAX_STEP = 3.0
"""Largest Levenberg–Marquardt step (Euclidean norm in z)."""
SCALE_CLIP = (0.2, 5.0)
"""Range of the eigenvalues of the finite-difference Hessian relative to J^TJ + I."""
NEWTON_ITERATIONS = 8
"""Most Newton steps towards the conditional inclination mode (from the joint mode's conditional mean: 8 change
ln Z by < 1e-4 nat from 20 on SPARC)."""
PROBES = (0.5, 1.5)
"""Restart steps [z] of the profile around its best mode so far, along each axis, both ways (:func:`_restart`)."""
RESTART_ROUNDS = 3
"""Most rounds of probes around an improved mode."""
RESTART_GAIN = 1e-9
"""A restart replaces the mode when it lowers F by more than this."""
NEWTON_TOL = 1e-4
"""The conditional inclination mode is taken when a Newton step is below this (in z; the rule's nodes are ≥ 0.1
apart, so a centre off by 1e-4 changes nothing the rule sees)."""
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
LOG_RUN = 8
"""Points whose s² are multiplied before one logarithm (Σ ln s² = ln Π s²; eight s² of (km/s)² stay far inside the
float range)."""
_FLAGS = {"nsz", "arcp", "contract", "reassoc"}
"""fastmath for the sums: reassociation (SIMD), fused multiply-add; NaN and ∞ keep their meaning. A loop that sums
stores nothing: LLVM runs a loop that stores through one array and reads another in its vector or its scalar version
by where the arrays lie in memory, and under reassociation the two versions round a sum differently — the same pair's
numbers would then change in the last bits with the process's heap (``tests/compute/test_quadrature_layout.py``).

Only the entry points called from Python (:func:`_solve`, :func:`_lookup_rows`) are cached by numba: a function
loaded from the cache is linked into a caller compiled later as object code, not inlined into it, so cached helpers
would make the solver's machine code — and the last bits of its sums — depend on which functions an earlier process
happened to compile first (``tests/compute/test_compiled_cache.py``)."""
CACHE_TOLERANCE = 1e-10
"""How far, relatively, the log-normal model's marginal likelihoods in the first process after numba's on-disk cache is
emptied may differ from those of the processes that load the cache (measured: 8e-13; the Gaussian models give the same
bits): the one dependence on the cache left (``tests/compute/test_compiled_cache.py``)."""


# --- small dense linear algebra (d ≤ 8) -------------------------------------------------------------------------

@numba.njit(nogil=True)
def _cholesky(a, d, out):  # pragma: no cover
    """Lower Cholesky factor of the SPD d×d block of ``a`` into ``out``; False if not positive definite."""
    for j in range(d):
        s = a[j, j]
        for k in range(j):
            s -= out[j, k] * out[j, k]
        if not s > 0.0:
            return False
        out[j, j] = math.sqrt(s)
        for i in range(j + 1, d):
            t = a[i, j]
            for k in range(j):
                t -= out[i, k] * out[j, k]
            out[i, j] = t / out[j, j]
        for i in range(j):
            out[i, j] = 0.0
    return True


@numba.njit(nogil=True)
def _chol_solve(l, d, b, x):  # pragma: no cover
    """x = (L Lᵀ)⁻¹ b."""
    for i in range(d):
        s = b[i]
        for k in range(i):
            s -= l[i, k] * x[k]
        x[i] = s / l[i, i]
    for i in range(d - 1, -1, -1):
        s = x[i]
        for k in range(i + 1, d):
            s -= l[k, i] * x[k]
        x[i] = s / l[i, i]


@numba.njit(nogil=True)
def _spd_inverse(a, d, work, out):  # pragma: no cover
    """out = a⁻¹ for SPD a (through its Cholesky factor in ``work``); False if a is not positive definite."""
    if not _cholesky(a, d, work):
        return False
    e = np.zeros(a.shape[0])
    col = np.zeros(a.shape[0])
    for j in range(d):
        for i in range(d):
            e[i] = 1.0 if i == j else 0.0
        _chol_solve(work, d, e, col)
        for i in range(d):
            out[i, j] = col[i]
    return True


@numba.njit(nogil=True)
def _jacobi_eigh(a, d, w, v):  # pragma: no cover
    """Eigenvalues ``w`` and eigenvectors (columns of ``v``) of the symmetric d×d block of ``a`` (Jacobi)."""
    m = np.empty((a.shape[0], a.shape[0]))
    for i in range(d):
        for j in range(d):
            m[i, j] = a[i, j]
            v[i, j] = 1.0 if i == j else 0.0
    for _ in range(50):
        off = 0.0
        diag = 0.0
        for i in range(d):
            diag += m[i, i] * m[i, i]
            for j in range(i + 1, d):
                off += m[i, j] * m[i, j]
        if not off > 1e-30 * (1.0 + diag):
            break
        for p in range(d):
            for q in range(p + 1, d):
                if m[p, q] == 0.0:
                    continue
                theta = (m[q, q] - m[p, p]) / (2.0 * m[p, q])
                t = (1.0 if theta >= 0 else -1.0) / (abs(theta) + math.sqrt(theta * theta + 1.0))
                c = 1.0 / math.sqrt(t * t + 1.0)
                s = t * c
                for k in range(d):
                    mkp, mkq = m[k, p], m[k, q]
                    m[k, p] = c * mkp - s * mkq
                    m[k, q] = s * mkp + c * mkq
                for k in range(d):
                    mpk, mqk = m[p, k], m[q, k]
                    m[p, k] = c * mpk - s * mqk
                    m[q, k] = s * mpk + c * mqk
                for k in range(d):
                    vkp, vkq = v[k, p], v[k, q]
                    v[k, p] = c * vkp - s * vkq
                    v[k, q] = s * vkp + c * vkq
    for i in range(d):
        w[i] = m[i, i]


# --- prior-map tables --------------------------------------------------------------------------------------------

@numba.njit(nogil=True)
def _lookup2(tab, z):  # pragma: no cover
    """(θ, dθ/dz, d²θ/dz²) of the interpolant of :func:`_lookup` (the second derivative is piecewise linear)."""
    u = (min(max(z, -TABLE_LIMIT), TABLE_LIMIT) + TABLE_LIMIT) / TABLE_STEP
    k = min(int(u), TABLE_SIZE - 2)
    t = u - k
    t2 = t * t
    f0, f1 = tab[k, 0], tab[k + 1, 0]
    d0, d1 = TABLE_STEP * tab[k, 1], TABLE_STEP * tab[k + 1, 1]
    value = (2.0 * t2 * t - 3.0 * t2 + 1.0) * f0 + (t2 * t - 2.0 * t2 + t) * d0 + (3.0 * t2 - 2.0 * t2 * t) * f1 \
        + (t2 * t - t2) * d1
    value = min(max(value, f0), f1)
    first = ((6.0 * t2 - 6.0 * t) * (f0 - f1) + (3.0 * t2 - 4.0 * t + 1.0) * d0 + (3.0 * t2 - 2.0 * t) * d1) / TABLE_STEP
    second = ((12.0 * t - 6.0) * (f0 - f1) + (6.0 * t - 4.0) * d0 + (6.0 * t - 2.0) * d1) / (TABLE_STEP * TABLE_STEP)
    return value, first, second


@numba.njit(nogil=True)
def _lookup(tab, z):  # pragma: no cover
    """θ(z) from a (TABLE_SIZE, 2) table of values and dθ/dz by cubic Hermite interpolation (held at ±TABLE_LIMIT),
    kept between the two knots' values (every prior map increases with z)."""
    u = (min(max(z, -TABLE_LIMIT), TABLE_LIMIT) + TABLE_LIMIT) / TABLE_STEP
    k = min(int(u), TABLE_SIZE - 2)
    t = u - k
    t2 = t * t
    t3 = t2 * t
    f0, f1 = tab[k, 0], tab[k + 1, 0]
    value = ((2.0 * t3 - 3.0 * t2 + 1.0) * f0 + (t3 - 2.0 * t2 + t) * TABLE_STEP * tab[k, 1]
             + (3.0 * t2 - 2.0 * t3) * f1 + (t3 - t2) * TABLE_STEP * tab[k + 1, 1])
    return min(max(value, f0), f1)  # the maps increase: never past a knot (nor a bound such as D ≥ 0)


def tables(prior, n_galaxies: int) -> np.ndarray:
    """θ(z) = ``prior.from_normal(z)`` and dθ/dz = φ(z)/π(θ) on the uniform z grid, per galaxy: (G, TABLE_SIZE, 2).

    ``prior``'s numbers are floats or one per galaxy. Where the density ratio is not finite (a quantile clipped to
    a bound), the derivative is the table's own central difference."""
    z = np.linspace(-TABLE_LIMIT, TABLE_LIMIT, TABLE_SIZE)[:, None]
    with np.errstate(all="ignore"):
        theta = np.broadcast_to(np.asarray(prior.from_normal(z), dtype=float), (TABLE_SIZE, n_galaxies))
        slope = np.exp(-0.5 * z * z - _HALF_LOG_2PI - np.asarray(prior.logpdf(theta), dtype=float))
    fallback = np.gradient(theta, z[:, 0], axis=0)
    return np.ascontiguousarray(np.stack([theta, np.where(np.isfinite(slope), slope, fallback)], axis=-1)
                                .transpose(1, 0, 2))


# --- the pair solver ---------------------------------------------------------------------------------------------

@numba.njit(nogil=True, fastmath=_FLAGS)
def _log_sum_exp(terms, n):  # pragma: no cover
    """ln Σ exp(terms[:n]), NaN terms counting as 0 (−∞ if none is finite)."""
    top = -np.inf
    for k in range(n):
        if terms[k] > top:
            top = terms[k]
    if top == -np.inf or top != top:
        return -np.inf
    total = 0.0
    for k in range(n):
        if terms[k] == terms[k]:
            total += math.exp(terms[k] - top)
    return top + math.log(total)


@dataclass(frozen=True)
class PairResults:
    """Raw results for every (grid point, galaxy) pair, (m, n_galaxies) unless noted.

    ``z``: the mode in each galaxy's dimension order (m, G, 4; NaN past its d); ``variance``: diagonal of the
    covariance C·Cᵀ in z (same shape); ``F`` = −ln L + ½|z|² at the mode; ``chi2`` = Σ r² at the mode;
    ``log_marginal`` and ``log_laplace`` (marginalise only); ``kernel_point_evaluations``: points × kernel
    calls summed over all pairs."""

    z: np.ndarray
    variance: np.ndarray
    F: np.ndarray
    chi2: np.ndarray
    converged: np.ndarray
    iterations: np.ndarray
    log_marginal: np.ndarray
    log_laplace: np.ndarray
    scale_clipped: np.ndarray
    kernel_calls: np.ndarray
    kernel_point_evaluations: int


def data_slots(v_obs: np.ndarray, e_v_obs: np.ndarray, log_space: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The data as the compiled likelihood reads them (``vo``, ``ie``, ``e2``): V_obs, 1/e_V, e_V²; under the log-normal
    model (``log_space``) ln V_obs, ones and (e_V/V_obs)²."""
    v_obs = np.ascontiguousarray(v_obs, dtype=float)
    e_v_obs = np.ascontiguousarray(e_v_obs, dtype=float)
    if log_space:  # the data slots carry ln V_obs, (e_V/V_obs)² (and no 1/e_V)
        return np.log(v_obs), np.ones_like(v_obs), (e_v_obs / v_obs) ** 2
    return v_obs, 1.0 / e_v_obs, e_v_obs ** 2


def solve(compiled: Compiled, X: np.ndarray, S: np.ndarray, offsets: np.ndarray, v_obs: np.ndarray,
          e_v_obs: np.ndarray, P: np.ndarray, scatter: tuple[np.ndarray, np.ndarray], tables: np.ndarray,
          codes: np.ndarray, n_dims: np.ndarray, inclined: bool, base: np.ndarray, start: np.ndarray, start_rows: bool, nodes: int,
          marginalise: bool, refine: bool, tol: float, max_iter: int, probes: tuple[float, ...] = (),
          scale_tables: np.ndarray | None = None, scale_index: np.ndarray | None = None,
          log_space: bool = False, tails: np.ndarray | float = 0.0) -> PairResults:
    """Run every pair (module docstring).

    ``P`` (m, G, k): the kernel's variable parameters per pair; ``scatter`` (a, b), each (m,): σ_V² = a + b·V_pred²
    [(km/s)²] per grid point (``log_space``: t² = (e_V/V_obs)² + a/V_pred² + b in ln V, the log-normal model of
    :mod:`sigcube.stats.likelihood`); ``tails`` (m,) or one value: the Student-t's tail weight 1/ν per grid point (0:
    Gaussian; Gaussian-in-V models only, :func:`student_terms`); ``tables`` (G, 4, TABLE_SIZE, 2) by nuisance code (0 Υ_disk, 1 Υ_bul, 2 D/D0,
    3 sin i/sin i0); ``codes`` (G, 4): the code of each of a galaxy's ``n_dims`` dimensions (the velocity scale last
    when ``inclined``); ``base`` (G, 3): Υ_disk, Υ_bul, D/D0 where not free; ``start`` (1 or m, G, 4) in dimension
    order (``start_rows``: one row per grid point, else the first grid point starts there and each next one at its
    predecessor's mode); ``nodes`` per dimension; ``probes``: restart steps of the mode search (:func:`_restart`;
    empty: one descent from the start). ``scale_tables`` (T, G, TABLE_SIZE, 2): the velocity scale's map (u, or ln u
    under ``log_space``) for each of T priors, ``scale_index`` (m,) which one each grid point uses (default: the
    inclination's table, code 3, for every grid point).
    """
    m, g_count = P.shape[0], len(offsets) - 1
    if scale_tables is None:
        scale_tables = np.ascontiguousarray(tables[None, :, 3])
    if scale_index is None:
        scale_index = np.zeros(m, dtype=np.int64)
    data = data_slots(v_obs, e_v_obs, log_space)
    x, w = np.polynomial.hermite_e.hermegauss(int(nodes))
    out_z = np.full((m, g_count, 4), np.nan)
    out_var = np.full((m, g_count, 4), np.nan)
    out_f, out_chi2, out_logz, out_lap = (np.full((m, g_count), np.nan) for _ in range(4))
    out_conv = np.zeros((m, g_count), dtype=np.bool_)
    out_clip = np.zeros((m, g_count), dtype=np.bool_)
    out_iter = np.zeros((m, g_count), dtype=np.int64)
    out_calls = np.zeros((m, g_count), dtype=np.int64)
    evaluations = _solve(compiled.predict, X, S, np.ascontiguousarray(offsets, dtype=np.int64), *data,
                         np.ascontiguousarray(P, dtype=float), np.ascontiguousarray(scatter[0], dtype=float),
                         np.ascontiguousarray(scatter[1], dtype=float),
                         np.ascontiguousarray(np.broadcast_to(tails, (m,)), dtype=float), tables, np.ascontiguousarray(codes, dtype=np.int64), np.ascontiguousarray(n_dims, dtype=np.int64),
                         inclined, np.ascontiguousarray(base, dtype=float), np.ascontiguousarray(start, dtype=float),
                         start_rows, x, np.log(w), marginalise, refine, tol, max_iter,
                         np.asarray(probes, dtype=float).reshape(-1), out_z, out_var, out_f, out_chi2, out_conv, out_iter, out_logz, out_lap, out_clip, out_calls,
                         np.ascontiguousarray(scale_tables, dtype=float),
                         np.ascontiguousarray(scale_index, dtype=np.int64), bool(log_space))
    return PairResults(out_z, out_var, out_f, out_chi2, out_conv, out_iter, out_logz, out_lap, out_clip, out_calls,
                       int(evaluations))


@numba.njit(nogil=True, cache=True)
def _solve(predict, X, S, offsets, vo, ie, e2, P, scat_a, scat_b, tails, tables, codes, n_dims, inclined, base, start, start_rows,
           gh_x, gh_lw, marginalise, refine, tol, max_iter, probes,
           out_z, out_var, out_f, out_chi2, out_conv, out_iter, out_logz, out_lap, out_clip, out_calls, qtables, qindex,
           lg):  # pragma: no cover
    m = P.shape[0]
    n_gal = offsets.size - 1
    n_max = 1
    for g in range(n_gal):
        n_max = max(n_max, offsets[g + 1] - offsets[g])
    # scratch: predictions and residuals
    V = np.empty(n_max)
    Vt = np.empty(n_max)
    Vn = np.empty(n_max)
    cvs = np.empty(n_max)
    rs = np.empty(n_max)
    r = np.empty(n_max)
    rt = np.empty(n_max)
    cols = np.empty((4, n_max))
    Vplus = np.empty((4, n_max))
    Vjac = np.empty((4, n_max))
    z = np.zeros(4)
    zt = np.zeros(4)
    zk = np.zeros(4)
    grad = np.zeros(4)
    step = np.zeros(4)
    dnorm = np.zeros(4)
    H = np.zeros((4, 4))
    A = np.zeros((4, 4))
    L = np.zeros((4, 4))
    Hinv = np.zeros((4, 4))
    Cgn = np.zeros((4, 4))
    C = np.zeros((4, 4))
    Hx = np.zeros((4, 4))
    Q = np.zeros((4, 4))
    ev_w = np.zeros(4)
    fplus = np.zeros(4)
    nv = np.zeros(3)
    xk = np.zeros(4)
    index = np.zeros(4, dtype=np.int64)
    nodes = gh_x.size
    terms = np.empty(nodes ** 3)
    inner = np.empty(nodes)
    calls = 0
    evaluations = 0
    for g in range(n_gal):
        a, b = offsets[g], offsets[g + 1]
        n = b - a
        d = n_dims[g]
        dk = d - 1 if inclined else d
        ln0, sum_oo, ln0g = galaxy_constants(vo, ie, a, b, lg)
        held = False  # V and Vjac hold the kernel's predictions at z (and z + FD_STEP·e_k) of the last grid point
        for j in range(m):
            # start
            if j == 0 or start_rows:
                row = j if start_rows else 0
                for k in range(d):
                    s0 = start[row, g, k]
                    z[k] = s0 if s0 == s0 else 0.0
                held = False
            sa = scat_a[j]
            sb = scat_b[j]
            tl = tails[j]
            qtab = qtables[qindex[j], g]
            if lg:
                ln0 = log_normal_constant(e2, a, n, sa, sb, ln0g, rs)
            Pj = P[j, g]
            # the same kernel parameters as the last grid point (another σ_int): its predictions at z are these
            if held:
                for k in range(P.shape[2]):
                    if P[j, g, k] != P[j - 1, g, k]:
                        held = False

            # ---------------------------------------------------------------- helpers as inline blocks
            # mode search (Levenberg–Marquardt), then restarts when asked (``probes``)
            F, lognorm, conv, iterations, calls = _descend(predict, X, S, a, b, g, z, d, dk, codes, tables, base, nv,
                                                           Pj, inclined, vo, ie, e2, n, sa, sb, tl, ln0, tol, max_iter,
                                                           held, V, Vt, Vjac, r, rt, cols, zt, grad, step, dnorm, H,
                                                           A, L, qtab, lg, rs)
            if probes.size:
                F, lognorm, conv, iterations, c = _restart(predict, X, S, a, b, g, z, d, dk, codes, tables, base, nv,
                                                           Pj, inclined, vo, ie, e2, n, sa, sb, tl, ln0, tol, max_iter,
                                                           probes, F, lognorm, conv, iterations, V, Vt, Vjac, r, rt,
                                                           cols, zt, grad, step, dnorm, H, A, L, qtab, lg, rs)
                calls += c
            held = True
            chi2 = 0.0
            for i in range(n):
                chi2 += r[i] * r[i]
            out_f[j, g] = F
            out_chi2[j, g] = chi2
            out_conv[j, g] = conv
            out_iter[j, g] = iterations
            for k in range(d):
                out_z[j, g, k] = z[k]

            # scale: C = chol((JᵀJ + I)⁻¹), refined by finite differences along its axes
            ok = _spd_inverse(H, d, L, Hinv) and _cholesky(Hinv, d, Cgn)
            if not ok:
                out_calls[j, g] = calls
                evaluations += calls * n
                continue
            clipped = False
            if refine:
                for jj in range(d):
                    for sgn in (1.0, -1.0):
                        for k in range(d):
                            zk[k] = z[k] + sgn * Cgn[k, jj]
                        if jj < dk:
                            _predict_at(predict, X, S, a, b, g, zk, dk, codes, tables, base, nv, Pj,
                                        Vt if sgn < 0 else Vplus[jj])
                            calls += 1
                            fv, _ = _state(Vt if sgn < 0 else Vplus[jj], zk, d, inclined, qtab, vo, ie, e2, a,
                                           n, sa, sb, tl, ln0, rt, lg, rs)
                        else:
                            fv, _ = _state(V, zk, d, inclined, qtab, vo, ie, e2, a, n, sa, sb, tl, ln0, rt, lg, rs)
                        if sgn > 0:
                            fplus[jj] = fv
                            Hx[jj, jj] = fv - 2.0 * F
                        else:
                            Hx[jj, jj] += fv
                for jj in range(d):
                    for kk in range(jj + 1, d):
                        for k in range(d):
                            zk[k] = z[k] + Cgn[k, jj] + Cgn[k, kk]
                        if kk < dk:
                            _predict_at(predict, X, S, a, b, g, zk, dk, codes, tables, base, nv, Pj, Vt)
                            calls += 1
                            fv, _ = _state(Vt, zk, d, inclined, qtab, vo, ie, e2, a, n, sa, sb, tl, ln0, rt, lg, rs)
                        elif jj < dk:
                            fv, _ = _state(Vplus[jj], zk, d, inclined, qtab, vo, ie, e2, a, n, sa, sb, tl, ln0, rt, lg, rs)
                        else:
                            fv, _ = _state(V, zk, d, inclined, qtab, vo, ie, e2, a, n, sa, sb, tl, ln0, rt, lg, rs)
                        Hx[jj, kk] = Hx[kk, jj] = fv - fplus[jj] - fplus[kk] + F
                _jacobi_eigh(Hx, d, ev_w, Q)
                for k in range(d):
                    wk = ev_w[k]
                    if not (SCALE_CLIP[0] <= wk <= SCALE_CLIP[1]):
                        clipped = True
                    if wk != wk:
                        wk = 1.0
                    ev_w[k] = min(max(wk, SCALE_CLIP[0]), SCALE_CLIP[1])
                for k in range(d):  # (Q diag(w) Qᵀ)⁻¹ = Q diag(1/w) Qᵀ
                    for l2 in range(d):
                        s = 0.0
                        for q in range(d):
                            s += Q[k, q] * Q[l2, q] / ev_w[q]
                        A[k, l2] = s
                _cholesky(A, d, L)
                for k in range(d):
                    for l2 in range(d):
                        s = 0.0
                        for q in range(d):
                            s += Cgn[k, q] * L[q, l2]
                        C[k, l2] = s
            else:
                for k in range(d):
                    for l2 in range(d):
                        C[k, l2] = Cgn[k, l2]
            out_clip[j, g] = clipped
            log_det = 0.0
            for k in range(d):
                v2 = 0.0
                for q in range(d):
                    v2 += C[k, q] * C[k, q]
                out_var[j, g, k] = v2
                log_det += math.log(abs(C[k, k]))
            out_lap[j, g] = -F + log_det

            if marginalise:
                log_det_k = 0.0
                for k in range(dk):
                    log_det_k += math.log(abs(C[k, k]))
                for k in range(dk):
                    index[k] = 0
                n_terms = 0
                while True:
                    # node: z = ẑ + C·x over the Υ/D dimensions
                    centre = True
                    base_t = log_det_k - dk * _HALF_LOG_2PI
                    for k in range(dk):
                        xk[k] = gh_x[index[k]]
                        base_t += gh_lw[index[k]] + 0.5 * xk[k] * xk[k]
                        if xk[k] != 0.0:
                            centre = False
                    for k in range(dk):
                        s = z[k]
                        for q in range(k + 1):
                            s += C[k, q] * xk[q]
                        zk[k] = s
                        base_t -= 0.5 * s * s
                    Vuse = V
                    if not centre:
                        _predict_at(predict, X, S, a, b, g, zk, dk, codes, tables, base, nv, Pj, Vn)
                        calls += 1
                        Vuse = Vn
                    if inclined:
                        zc = z[d - 1]
                        for q in range(dk):
                            zc += C[d - 1, q] * xk[q]
                        term = base_t + _inclination(Vuse, zc, C[d - 1, d - 1], qtab, vo, ie, e2, a, n,
                                                     sa, sb, tl, ln0, sum_oo, gh_x, gh_lw, inner, cvs, lg, rs)
                    else:
                        zk[d - 1] = 0.0
                        ff, _ = _state(Vuse, zk, 0, False, qtab, vo, ie, e2, a, n, sa, sb, tl, ln0, rt, lg, rs)
                        term = base_t - ff
                    terms[n_terms] = term
                    n_terms += 1
                    # next multi-index
                    k = dk - 1
                    while k >= 0:
                        index[k] += 1
                        if index[k] < nodes:
                            break
                        index[k] = 0
                        k -= 1
                    if k < 0:
                        break
                out_logz[j, g] = _log_sum_exp(terms, n_terms)
            out_calls[j, g] = calls
            evaluations += calls * n
    return evaluations


@numba.njit(nogil=True)
def galaxy_constants(vo, ie, a, b, lg):  # pragma: no cover
    """A galaxy's constants of :func:`_state`: (the normalisation with the quoted errors, −Σ ln e_V − ½n ln 2π; Σ
    (V_obs/e_V)²; under the log-normal model (``lg``: ``vo`` holds ln V_obs) the Jacobian's part −Σ ln V_obs − ½n ln 2π,
    else the first again)."""
    n = b - a
    ln0 = -_HALF_LOG_2PI * n
    sum_oo = 0.0
    for i in range(a, b):
        ln0 += math.log(ie[i])
        t = vo[i] * ie[i]
        sum_oo += t * t
    ln0g = ln0
    if lg:  # the Jacobian's part of the log-normal normalisation: −Σ ln V_obs − ½n ln 2π
        for i in range(a, b):
            ln0g -= vo[i]
    return ln0, sum_oo, ln0g


@numba.njit(nogil=True)
def log_normal_constant(e2, a, n, sa, sb, ln0g, rs):  # pragma: no cover
    """The log-normal model's ``ln0`` of :func:`_state_log` at scatter (sa, sb): without a floor (sa = 0) t_i is fixed,
    so 1/t_i goes into ``rs`` and the whole normalisation is returned; with one, the Jacobian's part ``ln0g``."""
    ln0 = ln0g
    if sa == 0.0:  # t_i fixed for the pair: 1/t_i and the whole normalisation now
        i0 = 0
        while i0 < n:
            i1 = min(i0 + LOG_RUN, n)
            prod = 1.0
            for i in range(i0, i1):
                t2 = e2[a + i] + sb
                prod *= t2
                rs[i] = 1.0 / math.sqrt(t2)
            ln0 -= 0.5 * math.log(prod)
            i0 = i1
    return ln0


@numba.njit(nogil=True)
def _descend(predict, X, S, a, b, g, z, d, dk, codes, tables, base, nv, P, inclined, vo, ie, e2, n, sa, sb, tl, ln0, tol,
             max_iter, held, V, Vt, Vjac, r, rt, cols, zt, grad, step, dnorm, H, A, L, qtab, lg, rs):  # pragma: no cover
    """Levenberg–Marquardt on F from ``z`` (moved to the mode in place; V, r, the Jacobian's predictions Vjac and the
    Gauss–Newton Hessian H = JᵀJ + I left there): (F, ln-normalisation, converged, iterations, kernel calls).
    ``held``: V and Vjac already hold the predictions at z (the last grid point's, same kernel parameters). Steps stay
    in the box |z_j| ≤ Z_LIMIT; a coordinate on its face with the gradient pointing out is held (projected Newton).
    Converged: the Newton decrement ½ gᵀH⁻¹g over the free coordinates is below ``tol``."""
    calls = 0
    if not held:
        _predict_at(predict, X, S, a, b, g, z, dk, codes, tables, base, nv, P, V)
        calls += 1
    F, lognorm = _state(V, z, d, inclined, qtab, vo, ie, e2, a, n, sa, sb, tl, ln0, r, lg, rs)
    fresh = held  # Vjac holds the Jacobian's predictions at this z
    lam = 1e-3
    conv = False
    iterations = 0
    out = np.zeros(4, dtype=np.bool_)
    gm = np.zeros(4)
    while True:
        # gradient and Gauss–Newton Hessian J^TJ + I of F at z by forward differences (FD_STEP)
        for jj in range(d):
            for k in range(d):
                zt[k] = z[k]
            zt[jj] += FD_STEP
            if jj < dk:
                if not fresh:
                    _predict_at(predict, X, S, a, b, g, zt, dk, codes, tables, base, nv, P, Vjac[jj])
                    calls += 1
                _, nj = _state(Vjac[jj], zt, d, inclined, qtab, vo, ie, e2, a, n, sa, sb, tl, ln0, rt, lg, rs)
            else:
                _, nj = _state(V, zt, d, inclined, qtab, vo, ie, e2, a, n, sa, sb, tl, ln0, rt, lg, rs)
            for i in range(n):
                cols[jj, i] = (rt[i] - r[i]) * _INV_FD
            dnorm[jj] = (nj - lognorm) * _INV_FD
        fresh = True
        _normal_equations(cols, r, z, dnorm, d, n, grad, H)
        conv = newton_converged(z, grad, H, d, tol, out, gm, A, L, step)
        if conv or iterations >= max_iter:
            break
        iterations += 1
        damped_step(z, H, d, lam, out, gm, A, L, step, zt)
        _predict_at(predict, X, S, a, b, g, zt, dk, codes, tables, base, nv, P, Vt)
        calls += 1
        Ft, lognorm_t = _state(Vt, zt, d, inclined, qtab, vo, ie, e2, a, n, sa, sb, tl, ln0, rt, lg, rs)
        if Ft <= F:
            fresh = False
            for k in range(d):
                z[k] = zt[k]
            for i in range(n):
                V[i] = Vt[i]
                r[i] = rt[i]
            F = Ft
            lognorm = lognorm_t
            lam = max(lam * 0.2, 1e-7)
        else:
            lam = min(lam * 10.0, 1e7)
    return F, lognorm, conv, iterations, calls


@numba.njit(nogil=True)
def newton_converged(z, grad, H, d, tol, held, gm, A, L, step):  # pragma: no cover
    """Whether a Levenberg–Marquardt descent at ``z`` (gradient ``grad``, Gauss–Newton Hessian ``H``) has converged:
    the Newton decrement ½gᵀH⁻¹g over the free coordinates below ``tol``. A coordinate on the box |z| = Z_LIMIT whose
    descent direction points out is held there (``held``; its gradient zeroed in ``gm``, its rows of the Hessian the
    identity's in ``A``); ``step`` is left at the Newton step."""
    for k in range(d):
        held[k] = (z[k] >= Z_LIMIT and grad[k] < 0.0) or (z[k] <= -Z_LIMIT and grad[k] > 0.0)
        gm[k] = 0.0 if held[k] else grad[k]
    for k in range(d):
        for l2 in range(d):
            A[k, l2] = (1.0 if k == l2 else 0.0) if held[k] or held[l2] else H[k, l2]
    if not _cholesky(A, d, L):
        return False
    _chol_solve(L, d, gm, step)
    decrement = 0.0
    for k in range(d):
        decrement += gm[k] * step[k]
    return 0.5 * decrement < tol


@numba.njit(nogil=True)
def damped_step(z, H, d, lam, held, gm, A, L, step, zt):  # pragma: no cover
    """The trial point ``zt`` of a Levenberg–Marquardt step from ``z`` with damping ``lam`` (the held coordinates and
    ``gm`` of :func:`newton_converged`): at most :data:`MAX_STEP` long, kept in the box |z| ≤ Z_LIMIT; ``z`` itself
    where the damped Hessian is not positive definite (JᵀJ + (1 + λ)I always is, unless a prediction at ``z`` is not
    finite: the descent then stays, and stops at its iteration limit unconverged)."""
    for k in range(d):
        for l2 in range(d):
            A[k, l2] = ((1.0 if k == l2 else 0.0) if held[k] or held[l2] else H[k, l2]) + (lam if k == l2 else 0.0)
    if not _cholesky(A, d, L):
        for k in range(d):
            zt[k] = z[k]
        return
    _chol_solve(L, d, gm, step)
    norm = 0.0
    for k in range(d):
        norm += step[k] * step[k]
    norm = math.sqrt(norm)
    shrink = min(1.0, MAX_STEP / max(norm, 1e-300))
    for k in range(d):
        zt[k] = min(max(z[k] - step[k] * shrink, -Z_LIMIT), Z_LIMIT)


@numba.njit(nogil=True)
def _restart(predict, X, S, a, b, g, z, d, dk, codes, tables, base, nv, P, inclined, vo, ie, e2, n, sa, sb, tl, ln0, tol,
             max_iter, probes, F, lognorm, conv, iterations, V, Vt, Vjac, r, rt, cols, zt, grad, step, dnorm, H,
             A, L, qtab, lg, rs):  # pragma: no cover
    """Restarts of :func:`_descend` from the prior centre z = 0 and from ẑ ± s·e_j (every axis j, every step s in
    ``probes``) around the best mode so far; a lower F (by > :data:`RESTART_GAIN`) replaces the mode, and the probes
    are repeated around it, for at most :data:`RESTART_ROUNDS` rounds. z, V, Vjac, r, H are left at the best mode;
    returns its (F, ln-normalisation, converged, iterations) and the kernel calls spent."""
    n_probe = probes.size
    zb = z.copy()
    Vb = V[:n].copy()
    Vjb = Vjac[:, :n].copy()
    rb = r[:n].copy()
    Hb = H.copy()
    centre = np.empty(4)
    calls = 0
    for rnd in range(RESTART_ROUNDS):
        improved = False
        for k in range(d):
            centre[k] = zb[k]
        first = 1 if rnd == 0 else 0
        for s_i in range(2 * d * n_probe + first):
            if s_i < first:
                for k in range(d):
                    z[k] = 0.0
            else:
                idx = s_i - first
                axis = idx // (2 * n_probe)
                size = probes[(idx % (2 * n_probe)) // 2]
                for k in range(d):
                    z[k] = centre[k]
                z[axis] = min(max(centre[axis] + (size if idx % 2 == 0 else -size), -Z_LIMIT), Z_LIMIT)
            Fs, lns, cs, its, c = _descend(predict, X, S, a, b, g, z, d, dk, codes, tables, base, nv, P, inclined, vo,
                                           ie, e2, n, sa, sb, tl, ln0, tol, max_iter, False, V, Vt, Vjac, r, rt, cols, zt,
                                           grad, step, dnorm, H, A, L, qtab, lg, rs)
            calls += c
            if Fs < F - RESTART_GAIN:
                F, lognorm, conv, iterations = Fs, lns, cs, its
                improved = True
                for k in range(d):
                    zb[k] = z[k]
                for i in range(n):
                    Vb[i] = V[i]
                    rb[i] = r[i]
                    for k in range(dk):
                        Vjb[k, i] = Vjac[k, i]
                for k in range(d):
                    for l2 in range(d):
                        Hb[k, l2] = H[k, l2]
        if not improved:
            break
    for k in range(d):
        z[k] = zb[k]
    for i in range(n):
        V[i] = Vb[i]
        r[i] = rb[i]
        for k in range(dk):
            Vjac[k, i] = Vjb[k, i]
    for k in range(d):
        for l2 in range(d):
            H[k, l2] = Hb[k, l2]
    return F, lognorm, conv, iterations, calls


@numba.njit(nogil=True)
def _predict_at(predict, X, S, a, b, g, z, dk, codes, tables, base, nv, P, out):  # pragma: no cover
    """V_pred of galaxy g into ``out`` at the Υ/D coordinates z[:dk] (the others at their ``base`` values)."""
    for k in range(3):
        nv[k] = base[g, k]
    for k in range(dk):
        nv[codes[g, k]] = _lookup(tables[g, codes[g, k]], z[k])
    predict(X, S, a, b, g, nv[0], nv[1], nv[2], P, out)


@numba.njit(nogil=True, fastmath=_FLAGS)
def _sum_squares(x, n):  # pragma: no cover
    """Σ x[:n]²."""
    total = 0.0
    for i in range(n):
        total += x[i] * x[i]
    return total


@numba.njit(nogil=True, fastmath=_FLAGS)
def _state(V, z, d, inclined, qtab, vo, ie, e2, a, n, sa, sb, tl, ln0, r, lg, rs):  # pragma: no cover
    """(F, ln-normalisation) at prediction V and z; residuals into r. F = ½Σr² − lognorm + ½|z|². The scatter of
    point i is σ_V² = sa + sb·V_i² (:attr:`~sigcube.stats.likelihood.GaussianLikelihood.scatter_terms`); ``tl`` > 0:
    Student-t errors of ν = 1/tl with that scale (:func:`student_terms`: r holds the pseudo-residuals); ``lg``: the
    log-normal model instead (:func:`_state_log`)."""
    if lg:
        return _state_log(V, z, d, inclined, qtab, vo, e2, a, n, sa, sb, ln0, r, rs)
    qi = _lookup(qtab, z[d - 1]) if inclined else 1.0
    lognorm = ln0
    if sa == 0.0 and sb == 0.0:
        for i in range(n):
            r[i] = (vo[a + i] - V[i] * qi) * ie[a + i]
    else:
        q2 = qi * qi
        for i in range(n):
            r[i] = (vo[a + i] - V[i] * qi) / math.sqrt(e2[a + i] + q2 * (sa + sb * V[i] * V[i]))
        lognorm = -_HALF_LOG_2PI * n
        i0 = 0
        while i0 < n:  # ln Π s² over runs of LOG_RUN points: one logarithm per run
            i1 = min(i0 + LOG_RUN, n)
            prod = 1.0
            for i in range(i0, i1):
                prod *= e2[a + i] + q2 * (sa + sb * V[i] * V[i])
            lognorm -= 0.5 * math.log(prod)
            i0 = i1
    if tl > 0.0:
        lognorm += student_terms(r, n, tl)
    return 0.5 * _sum_squares(r, n) - lognorm + 0.5 * _sum_squares(z, d), lognorm


@numba.njit(nogil=True)
def student_constant(tl):  # pragma: no cover
    """ln of the Student-t density's constant with ν = 1/``tl`` degrees of freedom, less the normal's (−½ ln 2π):
    ln Γ((ν+1)/2) − ln Γ(ν/2) − ½ ln νπ + ½ ln 2π; for ν > :data:`STUDENT_SERIES` its series −1/(4ν) + 1/(24ν³) −
    1/(20ν⁵) (the difference of two log-gammas loses all precision as ν grows; the series' next term is O(ν⁻⁷))."""
    if tl < 1.0 / STUDENT_SERIES:
        t2 = tl * tl
        return tl * (-0.25 + t2 * (1.0 / 24.0 - t2 / 20.0))
    nu = 1.0 / tl
    return math.lgamma(0.5 * (nu + 1.0)) - math.lgamma(0.5 * nu) - 0.5 * math.log(nu * math.pi) + _HALF_LOG_2PI


@numba.njit(nogil=True)
def student_rho(x2, tl):  # pragma: no cover
    """−ln of the standard Student-t density's kernel at r² = ``x2``, ν = 1/``tl``: ρ = ((ν+1)/2)·ln(1 + r²/ν)
    = ½(1 + 1/ν)·r²·ln(1 + y)/y, y = r²/ν (ln(1 + y)/y → 1 − y/2 below y = 1e-8: ½r² as ν → ∞)."""
    y = tl * x2
    ratio = math.log1p(y) / y if y > 1e-8 else 1.0 - 0.5 * y
    return 0.5 * (1.0 + tl) * x2 * ratio


@numba.njit(nogil=True)
def student_terms(r, n, tl):  # pragma: no cover
    """The Student-t likelihood in the Gaussian's form: each standardised residual r_i of ``r[:n]`` replaced in place by
    sign(r_i)·√(2ρ(r_i)) (½Σ of their squares is Σρ, so the Gauss–Newton machinery reads it unchanged), and the
    normalisation's change from the Gaussian's returned, n·:func:`student_constant`."""
    for i in range(n):
        t = math.sqrt(2.0 * student_rho(r[i] * r[i], tl))
        r[i] = t if r[i] >= 0.0 else -t
    return n * student_constant(tl)


@numba.njit(nogil=True, fastmath=_FLAGS)
def _state_log(V, z, d, inclined, ltab, yo, d2, a, n, sa, sb, ln0, r, rs):  # pragma: no cover
    """:func:`_state` of the log-normal model: r_i = (y_i − ln V_i − ℓ)/t_i, ℓ = ln u from the table ``ltab``,
    y = ln V_obs (``yo``), t_i² = d2_i + sa/V_i² + sb (d2 = (e_V/V_obs)²). Without a floor (sa = 0) t_i is fixed per
    pair: ``rs`` holds 1/t_i and ``ln0`` the whole normalisation; with one, ``ln0`` is the Jacobian's part
    −Σy − ½n ln 2π and the rest is summed here. V below V_MIN is held at V_MIN."""
    ell = _lookup(ltab, z[d - 1]) if inclined else 0.0
    lognorm = ln0
    if sa == 0.0:
        for i in range(n):
            r[i] = (yo[a + i] - math.log(max(V[i], V_MIN)) - ell) * rs[i]
    else:
        for i in range(n):
            vi = max(V[i], V_MIN)
            r[i] = (yo[a + i] - math.log(vi) - ell) / math.sqrt(d2[a + i] + sa / (vi * vi) + sb)
        i0 = 0
        while i0 < n:  # ln Π t² over runs of LOG_RUN points: one logarithm per run
            i1 = min(i0 + LOG_RUN, n)
            prod = 1.0
            for i in range(i0, i1):
                vi = max(V[i], V_MIN)
                prod *= d2[a + i] + sa / (vi * vi) + sb
            lognorm -= 0.5 * math.log(prod)
            i0 = i1
    return 0.5 * _sum_squares(r, n) - lognorm + 0.5 * _sum_squares(z, d), lognorm


@numba.njit(nogil=True, fastmath=_FLAGS)
def _log_moments(V, yo, d2, a, n, sa, sb, ln0, rs):  # pragma: no cover
    """(A, B, C, lognorm) of the log-normal model at prediction V: Σw(y − ln V)², Σw(y − ln V), Σw, w = 1/t² (exact
    at every ℓ: t does not depend on it), and the normalisation (:func:`_state_log`'s conventions)."""
    ma = 0.0
    mb = 0.0
    mc = 0.0
    lognorm = ln0
    i0 = 0
    while i0 < n:
        i1 = min(i0 + LOG_RUN, n)
        prod = 1.0
        for i in range(i0, i1):
            vi = max(V[i], V_MIN)
            if sa == 0.0:
                w = rs[i] * rs[i]
            else:
                t2 = d2[a + i] + sa / (vi * vi) + sb
                prod *= t2
                w = 1.0 / t2
            dv = yo[a + i] - math.log(vi)
            ma += w * dv * dv
            mb += w * dv
            mc += w
        if sa != 0.0:
            lognorm -= 0.5 * math.log(prod)
        i0 = i1
    return ma, mb, mc, lognorm


@numba.njit(nogil=True, fastmath=_FLAGS)
def _normal_equations(cols, r, z, dnorm, d, n, grad, H):  # pragma: no cover
    """grad = Jᵀr − ∂lognorm/∂z + z and H = JᵀJ + I from the Jacobian's columns ``cols`` (d × n)."""
    for jj in range(d):
        s = 0.0
        for i in range(n):
            s += cols[jj, i] * r[i]
        grad[jj] = s - dnorm[jj] + z[jj]
        for kk in range(jj, d):
            s = 0.0
            for i in range(n):
                s += cols[jj, i] * cols[kk, i]
            H[jj, kk] = s + (1.0 if jj == kk else 0.0)
            H[kk, jj] = H[jj, kk]


@numba.njit(nogil=True, fastmath=_FLAGS)
def _scale_mode(ma, mb, mc, z_start, width, qtab):  # pragma: no cover
    """(ẑ, s): Newton from ``z_start`` to the minimum of ½(A − 2Bx + Cx²) + ½z² with x(z) from ``qtab`` (its
    derivatives from the table), and the Gauss–Hermite scale there, 1/√curvature (``width`` where not convex). The
    log-normal model's; the Gaussian branch of :func:`_inclination` takes the same steps inline (compiled through this
    function its sums round differently in the last bits, and the Gaussian models' results are kept bit for bit)."""
    zc = z_start
    for _ in range(NEWTON_ITERATIONS):
        q, dq, d2q = _lookup2(qtab, zc)
        g1 = (mc * q - mb) * dq + zc
        g2 = mc * dq * dq + (mc * q - mb) * d2q + 1.0
        if g2 > 0:
            st = -g1 / g2
        else:
            st = -(1.0 if g1 > 0 else (-1.0 if g1 < 0 else 0.0)) * width
        st = min(max(st, -1.0), 1.0)
        zc = min(max(zc + st, -Z_LIMIT), Z_LIMIT)
        if abs(st) < NEWTON_TOL:
            break
    q, dq, d2q = _lookup2(qtab, zc)
    curv = mc * dq * dq + (mc * q - mb) * d2q + 1.0
    return zc, (1.0 / math.sqrt(curv) if curv > 0 else width)


@numba.njit(nogil=True, fastmath=_FLAGS)
def _inclination(V, z_start, width, qtab, vo, ie, e2, a, n, sa, sb, tl, ln0, sum_oo, gh_x, gh_lw, inner, cv, lg,
                 rs):  # pragma: no cover
    """ln ∫ L(z_i) φ(z_i) dz_i at prediction V: Newton to the conditional mode on the moments (A, B, C) with the
    table's derivatives of the scale coordinate (1/q, or ln u under the log-normal model ``lg``), then Gauss–Hermite
    there, scaled by the curvature (:func:`_scale_mode`). The likelihood at each node is exact: from the moments when
    they are exact (σ_int = 0 without a floor, or the log-normal model), point by point otherwise (the moments, with
    the weights held at ``z_start``, then only place the nodes; under Student-t errors, ``tl`` > 0, the weights are
    its iteratively reweighted least-squares weights there, (1 + 1/ν)/(1 + r²/ν)/s²). ``cv``: scratch of the points'
    σ_V²."""
    if lg:
        ma, mb, mc, lognorm = _log_moments(V, vo, e2, a, n, sa, sb, ln0, rs)
        zc, s = _scale_mode(ma, mb, mc, z_start, width, qtab)
        for k in range(gh_x.size):
            zi = zc + s * gh_x[k]
            ell = _lookup(qtab, zi)
            inner[k] = (gh_lw[k] + 0.5 * gh_x[k] * gh_x[k] - 0.5 * zi * zi
                        + lognorm - 0.5 * (ma - 2.0 * ell * mb + ell * ell * mc))
        return _log_sum_exp(inner, gh_x.size) + math.log(s) - _HALF_LOG_2PI
    scatter = sa != 0.0 or sb != 0.0 or tl > 0.0
    if not scatter:
        ma = sum_oo
        mb = 0.0
        mc = 0.0
        for i in range(n):
            t = V[i] * ie[a + i]
            mb += t * vo[a + i] * ie[a + i]
            mc += t * t
    else:
        qs = _lookup(qtab, z_start)
        q2 = qs * qs
        for i in range(n):
            cv[i] = sa + sb * V[i] * V[i]
        ma = 0.0
        mb = 0.0
        mc = 0.0
        for i in range(n):
            wi = 1.0 / (e2[a + i] + q2 * cv[i])
            o = vo[a + i]
            if tl > 0.0:
                t = o - V[i] * qs
                wi *= (1.0 + tl) / (1.0 + tl * t * t * wi)
            ma += wi * o * o
            mb += wi * o * V[i]
            mc += wi * V[i] * V[i]
    zc = z_start
    for _ in range(NEWTON_ITERATIONS):
        q, dq, d2q = _lookup2(qtab, zc)
        g1 = (mc * q - mb) * dq + zc
        g2 = mc * dq * dq + (mc * q - mb) * d2q + 1.0
        if g2 > 0:
            st = -g1 / g2
        else:
            st = -(1.0 if g1 > 0 else (-1.0 if g1 < 0 else 0.0)) * width
        st = min(max(st, -1.0), 1.0)
        zc = min(max(zc + st, -Z_LIMIT), Z_LIMIT)
        if abs(st) < NEWTON_TOL:
            break
    q, dq, d2q = _lookup2(qtab, zc)
    curv = mc * dq * dq + (mc * q - mb) * d2q + 1.0
    s = 1.0 / math.sqrt(curv) if curv > 0 else width
    for k in range(gh_x.size):
        zi = zc + s * gh_x[k]
        qi = _lookup(qtab, zi)
        if not scatter:
            lnl = ln0 - 0.5 * (sum_oo - 2.0 * qi * mb + qi * qi * mc)
        else:
            lnl = -_HALF_LOG_2PI * n
            q2 = qi * qi
            half = 0.0
            i0 = 0
            while i0 < n:  # ln Π s² over runs of LOG_RUN points: one logarithm per run
                i1 = min(i0 + LOG_RUN, n)
                prod = 1.0
                if tl > 0.0:
                    for i in range(i0, i1):
                        s2 = e2[a + i] + q2 * cv[i]
                        prod *= s2
                        t = vo[a + i] - V[i] * qi
                        half += 2.0 * student_rho(t * t / s2, tl)
                else:
                    for i in range(i0, i1):
                        s2 = e2[a + i] + q2 * cv[i]
                        prod *= s2
                        t = vo[a + i] - V[i] * qi
                        half += t * t / s2
                lnl -= 0.5 * math.log(prod)
                i0 = i1
            lnl -= 0.5 * half
            if tl > 0.0:
                lnl += n * student_constant(tl)
        inner[k] = gh_lw[k] + 0.5 * gh_x[k] * gh_x[k] - 0.5 * zi * zi + lnl
    return _log_sum_exp(inner, gh_x.size) + math.log(s) - _HALF_LOG_2PI


@numba.njit(nogil=True, cache=True)
def _lookup_rows(tables, index, z, out):  # pragma: no cover
    for j in range(z.shape[0]):
        for g in range(z.shape[1]):
            out[j, g] = _lookup(tables[index[j], g], z[j, g])


def lookup(tables: np.ndarray, index: np.ndarray, z: np.ndarray) -> np.ndarray:
    """θ at z (m, G) by the solver's interpolation of the maps ``tables`` (T, G, TABLE_SIZE, 2), row j reading table
    ``index[j]``: the numpy path's view of a tabulated map."""
    z = np.ascontiguousarray(z, dtype=float)
    out = np.empty(z.shape)
    _lookup_rows(np.ascontiguousarray(tables, dtype=float), np.ascontiguousarray(index, dtype=np.int64), z, out)
    return out
