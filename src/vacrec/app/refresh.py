"""Refresh: collect fresh postings from hh.ru, ingest them, retire what is closed or gone.

One run, under the database's refresh lock (one refresh at a time, whichever process
starts it; the ingest inside also takes the ingest lock):

1. every query is collected into a new file of this run (never a resumed one: a file
   from an earlier run still holds postings hh.ru no longer lists, and ingesting them
   again would count them as seen);
2. the files are ingested together — everything read counts as seen now, and a posting
   hh.ru reports ``archived: true`` is retired at once;
3. when every query's search succeeded, every served posting no collection or ingest has
   read for ``VACREC_RETIRE_AFTER_DAYS`` is retired. A failed search (hh.ru down, 403)
   retires nothing: an unreachable hh.ru must not empty the catalog;
4. the run is logged in ``catalog_refreshes`` (its queries, which the next run reuses
   when none are given, and what it added and retired), and the new catalog version's
   serving snapshot is built — under its build lock, taken (as `vacrec ingest` takes it)
   before the version committed, so servers wait to map it rather than build it too.

Retired postings stay in the store, so events and feedback that name them stay valid;
they leave the serving snapshot with the catalog version the retirement creates.
"""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from vacrec.app.ingest import INGEST_LOCK_WAIT_S, ingest_paths, save_serving_snapshot
from vacrec.app.snapshots import reserve_build
from vacrec.collect import CollectParams, HHClient, RetryPolicy, SearchFailed, collect
from vacrec.collect.client import token_refused_message
from vacrec.config import Settings
from vacrec.store import vacancies as sql
from vacrec.store.db import read_transaction, utcnow
from vacrec.store.locks import ingest_lock, refresh_lock
from vacrec.store.refreshes import last_refresh, record_refresh

log = logging.getLogger(__name__)

REFRESH_SOURCE = "refresh"
"""Prefix of the ``catalog_versions.source`` a refresh writes."""


class RefreshError(Exception):
    """A refresh cannot run as asked (no queries known); the message says what to do."""


class TokenRefused(RefreshError):
    """hh.ru answered 403: a token is needed, or the one given was refused (one-line message)."""


@dataclass(frozen=True)
class RefreshQuery:
    """One search a refresh repeats."""

    query: str
    area: str | None = None
    max_pages: int | None = None

    def __post_init__(self) -> None:
        if not self.query.strip():
            raise ValueError("query: must not be empty")
        if self.max_pages is not None and self.max_pages < 1:
            raise ValueError("max_pages: must be at least 1")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RefreshQuery:
        return cls(str(data["query"]), data.get("area"), data.get("max_pages"))


@dataclass
class RefreshReport:
    """What one run did (the JSON of `vacrec refresh`)."""

    queries: list[dict[str, Any]]
    collected: int = 0
    inserted: int = 0
    updated: int = 0
    retired: int = 0
    retired_archived: int = 0
    retired_unseen: int = 0
    revived: int = 0
    vacancies: int = 0
    catalog_version: int | None = None
    collect_failures: dict[str, int] = field(default_factory=dict)
    search_errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    snapshot_seconds: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return asdict(self)


def resolve_queries(engine: Engine, given: list[RefreshQuery]) -> list[RefreshQuery]:
    """The queries to refresh: ``given`` when any, else those of the last refresh recorded.

    Raises :class:`RefreshError` when neither exists: there is no sensible default search
    for someone else's catalog, and a guessed one would fill it with unrelated postings.
    """
    if given:
        return given
    with read_transaction(engine) as conn:
        last = last_refresh(conn)
    if last and last["queries"]:
        return [RefreshQuery.from_dict(q) for q in last["queries"]]
    raise RefreshError(
        "no queries to refresh: pass --query TEXT (repeatable) once; later refreshes "
        "reuse the queries of the last one"
    )


def refresh_once(
    engine: Engine,
    settings: Settings,
    queries: list[RefreshQuery],
    *,
    now: datetime | None = None,
    lock_wait_s: float = 0.0,
) -> RefreshReport:
    """One refresh (see the module docstring). ``now`` is the retirement clock (tests move
    it); raises :class:`TokenRefused` on a 403 and :class:`~vacrec.store.locks.LockTimeout`
    when another refresh holds the lock longer than ``lock_wait_s``."""
    if not queries:
        raise RefreshError("no queries to refresh")
    started = time.perf_counter()
    started_at = utcnow()
    report = RefreshReport(queries=[asdict(q) for q in queries])
    with ExitStack() as reserved:  # the new version's build lock, held until it is built
        _refresh(engine, settings, queries, report, started_at, now, lock_wait_s, reserved)
        if report.catalog_version is not None:
            try:
                report.snapshot_seconds = save_serving_snapshot(engine)
            except (OSError, MemoryError, RuntimeError) as exc:  # servers build it themselves
                log.warning("refreshed, but the serving snapshot was not saved: %s", exc)
    report.seconds = round(time.perf_counter() - started, 2)
    return report


def _refresh(
    engine: Engine,
    settings: Settings,
    queries: list[RefreshQuery],
    report: RefreshReport,
    started_at: datetime,
    now: datetime | None,
    lock_wait_s: float,
    reserved: ExitStack,
) -> None:
    """Steps 1-4 but the snapshot, under the refresh lock, filling ``report``."""
    with refresh_lock(engine, lock_wait_s):
        run_dir = settings.home / "refresh" / started_at.strftime("%Y%m%dT%H%M%S%fZ")
        try:
            files = _collect_all(settings, queries, run_dir, report)
            if files:
                ingest = ingest_paths(
                    engine, files, source=_source(queries), reserve_snapshot=reserved
                )
                report.inserted, report.updated = ingest.inserted, ingest.updated
                report.retired_archived, report.revived = ingest.retired, ingest.revived
                report.catalog_version = ingest.catalog_version
            if not report.search_errors:
                cutoff = (now or utcnow()) - timedelta(days=settings.retire_after_days)
                retired, version = retire_unseen(engine, cutoff, now or utcnow(), reserved)
                report.retired_unseen = retired
                report.catalog_version = version or report.catalog_version
        except TokenRefused as exc:
            _log_run(engine, report, started_at, str(exc))
            raise
        finally:
            shutil.rmtree(run_dir, ignore_errors=True)  # ingested, or to be fetched anew
        report.retired = report.retired_archived + report.retired_unseen
        with read_transaction(engine) as conn:
            report.vacancies = sql.catalog_counts(conn)[0]
        _log_run(engine, report, started_at, "; ".join(report.search_errors) or None)


def retire_unseen(
    engine: Engine,
    seen_before: datetime,
    now: datetime,
    reserve_snapshot: ExitStack | None = None,
) -> tuple[int, int | None]:
    """Retire the served postings last seen before ``seen_before``, in one transaction under
    the ingest lock; (how many, the catalog version that serves without them or None).
    With ``reserve_snapshot``, that version's build lock is taken into it before it commits
    (:func:`~vacrec.app.snapshots.reserve_build`, as an ingest does)."""
    with ingest_lock(engine, INGEST_LOCK_WAIT_S), engine.begin() as conn:
        retired = sql.retire_unseen(conn, seen_before, now)
        if not retired:
            return 0, None
        version = sql.new_catalog_version(conn, f"{REFRESH_SOURCE}: retired {retired} unseen")
        served, _ = sql.catalog_counts(conn)
        sql.record_version_counts(conn, version, inserted=0, updated=0, vacancies_now=served)
        if reserve_snapshot is not None:
            reserve_build(conn, version, reserve_snapshot)
    log.info("retired %s postings unseen since %s", retired, seen_before.isoformat())
    return retired, version


def _collect_all(
    settings: Settings, queries: list[RefreshQuery], run_dir: Path, report: RefreshReport
) -> list[Path]:
    """Collect each query into its own file of ``run_dir``; the files that hold postings."""
    token = settings.hh_token.get_secret_value() if settings.hh_token else None
    files: list[Path] = []
    failures: dict[str, int] = {}
    for number, query in enumerate(queries):
        path = run_dir / f"{number:03d}-{_slug(query.query)}.jsonl"
        params = CollectParams(query=query.query, area=query.area, max_pages=query.max_pages)
        client = HHClient(
            settings.hh_api_url,
            settings.hh_user_agent,
            token=token,
            rate_per_s=settings.hh_rate_per_s,
            timeout_s=settings.hh_timeout_s,
            retry=RetryPolicy(max_attempts=settings.hh_max_attempts),
        )
        try:
            summary = asyncio.run(_collect(client, params, path))
        except SearchFailed as exc:
            refused = token_refused_message(exc.error, has_token=token is not None)
            if refused:
                raise TokenRefused(refused) from None
            report.search_errors.append(f"{query.query!r}: {exc}")
            log.warning("refresh: %s", exc)
            continue
        report.collected += summary.written
        for cause, count in summary.failures.items():
            failures[cause] = failures.get(cause, 0) + count
        if path.exists() and path.stat().st_size:
            files.append(path)
    report.collect_failures = failures
    return files


async def _collect(client: HHClient, params: CollectParams, path: Path) -> Any:
    async with client:
        return await collect(client, params, path)


def _log_run(
    engine: Engine, report: RefreshReport, started_at: datetime, error: str | None
) -> None:
    with engine.begin() as conn:
        record_refresh(
            conn,
            started_at=started_at,
            finished_at=utcnow(),
            queries=report.queries,
            collected=report.collected,
            inserted=report.inserted,
            updated=report.updated,
            retired=report.retired_archived + report.retired_unseen,
            catalog_version=report.catalog_version,
            error=error,
        )


def _source(queries: list[RefreshQuery]) -> str:
    return f"{REFRESH_SOURCE}: " + ", ".join(repr(q.query) for q in queries)


def _slug(query: str) -> str:
    return re.sub(r"[^\w]+", "-", query.strip().lower()).strip("-")[:60] or "query"
