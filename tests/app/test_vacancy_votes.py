"""The vote job sums real stored feedback rows, and ranking follows the voting group's votes."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from tests.service.conftest import ARTS, seed_catalog
from vacrec.app.recommender import Recommender
from vacrec.app.vacancy_votes import VotedMatch, load_vote_table, refresh_vacancy_votes
from vacrec.config import Settings
from vacrec.ranking.vote_prior import VotePrior, group_key
from vacrec.store.tables import vacancy_votes

PREFERENCE = "акварель живопись"
YOUNG, OLD = 20, 60  # two age bands of the same skill


def _service(engine: Engine, tmp_path: Path) -> Recommender:
    seed_catalog(engine, tmp_path)
    settings = Settings(home=tmp_path / "home", database_url=str(engine.url), epsilon=0.0)
    return Recommender.from_store(engine, settings, seed=0)


def _rate(service: Recommender, age: int, votes_by_position: dict[int, int], source: str) -> None:
    rec = service.recommend(age, "акварель", PREFERENCE, k=4, explore=False, source=source)
    assert rec.industry == ARTS
    ids = [item.id for item in rec.items]
    service.feedback(rec.event_id, votes=[(ids[p], v) for p, v in votes_by_position.items()])


def test_the_job_sums_stored_votes_per_vacancy_and_group(engine: Engine, tmp_path: Path) -> None:
    service = _service(engine, tmp_path)
    first = [i.id for i in service.recommend(YOUNG, "акварель", PREFERENCE, k=4).items]
    for _ in range(3):
        _rate(service, YOUNG, {0: -1, 1: 1}, "api")
    _rate(service, OLD, {0: 1}, "api")
    _rate(service, OLD, {0: 1}, "simulator")  # simulated: only when asked for
    service.feedback(service.recommend(YOUNG, "акварель", PREFERENCE).event_id, cum_reward=2)

    report = refresh_vacancy_votes(engine, include_simulated=False)
    assert report["events"] == 4 and report["votes"] == 7
    with engine.connect() as conn:
        rows = {
            (r.vacancy_id, r.group_key): (r.up, r.down) for r in conn.execute(select(vacancy_votes))
        }
    young, old = group_key("акварель", 0), group_key("акварель", 2)
    top, second = service.recommend(YOUNG, "акварель", PREFERENCE, k=4, explore=False).items[:2]
    assert [top.id, second.id] == first[:2]  # nothing reloaded yet: still the text order
    assert rows == {(top.id, young): (0, 3), (second.id, young): (3, 0), (top.id, old): (1, 0)}

    refresh_vacancy_votes(engine, include_simulated=True)
    table = load_vote_table(engine)
    assert table.mean == pytest.approx((5 - 3) / 8)
    assert int(table.up.sum()) == 5 and int(table.down.sum()) == 3

    # Rebuilt, not added to: running it again gives the same sums.
    assert refresh_vacancy_votes(engine, include_simulated=True)["votes"] == 8
    assert int(load_vote_table(engine).down.sum()) == 3


def test_votes_move_cards_for_the_group_that_voted_not_for_another(
    engine: Engine, tmp_path: Path
) -> None:
    service = _service(engine, tmp_path)
    text_order = [
        i.id for i in service.recommend(YOUNG, "акварель", PREFERENCE, k=4, explore=False).items
    ]
    # The young reject the text's best card and like the second; the older like the best.
    for _ in range(30):
        _rate(service, YOUNG, {0: -1, 1: 1}, "api")
        _rate(service, OLD, {0: 1, 1: -1}, "api")
    # Cards shown so far were the text order's: the young's feedback above rated it.
    refresh_vacancy_votes(engine, include_simulated=False)
    assert service.refresh()

    def order(age: int) -> list[str]:
        rec = service.recommend(age, "акварель", PREFERENCE, k=4, explore=False)
        return [i.id for i in rec.items]

    young = order(YOUNG)
    assert young.index(text_order[0]) > young.index(text_order[1])
    assert young[0] != text_order[0]
    assert order(OLD)[0] == text_order[0]  # the older group's votes agree with the text
    # A group that never voted (another skill's seekers) sees the vacancy-wide estimate,
    # which is even here: the text order.
    match = service.snapshot().match(PREFERENCE)
    other = VotedMatch(match, service.votes.current, VotePrior(), "3d", 30).top_k(ARTS, 4).items
    assert [vid for vid, _ in other] == text_order


def test_without_votes_cards_are_the_texts_top_k(engine: Engine, tmp_path: Path) -> None:
    service = _service(engine, tmp_path)
    refresh_vacancy_votes(engine, include_simulated=False)  # nothing rated: an empty table
    service.refresh()
    match = service.snapshot().match(PREFERENCE)
    ranked = VotedMatch(match, service.votes.current, VotePrior(), "акварель", 30).top_k(ARTS, 3)
    assert ranked == match.top_k(ARTS, 3)
    assert len(service.votes.current) == 0


def test_the_holder_runs_the_job_when_due_and_swaps_in_the_new_sums(
    engine: Engine, tmp_path: Path
) -> None:
    from vacrec.app.vacancy_votes import VoteHolder

    service = _service(engine, tmp_path)
    _rate(service, YOUNG, {0: -1, 1: 1}, "api")
    _rate(service, YOUNG, {0: -1}, "simulator")
    holder = VoteHolder(engine, poll_s=60, job_every_s=0.01, include_simulated=False)
    assert not holder.refresh_if_changed()  # nothing stored yet: the empty table stays
    time.sleep(0.05)  # let the job come due
    holder.poll()
    assert len(holder.current) == 2 and int(holder.current.down.sum()) == 1
    assert not holder.refresh_if_changed()  # same stamp: no reload
