"""Text normalisation on real Russian and English phrases."""

from vacrec.catalog.text import normalise, tokenize


def test_inflections_of_one_word_share_a_stem() -> None:
    forms = ["художник", "художника", "художники", "художниками"]
    stems = {normalise(form)[0] for form in forms}
    assert len(stems) == 1


def test_stop_words_are_removed_in_both_languages() -> None:
    # The original service's filter removed nothing; these phrases are all stop words.
    assert normalise("и в на с по для это") == []
    assert normalise("the and of to with") == []


def test_english_content_words_are_not_stop_words() -> None:
    """The packaged English list dropped "web", "qa", "test", "part": a typed "web designer"
    read as "designer" and «PR-менеджер» as «менеджер»."""
    assert normalise("web designer") == ["web", "design"]
    assert normalise("QA Lead / Test Lead") == ["qa", "lead", "test", "lead"]
    assert normalise("PR-менеджер") == ["pr", "менеджер"]
    assert normalise("computer graphics, line art, face painting") == [
        "comput", "graphic", "line", "art", "face", "paint",
    ]  # fmt: skip


def test_content_words_survive_with_their_stems() -> None:
    tokens = normalise("Рисую акварелью иллюстрации для детских книг")
    assert tokens == normalise("рисую акварелью иллюстрации детских книг")
    assert normalise("акварель")[0] in tokens
    assert "для" not in tokens


def test_html_punctuation_and_case_are_stripped() -> None:
    tokens = normalise("<p><b>Дизайнер</b> интерфейсов!!! &laquo;UI/UX&raquo;, Figma.</p>")
    assert tokens == normalise("дизайнер интерфейсов ui ux figma")
    assert not any("<" in t or "!" in t for t in tokens)


def test_english_words_are_stemmed_as_english() -> None:
    assert normalise("animators") == normalise("animator")
    assert normalise("illustrations") == normalise("illustration")


def test_hyphenated_words_split_into_both_parts() -> None:
    assert tokenize("художник-иллюстратор") == ["художник", "иллюстратор"]


def test_yo_is_folded_to_ye() -> None:
    assert normalise("ёлочные игрушки") == normalise("елочные игрушки")


def test_empty_and_symbol_only_text_gives_no_tokens() -> None:
    assert normalise("") == []
    assert normalise("🎨 — … 123") == []


def test_nouns_ending_like_reflexive_verbs_match_their_other_forms() -> None:
    for forms in (["живопись", "живописи", "живописью"], ["роспись", "росписи", "росписью"]):
        assert len({normalise(form)[0] for form in forms}) == 1
