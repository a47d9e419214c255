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
from json.encoder import encode_basestring as _s
from typing import Any

# The newest version, written for every event recorded now; a version-1
# entry is that of an event recorded before version 2 existed.
VERSION = 2
VERSIONS = (1, 2)

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
    # Whether the cookie scanner made this choice (not a visitor).
    "scan",
)

# Version 2: version 1's and the SHA-256 (hex) of the config document the
# visitor was shown, as published (the categories, services and texts).
FIELDS_V2 = (*FIELDS_V1, "config_hash")


def version_of(fields: dict[str, Any]) -> int:
    """The entry version of an event: 2 when it records its config document."""
    return 1 if fields.get("config_hash") is None else 2


def timestamp(value: dt.datetime) -> str:
    """A recorded time as entries and exports write it: ISO 8601 in UTC."""
    return value.astimezone(dt.UTC).isoformat()


def entry_object(fields: dict[str, Any]) -> dict[str, Any]:
    """The ``entry`` object of an event: what its leaf commits to."""
    version = version_of(fields)
    out: dict[str, Any] = {"v": version}
    for name in FIELDS_V2 if version == 2 else FIELDS_V1:
        out[name] = fields.get(name)
    out["recorded_at"] = timestamp(fields["recorded_at"])
    out["scan"] = fields.get("scan") is True
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


def _flag(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    raise TypeError("not a boolean")


def _text(value: Any) -> str:
    if type(value) is not str:
        raise TypeError("not text")
    return str(_s(value))


def _number(value: Any) -> str:
    if type(value) is not int:
        raise TypeError("not a whole number")
    return str(value)


_SHOWN = ',"config_hash":'


def fast_entry(fields: dict[str, Any], recorded_at: str | None = None) -> bytes:
    """:func:`entry_bytes`, without building the entry object: the same
    bytes for every event the log can hold (tests compare the two over
    awkward values), in about a third of the time. A value of an unexpected
    type raises TypeError; :func:`entry_bytes` is then the one to use.

    ``recorded_at`` is the time as :func:`timestamp` writes it, when the
    caller has it already (``fields["recorded_at"]`` is then not read)."""
    f = fields
    continues = f.get("continues")
    shown = f.get("config_hash")
    when = timestamp(f["recorded_at"]) if recorded_at is None else recorded_at
    return (
        f'{{"advertising":{_flag(f["advertising"])}'
        f',"analytics":{_flag(f["analytics"])}'
        f',"authentication":{_flag(f["authentication"])}'
        f"{'' if shown is None else _SHOWN + _text(shown)}"
        f',"config_revision":{_number(f["config_revision"])}'
        f',"consent_id":{_text(f["consent_id"])}'
        f',"consent_revision":{_number(f["consent_revision"])}'
        f',"continues":{"null" if continues is None else _text(continues)}'
        f',"event_id":{_text(f["event_id"])}'
        f',"gpc":{_flag(f["gpc"])}'
        f',"ip":{_text(f["ip"])}'
        f',"language":{_text(f["language"])}'
        f',"method":{_text(f["method"])}'
        f',"origin":{_text(f["origin"])}'
        f',"path":{_text(f["path"])}'
        f',"preferences":{_flag(f["preferences"])}'
        f',"recorded_at":{_text(when)}'
        f',"scan":{"true" if f.get("scan") is True else "false"}'
        f',"security":{_flag(f["security"])}'
        f',"seq":{_number(f["seq"])}'
        f',"site":{_text(f["site"])}'
        f',"texts_hash":{_text(f["texts_hash"])}'
        f',"user_agent":{_text(f["user_agent"])}'
        f',"v":{1 if shown is None else 2}}}'
    ).encode()
