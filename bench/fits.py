"""Per-galaxy fit throughput: the SI §15 specs on SPARC (171 galaxies), one process, one thread.

For sigma_xi (A, ξ) and nfw (log10 M200, c), at the catalogue Υ, D, i and with them profiled: wall seconds
for the whole sample (minimum of ``--repeats``), galaxies per second, residual evaluations per galaxy of the
local optimiser, and the fraction of fits that converged. In-process (no Dask start-up): the per-core cost.

    python bench/fits.py [--json] [--repeats 3] [--cube cubes/sparc.zarr]

Run from the repository root after `sigcube ingest sparc`.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one thread: the rate is per core

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from datetime import date  # noqa: E402

import numpy as np  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cube", default="cubes/sparc.zarr")
    args = parser.parse_args()

    from sigcube.engines.fit.run import fit_points
    from sigcube.io.cubes import open_cube
    from sigcube.io.rotation_curves import pack_sparc
    from sigcube.stats.nuisance import Catalogue
    from sigcube.study.reports.ablation import model_spec

    cube = open_cube(args.cube, kind="sparc").load()
    points = pack_sparc(cube)
    catalogue = Catalogue.from_cube(cube, points)
    rows = []
    for name in ("sigma_xi", "nfw"):
        for nuisance in (False, True):
            spec = model_spec(name, nuisance)
            times = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                fit = fit_points(spec, points, catalogue if nuisance else None)
                times.append(time.perf_counter() - start)
            best = min(times)
            rows.append({"kernel": name, "nuisance": spec.nuisance, "galaxies": points.n_galaxies,
                         "seconds": best, "galaxies_per_s": points.n_galaxies / best,
                         "evaluations_per_galaxy": float(np.mean(fit["evaluations"].values)),
                         "converged": float(fit["converged"].mean())})
    out = {"benchmark": "fits", "date": date.today().isoformat(), "machine": platform.machine(),
           "cpus": os.cpu_count(), "load_average": os.getloadavg()[0], "rows": rows}
    if args.json:
        print(json.dumps(out))
    else:
        for r in rows:
            print(f"{r['kernel']:9s} nuisance={r['nuisance']:8s} {r['seconds']:6.2f} s  {r['galaxies_per_s']:7.1f} galaxies/s  "
                  f"{r['evaluations_per_galaxy']:6.1f} evaluations/galaxy  converged {100 * r['converged']:.0f} %")
        print(f"load average {out['load_average']:.1f} on {out['cpus']} cpus")


if __name__ == "__main__":
    main()
