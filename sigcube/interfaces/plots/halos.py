"""The ΛCDM relations the halos' priors rest on (:mod:`sigcube.model.lcdm`): the stellar-to-halo mass relation and
the concentration–mass relation, each median with its ±1σ and ±2σ scatter, over the halo masses SPARC spans; and the
relations a comparison recovered, each galaxy's fitted halo over those bands."""

from __future__ import annotations

import holoviews as hv
import numpy as np
import xarray as xr

from collections.abc import Mapping, Sequence
from typing import Any

from sigcube.interfaces.plots.base import (
    COLORS, GREY, Plot, PlotError, framed, key_panel, layout, need, numbers, report_of, styled,
)
from sigcube.interfaces.plots.labels import Label
from sigcube.interfaces.plots.registry import figure
from sigcube.model.lcdm import DUTTON_MACCIO_2014, MOSTER_2013, SHMRS

STELLAR = ("log10_M200", "log10_mstar")
CONCENTRATION = ("log10_M200_c", "log10_c200")
"""The two panels' dimensions (their own: panels of a layout that share a dimension's name share its range)."""
MASS = Label("log10 M200 [M☉]", r"$\log_{10} M_{200}\ [M_\odot]$")


def _band(x: np.ndarray, y: np.ndarray, sigma: float | np.ndarray, label: str, color: str, dims: tuple[str, str]
          ) -> list[hv.Element]:
    """The median curve with its ±1σ and ±2σ bands (``sigma`` one value, or one per x), on the dimensions ``dims`` (a
    panel's own: panels of a layout that share a dimension's name share its range)."""
    out = [styled(hv.Area((x, y - k * sigma, y + k * sigma), dims[0], [dims[1], f"{dims[1]}_hi"],
                          label=f"{label} ±{k}σ"), color=color, alpha=alpha) for k, alpha in ((2, 0.15), (1, 0.3))]
    return out + [styled(hv.Curve((x, y), dims[0], dims[1], label=label), color=color, width=2)]


@figure("lcdm-relations", source="code", reads="the relations of sigcube.model.lcdm")
def relations(log10_m200: tuple[float, float] = (9.0, 13.5), title: str = "") -> Plot:
    """log10 M★ against log10 M200 (Moster, Naab & White 2013) and log10 c200 against log10 M200 (Dutton & Macciò
    2014), each with the scatter its ΛCDM prior uses.

    ``log10_m200``: the range of log10 M200 [M☉] drawn (two numbers)."""
    m = np.linspace(*log10_m200, 200)
    stellar = framed(hv.Overlay(_band(m, np.asarray(MOSTER_2013.log10_mstar(m)), MOSTER_2013.sigma_dex,
                                      "Moster+2013", COLORS[1], STELLAR)),
                     title="stellar-to-halo mass", xlabel=MASS, ylabel=Label("log10 M★ [M☉]", r"$\log_{10} M_\star\ [M_\odot]$"),
                     width=460, height=340, legend="top_left")
    concentration = framed(hv.Overlay(_band(m, np.asarray(DUTTON_MACCIO_2014.log10_c(m)), DUTTON_MACCIO_2014.sigma_dex,
                                            "Dutton & Macciò 2014", COLORS[0], CONCENTRATION)),
                           title="concentration–mass", xlabel=MASS,
                           ylabel=Label("log10 c200", r"$\log_{10} c_{200}$"), width=460, height=340,
                           legend="top_right")
    return Plot(layout([stellar, concentration], cols=2, title=title),
                f"The ΛCDM priors' relations against log10 M200 from {log10_m200[0]:g} to {log10_m200[1]:g}: the "
                f"stellar-to-halo mass relation of Moster, Naab & White 2013 ({MOSTER_2013.sigma_dex:g} dex scatter "
                f"in M★) and the concentration–mass relation of Dutton & Macciò 2014 ({DUTTON_MACCIO_2014.sigma_dex:g}"
                " dex), each with ±1σ and ±2σ bands")


def _halo_rows(report: Any, run: str, what: str) -> dict[str, Mapping[str, Any]]:
    """The rows of a comparison's ``run`` that hold halo posteriors, by model."""
    report = report_of(report)
    if isinstance(report, Mapping) and "error_model_table" in report:  # a table of error models: the preferred one's
        report = need(report, "reports", need(report, "error_model_table", "lead", what=what), what=what)
    rows = need(report, "runs", run, what=what, of=Mapping)
    return {m: r for m, r in rows.items() if isinstance(r, Mapping) and r.get("halos")}


def _halos(report: Any, run: str, models: Sequence[str], what: str) -> dict[str, xr.Dataset]:
    """The per-galaxy halo posteriors of a comparison's ``run`` by model (``models``, or every halo model)."""
    found = {m: r["halos"] for m, r in _halo_rows(report, run, what).items()}
    if not found:
        raise PlotError(f"{what}: the {run} run holds no halo posteriors (run `sigcube report compare` with a halo "
                        "model, e.g. nfw-lcdm)")
    unknown = [m for m in models if m not in found]
    if unknown:
        raise PlotError(f"{what}: {', '.join(unknown)} not among the report's halo models ({', '.join(found)})")
    return {m: xr.Dataset.from_dict(found[m]) for m in (models or found)}


def _stellar_relations(report: Any, run: str, models: Sequence[str], what: str) -> dict[str, Any]:
    """The stellar-to-halo relations the priors of ``models`` used (:data:`~sigcube.model.lcdm.SHMRS`, by a label
    naming it and its scatter; Moster+2013 for a model with flat priors or none named), in the models' order."""
    rows = _halo_rows(report, run, what)
    out: dict[str, Any] = {}
    for m in models:
        name = str((rows[m].get("fixed") or {}).get("shmr", MOSTER_2013.name))
        relation = SHMRS.get(name)
        if relation is None:
            raise PlotError(f"{what}: {m}'s stellar-to-halo relation {name!r} is not one of {', '.join(SHMRS)}")
        scatter = ("its parameters' errors propagated" if getattr(relation, "errors", None) is not None
                   else f"{relation.sigma_dex:g} dex in M★")
        out.setdefault(f"{name} ({scatter})", relation)
    return out


def _recovered(ds: xr.Dataset, x: str, y: str, label: str, color: str, dims: tuple[str, str],
               log_y: bool = False) -> list[hv.Element]:
    """Each galaxy's median of ``y`` against its median of ``x`` with their 68 % intervals."""
    def quantiles(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        q = np.asarray(ds[name].sel(quantile=[0.16, 0.5, 0.84]).values, dtype=float)
        q = np.log10(q) if log_y and name == y else q
        return q[:, 0], q[:, 1], q[:, 2]

    (x_lo, x_mid, x_hi), (y_lo, y_mid, y_hi) = quantiles(x), quantiles(y)
    return [styled(hv.ErrorBars((x_mid, y_mid, y_mid - y_lo, y_hi - y_mid), dims[0], [dims[1], "y_lo", "y_hi"]),
                   color=color, width=1),
            styled(hv.ErrorBars((x_mid, y_mid, x_mid - x_lo, x_hi - x_mid), dims[0], [dims[1], "x_lo", "x_hi"],
                                horizontal=True), color=color, width=1),
            styled(hv.Scatter((x_mid, y_mid), dims[0], dims[1], label=label), color=color, size=5)]


@figure("halo-relations", source="report", reads="sigcube report compare --json with halo models (e.g. nfw-lcdm)")
def recovered_relations(report: Any, run: str = "nuisance", models: Sequence[str] = (), title: str = "") -> Plot:
    """The relations a comparison recovered: each galaxy's fitted halo — median and 68 % interval of log10 M★
    against log10 M200, and of log10 c200 against log10 M200 — over the ΛCDM priors' relations (the stellar-to-halo
    relation each model's prior used, with its scatter; Dutton & Macciò 2014; ±1σ and ±2σ), one colour per halo
    model, the key in a panel of its own.

    ``run``: nuisance (Υ, D, i marginalised, M★ at their mode) or catalogue; ``models``: the report's halo models
    drawn (default: all)."""
    what = "halo relations"
    halos = _halos(report, run, models, what)
    relations = _stellar_relations(report, run, list(halos), what)
    every = numbers(np.concatenate([np.asarray(ds["log10_M200"].values, dtype=float).ravel()
                                    for ds in halos.values()]), f"{what}: log10 M200")
    lo, hi = np.nanmin(every), np.nanmax(every)
    m = np.linspace(min(lo, 9.0), max(hi, 13.0), 200)
    colors = {name: GREY if k == 0 else COLORS[-1 - k] for k, name in enumerate(relations)}
    stellar = [e for name, relation in relations.items()
               for e in _band(m, np.asarray(relation.log10_mstar(m)), np.asarray(relation.scatter_dex(m)), name,
                              colors[name], STELLAR)]
    c_m = "Dutton & Macciò 2014 (c–M)"
    concentration = _band(m, np.asarray(DUTTON_MACCIO_2014.log10_c(m)), DUTTON_MACCIO_2014.sigma_dex, c_m, GREY,
                          CONCENTRATION)
    for color, (name, ds) in zip(COLORS, halos.items()):
        stellar += _recovered(ds, "log10_M200", "log10_mstar", name, color, STELLAR)
        concentration += _recovered(ds, "log10_M200", "c200", name, color, CONCENTRATION, log_y=True)
    key = key_panel([styled(hv.Curve([], label=name), color=color, width=2) for name, color in colors.items()]
                    + [styled(hv.Curve([], label=c_m), color=GREY, width=2)]
                    + [styled(hv.Scatter([], label=name), color=color, size=5) for color, name in zip(COLORS, halos)],
                    320, 380)
    panels = [framed(hv.Overlay(stellar), title="stellar-to-halo mass", xlabel=MASS,
                     ylabel=Label("log10 M★ [M☉]", r"$\log_{10} M_\star\ [M_\odot]$"), width=520, height=380,
                     legend=None),
              framed(hv.Overlay(concentration), title="concentration–mass", xlabel=MASS,
                     ylabel=Label("log10 c200", r"$\log_{10} c_{200}$"), width=520, height=380, legend=None), key]
    counts = ", ".join(f"{name} ({ds.sizes['galaxy']} galaxies)" for name, ds in halos.items())
    return Plot(layout(panels, cols=3, title=title),
                f"Each galaxy's fitted halo ({run} run; median and 68 % interval): log10 M★ and log10 c200 against "
                f"log10 M200 for {counts}, over the ΛCDM relations with ±1σ and ±2σ bands (the stellar-to-halo "
                f"relation each model's prior used: {'; '.join(relations)}; Dutton & Macciò 2014's "
                f"{DUTTON_MACCIO_2014.sigma_dex:g} dex in c200); "
                "c200 is r200/r_−2 (r200/r_c for the pseudo-isothermal sphere, r200/r_s of coreNFW's cusp)")
