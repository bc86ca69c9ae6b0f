"""How long model comparisons with the intrinsic scatter marginalised take on SPARC, as a user types them: Σ-Gravity,
MOND and NFW under ΛCDM priors (Υ, D, i marginalised, σ_int on its range), and each halo profile of the family under
ΛCDM priors against MOND. Each run is a new ``sigcube report compare … --json`` process, timed end to end (wall and the
process's CPU time), with its checkpoints cleared first; the cube is ingested and numba's cache warm before any timing.

    python bench/compare.py [--json] [--halos nfw,einasto,burkert,piso,dc14] [--sigma-int 0:0.2:21]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

SIGCUBE = str(Path(sys.executable).with_name("sigcube"))
HALOS = ("nfw", "einasto", "burkert", "piso", "dc14")


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> dict[str, float]:
    """Wall and CPU seconds of one ``sigcube`` process (its children's CPU included)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([SIGCUBE, *argv], env=env, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"sigcube {' '.join(argv)} failed:\n{proc.stderr[-2000:]}")
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    rows = report["runs"]["nuisance"]
    return {"wall_s": round(wall, 1), "cpu_s": round((after.ru_utime + after.ru_stime)
                                                   - (before.ru_utime + before.ru_stime), 1),
            "models": {name: {"seconds": round(r["seconds"], 1), "ln_B_vs_mond": r["ln_B_vs_mond"],
                              "ln_B_error": r["ln_B_vs_mond_error"]} for name, r in rows.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--halos", default=",".join(HALOS), help="the halo profiles of the family run")
    parser.add_argument("--sigma-int", default="0:0.2:21", help="σ_int's range and coarse pass (dex)")
    args = parser.parse_args()
    if not os.environ.get("SIGCUBE_DATA_DIR"):
        raise SystemExit("set SIGCUBE_DATA_DIR to the data mirror (shared/data)")
    scatter = ["--sigma-int", args.sigma_int, "--error-model", "lognormal_gobs", "--json"]
    with tempfile.TemporaryDirectory(prefix="sigcube-compare-") as tmp:
        folder = Path(tmp)
        env = {**os.environ, "SIGCUBE_CUBE_DIR": str(folder / "cubes")}
        subprocess.run([SIGCUBE, "ingest", "sparc"], env=env, cwd=folder, check=True, capture_output=True)
        subprocess.run([SIGCUBE, "report", "compare", "mond", "--no-nuisance", "--json"], env=env, cwd=folder,
                       check=True, capture_output=True)  # fills numba's cache
        runs = {"sigma mond nfw-lcdm": timed(["report", "compare", "sigma", "nfw-lcdm", *scatter], env, folder)}
        for halo in args.halos.split(","):
            runs[f"{halo}-lcdm"] = timed(["report", "compare", f"{halo}-lcdm", *scatter], env, folder)
    family = sum(r["wall_s"] for k, r in runs.items() if k != "sigma mond nfw-lcdm")
    out = {"date": date.today().isoformat(), "python": platform.python_version(), "sigma_int": args.sigma_int,
           "runs": runs, "halo_family_wall_s": round(family, 1)}
    if args.json:
        print(json.dumps(out))
        return
    for name, r in runs.items():
        print(f"report compare {name}: {r['wall_s']:.0f} s wall, {r['cpu_s']:.0f} s CPU")
    print(f"the halo family: {family:.0f} s wall")


if __name__ == "__main__":
    main()
