"""The kinds of dataset cube: one :class:`DatasetKind` record each.

A record names the kind's schema (its layout, :mod:`sigcube.io.schema`), the builder that
reads its verified public files into a cube (``sigcube ingest <kind>``), the packer that turns a
cube into contiguous points grouped by object (``PointSet.group``) for kernels, metrics and
sweeps, its manifest ``ingest/<manifest>.toml``, the dimension of its objects in sweep results,
and a one-line description. Register a new kind with :func:`register_dataset`; the built-in kinds are registered
by :mod:`sigcube.io.kinds` when :mod:`sigcube.io` is imported.

A *view* (``<kind>:<view>``, e.g. the lensing radii of a kind of cluster cube) reads the cubes of its kind with
another packer, and may bring its own likelihood (``likelihood``: a factory of an object whose ``log_likelihood``
maps predicted velocities at its points to ln L per object, see :mod:`sigcube.engines.joint`); sweeps and joint
sweeps name it as their ``dataset``. Views are listed by :func:`dataset_names`, not by :func:`dataset_kinds`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import xarray as xr

from sigcube.conventions import SampleCuts
from sigcube.errors import SigcubeError
from sigcube.io.schema import VIEW_SEPARATOR, CubeSchema, register_schema, schema_problems, unit_factor
from sigcube.model.points import PointSet

Packer = Callable[[xr.Dataset, SampleCuts | None], PointSet]
Selector = Callable[[xr.Dataset, SampleCuts | None], Any]
"""Judges a cube's objects one by one: returns a selection with ``keep`` (a flag per object), ``n_points`` and
``excluded`` (e.g. :class:`sigcube.io.rotation_curves.Selection`)."""


@dataclass(frozen=True)
class DatasetKind:
    """One kind of dataset cube: its layout, how it is built, how it is packed into points.

    ``builder`` reads the verified files of ``ingest/<manifest>.toml`` into a labelled cube (None
    for a kind built from a user's file, such as ``rotation_curves``); ``packer`` is None for a
    kind that cannot be swept; ``objects`` names the per-object dimension of sweep results.
    ``select`` (with the variables it reads, ``select_variables``) judges objects one by one: the
    packer then packs any slice of rows along ``objects`` into the slice of the sample, so a sweep
    reads a large cube chunk by chunk; a kind without it is packed whole (one chunk).
    ``pack_variables`` names every cube variable the packer reads (empty: it may read any), so that a
    sweep reads no other; ``input_variables`` names those it needs only for some point inputs
    (``{variable: inputs}``): a sweep whose kernels read none of those inputs does not read them.
    ``needs`` names the cube variables the packer cannot do without: a cube lacking one is refused naming
    them (:func:`pack`).
    """

    schema: CubeSchema
    description: str
    objects: str
    builder: Callable[[], xr.Dataset] | None = None
    packer: Packer | None = None
    manifest: str | None = None
    select: Selector | None = None
    select_variables: tuple[str, ...] = ()
    pack_variables: tuple[str, ...] = ()
    input_variables: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    needs: tuple[str, ...] = ()
    has_curves: bool = False
    """Whether its cubes hold galaxy × radius rotation curves, with the catalogue geometry (distance, inclination)
    that nuisance parameters need: the SPARC reports and the explorer's curves and RAR read them."""
    view: str = ""
    """Non-empty for a view of the kind ``schema.kind`` (its name is ``<kind>:<view>``)."""
    title: str = ""
    """The kind's name as a survey is written in figures and pages (``SPARC``); empty: its name as it is."""
    likelihood: Callable[[xr.Dataset, SampleCuts | None, Mapping[str, Any]], Any] | None = None
    """A view's own likelihood: ``likelihood(cube, cuts, options)`` → an object with ``log_likelihood(v_pred)``
    ((..., n_points) → (..., n_objects), objects in the packer's order) and ``describe()``."""

    def unread(self, inputs: Iterable[str]) -> tuple[str, ...]:
        """The cube variables a packing for point ``inputs`` need not read (see ``input_variables``)."""
        wanted = set(inputs)
        return tuple(v for v, needs in self.input_variables.items() if not wanted & set(needs))

    @property
    def name(self) -> str:
        """The kind, as cubes store it in their ``sigcube_kind`` attribute (``<kind>:<view>`` for a view)."""
        return f"{self.schema.kind}{VIEW_SEPARATOR}{self.view}" if self.view else self.schema.kind


_KINDS: dict[str, DatasetKind] = {}


def register_dataset(kind: DatasetKind) -> DatasetKind:
    """Make cubes of ``kind`` readable (its schema), ingestible (its builder) and sweepable (its packer)."""
    if _KINDS.setdefault(kind.name, kind) != kind:
        raise ValueError(f"another dataset kind {kind.name!r} is already registered")
    register_schema(kind.schema)
    return kind


def dataset_kind(name: str | None) -> DatasetKind:
    """The registered kind called ``name``, or a SigcubeError listing the known kinds."""
    try:
        return _KINDS[name]
    except KeyError:
        raise SigcubeError(f"unknown dataset kind {name!r}; known kinds: {', '.join(_KINDS)}") from None


def dataset_kinds() -> list[DatasetKind]:
    """Every registered kind (no view), in registration order."""
    return [k for k in _KINDS.values() if not k.view]


def dataset_names() -> list[str]:
    """Kinds of dataset cube that can be packed into points (swept), sorted."""
    return sorted(k.name for k in _KINDS.values() if k.packer is not None)


def curve_kinds() -> tuple[str, ...]:
    """The kinds whose cubes hold rotation curves (:attr:`DatasetKind.has_curves`: ``sparc``, ``rotation_curves``):
    what the SPARC reports read, and the only kinds with per-galaxy nuisance parameters (Υ, D, i)."""
    return tuple(k.name for k in _KINDS.values() if k.has_curves)


def check_nuisance(kind: str) -> None:
    """Refuse (SigcubeError) nuisance parameters for ``kind`` unless it is a kind of rotation curves."""
    if kind not in curve_kinds():
        raise SigcubeError(f"nuisance parameters (Υ, D, i) exist only for datasets of rotation curves "
                           f"({', '.join(curve_kinds())}), not for {kind!r}")


def pack(cube: xr.Dataset, cuts: SampleCuts | None = None) -> PointSet:
    """Pack a dataset of any sweepable kind into points (:func:`conform` first: its kind found by its variables)."""
    cube = conform(cube)
    return _KINDS[cube.attrs["sigcube_kind"]].packer(cube, cuts)


def conform(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` as a dataset cube of the sweepable kind its variables fit: the kind its ``sigcube_kind`` attribute
    names if they fit it, else the first registered kind whose packer finds every variable it ``needs`` with the
    schema's dims and units convertible to the schema's (a kind built from a user's file before a public one). The
    needed variables are converted to the schema's units; the attribute is set. A dataset no kind fits is a
    SigcubeError naming, for each sweepable kind, what is missing or wrong."""
    named = ds.attrs.get("sigcube_kind")
    sweepable = [k for k in _KINDS.values() if k.packer is not None and not k.view]
    order = sorted(sweepable, key=lambda k: (k.name != named, k.builder is not None))
    why: dict[str, list[str]] = {}
    for kind in order:
        problems = schema_problems(ds, kind.schema, [v for v in kind.needs if v in kind.schema.variables],
                                   convertible=True)
        problems += [f"missing variable {v!r}" for v in kind.needs if v not in kind.schema.variables
                     and v not in ds.variables]
        if problems:
            why[kind.name] = problems
            continue
        out = ds if named == kind.name else ds.assign_attrs(sigcube_kind=kind.name)
        factors = {v: unit_factor(ds, v, kind.schema) for v in kind.needs if v in kind.schema.variables
                   and kind.schema.variables[v].units and ds[v].dtype.kind in "fi"}
        converted = {v: (ds[v] * f).assign_attrs(ds[v].attrs, units=kind.schema.variables[v].units)
                     for v, f in factors.items() if f != 1.0}
        return out.assign(converted) if converted else out
    if named in _KINDS and _KINDS[named].packer is None:
        raise SigcubeError(f"cubes of kind {named!r} cannot be swept; sweepable kinds: {', '.join(dataset_names())}")
    if named in why:
        missing = [p.split("'")[1] for p in why[named] if p.startswith("missing variable")]
        if len(missing) == len(why[named]):
            raise SigcubeError(f"the {named!r} cube lacks {', '.join(missing)}, which packing it into points needs")
        raise SigcubeError(f"the {named!r} cube does not fit its kind: {'; '.join(why[named])}")
    detail = "; ".join(f"{name}: {', '.join(p[:3])}" for name, p in why.items())
    raise SigcubeError(f"the dataset fits no sweepable kind of cube ({detail})")


def public_kinds() -> tuple[str, ...]:
    """The kinds built from verified public files (those with a manifest), in registration order."""
    return tuple(k.name for k in _KINDS.values() if k.manifest is not None)
