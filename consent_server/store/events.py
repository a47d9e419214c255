"""Reading the consent log: filtered pages for the audit API, streams for exports."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .schema import consent_events

# Read big results in batches through a server-side cursor: flat memory.
# Given per statement; Connection.execution_options() would stick to the
# connection and turn later INSERTs into cursors too.
STREAM = {"yield_per": 2000}


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
