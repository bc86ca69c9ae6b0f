"""The SPARC cube on disk: schema, units, provenance, determinism, atomic writes."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import astropy.units as u
import numpy as np
import pytest
import xarray as xr

from sigcube.errors import ParseError, SchemaError, StoreExistsError
from sigcube.io.cubes import content_hash, open_cube, write_cube
from sigcube.io.ingest.sources import fetch_sparc
from sigcube.io.ingest.sparc import build_sparc_cube
from sigcube.io.schema import SCHEMAS
from sigcube.io.stores import StoreWriteError


def test_cube_shape_and_labels(sparc_cube):
    assert dict(sparc_cube.sizes) == {"galaxy": 175, "radius": 115}
    assert int(sparc_cube.n_points.sum()) == 3391
    for name, spec in SCHEMAS["sparc"].variables.items():
        var = sparc_cube[name]
        assert u.Unit(var.attrs["units"]) == u.Unit(spec.units)
        assert var.attrs["long_name"]


def test_cube_values_match_the_source_files(sparc_cube, shared_data):
    rows = np.loadtxt(shared_data / "sparc" / "Rotmod_LTG" / "NGC3198_rotmod.dat")
    g = sparc_cube.sel(galaxy="NGC3198")
    n = int(g.n_points)
    assert n == len(rows)
    np.testing.assert_array_equal(g.r.values[:n], rows[:, 0])
    np.testing.assert_array_equal(g.v_obs.values[:n], rows[:, 1])
    np.testing.assert_array_equal(g.sb_bul.values[:n], rows[:, 7])
    assert np.all(np.isnan(g.r.values[n:]))
    assert float(g.rotmod_distance) == float(g.distance) == 13.8


def test_cube_provenance(sparc_cube):
    attrs = sparc_cube.attrs
    sources = json.loads(attrs["source_files"])
    assert len(sources) == 178 and sources["SPARC_Lelli2016c.mrt"].startswith("5aa0501f")
    assert "Lelli" in attrs["citation"] and attrs["sigcube_version"]
    assert attrs["content_sha256"] == content_hash(sparc_cube)


def test_reingesting_identical_inputs_gives_an_identical_cube(sparc_store, tmp_path):
    other = tmp_path / "again.zarr"
    assert write_cube(build_sparc_cube(), other) == "written"
    a, b = open_cube(sparc_store), open_cube(other)
    assert a.attrs["content_sha256"] == b.attrs["content_sha256"]
    xr.testing.assert_identical(a.load(), b.load())
    files = sorted(p.relative_to(other) for p in other.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(sparc_store) for p in sparc_store.rglob("*") if p.is_file())
    for rel in files:
        assert (other / rel).read_bytes() == (sparc_store / rel).read_bytes(), rel
    assert write_cube(build_sparc_cube(), other) == "unchanged"


def test_a_different_store_is_not_overwritten_without_force(sparc_cube, tmp_path):
    path = tmp_path / "sparc.zarr"
    write_cube(sparc_cube, path)
    changed = sparc_cube.copy(deep=True)
    changed["v_obs"][0, 0] = 1.0
    with pytest.raises(StoreExistsError, match="--force"):
        write_cube(changed, path)
    assert open_cube(path).attrs["content_sha256"] == content_hash(sparc_cube)
    assert write_cube(changed, path, force=True) == "replaced"
    assert float(open_cube(path).v_obs[0, 0]) == 1.0
    assert [p.name for p in tmp_path.iterdir()] == ["sparc.zarr"]


def test_a_cube_written_before_checksums_is_rewritten_with_them(sparc_cube, tmp_path):
    legacy = tmp_path / "legacy.zarr"
    sparc_cube.drop_encoding().to_zarr(legacy, zarr_format=3, consolidated=False)  # as an older sigcube wrote it
    assert "crc32c" not in (legacy / "v_obs" / "zarr.json").read_text()
    assert write_cube(sparc_cube, legacy) == "replaced"  # same content: no --force needed
    assert "crc32c" in (legacy / "v_obs" / "zarr.json").read_text()
    assert write_cube(sparc_cube, legacy) == "unchanged"
    xr.testing.assert_identical(open_cube(legacy).load(), sparc_cube)


def test_force_replaces_only_a_dataset_cube(sparc_cube, tmp_path):
    result = tmp_path / "result.zarr"
    xr.Dataset(attrs={"sigcube_kind": "sweep"}).to_zarr(result, zarr_format=3, consolidated=False)
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "todo.txt").write_text("keep me")
    for path, what in ((result, "a sweep result cube"), (folder, "not a readable Zarr v3 store")):
        with pytest.raises(StoreExistsError, match=f"{what}.*; only a dataset cube is ever replaced there"):
            write_cube(sparc_cube, path, force=True)
    assert (folder / "todo.txt").read_text() == "keep me" and (result / "zarr.json").is_file()


def test_a_failed_write_leaves_no_store_behind(sparc_cube, tmp_path, monkeypatch):
    path = tmp_path / "sparc.zarr"

    def boom(self, store, *args, **kwargs):  # the disk fills up once the store's first object is written
        root = Path(store._store.root)  # the local folder under sigcube's recording Zarr store
        root.mkdir()
        (root / "zarr.json").write_text("{}")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(xr.Dataset, "to_zarr", boom)
    with pytest.raises(StoreWriteError, match="cannot write .*sparc.zarr: no space left on device"):
        write_cube(sparc_cube, path)
    assert list(tmp_path.iterdir()) == []


def test_open_cube_validates_the_schema(sparc_cube, tmp_path):
    broken = sparc_cube.drop_vars("e_v_obs")
    broken.to_zarr(tmp_path / "b.zarr", zarr_format=3, consolidated=False)
    with pytest.raises(SchemaError, match="missing variable 'e_v_obs'"):
        open_cube(tmp_path / "b.zarr")
    bad_units = sparc_cube.copy()
    bad_units["r"].attrs["units"] = "parsecs of doom"
    bad_units.to_zarr(tmp_path / "u.zarr", zarr_format=3, consolidated=False)
    with pytest.raises(SchemaError, match="'r' has units 'parsecs of doom'"):
        open_cube(tmp_path / "u.zarr")
    with pytest.raises(SchemaError, match="no such cube"):
        open_cube(tmp_path / "missing.zarr")
    (tmp_path / "junk.zarr").mkdir()
    with pytest.raises(SchemaError, match="not a readable Zarr"):
        open_cube(tmp_path / "junk.zarr")


def test_a_malformed_curve_stops_the_build_with_file_and_line(shared_data, tmp_path):
    files = fetch_sparc()
    bad = tmp_path / "NGC3198_rotmod.dat"
    lines = files.rotmod["NGC3198"].read_text().splitlines()
    lines[5] = "0.64\t43.30\t16.30\tforty\t73.66\t0.00\t590.57\t0.00"
    bad.write_text("\n".join(lines) + "\n")
    rotmod = {**files.rotmod, "NGC3198": bad}
    from dataclasses import replace

    with pytest.raises(ParseError, match=r"NGC3198_rotmod\.dat, line 6"):
        build_sparc_cube(replace(files, rotmod=rotmod))


def test_table1_and_curves_must_list_the_same_galaxies(shared_data, tmp_path):
    from dataclasses import replace

    from sigcube.errors import DataSourceError

    files = fetch_sparc()
    fewer = {k: v for k, v in files.rotmod.items() if k != "NGC3198"}
    with pytest.raises(DataSourceError, match="Table 1 only: \\['NGC3198'\\]"):
        build_sparc_cube(replace(files, rotmod=fewer))
