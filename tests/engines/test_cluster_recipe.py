"""The one-machine cluster recipe of the clusters page (``docs/guide/clusters.md``), read from the page and run as it
is written: a scheduler and workers on 127.0.0.1, a sweep and a model comparison through ``--scheduler``, then the
``kill`` line. Only the ports (free ones) and the files the commands find by default (a small spec at
``sweeps/sigma_A0_k.toml``, a small synthetic cube as ``$SIGCUBE_CUBE_DIR/sparc.zarr``) differ, so the page and the
test cannot drift apart."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psutil
import pytest

import sigcube
from sigcube.engines.sweep import parse_spec, run_sweep
from sigcube.io.synth import synth_cube
from sigcube.model.metrics import metric_names

MARKER = "<!-- the one-machine recipe:"
PORTS = {"8786": "scheduler", "8787": "dashboard"}
"""The ports the recipe names, by what listens there."""
SPEC = """
name = "sigma-A0-k"
kernel = "sigma"
[grid.A0]
linspace = [0.8, 1.6, 3]
[grid.k]
logspace = [0.05, 0.5, 3]
"""
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Line:
    """One command of the recipe: its environment assignments, its words, whether it runs in the background."""

    env: dict[str, str]
    argv: list[str]
    background: bool


def recipe(page: Path) -> list[Line]:
    """The commands of the recipe's code block, as a shell reads them (continuations joined, comments dropped)."""
    text = page.read_text(encoding="utf-8")
    assert MARKER in text, f"{page} has no one-machine recipe"
    block = text.split(MARKER, 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    lines = []
    for raw in block.replace("\\\n", " ").splitlines():
        words = shlex.split(raw, comments=True)
        background = bool(words) and words[-1] == "&"
        words = words[:-1] if background else words
        env = {}
        while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
            name, value = words.pop(0).split("=", 1)
            env[name] = value
        if words:
            lines.append(Line(env, words, background))
    return lines


def _option(argv: list[str], name: str) -> str | None:
    return argv[argv.index(name) + 1] if name in argv else None


def test_the_recipe_keeps_every_address_on_this_machine(repo_root):
    """What the page prints: the scheduler and its dashboard, the workers and the commands all on 127.0.0.1, the
    workers without a dashboard of their own, and a stop for every process started in the background."""
    lines = recipe(repo_root / "docs" / "guide" / "clusters.md")
    scheduler, workers = (line.argv for line in lines if line.background)
    assert scheduler[:2] == ["dask", "scheduler"] and workers[:2] == ["dask", "worker"]
    port = _option(scheduler, "--port")
    address = f"tcp://127.0.0.1:{port}"
    assert _option(scheduler, "--host") == "127.0.0.1"
    assert _option(scheduler, "--dashboard-address").startswith("127.0.0.1:")
    assert workers[2] == address and _option(workers, "--host") == "127.0.0.1" and "--no-dashboard" in workers
    assert _option(workers, "--dashboard-address").startswith("127.0.0.1:"), "their health and metrics pages"
    commands = [line.argv for line in lines if line.argv[0] == "sigcube"]
    assert [c[1] for c in commands] == ["sweep", "report"]
    assert all(_option(c, "--scheduler") == address for c in commands)
    assert lines[-1].argv == ["kill", "%2", "%1"], "the workers, then the scheduler"


def _workers(dashboard: str) -> int:
    """The workers the scheduler knows of (its dashboard's identity page); 0 while it does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{dashboard}/json/identity.json", timeout=5) as page:
            return len(json.load(page)["workers"])
    except OSError:
        return 0


def _listening(process: psutil.Process) -> set[str]:
    """The addresses a process listens on."""
    try:
        return {c.laddr.ip for c in process.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN}
    except psutil.NoSuchProcess:
        return set()


@pytest.mark.slow
def test_the_one_machine_recipe_runs_as_written(repo_root, tmp_path, wait_for, free_port):
    ports = {number: str(free_port()) for number in PORTS}
    (tmp_path / "sweeps").mkdir()
    (tmp_path / "sweeps" / "sigma_A0_k.toml").write_text(SPEC)
    cubes = tmp_path / "cubes"
    synth_cube(12, cubes / "sparc.zarr", seed=0)
    env = {**os.environ, "SIGCUBE_CUBE_DIR": str(cubes)}
    background: list[tuple[subprocess.Popen, Path]] = []
    tree: list[psutil.Process] = []

    def printed() -> str:
        return "\n".join(f"{log.name}:\n{log.read_text(errors='replace')[-3000:]}" for _, log in background)

    def command(line: Line) -> list[str]:
        words = [re.sub(rf"\b({'|'.join(PORTS)})\b", lambda m: ports[m.group(1)], w) for w in line.argv]
        return [str(BIN / words[0]), *words[1:]]

    try:
        for line in recipe(repo_root / "docs" / "guide" / "clusters.md"):
            if line.background:
                log = tmp_path / f"{line.argv[0]}-{line.argv[1]}.log"
                with log.open("wb") as out:  # a file, not a pipe nobody reads
                    background.append((subprocess.Popen(command(line), env={**env, **line.env}, cwd=tmp_path,
                                                        stdout=out, stderr=subprocess.STDOUT), log))
                continue
            if line.argv[0] == "kill":
                wait_for(lambda: _workers(ports["8787"]) == 2, "the scheduler and its 2 workers", printed)
                tree = [p for proc, _ in background for p in (psutil.Process(proc.pid),
                                                              *psutil.Process(proc.pid).children(recursive=True))]
                listening = {f"{p.pid} {' '.join(p.cmdline()[:3])}": _listening(p) for p in tree}
                assert all(ip == "127.0.0.1" for ips in listening.values() for ip in ips), listening
                assert any(listening.values()), listening
                for job in line.argv[1:]:
                    background[int(job.lstrip("%")) - 1][0].send_signal(signal.SIGTERM)
                wait_for(lambda: all(proc.poll() is not None for proc, _ in background), "every process stopped",
                         printed)
                wait_for(lambda: not _alive(tree), "the workers' own processes stopped too", printed)
                continue
            done = subprocess.run(command(line), env={**env, **line.env}, cwd=tmp_path, capture_output=True,
                                  text=True, timeout=1800)
            assert done.returncode == 0, f"{' '.join(line.argv)}:\n{done.stderr}\n{printed()}"
            assert "Traceback" not in done.stderr, f"{' '.join(line.argv)} printed a traceback:\n{done.stderr}"
            if line.argv[1] == "sweep":
                _same_as_in_process(cubes / "sigma-A0-k.zarr", cubes / "sparc.zarr", tmp_path / "here.zarr")
            else:
                assert "sigma" in done.stdout and "mond" in done.stdout, done.stdout
    finally:
        for proc, _ in background:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert not _alive(tree), "left running"


def _alive(tree: list[psutil.Process]) -> list[int]:
    """The processes of ``tree`` still running (a zombie has stopped)."""
    alive = []
    for p in tree:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                alive.append(p.pid)
        except psutil.NoSuchProcess:
            pass
    return alive
    assert "Traceback" not in printed(), printed()


def _same_as_in_process(result: Path, cube: Path, here: Path) -> None:
    """The sweep the cluster ran holds the metrics of the same sweep run in this process."""
    run_sweep(parse_spec(SPEC), here, cube=cube, synchronous=True)
    theirs, mine = sigcube.open_result(result).load(), sigcube.open_result(here).load()
    assert theirs.attrs["complete"] == 1
    for name in metric_names("global"):
        np.testing.assert_allclose(theirs[name].values, mine[name].values, rtol=1e-12, err_msg=name)
