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

The cluster prediction's systematics are named options (:class:`ClusterSystematics`, each stated in words by
:meth:`ClusterSystematics.describe`): the lensing error model above; the baryonic mass's error, M_bar(<r_k) →
M_bar(<r_k)·10^(δ_k), δ_k = z_T·e_k + z_G·σ_G with e_k Tian+2020's log g_bar error at r_k (``baryons = "tian"``;
z_T one standard normal per cluster: the error moves every radius of a cluster together) and σ_G a gas-profile
systematic (z_G per cluster or one shared by every cluster); the paper's lensing slip (SI §11, paper §4.3): what
lensing sees of a dynamical mass Σ·M_bar is

    M_lens/M_dyn = (5Σ − 3)/(2(3Σ − 2)),   η = Ψ/Φ = (2Σ − 1)/(3Σ − 2);

and the cluster path length L (a fixed value; log-normal about it per cluster; or the paper §2.12.1 rule L = 2·R_lens
at each lensing radius with a log-normal scatter per cluster). Each z is a standard normal integrated by
Gauss–Hermite quadrature.
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
GAS_SCOPES = ("cluster", "shared")
"""Whether the gas-profile systematic is one nuisance per cluster or one shared by every cluster."""
PATH_LENGTHS = ("fixed", "lognormal", "diameter")
"""``fixed``: L as given for every cluster; ``lognormal``: L·10^(z·σ_L), one z per cluster; ``diameter``: the
paper's rule L = 2·r at each lensing radius (paper §2.12.1: "L ≈ 2 × R_lens"), times 10^(z·σ_L) per cluster."""
PATH_SCATTER_DEX = 0.17609125905568124
"""σ_L default: log10(600/400), the spread between the paper's two cluster path lengths, 600 kpc (paper §2.12,
SI §1) and 400 kpc = 2 × R_lens (paper §2.12.1)."""
NODE_TOLERANCE = 0.01
"""The node rule: nodes per dimension grow (3, 5, 7, …) until the summed ln L moves by less than this [nat] where the
posterior can have mass."""
MAX_NODES = 21
"""The most Gauss–Hermite nodes per dimension the node rule tries."""
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
    ``[datasets.likelihood]`` table."""

    errors: str = "stat"
    baryons: str = "exact"
    gas_dex: float = 0.0
    gas_scope: str = "cluster"
    slip: bool = False
    path_length: str = "fixed"
    path_scatter_dex: float = PATH_SCATTER_DEX
    nodes: int | None = None

    @classmethod
    def of(cls, options: dict[str, object] | None) -> ClusterSystematics:
        """The choices of an options table; unknown keys and values are a LensingError naming them."""
        options = dict(options or {})
        known = {f: getattr(cls, f) for f in cls.__dataclass_fields__}
        unknown = sorted(set(options) - set(known))
        if unknown:
            raise LensingError(f"unknown lensing option {unknown[0]!r}; the options are {', '.join(known)}")
        for key, choices in (("errors", ERROR_MODELS), ("baryons", BARYON_MODELS), ("gas_scope", GAS_SCOPES),
                             ("path_length", PATH_LENGTHS)):
            if key in options and options[key] not in choices:
                raise LensingError(f"{key} = {options[key]!r}; choose from {', '.join(choices)}")
        for key in ("gas_dex", "path_scatter_dex"):
            value = options.get(key, 0.0)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 2:
                raise LensingError(f"{key} = {value!r}: a width in dex between 0 and 2")
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
        """The standard-normal nuisances of each cluster: ``tian``, ``gas``, ``path``."""
        return tuple(d for d, on in (("tian", self.baryons == "tian"),
                                     ("gas", self.gas_dex > 0 and self.gas_scope == "cluster"),
                                     ("path", self.path_length != "fixed" and self.path_scatter_dex > 0)) if on)

    @property
    def shared_dims(self) -> tuple[str, ...]:
        """The standard-normal nuisances shared by every cluster: ``gas`` when its scope is shared."""
        return ("gas",) if self.gas_dex > 0 and self.gas_scope == "shared" else ()

    @property
    def marginalises(self) -> bool:
        """Whether any nuisance is integrated (else the prediction is the kernel's at the catalogue M_bar)."""
        return bool(self.cluster_dims or self.shared_dims or self.path_length == "diameter")

    def as_dict(self) -> dict[str, object]:
        return {f: getattr(self, f) for f in self.__dataclass_fields__}

    def describe(self) -> str:
        """Every choice in words."""
        if self.baryons == "exact" and self.gas_dex == 0:
            baryons = "M_bar(<r) without error"
        else:
            parts = (["Tian+2020's log g_bar error e_k at each radius, one z_T per cluster (fully correlated over a "
                      "cluster's radii)"] if self.baryons == "tian" else [])
            if self.gas_dex > 0:
                parts.append(f"a gas-profile systematic σ_G = {self.gas_dex:g} dex, one z_G "
                             + ("per cluster" if self.gas_scope == "cluster" else "shared by every cluster"))
            baryons = "M_bar(<r_k)·10^δ_k with δ_k from " + " and ".join(parts) + ", each z ~ N(0, 1) marginalised"
        slip = ("the lensing slip on: M_lens = M_dyn·(5Σ − 3)/(2(3Σ − 2)) (SI §11)" if self.slip
                else "no lensing slip (M_lens = M_dyn = Σ·M_bar)")
        path = {"fixed": "L the fixed parameter for every cluster",
                "lognormal": f"L = L·10^(z_L·{self.path_scatter_dex:.3g}), one z_L ~ N(0, 1) per cluster marginalised",
                "diameter": f"L = 2·r at each lensing radius (paper §2.12.1: L ≈ 2 × R_lens) times "
                            f"10^(z_L·{self.path_scatter_dex:.3g}), one z_L ~ N(0, 1) per cluster marginalised"
                }[self.path_length]
        shared = ("; the shared z on a grid over ±8 (step 1, halved with each step of the rule), the summed ln L(z) a "
                  "cubic spline through it integrated against N(0, 1)" if self.shared_dims else "")
        nodes = ((f"{self.nodes} Gauss–Hermite nodes per cluster nuisance dimension" if self.nodes else
                  f"Gauss–Hermite nodes per cluster nuisance dimension by the node rule (3, 5, 7, … until the summed "
                  f"ln L moves < {NODE_TOLERANCE:g} nat)") + shared) if self.marginalises else "no nuisance integral"
        return f"{describe(self.errors)}; baryons: {baryons}; {slip}; path length: {path}; {nodes}"


def describe(errors: str) -> str:
    """The lensing likelihood in words, for result attributes and reports."""
    model = ("the published statistical errors σ_k" if errors == "stat" else
             "e_k = √(σ_k² + s_k²), s_k = ½(s_k⁺ + s_k⁻) the published systematic errors, assumed correlated as ρ")
    return (f"multivariate normal of the deprojected M(<r) per cluster: ln L = −½ dᵀC⁻¹d − ½ ln det(2πC), "
            f"d = M_pred − M_lens, C_ij = ρ_ij·e_i·e_j with ρ the published correlation matrix and {model}; "
            "clusters independent")
