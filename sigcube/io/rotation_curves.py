"""Select and pack cubes of rotation curves (``sparc``, ``rotation_curves``) into contiguous points.

The stored cube is padded (NaN) to the longest curve; analyses never compute on padding.
:func:`pack_sparc` applies the mass-to-light convention and the sample cuts and returns a
:class:`~sigcube.model.points.PointSet`: 1-D arrays over the valid points, galaxy by galaxy (CF "contiguous
ragged array" layout), plus ``offsets`` marking where each galaxy starts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr

from sigcube.constants import accel_from_velocity
from sigcube.conventions import MassToLight, SampleCuts
from sigcube.errors import SigcubeError
from sigcube.model.inputs import (
    baryonic_mass, baryonic_velocity, bulge_fraction, dispersion_weights, mestel_surface_density, omega_d_input,
    rd_input, rd_third, stellar_mass, stellar_surface_density,
)
from sigcube.model.points import PointSet
from sigcube.model.segments import segment_argmax, segment_interp


def _per_galaxy_inputs(ds: xr.Dataset, keep: np.ndarray, take: dict[str, np.ndarray], v_bar: np.ndarray,
                       offsets: np.ndarray, r_d: dict[str, np.ndarray], ml: MassToLight) -> dict[str, np.ndarray]:
    """The per-galaxy inputs of the kernel library (PointSet docstring), computed once."""
    starts = offsets[:-1]
    peaks = [np.maximum.reduceat(np.abs(take[name]), starts) ** 2 for name in ("v_gas", "v_disk", "v_bul")]
    out = dict(zip(("w_gas", "w_disk", "w_bul"), dispersion_weights(*peaks)))
    for source, rd in r_d.items():
        out[omega_d_input(source)] = segment_interp(rd, take["r"], v_bar, offsets) / rd
    out["V_bar_max"] = np.maximum.reduceat(v_bar, starts)
    if _known(ds, ("L36", "M_HI"), keep):
        out["M_b"] = baryonic_mass(ml.upsilon_disk, ds["L36"].values[keep], ds["M_HI"].values[keep])
    if _known(ds, ("L36", "L_bul"), keep):
        out["M_star"] = stellar_mass(ml.upsilon_disk, ml.upsilon_bul, ds["L36"].values[keep], ds["L_bul"].values[keep])
    return out


def _known(ds: xr.Dataset, names: Sequence[str], keep: np.ndarray) -> bool:
    """Whether the cube gives every per-galaxy variable of ``names`` for every kept galaxy (a user's table may not)."""
    return all(name in ds and np.isfinite(ds[name].values[keep]).all() for name in names)


def _galaxy_mask(ds: xr.Dataset, n_valid: np.ndarray, cuts: SampleCuts) -> tuple[np.ndarray, dict[str, str]]:
    """Which galaxies pass ``cuts``, and why each other one does not.

    A cube without quality flags (a user's table) takes only the default quality cut; a galaxy with no
    inclination passes the default inclination cut and fails any other.
    """
    inc = ds["inclination"].values
    default = SampleCuts()
    quality = ds["quality"].values if "quality" in ds else None
    if quality is None and cuts.quality != default.quality:
        raise SigcubeError(f"the quality cut {list(cuts.quality)} needs SPARC's quality flags; "
                           f"a {ds.attrs.get('sigcube_kind')!r} cube has none")
    bounds = (cuts.min_inclination, cuts.max_inclination)
    some_inclinations = bounds != (default.min_inclination, default.max_inclination)
    few = n_valid < cuts.min_points
    bad_quality = ~few & (np.isin(quality, cuts.quality, invert=True) if quality is not None else False)
    no_inc = np.isnan(inc)
    with np.errstate(invalid="ignore"):
        outside = ~no_inc & ((inc < bounds[0]) | (inc > bounds[1]))
    bad_inc = ~few & ~bad_quality & ((no_inc & some_inclinations) | outside)
    keep = ~(few | bad_quality | bad_inc)
    if keep.all():
        return keep, {}
    names = ds["galaxy"].values
    reasons: dict[str, str] = {}
    for i in np.flatnonzero(~keep):
        if few[i]:
            reasons[str(names[i])] = f"{n_valid[i]} usable points < {cuts.min_points}"
        elif bad_quality[i]:
            reasons[str(names[i])] = f"quality flag {quality[i]} not in {list(cuts.quality)}"
        elif no_inc[i]:
            reasons[str(names[i])] = "no inclination given (the inclination cut needs one)"
        else:
            reasons[str(names[i])] = f"inclination {inc[i]:g} deg outside [{bounds[0]:g}, {bounds[1]:g}]"
    return keep, reasons


SELECT_VARIABLES = ("galaxy", "r", "v_obs", "v_gas", "v_disk", "v_bul", "inclination", "quality")
"""The variables :func:`select_sparc` reads (``quality`` when the cube has it)."""


PACK_VARIABLES = (*SELECT_VARIABLES, "e_v_obs", "sb_disk", "sb_bul", "R_disk", "L36", "L_bul", "M_HI")
"""Every cube variable :func:`pack_sparc` reads (a chunk of a survey cube is read with these alone)."""


PACK_NEEDS = ("galaxy", "r", "v_obs", "e_v_obs", "v_gas", "v_disk", "v_bul", "inclination")
"""The variables of :data:`PACK_VARIABLES` a cube must have; each other one gives only some inputs or a cut."""


SURFACE_BRIGHTNESS = {"sb_disk": ("Sigma_star",), "sb_bul": ("Sigma_star",)}
"""The cube variables :func:`pack_sparc` reads only for the point input ``Sigma_star`` (a cube read without them
packs every other input)."""


@dataclass(frozen=True)
class Selection:
    """Which galaxies of a cube pass the sample cuts, and the usable points of each."""

    keep: np.ndarray
    """One flag per galaxy of the cube."""
    valid: np.ndarray
    """galaxy × radius: the usable points (of every galaxy, kept or not)."""
    v_bar: np.ndarray
    """galaxy × radius: V_bar [km/s] at the mass-to-light ratios of the selection."""
    excluded: dict[str, str]
    """Why each galaxy that is not kept is not."""

    @property
    def n_points(self) -> np.ndarray:
        """Usable points of each kept galaxy."""
        return self.valid.sum(axis=1)[self.keep]


def select_sparc(ds: xr.Dataset, cuts: SampleCuts | None = None, ml: MassToLight | None = None) -> Selection:
    """The galaxies of a SPARC (or ``rotation_curves``) cube that pass ``cuts``, from :data:`SELECT_VARIABLES` only.

    Galaxies are judged one by one, so the selection of a slice of galaxies is the slice of the selection:
    a sweep selects a large cube in batches without loading it whole.
    """
    cuts = cuts or SampleCuts()
    ml = ml or MassToLight()
    r = ds["r"].values
    v_bar = baryonic_velocity(ds["v_gas"].values, ds["v_disk"].values, ds["v_bul"].values, ml)
    with np.errstate(invalid="ignore"):
        valid = np.isfinite(r) & (r > 0) & (ds["v_obs"].values > 0) & (v_bar > 0)
    keep, excluded = _galaxy_mask(ds, valid.sum(axis=1), cuts)
    return Selection(keep, valid, v_bar, excluded)


def pack_sparc(ds: xr.Dataset, cuts: SampleCuts | None = None, ml: MassToLight | None = None) -> PointSet:
    """Apply ``ml`` and ``cuts`` to a SPARC (or ``rotation_curves``) cube and pack its valid points.

    Points with V_bar ≤ 0, R ≤ 0 or V_obs ≤ 0 are dropped; galaxies failing ``cuts`` are
    excluded (the reason is kept in ``PointSet.excluded``). R_d is offered three ways:
    ``R_d_third`` = R[N//3] of the filtered curve (R[-1]/2 when N < 3), ``R_d_table`` =
    Table 1 ``R_disk``, ``R_d_vdisk_peak`` = radius of the largest |V_disk|.

    Inputs the cube cannot give for every kept galaxy are left out, so a kernel that needs one
    stops with an error naming it: ``R_d_table`` and ``Omega_d_table`` without ``R_disk``,
    ``M_b`` without ``L36`` and ``M_HI``, ``M_star`` without ``L36`` and ``L_bul``, ``Sigma_star`` without ``sb_disk``
    and ``sb_bul`` (or when ``ds`` leaves them out: :data:`SURFACE_BRIGHTNESS`).
    """
    cuts = cuts or SampleCuts()
    ml = ml or MassToLight()
    selection = select_sparc(ds, cuts, ml)
    keep, excluded = selection.keep, selection.excluded
    if not keep.any():
        raise SigcubeError(f"the sample cuts {cuts.as_dict()} leave no galaxy")
    r = ds["r"].values
    mask = selection.valid & keep[:, None]
    n = mask.sum(axis=1)[keep]
    offsets = np.concatenate([[0], np.cumsum(n)]).astype(np.int64)
    take = {name: ds[name].values[mask] for name in ("r", "v_obs", "e_v_obs", "v_gas", "v_disk", "v_bul")}
    take.update({name: ds[name].values[mask] if name in ds else np.full(len(take["r"]), np.nan)
                 for name in SURFACE_BRIGHTNESS})
    vb = selection.v_bar[mask]
    rr = take["r"]
    third = rd_third(rr, offsets)
    peak = rr[segment_argmax(np.abs(take["v_disk"]), offsets)]
    f_bulge = bulge_fraction(take["v_gas"], take["v_disk"], take["v_bul"], offsets)
    table = ds["R_disk"].values[keep] if _known(ds, ("R_disk",), keep) else None
    r_d = {k: v for k, v in {"third": third, "table": table, "vdisk_peak": peak}.items() if v is not None}
    scaled = {"v_gas": take["v_gas"], "v_disk": np.sqrt(ml.upsilon_disk) * take["v_disk"],
              "v_bul": np.sqrt(ml.upsilon_bul) * take["v_bul"]}
    per_galaxy = {
        **{rd_input(source): value for source, value in r_d.items()},
        "f_bulge": f_bulge,
        **_per_galaxy_inputs(ds, keep, {"r": rr, **scaled}, vb, offsets, r_d, ml),
    }
    inputs = {
        "r": rr,
        "v_obs": take["v_obs"],
        "e_v_obs": take["e_v_obs"],
        "v_bar": vb,
        "g_N": accel_from_velocity(vb, rr),
        "g_obs": accel_from_velocity(take["v_obs"], rr),
        **scaled,
        "Sigma_gas": mestel_surface_density(np.maximum(take["v_gas"], 0.0) ** 2, rr),
        **{k: np.repeat(v, n) for k, v in per_galaxy.items()},
    }
    sigma_star = stellar_surface_density(ml.upsilon_disk, ml.upsilon_bul, take["sb_disk"], take["sb_bul"])
    if np.isfinite(sigma_star).all():
        inputs["Sigma_star"] = sigma_star
    return PointSet(
        galaxy=np.array([str(n) for n in ds["galaxy"].values[keep]], dtype=object),
        offsets=offsets,
        inputs=inputs,
        radius=np.nonzero(mask)[1],
        cuts=cuts,
        mass_to_light=ml,
        excluded=excluded,
        points_dropped=int((np.isfinite(r) & keep[:, None]).sum() - offsets[-1]),
    )


def require_default_cuts(cuts: SampleCuts | None, kind: str) -> None:
    """Refuse sample cuts other than the default: they select SPARC galaxies and mean nothing for ``kind``."""
    if cuts is not None and cuts != SampleCuts():
        raise SigcubeError(
            f"sample cuts {cuts.as_dict()} apply to SPARC galaxies only; a {kind!r} cube is packed whole "
            "(remove [sample] from the sweep spec)"
        )
