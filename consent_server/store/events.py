"""Reading the consent log: filtered pages for the audit API, streams for exports."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

from ..domain.export import EXPORT_FIELDS
from ..domain.vocabulary import CATEGORIES
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

    def select(self, *columns: Any) -> sa.Select[Any]:
        """The query for these events in sequence order (every column by default)."""
        c = consent_events.c
        query = sa.select(*(columns or (consent_events,))).order_by(c.seq)
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


# The export's columns read as the driver gives them: no type conversion per
# value, which costs more than the rest of an export (see raw_rows).
_RAW_COLUMNS = tuple(
    sa.type_coerce(consent_events.c[name], sa.types.NullType()).label(name)
    for name in EXPORT_FIELDS
)
RECORDED_AT = EXPORT_FIELDS.index("recorded_at")
_BOOLEANS = tuple(EXPORT_FIELDS.index(name) for name in (*CATEGORIES, "gpc"))
# What SQLAlchemy stores in SQLite for a UTC timestamp (schema.UTCDateTime).
_SQLITE_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}", re.ASCII)


def utc_text(dialect: Dialect) -> Callable[[Any], str]:
    """Turns a ``recorded_at`` as the driver gives it into the text exports show.

    The same text as ``recorded_at.isoformat()`` of the row read the typed
    way (UTC, "+00:00"), made by slicing what SQLite stores or formatting
    PostgreSQL's UTC value directly; anything else is read the typed way.
    """
    typed = consent_events.c.recorded_at.type.result_processor(dialect, None)
    assert typed is not None

    def slow(value: Any) -> str:
        when = typed(value)
        assert isinstance(when, dt.datetime)  # the column is NOT NULL
        return when.isoformat()

    if dialect.name == "sqlite":

        def sqlite(value: Any) -> str:
            if type(value) is not str or not _SQLITE_TIME.fullmatch(value):
                return slow(value)
            # Raises for a day that does not exist, as the typed read does.
            dt.datetime.fromisoformat(value)
            if value.endswith(".000000"):  # isoformat leaves zero microseconds out
                return value[:10] + "T" + value[11:19] + "+00:00"
            return value[:10] + "T" + value[11:] + "+00:00"

        return sqlite

    def aware(value: Any) -> str:
        if type(value) is dt.datetime and value.tzinfo is dt.UTC:
            return value.isoformat()
        return slow(value)

    return aware


def raw_rows(
    conn: Connection, query: sa.Select[Any], *, booleans: bool = True
) -> Iterator[list[Any]]:
    """Stream a query over :func:`raw_columns` as lists, with flat memory.

    Each list holds the :data:`EXPORT_FIELDS` as exports show them:
    ``recorded_at`` as UTC ISO text, the booleans as bool (or, with
    ``booleans=False``, as the driver gives them: SQLite's 0 and 1).
    Reading tuples from the driver, not typed rows, makes a full export or
    verify several times quicker. Runs in the caller's transaction.
    """
    text = utc_text(conn.dialect)
    with conn.execute(query, execution_options=STREAM) as result:
        for batch in result.partitions():
            for row in batch:
                values = list(row)
                values[RECORDED_AT] = text(values[RECORDED_AT])
                if booleans:
                    for i in _BOOLEANS:
                        value = values[i]
                        if value is not None:
                            values[i] = bool(value)
                yield values


def raw_columns() -> tuple[Any, ...]:
    """The :data:`EXPORT_FIELDS` columns, to be read without type conversion."""
    return _RAW_COLUMNS


def iter_export_rows(
    conn: Connection, where: EventFilter | None = None
) -> Iterator[list[Any]]:
    """Stream events as export cells (see :func:`raw_rows`) in sequence order."""
    query = (where or EventFilter()).select(*raw_columns())
    with conn.begin():
        yield from raw_rows(conn, query)
