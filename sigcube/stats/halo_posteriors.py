"""Per-galaxy dark-matter halo quantities from each galaxy's posterior over its halo parameters, as data.

A halo model's per-galaxy evidence integrates its parameters on a grid (:class:`~sigcube.stats.adaptive_grid.ItemIntegral`:
the final grid's points and the posterior mass of each). At every grid point the halo is known — directly for the
flat-prior profiles (log10 M200, c[, α]), through the ΛCDM relations for the ΛCDM deviates
(:func:`sigcube.model.kernels.halo_lcdm.halo_of`) — so each halo quantity has a posterior: the grid's masses at its
values. :func:`halo_posteriors` gives, per galaxy, the median and the 68 % and 95 % equal-tailed intervals of

- ``log10_M200`` [M☉]; ``log10_mstar`` [M☉], the M★ it was computed with; ``c200`` (r200/r_−2 — NFW, Einasto, Burkert, DC14; r200/r_c for the pseudo-isothermal sphere;
  the NFW halo's r200/r_s for coreNFW); ``log10_mstar_over_m200``;
- the profile's shape or core: Einasto's ``alpha``, DC14's inner slope ``gamma``, coreNFW's core index ``n``, the core
  radius ``r_core`` [kpc] of Burkert (r0) and the pseudo-isothermal sphere (r_c);

and ``<quantity>_at_bound``: the posterior of a parameter the quantity is computed from piles at its prior's bound (the
quantity's interval is then the prior range's, not the data's).

M★ (which sets M200 under ΛCDM priors, and M★/M200 always) is given by the caller, per galaxy one value or one per grid
point, and named in the Dataset's attributes: the nuisance parameters are marginalised at every grid point, so the
halo's M★ there is not one number. :func:`catalogue_inputs` gives the catalogue's (Υ_disk = 0.5, Υ_bul = 0.7 at
3.6 μm, catalogue D), with which the intervals leave out M★'s spread (Υ's 0.1 dex, D's error);
:func:`sigcube.engines.halo_masses.mode_log10_mstar` gives M★ at the nuisance mode of every grid point with its 1σ
there, which carries the correlation of the halo with Υ and D and their spread: each grid point's mass is then shared
among :data:`MSTAR_NODES` values of log10 M★ of equal mass under N(mode, 1σ) (the normal's quantiles at
(k − ½)/K: a mixture whose quantiles, not only moments, are the normal's).
:func:`shmr_tail` says where each galaxy's SHMR deviate z_M200 sits in its N(0, 1) prior.

Quantiles of a derived quantity are those of the discrete distribution of its values at the grid points (each point's
mass spread over half the gaps to its neighbours in value): exact to the grid's resolution.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr
from scipy.special import ndtri

from sigcube.model.kernels.halo_quantities import (
    CONCENTRATION, SHAPE, HaloPosteriorError, halo_profile, halo_values,
)
from sigcube.model.points import PointSet
from sigcube.stats.adaptive_grid import ItemIntegral, grid_points

QUANTILES = (0.025, 0.16, 0.5, 0.84, 0.975)
"""The quantiles given: the median and the 68 % and 95 % equal-tailed intervals."""
MSTAR_NODES = 41
"""Equal-mass nodes over log10 M★ at a grid point, when its 1σ is given."""
TAIL = 2.0
"""|median z_M200| beyond which a galaxy's halo mass sits in its SHMR prior's tail (outside the central 95 %)."""

def disc_scale_lengths(points: PointSet) -> np.ndarray | None:
    """Each galaxy's disc scale length R_d [kpc] (the catalogue's, at its distance), or None when the cube has none:
    the R_d a halo posterior's coreNFW core is computed with."""
    return points.inputs["R_d_table"][points.offsets[:-1]] if "R_d_table" in points.inputs else None


def catalogue_inputs(points: PointSet) -> tuple[np.ndarray, np.ndarray | None]:
    """(log10 M★ [M☉], R_d [kpc] or None) of each galaxy of ``points`` at the packing's Υ (0.5, 0.7) and the catalogue
    distance: the M★ and the disc scale length a halo posterior is computed with."""
    return np.log10(points.inputs["M_star"][points.offsets[:-1]]), disc_scale_lengths(points)


def weighted_quantiles(values: np.ndarray, mass: np.ndarray, q: Sequence[float] = QUANTILES) -> np.ndarray:
    """Quantiles ``q`` of the discrete distribution putting ``mass`` (normalised here) at ``values``, the mass of each
    distinct value spread evenly over half the gaps to its neighbours (so a fine grid's quantiles are a smooth
    posterior's)."""
    v, w = np.asarray(values, dtype=float).ravel(), np.asarray(mass, dtype=float).ravel()
    held = w > 0
    v, index = np.unique(v[held], return_inverse=True)  # equal values (a quantity of one axis) pooled
    w = np.bincount(index.ravel(), weights=w[held])
    edges = np.concatenate([[v[0]], 0.5 * (v[1:] + v[:-1]), [v[-1]]])
    cdf = np.concatenate([[0.0], np.cumsum(w / w.sum())])
    return np.interp(np.asarray(q, dtype=float), cdf, edges)


def _drivers(kernel: str, quantity: str, axes: Sequence[str]) -> list[str]:
    """The parameters of ``kernel`` a halo quantity is computed from."""
    mass = [a for a in axes if a in ("log10_M200", "z_M200")]
    if quantity in ("log10_M200", "log10_mstar_over_m200", "gamma"):
        return mass
    if quantity == "alpha":
        return [a for a in axes if a in ("alpha", "z_alpha")] + ([] if "alpha" in axes else mass)
    return [a for a in axes if a in ("c", "z_c")] + mass


@dataclass(frozen=True)
class HaloSample:
    """One galaxy's posterior as weighted points: the halo's parameters at each point (``values`` by name), log10 M★
    there (one number, or one per point), each point's ``mass`` and, per parameter, whether its posterior piles at its
    prior's bound (``at_edge``)."""

    values: Mapping[str, np.ndarray]
    log10_mstar: float | np.ndarray
    mass: np.ndarray
    at_edge: Mapping[str, bool]


def halo_posteriors(kernel: str, integrals: Sequence[ItemIntegral], galaxies: Sequence[str],
                    log10_mstar: Sequence[float | np.ndarray], r_d: np.ndarray | None = None,
                    fixed: Mapping[str, Any] | None = None,
                    mstar_source: str = "the catalogue's Υ_disk = 0.5, Υ_bul = 0.7 at 3.6 μm and distance"
                    ) -> xr.Dataset:
    """Per galaxy, the posterior quantiles (:data:`QUANTILES`) of each halo quantity and its at-bound flag (module
    docstring), from each galaxy's integral over ``kernel``'s per-object parameters (``integrals``, in the order of
    ``galaxies``), with ``log10_mstar`` per galaxy — a number, one per final grid point (M,), or per grid point its
    value and 1σ (M, 2); NaN at a point leaves it out — and, for coreNFW, ``r_d``; ``mstar_source`` says where M★ came from (the Dataset's attributes
    keep it)."""
    n = len(galaxies)
    shapes = [np.shape(m) for m in log10_mstar]
    if (len(integrals) != n or len(shapes) != n or (r_d is not None and np.shape(r_d) != (n,))
            or any(k not in ((), (i.log_mass.size,), (i.log_mass.size, 2)) for k, i in zip(shapes, integrals))):
        raise HaloPosteriorError(f"halo posteriors: {len(integrals)} integrals, {len(shapes)} M★ and "
                                 f"{None if r_d is None else np.shape(r_d)} R_d for {n} galaxies (M★: one value per "
                                 "galaxy, one per grid point, or a value and its 1σ per grid point)")
    nodes = ndtri((np.arange(MSTAR_NODES) + 0.5) / MSTAR_NODES)
    samples = []
    for g, integral in enumerate(integrals):
        mass = np.exp(integral.log_posterior)
        at = grid_points(integral)
        mstar = np.asarray(log10_mstar[g], dtype=float)
        if mstar.ndim:  # grid points without an M★ (NaN: no posterior mass to speak of) are left out
            keep = np.all(np.isfinite(mstar.reshape(mstar.shape[0], -1)), axis=1)
            at, mstar, mass = {k: v[keep] for k, v in at.items()}, mstar[keep], mass[keep]
        if mstar.ndim == 2:  # each grid point's mass shared equally among N(value, 1σ)'s quantiles of log10 M★
            at = {k: np.repeat(v, MSTAR_NODES) for k, v in at.items()}
            mstar = (mstar[:, :1] + mstar[:, 1:] * nodes).ravel()
            mass = np.repeat(mass / MSTAR_NODES, MSTAR_NODES)
        samples.append(HaloSample(at, mstar, mass,
                                  {name: bool(s["at_prior_edge"]) for name, s in integral.summary().items()}))
    return halo_dataset(kernel, samples, galaxies, r_d, fixed,
                        mstar=f"log10 M★ per galaxy from {mstar_source}; fixed per galaxy (its spread is not in the "
                              "intervals)",
                        method="quantiles of each quantity's values at the final grid points of each galaxy's evidence "
                               "integral, weighted by their posterior masses (the nuisance Υ, D, i marginalised at "
                               "every point)")


def halo_dataset(kernel: str, samples: Sequence[HaloSample], galaxies: Sequence[str], r_d: np.ndarray | None,
                 fixed: Mapping[str, Any] | None, mstar: str, method: str) -> xr.Dataset:
    """The halo quantities' quantiles (:data:`QUANTILES`) and at-bound flags of each galaxy's weighted posterior
    points (``samples``, in the order of ``galaxies``), as :func:`halo_posteriors` gives them; ``mstar`` and
    ``method`` say where M★ and the quantiles come from (the Dataset's attributes)."""
    profile = halo_profile(kernel)
    rows: dict[str, list[np.ndarray]] = {}
    bounds: dict[str, list[bool]] = {}
    for g, sample in enumerate(samples):
        quantities = {**halo_values(kernel, sample.values, sample.log10_mstar,
                                    None if r_d is None else float(r_d[g]), fixed),
                      "log10_mstar": sample.log10_mstar}
        for name, value in quantities.items():
            value = np.broadcast_to(value, sample.mass.shape)
            rows.setdefault(name, []).append(weighted_quantiles(value, sample.mass))
            bounds.setdefault(name, []).append(name != "log10_mstar" and any(
                sample.at_edge[a] for a in _drivers(kernel, name, list(sample.values))))
    shape = SHAPE.get(profile)
    meta = {"log10_M200": ("", "log10 of the halo mass M200 within 200·ρ_crit [M☉]"),
            "c200": ("", f"halo concentration {CONCENTRATION.get(profile, 'r200/r_−2')}"),
            "log10_mstar_over_m200": ("", "log10 of the stellar-to-halo mass ratio M★/M200"),
            "log10_mstar": ("", "log10 of the stellar mass M★ [M☉] the halo was computed with"),
            **({shape[0]: shape[1:]} if shape else {})}
    data = {}
    for name, (unit, long_name) in meta.items():
        data[name] = (("galaxy", "quantile"), np.array(rows[name]), {"units": unit, "long_name": long_name})
        data[f"{name}_at_bound"] = (("galaxy",), np.array(bounds[name]),
                                    {"long_name": f"the posterior of a parameter {name} is computed from piles at its "
                                                  "prior's bound"})
    coords = {"galaxy": np.asarray(list(galaxies), dtype=object),
              "quantile": ("quantile", np.asarray(QUANTILES),
                           {"long_name": "posterior quantile (0.5: median; 0.16–0.84: 68 %; 0.025–0.975: 95 %)"})}
    return xr.Dataset(data, coords, attrs={"kernel": kernel, "mstar": mstar, "method": method})


def shmr_tail(integrals: Sequence[ItemIntegral], galaxies: Sequence[str], tail: float = TAIL) -> xr.Dataset:
    """Where each galaxy's SHMR deviate z_M200 (prior N(0, 1)) sits: its posterior median and 68 % / 95 % intervals,
    ``in_tail`` (|median| > ``tail``: outside the prior's central 95 % for 2) and ``at_bound`` (its posterior piles at
    the grid's bound); the counts are in the attributes."""
    median, lo68, hi68, lo95, hi95, edge = [], [], [], [], [], []
    for integral in integrals:
        if "z_M200" not in integral.grid:
            raise HaloPosteriorError("shmr_tail needs the integrals of a ΛCDM-prior halo (an axis z_M200)")
        m = integral.marginal("z_M200")
        q = m.quantile(np.array([0.5, 0.16, 0.84, 0.025, 0.975]))
        for column, value in zip((median, lo68, hi68, lo95, hi95), q):
            column.append(float(value))
        edge.append(bool(integral.summary()["z_M200"]["at_prior_edge"]))
    median_arr = np.array(median)
    in_tail = np.abs(median_arr) > tail
    long = "posterior of the SHMR deviate z_M200 (prior N(0, 1))"
    return xr.Dataset(
        {"z_M200_median": (("galaxy",), median_arr, {"long_name": f"median of the {long}"}),
         "z_M200_ci68": (("galaxy", "bound"), np.stack([lo68, hi68], axis=1), {"long_name": f"68 % interval, {long}"}),
         "z_M200_ci95": (("galaxy", "bound"), np.stack([lo95, hi95], axis=1), {"long_name": f"95 % interval, {long}"}),
         "in_tail": (("galaxy",), in_tail, {"long_name": f"|median z_M200| > {tail:g}: the halo mass sits in the SHMR "
                                                         "prior's tail"}),
         "at_bound": (("galaxy",), np.array(edge), {"long_name": "the z_M200 posterior piles at the grid's bound"})},
        {"galaxy": np.asarray(list(galaxies), dtype=object), "bound": ["lower", "upper"]},
        attrs={"n_galaxies": len(galaxies), "n_in_tail": int(in_tail.sum()), "n_above": int((median_arr > tail).sum()),
               "n_below": int((median_arr < -tail).sum()), "n_at_bound": int(np.sum(edge)), "tail": tail})


def halo_summary(ds: xr.Dataset) -> str:
    """One line on a :func:`halo_posteriors` Dataset: the spread of the galaxies' medians of log10 M200, c200,
    log10 M★/M200 and the profile's shape or core (:data:`SHAPE`; their 16th–50th–84th percentiles across galaxies)
    and how many sit on a prior bound."""
    shapes = {name: name + (f" [{unit}]" if unit else "") for name, unit, _ in SHAPE.values()}
    parts = []
    for name, label in (("log10_M200", "log10 M200"), ("c200", "c200"), ("log10_mstar_over_m200", "log10 M★/M200"),
                        *((n, label) for n, label in shapes.items() if n in ds)):
        lo, mid, hi = np.nanpercentile(ds[name].sel(quantile=0.5).values, [16, 50, 84])
        bound = int(ds[f"{name}_at_bound"].values.sum())
        parts.append(f"{label} {mid:.2f} [{lo:.2f}, {hi:.2f}]" + (f", {bound} at a prior bound" if bound else ""))
    return (f"halos of {ds.sizes['galaxy']} galaxies, medians across galaxies [16th, 84th percentile]: " + "; ".join(parts)
            + " — each galaxy's median, 68 % and 95 % intervals are in --json")
