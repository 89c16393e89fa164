"""The rules every layer shares: who a seeker can be and which skills there are.

The HTTP schemas, the recommender, the agent's encoder and the simulator all
import these, so each limit is written once. Each entry point validates
against them once (the API's schemas, the recommender for in-process callers)
and the layers behind it trust the data, as scikit-learn does.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

AGE_MIN, AGE_MAX = 14, 100
"""A seeker's age in whole years, inclusive (the original service's form)."""
PREFERENCE_MAX_CHARS = 256
"""What a seeker may write about what they want."""
K_MIN, K_MAX, K_DEFAULT = 1, 20, 5
"""Vacancies per recommendation."""
LEGACY_K = 5
"""The original service showed five vacancies; legacy writes without an event are bounded by it."""
SESSION_ID_MAX_CHARS = 128

# The packaged skills, each with words typical of it as a seeker with that skill would write
# them: the original service's two skills first, then common skills of artists' vacancies.
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
PACKAGED_SKILLS: tuple[str, ...] = tuple(SKILL_KEYWORDS)
"""The packaged skills' names, in the order their indices keep."""


def as_utc(moment: datetime) -> datetime:
    """``moment`` made timezone-aware: a naive one is UTC. Every time vacrec stores is UTC, and
    SQLite hands them back naive (PostgreSQL aware)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def skill_key(text: str) -> str:
    """What two spellings of one skill share: runs of whitespace as one space, case folded."""
    return " ".join(str(text).split()).casefold()


class SkillVocabulary:
    """The skills a seeker can name: the packaged ones, then configured extras.

    Extras come after the packaged skills (blanks and repeats, in any case,
    dropped), so configuring one never shifts an existing skill's index.
    """

    def __init__(self, extra: Sequence[str] = ()) -> None:
        skills = list(PACKAGED_SKILLS)
        seen = {skill_key(skill) for skill in skills}
        for raw in extra:
            skill = " ".join(str(raw).split())
            if skill and skill_key(skill) not in seen:
                seen.add(skill_key(skill))
                skills.append(skill)
        self.skills: tuple[str, ...] = tuple(skills)
        self._index = {skill_key(skill): i for i, skill in enumerate(self.skills)}

    def canonical(self, text: str) -> str | None:
        """The vocabulary's spelling of ``text`` (any case or spacing), None when unknown."""
        i = self._index.get(skill_key(text))
        return None if i is None else self.skills[i]

    def index(self, text: str) -> int | None:
        """The position of ``text``'s skill, None when unknown."""
        return self._index.get(skill_key(text))

    def __len__(self) -> int:
        return len(self.skills)

    def __iter__(self) -> Iterator[str]:
        return iter(self.skills)
