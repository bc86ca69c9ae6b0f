"""How long a command takes to answer from a fresh process: ``--help``, ``kernels``, the first ``report sparc``, the
first sweep and the first nuisance sweep, each with numba's cache cold (a new, empty ``NUMBA_CACHE_DIR``) and warm
(the same folder, filled by the cold run).

Every run is a new ``sigcube`` process (its console script, as a user types it), timed end to end; the median of
``--repeats`` runs is reported with their spread. The sweeps are small (a 3 × 3 grid on SPARC; the nuisance one
3 points and 3 nodes on 20 galaxies): what they measure is start-up and compilation. Needs the data mirror
(``SIGCUBE_DATA_DIR``); the SPARC cube is ingested once, before any timing.

    python bench/startup.py [--json] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

SIGCUBE = str(Path(sys.executable).with_name("sigcube"))
SWEEP = 'name = "startup"\nkernel = "sigma"\n[grid.A0]\nlinspace = [0.8, 1.6, 3]\n[grid.k]\nlinspace = [0.1, 0.3, 3]\n'
NUISANCE = ('name = "startup-nuisance"\nkernel = "sigma"\nobject_chunk = 20\n[grid.A0]\nlinspace = [0.8, 1.0, 3]\n'
            '[sample]\nquality = [1]\nmin_inclination = 60.0\n[nuisance]\nnodes = 3\n')


def commands(folder: Path) -> dict[str, list[str]]:
    """What is timed, by name: argv after ``sigcube``."""
    (folder / "sweep.toml").write_text(SWEEP)
    (folder / "nuisance.toml").write_text(NUISANCE)
    return {
        "help": ["--help"],
        "kernels": ["kernels"],
        "report sparc": ["report", "sparc", "--json"],
        "sweep": ["sweep", str(folder / "sweep.toml"), "--synchronous", "--out", str(folder / "sweep.zarr"), "--force"],
        "nuisance sweep": ["sweep", str(folder / "nuisance.toml"), "--synchronous", "--out",
                           str(folder / "nuisance.zarr"), "--force"],
    }


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run([SIGCUBE, *argv], env=env, cwd=cwd, capture_output=True, text=True, timeout=1800)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"sigcube {' '.join(argv)} failed:\n{proc.stderr[-2000:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    if not os.environ.get("SIGCUBE_DATA_DIR"):
        raise SystemExit("set SIGCUBE_DATA_DIR to the data mirror (shared/data)")
    with tempfile.TemporaryDirectory(prefix="sigcube-startup-") as tmp:
        folder = Path(tmp)
        env = {**os.environ, "SIGCUBE_CUBE_DIR": str(folder / "cubes")}
        subprocess.run([SIGCUBE, "ingest", "sparc"], env=env, cwd=folder, check=True, capture_output=True)
        rows = []
        for name, argv in commands(folder).items():
            cold, warm = [], []
            for _ in range(args.repeats):
                cache = folder / "numba-cache"
                shutil.rmtree(cache, ignore_errors=True)
                run_env = {**env, "NUMBA_CACHE_DIR": str(cache)}
                cold.append(timed(argv, run_env, folder))
                warm.append(timed(argv, run_env, folder))
            rows.append({"command": f"sigcube {' '.join(argv[:2])}" if name != "help" else "sigcube --help",
                         "name": name, "cold_s": statistics.median(cold), "warm_s": statistics.median(warm),
                         "cold_range_s": [min(cold), max(cold)], "warm_range_s": [min(warm), max(warm)]})
    result = {"date": date.today().isoformat(), "machine": f"{platform.processor() or platform.machine()}, "
              f"{os.cpu_count()} cores", "load_average": os.getloadavg(), "repeats": args.repeats, "rows": rows}
    if args.json:
        print(json.dumps(result))
        return
    print(f"{'command':16} {'cold [s]':>10} {'warm [s]':>10}   ({result['repeats']} runs, median; load "
          f"{result['load_average'][0]:.2f})")
    for row in rows:
        print(f"{row['name']:16} {row['cold_s']:10.2f} {row['warm_s']:10.2f}")


if __name__ == "__main__":
    main()
