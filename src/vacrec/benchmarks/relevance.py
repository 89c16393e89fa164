"""`vacrec bench relevance`: does the first request make sense? Against a plain search box.

Seekers each type the title of a real posting whose hh.ru industries are known
(not inferred), with the skill that posting calls for; hh.ru's industries are
the truth. For every policy, greedy, on the same seekers:

- ``industry_hit``: the industry served is one of the posting's;
- ``posting_in_cards``: the posting itself is among the five cards;
- ``cards_sharing_industry``: share of the cards that share an industry with it.

Every policy serves through the service's own decision (``app/serving.decide``).
Policies: the content prior (cold start: no feedback at all); a plain TF-IDF
search over the whole catalog (scikit-learn's defaults on title + description;
its "industry" is the top result's); an agent whose context is only [age, skill]
(the previous design: the same network with the text features zeroed) trained
on logged feedback; the contextual agent trained on the same log; and the
contextual agent trained on a log where nobody typed anything. Logs are simulated seekers (ε = 1)
through the real service layer, ``EVENTS`` of them.

Beside these, ``labelled``: the packaged requests in seekers' own words (``seeker_requests``)
served by the cold start and the search box (``labelled``), per half and language;
``trained=False`` (``--no-trained``) skips the trained agents.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sqlalchemy import Engine

from vacrec.agent.context import ContextEncoder, Contexts
from vacrec.agent.policy import CONTENT_PRIOR, Policy
from vacrec.agent.skills import skill_texts
from vacrec.agent.trainer import train
from vacrec.app.serving import SeekerRequest, decide
from vacrec.benchmarks.store import catalog_store
from vacrec.catalog.text import normalise
from vacrec.config import Settings
from vacrec.domain import AGE_MAX, AGE_MIN, SkillVocabulary
from vacrec.ranking.snapshot import CatalogSnapshot
from vacrec.store.catalog import industry_labels, read_catalog_records
from vacrec.store.events import clear_logs

SEEKERS = 300
EVENTS = 4_000  # simulated feedback behind each trained policy
CARDS = 5
AGE_MEAN, AGE_SD = 32.0, 10.0

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Query:
    """One seeker of the benchmark and the truth about what they want."""

    age: int
    skill: str
    title: str
    posting: str  # vacancy id
    industries: frozenset[str]


@dataclass(frozen=True)
class Served:
    """What one policy showed one seeker: the industry and the card ids (or search results)."""

    industry: str
    cards: tuple[str, ...]


def _figures(
    queries: Sequence[Query], served: Sequence[Served], industries_of: Any
) -> dict[str, Any]:
    hit = [s.industry in q.industries for q, s in zip(queries, served, strict=True)]
    found = [q.posting in s.cards for q, s in zip(queries, served, strict=True)]
    sharing = [
        float(np.mean([bool(industries_of[c] & q.industries) for c in s.cards])) if s.cards else 0.0
        for q, s in zip(queries, served, strict=True)
    ]
    return {
        "industry_hit": round(float(np.mean(hit)), 4),
        "posting_in_cards": round(float(np.mean(found)), 4),
        "cards_sharing_industry": round(float(np.mean(sharing)), 4),
    }


def _labelled_queries(
    engine: Engine, snapshot: CatalogSnapshot, n: int, seed: int
) -> tuple[list[Query], dict[str, frozenset[str]]]:
    """``n`` postings with hh.ru's own industries, as seekers typing their titles."""
    from vacrec.simulate.env import JobSeekerEnv

    skills = SkillVocabulary().skills
    population = JobSeekerEnv(snapshot, skills).population  # the skill each posting calls for
    with engine.connect() as conn:
        labels = industry_labels(conn)
    industries_of = {label.id: label.industries for label in labels}
    labelled = sorted(label.id for label in labels if not label.inferred and label.industries)
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(labelled), size=min(n, len(labelled)), replace=False)
    ages = np.clip(np.rint(rng.normal(AGE_MEAN, AGE_SD, len(chosen))), AGE_MIN, AGE_MAX).astype(int)
    queries = []
    for age, i in zip(ages, chosen, strict=True):
        vid = labelled[i]
        number = population.postings.number_of[vid]
        skill_index = int(population.posting_skill[number])
        skill = skills[skill_index] if skill_index >= 0 else skills[int(rng.integers(len(skills)))]
        queries.append(Query(int(age), skill, snapshot.cards[vid].name, vid, industries_of[vid]))
    return queries, industries_of


def _serve(
    policy: Policy, snapshot: CatalogSnapshot, encoder: ContextEncoder, queries: Sequence[Query]
) -> list[Served]:
    """Greedy industry and its cards for every seeker, through the service's own decision
    (:func:`vacrec.app.serving.decide`, explore off: no draw, no event stored)."""
    no_draws = nullcontext(np.random.default_rng(0))  # greedy draws nothing
    out = []
    for q in queries:
        request = SeekerRequest(q.age, q.skill, q.title, k=CARDS, explore=False)
        decision = decide(snapshot, encoder, policy, request, no_draws, epsilon=0.0)
        out.append(Served(decision.industry, tuple(item.id for item in decision.items)))
    return out


def _search(engine: Engine, queries: Sequence[Query], industries_of: Any) -> list[Served]:
    """A plain search box: TF-IDF (scikit-learn defaults) over title + description."""
    _, _, rows = read_catalog_records(engine)  # ordered by id
    vectorizer = TfidfVectorizer(analyzer=normalise)
    matrix = vectorizer.fit_transform([f"{r.name} {r.description}" for r in rows])
    ids = [r.id for r in rows]
    out = []
    for q in queries:
        scores = (matrix @ vectorizer.transform([q.title]).T).toarray().ravel()
        top = np.argsort(-scores, kind="stable")[:CARDS]
        cards = tuple(ids[i] for i in top)
        first = sorted(industries_of[cards[0]])
        out.append(Served(first[0] if first else "", cards))
    return out


def _without_text(contexts: Contexts) -> Contexts:
    """The same seekers seen through the previous state: only age and skill."""
    return Contexts(
        contexts.ages, contexts.skills, np.zeros_like(contexts.content), contexts.actions
    )


class _ZeroTextPolicy:
    """A trained model that only ever sees [age, skill] (its content columns are zero)."""

    def __init__(self, model: Policy) -> None:
        self.model = model
        self.version = model.version

    def q_values(self, contexts: Contexts) -> np.ndarray:
        return self.model.q_values(_without_text(contexts))

    def uncertainty(self, contexts: Contexts) -> np.ndarray:
        return self.model.uncertainty(_without_text(contexts))


def _log_and_train(
    engine: Engine, home: Path, blank_share: float, seed: int, note: Progress
) -> tuple[Any, Any, dict[str, Any]]:
    """Log ``EVENTS`` simulated seekers at ε = 1 through the service, then train on them."""
    from vacrec.app.simulation import simulate_into_store
    from vacrec.app.training import LogSelection, read_training_logs

    clear_logs(engine)
    settings = Settings(home=home, database_url=str(engine.url), epsilon=1.0)
    note(f"logging {EVENTS} simulated events (blank share {blank_share:g})")
    simulate_into_store(engine, settings, EVENTS, seed, blank_share=blank_share)
    _, _, transitions = read_training_logs(engine, settings, LogSelection(simulated=True))
    note(f"training on {len(transitions)} transitions")
    result = train(transitions)
    training = {"transitions": len(transitions), "updates": result.updates}
    return result.model, transitions, training


def _labelled(engine: Engine, snapshot: CatalogSnapshot) -> dict[str, Any]:
    """The packaged seekers' own requests: vacrec's cold start vs the search box."""
    from vacrec.benchmarks import labelled, seeker_requests

    _, _, rows = read_catalog_records(engine)
    servers = {
        "content_prior": labelled.vacrec_server(snapshot),
        "search": labelled.search_server(rows),
    }
    return labelled.evaluate(seeker_requests.load(), rows, servers)


def run(
    catalog: Path,
    seekers: int = SEEKERS,
    seed: int = 0,
    progress: Progress | None = None,
    trained: bool = True,
) -> dict[str, Any]:
    """All figures of ``vacrec bench relevance`` as one JSON-ready dict."""
    from vacrec.app.snapshots import load_snapshot

    note = progress or (lambda _msg: None)
    started = time.perf_counter()
    with catalog_store(catalog, "bench relevance", note) as (engine, home):
        snapshot = load_snapshot(engine)
        queries, industries_of = _labelled_queries(engine, snapshot, seekers, seed)
        encoder = ContextEncoder(snapshot, skill_texts(SkillVocabulary().skills))
        note("cold start and plain search")
        prior = _serve(CONTENT_PRIOR, snapshot, encoder, queries)
        policies: dict[str, Any] = {
            "content_prior": _figures(queries, prior, industries_of),
            "search": _figures(queries, _search(engine, queries, industries_of), industries_of),
        }
        note("labelled seekers' requests")
        labelled = _labelled(engine, snapshot)
        if not trained:
            return {
                "catalog": str(catalog),
                "seekers": len(queries),
                "seed": seed,
                "policies": policies,
                "labelled": labelled,
                "cores": os.cpu_count(),
                "seconds": round(time.perf_counter() - started, 1),
            }

        typed_model, typed_log, typed_training = _log_and_train(engine, home, 0.0, seed, note)
        policies["trained"] = _figures(
            queries, _serve(typed_model, snapshot, encoder, queries), industries_of
        ) | {"training": typed_training}
        note("training the [age, skill] agent on the same log")
        age_skill = train(replace(typed_log, contexts=_without_text(typed_log.contexts))).model
        policies["age_skill_agent"] = _figures(
            queries,
            _serve(_ZeroTextPolicy(age_skill), snapshot, encoder, queries),
            industries_of,
        ) | {"training": typed_training}

        blank_model, _, blank_training = _log_and_train(engine, home, 1.0, seed, note)
        policies["trained_on_blank_preferences"] = _figures(
            queries, _serve(blank_model, snapshot, encoder, queries), industries_of
        ) | {"training": blank_training}

    cold, search, blank = (
        policies["content_prior"],
        policies["search"],
        policies["trained_on_blank_preferences"],
    )
    keys = ("industry_hit", "posting_in_cards", "cards_sharing_industry")
    return {
        "catalog": str(catalog),
        "seekers": len(queries),
        "seed": seed,
        "events_per_training": EVENTS,
        "policies": policies,
        "labelled": labelled,
        "cold_start_at_least_search": {k: cold[k] >= search[k] for k in keys},
        "blank_training_loss": {k: round(cold[k] - blank[k], 4) for k in keys},
        "cores": os.cpu_count(),
        "seconds": round(time.perf_counter() - started, 1),
    }
