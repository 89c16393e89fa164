"""The FastAPI application: composition of holders, store and routes, plus error mapping.

``create_app`` is a factory (``uvicorn --factory vacrec.service.app:create_app``)
so every worker process builds its own engine, catalog snapshot and model
holder in the lifespan, sharing only the database.

Every error a client can cause becomes JSON naming the field: legacy paths
answer in the original's envelope ``{"status_code", "details"}``, v1 with
``{"detail"}``. Nothing a client sends may produce a 500.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from vacrec.app.group_commit import GroupCommit
from vacrec.app.models import ModelHolder
from vacrec.app.recommender import Recommender
from vacrec.app.snapshots import SnapshotHolder
from vacrec.app.vacancy_votes import VoteHolder
from vacrec.config import Settings, get_settings
from vacrec.errors import (
    DatabaseUnavailable,
    ServiceError,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    retry_after,
)
from vacrec.finite import finite_json
from vacrec.service import routes_health, routes_legacy, routes_v1, ui
from vacrec.service.body_limit import BodySizeLimit
from vacrec.service.dashboard import DashboardCache
from vacrec.service.headers import SecurityHeaders
from vacrec.service.metrics import Metrics, MetricsMiddleware
from vacrec.service.openapi import use_skill_vocabulary
from vacrec.service.rate_limits import RateLimits
from vacrec.service.readiness import DatabaseProbe
from vacrec.service.shared_body import SharedBody
from vacrec.store.db import DbTimeouts, database_problem, make_engine, migrate

log = logging.getLogger(__name__)

LEGACY_PREFIXES = ("/api/recommend", "/api/write")
_BODY_PARSE_ERROR = "There was an error parsing the body"

DESCRIPTION = """
Two API generations share one service.

* **v1** (`/api/v1/…`) is strict: JSON bodies, integers must be JSON integers
  (`"age": 30.0` or `"age": "30"` is a 422), unknown fields are refused.
* **Legacy** (`/api/recommend/`, `/api/write/`) keeps the original service's
  lenience for compatibility: query values are text, so `age=30` and `age=30.0`
  are both read as 30 (a fractional age such as `30.5` is still a 422).

When the database cannot serve, any route answers **503** with `Retry-After` and a
message naming the cause (disk full, read-only, locked, timed out, unreachable)
within a few seconds, instead of hanging.
"""


class FiniteJSONResponse(JSONResponse):
    """Every JSON answer of the API: an undefined number (NaN, ±Infinity) is null, never a
    500 (Starlette refuses to render it) nor invalid JSON.

    Rendered by orjson in one native pass (NaN and ±Infinity are null there too, NumPy
    numbers are numbers, the same compact UTF-8 as before); what orjson refuses (an
    integer beyond 64 bits) goes the old way, ``finite_json`` then ``json``."""

    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content, option=_ORJSON_OPTIONS)
        except orjson.JSONEncodeError:
            return super().render(finite_json(content))


_ORJSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def _is_legacy(request: Request) -> bool:
    return request.url.path.startswith(LEGACY_PREFIXES)


def error_response(
    request: Request,
    status_code: int,
    message: str,
    headers: Mapping[str, str] | None = None,
    errors: list[dict[str, str]] | None = None,
) -> JSONResponse:
    """The error envelope of the path's API generation."""
    if _is_legacy(request):
        body: dict[str, Any] = {"status_code": status_code, "details": message}
    else:
        body = {"detail": message}
        if errors:
            body["errors"] = errors
    return FiniteJSONResponse(body, status_code=status_code, headers=headers)


def _field_of(loc: Sequence[int | str]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    if not parts or all(p.isdigit() for p in parts):
        return "body"
    return ".".join(parts)


def _describe(error: dict[str, Any]) -> dict[str, str]:
    field = _field_of(error.get("loc", ()))
    kind = error.get("type", "")
    if kind == "json_invalid":
        reason = (error.get("ctx") or {}).get("error", "")
        message = f"body: not valid JSON ({reason})" if reason else "body: not valid JSON"
        return {"field": "body", "message": message}
    if kind == "missing":
        return {"field": field, "message": f"{field}: field required"}
    if kind == "extra_forbidden":
        return {"field": field, "message": f"{field}: unknown field"}
    if kind == "model_attributes_type" and field == "body":
        return {"field": "body", "message": "body: must be a JSON object (application/json)"}
    text = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    return {"field": field, "message": f"{field}: {text}"}


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [_describe(e) for e in exc.errors()]
        message = "; ".join(e["message"] for e in errors) or "invalid request"
        return error_response(request, 422, message, errors=errors)

    @app.exception_handler(DBAPIError)
    @app.exception_handler(PoolTimeout)
    async def _database(request: Request, exc: Exception) -> JSONResponse:
        """Every way the database can fail a request becomes one 503 naming the cause; no
        route or store function catches these itself."""
        cause = database_problem(exc)
        if cause is None:  # a query the database refused as wrong: our bug, not its state
            return await _unexpected(request, exc)
        log.warning("database %s on %s: %s", cause, request.url.path, exc)
        settings = request.app.state.settings
        return await _service(
            request, DatabaseUnavailable(cause, retry_after_s=settings.retry_after_s)
        )

    @app.exception_handler(ServiceError)
    async def _service(request: Request, exc: ServiceError) -> JSONResponse:
        headers = None
        if isinstance(exc, ServiceUnavailable | TooManyRequests):
            headers = retry_after(exc.retry_after_s)
        elif isinstance(exc, Unauthorized):
            headers = {"WWW-Authenticate": 'Bearer realm="vacrec operator"'}
        errors = [{"field": exc.field, "message": exc.message}] if exc.field else None
        return error_response(request, exc.status_code, exc.message, headers, errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and exc.detail == _BODY_PARSE_ERROR:
            # Bodies json.loads refuses beyond syntax (bad UTF-8, 5000-digit numbers).
            return error_response(request, 422, "body: could not be parsed as JSON")
        return error_response(request, exc.status_code, str(exc.detail), exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(request, 500, "internal error")


def serving_timeouts(settings: Settings) -> DbTimeouts:
    """The service's database waits: a few seconds each, so requests end in a 503, not a hang."""
    return DbTimeouts(
        # A lock wait ends first, so a held lock is reported as "locked", not "timed out".
        lock_s=0.8 * settings.db_timeout_s,
        statement_s=settings.db_timeout_s,
        idle_in_transaction_s=max(10 * settings.db_timeout_s, 30.0),
        connect_s=settings.db_connect_timeout_s,
        pool_s=settings.db_pool_timeout_s,
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; the lifespan connects, migrates and starts the background holders."""
    settings = settings if settings is not None else get_settings()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.resolved_database_url, serving_timeouts(settings))
        await run_in_threadpool(migrate, engine)
        snapshots = await run_in_threadpool(SnapshotHolder, engine, settings.catalog_poll_s)
        models = ModelHolder(engine, settings.model_poll_s)
        await run_in_threadpool(models.start)
        snapshots.start()
        votes = VoteHolder(
            engine, settings.model_poll_s, settings.card_votes_every_s, settings.train_on_simulated
        )
        await run_in_threadpool(votes.start)
        app.state.settings = settings
        app.state.engine = engine
        app.state.metrics = metrics
        app.state.readiness = DatabaseProbe(engine, settings)
        # Concurrent requests' events and ratings share one transaction and one commit. A
        # write may wait behind one batch and then its own batch's lock waits (this process's
        # writer lock, then SQLite's busy timeout, 0.8 × the timeout each): its bound covers
        # both, so a held lock is answered as "locked", not "did not answer in time".
        writes = GroupCommit(engine, timeout_s=2 * settings.db_timeout_s)
        app.state.recommender = Recommender(
            engine, settings, snapshots, models, metrics, votes=votes, writes=writes
        )
        log.info(
            "serving catalog %s with model %s",
            snapshots.current.version,
            models.current.version if models.current is not None else None,
        )
        # Everything loaded so far (libraries, the first snapshot, the model) lives as long as
        # the worker: out of the collector's sight, a full collection walks only what requests
        # and later snapshots made instead of some 300,000 objects (a pause of 0.1–0.5 s).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            writes.close()
            snapshots.stop()
            models.stop()
            votes.stop()
            engine.dispose()

    app = FastAPIOffline(  # Swagger UI and ReDoc from the package, not a CDN
        title="vacrec",
        summary="A job-vacancy recommender that learns from its users.",
        description=DESCRIPTION,
        version="1",
        lifespan=lifespan,
        default_response_class=FiniteJSONResponse,
    )
    app.state.rate_limits = RateLimits(settings)  # per process: memory:// counts per worker
    app.state.dashboard_cache = DashboardCache(
        settings.dashboard_cache_s, shared=SharedBody(settings.dashboard_share_path)
    )  # per worker, the figures computed once per interval for the host's workers
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodySizeLimit)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    if settings.proxy_list:  # outermost: every layer below sees the forwarded client
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.proxy_list)
    _install_error_handlers(app)
    use_skill_vocabulary(app, settings.skill_vocabulary.skills)
    app.include_router(routes_legacy.router)
    app.include_router(routes_v1.router)
    app.include_router(routes_health.router)
    app.include_router(ui.router)
    return app
