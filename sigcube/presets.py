"""Named SPARC presets: one convention each, and the seed figures it is compared with.

The seeds label several different computations "canonical" (MODEL.md §5). A preset fixes the
``sigma`` kernel switches and the g† convention of one computation, and names — by key in
:mod:`sigcube.published`, never by typed number — the figures its results are set against.
Whether a preset reproduces a figure is decided by the report from the computed value, never
declared here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sigcube.constants import G_DAGGER_CONVENTIONS
from sigcube.errors import SigcubeError
from sigcube.published import figure

QUANTITIES = (
    "n_galaxies", "rms_sigma", "rms_mond", "win_fraction", "win_fraction_mond",
    "rar_rms_accel_sigma", "rar_scatter_velocity_sigma", "rar_scatter_accel_sigma",
    "rar_rms_accel_mond", "rar_scatter_velocity_mond", "rar_scatter_accel_mond",
)
"""Report quantities a figure can be compared with (``sigcube.reports.sparc``)."""

FRACTIONS = frozenset({"win_fraction", "win_fraction_mond"})
"""Quantities computed as fractions and printed in the seeds as percentages."""

_MOND = {
    "rms_mond": ("sparc.canonical.rms_mond",),
    "rar_rms_accel_mond": ("sparc.canonical.rar_scatter_mond",),
    "rar_scatter_velocity_mond": ("sparc.canonical.rar_scatter_mond",),
}
"""MOND's SPARC figures: the same MOND kernel runs beside every preset."""

_CANONICAL = {
    "n_galaxies": ("sparc.sample.n_galaxies",),
    "rms_sigma": ("sparc.canonical.rms_sigma",),
    "win_fraction": ("sparc.canonical.win_rate",),
    "win_fraction_mond": ("sparc.canonical.win_rate_mond",),
    # The printed 0.097 against the paper's own definition (§3.5) and against the velocity std.
    "rar_rms_accel_sigma": ("sparc.canonical.rar_scatter",),
    "rar_scatter_velocity_sigma": ("sparc.canonical.rar_scatter",),
    **_MOND,
}
"""The "canonical" SPARC figures of paper §4.1 and SI §5."""


@dataclass(frozen=True)
class Preset:
    """A named set of ``sigma`` kernel parameters and the figures (keys) its results are compared with.

    ``what`` names the computation in a sentence ("the formula as the paper states it");
    ``figures`` maps a report quantity (:data:`QUANTITIES`) to the keys of the figures it is
    set against, seed figures first.
    """

    name: str
    what: str
    description: str
    sigma_params: dict[str, object]
    g_dagger: str
    figures: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for quantity, keys in self.figures.items():
            if quantity not in QUANTITIES:
                raise ValueError(f"preset {self.name!r}: unknown quantity {quantity!r}")
            for key in keys:
                figure(key)  # a KeyError here is a typo in this module

    def kernel_params(self) -> dict[str, object]:
        """The ``sigma`` kernel parameters, g† included."""
        return {**self.sigma_params, "g_dagger": G_DAGGER_CONVENTIONS[self.g_dagger]}


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "paper",
            "the formula as the paper states it",
            "W = r/(ξ+r), ξ = R_d/(2π), A = A0, R_d = R[N//3], g† = cH0/(4√π) with astropy constants",
            {"window": "linear", "rd_source": "third", "amplitude_mode": "unified"},
            g_dagger="astropy",
            figures={
                **_CANONICAL,
                "rms_sigma": ("sparc.canonical.rms_sigma", "sparc.author_repo.paper.rms_sigma"),
                "win_fraction": ("sparc.canonical.win_rate", "sparc.author_repo.paper.win_rate"),
            },
        ),
        Preset(
            "bulge-amplitude",
            "the scripts' earlier bulge-fraction amplitude",
            "A = A0·[1 − D + D(L/L0)^n] with D = per-galaxy bulge fraction ΣV_bul²/Σ(V_disk²+V_bul²+V_gas²) "
            "and L = 0.3·R_d; otherwise as paper; g† from the scripts' rounded constants",
            {"window": "linear", "rd_source": "third", "amplitude_mode": "bulge_fraction", "L_per_Rd": 0.3},
            g_dagger="script",
            figures=dict(_CANONICAL),
        ),
        Preset(
            "c-local",
            "the direct C(r) formulation with σ = 20 km/s",
            "W replaced by C = v²/(v²+σ²) of the predicted v, σ = 20 km/s, fixed-point iteration "
            "(R_d unused); g† from the scripts' rounded constants",
            {"window": "c_local", "sigma_c": 20.0, "amplitude_mode": "unified"},
            g_dagger="script",
            figures={
                "n_galaxies": ("sparc.sample.n_galaxies",),
                "rms_sigma": ("sensitivity.si13_5.c_local_s20.rms", "sparc.author_repo.c_local.rms_sigma"),
                "win_fraction": ("sensitivity.si13_5.c_local_s20.win_rate", "sparc.author_repo.c_local.win_rate"),
                "rar_scatter_velocity_sigma": ("sparc.author_repo.c_local.rar_scatter",),
                **_MOND,
            },
        ),
        Preset(
            "vdisk-peak",
            "W(r) with R_d at the |V_disk| peak",
            "W = r/(ξ+r), ξ = R_d/(2π) with R_d = radius of the |V_disk| peak; g† from the scripts' rounded "
            "constants",
            {"window": "linear", "rd_source": "vdisk_peak", "amplitude_mode": "unified"},
            g_dagger="script",
            figures={
                "n_galaxies": ("sparc.sample.n_galaxies",),
                "rms_sigma": ("sparc.si13_3.rms_sigma",),
                "win_fraction": ("sparc.si13_3.win_rate",),
                "rar_rms_accel_sigma": ("sparc.si13_3.rar_scatter",),
                "rar_scatter_accel_sigma": ("sparc.si13_3.rar_scatter",),
                **_MOND,
            },
        ),
    )
}

DEFAULT_PRESET = "paper"


def get_preset(name: str) -> Preset:
    """The preset called ``name``, or an error listing the valid names."""
    try:
        return PRESETS[name]
    except KeyError:
        raise SigcubeError(f"unknown preset {name!r}; presets: {', '.join(PRESETS)}") from None
