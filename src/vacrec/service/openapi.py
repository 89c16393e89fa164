"""The OpenAPI document states what this server enforces, including what its settings add.

The skill vocabulary is configurable (``VACREC_EXTRA_SKILLS``), so the request models
cannot carry the list themselves: they mark their skill fields, and the app's schema
replaces each mark with an ``enum`` of the vocabulary of the settings it was built with.
Clients, Swagger UI and the fuzz then offer exactly the skills this server accepts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI

from vacrec.service.schemas import SKILLS_MARKER


def fill_skill_enums(node: Any, skills: Sequence[str]) -> int:
    """Replace every skill mark under ``node`` with ``enum: skills``; how many were found."""
    found = 0
    if isinstance(node, dict):
        if node.pop(SKILLS_MARKER, None):
            node["enum"] = list(skills)
            found += 1
        for value in node.values():
            found += fill_skill_enums(value, skills)
    elif isinstance(node, list):
        for value in node:
            found += fill_skill_enums(value, skills)
    return found


def use_skill_vocabulary(app: FastAPI, skills: Sequence[str]) -> None:
    """Make ``app.openapi()`` list ``skills`` wherever a request names a skill."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()  # FastAPI's own, which it caches in app.openapi_schema
            fill_skill_enums(schema, skills)
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]
