"""Rotation curves at a nuisance sweep's posterior: the kernel at the grid point of the largest posterior mass, each
galaxy at its own Υ_disk, Υ_bul, D and i there.

Each galaxy's nuisance values are its profile mode at that grid point — the maximum of ln L + ln prior over its
nuisance parameters (:func:`sigcube.compute.quadrature.profile`), read from a profiling sweep's stored
``nuisance_*`` values or found here for a marginalising sweep (which stores only each galaxy's integral). The data
and the baryonic components are drawn at those values: V_obs and its error deprojected at i (×sin i₀/sin i), radii
and baryons at D, the stellar components at Υ.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from sigcube.compute import quadrature
from sigcube.engines.nuisance_spec import SCATTER_AXIS
from sigcube.engines.sweep.nuisance import sweep_posterior
from sigcube.engines.sweep.result import parameter_dims
from sigcube.engines.sweep.spec import parse_spec
from sigcube.interfaces.plots.base import PlotError, fmt
from sigcube.interfaces.plots.galaxies import COMPONENTS, GalaxyCurve
from sigcube.io.cubes import check_source_cube
from sigcube.io.datasets import pack
from sigcube.stats.nuisance import NUISANCE_PARAMETERS, SYMBOLS, Catalogue, NuisanceTransform, sparc_priors


def posterior_point(result: xr.Dataset) -> dict[str, int]:
    """The grid indices of the largest posterior mass of a nuisance sweep."""
    post = sweep_posterior(result)
    index = np.unravel_index(int(np.argmax(post.mass)), post.mass.shape)
    return dict(zip(post.axes, (int(i) for i in index)))


def posterior_curves(result: xr.Dataset, cube: xr.Dataset) -> tuple[list[GalaxyCurve], str]:
    """Every galaxy's curve at the posterior (module docstring), and one line saying where that is."""
    if "loglike" not in result:
        raise PlotError("rotation curves at the posterior need a nuisance sweep (a spec with a [nuisance] table)")
    spec = parse_spec(result.attrs.get("spec_text", ""), "the result cube's spec")
    if spec.nuisance is None:
        raise PlotError("the result cube's spec has no [nuisance] table")
    check_source_cube(cube, result.attrs.get("dataset_content_sha256"), "the sweep")
    at = posterior_point(result)
    point = {d: result[d].values[i].item() for d, i in at.items()}
    params = {**spec.fixed, **{k: v for k, v in point.items() if k != SCATTER_AXIS}}
    kernel = spec.kernel
    points = pack(cube, spec.cuts)
    catalogue = Catalogue.from_cube(cube, points)
    inputs = (*kernel.required_inputs(kernel.resolve(params)), "r", *COMPONENTS)
    transform = NuisanceTransform(points, catalogue, inputs)
    names = [str(g) for g in points.galaxy]
    stored = [f"nuisance_{n}" for n in NUISANCE_PARAMETERS]
    if all(v in result for v in stored):
        group = result["loglike"].dims[-1]
        order = {str(g): i for i, g in enumerate(result[group].values)}
        rows = [order[g] for g in names]
        values = {n: np.asarray(result[f"nuisance_{n}"].isel(at).values, dtype=float)[rows]
                  for n in NUISANCE_PARAMETERS}
        how = "stored by the profiling sweep"
    else:
        priors = sparc_priors(catalogue, spec.nuisance.priors)
        mode = quadrature.profile(kernel, params, transform, priors, spec.nuisance.likelihood(point.get(SCATTER_AXIS)))
        values = {n: np.asarray(v, dtype=float)[0] for n, v in mode.values.items()}
        how = "found here: the sweep marginalised them"
    state = {k: np.asarray(v)[0] for k, v in transform({k: v[None, :] for k, v in values.items()}).items()}
    v_pred = np.asarray(kernel({k: state[k] for k in kernel.required_inputs(kernel.resolve(params))}, **params),
                        dtype=float)
    label = f"{kernel.name} at the posterior"
    offsets = np.asarray(points.offsets)
    curves = []
    for i, name in enumerate(names):
        rows = slice(int(offsets[i]), int(offsets[i + 1]))
        nuisance = ", ".join(f"{SYMBOLS[n].split(' ')[0]} {fmt(float(values[n][i]))}" for n in NUISANCE_PARAMETERS
                             if n in spec.nuisance.priors)
        curves.append(GalaxyCurve(name, state["r"][rows], state["v_obs"][rows], state["e_v_obs"][rows],
                                  {k: state[k][rows] for k in COMPONENTS}, {label: v_pred[rows]},
                                  "at the posterior", detail=nuisance))
    where = ", ".join(f"{d} = {fmt(v)}" for d, v in point.items() if d in parameter_dims(result))
    return curves, (f"{kernel.name} at the grid point of the largest posterior mass ({where}); each galaxy's "
                    f"{', '.join(SYMBOLS[n] for n in NUISANCE_PARAMETERS if n in spec.nuisance.priors)} at its "
                    f"profile mode there ({how}); V_obs and its errors deprojected at that i")
