"""Checking the operator's settings once, at start-up, each failure in one line.

Environment variables arrive through Flask's ``from_prefixed_env``, which
reads a value as JSON when it can (``CONSENT_PROXY_COUNT=1`` is the number
1, ``CONSENT_DATABASE_URL=123`` a number too), so every setting is checked
for its kind here rather than failing later inside a request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import limits
from limits.errors import ConfigurationError
from limits.storage import storage_from_string

from ..scan.egress import networks

RATE_LIMITS = (
    "RATELIMIT_CONSENT",
    "RATELIMIT_VERIFY",
    "RATELIMIT_AUDIT",
    "RATELIMIT_LOGIN",
    "RATELIMIT_LOGIN_ACCOUNT",
)
# Two years, the longest max-age browsers' preload lists ask for.
MAX_HSTS_SECONDS = 2 * 365 * 24 * 3600


class BadSetting(RuntimeError):
    """A setting cannot be used; the message names it as the operator wrote it."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"CONSENT_{name}: {reason}")


def check(config: Mapping[str, Any]) -> None:
    """Refuse settings the service cannot run with.

    :raise BadSetting: naming the first setting that is wrong.
    """
    url = config["DATABASE_URL"]
    if url is not None and not isinstance(url, str):
        raise BadSetting("DATABASE_URL", f"{url!r} is not a database URL")
    proxies = config["PROXY_COUNT"]
    if type(proxies) is not int or not 0 <= proxies <= 10:
        raise BadSetting("PROXY_COUNT", "must be a whole number of proxies, 0 to 10")
    hsts = config["HSTS_SECONDS"]
    if type(hsts) is not int or not 0 <= hsts <= MAX_HSTS_SECONDS:
        raise BadSetting(
            "HSTS_SECONDS",
            f"must be a whole number of seconds, 0 (off) to {MAX_HSTS_SECONDS}",
        )
    secure = config["SESSION_SECURE"]
    if secure not in ("auto", True, False):
        raise BadSetting(
            "SESSION_SECURE",
            "must be auto (Secure when the request came over https), true or false",
        )
    if type(config["LOG_PUBLIC"]) is not bool:
        raise BadSetting(
            "LOG_PUBLIC", "must be true (anyone may follow the log) or false"
        )
    _check_witnesses(config["LOG_WITNESSES"])
    interval = config["CHECKPOINT_INTERVAL"]
    if type(interval) not in (int, float) or not 0 < interval <= 60:
        raise BadSetting(
            "CHECKPOINT_INTERVAL", "must be a number of seconds, more than 0, up to 60"
        )
    for name in ("SCAN_CHROMIUM", "SCAN_CHROMEDRIVER"):
        if not isinstance(config[name], str):
            raise BadSetting(name, "must be the path of a program")
    arguments = config["SCAN_CHROMIUM_ARGS"]
    if not isinstance(arguments, list) or not all(
        isinstance(a, str) for a in arguments
    ):
        raise BadSetting(
            "SCAN_CHROMIUM_ARGS", 'must be a JSON list of switches, such as ["--x"]'
        )
    scan = config["SCAN_SECONDS"]
    if type(scan) is not int or not 10 <= scan <= 3600:
        raise BadSetting(
            "SCAN_SECONDS", "must be a whole number of seconds, 10 to 3600"
        )
    at_once = config["SCAN_CONCURRENCY"]
    if type(at_once) is not int or not 1 <= at_once <= 16:
        raise BadSetting(
            "SCAN_CONCURRENCY", "must be a whole number of scans at once, 1 to 16"
        )
    _check_networks(config["SCAN_NETWORKS"])
    _check_public_url(config["PUBLIC_URL"])
    for name in ("LOG_KEY", "LOG_KEY_FILE"):
        if config[name] is not None and not isinstance(config[name], str):
            raise BadSetting(name, "must be text")
    for name in RATE_LIMITS:
        limit = config[name]
        try:
            limits.parse_many(str(limit))
        except ValueError:
            raise BadSetting(
                name, f"{limit!r} is not a rate limit such as '60 per minute'"
            ) from None
    if config["RATELIMIT_ENABLED"]:
        try:
            storage_from_string(str(config["RATELIMIT_STORAGE_URI"]))
        except ConfigurationError as exc:
            raise BadSetting("RATELIMIT_STORAGE_URI", str(exc)) from None


def _check_networks(value: object) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadSetting(
            "SCAN_NETWORKS", 'must be a JSON list of networks, such as ["10.0.0.0/8"]'
        )
    try:
        networks(value)
    except ValueError as exc:
        raise BadSetting("SCAN_NETWORKS", str(exc)) from None


def _check_public_url(value: object) -> None:
    if value is None:
        return
    problem = "must be this service's address, such as https://consent.shop.example"
    if not isinstance(value, str):
        raise BadSetting("PUBLIC_URL", problem)
    try:
        parts = urlsplit(value)
        _ = parts.port
    except ValueError:
        raise BadSetting("PUBLIC_URL", problem) from None
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or parts.username is not None
        or parts.password is not None
    ):
        raise BadSetting("PUBLIC_URL", problem + " (no path)")


def _check_witnesses(keys: Any) -> None:
    from ..domain.cosignature import Witness
    from ..domain.note import BadKey

    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise BadSetting(
            "LOG_WITNESSES", "must be a JSON list of witness keys (NAME+KEYID+KEY)"
        )
    for key in keys:
        try:
            Witness.from_key(key)
        except BadKey as exc:
            raise BadSetting("LOG_WITNESSES", f"{key!r}: {exc.message}") from None
