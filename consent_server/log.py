"""The append-only consent log and its hash chain.

Every recorded choice is one row. Each row's ``hash`` is the SHA-256 of its
own fields and the previous row's hash, so editing, deleting or inserting a
row anywhere breaks the chain at that point, and :func:`verify_chain` names it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import ipaddress
import json
import uuid
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .db import GENESIS_HASH, consent_events, log_head, log_prunes

# The order of fields hashed into the chain; changing it breaks old logs.
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
)
EXPORT_FIELDS = (*HASHED_FIELDS, "hash")


@dataclasses.dataclass(frozen=True)
class NewEvent:
    """A choice to record, as checked by the recording endpoint."""

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


def row_hash(fields: dict[str, Any]) -> str:
    """The chain hash of one row: SHA-256 over its fields in canonical JSON."""
    canonical = {k: fields[k] for k in HASHED_FIELDS}
    canonical["recorded_at"] = fields["recorded_at"].astimezone(dt.UTC).isoformat()
    blob = json.dumps(canonical, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def append(conn: Connection, event: NewEvent) -> dict[str, Any]:
    """Append one event to the log and commit it; returns the stored row.

    The head row is updated first so the transaction holds the write lock
    before it reads anything: appends from many processes then queue up
    instead of forking the chain.
    """
    with conn.begin():
        seq, prev_hash = conn.execute(
            log_head.update()
            .where(log_head.c.id == 1)
            .values(seq=log_head.c.seq + 1)
            .returning(log_head.c.seq, log_head.c.hash)
        ).one()
        now = dt.datetime.now(dt.UTC)
        fields: dict[str, Any] = {
            "seq": seq,
            "event_id": str(uuid.uuid4()),
            "consent_id": event.consent_id,
            "site": event.site,
            "consent_revision": event.consent_revision,
            "config_revision": event.config_revision,
            "authentication": True,
            "security": True,
            **{
                k: bool(event.choices[k])
                for k in ("preferences", "analytics", "advertising")
            },
            "method": event.method,
            "gpc": event.gpc,
            "language": event.language,
            "texts_hash": event.texts_hash,
            "origin": event.origin,
            "path": event.path,
            "ip": event.ip,
            "user_agent": event.user_agent,
            "recorded_at": now,
            "prev_hash": prev_hash,
        }
        fields["hash"] = row_hash(fields)
        conn.execute(consent_events.insert().values(**fields))
        conn.execute(
            log_head.update().where(log_head.c.id == 1).values(hash=fields["hash"])
        )
    return fields


@dataclasses.dataclass(frozen=True)
class ChainReport:
    """Result of checking the chain: ``first_bad_seq`` is None when ``ok``."""

    ok: bool
    events: int
    first_bad_seq: int | None


def verify_chain(conn: Connection) -> ChainReport:
    """Walk the whole log and report the first sequence number that breaks the chain.

    A changed row is bad itself; a deleted row is reported by its missing
    number; a row added past the head, or a head that runs past the last row,
    is reported at the first number that does not fit.
    """
    with conn.begin():
        head_seq, head_hash = conn.execute(
            sa.select(log_head.c.seq, log_head.c.hash).where(log_head.c.id == 1)
        ).one()
        anchor = conn.execute(
            sa.select(log_prunes.c.through_seq, log_prunes.c.through_hash)
            .order_by(log_prunes.c.id.desc())
            .limit(1)
        ).first()
        expected, prev = (anchor[0] + 1, anchor[1]) if anchor else (1, GENESIS_HASH)
        events = 0
        rows = conn.execution_options(yield_per=2000).execute(
            sa.select(consent_events)
            .where(consent_events.c.seq >= expected)
            .order_by(consent_events.c.seq)
        )
        with rows:
            for row in rows.mappings():
                fields = dict(row)
                if fields["seq"] > head_seq:
                    return ChainReport(False, events, fields["seq"])
                if fields["seq"] != expected:
                    return ChainReport(False, events, expected)
                if fields["prev_hash"] != prev or row_hash(fields) != fields["hash"]:
                    return ChainReport(False, events, fields["seq"])
                prev = fields["hash"]
                expected += 1
                events += 1
        if head_seq != expected - 1 or head_hash != prev:
            return ChainReport(False, events, expected)
        old = conn.execute(
            sa.select(sa.func.min(consent_events.c.seq)).where(
                consent_events.c.seq < (anchor[0] + 1 if anchor else 1)
            )
        ).scalar()
        if old is not None:
            # Rows at or below a prune point cannot be there unless put back.
            return ChainReport(False, events, old)
    return ChainReport(True, events, None)


def iter_events(
    conn: Connection,
    *,
    site: str | None = None,
    consent_id: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Stream log rows in sequence order, optionally for one site or visitor."""
    query = sa.select(consent_events).order_by(consent_events.c.seq)
    if site is not None:
        query = query.where(consent_events.c.site == site)
    if consent_id is not None:
        query = query.where(consent_events.c.consent_id == consent_id)
    with (
        conn.begin(),
        conn.execution_options(yield_per=2000).execute(query) as result,
    ):
        for row in result.mappings():
            yield dict(row)


def prune(
    conn: Connection, older_than_days: int, *, now: dt.datetime | None = None
) -> int:
    """Remove rows older than the given age from the old end of the log.

    Rows go strictly from the start of the chain, and the removal is recorded
    with the last removed row's hash, so the rest of the chain still verifies.
    Returns the number of rows removed.
    """
    now = now or dt.datetime.now(dt.UTC)
    cutoff = now - dt.timedelta(days=older_than_days)
    with conn.begin():
        # Lock the head like an append does, so no row is added meanwhile.
        conn.execute(
            log_head.update().where(log_head.c.id == 1).values(seq=log_head.c.seq)
        )
        last = conn.execute(
            sa.select(consent_events.c.seq, consent_events.c.hash)
            .where(consent_events.c.recorded_at < cutoff)
            .order_by(consent_events.c.seq.desc())
            .limit(1)
        ).first()
        removed = 0
        if last is not None:
            removed = conn.execute(
                consent_events.delete().where(consent_events.c.seq <= last.seq)
            ).rowcount
        anchor = (
            last
            or conn.execute(
                sa.select(log_prunes.c.through_seq, log_prunes.c.through_hash)
                .order_by(log_prunes.c.id.desc())
                .limit(1)
            ).first()
        )
        conn.execute(
            log_prunes.insert().values(
                pruned_at=now,
                older_than_days=older_than_days,
                rows_removed=removed,
                through_seq=anchor[0] if anchor else 0,
                through_hash=anchor[1] if anchor else GENESIS_HASH,
            )
        )
    return removed


def truncate_ip(address: str | None) -> str:
    """Keep only the network part of an address: IPv4 /24, IPv6 /48."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return ""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False).network_address)
