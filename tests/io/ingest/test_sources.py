"""Tests of sigcube.io.ingest.sources: manifest, verified local mirror, and the (offline-simulated) download path."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pooch
import pytest
import requests

from sigcube.errors import DataSourceError, HashMismatchError
from sigcube.io.ingest import sources
from sigcube.io.ingest.sources import SparcFiles, data_dir, fetch_sparc, load_manifest

TABLE1_SHA256 = "5aa0501f6b0d881fa579030e315e7b5b6ef561a5bd3a07472f9929c7e5728243"
MASS_MODELS_SHA256 = "5b88b1cf114cacadf22985ad464cb538694f0ff7cd08761e781afa882b7569c2"
BULGES_SHA256 = "5af4fb0706df8cd097eded2ca7749fe3fb3240314afed333f84ab8c00b662a84"


def _no_network(*args, **kwargs):
    raise AssertionError("the network must not be used when a mirror is set")


@pytest.fixture()
def mirror(shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary mirror of symlinks to the real SPARC files, named by SIGCUBE_DATA_DIR."""
    sparc = tmp_path / "mirror" / "sparc"
    (sparc / "Rotmod_LTG").mkdir(parents=True)
    for real in (shared_data / "sparc" / "Rotmod_LTG").glob("*_rotmod.dat"):
        (sparc / "Rotmod_LTG" / real.name).symlink_to(real)
    for name in ("SPARC_Lelli2016c.mrt", "MassModels_Lelli2016c.mrt", "Bulges.dat"):
        (sparc / name).symlink_to(shared_data / "sparc" / name)
    monkeypatch.setenv("SIGCUBE_DATA_DIR", str(sparc.parent))
    monkeypatch.setattr(pooch, "retrieve", _no_network)
    return sparc


def _replace_with_modified_copy(link: Path) -> None:
    """Replace a symlink by a copy of its target with one byte changed (the real file is untouched)."""
    data = bytearray(link.read_bytes())
    link.unlink()
    data[-2] = ord("7") if data[-2] != ord("7") else ord("8")
    link.write_bytes(bytes(data))


def test_manifest_records_every_file() -> None:
    manifest = load_manifest("sparc")
    files = manifest["files"]
    assert "Lelli" in manifest["citation"] and "AJ 152, 157" in manifest["citation"]
    assert manifest["licence"].startswith("CC BY 4.0")
    assert "could not be reached" in manifest["hash_origin"]
    assert "sha256" not in files["Rotmod_LTG.zip"] and "not known" in files["Rotmod_LTG.zip"]["note"]
    assert len(files["Rotmod_LTG.zip"]["members"]) == 175
    assert files["SPARC_Lelli2016c.mrt"]["sha256"] == TABLE1_SHA256
    assert files["MassModels_Lelli2016c.mrt"]["sha256"] == MASS_MODELS_SHA256
    assert files["Bulges.mrt"]["sha256"] == BULGES_SHA256
    assert all(entry["url"].startswith("http://astroweb.case.edu/SPARC/") for entry in files.values())


def test_missing_manifest_is_a_data_source_error() -> None:
    with pytest.raises(DataSourceError, match="nosuchset.toml"):
        load_manifest("nosuchset")


def test_fetch_sparc_from_real_mirror(shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIGCUBE_DATA_DIR", str(shared_data))
    monkeypatch.setattr(pooch, "retrieve", _no_network)
    files = fetch_sparc()
    assert isinstance(files, SparcFiles)
    assert len(files.rotmod) == 175 and list(files.rotmod) == sorted(files.rotmod)
    assert files.rotmod["NGC3198"] == shared_data / "sparc" / "Rotmod_LTG" / "NGC3198_rotmod.dat"
    assert len(files.sha256) == 178 and list(files.sha256) == sorted(files.sha256)
    assert files.sha256["SPARC_Lelli2016c.mrt"] == TABLE1_SHA256
    assert files.sha256["MassModels_Lelli2016c.mrt"] == MASS_MODELS_SHA256
    members = load_manifest("sparc")["files"]["Rotmod_LTG.zip"]["members"]
    assert {f"Rotmod_LTG/{k}": v for k, v in members.items()} == {
        k: v for k, v in files.sha256.items() if k.startswith("Rotmod_LTG/")
    }
    assert files.table1.name == "SPARC_Lelli2016c.mrt" and files.mass_models.name == "MassModels_Lelli2016c.mrt"
    assert files.sha256["Bulges.mrt"] == BULGES_SHA256 and files.bulges.name == "Bulges.dat"


def test_modified_rotmod_file_is_a_hash_mismatch(mirror: Path) -> None:
    _replace_with_modified_copy(mirror / "Rotmod_LTG" / "NGC3198_rotmod.dat")
    with pytest.raises(HashMismatchError, match="NGC3198_rotmod.dat") as info:
        fetch_sparc()
    assert info.value.path == mirror / "Rotmod_LTG" / "NGC3198_rotmod.dat"
    assert info.value.expected == load_manifest("sparc")["files"]["Rotmod_LTG.zip"]["members"]["NGC3198_rotmod.dat"]
    assert info.value.actual != info.value.expected


def test_modified_table_is_a_hash_mismatch(mirror: Path) -> None:
    _replace_with_modified_copy(mirror / "SPARC_Lelli2016c.mrt")
    with pytest.raises(HashMismatchError, match="SPARC_Lelli2016c.mrt") as info:
        fetch_sparc()
    assert info.value.expected == TABLE1_SHA256


def test_missing_rotmod_file_is_named(mirror: Path) -> None:
    (mirror / "Rotmod_LTG" / "DDO154_rotmod.dat").unlink()
    with pytest.raises(DataSourceError, match=r"missing .*DDO154_rotmod\.dat"):
        fetch_sparc()


def test_unexpected_rotmod_file_is_named(mirror: Path) -> None:
    shutil.copy(mirror / "Rotmod_LTG" / "DDO154_rotmod.dat", mirror / "Rotmod_LTG" / "DDO999_rotmod.dat")
    with pytest.raises(DataSourceError, match=r"unexpected .*DDO999_rotmod\.dat"):
        fetch_sparc()


def test_missing_table_is_named(mirror: Path) -> None:
    (mirror / "MassModels_Lelli2016c.mrt").unlink()
    with pytest.raises(DataSourceError, match=r"missing .*MassModels_Lelli2016c\.mrt"):
        fetch_sparc()


def test_nonexistent_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "does-not-exist"
    monkeypatch.setenv("SIGCUBE_DATA_DIR", str(missing))
    with pytest.raises(DataSourceError, match="SIGCUBE_DATA_DIR") as info:
        fetch_sparc()
    assert str(missing) in str(info.value)


def test_data_dir_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SIGCUBE_DATA_DIR", raising=False)
    assert data_dir() is None


@pytest.mark.parametrize("error", [ConnectionError("no route to host"), requests.ConnectionError("DNS failure")])
def test_no_mirror_and_no_network_gives_one_clear_message(
    error: Exception, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable(*args, **kwargs):
        raise error

    monkeypatch.delenv("SIGCUBE_DATA_DIR", raising=False)
    monkeypatch.setattr(pooch, "os_cache", lambda project: tmp_path / project)
    monkeypatch.setattr(pooch, "retrieve", unreachable)
    with pytest.raises(DataSourceError) as info:
        fetch_sparc()
    message = str(info.value)
    assert "\n" not in message
    assert "cannot be reached" in message and "SIGCUBE_DATA_DIR" in message
    assert "sparc/Rotmod_LTG/" in message and "sparc/SPARC_Lelli2016c.mrt" in message
    assert "Lelli" in message and "http://astroweb.case.edu/SPARC/" in message


@pytest.fixture()
def fake_server(shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Serve local copies through the real ``pooch.retrieve`` (a local downloader, a temp cache)."""
    real = shared_data / "sparc"
    served = tmp_path / "served"
    served.mkdir()
    with zipfile.ZipFile(served / "Rotmod_LTG.zip", "w") as archive:
        for path in sorted((real / "Rotmod_LTG").glob("*_rotmod.dat")):
            archive.write(path, f"Rotmod_LTG/{path.name}")
        archive.writestr("__MACOSX/Rotmod_LTG/._NGC3198_rotmod.dat", b"resource fork")
    for name in ("SPARC_Lelli2016c.mrt", "MassModels_Lelli2016c.mrt"):
        shutil.copy(real / name, served / name)
    shutil.copy(real / "Bulges.dat", served / "Bulges.mrt")
    routes = {entry["url"]: served / name for name, entry in load_manifest("sparc")["files"].items()}

    def local_download(url: str, output_file: str, _pooch: object) -> None:
        shutil.copy(routes[url], output_file)

    real_retrieve = pooch.retrieve
    monkeypatch.delenv("SIGCUBE_DATA_DIR", raising=False)
    monkeypatch.setattr(pooch, "os_cache", lambda project: tmp_path / "cache" / project)
    monkeypatch.setattr(pooch, "retrieve", lambda url, **kw: real_retrieve(url, downloader=local_download, **kw))
    return {path.name: path for path in served.iterdir()}


def test_download_path_verifies_members(fake_server: dict[str, Path], tmp_path: Path) -> None:
    files = fetch_sparc()
    assert len(files.rotmod) == 175 and len(files.sha256) == 178
    assert files.rotmod["NGC3198"].is_relative_to(tmp_path / "cache" / "sigcube")
    assert files.sha256["SPARC_Lelli2016c.mrt"] == TABLE1_SHA256


def test_download_with_changed_table_is_a_hash_mismatch(fake_server: dict[str, Path]) -> None:
    fake_server["SPARC_Lelli2016c.mrt"].write_bytes(b"not the table\n")
    with pytest.raises(HashMismatchError, match="SPARC_Lelli2016c.mrt") as info:
        fetch_sparc()
    assert info.value.expected == TABLE1_SHA256
    assert info.value.actual == sources.pooch.file_hash(str(fake_server["SPARC_Lelli2016c.mrt"]))



def _rewrite_zip(archive_path: Path, edit) -> None:
    """Rewrite the served zip with ``edit`` applied to its {member name: bytes} mapping."""
    with zipfile.ZipFile(archive_path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    edit(members)
    with zipfile.ZipFile(archive_path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def test_download_with_changed_member_is_a_hash_mismatch(fake_server: dict[str, Path]) -> None:
    def append_row(members: dict[str, bytes]) -> None:
        members["Rotmod_LTG/DDO154_rotmod.dat"] += b"99.0\t1\t1\t1\t1\t0\t0\t0\n"

    _rewrite_zip(fake_server["Rotmod_LTG.zip"], append_row)
    with pytest.raises(HashMismatchError, match="DDO154_rotmod.dat"):
        fetch_sparc()


def test_download_with_missing_member_names_it(fake_server: dict[str, Path]) -> None:
    _rewrite_zip(fake_server["Rotmod_LTG.zip"], lambda members: members.pop("Rotmod_LTG/CamB_rotmod.dat"))
    with pytest.raises(DataSourceError, match=r"missing .*CamB_rotmod\.dat"):
        fetch_sparc()


def test_mirror_without_sparc_folder_gives_a_short_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIGCUBE_DATA_DIR", str(tmp_path))
    with pytest.raises(DataSourceError, match=r"SPARC_Lelli2016c\.mrt.*and 168 more") as info:
        fetch_sparc()
    assert str(info.value).count("missing") == 10
