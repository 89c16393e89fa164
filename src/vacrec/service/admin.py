"""The operator token: routes only an operator should call require it once it is set.

``VACREC_ADMIN_TOKEN`` unset leaves them open (a fresh install on a laptop needs no
secret); set, a call must carry ``Authorization: Bearer <token>``. The comparison is
constant-time, so timing does not reveal how much of a guess was right, and the
route's own rate limit bounds how many guesses an address can make.
"""

from __future__ import annotations

import secrets

from fastapi import Depends, Request

from vacrec.errors import Unauthorized

BEARER = "bearer "


def operator_token_ok(expected: str | None, authorization: str | None) -> bool:
    """Whether an ``Authorization`` header value carries the expected bearer token."""
    if expected is None:
        return True
    if not authorization or authorization[: len(BEARER)].lower() != BEARER:
        return False
    given = authorization[len(BEARER) :].strip()
    return secrets.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))


async def require_operator(request: Request) -> None:
    """Route dependency: 401 unless the operator token (when one is set) came with the call."""
    token = request.app.state.settings.admin_token
    expected = None if token is None else token.get_secret_value()
    if not operator_token_ok(expected, request.headers.get("authorization")):
        raise Unauthorized(
            "this route needs the operator token: send 'Authorization: Bearer <token>' "
            "(VACREC_ADMIN_TOKEN)",
            field="Authorization",
        )


OPERATOR_ONLY = Depends(require_operator)
