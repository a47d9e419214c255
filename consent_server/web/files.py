"""The banner files a storefront loads: ``consent.js`` with its config built in,
and ``consent.css`` for pages whose CSP forbids injected styles."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from ..domain.errors import UnknownSite
from ..domain.site_config import PublishedConfig
from ..store import sites
from ..store.engine import get_db
from ..tokens import public_keys
from . import banner
from .errors import ApiError

bp = Blueprint("files", __name__)

# Built files kept per process; more sites than this and the cache starts over.
MAX_CACHED = 1000


def _serve(built: banner.Built, mimetype: str) -> Response:
    """A built file, gzipped when the client takes it, revalidated by ETag."""
    gz = request.accept_encodings["gzip"] > 0
    response = Response(built.gzipped if gz else built.body, mimetype=mimetype)
    if gz:
        response.headers["Content-Encoding"] = "gzip"
    response.set_etag(built.etag + ("-gz" if gz else ""))
    response.vary.add("Accept-Encoding")
    # Short enough that a published change reaches visitors within minutes;
    # the ETag makes the revalidation after that a small 304.
    response.cache_control.public = True
    response.cache_control.max_age = 300
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.make_conditional(request)
    return response


def published(site: str) -> PublishedConfig:
    """The site's published config from this process's cache, which asks the
    database at most about once a second per site (see
    :class:`~consent_server.store.sites.ConfigCache`); a request served from
    the cache checks out no database connection.

    :raise UnknownSite: if the site was never published.
    """
    cache: sites.ConfigCache | None = current_app.extensions.get("consent_configs")
    if cache is None:
        cache = current_app.extensions.setdefault(
            "consent_configs", sites.ConfigCache()
        )
    return cache.get(get_db, site)


def public_json(value: Any, max_age: int) -> Response:
    """JSON anyone may cache for ``max_age`` seconds, revalidated by ETag."""
    response = jsonify(value)
    etag = hashlib.sha256(response.get_data()).hexdigest()[:32]
    return _public(response, etag, max_age)


def cached_json(
    key: tuple[Any, ...], build: Callable[[], Any], max_age: int
) -> Response:
    """:func:`public_json` of ``build()``, encoded once per ``key`` in this
    process (a key must name everything the value depends on)."""
    cache = current_app.extensions.setdefault("consent_json", {})
    found: tuple[bytes, str] | None = cache.get(key)
    if found is None:
        body = jsonify(build()).get_data()
        found = (body, hashlib.sha256(body).hexdigest()[:32])
        if len(cache) >= MAX_CACHED:
            cache.clear()
        cache[key] = found
    return _public(Response(found[0], mimetype="application/json"), found[1], max_age)


def _public(response: Response, etag: str, max_age: int) -> Response:
    response.set_etag(etag)
    response.cache_control.public = True
    response.cache_control.max_age = max_age
    response.make_conditional(request)
    return response


def _static() -> Path:
    return Path(current_app.static_folder or "static")


def _languages(config: PublishedConfig) -> list[str]:
    """The site's default language, and the best match for Accept-Language."""
    wanted = request.accept_languages.best_match(list(config.languages))
    default = config.default_language
    return [default] if wanted is None or wanted == default else [default, wanted]


@bp.get("/s/<site>/consent.js")
def banner_script(site: str) -> Response:
    """The banner: code, styles and the site's published config in one response."""
    try:
        config = published(site)
    except UnknownSite:
        return Response(f"/* consent-server: no site {site!r} */\n", 404,
                        mimetype="text/javascript")  # fmt: skip
    languages = _languages(config)
    cache = current_app.extensions.setdefault("consent_banner", {})
    key = (site, config.revision, config.consent_revision, *languages)
    if key not in cache:
        if len(cache) > MAX_CACHED:
            cache.clear()
        keys = public_keys(current_app.config["CONSENT_KEYS"])
        cache[key] = banner.build_script(_static(), config, keys, languages)
    response = _serve(cache[key], "text/javascript")
    response.vary.add("Accept-Language")
    return response


@bp.get("/s/<site>/texts/<lang>.json")
def banner_texts(site: str, lang: str) -> Response:
    """One language's banner texts, for a page in a language the script lacks.

    ``?revision=N`` gives that config revision's texts, so a cached script
    shows (and the log records) the texts of the revision it was built from.
    """
    revision = None
    if "revision" in request.args:
        revision = request.args.get("revision", type=int)
        if revision is None or revision < 1:
            raise ApiError(400, "bad_revision", "revision must be a whole number")
    config = sites.current_config(get_db(), site, revision)
    if lang not in config.languages:
        message = f"site {site!r} has no language {lang!r}"
        raise ApiError(404, "unknown_language", message)
    # A given revision never changes: it may be kept for a day.
    texts = config.languages[lang].model_dump(mode="json")
    return public_json(texts, 300 if revision is None else 86400)


@bp.get("/s/<site>/consent.css")
def banner_styles(site: str) -> Response:
    """The banner's styles alone, for pages whose CSP forbids injected styles."""
    cache = current_app.extensions.setdefault("consent_banner", {})
    if "css" not in cache:
        cache["css"] = banner.build_styles(_static())
    return _serve(cache["css"], "text/css")
