"""The generic fast path: any kernel's own numpy function, evaluated and reduced in cache-sized pieces.

Every kernel gets it, plugins included (a kernel's own :class:`~sigcube.model.kernels.registry.FastReduce`
takes precedence where it applies). The formula is written once, as the kernel function; this module
only decides *how often* each part of it runs:

1. **Trace** (once per block). The kernel function is called with every swept parameter replaced by a
   tracer. numpy evaluates at once whatever no tracer enters — that is the hoisting: point-only
   sub-expressions (h(g_N), a window of fixed shape, the resonance integral when only its amplitude is
   swept) are computed once, on the point axis. Each ufunc a tracer enters is recorded instead, with
   the domain it needs: the grid axis alone (``PARAM``, e.g. A0·(L/L0)^n), the grid × objects
   (``OBJECT``: every operand constant within each object, like R_d, V_bar_max or σ_eff's weights),
   or grid × points (``POINT``). An ``OBJECT`` value is expanded to the points only where it meets a
   per-point operand.
2. **Replay** (per sub-batch). The recorded ufuncs run again on m grid points (swept values shaped
   (m, 1)) × one tile of whole objects, into buffers reused by liveness, with
   m × tile points ≈ :data:`SUB_BATCH_ELEMENTS` so that they stay in cache; each (tile, m) is bound
   once into argument-free steps. exp, expm1, log, log1p, √ and x^−½ run as :mod:`sigcube.compute.vecmath`'s
   SIMD loops.
3. **Reduce**. ln V_pred into a buffer (:mod:`sigcube.compute.vecmath`'s SIMD loop), then one numba pass:
   per-object Σd² and Σ(d/e)² (d = V_pred − V_obs) eight grid rows at a time, and Σx, Σx² of
   x = log10(V_obs/V_pred).

A kernel the tracer cannot follow (a numpy function that is not a ufunc, a branch or indexing on a
swept parameter, a ufunc method or keyword) is called directly on each sub-batch instead: the same
tiles, buffers and reductions, without hoisting across sub-batches.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np

from sigcube.compute import vecmath
from sigcube.compute.tracer import POWER_SHORTCUTS, Traced, Untraceable
from sigcube.model.kernels.registry import Kernel
from sigcube.model.metrics import Reduction
from sigcube.model.points import PointSet
from sigcube.model.segments import object_tiles

SUB_BATCH_ELEMENTS = 65_536
"""Grid points × points per sub-batch (512 KiB per float64 buffer; tuned by ``bench/kernel_throughput.py``)."""

ROWS = 8
"""Grid points the residual pass reduces together (sub-batches are multiples of it)."""

PARAM, OBJECT, POINT = 0, 1, 2
"""Domains of a traced value: (m, 1) grid only, (m, n_objects), (m, n_points)."""

_INV_LN10 = 1.0 / math.log(10.0)


_POWER_SHORTCUTS = {**{float(e): getattr(np, name) for e, name in POWER_SHORTCUTS.items()}, -0.5: vecmath.inverse_sqrt}
"""x**e computed without np.power: the exponents ndarray.__pow__ itself shortcuts (the same values), and −0.5
(Burr-XII's n_coh = ½, CMSI's n = 2 profile)."""


# --- numba passes -----------------------------------------------------------------------------------------

_FLAGS = {"reassoc", "contract"}
"""Reassociation for vectorised sums, fused multiply-add; NaN and ∞ keep their meaning."""


@numba.njit(nogil=True, cache=True, inline="always", fastmath=_FLAGS)
def _add_residual(ss: float, cc: float, d: float, inv_e: float) -> tuple[float, float]:  # pragma: no cover
    t = d * inv_e
    return ss + d * d, cc + t * t


@numba.njit("void(f8[:, ::1], f8[:, ::1], f8[::1], f8[::1], f8[::1], i8[::1], f8[:, :], f8[:, :], f8[::1], f8[::1])",
            nogil=True, cache=True, fastmath=_FLAGS)
def reduce_rows(v, log_v, v_obs, inv_e, log10_obs, offsets, rms, chi2, sum_x, sum_xx):  # pragma: no cover
    """Per-object RMS and χ² of the rows of ``v`` (m × points) into ``rms``, ``chi2`` (m × objects);
    Σx, Σx² of x = log10(V_obs) − ln(V)/ln 10 added to ``sum_x``, ``sum_xx`` (m).

    The compiled twin of :func:`sigcube.model.metrics.object_metrics` and :func:`~sigcube.model.metrics.log_moments`
    (one pass, no temporaries), which stay the definitions: ``tests/compute/test_replay.py`` checks every kernel's
    blocks against them."""
    m, n = v.shape
    n_obj = offsets.size - 1
    for j in range(m):
        sx = 0.0
        sxx = 0.0
        for i in range(n):
            x = log10_obs[i] - _INV_LN10 * log_v[j, i]
            sx += x
            sxx += x * x
        sum_x[j] += sx
        sum_xx[j] += sxx
    j = 0
    while j + ROWS <= m:  # eight rows share each point's loads; eight independent sums per quantity
        v0, v1, v2, v3, v4, v5, v6, v7 = v[j], v[j + 1], v[j + 2], v[j + 3], v[j + 4], v[j + 5], v[j + 6], v[j + 7]
        for g in range(n_obj):
            s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
            c0 = c1 = c2 = c3 = c4 = c5 = c6 = c7 = 0.0
            for i in range(offsets[g], offsets[g + 1]):
                o = v_obs[i]
                e = inv_e[i]
                s0, c0 = _add_residual(s0, c0, v0[i] - o, e)
                s1, c1 = _add_residual(s1, c1, v1[i] - o, e)
                s2, c2 = _add_residual(s2, c2, v2[i] - o, e)
                s3, c3 = _add_residual(s3, c3, v3[i] - o, e)
                s4, c4 = _add_residual(s4, c4, v4[i] - o, e)
                s5, c5 = _add_residual(s5, c5, v5[i] - o, e)
                s6, c6 = _add_residual(s6, c6, v6[i] - o, e)
                s7, c7 = _add_residual(s7, c7, v7[i] - o, e)
            k = offsets[g + 1] - offsets[g]
            for r, s, c in ((0, s0, c0), (1, s1, c1), (2, s2, c2), (3, s3, c3),
                            (4, s4, c4), (5, s5, c5), (6, s6, c6), (7, s7, c7)):
                rms[j + r, g] = math.sqrt(s / k)
                chi2[j + r, g] = c
        j += ROWS
    for jj in range(j, m):
        row = v[jj]
        for g in range(n_obj):
            s = 0.0
            c = 0.0
            for i in range(offsets[g], offsets[g + 1]):
                s, c = _add_residual(s, c, row[i] - v_obs[i], inv_e[i])
            rms[jj, g] = math.sqrt(s / (offsets[g + 1] - offsets[g]))
            chi2[jj, g] = c


@numba.njit("void(f8[:, ::1], i8[::1], f8[:, ::1])", nogil=True, cache=True)
def _expand(per_object, offsets, out):  # pragma: no cover
    """Each object's value repeated on its points: (m, objects) → (m, points)."""
    for j in range(per_object.shape[0]):
        for g in range(offsets.size - 1):
            value = per_object[j, g]
            for i in range(offsets[g], offsets[g + 1]):
                out[j, i] = value


# --- tiles and sub-batches --------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Tile:
    """Whole objects [g0, g1) and their points [p0, p1), with the grid points per sub-batch."""

    g0: int
    g1: int
    p0: int
    p1: int
    rows: int

    @property
    def width(self) -> int:
        return self.p1 - self.p0


def _tiles(offsets: np.ndarray, n_grid: int) -> list[_Tile]:
    """Objects grouped into tiles of at most SUB_BATCH_ELEMENTS/ROWS points (an object larger than that alone),
    each with the grid points per sub-batch: a multiple of ROWS filling SUB_BATCH_ELEMENTS, at most ``n_grid``."""
    tiles = []
    for g0, g1 in object_tiles(offsets, SUB_BATCH_ELEMENTS // ROWS):
        width = int(offsets[g1] - offsets[g0])
        rows = min(max(ROWS, SUB_BATCH_ELEMENTS // max(width, 1) // ROWS * ROWS), n_grid)
        tiles.append(_Tile(g0, g1, int(offsets[g0]), int(offsets[g1]), rows))
    return tiles


# --- the trace ----------------------------------------------------------------------------------------------

Operand = tuple[str, Any]
"""("node", index) · ("param", name) · ("leaf", (index, per_object)) · ("const", value)."""


@dataclass(frozen=True)
class _Node:
    """One recorded ufunc (``ufunc`` None: expand operand 0 to ``domain``) and its output's domain and dtype."""

    ufunc: np.ufunc | None
    operands: tuple[Operand, ...]
    domain: int
    dtype: np.dtype


class _Swept(Traced):
    """A value that depends on the swept parameters (its tape: the :class:`_Trace`), with the probe's shape."""

    __slots__ = ()

    @property
    def shape(self) -> tuple[int, ...]:
        return self.tape.probe(self.ref).shape

    @property
    def ndim(self) -> int:
        return 2

    @property
    def dtype(self) -> np.dtype:
        return self.tape.probe(self.ref).dtype


class _Trace:
    """The recorded ufuncs of one kernel call, with each value evaluated for one grid point (the probe)."""

    def __init__(self, points: PointSet, first: Mapping[str, float]) -> None:
        self.n_points = points.n_points
        self.offsets = np.ascontiguousarray(points.offsets, dtype=np.int64)
        counts = np.diff(self.offsets)
        self._starts = self.offsets[:-1] if counts.all() else None  # no per-object values with empty objects
        self.counts = counts
        self.nodes: list[_Node] = []
        self.leaves: list[tuple[np.ndarray, np.ndarray | None]] = []
        self._leaf_of: dict[int, int] = {}
        self._probes: list[np.ndarray] = []
        self._first = {name: np.full((1, 1), value) for name, value in first.items()}
        self.swept_names = tuple(first)
        self._expanded: dict[Operand, int] = {}
        self._held: list[Any] = []  # the operands behind _leaf_of's ids, alive while the trace is
        self.out: Operand = ("const", None)
        """The operand holding V_pred (set by :meth:`output`)."""

    def swept(self, name: str) -> _Swept:
        return _Swept(self, ("param", name))

    def domain(self, op: Operand) -> int:
        kind, ref = op
        if kind == "node":
            return self.nodes[ref].domain
        if kind == "leaf":
            return OBJECT if self.leaves[ref[0]][1] is not None else POINT
        return PARAM if kind == "param" else -1

    def probe(self, op: Operand, domain: int = POINT) -> Any:
        """The operand's value for the first grid point, in the representation of ``domain``."""
        kind, ref = op
        if kind == "node":
            return self._probes[ref]
        if kind == "param":
            return self._first[ref]
        if kind == "leaf":
            full, per_object = self.leaves[ref[0]]
            return per_object if domain == OBJECT else full
        return ref

    def _operand(self, value: Any) -> Operand:
        if isinstance(value, _Swept):
            if value.tape is not self:
                raise Untraceable("a value traced in another call")
            return value.ref
        arr = np.asarray(value)
        if arr.dtype.kind not in "biuf":
            raise Untraceable(f"an operand of dtype {arr.dtype}")
        if arr.size == 1:
            return ("const", value)
        if arr.shape != (self.n_points,):
            raise Untraceable(f"an operand of shape {arr.shape} (not one value per point)")
        index = self._leaf_of.get(id(value))
        if index is None:
            per_object = None
            if self._starts is not None:
                first = arr[self._starts]
                if np.array_equal(np.repeat(first, self.counts), arr):
                    per_object = np.ascontiguousarray(first)
            index = len(self.leaves)
            self.leaves.append((arr, per_object))
            self._leaf_of[id(value)] = index
            self._held.append(value)
        return ("leaf", (index, self.leaves[index][1] is not None))

    def _add(self, node: _Node, probe: np.ndarray) -> _Swept:
        self.nodes.append(node)
        self._probes.append(probe)
        return _Swept(self, ("node", len(self.nodes) - 1))

    def _lift(self, op: Operand, domain: int) -> Operand:
        """``op`` usable in a ``domain`` ufunc: a traced OBJECT value meeting POINT operands is expanded first."""
        if domain == POINT and op[0] == "node" and self.domain(op) == OBJECT:
            if op not in self._expanded:
                full = np.repeat(self.probe(op), self.counts, axis=-1)
                self._expanded[op] = len(self.nodes)
                self._add(_Node(None, (op,), POINT, full.dtype), full)
            return ("node", self._expanded[op])
        return op

    def record(self, ufunc: np.ufunc, inputs: tuple[Any, ...]) -> _Swept:
        if ufunc.nout != 1 or ufunc.signature is not None:
            raise Untraceable(f"{ufunc.__name__} is not an elementwise ufunc with one output")
        ops = [self._operand(x) for x in inputs]
        if ufunc is np.power and ops[1][0] == "const" and np.ndim(ops[1][1]) == 0:
            shortcut = _POWER_SHORTCUTS.get(float(ops[1][1]))
            base = self.probe(ops[0], self.domain(ops[0]))
            if shortcut is not None and np.result_type(base) == np.float64:
                ufunc, ops = shortcut, ops[:1]
        domain = max(PARAM, *(self.domain(op) for op in ops))
        ops = [self._lift(op, domain) for op in ops]
        probe = np.asarray(ufunc(*(self.probe(op, domain) for op in ops)))
        width = {PARAM: 1, OBJECT: len(self.counts), POINT: self.n_points}[domain]
        if probe.shape != (1, width) or probe.dtype.kind not in "biuf":
            raise Untraceable(f"{ufunc.__name__} gave shape {probe.shape}, dtype {probe.dtype}")
        return self._add(_Node(ufunc, tuple(ops), domain, probe.dtype), probe)

    def output(self, value: Any) -> Operand:
        """The operand holding V_pred over the points (float64), expanding a PARAM or OBJECT result."""
        op = value.ref
        if self.domain(op) != POINT:
            full = np.broadcast_to(self.probe(op), (1, self.n_points)) if self.domain(op) == PARAM \
                else np.repeat(self.probe(op), self.counts, axis=-1)
            self._add(_Node(None, (op,), POINT, full.dtype), np.ascontiguousarray(full))
            op = ("node", len(self.nodes) - 1)
        if self.nodes[op[1]].dtype != np.float64:
            raise Untraceable(f"V_pred of dtype {self.nodes[op[1]].dtype}")
        return op


# --- replay -----------------------------------------------------------------------------------------------

class _Replay:
    """Buffers for a trace's nodes (slots shared by liveness) and the loop over its nodes."""

    def __init__(self, trace: _Trace, tiles: list[_Tile]) -> None:
        self.trace = trace
        self.out = trace.out[1]
        nodes = trace.nodes
        last = {}
        for i, node in enumerate(nodes):
            for kind, ref in node.operands:
                if kind == "node":
                    last[ref] = i
        last[self.out] = len(nodes)
        free: dict[tuple[int, np.dtype], list[int]] = {}
        self.slot: list[int] = []
        kinds: list[tuple[int, np.dtype]] = []
        for i, node in enumerate(nodes):
            if node.ufunc is not None:  # an elementwise ufunc may write over an operand it reads last
                for ref in {ref for kind, ref in node.operands if kind == "node" and last[ref] == i}:
                    free.setdefault((nodes[ref].domain, nodes[ref].dtype), []).append(self.slot[ref])
            key = (node.domain, node.dtype)
            if free.get(key):
                self.slot.append(free[key].pop())
            else:
                self.slot.append(len(kinds))
                kinds.append(key)
            if node.ufunc is None:
                for ref in {ref for kind, ref in node.operands if kind == "node" and last[ref] == i}:
                    free.setdefault((nodes[ref].domain, nodes[ref].dtype), []).append(self.slot[ref])
        size = {PARAM: max(t.rows for t in tiles), OBJECT: max(t.rows * (t.g1 - t.g0) for t in tiles),
                POINT: max(t.rows * t.width for t in tiles)}
        self.buffers = [np.empty(size[d], dtype=dt) for d, dt in kinds]
        self._programs: dict[tuple[_Tile, int], tuple[list[Callable[[], Any]], dict[str, np.ndarray], np.ndarray]] = {}

    def run(self, tile: _Tile, params: Mapping[str, np.ndarray], m: int) -> np.ndarray:
        """V_pred of ``m`` grid points (``params``: each swept parameter shaped (m, 1)) on ``tile``: (m, width)."""
        program = self._programs.get((tile, m))
        if program is None:
            program = self._programs[(tile, m)] = self._program(tile, m)
        steps, swept, result = program
        for name, buffer in swept.items():
            buffer[...] = params[name]
        for step in steps:
            step()
        return result

    def _program(self, tile: _Tile, m: int) -> tuple[list[Callable[[], Any]], dict[str, np.ndarray], np.ndarray]:
        """The replay on ``tile`` with ``m`` grid points bound once (views of the buffers, the leaves' slices, the
        loops): its steps, the (m, 1) buffers that take the swept values, and the view that ends up holding V_pred.
        A sub-batch then costs one call per node and no Python bookkeeping."""
        trace = self.trace
        widths = {PARAM: 1, OBJECT: tile.g1 - tile.g0, POINT: tile.width}
        swept = {name: np.empty((m, 1)) for name in trace.swept_names}
        counts = np.diff(trace.offsets[tile.g0:tile.g1 + 1])
        values: list[np.ndarray] = []
        steps: list[Callable[[], Any]] = []
        for i, node in enumerate(trace.nodes):
            out = self.buffers[self.slot[i]][:m * widths[node.domain]].reshape(m, widths[node.domain])
            args = [self._resolve(op, node.domain, tile, swept, values) for op in node.operands]
            source = trace.domain(node.operands[0])
            if node.ufunc is None and source == OBJECT and node.dtype == np.float64:
                steps.append(functools.partial(_expand, args[0], trace.offsets[tile.g0:tile.g1 + 1] - tile.p0, out))
            elif node.ufunc is None and source == PARAM:
                steps.append(functools.partial(np.copyto, out, args[0]))
            elif node.ufunc is None:  # an OBJECT value of another dtype
                steps.append(functools.partial(_repeat_into, out, args[0], counts))
            elif len(args) == 1:  # √, x^−½, exp, expm1, log, log1p by SIMD loops (numpy's exp and log call the C
                steps.append(vecmath.bind(node.ufunc, args[0], out))  # library per value without AVX-512)
            else:
                steps.append(functools.partial(node.ufunc, *args, out=out))
            values.append(out)
        return steps, swept, values[self.out]

    def _resolve(self, op: Operand, domain: int, tile: _Tile, params: Mapping[str, np.ndarray],
                 values: list[np.ndarray]) -> Any:
        kind, ref = op
        if kind == "node":
            return values[ref]
        if kind == "param":
            return params[ref]
        if kind == "leaf":
            full, per_object = self.trace.leaves[ref[0]]
            return per_object[tile.g0:tile.g1] if domain == OBJECT else full[tile.p0:tile.p1]
        return ref


def _repeat_into(out: np.ndarray, per_object: np.ndarray, counts: np.ndarray) -> None:
    np.copyto(out, np.repeat(per_object, counts, axis=1))


# --- the path -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Observed:
    """What the reductions read, per point: V_obs [km/s], 1/e_V [s/km], log10 V_obs."""

    v_obs: np.ndarray
    inv_e: np.ndarray
    log10_obs: np.ndarray

    @classmethod
    def of(cls, points: PointSet) -> Observed:
        p = points.inputs
        v_obs = np.ascontiguousarray(p["v_obs"], dtype=float)
        return cls(v_obs, 1.0 / np.ascontiguousarray(p["e_v_obs"], dtype=float), np.log10(v_obs))


def reduce(points: PointSet, kernel: Kernel, params: Mapping[str, Any], grid: Mapping[str, np.ndarray], n_grid: int,
           curves: np.ndarray | None = None) -> Reduction:
    """The :class:`~sigcube.model.metrics.Reduction` of ``kernel`` over ``n_grid`` grid points.

    ``params`` are the resolved fixed parameters and switches, ``grid`` the swept ones as flat arrays
    of ``n_grid`` values. ``curves`` (n_grid × points), if given, receives V_pred [km/s].
    """
    grid = {k: np.ascontiguousarray(np.broadcast_to(v, (n_grid,)), dtype=float) for k, v in grid.items()}
    rms = np.empty((n_grid, points.n_galaxies))
    chi2 = np.empty_like(rms)
    sum_x, sum_xx = np.zeros(n_grid), np.zeros(n_grid)
    if n_grid == 0:
        return Reduction(rms, chi2, sum_x, sum_xx)
    evaluate = _traced(points, kernel, params, grid)
    if evaluate is None:
        evaluate = _direct(points, kernel, params)
    n_eval = 1 if isinstance(evaluate, np.ndarray) else n_grid  # V_pred the same for every grid point
    tiles = _tiles(points.offsets, n_eval)
    if isinstance(evaluate, np.ndarray):
        constant = evaluate
        evaluate = lambda tile, sub, m: constant[None, tile.p0:tile.p1]  # noqa: E731
    elif isinstance(evaluate, _Trace):
        evaluate = _Replay(evaluate, tiles).run
    obs = Observed.of(points)
    for tile in tiles:
        log_v = np.empty((tile.rows, tile.width))
        off = np.ascontiguousarray(points.offsets[tile.g0:tile.g1 + 1] - tile.p0, dtype=np.int64)
        v_obs, inv_e, log10_obs = (a[tile.p0:tile.p1] for a in (obs.v_obs, obs.inv_e, obs.log10_obs))
        for a in range(0, n_eval, tile.rows):
            b = min(a + tile.rows, n_eval)
            v = evaluate(tile, {k: x[a:b, None] for k, x in grid.items()}, b - a)
            if not (v.dtype == np.float64 and v.flags.c_contiguous and v.flags.writeable):
                v = np.array(v, dtype=float, order="C")
            vecmath.apply(np.log, v, log_v[:b - a])
            reduce_rows(v, log_v[:b - a], v_obs, inv_e, log10_obs, off, rms[a:b, tile.g0:tile.g1],
                         chi2[a:b, tile.g0:tile.g1], sum_x[a:b], sum_xx[a:b])
            if curves is not None:
                curves[a:b, tile.p0:tile.p1] = v
    if n_eval < n_grid:
        for out in (rms, chi2, sum_x, sum_xx, curves):
            if out is not None:
                out[1:] = out[:1]
    return Reduction(rms, chi2, sum_x, sum_xx)


def _traced(points: PointSet, kernel: Kernel, params: Mapping[str, Any],
            grid: Mapping[str, np.ndarray]) -> _Trace | np.ndarray | None:
    """A trace of ``kernel`` with the ``grid`` parameters swept (its output operand set), V_pred itself if no
    swept parameter reaches it, or None if the trace cannot follow the kernel."""
    trace = _Trace(points, {k: v[0] for k, v in grid.items()})
    try:
        with np.errstate(all="ignore"):  # the probe's warnings would repeat the replay's
            v = kernel.func(points.inputs, **{**params, **{k: trace.swept(k) for k in grid}})
        if not isinstance(v, _Swept):
            return np.ascontiguousarray(np.broadcast_to(np.asarray(v, dtype=float), (points.n_points,)))
        trace.out = trace.output(v)
    except Exception:  # noqa: BLE001 — what the trace cannot follow runs directly, where real errors surface
        return None
    return trace


def _direct(points: PointSet, kernel: Kernel, params: Mapping[str, Any]) -> Callable[..., np.ndarray]:
    """The kernel function called on each sub-batch and tile (no hoisting across sub-batches)."""
    def evaluate(tile: _Tile, sub: Mapping[str, np.ndarray], m: int) -> np.ndarray:
        inputs = {k: v[tile.p0:tile.p1] for k, v in points.inputs.items()}
        return np.broadcast_to(kernel.func(inputs, **{**params, **sub}), (m, tile.width))
    return evaluate


def path(points: PointSet, kernel: Kernel, params: Mapping[str, Any], grid: Mapping[str, Any]) -> str:
    """How the generic path evaluates ``kernel`` with the ``grid`` parameters swept: ``traced`` (replayed, the
    rest hoisted), ``constant`` (no swept parameter reaches V_pred) or ``direct`` (the trace cannot follow it)."""
    found = _traced(points, kernel, params, {k: np.atleast_1d(np.asarray(v, dtype=float)) for k, v in grid.items()})
    return "direct" if found is None else "constant" if isinstance(found, np.ndarray) else "traced"
