"""Run a fit spec over a dataset cube as Dask tasks (chunks of objects) and build the per-object result cube."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import xarray as xr
from rich.console import Console

from sigcube.engines.dask import Runner, Tick, client_when_needed, counted_in_process, in_process, quiet_dask, stream
from sigcube.engines.fit.core import fit_objects
from sigcube.engines.fit.spec import FitSpec
from sigcube.errors import SigcubeError
from sigcube.io import datasets
from sigcube.io.cubes import FIT_KIND
from sigcube.model.points import PointSet

ATTRS: dict[str, dict[str, str]] = {
    "chi2": {"units": "", "long_name": "χ² at the best fit (data only, errors as quoted)"},
    "objective": {"units": "", "long_name": "minimised objective: χ², plus |z|² of the nuisance priors when profiled"},
    "grid_objective": {"units": "", "long_name": "best objective on the coarse grid"},
    "chi2_red": {"units": "", "long_name": "χ²/(N − k − d); NaN where N − k − d ≤ 0"},
    "n_points": {"units": "", "long_name": "N, the object's points"},
    "dof": {"units": "", "long_name": "degrees of freedom N − k − d"},
    "dof_ok": {"units": "", "long_name": "N − k − d > 0"},
    "converged": {"units": "", "long_name": "the best local optimisation met its tolerance"},
    "evaluations": {"units": "", "long_name": "residual evaluations of the local optimiser (all starts)"},
}
"""Units and long names of the per-object outputs other than the parameters."""


def _chunks(n: int, size: int) -> list[tuple[int, int]]:
    return [(lo, min(lo + size, n)) for lo in range(0, n, size)]


@contextmanager
def executor(scheduler: str | None = None, workers: int | None = None, synchronous: bool = False,
             console: Console | None = None, tick: Tick | None = None) -> Iterator[Runner]:
    """A :data:`~sigcube.engines.dask.Runner` on a Dask cluster (``scheduler``, or a LocalCluster of ``workers``
    processes, as sweeps: :func:`sigcube.engines.dask.dask_client`; a LocalCluster starts while the command goes on
    until its first tasks, :func:`sigcube.engines.dask.client_when_needed`), through the one driver of sweeps and fits
    (:func:`sigcube.engines.dask.stream`), or :func:`~sigcube.engines.dask.in_process` when ``synchronous``. Each
    call's ``shared`` arguments are scattered to the workers once; its results come back in the tasks' order;
    ``tick`` (:data:`~sigcube.engines.dask.Tick`) hears how many of each call's tasks have finished."""
    if synchronous:
        yield in_process if tick is None else counted_in_process(tick)
        return
    with quiet_dask(), client_when_needed(scheduler, workers, console or Console(stderr=True, quiet=True)) as client:
        def run(func: Callable[..., Any], shared: tuple, tasks: Sequence[tuple]) -> list[Any]:
            pending = list(range(len(tasks)))[::-1]
            results: list[Any] = [None] * len(tasks)
            done = [0]
            if tick is not None:
                tick(0, len(tasks))

            def finished(i: int, result: Any) -> None:
                results[i] = result
                done[0] += 1
                if tick is not None:
                    tick(done[0], len(tasks))

            stream(client(), _call, (func, shared, tuple(tasks)), lambda: pending.pop() if pending else None,
                   finished, key=lambda i: f"sigcube-{func.__name__.strip('_')}-{id(results):x}-{i}",
                   resume="run the command again")
            return results

        yield run


def _call(shared: tuple, i: int) -> Any:
    """Task ``i`` of a :data:`Runner`: ``func(*shared, *tasks[i])``."""
    func, args, tasks = shared
    return func(*args, *tasks[i])


def fit_points(spec: FitSpec, points: PointSet, catalogue: Any = None, run: Runner = in_process) -> xr.Dataset:
    """Fit every object of ``points`` (chunks of ``spec.chunk`` objects through ``run``): the result cube."""
    if spec.nuisance != "none" and catalogue is None:
        raise SigcubeError(f"fit {spec.name!r} profiles nuisance parameters: it needs the cube's catalogue")
    parts = run(_fit_chunk, (spec, points, catalogue), _chunks(points.n_galaxies, spec.chunk))
    out = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
    group = points.group
    ds = xr.Dataset({name: (group, values) for name, values in out.items()},
                    coords={group: np.asarray(points.galaxy, dtype=object)})
    for p in spec.free:
        param = spec.kernel.parameter(p.name)
        ds[p.name].attrs = dict(param.attrs)
        ds[f"{p.name}_err"].attrs = {"units": param.unit, "long_name": f"1σ of {p.name} from the Jacobian"}
        ds[f"{p.name}_at_bound"].attrs = {"units": "", "long_name": f"{p.name} on a bound of [{p.lower:g}, {p.upper:g}]"}
    for name in spec.nuisance_parameters:
        ds[name].attrs = {"units": "", "long_name": f"{name} at the profile (mode of L × prior)"}
        ds[f"{name}_err"].attrs = {"units": "", "long_name": f"1σ of {name} from the Jacobian"}
    for name, attrs in ATTRS.items():
        ds[name].attrs = attrs
    return ds.assign_attrs(sigcube_kind=FIT_KIND, kernel=spec.kernel.name, spec=json.dumps(spec.to_dict()),
                           sample_cuts=json.dumps(points.cuts.as_dict()), likelihood=likelihood_text(spec))


def _fit_chunk(spec: FitSpec, points: PointSet, catalogue: Any, lo: int, hi: int) -> dict[str, np.ndarray]:
    return fit_objects(spec, points, lo, hi, catalogue)


def likelihood_text(spec: FitSpec) -> str:
    """What a fit minimised, in words (stored in the cube, printed by reports)."""
    text = ("Gaussian errors as quoted, no error floor: χ² = Σ((V_obs − V_pred)/e_V)²; " if not spec.sigma_int else
            f"Gaussian errors with an error floor σ_int = {spec.sigma_int:g} km/s in quadrature: "
            "χ² = Σ(V_obs − V_pred)²/(e_V² + σ_int²); ")
    if spec.free:
        text += (f"{spec.k} fitted kernel parameter(s) per object, flat within their bounds: "
                 + ", ".join(f"{p.name} ∈ [{p.lower:g}, {p.upper:g}]{' (log grid)' if p.scale == 'log' else ''}"
                             for p in spec.free))
    else:
        text += f"no kernel parameter fitted ({spec.kernel.name} at its fixed values)"
    if spec.nuisance == "profile":
        from sigcube.stats.nuisance import NUISANCE_PARAMETERS
        text += ("; nuisance profiled: minimise χ² + |z|², z the priors' normal deviates of "
                 + ", ".join(n for n in NUISANCE_PARAMETERS if n in spec.nuisance_parameters)
                 + " (priors " + json.dumps(spec.priors, sort_keys=True) + "); dof = N − k − d")
    else:
        text += "; Υ, D, i at the catalogue / packing values; dof = N − k"
    return text


def fit_cube(spec: FitSpec, cube: xr.Dataset, run: Runner = in_process) -> xr.Dataset:
    """Pack ``cube`` (its kind's sample) and fit every object."""
    points = datasets.pack(cube)
    catalogue = None
    if spec.nuisance != "none":
        from sigcube.stats.nuisance import Catalogue
        catalogue = Catalogue.from_cube(cube, points)
    ds = fit_points(spec, points, catalogue, run)
    return ds.assign_attrs(dataset=str(cube.attrs.get("sigcube_kind", "")),
                           dataset_content_sha256=str(cube.attrs.get("content_sha256", "")))



def summary(ds: xr.Dataset) -> list[str]:
    """Two lines on a fit result cube: what was fitted to how many objects, then the χ²_red median and mean
    (objects with N − k − d > 0), convergence and at-bound counts."""
    spec = json.loads(ds.attrs["spec"])
    group = ds["chi2"].dims[0]
    n = ds.sizes[group]
    free = ", ".join(f"{name} ∈ [{p['bounds'][0]:g}, {p['bounds'][1]:g}]" for name, p in spec["free"].items())
    red = ds["chi2_red"].values
    ok = np.isfinite(red)
    chi2 = (f"χ²_red median {np.median(red[ok]):.3g}, mean {np.mean(red[ok]):.3g} over {int(ok.sum())} objects"
            if ok.any() else "no object with N − k − d > 0: no χ²_red")
    bounds = "".join(f"; {name} on a bound {int(ds[f'{name}_at_bound'].sum())}" for name in spec["free"])
    return [f"fit {spec['name']!r}: kernel {ds.attrs['kernel']}, {n} objects ({group}), free {free or 'none'}, "
            f"nuisance {spec['nuisance']['mode']}",
            f"{chi2}; {int(ds['converged'].sum())} of {n} converged{bounds}; "
            f"{int((~ds['dof_ok'].values.astype(bool)).sum())} with N − k − d ≤ 0"]
