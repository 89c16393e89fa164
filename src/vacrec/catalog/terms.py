"""What the ranking index counts of a text: content words, minus addresses, plus word roots.

- **Addresses count nothing.** A street named «пр. Художников» in a title or a description
  made a cashier's posting match «художник»; parts that read as an address (a street, metro
  or mall marker followed by a name, a parenthesised part with a house number) are dropped
  before the words are counted (:func:`strip_addresses`).
- **Word forms meet.** Besides each word's Snowball stem, a Russian word longer than
  ``ROOT_CHARS`` letters also yields its first ``ROOT_CHARS`` letters as a root term
  («иллюстрации», «иллюстратор», «иллюстратора» all give ``иллюс~``): derived forms the
  stemmer keeps apart (the craft and its maker) then share a term, while an exact form still
  shares two and ranks first.
- **English requests reach Russian postings.** The catalog is Russian; an English request's
  words are also looked up in a small glossary of the craft's words (:data:`GLOSSARY`) and
  their Russian counterparts are added to the query (queries only).
- **Request filler weighs nothing.** «хочу», «любая работа», «ищу», «студент», "job",
  "looking" say that someone wants a job, not which: they are taken out of the query
  (:data:`FILLER`), so they neither match postings («Работа для студентов» in IT) nor move
  the industry prior, which reads the same match.
- **A tool's name is one word.** "After Effects", "Substance Painter", "Unreal Engine" are
  joined into one term in postings and requests alike (:data:`TOOLS`): split, "painter" met
  painters and "effects" meant nothing; the glossary adds the craft they belong to.
- **A role word alone says little.** «преподаватель», «художник», "artist", "junior" are in
  postings of every craft; beside a word naming the subject they weigh less
  (:func:`is_generic`, read by ``ranking.index``), so a Python teacher sharing only
  «преподаватель» does not outrank drawing teachers for «учитель рисования».
- **Experience is a wish, not a topic.** «без опыта», "no experience" and the like are taken
  out of the query (:func:`experience_wish` says what they ask for): the word «опыт» is in
  nearly every senior posting's requirements and otherwise pulls those up.
"""

from __future__ import annotations

import re
from functools import lru_cache

from vacrec.catalog.text import normalise, tokenize

ROOT_CHARS = 5
ROOT_MARK = "~"
_CYRILLIC = re.compile(r"[а-яё]")

# A street/metro/mall marker and the name after it («пр. Художников», «ул. Песчаная, 2»,
# «м. Озерки», «ТЦ Муссон»), or a parenthesised part holding a house number.
_MARKED = re.compile(
    r"\b(?:(?:пр|ул|пл|пер|наб|ш|м|ст\.\s?м|Пр|Ул)\.|[Пп]р-т\.?|[Пп]роспект|[Уу]лица)"
    r"\s*[А-ЯЁA-Z0-9][\w-]*"
    r"(?:[\s,]+\d+\w*(?:\s*к\.\s*\d+)?)?"
    r"|\b(?:ТЦ|ТРЦ|ТРК|ЖК)\s+(?:«[^»]*»|\"[^\"]*\"|[А-ЯЁA-Z][\w-]*(?:\s+[А-ЯЁA-Z][\w-]*)*)"
)
_NUMBERED_PART = re.compile(r"\([^()]*\d[^()]*\)")
_ADDRESS_LINE = re.compile(r"(?im)^.*\b(?:адрес|address)\b\s*:?.*$")

TOOLS: dict[str, str] = {
    r"after\s*effects?": "aftereffects",
    r"substance\s*(?:3d\s*)?painter": "substancepainter",
    r"substance\s*(?:3d\s*)?designer": "substancedesigner",
    r"unreal\s*engine": "unrealengine",
}
"""Tool names (a regular expression, any letter case) → the one word they become."""
_TOOLS = [(re.compile(rf"\b{pattern}\b", re.IGNORECASE), word) for pattern, word in TOOLS.items()]

GLOSSARY: dict[str, str] = {
    "aftereffects": "моушн анимация",
    "substancepainter": "текстура",
    "substancedesigner": "текстура",
    "artist": "художник",
    "painter": "художник живописец живопись",
    "painting": "живопись роспись",
    "paint": "живопись роспись",
    "watercolour": "акварель",
    "watercolor": "акварель",
    "illustrator": "иллюстратор",
    "illustration": "иллюстрация",
    "book": "книга",
    "children": "детский",
    "kid": "дети детский",
    "sculptor": "скульптор скульптура",
    "sculpture": "скульптура",
    "clay": "глина лепка",
    "plaster": "гипс",
    "monument": "памятник",
    "ceramic": "керамика керамист",
    "porcelain": "фарфор",
    "teacher": "преподаватель педагог",
    "teach": "преподаватель",
    "lesson": "урок",
    "draw": "рисование рисунок",
    "drawing": "рисование рисунок",
    "tattoo": "тату татуировка",
    "permanent": "перманентный",
    "makeup": "макияж",
    "calligraphi": "каллиграфия",
    "letter": "леттеринг",
    "photograph": "фотограф",
    "photo": "фото фотограф",
    "retouch": "ретушь ретушер",
    "interior": "интерьер",
    "visual": "визуализация визуализатор",
    "restor": "реставратор реставрация",
    "museum": "музей",
    "conserv": "реставрация",
    "fashion": "одежда модельер",
    "cloth": "одежда",
    "garment": "одежда",
    "collect": "коллекция",
    "theatr": "театр",
    "prop": "бутафор реквизит",
    "set": "декорация",
    "motion": "моушн",
    "video": "видео",
    "anim": "анимация аниматор",
    "cartoon": "мультфильм",
    "graphic": "графический",
    "logo": "логотип",
    "brand": "брендинг",
    "design": "дизайнер",
    "designer": "дизайнер",
    "concept": "концепт",
    "charact": "персонаж",
    "environ": "окружение",
    "game": "игра",
    "texture": "текстура",
    "model": "моделирование",
    "modeler": "моделлер",
    # The craft words of the catalog's own titles, in English (its 300 commonest title words
    # read for those naming a craft, a tool of it or a product of it; the ones above kept).
    "editor": "редактор",
    "editing": "монтаж видеомонтаж",
    "jewelry": "ювелир ювелирный украшение",
    "jewellery": "ювелир ювелирный украшение",
    "jeweller": "ювелир ювелирный украшение",
    "engraver": "гравер гравировка",
    "decor": "декор декоратор оформитель",
    "facepaint": "аквагрим",
    "colorist": "колорист",
    "colourist": "колорист",
    "storyboard": "раскадровка раскадровщик",
    "layout": "верстка верстальщик",
    "typesetter": "верстка верстальщик",
    "print": "печать полиграфия",
    "tailor": "портной закройщик",
    "seamstress": "швея",
    "sew": "швея",
    "costume": "костюм костюмер",
    "stage": "сцена сценический",
    "gallery": "галерея",
    "curator": "куратор",
    "exhibition": "выставка экспозиция",
    "miniature": "миниатюра",
    "wood": "дерево",
    "carver": "резчик резьба",
    "carving": "резчик резьба",
    "enamel": "эмаль финифть",
    "mosaic": "мозаика",
    "glass": "стекло витраж",
    "furniture": "мебель",
    "landscape": "пейзаж ландшафтный",
    "architect": "архитектор",
    "florist": "флорист",
    "confectioner": "кондитер",
    "pastry": "кондитер",
    "cake": "торт кондитер",
    "comic": "комикс",
    "interface": "интерфейс",
    "ui": "интерфейс",
    "mobile": "мобильный",
    "app": "приложение",
    "school": "школа",
    "portrait": "портрет",
    "textile": "текстиль ткань",
    "fabric": "ткань",
    "pattern": "лекало выкройка",
    "embroidery": "вышивка",
    "vfx": "спецэффект",
    "particles": "частица",
    "light": "свет освещение",
    "sketch": "скетч эскиз",
    "mural": "роспись",
    "wall": "стена роспись",
    "icon": "икона иконопись",
    "generalist": "дженералист",
    "render": "рендер визуализация",
    "sculpting": "скульптор лепка",
    "packaging": "упаковка",
    "label": "этикетка",
    "cover": "обложка",
    "publishing": "издательство",
    "advertising": "реклама рекламный",
    "shoe": "обувь",
    "nail": "маникюр",
    "studio": "студия",
}
"""English words of the craft (looked up by their Snowball stems) → Russian words added to an
English query."""

_FILLER_WORDS = (
    "хочу хочется хочет хотим хотел хотела хотелось подойдёт подойдут подходит подходящая"
    " подходящую работа работу работы работой работе работать работаю поработать подработка"
    " подработку подработки любая любой любую любые любое любых ищу ищем искать поиск можно"
    " нужна нужен нужно вакансия вакансию вакансии интересует интересна рассмотрю"
    " рассматриваю предложение предложения желательно готов готова студент студентка"
    " студенты студентов студентам студентки студенческая"
    " want wanted looking look seek seeking job jobs work working position positions vacancy"
    " vacancies opportunity opportunities role roles anything something student students"
    " hire hiring please"
)
FILLER = tuple(_FILLER_WORDS.split())
"""Words of a request that ask for a job without saying which (Russian forms listed, as the
stemmer keeps «работа» and «работать» apart): matched by their Snowball stems, so each listed
form stands for the forms sharing its stem («работа», «работу», «работы»). «студент» still
asks for postings without experience (:func:`experience_wish` reads the raw text)."""

_EXPERIENCE = re.compile(
    r"(?:можно\s+)?без\s+опыта(?:\s+работы)?|no\s+(?:prior\s+)?experience(?:\s+(?:needed|required))?"
    r"|(?:with\s+)?\d+\+?\s+years?(?:\s+of)?\s+experience|опыт\w*(?:\s+от\s+\d+\s+\w+)?"
    r"|experience[d]?",
    re.IGNORECASE,
)
_NO_EXPERIENCE = re.compile(
    r"без\s+опыта|no\s+(?:prior\s+)?experience|студент|student|начинающ|beginner|стаж[её]р"
    r"|intern\b|junior|джун",
    re.IGNORECASE,
)
_SENIOR = re.compile(r"senior|ведущ|lead\b|старш|опыт\w*\s+от\s+[3-9]|[3-9]\+?\s+years", re.I)


_GENERIC_WORDS = (
    "художник художника художником художники дизайнер дизайнера дизайнером преподаватель"
    " преподавателя преподавателем педагог педагога педагогом учитель учителя учителем"
    " специалист специалиста сотрудник помощник младший ведущий стажер"
    " artist artists designer designers teacher teachers specialist assistant junior"
    " middle senior lead"
)
"""Role words that name no craft (forms listed: the stemmer keeps «учитель» and «учителем»
apart); «мастер» is not one here: in this catalog it names crafts («мастер татуировки»)."""


def join_tools(text: str) -> str:
    """``text`` with every tool name of :data:`TOOLS` written as one word."""
    for pattern, word in _TOOLS:
        text = pattern.sub(word, text)
    return text


def strip_addresses(text: str) -> str:
    """``text`` without the parts that read as an address (see the module docstring)."""
    text = _ADDRESS_LINE.sub(" ", text or "")
    text = _NUMBERED_PART.sub(" ", text)
    return _MARKED.sub(" ", text)


@lru_cache(maxsize=1 << 16)
def _terms_of(stem: str) -> tuple[str, ...]:
    if len(stem) > ROOT_CHARS and _CYRILLIC.match(stem):
        return (stem, stem[:ROOT_CHARS] + ROOT_MARK)
    return (stem,)


def with_roots(stems: list[str]) -> list[str]:
    """``stems`` and, after each long Russian one, its root term."""
    return [term for stem in stems for term in _terms_of(stem)]


def document_terms(text: str) -> list[str]:
    """The terms the index counts of a posting's title or description."""
    return with_roots(normalise(join_tools(strip_addresses(text))))


_GENERIC_TERMS = frozenset(
    with_roots([stem for word in _GENERIC_WORDS.split() for stem in normalise(word)])
)


def is_generic(term: str) -> bool:
    """Whether an index term is a role word that names no craft (see the module docstring)."""
    return term in _GENERIC_TERMS


def experience_wish(text: str) -> str | None:
    """hh.ru's experience level a request asks for: ``noExperience`` («без опыта», "no
    experience", «студент», junior), ``moreThan6`` (senior, «ведущий»), else None."""
    if _NO_EXPERIENCE.search(text or ""):
        return "noExperience"
    if _SENIOR.search(text or ""):
        return "moreThan6"
    return None


def _glossary() -> dict[str, list[str]]:
    """:data:`GLOSSARY` keyed by the Snowball stem of each English word."""
    out: dict[str, list[str]] = {}
    for word, russian in GLOSSARY.items():
        for stem in normalise(word):
            out.setdefault(stem, []).extend(normalise(russian))
    return out


_STEMMED_GLOSSARY = _glossary()
_FILLER_STEMS = frozenset(stem for word in FILLER for stem in normalise(word))


def query_terms(text: str) -> list[str]:
    """The terms of a seeker's request: experience phrases and filler out, glossary words in."""
    plain = join_tools(_EXPERIENCE.sub(" ", text or ""))
    stems = [stem for stem in normalise(plain) if stem not in _FILLER_STEMS]
    extra: list[str] = []
    for stem in stems:
        if not _CYRILLIC.search(stem):
            extra.extend(_STEMMED_GLOSSARY.get(stem, ()))
    return with_roots(stems + extra)


__all__ = [
    "FILLER",
    "document_terms",
    "experience_wish",
    "is_generic",
    "query_terms",
    "strip_addresses",
    "tokenize",
]
