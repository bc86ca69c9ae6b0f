"""What every regression test shares: the :class:`Result` row, its statuses, and the kernel helpers."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from sigcube.constants import GM_SUN, KM_S, KPC_M
from sigcube.io.datasets import public_kinds
from sigcube.model.kernels import get_kernel, kernel_names
from sigcube.model.points import PointSet, velocity_points
from sigcube.study.published import Figure, figure

KINDS = public_kinds()
"""The dataset cubes the report reads: every kind built from public files."""

STATUSES = ("computed", "prediction-only", "data unavailable", "not computable here", "by construction")
"""``computed`` on real data; ``prediction-only`` a model value with no data to test it; ``data unavailable``
the data are not in the mirror; ``not computable here`` the test needs machinery sigcube does not have (a
cosmological simulation, a Boltzmann code); ``by construction`` the result is an assumption of the model."""
PREDICTION = "prediction, no data"
SI4A_TESTS = 16
"""Tests in the SI §4a suite; each row names the one it belongs to (``si4a``), extra rows have None."""
AUTHOR_SCRIPT = "author's repository (lrspeiser/SigmaGravity, scripts/run_regression_extended.py)"
"""Where the inputs of :data:`AUTHOR_INPUTS` come from."""
AUTHOR_G_DAGGER = "script"
"""The g† convention of the author's script (its c and H0 typed by hand): rows that recompute a figure of that script
use it."""
AUTHOR_INPUTS: dict[str, float] = {
    "wide_binary_mass_msun": 1.5,       # test_wide_binaries: M_total of the 10 kAU binary
    "udg_df2_m_star_msun": 2e8,         # test_ultra_diffuse_galaxies: DF2
    "udg_df2_r_eff_kpc": 2.2,
    "ggl_m_star_msun": 5e11,            # test_galaxy_galaxy_lensing: "typical lens galaxy"
    "ggl_r_kpc": 200.0,
    "efe_g_int": 1e-11,                 # test_external_field_effect [m/s²]
    "efe_g_ext": 1e-10,
    "structure_m_msun": 1e15,           # test_structure_formation: cluster mass and radius
    "structure_r_kpc": 1000.0,
    "bullet_m_gas_msun": 2.1e14,        # test_bullet_cluster
    "bullet_m_star_msun": 0.5e14,
    "bullet_m_lens_msun": 5.5e14,
    "bullet_r_kpc": 150.0,
    "btfr_v_flat_km_s": 200.0,          # test_tully_fisher: V_flat, the radius it sits at, the BTFR normalisation
    "btfr_r_kpc": 30.0,
    "btfr_a_tf": 47.0,                  # [M☉/(km/s)⁴], "McGaugh 2012: A_TF ≈ 47"
    "btfr_slope": 4.0,                  # "slope = 4  # Automatic in Σ-Gravity": set, not computed
}
"""Inputs of the author's regression script that the seeds do *not* print. They are used only to show where a
printed figure comes from, always labelled with :data:`AUTHOR_SCRIPT`; nothing is called published because of them."""
AUTHOR_DSPHS: dict[str, dict[str, float]] = {  # test_dwarf_spheroidals: OBS_BENCHMARKS['dwarf_spheroidals']
    "Fornax": {"m_star_msun": 2e7, "sigma_obs_km_s": 10.7, "r_half_kpc": 0.71},
    "Draco": {"m_star_msun": 2.9e5, "sigma_obs_km_s": 9.1, "r_half_kpc": 0.22},
    "Sculptor": {"m_star_msun": 2.3e6, "sigma_obs_km_s": 9.2, "r_half_kpc": 0.28},
    "Carina": {"m_star_msun": 3.8e5, "sigma_obs_km_s": 6.6, "r_half_kpc": 0.25},
}
"""The four dwarf spheroidals hard-coded in the author's script (M★, σ_obs, r_½), whose mean σ_pred/σ_obs is the
printed 0.72; labelled with :data:`AUTHOR_SCRIPT` like :data:`AUTHOR_INPUTS`."""



@dataclass
class Result:
    """One regression test: what sigcube computed next to what the paper printed."""

    name: str
    si4a: int | None
    status: str
    headline: str
    values: dict[str, Any]
    published: dict[str, str]
    conventions: dict[str, Any]
    note: str = ""
    n: int | None = None
    reproduced: dict[str, bool] = field(default_factory=dict)
    matched_by_construction: dict[str, str] = field(default_factory=dict)
    """Printed counts this row matches only because sigcube's selection was made to give them (label → how): shown
    as ``count matched by construction``, never as ✓."""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status {self.status!r} is not one of {STATUSES}")
        if "summary" not in self.conventions:
            raise ValueError(f"{self.name}: conventions need a one-line 'summary'")
        if self.si4a is not None and not 1 <= self.si4a <= SI4A_TESTS:
            raise ValueError(f"{self.name}: si4a must be a test number 1-{SI4A_TESTS} or None")

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
        missing = kernel.missing_inputs(points.inputs)
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


# --- Published figures in the rows ------------------------------------------------------------------

_LATEX_POWER = re.compile(r"\\times\s*10\^\{([−-]?\d+)\}|^10\^\{([−-]?\d+)\}")
_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789−")
_TO_SUPERSCRIPT = str.maketrans("0123456789−-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁻")


def shown(fig: Figure) -> str:
    """The printed value in plain text: LaTeX powers (``2.7 \\times 10^{-9}``) become ``2.7×10⁻⁹``."""
    def power(m: re.Match) -> str:
        exponent = (m.group(1) or m.group(2)).translate(_TO_SUPERSCRIPT)
        return ("×10" if m.group(1) else "10") + exponent
    return _LATEX_POWER.sub(power, fig.value.replace(" \\times", "\\times"))


def cite(key: str) -> str:
    """``0.987 (SI §6)``: a published figure's value, unit and the seed section that prints it."""
    fig = figure(key)
    unit = f" {fig.unit}" if fig.unit and fig.unit != "%" else ""
    return f"{shown(fig)}{unit} ({fig.citation()})"


def cited(**keys: str) -> dict[str, str]:
    """Row name → :func:`cite` of the figure ``key``: a row's ``published`` entries."""
    return {name: cite(key) for name, key in keys.items()}


@dataclass(frozen=True)
class Printed:
    """A printed number read for comparison: value, digits after the point of its mantissa, power of ten,
    and its qualifier (``<`` an upper bound, ``~`` approximate, ``""`` none)."""

    value: float
    decimals: int
    exponent: int
    qualifier: str
    mantissa: bool


def printed(key: str) -> Printed:
    """The printed number of figure ``key``, also in the forms ``<10⁻⁹``, ``1.77×10⁻⁹``, ``2.7 \\times 10^{-9}``."""
    text = shown(figure(key)).strip().rstrip("%× ")
    qualifier = text[0] if text[:1] in "<~≈" else ""
    body = text.lstrip("<~≈ ").replace(",", "")
    mantissa, times, exponent = body.partition("×10")
    if not times and body.startswith("10") and body[2:3] in "⁻⁰¹²³⁴⁵⁶⁷⁸⁹" and body[2:]:
        mantissa, exponent = "", body[2:]
    power = int(exponent.translate(_SUPERSCRIPT).replace("−", "-")) if exponent else 0
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    value = (float(mantissa.replace("−", "-")) if mantissa else 1.0) * 10.0**power
    return Printed(value, decimals, power, "~" if qualifier == "≈" else qualifier, bool(mantissa))


def agrees(key: str, computed: float, scale: float = 1.0) -> bool:
    """Does ``computed`` (×``scale``) give figure ``key`` as printed?

    An upper bound (``<10⁻⁹``) holds when the value is below it; a bare power (``~ 10⁻⁹``) when the value
    rounds to that order of magnitude; otherwise the value must round to the printed mantissa at the printed
    power of ten (1.764×10⁻⁹ does not give 1.77×10⁻⁹).
    """
    p = printed(key)
    x = float(computed) * scale
    if p.qualifier == "<":
        return x < p.value
    if not p.mantissa:
        return x > 0 and round(math.log10(x)) == p.exponent
    unit = 10.0**p.exponent
    return round(x / unit, p.decimals) == round(p.value / unit, p.decimals)
