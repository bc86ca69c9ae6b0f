"""How long the study's reports take from a fresh process, with every dataset cube already ingested: ``report
kernels``, ``report regression`` and ``report sensitivity`` (its shipped sweeps computed in the first run of each
repeat, read in the second). These were wall-clock bounds inside the tests; speed is measured here instead.

Every run is a new ``sigcube`` process (its console script, as a user types it) with ``--json``, timed end to end;
the median of ``--repeats`` runs is reported with their spread. Needs the data mirror (``SIGCUBE_DATA_DIR``); the
cubes are ingested once, before any timing, and numba's cache is warm (filled by an untimed run).

    python bench/reports.py [--json] [--repeats 3]
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
KINDS = ("sparc", "milkyway", "clusters", "dwarfs", "manga")


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run([SIGCUBE, *argv], env=env, cwd=cwd, capture_output=True, text=True, timeout=3600)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"sigcube {' '.join(argv)} failed:\n{proc.stderr[-2000:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if not os.environ.get("SIGCUBE_DATA_DIR"):
        raise SystemExit("set SIGCUBE_DATA_DIR to the data mirror (shared/data)")
    with tempfile.TemporaryDirectory(prefix="sigcube-reports-") as tmp:
        folder = Path(tmp)
        cubes = folder / "cubes"
        env = {**os.environ, "SIGCUBE_CUBE_DIR": str(cubes), "NUMBA_CACHE_DIR": str(folder / "numba-cache")}
        for kind in KINDS:
            subprocess.run([SIGCUBE, "ingest", kind], env=env, cwd=folder, check=True, capture_output=True)
        timed(["report", "kernels", "--json"], env, folder)  # fills numba's cache
        rows = {"report kernels": [], "report regression": [], "report sensitivity (computing its sweeps)": [],
                "report sensitivity (reading them)": []}
        for _ in range(args.repeats):
            rows["report kernels"].append(timed(["report", "kernels", "--json"], env, folder))
            rows["report regression"].append(timed(["report", "regression", "--json"], env, folder))
            sweeps = folder / "sensitivity"
            shutil.rmtree(sweeps, ignore_errors=True)
            sensitivity = ["report", "sensitivity", "--json", "--out", str(sweeps)]
            rows["report sensitivity (computing its sweeps)"].append(timed(sensitivity, env, folder))
            rows["report sensitivity (reading them)"].append(timed(sensitivity, env, folder))
    result = {"date": date.today().isoformat(), "machine": f"{platform.processor() or platform.machine()}, "
              f"{os.cpu_count()} cores", "load_average": os.getloadavg(), "repeats": args.repeats,
              "rows": [{"name": name, "median_s": statistics.median(runs), "range_s": [min(runs), max(runs)]}
                       for name, runs in rows.items()]}
    if args.json:
        print(json.dumps(result))
        return
    print(f"{'command':42} {'median [s]':>10}   ({result['repeats']} runs; load {result['load_average'][0]:.2f})")
    for row in result["rows"]:
        print(f"{row['name']:42} {row['median_s']:10.2f}")


if __name__ == "__main__":
    main()
