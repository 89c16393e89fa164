"""What the serving benchmarks ask and of how big a catalog: one list of preferences a job
seeker might type, and the shared catalog repeated with new ids to any size."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence

from vacrec.catalog.schema import CatalogRecord

PREFERENCES: tuple[str, ...] = (
    "рисую акварелью и гуашью, иллюстрации для детских книг",
    "3D моделирование персонажей в Blender для игр",
    "дизайн интерфейсов в Figma, мобильные приложения",
    "реклама, маркетинг, оформление соцсетей",
    "графический дизайн, логотипы и фирменный стиль",
    "анимация и моушн-дизайн в After Effects",
    "концепт-арт окружения, цифровая живопись",
    "удалённая работа, гибкий график",
    "роспись стен и интерьеров",
    "художник-оформитель, витрины и декорации для театра",
)


def replicate(records: Sequence[CatalogRecord], n: int) -> Iterator[CatalogRecord]:
    """``n`` records: ``records`` over and over, copy i > 0 with the id suffix ``~i``."""
    for i in range(n):
        copy, r = divmod(i, len(records))
        record = records[r]
        yield record if copy == 0 else dataclasses.replace(record, id=f"{record.id}~{copy}")
