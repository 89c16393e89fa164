"""`vacrec bench cards`: what a seeker sees on the cards, through the real service layer.

Section ``seeker`` (:func:`seeker`), on a store holding the catalog. Seekers type the title
of a real posting; some also name a place, as the form's field (``area`` or
``work_format="remote"``) or in their words («…, в Москве», «…, удалённо»):

- ``place_share``: share of cards in the named city or remote (remote only: remote), over
  the requests whose chosen industry has at least ``MIN_FITTING`` such postings (target
  ≥ 0.8); ``place_share_without_place`` is the same requests served as before this change
  (the words without the place, no field), the baseline;
- ``duplicate_jobs_per_answer``: cards of a job (title + company) already in the answer
  (target 0);
- ``cards_with_raw_markup``: cards whose title, company or snippet holds an HTML entity
  or tag (target 0);
- ``five_new_after_all_rejected``: share of seekers who, after rating all five cards −1
  in their session, get five cards none of which they saw (target 1);
- ``median_ms``: in-process ``recommend`` median (event write included) with and without a
  place, for the same seekers (which goes first alternates).

Other sections (the learning one) may be added beside it by their own modules; the command
prints them all in one JSON object.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine

from vacrec.benchmarks.store import catalog_store
from vacrec.catalog.text import has_markup
from vacrec.config import Settings
from vacrec.domain import SkillVocabulary
from vacrec.ranking.cards import job_key
from vacrec.ranking.snippets import marked_snippet, query_stems
from vacrec.store.catalog import read_catalog_records

SEEKERS = 200
CARDS = 5
MIN_FITTING = 5
REJECTING_SEEKERS = 50
# How a seeker writes «in <city>»: the prepositional forms of the catalog's biggest cities.
IN_CITY = {
    "Москва": "в Москве",
    "Санкт-Петербург": "в Санкт-Петербурге",
    "Минск": "в Минске",
    "Новосибирск": "в Новосибирске",
    "Екатеринбург": "в Екатеринбурге",
    "Казань": "в Казани",
    "Алматы": "в Алматы",
}

Progress = Callable[[str], None]


def run(
    catalog: Path, seekers: int = SEEKERS, seed: int = 0, progress: Progress | None = None
) -> dict[str, Any]:
    """The JSON of ``vacrec bench cards``: every section over one store of ``catalog``."""
    note = progress or (lambda _msg: None)
    started = time.perf_counter()
    with catalog_store(catalog, "bench cards", note) as (engine, home):
        sections = {"seeker": seeker(engine, home, seekers=seekers, seed=seed, note=note)}
    return {
        "catalog": str(catalog),
        **sections,
        "seconds": round(time.perf_counter() - started, 1),
    }


def seeker(
    engine: Engine, home: Path, *, seekers: int = SEEKERS, seed: int = 0, note: Progress
) -> dict[str, Any]:
    """The ``seeker`` section (see the module docstring) on the store ``engine``."""
    from vacrec.app.recommender import Recommender

    _, _, records = read_catalog_records(engine)
    settings = Settings(home=home, epsilon=0.0)
    recommender = Recommender.from_store(engine, settings, seed=seed)
    skills = SkillVocabulary().skills
    rng = np.random.default_rng(seed)
    cities = [c for c, _ in Counter(r.area for r in records if r.area).most_common(7)]
    fitting = _fitting(records, cities)

    note("serving seekers who name a place")
    shares: list[float] = []
    before: list[float] = []
    duplicates: list[int] = []
    raw = shown = 0
    timed: dict[str, list[float]] = {"place": [], "plain": []}
    titles = [records[int(i)].name for i in rng.choice(len(records), seekers, replace=False)]
    for n, title in enumerate(titles):
        skill = skills[int(rng.integers(len(skills)))]
        city = cities[int(rng.integers(len(cities)))] if n % 3 else None  # a third: remote
        place: dict[str, Any] = {}
        words = title
        if n % 2:  # half say it in the form's fields, half in their words
            place = {"area": city} if city else {"work_format": "remote"}
        else:
            words = f"{title}, {IN_CITY.get(city, city) if city else 'удалённо'}"
        # Which goes first alternates: the first request with new words also fills the
        # stemmer's cache, which would otherwise be charged to one side only.
        requests = {
            "place": (words, place),
            "plain": (title, {}),
        }
        answers = {}
        for name in ("place", "plain") if n % 4 < 2 else ("plain", "place"):
            text, fields = requests[name]
            t0 = time.perf_counter()
            answers[name] = recommender.recommend(30, skill, text, k=CARDS, explore=False, **fields)
            timed[name].append(time.perf_counter() - t0)
        rec, plain = answers["place"], answers["plain"]
        for answer in (rec, plain):
            keys = [job_key(i.card.name, i.card.company) for i in answer.items]
            duplicates.append(len(keys) - len(set(keys)))
            stems = query_stems(answer.preference)
            for item in answer.items:
                card = item.card
                parts = marked_snippet(card.description, stems, card.snippet)
                text = " ".join([card.name, card.company or "", *(p.text for p in parts)])
                raw += has_markup(text)
                shown += 1
        if fitting.get((rec.industry, city), 0) >= MIN_FITTING and rec.items:
            shares.append(_in_place(rec.items, city))
        if fitting.get((plain.industry, city), 0) >= MIN_FITTING and plain.items:
            before.append(_in_place(plain.items, city))

    note("seekers who reject every card and ask again")
    fresh = [
        _five_new(recommender, skills[i % len(skills)], titles[i], f"bench-{seed}-{i}")
        for i in range(min(REJECTING_SEEKERS, len(titles)))
    ]
    return {
        "seekers": seekers,
        "seed": seed,
        "cities": cities,
        "min_fitting": MIN_FITTING,
        "place_requests_counted": len(shares),
        "place_share": round(float(np.mean(shares)), 4) if shares else None,
        "place_share_without_place": round(float(np.mean(before)), 4) if before else None,
        "duplicate_jobs_per_answer": round(float(np.mean(duplicates)), 4),
        "cards_with_raw_markup": raw,
        "cards_checked": shown,
        "five_new_after_all_rejected": round(float(np.mean(fresh)), 4),
        "rejecting_seekers": len(fresh),
        "median_ms": {k: round(1000 * statistics.median(v), 2) for k, v in timed.items()},
    }


def _fitting(records: list[Any], cities: list[str]) -> dict[tuple[str, str | None], int]:
    """(industry, city) → postings in the city or remote; (industry, None) → remote ones."""
    counts: Counter[tuple[str, str | None]] = Counter()
    for r in records:
        remote = r.schedule == "remote"
        for industry in r.industries:
            if remote:
                counts[(industry, None)] += 1
            for city in cities:
                if remote or r.area == city:
                    counts[(industry, city)] += 1
    return dict(counts)


def _in_place(items: Any, city: str | None) -> float:
    hits = [i.card.remote or (city is not None and i.card.area == city) for i in items]
    return float(np.mean(hits))


def _five_new(recommender: Any, skill: str, title: str, session: str) -> float:
    """1.0 when, after rating every card −1, asking again gives ``CARDS`` unseen cards."""
    first = recommender.recommend(30, skill, title, k=CARDS, explore=False, session_id=session)
    if not first.items:
        return 0.0
    recommender.feedback(first.event_id, votes=[(i.id, -1) for i in first.items])
    again = recommender.recommend(30, skill, title, k=CARDS, explore=False, session_id=session)
    seen = {i.id for i in first.items}
    return float(len(again.items) == CARDS and not seen & {i.id for i in again.items})
