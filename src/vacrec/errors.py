"""Errors a client can cause or must wait out, each carrying the HTTP status it maps to.

The store (a feedback that cannot be true of its event) and the service layer
raise these; the app's exception handlers turn them into JSON responses, so no
route needs its own try/except. Database failures are not here: the app maps
SQLAlchemy's own errors to a 503 naming the cause.
"""

from __future__ import annotations


class ServiceError(Exception):
    """A failure a client can cause or must wait out; never a 500."""

    status_code: int = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidRequest(ServiceError):
    """A field's value is not acceptable (422); ``field`` names it."""

    status_code = 422


class InvalidFeedback(InvalidRequest):
    """Feedback that cannot be true of its event: a vote on a vacancy not shown, etc."""


class Unauthorized(ServiceError):
    """An operator route called without the operator token it requires (401)."""

    status_code = 401


class UnknownEvent(ServiceError):
    """No recommendation with this event id was ever served (404)."""

    status_code = 404


class AlreadyRated(ServiceError):
    """The event already has its feedback; a second one would double-count (409)."""

    status_code = 409


class FeedbackExpired(ServiceError):
    """The event is older than ``Settings.feedback_ttl_s`` (410)."""

    status_code = 410


RETRY_AFTER_S = 5
"""Seconds a 503 asks the client to wait when nothing better is known (no catalog yet: about
one catalog poll); a 503 from the database uses ``Settings.retry_after_s``."""


def retry_after(seconds: int) -> dict[str, str]:
    """The ``Retry-After`` header of an answer that asks the client to come back later."""
    return {"Retry-After": str(seconds)}


class TooManyRequests(ServiceError):
    """The client spent its rate-limit budget (429); ``retry_after_s`` says when to come back."""

    status_code = 429

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class ServiceUnavailable(ServiceError):
    """Nothing to serve yet (no catalog) or the database is unreachable (503)."""

    status_code = 503

    def __init__(self, message: str, *, retry_after_s: int = RETRY_AFTER_S) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


_DATABASE_MESSAGES = {
    "disk full": "the database's disk is full; nothing can be saved until space is freed",
    "read-only": "the database is read-only; nothing can be saved",
    "locked": "the database is locked by another writer; try again",
    "timed out": "the database did not answer in time; try again",
    "I/O error": "the database's disk reports an I/O error; try again",
    "unreachable": "the database is unreachable; try again",
}


class DatabaseUnavailable(ServiceUnavailable):
    """The database cannot serve now (503); ``cause`` says why, in the words of
    :func:`vacrec.store.db.database_problem`, and the message names it."""

    def __init__(self, cause: str, *, retry_after_s: int = RETRY_AFTER_S) -> None:
        super().__init__(_DATABASE_MESSAGES.get(cause, cause), retry_after_s=retry_after_s)
        self.cause = cause
