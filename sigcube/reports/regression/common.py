"""What every regression test shares: the :class:`Result` row, its statuses, and the kernel helpers."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from sigcube.constants import G_SI, KM_S, KPC_M, M_SUN_KG
from sigcube.kernels import get_kernel, kernel_names
from sigcube.sample import PointSet, velocity_points

STATUSES = ("computed", "prediction-only", "data unavailable")
PREDICTION = "prediction, no data"
KINDS = ("sparc", "milkyway", "clusters", "dwarfs", "manga")
"""Dataset cubes the report reads."""
GM_SUN = G_SI * M_SUN_KG


@dataclass
class Result:
    """One regression test: what sigcube computed next to what the paper printed."""

    name: str
    status: str
    headline: str
    values: dict[str, Any]
    published: dict[str, str]
    conventions: dict[str, Any]
    note: str = ""
    n: int | None = None
    reproduced: dict[str, bool] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status {self.status!r} is not one of {STATUSES}")
        if "summary" not in self.conventions:
            raise ValueError(f"{self.name}: conventions need a one-line 'summary'")

    def as_dict(self) -> dict[str, Any]:
        return _plain(asdict(self))


def _plain(value: Any) -> Any:
    """JSON-able copy: numpy scalars → Python numbers, arrays → lists, NaN and ±inf → None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None  # strict JSON has no NaN
    return value


def _velocity(kernel: str, points: PointSet, **params: Any) -> np.ndarray:
    """V_pred [km/s] of a registered kernel on ``points``."""
    return get_kernel(kernel)(points.inputs, **params)


def _enhancement(kernel: str, points: PointSet, **params: Any) -> np.ndarray:
    """Σ = (V_pred/V_bar)² of a kernel on ``points``."""
    return (_velocity(kernel, points, **params) / points.inputs["v_bar"]) ** 2


def each_kernel(points: PointSet, evaluate: Callable[[np.ndarray], Any]) -> dict[str, Any]:
    """``evaluate(V_pred)`` for every registered kernel at its defaults.

    A kernel that needs inputs these points lack, or that fails on them, gets a string saying
    so instead of a value: one kernel cannot stop the report.
    """
    out: dict[str, Any] = {}
    for name in kernel_names():
        kernel = get_kernel(name)
        missing = [i for i in kernel.inputs if i not in points.inputs]
        if missing:
            out[name] = f"not evaluated: needs inputs {', '.join(missing)}"
            continue
        try:
            with np.errstate(all="ignore"):
                out[name] = evaluate(kernel(points.inputs))
        except Exception as exc:  # noqa: BLE001 — reported in the row, see docstring
            out[name] = f"failed: {type(exc).__name__}: {exc}"
    return out


def _point_mass_points(group: str, names: list[str], r_kpc: np.ndarray, mass_msun: np.ndarray | float,
                       r_d=0.0) -> PointSet:
    """One point per object around a point mass: V_bar = √(GM/r); V_obs set to V_bar (no data)."""
    v_bar = np.sqrt(GM_SUN * np.asarray(mass_msun) / (np.asarray(r_kpc) * KPC_M)) / KM_S
    return velocity_points(group, names, [1] * len(names), r_kpc, v_bar, np.ones_like(v_bar), v_bar, r_d)


def _log_stats(log_ratio: np.ndarray) -> dict[str, float]:
    """Median ratio 10^median(log r) and scatter std(log r) [dex] of log10 ratios."""
    return {"median_ratio": float(10 ** np.median(log_ratio)), "scatter_dex": float(np.std(log_ratio))}
