"""Cutting a parameter grid into blocks that tile it with whole chunks.

A block is a hyperslab of the grid: the innermost axes are taken whole while the block
stays within the target size, the next axis is cut into runs, the outer axes are taken
one value at a time. Switch (categorical) axes always take one value per block, so a
kernel call within a block sees a single choice. A block is exactly one chunk of the
result cube's global metrics; per-object metrics are cut finer along the grid into *rows*
(:func:`nested_chunks`) that tile every block, so region writes never straddle chunks and a
row of every object fits in bounded memory.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

TARGET_EVALS_PER_BLOCK = 50_000_000
"""Point-evaluations per block by default: a fraction of a second of a compiled kernel's work."""


def auto_block_size(n_points: int, grid_size: int) -> int:
    """Grid points per block so a block carries about ``TARGET_EVALS_PER_BLOCK`` evaluations; a grid of up to
    1.5 times that is one block (cut in two, each object chunk would be read and prepared twice)."""
    per_block = max(1, TARGET_EVALS_PER_BLOCK // max(n_points, 1))
    return grid_size if grid_size <= 1.5 * per_block else per_block


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


def nested_chunks(shape: Sequence[int], categorical: Sequence[bool], rows_target: int,
                  block_target: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Row chunks of at most ``rows_target`` grid points, and blocks of whole row chunks of at most about
    ``block_target`` grid points (at least one row chunk): ``(rows, block)``, ``block[i]`` a multiple of
    ``rows[i]`` or the whole axis, so every block is tiled by row chunks."""
    rows = block_chunks(shape, categorical, max(1, rows_target))
    units = [-(-n // r) for n, r in zip(shape, rows)]
    per_row = math.prod(rows)
    multiples = block_chunks(units, categorical, max(1, block_target // per_row))
    block = tuple(min(n, r * m) for n, r, m in zip(shape, rows, multiples))
    return rows, block


def sub_regions(region: Sequence[slice], rows: Sequence[int]) -> list[tuple[slice, ...]]:
    """The row chunks (``rows``-shaped, clipped) that tile ``region``, in C order."""
    ranges = [[slice(a, min(a + r, s.stop)) for a in range(s.start, s.stop, r)] for s, r in zip(region, rows)]
    return [tuple(t) for t in itertools.product(*ranges)]


def pieces(region: Sequence[slice], rows: Sequence[int], max_points: int) -> list[tuple[slice, ...]]:
    """``region`` (a block, tiled by ``rows`` chunks) cut into hyperslabs of whole row chunks, each of at most
    about ``max_points`` grid points (at least one row chunk), in C order: the first axis the row chunks cut
    is taken a run of row chunks at a time, the axes after it whole (or, when one row chunk's slab is still too
    large, cut the same way)."""
    region = tuple(region)
    axis = next((i for i, (s, r) in enumerate(zip(region, rows)) if s.stop - s.start > r), None)
    if axis is None:
        return [region]
    rest = math.prod(s.stop - s.start for s in region[axis + 1:])
    step = rows[axis] * max(1, max_points // max(rest * rows[axis], 1))
    slabs = [region[:axis] + (slice(a, min(a + step, region[axis].stop)),) + region[axis + 1:]
             for a in range(region[axis].start, region[axis].stop, step)]
    if rows[axis] * rest <= max_points:
        return slabs
    return [piece for slab in slabs for piece in pieces(slab, rows, max_points)]
