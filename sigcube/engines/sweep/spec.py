"""Sweep specs: a TOML file naming a dataset cube, a kernel and a parameter grid.

Example (``sweeps/sigma_A0_k.toml``)::

    name = "sigma-A0-k"
    description = "amplitude × coherence-scale factor ξ = k·R_d (SI §13–14)"
    dataset = "sparc"            # cube kind; --cube or cube = "…" names the store
    kernel = "sigma"
    baseline = "mond"            # win rates are computed against this kernel
    object_chunk = 0             # optional: objects per chunk (0: about 2·10⁴ points' worth)
    metrics = ["mean_rms", "win_rate", "rms"]   # optional: what to store (default: every metric
                                                # of sigcube.model.metrics.METRICS)
    preset = "paper"             # optional: start from a SPARC preset's parameters

    [fixed]                      # kernel parameters held fixed (override the preset)
    rd_source = "third"

    [grid.A0]                    # one table per swept parameter
    linspace = [0.5, 3.0, 101]   # or logspace = [start, stop, num] (geometric), or values = […]
    [grid.k]
    logspace = [0.02, 1.0, 100]
    unit = ""                    # optional; converted to the parameter's unit
    include_default = true       # optional; put the kernel's default value on the grid

    [sample]                     # optional SPARC sample cuts (defaults: the paper's)
    min_points = 5

With a ``[nuisance]`` table the intrinsic scatter may be swept too, ``[grid.sigma_int]`` (in the error model's unit:
km/s or dex), and the scatter of each galaxy's velocity scale, ``[grid.tau_gal]`` [ln V]: parameters of the likelihood,
not of the kernel (:data:`~sigcube.engines.nuisance_spec.LIKELIHOOD_AXES`).

Every key's type, range and meaning is declared once in :mod:`sigcube.engines.sweep.schema` (the README's
spec reference is generated from it); this module then checks the values against the kernel's
declared parameters (names, bounds, switch choices, units). Every malformed spec raises one
:class:`SpecError` naming the file and the key (``[grid.A0].linspace.num``, ``fixed.k``, ``kernel``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import astropy.units as u
import numpy as np

from sigcube.conventions import SampleCuts
from sigcube.engines.nuisance_spec import LIKELIHOOD_AXES, SCATTER_AXIS, TAU_AXIS, NuisanceSettings, SweepNuisance
from sigcube.engines.sweep.schema import GridAxis, SpecModel, grid_label, toml_key, toml_text, validate
from sigcube.errors import SigcubeError, SpecError
from sigcube.model.kernels import Kernel, Parameter, get_kernel
from sigcube.model.kernels.presets import get_preset
from sigcube.model.metrics import metric_names
from sigcube.stats.likelihood import ERROR_MODELS, TAU_UNIT, check_error_model

__all__ = ["Axis", "SpecError", "SweepSpec", "load_spec", "parse_spec"]


@dataclass(frozen=True)
class Axis:
    """One swept parameter: its values in the kernel parameter's unit."""

    name: str
    values: np.ndarray
    unit: str
    categorical: bool = False

    def __len__(self) -> int:
        return len(self.values)


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep: what to evaluate where, and the text it came from."""

    name: str
    description: str
    dataset: str
    kernel: Kernel
    baseline: Kernel
    fixed: dict[str, Any]
    axes: tuple[Axis, ...]
    cuts: SampleCuts
    block_size: int
    metrics: tuple[str, ...] = metric_names()
    object_chunk: int = 0
    cube: str | None = None
    preset: str | None = None
    text: str = field(default="", repr=False)
    nuisance: NuisanceSettings | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(a) for a in self.axes)

    def is_scatter(self, name: str) -> bool:
        """Whether the axis ``name`` is one of the likelihood's scatters, σ_int or τ_gal (not a kernel parameter)."""
        if self.nuisance is None:
            return False
        return bool(self.nuisance.sigma_int_grid) if name == SCATTER_AXIS else (
            name == TAU_AXIS and bool(self.nuisance.tau_gal_grid))

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    def canonical(self) -> dict[str, Any]:
        """Everything that determines the results, as plain JSON-able values."""
        return {
            "dataset": self.dataset,
            "kernel": self.kernel.name,
            "baseline": self.baseline.name,
            "fixed": {k: _plain(v) for k, v in sorted(self.fixed.items())},
            "axes": {a.name: [_plain(v) for v in a.values] for a in self.axes},
            "cuts": self.cuts.as_dict(),
            "block_size": self.block_size,
            "object_chunk": self.object_chunk,
            "metrics": list(self.metrics),
            **({"nuisance": self.nuisance.canonical()} if self.nuisance is not None else {}),
        }

    def fingerprint(self) -> str:
        """sha256 of :meth:`canonical`: two specs with equal fingerprints compute the same cube."""
        return hashlib.sha256(json.dumps(self.canonical(), sort_keys=True).encode()).hexdigest()


def _plain(v: Any) -> Any:
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, np.generic):
        return v.item()
    return v


def load_spec(path: str | Path) -> SweepSpec:
    """Read and validate a sweep spec file (UTF-8 TOML)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SpecError(f"{path}: cannot read the sweep spec ({exc.strerror or exc})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(f"{path}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                        "TOML files are UTF-8") from None
    return parse_spec(text, where=str(path))


def parse_spec(text: str, where: str = "spec") -> SweepSpec:
    """Validate a spec given as TOML text (``where`` names it in errors)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{where}: not valid TOML: {exc}") from None
    except RecursionError:
        raise SpecError(f"{where}: not valid TOML: arrays or tables nested too deeply") from None
    try:
        return _build(validate(raw), text)
    except SigcubeError as exc:
        raise SpecError(f"{where}: {exc}") from None


def _checked(label: str, check: Callable[..., Any], *args: Any) -> Any:
    """``check(*args)``, its SigcubeError (a KernelError) prefixed with the key ``label``."""
    try:
        return check(*args)
    except SigcubeError as exc:
        raise SpecError(f"{label}: {exc}") from None


def _build(model: SpecModel, text: str) -> SweepSpec:
    kernel, baseline = get_kernel(model.kernel), get_kernel(model.baseline)
    swept_likelihood = {name for name in LIKELIHOOD_AXES if _likelihood_axis_swept(kernel, model, name)}
    axes = tuple(_likelihood_axis(name, axis, model.nuisance) if name in swept_likelihood else _axis(kernel, name, axis)
                 for name, axis in model.grid.items())
    swept = {a.name for a in axes}
    if all(a.categorical for a in axes):
        example = kernel.numeric_parameters[0] if kernel.numeric_parameters else None
        hint = (f"; to compare switch values alone, add one numeric axis, e.g. {grid_label(example.name)} "
                f"values = [{example.default!r}] (its default)" if example else "")
        raise SpecError(f"[grid]: every axis is a switch ({', '.join(sorted(swept))}); a sweep needs at least one "
                        f"numeric parameter{hint}")
    given = {name: ("preset", value) for name, value in
             (get_preset(model.preset).kernel_params() if model.preset else {}).items() if name not in swept}
    for name, value in model.fixed.items():
        label = f"fixed.{toml_key(name)}"
        if name in swept:
            raise SpecError(f"{label}: {name} is also swept in {grid_label(name)}; give it in one place")
        given[name] = (label, value)
    fixed = {name: _checked(label, _checked(label, kernel.parameter, name).check, kernel.name, value)
             for name, (label, value) in given.items()}
    _check_constraint(kernel, fixed, tuple(a for a in axes if a.name not in swept_likelihood))
    nuisance = model.nuisance.settings() if model.nuisance is not None else None
    for name, key in ((SCATTER_AXIS, "sigma_int_grid"), (TAU_AXIS, "tau_gal_grid")):
        if name in swept_likelihood:
            nuisance = dataclasses.replace(nuisance, **{key: tuple(
                float(v) for a in axes if a.name == name for v in a.values)})
    return SweepSpec(
        name=model.name,
        description=model.description,
        dataset=model.dataset,
        kernel=kernel,
        baseline=baseline,
        fixed=fixed,
        axes=axes,
        cuts=model.sample.cuts(),
        block_size=model.block_size,
        object_chunk=model.object_chunk,
        metrics=tuple(m for m in metric_names() if m in model.metrics),
        cube=model.cube,
        preset=model.preset,
        text=text,
        nuisance=nuisance,
    )


_SYMBOLS = {SCATTER_AXIS: ("σ_int", "the intrinsic scatter of the likelihood"),
            TAU_AXIS: ("τ_gal", "the scatter of each galaxy's velocity scale in the likelihood")}


def _likelihood_axis_swept(kernel: Kernel, model: SpecModel, name: str) -> bool:
    """Whether ``[grid.<name>]`` (σ_int or τ_gal) sweeps a parameter of the likelihood (refused where it cannot)."""
    if name not in model.grid:
        return False
    label = grid_label(name)
    symbol, what = _SYMBOLS[name]
    own = name in {p.name for p in kernel.parameters}
    if model.nuisance is None:
        if own:
            return False  # the kernel's own parameter of that name
        raise SpecError(f"{label}: {symbol} is {what} a nuisance sweep marginalises; "
                        "a sweep without a [nuisance] table has no likelihood: add [nuisance] or remove the axis")
    if own:
        raise SpecError(f"{label}: kernel {kernel.name!r} has a parameter {name!r} of its own, which would "
                        f"shadow {what}; rename the kernel's parameter")
    if name in model.nuisance.model_fields_set:
        raise SpecError(f"{label}: {symbol} is also given in [nuisance].{name} = {getattr(model.nuisance, name):g}; "
                        f"give it in one place (remove [nuisance].{name} to sweep it)")
    return True


def _likelihood_axis(name: str, axis: GridAxis, nuisance: SweepNuisance) -> Axis:
    """The values of σ_int in the error model's unit (km/s or dex), or of τ_gal [ln V], each finite and ≥ 0."""
    label = grid_label(name)
    key = f"{label}.{axis.spacing}"
    symbol, _ = _SYMBOLS[name]
    model = check_error_model(nuisance.error_model)
    unit = ERROR_MODELS[model][0] if name == SCATTER_AXIS else TAU_UNIT
    if axis.values is not None and isinstance(axis.values[0], str):
        raise SpecError(f"{key}: {symbol} takes numbers [{unit}], not switch values (got {toml_text(axis.values)})")
    values = np.array(axis.values, dtype=float) if axis.values is not None else spaced(axis)
    if axis.unit is not None:
        if unit != "km / s":
            if axis.unit.strip() != unit:
                where = f"of error model {model} " if name == SCATTER_AXIS else ""
                raise SpecError(f"{label}.unit: {symbol} {where}is in {unit}; got {axis.unit!r}")
        else:
            values = _converted(f"{label}.unit", values, axis.unit, unit)
    default = getattr(nuisance, name)
    if axis.include_default and not np.any(values == default):
        values = np.sort(np.append(values, default))
    if np.any(values < 0):
        raise SpecError(f"{key}: {symbol} must be ≥ 0 {unit} (got {toml_text([float(v) for v in values[values < 0]])})")
    if name == TAU_AXIS:
        from sigcube.compute.scale_prior import tau_problem

        problem = next(filter(None, map(tau_problem, values.tolist())), None)
        if problem is not None:
            raise SpecError(f"{key}: {problem}")
    if len(np.unique(values)) != len(values):
        raise SpecError(f"{key}: gives repeated values (after conversion to {unit!r})")
    return Axis(name, values, unit)


def spaced(axis: GridAxis) -> np.ndarray:
    """The values of a ``linspace`` or ``logspace`` axis. A geometric grid is 10**u at evenly spaced u, each power
    from the C library (Python's float power), its ends exact: numpy's SIMD power differs in the last bit between
    CPUs (AVX-512 against AVX2), and the values enter the spec's fingerprint, which must not depend on the machine."""
    start, stop, num = getattr(axis, axis.spacing)
    if axis.spacing == "linspace":
        return np.linspace(start, stop, num)
    values = np.array([10.0 ** float(u) for u in np.linspace(math.log10(start), math.log10(stop), num)])
    values[0] = start
    if num > 1:
        values[-1] = stop
    return values


def _check_constraint(kernel: Kernel, fixed: dict[str, Any], axes: tuple[Axis, ...]) -> None:
    """The kernel's cross-parameter rule under every combination of the swept switches, every numeric value."""
    shaped = {a.name: a.values.reshape([-1 if i == j else 1 for j in range(len(axes))])
              for i, a in enumerate(axes) if not a.categorical}
    switches = [a for a in axes if a.categorical]
    for values in itertools.product(*(a.values for a in switches)):
        kernel.resolve({**fixed, **shaped, **{a.name: str(v) for a, v in zip(switches, values)}})


def _axis(kernel: Kernel, name: str, axis: GridAxis) -> Axis:
    label = grid_label(name)
    param = _checked(label, kernel.parameter, name)
    key = f"{label}.{axis.spacing}"
    if param.categorical:
        return _switch_axis(kernel, param, axis, label)
    if axis.values is not None and isinstance(axis.values[0], str):
        raise SpecError(f"{key}: {name} takes numbers, not switch values (got {toml_text(axis.values)})")
    values = np.array(axis.values, dtype=float) if axis.values is not None else spaced(axis)
    if axis.unit is not None:
        values = _converted(f"{label}.unit", values, axis.unit, param.unit)
    if axis.include_default and not np.any(values == param.default):
        values = np.sort(np.append(values, param.default))
    _checked(key, param.check, kernel.name, values)
    if len(np.unique(values)) != len(values):
        raise SpecError(f"{key}: gives repeated values (after conversion to {param.unit or 'dimensionless'!r})")
    return Axis(name, values, param.unit)


def _converted(label: str, values: np.ndarray, unit: str, target: str) -> np.ndarray:
    """``values`` given in ``unit``, in the parameter's unit ``target``."""
    try:
        given = u.Unit(unit)
    except ValueError:
        raise SpecError(f"{label}: {unit!r} is not a unit astropy can parse") from None
    try:
        return (values * given).to_value(u.Unit(target))
    except u.UnitsError as exc:
        raise SpecError(f"{label}: {unit!r} cannot be converted to {target or 'dimensionless'!r} ({exc})") from None


def _switch_axis(kernel: Kernel, param: Parameter, axis: GridAxis, label: str) -> Axis:
    """The axis of a switch: its values are some of the switch's choices, with no unit and no default added."""
    choices = ", ".join(map(repr, param.choices))
    if axis.values is None or not isinstance(axis.values[0], str):
        raise SpecError(f"{label}: {param.name} is a switch: give values = [{choices}] (some of them)")
    if axis.unit is not None:
        raise SpecError(f"{label}.unit: {param.name} is a switch and takes no unit")
    if axis.include_default:
        raise SpecError(f"{label}.include_default: {param.name} is a switch; list its default {param.default!r} "
                        "in values instead")
    values = [_checked(f"{label}.values", param.check, kernel.name, v) for v in axis.values]
    return Axis(param.name, np.array(values, dtype=object), "", categorical=True)
