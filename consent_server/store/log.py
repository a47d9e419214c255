"""Writing the consent log and checking its hash chain.

:func:`append` adds one row under the head lock; :func:`verify_chain` walks
the chain and names the first row that breaks it; :func:`prune` removes old
rows from the start, recording where the chain starts again.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..domain.chain import GENESIS_HASH, ChainReport, Claim, NewEvent, row_hash
from ..domain.vocabulary import NECESSARY, OPTIONAL
from .events import STREAM
from .schema import consent_events, log_head, log_prunes


def append(
    conn: Connection, event: NewEvent, claim: Claim | None = None
) -> dict[str, Any]:
    """Append one event to the log and commit it; returns the stored row.

    The head row is updated first so the transaction holds the write lock
    before it reads anything: appends from many processes then queue up
    instead of forking the chain.

    With a ``claim``, the event continues that visitor's history (their
    consent id, ``continues`` naming their latest event) when the claim is
    still current; otherwise it is recorded as ``event.consent_id``, a new
    visitor. That is decided under the lock, so of two appends with the same
    claim only the first can continue the history.
    """
    with conn.begin():
        seq, prev_hash = conn.execute(
            log_head.update()
            .where(log_head.c.id == 1)
            .values(seq=log_head.c.seq + 1)
            .returning(log_head.c.seq, log_head.c.hash)
        ).one()
        consent_id, continues = event.consent_id, None
        if claim is not None:
            latest = latest_event(conn, claim.consent_id)
            # A history whose events are all gone (pruned) cannot tell the
            # visitor's latest token from an older one: it is not continued.
            if latest is not None and claim.current(
                latest["event_id"], latest["recorded_at"]
            ):
                consent_id, continues = claim.consent_id, latest["event_id"]
        now = dt.datetime.now(dt.UTC)
        fields: dict[str, Any] = {
            "seq": seq,
            "event_id": str(uuid.uuid4()),
            "consent_id": consent_id,
            "site": event.site,
            "consent_revision": event.consent_revision,
            "config_revision": event.config_revision,
            **{k: True for k in NECESSARY},
            **{k: bool(event.choices[k]) for k in OPTIONAL},
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
        if continues is not None:
            # Named only when set: a first choice is written exactly as rows
            # were before the column existed.
            fields["continues"] = continues
        fields["hash"] = row_hash(fields)
        conn.execute(consent_events.insert().values(**fields))
        conn.execute(
            log_head.update().where(log_head.c.id == 1).values(hash=fields["hash"])
        )
    return {"continues": None, **fields}


def verify_chain(conn: Connection) -> ChainReport:
    """Walk the whole log and report the first sequence number that breaks the chain.

    A changed row is bad itself; a deleted row is reported by its missing
    number; a row added past the head, or a head that runs past the last row,
    is reported at the first number that does not fit.

    Safe under live traffic: it checks the rows up to the head it read first
    (appends commit row and head together, in order), and looks again when a
    prune moved the start of the chain while it was walking.
    """
    for _ in range(10):
        report, anchor_id = _walk(conn)
        if report.ok or _anchor(conn)[0] == anchor_id:
            break
    return report


def _anchor(conn: Connection) -> tuple[int | None, int, str]:
    """The newest prune's id and where the chain starts again after it."""
    with conn.begin():
        row = conn.execute(
            sa.select(
                log_prunes.c.id, log_prunes.c.through_seq, log_prunes.c.through_hash
            )
            .order_by(log_prunes.c.id.desc())
            .limit(1)
        ).first()
    return (row[0], row[1], row[2]) if row else (None, 0, GENESIS_HASH)


def _head(conn: Connection) -> tuple[int, str]:
    with conn.begin():
        seq, hash_ = conn.execute(
            sa.select(log_head.c.seq, log_head.c.hash).where(log_head.c.id == 1)
        ).one()
    return seq, hash_


def _walk(conn: Connection) -> tuple[ChainReport, int | None]:
    head_seq, head_hash = _head(conn)
    anchor_id, through_seq, prev = _anchor(conn)
    expected = through_seq + 1
    events = 0
    c = consent_events.c
    with conn.begin():
        rows = conn.execute(
            sa.select(consent_events)
            .where(c.seq >= expected, c.seq <= head_seq)
            .order_by(c.seq),
            execution_options=STREAM,
        )
        with rows:
            for row in rows.mappings():
                fields = dict(row)
                if fields["seq"] != expected:
                    return ChainReport(False, events, expected), anchor_id
                if fields["prev_hash"] != prev or row_hash(fields) != fields["hash"]:
                    return ChainReport(False, events, fields["seq"]), anchor_id
                prev = fields["hash"]
                expected += 1
                events += 1
        if head_seq != expected - 1 or head_hash != prev:
            return ChainReport(False, events, expected), anchor_id
        old = conn.execute(
            sa.select(sa.func.min(c.seq)).where(c.seq <= through_seq)
        ).scalar()
        if old is not None:
            # Rows at or below a prune point cannot be there unless put back.
            return ChainReport(False, events, old), anchor_id
        beyond = conn.execute(
            sa.select(sa.func.min(c.seq)).where(c.seq > head_seq)
        ).scalar()
    if beyond is not None and _head(conn)[0] < beyond:
        # Past the head even now: no append wrote that row.
        return ChainReport(False, events, beyond), anchor_id
    return ChainReport(True, events, None), anchor_id


def prune(
    conn: Connection, older_than_days: int, *, now: dt.datetime | None = None
) -> int:
    """Remove the run of rows at the start of the log that are all older than
    the given age.

    Removal stops at the first row (in sequence order) recorded after the
    cut-off: a later row with an old time (a server with a slow clock) does not
    take newer rows with it. The removal is recorded with the last removed
    row's hash, so the rest of the chain still verifies. Returns the number of
    rows removed.
    """
    now = now or dt.datetime.now(dt.UTC)
    cutoff = now - dt.timedelta(days=older_than_days)
    c = consent_events.c
    with conn.begin():
        # Lock the head like an append does, so no row is added meanwhile.
        conn.execute(
            log_head.update().where(log_head.c.id == 1).values(seq=log_head.c.seq)
        )
        first_kept = conn.execute(
            sa.select(sa.func.min(c.seq)).where(c.recorded_at >= cutoff)
        ).scalar()
        query = sa.select(c.seq, c.hash).where(c.recorded_at < cutoff)
        if first_kept is not None:
            query = query.where(c.seq < first_kept)
        last = conn.execute(query.order_by(c.seq.desc()).limit(1)).first()
        removed = 0
        if last is not None:
            removed = conn.execute(
                consent_events.delete().where(c.seq <= last.seq)
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


def latest_event(conn: Connection, consent_id: str) -> dict[str, Any] | None:
    """The newest logged event of one consent id, or None if it has none."""
    row = (
        conn.execute(
            sa.select(consent_events)
            .where(consent_events.c.consent_id == consent_id)
            .order_by(consent_events.c.seq.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    return dict(row) if row is not None else None
