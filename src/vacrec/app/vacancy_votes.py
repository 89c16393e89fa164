"""Vacancies that learn: per-card votes summed off the request path, read by every replica.

:func:`refresh_vacancy_votes` is the job: it reads every logged per-card vote, sums them
per (vacancy, seeker group) and replaces the ``vacancy_votes`` rows in one transaction. It
is a full rebuild (no cursor over feedback ids: on PostgreSQL ids can commit out of order),
run by ``vacrec serve`` every ``VACREC_CARD_VOTES_EVERY_S`` and by ``vacrec bench cards``.
The sums live in the database, not in a model artefact: they must reach serving whether a
trained model or the content prior is live, and every replica must rank alike.

:class:`VoteHolder` keeps a process's :class:`VoteTable` (compact sorted arrays) and swaps it
when the rows' stamp changes; :class:`VotedMatch` is the ranking serving makes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import numpy as np
from sqlalchemy import Connection, Engine

from vacrec.app.holders import StampedHolder
from vacrec.ranking.card_swap import draw_cards
from vacrec.ranking.index import Match, Ranked
from vacrec.ranking.vote_prior import VotePrior, VoteTable, age_band, group_key, rerank
from vacrec.store.db import read_transaction, utcnow
from vacrec.store.vacancy_votes import (
    rated_votes,
    read_vacancy_votes,
    replace_vacancy_votes,
    votes_stamp,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

PER_CLIENT = 20
"""Votes one client identity may cast on one vacancy that count (see refresh_vacancy_votes)."""
CANDIDATES_PER_CARD = 4
"""Votes may lift a card from this far down: the text's top ``k · this`` are reranked."""


def refresh_vacancy_votes(
    engine: Engine, include_simulated: bool, per_client: int = PER_CLIENT
) -> dict[str, Any]:
    """Rebuild the vote sums from the logged feedback (the job; see the module docstring).

    One client identity (a hashed address) counts at most ``per_client`` votes on one
    vacancy, so a single address cannot bury a competitor's posting however many requests
    it rates; rows served in-process (no identity) are not capped."""
    started = time.perf_counter()
    sums: dict[tuple[str, str], list[int]] = {}
    by_client: dict[tuple[str, str], int] = {}
    events = votes = capped = 0
    with read_transaction(engine) as conn:
        for skill, age, card_votes, client in rated_votes(conn, include_simulated):
            if not card_votes:  # a reward given as a sum (JSON null): no card to credit
                continue
            events += 1
            group = group_key(skill, age_band(age))
            for vote in card_votes:
                if not isinstance(vote, dict) or vote.get("vote") not in (1, -1):
                    continue  # the store validated votes on the way in; skip anything else
                vid = str(vote["vacancy_id"])
                if client is not None:
                    seen = by_client[client, vid] = by_client.get((client, vid), 0) + 1
                    if seen > per_client:
                        capped += 1
                        continue
                cell = sums.setdefault((vid, group), [0, 0])
                cell[0 if vote["vote"] == 1 else 1] += 1
                votes += 1
    with engine.begin() as conn:
        replace_vacancy_votes(conn, {key: (u, d) for key, (u, d) in sums.items()}, utcnow())
    return {
        "events": events,
        "votes": votes,
        "over_client_cap": capped,
        "rows": len(sums),
        "vacancies": len({vid for vid, _ in sums}),
        "seconds": round(time.perf_counter() - started, 3),
    }


def load_vote_table(engine: Engine) -> VoteTable:
    """The stored sums as a :class:`VoteTable`."""
    with read_transaction(engine) as conn:
        return VoteTable.from_rows(list(read_vacancy_votes(conn)))


VotesStamp = tuple[datetime | None, int]
"""The stored sums' newest update and row count (:func:`votes_stamp`)."""


class VoteHolder(StampedHolder[VoteTable, VotesStamp]):
    """This process's vote table, swapped when the stored sums change (and, with
    ``job_every_s``, the job run on that period from the same thread)."""

    def __init__(
        self,
        engine: Engine,
        poll_s: float,
        job_every_s: float | None = None,
        include_simulated: bool = False,
    ) -> None:
        self._job_every_s = job_every_s
        self._include_simulated = include_simulated
        self._job_due = time.monotonic() + (job_every_s or 0.0)
        empty: VotesStamp = (None, 0)  # what an empty store stamps
        super().__init__(
            engine,
            VoteTable.empty(),
            empty,
            "vote poll",
            poll_s,
            "the vote table",
            lambda: "the vote table",
        )

    def read_stamp(self, conn: Connection) -> VotesStamp:
        return votes_stamp(conn)

    def load(self, stamp: VotesStamp) -> tuple[VoteTable, VotesStamp]:
        """The stored sums as they stand at ``stamp``."""
        table = load_vote_table(self._engine)
        log.info("vote table: %d vacancies rated (%s)", len(table), stamp[0])
        return table, stamp

    def poll(self) -> None:
        """One tick: run the job when due, then pick up whatever the store holds."""
        if self._job_every_s is not None and time.monotonic() >= self._job_due:
            self._job_due = time.monotonic() + self._job_every_s
            report = refresh_vacancy_votes(self._engine, self._include_simulated)
            log.info("vote sums rebuilt: %s", report)
        self.refresh_if_changed()


@dataclass(frozen=True)
class VotedMatch:
    """A :class:`Match` whose ``top_k`` ranks by text plus the seeker group's vote terms:
    what the place and one-card-per-job rules choose from (the one ranking serving makes)."""

    match: Match
    table: VoteTable
    prior: VotePrior
    skill: str
    age: int

    def top_k(
        self, industry: str, k: int, exclude: Collection[str] = (), demote: Collection[str] = ()
    ) -> Ranked:
        """The k cards of ``industry``. Without votes (an empty table, or a zero weight) this
        is ``match.top_k`` itself, so the cold start ranks exactly as before."""
        if not len(self.table) or self.prior.weight == 0:
            return self.match.top_k(industry, k, exclude=exclude, demote=demote)
        wide = self.match.top_k(industry, k * CANDIDATES_PER_CARD, exclude=exclude, demote=demote)
        ids = [vid for vid, _ in wide.items]
        terms = self.table.terms(ids, group_key(self.skill, age_band(self.age)), self.prior)
        return Ranked(items=rerank(wide.items, terms, set(demote), k), fallback=wide.fallback)

    def coverage(
        self,
        vacancy_numbers: Sequence[int] | np.ndarray,
        ignore: Callable[[str], bool] | None = None,
    ) -> np.ndarray:
        """The text's coverage (:meth:`Match.coverage`): votes move cards, not words."""
        return self.match.coverage(vacancy_numbers, ignore)


def swap_cards(
    candidates: Sequence[T], k: int, swap: float, u: float
) -> tuple[list[T], tuple[float, ...] | None]:
    """The k cards shown from ``candidates`` (the ranker's k + 1 best when ``swap`` > 0): with
    probability ``swap`` one adjacent pair trades places (``ranking/card_swap.py``; ``u``: a
    uniform number in [0, 1) that decides it), with each card's exact propensity of its
    position; with ``swap`` = 0 the first k as they are and no propensities."""
    if swap <= 0:
        return list(candidates[:k]), None
    order, propensities = draw_cards(len(candidates), k, swap, u)
    return [candidates[int(i)] for i in order], tuple(float(p) for p in propensities)
