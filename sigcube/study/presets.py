"""Named SPARC presets: one convention each, and the seed figures it is compared with.

The seeds label several different computations "canonical" (MODEL.md §5). A preset names its
kernel (``sigma``), fixes its switches and the g† convention of one computation, and names — by
key in :mod:`sigcube.study.published`, never by typed number — the figures its results are set against.
A figure is compared with a report quantity: ``n_galaxies`` or ``<kernel>.<metric>`` (a global
metric of :mod:`sigcube.model.metrics` for the preset's kernel or the :data:`BASELINE`). Whether a preset
reproduces a figure is decided by the report from the computed value, never declared here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sigcube.constants import G_DAGGER_CONVENTIONS
from sigcube.errors import SigcubeError
from sigcube.model.metrics import metric_names
from sigcube.study.published import figure

BASELINE = "mond"
"""The kernel every preset is set beside; each one's win rate is against the other."""


def split_quantity(quantity: str) -> tuple[str, str] | None:
    """``"sigma.mean_rms"`` → (kernel, metric); None for a sample quantity such as ``n_galaxies``."""
    kernel, dot, metric = quantity.partition(".")
    return (kernel, metric) if dot else None


_MOND = {
    "mond.mean_rms": ("sparc.canonical.rms_mond",),
    "mond.rar_rms_accel": ("sparc.canonical.rar_scatter_mond",),
    "mond.rar_scatter_velocity": ("sparc.canonical.rar_scatter_mond",),
}
"""MOND's SPARC figures: the same MOND kernel runs beside every preset."""

_CANONICAL = {
    "n_galaxies": ("sparc.sample.n_galaxies",),
    "sigma.mean_rms": ("sparc.canonical.rms_sigma",),
    "sigma.win_rate": ("sparc.canonical.win_rate",),
    "mond.win_rate": ("sparc.canonical.win_rate_mond",),
    # The printed 0.097 against the paper's own definition (§3.5) and against the velocity std.
    "sigma.rar_rms_accel": ("sparc.canonical.rar_scatter",),
    "sigma.rar_scatter_velocity": ("sparc.canonical.rar_scatter",),
    **_MOND,
}
"""The "canonical" SPARC figures of paper §4.1 and SI §5."""


@dataclass(frozen=True)
class Preset:
    """A named set of kernel parameters and the figures (keys) its results are compared with.

    ``what`` names the computation in a sentence ("the formula as the paper states it");
    ``figures`` maps a report quantity (``n_galaxies`` or ``<kernel>.<metric>``) to the keys of
    the figures it is set against, seed figures first.
    """

    name: str
    what: str
    description: str
    params: dict[str, object]
    g_dagger: str
    figures: dict[str, tuple[str, ...]] = field(default_factory=dict)
    kernel: str = "sigma"

    def __post_init__(self) -> None:
        for quantity, keys in self.figures.items():
            parts = split_quantity(quantity)
            known = quantity == "n_galaxies" if parts is None else (
                parts[0] in (self.kernel, BASELINE) and parts[1] in metric_names("global"))
            if not known:
                raise ValueError(f"preset {self.name!r}: unknown quantity {quantity!r}")
            for key in keys:
                figure(key)  # a KeyError here is a typo in this module

    def kernel_params(self) -> dict[str, object]:
        """The kernel's parameters, g† included."""
        return {**self.params, "g_dagger": G_DAGGER_CONVENTIONS[self.g_dagger]}


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
                "sigma.mean_rms": ("sparc.canonical.rms_sigma", "sparc.author_repo.paper.rms_sigma"),
                "sigma.win_rate": ("sparc.canonical.win_rate", "sparc.author_repo.paper.win_rate"),
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
                "sigma.mean_rms": ("sensitivity.si13_5.c_local_s20.rms", "sparc.author_repo.c_local.rms_sigma"),
                "sigma.win_rate": ("sensitivity.si13_5.c_local_s20.win_rate", "sparc.author_repo.c_local.win_rate"),
                "sigma.rar_scatter_velocity": ("sparc.author_repo.c_local.rar_scatter",),
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
                "sigma.mean_rms": ("sparc.si13_3.rms_sigma",),
                "sigma.win_rate": ("sparc.si13_3.win_rate",),
                "sigma.rar_rms_accel": ("sparc.si13_3.rar_scatter",),
                "sigma.rar_scatter_accel": ("sparc.si13_3.rar_scatter",),
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
