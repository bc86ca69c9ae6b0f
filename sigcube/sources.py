"""Where sigcube's data come from: a verified local mirror or the official servers.

A local mirror is a folder laid out like the project's ``shared/data`` (``sparc/Rotmod_LTG/*.dat``,
``sparc/SPARC_Lelli2016c.mrt``, ...) named by the environment variable ``SIGCUBE_DATA_DIR``.
Every file is checked against the sha256 recorded in the dataset's manifest
(``ingest/<name>.toml`` in the source checkout).
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pooch
import requests

from sigcube.errors import DataSourceError, HashMismatchError

ENV_VAR = "SIGCUBE_DATA_DIR"
MANIFEST_DIR = Path(__file__).resolve().parents[1] / "ingest"

ROTMOD_ZIP = "Rotmod_LTG.zip"
TABLE1 = "SPARC_Lelli2016c.mrt"
MASS_MODELS = "MassModels_Lelli2016c.mrt"
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
    ``Rotmod_LTG/<Galaxy>_rotmod.dat``, ``SPARC_Lelli2016c.mrt`` and
    ``MassModels_Lelli2016c.mrt`` to their verified hex digests. Both are sorted by key.
    """

    rotmod: dict[str, Path]
    table1: Path
    mass_models: Path
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
    """Read the dataset manifest ``ingest/<name>.toml`` of the source checkout."""
    path = MANIFEST_DIR / f"{name}.toml"
    if not path.is_file():
        raise DataSourceError(
            f"dataset manifest {path} not found. sigcube reads its manifests from the source "
            "checkout (ingest/*.toml); install sigcube editable from a full checkout (pip install -e .)."
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
    tables = {name: root / files[name]["mirror_path"] for name in (TABLE1, MASS_MODELS)}
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
        tables = {name: Path(_retrieve_checked(files[name], name, cache)) for name in (TABLE1, MASS_MODELS)}
    except NETWORK_ERRORS as exc:
        raise DataSourceError(_unreachable_message(files, exc)) from exc
    found, duplicates = _rotmod_members(unzipped)
    _check_members(found, files[ROTMOD_ZIP]["members"], cache / f"{ROTMOD_ZIP}.unzip", duplicates)
    # pooch has already checked the two tables against the manifest's sha256.
    sha256 = {name: files[name]["sha256"] for name in (TABLE1, MASS_MODELS)}
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
    urls = ", ".join(files[name]["url"] for name in (ROTMOD_ZIP, TABLE1, MASS_MODELS))
    return (
        f"No local data mirror is set ({ENV_VAR} is unset) and the SPARC server cannot be reached "
        f"({type(exc).__name__}: {' '.join(str(exc).split())}). "
        f"Set {ENV_VAR} to a folder laid out like shared/data (sparc/Rotmod_LTG/<Galaxy>_rotmod.dat, "
        f"sparc/SPARC_Lelli2016c.mrt, sparc/MassModels_Lelli2016c.mrt). "
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
    if issues:
        shown = "; ".join(issues[:MAX_LISTED])
        more = f"; ... and {len(issues) - MAX_LISTED} more" if len(issues) > MAX_LISTED else ""
        raise DataSourceError(f"the SPARC files do not match the manifest ingest/sparc.toml: {shown}{more}")


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
        sha256=dict(sorted(sha256.items())),
    )
