"""Report JSON as sigcube writes it — a command's ``--json`` line and ``--save``'s ``.json`` — strict, so that every
JSON parser reads it.

A report's number may be undefined: a standard deviation of one sample, a correlation of constant values, a rank
correlation on too few galaxies, a bound a model never reached. Computed, it is NaN (or ±inf); written, it is
``null``. JSON has no NaN or Infinity, and Python's ``json`` would print the bare tokens ``NaN`` and ``Infinity``,
which strict parsers (JavaScript's ``JSON.parse``, ``jq``, Rust's serde_json) refuse. A reader of sigcube's JSON
takes ``null`` in a number's place as "undefined here". numpy scalars and arrays are written as the numbers and lists
they hold; anything else that is not JSON data is written as ``float()`` of it, as before.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np


def strict(value: Any) -> Any:
    """``value`` as JSON data with every non-finite number as None (module docstring)."""
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, dict):
        return {k.item() if isinstance(k, np.generic) else k: strict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict(v) for v in value]
    if isinstance(value, np.ndarray):
        return strict(value.tolist())
    if isinstance(value, (np.bool_, np.integer)):
        return value.item()
    if isinstance(value, int):
        return value
    number = float(value)
    return number if math.isfinite(number) else None


def report_json(payload: Any, indent: int | None = None) -> str:
    """``payload`` as strict JSON text (:func:`strict`; ``json.dumps`` with ``allow_nan=False``, so that a NaN can
    never reach the text)."""
    return json.dumps(strict(payload), indent=indent, allow_nan=False)
