"""Cutting a parameter grid into blocks that tile it with whole chunks.

A block is a hyperslab of the grid: the innermost axes are taken whole while the block
stays within the target size, the next axis is cut into runs, the outer axes are taken
one value at a time. Switch (categorical) axes always take one value per block, so a
kernel call within a block sees a single choice. Every block is exactly one chunk of the
result cube, so region writes never straddle chunks.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

TARGET_EVALS_PER_BLOCK = 50_000_000
"""Point-evaluations per block by default: ≈ 0.25 s of work at 2e8 evaluations/s."""


def auto_block_size(n_points: int, grid_size: int) -> int:
    """Grid points per block so a block carries about ``TARGET_EVALS_PER_BLOCK`` evaluations."""
    return max(1, min(grid_size, TARGET_EVALS_PER_BLOCK // max(n_points, 1)))


def block_chunks(shape: Sequence[int], categorical: Sequence[bool], target: int) -> tuple[int, ...]:
    """Chunk length per axis so that one chunk holds at most ``target`` grid points."""
    chunks = [1] * len(shape)
    inner = 1
    for i in reversed(range(len(shape))):
        if categorical[i]:
            continue
        take = min(shape[i], max(1, target // inner))
        chunks[i] = take
        inner *= take
        if take < shape[i]:
            break
    return tuple(chunks)


def blocks(shape: Sequence[int], chunks: Sequence[int]) -> list[tuple[slice, ...]]:
    """Every block as a tuple of slices, in C order (block id = position in the list)."""
    ranges = [
        [slice(start, min(start + c, n)) for start in range(0, n, c)] for n, c in zip(shape, chunks)
    ]
    return [tuple(s) for s in itertools.product(*ranges)]


def n_blocks(shape: Sequence[int], chunks: Sequence[int]) -> int:
    """How many blocks :func:`blocks` yields."""
    return math.prod(-(-n // c) for n, c in zip(shape, chunks))
