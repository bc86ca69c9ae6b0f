"""Labels that render their mathematics, and ticks that stay readable on log axes.

A :class:`Label` holds one text twice: in Unicode for bokeh (which would need MathJax, loaded from a CDN, to typeset
TeX) and in matplotlib's mathtext for static figures. :func:`prose` converts the TeX-like notation of sigcube's
descriptions (``A0 = e^{1/(2π)}``, ``L^{1/4}``, ``g_N``) into both; :func:`symbol` names a parameter (``A0`` → A₀,
``sigma_int`` → σ_int); :func:`axis_label` joins a variable's ``long_name`` and ``units`` attributes.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

GREEK = {unicodedata.name(c).split()[-1].lower() if c.islower() else unicodedata.name(c).split()[-1].title(): c
         for c in "αβγδεηθκλμνξπρστυφχψωΣΥΨΩΔ"}
"""Greek letters by their names (``sigma`` → σ, ``Sigma`` → Σ), as parameter names spell them."""
GREEK["lambda"] = GREEK.pop("lamda")  # Unicode's spelling
GREEK["upsilon"] = "ϒ"  # a mass-to-light ratio (upsilon_disk): the hooked capital, which no font draws as a Y
TEX_GREEK = {v: f"\\{k}" for k, v in GREEK.items()} | {"Υ": "ϒ", "ϒ": "ϒ", "Σ": r"\Sigma"}
SUPERSCRIPT = dict(zip("0123456789+-−=()abcdefghijklmnoprstuvwxyzα", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᵅ"))
SUBSCRIPT = dict(zip("0123456789+-=()aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ"))


@dataclass(frozen=True)
class Label:
    """One label in Unicode (``unicode``, for bokeh) and in matplotlib mathtext (``tex``)."""

    unicode: str
    tex: str

    def __add__(self, other: Label | str) -> Label:
        other = other if isinstance(other, Label) else Label(other, _escape(other))
        return Label(self.unicode + other.unicode, self.tex + other.tex)


def _escape(text: str) -> str:
    """Plain text safe for matplotlib (a ``$`` would open mathtext)."""
    return text.replace("$", r"\$")


def _tex_chars(text: str) -> str:
    """Text inside mathtext: Greek letters as commands, a Unicode minus as ``-``."""
    return "".join(TEX_GREEK.get(c, c) for c in text).replace("−", "-").replace("%", r"\%")


def _script(text: str, table: Mapping[str, str]) -> str | None:
    """``text`` in Unicode super- or subscripts, or None when one of its characters has none."""
    out = [table.get(c) for c in text]
    return None if any(c is None for c in out) else "".join(out)  # type: ignore[arg-type]


_TOKEN = re.compile(r"(?P<base>(?<![A-Za-z0-9_])[A-Za-zα-ωΑ-Ω](?P<index>[0-9]{1,3}(?![0-9A-Za-z.]))?|\))"
                    r"(?:_(?P<sub>\{[^{}]*\}|[A-Za-z0-9]+))?(?:\^(?P<exp>\{[^{}]*\}|[-−]?[0-9A-Za-zα-ω.]+))?")
"""A symbol with its mathematics: one letter (``A``, ``ρ``) or ``)``, an index (``A0``, ``M200``), a subscript
(``g_N``, ``ρ_{crit}``), a power (``L^{1/4}``, ``λ^−α``)."""


def _token(m: re.Match[str], tex: bool) -> str:
    base, index = m.group("base"), m.group("index") or ""
    letter = base[: len(base) - len(index)]
    sub = (m.group("sub") or "").strip("{}")
    exp = (m.group("exp") or "").strip("{}")
    if tex:
        subs = ",".join(s if len(s) == 1 or s.isdigit() else rf"\mathrm{{{s}}}" for s in (index, sub) if s)
        return (f"${_tex_chars(letter)}" + (f"_{{{subs}}}" if subs else "") + (f"^{{{_tex_chars(exp)}}}" if exp else "")
                + "$")
    out = letter
    for s in (index, sub):
        if s:
            down = _script(s, SUBSCRIPT)
            out += down if down is not None else f"_{s}"
    if exp:
        up = _script(exp, SUPERSCRIPT)
        out = f"exp({exp})" if up is None and out == "e" else out + (up if up is not None else f"^({exp})")
    return out


def prose(text: str) -> Label:
    """A description with TeX-like notation rendered (:data:`_TOKEN`). Unicode: sub- and superscript characters
    where every character has one (else ``_x`` and ``^(…)``; ``e^{…}`` becomes ``exp(…)``); matplotlib: mathtext."""
    out = []
    for tex in (False, True):
        result, at = [], 0
        for m in _TOKEN.finditer(text):
            if not (m.group("index") or m.group("sub") or m.group("exp")):
                continue
            plain = text[at:m.start()]
            result += [_escape(plain) if tex else plain, _token(m, tex)]
            at = m.end()
        result.append(_escape(text[at:]) if tex else text[at:])
        out.append("".join(result).replace("$$", ""))
    return Label(*out)


def symbol(name: str) -> Label:
    """A parameter's symbol: ``A0`` → A₀, ``sigma_int`` → σ_int, ``log10_M200`` → log₁₀ M₂₀₀, ``tau`` → τ."""
    if name.startswith("log10_"):
        inner = symbol(name[len("log10_"):])
        return Label("log₁₀ " + inner.unicode, r"$\log_{10}$ " + inner.tex)
    head, _, sub = name.partition("_")
    if sub == "dagger":  # g_dagger: g†
        inner = symbol(head)
        return Label(inner.unicode + "†", inner.tex.rstrip("$") + r"^{\dagger}$")
    if "_" in sub:  # R_eff_factor: a name, not a symbol with a subscript
        return Label(name, name)
    m = re.fullmatch(r"([A-Za-z]+?)([0-9]*)", head)
    letters, digits = (m.group(1), m.group(2)) if m else (head, "")
    greek = GREEK.get(letters)
    base_u = greek or letters
    base_t = (TEX_GREEK[greek] if greek else (letters if len(letters) == 1 else rf"\mathrm{{{letters}}}"))
    subs = [s for s in (digits, sub) if s]
    if not subs:
        return Label(base_u, f"${base_t}$")
    down = _script(",".join(subs), SUBSCRIPT)
    u = base_u + (down if down is not None else "_" + ",".join(subs))
    t = base_t + "_{" + ",".join(s if s.isdigit() or len(s) == 1 else rf"\mathrm{{{s}}}" for s in subs) + "}"
    return Label(u, f"${t}$")


def unit_label(units: str | None) -> Label | None:
    """An astropy-parsable unit as ``m s⁻²`` (Unicode) and mathtext; None when dimensionless or absent."""
    if not units or not str(units).strip():
        return None
    try:
        from astropy import units as u

        unit = u.Unit(units)
        if unit == u.dimensionless_unscaled:
            return None
        text = unit.to_string("unicode")
        latex = unit.to_string("latex_inline")
        return Label(text, latex)
    except (ValueError, TypeError):
        return Label(str(units), _escape(str(units)))


LONGEST = 56
"""Characters of a ``long_name`` shown on an axis; a longer one (a definition rather than a name) gives way to the
variable's symbol."""


def name_of(name: str, long_name: str) -> str | None:
    """What of a ``long_name`` names the variable ``name`` on an axis: the whole of a short name ("MOND acceleration
    scale a0"); of a definition or a default's formula ("base amplitude A0 = e^{1/(2π)}", "coherence scale ξ = k·R_d")
    the words before ``=`` when they end with the variable itself (A0: "base amplitude A0"), else nothing (the k
    axis is not ξ: its symbol stands); nothing for a name longer than :data:`LONGEST` either."""
    head = long_name.split("=")[0].strip() if "=" in long_name else long_name.strip()
    if not head or len(head) > LONGEST:
        return None
    if "=" in long_name:
        last = head.split()[-1]
        if last not in (name, symbol(name).unicode):
            return None
    return head


def axis_label(name: str, attrs: Mapping[str, Any] | None = None, text: str | None = None) -> Label:
    """``long_name [units]`` of a variable (its mathematics rendered; of a definition only what names the variable,
    :func:`name_of`), else its symbol; ``text`` overrides the name."""
    attrs = attrs or {}
    named = name_of(name, str(attrs.get("long_name") or ""))
    return _with_unit(prose(text) if text else (prose(named) if named else symbol(name)), attrs)


def parameter_label(name: str, attrs: Mapping[str, Any] | None = None) -> Label:
    """A parameter's axis: its name in words with its symbol, and its unit ("MOND acceleration scale a₀ [m s⁻²]",
    "base amplitude A₀", "k"): :func:`name_of` of its ``long_name`` (the symbol added when the words do not hold
    it), else the symbol alone."""
    attrs = attrs or {}
    named = name_of(name, str(attrs.get("long_name") or ""))
    sym = symbol(name)
    if not named:
        return _with_unit(sym, attrs)
    words = prose(named)
    tokens = re.split(r"[\s(),;:·]+", words.unicode)
    held = sym.unicode.split()[-1] in tokens or name in named.split()
    return _with_unit(words if held else words + Label(f" {sym.unicode}", f" {sym.tex}"), attrs)


def _with_unit(body: Label, attrs: Mapping[str, Any]) -> Label:
    unit = unit_label(attrs.get("units"))
    return body + Label(f" [{unit.unicode}]", f" [{unit.tex}]") if unit is not None else body


def log_ticks(lo: float, hi: float, most: int = 6) -> list[tuple[float, str]] | None:
    """Ticks and short labels for a log axis from ``lo`` to ``hi`` spanning less than two decades (5e-11 … 3e-10:
    ``5e-11 1e-10 2e-10 3e-10``); None for a wider axis, where the backends' own decade ticks read well."""
    if not (np.isfinite(lo) and np.isfinite(hi)) or lo <= 0 or hi <= lo or hi / lo >= 100:
        return None
    for mantissas in ((1.0,), (1.0, 2.0, 5.0), (1.0, 2.0, 3.0, 5.0), (1.0, 1.5, 2.0, 3.0, 5.0, 7.0),
                      tuple(np.round(np.arange(1.0, 10.0, 0.5), 1)), tuple(np.round(np.arange(1.0, 10.0, 0.2), 1))):
        ticks = [m * 10.0 ** e for e in range(int(np.floor(np.log10(lo))), int(np.ceil(np.log10(hi))) + 1)
                 for m in mantissas]
        ticks = [t for t in ticks if lo * (1 - 1e-9) <= t <= hi * (1 + 1e-9)]
        if len(ticks) >= 4 or (len(ticks) == 3 and hi / lo > 10):
            if len(ticks) > most:
                ticks = ticks[:: int(np.ceil(len(ticks) / most))]
            return [(float(t), f"{t:.3g}") for t in ticks]
    return [(float(t), f"{t:.3g}") for t in (lo, np.sqrt(lo * hi), hi)]


def log_axes(ds: Any) -> set[str]:
    """Swept parameters whose grid the result cube's spec declares geometric (``logspace``)."""
    grid = tomllib.loads(ds.attrs.get("spec_text", "")).get("grid", {})
    return {name for name, table in grid.items() if isinstance(table, Mapping) and "logspace" in table}


def ticks_for(values: Sequence[float] | np.ndarray, log: bool, most: int = 6) -> list[tuple[float, str]] | None:
    """:func:`log_ticks` (at most ``most``) of the range of ``values`` on a log axis (None on a linear one)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    return log_ticks(float(v.min()), float(v.max()), most) if log and v.size else None


# --- words: what a figure calls the things a report names by key ---------------------------------------------------

UPSILON_DISK = Label("ϒ_disk", r"ϒ$_\mathrm{disk}$")
"""The disk's mass-to-light ratio at 3.6 μm [M☉/L☉] (the hooked capital upsilon: a plain Υ reads as a Y)."""
NUISANCE_SYMBOLS = {"upsilon_disk": UPSILON_DISK, "upsilon_bul": Label("ϒ_bul", r"ϒ$_\mathrm{bul}$"),
                    "distance": Label("D", "$D$"), "inclination": Label("i", "$i$"),
                    "velocity_scale": Label("u", "$u$")}
"""The symbols of a galaxy's nuisance parameters, by their name in a report."""


def nuisance_symbol(name: str) -> Label:
    """A galaxy's parameter as a figure writes it: a nuisance parameter's symbol (:data:`NUISANCE_SYMBOLS`), else
    the parameter's (:func:`symbol`)."""
    return NUISANCE_SYMBOLS.get(name) or symbol(name)


VELOCITY_SCALE = Label("u: each galaxy's velocity scale, the factor on its model curve in the data's frame: sin i/sin i₀ "
                       "(its inclination's), times s_g under τ_gal",
                       r"$u$: each galaxy's velocity scale, the factor on its model curve in the data's frame: "
                       r"$\sin i/\sin i_0$ (its inclination's), times $s_g$ under $\tau_\mathrm{gal}$")
"""What the symbol u of a fitted curve is (a figure's caption defines it)."""
ERROR_MODELS = {"quoted": "errors as quoted", "velocity_floor": "velocity floor σ_int",
                "lognormal_first_order": "log-normal σ_int (first order)", "lognormal": "log-normal σ_int",
                "sigma_floor": "floor σ_fl", "tau_gal": "velocity scale τ_gal", "tail": "Student-t tails 1/ν"}
"""An error model's name (a report's key, its parts joined by ``+``) in words."""
DATASETS = {"clash": "CLASH", "li2018": "Li+2018", "milky_way": "Milky Way"}
"""A joint sweep's dataset name (a report's key) as a survey is written, beyond the dataset kinds' own titles
(:attr:`~sigcube.io.datasets.DatasetKind.title`)."""
CHOICES = {"errors": "{} lensing errors", "baryons": "{} M_bar errors", "gas_dex": "gas calibration σ_G = {} dex",
           "gas_scope": "({})", "missing_baryons": "missing baryons f ≤ {}", "missing_scope": "({})",
           "path_scatter_dex": "scatter of L, σ_L = {} dex", "slip": "lensing slip", "path_length": "path length {}"}
"""A joint sweep's likelihood option, set to a value (``{}``), in words (an option's scope in parentheses after it)."""
VALUES = {"stat+syst": "stat + syst", "tian": "Tian+2020", "shared": "shared", "cluster": "per cluster",
          "diameter": "L = 2r"}
"""The values of a joint sweep's options in words."""
BENCHMARKS = {"survey": "survey", "sweep_throughput": "sweep", "kernel_throughput": "canonical kernel",
              "nuisance": "nuisance-marginalised sweep"}
"""A benchmark's name (``bench/<name>.py``) in words."""
RELATIONS = {"moster2013": "Moster+2013", "moster2013_propagated": "Moster+2013", "behroozi2013": "Behroozi+2013"}
"""A stellar-to-halo mass relation's name (:data:`sigcube.model.lcdm.SHMRS`) as it is cited."""


def error_model_words(name: str) -> str:
    """An error model's name in words: ``velocity_floor+tau_gal`` → "velocity floor σ_int + velocity scale τ_gal"."""
    return " + ".join(ERROR_MODELS.get(part, part.replace("_", " ")) for part in name.split("+"))


def relation_words(name: str) -> str:
    """A stellar-to-halo mass relation's name as it is cited (``moster2013`` → Moster+2013), else as given."""
    return RELATIONS.get(name, name)


def model_words(name: str) -> str:
    """A compared model's name with its stellar-to-halo relation as cited: ``nfw-lcdm-behroozi2013`` → nfw-lcdm
    (Behroozi+2013), ``dc14-lcdm-moster2013_propagated`` → dc14-lcdm (Moster+2013, propagated); others as given."""
    halo, lcdm, relation = name.partition("-lcdm-")
    if not lcdm:
        return name
    variant = relation.partition("_")[2].replace("_", " ")
    return f"{halo}-lcdm ({relation_words(relation)}{', ' + variant if variant else ''})"


def dataset_words(name: str) -> str:
    """A dataset's name as written (``sparc`` → SPARC: a dataset kind's title, or :data:`DATASETS`), else as given."""
    import sigcube.io.kinds  # noqa: F401 (the built-in kinds registered)
    from sigcube.io.datasets import dataset_kinds

    titles = {k.name: k.title for k in dataset_kinds() if k.title}
    return titles.get(name) or DATASETS.get(name, name)


def choice_words(option: str, value: Any) -> str:
    """A joint sweep's ``option`` set to ``value`` in words (:data:`CHOICES`; a number to 2 significant digits)."""
    shown = f"{value:.2g}" if isinstance(value, float) else VALUES.get(str(value), str(value))
    return CHOICES.get(option, f"{option.replace('_', ' ')} = {{}}").format(shown)


def choices_words(changed: Mapping[str, Any], every: frozenset[str] = frozenset()) -> str:
    """What a row of a joint sweep's choices table changes, in words (each option at its new value, the last of
    ``changed[option]``); the options of ``every`` (all the data systematics), when the row sets them all, as "every
    data systematic"."""
    if not changed:
        return "as given (the reference)"
    words, rest = [], dict(changed)
    if len(every) > 1 and every <= set(changed):
        words.append("every data systematic")
        rest = {k: v for k, v in changed.items() if k not in every and not k.endswith("_scope")}
    for option, values in rest.items():
        value = values[-1] if isinstance(values, (list, tuple)) else values
        text = choice_words(option, value)
        if text.startswith("(") and words:
            words[-1] += f" {text}"
        else:
            words.append(text)
    return " + ".join(words)
