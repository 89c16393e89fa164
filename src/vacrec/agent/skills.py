"""The skill vocabulary that ships with the package, and the words each skill stands for.

A skill enters the agent's context twice: as an identity (an embedding the
model learns from feedback; a model records the skills it knows, and a skill it
has not seen gets the "unknown" embedding) and through its words, matched
against each industry's postings like the seeker's own text. A configured
extra skill (``VACREC_EXTRA_SKILLS``) has no keywords: its own name is its words.
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


# Words typical of each packaged skill, as a seeker with that skill would write them.
SKILL_KEYWORDS: dict[str, tuple[str, ...]] = {
    "акварель": ("акварель", "рисунок", "кисти", "пейзаж", "иллюстрации", "бумага"),
    "геймдев": ("игры", "игровой", "персонажи", "unity", "локации", "текстуры"),
    "иллюстрация": ("иллюстрации", "книги", "рисунок", "персонажи", "детские", "обложки"),
    "3D-моделирование": ("3d", "моделирование", "blender", "текстуры", "модели", "рендер"),
    "анимация": ("анимация", "мультфильмы", "аниматор", "персонажи", "spine", "движение"),
    "графический дизайн": ("дизайн", "логотипы", "брендинг", "баннеры", "полиграфия", "макеты"),
    "UI/UX-дизайн": ("интерфейсы", "figma", "прототипы", "сайты", "приложения", "ux"),
    "концепт-арт": ("концепт", "арт", "персонажи", "окружение", "скетчи", "игры"),
    "живопись": ("живопись", "масло", "холст", "картины", "портрет", "художник"),
    "скульптура": ("скульптура", "лепка", "глина", "гипс", "скульптор", "формы"),
    "преподавание рисования": ("преподаватель", "дети", "уроки", "рисование", "студия", "курсы"),
    "татуировка": ("тату", "эскизы", "татуировка", "салон", "мастер", "графика"),
    "каллиграфия": ("каллиграфия", "леттеринг", "шрифты", "надписи", "открытки", "буквы"),
    "моушн-дизайн": ("моушн", "after", "effects", "видео", "анимация", "ролики"),
    "фотография": ("фотограф", "фотосъёмка", "ретушь", "фотостудия", "lightroom", "съёмка"),
    "дизайн интерьера": ("интерьер", "дизайн", "планировка", "визуализация", "мебель", "ремонт"),
    "реставрация": ("реставрация", "реставратор", "музей", "консервация", "иконы", "антиквариат"),
    "дизайн одежды": ("одежда", "модельер", "коллекция", "ткани", "лекала", "конструктор"),
}


def skill_text(skill: str) -> str:
    """The words a skill stands for: its name and its keywords (for an extra skill, the name)."""
    return " ".join((skill, *SKILL_KEYWORDS.get(skill, ())))


def skill_texts(skills: Sequence[str]) -> dict[str, str]:
    """Each skill's words (:func:`skill_text`), as the context encoder takes them."""
    return {skill: skill_text(skill) for skill in skills}


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
