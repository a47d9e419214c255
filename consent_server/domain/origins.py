"""Which web origins may record consent for a site, as the site's config lists them."""

from __future__ import annotations

import re
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


# An Origin header as browsers send it: scheme, host, and a port only when it
# is not the default, in ASCII, with no leading zeros.
ORIGIN = re.compile(
    r"(https?)://([a-z0-9-]+(?:\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(?::([1-9][0-9]{0,4}))?"
)
SUBDOMAIN = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)*")


def origin_allowed(origin: str, patterns: list[str]) -> bool:
    """Whether a request's ``Origin`` header matches one of the site's patterns.

    Anything that is not an origin a browser would send (other characters,
    a port out of range or written with leading zeros) matches nothing.
    """
    origin = origin.lower()
    parts = ORIGIN.fullmatch(origin)
    if parts is None or (parts[3] is not None and int(parts[3]) > 65535):
        return False
    for pattern in patterns:
        if pattern == origin:
            return True
        if pattern.endswith(":*"):
            base = pattern[:-2]
            if origin == base or (parts[3] and origin == f"{base}:{parts[3]}"):
                return True
        if "//*." in pattern:
            scheme, rest = pattern.split("//*.", 1)
            if origin.startswith(scheme + "//") and origin.endswith("." + rest):
                host = origin[len(scheme) + 2 : -len(rest) - 1]
                if SUBDOMAIN.fullmatch(host):
                    return True
    return False


# What a page address to scan may hold: printable ASCII, no spaces and no
# backslash (which browsers read as a slash, and urlsplit does not).
PAGE_ADDRESS = re.compile(r"[!#-\[\]-~]+")


def page_on(url: str, patterns: list[str]) -> str:
    """The address ``url`` as a scan visits it: one of ``patterns``' origins
    plus a path (and query), without a fragment.

    The config page's scan drives a browser on the server: only the shop's
    own origins, as the site lists them, may be its start, never another host.

    :raise ValueError: saying what is wrong with ``url``.
    """
    url = url.strip()
    wanted = "an address on one of the site's allowed origins, such as"
    example = next((p for p in patterns if "*" not in p), "https://shop.example")
    if not PAGE_ADDRESS.fullmatch(url) or len(url) > MAX_ORIGIN + 2048:
        raise ValueError(
            f"Give {wanted} {example}/ (no spaces; write other characters"
            " percent-encoded)."
        )
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises for a port out of range
    except ValueError:
        raise ValueError(f"Give {wanted} {example}/.") from None
    origin = f"{parts.scheme}://{parts.netloc}".lower()
    if (
        parts.scheme.lower() not in ("http", "https")
        or "@" in parts.netloc
        or not origin_allowed(origin, patterns)
    ):
        raise ValueError(
            f"{origin} is not one of the site's allowed origins"
            f" ({', '.join(patterns)}): give {wanted} {example}/."
        )
    path = parts.path or "/"
    if not path.startswith("/"):
        raise ValueError(f"Give {wanted} {example}/.")
    query = f"?{parts.query}" if parts.query else ""
    return f"{origin}{path}{query}"
