"""Catalog snapshots for the simulator's tests: the bundled demo catalog and tiny hand-made ones."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from importlib import resources

from vacrec.catalog.readers import read_catalog
from vacrec.catalog.schema import CatalogRecord
from vacrec.ranking.snapshot import CatalogSnapshot


@lru_cache(maxsize=1)
def demo_records() -> tuple[CatalogRecord, ...]:
    """The bundled demo catalog (180 vacancies, 23 industries)."""
    demo = resources.files("vacrec.catalog").joinpath("demo/vacancies.jsonl")
    with resources.as_file(demo) as path:
        vacancies = read_catalog(path).vacancies
    return tuple(
        CatalogRecord(
            id=v.id,
            name=v.name,
            description=v.description,
            industries=tuple(v.industries),
            company=v.company,
            salary=v.salary,
            url=v.url,
            logo=v.logo,
            published_at=v.published_at,
        )
        for v in vacancies
    )


@lru_cache(maxsize=1)
def demo_snapshot() -> CatalogSnapshot:
    """The demo catalog's snapshot, as the service would build it."""
    return CatalogSnapshot.from_records(1, demo_records())


def small_snapshot(
    rows: Sequence[tuple[str, str, str, tuple[str, ...]]],
    actions: tuple[str, ...] | None = None,
) -> CatalogSnapshot:
    """A snapshot of (id, name, description, industries) rows."""
    records = [CatalogRecord(id=i, name=n, description=d, industries=g) for i, n, d, g in rows]
    return CatalogSnapshot.from_records(1, records, actions=actions)
