"""SQLAlchemy Core tables: the single source of truth for the schema.

Migrations in ``migrations/versions`` create exactly these tables; a test
compares the migrated database with this metadata so the two cannot drift.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    true,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

catalog_versions = Table(
    "catalog_versions",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("source", Text, nullable=False),
    Column("inserted", Integer, nullable=False),
    Column("updated", Integer, nullable=False),
    Column("vacancies", Integer, nullable=False),
    # False while an ingest writes the version's new vacancies in short transactions: no
    # reader sees them (store/visibility.py) until one small transaction sets it.
    Column("published", Boolean, nullable=False, server_default=true()),
)

vacancies = Table(
    "vacancies",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("company", Text),
    Column("salary", Integer),
    Column("url", Text),
    Column("logo", Text),
    Column("area", Text),
    Column("schedule", String(32)),  # hh.ru's id: remote, fullDay, shift, flexible, flyInFlyOut
    Column("experience", String(32)),  # noExperience, between1And3, between3And6, moreThan6
    Column("published_at", DateTime(timezone=True)),
    Column("industries", JSON, nullable=False),
    Column("industry_inferred", Boolean, nullable=False),
    Column("industry_confidence", Float),
    Column("content_hash", String(64), nullable=False),
    Column("catalog_version", Integer, ForeignKey("catalog_versions.version"), nullable=False),
    # When a collection or ingest last read the posting (not when hh.ru published it): a
    # posting unseen for VACREC_RETIRE_AFTER_DAYS is retired by `vacrec refresh`.
    Column("last_seen_at", DateTime(timezone=True)),
    # Set: no longer served (kept so that events and feedback naming it stay valid).
    Column("retired_at", DateTime(timezone=True)),
    Column("retired_reason", String(16)),  # "archived" (hh.ru said so) or "unseen"
    Index("ix_vacancies_last_seen_at", "last_seen_at"),
)

vacancy_industries = Table(
    "vacancy_industries",
    metadata,
    Column(
        "vacancy_id", String(64), ForeignKey("vacancies.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("industry", Text, primary_key=True),
    Index("ix_vacancy_industries_industry", "industry"),
)

events = Table(
    "events",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("session_id", String(128)),
    Column("age", Integer, nullable=False),
    Column("skill", Text, nullable=False),
    Column("preference", Text, nullable=False),
    Column("action", Integer, nullable=False),
    Column("industry", Text, nullable=False),
    Column("propensity", Float, nullable=False),
    Column("explore", Boolean, nullable=False),
    Column("model_version", Integer),
    Column("catalog_version", Integer, nullable=False),
    Column("shown", JSON, nullable=False),
    Column("source", String(32), nullable=False),
    # A keyed hash of the client's address (service/clients.py); NULL: served in-process.
    Column("client", String(32)),
    # Each shown card's probability of the position it was shown at (NULL: not randomised).
    Column("card_propensities", JSON),
    # The place and work format given in the request's fields (NULL: none given; one said in
    # the words is in the preference): training encodes the context serving saw.
    Column("area", Text),
    Column("work_format", String(16)),
    Index("ix_events_created_at", "created_at"),
    Index("ix_events_session_id_created_at", "session_id", "created_at"),
)

feedback = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(64), ForeignKey("events.id"), unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("age", Integer, nullable=False),
    Column("skill", Text, nullable=False),
    Column("action", Integer, nullable=False),
    # The industry by name: an index into the sorted group list means another group once
    # an ingest inserts one before it. Legacy rows (no event) rely on it.
    Column("industry", Text),
    Column("cum_reward", Integer, nullable=False),
    Column("reward", Float, nullable=False),
    Column("votes", JSON),
    Column("legacy", Boolean, nullable=False),
    Column("client", String(32)),  # who sent the reward (a legacy row's only identity)
    Index("ix_feedback_created_at", "created_at"),
)

models = Table(
    "models",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("weights", LargeBinary, nullable=False),
    Column("checksum", String(64), nullable=False),
    Column("meta", JSON, nullable=False),
)

model_promotions = Table(
    "model_promotions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # NULL: the content prior serves from this row on (`vacrec model promote prior`).
    Column("version", Integer, ForeignKey("models.version"), nullable=True),
    Column("promoted_at", DateTime(timezone=True), nullable=False),
    Column("reason", Text, nullable=False),
    # "promote" or "rollback": lets rollback replay the history as a stack.
    Column("kind", String(16), nullable=False, server_default="promote"),
)

heartbeats = Table(
    "heartbeats",
    metadata,
    # One row per serving worker ("host:pid"): /readyz commits it to prove writes commit.
    Column("worker", String(128), primary_key=True),
    Column("beat_at", DateTime(timezone=True), nullable=False),
)

catalog_refreshes = Table(
    "catalog_refreshes",
    metadata,
    # One row per `vacrec refresh` run: what it asked hh.ru for and what it changed, so the
    # next run can reuse its queries and the dashboard can say how old the catalog is.
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=False),
    Column("queries", JSON, nullable=False),  # [{"query", "area", "max_pages"}]
    Column("collected", Integer, nullable=False),
    Column("inserted", Integer, nullable=False),
    Column("updated", Integer, nullable=False),
    Column("retired", Integer, nullable=False),
    Column("catalog_version", Integer),
    Column("error", Text),  # why collecting failed (then nothing was retired as unseen)
)


vacancy_votes = Table(
    "vacancy_votes",
    metadata,
    # Per-card votes summed per (vacancy, seeker group), rebuilt off the request path by
    # app/vacancy_votes.py; every replica reads the same rows. ``group_key``: skill and age
    # band (ranking/vote_prior.py). ``computed_at``: when the job wrote them (the poll key).
    Column("vacancy_id", String(64), primary_key=True),
    Column("group_key", String(160), primary_key=True),
    Column("up", Integer, nullable=False),
    Column("down", Integer, nullable=False),
    Column("computed_at", DateTime(timezone=True), nullable=False),
)
