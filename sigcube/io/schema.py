"""Cube schemas: the variables, dimensions, units and labels each kind of cube carries.

A schema is the one home of a cube's layout: ingest uses it to label variables
(``units`` parseable by astropy, ``long_name`` for plot axes) and :func:`validate` checks
a cube read from disk against it. Every schema is registered by kind (:func:`register_schema`; the built-in
kinds' in :mod:`sigcube.io.layouts`); :mod:`sigcube.io.datasets` says how each kind is built and packed.
"""

from __future__ import annotations

from collections.abc import Iterable
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


VIEW_SEPARATOR = ":"
"""Separates a kind of cube from the name of a view of it (``<kind>:<view>``, :mod:`sigcube.io.datasets`)."""


def base_kind(name: str) -> str:
    """The kind of cube a dataset name reads: ``name`` itself, or the kind of the view ``<kind>:<view>``."""
    return name.partition(VIEW_SEPARATOR)[0]


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
    problems = schema_problems(ds, SCHEMAS[kind])
    if problems:
        raise SchemaError(f"{where}: does not match the {kind!r} schema v{SCHEMA_VERSION}: " + "; ".join(problems))
    return SCHEMAS[kind]


def schema_problems(ds: xr.Dataset, schema: CubeSchema, names: Iterable[str] | None = None,
                    convertible: bool = False) -> list[str]:
    """How ``ds`` departs from ``schema`` for the variables ``names`` (default: all of the schema's): a variable
    missing, or with other dims, another dtype kind, no ``units`` or units astropy cannot parse — or, with
    ``convertible``, units that do not convert to the schema's (a unitless variable then needs none)."""
    problems: list[str] = []
    for name in schema.variables if names is None else names:
        spec = schema.variables[name]
        if name not in ds.variables:
            problems.append(f"missing variable {name!r}")
            continue
        var = ds[name]
        if var.dims != spec.dims:
            problems.append(f"{name!r} has dims {var.dims}, expected {spec.dims}")
        allowed = {"T", "U", "O"} if spec.kind == "T" else {spec.kind, "i"} if spec.kind == "f" and convertible \
            else {spec.kind}
        if var.dtype.kind not in allowed:
            problems.append(f"{name!r} has dtype {var.dtype}, expected kind {spec.kind!r}")
        unit = var.attrs.get("units")
        if unit is None and convertible and not spec.units:
            continue  # a label or a pure number: nothing to convert
        if unit is None:
            problems.append(f"{name!r} has no units attribute" + (f" (expected {spec.units!r})" if spec.units else ""))
            continue
        try:
            given = u.Unit(unit)
        except ValueError:
            problems.append(f"{name!r} has units {unit!r} that astropy cannot parse")
            continue
        if convertible and not given.is_equivalent(u.Unit(spec.units)):
            problems.append(f"{name!r} is in {unit!r}, which does not convert to {spec.units!r}")
    return problems


def unit_factor(ds: xr.Dataset, name: str, schema: CubeSchema) -> float:
    """The factor that takes variable ``name`` of ``ds`` from its units to the schema's (1 when they are equal)."""
    given, wanted = ds[name].attrs.get("units", ""), schema.variables[name].units
    return 1.0 if given == wanted else float(u.Unit(given).to(u.Unit(wanted)))
