"""Dataset kinds a sweep or report can run on, and how each is packed into points.

Each kind maps to a function ``pack(cube, cuts) -> PointSet`` that turns its cube into
contiguous points grouped by object (``PointSet.group``: galaxy, cluster, …). Register a
new kind with :func:`register_dataset`.
"""

from __future__ import annotations

from collections.abc import Callable

import xarray as xr

from sigcube.conventions import SampleCuts
from sigcube.errors import SigcubeError
from sigcube.sample import PointSet, pack_sparc

Packer = Callable[[xr.Dataset, SampleCuts | None], PointSet]

_PACKERS: dict[str, Packer] = {"sparc": pack_sparc}


def register_dataset(kind: str, pack: Packer) -> None:
    """Make cubes whose ``sigcube_kind`` is ``kind`` usable by sweeps."""
    _PACKERS[kind] = pack


def dataset_names() -> list[str]:
    """Kinds of dataset cube that can be packed into points."""
    return sorted(_PACKERS)


def pack(cube: xr.Dataset, cuts: SampleCuts | None = None) -> PointSet:
    """Pack a dataset cube (of any registered kind) into points."""
    kind = cube.attrs.get("sigcube_kind")
    if kind not in _PACKERS:
        raise SigcubeError(f"cubes of kind {kind!r} cannot be swept; sweepable kinds: {', '.join(dataset_names())}")
    return _PACKERS[kind](cube, cuts)


# The kinds whose readers live in sigcube.ingest (imported here, after register_dataset exists;
# those modules do not import this one, so there is no cycle).
from sigcube.ingest.clusters import pack_clusters  # noqa: E402
from sigcube.ingest.milkyway import pack_milkyway  # noqa: E402

register_dataset("clusters", pack_clusters)
register_dataset("milkyway", pack_milkyway)
