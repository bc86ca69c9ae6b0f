"""A kernel at any nuisance values, compiled: one galaxy's V_pred from Υ_disk, Υ_bul and D in one numba loop.

:class:`~sigcube.stats.nuisance.NuisanceTransform` maps nuisance values to a kernel's inputs with numpy
arrays; this module writes the same rules (:data:`~sigcube.stats.nuisance.INPUT_RULES`) as scalar code,
followed by the kernel's own formula traced to scalar code (:mod:`sigcube.compute.tracer`), and compiles the
whole per-galaxy loop with numba::

    predict(X, S, a, b, g, ud, ub, dl, P, out)   # out[i − a] = V_pred [km/s] at point i of galaxy g

``X`` holds the per-point base arrays (:data:`POINT_ROWS`, the components at Υ = 1 and the catalogue
distance), ``S`` the per-galaxy ones (:data:`GALAXY_COLUMNS`), ``a:b`` the galaxy's points, ``ud``, ``ub`` the
mass-to-light ratios, ``dl`` = D/D0, ``P`` the kernel's variable parameters in :attr:`Compiled.params` order.
Per-galaxy derived inputs (V_bar_max, σ_eff's weights, Ω_d, M_b, M★) are computed once per call, before the loop, and
so is every step of the kernel that reads only those and the parameters (a halo's M200 from M★, its μ(c): the trace's
per-galaxy part). The derived inputs' formulas are :mod:`sigcube.model.inputs`' own functions, compiled (the generated
source only wires them to the arrays). ``tests/compute/test_nuisance_codegen.py`` checks it against the numpy
transform and the kernel's numpy function.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
from numba import types
from numba.core.errors import NumbaError

from sigcube.compute.tracer import Untraceable, trace
from sigcube.constants import ACCEL_KM2_S2_PER_KPC
from sigcube.model.inputs import (
    RD_SOURCES, baryonic_mass, baryonic_v2, dispersion_weights, omega_d_input, rd_input, stellar_mass,
    stellar_surface_density,
)
from sigcube.model.kernels.registry import Kernel
from sigcube.stats.nuisance import V2_FLOOR, NuisanceTransform

POINT_ROWS = ("r0", "gas2", "disk2", "bul2", "v_gas1", "v_disk1", "v_bul1", "accel_r0",
              *(f"{rd_input(s)}0" for s in RD_SOURCES), "sb_disk", "sb_bul", "f_bulge", "Sigma_gas")
"""Rows of X: r at D0 [kpc]; sign(V_gas)V_gas², V_disk², V_bul² at Υ = 1 [(km/s)²]; the components at Υ = 1
[km/s]; (km/s)²/kpc → m/s² over r [1/kpc]; each R_d at D0 [kpc]; surface brightness [L☉/pc²]; the invariants."""
GALAXY_COLUMNS = ("peak_gas", "peak_disk", "peak_bul", "L36", "L_bul", "M_HI",
                  *(f"{c}_{s}" for s in RD_SOURCES for c in ("interp_j", "interp_t", "rd0")))
"""Columns of S: squared peak |V| of each component at Υ = 1; L[3.6], the bulge's L_bul [1e9 L☉] and M_HI [1e9 M☉];
per R_d source
the point j and weight t of V_bar(R_d) = (1 − t)·V_bar[j] + t·V_bar[j + 1] and R_d at D0 [kpc]."""

PREDICT_SIGNATURE = types.void(types.float64[:, ::1], types.float64[:, ::1], types.int64, types.int64, types.int64,
                               types.float64, types.float64, types.float64, types.float64[::1], types.float64[::1])
"""``predict``'s signature: a compiled C function of this type is a first-class function to numba, so the pair solver
that calls it (:mod:`sigcube.compute.quadrature_compiled`) is compiled once and cached on disk for every kernel."""

_ROW = {name: i for i, name in enumerate(POINT_ROWS)}
_COL = {name: i for i, name in enumerate(GALAXY_COLUMNS)}

# The scalar expression of every supported input, inside the point loop (x(row) reads X[row, i]).
_POINT_EXPRESSIONS: dict[str, str] = {
    "r": "x('r0') * dl",
    "v_bar": "math.sqrt(u2 * dl)",
    "g_N": "u2 * x('accel_r0')",
    "v_gas": "x('v_gas1') * sqd",
    "v_disk": "x('v_disk1') * (math.sqrt(ud) * sqd)",
    "v_bul": "x('v_bul1') * (math.sqrt(ub) * sqd)",
    "Sigma_star": "_sstar(ud, ub, x('sb_disk'), x('sb_bul'))",
    "f_bulge": "x('f_bulge')",
    "Sigma_gas": "x('Sigma_gas')",
    **{rd_input(s): f"x('{rd_input(s)}0') * dl" for s in RD_SOURCES},
}
_GALAXY_INPUTS = {"V_bar_max", "w_gas", "w_disk", "w_bul", "M_b", "M_star", *(omega_d_input(s) for s in RD_SOURCES)}
SUPPORTED_INPUTS = frozenset(_POINT_EXPRESSIONS) | _GALAXY_INPUTS
"""Kernel inputs the compiled transform computes (every input of INPUT_RULES)."""


@dataclass(frozen=True)
class Compiled:
    """A compiled per-galaxy predict function and what it reads."""

    predict: Any
    """The compiled function ``predict(X, S, a, b, g, ud, ub, dl, P, out)`` (a numba ``cfunc`` of
    :data:`PREDICT_SIGNATURE`)."""
    params: tuple[str, ...]
    """The variable parameters, in the order of ``P``."""
    source: str


_CACHE: dict[str, Compiled] = {}
"""Compiled functions of this process, by source text."""


def compile_predict(kernel: Kernel, params: Mapping[str, Any], variable: Sequence[str]) -> Compiled | None:
    """The compiled predict of ``kernel`` with the ``variable`` parameters as arguments (the others fixed at their
    resolved values in ``params``), or None when the kernel cannot be traced to scalar code, reads an input the
    compiled transform does not support or uses a ufunc numba cannot compile (callers then use the numpy path)."""
    inputs = kernel.required_inputs(params)
    if not set(inputs) <= SUPPORTED_INPUTS:
        return None
    try:
        program = trace(kernel, params, tuple(variable), inputs)
    except Untraceable:
        return None
    point_source, constants, n_hoisted = program.source("point", _GALAXY_INPUTS)
    body = _predict_source(inputs, len(variable), n_hoisted)
    source = point_source + "\n" + body
    key = source + repr(sorted(constants.items()))
    if key not in _CACHE:
        namespace: dict[str, Any] = {"np": np, "math": math, **constants, **_formulas()}
        exec(compile(point_source, f"<sigcube kernel {kernel.name}>", "exec"), namespace)  # noqa: S102
        for name in ("point", "point_invariant")[:1 + (n_hoisted > 0)]:
            namespace[name] = numba.njit(inline="always", nogil=True)(namespace[name])
        exec(compile(body, f"<sigcube predict {kernel.name}>", "exec"), namespace)  # noqa: S102
        try:
            predict = numba.cfunc(PREDICT_SIGNATURE, nogil=True)(namespace["predict"])
        except NumbaError:  # a ufunc numba cannot compile on scalars (np.heaviside, np.ldexp, …)
            return None
        _CACHE[key] = Compiled(predict, tuple(variable), source)
    return _CACHE[key]


@functools.cache
def _formulas() -> dict[str, Any]:
    """The derived inputs' formulas of :mod:`sigcube.model.inputs`, compiled for the generated code to call (the
    formulas are written there once; the generated code only wires them to the galaxy's arrays)."""
    jit = numba.njit(inline="always", nogil=True)
    return {"_v2": jit(baryonic_v2), "_weights": jit(dispersion_weights), "_mass": jit(baryonic_mass),
            "_sstar": jit(stellar_surface_density), "_smass": jit(stellar_mass)}


def _predict_source(inputs: Sequence[str], n_params: int, n_hoisted: int) -> str:
    """The body of ``predict``: per-galaxy derived inputs, the kernel's per-galaxy part (``point_invariant``, when the
    trace hoisted ``n_hoisted`` values out of the points), then the point loop calling ``point``."""
    def x(row: str, index: str = "i") -> str:
        return f"X[{_ROW[row]}, {index}]"

    def s(col: str) -> str:
        return f"S[g, {_COL[col]}]"

    def u2_at(index: str) -> str:
        return f"max(_v2({x('gas2', index)}, {x('disk2', index)}, {x('bul2', index)}, ud, ub), {V2_FLOOR!r})"

    lines = ["def predict(X, S, a, b, g, ud, ub, dl, P, out):", "    sqd = math.sqrt(dl)"]
    lines += [f"    par_{k} = P[{k}]" for k in range(n_params)]
    if "V_bar_max" in inputs:
        lines += ["    vmax = 0.0", "    for i in range(a, b):",
                  f"        vmax = max(vmax, math.sqrt({u2_at('i')} * dl))"]
    if {"w_gas", "w_disk", "w_bul"} & set(inputs):
        lines.append(f"    w_gas, w_disk, w_bul = _weights({s('peak_gas')}, ud * {s('peak_disk')}, ub * {s('peak_bul')})")
    for source in RD_SOURCES:
        if omega_d_input(source) in inputs:
            j, t = f"j_{source}", f"t_{source}"
            lines += [f"    {j} = int({s(f'interp_j_{source}')})", f"    {t} = {s(f'interp_t_{source}')}",
                      f"    {j}1 = min({j} + 1, X.shape[1] - 1)",
                      f"    om_{source} = ((1.0 - {t}) * math.sqrt({u2_at(j)} * dl) + {t} * math.sqrt({u2_at(j + '1')} "
                      f"* dl)) / ({s(f'rd0_{source}')} * dl)"]
    if "M_b" in inputs:
        lines.append(f"    m_b = _mass(ud, {s('L36')}, {s('M_HI')}, dl)")
    if "M_star" in inputs:
        lines.append(f"    m_star = _smass(ud, ub, {s('L36')}, {s('L_bul')}, dl)")
    galaxy = {"V_bar_max": "vmax", "w_gas": "w_gas", "w_disk": "w_disk", "w_bul": "w_bul", "M_b": "m_b",
              "M_star": "m_star",
              **{omega_d_input(s_): f"om_{s_}" for s_ in RD_SOURCES}}
    hoisted = [f"h{k}" for k in range(n_hoisted)]
    if hoisted:
        once = [galaxy[name] for name in inputs if name in galaxy] + [f"par_{k}" for k in range(n_params)]
        lines.append(f"    {', '.join(hoisted)}, = point_invariant({', '.join(once)})")
    lines += ["    for i in range(a, b):", f"        u2 = {u2_at('i')}"]
    args = []
    for k, name in enumerate(inputs):
        if name in galaxy:
            args.append(galaxy[name])
            continue
        expr = _POINT_EXPRESSIONS[name]
        for row in POINT_ROWS:
            expr = expr.replace(f"x('{row}')", x(row))
        lines.append(f"        in_{k} = {expr}")
        args.append(f"in_{k}")
    args += [f"par_{k}" for k in range(n_params)] + hoisted
    lines.append(f"        out[i - a] = point({', '.join(args)})")
    return "\n".join(lines) + "\n"


def layout(transform: NuisanceTransform) -> tuple[np.ndarray, np.ndarray]:
    """(X, S) of ``transform``'s galaxies: :data:`POINT_ROWS` × points and galaxies × :data:`GALAXY_COLUMNS`."""
    p = transform.points.inputs
    n, g = transform.n_points, transform.n_galaxies
    starts = transform.offsets[:-1]
    zeros = np.zeros(n)
    rows = {"r0": transform.r0, "gas2": transform.gas2, "disk2": transform.disk2, "bul2": transform.bul2,
            "v_gas1": transform.unit["v_gas"], "v_disk1": transform.unit["v_disk"], "v_bul1": transform.unit["v_bul"],
            "accel_r0": ACCEL_KM2_S2_PER_KPC / transform.r0,
            **{f"{rd_input(s)}0": p.get(rd_input(s), zeros) for s in RD_SOURCES},
            **{k: transform.catalogue.point_columns.get(k, zeros) for k in ("sb_disk", "sb_bul")},
            **{k: p.get(k, zeros) for k in ("f_bulge", "Sigma_gas")}}
    X = np.ascontiguousarray(np.stack([np.asarray(rows[name], dtype=float) for name in POINT_ROWS]))
    columns = {"peak_gas": transform.peaks["gas"], "peak_disk": transform.peaks["disk"],
               "peak_bul": transform.peaks["bul"],
               **{k: transform.catalogue.columns.get(k, np.zeros(g)) for k in ("L36", "L_bul", "M_HI")}}
    for source in RD_SOURCES:
        j, t = transform.interp.get(source, (np.zeros(g, dtype=np.int64), np.zeros(g)))
        columns[f"interp_j_{source}"] = j.astype(float)
        columns[f"interp_t_{source}"] = t
        columns[f"rd0_{source}"] = p[rd_input(source)][starts] if rd_input(source) in p else np.ones(g)
    S = np.ascontiguousarray(np.stack([np.asarray(columns[name], dtype=float) for name in GALAXY_COLUMNS], axis=1))
    return X, S


@numba.njit(nogil=True, cache=True)
def _evaluate(predict, X, S, offsets, nuisance, P, out):  # pragma: no cover
    for g in range(offsets.size - 1):
        predict(X, S, offsets[g], offsets[g + 1], g, nuisance[g, 0], nuisance[g, 1], nuisance[g, 2], P[g],
                out[offsets[g]:offsets[g + 1]])


def evaluate(compiled: Compiled, transform: NuisanceTransform, nuisance: np.ndarray, params: np.ndarray) -> np.ndarray:
    """V_pred [km/s] of every point of ``transform``'s galaxies by the compiled ``predict``: ``nuisance`` (G, 3) holds
    each galaxy's Υ_disk, Υ_bul and D/D0, ``params`` (G, k) its values of the variable parameters."""
    X, S = layout(transform)
    out = np.empty(transform.n_points)
    _evaluate(compiled.predict, X, S, np.ascontiguousarray(transform.offsets, dtype=np.int64),
              np.ascontiguousarray(nuisance, dtype=float), np.ascontiguousarray(params, dtype=float), out)
    return out
