"""Published figures: the one home of every number sigcube compares a run with.

"Published" means *printed in a seed file* (the Σ-Gravity paper, its supplementary
information and the research notes the project was given). Each :class:`Figure` records
the value exactly as printed, its unit, the seed file and the section that print it, so a
report can say "17.75 km/s (paper §4.1)" and a test can open the seed and check that the
cited section really prints that number (``tests/test_published.py``).

Numbers that come only from re-running the author's public scripts are kept apart with
``origin = "author's repository"`` and are never called published.

Keys are dotted: ``<topic>.<quantity>``, e.g. ``sparc.canonical.rms_sigma``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

PAPER = "004_9f0bbea4ca308c51.txt"
"""The Σ-Gravity paper (main text)."""
SI = "003_f0739dc89bf394d5.txt"
"""Its supplementary information."""
NOTE_000 = "000_c5b795b9d4af17bd.txt"
"""Research note 000: mass- and velocity-coherence models."""
NOTE_001 = "001_0de6d5d73e213441.txt"
"""Research note 001: Burr-XII, pairing and resonance kernels."""
NOTE_002 = "002_e85ff2cfd98b6eef.txt"
"""Research note 002: coherent metric self-interaction (CMSI)."""

SEED_NAMES = {PAPER: "paper", SI: "SI", NOTE_000: "note 000", NOTE_001: "note 001", NOTE_002: "note 002"}

PUBLISHED = "published"
AUTHOR_REPOSITORY = "author's repository"
ORIGINS = (PUBLISHED, AUTHOR_REPOSITORY)


@dataclass(frozen=True)
class Figure:
    """One figure as printed.

    ``value`` is the text exactly as the seed prints it (its digits set the precision of a
    comparison); ``section`` is the heading that contains it, written as the seed writes it
    without the leading ``#`` (``"SI §13.3 Full 16-Test Comparison"`` or a unique prefix of
    it such as ``"SI §13.3"``). ``origin`` is ``published`` (printed in ``seed``) or
    ``author's repository`` (then ``seed`` and ``section`` are empty).
    """

    key: str
    value: str
    unit: str
    seed: str
    section: str
    what: str
    origin: str = PUBLISHED

    def __post_init__(self) -> None:
        if self.origin not in ORIGINS:
            raise ValueError(f"{self.key}: origin must be one of {ORIGINS}; got {self.origin!r}")
        if (self.origin == PUBLISHED) != bool(self.seed and self.section):
            raise ValueError(f"{self.key}: a published figure needs a seed and a section; others have neither")

    @property
    def published(self) -> bool:
        return self.origin == PUBLISHED

    @property
    def number(self) -> float:
        """The printed value as a float (leading '~', '<', '≈' and a trailing '%' dropped)."""
        text = self.value.strip().lstrip("~<≈ ").rstrip("%× ").replace("−", "-")
        mantissa, _, exponent = text.partition("×10")
        value = float(mantissa)
        if exponent:
            value *= 10.0 ** _superscript_int(exponent)
        return value

    @property
    def decimals(self) -> int:
        """Digits after the decimal point as printed (the precision of a comparison)."""
        mantissa = self.value.partition("×10")[0]
        return len(mantissa.split(".")[1].rstrip("%× ")) if "." in mantissa else 0

    def citation(self) -> str:
        """Where the figure is printed (``SI §13.3``, ``paper §4.1``, ``note 000, Comparison``) or its origin."""
        if not self.published:
            return self.origin
        head = self.section.split()[0]
        if head == "SI":
            return " ".join(self.section.split()[:2])
        if head[0].isdigit():
            return f"{SEED_NAMES[self.seed]} §{head}"
        return f"{SEED_NAMES[self.seed]}, {self.section}"

    def label(self) -> str:
        """``17.75 km/s (paper §4.1)``: value, unit and citation for a table cell."""
        unit = f" {self.unit}" if self.unit and self.unit != "%" else ""
        return f"{self.value}{unit} ({self.citation()})"

    def reproduced_by(self, computed: float, scale: float = 1.0) -> bool:
        """True when ``computed`` (×``scale``, e.g. 100 for a fraction vs a printed %) rounds to the printed digits."""
        return round(computed * scale, self.decimals) == round(self.number, self.decimals)


_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")


def _superscript_int(text: str) -> int:
    return int(text.strip().translate(_SUPERSCRIPTS).replace("−", "-"))


# --- The figures, by topic ------------------------------------------------------------------

_SPARC: tuple[Figure, ...] = ()
_REGRESSION: tuple[Figure, ...] = ()
_SENSITIVITY: tuple[Figure, ...] = ()
_NOTES: tuple[Figure, ...] = ()

FIGURES: dict[str, Figure] = {f.key: f for f in (*_SPARC, *_REGRESSION, *_SENSITIVITY, *_NOTES)}
"""Every figure sigcube compares with, by key."""


def figure(key: str) -> Figure:
    """The figure called ``key`` (KeyError naming the known prefixes otherwise)."""
    try:
        return FIGURES[key]
    except KeyError:
        prefixes = sorted({k.split(".")[0] for k in FIGURES})
        raise KeyError(f"no published figure {key!r}; topics: {', '.join(prefixes)}") from None


# --- Checking a citation against the seed text ----------------------------------------------

_HEADING = re.compile(r"^(#+)\s+(.*\S)\s*$")


def section_text(seed_text: str, section: str) -> str:
    """The text of the section whose heading starts with ``section``, up to the next heading of
    the same or a higher level (subsections included). KeyError if no heading matches, or if
    more than one does."""
    lines = seed_text.splitlines()
    starts = [(i, len(m.group(1))) for i, line in enumerate(lines)
              if (m := _HEADING.match(line)) and (m.group(2) == section or m.group(2).startswith(section + " "))]
    if len(starts) != 1:
        raise KeyError(f"{len(starts)} headings start with {section!r}")
    first, level = starts[0]
    end = len(lines)
    for j in range(first + 1, len(lines)):
        m = _HEADING.match(lines[j])
        if m and len(m.group(1)) <= level:
            end = j
            break
    return "\n".join(lines[first:end])


def check_citation(fig: Figure, seeds_dir: Path) -> str | None:
    """None when ``fig.value`` is printed in ``fig.section`` of ``fig.seed``; otherwise why not."""
    if not fig.published:
        return None
    path = Path(seeds_dir) / fig.seed
    if not path.is_file():
        return f"{fig.key}: seed file {path} not found"
    try:
        text = section_text(path.read_text(encoding="utf-8"), fig.section)
    except KeyError as exc:
        return f"{fig.key}: section {fig.section!r} of {fig.seed}: {exc.args[0]}"
    pattern = r"(?<![\d.])" + re.escape(fig.value) + r"(?![\d])"
    if not re.search(pattern, text):
        return f"{fig.key}: {fig.value!r} is not printed in {fig.citation()} ({fig.seed})"
    return None
