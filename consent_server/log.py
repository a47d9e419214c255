"""The append-only consent log and its hash chain.

Every recorded choice is one row. Each row's ``hash`` is the SHA-256 of its
own fields and the previous row's hash, so editing, deleting or inserting a
row anywhere breaks the chain at that point, and :func:`verify_chain` names it.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import io
import ipaddress
import itertools
import json
import uuid
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

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
# Read big results in batches through a server-side cursor: flat memory.
# Given per statement; Connection.execution_options() would stick to the
# connection and turn later INSERTs into cursors too.
STREAM = {"yield_per": 2000}


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


@dataclasses.dataclass(frozen=True)
class EventFilter:
    """Which events an audit query or export wants; None means any."""

    site: str | None = None
    consent_id: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    method: str | None = None
    # With ``category``, only events where it was allowed (or, with
    # ``granted=False``, refused).
    category: str | None = None
    granted: bool = True

    def select(self) -> sa.Select[Any]:
        """The query for these events in sequence order."""
        c = consent_events.c
        query = sa.select(consent_events).order_by(c.seq)
        if self.site is not None:
            query = query.where(c.site == self.site)
        if self.consent_id is not None:
            query = query.where(c.consent_id == self.consent_id)
        if self.since is not None:
            query = query.where(c.recorded_at >= self.since)
        if self.until is not None:
            query = query.where(c.recorded_at < self.until)
        if self.method is not None:
            query = query.where(c.method == self.method)
        if self.category is not None:
            query = query.where(c[self.category] == self.granted)
        return query


def page_events(
    conn: Connection, where: EventFilter, *, after: int = 0, limit: int = 100
) -> tuple[list[dict[str, Any]], int | None]:
    """One page of events after sequence number ``after``, and the next cursor.

    Sequence numbers are handed out under the head lock and committed in
    order, so paging by them never skips or repeats a row while new ones
    arrive. The cursor is None on the last page.
    """
    query = where.select().where(consent_events.c.seq > after).limit(limit + 1)
    with conn.begin():
        rows = [dict(r) for r in conn.execute(query).mappings()]
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1]["seq"] if more else None)


def iter_events(
    conn: Connection, where: EventFilter | None = None
) -> Iterator[dict[str, Any]]:
    """Stream events in sequence order with flat memory (a server-side cursor)."""
    query = (where or EventFilter()).select()
    with (
        conn.begin(),
        conn.execute(query, execution_options=STREAM) as result,
    ):
        for row in result.mappings():
            yield dict(row)


def as_json(row: dict[str, Any]) -> dict[str, Any]:
    """An event as the API and exports show it."""
    out = {k: row[k] for k in EXPORT_FIELDS}
    out["recorded_at"] = row["recorded_at"].isoformat()
    return out


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


def truncate_ip(address: str | None, *, ipv6_prefix: int = 48) -> str:
    """Keep only the network part of an address: IPv4 /24, IPv6 /48."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return ""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else ipv6_prefix
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False).network_address)


def _cell(value: Any) -> Any:
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        # A visitor's user agent must not become a formula in a spreadsheet.
        return "'" + value
    return value


def csv_lines(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """The export as CSV text, a header and then one line per event."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EXPORT_FIELDS)
    for row in itertools.chain([None], rows):
        if row is not None:
            writer.writerow(_cell(row[k]) for k in EXPORT_FIELDS)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def write_csv(out: TextIO, rows: Iterable[dict[str, Any]]) -> None:
    """Write the CSV export to a text stream."""
    for line in csv_lines(rows):
        out.write(line)
