"""The packaged skill vocabulary and the words each skill stands for."""

from __future__ import annotations

from tests.agent.agent_fixtures import snapshot
from vacrec.agent.skills import SKILL_KEYWORDS, skill_text
from vacrec.domain import PACKAGED_SKILLS, SkillVocabulary


def test_vocabulary_has_the_original_skills_first_and_appends_extras():
    vocab = SkillVocabulary().skills
    assert vocab == PACKAGED_SKILLS
    assert vocab[:2] == ("акварель", "геймдев")
    assert len(vocab) >= 14
    for skill in ("иллюстрация", "3D-моделирование", "UI/UX-дизайн", "татуировка", "моушн-дизайн"):
        assert skill in vocab
    extended = SkillVocabulary(["  витраж ", "АКВАРЕЛЬ", "", "витраж", "  ", "Витраж"]).skills
    assert extended[: len(PACKAGED_SKILLS)] == PACKAGED_SKILLS
    assert extended[len(PACKAGED_SKILLS) :] == ("витраж",)


def test_inner_whitespace_of_an_extra_skill_is_collapsed():
    assert SkillVocabulary(["роспись   по\tстеклу"]).skills[-1] == "роспись по стеклу"


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


def test_the_vocabulary_reads_any_case_and_spacing():
    vocabulary = SkillVocabulary(["роспись по стеклу"])
    assert vocabulary.canonical("UI/UX-ДИЗАЙН") == "UI/UX-дизайн"
    assert vocabulary.canonical("  Роспись   по\tстеклу ") == "роспись по стеклу"
    assert vocabulary.index("акварель") == 0 and vocabulary.index("граффити") is None
    assert vocabulary.canonical("граффити") is None and len(vocabulary) == 19
