"""The multivariate normal likelihood of a deprojected weak-lensing mass profile M(<r), with its published
correlation matrix.

One object (a cluster) has n radial bins with measured enclosed masses M_k, statistical errors σ_k, the correlation
matrix ρ of M between the bins and, optionally, systematic errors s_k. The covariance is

    C_ij = ρ_ij·e_i·e_j,   e_k = σ_k                (``errors = "stat"``: the published statistical errors)
                           e_k = √(σ_k² + s_k²)     (``errors = "stat+syst"``: s_k = ½(s_k⁺ + s_k⁻) added in
                                                      quadrature, with the same correlation matrix)

and, with d = M_pred − M and C = L Lᵀ (Cholesky), r = L⁻¹d:

    ln L = −½ rᵀr − Σ_k ln L_kk − (n/2) ln 2π,   χ² = rᵀr.

Neither error model has a published correlation for the systematic part; ``stat+syst`` treats it like the
statistical part (correlated as ρ), which is an assumption, stated wherever it is used.

The cluster prediction's choices are named options (:class:`ClusterSystematics`, each stated in words by
:meth:`ClusterSystematics.describe`), of two kinds.

**Data systematics** (:data:`DATA_OPTIONS`), each sized from a cited source (:data:`SOURCES`, :func:`cited_size`):
the lensing error model above; the baryonic mass M_bar(<r_k) → M_bar(<r_k)·10^(δ_k), δ_k = z_T·e_k + z_G·σ_G +
log10(1 + f) with e_k Tian+2020's log g_bar error at r_k (``baryons = "tian"``; z_T one standard normal per cluster:
the error moves every radius of a cluster together), σ_G a gas-mass calibration systematic (z_G per cluster or one
shared by every cluster) and f ≥ 0 the baryons the catalogue may leave out (member galaxies other than the BCG,
intracluster light), uniform on [0, f_max], one f per cluster or one shared; and a log-normal scatter σ_L of each
cluster's path length about its rule.

**Model choices** of Σ-Gravity (:data:`MODEL_OPTIONS`), not data systematics: the paper's lensing slip (SI §11, paper
§4.3), under which lensing sees of a dynamical mass Σ·M_bar

    M_lens/M_dyn = (5Σ − 3)/(2(3Σ − 2)),   η = Ψ/Φ = (2Σ − 1)/(3Σ − 2);

and the rule for the cluster path length L: the fixed parameter (600 kpc, paper §2.12, SI §1) or L = 2·r at each
lensing radius (paper §2.12.1: "L ≈ 2 × R_lens").

Every per-cluster nuisance is a standard normal z integrated by Gauss–Hermite quadrature (f = f_max·Φ(z) for the
missing baryons); the nuisances shared by every cluster add up to one shift s of log10 M_bar whose prior density
(:class:`SharedShift`) is integrated on a grid in s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sigcube.errors import SigcubeError

ERROR_MODELS = ("stat", "stat+syst")
"""The error models of :func:`lensing_covariance`."""
BARYON_MODELS = ("exact", "tian")
"""``exact``: M_bar(<r) without error; ``tian``: Tian+2020's log g_bar errors as a per-cluster shift (module
docstring)."""
SCOPES = ("cluster", "shared")
"""Whether a baryon systematic is one nuisance per cluster or one shared by every cluster."""
PATH_LENGTHS = ("fixed", "diameter")
"""``fixed``: L as given for every cluster (paper §2.12, SI §1: 600 kpc); ``diameter``: the paper's rule L = 2·r at
each lensing radius (paper §2.12.1: "L ≈ 2 × R_lens"). Either times 10^(z·σ_L) per cluster when ``path_scatter_dex``
is set."""
MODEL_OPTIONS = ("slip", "path_length")
"""The options that are choices of Σ-Gravity's own model, not data systematics: reported apart from them."""
DATA_OPTIONS = ("errors", "baryons", "gas_dex", "gas_scope", "missing_baryons", "missing_scope", "path_scatter_dex")
"""The options that are systematics of the data (each sized from :data:`SOURCES`)."""
CITED = "cited"
"""The value of a size option that asks for its cited size (:func:`cited_size`)."""

# --- the cited sizes (literature, not seed figures) ----------------------------------------------------------------

GAS_SCATTER_FRACTION = 0.03
"""Martino+2014 (MNRAS 443, 2342, abstract): the intrinsic scatter of the Chandra-to-XMM-Newton gas-mass ratio
at r500 of 21 clusters analysed alike, ~3 per cent: an instrument calibration that differs from cluster to cluster."""
GAS_OFFSET_FRACTION = 0.02
"""Martino+2014 (same place): the mean Chandra-to-XMM gas-mass ratio at r500 is 0.99 ± 0.02: a calibration common to
every cluster is known to ~2 per cent. Donahue+2014 (ApJ 794, 136, abstract) find the CLASH clusters' Chandra and XMM
gas-mass profiles 'nearly identical'."""
STELLAR_FRACTION, ICM_FRACTION, BCG_FRACTION = 0.011, 0.096, 0.0012
"""Chiu+2016 (MNRAS 455, 258, abstract): at M500 = 6×10¹⁴ M☉ the stars in galaxies are 1.1 ± 0.1 % of the halo mass,
the intracluster medium 9.6 ± 0.5 %, the BCG 0.12 ± 0.01 %."""
ICL_FRACTION_MAX = 0.20
"""Morishita+2017 (ApJ 846, 139, abstract): the intracluster light is 5–20 % of the Hubble Frontier Fields clusters'
total stellar mass; its upper end."""
AXIS_RATIO = 0.652
"""Chiu+2018 (CLUMP-3D, ApJ 860, 126, abstract): the CLASH clusters' joint minor-to-major axis ratio q_a = 0.652
(+0.162, −0.078), with a preference for prolate shapes; Sereno+2018 (ApJ 860, L4): the CLASH clusters are randomly
oriented."""


def missing_baryon_fraction() -> float:
    """f_max: the stellar mass in member galaxies other than the BCG plus the intracluster light, over the gas mass,
    (f★ − f_BCG + f★·ICL/(1 − ICL))/f_ICM with Chiu+2016's fractions and Morishita+2017's largest ICL share (0.131):
    what M_bar(<r) leaves out if the catalogue counts gas and BCG only; 0 if it counts them all."""
    icl = STELLAR_FRACTION * ICL_FRACTION_MAX / (1.0 - ICL_FRACTION_MAX)
    return (STELLAR_FRACTION - BCG_FRACTION + icl) / ICM_FRACTION


def chord_scatter_dex(q: float = AXIS_RATIO, nodes: int = 400) -> float:
    """The standard deviation [dex] of log10 of a prolate spheroid's central chord (axis ratio ``q``) over isotropic
    orientations: the chord along a direction at cos θ = μ to the long axis is ∝ (μ² + (1 − μ²)/q²)^(−1/2), μ uniform on
    [0, 1] (Gauss–Legendre, ``nodes`` points). The line-of-sight depth of a randomly oriented CLASH cluster
    (:data:`AXIS_RATIO`) scatters by 0.051 dex about its mean."""
    x, w = np.polynomial.legendre.leggauss(nodes)
    mu, w = 0.5 * (x + 1.0), 0.5 * w
    log_l = -0.5 * np.log10(mu**2 + (1.0 - mu**2) / q**2)
    mean = float(w @ log_l)
    return float(np.sqrt(w @ (log_l - mean) ** 2))


GAS_DEX = {"cluster": math.log10(1.0 + GAS_SCATTER_FRACTION), "shared": math.log10(1.0 + GAS_OFFSET_FRACTION)}
"""The cited gas-mass systematic σ_G [dex] by scope (:data:`GAS_SCATTER_FRACTION`, :data:`GAS_OFFSET_FRACTION`)."""

SOURCES = {
    "errors": "Mistele+2025 (arXiv:2506.13716) publish each bin's systematic lensing error s⁺, s⁻ beside the "
              "statistical one (their data release)",
    "baryons": "Tian+2020 (ApJ 896, 70; CDS J/ApJ/896/70 fig2.dat) publish each radius's log g_bar error",
    "gas_dex": f"Chandra/XMM-Newton gas-mass calibration, Martino+2014 (MNRAS 443, 2342): ~3 % scatter per cluster "
               f"(σ_G = {GAS_DEX['cluster']:.4f} dex), mean ratio 0.99 ± 0.02 common to all (σ_G = "
               f"{GAS_DEX['shared']:.4f} dex); Donahue+2014 (ApJ 794, 136): CLASH's Chandra and XMM gas-mass profiles "
               "'nearly identical'",
    "missing_baryons": f"member galaxies other than the BCG and intracluster light over the gas: Chiu+2016 (MNRAS 455, "
                       f"258) f★ = 1.1 %, f_ICM = 9.6 %, f_BCG = 0.12 % of M500; Morishita+2017 (ApJ 846, 139) ICL "
                       f"≤ 20 % of the stellar mass: f_max = {missing_baryon_fraction():.3f}. Tian+2020's abstract "
                       "says it accounts for 'the stellar baryonic component in clusters'; how is not checked here, so "
                       "f runs from 0 (counted) to f_max (not counted)",
    "path_scatter_dex": f"line-of-sight depth of a randomly oriented prolate cluster with CLASH's axis ratio q_a = "
                        f"{AXIS_RATIO} (Chiu+2018, ApJ 860, 126; random orientation: Sereno+2018, ApJ 860, L4): "
                        f"σ_L = {chord_scatter_dex():.3f} dex (`chord_scatter_dex`); the spread of cluster sizes "
                        "about the rule is not included",
    "slip": "Σ-Gravity's own prediction (SI §11, paper §4.3): a model choice",
    "path_length": "the paper's two cluster path lengths, 600 kpc (§2.12, SI §1) and 2·R_lens (§2.12.1): a model choice",
}
"""Where each option's size comes from (literature, not seed figures), or why it is a model choice."""


def cited_size(option: str, scope: str = "cluster") -> float:
    """The cited size of a size option (``gas_dex`` by ``scope``, ``missing_baryons``, ``path_scatter_dex``)."""
    if option == "gas_dex":
        return GAS_DEX[scope]
    if option == "missing_baryons":
        return missing_baryon_fraction()
    if option == "path_scatter_dex":
        return chord_scatter_dex()
    raise LensingError(f"{option} has no cited size; the size options are gas_dex, missing_baryons, path_scatter_dex")


NODE_TOLERANCE = 0.01
"""The node rule: nodes per dimension grow (3, 5, 7, …) until the summed ln L moves by less than this [nat] where the
posterior can have mass."""
MAX_NODES = 21
"""The most Gauss–Hermite nodes per dimension the node rule tries."""
SHARED_TAIL = 8.0
"""A shared Gaussian shift is integrated over ±this many of its standard deviations (the mass outside is below
1e-15)."""
_LOG_2PI = math.log(2.0 * math.pi)
class LensingError(SigcubeError):
    """A covariance that is not positive definite, shapes that disagree, an unknown error model."""


def lensing_covariance(corr: np.ndarray, stat: np.ndarray, syst: np.ndarray | None = None,
                       errors: str = "stat") -> np.ndarray:
    """C_ij = ρ_ij·e_i·e_j (module docstring) for one object: ``corr`` (n, n), ``stat`` (n,) and, for
    ``errors = "stat+syst"``, the symmetric systematic errors ``syst`` (n,), all in the unit of M."""
    if errors not in ERROR_MODELS:
        raise LensingError(f"unknown lensing error model {errors!r}; choose from {', '.join(ERROR_MODELS)}")
    corr, stat = np.asarray(corr, dtype=float), np.asarray(stat, dtype=float)
    if corr.shape != (stat.size, stat.size):
        raise LensingError(f"the correlation matrix is {corr.shape}; {stat.size} errors need a "
                           f"({stat.size}, {stat.size}) matrix")
    e = stat
    if errors == "stat+syst":
        if syst is None:
            raise LensingError("errors = 'stat+syst' needs the systematic errors")
        e = np.sqrt(stat**2 + np.asarray(syst, dtype=float) ** 2)
    return corr * np.outer(e, e)


@dataclass(frozen=True)
class MultivariateNormal:
    """ln L and χ² of predictions against data ``mean`` (n,) with covariance ``cov`` (n, n), by its Cholesky factor L
    and L⁻¹ (computed once: r = L⁻¹d for any number of predictions is then one matrix product)."""

    mean: np.ndarray
    chol: np.ndarray
    chol_inv: np.ndarray

    @classmethod
    def of(cls, mean: np.ndarray, cov: np.ndarray) -> MultivariateNormal:
        try:
            chol = np.linalg.cholesky(np.asarray(cov, dtype=float))
        except np.linalg.LinAlgError:
            raise LensingError("the covariance is not positive definite") from None
        from scipy.linalg import solve_triangular

        return cls(np.asarray(mean, dtype=float), chol, solve_triangular(chol, np.eye(len(chol)), lower=True))

    @property
    def log_norm(self) -> float:
        """−Σ ln L_kk − (n/2) ln 2π = −½ ln det(2πC)."""
        return float(-np.sum(np.log(np.diag(self.chol))) - 0.5 * self.mean.size * _LOG_2PI)

    def chi2(self, pred: np.ndarray) -> np.ndarray:
        """rᵀr with r = L⁻¹(pred − mean), over the leading axes of ``pred`` (..., n)."""
        d = np.asarray(pred, dtype=float) - self.mean
        r = np.einsum("...j,ij->...i", d, self.chol_inv)
        return np.sum(r * r, axis=-1)

    def log_likelihood(self, pred: np.ndarray) -> np.ndarray:
        """ln L = −½χ² − ½ ln det(2πC) over the leading axes of ``pred`` (..., n) [nat]."""
        return self.log_norm - 0.5 * self.chi2(pred)


def lensing_mass_ratio(sigma: np.ndarray | float) -> np.ndarray | float:
    """M_lens/M_dyn = (5Σ − 3)/(2(3Σ − 2)) of a Σ-enhanced mass (SI §11; paper §4.3)."""
    return (5.0 * sigma - 3.0) / (2.0 * (3.0 * sigma - 2.0))


def gravitational_slip(sigma: np.ndarray | float) -> np.ndarray | float:
    """η = Ψ/Φ = (2Σ − 1)/(3Σ − 2) (SI §11; paper §4.3)."""
    return (2.0 * sigma - 1.0) / (3.0 * sigma - 2.0)




@dataclass(frozen=True)
class ClusterSystematics:
    """The named choices of the cluster lensing likelihood (module docstring); :meth:`of` reads them from a spec's
    ``[datasets.likelihood]`` table. A size option given as ``"cited"`` takes its cited size (:func:`cited_size`)."""

    errors: str = "stat"
    baryons: str = "exact"
    gas_dex: float = 0.0
    gas_scope: str = "cluster"
    missing_baryons: float = 0.0
    missing_scope: str = "shared"
    slip: bool = False
    path_length: str = "fixed"
    path_scatter_dex: float = 0.0
    nodes: int | None = None

    @classmethod
    def of(cls, options: dict[str, object] | None) -> ClusterSystematics:
        """The choices of an options table; unknown keys and values are a LensingError naming them."""
        options = dict(options or {})
        known = list(cls.__dataclass_fields__)
        unknown = sorted(set(options) - set(known))
        if unknown:
            raise LensingError(f"unknown lensing option {unknown[0]!r}; the options are {', '.join(known)}")
        for key, choices in (("errors", ERROR_MODELS), ("baryons", BARYON_MODELS), ("gas_scope", SCOPES),
                             ("missing_scope", SCOPES), ("path_length", PATH_LENGTHS)):
            if key in options and options[key] not in choices:
                raise LensingError(f"{key} = {options[key]!r}; choose from {', '.join(choices)}")
        for key, what in (("gas_dex", "a width in dex"), ("path_scatter_dex", "a width in dex"),
                          ("missing_baryons", "the largest missing fraction of M_bar")):
            value = options.get(key, 0.0)
            if value == CITED:
                scope = str(options.get("gas_scope", cls.gas_scope))
                options[key] = cited_size(key, scope)
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 2:
                raise LensingError(f"{key} = {value!r}: {what} between 0 and 2, or \"{CITED}\" for its cited size")
            if key in options:
                options[key] = float(value)
        if "slip" in options and not isinstance(options["slip"], bool):
            raise LensingError(f"slip = {options['slip']!r}: true or false")
        nodes = options.get("nodes")
        if nodes is not None and (isinstance(nodes, bool) or not isinstance(nodes, int) or not 1 <= nodes <= 40):
            raise LensingError(f"nodes = {nodes!r}: Gauss–Hermite nodes per dimension, an integer in 1–40 "
                               "(leave it out for the node rule)")
        return cls(**options)  # type: ignore[arg-type]

    @property
    def cluster_dims(self) -> tuple[str, ...]:
        """The standard-normal nuisances of each cluster: ``tian``, ``gas``, ``missing``, ``path``."""
        return tuple(d for d, on in (("tian", self.baryons == "tian"),
                                     ("gas", self.gas_dex > 0 and self.gas_scope == "cluster"),
                                     ("missing", self.missing_baryons > 0 and self.missing_scope == "cluster"),
                                     ("path", self.path_scatter_dex > 0)) if on)

    @property
    def shared(self) -> SharedShift | None:
        """The shift of log10 M_bar shared by every cluster (None without a shared nuisance)."""
        gas = self.gas_dex if self.gas_scope == "shared" else 0.0
        missing = self.missing_baryons if self.missing_scope == "shared" else 0.0
        return SharedShift(gas, missing) if gas > 0 or missing > 0 else None

    @property
    def marginalises(self) -> bool:
        """Whether any nuisance is integrated or L varies by radius (else the prediction is the kernel's at the
        catalogue M_bar)."""
        return bool(self.cluster_dims or self.shared or self.path_length == "diameter")

    def as_dict(self) -> dict[str, object]:
        return {f: getattr(self, f) for f in self.__dataclass_fields__}

    def sources(self) -> dict[str, str]:
        """Where the size of each systematic in effect comes from, or why an option is a model choice (:data:`SOURCES`)."""
        on = {"errors": self.errors != "stat", "baryons": self.baryons != "exact", "gas_dex": self.gas_dex > 0,
              "missing_baryons": self.missing_baryons > 0, "path_scatter_dex": self.path_scatter_dex > 0,
              "slip": self.slip, "path_length": self.path_length != "fixed"}
        return {k: SOURCES[k] for k, v in on.items() if v}

    def describe(self) -> str:
        """Every choice in words."""
        parts = (["Tian+2020's log g_bar error e_k at each radius, one z_T per cluster (fully correlated over a "
                  "cluster's radii)"] if self.baryons == "tian" else [])
        if self.gas_dex > 0:
            parts.append(f"a gas-mass systematic σ_G = {self.gas_dex:.3g} dex, one z_G "
                         + ("per cluster" if self.gas_scope == "cluster" else "shared by every cluster"))
        if self.missing_baryons > 0:
            parts.append(f"missing baryons M_bar·(1 + f), f uniform on [0, {self.missing_baryons:.3g}] (M_bar ≥ the "
                         "catalogue's, the same f at every radius), one f "
                         + ("per cluster" if self.missing_scope == "cluster" else "shared by every cluster"))
        baryons = ("M_bar(<r) without error" if not parts else
                   "M_bar(<r_k)·10^δ_k with δ_k from " + " and ".join(parts) + ", each marginalised")
        slip = ("model choice: the lensing slip on, M_lens = M_dyn·(5Σ − 3)/(2(3Σ − 2)) (SI §11)" if self.slip
                else "no lensing slip (M_lens = M_dyn = Σ·M_bar)")
        rule = ("the fixed parameter L for every cluster" if self.path_length == "fixed" else
                "model choice: L = 2·r at each lensing radius (paper §2.12.1: L ≈ 2 × R_lens)")
        spread = (f", times 10^(z_L·{self.path_scatter_dex:.3g}), one z_L ~ N(0, 1) per cluster marginalised"
                  if self.path_scatter_dex > 0 else "")
        shared = self.shared
        nodes = ((f"{self.nodes} Gauss–Hermite nodes per cluster nuisance dimension" if self.nodes else
                  f"Gauss–Hermite nodes per cluster nuisance dimension by the node rule (3, 5, 7, … until the summed "
                  f"ln L moves < {NODE_TOLERANCE:g} nat)") + ("" if shared is None else "; " + shared.describe())
                 ) if self.marginalises else "no nuisance integral"
        return f"{describe(self.errors)}; baryons: {baryons}; {slip}; path length: {rule}{spread}; {nodes}"


@dataclass(frozen=True)
class SharedShift:
    """The shift s of log10 M_bar shared by every cluster: s = z·σ_G + log10(1 + f), z ~ N(0, 1) (a shared gas-mass
    calibration ``gas_dex``) and f uniform on [0, f_max] (shared missing baryons ``missing_fraction``); its prior
    density in s is their convolution, integrated on a grid in s (the summed ln L(s) a cubic spline through the grid:
    smooth in s, however narrow exp of it is)."""

    gas_dex: float
    missing_fraction: float

    @property
    def support(self) -> tuple[float, float]:
        """Where the density is above ~1e-15 of its peak [dex]."""
        top = math.log10(1.0 + self.missing_fraction)
        return -SHARED_TAIL * self.gas_dex, top + SHARED_TAIL * self.gas_dex

    def log_density(self, s: np.ndarray) -> np.ndarray:
        """ln p(s) [per dex] on the support (−∞ outside it)."""
        s = np.asarray(s, dtype=float)
        lo, hi = self.support
        inside = (s >= lo) & (s <= hi)
        top = math.log10(1.0 + self.missing_fraction)
        if self.missing_fraction == 0:  # a normal of width σ_G
            out = -0.5 * (s / self.gas_dex) ** 2 - math.log(self.gas_dex) - 0.5 * _LOG_2PI
        elif self.gas_dex == 0:  # t = log10(1 + f), f uniform: p(t) = ln 10·10^t / f_max on [0, top]
            out = math.log(math.log(10.0)) + s * math.log(10.0) - math.log(self.missing_fraction)
        else:  # p(s) = ∫ p_missing(t) φ((s − t)/σ_G)/σ_G dt over [0, top] (Gauss–Legendre, 64 points)
            x, w = np.polynomial.legendre.leggauss(64)
            t, w = 0.5 * top * (x + 1.0), 0.5 * top * w
            p_t = math.log(10.0) * 10.0**t / self.missing_fraction
            z = (s[..., None] - t) / self.gas_dex
            with np.errstate(divide="ignore"):
                out = np.log(np.sum(w * p_t * np.exp(-0.5 * z**2), axis=-1) / (self.gas_dex * math.sqrt(2 * math.pi)))
        return np.where(inside, out, -np.inf)

    def describe(self) -> str:
        lo, hi = self.support
        parts = ([f"z·{self.gas_dex:.3g} dex, z ~ N(0, 1)"] if self.gas_dex > 0 else []) + (
            [f"log10(1 + f), f uniform on [0, {self.missing_fraction:.3g}]"] if self.missing_fraction > 0 else [])
        return (f"the shared shift s = {' + '.join(parts)} of log10 M_bar on a grid over [{lo:.3g}, {hi:.3g}] dex "
                "(16 steps, halved with each step of the node rule), the summed ln L(s) a cubic spline through it "
                "integrated against the density of s")


def describe(errors: str) -> str:
    """The lensing likelihood in words, for result attributes and reports."""
    model = ("the published statistical errors σ_k" if errors == "stat" else
             "e_k = √(σ_k² + s_k²), s_k = ½(s_k⁺ + s_k⁻) the published systematic errors, assumed correlated as ρ")
    return (f"multivariate normal of the deprojected M(<r) per cluster: ln L = −½ dᵀC⁻¹d − ½ ln det(2πC), "
            f"d = M_pred − M_lens, C_ij = ρ_ij·e_i·e_j with ρ the published correlation matrix and {model}; "
            "clusters independent")
