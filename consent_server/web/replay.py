"""The storefront's public answers sent again whole, without going through Flask.

``consent.js`` (and its 304), ``consent.css`` and the published config are
the same bytes for every request that sends the same path, Accept-Encoding,
Accept-Language and If-None-Match, as long as the site's cached config is
the same (:class:`~consent_server.store.sites.ConfigCache`). The first such
request goes through Flask as any other; what Flask sent (status, every
header the view and the after-request hooks set, the body) is kept, and the
next identical request is answered from it in front of Flask: no request
context, routing, hooks or response object. A replay is only made while
the config it was built from is still the one the cache would answer
without the database, so a publish reaches it exactly as it reaches the
view. Anything else (another method, a query string, other conditional
headers, an answer Flask built differently) goes to Flask.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, request
from werkzeug.http import http_date

from ..domain.site_config import PublishedConfig
from ..store import sites

# The environ key a view sets to say its answer may be replayed: the site it
# depends on (None: on no site's config) and the config it was built from.
MARK = "consent_server.replay"
# Requests that are never replayed: they ask for something else than "the
# answer to this path", or are answered by werkzeug's own rules.
OTHER_CONDITIONS = (
    "HTTP_IF_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_UNMODIFIED_SINCE",
    "HTTP_IF_RANGE",
    "HTTP_RANGE",
)
# Answers kept per process; the bodies are a few kilobytes each.
MAX_KEPT = 256

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
_Key = tuple[str, str | None, str | None, str | None]


@dataclasses.dataclass(frozen=True)
class _Kept:
    status: str
    headers: tuple[tuple[str, str], ...]  # without Date
    body: bytes
    site: str | None
    config: PublishedConfig | None


def replayable(site: str | None, config: PublishedConfig | None) -> None:
    """Mark this request's answer as one to keep: it depends on nothing but
    the request's path, Accept-Encoding, Accept-Language and If-None-Match,
    and on ``site``'s ``config`` (None, None: on no config)."""
    request.environ[MARK] = (site, config)


class Replay:
    """The WSGI middleware that keeps and replays marked answers."""

    def __init__(self, app: Flask, wsgi_app: WsgiApp) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.kept: dict[_Key, _Kept] = {}

    def __call__(
        self, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        if (
            environ["REQUEST_METHOD"] != "GET"
            or environ.get("QUERY_STRING")
            or any(name in environ for name in OTHER_CONDITIONS)
        ):
            return self.wsgi_app(environ, start_response)
        key = (
            environ.get("PATH_INFO", ""),
            environ.get("HTTP_ACCEPT_ENCODING"),
            environ.get("HTTP_ACCEPT_LANGUAGE"),
            environ.get("HTTP_IF_NONE_MATCH"),
        )
        kept = self.kept.get(key)
        if kept is not None and self._current(kept):
            start_response(kept.status, [*kept.headers, ("Date", date_now())])
            return [kept.body]
        return self._keep(key, environ, start_response)

    def _current(self, kept: _Kept) -> bool:
        if kept.site is None:
            return True
        cache: sites.ConfigCache | None = self.app.extensions.get("consent_configs")
        return cache is not None and cache.fresh(kept.site) is kept.config

    def _keep(
        self, key: _Key, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        sent: list[Any] = []

        def capture(status: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
            sent[:] = [status, headers]
            return start_response(status, headers, *exc)

        answer = self.wsgi_app(environ, capture)
        mark = environ.get(MARK)
        if mark is None or not sent or sent[0][:3] not in ("200", "304"):
            return answer
        try:
            body = b"".join(answer)
        finally:
            close = getattr(answer, "close", None)
            if close is not None:
                close()
        headers = tuple((k, v) for k, v in sent[1] if k.lower() != "date")
        if any(k.lower() == "set-cookie" for k, _ in headers):
            # Never one visitor's cookie sent to the next.
            return [body]
        if len(self.kept) >= MAX_KEPT:
            self.kept.clear()
        self.kept[key] = _Kept(sent[0], headers, body, *mark)
        return [body]


# The Date header of this second, made once a second rather than per request.
_date: tuple[int, str] = (0, "")


def date_now() -> str:
    """The Date header's value for an answer sent now."""
    global _date
    second = int(time.time())
    if _date[0] != second:
        _date = (second, http_date(second))
    return _date[1]


def init_app(app: Flask) -> None:
    """Replay ``app``'s marked answers in front of it."""
    if not isinstance(app.wsgi_app, Replay):
        app.wsgi_app = Replay(app, app.wsgi_app)  # type: ignore[method-assign]
