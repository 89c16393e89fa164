"""Reading a place and a work format from a request, and choosing cards by them."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from vacrec.catalog.schema import CatalogRecord
from vacrec.ranking.cards import CardTable, ColumnBuilder, job_key
from vacrec.ranking.place import Places, Understood, UnknownArea, choose, topic
from vacrec.ranking.snapshot import CatalogSnapshot

AREAS = [
    "Москва", "Санкт-Петербург", "Нижний Новгород", "Уфа", "Киров (Кировская область)",
    "Московский", "Алматы",
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "area", "work_format"),
    [
        ("художник в Москве", "Москва", "any"),
        ("Москва, иллюстрация", "Москва", "any"),
        ("in Moscow", "Москва", "any"),
        ("в Питере", "Санкт-Петербург", "any"),
        ("работа в Нижнем Новгороде", "Нижний Новгород", "any"),
        ("в Кирове", "Киров (Кировская область)", "any"),
        ("в Уфе", "Уфа", "any"),
        ("печать на уф принтере", None, "any"),  # UV, not Ufa
        ("в московском офисе", None, "any"),  # an adjective, not the town Московский
        ("только в офисе", None, "office"),
        ("удалённо", None, "remote"),
        ("удаленная работа, акварель", None, "remote"),
        ("remote 3D artist", None, "remote"),
        ("в Москве или удалённо", "Москва", "any"),  # a city already puts remote jobs first
        ("акварель", None, "any"),
    ],
)
def test_place_and_format_are_read_from_the_words(
    text: str, area: str | None, work_format: str
) -> None:
    understood = Places(AREAS).understand(text)
    assert (understood.area, understood.work_format) == (area, work_format)
    assert understood.area_from_words == (area is not None)


def test_explicit_fields_win_over_the_words() -> None:
    places = Places(AREAS)
    understood = places.understand("в Москве удалённо", area="алматы", work_format="office")
    assert understood == Understood("Алматы", "office", False, False)


def test_an_unknown_area_names_close_ones() -> None:
    places = Places(AREAS)
    assert places.resolve("МОСКВЕ") == "Москва" and places.resolve("Киров") == AREAS[4]
    with pytest.raises(UnknownArea, match="Москва"):
        places.resolve("Масква")
    for nonsense in ("!!!", "   ", "в", "\u2028"):
        with pytest.raises(UnknownArea):
            places.resolve(nonsense)


def _record(i: int, area: str, schedule: str, text: str, name: str = "") -> CatalogRecord:
    return CatalogRecord(
        id=f"v{i:02d}", name=name or f"Художник {i}", description=f"{text} вакансия {i}",
        industries=("A",), company=None if name else f"Студия {i}", area=area, schedule=schedule,
    )  # fmt: skip


def test_choose_filters_prefers_and_keeps_one_card_per_job() -> None:
    records = [_record(i, "Казань", "fullDay", "акварель акварель живопись") for i in range(6)]
    records += [_record(10 + i, "Москва", "fullDay", "акварель живопись") for i in range(2)]
    records += [_record(20 + i, "Казань", "remote", "акварель живопись") for i in range(2)]
    records += [_record(30 + i, c, "fullDay", "акварель акварель живопись", "Художник")
                for i, c in enumerate(["Москва", "Томск"])]  # fmt: skip
    snapshot = CatalogSnapshot.from_records(1, records)
    match, cards = snapshot.match("акварель живопись"), snapshot.cards

    def ids(wanted: Understood, k: int = 5) -> list[tuple[str, bool | None]]:
        chosen = choose(match, cards, "A", k, wanted, snapshot.index.size("A"))
        return [(c.id, c.place_match) for c in chosen.items]

    plain = ids(Understood())
    assert [vid for vid, _ in plain][:5] == [f"v{i:02d}" for i in range(5)]  # best matches
    moscow = ids(Understood("Москва"), k=8)
    assert {vid for vid, flag in moscow if flag} == {"v10", "v11", "v20", "v21", "v30"}
    assert [flag for _, flag in moscow] == [True] * 5 + [False] * 3
    remote = ids(Understood(work_format="remote"), k=8)
    assert remote == [("v20", True), ("v21", True)]
    everything = ids(Understood(), k=20)
    assert sum(vid in ("v30", "v31") for vid, _ in everything) == 1  # one job, once
    decorator = next(c for c in choose(match, cards, "A", 20, Understood(), 12).items
                     if c.id in ("v30", "v31"))  # fmt: skip
    assert decorator.also_in == (("Томск",) if decorator.id == "v30" else ("Москва",))


def test_the_words_say_what_experience_is_asked_for() -> None:
    places = Places(AREAS)
    assert places.understand("иллюстратор, можно без опыта").experience == "noExperience"
    assert places.understand("student, no experience needed").experience == "noExperience"
    assert places.understand("ведущий художник").experience == "moreThan6"
    assert places.understand("акварель").experience is None


def test_postings_that_fit_the_experience_asked_for_come_first() -> None:
    levels = ["moreThan6", "between3And6", None, "between1And3", "noExperience"]
    records = [
        CatalogRecord(
            id=f"v{i}", name=f"Художник {i}", description="акварель " + "эскиз " * i,
            industries=("A",), company=f"Студия {i}", experience=level,
        )
        for i, level in enumerate(levels)
    ]  # fmt: skip
    snapshot = CatalogSnapshot.from_records(1, records)
    match, cards = snapshot.match("акварель"), snapshot.cards

    def order(wish: str | None) -> list[str]:
        wanted = Understood(experience=wish)
        return [c.id for c in choose(match, cards, "A", 5, wanted, 5).items]

    assert order(None) == ["v0", "v1", "v2", "v3", "v4"]  # the match's order: fewer other words
    # no experience: the junior posting first, the senior ones last, the rest as matched
    assert order("noExperience") == ["v4", "v2", "v3", "v0", "v1"]
    # senior: the experienced postings (already first here) stay first, the junior one last
    assert order("moreThan6") == ["v0", "v1", "v2", "v3", "v4"]


def test_a_city_reorders_strong_matches_but_never_lifts_a_weak_one() -> None:
    """«преподаватель рисования в Москве»: drawing teachers elsewhere come before a Moscow
    posting that shares only «преподаватель» (a Python teacher), Moscow's drawing teacher
    first of all."""
    records = [
        _record(1, "Томск", "fullDay", "уроки рисования", "Преподаватель рисования"),
        _record(2, "Казань", "fullDay", "уроки рисования детям", "Преподаватель рисования"),
        _record(3, "Москва", "fullDay", "курс Python", "Преподаватель программирования"),
        _record(4, "Москва", "fullDay", "рисование", "Преподаватель рисования"),
    ]
    records = [CatalogRecord(**{**vars(r), "company": f"Школа {n}"}) for n, r in enumerate(records)]
    snapshot = CatalogSnapshot.from_records(1, records)
    text = "преподаватель рисования в Москве"
    wanted = snapshot.places.understand(text)
    assert wanted.area == "Москва"
    chosen = choose(snapshot.match(text), snapshot.cards, "A", 4, wanted, 4).items
    assert chosen[0].id == "v04"  # Moscow's drawing teacher
    assert chosen[-1].id == "v03"  # the Python teacher in Moscow: a weak match, last
    assert [c.place_match for c in chosen] == [True, False, False, True]


def test_remote_said_in_the_words_puts_remote_matches_before_stronger_office_ones() -> None:
    """«иллюстратор детских книг, удалённо»: an office illustrator elsewhere matches the words
    best, and a remote one holds only «иллюстратор» (a weak match by coverage), but a seeker
    who asked for remote work would not apply to the office; remote matches come first, the
    office one after them, marked; a remote posting the words do not match comes last."""
    records = [
        _record(1, "Казань", "fullDay", "иллюстрации детских книг, сказки",
                "Иллюстратор детских книг"),
        _record(2, "Томск", "remote", "иллюстрации для журнала", "Иллюстратор"),
        _record(3, "Томск", "remote", "верстка макетов", "Верстальщик"),
    ]  # fmt: skip
    records = [
        CatalogRecord(**{**vars(r), "company": f"Студия {n}"}) for n, r in enumerate(records)
    ]
    snapshot = CatalogSnapshot.from_records(1, records)
    text = "иллюстратор детских книг, удалённо"
    wanted = snapshot.places.understand(text)
    assert (wanted.work_format, wanted.format_from_words) == ("remote", True)
    match = snapshot.match(topic(text, wanted))
    plain = choose(match, snapshot.cards, "A", 3, Understood(), 3).items
    assert plain[0].id == "v01"  # the office posting is the better match of the words
    chosen = choose(match, snapshot.cards, "A", 3, wanted, 3).items
    assert [(c.id, c.place_match) for c in chosen] == [("v02", True), ("v01", False), ("v03", True)]


def test_one_job_whatever_alias_its_company_is_shown_with() -> None:
    # The 2023 catalog shows Fntastic both ways; its 3D Character Artist filled two slots.
    same = job_key("3D Character Artist", "Fntastic") == job_key(
        "3D Character Artist", "Fntastic» (Фнтастик)"
    )
    assert same
    assert job_key("3D Character Artist", "Fntastic") != job_key("3D Character Artist", "Playrix")
    assert job_key("3D Character Artist", "Fntastic") != job_key("2D Character Artist", "Fntastic")


@pytest.mark.parametrize("dated", [False, True])
def test_the_place_miss_is_each_industrys_share_of_postings_outside_the_place(dated: bool) -> None:
    """What the agent's context knows of the place: the share of every industry's postings
    that :func:`choose` would not put first for it (as many of an industry as fit).
    ``dated``: the later given, the newer, so the index's most-recent-first order is not
    the order the postings came in (it once counted other postings' places)."""
    records = [
        *(_record(i, "Москва", "fullDay", "живопись") for i in range(2)),
        _record(2, "Казань", "remote", "живопись"),
        _record(3, "Казань", "fullDay", "живопись"),
        *(
            dataclasses.replace(_record(10 + i, "Казань", "fullDay", "дизайн"), industries=("B",))
            for i in range(3)
        ),
        dataclasses.replace(_record(13, "Москва", "remote", "дизайн"), industries=("B",)),
    ]
    if dated:
        start = datetime(2023, 6, 1, tzinfo=UTC)
        records = [
            dataclasses.replace(r, published_at=start + timedelta(days=n))
            for n, r in enumerate(records)
        ]
    snapshot = CatalogSnapshot.from_records(1, records)
    assert snapshot.actions == ("A", "B")

    def miss(wanted: Understood) -> list[float]:
        return [round(float(x), 6) for x in snapshot.place_miss(wanted)]

    assert miss(Understood()) == [0.0, 0.0]  # nothing asked: every posting fits
    assert miss(Understood("Москва")) == [0.25, 0.75]  # its office jobs and every remote one
    assert miss(Understood("Казань", "office")) == [0.75, 0.25]
    assert miss(Understood(work_format="remote")) == [0.75, 0.75]
    assert miss(Understood(work_format="office")) == [0.25, 0.25]
    assert miss(Understood("Томск")) == [0.75, 0.75]  # not in the catalog: only remote ones
    # A logged request: the fields win, an area since gone counts as not given.
    logged = snapshot.place_miss_of
    np.testing.assert_array_equal(logged("живопись в Москве", (None, None)), [0.25, 0.75])
    np.testing.assert_array_equal(logged("живопись в Москве", ("Казань", "office")), [0.75, 0.25])
    np.testing.assert_array_equal(logged("живопись", ("Атлантида", None)), [0.0, 0.0])


def test_the_place_counts_do_not_depend_on_the_cards_order() -> None:
    """Cards laid out in another order than the index's documents (a snapshot assembled from
    other parts) are mapped through their ids: the same place miss and servable industries."""
    records = [
        _record(0, "Москва", "fullDay", "живопись"),
        _record(1, "Казань", "remote", "живопись"),
        dataclasses.replace(_record(2, "Казань", "fullDay", "дизайн"), industries=("B",)),
    ]
    built = CatalogSnapshot.from_records(1, records)
    columns = ColumnBuilder()
    for r in reversed(records):
        columns.add_record(r)
    reordered = CatalogSnapshot(1, built.actions, CardTable(columns.arrays()), built.index)
    remote = Understood(work_format="remote")
    for snapshot in (built, reordered.prepare_serving()):
        assert snapshot.place_miss(Understood("Москва")).tolist() == [0.0, 1.0]
        assert snapshot.servable(remote).tolist() == [True, False]
        assert snapshot.servable(Understood(), frozenset({"v02"})).tolist() == [True, False]
