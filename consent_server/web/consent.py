"""The storefront API: the published config, recording a choice, verifying a token.

Every error here is JSON ``{"error": {"code", "message"}}``; nothing is
written unless the whole body passed its checks. The views only translate:
the rules live in :mod:`consent_server.domain.recording`.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from flask import Blueprint, Response, current_app, jsonify, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError
from sqlalchemy.engine import Engine

from ..domain.chain import Claim, NewEvent
from ..domain.errors import UnknownSite
from ..domain.fields import input_error, says
from ..domain.recording import Visitor, record, superseded
from ..domain.site_config import PublishedConfig
from ..store import log, sites
from ..store.engine import get_db, get_engine
from ..tokens import verify_token
from . import fast, replay, scan_auth
from .body import json_body
from .files import cached_json, published
from .limits import limiter, setting
from .transparency import after_append

bp = Blueprint("consent", __name__)

# The endpoints the fast path answers (see :mod:`.fast`).
RECORDED = "consent.record_consent"
VERIFIED = "consent.verify_consent"


class VerifyRequest(BaseModel):
    """The body of ``POST /v1/consent/verify``; other keys are ignored."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)
    # Anything at all: what is not a token we signed is answered as malformed.
    token: Any = Field(description="the consent cookie's value")
    site: Annotated[str, says("site must be a site id", code="invalid_site")] | None = (
        Field(default=None, description="the site the token must be for")
    )

    @model_validator(mode="before")
    @classmethod
    def _has_token(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "token" not in data:
            raise PydanticCustomError("invalid_body", 'send {"token": "..."}')
        return data


@bp.get("/v1/sites/<site>/config")
def site_config(site: str) -> Response:
    """The site's published config as JSON."""
    config = published(site)
    replay.replayable(site, config)
    # Which origins may record consent is the operator's business, not the public's.
    return cached_json(
        ("config", site, config.revision),
        lambda: config.model_dump(mode="json", exclude={"origins"}),
        60,
    )


@dataclasses.dataclass(frozen=True)
class CachedStore:
    """Recording's storage, with the newest config from this process's cache,
    so that a first choice makes no database round trip but its commit.

    It takes the request's connection only to read (an older revision, or
    the newest now): a request that only appends holds none, and its commit
    is made on the connection of the process's group commit.
    """

    engine: Engine

    def config(self, site: str, revision: int | None = None) -> PublishedConfig:
        """The cached newest config, or the given revision from the database."""
        if revision is None:
            return published(site)
        return sites.current_config(get_db(), site, revision)

    def newest(self, site: str) -> PublishedConfig:
        """The newest config, read from the database now."""
        return sites.current_config(get_db(), site)

    def append(self, event: NewEvent, claim: Claim | None = None) -> dict[str, Any]:
        """Append and commit one event with those of this process's other
        threads; see :class:`consent_server.store.log.GroupCommit`."""
        return log.group_commit(self.engine).append(event, claim)


@bp.post("/v1/consent")
@limiter.limit(lambda: setting("RATELIMIT_CONSENT"), exempt_when=fast.counted)
def record_consent() -> tuple[Response, int]:
    """Record a visitor's choice; 201 only once the log row is committed."""
    fast.raise_held()
    # Only a request with the header costs a look at the tokens: the
    # cookie scanner's (see scan_auth), or a 401/403 before anything is written.
    authorization = request.headers.get("Authorization")
    body = json_body()
    scan = authorization is not None and scan_auth.is_scan(
        authorization, body.get("site") if isinstance(body, dict) else None
    )
    visitor = Visitor(
        origin=request.headers.get("Origin"),
        ip=request.remote_addr,
        user_agent=request.user_agent.string,
        gpc_header=request.headers.get("Sec-GPC") == "1",
    )
    store = CachedStore(get_engine())
    response = jsonify(recorded(store, body, visitor, scan=scan))
    response.headers["Cache-Control"] = "no-store"
    fast.learn(RECORDED)
    return response, 201


def recorded(
    store: CachedStore, body: Any, visitor: Visitor, scan: bool = False
) -> dict[str, Any]:
    """Record the choice in ``body``; the answer's JSON once it is committed.

    The view and the fast path (:mod:`.fast`) both answer through this; only
    the view sees a scan's bearer token (the fast path leaves those to it).
    """
    keys = current_app.config["CONSENT_KEYS"]
    receipt = record(store, body, visitor, keys, scan=scan)
    # A checkpoint, if this process is due to sign one (once a second at most).
    after_append()
    return {
        "id": receipt.consent_id,
        "event_id": receipt.event_id,
        "token": receipt.token,
        "recorded_at": receipt.recorded_at.isoformat(),
        "expires_at": receipt.expires_at.isoformat(),
    }


@bp.post("/v1/consent/verify")
@limiter.limit(lambda: setting("RATELIMIT_VERIFY"), exempt_when=fast.counted)
def verify_consent() -> Response:
    """Tell a storefront backend whether a consent token is genuine and current."""
    fast.raise_held()
    response = jsonify(verified(json_body()))
    response.headers["Cache-Control"] = "no-store"
    fast.learn(VERIFIED)
    return response


def verified(body: Any) -> dict[str, Any]:
    """The verify answer for ``body``; the view and the fast path share it."""
    try:
        checked = VerifyRequest.model_validate(body)
    except ValidationError as exc:
        raise input_error(exc) from None
    keys = current_app.config["CONSENT_KEYS"]
    result = verify_token(checked.token, keys, site=checked.site)
    if result.valid and result.site is not None:
        # The last check verify_token would make given the consent revision,
        # made here so the signatures are checked once; the config comes
        # from this process's cache.
        try:
            current: int | None = published(result.site).consent_revision
        except UnknownSite:
            current = None
        if current is not None and result.revision != current:
            result = dataclasses.replace(result, valid=False, reason="old_revision")
    if result.id is not None and result.reason in (None, "expired", "old_revision"):
        # Superseded wins over expired and old_revision: the visitor has
        # since made a newer choice, which is what the backend must act on.
        # Not over scan: the cookie scanner's token is nobody's consent.
        latest = log.latest_event(get_db(), result.id)
        if latest is not None and superseded(
            result, latest["event_id"], latest["recorded_at"]
        ):
            result = dataclasses.replace(result, valid=False, reason="superseded")
    return result.as_dict()
