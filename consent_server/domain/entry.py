"""An event's *entry*: the bytes its leaf in the log's Merkle tree hashes.

The entry is the canonical JSON (RFC 8785: keys sorted, no whitespace, UTF-8)
of a fixed, versioned set of the event's recorded fields, ``"v": 1`` first
among them. Anyone holding an export can rebuild each entry from it, hash it
(:func:`consent_server.domain.merkle.leaf_hash`) and so the whole tree; a
field the export gains later never changes an old leaf, because version 1
lists its fields here once and for all.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

VERSION = 1

# The fields of a version-1 entry, as the export names them. Written out, not
# taken from the vocabulary, on purpose: this is a stored format.
FIELDS_V1 = (
    "seq",
    "event_id",
    "consent_id",
    "continues",
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
)


def timestamp(value: dt.datetime) -> str:
    """A recorded time as entries and exports write it: ISO 8601 in UTC."""
    return value.astimezone(dt.UTC).isoformat()


def entry_object(fields: dict[str, Any]) -> dict[str, Any]:
    """The ``entry`` object of an event: what its leaf commits to."""
    out: dict[str, Any] = {"v": VERSION}
    for name in FIELDS_V1:
        out[name] = fields.get(name)
    out["recorded_at"] = timestamp(fields["recorded_at"])
    return out


def canonical(value: dict[str, Any]) -> bytes:
    """RFC 8785 canonical JSON of an entry object.

    Entries hold only strings, whole numbers below 2**53, booleans and null,
    for which sorted keys, no whitespace and JSON's minimal string escapes
    (``ensure_ascii=False``: other characters as themselves, in UTF-8) are
    exactly RFC 8785's output.
    """
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()


def entry_bytes(fields: dict[str, Any]) -> bytes:
    """The entry of an event, from its stored fields."""
    return canonical(entry_object(fields))
