"""What must hold of a store after any crash: acknowledged writes and consistent rows.

Used by the load and kill -9 proofs; each check reads the database directly.
"""

from __future__ import annotations

from sqlalchemy import Engine, func, select, text

from vacrec.store.tables import (
    catalog_versions,
    events,
    feedback,
    model_promotions,
    models,
    vacancies,
    vacancy_industries,
)


def stored_feedback(engine: Engine) -> set[str]:
    """Event ids that have their feedback row."""
    with engine.connect() as conn:
        return {row.event_id for row in conn.execute(select(feedback.c.event_id))}


def stored_events(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return {row.id for row in conn.execute(select(events.c.id))}


def integrity_problems(engine: Engine) -> list[str]:
    """Everything wrong with the store; an empty list means consistent.

    SQLite: ``PRAGMA integrity_check`` and ``foreign_key_check``. Both backends:
    no feedback without its event, no vacancy without a catalog version or an
    industry, the newest catalog version counts the vacancies there are, and
    no model that its training decided to promote lacks its promotion (a model
    is saved and promoted in one transaction).
    """
    problems: list[str] = []
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            result = [r[0] for r in conn.execute(text("PRAGMA integrity_check"))]
            if result != ["ok"]:
                problems.append(f"integrity_check: {result}")
            broken = list(conn.execute(text("PRAGMA foreign_key_check")))
            if broken:
                problems.append(f"foreign_key_check: {broken[:5]}")
        orphans = conn.execute(
            select(func.count())
            .select_from(feedback.outerjoin(events, feedback.c.event_id == events.c.id))
            .where(feedback.c.event_id.is_not(None), events.c.id.is_(None))
        ).scalar_one()
        if orphans:
            problems.append(f"{orphans} feedback rows without their event")
        unversioned = conn.execute(
            select(func.count())
            .select_from(vacancies)
            .where(~vacancies.c.catalog_version.in_(select(catalog_versions.c.version)))
        ).scalar_one()
        if unversioned:
            problems.append(f"{unversioned} vacancies of no catalog version")
        no_industry = conn.execute(
            select(func.count())
            .select_from(vacancies)
            .where(~vacancies.c.id.in_(select(vacancy_industries.c.vacancy_id)))
        ).scalar_one()
        if no_industry:
            problems.append(f"{no_industry} vacancies without an industry row")
        newest = conn.execute(
            select(catalog_versions.c.version, catalog_versions.c.vacancies)
            .order_by(catalog_versions.c.version.desc())
            .limit(1)
        ).first()
        count = conn.execute(select(func.count()).select_from(vacancies)).scalar_one()
        if newest is None and count:
            problems.append(f"{count} vacancies but no catalog version")
        if newest is not None and newest.vacancies != count:
            problems.append(
                f"catalog version {newest.version} counts {newest.vacancies}, store has {count}"
            )
        promoted = {r.version for r in conn.execute(select(model_promotions.c.version))}
        for row in conn.execute(select(models.c.version, models.c.meta)):
            # One direction only: `vacrec model promote` may later promote any model by hand.
            if row.meta["promotion"]["promoted"] and row.version not in promoted:
                problems.append(f"model {row.version} was to be promoted but never was")
    return problems
