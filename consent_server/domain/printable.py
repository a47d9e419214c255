"""Stored text made safe for a terminal: control characters shown, never obeyed.

Token names, emails and config texts come from whoever created them. Printed
as they are, an escape sequence could recolour or rewrite the operator's
screen, and a bidi override could make one name read as another. These
functions show such characters as escapes (``\\x1b``, ``\\u202e``) and leave
all other text alone.
"""

from __future__ import annotations

import re

# C0 controls, DEL and C1 controls; the Unicode line and paragraph separators,
# which some terminals break lines at; and every Bidi_Control character (the
# marks, embeddings, overrides and isolates that reorder what is shown).
_OTHERS = "\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
CONTROL = re.compile(f"[\x00-\x1f{_OTHERS}]")
# In JSON text, tab, newline and return outside strings are layout; inside
# strings the encoder has already escaped them with every other C0 control.
JSON_CONTROL = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f{_OTHERS}]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def printable(text: str) -> str:
    """The text with each control character written as a Python-style escape."""
    return CONTROL.sub(_escape, text)


def printable_json(text: str) -> str:
    """JSON text with each control character written as a ``\\uXXXX`` escape.

    JSON keeps such characters only inside strings, where the escape means the
    same character: the output still parses to the very same document.
    """
    return JSON_CONTROL.sub(_json_escape, text)
