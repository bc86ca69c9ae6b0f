"""Goodness-of-fit metrics, each declared once (MODEL.md §5).

:data:`METRICS` is the registry: every metric a sweep, a result cube, a report, a spec or a view
names is a :class:`Metric` here — key, units (astropy string), ``long_name``, scope (``object``:
one value per galaxy/cluster; ``global``: one value for the sample), direction (``min`` or
``max`` is better) and its definition. Win rate is a fraction everywhere a machine reads it
(JSON, cubes, APIs); only human-readable tables print it in percent (``table_units``).

Three layers, as xskillscore's ``np_*`` core and labelled wrappers:

- **numpy core on packed points**: arrays whose last axis runs over the valid points of every
  object, stored contiguously, with ``offsets`` (n_objects + 1) marking where each object starts.
  Leading axes (a block of a parameter grid) are carried through. :func:`object_metrics` gives
  the per-object metrics; :func:`compute` every metric.
- **partial sums**: a global metric is an exact function of :data:`PARTIALS` — sums over objects
  and points, and per-object χ²_red for the median — so a sample split into object chunks gives
  the same result: ``finalize(combine([partials(chunk) for chunk in chunks]))``.
- **xarray wrappers** (:func:`score`, :func:`rms`, :func:`chi2`) on labelled object × ``dim``
  arrays (NaN where there is no point), any other dims broadcast.

Besides the registry: the robust RAR scatter and the points that dominate the rms
(:func:`rar_residual_summary`; a median needs every point, so it is no partial-sum metric), note 000's
per-galaxy K_needed (:func:`needed_enhancement`) and the RMS difference and Pearson correlation over galaxies
used to score its fits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

import astropy.units as u
import numpy as np
import xarray as xr

from sigcube.errors import SigcubeError
from sigcube.model.segments import counts, segment_sum


class MetricError(SigcubeError):
    """An unknown metric name, or a metric whose inputs were not given."""


# --- numpy core ---------------------------------------------------------------------------------------

class Reduction(NamedTuple):
    """What a block's evaluation reduces to on one chunk of objects, before :func:`partials`: per-object RMS and χ²
    (n_grid, n_objects), and Σx, Σx² (n_grid) of x = log10(V_obs/V_pred) over the chunk's points. Every evaluation
    path — the generic replay, a kernel's fast path — returns one."""

    rms: np.ndarray
    chi2: np.ndarray
    sum_x: np.ndarray
    sum_xx: np.ndarray


def chi2_reduced(chi2: np.ndarray, offsets: np.ndarray, n_params: int = 0) -> np.ndarray:
    """χ²/(N − n_params) per object; ``n_params`` counts per-object fitted parameters."""
    return chi2 / (counts(offsets) - n_params)


def log_moments(v_obs: np.ndarray, v_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Σx and Σx² over the points (last axis) of x = log10(V_obs/V_pred) [dex, dex²]."""
    x = np.log10(v_obs / v_pred)
    return x.sum(axis=-1), (x * x).sum(axis=-1)


def _rms(residual: np.ndarray, e_v_obs: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    return np.sqrt(segment_sum(residual**2, offsets) / counts(offsets))


def _chi2(residual: np.ndarray, e_v_obs: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    return segment_sum((residual / e_v_obs) ** 2, offsets)


def median_last_axis(x: np.ndarray) -> np.ndarray:
    """``np.median(x, axis=-1)``, the same values (NaN where a row holds one), by one partition of a copy: a third
    faster on rows of 10⁵ objects, where np.median's extra passes over the row cost more than its selection."""
    n = x.shape[-1]
    if n == 0:
        return np.full(x.shape[:-1], np.nan)
    middle = [(n - 1) // 2, n // 2]
    part = np.partition(x, sorted(set(middle)), axis=-1)
    median = 0.5 * (part[..., middle[0]] + part[..., middle[1]])
    return np.where(np.isnan(x).any(axis=-1), np.nan, median)


def _std_velocity(p: Mapping[str, np.ndarray]) -> np.ndarray:
    mean = p["sum_x"] / p["n_points"]
    return np.sqrt(np.maximum(p["sum_xx"] / p["n_points"] - mean**2, 0.0))


# --- the registry --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Partial:
    """A partial sum of a chunk of objects: ``sum`` adds chunks, ``concat`` joins them along the object axis."""

    name: str
    combine: Literal["sum", "concat"]
    definition: str


WIN_TIE = 1e-9
"""An object's RMS within this fraction of the baseline's is a tie, not a win: where the kernel is the baseline (MOND
against MOND at its own a0), two code paths computing the same curve differ only by rounding, which differs by CPU."""

PARTIALS: dict[str, Partial] = {p.name: p for p in (
    Partial("n_objects", "sum", "number of objects"),
    Partial("n_points", "sum", "number of points"),
    Partial("sum_rms", "sum", "Σ over objects of the RMS [km/s]"),
    Partial("n_wins", "sum", f"objects whose RMS is below the baseline's by more than {WIN_TIE:g} of it"),
    Partial("sum_x", "sum", "Σ over points of x = log10(V_obs/V_pred) [dex]"),
    Partial("sum_xx", "sum", "Σ over points of x² [dex²]"),
    Partial("chi2_red", "concat", "each object's χ²/N (last axis: objects)"),
)}
"""What one chunk of objects contributes to the global metrics (:func:`partials`)."""


@dataclass(frozen=True)
class Metric:
    """One metric, declared once.

    ``func`` computes it: for an ``object`` metric ``func(residual, e_v_obs, offsets)`` on packed
    points (residual = V_pred − V_obs) → (..., n_objects); for a ``global`` metric
    ``func(partials)`` from the :data:`PARTIALS` named in ``needs`` → (...).
    """

    name: str
    units: str
    long_name: str
    scope: Literal["global", "object"]
    direction: Literal["min", "max"]
    definition: str
    short: str
    """Column header of compact tables."""
    func: Callable[..., np.ndarray] = field(repr=False)
    needs: tuple[str, ...] = ()
    table_units: str | None = None
    """The unit human-readable tables print (``%`` for a fraction); default ``units``."""

    @property
    def attrs(self) -> dict[str, str]:
        """CF-style attributes of a variable holding the metric."""
        return {"units": self.units, "long_name": self.long_name}

    def scale_to(self, unit: str) -> float:
        """Factor from the metric's units to ``unit`` (``%`` turns a fraction into percent)."""
        return float(u.Unit(self.units).to(u.Unit(unit)))

    def in_table_units(self, value: float) -> float:
        """``value`` in the unit human-readable tables print."""
        return value * self.scale_to(self.table_units or self.units)

    def best_index(self, values: np.ndarray) -> int:
        """Flat index of the best finite value (largest for ``max``, smallest for ``min``)."""
        return int(np.nanargmax(values) if self.direction == "max" else np.nanargmin(values))


_RAR_X = "x = log10(V_obs/V_pred) over all points; log10(g_obs/g_pred) = 2x at the same r"

METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("mean_rms", "km / s", "mean RMS velocity residual", "global", "min",
           "plain mean over objects of each object's RMS", "RMS", lambda p: p["sum_rms"] / p["n_objects"],
           ("sum_rms", "n_objects")),
    Metric("median_chi2_red", "", "median reduced χ²", "global", "min",
           "median over objects of χ²/N (N = the object's points)", "χ²_red med",
           lambda p: median_last_axis(p["chi2_red"]), ("chi2_red",)),
    Metric("win_rate", "", "fraction of objects with RMS below the baseline's", "global", "max",
           f"fraction of objects whose RMS is below the baseline kernel's by more than {WIN_TIE:g} of it (closer is a "
           "tie)", "win",
           lambda p: p["n_wins"] / p["n_objects"], ("n_wins", "n_objects"), table_units="%"),
    Metric("rar_rms_accel", "dex", "RAR scatter √mean[log10(g_obs/g_pred)²]", "global", "min",
           "√mean[log10(g_obs/g_pred)²]: acceleration space, RMS about zero (the paper's §3.5 definition); "
           f"2·√(Σx²/n), {_RAR_X}", "§3.5 rms",
           lambda p: 2.0 * np.sqrt(p["sum_xx"] / p["n_points"]), ("sum_xx", "n_points")),
    Metric("rar_scatter_velocity", "dex", "RAR scatter std log10(V_obs/V_pred)", "global", "min",
           "std log10(V_obs/V_pred): velocity space, about the mean (reproduces the printed 0.097 dex, SI §5); "
           f"std(x), {_RAR_X}", "std vel", _std_velocity, ("sum_x", "sum_xx", "n_points")),
    Metric("rar_scatter_accel", "dex", "RAR scatter std log10(g_obs/g_pred)", "global", "min",
           "std log10(g_obs/g_pred): acceleration space, about the mean (twice the velocity std); "
           f"2·std(x), {_RAR_X}", "std acc", lambda p: 2.0 * _std_velocity(p), ("sum_x", "sum_xx", "n_points")),
    Metric("rms", "km / s", "RMS velocity residual", "object", "min",
           "√mean((V_pred − V_obs)²) over the object's points, unweighted", "RMS", _rms),
    Metric("chi2", "", "χ² with the observed velocity errors", "object", "min",
           "Σ((V_pred − V_obs)/e_V)² over the object's points", "χ²", _chi2),
)}
"""Every metric by key, global metrics first (the order of sweep specs and result cubes)."""


RAR_SCATTERS = ("rar_rms_accel", "rar_scatter_velocity", "rar_scatter_accel")
"""The three RAR scatter definitions: each metric's ``definition`` reads "formula: words (…); …"."""

RAR_ROBUST = ("1.4826·median(|y − median y|) of y = log10(g_obs/g_pred) = 2·log10(V_obs/V_pred) over all points "
              "[dex]: the normal-consistent median absolute deviation, acceleration space, about the median")
"""Definition of the robust RAR scatter printed beside the rms (:func:`rar_residual_summary`)."""


MAD_TO_SIGMA = 1.4826
"""1/Φ⁻¹(3/4): 1.4826·MAD estimates the standard deviation of a normal sample."""


def robust_scatter(y: np.ndarray) -> float:
    """1.4826·median(|y − median(y)|) of the finite values of ``y``: the normal-consistent median absolute
    deviation, which a few outlying points cannot move far (breakdown point 50 %)."""
    y = np.asarray(y, dtype=float)
    y = y[np.isfinite(y)]
    if not y.size:
        return float("nan")
    return float(MAD_TO_SIGMA * np.median(np.abs(y - np.median(y))))


def rar_residual_summary(v_obs: np.ndarray, v_pred: np.ndarray, offsets: np.ndarray, names: Sequence[str],
                         radius: np.ndarray, top: int = 5) -> dict[str, object]:
    """The RAR residuals y = log10(g_obs/g_pred) = 2·log10(V_obs/V_pred) [dex] of packed points: their rms about
    zero (:data:`METRICS` ``rar_rms_accel``), the robust scatter (:func:`robust_scatter`, about the median), and the
    ``top`` points with the largest share of Σy² — the points that dominate the rms — each with its galaxy
    (``names``, one per object), radius [kpc], y and share, and the rms without them."""
    y = 2.0 * np.log10(np.asarray(v_obs, dtype=float) / np.asarray(v_pred, dtype=float))
    galaxy = np.repeat(np.asarray(names, dtype=object), counts(np.asarray(offsets)))
    finite = np.isfinite(y)
    square = np.where(finite, y * y, 0.0)
    total = float(square.sum())
    order = np.argsort(-square, kind="stable")[:top]
    rest = finite.copy()
    rest[order] = False
    return {"rms": float(np.sqrt(total / max(int(finite.sum()), 1))), "robust": robust_scatter(y),
            "rms_without_top": float(np.sqrt(square[rest].sum() / max(int(rest.sum()), 1))),
            "top": [{"galaxy": str(galaxy[i]), "radius_kpc": float(radius[i]), "y_dex": float(y[i]),
                     "share": float(square[i] / total) if total > 0 else float("nan")} for i in order]}


def get_metric(name: str) -> Metric:
    """The metric called ``name``, or a MetricError listing the valid names."""
    try:
        return METRICS[name]
    except KeyError:
        raise MetricError(f"unknown metric {name!r}; metrics: {', '.join(METRICS)}") from None


def metric_names(scope: Literal["global", "object"] | None = None) -> tuple[str, ...]:
    """Metric keys in registry order, optionally of one scope."""
    return tuple(name for name, m in METRICS.items() if scope in (None, m.scope))


# --- packed points → metrics ---------------------------------------------------------------------------

def object_metrics(v_pred: np.ndarray, v_obs: np.ndarray, e_v_obs: np.ndarray, offsets: np.ndarray,
                   names: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """The per-object metrics (all, or ``names``) of V_pred [km/s] on packed points → (..., n_objects)."""
    residual = v_pred - v_obs
    return {name: get_metric(name).func(residual, e_v_obs, offsets) for name in names or metric_names("object")}


def partials(rms: np.ndarray, chi2: np.ndarray, offsets: np.ndarray, sum_x: np.ndarray, sum_xx: np.ndarray,
             baseline_rms: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The :data:`PARTIALS` of one chunk of objects.

    ``rms``, ``chi2`` (..., n_objects) and ``offsets`` are the chunk's; ``sum_x``, ``sum_xx`` its
    :func:`log_moments`; ``baseline_rms`` (n_objects) the baseline kernel's RMS (no ``n_wins`` without it).
    """
    out = {
        "n_objects": np.int64(len(offsets) - 1),
        "n_points": np.int64(offsets[-1] - offsets[0]),
        "sum_rms": rms.sum(axis=-1),
        "sum_x": sum_x,
        "sum_xx": sum_xx,
        "chi2_red": chi2_reduced(chi2, offsets),
    }
    if baseline_rms is not None:
        out["n_wins"] = np.sum(rms < baseline_rms * (1.0 - WIN_TIE), axis=-1)
    return out


def combine(chunks: Sequence[Mapping[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The partials of the union of disjoint object chunks (given in object order)."""
    keys = set(chunks[0])
    if any(set(c) != keys for c in chunks):
        raise MetricError(f"chunks carry different partials: {[sorted(c) for c in chunks]}")
    out = {}
    for name in keys:
        values = [c[name] for c in chunks]
        out[name] = sum(values[1:], values[0]) if PARTIALS[name].combine == "sum" else np.concatenate(values, -1)
    return out


def finalize(parts: Mapping[str, np.ndarray], names: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """Global metrics from partials: ``names``, or every global metric whose partials are present."""
    wanted = names or [n for n in metric_names("global") if set(METRICS[n].needs) <= set(parts)]
    out = {}
    for name in wanted:
        metric = get_metric(name)
        missing = set(metric.needs) - set(parts)
        if metric.scope != "global" or missing:
            raise MetricError(f"{name!r} is not a global metric computable from partials {sorted(parts)}")
        out[name] = metric.func(parts)
    return out


def compute(v_pred: np.ndarray, v_obs: np.ndarray, e_v_obs: np.ndarray, offsets: np.ndarray,
            baseline_rms: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Every metric of V_pred [km/s] on packed points (``win_rate`` only with ``baseline_rms``)."""
    per_object = object_metrics(v_pred, v_obs, e_v_obs, offsets)
    parts = partials(per_object["rms"], per_object["chi2"], offsets, *log_moments(v_obs, v_pred), baseline_rms)
    return {**finalize(parts), **per_object}


# --- xarray wrappers -----------------------------------------------------------------------------------

def score(v_pred: xr.DataArray, v_obs: xr.DataArray, e_v_obs: xr.DataArray, *, dim: str = "radius",
          object_dim: str = "galaxy", baseline_rms: xr.DataArray | None = None,
          names: Sequence[str] | None = None) -> xr.Dataset:
    """Metrics of labelled V_pred [km/s] against V_obs ± e_V over ``dim``, per ``object_dim`` and globally.

    ``v_obs`` and ``e_v_obs`` span (``object_dim``, ``dim``); the objects common to all inputs are
    scored (inner join); a point counts where V_obs, e_V and V_pred are finite (NaN pads curves of
    different lengths). Every other dim of ``v_pred`` (parameters) broadcasts, lazily when it is a
    Dask array. ``baseline_rms`` (``object_dim``) adds ``win_rate``.

    >>> score(sigcube.predict(cube, "sigma"), cube.v_obs, cube.e_v_obs).mean_rms   # doctest: +SKIP
    """
    names = tuple(names or [n for n in METRICS if n != "win_rate" or baseline_rms is not None])
    for name in names:
        get_metric(name)
    for arg, arr in (("v_obs", v_obs), ("e_v_obs", e_v_obs)):
        if set(arr.dims) != {object_dim, dim}:
            raise MetricError(f"{arg} must span exactly ({object_dim!r}, {dim!r}); it has dims {arr.dims}")
    core = [object_dim, dim]
    args = [v_pred, v_obs, e_v_obs] + ([baseline_rms] if baseline_rms is not None else [])
    outputs = xr.apply_ufunc(
        _labelled, *args, kwargs={"names": names},
        input_core_dims=[core, core, core] + [[object_dim]] * (baseline_rms is not None),
        output_core_dims=[[object_dim] if METRICS[n].scope == "object" else [] for n in names],
        join="inner", dask="parallelized", output_dtypes=[float] * len(names),
        dask_gufunc_kwargs={"allow_rechunk": True},  # each object's points must sit in one block
    )
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    return xr.Dataset({n: out.assign_attrs(METRICS[n].attrs) for n, out in zip(names, outputs)})


def rms(v_pred: xr.DataArray, v_obs: xr.DataArray, *, dim: str = "radius", object_dim: str = "galaxy") -> xr.DataArray:
    """Per-object RMS velocity residual over ``dim`` [km/s] (see :func:`score`)."""
    return score(v_pred, v_obs, xr.ones_like(v_obs), dim=dim, object_dim=object_dim, names=["rms"])["rms"]


def chi2(v_pred: xr.DataArray, v_obs: xr.DataArray, e_v_obs: xr.DataArray, *, dim: str = "radius",
         object_dim: str = "galaxy") -> xr.DataArray:
    """Per-object χ² with the observed errors over ``dim`` (see :func:`score`)."""
    return score(v_pred, v_obs, e_v_obs, dim=dim, object_dim=object_dim, names=["chi2"])["chi2"]


def _labelled(v_pred, v_obs, e_v_obs, baseline_rms=None, *, names):
    """Core of :func:`score`: (..., object, dim) arrays → packed points → metrics; empty objects give NaN."""
    v_obs, e_v_obs = (np.reshape(a, a.shape[-2:]) for a in (v_obs, e_v_obs))
    v_pred = np.broadcast_to(v_pred, v_pred.shape[:-2] + v_obs.shape)
    lead = tuple(range(v_pred.ndim - 2))
    mask = np.isfinite(v_obs) & np.isfinite(e_v_obs) & np.isfinite(v_pred).any(axis=lead)
    filled = mask.any(axis=-1)
    mask &= filled[:, None]
    offsets = np.concatenate([[0], np.cumsum(mask.sum(axis=-1)[filled])])
    base = None if baseline_rms is None else np.reshape(baseline_rms, baseline_rms.shape[-1:])[filled]
    values = compute(v_pred[..., mask], v_obs[mask], e_v_obs[mask], offsets, base)
    out = []
    for name in names:
        if METRICS[name].scope == "global":
            out.append(np.broadcast_to(values[name], v_pred.shape[:-2]).astype(float))
            continue
        full = np.full(v_pred.shape[:-1], np.nan)
        full[..., filled] = values[name]
        out.append(full)
    return tuple(out) if len(out) > 1 else out[0]


# --- note 000 -------------------------------------------------------------------------------------------

def needed_enhancement(v_obs: np.ndarray, v_bar: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Per-galaxy K_needed = mean over its points of (V_obs/V_bar)² − 1 [dimensionless] (g = g_N·(1 + K))."""
    return segment_sum((v_obs / v_bar) ** 2 - 1.0, offsets) / counts(offsets)


def rms_difference(model: np.ndarray, target: np.ndarray) -> np.ndarray:
    """√mean((model − target)²) over the last axis (e.g. galaxies), in the unit of the inputs."""
    return np.sqrt(np.mean((model - target) ** 2, axis=-1))


def pearson(model: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Pearson correlation over the last axis; NaN where ``model`` is constant along it."""
    a = model - model.mean(axis=-1, keepdims=True)
    b = target - target.mean(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (a * b).sum(axis=-1) / np.sqrt((a * a).sum(axis=-1) * (b * b).sum(axis=-1))
