"""The CLI's error boundary: bad input → one line and exit 2; a bug → one line, its traceback in a file, exit 1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import sigcube.model.kernels
from sigcube.cli import app, command_tree
from sigcube.engines.sweep.engine import scheduler_address
from sigcube.errors import SigcubeError

runner = CliRunner()
SPEC = 'name = "t"\nkernel = "sigma"\n[grid.A0]\nvalues = [1.0]\n'


def _boom() -> list[str]:
    raise RuntimeError("boom\nsecond line of the message")


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """A fresh user cache folder (XDG_CACHE_HOME); tracebacks go to its sigcube/logs."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("SIGCUBE_DEBUG", raising=False)
    return tmp_path / "cache" / "sigcube" / "logs"


def test_an_unexpected_error_is_one_line_and_a_traceback_file(cache, monkeypatch):
    monkeypatch.setattr(sigcube.model.kernels, "kernel_names", _boom)
    result = runner.invoke(app, ["kernels"])
    assert result.exit_code == 1 and result.stdout == ""
    line = result.stderr.rstrip("\n")
    assert "\n" not in line and "Traceback" not in line
    assert line.startswith("error: this is a bug in sigcube (RuntimeError: boom); the traceback is in ")
    (path,) = cache.iterdir()
    assert str(path) in line and "sigcube --debug" in line
    text = path.read_text()
    assert "Traceback (most recent call last)" in text and "in _boom" in text and "second line of the message" in text


@pytest.mark.parametrize("how", [["--debug", "kernels"], ["kernels"]])
def test_debug_prints_the_traceback_instead(cache, monkeypatch, how):
    monkeypatch.setattr(sigcube.model.kernels, "kernel_names", _boom)
    result = runner.invoke(app, how, env={"SIGCUBE_DEBUG": "1"} if how == ["kernels"] else {})
    assert result.exit_code == 1
    assert "Traceback (most recent call last)" in result.stderr and "in _boom" in result.stderr
    assert result.stderr.rstrip().splitlines()[-1].startswith("error: this is a bug in sigcube (RuntimeError: boom)")
    assert not cache.exists()


def test_a_bug_in_a_real_process_exits_1_with_one_line(tmp_path):
    code = ("import sigcube.model.kernels, sys\n"
            "def boom(): raise KeyError('x')\n"
            "sigcube.model.kernels.kernel_names = boom\n"
            "from sigcube.cli import app\n"
            "sys.argv = ['sigcube', 'kernels']\n"
            "app()\n")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    env.pop("SIGCUBE_DEBUG", None)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=900)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith("error: this is a bug in sigcube (KeyError: 'x'); the traceback is in ")
    (path,) = (tmp_path / "sigcube" / "logs").iterdir()
    assert "KeyError: 'x'" in path.read_text()


def test_every_command_is_behind_the_boundary():
    def commands(group):
        for command in group.commands.values():
            yield from commands(command) if hasattr(command, "commands") else [command]

    found = list(commands(command_tree()))
    assert len(found) >= 12 and all(getattr(c.callback, "sigcube_boundary", False) for c in found)


@pytest.mark.parametrize(("args", "shown"), [
    (["kernels", "[/x]"], "error: unknown kernel '[/x]'; registered kernels: burkert"),
    (["kernels", "[bold]sigma[/bold]"], "error: unknown kernel '[bold]sigma[/bold]'"),
    (["ingest", "table", "[bold]x[/bold].csv"], "error: [bold]x[/bold].csv: no such file"),
    (["sweep", "[/x].toml"], "error: [/x].toml: cannot read the sweep spec"),
])
def test_markup_in_user_text_prints_as_typed(args, shown, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and result.stderr.startswith(shown), result.stderr
    assert result.stderr.count("\n") == 1


def test_spec_errors_keep_their_brackets(tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text('name = "t"\nkernel = "sigma"\n[grid."[bold]"]\nvalues = [1]\n[grid.k]\nlinspace = [1, 2, inf]\n')
    result = runner.invoke(app, ["sweep", str(spec), "--out", str(tmp_path / "out.zarr")])
    assert result.exit_code == 2
    assert result.stderr == f"error: {spec}: [grid.k].linspace.num: must be a whole number (got inf)\n"
    spec.write_text('name = "t"\nkernel = "sigma"\n[grid."[bold]"]\nvalues = [1]\n')
    result = runner.invoke(app, ["sweep", str(spec), "--out", str(tmp_path / "out.zarr")])
    assert result.stderr.startswith(f"error: {spec}: [grid.\"[bold]\"]: kernel 'sigma' has no parameter '[bold]'")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.toml"]


def test_a_grid_of_switches_only_is_refused_before_any_store(tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text('name = "t"\nkernel = "sigma"\n[grid.window]\nvalues = ["power", "linear"]\n')
    result = runner.invoke(app, ["sweep", str(spec), "--out", str(tmp_path / "out.zarr")])
    assert result.exit_code == 2 and "[grid]: every axis is a switch (window)" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.toml"]


@pytest.mark.parametrize(("address", "message"), [
    ("foo", "--scheduler 'foo' is not a Dask scheduler address: give tcp://HOST:PORT"),
    ("http://127.0.0.1:8787", "'http' is not a Dask protocol (tcp, tls, ws, wss, ucx); http(s):// is the dashboard"),
    ("tcp://127.0.0.1", "give tcp://HOST:PORT"),
    ("tcp://:8786", "give tcp://HOST:PORT"),
    ("tcp://10.0.0.5:99999", "give tcp://HOST:PORT"),
    ("tcp://10.0.0.5:8786/status", "give tcp://HOST:PORT"),
    ("inproc://10.0.0.5/1/2", "inproc:// addresses live inside one Python process"),
])
def test_bad_scheduler_addresses_are_refused_before_connecting(address, message, tmp_path):
    result = runner.invoke(app, ["sweep", str(tmp_path / "missing.toml"), "--scheduler", address])
    assert result.exit_code == 2 and message in result.stderr and result.stderr.count("\n") == 1, result.stderr


def test_good_scheduler_addresses_pass():
    assert scheduler_address("10.0.0.5:8786") == "tcp://10.0.0.5:8786"
    for address in ("tcp://scheduler.local:8786", "tls://[::1]:8786", "ws://h:80", "ucx://10.0.0.5:13337"):
        assert scheduler_address(address) == address
    with pytest.raises(SigcubeError):
        scheduler_address("ftp://h:21")


def test_an_unreachable_scheduler_is_one_clear_line(sparc_store, tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC)
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = runner.invoke(app, ["sweep", str(spec), "--cube", str(sparc_store), "--out", str(tmp_path / "o.zarr"),
                                 "--scheduler", f"tcp://127.0.0.1:{port}"])
    assert result.exit_code == 2, result.output
    assert f"error: cannot reach the Dask scheduler at tcp://127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.output


def test_typer_exits_pass_through_the_boundary():
    import typer

    from sigcube.cli.common import friendly

    small = typer.Typer()

    @small.command()
    @friendly
    def leave(code: int) -> None:
        raise typer.Exit(code)

    assert runner.invoke(small, ["3"]).exit_code == 3 and runner.invoke(small, ["0"]).exit_code == 0
