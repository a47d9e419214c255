"""Checking a visitor's choice against the site's published config.

Plain rules, no HTTP: recording hands in the decoded JSON body and gets back
either a clean :class:`Choice` or an :class:`InvalidInput` (or
:class:`StaleRevision`) that says what is wrong. Nothing is written until a
body has passed every check here.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from .errors import InvalidInput, StaleRevision
from .vocabulary import (
    MAX_LANGUAGE,
    MAX_SITE_ID,
    MAX_TOKEN,
    MAX_URL,
    METHODS,
    NECESSARY,
    OPTIONAL,
)

FIELDS = {
    "site", "previous", "choices", "method", "revision", "config_revision",
    "language", "url", "gpc",
}  # fmt: skip
LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8}){0,4}")


@dataclasses.dataclass(frozen=True)
class Choice:
    """A checked choice, ready to be recorded."""

    site: str
    previous: str | None
    choices: dict[str, bool]
    method: str
    revision: int
    config_revision: int | None
    language: str
    origin: str
    path: str
    gpc: bool


def read_site(body: Any) -> str:
    """The site id named by a body, checked only for shape."""
    if not isinstance(body, dict):
        raise InvalidInput("invalid_body", "the body must be a JSON object")
    site = body.get("site")
    if not isinstance(site, str) or not site or len(site) > MAX_SITE_ID:
        raise InvalidInput("invalid_site", "site must be a site id")
    return site


def _page_path(url: Any, origin: str) -> str:
    """The page's path from ``url``; query string, fragment and ``;params`` dropped.

    The page must be on the origin the request came from (already checked
    against the site's list): what is logged is what was verified.
    """
    if url is None:
        return "/"
    if not isinstance(url, str):
        raise InvalidInput("invalid_url", "url must be a string")
    try:
        parts = urlsplit(url)
        page_origin = f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}".lower()
        _ = parts.port  # raises for a port out of range
    except ValueError:
        raise InvalidInput("invalid_url", "url is not a valid address") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput("invalid_url", "url must be an http or https address")
    if page_origin != origin.lower():
        raise InvalidInput("invalid_url", "url must be on the origin of the request")
    return parts.path.split(";", 1)[0] or "/"


def check_choice(
    body: Any, config: Mapping[str, Any], *, origin: str, gpc_header: bool
) -> Choice:
    """Check a recording body against the site's config.

    With GPC honoured by the site, "accept all" leaves advertising off; only an
    explicit custom choice can switch it on (SPEC §5).

    :raise InvalidInput: for the first problem found.
    """
    site = read_site(body)
    unknown = set(body) - FIELDS
    if unknown:
        raise InvalidInput(
            "unknown_field", f"{sorted(unknown)[0]} is not a known field"
        )

    method = body.get("method")
    if method not in METHODS:
        raise InvalidInput(
            "invalid_method", "method must be one of " + ", ".join(METHODS)
        )

    revision = body.get("revision")
    if type(revision) is not int:
        raise InvalidInput("invalid_revision", "revision must be a whole number")
    if revision != config["consent_revision"]:
        raise StaleRevision(
            "stale_revision",
            f"revision {revision} is not the current consent revision"
            f" ({config['consent_revision']}); reload the banner",
        )

    config_revision = body.get("config_revision")
    if config_revision is not None and (
        type(config_revision) is not int
        or not 1 <= config_revision <= config["revision"]
    ):
        raise InvalidInput(
            "invalid_revision", "config_revision is not a revision shown"
        )

    raw = body.get("choices")
    if not isinstance(raw, dict):
        raise InvalidInput("invalid_choices", "choices must be an object")
    shown = config["categories"]
    for key, value in raw.items():
        if key not in (*NECESSARY, *OPTIONAL):
            raise InvalidInput("unknown_category", f"{key} is not a category")
        if type(value) is not bool:
            raise InvalidInput(
                "invalid_choices", f"choices.{key} must be true or false"
            )
        if key in NECESSARY and value is not True:
            raise InvalidInput(
                "necessary_category",
                f"{key} is strictly necessary and cannot be refused",
            )
        if key in OPTIONAL and key not in shown and value:
            stale = body.get("config_revision")
            if type(stale) is int and stale < config["revision"]:
                # Shown by an older script that the browser still had cached.
                raise StaleRevision(
                    "stale_revision", f"{key} is no longer shown; reload the banner"
                )
            raise InvalidInput("hidden_category", f"{key} is not shown on this site")
    missing = [c for c in shown if c not in raw]
    if missing:
        raise InvalidInput("missing_category", f"choices.{missing[0]} is missing")
    choices = {c: bool(raw.get(c, False)) for c in OPTIONAL}

    gpc = body.get("gpc", False)
    if type(gpc) is not bool:
        raise InvalidInput("invalid_gpc", "gpc must be true or false")
    gpc = gpc or gpc_header
    honour_gpc = gpc and config["gpc"]
    if method == "accept_all":
        expected = {c: c in shown for c in OPTIONAL}
        if honour_gpc:
            expected["advertising"] = False
            choices["advertising"] = False
        if choices != expected:
            raise InvalidInput(
                "method_mismatch", "accept_all must allow every shown category"
            )
    elif method == "reject_all" and any(choices.values()):
        raise InvalidInput(
            "method_mismatch", "reject_all must refuse every optional category"
        )

    previous = body.get("previous")
    if previous is not None and (
        not isinstance(previous, str) or len(previous) > MAX_TOKEN
    ):
        raise InvalidInput("invalid_previous", "previous must be the consent token")

    language = body.get("language")
    if (
        not isinstance(language, str)
        or len(language) > MAX_LANGUAGE
        or not LANGUAGE.fullmatch(language)
    ):
        raise InvalidInput(
            "invalid_language", "language must be a language code such as en or de-CH"
        )

    path = _page_path(body.get("url"), origin)
    return Choice(
        site=site,
        previous=previous,
        choices=choices,
        method=method,
        revision=revision,
        config_revision=config_revision,
        language=language,
        origin=origin.lower(),
        path=path[:MAX_URL],
        gpc=gpc,
    )
