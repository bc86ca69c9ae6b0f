"""The DatasetKind records: one per kind, each with its schema, builder, packer, manifest and object dimension."""

from __future__ import annotations

import pytest

from sigcube.errors import SigcubeError
from sigcube.io import datasets
from sigcube.io.datasets import DatasetKind, dataset_kind, register_dataset
from sigcube.io.ingest.sources import load_manifest
from sigcube.io.schema import SCHEMAS


def test_every_kind_is_declared_once_with_its_schema_and_manifest():
    kinds = datasets.dataset_kinds()
    assert [k.name for k in kinds] == ["sparc", "milkyway", "clusters", "dwarfs", "manga", "rotation_curves"]
    assert datasets.public_kinds() == ("sparc", "milkyway", "clusters", "dwarfs", "manga")
    assert datasets.dataset_names() == ["clusters", "clusters:lensing", "milkyway", "rotation_curves", "sparc"]
    for kind in kinds:
        assert SCHEMAS[kind.name] is kind.schema and kind.description
        assert (kind.builder is None) == (kind.manifest is None)
        if kind.manifest is not None:
            assert load_manifest(kind.manifest)["files"]
    with pytest.raises(ValueError, match="already registered"):
        register_dataset(DatasetKind(SCHEMAS["sparc"], "another SPARC", "galaxy"))
    with pytest.raises(SigcubeError, match="unknown dataset kind 'nope'; known kinds: sparc, milkyway"):
        dataset_kind("nope")


def test_packed_objects_lie_along_the_declared_dimension(sparc_cube, milkyway_cube, clusters_cube, dwarfs_cube):
    for cube in (sparc_cube, milkyway_cube, clusters_cube):
        assert datasets.pack(cube).group == dataset_kind(cube.attrs["sigcube_kind"]).objects
    with pytest.raises(SigcubeError, match="cubes of kind 'dwarfs' cannot be swept; sweepable kinds: clusters"):
        datasets.pack(dwarfs_cube)
