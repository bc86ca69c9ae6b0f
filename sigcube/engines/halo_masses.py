"""Each galaxy's halo quantities from its halo evidence, with M★ at the nuisance mode of every grid point.

Under ΛCDM priors a halo's M200 follows from the galaxy's stellar mass M★ = Υ_disk·L_disk + Υ_bul·L_bul (∝ D²), and
the evidence marginalises Υ and D at every grid point of the halo's parameters. :func:`mode_log10_mstar` finds, at each
final grid point of each galaxy's integral, the mode of L × prior over the nuisance parameters
(:func:`sigcube.compute.quadrature.profile`, the likelihood the evidence used) and returns log10 M★ there with its 1σ
from the mode's curvature (Υ_disk, Υ_bul and D's errors combined as if independent): the M★ that
:func:`sigcube.stats.halo_posteriors.halo_posteriors` maps each grid point's deviates to a halo with.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from sigcube.compute import quadrature
from sigcube.engines.dask import Runner, in_process
from sigcube.engines.evidence import SCATTER, Data, likelihood_of, object_chunks
from sigcube.errors import SigcubeError
from sigcube.model.inputs import stellar_mass
from sigcube.model.kernels.halo_quantities import HaloPosteriorError, halo_profile
from sigcube.model.kernels.registry import Kernel
from sigcube.stats.adaptive_grid import ItemIntegral, grid_points
from sigcube.stats.halo_posteriors import catalogue_inputs, disc_scale_lengths, halo_posteriors

HELD_MASS = 1.0 - 1e-6
"""The share of each galaxy's posterior mass whose grid points get a mode (the fewest, largest points holding it); the
rest, which no quantile reads, get NaN."""
MSTAR_AT_MODE = ("Υ_disk, Υ_bul and D at the nuisance mode of each grid point (the likelihood of the evidence), spread by "
                 "their 1σ from the mode's curvature (combined as if independent)")
"""Where :func:`mode_log10_mstar`'s M★ comes from, in words (for the halo posterior's attributes)."""


def mode_log10_mstar(kernel: Kernel, fixed: Mapping[str, Any], integrals: Sequence[ItemIntegral], data: Data,
                     error_model: str = "velocity_floor", sigma_int: float | None = None,
                     held: Mapping[str, float] | None = None, run: Runner = in_process) -> list[np.ndarray]:
    """(log10 M★ [M☉], its 1σ [dex]) at the nuisance mode of every final grid point of each galaxy's integral, (M, 2)
    per galaxy (``integrals`` in the order of ``data``'s galaxies; NaN outside the points holding :data:`HELD_MASS` of
    the posterior), the kernel's other parameters ``fixed``, σ_int, the likelihood's parameters beside it (``held``:
    τ_gal, the floor by axis name) and the error model as the evidence had them. The galaxies go out in the evidence's
    chunks as tasks of ``run`` (each galaxy's modes are its own: the same numbers wherever they run)."""
    if not data.nuisance:
        raise SigcubeError("M★ at the nuisance mode needs the nuisance parameters (a catalogue)")
    if "L36" not in data.catalogue.columns:
        raise SigcubeError("M★ needs the catalogue's L[3.6] (L36)")
    chunks = object_chunks(data)
    parts = run(_mode_chunk, (kernel, dict(fixed), error_model, sigma_int, dict(held or {})),
                [(data.take(c), [integrals[g] for g in c]) for c in chunks])
    return [m for part in parts for m in part]


def _mode_chunk(kernel: Kernel, fixed: Mapping[str, Any], error_model: str, sigma_int: float | None,
                held: Mapping[str, float], data: Data, integrals: Sequence[ItemIntegral]) -> list[np.ndarray]:
    """Task: :func:`mode_log10_mstar` of the galaxies of ``data``."""
    columns = data.catalogue.columns
    transform = data.transform(kernel, fixed)
    priors = data.nuisance_priors()
    likelihood = likelihood_of({SCATTER: sigma_int, **held}, error_model)
    l_bul = columns.get("L_bul", np.zeros(len(columns["L36"])))
    out = []
    for g, integral in enumerate(integrals):
        index = np.array([g])
        order = np.argsort(integral.log_posterior)[::-1]
        kept = order[:int(np.searchsorted(np.cumsum(np.exp(integral.log_posterior[order])), HELD_MASS)) + 1]
        values = {k: v[kept] for k, v in grid_points(integral).items()}
        mode = quadrature.profile(kernel, dict(fixed), transform.take(index), {k: p.take(index) for k, p in priors.items()},
                                  likelihood, per_object={k: v[:, None] for k, v in values.items()})
        at = {k: np.asarray(mode.values[k])[:, 0] for k in ("upsilon_disk", "upsilon_bul", "distance")}
        sd = {k: np.asarray(mode.errors[k])[:, 0] for k in at}
        disk, bulge = columns["L36"][g] - l_bul[g], l_bul[g]
        ratio = at["distance"] / columns["distance"][g]
        mstar = stellar_mass(at["upsilon_disk"], at["upsilon_bul"], columns["L36"][g], l_bul[g], ratio)
        light = 1e9 * ratio**2 / (mstar * np.log(10.0))  # ∂log10 M★/∂Υ per unit luminosity
        spread = np.sqrt((disk * light * sd["upsilon_disk"]) ** 2 + (bulge * light * sd["upsilon_bul"]) ** 2
                         + (2.0 * sd["distance"] / (at["distance"] * np.log(10.0))) ** 2)
        result = np.full((integral.log_mass.size, 2), np.nan)
        result[kept] = np.stack([np.log10(mstar), spread], axis=1)
        out.append(result)
    return out


def is_halo(kernel: str) -> bool:
    """Whether ``kernel`` is a dark-matter halo with quantities to give posteriors of."""
    try:
        halo_profile(kernel)
    except HaloPosteriorError:
        return False
    return True


def halo_table(kernel: Kernel, fixed: Mapping[str, Any], integrals: Sequence[ItemIntegral], data: Data,
               error_model: str = "velocity_floor", sigma_int: float | None = None,
               held: Mapping[str, float] | None = None, run: Runner = in_process) -> xr.Dataset:
    """Each galaxy's halo quantities (:func:`~sigcube.stats.halo_posteriors.halo_posteriors`) from its integral over the
    halo's parameters: M★ at the nuisance mode of every grid point (:func:`mode_log10_mstar`) when Υ, D, i were
    marginalised (the likelihood as the evidence had it: σ_int, ``held``), else the catalogue's (Υ_disk = 0.5, Υ_bul
    = 0.7, catalogue D); the modes' tasks run on ``run``."""
    points = data.points
    if not data.nuisance and "M_star" not in points.inputs:
        raise SigcubeError("halo quantities need M★: the cube has no L[3.6] and bulge luminosity to make it from")
    if data.nuisance:
        mstar, source = mode_log10_mstar(kernel, fixed, integrals, data, error_model, sigma_int, held,
                                        run), MSTAR_AT_MODE
        r_d = disc_scale_lengths(points)
    else:
        log10_mstar, r_d = catalogue_inputs(points)
        mstar, source = list(log10_mstar), "the catalogue's Υ_disk = 0.5, Υ_bul = 0.7 at 3.6 μm and distance"
    return halo_posteriors(kernel.name, integrals, [str(g) for g in points.galaxy], mstar, r_d=r_d, fixed=fixed,
                           mstar_source=source)
