"""The storefront API: the published config, recording a choice, verifying a token.

Every error here is JSON ``{"error": {"code", "message"}}``; nothing is
written unless the whole body passed its checks. The views only translate:
the rules live in :mod:`consent_server.domain.recording`.
"""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, current_app, jsonify, request

from ..domain.errors import UnknownSite
from ..domain.recording import Visitor, record
from ..store import sites
from ..store.engine import get_db
from ..tokens import verify_token
from .body import json_body
from .errors import ApiError
from .limits import limiter, setting

bp = Blueprint("consent", __name__)


@bp.get("/v1/sites/<site>/config")
def site_config(site: str) -> Response:
    """The site's published config as JSON."""
    response = jsonify(sites.current_config(get_db(), site))
    response.set_etag(hashlib.sha256(response.get_data()).hexdigest()[:32])
    response.cache_control.public = True
    response.cache_control.max_age = 60
    response.make_conditional(request)
    return response


@bp.post("/v1/consent")
@limiter.limit(lambda: setting("RATELIMIT_CONSENT"))
def record_consent() -> tuple[Response, int]:
    """Record a visitor's choice; 201 only once the log row is committed."""
    visitor = Visitor(
        origin=request.headers.get("Origin"),
        ip=request.remote_addr,
        user_agent=request.user_agent.string,
        gpc_header=request.headers.get("Sec-GPC") == "1",
    )
    receipt = record(
        sites.SqlConsentStore(get_db()),
        json_body(),
        visitor,
        current_app.config["CONSENT_KEYS"],
    )
    response = jsonify(
        id=receipt.consent_id,
        token=receipt.token,
        recorded_at=receipt.recorded_at.isoformat(),
        expires_at=receipt.expires_at.isoformat(),
    )
    response.headers["Cache-Control"] = "no-store"
    return response, 201


@bp.post("/v1/consent/verify")
@limiter.limit(lambda: setting("RATELIMIT_VERIFY"))
def verify_consent() -> Response:
    """Tell a storefront backend whether a consent token is genuine and current."""
    body = json_body()
    if not isinstance(body, dict) or "token" not in body:
        raise ApiError(400, "invalid_body", 'send {"token": "..."}')
    site = body.get("site")
    if site is not None and not isinstance(site, str):
        raise ApiError(400, "invalid_site", "site must be a site id")
    keys = current_app.config["CONSENT_KEYS"]
    result = verify_token(body["token"], keys, site=site)
    if result.valid and result.site is not None:
        try:
            current = sites.current_config(get_db(), result.site)["consent_revision"]
        except UnknownSite:
            current = None
        result = verify_token(body["token"], keys, site=site, consent_revision=current)
    response = jsonify(result.as_dict())
    response.headers["Cache-Control"] = "no-store"
    return response
