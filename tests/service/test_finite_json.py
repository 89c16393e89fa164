"""The API never answers NaN or Infinity (Starlette would fail the request with a 500)."""

from __future__ import annotations

from pathlib import Path

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
