"""Operations routes: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from vacrec.errors import DatabaseUnavailable, retry_after
from vacrec.service.deps import MetricsDep, RecommenderDep

log = logging.getLogger(__name__)
router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness: the process answers. Says nothing about the database or the catalog.

    ``async`` and without dependencies: it runs on the event loop, so it answers even
    while a hung database holds every thread of the request pool.
    """
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Not ready to serve; says why."}})
async def readyz(request: Request, recommender: RecommenderDep) -> JSONResponse:
    """Readiness: 200 only with a catalog loaded and a database write that commits.

    Answers within ``VACREC_READY_TIMEOUT_S`` whatever the database does. A
    missing model does not make the service unready (the content prior serves),
    but it is reported so an operator can tell.
    """
    snapshot = recommender.snapshots.current
    catalog_version = snapshot.version if snapshot is not None else None
    problem = await request.app.state.readiness.problem()
    model = recommender.models.current
    ready = catalog_version is not None and problem is None
    body: dict[str, object] = {
        "ready": ready,
        "catalog": catalog_version is not None,
        "catalog_version": catalog_version,
        "database": problem is None,
        "model": model is not None,
        "model_version": model.version if model is not None else None,
    }
    if problem is not None:
        body["database_problem"] = problem
        body["detail"] = DatabaseUnavailable(problem).message
    elif catalog_version is None:
        body["detail"] = "no catalog is loaded yet"
    headers = None if ready else retry_after(request.app.state.settings.retry_after_s)
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
