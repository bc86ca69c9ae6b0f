"""The committed data behind the results and performance pages: what produced each file, how to remake it, and how
a remade report is compared with the committed one.

``docs/results/<name>.json`` — one ``sigcube`` report (``--json``), wrapped with the command that printed it, the date,
the sigcube version and commit, and the seconds it took::

    {"name": "ablation", "commands": [["report", "ablation", "--json"]], "generated": "2026-11-23",
     "sigcube_version": "0.2.0", "commit": "c5cc8a3", "seconds": 131.0, "report": {...}}

— and ``"resumed": true`` when a command said that it read finished work back from an earlier run's checkpoints
(:data:`RESUMED_WORDS`): its ``seconds`` are then only the last part's.

``docs/performance/<benchmark>-<date>.json`` — one ``bench/<benchmark>.py --json`` run, wrapped with the machine
it ran on (CPU model, cores, memory, SIMD flags), the load average before and after, and the command.

Remake them with ``python docs/_ext/record.py results [NAME …]`` and ``python docs/_ext/record.py bench NAME
[-- ARGS]`` from the repository root (see that script), which writes each with its entry in the folder's manifest
(:mod:`sigcube_docs.manifest`) and refuses to make one while sigcube's sources differ from the commit
(:func:`source_commit`). ``tests/project/test_docs.py`` remakes every results file (slow tier) and compares it with
the committed one by :func:`differences`.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import platform
import shlex
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parents[2]
REPO = DOCS.parent
RESULTS_DIR = DOCS / "results"
PERFORMANCE_DIR = DOCS / "performance"

RESUMED_WORDS = ("resuming from ", "from the finished run kept at ")
"""What ``sigcube report compare`` prints on stderr when its numbers come, in part or whole, from the checkpoints of an
earlier run (``docs/guide/fits.md``, "What a run keeps")."""
VOLATILE = frozenset({"seconds"})
"""Keys whose values are timings (wall seconds of a run): never compared."""
RELATIVE_TOLERANCE = 1e-5
"""Two floats of a report agree when they differ by less than this, relative. The reports are deterministic on one
machine, but numpy's float64 exp, log and power differ in the last bits between CPUs (its own SIMD code on AVX-512,
the C library's elsewhere): posteriors of plain sweeps carry that to ~1e-7, those of nuisance sweeps, whose
per-galaxy mode search stops at its tolerance, to ~3e-6 (measured between an AVX2 and an AVX-512 machine)."""
FIT_TOLERANCE = 1e-3
"""The same for reports of per-galaxy local optimisations (``report ablation``, ``report compare``): a fitted value
along a flat direction of its objective (Υ_bul, ξ at its bound) stops up to ~1e-4 apart on two CPUs, and up to 2e-4
apart between two builds of the compiled pair solver on one machine (measured: ``report ablation``'s profiled ξ median
0.187009 and 0.187047, its objectives ~1e-14 apart, as numba had compiled the solver's helpers in the same process
before it or not)."""
ABSOLUTE_TOLERANCE = 1e-15
"""Two floats within this of each other agree whatever their size: rounding noise about zero (the correlation of two
uncorrelated series prints ~1e-17, its sign and digits set by the CPU)."""
MASS_KEYS = frozenset({"mass", "edge_mass", "largest_cell_mass", "excluded"})
"""Keys whose values are posterior masses: fractions of a normalised grid posterior (a cell, the grid's ends, what a
zoomed hyper-grid leaves outside)."""
MASS_TOLERANCE = 1e-9
"""Two posterior masses agree when they differ by less than this, absolute. A tail mass is exponentially sensitive
to the log-likelihood's last bits: the mass a population hyper-grid leaves outside, ~3.0e-9, moved 1.4e-4 relative
between an AVX2 and an AVX-512 machine (measured), while no report reads a mass below 1e-6 (its warnings start at
1 % of a galaxy's likelihood; the excluded mass prints to two digits)."""

ERROR_KEYS = frozenset({"hyper_grid", "shared_grid", "sweep_grid", "error", "log_evidence_error", "delta_error",
                        "ln_bayes_factor_error", "resolution"})
"""Keys whose values are numerical-error estimates [nat]: differences of nearly equal log-evidences (a grid against
the same grid with its step tripled, or with every other point dropped), which carry those evidences' last-bit
differences between CPUs (~1e-8 nat on ln Z ~ 1e4) relative to their own small size."""
ERROR_TOLERANCE = 1e-4
"""Two numerical-error estimates agree when they differ by less than this [nat], absolute: far below any error a
report states or acts on."""


@dataclass(frozen=True)
class Result:
    """A committed report: its file name, the ``sigcube`` command lines that make it (the JSON of the last one is
    kept) and what the page calls it. ``{cubes}`` in a command is the cube folder (``$SIGCUBE_CUBE_DIR``)."""

    name: str
    commands: tuple[tuple[str, ...], ...]
    title: str

    @property
    def tolerance(self) -> float:
        """The relative tolerance its remade numbers are held to (:data:`FIT_TOLERANCE` for fitting reports)."""
        return FIT_TOLERANCE if self.commands[-1][:2] in (("report", "ablation"), ("report", "compare")) \
            else RELATIVE_TOLERANCE

    @property
    def path(self) -> Path:
        return RESULTS_DIR / f"{self.name}.json"

    def command_lines(self) -> list[str]:
        return ["sigcube " + " ".join(c).replace("{cubes}", "cubes") for c in self.commands]


LCDM_HALOS = ("nfw-lcdm", "dc14-lcdm", "corenfw-lcdm", "burkert", "piso")
"""The halos of the committed ΛCDM family comparison: the ΛCDM-motivated profiles under ΛCDM priors, the empirical cored
ones with flat priors. Einasto, with a third parameter per galaxy, is left out for its cost (``bench/halos.py`` measures
it: 8 s per galaxy and σ_int value under ΛCDM priors, 40 times NFW's)."""

FAMILY = ("nfw-lcdm", "dc14-lcdm", "corenfw-lcdm", "einasto-lcdm", "burkert", "piso")
"""The whole halo family under the error model the data prefer: Einasto, with a third parameter per galaxy, is
affordable there on the importance-sampling engine (``bench/compare.py`` records the family's wall time)."""

ALTERNATIVE_SHMRS = ("moster2013_propagated", "behroozi2013")
"""The stellar-to-halo relations besides the default (Moster et al. 2013 with a constant 0.15 dex) whose evidence
compare-family-shmr-lead weighs."""

NOT_RUN = ("einasto-lcdm-behroozi2013",)
"""Left out of compare-family-shmr-lead: Behroozi's relation gives no halo mass beyond its range (a stellar mass above
its high-mass end), and Einasto's fallback grid on UGC02953 reaches such deviates: predictions that are not numbers,
which the engine refuses as a whole run rather than count as zero likelihood."""

RESULTS: dict[str, Result] = {r.name: r for r in (
    Result("sparc", (("report", "sparc", "--preset", "all", "--json"),), "every SPARC preset next to the seeds"),
    Result("kernels", (("report", "kernels", "--json"),), "every kernel at its defaults on SPARC"),
    Result("sensitivity", (("report", "sensitivity", "--json"),), "SI §13–14 and note 000 from the shipped sweeps"),
    Result("regression", (("report", "regression", "--json"),), "the paper's regression suite on every dataset"),
    Result("clusters-lcdm", (("report", "clusters", "--json"),),
           "Σ-Gravity, MOND and NFW-ΛCDM halos on the CLASH lensing masses by one rule"),
    Result("verdict", (("report", "verdict", "--json"),),
           "the seeds' question probe by probe, from the committed reports of each probe"),
    Result("ablation", (("report", "ablation", "--json"),), "the SI §15 ablation"),
    Result("ablation-sigma-int-5", (("report", "ablation", "--json", "--sigma-int", "5"),),
           "the SI §15 ablation with a 5 km/s error floor"),
    Result("ablation-sigma-int-grid", (("report", "ablation", "--json", "--sigma-int", "0:15:7"),),
           "the SI §15 ablation with the error floor σ_int profiled over 0–15 km/s"),
    Result("compare-sigma-mond-nfw", (("report", "compare", "sigma", "mond", "nfw", "--json"),),
           "model selection: canonical Σ, MOND, NFW"),
    Result("compare-sigma_xi-nfw", (("report", "compare", "sigma_xi", "nfw", "--json"),),
           "model selection: Σ (A, ξ) and NFW per galaxy"),
    Result("compare-sigma-mond-sigma-int", (("report", "compare", "sigma", "mond", "--sigma-int", "0:0.2:21",
                                             "--error-model", "lognormal_first_order", "--json"),),
           "model selection: canonical Σ and MOND with the intrinsic scatter σ_int marginalised over [0, 0.2] dex"),
    Result("compare-sigma-mond-error-models", (("report", "compare", "sigma", "mond", "--error-model", "all",
                                                "--json"),),
           "model selection: canonical Σ and MOND under every error model (errors as quoted; σ_int marginalised as a "
           "velocity floor, a log-normal g_obs scatter and its first-order form, the log-normal scatter with a floor "
           "beside it, the floor with each galaxy's velocity scale τ_gal), Υ, D, i marginalised"),
    Result("compare-sigma-mond-tails", (("report", "compare", "sigma", "mond", "--error-model",
                                         "velocity_floor+tau_gal,velocity_floor+tail", "--json"),),
           "model selection: canonical Σ and MOND under Student-t errors (a velocity floor σ_int and the tail weight "
           "1/ν marginalised) beside the velocity floor with each galaxy's velocity scale τ_gal, Υ, D, i "
           "marginalised, each with its adequacy checks"),
    Result("compare-sigma-mond-tau-gal", (("report", "compare", "sigma", "mond", "--error-model",
                                           "velocity_floor,velocity_floor+tau_gal=0.2,velocity_floor+tau_gal=0.3,"
                                           "velocity_floor+tau_gal=0.4", "--json"),),
           "model selection: canonical Σ and MOND under the velocity floor, without and with each galaxy's velocity "
           "scale at τ_gal = 0.2, 0.3, 0.4 ln V"),
    Result("compare-sigma-k-prior", (("report", "compare", "sigma", "sigma-k-uniform", "--sigma-int", "4.36",
                                      "--tau-gal", "0.317", "--error-model", "velocity_floor", "--json"),),
           "model selection: canonical Σ with k log-uniform on 0.02–1 and uniform on 0–1 (reaching the W → 1 limit), "
           "and MOND, under the lead error model at Σ's posterior means (σ_int = 4.36 km/s, τ_gal = 0.317 ln V), Υ, D, "
           "i marginalised"),
    Result("compare-halos-lcdm", (("report", "compare", "sigma", *LCDM_HALOS, "--sigma-int", "0:30:16",
                                   "--error-model", "velocity_floor", "--json"),),
           "model selection: canonical Σ, MOND, the ΛCDM halos under ΛCDM priors and the cored halos with flat priors, "
           "Υ, D, i and a velocity floor σ_int marginalised"),
    Result("compare-halos-lcdm-tau-gal", (("report", "compare", "sigma", "nfw-lcdm", "dc14-lcdm", "corenfw-lcdm",
                                           "burkert", "piso", "--sigma-int", "0:30:16", "--error-model",
                                           "velocity_floor", "--tau-gal", "0.31", "--json"),),
           "model selection: canonical Σ, MOND and the halo family as compare-halos-lcdm, each galaxy's velocity scale "
           "beside the velocity floor with τ_gal held at 0.31 ln V (Σ's and MOND's posterior under the error model the "
           "data prefer)"),
    Result("compare-family-lead", (("report", "compare", "sigma", *FAMILY, "--sigma-int", "0:40:21",
                                    "--error-model", "velocity_floor", "--tau-gal", "0:0.8:9", "--json"),),
           "model selection: canonical Σ, MOND and the whole halo family (NFW, DC14, coreNFW and Einasto under ΛCDM "
           "priors, Burkert and pISO flat) under the error model the data prefer: Υ, D, i, the velocity floor σ_int "
           "and each galaxy's velocity scale τ_gal marginalised"),
    Result("compare-family-shmr-lead", (("report", "compare", *(f"{h}-{shmr}" for shmr in ALTERNATIVE_SHMRS
                                                                 for h in FAMILY if h.endswith("-lcdm")
                                                                 and f"{h}-{shmr}" not in NOT_RUN),
                                         "--sigma-int", "0:40:21", "--error-model", "velocity_floor", "--tau-gal",
                                         "0:0.8:9", "--json"),),
           "model selection: the ΛCDM halos of compare-family-lead (NFW, DC14, coreNFW, Einasto) under the two other "
           "stellar-to-halo relations (Moster et al. 2013 with its parameters' errors propagated, Behroozi et al. "
           "2013), with every choice of compare-family-lead: which relation the evidence prefers under the lead "
           "error model, and the family's ranking under it"),
    Result("compare-halos-einasto", (("report", "compare", "nfw-lcdm", "dc14-lcdm", "einasto-lcdm", "--sigma-int",
                                      "0:30:16", "--error-model", "velocity_floor", "--tau-gal", "0.31", "--json"),),
           "model selection: Einasto against NFW and DC14, all under ΛCDM priors, Υ, D, i and the velocity floor σ_int "
           "marginalised, τ_gal held at 0.31 ln V (as compare-halos-lcdm-tau-gal)"),
    Result("compare-halos-einasto-held", (("report", "compare", "nfw-lcdm", "einasto-lcdm", "--sigma-int", "3.89",
                                           "--error-model", "velocity_floor", "--tau-gal", "0.31", "--json"),),
           "model selection: Einasto against NFW, both under ΛCDM priors, Υ, D, i marginalised, the velocity floor "
           "held at NFW's posterior mean of compare-halos-lcdm-tau-gal (3.89 km/s) and τ_gal at 0.31 ln V"),
    Result("compare-halos-einasto-dc14-held", (("report", "compare", "dc14-lcdm", "einasto-lcdm", "--sigma-int",
                                                "2.82", "--error-model", "velocity_floor", "--tau-gal", "0.31",
                                                "--json"),),
           "model selection: Einasto against DC14, both under ΛCDM priors, Υ, D, i marginalised, the velocity floor "
           "held at DC14's posterior mean of compare-halos-lcdm-tau-gal (2.82 km/s) and τ_gal at 0.31 ln V"),
    Result("compare-halos-shmr", (("report", "compare", "nfw-lcdm", "nfw-lcdm-moster2013_propagated",
                                   "nfw-lcdm-behroozi2013", "--sigma-int", "0:30:16", "--error-model", "velocity_floor",
                                   "--json"),),
           "model selection: NFW under ΛCDM priors with three stellar-to-halo relations (Moster et al. 2013 with 0.15 "
           "dex, with its parameters' errors propagated, Behroozi et al. 2013), Υ, D, i and a velocity floor σ_int "
           "marginalised"),
    Result("calibrate-sigma-mond", (("report", "calibrate", "sigma", "--samples", "10", "--sigma-int", "6.6",
                                     "--error-model", "velocity_floor", "--json"),),
           "what ln B(Σ : MOND) means here: its distribution on synthetic SPARC samples drawn from Σ and from MOND under "
           "the velocity floor"),
    Result("calibrate-sigma-mond-tau-gal", (("report", "calibrate", "sigma", "--samples", "20", "--sigma-int", "4.5",
                                             "--tau-gal", "0.31", "--error-model", "velocity_floor", "--json"),),
           "what ln B(Σ : MOND) means under the error model the data prefer: its distribution on synthetic SPARC "
           "samples drawn from Σ and from MOND with a velocity floor and each galaxy's velocity scale"),
    Result("compare-sigma_xi-nfw-sigma-int", (("report", "compare", "sigma_xi", "nfw", "--sigma-int", "0:20:11",
                                               "--json"),),
           "model selection: Σ (A, ξ) and NFW per galaxy with an error floor σ_int marginalised over [0, 20] km/s"),
    Result("sweep-demo", (("sweep", "sweeps/sigma_A0_k.toml", "--out", "{cubes}/sigma-A0-k.zarr", "--synchronous"),
                          ("report", "sweep", "{cubes}/sigma-A0-k.zarr", "--json")),
           "the demo sweep, A0 × k"),
    Result("sweep-nuisance", (("sweep", "sweeps/sigma_A0_k_nuisance.toml", "--out", "{cubes}/sigma-A0-k-nuisance.zarr"),
                              ("report", "sweep", "{cubes}/sigma-A0-k-nuisance.zarr", "--json")),
           "the posterior of A0 × k with Υ, D, i marginalised"),
    Result("sweep-nuisance-floor-5",
           (("sweep", "docs/results/specs/sigma_A0_k_nuisance_floor5.toml", "--out",
             "{cubes}/sigma-A0-k-nuisance-floor-5.zarr"),
            ("report", "sweep", "{cubes}/sigma-A0-k-nuisance-floor-5.zarr", "--json")),
           "the posterior of A0 × k with Υ, D, i marginalised and a 5 km/s error floor"),
    *(Result(name, (("sweep", f"sweeps/{name.replace('-', '_')}.toml", "--out", f"{{cubes}}/{name}.zarr"),
                    ("report", "joint", f"{{cubes}}/{name}.zarr", "--json")), title)
      for name, title in (
          ("joint-sigma-sparc-clash", "Σ-Gravity A0 × L0 × n on SPARC and CLASH lensing at once"),
          ("joint-sigma-paper-sparc-clash", "Σ-Gravity A0 on SPARC and CLASH lensing, the paper's cluster rule fixed"),
          ("joint-mond-sparc-clash", "MOND a0 on SPARC and CLASH lensing at once"),
          ("joint-sigma-systematics-sparc-clash",
           "Σ-Gravity A0 on SPARC (k, σ_int marginalised) and CLASH lensing under each systematic choice"),
          ("joint-sigma-lead-sparc-clash",
           "Σ-Gravity A0 on SPARC under the comparison's lead error model (k, σ_int, τ_gal marginalised) and CLASH "
           "lensing"),
          ("joint-mond-lead-sparc-clash",
           "MOND a0 on SPARC under the comparison's lead error model (σ_int, τ_gal marginalised) and CLASH lensing"))),
    Result("sweep-mond-sigma-int",
           (("sweep", "sweeps/mond_a0_sigma_int_nuisance.toml", "--out", "{cubes}/mond-a0-sigma-int-nuisance.zarr"),
            ("report", "sweep", "{cubes}/mond-a0-sigma-int-nuisance.zarr", "--json")),
           "the joint posterior of MOND's a0 and the intrinsic scatter σ_int with Υ, D, i marginalised"),
    Result("sweep-sigma-sigma-int",
           (("sweep", "sweeps/sigma_A0_k_sigma_int_nuisance.toml", "--out",
             "{cubes}/sigma-A0-k-sigma-int-nuisance.zarr"),
            ("report", "sweep", "{cubes}/sigma-A0-k-sigma-int-nuisance.zarr", "--json")),
           "the joint posterior of A0, k and the intrinsic scatter σ_int with Υ, D, i marginalised"),
    *(Result(f"population-{name}{tag}",
             (("sweep", spec, "--out", f"{{cubes}}/{name}-nuisance{tag}.zarr"),
              ("report", "population", f"{{cubes}}/{name}-nuisance{tag}.zarr", "--param", param, "--scale", "log",
               "--shape", "gaussian", "--json")),
             f"is {param} universal? {what}" + (" with a 5 km/s error floor" if tag else ", errors as quoted"))
      for name, param, what in (("mond-a0", "a0", "MOND's a0"), ("sigma-A0", "A0", "Σ's A0 at k = 1/2π"))
      for tag, spec in (("", f"sweeps/{name.replace('-', '_')}_nuisance.toml"),
                        ("-floor-5", f"docs/results/specs/{name.replace('-', '_')}_nuisance_floor5.toml"))),
    *(Result(f"population-{name}", (("sweep", spec, "--out", f"{{cubes}}/{cube}.zarr"),
                                    ("report", "population", f"{{cubes}}/{cube}.zarr", "--param", param, "--scale",
                                     "log", *extra, "--json")), title)
      for name, spec, cube, param, extra, title in (
          ("mond-a0-li2018", "sweeps/mond_a0_li2018.toml", "mond-a0-li2018", "a0", ("--preset", "li2018"),
           "is MOND's a0 universal? The Li+2018 set-up (every galaxy, quoted errors), as the li2018 preset"),
          ("mond-a0-lognormal", "sweeps/mond_a0_population_lognormal.toml", "mond-a0-population-lognormal", "a0", (),
           "is MOND's a0 universal? Every population shape, a log-normal σ_int marginalised"),
          ("mond-a0-floor", "sweeps/mond_a0_population_floor.toml", "mond-a0-population-floor", "a0", (),
           "is MOND's a0 universal? Every population shape, a velocity floor marginalised"),
          ("mond-a0-floor-tau-gal", "docs/results/specs/mond_a0_population_floor_tau_gal.toml",
           "mond-a0-population-floor-tau-gal", "a0", (),
           "is MOND's a0 universal? Every population shape, a velocity floor marginalised and each galaxy's velocity "
           "scale integrated (τ_gal = 0.31)"),
          ("mond-a0-floor-tau-gal-grid", "docs/results/specs/mond_a0_population_floor_tau_gal_grid.toml",
           "mond-a0-population-floor-tau-gal-grid", "a0", (),
           "is MOND's a0 universal? Every population shape, a velocity floor and the scatter τ_gal of each galaxy's "
           "velocity scale marginalised"),
          ("sigma-A0-k", "sweeps/sigma_A0_k_population.toml", "sigma-A0-k-population", "A0", (),
           "is Σ's A0 universal? Every population shape, k marginalised, quoted errors"),
          ("sigma-A0-k-lognormal", "sweeps/sigma_A0_k_population_lognormal.toml", "sigma-A0-k-population-lognormal",
           "A0", ("--shape", "gaussian"),
           "is Σ's A0 universal? A Gaussian population, k and a log-normal σ_int marginalised"),
          ("mond-a0-lognormal-density", "docs/results/specs/mond_a0_population_lognormal_density.toml",
           "mond-a0-population-lognormal-density", "a0", (),
           "is MOND's a0 universal? Every population shape, the log-normal density's σ_int marginalised"),
          ("sigma-A0-k-lognormal-density", "docs/results/specs/sigma_A0_k_population_lognormal_density.toml",
           "sigma-A0-k-population-lognormal-density", "A0", ("--shape", "gaussian"),
           "is Σ's A0 universal? A Gaussian population, k and the log-normal density's σ_int marginalised"),
          ("sigma-A0-k-floor", "docs/results/specs/sigma_A0_k_population_floor.toml", "sigma-A0-k-population-floor",
           "A0", ("--shape", "gaussian"),
           "is Σ's A0 universal? A Gaussian population, k and a velocity floor marginalised"),
          ("sigma-A0-k-floor-tau-gal", "docs/results/specs/sigma_A0_k_population_floor_tau_gal.toml",
           "sigma-A0-k-population-floor-tau-gal", "A0", ("--shape", "gaussian"),
           "is Σ's A0 universal? A Gaussian population, k and a velocity floor marginalised and each galaxy's "
           "velocity scale integrated (τ_gal = 0.31)"))),
    Result("population-mond-a0-both",
           (*(("sweep", f"docs/results/specs/mond_a0_population_both_floor{f}.toml", "--out",
               f"{{cubes}}/mond-a0-population-both-floor-{f}.zarr") for f in (3, 4, 5, 6, 7)),
            ("report", "population", *(f"{{cubes}}/mond-a0-population-both-floor-{f}.zarr" for f in (3, 4, 5, 6, 7)),
             "--param", "a0", "--scale", "log", "--json")),
           "is MOND's a0 universal? Every population shape, a first-order log-normal σ_int and a 3–7 km/s velocity "
           "floor marginalised"),
    Result("li2018-population-table",
           (*(("sweep", spec, "--out", f"{{cubes}}/{cube}.zarr") for spec, cube in (
               ("sweeps/mond_a0_li2018.toml", "mond-a0-li2018"),
               ("docs/results/specs/mond_a0_population_cut.toml", "mond-a0-population-cut"),
               ("docs/results/specs/mond_a0_li2018_quality.toml", "mond-a0-li2018-quality"),
               ("sweeps/mond_a0_population_lognormal.toml", "mond-a0-population-lognormal"),
               ("sweeps/mond_a0_population_floor.toml", "mond-a0-population-floor"))),
            ("report", "population", "--table", "docs/results/specs/population_li2018.toml", "--json")),
           "the Li+2018 set-up with one choice changed at a time: which choice moves the verdict on a0"),
    Result("error-models-population-table",
           (*(("sweep", spec, "--out", f"{{cubes}}/{cube}.zarr") for spec, cube in (
               ("sweeps/mond_a0_li2018.toml", "mond-a0-li2018"),
               ("sweeps/mond_a0_population_floor.toml", "mond-a0-population-floor"),
               ("sweeps/mond_a0_population_lognormal.toml", "mond-a0-population-lognormal"),
               *((f"docs/results/specs/mond_a0_population_both_floor{f}.toml", f"mond-a0-population-both-floor-{f}")
                 for f in (3, 4, 5, 6, 7)),
               ("sweeps/sigma_A0_k_population.toml", "sigma-A0-k-population"),
               ("docs/results/specs/sigma_A0_k_population_floor.toml", "sigma-A0-k-population-floor"),
               ("sweeps/sigma_A0_k_population_lognormal.toml", "sigma-A0-k-population-lognormal"))),
            ("report", "population", "--table", "docs/results/specs/population_error_models.toml", "--json")),
           "the error models compared by evidence under MOND and Σ-Gravity"),
)}
"""Every committed report, by name (the file ``docs/results/<name>.json``)."""


def sigcube_executable() -> str:
    """The ``sigcube`` console script of this interpreter's environment."""
    exe = Path(sys.executable).with_name("sigcube")
    return str(exe) if exe.exists() else "sigcube"


def run(result: Result, cube_dir: Path, env: Mapping[str, str] | None = None, cwd: Path = REPO,
        commit: str | None = None) -> dict[str, Any]:
    """Run ``result``'s commands with ``cube_dir`` as ``$SIGCUBE_CUBE_DIR``; the record of the last one's JSON, made
    from ``commit`` (default: :func:`git_commit` as they start). No time limit: a record of a long comparison takes as
    long as it takes, and one stopped resumes from its checkpoints."""
    commit = commit or git_commit()
    environ = {**os.environ, **(env or {}), "SIGCUBE_CUBE_DIR": str(cube_dir), "COLUMNS": "200"}
    start = time.perf_counter()
    out, resumed = "", False
    for command in result.commands:
        argv = [sigcube_executable(), *(word.replace("{cubes}", str(cube_dir)) for word in command)]
        done = subprocess.run(argv, cwd=cwd, env=environ, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.strip()[-2000:]}")
        out, resumed = done.stdout, resumed or was_resumed(done.stderr)
    seconds = time.perf_counter() - start
    return {"name": result.name, "title": result.title, "commands": [list(c) for c in result.commands],
            "generated": _dt.date.today().isoformat(), "sigcube_version": _version(), "commit": commit,
            "seconds": round(seconds, 1), **({"resumed": True} if resumed else {}), "report": json.loads(out)}


def was_resumed(stderr: str) -> bool:
    """Whether a command's stderr says it read finished work back from an earlier run (:data:`RESUMED_WORDS`)."""
    return any(line.startswith(RESUMED_WORDS) for line in stderr.splitlines())


def load(name: str) -> dict[str, Any] | None:
    """The committed record ``docs/results/<name>.json`` (None if it is not committed)."""
    path = RESULTS_DIR / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def differences(committed: Any, remade: Any, where: str = "report", limit: int = 20,
                tolerance: float = RELATIVE_TOLERANCE) -> list[str]:
    """Where ``remade`` differs from ``committed`` (timings ignored, floats to ``tolerance`` relative or
    :data:`ABSOLUTE_TOLERANCE`, posterior masses also to :data:`MASS_TOLERANCE` absolute, numerical-error estimates
    to :data:`ERROR_TOLERANCE`)."""
    out: list[str] = []

    def walk(a: Any, b: Any, at: str, key: str = "") -> None:
        if len(out) >= limit:
            return
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            for key in sorted(set(a) | set(b)):
                if key in VOLATILE:
                    continue
                if key not in a or key not in b:
                    out.append(f"{at}.{key}: {'added' if key not in a else 'missing'}")
                else:
                    walk(a[key], b[key], f"{at}.{key}", key)
        elif isinstance(a, list) and isinstance(b, list):
            if len(a) != len(b):
                out.append(f"{at}: {len(a)} items committed, {len(b)} remade")
            for i, (x, y) in enumerate(zip(a, b)):
                walk(x, y, f"{at}[{i}]", key)
        elif isinstance(a, float) or isinstance(b, float):
            if not (isinstance(a, (int, float)) and isinstance(b, (int, float))) or not (
                    (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=tolerance, abs_tol=(
                        MASS_TOLERANCE if key in MASS_KEYS else ERROR_TOLERANCE if key in ERROR_KEYS
                        else ABSOLUTE_TOLERANCE))):
                out.append(f"{at}: committed {a!r}, remade {b!r}")
        elif a != b:
            out.append(f"{at}: committed {a!r}, remade {b!r}")

    walk(committed, remade, where)
    return out


# --- benchmarks ------------------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    """The machine a benchmark runs on: CPU model, cores, memory, the SIMD extensions the vector loops care about."""
    cpu, flags, ids = platform.processor() or platform.machine(), set(), {}
    try:
        info = Path("/proc/cpuinfo").read_text()
        for line in info.splitlines():
            key, _, value = line.partition(":")
            key = key.strip()
            if key == "model name" and cpu in ("", platform.machine(), platform.processor()):
                cpu = value.strip()
            elif key == "flags" and not flags:
                flags = set(value.split())
            elif key in ("cpu family", "model", "stepping") and key not in ids:
                ids[key] = value.strip()
    except OSError:
        pass
    if ids:
        cpu += " (" + ", ".join(f"{k} {v}" for k, v in ids.items()) + ")"
    try:
        mem_kb = int(next(l for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal")).split()[1])
        memory_gb = round(mem_kb / 2**20, 1)
    except (OSError, StopIteration):
        memory_gb = None
    import numpy

    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": memory_gb, "avx2": "avx2" in flags,
            "avx512f": "avx512f" in flags, "system": f"{platform.system()} {platform.release()}",
            "python": platform.python_version(), "numpy": numpy.__version__, "sigcube": _version()}


def _version() -> str:
    import sigcube

    return sigcube.__version__


SOURCES = ("sigcube", "bench", "sweeps", "docs/results/specs")
"""The folders of tracked files a record's commands run or read: a record made while one of them differs from the
commit is marked :data:`CHANGES`."""
CHANGES = "+changes"
"""What a record's ``commit`` ends with when its sources differed from that commit (a draft)."""


class RecordError(Exception):
    """A record that is not made as asked: its sources differ from the commit, or git cannot tell."""


def changed_sources(since: str = "HEAD", repo: Path = REPO) -> list[str]:
    """The tracked files under :data:`SOURCES` whose content in the work tree differs from commit ``since``."""
    try:
        done = subprocess.run(["git", "diff", "--name-only", since, "--", *SOURCES], cwd=repo, capture_output=True,
                              text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        raise RecordError(f"git cannot compare {repo}'s sources with {since}: "
                          f"{(getattr(exc, 'stderr', None) or str(exc)).strip()}") from None
    return done.stdout.split()


def git_commit(repo: Path = REPO) -> str:
    """The checkout's commit (short), with :data:`CHANGES` when a source file differs from it; ``unknown`` without
    git."""
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=repo, capture_output=True, text=True,
                             check=True).stdout.strip()
        return sha + (CHANGES if changed_sources(repo=repo) else "")
    except (OSError, subprocess.CalledProcessError, RecordError):
        return "unknown"


def _listed(files: Sequence[str]) -> str:
    return ", ".join(files[:5]) + (f" and {len(files) - 5} more" if len(files) > 5 else "")


def source_commit(draft: bool = False, repo: Path = REPO) -> str:
    """The commit a new record is made from (:func:`git_commit`). Refused (:class:`RecordError`, naming the files)
    while a source file has uncommitted changes, unless the record is a ``draft`` (its commit then says so)."""
    changed = changed_sources(repo=repo)
    if changed and not draft:
        raise RecordError(f"uncommitted changes to {_listed(changed)}: a record is made from committed sources; commit "
                          "them, or pass --draft (the record's manifest entry then says dirty)")
    return git_commit(repo)


def check_unchanged(commit: str, repo: Path = REPO) -> None:
    """Refuse (:class:`RecordError`) a record made from the clean ``commit`` when its sources differ from that commit
    now: they changed while it was made, and it would name a commit it was not made from."""
    if commit == "unknown" or commit.endswith(CHANGES):
        return
    changed = changed_sources(commit, repo)
    if changed:
        raise RecordError(f"{_listed(changed)} changed while the record was made from {commit}: nothing written; make "
                          "it again")


BUSY_LOAD_PER_CORE = 0.5
"""A run is marked "measured under load" when the 1-minute load average before or after it, less the benchmark's
own threads, exceeded this per core: other processes then shared the cores."""


def run_bench(name: str, args: Sequence[str] = (), label: str | None = None,
              commit: str | None = None) -> dict[str, Any]:
    """Run ``bench/<name>.py --json ARGS`` from the repository root; the record of its JSON with the machine (and
    ``label``, what this run of a benchmark with several modes measures), made from ``commit`` (default:
    :func:`git_commit` as it starts)."""
    commit = commit or git_commit()
    script = REPO / "bench" / f"{name}.py"
    argv = [sys.executable, str(script), "--json", *args]
    load_before = list(os.getloadavg())
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=7200)
    if done.returncode:
        raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.strip()[-2000:]}")
    seconds = time.perf_counter() - start
    load_after = list(os.getloadavg())
    cores = os.cpu_count() or 1
    return {"benchmark": name, **({"label": label} if label else {}),
            "command": shlex.join(["python", f"bench/{name}.py", "--json", *args]),
            "date": _dt.date.today().isoformat(), "machine": machine(), "commit": commit,
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in load_after],
            "under_load": max(load_before[0], load_after[0] - 1) > BUSY_LOAD_PER_CORE * cores,
            "seconds": round(seconds, 1), "result": json.loads(done.stdout.strip().splitlines()[-1]) if name != "nuisance"
            else json.loads(done.stdout)}


def bench_file(record: dict[str, Any]) -> str:
    """The file name of a benchmark record: ``<benchmark>[-<label>]-<date>.json``."""
    return "-".join(filter(None, (record["benchmark"], record.get("label"), record["date"]))) + ".json"


def bench_records() -> list[dict[str, Any]]:
    """Every committed benchmark record, newest first within each benchmark."""
    records = [json.loads(p.read_text(encoding="utf-8")) | {"file": p.name}
               for p in sorted(PERFORMANCE_DIR.glob("*.json"))]
    return sorted(records, key=lambda r: (r["benchmark"], r["date"]), reverse=False)
