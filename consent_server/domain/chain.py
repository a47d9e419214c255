"""The hash chain of the consent log: which fields each row's hash covers, and how.

Every recorded choice is one row. Each row's ``hash`` is the SHA-256 of its
own fields and the previous row's hash, so editing, deleting or inserting a
row anywhere breaks the chain at that point.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any

GENESIS_HASH = "0" * 64

# The order of fields hashed into the chain; changing it breaks old logs. The
# category names are written out, not taken from the vocabulary, on purpose:
# this is a stored format, fixed for every row already hashed. Fields added
# later go at the end and are listed in OPTIONAL_HASHED_FIELDS too.
HASHED_FIELDS = (
    "seq",
    "event_id",
    "consent_id",
    "site",
    "consent_revision",
    "config_revision",
    "authentication",
    "security",
    "preferences",
    "analytics",
    "advertising",
    "method",
    "gpc",
    "language",
    "texts_hash",
    "origin",
    "path",
    "ip",
    "user_agent",
    "recorded_at",
    "prev_hash",
    # The event_id of the visitor's event this one continues.
    "continues",
)

# Fields added after rows were first hashed: each is hashed only when the row
# has it set, so a row written before it existed (NULL there) hashes exactly
# as it did then.
OPTIONAL_HASHED_FIELDS = frozenset({"continues"})


@dataclasses.dataclass(frozen=True)
class NewEvent:
    """A choice to record, as checked by recording."""

    # A new visitor's id: the event gets it unless it continues a history
    # (see :class:`Claim`).
    consent_id: str
    site: str
    consent_revision: int
    config_revision: int
    choices: dict[str, bool]
    method: str
    gpc: bool
    language: str
    texts_hash: str
    origin: str
    path: str
    ip: str
    user_agent: str
    # Made by the cookie scanner (a bearer token of scope scan), not a
    # visitor: kept out of statistics and visitors' histories. Not in the
    # chain's hash (a stored format); the event's Merkle leaf covers it.
    scan: bool = False
    # SHA-256 (hex) of the config document shown (the revision's stored
    # bytes). Not in the chain's hash either: the event's version-2 entry
    # covers it.
    config_hash: str | None = None


@dataclasses.dataclass(frozen=True)
class Claim:
    """A token's claim to continue one visitor's history.

    ``current`` is asked, under the log's write lock, with the event id and
    time of that visitor's latest logged event: the event continues the
    history only if it answers True, else it starts a new visitor.
    """

    consent_id: str
    current: Callable[[str, dt.datetime], bool]


def row_hash(fields: dict[str, Any]) -> str:
    """The chain hash of one row: SHA-256 over its fields in canonical JSON."""
    canonical = {
        k: fields[k]
        for k in HASHED_FIELDS
        if k not in OPTIONAL_HASHED_FIELDS or fields.get(k) is not None
    }
    canonical["recorded_at"] = fields["recorded_at"].astimezone(dt.UTC).isoformat()
    blob = json.dumps(canonical, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


# The canonical JSON of a row without ``continues``, field by field, as
# json.dumps writes it; ``%s`` is a string's text, unescaped.
_TEXT_FIELDS = frozenset(HASHED_FIELDS) - {
    "seq",
    "consent_revision",
    "config_revision",
    "authentication",
    "security",
    "preferences",
    "analytics",
    "advertising",
    "gpc",
}
_INT_FIELDS = ("seq", "consent_revision", "config_revision")


def _template(fields: tuple[str, ...]) -> str:
    parts = []
    for key in fields:
        value = '"%s"' if key in _TEXT_FIELDS else "%d" if key in _INT_FIELDS else "%s"
        parts.append(f'"{key}":{value}')
    return "{" + ",".join(parts) + "}"


_TEMPLATE = _template(HASHED_FIELDS[:-1])
_TEMPLATE_CONTINUES = _template(HASHED_FIELDS)
# The quotes of a row's text without and with a continues id, when no value
# holds one.
QUOTES = _TEMPLATE.count('"')
QUOTES_CONTINUES = _TEMPLATE_CONTINUES.count('"')
# JSON's words for a boolean column, as stored (bool, or SQLite's 0 and 1).
_JSON_BOOL = {False: "false", True: "true"}
_FAST_TYPES = frozenset(
    (int, str, str, str, int, int, *(b,) * 5, str, b, *(str,) * 8, *c)
    for b in (bool, int)
    for c in ((), (str,), (type(None),))
)
# The bytes a row's JSON text holds as they are; '"' is counted apart.
_PLAIN_JSON = bytes(b for b in range(0x20, 0x7F) if b != ord("\\"))


def fast_row_hash(values: Sequence[Any]) -> str | None:
    """:func:`row_hash` of a row given as a sequence, or None where it is not sure.

    ``values`` are the row's fields in :data:`HASHED_FIELDS` order, the
    booleans as bool or 0/1, ``recorded_at`` already as the UTC ISO text
    row_hash writes; ``continues`` may be left off when it is None. Verify
    hashes every row of the log: this writes the same JSON text with one
    string format instead of json.dumps, and gives up (None: use row_hash)
    on a row it cannot write byte for byte as json.dumps does, one with a
    value of another type or a character JSON escapes. Its test compares
    both over such values.
    """
    if tuple(map(type, values)) not in _FAST_TYPES:
        return None
    b = _JSON_BOOL
    v = values
    try:
        fields = (
            v[0], v[1], v[2], v[3], v[4], v[5],
            b[v[6]], b[v[7]], b[v[8]], b[v[9]], b[v[10]],
            v[11], b[v[12]],
            v[13], v[14], v[15], v[16], v[17], v[18], v[19], v[20],
        )  # fmt: skip
    except KeyError:  # a boolean column holding neither 0 nor 1
        return None
    if len(v) == len(HASHED_FIELDS) and v[-1] is not None:
        blob, quotes = _TEMPLATE_CONTINUES % (*fields, v[-1]), QUOTES_CONTINUES
    else:
        blob, quotes = _TEMPLATE % fields, QUOTES
    # json.dumps(ensure_ascii=False) escapes only '"', '\' and the C0
    # controls (and cannot encode a lone surrogate): with none of them in
    # the fields, its text is this one.
    data = blob.encode() if blob.isascii() else b""
    if not data or data.translate(None, _PLAIN_JSON) or data.count(b'"') != quotes:
        if blob.count('"') != quotes or "\\" in blob or not blob.isprintable():
            return None
        data = blob.encode()
    return hashlib.sha256(data).hexdigest()


@dataclasses.dataclass(frozen=True)
class ChainReport:
    """Result of checking the chain: ``first_bad_seq`` is None when ``ok``."""

    ok: bool
    events: int
    first_bad_seq: int | None


def text_hash(text: str | None, continues: bool) -> str | None:
    """The chain hash of a row's canonical JSON text built elsewhere (by the
    database, see ``store.log``), or None where it is not sure.

    The text must be what :func:`row_hash` writes but with the text fields
    put in unescaped: that is the same text when no field holds a character
    JSON escapes, which is checked here ('"' by counting them, and only
    printable ASCII besides). ``continues`` says whether the row has one.
    """
    data = plain_text(text, continues)
    return hashlib.sha256(data).hexdigest() if data is not None else None


def plain_text(text: str | None, continues: bool) -> bytes | None:
    """The bytes of a row's canonical JSON text built elsewhere, when it
    holds no character JSON escapes (see :func:`text_hash`), else None."""
    if text is None or not text.isascii():
        return None
    data = text.encode()
    quotes = QUOTES_CONTINUES if continues else QUOTES
    if data.translate(None, _PLAIN_JSON) or data.count(b'"') != quotes:
        return None
    return data
