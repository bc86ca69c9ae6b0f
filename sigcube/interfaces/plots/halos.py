"""The ΛCDM relations the halos' priors rest on (:mod:`sigcube.model.lcdm`): the stellar-to-halo mass relation and
the concentration–mass relation, each median with its ±1σ and ±2σ scatter, over the halo masses SPARC spans; and the
relations a comparison recovered, each galaxy's fitted halo over those bands."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import holoviews as hv
import numpy as np

from sigcube.interfaces.plots.base import COLORS, GREY, Plot, PlotError, framed, key_panel, layout, styled
from sigcube.interfaces.plots.comparison import compared
from sigcube.interfaces.plots.fields import FRACTION, Bound, Field
from sigcube.interfaces.plots.labels import Label, relation_words
from sigcube.interfaces.plots.registry import figure
from sigcube.model.kernels.halo_lcdm import CONCENTRATION_MASS
from sigcube.model.lcdm import DUTTON_MACCIO_2014, DUTTON_MACCIO_2014_EINASTO, MOSTER_2013, SHMRS

STELLAR = ("log10_M200", "log10_mstar")
CONCENTRATION = ("log10_M200_c", "log10_c200")
"""The two panels' dimensions (their own: panels of a layout that share a dimension's name share its range)."""
MASS = Label("log10 M200 [M☉]", r"$\log_{10} M_{200}\ [M_\odot]$")
QUANTITIES = {
    "log10_M200": Bound(4.0, 17.0, why="log10 of a halo's mass [M☉]: 10⁴ M☉ is below the smallest dwarf's halo, 10¹⁷ "
                                       "M☉ above the largest cluster's (≈ 3·10¹⁵)"),
    "log10_mstar": Bound(0.0, 13.0, why="log10 of a stellar mass [M☉]: 10¹³ M☉ is above the most massive galaxy's"),
    "c200": Bound(0.0, 1e3, open_low=True, why="a concentration r200/r_−2 is positive; 1000 is ten times the widest "
                                              "prior's bound"),
}
"""The quantities of a comparison's halo table the figure draws, and the physical bounds of their values."""
QUANTILES = (0.16, 0.5, 0.84)
"""The quantiles of each galaxy's halo drawn: a 68 % interval around the median."""


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


def _halo_rows(report: Any, run: str, what: str) -> dict[str, Field]:
    """The rows of a comparison's ``run`` that hold halo posteriors, by model."""
    runs = compared(Field.report(report, what))["runs"]
    if run not in runs.keys():
        raise PlotError(f"{what}: the report has no run {run!r}; its runs: {', '.join(runs.keys())}")
    return {m: row for m, row in runs[run].items() if row.mapping().get("halos") is not None}


def _halos(report: Any, run: str, models: Sequence[str], what: str) -> dict[str, dict[str, np.ndarray]]:
    """The per-galaxy halo posteriors of a comparison's ``run`` by model (``models``, or every halo model): each
    quantity's 16th, 50th and 84th percentiles by galaxy (:func:`_halo_table`)."""
    found = {m: row["halos"] for m, row in _halo_rows(report, run, what).items()}
    if not found:
        raise PlotError(f"{what}: the {run} run holds no halo posteriors (run `sigcube report compare` with a halo "
                        "model, e.g. nfw-lcdm)")
    unknown = [m for m in models if m not in found]
    if unknown:
        raise PlotError(f"{what}: {', '.join(unknown)} not among the report's halo models ({', '.join(found)})")
    return {m: _halo_table(found[m]) for m in (models or found)}


def _halo_table(halos: Field) -> dict[str, np.ndarray]:
    """A comparison's halo table (an xarray Dataset's dict: ``quantity`` over galaxy × quantile): each of
    :data:`QUANTITIES` at :data:`QUANTILES`, shaped (galaxies, 3), checked — one row per galaxy of its
    coordinate, within the quantity's bounds, the percentiles in order."""
    galaxies = halos["coords"]["galaxy"]["data"].names()
    levels = halos["coords"]["quantile"]["data"]
    quantiles = list(levels.numbers(FRACTION, increasing=True))
    missing = [q for q in QUANTILES if q not in quantiles]
    if missing:
        raise levels.refuse(f"has no {', '.join(f'{q:g}' for q in missing)}: the figure draws the median and the "
                            "68 % interval")
    columns = [quantiles.index(q) for q in QUANTILES]
    out = {}
    for name, bound in QUANTITIES.items():
        variable = halos["data_vars"][name]
        if [d.text() for d in variable["dims"].elements()] != ["galaxy", "quantile"]:
            raise variable["dims"].refuse("is not [galaxy, quantile]")
        table = variable["data"].numbers(bound, shape=(len(galaxies), len(quantiles)))[:, columns]
        disorder = np.flatnonzero(np.any(np.diff(table, axis=1) < 0, axis=1))
        if disorder.size:
            raise variable["data"][int(disorder[0])].refuse(
                f"(galaxy {galaxies[int(disorder[0])]}) has its percentiles out of order")
        out[name] = table
    return out


def _stellar_relations(report: Any, run: str, models: Sequence[str], what: str) -> dict[str, Any]:
    """The stellar-to-halo relations the priors of ``models`` used (:data:`~sigcube.model.lcdm.SHMRS`, by a label
    naming it and its scatter; Moster+2013 for a model with flat priors or none named), in the models' order."""
    rows = _halo_rows(report, run, what)
    out: dict[str, Any] = {}
    for m in models:
        fixed = rows[m].get("fixed")
        name = fixed["shmr"].text(list(SHMRS)) if fixed is not None and fixed.get("shmr") else MOSTER_2013.name
        relation = SHMRS[name]
        scatter = ("its parameters' errors propagated" if getattr(relation, "errors", None) is not None
                   else f"{relation.sigma_dex:g} dex in M★")
        out.setdefault(f"{relation_words(name)} ({scatter})", relation)
    return out


def _cm(model: str) -> Any:
    """The concentration–mass relation a halo model's ΛCDM prior uses (its profile's, the model's name up to its first
    ``-``: :data:`~sigcube.model.kernels.halo_lcdm.CONCENTRATION_MASS`), Dutton & Macciò 2014's NFW fit for any other."""
    return CONCENTRATION_MASS.get(model.split("-")[0], DUTTON_MACCIO_2014)


def _cm_label(relation: Any) -> str:
    """A concentration–mass relation in words, with its scatter."""
    profile = "Einasto" if relation is DUTTON_MACCIO_2014_EINASTO else "NFW"
    return f"Dutton & Macciò 2014, {profile} c–M ({relation.sigma_dex:g} dex)"


def _recovered(table: Mapping[str, np.ndarray], x: str, y: str, label: str, color: str, dims: tuple[str, str],
               log_y: bool = False) -> list[hv.Element]:
    """Each galaxy's median of ``y`` against its median of ``x`` with their 68 % intervals (``table``: a halo table
    of :func:`_halo_table`)."""
    (x_lo, x_mid, x_hi), (y_lo, y_mid, y_hi) = table[x].T, (np.log10(table[y]) if log_y else table[y]).T
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
    every = np.concatenate([table["log10_M200"].ravel() for table in halos.values()])
    lo, hi = every.min(), every.max()
    m = np.linspace(min(lo, 9.0), max(hi, 13.0), 200)
    profile = {name: COLORS[i % len(COLORS)] for i, name in enumerate(halos)}  # one colour per halo model
    colors = {name: ("black", *COLORS[len(halos):])[k % (len(COLORS) - len(halos) + 1)]
              for k, name in enumerate(relations)}
    stellar = [e for name, relation in relations.items()
               for e in _band(m, np.asarray(relation.log10_mstar(m)), np.asarray(relation.scatter_dex(m)), name,
                              colors[name], STELLAR)]
    cm = {_cm_label(c): (c, "black" if c is DUTTON_MACCIO_2014 else profile[next(n for n in halos if _cm(n) is c)])
          for c in dict.fromkeys(_cm(n) for n in halos)}
    concentration = [e for label, (c, color) in cm.items()
                     for e in _band(m, np.asarray(c.log10_c(m)), c.sigma_dex, label, color, CONCENTRATION)]
    for name, table in halos.items():
        stellar += _recovered(table, "log10_M200", "log10_mstar", name, profile[name], STELLAR)
        concentration += _recovered(table, "log10_M200", "c200", name, profile[name], CONCENTRATION, log_y=True)
    key = key_panel([styled(hv.Curve([], label=name), color=color, width=2) for name, color in colors.items()]
                    + [styled(hv.Curve([], label=label), color=color, width=2) for label, (_, color) in cm.items()]
                    + [styled(hv.Scatter([], label=f"{name}: each galaxy's halo"), color=color, size=6)
                       for name, color in profile.items()], 360, 380)
    panels = [framed(hv.Overlay(stellar), title="stellar-to-halo mass", xlabel=MASS,
                     ylabel=Label("log10 M★ [M☉]", r"$\log_{10} M_\star\ [M_\odot]$"), width=520, height=380,
                     legend=None),
              framed(hv.Overlay(concentration), title="concentration–mass", xlabel=MASS,
                     ylabel=Label("log10 c200", r"$\log_{10} c_{200}$"), width=520, height=380, legend=None), key]
    counts = ", ".join(f"{name} ({len(table['log10_M200'])} galaxies)" for name, table in halos.items())
    return Plot(layout(panels, cols=3, title=title),
                f"Each galaxy's fitted halo ({run} run; median and 68 % interval): log10 M★ and log10 c200 against "
                f"log10 M200 for {counts}, over the ΛCDM relations with ±1σ and ±2σ bands (the stellar-to-halo "
                f"relation each model's prior used: {'; '.join(relations)}; the c–M relation of each profile: "
                f"{'; '.join(cm)}), one colour per halo model; "
                "c200 is r200/r_−2 (r200/r_c for the pseudo-isothermal sphere, r200/r_s of coreNFW's cusp)")
