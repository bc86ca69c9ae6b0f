"""Per-galaxy nuisance parameters: the catalogue they are centred on, their SPARC priors, and how they change the inputs.

The nuisance parameters, in the order the quadrature uses (inclination last: it moves only the data,
so the kernel is evaluated once for all inclination nodes):

- ``upsilon_disk``, ``upsilon_bul`` — stellar mass-to-light ratios at 3.6 μm [M☉/L☉]
  (``upsilon_bul`` only for galaxies with a bulge: V_bul ≠ 0 at some point);
- ``distance`` D [Mpc]; ``inclination`` i [deg].

Scalings from the catalogue values D0, i0 and the packing's Υ0 (:class:`~sigcube.conventions.MassToLight`):
r ∝ D; V_gas ∝ √D; V_disk ∝ √(D·Υ_disk); V_bul ∝ √(D·Υ_bul); V_bar² = sign(V_gas)V_gas² + V_disk² +
V_bul² (floored at 0 where a small Υ leaves the gas's negative V² in charge: the point stays in the
likelihood with V_bar = 0); V_obs and e_V ∝ q = sin i0/sin i. :data:`INPUT_RULES` declares the rule of every
:class:`~sigcube.model.points.PointSet` input; g_N = V_bar²/r and the Σ kernel's W(r) = r/(ξ + r), ξ = k·R_d, do not
depend on D. An input without a rule is unsupported: :func:`check_inputs` names it.

:data:`SPARC_PRIORS` are the defaults of Li, Lelli, McGaugh & Schombert 2018 (A&A 615, A3):
log10 Υ_disk ~ N(log10 0.5, 0.1), log10 Υ_bul ~ N(log10 0.7, 0.1), D ~ N(D, e_D) truncated at 0,
i ~ N(i, e_i) truncated to (0°, 90°].
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import xarray as xr

from sigcube.constants import ACCEL_KM2_S2_PER_KPC
from sigcube.errors import SigcubeError
from sigcube.model.inputs import (
    RD_SOURCES, baryonic_mass, baryonic_v2, dispersion_weights, omega_d_input, rd_input, stellar_mass,
    stellar_surface_density,
)
from sigcube.model.points import PointSet
from sigcube.model.segments import segment_sum
from sigcube.stats.priors import Prior

NUISANCE_PARAMETERS = ("upsilon_disk", "upsilon_bul", "distance", "inclination")
"""Every nuisance parameter, in quadrature order (inclination last)."""

SYMBOLS = {"upsilon_disk": "Υ_disk", "upsilon_bul": "Υ_bul", "distance": "D [Mpc]", "inclination": "i [deg]"}
"""Report symbols (with units) of the nuisance parameters."""

SPARC_PRIORS: dict[str, dict] = {
    "upsilon_disk": {"dist": "log10_normal", "median": 0.5, "sigma_dex": 0.1},
    "upsilon_bul": {"dist": "log10_normal", "median": 0.7, "sigma_dex": 0.1},
    "distance": {"dist": "truncated_normal", "loc": "distance", "scale": "e_distance", "lower": 0.0},
    "inclination": {"dist": "truncated_normal", "loc": "inclination", "scale": "e_inclination",
                    "lower": 0.0, "upper": 90.0},
}
"""Li+2018 priors as spec dicts (strings name catalogue columns): what a TOML ``[nuisance]`` section holds."""

V2_FLOOR = 1e-6
"""Floor on V_bar² [(km/s)²] when a small Υ makes sign(V_gas)V_gas² + V_disk² + V_bul² ≤ 0."""



class NuisanceError(SigcubeError):
    """A kernel input without a nuisance rule, a catalogue lacking a column, or bad nuisance values."""


@dataclass(frozen=True)
class InputRule:
    """How one point input changes with the nuisance parameters.

    ``kind``: ``length`` (∝ D/D0), ``velocity`` (a baryonic component, ∝ √(D/D0·Υ/Υ0)), ``observed``
    (∝ sin i0/sin i), ``derived`` (recomputed from the transformed components), ``invariant`` (unchanged).
    """

    kind: Literal["length", "velocity", "observed", "derived", "invariant"]
    rule: str
    needs: tuple[str, ...] = ()
    """Catalogue columns the rule reads."""


INPUT_RULES: dict[str, InputRule] = {
    "r": InputRule("length", "r ∝ D"),
    "v_gas": InputRule("velocity", "V_gas ∝ √D (signed)"),
    "v_disk": InputRule("velocity", "V_disk ∝ √(D·Υ_disk)"),
    "v_bul": InputRule("velocity", "V_bul ∝ √(D·Υ_bul)"),
    "v_obs": InputRule("observed", "V_obs ∝ sin i0/sin i"),
    "e_v_obs": InputRule("observed", "e_V ∝ sin i0/sin i"),
    "v_bar": InputRule("derived", "V_bar = √max(sign(V_gas)V_gas² + V_disk² + V_bul², 0) of the scaled components"),
    "g_N": InputRule("derived", "g_N = V_bar²/r: D-invariant, ∝ the Υ-weighted sum"),
    **{rd_input(s): InputRule("length", f"{rd_input(s)} ∝ D") for s in RD_SOURCES},
    **{omega_d_input(s): InputRule("derived", f"V_bar({rd_input(s)})/{rd_input(s)}, V_bar linear in r between "
                                              "the same two points (r and R_d both ∝ D)") for s in RD_SOURCES},
    "V_bar_max": InputRule("derived", "the largest scaled V_bar of the galaxy"),
    **{f"w_{c}": InputRule("derived", f"share of the squared peak |V_{c}| of the scaled components: "
                                      "Υ-dependent, D-invariant") for c in ("gas", "disk", "bul")},
    "f_bulge": InputRule("invariant", "bulge share of ΣV² of the unscaled components (D cancels, no Υ)"),
    "Sigma_gas": InputRule("invariant", "V_gas²/(2πG·r): a surface density, D-invariant"),
    "Sigma_star": InputRule("derived", "Υ_disk·sb_disk + Υ_bul·sb_bul (surface brightness is D-invariant)",
                            ("sb_disk", "sb_bul")),
    "M_b": InputRule("derived", "1e9·(D/D0)²·(Υ_disk·L36 + 1.33·M_HI)", ("L36", "M_HI")),
    "M_star": InputRule("derived", "1e9·(D/D0)²·(Υ_disk·(L36 − L_bul) + Υ_bul·L_bul)", ("L36", "L_bul")),
}
"""The nuisance rule of every PointSet input; an input not listed is unsupported."""


@dataclass(frozen=True)
class Catalogue:
    """Per-galaxy catalogue values for the galaxies of a PointSet, in its order.

    ``columns``: one value per galaxy (``distance`` [Mpc], ``e_distance`` [Mpc], ``inclination`` [deg],
    ``e_inclination`` [deg], optionally ``L36``, ``L_bul`` [1e9 L☉], ``M_HI`` [1e9 M☉]); ``point_columns``: one value
    per packed point (``sb_disk``, ``sb_bul`` [L☉/pc²]), when the cube has them.
    """

    galaxy: np.ndarray
    columns: Mapping[str, np.ndarray]
    point_columns: Mapping[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def from_cube(cls, ds: xr.Dataset, points: PointSet) -> Catalogue:
        """The catalogue of ``points``' galaxies read from the cube they were packed from (by galaxy name)."""
        names = [str(n) for n in ds["galaxy"].values]
        where = {n: i for i, n in enumerate(names)}
        missing = [g for g in points.galaxy if g not in where]
        if missing:
            raise NuisanceError(f"the cube has no galaxy {', '.join(missing[:5])}"
                                + (f" and {len(missing) - 5} more" if len(missing) > 5 else ""))
        rows = np.array([where[g] for g in points.galaxy])
        geometry = ("distance", "e_distance", "inclination", "e_inclination")
        absent = [v for v in geometry if v not in ds]
        if absent:
            raise NuisanceError(f"nuisance parameters need the cube's {', '.join(absent)}")
        columns = {v: np.asarray(ds[v].values[rows], dtype=float) for v in (*geometry, "L36", "L_bul", "M_HI")
                   if v in ds}
        for v in geometry:
            bad = ~np.isfinite(columns[v])
            if bad.any():
                raise NuisanceError(f"{v} is missing for {', '.join(points.galaxy[bad][:5])}: nuisance priors "
                                    "centred on the catalogue need it for every galaxy")
        point_rows = np.repeat(rows, np.diff(points.offsets))
        point_columns = {v: np.asarray(ds[v].values[point_rows, points.radius], dtype=float)
                         for v in ("sb_disk", "sb_bul") if v in ds}
        return cls(np.asarray(points.galaxy), columns, point_columns)

    def take(self, index: np.ndarray, rows: np.ndarray) -> Catalogue:
        """The catalogue of the galaxies ``index`` alone (``rows``: their packed points, ``PointSet.rows(index)``)."""
        return Catalogue(np.asarray(self.galaxy)[index], {k: v[index] for k, v in self.columns.items()},
                         {k: v[rows] for k, v in self.point_columns.items()})


STELLAR_MASS = "M★ = 10⁹·(Υ_disk·(L36 − L_bul) + Υ_bul·L_bul)"
"""The stellar mass the ``M_star`` input holds (:func:`sigcube.model.inputs.stellar_mass`), in words."""


def with_bulge_luminosity(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` with L_bul = 0 for every galaxy that has no bulge (V_bul zero or absent at every radius) and no L_bul:
    a cube of rotation curves whose galaxies table gave no bulge luminosity (SPARC's Table 1 has none) then gives
    M★ for its bulgeless galaxies; a galaxy with a bulge keeps what it had (:func:`check_stellar_light` names it)."""
    n = ds.sizes["galaxy"]
    given = np.asarray(ds["L_bul"].values, dtype=float) if "L_bul" in ds else np.full(n, np.nan)
    bulge = np.nan_to_num(np.abs(np.asarray(ds["v_bul"].values, dtype=float))).max(axis=1) > 0 if "v_bul" in ds \
        else np.zeros(n, dtype=bool)
    filled = np.where(np.isnan(given) & ~bulge, 0.0, given)
    if np.array_equal(filled, given, equal_nan=True):
        return ds
    attrs = dict(ds["L_bul"].attrs) if "L_bul" in ds else {"units": "1e9 solLum",
                                                           "long_name": "bulge luminosity at 3.6 μm"}
    return ds.assign(L_bul=(("galaxy",), filled, attrs))


def check_stellar_light(ds: xr.Dataset, galaxies: Sequence[str], who: str) -> None:
    """Raise NuisanceError naming the galaxies of ``galaxies`` whose M★ (:data:`STELLAR_MASS`, read by ``who``)
    cannot be formed from ``ds``: L36 absent or ≤ 0, or a bulge (V_bul ≠ 0) without L_bul — and how to give it."""
    where = {str(g): i for i, g in enumerate(ds["galaxy"].values)}
    rows = np.array([where[str(g)] for g in galaxies], dtype=np.int64)
    names = np.asarray([str(g) for g in galaxies], dtype=object)

    def listed(bad: np.ndarray) -> str:
        shown = ", ".join(names[bad][:5])
        return shown + (f" and {int(bad.sum()) - 5} more" if bad.sum() > 5 else "")

    light = np.asarray(ds["L36"].values, dtype=float)[rows] if "L36" in ds else np.full(len(rows), np.nan)
    dark = ~(light > 0)
    if dark.any():
        raise NuisanceError(f"{who} reads M★ ({STELLAR_MASS}), which needs each galaxy's 3.6 μm luminosity L36 > 0; "
                            f"{int(dark.sum())} of {len(rows)} galaxies have none or 0: {listed(dark)} (give L36 "
                            "[1e9 L☉] in the --galaxies table of `sigcube ingest table`, e.g. SPARC's Table 1)")
    bulge = np.asarray(ds["L_bul"].values, dtype=float)[rows] if "L_bul" in ds else np.full(len(rows), np.nan)
    unknown = ~np.isfinite(bulge)
    if unknown.any():
        raise NuisanceError(f"{who} reads M★ ({STELLAR_MASS}), and {int(unknown.sum())} galaxies with a bulge "
                            f"(V_bul ≠ 0) have no bulge luminosity L_bul: {listed(unknown)} (give an L_bul column "
                            "[1e9 L☉] in the --galaxies table of `sigcube ingest table` — for SPARC galaxies, the "
                            "L_bul of SPARC's Bulges file, sparc/Bulges.dat — or use `sigcube ingest sparc`)")


def sparc_priors(catalogue: Catalogue, specs: Mapping[str, Mapping] | None = None) -> dict[str, Prior]:
    """Priors of the nuisance parameters, bound to ``catalogue`` (default :data:`SPARC_PRIORS`).

    ``specs`` maps a nuisance parameter to its prior spec dict; a parameter left out is held at its
    catalogue (D, i) or packing (Υ) value.
    """
    specs = SPARC_PRIORS if specs is None else specs
    unknown = sorted(set(specs) - set(NUISANCE_PARAMETERS))
    if unknown:
        raise NuisanceError(f"unknown nuisance parameter(s) {', '.join(unknown)}; "
                            f"choose from {', '.join(NUISANCE_PARAMETERS)}")
    return {name: Prior.from_spec(specs[name], catalogue.columns, name) for name in NUISANCE_PARAMETERS
            if name in specs}


def describe_priors(priors: Mapping[str, Prior]) -> list[str]:
    """One report line per nuisance prior, e.g. ``log10 Υ_disk ~ N(log10 0.5, 0.1)``."""
    lines = [priors[name].describe(SYMBOLS[name]) for name in NUISANCE_PARAMETERS if name in priors]
    if "upsilon_bul" in priors:
        lines[list(p for p in NUISANCE_PARAMETERS if p in priors).index("upsilon_bul")] += " (galaxies with a bulge)"
    return lines


class NuisanceTransform:
    """The point inputs of a set of galaxies at any nuisance values, vectorised over a leading axis.

    Built once per (PointSet, catalogue, kernel inputs); :meth:`__call__` maps nuisance values — arrays
    broadcastable to (m, n_galaxies), a parameter left out at its base value — to every requested input
    and ``v_obs``, ``e_v_obs``, each broadcast to (m, n_points). The quadrature calls the two halves
    separately: :meth:`kernel_inputs` (Υ, D) and :meth:`inclination_factor` (i).
    """

    def __init__(self, points: PointSet, catalogue: Catalogue, inputs: Sequence[str]) -> None:
        if list(catalogue.galaxy) != list(points.galaxy):
            raise NuisanceError("the catalogue's galaxies are not the PointSet's (build it with Catalogue.from_cube)")
        self.inputs = tuple(dict.fromkeys(inputs))
        check_inputs(self.inputs, catalogue)
        self.points = points
        self.catalogue = catalogue
        p = points.inputs
        ml = points.mass_to_light
        self.offsets = np.asarray(points.offsets)
        self.counts = np.diff(self.offsets)
        self.r0, self.v_obs, self.e_v_obs = p["r"], p["v_obs"], p["e_v_obs"]
        self.upsilon0 = {"upsilon_disk": ml.upsilon_disk, "upsilon_bul": ml.upsilon_bul}
        # components at Υ = 1 and the catalogue distance
        self.unit = {"v_gas": p["v_gas"], "v_disk": p["v_disk"] / np.sqrt(ml.upsilon_disk),
                     "v_bul": p["v_bul"] / np.sqrt(ml.upsilon_bul)}
        self.gas2 = np.sign(p["v_gas"]) * p["v_gas"] ** 2
        self.disk2 = self.unit["v_disk"] ** 2
        self.bul2 = self.unit["v_bul"] ** 2
        self.distance0 = np.asarray(catalogue.columns["distance"], dtype=float)
        self.sin_i0 = np.sin(np.radians(catalogue.columns["inclination"]))
        starts = self.offsets[:-1]
        self.has_bulge = segment_sum(self.bul2, self.offsets) > 0
        self.peaks = {c: np.maximum.reduceat(x, starts) for c, x in
                      (("gas", np.abs(self.gas2)), ("disk", self.disk2), ("bul", self.bul2))}
        self.interp = {s: _interpolation(self.r0, p[rd_input(s)][starts], self.offsets)
                       for s in RD_SOURCES if omega_d_input(s) in self.inputs}
        """Per R_d source whose Ω_d is an input: each galaxy's point j and weight t of V_bar(R_d)."""

    @property
    def galaxy(self) -> np.ndarray:
        return np.asarray(self.points.galaxy)

    @property
    def n_galaxies(self) -> int:
        return len(self.counts)

    @property
    def n_points(self) -> int:
        return int(self.offsets[-1])

    def take(self, index: np.ndarray) -> NuisanceTransform:
        """The transform of the galaxies ``index`` (their points only), for the same inputs."""
        index = np.asarray(index, dtype=np.int64)
        return NuisanceTransform(self.points.take(index), self.catalogue.take(index, self.points.rows(index)),
                                 self.inputs)

    def to_points(self, per_galaxy: np.ndarray) -> np.ndarray:
        """(…, n_galaxies) → (…, n_points): each galaxy's value on each of its points."""
        return np.repeat(per_galaxy, self.counts, axis=-1)

    def per_galaxy(self, name: str, value: np.ndarray | float) -> np.ndarray:
        """``value`` as a float array whose last axis runs over the galaxies (a scalar: the same for all)."""
        a = np.asarray(value, dtype=float)
        if a.ndim == 0:
            return np.full(self.n_galaxies, float(a))
        if a.shape[-1] not in (1, self.n_galaxies):
            raise NuisanceError(f"nuisance {name!r} has shape {a.shape}: its last axis must run over the "
                                f"{self.n_galaxies} galaxies (shape (m, {self.n_galaxies}))")
        return np.broadcast_to(a, a.shape[:-1] + (self.n_galaxies,))

    def inclination_factor(self, inclination: np.ndarray | float) -> np.ndarray:
        """q = sin i0/sin i per galaxy, ``inclination`` [deg]: V_obs' = q·V_obs and e_V' = q·e_V."""
        return self.sin_i0 / np.sin(np.radians(self.per_galaxy("inclination", inclination)))

    def inverse_inclination_factor(self, inclination: np.ndarray | float) -> np.ndarray:
        """1/q = sin i/sin i0 per galaxy (finite at i = 0)."""
        return np.sin(np.radians(self.per_galaxy("inclination", inclination))) / self.sin_i0

    def kernel_inputs(self, values: Mapping[str, np.ndarray | float]) -> dict[str, np.ndarray]:
        """The kernel's inputs at ``values`` of ``upsilon_disk``, ``upsilon_bul`` [M☉/L☉], ``distance`` [Mpc]
        (each broadcastable to (m, n_galaxies); left out: the base value), broadcastable to (m, n_points)."""
        state = _Inputs(self, {k: self.per_galaxy(k, v) for k, v in values.items() if k != "inclination"})
        return {name: state.get(name) for name in self.inputs}

    def __call__(self, values: Mapping[str, np.ndarray | float]) -> dict[str, np.ndarray]:
        """Every requested input plus ``v_obs`` and ``e_v_obs`` at nuisance ``values`` (``inclination`` [deg]
        included), each shaped (m, n_points)."""
        unknown = sorted(set(values) - set(NUISANCE_PARAMETERS))
        if unknown:
            raise NuisanceError(f"unknown nuisance parameter(s) {', '.join(unknown)}; "
                                f"choose from {', '.join(NUISANCE_PARAMETERS)}")
        out = self.kernel_inputs(values)
        q = self.to_points(self.inclination_factor(values.get("inclination", self.catalogue.columns["inclination"])))
        out["v_obs"], out["e_v_obs"] = q * self.v_obs, q * self.e_v_obs
        lead = np.broadcast_shapes(*(np.shape(v) for v in out.values()))
        return {k: np.broadcast_to(v, lead) for k, v in out.items()}


UNSUPPORTED: dict[str, str] = {
    "g_obs": "it is the observed V_obs²/r, the data the likelihood compares the prediction with",
}
"""Inputs known to have no nuisance rule, with the reason."""


def check_inputs(inputs: Sequence[str], catalogue: Catalogue | None = None, kernel: str | None = None) -> None:
    """Raise NuisanceError naming every input without a nuisance rule, or whose rule lacks catalogue columns."""
    who = f"kernel {kernel!r}" if kernel else "the kernel"
    unsupported = [name for name in inputs if name not in INPUT_RULES]
    if unsupported:
        reasons = "; ".join(f"{name}: {UNSUPPORTED.get(name, 'no rule for how it changes with Υ, D or i')}"
                            for name in unsupported)
        raise NuisanceError(f"{who} reads {', '.join(unsupported)}, which nuisance parameters cannot transform "
                            f"({reasons}); supported inputs: {', '.join(INPUT_RULES)}")
    if catalogue is not None:
        have = {**catalogue.columns, **catalogue.point_columns}
        lacking = {name: [c for c in INPUT_RULES[name].needs if c not in have] for name in inputs}
        lacking = {k: v for k, v in lacking.items() if v}
        if lacking:
            raise NuisanceError(f"{who} reads " + "; ".join(f"{k}, whose nuisance rule needs the catalogue's "
                                                            f"{', '.join(v)}" for k, v in lacking.items()))


def _interpolation(r: np.ndarray, r_d: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per galaxy, the point j and weight t with V(R_d) = (1 − t)·V[j] + t·V[j + 1] (np.interp, held at the ends)."""
    j = np.empty(len(r_d), dtype=np.int64)
    t = np.zeros(len(r_d))
    for g, (a, b) in enumerate(zip(offsets[:-1], offsets[1:])):
        k = int(np.searchsorted(r[a:b], r_d[g]))
        if k == 0 or k == b - a:
            j[g] = a if k == 0 else b - 1
            continue
        j[g] = a + k - 1
        t[g] = (r_d[g] - r[a + k - 1]) / (r[a + k] - r[a + k - 1])
    return j, t


class _Inputs:
    """The inputs at one set of nuisance values, each built on first request (they share V_bar and r)."""

    def __init__(self, t: NuisanceTransform, values: Mapping[str, np.ndarray]) -> None:
        self.t = t
        self.upsilon_disk = values.get("upsilon_disk", np.asarray(t.upsilon0["upsilon_disk"]))
        self.upsilon_bul = values.get("upsilon_bul", np.asarray(t.upsilon0["upsilon_bul"]))
        self.d = values["distance"] / t.distance0 if "distance" in values else None
        self.cache: dict[str, np.ndarray] = {}

    def points(self, x: np.ndarray) -> np.ndarray:
        return self.t.to_points(x) if np.ndim(x) else x

    def get(self, name: str) -> np.ndarray:
        if name not in self.cache:
            build = _BUILDERS.get(name)
            self.cache[name] = build(self) if build else self._other(name)
        return self.cache[name]

    def _length(self, base: np.ndarray) -> np.ndarray:
        return base if self.d is None else base * self.points(self.d)

    def _sqrt_d(self) -> np.ndarray | float:
        if "sqrt_d" not in self.cache:
            self.cache["sqrt_d"] = 1.0 if self.d is None else self.points(np.sqrt(self.d))
        return self.cache["sqrt_d"]

    def _u2(self) -> np.ndarray:
        """V_bar²·D0/D, floored: sign(V_gas)V_gas² + Υ_disk·V_disk1² + Υ_bul·V_bul1² at the catalogue distance."""
        t = self.t
        return np.maximum(baryonic_v2(t.gas2, t.disk2, t.bul2, self.points(self.upsilon_disk),
                                      self.points(self.upsilon_bul)), V2_FLOOR)

    def _r(self):
        return self._length(self.t.r0)

    def _v_bar(self):
        v2 = self.get("u2") if self.d is None else self.get("u2") * self.points(self.d)
        return np.sqrt(v2)

    def _g_N(self):
        return self.get("u2") * (ACCEL_KM2_S2_PER_KPC / self.t.r0)

    def _v_gas(self):
        return self.t.unit["v_gas"] * self._sqrt_d()

    def _v_disk(self):
        return self.t.unit["v_disk"] * (self.points(np.sqrt(self.upsilon_disk)) * self._sqrt_d())

    def _v_bul(self):
        return self.t.unit["v_bul"] * (self.points(np.sqrt(self.upsilon_bul)) * self._sqrt_d())

    def _V_bar_max(self):
        return self.t.to_points(np.maximum.reduceat(self.get("v_bar"), self.t.offsets[:-1], axis=-1))

    def _shares(self) -> dict[str, np.ndarray]:
        peaks = self.t.peaks
        weights = dispersion_weights(peaks["gas"], self.upsilon_disk * peaks["disk"], self.upsilon_bul * peaks["bul"])
        return dict(zip(("gas", "disk", "bul"), weights))

    def _Sigma_star(self):
        sb = self.t.catalogue.point_columns
        return stellar_surface_density(self.points(self.upsilon_disk), self.points(self.upsilon_bul), sb["sb_disk"],
                                       sb["sb_bul"])

    def _M_b(self):
        c = self.t.catalogue.columns
        return self.points(baryonic_mass(self.upsilon_disk, c["L36"], c["M_HI"], 1.0 if self.d is None else self.d))

    def _M_star(self):
        c = self.t.catalogue.columns
        return self.points(stellar_mass(self.upsilon_disk, self.upsilon_bul, c["L36"], c["L_bul"],
                                        1.0 if self.d is None else self.d))

    def _other(self, name: str) -> np.ndarray:
        t = self.t
        if name.startswith("w_"):
            if "shares" not in self.cache:
                self.cache["shares"] = self._shares()
            return self.points(self.cache["shares"][name[2:]])
        for source in RD_SOURCES:
            if name == rd_input(source):
                return self._length(t.points.inputs[name])
            if name == omega_d_input(source):
                j, w = t.interp[source]
                v = self.get("v_bar")
                v_at = (1.0 - w) * v[..., j] + w * v[..., np.minimum(j + 1, t.n_points - 1)]
                r_d = t.points.inputs[rd_input(source)][t.offsets[:-1]]
                return self.points(v_at / (r_d if self.d is None else r_d * self.d))
        return t.points.inputs[name]  # invariant: f_bulge, Sigma_gas


_BUILDERS = {"u2": _Inputs._u2, "r": _Inputs._r, "v_bar": _Inputs._v_bar, "g_N": _Inputs._g_N,
             "v_gas": _Inputs._v_gas, "v_disk": _Inputs._v_disk, "v_bul": _Inputs._v_bul,
             "V_bar_max": _Inputs._V_bar_max, "Sigma_star": _Inputs._Sigma_star, "M_b": _Inputs._M_b,
             "M_star": _Inputs._M_star}
"""Inputs with their own builder; the rest (R_d, Ω_d, w_*, invariants) go through ``_Inputs._other``."""
