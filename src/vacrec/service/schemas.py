"""Request and response bodies of the HTTP API (v1 and the original's legacy shapes).

Limits live here, once, and the service layer checks the same constants so that
``vacrec simulate`` (which skips HTTP) cannot send what the API would refuse.
Numbers in JSON bodies are strict: ``"30"``, ``30.0``, ``true`` and ``NaN`` are
not ages.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)
from pydantic.config import JsonDict

from vacrec.domain import (
    AGE_MAX,
    AGE_MIN,
    K_DEFAULT,
    K_MAX,
    K_MIN,
    PREFERENCE_MAX_CHARS,
    SESSION_ID_MAX_CHARS,
)
from vacrec.ranking.cards import CardHeader

ID_MAX_CHARS = 64
AREA_MAX_CHARS = 100
SKILL_MAX_CHARS = 128  # longer than any skill: the vocabulary check names the allowed ones
SKILLS_MARKER = "x-vacrec-skills"
"""Marks every skill field's schema; the app replaces it with an ``enum`` of its own
vocabulary (packaged skills plus ``VACREC_EXTRA_SKILLS``), see ``service/openapi.py``."""
SKILL_SCHEMA = {SKILLS_MARKER: True}
SKILL_DESCRIPTION = (
    "A skill from `GET /api/v1/skills`; the server also accepts it in any letter case or spacing."
)


def _no_surrogates(value: str) -> str:
    """Lone surrogates are not Unicode text and cannot be stored as UTF-8."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (no lone surrogates)") from None
    return value


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _is_vote(value: int) -> int:
    if value not in (1, -1):
        raise ValueError("must be 1 or -1")
    return value


UnicodeText = Annotated[str, AfterValidator(_no_surrogates)]
IdText = Annotated[
    str,
    Field(min_length=1, max_length=ID_MAX_CHARS),
    AfterValidator(_no_surrogates),
    AfterValidator(_no_nul),
]
Age = Annotated[int, Field(strict=True, ge=AGE_MIN, le=AGE_MAX)]
Skill = Annotated[
    str,
    Field(min_length=1, max_length=SKILL_MAX_CHARS, json_schema_extra=SKILL_SCHEMA),
    AfterValidator(_no_surrogates),
]
Preference = Annotated[str, Field(max_length=PREFERENCE_MAX_CHARS), AfterValidator(_no_surrogates)]
# The schema says what the validator checks, so clients (and fuzzers) know a vote is ±1.
Vote = Annotated[
    int, Field(strict=True, json_schema_extra={"enum": [1, -1]}), AfterValidator(_is_vote)
]
StrictInt = Annotated[int, Field(strict=True)]


class _Body(BaseModel):
    """Request bodies refuse unknown fields, so a typo is an error rather than a default."""

    model_config = ConfigDict(extra="forbid")


# --- v1 -------------------------------------------------------------------------------------


class RecommendationRequest(_Body):
    """``POST /api/v1/recommendations``: the job seeker's state and preferences."""

    age: Age = Field(description=f"Age in years, {AGE_MIN}–{AGE_MAX}.")
    skill: Skill = Field(description=SKILL_DESCRIPTION)
    preference: Preference = Field(
        default="", description=f"Free text, at most {PREFERENCE_MAX_CHARS} characters."
    )
    k: int = Field(default=K_DEFAULT, strict=True, ge=K_MIN, le=K_MAX)
    session_id: (
        Annotated[
            str,
            Field(max_length=SESSION_ID_MAX_CHARS),
            AfterValidator(_no_surrogates),
            AfterValidator(_no_nul),
        ]
        | None
    ) = None
    explore: bool = Field(
        default=True, strict=True, description="false serves the greedy action (evaluation)."
    )
    area: (
        Annotated[
            str,
            Field(min_length=1, max_length=AREA_MAX_CHARS),
            AfterValidator(_no_surrogates),
            AfterValidator(_no_nul),
        ]
        | None
    ) = Field(
        default=None,
        description="A city from `GET /api/v1/areas` (any letter case, ё or е): its jobs and "
        "remote ones come first. Absent: read from the preference («в Москве»); an unknown "
        "city is a 422 naming close ones.",
    )
    work_format: Literal["remote", "any", "office"] = Field(
        default="any",
        description='"remote": remote jobs only; "office": none of them; "any" (default). '
        'Absent: read from the preference («удалённо», "remote").',
    )


class PlaceOut(BaseModel):
    """The place and work format the answer was chosen for, and whether the words said them."""

    area: str | None
    work_format: str
    area_from_words: bool
    format_from_words: bool
    experience: str | None = Field(
        default=None,
        description="hh.ru's experience level the words ask for (noExperience for «без опыта», "
        '"no experience", students; moreThan6 for senior roles): postings that fit come first.',
    )


class AreasResponse(BaseModel):
    catalog_version: int | None
    areas: list[str] = Field(description="Every area of the catalog, sorted.")


class SnippetPart(BaseModel):
    text: str
    mark: bool = Field(description="True: words that matched the preference.")


class ActionOut(BaseModel):
    index: int
    industry: str


class ItemOut(BaseModel, CardHeader, frozen=True):
    # The card's header leads: pydantic takes the annotations of ranking's CardHeader (a
    # frozen dataclass, hence frozen here too) as the first fields; then how it matched.
    snippet: str = Field(
        description="Plain text: the part of the description around the words that matched "
        "(its first words when none did)."
    )
    snippet_parts: list[SnippetPart] = Field(
        default_factory=list,
        description="The snippet as runs of plain text, the matched words marked: render "
        "them as text, never as markup.",
    )
    score: float = Field(description="Cosine similarity to the preference, 0–1.")
    matched: bool = Field(
        description="True when the vacancy matches the preference well (score at least "
        "vacrec.ranking.index.MATCH_THRESHOLD, or it holds nearly all the words: "
        "MATCH_COVERAGE); false for weak matches and for the vacancies "
        "added to fill the list (the closest in meaning to the preference first, else the most "
        "recent)."
    )
    area: str | None = Field(default=None, description="The posting's city; null: unknown.")
    schedule: str | None = Field(
        default=None,
        description="hh.ru's schedule id: remote, fullDay, shift, flexible, flyInFlyOut; "
        "null: unknown.",
    )
    experience: str | None = Field(
        default=None,
        description="hh.ru's experience id: noExperience, between1And3, between3And6, "
        "moreThan6; null: unknown.",
    )
    published_at: datetime | None = Field(
        default=None, description="When the posting was published; null: unknown."
    )
    place_match: bool | None = Field(
        default=None,
        description="In the city asked for, or remote; null when the request named no place "
        "or work format. Cards outside it come after those in it.",
    )
    also_in: list[str] = Field(
        default_factory=list,
        description="Other cities the same job (title and company) is posted in: one job is "
        "shown once per answer.",
    )
    matched_words: list[str] = Field(
        default_factory=list,
        description="The preference's words the vacancy's title or description shares.",
    )
    propensity: float | None = Field(
        default=None,
        description="Probability that this card was shown at this position, when the cards "
        "were randomised (VACREC_CARD_SWAP); absent otherwise.",
        # Left out rather than null; a field rule, not a Python wrap serializer per card.
        exclude_if=lambda value: value is None,
    )


class QValueOut(BaseModel):
    industry: str
    q: float


class IndustryScoreOut(BaseModel):
    industry: str
    match: float = Field(
        description="How well the industry's best postings match the seeker's words (and, "
        "at a tenth of their weight, the skill's), 0–1: the content prior."
    )
    learned: float | None = Field(
        description="How far feedback moved the industry relative to the others, in reward "
        "units (about −2…2); null while the content prior serves."
    )
    score: float = Field(description="What the policy ranked by.")


class ExplanationOut(BaseModel):
    policy: str = Field(description='"content prior" before a model is live, else "model".')
    industries: list[IndustryScoreOut]
    q_values: list[QValueOut] | None = Field(
        description="The model's value of each industry for this state; null for the prior."
    )


class SessionOut(BaseModel):
    """How the seeker's session (``session_id``) shaped this answer."""

    rejected: int = Field(description="Vacancies rated −1 in this session: never shown again.")
    shown_before: int = Field(
        description="Cards shown again because nothing else of the industry fits."
    )
    avoided: list[str] = Field(
        description="Industries whose cards this session mostly rated −1: now tried last."
    )


class RecommendationResponse(BaseModel):
    event_id: str
    model_version: int | None
    action: ActionOut
    propensity: float
    items: list[ItemOut]
    fallback: bool = Field(
        description="True when the preference matched no vacancy of the industry; items are "
        "then the closest in meaning to the preference first (else the most recent first)."
    )
    explanation: ExplanationOut
    session: SessionOut | None = Field(
        default=None, description="Present when the request named a session_id."
    )
    place: PlaceOut | None = Field(
        default=None, description="The place and work format understood (fields or words)."
    )


class VoteIn(_Body):
    vacancy_id: IdText
    vote: Vote = Field(description="1 (liked) or -1 (not liked).")


# What the validator below enforces, said in the schema: exactly one of the two, the other
# absent or null (null is accepted as absent). Validation stays the model's own, so an error
# still names the field rather than a branch of a union.
_VOTES_OR_SUM: JsonDict = {
    "oneOf": [
        {
            "title": "votes",
            "required": ["votes"],
            "properties": {"votes": {"type": "array"}, "cum_reward": {"type": "null"}},
        },
        {
            "title": "cum_reward",
            "required": ["cum_reward"],
            "properties": {"cum_reward": {"type": "integer"}, "votes": {"type": "null"}},
        },
    ]
}


class FeedbackRequest(_Body):
    """``POST /api/v1/feedback``: either the votes per vacancy or their sum."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_VOTES_OR_SUM)

    event_id: IdText
    votes: list[VoteIn] | None = Field(
        default=None, min_length=1, max_length=K_MAX, description="At least one vote."
    )
    cum_reward: StrictInt | None = None

    @model_validator(mode="after")
    def _one_of_votes_or_sum(self) -> FeedbackRequest:
        if (self.votes is None) == (self.cum_reward is None):
            raise ValueError("give exactly one of 'votes' or 'cum_reward'")
        return self


class FeedbackResponse(BaseModel):
    reward: float = Field(description="tanh of the summed votes, as stored for training.")


class SkillsResponse(BaseModel):
    skills: list[str]


class IndustryOut(BaseModel):
    index: int
    industry: str


class IndustriesResponse(BaseModel):
    catalog_version: int | None
    industries: list[IndustryOut]


class ModelResponse(BaseModel):
    version: int | None = Field(
        description="The model serving now; null: the content prior serves."
    )
    policy: str = Field(description='"content prior" or "model".')
    actions: list[str] = Field(description="The catalog's industries, index = action.")
    epsilon: float
    loaded_at: str | None
    refused: dict[str, object] | None = Field(
        description="The last promoted model this process refused to load, and why."
    )


# --- legacy (the original service's shapes) ----------------------------------------------


class LegacyWriteRequest(BaseModel):
    """``POST /api/write/``: the original's body, plus an optional event id."""

    cum_reward: StrictInt
    age: Age
    skill: Skill = Field(description=SKILL_DESCRIPTION)
    action: Annotated[int, Field(strict=True, ge=0)]
    event_id: IdText | None = None


class LegacyCard(BaseModel):
    id: str
    name: str
    desc_full: str
    logo: str | None


class LegacyDetails(BaseModel):
    action: int
    event_id: str
    recommended: list[LegacyCard]


class LegacyRecommendResponse(BaseModel):
    status_code: int = 200
    details: LegacyDetails


class LegacyWriteResponse(BaseModel):
    status_code: int = 200


class FieldError(BaseModel):
    field: str
    message: str


class ErrorResponse(BaseModel):
    """A v1 error: the message, and per field what is wrong when fields are to blame."""

    detail: str
    errors: list[FieldError] | None = None


class LegacyErrorResponse(BaseModel):
    """A legacy error, in the original's envelope."""

    status_code: int
    details: str
