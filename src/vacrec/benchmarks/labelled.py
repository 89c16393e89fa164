"""The labelled requests of ``seeker_requests`` served by vacrec's cold start and a search box.

Each request is served twice: by vacrec's cold start (the content prior picks the industry
from the request's words, then the five best postings of that industry: what the
Recommender serves before any feedback), and by a plain TF-IDF search box over the whole
catalog (scikit-learn's TfidfVectorizer on title + description, top five). A card is good
when the request's rule judges its title good (``seeker_requests``). Figures per split
(``tune``: what weights were chosen on; ``test``: only reported) and per language:

- ``precision_at_5``: good cards / min(5, good postings in the catalog) — a request whose
  catalog holds three good postings scores 1.0 when all three are served;
- ``any_good``: share of answers with at least one good card;
- ``ndcg_at_5``: binary gains, ideal order = all good first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from vacrec.agent.context import ContextEncoder
from vacrec.agent.policy import CONTENT_PRIOR, greedy
from vacrec.agent.skills import skill_texts
from vacrec.benchmarks.seeker_requests import LANGUAGES, SPLITS, SeekerRequest, judge
from vacrec.catalog.schema import CatalogRecord
from vacrec.catalog.text import normalise
from vacrec.domain import SkillVocabulary
from vacrec.ranking.place import choose, topic
from vacrec.ranking.snapshot import CatalogSnapshot

CARDS = 5
WORST = 10
Server = Callable[[SeekerRequest], tuple[str, ...]]


def vacrec_server(snapshot: CatalogSnapshot) -> Server:
    """Cold start on the serving path: content prior industry, then its cards as served (place
    and format from the words, one card per job, experience fit first; no votes yet)."""
    encoder = ContextEncoder(snapshot, skill_texts(SkillVocabulary().skills))

    def serve(request: SeekerRequest) -> tuple[str, ...]:
        wanted = snapshot.places.understand(request.text)
        match = snapshot.match(topic(request.text, wanted))
        contexts = encoder.encode_one(
            request.age,
            request.skill,
            request.text,
            snapshot.features_of(match),
            snapshot.expected_cosines_of(match),
            snapshot.place_miss(wanted),
        )
        industry = snapshot.actions[int(greedy(CONTENT_PRIOR, contexts)[0])]
        size = snapshot.index.size(industry)
        return tuple(
            c.id for c in choose(match, snapshot.cards, industry, CARDS, wanted, size).items
        )

    return serve


def search_server(records: Sequence[CatalogRecord]) -> Server:
    """A plain search box: TF-IDF over title + description of the whole catalog."""
    vectorizer = TfidfVectorizer(analyzer=normalise)
    matrix = vectorizer.fit_transform([f"{r.name} {r.description}" for r in records])
    ids = [r.id for r in records]

    def serve(request: SeekerRequest) -> tuple[str, ...]:
        scores = (matrix @ vectorizer.transform([request.text]).T).toarray().ravel()
        return tuple(ids[i] for i in np.argsort(-scores, kind="stable")[:CARDS])

    return serve


def _scores(cards: Sequence[str], good: frozenset[str]) -> tuple[float, float, float]:
    """(precision@5 capped by the good postings there are, any good, nDCG@5)."""
    hits = [c in good for c in cards[:CARDS]]
    possible = min(CARDS, len(good))
    if possible == 0:
        return 0.0, 0.0, 0.0
    dcg = sum(1.0 / np.log2(i + 2) for i, hit in enumerate(hits) if hit)
    ideal = sum(1.0 / np.log2(i + 2) for i in range(possible))
    return sum(hits) / possible, float(any(hits)), dcg / ideal


def _summary(rows: Sequence[tuple[float, float, float]]) -> dict[str, float | int]:
    if not rows:
        return {"requests": 0}
    p, a, n = np.mean(np.asarray(rows), axis=0)
    return {
        "requests": len(rows),
        "precision_at_5": round(float(p), 4),
        "any_good": round(float(a), 4),
        "ndcg_at_5": round(float(n), 4),
    }


def evaluate(
    requests: Sequence[SeekerRequest],
    records: Sequence[CatalogRecord],
    servers: dict[str, Server],
) -> dict[str, Any]:
    """Figures of every server per split and language, and the test half's worst answers."""
    judged = judge(requests, records)
    titles = {r.id: r.name for r in records}
    out: dict[str, Any] = {
        "requests": len(requests),
        "without_good_postings": sorted(r.id for r in requests if not judged[r.id]),
    }
    for name, serve in servers.items():
        served = {r.id: serve(r) for r in requests}
        scored = {r.id: _scores(served[r.id], judged[r.id]) for r in requests}
        figures: dict[str, Any] = {}
        for split in SPLITS:
            half = [r for r in requests if r.split == split and judged[r.id]]
            figures[split] = _summary([scored[r.id] for r in half]) | {
                lang: _summary([scored[r.id] for r in half if r.lang == lang]) for lang in LANGUAGES
            }
        test = [r for r in requests if r.split == "test" and judged[r.id]]
        worst = sorted(test, key=lambda r: (scored[r.id][0], scored[r.id][2], r.id))[:WORST]
        figures["worst_test"] = [
            {
                "id": r.id,
                "text": r.text,
                "precision_at_5": round(scored[r.id][0], 2),
                "served": [titles.get(c, c) for c in served[r.id]],
            }
            for r in worst
        ]
        out[name] = figures
    return out
