"""Fuzzing stores: damaged sweep results, fit results and dataset cubes through every command that opens a store.

Each example damages a copy of a real finished sweep result, of a fit result or of the real SPARC cube — a chunk
deleted, bit-flipped, truncated, resized or replaced with junk; one chunk copied over another (of the same array or
of another) or two chunks swapped; a ``zarr.json`` or a chunk manifest deleted, truncated, bit-flipped or missing a
key; ``sigcube_kind`` removed or changed — or hands one kind of store where another is expected, and runs one
command on it: ``info``, ``report sweep``, ``explore``, ``report sparc --cube`` or a rerun of ``sweep``.

Every run ends with exit status 2 and one ``error:`` line naming the store and the problem, or — a rerun on a
result cube whose chunks were damaged — exit 0 after repairing it. Never a traceback, and never a store that
opens as valid when it is not: after each command, ``open_result``/``open_fit``/``open_cube`` on the store either
refuses it or gives exactly the undamaged content, and following the advice of a refusal (rerun, ``--force``,
re-ingest) mends it. The same damages are applied to copies on an S3 server (moto,
on 127.0.0.1), read by ``info`` and ``report sweep``. The default runs are derandomized with a fixed budget;
``-m slow`` runs deeper ones.
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
from sigcube.engines.fit.run import fit_points
from sigcube.engines.fit.spec import parse_spec as parse_fit_spec
from sigcube.engines.fit.store import open_fit, write_result
from sigcube.engines.sweep import open_result, parse_spec, run_sweep
from sigcube.errors import SchemaError
from sigcube.io.cubes import open_cube
from sigcube.model.kernels import get_kernel
from sigcube.stats.synthetic import synthetic_sample

runner = CliRunner()
SPEC = ('name = "fuzz"\nkernel = "sigma"\nblock_size = 4\n[grid.A0]\nlinspace = [0.6, 2.4, 5]\n'
        "[grid.k]\nlogspace = [0.05, 0.5, 5]\n")
FIT_SPEC = {"dataset": "sparc", "kernel": "sigma_xi",
            "free": {"A": {"bounds": [0.01, 5.0]}, "xi": {"bounds": [0.1, 50.0], "scale": "log"}}}
BUDGET = 30
"""Examples in the default local run (about a tenth of a second each, more for explore)."""
S3_BUDGET = 12
"""Examples in the default S3 run (each damage is applied to, and undone on, the server)."""
DEEP, S3_DEEP = 100, 25
"""Examples in the slow tier's local and S3 runs (fresh ones each run)."""
COMMANDS = {"result": ["info", "report sweep", "explore", "sweep"],
            "cube": ["info", "report sparc", "explore", "sweep"],
            "fit": ["info"]}
"""The commands run on a damaged store of each kind (for a cube: passed as ``--cube``)."""
KINDS = ["sweep", "sparc", "rotation_curves", "fit", "milkyway", "galaxies", 3, None, ["sweep"]]

Files = dict[str, bytes]
"""A store as its objects: key (relative to the store) → bytes."""
Damage = Callable[[Files], dict[str, bytes | None]]
"""What a damage does to a store: the objects it rewrites (None: deletes)."""


@dataclass(frozen=True)
class Pristine:
    stores: dict[str, Path]
    spec: Path
    contents: dict[str, xr.Dataset]


def _open(target: str, where: str | Path) -> xr.Dataset:
    opener = {"result": open_result, "cube": open_cube, "fit": open_fit}[target]
    return opener(where).load()


@pytest.fixture(scope="module")
def pristine(sparc_store, tmp_path_factory) -> Pristine:
    """A finished sweep result (its lease folder beside it, as a sweep leaves it), a fit result and the SPARC cube."""
    folder = tmp_path_factory.mktemp("pristine")
    spec = folder / "fuzz.toml"
    spec.write_text(SPEC)
    result = folder / "result.zarr"
    run_sweep(parse_spec(SPEC), result, cube=sparc_store, synchronous=True, console=Console(quiet=True))
    cube = folder / "cube.zarr"
    shutil.copytree(sparc_store, cube)
    fit = folder / "fit.zarr"
    sample = synthetic_sample(get_kernel("sigma_xi"), {"A": 1.5, "xi": 3.0}, 4, seed=4, priors={})
    write_result(fit_points(parse_fit_spec(FIT_SPEC), sample.points), fit)
    stores = {"result": result, "cube": cube, "fit": fit}
    return Pristine(stores, spec, {t: _open(t, p) for t, p in stores.items()})


def _files(store: Path) -> Files:
    return {str(p.relative_to(store)): p.read_bytes() for p in sorted(store.rglob("*")) if p.is_file()}


def _is_chunk(key: str) -> bool:
    return "/c/" in f"/{key}"


# --- damage -------------------------------------------------------------------------------------------

@st.composite
def damage(draw, files: Files, role: bool = True) -> tuple[str, Damage]:
    """One damage of a store given as its ``files``: a description and the function applying it (``role``: the
    store may also be handed, undamaged, where another kind is expected)."""
    chunks = [k for k in files if _is_chunk(k)]
    category = draw(st.sampled_from(["chunk", "chunk", "move", "move", "swap", "metadata", "manifest", "kind"]
                                    + ["role"] * role))
    if category == "role":
        return category, lambda f: {}
    if category in ("move", "swap"):
        src = draw(st.sampled_from(chunks))
        dst = draw(st.sampled_from([k for k in chunks if files[k] != files[src]] or [src]))
        if category == "move":
            return f"move {src} over {dst}", lambda f: {dst: f[src]}
        return f"swap {src} and {dst}", lambda f: {dst: f[src], src: f[dst]}
    if category == "kind":
        own = json.loads(files["zarr.json"])["attributes"]["sigcube_kind"]
        value = draw(st.sampled_from([k for k in KINDS if k != own] + ["<delete>"]))

        def relabel(f: Files) -> dict[str, bytes | None]:
            meta = json.loads(f["zarr.json"])
            if value == "<delete>":
                meta["attributes"].pop("sigcube_kind")
            else:
                meta["attributes"]["sigcube_kind"] = value
            return {"zarr.json": json.dumps(meta).encode()}

        return f"kind {value!r}", relabel
    pool = (chunks if category == "chunk" else [k for k in files if k.startswith("_manifest/")]
            if category == "manifest" else [k for k in files if not _is_chunk(k) and not k.startswith("_manifest/")])
    name = draw(st.sampled_from(pool))
    how = draw(st.sampled_from(["delete", "flip", "truncate", "junk", "grow"]
                               + (["drop_key"] if category != "chunk" else [])))
    where, bit = draw(st.floats(0.0, 1.0, exclude_max=True)), draw(st.integers(1, 255))
    junk = draw(st.binary(min_size=0, max_size=64))
    key = None
    if how == "drop_key":
        meta = json.loads(files[name])
        inner = draw(st.booleans()) and isinstance(meta.get("attributes", meta.get("chunks")), dict)
        container = meta.get("attributes", meta.get("chunks")) if inner else meta
        key = (inner, draw(st.sampled_from(sorted(container) or ["-"])))

    def apply(f: Files) -> dict[str, bytes | None]:
        data = f[name]
        i = int(where * len(data))
        if how == "delete":
            return {name: None}
        if how == "flip":
            return {name: data[:i] + bytes([data[i] ^ bit]) + data[i + 1:]} if data else {name: b"\1"}
        if how == "truncate":
            return {name: data[:i]}
        if how == "grow":
            return {name: data + junk[:8] + b"\0"}
        if how == "junk":
            return {name: junk if junk != data else junk + b"\0"}
        meta = json.loads(data)
        inner, k = key
        (meta.get("attributes", meta.get("chunks")) if inner else meta).pop(k, None)
        return {name: json.dumps(meta).encode()}

    return f"{category} {how} {name}", apply


@st.composite
def case(draw, pristine: Pristine, targets: tuple[str, ...], commands: dict[str, list[str]]):
    """A damaged store (``target``), the role it is handed in (another kind's, for a role swap) and the command."""
    target = draw(st.sampled_from(targets))
    roles = [t for t in targets if t != target and set(commands[t]) - {"info"}]
    what, apply = draw(damage(_files(pristine.stores[target]), role=bool(roles)))
    role = draw(st.sampled_from(roles)) if what == "role" else target
    command = draw(st.sampled_from([c for c in commands[role] if not (what == "role" and c == "info")]))
    return target, f"{role} {command}", what, apply


# --- commands and checks ------------------------------------------------------------------------------

def _argv(command: str, store: str, pristine: Pristine, out: Path) -> list[str]:
    """The command line of ``command`` (``<role> <name>``) with the damaged ``store`` in that role."""
    role, name = command.split(" ", 1)
    result, cube = (store, str(pristine.stores["cube"])) if role == "result" else (str(pristine.stores["result"]), store)
    if name == "info":
        return ["info", store]
    if name == "report sweep":
        return ["report", "sweep", store]
    if name == "report sparc":
        return ["report", "sparc", "--cube", store]
    if name == "explore":
        return ["explore", result, "--cube", cube, "--html", str(out.with_suffix(".html")),
                "--max-frames", "1", "--max-galaxies", "2", "--max-points", "50"]
    return ["sweep", str(pristine.spec), "--out", store if role == "result" else str(out), "--cube", cube,
            "--synchronous"]


def _reopen(target: str, store: str | Path) -> xr.Dataset | None:
    """The store's content if it opens as valid (as its own kind), else None."""
    try:
        return _open(target, store)
    except SchemaError:
        return None


KEYWORDS = ("damaged", "missing", "checksum", "zarr.json", "metadata", "not a readable Zarr", "sigcube_kind",
            "expected a", "a sweep writes only", "different sweep spec", "unfinished", "interrupted", "is a ",
            "manifest", "another chunk", "bytes where")
"""Each refusal names what is wrong in one of these terms."""


def _unread_chunk(what: str) -> bool:
    """Whether the damage ``what`` hit only cube variables the fuzz sweep does not read
    (:data:`~sigcube.io.rotation_curves.PACK_VARIABLES` without those only Σ★ needs: the spec's kernel reads no Σ★)."""
    from sigcube.io.datasets import dataset_kind

    sparc = dataset_kind("sparc")
    read = set(sparc.pack_variables) - set(sparc.unread(get_kernel("sigma").all_inputs))
    touched = [w.split("/c/")[0] for w in what.split() if "/c/" in w]
    return bool(touched) and not any(t in read for t in touched)


def _judge(pristine: Pristine, target: str, command: str, what: str, res, content: xr.Dataset | None,
           store_name: str, out: Path | None) -> None:
    """The verdict on one run: one clear line or a repair, and never a damaged store that opens as valid."""
    event(f"{target} as {command}: exit {res.exit_code}")
    assert res.exit_code in (0, 2) and "Traceback" not in res.output and "this is a bug" not in res.output, \
        (what, res.output)
    if content is not None:  # whatever the command did, a store that opens is exactly the undamaged one
        xr.testing.assert_identical(content, pristine.contents[target])
    if res.exit_code == 2:
        errors = [line for line in res.stderr.splitlines() if line.startswith("error:")]
        message = " ".join(res.stderr.split())
        assert len(errors) == 1 and any(k in message for k in KEYWORDS), (what, res.stderr)
        assert store_name in message or pristine.stores["result"].name in message, (what, res.stderr)
    elif command == "cube sweep" and _unread_chunk(what):
        # a sweep reads (and checks) only the cube variables it packs: damage elsewhere leaves its result exact
        xr.testing.assert_equal(open_result(out).load().drop_vars("done"),
                                pristine.contents["result"].drop_vars("done"))
    else:  # a rerun repairs damaged chunks; anything else passes only if the damage left the store valid
        assert what != "role" and (content is not None or (command.endswith("info") and "unfinished" in res.stdout)), \
            (what, res.output)
    if out is not None:
        assert res.exit_code == 0 or not out.exists(), (what, "a refused sweep left a store at --out")


def _follow_advice(pristine: Pristine, target: str, message: str, store: Path) -> None:
    """Do what a refusal advises (rerun the sweep, pass --force, re-ingest, fit again): the store must then open as
    exactly the undamaged one."""
    from sigcube.io.cubes import write_cube

    sweep = ["sweep", str(pristine.spec), "--out", str(store), "--cube", str(pristine.stores["cube"]), "--synchronous"]
    if "pass --force to `sigcube sweep`" in message:
        res = runner.invoke(app, [*sweep, "--force"])
    elif "rerun the same `sigcube sweep` command" in message or "rerun the sweep" in message:
        res = runner.invoke(app, sweep)
    elif "--force" in message and target == "cube":
        write_cube(pristine.contents["cube"], store, force=True)
        res = None
    elif "--force" in message and target == "fit":
        write_result(pristine.contents["fit"], store, force=True)
        res = None
    else:
        return
    assert res is None or res.exit_code == 0, (message, res.output)
    content = _reopen(target, store)
    assert content is not None, (message, "the advice did not mend the store")
    xr.testing.assert_identical(content, pristine.contents[target])


def _check_local(pristine: Pristine, target: str, command: str, what: str, apply: Damage) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / f"damaged-{target}.zarr"
        source = pristine.stores[target]
        shutil.copytree(source, store)
        lease = source.parent / f".{source.name}.lease"
        if lease.is_dir():
            shutil.copytree(lease, store.parent / f".{store.name}.lease")
        for key, data in apply(_files(store)).items():
            if data is None:
                (store / key).unlink(missing_ok=True)
            else:
                (store / key).write_bytes(data)
        out = Path(tmp) / "out.zarr"
        res = runner.invoke(app, _argv(command, str(store), pristine, out))
        _judge(pristine, target, command, what, res, _reopen(target, store), store.name, out)
        if res.exit_code == 2 and command.split(" ", 1)[0] == target and not what.startswith("kind"):
            _follow_advice(pristine, target, " ".join(res.stderr.split()), store)


def _run(examples: int, derandomize: bool, check: Callable, targets: tuple[str, ...],
         commands: dict[str, list[str]]):
    @settings(max_examples=examples, derandomize=derandomize, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                     HealthCheck.data_too_large])
    @given(data=st.data())
    def run(pristine: Pristine, data) -> None:
        target, command, what, apply = data.draw(case(pristine, targets, commands))
        check(pristine, target, command, what, apply)

    return run


LOCAL = ("result", "cube", "fit")


def test_damaged_stores_are_refused_or_repaired_never_a_traceback(pristine):
    _run(BUDGET, True, _check_local, LOCAL, COMMANDS)(pristine)


@pytest.mark.slow
def test_damaged_stores_deep(pristine):
    _run(DEEP, False, _check_local, LOCAL, COMMANDS)(pristine)


# --- the same on an object store ----------------------------------------------------------------------

S3_COMMANDS = {"result": ["info", "report sweep"], "cube": ["info"], "fit": ["info"]}
"""Read-only commands on an S3 copy (each damage is undone afterwards, so the copies are reused)."""


@pytest.fixture(scope="module")
def on_s3(pristine, s3_server):
    """The pristine stores uploaded once to the loopback S3 server: target → its URL."""
    fs = s3_server["fs"]
    urls = {}
    for target, path in pristine.stores.items():
        url = f"s3://{s3_server['bucket']}/fuzz-{target}.zarr"
        for key, data in _files(path).items():
            fs.pipe_file(f"{url[5:]}/{key}", data)
        urls[target] = url
    return urls


def _check_s3(on_s3: dict[str, str], fs) -> Callable:
    def check(pristine: Pristine, target: str, command: str, what: str, apply: Damage) -> None:
        url = on_s3[target]
        files = _files(pristine.stores[target])
        changed = apply(files)
        for key, data in changed.items():
            if data is None:
                fs.rm_file(f"{url[5:]}/{key}")
            else:
                fs.pipe_file(f"{url[5:]}/{key}", data)
        try:  # the damaged store in the command's role (another kind's, for a role swap)
            res = runner.invoke(app, _argv(command, url, pristine, Path("unused")))
            _judge(pristine, target, command, what, res, _reopen(target, url), url.rsplit("/", 1)[-1], None)
        finally:
            for key in changed:
                fs.pipe_file(f"{url[5:]}/{key}", files[key])
            fs.invalidate_cache()

    return check


@pytest.mark.slow  # every S3 request goes through the loopback server
def test_damaged_stores_on_s3_are_refused_never_served(pristine, on_s3, s3_server):
    _run(S3_BUDGET, True, _check_s3(on_s3, s3_server["fs"]), LOCAL, S3_COMMANDS)(pristine)


@pytest.mark.slow
def test_damaged_stores_on_s3_deep(pristine, on_s3, s3_server):
    _run(S3_DEEP, False, _check_s3(on_s3, s3_server["fs"]), LOCAL, S3_COMMANDS)(pristine)
