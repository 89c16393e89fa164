"""The bundled demo catalog: what a new user sees first."""

from __future__ import annotations

from importlib.resources import as_file, files

from sqlalchemy import Engine

from vacrec.app.ingest import ingest_paths
from vacrec.catalog.readers import read_catalog
from vacrec.store.catalog import catalog_industries

DEMO = files("vacrec.catalog") / "demo" / "vacancies.jsonl"


def test_demo_catalog_is_valid_and_broad() -> None:
    with as_file(DEMO) as path:
        result = read_catalog(path)
    assert result.rejections == []
    assert len(result.vacancies) >= 150
    groups = {g for v in result.vacancies for g in v.industries}
    assert len(groups) >= 15
    assert len({v.id for v in result.vacancies}) == len(result.vacancies)
    assert len({v.description for v in result.vacancies}) == len(result.vacancies)


def test_demo_catalog_loads_into_the_store(engine: Engine) -> None:
    with as_file(DEMO) as path:
        report = ingest_paths(engine, [path])
    assert report.rejected == 0
    assert report.inserted == report.vacancies >= 150
    with engine.connect() as conn:
        assert len(catalog_industries(conn)) == report.industries >= 15
