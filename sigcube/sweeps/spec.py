"""Sweep specs: a TOML file naming a dataset cube, a kernel and a parameter grid.

Example (``sweeps/sigma_A0_k.toml``)::

    name = "sigma-A0-k"
    description = "amplitude × coherence-scale factor ξ = k·R_d (SI §13–14)"
    dataset = "sparc"            # cube kind; --cube or cube = "…" names the store
    kernel = "sigma"
    baseline = "mond"            # win rates are computed against this kernel
    metrics = ["mean_rms", "win_rate", "rms"]   # optional: what to store (default: every metric
                                                # of sigcube.metrics.METRICS)
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

Everything is validated against the kernel's declared parameters before anything runs.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import astropy.units as u
import numpy as np

from sigcube.conventions import SampleCuts
from sigcube.datasets import dataset_names
from sigcube.errors import SigcubeError
from sigcube.kernels import Kernel, KernelError, get_kernel
from sigcube.metrics import metric_names
from sigcube.presets import get_preset

SPACINGS = ("linspace", "logspace", "values")
TOP_LEVEL = {"name", "description", "dataset", "cube", "kernel", "baseline", "preset", "fixed", "grid", "sample",
             "block_size", "metrics"}
MAX_GRID_POINTS = 10**8


class SpecError(SigcubeError):
    """A sweep spec that cannot run: bad syntax, unknown names, values out of bounds."""


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
    cube: str | None = None
    preset: str | None = None
    text: str = field(default="", repr=False)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(a) for a in self.axes)

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
            "metrics": list(self.metrics),
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
    """Read and validate a sweep spec file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"{path}: cannot read the sweep spec ({exc.strerror})") from None
    return parse_spec(text, where=str(path))


def parse_spec(text: str, where: str = "spec") -> SweepSpec:
    """Validate a spec given as TOML text (``where`` names it in errors)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{where}: not valid TOML: {exc}") from None
    try:
        return _build(raw, text)
    except KernelError as exc:
        raise SpecError(f"{where}: {exc}") from None
    except SpecError as exc:
        raise SpecError(f"{where}: {exc}") from None


def _build(raw: dict, text: str) -> SweepSpec:
    unknown = set(raw) - TOP_LEVEL
    if unknown:
        raise SpecError(f"unknown top-level keys {sorted(unknown)}; valid keys: {sorted(TOP_LEVEL)}")
    for key in ("name", "kernel", "grid"):
        if key not in raw:
            raise SpecError(f"missing required key {key!r}")
    dataset = raw.get("dataset", "sparc")
    if dataset not in dataset_names():
        raise SpecError(f"unknown dataset {dataset!r}; datasets: {', '.join(dataset_names())}")
    kernel = get_kernel(raw["kernel"])
    baseline = get_kernel(raw.get("baseline", "mond"))
    fixed: dict[str, Any] = {}
    preset = raw.get("preset")
    if preset is not None:
        chosen = get_preset(preset)
        if chosen.kernel != kernel.name:
            raise SpecError(f"preset {preset!r} sets {chosen.kernel!r} parameters; this spec's kernel is {kernel.name!r}")
        fixed.update(chosen.kernel_params())
    fixed.update(raw.get("fixed", {}))
    if not isinstance(raw["grid"], dict) or not raw["grid"]:
        raise SpecError("[grid] must have at least one table [grid.<parameter>]")
    axes = tuple(_axis(kernel, name, table) for name, table in raw["grid"].items())
    both = set(fixed) & {a.name for a in axes}
    for name in both:
        fixed.pop(name)  # a swept parameter overrides the preset/fixed value
    kernel.resolve({**fixed, **{a.name: a.values[0] for a in axes}})  # names, bounds, choices, constraints
    size = int(np.prod([len(a) for a in axes]))
    if size > MAX_GRID_POINTS:
        raise SpecError(f"the grid has {size:.3g} points; sigcube sweeps at most {MAX_GRID_POINTS:.0e}")
    block_size = raw.get("block_size", 0)
    if not isinstance(block_size, int) or block_size < 0:
        raise SpecError(f"block_size must be a whole number ≥ 0 (0 = automatic); got {block_size!r}")
    known = metric_names()
    metrics = raw.get("metrics", list(known))
    if not isinstance(metrics, list) or not metrics or set(metrics) - set(known):
        raise SpecError(f"metrics must be a non-empty list from {', '.join(known)}; got {metrics!r}")
    sample = raw.get("sample", {})
    try:
        cuts = SampleCuts(**sample)
    except TypeError:
        raise SpecError(f"[sample] keys must be among {list(SampleCuts().as_dict())}; got {sorted(sample)}") from None
    return SweepSpec(
        name=str(raw["name"]),
        description=str(raw.get("description", "")),
        dataset=dataset,
        kernel=kernel,
        baseline=baseline,
        fixed={k: kernel.parameter(k).check(kernel.name, v) for k, v in fixed.items()},
        axes=axes,
        cuts=cuts,
        block_size=block_size,
        metrics=tuple(m for m in known if m in metrics),
        cube=raw.get("cube"),
        preset=preset,
        text=text,
    )


def _axis(kernel: Kernel, name: str, table: Any) -> Axis:
    param = kernel.parameter(name)
    if not isinstance(table, dict):
        raise SpecError(f"[grid.{name}] must be a table with one of {', '.join(SPACINGS)}")
    given = [k for k in SPACINGS if k in table]
    extra = set(table) - set(SPACINGS) - {"unit", "include_default"}
    if len(given) != 1 or extra:
        raise SpecError(f"[grid.{name}] needs exactly one of {', '.join(SPACINGS)} (optionally unit, "
                        "include_default); "
                        f"got keys {sorted(table)}")
    kind = given[0]
    if param.categorical:
        if kind != "values" or "unit" in table:
            raise SpecError(f"[grid.{name}] is a switch: give values = [{', '.join(map(repr, param.choices))}]")
        values = np.array([param.check(kernel.name, v) for v in table["values"]], dtype=object)
        return Axis(name, values, "", categorical=True)
    values = _spacing(name, kind, table[kind])
    unit = table.get("unit", param.unit)
    try:
        values = (values * u.Unit(unit)).to_value(u.Unit(param.unit))
    except (ValueError, u.UnitConversionError) as exc:
        raise SpecError(f"[grid.{name}] unit {unit!r} cannot be converted to {param.unit or 'dimensionless'!r}: {exc}")
    if table.get("include_default", False) and not np.any(values == param.default):
        values = np.sort(np.append(values, param.default))
    param.check(kernel.name, values)
    if len(np.unique(values)) != len(values):
        raise SpecError(f"[grid.{name}] has repeated values")
    return Axis(name, values, param.unit)


def _spacing(name: str, kind: str, arg: Any) -> np.ndarray:
    try:
        if kind == "values":
            values = np.asarray(arg, dtype=float)
            if values.ndim != 1 or len(values) == 0:
                raise ValueError
            return values
        start, stop, num = arg
        if int(num) != num or num < 1:
            raise ValueError
        if kind == "logspace":
            if start <= 0 or stop <= 0:
                raise SpecError(f"[grid.{name}] logspace needs positive start and stop; got {arg}")
            return np.geomspace(float(start), float(stop), int(num))
        return np.linspace(float(start), float(stop), int(num))
    except (TypeError, ValueError):
        shape = "a non-empty list of numbers" if kind == "values" else "[start, stop, num] with a whole num ≥ 1"
        raise SpecError(f"[grid.{name}] {kind} must be {shape}; got {arg!r}") from None
