"""A small hand-made catalog, and a helper writing catalog rows into a real store.

Imported by the ranking tests.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, insert

from vacrec.catalog.schema import CatalogRecord
from vacrec.store.tables import catalog_versions, vacancies, vacancy_industries

ART = "Искусство, развлечения, массмедиа"
IT = "Информационные технологии, интернет, телеком"
T0 = datetime(2023, 3, 1, 12, 0, tzinfo=UTC)


def record(
    id: str, description: str, industries: Sequence[str], days: float | None, name: str = ""
) -> CatalogRecord:
    """A vacancy published ``days`` after T0 (None: no publication time)."""
    return CatalogRecord(
        id=id,
        name=name or f"Вакансия {id}",
        description=description,
        industries=tuple(industries),
        company=f"Компания {id}",
        salary=50_000,
        url=f"https://hh.ru/vacancy/{id}",
        logo=None,
        published_at=None if days is None else T0 + timedelta(days=days),
    )


def small_catalog() -> list[CatalogRecord]:
    """Art and IT postings; «a2» belongs to both groups."""
    return [
        record("a1", "Художник-иллюстратор: рисуем акварель и гуашь для детских книг.", [ART], 1),
        record("a2", "Концепт-художник для игр, 3D моделирование в Blender.", [ART, IT], 5),
        record("a3", "Преподаватель живописи маслом в студии для взрослых.", [ART], 3),
        record("a4", "Оформитель витрин, работа с декором и светом.", [ART], 3),
        record("i1", "Python-разработчик бэкенда, PostgreSQL и FastAPI.", [IT], 2),
        record("i2", "Дизайнер интерфейсов в Figma для мобильных приложений.", [IT], 4),
        record("i3", "Тестировщик мобильных приложений, автоматизация на Python.", [IT], None),
    ]


def write_catalog(engine: Engine, records: Sequence[CatalogRecord], source: str = "test") -> int:
    """Insert ``records`` as one new catalog version, as an ingest would; returns the version."""
    with engine.begin() as conn:
        version = conn.execute(
            insert(catalog_versions)
            .values(
                created_at=datetime.now(UTC),
                source=source,
                inserted=len(records),
                updated=0,
                vacancies=len(records),
            )
            .returning(catalog_versions.c.version)
        ).scalar_one()
        for r in records:
            conn.execute(
                insert(vacancies).values(
                    id=r.id,
                    name=r.name,
                    description=r.description,
                    company=r.company,
                    salary=r.salary,
                    url=r.url,
                    logo=r.logo,
                    area=None,
                    published_at=r.published_at,
                    industries=list(r.industries),
                    industry_inferred=False,
                    industry_confidence=None,
                    content_hash=hashlib.sha256(r.description.encode()).hexdigest(),
                    catalog_version=version,
                )
            )
            for industry in r.industries:
                conn.execute(insert(vacancy_industries).values(vacancy_id=r.id, industry=industry))
    return int(version)
