"""JSON without NaN or Infinity, for everything vacrec prints, writes or answers.

Python's ``json`` writes ``NaN`` and ``Infinity``, which are not JSON: strict
parsers (``jq``, browsers' ``JSON.parse``, PostgreSQL) refuse the whole
document, and Starlette's response refuses to render it at all (a 500). An
undefined number (SNIPS when a policy never chose a logged action, a loss that
diverged) is reported as ``null``: "no number", which every reader handles.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np


def finite_json(value: Any) -> Any:
    """``value`` with every non-finite float (NaN, ±Infinity) replaced by None, recursively
    through dicts, lists and tuples; NumPy scalars and arrays become Python numbers and lists."""
    if isinstance(value, float | np.floating):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, np.integer | np.bool_):
        return value.item()
    if isinstance(value, np.ndarray):
        return finite_json(value.tolist())
    if isinstance(value, Mapping):
        return {key: finite_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite_json(item) for item in value]
    return value


def dumps(value: Any, **options: Any) -> str:
    """``json.dumps`` of :func:`finite_json` (``value``); anything still not finite raises
    rather than printing invalid JSON."""
    return json.dumps(finite_json(value), allow_nan=False, **options)
