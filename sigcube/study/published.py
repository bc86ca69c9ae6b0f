"""Published figures: the one home of every number sigcube compares a run with.

"Published" means *printed in a seed file* (the Σ-Gravity paper, its supplementary
information and the research notes the project was given). Each :class:`Figure` records
the value exactly as printed, its unit, the seed file and the section that print it, so a
report can say "17.75 km/s (paper §4.1)" and a test can open the seed and check that the
cited section really prints that number (``tests/study/test_published.py``).

Numbers that come only from re-running the author's public scripts are kept apart with
``origin = "author's repository"`` and are never called published.

Keys are dotted: ``<topic>.<quantity>``, e.g. ``sparc.canonical.rms_sigma``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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

REPRODUCED, DIFFERS, COUNT_MATCHED = "reproduced", "differs", "count matched by construction"
VERDICTS = (REPRODUCED, DIFFERS, COUNT_MATCHED)
"""How a computed value stands to a printed figure (:meth:`Figure.verdict`): it rounds to the printed digits
(``reproduced``), it does not (``differs``), or it is a count that sigcube's own sample selection was made to give
(``count matched by construction``: equal, but no evidence that the sample is the one the seed used)."""


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
        """True when ``computed`` (×``scale``, e.g. 100 for a fraction vs a printed %) rounds to the printed digits.

        A figure printed as ``m×10ⁿ`` is compared on its mantissa: 1.764×10⁻⁹ does not reproduce 1.77×10⁻⁹.
        """
        mantissa, _, exponent = self.value.partition("×10")
        shift = 10.0 ** _superscript_int(exponent) if exponent else 1.0
        return round(computed * scale / shift, self.decimals) == round(self.number / shift, self.decimals)

    def verdict(self, computed: float, scale: float = 1.0) -> str:
        """One of :data:`VERDICTS`: ``count matched by construction`` for a count of :data:`COUNTS_BY_CONSTRUCTION`
        that ``computed`` matches, otherwise ``reproduced`` or ``differs`` as :meth:`reproduced_by` says."""
        if not self.reproduced_by(computed, scale):
            return DIFFERS
        return COUNT_MATCHED if self.key in COUNTS_BY_CONSTRUCTION else REPRODUCED


_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")


def _superscript_int(text: str) -> int:
    return int(text.strip().translate(_SUPERSCRIPTS).replace("−", "-"))


# --- The figures, by topic ------------------------------------------------------------------

_P41 = "4.1 SPARC Galaxy Rotation Curves"
_SI5 = "SI §5"
_SI133 = "SI §13.3"
_SI134 = "SI §13.4"
_SI135 = "SI §13.5"
_SI14 = "SI §14"

_SPARC: tuple[Figure, ...] = (
    Figure("sparc.sample.n_galaxies", "171", "", SI, "SI §3.1", "SPARC galaxies in the paper's sample"),
    Figure("sparc.sample.n_database", "175", "", SI, "SI §3.1", "galaxies in the SPARC database"),
    Figure("sparc.sample.n_valid_v_bar", "174", "", SI, "SI §3.1", "SPARC galaxies with valid V_bar at all radii "
           "(the step that excludes UGC01281)"),
    Figure("sparc.amplitude.D_galaxy", "0 (galaxy)", "", SI, "SI §1", "dimensionality factor D of A(D, L) for "
           "galaxies (1 for clusters)"),
    # The "canonical" model (paper §4.1, SI §5): what every SPARC headline quotes.
    Figure("sparc.canonical.rms_sigma", "17.75", "km/s", PAPER, _P41, "mean per-galaxy RMS, Σ-Gravity"),
    Figure("sparc.canonical.rms_mond", "17.15", "km/s", PAPER, _P41, "mean per-galaxy RMS, MOND"),
    Figure("sparc.canonical.win_rate", "47.4%", "%", PAPER, _P41, "galaxies where Σ-Gravity beats MOND"),
    Figure("sparc.canonical.win_rate_mond", "52.6%", "%", PAPER, _P41, "galaxies where MOND beats Σ-Gravity"),
    Figure("sparc.canonical.rar_scatter", "0.097", "dex", SI, _SI5, "RAR scatter, Σ-Gravity"),
    Figure("sparc.canonical.rar_scatter_mond", "0.098", "dex", SI, _SI5, "RAR scatter, MOND"),
    # SI §13.3: the baseline of the ξ_dyn table and the two dynamical-ξ columns.
    Figure("sparc.si13_3.rms_sigma", "17.48", "km/s", SI, _SI133, "SPARC RMS, canonical ξ = R_d/(2π)"),
    Figure("sparc.si13_3.win_rate", "45.6%", "%", SI, _SI133, "win rate vs MOND, canonical ξ"),
    Figure("sparc.si13_3.rar_scatter", "0.194", "dex", SI, _SI133, "RAR scatter, canonical ξ"),
    Figure("sparc.si13_3.xi_dyn_k024.rms_sigma", "17.39", "km/s", SI, _SI133, "SPARC RMS, ξ_dyn with k = 0.24"),
    Figure("sparc.si13_3.xi_dyn_k024.win_rate", "46.8%", "%", SI, _SI133, "win rate vs MOND, ξ_dyn with k = 0.24"),
    Figure("sparc.si13_3.xi_dyn_k024.rar_scatter", "0.191", "dex", SI, _SI133, "RAR scatter, ξ_dyn with k = 0.24"),
    Figure("sparc.si13_3.xi_dyn_k047.rms_sigma", "17.29", "km/s", SI, _SI133, "SPARC RMS, ξ_dyn with k = 0.47"),
    Figure("sparc.si13_3.xi_dyn_k047.win_rate", "44.4%", "%", SI, _SI133, "win rate vs MOND, ξ_dyn with k = 0.47"),
    Figure("sparc.si13_3.xi_dyn_k047.rar_scatter", "0.190", "dex", SI, _SI133, "RAR scatter, ξ_dyn with k = 0.47"),
    Figure("sparc.si13_3.mw_rms_canonical", "66.7", "km/s", SI, _SI133, "Milky Way RMS, canonical ξ"),
    Figure("sparc.si13_3.mw_rms_xi_dyn_k024", "67.6", "km/s", SI, _SI133, "Milky Way RMS, ξ_dyn with k = 0.24"),
    # Printed nowhere in the seeds: what re-running the author's public scripts gives.
    Figure("sparc.author_repo.paper.rms_sigma", "17.50", "km/s", "", "",
           "mean per-galaxy RMS of the formula as stated", AUTHOR_REPOSITORY),
    Figure("sparc.author_repo.paper.win_rate", "48.0%", "%", "", "", "win rate of the formula as stated", AUTHOR_REPOSITORY),
    Figure("sparc.author_repo.c_local.rms_sigma", "17.42", "km/s", "", "", "mean per-galaxy RMS, C(r) with σ = 20 km/s",
           AUTHOR_REPOSITORY),
    Figure("sparc.author_repo.c_local.win_rate", "42.7%", "%", "", "", "win rate, C(r) with σ = 20 km/s", AUTHOR_REPOSITORY),
    Figure("sparc.author_repo.c_local.rar_scatter", "0.100", "dex", "", "", "RAR scatter, C(r) with σ = 20 km/s",
           AUTHOR_REPOSITORY),
)
_REGRESSION: tuple[Figure, ...] = (
    # Clusters (SI §4a test 2): Fox+2022 strong lensing at 200 kpc, and the cluster amplitude.
    Figure("clusters.fox.median_ratio_sigma", "0.987", "", SI, "SI §6", "median M_pred/M_lens, Σ-Gravity, Fox+2022"),
    Figure("clusters.fox.scatter_dex_sigma", "0.132", "dex", SI, "SI §6", "scatter of log M_pred/M_lens, Σ-Gravity"),
    Figure("clusters.fox.median_ratio_mond", "~0.33", "", SI, "SI §6", "M_pred/M_lens, MOND (the 'cluster problem')"),
    Figure("clusters.fox.n_clusters", "42", "", SI, "SI §6", "Fox+2022 clusters after the spec-z and M500 cuts"),
    Figure("clusters.L", "600", "kpc", SI, "SI §1", "cluster path length L of A(D = 1, L)"),
    Figure("clusters.n", "0.27", "", SI, "SI §1", "path-length exponent n of A(D, L)"),
    Figure("clusters.A", "8.45", "", SI, "SI §1", "cluster amplitude A0·(600/0.4)^0.27"),
    # Milky Way (test 3): the SI and the paper print different Σ RMS values for the same star sample.
    Figure("mw.si.rms_sigma", "29.5", "km/s", SI, "SI §7", "RMS over the Eilers-APOGEE-Gaia stars, Σ-Gravity"),
    Figure("mw.si.rms_mond", "30.3", "km/s", SI, "SI §7", "RMS over the same stars, MOND"),
    Figure("mw.si.n_stars", "28,368", "", SI, "SI §7", "stars in the Milky Way test"),
    Figure("mw.paper.rms_sigma_table", "27.6", "km/s", PAPER, "4.2", "RMS, Σ-Gravity, in the §4.2 table"),
    Figure("mw.paper.rms_sigma_result", "29.4", "km/s", PAPER, "4.2", "RMS, Σ-Gravity, in the §4.2 'Result' line"),
    Figure("mw.paper.rms_mond", "30.3", "km/s", PAPER, "4.2", "RMS, MOND, in the §4.2 table"),
    Figure("mw.si4a.rms_sigma", "29.5", "km/s", SI, "SI §4a", "Milky Way RMS, Σ-Gravity, in the test-suite table"),
    Figure("mw.si4a.rms_mond", "~30", "km/s", SI, "SI §4a", "Milky Way RMS, MOND column of the test-suite table"),
    Figure("mw.paper44.rms_sigma", "29.5", "km/s", PAPER, "4.4", "Milky Way RMS, Σ-Gravity, in the cross-domain "
           "table (no MOND value there)"),
    # Redshift (test 4).
    Figure("redshift.ratio_z1", "1.77", "", SI, "SI §8", "g†(z = 1)/g†(0)"),
    Figure("redshift.ratio_z2", "2.97", "", SI, "SI §8", "g†(z = 2)/g†(0)"),
    Figure("redshift.ratio_z2_si4a", "2.966", "", SI, "SI §4a", "g†(z = 2)/g†(z = 0), 'Expected Results'"),
    # Solar System (test 5).
    Figure("solar.sigma_minus_1_earth", "<10⁻¹²", "", SI, "SI §8", "Σ − 1 at Earth"),
    Figure("solar.sigma_minus_1_saturn", "<10⁻⁹", "", SI, "SI §8", "Σ − 1 at Saturn"),
    Figure("solar.g_over_g_dagger_earth", "6×10⁷", "", SI, "SI §8", "g/g† at Earth"),
    Figure("solar.g_over_g_dagger_saturn", "7×10⁵", "", SI, "SI §8", "g/g† at Saturn"),
    Figure("solar.gamma_minus_1_si8", "~ 10⁻⁹", "", SI, "SI §8", "Σ-Gravity's |γ − 1|"),
    Figure("solar.gamma_minus_1_si4a", "1.77×10⁻⁹", "", SI, "SI §4a", "Σ-Gravity's 'Solar System |γ − 1|'"),
    Figure("solar.cassini_bound", "2.3×10⁻⁵", "", SI, "SI §8", "Cassini bound on |γ − 1| (Bertotti+2003)"),
    Figure("solar.h_saturn_paper", r"2.7 \times 10^{-9}", "", PAPER, "2.14", "h(g_N) at Saturn (r ≈ 9.5 AU)"),
    Figure("solar.sigma_minus_1_paper", "10^{-8}", "", PAPER, "2.14", "bound on Σ − 1 with W = 1 and A = √3"),
    Figure("solar.gamma_estimate_paper", r"1.2 \times 10^{-8}", "", PAPER, "2.14.4",
           "γ − 1 ≈ 2g†r_E²/(GM☉) at r_E = 1 AU"),
    # Counter-rotation (test 6): MaNGA f_DM, and the §5.2 prediction table.
    Figure("counter.f_dm_counter", "0.169", "", SI, "SI §8", "mean f_DM of counter-rotating galaxies"),
    Figure("counter.f_dm_normal", "0.302", "", SI, "SI §8", "mean f_DM of normal galaxies"),
    Figure("counter.p_value", "0.004", "", SI, "SI §8", "p-value of the f_DM difference"),
    Figure("counter.n_galaxies", "63", "", SI, "SI §3.4", "counter-rotating galaxies (Bevacqua+2022 × DynPop)"),
    Figure("counter.table.f0", "2.69", "", PAPER, "5.2", "Σ at 0 % counter-rotation"),
    Figure("counter.table.f25", "2.27", "", PAPER, "5.2", "Σ at 25 % counter-rotation"),
    Figure("counter.table.f50", "1.84", "", PAPER, "5.2", "Σ at 50 % counter-rotation"),
    Figure("counter.table.f100", "1.00", "", PAPER, "5.2", "Σ at 100 % counter-rotation"),
    Figure("counter.table.mond", "2.56", "", PAPER, "5.2", "MOND enhancement in the same table (every row)"),
    # Tully-Fisher (test 7).
    Figure("btfr.slope_sigma", "4", "", SI, "SI §4a", "BTFR slope, Σ-Gravity ('slope = 4')"),
    Figure("btfr.slope_observed", "3.98", "", SI, "SI §4a", "observed BTFR slope 3.98 ± 0.06 (McGaugh 2012)"),
    Figure("btfr.m_pred_over_m_obs", "0.87", "", SI, "SI §4a", "BTFR M_pred/M_obs"),
    # Wide binaries (test 8): the paper's §2.14.1 table and the SI's 63.2 %.
    Figure("wb.no_efe_5kAU", "1.32", "", PAPER, "2.14.1 Low-Acceleration", "v/v_Kep at 5,000 AU, no EFE"),
    Figure("wb.no_efe_10kAU", "1.52", "", PAPER, "2.14.1 Low-Acceleration", "v/v_Kep at 10,000 AU, no EFE"),
    Figure("wb.no_efe_20kAU", "1.85", "", PAPER, "2.14.1 Low-Acceleration", "v/v_Kep at 20,000 AU, no EFE"),
    Figure("wb.efe_5kAU", "1.08", "", PAPER, "2.14.1 Low-Acceleration", "v/v_Kep at 5,000 AU with the EFE"),
    Figure("wb.efe_10kAU", "1.12", "", PAPER, "2.14.1 Low-Acceleration", "v/v_Kep at 10,000 AU with the EFE"),
    Figure("wb.efe_20kAU", "1.15", "", PAPER, "2.14.1 Low-Acceleration", "v/v_Kep at 20,000 AU with the EFE"),
    Figure("wb.g_internal_10kAU", "5.9×10⁻¹²", "m/s²", PAPER, "2.14.1 Low-Acceleration",
           "the table's g_internal at 10,000 AU"),
    Figure("wb.g_mw", r"2.2 \times 10^{-10}", "m/s²", PAPER, "2.14.1 Low-Acceleration",
           "Milky Way field at the Sun, (233 km/s)²/8 kpc"),
    Figure("wb.boost_10kAU", "63.2%", "%", SI, "SI §4a", "wide-binary boost at 10 kAU"),
    Figure("wb.chae2023", "35%", "%", SI, "SI §4a", "observed boost 35 % ± 10 % (Chae 2023)"),
    # Dwarf spheroidals (test 9).
    Figure("dsph.sigma_ratio", "0.72", "", SI, "SI §4a", "σ_pred/σ_obs of the dSphs (gold standard 'Walker+ 2009', "
           "no sample size)"),
    Figure("dsph.window_si13_3", "W → 0", "", SI, _SI133, "coherence window of dwarf spheroidals "
           "('dispersion-dominated')"),
    # Tests 10-16 of SI §4a.
    Figure("udg.df2_sigma_pred", "20.8", "km/s", SI, "SI §4a", "DF2's predicted dispersion ('EFE needed')"),
    Figure("ggl.m_eff_over_m_star", "9.5", "", SI, "SI §4a", "galaxy-galaxy lensing M_eff/M_star at 200 kpc"),
    Figure("ggl.mond", "~10", "", SI, "SI §4a", "galaxy-galaxy lensing, MOND column"),
    Figure("efe.suppression", "0.36", "", SI, "SI §4a", "external-field suppression, Σ-Gravity"),
    Figure("efe.mond", "0.3", "", SI, "SI §4a", "external-field suppression, MOND column"),
    Figure("gw.delta_c_bound", "<10⁻¹⁵", "", SI, "SI §4a", "GW170817 bound on Δc/c (Abbott+2017)"),
    Figure("structure.g_over_g_dagger", "1.5", "", SI, "SI §4a", "g/g† 'at cluster scales'"),
    Figure("cmb.g_over_g_dagger", "2.7×10⁻¹⁰", "", SI, "SI §4a", "g/g†(z) at z = 1100"),
    Figure("bullet.m_pred_over_m_bar", "1.12", "", SI, "SI §4a", "Bullet Cluster M_pred/M_bar, Σ-Gravity"),
    Figure("bullet.mond", "~0.5", "", SI, "SI §4a", "Bullet Cluster, MOND column"),
    Figure("bullet.m_lens_over_m_bar", "2.1", "", SI, "SI §4a", "Bullet Cluster M_lens/M_bar (Clowe+2006)"),
    Figure("bullet.paper.z", "0.30", "", PAPER, "4.3", "Bullet Cluster redshift in the profile-based table"),
    Figure("bullet.paper.m_gas", "5.0", "10¹² M☉", PAPER, "4.3", "Bullet Cluster gas mass (Markevitch+2004)"),
    Figure("bullet.paper.m_star", "2.0", "10¹² M☉", PAPER, "4.3", "Bullet Cluster stellar mass"),
    Figure("bullet.paper.m_bar", "7.0", "10¹² M☉", PAPER, "4.3", "Bullet Cluster baryonic mass M_gas + M_star"),
    Figure("bullet.paper.msl", "120.0", "10¹² M☉", PAPER, "4.3", "Bullet Cluster strong-lensing mass MSL(200 kpc)"),
    Figure("bullet.paper.ratio", "0.47", "", PAPER, "4.3", "Bullet Cluster 'Ratio' (Σ-enhanced M_bar / MSL)"),
    # Lensing/dynamics slip (SI §11; not one of the 16 tests).
    Figure("slip.eta_sigma2", "0.75", "", SI, "SI §11", "slip η at Σ = 2"),
    Figure("slip.ratio_sigma2", "0.875", "", PAPER, "4.3", "M_lens/M_dyn at Σ = 2"),
    Figure("slip.ratio_sigma1_5", "0.90", "", PAPER, "4.3", "M_lens/M_dyn at Σ = 1.5"),
)
_SENSITIVITY: tuple[Figure, ...] = (
    # SI §13.4: coherence-scale statistics over the 171 galaxies [kpc].
    Figure("sensitivity.si13_4.xi_canonical_mean", "0.918", "kpc", SI, _SI134, "mean of ξ_canonical = R_d/(2π)"),
    Figure("sensitivity.si13_4.xi_canonical_std", "0.634", "kpc", SI, _SI134, "std of ξ_canonical"),
    Figure("sensitivity.si13_4.xi_dynamical_mean", "0.532", "kpc", SI, _SI134, "mean of ξ_dyn = k·σ_eff/Ω_d (k = 0.24)"),
    Figure("sensitivity.si13_4.xi_dynamical_std", "0.366", "kpc", SI, _SI134, "std of ξ_dyn"),
    Figure("sensitivity.si13_4.xi_ratio", "0.72", "", SI, _SI134, "ratio ξ_dyn/ξ_can"),
    # SI §13.5: W(r) replaced by the local coherence scalar C = v²/(v²+σ²).
    Figure("sensitivity.si13_5.canonical.rms", "17.75", "km/s", SI, _SI135, "RMS, canonical W(r) = r/(ξ+r)"),
    Figure("sensitivity.si13_5.canonical.win_rate", "47.4%", "%", SI, _SI135, "win rate, canonical W(r)"),
    *(f for sigma, rms in (("15", "17.82"), ("20", "17.75"), ("25", "17.72"), ("30", "17.75")) for f in (
        Figure(f"sensitivity.si13_5.c_local_s{sigma}.rms", rms, "km/s", SI, _SI135, f"RMS, C_local with σ = {sigma} km/s"),
        Figure(f"sensitivity.si13_5.c_local_s{sigma}.win_rate", "47.4%", "%", SI, _SI135,
               f"win rate, C_local with σ = {sigma} km/s"),
    )),
    # SI §14: window exponent and amplitude sensitivity.
    Figure("sensitivity.si14.window_p1.rms", "17.75", "km/s", SI, _SI14, "SPARC RMS, W = r/(ξ+r) (p = 1)"),
    Figure("sensitivity.si14.window_p05.rms", "18.97", "km/s", SI, _SI14, "SPARC RMS, W = 1 − (ξ/(ξ+r))^0.5"),
    Figure("sensitivity.si14.amplitude_1.rms", "19.2", "km/s", SI, _SI14, "SPARC RMS at A_galaxy = 1.0"),
    Figure("sensitivity.si14.amplitude_1173.rms", "17.75", "km/s", SI, _SI14, "SPARC RMS at A_galaxy = 1.173"),
    Figure("sensitivity.si14.amplitude_15.rms", "16.8", "km/s", SI, _SI14, "SPARC RMS at A_galaxy = 1.5"),
    Figure("sensitivity.si14.amplitude_1.cluster_ratio", "0.85", "", SI, _SI14, "cluster ratio at A_galaxy = 1.0"),
    Figure("sensitivity.si14.amplitude_1173.cluster_ratio", "0.987", "", SI, _SI14, "cluster ratio at A_galaxy = 1.173"),
    Figure("sensitivity.si14.amplitude_15.cluster_ratio", "1.12", "", SI, _SI14, "cluster ratio at A_galaxy = 1.5"),
)
_M1 = "Model 1: Mass-Based Coherence"
_M2 = "Model 2: Velocity-Based Coherence"
_NOTES: tuple[Figure, ...] = (
    # Note 000: per-galaxy fits of the "missing enhancement" (RMS and correlation over galaxies).
    Figure("note000.mass.rms", "11.05", "", NOTE_000, _M1, "RMS of the mass-coherence fit"),
    Figure("note000.mass.correlation", "0.225", "", NOTE_000, _M1, "correlation of the mass-coherence fit"),
    Figure("note000.mass.n_galaxies", "158", "", NOTE_000, _M1, "galaxies fitted"),
    Figure("note000.mass.K_max", "19.58", "", NOTE_000, _M1, "fitted K_max"),
    Figure("note000.mass.Psi0", "7.34e-8", "", NOTE_000, _M1, "fitted Ψ0"),
    Figure("note000.mass.gamma", "0.136", "", NOTE_000, _M1, "fitted γ"),
    Figure("note000.mass.R_eff_factor", "1.33", "", NOTE_000, _M1, "fitted R_eff/R_d"),
    Figure("note000.velocity.rms", "11.20", "", NOTE_000, _M2, "RMS of the velocity-coherence fit"),
    Figure("note000.velocity.correlation", "0.061", "", NOTE_000, _M2, "correlation of the velocity-coherence fit"),
    Figure("note000.velocity.n_galaxies", "158", "", NOTE_000, _M2, "galaxies fitted"),
    Figure("note000.velocity.F_max", "10.38", "", NOTE_000, _M2, "fitted F_max"),
    Figure("note000.velocity.Psi0", "9.80e-3", "", NOTE_000, _M2, "fitted Ψ0"),
    Figure("note000.velocity.delta", "2.04", "", NOTE_000, _M2, "fitted δ"),
    Figure("note000.velocity.v_ref", "125.5", "km/s", NOTE_000, _M2, "fitted v_ref"),
    Figure("note000.functional_form.rms", "10.28", "", NOTE_000, "Comparison", "RMS of the empirical functional form"),
    Figure("note000.functional_form.correlation", "0.405", "", NOTE_000, "Comparison",
           "correlation of the empirical functional form"),
)

_SI152 = "SI §15.2 Results"
_ABLATION: tuple[Figure, ...] = (
    # SI §15: A, ξ per galaxy (Σ-Gravity) vs log10 M200, c per galaxy (NFW), 2 fitted parameters each.
    Figure("ablation.sigma.mean_chi2_red", "1.42", "", SI, _SI152, "mean χ²_red, Σ-Gravity fitted per galaxy"),
    Figure("ablation.nfw.mean_chi2_red", "1.58", "", SI, _SI152, "mean χ²_red, NFW fitted per galaxy"),
    Figure("ablation.sigma.median_chi2_red", "0.98", "", SI, _SI152, "median χ²_red, Σ-Gravity fitted per galaxy"),
    Figure("ablation.nfw.median_chi2_red", "1.12", "", SI, _SI152, "median χ²_red, NFW fitted per galaxy"),
    Figure("ablation.sigma.wins", "97", "", SI, _SI152, "galaxies where fitted Σ-Gravity has the lower χ²_red"),
    Figure("ablation.nfw.wins", "74", "", SI, _SI152, "galaxies where fitted NFW has the lower χ²_red"),
    Figure("ablation.sigma.rar_scatter", "0.105", "dex", SI, _SI152, "RAR scatter, Σ-Gravity fitted per galaxy"),
    Figure("ablation.nfw.rar_scatter", "0.112", "dex", SI, _SI152, "RAR scatter, NFW fitted per galaxy"),
    Figure("ablation.sigma.win_rate", "55.4%", "%", SI, _SI152, "bootstrap win rate of fitted Σ-Gravity over NFW"),
    Figure("ablation.sigma.win_rate_ci", "3.8%", "%", SI, _SI152, "the ± of the 'bootstrap 95% CI' on that win rate"),
)

FIGURES: dict[str, Figure] = {f.key: f for f in (*_SPARC, *_REGRESSION, *_SENSITIVITY, *_NOTES, *_ABLATION)}
"""Every figure sigcube compares with, by key."""

_NOTE000_SAMPLE = ("note 000 states no sample cut; sigcube's (SPARC quality 1–2, ≥ 5 points, K_needed > 0) was "
                   "chosen to give the note's N")
COUNTS_BY_CONSTRUCTION: dict[str, str] = {
    "sparc.sample.n_galaxies": "sigcube's sample cut follows the author's scripts (drop the points with V_bar ≤ 0, "
                               "keep the galaxy when ≥ 5 points remain), not SI §3.1's chain, which drops a galaxy "
                               "without valid V_bar at all radii",
    "note000.mass.n_galaxies": _NOTE000_SAMPLE,
    "note000.velocity.n_galaxies": _NOTE000_SAMPLE,
}
"""Printed counts that sigcube's selection matches by construction, and how: a match is labelled
``count matched by construction`` (:meth:`Figure.verdict`), never ``reproduced``."""


SEED_SAMPLE_KIND = "sparc"
"""The kind of dataset cube the seeds' galaxy figures were printed for: SPARC as ``sigcube ingest sparc`` makes it
from its verified files (a user's table is kind ``rotation_curves``; a synthetic survey carries ``synth_kernel``)."""


def not_the_seed_sample(attrs: Mapping[str, Any], n_galaxies: int, paper_cuts: bool = True) -> str | None:
    """Why values computed on a cube with attributes ``attrs`` holding ``n_galaxies`` (with the paper's sample cuts or
    not) are not set next to the seeds' SPARC figures, or None when the cube is the sample those figures were printed
    for (the whole SPARC database, SI §3.1's count, as ingested: not a synthetic sample on its baryons)."""
    cube_kind = str(attrs.get("sigcube_kind", ""))
    if "synth_kernel" in attrs:
        return ("this cube is synthetic (sigcube synth), not the SPARC sample the seeds' figures were printed for: "
                "its values are shown alone")
    if cube_kind != SEED_SAMPLE_KIND:
        return (f"this cube (kind {cube_kind or 'unknown'}) is not the SPARC sample the seeds' figures were printed "
                "for: its values are shown alone")
    whole = int(figure("sparc.sample.n_database").number)
    if n_galaxies != whole:
        return (f"this cube holds {n_galaxies} of SPARC's {whole} galaxies, not the sample the seeds' figures were "
                "printed for: its values are shown alone")
    if not paper_cuts:
        return ("these sample cuts are not the paper's (≥ 5 points, every quality flag and inclination): the seeds' "
                "figures were printed for the paper's sample, so the values are shown alone")
    return None


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
    the same or a higher level (subsections included). Lines inside fenced code blocks are never
    headings (a Python comment is not). KeyError if no heading matches, or if more than one does."""
    lines = seed_text.splitlines()
    headings: dict[int, re.Match] = {}
    fenced = False
    for i, line in enumerate(lines):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and (m := _HEADING.match(line)):
            headings[i] = m
    starts = [(i, len(m.group(1))) for i, m in headings.items()
              if m.group(2) == section or m.group(2).startswith(section + " ")]
    if len(starts) != 1:
        raise KeyError(f"{len(starts)} headings start with {section!r}")
    first, level = starts[0]
    end = next((j for j, m in headings.items() if j > first and len(m.group(1)) <= level), len(lines))
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
