"""Points of a sample, packed object by object (CF "contiguous ragged array"): what kernels and metrics run on.

A cube's layout (galaxy × radius, padded) is for people; :class:`PointSet` is for computation: 1-D arrays over the
valid points, object by object, with ``offsets`` marking where each object starts. Packers of dataset cubes
(:mod:`sigcube.io.rotation_curves`, and the cluster and Milky Way readers) build one; :func:`velocity_points` builds
one from circular velocities for objects that are not rotation-curve galaxies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from sigcube.constants import accel_from_velocity
from sigcube.conventions import MassToLight, SampleCuts
from sigcube.model.inputs import RD_INPUTS


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
    Υ_disk·L[3.6] + 1.33·M_HI (Table 1; the whole 3.6 μm luminosity at Υ_disk); ``M_star`` [M☉] =
    Υ_disk·(L[3.6] − L_bul) + Υ_bul·L_bul (the bulge luminosity L_bul of SPARC's Bulges file).

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

    def rows(self, index: np.ndarray) -> np.ndarray:
        """The point indices of the galaxies ``index``, galaxy by galaxy."""
        starts, stops = self.offsets[:-1][index], self.offsets[1:][index]
        return np.concatenate([np.arange(a, b) for a, b in zip(starts, stops)] + [np.arange(0, dtype=np.int64)])

    def take(self, index: np.ndarray) -> PointSet:
        """The points of the galaxies ``index`` only (same inputs and mass-to-light; cuts and exclusions not kept)."""
        index = np.asarray(index, dtype=np.int64)
        counts = self.offsets[1:][index] - self.offsets[:-1][index]
        return PointSet(galaxy=self.galaxy[index], offsets=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
                        inputs={k: v[self.rows(index)] for k, v in self.inputs.items()},
                        mass_to_light=self.mass_to_light, group=self.group)


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
