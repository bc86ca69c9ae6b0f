"""Grid blocks tile the grid exactly, in whole chunks, within the target size."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sigcube.engines.sweep.grid import (
    auto_block_size, block_chunks, blocks, n_blocks, nested_chunks, pieces, sub_regions,
)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 30), st.booleans()), min_size=1, max_size=4), st.integers(1, 5000))
def test_blocks_tile_the_grid_once(axes, target):
    shape = tuple(n for n, _ in axes)
    categorical = tuple(c for _, c in axes)
    chunks = block_chunks(shape, categorical, target)
    covered = np.zeros(shape, dtype=int)
    regions = blocks(shape, chunks)
    assert len(regions) == n_blocks(shape, chunks)
    for region in regions:
        covered[region] += 1
        size = np.prod([s.stop - s.start for s in region])
        assert size <= max(target, 1)
        for s, c, n, cat in zip(region, chunks, shape, categorical):
            assert s.start % c == 0 and (s.stop - s.start == c or s.stop == n)
            if cat:
                assert s.stop - s.start == 1
    assert np.all(covered == 1)


def test_auto_block_size_carries_enough_work():
    assert auto_block_size(3373, 10**6) * 3373 >= 10_000_000
    assert auto_block_size(3373, 10) == 10


def _bounds(region):
    return tuple((s.start, s.stop) for s in region)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(1, 12), min_size=1, max_size=4), st.integers(1, 200), st.integers(1, 2000),
       st.integers(1, 1000))
def test_pieces_tile_a_block_in_whole_row_chunks(shape, rows_target, block_target, max_points):
    """Pieces of a task cover its block once, each a union of whole row chunks (so their writes never share a
    stored chunk), each within ``max_points`` unless one row chunk alone is larger."""
    rows, block = nested_chunks(shape, [False] * len(shape), rows_target, block_target)
    row_size = int(np.prod(rows))
    for region in blocks(shape, block)[:3]:
        whole = {_bounds(sub) for sub in sub_regions(region, rows)}
        covered = np.zeros(shape, dtype=int)
        for piece in pieces(region, rows, max_points):
            covered[piece] += 1
            size = int(np.prod([s.stop - s.start for s in piece]))
            assert size <= max(max_points, row_size)
            inside = sub_regions(piece, rows)
            assert sum(int(np.prod([s.stop - s.start for s in sub])) for sub in inside) == size
            assert {_bounds(sub) for sub in inside} <= whole  # each of its row chunks: a whole one of the block
        block_mask = np.zeros(shape, dtype=bool)
        block_mask[region] = True
        assert np.all(covered[block_mask] == 1) and np.all(covered[~block_mask] == 0)
