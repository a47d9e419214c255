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
from collections.abc import Callable
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


@dataclasses.dataclass(frozen=True)
class ChainReport:
    """Result of checking the chain: ``first_bad_seq`` is None when ``ok``."""

    ok: bool
    events: int
    first_bad_seq: int | None
