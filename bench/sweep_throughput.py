"""Sweep throughput benchmark: the canonical Σ kernel on SPARC, end to end.

Measures, in one run:
- point-evaluations/s/core of `run_sweep` (synchronous, one core) for grids of 1e3 → 1e6
  points, reductions and Zarr writes included, each grid size in a fresh process so its
  peak RSS is its own;
- the 1 → 2 worker speed-up on a LocalCluster (cluster start-up excluded);
- a loop baseline the way the published analysis scripts work (Python loops over
  parameter values and galaxies, numpy per galaxy), timed on a sample of grid points.

    python bench/sweep_throughput.py [--json] [--max-grid 1000000] [--cube cubes/sparc.zarr]

Run from the repository root after `make demo` (or `sigcube ingest sparc`).
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

GRID_SIZES = (1_000, 10_000, 100_000, 1_000_000)


def spec_text(n_grid: int) -> str:
    """A (A0 × k) spec with ``n_grid`` points (rounded to a near square)."""
    n_k = max(1, int(math.sqrt(n_grid) / 4))
    n_a = max(1, round(n_grid / n_k))
    return (f'name = "bench-{n_grid}"\nkernel = "sigma"\npreset = "paper"\n'
            f"[grid.A0]\nlinspace = [0.3, 4.0, {n_a}]\n[grid.k]\nlogspace = [0.01, 2.0, {n_k}]\n")


def run_one(n_grid: int, cube: str, workers: int | None) -> dict:
    """Run one sweep in this process; return timing, evaluations and peak RSS."""
    from rich.console import Console

    from sigcube.engines.sweep import parse_spec, run_sweep

    spec = parse_spec(spec_text(n_grid))
    with tempfile.TemporaryDirectory() as tmp:
        summary = run_sweep(spec, Path(tmp) / "bench.zarr", cube=cube, synchronous=workers is None,
                            workers=workers, console=Console(stderr=True, quiet=True))
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"grid": spec.size, "evaluations": summary.evaluations, "seconds": summary.seconds,
            "evals_per_s": summary.rate, "peak_rss_mb": rss_kb / 1024}


def in_subprocess(n_grid: int, cube: str, workers: int | None) -> dict:
    args = [sys.executable, __file__, "--one", str(n_grid), "--cube", cube]
    if workers:
        args += ["--workers", str(workers)]
    proc = subprocess.run(args, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark run for grid {n_grid} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def loop_baseline(cube: str, n_params: int = 60) -> dict:
    """Python loop over grid points and galaxies, numpy per galaxy (the published scripts' way)."""
    from sigcube.constants import G_DAGGER, KPC_M
    from sigcube.io.cubes import open_cube
    from sigcube.io.rotation_curves import pack_sparc

    pts = pack_sparc(open_cube(cube).load())
    p = pts.inputs
    galaxies = [{k: p[k][a:b] for k in ("r", "v_bar", "v_obs", "e_v_obs")} | {"R_d": p["R_d_third"][a]}
                for a, b in zip(pts.offsets[:-1], pts.offsets[1:])]
    grid = [(a, k) for a in np.linspace(0.3, 4.0, n_params) for k in (0.05, 0.159)]
    start = time.perf_counter()
    for A, k in grid:
        rms, chi2, logs = [], [], []
        for g in galaxies:
            g_n = (g["v_bar"] * 1000) ** 2 / (g["r"] * KPC_M)
            h = np.sqrt(G_DAGGER / np.maximum(g_n, 1e-15)) * G_DAGGER / (G_DAGGER + np.maximum(g_n, 1e-15))
            xi = max(k * g["R_d"], 0.01)
            v = g["v_bar"] * np.sqrt(1 + A * g["r"] / (xi + g["r"]) * h)
            rms.append(np.sqrt(np.mean((v - g["v_obs"]) ** 2)))
            chi2.append(np.sum(((v - g["v_obs"]) / g["e_v_obs"]) ** 2))
            logs.extend(np.log10(g["v_obs"] / v))
        np.mean(rms), np.std(logs)
    seconds = time.perf_counter() - start
    evals = len(grid) * pts.n_points
    return {"grid": len(grid), "evaluations": evals, "seconds": seconds, "evals_per_s": evals / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    parser.add_argument("--cube", default="cubes/sparc.zarr")
    parser.add_argument("--max-grid", type=int, default=GRID_SIZES[-1])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.cube, args.workers)))
        return
    sizes = [n for n in GRID_SIZES if n <= args.max_grid]
    say = (lambda *a: None) if args.json else (lambda *a: print(*a, flush=True))
    say("warming the numba cache …")
    in_subprocess(1_000, args.cube, None)
    runs = []
    for n in sizes:
        r = in_subprocess(n, args.cube, None)
        runs.append(r)
        say(f"grid {r['grid']:>9,}: {r['evals_per_s']:.3g} evals/s/core, {r['seconds']:.2f} s, "
            f"peak RSS {r['peak_rss_mb']:.0f} MB")
    scale_grid = sizes[-1]
    one = in_subprocess(scale_grid, args.cube, 1)
    two = in_subprocess(scale_grid, args.cube, 2)
    say(f"LocalCluster, grid {scale_grid:,}: 1 worker {one['seconds']:.2f} s, 2 workers {two['seconds']:.2f} s")
    loop = loop_baseline(args.cube)
    say(f"loop baseline: {loop['evals_per_s']:.3g} evals/s over {loop['grid']} grid points")
    best = runs[-1]["evals_per_s"]
    rss = {str(r["grid"]): round(r["peak_rss_mb"], 1) for r in runs}
    big = [r for r in runs if r["grid"] >= 10_000]
    result = {
        "evals_per_s_per_core": best,
        "speedup_vs_loop": best / loop["evals_per_s"],
        "peak_rss_mb": rss,
        "rss_growth_1e4_to_max": big[-1]["peak_rss_mb"] / big[0]["peak_rss_mb"] if len(big) > 1 else None,
        "speedup_2_workers": one["seconds"] / two["seconds"],
        "loop_evals_per_s": loop["evals_per_s"],
        "runs": runs,
        "workers": {"1": one, "2": two},
    }
    if args.json:
        print(json.dumps(result))
    else:
        say(f"→ {best:.3g} evals/s/core, {result['speedup_vs_loop']:.0f}× the loop, "
            f"2-worker speed-up {result['speedup_2_workers']:.2f}×, RSS growth 1e4→max "
            f"{result['rss_growth_1e4_to_max']:.2f}×")


if __name__ == "__main__":
    main()
