"""`sigcube report sparc | kernels | sensitivity | sweep | population | regression | clusters | ablation | compare`:
reports next to the published figures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.markup import escape

from sigcube.cli.common import console, dataset_cube, emit, err_console, tau_gal_within_limits
from sigcube.errors import SigcubeError

if TYPE_CHECKING:
    from sigcube.engines.dask import Tick

app = typer.Typer(help="Compute a report on a cube and compare it with the published figures.", no_args_is_help=True)

_SPARC_CUBE = "SPARC cube, or any cube of rotation curves (default: cubes/sparc.zarr, ingested if missing)"
COMPARE_FIGURES = ("elpd", "fitted-curves", "residual-checks")
"""The figures `report compare --save` writes, as ``compare-<name>.png`` (the fitted curves of every galaxy, paged:
``compare-fitted-curves-<page>-<first>-to-<last galaxy>.png`` when they fill more than one page)."""


def _parse_quality(text: str) -> tuple[int, ...]:
    try:
        return tuple(sorted({int(q) for q in text.split(",") if q.strip()}))
    except ValueError:
        raise SigcubeError(f"--quality takes comma-separated flags from 1, 2, 3; got {text!r}") from None


@app.command("sparc")
def report_sparc(
    preset: Annotated[str, typer.Option(help="paper | bulge-amplitude | c-local | vdisk-peak | all")] = "paper",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object (a list with --preset all).")] = False,
    cube: Annotated[Optional[str], typer.Option(help=_SPARC_CUBE)] = None,
    min_points: Annotated[int, typer.Option(help="A galaxy needs at least this many usable points.")] = 5,
    quality: Annotated[str, typer.Option(help="Accepted SPARC quality flags, e.g. 1,2.")] = "1,2,3",
    min_inclination: Annotated[float, typer.Option(help="Smallest inclination kept [deg].")] = 0.0,
    max_inclination: Annotated[float, typer.Option(help="Largest inclination kept [deg].")] = 90.0,
) -> None:
    """Σ-Gravity vs MOND on SPARC: RMS, win rate, RAR scatter, next to the published figures."""
    from sigcube.conventions import SampleCuts
    from sigcube.io.cubes import open_cube
    from sigcube.io.datasets import curve_kinds
    from sigcube.model.kernels.presets import PRESETS, get_preset
    from sigcube.study.reports.sparc import render, render_summary, sparc_report

    cuts = SampleCuts(min_points, _parse_quality(quality), min_inclination, max_inclination)
    names = list(PRESETS) if preset == "all" else [get_preset(preset).name]
    ds = open_cube(dataset_cube("sparc", cube), kind=curve_kinds()).load()
    results = [sparc_report(ds, PRESETS[name], cuts) for name in names]
    if as_json or len(results) == 1:
        emit(results if preset == "all" else results[0], as_json, render)
    else:
        render_summary(results, console)


@app.command("kernels")
def report_kernels(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON list, one object per kernel.")] = False,
    cube: Annotated[Optional[str], typer.Option(help=_SPARC_CUBE)] = None,
) -> None:
    """Every kernel at its defaults on SPARC: RMS, χ²_red, RAR scatter, win rate vs MOND."""
    from sigcube.io.cubes import open_cube
    from sigcube.io.datasets import curve_kinds
    from sigcube.study.reports.kernels import kernel_report, render

    emit(kernel_report(open_cube(dataset_cube("sparc", cube), kind=curve_kinds()).load()), as_json, render)


@app.command("sensitivity")
def report_sensitivity(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object: tables of rows, notes, note 000.")] = False,
    cube: Annotated[Optional[Path], typer.Option(help=_SPARC_CUBE)] = None,
    sweeps: Annotated[Optional[Path], typer.Option(help="Folder of the shipped sweep specs (default: the repository's sweeps/)")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Folder of the result cubes (default: the cube folder, cubes/)")] = None,
) -> None:
    """SI §13.3–§14 tables and note 000's fits from the shipped sweeps (run, or read if already made), with ✓/✗."""
    from sigcube.io.cubes import cube_dir, open_cube
    from sigcube.study.reports.sensitivity import SWEEPS_DIR, render, run_shipped, sensitivity_report

    path = dataset_cube("sparc", cube)
    folder = sweeps or SWEEPS_DIR
    if not folder.is_dir():
        raise SigcubeError(f"no folder of sweep specs at {folder}; pass --sweeps DIR (the repository's sweeps/)")
    with err_console.status("running the shipped sweeps (or reading their result cubes) …"):
        specs, results, state = run_shipped(path, out or cube_dir(), folder)
        report = sensitivity_report(open_cube(path, kind="sparc").load(), specs, results, state)
    emit(report, as_json, render)


@app.command("sweep")
def report_sweep(
    result: Annotated[str, typer.Argument(help="A finished sweep result cube (path or store URL).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    check_integrals: Annotated[bool, typer.Option(
        "--check-integrals", help="For a marginalising nuisance sweep: recompute each galaxy's ln Z at the "
        "posterior's largest grid point with 2 more nodes, refine and list the hard ones.")] = False,
    cube: Annotated[Optional[str], typer.Option(
        help="The dataset cube the sweep read, for --check-integrals (default: cubes/<dataset>.zarr).")] = None,
) -> None:
    """Best grid point of every global metric, and the metrics at the kernel's defaults."""
    from sigcube.engines.sweep import open_result
    from sigcube.interfaces.sweep_report import render, sweep_report

    ds = open_result(result)
    data = None
    if check_integrals:
        from sigcube.io.cubes import open_cube

        kind = ds.attrs.get("dataset", "sparc")
        data = open_cube(dataset_cube(kind, cube), kind=kind).load()
    elif cube is not None:
        raise SigcubeError("--cube names the dataset cube for --check-integrals; add --check-integrals")
    emit(sweep_report(ds, data), as_json, render)


@app.command("joint")
def report_joint(
    result: Annotated[str, typer.Argument(help="A joint sweep result cube (path or store URL).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Each dataset's and the joint posterior side by side, the tension between datasets, every likelihood."""
    from sigcube.engines.joint import open_joint
    from sigcube.interfaces.joint_report import joint_report, render

    emit(joint_report(open_joint(result)), as_json, render)


@app.command("population")
def report_population(
    result: Annotated[Optional[list[str]], typer.Argument(
        help="A finished nuisance sweep's result cube (path or store URL), or several that differ only in "
             "[nuisance].sigma_floor: stacked, the velocity floor marginalised beside σ_int.")] = None,
    param: Annotated[Optional[str], typer.Option("--param", help="The swept parameter whose spread between objects "
                                                                 "is asked about, e.g. a0 or A0.")] = None,
    scale: Annotated[str, typer.Option(help="The population lives in the parameter (linear) or its log10 (log).")] = "linear",
    others: Annotated[str, typer.Option(help="The other grid axes: marginalise (one value shared by every object, "
                                             "under the sweep's grid prior) or best (conditioned on the grid point "
                                             "of the largest Σ ln L).")] = "marginalise",
    shape: Annotated[str, typer.Option(help="Population shapes asked about: gaussian, student_t, mixture (universal "
                                            "plus outliers against a spread plus outliers), or all.")] = "all",
    nu: Annotated[Optional[float], typer.Option(help="The Student-t's degrees of freedom, fixed (default: a "
                                                     "hyper-parameter, log-uniform on [1, 30]).")] = None,
    tau_prior: Annotated[str, typer.Option(help="Prior of the spreads τ, τ_c, τ_b: half_normal or uniform.")] = "half_normal",
    tau_scale: Annotated[Optional[float], typer.Option(help="The τ prior's scale (half-normal σ, or the uniform's "
                                                            "upper end) in the population's scale; default: a "
                                                            "quarter (half-normal) or half (uniform) of μ's prior "
                                                            "range, the grid's range.")] = None,
    n_mu: Annotated[int, typer.Option(help="Hyper-grid cells in μ (a multiple of 3).", min=6)] = 30,
    table: Annotated[Optional[Path], typer.Option(
        help="A population table (TOML, e.g. docs/results/specs/population_li2018.toml): every row's question on "
             "its cubes, found in the cube folder ($SIGCUBE_CUBE_DIR, default cubes/).")] = None,
    preset: Annotated[Optional[str], typer.Option(
        help="A published set-up whose population options to use (li2018): its shape and τ prior; the report "
             "checks that the cube's sample, priors and error model are the preset's.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Is a swept parameter universal? Universal, universal but for outliers, or spread (Gaussian, Student-t,
    mixture) on a nuisance sweep's per-object ln L, each with its evidence and numerical error."""
    from sigcube.engines.sweep import open_result
    from sigcube.interfaces.population_report import (ALL_SHAPES, load_table, population_report, render,
                                                      render_table, table_report)
    from sigcube.io.cubes import cube_dir
    from sigcube.stats.population import TauPrior
    from sigcube.stats.population_shapes import Shape
    from sigcube.study import literature

    if scale not in ("linear", "log"):
        raise SigcubeError(f"--scale takes linear or log, not {scale!r}")
    chosen = literature.preset(preset) if preset else None
    if table is not None:
        if result:
            raise SigcubeError("--table names its cubes itself: give no RESULT")
        spec = load_table(table)
        chosen = literature.preset(spec["preset"]) if spec.get("preset") else chosen
        published = (literature.A0_DETERMINATIONS if spec["kind"] == "error_models"
                     else literature.population(spec.get("kernel", "mond"), spec.get("parameter", "")))
        with err_console.status("integrating every row's populations over their grids …"):
            report = table_report(spec, cube_dir(), preset=chosen.describe() if chosen else None,
                                  literature=published, n_mu=n_mu)
        emit(report, as_json, render_table)
        return
    if not result or not param:
        raise SigcubeError("give a RESULT cube and --param (or a --table)")
    if shape == "all":
        shapes = tuple(Shape(s.kind, nu) if s.kind == "student_t" else s for s in ALL_SHAPES)
    elif shape in ("gaussian", "student_t", "mixture"):
        shapes = (Shape(shape, nu if shape == "student_t" else None),)
    else:
        raise SigcubeError(f"--shape takes gaussian, student_t, mixture or all, not {shape!r}")
    datasets = [open_result(r) for r in result]
    prior = TauPrior(tau_prior, tau_scale)
    if chosen is not None:
        chosen.check(datasets[0])
        shapes, prior = chosen.shapes(), chosen.tau_prior()
    with err_console.status("integrating the populations over the grid …"):
        report = population_report(datasets, param, scale=scale, others=others, tau_prior=prior, shapes=shapes,
                                   n_mu=n_mu, literature=literature.population(datasets[0].attrs.get("kernel", ""),
                                                                               param))
    emit(report, as_json, render)


@app.command("regression")
def report_regression(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list, one object per test.")] = False,
) -> None:
    """The paper's regression suite on every dataset cube, next to the published figures (ingests missing cubes)."""
    from sigcube.study.reports.regression import KINDS, regression_report, render

    paths = {kind: dataset_cube(kind, None) for kind in KINDS}
    with err_console.status("running the regression suite …"):
        rows = regression_report(paths)
    emit(rows, as_json, render)


@app.command("clusters")
def report_clusters(
    errors: Annotated[str, typer.Option(help="Lensing errors: stat (the published statistical errors) or stat+syst "
                                             "(the systematic part added, correlated alike).")] = "stat",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    cube: Annotated[Optional[str], typer.Option(help="Clusters cube (default: cubes/clusters.zarr, ingested if "
                                                     "missing).")] = None,
) -> None:
    """Σ-Gravity, MOND and NFW-ΛCDM halos on the CLASH lensing masses by one rule: evidence, leave-one-cluster-out
    predictive density, the verdicts and what moves them."""
    from sigcube.io.cubes import open_cube
    from sigcube.stats.lensing import ERROR_MODELS
    from sigcube.study.reports.clusters import clusters_report, render

    if errors not in ERROR_MODELS:
        raise SigcubeError(f"--errors must be one of {', '.join(ERROR_MODELS)}; got {errors!r}")
    ds = open_cube(dataset_cube("clusters", cube), kind="clusters").load()
    with err_console.status("integrating the three models on CLASH …"):
        report = clusters_report(ds, errors)
    emit(report, as_json, render)


@app.command("verdict")
def report_verdict(
    sources: Annotated[Optional[str], typer.Option("--from", help="Folder of the saved reports the verdict reads "
                                                                   "(default: the checkout's docs/results).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """The seeds' question, probe by probe: Σ-Gravity, MOND and ΛCDM halos side by side from the saved reports of
    each probe, the choices each was made under and every choice that differs between them."""
    from sigcube.study.reports.verdict import load_sources, render, verdict_report

    emit(verdict_report(load_sources(sources)), as_json, render)


@app.command("ablation")
def report_ablation(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    cube: Annotated[Optional[str], typer.Option(help=_SPARC_CUBE)] = None,
    nuisance: Annotated[bool, typer.Option(help="Also fit with Υ_disk, Υ_bul, D, i profiled (Li+2018 priors).")] = True,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap over galaxies.", min=0)] = 0,
    bootstrap: Annotated[int, typer.Option(help="Bootstrap resamples.", min=100)] = 2000,
    sigma_int: Annotated[str, typer.Option(
        "--sigma-int", help="Error floor σ_int in km/s, added in quadrature to every e_V: a value X (fixed), or a grid "
                            "LO:HI:N (one more global parameter of every model, profiled: the ablation runs at each "
                            "value).")] = "0",
    workers: Annotated[Optional[int], typer.Option(help="Run the fits on a LocalCluster of this many processes.")] = None,
    scheduler: Annotated[Optional[str], typer.Option(help="Run the fits on the Dask scheduler tcp://host:port.")] = None,
) -> None:
    """SI §15 redone: Σ-Gravity (A, ξ) vs NFW (M200, c) vs MOND fitted per galaxy, next to the SI's figures."""
    from sigcube.stats.intrinsic_scatter import Scatter
    from sigcube.study.reports.ablation import ablation_report, render

    scatter = Scatter.parse(sigma_int)
    ds = _curves(cube)
    report = _with_fits(ds, workers, scheduler, workers is None and scheduler is None,
                        "fitting every galaxy under each model …",
                        lambda run: ablation_report(ds, nuisance=nuisance, run=run, seed=seed, n_boot=bootstrap,
                                                    sigma_int=scatter))
    emit(report, as_json, render)


@app.command("compare")
def report_compare(
    models: Annotated[list[str], typer.Argument(help="Models to compare: sigma, mond, sigma_xi; the halos nfw, einasto, "
                                                     "burkert, piso, dc14, corenfw (flat priors) and nfw-lcdm, "
                                                     "einasto-lcdm, dc14-lcdm, corenfw-lcdm (ΛCDM priors; "
                                                     "…-lcdm-moster2013_propagated, …-lcdm-behroozi2013 with another "
                                                     "stellar-to-halo relation). MOND is always added as the "
                                                     "Bayes-factor reference.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    cube: Annotated[Optional[str], typer.Option(help=_SPARC_CUBE)] = None,
    nuisance: Annotated[bool, typer.Option(help="Also with Υ_disk, Υ_bul, D, i marginalised/profiled.")] = True,
    workers: Annotated[Optional[int], typer.Option(help="LocalCluster worker processes (default: one per core).")] = None,
    scheduler: Annotated[Optional[str], typer.Option(help="Run the per-galaxy work on the Dask scheduler tcp://host:port.")] = None,
    synchronous: Annotated[bool, typer.Option(help="Run in this process, without Dask (the same numbers).")] = False,
    fresh: Annotated[bool, typer.Option(help="Start over: remove this run's checkpoint folder (finished pieces and "
                                             "kept report) first.")] = False,
    sigma_int: Annotated[Optional[str], typer.Option(
        "--sigma-int", help="Intrinsic scatter as one more global parameter of every model: a value X (fixed) or a grid "
                            "LO:HI:N (uniform prior, marginalised; its posterior is printed), in the error model's "
                            "unit. Default: errors as quoted.")] = None,
    error_model: Annotated[Optional[str], typer.Option(
        help="The error model: with --sigma-int, what it means (velocity_floor, km/s in quadrature with e_V, the "
             "default; lognormal, a log-normal g_obs density, dex; lognormal_first_order, its Gaussian-in-V form). "
             "Without: 'all' or a list (quoted,velocity_floor,lognormal=0:0.3:31, …) — the comparison under each, "
             "σ_int marginalised on its own grid, as one model × error model table led by the error model the "
             "evidence prefers (NAME+tau_gal adds τ_gal on its own grid, NAME+sigma_floor a velocity floor: "
             "lognormal+sigma_floor is both together; NAME+tail Student-t errors, their tail weight 1/ν on 0–1).")
    ] = None,
    tau_gal: Annotated[Optional[str], typer.Option(
        "--tau-gal", help="With --sigma-int: the scatter τ_gal [ln V] of each galaxy's velocity scale (correlated "
                          "errors within a galaxy), integrated per galaxy with the inclination: a value X (fixed) or "
                          "a grid LO:HI:N (uniform prior, marginalised; per-galaxy models such as the halos take "
                          "one value). Υ, D, i marginalised.")] = None,
    sigma_floor: Annotated[Optional[str], typer.Option(
        "--sigma-floor", help="With --sigma-int under a log-normal error model: a velocity floor σ_fl [km/s] in "
                              "quadrature with e_V besides (the two together): a value X (fixed) or a grid LO:HI:N "
                              "(uniform prior, marginalised; per-galaxy models such as the halos take one value)."
                 )] = None,
    tail: Annotated[Optional[str], typer.Option(
        "--tail", help="With --sigma-int under a Gaussian-in-V error model: Student-t errors (heavy tails) of tail "
                       "weight 1/ν in [0, 1] (0 the Gaussian, 1 the Cauchy), the same scale: a value X (fixed) or a "
                       "grid LO:HI:N (uniform prior, marginalised; on the grid engine, per-galaxy models such as the "
                       "halos take one value).")] = None,
    save: Annotated[Optional[str], typer.Option(
        "--save", help="Also write the report into this folder: its text (.txt), JSON (.json) and figures (.png: the "
                       "ELPD ranking, the fitted rotation curves and the residuals' checks; under several error "
                       "models, those of the one the evidence prefers and the checks of each).")] = None,
    engine: Annotated[str, typer.Option(
        help="How a per-galaxy model's evidence is integrated: grid (its parameters on adaptive grids, Υ, D, i by "
             "Gauss–Hermite at each point), sampler (its parameters and Υ, D, i importance-sampled together per "
             "galaxy, σ_int, τ_gal and the floor on a grid: integrates τ_gal and a floor beside σ_int) or auto (the "
             "sampler from three parameters per galaxy or two free likelihood parameters). Global models (sigma, "
             "mond) always take the grid.")] = "auto",
    draws: Annotated[Optional[str], typer.Option(
        "--draws", help="Also write each galaxy's posterior draws of every model the sampler integrates (its own "
                        "parameters and Υ, D, i or its velocity scale, at the best σ_int, τ_gal, floor) into this "
                        "folder, as MODEL.zarr: an ArviZ tree (posterior: chain × draw × galaxy; arviz.from_datatree "
                        "reads it; sigcube plot galaxy-corner draws a galaxy's). Under several error models, the lead's. "
                        "An earlier export there is replaced; anything else is refused.")] = None,
) -> None:
    """Model selection: best χ², AIC, BIC, grid log-evidence and Bayes factors vs MOND, ELPD_LOGO, k-fold CV, and
    the decision rule (ln B and ΔELPD must agree). The per-galaxy work runs on a LocalCluster (as sweeps), a
    --scheduler or in this process (--synchronous); finished pieces are kept under cubes/checkpoints/ (a killed run
    resumes; a finished one is printed again from its report)."""
    from sigcube.engines.sweep.engine import check_workers
    from sigcube.stats.intrinsic_scatter import Scatter
    from sigcube.study.reports.compare import ENGINES, check_likelihood, check_sample, model_names, plan, render

    check_workers(scheduler, workers, synchronous)
    if engine not in ENGINES:
        raise SigcubeError(f"--engine {engine}: choose from {', '.join(ENGINES)}")
    names = model_names(models)
    if tau_gal is not None and sigma_int is None:
        raise SigcubeError("--tau-gal goes with --sigma-int (the scatter of the points beside each galaxy's scale); "
                           "under several error models name it in the list: --error-model velocity_floor+tau_gal")
    if sigma_floor is not None and sigma_int is None:
        raise SigcubeError("--sigma-floor goes with --sigma-int and a log-normal --error-model (the floor beside the "
                           "log-normal scatter); under several error models name it in the list: --error-model "
                           "lognormal+sigma_floor")
    if tail is not None and sigma_int is None:
        raise SigcubeError("--tail goes with --sigma-int (Student-t errors with the error model's scale); under several "
                           "error models name it in the list: --error-model velocity_floor+tail")
    if sigma_int is not None and error_model is not None and ("," in error_model or error_model.strip() == "all"):
        raise SigcubeError(f"--error-model {error_model} with --sigma-int: name one error model (the list or all take "
                           "each error model's own grid: leave --sigma-int out, or give NAME=LO:HI:N in the list)")
    table_of_models = sigma_int is None and error_model is not None
    if save:
        from sigcube.interfaces.saved import saved_paths

        # refused now, not after the run: a file there that sigcube did not write is never replaced
        saved_paths(save, "compare-error-models" if table_of_models else "compare", COMPARE_FIGURES)
    if table_of_models:
        from sigcube.study.reports.error_model_table import (
            ALL_EXTRA, error_model_table, parse_error_models, render_error_model_table,
        )
        from sigcube.study.reports.compare_models import MODELS

        integrable = nuisance and (engine != "grid" or not any(MODELS[n].per_object for n in names))
        scatters = {name: _within_tau_limits(scatter, f"--error-model {name}")
                    for name, scatter in parse_error_models(error_model, extras=integrable).items()}
        if error_model.strip() == "all" and not integrable:
            err_console.print("all: without " + " and ".join(ALL_EXTRA) + (
                " (the grid engine integrates them for models with global parameters only: --engine auto or sampler "
                "integrates them for every model)" if nuisance else " (integrated with Υ, D, i marginalised)"),
                markup=False, highlight=False)
        for scatter in scatters.values():
            check_likelihood(names, nuisance, scatter, engine)
        if draws is not None:
            _draws_folder(draws, names, nuisance, list(scatters.values()), engine)
        ds = _curves(cube)
        points = check_sample(ds, names, nuisance)
        kept = {name: _checkpoint(ds, nuisance, scatter, engine) for name, scatter in scatters.items()}
        for line in plan(points, names, nuisance, scatters, engine):
            _say(line)
        reports = {}
        for n, (name, scatter) in enumerate(scatters.items(), 1):
            err_console.print(f"error model {n} of {len(scatters)}: {name}", markup=False, highlight=False)
            reports[name] = _compare_one(ds, names, nuisance, scatter, kept[name], fresh, workers, scheduler,
                                         synchronous, engine, adequacy=True)
        table = error_model_table(reports)
        payload = {"error_model_table": table, "reports": reports}

        def show(result, console=None):
            render_error_model_table(result["error_model_table"], console)

        emit(payload, as_json, show)
        if save:
            _save_compare(save, "compare-error-models", payload, show, reports[table["lead"]], ds)
        if draws is not None:
            lead = table["lead"]
            if _sampled(names, nuisance, [scatters[lead]], engine):
                _write_draws(draws, names, reports[lead], kept[lead], nuisance, scatters[lead], engine)
            else:
                err_console.print(f"--draws: no draws written: under the lead error model, {lead}, the grid integrates "
                                  f"every model ({', '.join(names)})", markup=False, highlight=False, soft_wrap=True)
        return
    scatter = None if sigma_int is None else _within_tau_limits(
        Scatter.parse(sigma_int, error_model or "velocity_floor", tau_gal, sigma_floor, tail), f"--tau-gal {tau_gal}")
    check_likelihood(names, nuisance, scatter, engine)
    if draws is not None:
        _draws_folder(draws, names, nuisance, [scatter], engine)
    ds = _curves(cube)
    points = check_sample(ds, names, nuisance)
    kept = _checkpoint(ds, nuisance, scatter, engine)
    for line in plan(points, names, nuisance, {"": scatter}, engine):
        _say(line)
    report = _compare_one(ds, names, nuisance, scatter, kept, fresh, workers, scheduler, synchronous, engine)
    emit(report, as_json, render)
    if save:
        _save_compare(save, "compare", report, render, report, ds)
    if draws is not None:
        _write_draws(draws, names, report, kept, nuisance, scatter, engine)


def _sampled(names: list[str], nuisance: bool, scatters: list, engine: str) -> dict[str, str]:
    """The models of ``names`` the sampler integrates under any of ``scatters``, each with its kernel."""
    from sigcube.study.reports.compare import engine_for
    from sigcube.study.reports.compare_models import MODELS

    return {n: MODELS[n].kernel for n in names
            if any(engine_for(n, nuisance, scatter, engine) == "sampler" for scatter in scatters)}


def _draws_folder(folder: str, names: list[str], nuisance: bool, scatters: list, engine: str) -> None:
    """Refuse now, not after the run, ``--draws`` when no model is on the sampler under any of ``scatters``, or a
    folder that is a file, cannot be made, or holds, at a model's ``MODEL.zarr``, something other than an earlier
    export; the folder is made."""
    from sigcube.interfaces.open import is_export
    from sigcube.study.reports.posterior_draws import DrawsError

    if not _sampled(names, nuisance, scatters, engine):
        raise DrawsError(f"--draws: the sampler integrates none of {', '.join(names)} here (it takes per-galaxy models "
                         "with Υ, D, i marginalised: --engine sampler or auto), so there are no draws to write")
    from sigcube.io.stores import store_errors

    path = Path(folder)
    if path.exists() and not path.is_dir():
        raise SigcubeError(f"--draws {folder}: is a file; give a folder for the posterior draws")
    with store_errors(f"--draws {folder}"):  # made now: a folder that cannot be made is refused before the run
        path.mkdir(parents=True, exist_ok=True)
    for name in names:
        target = path / f"{name}.zarr"
        if target.exists():
            try:
                attrs = json.loads((target / "zarr.json").read_text(encoding="utf-8")).get("attributes", {})
            except (OSError, ValueError):
                attrs = {}
            if not is_export(attrs):
                raise SigcubeError(f"--draws {folder}: {target} exists and is not a posterior export of sigcube's: it "
                                   "is not replaced; move it away or give another folder")


def _write_draws(folder: str, names: list[str], report: dict, kept, nuisance: bool, scatter, engine: str) -> None:
    """Each sampler model's posterior draws, from the rows ``kept`` holds, written as ``folder/MODEL.zarr``."""
    from sigcube.interfaces.arviz_export import write_tree
    from sigcube.study.reports.posterior_draws import kept_trees

    sampled = _sampled(names, nuisance, [scatter], engine)
    conventions = report["conventions"]
    priors = {n: f"{conventions['prior_form']}; {json.dumps(conventions['priors'][n], ensure_ascii=False)}; nuisance: "
                 f"{json.dumps(conventions.get('nuisance_priors', {}), ensure_ascii=False, default=str)}"
              for n in sampled}
    path = Path(folder)
    for name, tree in kept_trees(kept, sampled, conventions["likelihood"], priors).items():
        written = write_tree(tree, path / f"{name}.zarr", force=True)
        err_console.print(f"wrote {written}: {name}'s posterior draws of {tree['posterior'].sizes['galaxy']} galaxies",
                          markup=False, highlight=False, soft_wrap=True)


@app.command("calibrate")
def report_calibrate(
    model: Annotated[str, typer.Argument(help="The model whose Bayes factor against MOND is calibrated (one with "
                                              "global parameters: sigma, …).")],
    samples: Annotated[int, typer.Option(help="Synthetic samples drawn from each of the two models.")] = 10,
    sigma_int: Annotated[str, typer.Option(
        "--sigma-int", help="The intrinsic scatter the samples are drawn with and analysed under, one value in the "
                            "error model's unit (e.g. the posterior mean of a comparison).")] = "6.6",
    error_model: Annotated[str, typer.Option(help="What σ_int means (velocity_floor, lognormal, "
                                                  "lognormal_first_order).")] = "velocity_floor",
    tau_gal: Annotated[Optional[str], typer.Option(
        "--tau-gal", help="Each galaxy's velocity scale, ln s_g ~ N(0, τ_gal²), drawn and analysed at this one value "
                          "[ln V] beside σ_int (default: none).")] = None,
    sigma_floor: Annotated[Optional[str], typer.Option(
        "--sigma-floor", help="A velocity floor [km/s] beside a log-normal σ_int, one value (default: none).")] = None,
    tail: Annotated[Optional[str], typer.Option(
        "--tail", help="Student-t errors of tail weight 1/ν, drawn and analysed at this one value in [0, 1] beside "
                       "σ_int (default: Gaussian errors).")] = None,
    observed: Annotated[Optional[float], typer.Option(help="A comparison's ln B, placed in each distribution.")] = None,
    seed: Annotated[int, typer.Option(help="The first sample's seed.")] = 0,
    at: Annotated[str, typer.Option(
        "--at", help="Where the samples' global parameters are set: fitted (each model's posterior means on the cube, "
                     "fitted first under the same likelihood) or defaults (the kernels' defaults).")] = "fitted",
    also_from: Annotated[Optional[str], typer.Option(
        "--also-from", help="More generating models, comma-separated (nfw-lcdm, …): samples drawn from each, their "
                            "per-galaxy halos from the model's priors, analysed as the data (MODEL against MOND).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    cube: Annotated[Optional[str], typer.Option(help=_SPARC_CUBE)] = None,
    workers: Annotated[Optional[int], typer.Option(help="LocalCluster worker processes (default: one per core).")] = None,
    scheduler: Annotated[Optional[str], typer.Option(help="Run the per-galaxy work on the Dask scheduler tcp://host:port.")] = None,
    synchronous: Annotated[bool, typer.Option(help="Run in this process, without Dask (the same numbers).")] = False,
) -> None:
    """What a Bayes factor means here: ln B(MODEL : MOND) and ΔELPD_LOGO on synthetic samples drawn from MODEL and
    from MOND on the cube's galaxies (Υ, D, i from their priors, noise from the stated likelihood), each analysed as
    report compare analyses the data; finished samples are kept under cubes/checkpoints/ (a killed run resumes)."""
    from sigcube.engines.checkpoint import Checkpoint, check_root, describe_run, fingerprint
    from sigcube.engines.sweep.engine import check_workers
    from sigcube.io.cubes import cube_dir
    from sigcube.stats.intrinsic_scatter import Scatter
    from sigcube.study.reports.calibration import calibrate, render

    check_workers(scheduler, workers, synchronous)
    scatter = _within_tau_limits(Scatter.parse(sigma_int, error_model, tau_gal, sigma_floor, tail),
                                 f"--tau-gal {tau_gal}")
    ds = _curves(cube)
    root = cube_dir() / "checkpoints"
    check_root(root)
    more = [m.strip() for m in (also_from or "").split(",") if m.strip()]
    settings = {"report": "calibrate", "cube": str(ds.attrs.get("content_sha256", "")), "model": model,
                "scatter": scatter.describe(), "at": at, "samples": "with conflict counts", "also_from": more}
    kept = Checkpoint(root / f"calibrate-{fingerprint(settings)}", describe_run(settings),
                      warn=lambda line: err_console.print(line, markup=False, highlight=False))
    kept.check_writable()
    report = _with_fits(ds, workers, scheduler, synchronous, "drawing and comparing synthetic samples …",
                        lambda run: calibrate(ds, model, scatter, samples, seed=seed, observed=observed, at=at,
                                              also_from=more, run=run, checkpoint=kept, progress=_say))
    emit(report, as_json, render)


def _save_compare(folder: str, name: str, payload: dict, render, report: dict, ds) -> None:
    """The comparison's text, JSON and figures saved into ``folder``: each figure drawn from ``payload`` as
    ``sigcube plot`` draws it from the saved JSON (of a table of error models, the ELPD ranking and the fitted curves
    of the preferred one, ``report``)."""
    from sigcube.interfaces.plots.comparison import elpd_ranking
    from sigcube.interfaces.plots.fits import fitted_rotation_curves, residual_checks_figure
    from sigcube.interfaces.saved import save_report

    run = "nuisance" if "nuisance" in report["runs"] else "catalogue"
    figures = dict(zip(COMPARE_FIGURES, (lambda: elpd_ranking(payload),
                                         lambda: fitted_rotation_curves(payload, ds, galaxies=["all"], run=run),
                                         lambda: residual_checks_figure(payload, run=run))))
    with err_console.status("saving the report and its figures …"):
        written = save_report(folder, name, payload, render, figures,
                              say=lambda line: err_console.print(line, markup=False, highlight=False))
    err_console.print(f"saved {', '.join(p.name for p in written)} in {folder}", markup=False, highlight=False,
                      soft_wrap=True)


def _within_tau_limits(scatter, option: str):
    """``scatter`` (None: errors as quoted), its τ_gal values checked (:func:`~sigcube.cli.common.tau_gal_within_limits`,
    naming ``option``)."""
    if scatter is not None:
        tau_gal_within_limits(scatter.tau_values.tolist(), option)
    return scatter


def _say(line: str) -> None:
    """A progress or status line on stderr, as plain text."""
    err_console.print(line, markup=False, highlight=False, soft_wrap=True)


def _checkpoint(ds, nuisance: bool, scatter, engine: str = "auto"):
    """The checkpoint folder of a comparison on ``ds`` under ``scatter`` by ``engine``, refused now when it cannot be
    written (not at its first finished piece)."""
    from sigcube.io.cubes import cube_dir
    from sigcube.study.reports.compare import compare_checkpoint

    kept = compare_checkpoint(cube_dir() / "checkpoints", ds, nuisance, scatter, _say, engine)
    kept.check_writable()
    return kept


def _compare_one(ds, names: list[str], nuisance: bool, scatter, kept, fresh: bool, workers: int | None,
                 scheduler: str | None, synchronous: bool, engine: str = "auto", adequacy: bool = False) -> dict:
    """The comparison of ``names`` on ``ds`` under ``scatter`` by ``engine``: the report ``kept``
    (:func:`_checkpoint`) holds from a finished run, else computed (resuming from its finished pieces) and kept;
    with ``adequacy``, the error model's adequacy checks added (:mod:`sigcube.study.reports.adequacy`)."""
    from sigcube.study.reports.compare import compare_report, keep_report, kept_report, predictive_checks

    if fresh and kept.folder is not None:
        kept.clear()
    report = kept_report(kept, names)
    if report is not None:
        _say(f"from the finished run kept at {kept.folder}; --fresh recomputes")
    else:
        if kept.count():
            _say(f"resuming from {kept.folder} ({kept.count()} finished pieces)")
        report = _with_fits(ds, workers, scheduler, synchronous, "computing grids, fits and evidences …",
                            lambda run: compare_report(ds, names, nuisance=nuisance, run=run, scatter=scatter,
                                                       checkpoint=kept, progress=_say, engine=engine))
    if "predictive_checks" not in report:
        with err_console.status("predictive checks at the best points …"):
            report["predictive_checks"] = predictive_checks(ds, report)
    if adequacy and "nuisance" in report["runs"] and _stale_adequacy(report):
        from sigcube.study.reports.adequacy import REPLICATES, adequacy_checks

        with err_console.status(f"adequacy: {REPLICATES} samples drawn from each fitted model and treated as the "
                                "data …"):
            report["adequacy"] = adequacy_checks(ds, report, progress=_say)
    return keep_report(kept, names, report)


def _stale_adequacy(report: dict) -> bool:
    """Whether a comparison's adequacy checks are missing or were made under another rule (a kept report's are
    remade; its evidence is not)."""
    from sigcube.study.reports.adequacy import RULE

    return "adequacy" not in report or any(a.get("rule") != RULE for a in report["adequacy"].values())


def _curves(cube: str | None):
    """The loaded cube of rotation curves (SPARC's or a user's; default cubes/sparc.zarr, ingested if missing)."""
    from sigcube.io.cubes import open_cube
    from sigcube.io.datasets import curve_kinds

    return open_cube(dataset_cube("sparc", cube), kind=curve_kinds()).load()


def _with_fits(ds, workers: int | None, scheduler: str | None, synchronous: bool, status: str, build):
    """``build(run)`` for the cube ``ds``, its per-galaxy work run in this process (``synchronous``), on a
    LocalCluster of ``workers`` (default: one per core) or on ``scheduler``."""
    from sigcube.engines.fit.run import executor
    from sigcube.engines.sweep.engine import check_workers

    scheduler = check_workers(scheduler, workers, synchronous)
    with _task_bar(status) as tick, executor(scheduler, workers, synchronous, err_console, tick) as run:
        return build(run)


@contextmanager
def _task_bar(status: str) -> Iterator[Tick]:
    """A bar on stderr saying ``status`` and, for each batch of per-galaxy tasks, how many have finished, the time
    taken and the time left at the batch's pace (a spinner until the first batch starts)."""
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn,
                               TimeRemainingColumn)

    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("tasks"), TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn())
    with Progress(*columns, console=err_console, transient=True, disable=not err_console.is_terminal) as bar:
        task = bar.add_task(escape(status), total=None)

        def tick(done: int, total: int) -> None:
            if done == 0:
                bar.reset(task, total=total)
            bar.update(task, completed=done, refresh=True)

        yield tick
