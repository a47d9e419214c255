"""Who may read our answers from a page on another origin (CORS), in one place.

- The banner files and the published config are public: any page may load
  them (``*``).
- Recording a choice, verifying a token (the banner's check of a cookie it
  cannot verify itself) and a visitor's receipt answer only origins that
  some site lists;
  whether the origin may record for *this* site is the domain's rule,
  checked in :func:`consent_server.domain.recording.record`.
- ``Retry-After`` is readable by those pages, so a banner waits as told.

Preflights carry no body, so no site id: they are answered from the list of
every site's origins, kept per process for :data:`ORIGINS_TTL` seconds and
read again at most once a second when an unknown origin asks.
"""

from __future__ import annotations

import time

from flask import Blueprint, Response, current_app, request

from ..domain.origins import origin_allowed
from ..domain.vocabulary import MAX_ORIGIN
from ..store import sites
from ..store.engine import get_db
from .errors import DATABASE_DOWN, ApiError

bp = Blueprint("cors", __name__)

ORIGINS_TTL = 30.0
# A miss reads the list again, but not more often than this: an unknown
# origin that retries cannot turn every request into a database query.
MISS_REFRESH = 1.0
RECORDING_PATH = "/v1/consent"
VERIFY_PATH = "/v1/consent/verify"
RECEIPT_PATH = "/v1/consent/receipt"
SITE_ORIGIN_PATHS = (RECORDING_PATH, VERIFY_PATH, RECEIPT_PATH)
PUBLIC_PREFIXES = ("/v1/sites/", "/s/")


def _known_origins(force: bool = False) -> list[str]:
    cache = current_app.extensions.setdefault("consent_origins", {})
    now = time.monotonic()
    stale = cache.get("until", 0.0) < now
    if stale or (force and cache.get("read", 0.0) + MISS_REFRESH < now):
        cache["origins"] = sites.all_origins(get_db())
        cache["read"] = now
        cache["until"] = now + ORIGINS_TTL
    origins: list[str] = cache["origins"]
    return origins


def recording_allowed(origin: str) -> bool:
    """Whether any site lets this origin record consent."""
    if len(origin) > MAX_ORIGIN:
        return False
    return origin_allowed(origin, _known_origins()) or origin_allowed(
        origin, _known_origins(force=True)
    )


def allow_any(response: Response) -> Response:
    """Let any page read this response (public files and configs)."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _allowed_while_answering(origin: str) -> bool:
    # While the database is down the answer (a 503) must still reach a page
    # the last known list allowed, so that its banner reads Retry-After.
    try:
        return recording_allowed(origin)
    except DATABASE_DOWN:
        cache = current_app.extensions.get("consent_origins", {})
        return origin_allowed(origin, cache.get("origins", []))


@bp.after_app_request
def _apply(response: Response) -> Response:
    if request.path in SITE_ORIGIN_PATHS:
        origin = request.headers.get("Origin")
        if origin and _allowed_while_answering(origin):
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Expose-Headers"] = "Retry-After"
        response.vary.add("Origin")
    elif request.path.startswith(PUBLIC_PREFIXES):
        allow_any(response)
    return response


@bp.route(RECORDING_PATH, methods=["OPTIONS"])
@bp.route(VERIFY_PATH, methods=["OPTIONS"])
@bp.route(RECEIPT_PATH, methods=["OPTIONS"])
def consent_preflight() -> Response:
    """Answer the browser's CORS preflight for recording or verifying."""
    if not recording_allowed(request.headers.get("Origin", "")):
        raise ApiError(403, "origin_not_allowed", "this origin may not record consent")
    response = Response(status=204)
    response.headers["Access-Control-Allow-Methods"] = "POST"
    response.headers["Access-Control-Allow-Headers"] = "Content-Type"
    response.headers["Access-Control-Max-Age"] = "86400"
    return response
