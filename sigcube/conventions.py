"""Analysis conventions: mass-to-light ratios and sample cuts, defined once.

The defaults are the ones behind the published SPARC figures (MODEL.md §1 and §5):
Υ_disk = 0.5, Υ_bul = 0.7 at 3.6 μm (Lelli+2016); a galaxy needs ≥ 5 usable points;
points with V_bar ≤ 0, R ≤ 0 or V_obs ≤ 0 are dropped (the galaxy stays); no quality
or inclination cut. Together these give 171 galaxies and 3373 points.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from numbers import Integral, Real
from typing import Any


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

        if not _is_number(self.min_points, Integral) or self.min_points < 1:
            raise SigcubeError(f"min_points must be a whole number ≥ 1; got {self.min_points!r}")
        quality = tuple(self.quality) if isinstance(self.quality, Iterable) else ()
        if not quality or not all(_is_number(q, Integral) for q in quality) or not set(quality) <= {1, 2, 3}:
            raise SigcubeError(f"quality flags must be a non-empty subset of 1, 2, 3; got {self.quality!r}")
        object.__setattr__(self, "quality", quality)
        bounds = [self.min_inclination, self.max_inclination]
        if not all(_is_number(b, Real) for b in bounds) or not 0.0 <= bounds[0] <= bounds[1] <= 90.0:
            raise SigcubeError(f"inclination cut must satisfy 0 ≤ min ≤ max ≤ 90 deg; got {bounds!r}")

    @classmethod
    def of(cls, cuts: SampleCuts | Mapping[str, Any] | None) -> SampleCuts | None:
        """``cuts`` as SampleCuts: a SampleCuts or None as given, a dict of its fields converted (an unknown key
        or a bad value is a SigcubeError naming it)."""
        from sigcube.errors import SigcubeError

        if cuts is None or isinstance(cuts, cls):
            return cuts
        names = [f.name for f in fields(cls)]
        if not isinstance(cuts, Mapping):
            raise SigcubeError(f"cuts must be a SampleCuts or a dict of its fields ({', '.join(names)}); "
                               f"got {type(cuts).__name__}")
        unknown = [k for k in cuts if k not in names]
        if unknown:
            raise SigcubeError(f"cuts: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
                               f"keys: {', '.join(names)}")
        return cls(**cuts)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["quality"] = list(self.quality)
        return d


def _is_number(value: Any, kind: type) -> bool:
    """``value`` is a number of ``kind`` (Integral, Real), not a bool."""
    return isinstance(value, kind) and not isinstance(value, bool)
