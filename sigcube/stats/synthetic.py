"""Synthetic galaxies with known nuisance values and global parameters, for validation and benchmarks.

Each galaxy has a Freeman exponential stellar disk (scale R_d), an exponential gas disk (scale 2R_d) and,
for a fraction of galaxies, a Hernquist bulge (scale 0.2R_d); catalogue distances, inclinations and their
errors in SPARC's ranges. The true nuisance values are drawn from the priors (through their quantile maps),
the rotation curve is the kernel's prediction V_true at them, projected by u = (sin i/sin i0)·s_g (s_g = 1, or with
``tau_gal`` > 0 one draw per galaxy of ln s_g ~ N(0, τ_gal²)), and observed exactly as
:class:`~sigcube.stats.likelihood.GaussianLikelihood` says the tabulated data are distributed:

- Gaussian in V (quoted errors, ``velocity_floor``, ``lognormal_first_order``, with or without a floor): V_obs =
  u·V_true + N(0, e_V² + u²σ_V²), e_V = ``error_fraction``·u·V_true + ``error_floor``;
- ``lognormal``: the relative error δ = e_V/V_obs is fixed first, from the same nominal e_V over u·V_true; then
  ln V_obs = ln(u·V_true) + N(0, δ² + (σ_fl/V_true)² + ((ln 10/2)·σ_int)²) and the tabulated e_V = δ·V_obs;
- Student-t errors (``tail`` = 1/ν > 0, Gaussian in V only): the normal deviate of each point divided by √(χ²_ν/ν),
  a Student-t deviate of ν degrees of freedom, the same scale.

Every draw comes from the seeded ``numpy`` generator (the galaxies' offsets after the points' noise, the Student-t's
χ² draws after those, so a sample with τ_gal = 0 is the same whatever the error model's other settings, and a
Student-t sample's deviates are the Gaussian sample's, each stretched).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from sigcube.constants import accel_from_velocity
from sigcube.conventions import MassToLight
from sigcube.model import inputs as derived
from sigcube.model.galaxies import exponential_disk_v2, hernquist_v2
from sigcube.model.inputs import RD_INPUTS, baryonic_velocity, mestel_surface_density, rd_third
from sigcube.model.kernels.registry import Kernel
from sigcube.model.points import PointSet
from sigcube.stats.likelihood import GaussianLikelihood
from sigcube.stats.nuisance import NUISANCE_PARAMETERS, SPARC_PRIORS, Catalogue, NuisanceTransform, sparc_priors


@dataclass(frozen=True)
class SyntheticSample:
    """Synthetic galaxies: packed points (at the catalogue values), catalogue, and the truth.

    ``truth``: the true nuisance values per galaxy (Υ_bul is the prior's draw even without a bulge, where it
    has no effect) and ``scale_offset``, each galaxy's s_g (1 without τ_gal); ``v_true`` [km/s]: the noiseless
    deprojected curve at the true values.
    """

    points: PointSet
    catalogue: Catalogue
    truth: dict[str, np.ndarray]
    v_true: np.ndarray


def _components(rng: np.random.Generator, bulge: bool) -> dict[str, np.ndarray]:
    """One galaxy's radii [kpc] and Υ = 1 components [km/s] at its catalogue distance."""
    r_d = rng.uniform(1.0, 5.0)
    n = int(rng.integers(8, 21))
    r = np.sort(rng.uniform(0.3, 6.0, n)) * r_d
    luminosity = 10 ** rng.uniform(9.0, 11.0)
    v_disk2 = exponential_disk_v2(r, luminosity, r_d)
    v_gas2 = exponential_disk_v2(r, rng.uniform(0.1, 1.0) * luminosity, 2.0 * r_d)
    v_bul2 = hernquist_v2(r, rng.uniform(0.1, 0.5) * luminosity, 0.2 * r_d) if bulge else np.zeros(n)
    return {"r": r, "v_gas": np.sqrt(v_gas2), "v_disk": np.sqrt(v_disk2), "v_bul": np.sqrt(v_bul2)}


def synthetic_sample(kernel: Kernel, params: Mapping[str, Any], n_galaxies: int, seed: int, *,
                     priors: Mapping[str, Mapping] | None = None, sigma_int: float = 0.0,
                     error_model: str = "velocity_floor", bulge_fraction: float = 0.3, error_fraction: float = 0.04,
                     error_floor: float = 3.0, floor: float = 0.0, tau_gal: float = 0.0,
                     tail: float = 0.0) -> SyntheticSample:
    """``n_galaxies`` galaxies observed under ``kernel`` with ``params`` (numbers), nuisance values drawn from
    ``priors`` (spec dicts, default :data:`SPARC_PRIORS`). Nominal e_V = ``error_fraction``·V + ``error_floor``
    [km/s]; ``sigma_int`` in the unit of ``error_model`` (:data:`~sigcube.stats.likelihood.ERROR_MODELS`), ``floor``
    σ_fl [km/s], ``tau_gal`` τ_gal [ln V], ``tail`` the Student-t's 1/ν: the likelihood :class:`GaussianLikelihood`
    (``sigma_int``, ``error_model``, ``floor``, ``tau_gal``, ``tail``) describes the draws exactly (module docstring)."""
    model = GaussianLikelihood(sigma_int, error_model, floor, tau_gal, tail)
    rng = np.random.default_rng(seed)
    ml = MassToLight()
    parts = [_components(rng, bool(rng.random() < bulge_fraction)) for _ in range(n_galaxies)]
    counts = [len(p["r"]) for p in parts]
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    cat = {"distance": rng.uniform(3.0, 60.0, n_galaxies), "inclination": rng.uniform(30.0, 88.0, n_galaxies)}
    cat["e_distance"] = cat["distance"] * rng.uniform(0.05, 0.3, n_galaxies)
    cat["e_inclination"] = rng.uniform(1.0, 6.0, n_galaxies)
    names = np.array([f"SYN{seed}-{g:04d}" for g in range(n_galaxies)], dtype=object)
    catalogue = Catalogue(names, cat)
    raw = {k: np.concatenate([p[k] for p in parts]) for k in ("r", "v_gas", "v_disk", "v_bul")}
    scaled = {"v_gas": raw["v_gas"], "v_disk": np.sqrt(ml.upsilon_disk) * raw["v_disk"],
              "v_bul": np.sqrt(ml.upsilon_bul) * raw["v_bul"]}
    v_bar = baryonic_velocity(raw["v_gas"], raw["v_disk"], raw["v_bul"], ml)
    n = np.asarray(counts)
    placeholder = {"v_obs": v_bar, "e_v_obs": np.ones_like(v_bar)}
    inputs = {"r": raw["r"], **scaled, "v_bar": v_bar, "g_N": accel_from_velocity(v_bar, raw["r"]),
              **{name: np.repeat(rd_third(raw["r"], offsets), n) for name in RD_INPUTS},
              "f_bulge": np.repeat(derived.bulge_fraction(raw["v_gas"], raw["v_disk"], raw["v_bul"], offsets), n),
              "Sigma_gas": mestel_surface_density(raw["v_gas"] ** 2, raw["r"])}
    base = PointSet(galaxy=names, offsets=offsets, inputs={**inputs, **placeholder}, mass_to_light=ml)
    bound = sparc_priors(catalogue, priors if priors is not None else SPARC_PRIORS)
    truth = {name: bound[name].from_normal(rng.standard_normal(n_galaxies)) if name in bound
             else np.broadcast_to(_base_value(name, ml, cat), (n_galaxies,)).copy() for name in NUISANCE_PARAMETERS}
    resolved = kernel.resolve(params)
    transform = NuisanceTransform(base, catalogue, kernel.required_inputs(resolved))
    v_true = np.asarray(kernel.func(transform.kernel_inputs({k: truth[k][None, :] for k in truth
                                                              if k != "inclination"}), **resolved))[0]
    noise = rng.standard_normal(len(v_true))
    offset = np.exp(float(tau_gal) * rng.standard_normal(n_galaxies)) if tau_gal else np.ones(n_galaxies)
    truth["scale_offset"] = offset
    noise = stretched(noise, model, rng)
    qinv = np.repeat(offset / transform.inclination_factor(truth["inclination"]), n)
    v_obs, e_v = observe(v_true, qinv, error_fraction * (v_true * qinv) + error_floor, model, noise)
    points = PointSet(galaxy=names, offsets=offsets, inputs={**inputs, "v_obs": v_obs, "e_v_obs": e_v,
                                                            "g_obs": accel_from_velocity(v_obs, raw["r"])},
                      mass_to_light=ml)
    return SyntheticSample(points, catalogue, truth, v_true)


def stretched(noise: np.ndarray, likelihood: GaussianLikelihood, rng: np.random.Generator) -> np.ndarray:
    """Standard normal deviates ``noise`` as the likelihood's errors have them: unchanged (Gaussian errors), or each
    divided by √(χ²_ν/ν), a fresh χ² draw of ``rng`` per point — Student-t deviates of ν = 1/tail."""
    if not likelihood.tailed:
        return noise
    tail = float(likelihood.tail)
    return noise / np.sqrt(rng.chisquare(1.0 / tail, noise.shape) * tail)


def observe(v_true: np.ndarray, u: np.ndarray, e_v: np.ndarray, likelihood: GaussianLikelihood,
            noise: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(V_obs, tabulated e_V) of noiseless deprojected curves ``v_true`` seen at velocity scale ``u`` (per point) with
    nominal errors ``e_v`` [km/s], drawn from ``likelihood`` with the standard normal deviates ``noise`` (module
    docstring: Gaussian in V, or log-normal with the relative error e_V/(u·V_true) fixed first)."""
    scatter_a, scatter_b = likelihood.scatter_terms
    v_model = v_true * u
    if likelihood.log_space:
        rel = e_v / v_model
        v_obs = v_model * np.exp(np.sqrt(rel**2 + scatter_a / v_true**2 + scatter_b) * noise)
        return v_obs, rel * v_obs
    return v_model + np.sqrt(e_v**2 + u**2 * (scatter_a + scatter_b * v_true**2)) * noise, e_v


def _base_value(name: str, ml: MassToLight, cat: Mapping[str, np.ndarray]) -> np.ndarray | float:
    """The value a parameter without a prior is held at."""
    return {"upsilon_disk": ml.upsilon_disk, "upsilon_bul": ml.upsilon_bul}.get(name, cat.get(name))
