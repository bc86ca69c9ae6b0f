"""How long ``sigcube explore`` takes to write the standalone page of a SPARC nuisance sweep, and how large the page is.

The sweep (default ``sweeps/mond_a0_sigma_int_nuisance.toml``, MOND a0 × σ_int with Υ, D and i marginalised: a few
minutes on 2 cores) is run once, before any timing, with ``--workers 2``; or ``--result`` names a finished one (its
dataset cube is ``--cube``, default ``cubes/sparc.zarr``, ingested when missing). Each run is a new ``sigcube
explore`` process (its console script, as a user types it), timed end to end: its wall seconds and the CPU seconds
it used (user and system, from the operating system's account of finished children); the median of ``--repeats``
runs is reported with their spread, and the size of the page in bytes. ``--note`` is kept in the record (what the
machine was doing, say). Needs the data mirror (``SIGCUBE_DATA_DIR``).

    python bench/explore.py [--json] [--repeats 3] [--spec sweeps/….toml | --result cubes/….zarr] [--note TEXT]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

SIGCUBE = str(Path(sys.executable).with_name("sigcube"))
SPEC = Path("sweeps/mond_a0_sigma_int_nuisance.toml")


def run(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Run ``sigcube ARGV``; its wall seconds and the CPU seconds (user + system) it used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([SIGCUBE, *argv], env=env, cwd=cwd, capture_output=True, text=True, timeout=3600)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"sigcube {' '.join(argv)} failed:\n{proc.stderr[-2000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--spec", type=Path, default=SPEC, help="the sweep to run first and explore")
    parser.add_argument("--result", type=Path, help="a finished sweep's result cube to explore (no sweep is run)")
    parser.add_argument("--cube", type=Path, default=Path("cubes/sparc.zarr"), help="its dataset cube")
    parser.add_argument("--note", default="", help="kept in the record as it is")
    args = parser.parse_args()
    if not os.environ.get("SIGCUBE_DATA_DIR"):
        raise SystemExit("set SIGCUBE_DATA_DIR to the data mirror (shared/data)")
    if args.repeats < 1:
        raise SystemExit("--repeats must be at least 1")
    root = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="sigcube-explore-") as tmp:
        folder = Path(tmp)
        env = {**os.environ, "SIGCUBE_CUBE_DIR": str(folder / "cubes")}
        cube = (root / args.cube).resolve()
        if not cube.exists():
            cube = folder / "cubes" / "sparc.zarr"
            run(["ingest", "sparc"], env, folder)
        result = (root / args.result).resolve() if args.result else folder / "result.zarr"
        sweep_s = None
        if args.result is None:
            sweep_s, _ = run(["sweep", str((root / args.spec).resolve()), "--out", str(result), "--workers", "2",
                              "--cube", str(cube)], env, folder)
        page = folder / "explorer.html"
        walls, cpus = [], []
        for _ in range(args.repeats):
            wall, cpu = run(["explore", str(result), "--cube", str(cube), "--html", str(page)], env, folder)
            walls.append(wall)
            cpus.append(cpu)
        size = page.stat().st_size
        import sigcube

        res = sigcube.open_result(result)
        grid = {d: int(res.sizes[d]) for d in res["done"].dims}
        galaxies = int(res.sizes["galaxy"])
    out = {"date": date.today().isoformat(), "machine": f"{platform.processor() or platform.machine()}, "
           f"{os.cpu_count()} cores", "load_average": os.getloadavg(), "note": args.note,
           "sweep": str(args.result or args.spec), "grid": grid, "galaxies": galaxies, "sweep_s": sweep_s,
           "repeats": args.repeats, "wall_s": statistics.median(walls), "wall_range_s": [min(walls), max(walls)],
           "cpu_s": statistics.median(cpus), "cpu_range_s": [min(cpus), max(cpus)], "page_bytes": size}
    if args.json:
        print(json.dumps(out))
        return
    print(f"sigcube explore of {out['sweep']} ({' × '.join(f'{d}[{n}]' for d, n in grid.items())}, {galaxies} "
          f"galaxies): {out['wall_s']:.1f} s wall, {out['cpu_s']:.1f} s CPU (median of {args.repeats}; load "
          f"{out['load_average'][0]:.2f}); page {size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
