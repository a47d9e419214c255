"""Rate limits per client (Flask-Limiter), counted per address or IPv6 /64."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress

from flask import current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from ..domain.privacy import truncate_ip


def client_key() -> str:
    """Rate limits count per client: an IPv4 address, or an IPv6 /64 (one
    household or server has a whole /64 to pick addresses from)."""
    return key_for(get_remote_address())


def key_for(address: str) -> str:
    """:func:`client_key` for a request from ``address``."""
    return _pseudonym(_client(address))


def _client(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            # An IPv4 visitor seen through a dual-stack socket: one address.
            return str(ip.ipv4_mapped)
        return truncate_ip(address, ipv6_prefix=64)
    return address


def _pseudonym(client: str) -> str:
    # Flask-Limiter keeps the key in its storage (a shared store when several
    # servers run) and logs it when a limit is exceeded: a keyed hash counts
    # the same clients without writing down their full addresses.
    secret = str(current_app.config["CONSENT_KEYS"][0]).encode()
    digest = hmac.new(secret, b"rate-limit\0" + client.encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def login_account_key() -> str:
    """Login attempts count per account too, whichever clients send them: the
    email typed, normalised as the login looks it up."""
    email = request.form.get("email", "").strip().lower()
    return _pseudonym("account\0" + email)


# The storefront's public files and its published config have no limit; on
# them the limiter's per-request search for limits (and its check of the
# meta limits, of which we have none) costs about as much as the rest of
# the answer. Recording, verifying, the audit API and the login keep theirs.
UNLIMITED_BLUEPRINTS = frozenset({"files"})
UNLIMITED_ENDPOINTS = frozenset({"consent.site_config"})


def unlimited() -> bool:
    """Whether this request is to a view that no rate limit applies to."""
    return (
        request.blueprint in UNLIMITED_BLUEPRINTS
        or request.endpoint in UNLIMITED_ENDPOINTS
    )


class ConsentLimiter(Limiter):
    """Flask-Limiter, skipping its checks where no limit applies."""

    def _check_request_limit(
        self, callable_name: str | None = None, in_middleware: bool = True
    ) -> None:
        # Switched off, Flask-Limiter would still look for the view's limits
        # and evaluate its meta limits, to find nothing to count.
        if not self.enabled:
            return
        # A view's own limit is checked with in_middleware=False, from its
        # decorator: never skipped.
        if in_middleware and unlimited():
            return
        super()._check_request_limit(callable_name, in_middleware)


limiter = ConsentLimiter(key_func=client_key)


def setting(name: str) -> str:
    """A limit from the app's config, read per request so tests can change it."""
    return str(current_app.config[name])
