"""Cube schemas: the variables, dimensions, units and labels each kind of cube carries.

A schema is the one home of a cube's layout: ingest uses it to label variables
(``units`` parseable by astropy, ``long_name`` for plot axes) and :func:`validate` checks
a cube read from disk against it. Every schema is registered by kind (:func:`register_schema`; the built-in
kinds' in :mod:`sigcube.io.layouts`); :mod:`sigcube.io.datasets` says how each kind is built and packed.
"""

from __future__ import annotations

from dataclasses import dataclass

import astropy.units as u
import xarray as xr

from sigcube.errors import SchemaError
from sigcube.version import __version__

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class VarSpec:
    """One variable: its dimensions, astropy unit string, label and numpy dtype kind."""

    dims: tuple[str, ...]
    units: str
    long_name: str
    kind: str = "f"


@dataclass(frozen=True)
class CubeSchema:
    """A kind of cube: its dimensions and its variables (coordinates included)."""

    kind: str
    dims: tuple[str, ...]
    variables: dict[str, VarSpec]


SCHEMAS: dict[str, CubeSchema] = {}
"""Every registered cube schema, by kind."""


def register_schema(schema: CubeSchema) -> CubeSchema:
    """Make cubes whose ``sigcube_kind`` is ``schema.kind`` readable and writable; return ``schema``."""
    if SCHEMAS.setdefault(schema.kind, schema) != schema:
        raise ValueError(f"another cube schema of kind {schema.kind!r} is already registered")
    return schema


def label(ds: xr.Dataset, schema: CubeSchema) -> xr.Dataset:
    """Set ``units`` and ``long_name`` on every variable of ``ds`` from ``schema``."""
    for name, spec in schema.variables.items():
        ds[name].attrs.update(units=spec.units, long_name=spec.long_name)
    return ds


def dataset_attrs(schema: CubeSchema, title: str, provenance: dict[str, str], conventions: str) -> dict[str, str | int]:
    """The attributes every dataset cube carries: kind, title, provenance, sigcube and schema versions."""
    return {
        "sigcube_kind": schema.kind,
        "title": title,
        **provenance,
        "sigcube_version": __version__,
        "schema_version": SCHEMA_VERSION,
        "conventions": conventions,
    }


def validate(ds: xr.Dataset, where: str = "cube") -> CubeSchema:
    """Check ``ds`` against the schema its ``sigcube_kind`` attribute names; return it."""
    kind = ds.attrs.get("sigcube_kind")
    if kind not in SCHEMAS:
        raise SchemaError(
            f"{where}: not a sigcube dataset cube (attribute sigcube_kind = {kind!r}; "
            f"known kinds: {', '.join(SCHEMAS)})"
        )
    schema = SCHEMAS[kind]
    problems: list[str] = []
    for name, spec in schema.variables.items():
        if name not in ds.variables:
            problems.append(f"missing variable {name!r}")
            continue
        var = ds[name]
        if var.dims != spec.dims:
            problems.append(f"{name!r} has dims {var.dims}, expected {spec.dims}")
        allowed = {"T", "U", "O"} if spec.kind == "T" else {spec.kind}
        if var.dtype.kind not in allowed:
            problems.append(f"{name!r} has dtype {var.dtype}, expected kind {spec.kind!r}")
        unit = var.attrs.get("units")
        if unit is None:
            problems.append(f"{name!r} has no units attribute")
        else:
            try:
                u.Unit(unit)
            except ValueError:
                problems.append(f"{name!r} has units {unit!r} that astropy cannot parse")
    if problems:
        raise SchemaError(f"{where}: does not match the {kind!r} schema v{SCHEMA_VERSION}: " + "; ".join(problems))
    return schema
