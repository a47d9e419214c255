"""What our documents are made of: strict models, texts, and the words for their errors.

The site config and the request bodies are pydantic models: the model is what
checks (``model_validate``) and what describes the document in /openapi.json
(``model_json_schema``). Pydantic's errors are worded here the way people have
always read ours, each naming its field (``theme.accent: must be a colour such
as #1a56db``); rules that span fields stay plain code beside each model.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StringConstraints,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from pydantic_core.core_schema import ErrorType

from .errors import ConfigError, InvalidInput

# A document before it is checked: any JSON value.
Json = None | bool | int | float | str | list["Json"] | dict[str, "Json"]
# Control characters other than newline and tab have no place in a banner.
NO_CONTROL = r"^[^\x00-\x08\x0b-\x1f\x7f]*$"
BUILT_IN = frozenset(get_args(ErrorType))
# How a document's own errors read; pydantic's words for anything else.
WORDING = {
    "string_type": "must be a string",
    "string_unicode": "must be valid Unicode text",
    "string_too_short": "must not be empty",
    "string_too_long": "must be at most {max_length} characters",
    "string_pattern_mismatch": "must not contain control characters",
    "bool_type": "must be true or false",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "list_type": "must be a list",
    "too_long": "must have at most {max_length} entries",
    "missing": "is required",
}


class Document(BaseModel):
    """A JSON object we check: strict JSON types, no keys but the model's own."""

    # Served (serialization) schemas list every field: a served config has them all.
    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        frozen=True,
        json_schema_serialization_defaults_required=True,
    )
    # The code and words for a key the model does not know; ``{unknown}`` is it.
    unknown_key: ClassVar[tuple[str, str]] = (
        "invalid_config",
        "is not a known setting",
    )

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data  # the model's own check says it must be an object
        unknown = sorted(str(key) for key in set(data) - set(cls.model_fields))
        if unknown:
            code, message = cls.unknown_key
            raise PydanticCustomError(code, message, {"unknown": unknown[0]})
        # An absent required key is checked as null, so that its message says
        # what the value must be ("origins: must be a list").
        absent = {
            name: None
            for name, field in cls.model_fields.items()
            if field.is_required() and name not in data
        }
        return {**absent, **data}


def says(message: str, *, code: str = "invalid_config", only: str = "") -> Any:
    """Word a field's own failure (of type ``only``, or any) as ``message``.

    Failures inside the value (an entry of a list, say) keep their own words.
    """

    def wrap(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except ValidationError as exc:
            first = exc.errors()[0]
            if first["loc"] or first["type"] not in BUILT_IN:
                raise
            if only and first["type"] != only:
                raise
            raise PydanticCustomError(code, message) from None

    return WrapValidator(wrap)


def strip(value: object) -> object:
    """Outer whitespace off a string; anything else as it is, for its type check."""
    return value.strip() if isinstance(value, str) else value


def text(limit: int) -> Any:
    """The rules of a text shown to people: stripped, 1 to ``limit`` characters."""
    return StringConstraints(min_length=1, max_length=limit, pattern=NO_CONTROL)


# Texts of a document; outer whitespace is dropped before the length is checked.
Short = Annotated[str, text(200), BeforeValidator(strip)]
Long = Annotated[str, text(1000), BeforeValidator(strip)]
Label = Annotated[str, text(500), BeforeValidator(strip)]
Name = Annotated[str, text(100), BeforeValidator(strip)]
Address = Annotated[str, text(2048), BeforeValidator(strip)]


def _path(loc: tuple[int | str, ...], prefix: str = "") -> str:
    path = prefix
    for part in loc:
        if part == "[key]":
            continue  # a dict key's own error: the key is the field
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path


def config_error(exc: ValidationError, prefix: str = "") -> ConfigError:
    """The first problem pydantic found, as our :class:`ConfigError`."""
    first = exc.errors()[0]
    ctx = first.get("ctx") or {}
    loc = (*first["loc"], ctx["unknown"]) if "unknown" in ctx else first["loc"]
    message = first["msg"]
    if first["type"] in WORDING:
        message = WORDING[first["type"]].format(**ctx)
    return ConfigError(_path(loc, prefix) or "document", message)


def input_error(exc: ValidationError) -> InvalidInput:
    """The first problem pydantic found in a request body, as an :class:`InvalidInput`.

    Every field of a body words its own errors with :func:`says`; what is left
    is a body that is not an object at all.
    """
    first = exc.errors()[0]
    if first["type"] not in BUILT_IN:
        return InvalidInput(first["type"], first["msg"])
    if not first["loc"]:
        return InvalidInput("invalid_body", "the body must be a JSON object")
    return InvalidInput("invalid_body", f"{_path(first['loc'])}: {first['msg']}")


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
