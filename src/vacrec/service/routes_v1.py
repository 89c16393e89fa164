"""Version 1 of the API: recommendations, feedback and what the service knows."""

from __future__ import annotations

from fastapi import APIRouter, Response

from vacrec.app.recommender import Recommendation, Recommender
from vacrec.app.serving import RecommendedItem, SeekerRequest
from vacrec.errors import ServiceUnavailable
from vacrec.ranking.cards import Card
from vacrec.ranking.snapshot import CatalogSnapshot
from vacrec.ranking.snippets import marked_snippet, query_stems
from vacrec.service.deps import ClientDep, RecommenderDep
from vacrec.service.openapi import error_responses
from vacrec.service.rate_limits import RECOMMEND_BUDGET, REWARD_BUDGET
from vacrec.service.schemas import (
    ActionOut,
    AreasResponse,
    ErrorResponse,
    ExplanationOut,
    FeedbackRequest,
    FeedbackResponse,
    IndustriesResponse,
    IndustryOut,
    IndustryScoreOut,
    ItemOut,
    ModelResponse,
    PlaceOut,
    QValueOut,
    RecommendationRequest,
    RecommendationResponse,
    SessionOut,
    SkillsResponse,
    SnippetPart,
)

router = APIRouter(prefix="/api/v1", tags=["v1"])

_ERRORS = error_responses(ErrorResponse, 404, 409, 410, 413, 422, 429, 503)


_AS_ON_THE_CARD = tuple(
    name for name in ItemOut.model_fields if name != "snippet" and name in Card.__dataclass_fields__
)
"""The fields an item shows as its card has them (the snippet is marked for the words)."""


def _item(item: RecommendedItem, stems: frozenset[str]) -> ItemOut:
    card = item.card
    parts = marked_snippet(card.description, stems, card.snippet) if item.matched else []
    return ItemOut(
        **{name: getattr(card, name) for name in _AS_ON_THE_CARD},
        snippet="".join(p.text for p in parts) if parts else card.snippet,
        snippet_parts=[SnippetPart(text=p.text, mark=p.mark) for p in parts]
        or ([SnippetPart(text=card.snippet, mark=False)] if card.snippet else []),
        score=item.score,
        matched=item.matched,
        place_match=item.place_match,
        also_in=list(item.also_in),
        propensity=item.propensity,
        matched_words=list(item.words),
    )


def _response(rec: Recommendation) -> RecommendationResponse:
    stems = query_stems(rec.preference)
    return RecommendationResponse(
        event_id=rec.event_id,
        model_version=rec.model_version,
        action=ActionOut(index=rec.action, industry=rec.industry),
        propensity=rec.propensity,
        items=[_item(item, stems) for item in rec.items],
        fallback=rec.fallback,
        explanation=ExplanationOut(
            policy="content prior" if rec.model_version is None else "model",
            industries=[
                IndustryScoreOut(
                    industry=s.industry, match=s.match, learned=s.learned, score=s.score
                )
                for s in rec.scores
            ],
            q_values=None
            if rec.q_values is None
            else [QValueOut(industry=name, q=q) for name, q in rec.q_values.items()],
        ),
        session=None
        if rec.session is None
        else SessionOut(
            rejected=rec.session.rejected,
            shown_before=rec.session.shown_before,
            avoided=list(rec.session.avoided),
        ),
        place=PlaceOut(
            area=rec.place.area,
            work_format=rec.place.work_format,
            area_from_words=rec.place.area_from_words,
            format_from_words=rec.place.format_from_words,
            experience=rec.place.experience,
        ),
    )


@router.post(
    "/recommendations",
    response_model=RecommendationResponse,
    responses={k: _ERRORS[k] for k in (413, 422, 429, 503)},
    dependencies=[RECOMMEND_BUDGET],
)
def recommend(
    body: RecommendationRequest, recommender: RecommenderDep, client: ClientDep
) -> Response:
    """Pick an industry for the seeker (age, skill and what they wrote) and rank its vacancies."""
    # Absent means "read it from the words"; an explicit "any" overrides them.
    work_format = body.work_format if "work_format" in body.model_fields_set else None
    request = SeekerRequest(
        body.age, body.skill, body.preference, body.k, body.explore, body.area, work_format
    )
    rec = recommender.serve(request, body.session_id, source="api", client=client)
    # Built and validated once here, serialised by pydantic-core directly: FastAPI would
    # otherwise validate the same object a second time on the hot path.
    return Response(_response(rec).model_dump_json(), media_type="application/json")


@router.post(
    "/feedback", response_model=FeedbackResponse, responses=_ERRORS, dependencies=[REWARD_BUDGET]
)
def feedback(
    body: FeedbackRequest, recommender: RecommenderDep, client: ClientDep
) -> FeedbackResponse:
    """Rate the vacancies of one recommendation (each +1/−1) or send their sum."""
    votes = None if body.votes is None else [(v.vacancy_id, v.vote) for v in body.votes]
    reward = recommender.feedback(
        body.event_id, votes=votes, cum_reward=body.cum_reward, client=client
    )
    return FeedbackResponse(reward=reward)


@router.get("/skills", response_model=SkillsResponse)
def skills(recommender: RecommenderDep) -> SkillsResponse:
    """The skills a request may name (the state's vocabulary)."""
    return SkillsResponse(skills=list(recommender.skills))


def _loaded(recommender: Recommender) -> CatalogSnapshot | None:
    """The catalog served; None before one is loaded (the lists are then empty, not a 503)."""
    try:
        return recommender.snapshot()
    except ServiceUnavailable:
        return None


@router.get("/industries", response_model=IndustriesResponse)
def industries(recommender: RecommenderDep) -> IndustriesResponse:
    """The agent's actions: the catalog's industry groups, index = action."""
    snapshot = _loaded(recommender)
    if snapshot is None:
        return IndustriesResponse(catalog_version=None, industries=[])
    return IndustriesResponse(
        catalog_version=snapshot.version,
        industries=[IndustryOut(index=i, industry=name) for i, name in enumerate(snapshot.actions)],
    )


@router.get("/areas", response_model=AreasResponse)
def areas(recommender: RecommenderDep) -> AreasResponse:
    """The catalog's cities: what ``area`` of a recommendation request may name."""
    snapshot = _loaded(recommender)
    if snapshot is None:
        return AreasResponse(catalog_version=None, areas=[])
    return AreasResponse(catalog_version=snapshot.version, areas=list(snapshot.places.names))


@router.get("/model", response_model=ModelResponse)
def model(recommender: RecommenderDep) -> ModelResponse:
    """The model this process serves with (null version: the content prior serves)."""
    holder = recommender.models
    current = holder.current
    refusal = holder.refusal
    snapshot = recommender.snapshots.current
    return ModelResponse(
        version=current.version if current is not None else None,
        policy="content prior" if current is None else "model",
        actions=list(snapshot.actions),
        epsilon=recommender.settings.epsilon,
        loaded_at=holder.loaded_at.isoformat() if holder.loaded_at else None,
        refused=None
        if refusal is None
        else {"version": refusal.version, "reason": refusal.reason, "at": refusal.at.isoformat()},
    )
