"""What each halo profile costs: its special functions, its kernel (compiled and numpy), and one galaxy's evidence.

For every halo kernel of ``report compare`` (flat priors and ΛCDM priors), on the SPARC cube:

- ``kernel_ns_per_point``: V_pred of every SPARC galaxy at one parameter point through the compiled per-galaxy
  ``predict`` of :mod:`sigcube.compute.nuisance_codegen` (the path the evidence's nuisance quadrature runs; the
  per-galaxy part — M200 from M★, μ(c) — once per call), and through the kernel's numpy function on a block of 64
  parameter points (``numpy_ns_per_point``); CPU ns per packed point, best of ``--repeats``;
- ``evidence_s_per_galaxy``: CPU seconds of :func:`sigcube.engines.evidence.object_evidence` per galaxy for
  ``--galaxies`` galaxies with Υ, D, i marginalised and σ_int fixed at ``--sigma-int`` dex (lognormal_gobs), with the
  final grid's points and whether every integral converged;
- ``special_ns_per_call``: the compiled special functions of :mod:`sigcube.model.special` on 100 000 random
  arguments, next to scipy's equivalent where it has one.

    python bench/halos.py [--json] [--galaxies DDO154,NGC2403,…] [--models nfw-lcdm,dc14-lcdm] [--repeats 5]

Run from the repository root with ``SIGCUBE_DATA_DIR`` set (the cube is ingested into a temporary folder).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import date
from pathlib import Path

import numpy as np

GALAXIES = "DDO154,NGC2403,UGC02953,NGC3198,IC2574,F568-3"
MODELS = ("nfw", "einasto", "burkert", "piso", "dc14", "corenfw", "nfw-lcdm", "einasto-lcdm", "dc14-lcdm",
          "corenfw-lcdm")


def _best(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


def kernel_costs(model_name: str, cube, repeats: int) -> dict:
    from sigcube.compute import nuisance_codegen as codegen
    from sigcube.io.rotation_curves import pack_sparc
    from sigcube.model.kernels import get_kernel
    from sigcube.stats.nuisance import Catalogue, NuisanceTransform
    from sigcube.study.reports.compare_models import MODELS as TABLE, fixed_params

    model = TABLE[model_name]
    kernel = get_kernel(model.kernel)
    fixed = fixed_params(model)
    free = list(model.per_object)
    points = pack_sparc(cube)
    catalogue = Catalogue.from_cube(cube, points)
    transform = NuisanceTransform(points, catalogue, kernel.required_inputs(kernel.resolve(fixed)))
    centre = {p: float(np.mean(t["bounds"]) if "scale" not in t else np.sqrt(np.prod(t["bounds"])))
              for p, t in model.per_object.items()}
    if "z_M200" in centre:
        centre = {p: 0.3 for p in centre}
    compiled = codegen.compile_predict(kernel, kernel.resolve({**fixed, **centre}), free)
    g = points.n_galaxies
    out = {"compiled": compiled is not None}
    if compiled is not None:
        nuisance = np.tile([0.5, 0.7, 1.0], (g, 1))
        params = np.tile([centre[p] for p in free], (g, 1))
        x, s = codegen.layout(transform)
        result = np.empty(transform.n_points)
        offsets = np.ascontiguousarray(transform.offsets, dtype=np.int64)
        seconds = _best(lambda: [codegen._evaluate(compiled.predict, x, s, offsets, nuisance, params, result)
                                 for _ in range(20)], repeats) / 20
        out["kernel_ns_per_point"] = round(seconds * 1e9 / transform.n_points, 1)
    block = {p: np.full((64, 1), v) for p, v in centre.items()}
    inputs = {k: v for k, v in points.inputs.items() if k in kernel.required_inputs(kernel.resolve(fixed))}
    with np.errstate(all="ignore"):
        seconds = _best(lambda: kernel.func(inputs, **{**kernel.resolve({**fixed, **centre}), **block}), repeats)
    out["numpy_ns_per_point"] = round(seconds * 1e9 / (64 * points.n_points), 1)
    return out


def evidence_cost(model_name: str, cube, galaxies: list[str], sigma_int: float) -> dict:
    from sigcube.engines.evidence import Data, object_evidence
    from sigcube.io.rotation_curves import pack_sparc
    from sigcube.model.kernels import get_kernel
    from sigcube.stats.nuisance import Catalogue
    from sigcube.study.reports.compare_models import MODELS as TABLE, axes, fixed_params

    def data_of(names: list[str]) -> Data:
        sub = cube.sel(galaxy=names)
        points = pack_sparc(sub)
        return Data(points, Catalogue.from_cube(sub, points))

    model = TABLE[model_name]
    kernel = get_kernel(model.kernel)
    data = data_of(galaxies)
    points = data.points
    object_evidence(kernel, fixed_params(model), axes(model.per_object), data_of(galaxies[:1]),
                    error_model="lognormal_gobs", sigma_int=sigma_int)  # compile and warm the caches
    start = time.process_time()
    ev = object_evidence(kernel, fixed_params(model), axes(model.per_object), data, error_model="lognormal_gobs",
                         sigma_int=sigma_int)
    seconds = time.process_time() - start
    return {"evidence_s_per_galaxy": round(seconds / points.n_galaxies, 3),
            "final_grid_points": [int(i.log_mass.size) for i in ev.integrals],
            "all_converged": bool(ev.converged.all())}


def special_costs() -> dict:
    from scipy import special as sp

    from sigcube.model.lcdm import BEHROOZI_2013, MOSTER_2013, dc14_shape
    from sigcube.model.special import (
        cusp_mass, dc14_mass, double_power_inverse, einasto_mass, gammainc_lower, zhao_mass,
    )

    rng = np.random.default_rng(1)
    n = 100_000
    y = 10 ** rng.uniform(-2, 1.5, n)
    alpha = rng.uniform(0.1, 2.0, n)
    shape_x = rng.uniform(-4.1, -1.3, n)
    a, b, g = dc14_shape(shape_x)
    mstar = rng.uniform(6.0, 11.5, n)
    x = (2 / alpha) * (3 * y) ** alpha

    def per_call(fn):
        return round(_best(fn, 5) * 1e9 / n, 1)

    return {
        "gammainc_lower (Einasto's series)": per_call(lambda: gammainc_lower(3 / alpha, x)),
        "einasto_mass (Einasto's table)": per_call(lambda: einasto_mass(3 * y, alpha)),
        "scipy.special.gammainc": per_call(lambda: sp.gammainc(3 / alpha, x)),
        "zhao_mass (DC14's series)": per_call(lambda: zhao_mass(y, a, b, g)),
        "dc14_mass (DC14's table)": per_call(lambda: dc14_mass(y, shape_x)),
        "cusp_mass (NFW)": per_call(lambda: cusp_mass(y)),
        "double_power_inverse (Moster)": per_call(lambda: double_power_inverse(
            mstar, MOSTER_2013.log10_m1, np.log10(2 * MOSTER_2013.n), MOSTER_2013.beta, MOSTER_2013.gamma)),
        "behroozi_inverse": per_call(lambda: BEHROOZI_2013.log10_m200(mstar)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--galaxies", default=GALAXIES, help="the galaxies of the evidence timing")
    parser.add_argument("--models", default=",".join(MODELS), help="report compare's halo models measured")
    parser.add_argument("--sigma-int", type=float, default=0.05, help="σ_int held fixed [dex, lognormal_gobs]")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    if not os.environ.get("SIGCUBE_DATA_DIR"):
        raise SystemExit("set SIGCUBE_DATA_DIR to the data mirror (shared/data)")
    from sigcube.io.cubes import open_cube

    warnings.simplefilter("ignore", RuntimeWarning)
    with tempfile.TemporaryDirectory(prefix="sigcube-halos-") as tmp:
        env = {**os.environ, "SIGCUBE_CUBE_DIR": tmp}
        subprocess.run([str(Path(sys.executable).with_name("sigcube")), "ingest", "sparc"], env=env, check=True,
                       capture_output=True)
        cube = open_cube(Path(tmp) / "sparc.zarr").load()
    galaxies = args.galaxies.split(",")
    record = {"date": date.today().isoformat(), "machine": platform.machine(), "cpus": os.cpu_count(),
              "python": platform.python_version(), "galaxies": galaxies, "sigma_int_dex": args.sigma_int,
              "special_ns_per_call": special_costs(), "models": {}}
    for name in args.models.split(","):
        record["models"][name] = {**kernel_costs(name, cube, args.repeats),
                                  **evidence_cost(name, cube, galaxies, args.sigma_int)}
        if not args.json:
            print(name, record["models"][name], flush=True)
    if args.json:
        print(json.dumps(record))
    else:
        print(json.dumps(record["special_ns_per_call"], indent=1))


if __name__ == "__main__":
    main()
