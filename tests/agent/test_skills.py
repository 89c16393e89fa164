"""The packaged skill vocabulary and the words each skill stands for."""

from __future__ import annotations

from tests.agent.agent_fixtures import snapshot
from vacrec.agent.skills import (
    PACKAGED_SKILLS,
    SKILL_KEYWORDS,
    skill_index,
    skill_text,
    skill_vocabulary,
)


def test_vocabulary_has_the_original_skills_first_and_appends_extras():
    vocab = skill_vocabulary()
    assert vocab == PACKAGED_SKILLS
    assert vocab[:2] == ("акварель", "геймдев")
    assert len(vocab) >= 14
    for skill in ("иллюстрация", "3D-моделирование", "UI/UX-дизайн", "татуировка", "моушн-дизайн"):
        assert skill in vocab
    extended = skill_vocabulary(["  витраж ", "АКВАРЕЛЬ", "", "витраж", "  ", "Витраж"])
    assert extended[: len(PACKAGED_SKILLS)] == PACKAGED_SKILLS
    assert extended[len(PACKAGED_SKILLS) :] == ("витраж",)


def test_inner_whitespace_of_an_extra_skill_is_collapsed():
    assert skill_vocabulary(["роспись   по\tстеклу"])[-1] == "роспись по стеклу"


def test_every_packaged_skill_has_its_own_keywords():
    assert set(SKILL_KEYWORDS) == set(PACKAGED_SKILLS)
    assert all(len(words) >= 3 for words in SKILL_KEYWORDS.values())
    assert len({words for words in SKILL_KEYWORDS.values()}) == len(SKILL_KEYWORDS)


def test_skill_text_is_the_name_and_its_keywords_and_an_extra_skill_is_its_name():
    assert skill_text("акварель") == "акварель акварель рисунок кисти пейзаж иллюстрации бумага"
    assert skill_text("витраж") == "витраж"


def test_keywords_let_a_skill_reach_postings_its_name_alone_does_not():
    """«UI/UX-дизайн» never appears in a posting; its keywords (Figma, приложения) do."""
    snap = snapshot()
    by_name = snap.match_features("UI/UX-дизайн")
    by_words = snap.match_features(skill_text("UI/UX-дизайн"))

    assert by_words[:, 0].max() > by_name[:, 0].max()


def test_skill_index_is_case_insensitive():
    index = skill_index(("акварель", "UI/UX-дизайн"))
    assert index == {"акварель": 0, "ui/ux-дизайн": 1}
    assert index["UI/UX-ДИЗАЙН".casefold()] == 1
