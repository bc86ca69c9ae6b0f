"""Cube schemas: the variables, dimensions, units and labels each kind of cube carries.

A schema is the one home of a cube's layout: ingest uses it to label variables
(``units`` parseable by astropy, ``long_name`` for plot axes) and :func:`validate` checks
a cube read from disk against it.
"""

from __future__ import annotations

from dataclasses import dataclass

import astropy.units as u
import xarray as xr

from sigcube.errors import SchemaError

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


_CURVE = ("galaxy", "radius")
_GAL = ("galaxy",)

SPARC = CubeSchema(
    kind="sparc",
    dims=_CURVE,
    variables={
        "galaxy": VarSpec(_GAL, "", "galaxy name", "T"),
        "radius": VarSpec(("radius",), "", "row index along the rotation curve", "i"),
        "r": VarSpec(_CURVE, "kpc", "galactocentric radius"),
        "v_obs": VarSpec(_CURVE, "km / s", "observed rotation velocity"),
        "e_v_obs": VarSpec(_CURVE, "km / s", "error on observed rotation velocity"),
        "v_gas": VarSpec(_CURVE, "km / s", "gas contribution to V (signed, with helium)"),
        "v_disk": VarSpec(_CURVE, "km / s", "stellar disk contribution to V at Υ = 1"),
        "v_bul": VarSpec(_CURVE, "km / s", "bulge contribution to V at Υ = 1"),
        "sb_disk": VarSpec(_CURVE, "solLum / pc2", "disk surface brightness at 3.6 μm"),
        "sb_bul": VarSpec(_CURVE, "solLum / pc2", "bulge surface brightness at 3.6 μm"),
        "n_points": VarSpec(_GAL, "", "number of rotation-curve rows", "i"),
        "rotmod_distance": VarSpec(_GAL, "Mpc", "distance stated in the rotmod file"),
        "hubble_type": VarSpec(_GAL, "", "Hubble type T (0 = S0 … 11 = BCD)", "i"),
        "distance": VarSpec(_GAL, "Mpc", "distance"),
        "e_distance": VarSpec(_GAL, "Mpc", "error on distance"),
        "distance_method": VarSpec(_GAL, "", "distance method (1 Hubble flow … 5 SN)", "i"),
        "inclination": VarSpec(_GAL, "deg", "inclination"),
        "e_inclination": VarSpec(_GAL, "deg", "error on inclination"),
        "L36": VarSpec(_GAL, "1e9 solLum", "total luminosity at 3.6 μm"),
        "e_L36": VarSpec(_GAL, "1e9 solLum", "error on total luminosity at 3.6 μm"),
        "R_eff": VarSpec(_GAL, "kpc", "effective radius at 3.6 μm"),
        "SB_eff": VarSpec(_GAL, "solLum / pc2", "effective surface brightness at 3.6 μm"),
        "R_disk": VarSpec(_GAL, "kpc", "disk scale length at 3.6 μm"),
        "SB_disk": VarSpec(_GAL, "solLum / pc2", "disk central surface brightness at 3.6 μm"),
        "M_HI": VarSpec(_GAL, "1e9 solMass", "total HI mass"),
        "R_HI": VarSpec(_GAL, "kpc", "HI radius at 1 M☉/pc²"),
        "V_flat": VarSpec(_GAL, "km / s", "asymptotically flat rotation velocity"),
        "e_V_flat": VarSpec(_GAL, "km / s", "error on flat rotation velocity"),
        "quality": VarSpec(_GAL, "", "quality flag (1 high, 2 medium, 3 low)", "i"),
        "ref": VarSpec(_GAL, "", "references for HI and Hα data", "T"),
    },
)

SCHEMAS: dict[str, CubeSchema] = {SPARC.kind: SPARC}


def label(ds: xr.Dataset, schema: CubeSchema) -> xr.Dataset:
    """Set ``units`` and ``long_name`` on every variable of ``ds`` from ``schema``."""
    for name, spec in schema.variables.items():
        ds[name].attrs.update(units=spec.units, long_name=spec.long_name)
    return ds


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
