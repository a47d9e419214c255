"""Checks of single values in a document: texts, flags, objects and lists.

Each raises :class:`ConfigError` naming the field, so a person can find and fix it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .errors import ConfigError, InvalidInput

# Control characters other than newline and tab have no place in a banner.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def text(value: Any, field: str, limit: int) -> str:
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


def flag(doc: Mapping[str, Any], key: str, default: bool) -> bool:
    value = doc.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(key, "must be true or false")
    return value


def mapping(value: Any, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(field, "must be an object")
    return value


def listing(value: Any, field: str, limit: int) -> list[Any]:
    if not isinstance(value, list):
        raise ConfigError(field, "must be a list")
    if len(value) > limit:
        raise ConfigError(field, f"must have at most {limit} entries")
    return value


def check_strings(value: Any, where: str = "body") -> None:
    """Refuse NUL characters and lone surrogates anywhere in decoded JSON."""
    if isinstance(value, str):
        if "\x00" in value:
            raise InvalidInput("invalid_text", f"{where} contains a NUL character")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidInput("invalid_text", f"{where} is not valid UTF-8") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            check_strings(key, where)
            check_strings(item, f"{where}.{key}" if where != "body" else key)
    elif isinstance(value, list):
        for item in value:
            check_strings(item, where)
