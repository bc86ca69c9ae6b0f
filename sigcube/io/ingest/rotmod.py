"""Reader of SPARC rotation-curve files ``<Galaxy>_rotmod.dat`` (Lelli+2016, ``Rotmod_LTG.zip``), one or a folder.

Layout: a ``# Distance = D Mpc`` first line, ``#`` header lines, then rows of whitespace-separated numbers; blank
lines are allowed. SPARC's files have 8 columns, in this order: Rad [kpc], Vobs, errV, Vgas, Vdisk, Vbul [km/s]
(Vdisk, Vbul at M/L = 1; Vgas includes helium and can be negative), SBdisk, SBbul [Lsun/pc^2]. The galaxy is named
by the file: its name without ``_rotmod.dat`` (without its extension when it is named otherwise).

Two header lines above the rows are honoured where a file has them (SPARC's files have both, in the order above):

- a names line, ``# Rad Vobs errV …``: a ``#`` line naming at least two of the columns (by SPARC's labels or
  sigcube's names, in any case). The rows are read by those names, in the line's order; SBdisk and SBbul may be
  left out (then NaN). A name it does not know, a name given twice, a required column left out, or a row with
  another number of columns is refused naming the line;
- a units line, ``# kpc km/s …``: a ``#`` line at least two of whose words are units of a column (a length, a
  velocity, a surface brightness; ``L`` in ``L/pc^2`` is L☉, as SPARC writes it), and at least half of them or as
  many words as there are columns (``in`` is read as the word, not inches). It gives one unit per column, and each
  column is converted by astropy to the unit above; a word astropy cannot parse, or a unit of another kind, is
  refused naming it. A name may carry its unit instead: ``Rad[kpc]`` or ``Rad(kpc)``.

Any other ``#`` line above the rows (prose) that states a unit of a column is read too (:func:`_statements`): a unit in
brackets beside a word (``Rad [pc]``, ``Rad(pc)``) or standing as a word (``Radius in pc``, ``Rad: pc``) is the unit
of the column the word, or the nearest word before it in its clause, names — a label (``Rad``, ``Vobs``) or a
kind's word (``radius``/``radii``: Rad; ``velocity``/``velocities``: the five velocities; ``brightness``: SBdisk and
SBbul). A unit after a number (``13.8 Mpc``) is a quantity, not a column's. A unit that names no column is refused
unless it is already the unit of every column of its kind (``kpc``, ``km/s``: such a line misreads nothing), and so
are a unit of another kind than its column's and two units stated for one column.

Without a names line the columns are SPARC's, in SPARC's order; without units, in SPARC's units. A names line, a
units line, a line stating a unit that differs from its column's, or a second distance line below the first row is
refused (a header below its rows, or two files run together).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import astropy.units as u
import numpy as np

from sigcube.errors import ParseError
from sigcube.io.ingest.bounds import BOUNDS
from sigcube.io.ingest.text import distinct, head_text, parse_number, read_text_lines
from sigcube.io.layouts import CURVE_VARIABLES

ROTMOD_SUFFIX = "_rotmod.dat"
#: Column labels as in the file header, in file order.
COLUMNS = ("Rad", "Vobs", "errV", "Vgas", "Vdisk", "Vbul", "SBdisk", "SBbul")
#: Their sigcube names (the fields of :class:`RotmodCurve`), each checked against its physical bounds.
NAMES = ("r", "v_obs", "e_v_obs", "v_gas", "v_disk", "v_bul", "sb_disk", "sb_bul")
#: The columns a file must have (a names line may leave out the others: SBdisk, SBbul).
REQUIRED = COLUMNS[:6]
#: The unit of each column (the cube's).
UNITS = tuple(u.Unit(CURVE_VARIABLES[name].units) for name in NAMES)

_DISTANCE = re.compile(r"#\s*Distance\s*=\s*(\S+)\s*Mpc\s*", re.IGNORECASE)
_LABELS = {**{name.casefold(): i for i, name in enumerate(NAMES)}, **{c.casefold(): i for i, c in enumerate(COLUMNS)}}
_SPLIT = re.compile(r"[\s,;|]+")
_BRACKETED = re.compile(r"\[[^\]]*\]|\([^)]*\)")
_WORD = re.compile(r"(?P<label>[^\[\]()]+?)(?:\[(?P<bracket>[^\]]*)\]|\((?P<paren>[^)]*)\))?")
_KINDS = {"kpc": "length", "km / s": "velocity", "solLum / pc2": "surface brightness"}
#: The words of prose that name the columns of a kind (besides the columns' labels).
_KIND_WORDS = {"radius": (0,), "radii": (0,), "velocity": (1, 2, 3, 4, 5), "velocities": (1, 2, 3, 4, 5),
               "brightness": (6, 7), "brightnesses": (6, 7)}
#: English words astropy would parse as a length (attometre, picometre, …), not read as units when they stand alone.
_NOT_UNITS = frozenset({"in", "am", "pm", "dam", "hm", "um", "au"})
_CLAUSE = frozenset(",;|")
_TOKEN = re.compile(r"[,;|]|[^\s,;|:=]+")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


@dataclass(frozen=True)
class RotmodCurve:
    """One galaxy's rotation curve and baryonic mass model (read-only float64 arrays).

    ``r`` [kpc]; ``v_obs``, ``e_v_obs``, ``v_gas``, ``v_disk``, ``v_bul`` [km/s];
    ``sb_disk``, ``sb_bul`` [Lsun/pc^2] (NaN if the file has no such column); ``distance_mpc`` [Mpc].
    """

    name: str
    distance_mpc: float
    r: np.ndarray
    v_obs: np.ndarray
    e_v_obs: np.ndarray
    v_gas: np.ndarray
    v_disk: np.ndarray
    v_bul: np.ndarray
    sb_disk: np.ndarray
    sb_bul: np.ndarray


@dataclass(frozen=True)
class _Stated:
    """A unit a prose header line states: the columns it is for (empty: it names none), the unit, its text as written
    (``pc``), the word that holds it (``Rad[pc]``) and the line."""

    columns: tuple[int, ...]
    unit: u.UnitBase
    written: str
    text: str
    line: int


@dataclass(frozen=True)
class _Layout:
    """The columns of a file's rows: which of :data:`COLUMNS` each is, the unit the header states for it (None: the
    format's), and the line naming them."""

    order: tuple[int, ...] = tuple(range(len(COLUMNS)))
    stated: tuple[u.UnitBase | None, ...] = (None,) * len(COLUMNS)
    line: int | None = None

    @property
    def units(self) -> tuple[u.UnitBase, ...]:
        """The unit of each column: the one stated, else the format's."""
        return tuple(unit or UNITS[i] for i, unit in zip(self.order, self.stated))

    def describe(self) -> str:
        """The columns in words: ``Rad Vobs errV …`` (and the line that names them)."""
        names = " ".join(COLUMNS[i] for i in self.order)
        return names + (f", as line {self.line} names them" if self.line is not None else "")


def read_rotmod(path: Path | str, encoding: str | None = None, option: str | None = None) -> RotmodCurve:
    """Read a ``<Galaxy>_rotmod.dat`` file (UTF-8 or as its byte-order mark says, or in ``encoding``; ``option``:
    the option that gives the encoding, named in messages).

    Raises ParseError (naming file and line) if it is malformed, DataSourceError if it cannot be read.
    """
    path = Path(path)
    lines = read_text_lines(path, encoding, option)
    distance = _distance(lines, path)
    rows = [(n, text) for n, text in enumerate(lines[1:], start=2)
            if text.strip() and not text.lstrip().startswith("#")]
    first = rows[0][0] if rows else len(lines) + 1
    comments = [(n, lines[n - 1]) for n in range(2, first) if lines[n - 1].lstrip().startswith("#")]
    layout = _layout(comments, path)
    late = _late_header(lines, first, layout)
    if not rows:
        raise ParseError(
            path, "no data rows: the file ends after its header (empty or truncated)", max(len(lines), 1)
        )
    values = np.empty((len(rows), len(layout.order)))
    for k, (number, text) in enumerate(rows):
        if late is not None and number > late[0]:
            break
        tokens = text.split()
        if len(tokens) != len(layout.order):
            raise ParseError(path, f"expected {len(layout.order)} columns ({layout.describe()}), found {len(tokens)}",
                             number)
        values[k] = [parse_number(token, COLUMNS[i], path, number) for token, i in zip(tokens, layout.order)]
    if late is not None:  # after the rows above it, whose errors come first
        raise ParseError(path, late[1], late[0])
    columns = np.full((len(COLUMNS), len(rows)), np.nan)
    for j, (i, unit) in enumerate(zip(layout.order, layout.units)):
        columns[i] = values[:, j] if unit == UNITS[i] else (values[:, j] * unit).to_value(UNITS[i])
    _check(columns, [number for number, _ in rows], layout, path)
    columns.flags.writeable = False
    return RotmodCurve(rotmod_galaxy(path), distance, *columns)


def rotmod_galaxy(path: Path) -> str:
    """The galaxy a rotmod file is named for: ``NGC3198_rotmod.dat`` → ``NGC3198`` (else the name's stem)."""
    return path.name.removesuffix(ROTMOD_SUFFIX) if path.name.endswith(ROTMOD_SUFFIX) else path.stem


def is_rotmod(path: Path) -> bool:
    """Whether ``path`` is named ``*_rotmod.dat`` or opens with a ``# Distance = D Mpc`` line (a rotmod file)."""
    if path.name.endswith(ROTMOD_SUFFIX):
        return True
    with open(path, "rb") as handle:
        head = head_text(handle.read(512))
    return _DISTANCE.fullmatch(head.split("\n", 1)[0].rstrip("\r")) is not None


def rotmod_files(folder: Path) -> tuple[list[Path], list[str]]:
    """The ``*_rotmod.dat`` files of ``folder``, sorted by name, and the names of the folder's other entries (a
    sub-folder's with a ``/``); a ParseError if it has no such file."""
    entries = sorted(folder.iterdir())
    files = [p for p in entries if p.name.endswith(ROTMOD_SUFFIX) and p.is_file()]
    if not files:
        raise ParseError(folder, f"the folder has no <Galaxy>{ROTMOD_SUFFIX} files (SPARC mass models); give one "
                                 "file, or a folder of them")
    others = [p.name + ("/" if p.is_dir() else "") for p in entries if p not in files]
    return files, others


def opens_like_rotmod(path: Path) -> bool:
    """Whether a file not named ``*_rotmod.dat`` opens with a ``# Distance = D Mpc`` line (False if unreadable)."""
    try:
        return path.is_file() and is_rotmod(path)
    except OSError:
        return False


def _distance(lines: list[str], path: Path) -> float:
    """Distance [Mpc] from the first line, ``# Distance = D Mpc``."""
    match = _DISTANCE.fullmatch(lines[0]) if lines else None
    if match is None:
        raise ParseError(path, "the first line must be '# Distance = <D> Mpc'", 1)
    distance = parse_number(match.group(1), "Distance", path, 1)
    if BOUNDS["distance"].outside(distance):
        raise ParseError(path, f"Distance = {BOUNDS['distance'].problem(distance)}", 1)
    return distance


def _late_header(lines: list[str], first: int, layout: _Layout) -> tuple[int, str] | None:
    """The first ``#`` line among the rows (from line ``first``) that a header line would be — a names line, a units
    line or a second distance line (two files run together, or a header below the rows it describes) —, and why it
    is refused; None if there is none."""
    for number in range(first + 1, len(lines) + 1):
        text = lines[number - 1]
        if not text.lstrip().startswith("#"):
            continue
        words = _words(text)
        changed = [stated for stated in _statements(number, text) if _changes(layout, stated)]
        what = ("a second '# Distance' line (a file holds one galaxy)" if _DISTANCE.fullmatch(text) else
                "a line naming the columns" if sum(_label(word) is not None for word in words) >= 2 else
                "a units line" if _units_like(words, len(layout.order)) else
                f"a line stating the unit {changed[0].text!r}" if changed else None)
        if what is not None:
            return number, f"{what} below the first row (line {first}): header lines go above the rows"
    return None


def _words(line: str) -> list[str]:
    """The words of a ``#`` header line, split at spaces, tabs, commas, semicolons and bars; a unit in brackets
    standing alone is joined to the name before it (``Rad [kpc]`` → ``Rad[kpc]``)."""
    words: list[str] = []
    for word in _SPLIT.split(line.lstrip().lstrip("#").strip()):
        if words and _BRACKETED.fullmatch(word) and _BRACKETED.search(words[-1]) is None:
            words[-1] += word
        elif word:
            words.append(word)
    return words


def _layout(comments: Sequence[tuple[int, str]], path: Path) -> _Layout:
    """The columns the header lines above the rows (line number, text) give: by their names line and units line, and
    the units the other lines state (:func:`_statements`)."""
    worded = [(n, _words(text)) for n, text in comments]
    names = [(n, words) for n, words in worded if sum(_label(word) is not None for word in words) >= 2]
    _one(names, "name the columns", path)
    layout = _named(*names[0], path) if names else _Layout()
    units = [(n, words) for n, words in worded
             if (n, words) not in names and _units_like(words, len(layout.order))]
    _one(units, "give the columns' units", path)
    if units:
        layout = _with_units(layout, *units[0], path)
    prose = {n for n, _ in names + units}
    statements = [stated for n, text in comments if n not in prose for stated in _statements(n, text)]
    return _with_statements(layout, units[0][0] if units else layout.line, statements, path)


def _one(lines: list[tuple[int, list[str]]], what: str, path: Path) -> None:
    """Refuse two header lines that both do ``what``."""
    if len(lines) > 1:
        raise ParseError(path, f"lines {lines[0][0]} and {lines[1][0]} both {what}: keep one", lines[1][0])


def _label(word: str) -> int | None:
    """The column a header word names (``Vobs``, ``v_obs``, ``Vobs[km/s]``), None if it names none."""
    match = _WORD.fullmatch(word)
    return _LABELS.get(match["label"].casefold()) if match else None


def _named(line: int, words: list[str], path: Path) -> _Layout:
    """The layout a names line gives: its columns, in its order, and the units written beside them."""
    order, units = [], []
    for word in words:
        column = _label(word)
        if column is None:
            raise ParseError(path, f"the header names {word!r}, which is not a column of SPARC's mass-model files "
                                   f"({' '.join(COLUMNS)}, or sigcube's {' '.join(NAMES)}): name the file's columns "
                                   "so", line)
        if column in order:
            first = words[order.index(column)]
            raise ParseError(path, f"the header names the column {COLUMNS[column]} twice ({first!r} and {word!r})",
                             line)
        match = _WORD.fullmatch(word)
        text = match["bracket"] if match["bracket"] is not None else match["paren"]
        order.append(column)
        units.append(None if text is None else _unit_of(text, column, line, path, "beside its name"))
    missing = [COLUMNS[i] for i in range(len(REQUIRED)) if i not in order]
    if missing:
        raise ParseError(path, f"the header names no {' or '.join(missing)} column ({' '.join(words)}): a mass model "
                               f"needs {' '.join(REQUIRED)} (SBdisk and SBbul may be left out)", line)
    return _Layout(tuple(order), tuple(units), line)


def _unit(text: str) -> u.UnitBase | None:
    """The unit a header word writes (``L`` in ``L/pc^2`` is L☉, as SPARC writes it; brackets around it dropped),
    None if astropy cannot parse it."""
    text = text[1:-1] if _BRACKETED.fullmatch(text) else text
    text = "solLum/" + text[2:] if text.startswith("L/") else text
    try:
        return u.Unit(text)
    except (ValueError, TypeError):
        return None


def _units_like(words: list[str], width: int) -> bool:
    """Whether a header line reads as units: at least two of its words a column's unit (``in``, the word, is not
    read as inches), and at least half of them, or as many words as the rows have columns (``width``)."""
    units = [unit for unit in map(_unit, words) if unit is not None and any(unit.is_equivalent(t) for t in UNITS)]
    n_units = len(units) - words.count("in")
    return n_units >= 2 and (n_units >= len(words) / 2 or len(words) == width)


def _unit_of(text: str, column: int, line: int, path: Path, where: str) -> u.UnitBase:
    """The unit ``text`` of ``column``; a ParseError if astropy cannot parse it or it is of another kind."""
    unit = _unit(text)
    if unit is None:
        raise ParseError(path, f"column {COLUMNS[column]}: astropy cannot parse the unit {text!r} {where}; write it "
                               f"as astropy does (e.g. {_unit_text(UNITS[column])})", line)
    return _of_column(unit, text, column, line, path, where)


def _of_column(unit: u.UnitBase, text: str, column: int, line: int, path: Path, where: str) -> u.UnitBase:
    """``unit`` (written ``text``) if it is of the kind of ``column``'s unit; else a ParseError."""
    target = UNITS[column]
    if not unit.is_equivalent(target):
        raise ParseError(path, f"column {COLUMNS[column]} has the unit {text!r} {where}, which is not a "
                               f"{_KINDS[target.to_string()]} ({_unit_text(target)})", line)
    return unit


def _with_units(layout: _Layout, line: int, words: list[str], path: Path) -> _Layout:
    """``layout`` with the units of a units line, one per column (agreeing with those written beside the names)."""
    if len(words) != len(layout.order):
        raise ParseError(path, f"the units line gives {len(words)} units ({' '.join(words)}) for "
                               f"{len(layout.order)} columns ({layout.describe()}): give one per column", line)
    units = []
    for word, column, named in zip(words, layout.order, layout.stated):
        unit = _unit_of(word, column, line, path, "on the units line"
                        + (f" (line {layout.line} names it)" if layout.line is not None else ""))
        if named is not None and named != unit:
            raise ParseError(path, f"column {COLUMNS[column]} is in {named.to_string()!r} beside its name (line "
                                   f"{layout.line}) and in {word!r} on the units line: give one unit", line)
        units.append(unit)
    return _Layout(layout.order, tuple(units), layout.line)


def _statements(line: int, text: str) -> list[_Stated]:
    """The units a prose header line states, each with the columns it is for (see the module's docstring).

    A unit in brackets is the column's whose label or kind's word it stands beside (none if that word names no
    column); a unit standing alone is the column's that the nearest such word before it in its clause names (a
    clause ends at a comma, semicolon or bar, and at the unit before). Only units of a column's kind count, except
    beside a column's label, where any physical unit is stated (and refused when it is of another kind)."""
    tokens: list[str] = []
    for token in _TOKEN.findall(text.lstrip().lstrip("#")):
        if tokens and tokens[-1] not in _CLAUSE and _BRACKETED.fullmatch(token) and not _BRACKETED.search(tokens[-1]):
            tokens[-1] += token
        else:
            tokens.append(token)
    stated: list[_Stated] = []
    start = 0
    for k, token in enumerate(tokens):
        if token in _CLAUSE:
            start = k + 1
            continue
        match = _WORD.fullmatch(token)
        beside = match is not None and (match["bracket"] is not None or match["paren"] is not None)
        written = (match["bracket"] if match["bracket"] is not None else match["paren"]) if beside else token
        unit = _unit(written.rstrip("."))
        after_number = _NUMBER.fullmatch(match["label"] if beside else tokens[k - 1] if k else "") is not None
        if unit is None or after_number or (not beside and written in _NOT_UNITS):
            continue
        if beside:
            columns = _subject(match["label"]) or ()
        else:
            columns = next((c for c in map(_subject, reversed(tokens[start:k])) if c), ())
        labelled = len(columns) == 1 and beside and _label(match["label"]) is not None
        physical = unit.physical_type != "dimensionless"
        if any(unit.is_equivalent(target) for target in UNITS) or (labelled and physical):
            stated.append(_Stated(columns, unit, written, token, line))
            start = k + 1
    return stated


def _subject(word: str) -> tuple[int, ...] | None:
    """The columns a word of prose names: a column's label, or a kind's word (``velocities``); None if none."""
    column = _label(word)
    return (column,) if column is not None else _KIND_WORDS.get(word.casefold())


def _of_kind(unit: u.UnitBase) -> tuple[int, ...]:
    """The columns whose unit is of the kind of ``unit``."""
    return tuple(i for i, target in enumerate(UNITS) if unit.is_equivalent(target))


def _changes(layout: _Layout, stated: _Stated) -> bool:
    """Whether ``stated`` would change a unit of ``layout`` (a unit that names no column: of any of its kind)."""
    return any(stated.unit != unit for i, unit in zip(layout.order, layout.units)
               if i in (stated.columns or _of_kind(stated.unit)))


def _with_statements(layout: _Layout, origin: int | None, statements: Sequence[_Stated], path: Path) -> _Layout:
    """``layout`` with the units of prose lines (``origin``: the line the layout's stated units come from); a unit
    that names no column and would change one, of another kind than its column's, or unlike one stated before for
    its column, is refused naming the line (and the earlier one)."""
    sources = [origin if unit is not None else None for unit in layout.stated]
    for stated in statements:
        if not stated.columns:
            if _changes(layout, stated):
                kind = next(i for i in _of_kind(stated.unit) if i in layout.order)
                raise ParseError(path, f"{stated.text!r} states the unit of a {_KINDS[UNITS[kind].to_string()]} but "
                                       "names no column it is for: write it beside the column's name "
                                       f"({COLUMNS[kind]} [{stated.written}]) or on a units line", stated.line)
            continue
        units = list(layout.stated)
        for column in stated.columns:
            if column not in layout.order:
                continue
            j = layout.order.index(column)
            _of_column(stated.unit, stated.written, column, stated.line, path, f"in {stated.text!r}")
            if units[j] is not None and units[j] != stated.unit:
                where = f" ({stated.text!r})" if stated.text != stated.written else ""
                raise ParseError(path, f"column {COLUMNS[column]} is in {_unit_text(units[j])!r} on line "
                                       f"{sources[j]} and in {stated.written!r}{where} on line {stated.line}: give "
                                       "one unit", stated.line)
            units[j], sources[j] = stated.unit, stated.line
        layout = _Layout(layout.order, tuple(units), layout.line)
    return layout


def _unit_text(unit: u.UnitBase) -> str:
    """A unit as a header writes it: ``km/s``."""
    return unit.to_string().replace(" / ", "/")


def _check(columns: np.ndarray, lines: list[int], layout: _Layout, path: Path) -> None:
    """Refuse the first row (in file order) with a value outside its column's bounds or a radius not above the
    previous row's (``columns``: every column of :data:`COLUMNS`, in the cube's units, a row per data line)."""
    outside = np.array([BOUNDS[name].outside(values) for name, values in zip(NAMES, columns)])
    bad = np.flatnonzero(outside.any(axis=0))
    back = np.flatnonzero(np.diff(columns[0]) <= 0) + 1
    if bad.size and (not back.size or bad[0] <= back[0]):
        k = bad[0]
        j = next(j for j, i in enumerate(layout.order) if outside[i, k])
        i, unit = layout.order[j], layout.units[j]
        converted = "" if unit == UNITS[i] else f" (converted from {_unit_text(unit)})"
        raise ParseError(path, f"column {COLUMNS[i]}: {BOUNDS[NAMES[i]].problem(columns[i, k])}{converted}", lines[k])
    if back.size:
        here, before = distinct(columns[0, back[0]], columns[0, back[0] - 1])
        raise ParseError(path, f"radii must increase strictly: Rad = {here} kpc follows Rad = {before} kpc",
                         lines[back[0]])
