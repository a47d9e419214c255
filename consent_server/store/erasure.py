"""Erasing one visitor's events on request, without breaking the log's proofs.

``erase`` removes every event of one consent id from the log and keeps, for
each, only what the proofs need: its sequence number, its chain hashes and
its leaf (the leaf hash stays in ``tree_nodes``). The hash chain then steps
over the erased rows by their kept hashes, the Merkle tree keeps its leaves,
and every checkpoint and the other visitors' receipts still verify. What
was erased, and when, is kept in ``log_erasures``; the consent id only as
its SHA-256. The audit API's access records (``audit_access``) keep the
paths auditors asked for, which name consent and event ids: in those, the
erased visitor's ids become ``[erased]``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .schema import audit_access, consent_events, log_erasures, log_head

# What an erased id becomes in the access records' paths.
ERASED = "[erased]"


def consent_hash(consent_id: str) -> str:
    """How ``log_erasures`` names a visitor: the SHA-256 of their consent id."""
    return hashlib.sha256(consent_id.encode()).hexdigest()


@dataclass(frozen=True)
class Erased:
    """What one erase did."""

    events: int
    # Sequence numbers of the events removed.
    seqs: tuple[int, ...]
    # Access records whose paths named the visitor, now without their ids.
    access_records: int = 0


def erase(
    conn: Connection, consent_id: str, *, now: dt.datetime | None = None
) -> Erased:
    """Remove one visitor's events, keeping their places in the chain and the
    tree; in one transaction, under the head lock (no append meanwhile)."""
    c = consent_events.c
    erased_at = now or dt.datetime.now(dt.UTC)
    with conn.begin():
        conn.execute(
            log_head.update().where(log_head.c.id == 1).values(seq=log_head.c.seq)
        )
        rows = conn.execute(
            sa.select(c.seq, c.leaf_index, c.prev_hash, c.hash, c.event_id)
            .where(c.consent_id == consent_id)
            .order_by(c.seq)
        ).all()
        scrubbed = _scrub_access(conn, [consent_id, *(r.event_id for r in rows)])
        if rows:
            conn.execute(
                log_erasures.insert(),
                [
                    {
                        "seq": r.seq,
                        "leaf_index": r.leaf_index,
                        "prev_hash": r.prev_hash,
                        "hash": r.hash,
                        "consent_hash": consent_hash(consent_id),
                        "erased_at": erased_at,
                    }
                    for r in rows
                ],
            )
            conn.execute(consent_events.delete().where(c.consent_id == consent_id))
    return Erased(len(rows), tuple(r.seq for r in rows), scrubbed)


def _scrub_access(conn: Connection, ids: list[str]) -> int:
    """Put :data:`ERASED` for each of ``ids`` in the access records' paths;
    how many records named one."""
    path = audit_access.c.path
    named: set[int] = set()
    for value in ids:
        if not value:
            continue
        found = conn.execute(
            audit_access.update()
            .where(path.contains(value, autoescape=True))
            .values(path=sa.func.replace(path, value, ERASED))
            .returning(audit_access.c.id)
        ).scalars()
        named.update(found)
    return len(named)


def erased_leaves(conn: Connection) -> set[int]:
    """The leaf indexes whose events were erased."""
    return set(
        conn.execute(
            sa.select(log_erasures.c.leaf_index).where(
                log_erasures.c.leaf_index.is_not(None)
            )
        ).scalars()
    )


def erased_links(conn: Connection, first: int, last: int) -> dict[int, tuple[str, str]]:
    """The kept (prev_hash, hash) of erased rows between two sequence numbers."""
    e = log_erasures.c
    return {
        seq: (prev, hash_)
        for seq, prev, hash_ in conn.execute(
            sa.select(e.seq, e.prev_hash, e.hash).where(e.seq >= first, e.seq <= last)
        )
    }


def erased_on(conn: Connection, consent_id: str) -> dt.datetime | None:
    """When this visitor's events were erased, or None if they never were."""
    with conn.begin():
        when: dt.datetime | None = conn.execute(
            sa.select(sa.func.min(log_erasures.c.erased_at)).where(
                log_erasures.c.consent_hash == consent_hash(consent_id)
            )
        ).scalar()
    return when


def partly_erased(conn: Connection) -> str | None:
    """A visitor recorded as erased who still has events in the log, in
    words, or None. An erase removes all of a visitor's events at once: an
    erasure record beside some of them was made by hand, to hide one event
    (a withdrawal, say) as if the visitor had asked."""
    erased = set(conn.execute(sa.select(log_erasures.c.consent_hash)).scalars())
    if not erased:
        return None
    c = consent_events.c
    for seq, consent_id in conn.execute(sa.select(c.seq, c.consent_id).order_by(c.seq)):
        if consent_hash(consent_id) in erased:
            return (
                f"the event at sequence number {seq} belongs to a visitor whose"
                " events were erased: an erasure was recorded by hand"
            )
    return None
