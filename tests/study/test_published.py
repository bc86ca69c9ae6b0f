"""Every published figure is printed in the seed section it cites (a misquote cannot pass)."""

from __future__ import annotations

import pytest

from sigcube.study.published import AUTHOR_REPOSITORY, FIGURES, SI, Figure, check_citation, section_text


@pytest.mark.parametrize("key", sorted(k for k, f in FIGURES.items() if f.published))
def test_each_published_figure_is_printed_where_cited(seeds, key):
    assert check_citation(FIGURES[key], seeds) is None


def test_a_misquote_is_caught(seeds):
    wrong = Figure("x", "17.50", "km/s", SI, "SI §5", "the canonical RMS, misquoted")
    assert "not printed" in check_citation(wrong, seeds)
    assert "headings" in check_citation(Figure("x", "17.75", "km/s", SI, "SI §99", "no such section"), seeds)


def test_section_text_stops_at_the_next_heading_of_its_level():
    text = "# A\n## SI §1 One\nx 1.5\n### SI §1.1 Sub\ny 2.5\n## SI §2 Two\nz 3.5\n"
    assert "2.5" in section_text(text, "SI §1") and "3.5" not in section_text(text, "SI §1")
    assert section_text(text, "SI §1.1").splitlines() == ["### SI §1.1 Sub", "y 2.5"]


def test_author_repository_figures_are_never_called_published():
    for fig in FIGURES.values():
        if fig.origin == AUTHOR_REPOSITORY:
            assert not fig.published and not fig.seed and "published" not in fig.label()


def test_printed_precision_and_numbers():
    f = Figure("x", "47.4%", "%", SI, "SI §5", "win rate")
    assert (f.number, f.decimals) == (47.4, 1) and f.reproduced_by(0.4737, scale=100) and not f.reproduced_by(0.4795, 100)
    assert Figure("y", "1.77×10⁻⁹", "", SI, "SI §4a", "γ").number == pytest.approx(1.77e-9)
    assert Figure("z", "~0.33", "", SI, "SI §5", "MOND").number == 0.33


def test_powers_of_ten_compare_on_the_mantissa():
    f = Figure("g", "1.77×10⁻⁹", "", SI, "SI §4a", "γ")
    assert f.reproduced_by(1.7712e-9) and not f.reproduced_by(1.764e-9) and not f.reproduced_by(1.77e-8)
