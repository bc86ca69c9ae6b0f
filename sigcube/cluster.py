"""Where sigcube's Dask tasks run: a client of a running scheduler or of a new LocalCluster (sweeps and fits)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console

from sigcube.errors import SigcubeError


@contextmanager
def quiet_dask() -> Iterator[None]:
    """Keep distributed's own log records (tracebacks of a lost scheduler, of closing comms) off the terminal
    while tasks run: what went wrong reaches the user as one line from the caller. Distributed is imported
    first: its import configures its loggers' levels, which would undo these."""
    import distributed  # noqa: F401

    names = ["distributed", *(n for n in logging.root.manager.loggerDict if n.startswith("distributed."))]
    levels = {name: logging.getLogger(name).level for name in names}
    for name in names:
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


@contextmanager
def dask_client(scheduler: str | None, workers: int | None, console: Console) -> Iterator[Any]:
    """A ``distributed.Client`` of the scheduler at ``scheduler`` (``tcp://host:port``), or of a new LocalCluster
    of ``workers`` single-threaded processes (default: one per core); the dashboard's address goes to
    ``console``. Both are closed on exit."""
    from distributed import Client, LocalCluster

    cluster = None
    if scheduler:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, ValueError, TypeError) as exc:
            raise SigcubeError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    else:
        n = workers or os.cpu_count() or 1
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0")
        client = Client(cluster)
    try:
        console.print(f"Dask dashboard: {client.dashboard_link}", soft_wrap=True, highlight=False)
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
