"""The storefront-facing HTTP API: site config, recording a choice, verifying a token.

SPEC §6. Every error here is JSON ``{"error": {"code", "message"}}``; nothing is
written unless the whole body passed its checks.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import json
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, g, jsonify, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from . import banner, log, openapi, sites
from .choices import check_choice, check_strings, read_site
from .db import get_db
from .errors import ApiError
from .tokens import sign_token, verify_token


def client_key() -> str:
    """Rate limits count per client: an IPv4 address, or an IPv6 /64 (one
    household or server has a whole /64 to pick addresses from)."""
    address = get_remote_address()
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            # An IPv4 visitor seen through a dual-stack socket: one address.
            return str(ip.ipv4_mapped)
        return log.truncate_ip(address, ipv6_prefix=64)
    return address


bp = Blueprint("public", __name__)
limiter = Limiter(key_func=client_key)

MAX_BODY = 4096
# How long a server trusts its list of every site's allowed origins, used to
# answer CORS preflights (which carry no body, so no site id).
ORIGINS_TTL = 30.0


def _json_body() -> Any:
    """Read and decode a small JSON request body.

    :raise ApiError: 415 unless JSON, 413 if over the limit, 400 if it is not
        UTF-8 or not JSON.
    """
    if request.mimetype != "application/json":
        raise ApiError(
            415, "unsupported_media_type", "send the body as application/json"
        )
    if (request.content_length or 0) > MAX_BODY:
        raise ApiError(413, "too_large", f"the body must be at most {MAX_BODY} bytes")
    raw = request.stream.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        raise ApiError(413, "too_large", f"the body must be at most {MAX_BODY} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_utf8", "the body is not valid UTF-8") from None
    try:
        body = json.loads(text)
    except (ValueError, RecursionError):
        raise ApiError(400, "invalid_json", "the body is not valid JSON") from None
    try:
        check_strings(body)
    except RecursionError:
        raise ApiError(400, "invalid_json", "the body is nested too deeply") from None
    return body


def _site_config(site: str) -> dict[str, Any]:
    try:
        return sites.current_config(get_db(), site)
    except sites.UnknownSite:
        raise ApiError(404, "unknown_site", f"there is no site {site!r}") from None


def _known_origins() -> list[str]:
    cache = current_app.extensions.setdefault("consent_origins", {})
    if cache.get("until", 0.0) < time.monotonic():
        cache["origins"] = sites.all_origins(get_db())
        cache["until"] = time.monotonic() + ORIGINS_TTL
    origins: list[str] = cache["origins"]
    return origins


@bp.after_request
def _cors(response: Response) -> Response:
    if request.path == "/v1/consent":
        origin = request.headers.get("Origin")
        if origin and (
            g.get("origin_ok") or sites.origin_allowed(origin, _known_origins())
        ):
            response.headers["Access-Control-Allow-Origin"] = origin
        response.vary.add("Origin")
    elif request.path.startswith("/v1/sites/"):
        # The published config is public: any page may read it.
        response.headers["Access-Control-Allow-Origin"] = "*"
    return response


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
    response.headers["Access-Control-Allow-Origin"] = "*"
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
    except sites.UnknownSite:
        return Response(f"/* consent-server: no site {site!r} */\n", 404,
                        mimetype="text/javascript")  # fmt: skip
    cache = current_app.extensions.setdefault("consent_banner", {})
    key = (site, config["revision"], config["consent_revision"])
    if key not in cache:
        if len(cache) > 1000:
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


@bp.get("/openapi.json")
def openapi_document() -> Response:
    """The OpenAPI 3.1 description of every endpoint."""
    return jsonify(openapi.SPEC)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """Liveness and a database round trip."""
    try:
        get_db().execute(sa.text("SELECT 1")).scalar()
        get_db().rollback()
    except sa.exc.SQLAlchemyError:
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok"), 200


@bp.get("/v1/sites/<site>/config")
def site_config(site: str) -> Response:
    """The site's published config as JSON."""
    config = _site_config(site)
    response = jsonify(config)
    response.set_etag(hashlib.sha256(response.get_data()).hexdigest()[:32])
    response.cache_control.public = True
    response.cache_control.max_age = 60
    response.make_conditional(request)
    return response


@bp.route("/v1/consent", methods=["OPTIONS"])
def consent_preflight() -> Response:
    """Answer the browser's CORS preflight for recording a choice."""
    origin = request.headers.get("Origin", "")
    if not sites.origin_allowed(origin, _known_origins()):
        raise ApiError(403, "origin_not_allowed", "this origin may not record consent")
    response = Response(status=204)
    response.headers["Access-Control-Allow-Methods"] = "POST"
    response.headers["Access-Control-Allow-Headers"] = "Content-Type"
    response.headers["Access-Control-Max-Age"] = "86400"
    return response


@bp.post("/v1/consent")
@limiter.limit(lambda: str(current_app.config["RATELIMIT_CONSENT"]))
def record_consent() -> tuple[Response, int]:
    """Record a visitor's choice; 201 only once the log row is committed."""
    body = _json_body()
    site = read_site(body)
    config = _site_config(site)

    origin = request.headers.get("Origin")
    if (
        not origin
        or len(origin) > 255
        or not sites.origin_allowed(origin, config["origins"])
    ):
        raise ApiError(
            403, "origin_not_allowed", "this origin may not record consent for the site"
        )
    g.origin_ok = True

    choice = check_choice(
        body, config, origin=origin, gpc_header=request.headers.get("Sec-GPC") == "1"
    )

    # The texts the visitor saw: the config revision their script carried,
    # when it is one with the current consent revision; else the newest.
    shown = config
    if choice.config_revision not in (None, config["revision"]):
        older = sites.current_config(get_db(), site, choice.config_revision)
        if older["consent_revision"] == config["consent_revision"]:
            shown = older

    keys = current_app.config["CONSENT_KEYS"]
    consent_id = None
    if choice.previous:
        # Only a token we signed for this site may continue a visitor's history.
        # An expired or superseded one still proves who the visitor is.
        found = verify_token(choice.previous, keys)
        if found.site == site and (found.valid or found.reason == "expired"):
            consent_id = found.id
    user_agent = "".join(c for c in request.user_agent.string if c.isprintable())
    row = log.append(
        get_db(),
        log.NewEvent(
            consent_id=consent_id or str(uuid.uuid4()),
            site=site,
            consent_revision=config["consent_revision"],
            config_revision=shown["revision"],
            choices=choice.choices,
            method=choice.method,
            gpc=choice.gpc,
            language=choice.language,
            texts_hash=sites.texts_hash(shown, choice.language),
            origin=choice.origin,
            path=choice.path,
            ip=log.truncate_ip(request.remote_addr),
            user_agent=user_agent[:512],
        ),
    )
    recorded_at: dt.datetime = row["recorded_at"]
    expires_at = recorded_at + dt.timedelta(days=config["cookie_days"])
    token = sign_token(
        keys,
        consent_id=row["consent_id"],
        site=site,
        revision=config["consent_revision"],
        choices=choice.choices,
        expires_at=int(expires_at.timestamp()),
    )
    response = jsonify(
        id=row["consent_id"],
        token=token,
        recorded_at=recorded_at.isoformat(),
        expires_at=expires_at.isoformat(),
    )
    response.headers["Cache-Control"] = "no-store"
    return response, 201


@bp.post("/v1/consent/verify")
@limiter.limit(lambda: str(current_app.config["RATELIMIT_VERIFY"]))
def verify_consent() -> Response:
    """Tell a storefront backend whether a consent token is genuine and current."""
    body = _json_body()
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
        except sites.UnknownSite:
            current = None
        result = verify_token(body["token"], keys, site=site, consent_revision=current)
    response = jsonify(result.as_dict())
    response.headers["Cache-Control"] = "no-store"
    return response
