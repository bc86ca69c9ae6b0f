"""Run a joint sweep: each dataset's sweep by the one sweep engine, then the joint likelihood and posteriors.

Every dataset of a :class:`~sigcube.engines.joint.spec.JointSpec` is swept by
:func:`sigcube.engines.sweep.run_sweep` — object-chunked, resumable, Dask-distributed, into a result cube of its own
beside ``--out`` (``<out stem>.probes/<label>.zarr``, a path or a store URL) — over the grid axes it depends on
(an axis it is declared ``independent_of`` is checked first: V_pred on its points must not change along it). Its
per-object ln L over that grid then comes from the stored result by the dataset's stated likelihood:

- a view with its own likelihood (e.g. ``clusters:lensing``): from the stored V_pred (the sweep keeps the curves),
  or, when its options integrate nuisance parameters that move the prediction itself (a baryonic-mass scale, a path
  length per object), from the kernel evaluated by the likelihood over the sweep's grid;
- a ``[nuisance]`` table: the stored ``loglike`` (nuisance parameters marginalised or profiled);
- otherwise the Gaussian of :class:`sigcube.stats.likelihood.GaussianLikelihood` at the catalogue values,
  ln L = −½χ² − Σ ln(√(2π)·e_V), from the stored χ² and the packed errors.

A variant (``[[datasets.variants]]``) reads its dataset's sweep under its own likelihood options: no sweep of its own.

The joint result cube (kind ``joint``, written whole, checksummed and sealed: :func:`sigcube.engines.fit.store.claim`)
holds ``loglike_<label>`` (the dataset's grid axes, within its ``range``, × ``<label>_<object>``), ``loglike_total``
(probe × grid: each dataset's or variant's sum, constant along the axes it does not depend on, −∞ outside its range),
``loglike_joint`` (the sum over the datasets, variants left out: the datasets are independent given the
parameters), ``posterior`` (probe × grid) and ``posterior_joint`` (mass per grid point under the equal-mass grid
prior), ``log_evidence`` (probe) and ``log_evidence_joint``; each likelihood is stated in its variable's attributes
and in ``probes`` (JSON, with each integral's numerical error and each range's truncation). A rerun resumes each
dataset's sweep and rewrites the joint cube.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from rich.console import Console

from sigcube.engines.fit.store import claim, sealed
from sigcube.engines.nuisance_spec import GLOBAL_PRIOR
from sigcube.engines.sweep.engine import SweepSummary, check_workers, run_sweep
from sigcube.engines.sweep.objects import choose_chunk, chunk_source, load_points, plan_objects
from sigcube.engines.sweep.result import object_dim, open_result
from sigcube.engines.joint.spec import TRUNCATION, JointSpec, ProbeSpec
from sigcube.errors import SchemaError, SigcubeError, SpecError
from sigcube.io.cubes import (
    JOINT_KIND, Verify, checked_manifest, default_cube, describe, kind_of, open_cube, open_dataset, store_attrs,
)
from sigcube.io.datasets import dataset_kind
from sigcube.io.stores import Location
from sigcube.stats.likelihood import GaussianLikelihood
from sigcube.stats.posterior import grid_posterior
from sigcube.version import __version__

REMEDY = "run the joint sweep again with --force to replace it"
GAUSSIAN = ("Gaussian in V at the catalogue Υ, D, i (no nuisance parameters): ln L = −½χ² − Σ ln(√(2π)·e_V) per "
            "object, χ² = Σ((V_pred − V_obs)/e_V)² from the dataset's sweep")
"""The likelihood of a dataset without nuisance parameters or a likelihood of its own."""


@dataclass
class JointSummary:
    """What a joint run did: each dataset's sweep (None: the joint cube was already complete), the wall time,
    the joint posterior's best grid point."""

    path: str
    probes: dict[str, SweepSummary | None]
    seconds: float
    best: dict[str, float] = field(default_factory=dict)

    def line(self) -> str:
        best = ", ".join(f"{k}={v:.4g}" for k, v in self.best.items())
        return f"{self.path}: {len(self.probes)} datasets in {self.seconds:.1f} s; joint posterior mode: {best}"


def probe_store(out: str | Path, label: str) -> str:
    """Where dataset ``label``'s sweep of the joint sweep at ``out`` is stored: ``<out stem>.probes/<label>.zarr``."""
    text = str(out).rstrip("/")
    stem = text[:-len(".zarr")] if text.endswith(".zarr") else text
    return f"{stem}.probes/{label}.zarr"


def check_independence(probe: ProbeSpec, cube: str | Path, axes: Mapping[str, np.ndarray]) -> None:
    """Refuse (SpecError) an ``independent_of`` axis along which V_pred changes on the dataset's first object chunk
    (the other parameters at the middle of their axes, the dataset's own fixed values)."""
    if not probe.independent_of:
        return
    sweep = probe.sweep
    location = Location.of(cube, "--cube")
    plan, attrs = plan_objects(location, sweep.dataset, sweep.cuts)
    source = chunk_source(location, sweep.dataset, attrs, sweep.cuts, plan, choose_chunk(plan, sweep.object_chunk))
    points = load_points(source, 0)
    kernel_params = {p.name for p in sweep.kernel.parameters}
    base = {**sweep.fixed, **{a.name: a.values[len(a) // 2] for a in sweep.axes if a.name in kernel_params}}
    for name in probe.independent_of:
        if name not in kernel_params:
            continue  # another dataset's likelihood parameter (σ_int): not read by this dataset (checked at parsing)
        values = axes[name]
        ref = sweep.kernel(points.inputs, **{**base, name: values[0]})
        for v in values[1:]:
            other = sweep.kernel(points.inputs, **{**base, name: v})
            if not np.array_equal(ref, other, equal_nan=True):
                gap = float(np.nanmax(np.abs(other - ref)))
                raise SpecError(f"[[datasets]] {probe.label!r}.independent_of: V_pred on {sweep.dataset} changes "
                                f"with {name} (by up to {gap:.3g} km/s between {name} = {values[0]:g} and {v:g}); "
                                "drop it from independent_of")


def _own_likelihood(probe: ProbeSpec, cube: str | Path) -> Any:
    """The view's own likelihood bound to its cube (None for a dataset without one); options checked."""
    record = dataset_kind(probe.sweep.dataset)
    if record.likelihood is None:
        if probe.options:
            raise SpecError(f"[[datasets]] {probe.label!r}.likelihood: {probe.sweep.dataset} has no likelihood "
                            "options (only a view with its own likelihood takes them)")
        return None
    data = open_cube(cube, kind=probe.sweep.dataset).load()
    try:
        own = record.likelihood(data, probe.sweep.cuts, probe.options)
        if hasattr(own, "check"):
            own.check(probe.sweep.kernel, probe.sweep.fixed)
        return own
    except SigcubeError as exc:
        raise SpecError(f"[[datasets]] {probe.label!r}.likelihood: {exc}") from None


def probe_loglike(probe: ProbeSpec, result: xr.Dataset, cube: str | Path, own: Any
                  ) -> tuple[xr.DataArray, str, dict[str, Any]]:
    """Dataset ``probe``'s ln L per object over its grid axes [nat] (object dim ``<label>_<object>``) from its sweep's
    ``result``, its likelihood in words (module docstring) and what its integral did (nodes, numerical error)."""
    group = object_dim(result)
    names = [str(n) for n in result[group].values]
    grid = [d for d in result["done"].dims]
    integral: dict[str, Any] = {}
    if own is not None and own.marginalises:
        mesh = np.meshgrid(*(np.asarray(result[d].values, dtype=float) for d in grid), indexing="ij")
        evaluation = own.evaluate(probe.sweep.kernel, probe.sweep.fixed, {d: m.ravel() for d, m in zip(grid, mesh)})
        names = list(evaluation.objects)
        ll = xr.DataArray(evaluation.values.reshape(*mesh[0].shape, len(names)), dims=(*grid, group),
                          coords={d: result[d].values for d in grid})
        text = own.describe()
        integral = {"nodes": evaluation.nodes, "shared_step": evaluation.shared_step,
                    "quadrature_error": evaluation.quadrature_error, "settled": evaluation.settled}
    elif own is not None:
        if list(own.names) != names:
            raise SigcubeError(f"{probe.label}: the likelihood's objects differ from its sweep's; rerun with --force")
        values = own.log_likelihood(np.asarray(result["v_pred"].values, dtype=float))
        ll = xr.DataArray(values, dims=(*grid, group), coords={d: result[d].values for d in grid})
        text = own.describe()
        integral = {"nodes": 0, "shared_step": None, "quadrature_error": 0.0, "settled": True}
    elif "loglike" in result:
        ll = result["loglike"].load().reset_coords(drop=True)
        text = result["loglike"].attrs.get("nuisance", "")
    else:
        data = open_cube(cube, kind=probe.sweep.dataset).load()
        points = dataset_kind(probe.sweep.dataset).packer(data, probe.sweep.cuts)
        if [str(n) for n in points.galaxy] != names:
            raise SigcubeError(f"{probe.label}: the cube's objects differ from its sweep's; rerun with --force")
        bound = GaussianLikelihood().bind(points.inputs["v_obs"], points.inputs["e_v_obs"], points.offsets)
        ll = (bound.log_norm0 - 0.5 * result["chi2"].load()).reset_coords(drop=True)
        text = GAUSSIAN
    obj = f"{probe.label}_{group}"
    ll = ll.rename({group: obj}).assign_coords({obj: np.asarray(names, dtype=np.dtypes.StringDType())})
    return ll.transpose(*grid, obj), text, integral


def truncation(probe: ProbeSpec, total: xr.DataArray, axes: Mapping[str, np.ndarray]) -> dict[str, list[float | None]]:
    """Per ``range`` axis of ``probe``, how far below its largest value [nat] its summed ln L ``total`` is at each end
    of the range that cuts the grid's ``axes`` (None at an end the grid ends at too); a SigcubeError when one is less
    than :data:`TRUNCATION` (the range cuts the posterior)."""
    top = float(total.max())
    out: dict[str, list[float | None]] = {}
    for name in probe.ranges:
        values, full = total[name].values, axes[name]
        ends = [None if v == edge else top - float(total.isel({name: i}).max())
                for i, v, edge in ((0, values[0], full[0]), (-1, values[-1], full[-1]))]
        out[name] = ends
        if min((e for e in ends if e is not None), default=np.inf) < TRUNCATION:
            shown = " and ".join("—" if e is None else f"{e:.1f}" for e in ends)
            raise SigcubeError(f"[[datasets]] {probe.label!r}.range.{name}: its ln L at the range's ends is only "
                               f"{shown} nat below its largest value (needs ≥ {TRUNCATION:g}): widen the range")
    return out


def joint_dataset(spec: JointSpec, results: Mapping[str, xr.Dataset], cubes: Mapping[str, str],
                  owns: Mapping[str, Any]) -> xr.Dataset:
    """The joint result cube (module docstring) from every dataset's sweep result."""
    axes = {a.name: np.asarray(a.values, dtype=float) for a in spec.axes}
    dims = tuple(axes)
    template = xr.DataArray(np.zeros(tuple(len(v) for v in axes.values())), dims=dims, coords=axes)
    data_vars: dict[str, Any] = {}
    totals, probes = [], []
    for probe in spec.probes:
        base = probe.variant_of or probe.label
        ll, text, integral = probe_loglike(probe, results[base], cubes[base], owns[probe.label])
        obj = ll.dims[-1]
        data_vars[f"loglike_{probe.label}"] = ll.assign_attrs(
            units="nat", long_name=f"ln L per object of {'variant' if probe.variant_of else 'dataset'} "
                                   f"{probe.label!r}", likelihood=text,
            constant_along=",".join(probe.independent_of))
        own_total = ll.sum(obj, skipna=False)
        cut = truncation(probe, own_total, axes)
        own_total = own_total.reindex({d: axes[d] for d in own_total.dims}, fill_value=-np.inf)
        total = (own_total + template).transpose(*dims)
        totals.append(total.drop_vars([c for c in total.coords if c not in dims]))
        sweep = probe.sweep
        probes.append({"label": probe.label, "dataset": sweep.dataset, "cube": str(cubes[base]),
                       "sweep": results[base].attrs.get("sweep_name"),
                       "sweep_fingerprint": sweep.fingerprint(),
                       "fixed": {k: (v.item() if hasattr(v, "item") else v) for k, v in sweep.fixed.items()},
                       "independent_of": list(probe.independent_of), "objects": int(ll.sizes[obj]),
                       "object_dim": obj, "cuts": sweep.cuts.as_dict(), "likelihood": text,
                       "likelihood_options": probe.options,
                       "likelihood_choices": owns[probe.label].choices() if owns[probe.label] is not None else None,
                       **_own_statements(probe, owns[probe.label]),
                       "variant_of": probe.variant_of,
                       "description": probe.description,
                       "range": {k: list(v) for k, v in probe.ranges.items()}, "truncation": cut,
                       "integral": integral or _nuisance_integral(sweep)})
    labels = [p.label for p in spec.probes]
    total = xr.concat(totals, dim="probe").assign_coords(probe=np.asarray(labels, dtype=np.dtypes.StringDType()))
    joint = total.sel(probe=[p.label for p in spec.datasets]).sum("probe", skipna=False)
    posts = [grid_posterior(t.values, axes, prior=GLOBAL_PRIOR) for t in totals]
    post_joint = grid_posterior(joint.values, axes, prior=GLOBAL_PRIOR)
    model = {"global_prior": GLOBAL_PRIOR}
    data_vars.update(
        loglike_total=total.assign_attrs(units="nat", long_name="Σ over a dataset's objects of its ln L", **model),
        loglike_joint=joint.assign_attrs(units="nat", long_name="Σ over datasets (variants left out) of "
                                                                "loglike_total (datasets independent given the "
                                                                "parameters)", **model),
        posterior=xr.DataArray(np.stack([p.mass for p in posts]), dims=("probe", *dims), attrs={
            "units": "", "long_name": "each dataset's own posterior mass per grid point (sums to 1)", **model}),
        posterior_joint=xr.DataArray(post_joint.mass, dims=dims, attrs={
            "units": "", "long_name": "joint posterior mass per grid point (sums to 1)", **model}),
        log_evidence=xr.DataArray(np.array([p.log_evidence for p in posts]), dims=("probe",), attrs={
            "units": "nat", "long_name": "ln Σ_grid L·prior of each dataset", **model}),
        log_evidence_joint=xr.DataArray(np.float64(post_joint.log_evidence), attrs={
            "units": "nat", "long_name": "ln Σ_grid L_joint·prior", **model}),
    )
    ds = xr.Dataset(data_vars, coords={"probe": np.asarray(labels, dtype=np.dtypes.StringDType())})
    kernel_params = {p.name for p in spec.kernel.parameters}
    for a in spec.axes:
        ds[a.name].attrs.update(spec.kernel.parameter(a.name).attrs if a.name in kernel_params else
                                {"units": a.unit, "long_name": "intrinsic scatter σ_int of a dataset's likelihood"})
    ds.attrs.update(sigcube_kind=JOINT_KIND, joint_name=spec.name, description=spec.description,
                    spec_text=spec.text, spec_fingerprint=spec.fingerprint(), kernel=spec.kernel.name,
                    fixed_parameters=json.dumps({k: (v.item() if hasattr(v, "item") else v)
                                                 for k, v in spec.fixed.items()}, sort_keys=True),
                    probes=json.dumps(probes), global_prior=GLOBAL_PRIOR, sigcube_version=__version__)
    return ds


def _complete(store: Location, spec: JointSpec) -> bool:
    """Whether ``store`` holds a sealed joint result of ``spec``."""
    if store.kind() != "folder":
        return False
    try:
        attrs = store_attrs(store, "")[1]
    except SchemaError:
        return False
    return kind_of(attrs) == JOINT_KIND and sealed(attrs) and attrs.get("spec_fingerprint") == spec.fingerprint()


def run_joint(spec: JointSpec, out: str | Path, cubes: Mapping[str, str | Path] | None = None,
              scheduler: str | None = None, workers: int | None = None, synchronous: bool = False,
              force: bool = False, console: Console | None = None) -> JointSummary:
    """Sweep every dataset of ``spec`` (each resumed if unfinished) and write the joint result cube at ``out``.

    ``cubes``: a dataset cube (path or URL) per label, else the spec's ``cube``, else ``cubes/<kind>.zarr``;
    ``scheduler``, ``workers``, ``synchronous`` as for :func:`~sigcube.engines.sweep.run_sweep` (each dataset's
    sweep runs on them). A joint cube of the same spec at ``out`` is left as it is; another needs ``force``.
    """
    console = console or Console(stderr=True)
    check_workers(scheduler, workers, synchronous)
    store = Location.of(out, "--out")
    given = dict(cubes or {})
    labels = [p.label for p in spec.datasets]
    unknown = sorted(set(given) - set(labels))
    if unknown:
        raise SigcubeError(f"--cube {unknown[0]}=…: no dataset of {spec.name} is labelled {unknown[0]!r} "
                           f"(labels: {', '.join(labels)})")
    start = time.perf_counter()
    where = {p.label: str(given.get(p.label) or p.sweep.cube or default_cube(p.sweep.dataset)) for p in spec.datasets}
    if _complete(store, spec) and not force:
        ds = open_joint(store)
        return JointSummary(store.name, dict.fromkeys(labels), time.perf_counter() - start, _mode(ds))
    axes = {a.name: np.asarray(a.values, dtype=float) for a in spec.axes}
    owns = {}
    for probe in spec.probes:
        base = probe.variant_of or probe.label
        if probe.variant_of is None:
            check_independence(probe, where[base], axes)
        owns[probe.label] = _own_likelihood(probe, where[base])
    with claim(store, force, kind=JOINT_KIND, what="joint sweep",
               inputs=[where[label] for label in labels]) as write:
        summaries, results = {}, {}
        for probe in spec.datasets:
            path = probe_store(out, probe.label)
            console.print(f"dataset {probe.label!r} ({probe.sweep.dataset}): grid "
                          f"{' × '.join(f'{a.name}[{len(a)}]' for a in probe.sweep.axes)} → {path}",
                          soft_wrap=True, highlight=False, markup=False)
            summaries[probe.label] = run_sweep(probe.sweep, path, cube=where[probe.label], scheduler=scheduler,
                                               workers=workers, synchronous=synchronous, force=force,
                                               keep_curves=_needs_curves(spec, probe, owns), console=console)
            results[probe.label] = open_result(path)
        ds = joint_dataset(spec, results, where, owns)
        write(ds)
    return JointSummary(store.name, summaries, time.perf_counter() - start, _mode(ds))


def _needs_curves(spec: JointSpec, probe: ProbeSpec, owns: Mapping[str, Any]) -> bool:
    """Whether the dataset's sweep must keep V_pred: a likelihood of its own (or a variant's) reads it unless it
    evaluates the kernel itself."""
    return any(owns[p.label] is not None and not owns[p.label].marginalises for p in spec.probes
               if (p.variant_of or p.label) == probe.label)


def _own_statements(probe: ProbeSpec, own: Any) -> dict[str, Any]:
    """What a view's own likelihood says of its choices: where each systematic in effect is sized from
    (``sources``), which options are model choices (``model_options``) and, for a scan's variant, the scan with the
    scanned option's cited size (None where it has none)."""
    if own is None:
        return {}
    out: dict[str, Any] = {"sources": own.sources(), "model_options": list(own.model_options())}
    if probe.scan:
        try:
            cited = own.cited_size(probe.scan["option"])
        except SigcubeError:
            cited = None
        out["scan"] = {**probe.scan, "cited": cited}
    return out


def _nuisance_integral(sweep: Any) -> dict[str, Any]:
    """What a dataset's per-object nuisance integral used (nodes per dimension), or that it has none."""
    if sweep.nuisance is None:
        return {"nodes": 0, "shared_step": None, "quadrature_error": 0.0, "settled": True}
    return {"nodes": int(sweep.nuisance.nodes), "shared_step": None, "quadrature_error": None, "settled": None,
            "note": "fixed Gauss–Hermite nodes of the sweep's [nuisance]; their convergence is not checked here "
                    "(`sigcube report sweep --check-integrals` on the dataset's sweep checks it)"}


def _mode(ds: xr.Dataset) -> dict[str, float]:
    """The grid point of the largest joint posterior mass."""
    post = ds["posterior_joint"]
    index = np.unravel_index(int(np.argmax(post.values)), post.shape)
    return {d: float(ds[d].values[i]) for d, i in zip(post.dims, index)}


def open_joint(path: str | Path | Location, verify: Verify = "auto", chunks: Any = None) -> xr.Dataset:
    """Open a joint sweep's result cube after checking its kind, seal and chunks; an unfinished one is refused."""
    where = Location.of(path)
    store, attrs = store_attrs(where, f"no such joint result cube; make it with `sigcube sweep SPEC --out "
                                      f"{where.name}` (a joint spec)")
    if kind_of(attrs) != JOINT_KIND:
        raise SchemaError(f"{store.name} is {describe(attrs)}; expected a joint sweep result cube")
    if not sealed(attrs):
        raise SchemaError(f"{store.name}: this joint result is being written, or its writing was interrupted; "
                          f"wait for the run to finish, or {REMEDY}")
    return open_dataset(store, checked_manifest(store, attrs, REMEDY, verify), REMEDY, chunks)
