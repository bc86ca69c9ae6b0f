"""Grid blocks tile the grid exactly, in whole chunks, within the target size."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sigcube.sweeps.grid import auto_block_size, block_chunks, blocks, n_blocks


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
