"""Cube schemas and Zarr stores."""

from sigcube.cubes.schema import SCHEMAS, CubeSchema, VarSpec, validate
from sigcube.cubes.store import content_hash, open_cube, write_cube

__all__ = ["SCHEMAS", "CubeSchema", "VarSpec", "content_hash", "open_cube", "validate", "write_cube"]
