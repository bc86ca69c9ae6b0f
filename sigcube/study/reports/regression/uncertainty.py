"""The uncertainty of a regression row's medians, ratios and rates: a seeded bootstrap over the row's objects, a
binomial interval for a fraction, a marginal likelihood's Bayes factor with its numerical error.

A bootstrap draws :data:`BOOTSTRAP` samples of the N objects with replacement (the generator seeded from the quantity's
name, so a report is reproducible) and recomputes the statistic on each; the interval is the 16th–84th percentile
(``ci68``) and the 2.5th–97.5th (``ci95``). Objects, not points, are resampled: points of one galaxy or cluster are not
independent. Below :data:`~sigcube.stats.verdicts.SMALL_SAMPLE` objects the bootstrap's spread is rough, and the
result says so.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from sigcube.stats.verdicts import fraction, se_note

BOOTSTRAP = 2000
"""Bootstrap resamples per quantity."""


def seed_of(key: str) -> int:
    """The bootstrap's seed for the quantity ``key`` (crc32 of its name: fixed, and different per quantity)."""
    return zlib.crc32(key.encode())


def bootstrap(statistic: Callable[[np.ndarray], float], n: int, key: str, n_boot: int = BOOTSTRAP) -> dict[str, Any]:
    """``statistic(indices)`` of the N objects and its bootstrap spread: value, se, ci68, ci95, n, seed, method."""
    rng = np.random.default_rng(seed_of(key))
    value = float(statistic(np.arange(n)))
    draws = np.array([statistic(rng.integers(0, n, n)) for _ in range(n_boot)], dtype=float)
    draws = draws[np.isfinite(draws)]
    out = {"value": value, "se": float(np.std(draws, ddof=1)) if len(draws) > 1 else math.nan,
           "ci68": [float(x) for x in np.percentile(draws, [16, 84])],
           "ci95": [float(x) for x in np.percentile(draws, [2.5, 97.5])], "n": int(n), "n_boot": int(n_boot),
           "seed": seed_of(key),
           "method": f"bootstrap over the {n} objects (resampled with replacement, {n_boot} draws, seeded); "
                     "percentile intervals"}
    note = se_note(n)
    if note:
        out["small_sample"] = note
    return out


def grouped(values: np.ndarray, offsets: np.ndarray) -> Callable[[Callable[[np.ndarray], float]], Callable]:
    """A statistic over the points of resampled objects: ``grouped(v, offsets)(np.median)`` is a function of object
    indices that applies np.median to the concatenated points of those objects (``offsets`` delimit each object's)."""
    values = np.asarray(values, dtype=float)
    parts = [values[a:b] for a, b in zip(offsets[:-1], offsets[1:])]

    def of(func: Callable[[np.ndarray], float]) -> Callable[[np.ndarray], float]:
        return lambda index: float(func(np.concatenate([parts[i] for i in index])))

    return of


def median_ratio(log_ratio: np.ndarray, offsets: np.ndarray | None, key: str) -> dict[str, Any]:
    """10^median(log10 ratio) with its bootstrap over objects (``offsets``: points per object; None: one per object)."""
    log_ratio = np.asarray(log_ratio, dtype=float)
    offsets = np.arange(len(log_ratio) + 1) if offsets is None else np.asarray(offsets)
    return bootstrap(grouped(log_ratio, offsets)(lambda x: 10.0 ** np.median(x)), len(offsets) - 1, key)


def scatter(log_ratio: np.ndarray, offsets: np.ndarray | None, key: str) -> dict[str, Any]:
    """std(log10 ratio) [dex] with its bootstrap over objects."""
    log_ratio = np.asarray(log_ratio, dtype=float)
    offsets = np.arange(len(log_ratio) + 1) if offsets is None else np.asarray(offsets)
    return bootstrap(grouped(log_ratio, offsets)(np.std), len(offsets) - 1, key)


def mean(values: np.ndarray, key: str) -> dict[str, Any]:
    """The mean of per-object values with its bootstrap."""
    values = np.asarray(values, dtype=float)
    return bootstrap(lambda i: np.mean(values[i]), len(values), key)


def rate(k: int, n: int) -> dict[str, Any]:
    """A fraction k/n with its Clopper–Pearson 95 % interval (:func:`sigcube.stats.verdicts.fraction`)."""
    return fraction(int(k), int(n))


def shown(u: dict[str, Any], digits: int = 3, scale: float = 1.0, unit: str = "") -> str:
    """``0.987 [0.951, 1.02]``: the value and its 68 % bootstrap interval (or 95 % binomial interval of a rate)."""
    low, high = u.get("ci68") or u["ci"]
    return f"{u['value'] * scale:.{digits}f} [{low * scale:.{digits}f}, {high * scale:.{digits}f}]{unit}"


def intervals(entries: Sequence[tuple[str, dict[str, Any]]]) -> str:
    """What the brackets of a headline are, for its conventions."""
    kinds = {"bootstrap": any("n_boot" in u for _, u in entries), "binomial": any("k" in u for _, u in entries)}
    parts = []
    if kinds["bootstrap"]:
        parts.append(f"[…] = 68 % interval of a seeded bootstrap over objects ({BOOTSTRAP} draws)")
    if kinds["binomial"]:
        parts.append("[…] of a rate = its Clopper–Pearson 95 % interval")
    return "; ".join(parts)
