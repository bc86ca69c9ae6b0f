"""CLASH clusters: the Tian+2020 radial acceleration relation and the Mistele+2025 weak-lensing profiles.

Files (manifest ``ingest/clusters.toml``):

- ``fig2.dat`` (Tian+2020, CDS J/ApJ/896/70): whitespace rows ``name R log10(g_bar) log10(g_tot)
  e_log(g_bar) e_log(g_tot)`` with R [kpc], g [m/s²], errors [dex]; the rows run radius by radius,
  not cluster by cluster.
- ``<cluster>.csv`` (Mistele+2025): 13 columns, enclosed mass M(<r), its two-halo-subtracted variant
  and the density, each with statistical and asymmetric systematic errors; r in Mpc.
- ``<cluster>-M-corr.csv``: the correlation matrix of M(<r) between the radial bins, no header.
- ``vflat-Mb-M200c.csv``: the per-cluster summary (V_flat, baryonic mass, M200c); ``NaN`` = missing.

The cube is ``cluster × radius`` (row index along each profile, NaN past its end) plus
``cluster × radius × radius_b`` for the correlation matrices. Cluster names follow Tian's
spelling (A209, MACS0329, MS2137, RXJ1347; :func:`cluster_key`).

The plain-file helpers shared with the other readers live in :mod:`sigcube.io.ingest.text` (CSV rows,
numbers) and :mod:`sigcube.io.rotation_curves` (points from circular velocities, the default-cuts check).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import astropy.units as u
import numpy as np
import xarray as xr
from scipy.interpolate import CubicSpline
from scipy.special import logsumexp, ndtr

from sigcube.constants import GM_SUN, KM_S, KPC_M
from sigcube.conventions import SampleCuts
from sigcube.errors import DataSourceError, ParseError, SigcubeError, SpecError
from sigcube.io.ingest.sources import DatasetFiles, fetch_dataset
from sigcube.io.ingest.text import csv_rows, parse_cell, parse_number, whitespace_rows
from sigcube.io.layouts import CLUSTERS
from sigcube.io.rotation_curves import require_default_cuts
from sigcube.io.schema import dataset_attrs, label
from sigcube.model.kernels import Kernel
from sigcube.model.points import PointSet, velocity_points
from sigcube.stats.lensing import (
    MAX_NODES, MODEL_OPTIONS, NODE_TOLERANCE, ClusterSystematics, LensingError, MultivariateNormal, cited_size,
    lensing_covariance, lensing_mass_ratio,
)

RAR_FILE = "fig2.dat"
SUMMARY_FILE = "vflat-Mb-M200c.csv"
CORR_SUFFIX = "-M-corr.csv"
RAR_COLUMNS = ("name", "R", "log_g_bar", "log_g_tot", "e_log_g_bar", "e_log_g_tot")
MPC_TO_KPC = u.Mpc.to(u.kpc)

#: Profile CSV header → cube variable (r is converted from Mpc to kpc).
PROFILE_COLUMNS = {
    "r_Mpc": "lens_r",
    "M_Msun": "lens_M",
    "M_stat_err_Msun": "lens_M_stat_err",
    "M_syst_err_up_Msun": "lens_M_syst_err_up",
    "M_syst_err_down_Msun": "lens_M_syst_err_down",
    "M2hsub_Msun": "lens_M2hsub",
    "M2hsub_stat_err_Msun": "lens_M2hsub_stat_err",
    "M2hsub_syst_err_up_Msun": "lens_M2hsub_syst_err_up",
    "M2hsub_syst_err_down_Msun": "lens_M2hsub_syst_err_down",
    "ρ_Msun_Mpc3": "lens_rho",
    "ρ_stat_err_Msun_Mpc3": "lens_rho_stat_err",
    "ρ_syst_err_up_Msun_Mpc3": "lens_rho_syst_err_up",
    "ρ_syst_err_down_Msun_Mpc3": "lens_rho_syst_err_down",
}
#: Summary CSV header (after ``name``) → cube variable; ``_down`` errors are stored as positive numbers.
SUMMARY_COLUMNS = {
    f"{column}{variant}{unit}": f"{name}{variant}"
    for variant in ("", "_2hsub")
    for column, unit, name in (
        ("Vflat", "_kms", "V_flat"),
        ("Vflat", "_stat_err_kms", "e_V_flat"),
        ("log10_Mb_beta", "_Msun", "log_Mb_beta"),
        ("log10_Mb_r4tail", "_Msun", "log_Mb_r4tail"),
        ("log10_M200c", "_Msun", "log_M200c"),
        ("log10_M200c", "_stat_err_Msun", "e_log_M200c"),
        ("log10_M200c_NFW", "_Msun", "log_M200c_NFW"),
        ("log10_M200c_NFW", "_stat_err_up_Msun", "e_log_M200c_NFW_plus"),
        ("log10_M200c_NFW", "_stat_err_down_Msun", "e_log_M200c_NFW_minus"),
    )
}
CORRELATION_TOLERANCE = 1e-6
"""Largest asymmetry and deviation of the diagonal from 1 accepted in a correlation matrix."""

_PREFIXES = (("ABELL", "A"), ("MACSJ", "MACS"))
REDSHIFTS = {
    "A209": 0.206, "A2261": 0.224, "A383": 0.187, "A611": 0.288, "MACS0329": 0.450, "MACS0416": 0.396,
    "MACS0429": 0.399, "MACS0647": 0.584, "MACS0717": 0.548, "MACS0744": 0.686, "MACS1115": 0.352, "MACS1149": 0.544,
    "MACS1206": 0.440, "MACS1720": 0.391, "MACS1931": 0.352, "MS2137": 0.313, "RXJ1347": 0.451, "RXJ1532": 0.345,
    "RXJ2129": 0.234, "RXJ2248": 0.348,
}
"""Each CLASH cluster's redshift: Postman et al. 2012 (ApJS 199, 25), Table 1, as a public CLASH cluster list
transcribes it (not checked against the paper's table here; no data file of the mirror gives it). The mirror's files
carry no redshift; only an NFW halo needs one (ρ_crit(z) and the concentration–mass relation at z)."""


def cluster_redshift(name: str) -> float:
    """The redshift of cluster ``name`` (any spelling :func:`cluster_key` reads) from :data:`REDSHIFTS`."""
    key = cluster_key(name)
    if key not in REDSHIFTS:
        raise DataSourceError(f"no redshift is known for cluster {name!r}: the NFW halo needs one (known: "
                              f"{', '.join(REDSHIFTS)})")
    return REDSHIFTS[key]


def cluster_key(name: str) -> str:
    """One spelling for every file's cluster names: ``Abell 209``, ``abell209`` → ``A209``; ``MACSJ0329`` →
    ``MACS0329``."""
    key = re.sub(r"\s+", "", name).upper()
    for long, short in _PREFIXES:
        if key.startswith(long):
            return short + key[len(long):]
    return key


@dataclass(frozen=True)
class RarProfile:
    """One cluster's RAR points (Tian+2020), sorted by radius: r [kpc], log10 g [m/s²], errors [dex]."""

    r: np.ndarray
    log_g_bar: np.ndarray
    log_g_tot: np.ndarray
    e_log_g_bar: np.ndarray
    e_log_g_tot: np.ndarray


def read_rar(path: Path | str) -> dict[str, RarProfile]:
    """Read Tian+2020 ``fig2.dat`` into one profile per cluster (keys as :func:`cluster_key`)."""
    path = Path(path)
    rows: dict[str, list[tuple[float, ...]]] = {}
    seen: set[tuple[str, float]] = set()
    for number, tokens in whitespace_rows(path, tuple(RAR_COLUMNS)):
        values = tuple(parse_number(t, c, path, number) for t, c in zip(tokens[1:], RAR_COLUMNS[1:]))
        key = cluster_key(tokens[0])
        if values[0] <= 0 or values[3] < 0 or values[4] < 0:
            raise ParseError(path, f"{tokens[0]}: R must be positive and the errors non-negative", number)
        if (key, values[0]) in seen:
            raise ParseError(path, f"{tokens[0]} has two rows at R = {values[0]} kpc", number)
        seen.add((key, values[0]))
        rows.setdefault(key, []).append(values)
    return {key: RarProfile(*np.array(sorted(values)).T) for key, values in rows.items()}


def read_profile(path: Path | str) -> dict[str, np.ndarray]:
    """Read a Mistele+2025 ``<cluster>.csv`` profile: cube variable → array (r in kpc, masses in M☉)."""
    path = Path(path)
    rows = csv_rows(path, tuple(PROFILE_COLUMNS))
    values = np.array([[parse_cell(c, h, path, n) for c, h in zip(cells, PROFILE_COLUMNS)] for n, cells in rows])
    errors = np.array(["_err_" in h for h in PROFILE_COLUMNS])
    for (number, _), row in zip(rows, values):
        if row[0] <= 0 or np.any(row[errors] < 0):
            raise ParseError(path, "r must be positive and every error non-negative (M and ρ may be negative)", number)
    if np.any(np.diff(values[:, 0]) <= 0):
        bad = rows[int(np.argmin(np.diff(values[:, 0]) > 0)) + 1][0]
        raise ParseError(path, "radii must increase strictly", bad)
    out = dict(zip(PROFILE_COLUMNS.values(), values.T))
    out["lens_r"] = out["lens_r"] * MPC_TO_KPC
    return out


def read_correlation(path: Path | str, size: int) -> np.ndarray:
    """Read a ``<cluster>-M-corr.csv`` matrix, checking it is size × size, symmetric with a unit diagonal."""
    path = Path(path)
    rows = csv_rows(path, None, size)
    if len(rows) != size:
        raise ParseError(path, f"{len(rows)} rows; the profile has {size} radii, so the matrix must be {size} × {size}",
                         rows[-1][0])
    matrix = np.array([[parse_cell(c, f"column {j + 1}", path, n) for j, c in enumerate(cells)] for n, cells in rows])
    if (np.abs(matrix - matrix.T).max() > CORRELATION_TOLERANCE
            or np.abs(np.diag(matrix) - 1).max() > CORRELATION_TOLERANCE
            or np.abs(matrix).max() > 1 + CORRELATION_TOLERANCE):
        raise ParseError(path, "not a correlation matrix (symmetric, unit diagonal, entries in [-1, 1])", rows[0][0])
    return matrix


def read_summary(path: Path | str) -> dict[str, dict[str, float | str]]:
    """Read ``vflat-Mb-M200c.csv``: cluster key → {``summary_name``, the SUMMARY_COLUMNS variables}."""
    path = Path(path)
    out: dict[str, dict[str, float | str]] = {}
    for number, cells in csv_rows(path, ("name", *SUMMARY_COLUMNS)):
        name = cells[0].strip()
        key = cluster_key(name)
        if key in out:
            raise ParseError(path, f"cluster {name!r} appears twice", number)
        values = {var: parse_cell(c, col, path, number, allow_nan=True)
                  for c, (col, var) in zip(cells[1:], SUMMARY_COLUMNS.items())}
        out[key] = {"summary_name": name,
                    **{k: abs(v) if k.startswith("e_") else v for k, v in values.items()}}
    return out


def build_clusters_cube(files: DatasetFiles | None = None) -> xr.Dataset:
    """Read the CLASH RAR, lensing profiles, correlation matrices and summary into one cube."""
    files = files or fetch_dataset("clusters")
    rar = read_rar(files.paths[RAR_FILE])
    summary = read_summary(files.paths[SUMMARY_FILE])
    profiles, corr = {}, {}
    for key, path in files.paths.items():
        if key in (RAR_FILE, SUMMARY_FILE) or key.endswith(CORR_SUFFIX):
            continue
        name = cluster_key(Path(key).stem)
        profiles[name] = read_profile(path)
        corr_key = f"{Path(key).stem}{CORR_SUFFIX}"
        if corr_key not in files.paths:
            raise DataSourceError(f"{path}: no correlation matrix {corr_key} in ingest/clusters.toml")
        corr[name] = read_correlation(files.paths[corr_key], len(profiles[name]["lens_r"]))
    names = sorted(rar)
    for what, keys in (("lensing profiles", profiles), ("summary table", summary)):
        if set(keys) != set(names):
            only_here, only_rar = sorted(set(keys) - set(names)), sorted(set(names) - set(keys))
            raise DataSourceError(
                f"the {what} and {files.paths[RAR_FILE]} list different clusters "
                f"({what} only: {only_here or 'none'}; RAR only: {only_rar or 'none'})"
            )
    return _assemble(names, rar, profiles, corr, summary, files)


def _padded(rows: list[np.ndarray], width: int) -> np.ndarray:
    out = np.full((len(rows), width), np.nan)
    for i, row in enumerate(rows):
        out[i, : len(row)] = row
    return out


def _assemble(names, rar, profiles, corr, summary, files: DatasetFiles) -> xr.Dataset:
    width = max(max(len(rar[n].r) for n in names), max(len(profiles[n]["lens_r"]) for n in names))
    curve = ("cluster", "radius")
    data = {f"rar_{f}": (curve, _padded([getattr(rar[n], f) for n in names], width))
            for f in ("r", "log_g_bar", "log_g_tot", "e_log_g_bar", "e_log_g_tot")}
    data.update({var: (curve, _padded([profiles[n][var] for n in names], width)) for var in PROFILE_COLUMNS.values()})
    matrices = np.full((len(names), width, width), np.nan)
    for i, n in enumerate(names):
        k = len(corr[n])
        matrices[i, :k, :k] = corr[n]
    data["lens_M_corr"] = (("cluster", "radius", "radius_b"), matrices)
    data["rar_n"] = (("cluster",), np.array([len(rar[n].r) for n in names], dtype=np.int64))
    data["lens_n"] = (("cluster",), np.array([len(profiles[n]["lens_r"]) for n in names], dtype=np.int64))
    data["summary_name"] = (("cluster",), np.array([summary[n]["summary_name"] for n in names],
                                                   dtype=np.dtypes.StringDType()))
    for var in SUMMARY_COLUMNS.values():
        data[var] = (("cluster",), np.array([summary[n][var] for n in names], dtype=float))
    ds = xr.Dataset(
        data,
        coords={"cluster": np.array(names, dtype=np.dtypes.StringDType()),
                "radius": np.arange(width, dtype=np.int64), "radius_b": np.arange(width, dtype=np.int64)},
        attrs=dataset_attrs(
            CLUSTERS, "CLASH clusters: radial acceleration relation (Tian+2020) and weak-lensing profiles "
            "(Mistele+2025)", files.provenance(),
            "padded cluster × radius (row index, NaN past rar_n / lens_n rows); lens_r converted from Mpc to kpc; "
            "e_*_minus errors stored as positive numbers; the Fox+2022 strong-lensing table is not included "
            "(not available offline)",
        ),
    )
    return label(ds, CLUSTERS)


PACK_VARIABLES = ("cluster", "rar_r", "rar_log_g_bar", "rar_log_g_tot", "rar_e_log_g_tot")
"""The variables :func:`pack_clusters` reads."""


def pack_clusters(cube: xr.Dataset, cuts: SampleCuts | None = None) -> PointSet:
    """The CLASH RAR points as velocity-equivalent inputs, grouped by ``cluster``.

    r [kpc]; g_N = g_bar; V_bar = √(g_bar·r); V_obs = √(g_tot·r); e_V = ½·V_obs·ln10·e_log g_tot
    (first-order propagation); g_obs = g_tot. R_d = 0 for every cluster, so the Σ kernel's ξ is
    floored at 0.01 kpc and W = r/(r + 0.01 kpc): 0.9993 at the innermost radius (14.3 kpc) and
    ≥ 0.9999 from 100 kpc out, the paper's W = 1 for clusters to 7e-4 at worst. f_bulge = 0.
    """
    require_default_cuts(cuts, "clusters")
    r = cube["rar_r"].values
    valid = np.isfinite(r)
    g_bar = 10.0 ** cube["rar_log_g_bar"].values[valid]
    g_tot = 10.0 ** cube["rar_log_g_tot"].values[valid]
    rr = r[valid]
    v_bar = np.sqrt(g_bar * rr * KPC_M) / KM_S
    v_obs = np.sqrt(g_tot * rr * KPC_M) / KM_S
    e_v_obs = 0.5 * v_obs * np.log(10.0) * cube["rar_e_log_g_tot"].values[valid]
    return velocity_points("cluster", [str(n) for n in cube["cluster"].values], valid.sum(axis=1),
                           rr, v_obs, e_v_obs, v_bar)



LENSING_VARIABLES = ("cluster", "rar_n", "rar_r", "rar_log_g_bar", "rar_e_log_g_bar", "lens_n", "lens_r", "lens_M",
                     "lens_M_stat_err", "lens_M_syst_err_up", "lens_M_syst_err_down", "lens_M_corr")
"""The variables :func:`lensing_points`, :func:`pack_lensing` and :func:`lensing_likelihood` read."""
LENSING_BARYONS = ("M_bar(<r) = g_bar·r²/G from Tian+2020 (X-ray gas + BCG), log-log interpolated between Tian's "
                   "radii, never extrapolated (its log error e_log g_bar interpolated linearly in log r); the summary "
                   "table's M_b is a total mass (gas extrapolated to large radii), not an enclosed mass, so it is not "
                   "used here")
"""The baryonic input of every cluster lensing prediction, in words."""
SCORED = 30.0
"""The node rule compares ln L where the summed ln L is within this many nat of its largest value on the grid (where a
posterior can have mass)."""
BATCH = 2_000_000
"""Grid points × nodes × radii evaluated at once: bounds the memory of one kernel call."""
FIRST_NODES = 3
"""Gauss–Hermite nodes per cluster nuisance dimension on the node rule's first rung (then 5, 7, …)."""
SHARED_STEPS = 16
"""Steps of the shared shift's grid over its support on the node rule's first rung (halved at each rung)."""
SHARED_REFINE = 16
"""Points per grid step at which the spline of the summed ln L(s) is integrated."""


def lensing_points(cube: xr.Dataset) -> dict[str, np.ndarray]:
    """The Mistele+2025 lensing radii inside each cluster's Tian+2020 range, with M_bar(<r) (:data:`LENSING_BARYONS`):
    ``cluster``, ``r`` [kpc], ``m_bar``, ``m_lens`` [M☉], ``e_log_m_bar`` [dex] (Tian's log g_bar error at r: r is
    exact, so it is log M_bar's) and ``index`` (the bin's row along its profile)."""
    rows: dict[str, list] = {k: [] for k in ("cluster", "r", "m_bar", "m_lens", "e_log_m_bar", "index")}
    for c in cube["cluster"].values:
        cl = cube.sel(cluster=c)
        n_rar = int(cl["rar_n"])
        r_t = cl["rar_r"].values[:n_rar]
        log_m_t = np.log10(10.0 ** cl["rar_log_g_bar"].values[:n_rar] * (r_t * KPC_M) ** 2 / GM_SUN)
        r_l = cl["lens_r"].values[: int(cl["lens_n"])]
        inside = np.flatnonzero((r_l >= r_t.min()) & (r_l <= r_t.max()))
        rows["cluster"] += [str(c)] * len(inside)
        rows["r"] += list(r_l[inside])
        rows["m_bar"] += list(10.0 ** np.interp(np.log10(r_l[inside]), np.log10(r_t), log_m_t))
        rows["e_log_m_bar"] += list(np.interp(np.log10(r_l[inside]), np.log10(r_t),
                                              cl["rar_e_log_g_bar"].values[:n_rar]))
        rows["m_lens"] += list(cl["lens_M"].values[inside])
        rows["index"] += list(inside)
    return {k: np.array(v) for k, v in rows.items()}


def pack_lensing(cube: xr.Dataset, cuts: SampleCuts | None = None) -> PointSet:
    """The lensing radii of :func:`lensing_points` as velocity-equivalent points, grouped by ``cluster`` (clusters
    with no radius inside Tian's range are left out).

    V_bar = √(G·M_bar/r); V_obs = √(G·M_lens/r) with e_V = ½·V_obs·σ_M/M_lens (first order, for the per-object
    metrics only: the lensing likelihood reads M itself); R_d = 0 and f_bulge = 0 as in :func:`pack_clusters`; each
    point's ``radius`` is its row along the Mistele profile. M_pred = M_bar·(V_pred/V_bar)².
    """
    require_default_cuts(cuts, "clusters")
    pts = lensing_points(cube)
    names = list(dict.fromkeys(pts["cluster"]))  # cube order: lensing_points walks the clusters in order
    counts = [int(np.sum(pts["cluster"] == n)) for n in names]
    if np.any(pts["m_lens"] <= 0):
        raise DataSourceError("a lensing mass M(<r) ≤ 0 lies inside Tian's range: its velocity-equivalent is undefined")
    stat = _lensing_errors(cube, pts)[0]
    v_bar = np.sqrt(GM_SUN * pts["m_bar"] / (pts["r"] * KPC_M)) / KM_S
    v_obs = np.sqrt(GM_SUN * pts["m_lens"] / (pts["r"] * KPC_M)) / KM_S
    e_v = 0.5 * v_obs * stat / pts["m_lens"]
    return velocity_points("cluster", [str(n) for n in names], counts, pts["r"], v_obs, e_v, v_bar,
                           radius=pts["index"].astype(np.int64))


def _lensing_errors(cube: xr.Dataset, pts: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Statistical and symmetric systematic errors ½(s⁺ + s⁻) of M at the points of :func:`lensing_points`."""
    stat, syst = [], []
    for name, index in zip(pts["cluster"], pts["index"]):
        cl = cube.sel(cluster=name)
        stat.append(float(cl["lens_M_stat_err"].values[index]))
        syst.append(0.5 * float(cl["lens_M_syst_err_up"].values[index] + cl["lens_M_syst_err_down"].values[index]))
    return np.array(stat), np.array(syst)


def lensing_normals(cube: xr.Dataset, errors: str = "stat") -> dict[str, MultivariateNormal]:
    """Per cluster with lensing radii inside Tian's range, the multivariate normal of its M(<r) on those radii
    (:mod:`sigcube.stats.lensing`; ``errors``: ``stat`` or ``stat+syst``)."""
    pts = lensing_points(cube)
    stat, syst = _lensing_errors(cube, pts)
    out = {}
    for name in dict.fromkeys(pts["cluster"]):
        sel = pts["cluster"] == name
        index = pts["index"][sel]
        corr = cube.sel(cluster=name)["lens_M_corr"].values[np.ix_(index, index)]
        out[str(name)] = MultivariateNormal.of(pts["m_lens"][sel], lensing_covariance(corr, stat[sel], syst[sel],
                                                                                        errors))
    return out


@dataclass(frozen=True)
class Nodes:
    """Standard-normal nuisance values (n_nodes, n_dims) and their ln weights (summing to 1 in probability)."""

    z: np.ndarray
    log_w: np.ndarray

    @classmethod
    def of(cls, dims: int, n: int) -> Nodes:
        """The tensor product of ``n`` probabilists' Gauss–Hermite nodes in each of ``dims`` dimensions."""
        if dims == 0:
            return cls(np.zeros((1, 0)), np.zeros(1))
        from sigcube.compute.quadrature import gauss_hermite  # numba: only when a systematic is integrated

        x, log_w = gauss_hermite(n)
        log_w = log_w - 0.5 * np.log(2.0 * np.pi)
        grids = np.meshgrid(*([x] * dims), indexing="ij")
        weights = np.meshgrid(*([log_w] * dims), indexing="ij")
        return cls(np.stack([g.ravel() for g in grids], axis=1), sum(w.ravel() for w in weights))


@dataclass(frozen=True)
class LensingEvaluation:
    """ln L [nat] over the flattened grid (n_grid, n_objects) of :meth:`LensingLikelihood.evaluate`, its objects
    (the clusters, or one ``all`` when a shared nuisance couples them), the Gauss–Hermite nodes per cluster dimension
    and the shared dimension's node step, and the node rule's last change in the summed ln L [nat] (its numerical
    error; 0 without an integral)."""

    values: np.ndarray
    objects: tuple[str, ...]
    nodes: int
    shared_step: float | None
    quadrature_error: float
    settled: bool


@dataclass(frozen=True)
class LensingLikelihood:
    """ln L per cluster of the lensing masses at the points of :func:`pack_lensing` (clusters in its order), under the
    named :class:`~sigcube.stats.lensing.ClusterSystematics`."""

    names: tuple[str, ...]
    offsets: np.ndarray
    m_bar: np.ndarray
    v_bar: np.ndarray
    normals: tuple[MultivariateNormal, ...]
    systematics: ClusterSystematics
    inputs: dict[str, np.ndarray]
    e_log_m_bar: np.ndarray

    @property
    def errors(self) -> str:
        return self.systematics.errors

    @property
    def marginalises(self) -> bool:
        """Whether ln L needs the kernel at shifted baryons or path lengths (:meth:`evaluate`), not only V_pred."""
        return self.systematics.marginalises

    def _by_cluster(self, m_pred: np.ndarray) -> np.ndarray:
        """ln L [nat] (..., n_clusters) of predicted lensing masses (..., n_points)."""
        return np.stack([mvn.log_likelihood(m_pred[..., a:b]) for mvn, a, b in
                         zip(self.normals, self.offsets[:-1], self.offsets[1:])], axis=-1)

    def _lensed(self, sigma: np.ndarray) -> np.ndarray:
        """What lensing sees of Σ·M_bar, per unit M_bar: Σ, or Σ·M_lens/M_dyn with the slip."""
        return sigma * lensing_mass_ratio(sigma) if self.systematics.slip else sigma

    def log_likelihood(self, v_pred: np.ndarray) -> np.ndarray:
        """ln L [nat] (..., n_clusters) of V_pred (..., n_points) at the catalogue M_bar: M_pred = M_bar·Σ (times
        the slip's M_lens/M_dyn when it is on), Σ = (V_pred/V_bar)²."""
        if self.marginalises:
            raise LensingError("this lensing likelihood integrates nuisance parameters: evaluate it with the kernel "
                               "(LensingLikelihood.evaluate), not from V_pred at the catalogue baryons")
        return self._by_cluster(self.m_bar * self._lensed((np.asarray(v_pred, dtype=float) / self.v_bar) ** 2))

    def evaluate(self, kernel: Kernel, params: Mapping[str, Any], grid: Mapping[str, np.ndarray]) -> LensingEvaluation:
        """ln L over grid points (each ``grid`` array (n_grid,), the other parameters ``params``), every nuisance of
        the systematics integrated by Gauss–Hermite quadrature at the node rule's count (or the ``nodes`` option), a
        shared shift on a grid whose step halves with each rung of the rule."""
        s = self.systematics
        if s.path_length != "fixed" or s.path_scatter_dex > 0:
            if "L" in grid:
                raise SpecError("path_length = 'diameter' or a path_scatter_dex sets L per cluster; L cannot also be "
                                "a grid axis")
            if "L" not in {p.name for p in kernel.parameters}:
                raise SpecError(f"path_length / path_scatter_dex: kernel {kernel.name!r} has no path length L")
        shared = s.shared
        if not (s.cluster_dims or shared):
            return LensingEvaluation(self._at_nodes(kernel, params, grid, 1, None), self._objects(), 0, None, 0.0,
                                     True)
        step = None if shared is None else (shared.support[1] - shared.support[0]) / SHARED_STEPS
        n = s.nodes or FIRST_NODES
        last = self._at_nodes(kernel, params, grid, n, step)
        while True:
            finer = None if step is None else step / 2
            nxt = self._at_nodes(kernel, params, grid, n + 2, finer)
            total = nxt.sum(axis=-1)
            scored = total >= np.max(total) - SCORED
            change = float(np.max(np.abs(total - last.sum(axis=-1))[scored]))
            done = change < NODE_TOLERANCE
            if s.nodes or done or n + 4 > MAX_NODES:
                keep = s.nodes is not None
                return LensingEvaluation(last if keep else nxt, self._objects(), n if keep else n + 2,
                                         step if keep else finer, change, done)
            n, step, last = n + 2, finer, nxt

    def check(self, kernel: Kernel, params: Mapping[str, Any]) -> None:
        """Refuse, before any run, a path length the kernel's bounds exclude at the farthest node the node rule can
        reach (the kernel's one-line error): L·10^(±z_max·σ_L), or 2·r times that at the smallest and largest r."""
        s = self.systematics
        if s.path_length == "fixed" and s.path_scatter_dex == 0:
            return
        from sigcube.compute.quadrature import gauss_hermite

        z_max = float(np.max(gauss_hermite(s.nodes or MAX_NODES)[0])) if s.path_scatter_dex > 0 else 0.0
        base = (2.0 * np.array([self.inputs["r"].min(), self.inputs["r"].max()]) if s.path_length == "diameter"
                else np.array([kernel.resolve(params)["L"]]))
        spread = 10.0 ** (z_max * s.path_scatter_dex)
        try:
            kernel.resolve({**params, "L": np.concatenate([base / spread, base * spread])})
        except SigcubeError as exc:
            raise SpecError(f"path_length = {s.path_length!r}, path_scatter_dex = {s.path_scatter_dex:g}: at the node "
                            f"rule's farthest node (z = ±{z_max:.2f}) {exc}; choose a smaller scatter") from None

    def _objects(self) -> tuple[str, ...]:
        return ("all",) if self.systematics.shared else self.names

    def _at_nodes(self, kernel: Kernel, params: Mapping[str, Any], grid: Mapping[str, np.ndarray], n: int,
                  step: float | None) -> np.ndarray:
        """ln L (n_grid, n_objects) at ``n`` Gauss–Hermite nodes per cluster dimension and, with a shared shift
        (:class:`~sigcube.stats.lensing.SharedShift`), its values s every ``step`` over its support: there the summed
        ln L(s) (smooth in s, however narrow exp of it is) is a cubic spline through those values, and ∫ L(s) p(s) ds
        a trapezoid sum over :data:`SHARED_REFINE` points per step."""
        s = self.systematics
        shared = s.shared
        per_cluster = Nodes.of(len(s.cluster_dims), n)
        if shared is None:
            shifts = np.zeros(1)
        else:
            lo, hi = shared.support
            shifts = np.linspace(lo, hi, int(round((hi - lo) / step)) + 1)
        n_grid = len(next(iter(grid.values())))
        fixed_length = kernel.resolve(params).get("L")
        by_shift = np.empty((len(shifts), n_grid, len(self.names)))
        for i, shift in enumerate(shifts):
            inputs, lens, scale, length = self._replicated(per_cluster, float(shift), fixed_length)
            per_point = dict(params) if length is None else {**params, "L": length}
            block = max(1, BATCH // len(lens))
            for a in range(0, n_grid, block):
                values = {k: np.asarray(v[a:a + block], dtype=float)[:, None] for k, v in grid.items()}
                resolved = kernel.resolve({**per_point, **values})
                v_pred = kernel.func(kernel.check_points(inputs, resolved), **resolved)
                m_pred = (scale * self.m_bar[lens]) * self._lensed((v_pred / inputs["v_bar"]) ** 2)
                ll = self._by_cluster(m_pred.reshape(m_pred.shape[0], len(per_cluster.log_w), -1))
                by_shift[i, a:a + block] = logsumexp(ll + per_cluster.log_w[None, :, None], axis=1)
        if shared is None:
            return by_shift[0]
        fine = np.linspace(shifts[0], shifts[-1], (len(shifts) - 1) * SHARED_REFINE + 1)
        total = CubicSpline(shifts, by_shift.sum(axis=-1), axis=0)(fine)
        log_w = shared.log_density(fine) + np.log(fine[1] - fine[0])
        log_w[[0, -1]] += np.log(0.5)  # trapezoid ends
        return logsumexp(total + log_w[:, None], axis=0)[:, None]

    def _replicated(self, nodes: Nodes, shift: float, fixed_length: float | None
                    ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray | None]:
        """The points repeated once per node (node-major): their kernel inputs with M_bar scaled, the index of each
        copy's original point, the M_bar scale 10^δ (δ the per-cluster nuisances' shift plus the shared ``shift``)
        and the path length L per copy (None: the parameter's ``fixed_length`` for every copy)."""
        s = self.systematics
        n_points = len(self.m_bar)
        z = {d: np.repeat(nodes.z[:, j], n_points) for j, d in enumerate(s.cluster_dims)}
        lens = np.tile(np.arange(n_points), len(nodes.log_w))
        delta = np.full(len(lens), shift)
        if "tian" in z:
            delta = delta + z["tian"] * self.e_log_m_bar[lens]
        if "gas" in z:
            delta = delta + z["gas"] * s.gas_dex
        if "missing" in z:
            delta = delta + np.log10(1.0 + s.missing_baryons * ndtr(z["missing"]))
        scale = 10.0 ** delta
        inputs = {k: v[lens] for k, v in self.inputs.items()}
        inputs["v_bar"] = inputs["v_bar"] * np.sqrt(scale)
        inputs["g_N"] = inputs["g_N"] * scale
        length = None
        if s.path_length != "fixed" or "path" in z:
            spread = 10.0 ** (z["path"] * s.path_scatter_dex) if "path" in z else np.ones(len(lens))
            length = spread * (2.0 * inputs["r"] if s.path_length == "diameter" else fixed_length)
        return inputs, lens, scale, length

    def choices(self) -> dict[str, object]:
        """Every named choice of the likelihood, defaults included."""
        return self.systematics.as_dict()

    def sources(self) -> dict[str, str]:
        """Where each systematic in effect is sized from, or why an option is a model choice."""
        return self.systematics.sources()

    def model_options(self) -> tuple[str, ...]:
        """The options that are choices of the model, not systematics of the data."""
        return MODEL_OPTIONS

    def cited_size(self, option: str) -> float:
        """The cited size of a size option under these choices' scopes (:func:`~sigcube.stats.lensing.cited_size`)."""
        scope = self.systematics.gas_scope
        try:
            return cited_size(option, scope)
        except LensingError as exc:
            raise SpecError(str(exc)) from None

    def describe(self) -> str:
        return (f"{self.systematics.describe()}; M_pred = Σ(g_N)·M_bar, i.e. M_bar·(V_pred/V_bar)² at each radius; "
                f"{LENSING_BARYONS}")


def lensing_likelihood(cube: xr.Dataset, cuts: SampleCuts | None = None,
                       options: dict[str, object] | None = None) -> LensingLikelihood:
    """The lensing likelihood of the clusters cube under the systematics ``options``
    (:class:`~sigcube.stats.lensing.ClusterSystematics`: errors, baryons, gas_dex, gas_scope, missing_baryons,
    missing_scope, slip, path_length, path_scatter_dex, nodes)."""
    try:
        systematics = ClusterSystematics.of(options)
    except LensingError as exc:
        raise SpecError(str(exc)) from None
    points = pack_lensing(cube, cuts)
    pts = lensing_points(cube)
    normals = lensing_normals(cube, systematics.errors)
    return LensingLikelihood(tuple(str(n) for n in points.galaxy), points.offsets, pts["m_bar"],
                             points.inputs["v_bar"], tuple(normals[str(n)] for n in points.galaxy), systematics,
                             dict(points.inputs), pts["e_log_m_bar"])
