"""Joint sweep specs: one kernel and one shared parameter grid, several dataset cubes (``[[datasets]]``).

Example (``sweeps/joint_sigma_sparc_clash.toml``)::

    name = "joint-sigma-sparc-clash"
    kernel = "sigma"
    [fixed]                       # shared by every dataset
    k = 0.159
    [grid.A0]                     # the shared grid, as in a sweep spec
    linspace = [0.8, 1.6, 41]

    [[datasets]]
    name = "sparc"                # the probe's label (names its variables and its object dimension)
    dataset = "sparc"             # a dataset kind or a view of one (``clusters:lensing``)
    independent_of = ["L0", "n"]  # grid axes its likelihood does not depend on (checked before the run)
    [datasets.fixed]              # this dataset's own parameters (override the shared [fixed])
    D = 0.0
    [datasets.nuisance]           # its nuisance parameters, as a sweep's [nuisance]
    mode = "marginalise"

    [[datasets]]
    name = "clash"
    dataset = "clusters:lensing"
    [datasets.fixed]
    D = 1.0
    L = 600.0
    [datasets.likelihood]         # options of the view's own likelihood
    errors = "stat"
    [[datasets.variants]]         # the same data under another likelihood choice: a probe of its own, compared
    name = "clash_syst"           # with the other datasets in place of this one, never multiplied with it
    likelihood = {errors = "stat+syst"}   # overrides the dataset's options
    [[datasets.scans]]            # one variant per value of one numeric option: the tension against its size
    name = "gas_shared"
    option = "gas_dex"
    values = [0.01, 0.05, 0.1]
    likelihood = {gas_scope = "shared"}   # the other options every value shares

A dataset may be evaluated on part of a grid axis only (``[datasets.range] A0 = [0.8, 1.1]``): its ln L outside is
taken as −∞, which the run checks (at the range's ends it must be :data:`TRUNCATION` nat below its largest value, so
that the mass left out is below e^−TRUNCATION of the grid's). The intrinsic scatter ``[grid.sigma_int]`` of a
dataset's ``[nuisance]`` may be a shared axis: every other dataset is ``independent_of`` it.

Each dataset becomes one ordinary sweep (:class:`~sigcube.engines.sweep.spec.SweepSpec`, validated by the sweep
schema: its key errors name ``[[datasets]] <name>``) over the grid axes it depends on; the joint spec keeps them,
with each dataset's label, the axes it is constant along and its likelihood options.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError

from sigcube.engines.nuisance_spec import SweepNuisance
from sigcube.engines.sweep.schema import (
    NAME_PATTERN, FixedValue, GridAxis, SampleTable, _registered, grid_label, spec_error, toml_key,
)
from sigcube.engines.sweep.spec import Axis, SweepSpec, parse_spec
from sigcube.errors import SigcubeError, SpecError
from sigcube.io.datasets import dataset_kind, dataset_names
from sigcube.model.kernels import Kernel, get_kernel
from sigcube.model.kernels.baseline import BASELINE

PROBE_METRICS = ["chi2"]
"""What each dataset's sweep stores besides its likelihood inputs: the per-object χ² (the Gaussian ln L reads it)."""
TRUNCATION = 30.0
"""How far below its largest value [nat] a dataset's ln L must be at the ends of its ``range`` (the mass left out is
then below e^−30 ≈ 1e-13 of the grid's)."""
LABEL_PATTERN = r"^[A-Za-z][A-Za-z0-9_]*$"
"""A dataset's label names variables (``loglike_<label>``) and a dimension (``<label>_<object>``)."""


def _dataset(name: str) -> None:
    if name not in dataset_names():
        raise SigcubeError(f"unknown dataset {name!r}; datasets: {', '.join(dataset_names())}")


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid")


class VariantTable(_Table):
    """``[[datasets.variants]]``: the same dataset under other options of its own likelihood."""

    name: Annotated[StrictStr, Field(pattern=LABEL_PATTERN, max_length=40)] = Field(
        description="the variant's label (a probe of its own, compared with the other datasets in the dataset's place)")
    description: StrictStr = Field("", description="what the variant changes, in words")
    likelihood: dict[str, Any] = Field(default_factory=dict,
                                       description="likelihood options overriding the dataset's own")


class ScanTable(_Table):
    """``[[datasets.scans]]``: one numeric likelihood option over a list of sizes, a variant per value."""

    name: Annotated[StrictStr, Field(pattern=LABEL_PATTERN, max_length=30)] = Field(
        description="the scan's label; its variants are `<name>_<i>`")
    description: StrictStr = Field("", description="what the scanned option is, in words")
    option: Annotated[StrictStr, Field(min_length=1)] = Field(description="the likelihood option scanned")
    values: Annotated[list[float], Field(min_length=2, max_length=40)] = Field(description="its values, in order")
    likelihood: dict[str, Any] = Field(default_factory=dict,
                                       description="the other likelihood options of every value (override the "
                                                   "dataset's)")


class DatasetTable(_Table):
    """``[[datasets]]``: one dataset cube of a joint sweep."""

    name: Annotated[StrictStr, Field(pattern=LABEL_PATTERN, max_length=40)] = Field(
        description="the probe's label: names its variables and its object dimension in the result")
    dataset: Annotated[StrictStr, AfterValidator(_registered(_dataset))] = Field(
        description=f"kind of dataset cube (or view of one): {', '.join(dataset_names())}")
    cube: Annotated[StrictStr, Field(min_length=1)] | None = Field(
        None, description="path of its dataset cube (default: `--cube NAME=PATH`, else `cubes/<kind>.zarr`)")
    fixed: dict[str, FixedValue] = Field(
        default_factory=dict, description="this dataset's own kernel parameters (override the shared [fixed])")
    independent_of: list[StrictStr] = Field(
        default_factory=list, description="grid axes its likelihood does not depend on (checked on its points "
                                          "before the run): its sweep skips them and its ln L is constant along them")
    sample: SampleTable = Field(default_factory=SampleTable, description="sample cuts (SPARC; default: the paper's)")
    nuisance: SweepNuisance | None = Field(None, description="per-object nuisance parameters (rotation curves)")
    likelihood: dict[str, Any] = Field(default_factory=dict,
                                       description="options of a view's own likelihood (e.g. errors = \"stat+syst\")")
    variants: list[VariantTable] = Field(default_factory=list,
                                         description="the same data under other likelihood options (own likelihood)")
    scans: list[ScanTable] = Field(default_factory=list,
                                   description="one likelihood option over a list of sizes (a variant per size)")
    range: dict[str, Annotated[list[float], Field(min_length=2, max_length=2)]] = Field(
        default_factory=dict, description="evaluate only on [lo, hi] of a grid axis (ln L outside taken as −∞, "
                                          "checked after the run)")
    object_chunk: Annotated[StrictInt, Field(ge=0)] = Field(0, description="objects per chunk of its sweep")
    block_size: Annotated[StrictInt, Field(ge=0)] = Field(0, description="grid points per block of its sweep")


class JointModel(_Table):
    """A joint sweep spec as written."""

    name: Annotated[StrictStr, Field(pattern=NAME_PATTERN, max_length=200)] = Field(
        description="names the joint sweep and its result cube `cubes/<name>.zarr`")
    description: StrictStr = Field("", description="free text stored with the result")
    kernel: Annotated[StrictStr, AfterValidator(_registered(get_kernel))] = Field(description="the kernel evaluated")
    baseline: Annotated[StrictStr, AfterValidator(_registered(get_kernel))] = Field(
        BASELINE, description="the baseline kernel of each dataset's sweep")
    preset: StrictStr | None = Field(None, description="start every dataset from a SPARC preset's parameters")
    fixed: dict[str, FixedValue] = Field(default_factory=dict, description="kernel parameters shared by every dataset")
    grid: Annotated[dict[str, GridAxis], Field(min_length=1)] = Field(description="the shared grid")
    datasets: Annotated[list[DatasetTable], Field(min_length=2)] = Field(description="the dataset cubes (≥ 2)")


@dataclass(frozen=True)
class ProbeSpec:
    """One dataset of a joint sweep: its label, its sweep (over the axes it depends on, each restricted to its
    ``range``), the axes it is constant along, its likelihood options, and the dataset it is a variant of (None: a
    dataset of its own)."""

    label: str
    sweep: SweepSpec
    independent_of: tuple[str, ...]
    options: dict[str, Any] = field(default_factory=dict)
    variant_of: str | None = None
    description: str = ""
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)
    scan: dict[str, Any] | None = None
    """For a scan's variant: the scan's ``name``, ``option``, ``value`` and ``description``."""

    @property
    def has_own_likelihood(self) -> bool:
        """Whether its dataset is a view with its own likelihood (its sweep keeps V_pred for it)."""
        return dataset_kind(self.sweep.dataset).likelihood is not None


@dataclass(frozen=True)
class JointSpec:
    """A validated joint sweep."""

    name: str
    description: str
    kernel: Kernel
    axes: tuple[Axis, ...]
    probes: tuple[ProbeSpec, ...]
    fixed: dict[str, Any]
    text: str = field(default="", repr=False)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(a) for a in self.axes)

    @property
    def datasets(self) -> tuple[ProbeSpec, ...]:
        """The probes that are datasets of their own (not variants): the joint likelihood is their product."""
        return tuple(p for p in self.probes if p.variant_of is None)

    def canonical(self) -> dict[str, Any]:
        return {"kernel": self.kernel.name, "axes": {a.name: a.values.tolist() for a in self.axes},
                "probes": [{"label": p.label, "sweep": p.sweep.fingerprint(), "independent_of": list(p.independent_of),
                            "options": p.options, "variant_of": p.variant_of, **({"scan": p.scan} if p.scan else {})}
                           for p in self.probes]}

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(self.canonical(), sort_keys=True).encode()).hexdigest()


def is_joint_spec(path: str | Path) -> bool:
    """Whether the TOML file at ``path`` is a joint spec (it has ``[[datasets]]``); False when it cannot be read."""
    try:
        return "datasets" in tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False


def load_joint_spec(path: str | Path) -> JointSpec:
    """Read and validate a joint sweep spec file (UTF-8 TOML)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: cannot read the joint sweep spec ({exc})") from None
    return parse_joint_spec(text, where=str(path))


def parse_joint_spec(text: str, where: str = "spec") -> JointSpec:
    """Validate a joint spec given as TOML text (``where`` names it in errors)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{where}: not valid TOML: {exc}") from None
    try:
        model = JointModel.model_validate(raw)
    except ValidationError as exc:
        raise SpecError(f"{where}: {spec_error(exc, tables=_tables(raw))}") from None
    labels = [d.name for d in model.datasets] + [v.name for d in model.datasets for v in d.variants] + [
        f"{s.name}_{i}" for d in model.datasets for s in d.scans for i in range(len(s.values))]
    repeated = sorted({x for x in labels if labels.count(x) > 1})
    if repeated:
        raise SpecError(f"{where}: [[datasets]] name {repeated[0]!r} appears twice; each dataset, variant and scan "
                        "value needs its own label")
    probes, full = [], {}
    for i in range(len(model.datasets)):
        probe, axes = _probe(model, raw, i, text, where)
        full.update(axes)
        probes.append(probe)
        table = model.datasets[i]
        here = f"{where}: [[datasets]] {probe.label!r}"
        if (table.variants or table.scans) and not probe.has_own_likelihood:
            raise SpecError(f"{here}.variants: {probe.sweep.dataset} has no likelihood options to vary (only a view "
                            "with its own likelihood has variants and scans)")
        for variant in table.variants:
            probes.append(dataclasses.replace(probe, label=variant.name, options={**probe.options,
                                                                                    **variant.likelihood},
                                              variant_of=probe.label, description=variant.description))
        for scan in table.scans:
            if scan.option in scan.likelihood:
                raise SpecError(f"{here}.scans {scan.name!r}: {scan.option} is the scanned option; leave it out of "
                                "its likelihood table")
            for k, value in enumerate(scan.values):
                probes.append(dataclasses.replace(
                    probe, label=f"{scan.name}_{k}", options={**probe.options, **scan.likelihood, scan.option: value},
                    variant_of=probe.label, description=f"{scan.description or scan.option} = {value:g}",
                    scan={"name": scan.name, "option": scan.option, "value": value, "description": scan.description}))
    axes = []
    for name in model.grid:
        if name not in full:
            raise SpecError(f"{where}: {grid_label(name)}: every dataset is independent_of {name}; no likelihood "
                            "depends on it")
        if full[name].categorical:
            raise SpecError(f"{where}: {grid_label(name)}: a joint sweep's posterior needs numeric axes; {name} is a "
                            "switch")
        axes.append(full[name])
    return JointSpec(model.name, model.description, get_kernel(model.kernel), tuple(axes), tuple(probes),
                     dict(model.fixed), text)


def _tables(raw: dict[str, Any]) -> dict[tuple, type[BaseModel]]:
    """Each table of a joint spec by its location in ``raw``, for the key names of an unknown-key message."""
    tables: dict[tuple, type[BaseModel]] = {(): JointModel}
    datasets = raw.get("datasets")
    for i, entry in enumerate(datasets if isinstance(datasets, list) else []):
        tables[("datasets", i)] = DatasetTable
        tables[("datasets", i, "sample")] = SampleTable
        tables[("datasets", i, "nuisance")] = SweepNuisance
        for key, model in (("variants", VariantTable), ("scans", ScanTable)):
            rows = entry.get(key) if isinstance(entry, dict) else None
            for j in range(len(rows) if isinstance(rows, list) else 0):
                tables[("datasets", i, key, j)] = model
    return tables


def _probe(model: JointModel, raw: dict[str, Any], i: int, text: str, where: str
           ) -> tuple[ProbeSpec, dict[str, Axis]]:
    """Dataset ``i`` of the joint spec as a sweep spec (TOML text of its own, validated by the sweep schema), with its
    grid axes before any ``range`` restricts them."""
    table = model.datasets[i]
    entry = raw["datasets"][i]
    here = f"{where}: [[datasets]] {table.name!r}"
    unknown = [a for a in [*table.independent_of, *table.range] if a not in model.grid]
    if unknown:
        raise SpecError(f"{here}: {unknown[0]!r} is not a grid axis ({', '.join(model.grid)})")
    both = [a for a in table.range if a in table.independent_of]
    if both:
        raise SpecError(f"{here}.range.{toml_key(both[0])}: the dataset is independent_of {both[0]}")
    clash = [k for k in table.fixed if k in model.grid]
    if clash:
        raise SpecError(f"{here}.fixed.{toml_key(clash[0])}: {clash[0]} is swept on the shared grid; a dataset may "
                        "fix only parameters off the grid")
    sub: dict[str, Any] = {
        "name": f"{model.name}.{table.name}",
        "description": f"dataset {table.name!r} of the joint sweep {model.name!r}",
        "dataset": table.dataset,
        "kernel": model.kernel,
        "baseline": model.baseline,
        "metrics": PROBE_METRICS,
        "fixed": {**raw.get("fixed", {}), **entry.get("fixed", {})},
        "grid": {k: v for k, v in raw["grid"].items() if k not in table.independent_of},
        "object_chunk": table.object_chunk,
        "block_size": table.block_size,
    }
    for key in ("preset",):
        if key in raw:
            sub[key] = raw[key]
    for key in ("cube", "sample", "nuisance"):
        if key in entry:
            sub[key] = entry[key]
    if not sub["grid"]:
        raise SpecError(f"{here}.independent_of: names every grid axis; its likelihood would be one number")
    sweep = parse_spec(toml_document(sub), where=here)
    axes = {a.name: a for a in sweep.axes}
    ranges = {}
    for name, (lo, hi) in table.range.items():
        values = axes[name].values
        kept = values[(values >= lo) & (values <= hi)]
        if not lo < hi or len(kept) < 2:
            raise SpecError(f"{here}.range.{toml_key(name)}: [{lo:g}, {hi:g}] must hold at least two of the grid's "
                            f"{name} values ({values[0]:g} … {values[-1]:g})")
        sub["grid"][name] = {"values": [float(v) for v in kept]}
        ranges[name] = (float(lo), float(hi))
    if ranges:
        sweep = parse_spec(toml_document(sub), where=here)
    scatter = [a for a in table.independent_of if a not in {p.name for p in sweep.kernel.parameters}]
    if scatter and sweep.nuisance is not None:
        raise SpecError(f"{here}.independent_of: {scatter[0]} is the intrinsic scatter of a [nuisance] likelihood, "
                        "which this dataset has: it depends on it")
    return (ProbeSpec(table.name, sweep, tuple(a for a in model.grid if a in table.independent_of),
                      dict(table.likelihood), ranges=ranges), axes)


def toml_value(value: Any) -> str:
    """``value`` (a TOML-loaded value: string, bool, number, list, table) written back as TOML, inline."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise SpecError(f"cannot write {value!r} as TOML")


def toml_document(table: dict[str, Any]) -> str:
    """A TOML document of one ``key = value`` line per top-level key (tables inline)."""
    return "".join(f"{toml_key(k)} = {toml_value(v)}\n" for k, v in table.items())


