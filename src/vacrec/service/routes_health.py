"""Operations routes: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text

from vacrec.service.deps import EngineDep, MetricsDep, RecommenderDep
from vacrec.store.db import read_transaction

log = logging.getLogger(__name__)
router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Liveness: the process answers. Says nothing about the database or the catalog."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Not ready to serve."}})
def readyz(engine: EngineDep, recommender: RecommenderDep) -> JSONResponse:
    """Readiness: 200 only with a catalog loaded and the database reachable.

    A missing model does not make the service unready (it explores uniformly),
    but it is reported so an operator can tell.
    """
    snapshot = recommender.snapshots.current
    catalog_version = snapshot.version if snapshot is not None else None
    try:
        with read_transaction(engine) as conn:
            conn.execute(text("SELECT 1"))
        database = True
    except Exception as error:  # any failure to reach the database means "not ready"
        log.warning("readiness: database unreachable: %s", error)
        database = False
    model = recommender.models.current
    ready = catalog_version is not None and database
    body = {
        "ready": ready,
        "catalog": catalog_version is not None,
        "catalog_version": catalog_version,
        "database": database,
        "model": model is not None,
        "model_version": model.version if model is not None else None,
    }
    headers = None if ready else {"Retry-After": "5"}
    return JSONResponse(body, status_code=200 if ready else 503, headers=headers)


@router.get("/metrics", response_class=Response)
def metrics_endpoint(metrics: MetricsDep, recommender: RecommenderDep) -> Response:
    """Prometheus metrics of the whole server: every worker's samples, whichever one answers."""
    model = recommender.models.current
    snapshot = recommender.snapshots.current
    body = metrics.render(
        model.version if model is not None else None,
        snapshot.version if snapshot is not None else None,
    )
    return Response(body, media_type=metrics.content_type)
