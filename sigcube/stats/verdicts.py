"""How sure a printed verdict is: a Bayes factor or an ELPD difference next to its numerical error, a fraction with its
binomial interval, a standard error from a sample too small for its normal approximation."""

from __future__ import annotations

import math
from typing import Any

from scipy.stats import beta

DECIDED = 3.0
"""A difference counts as a verdict only when it exceeds this many times its numerical error; otherwise it is
printed as undecided."""
SMALL_SAMPLE = 30
"""Below this many objects a standard error's normal approximation (a z-score, a ± SE read as a 68 % interval) is not
trusted: the report says so instead of printing a z-score."""
LEVEL = 0.95
"""The level of the binomial intervals of fractions."""


def decided(difference: float, error: float) -> bool:
    """Whether ``difference`` exceeds :data:`DECIDED` times its numerical ``error`` (a NaN or infinite error
    never decides)."""
    return math.isfinite(error) and abs(difference) > DECIDED * error


KASS_RAFTERY = ((1.0, "not worth more than a bare mention"), (3.0, "positive"), (5.0, "strong"),
                (math.inf, "very strong"))
"""Kass & Raftery (1995, JASA 90, 773, §3.2) on |ln B| (their 2 ln B bands 0–2, 2–6, 6–10, > 10): upper bound, words."""
STATISTICAL = 2.0
"""An ELPD difference within this many of its standard errors is statistically indistinguishable from zero."""


def strength(ln_b: float) -> str:
    """The Kass & Raftery (1995) words for |ln B|."""
    return next(words for bound, words in KASS_RAFTERY if abs(ln_b) <= bound)


def bayes_verdict(ln_b: float, error: float, a: str, b: str) -> str:
    """``a`` or ``b`` favoured by ln B(a : b) = ``ln_b`` ± ``error`` [nat] (with the strength of the evidence), or
    undecided when the numerical error is comparable to its size."""
    if not decided(ln_b, error):
        return (f"undecided: |ln B| = {abs(ln_b):.2f} is within {DECIDED:g}× its numerical error "
                f"({error:.2f} nat)")
    return f"{a if ln_b > 0 else b} favoured ({strength(ln_b)} on the Kass & Raftery 1995 scale)"


def elpd_verdict(diff: float, se: float, error: float, n: int, best: str, other: str) -> str:
    """How an ELPD difference ``diff`` = elpd(best) − elpd(other) ≥ 0 reads: undecided numerically (within
    :data:`DECIDED` × its numerical ``error``), indistinguishable (within :data:`STATISTICAL` paired SE ``se``), or
    ``best`` predicts better; with fewer than :data:`SMALL_SAMPLE` objects the SE is not read as an interval."""
    if not decided(diff, error):
        return f"undecided numerically (|Δ| = {diff:.2f} within {DECIDED:g}× its numerical error {error:.2f} nat)"
    if n < SMALL_SAMPLE:
        return f"{best} higher by {diff:.1f} nat, but n = {n} is too few to read its SE as an interval"
    if diff <= STATISTICAL * se:
        return f"indistinguishable: Δ = {diff:.1f} nat is within {STATISTICAL:g} paired SE ({se:.1f})"
    return f"{best} predicts better than {other} by {diff / se:.1f} paired SE"


def se_note(n: int) -> str | None:
    """None when ``n`` objects are enough for an SE's normal approximation, else why it is not trusted."""
    if n >= SMALL_SAMPLE:
        return None
    return (f"n = {n} objects: too few for the normal approximation of a standard error (fewer than "
            f"{SMALL_SAMPLE}); the SE is a rough spread, not a 68 % interval, and no z-score is given")


def binomial_interval(k: int, n: int, level: float = LEVEL) -> tuple[float, float]:
    """The Clopper–Pearson (exact) ``level`` interval of a fraction ``k``/``n``."""
    if n <= 0:
        return (math.nan, math.nan)
    alpha = 1.0 - level
    lo = 0.0 if k == 0 else float(beta.ppf(alpha / 2, k, n - k + 1))
    hi = 1.0 if k == n else float(beta.ppf(1 - alpha / 2, k + 1, n - k))
    return lo, hi


def fraction(k: int, n: int, level: float = LEVEL) -> dict[str, Any]:
    """A fraction with its binomial interval: ``value``, ``k``, ``n``, ``ci`` and what the interval is."""
    lo, hi = binomial_interval(k, n, level)
    return {"value": k / n if n else math.nan, "k": int(k), "n": int(n), "ci": [lo, hi],
            "interval": f"Clopper–Pearson {round(100 * level)} % (binomial, the {n} objects independent)"}


DECISION_RULE = (f"a model is preferred only when the Bayes factor and the ELPD_LOGO difference agree in sign, each "
                 f"exceeds {DECIDED:g}× its numerical error, and the ELPD difference exceeds {STATISTICAL:g} paired "
                 "SE (with at least 30 objects); otherwise the two are not distinguished by these data")
"""The decision rule printed with every verdict of a comparison: the evidence and the predictive check must agree."""


def decision(ln_b: float, ln_b_error: float, elpd_diff: float, elpd_se: float, elpd_error: float, n: int,
             a: str, b: str) -> dict[str, Any]:
    """The :data:`DECISION_RULE` on model ``a`` against ``b``: ln B(a : b) = ``ln_b`` ± ``ln_b_error`` and
    ΔELPD = elpd(a) − elpd(b) = ``elpd_diff`` ± ``elpd_se`` (paired SE) ± ``elpd_error`` (numerical), ``n`` objects.
    ``preferred`` is a, b or None; ``reading`` says which condition failed."""
    sign_b = math.copysign(1.0, ln_b)
    checks = [("the Bayes factor is within its numerical error", not decided(ln_b, ln_b_error)),
              ("the ELPD difference is within its numerical error", not decided(elpd_diff, elpd_error)),
              ("ln B and ΔELPD disagree in sign", elpd_diff * sign_b <= 0),
              (f"the ELPD difference is within {STATISTICAL:g} paired SE", abs(elpd_diff) <= STATISTICAL * elpd_se),
              (f"n = {n} objects is too few to read the paired SE", n < SMALL_SAMPLE)]
    failed = [words for words, fails in checks if fails]
    winner = (a if ln_b > 0 else b) if not failed else None
    loser = (b if winner == a else a) if winner else None
    reading = (f"{winner} preferred over {loser}: ln B = {ln_b:+.1f} and ΔELPD = {elpd_diff:+.1f} ± {elpd_se:.1f} "
               f"({abs(elpd_diff) / elpd_se:.1f} paired SE) agree" if winner else
               f"{a} and {b} not distinguished by these data: " + "; ".join(failed))
    return {"preferred": winner, "reading": reading, "failed": failed, "rule": DECISION_RULE}
