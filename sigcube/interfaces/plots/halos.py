"""The ΛCDM relations the halos' priors rest on (:mod:`sigcube.model.lcdm`): the stellar-to-halo mass relation and
the concentration–mass relation, each median with its ±1σ and ±2σ scatter, over the halo masses SPARC spans."""

from __future__ import annotations

import holoviews as hv
import numpy as np

from sigcube.interfaces.plots.base import COLORS, Plot, framed, layout, styled
from sigcube.interfaces.plots.labels import Label
from sigcube.interfaces.plots.registry import figure
from sigcube.model.lcdm import DUTTON_MACCIO_2014, MOSTER_2013

MASS = Label("log10 M200 [M☉]", r"$\log_{10} M_{200}\ [M_\odot]$")


def _band(x: np.ndarray, y: np.ndarray, sigma: float, label: str, color: str) -> list[hv.Element]:
    """The median curve with its ±1σ and ±2σ bands."""
    out = [styled(hv.Area((x, y - k * sigma, y + k * sigma), vdims=["lo", "hi"], label=f"{label} ±{k}σ"),
                  color=color, alpha=alpha) for k, alpha in ((2, 0.15), (1, 0.3))]
    return out + [styled(hv.Curve((x, y), label=label), color=color, width=2)]


@figure("lcdm-relations", source="code", reads="the relations of sigcube.model.lcdm")
def relations(log10_m200: tuple[float, float] = (9.0, 13.5), title: str = "") -> Plot:
    """log10 M★ against log10 M200 (Moster, Naab & White 2013) and log10 c200 against log10 M200 (Dutton & Macciò
    2014), each with the scatter its ΛCDM prior uses.

    ``log10_m200``: the range of log10 M200 [M☉] drawn (two numbers)."""
    m = np.linspace(*log10_m200, 200)
    stellar = framed(hv.Overlay(_band(m, np.asarray(MOSTER_2013.log10_mstar(m)), MOSTER_2013.sigma_dex,
                                      "Moster+2013", COLORS[1])),
                     title="stellar-to-halo mass", xlabel=MASS, ylabel=Label("log10 M★ [M☉]", r"$\log_{10} M_\star\ [M_\odot]$"),
                     width=460, height=340, legend="top_left")
    concentration = framed(hv.Overlay(_band(m, np.asarray(DUTTON_MACCIO_2014.log10_c(m)), DUTTON_MACCIO_2014.sigma_dex,
                                            "Dutton & Macciò 2014", COLORS[0])),
                           title="concentration–mass", xlabel=MASS,
                           ylabel=Label("log10 c200", r"$\log_{10} c_{200}$"), width=460, height=340,
                           legend="top_right")
    return Plot(layout([stellar, concentration], cols=2, title=title),
                f"The ΛCDM priors' relations against log10 M200 from {log10_m200[0]:g} to {log10_m200[1]:g}: the "
                f"stellar-to-halo mass relation of Moster, Naab & White 2013 ({MOSTER_2013.sigma_dex:g} dex scatter "
                f"in M★) and the concentration–mass relation of Dutton & Macciò 2014 ({DUTTON_MACCIO_2014.sigma_dex:g}"
                " dex), each with ±1σ and ±2σ bands")
