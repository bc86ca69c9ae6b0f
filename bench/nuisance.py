"""Nuisance-marginalised sweep throughput of the canonical Σ kernel on SPARC, next to the plain sweep's.

On the paper's SPARC sample (171 galaxies, 3373 points), one process and one thread (so rates are per core):

- **plain**: :func:`sigcube.compute.reduce.reduce_block` over an A0 × k block (the engine's task body);
- **marginalised**: :func:`sigcube.engines.sweep.nuisance.reduce_nuisance` over the same block with Υ_disk, Υ_bul, D, i
  marginalised under the Li+2018 priors (adaptive Gauss–Hermite, ``--nodes`` per dimension; the compiled pair
  solver of :mod:`sigcube.compute.quadrature_compiled`, or with ``--numpy`` the numpy reference implementation);
- **profile**: :func:`sigcube.compute.quadrature.profile` over the same block, one descent per pair and restarted
  against local minima (CPU seconds per grid point).

Two counts of the marginalised work, both divided by the same CPU time:

- **kernel point-evaluations**: every kernel call × the galaxy's points — the mode search, the curvature
  refinement and the quadrature's Υ/D nodes (the inclination's nodes reuse the prediction through three sums);
- **node point-evaluations**: the product rule's nodes × points, nodes^d per (grid point, galaxy) with d = 3 (Υ_disk,
  D, i) or 4 (Υ_bul too, galaxies with a bulge): the likelihood terms the integral sums.

``ratio`` is each rate over the plain rate of the same run. With ``--sigma-int N`` the marginalised block is A0 × k ×
σ_int, N values of the intrinsic scatter, all > 0 (``--error-model``: lognormal_gobs, lognormal_first_order or
lognormal, 0.03–0.06 dex, or
velocity_floor, 3–9 km/s), walked as the engine walks it (σ_int innermost, kernel predictions reused between σ_int
values); the record then also gives that block's node rate over the plain rate and over the σ_int = 0 rate of the
same A0 × k points, and the wall time of a 10⁵-point A0 × k × σ_int sweep on 2 cores, extrapolated. The wall time of a 10⁴-point grid marginalised on 2 cores
is extrapolated from the measured seconds per grid point (÷ 2 workers; the tasks are independent). Memory: the peak
of traced allocations (tracemalloc, numpy included) of one 32-point batch at each node count; the compiled solver's
own scratch is the largest galaxy's points × 6 plus nodes³ numbers, whatever the node count.

    python bench/nuisance.py [--json] [--grid 64] [--nodes 5] [--numpy] [--cube cubes/sparc.zarr]
                             [--sigma-int N [--error-model lognormal_gobs] [--tau-gal T]]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one thread: the rate is per core

import argparse  # noqa: E402
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
    parser.add_argument("--numpy", action="store_true", help="the numpy reference instead of the compiled solver")
    parser.add_argument("--sigma-int", type=int, default=0, help="σ_int values on a third axis (0: none)")
    parser.add_argument("--error-model", default="lognormal_gobs",
                        choices=("lognormal_gobs", "lognormal_first_order", "lognormal", "velocity_floor"))
    parser.add_argument("--tau-gal", type=float, default=0.0,
                        help="the σ_int block with each galaxy's velocity scale integrated, τ_gal [ln V]")
    args = parser.parse_args()
    warnings.simplefilter("ignore", RuntimeWarning)

    from sigcube.compute import quadrature
    from sigcube.compute.reduce import Prepared, reduce_block
    from sigcube.engines.nuisance_spec import SweepNuisance
    from sigcube.engines.sweep.nuisance import reduce_nuisance
    from sigcube.io.cubes import open_cube
    from sigcube.io.rotation_curves import pack_sparc
    from sigcube.model.kernels.registry import get_kernel
    from sigcube.stats.likelihood import GaussianLikelihood
    from sigcube.stats.nuisance import Catalogue, NuisanceTransform, sparc_priors

    if args.numpy:  # every quadrature call of the task takes the numpy path
        for name in ("marginalise", "profile"):
            setattr(quadrature, name, functools.partial(getattr(quadrature, name), compiled=False))

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

    settings = SweepNuisance(nodes=args.nodes).settings()
    reduce_nuisance(points, catalogue, kernel, {}, {"A0": np.full((2, 1), 1.1), "k": np.full((1, 1), 0.1)},
                    settings)  # compile (or load the compiled solver from numba's cache)
    cpu = time.process_time()
    task = reduce_nuisance(points, catalogue, kernel, {}, block, settings)
    marg_s = time.process_time() - cpu
    per_grid_point = marg_s / n_grid

    # the counts: the same computation, one quadrature call over the flattened block (what the task does)
    transform = NuisanceTransform(points, catalogue, kernel.required_inputs(kernel.resolve({})))
    priors = sparc_priors(catalogue, settings.priors)
    flat = {k: np.broadcast_to(v, (n_a, n_k)).reshape(-1, 1) for k, v in block.items()}
    marginal = quadrature.marginalise(kernel, flat, transform, priors, GaussianLikelihood(settings.sigma_int),
                                      nodes=args.nodes)
    assert np.allclose(marginal.log_marginal, task["loglike"].reshape(n_grid, -1), rtol=0, atol=1e-9)
    counts = np.diff(points.offsets)
    dims = np.array([len(marginal.dims[str(g)]) for g in points.galaxy])
    node_evals = n_grid * int(np.sum(args.nodes ** dims * counts))
    kernel_rate = marginal.kernel_point_evaluations / marg_s
    node_rate = node_evals / marg_s

    # the profile (the mode alone) over the same block: one descent per pair, and restarted against local minima
    profile_s = {}
    for restarts in (False, True):
        cpu = time.process_time()
        quadrature.profile(kernel, flat, transform, priors, GaussianLikelihood(settings.sigma_int), restarts=restarts)
        profile_s[restarts] = (time.process_time() - cpu) / n_grid

    memory = {}
    one = {"A0": np.full((32, 1), 1.2), "k": np.full((1, 1), 0.16)}
    for nodes in (3, 5, 7, 9):
        tracemalloc.start()
        reduce_nuisance(points, catalogue, kernel, {}, one, SweepNuisance(nodes=nodes).settings())
        memory[nodes] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()

    result = {
        "date": str(date.today()), "machine": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
        "load_average_1min": os.getloadavg()[0],
        "solver": "numpy reference" if args.numpy else "compiled",
        "sample": {"galaxies": points.n_galaxies, "points": points.n_points},
        "grid_points": n_grid, "nodes": args.nodes,
        "plain_point_evals_per_s_per_core": plain_rate,
        "kernel_point_evals_per_s_per_core": kernel_rate,
        "kernel_ratio": kernel_rate / plain_rate,
        "node_point_evals_per_s_per_core": node_rate,
        "node_ratio": node_rate / plain_rate,
        "kernel_point_evals_per_grid_point": marginal.kernel_point_evaluations / n_grid,
        "node_point_evals_per_grid_point": node_evals / n_grid,
        "marginalised_s_per_grid_point_per_core": per_grid_point,
        "extrapolated_1e4_grid_2_cores_s": 1e4 * per_grid_point / 2,
        "profile_s_per_grid_point_per_core": profile_s[False],
        "profile_restarted_s_per_grid_point_per_core": profile_s[True],
        "peak_traced_MiB_by_nodes_32_grid_points": memory,
    }
    if args.sigma_int:
        result["scatter"] = scatter_mode(args, points, catalogue, kernel, block, plain_rate, node_rate,
                                         node_evals / n_grid)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"SPARC {points.n_galaxies} galaxies / {points.n_points} points, grid {n_grid}, {args.nodes} nodes, "
          f"{result['solver']} solver")
    print(f"plain sweep         {plain_rate:.3g} point-evals/s/core")
    print(f"marginalised sweep  {kernel_rate:.3g} kernel point-evals/s/core (ratio {kernel_rate / plain_rate:.3f}), "
          f"{node_rate:.3g} node point-evals/s/core (ratio {node_rate / plain_rate:.3f}); "
          f"{per_grid_point * 1e3:.2f} ms per grid point per core")
    print(f"10⁴ grid points × {points.n_galaxies} galaxies on 2 cores: ≈ {1e4 * per_grid_point / 2:.0f} s "
          "(extrapolated)")
    print(f"profile             {profile_s[False] * 1e3:.2f} ms per grid point per core, restarted "
          f"{profile_s[True] * 1e3:.2f} ms")
    print("peak traced memory of a 32-point batch by nodes: "
          + ", ".join(f"{n}: {m:.0f} MiB" for n, m in memory.items()))
    if args.sigma_int:
        sc = result["scatter"]
        print(f"A0 × k × σ_int ({sc['sigma_int_values']} σ_int > 0, {sc['error_model']}, τ_gal = {sc['tau_gal']:g}): "
              f"{sc['node_point_evals_per_s_per_core']:.3g} node point-evals/s/core, "
              f"{sc['node_ratio_to_plain']:.3f}× the plain rate, {sc['node_ratio_to_sigma_int_0']:.3f}× σ_int = 0's; "
              f"10⁵ grid points on 2 cores ≈ {sc['extrapolated_1e5_grid_2_cores_s']:.0f} s (extrapolated)")


def scatter_mode(args, points, catalogue, kernel, block, plain_rate: float, node_rate_0: float,
                 node_evals_per_point: float) -> dict:
    """The A0 × k × σ_int block (module docstring): its CPU time and node rate, per grid point."""
    from sigcube.engines.nuisance_spec import SweepNuisance
    from sigcube.engines.sweep.nuisance import reduce_nuisance

    n = args.sigma_int
    values = np.linspace(0.03, 0.06, n) if args.error_model != "velocity_floor" else np.linspace(3.0, 9.0, n)
    settings = SweepNuisance(nodes=args.nodes, error_model=args.error_model, tau_gal=args.tau_gal).settings()
    cube = {"A0": block["A0"][..., None], "k": block["k"][..., None], "sigma_int": values.reshape(1, 1, -1)}
    cpu = time.process_time()
    task = reduce_nuisance(points, catalogue, kernel, {}, cube, settings)
    seconds = time.process_time() - cpu
    n_grid = task["loglike"][..., 0].size
    rate = n_grid * node_evals_per_point / seconds
    return {"error_model": args.error_model, "tau_gal": args.tau_gal, "sigma_int_values": n, "sigma_int_range": [values[0], values[-1]],
            "grid_points": n_grid, "seconds_per_grid_point_per_core": seconds / n_grid,
            "node_point_evals_per_s_per_core": rate, "node_ratio_to_plain": rate / plain_rate,
            "node_ratio_to_sigma_int_0": rate / node_rate_0,
            "extrapolated_1e5_grid_2_cores_s": 1e5 * seconds / n_grid / 2}


if __name__ == "__main__":
    main()
