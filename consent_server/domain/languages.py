"""The banner's texts per language: as a document gives them, filled in, hashed.

A document may leave out any text of a language we ship defaults for
(:mod:`.texts`); for any other language it must give the six main texts and
every category's label and description. Filling in is a rule across fields,
so it is plain code beside the models.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field, StringConstraints

from .errors import ConfigError
from .fields import Document, Label, Long, Short, says
from .texts import DEFAULT_TEXTS
from .vocabulary import MAX_LANGUAGE, NECESSARY, Category, OptionalCategory

if TYPE_CHECKING:
    from .site_config import SiteConfig

LanguageCode = Annotated[
    str,
    StringConstraints(
        max_length=MAX_LANGUAGE, pattern=r"^[a-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$"
    ),
    says("is not a language code such as en or pt-BR"),
]
CategoryKey = Annotated[Category, says("is not a category")]


def filled_in() -> Any:
    """A text a document may leave out: fill_languages puts in the shipped one."""
    return Field(default_factory=str)


class CategoryTexts(Document):
    """How one category is named and explained on the banner."""

    unknown_key = ("invalid_config", "is not a known text")

    label: Label
    description: Label


class CategoryLabel(CategoryTexts):
    """A category's texts as a document gives them; absent ones are filled in."""

    label: Label = filled_in()
    description: Label = filled_in()


class Texts(Document):
    """Every text of the banner in one language, filled in."""

    title: Short
    description: Long
    accept_all: Short
    reject_all: Short
    customize: Short
    save: Short
    preferences_title: Short
    policy_link: Short
    always_on: Short
    settings: Short
    close: Short
    placeholder: Short = Field(description="must contain {service}")
    allow_and_play: Short
    saving: Short
    retrying: Short
    gpc_honoured: Short = Field(
        description="shown with the preferences when the browser's Global Privacy"
        " Control signal is honoured"
    )
    categories: dict[CategoryKey, CategoryTexts] = Field(
        description="the strictly necessary categories and those the site shows"
    )


class LanguageTexts(Document):
    """One language's texts as a document gives them; absent ones are filled in."""

    unknown_key = ("invalid_config", "is not a known text")
    title: Short = filled_in()
    description: Long = filled_in()
    accept_all: Short = filled_in()
    reject_all: Short = filled_in()
    customize: Short = filled_in()
    save: Short = filled_in()
    preferences_title: Short = filled_in()
    policy_link: Short = filled_in()
    always_on: Short = filled_in()
    settings: Short = filled_in()
    close: Short = filled_in()
    placeholder: Short = filled_in()
    allow_and_play: Short = filled_in()
    saving: Short = filled_in()
    retrying: Short = filled_in()
    gpc_honoured: Short = filled_in()
    categories: dict[CategoryKey, CategoryLabel] = Field(default_factory=dict)


TEXT_KEYS = tuple(k for k in Texts.model_fields if k != "categories")
# The texts a document must give for each of its languages that we ship no
# defaults for; the rest are filled in from the shipped English.
REQUIRED_TEXTS = ("title", "description", "accept_all", "reject_all", "customize",
                  "save")  # fmt: skip
# Texts added after configs were first stored: a stored config that lacks one
# gets the shipped text of its language when it is read.
ADDED_TEXTS = ("gpc_honoured",)


def _shipped(lang: str) -> dict[str, object]:
    return (
        DEFAULT_TEXTS.get(lang)
        or DEFAULT_TEXTS.get(lang.split("-")[0])
        or DEFAULT_TEXTS["en"]
    )


def fill_new_texts(languages: dict[Any, Any]) -> dict[Any, Any]:
    """Stored languages with the texts added since they were stored filled in."""
    result = {}
    for lang, texts in languages.items():
        if isinstance(lang, str) and isinstance(texts, dict):
            missing = [key for key in ADDED_TEXTS if key not in texts]
            texts = {**texts, **{key: _shipped(lang)[key] for key in missing}}
        result[lang] = texts
    return result


def fill_languages(
    given: dict[str, LanguageTexts], categories: list[OptionalCategory]
) -> dict[str, Texts]:
    """Every language's texts complete, for the categories the site shows.

    :raise ConfigError: for a text that is required and missing.
    """
    result: dict[str, Texts] = {}
    for lang, texts in given.items():
        field = f"languages.{lang}"
        base = DEFAULT_TEXTS.get(lang) or DEFAULT_TEXTS.get(lang.split("-")[0])
        sent = texts.model_dump(exclude_unset=True)
        out: dict[str, Any] = {}
        for key in TEXT_KEYS:
            if key in sent:
                out[key] = sent[key]
            elif key in REQUIRED_TEXTS and base is None:
                raise ConfigError(f"{field}.{key}", "is required")
            else:
                out[key] = (base or DEFAULT_TEXTS["en"])[key]
        if "{service}" not in out["placeholder"]:
            raise ConfigError(f"{field}.placeholder", "must contain {service}")
        defaults: dict[str, dict[str, str]] = (base or {}).get("categories", {})  # type: ignore[assignment]
        out["categories"] = {}
        for cat in (*NECESSARY, *categories):
            entry = sent.get("categories", {}).get(cat, {})
            label_desc = {}
            for part in ("label", "description"):
                if part in entry:
                    label_desc[part] = entry[part]
                elif cat in defaults:
                    label_desc[part] = defaults[cat][part]
                else:
                    raise ConfigError(f"{field}.categories.{cat}.{part}", "is required")
            out["categories"][cat] = label_desc
        result[lang] = Texts.model_validate(out)
    return result


# The hash of each language's texts hashed lately, by the texts object: a
# published config is kept in each process's cache and reused by every
# recording, so its texts are the same object request after request. Each
# entry holds its object, so that an id is never taken for another's; a
# published config is never changed in place (its models are frozen).
_hashed: dict[int, tuple[Texts, str]] = {}
MAX_HASHED = 256


def texts_hash(config: SiteConfig, language: str) -> str:
    """Hash of the banner texts shown in one language, for the consent log."""
    languages = config.languages
    texts = (
        languages.get(language)
        or languages.get(language.split("-")[0].lower())
        or languages[config.default_language]
    )
    found = _hashed.get(id(texts))
    if found is not None and found[0] is texts:
        return found[1]
    digest = _hash(texts)
    if len(_hashed) >= MAX_HASHED:
        _hashed.clear()
    _hashed[id(texts)] = (texts, digest)
    return digest


def _hash(texts: Texts) -> str:
    blob = json.dumps(
        texts.model_dump(mode="json"),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(blob.encode()).hexdigest()
