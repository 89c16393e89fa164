"""The human side of the service: the job seeker's page and the dashboard.

The pages are static shells rendered by Jinja2 (autoescaped); everything that
comes from data is fetched from the JSON API and inserted by the browser as
text, never as markup. Static files are served by an explicit route limited
to our own files, so the app needs no mount and the router stays
self-contained.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from vacrec.service.admin import OPERATOR_ONLY
from vacrec.service.dashboard import DashboardCache, dashboard_data
from vacrec.service.deps import EngineDep
from vacrec.service.rate_limits import DASHBOARD_BUDGET
from vacrec.service.schemas import ErrorResponse

PACKAGE_DIR = Path(__file__).parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"
STATIC_FILES = {
    "common.js": "text/javascript; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "dashboard.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}
# Pages may only load what our own server sends; data can never bring in a script.
# Images too by default: a catalog's logo URLs would otherwise make every visitor's
# browser call third parties (VACREC_CSP_IMG_SRC adds the hosts an operator trusts).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src {img_src}; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'"
)

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
router = APIRouter(tags=["ui"])


def _asset_version() -> str:
    """Changes whenever a static file changes, so browsers never run stale scripts."""
    return str(max(int((STATIC_DIR / name).stat().st_mtime) for name in STATIC_FILES))


def _page(request: Request, template: str) -> HTMLResponse:
    response = templates.TemplateResponse(request, template, {"asset_version": _asset_version()})
    img_src = request.app.state.settings.csp_img_src
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.format(img_src=img_src)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def index(request: Request) -> HTMLResponse:
    """The job seeker's page: a form, vacancy cards with votes, and why this industry."""
    return _page(request, "index.html")


@router.get("/dashboard", response_class=HTMLResponse, include_in_schema=False)
def dashboard(request: Request) -> HTMLResponse:
    """Plots of learning and traffic, drawn in the browser from ``/api/v1/dashboard``."""
    return _page(request, "dashboard.html")


@router.get("/static/{name}", include_in_schema=False)
def static(name: str) -> FileResponse:
    """One of our own static files; anything else is a 404 (no path traversal)."""
    if name not in STATIC_FILES:
        raise HTTPException(status_code=404, detail=f"no static file {name!r}")
    return FileResponse(
        STATIC_DIR / name,
        media_type=STATIC_FILES[name],
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


@router.get(
    "/api/v1/dashboard",
    response_class=Response,
    responses={
        200: {"content": {"application/json": {"schema": {"type": "object"}}}},
        401: {"model": ErrorResponse, "description": "VACREC_ADMIN_TOKEN is set; send it."},
        429: {"model": ErrorResponse, "description": "Over the address's rate limit."},
        503: {"model": ErrorResponse, "description": "Database unreachable."},
    },
    dependencies=[DASHBOARD_BUDGET, OPERATOR_ONLY],
)
async def dashboard_json(request: Request, engine: EngineDep) -> Response:
    """Mean reward and feedback rate over time, actions per industry, models and loss.

    For operators: when `VACREC_ADMIN_TOKEN` is set, send `Authorization: Bearer <token>`.
    Each worker recomputes the figures at most every `VACREC_DASHBOARD_CACHE_S`
    (`generated_at` says when).
    """
    cache: DashboardCache = request.app.state.dashboard_cache
    body = await cache.get_json(lambda: dashboard_data(engine))
    return Response(body, media_type="application/json")
