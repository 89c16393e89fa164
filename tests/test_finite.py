"""No NaN or Infinity in any JSON vacrec prints, writes or answers."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from vacrec.finite import dumps, finite_json

NAN, INF = float("nan"), float("inf")


def strict_loads(text: str) -> object:
    """json.loads that refuses NaN and Infinity, as jq, browsers and PostgreSQL do."""

    def refuse(constant: str) -> object:
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def test_non_finite_numbers_become_null_at_any_depth():
    report = {
        "final_loss": NAN,
        "ope": {"candidate": {"snips": {"value": NAN, "low": -INF, "high": INF, "n": 3}}},
        "curve": [0.5, NAN, np.float32("inf"), np.float64(0.25)],
        "pair": (np.int64(2), np.bool_(True)),
        "array": np.array([1.0, np.nan]),
        "text": "NaN",
    }
    assert finite_json(report) == {
        "final_loss": None,
        "ope": {"candidate": {"snips": {"value": None, "low": None, "high": None, "n": 3}}},
        "curve": [0.5, None, None, 0.25],
        "pair": [2, True],
        "array": [1.0, None],
        "text": "NaN",
    }
    assert strict_loads(dumps(report))  # parses under strict rules


def test_dumps_refuses_what_it_cannot_make_finite_rather_than_printing_invalid_json():
    class Opaque:
        def __float__(self) -> float:
            return math.nan

    with pytest.raises(TypeError):
        dumps({"x": Opaque()})  # not JSON-serialisable: an error, never a bare NaN
