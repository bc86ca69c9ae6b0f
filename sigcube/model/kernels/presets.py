"""Named parameter sets of the canonical Σ kernel: one convention each of what the seeds call "canonical".

The seeds label several different computations "canonical" (MODEL.md §5). A preset fixes the Σ kernel's
switches and the g† convention of one computation; sweeps (``preset = "paper"``), the explorer and the study
start from them. Which published figures each preset is set against is the study's business
(:mod:`sigcube.study.presets`), not the model's.
"""

from __future__ import annotations

from dataclasses import dataclass

from sigcube.constants import G_DAGGER_CONVENTIONS
from sigcube.errors import SigcubeError

KERNEL = "sigma"
"""The kernel every preset sets the parameters of."""


@dataclass(frozen=True)
class Preset:
    """A named set of parameters of :data:`KERNEL`: ``what`` names the computation in a sentence ("the formula as
    the paper states it"), ``description`` spells it out; ``g_dagger`` names a g† convention of
    :data:`sigcube.constants.G_DAGGER_CONVENTIONS`."""

    name: str
    what: str
    description: str
    params: dict[str, object]
    g_dagger: str
    kernel: str = KERNEL

    def kernel_params(self) -> dict[str, object]:
        """The kernel's parameters, g† included."""
        return {**self.params, "g_dagger": G_DAGGER_CONVENTIONS[self.g_dagger]}


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset("paper", "the formula as the paper states it",
               "W = r/(ξ+r), ξ = R_d/(2π), A = A0, R_d = R[N//3], g† = cH0/(4√π) with astropy constants",
               {"window": "linear", "rd_source": "third", "amplitude_mode": "unified"}, g_dagger="astropy"),
        Preset("bulge-amplitude", "the scripts' earlier bulge-fraction amplitude",
               "A = A0·[1 − D + D(L/L0)^n] with D = per-galaxy bulge fraction ΣV_bul²/Σ(V_disk²+V_bul²+V_gas²) "
               "and L = 0.3·R_d; otherwise as paper; g† from the scripts' rounded constants",
               {"window": "linear", "rd_source": "third", "amplitude_mode": "bulge_fraction", "L_per_Rd": 0.3},
               g_dagger="script"),
        Preset("c-local", "the direct C(r) formulation with σ = 20 km/s",
               "W replaced by C = v²/(v²+σ²) of the predicted v, σ = 20 km/s, fixed-point iteration "
               "(R_d unused); g† from the scripts' rounded constants",
               {"window": "c_local", "sigma_c": 20.0, "amplitude_mode": "unified"}, g_dagger="script"),
        Preset("vdisk-peak", "W(r) with R_d at the |V_disk| peak",
               "W = r/(ξ+r), ξ = R_d/(2π) with R_d = radius of the |V_disk| peak; g† from the scripts' rounded "
               "constants", {"window": "linear", "rd_source": "vdisk_peak", "amplitude_mode": "unified"},
               g_dagger="script"),
    )
}

DEFAULT_PRESET = "paper"


def get_preset(name: str) -> Preset:
    """The preset called ``name``, or an error listing the valid names."""
    try:
        return PRESETS[name]
    except KeyError:
        raise SigcubeError(f"unknown preset {name!r}; presets: {', '.join(PRESETS)}") from None
