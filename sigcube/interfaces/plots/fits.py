"""Figures of fitted models: rotation curves at a comparison's fit, each model with its posterior band, and the
predictive checks of its residuals under each error model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import holoviews as hv
import numpy as np

from sigcube.compute.quadrature import SCALE
from sigcube.engines.evidence import Data, likelihood_at
from sigcube.engines.fitted_curves import DRAWS, MIN_ESS, fitted_curves
from sigcube.engines.halo_masses import is_halo
from sigcube.interfaces.plots.base import (
    COLORS, GREY, Plot, PlotError, framed, layout, need, numbers, own, report_of, styled,
)
from sigcube.interfaces.plots.galaxies import GalaxyCurve, chosen_galaxies, rotation_curves
from sigcube.interfaces.plots.labels import Label
from sigcube.interfaces.plots.registry import figure
from sigcube.io.cubes import check_source_cube
from sigcube.io.datasets import curve_kinds
from sigcube.io.rotation_curves import pack_sparc
from sigcube.model.kernels import get_kernel
from sigcube.stats.nuisance import with_bulge_luminosity


@figure("fitted-curves", source="report",
        reads="sigcube report compare --json, with the dataset cube it was made from (--cube)")
def fitted_rotation_curves(report: Any, cube: Any, galaxies: Sequence[str] = (), n: int = 3, run: str = "nuisance",
                           models: Sequence[str] = (), title: str = "") -> Plot:
    """Rotation curves of the comparison's fitted models: each model at its best point (global parameters, σ_int;
    a per-galaxy model such as a halo at each galaxy's best grid point), every galaxy's Υ, D, i at their conditional
    mode, its prediction with the 68 % band of the Υ, D, i posterior, the gas, disk and bulge components at the first
    model's fit and the first halo model's own curve; the cube's content hash checked; of a table of error models
    (``--error-model all``), the run of the preferred one.

    ``galaxies``: the galaxies drawn, by name (default: ``n`` representative and the ``n`` worst fitted by the first
    model's RMS); ``n``: galaxies of each kind when none are named; ``run``: nuisance (Υ, D, i marginalised) or
    catalogue; ``models``: the report's models, all by default."""
    report = report_of(report)
    if isinstance(report, Mapping) and "error_model_table" in report:  # several error models: the preferred one's
        report = need(report, "reports", need(report, "error_model_table", "lead", what="fitted curves"),
                      what="fitted curves")
    what = "fitted curves"
    conventions = need(report, "conventions", what=what, of=Mapping)
    check_source_cube(cube, conventions.get("cube_content_sha256"), "the report")
    if cube.attrs.get("sigcube_kind") not in curve_kinds():
        raise PlotError(f"{what}: --cube must be the dataset cube of rotation curves the report was made from")
    rows = need(report, "runs", run, what=what, of=Mapping)
    chosen = list(models) or list(rows)
    unknown = [m for m in chosen if m not in rows]
    if unknown:
        raise PlotError(f"{what}: {', '.join(unknown)} not among the report's models ({', '.join(rows)})")
    stale = [m for m in chosen if rows[m].get("per_object") and "best_per_galaxy" not in rows[m]]
    if stale:
        raise PlotError(f"{what}: the report holds no per-galaxy fit of {', '.join(stale)} (made by an older sigcube); "
                        "run the comparison again, or name other --set models=…")
    halo = next((m for m in chosen if is_halo(rows[m]["kernel"])), None)
    scatter = report.get("scatter")
    cube = with_bulge_luminosity(cube.load())  # as the comparison read it: bulgeless galaxies' L_bul = 0
    points = pack_sparc(cube)
    if run == "nuisance":
        from sigcube.stats.nuisance import Catalogue

        data = Data(points, Catalogue.from_cube(cube, points))
    else:
        data = Data(points)
    names = [str(g) for g in points.galaxy]

    def fit(m: str, which: Sequence[str]) -> dict[str, Any]:
        """Model ``m``'s fitted curves of the galaxies ``which``, by name."""
        per_object = _per_galaxy(rows[m], names, f"{what} ({m})")
        best = dict(need(rows[m], "best", what=f"{what} ({m})", of=Mapping) if not per_object else rows[m].get("best")
                    or {})
        best, likelihood = likelihood_at(best, scatter)
        curves = fitted_curves(get_kernel(rows[m]["kernel"]), {**rows[m].get("fixed", {}), **best}, data, likelihood,
                               [names.index(g) for g in which], per_object=per_object, halo=m == halo)
        return {c.galaxy: c for c in curves}

    first = chosen[0]
    if galaxies:
        missing = [g for g in galaxies if g not in names]
        if missing:
            raise PlotError(f"{what}: {', '.join(missing)} not in the report's sample")
        picked, rule = list(galaxies), ", ".join(galaxies)
        fits = {first: fit(first, picked)}
    else:  # the first model on every galaxy, to choose them by its RMS
        fits = {first: fit(first, names)}
        rms = np.array([np.sqrt(np.mean((c.v_obs - c.v_pred) ** 2)) for c in fits[first].values()])
        representative, worst = chosen_galaxies(list(fits[first]), rms, n)
        picked = [*representative, *worst]
        rule = (f"representative galaxies ({', '.join(representative)}: 25th–75th percentiles of {first}'s RMS among "
                f"the others) and the {len(worst)} worst fitted by {first} ({', '.join(worst)})")
    fits.update({m: fit(m, picked) for m in chosen[1:]})
    curves = []
    for g in picked:
        base = fits[first][g]
        unsure = [m for m in chosen if fits[m][g].ess < MIN_ESS]
        detail = "catalogue Υ, D, i"
        if run == "nuisance":
            angle = (f"u {base.nuisance[SCALE][0]:.2f}" if SCALE in base.nuisance
                     else f"i {base.nuisance['inclination'][0]:.0f}°")
            detail = (f"Υ_d {base.nuisance['upsilon_disk'][0]:.2f}, D {base.nuisance['distance'][0]:.1f} Mpc, {angle} "
                      f"({first})")
        if unsure:
            detail += f"\nband unsure: {', '.join(unsure)}"
        components = {**base.components, **({"v_halo": fits[halo][g].components["v_halo"]} if halo else {})}
        curves.append(replace(GalaxyCurve(g, base.r, base.v_obs, base.e_v_obs, components,
                                          {m: fits[m][g].v_pred for m in chosen}, detail=detail),
                              bands={m: fits[m][g].band for m in chosen} if run == "nuisance" else {}))
    settings = ", ".join(f"{m}: " + (", ".join(f"{k} = {v:.3g}" for k, v in (rows[m].get("best") or {}).items())
                                     + (" and its best grid point per galaxy" if rows[m].get("per_object") else ""))
                         for m in chosen)
    plot = rotation_curves(curves, title=title)
    scaled = any(SCALE in c.nuisance for found in fits.values() for c in found.values())
    band = ((f"68 % bands: the Υ, D posterior at the fit, u at its mode ({DRAWS} seeded, importance-weighted draws)"
             if scaled else f"68 % bands: the Υ, D, i posterior at the fit ({DRAWS} seeded, importance-weighted draws)")
            if run == "nuisance" else "catalogue Υ, D, i")
    nuisance = ("at the catalogue Υ, D, i" if run != "nuisance" else
                "Υ, D and each galaxy's velocity scale u = (sin i/sin i0)·s_g (τ_gal) at their conditional mode"
                if scaled else "Υ, D, i at their conditional mode")
    return Plot(plot.view, f"Fitted rotation curves of {rule}: each model at its best global point ({settings}), "
                           f"{nuisance}, V_pred and the components in the data's frame; {band}; components at "
                           f"{first}'s fit" + (f"; V_halo: {halo}'s halo, √(V_pred² − V_bar²) at its fit" if halo
                                               else ""))


def _per_galaxy(row: Mapping[str, Any], galaxies: Sequence[str], what: str) -> dict[str, np.ndarray]:
    """A per-galaxy model's best grid point of each galaxy of ``galaxies`` (the cube's), by parameter."""
    if not row.get("per_object"):
        return {}
    best = need(row, "best_per_galaxy", what=what, of=Mapping)
    names = list(need(best, "galaxy", what=what))
    if names != list(galaxies):
        raise PlotError(f"{what}: the report's galaxies are not the cube's sample")
    return {k: numbers(v, what) for k, v in best.items() if k != "galaxy"}


@figure("residual-checks", source="report",
        reads="sigcube report compare --json (one error model, or a table of them with --error-model)")
def residual_checks_figure(report: Any, run: str = "nuisance", title: str = "") -> Plot:
    """The predictive checks of each error model: the normalised residuals' quantiles against the normal's and their
    histogram against N(0, 1) (log counts: the tails show), each model a colour, one pair of panels per error model
    (of a table, in its order; of one report, its own). Residuals at each model's best point, Υ, D, i at their mode."""
    report = report_of(report)
    what = "residual checks"
    reports = (need(report, "reports", what=what, of=Mapping) if isinstance(report, Mapping)
               and "error_model_table" in report else {"": report})
    panels = []
    for n, (em, r) in enumerate(reports.items()):
        checks = need(r, "predictive_checks", run, what=f"{what} ({em or 'the report'})", of=Mapping)
        if not checks:
            raise PlotError(f"{what}: the {run} run holds no model with global parameters")
        label = em or (r.get("scatter") or {}).get("error_model", "quoted errors")
        x, y = own("r", str(n)), own("count", str(n))
        qx, qy = own("normal", str(n)), own("observed", str(n))
        first = next(iter(checks.values()))
        edges = numbers(need(first, "histogram", "edges", what=what), what)
        centres = 0.5 * (edges[1:] + edges[:-1])
        hist = [styled(hv.Curve((centres, np.maximum(numbers(first["histogram"]["expected"], what), 0.5)), x, y,
                                label="N(0, 1)"), color=GREY, dash="dashed", width=2)]
        line = np.array([-4.0, 4.0])
        qq = [styled(hv.Curve((line, line), qx, qy, label="y = x"), color=GREY, dash="dashed", width=1.5)]
        for color, (model, c) in zip(COLORS, checks.items()):
            counts = np.maximum(numbers(need(c, "histogram", "counts", what=what), what), 0.5)
            hist.append(styled(hv.Curve((centres, counts), x, y, label=f"{model} (sd {c['sd']:.2f})").opts(
                interpolation="steps-mid"), color=color, width=2))
            qq.append(styled(hv.Scatter((numbers(c["qq"]["normal"], what), numbers(c["qq"]["observed"], what)), qx, qy,
                                        label=model), color=color, size=6))
        panels.append(framed(hv.Overlay(qq), title=f"{label}: quantiles against N(0, 1)",
                             xlabel=Label("normal quantile", "normal quantile"),
                             ylabel=Label("residual quantile", "residual quantile"), width=380, height=320,
                             legend=None))
        panels.append(framed(hv.Overlay(hist), title=f"{label}: normalised residuals",
                             xlabel=Label("r = (V_obs − V_pred·u)/s", "r"), ylabel=Label("points", "points"),
                             logy=True, width=560, height=320, legend="right"))
    return Plot(layout(panels, cols=2, title=title),
                f"Normalised residuals at each model's best point ({run} run) under "
                f"{', '.join(e or 'the report' for e in reports)}: quantiles against the normal's, and histograms (points "
                "per bin, log) against N(0, 1); residuals clipped to ±5 in the outer bins")
