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
from pydantic import BaseModel

from vacrec.service.schemas import SKILLS_MARKER

ERROR_DESCRIPTIONS: dict[int, str] = {
    404: "Unknown event_id.",
    409: "The event already has feedback.",
    410: "The event is too old for feedback.",
    413: "The body is larger than 64 KiB.",
    422: "A field is invalid; the message names it.",
    429: "Over the address's rate limit (Retry-After).",
    503: "No catalog loaded or database unreachable.",
}
"""What each error status a route can answer means; one table for the legacy API and v1."""


def error_responses(model: type[BaseModel], *codes: int) -> dict[int | str, dict[str, Any]]:
    """A route's documented errors (FastAPI ``responses``): their body ``model`` (each API
    keeps its own envelope) and what each status means. Documented so clients and the fuzz
    know every answer."""
    return {code: {"model": model, "description": ERROR_DESCRIPTIONS[code]} for code in codes}


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
        schema = app.openapi_schema
        if schema is None:
            schema = build()  # FastAPI's own, which it caches in app.openapi_schema
            fill_skill_enums(schema, skills)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
