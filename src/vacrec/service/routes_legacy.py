"""The original service's two endpoints, same paths and shapes, with real status codes.

``GET /api/recommend/`` now also returns the ``event_id`` of the stored event;
``POST /api/write/`` ties the reward to that event when the client sends it
back, and otherwise stores it marked ``legacy`` (not tied to any event).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from vacrec.domain import AGE_MAX, AGE_MIN, LEGACY_K, PREFERENCE_MAX_CHARS
from vacrec.service.deps import ClientDep, RecommenderDep
from vacrec.service.openapi import error_responses
from vacrec.service.rate_limits import RECOMMEND_BUDGET, REWARD_BUDGET
from vacrec.service.schemas import (
    SKILL_DESCRIPTION,
    SKILL_MAX_CHARS,
    SKILL_SCHEMA,
    LegacyCard,
    LegacyDetails,
    LegacyErrorResponse,
    LegacyRecommendResponse,
    LegacyWriteRequest,
    LegacyWriteResponse,
)
from vacrec.store.events import LEGACY_SOURCE

router = APIRouter(prefix="/api", tags=["legacy"])


def _errors(*codes: int) -> dict[int | str, dict[str, object]]:
    """Errors keep the original's envelope."""
    return error_responses(LegacyErrorResponse, *codes)


@router.get(
    "/recommend/",
    response_model=LegacyRecommendResponse,
    responses=_errors(422, 429, 503),
    dependencies=[RECOMMEND_BUDGET],
)
def legacy_recommend(
    recommender: RecommenderDep,
    client: ClientDep,
    age: Annotated[int, Query(ge=AGE_MIN, le=AGE_MAX)],
    skill: Annotated[
        str,
        Query(
            min_length=1,
            max_length=SKILL_MAX_CHARS,
            description=SKILL_DESCRIPTION,
            json_schema_extra=SKILL_SCHEMA,
        ),
    ],
    preference: Annotated[str, Query(max_length=PREFERENCE_MAX_CHARS)] = "",
) -> LegacyRecommendResponse:
    """The original recommendation call: five vacancies of the chosen industry."""
    rec = recommender.recommend(
        age, skill, preference, k=LEGACY_K, source=LEGACY_SOURCE, client=client
    )
    return LegacyRecommendResponse(
        details=LegacyDetails(
            action=rec.action,
            event_id=rec.event_id,
            recommended=[
                LegacyCard(
                    id=item.card.id,
                    name=item.card.name,
                    desc_full=item.card.description,
                    logo=item.card.logo,
                )
                for item in rec.items
            ],
        )
    )


@router.post(
    "/write/",
    response_model=LegacyWriteResponse,
    responses=_errors(404, 409, 410, 413, 422, 429, 503),
    dependencies=[REWARD_BUDGET],
)
def legacy_write(
    body: LegacyWriteRequest, recommender: RecommenderDep, client: ClientDep
) -> LegacyWriteResponse:
    """The original reward call: the sum of the votes for (age, skill, action)."""
    recommender.legacy_write(**body.model_dump(), client=client)  # the body's fields, as named
    return LegacyWriteResponse()
