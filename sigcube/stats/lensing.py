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
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sigcube.errors import SigcubeError

ERROR_MODELS = ("stat", "stat+syst")
"""The error models of :func:`lensing_covariance`."""
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
    """ln L and χ² of predictions against data ``mean`` (n,) with covariance ``cov`` (n, n), by its Cholesky factor."""

    mean: np.ndarray
    chol: np.ndarray

    @classmethod
    def of(cls, mean: np.ndarray, cov: np.ndarray) -> MultivariateNormal:
        try:
            chol = np.linalg.cholesky(np.asarray(cov, dtype=float))
        except np.linalg.LinAlgError:
            raise LensingError("the covariance is not positive definite") from None
        return cls(np.asarray(mean, dtype=float), chol)

    @property
    def log_norm(self) -> float:
        """−Σ ln L_kk − (n/2) ln 2π = −½ ln det(2πC)."""
        return float(-np.sum(np.log(np.diag(self.chol))) - 0.5 * self.mean.size * _LOG_2PI)

    def chi2(self, pred: np.ndarray) -> np.ndarray:
        """rᵀr with r = L⁻¹(pred − mean), over the leading axes of ``pred`` (..., n)."""
        d = np.asarray(pred, dtype=float) - self.mean
        flat = d.reshape(-1, self.mean.size).T
        r = _solve_lower(self.chol, flat)
        return np.sum(r * r, axis=0).reshape(d.shape[:-1])

    def log_likelihood(self, pred: np.ndarray) -> np.ndarray:
        """ln L = −½χ² − ½ ln det(2πC) over the leading axes of ``pred`` (..., n) [nat]."""
        return self.log_norm - 0.5 * self.chi2(pred)


def _solve_lower(chol: np.ndarray, b: np.ndarray) -> np.ndarray:
    """L⁻¹b for lower-triangular L (forward substitution; b is (n, m))."""
    from scipy.linalg import solve_triangular

    return solve_triangular(chol, b, lower=True)


def describe(errors: str) -> str:
    """The lensing likelihood in words, for result attributes and reports."""
    model = ("the published statistical errors σ_k" if errors == "stat" else
             "e_k = √(σ_k² + s_k²), s_k = ½(s_k⁺ + s_k⁻) the published systematic errors, assumed correlated as ρ")
    return (f"multivariate normal of the deprojected M(<r) per cluster: ln L = −½ dᵀC⁻¹d − ½ ln det(2πC), "
            f"d = M_pred − M_lens, C_ij = ρ_ij·e_i·e_j with ρ the published correlation matrix and {model}; "
            "clusters independent")
