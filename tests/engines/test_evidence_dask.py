"""The evidence engine's per-galaxy work run as Dask tasks gives the numbers it gives in this process, bit for bit:
global grids cut into blocks of grid points × galaxy chunks, the node rule in galaxy chunks, per-object integrals
chunk by chunk (σ_int on a grid among them). The tasks are the same wherever they run; the cluster serialises
everything it is sent (a threaded LocalCluster reached over TCP here, worker processes in the slow tier)."""

from __future__ import annotations

import json
import warnings
from dataclasses import replace

import numpy as np
import pytest
from rich.console import Console

from sigcube.engines import evidence
from sigcube.engines.dask import in_process
from sigcube.engines.evidence import galaxy_chunks
from sigcube.engines.fit.run import executor
from sigcube.model.kernels import get_kernel
from sigcube.stats.adaptive_grid import Axis
from sigcube.stats.intrinsic_scatter import Scatter
from sigcube.stats.synthetic import synthetic_sample
from sigcube.study.reports.compare import compare_model

CASES = [("mond", True, "5"), ("nfw", False, "0:15:3")]
"""A global model with the nuisance marginalised (its node rule among the tasks), a per-object one with
σ_int on a grid."""
SLOW_CASES = [*CASES, ("mond", True, "0:20:5"), ("nfw", True, None), ("nfw", True, "0:15:3")]
"""And σ_int marginalised with the nuisance, a per-object model with the nuisance (its node rule per chunk), and with
σ_int marginalised besides (its seeded mode searches' seeds found in tasks)."""


@pytest.fixture(scope="module")
def sample():
    """10 synthetic galaxies drawn under MOND with a 6 km/s scatter."""
    return synthetic_sample(get_kernel("mond"), {}, 10, seed=3, sigma_int=6.0)


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    """Chunks of a few galaxies, so that 10 galaxies make several tasks of each kind."""
    monkeypatch.setattr(evidence, "CHUNK_POINTS", 60)
    monkeypatch.setattr(evidence, "OBJECT_CHUNK_POINTS", 40)
    monkeypatch.setattr(evidence, "CATALOGUE_CHUNK_POINTS", 50)


def _rows(run, sample, cases=CASES, catalogue=None) -> dict[str, str]:
    out = {}
    catalogue = sample.catalogue if catalogue is None else catalogue
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for name, nuisance, scatter in cases:
            row = compare_model(name, sample.points, catalogue if nuisance else None, nuisance, run,
                                None if scatter is None else Scatter.parse(scatter))
            row.pop("seconds")
            elpd = row.pop("_logo").elpd.values
            out[f"{name} {nuisance} {scatter}"] = json.dumps(row, sort_keys=True, default=float) + elpd.tobytes().hex()
    return out


def test_the_chunks_cover_every_galaxy_once_in_order(sample):
    offsets = sample.points.offsets
    for size in (evidence.CHUNK_POINTS, evidence.OBJECT_CHUNK_POINTS, evidence.CATALOGUE_CHUNK_POINTS, 1, 10**9):
        chunks = galaxy_chunks(offsets, size)
        assert np.array_equal(np.concatenate(chunks), np.arange(sample.points.n_galaxies))
        points = [int(np.diff(offsets)[c].sum()) for c in chunks]
        assert all(p >= size for p in points[:-1])
    assert len(galaxy_chunks(offsets, evidence.CHUNK_POINTS)) >= 3
    assert len(galaxy_chunks(offsets, evidence.OBJECT_CHUNK_POINTS)) >= 4


def test_few_galaxies_are_cut_into_shares_of_their_points(sample, monkeypatch):
    """At the catalogue values (one chunk's worth of points) a per-object model's galaxies go out in chunks of at most
    1/MIN_TASKS of the points (plus one galaxy's), so a few costly integrals do not queue on one worker."""
    monkeypatch.setattr(evidence, "CATALOGUE_CHUNK_POINTS", 10**9)
    monkeypatch.setattr(evidence, "MIN_TASKS", 4)
    counts = np.diff(sample.points.offsets)
    chunks = evidence.object_chunks(evidence.Data(sample.points, None))
    assert np.array_equal(np.concatenate(chunks), np.arange(sample.points.n_galaxies))
    assert max(int(counts[c].sum()) for c in chunks) <= -(-int(counts.sum()) // 4) + int(counts.max()) - 1
    assert len(chunks) >= 3


def test_a_per_object_models_numbers_do_not_depend_on_its_chunks(sample, monkeypatch):
    """Each galaxy's integral is its own: the sample in one task and in MIN_TASKS chunks give the same numbers."""
    cases = [("nfw", False, "0:15:3"), ("nfw", True, "5")]
    for name in ("OBJECT_CHUNK_POINTS", "CATALOGUE_CHUNK_POINTS"):
        monkeypatch.setattr(evidence, name, 10**9)
    monkeypatch.setattr(evidence, "MIN_TASKS", 1)
    whole = _rows(in_process, sample, cases)
    monkeypatch.setattr(evidence, "MIN_TASKS", 5)
    assert _rows(in_process, sample, cases) == whole


def test_galaxies_one_to_a_task_go_out_longest_first_with_the_numbers_of_chunks(sample):
    """``object_evidence(one_each=True)`` (the sampler's hard galaxies) hands each galaxy out alone, the most points
    first, and gives the numbers the chunks give, in the galaxies' order."""
    nfw = [Axis("log10_M200", 8.0, 12.0, coarse=5), Axis("c", 2.0, 30.0, log=True, coarse=5)]
    data = evidence.Data(sample.points, sample.catalogue)
    seen: list[int] = []

    def run(func, shared, tasks):
        seen.extend(int(c[0]) for (c,) in tasks)
        return in_process(func, shared, tasks)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        alone = evidence.object_evidence(get_kernel("nfw"), {}, nfw, data, sigma_int=5.0, run=run, one_each=True)
        chunked = evidence.object_evidence(get_kernel("nfw"), {}, nfw, data, sigma_int=5.0)
    counts = np.diff(sample.points.offsets)
    assert sorted(seen) == list(range(sample.points.n_galaxies))
    assert list(counts[seen]) == sorted(counts, reverse=True)
    assert np.array_equal(alone.log_z, chunked.log_z) and np.array_equal(alone.errors, chunked.errors)


def test_tasks_on_a_cluster_give_the_numbers_of_this_process(sample):
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            executor(cluster.scheduler_address, None, False, Console(quiet=True)) as run:
        there = _rows(run, sample)
    assert there == _rows(in_process, sample)


def test_halo_masses_from_tasks_on_a_cluster_are_those_of_this_process(sample):
    """A ΛCDM halo with Υ, D, i marginalised: its halos' M★ at the nuisance mode of every grid point are found in galaxy
    chunks as tasks too (the synthetic catalogue given an L[3.6] and a bulge luminosity, so that M★ is defined)."""
    from distributed import LocalCluster

    n = sample.points.n_galaxies
    light = np.geomspace(0.5, 80.0, n)
    catalogue = replace(sample.catalogue, columns={**sample.catalogue.columns, "L36": light, "L_bul": 0.2 * light})
    cases = [("nfw-lcdm", True, "5")]
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            executor(cluster.scheduler_address, None, False, Console(quiet=True)) as run:
        there = _rows(run, sample, cases, catalogue)
    here = _rows(in_process, sample, cases, catalogue)
    assert there == here and '"log10_M200"' in next(iter(here.values()))


@pytest.mark.slow
def test_tasks_on_worker_processes_give_the_numbers_of_this_process(sample):
    with executor(None, 2, False, Console(quiet=True)) as run:
        there = _rows(run, sample, SLOW_CASES)
    assert there == _rows(in_process, sample, SLOW_CASES)
