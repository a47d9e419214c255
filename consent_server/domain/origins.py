"""Which web origins may record consent for a site, as the site's config lists them."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator, TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError

from .fields import config_error, strip, text
from .vocabulary import MAX_ORIGIN


def _origin(origin: str) -> str:
    try:
        parts = urlsplit(
            origin.replace(":*", ":0", 1).replace("//*.", "//wildcard.", 1)
        )
        _ = parts.port  # raises for a port out of range
    except ValueError:
        raise PydanticCustomError("invalid_config", "is not a valid origin") from None
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.path
        or parts.query
        or parts.fragment
        or parts.username
        or origin != origin.lower()
    ):
        raise PydanticCustomError(
            "invalid_config",
            "must be a lower-case origin such as https://shop.example",
        )
    return origin


# An allowed origin: ``https://shop.example``, ``http://127.0.0.1:*`` (any
# port) or ``https://*.shop.example`` (any subdomain).
OriginPattern = Annotated[
    str, text(MAX_ORIGIN), BeforeValidator(strip), AfterValidator(_origin)
]
_ORIGIN: TypeAdapter[str] = TypeAdapter(OriginPattern)


def origin_pattern(value: object, field: str) -> str:
    """Validate one allowed origin on its own.

    :raise ConfigError: naming ``field``.
    """
    try:
        return _ORIGIN.validate_python(value, strict=True)
    except ValidationError as exc:
        raise config_error(exc, field) from None


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
