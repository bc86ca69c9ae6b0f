"""Where sigcube's data come from: a verified local mirror or the official servers.

A local mirror is a folder laid out like the project's ``shared/data`` (``sparc/Rotmod_LTG/*.dat``,
``sparc/SPARC_Lelli2016c.mrt``, ``milky_way/…``, ``clusters/…``, ...) named by the environment
variable ``SIGCUBE_DATA_DIR``. Every file is checked against the sha256 recorded in the dataset's
manifest (``ingest/<name>.toml`` of the repository, installed as the package data ``sigcube.manifests``).
:func:`fetch_sparc` serves SPARC (a zip of rotation curves plus tables); :func:`fetch_dataset` serves
every dataset whose manifest lists plain files (``milkyway``, ``clusters``, ``dwarfs``, ``manga``).
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

import pooch
import requests

from sigcube.errors import DataSourceError, HashMismatchError

ENV_VAR = "SIGCUBE_DATA_DIR"
MANIFEST_DIR: Traversable = files("sigcube.manifests")
"""The dataset manifests: the repository's ``ingest/`` folder, shipped as the package ``sigcube.manifests``."""

ROTMOD_ZIP = "Rotmod_LTG.zip"
TABLE1 = "SPARC_Lelli2016c.mrt"
MASS_MODELS = "MassModels_Lelli2016c.mrt"
BULGES = "Bulges.mrt"
TABLES = (TABLE1, MASS_MODELS, BULGES)
"""The SPARC tables besides the rotation curves: Table 1, the mass models and the bulge luminosities."""
ROTMOD_SUFFIX = "_rotmod.dat"
ROTMOD_KEY_PREFIX = "Rotmod_LTG/"
#: At most this many missing/unexpected files are named in one error.
MAX_LISTED = 10

#: Errors meaning "the server could not be reached" (requests' errors are OSErrors).
NETWORK_ERRORS = (requests.RequestException, ConnectionError, TimeoutError)


@dataclass(frozen=True)
class SparcFiles:
    """Verified local paths of the SPARC files.

    ``rotmod`` maps galaxy name to its ``<Galaxy>_rotmod.dat``; ``sha256`` maps
    ``Rotmod_LTG/<Galaxy>_rotmod.dat``, ``SPARC_Lelli2016c.mrt``, ``MassModels_Lelli2016c.mrt`` and
    ``Bulges.mrt`` to their verified hex digests. Both are sorted by key.
    """

    rotmod: dict[str, Path]
    table1: Path
    mass_models: Path
    bulges: Path
    sha256: dict[str, str]


def data_dir() -> Path | None:
    """Return the local mirror named by ``SIGCUBE_DATA_DIR``, or None if the variable is unset."""
    value = os.environ.get(ENV_VAR)
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_dir():
        raise DataSourceError(
            f"{ENV_VAR} is set to {path}, which is not an existing folder. "
            f"Point it to a folder laid out like shared/data (sparc/Rotmod_LTG/, ...) or unset it."
        )
    return path


def load_manifest(name: str) -> dict:
    """Read the dataset manifest ``ingest/<name>.toml`` (installed as ``sigcube.manifests``)."""
    path = MANIFEST_DIR / f"{name}.toml"
    if not path.is_file():
        raise DataSourceError(
            f"dataset manifest {path} not found: the sigcube installation lacks its package data "
            "sigcube.manifests (ingest/*.toml); reinstall sigcube (pip install sigcube, or pip install . "
            "from a checkout)."
        )
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise DataSourceError(f"dataset manifest {path} is not valid TOML: {exc}") from exc


def fetch_sparc() -> SparcFiles:
    """Return the verified SPARC files, from the local mirror if one is set, else downloaded.

    Raises HashMismatchError if a file differs from the manifest, DataSourceError if files are
    missing or unexpected, or if no mirror is set and the SPARC server cannot be reached.
    """
    manifest = load_manifest("sparc")
    root = data_dir()
    if root is not None:
        return _sparc_from_mirror(root, manifest["files"])
    return _sparc_from_server(manifest["files"])


def _sparc_from_mirror(root: Path, files: dict) -> SparcFiles:
    """Collect and verify the SPARC files of a local mirror; never touches the network."""
    rotmod_dir = root / files[ROTMOD_ZIP]["mirror_path"]
    found = {p.name: p for p in sorted(rotmod_dir.glob(f"*{ROTMOD_SUFFIX}")) if p.is_file()}
    tables = {name: root / files[name]["mirror_path"] for name in TABLES}
    missing = [f"missing {p}" for p in tables.values() if not p.is_file()]
    _check_members(found, files[ROTMOD_ZIP]["members"], rotmod_dir, missing)
    sha256 = {name: _verified_hash(path, files[name]["sha256"]) for name, path in tables.items()}
    return _sparc_files(found, files[ROTMOD_ZIP]["members"], tables, sha256)


def _sparc_from_server(files: dict) -> SparcFiles:
    """Download the SPARC files into pooch's cache for "sigcube" and verify them."""
    cache = pooch.os_cache("sigcube") / "sparc"
    try:
        unzipped = pooch.retrieve(
            files[ROTMOD_ZIP]["url"], known_hash=None, fname=ROTMOD_ZIP, path=cache,
            processor=pooch.Unzip(),
        )
        tables = {name: Path(_retrieve_checked(files[name], name, cache)) for name in TABLES}
    except NETWORK_ERRORS as exc:
        raise DataSourceError(_unreachable_message(files, exc)) from exc
    found, duplicates = _rotmod_members(unzipped)
    _check_members(found, files[ROTMOD_ZIP]["members"], cache / f"{ROTMOD_ZIP}.unzip", duplicates)
    # pooch has already checked the tables against the manifest's sha256.
    sha256 = {name: files[name]["sha256"] for name in TABLES}
    return _sparc_files(found, files[ROTMOD_ZIP]["members"], tables, sha256)


def _retrieve_checked(entry: dict, name: str, cache: Path) -> str:
    """``pooch.retrieve`` one file with its manifest sha256; a mismatch raises HashMismatchError."""
    try:
        return pooch.retrieve(entry["url"], known_hash=f"sha256:{entry['sha256']}", fname=name, path=cache)
    except ValueError as exc:
        got = re.search(r"but got ([0-9a-f]{64})", str(exc))
        if got is None:
            raise DataSourceError(f"{entry['url']}: pooch could not verify the download: {exc}") from exc
        raise HashMismatchError(entry["url"], entry["sha256"], got.group(1)) from exc


def _unreachable_message(files: dict, exc: BaseException) -> str:
    """The one-paragraph error shown when there is no mirror and no network."""
    urls = ", ".join(files[name]["url"] for name in (ROTMOD_ZIP, *TABLES))
    return (
        f"No local data mirror is set ({ENV_VAR} is unset) and the SPARC server cannot be reached "
        f"({type(exc).__name__}: {' '.join(str(exc).split())}). "
        f"Set {ENV_VAR} to a folder laid out like shared/data (sparc/Rotmod_LTG/<Galaxy>_rotmod.dat, "
        f"sparc/SPARC_Lelli2016c.mrt, sparc/MassModels_Lelli2016c.mrt, sparc/Bulges.dat). "
        f"The data are SPARC (Lelli, McGaugh & Schombert 2016, AJ 152, 157) from "
        f"http://astroweb.case.edu/SPARC/ ({urls})."
    )


def _rotmod_members(unzipped: list[str]) -> tuple[dict[str, Path], list[str]]:
    """Map member file name to path for every ``*_rotmod.dat`` anywhere under the unzip folder.

    Also return a "duplicate ..." issue for each name found twice (in two sub-folders).
    """
    found: dict[str, Path] = {}
    duplicates: list[str] = []
    for member in sorted(map(Path, unzipped)):
        if member.name.endswith(ROTMOD_SUFFIX) and not _is_macos_metadata(member):
            if member.name in found:
                duplicates.append(f"duplicate {member}")
            found[member.name] = member
    return found, duplicates


def _is_macos_metadata(path: Path) -> bool:
    """True for the ``__MACOSX/`` and ``._*`` entries macOS adds to zips."""
    return path.name.startswith("._") or "__MACOSX" in path.parts


def _check_members(found: dict[str, Path], expected: dict[str, str], folder: Path, issues: list[str]) -> None:
    """Raise one DataSourceError listing ``issues`` plus the missing and unexpected rotmod files."""
    issues = [
        *issues,
        *(f"missing {folder / name}" for name in sorted(expected.keys() - found.keys())),
        *(f"unexpected {found[name]}" for name in sorted(found.keys() - expected.keys())),
    ]
    _raise_issues("the SPARC files", "sparc", issues)


def _listing(items: list[str]) -> str:
    """``items`` joined by "; ", at most MAX_LISTED of them, then how many more."""
    more = f"; ... and {len(items) - MAX_LISTED} more" if len(items) > MAX_LISTED else ""
    return "; ".join(items[:MAX_LISTED]) + more


def _raise_issues(what: str, manifest: str, issues: list[str]) -> None:
    """Raise one DataSourceError listing ``issues`` (missing, unexpected, duplicate files), if any."""
    if issues:
        raise DataSourceError(f"{what} do not match the manifest ingest/{manifest}.toml: {_listing(issues)}")


def _verified_hash(path: Path, expected: str) -> str:
    """Return the sha256 of ``path``, raising HashMismatchError if it is not ``expected``."""
    actual = pooch.file_hash(str(path))
    if actual != expected:
        raise HashMismatchError(path, expected, actual)
    return actual


def _sparc_files(found: dict[str, Path], members: dict[str, str], tables: dict[str, Path],
                 table_hashes: dict[str, str]) -> SparcFiles:
    """Verify every rotmod member's hash and assemble the sorted SparcFiles."""
    sha256 = {ROTMOD_KEY_PREFIX + name: _verified_hash(path, members[name]) for name, path in found.items()}
    sha256.update(table_hashes)
    rotmod = {name.removesuffix(ROTMOD_SUFFIX): path for name, path in found.items()}
    return SparcFiles(
        rotmod=dict(sorted(rotmod.items())),
        table1=tables[TABLE1],
        mass_models=tables[MASS_MODELS],
        bulges=tables[BULGES],
        sha256=dict(sorted(sha256.items())),
    )


#: Keys every file entry of a plain-file manifest must have.
ENTRY_KEYS = ("mirror_path", "sha256", "citation", "source", "licence")


@dataclass(frozen=True)
class DatasetFiles:
    """Verified local paths of a plain-file dataset (manifest ``ingest/<name>.toml``).

    ``paths`` maps each manifest file key (a file name) to its local path, in manifest order;
    ``entries`` holds the manifest entries (``mirror_path``, ``sha256``, ``citation``, ``source``,
    ``licence``, optional ``archive``, ``note``, ``url``).
    """

    name: str
    title: str
    paths: dict[str, Path]
    entries: dict[str, dict]

    def provenance(self) -> dict[str, str]:
        """Cube attributes naming every file: its verified sha256, upstream copy, citation and licence."""
        entries = self.entries.values()
        return {
            "source_files": json.dumps({e["mirror_path"]: e["sha256"] for e in entries}, sort_keys=True),
            "upstream_sources": json.dumps({e["mirror_path"]: e["source"] for e in entries}, sort_keys=True),
            "citation": "; ".join(dict.fromkeys(e["citation"] for e in entries)),
            "licence": "; ".join(dict.fromkeys(e["licence"] for e in entries)),
        }


def fetch_dataset(name: str) -> DatasetFiles:
    """Return the verified files of the dataset described by ``ingest/<name>.toml``.

    With ``SIGCUBE_DATA_DIR`` set, every file is read from the mirror and checked against its
    sha256 (HashMismatchError on a difference, DataSourceError naming the missing files). Without
    a mirror, files with a ``url`` are downloaded into pooch's cache and verified; a file without
    one makes a DataSourceError saying what to set.
    """
    manifest = load_manifest(name)
    files = _checked_entries(name, manifest)
    title = manifest.get("title", name)
    root = data_dir()
    if root is None:
        return DatasetFiles(name, title, _download(name, manifest, files), files)
    paths = {key: root / entry["mirror_path"] for key, entry in files.items()}
    _raise_issues(f"the {name} files", name, [f"missing {path}" for path in paths.values() if not path.is_file()])
    for key, path in paths.items():
        _verified_hash(path, files[key]["sha256"])
    return DatasetFiles(name, title, paths, files)


def _checked_entries(name: str, manifest: dict) -> dict[str, dict]:
    """The manifest's ``[files.*]`` entries, each with every key of :data:`ENTRY_KEYS`."""
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        raise DataSourceError(f"dataset manifest ingest/{name}.toml lists no [files.<name>] entries")
    for key, entry in files.items():
        missing = [k for k in ENTRY_KEYS if k not in entry]
        if missing:
            raise DataSourceError(f"dataset manifest ingest/{name}.toml: [files.{key!r}] lacks {', '.join(missing)}")
    return files


def _download(name: str, manifest: dict, files: dict[str, dict]) -> dict[str, Path]:
    """Fetch every file into pooch's cache for "sigcube" and verify it, or explain what to set."""
    if any("url" not in entry for entry in files.values()):
        raise DataSourceError(_no_mirror_message(name, manifest, files, None))
    cache = pooch.os_cache("sigcube") / name
    try:
        return {key: Path(_retrieve_checked(entry, key, cache)) for key, entry in files.items()}
    except NETWORK_ERRORS as exc:
        raise DataSourceError(_no_mirror_message(name, manifest, files, exc)) from exc


def _no_mirror_message(name: str, manifest: dict, files: dict[str, dict], exc: BaseException | None) -> str:
    """The one-paragraph error shown when a dataset can be neither read from a mirror nor downloaded."""
    if exc is None:
        no_url = sum("url" not in entry for entry in files.values())
        why = (f"{no_url} of its {len(files)} files have no download URL (the original archives could not be "
               f"reached when ingest/{name}.toml was made)")
    else:
        why = f"the download failed ({type(exc).__name__}: {' '.join(str(exc).split())})"
    paths = _listing([entry["mirror_path"] for entry in files.values()])
    upstream = _listing([entry["source"] for entry in files.values()])
    return (
        f"No local data mirror is set ({ENV_VAR} is unset) and the {name} dataset "
        f"({manifest.get('title', name)}) cannot be fetched: {why}. "
        f"Set {ENV_VAR} to a folder laid out like shared/data holding {paths}. "
        f"The files are byte copies of {upstream}; ingest/{name}.toml records the sha256 each copy must have."
    )
