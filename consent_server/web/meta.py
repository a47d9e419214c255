"""What operators and developers read: the API description, rendered, and the
health check."""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from flask import Blueprint, Response, jsonify, render_template

from ..store.engine import get_db
from . import openapi
from .errors import RETRY_AFTER

bp = Blueprint("meta", __name__)


@bp.get("/openapi.json")
def openapi_document() -> Response:
    """The OpenAPI 3.1 description of every endpoint."""
    return jsonify(openapi.document())


@bp.get("/docs")
def docs() -> Response:
    """/openapi.json rendered for people by Redoc, every file from our own origin.

    The Redoc bundle is vendored in ``static/vendor/`` (see the README), so a
    plain ``pip install`` serves it and the page calls no CDN.
    """
    nonce = secrets.token_urlsafe(16)
    response = Response(render_template("docs.html", nonce=nonce), mimetype="text/html")
    response.headers["Content-Security-Policy"] = "; ".join(
        (
            "default-src 'none'",
            f"script-src 'nonce-{nonce}'",
            # Redoc styles itself with styled-components, which inserts <style>
            # elements without our nonce and sets style attributes; no script
            # can run from a style, so only this page allows inline styles.
            "style-src 'self' 'unsafe-inline'",
            # Its search index runs in a worker that it starts from a blob.
            "worker-src blob:",
            "img-src 'self' data:",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        )
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """Liveness and a database round trip."""
    try:
        get_db().execute(sa.text("SELECT 1")).scalar()
        get_db().rollback()
    except sa.exc.SQLAlchemyError:
        response = jsonify(status="error", database="unreachable")
        response.headers["Retry-After"] = str(RETRY_AFTER)
        return response, 503
    return jsonify(status="ok", database="ok"), 200
