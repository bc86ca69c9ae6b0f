"""How verdicts are worded against their numerical error, their statistical error and their sample size."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import binomtest

from sigcube.stats import verdicts


@given(k=st.integers(0, 400), extra=st.integers(0, 400))
def test_the_binomial_interval_is_the_exact_clopper_pearson_one(k, extra):
    n = k + extra
    if n == 0:
        return
    expected = binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
    lo, hi = verdicts.binomial_interval(k, n)
    assert lo == pytest.approx(expected.low, abs=1e-9) and hi == pytest.approx(expected.high, abs=1e-9)


def test_a_bayes_factor_within_three_times_its_numerical_error_is_undecided():
    assert verdicts.bayes_verdict(0.5, 0.2, "a", "b").startswith("undecided")
    assert verdicts.bayes_verdict(4.0, 0.23, "sigma", "mond") == \
        "sigma favoured (strong on the Kass & Raftery 1995 scale)"
    assert verdicts.bayes_verdict(-12.0, 0.5, "a", "b").startswith("b favoured (very strong")
    assert verdicts.bayes_verdict(1.0, float("nan"), "a", "b").startswith("undecided")


@pytest.mark.parametrize("ln_b, words", [(0.3, "not worth more than a bare mention"), (-2.0, "positive"),
                                         (4.9, "strong"), (5.1, "very strong")])
def test_kass_raftery_bands(ln_b, words):
    # Kass & Raftery 1995 §3.2 give the bands on 2 ln B: 0–2, 2–6, 6–10, > 10
    assert verdicts.strength(ln_b) == words


def test_an_elpd_difference_reads_numerics_first_then_its_se_then_the_sample_size():
    assert verdicts.elpd_verdict(2.1, 0.4, 0.9, 171, "a", "b").startswith("undecided numerically")
    assert verdicts.elpd_verdict(1.9, 37.0, 0.24, 171, "sigma", "mond").startswith("indistinguishable")
    assert verdicts.elpd_verdict(70.0, 17.0, 0.3, 171, "nfw", "mond") == "nfw predicts better than mond by 4.1 paired SE"
    assert "too few" in verdicts.elpd_verdict(2.1, 0.4, 0.01, 2, "a", "b")
    assert verdicts.se_note(2) is not None and verdicts.se_note(171) is None


@pytest.mark.parametrize(("args", "preferred", "failed"), [
    # agreeing, decided, past 2 paired SE: the sign of ln B names the winner
    ((8.0, 0.3, 90.0, 30.0, 0.5, 171), "a", []),
    ((-8.0, 0.3, -90.0, 30.0, 0.5, 171), "b", []),
    # the project's σ_int headline of the last round: ln B +4.0 ± 0.24, ΔELPD +1.9 ± 37.0 — not distinguished
    ((4.0, 0.24, 1.9, 37.0, 0.3, 171), None, ["within 2 paired SE"]),
    # disagreeing signs
    ((20.0, 0.5, -50.0, 10.0, 0.5, 171), None, ["disagree in sign"]),
    # a Bayes factor inside its numerical error
    ((0.5, 0.3, 80.0, 10.0, 0.5, 171), None, ["Bayes factor is within its numerical error"]),
    # too few objects to read an SE
    ((8.0, 0.3, 90.0, 30.0, 0.5, 12), None, ["too few"]),
])
def test_the_decision_rule_needs_both_criteria_to_agree(args, preferred, failed):
    out = verdicts.decision(*args, "a", "b")
    assert out["preferred"] == preferred and out["rule"] == verdicts.DECISION_RULE
    assert all(any(f in words for words in out["failed"]) for f in failed)
    assert ("not distinguished" in out["reading"]) == (preferred is None)
