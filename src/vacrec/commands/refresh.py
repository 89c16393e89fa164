"""`vacrec refresh`: collect from hh.ru, ingest, retire closed and unseen postings — once, or
on a schedule with ``--every``."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from vacrec.commands._hh_options import Area, MaxPages
from vacrec.commands._output import emit, fail, open_store, stderr
from vacrec.config import Settings, get_settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from vacrec.app.refresh import RefreshQuery, RefreshReport

log = logging.getLogger(__name__)

MIN_REFRESH_EVERY_S = 600.0
"""hh.ru lists new postings within minutes at best; refreshing more often only costs its API."""


def register(app: typer.Typer) -> None:
    """Add the refresh command to ``app``."""
    app.command("refresh")(refresh_command)


def refresh_command(
    query: Annotated[
        list[str] | None,
        typer.Option(
            "--query",
            help="Search text, as on hh.ru (repeatable). Default: the queries of the last refresh.",
        ),
    ] = None,
    area: Area = None,
    max_pages: MaxPages = None,
    every: Annotated[
        str | None,
        typer.Option("--every", help="Repeat this often (e.g. 6h) until stopped; at least 10m."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print each run's summary as JSON.")
    ] = False,
) -> None:
    """Collect from hh.ru and ingest; retire postings hh.ru archived or no collection saw for
    VACREC_RETIRE_AFTER_DAYS days (kept for the logs, no longer served)."""
    from vacrec.app.refresh import RefreshError, RefreshQuery, resolve_queries
    from vacrec.commands.serve import parse_period

    settings = get_settings()
    every_s = (
        None
        if every is None
        else parse_period(every, MIN_REFRESH_EVERY_S, "at least 10m", "--every")
    )
    try:
        given = [RefreshQuery(q, area, max_pages) for q in query or ()]
    except ValueError as error:
        fail(f"--query: {error}", as_json, code=2)
    with open_store(settings) as engine:
        try:
            queries = resolve_queries(engine, given)
        except RefreshError as error:
            fail(str(error), as_json, code=2)
        report = _print_report(as_json)
        _run_or_fail(engine, settings, queries, report, as_json)  # a bad token fails at once
        if every_s is None:
            return
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
        stderr.print(f"refreshing every {every} (Ctrl-C stops)")
        stop = threading.Event()
        try:
            refresh_forever(engine, settings, queries, every_s, stop, report)
        except KeyboardInterrupt:
            stop.set()


def refresh_forever(
    engine: Engine,
    settings: Settings,
    queries: list[RefreshQuery],
    every_s: float,
    stop: threading.Event,
    on_report: Callable[[RefreshReport], None] | None = None,
    *,
    first_now: bool = False,
) -> None:
    """Refresh every ``every_s`` seconds until ``stop`` is set (``vacrec refresh --every`` and
    ``vacrec serve --refresh-every``). A failed run is logged and the schedule goes on — except
    a refused token, which no retry fixes: it is logged once and the schedule ends. A run
    another process is doing (the refresh lock is taken) is skipped."""
    from vacrec.app.refresh import TokenRefused, refresh_once
    from vacrec.store.locks import LockTimeout

    if not first_now and stop.wait(every_s):
        return
    while True:
        try:
            result = refresh_once(engine, settings, queries)
        except TokenRefused as error:
            log.error("refresh stopped: %s", error)
            return
        except LockTimeout:
            log.info("refresh skipped: another process is refreshing this catalog")
        except Exception:  # a failed refresh must never end the schedule or the server
            log.exception("refresh failed; the catalog serves on as it was")
        else:
            log.info(
                "refreshed: collected %s, inserted %s, updated %s, retired %s",
                result.collected, result.inserted, result.updated, result.retired,
            )  # fmt: skip
            if on_report is not None:
                on_report(result)
        if stop.wait(every_s):
            return


def _run_or_fail(
    engine: Engine,
    settings: Settings,
    queries: list[RefreshQuery],
    report: Callable[[RefreshReport], None],
    as_json: bool,
) -> None:
    from vacrec.app.refresh import TokenRefused, refresh_once
    from vacrec.store.locks import LockTimeout

    try:
        result = refresh_once(engine, settings, queries)
    except (TokenRefused, LockTimeout) as error:
        fail(str(error), as_json)
    report(result)


def _print_report(as_json: bool) -> Callable[[RefreshReport], None]:
    return lambda result: emit(result.as_dict(), as_json, lambda _: _say_refreshed(result))


def _say_refreshed(result: RefreshReport) -> None:
    for error in result.search_errors:
        stderr.print(f"search failed, nothing retired as unseen: {error}")
    print(
        f"collected {result.collected}; inserted {result.inserted}, updated "
        f"{result.updated}; retired {result.retired} (archived {result.retired_archived}, "
        f"unseen {result.retired_unseen}); {result.vacancies} vacancies served "
        f"(catalog version {result.catalog_version})"
    )
