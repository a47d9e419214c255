"""Reading JSON text strictly: an object that names a key twice is refused.

Python's parser keeps the last of two values silently; for a consent or a
config document that means a reader and a checker could see different things.
"""

from __future__ import annotations

import json
from typing import Any


class RepeatedKey(ValueError):
    """A JSON object names one key twice: which value was meant is unclear."""

    def __init__(self, key: str) -> None:
        super().__init__(f"{key} is given twice")
        self.key = key


def _without_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise RepeatedKey(key)
        found[key] = value
    return found


def loads(text: str) -> Any:
    """Parse JSON text like :func:`json.loads`, refusing repeated keys.

    :raise RepeatedKey: for the first key an object names twice.
    :raise ValueError: for text that is not JSON.
    :raise RecursionError: for nesting deeper than Python can follow.
    """
    return json.loads(text, object_pairs_hook=_without_repeats)
