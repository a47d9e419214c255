"""The service's front page: what a newcomer meets at ``/``."""

from __future__ import annotations

import functools
from importlib import metadata

from flask import Blueprint, Response, current_app, render_template, request

from . import public

bp = Blueprint("home", __name__)

# Our pages load nothing but our own files and run no script at all.
PAGE_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none';"
    " form-action 'none'; frame-ancestors 'none'"
)


@functools.cache
def _version() -> str | None:
    try:
        return metadata.version("consent-server")
    except metadata.PackageNotFoundError:  # a checkout that was never installed
        return None


def _storefront_url() -> str | None:
    """The demo storefront's address, only when ``consent-server demo`` runs one."""
    port = current_app.config.get("DEMO_STOREFRONT_PORT")
    if not (current_app.config["DEMO"] and port):
        return None
    # The same host name the visitor used, the storefront's port (the demo
    # storefront finds the service the same way).
    host = request.host.rsplit(":", 1)[0]
    return f"{request.scheme}://{host}:{int(port)}/"


def _has_page(path: str) -> bool:
    return any(rule.rule == path for rule in current_app.url_map.iter_rules())


@bp.get("/")
def index() -> Response:
    """What this service is, and where to go next."""
    body = render_template(
        "home.html",
        version=_version(),
        storefront_url=_storefront_url(),
        # The config page is linked once it exists; until then the page says so.
        admin_ready=_has_page("/admin/"),
        service_url=public.service_url(),
    )
    response = Response(body, mimetype="text/html")
    response.headers["Content-Security-Policy"] = PAGE_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
