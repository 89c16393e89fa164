"""Fixtures of the application-layer tests."""

from __future__ import annotations

import pytest

from tests.ranking.ranking_fixtures import small_catalog
from vacrec.catalog.schema import CatalogRecord


@pytest.fixture
def catalog() -> list[CatalogRecord]:
    """The hand-made catalog of ``tests.ranking.ranking_fixtures``."""
    return small_catalog()
