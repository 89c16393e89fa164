"""`vacrec serve`: run the HTTP service (uvicorn, one or more workers sharing the database).

Before the workers start, the parent process migrates the database once, loads
the bundled demo catalog into an empty store, and optionally retrains in the
background every ``--retrain-every``. With no model yet, the content prior serves.
Workers then watch the catalog and the model registry themselves, so a newly
promoted model goes live without a restart.
"""

from __future__ import annotations

import copy
import logging
import os
import re
import threading
from collections.abc import Callable
from contextlib import nullcontext
from typing import Annotated, Any

import typer
from sqlalchemy import Engine

from vacrec.commands._output import fail
from vacrec.commands.refresh import MIN_REFRESH_EVERY_S
from vacrec.config import MIN_RETRAIN_EVERY_S, Settings, get_settings
from vacrec.polling import Poller
from vacrec.service.metrics import shared_metrics_dir

log = logging.getLogger(__name__)

LOG_FORMAT = "%(levelname)s %(name)s [%(process)d]: %(message)s"

APP_FACTORY = "vacrec.service.app:create_app"
_UNITS_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """Seconds in ``"30s"``, ``"10m"``, ``"1h"``, ``"1d"``, ``"1h30m"``; the unit is required
    (a bare ``5`` read as seconds once filled the registry with a model every 5 s)."""
    cleaned = text.strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", cleaned):
        raise ValueError(f"{text!r} needs a unit: 30s, 10m, 1h or 1d")
    parts = re.findall(r"(\d+(?:\.\d+)?)([smhd])", cleaned)
    if not parts or "".join(n + u for n, u in parts) != cleaned:
        raise ValueError(f"not a duration: {text!r} (try 30s, 10m, 1h)")
    seconds = sum(float(n) * _UNITS_S[u] for n, u in parts)
    if seconds <= 0:
        raise ValueError(f"duration must be positive: {text!r}")
    return seconds


def parse_period(text: str, minimum_s: float, too_short: str, param_hint: str) -> float:
    """``text`` of a ``--…every`` option as seconds, at least ``minimum_s``; else the
    command-line error (``too_short`` when it is too short) naming ``param_hint``."""
    try:
        seconds = parse_duration(text)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint=param_hint) from None
    if seconds < minimum_s:
        raise typer.BadParameter(too_short, param_hint=param_hint)
    return seconds


def retraining_poller(engine: Engine, settings: Settings, every_s: float) -> Poller:
    """Retrain every ``every_s`` seconds in the background; a failed training is logged and
    the service serves on with the current model (the poller survives a failing poll)."""
    from vacrec.app.training import retrain_once  # lazy: torch, only when retraining is on

    return Poller(
        "retrain",
        every_s,
        lambda: retrain_once(engine, settings),
        keeping=lambda: "the current model",
    )


def worker_log_config() -> dict[str, Any]:
    """uvicorn's logging configuration plus vacrec's own loggers at INFO on stderr.

    uvicorn applies this in every worker it spawns; ``logging.basicConfig`` here runs in
    the parent only, so under ``--workers N`` the workers' INFO lines (the model they
    serve, the catalog they loaded) went nowhere. Each line names its process id, so an
    operator can tell the workers apart.
    """
    import uvicorn.config

    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["formatters"]["vacrec"] = {"format": LOG_FORMAT}
    config["handlers"]["vacrec"] = {
        "class": "logging.StreamHandler",
        "formatter": "vacrec",
        "stream": "ext://sys.stderr",
    }
    config["loggers"]["vacrec"] = {"handlers": ["vacrec"], "level": "INFO", "propagate": False}
    return config


def register(app: typer.Typer) -> None:
    """Add the serve command to ``app``."""
    app.command("serve")(serve_command)


def serve_command(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[
        int, typer.Option("--workers", min=1, help="Worker processes (they share the database).")
    ] = 1,
    retrain_every: Annotated[
        str | None,
        typer.Option(
            "--retrain-every",
            help="Retrain in the background this often, e.g. 10m or 1h (off by default).",
        ),
    ] = None,
    refresh_every: Annotated[
        str | None,
        typer.Option(
            "--refresh-every",
            help="Run `vacrec refresh` (the last refresh's queries) in the background this "
            "often, e.g. 6h; at least 10m (off by default).",
        ),
    ] = None,
) -> None:
    """Serve the API, the web page and the dashboard."""
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    settings = get_settings()
    every_s = settings.retrain_every_s  # at least MIN_RETRAIN_EVERY_S (its validator)
    if retrain_every is not None:
        every_s = parse_period(
            retrain_every,
            MIN_RETRAIN_EVERY_S,
            f"at least {MIN_RETRAIN_EVERY_S:g} s (1m)",
            "--retrain-every",
        )

    refresh_s = (
        None
        if refresh_every is None
        else parse_period(refresh_every, MIN_REFRESH_EVERY_S, "at least 10m", "--refresh-every")
    )
    from vacrec.app.ingest import ensure_catalog  # lazy: ingest loads scikit-learn

    engine = _writable_store(settings, ensure_catalog)  # migrated once, before any worker
    stop = threading.Event()
    try:
        if refresh_s is not None:
            _start_refreshing(engine, settings, refresh_s, stop)
        _serve(engine, settings, host, port, workers, every_s)
    finally:
        stop.set()
        engine.dispose()


def _start_refreshing(
    engine: Engine, settings: Settings, every_s: float, stop: threading.Event
) -> None:
    """Refresh in a daemon thread of this (parent) process: workers only serve, and notice
    the new catalog version as after any ingest. The first run starts at once. The queries
    are the last refresh's; a store never refreshed has none, which is said before anything
    starts."""
    from vacrec.app.refresh import RefreshError, resolve_queries
    from vacrec.commands.refresh import refresh_forever

    try:
        queries = resolve_queries(engine, [])
    except RefreshError as error:
        raise typer.BadParameter(str(error), param_hint="--refresh-every") from None
    threading.Thread(
        target=refresh_forever,
        args=(engine, settings, queries, every_s, stop),
        kwargs={"first_now": True},  # a stale catalog is refreshed at start, not in 6 h
        name="refresh",
        daemon=True,
    ).start()
    log.info("refreshing the catalog from hh.ru every %g s", every_s)


def _writable_store(settings: Settings, ensure_catalog: Callable[[Engine], None]) -> Engine:
    """The store, migrated, with a catalog and proven writable (a heartbeat commits), or
    the command ends with one line saying why: a server that cannot record what it serves
    (a read-only file or mount, a full disk) must not start."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import DBAPIError

    from vacrec.store.db import DiskFull, commit_heartbeat, database_problem, make_engine, migrate

    url = make_url(settings.resolved_database_url).render_as_string(hide_password=True)
    try:
        engine = make_engine(settings.resolved_database_url)
    except OSError as error:
        fail(f"cannot serve {url}: {error.strerror}: {error.filename}", as_json=False)
    try:
        migrate(engine)
        commit_heartbeat(engine, f"serve-start-{os.getpid()}")
        ensure_catalog(engine)
    except (DBAPIError, DiskFull, OSError) as error:
        engine.dispose()
        cause = database_problem(error)
        if cause is None and not isinstance(error, OSError):
            raise
        reason = getattr(error, "orig", None) or error
        fail(f"cannot serve {url}: the database is {cause or 'unusable'} ({reason})", False)
    return engine


def _serve(
    engine: Engine, settings: Settings, host: str, port: int, workers: int, every_s: float | None
) -> None:
    """uvicorn in the foreground; the optional retraining thread beside it until it stops."""
    import uvicorn

    from vacrec.service.protocol import PROTOCOL

    retraining = retraining_poller(engine, settings, every_s) if every_s else None
    if retraining is not None:
        retraining.start()
        log.info("retraining every %g s", every_s)
    # Several workers: one metrics directory for all, so any worker's /metrics sums them.
    metrics_dir = shared_metrics_dir(settings.home) if workers > 1 else nullcontext()
    try:
        with metrics_dir:
            uvicorn.run(
                APP_FACTORY,
                factory=True,
                host=host,
                port=port,
                workers=workers,
                # Bounded waits for clients too: see service/protocol.py and README
                # "Reliability".
                http=PROTOCOL,
                log_config=worker_log_config(),  # applied again in every spawned worker
                limit_concurrency=settings.http_max_connections,
                timeout_keep_alive=settings.http_keep_alive_s,
                backlog=settings.http_backlog,
                # The app trusts forwarded headers itself, only from VACREC_TRUSTED_PROXIES;
                # uvicorn's default would trust any X-Forwarded-For sent from loopback.
                proxy_headers=False,
            )
    finally:
        if retraining is not None:
            retraining.stop(timeout=0)  # a training in progress dies with the process
