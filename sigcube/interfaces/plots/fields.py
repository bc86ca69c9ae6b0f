"""What a figure reads of a report's JSON, field by field: each field by its path, with the type, the size, the
finiteness, the sign and the range the figure needs, and the sums and differences it must agree with.

A figure wraps the report in :meth:`Field.report` and reads it as it would the JSON (``report["logo"]["nuisance"]``),
each value through the method that says what it must be (:meth:`Field.number`, :meth:`Field.numbers`,
:meth:`Field.interval`, :meth:`Field.text`, :meth:`Field.names`, :meth:`Field.elements`, …). A field that is missing, of
another kind or size, not finite, negative where it cannot be, outside its physical bounds (:class:`Bound`) or that
contradicts the fields it is made of (:meth:`Field.agrees`) is refused in one :class:`FieldError` line naming its JSON
path (``report.runs.catalogue.nfw-lcdm.halos.data_vars.c200``: from the top of the file given, ``report.`` in a
committed record)::

    models = report["logo"][run]["models"].mapping(nonempty=True)
    se = models["mond"]["dse"].number(NONNEGATIVE)
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sigcube.interfaces.plots.base import PlotError, numbers, report_of


class FieldError(PlotError):
    """A field of a report that a figure cannot draw: missing, of another kind or size, not finite, of the wrong
    sign, outside its physical bounds, or contradicting the fields it is made of. The message names its JSON path."""


@dataclass(frozen=True)
class Bound:
    """Allowed values of a number: ``low ≤ x ≤ high`` (``low < x`` when ``open_low``), and why (a phrase)."""

    low: float = -math.inf
    high: float = math.inf
    why: str = ""
    open_low: bool = False

    @property
    def text(self) -> str:
        """The range in words: ``≥ 0``, ``> 0``, ``between 0 and 1``, ``≤ 5``."""
        low = f"{'>' if self.open_low else '≥'} {self.low:g}"
        if self.low > -math.inf and self.high < math.inf:
            return f"between {self.low:g} and {self.high:g}" if not self.open_low else f"{low} and ≤ {self.high:g}"
        return low if self.low > -math.inf else f"≤ {self.high:g}" if self.high < math.inf else "finite"

    def outside(self, values: np.ndarray) -> np.ndarray:
        """Flags of the (finite) values outside the range."""
        return (values < self.low) | (values > self.high) | ((values == self.low) & self.open_low)


FINITE = Bound()
"""Any finite number."""
NONNEGATIVE = Bound(0.0, why="an error, a spread, a count or a mass is never negative")
POSITIVE = Bound(0.0, why="the quantity is positive", open_low=True)
FRACTION = Bound(0.0, 1.0, why="a fraction or a probability lies between 0 and 1")
AGREE = 1e-6
"""The relative tolerance of :meth:`Field.agrees` (a report's sums and differences are exact to rounding)."""
LARGEST = 1e100
"""No number of a report comes near this in magnitude (an ELPD, a mass in M☉, a rate per second): one beyond it is
refused whatever its bounds, as a figure's axis arithmetic would overflow on it (1e308 drew an infinite axis)."""


def _kind(value: Any) -> str:
    """What a JSON value is, in words."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class Field:
    """A value of a report's JSON and where it is: its ``path`` from the top of the input, and ``what`` reads it
    (the figure: the first words of every refusal)."""

    __slots__ = ("value", "what", "path")
    __iter__ = None  # iterating would index the field until a refusal: read elements() of a list, items() of an object

    def __init__(self, value: Any, what: str, path: tuple[str | int, ...] = ()) -> None:
        self.value, self.what, self.path = value, what, path

    @classmethod
    def report(cls, data: Any, what: str) -> Field:
        """The report of ``data`` (a report's JSON, or a committed record holding one at ``report``) as a field."""
        inner = report_of(data)
        return cls(inner, what, ("report",) if inner is not data else ())

    @property
    def where(self) -> str:
        """The JSON path, dotted (``logo.nuisance.models``), or "the report" at the top; a name's control characters
        escaped (a refusal is one line)."""
        return ".".join("".join(c if c.isprintable() else repr(c)[1:-1] for c in str(k)) for k in self.path) or \
            "the report"

    def refuse(self, problem: str) -> FieldError:
        """A FieldError ``<what>: <path> <problem>``."""
        return FieldError(f"{self.what}: {self.where} {problem}")

    def _child(self, key: str | int, value: Any) -> Field:
        return Field(value, self.what, (*self.path, key))

    # --- containers ------------------------------------------------------------------------------------------------

    def __getitem__(self, key: str | int) -> Field:
        """The field at ``key`` of an object (a name) or a list (an index); refused when it is absent."""
        if isinstance(key, int) and not isinstance(self.value, Mapping):
            items = self.elements()
            if not -len(items) <= key < len(items):
                raise self._child(key, None).refuse(f"is missing ({self.where} has {len(items)} items)")
            return items[key]
        found = self.mapping().value
        if key not in found:
            raise self._child(key, None).refuse("is missing (is it the JSON of the report this figure reads?)")
        return self._child(key, found[key])

    def __contains__(self, key: str) -> bool:
        return isinstance(self.value, Mapping) and key in self.value

    def get(self, key: str) -> Field | None:
        """The field at ``key`` of an object, or None when it is absent or null."""
        found = self.mapping().value
        return None if found.get(key) is None else self._child(key, found[key])

    def mapping(self, nonempty: bool = False) -> Field:
        """This field, which must be an object (``nonempty``: with at least one entry)."""
        if not isinstance(self.value, Mapping):
            raise self.refuse(f"is {_kind(self.value)}, not an object (is it the JSON of the report this figure "
                              "reads?)")
        if nonempty and not self.value:
            raise self.refuse("is empty")
        return self

    def items(self, nonempty: bool = False) -> Iterator[tuple[str, Field]]:
        """The entries of an object, as (name, field)."""
        for key, value in self.mapping(nonempty).value.items():
            yield str(key), self._child(key, value)

    def keys(self, nonempty: bool = False) -> list[str]:
        """The names of an object's entries."""
        return [str(k) for k in self.mapping(nonempty).value]

    def elements(self, size: int | None = None, nonempty: bool = False) -> list[Field]:
        """The items of a list (``size`` of them, when given; ``nonempty``: at least one)."""
        if not isinstance(self.value, list):
            raise self.refuse(f"is {_kind(self.value)}, not a list")
        self._size(len(self.value), size, nonempty)
        return [self._child(i, v) for i, v in enumerate(self.value)]

    def _size(self, n: int, size: int | None, nonempty: bool) -> None:
        if size is not None and n != size:
            raise self.refuse(f"has {n} values, not {size}")
        if nonempty and n == 0:
            raise self.refuse("is empty")

    # --- values ----------------------------------------------------------------------------------------------------

    def text(self, choices: Sequence[str] | None = None) -> str:
        """A text (one of ``choices``, when given)."""
        if not isinstance(self.value, str):
            raise self.refuse(f"is {_kind(self.value)}, not text")
        if choices is not None and self.value not in choices:
            raise self.refuse(f"is {self.value!r}, not one of {', '.join(map(str, choices))}")
        return self.value

    def flag(self) -> bool:
        """true or false."""
        if not isinstance(self.value, bool):
            raise self.refuse(f"is {_kind(self.value)}, not true or false")
        return self.value

    def names(self, size: int | None = None) -> list[str]:
        """A list of distinct names (texts), ``size`` of them when given: the objects of a per-object array."""
        names = [f.text() for f in self.elements(size, nonempty=True)]
        if len(set(names)) != len(names):
            twice = next(n for i, n in enumerate(names) if n in names[:i])
            raise self.refuse(f"names {twice!r} twice")
        return names

    def number(self, bound: Bound = FINITE) -> float:
        """A finite number within ``bound`` (and within ±:data:`LARGEST`)."""
        if not _is_number(self.value):
            raise self.refuse(f"is {_kind(self.value)}, not a number")
        return float(self._within(np.array([float(self.value)]), bound)[0])

    def numbers(self, bound: Bound = FINITE, size: int | None = None, missing: bool = False,
                shape: tuple[int, int] | None = None, increasing: bool = False) -> np.ndarray:
        """A list of numbers (a list of lists: ``shape``), each within ``bound``: ``size`` of them (one per object)
        when given, at least one finite; ``missing``: a value may be null (read as NaN) — never an infinity;
        ``increasing``: each above the one before (bin edges, a grid's values)."""
        value = self.value
        if shape is not None:
            rows = self.elements(shape[0])
            return np.array([row.numbers(bound, shape[1], missing) for row in rows]).reshape(shape)
        if not isinstance(value, list):
            raise self.refuse(f"is {_kind(value)}, not a list of numbers")
        self._size(len(value), size, nonempty=True)
        bad = next((i for i, v in enumerate(value) if not (_is_number(v) or (missing and v is None))), None)
        if bad is not None:
            raise self._child(bad, value[bad]).refuse(f"is {_kind(value[bad])}, not a number")
        out = self._within(numbers(value, f"{self.what}: {self.where}"), bound, missing)
        if increasing and np.any(np.diff(out) <= 0):
            i = int(np.flatnonzero(np.diff(out) <= 0)[0]) + 1
            raise self._child(i, out[i]).refuse(f"is {out[i]:g}, not above the value before it ({out[i - 1]:g}): "
                                                f"{self.where} must increase")
        return out

    def interval(self, bound: Bound = FINITE, inside: tuple[float, float] | None = None) -> tuple[float, float]:
        """Two numbers ``[lo, hi]`` within ``bound``, ``lo ≤ hi`` (``inside``: within that wider interval)."""
        lo, hi = self.numbers(bound, size=2)
        if lo > hi:
            raise self.refuse(f"is [{lo:g}, {hi:g}]: its lower end is above its upper end")
        if inside is not None and not inside[0] <= lo <= hi <= inside[1]:
            raise self.refuse(f"is [{lo:g}, {hi:g}], not within [{inside[0]:g}, {inside[1]:g}], the wider interval "
                              "it must lie in")
        return float(lo), float(hi)

    def agrees(self, value: float, expected: float, made_of: str, held: str = "is") -> float:
        """``value`` (this field's number, or what it ``held``: "sums to") when it equals ``expected``, what the
        fields it is made of give (in words: ``made_of``), to rounding (:data:`AGREE`); refused as a contradiction
        otherwise."""
        if abs(value - expected) > AGREE * max(1.0, abs(value), abs(expected)):
            raise self.refuse(f"{held} {value:.10g}, but {made_of} is {expected:.10g}: the report contradicts itself")
        return value

    def _within(self, values: np.ndarray, bound: Bound, missing: bool = False) -> np.ndarray:
        """``values`` (the field's), refused when one is not finite (NaN allowed when ``missing``), is outside
        ``bound`` or beyond ±:data:`LARGEST`."""
        finite = np.isfinite(values)
        bad = np.flatnonzero(~finite & ~(np.isnan(values) if missing else np.zeros_like(finite)))
        where = self if values.size == 1 and not isinstance(self.value, list) else None
        if bad.size:
            i = int(bad[0])
            raise (where or self._child(i, values[i])).refuse(f"is {values[i]:g}, not a finite number")
        out = np.flatnonzero(finite & bound.outside(np.where(finite, values, 0.0)))
        if out.size:
            i = int(out[0])
            why = f" ({bound.why})" if bound.why else ""
            raise (where or self._child(i, values[i])).refuse(f"is {values[i]:g}, not {bound.text}{why}")
        huge = np.flatnonzero(finite & (np.abs(np.where(finite, values, 0.0)) > LARGEST))
        if huge.size:
            i = int(huge[0])
            raise (where or self._child(i, values[i])).refuse(f"is {values[i]:g}, beyond ±{LARGEST:g}: no number of "
                                                              "a report comes near it")
        return values
