"""Security headers, a docs page that works offline under a CSP, and the legacy lenience."""

from __future__ import annotations

import base64
import hashlib
import re

from tests.service.conftest import Server, ServerFactory


def test_api_responses_carry_security_headers(server: Server) -> None:
    for response in (
        server.client.get("/api/v1/skills"),
        server.client.post("/api/v1/recommendations", json={"age": 3, "skill": "x"}),
        server.client.get("/healthz"),
    ):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "camera=()" in response.headers["permissions-policy"]


def test_pages_load_images_from_self_only_unless_configured(make_server: ServerFactory) -> None:
    page = make_server().client.get("/")
    img_src = re.search(r"img-src ([^;]*)", page.headers["content-security-policy"])
    assert img_src is not None and img_src.group(1) == "'self' data:"
    other = make_server(csp_img_src="'self' https://img.hhcdn.ru").client.get("/dashboard")
    assert "img-src 'self' https://img.hhcdn.ru;" in other.headers["content-security-policy"]


def test_docs_are_served_from_the_package_under_a_csp(server: Server) -> None:
    docs = server.client.get("/docs")
    assert docs.status_code == 200
    assert "cdn.jsdelivr.net" not in docs.text and "unpkg.com" not in docs.text
    assets = re.findall(r'(?:src|href)="(/static-offline-docs/[^"]+)"', docs.text)
    assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets)
    for asset in assets:
        response = server.client.get(asset)
        assert response.status_code == 200 and len(response.content) > 1000
    policy = docs.headers["content-security-policy"]
    assert "script-src 'self' 'sha256-" in policy and "unsafe-inline' " not in policy.split(";")[1]
    inline = re.findall(r"<script>(.*?)</script>", docs.text, re.DOTALL)
    assert inline, "Swagger UI starts from an inline script"
    for script in inline:  # exactly these scripts may run, no others
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy
    assert server.client.get("/redoc").headers["content-security-policy"].startswith("default-src")


def test_legacy_reads_age_leniently_and_v1_strictly_as_the_docs_say(server: Server) -> None:
    legacy = server.client.get("/api/recommend/", params={"age": "30.0", "skill": "акварель"})
    assert legacy.status_code == 200
    fractional = server.client.get("/api/recommend/", params={"age": "30.5", "skill": "акварель"})
    assert fractional.status_code == 422
    v1 = server.client.post("/api/v1/recommendations", json={"age": 30.0, "skill": "акварель"})
    assert v1.status_code == 422
    description = server.client.get("/openapi.json").json()["info"]["description"]
    assert "age=30.0" in description and "strict" in description
