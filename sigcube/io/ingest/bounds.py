"""The physical bounds of the rotation-curve columns, declared once and checked by every reader of them.

A value outside its column's range is not physical (an error of 0, an inclination of 0° or 120°, a radius of 0) or
is no galaxy's (10³⁰⁸ km/s), and would reach the kernels, metrics and fits as an infinity or a division by zero.
``sigcube ingest table`` (:mod:`sigcube.io.ingest.user_table`) and the SPARC readers (:mod:`~sigcube.io.ingest.rotmod`,
:mod:`~sigcube.io.ingest.sparc_table1`) refuse it with one line naming the column. Each bound is in the unit of the cube's
schema (:mod:`sigcube.io.schema`) and well outside the public SPARC values (their extremes are in each reason).
A NaN (a missing optional value) is not checked here: whether a column may be missing is its reader's rule. What
the sample drops later — V_obs ≤ 0 and V_bar ≤ 0 (:mod:`sigcube.io.rotation_curves`) — is allowed here: the velocities are
signed (SPARC's V_gas < 0 where the gas pulls outward).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sigcube.io.layouts import CURVE_VARIABLES, GEOMETRY_VARIABLES, MASS_VARIABLES

_SPEC = {**CURVE_VARIABLES, **GEOMETRY_VARIABLES, **MASS_VARIABLES}


@dataclass(frozen=True)
class Bound:
    """Allowed values of the column ``name`` in its schema unit: ``low ≤ x ≤ high`` (``low < x`` when
    ``open_low``), and why."""

    name: str
    low: float
    high: float
    why: str
    open_low: bool = False

    @property
    def unit(self) -> str:
        """The column's unit as written in messages (``km/s``, ``kpc``)."""
        return _SPEC[self.name].units.replace(" / ", "/")

    @property
    def text(self) -> str:
        """The range in words: ``0 < r ≤ 10000 kpc``, ``|v_gas| ≤ 10000 km/s``."""
        if self.low == -self.high:
            return f"|{self.name}| ≤ {self.high:g} {self.unit}"
        return f"{self.low:g} {'<' if self.open_low else '≤'} {self.name} ≤ {self.high:g} {self.unit}"

    def outside(self, values: np.ndarray) -> np.ndarray:
        """Flags of the values outside the range (±inf included, NaN not)."""
        values = np.asarray(values, dtype=float)
        return (values < self.low) | (values > self.high) | ((values == self.low) & self.open_low)

    def problem(self, value: float) -> str:
        """Why ``value`` (outside the range) is refused: ``0 km/s is outside 0.001 ≤ e_v_obs ≤ … (reason)``."""
        verdict = ("is not finite" if not np.isfinite(value) else
                   "is negative" if value < 0 <= self.low else "is outside")
        return f"{value:g} {self.unit} {verdict}: allowed {self.text} ({self.why})"


_VELOCITY = "signed; 10⁴ km/s is far above any galaxy's rotation (the fastest ≈ 600 km/s; SPARC: |V| ≤ 389 km/s)"

BOUNDS: dict[str, Bound] = {b.name: b for b in (
    Bound("r", 0.0, 1e4, "a radius is positive; 10⁴ kpc is beyond any halo (SPARC: 0.08–108 kpc)", open_low=True),
    Bound("v_obs", -1e4, 1e4, f"{_VELOCITY}; V_obs ≤ 0 is dropped by the sample"),
    Bound("e_v_obs", 1e-3, 1e4, "no velocity is measured to better than 1 m/s, and χ² divides by e_V² "
                                "(SPARC: 0.2–75 km/s)"),
    Bound("v_gas", -1e4, 1e4, _VELOCITY),
    Bound("v_disk", -1e4, 1e4, _VELOCITY),
    Bound("v_bul", -1e4, 1e4, _VELOCITY),
    Bound("sb_disk", 0.0, 1e8, "a surface brightness is ≥ 0; 10⁸ L☉/pc² is above the densest star clusters "
                               "(SPARC ≤ 5.1·10⁴)"),
    Bound("sb_bul", 0.0, 1e8, "a surface brightness is ≥ 0; 10⁸ L☉/pc² is above the densest star clusters "
                              "(SPARC ≤ 5.1·10⁴)"),
    Bound("distance", 0.0, 1e5, "a distance is positive; 10⁵ Mpc is the luminosity distance of z ≈ 10 "
                                "(SPARC: 0.98–128 Mpc)", open_low=True),
    Bound("e_distance", 1e-5, 1e5, "the distance prior's width must be > 0; no galaxy's distance is known to 10 pc "
                                   "(SPARC: 0.05–12.8 Mpc)"),
    Bound("inclination", 0.0, 90.0, "i = 0 (face-on) makes the deprojection 1/sin i infinite and an inclination is "
                                    "at most 90° (SPARC: 15–90°)", open_low=True),
    Bound("e_inclination", 1e-2, 90.0, "the inclination prior's width must be > 0 (SPARC: 1–10°)"),
    Bound("L36", 0.0, 1e4, "a luminosity is ≥ 0; 10¹³ L☉ is above the most luminous galaxies (SPARC ≤ 490·10⁹ L☉)"),
    Bound("L_bul", 0.0, 1e4, "a luminosity is ≥ 0; 10¹³ L☉ is above the most luminous galaxies "
                             "(SPARC's bulges ≤ 107·10⁹ L☉)"),
    Bound("R_disk", 0.0, 1e3, "a scale length is positive; 10³ kpc is over ten times Malin 1's (SPARC: 0.18–18.8 kpc)",
          open_low=True),
    Bound("M_HI", 0.0, 1e4, "a mass is ≥ 0; 10¹³ M☉ of HI is a hundred times the richest (SPARC ≤ 40·10⁹ M☉)"),
)}
"""Every rotation-curve column's bound, by its sigcube name."""
