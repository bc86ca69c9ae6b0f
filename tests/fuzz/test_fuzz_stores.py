"""Fuzzing stores: damaged result cubes and dataset cubes through every command that opens a store.

Each example damages a copy of a real finished sweep result or of the real SPARC cube — a chunk deleted,
bit-flipped, truncated or replaced with junk; a ``zarr.json`` deleted, truncated, bit-flipped or missing a
key; ``sigcube_kind`` removed or changed — or hands one kind of store where the other is expected, and runs
one command on it: ``info``, ``report sweep``, ``explore``, ``report sparc --cube`` or a rerun of ``sweep``.

Every run ends with exit status 2 and one ``error:`` line naming the store and the problem, or — a rerun on
a result cube whose chunks were damaged — exit 0 after repairing it. Never a traceback, and never a store
that opens as valid when it is not: after each command, ``open_result``/``open_cube`` on the store either
refuses it or gives exactly the undamaged content. The default run is derandomized with a fixed budget;
``-m slow`` runs a deeper one.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import xarray as xr
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from rich.console import Console
from typer.testing import CliRunner

from sigcube.cli import app
from sigcube.cubes import open_cube
from sigcube.errors import SchemaError
from sigcube.kernels import get_kernel
from sigcube.sweeps import open_result, parse_spec, run_sweep

runner = CliRunner()
SPEC = ('name = "fuzz"\nkernel = "sigma"\nblock_size = 4\n[grid.A0]\nlinspace = [0.6, 2.4, 5]\n'
        "[grid.k]\nlogspace = [0.05, 0.5, 5]\n")
BUDGET = 120
"""Examples in the default run (about a tenth of a second each)."""
COMMANDS = {"result": ["info", "report sweep", "explore", "sweep"],
            "cube": ["info", "report sparc", "explore", "sweep"]}
"""The commands run on a damaged store of each kind (for a cube: passed as ``--cube``)."""
KINDS = ["sweep", "sparc", "rotation_curves", "milkyway", "galaxies", 3, None, ["sweep"]]


@dataclass(frozen=True)
class Pristine:
    result: Path
    cube: Path
    spec: Path
    contents: dict[str, xr.Dataset]


@pytest.fixture(scope="module")
def pristine(sparc_store, tmp_path_factory) -> Pristine:
    """A finished result cube (its lease folder beside it, as a sweep leaves it) and the SPARC cube."""
    folder = tmp_path_factory.mktemp("pristine")
    spec = folder / "fuzz.toml"
    spec.write_text(SPEC)
    result = folder / "result.zarr"
    run_sweep(parse_spec(SPEC), result, cube=sparc_store, synchronous=True, console=Console(quiet=True))
    cube = folder / "cube.zarr"
    shutil.copytree(sparc_store, cube)
    return Pristine(result, cube, spec, {"result": open_result(result).load(), "cube": open_cube(cube).load()})


# --- damage -------------------------------------------------------------------------------------------

def _files(store: Path, chunks: bool) -> list[str]:
    return sorted(str(p.relative_to(store)) for p in store.rglob("*")
                  if p.is_file() and (("/c/" in f"/{p.relative_to(store)}") == chunks))


@st.composite
def damage(draw, store: Path) -> tuple[str, Callable[[Path], None]]:
    """One damage of ``store``: its category and a function applying it to a copy."""
    category = draw(st.sampled_from(["chunk", "chunk", "metadata", "kind", "swap"]))
    if category == "swap":
        return category, lambda copy: None
    if category == "kind":
        own = json.loads((store / "zarr.json").read_text())["attributes"]["sigcube_kind"]
        value = draw(st.sampled_from([k for k in KINDS if k != own] + ["<delete>"]))

        def relabel(copy: Path) -> None:
            meta = json.loads((copy / "zarr.json").read_text())
            if value == "<delete>":
                meta["attributes"].pop("sigcube_kind")
            else:
                meta["attributes"]["sigcube_kind"] = value
            (copy / "zarr.json").write_text(json.dumps(meta))

        return f"kind {value!r}", relabel
    name = draw(st.sampled_from(_files(store, chunks=category == "chunk")))
    how = draw(st.sampled_from(["delete", "flip", "truncate", "junk"] + (["drop_key"] if category == "metadata" else [])))
    where, bit = draw(st.floats(0.0, 1.0, exclude_max=True)), draw(st.integers(1, 255))
    junk = draw(st.binary(min_size=0, max_size=64))
    if how == "drop_key":
        path = ("attributes",) if draw(st.booleans()) else ()
        meta = json.loads((store / name).read_text())
        keys = sorted((meta["attributes"] if path else meta).keys())
        key = draw(st.sampled_from(keys)) if keys else "attributes"

    def apply(copy: Path) -> None:
        file = copy / name
        data = file.read_bytes()
        i = int(where * len(data))
        if how == "delete":
            file.unlink()
        elif how == "flip":
            file.write_bytes(data[:i] + bytes([data[i] ^ bit]) + data[i + 1:])
        elif how == "truncate":
            file.write_bytes(data[:i])
        elif how == "junk":
            file.write_bytes(junk if junk != data else junk + b"\0")
        else:
            meta = json.loads(data)
            (meta["attributes"] if path and "attributes" in meta else meta).pop(key, None)
            file.write_text(json.dumps(meta))

    return f"{category} {how} {name}", apply


@st.composite
def case(draw, pristine: Pristine) -> tuple[str, str, str, Callable[[Path], None]]:
    """A damaged store (``target``), the role it is handed in (the other kind's, for a swap) and the command."""
    target = draw(st.sampled_from(["result", "cube"]))
    what, apply = draw(damage(getattr(pristine, target)))
    swap = what == "swap"
    role = {"result": "cube", "cube": "result"}[target] if swap else target
    command = draw(st.sampled_from([c for c in COMMANDS[role] if not (swap and c == "info")]))
    return target, f"{role} {command}", what, apply


# --- commands and checks ------------------------------------------------------------------------------

def _argv(command: str, store: Path, pristine: Pristine, out: Path) -> list[str]:
    """The command line of ``command`` (``<role> <name>``) with the damaged ``store`` in that role."""
    role, name = command.split(" ", 1)
    result, cube = (store, pristine.cube) if role == "result" else (pristine.result, store)
    if name == "info":
        return ["info", str(store)]
    if name == "report sweep":
        return ["report", "sweep", str(store)]
    if name == "report sparc":
        return ["report", "sparc", "--cube", str(store)]
    if name == "explore":
        return ["explore", str(result), "--cube", str(cube), "--html", str(out.with_suffix(".html")),
                "--max-galaxies", "2", "--max-points", "50"]
    return ["sweep", str(pristine.spec), "--out", str(store if role == "result" else out), "--cube", str(cube),
            "--synchronous"]


def _reopen(target: str, store: Path) -> xr.Dataset | None:
    """The store's content if it opens as valid (as its own kind), else None."""
    try:
        return (open_result(store) if target == "result" else open_cube(store)).load()
    except SchemaError:
        return None


KEYWORDS = ("damaged", "missing", "checksum", "zarr.json", "metadata", "not a readable Zarr", "sigcube_kind",
            "expected a", "a sweep writes only", "different sweep spec", "unfinished", "interrupted", "is a ")
"""Each refusal names what is wrong in one of these terms."""


def _unread_chunk(what: str) -> bool:
    """Whether the damage ``what`` ("chunk <how> <variable>/c/…") hit a cube variable the fuzz sweep does not read
    (:data:`~sigcube.sample.PACK_VARIABLES` without those only Σ★ needs: the spec's kernel reads no Σ★)."""
    from sigcube.datasets import dataset_kind

    parts = what.split()
    if len(parts) != 3 or parts[0] != "chunk" or "/c/" not in parts[2]:
        return False
    sparc = dataset_kind("sparc")
    read = set(sparc.pack_variables) - set(sparc.unread(get_kernel("sigma").all_inputs))
    return parts[2].split("/c/")[0] not in read


def _check(pristine: Pristine, target: str, command: str, what: str, apply: Callable[[Path], None]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / f"damaged-{target}.zarr"
        source = getattr(pristine, target)
        shutil.copytree(source, store)
        lease = source.parent / f".{source.name}.lease"
        if lease.is_dir():
            shutil.copytree(lease, store.parent / f".{store.name}.lease")
        apply(store)
        out = Path(tmp) / "out.zarr"
        res = runner.invoke(app, _argv(command, store, pristine, out))
        event(f"{target} as {command}: exit {res.exit_code}")
        assert res.exit_code in (0, 2) and "Traceback" not in res.output and "this is a bug" not in res.output, \
            (what, res.output)
        content = _reopen(target, store)
        if content is not None:  # whatever the command did, a store that opens is exactly the undamaged one
            xr.testing.assert_identical(content, pristine.contents[target])
        if res.exit_code == 2:
            errors = [line for line in res.stderr.splitlines() if line.startswith("error:")]
            message = " ".join(res.stderr.split())
            assert len(errors) == 1 and any(k in message for k in KEYWORDS), (what, res.stderr)
            assert store.name in message or pristine.result.name in message, (what, res.stderr)
        elif command == "cube sweep" and _unread_chunk(what):
            # a sweep reads (and checks) only the cube variables it packs: damage elsewhere leaves its result exact
            xr.testing.assert_equal(open_result(out).load().drop_vars("done"),
                                    pristine.contents["result"].drop_vars("done"))
        else:  # a rerun repairs damaged chunks; anything else passes only if the damage left the store valid
            assert what != "swap" and (content is not None or (command.endswith("info") and "unfinished" in res.stdout)), \
                (what, res.output)
        assert res.exit_code == 0 or not out.exists(), (what, "a refused sweep left a store at --out")


def _test(examples: int, derandomize: bool):
    @settings(max_examples=examples, derandomize=derandomize, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                     HealthCheck.data_too_large])
    @given(data=st.data())
    def run(pristine: Pristine, data) -> None:
        target, command, what, apply = data.draw(case(pristine))
        _check(pristine, target, command, what, apply)

    return run


def test_damaged_stores_are_refused_or_repaired_never_a_traceback(pristine):
    _test(BUDGET, derandomize=True)(pristine)


@pytest.mark.slow
def test_damaged_stores_deep(pristine):
    _test(15 * BUDGET, derandomize=False)(pristine)
