"""Figures of fitted models: rotation curves at a comparison's fit, each model with its posterior band, and the
predictive checks of its residuals under each error model."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import holoviews as hv
import numpy as np

from sigcube.compute.quadrature import SCALE
from sigcube.engines.evidence import FLOOR, LIKELIHOOD, TAU, Data, likelihood_at
from sigcube.engines.fitted_curves import DRAWS, MIN_ESS, fitted_curves
from sigcube.engines.sampler import CONFLICT
from sigcube.engines.halo_masses import is_halo
from sigcube.interfaces.plots.base import (
    COLORS, GREY, Pages, Plot, PlotError, framed, layout, own, page_name, styled,
)
from sigcube.interfaces.plots.comparison import compared, source_cube
from sigcube.interfaces.plots.fields import NONNEGATIVE, Bound, Field
from sigcube.interfaces.plots.galaxies import GalaxyCurve, Predictions, chosen_galaxies, curve_grid
from sigcube.interfaces.plots.labels import UPSILON_DISK, VELOCITY_SCALE, Label, error_model_words, nuisance_symbol
from sigcube.interfaces.plots.registry import figure
from sigcube.io.datasets import curve_kinds
from sigcube.io.rotation_curves import pack_sparc
from sigcube.model.kernels import get_kernel
from sigcube.model.kernels.registry import Kernel, kernel_names
from sigcube.stats.likelihood import ERROR_MODELS, LEGACY_ERROR_MODELS
from sigcube.stats.nuisance import with_bulge_luminosity


EVERY = "all"
"""``galaxies=all``: every galaxy of the report's sample."""
PER_PAGE = 8
"""Galaxies on one page of the fitted curves (a grid of three columns, the legend beside the first row)."""


@figure("fitted-curves", source="report",
        reads="sigcube report compare --json, with the dataset cube it was made from (--cube)")
def fitted_rotation_curves(report: Any, cube: Any, galaxies: Sequence[str] = (), n: int = 3, run: str = "nuisance",
                           models: Sequence[str] = (), per_page: int = PER_PAGE, title: str = "") -> Plot | Pages:
    """Rotation curves of the comparison's fitted models: each model at its best point (global parameters, σ_int;
    a per-galaxy model such as a halo at each galaxy's best grid point), every galaxy's Υ, D, i at their conditional
    mode, its prediction with the 68 % band of the Υ, D, i posterior, the gas, disk and bulge components at the first
    model's fit and the first halo model's own curve; the cube's content hash checked; of a table of error models
    (``--error-model all``), the run of the preferred one.

    ``galaxies``: the galaxies drawn, by name, or all for every galaxy of the sample (by default the ``n``
    representative and the ``n`` worst fitted by the first model's RMS); ``n``: galaxies of each kind when none are named; ``run``:
    nuisance (Υ, D, i marginalised) or catalogue; ``models``: the report's models, all by default; ``per_page``: the
    most galaxies on one page (more are drawn on several pages, each file named for its first and last galaxy)."""
    what = "fitted curves"
    if per_page < 1:
        raise PlotError(f"{what}: per_page is {per_page}; give at least 1 galaxy per page")
    fitted = _fitted_models(report, cube, run, models, what)
    chosen, best, per_object, halo = fitted.chosen, fitted.best, fitted.per_object, fitted.halo
    points = fitted.points
    if run == "nuisance":
        from sigcube.stats.nuisance import Catalogue

        data = Data(points, Catalogue.from_cube(fitted.cube, points))
    else:
        data = Data(points)
    names = [str(g) for g in points.galaxy]

    def fit(m: str, which: Sequence[str]) -> dict[str, Any]:
        """Model ``m``'s fitted curves of the galaxies ``which``, by name."""
        params, likelihood = likelihood_at(best[m], fitted.scatter)
        curves = fitted_curves(fitted.kernels[m], {**fitted.fixed[m], **params}, data, likelihood,
                               [names.index(g) for g in which], per_object=fitted.own(m), halo=m == halo)
        return {c.galaxy: c for c in curves}

    first = chosen[0]
    every = list(galaxies) == [EVERY]
    if every:
        picked, rule = names, f"every galaxy of the sample ({len(names)})"
        fits = {first: fit(first, picked)}
    elif galaxies:
        missing = [g for g in galaxies if g not in names]
        if missing:
            raise PlotError(f"{what}: {', '.join(missing)} not in the report's sample (or give galaxies=all: every "
                            "galaxy, paged)")
        picked, rule = list(dict.fromkeys(galaxies)), ", ".join(dict.fromkeys(galaxies))
        fits = {first: fit(first, picked)}
    else:  # the first model on every galaxy, to choose them by its RMS
        fits = {first: fit(first, names)}
        rms = np.array([np.sqrt(np.mean((c.v_obs - c.v_pred) ** 2)) for c in fits[first].values()])
        representative, worst = chosen_galaxies(list(fits[first]), rms, n)
        picked = [*representative, *worst]
        rule = (f"representative galaxies ({', '.join(representative)}: 25th–75th percentiles of {first}'s RMS among "
                f"the others) and the {len(worst)} worst fitted by {first} ({', '.join(worst)})")
    fits.update({m: fit(m, picked) for m in chosen[1:]})
    curves = [_curve(g, fits, chosen, halo, run, fitted.conflicts.get(g, [])) for g in picked]
    settings = ", ".join(f"{m}: " + (", ".join(f"{k} = {v:.3g}" for k, v in best[m].items())
                                     + (" and its best grid point per galaxy" if per_object[m] else ""))
                         for m in chosen)
    scaled = any(SCALE in c.nuisance for found in fits.values() for c in found.values())
    band = ((f"68 % bands: the Υ, D posterior at the fit, u at its mode ({DRAWS} seeded, importance-weighted draws)"
             if scaled else f"68 % bands: the Υ, D, i posterior at the fit ({DRAWS} seeded, importance-weighted draws)")
            if run == "nuisance" else "catalogue Υ, D, i")
    nuisance = ("at the catalogue Υ, D, i" if run != "nuisance" else
                "Υ, D and each galaxy's velocity scale u = (sin i/sin i0)·s_g (τ_gal) at their conditional mode"
                if scaled else "Υ, D, i at their conditional mode")
    alt = (f"Fitted rotation curves of {rule}: each model at its best global point ({settings}), {nuisance}, V_pred "
           f"and the components in the data's frame; {band}; components at {first}'s fit"
           + (f"; V_halo: {halo}'s halo, √(V_pred² − V_bar²) at its fit" if halo else ""))
    caption = _caption(first, run, scaled) + ([CONFLICT_CAPTION] if any(fitted.conflicts.get(g) for g in picked)
                                              else [])
    if fitted.conflicts:
        alt += "; prior–data conflicts: " + "; ".join(f"{g}: {_conflict_list(c)}"
                                                       for g, c in fitted.conflicts.items() if g in picked)
    if len(curves) <= per_page:
        return Plot(curve_grid(curves, title, caption), alt)
    count = -(-len(curves) // per_page)
    pages = {}
    for k in range(count):
        page = curves[k * per_page:(k + 1) * per_page]
        pages[page_name(k + 1, count, page[0].name, page[-1].name)] = Plot(
            curve_grid(page, f"{title} ({k + 1} of {count})".strip() if title else f"page {k + 1} of {count}",
                       caption), f"{alt}; page {k + 1} of {count}: {', '.join(c.name for c in page)}")
    return Pages(pages, f"{alt}; {count} pages of up to {per_page} galaxies")


def _curve(galaxy: str, fits: Mapping[str, Mapping[str, Any]], chosen: Sequence[str], halo: str | None,
           run: str, conflicts: Sequence[Conflict] = ()) -> GalaxyCurve:
    """One galaxy's panel of the fitted curves: V_obs, the first model's components, each model's prediction (with
    its band in the nuisance run), and the first model's ϒ_disk, D and u (or i) at their mode in its title, with the
    galaxy's prior–data ``conflicts`` under it."""
    first = chosen[0]
    base = fits[first][galaxy]
    unsure = [m for m in chosen if fits[m][galaxy].ess < MIN_ESS]
    detail = Label("catalogue Υ, D, i", "catalogue ϒ, $D$, $i$")
    if run == "nuisance":
        at = base.nuisance
        angle = (Label(f"u {at[SCALE][0]:.2f}", f"$u$ {at[SCALE][0]:.2f}") if SCALE in at
                 else Label(f"i {at['inclination'][0]:.0f}°", f"$i$ {at['inclination'][0]:.0f}°"))
        detail = (UPSILON_DISK + f" {at['upsilon_disk'][0]:.2f} · "
                  + Label(f"D {at['distance'][0]:.1f} Mpc · ", f"$D$ {at['distance'][0]:.1f} Mpc · ") + angle
                  + f" ({first})")
    if unsure:
        detail = detail + f"\nband unsure: {', '.join(unsure)}"
    if conflicts:
        detail = detail + "\n" + _conflict_text(conflicts)
    components = {**base.components, **({"v_halo": fits[halo][galaxy].components["v_halo"]} if halo else {})}
    return GalaxyCurve(galaxy, base.r, base.v_obs, base.e_v_obs, components,
                       {m: fits[m][galaxy].v_pred for m in chosen}, detail=detail,
                       bands={m: fits[m][galaxy].band for m in chosen} if run == "nuisance" else {})


def _caption(first: str, run: str, scaled: bool) -> list[Label]:
    """The fitted curves' caption: where the nuisance parameters sit, and what each symbol of a panel's title is."""
    if run != "nuisance":
        return [Label("Each model at its best point, Υ, D, i at the catalogue's values",
                      "Each model at its best point, ϒ, $D$, $i$ at the catalogue's values")]
    symbols = [Label(f"each model at its best point; in each title, {first}'s ", f"each model at its best point; in "
                     f"each title, {first}'s ") + UPSILON_DISK
               + Label(" (disk mass-to-light ratio [M☉/L☉]), D (distance) and ",
                       r" (disk mass-to-light ratio [M$_\odot$/L$_\odot$]), $D$ (distance) and ")
               + (Label("u", "$u$") if scaled else Label("i (inclination)", "$i$ (inclination)"))
               + " at their conditional mode", Label("shaded: 68 % band", "shaded: 68 % band")]
    return [*symbols, VELOCITY_SCALE] if scaled else symbols


CONFLICT_CAPTION = Label(f"⚠ prior–data conflict: a parameter's posterior mean (sampler) or conditional mode more than "
                         f"{CONFLICT:g} prior sd from its prior's centre; z, its deviate in prior sd (the largest over "
                         "the models; the report lists each)", f"⚠ prior–data conflict: a parameter's posterior mean "
                         f"(sampler) or conditional mode more than {CONFLICT:g} prior sd from its prior's centre; $z$, its "
                         "deviate in prior sd (the largest over the models; the report lists each)")
"""What a panel's conflict line means."""


@dataclass(frozen=True)
class Conflict:
    """A galaxy's parameter in prior–data conflict under ``model``: its prior deviate ``z`` (posterior mean, or the
    conditional mode's)."""

    model: str
    parameter: str
    z: float


def _conflict_text(conflicts: Sequence[Conflict]) -> Label:
    """A panel's conflict line: ⚠ and each parameter's symbol with its largest deviate over the models."""
    largest: dict[str, float] = {}
    for c in conflicts:
        if abs(c.z) > abs(largest.get(c.parameter, 0.0)):
            largest[c.parameter] = c.z
    text = Label("⚠ z: ", "⚠ $z$: ")
    for k, (parameter, z) in enumerate(largest.items()):
        text = text + (", " if k else "") + nuisance_symbol(parameter) + f" {z:+.1f}".replace("-", "−")
    return text


def _conflict_list(conflicts: Sequence[Conflict]) -> str:
    """A galaxy's conflicts in words, each with its model (the alt text's)."""
    return ", ".join(f"{nuisance_symbol(c.parameter).unicode} z = {c.z:+.1f} ({c.model})" for c in conflicts)


def _conflicts(report: Field, run: str, chosen: Sequence[str]) -> dict[str, list[Conflict]]:
    """The prior–data conflicts the report lists for the models ``chosen`` in ``run``, by galaxy: a sampler row's own
    (posterior means), a global model's from the predictive checks (the conditional mode)."""
    out: dict[str, list[Conflict]] = {}
    checks = report.get("predictive_checks")
    for m in chosen:
        row = report["runs"][run][m]
        listed = row.get("conflicts")
        rows, z = (listed["rows"], "z_mean") if listed is not None else (None, "z_mode")
        if rows is None and checks is not None and checks.get(run) is not None:
            found = checks[run].get(m)
            rows = found.get("conflicts") if found is not None else None
        for c in rows.elements() if rows is not None else []:
            out.setdefault(c["galaxy"].text(), []).append(Conflict(m, c["parameter"].text(), c[z].number()))
    return out


@dataclass(frozen=True)
class FittedModels:
    """The models of a comparison's run as its report states their fit: each model's ``kernel``, the values it holds
    ``fixed``, its ``best`` global point (σ_int and the like included), whether it has ``per_object`` parameters, the
    first ``halo`` model, the likelihood's ``scatter``; and the sample: the ``cube`` (loaded, as the comparison read
    it) and its ``points``."""

    rows: Field
    chosen: list[str]
    kernels: dict[str, Kernel]
    fixed: dict[str, dict[str, Any]]
    best: dict[str, dict[str, Any]]
    per_object: dict[str, bool]
    halo: str | None
    scatter: dict[str, Any] | None
    cube: Any
    points: Any
    conflicts: dict[str, list[Conflict]]

    def own(self, model: str) -> dict[str, np.ndarray]:
        """A per-galaxy model's best grid point of each galaxy of the sample, by parameter (nothing for a global
        model)."""
        names = [str(g) for g in self.points.galaxy]
        return _per_galaxy(self.rows[model], self.kernels[model], names) if self.per_object[model] else {}


def _fitted_models(report: Any, cube: Any, run: str, models: Sequence[str], what: str) -> FittedModels:
    """The fitted ``models`` (all, when none are named) of a comparison report's ``run`` (:class:`FittedModels`),
    checked: the cube the report was made from (its content hash), a run and models it holds, per-galaxy fits."""
    report = compared(Field.report(report, what))
    source_cube(report, cube)
    if cube.attrs.get("sigcube_kind") not in curve_kinds():
        raise PlotError(f"{what}: --cube must be the dataset cube of rotation curves the report was made from")
    runs = report["runs"].keys()
    if run not in runs:
        raise PlotError(f"{what}: the report has no run {run!r}; its runs: {', '.join(runs)}")
    rows = report["runs"][run]
    chosen = list(models) or rows.keys(nonempty=True)
    unknown = [m for m in chosen if m not in rows]
    if unknown:
        raise PlotError(f"{what}: {', '.join(unknown)} not among the report's models ({', '.join(rows.keys())})")
    per_object = {m: bool(rows[m]["per_object"].elements()) for m in chosen}
    stale = [m for m in chosen if per_object[m] and "best_per_galaxy" not in rows[m]]
    if stale:
        raise PlotError(f"{what}: the report holds no per-galaxy fit of {', '.join(stale)} (made by an older sigcube); "
                        "run the comparison again, or name other --set models=…")
    kernels = {m: get_kernel(rows[m]["kernel"].text(kernel_names())) for m in chosen}
    fixed = {m: _point(rows[m]["fixed"], kernels[m]) if rows[m].get("fixed") else {} for m in chosen}
    best = {m: _point(rows[m]["best"], kernels[m]) if rows[m].get("best") or not per_object[m] else {}
            for m in chosen}
    cube = with_bulge_luminosity(cube.load())  # as the comparison read it: bulgeless galaxies' L_bul = 0
    return FittedModels(rows, chosen, kernels, fixed, best, per_object,
                        next((m for m in chosen if is_halo(kernels[m].name)), None), _scatter(report), cube,
                        pack_sparc(cube), _conflicts(report, run, chosen))


def fitted_predictions(report: Any, cube: Any, run: str = "nuisance", models: Sequence[str] = ()) -> Predictions:
    """Each fitted model's V_pred [km/s] at its best point (a per-galaxy model: at each galaxy's best grid point) on
    every point of the comparison's sample, at the catalogue's Υ, D and i (:class:`~sigcube.interfaces.plots.galaxies
    .Predictions`, by model): what the RAR of a comparison draws."""
    fitted = _fitted_models(report, cube, run, models, "RAR of the fitted models")
    points = fitted.points
    counts = np.diff(points.offsets)
    v_pred = {}
    for m in fitted.chosen:
        own = fitted.own(m)
        params, _ = likelihood_at(fitted.best[m], fitted.scatter)
        kernel = fitted.kernels[m]
        resolved = kernel.resolve({**fitted.fixed[m], **params, **{k: v[0] for k, v in own.items()}})
        v_pred[m] = np.asarray(kernel.func(points.inputs, **{**resolved, **{k: np.repeat(v, counts)
                                                                          for k, v in own.items()}}), dtype=float)
    return Predictions(fitted.cube, points, v_pred)


def _point(point: Field, kernel: Kernel, size: int | None = None, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """A point of ``kernel`` a report gives (its best point, the values it holds fixed; ``size``: a value per galaxy
    of that many), each value but those of ``skip`` checked: a parameter of the kernel within its bounds (one of its
    choices), σ_int, τ_gal and the floor ≥ 0."""
    known = {p.name: p for p in kernel.parameters}
    out: dict[str, Any] = {}
    for name, value in point.items():
        if name in skip:
            continue
        if name in LIKELIHOOD:
            out[name] = value.number(NONNEGATIVE)
        elif name not in known:
            raise value.refuse(f"is not a parameter of the kernel {kernel.name} ({', '.join(known)})")
        elif known[name].categorical:
            out[name] = value.text(known[name].choices)
        else:
            lo, hi = known[name].bounds or (-math.inf, math.inf)
            bound = Bound(lo, hi, why=f"the range of {kernel.name}'s {name}")
            out[name] = value.number(bound) if size is None else value.numbers(bound, size=size)
    return out


def _per_galaxy(row: Field, kernel: Kernel, galaxies: Sequence[str]) -> dict[str, np.ndarray]:
    """A per-galaxy model's best grid point of each galaxy of ``galaxies`` (the cube's), by parameter."""
    best = row["best_per_galaxy"]
    if best["galaxy"].names() != list(galaxies):
        raise best["galaxy"].refuse("are not the galaxies of the cube's sample")
    return _point(best, kernel, len(galaxies), skip=("galaxy",))


def _scatter(report: Field) -> dict[str, Any] | None:
    """The likelihood a comparison report states (``scatter``: its error model, σ_int's values and those of τ_gal and
    the floor), checked; None for errors as quoted."""
    scatter = report.get("scatter")
    if scatter is None:
        return None
    out: dict[str, Any] = {"error_model": scatter["error_model"].text([*ERROR_MODELS, *LEGACY_ERROR_MODELS])}
    if scatter.get("values"):
        out["values"] = list(scatter["values"].numbers(NONNEGATIVE))
    for name in (TAU, FLOOR):
        if scatter.get(name):
            out[name] = {"values": list(scatter[name]["values"].numbers(NONNEGATIVE))}
    return out


RESIDUAL = Label("normalised residual r", "normalised residual $r$")
RESIDUAL_CAPTION = (Label("r = (V_obs − u·V_pred)/s, in ln V under the log-normal model",
                          r"$r = (V_\mathrm{obs} - u\,V_\mathrm{pred})/s$, in $\ln V$ under the log-normal model"),
                    Label("s: the point's total error under the error model (e_V with σ_int, the floor)",
                          r"$s$: the point's total error under the error model ($e_V$ with $\sigma_\mathrm{int}$, "
                          "the floor)"),
                    VELOCITY_SCALE)
"""The residual checks' x axis and the caption defining its symbols."""


@figure("residual-checks", source="report",
        reads="sigcube report compare --json (one error model, or a table of them with --error-model)")
def residual_checks_figure(report: Any, run: str = "nuisance", title: str = "") -> Plot:
    """The predictive checks of each error model: the normalised residuals' quantiles against the normal's and their
    histogram against N(0, 1) (log counts: the tails show), each model a colour, one pair of panels per error model
    (of a table, in its order; of one report, its own). Residuals at each model's best point, Υ, D, i at their mode."""
    what = "residual checks"
    report = Field.report(report, what)
    reports = dict(report["reports"].items(nonempty=True)) if "error_model_table" in report else {"": report}
    panels = []
    for n, (em, r) in enumerate(reports.items()):
        checks = r["predictive_checks"][run]
        if not checks.keys():
            raise checks.refuse("is empty: the run holds no model with global parameters")
        label = error_model_words(em or (r["scatter"]["error_model"].text() if r.get("scatter") else "quoted"))
        x, y = own("r", str(n)), own("count", str(n))
        qx, qy = own("normal", str(n)), own("observed", str(n))
        first = next(c["histogram"] for _, c in checks.items())
        edges = first["edges"].numbers(increasing=True)
        if len(edges) < 2:
            raise first["edges"].refuse("has fewer than two edges: no bin")
        centres = 0.5 * (edges[1:] + edges[:-1])
        expected = first["expected"].numbers(NONNEGATIVE, size=len(centres))
        hist = [styled(hv.Curve((centres, np.maximum(expected, 0.5)), x, y, label="N(0, 1)"), color=GREY,
                       dash="dashed", width=2)]
        line = np.array([-4.0, 4.0])
        qq = [styled(hv.Curve((line, line), qx, qy, label="y = x"), color=GREY, dash="dashed", width=1.5)]
        for color, (model, c) in zip(COLORS, checks.items()):
            histogram = c["histogram"]
            if list(histogram["edges"].numbers(size=len(edges))) != list(edges):
                raise histogram["edges"].refuse(f"differ from {first['edges'].where}: the models' bins are one set")
            counts = np.maximum(histogram["counts"].numbers(NONNEGATIVE, size=len(centres)), 0.5)
            hist.append(styled(hv.Curve((centres, counts), x, y, label=f"{model} (sd {c['sd'].number(NONNEGATIVE):.2f})"
                                        ).opts(interpolation="steps-mid"), color=color, width=2))
            normal = c["qq"]["normal"].numbers(increasing=True)
            observed = c["qq"]["observed"].numbers(size=len(normal))
            qq.append(styled(hv.Scatter((normal, observed), qx, qy, label=model), color=color, size=6))
        panels.append(framed(hv.Overlay(qq), title=f"{label}:\nquantiles against N(0, 1)",
                             xlabel=Label("normal quantile", "normal quantile"),
                             ylabel=Label("quantile of r", "quantile of $r$"), width=380, height=320,
                             legend=None))
        panels.append(framed(hv.Overlay(hist), title=f"{label}:\nnormalised residuals",
                             xlabel=RESIDUAL, ylabel=Label("points per bin", "points per bin"),
                             logy=True, width=560, height=320, legend="right"))
    return Plot(layout(panels, cols=2, title=title, caption=RESIDUAL_CAPTION),
                f"Normalised residuals at each model's best point ({run} run) under "
                f"{', '.join(e or 'the report' for e in reports)}: quantiles against the normal's, and histograms (points "
                "per bin, log) against N(0, 1); residuals clipped to ±5 in the outer bins")
