"""Survey-scale benchmark: synthetic SPARC-like cubes of 10³ → 10⁵ galaxies × a 10³-point grid, galaxy-chunked.

For each sample (``sigcube synth`` cubes) one sweep of the canonical Σ kernel over a 40 × 25 (A0 × k) grid runs
on a LocalCluster of 1 worker process (one thread), in a fresh driver process — and SPARC itself over a 4000 × 25
grid (10⁵ points, 3.4e8 evaluations: enough work that set-up does not dominate), the reference throughput:
point-evaluations/s (end to end: reading chunks, reductions, exact partials, Zarr writes, finalization),
driver peak RSS and worker peak RSS (``client.run``). The driver's is the peak resident set of the process that runs
the sweep (``VmHWM``: every phase, from reading the sample to the summary), the scheduler living in it as in
``sigcube sweep``, without the dashboard (its bokeh server adds about 17 MB, the same at 10³ and 10⁵ galaxies).
Its floor — what a sweep's driver takes whatever the sample — is measured twice: the driver's modules imported in
a fresh process (``imports_rss_mb``), and a sweep of a tiny sample (``--floor-size`` galaxies). Then the largest
sample (or ``--speedup-size``) is swept again on 2 workers for the 1 → 2 worker speed-up. Every 1-worker run is
repeated ``--repeats`` times, round-robin over SPARC and the samples (a noisy minute on a shared machine then does
not single one out), and the best throughput of each is reported, with the peak RSS over its repeats. Memory does
not depend on the machine's load; wall times and rates do (``--note`` says so in the record when it was busy).

    python bench/survey.py [--json] [--sizes 1000,10000,100000] [--cube cubes/sparc.zarr] [--speedup-size N]
                           [--repeats 3] [--floor-size 10] [--note TEXT]

Run from the repository root (the SPARC cube: ``sigcube ingest sparc``). Synthetic cubes are written to a
temporary folder (``--keep DIR`` keeps them).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SPEC = ('name = "survey"\nkernel = "sigma"\npreset = "paper"\nmetrics = ["mean_rms", "win_rate", "median_chi2_red", '
        '"rar_scatter_velocity", "rms", "chi2"]\n[grid.A0]\nlinspace = [0.3, 4.0, {n_a}]\n[grid.k]\n'
        "logspace = [0.01, 2.0, 25]\n")
"""A (A0 × k) grid of ``n_a`` × 25 points: 40 × 25 = 10³ for the survey, more for SPARC at comparable work."""


def peak_rss_mb() -> float:
    """This process's peak resident set size [MB]: ``VmHWM`` of /proc/self/status (``ru_maxrss`` keeps the peak
    of the process it was forked from across exec, so a fresh driver would report its parent's)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_one(cube: str, workers: int, n_a: int = 40) -> dict:
    """One sweep of :data:`SPEC` over ``cube`` on a LocalCluster of ``workers`` processes, in this process."""
    from distributed import Client
    from rich.console import Console

    from sigcube.engines.dask import local_cluster
    from sigcube.engines.sweep import parse_spec, run_sweep

    spec = parse_spec(SPEC.format(n_a=n_a))
    with local_cluster(workers, dashboard_address=None) as cluster, \
            Client(cluster) as client, tempfile.TemporaryDirectory() as tmp:
        summary = run_sweep(spec, Path(tmp) / "r.zarr", cube=cube, scheduler=cluster.scheduler_address,
                            console=Console(stderr=True, quiet=True))
        worker_mb = client.run(peak_rss_mb)
    return {"grid": spec.size, "tasks": summary.n_blocks * summary.n_chunks, "n_chunks": summary.n_chunks,
            "evaluations": summary.evaluations, "seconds": summary.seconds, "evals_per_s": summary.rate,
            "driver_peak_rss_mb": peak_rss_mb(), "worker_peak_rss_mb": max(worker_mb.values())}


def imports_rss_mb() -> float:
    """The resident set [MB] of this process once it has imported what :func:`run_one` imports (a fresh process:
    the floor of every sweep's driver)."""
    from distributed import Client  # noqa: F401
    from rich.console import Console  # noqa: F401

    from sigcube.engines.dask import local_cluster  # noqa: F401
    from sigcube.engines.sweep import parse_spec, run_sweep  # noqa: F401

    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmRSS:"))


def in_subprocess(*args: str) -> dict:
    """This script run with ``args`` in a fresh process: the JSON line it prints."""
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark run {' '.join(args)} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def sweep_in_subprocess(cube: str, workers: int, n_a: int = 40) -> dict:
    """:func:`run_one` in a fresh driver process."""
    return in_subprocess("--one", cube, "--workers", str(workers), "--n-a", str(n_a))


def _best(runs: list[dict]) -> dict:
    """The fastest of repeated runs, with the peak RSS over all of them (memory is not a best-of)."""
    best = dict(max(runs, key=lambda r: r["evals_per_s"]))
    for rss in ("driver_peak_rss_mb", "worker_peak_rss_mb"):
        best[rss] = max(r[rss] for r in runs)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    parser.add_argument("--cube", default="cubes/sparc.zarr", help="the SPARC cube (the reference throughput)")
    parser.add_argument("--sizes", default="1000,10000,100000", help="synthetic sample sizes, comma-separated")
    parser.add_argument("--speedup-size", type=int, help="sample of the 1 → 2 worker run (default: the largest)")
    parser.add_argument("--keep", help="write the synthetic cubes here and keep them")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each 1-worker sweep (the best is reported)")
    parser.add_argument("--floor-size", type=int, default=10, help="galaxies of the tiny sample (the driver's floor)")
    parser.add_argument("--note", action="append", default=[], help="a note kept in the record (repeatable)")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--imports", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--n-a", type=int, default=40, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.workers, args.n_a)))
        return
    if args.imports:
        print(json.dumps({"imports_rss_mb": imports_rss_mb()}))
        return
    from sigcube.io.synth import synth_cube

    say = (lambda *a: None) if args.json else (lambda *a: print(*a, flush=True))
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep or tmp)
        cubes, synth_seconds = {}, {}
        for n in (args.floor_size, *sizes):
            cube = folder / f"synth-{n}.zarr"
            start = time.perf_counter()
            if not cube.exists():
                synth_cube(n, cube, seed=0)
            synth_seconds[n], cubes[n] = time.perf_counter() - start, str(cube)
        n_speed = args.speedup_size or sizes[-1]
        # SPARC over 10⁵ grid points × its 3,373 points: 3.4e8 evaluations
        targets = {"sparc": (args.cube, 1, 4000), **{n: (cubes[n], 1, 40) for n in sizes},
                   "two_workers": (cubes[n_speed], 2, 40), "floor": (cubes[args.floor_size], 1, 40)}
        repeats: dict = {key: [] for key in targets}
        for repeat in range(args.repeats):
            for key, (cube, workers, n_a) in targets.items():
                repeats[key].append(sweep_in_subprocess(cube, workers, n_a=n_a))
            say(f"  repeat {repeat + 1}/{args.repeats} done")
        imports = max(in_subprocess("--imports")["imports_rss_mb"] for _ in range(args.repeats))
    best = {key: _best(rs) for key, rs in repeats.items()}
    floor = {"galaxies": args.floor_size, "imports_rss_mb": imports,
             "driver_peak_rss_mb": best["floor"]["driver_peak_rss_mb"],
             "worker_peak_rss_mb": best["floor"]["worker_peak_rss_mb"]}
    say(f"floor: the driver's imports {imports:.0f} MB; a sweep of {args.floor_size} galaxies: driver "
        f"{floor['driver_peak_rss_mb']:.0f} MB, worker {floor['worker_peak_rss_mb']:.0f} MB")
    sparc, two = best["sparc"], best["two_workers"]
    say(f"SPARC (10⁵-point grid): {sparc['evals_per_s']:.3g} evals/s, driver {sparc['driver_peak_rss_mb']:.0f} MB, "
        f"worker {sparc['worker_peak_rss_mb']:.0f} MB")
    runs = []
    for n in sizes:
        r = {"galaxies": n, "synth_seconds": synth_seconds[n], **best[n]}
        r["throughput_vs_sparc"] = r["evals_per_s"] / sparc["evals_per_s"]
        runs.append(r)
        say(f"{n:>8,} galaxies: {r['evals_per_s']:.3g} evals/s ({r['throughput_vs_sparc']:.2f}× SPARC), "
            f"{r['tasks']} tasks, {r['seconds']:.1f} s; driver {r['driver_peak_rss_mb']:.0f} MB, "
            f"worker {r['worker_peak_rss_mb']:.0f} MB; synth {r['synth_seconds']:.1f} s")
    one = best[n_speed]
    speedup = one["seconds"] / two["seconds"]
    say(f"{n_speed:,} galaxies on 2 workers: {two['seconds']:.1f} s vs {one['seconds']:.1f} s → {speedup:.2f}×")
    rss = [r["driver_peak_rss_mb"] for r in runs], [r["worker_peak_rss_mb"] for r in runs]
    result = {"repeats": args.repeats, "sparc": sparc, "runs": runs, "two_workers": {"galaxies": n_speed, **two},
              "speedup_2_workers": speedup, "driver_rss_ratio_max_to_min": max(rss[0]) / min(rss[0]),
              "worker_rss_ratio_max_to_min": max(rss[1]) / min(rss[1]), "floor": floor,
              **({"notes": args.note} if args.note else {})}
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
