"""Site config documents: validation, publishing revisions, reading the current one.

A document is what the config page edits and ``sites export``/``sites import``
read and write (SPEC §8). Publishing stores it whole as a new revision; the
server adds ``revision`` and ``consent_revision``.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .db import site_revisions, sites
from .texts import DEFAULT_TEXTS

NECESSARY = ("authentication", "security")
OPTIONAL = ("preferences", "analytics", "advertising")
CATEGORIES = NECESSARY + OPTIONAL
POSITIONS = ("bottom", "top", "center", "bottom-left", "bottom-right")
TEXT_KEYS = tuple(k for k in DEFAULT_TEXTS["en"] if k != "categories")
# The texts SPEC §8 requires a document to give for each of its languages;
# the rest are filled in from the shipped defaults.
REQUIRED_TEXTS = (
    "title",
    "description",
    "accept_all",
    "reject_all",
    "customize",
    "save",
)
LONG_TEXTS = ("description",)
# Every key of a published config document; the server adds the last two.
CONFIG_KEYS = (
    "site", "default_language", "languages", "categories", "services", "policy_url",
    "origins", "cookie_days", "google_consent_mode", "gpc", "theme",
    "revision", "consent_revision",
)  # fmt: skip

SITE_ID = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
LANGUAGE = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")
COOKIE_PATTERN = re.compile(r"[A-Za-z0-9!#$%&'+\-.^_`|~*]{1,200}")
COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
# Control characters other than newline and tab have no place in a banner.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class ConfigError(ValueError):
    """A config document is invalid; ``field`` names where (``languages.de.title``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class UnknownSite(LookupError):
    """No published config exists for this site id."""


def _text(value: Any, field: str, limit: int) -> str:
    if not isinstance(value, str):
        raise ConfigError(field, "must be a string")
    text: str = value.strip()
    if not text:
        raise ConfigError(field, "must not be empty")
    if len(text) > limit:
        raise ConfigError(field, f"must be at most {limit} characters")
    if CONTROL.search(text):
        raise ConfigError(field, "must not contain control characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ConfigError(field, "must be valid Unicode text") from None
    return text


def _bool(doc: Mapping[str, Any], key: str, default: bool) -> bool:
    value = doc.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(key, "must be true or false")
    return value


def _object(value: Any, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(field, "must be an object")
    return value


def _list(value: Any, field: str, limit: int) -> list[Any]:
    if not isinstance(value, list):
        raise ConfigError(field, "must be a list")
    if len(value) > limit:
        raise ConfigError(field, f"must have at most {limit} entries")
    return value


def origin_pattern(value: Any, field: str) -> str:
    """Validate an allowed origin: ``https://shop.example``, ``http://127.0.0.1:*``
    (any port) or ``https://*.shop.example`` (any subdomain)."""
    origin = _text(value, field, 255)
    try:
        parts = urlsplit(
            origin.replace(":*", ":0", 1).replace("//*.", "//wildcard.", 1)
        )
        _ = parts.port  # raises for a port out of range
    except ValueError:
        raise ConfigError(field, "is not a valid origin") from None
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.path
        or parts.query
        or parts.fragment
        or parts.username
        or origin != origin.lower()
    ):
        raise ConfigError(
            field, "must be a lower-case origin such as https://shop.example"
        )
    return origin


def origin_allowed(origin: str, patterns: list[str]) -> bool:
    """Whether a request's ``Origin`` header matches one of the site's patterns."""
    origin = origin.lower()
    for pattern in patterns:
        if pattern == origin:
            return True
        if pattern.endswith(":*"):
            base = pattern[:-2]
            if origin.startswith(base + ":") and origin[len(base) + 1 :].isdigit():
                return True
            if origin == base:
                return True
        if "//*." in pattern:
            scheme, rest = pattern.split("//*.", 1)
            if origin.startswith(scheme + "//") and origin.endswith("." + rest):
                host = origin[len(scheme) + 2 : -len(rest) - 1]
                if host and "/" not in host and ":" not in host:
                    return True
    return False


def _languages(value: Any, categories: list[str]) -> dict[str, Any]:
    value = _object(value, "languages")
    if not value:
        raise ConfigError("languages", "must have at least one language")
    if len(value) > 40:
        raise ConfigError("languages", "must have at most 40 languages")
    result: dict[str, Any] = {}
    for lang, texts in value.items():
        field = f"languages.{lang}"
        if not isinstance(lang, str) or not LANGUAGE.fullmatch(lang) or len(lang) > 35:
            raise ConfigError(field, "is not a language code such as en or pt-BR")
        texts = _object(texts, field)
        base = DEFAULT_TEXTS.get(lang) or DEFAULT_TEXTS.get(lang.split("-")[0])
        out: dict[str, Any] = {}
        for key in TEXT_KEYS:
            if key in texts:
                limit = 1000 if key in LONG_TEXTS else 200
                out[key] = _text(texts[key], f"{field}.{key}", limit)
            elif key in REQUIRED_TEXTS and base is None:
                raise ConfigError(f"{field}.{key}", "is required")
            elif base is not None:
                out[key] = base[key]
            else:
                out[key] = DEFAULT_TEXTS["en"][key]
        unknown = set(texts) - set(TEXT_KEYS) - {"categories"}
        if unknown:
            raise ConfigError(f"{field}.{sorted(unknown)[0]}", "is not a known text")
        if "{service}" not in out["placeholder"]:
            raise ConfigError(f"{field}.placeholder", "must contain {service}")
        given = _object(texts.get("categories", {}), f"{field}.categories")
        out["categories"] = {}
        for cat in (*NECESSARY, *categories):
            cfield = f"{field}.categories.{cat}"
            entry = _object(given.get(cat, {}), cfield)
            default = (base or {}).get("categories", {}).get(cat)  # type: ignore[attr-defined]
            label_desc = {}
            for part in ("label", "description"):
                if part in entry:
                    label_desc[part] = _text(entry[part], f"{cfield}.{part}", 500)
                elif default is not None:
                    label_desc[part] = default[part]
                else:
                    raise ConfigError(f"{cfield}.{part}", "is required")
            out["categories"][cat] = label_desc
        unknown = set(given) - set(CATEGORIES)
        if unknown:
            raise ConfigError(
                f"{field}.categories.{sorted(unknown)[0]}", "is not a category"
            )
        result[lang] = out
    return result


def validate_config(doc: Any) -> dict[str, Any]:
    """Check a config document and return it normalised, with defaults filled in.

    :raise ConfigError: naming the first field that is wrong.
    """
    doc = _object(doc, "document")
    unknown = set(doc) - set(CONFIG_KEYS)
    if unknown:
        raise ConfigError(sorted(unknown)[0], "is not a known setting")
    site = doc.get("site")
    if not isinstance(site, str) or not SITE_ID.fullmatch(site):
        raise ConfigError("site", "must be 1-63 lower-case letters, digits or dashes")

    categories = _list(doc.get("categories", list(OPTIONAL)), "categories", 3)
    for i, cat in enumerate(categories):
        if cat not in OPTIONAL:
            raise ConfigError(
                f"categories[{i}]", "must be one of preferences, analytics, advertising"
            )
    if len(set(categories)) != len(categories):
        raise ConfigError("categories", "must not repeat a category")
    categories = [c for c in OPTIONAL if c in categories]

    languages = _languages(doc.get("languages"), categories)
    default_language = doc.get("default_language")
    if default_language not in languages:
        raise ConfigError("default_language", "must be one of the site's languages")

    services = []
    for i, svc in enumerate(_list(doc.get("services", []), "services", 100)):
        field = f"services[{i}]"
        svc = _object(svc, field)
        unknown = set(svc) - {"name", "category", "cookies"}
        if unknown:
            raise ConfigError(f"{field}.{sorted(unknown)[0]}", "is not a known setting")
        name = _text(svc.get("name"), f"{field}.name", 100)
        category = svc.get("category")
        if category not in CATEGORIES:
            raise ConfigError(f"{field}.category", "must be one of the five categories")
        cookies = []
        for j, cookie in enumerate(
            _list(svc.get("cookies", []), f"{field}.cookies", 50)
        ):
            if not isinstance(cookie, str) or not COOKIE_PATTERN.fullmatch(cookie):
                raise ConfigError(
                    f"{field}.cookies[{j}]",
                    "must be a cookie name, * matching any characters",
                )
            cookies.append(cookie)
        services.append({"name": name, "category": category, "cookies": cookies})

    policy_url = _text(doc.get("policy_url"), "policy_url", 2048)
    try:
        parts = urlsplit(policy_url)
    except ValueError:
        raise ConfigError("policy_url", "is not a valid address") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError("policy_url", "must be an http or https address")

    origins = [
        origin_pattern(o, f"origins[{i}]")
        for i, o in enumerate(_list(doc.get("origins"), "origins", 50))
    ]
    if not origins:
        raise ConfigError("origins", "must list at least one origin")

    cookie_days = doc.get("cookie_days", 180)
    if type(cookie_days) is not int or not 1 <= cookie_days <= 395:
        raise ConfigError("cookie_days", "must be a whole number from 1 to 395")

    theme_in = _object(doc.get("theme", {}), "theme")
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

    _check_contrast(theme)

    return {
        "site": site,
        "default_language": default_language,
        "languages": languages,
        "categories": categories,
        "services": services,
        "policy_url": policy_url,
        "origins": origins,
        "cookie_days": cookie_days,
        "google_consent_mode": _bool(doc, "google_consent_mode", False),
        "gpc": _bool(doc, "gpc", True),
        "theme": theme,
    }


def _luminance(colour: str) -> float:
    # WCAG 2 relative luminance of an #rrggbb colour.
    def channel(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(int(colour[i : i + 2], 16)) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two #rrggbb colours, 1 to 21."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _check_contrast(theme: Mapping[str, Any]) -> None:
    # Banner text must stay readable (WCAG AA, 4.5:1): buttons are white on
    # the accent, links are the accent on the background.
    pairs = (
        ("theme.accent", theme["accent"], "#ffffff", "the white button text"),
        ("theme.accent", theme["accent"], theme["background"], "theme.background"),
        ("theme.text", theme["text"], theme["background"], "theme.background"),
    )
    for field, fg, bg, against in pairs:
        ratio = contrast(fg, bg)
        if ratio < 4.5:
            raise ConfigError(
                field, f"must contrast at least 4.5:1 with {against} (is {ratio:.1f}:1)"
            )


def texts_hash(config: Mapping[str, Any], language: str) -> str:
    """Hash of the banner texts shown in one language, for the consent log."""
    languages = config["languages"]
    texts = (
        languages.get(language)
        or languages.get(language.split("-")[0].lower())
        or languages[config["default_language"]]
    )
    blob = json.dumps(texts, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def current_config(
    conn: Connection, site: str, revision: int | None = None
) -> dict[str, Any]:
    """The site's published config, with ``revision`` and ``consent_revision``;
    the newest one, or the given revision.

    :raise UnknownSite: if the site (or that revision of it) was never published.
    """
    if not SITE_ID.fullmatch(site):
        raise UnknownSite(site)
    query = sa.select(
        site_revisions.c.revision,
        site_revisions.c.consent_revision,
        site_revisions.c.document,
    ).where(site_revisions.c.site == site)
    if revision is not None:
        query = query.where(site_revisions.c.revision == revision)
    with conn.begin():
        row = conn.execute(
            query.order_by(site_revisions.c.revision.desc()).limit(1)
        ).first()
    if row is None:
        raise UnknownSite(site)
    config: dict[str, Any] = json.loads(row.document)
    config["revision"] = row.revision
    config["consent_revision"] = row.consent_revision
    return config


def all_origins(conn: Connection) -> list[str]:
    """Every origin pattern any site currently allows (for CORS preflights)."""
    latest = (
        sa.select(
            site_revisions.c.site, sa.func.max(site_revisions.c.revision).label("r")
        )
        .group_by(site_revisions.c.site)
        .subquery()
    )
    with conn.begin():
        docs = conn.execute(
            sa.select(site_revisions.c.document).join(
                latest,
                sa.and_(
                    site_revisions.c.site == latest.c.site,
                    site_revisions.c.revision == latest.c.r,
                ),
            )
        ).scalars()
        return [o for doc in docs for o in json.loads(doc)["origins"]]


def publish(
    conn: Connection,
    doc: Any,
    *,
    published_by: str,
    ask_again: bool = False,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Validate a document and store it as the site's next revision.

    The consent revision is bumped when ``ask_again`` is set, and also when the
    document shows a category the previous revision did not: consent given
    before cannot cover a category the visitor was never asked about.

    :raise ConfigError: if the document is invalid; nothing is stored then.
    """
    config = validate_config(doc)
    now = now or dt.datetime.now(dt.UTC)
    with conn.begin():
        site = config["site"]
        if (
            conn.execute(sa.select(sites.c.id).where(sites.c.id == site)).first()
            is None
        ):
            conn.execute(sites.insert().values(id=site, created_at=now))
        prev = conn.execute(
            sa.select(site_revisions)
            .where(site_revisions.c.site == site)
            .order_by(site_revisions.c.revision.desc())
            .limit(1)
            .with_for_update()
        ).first()
        if prev is None:
            revision, consent_revision = 1, 1
        else:
            revision = prev.revision + 1
            added = set(config["categories"]) - set(
                json.loads(prev.document)["categories"]
            )
            bump = ask_again or bool(added)
            consent_revision = prev.consent_revision + (1 if bump else 0)
        conn.execute(
            site_revisions.insert().values(
                site=site,
                revision=revision,
                consent_revision=consent_revision,
                document=json.dumps(config, sort_keys=True, ensure_ascii=False),
                published_at=now,
                published_by=published_by,
            )
        )
    result = copy.deepcopy(config)
    result["revision"] = revision
    result["consent_revision"] = consent_revision
    return result


def demo_config() -> dict[str, Any]:
    """The ``demo`` site: every category, our default texts, loopback origins."""
    return {
        "site": "demo",
        "default_language": "en",
        "languages": {lang: {} for lang in DEFAULT_TEXTS},
        "categories": list(OPTIONAL),
        "services": [
            {
                "name": "Google Analytics",
                "category": "analytics",
                "cookies": ["_ga", "_ga_*", "_gid"],
            },
            {
                "name": "Google Ads",
                "category": "advertising",
                "cookies": ["_gcl_*", "IDE"],
            },
            {
                "name": "Meta Pixel",
                "category": "advertising",
                "cookies": ["_fbp", "fr"],
            },
            {
                "name": "YouTube",
                "category": "advertising",
                "cookies": ["VISITOR_INFO1_LIVE", "YSC"],
            },
            {
                "name": "Shop settings",
                "category": "preferences",
                "cookies": ["shop_lang", "shop_currency"],
            },
        ],
        "policy_url": "https://shop.example/privacy",
        "origins": ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"],
        "cookie_days": 180,
        "google_consent_mode": True,
        "gpc": True,
        "theme": {"position": "bottom", "accent": "#1a56db"},
    }
