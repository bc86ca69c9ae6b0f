"""Kernel registry: every kernel declares its point inputs and its parameters, once.

A kernel is a pure function ``f(points, *, p1, p2, …) -> V_pred`` where ``points`` maps input
names (``r``, ``v_bar``, ``g_N``, …) to 1-D arrays over the packed points and each keyword-only
argument is a declared :class:`Parameter`: a float or an array broadcastable against the
points, the point axis last (or a string, for a switch). :func:`kernel` registers one::

    @kernel(summary="…", source="…", formula="V = V_bar·√(1 + A)", inputs=("v_bar",),
            parameters=(Parameter("A", 1.0, "", (0.0, 10.0)),))
    def boosted(points, *, A):
        return points["v_bar"] * np.sqrt(1.0 + A)

The function's keyword-only names must be the declared parameters (checked at registration).
``inputs`` are the point arrays read whatever the parameters; ``switch_inputs`` those read only under
one value of a switch (``{"rd_source": {"table": ("R_d_table",), …}}``), so a dataset that lacks
an input still serves every setting that does not read it.
Parameter validation (unknown names, types, bounds, choices) and, when a kernel is called, point
validation (shapes, lengths, finite numbers, parameters that broadcast) happen here, once, so sweep
specs, reports, the xarray front door and Python callers get the same clear errors (KernelError
naming the argument), never a bare numpy error. Kernels of other packages are
loaded from the entry-point group ``sigcube.kernels`` on first need (:func:`get_kernel`,
:func:`kernel_names`).
"""

from __future__ import annotations

import inspect
import itertools
import reprlib
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from sigcube.errors import SigcubeError

if TYPE_CHECKING:
    from sigcube.model.metrics import Reduction
    from sigcube.model.points import PointSet

ENTRY_POINT_GROUP = "sigcube.kernels"
"""Entry-point group of kernel plugins: each entry names a module (importing it registers its
kernels) or a :class:`Kernel` object."""


class KernelError(SigcubeError):
    """An unknown kernel, an unknown parameter, or a parameter value out of bounds."""


@dataclass(frozen=True)
class Parameter:
    """One kernel parameter.

    ``unit`` is an astropy-parsable unit string ("" for dimensionless). A numeric
    parameter has ``bounds`` (inclusive); a categorical one (a switch) has ``choices``.
    """

    name: str
    default: float | str
    unit: str = ""
    bounds: tuple[float, float] | None = None
    choices: tuple[str, ...] | None = None
    description: str = ""

    @property
    def categorical(self) -> bool:
        return self.choices is not None

    @property
    def attrs(self) -> dict[str, str]:
        """CF-style attributes of a coordinate holding the parameter's values."""
        return {"units": self.unit, "long_name": self.description}

    def check(self, kernel: str, value: Any) -> Any:
        """Return ``value`` (as float array or str) or raise KernelError naming the bound."""
        if self.categorical:
            if not isinstance(value, str) or value not in self.choices:
                raise KernelError(
                    f"kernel {kernel!r}: parameter {self.name!r} must be one of "
                    f"{', '.join(self.choices)}; got {_short(value)}"
                )
            return value
        try:
            arr = np.asarray(value)
        except (TypeError, ValueError):  # ragged nested sequences
            arr = np.asarray(None)
        if isinstance(value, (str, bytes)) or arr.dtype.kind not in "iuf":
            raise KernelError(f"kernel {kernel!r}: parameter {self.name!r} must be a number (or an array of "
                              f"numbers); got {_short(value)}")
        arr = arr.astype(float, copy=False)
        if not np.all(np.isfinite(arr)):
            raise KernelError(f"kernel {kernel!r}: parameter {self.name!r} must be finite; got {_short(value)}")
        lo, hi = self.bounds if self.bounds is not None else (-np.inf, np.inf)
        if np.any(arr < lo) or np.any(arr > hi):
            bad = arr[(arr < lo) | (arr > hi)].ravel()[0]
            raise KernelError(
                f"kernel {kernel!r}: parameter {self.name!r} = {bad:g}{' ' + self.unit if self.unit else ''} is outside "
                f"its bounds [{lo:g}, {hi:g}]"
            )
        return arr if arr.ndim else float(arr)


@dataclass(frozen=True)
class FastReduce:
    """A kernel's evaluate-and-reduce loop for sweeps, used where ``applies(params)`` is true (``params``: the
    resolved parameters, each swept one as the flat array of its values in the block).

    ``reduce(points, params, grid, n_grid)`` gets the packed points, the resolved parameters
    (fixed values and switches) and the swept numeric parameters as flat arrays of ``n_grid``
    values, and returns the :data:`Reduction` without materialising grid × points; it must agree
    with the kernel's numpy function and :mod:`sigcube.model.metrics`. ``warm_up`` loads (or compiles)
    the loop before the first block.
    """

    applies: Callable[[Mapping[str, Any]], bool]
    reduce: Callable[[PointSet, Mapping[str, Any], Mapping[str, np.ndarray], int], Reduction]
    warm_up: Callable[[], None] | None = None


@dataclass(frozen=True)
class Kernel:
    """A registered kernel: metadata plus the pure function that evaluates it.

    ``func``'s keyword-only arguments must be exactly the declared ``parameters`` (checked here).
    """

    name: str
    summary: str
    source: str
    formula: str
    inputs: tuple[str, ...]
    parameters: tuple[Parameter, ...]
    func: Callable[..., np.ndarray] = field(repr=False)
    constraint: Callable[[dict[str, Any]], str | None] | None = field(default=None, repr=False)
    """Optional cross-parameter rule: returns a message when a combination is invalid."""
    amplitude: str | None = None
    """The parameter in which V_pred is non-decreasing (the kernel's amplitude), if any."""
    readings: tuple[str, ...] = ()
    """Details the seeds leave open, and the reading this kernel takes for each."""
    fast_reduce: FastReduce | None = field(default=None, repr=False)
    """An evaluate-and-reduce loop for sweeps (:class:`FastReduce`), if the kernel has one."""
    switch_inputs: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict, compare=False)
    """Point inputs read only under some values of a switch: ``{switch: {value: inputs}}``."""

    def __post_init__(self) -> None:
        names = [p.name for p in self.parameters]
        if len(set(names)) != len(names):
            raise KernelError(f"kernel {self.name!r}: parameter names repeat: {names}")
        if self.amplitude is not None and self.amplitude not in names:
            raise KernelError(f"kernel {self.name!r}: amplitude {self.amplitude!r} is not a declared parameter")
        for switch, by_value in self.switch_inputs.items():
            choices = self.parameter(switch).choices or ()
            unknown = sorted(set(by_value) - set(choices))
            if not choices or unknown:
                raise KernelError(f"kernel {self.name!r}: switch_inputs name {switch!r} = {unknown or list(by_value)}, "
                                  "which is not a value of a declared switch")
        _check_signature(self.name, self.func, names)

    @property
    def numeric_parameters(self) -> tuple[Parameter, ...]:
        """The parameters that take numbers (the switches excluded)."""
        return tuple(p for p in self.parameters if not p.categorical)

    @property
    def all_inputs(self) -> tuple[str, ...]:
        """Every point input some setting of the parameters reads."""
        switched = (name for by_value in self.switch_inputs.values() for names in by_value.values() for name in names)
        return tuple(dict.fromkeys((*self.inputs, *switched)))

    def required_inputs(self, params: Mapping[str, Any]) -> tuple[str, ...]:
        """The point inputs read with the resolved parameters ``params`` (the switches' values decide)."""
        switched = (name for switch, by_value in self.switch_inputs.items() for name in by_value.get(params[switch], ()))
        return tuple(dict.fromkeys((*self.inputs, *switched)))

    def missing_inputs(self, points: Mapping[str, np.ndarray], params: Mapping[str, Any] | None = None) -> list[str]:
        """The inputs the kernel reads with ``params`` (defaults overlaid, validated) that ``points`` lacks."""
        return [name for name in self.required_inputs(self.resolve(params)) if name not in points]

    def check_inputs(self, points: Mapping[str, np.ndarray], params: Mapping[str, Any]) -> None:
        """Raise KernelError naming the inputs the resolved ``params`` read that ``points`` lacks."""
        missing = [name for name in self.required_inputs(params) if name not in points]
        if missing:
            raise KernelError(f"kernel {self.name!r} needs point inputs {', '.join(missing)}"
                              + _switch_note(self, params, missing))

    def describe(self) -> dict[str, Any]:
        """Everything the registry knows about the kernel, as plain JSON-able values."""
        return {
            "name": self.name,
            "summary": self.summary,
            "source": self.source,
            "formula": self.formula,
            "inputs": list(self.inputs),
            "switch_inputs": {switch: {value: list(names) for value, names in by_value.items()}
                              for switch, by_value in self.switch_inputs.items()},
            "amplitude": self.amplitude,
            "readings": list(self.readings),
            "parameters": [
                {"name": p.name, "default": p.default, "unit": p.unit,
                 "bounds": list(p.bounds) if p.bounds is not None else None,
                 "choices": list(p.choices) if p.choices is not None else None,
                 "description": p.description}
                for p in self.parameters
            ],
        }

    def parameter(self, name: str) -> Parameter:
        for p in self.parameters:
            if p.name == name:
                return p
        raise KernelError(
            f"kernel {self.name!r} has no parameter {name!r}; valid parameters: "
            f"{', '.join(p.name for p in self.parameters)}"
        )

    def resolve(self, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Defaults overlaid with ``params``, every value validated."""
        params = dict(params or {})
        for name in params:
            self.parameter(name)
        resolved = {p.name: p.check(self.name, params.get(p.name, p.default)) for p in self.parameters}
        problem = self.constraint(resolved) if self.constraint else None
        if problem:
            raise KernelError(f"kernel {self.name!r}: {problem}")
        return resolved

    def check_points(self, points: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
        """``points`` with the inputs the resolved ``params`` read checked and as float arrays (Dask arrays are
        left lazy: shape and dtype checked, values not); raises KernelError naming the input or parameter.

        Every input read must be a 1-D array of finite numbers, all of one length (one value per point), and
        every numeric parameter must broadcast against the points (the point axis last).
        """
        if not isinstance(points, Mapping):
            raise KernelError(f"kernel {self.name!r}: points must be a mapping of input name to a 1-D array "
                              f"(e.g. {{'r': …, 'v_bar': …}}); got {type(points).__name__}")
        self.check_inputs(points, params)
        arrays = {name: _point_array(self.name, name, points[name]) for name in self.required_inputs(params)}
        lengths = {name: a.shape[0] for name, a in arrays.items() if isinstance(a.shape[0], (int, np.integer))}
        if len(set(lengths.values())) > 1:
            (a, n_a), (b, n_b) = next((x, y) for x, y in itertools.pairwise(lengths.items()) if x[1] != y[1])
            raise KernelError(f"kernel {self.name!r}: input {a!r} has {n_a} values, {b!r} has {n_b}; every input "
                              "has one value per point")
        if lengths:
            self._check_broadcast(params, next(iter(lengths.values())))
        return {**points, **arrays}

    def _check_broadcast(self, params: Mapping[str, Any], n_points: int) -> None:
        """Refuse parameter arrays that do not broadcast against ``n_points`` points or each other."""
        shapes = {k: np.shape(v) for k, v in params.items() if not isinstance(v, str) and np.ndim(v)}
        for name, shape in shapes.items():
            if not _broadcast(shape, (n_points,)):
                raise KernelError(f"kernel {self.name!r}: parameter {name!r} has shape {shape}, which does not "
                                  f"broadcast against the {n_points} points (the point axis is last: shape "
                                  f"{shape + (1,)} evaluates each value at every point)")
        if not _broadcast(*shapes.values()):
            raise KernelError(f"kernel {self.name!r}: parameters "
                              f"{', '.join(f'{k!r} {s}' for k, s in shapes.items())} do not broadcast together")

    def __call__(self, points: Mapping[str, np.ndarray], **params: Any) -> np.ndarray:
        """Predicted circular velocity [km/s] at every point, broadcast over parameter axes.

        Parameters and points are checked first (:meth:`resolve`, :meth:`check_points`): wrong names,
        types, shapes, lengths and non-finite values raise KernelError naming the argument. Sweeps call
        ``func`` on points validated once per sweep, never this per block.
        """
        resolved = self.resolve(params)
        return self.func(self.check_points(points, resolved), **resolved)


def _short(value: Any) -> str:
    """``repr(value)`` cut to about 60 characters."""
    return _REPR.repr(value)


_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 60


def _broadcast(*shapes: tuple[int, ...]) -> bool:
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        return False
    return True


def _point_array(kernel: str, name: str, value: Any) -> Any:
    """One point input as a 1-D float array of finite values (a Dask array: shape and dtype only)."""
    lazy = callable(getattr(value, "__dask_graph__", None))
    try:
        arr = value if lazy else np.asarray(value)
    except (TypeError, ValueError):  # ragged nested sequences
        raise KernelError(f"kernel {kernel!r}: input {name!r} must be a 1-D array of numbers; got {_short(value)}") from None
    if isinstance(value, (str, bytes)) or value is None or arr.dtype.kind not in "iuf":
        raise KernelError(f"kernel {kernel!r}: input {name!r} must hold numbers; got {_short(value)}")
    if arr.ndim != 1:
        raise KernelError(f"kernel {kernel!r}: input {name!r} must be a 1-D array over the points; got shape {arr.shape}")
    if lazy:
        return arr
    arr = arr.astype(float, copy=False)
    bad = ~np.isfinite(arr)
    if bad.any():
        first = int(np.argmax(bad))
        raise KernelError(f"kernel {kernel!r}: input {name!r} has {int(bad.sum())} non-finite value(s) (NaN or ±inf), "
                          f"the first at index {first} ({arr[first]})")
    return arr


def _switch_note(kernel: Kernel, params: Mapping[str, Any], missing: Sequence[str]) -> str:
    """Which switch settings ask for ``missing``, and the values of those switches that do not."""
    notes = []
    for switch, by_value in kernel.switch_inputs.items():
        value = params[switch]
        if set(by_value.get(value, ())) & set(missing):
            others = [v for v in kernel.parameter(switch).choices if not set(by_value.get(v, ())) & set(missing)]
            notes.append(f"read with {switch} = {value!r}"
                         + (f"; {switch} = {' or '.join(map(repr, others))} needs none of them" if others else ""))
    return f" ({'; '.join(notes)})" if notes else ""


def _check_signature(name: str, func: Callable[..., np.ndarray], declared: Sequence[str]) -> None:
    """Refuse a function whose arguments are not ``(points, *, <declared parameters>)``."""
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        raise KernelError(f"kernel {name!r}: cannot read the signature of {func!r}") from None
    kinds = [p.kind for p in sig.parameters.values()]
    positional = [p for p in sig.parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty]
    if len(positional) != 1 or inspect.Parameter.VAR_POSITIONAL in kinds or inspect.Parameter.VAR_KEYWORD in kinds:
        raise KernelError(f"kernel {name!r}: the function must be f(points, *, <parameters>); it is {name}{sig}")
    keyword = {p.name for p in sig.parameters.values() if p.kind == p.KEYWORD_ONLY}
    missing, extra = sorted(set(declared) - keyword), sorted(keyword - set(declared))
    if missing or extra:
        raise KernelError(
            f"kernel {name!r}: the function's keyword-only arguments do not match the declared parameters"
            + (f"; declared but not in the function: {', '.join(missing)}" if missing else "")
            + (f"; in the function but not declared: {', '.join(extra)}" if extra else "")
        )


_REGISTRY: dict[str, Kernel] = {}
_PLUGIN_ERRORS: dict[str, str] = {}
_plugins_loaded = False


def register(kernel: Kernel) -> Kernel:
    """Add ``kernel`` to the registry (names are unique; registering the same object again is a no-op)."""
    if _REGISTRY.get(kernel.name, kernel) is not kernel:
        raise KernelError(f"kernel {kernel.name!r} is already registered (by {_REGISTRY[kernel.name].func.__module__})")
    _REGISTRY[kernel.name] = kernel
    return kernel


def kernel(
    *,
    summary: str,
    source: str,
    formula: str,
    inputs: Sequence[str],
    parameters: Sequence[Parameter] = (),
    name: str | None = None,
    amplitude: str | None = None,
    readings: Sequence[str] = (),
    constraint: Callable[[dict[str, Any]], str | None] | None = None,
    fast_reduce: FastReduce | None = None,
    switch_inputs: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
) -> Callable[[Callable[..., np.ndarray]], Kernel]:
    """Decorator: register ``f(points, *, p1, p2, …)`` as a kernel named ``name`` (default: the function's name).

    ``inputs`` are the point arrays it reads whatever the parameters, ``switch_inputs`` those it reads
    only under some switch values (``{switch: {value: inputs}}``); ``parameters`` its :class:`Parameter` s,
    which must be the function's keyword-only arguments. Returns the registered :class:`Kernel`.
    """
    def decorate(func: Callable[..., np.ndarray]) -> Kernel:
        return register(Kernel(
            name=name or func.__name__, summary=summary, source=source, formula=formula, inputs=tuple(inputs),
            parameters=tuple(parameters), func=func, constraint=constraint, amplitude=amplitude,
            readings=tuple(readings), fast_reduce=fast_reduce,
            switch_inputs={switch: {value: tuple(names) for value, names in by_value.items()}
                           for switch, by_value in (switch_inputs or {}).items()},
        ))
    return decorate


def load_plugins() -> dict[str, str]:
    """Load the ``sigcube.kernels`` entry points (once); returns the failures by entry-point name.

    A plugin that fails to import, or names neither a module nor a :class:`Kernel`, is reported
    (a warning naming the entry point) and skipped; the built-in kernels are unaffected.
    """
    global _plugins_loaded
    if _plugins_loaded:
        return dict(_PLUGIN_ERRORS)
    _plugins_loaded = True
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
            if isinstance(obj, Kernel):
                register(obj)
            elif not isinstance(obj, ModuleType):
                raise KernelError(f"it names a {type(obj).__name__}, not a Kernel or a module")
        except Exception as exc:  # a broken plugin must not break sigcube
            message = (f"kernel plugin entry point {ep.name!r} = {ep.value!r} (group {ENTRY_POINT_GROUP!r}) "
                       f"failed to load: {type(exc).__name__}: {exc}")
            _PLUGIN_ERRORS[ep.name] = message
            warnings.warn(message, RuntimeWarning, stacklevel=3)
    return dict(_PLUGIN_ERRORS)


def get_kernel(name: str) -> Kernel:
    """The registered kernel called ``name`` (plugins loaded if needed), or a KernelError listing the valid names."""
    if not isinstance(name, str):
        raise KernelError(f"a kernel name is a string; got {_short(name)}")
    if name not in _REGISTRY:
        load_plugins()
    try:
        return _REGISTRY[name]
    except KeyError:
        broken = "".join(f"; {message}" for message in _PLUGIN_ERRORS.values())
        raise KernelError(f"unknown kernel {name!r}; registered kernels: {', '.join(sorted(_REGISTRY))}{broken}") from None


def kernel_names() -> list[str]:
    """Names of all registered kernels (plugins included), sorted."""
    load_plugins()
    return sorted(_REGISTRY)
