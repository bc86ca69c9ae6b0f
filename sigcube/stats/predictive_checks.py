"""Posterior predictive checks of an error model: do the normalised residuals look like draws from it?

Under a likelihood that describes the data, each point's normalised residual r_k (data minus prediction, over the
point's total error, in the likelihood's own variable: V, or ln V for the log-normal model) is a standard normal draw,
its probability integral transform PIT_k = Φ(r_k) is uniform on [0, 1], and a galaxy's Σ r_k² is χ² with as many
degrees of freedom as points. :func:`residual_checks` sets each of these next to what it should be:

- the residuals' histogram against N(0, 1)'s expected counts, their quantiles against N(0, 1)'s (a QQ plot), their
  mean, sd, tail fractions and the Kolmogorov–Smirnov distance to N(0, 1);
- the PIT histogram against the uniform's counts;
- per galaxy χ²/n and the χ²_n tail probability of Σ r²; the fractions of galaxies below 5 % and 1 % (expected 5 % and
  1 %, with their binomial intervals).

The residuals are taken at one point of the posterior (a plug-in predictive, not the full posterior predictive): the
parameters fitted to the same data shrink them, by up to the number of fitted parameters per galaxy (Υ, D, i: 3–4),
so a well-described sample shows χ²/n a little below 1 and a PIT histogram a little peaked — an excess of large
residuals cannot come from that.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

from sigcube.model.segments import segment_sum
from sigcube.stats.verdicts import fraction

EDGES = np.arange(-5.0, 5.01, 0.5)
"""Bin edges of the residual histogram (values beyond ±5 are counted in the outer bins' ``below`` / ``above``)."""
PROBABILITIES = np.array([0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.975,
                          0.99, 0.995, 0.999])
"""The quantile levels of the QQ comparison."""
PIT_BINS = 10
"""Equal bins of the PIT histogram."""
TAILS = (2.0, 3.0)
"""|r| beyond which the tail fractions are counted (N(0, 1): 4.55 % and 0.27 %)."""
PLUG_IN = ("plug-in predictive at the posterior's best grid point (Υ, D, i at their conditional mode): fitted "
           "parameters shrink the residuals a little, so a described sample shows χ²/n slightly below 1")
"""How the residuals were taken, for reports."""


def residual_checks(r: np.ndarray, offsets: np.ndarray, galaxies: Sequence[str]) -> dict[str, Any]:
    """The checks of normalised residuals ``r`` (n_points,) packed by galaxy (``offsets``), as plain data."""
    r = np.asarray(r, dtype=float)
    n = r.size
    counts, _ = np.histogram(np.clip(r, EDGES[0], EDGES[-1]), bins=EDGES)
    expected = n * np.diff(stats.norm.cdf(EDGES))
    expected[0] += n * stats.norm.cdf(EDGES[0])
    expected[-1] += n * stats.norm.sf(EDGES[-1])
    pit = stats.norm.cdf(r)
    pit_counts, _ = np.histogram(pit, bins=np.linspace(0.0, 1.0, PIT_BINS + 1))
    ks = stats.kstest(r, "norm")
    per_point = np.diff(np.asarray(offsets))
    chi2 = segment_sum(r * r, np.asarray(offsets))
    p_values = stats.chi2.sf(chi2, per_point)
    order = np.argsort(p_values)
    return {
        "n_points": int(n), "n_galaxies": int(per_point.size),
        "mean": float(r.mean()), "sd": float(r.std(ddof=1)),
        "tails": {f"|r|>{t:g}": {"observed": float(np.mean(np.abs(r) > t)), "expected": float(2 * stats.norm.sf(t))}
                  for t in TAILS},
        "ks": {"distance": float(ks.statistic), "p_value": float(ks.pvalue)},
        "histogram": {"edges": EDGES.tolist(), "counts": counts.tolist(), "expected": expected.tolist(),
                      "clipped": "values beyond the outer edges are counted in the outer bins"},
        "qq": {"probabilities": PROBABILITIES.tolist(), "observed": np.quantile(r, PROBABILITIES).tolist(),
               "normal": stats.norm.ppf(PROBABILITIES).tolist()},
        "pit": {"counts": pit_counts.tolist(), "expected": n / PIT_BINS},
        "chi2_red": {"galaxy": [str(g) for g in galaxies], "value": (chi2 / per_point).tolist(),
                     "median": float(np.median(chi2 / per_point)),
                     "p_below_5pc": fraction(int(np.sum(p_values < 0.05)), per_point.size),
                     "p_below_1pc": fraction(int(np.sum(p_values < 0.01)), per_point.size),
                     "worst": [{"galaxy": str(galaxies[i]), "chi2_red": float(chi2[i] / per_point[i]),
                                "p_value": float(p_values[i])} for i in order[:5]]},
        "taken": PLUG_IN,
    }


def reading(checks: dict[str, Any]) -> str:
    """One line: whether the residuals look standard normal (sd, tails, galaxies' χ² tails) — an excess says the error
    model is too narrow, a deficit too wide."""
    sd = checks["sd"]
    tail = checks["tails"]["|r|>3"]
    low = checks["chi2_red"]["p_below_1pc"]
    ratio = tail["observed"] / tail["expected"]
    words = ("too narrow: the residuals are wider than the errors it assigns" if sd > 1.1 or ratio > 2 else
             "too wide: the residuals are narrower than its errors" if sd < 0.85 else
             "consistent in width with its errors")
    return (f"normalised residuals sd {sd:.2f} (1 expected), |r| > 3 in {100 * tail['observed']:.2f} % of points "
            f"({100 * tail['expected']:.2f} % expected), χ² tail p < 1 % in {100 * low['value']:.1f} % of galaxies "
            f"(1 % expected): the error model is {words}")
