"""Checking many chunks of a store reads them a batch at a time: the memory it takes is one batch's, whatever the
store's size (a sweep's driver checks every chunk of a survey's dataset cube before it starts)."""

from __future__ import annotations

import tracemalloc

import google_crc32c
import numpy as np

from sigcube.io.chunks import Digest, chunk_problems
from sigcube.io.stores import FETCH_BATCH, Location

SIZE = 256 * 1024
"""Bytes of each chunk."""


def test_checking_every_chunk_holds_one_batch_at_a_time(tmp_path):
    rng = np.random.default_rng(0)
    folder = tmp_path / "store" / "a" / "c"
    folder.mkdir(parents=True)
    n = 8 * FETCH_BATCH
    expected = {}
    for i in range(n):
        payload = rng.bytes(SIZE - 4)
        data = payload + google_crc32c.value(payload).to_bytes(4, "little")
        expected[f"a/c/{i}"] = Digest.of(data)
        (folder / str(i)).write_bytes(data if i != n - 2 else data[:-8] + bytes(8))  # one chunk damaged
    tracemalloc.start()
    try:
        problems = chunk_problems(Location.of(tmp_path / "store"), expected, "full")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert list(problems) == [f"a/c/{n - 2}"] and problems[f"a/c/{n - 2}"].what.startswith("fails its checksum")
    # a batch being checked while the next is read, and their bookkeeping: far less than the 8 batches of the store
    assert peak < 3 * FETCH_BATCH * SIZE, f"{peak / 2**20:.1f} MiB held to check a store of {n * SIZE / 2**20:.0f} MiB"
