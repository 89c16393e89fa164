"""What the registry keeps about a model, as one typed object.

The registry writes it, and the dashboard, ``vacrec model list`` and
``/api/v1/model`` read it; validated when read, so a reader never digs through
untyped JSON. Older rows this build cannot read parse to None.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from vacrec.agent.context import N_CONTENT


class _Meta(BaseModel):
    model_config = ConfigDict(extra="ignore")


class NetworkShape(_Meta):
    hidden: list[int]
    embedding_dim: int
    content_columns: int = N_CONTENT
    """Width of the content row it scores: a model is served only by a context of that width
    (rows stored before the field was kept are the seven-column context's)."""


class Estimate(_Meta):
    """A policy-value estimate with its 95% bootstrap interval, as the estimators return it
    (:mod:`vacrec.evaluation.ope`) and the registry keeps it. None: undefined (SNIPS of a
    policy that never chose a logged action), never NaN."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    value: float | None = None
    low: float | None = None
    high: float | None = None
    n: int | None = None

    @field_validator("value", "low", "high", mode="before")
    @classmethod
    def _undefined_is_none(cls, number: Any) -> Any:
        # SNIPS is undefined (NaN) when the policy never chose a logged action; JSON
        # columns (PostgreSQL's above all) refuse NaN, and None says "no estimate".
        return _finite_or_none(number)

    def to_dict(self) -> dict[str, float | int | None]:
        return {"value": self.value, "low": self.low, "high": self.high, "n": self.n}


def _finite_or_none(number: Any) -> Any:
    return None if isinstance(number, float) and not math.isfinite(number) else number


class TrainingWindow(_Meta):
    """Which rated events training reads: the newest ``events`` of them and/or those of the
    last ``days``; both None reads everything (the default). The store cuts the logs by it
    and the registry keeps it with the model, so it is one value for both."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    events: int | None = None
    days: float | None = None

    @field_validator("events")
    @classmethod
    def _at_least_one_event(cls, events: int | None) -> int | None:
        if events is not None and events < 1:
            raise ValueError(f"a window holds at least one event, got {events}")
        return events

    @field_validator("days")
    @classmethod
    def _more_than_no_time(cls, days: float | None) -> float | None:
        if days is not None and days <= 0:
            raise ValueError(f"a window spans more than 0 days, got {days}")
        return days

    @property
    def is_set(self) -> bool:
        return self.events is not None or self.days is not None

    def to_dict(self) -> dict[str, int | float | None]:
        return {"events": self.events, "days": self.days}


class TrainingData(_Meta):
    """Which logs the model was trained on."""

    first_event: str | None = None
    last_event: str | None = None
    transitions: int = 0
    held_out: int = 0  # rated events kept for the promotion's off-policy comparison
    over_client_share: int = 0  # rows left out: their client exceeded its share
    newest_feedback_id: int | None = None  # the newest feedback row when training read the logs
    legacy: int = 0
    simulated_included: bool = False
    dropped: dict[str, int] = Field(default_factory=dict)
    window: TrainingWindow = Field(default_factory=TrainingWindow)
    """The window of rated events read (VACREC_TRAIN_WINDOW_*); all None: every event."""


class PromotionRecord(_Meta):
    """What the registry keeps of the promotion decision taken when the model was trained
    (:class:`~vacrec.evaluation.promotion.PromotionDecision`), with what it was measured
    against: the champion, the rule's text and the reward drift."""

    promoted: bool = False
    held: bool = False  # better by the estimate, but waiting for an operator (see reason)
    reason: str = ""
    champion: str = ""
    rule: str = ""
    drift: dict[str, float] | None = None  # recent vs past rewards (evaluation.trust)


class ModelMeta(_Meta):
    encoding_version: int = 0
    skills: list[str] = Field(default_factory=list)
    industries: list[str] = Field(default_factory=list)
    network: NetworkShape | None = None
    checksum: str = ""
    data: TrainingData = Field(default_factory=TrainingData)
    final_loss: float | None = None
    ope: dict[str, dict[str, Estimate]] = Field(default_factory=dict)
    """Policy ("candidate", "champion") → estimator ("ips", "snips", "dr") → estimate."""
    dr_difference: Estimate | None = None
    """Paired bootstrap of DR(candidate) − DR(champion)."""
    promotion: PromotionRecord = Field(default_factory=PromotionRecord)
    loss_curve: list[float | None] = Field(default_factory=list)
    """Mean loss per chunk of updates; None where it was not finite (a diverged chunk)."""
    updates: int = 0
    training: dict[str, Any] = Field(default_factory=dict)

    @field_validator("final_loss", mode="before")
    @classmethod
    def _diverged_loss_is_none(cls, number: Any) -> Any:
        return _finite_or_none(number)

    @field_validator("loss_curve", mode="before")
    @classmethod
    def _diverged_chunks_are_none(cls, curve: Any) -> Any:
        return [_finite_or_none(x) for x in curve] if isinstance(curve, list) else curve

    @classmethod
    def parse(cls, raw: Any) -> ModelMeta | None:
        """The metadata of a stored row, or None when it is not this build's shape."""
        try:
            return cls.model_validate(raw or {})
        except ValidationError:
            return None

    @property
    def candidate_dr(self) -> Estimate | None:
        return self.ope.get("candidate", {}).get("dr")
