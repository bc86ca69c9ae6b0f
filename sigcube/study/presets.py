"""The seed figures each SPARC preset (:mod:`sigcube.model.kernels.presets`) is compared with.

The seeds label several different computations "canonical" (MODEL.md §5); a preset fixes the Σ kernel's
switches and g† convention of one. Here each preset names — by key in :mod:`sigcube.study.published`, never
by typed number — the figures its results are set against.
A figure is compared with a report quantity: ``n_galaxies`` or ``<kernel>.<metric>`` (a global
metric of :mod:`sigcube.model.metrics` for the preset's kernel or the :data:`BASELINE`). Whether a preset
reproduces a figure is decided by the report from the computed value, never declared here.
"""

from __future__ import annotations

from sigcube.model.kernels.baseline import BASELINE
from sigcube.model.kernels.presets import Preset
from sigcube.model.metrics import metric_names
from sigcube.study.published import figure


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


FIGURES: dict[str, dict[str, tuple[str, ...]]] = {
    "paper": {
        **_CANONICAL,
        "sigma.mean_rms": ("sparc.canonical.rms_sigma", "sparc.author_repo.paper.rms_sigma"),
        "sigma.win_rate": ("sparc.canonical.win_rate", "sparc.author_repo.paper.win_rate"),
    },
    "bulge-amplitude": dict(_CANONICAL),
    "c-local": {
        "n_galaxies": ("sparc.sample.n_galaxies",),
        "sigma.mean_rms": ("sensitivity.si13_5.c_local_s20.rms", "sparc.author_repo.c_local.rms_sigma"),
        "sigma.win_rate": ("sensitivity.si13_5.c_local_s20.win_rate", "sparc.author_repo.c_local.win_rate"),
        "sigma.rar_scatter_velocity": ("sparc.author_repo.c_local.rar_scatter",),
        **_MOND,
    },
    "vdisk-peak": {
        "n_galaxies": ("sparc.sample.n_galaxies",),
        "sigma.mean_rms": ("sparc.si13_3.rms_sigma",),
        "sigma.win_rate": ("sparc.si13_3.win_rate",),
        "sigma.rar_rms_accel": ("sparc.si13_3.rar_scatter",),
        "sigma.rar_scatter_accel": ("sparc.si13_3.rar_scatter",),
        **_MOND,
    },
}
"""For each preset of :data:`sigcube.model.kernels.presets.PRESETS`, the report quantities (``n_galaxies`` or
``<kernel>.<metric>``) and the keys of the figures each is set against, seed figures first."""


def figures(preset: Preset) -> dict[str, tuple[str, ...]]:
    """The figures ``preset``'s results are set against (checked: every quantity known, every key printed)."""
    out = FIGURES[preset.name]
    for quantity, keys in out.items():
        parts = split_quantity(quantity)
        known = quantity == "n_galaxies" if parts is None else (
            parts[0] in (preset.kernel, BASELINE) and parts[1] in metric_names("global"))
        if not known:
            raise ValueError(f"preset {preset.name!r}: unknown quantity {quantity!r}")
        for key in keys:
            figure(key)  # a KeyError here is a typo in this module
    return out


_D_GALAXY = figure("sparc.amplitude.D_galaxy")
NOT_IN_SEEDS: dict[str, str] = {
    "bulge-amplitude": "D = each galaxy's bulge fraction and L = 0.3·R_d are the author's scripts' choices; the seeds "
                       f"give neither: {_D_GALAXY.citation()} prints D = '{_D_GALAXY.value}' (1 for clusters), i.e. "
                       "A = A0 for every galaxy",
}
"""What a preset assumes that no seed states: a figure it reproduces rests on that assumption too."""
