"""Operations on packed points, object by object (segments of a contiguous ragged array, given by ``offsets``)."""

from __future__ import annotations

import functools

import numpy as np


def object_tiles(offsets: np.ndarray, max_points: int) -> list[tuple[int, int]]:
    """Consecutive whole objects [g0, g1) of packed points (``offsets``) in groups of at most ``max_points`` points
    (an object larger than that alone): the tiles compiled loops take so that a tile's points stay in cache."""
    tiles, g0, n_obj = [], 0, len(offsets) - 1
    while g0 < n_obj:
        g1 = g0 + 1
        while g1 < n_obj and offsets[g1 + 1] - offsets[g0] <= max_points:
            g1 += 1
        tiles.append((g0, g1))
        g0 = g1
    return tiles


def _segment_interp(x, xp, fp, offsets, out):  # pragma: no cover (compiled)
    for g in range(x.size):
        a, b = offsets[g], offsets[g + 1]
        xv = x[g]
        if xv != xv:
            out[g] = xv
        elif xv >= xp[b - 1]:
            out[g] = fp[b - 1]
        elif xv <= xp[a]:
            out[g] = fp[a]
        else:
            j = a
            while xp[j + 1] <= xv:
                j += 1
            if xp[j] == xv:
                out[g] = fp[j]
            else:
                slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j])
                out[g] = slope * (xv - xp[j]) + fp[j]
                if out[g] != out[g]:
                    out[g] = slope * (xv - xp[j + 1]) + fp[j + 1]
                    if out[g] != out[g] and fp[j] == fp[j + 1]:
                        out[g] = fp[j]


@functools.cache
def _compiled_interp():
    """:func:`_segment_interp` compiled by numba (on first use: importing numba is not free)."""
    import numba

    return numba.njit(cache=True)(_segment_interp)


def segment_interp(x: np.ndarray, xp: np.ndarray, fp: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """``np.interp(x[g], xp[a:b], fp[a:b])`` for every object g (points a:b, ``xp`` increasing), bit for bit,
    without a Python loop over objects."""
    out = np.empty(len(x))
    _compiled_interp()(np.asarray(x, dtype=float), np.asarray(xp, dtype=float), np.asarray(fp, dtype=float),
                    np.asarray(offsets, dtype=np.int64), out)
    return out


def segment_argmax(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Index (into ``values``) of the first largest value of each non-empty object (as ``np.argmax`` per object)."""
    peak = np.repeat(np.maximum.reduceat(values, offsets[:-1]), np.diff(offsets))
    hits = np.flatnonzero(values == peak)
    owner = np.searchsorted(offsets, hits, side="right") - 1
    return hits[np.unique(owner, return_index=True)[1]]


def counts(offsets: np.ndarray) -> np.ndarray:
    """Number of points of each object."""
    return np.diff(offsets)


def segment_sum(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Sum of ``values`` over each object's points (last axis) → (..., n_objects); 0 for an object with none."""
    starts = np.asarray(offsets[:-1])
    filled = counts(offsets) > 0
    if filled.all():
        return np.add.reduceat(values, starts, axis=-1)
    out = np.zeros(np.shape(values)[:-1] + (len(starts),))
    if filled.any():
        out[..., filled] = np.add.reduceat(values, starts[filled], axis=-1)
    return out
