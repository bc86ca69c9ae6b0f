"""Result-cube region writes without data: the lease is checked before every block, and every chunk is written."""

from __future__ import annotations

import numpy as np
import pytest
import zarr

from sigcube.engines.sweep.result import BlockWriter, DoneFlags, write_regions
from sigcube.io.chunks import Digest, Manifest
from sigcube.io.stores import Lease, LeaseLostError, Location


@pytest.fixture()
def store(tmp_path) -> Location:
    group = zarr.open_group(str(tmp_path / "r.zarr"), mode="w", zarr_format=3)
    group.attrs["store_id"] = "layout-1"
    group.create_array("rms", shape=(4, 3), chunks=(2, 3), dtype="f4", fill_value=np.nan)
    group.create_array("done", shape=(4,), chunks=(2,), dtype=bool, fill_value=False)
    return Location.of(tmp_path / "r.zarr")


def test_an_all_nan_block_is_still_written(store, tmp_path):
    lease = Lease.acquire(store)
    write_regions(BlockWriter(store, "layout-1", lease.token), {"rms": ((slice(0, 2), slice(0, 3)), np.full((2, 3), np.nan))})
    assert (tmp_path / "r.zarr" / "rms" / "c" / "0" / "0").is_file()  # a missing chunk always means damage


def test_a_write_returns_the_digest_of_each_chunk_it_wrote(store, tmp_path):
    lease = Lease.acquire(store)
    written = write_regions(BlockWriter(store, "layout-1", lease.token),
                            {"rms": ((slice(0, 4), slice(0, 3)), np.arange(12.0).reshape(4, 3))})
    assert sorted(written) == ["rms/c/0/0", "rms/c/1/0"]
    for key, digest in written.items():  # the digest of the bytes as stored, computed independently here
        assert digest == Digest.of((tmp_path / "r.zarr" / key).read_bytes())
    assert written["rms/c/0/0"] != written["rms/c/1/0"]


def test_a_superseded_lease_writes_nothing(store, tmp_path, clock):
    old = Lease.acquire(store, ttl=0.1, clock=clock)
    flags = DoneFlags(store, old)
    clock.advance(0.2)
    Lease.acquire(store, clock=clock)  # another driver takes the stale lease over
    with pytest.raises(LeaseLostError, match="this sweep's lease was taken over by"):
        write_regions(BlockWriter(store, "layout-1", old.token), {"rms": ((slice(2, 4), slice(0, 3)), np.ones((2, 3)))})
    with pytest.raises(LeaseLostError):
        flags.mark((slice(2, 4),), 1, Manifest())
    with pytest.raises(LeaseLostError):
        flags.mark_complete(Manifest())
    assert not (tmp_path / "r.zarr" / "rms" / "c").exists() and not (tmp_path / "r.zarr" / "done" / "c").exists()
    assert "complete" not in zarr.open_group(store.url, mode="r").attrs
