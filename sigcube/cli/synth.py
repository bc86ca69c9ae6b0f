"""`sigcube synth`: a synthetic SPARC-like cube of N galaxies, V_obs from a kernel plus noise — or, with ``--baryons``,
a synthetic sample on the real galaxies' baryons with every drawn value stored as the truth."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from sigcube.cli.common import REPLACE_KIND, cube_kind, err_console, finite, replacing, tau_gal_within_limits
from sigcube.errors import SigcubeError


def _params(items: list[str]) -> dict[str, str | float]:
    """``NAME=VALUE`` pairs: numbers as floats (finite), anything else (a switch value) as text."""
    out: dict[str, str | float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise SigcubeError(f"--param {item!r}: give NAME=VALUE, e.g. --param A0=1.5")
        try:
            number = float(value)
        except ValueError:
            out[name.strip()] = value.strip()
        else:
            out[name.strip()] = finite(number, f"--param {name.strip()}")
    return out


def synth(
    n: Annotated[Optional[int], typer.Argument(help="Number of galaxies (1 to 10⁷; 10³–10⁶ is the intended range); "
                                                    "not with --baryons.")] = None,
    out: Annotated[str, typer.Option(help="Cube to write: a path or a store URL such as s3://bucket/synth.zarr.")] = "",
    baryons: Annotated[Optional[str], typer.Option(
        help="A SPARC cube whose galaxies keep their baryons and catalogue: Υ, D, i and the kernel's per-galaxy "
             "parameters (the ΛCDM haloes' z_M200, z_c) are drawn from their priors and stored as true_* variables "
             "(see sigcube.io.synth_sparc).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of every draw (same seed, same cube).", min=0)] = 0,
    kernel: Annotated[str, typer.Option(help="Kernel whose prediction is V_obs (before noise).")] = "sigma",
    param: Annotated[Optional[list[str]], typer.Option(help="Kernel parameter NAME=VALUE (repeat); default: "
                                                         "the kernel's defaults.")] = None,
    sigma_int: Annotated[Optional[float], typer.Option(
        "--sigma-int", help="With --baryons: an intrinsic scatter in the noise, in the error model's unit.")] = None,
    error_model: Annotated[Optional[str], typer.Option(
        help="With --baryons: what --sigma-int means (velocity_floor, lognormal, lognormal_first_order; default "
             "velocity_floor).")] = None,
    floor: Annotated[Optional[float], typer.Option(help="With --baryons: a velocity floor [km/s] besides.")] = None,
    tau_gal: Annotated[Optional[float], typer.Option(
        "--tau-gal", help="With --baryons: each galaxy's velocity scale drawn with ln s_g ~ N(0, τ_gal²) [ln V].")] = None,
    tail: Annotated[Optional[float], typer.Option(
        "--tail", help="With --baryons: Student-t errors of tail weight 1/ν in (0, 1] (heavy tails), the same "
                       "scale.")] = None,
    batch: Annotated[int, typer.Option(help="Galaxies drawn and written at once (memory: about 10 kB each).")] = 10_000,
    force: Annotated[bool, typer.Option(help="Replace an existing synthetic cube at --out.")] = False,
    replace_kind: Annotated[bool, typer.Option(help=REPLACE_KIND)] = False,
) -> None:
    """Write N synthetic galaxies drawn from SPARC-like scaling relations (see sigcube.io.synth) as a sparc cube, or
    (--baryons) a sample on real galaxies' baryons whose truths the cube keeps (see sigcube.io.synth_sparc)."""
    from sigcube.io.synth import KIND, synth_cube

    if not out:
        raise SigcubeError("synth: give --out, the cube to write")
    if (n is None) == (baryons is None):
        raise SigcubeError("synth: give either N (galaxies drawn from scaling relations) or --baryons CUBE (the "
                           "galaxies of a SPARC cube), not both")
    noise = {"sigma_int": sigma_int, "error_model": error_model, "floor": floor, "tau_gal": tau_gal, "tail": tail}
    given = [f"--{k.replace('_', '-')}" for k, v in noise.items() if v is not None]
    if given and baryons is None:
        raise SigcubeError(f"synth: {', '.join(given)} set the noise of a sample on real baryons: give --baryons")
    if tau_gal is not None:
        tau_gal_within_limits([tau_gal], f"--tau-gal {tau_gal:g}")
    held = replacing(out, cube_kind(KIND, synthetic=True), replace_kind)
    if baryons is not None:
        from sigcube.io.synth_sparc import synth_on_baryons
        from sigcube.stats.likelihood import GaussianLikelihood

        likelihood = GaussianLikelihood(sigma_int or 0.0, error_model or "velocity_floor", floor or 0.0, tau_gal or 0.0,
                                        tail or 0.0)
        with err_console.status(f"drawing on the baryons of {baryons} …"):
            store = synth_on_baryons(baryons, out, kernel, params=_params(param or []), seed=seed, force=force,
                                     likelihood=likelihood)
        what = f"a synthetic sample on the baryons of {baryons}"
    else:
        with err_console.status(f"drawing {n} galaxies …"):
            store = synth_cube(n, out, seed=seed, kernel=kernel, params=_params(param or []), batch=batch, force=force)
        what = f"{n} synthetic galaxies"
    err_console.print(f"{'replaced' if held else 'wrote'} {store.name}  ({what}, seed {seed}, V_obs from {kernel})"
                      + (f"; it held {held}" if held else ""), soft_wrap=True, highlight=False, markup=False)
