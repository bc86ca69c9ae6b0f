"""Synthetic SPARC-like galaxies at survey scale (``sigcube synth``), written as a ``sparc`` cube, batch by batch.

Every galaxy is drawn from scaling relations fitted here to SPARC (Lelli, McGaugh & Schombert 2016, AJ 152, 157:
Table 1 and the rotmod files of the 175 galaxies, by least squares in log space) unless another source is named:

- luminosity: log10(L[3.6]/10⁹ L☉) ~ N(0.73, 1.12), clipped to [−2, 2.7] (SPARC spans −1.9 … 2.7);
- size–luminosity: log10(R_d/kpc) = 0.144 + 0.254·log10(L/10⁹ L☉) ± 0.22 dex;
- gas–luminosity: log10(M_HI/10⁹ M☉) = −0.198 + 0.544·log10(L/10⁹ L☉) ± 0.35 dex (gas fraction falls with L);
- HI size–mass (Wang et al. 2016, MNRAS 460, 2143): log10(D_HI/kpc) = 0.506·log10(M_HI/M☉) − 3.293 ± 0.06
  dex, R_HI = D_HI/2; the gas (1.33·M_HI, helium included as in SPARC) is an exponential disk of scale R_HI/4
  (an assumption, not a fit);
- bulges: 18 % of galaxies (SPARC: 32 of 175 have V_bul > 0), bulge light fraction B/T ~ U(0.05, 0.5); a
  Hernquist (1990, ApJ 356, 359) sphere of scale 0.2·R_d; the disk is an exponential (Freeman 1970, ApJ 160,
  811) holding the rest of L[3.6]; V_disk, V_bul at Υ = 1 as SPARC tabulates them;
- radii sampling: N ~ round(exp(N(2.71, 0.70))) points, clipped to [5, 115]; evenly spaced from r_min to r_max,
  log10(r_max/R_d) ~ N(0.754, 0.266), log10(r_min/r_max) ~ N(−1.29, 0.455) (capped at r_max/N);
- errors: e_V/V ~ 10^N(−1.37, 0.41) (SPARC's median 4.3 %, 16–84 % range 1.6–10 %), at least 1 km/s;
- geometry: log10(D/Mpc) ~ N(1.18, 0.45) clipped to [0, 2.1], e_D = 0.14·D; inclination isotropic (cos i
  uniform) in [30°, 90°], e_i ~ U(2°, 8°) (SPARC's median 4°); quality 1/2/3 in SPARC's proportions 99:64:12.

V_obs is the chosen kernel's prediction (its defaults, overridden by ``params``; at SPARC's mass-to-light ratios)
plus Gaussian noise of e_V (reflected to stay positive). The cube is the ``sparc`` schema exactly (every variable,
dim, dtype and unit), its ``title`` and ``synth_*`` attributes say it is synthetic and how it was drawn.
Draws are seeded per block of :data:`BLOCK` galaxies (``numpy.random.SeedSequence([seed, block])``): the same
seed gives the same cube whatever the batch size, and memory is bounded by one batch.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np
import xarray as xr

from sigcube.constants import HELIUM_FACTOR
from sigcube.conventions import SampleCuts
from sigcube.errors import SigcubeError, StoreExistsError
from sigcube.io.cubes import CubeWriter, existing_cube_hash
from sigcube.io.layouts import SPARC
from sigcube.io.rotation_curves import pack_sparc
from sigcube.io.schema import SCHEMA_VERSION
from sigcube.io.stores import Location
from sigcube.model.galaxies import (
    exponential_disk_v2, exponential_surface_density, hernquist_surface_density, hernquist_v2,
)
from sigcube.model.kernels import get_kernel
from sigcube.version import __version__

BLOCK = 1000
"""Galaxies drawn from one seeded stream, and of one cube chunk; batches are whole blocks."""
MAX_POINTS = 115
"""The longest curve (SPARC's longest has 115 rows): the cube's radius dimension."""
MIN_POINTS, MAX_N = 5, 10**7
QUALITY_SHARES = np.array([99, 64, 12]) / 175
"""SPARC's quality flags 1, 2, 3 (Lelli+2016 Table 1)."""
KIND = SPARC.kind
"""The kind of a synthetic cube: it has the SPARC cube's schema."""
SEED_ATTR = "synth_seed"
"""The root attribute recording the seed: its presence marks a cube sigcube synth drew."""


def draw_block(seed: int, block: int, n: int) -> dict[str, np.ndarray]:
    """The ``n`` (≤ :data:`BLOCK`) galaxies of block ``block``: per-galaxy values and padded curves (galaxy × radius),
    everything but V_obs (which needs the kernel)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, block]))
    log_l = np.clip(rng.normal(0.73, 1.12, n), -2.0, 2.7)
    lum = 1e9 * 10**log_l
    r_d = 10 ** (0.144 + 0.254 * log_l + rng.normal(0, 0.22, n))
    m_hi = 1e9 * 10 ** (-0.198 + 0.544 * log_l + rng.normal(0, 0.35, n))
    r_hi = 0.5 * 10 ** (0.506 * np.log10(m_hi) - 3.293 + rng.normal(0, 0.06, n))
    has_bulge = rng.random(n) < 0.18
    bt = np.where(has_bulge, rng.uniform(0.05, 0.5, n), 0.0)
    n_pts = np.clip(np.round(np.exp(rng.normal(2.71, 0.70, n))), MIN_POINTS, MAX_POINTS).astype(np.int64)
    r_max = r_d * 10 ** rng.normal(0.754, 0.266, n)
    r_min = np.minimum(r_max * 10 ** rng.normal(-1.29, 0.455, n), r_max / n_pts)
    distance = 10 ** np.clip(rng.normal(1.18, 0.45, n), 0.0, 2.1)
    inclination = np.degrees(np.arccos(rng.uniform(0.0, math.cos(math.radians(30.0)), n)))
    e_inc = rng.uniform(2.0, 8.0, n)
    quality = rng.choice(np.array([1, 2, 3], dtype=np.int64), size=n, p=QUALITY_SHARES)
    rel_err = 10 ** rng.normal(-1.37, 0.41, (n, MAX_POINTS))
    noise = rng.standard_normal((n, MAX_POINTS))

    j = np.arange(MAX_POINTS)[None, :]
    inside = j < n_pts[:, None]
    frac = j / np.maximum(n_pts - 1, 1)[:, None]
    r = np.where(inside, r_min[:, None] + frac * (r_max - r_min)[:, None], np.nan)
    l_disk, l_bul = lum * (1 - bt), lum * bt
    a_bul = 0.2 * r_d
    v_disk = np.sqrt(exponential_disk_v2(r, l_disk[:, None], r_d[:, None]))
    v_gas = np.sqrt(exponential_disk_v2(r, HELIUM_FACTOR * m_hi[:, None], r_hi[:, None] / 4.0))
    v_bul = np.where(inside, np.sqrt(hernquist_v2(r, l_bul[:, None], a_bul[:, None])), np.nan)
    sb_disk = exponential_surface_density(r, l_disk[:, None], r_d[:, None]) / 1e6
    sb_bul = np.where(has_bulge[:, None], hernquist_surface_density(r, l_bul[:, None], a_bul[:, None]) / 1e6, 0.0)
    sb_bul = np.where(inside, sb_bul, np.nan)
    r_eff = 1.678 * r_d  # the half-light radius of an exponential disk
    return {
        "r": r, "v_gas": v_gas, "v_disk": v_disk, "v_bul": v_bul, "sb_disk": sb_disk, "sb_bul": sb_bul,
        "rel_err": rel_err, "noise": noise, "n_points": n_pts,
        "L36": lum / 1e9, "L_bul": l_bul / 1e9, "e_L36": 0.0175 * lum / 1e9, "R_disk": r_d, "M_HI": m_hi / 1e9,
        "R_HI": r_hi,
        "R_eff": r_eff, "SB_eff": 0.5 * lum / (np.pi * r_eff**2) / 1e6, "SB_disk": l_disk / (2 * np.pi * r_d**2) / 1e6,
        "distance": distance, "e_distance": 0.14 * distance, "rotmod_distance": distance,
        "inclination": inclination, "e_inclination": e_inc, "quality": quality,
        "hubble_type": np.clip(np.round(9.0 - 2.0 * (log_l - 0.73)), 0, 11).astype(np.int64),
        "distance_method": np.ones(n, dtype=np.int64),
    }


def observe(draw: dict[str, np.ndarray], predict: Callable[[dict[str, np.ndarray]], np.ndarray]) -> dict[str, np.ndarray]:
    """V_obs, e_V_obs, V_flat and e_V_flat of drawn galaxies: ``predict`` (packed points → V [km/s]) plus noise."""
    n = len(draw["n_points"])
    shell = xr.Dataset({name: (SPARC.variables[name].dims, draw[name]) for name in
                        ("r", "v_gas", "v_disk", "v_bul", "sb_disk", "sb_bul", "L36", "R_disk", "M_HI",
                         "inclination", "quality")},
                       coords={"galaxy": np.arange(n).astype(str)})
    shell["v_obs"] = shell["e_v_obs"] = shell["r"] * 0 + 1.0  # positive placeholders: every drawn point is kept
    points = pack_sparc(shell, SampleCuts(min_points=1))
    if points.n_galaxies != n:
        raise SigcubeError(f"synth: {n - points.n_galaxies} drawn galaxies have no usable point")
    v_true = np.full((n, MAX_POINTS), np.nan)
    v_true[points.galaxy_index(), points.radius] = predict(points.inputs)
    if not np.all(np.isfinite(v_true[points.galaxy_index(), points.radius])):
        raise SigcubeError("synth: the kernel predicts non-finite velocities for some drawn galaxies")
    e_v = np.maximum(draw["rel_err"] * v_true, 1.0)
    v_obs = np.abs(v_true + e_v * draw["noise"])
    last = np.clip(draw["n_points"][:, None] - 1 - np.arange(3)[None, :], 0, None)
    rows = np.arange(n)[:, None]
    return {"v_obs": v_obs, "e_v_obs": np.where(np.isfinite(v_obs), e_v, np.nan),
            "V_flat": v_obs[rows, last].mean(axis=1), "e_V_flat": e_v[rows, last].mean(axis=1)}


def synth_batch(seed: int, first_block: int, n: int, names: np.ndarray,
                predict: Callable[[dict[str, np.ndarray]], np.ndarray]) -> dict[str, np.ndarray]:
    """Every ``sparc`` variable of ``n`` galaxies starting at block ``first_block`` (``names``: theirs)."""
    parts = []
    for b in range(-(-n // BLOCK)):
        m = min(BLOCK, n - b * BLOCK)
        draw = draw_block(seed, first_block + b, m)
        parts.append({**draw, **observe(draw, predict)})
    out = {k: np.concatenate([p[k] for p in parts]) for k in parts[0] if k not in ("rel_err", "noise")}
    out["ref"] = np.full(n, "synthetic", dtype=np.dtypes.StringDType())
    out["galaxy"] = names
    return out


def galaxy_names(n: int) -> np.ndarray:
    """``SYN0000001`` … (zero-padded to at least 7 digits)."""
    width = max(7, len(str(n)))
    return np.array([f"SYN{i:0{width}d}" for i in range(1, n + 1)], dtype=np.dtypes.StringDType())


def is_synthetic(attrs: Mapping[str, Any]) -> bool:
    """Whether a cube's root attributes ``attrs`` are those of one sigcube synth drew."""
    return SEED_ATTR in attrs


def synth_cube(n: int, out: str | Path, seed: int = 0, kernel: str = "sigma", params: dict[str, Any] | None = None,
               batch: int = 10 * BLOCK, force: bool = False) -> Location:
    """Write ``n`` synthetic galaxies (V_obs from ``kernel`` at ``params``) as a ``sparc`` cube at ``out`` (path or
    store URL), ``batch`` galaxies at a time (rounded to whole :data:`BLOCK` s), in chunks of :data:`BLOCK` galaxies
    (about a sweep's default object chunk: a worker reads little more than its chunk's rows)."""
    if not 1 <= n <= MAX_N:
        raise SigcubeError(f"synth: the number of galaxies must be in [1, {MAX_N:.0e}]; got {n}")
    if batch < 1:
        raise SigcubeError(f"synth: batch must be ≥ 1; got {batch}")
    model = get_kernel(kernel)
    resolved = model.resolve(params or {})
    store = Location.of(out, "--out")
    if store.kind() not in ("absent", "empty"):
        existing_cube_hash(store)  # anything that is not a dataset cube is refused, --force or not
        if not force:
            raise StoreExistsError(f"{store.name} already exists; pass --force to replace it, or choose another --out")
    batch = max(BLOCK, (batch // BLOCK) * BLOCK)
    names = galaxy_names(n)
    template = _template(n, names, seed, kernel, resolved)

    def predict(inputs: dict[str, np.ndarray]) -> np.ndarray:
        return model(inputs, **resolved)

    with CubeWriter(store) as writer:
        writer.begin(template, chunks={"galaxy": BLOCK})
        for start in range(0, n, batch):
            m = min(batch, n - start)
            values = synth_batch(seed, start // BLOCK, m, names[start:start + m], predict)
            writer.write_rows(start, {k: v for k, v in values.items() if k in SPARC.variables and k != "galaxy"})
        writer.finish()
    return store


def _template(n: int, names: np.ndarray, seed: int, kernel: str, params: dict[str, Any]) -> xr.Dataset:
    """The cube's skeleton: coordinates eager, every other variable lazy (written batch by batch)."""
    data_vars = {}
    for name, spec in SPARC.variables.items():
        if name in ("galaxy", "radius"):
            continue
        shape = (n, MAX_POINTS)[:len(spec.dims)]
        chunks = (BLOCK, MAX_POINTS)[:len(spec.dims)]
        if spec.kind == "T":
            data = da.full(shape, "", dtype=np.dtypes.StringDType(), chunks=chunks)
        else:
            dtype = {"f": np.float64, "i": np.int64}[spec.kind]
            data = da.full(shape, np.nan if spec.kind == "f" else 0, dtype=dtype, chunks=chunks)
        data_vars[name] = xr.Variable(spec.dims, data, {"units": spec.units, "long_name": spec.long_name})
    coords = {"galaxy": xr.Variable(("galaxy",), names, _attrs("galaxy")),
              "radius": xr.Variable(("radius",), np.arange(MAX_POINTS, dtype=np.int64), _attrs("radius"))}
    plain = {k: (v if isinstance(v, (str, int, float, bool)) else str(v)) for k, v in params.items()}
    attrs = {
        "sigcube_kind": KIND,
        "title": f"synthetic SPARC-like galaxies ({n}; sigcube synth, seed {seed}, V_obs from {kernel})",
        "citation": "scaling relations fitted to SPARC: Lelli, F., McGaugh, S. S. & Schombert, J. M. 2016, "
                    "AJ 152, 157 (see sigcube.io.synth)",
        "licence": "generated data: no restriction",
        "source_files": "{}",
        "sigcube_version": __version__,
        "schema_version": SCHEMA_VERSION,
        "conventions": "padded galaxy × radius; NaN past each curve's n_points rows",
        SEED_ATTR: seed, "synth_kernel": kernel, "synth_params": json.dumps(plain, sort_keys=True),
    }
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)


def _attrs(name: str) -> dict[str, str]:
    spec = SPARC.variables[name]
    return {"units": spec.units, "long_name": spec.long_name}
