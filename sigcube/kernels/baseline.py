"""Baseline kernels: Newtonian gravity and MOND."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from sigcube.constants import A0_MOND
from sigcube.kernels.registry import Kernel, Parameter, register


def _newtonian(points: Mapping[str, np.ndarray]) -> np.ndarray:
    return np.asarray(points["v_bar"], dtype=float)


def mond_nu(x: np.ndarray) -> np.ndarray:
    """MOND interpolating function ν(x) = 1/(1 − e^{−√x}) (McGaugh+2016 RAR form)."""
    return 1.0 / (-np.expm1(-np.sqrt(x)))


def _mond(points: Mapping[str, np.ndarray], *, a0: float) -> np.ndarray:
    return points["v_bar"] * np.sqrt(mond_nu(points["g_N"] / a0))


newtonian = register(
    Kernel(
        name="newtonian",
        summary="Newtonian gravity of the baryons alone (Σ = 1).",
        source="MODEL.md §3",
        formula="V = V_bar",
        inputs=("v_bar",),
        parameters=(),
        func=_newtonian,
    )
)

mond = register(
    Kernel(
        name="mond",
        summary="MOND with the RAR interpolating function ν(x) = 1/(1 − e^−√x).",
        source="MODEL.md §3 (comparison baseline)",
        formula="g = g_N·ν(g_N/a0),  ν(x) = 1/(1 − exp(−√x)),  V = V_bar·√ν",
        inputs=("v_bar", "g_N"),
        parameters=(
            Parameter("a0", A0_MOND, "m / s2", (1e-12, 1e-8), description="MOND acceleration scale"),
        ),
        func=_mond,
    )
)
