"""Kernel registry: every kernel declares its point inputs and its parameters.

A kernel is a pure function ``func(points, **params) -> V_pred`` where ``points`` maps
input names (``r``, ``v_bar``, ``g_N``, …) to 1-D arrays over the packed points and each
parameter is a float or an array broadcastable against them, the point axis being the
last axis. Parameter validation (unknown names, bounds, choices) happens here, once,
so that sweep specs and reports get the same clear errors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sigcube.errors import SigcubeError


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

    def check(self, kernel: str, value: Any) -> Any:
        """Return ``value`` (as float array or str) or raise KernelError naming the bound."""
        if self.categorical:
            if not isinstance(value, str) or value not in self.choices:
                raise KernelError(
                    f"kernel {kernel!r}: parameter {self.name!r} must be one of "
                    f"{', '.join(self.choices)}; got {value!r}"
                )
            return value
        try:
            arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise KernelError(
                f"kernel {kernel!r}: parameter {self.name!r} must be a number; got {value!r}"
            ) from None
        if not np.all(np.isfinite(arr)):
            raise KernelError(f"kernel {kernel!r}: parameter {self.name!r} must be finite; got {value!r}")
        lo, hi = self.bounds if self.bounds is not None else (-np.inf, np.inf)
        if np.any(arr < lo) or np.any(arr > hi):
            bad = arr[(arr < lo) | (arr > hi)].ravel()[0]
            raise KernelError(
                f"kernel {kernel!r}: parameter {self.name!r} = {bad:g} {self.unit} is outside "
                f"its bounds [{lo:g}, {hi:g}]"
            )
        return arr if arr.ndim else float(arr)


@dataclass(frozen=True)
class Kernel:
    """A registered kernel: metadata plus the pure function that evaluates it."""

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

    @property
    def numeric_parameters(self) -> tuple[Parameter, ...]:
        """The parameters that take numbers (the switches excluded)."""
        return tuple(p for p in self.parameters if not p.categorical)

    def describe(self) -> dict[str, Any]:
        """Everything the registry knows about the kernel, as plain JSON-able values."""
        return {
            "name": self.name,
            "summary": self.summary,
            "source": self.source,
            "formula": self.formula,
            "inputs": list(self.inputs),
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

    def __call__(self, points: Mapping[str, np.ndarray], **params: Any) -> np.ndarray:
        """Predicted circular velocity [km/s] at every point, broadcast over parameter axes."""
        missing = [name for name in self.inputs if name not in points]
        if missing:
            raise KernelError(f"kernel {self.name!r} needs point inputs {', '.join(missing)}")
        return self.func(points, **self.resolve(params))


_REGISTRY: dict[str, Kernel] = {}


def register(kernel: Kernel) -> Kernel:
    """Add ``kernel`` to the registry (names are unique)."""
    if kernel.name in _REGISTRY:
        raise ValueError(f"kernel {kernel.name!r} is already registered")
    _REGISTRY[kernel.name] = kernel
    return kernel


def get_kernel(name: str) -> Kernel:
    """The registered kernel called ``name``, or a KernelError listing the valid names."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KernelError(
            f"unknown kernel {name!r}; registered kernels: {', '.join(sorted(_REGISTRY))}"
        ) from None


def kernel_names() -> list[str]:
    """Names of all registered kernels, sorted."""
    return sorted(_REGISTRY)
