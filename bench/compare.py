"""How long model comparisons with the intrinsic scatter marginalised take on SPARC, as a user types them, and how they
scale with Dask workers.

- ``--scaling``: ``report compare sigma mond`` (or ``--models``; Υ, D, i and σ_int marginalised) in this process (``--synchronous``)
  and on a LocalCluster of ``--workers`` processes, ``--repeats`` times in turn (a shared machine's wall times vary
  by tens of per cent from run to run: each pair is measured close together), each pair's speed-up of the wall time
  and their median, the same of each model's own marginalised run (its engine's scaling, apart from start-up and the
  catalogue run), and whether every run printed the same numbers (they must: the same tasks run in either place);
- ``--table``: the error-model table, ``report compare sigma mond --error-model all`` (or ``--models``) as a user
  types it (every error model, σ_int and what sits beside it marginalised, Υ, D, i marginalised; ``--workers``,
  default: one per core), and each error model's and model's share; with ``--galaxies N``, on a cube a new user makes
  of the first N disk galaxies' SPARC-format rotmod files and Table 1 (``sigcube ingest table FOLDER --galaxies
  TABLE``) instead of SPARC;
- otherwise, the ΛCDM family as one command, as a user runs it (``--workers``, default: one per core): Σ-Gravity,
  MOND, the ΛCDM-motivated halos under ΛCDM priors and the cored ones with flat priors (``--halos``), each per-galaxy
  model on the engine ``--engine`` chooses (report compare's option); every model's engine and how many of its
  galaxies' integrals converged are recorded.

Each run is a new ``sigcube report compare … --json --fresh`` process (``--fresh``: its checkpoints and any kept report
removed first), timed end to end: wall, and the CPU time of it and of every process it started and waited for (the
Dask workers among them). The cube is ingested and numba's cache warm before any timing.

    python bench/compare.py --scaling [--models sigma,mond] [--workers 2] [--repeats 3] [--sigma-int 0:30:16]
                            [--error-model velocity_floor] [--tau-gal X|LO:HI:N] [--engine auto] [--json]
    python bench/compare.py --table [--models sigma,mond,nfw-lcdm] [--galaxies 15] [--workers 2] [--json]
    python bench/compare.py [--json] [--halos nfw-lcdm,dc14-lcdm,corenfw-lcdm,einasto-lcdm,burkert,piso] [--workers N]
                            [--tau-gal X|LO:HI:N] [--engine auto]
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
HALOS = ("nfw-lcdm", "dc14-lcdm", "corenfw-lcdm", "einasto-lcdm", "burkert", "piso")


WARM_SAMPLER = """
import sys
import sigcube
from sigcube.stats.intrinsic_scatter import Scatter
from sigcube.study.reports.compare import compare_report
cube = sigcube.open_cube("cubes/sparc.zarr").load()
cube = cube.isel(galaxy=[0, 40, 80])
scatter = Scatter.parse(sys.argv[1], sys.argv[2], sys.argv[3] or None)
compare_report(cube, ["nfw-lcdm"], scatter=scatter, engine="sampler")
"""
"""Compiles the sampler's functions into numba's cache on three galaxies (the timed runs then load them)."""


def user_cube(n: int, env: dict[str, str], folder: Path) -> str:
    """A cube of the first ``n`` disk galaxies (no bulge) of the mirror's SPARC rotmod files and Table 1, made as a new
    user makes one (``sigcube ingest table FOLDER --galaxies TABLE``); its path."""
    sparc = Path(env["SIGCUBE_DATA_DIR"]) / "sparc"
    mine = folder / "my-galaxies"
    mine.mkdir()
    for path in sorted((sparc / "Rotmod_LTG").glob("*_rotmod.dat")):
        rows = [line.split() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
        if all(float(r[5]) == 0.0 for r in rows):
            (mine / path.name).write_text(path.read_text())
        if len(list(mine.iterdir())) == n:
            break
    out = folder / "cubes" / "mine.zarr"
    subprocess.run([SIGCUBE, "ingest", "table", str(mine), "--galaxies", str(sparc / "SPARC_Lelli2016c.mrt"), "--out",
                    str(out)], env=env, cwd=folder, check=True, capture_output=True)
    return str(out)


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> dict:
    """Wall and CPU seconds of one ``sigcube`` process (its children's CPU included), and its report."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([SIGCUBE, *argv, "--json", "--fresh"], env=env, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"sigcube {' '.join(argv)} failed:\n{proc.stderr[-2000:]}")
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    timing = {"wall_s": round(wall, 1), "cpu_s": round((after.ru_utime + after.ru_stime)
                                                     - (before.ru_utime + before.ru_stime), 1)}
    if "error_model_table" in report:
        return {**timing, "error_models": {e: models(r) for e, r in report["reports"].items()}}
    return {**timing, "models": models(report)}


def models(report: dict) -> dict:
    """Each model's seconds, engine, evidence and its integrals' convergence in a comparison report's marginalised
    run."""
    out = {}
    for name, r in report["runs"]["nuisance"].items():
        per = r["evidence"].get("per_galaxy")
        out[name] = {"seconds": round(r["seconds"], 1), "engine": r.get("engine", "grid"),
                     "log_evidence": r["log_evidence"], "ln_B_vs_mond": r["ln_B_vs_mond"],
                     "ln_B_error": r["ln_B_vs_mond_error"],
                     **({"converged": f"{per['converged']}/{per['of']}"} if per else {}),
                     **({"on_grid": len(r["on_grid"])} if "on_grid" in r else {})}
    return out


def numbers(run: dict) -> dict:
    """A run's evidences without its timings."""
    return {name: {k: v for k, v in m.items() if k != "seconds"} for name, m in run["models"].items()}


def model_speedups(pairs: list[dict], there: str) -> dict:
    """Each model's own marginalised run, in process over on workers, per pair and their median, with the engine that
    ran it: the engines' scaling apart from what the command does besides (start-up, the catalogue run, checks)."""
    out = {}
    for name, m in pairs[0]["in process"]["models"].items():
        ratios = [round(p["in process"]["models"][name]["seconds"] / p[there]["models"][name]["seconds"], 2)
                  for p in pairs]
        out[name] = {"engine": m["engine"], "speedups": ratios, "speedup": round(float(statistics.median(ratios)), 2)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--scaling", action="store_true", help="sigma mond in this process and on --workers")
    parser.add_argument("--table", action="store_true", help="sigma mond under every error model (--error-model all)")
    parser.add_argument("--workers", type=int, default=None, help="LocalCluster processes (default: one per core)")
    parser.add_argument("--repeats", type=int, default=1, help="--scaling: pairs of runs (in process, on workers)")
    parser.add_argument("--halos", default=",".join(HALOS), help="the halo profiles of the family run")
    parser.add_argument("--sigma-int", default="0:30:16", help="σ_int's range and coarse pass (the error model's unit)")
    parser.add_argument("--error-model", default="velocity_floor", help="what σ_int means (report compare's option)")
    parser.add_argument("--tau-gal", default=None, help="each galaxy's velocity scale (report compare's option)")
    parser.add_argument("--engine", default="auto", help="report compare's --engine (grid, sampler, auto)")
    parser.add_argument("--models", default="sigma,mond", help="--scaling, --table: the models compared")
    parser.add_argument("--galaxies", type=int, default=None,
                        help="--table: on a cube of the first N disk galaxies' rotmod files and Table 1")
    args = parser.parse_args()
    if not os.environ.get("SIGCUBE_DATA_DIR"):
        raise SystemExit("set SIGCUBE_DATA_DIR to the data mirror (shared/data)")
    scatter = ["--sigma-int", args.sigma_int, "--error-model", args.error_model,
               *(["--tau-gal", args.tau_gal] if args.tau_gal else []), "--engine", args.engine]
    workers = ["--workers", str(args.workers)] if args.workers else []
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="sigcube-compare-") as tmp:
        folder = Path(tmp)
        env = {**os.environ, "SIGCUBE_CUBE_DIR": str(folder / "cubes")}
        subprocess.run([SIGCUBE, "ingest", "sparc"], env=env, cwd=folder, check=True, capture_output=True)
        subprocess.run([SIGCUBE, "report", "compare", "mond", *scatter, "--json", "--synchronous"], env=env,
                       cwd=folder, check=True, capture_output=True)  # fills numba's cache, the nuisance's path too
        subprocess.run([sys.executable, "-c", WARM_SAMPLER, args.sigma_int, args.error_model, args.tau_gal or ""],
                       env=env, cwd=folder, check=True, capture_output=True)
        if args.scaling:
            command = ["report", "compare", *args.models.split(","), *scatter]
            there = f"{args.workers or os.cpu_count()} workers"
            pairs = [{"in process": timed([*command, "--synchronous"], env, folder),
                      there: timed([*command, *workers], env, folder)} for _ in range(max(1, args.repeats))]
            runs = pairs[0]
        elif args.table:
            cube = ["--cube", user_cube(args.galaxies, env, folder)] if args.galaxies else []
            runs = {"the table": timed(["report", "compare", *args.models.split(","), "--error-model", "all",
                                        "--engine", args.engine, *cube, *workers], env, folder)}
        else:
            halos = args.halos.split(",")
            runs = {"the family": timed(["report", "compare", "sigma", *halos, *scatter, *workers], env, folder)}
    out = {"date": date.today().isoformat(), "python": platform.python_version(), "sigma_int": args.sigma_int,
           "error_model": args.error_model, "tau_gal": args.tau_gal, "engine": args.engine,
           **({"models": args.models} if args.scaling or args.table else {}),
           **({"galaxies": args.galaxies} if args.table and args.galaxies else {}),
           "cores": os.cpu_count(), "load_before": round(load, 2), "load_after": round(os.getloadavg()[0], 2)}
    if args.scaling:
        speedups = [round(p["in process"]["wall_s"] / p[there]["wall_s"], 2) for p in pairs]
        out.update(pairs=pairs, speedups=speedups, speedup=round(float(statistics.median(speedups)), 2),
                   model_speedups=model_speedups(pairs, there),
                   identical=all(numbers(r) == numbers(pairs[0]["in process"]) for p in pairs for r in p.values()))
    elif args.table:
        table = runs["the table"]
        limit = 300 if args.galaxies else 1800  # a user's few galaxies: 5 minutes; SPARC: 30
        out.update(runs=runs, table_wall_s=table["wall_s"], limit_s=limit, within_limit=table["wall_s"] <= limit,
                   seconds_by_error_model={e: round(sum(m["seconds"] for m in ms.values()), 1)
                                           for e, ms in table["error_models"].items()})
    else:
        out.update(runs=runs, halos=halos, halo_family_wall_s=runs["the family"]["wall_s"],
                   within_30_min=runs["the family"]["wall_s"] <= 1800)
    if args.json:
        print(json.dumps(out))
        return
    for pair in out.get("pairs", [runs]):
        for name, r in pair.items():
            print(f"report compare {name}: {r['wall_s']:.0f} s wall, {r['cpu_s']:.0f} s CPU")
    if args.scaling:
        print(f"speed-up {out['speedup']:.2f}× (median of {', '.join(f'{x:.2f}' for x in out['speedups'])}); the same "
              f"numbers: {out['identical']}")
        for name, m in out["model_speedups"].items():
            print(f"  {name}'s own run ({m['engine']}): {m['speedup']:.2f}× (median of "
                  f"{', '.join(f'{x:.2f}' for x in m['speedups'])})")
    elif args.table:
        for e, seconds in out["seconds_by_error_model"].items():
            print(f"  {e}: {seconds:.0f} s in the models' marginalised runs (the rest of the wall: catalogue runs, "
                  "checks, start-up)")
        print(f"the error-model table: {out['table_wall_s']:.0f} s wall (within {out['limit_s'] // 60} minutes: "
              f"{out['within_limit']})")
    else:
        print(f"the halo family: {out['halo_family_wall_s']:.0f} s wall (within 30 minutes: {out['within_30_min']})")
    print(f"load average before {out['load_before']}, after {out['load_after']} ({out['cores']} cores)")


if __name__ == "__main__":
    main()
