"""A kernel's numpy formula as straight-line scalar code, for compiled loops (numba).

A kernel is written once, as a numpy function of point arrays and parameters. :func:`trace` calls that function
with every input and every *variable* parameter replaced by a symbol; each ufunc a symbol enters is recorded
(the fixed parameters and switches take their values, so Python branches on them run as usual). The record is
a straight-line program of elementwise ufuncs; :meth:`ScalarProgram.source` writes it as the body of a Python
function of scalars, which numba compiles (numba evaluates numpy ufuncs on scalars with numpy's semantics).

A ufunc that is not numpy's own — a numba ``@vectorize`` function such as :mod:`sigcube.model.special`'s — is
recorded the same way and called by its object in the scalar code (numba compiles calls to its own ufuncs).

A kernel the trace cannot follow — a numpy function that is not an elementwise ufunc (``np.where``,
``np.interp``, reductions), a Python branch or an index on an input or a variable parameter, a constant array
— raises :class:`Untraceable`; callers then use the kernel's numpy function itself.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

from sigcube.model.kernels.registry import Kernel

POWER_SHORTCUTS = {2.0: "square", 0.5: "sqrt", -1.0: "reciprocal", 1.0: "positive"}
"""x**e for the exponents ndarray.__pow__ itself shortcuts (numpy computes these exactly so)."""


class Untraceable(Exception):
    """The kernel did something with an input or a variable parameter that a scalar program cannot hold."""


Operand = tuple[str, Any]
"""("input", name) · ("param", name) · ("const", float) · ("node", index)."""


@dataclass(frozen=True)
class ScalarProgram:
    """A kernel as a list of ufunc applications on scalars: ``nodes[i] = (ufunc name, operands)``.

    ``inputs`` and ``params`` are the function's arguments, in order; ``out`` is the operand holding V_pred;
    ``functions`` the ufuncs that are not numpy's, by the name the nodes give them.
    """

    kernel: str
    inputs: tuple[str, ...]
    params: tuple[str, ...]
    nodes: tuple[tuple[str, tuple[Operand, ...]], ...]
    out: Operand
    functions: tuple[tuple[str, Any], ...] = ()

    def source(self, name: str = "point", invariant: Collection[str] = ()) -> tuple[str, dict[str, Any], int]:
        """(Python source of ``def name(<inputs>, <params>[, h0, h1, …]): … return V``, its globals by name — the
        constants and the ufuncs that are not numpy's — and the number k of h arguments).

        ``invariant`` names inputs that hold one value per object (per galaxy): the nodes that read only those, the
        parameters and constants are then computed by a second function ``{name}_invariant(<those inputs>, <params>)``,
        once per object, which returns the k values ``name`` reads from them (k = 0: no second function).
        """
        constants: dict[str, Any] = dict(self.functions)
        external = set(constants)
        fixed = {i for i, n in enumerate(self.inputs) if n in invariant}
        level: list[bool] = []  # per node: computed once per object
        for _, ops in self.nodes:
            level.append(all(kind in ("const", "param") or (kind == "input" and self.inputs.index(value) in fixed)
                             or (kind == "node" and level[value]) for kind, value in ops))
        read = {value for (_, ops), once in zip(self.nodes, level) if not once
                for kind, value in ops if kind == "node" and level[value]}
        if self.out[0] == "node" and level[self.out[1]]:
            read.add(self.out[1])
        hoisted = {node: f"h{k}" for k, node in enumerate(sorted(read))}

        def ref(op: Operand, inner: bool) -> str:
            kind, value = op
            if kind == "input":
                return f"in_{self.inputs.index(value)}"
            if kind == "param":
                return f"par_{self.params.index(value)}"
            if kind == "node":
                return hoisted[value] if inner and value in hoisted else f"t{value}"
            key = f"c_{len(constants) - len(external)}"
            constants[key] = value
            return key

        def line(i: int, inner: bool) -> str:
            ufunc, ops = self.nodes[i]
            return f"    t{i} = {'' if ufunc in external else 'np.'}{ufunc}({', '.join(ref(op, inner) for op in ops)})"

        pars = [f"par_{i}" for i in range(len(self.params))]
        lines = []
        if hoisted:
            args = [f"in_{i}" for i in sorted(fixed)] + pars
            lines += [f"def {name}_invariant({', '.join(args)}):",
                      f'    """{self.kernel}: what is computed once per object."""']
            lines += [line(i, False) for i, once in enumerate(level) if once]
            lines += [f"    return ({''.join(f't{node}, ' for node in hoisted)})", ""]
        args = [f"in_{i}" for i in range(len(self.inputs))] + pars + list(hoisted.values())
        lines += [f"def {name}({', '.join(args)}):", f'    """{self.kernel}: V_pred [km/s] at one point."""']
        lines += [line(i, True) for i, once in enumerate(level) if not once]
        lines.append(f"    return {ref(self.out, True)}")
        return "\n".join(lines) + "\n", constants, len(hoisted)


class Traced(NDArrayOperatorsMixin):
    """A value a trace follows: every elementwise ufunc on it is recorded by ``tape.record(ufunc, inputs)``
    (``ref`` names the value for the tape); any other use — a numpy function that is not a ufunc, its values, a
    Python branch or an index — raises :class:`Untraceable`. Also the swept values of the sweeps' generic fast
    path (:mod:`sigcube.compute.replay`)."""

    __slots__ = ("tape", "ref")

    def __init__(self, tape: Any, ref: Any) -> None:
        self.tape = tape
        self.ref = ref

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Traced:
        if method != "__call__" or kwargs:
            raise Untraceable(f"{ufunc.__name__}.{method} with {sorted(kwargs)}")
        return self.tape.record(ufunc, inputs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        raise Untraceable(f"numpy.{func.__name__} is not an elementwise ufunc")

    def __array__(self, *args: Any, **kwargs: Any) -> np.ndarray:
        raise Untraceable("the values of a traced input or parameter were asked for")

    def _refuse(self, *args: Any) -> Any:
        raise Untraceable("a traced input or parameter was used outside a ufunc")

    __bool__ = __float__ = __int__ = __index__ = __len__ = __iter__ = __getitem__ = __setitem__ = _refuse


class _Tape:
    def __init__(self) -> None:
        self.nodes: list[tuple[str, tuple[Operand, ...]]] = []
        self.functions: dict[str, Any] = {}

    def operand(self, value: Any) -> Operand:
        if isinstance(value, Traced):
            if value.tape is not self:
                raise Untraceable("a value traced in another call")
            return value.ref
        arr = np.asarray(value)
        if arr.size != 1 or arr.dtype.kind not in "biuf":
            raise Untraceable(f"a constant of shape {arr.shape}, dtype {arr.dtype} (one number per point is needed)")
        scalar = arr.reshape(()).item()
        if isinstance(scalar, float) and not math.isfinite(scalar):
            raise Untraceable(f"a non-finite constant {scalar}")
        return ("const", float(scalar) if arr.dtype.kind == "f" else scalar)

    def record(self, ufunc: np.ufunc, inputs: tuple[Any, ...]) -> Traced:
        if ufunc.nout != 1 or ufunc.signature is not None:
            raise Untraceable(f"{ufunc.__name__} is not an elementwise ufunc with one output")
        ops = tuple(self.operand(x) for x in inputs)
        name = ufunc.__name__
        if getattr(np, name, None) is not ufunc:  # not numpy's: called by its object
            name = f"ufunc_{name}"
            if self.functions.setdefault(name, ufunc) is not ufunc:
                raise Untraceable(f"two different ufuncs named {ufunc.__name__!r}")
        elif name == "power" and ops[1][0] == "const" and float(ops[1][1]) in POWER_SHORTCUTS:
            name, ops = POWER_SHORTCUTS[float(ops[1][1])], ops[:1]
        self.nodes.append((name, ops))
        return Traced(self, ("node", len(self.nodes) - 1))


def trace(kernel: Kernel, params: Mapping[str, Any], variable: Sequence[str], inputs: Sequence[str]) -> ScalarProgram:
    """The scalar program of ``kernel`` with ``inputs`` and the ``variable`` parameters as arguments.

    ``params``: the resolved parameters (:meth:`Kernel.resolve`); the ``variable`` ones are replaced by symbols,
    the rest (fixed numbers and switches) keep their values. Raises :class:`Untraceable`.
    """
    tape = _Tape()
    points = {name: Traced(tape, ("input", name)) for name in inputs}
    args = {k: (Traced(tape, ("param", k)) if k in variable else v) for k, v in params.items()}
    try:
        with np.errstate(all="ignore"):
            out = kernel.func(points, **args)
    except Untraceable:
        raise
    except Exception as exc:  # noqa: BLE001 — e.g. a KeyError for an input the caller did not list
        raise Untraceable(f"{type(exc).__name__}: {exc}") from None
    return ScalarProgram(kernel.name, tuple(inputs), tuple(variable), tuple(tape.nodes), tape.operand(out),
                         tuple(tape.functions.items()))
