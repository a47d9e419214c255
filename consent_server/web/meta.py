"""What operators and developers read: the API description and the health check."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response, jsonify

from ..store.engine import get_db
from . import openapi

bp = Blueprint("meta", __name__)


@bp.get("/openapi.json")
def openapi_document() -> Response:
    """The OpenAPI 3.1 description of every endpoint."""
    return jsonify(openapi.document())


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """Liveness and a database round trip."""
    try:
        get_db().execute(sa.text("SELECT 1")).scalar()
        get_db().rollback()
    except sa.exc.SQLAlchemyError:
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok"), 200
