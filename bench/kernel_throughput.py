"""Per-kernel throughput: every registered kernel swept on SPARC, one process, one thread.

Each kernel is swept along its declared amplitude and along one shape parameter (:data:`SHAPE`)
over ``--grid`` values, on the paper's SPARC sample (171 galaxies, 3373 points), end to end
through :func:`sigcube.compute.reduce.reduce_block` (one block: the kernel's fast path, the
per-object RMS and χ², the partial sums and the global metrics; no Zarr writes). Point-evaluations/s
is grid × points / CPU seconds of the process (one thread, so per core; wall-clock rates are given too),
the best of ``--repeats`` runs; the runs go round-robin over the
kernels so that a noisy moment on a shared machine does not single one out. The canonical kernel
(``sigma`` along A0) is measured in the same run and every rate is also given as a ratio to it. ``path``
is how a block runs: ``fused`` (the kernel's own numba loop: ``sigma`` along k), ``traced`` (the generic
path of :mod:`sigcube.compute.replay`); ``sigma (generic)`` is ``sigma`` along k forced through the
generic path, for comparison with its numba loop.

    python bench/kernel_throughput.py [--json] [--grid 2048] [--repeats 5] [--kernels a,b] [--cube cubes/sparc.zarr]

Run from the repository root after `make demo` (or `sigcube ingest sparc`).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one thread: the rate is per core

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from datetime import date  # noqa: E402

import numpy as np  # noqa: E402

SHAPE = {
    "burr_xii": "ell0", "cmsi": "ell0", "mass_coherence": "Psi0", "nfw": "c", "pairing": "ell_pair",
    "resonance": "alpha", "roughness": "gamma", "sigma": "k", "sigma_counter_rotation": "sigma_1",
    "sigma_dynamical": "k", "sigma_efe": "g_ext", "sigma_gated": "k", "sigma_path_length": "k",
    "sigma_redshift": "z", "sigma_xi": "xi", "survival": "r0", "velocity_coherence": "delta",
}
"""The shape parameter swept per kernel (MOND's a0 is its amplitude and only parameter; newtonian has none)."""

VARIANTS = {"sigma": (({"window": "c_local"}, "sigma_c"),)}
"""Switch settings measured besides the defaults, with the shape parameter swept there (the c_local window
of SI §13.5, once a fixed-point iteration)."""

CANONICAL = ("sigma", "A0")


def sweep_values(kernel, name: str, n: int) -> np.ndarray:
    """``n`` values of parameter ``name`` from ½× to 2× its default, inside its bounds (±1 for a log10 mass)."""
    p = kernel.parameter(name)
    lo, hi = p.bounds
    if name.startswith("log10_"):
        a, b = p.default - 1.0, p.default + 1.0
    elif p.default > 0:
        a, b = 0.5 * p.default, 2.0 * p.default
    else:  # a default of 0 (an off switch such as g_ext, z): up to a tenth of the range
        a, b = lo, lo + 0.1 * (min(hi, 10.0) - lo)
    return np.linspace(max(a, lo), min(b, hi), n)


def cases(points, only: set[str] | None = None) -> list[dict]:
    """One case per (kernel, swept parameter): name, role, the timed call and the path it takes (``only``: these
    kernels, with the canonical one always)."""
    from sigcube.compute import replay as fastpath
    from sigcube.compute.reduce import Prepared, reduce_block
    from sigcube.model.kernels import get_kernel, kernel_names

    out = []
    for name in kernel_names():
        if only and name not in only | {CANONICAL[0]}:
            continue
        kernel = get_kernel(name)
        for fixed, shape in (({}, SHAPE.get(name)), *VARIANTS.get(name, ())):
            label = name + "".join(f"[{k}={v}]" for k, v in fixed.items())
            prep = Prepared.build(points, kernel, fixed, get_kernel("mond"))
            params = kernel.resolve(fixed)
            for role, param in (("amplitude", kernel.amplitude), ("shape", shape)):
                if param is None:
                    continue
                block = {param: sweep_values(kernel, param, 2)}
                fused = kernel.fast_reduce is not None and kernel.fast_reduce.applies({**params, **block})
                path = "fused" if fused else fastpath.path(points, kernel, params, block)
                out.append({"kernel": label, "role": role, "parameter": param, "path": path, "k": kernel,
                            "run": lambda grid, prep=prep, param=param: reduce_block(prep, {param: grid})})
    sigma = get_kernel("sigma")
    out.append({"kernel": "sigma (generic)", "role": "shape", "parameter": "k", "path": "traced", "k": sigma,
                "run": lambda grid: fastpath.reduce(points, sigma, sigma.resolve(), {"k": grid}, grid.size)})
    return out


def time_all(runs: list[dict], points, n_grid: int, repeats: int, say: Callable[..., None]) -> None:
    """Fill each case's ``evals_per_s`` (per second of the process's CPU time: what one core does while it
    runs the sweep, however busy the machine) and ``evals_per_wall_s`` with the best of ``repeats``
    round-robin runs."""
    for case in runs:
        case["grid"] = sweep_values(case["k"], case["parameter"], n_grid)
        case["run"](case["grid"][:16])  # compile/load the numba loops, warm the caches
        case["cpu"] = case["wall"] = np.inf
    for r in range(repeats):
        for case in runs:
            cpu, wall = time.process_time(), time.perf_counter()
            case["run"](case["grid"])
            case["cpu"] = min(case["cpu"], time.process_time() - cpu)
            case["wall"] = min(case["wall"], time.perf_counter() - wall)
        say(f"  repeat {r + 1}/{repeats} done")
    for case in runs:
        case["evals_per_s"] = n_grid * points.n_points / case["cpu"]
        case["evals_per_wall_s"] = n_grid * points.n_points / case["wall"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--cube", default="cubes/sparc.zarr")
    parser.add_argument("--grid", type=int, default=2048, help="grid points per sweep (default 2048)")
    parser.add_argument("--repeats", type=int, default=5, help="runs per sweep; the fastest counts (default 5)")
    parser.add_argument("--kernels", help="comma-separated kernels to measure (default: every registered one)")
    args = parser.parse_args()
    say = (lambda *a: None) if args.json else (lambda *a: print(*a, flush=True))

    from sigcube.io.cubes import open_cube
    from sigcube.io.rotation_curves import pack_sparc

    points = pack_sparc(open_cube(args.cube).load())
    say(f"SPARC: {points.n_galaxies} galaxies, {points.n_points} points; grid {args.grid}, best of {args.repeats}")
    runs = cases(points, set(args.kernels.split(",")) if args.kernels else None)
    load_before = os.getloadavg()[0]
    time_all(runs, points, args.grid, args.repeats, say)
    load = [load_before, os.getloadavg()[0]]
    canonical = next(c for c in runs if (c["kernel"], c["parameter"]) == CANONICAL)["evals_per_s"]
    rows = [{k: case[k] for k in ("kernel", "role", "parameter", "path", "evals_per_s", "evals_per_wall_s")}
            | {"ratio_to_canonical": case["evals_per_s"] / canonical} for case in runs]
    result = {"date": date.today().isoformat(), "machine": f"{platform.processor() or platform.machine()}, "
              f"{os.cpu_count()} cores", "galaxies": points.n_galaxies, "points": points.n_points,
              "grid": args.grid, "repeats": args.repeats, "load_average_1min": load, "canonical_evals_per_s": canonical, "rows": rows,
              "below_half": [f"{r['kernel']}.{r['parameter']}" for r in rows if r["ratio_to_canonical"] < 0.5]}
    if args.json:
        print(json.dumps(result))
        return
    say(f"\n{'kernel':24} {'swept':>10} {'parameter':>16} {'path':>8} {'evals/s/core':>13} {'× canonical':>12}")
    for r in rows:
        say(f"{r['kernel']:24} {r['role']:>10} {r['parameter']:>16} {r['path']:>8} {r['evals_per_s']:13.3g} "
            f"{r['ratio_to_canonical']:12.2f}")
    say(f"\ncanonical sigma along A0: {canonical:.3g} evals/s/core; below ½ of it: {', '.join(result['below_half']) or 'none'}"
        f"; 1-min load average {load[0]:.1f} → {load[1]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
