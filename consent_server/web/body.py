"""Reading a request's JSON body, once, with the limits every endpoint shares."""

from __future__ import annotations

from typing import Any

from flask import request

from ..domain import json_text
from ..domain.fields import check_strings
from ..domain.vocabulary import MAX_BODY
from .errors import ApiError


def json_body() -> Any:
    """Read, decode and check a small JSON request body.

    :raise ApiError: 415 unless JSON, 413 if over the limit, 400 if it is not
        UTF-8 or not JSON.
    :raise InvalidInput: for a NUL character or lone surrogate in any string.
    """
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if request.mimetype != "application/json" or charset != "utf-8":
        raise ApiError(
            415, "unsupported_media_type", "send the body as application/json"
        )
    if (request.content_length or 0) > MAX_BODY:
        raise ApiError(413, "too_large", f"the body must be at most {MAX_BODY} bytes")
    return decode_json(request.stream.read(MAX_BODY + 1))


def decode_json(raw: bytes) -> Any:
    """Decode and check a JSON body already read (at most one byte over the
    limit): the rules of :func:`json_body` after the media type.

    :raise ApiError: 413 if over the limit, 400 if it is not UTF-8 or not JSON.
    :raise InvalidInput: for a NUL character or lone surrogate in any string.
    """
    if len(raw) > MAX_BODY:
        raise ApiError(413, "too_large", f"the body must be at most {MAX_BODY} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_utf8", "the body is not valid UTF-8") from None
    try:
        body = json_text.loads(text)
    except json_text.RepeatedKey as exc:
        raise ApiError(400, "duplicate_key", str(exc)) from None
    except (ValueError, RecursionError):
        raise ApiError(400, "invalid_json", "the body is not valid JSON") from None
    try:
        check_strings(body)
    except RecursionError:
        raise ApiError(400, "invalid_json", "the body is nested too deeply") from None
    return body
