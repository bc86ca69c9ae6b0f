"""Fit specs: which kernel parameters every object gets its own value of, their bounds, and the nuisance mode.

A spec is a TOML file (``sweeps/fits/fit_*.toml``)::

    name = "fit_sigma_xi"            # default: the file's stem
    dataset = "sparc"                # a dataset kind (sigcube.io.datasets)
    kernel = "sigma_xi"
    [free.A]                         # one table per fitted parameter (none: only the nuisance, if any, is fitted)
    bounds = [0.01, 5.0]             # inside the kernel's own bounds
    grid = 12                        # coarse-grid points (default 12)
    scale = "linear"                 # or "log": grid and optimiser in log10
    [free.xi]
    bounds = [0.1, 50.0]
    scale = "log"
    [fixed]                          # other kernel parameters (default: the kernel's defaults)
    g_dagger = 1.2e-10
    [fit]
    starts = 3                       # local optimisations per object, from the best grid points
    chunk = 24                       # objects per Dask task
    sigma_int = 0.0                  # error floor [km/s] added in quadrature to e_V (deprojected frame)
    [nuisance]
    mode = "none"                    # or "profile": Υ_disk, Υ_bul, D, i at the mode of L × prior
    parameters = ["upsilon_disk", "upsilon_bul", "distance", "inclination"]
    # priors: {name = {dist = …}} overrides Li+2018 (sigcube.stats.nuisance.SPARC_PRIORS)

Every problem is a :class:`FitSpecError` naming the key.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import ValidationError

from sigcube.engines.nuisance_spec import FitNuisance
from sigcube.engines.sweep.schema import NAME_PATTERN, spec_error
from sigcube.errors import SigcubeError, SpecError
from sigcube.io.datasets import check_nuisance, dataset_names
from sigcube.model.kernels import Kernel, KernelError, get_kernel


_TOP_KEYS = {"name", "dataset", "kernel", "cube", "free", "fixed", "fit", "nuisance"}


class FitSpecError(SpecError):
    """A fit spec that cannot run; the message names the key."""


@dataclass(frozen=True)
class FreeParameter:
    """One per-object fitted parameter: bounds in its units, coarse-grid size, linear or log10 coordinates."""

    name: str
    lower: float
    upper: float
    grid: int = 12
    scale: Literal["linear", "log"] = "linear"

    def to_u(self, x: np.ndarray | float) -> np.ndarray:
        """The optimiser's coordinate u: x, or log10 x."""
        return np.log10(x) if self.scale == "log" else np.asarray(x, dtype=float)

    def from_u(self, u: np.ndarray | float) -> np.ndarray:
        return 10.0 ** np.asarray(u) if self.scale == "log" else np.asarray(u, dtype=float)

    def dx_du(self, x: np.ndarray | float) -> np.ndarray:
        """dx/du at x (the factor from an error in u to one in x)."""
        return np.asarray(x) * math.log(10.0) if self.scale == "log" else np.ones_like(np.asarray(x, dtype=float))

    @property
    def u_bounds(self) -> tuple[float, float]:
        return float(self.to_u(self.lower)), float(self.to_u(self.upper))

    def grid_values(self) -> np.ndarray:
        """The coarse grid: ``grid`` points evenly spaced in u, bounds included."""
        return self.from_u(np.linspace(*self.u_bounds, self.grid))


@dataclass(frozen=True)
class FitSpec:
    """A parsed fit spec (module docstring)."""

    name: str
    dataset: str
    kernel: Kernel
    free: tuple[FreeParameter, ...]
    fixed: dict[str, Any] = field(default_factory=dict)
    starts: int = 3
    chunk: int = 24
    sigma_int: float = 0.0
    """Error floor / intrinsic scatter [km/s] added in quadrature to the (deprojected) velocity errors."""
    nuisance: str = "none"
    nuisance_parameters: tuple[str, ...] = ()
    priors: dict[str, dict] = field(default_factory=dict)
    cube: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.free)

    @property
    def k(self) -> int:
        """Fitted kernel parameters per object."""
        return len(self.free)

    def to_dict(self) -> dict[str, Any]:
        """The spec as TOML-shaped data (stored in the result cube's attributes)."""
        return {"name": self.name, "dataset": self.dataset, "kernel": self.kernel.name,
                "free": {p.name: {"bounds": [p.lower, p.upper], "grid": p.grid, "scale": p.scale} for p in self.free},
                "fixed": dict(self.fixed), "fit": {"starts": self.starts, "chunk": self.chunk, "sigma_int": self.sigma_int},
                "nuisance": {"mode": self.nuisance, "parameters": list(self.nuisance_parameters),
                             "priors": self.priors}}


def _table(raw: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, Mapping):
        raise FitSpecError(f"[{key}] must be a table; got {type(value).__name__}")
    return dict(value)


def _int(value: Any, key: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise FitSpecError(f"{key} must be an integer in {lo}–{hi}; got {value!r}")
    return value


def _free(kernel: Kernel, name: str, raw: Any) -> FreeParameter:
    key = f"free.{name}"
    if not isinstance(raw, Mapping):
        raise FitSpecError(f"[{key}] must be a table with bounds = [lower, upper]")
    unknown = sorted(set(raw) - {"bounds", "grid", "scale"})
    if unknown:
        raise FitSpecError(f"[{key}] has unknown key(s) {', '.join(unknown)}; keys: bounds, grid, scale")
    try:
        param = kernel.parameter(name)
    except KernelError as exc:
        raise FitSpecError(f"[{key}]: {exc}") from None
    if param.categorical:
        raise FitSpecError(f"[{key}]: {name!r} is a switch; only numeric parameters can be fitted")
    bounds = raw.get("bounds", list(param.bounds))
    if (not isinstance(bounds, list) or len(bounds) != 2
            or not all(isinstance(b, (int, float)) and not isinstance(b, bool) and math.isfinite(b) for b in bounds)):
        raise FitSpecError(f"{key}.bounds must be two finite numbers [lower, upper]; got {bounds!r}")
    lower, upper = float(bounds[0]), float(bounds[1])
    lo, hi = param.bounds
    if not (lo <= lower < upper <= hi):
        raise FitSpecError(f"{key}.bounds {bounds} must satisfy {lo:g} ≤ lower < upper ≤ {hi:g} (the kernel's bounds)")
    scale = raw.get("scale", "linear")
    if scale not in ("linear", "log"):
        raise FitSpecError(f"{key}.scale must be 'linear' or 'log'; got {scale!r}")
    if scale == "log" and lower <= 0:
        raise FitSpecError(f"{key}.scale = 'log' needs lower > 0; got {lower:g}")
    return FreeParameter(name, lower, upper, _int(raw.get("grid", 12), f"{key}.grid", 2, 200), scale)


def parse_spec(raw: Mapping[str, Any], name: str = "fit") -> FitSpec:
    """A :class:`FitSpec` from TOML-shaped data, every key checked."""
    unknown = sorted(set(raw) - _TOP_KEYS)
    if unknown:
        raise FitSpecError(f"unknown key(s) {', '.join(unknown)}; keys: {', '.join(sorted(_TOP_KEYS))}")
    for key in ("dataset", "kernel"):
        if not isinstance(raw.get(key), str):
            raise FitSpecError(f"{key} must be given as a string")
    if raw["dataset"] not in dataset_names():
        raise FitSpecError(f"dataset {raw['dataset']!r} is not a dataset kind; kinds: {', '.join(dataset_names())}")
    try:
        kernel = get_kernel(raw["kernel"])
    except KernelError as exc:
        raise FitSpecError(f"kernel: {exc}") from None
    free_raw = _table(raw, "free")
    free = tuple(_free(kernel, n, v) for n, v in free_raw.items())
    fixed = _table(raw, "fixed")
    clash = sorted(set(fixed) & set(free_raw))
    if clash:
        raise FitSpecError(f"[fixed] and [free] both name {', '.join(clash)}")
    try:
        kernel.resolve({**fixed, **{p.name: p.lower for p in free}})
    except KernelError as exc:
        raise FitSpecError(f"[fixed]: {exc}") from None
    fit = _table(raw, "fit")
    bad = sorted(set(fit) - {"starts", "chunk", "sigma_int"})
    if bad:
        raise FitSpecError(f"[fit] has unknown key(s) {', '.join(bad)}; keys: starts, chunk, sigma_int")
    sigma_int = fit.get("sigma_int", 0.0)
    if isinstance(sigma_int, bool) or not isinstance(sigma_int, (int, float)) or not 0 <= sigma_int < math.inf:
        raise FitSpecError(f"fit.sigma_int must be a finite number ≥ 0 [km/s]; got {sigma_int!r}")
    try:
        nuis = FitNuisance.model_validate(_table(raw, "nuisance"))
    except ValidationError as exc:
        raise FitSpecError(spec_error(exc, ("nuisance",), {("nuisance",): FitNuisance})) from None
    if nuis.mode != "none":
        try:
            check_nuisance(raw["dataset"])
        except SigcubeError as exc:
            raise FitSpecError(f"nuisance.mode = {nuis.mode!r}: {exc}") from None
    cube = raw.get("cube")
    if cube is not None and not isinstance(cube, str):
        raise FitSpecError("cube must be a path string")
    spec_name = raw.get("name", name)
    if not isinstance(spec_name, str) or not re.fullmatch(NAME_PATTERN, spec_name):
        raise FitSpecError(f"name: must match {NAME_PATTERN} (letters, digits, . + - _; it names the default result "
                           f"cube cubes/<name>.zarr); got {spec_name!r}"
                           + ("" if "name" in raw else " (the file's stem: give name = \"…\")"))
    return FitSpec(spec_name, raw["dataset"], kernel, free, fixed, _int(fit.get("starts", 3), "fit.starts", 1, 20),
                   _int(fit.get("chunk", 24), "fit.chunk", 1, 100000), float(sigma_int), nuis.mode,
                   tuple(nuis.parameters), nuis.prior_specs(), cube)


def load_spec(path: str | Path) -> FitSpec:
    """Read and check a fit spec file."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FitSpecError(f"{path}: no such fit spec") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FitSpecError(f"{path}: cannot read it ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise FitSpecError(f"{path}: not valid TOML ({exc})") from None
    try:
        return parse_spec(raw, path.stem)
    except FitSpecError as exc:
        raise FitSpecError(f"{path}: {exc}") from None
