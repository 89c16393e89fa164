"""The simulator's recommender over HTTP: simulated users of a running server.

Implements the runner's ``serve`` / ``feedback`` protocol with the v1 API,
so the same simulation that drives the in-process service layer can drive a
deployed service (and the end-to-end tests drive a real ``vacrec serve``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import httpx

from vacrec.app.serving import SeekerRequest


@dataclass(frozen=True)
class ServedRecommendation:
    """The parts of a v1 recommendation response the simulator reads."""

    event_id: str
    action: int
    industry: str
    model_version: int | None
    items: tuple[dict[str, Any], ...]


class HttpRecommender:
    """``serve`` and ``feedback`` of a vacrec server at ``base_url``."""

    def __init__(self, base_url: str, client: httpx.Client | None = None) -> None:
        self.client = client or httpx.Client(base_url=base_url, timeout=30)

    def serve(
        self,
        request: SeekerRequest,
        session_id: str | None = None,
        source: str = "api",  # the server records its own source; kept for the protocol
    ) -> ServedRecommendation:
        body: dict[str, Any] = {
            name: value
            for name, value in asdict(request).items()
            if value is not None  # absent: the server reads place and format from the words
        }
        if session_id is not None:
            body["session_id"] = session_id
        response = self.client.post("/api/v1/recommendations", json=body)
        response.raise_for_status()
        data = response.json()
        return ServedRecommendation(
            event_id=data["event_id"],
            action=data["action"]["index"],
            industry=data["action"]["industry"],
            model_version=data["model_version"],
            items=tuple(data["items"]),
        )

    def feedback(
        self,
        event_id: str,
        votes: list[tuple[str, int]] | None = None,
        cum_reward: int | None = None,
    ) -> float:
        body: dict[str, Any] = {"event_id": event_id}
        if votes is not None:
            body["votes"] = [{"vacancy_id": v, "vote": s} for v, s in votes]
        else:
            body["cum_reward"] = cum_reward
        response = self.client.post("/api/v1/feedback", json=body)
        response.raise_for_status()
        return float(response.json()["reward"])

    def industries(self) -> list[str]:
        """The served action list, in index order."""
        response = self.client.get("/api/v1/industries")
        response.raise_for_status()
        return [row["industry"] for row in response.json()["industries"]]

    def model_version(self) -> int | None:
        """The version of the live model the server is using, if any."""
        response = self.client.get("/api/v1/model")
        response.raise_for_status()
        version: int | None = response.json().get("version")
        return version
