"""Ranking and industry features of the catalog-wide TF-IDF index on hand-made catalogs."""

from __future__ import annotations

import math
import random
import tracemalloc
from typing import Any

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from tests.ranking.ranking_fixtures import ART, IT, record
from vacrec.catalog.schema import CatalogRecord
from vacrec.catalog.terms import document_terms, is_generic, query_terms
from vacrec.ranking import index as index_module
from vacrec.ranking.index import TITLE_WEIGHT, TOP_WEIGHTS, IndexDocument, TfidfIndex
from vacrec.ranking.snapshot import CatalogSnapshot


@pytest.fixture
def snapshot(catalog: list[CatalogRecord]) -> CatalogSnapshot:
    return CatalogSnapshot.from_records(1, catalog)


def ids(items: list[tuple[str, float]]) -> list[str]:
    return [vacancy_id for vacancy_id, _ in items]


def test_inflected_russian_word_ranks_the_matching_vacancy_first(snapshot: CatalogSnapshot):
    # «акварелью» (instrumental) must meet «акварель» (nominative) through the stemmer.
    ranked = snapshot.top_k(ART, "Люблю рисовать акварелью", 3)

    assert not ranked.fallback
    assert ids(ranked.items)[0] == "a1"
    assert ranked.items[0][1] > 0.0
    assert all(score == 0.0 for _, score in ranked.items[1:])


def test_stop_words_in_the_preference_do_not_change_the_ranking(snapshot: CatalogSnapshot):
    plain = snapshot.top_k(ART, "живопись маслом", 4)
    padded = snapshot.top_k(ART, "и в на живопись для маслом а также", 4)

    assert ids(plain.items)[0] == "a3"
    assert plain == padded


def reference_tfidf(records: list[CatalogRecord]) -> tuple[TfidfVectorizer, object]:
    """scikit-learn's TF-IDF with the index's settings: one space over the whole catalog,
    sublinear tf, the title counted ``TITLE_WEIGHT`` times."""
    vectorizer = TfidfVectorizer(analyzer=document_terms, sublinear_tf=True)
    texts = [" ".join([r.name] * TITLE_WEIGHT + [r.description]) for r in records]
    matrix = vectorizer.fit_transform(texts)
    vectorizer.analyzer = query_terms  # a seeker's words are read as the index reads them
    return vectorizer, matrix


def coordinated(
    vectorizer: TfidfVectorizer, matrix: Any, preference: str, titles: list[str]
) -> np.ndarray:
    """Each row's cosine with the unit query times ``1 − c + c · coverage`` (coverage: the
    query's squared weights of the terms the row holds; ``index.COORDINATION``) and times
    ``1 − t + t · title coverage`` (the same over the terms of the row's title, ``titles``;
    ``index.TITLE_COVERAGE``) and times ``1 − p + p · title precision`` (the share of the
    row's own squared weight on its title's terms held by the query's terms;
    ``index.TITLE_PRECISION``). Beside a subject word a role word weighs ``GENERIC_WEIGHT`` of
    its TF-IDF weight, and a row holding only role words scores ``GENERIC_ONLY`` of its
    score."""
    query = vectorizer.transform([preference]).tocsr()
    terms = vectorizer.get_feature_names_out()
    generic = np.array([is_generic(str(terms[c])) for c in query.indices], dtype=bool)
    mixed = generic.any() and not generic.all()
    if mixed:
        query.data[generic] *= index_module.GENERIC_WEIGHT
        query = query / np.sqrt(query.power(2).sum())
    cosine = (matrix @ query.T).toarray().ravel()
    holds = (matrix != 0).astype(float)
    coverage = (holds @ query.power(2).T).toarray().ravel()
    weight = index_module.COORDINATION
    factor: np.ndarray = cosine * (1.0 - weight + weight * coverage)
    vocabulary = vectorizer.vocabulary_
    in_title = np.zeros(matrix.shape, dtype=float)
    for row, title in enumerate(titles):
        in_title[row, [vocabulary[t] for t in set(document_terms(title)) if t in vocabulary]] = 1
    title_coverage = (in_title @ query.power(2).T.toarray()).ravel()
    factor *= 1.0 - index_module.TITLE_COVERAGE + index_module.TITLE_COVERAGE * title_coverage
    own = matrix.toarray() ** 2 * in_title  # the row's own weight held by its title's terms
    title_mass = own.sum(axis=1)
    held = own[:, query.indices].sum(axis=1)
    precision = np.where(title_mass > 0, held / np.maximum(title_mass, 1e-12), 0.0)
    factor *= 1.0 - index_module.TITLE_PRECISION + index_module.TITLE_PRECISION * precision
    if mixed:
        subject = query.copy()
        subject.data[generic] = 0.0
        role_only = (holds @ subject.power(2).T).toarray().ravel() == 0
        factor[role_only] *= index_module.GENERIC_ONLY
    return factor


def test_scores_are_the_coordinated_cosine_of_one_tfidf_over_the_catalog(
    catalog: list[CatalogRecord],
):
    # The lexical side alone (meaning's fusion is tested in test_meaning.py).
    snapshot = CatalogSnapshot.from_records(1, catalog, with_meaning=False)
    vectorizer, matrix = reference_tfidf(catalog)
    preference = "художник для игр, акварель"
    expected = coordinated(vectorizer, matrix, preference, [r.name for r in catalog])
    cosine = {r.id: float(c) for r, c in zip(catalog, expected, strict=True)}
    art = [r for r in catalog if ART in r.industries]

    ranked = dict(snapshot.top_k(ART, preference, len(art)).items)

    assert set(ranked) == {r.id for r in art}
    for vacancy_id, score in ranked.items():
        assert score == pytest.approx(cosine[vacancy_id], abs=1e-6)


def test_a_title_word_counts_more_than_the_same_word_in_a_description():
    snapshot = CatalogSnapshot.from_records(
        1,
        [
            record("title", "Работа в студии, дружный коллектив.", [ART], 1, name="Аниматор"),
            record("text", "Аниматор в студии, дружный коллектив.", [ART], 1, name="Сотрудник"),
        ],
    )

    ranked = snapshot.top_k(ART, "аниматор", 2)

    assert ids(ranked.items) == ["title", "text"]
    assert ranked.items[0][1] > ranked.items[1][1] > 0.0


def test_coverage_counts_the_typed_words_a_posting_holds_not_its_length():
    snapshot = CatalogSnapshot.from_records(
        1,
        [
            record("both", "Учим детей рисованию в студии, гибкий график.", [ART], 1,
                   name="Преподаватель рисования"),
            record("short", "Школа.", [ART], 1, name="Преподаватель математики"),
            record("city", "Преподаватель рисования в Москве.", [ART], 1, name="Педагог"),
            *(record(f"t{i}", "Преподаватель в школу.", [ART], 1, name=f"Учитель {i}")
              for i in range(4)),
        ],
        with_meaning=False,
    )  # fmt: skip
    match = snapshot.index.match("преподаватель рисования в Москве")
    number = {vid: snapshot.cards.number_of(vid) for vid in ("both", "short", "city")}
    both, short, city = match.coverage(list(number.values()))

    assert city == pytest.approx(1.0)  # every typed word
    assert both < 1.0 and short < both / 2  # the commonest word alone is a small share

    ignore_city = lambda term: term.startswith("москв")  # noqa: E731
    both, _, city = match.coverage(list(number.values()), ignore_city)
    assert both == pytest.approx(city)  # the city said, weighed by the place rules instead


def test_industry_features_say_which_industry_matches_the_text(snapshot: CatalogSnapshot):
    features = snapshot.index.match("Python разработчик бэкенда").features()
    best, _, share = (features[:, i] for i in range(3))
    art, it = snapshot.index.industries.index(ART), snapshot.index.industries.index(IT)

    assert best[it] > 0.0 and best[art] == 0.0
    assert share[it] == pytest.approx(2 / 4)  # i1 and i3 mention Python; i2 and a2 do not
    assert share[art] == 0.0


def test_top_feature_weighs_the_five_cards_best_first(snapshot: CatalogSnapshot):
    text = "художник акварель игры студия"
    features = snapshot.index.match(text).features()

    for position, industry in enumerate(snapshot.index.industries):
        cards = snapshot.top_k(industry, text, 5).items
        assert features[position, 0] == pytest.approx(max(s for _, s in cards), abs=1e-6)
        weighted = sum(w * s for w, (_, s) in zip(TOP_WEIGHTS, cards, strict=False))
        assert features[position, 1] == pytest.approx(weighted, abs=1e-6)


def test_both_ways_of_finding_each_industrys_best_cards_agree(
    snapshot: CatalogSnapshot, monkeypatch: pytest.MonkeyPatch
):
    """Small matches sort all hits at once; big ones partition per industry."""
    text = "художник акварель игры студия python приложения"
    by_sorting = snapshot.index.match(text).features()
    monkeypatch.setattr(index_module, "_SORT_ALL_HITS", 0)

    by_partition = snapshot.index.match(text).features()

    np.testing.assert_allclose(by_partition, by_sorting, rtol=1e-6)
    assert by_sorting[:, 1].max() > 0


def test_a_text_with_no_known_word_has_all_features_zero(snapshot: CatalogSnapshot):
    match = snapshot.index.match("quantum entanglement")

    assert match.empty
    assert not match.features().any()


def test_each_industry_ranks_only_its_own_vacancies(snapshot: CatalogSnapshot):
    art = snapshot.top_k(ART, "Python разработчик", 10)
    it = snapshot.top_k(IT, "Python разработчик", 10)

    assert set(ids(art.items)) == {"a1", "a2", "a3", "a4"}
    assert set(ids(it.items)) == {"a2", "i1", "i2", "i3"}
    assert ids(it.items)[:2] in (["i1", "i3"], ["i3", "i1"])
    assert art.fallback  # no art posting mentions Python


def test_a_vacancy_in_two_groups_is_found_in_both_spaces(snapshot: CatalogSnapshot):
    in_art = snapshot.top_k(ART, "моделирование в Blender", 1)
    in_it = snapshot.top_k(IT, "моделирование в Blender", 1)

    assert ids(in_art.items) == ids(in_it.items) == ["a2"]
    # One space for the catalog: the same posting scores the same in both groups.
    assert in_art.items[0][1] == in_it.items[0][1] > 0.0


@pytest.mark.parametrize("k", [1, 2, 4, 20])
def test_k_bounds_the_number_of_items(snapshot: CatalogSnapshot, k: int):
    ranked = snapshot.top_k(ART, "художник", k)

    assert len(ranked.items) == min(k, 4)
    assert len(set(ids(ranked.items))) == len(ranked.items)


def test_k_below_one_is_refused(snapshot: CatalogSnapshot):
    with pytest.raises(ValueError, match="k must be"):
        snapshot.top_k(ART, "художник", 0)


def test_no_shared_term_falls_back_to_most_recent_first(snapshot: CatalogSnapshot):
    ranked = snapshot.top_k(ART, "бухгалтерия налоги", 4)

    assert ranked.fallback
    # a2 (day 5) first, then a3 and a4 (both day 3) by id, then a1 (day 1).
    assert ids(ranked.items) == ["a2", "a3", "a4", "a1"]
    assert all(score == 0.0 and math.isfinite(score) for _, score in ranked.items)


def test_vacancies_without_publication_time_come_last_in_the_fallback(
    snapshot: CatalogSnapshot,
):
    ranked = snapshot.top_k(IT, "", 4)

    assert ranked.fallback
    assert ids(ranked.items) == ["a2", "i2", "i1", "i3"]


@pytest.mark.parametrize("preference", ["", "   ", "и в на", "🎨🖌️✨", "!!! ???"])
def test_preferences_without_content_words_fall_back(snapshot: CatalogSnapshot, preference: str):
    ranked = snapshot.top_k(ART, preference, 2)

    assert ranked.fallback
    assert ids(ranked.items) == ["a2", "a3"]


def test_emoji_around_a_word_still_match_it(snapshot: CatalogSnapshot):
    ranked = snapshot.top_k(ART, "🎨 гуашь ✨ ΑΒΓ 漢字", 1)

    assert not ranked.fallback
    assert ids(ranked.items) == ["a1"]
    assert math.isfinite(ranked.items[0][1])


def test_fewer_matches_than_k_are_padded_with_recent_vacancies(snapshot: CatalogSnapshot):
    ranked = snapshot.top_k(ART, "витрины", 3)

    assert not ranked.fallback
    assert ids(ranked.items) == ["a4", "a2", "a3"]
    assert ranked.items[0][1] > 0.0
    assert [score for _, score in ranked.items[1:]] == [0.0, 0.0]


def test_equal_scores_are_ordered_most_recent_first():
    same = "Художник по костюмам для театра"
    snapshot = CatalogSnapshot.from_records(
        1,
        [
            record("old", same, [ART], 1),
            record("new", same, [ART], 9),
            record("mid", same, [ART], 5),
        ],
    )

    ranked = snapshot.top_k(ART, "костюмы", 3)

    assert ids(ranked.items) == ["new", "mid", "old"]
    assert len({score for _, score in ranked.items}) == 1


def test_unknown_industry_gives_no_items(snapshot: CatalogSnapshot):
    assert snapshot.top_k("Сельское хозяйство", "акварель", 5).items == []


def test_industry_whose_postings_have_no_content_words_falls_back():
    index = TfidfIndex.build([IndexDocument("x", "и в на", ("Пустое",))])

    ranked = index.top_k("Пустое", "акварель", 3)

    assert ranked.fallback
    assert ids(ranked.items) == ["x"]


def test_matches_brute_force_coordinated_cosine_on_a_random_catalog():
    """Covers both accumulation paths: rare terms (sorted) and common terms (dense)."""
    rng = random.Random(7)
    words = [f"слово{chr(0x430 + i)}{chr(0x430 + j)}" for i in range(12) for j in range(12)]
    common = "дизайн"
    docs = [
        " ".join([common] * rng.randint(0, 2) + rng.choices(words, k=rng.randint(3, 25)))
        for _ in range(300)
    ]
    index = TfidfIndex.build(IndexDocument(str(i), d, ("G",)) for i, d in enumerate(docs))
    vectorizer = TfidfVectorizer(analyzer=document_terms, sublinear_tf=True)
    matrix = vectorizer.fit_transform(docs)
    vectorizer.analyzer = query_terms

    for preference in [words[0], f"{common} {words[5]}", " ".join(rng.sample(words, 8)), common]:
        expected = coordinated(vectorizer, matrix, preference, [""] * len(docs))
        ranked = index.top_k("G", preference, 10)
        best = np.sort(expected)[::-1][:10]
        assert [s for _, s in ranked.items] == pytest.approx(best.tolist(), abs=1e-6)
        for vacancy_id, score in ranked.items:
            assert expected[int(vacancy_id)] == pytest.approx(score, abs=1e-6)


def test_memory_does_not_grow_over_many_requests(catalog: list[CatalogRecord]):
    words = ["акварель", "гуашь", "художник", "игры", "python", "figma", "декор", "свет", "студия"]
    words += [f"слово{i}" for i in range(200)]
    snapshot = CatalogSnapshot.from_records(1, catalog)
    rng = random.Random(3)
    preferences = [" ".join(rng.sample(words, 4)) + f" {i}" for i in range(2_000)]
    for word in words:  # warm the stemmer's own bounded cache once
        snapshot.top_k(ART, word, 5)

    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        for i, preference in enumerate(preferences):
            snapshot.top_k((ART, IT)[i % 2], preference, 5)
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert after - before < 64 * 1024


def test_a_titles_weight_is_its_terms_squared_weights_summed_in_any_slices(
    catalog: list[CatalogRecord], monkeypatch: pytest.MonkeyPatch
):
    """``title_mass`` (what ``TITLE_PRECISION`` divides by) is read in slices at a million
    postings; slices of seven entries give what the scikit-learn rows say."""
    vectorizer, matrix = reference_tfidf(catalog)
    vocabulary = vectorizer.vocabulary_
    expected = []
    for row, r in enumerate(catalog):
        title = [vocabulary[t] for t in set(document_terms(r.name)) if t in vocabulary]
        expected.append(float((matrix[row, title].toarray() ** 2).sum()))
    monkeypatch.setattr(index_module, "_TITLE_MASS_SLICE", 7)
    index = CatalogSnapshot.from_records(1, catalog, with_meaning=False).index
    number_of = {str(v): n for n, v in enumerate(index.ids)}
    got = index.title_mass[index._order[[number_of[r.id] for r in catalog]]]
    assert got == pytest.approx(expected, abs=1e-6)
    assert min(expected) > 0
