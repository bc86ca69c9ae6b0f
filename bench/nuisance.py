"""Nuisance-marginalised sweep throughput of the canonical Σ kernel on SPARC, next to the plain sweep's.

On the paper's SPARC sample (171 galaxies, 3373 points), one process and one thread (so rates are per core):

- **plain**: :func:`sigcube.sweeps.evaluate.reduce_block` over an A0 × k block (the engine's task body);
- **marginalised**: :func:`sigcube.sweeps.nuisance.reduce_nuisance` over the same block with Υ_disk, Υ_bul, D, i
  marginalised under the Li+2018 priors (adaptive Gauss–Hermite, ``--nodes`` per dimension).

Both rates count point-evaluations of the kernel: grid points × packed points for the plain sweep; for the
marginalised one every point of every kernel call (mode search, curvature refinement, quadrature nodes of the
Υ/D dimensions — the inclination nodes reuse the prediction and are not counted). ``ratio`` is the marginalised
rate over the plain rate. The wall time of a 10⁴-point grid marginalised on 2 cores is extrapolated from the
measured seconds per grid point (÷ 2 workers; the tasks are independent). Memory: the peak of traced
allocations (tracemalloc, numpy included) of one quadrature batch at each node count.

    python bench/nuisance.py [--json] [--grid 64] [--nodes 5] [--cube cubes/sparc.zarr]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one thread: the rate is per core

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import functools  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
import warnings  # noqa: E402
from datetime import date  # noqa: E402

import numpy as np  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--grid", type=int, default=64, help="grid points of the measured block (A0 × k)")
    parser.add_argument("--nodes", type=int, default=5)
    parser.add_argument("--cube", default="cubes/sparc.zarr")
    args = parser.parse_args()
    warnings.simplefilter("ignore", RuntimeWarning)

    from sigcube.cubes import open_cube
    from sigcube.kernels.registry import get_kernel
    from sigcube.sample import pack_sparc
    from sigcube.sweeps.evaluate import Prepared, reduce_block
    from sigcube.inference.nuisance import Catalogue
    from sigcube.sweeps.nuisance import NuisanceTable, reduce_nuisance

    ds = open_cube(args.cube, kind="sparc").load()
    points = pack_sparc(ds)
    catalogue = Catalogue.from_cube(ds, points)
    kernel = get_kernel("sigma")
    n_a = max(1, int(round(np.sqrt(args.grid))))
    n_k = max(1, args.grid // n_a)
    block = {"A0": np.linspace(0.6, 2.0, n_a).reshape(-1, 1), "k": np.geomspace(0.05, 0.5, n_k).reshape(1, -1)}
    n_grid = n_a * n_k

    prep = Prepared.build(points, kernel, {}, None)
    reduce_block(prep, block)  # compile / warm
    cpu = time.process_time()
    for _ in range(5):
        reduce_block(prep, block)
    plain_s = (time.process_time() - cpu) / 5
    plain_rate = n_grid * points.n_points / plain_s

    evaluated = [0]

    @functools.wraps(kernel.func)  # keeps the signature the registry checks
    def counting(inputs, **params):
        out = kernel.func(inputs, **params)
        evaluated[0] += int(np.size(out))
        return out

    counted = dataclasses.replace(kernel, func=counting)
    settings = NuisanceTable(nodes=args.nodes).settings()
    cpu = time.process_time()
    reduce_nuisance(points, catalogue, counted, {}, block, settings)
    marg_s = time.process_time() - cpu
    marg_rate = evaluated[0] / marg_s
    per_grid_point = marg_s / n_grid

    memory = {}
    one = {"A0": np.full((32, 1), 1.2), "k": np.full((1, 1), 0.16)}
    for nodes in (3, 5, 7, 9):
        tracemalloc.start()
        reduce_nuisance(points, catalogue, kernel, {}, one, NuisanceTable(nodes=nodes).settings())
        memory[nodes] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()

    result = {
        "date": str(date.today()), "machine": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
        "sample": {"galaxies": points.n_galaxies, "points": points.n_points},
        "grid_points": n_grid, "nodes": args.nodes,
        "plain_point_evals_per_s_per_core": plain_rate,
        "marginalised_point_evals_per_s_per_core": marg_rate,
        "ratio": marg_rate / plain_rate,
        "kernel_point_evals_per_grid_point": evaluated[0] / n_grid,
        "marginalised_s_per_grid_point_per_core": per_grid_point,
        "extrapolated_1e4_grid_2_cores_s": 1e4 * per_grid_point / 2,
        "peak_traced_MiB_by_nodes_32_grid_points": memory,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"SPARC {points.n_galaxies} galaxies / {points.n_points} points, grid {n_grid}, {args.nodes} nodes")
    print(f"plain sweep         {plain_rate:.3g} point-evals/s/core")
    print(f"marginalised sweep  {marg_rate:.3g} point-evals/s/core (ratio {marg_rate / plain_rate:.3f}); "
          f"{per_grid_point:.3f} s per grid point per core")
    print(f"10⁴ grid points × {points.n_galaxies} galaxies on 2 cores: ≈ {1e4 * per_grid_point / 2 / 60:.1f} min "
          "(extrapolated)")
    print("peak traced memory of a 32-point batch by nodes: "
          + ", ".join(f"{n}: {m:.0f} MiB" for n, m in memory.items()))


if __name__ == "__main__":
    main()
