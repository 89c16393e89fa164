"""Ingest: read catalog files, infer missing industries, upsert into the store.

Every file is read and validated before the first write, so a file that is
not a catalog changes nothing. All writes of one call happen in a single
transaction that also creates the new catalog version; a call that changes
nothing creates no version, which makes re-ingesting idempotent.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Connection, Engine, delete, func, insert, select, text, update

from vacrec.catalog.industry import IndustryClassifier, held_out_accuracy
from vacrec.catalog.readers import Rejection, read_catalog
from vacrec.catalog.schema import Vacancy
from vacrec.store.db import utcnow
from vacrec.store.tables import catalog_versions, vacancies, vacancy_industries

_CHUNK = 500
DEMO_SOURCE = "demo catalog"
"""The source recorded for the bundled demo catalog, which a first real ingest replaces."""
_PG_INGEST_LOCK = 7_305_001  # advisory lock id: one ingest at a time across replicas

Progress = Callable[[str], None]
T = TypeVar("T")


@dataclass
class IngestReport:
    """What one ingest call read and changed (the JSON of ``vacrec ingest``)."""

    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    skipped_duplicates: int = 0
    rejected: int = 0
    industries: int = 0
    vacancies: int = 0
    inferred: int = 0
    inference_accuracy: float | None = None
    catalog_version: int | None = None
    replaced_demo: bool = False  # the store held only the demo catalog, now gone
    rejections: list[dict[str, object]] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready dictionary."""
        return asdict(self)


def ingest_paths(
    engine: Engine,
    paths: Sequence[Path],
    *,
    replace: bool = False,
    source: str | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    """Load ``paths`` into the store; ``replace`` also deletes vacancies not in them.

    A store that holds only the bundled demo catalog is replaced by the first real
    ingest: its example postings (dead example.org links) must not mix with real ones.
    """
    note = progress or (lambda _message: None)
    report = IngestReport()
    read: list[Vacancy] = []
    for path in paths:
        note(f"reading {path.name}")
        result = read_catalog(Path(path))
        read.extend(result.vacancies)
        report.read += result.read
        report.rejected += len(result.rejections)
        report.rejections.extend(_rejection_dict(r) for r in result.rejections)

    unique, report.skipped_duplicates = drop_duplicates(read)
    with engine.begin() as conn:
        _lock_ingest(conn)
        existing = _existing_hashes(conn, [v.id for v in unique])
        new = [v for v in unique if v.id not in existing]
        changed = [v for v in unique if v.id in existing and existing[v.id] != content_hash(v)]
        report.unchanged = len(unique) - len(new) - len(changed)
        if any(not v.industries for v in new + changed):
            note("inferring missing industries")
            new, changed, report.inferred, report.inference_accuracy = _infer_industries(
                conn, new, changed
            )
        report.replaced_demo = source != DEMO_SOURCE and _holds_only_the_demo(conn)
        replace = replace or report.replaced_demo
        stale = _stale_ids(conn, {v.id for v in unique}) if replace else []
        note("writing")
        _write(conn, new, changed, stale, source or ", ".join(p.name for p in paths), report)
        report.vacancies = conn.execute(select(func.count()).select_from(vacancies)).scalar_one()
        report.industries = conn.execute(
            select(func.count(vacancy_industries.c.industry.distinct()))
        ).scalar_one()
    return report


def drop_duplicates(items: Sequence[Vacancy]) -> tuple[list[Vacancy], int]:
    """Keep the first vacancy of each description and of each id; count the rest."""
    seen_ids: set[str] = set()
    seen_descriptions: set[str] = set()
    kept: list[Vacancy] = []
    for vacancy in items:
        if vacancy.id in seen_ids or vacancy.description in seen_descriptions:
            continue
        seen_ids.add(vacancy.id)
        seen_descriptions.add(vacancy.description)
        kept.append(vacancy)
    return kept, len(items) - len(kept)


def content_hash(vacancy: Vacancy) -> str:
    """A digest of the source fields: equal digests mean nothing to update.

    Inferred industries are left out, so re-ingesting an unchanged row keeps
    its earlier inference instead of counting as an update.
    """
    fields = vacancy.model_dump(mode="json", exclude={"industry_inferred", "industry_confidence"})
    if vacancy.industry_inferred:
        fields["industries"] = []
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def _rejection_dict(rejection: Rejection) -> dict[str, object]:
    return {"source": rejection.source, "row": rejection.row, "reason": rejection.reason}


def _holds_only_the_demo(conn: Connection) -> bool:
    """True when every catalog version so far came from the bundled demo catalog."""
    sources = set(conn.execute(select(catalog_versions.c.source).distinct()).scalars())
    return sources == {DEMO_SOURCE}


def _lock_ingest(conn: Connection) -> None:
    """Serialise ingests on PostgreSQL (SQLite's BEGIN IMMEDIATE already does)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_INGEST_LOCK})


def _infer_industries(
    conn: Connection, new: list[Vacancy], changed: list[Vacancy]
) -> tuple[list[Vacancy], list[Vacancy], int, float | None]:
    """Give every vacancy without a group the classifier's best guess, flagged as inferred.

    The classifier learns from the labelled vacancies of this batch and of the
    store (source labels only, never earlier guesses).
    """
    items = new + changed
    unlabelled = [i for i, v in enumerate(items) if not v.industries]
    texts, labels = _labelled_examples(conn, items)
    if len({g for groups in labels for g in groups}) < 2:
        return new, changed, 0, None
    accuracy = held_out_accuracy(texts, labels)
    classifier = IndustryClassifier().fit(texts, labels)
    guesses = classifier.predict([_document(items[i]) for i in unlabelled])
    result = list(items)
    for i, guess in zip(unlabelled, guesses, strict=True):
        result[i] = items[i].model_copy(
            update={
                "industries": (guess.industry,),
                "industry_inferred": True,
                "industry_confidence": round(guess.confidence, 4),
            }
        )
    accuracy = None if accuracy is None else round(accuracy, 4)
    return result[: len(new)], result[len(new) :], len(unlabelled), accuracy


def _document(vacancy: Vacancy) -> str:
    return f"{vacancy.name}. {vacancy.description}"


def _labelled_examples(
    conn: Connection, items: list[Vacancy]
) -> tuple[list[str], list[tuple[str, ...]]]:
    batch_ids = {v.id for v in items}
    texts = [_document(v) for v in items if v.industries]
    labels = [v.industries for v in items if v.industries]
    stored = conn.execute(
        select(
            vacancies.c.id, vacancies.c.name, vacancies.c.description, vacancies.c.industries
        ).where(vacancies.c.industry_inferred.is_(False))
    )
    for row in stored:
        if row.id not in batch_ids and row.industries:
            texts.append(f"{row.name}. {row.description}")
            labels.append(tuple(row.industries))
    return texts, labels


def _stale_ids(conn: Connection, keep: set[str]) -> list[str]:
    return [i for (i,) in conn.execute(select(vacancies.c.id)) if i not in keep]


def _write(
    conn: Connection,
    new: list[Vacancy],
    changed: list[Vacancy],
    stale: list[str],
    source: str,
    report: IngestReport,
) -> None:
    """Apply the change and record it as one new catalog version (none if nothing changed)."""
    if not (new or changed or stale):
        return

    version = conn.execute(
        insert(catalog_versions)
        .values(created_at=utcnow(), source=source[:1000], inserted=0, updated=0, vacancies=0)
        .returning(catalog_versions.c.version)
    ).scalar_one()
    for chunk in _chunks(stale):
        conn.execute(delete(vacancy_industries).where(vacancy_industries.c.vacancy_id.in_(chunk)))
        conn.execute(delete(vacancies).where(vacancies.c.id.in_(chunk)))
    for chunk in _chunks(changed):
        ids = [v.id for v in chunk]
        conn.execute(delete(vacancy_industries).where(vacancy_industries.c.vacancy_id.in_(ids)))
        conn.execute(delete(vacancies).where(vacancies.c.id.in_(ids)))
    for chunk in _chunks(new + changed):
        conn.execute(insert(vacancies), [_row(v, version) for v in chunk])
        links = [{"vacancy_id": v.id, "industry": g} for v in chunk for g in v.industries]
        if links:
            conn.execute(insert(vacancy_industries), links)

    total = conn.execute(select(func.count()).select_from(vacancies)).scalar_one()
    conn.execute(
        update(catalog_versions)
        .where(catalog_versions.c.version == version)
        .values(inserted=len(new), updated=len(changed), vacancies=total)
    )
    report.inserted, report.updated, report.deleted = len(new), len(changed), len(stale)
    report.catalog_version = version


def _existing_hashes(conn: Connection, ids: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for chunk in _chunks(ids):
        rows = conn.execute(
            select(vacancies.c.id, vacancies.c.content_hash).where(vacancies.c.id.in_(chunk))
        )
        found.update({row.id: row.content_hash for row in rows})
    return found


def _row(vacancy: Vacancy, version: int) -> dict[str, object]:
    return {
        **vacancy.model_dump(exclude={"industries"}),
        "industries": list(vacancy.industries),
        "content_hash": content_hash(vacancy),
        "catalog_version": version,
    }


def _chunks(items: Sequence[T]) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]
