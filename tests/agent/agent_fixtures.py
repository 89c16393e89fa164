"""Small real catalogs, encoders and logs shared by the agent tests.

The matcher is always a real :class:`CatalogSnapshot` built from hand-made
records (the ranking tests' catalog, grown by a few postings), so the context
features are the numbers the service would compute.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tests.ranking.ranking_fixtures import ART, IT, record, small_catalog
from vacrec.agent.context import ContextEncoder
from vacrec.agent.skills import skill_text
from vacrec.agent.transitions import LoggedRequest, Transitions, build_transitions
from vacrec.catalog.schema import CatalogRecord
from vacrec.domain import PACKAGED_SKILLS
from vacrec.ranking.snapshot import CatalogSnapshot

MKT = "Маркетинг, реклама, PR"
LAW = "Юристы"
"""A group the catalogs below never have (an event's industry that left the catalog)."""

ART_WORDS = "художник акварель кисти"
"""A preference that matches the art postings and nothing else."""
IT_WORDS = "Python разработчик"
"""A preference that matches the IT postings and nothing else."""
MKT_WORDS = "SMM соцсети реклама бренда"
"""A preference that matches the marketing posting and nothing else."""


def catalog_records() -> list[CatalogRecord]:
    """The ranking tests' catalog plus one art and one marketing posting:
    art 5 postings, IT 4, marketing 1 — three industries of different sizes."""
    return [
        *small_catalog(),
        record("a5", "Фотограф в студию, съёмка портретов.", [ART], 6),
        record("m1", "SMM-менеджер: ведение соцсетей и реклама бренда.", [MKT], 2, "SMM-менеджер"),
    ]


def snapshot(records: Sequence[CatalogRecord] | None = None) -> CatalogSnapshot:
    """A real snapshot of ``records`` (default: :func:`catalog_records`)."""
    return CatalogSnapshot.from_records(1, catalog_records() if records is None else records)


def encoder(matcher: CatalogSnapshot | None = None) -> ContextEncoder:
    """An encoder as the service builds it: every packaged skill stands for its words."""
    return ContextEncoder(
        matcher if matcher is not None else snapshot(),
        {s: skill_text(s) for s in PACKAGED_SKILLS},
    )


def request(
    skill: str,
    preference: str,
    industry: str,
    reward: float | None,
    *,
    age: int = 30,
    propensity: float = 1 / 3,
    session_id: str | None = None,
) -> LoggedRequest:
    return LoggedRequest(
        age=age,
        skill=skill,
        preference=preference,
        industry=industry,
        propensity=propensity,
        reward=reward,
        session_id=session_id,
    )


def bandit_log(
    enc: ContextEncoder,
    seekers: Sequence[tuple[str, str, str]],
    n: int,
    seed: int = 0,
    good: float = 0.9,
    bad: float = -0.6,
) -> Transitions:
    """A uniformly logged one-step bandit: each seeker (skill, preference, liked industry)
    gets ``good`` for the industry they like and ``bad`` for any other."""
    rng = np.random.default_rng(seed)
    actions = enc.actions
    rows = []
    for _ in range(n):
        skill, preference, liked = seekers[int(rng.integers(len(seekers)))]
        industry = actions[int(rng.integers(len(actions)))]
        reward = good if industry == liked else bad
        rows.append(
            request(
                skill,
                preference,
                industry,
                reward,
                age=int(rng.integers(18, 60)),
                propensity=1 / len(actions),
            )
        )
    return build_transitions(rows, enc)


__all__ = [
    "ART",
    "ART_WORDS",
    "IT",
    "IT_WORDS",
    "LAW",
    "MKT",
    "MKT_WORDS",
    "bandit_log",
    "catalog_records",
    "encoder",
    "request",
    "snapshot",
]
