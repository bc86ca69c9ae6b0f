"""The per-galaxy tasks of a comparison or a calibration counted on a bar with its time left: the runner tells how many
of each batch have finished, in this process and on a cluster alike, and the command draws it on a terminal."""

from __future__ import annotations

import io
import re
from operator import pow

import pytest
from rich.console import Console

from sigcube.engines.fit.run import executor


def _ticks(run_in) -> tuple[list, list]:
    ticks: list[tuple[int, int]] = []
    with run_in(ticks.append) as run:
        results = [run(pow, (3,), [(i,) for i in range(n)]) for n in (5, 0, 1)]
    return results, ticks


def _checked(results: list, ticks: list) -> None:
    assert results == [[3 ** i for i in range(n)] for n in (5, 0, 1)]
    assert ticks == [(0, 5), (1, 5), (2, 5), (3, 5), (4, 5), (5, 5), (0, 0), (0, 1), (1, 1)]


def test_in_process_tasks_are_counted_as_they_finish():
    _checked(*_ticks(lambda tick: executor(synchronous=True, tick=lambda d, t: tick((d, t)))))


def test_tasks_on_a_cluster_are_counted_as_they_land():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        _checked(*_ticks(lambda tick: executor(cluster.scheduler_address, None, False, Console(quiet=True),
                                               tick=lambda d, t: tick((d, t)))))


def test_without_a_tick_the_runner_is_the_plain_one():
    from sigcube.engines.dask import in_process

    with executor(synchronous=True) as run:
        assert run is in_process


@pytest.mark.parametrize("scheduler", ["none", "cluster"])
def test_the_command_draws_each_batch_with_its_count_and_time_left(monkeypatch, scheduler):
    """On a terminal: the status, each batch's finished/total tasks and its time left."""
    import sigcube.cli.report as command

    terminal = io.StringIO()
    monkeypatch.setattr(command, "err_console", Console(file=terminal, force_terminal=True, width=160))
    build = lambda run: [run(pow, (2,), [(i,) for i in range(n)]) for n in (4, 7)]  # noqa: E731
    if scheduler == "none":
        out = command._with_fits(None, None, None, True, "computing grids …", build)
    else:
        from distributed import LocalCluster

        with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp", host="127.0.0.1",
                          dashboard_address=None) as cluster:
            out = command._with_fits(None, None, cluster.scheduler_address, False, "computing grids …", build)
    assert out == [[2 ** i for i in range(4)], [2 ** i for i in range(7)]]
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", terminal.getvalue())
    for count in ("4/4", "7/7"):
        assert re.search(rf"computing grids …[^\n\r]*{count} tasks[^\n\r]*eta", shown), count
