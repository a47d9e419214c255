"""Recording a visitor's choice: the whole consent path in one function.

The web view hands in the decoded body and what the request says about the
visitor; :func:`record` checks the origin and the choice, finds the texts the
visitor was shown, continues their history when their latest token proves
who they are, appends the event and signs the token for their cookie.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Sequence
from typing import Any, Protocol

from ..tokens import Verification, sign_token, verify_token
from .chain import Claim, NewEvent
from .choices import check_choice, read_request
from .errors import NotAllowed
from .ids import new_id
from .languages import texts_hash
from .origins import origin_allowed
from .privacy import truncate_ip
from .site_config import PublishedConfig
from .vocabulary import MAX_ORIGIN, MAX_USER_AGENT, SCAN_TOKEN_MINUTES


class ConsentStore(Protocol):
    """What recording needs from storage."""

    def config(self, site: str, revision: int | None = None) -> PublishedConfig:
        """The site's published config (the newest, or the given revision).

        The newest may come from a cache a few seconds old.

        :raise UnknownSite: if it was never published.
        """

    def newest(self, site: str) -> PublishedConfig:
        """The site's newest published config, read now (never cached).

        :raise UnknownSite: if it was never published.
        """

    def append(self, event: NewEvent, claim: Claim | None = None) -> dict[str, Any]:
        """Append and commit one event; returns the stored row once it is
        committed (possibly together with other events).

        With a claim, the event continues the claimed history if, under the
        log's write lock, ``claim.current`` holds for its latest event (one
        committed together with it and before it counts); else it is
        recorded under ``event.consent_id``.
        """


@dataclasses.dataclass(frozen=True)
class Visitor:
    """What the request tells about who is choosing, as the web floor read it."""

    origin: str | None
    ip: str | None
    user_agent: str
    gpc_header: bool


@dataclasses.dataclass(frozen=True)
class Receipt:
    """What the visitor gets back once their choice is committed."""

    consent_id: str
    event_id: str
    token: str
    recorded_at: dt.datetime
    expires_at: dt.datetime


def record(
    store: ConsentStore,
    body: object,
    visitor: Visitor,
    keys: Sequence[str],
    *,
    scan: bool = False,
) -> Receipt:
    """Check a choice, append it to the log and sign the visitor's token.

    With ``scan`` (the cookie scanner made the choice, as its bearer token
    proved), the event is marked as a scan event and its token lasts
    :data:`SCAN_TOKEN_MINUTES` and verifies as ``scan``. A scan never
    continues a visitor's history, nor a visitor a scan's.

    :raise InvalidInput: the body breaks a rule; nothing is written.
    :raise StaleRevision: the visitor was shown an outdated banner.
    :raise NotAllowed: the origin is not one the site lists.
    :raise UnknownSite: the site was never published.
    """
    request = read_request(body)
    site = request.site
    config = store.config(site)
    if (
        request.revision != config.consent_revision
        or (request.config_revision or 0) > config.revision
    ):
        # The visitor may have been shown a revision published since the
        # cached config was read: the database decides.
        config = store.newest(site)
    origin = visitor.origin
    if (
        not origin
        or len(origin) > MAX_ORIGIN
        or not origin_allowed(origin, config.origins)
    ):
        raise NotAllowed(
            "origin_not_allowed", "this origin may not record consent for the site"
        )
    choice = check_choice(request, config, origin=origin, gpc_header=visitor.gpc_header)

    # The texts the visitor saw: the config revision their script carried,
    # when it is one with the current consent revision; else the newest.
    shown = config
    if choice.config_revision not in (None, config.revision):
        older = store.config(site, choice.config_revision)
        if older.consent_revision == config.consent_revision:
            shown = older

    claim = None
    if choice.previous:
        # Only a token we signed for this site may continue a visitor's
        # history, and only the visitor's latest one: an expired token or one
        # for an older consent revision still proves who the visitor is, a
        # superseded one starts a new visitor. Whether it is superseded is
        # decided by the store under the log's write lock, so that two posts
        # with the same token cannot both continue the history. A scan's
        # token (reason "scan") continues only a scan's, so that no visitor's
        # history holds a scan event.
        found = verify_token(choice.previous, keys)
        if (
            found.id is not None
            and found.site == site
            and (
                found.reason == "scan"
                if scan
                else found.valid or found.reason == "expired"
            )
        ):
            claim = Claim(found.id, functools.partial(_current, found))
    user_agent = visitor.user_agent
    if not user_agent.isprintable():
        user_agent = "".join(c for c in user_agent if c.isprintable())
    row = store.append(
        NewEvent(
            consent_id=new_id(),
            site=site,
            consent_revision=config.consent_revision,
            config_revision=shown.revision,
            choices=choice.choices,
            method=choice.method,
            gpc=choice.gpc,
            language=choice.language,
            texts_hash=texts_hash(shown, choice.language),
            origin=choice.origin,
            path=choice.path,
            ip=truncate_ip(visitor.ip),
            user_agent=user_agent[:MAX_USER_AGENT],
            scan=scan,
            config_hash=shown.document_hash,
        ),
        claim,
    )
    recorded_at: dt.datetime = row["recorded_at"]
    if scan:
        lifetime = dt.timedelta(minutes=SCAN_TOKEN_MINUTES)
    else:
        lifetime = dt.timedelta(days=lifetime_days(config, choice.choices))
    expires_at = recorded_at + lifetime
    token = sign_token(
        keys,
        consent_id=row["consent_id"],
        site=site,
        revision=config.consent_revision,
        choices=choice.choices,
        expires_at=int(expires_at.timestamp()),
        event_id=row["event_id"],
        scan=scan,
    )
    return Receipt(row["consent_id"], row["event_id"], token, recorded_at, expires_at)


def lifetime_days(config: PublishedConfig, choices: dict[str, bool]) -> int:
    """How long a choice is kept: a refusal of every optional category the site
    shows for ``refusal_days``, anything else for ``cookie_days``."""
    if any(choices.get(category) for category in config.categories):
        return config.cookie_days
    return config.refusal_days


def _current(
    found: Verification, latest_event_id: str, latest_recorded_at: dt.datetime
) -> bool:
    return not superseded(found, latest_event_id, latest_recorded_at)


def superseded(
    found: Verification, latest_event_id: str, latest_recorded_at: dt.datetime
) -> bool:
    """Whether the visitor's latest logged event is newer than their token.

    A token naming its event is superseded when that is not the latest event.
    An older token (no event id) is superseded when the latest event was
    recorded more than a second after the token was signed.
    """
    if found.event_id is not None:
        return latest_event_id != found.event_id
    if found.signed_at is None:
        return False
    return latest_recorded_at.timestamp() > found.signed_at + 1
