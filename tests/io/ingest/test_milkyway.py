"""Milky Way ingest (Eilers+2019, Mróz+2019, McMillan 2017 via galpy) and the generic verified mirror fetch."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import astropy.units as u
import numpy as np
import pooch
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sigcube.errors import DataSourceError, HashMismatchError, ParseError, SigcubeError
from sigcube.io import datasets
from sigcube.io.cubes import content_hash, write_cube
from sigcube.io.ingest import milkyway as mw
from sigcube.io.ingest import sources
from sigcube.io.ingest.sources import fetch_dataset, load_manifest
from sigcube.io.schema import validate

SHA256 = {  # as recorded in shared/data/SOURCES.md
    "eilers2019_mw_rotation_curve_table1.csv": "3f7027904a9b56bed2c5c936e6731eba719969a531ce1cf3c8a810fcb1691f32",
    "mroz2019_cepheid_rotation_curve.dat": "2ff2066c4369b43d44d19f989eda3ab01da98f5c37721e38c084e980423f1396",
    "McMillan17.ini": "2fa000f9675a7ecc2e2012c9fe1cd468948fb91e4dd5d56aca3a54014e044ea0",
}
EILERS = "milky_way/eilers2019_mw_rotation_curve_table1.csv"
CEPHEIDS = "milky_way/mroz2019_cepheid_rotation_curve.dat"
INI = "milky_way/McMillan17.ini"


def _no_network(*args, **kwargs):
    raise AssertionError("the network must not be used")


# ------------------------------------------------------------------------- manifests and fetching


@pytest.mark.parametrize("name", ["milkyway", "clusters", "dwarfs", "manga"])
def test_manifests_name_every_file_with_its_provenance(name: str, shared_data: Path) -> None:
    manifest = load_manifest(name)
    assert manifest["name"] == name and manifest["title"] and "could not be reached" in manifest["hash_origin"]
    for key, entry in manifest["files"].items():
        assert set(sources.ENTRY_KEYS) <= set(entry) and "url" not in entry
        assert Path(entry["mirror_path"]).name == key
        assert " @ " in entry["source"] and entry["citation"] and entry["licence"]
        assert pooch.file_hash(str(shared_data / entry["mirror_path"])) == entry["sha256"]


def test_manifest_hashes_are_those_of_sources_md() -> None:
    files = load_manifest("milkyway")["files"]
    assert {k: v["sha256"] for k, v in files.items()} == SHA256
    assert len(load_manifest("clusters")["files"]) == 42


def test_fetch_from_the_real_mirror_never_touches_the_network(shared_data: Path, monkeypatch) -> None:
    monkeypatch.setattr(pooch, "retrieve", _no_network)
    files = fetch_dataset("milkyway")
    assert files.paths == {Path(p).name: shared_data / p for p in (EILERS, CEPHEIDS, INI)}
    provenance = files.provenance()
    assert json.loads(provenance["source_files"]) == {f"milky_way/{k}": v for k, v in SHA256.items()}
    assert "Eilers" in provenance["citation"] and "McMillan 2017" in provenance["citation"]
    assert "Agama" in json.loads(provenance["upstream_sources"])[INI]


def test_no_mirror_and_no_url_is_one_paragraph_saying_what_to_set(monkeypatch) -> None:
    monkeypatch.delenv("SIGCUBE_DATA_DIR", raising=False)
    monkeypatch.setattr(pooch, "retrieve", _no_network)
    with pytest.raises(DataSourceError) as info:
        fetch_dataset("milkyway")
    message = str(info.value)
    assert "\n" not in message and "SIGCUBE_DATA_DIR" in message and "no download URL" in message
    assert EILERS in message and "zimmerman-formula" in message and "ingest/milkyway.toml" in message


def test_missing_file_in_the_mirror_is_named(mirror_copy, tmp_path: Path, monkeypatch) -> None:
    for relative in (EILERS, INI):
        mirror_copy(relative)
    monkeypatch.setenv("SIGCUBE_DATA_DIR", str(tmp_path))
    with pytest.raises(DataSourceError, match=r"missing .*mroz2019_cepheid_rotation_curve\.dat"):
        fetch_dataset("milkyway")


def test_changed_file_is_a_hash_mismatch(mirror_copy, tmp_path: Path, monkeypatch) -> None:
    for relative in (CEPHEIDS, INI):
        mirror_copy(relative)
    mirror_copy(EILERS, 2, lambda line: line.replace("226.83", "226.84"))
    monkeypatch.setenv("SIGCUBE_DATA_DIR", str(tmp_path))
    with pytest.raises(HashMismatchError, match="eilers2019") as info:
        fetch_dataset("milkyway")
    assert info.value.expected == SHA256["eilers2019_mw_rotation_curve_table1.csv"]


def _manifest_with_urls(tmp_path: Path, monkeypatch) -> Path:
    """A copy of ingest/milkyway.toml whose entries carry (fake) download URLs."""
    folder = tmp_path / "manifests"
    folder.mkdir()
    text = (sources.MANIFEST_DIR / "milkyway.toml").read_text()
    for key in SHA256:
        text = text.replace(f'[files."{key}"]\n', f'[files."{key}"]\nurl = "https://example.invalid/{key}"\n')
    (folder / "milkyway.toml").write_text(text)
    monkeypatch.setattr(sources, "MANIFEST_DIR", folder)
    monkeypatch.delenv("SIGCUBE_DATA_DIR", raising=False)
    monkeypatch.setattr(pooch, "os_cache", lambda project: tmp_path / "cache" / project)
    return folder


def test_download_path_verifies_each_file(shared_data: Path, tmp_path: Path, monkeypatch) -> None:
    _manifest_with_urls(tmp_path, monkeypatch)
    real_retrieve = pooch.retrieve
    served = {f"https://example.invalid/{Path(p).name}": shared_data / p for p in (EILERS, CEPHEIDS, INI)}

    def local(url, output_file, _pooch):
        shutil.copy(served[url], output_file)

    monkeypatch.setattr(pooch, "retrieve", lambda url, **kw: real_retrieve(url, downloader=local, **kw))
    files = fetch_dataset("milkyway")
    assert all(p.is_relative_to(tmp_path / "cache" / "sigcube" / "milkyway") for p in files.paths.values())
    served[next(iter(served))] = shared_data / CEPHEIDS  # the server now sends the wrong bytes
    shutil.rmtree(tmp_path / "cache")
    with pytest.raises(HashMismatchError):
        fetch_dataset("milkyway")


def test_download_failure_is_one_paragraph(tmp_path: Path, monkeypatch) -> None:
    _manifest_with_urls(tmp_path, monkeypatch)

    def unreachable(*args, **kwargs):
        raise ConnectionError("no route to host")

    monkeypatch.setattr(pooch, "retrieve", unreachable)
    with pytest.raises(DataSourceError, match="download failed .*no route to host.*SIGCUBE_DATA_DIR"):
        fetch_dataset("milkyway")


# ------------------------------------------------------------------------------------- readers


def test_real_files_parse(shared_data: Path) -> None:
    eilers = mw.read_eilers(shared_data / EILERS)
    assert len(eilers.r) == 38 and np.all(np.diff(eilers.r) > 0)
    assert (eilers.r[0], eilers.v_c[0], eilers.errors["e_minus"][0], eilers.errors["e_plus"][0]) == (
        5.27, 226.83, 1.91, 1.90)
    cepheids = mw.read_cepheids(shared_data / CEPHEIDS)
    assert len(cepheids.r) == 773 and 4.2 < cepheids.r.min() and cepheids.r.max() < 19.6
    assert (cepheids.r[0], cepheids.v_c[0], cepheids.errors["e_v_c"][0], cepheids.errors["e_r"][0]) == (
        9.751, 219.70, 4.12, 0.066)
    model = mw.read_mcmillan_ini(shared_data / INI)
    assert list(model) == ["thin disk", "thick disk", "HI gas disk", "molecular gas disk", "bulge", "halo"]
    assert model["HI gas disk"]["scaleHeight"] == -0.085 and model["bulge"]["type"] == "Spheroid"


@pytest.mark.parametrize(
    ("relative", "line", "edit", "fragment"),
    [
        (EILERS, 1, lambda s: s.replace("vc_kms", "v_kms"), "header"),
        (EILERS, 5, lambda s: s.replace("229.88", "229.8x"), "'229.8x' is not a number"),
        (EILERS, 7, lambda s: s + ",1.0", "expected 4 comma-separated fields, found 5"),
        (EILERS, 3, lambda s: s.replace("1.43", "-1.43"), "non-negative"),
        (EILERS, 4, lambda s: "5.00" + s[4:], "increase strictly"),
        (EILERS, 9, lambda s: s.replace(s.split(",")[1], "nan"), "not a finite number"),
        (CEPHEIDS, 100, lambda s: " ".join(s.split()[:3]), "expected 4 columns"),
        (CEPHEIDS, 773, lambda s: s.replace(s.split()[1], "fast"), "column v_c"),
        (INI, 5, lambda s: "type = Ring", "type 'Ring'"),
        (INI, 7, lambda s: "scaleRadus = 2.49955", "unknown parameter 'scaleRadus'"),
        (INI, 4, lambda s: "[Thing]", "not a [Potential <name>] section"),
        (INI, 1, lambda s: "stray line", "'key = value' inside a [Potential"),
        (INI, 8, lambda s: "scaleHeight = 0.3 kpc", "'0.3 kpc' is not a number"),
        (INI, 11, lambda s: "[Potential thin disk]", "appears twice"),
        (INI, 7, lambda s: "surfaceDensity = 1", "set twice"),
    ],
)
def test_malformed_copies_name_file_and_line(mirror_copy, relative, line, edit, fragment) -> None:
    path = mirror_copy(relative, line, edit)
    reader = {EILERS: mw.read_eilers, CEPHEIDS: mw.read_cepheids, INI: mw.read_mcmillan_ini}[relative]
    with pytest.raises(ParseError) as info:
        reader(path)
    assert info.value.line == line and f"{path.name}, line {line}:" in str(info.value)
    assert fragment in str(info.value)


def test_empty_missing_and_binary_files(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text(",".join(mw.EILERS_HEADER) + "\n")
    with pytest.raises(ParseError, match="no data rows"):
        mw.read_eilers(tmp_path / "empty.csv")
    with pytest.raises(DataSourceError, match="cannot read"):
        mw.read_cepheids(tmp_path / "nothing.dat")
    (tmp_path / "binary.dat").write_bytes(b"9.7 219.7 4.1 0.06\n\xff\xfe\n")
    with pytest.raises(ParseError, match="line 2: byte 0xff is not valid UTF-8"):
        mw.read_cepheids(tmp_path / "binary.dat")


finite = st.floats(0.01, 999.0, allow_nan=False).map(lambda x: round(x, 3))


@settings(max_examples=30, deadline=None)
@given(rows=st.lists(st.tuples(finite, finite, finite), min_size=1, max_size=40))
def test_eilers_reader_round_trips_generated_tables(tmp_path_factory, rows) -> None:
    radii = np.cumsum([1.0 + i for i in range(len(rows))])
    lines = [",".join(mw.EILERS_HEADER)] + [f"{r:g},{v},{lo},{hi}" for r, (v, lo, hi) in zip(radii, rows)]
    path = tmp_path_factory.mktemp("eilers") / "table.csv"
    path.write_text("\n".join(lines) + "\n")
    curve = mw.read_eilers(path)
    assert np.array_equal(curve.r, radii) and np.array_equal(curve.v_c, [v for v, _, _ in rows])
    assert np.array_equal(curve.errors["e_plus"], [hi for _, _, hi in rows])


# ---------------------------------------------------------------------------------- galpy model


@pytest.mark.slow  # two full galpy checks; the ingest runs the same check
def test_galpy_model_matches_the_ini_and_a_changed_ini_is_refused(shared_data: Path, tmp_path: Path) -> None:
    model = mw.read_mcmillan_ini(shared_data / INI)
    worst = mw.check_galpy_model(model, shared_data / INI)
    assert worst["disk"] < 0.005 and worst["bulge"] < 0.01
    model["thin disk"]["surfaceDensity"] *= 1.1
    with pytest.raises(DataSourceError, match="galpy's McMillan17 disk density differs"):
        mw.check_galpy_model(model, shared_data / INI)


def test_v_bar_excludes_the_halo_and_uses_galpy_units(milkyway_cube) -> None:
    from galpy.potential import NFWPotential, vcirc
    from galpy.potential.mwpotentials import McMillan17

    r0 = 8.21  # galpy's McMillan17 ro: there V_c(total) = vo = 233.1 km/s
    halo = next(p for p in McMillan17 if isinstance(p, NFWPotential))
    v_halo = vcirc(halo, r0 * u.kpc, quantity=True).to_value(u.km / u.s)
    v_bar = float(mw.baryonic_velocity(np.array([r0]))[0])
    assert np.hypot(v_bar, v_halo) == pytest.approx(233.1, abs=0.5)
    assert 170 < v_bar < 185
    assert np.all(np.diff(milkyway_cube["eilers_v_bar"].values) < 0)  # declining beyond 5 kpc


# ----------------------------------------------------------------------------------------- cube


def test_cube_layout_units_and_provenance(milkyway_cube, milkyway_store: Path) -> None:
    ds = milkyway_cube
    schema = validate(ds)
    assert schema.kind == "milkyway" and dict(ds.sizes) == {"bin": 38, "star": 773}
    for name, spec in schema.variables.items():
        assert u.Unit(ds[name].attrs["units"]) is not None and ds[name].attrs["long_name"] == spec.long_name
    assert json.loads(ds.attrs["source_files"]) == {f"milky_way/{k}": v for k, v in SHA256.items()}
    assert ds.attrs["sigcube_version"] and ds.attrs["galpy_version"]
    assert json.loads(ds.attrs["mcmillan17_parameters"])["halo"]["type"] == "Spheroid"
    assert write_cube(ds, milkyway_store) == "unchanged" and content_hash(ds) == ds.attrs["content_sha256"]


def test_pack_two_tracer_sets_and_the_paper_scaling(milkyway_cube) -> None:
    points = mw.pack_milkyway(milkyway_cube)
    assert points.group == "tracer" and list(points.galaxy) == list(mw.TRACERS)
    assert list(points.offsets) == [0, 38, 811]
    assert np.array_equal(points.inputs["e_v_obs"][:38], 0.5 * (milkyway_cube["e_eilers_v_c_minus"].values
                                                                 + milkyway_cube["e_eilers_v_c_plus"].values))
    assert np.all(points.inputs["R_d_third"] == mw.MW_DISK_SCALE_KPC)
    scaled = mw.pack_milkyway(milkyway_cube, v_bar_scale=mw.PAPER_V_BAR_SCALE)
    assert np.allclose(scaled.inputs["v_bar"], 1.16 * points.inputs["v_bar"])
    assert np.allclose(scaled.inputs["g_N"], 1.16**2 * points.inputs["g_N"])


def test_registered_as_a_sweepable_kind(milkyway_cube) -> None:
    from sigcube.conventions import SampleCuts

    assert {"sparc", "milkyway", "clusters"} <= set(datasets.dataset_names())
    assert datasets.pack(milkyway_cube).n_points == 811
    with pytest.raises(SigcubeError, match="apply to SPARC galaxies only"):
        datasets.pack(milkyway_cube, SampleCuts(min_points=3))
