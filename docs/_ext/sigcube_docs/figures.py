"""The site's figures, drawn when a build starts from the committed reports (``docs/results/*.json``), the benchmark
records (``docs/performance/*.json``) and the SPARC cube, by the plotting layer (:mod:`sigcube.interfaces.plots`).

For each :class:`DocFigure` of :data:`FIGURES` the build writes ``docs/_generated/figures/<name>.png``, a thumbnail
(``thumbs/<name>.png``) and ``<name>.md``: the figure directive with its alt text (the plot's own sentence naming
what it draws), which a page includes. ``gallery.md`` shows every thumbnail, linked to its page. A figure is redrawn
only when its inputs or the plotting layer's code changed (a stamp of their digest beside it); nothing in
``_generated`` is committed.

A new report's figure: a plot function in :mod:`sigcube.interfaces.plots` (registered with ``@figure``), one entry
here, and ``{include}`` of ``/_generated/figures/<name>.md`` on its page (docs/development.md says more).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from sigcube_docs import records, sources
from sigcube_docs.markdown import text

OUT = records.DOCS / "_generated" / "figures"
THUMB_WIDTH = 360
"""Thumbnail width in the gallery [pixels]."""


class Inputs:
    """What the figures read, loaded once per build: committed reports, benchmark records, the plotting layer, the
    SPARC cube and its predictions."""

    def record(self, name: str) -> dict[str, Any]:
        found = records.load(name)
        if found is None:
            raise RuntimeError(f"a figure reads docs/results/{name}.json, which is not committed")
        return found

    def records(self, *names: str) -> dict[str, dict[str, Any]]:
        return {name: self.record(name) for name in names}

    @cached_property
    def plots(self) -> Any:
        return sources.plots()

    @cached_property
    def sparc(self) -> Any:
        return sources.dataset_cube("sparc")

    @cached_property
    def predictions(self) -> Any:
        return self.plots.galaxies.predictions(self.sparc)

    def bench(self) -> list[dict[str, Any]]:
        return records.bench_records()


@dataclass(frozen=True)
class DocFigure:
    """One figure of the site: its file ``name``, the page that shows it (``page``, for the gallery's link and
    title), what it reads (committed ``reports`` by name, the SPARC ``cube``, the ``bench`` records: the stamp's
    inputs) and ``draw(inputs)`` returning a :class:`~sigcube.interfaces.plots.base.Plot`."""

    name: str
    page: str
    draw: Callable[[Inputs], Any]
    reports: tuple[str, ...] = ()
    cube: bool = False
    bench: bool = False
    title: str = field(default="", compare=False)


FIGURES: tuple[DocFigure, ...] = (
    DocFigure("sparc-rar", "study/sparc", lambda i: i.plots.rar.rar(i.predictions), cube=True,
              title="The radial acceleration relation"),
    DocFigure("sparc-curves", "study/sparc", lambda i: i.plots.galaxies.rotation_curves(i.predictions), cube=True,
              title="Representative and worst-fitted rotation curves"),
    DocFigure("kernels", "study/kernels", lambda i: i.plots.comparison.kernel_ranking(i.record("kernels")),
              ("kernels",), title="Every kernel at its defaults"),
    DocFigure("sensitivity", "study/sensitivity",
              lambda i: i.plots.published.published_ratio({"": i.record("sensitivity")}), ("sensitivity",),
              title="The SI's sensitivity tables against sigcube"),
    DocFigure("regression-ratios", "study/regression",
              lambda i: i.plots.comparison.prediction_ratios(i.record("regression")), ("regression",),
              title="Clusters and dwarfs: prediction over observation"),
    DocFigure("ablation-pairs", "study/ablation", lambda i: i.plots.comparison.ablation_pairs({
        "errors as quoted": i.record("ablation"), "5 km/s floor": i.record("ablation-sigma-int-5"),
        "floor profiled": i.record("ablation-sigma-int-grid")}),
        ("ablation", "ablation-sigma-int-5", "ablation-sigma-int-grid"), title="The ablation's win fractions"),
    DocFigure("ablation-profile", "study/ablation",
              lambda i: i.plots.comparison.sigma_int_profile(i.record("ablation-sigma-int-grid")),
              ("ablation-sigma-int-grid",), title="The ablation's error floor profiled"),
    DocFigure("comparison-elpd", "study/comparison",
              lambda i: i.plots.comparison.elpd_ranking(i.record("compare-sigma-mond-nfw")),
              ("compare-sigma-mond-nfw",), title="ELPD of canonical Σ, MOND and NFW"),
    DocFigure("comparison-per-galaxy", "study/comparison", lambda i: i.plots.comparison.per_object_difference(
        i.record("compare-sigma-mond-nfw"), i.sparc, "sigma", "mond"), ("compare-sigma-mond-nfw",), cube=True,
        title="Σ against MOND, galaxy by galaxy"),
    DocFigure("comparison-per-galaxy-evidence", "study/comparison", lambda i: i.plots.comparison.per_object_difference(
        i.record("compare-sigma_xi-nfw"), i.sparc, "sigma_xi", "nfw", quantity="log_evidence"),
        ("compare-sigma_xi-nfw",), cube=True, title="Σ (A, ξ) against NFW, galaxy by galaxy"),
    DocFigure("posterior-intervals", "study/posterior", lambda i: i.plots.posteriors.sweep_intervals({
        "errors as quoted": i.record("sweep-nuisance"), "5 km/s floor": i.record("sweep-nuisance-floor-5")}),
        ("sweep-nuisance", "sweep-nuisance-floor-5"), title="The A0 × k posterior, two error models"),
    *(DocFigure(f"joint-{name}", "study/joint", lambda i, n=name: i.plots.posteriors.joint_intervals(
        i.record(f"joint-{n}")), (f"joint-{name}",), title=f"SPARC, CLASH and joint: {what}")
      for name, what in (("sigma-sparc-clash", "Σ with L0 and n free"),
                         ("sigma-paper-sparc-clash", "Σ with the paper's cluster rule"),
                         ("mond-sparc-clash", "MOND"))),
    *(DocFigure(f"joint-{name}", "study/joint", lambda i, f=function: getattr(i.plots.probes, f)(
        i.record("joint-sigma-systematics-sparc-clash")), ("joint-sigma-systematics-sparc-clash",), title=what)
      for name, function, what in (
          ("systematics", "joint_systematics", "CLASH under each systematic and model choice against SPARC"),
          ("scans", "joint_scans", "The tension against each systematic's size"))),
    DocFigure("joint-lead-systematics", "study/joint", lambda i: i.plots.probes.joint_systematics(
        i.record("joint-sigma-lead-sparc-clash")), ("joint-sigma-lead-sparc-clash",),
        title="CLASH under each data systematic and the slip against SPARC under the lead error model"),
    DocFigure("milky-way-curve", "study/regression", lambda i: i.plots.probes.milky_way_curve(i.record("regression")),
              ("regression",), title="The Milky Way with Σ, MOND and the V_bar scale's posterior"),
    DocFigure("dwarf-ratios", "study/regression", lambda i: i.plots.probes.dwarf_ratios(i.record("regression")),
              ("regression",), title="Dwarfs: σ_pred/σ_obs by class"),
    DocFigure("posterior-sigma-int", "study/posterior", lambda i: i.plots.posteriors.corner(
        i.plots.data.posterior_from_report(i.record("sweep-sigma-sigma-int")["report"]["posterior"])),
        ("sweep-sigma-sigma-int",), title="A0, k and σ_int: marginals and credible contours"),
    DocFigure("scatter-mond-contours", "study/scatter", lambda i: i.plots.posteriors.corner(
        i.plots.data.posterior_from_report(i.record("sweep-mond-sigma-int")["report"]["posterior"])),
        ("sweep-mond-sigma-int",), title="MOND's a0 and σ_int: marginals and credible contours"),
    DocFigure("comparison-error-models-residuals", "study/comparison", lambda i: i.plots.fits.residual_checks_figure(
        i.record("compare-sigma-mond-error-models")), ("compare-sigma-mond-error-models",),
        title="Residuals of Σ and MOND under each error model"),
    DocFigure("comparison-fitted-curves", "study/comparison", lambda i: i.plots.fits.fitted_rotation_curves(
        i.record("compare-sigma-mond-error-models"), i.sparc), ("compare-sigma-mond-error-models",), cube=True,
        title="Σ and MOND at their fit under the preferred error model"),
    DocFigure("comparison-sigma-int-elpd", "study/comparison",
              lambda i: i.plots.comparison.elpd_ranking(i.record("compare-sigma-mond-sigma-int")),
              ("compare-sigma-mond-sigma-int",), title="ELPD of canonical Σ and MOND with σ_int marginalised"),
    DocFigure("verdict", "study/verdict", lambda i: i.plots.comparison.verdict_bayes_factors(i.record("verdict")),
              ("verdict",), title="The verdict, probe by probe: every Bayes factor"),
    DocFigure("lcdm-elpd", "study/lcdm",
              lambda i: i.plots.comparison.elpd_ranking(i.record("compare-family-lead")),
              ("compare-family-lead",),
              title="Σ, MOND and the halo family under the velocity floor and each galaxy's velocity scale: ELPD"),
    DocFigure("lcdm-halo-relations", "study/lcdm", lambda i: i.plots.halos.recovered_relations(
        i.record("compare-family-lead"), models=["dc14-lcdm", "nfw-lcdm", "corenfw-lcdm"]),
        ("compare-family-lead",),
        title="Each galaxy's fitted ΛCDM halo over the SHMR and c–M relations"),
    DocFigure("lcdm-shmr-relations", "study/lcdm", lambda i: i.plots.halos.recovered_relations(
        i.record("compare-halos-shmr")), ("compare-halos-shmr",),
        title="NFW under ΛCDM priors with three stellar-to-halo relations: each galaxy's halo"),
    DocFigure("lcdm-fitted-curves", "study/lcdm", lambda i: i.plots.fits.fitted_rotation_curves(
        i.record("compare-family-lead"), i.sparc, models=["dc14-lcdm", "nfw-lcdm", "burkert", "mond"], n=2),
        ("compare-family-lead",), cube=True, title="ΛCDM and cored halos against MOND at their fit"),
    DocFigure("lcdm-relations", "study/lcdm-literature", lambda i: i.plots.halos.relations(),
              title="The ΛCDM relations the halos' priors rest on"),
    DocFigure("scatter-posterior", "study/scatter", lambda i: i.plots.posteriors.scatter_posterior({
        "MOND": i.record("sweep-mond-sigma-int"), "Σ-Gravity": i.record("sweep-sigma-sigma-int")}),
        ("sweep-mond-sigma-int", "sweep-sigma-sigma-int"), title="Intrinsic scatter and the kernels' parameters"),
    *(DocFigure(f"population-{name}", "study/population", lambda i, n=name: i.plots.population.population_figures(
        i.record(f"population-{n}")), (f"population-{name}",), title=f"Population of {what}")
      for name, what in (("mond-a0-floor-tau-gal", "MOND's a0, a velocity floor and each galaxy's velocity scale"),
                         ("mond-a0-floor-tau-gal-grid",
                          "MOND's a0, a velocity floor and each galaxy's velocity scale, τ_gal marginalised"),
                         ("sigma-A0-k-floor-tau-gal", "Σ's A0, k, a velocity floor and each galaxy's velocity scale"),
                         ("sigma-A0-k-floor", "Σ's A0, k and a velocity floor marginalised"),
                         ("mond-a0-lognormal", "MOND's a0, a first-order log-normal σ_int marginalised"),
                         ("sigma-A0-k-lognormal", "Σ's A0, k and a first-order log-normal σ_int marginalised"))),
    DocFigure("published", "study/published", lambda i: i.plots.published.published_ratio({
        "sparc": i.record("sparc"), "sensitivity": i.record("sensitivity"), "ablation": i.record("ablation")}),
        ("sparc", "sensitivity", "ablation"), title="Published figures against sigcube"),
    DocFigure("throughput", "performance", lambda i: i.plots.performance.throughput(i.bench()), bench=True,
              title="Throughput against sample and grid size"),
)
"""Every figure of the site."""


@dataclass(frozen=True)
class Example:
    """The gallery's example of a figure kind (``kind``: a registered figure, :func:`sigcube.interfaces.plots.figures`):
    the ``figure`` drawn from the committed records (a :class:`DocFigure`: one of :data:`FIGURES`, or its own), or
    None for a kind that reads a store the site does not make (a sweep's result cube), and the ``command`` that draws
    it."""

    kind: str
    figure: DocFigure | None
    command: str


_SHOWN = {f.name: f for f in FIGURES}
_COMPARE = "docs/results/compare-sigma-mond-error-models.json"
GALLERY: tuple[Example, ...] = (
    Example("rar", DocFigure("gallery-rar", "gallery", lambda i: i.plots.rar.rar(
        i.record("compare-sigma-mond-error-models"), i.sparc), ("compare-sigma-mond-error-models",), cube=True,
        title="The RAR of the fitted models"), f"sigcube plot rar {_COMPARE} --out rar.png"),
    Example("rotation-curves", _SHOWN["sparc-curves"], "sigcube plot rotation-curves cubes/sparc.zarr --out curves.png"),
    Example("fitted-curves", _SHOWN["comparison-fitted-curves"],
            f"sigcube plot fitted-curves {_COMPARE} --out fitted.png  # --set galaxies=all: every galaxy, paged"),
    Example("residual-checks", _SHOWN["comparison-error-models-residuals"],
            f"sigcube plot residual-checks {_COMPARE} --out residuals.png"),
    Example("elpd", _SHOWN["comparison-elpd"], "sigcube plot elpd docs/results/compare-sigma-mond-nfw.json --out elpd.png"),
    Example("per-galaxy-difference", _SHOWN["comparison-per-galaxy"],
            "sigcube plot per-galaxy-difference docs/results/compare-sigma-mond-nfw.json --set model=sigma "
            "--set against=mond --out difference.png"),
    Example("halo-relations", DocFigure("gallery-halo-relations", "gallery", lambda i: i.plots.halos.recovered_relations(
        i.record("compare-halos-einasto")), ("compare-halos-einasto",), title="Each halo profile's relations"),
        "sigcube plot halo-relations docs/results/compare-halos-einasto.json --out halos.png"),
    Example("lcdm-relations", _SHOWN["lcdm-relations"], "sigcube plot lcdm-relations --out lcdm.png"),
    Example("verdict", _SHOWN["verdict"], "sigcube plot verdict docs/results/verdict.json --out verdict.png"),
    Example("kernel-ranking", _SHOWN["kernels"], "sigcube plot kernel-ranking docs/results/kernels.json --out kernels.png"),
    Example("ablation-pairs", _SHOWN["ablation-pairs"],
            "sigcube plot ablation-pairs docs/results/ablation.json --out pairs.png"),
    Example("sigma-int-profile", _SHOWN["ablation-profile"],
            "sigcube plot sigma-int-profile docs/results/ablation-sigma-int-grid.json --out profile.png"),
    Example("published-ratio", _SHOWN["published"],
            "sigcube plot published-ratio docs/results/sparc.json docs/results/sensitivity.json --out published.png"),
    Example("prediction-ratios", _SHOWN["regression-ratios"],
            "sigcube plot prediction-ratios docs/results/regression.json --out ratios.png"),
    Example("milky-way-curve", _SHOWN["milky-way-curve"],
            "sigcube plot milky-way-curve docs/results/regression.json --out milky-way.png"),
    Example("dwarf-ratios", _SHOWN["dwarf-ratios"], "sigcube plot dwarf-ratios docs/results/regression.json --out dwarfs.png"),
    Example("sweep-intervals", _SHOWN["posterior-intervals"],
            "sigcube plot sweep-intervals docs/results/sweep-nuisance.json --out intervals.png"),
    Example("scatter-posterior", _SHOWN["scatter-posterior"],
            "sigcube plot scatter-posterior docs/results/sweep-sigma-sigma-int.json --out scatter.png"),
    Example("posterior-corner", _SHOWN["posterior-sigma-int"],
            "sigcube plot posterior-corner RESULT.zarr --out corner.png  # a nuisance or joint sweep's result cube"),
    Example("joint-intervals", _SHOWN["joint-sigma-sparc-clash"],
            "sigcube plot joint-intervals docs/results/joint-sigma-sparc-clash.json --out joint.png"),
    Example("joint-systematics", _SHOWN["joint-systematics"],
            "sigcube plot joint-systematics docs/results/joint-sigma-systematics-sparc-clash.json --out systematics.png"),
    Example("joint-scans", _SHOWN["joint-scans"],
            "sigcube plot joint-scans docs/results/joint-sigma-systematics-sparc-clash.json --out scans.png"),
    Example("population-forest", DocFigure("gallery-population-forest", "gallery", lambda i: i.plots.population.forest(
        i.record("population-mond-a0-floor-tau-gal")), ("population-mond-a0-floor-tau-gal",),
        title="A population's forest"),
        "sigcube plot population-forest docs/results/population-mond-a0-floor-tau-gal.json --out forest.png"),
    Example("population-hyper", DocFigure("gallery-population-hyper", "gallery", lambda i: i.plots.population.hyper(
        i.record("population-mond-a0-floor-tau-gal")), ("population-mond-a0-floor-tau-gal",),
        title="A population's mean and spread"),
        "sigcube plot population-hyper docs/results/population-mond-a0-floor-tau-gal.json --out hyper.png"),
    Example("throughput", _SHOWN["throughput"], "sigcube plot throughput docs/performance/*.json --out throughput.png"),
    Example("heatmap", None, "sigcube plot heatmap RESULT.zarr --set metric=mean_rms --out heatmap.png"),
    Example("sensitivity", None, "sigcube plot sensitivity RESULT.zarr --out sensitivity.png"),
    Example("joint-costs", None, "sigcube plot joint-costs JOINT.zarr --out costs.png"),
    Example("galaxy-corner", None, "sigcube plot galaxy-corner draws/nfw-lcdm.zarr --set galaxy=DDO154 --out corner.png"),
)
"""One example of every figure kind, for the gallery: drawn from the committed records, with the command that draws
it (a kind that reads a store the site does not make — a sweep's result cube, a comparison's posterior draws — shows
its command alone)."""


def _digest(figure: DocFigure, inputs: Inputs) -> str:
    """What a figure is drawn from: its reports, the benchmark records, the cube's content, the plotting code."""
    h = hashlib.sha256()
    files = [records.RESULTS_DIR / f"{n}.json" for n in figure.reports] + sorted(records.PERFORMANCE_DIR.glob(
        "*.json")) * figure.bench + [Path(__file__), *sources.plots_source()]
    for path in files:
        h.update(path.name.encode())
        h.update(path.read_bytes())
    if figure.cube:
        h.update(str(inputs.sparc.attrs.get("content_sha256", "")).encode())
    h.update(figure.name.encode())
    return h.hexdigest()


def snippet(figure: DocFigure, alt: str) -> str:
    """The figure directive a page includes (paths from the source root: any page may include it)."""
    return (f":::{{figure}} /_generated/figures/{figure.name}.png\n:alt: {' '.join(alt.split())}\n:width: 100%\n\n"
            f"{text(alt)}\n:::\n")


def gallery() -> str:
    """One section per figure kind (:data:`GALLERY`): what it draws, its example's thumbnail linked to the page that
    shows it (the whole figure, for one drawn for the gallery alone), and the command that draws it."""
    kinds = sources.plots().figures()
    lines = []
    for example in GALLERY:
        f = example.figure
        lines += [f"### {example.kind}", "", text(sources.plots().plain(kinds[example.kind].summary)), ""]
        if f is not None:
            alt = json.loads((OUT / f"{f.name}.json").read_text(encoding="utf-8"))["alt"]
            own = f.page == "gallery"  # drawn for the gallery alone: shown whole
            lines += [f"```{{image}} /_generated/figures/{'' if own else 'thumbs/'}{f.name}.png",
                      f":alt: {' '.join(alt.split())}", *([] if own else [f":target: {f.page}.html"]), "```", ""]
        else:
            lines += ["It reads a store the site does not make (a sweep's result cube; a comparison's posterior "
                      "draws, `sigcube report compare … --draws FOLDER`): make one, then", ""]
        lines += ["```bash", example.command, "```", ""]
    return "\n".join(lines)


def write_all() -> list[str]:
    """Draw every figure whose inputs changed, write its snippet, its thumbnail and the gallery; the names drawn."""
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "thumbs").mkdir(exist_ok=True)
    inputs = Inputs()
    drawn = []
    shown = set(_SHOWN)
    for figure in (*FIGURES, *(e.figure for e in GALLERY if e.figure is not None and e.figure.name not in shown)):
        stamp = OUT / f"{figure.name}.json"
        digest = _digest(figure, inputs)
        held = json.loads(stamp.read_text(encoding="utf-8")) if stamp.is_file() else {}
        image = OUT / f"{figure.name}.png"
        if held.get("digest") != digest or not image.is_file() or not (OUT / "thumbs" / image.name).is_file():
            plot = figure.draw(inputs)
            inputs.plots.save(plot, image)
            _thumbnail(image, OUT / "thumbs" / image.name)
            stamp.write_text(json.dumps({"digest": digest, "alt": plot.alt}, ensure_ascii=False), encoding="utf-8")
            drawn.append(figure.name)
            held = {"alt": plot.alt}
        if figure.page != "gallery":
            _write(OUT / f"{figure.name}.md", snippet(figure, held["alt"]))
    _write(OUT / "gallery.md", gallery())
    return drawn


def _thumbnail(image: Path, out: Path) -> None:
    from PIL import Image

    with Image.open(image) as im:
        im.thumbnail((THUMB_WIDTH, THUMB_WIDTH * 4))
        im.save(out, optimize=True)


def _write(path: Path, body: str) -> None:
    if not path.is_file() or path.read_text(encoding="utf-8") != body:
        path.write_text(body, encoding="utf-8")
