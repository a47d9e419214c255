"""Checking a visitor's choice: the request body's model, then the site's rules.

:class:`ConsentRequest` is the body of ``POST /v1/consent``: the model checks
its shape once (:func:`read_request`), and :func:`check_choice` applies what
depends on the site's published config. Plain rules, no HTTP: each problem is
an :class:`InvalidInput` (or :class:`StaleRevision`) that says what is wrong,
and nothing is written until a body has passed every check here.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
)
from pydantic_core import PydanticCustomError

from .errors import InvalidInput, StaleRevision
from .fields import Document, input_error, says
from .site_config import PublishedConfig
from .vocabulary import (
    MAX_LANGUAGE,
    MAX_SITE_ID,
    MAX_TOKEN,
    MAX_URL,
    METHODS,
    OPTIONAL,
    Method,
)

SHOWN = "required for each category the site shows; may be left out otherwise"


class CategoryChoices(Document):
    """What the visitor allowed; the strictly necessary categories are always on."""

    unknown_key = ("unknown_category", "{unknown} is not a category")
    authentication: Literal[True] = True
    security: Literal[True] = True
    preferences: bool = Field(default=False, description=SHOWN)
    analytics: bool = Field(default=False, description=SHOWN)
    advertising: bool = Field(default=False, description=SHOWN)

    @field_validator("*", mode="wrap")
    @classmethod
    def _choice(
        cls, value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo
    ) -> Any:
        context = {"key": info.field_name}
        if type(value) is not bool:
            raise PydanticCustomError(
                "invalid_choices", "choices.{key} must be true or false", context
            )
        try:
            return handler(value)
        except ValidationError:  # only a strictly necessary one can be refused here
            raise PydanticCustomError(
                "necessary_category",
                "{key} is strictly necessary and cannot be refused",
                context,
            ) from None

    def optional(self) -> dict[str, bool]:
        """The optional categories and whether each was allowed."""
        return {
            "preferences": self.preferences,
            "analytics": self.analytics,
            "advertising": self.advertising,
        }


# Each field of a body words its own errors, with the code a program reads.
SiteName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_SITE_ID),
    says("site must be a site id", code="invalid_site"),
]
Previous = Annotated[
    str,
    StringConstraints(max_length=MAX_TOKEN),
    says("previous must be the consent token", code="invalid_previous"),
]
Sent = Annotated[
    CategoryChoices, says("choices must be an object", code="invalid_choices")
]
HowChosen = Annotated[
    Method, says("method must be one of " + ", ".join(METHODS), code="invalid_method")
]
Revision = Annotated[
    int, says("revision must be a whole number", code="invalid_revision")
]
ConfigRevision = Annotated[
    int,
    Field(ge=1),
    says("config_revision is not a revision shown", code="invalid_revision"),
]
Language = Annotated[
    str,
    StringConstraints(
        max_length=MAX_LANGUAGE, pattern=r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8}){0,4}$"
    ),
    says(
        "language must be a language code such as en or de-CH",
        code="invalid_language",
    ),
]
Page = Annotated[str, says("url must be a string", code="invalid_url")]
Gpc = Annotated[bool, says("gpc must be true or false", code="invalid_gpc")]


class ConsentRequest(Document):
    """The body of ``POST /v1/consent``: one visitor's choice."""

    unknown_key = ("unknown_field", "{unknown} is not a known field")
    site: SiteName
    previous: Previous | None = Field(
        default=None,
        description="the visitor's current token; continues their history only"
        " if it verifies",
    )
    choices: Sent
    method: HowChosen
    revision: Revision = Field(description="the consent revision of the banner shown")
    config_revision: ConfigRevision | None = Field(
        default=None, description="the config revision of the banner shown"
    )
    language: Language
    url: Page | None = Field(
        default=None, description="the page; only its origin and path are kept"
    )
    gpc: Gpc = Field(
        default=False, description="Global Privacy Control; Sec-GPC: 1 counts too"
    )


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


def read_request(body: object) -> ConsentRequest:
    """Check the shape of a recording body, once.

    :raise InvalidInput: for the first problem found.
    """
    try:
        return ConsentRequest.model_validate(body)
    except ValidationError as exc:
        raise input_error(exc) from None


def _page_path(url: str | None, origin: str) -> str:
    """The page's path from ``url``; query string, fragment and ``;params`` dropped.

    The page must be on the origin the request came from (already checked
    against the site's list): what is logged is what was verified.
    """
    if url is None:
        return "/"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        # A browser's location.href never holds them; the log must not either.
        raise InvalidInput("invalid_url", "url is not a valid address")
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
    body: ConsentRequest, config: PublishedConfig, *, origin: str, gpc_header: bool
) -> Choice:
    """Check a recording body against the site's config.

    With GPC honoured by the site, "accept all" leaves advertising off; only an
    explicit custom choice can switch it on (SPEC §5). A withdrawal must refuse
    at least one optional category the site shows (so a site that shows none
    has nothing to withdraw).

    :raise InvalidInput: for the first problem found.
    :raise StaleRevision: the visitor was shown a banner no longer current.
    """
    if body.revision != config.consent_revision:
        raise StaleRevision(
            "stale_revision",
            f"revision {body.revision} is not the current consent revision"
            f" ({config.consent_revision}); reload the banner",
        )
    if body.config_revision is not None and body.config_revision > config.revision:
        raise InvalidInput(
            "invalid_revision", "config_revision is not a revision shown"
        )

    shown = config.categories
    choices = body.choices.optional()
    for key, value in choices.items():
        if key not in shown and value:
            stale = body.config_revision
            if stale is not None and stale < config.revision:
                # Shown by an older script that the browser still had cached.
                raise StaleRevision(
                    "stale_revision", f"{key} is no longer shown; reload the banner"
                )
            raise InvalidInput("hidden_category", f"{key} is not shown on this site")
    missing = [c for c in shown if c not in body.choices.model_fields_set]
    if missing:
        raise InvalidInput("missing_category", f"choices.{missing[0]} is missing")

    gpc = body.gpc or gpc_header
    if body.method == "accept_all":
        expected = {c: c in shown for c in OPTIONAL}
        if gpc and config.gpc:
            expected["advertising"] = False
            choices["advertising"] = False
        if choices != expected:
            raise InvalidInput(
                "method_mismatch", "accept_all must allow every shown category"
            )
    elif body.method == "reject_all" and any(choices.values()):
        raise InvalidInput(
            "method_mismatch", "reject_all must refuse every optional category"
        )
    elif body.method == "withdraw" and all(choices[c] for c in shown):
        # Granting every category the visitor could switch off takes nothing
        # back: logged as a withdrawal it would mislead whoever reads the log.
        raise InvalidInput(
            "method_mismatch",
            "withdraw must refuse at least one optional category the site shows",
        )

    path = _page_path(body.url, origin)
    return Choice(
        site=body.site,
        previous=body.previous,
        choices=choices,
        method=body.method,
        revision=body.revision,
        config_revision=body.config_revision,
        language=body.language,
        origin=origin.lower(),
        path=path[:MAX_URL],
        gpc=gpc,
    )
