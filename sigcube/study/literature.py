"""Published answers from the literature (not seed-file figures) that reports set their results next to, and the
published set-ups a population analysis can adopt by name (``sigcube report population --preset``).

What each entry says is taken from the paper's abstract, which is all that could be read here; where a detail of a
paper's method (a section, a prior's range, its exact sample cut) could not be read, the entry says so instead of
guessing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import xarray as xr

from sigcube.errors import SigcubeError

LI2018 = "Li, Lelli, McGaugh & Schombert 2018 (A&A 615, A3; arXiv:1803.00022)"
RODRIGUES2018 = "Rodrigues, Marra, del Popolo & Davari 2018 (Nature Astronomy 2, 668; arXiv:1806.06803)"
CHANG2019 = "Chang & Zhou 2019 (arXiv:1812.05002)"
LI2021 = "Li, Lelli, McGaugh, Schombert & Chae 2021 (A&A 646, L13; arXiv:2101.11644)"
MCGAUGH2016 = "McGaugh, Lelli & Schombert 2016 (PRL 117, 201101; arXiv:1609.05917)"
DESMOND2023 = "Desmond 2023 (MNRAS; arXiv:2303.11314)"

POPULATION: dict[tuple[str, str], list[dict[str, str]]] = {
    ("mond", "a0"): [
        {"who": LI2018,
         "sample": "all 175 SPARC galaxies, each fitted on its own (abstract: 'the mean RAR [fitted] to 175 "
                   "individual galaxies')",
         "assumed": "Υ★, distance and inclination marginalised per galaxy by MCMC under priors; a generalised RAR "
                    "frees the acceleration scale g† per galaxy",
         "finding": "with g† free per galaxy 'the fits are not improved ... there is no credible indication of "
                    "variation in the critical acceleration scale' (abstract): a judgement on per-galaxy fit "
                    "quality, not a Bayes factor between population models",
         "origin": "literature"},
        {"who": RODRIGUES2018,
         "sample": "193 disk galaxies from the SPARC and THINGS databases (abstract)",
         "assumed": "Bayesian inference of each galaxy's a0 (the priors could not be read here)",
         "finding": "the probability of one fundamental acceleration common to all galaxies is essentially zero: "
                    "p < 1e-20, rejected at more than 10σ (abstract)",
         "origin": "literature"},
        {"who": CHANG2019,
         "sample": "175 SPARC galaxies (abstract)",
         "assumed": "Rodrigues+2018's method with Gaussian priors on the galaxy parameters (abstract)",
         "finding": "once the nuisance parameters are marginalised the posteriors of a0 broaden and 'the "
                    "incompatibility between the global best fit and the marginalized posterior distributions of "
                    "the acceleration scale is greatly reduced', though some evidence against a fundamental a0 "
                    "remains (abstract)",
         "origin": "literature"},
        {"who": LI2021,
         "sample": "SPARC (abstract; the exact cut could not be read)",
         "assumed": "Newton's G free per galaxy as a stand-in for g†: flat against log-normal priors (abstract)",
         "finding": "flat priors give a wide spread that 'would rule out G_N as a universal constant'; an "
                    "empirically motivated log-normal prior returns a virtually constant G_N with no loss of fit "
                    "quality: a variable g† is read off parameter degeneracies and the error model (abstract)",
         "origin": "literature"},
    ],
}
"""Published answers to "is this parameter universal?", by (kernel, parameter): `sigcube report population`.
Each names the sample its statement rests on."""

A0_DETERMINATIONS: list[dict[str, Any]] = [
    {"who": MCGAUGH2016, "a0": 1.20, "stat": 0.02, "sys": 0.24,
     "sample": "2693 points in 153 SPARC galaxies (abstract)",
     "assumed": "the RAR fitted to every point with Υ fixed (0.5 disk, 0.7 bulge at 3.6 μm) and no per-galaxy "
                "nuisance parameters; the ± 0.24 is the systematic of Υ's normalisation (main text, not read "
                "here)",
     "error_model": "the observed scatter, errors included (no intrinsic-scatter model)",
     "seed": "a0 = 1.2e-10 m/s² is printed in the SI §4a (Observational Benchmarks, McGaugh 2016); the ± are not"},
    {"who": LI2018, "a0": None, "stat": None, "sys": None,
     "sample": "175 SPARC galaxies (abstract)",
     "assumed": "g† fixed at the McGaugh+2016 value in the main fits; Υ★, D, i marginalised per galaxy (abstract)",
     "error_model": "quoted errors; the residuals' rms scatter after the fits is 0.057 dex (abstract)",
     "seed": ""},
    {"who": DESMOND2023, "a0": 1.19, "stat": 0.04, "sys": 0.09,
     "sample": "SPARC (abstract; the cut could not be read)",
     "assumed": "joint Hamiltonian Monte Carlo of the RAR and every galaxy's distance, inclination, luminosity and "
                "mass-to-light ratios (abstract)",
     "error_model": "a log-normal intrinsic scatter, σ_int = 0.034 ± 0.01 (stat) ± 0.01 (sys) dex (abstract)",
     "seed": ""},
]
"""Published determinations of MOND's a0 [10⁻¹⁰ m/s²] and what each assumed (abstracts), for the error-model
table."""


class PresetError(SigcubeError):
    """An unknown population preset, or a cube that is not the preset's set-up."""


@dataclass(frozen=True)
class PopulationPreset:
    """A published set-up of the population question, as sigcube's options: the sweep's sample and error model, the
    population's shape and τ prior, and the fixed value the paper tested against. ``statements`` are the paper's
    headline statements (abstract), ``unverified`` what could not be read."""

    name: str
    who: str
    min_points: int
    quality: tuple[int, ...]
    min_inclination: float
    error_model: str
    shape: str
    tau_scale: float | None
    fixed_value: float
    spec: str
    statements: tuple[str, ...]
    options: tuple[str, ...]
    unverified: tuple[str, ...]

    def shapes(self) -> tuple[Any, ...]:
        from sigcube.stats.population_shapes import Shape

        return (Shape(self.shape),)

    def tau_prior(self) -> Any:
        from sigcube.stats.population import TauPrior

        return TauPrior("half_normal", self.tau_scale)

    def check(self, ds: xr.Dataset) -> None:
        """PresetError unless the result cube was swept with this preset's sample cut and error model."""
        from sigcube.engines.sweep.spec import parse_spec

        spec = parse_spec(ds.attrs.get("spec_text", ""), "the result cube's spec")
        cuts = spec.cuts
        n = spec.nuisance
        quoted = n is not None and not n.sigma_int_grid and n.sigma_int == 0 and n.sigma_floor == 0
        wrong = []
        if (cuts.min_points, tuple(cuts.quality), cuts.min_inclination) != (self.min_points, self.quality,
                                                                            self.min_inclination):
            wrong.append(f"its sample cut is {cuts.as_dict()}")
        if n is None or (self.error_model == "quoted" and not quoted):
            wrong.append("its errors are not as quoted")
        if wrong:
            raise PresetError(f"the cube is not the {self.name} set-up ({'; '.join(wrong)}): sweep {self.spec}")

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "who": self.who, "spec": self.spec, "statements": list(self.statements),
                "options": list(self.options), "unverified": list(self.unverified),
                "fixed_value": self.fixed_value}


PRESETS: dict[str, PopulationPreset] = {p.name: p for p in (
    PopulationPreset(
        name="li2018", who=LI2018, min_points=1, quality=(1, 2, 3), min_inclination=0.0, error_model="quoted",
        shape="gaussian", tau_scale=None, fixed_value=1.2e-10, spec="sweeps/mond_a0_li2018.toml",
        statements=(
            "MCMC fits of the mean RAR to 175 individual SPARC galaxies, marginalising Υ★, distance and inclination "
            "(abstract)",
            "the residuals around these fits have an rms scatter of 0.057 dex (abstract)",
            "with the critical acceleration free per galaxy the fits are not improved: no credible indication of "
            "variation in it (abstract)",
        ),
        options=(
            "sample: every SPARC galaxy (min_points = 1: 175), no quality or inclination cut — the abstract's 175",
            "nuisance: Υ_disk, Υ_bul, D, i marginalised per galaxy under the Li+2018 priors (log-normal Υ_disk "
            "0.5 ± 0.1 dex, Υ_bul 0.7 ± 0.1 dex, Gaussian D and i from the catalogue: sigcube's defaults)",
            "errors: as quoted (no intrinsic scatter): the fits judged by χ² on the quoted errors",
            "the per-galaxy test: a0 fixed at 1.2e-10 m/s² (g† of McGaugh+2016, which Li+2018 adopt) against each "
            "galaxy's own a0",
            "population: Gaussian in log10 a0, τ half-normal with σ a quarter of the grid's range (Li+2018 fit each "
            "galaxy on its own and pool none: a wide τ prior is the nearest population model)",
        ),
        unverified=(
            "the section numbers of Li+2018's priors, likelihood and sample could not be read (only the abstract "
            "was available): the priors are those sigcube has long used as 'Li+2018 priors'",
            "whether the g†-variation statement rests on all 175 galaxies or on a quality subsample (the abstract "
            "says 175): the quality cut Q < 3, i ≥ 30° is therefore one of the table's choices",
            "the range of Li+2018's per-galaxy prior on g† and whether their χ² is in velocity or acceleration",
        )),
)}
"""Published set-ups of the population question, by name."""


def preset(name: str) -> PopulationPreset:
    """The population preset ``name`` (PresetError naming the known ones)."""
    if name not in PRESETS:
        raise PresetError(f"unknown population preset {name!r}; choose from {', '.join(PRESETS)}")
    return PRESETS[name]


def population(kernel: str, parameter: str) -> list[dict[str, str]]:
    """The published answers on whether ``parameter`` of ``kernel`` is universal (empty when none is recorded)."""
    return list(POPULATION.get((kernel, parameter), []))
