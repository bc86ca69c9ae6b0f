"""`sigcube report sweep`: the optimum of every global metric of a result cube, and for a nuisance sweep the
posterior of the global parameters (means, 68/95 % credible intervals, an edge warning, every prior stated)."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import xarray as xr
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from scipy.special import logsumexp

from sigcube.engines.sweep.nuisance import check_sweep_integrals, loglike_total, sweep_posterior
from sigcube.engines.sweep.result import (
    axis_defaults, best_parameters, edge_lines, edge_notes, grid_edges, parameter_dims, scatter_dims,
)
from sigcube.model.kernels import get_kernel
from sigcube.model.metrics import get_metric, metric_names
from sigcube.stats.posterior import LEVELS, GridPosterior, Marginal1D, cell_edges, grid_posterior


def sweep_report(ds: xr.Dataset, cube: xr.Dataset | None = None) -> dict[str, Any]:
    """Best grid point per global metric, and every metric at the fixed-parameter point.

    The reference point is the spec's fixed parameters with each swept parameter at its
    kernel default when the grid contains it (e.g. the canonical A0 and k). With ``cube`` (the dataset cube a
    marginalising nuisance sweep read) the per-galaxy integrals at the posterior's largest grid point are checked
    (:func:`~sigcube.engines.sweep.nuisance.check_sweep_integrals`).
    """
    dims = parameter_dims(ds)
    metrics = [name for name in metric_names("global") if name in ds]
    kernel = get_kernel(ds.attrs["kernel"])
    fixed = json.loads(ds.attrs["fixed_parameters"])
    out: dict[str, Any] = {
        "sweep": ds.attrs["sweep_name"],
        "kernel": kernel.name,
        "baseline": ds.attrs["baseline"],
        "grid": {d: int(ds.sizes[d]) for d in dims},
        "units": {d: str(ds[d].attrs.get("units", "")) for d in dims},
        "fixed_parameters": fixed,
        "best": {name: best_parameters(ds, name) for name in metrics},
    }
    scatter = scatter_dims(ds)
    ref = {d: v for d, v in axis_defaults(ds).items() if d not in scatter}
    on_grid = all(np.any(ds[d].values == v) for d, v in ref.items())
    if on_grid:  # the kernel metrics do not depend on σ_int: any of its values will do
        point = ds.isel({d: 0 for d in scatter}).sel(ref)
        out["default_point"] = {**ref, **{name: float(point[name]) for name in metrics}}
    if "loglike" in ds:
        out["posterior"] = posterior_summary(ds)
    if cube is not None:
        out["integrals"] = check_sweep_integrals(ds, cube)
    edges = grid_edges(ds, metrics, per_object=None if "loglike" in ds else "rms")  # a posterior has its own checks
    out["edges"] = edges
    out["warnings"] = edge_lines(edges)
    out["notes"] = edge_notes(edges)
    return out


def posterior_summary(ds: xr.Dataset) -> dict[str, Any]:
    """The nuisance sweep's posterior: per grid axis the mean, sd, 68/95 % intervals, end-cell masses, and the
    model it rests on (every prior, the likelihood and error model, the global prior, the data's size)."""
    post = sweep_posterior(ds)
    group = ds["loglike"].dims[-1]
    n_points = int(ds["n_points"].sum()) if "n_points" in ds else None
    total = loglike_total(ds)
    best = np.unravel_index(int(np.nanargmax(total)), total.shape)
    axes = {}
    for name in post.axes:
        axes[name] = {**_marginal(post.marginal(name)), "units": str(ds[name].attrs.get("units", ""))}
    scatter = scatter_dims(ds)
    return {
        **({"scatter": scatter_summary(ds, post, scatter[0])} if scatter else {}),
        "numerics": grid_numerics(total, post),
        "marginals": marginals_json(post),
        "defaults": default_point(ds, axes),
        "axes": axes,
        "model": ds["loglike"].attrs.get("nuisance", "").split("\n"),
        "global_prior": post.prior,
        "log_evidence": post.log_evidence,
        "loglike_total_max": float(total[best]),
        "at_max": {d: float(ds[d].values[i]) for d, i in zip(post.axes, best)},
        "objects": int(ds.sizes[group]),
        "points": n_points,
        "nuisance_parameters": [n for n in ds["loglike"].attrs.get("nuisance_parameters", "").split(",") if n],
        "profile_at_max": {name[len("nuisance_"):]: ds[name].values[best].astype(float).tolist()
                           for name in ds.data_vars if name.startswith("nuisance_")},
    }


def marginals_json(post: GridPosterior) -> dict[str, Any]:
    """The posterior's grid axes, its 1-D marginals and the 2-D marginal of every pair of axes (mass per grid point,
    axes in grid order): what a figure of the report draws its marginals and credible contours from."""
    names = list(post.axes)
    return {"axes": {n: post.axes[n].tolist() for n in names},
            "one": {n: post.marginal(n).mass.tolist() for n in names},
            "two": {f"{a}|{b}": post.marginal2d(a, b).tolist() for i, a in enumerate(names) for b in names[i + 1:]}}


def default_point(ds: xr.Dataset, axes: dict[str, Any]) -> dict[str, Any]:
    """Where the kernel's default value of each swept kernel parameter (e.g. the paper's canonical A0 and k) stands in
    its marginal posterior: the value, its distance from the mean in posterior sd, whether it lies inside the 95 %
    interval and inside the grid's range."""
    out = {}
    for name, value in axis_defaults(ds).items():
        if name in scatter_dims(ds) or name not in axes:
            continue
        a, grid = axes[name], ds[name].values
        out[name] = {"value": float(value), "z": (float(value) - a["mean"]) / a["sd"] if a["sd"] > 0 else math.inf,
                     "inside_ci95": bool(a["ci95"][0] <= value <= a["ci95"][1]),
                     "inside_grid": bool(grid.min() <= value <= grid.max())}
    return out


GRID_TOLERANCE = 0.1
"""|ln Z(grid) − ln Z(every other point)| [nat] above which a report says the grid does not resolve the evidence."""
PRIOR_NOTE = ("the global prior is the grid's own range (equal mass per grid point): its log-evidence compares only "
              "with sweeps over the same ranges, and a grid zoomed on the posterior after looking at the data is not "
              "a prior fixed beforehand, so its evidences are not Bayes factors (report compare integrates over "
              "prior ranges fixed in advance)")


def grid_numerics(total: np.ndarray, post: GridPosterior) -> dict[str, Any]:
    """How well the grid resolves the posterior: ln Z and each axis's mean on the grid against the same on its sub-grid
    of every other point (twice the step, on every axis of ≥ 3 values): ``grid_change`` |Δ ln Z| [nat] and, per axis,
    the shift of the mean in units of its sd; ``resolved`` when ln Z moves by at most :data:`GRID_TOLERANCE`."""
    finite = np.where(np.isfinite(total), total, -np.inf)
    step = tuple(slice(None, None, 2) if n >= 3 else slice(None) for n in finite.shape)
    sub = finite[step]
    log_z = float(logsumexp(finite) - np.log(finite.size))
    log_z_sub = float(logsumexp(sub) - np.log(sub.size))
    shifts = {}
    if np.isfinite(sub).any():
        coarse = grid_posterior(np.where(np.isfinite(sub), sub, -np.inf) if np.isfinite(sub).any() else sub,
                                {n: v[s] for (n, v), s in zip(post.axes.items(), step)})
        for name in post.axes:
            fine, half = post.marginal(name), coarse.marginal(name)
            shifts[name] = abs(fine.mean - half.mean) / fine.sd if fine.sd > 0 else math.inf
    change = abs(log_z - log_z_sub)
    return {"grid_change": change, "mean_shift_sd": shifts, "resolved": bool(change <= GRID_TOLERANCE),
            "tolerance": GRID_TOLERANCE, "prior_note": PRIOR_NOTE,
            "method": "ln Z (equal mass per point) and each marginal's mean on the grid and on its sub-grid of every "
                      "other point; the change estimates the grid's numerical error"}


def _marginal(m: Marginal1D) -> dict[str, Any]:
    """Mean, sd, credible intervals, end-cell masses and resolution of a 1-D marginal."""
    return {"mean": m.mean, "sd": m.sd, "edge_mass": list(m.edge_mass), "on_edge": m.on_edge,
            "largest_cell_mass": float(np.max(m.mass)), "unresolved": m.unresolved,
            **{f"ci{int(round(100 * lv))}": list(m.interval(lv)) for lv in LEVELS}}


def scatter_summary(ds: xr.Dataset, post: GridPosterior, axis: str) -> dict[str, Any]:
    """The joint posterior of the kernel's parameters and the intrinsic scatter on axis ``axis``: the error model,
    and per σ_int value its marginal mass and the kernel parameters' posterior given that σ_int (mean, sd)."""
    names = list(post.axes)
    k = names.index(axis)
    kernel = [n for n in names if n != axis]
    rows = []
    for i, value in enumerate(post.axes[axis]):
        mass = np.take(post.mass, i, axis=k)
        total = float(mass.sum())
        given = {}
        if total > 0:
            for j, n in enumerate(kernel):
                m = Marginal1D(n, post.axes[n], mass.sum(axis=tuple(q for q in range(len(kernel)) if q != j)) / total,
                               cell_edges(post.axes[n]))
                given[n] = {"mean": m.mean, "sd": m.sd}
        rows.append({"value": float(value), "mass": total, "given": given})
    attrs = ds[axis].attrs
    return {"axis": axis, "error_model": attrs["error_model"], "units": str(attrs.get("units", "")),
            "meaning": str(attrs.get("long_name", "")), "kernel_parameters": kernel, "rows": rows}


def render(result: dict[str, Any], console: Console | None = None) -> None:
    """Print the sweep report as a rich table."""
    console = console or Console()
    grid = " × ".join(f"{k}[{v}]" for k, v in result["grid"].items())
    if not result["best"]:
        console.print(f"sweep {result['sweep']!r}: {result['kernel']} over {grid} stored no global metric "
                      "(only per-object ones): no best grid point", highlight=False, markup=False)
        return
    table = Table(title=f"sweep {result['sweep']!r}: {result['kernel']} over {grid} (baseline {result['baseline']})",
                  title_justify="left")
    dims = list(result["grid"])
    table.add_column("metric")
    table.add_column("best", justify="right")
    units = result.get("units", {})
    for d in dims:
        table.add_column(escape(f"at {d}" + (f" [{units[d]}]" if units.get(d) else "")), justify="right")
    if "default_point" in result:
        table.add_column("at defaults", justify="right")
    for name, best in result["best"].items():
        m = get_metric(name)
        unit = m.table_units or m.units
        row = [f"{name} [{unit}]" if unit else name, f"{m.in_table_units(best[name]):.4g}",
               *(_fmt(best[d]) if d in best else "any" for d in dims)]
        if "default_point" in result:
            row.append(f"{m.in_table_units(result['default_point'][name]):.4g}")
        table.add_row(*row)
    console.print(table)
    if "default_point" in result:
        ref = ", ".join(_with_unit(d, result["default_point"][d], units.get(d, "")) for d in dims
                        if d in result["default_point"])
        console.print(f"[dim]defaults: {escape(ref)}[/dim]")
    if any(d not in best for best in result["best"].values() for d in dims):
        console.print("[dim]any: the kernel metrics do not depend on the likelihood's intrinsic scatter σ_int[/dim]")
    for note in result.get("notes", []):
        console.print(f"note: {note}", highlight=False, markup=False, soft_wrap=True)
    for warning in result.get("warnings", []):
        console.print(f"⚠ {warning}", highlight=False, markup=False, soft_wrap=True)
    if "posterior" in result:
        render_posterior(result["posterior"], console)
    if "integrals" in result:
        render_integrals(result["integrals"], console)


def render_integrals(check: dict[str, Any], console: Console) -> None:
    """The flagged galaxies of the integral check, or one line saying none was."""
    at = ", ".join(f"{d}={_fmt(v)}" for d, v in check["point"].items())
    rows = check["flagged"]
    if not rows:
        console.print(f"integrals at {at}: none of the {check['objects']} galaxies flagged "
                      f"(tolerance {check['tolerance']:g} nat)", highlight=False, markup=False)
    else:
        table = Table(title=f"integrals at {at}: {len(rows)} of {check['objects']} galaxies flagged; "
                            f"Σ(refined − stored) = {check['shift']:+.3f} nat", title_justify="left")
        for name in ("galaxy", "ln Z [nat]", "change [nat]", "refined [nat]", "nodes", "last change", ""):
            table.add_column(name, justify="left" if name == "galaxy" else "right")
        for r in rows:
            note = ("mode near the z-box edge; " if r["near_edge"] else "") + ("" if r["settled"] else "unsettled")
            table.add_row(r["galaxy"], f"{r['log_z']:.3f}", f"{r['change']:+.3f}", f"{r['refined']:.3f}",
                          str(r["refined_nodes"] or "–"), f"{r['refined_change']:+.4f}", note.rstrip("; "))
        console.print(table)
    console.print(f"[dim]{check['method']}[/dim]", highlight=False)
    count = check.get("node_count")
    if count:
        verdict = "accepted" if count["accepted"] else "NOT accepted: use more nodes"
        console.print(f"{count['nodes']} nodes for every galaxy: Σ ln Z differs from the node rule's by "
                      f"{count['shift']:+.3f} nat (limit ±{count['limit']:.3f}) — {verdict}", highlight=False,
                      markup=False)
        console.print(f"[dim]{escape(count['describe'])}; {escape(count['rule']['rule'])}[/dim]", highlight=False)
    if check["unsettled"]:
        console.print(f"⚠ {check['unsettled']} flagged integral(s) still moved at the largest node count: their ln Z "
                      "is uncertain by about the last change", highlight=False, markup=False)


def render_posterior(post: dict[str, Any], console: Console) -> None:
    """The posterior table, the edge warnings and the model statement."""
    table = Table(title=f"posterior over the grid ({post['objects']} objects, {post['points']} points; nuisance "
                        "parameters per object)", title_justify="left")
    for col in ("parameter", "mean ± sd", "68 % interval", "95 % interval", "end-cell mass"):
        table.add_column(col, justify="left" if col == "parameter" else "right")
    for name, a in post["axes"].items():
        unit = a.get("units", "")
        table.add_row(escape(f"{name} [{unit}]") if unit else name, f"{a['mean']:.4g} ± {a['sd']:.2g}",
                      "[{:.4g}, {:.4g}]".format(*a["ci68"]), "[{:.4g}, {:.4g}]".format(*a["ci95"]),
                      "{:.2g} / {:.2g}".format(*a["edge_mass"]))
    console.print(table)
    if "scatter" in post:
        render_scatter(post["scatter"], console)
    for line in posterior_axis_warnings(post):
        console.print(f"⚠ {line}", highlight=False, markup=False, soft_wrap=True)
    defaults = post.get("defaults", {})
    if defaults:
        outside = [n for n, d in defaults.items() if not d["inside_ci95"]]
        console.print("the kernel's default point (" + ", ".join(_with_unit(n, d["value"], post["axes"][n].get("units", ""))
                                                                 for n, d in defaults.items())
                      + "): " + "; ".join(f"{n} {d['z']:+.1f} sd from the posterior mean"
                                           + ("" if d["inside_grid"] else ", outside the grid")
                                           for n, d in defaults.items())
                      + (" — outside the 95 % interval of " + ", ".join(outside) + ": excluded by this posterior"
                         if outside else " — inside every 95 % interval: not excluded"),
                      highlight=False, markup=False, soft_wrap=True)
    at = ", ".join(_with_unit(d, v, post["axes"].get(d, {}).get("units", "")) for d, v in post["at_max"].items())
    num = post["numerics"]
    console.print(f"max Σ loglike = {post['loglike_total_max']:.2f} nat at {at}; grid log-evidence "
                  f"{post['log_evidence']:.2f} ± {num['grid_change']:.2g} nat (the change on the sub-grid of every "
                  "other point)", highlight=False, markup=False)
    for line in posterior_grid_warnings(post):
        console.print(f"⚠ {line}", highlight=False, markup=False, soft_wrap=True)
    console.print(f"note: {num['prior_note']}", highlight=False, markup=False, soft_wrap=True)
    free = post["nuisance_parameters"]
    n_global = len(post["axes"])
    per_object = len(free) - ("upsilon_bul" in free)
    console.print(f"data: {post['points']} points of {post['objects']} objects; fitted: {n_global} global parameters "
                  f"on the grid + {per_object} nuisance parameters per object ({', '.join(free)}; Υ_bul one more for "
                  f"each galaxy with a bulge): dof ≤ {post['points'] - n_global - per_object * post['objects']}",
                  highlight=False, markup=False)
    for name, values in post["profile_at_max"].items():
        q = np.nanpercentile(values, [16, 50, 84])
        console.print(f"profiled {name} at the maximum, across objects: median {q[1]:.4g} (16–84 %: {q[0]:.4g}–{q[2]:.4g})",
                      highlight=False, markup=False)
    for line in post["model"]:  # every prior, the likelihood and error model, the reduction, the global prior
        console.print(line, highlight=False, markup=False, soft_wrap=True)


def posterior_axis_warnings(post: dict[str, Any]) -> list[str]:
    """A posterior truncated by an end of the grid, or held by one grid cell, one line per axis (without the ⚠)."""
    out = []
    for name, a in post["axes"].items():
        if a["on_edge"]:
            side = "lower" if a["edge_mass"][0] >= a["edge_mass"][1] else "upper"
            out.append(f"{name}: {max(a['edge_mass']):.1%} of the posterior sits in the {side} end cell of the grid: "
                       "the posterior is truncated there and its interval is too narrow; widen the axis")
        if a["unresolved"]:
            out.append(f"{name}: {a['largest_cell_mass']:.0%} of the posterior sits in one grid cell: the grid does not "
                       "resolve it (the intervals reflect the cell width); refine the axis around the mean")
    return out


def posterior_grid_warnings(post: dict[str, Any]) -> list[str]:
    """An evidence or posterior means the grid does not resolve (its sub-grid of twice the step moves them)."""
    num = post["numerics"]
    out = []
    if not num["resolved"]:
        out.append(f"the grid does not resolve the evidence: ln Z moves by {num['grid_change']:.3g} nat when its step "
                   "doubles; refine the axes")
    moved = [f"{n} {v:.2g} sd" for n, v in num["mean_shift_sd"].items() if v > 0.25]
    if moved:
        out.append("posterior means move on the sub-grid of twice the step by " + ", ".join(moved)
                   + ": refine those axes")
    return out


def warning_lines(result: dict[str, Any]) -> list[str]:
    """Every warning the sweep report prints (each without its ⚠): best points cut off by an end of the grid, and a
    nuisance sweep's posterior truncated, unresolved or moved by the grid."""
    post = result.get("posterior")
    return [*result.get("warnings", []),
            *((posterior_axis_warnings(post) + posterior_grid_warnings(post)) if post else [])]


def render_scatter(scatter: dict[str, Any], console: Console) -> None:
    """The joint posterior over σ_int and the kernel's parameters: per σ_int value its mass and the kernel
    parameters given it (rows holding < 10⁻⁴ of the mass are left out)."""
    unit = scatter["units"]
    console.print(f"{scatter['axis']}: {scatter['meaning']}; the marginals above are over every other axis (the "
                  "kernel parameters' over σ_int, σ_int's over the kernel parameters)",
                  highlight=False, markup=False, soft_wrap=True)
    console.print(f"joint posterior: σ_int [{unit}] × kernel parameters (each given σ_int)", highlight=False,
                  markup=False)
    table = Table()
    table.add_column(escape(f"σ_int [{unit}]"), justify="right")
    table.add_column("mass", justify="right")
    for name in scatter["kernel_parameters"]:
        table.add_column(f"{name} | σ_int", justify="right")
    shown = [row for row in scatter["rows"] if row["mass"] >= 1e-4]
    for row in shown:
        table.add_row(f"{row['value']:.4g}", f"{row['mass']:.3g}",
                      *(f"{row['given'][n]['mean']:.4g} ± {row['given'][n]['sd']:.2g}"
                        for n in scatter["kernel_parameters"]))
    console.print(table)
    left = len(scatter["rows"]) - len(shown)
    if left:
        console.print(f"({left} σ_int values holding < 1e-4 of the mass each not shown)", highlight=False,
                      markup=False)


def _fmt(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _with_unit(name: str, value: Any, unit: str) -> str:
    """``name = value unit`` (no unit for a dimensionless parameter or a switch)."""
    return f"{name} = {_fmt(value)}" + (f" {unit}" if unit and unit.strip() else "")
