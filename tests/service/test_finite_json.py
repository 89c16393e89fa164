"""The API never answers NaN or Infinity (Starlette would fail the request with a 500)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient

from tests.test_finite import strict_loads
from vacrec.config import Settings
from vacrec.service.app import FiniteJSONResponse, create_app


def test_every_route_answers_null_for_a_number_that_is_not_finite(tmp_path: Path) -> None:
    app = create_app(Settings(home=tmp_path))

    @app.get("/probe/undefined")
    def undefined() -> dict[str, object]:  # what a route gets from an undefined estimate
        return {"snips": float("nan"), "curve": [1.0, float("inf")], "low": float("-inf")}

    client = TestClient(app)  # no lifespan: this route needs no store
    answer = client.get("/probe/undefined")
    assert answer.status_code == 200
    assert strict_loads(answer.text) == {"snips": None, "curve": [1.0, None], "low": None}
    assert app.router.default_response_class is FiniteJSONResponse


def test_the_fast_rendering_writes_what_the_standard_one_wrote() -> None:
    """orjson renders; NumPy numbers, tuples, int keys and non-ASCII come out as json did,
    and a value orjson refuses (an integer past 64 bits) still renders the old way."""
    content = {
        "score": np.float32(0.5),
        "count": np.int64(3),
        "pair": (1, 2),
        1: "ёж «q»",
        "none": float("nan"),
        "big": 2**70,
    }
    body = FiniteJSONResponse(content).body
    assert json.loads(body) == {
        "score": 0.5,
        "count": 3,
        "pair": [1, 2],
        "1": "ёж «q»",
        "none": None,
        "big": 2**70,
    }
    assert "ёж".encode() in body  # UTF-8, not \\u escapes
    assert FiniteJSONResponse({"a": [0.1, np.nan]}).body == b'{"a":[0.1,null]}'
