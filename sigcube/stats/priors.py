"""Priors of nuisance and global parameters: densities, normal-deviate maps, report text and spec dicts.

Five families, each a frozen dataclass whose numbers may be floats or per-object arrays (a
galaxy's catalogue distance):

==================  ==========================================  ===========================================
``dist``            spec keys                                   density of x
==================  ==========================================  ===========================================
normal              loc, scale                                  N(loc, scale)
log10_normal        median, sigma_dex                           log10 x ~ N(log10 median, sigma_dex)
truncated_normal    loc, scale, lower (−∞), upper (+∞)          N(loc, scale) restricted to [lower, upper]
uniform             lower, upper                                1/(upper − lower)
log_uniform         lower, upper                                1/(x·ln(upper/lower))
==================  ==========================================  ===========================================

Every prior maps its variable to a standard normal deviate z and back (:meth:`Prior.to_normal`,
:meth:`Prior.from_normal`: x = F⁻¹(Φ(z)), F the prior's CDF). In z the prior is exactly N(0, 1)
whatever the family and its truncation, so ∫ L(x) π(x) dx = ∫ L(x(z)) φ(z) dz over all of ℝ:
the coordinates in which :mod:`sigcube.compute.quadrature` integrates. The maps are computed on
the side of the distribution where they keep full precision (upper tails through Φ(−z)); near a
bound (truncation, uniform end) x is limited by float spacing, so the round trip z → x → z holds to
1e-6 for |z| ≤ 6 (further for unbounded tails).

A spec value that is a string names a per-object column of a catalogue (``loc = "distance"``), so
one TOML line serves every galaxy: :meth:`Prior.from_spec` resolves it, :meth:`Prior.to_spec` and
:meth:`Prior.describe` give the name back.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, ClassVar

import numpy as np
from scipy.special import ndtr, ndtri

from sigcube.errors import SigcubeError

ArrayLike = float | np.ndarray


class PriorError(SigcubeError):
    """A prior spec that names an unknown family, lacks a key, or holds values out of range."""


def _fmt(value: Any, ref: str | None) -> str:
    """A prior parameter for report text: the catalogue column it came from, or the number."""
    if ref is not None:
        return ref
    value = float(value)
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    return f"{value:g}"


@dataclass(frozen=True)
class Prior:
    """A prior density over one real variable (base class; see the module table for the families).

    ``refs`` records which fields came from catalogue columns (field → column name), for
    :meth:`describe` and :meth:`to_spec`.
    """

    refs: Mapping[str, str] = field(default_factory=dict, kw_only=True, compare=False)

    dist: ClassVar[str] = ""
    keys: ClassVar[tuple[str, ...]] = ()
    optional: ClassVar[Mapping[str, float]] = {}

    # --- to be implemented by each family ---------------------------------------------------------------
    def logpdf(self, x: ArrayLike) -> np.ndarray:
        """ln π(x), −∞ outside the support."""
        raise NotImplementedError

    def from_normal(self, z: ArrayLike) -> np.ndarray:
        """x = F⁻¹(Φ(z)): the value whose prior quantile is that of the standard normal deviate ``z``."""
        raise NotImplementedError

    def to_normal(self, x: ArrayLike) -> np.ndarray:
        """z = Φ⁻¹(F(x)), the inverse of :meth:`from_normal`."""
        raise NotImplementedError

    def support(self) -> tuple[ArrayLike, ArrayLike]:
        """(lower, upper) ends of the support."""
        raise NotImplementedError

    def _text(self, symbol: str) -> str:
        raise NotImplementedError

    # --- shared ----------------------------------------------------------------------------------------
    def describe(self, symbol: str = "x") -> str:
        """Plain text for reports, e.g. ``log10 Υ_disk ~ N(log10 0.5, 0.1)``."""
        return self._text(symbol)

    def _value(self, name: str) -> Any:
        value = getattr(self, name)
        return self.refs.get(name, value if np.ndim(value) else float(value))

    def to_spec(self) -> dict[str, Any]:
        """The dict a TOML spec holds; :meth:`from_spec` reads it back (catalogue columns by name)."""
        spec = {"dist": self.dist}
        spec.update({k: self._value(k) for k in self.keys})
        spec.update({k: self._value(k) for k, default in self.optional.items() if self._value(k) != default})
        return spec

    def take(self, index: np.ndarray) -> Prior:
        """The prior of a subset of objects: every per-object array indexed by ``index``."""
        changes = {f.name: np.asarray(getattr(self, f.name))[index] for f in fields(self)
                   if f.name != "refs" and np.ndim(getattr(self, f.name))}
        return replace(self, **changes)

    @staticmethod
    def from_spec(spec: Mapping[str, Any], catalogue: Mapping[str, np.ndarray] | None = None,
                  name: str = "prior") -> Prior:
        """A prior from its spec dict, e.g. ``{"dist": "log10_normal", "median": 0.5, "sigma_dex": 0.1}``.

        A string value names a column of ``catalogue`` (one value per object). ``name`` labels errors.
        Raises PriorError for an unknown ``dist``, missing or unknown keys, non-numbers and invalid values.
        """
        if not isinstance(spec, Mapping):
            raise PriorError(f"{name}: a prior is a table such as {{dist = \"normal\", loc = 0, scale = 1}}; "
                             f"got {spec!r}")
        dist = spec.get("dist")
        family = FAMILIES.get(dist) if isinstance(dist, str) else None
        if family is None:
            raise PriorError(f"{name}: unknown prior dist {dist!r}; choose one of {', '.join(FAMILIES)}")
        allowed = set(family.keys) | set(family.optional)
        missing = [k for k in family.keys if k not in spec]
        unknown = sorted(set(spec) - allowed - {"dist"})
        if missing or unknown:
            raise PriorError(f"{name}: a {dist} prior takes {', '.join(family.keys)}"
                             + (f" (optional: {', '.join(family.optional)})" if family.optional else "")
                             + (f"; missing {', '.join(missing)}" if missing else "")
                             + (f"; unknown {', '.join(unknown)}" if unknown else ""))
        values: dict[str, Any] = {}
        refs: dict[str, str] = {}
        for key in allowed:
            raw = spec.get(key, family.optional.get(key))
            if isinstance(raw, str):
                if catalogue is None or raw not in catalogue:
                    have = f"; the catalogue has {', '.join(sorted(catalogue))}" if catalogue else "; no catalogue given"
                    raise PriorError(f"{name}: {key} = {raw!r} names no catalogue column{have}")
                refs[key] = raw
                raw = catalogue[raw]
            values[key] = _number(name, key, raw)
        return family(**values, refs=refs)


def _number(name: str, key: str, raw: Any) -> ArrayLike:
    """A spec value as a float or a float array; PriorError naming the key otherwise."""
    if isinstance(raw, bool) or raw is None:
        raise PriorError(f"{name}: {key} must be a number; got {raw!r}")
    try:
        arr = np.asarray(raw, dtype=float)
    except (TypeError, ValueError):
        raise PriorError(f"{name}: {key} must be a number; got {raw!r}") from None
    if np.isnan(arr).any():
        raise PriorError(f"{name}: {key} has NaN values")
    return arr if arr.ndim else float(arr)


def _check(name: str, ok: Any, message: str) -> None:
    if not np.all(ok):
        raise PriorError(f"{name} prior: {message}")


def _lower_tail_map(z, a_cdf, b_sf, mass):
    """t = Φ⁻¹(Φ(a) + Φ(z)·(Φ(b) − Φ(a))) for z < 0 and its upper-tail form for z ≥ 0 (full precision)."""
    z = np.asarray(z, dtype=float)
    low = ndtri(a_cdf + ndtr(z) * mass)
    high = -ndtri(b_sf + ndtr(-z) * mass)
    return np.where(z < 0, low, high)


@dataclass(frozen=True)
class Normal(Prior):
    """x ~ N(loc, scale)."""

    loc: ArrayLike
    scale: ArrayLike
    dist: ClassVar[str] = "normal"
    keys: ClassVar[tuple[str, ...]] = ("loc", "scale")

    def __post_init__(self) -> None:
        _check(self.dist, np.asarray(self.scale) > 0, f"scale must be > 0; got {self.scale}")

    def logpdf(self, x):
        t = (np.asarray(x, dtype=float) - self.loc) / self.scale
        return -0.5 * t * t - np.log(self.scale) - 0.5 * math.log(2 * math.pi)

    def from_normal(self, z):
        return self.loc + self.scale * np.asarray(z, dtype=float)

    def to_normal(self, x):
        return (np.asarray(x, dtype=float) - self.loc) / self.scale

    def support(self):
        return (-np.inf, np.inf)

    def _text(self, symbol):
        return f"{symbol} ~ N({_fmt(self.loc, self.refs.get('loc'))}, {_fmt(self.scale, self.refs.get('scale'))})"


@dataclass(frozen=True)
class Log10Normal(Prior):
    """log10 x ~ N(log10 median, sigma_dex)."""

    median: ArrayLike
    sigma_dex: ArrayLike
    dist: ClassVar[str] = "log10_normal"
    keys: ClassVar[tuple[str, ...]] = ("median", "sigma_dex")

    def __post_init__(self) -> None:
        _check(self.dist, np.asarray(self.median) > 0, f"median must be > 0; got {self.median}")
        _check(self.dist, np.asarray(self.sigma_dex) > 0, f"sigma_dex must be > 0; got {self.sigma_dex}")

    def logpdf(self, x):
        x = np.asarray(x, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (np.log10(x) - np.log10(self.median)) / self.sigma_dex
            out = -0.5 * t * t - np.log(self.sigma_dex * x * math.log(10)) - 0.5 * math.log(2 * math.pi)
        return np.where(x > 0, out, -np.inf)

    def from_normal(self, z):
        return self.median * 10.0 ** (self.sigma_dex * np.asarray(z, dtype=float))

    def to_normal(self, x):
        return np.log10(np.asarray(x, dtype=float) / self.median) / self.sigma_dex

    def support(self):
        return (0.0, np.inf)

    def _text(self, symbol):
        return (f"log10 {symbol} ~ N(log10 {_fmt(self.median, self.refs.get('median'))}, "
                f"{_fmt(self.sigma_dex, self.refs.get('sigma_dex'))})")


@dataclass(frozen=True)
class TruncatedNormal(Prior):
    """x ~ N(loc, scale) restricted to [lower, upper] (renormalised)."""

    loc: ArrayLike
    scale: ArrayLike
    lower: ArrayLike = -np.inf
    upper: ArrayLike = np.inf
    dist: ClassVar[str] = "truncated_normal"
    keys: ClassVar[tuple[str, ...]] = ("loc", "scale")
    optional: ClassVar[Mapping[str, float]] = {"lower": -np.inf, "upper": np.inf}

    def __post_init__(self) -> None:
        _check(self.dist, np.asarray(self.scale) > 0, f"scale must be > 0; got {self.scale}")
        _check(self.dist, np.asarray(self.lower) < np.asarray(self.upper),
               f"lower must be < upper; got [{self.lower}, {self.upper}]")
        _check(self.dist, self._mass() > 1e-300, "the interval holds no probability of N(loc, scale)")

    def _bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Standardised bounds a = (lower − loc)/scale, b = (upper − loc)/scale."""
        return (np.asarray(self.lower - np.asarray(self.loc)) / self.scale,
                np.asarray(self.upper - np.asarray(self.loc)) / self.scale)

    def _mass(self) -> np.ndarray:
        """Φ(b) − Φ(a), computed on the side of the mean where it keeps precision."""
        a, b = self._bounds()
        return np.where(a > 0, ndtr(-a) - ndtr(-b), ndtr(b) - ndtr(a))

    def logpdf(self, x):
        x = np.asarray(x, dtype=float)
        t = (x - self.loc) / self.scale
        out = -0.5 * t * t - np.log(self.scale * self._mass()) - 0.5 * math.log(2 * math.pi)
        return np.where((x >= self.lower) & (x <= self.upper), out, -np.inf)

    def from_normal(self, z):
        a, b = self._bounds()
        x = self.loc + self.scale * _lower_tail_map(z, ndtr(a), ndtr(-b), self._mass())
        return np.clip(x, self.lower, self.upper)  # rounding at a bound stays on the support

    def to_normal(self, x):
        a, b = self._bounds()
        t = (np.asarray(x, dtype=float) - self.loc) / self.scale
        mass = self._mass()
        low = ndtri((ndtr(t) - ndtr(a)) / mass)
        high = -ndtri((ndtr(-t) - ndtr(-b)) / mass)
        return np.where(t < 0, low, high)

    def support(self):
        return (self.lower, self.upper)

    def _text(self, symbol):
        base = Normal._text(self, symbol)  # type: ignore[arg-type]
        return f"{base} truncated to [{_fmt(self.lower, self.refs.get('lower'))}, {_fmt(self.upper, self.refs.get('upper'))}]"


@dataclass(frozen=True)
class Uniform(Prior):
    """x ~ U(lower, upper)."""

    lower: ArrayLike
    upper: ArrayLike
    dist: ClassVar[str] = "uniform"
    keys: ClassVar[tuple[str, ...]] = ("lower", "upper")

    def __post_init__(self) -> None:
        _check(self.dist, np.isfinite(self.lower) & np.isfinite(self.upper), "lower and upper must be finite")
        _check(self.dist, np.asarray(self.lower) < np.asarray(self.upper),
               f"lower must be < upper; got [{self.lower}, {self.upper}]")

    def _u(self, x):
        return np.asarray(x, dtype=float)

    def _u_bounds(self):
        return self._u(self.lower), self._u(self.upper)

    def _x(self, u):
        return u

    def logpdf(self, x):
        x = np.asarray(x, dtype=float)
        lo, hi = self._u_bounds()
        with np.errstate(divide="ignore", invalid="ignore"):
            out = -np.log(hi - lo) + self._log_jacobian(x)
        return np.where((x >= self.lower) & (x <= self.upper), out, -np.inf)

    def _log_jacobian(self, x):
        """ln |du/dx| of the variable in which the prior is flat."""
        return np.zeros_like(x)

    def from_normal(self, z):
        lo, hi = self._u_bounds()
        z = np.asarray(z, dtype=float)
        u = np.where(z < 0, lo + (hi - lo) * ndtr(z), hi - (hi - lo) * ndtr(-z))
        return self._x(u)

    def to_normal(self, x):
        lo, hi = self._u_bounds()
        f = (self._u(x) - lo) / (hi - lo)
        return np.where(f < 0.5, ndtri(f), -ndtri((hi - self._u(x)) / (hi - lo)))

    def support(self):
        return (self.lower, self.upper)

    def _text(self, symbol):
        return f"{symbol} ~ U({_fmt(self.lower, self.refs.get('lower'))}, {_fmt(self.upper, self.refs.get('upper'))})"


@dataclass(frozen=True)
class LogUniform(Uniform):
    """ln x ~ U(ln lower, ln upper): density 1/(x·ln(upper/lower))."""

    dist: ClassVar[str] = "log_uniform"

    def __post_init__(self) -> None:
        _check(self.dist, np.asarray(self.lower) > 0, f"lower must be > 0; got {self.lower}")
        super().__post_init__()

    def _u(self, x):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(np.asarray(x, dtype=float))

    def _x(self, u):
        return np.exp(u)

    def _log_jacobian(self, x):
        with np.errstate(divide="ignore", invalid="ignore"):
            return -np.log(x)

    def _text(self, symbol):
        return f"ln {symbol} ~ U(ln {_fmt(self.lower, self.refs.get('lower'))}, ln {_fmt(self.upper, self.refs.get('upper'))})"


FAMILIES: dict[str, type[Prior]] = {cls.dist: cls for cls in (Normal, Log10Normal, TruncatedNormal, Uniform, LogUniform)}
"""Every prior family by its spec name."""
