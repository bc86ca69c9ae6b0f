"""Every published figure is printed in the seed section it cites (a misquote cannot pass)."""

from __future__ import annotations

import re

import pytest

from sigcube.study.published import (
    AUTHOR_REPOSITORY, COUNT_MATCHED, COUNTS_BY_CONSTRUCTION, DIFFERS, FIGURES, NOTE_000, PAPER, REPRODUCED, SI,
    VERDICTS, Figure, check_citation, section_text,
)


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


def test_a_fenced_code_comment_is_not_a_heading():
    text = "## SI §3.1 Data\n```python\n# 1. a comment\n```\n| step | 174 |\n## SI §3.2 Next\n"
    assert "174" in section_text(text, "SI §3.1") and "Next" not in section_text(text, "SI §3.1")


def test_the_sample_chain_of_si_3_1_is_cited_from_its_table(seeds):
    """SI §3.1's table (after a code block) prints 175 → 174 ('Excludes UGC01281') → 171."""
    si = section_text((seeds / SI).read_text(encoding="utf-8"), "SI §3.1")
    assert "| Valid V_bar at all radii | 174 | Excludes UGC01281 |" in si
    assert [FIGURES[k].value for k in ("sparc.sample.n_database", "sparc.sample.n_valid_v_bar",
                                       "sparc.sample.n_galaxies")] == ["175", "174", "171"]


def test_a_count_matched_by_construction_is_its_own_verdict():
    """171 printed, 171 computed: not 'reproduced' for the counts sigcube's cut was made to give; 170 differs."""
    count = FIGURES["sparc.sample.n_galaxies"]
    assert count.key in COUNTS_BY_CONSTRUCTION and count.verdict(171) == COUNT_MATCHED != REPRODUCED
    assert count.verdict(170) == DIFFERS
    assert FIGURES["note000.mass.n_galaxies"].verdict(158) == COUNT_MATCHED
    other = Figure("x", "42", "", SI, "SI §6", "a count no cut was chosen for")
    assert other.verdict(42) == REPRODUCED and other.verdict(41) == DIFFERS
    assert set(VERDICTS) == {REPRODUCED, DIFFERS, COUNT_MATCHED}


def test_the_seeds_give_no_sample_for_the_counts_matched_by_construction(seeds):
    """Note 000 prints its N = 158 but no selection; no seed prints a dSph sample size ('28 dSphs')."""
    note = (seeds / NOTE_000).read_text(encoding="utf-8")
    assert "158" in note and not re.search(r"quality|sample|cut\b", note, flags=re.I)
    for seed in seeds.glob("*.txt"):
        assert not re.search(r"28\s*(dSph|dwarf)", seed.read_text(encoding="utf-8"), flags=re.I), seed.name


def test_what_each_section_prints_for_the_milky_way_and_the_dwarfs(seeds):
    """SI §4a: 29.5 and '~30 km/s' (MOND); paper §4.4: 29.5 and no MOND RMS; SI §13.3: 'Dwarf Spheroidals | W → 0'."""
    si, paper = ((seeds / s).read_text(encoding="utf-8") for s in (SI, PAPER))
    assert "| 3 | Milky Way | Eilers+ 2019 | 29.5 km/s | ~30 km/s |" in section_text(si, "SI §4a")
    cross = section_text(paper, "4.4")
    [mw_line] = [line for line in cross.splitlines() if "Milky Way" in line]
    assert re.findall(r"[\d.]+ km/s", mw_line) == ["29.5 km/s"] and "30.3" not in cross and "~30" not in cross
    assert "| Dwarf Spheroidals | W → 0 (dispersion-dominated) |" in section_text(si, "SI §13.3")
    assert "| **D** | 0 (galaxy) or 1 (cluster) |" in section_text(si, "SI §1")
