"""sigcube.io.chunks without data: digests, manifests, the recording and verifying Zarr stores, and whole-store checks
on small stores — a chunk moved, copied, resized or corrupted is named, never served."""

from __future__ import annotations

import shutil
from pathlib import Path

import google_crc32c
import numpy as np
import pytest
import xarray as xr
import zarr
from hypothesis import given, settings
from hypothesis import strategies as st

from sigcube.io.chunks import (
    CUBE_MANIFEST, MANIFEST_ATTR, Digest, Manifest, RecordingStore, VerifyingStore, check_store, chunk_problems,
    read_manifest, write_manifest,
)
from sigcube.io.stores import Location, StoreDamagedError, checksummed, seal


def _chunk(payload: bytes) -> bytes:
    """Bytes as Zarr's crc32c codec stores them: the payload, then its CRC-32C (little-endian)."""
    return payload + google_crc32c.value(payload).to_bytes(4, "little")


@given(st.binary(max_size=64), st.binary(max_size=64))
def test_a_digest_tells_chunks_apart_and_accepts_only_its_own(a, b):
    da, db = Digest.of(_chunk(a)), Digest.of(_chunk(b))
    assert da.problem(_chunk(a)) is None and da.size == len(a) + 4 and da.crc32c == google_crc32c.value(a)
    if a != b:  # two different payloads: the digest of one refuses the other (CRC-32C collisions aside)
        assert da.problem(_chunk(b)) is not None or da.crc32c == db.crc32c
    assert da.problem(None) == "is missing"
    assert "bytes where" in da.problem(_chunk(a) + b"\0")


def test_a_whole_chunks_crc_would_not_tell_them_apart():
    # why a digest holds the CRC of the payload: a message followed by its CRC-32C always has one CRC
    assert google_crc32c.value(_chunk(b"one chunk")) == google_crc32c.value(_chunk(b"another"))
    assert Digest.of(_chunk(b"one chunk")) != Digest.of(_chunk(b"another"))


@given(st.dictionaries(st.text(min_size=1, max_size=20),
                       st.tuples(st.integers(4, 2**40), st.integers(0, 2**32 - 1),
                                 st.one_of(st.none(), st.from_regex(r"\A[0-9a-f]{32}\Z")))))
def test_a_manifest_round_trips_through_json(entries):
    manifest = Manifest({k: Digest(*v) for k, v in entries.items()})
    again = Manifest.loads(manifest.dumps())
    assert again == manifest and again.sha256() == manifest.sha256()


@pytest.mark.parametrize("junk", [b"", b"{", b"[]", b'{"format": "other", "chunks": {}}',
                                  b'{"format": "sigcube-chunk-manifest/1", "chunks": {"a": [1]}}', b"\xff\xfe"])
def test_a_damaged_manifest_is_refused(junk):
    with pytest.raises(ValueError):
        Manifest.loads(junk)


def test_a_listing_decides_by_size_and_md5_etag():
    data = _chunk(b"payload")
    digest = Digest.of(data, md5=True)
    assert digest.listed_problem(len(data), f'"{digest.md5}"') is None
    assert "not the chunk" in digest.listed_problem(len(data), '"' + "0" * 32 + '"')
    assert "bytes where" in digest.listed_problem(len(data) + 1, None)
    assert digest.listed_problem(None, None) == "is missing"
    assert digest.listed_problem(len(data), "abc-2") == "read"  # a multipart ETag: only the bytes can tell
    assert Digest.of(data).listed_problem(len(data), f'"{digest.md5}"') == "read"  # no MD5 recorded


def _small_store(path: Path) -> tuple[Location, Manifest]:
    """A sealed three-array store written through a RecordingStore, with its manifest (as sigcube writes cubes)."""
    ds = xr.Dataset({"a": (("x", "g"), np.arange(24.0).reshape(6, 4)), "b": ("x", np.arange(6) * 10)},
                    coords={"x": np.arange(6)}).chunk({"x": 2})
    encoding = {n: checksummed(compress=n != "a") for n in ds.variables}
    store = Location.of(path)
    recorder = RecordingStore(store.zarr_store(read_only=False))
    ds.to_zarr(recorder, zarr_format=3, consolidated=False, encoding=encoding, write_empty_chunks=True)
    manifest = recorder.take()
    write_manifest(store, CUBE_MANIFEST, manifest)
    seal(store, {MANIFEST_ATTR: manifest.sha256()})
    return store, manifest


def _attrs(store: Location) -> dict:
    return dict(zarr.open_group(store.url, mode="r").attrs)


def test_the_recording_store_lists_every_chunk_it_wrote(tmp_path):
    store, manifest = _small_store(tmp_path / "s.zarr")
    on_disk = {str(p.relative_to(tmp_path / "s.zarr")) for p in (tmp_path / "s.zarr").rglob("*")
               if p.is_file() and "/c/" in f"/{p.relative_to(tmp_path / 's.zarr')}"}
    assert set(manifest) == on_disk and len(on_disk) == 3 + 3 + 1  # a, b in three chunks; the index x in one
    assert all(d == Digest.of((tmp_path / "s.zarr" / k).read_bytes()) for k, d in manifest.items())
    assert read_manifest(store, CUBE_MANIFEST) == manifest
    arrays, found = check_store(store, _attrs(store), "fix it")
    assert set(arrays) == {"a", "b", "x"} and found == manifest


def _swap(root: Path, one: str, other: str) -> None:
    a, b = (root / one).read_bytes(), (root / other).read_bytes()
    (root / one).write_bytes(b)
    (root / other).write_bytes(a)


DAMAGE = {
    "swap within an array": lambda root: _swap(root, "a/c/0/0", "a/c/1/0"),
    "copy across arrays": lambda root: shutil.copy(root / "b/c/0", root / "x/c/0"),
    "truncate": lambda root: (root / "b/c/1").write_bytes((root / "b/c/1").read_bytes()[:-3]),
    "resize": lambda root: (root / "a/c/2/0").write_bytes((root / "a/c/2/0").read_bytes() + b"\0\0"),
    "flip a byte": lambda root: (root / "a/c/2/0").write_bytes(
        bytes([(root / "a/c/2/0").read_bytes()[0] ^ 1]) + (root / "a/c/2/0").read_bytes()[1:]),
    "delete": lambda root: (root / "b/c/2").unlink(),
}


@pytest.mark.parametrize("how", DAMAGE)
def test_damage_is_found_by_the_check_and_by_every_read(tmp_path, how):
    store, manifest = _small_store(tmp_path / "s.zarr")
    DAMAGE[how](tmp_path / "s.zarr")
    for method in ("full", "listing"):
        with pytest.raises(StoreDamagedError, match=r"s.zarr: chunk \w/c/[\d/]+ (is|has|holds|fails) .*; fix it"):
            check_store(store, _attrs(store), "fix it", method)
    verified = VerifyingStore(store.zarr_store(), store.name, manifest, "fix it")
    ds = xr.open_zarr(verified, consolidated=False, chunks=None) if how != "copy across arrays" else None
    with pytest.raises(StoreDamagedError, match="; fix it"):
        (ds if ds is not None else xr.open_zarr(verified, consolidated=False, chunks=None)).load()


def test_a_modified_manifest_is_damage(tmp_path):
    store, manifest = _small_store(tmp_path / "s.zarr")
    forged = Manifest({**manifest, "b/c/0": Digest(1, 2)})
    write_manifest(store, CUBE_MANIFEST, forged)
    with pytest.raises(StoreDamagedError, match=r"its chunk manifest .* was modified after it was written; fix it"):
        check_store(store, _attrs(store), "fix it", "seal")
    (tmp_path / "s.zarr" / "_manifest" / "cube.json").unlink()
    with pytest.raises(StoreDamagedError, match="is missing or unreadable"):
        check_store(store, _attrs(store), "fix it", "seal")


def test_the_verifying_store_serves_an_intact_store_unchanged(tmp_path):
    store, manifest = _small_store(tmp_path / "s.zarr")
    plain = xr.open_zarr(store.url, consolidated=False).load()
    verified = xr.open_zarr(VerifyingStore(store.zarr_store(), store.name, manifest, "fix it"),
                            consolidated=False).load()
    xr.testing.assert_identical(plain, verified)


def test_a_chunk_no_manifest_lists_is_checked_by_its_own_crc(tmp_path):
    store, manifest = _small_store(tmp_path / "s.zarr")
    partial = Manifest({k: d for k, d in manifest.items() if not k.startswith("b/")})
    raw = tmp_path / "s.zarr" / "b" / "c" / "1"
    raw.write_bytes(bytes([raw.read_bytes()[0] ^ 4]) + raw.read_bytes()[1:])
    assert chunk_problems(store, {"b/c/0": None, "b/c/1": None, "b/c/9": None}) == {
        "b/c/1": ("b/c/1", "fails its checksum (corrupted or truncated)"), "b/c/9": ("b/c/9", "is missing")}
    with pytest.raises(StoreDamagedError, match=r"chunk b/c/1 fails its checksum"):
        xr.open_zarr(VerifyingStore(store.zarr_store(), store.name, partial, "fix it"), consolidated=False).load()


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_any_chunk_moved_over_another_is_refused(tmp_path_factory, data):
    root = tmp_path_factory.mktemp("s") / "s.zarr"
    store, manifest = _small_store(root)
    keys = sorted(manifest)
    src = data.draw(st.sampled_from(keys))
    dst = data.draw(st.sampled_from([k for k in keys if (root / k).read_bytes() != (root / src).read_bytes()]))
    shutil.copy(root / src, root / dst)
    problems = chunk_problems(store, manifest, "full")
    assert set(problems) == {dst}
