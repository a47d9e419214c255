"""Recording and verifying a consent without Flask's request machinery.

``POST /v1/consent`` and ``POST /v1/consent/verify`` are the storefront's
requests that no cache can answer: each is new work. Flask's part of that
work (a request context, routing, the rate limiter's search for limits,
werkzeug's request and response objects, the after-request hooks) cost as
much as the verify itself. So a request that is exactly the ordinary case
is answered here, in front of Flask, by the same functions the views answer
with (:func:`.consent.recorded`, :func:`.consent.verified`):

- the ordinary case: ``POST``, ``Content-Type: application/json`` and a
  ``Content-Length`` within the limit, no query string, no ``Authorization``
  (a scan's bearer token is the views' business);
- the answer's headers are the ones Flask's view and hooks gave the same
  answer to the same path and ``Origin`` (CORS, security headers, caching):
  the first such request goes through Flask and they are kept, for
  :data:`~.cors.ORIGINS_TTL` seconds, as the list of origins CORS allows is;
- the rate limit is counted in the same counter, under the same key, as the
  view's limit; a request handed on to Flask after being counted here is
  not counted again;
- anything else goes to Flask whole, with its body put back: a request that
  breaks a rule (Flask checks it again and answers the error), a limit
  reached, and an error of the database, which the view raises again as
  its own (:func:`raise_held`) so that it is answered exactly as there.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, current_app, request
from limits import parse

from ..domain.errors import ConsentError
from ..domain.recording import Visitor
from ..domain.vocabulary import MAX_BODY
from ..store.engine import get_engine
from . import cors, replay
from . import limits as rate_limits
from .body import decode_json
from .errors import ApiError

# Environ keys: the request was counted against its limit here; an error to
# raise again in the view; the view's answer may be given here next time.
COUNTED = "consent_server.fast.counted"
HELD = "consent_server.fast.held"
LEARN = "consent_server.fast.learn"
# Kept header sets per process (one per path and Origin).
MAX_KEPT = 256

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def counted() -> bool:
    """Whether this request was counted against its rate limit already."""
    return bool(request.environ.get(COUNTED))


def raise_held() -> None:
    """Raise, in the view, the error the fast path met answering this request."""
    error = request.environ.pop(HELD, None)
    if error is not None:
        raise error


def learn(endpoint: str) -> None:
    """Mark this answer's headers as the ones to give ``endpoint``'s next
    answers to the same path and Origin."""
    request.environ[LEARN] = endpoint


class _Route:
    def __init__(self, endpoint: str, status: str, limit: str) -> None:
        self.endpoint = endpoint
        self.status = status
        self.limit = limit


class Fast:
    """The WSGI middleware in front of Flask that answers the ordinary case."""

    def __init__(self, app: Flask, wsgi_app: WsgiApp) -> None:
        # The views' module imports this one (for counted, raise_held, learn).
        from . import consent

        self.app = app
        self.wsgi_app = wsgi_app
        self.routes = {
            cors.RECORDING_PATH: _Route(
                consent.RECORDED, "201 CREATED", "RATELIMIT_CONSENT"
            ),
            cors.VERIFY_PATH: _Route(consent.VERIFIED, "200 OK", "RATELIMIT_VERIFY"),
        }
        self._consent = consent
        self.answers: dict[str, Callable[[bytes, dict[str, Any]], dict[str, Any]]] = {
            consent.RECORDED: self._record,
            consent.VERIFIED: self._verify,
        }
        # (path, Origin) -> (headers without Date and Content-Length, until).
        self.kept: dict[
            tuple[str, str | None], tuple[list[tuple[str, str]], float]
        ] = {}

    def __call__(
        self, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        route = self.routes.get(path)
        if route is None or not _ordinary(environ):
            return self.wsgi_app(environ, start_response)
        key = (path, environ.get("HTTP_ORIGIN"))
        kept = self.kept.get(key)
        if kept is None or kept[1] < time.monotonic():
            return self._learn(key, environ, start_response)
        raw = environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))
        environ["wsgi.input"] = io.BytesIO(raw)
        answer: bytes | None = None
        with self.app.app_context():
            if _hit(route, environ):
                environ[COUNTED] = True
                try:
                    body = self.answers[route.endpoint](raw, environ)
                    answer = _json(body)
                except (ConsentError, ApiError):
                    pass  # Flask checks again, and answers the error
                except Exception as exc:  # noqa: BLE001 - the view raises it again
                    environ[HELD] = exc
        if answer is None:
            return self.wsgi_app(environ, start_response)
        start_response(
            route.status,
            [
                *kept[0],
                ("Content-Length", str(len(answer))),
                ("Date", replay.date_now()),
            ],
        )
        return [answer]

    def _record(self, raw: bytes, environ: dict[str, Any]) -> dict[str, Any]:
        visitor = Visitor(
            origin=environ.get("HTTP_ORIGIN"),
            ip=environ.get("REMOTE_ADDR"),
            user_agent=environ.get("HTTP_USER_AGENT", ""),
            gpc_header=environ.get("HTTP_SEC_GPC") == "1",
        )
        store = self._consent.CachedStore(get_engine())
        return self._consent.recorded(store, decode_json(raw), visitor)

    def _verify(self, raw: bytes, environ: dict[str, Any]) -> dict[str, Any]:
        return self._consent.verified(decode_json(raw))

    def _learn(
        self,
        key: tuple[str, str | None],
        environ: dict[str, Any],
        start_response: StartResponse,
    ) -> Iterable[bytes]:
        def capture(status: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
            route = self.routes[key[0]]
            if environ.get(LEARN) == route.endpoint and status == route.status:
                kept = [
                    (k, v)
                    for k, v in headers
                    if k.lower() not in ("date", "content-length")
                ]
                if not any(k.lower() == "set-cookie" for k, _ in kept):
                    if len(self.kept) >= MAX_KEPT:
                        self.kept.clear()
                    until = time.monotonic() + cors.ORIGINS_TTL
                    self.kept[key] = (kept, until)
            return start_response(status, headers, *exc)

        return self.wsgi_app(environ, capture)


def _ordinary(environ: dict[str, Any]) -> bool:
    length = environ.get("CONTENT_LENGTH", "")
    return (
        environ["REQUEST_METHOD"] == "POST"
        and environ.get("CONTENT_TYPE") == "application/json"
        and length.isdigit()
        and int(length) <= MAX_BODY
        and not environ.get("QUERY_STRING")
        and "HTTP_AUTHORIZATION" not in environ
        and "HTTP_TRANSFER_ENCODING" not in environ
    )


_parsed: dict[str, Any] = {}


def _hit(route: _Route, environ: dict[str, Any]) -> bool:
    """Count the request against its view's limit, as Flask-Limiter's
    decorator would: the same limit, client key and scope (the endpoint)."""
    limiter = rate_limits.limiter
    if not limiter.enabled:
        return True
    text = str(current_app.config[route.limit])
    item = _parsed.get(text)
    if item is None:
        item = _parsed.setdefault(text, parse(text))
    client = rate_limits.key_for(environ.get("REMOTE_ADDR") or "127.0.0.1")
    return bool(limiter.limiter.hit(item, client, route.endpoint))


def _json(value: Any) -> bytes:
    # What jsonify writes: Flask's JSON provider, compact unless debugging.
    provider = current_app.json
    compact = getattr(provider, "compact", None)
    if (compact is None and current_app.debug) or compact is False:
        text = provider.dumps(value, indent=2)
    else:
        text = provider.dumps(value, separators=(",", ":"))
    return (text + "\n").encode()


def init_app(app: Flask) -> None:
    """Answer the ordinary recordings and verifies in front of ``app``."""
    if not isinstance(app.wsgi_app, Fast):
        app.wsgi_app = Fast(app, app.wsgi_app)  # type: ignore[method-assign]
