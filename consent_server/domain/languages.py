"""The banner's texts per language: filled in from our defaults, checked, hashed."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from .errors import ConfigError
from .fields import mapping, text
from .texts import DEFAULT_TEXTS
from .vocabulary import CATEGORIES, MAX_LANGUAGE, NECESSARY

TEXT_KEYS = tuple(k for k in DEFAULT_TEXTS["en"] if k != "categories")
# The texts a document must give for each of its languages that we ship no
# defaults for; the rest are filled in from the shipped defaults.
REQUIRED_TEXTS = (
    "title",
    "description",
    "accept_all",
    "reject_all",
    "customize",
    "save",
)
LONG_TEXTS = ("description",)
LANGUAGE = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")


def check_languages(value: Any, categories: list[str]) -> dict[str, Any]:
    value = mapping(value, "languages")
    if not value:
        raise ConfigError("languages", "must have at least one language")
    if len(value) > 40:
        raise ConfigError("languages", "must have at most 40 languages")
    result: dict[str, Any] = {}
    for lang, texts in value.items():
        field = f"languages.{lang}"
        if (
            not isinstance(lang, str)
            or not LANGUAGE.fullmatch(lang)
            or len(lang) > MAX_LANGUAGE
        ):
            raise ConfigError(field, "is not a language code such as en or pt-BR")
        texts = mapping(texts, field)
        base = DEFAULT_TEXTS.get(lang) or DEFAULT_TEXTS.get(lang.split("-")[0])
        out: dict[str, Any] = {}
        for key in TEXT_KEYS:
            if key in texts:
                limit = 1000 if key in LONG_TEXTS else 200
                out[key] = text(texts[key], f"{field}.{key}", limit)
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
        given = mapping(texts.get("categories", {}), f"{field}.categories")
        out["categories"] = {}
        for cat in (*NECESSARY, *categories):
            cfield = f"{field}.categories.{cat}"
            entry = mapping(given.get(cat, {}), cfield)
            default = (base or {}).get("categories", {}).get(cat)  # type: ignore[attr-defined]
            label_desc = {}
            for part in ("label", "description"):
                if part in entry:
                    label_desc[part] = text(entry[part], f"{cfield}.{part}", 500)
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
