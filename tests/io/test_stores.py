"""sigcube.io.stores without data: locations, exclusive create, leases (race, staleness, takeover, heartbeat).
The seal and chunk manifests are tested in tests/io/test_chunks.py.

Lease times come from the ``clock`` fixture (tests/conftest.py) the test advances (``Lease.acquire(..., clock=)``), never from sleeping
through a TTL; heartbeats are driven one at a time with ``Lease.beat``. Only the heartbeat thread's own test waits, on
a probe (the record's renewal) with a generous bound."""

from __future__ import annotations

import errno
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from sigcube.errors import SigcubeError
from sigcube.io.stores import (
    LEASE_TTL_VARIABLE, Holder, Lease, LeaseLostError, Location, StoreBusyError, StoreWriteError, current_holder,
    lease_folder, store_errors,
)


def _records(store: Path) -> list[str]:
    return sorted(p.name for p in (store.parent / f".{store.name}.lease").iterdir())


def _foreign(store: Path, now: float, generation: int = 1, renewed_ago: float = 0.0, ttl: float = 60.0) -> None:
    """A lease record written at ``now`` by a driver on another machine."""
    folder = store.parent / f".{store.name}.lease"
    folder.mkdir(exist_ok=True)
    record = {"host": "elsewhere", "pid": 4242, "pid_namespace": "pid:[1]", "process_start": "7", "started": now - 100,
              "renewed": now - renewed_ago, "ttl": ttl, "released": False}
    (folder / f"{generation:012d}.json").write_text(json.dumps(record))


def test_location_resolves_paths_and_refuses_junk(tmp_path):
    loc = Location.of(tmp_path / "r.zarr", "--out")
    assert loc.local and loc.url == str(tmp_path / "r.zarr") and loc.name == str(tmp_path / "r.zarr")
    assert loc.kind() == "absent"
    for junk in (None, 3, "", "   ", b"r.zarr", ["r.zarr"]):
        with pytest.raises(SigcubeError, match=f"--out must be a path or a store URL .*; got {junk!r}".replace("[", r"\[")):
            Location.of(junk, "--out")
    with pytest.raises(SigcubeError, match="--out 'nosuchprotocol://b/r.zarr' is not a usable store URL"):
        Location.of("nosuchprotocol://b/r.zarr", "--out")


def test_exclusive_create_never_overwrites_and_put_replaces(tmp_path):
    folder = Location.of(tmp_path)
    folder.create("a.json", b"first")
    with pytest.raises(FileExistsError):
        folder.create("a.json", b"second")
    assert (tmp_path / "a.json").read_bytes() == b"first"
    folder.put("a.json", b"third")
    assert (tmp_path / "a.json").read_bytes() == b"third" and sorted(os.listdir(tmp_path)) == ["a.json"]


def test_same_or_nested_sees_through_symlinks(tmp_path):
    (tmp_path / "cube.zarr").mkdir()
    (tmp_path / "alias").symlink_to(tmp_path / "cube.zarr")
    cube = Location.of(tmp_path / "cube.zarr")
    assert Location.of(tmp_path / "alias").same_or_nested(cube)
    assert Location.of(tmp_path / "alias" / "v_obs").same_or_nested(cube)
    assert Location.of(tmp_path).same_or_nested(cube)
    assert not Location.of(tmp_path / "cube.zarr2").same_or_nested(cube)


def test_os_errors_become_one_line():
    for code, reason in ((errno.EACCES, "permission denied"), (errno.EROFS, "read-only file system"),
                         (errno.ENOSPC, "no space left on device"), (errno.EDQUOT, "disk quota exceeded")):
        with pytest.raises(StoreWriteError, match=f"^cannot write out.zarr: {reason}$"):
            with store_errors("out.zarr"):
                raise OSError(code, os.strerror(code))
    with pytest.raises(FileExistsError):
        with store_errors("out.zarr"):
            raise FileExistsError(errno.EEXIST, "exists")


def _contend(store: str, barrier, results) -> None:
    barrier.wait()
    try:
        lease = Lease.acquire(Location.of(store))
        results.put(("won", lease.holder.generation))
    except StoreBusyError as exc:
        results.put(("refused", str(exc)))
    barrier.wait()  # the winner holds its lease until every contender has tried


def test_only_one_of_many_simultaneous_drivers_gets_the_lease(tmp_path):
    ctx = multiprocessing.get_context("fork")
    n = 6
    barrier, results = ctx.Barrier(n), ctx.Queue()
    procs = [ctx.Process(target=_contend, args=(str(tmp_path / "r.zarr"), barrier, results)) for _ in range(n)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    outcomes = [results.get(timeout=5) for _ in range(n)]
    assert sorted(o[0] for o in outcomes) == ["refused"] * (n - 1) + ["won"]
    assert ("won", 1) in outcomes
    assert all("another sigcube sweep or fit is writing here (lease held by" in text for kind, text in outcomes if kind == "refused")
    assert _records(tmp_path / "r.zarr") == ["000000000001.json"]


def test_a_live_lease_refuses_and_a_stale_one_is_taken_over(tmp_path, clock):
    store = tmp_path / "r.zarr"
    _foreign(store, clock(), renewed_ago=5)
    with pytest.raises(StoreBusyError, match=r"r.zarr: another sigcube sweep or fit is writing here \(lease held by elsewhere/4242 "
                                             r"since .* UTC, renewed 5 s ago\)"):
        Lease.acquire(Location.of(store), clock=clock)
    clock.advance(54.75)  # renewed 59.75 s ago: live for 0.25 s more
    with pytest.raises(StoreBusyError, match="renewed 60 s ago"):
        Lease.acquire(Location.of(store), clock=clock)
    clock.advance(0.25)  # exactly ttl seconds unrenewed: stale
    lease = Lease.acquire(Location.of(store), clock=clock)
    assert lease.holder.generation == 2 and lease.holder.host == socket.gethostname()
    assert _records(store) == ["000000000002.json"]  # the stale record is cleaned up


def test_an_unreadable_record_counts_as_stale(tmp_path):
    store = tmp_path / "r.zarr"
    _foreign(store, time.time())
    (tmp_path / ".r.zarr.lease" / "000000000001.json").write_text("{not json")
    assert Lease.acquire(Location.of(store)).holder.generation == 2


def test_the_ttl_comes_from_the_environment(tmp_path, monkeypatch, clock):
    store = tmp_path / "r.zarr"
    monkeypatch.setenv(LEASE_TTL_VARIABLE, "0.5")
    lease = Lease.acquire(Location.of(store), clock=clock)
    assert lease.holder.ttl == 0.5
    _foreign(store, clock(), generation=2, ttl=0.5)  # as if another machine took it over just now
    clock.advance(0.25)
    with pytest.raises(StoreBusyError):
        Lease.acquire(Location.of(store), clock=clock)
    clock.advance(0.25)  # ttl seconds unrenewed
    assert Lease.acquire(Location.of(store), clock=clock).holder.generation == 3
    for bad in ("0", "-1", "soon", "inf"):
        monkeypatch.setenv(LEASE_TTL_VARIABLE, bad)
        with pytest.raises(SigcubeError, match=f"{LEASE_TTL_VARIABLE} must be a positive number of seconds; got '{bad}'"):
            Lease.acquire(Location.of(store))


def test_a_killed_holder_on_this_machine_is_stale_at_once(tmp_path):
    code = ("import os, sys\nfrom sigcube.io.stores import Lease, Location\n"
            "Lease.acquire(Location.of(sys.argv[1]))\nos._exit(0)\n")  # dies holding it, without releasing
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "r.zarr")], check=True, timeout=900)
    held = current_holder(Location.of(tmp_path / "r.zarr"))
    assert held is not None and not held.released
    assert not held.live(now=held.renewed)  # stale even at the instant it was renewed: its process is gone
    assert Lease.acquire(Location.of(tmp_path / "r.zarr")).holder.generation == 2


def test_a_beat_renews_and_exit_releases(tmp_path, clock):
    store = Location.of(tmp_path / "r.zarr")
    with Lease.acquire(store, ttl=60, clock=clock) as lease:  # its thread's first beat is 20 s away: the test beats
        first = lease.holder.renewed
        clock.advance(50)
        assert lease.beat()
        held = current_holder(store)
        assert held.renewed == first + 50
        clock.advance(50)  # 100 s after it was taken, 50 s after the beat: still live
        assert held.live(clock()) and not replace(held, renewed=first).live(clock())
        with pytest.raises(StoreBusyError, match="renewed 50 s ago"):
            Lease.acquire(store, clock=clock)
    held = current_holder(store)
    assert held.released and not held.live(clock())
    assert Lease.acquire(store, clock=clock).holder.generation == 2


def test_the_heartbeat_thread_renews_the_record(tmp_path):
    store = Location.of(tmp_path / "r.zarr")
    with Lease.acquire(store, ttl=0.03) as lease:  # a beat every 0.01 s
        first, deadline = lease.holder.renewed, time.monotonic() + 120  # a probe, generous for a loaded machine
        while current_holder(store).renewed == first:
            assert time.monotonic() < deadline, "the heartbeat thread did not renew the record in 120 s"
            time.sleep(0.01)
    assert current_holder(store).released


def test_a_taken_over_holder_stops_writing(tmp_path, clock):
    store = Location.of(tmp_path / "r.zarr")
    old = Lease.acquire(store, ttl=0.2, clock=clock)
    old.check()
    clock.advance(0.2)  # not renewed for its ttl: stale
    new = Lease.acquire(store, clock=clock)
    with pytest.raises(LeaseLostError, match=f"r.zarr: this sweep's lease was taken over by {socket.gethostname()}/"
                                             f"{os.getpid()} since"):
        old.check()
    with pytest.raises(LeaseLostError):
        old.token.check()  # what a worker checks before each block
    new.check()
    assert not old.beat()  # its heartbeat finds the newer generation and stops without rewriting its record
    with pytest.raises(LeaseLostError):
        old.check()
    with old:  # nor does leaving it write anything
        pass
    assert _records(tmp_path / "r.zarr") == ["000000000002.json"]
    assert lease_folder(store).path.endswith("/.r.zarr.lease")


def test_holder_parse_and_describe():
    assert Holder.parse(3, None) is None
    stale = Holder.parse(3, b"[]")
    assert stale.generation == 3 and not stale.live()
    now = 1.7e9
    held = Holder(1, "node7", 99, "", "", now - 3600, now - 2, 60.0)
    assert held.live(now) and not held.live(now + 58)
    assert held.describe(now) == "node7/99 since 2023-11-14 21:13:20 UTC, renewed 2 s ago"
