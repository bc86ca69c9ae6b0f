"""Pack the galaxy × radius SPARC cube into contiguous points for kernels and metrics.

The stored cube is padded (NaN) to the longest curve; analyses never compute on padding.
:func:`pack_sparc` applies the mass-to-light convention and the sample cuts and returns a
:class:`PointSet`: 1-D arrays over the valid points, galaxy by galaxy (CF "contiguous
ragged array" layout), plus ``offsets`` marking where each galaxy starts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numba
import numpy as np
import xarray as xr

from sigcube.constants import G_PC_KMS2_MSUN, HELIUM_FACTOR, accel_from_velocity
from sigcube.conventions import MassToLight, SampleCuts
from sigcube.errors import SigcubeError
from sigcube.kernels.common import RD_INPUTS, omega_d_input, rd_input
from sigcube.metrics import segment_sum


@dataclass(frozen=True)
class PointSet:
    """Valid points of a sample, packed galaxy by galaxy.

    ``inputs`` holds per-point arrays: ``r`` [kpc], ``v_obs``, ``e_v_obs``, ``v_bar`` [km/s],
    ``g_N``, ``g_obs`` [m/s²], the Υ-scaled components ``v_gas`` (signed), ``v_disk``,
    ``v_bul`` [km/s] (V_bar² = sign(v_gas)·v_gas² + v_disk² + v_bul²), and the baryonic
    surface densities ``Sigma_star`` = Υ_disk·sb_disk + Υ_bul·sb_bul and ``Sigma_gas`` =
    max(sign(V_gas)·V_gas², 0)/(2πG·r) [M☉/pc²] (the local Mestel-disk estimate: SPARC gives
    no gas surface density; exact for a disk with a flat gas rotation curve).

    Per-galaxy values repeated on each point: ``R_d_third``, ``R_d_table``, ``R_d_vdisk_peak``
    [kpc]; ``f_bulge`` (bulge share of Σ V², unscaled); ``Omega_d_third``, ``Omega_d_table``,
    ``Omega_d_vdisk_peak`` = V_bar(R_d)/R_d [km/s/kpc] (V_bar linearly interpolated in r,
    held at the end values outside the curve); ``V_bar_max`` [km/s], the largest V_bar;
    ``w_gas``, ``w_disk``, ``w_bul``, the shares of the squared peak |V| of each Υ-scaled
    component (they sum to 1; the weights of σ_eff, SI §13.2); ``M_b`` [M☉] =
    Υ_disk·L[3.6] + 1.33·M_HI (Table 1; the whole 3.6 μm luminosity at Υ_disk).

    ``radius`` is each point's index along the cube's radius dimension (default: its position
    within its object), so values over the points unpack back to object × radius.
    """

    galaxy: np.ndarray
    offsets: np.ndarray
    inputs: dict[str, np.ndarray]
    radius: np.ndarray | None = None
    cuts: SampleCuts = field(default_factory=SampleCuts)
    mass_to_light: MassToLight = field(default_factory=MassToLight)
    excluded: dict[str, str] = field(default_factory=dict)
    points_dropped: int = 0
    group: str = "galaxy"

    def __post_init__(self) -> None:
        if self.radius is None:
            starts = np.repeat(self.offsets[:-1], np.diff(self.offsets))
            object.__setattr__(self, "radius", np.arange(self.n_points) - starts)

    @property
    def n_galaxies(self) -> int:
        return len(self.galaxy)

    @property
    def n_points(self) -> int:
        return int(self.offsets[-1])

    def galaxy_index(self) -> np.ndarray:
        """Galaxy number of every point."""
        return np.repeat(np.arange(self.n_galaxies), np.diff(self.offsets))

    def per_galaxy(self, name: str) -> np.ndarray:
        """A per-galaxy input (e.g. ``R_d_third``) as one value per galaxy."""
        return self.inputs[name][self.offsets[:-1]]


def object_tiles(offsets: np.ndarray, max_points: int) -> list[tuple[int, int]]:
    """Consecutive whole objects [g0, g1) of packed points (``offsets``) in groups of at most ``max_points`` points
    (an object larger than that alone): the tiles compiled loops take so that a tile's points stay in cache."""
    tiles, g0, n_obj = [], 0, len(offsets) - 1
    while g0 < n_obj:
        g1 = g0 + 1
        while g1 < n_obj and offsets[g1 + 1] - offsets[g0] <= max_points:
            g1 += 1
        tiles.append((g0, g1))
        g0 = g1
    return tiles


def baryonic_velocity(v_gas, v_disk, v_bul, ml: MassToLight):
    """V_bar = sign(V²)·√|V²|, V² = sign(V_gas)V_gas² + Υ_d V_disk² + Υ_b V_bul² [km/s]."""
    v2 = np.sign(v_gas) * v_gas**2 + ml.upsilon_disk * v_disk**2 + ml.upsilon_bul * v_bul**2
    return np.sign(v2) * np.sqrt(np.abs(v2))


def mestel_surface_density(v2_km2_s2, r_kpc):
    """Σ = V²/(2πG·r) [M☉/pc²]: the surface density of a Mestel disk with rotation speed V."""
    return v2_km2_s2 / (2.0 * np.pi * G_PC_KMS2_MSUN * r_kpc * 1e3)


def _per_galaxy_inputs(ds: xr.Dataset, keep: np.ndarray, take: dict[str, np.ndarray], v_bar: np.ndarray,
                       offsets: np.ndarray, r_d: dict[str, np.ndarray], ml: MassToLight) -> dict[str, np.ndarray]:
    """The per-galaxy inputs of the kernel library (PointSet docstring), computed once."""
    starts = offsets[:-1]
    peaks = {name: np.maximum.reduceat(np.abs(take[name]), starts) ** 2 for name in ("v_gas", "v_disk", "v_bul")}
    total = sum(peaks.values())
    out = {f"w_{name[2:]}": peak / total for name, peak in peaks.items()}
    for source, rd in r_d.items():
        out[omega_d_input(source)] = segment_interp(rd, take["r"], v_bar, offsets) / rd
    out["V_bar_max"] = np.maximum.reduceat(v_bar, starts)
    if _known(ds, ("L36", "M_HI"), keep):
        out["M_b"] = 1e9 * (ml.upsilon_disk * ds["L36"].values[keep] + HELIUM_FACTOR * ds["M_HI"].values[keep])
    return out


@numba.njit(cache=True)
def _segment_interp(x, xp, fp, offsets, out):  # pragma: no cover (compiled)
    for g in range(x.size):
        a, b = offsets[g], offsets[g + 1]
        xv = x[g]
        if xv != xv:
            out[g] = xv
        elif xv >= xp[b - 1]:
            out[g] = fp[b - 1]
        elif xv <= xp[a]:
            out[g] = fp[a]
        else:
            j = a
            while xp[j + 1] <= xv:
                j += 1
            if xp[j] == xv:
                out[g] = fp[j]
            else:
                slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j])
                out[g] = slope * (xv - xp[j]) + fp[j]
                if out[g] != out[g]:
                    out[g] = slope * (xv - xp[j + 1]) + fp[j + 1]
                    if out[g] != out[g] and fp[j] == fp[j + 1]:
                        out[g] = fp[j]


def segment_interp(x: np.ndarray, xp: np.ndarray, fp: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """``np.interp(x[g], xp[a:b], fp[a:b])`` for every object g (points a:b, ``xp`` increasing), bit for bit,
    without a Python loop over objects."""
    out = np.empty(len(x))
    _segment_interp(np.asarray(x, dtype=float), np.asarray(xp, dtype=float), np.asarray(fp, dtype=float),
                    np.asarray(offsets, dtype=np.int64), out)
    return out


def segment_argmax(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Index (into ``values``) of the first largest value of each non-empty object (as ``np.argmax`` per object)."""
    peak = np.repeat(np.maximum.reduceat(values, offsets[:-1]), np.diff(offsets))
    hits = np.flatnonzero(values == peak)
    owner = np.searchsorted(offsets, hits, side="right") - 1
    return hits[np.unique(owner, return_index=True)[1]]


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
PACK_VARIABLES = (*SELECT_VARIABLES, "e_v_obs", "sb_disk", "sb_bul", "R_disk", "L36", "M_HI")
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
    ``M_b`` without ``L36`` and ``M_HI``, ``Sigma_star`` without ``sb_disk`` and ``sb_bul`` (or when ``ds``
    leaves them out: :data:`SURFACE_BRIGHTNESS`).
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
    starts = offsets[:-1]
    third = np.where(n // 3 > 0, rr[starts + n // 3], rr[offsets[1:] - 1] / 2.0)
    peak = rr[segment_argmax(np.abs(take["v_disk"]), offsets)]
    total = segment_sum(take["v_disk"] ** 2 + take["v_bul"] ** 2 + take["v_gas"] ** 2, offsets)
    f_bulge = segment_sum(take["v_bul"] ** 2, offsets) / np.maximum(total, 1e-10)
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
    sigma_star = ml.upsilon_disk * take["sb_disk"] + ml.upsilon_bul * take["sb_bul"]
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


def velocity_points(group: str, names: Sequence[str], counts: Sequence[int], r, v_obs, e_v_obs, v_bar,
                    r_d=0.0, radius: np.ndarray | None = None) -> PointSet:
    """Points of objects that are not SPARC galaxies, from circular velocities.

    ``r`` [kpc], ``v_obs``, ``e_v_obs``, ``v_bar`` [km/s] run over all points, object by object
    (``counts`` points each). g_N = V_bar²/r and g_obs = V_obs²/r [m/s²]; the three R_d inputs
    are ``r_d`` [kpc], one value or one per point (0 floors the Σ kernel's ξ at 0.01 kpc); f_bulge = 0.
    ``radius``: each point's index along the cube's radius dimension (default: its position in its object).
    """
    r, v_obs, e_v_obs, v_bar = (np.asarray(a, dtype=float) for a in (r, v_obs, e_v_obs, v_bar))
    r_d = np.broadcast_to(np.asarray(r_d, dtype=float), r.shape)
    constant = {name: r_d.copy() for name in RD_INPUTS}
    return PointSet(
        galaxy=np.array(list(names), dtype=object),
        offsets=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        inputs={"r": r, "v_obs": v_obs, "e_v_obs": e_v_obs, "v_bar": v_bar,
                "g_N": accel_from_velocity(v_bar, r), "g_obs": accel_from_velocity(v_obs, r),
                **constant, "f_bulge": np.zeros(r.shape)},
        radius=radius,
        group=group,
    )
