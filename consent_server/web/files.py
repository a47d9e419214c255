"""The banner files a storefront loads: ``consent.js`` with its config built in,
and ``consent.css`` for pages whose CSP forbids injected styles."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app, request

from ..domain.errors import UnknownSite
from ..store import sites
from ..store.engine import get_db
from . import banner

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


def _static() -> Path:
    return Path(current_app.static_folder or "static")


@bp.get("/s/<site>/consent.js")
def banner_script(site: str) -> Response:
    """The banner: code, styles and the site's published config in one response."""
    try:
        config = sites.current_config(get_db(), site)
    except UnknownSite:
        return Response(f"/* consent-server: no site {site!r} */\n", 404,
                        mimetype="text/javascript")  # fmt: skip
    cache = current_app.extensions.setdefault("consent_banner", {})
    key = (site, config.revision, config.consent_revision)
    if key not in cache:
        if len(cache) > MAX_CACHED:
            cache.clear()
        cache[key] = banner.build_script(_static(), config)
    return _serve(cache[key], "text/javascript")


@bp.get("/s/<site>/consent.css")
def banner_styles(site: str) -> Response:
    """The banner's styles alone, for pages whose CSP forbids injected styles."""
    cache = current_app.extensions.setdefault("consent_banner", {})
    if "css" not in cache:
        cache["css"] = banner.build_styles(_static())
    return _serve(cache["css"], "text/css")
