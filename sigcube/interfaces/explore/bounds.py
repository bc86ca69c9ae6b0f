"""Bounds that keep views responsive: how many frames, cells and points are embedded."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Limits:
    """The most a view embeds.

    ``max_frames``: widget positions of one sweep view (slider values of a heatmap or a
    slice); ``max_galaxies``: galaxies in the rotation-curve gallery; ``max_cells``:
    heatmap cells per frame (the grid is strided beyond it); ``max_points``: RAR points
    drawn (beyond it: datashaded when datashader is installed, else a random subsample);
    ``max_pairs``: parameter pairs given heatmaps in the explorer.
    """

    max_frames: int = 40
    max_galaxies: int = 40
    max_cells: int = 40_000
    max_points: int = 20_000
    max_pairs: int = 3

    def __post_init__(self) -> None:
        from sigcube.errors import SigcubeError

        for name in ("max_frames", "max_galaxies", "max_cells", "max_points", "max_pairs"):
            if getattr(self, name) < 1:
                raise SigcubeError(f"{name} must be ≥ 1; got {getattr(self, name)}")


def spread(n: int, count: int, keep: int | None = None) -> np.ndarray:
    """At most ``count`` evenly spread indices into ``range(n)``, including ``keep``."""
    if count >= n:
        return np.arange(n)
    idx = np.unique(np.round(np.linspace(0, n - 1, max(count, 1))).astype(int))
    if keep is not None and keep not in idx:
        idx[np.argmin(np.abs(idx - keep))] = keep
        idx = np.unique(idx)
    return idx


def frame_counts(sizes: list[int], max_frames: int) -> list[int]:
    """Values kept per dimension so that their product stays ≤ ``max_frames``.

    Water-filling: small dimensions keep all their values, the budget left is shared
    evenly (geometrically) among the larger ones.
    """
    counts = [0] * len(sizes)
    budget = max_frames
    order = sorted(range(len(sizes)), key=lambda i: sizes[i])
    for left, i in zip(range(len(sizes), 0, -1), order):
        counts[i] = max(1, min(sizes[i], int(math.floor(budget ** (1 / left) + 1e-9))))
        budget = max(1, budget // counts[i])
    return counts


def stride(nx: int, ny: int, max_cells: int) -> int:
    """Step along both axes that brings an nx × ny grid under ``max_cells`` cells."""
    return max(1, math.ceil(math.sqrt(nx * ny / max_cells)))
