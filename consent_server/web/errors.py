"""Errors at the web edge: the one JSON shape ``{"error": {"code", "message"}}``.

The domain raises :class:`~consent_server.domain.errors.ConsentError`s that
know nothing of HTTP; this module alone gives each kind its status. Errors of
the HTTP exchange itself (wrong media type, missing bearer token) are
:class:`ApiError`s raised by the views.
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from flask import Flask, Response, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from ..domain.errors import (
    ConsentError,
    InvalidInput,
    NotAllowed,
    StaleRevision,
    UnknownSite,
)
from .limits import limiter

# The most specific class wins: ConfigError is an InvalidInput, so a 400.
STATUS: dict[type[ConsentError], int] = {
    InvalidInput: 400,
    NotAllowed: 403,
    UnknownSite: 404,
    StaleRevision: 409,
}
# Errors that say the database cannot be reached or is busy right now, not
# that a request is wrong: the client should come back in a moment.
DATABASE_DOWN = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError)
# Seconds a client is asked to wait before trying again.
RETRY_AFTER = 5

# Paths that answer errors as JSON; pages keep Flask's HTML error pages.
API_PREFIXES = ("/v1/", "/healthz", "/openapi.json")


class ApiError(Exception):
    """An error of the HTTP exchange, answered with its status and a stable code."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        # Headers the answer needs besides (a 401's WWW-Authenticate).
        self.headers = headers or {}


def error_response(status: int, code: str, message: str) -> Response:
    """Build the JSON error response."""
    response = jsonify(error={"code": code, "message": message})
    response.status_code = status
    return response


def status_of(exc: ConsentError) -> int:
    """The HTTP status for a domain error: that of its nearest listed class."""
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def _http_error(exc: HTTPException) -> HTTPException | tuple[Response, int]:
    if not request.path.startswith(API_PREFIXES):
        return exc
    code = (exc.name or "error").lower().replace(" ", "_")
    response = error_response(exc.code or 500, code, exc.description or "")
    if exc.code == 429:
        response.headers["Retry-After"] = str(seconds_to_reset())
    return response, exc.code or 500


def seconds_to_reset() -> int:
    """Seconds until the limit this request broke lets requests through again."""
    # Only a 429 says when to come back: the limiter's own headers would put
    # its window's reset on every answer, a 201 or a 503 included.
    breached = limiter.current_limit
    reset_at = breached.reset_at if breached else time.time() + 60
    return max(1, int(reset_at - time.time()))


def _api_error(exc: ApiError) -> Response:
    response = error_response(exc.status, exc.code, exc.message)
    response.headers.update(exc.headers)
    return response


def _domain_error(exc: ConsentError) -> Response:
    return error_response(status_of(exc), exc.code, exc.message)


def database_down(exc: sa.exc.SQLAlchemyError) -> Response:
    """The 503 answered while the database cannot be reached."""
    # Logged once, in one line: the operator needs to know, not a traceback
    # per request while the database restarts.
    current_app.logger.error("database unavailable: %s", str(exc).splitlines()[0])
    g.database_down = True
    response = error_response(
        503, "database_unavailable", "the database cannot be reached; try again soon"
    )
    response.headers["Retry-After"] = str(RETRY_AFTER)
    response.headers["Cache-Control"] = "no-store"
    return response


def _check_query() -> None:
    # Werkzeug decodes the query string as strict UTF-8 when it is first
    # read; raw bytes that are not UTF-8 would otherwise be a 500 there.
    try:
        request.query_string.decode()
    except UnicodeDecodeError:
        raise ApiError(
            400, "bad_query", "the query string is not valid UTF-8"
        ) from None


def init_app(app: Flask) -> None:
    """Register the handlers that turn every error into its response."""
    app.before_request(_check_query)
    app.register_error_handler(HTTPException, _http_error)
    for kind in DATABASE_DOWN:
        app.register_error_handler(kind, database_down)
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(ConsentError, _domain_error)
