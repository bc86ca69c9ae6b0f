"""Fuzzing sweep specs: malformed-but-parseable TOML through ``sigcube sweep``.

Each example is a valid spec with one key made wrong — a wrong type, a bad number, a huge grid, an unknown
name, markup or unicode in a key or a value — or the spec's bytes made non-UTF-8. The strategy knows which
key it broke; the command must exit 2 with one line that starts with the file and that key, print no
traceback and leave nothing at ``--out``. The default run is derandomized with a fixed budget; ``-m slow``
runs a deeper one.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sigcube.cli import app
from sigcube.engines.sweep import parse_spec
from sigcube.engines.sweep.schema import MAX_GRID_POINTS, toml_key
from sigcube.model.kernels import get_kernel

runner = CliRunner()
SIGMA = get_kernel("sigma")
BASE: dict[str, Any] = {
    "name": "fuzz", "kernel": "sigma", "baseline": "mond", "metrics": ["mean_rms", "rms"],
    "fixed": {"k": 0.2}, "grid": {"A0": {"values": [1.0, 1.5]}}, "sample": {"min_points": 5},
}
"""A valid spec; every example breaks one key of it."""
A0_MAX = SIGMA.parameter("A0").bounds[1]
NUMERIC = [p.name for p in SIGMA.numeric_parameters if p.name not in ("A0", "k", "window_exponent")]


# --- TOML ---------------------------------------------------------------------------------------------

def _string(text: str) -> str:
    """A TOML basic string (control characters escaped, everything else as is)."""
    escaped = "".join(f"\\u{ord(c):04x}" if ord(c) < 0x20 or ord(c) == 0x7F else "\\\\" if c == "\\" else
                      '\\"' if c == '"' else c for c in text)
    return f'"{escaped}"'


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{_string(k)} = {_value(v)}" for k, v in value.items()) + "}"


def toml_document(spec: dict[str, Any]) -> str:
    """``spec`` as a TOML document (every table inline)."""
    return "".join(f"{_string(key)} = {_value(value)}\n" for key, value in spec.items())


def test_the_base_spec_and_the_writer_are_valid():
    spec = parse_spec(toml_document(BASE))
    assert spec.shape == (2,) and spec.fixed["k"] == 0.2
    assert parse_spec(toml_document({**BASE, "description": 'a "quote" \\ \x7f [bold] ψ'})).description.endswith("ψ")


# --- strategies ---------------------------------------------------------------------------------------

MARKUP = st.sampled_from(["[/x]", "[bold]", "[red]x[/red]", "[link=file:///etc]x", "[/]", "\\[x]", "[grid.A0]"])
TEXT = st.one_of(st.text(max_size=12), MARKUP, st.builds(lambda a, b: a + b, st.text(max_size=6), MARKUP))
SCALARS = st.one_of(st.integers(-10**6, 10**6), st.floats(), st.booleans(), TEXT)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(TEXT, inner, max_size=3)), max_leaves=6)
NOT_STRING = VALUES.filter(lambda v: not isinstance(v, str))
NOT_TABLE = VALUES.filter(lambda v: not isinstance(v, dict))
NOT_BOOL = VALUES.filter(lambda v: not isinstance(v, bool))
NOT_NUMBER = VALUES.filter(lambda v: isinstance(v, bool) or not isinstance(v, (int, float)))
BAD_COUNT = st.one_of(st.sampled_from([0, -1, 2.5, math.inf, math.nan, True, "3", 1e13, MAX_GRID_POINTS + 1]),
                      st.integers(max_value=0), st.floats().filter(lambda x: not (math.isfinite(x) and x.is_integer())))
NOT_FINITE = st.sampled_from([math.inf, -math.inf, math.nan])


def _with(path: tuple[str, ...], value: Any, spec: dict | None = None) -> dict[str, Any]:
    """A deep copy of ``spec`` (default: BASE) with the key at ``path`` set to ``value``."""
    out = json.loads(json.dumps(spec or BASE))
    table = out
    for key in path[:-1]:
        table = table.setdefault(key, {})
    table[path[-1]] = value
    return out


def _axis(table: dict[str, Any], name: str = "A0") -> dict[str, Any]:
    return _with(("grid", name), table)


@st.composite
def top_level(draw) -> tuple[dict, str]:
    key = draw(st.sampled_from(["name", "description", "dataset", "cube", "kernel", "baseline", "preset"]))
    return _with((key,), draw(NOT_STRING)), key


@st.composite
def unknown_names(draw) -> tuple[dict, str]:
    key = draw(st.sampled_from(["dataset", "kernel", "baseline", "preset"]))
    known = {"dataset": ["sparc", "milkyway", "clusters", "rotation_curves"], "preset": ["paper", "bulge-amplitude",
             "c-local", "vdisk-peak"]}.get(key, [])
    name = draw(TEXT.filter(lambda t: t not in known and not (key != "dataset" and t in ("sigma", "mond"))))
    return _with((key,), name), key


@st.composite
def bad_names(draw) -> tuple[dict, str]:
    """A name that cannot name ``cubes/<name>.zarr``: it holds a path separator, a space or markup."""
    name = draw(st.builds(lambda a, b, c: a + b + c, st.text("abc", max_size=3),
                          st.sampled_from(["/", "\\", " ", "[", "]", ":", "*", "\n"]), st.text(max_size=4)))
    return _with(("name",), draw(st.sampled_from([name, "." + name, "-" + name, ""]))), "name"


@st.composite
def top_level_other(draw) -> tuple[dict, str]:
    case = draw(st.sampled_from(["block_size", "metrics", "unknown_key", "cube"]))
    if case == "block_size":
        return _with(("block_size",), draw(VALUES.filter(lambda v: isinstance(v, bool) or not isinstance(v, int)
                                                         or v < 0))), "block_size"
    if case == "metrics":
        bad = draw(st.one_of(NOT_TABLE.filter(lambda v: not isinstance(v, list)), st.just([]),
                             st.lists(TEXT.filter(lambda t: t not in ("rms", "chi2")), min_size=1, max_size=3),
                             st.just(["rms", "rms"]), st.lists(NOT_STRING, min_size=1, max_size=3)))
        return _with(("metrics",), bad), "metrics"
    if case == "cube":
        return _with(("cube",), ""), "cube"
    key = draw(TEXT.filter(lambda t: t not in BASE and t not in ("description", "dataset", "cube", "preset",
                                                                  "block_size")))
    return _with((key,), draw(VALUES)), toml_key(key)


@st.composite
def fixed(draw) -> tuple[dict, str]:
    case = draw(st.sampled_from(["table", "list", "junk", "bound", "unknown", "switch", "swept"]))
    if case == "table":
        return _with(("fixed",), draw(NOT_TABLE)), "[fixed]"
    name = draw(st.sampled_from(NUMERIC))
    if case == "list":  # the silent case of issue 11: paired element by element with a grid axis
        value = draw(st.lists(st.floats(0.01, 1.0), min_size=1, max_size=4))
    elif case == "junk":
        value = draw(st.one_of(NOT_NUMBER.filter(lambda v: not isinstance(v, list) or not v), NOT_FINITE))
    elif case == "bound":
        lo, hi = SIGMA.parameter(name).bounds
        value = draw(st.one_of(st.floats(max_value=lo, exclude_max=True, allow_infinity=False, allow_nan=False),
                               st.floats(min_value=hi, exclude_min=True, allow_infinity=False, allow_nan=False)))
    elif case == "unknown":
        name = draw(TEXT.filter(lambda t: t not in [p.name for p in SIGMA.parameters]))
        value = 1.0
    elif case == "switch":
        name = "window"
        value = draw(st.one_of(TEXT.filter(lambda t: t not in SIGMA.parameter("window").choices),
                               st.integers(), st.floats()))
    else:
        name, value = "A0", 1.0
    return _with(("fixed", name), value), f"fixed.{toml_key(name)}"


@st.composite
def grid(draw) -> tuple[dict, str]:
    case = draw(st.sampled_from(["grid", "axis", "unknown_parameter", "unknown_key", "spacing", "num", "ends",
                                 "logspace", "values", "unit", "include_default", "spacings", "huge", "switch",
                                 "switches_only"]))
    if case == "grid":
        return _with(("grid",), draw(st.one_of(NOT_TABLE, st.just({})))), "[grid]"
    if case == "axis":
        return _axis(draw(NOT_TABLE)), "[grid.A0]"
    if case == "unknown_parameter":
        name = draw(TEXT.filter(lambda t: t not in [p.name for p in SIGMA.parameters]))
        return _axis({"values": [1.0]}, name), f"[grid.{toml_key(name)}]"
    if case == "unknown_key":
        key = draw(TEXT.filter(lambda t: t not in ("linspace", "logspace", "values", "unit", "include_default")))
        return _axis({"values": [1.0], key: draw(VALUES)}), f"[grid.A0].{toml_key(key)}"
    spacing = draw(st.sampled_from(["linspace", "logspace"]))
    if case == "spacing":
        bad = draw(st.one_of(NOT_TABLE.filter(lambda v: not isinstance(v, list) or len(v) != 3)))
        return _axis({spacing: bad}), f"[grid.A0].{spacing}"
    if case == "num":
        return _axis({spacing: [0.5, 2.0, draw(BAD_COUNT)]}), f"[grid.A0].{spacing}.num"
    if case == "ends":
        end = draw(st.sampled_from([0, 1]))
        ends = [0.5, 2.0]
        ends[end] = draw(st.one_of(NOT_NUMBER, NOT_FINITE))
        return _axis({spacing: [*ends, 3]}), f"[grid.A0].{spacing}.{('start', 'stop')[end]}"
    if case == "logspace":
        return _axis({"logspace": [draw(st.floats(max_value=0, allow_nan=False, allow_infinity=False)), 2.0, 3]}), \
            "[grid.A0].logspace"
    if case == "values":
        bad = draw(st.one_of(st.just([]), NOT_TABLE.filter(lambda v: not isinstance(v, list)),
                             st.lists(NOT_FINITE, min_size=1, max_size=3), st.just([1.0, 1.0]), st.just([[1.0, 2.0]]),
                             st.just([1.0, "a"]), st.lists(TEXT, min_size=1, max_size=3, unique=True),
                             st.lists(st.floats(min_value=A0_MAX, exclude_min=True, allow_infinity=False), min_size=1,
                                      max_size=3, unique=True)))
        return _axis({"values": bad}), "[grid.A0].values"
    if case == "unit":
        bad = draw(st.one_of(NOT_STRING, st.sampled_from(["km", "kg", "s", "K", "m / s2", "[bold]", "furlongs"])))
        return _axis({"values": [1.0], "unit": bad}), "[grid.A0].unit"
    if case == "include_default":
        return _axis({"values": [1.0], "include_default": draw(NOT_BOOL)}), "[grid.A0].include_default"
    if case == "spacings":
        keys = draw(st.sampled_from([[], ["values", "linspace"], ["linspace", "logspace"]]))
        table = {key: ([1.0] if key == "values" else [0.5, 2.0, 3]) for key in keys}
        return _axis({**table, "unit": ""}), "[grid.A0]"
    if case == "huge":
        a = draw(st.integers(10**4, MAX_GRID_POINTS))
        b = draw(st.integers(MAX_GRID_POINTS // a + 1, MAX_GRID_POINTS))
        spec = _axis({"linspace": [0.5, 2.0, a]})
        return _with(("grid", "g_dagger"), {"logspace": [1e-11, 1e-9, b]}, spec), "[grid]"
    if case == "switch":
        key, bad = draw(st.sampled_from([("values", []), ("values", ["power", "power"]), ("values", [1, 2]),
                                         ("values", ["cubic"]), ("include_default", True), ("unit", "m")]))
        table = {"values": ["power"], key: bad}
        label = "[grid.window]" if bad == [1, 2] else f"[grid.window].{key}"
        return _with(("grid", "window"), table), label
    return _with(("grid",), {"window": {"values": ["power", "linear"]}}), "[grid]"


@st.composite
def sample(draw) -> tuple[dict, str]:
    case = draw(st.sampled_from(["table", "unknown", "min_points", "quality", "inclination"]))
    if case == "table":
        return _with(("sample",), draw(NOT_TABLE)), "[sample]"
    if case == "unknown":
        key = draw(TEXT.filter(lambda t: t not in ("min_points", "quality", "min_inclination", "max_inclination")))
        return _with(("sample", key), 1), f"sample.{toml_key(key)}"
    if case == "min_points":
        return _with(("sample", "min_points"), draw(VALUES.filter(
            lambda v: isinstance(v, bool) or not isinstance(v, int) or v < 1))), "sample.min_points"
    if case == "quality":
        bad = draw(st.one_of(st.just([]), NOT_TABLE.filter(lambda v: not isinstance(v, list)),
                             st.lists(st.one_of(st.integers().filter(lambda q: q not in (1, 2, 3)), NOT_NUMBER),
                                      min_size=1, max_size=3)))
        return _with(("sample", "quality"), bad), "sample.quality"
    key = draw(st.sampled_from(["min_inclination", "max_inclination"]))
    bad = draw(st.one_of(st.floats(90.0, exclude_min=True), st.floats(max_value=0.0, exclude_max=True), NOT_NUMBER))
    return _with(("sample", key), bad), f"sample.{key}"


@st.composite
def non_utf8(draw) -> tuple[bytes, str]:
    text = toml_document({**BASE, "description": "é" * draw(st.integers(1, 3))}).encode()
    return text.replace("é".encode(), draw(st.sampled_from([b"\xe9", b"\xff", b"\xc3", b"\x80\x80"])), 1), \
        "not UTF-8 text"


MALFORMED = st.one_of(top_level(), unknown_names(), bad_names(), top_level_other(), fixed(), grid(), sample(),
                      non_utf8())


# --- the property -------------------------------------------------------------------------------------

def check(case: tuple[dict | bytes, str]) -> None:
    """``sigcube sweep`` on the spec: exit 2, one line starting with the file and the broken key, nothing left."""
    spec, key = case
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "spec.toml"
        path.write_bytes(spec if isinstance(spec, bytes) else toml_document(spec).encode())
        out = Path(folder) / "out.zarr"
        result = runner.invoke(app, ["sweep", str(path), "--out", str(out), "--cube", str(Path(folder) / "no.zarr")])
        assert result.exit_code == 2, (result.exit_code, result.output, path.read_bytes())
        assert result.stderr.startswith(f"error: {path}: {key}"), (key, result.stderr)
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
        assert [p.name for p in Path(folder).iterdir()] == ["spec.toml"]


@settings(max_examples=400, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(MALFORMED)
def test_malformed_specs_are_one_line_naming_the_key(case):
    check(case)


@pytest.mark.slow  # 1,000 fresh examples a run (each run draws new ones)
@settings(max_examples=1_000, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(MALFORMED)
def test_malformed_specs_deep(case):
    check(case)


@pytest.mark.parametrize(("spec", "key"), [
    (_with(("fixed", "k"), [0.1, 0.2]), "fixed.k"),
    (_axis({"linspace": [0.5, 2.0, 1e13]}), "[grid.A0].linspace.num"),
    (_axis({"values": [1.0]}, "[/x]"), '[grid."[/x]"]'),
])
def test_a_real_process_gives_the_same_line(spec, key, tmp_path):
    path = tmp_path / "spec.toml"
    path.write_text(toml_document(spec))
    exe = Path(sys.executable).with_name("sigcube")
    proc = subprocess.run([str(exe), "sweep", str(path), "--out", str(tmp_path / "out.zarr")],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 2 and proc.stderr.startswith(f"error: {path}: {key}") and proc.stderr.count("\n") == 1
    assert [p.name for p in tmp_path.iterdir()] == ["spec.toml"]
