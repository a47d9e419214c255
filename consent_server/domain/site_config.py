"""The site config document: what the config page edits and ``sites import`` reads.

Three models: :class:`SiteConfigDocument` is a document as an editor writes
it (defaults may be left out); :class:`SiteConfig` is the same document
checked and filled in, as it is stored; :class:`PublishedConfig` adds the
revisions the server gave it when it was published. :func:`validate_config`
checks a document with the model, then applies the rules that span fields.
"""

from __future__ import annotations

import hashlib
import re
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from .errors import ConfigError
from .fields import Address, Document, Label, Name, config_error, says
from .languages import (
    LanguageCode,
    LanguageTexts,
    Texts,
    fill_languages,
    fill_new_texts,
)
from .origins import OriginPattern
from .theme import Theme, check_contrast
from .vocabulary import (
    DEFAULT_COOKIE_DAYS,
    MAX_DAYS,
    OPTIONAL,
    Category,
    OptionalCategory,
)

SITE_ID = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
SiteId = Annotated[
    str,
    StringConstraints(pattern=f"^{SITE_ID.pattern}$"),
    says("must be 1-63 lower-case letters, digits or dashes"),
]
CookieName = Annotated[
    str,
    # At most one *, so the banner can match a name by its prefix and suffix.
    StringConstraints(
        pattern=r"^[A-Za-z0-9!#$%&'+\-.^_`|~]{0,200}\*?[A-Za-z0-9!#$%&'+\-.^_`|~]{0,200}$",
        min_length=1,
        max_length=200,
    ),
    says("must be a cookie name with at most one *, which matches any characters"),
]
# A registrable-looking domain the shop's hosts share: "shop.example".
CookieDomain = Annotated[
    str,
    StringConstraints(
        pattern=r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$",
        max_length=253,
    ),
    says("must be a lower-case domain such as shop.example, without a leading dot"),
]
Days = Annotated[
    int,
    Field(ge=1, le=MAX_DAYS),
    says(f"must be a whole number from 1 to {MAX_DAYS}"),
]
# How long a refusal is kept before the banner asks again: six months, so a
# visitor who said no is not asked on every visit, nor never again.
DEFAULT_REFUSAL_DAYS = 182
# A host a service's tags call: "www.googletagmanager.com", or every host under
# a domain: "*.google-analytics.com". Only the host: no scheme, port or path.
HostPattern = Annotated[
    str,
    StringConstraints(
        pattern=r"^(?:\*\.)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
        r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$",
        max_length=253,
    ),
    says(
        "must be a lower-case host name such as www.googletagmanager.com, or"
        " *.google-analytics.com for every host under a domain (no https://,"
        " port or path)"
    ),
]


def _one_each(categories: list[OptionalCategory]) -> list[OptionalCategory]:
    # Kept in one order, so that the same choice always reads the same.
    if len(set(categories)) != len(categories):
        raise PydanticCustomError("invalid_config", "must not repeat a category")
    return [c for c in OPTIONAL if c in categories]


def _http_address(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        raise PydanticCustomError("invalid_config", "is not a valid address") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise PydanticCustomError("invalid_config", "must be an http or https address")
    return url


Categories = Annotated[
    list[
        Annotated[
            OptionalCategory, says("must be one of preferences, analytics, advertising")
        ]
    ],
    Field(max_length=3, description="the optional categories the banner shows"),
    AfterValidator(_one_each),
]
# How many languages a site may have, and how that reads.
ONE_TO_40 = Field(min_length=1, max_length=40)
AT_LEAST_ONE = says("must have at least one language", only="too_short")
AT_MOST_40 = says("must have at most 40 languages", only="too_long")
PolicyUrl = Annotated[Address, AfterValidator(_http_address)]
Origins = Annotated[
    list[OriginPattern],
    Field(min_length=1, max_length=50),
    says("must list at least one origin", only="too_short"),
]


class Service(Document):
    """A service a site uses, and the cookies its tags set (``*`` matches any)."""

    name: Name
    category: Annotated[Category, says("must be one of the five categories")]
    cookies: list[CookieName] = Field(default_factory=list, max_length=50)
    hosts: list[HostPattern] = Field(
        default_factory=list,
        max_length=50,
        description="the hosts the service's tags call (* matches any subdomain)",
    )
    purpose: Label | None = Field(
        default=None,
        description="what the service is for, in one sentence, for the cookie"
        " declaration",
    )


class SiteConfig(Document):
    """A site's config, checked and filled in: what is stored when it is published."""

    site: SiteId
    default_language: str
    languages: Annotated[dict[LanguageCode, Texts], ONE_TO_40, AT_LEAST_ONE, AT_MOST_40]
    categories: Categories
    services: Annotated[list[Service], Field(max_length=100)]
    policy_url: PolicyUrl
    origins: Origins = Field(description="who may record consent for the site")
    cookie_days: Days = Field(
        description="how long a choice that allows something optional is kept"
    )
    # Configs stored before the setting existed take the default too.
    refusal_days: Days = Field(
        default=DEFAULT_REFUSAL_DAYS,
        description="how long a choice that allows nothing optional is kept",
    )
    cookie_domain: CookieDomain | None = Field(
        default=None,
        description="share the consent cookie with every host under this domain",
    )
    google_consent_mode: bool
    gpc: bool = Field(description="honour Global Privacy Control")
    theme: Theme

    @model_validator(mode="before")
    @classmethod
    def _texts_added_since(cls, data: Any) -> Any:
        # A config stored before a text existed gets the shipped one.
        if isinstance(data, dict) and isinstance(data.get("languages"), dict):
            return {**data, "languages": fill_new_texts(data["languages"])}
        return data


def document_hash(document: str | bytes) -> str:
    """SHA-256 (hex) of a published config document as stored and served
    (text as UTF-8): what the consent log records of the config shown."""
    data = document.encode() if isinstance(document, str) else document
    return hashlib.sha256(data).hexdigest()


class PublishedConfig(SiteConfig):
    """A published config, with the revisions the server gave it."""

    revision: int = Field(ge=1, description="the config revision")
    consent_revision: int = Field(
        ge=1, description="bumped when every visitor must be asked again"
    )
    # SHA-256 (hex) of the document as stored when it was published (see
    # ``store.sites``); None for one never stored (a preview).
    _document_hash: str | None = PrivateAttr(default=None)

    @property
    def document_hash(self) -> str | None:
        """SHA-256 (hex) of this revision's document, byte for byte as the
        audit API serves it: what the log's entries bind a choice to."""
        return self._document_hash


class SiteConfigDocument(Document):
    """A site config document as written; left-out settings take their defaults."""

    site: SiteId
    default_language: Annotated[str, says("must be one of the site's languages")]
    languages: Annotated[
        dict[LanguageCode, LanguageTexts], ONE_TO_40, AT_LEAST_ONE, AT_MOST_40
    ]
    categories: Categories = Field(default_factory=lambda: list(OPTIONAL))
    services: Annotated[list[Service], Field(max_length=100)] = Field(
        default_factory=list
    )
    policy_url: PolicyUrl
    origins: Origins
    cookie_days: Days = DEFAULT_COOKIE_DAYS
    refusal_days: Days = DEFAULT_REFUSAL_DAYS
    cookie_domain: CookieDomain | None = None
    google_consent_mode: bool = False
    gpc: bool = True
    theme: Theme = Theme()  # frozen, so one shared default is safe
    # What an export carries; the server sets them again when it publishes.
    revision: Annotated[int, says("must be a whole number")] | None = None
    consent_revision: Annotated[int, says("must be a whole number")] | None = None


def _covers_every_origin(domain: str, origins: list[str]) -> None:
    # A browser refuses a cookie for a domain its page is not under: every
    # origin that records consent must be able to keep it.
    for origin in origins:
        host = (urlsplit(origin.replace(":*", "")).hostname or "").removeprefix("*.")
        if host != domain and not host.endswith("." + domain):
            raise ConfigError(
                "cookie_domain", f"must be a domain that {origin} is under"
            )


def validate_config(doc: object) -> SiteConfig:
    """Check a config document and return it filled in with every default.

    :raise ConfigError: naming the first field that is wrong.
    """
    try:
        given = SiteConfigDocument.model_validate(doc)
    except ValidationError as exc:
        raise config_error(exc) from None
    languages = fill_languages(given.languages, given.categories)
    if given.default_language not in languages:
        raise ConfigError("default_language", "must be one of the site's languages")
    check_contrast(given.theme)
    if given.cookie_domain is not None:
        _covers_every_origin(given.cookie_domain, given.origins)
    checked = {k: v for k, v in given if k not in ("revision", "consent_revision")}
    return SiteConfig(**{**checked, "languages": languages})
