"""The sweep spec's schema: every key's type, range, default and meaning, declared once.

Why pydantic (v2): TOML already types its values, so a spec needs a declaration of which type
and range each key takes, an error that names the key for every value that does not fit, and
a reference for the README. pydantic gives all three from one set of classes: strict per-field
types and constraints (``"1"`` is not a number, ``true`` is not 1, ``num`` is a whole number from
1 to 10⁸), an error location for every malformed field (turned into the key as the user wrote it
by :func:`spec_error`: ``[grid.A0].linspace.num``, ``fixed.k``, ``kernel``) and the JSON Schema
from which :func:`spec_reference` writes the README's reference table. msgspec would validate as
strictly but offers only one error per document and no per-field value constraints beyond a few;
a hand-written layer would have to reimplement all three.

The schema checks what does not depend on the kernel: types, ranges, names from the registries
(datasets, kernels, presets, metrics), and the grid's size, computed from each axis's ``num`` or
number of values before any array is allocated. :mod:`sigcube.engines.sweep.spec` then checks the values
against the kernel's declared parameters (names, bounds, switch choices, units) and names the key
the same way. ``python -m sigcube.engines.sweep.schema`` prints the reference (``--json``: the JSON Schema).
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any

from pydantic import (
    AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainValidator, StrictBool, StrictInt, StrictStr,
    ValidationError, ValidationInfo, field_validator, model_validator,
)
from pydantic.fields import FieldInfo

from sigcube.conventions import SampleCuts
from sigcube.engines.nuisance_spec import SweepNuisance
from sigcube.errors import SigcubeError, SpecError
from sigcube.io.datasets import check_nuisance, dataset_names
from sigcube.io.kinds import DEFAULT_KIND
from sigcube.model.kernels import get_kernel
from sigcube.model.kernels.baseline import BASELINE
from sigcube.model.kernels.presets import PRESETS, get_preset
from sigcube.model.metrics import metric_names

MAX_GRID_POINTS = 10**8
"""The largest grid a spec may declare (per axis and in all)."""
SPACINGS = ("linspace", "logspace", "values")
"""The keys that give an axis its values; exactly one per ``[grid.<parameter>]``."""
SPACING_PARTS = ("start", "stop", "num")
"""The items of ``linspace``/``logspace = [start, stop, num]``, named in errors."""
NAME_PATTERN = r"^\w[\w.+-]*$"
"""A spec's name names its result cube ``cubes/<name>.zarr``: no path separators, spaces or markup."""


def toml_text(value: Any, limit: int = 60) -> str:
    """``value`` as it would be written in TOML, shortened to about ``limit`` characters."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float) and not math.isfinite(value):
        text = "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    elif isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, (list, tuple)):
        text = "[" + ", ".join(toml_text(v, limit) for v in value[:20]) + (", …" if len(value) > 20 else "") + "]"
    elif isinstance(value, Mapping):
        text = "{" + ", ".join(f"{toml_key(k)} = {toml_text(v, limit)}" for k, v in list(value.items())[:10]) + "}"
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def toml_key(key: Any) -> str:
    """A TOML key: bare when it can be, else quoted (``A0``, ``"[/x]"``)."""
    key = str(key)
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key, ensure_ascii=False)


def grid_label(name: str, key: str | None = None) -> str:
    """``[grid.A0]``, or one of its keys: ``[grid.A0].values``."""
    return f"[grid.{toml_key(name)}]" + (f".{key}" if key else "")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# --- value types ---------------------------------------------------------------------------------------

FiniteNumber = Annotated[float, Field(strict=True, allow_inf_nan=False)]


def _three(value: Any) -> Any:
    """``[start, stop, num]`` with a whole float ``num`` (``1e6``) as an int; other shapes refused."""
    if not isinstance(value, list):
        return value
    if len(value) != 3:
        raise ValueError(f"must be [start, stop, num] (got {toml_text(value)})")
    num = value[2]
    return [*value[:2], int(num) if isinstance(num, float) and num.is_integer() else num]


GridCount = Annotated[int, Field(strict=True, ge=1, le=MAX_GRID_POINTS)]
Spacing = Annotated[tuple[FiniteNumber, FiniteNumber, GridCount], BeforeValidator(_three)]


def _grid_values(value: Any) -> list[float] | list[str]:
    """A non-empty list of distinct finite numbers, or of distinct switch values (strings)."""
    if not isinstance(value, list) or not value:
        raise ValueError(f"must be a non-empty list of numbers (or of switch values) (got {toml_text(value)})")
    if all(isinstance(v, str) for v in value):
        items: list = list(value)
    elif all(_is_number(v) for v in value):
        if not all(math.isfinite(v) for v in value):
            raise ValueError(f"must be finite numbers (got {toml_text(value)})")
        items = [float(v) for v in value]
    else:
        raise ValueError("must be a list of numbers, or of switch values (strings), not a mix or nested lists "
                         f"(got {toml_text(value)})")
    repeated = [v for v, n in Counter(items).items() if n > 1]
    if repeated:
        raise ValueError(f"repeats {toml_text(repeated[0])}; each value may appear once")
    return items


def _fixed_value(value: Any) -> float | str:
    """One finite number or one switch value."""
    if isinstance(value, str) or _is_number(value) and math.isfinite(value):
        return value
    if isinstance(value, list):
        raise ValueError("must be one number or one switch value, not a list: a fixed parameter holds one value; "
                         f"to sweep it, give its values in a [grid.<parameter>] table (got {toml_text(value)})")
    raise ValueError(f"must be one finite number or one switch value (a string) (got {toml_text(value)})")


GridValues = Annotated[list[float] | list[str],
                       PlainValidator(_grid_values, json_schema_input_type=list[float] | list[str])]
FixedValue = Annotated[float | str, PlainValidator(_fixed_value, json_schema_input_type=float | str)]


def _registered(lookup: Callable[[str], Any]) -> Callable[[Any], Any]:
    """A validator that accepts the names ``lookup`` knows and turns its SigcubeError into the message."""

    def check(value: Any) -> Any:
        if value is not None:
            try:
                lookup(value)
            except SigcubeError as exc:
                raise ValueError(str(exc)) from None
        return value

    return check


def _dataset(name: str) -> None:
    if name not in dataset_names():
        raise SigcubeError(f"unknown dataset {name!r}; datasets: {', '.join(dataset_names())}")


# --- tables --------------------------------------------------------------------------------------------


class _Table(BaseModel):
    """A TOML table: only its declared keys."""

    model_config = ConfigDict(extra="forbid")


class GridAxis(_Table):
    """``[grid.<parameter>]``: the values of one swept parameter."""

    linspace: Spacing | None = Field(None, description="[start, stop, num]: num evenly spaced values")
    logspace: Spacing | None = Field(None, description="[start, stop, num]: num geometrically spaced values "
                                                       "(start, stop > 0)")
    values: GridValues | None = Field(None, description="the values themselves: numbers, or a switch's choices")
    unit: StrictStr | None = Field(None, description="unit of the numbers given, converted to the parameter's "
                                                     "(default: the parameter's unit; not for switches)")
    include_default: StrictBool = Field(False, description="also put the parameter's default value on the grid "
                                                           "(not for switches)")

    @field_validator("linspace", "logspace")
    @classmethod
    def _spread(cls, value: tuple[float, float, int] | None, info: ValidationInfo) -> tuple[float, float, int] | None:
        if value is None:
            return value
        start, stop, num = value
        if info.field_name == "logspace" and (start <= 0 or stop <= 0):
            raise ValueError(f"start and stop must be > 0 (geometric spacing) (got {toml_text(list(value))})")
        if start == stop and num > 1:
            raise ValueError(f"start = stop gives {num} equal values; use num = 1")
        return value

    @model_validator(mode="after")
    def _one_spacing(self) -> GridAxis:
        given = [key for key in SPACINGS if getattr(self, key) is not None]
        if len(given) != 1:
            raise ValueError(f"needs exactly one of {', '.join(SPACINGS)} (got {' and '.join(given) or 'none'})")
        return self

    @property
    def spacing(self) -> str:
        """Which of :data:`SPACINGS` gives the values."""
        return next(key for key in SPACINGS if getattr(self, key) is not None)

    @property
    def size(self) -> int:
        """How many values the axis has at most (its default included), known before any array exists."""
        given = self.values if self.values is not None else (self.linspace or self.logspace)[2]
        return (len(given) if isinstance(given, list) else given) + self.include_default


class SampleTable(_Table):
    """``[sample]``: which galaxies enter (SPARC cuts; the paper's by default)."""

    min_points: Annotated[StrictInt, Field(ge=1)] = Field(
        SampleCuts.min_points, description="a galaxy needs at least this many usable points")
    quality: Annotated[list[Annotated[int, Field(strict=True, ge=1, le=3)]], Field(min_length=1)] = Field(
        list(SampleCuts.quality), description="accepted SPARC quality flags (1 high, 2 medium, 3 low)")
    min_inclination: Annotated[FiniteNumber, Field(ge=0, le=90)] = Field(
        SampleCuts.min_inclination, description="smallest inclination kept [deg]")
    max_inclination: Annotated[FiniteNumber, Field(ge=0, le=90)] = Field(
        SampleCuts.max_inclination, description="largest inclination kept [deg]")

    @model_validator(mode="after")
    def _ordered(self) -> SampleTable:
        if self.min_inclination > self.max_inclination:
            raise ValueError(f"min_inclination = {self.min_inclination:g} is above max_inclination = "
                             f"{self.max_inclination:g}")
        return self

    def cuts(self) -> SampleCuts:
        return SampleCuts(self.min_points, tuple(self.quality), self.min_inclination, self.max_inclination)


class SpecModel(_Table):
    """A sweep spec as written: top-level keys, then the tables ``[fixed]``, ``[grid.<parameter>]``, ``[sample]``."""

    name: Annotated[StrictStr, Field(pattern=NAME_PATTERN, max_length=200)] = Field(
        description="names the sweep and its default result cube `cubes/<name>.zarr` (letters, digits, . + - _)")
    description: StrictStr = Field("", description="free text stored with the result")
    dataset: Annotated[StrictStr, AfterValidator(_registered(_dataset))] = Field(
        DEFAULT_KIND, description=f"kind of dataset cube swept: {', '.join(dataset_names())}")
    cube: Annotated[StrictStr, Field(min_length=1)] | None = Field(
        None, description="path of the dataset cube (default: `--cube`, else `cubes/<dataset>.zarr`)")
    kernel: Annotated[StrictStr, AfterValidator(_registered(get_kernel))] = Field(
        description="the kernel evaluated (`sigcube kernels` lists them)")
    baseline: Annotated[StrictStr, AfterValidator(_registered(get_kernel))] = Field(
        BASELINE, description="the kernel `win_rate` is computed against")
    preset: Annotated[StrictStr | None, AfterValidator(_registered(get_preset))] = Field(
        None, description=f"start from a SPARC preset's parameters: {', '.join(PRESETS)}")
    metrics: Annotated[list[StrictStr], Field(min_length=1)] = Field(
        default_factory=lambda: list(metric_names()),
        description=f"what the result cube stores (default: all): {', '.join(metric_names())}")
    block_size: Annotated[StrictInt, Field(ge=0)] = Field(
        0, description="grid points per block (0: about 5·10⁷ point-evaluations per task)")
    object_chunk: Annotated[StrictInt, Field(ge=0)] = Field(
        0, description="objects per chunk: a task is one block × one chunk (0: about 2·10⁴ points' worth, "
                       "all of SPARC)")
    fixed: dict[str, FixedValue] = Field(
        default_factory=dict, description="kernel parameters held fixed: parameter = one number (in its unit) "
                                          "or one switch value; they override the preset's")
    grid: Annotated[dict[str, GridAxis], Field(min_length=1)] = Field(
        description=f"one table `[grid.<parameter>]` per swept parameter (with [nuisance], also `[grid.sigma_int]`: "
                    f"the likelihood's intrinsic scatter, and `[grid.tau_gal]`: the scatter of each galaxy's velocity "
                    f"scale); at most {MAX_GRID_POINTS:.0e} points in all")
    sample: SampleTable = Field(default_factory=SampleTable, description="sample cuts (SPARC; default: the paper's)")
    nuisance: SweepNuisance | None = Field(None, description="per-object nuisance parameters (Υ, D, i) "
                                                             "marginalised or profiled (SPARC; default: none)")

    @field_validator("preset")
    @classmethod
    def _preset_kernel(cls, value: str | None, info: ValidationInfo) -> str | None:
        kernel = info.data.get("kernel")
        if value is not None and kernel is not None and get_preset(value).kernel != kernel:
            raise ValueError(f"preset {value!r} sets {get_preset(value).kernel!r} parameters; this spec's kernel "
                             f"is {kernel!r}")
        return value

    @field_validator("nuisance")
    @classmethod
    def _nuisance_dataset(cls, value: SweepNuisance | None, info: ValidationInfo) -> SweepNuisance | None:
        dataset = info.data.get("dataset")
        if value is not None and dataset is not None:
            _registered(check_nuisance)(dataset)
        return value

    @field_validator("metrics")
    @classmethod
    def _known_metrics(cls, value: list[str]) -> list[str]:
        known = metric_names()
        for name, count in Counter(value).items():
            if name not in known:
                raise ValueError(f"unknown metric {name!r}; metrics: {', '.join(known)}")
            if count > 1:
                raise ValueError(f"repeats {name!r}")
        return value

    @field_validator("grid")
    @classmethod
    def _grid_size(cls, value: dict[str, GridAxis]) -> dict[str, GridAxis]:
        size = math.prod(axis.size for axis in value.values())
        if size > MAX_GRID_POINTS:
            shape = " × ".join(f"{name} ({axis.size:,})" for name, axis in value.items())
            raise ValueError(f"{shape} = {size:.3g} grid points; sigcube sweeps at most {MAX_GRID_POINTS:.0e}")
        return value


# --- errors --------------------------------------------------------------------------------------------

_EXPECTED = {
    "missing": "is required",
    "string_type": "must be a string",
    "float_type": "must be a number",
    "int_type": "must be a whole number",
    "bool_type": "must be true or false",
    "dict_type": "must be a table",
    "model_type": "must be a table",
    "list_type": "must be a list",
    "tuple_type": "must be a list [start, stop, num]",
    "finite_number": "must be a finite number",
    "string_too_short": "must not be empty",
    "string_too_long": "must be at most {max_length} characters",
    "too_short": "must not be empty",
    "greater_than_equal": "must be ≥ {ge:g}",
    "less_than_equal": "must be ≤ {le:g}",
    "string_pattern_mismatch": "must match {pattern}",
}


def field_label(loc: Sequence[str | int]) -> str:
    """The key at pydantic location ``loc`` as the user wrote it: ``kernel``, ``fixed.k``, ``[sample]``,
    ``[grid.A0]``, ``[grid.A0].linspace.num``, ``metrics[1]``."""
    if not loc:
        return "spec"
    head, rest = str(loc[0]), list(loc[1:])
    if head == "grid" and rest:
        label, rest = grid_label(str(rest[0])), rest[1:]
        if rest:
            key, *index = rest
            label += f".{toml_key(key)}"
            if index:
                label += f".{SPACING_PARTS[index[0]]}" if key in ("linspace", "logspace") else f"[{index[0]}]"
        return label
    if head in ("fixed", "grid", "sample", "nuisance") and not rest:
        return f"[{head}]"
    label = toml_key(head)
    for part in rest:
        label += f"[{part}]" if isinstance(part, int) else f".{toml_key(part)}"
    return label


def _table_keys(loc: Sequence[str | int], tables: Mapping[tuple, type[BaseModel]] | None = None) -> tuple[str, ...]:
    """The keys of the table at ``loc``: the top level, ``[sample]``, ``[nuisance]`` or a ``[grid.<parameter>]``
    (``tables``: other models by location, e.g. a fit spec's ``[nuisance]``)."""
    model = {(): SpecModel, ("sample",): SampleTable, ("nuisance",): SweepNuisance, **(tables or {})}.get(
        tuple(loc), GridAxis if loc[:1] == ("grid",) else SpecModel)
    return tuple(model.model_fields)


def _message(error: Mapping[str, Any], prefix: tuple[str, ...] = (),
             tables: Mapping[tuple, type[BaseModel]] | None = None) -> str:
    """One pydantic error as ``<key>: <what was expected> (got <value>)`` (``prefix``: where the validated table sits
    in the spec)."""
    loc = (*prefix, *error["loc"])
    where, kind = field_label(loc), error["type"]
    if kind == "value_error":
        return f"{where}: {error['ctx']['error']}"
    if kind == "extra_forbidden":
        return f"{where}: unknown key; valid keys: {', '.join(_table_keys(loc[:-1], tables))}"
    template = _EXPECTED.get(kind)
    what = template.format(**error.get("ctx", {})) if template else error["msg"][0].lower() + error["msg"][1:]
    return f"{where}: {what}" + ("" if kind == "missing" else f" (got {toml_text(error['input'])})")


def spec_error(exc: ValidationError, prefix: tuple[str, ...] = (),
               tables: Mapping[tuple, type[BaseModel]] | None = None) -> str:
    """Every problem pydantic found, each naming its key, on one line (``prefix``, ``tables``: a table of another
    spec validated alone, e.g. a fit spec's ``("nuisance",)`` with its model)."""
    return "; ".join(dict.fromkeys(_message(e, prefix, tables) for e in exc.errors()))


def validate(raw: dict[str, Any]) -> SpecModel:
    """The spec's TOML table checked against the schema; raises SpecError with :func:`spec_error`'s text."""
    try:
        return SpecModel.model_validate(raw)
    except ValidationError as exc:
        raise SpecError(spec_error(exc)) from None


# --- the reference -------------------------------------------------------------------------------------


def _type_text(schema: Mapping[str, Any]) -> str:
    """A JSON Schema type in words: ``whole number ≥ 0``, ``[string, …] (≥ 1)``, ``[start: number, …]``."""
    if "$ref" in schema:
        return "table"
    if "anyOf" in schema:
        return " or ".join(_type_text(s) for s in schema["anyOf"] if s.get("type") != "null")
    kind = schema.get("type")
    if kind == "array" and "prefixItems" in schema:
        return "[" + ", ".join(f"{part}: {_type_text(s)}" for part, s in zip(SPACING_PARTS, schema["prefixItems"])) + "]"
    if kind == "array":
        return f"[{_type_text(schema.get('items', {}))}, …]" + (f" (≥ {schema['minItems']})" if "minItems" in schema else "")
    if kind == "object":
        values = schema.get("additionalProperties")
        inner = _type_text(values) if isinstance(values, dict) else "value"
        return f"table of key = {inner}" + (f" (≥ {schema['minProperties']} key)" if "minProperties" in schema else "")
    text = {"integer": "whole number", "number": "number", "string": "string", "boolean": "true/false"}.get(kind, "value")
    if "minimum" in schema and "maximum" in schema:
        text += f" in [{schema['minimum']:g}, {schema['maximum']:g}]"
    elif "minimum" in schema:
        text += f" ≥ {schema['minimum']:g}"
    if "pattern" in schema:
        text += f" matching `{schema['pattern']}`"
    if schema.get("minLength"):
        text += ", non-empty"
    return text


def _default_text(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    value = field.default_factory() if field.default_factory is not None else field.default
    if isinstance(value, BaseModel):
        return "its keys' defaults"
    return "—" if value is None else f"`{toml_text(value, limit=200)}`"


def _rows(model: type[BaseModel], prefix: str) -> list[str]:
    schema = model.model_json_schema()
    return [f"| `{prefix}{name}` | {_type_text(prop)} | {_default_text(model.model_fields[name])} | "
            f"{model.model_fields[name].description} |" for name, prop in schema["properties"].items()]


def spec_reference() -> str:
    """The README's spec reference: one Markdown table row per key, generated from the schema."""
    lines = [
        "| key | type | default | meaning |",
        "|---|---|---|---|",
        *_rows(SpecModel, ""),
        *_rows(GridAxis, "[grid.<parameter>]."),
        *_rows(SampleTable, "[sample]."),
        *_rows(SweepNuisance, "[nuisance]."),
    ]
    return "\n".join(lines) + "\n"


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a spec (usable by TOML editors that read JSON Schema)."""
    return SpecModel.model_json_schema()


if __name__ == "__main__":
    sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n" if "--json" in sys.argv[1:] else spec_reference())
