"""Cost per value of sigcube.compute.vecmath's loops against numpy's ufuncs, one thread, arrays that stay in cache.

For each function (exp, expm1, log, log1p, √, x^−½): nanoseconds per value of the compiled loop and of
numpy (x^−½: ``np.power(x, -0.5)``) over ``--size`` values drawn in the range a sweep meets (0.1 to 3),
the best of ``--repeats`` calls (the fastest is the one least disturbed on a shared machine), and the
speed-up. Needs no data.

    python bench/vecmath.py [--json] [--size 65536] [--repeats 400]
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


def best_ns(call: Callable[[], object], n: int, repeats: int) -> float:
    """Nanoseconds per value of the fastest of ``repeats`` calls over ``n`` values."""
    call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times) / n * 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--size", type=int, default=65_536, help="values per call (default 65536: 512 KiB)")
    parser.add_argument("--repeats", type=int, default=400)
    args = parser.parse_args()

    from sigcube.compute import vecmath

    x = np.random.default_rng(0).uniform(0.1, 3.0, args.size)
    out = np.empty_like(x)
    numpy_of = {vecmath.inverse_sqrt: lambda: np.power(x, -0.5, out=out)}
    rows = []
    for ufunc in vecmath.VECTOR_UFUNCS:
        loop = best_ns(lambda: vecmath.apply(ufunc, x, out), args.size, args.repeats)  # noqa: B023
        ref = best_ns(numpy_of.get(ufunc, lambda: ufunc(x, out=out)), args.size, args.repeats)  # noqa: B023
        rows.append({"function": ufunc.__name__, "loop_ns": loop, "numpy_ns": ref, "speedup": ref / loop})
    result = {"date": date.today().isoformat(), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
              "size": args.size, "repeats": args.repeats, "rows": rows}
    if args.json:
        print(json.dumps(result))
        return
    print(f"{'function':14s} {'loop ns':>8s} {'numpy ns':>9s} {'speed-up':>9s}")
    for r in rows:
        print(f"{r['function']:14s} {r['loop_ns']:8.2f} {r['numpy_ns']:9.2f} {r['speedup']:8.1f}×")


if __name__ == "__main__":
    main()
