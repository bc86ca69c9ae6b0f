"""The Milky Way: Eilers+2019 binned circular-velocity curve, Mróz+2019 Cepheids, McMillan 2017 baryons.

Files (manifest ``ingest/milkyway.toml``):

- ``eilers2019_mw_rotation_curve_table1.csv``: 38 bins, ``R_kpc, vc_kms, sigma_vc_minus_kms,
  sigma_vc_plus_kms`` (asymmetric errors, σ⁻ then σ⁺ as in the paper).
- ``mroz2019_cepheid_rotation_curve.dat``: 773 Cepheids, no header, whitespace columns
  R [kpc], v_c [km/s], σ_v [km/s], σ_R [kpc].
- ``McMillan17.ini``: McMillan 2017's best-fit mass model in Agama's INI format.

V_bar at every radius is the circular velocity, in the Galactic plane, of the baryonic components
of galpy's ``McMillan17`` potential (its stellar + gas ``DiskSCFPotential`` and its bulge
``SCFPotential``; the NFW halo is left out). Before using it, the ingest checks that galpy's model
is the mirrored INI file: its mid-plane disk and bulge densities must agree with the INI's
analytic ones to :data:`GALPY_TOLERANCE` (galpy rounds the parameters to ~3 digits).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from sigcube.conventions import SampleCuts
from sigcube.errors import DataSourceError, ParseError
from sigcube.io.ingest.sources import DatasetFiles, fetch_dataset
from sigcube.io.ingest.text import csv_rows, parse_cell, parse_number, read_text_lines, whitespace_rows
from sigcube.io.layouts import MILKYWAY
from sigcube.io.rotation_curves import require_default_cuts
from sigcube.io.schema import dataset_attrs, label
from sigcube.model.points import PointSet, velocity_points

EILERS_FILE = "eilers2019_mw_rotation_curve_table1.csv"
CEPHEID_FILE = "mroz2019_cepheid_rotation_curve.dat"
MODEL_FILE = "McMillan17.ini"
EILERS_HEADER = ("R_kpc", "vc_kms", "sigma_vc_minus_kms", "sigma_vc_plus_kms")
CEPHEID_COLUMNS = ("R", "v_c", "sigma_v", "sigma_R")
TRACERS = ("Eilers+2019", "Mroz+2019")
"""Object names of the two tracer sets in a packed Milky Way PointSet (group ``tracer``)."""

MW_DISK_SCALE_KPC = 2.6
"""Milky Way disk scale length R_d [kpc] of the paper (§3.3, asymmetric drift; MODEL.md §4); it sets
the Σ kernel's ξ = R_d/(2π) for both tracer sets."""

PAPER_V_BAR_SCALE = 1.16
"""The paper's factor on McMillan 2017's V_bar "to match SPARC calibration" (§3.3, §4.2)."""

GALPY_TOLERANCE = 0.02
"""Largest relative difference accepted between galpy's McMillan17 densities and the INI file's."""

#: Required parameters of each INI component type (Agama's names).
INI_KEYS = {
    "Disk": ("surfaceDensity", "scaleRadius", "scaleHeight"),
    "Spheroid": ("densityNorm", "axisRatioZ", "gamma", "beta", "scaleRadius"),
}
INI_OPTIONAL = {"Disk": ("innerCutoffRadius",), "Spheroid": ("outerCutoffRadius",)}
HALO = "halo"
"""The INI component that is dark matter, not baryons (section ``[Potential halo]``)."""


@dataclass(frozen=True)
class Curve:
    """A rotation curve: radius [kpc] and circular velocity [km/s] with their errors (read-only arrays)."""

    r: np.ndarray
    v_c: np.ndarray
    errors: dict[str, np.ndarray]


def read_eilers(path: Path | str) -> Curve:
    """Read the Eilers+2019 Table 1 CSV; errors ``e_minus``, ``e_plus`` [km/s]."""
    path = Path(path)
    rows = csv_rows(path, EILERS_HEADER)
    values = np.array([[parse_cell(c, h, path, n) for c, h in zip(cells, EILERS_HEADER)] for n, cells in rows])
    _check_curve(path, [n for n, _ in rows], values, increasing=True)
    return Curve(values[:, 0], values[:, 1], {"e_minus": values[:, 2], "e_plus": values[:, 3]})


def read_cepheids(path: Path | str) -> Curve:
    """Read the Mróz+2019 Cepheid file; errors ``e_v_c`` [km/s] and ``e_r`` [kpc]."""
    path = Path(path)
    numbers, rows = [], []
    for number, tokens in whitespace_rows(path, tuple(CEPHEID_COLUMNS)):
        rows.append([parse_number(t, c, path, number) for t, c in zip(tokens, CEPHEID_COLUMNS)])
        numbers.append(number)
    values = np.array(rows)
    _check_curve(path, numbers, values, increasing=False)
    return Curve(values[:, 0], values[:, 1], {"e_v_c": values[:, 2], "e_r": values[:, 3]})


def _check_curve(path: Path, numbers: list[int], values: np.ndarray, increasing: bool) -> None:
    """R > 0, v_c > 0, errors ≥ 0 on every row, and (binned curves) strictly increasing R."""
    for number, row in zip(numbers, values):
        if row[0] <= 0 or row[1] <= 0 or np.any(row[2:] < 0):
            raise ParseError(path, "R and v_c must be positive and the errors non-negative", number)
    if increasing and np.any(np.diff(values[:, 0]) <= 0):
        raise ParseError(path, "radii must increase strictly", numbers[int(np.argmin(np.diff(values[:, 0]) > 0)) + 1])


def read_mcmillan_ini(path: Path | str) -> dict[str, dict[str, float | str]]:
    """Read Agama's ``McMillan17.ini``: component name (``thin disk``, …, ``halo``) → type and parameters."""
    path = Path(path)
    components: dict[str, dict[str, float | str]] = {}
    lines: dict[str, dict[str, int]] = {}
    current: dict[str, float | str] | None = None
    for number, text in enumerate(read_text_lines(path), start=1):
        line = text.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            name = line[1:-1].strip()
            if not name.startswith("Potential "):
                raise ParseError(path, f"section [{name}] is not a [Potential <name>] section", number)
            name = name.removeprefix("Potential ").strip()
            if name in components:
                raise ParseError(path, f"section [Potential {name}] appears twice", number)
            current = components[name] = {}
            lines[name] = {"[section]": number}
            continue
        key, sep, value = (part.strip() for part in line.partition("="))
        if current is None or not sep or not key:
            raise ParseError(path, f"expected 'key = value' inside a [Potential …] section, found {text.strip()!r}",
                             number)
        if key in current:
            raise ParseError(path, f"{key} is set twice in [Potential {name}]", number)
        current[key] = value if key == "type" else parse_number(value, key, path, number)
        lines[name][key] = number
    for name, params in components.items():
        _check_component(path, name, params, lines[name])
    if HALO not in components or len(components) < 2:
        raise ParseError(path, f"expected baryonic components and a [Potential {HALO}] section", 1)
    return components


def _check_component(path: Path, name: str, params: dict, lines: dict[str, int]) -> None:
    """A known type with its required parameters and no unknown one (errors at the offending line)."""
    kind = params.get("type")
    if kind not in INI_KEYS:
        raise ParseError(path, f"[Potential {name}]: type {kind!r} is not one of {', '.join(INI_KEYS)}",
                         lines.get("type", lines["[section]"]))
    unknown = [k for k in params if k not in (*INI_KEYS[kind], *INI_OPTIONAL[kind], "type")]
    if unknown:
        raise ParseError(path, f"[Potential {name}] ({kind}): unknown parameter {unknown[0]!r}; expected "
                         f"{', '.join(INI_KEYS[kind] + INI_OPTIONAL[kind])}", lines[unknown[0]])
    missing = [k for k in INI_KEYS[kind] if k not in params]
    if missing:
        raise ParseError(path, f"[Potential {name}] ({kind}): missing {', '.join(missing)}", lines["[section]"])


def ini_midplane_density(component: dict[str, float | str], r_kpc: np.ndarray) -> np.ndarray:
    """Density in the Galactic plane [M☉/kpc³] of one INI component, in Agama's conventions.

    Disk: Σ0·exp(−R/R_d − R_cut/R) times 1/(2h) (exponential, h > 0) or 1/(4|h|) (sech², h < 0).
    Spheroid: ρ0·(R/a)^−γ·(1 + R/a)^(γ−β)·exp(−(R/r_cut)²) (Agama's defaults α = 1, ξ = 2).
    """
    c = component
    if c["type"] == "Disk":
        h = c["scaleHeight"]
        vertical = 1.0 / (2.0 * h) if h > 0 else 1.0 / (4.0 * abs(h))
        radial = np.exp(-r_kpc / c["scaleRadius"] - c.get("innerCutoffRadius", 0.0) / r_kpc)
        return c["surfaceDensity"] * radial * vertical
    x = r_kpc / c["scaleRadius"]
    cutoff = np.exp(-((r_kpc / c["outerCutoffRadius"]) ** 2)) if "outerCutoffRadius" in c else 1.0
    return c["densityNorm"] * x ** -c["gamma"] * (1.0 + x) ** (c["gamma"] - c["beta"]) * cutoff


@contextmanager
def _quiet_galpy() -> Iterator[None]:
    """Silence galpy's SCF UserWarning about numpy ``where`` without ``out`` (harmless at finite radii)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module=r"galpy\.")
        yield


def _galpy_baryons():
    """galpy's McMillan17 components without the NFW halo: [stellar + gas disks, bulge]."""
    with _quiet_galpy():
        from galpy.potential import NFWPotential
        from galpy.potential.mwpotentials import McMillan17
    baryons = [p for p in McMillan17 if not isinstance(p, NFWPotential)]
    if len(baryons) != 2 or len(McMillan17) != 3:
        raise DataSourceError(f"galpy's McMillan17 has components {[type(p).__name__ for p in McMillan17]}; sigcube "
                              "expects a disk, a bulge and an NFW halo")
    return baryons


def check_galpy_model(components: dict[str, dict[str, float | str]], path: Path | str) -> dict[str, float]:
    """Compare galpy's McMillan17 mid-plane densities with the INI's; return the largest relative differences.

    Disk (4 stellar and gas components summed) at R = 4, 8, 12, 16 kpc; bulge at R = 0.25, 0.5, 1 kpc.
    Raises DataSourceError beyond :data:`GALPY_TOLERANCE`.
    """
    import astropy.units as u
    from galpy.potential import evaluateDensities

    disk, bulge = _galpy_baryons()
    checks = {"disk": (disk, np.array([4.0, 8.0, 12.0, 16.0]), [c for c in components.values() if c["type"] == "Disk"]),
              "bulge": (bulge, np.array([0.25, 0.5, 1.0]),
                        [c for n, c in components.items() if c["type"] == "Spheroid" and n != HALO])}
    worst = {}
    for name, (pot, radii, parts) in checks.items():
        with _quiet_galpy():
            galpy = np.array([evaluateDensities(pot, r * u.kpc, 0 * u.kpc, quantity=True).to_value(u.Msun / u.kpc**3)
                              for r in radii])
        ini = sum(ini_midplane_density(c, radii) for c in parts)
        worst[name] = float(np.max(np.abs(galpy / ini - 1.0)))
        if worst[name] > GALPY_TOLERANCE:
            raise DataSourceError(
                f"{path}: galpy's McMillan17 {name} density differs from this file's by {worst[name]:.1%} "
                f"(> {GALPY_TOLERANCE:.0%}); V_bar cannot be computed with galpy's model"
            )
    return worst


def baryonic_velocity(r_kpc: np.ndarray) -> np.ndarray:
    """V_bar [km/s] at Galactocentric radii [kpc] in the plane: galpy McMillan17 disk (stars + gas) and bulge."""
    import astropy.units as u
    from galpy.potential import vcirc

    radii = np.asarray(r_kpc, dtype=float) * u.kpc
    baryons = _galpy_baryons()
    with _quiet_galpy():
        return np.sqrt(sum(vcirc(p, radii, quantity=True).to_value(u.km / u.s) ** 2 for p in baryons))


def build_milkyway_cube(files: DatasetFiles | None = None) -> xr.Dataset:
    """Read both tracer sets, check galpy's McMillan17 against the INI and compute V_bar at every radius."""
    import galpy

    files = files or fetch_dataset("milkyway")
    eilers = read_eilers(files.paths[EILERS_FILE])
    cepheids = read_cepheids(files.paths[CEPHEID_FILE])
    components = read_mcmillan_ini(files.paths[MODEL_FILE])
    worst = check_galpy_model(components, files.paths[MODEL_FILE])
    ds = xr.Dataset(
        {
            "eilers_r": (("bin",), eilers.r),
            "eilers_v_c": (("bin",), eilers.v_c),
            "e_eilers_v_c_minus": (("bin",), eilers.errors["e_minus"]),
            "e_eilers_v_c_plus": (("bin",), eilers.errors["e_plus"]),
            "eilers_v_bar": (("bin",), baryonic_velocity(eilers.r)),
            "cepheid_r": (("star",), cepheids.r),
            "e_cepheid_r": (("star",), cepheids.errors["e_r"]),
            "cepheid_v_c": (("star",), cepheids.v_c),
            "e_cepheid_v_c": (("star",), cepheids.errors["e_v_c"]),
            "cepheid_v_bar": (("star",), baryonic_velocity(cepheids.r)),
        },
        coords={"bin": np.arange(len(eilers.r), dtype=np.int64), "star": np.arange(len(cepheids.r), dtype=np.int64)},
        attrs={
            **dataset_attrs(
                MILKYWAY,
                "Milky Way circular velocities (Eilers+2019 bins, Mróz+2019 Cepheids) with McMillan 2017 V_bar",
                files.provenance(),
                "V_bar = in-plane circular velocity of galpy's McMillan17 disk (thin + thick stars, HI + H2 gas) and "
                "bulge, halo excluded, unscaled (the paper's ×1.16 is an analysis option); the Eilers errors are "
                "σ⁻, σ⁺ in the file's order; radii and velocities use each paper's own Solar parameters",
            ),
            "galpy_version": galpy.__version__,
            "mcmillan17_parameters": json.dumps(components, sort_keys=True),
            "galpy_vs_ini_max_relative_density_difference": json.dumps(worst, sort_keys=True),
        },
    )
    return label(ds, MILKYWAY)


PACK_VARIABLES = ("eilers_r", "eilers_v_c", "e_eilers_v_c_minus", "e_eilers_v_c_plus", "eilers_v_bar", "cepheid_r",
                  "cepheid_v_c", "e_cepheid_v_c", "cepheid_v_bar")
"""The variables :func:`pack_milkyway` reads."""


def pack_milkyway(cube: xr.Dataset, cuts: SampleCuts | None = None, v_bar_scale: float = 1.0) -> PointSet:
    """Both tracer sets as points, one object each (group ``tracer``: Eilers+2019, Mroz+2019).

    e_V of the Eilers bins is the mean of σ⁻ and σ⁺ (the metrics take one error per point);
    V_bar is multiplied by ``v_bar_scale`` (the paper's option: :data:`PAPER_V_BAR_SCALE`);
    R_d = :data:`MW_DISK_SCALE_KPC` for ξ.
    """
    require_default_cuts(cuts, "milkyway")
    e_eilers = 0.5 * (cube["e_eilers_v_c_minus"].values + cube["e_eilers_v_c_plus"].values)
    parts = {
        "r": (cube["eilers_r"].values, cube["cepheid_r"].values),
        "v_obs": (cube["eilers_v_c"].values, cube["cepheid_v_c"].values),
        "e_v_obs": (e_eilers, cube["e_cepheid_v_c"].values),
        "v_bar": (cube["eilers_v_bar"].values, cube["cepheid_v_bar"].values),
    }
    joined = {k: np.concatenate(v) for k, v in parts.items()}
    return velocity_points("tracer", TRACERS, [cube.sizes["bin"], cube.sizes["star"]], joined["r"], joined["v_obs"],
                           joined["e_v_obs"], v_bar_scale * joined["v_bar"], r_d=MW_DISK_SCALE_KPC)

