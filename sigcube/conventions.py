"""Analysis conventions: mass-to-light ratios and sample cuts, defined once.

The defaults are the ones behind the published SPARC figures (MODEL.md §1 and §5):
Υ_disk = 0.5, Υ_bul = 0.7 at 3.6 μm (Lelli+2016); a galaxy needs ≥ 5 usable points;
points with V_bar ≤ 0, R ≤ 0 or V_obs ≤ 0 are dropped (the galaxy stays); no quality
or inclination cut. Together these give 171 galaxies and 3373 points.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class MassToLight:
    """Stellar mass-to-light ratios at 3.6 μm [M☉/L☉]."""

    upsilon_disk: float = 0.5
    upsilon_bul: float = 0.7


@dataclass(frozen=True)
class SampleCuts:
    """Which galaxies enter an analysis.

    ``min_points`` counts usable points (after the point cut); ``quality`` lists the
    accepted SPARC quality flags (1 high, 2 medium, 3 low; any sequence, kept as a tuple, so cuts
    read back from JSON equal the originals); inclinations in degrees.
    """

    min_points: int = 5
    quality: tuple[int, ...] = (1, 2, 3)
    min_inclination: float = 0.0
    max_inclination: float = 90.0

    def __post_init__(self) -> None:
        from sigcube.errors import SigcubeError

        object.__setattr__(self, "quality", tuple(self.quality))
        if self.min_points < 1:
            raise SigcubeError(f"min_points must be ≥ 1; got {self.min_points}")
        if not set(self.quality) <= {1, 2, 3} or not self.quality:
            raise SigcubeError(f"quality flags must be a non-empty subset of 1, 2, 3; got {self.quality}")
        if not 0.0 <= self.min_inclination <= self.max_inclination <= 90.0:
            raise SigcubeError(
                f"inclination cut must satisfy 0 ≤ min ≤ max ≤ 90 deg; got "
                f"[{self.min_inclination}, {self.max_inclination}]"
            )

    def as_dict(self) -> dict:
        d = asdict(self)
        d["quality"] = list(self.quality)
        return d
