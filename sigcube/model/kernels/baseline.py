"""Baseline kernels: Newtonian gravity and MOND with three interpolating functions.

MOND: g = g_N·ν(g_N/a0), V = V_bar·√ν, a0 = 1.2e-10 m/s² (MODEL.md §3). ν → 1 for
x = g_N/a0 ≫ 1 and ν → 1/√x for x ≪ 1 for each of

- ``mond``          ν(x) = 1/(1 − e^{−√x})        (McGaugh+2016 RAR form; the comparison baseline)
- ``mond_simple``   ν(x) = ½ + √(¼ + 1/x)          (μ(y) = y/(1+y))
- ``mond_standard`` ν(x) = √(½ + ½·√(1 + 4/x²))   (μ(y) = y/√(1+y²) inverted: y·μ(y) = x)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from sigcube.constants import A0_MOND
from sigcube.model.kernels.registry import Kernel, Parameter, kernel

BASELINE = "mond"
"""The kernel others are compared with by default (win rates, the SPARC presets): MOND, ν of McGaugh+2016."""


@kernel(summary="Newtonian gravity of the baryons alone (Σ = 1).", source="MODEL.md §3", formula="V = V_bar",
        inputs=("v_bar",))
def newtonian(points: Mapping[str, np.ndarray]) -> np.ndarray:
    return np.asarray(points["v_bar"], dtype=float)


def mond_nu(x: np.ndarray) -> np.ndarray:
    """MOND interpolating function ν(x) = 1/(1 − e^{−√x}) (McGaugh+2016 RAR form)."""
    return 1.0 / (-np.expm1(-np.sqrt(x)))


def mond_nu_simple(x: np.ndarray) -> np.ndarray:
    """ν(x) = ½ + √(¼ + 1/x), the inverse of the "simple" μ(y) = y/(1+y)."""
    return 0.5 + np.sqrt(0.25 + 1.0 / x)


def mond_nu_standard(x: np.ndarray) -> np.ndarray:
    """ν(x) = √(½ + ½·√(1 + 4/x²)), the inverse of the "standard" μ(y) = y/√(1+y²)."""
    return np.sqrt(0.5 + 0.5 * np.sqrt(1.0 + 4.0 / x**2))


A0_PARAMETER = Parameter("a0", A0_MOND, "m / s2", (1e-12, 1e-8), description="MOND acceleration scale")


def _register_mond(name: str, nu: Callable[[np.ndarray], np.ndarray], summary: str, nu_text: str,
                   source: str) -> Kernel:
    """One MOND kernel V = V_bar·√ν(g_N/a0) with the interpolating function ``nu``."""
    def mond(points: Mapping[str, np.ndarray], *, a0) -> np.ndarray:
        return points["v_bar"] * np.sqrt(nu(points["g_N"] / a0))

    return kernel(name=name, summary=summary, source=source, formula=f"g = g_N·ν(g_N/a0),  {nu_text},  V = V_bar·√ν",
                  inputs=("v_bar", "g_N"), parameters=(A0_PARAMETER,), amplitude="a0")(mond)


mond = _register_mond("mond", mond_nu, "MOND with the RAR interpolating function ν(x) = 1/(1 − e^−√x).",
                      "ν(x) = 1/(1 − exp(−√x))", "MODEL.md §3 (comparison baseline)")
mond_simple = _register_mond("mond_simple", mond_nu_simple, "MOND with the simple interpolating function.",
                             "ν(x) = ½ + √(¼ + 1/x)", "MODEL.md §3 (MOND family)")
mond_standard = _register_mond("mond_standard", mond_nu_standard, "MOND with the standard interpolating function.",
                               "ν(x) = √(½ + ½·√(1 + 4/x²))  [μ(y) = y/√(1+y²)]",
                               "MODEL.md §3 (MOND family)")
