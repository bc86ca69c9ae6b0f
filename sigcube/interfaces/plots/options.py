"""A figure's options, read from its function's signature: each one's kind, default and description, and the
``--set KEY=VALUE`` grammar of ``sigcube plot`` that gives them.

The grammar, by the option's annotation: text as written; an integer or a number as written (``--set max_pairs=2``,
``--set max_points=5e4``); yes/no as ``true``/``false`` (also ``yes``/``no``, ``1``/``0``); a list as comma-separated
items (``--set kernels=sigma,mond``, ``--set properties=V_flat``); a pair of numbers as two comma-separated numbers
(``--set log10_m200=10,13``); one of a few choices as one of them. An option whose value is not one of these (a
grid of numbers) is given from Python only.
"""

from __future__ import annotations

import inspect
import re
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sigcube.errors import SigcubeError

DESCRIBED = {"title": "the figure's title"}
"""Descriptions of options many figures share, which their docstrings do not repeat."""
TRUE, FALSE = ("true", "yes", "1", "on"), ("false", "no", "0", "off")


class OptionError(SigcubeError):
    """A figure's option given badly: an unknown key, a value that does not read as the option's kind, a missing
    required option."""


@dataclass(frozen=True)
class FigureOption:
    """One option of a figure: its ``name``, ``kind`` (``text``, ``integer``, ``number``, ``yes/no``, ``list of
    text``, ``list of numbers``, ``pair of numbers``, ``one of …``, or ``python`` for a value the command line cannot
    give), ``default`` (``required`` when it has none), the ``choices`` of a ``one of`` option and ``help`` (the
    docstring's words about it)."""

    name: str
    kind: str
    default: Any
    required: bool
    choices: tuple[Any, ...] = ()
    help: str = ""

    @property
    def settable(self) -> bool:
        return self.kind != "python"

    def describe(self) -> str:
        """``name: kind = default`` (or ``required``), then its help."""
        default = "required" if self.required else f"default {_shown(self.default)}"
        kind = f"one of {', '.join(map(str, self.choices))}" if self.choices else self.kind
        if not self.settable:
            kind = "set from Python only"
        return f"{self.name} ({kind}; {default})" + (f": {self.help}" if self.help else "")

    def parse(self, text: str) -> Any:
        """``text`` (the VALUE of ``--set KEY=VALUE``) as this option's value (module docstring)."""
        where = f"--set {self.name}={text}"
        if not self.settable:
            raise OptionError(f"{where}: {self.name} is set from Python only (sigcube.interfaces.plots)")
        if self.choices:
            chosen = [c for c in self.choices if str(c) == text]
            if not chosen:
                raise OptionError(f"{where}: {self.name} is one of {', '.join(map(str, self.choices))}")
            return chosen[0]
        if self.kind == "text":
            return text
        if self.kind == "yes/no":
            if text.lower() in TRUE + FALSE:
                return text.lower() in TRUE
            raise OptionError(f"{where}: {self.name} is true or false")
        if self.kind in ("list of text", "list of numbers", "pair of numbers"):
            items = [t.strip() for t in text.split(",")]
            if not text.strip() or any(not t for t in items):
                raise OptionError(f"{where}: give {self.name} as comma-separated items, none empty (e.g. a,b)")
            if self.kind == "list of text":
                return tuple(items)
            values = tuple(_number(t, where, self.name, float) for t in items)
            if self.kind == "pair of numbers" and len(values) != 2:
                raise OptionError(f"{where}: {self.name} is two comma-separated numbers (e.g. 9,13.5)")
            return values
        return _number(text, where, self.name, int if self.kind == "integer" else float)


def _number(text: str, where: str, name: str, kind: type) -> Any:
    try:
        value = float(text)
    except ValueError:
        raise OptionError(f"{where}: {name} is {'an integer' if kind is int else 'a number'}") from None
    if kind is int:
        if not value.is_integer():
            raise OptionError(f"{where}: {name} is an integer")
        return int(value)
    return value


def _shown(value: Any) -> str:
    if isinstance(value, (tuple, list)):
        return ",".join(map(str, value)) or "none"
    if value is None:
        return "none (chosen by the figure)"
    if value == "":
        return "none"
    return str(value)


def _kind(hint: Any) -> tuple[str, tuple[Any, ...]]:
    """An annotation as an option kind and its choices."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        kinds = [_kind(a) for a in args if a is not type(None)]
        return kinds[0] if len(kinds) == 1 else ("python", ())
    if origin is typing.Literal:
        return "one of", tuple(args)
    if hint is str:
        return "text", ()
    if hint is bool:
        return "yes/no", ()
    if hint is int:
        return "integer", ()
    if hint is float:
        return "number", ()
    if origin is tuple and len(args) == 2 and all(a is float for a in args):
        return "pair of numbers", ()
    if origin in (tuple, list, Sequence) and args and args[0] in (str, float, int) and (origin is not tuple
                                                                                      or args[-1] is Ellipsis
                                                                                      or len(args) == 1):
        return ("list of text" if args[0] is str else "list of numbers"), ()
    return "python", ()


def _help(doc: str, name: str) -> str:
    """What the docstring says of ``name``: its clause that starts with the name (````name````: …, or ````a````,
    ````b````: … for several), else the shared description."""
    if name in DESCRIBED:
        return DESCRIBED[name]
    clauses = [c.strip().rstrip(".;") for c in re.split(r"(?<=[.;])\s+", " ".join(doc.split()))]
    mark = f"``{name}``"
    own = [c for c in clauses if re.match(r"^(``\w+``,?\s*(and\s+)?)+:", c) and mark in c.split(":")[0]]
    return own[0].split(":", 1)[1].strip().replace("``", "") if own else ""


def figure_options(function: Callable[..., Any], taken: Sequence[str]) -> list[FigureOption]:
    """The options of the figure drawn by ``function``: its parameters but those the command gives (``taken``: the
    input, the dataset cube)."""
    try:
        hints = typing.get_type_hints(function)
    except (NameError, TypeError):
        hints = {}
    doc = inspect.getdoc(function) or ""
    out = []
    for name, p in inspect.signature(function).parameters.items():
        if name in taken or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        kind, choices = _kind(hints.get(name, Any))
        required = p.default is inspect.Parameter.empty
        out.append(FigureOption(name, kind, None if required else p.default, required, choices, _help(doc, name)))
    return out


def given_options(pairs: Sequence[str], options: Sequence[FigureOption], figure: str) -> dict[str, Any]:
    """``--set KEY=VALUE`` pairs read as the figure's keyword arguments (:meth:`FigureOption.parse`); an unknown or
    repeated key, or a required option left out, is one :class:`OptionError` line naming the options."""
    known: Mapping[str, FigureOption] = {o.name: o for o in options}
    names = ", ".join(o.name for o in options if o.settable) or "none"
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        key = key.strip()
        if not sep or key not in known:
            raise OptionError(f"--set {pair!r}: give KEY=VALUE with KEY one of {names} (sigcube plot {figure} "
                              "--help describes them)")
        if key in out:
            raise OptionError(f"--set {key}: given twice")
        out[key] = known[key].parse(text)
    missing = [o for o in options if o.required and o.name not in out]
    if missing:
        said = [o.help for o in missing if o.help]
        raise OptionError(f"{figure} needs " + " and ".join(f"--set {o.name}=…" for o in missing)
                          + (f": {'; '.join(dict.fromkeys(said))}" if said else "")
                          + f" (sigcube plot {figure} --help lists its options)")
    return out
