"""The words each skill stands for (the vocabulary itself is :mod:`vacrec.domain`'s).

A skill enters the agent's context twice: as an identity (an embedding the
model learns from feedback; a model records the skills it knows, and a skill it
has not seen gets the "unknown" embedding) and through its words, matched
against each industry's postings like the seeker's own text. A configured
extra skill (``VACREC_EXTRA_SKILLS``) has no keywords: its own name is its words.
"""

from __future__ import annotations

from collections.abc import Sequence

# Words typical of each packaged skill (vacrec.domain.PACKAGED_SKILLS), as a seeker with
# that skill would write them.
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
