"""Synthetic samples on real galaxies' baryons (``sigcube synth --baryons``), with every drawn value kept as the truth.

Each galaxy of a SPARC cube keeps its mass model (radii, V_gas, V_disk, V_bul, surface brightness) and its catalogue
(D, e_D, i, e_i, L[3.6], L_bul, M_HI, …). Its nuisance parameters are drawn from their priors
(:data:`~sigcube.stats.nuisance.SPARC_PRIORS`: log10 Υ_disk ~ N(log10 0.5, 0.1), log10 Υ_bul ~ N(log10 0.7, 0.1),
D ~ N(D, e_D) truncated at 0, i ~ N(i, e_i) truncated to (0°, 90°]) and its per-galaxy kernel parameters from theirs
(:data:`~sigcube.model.kernels.halo_lcdm.HALO_PRIORS`: z_M200, z_c ~ N(0, 1) for the ΛCDM haloes; a kernel without
per-galaxy parameters, such as MOND, has its global values for every galaxy). V_obs is then what the analysis's own
forward model predicts at those values, observed at the catalogued inclination, plus Gaussian noise at the quoted
errors::

    V_obs = V_kernel(r·D/D0; Υ, D, θ)·sin i/sin i0 + e_V·ε,   ε ~ N(0, 1)   (reflected to stay positive)

so that the likelihood the analysis writes, (V_obs·sin i0/sin i − V_pred)/(e_V·sin i0/sin i), is standard normal at
the truth. The truths are per-galaxy variables ``true_upsilon_disk``, ``true_upsilon_bul`` (NaN without a bulge),
``true_distance``, ``true_inclination``, ``true_<parameter>`` of each drawn kernel parameter and, for a ΛCDM halo,
``true_log10_M200``, ``true_c`` (and Einasto's ``true_alpha``). V_flat and e_V_flat are 0 (SPARC's "not measured"):
the real galaxy's do not describe the synthetic curve. Points the sample cuts drop (V_bar ≤ 0 at the packing Υ) and
galaxies without a usable point have no V_obs (NaN). One seed fixes every draw.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from sigcube.conventions import SampleCuts
from sigcube.errors import SigcubeError, StoreExistsError
from sigcube.io.cubes import existing_cube_hash, open_cube, write_cube
from sigcube.io.rotation_curves import pack_sparc
from sigcube.io.stores import Location
from sigcube.io.synth import KIND, SEED_ATTR
from sigcube.model.kernels import get_kernel
from sigcube.model.kernels.halo_lcdm import HALO_PRIORS, HALO_QUANTITIES, halo_of
from sigcube.stats.likelihood import GaussianLikelihood
from sigcube.stats.nuisance import NUISANCE_PARAMETERS, SPARC_PRIORS, Catalogue, NuisanceTransform, sparc_priors
from sigcube.stats.priors import Prior
from sigcube.stats.synthetic import observe, stretched

TRUTH = "true_"
"""Prefix of the truth variables."""
NUISANCE_UNITS = {"upsilon_disk": ("solMass / solLum", "true Υ_disk at 3.6 μm"),
                  "upsilon_bul": ("solMass / solLum", "true Υ_bul at 3.6 μm (NaN without a bulge)"),
                  "distance": ("Mpc", "true distance"), "inclination": ("deg", "true inclination")}


def per_galaxy_priors(kernel: str) -> dict[str, dict]:
    """The spec dicts of the kernel's parameters drawn per galaxy (:data:`HALO_PRIORS`; none for other kernels)."""
    return HALO_PRIORS.get(kernel, {})


def draw_on_baryons(cube: xr.Dataset, kernel: str, params: dict[str, Any] | None = None, seed: int = 0,
                    likelihood: GaussianLikelihood | None = None) -> xr.Dataset:
    """The SPARC ``cube`` with V_obs drawn from ``kernel`` (global ``params``; per-galaxy ones from their priors) at
    nuisance values drawn from :data:`SPARC_PRIORS`, and the truths added (module docstring); the noise drawn from
    ``likelihood`` (default: the quoted errors alone; an intrinsic scatter, a floor or a galaxy-level scale τ_gal as it
    says, :func:`sigcube.stats.synthetic.observe`)."""
    model = get_kernel(kernel)
    drawn = per_galaxy_priors(kernel)
    fixed = sorted(set(params or {}) & set(drawn))
    if fixed:
        raise SigcubeError(f"synth --baryons: kernel {kernel!r} draws {', '.join(fixed)} per galaxy from the prior: "
                           "give no --param value for it")
    resolved = model.resolve(params or {})
    cube = cube.load()
    points = pack_sparc(cube, SampleCuts(min_points=1))
    catalogue = Catalogue.from_cube(cube, points)
    transform = NuisanceTransform(points, catalogue, model.required_inputs(resolved))
    priors = sparc_priors(catalogue)
    n = points.n_galaxies
    rng = np.random.default_rng(np.random.SeedSequence([seed]))
    z = rng.standard_normal((len(NUISANCE_PARAMETERS) + len(drawn), n))
    truth = {name: np.asarray(priors[name].from_normal(z[j]), dtype=float)
             for j, name in enumerate(NUISANCE_PARAMETERS)}
    theta = {name: np.asarray(Prior.from_spec(spec, name=name).from_normal(z[len(NUISANCE_PARAMETERS) + j]),
                              dtype=float) for j, (name, spec) in enumerate(drawn.items())}
    inputs = transform.kernel_inputs({k: truth[k][None, :] for k in ("upsilon_disk", "upsilon_bul", "distance")})
    with np.errstate(all="ignore"):
        v_true = np.broadcast_to(model.func(inputs, **{**resolved, **{k: transform.to_points(v)[None, :]
                                                                      for k, v in theta.items()}}),
                                 (1, points.n_points))[0]
    if not np.all(np.isfinite(v_true)):
        raise SigcubeError(f"synth --baryons: kernel {kernel!r} predicts non-finite velocities for some galaxies")
    likelihood = likelihood or GaussianLikelihood()
    noise = rng.standard_normal(points.n_points)
    scale = transform.inverse_inclination_factor(truth["inclination"])  # sin i/sin i0
    if likelihood.scaled:
        truth["scale_offset"] = np.exp(float(likelihood.tau_gal) * rng.standard_normal(n))
        scale = scale * truth["scale_offset"]
    noise = stretched(noise, likelihood, rng)
    v_obs, e_v = observe(v_true, transform.to_points(scale), points.inputs["e_v_obs"], likelihood, noise)
    v_obs = np.abs(v_obs)

    rows = np.array([list(map(str, cube.galaxy.values)).index(g) for g in points.galaxy])
    out = cube.copy()
    grid = np.full(cube["v_obs"].shape, np.nan)
    grid[rows[points.galaxy_index()], points.radius] = v_obs
    out["v_obs"] = (cube["v_obs"].dims, grid, cube["v_obs"].attrs)
    errors = np.full(cube["v_obs"].shape, np.nan)
    errors[rows[points.galaxy_index()], points.radius] = e_v
    out["e_v_obs"] = (cube["e_v_obs"].dims, errors, cube["e_v_obs"].attrs)
    for name in ("V_flat", "e_V_flat"):  # SPARC's; a cube of the user's rotation curves may have none
        if name in cube:
            out[name] = (cube[name].dims, np.zeros(cube.sizes["galaxy"]), cube[name].attrs)
    truth["upsilon_bul"] = np.where(transform.has_bulge, truth["upsilon_bul"], np.nan)
    log_mstar = np.log10(inputs["M_star"][0, points.offsets[:-1]]) if "M_star" in inputs else None
    halo = halo_of(kernel, log_mstar, {**resolved, **theta}) if log_mstar is not None else {}
    variables = {**{name: (truth[name], *NUISANCE_UNITS[name]) for name in NUISANCE_PARAMETERS},
                 **({"scale_offset": (truth["scale_offset"], "", "true velocity scale s_g of the galaxy, ln s_g ~ "
                                      f"N(0, τ_gal²), τ_gal = {float(likelihood.tau_gal):g}")}
                    if "scale_offset" in truth else {}),
                 **{name: (value, model.parameter(name).unit, f"true {model.parameter(name).description}")
                    for name, value in theta.items()},
                 **{name: (value, "", f"true {HALO_QUANTITIES[name]}") for name, value in halo.items()}}
    for name, (value, unit, long_name) in variables.items():
        column = np.full(cube.sizes["galaxy"], np.nan)
        column[rows] = value
        out[TRUTH + name] = (("galaxy",), column, {"units": unit, "long_name": long_name})
    out.attrs.update({
        "title": f"synthetic SPARC sample on the baryons of {cube.attrs.get('title', 'a SPARC cube')} "
                 f"(sigcube synth --baryons, seed {seed}, V_obs from {kernel})",
        SEED_ATTR: seed, "synth_kernel": kernel,
        "synth_params": json.dumps({k: v for k, v in resolved.items() if k not in drawn}, sort_keys=True),
        "synth_priors": json.dumps({"nuisance": SPARC_PRIORS, "per_galaxy": drawn}, sort_keys=True),
        "synth_truth": ", ".join(TRUTH + name for name in variables),
        "synth_baryons": cube.attrs.get("content_sha256", ""),
        "synth_likelihood": likelihood.describe(),
    })
    out.attrs.pop("content_sha256", None)
    return out


def synth_on_baryons(baryons: str | Path, out: str | Path, kernel: str, params: dict[str, Any] | None = None,
                     seed: int = 0, force: bool = False, likelihood: GaussianLikelihood | None = None) -> Location:
    """Write :func:`draw_on_baryons` of the SPARC cube at ``baryons`` to ``out`` (path or store URL)."""
    store = Location.of(out, "--out")
    if store.kind() not in ("absent", "empty"):
        existing_cube_hash(store)  # anything that is not a dataset cube is refused, --force or not
        if not force:
            raise StoreExistsError(f"{store.name} already exists; pass --force to replace it, or choose another --out")
    write_cube(draw_on_baryons(open_cube(baryons, kind=KIND), kernel, params, seed, likelihood), store, force=True)
    return store
