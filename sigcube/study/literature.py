"""Published answers from the literature (not seed-file figures) that reports set their results next to."""

from __future__ import annotations

POPULATION: dict[tuple[str, str], list[dict[str, str]]] = {
    ("mond", "a0"): [
        {"who": "Li, Lelli, McGaugh & Schombert 2018 (A&A 615, A3)",
         "finding": "fitting the RAR galaxy by galaxy with Υ, D, i free under Gaussian priors: no credible "
                    "variation of a0 between SPARC galaxies once Υ, D, i are marginalised", "origin": "literature"},
        {"who": "Rodrigues, Marra, del Popolo & Davari 2018 (Nature Astronomy 2, 668)",
         "finding": "per-galaxy Bayesian fits of SPARC with Υ, D, i free reject one universal a0 at more than 10σ",
         "origin": "literature"},
    ],
}
"""Published answers to "is this parameter universal?", by (kernel, parameter): `sigcube report population`."""


def population(kernel: str, parameter: str) -> list[dict[str, str]]:
    """The published answers on whether ``parameter`` of ``kernel`` is universal (empty when none is recorded)."""
    return list(POPULATION.get((kernel, parameter), []))
