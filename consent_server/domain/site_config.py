"""The site config document: what the config page edits and ``sites import`` reads.

:func:`validate_config` checks a document and returns it normalised, with
every default filled in; publishing it is the store's job.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from .errors import ConfigError
from .fields import flag, listing, mapping, text
from .languages import check_languages
from .origins import origin_pattern
from .theme import COLOUR, POSITIONS, check_contrast
from .vocabulary import CATEGORIES, DEFAULT_COOKIE_DAYS, MAX_DAYS, OPTIONAL

# Every key of a published config document; the server adds the last two.
CONFIG_KEYS = (
    "site", "default_language", "languages", "categories", "services", "policy_url",
    "origins", "cookie_days", "google_consent_mode", "gpc", "theme",
    "revision", "consent_revision",
)  # fmt: skip

SITE_ID = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
COOKIE_PATTERN = re.compile(r"[A-Za-z0-9!#$%&'+\-.^_`|~*]{1,200}")


def validate_config(doc: Any) -> dict[str, Any]:
    """Check a config document and return it normalised, with defaults filled in.

    :raise ConfigError: naming the first field that is wrong.
    """
    doc = mapping(doc, "document")
    unknown = set(doc) - set(CONFIG_KEYS)
    if unknown:
        raise ConfigError(sorted(unknown)[0], "is not a known setting")
    site = doc.get("site")
    if not isinstance(site, str) or not SITE_ID.fullmatch(site):
        raise ConfigError("site", "must be 1-63 lower-case letters, digits or dashes")

    categories = listing(doc.get("categories", list(OPTIONAL)), "categories", 3)
    for i, cat in enumerate(categories):
        if cat not in OPTIONAL:
            raise ConfigError(
                f"categories[{i}]", "must be one of preferences, analytics, advertising"
            )
    if len(set(categories)) != len(categories):
        raise ConfigError("categories", "must not repeat a category")
    categories = [c for c in OPTIONAL if c in categories]

    languages = check_languages(doc.get("languages"), categories)
    default_language = doc.get("default_language")
    if default_language not in languages:
        raise ConfigError("default_language", "must be one of the site's languages")

    services = []
    for i, svc in enumerate(listing(doc.get("services", []), "services", 100)):
        field = f"services[{i}]"
        svc = mapping(svc, field)
        unknown = set(svc) - {"name", "category", "cookies"}
        if unknown:
            raise ConfigError(f"{field}.{sorted(unknown)[0]}", "is not a known setting")
        name = text(svc.get("name"), f"{field}.name", 100)
        category = svc.get("category")
        if category not in CATEGORIES:
            raise ConfigError(f"{field}.category", "must be one of the five categories")
        cookies = []
        for j, cookie in enumerate(
            listing(svc.get("cookies", []), f"{field}.cookies", 50)
        ):
            if not isinstance(cookie, str) or not COOKIE_PATTERN.fullmatch(cookie):
                raise ConfigError(
                    f"{field}.cookies[{j}]",
                    "must be a cookie name, * matching any characters",
                )
            cookies.append(cookie)
        services.append({"name": name, "category": category, "cookies": cookies})

    policy_url = text(doc.get("policy_url"), "policy_url", 2048)
    try:
        parts = urlsplit(policy_url)
    except ValueError:
        raise ConfigError("policy_url", "is not a valid address") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError("policy_url", "must be an http or https address")

    origins = [
        origin_pattern(o, f"origins[{i}]")
        for i, o in enumerate(listing(doc.get("origins"), "origins", 50))
    ]
    if not origins:
        raise ConfigError("origins", "must list at least one origin")

    cookie_days = doc.get("cookie_days", DEFAULT_COOKIE_DAYS)
    if type(cookie_days) is not int or not 1 <= cookie_days <= MAX_DAYS:
        raise ConfigError("cookie_days", f"must be a whole number from 1 to {MAX_DAYS}")

    theme_in = mapping(doc.get("theme", {}), "theme")
    unknown = set(theme_in) - {"position", "accent", "background", "text", "floating"}
    if unknown:
        raise ConfigError(f"theme.{sorted(unknown)[0]}", "is not a known setting")
    theme = {
        "position": theme_in.get("position", "bottom"),
        "accent": theme_in.get("accent", "#1a56db"),
        "background": theme_in.get("background", "#ffffff"),
        "text": theme_in.get("text", "#111827"),
        # A small "Cookie settings" button after the choice, so withdrawing
        # is always one click away even on pages without a settings link.
        "floating": theme_in.get("floating", True),
    }
    if theme["position"] not in POSITIONS:
        raise ConfigError("theme.position", "must be one of " + ", ".join(POSITIONS))
    if not isinstance(theme["floating"], bool):
        raise ConfigError("theme.floating", "must be true or false")
    for key in ("accent", "background", "text"):
        if not isinstance(theme[key], str) or not COLOUR.fullmatch(theme[key]):
            raise ConfigError(f"theme.{key}", "must be a colour such as #1a56db")
        theme[key] = theme[key].lower()

    check_contrast(theme)

    return {
        "site": site,
        "default_language": default_language,
        "languages": languages,
        "categories": categories,
        "services": services,
        "policy_url": policy_url,
        "origins": origins,
        "cookie_days": cookie_days,
        "google_consent_mode": flag(doc, "google_consent_mode", False),
        "gpc": flag(doc, "gpc", True),
        "theme": theme,
    }
