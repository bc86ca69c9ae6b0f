"""The Dask clients sigcube's commands run on: a LocalCluster's workers' environment, a cluster started while the
command goes on, a scheduler that does not answer refused at once."""

from __future__ import annotations

import os

import pytest
from rich.console import Console

from sigcube.engines import dask as sigcube_dask
from sigcube.engines.dask import client_when_needed, local_cluster
from sigcube.errors import SigcubeError


def _environ() -> dict[str, str | None]:
    return {k: os.environ.get(k) for k in ("MALLOC_TRIM_THRESHOLD_", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")}


def test_workers_keep_glibcs_adaptive_malloc_and_dasks_thread_limits(monkeypatch):
    from distributed import Client

    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    with local_cluster(1, dashboard_address=None) as cluster, Client(cluster) as client:
        (seen,) = client.run(_environ).values()
    assert seen == {"MALLOC_TRIM_THRESHOLD_": None, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


def test_a_local_cluster_started_while_the_command_goes_on_runs_tasks_and_is_closed():
    with client_when_needed(None, 1, Console(quiet=True)) as client:
        first = client()
        assert first.submit(sum, [1, 2, 3]).result() == 6
        assert client() is first
    assert first.status == "closed"


def test_a_cluster_that_cannot_start_is_the_error_of_the_first_use(monkeypatch):
    def broken(n_workers, dashboard_address=":0"):
        raise OSError("no ports left")

    monkeypatch.setattr(sigcube_dask, "local_cluster", broken)
    with client_when_needed(None, 1, Console(quiet=True)) as client:
        with pytest.raises(OSError, match="no ports left"):
            client()


@pytest.mark.slow  # distributed retries the connection until its 10 s timeout
def test_a_scheduler_that_does_not_answer_is_refused_before_any_work():
    with pytest.raises(SigcubeError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        with client_when_needed("tcp://127.0.0.1:9", None, Console(quiet=True)):
            raise AssertionError("the body ran")
