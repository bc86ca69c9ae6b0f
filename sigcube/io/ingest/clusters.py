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
from dataclasses import dataclass
from pathlib import Path

import astropy.units as u
import numpy as np
import xarray as xr

from sigcube.constants import GM_SUN, KM_S, KPC_M
from sigcube.conventions import SampleCuts
from sigcube.errors import DataSourceError, ParseError, SpecError
from sigcube.io.ingest.sources import DatasetFiles, fetch_dataset
from sigcube.io.ingest.text import csv_rows, parse_cell, parse_number, whitespace_rows
from sigcube.io.layouts import CLUSTERS
from sigcube.io.rotation_curves import require_default_cuts
from sigcube.io.schema import dataset_attrs, label
from sigcube.model.points import PointSet, velocity_points
from sigcube.stats.lensing import ERROR_MODELS, MultivariateNormal, describe, lensing_covariance

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



LENSING_VARIABLES = ("cluster", "rar_n", "rar_r", "rar_log_g_bar", "lens_n", "lens_r", "lens_M", "lens_M_stat_err",
                     "lens_M_syst_err_up", "lens_M_syst_err_down", "lens_M_corr")
"""The variables :func:`lensing_points`, :func:`pack_lensing` and :func:`lensing_likelihood` read."""
LENSING_BARYONS = ("M_bar(<r) = g_bar·r²/G from Tian+2020 (X-ray gas + BCG), log-log interpolated between Tian's "
                   "radii, never extrapolated; the summary table's M_b is a total mass (gas extrapolated to large "
                   "radii), not an enclosed mass, so it is not used here")
"""The baryonic input of every cluster lensing prediction, in words."""


def lensing_points(cube: xr.Dataset) -> dict[str, np.ndarray]:
    """The Mistele+2025 lensing radii inside each cluster's Tian+2020 range, with M_bar(<r) (:data:`LENSING_BARYONS`):
    ``cluster``, ``r`` [kpc], ``m_bar``, ``m_lens`` [M☉] and ``index`` (the bin's row along its profile)."""
    rows: dict[str, list] = {k: [] for k in ("cluster", "r", "m_bar", "m_lens", "index")}
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
class LensingLikelihood:
    """ln L per cluster of predicted velocities at the points of :func:`pack_lensing` (clusters in its order)."""

    names: tuple[str, ...]
    offsets: np.ndarray
    m_bar: np.ndarray
    v_bar: np.ndarray
    normals: tuple[MultivariateNormal, ...]
    errors: str

    def log_likelihood(self, v_pred: np.ndarray) -> np.ndarray:
        """ln L [nat] (..., n_clusters) of V_pred (..., n_points): M_pred = M_bar·(V_pred/V_bar)²."""
        m_pred = self.m_bar * (np.asarray(v_pred, dtype=float) / self.v_bar) ** 2
        return np.stack([mvn.log_likelihood(m_pred[..., a:b]) for mvn, a, b in
                         zip(self.normals, self.offsets[:-1], self.offsets[1:])], axis=-1)

    def describe(self) -> str:
        return (f"{describe(self.errors)}; M_pred = Σ(g_N)·M_bar, i.e. M_bar·(V_pred/V_bar)² at each radius "
                f"(no lensing slip); {LENSING_BARYONS}")


def lensing_likelihood(cube: xr.Dataset, cuts: SampleCuts | None = None,
                       options: dict[str, object] | None = None) -> LensingLikelihood:
    """The lensing likelihood of the clusters cube (``options``: ``errors`` = ``stat`` (default) or ``stat+syst``)."""
    options = dict(options or {})
    errors = options.pop("errors", "stat")
    if options:
        raise SpecError(f"unknown lensing option(s) {', '.join(map(str, options))}; the lensing likelihood takes "
                        f"errors = one of {', '.join(ERROR_MODELS)}")
    if errors not in ERROR_MODELS:
        raise SpecError(f"errors = {errors!r}; choose from {', '.join(ERROR_MODELS)}")
    points = pack_lensing(cube, cuts)
    normals = lensing_normals(cube, str(errors))
    return LensingLikelihood(tuple(str(n) for n in points.galaxy), points.offsets, lensing_points(cube)["m_bar"],
                             points.inputs["v_bar"], tuple(normals[str(n)] for n in points.galaxy), str(errors))
