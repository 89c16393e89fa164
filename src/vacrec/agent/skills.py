"""The skill vocabulary that ships with the package (one-hot part of the state).

Order matters: a skill's index is its position here, recorded with every model,
so new skills are only ever appended (packaged first, then configured extras).
"""

from __future__ import annotations

from collections.abc import Sequence

# The original service's two skills first, then common skills of artists' vacancies.
PACKAGED_SKILLS: tuple[str, ...] = (
    "акварель",
    "геймдев",
    "иллюстрация",
    "3D-моделирование",
    "анимация",
    "графический дизайн",
    "UI/UX-дизайн",
    "концепт-арт",
    "живопись",
    "скульптура",
    "преподавание рисования",
    "татуировка",
    "каллиграфия",
    "моушн-дизайн",
    "фотография",
    "дизайн интерьера",
    "реставрация",
    "дизайн одежды",
)


def skill_vocabulary(extra: Sequence[str] = ()) -> tuple[str, ...]:
    """Packaged skills followed by ``extra`` (stripped, blanks and case-insensitive repeats
    dropped), so configured skills extend the state without shifting existing indices."""
    vocabulary = list(PACKAGED_SKILLS)
    seen = {skill.casefold() for skill in vocabulary}
    for raw in extra:
        skill = " ".join(str(raw).split())
        if skill and skill.casefold() not in seen:
            seen.add(skill.casefold())
            vocabulary.append(skill)
    return tuple(vocabulary)


def skill_index(skills: Sequence[str]) -> dict[str, int]:
    """Case-insensitive lookup from skill name to its index in ``skills``."""
    return {skill.casefold(): i for i, skill in enumerate(skills)}
