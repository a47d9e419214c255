"""Reading the consent log: filtered pages for the audit API, streams for exports."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

from ..domain.export import (
    CSV_FIELDS,
    EXPORT_FIELDS,
    JOINED,
    JoinedBlock,
    as_json,
    cells_of,
    joined_block,
    plain_joined,
)
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


# One visitor's history: built once, so a request only binds the id.
_HISTORY = (
    sa.select(consent_events)
    .where(consent_events.c.consent_id == sa.bindparam("consent_id"))
    .order_by(consent_events.c.seq)
)


def history(conn: Connection, consent_id: str) -> list[dict[str, Any]]:
    """Every event of one consent id, oldest first (a handful of rows)."""
    with conn.begin():
        result = conn.execute(_HISTORY, {"consent_id": consent_id})
        return [dict(r) for r in result.mappings()]


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
BOOLEANS = frozenset({*CATEGORIES, "gpc"})
_BOOLEANS = tuple(EXPORT_FIELDS.index(name) for name in BOOLEANS)
_INTS = frozenset({"seq", "consent_revision", "config_revision"})
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
    for batch in _batches(conn, query):
        for row in batch:
            values = list(row)
            values[RECORDED_AT] = text(values[RECORDED_AT])
            if booleans:
                for i in _BOOLEANS:
                    value = values[i]
                    if value is not None:
                        values[i] = bool(value)
            yield values


def _batches(conn: Connection, query: sa.Select[Any]) -> Iterator[Sequence[Any]]:
    """The query's rows in batches of tuples, with flat memory.

    On SQLite straight from the driver's cursor (no Row objects made: the
    query's columns need no conversion); elsewhere through a server-side
    cursor.
    """
    if conn.dialect.name == "sqlite":
        with conn.execute(query) as result:
            cursor = result.cursor
            assert cursor is not None
            while batch := cursor.fetchmany(2000):
                yield batch
        return
    with conn.execute(query, execution_options=STREAM) as result:
        yield from result.partitions()


def raw_columns() -> tuple[Any, ...]:
    """The :data:`EXPORT_FIELDS` columns, to be read without type conversion."""
    return _RAW_COLUMNS


# Called first in an export's transaction; returns the tree size the export
# covers (events at leaves below it), or None for every event.
OnStart = Callable[[Connection], int | None]


_SCAN = sa.type_coerce(consent_events.c.scan, sa.types.NullType()).label("scan")
_CONFIG_HASH = consent_events.c.config_hash


def iter_export_rows(
    conn: Connection, where: EventFilter | None = None, on_start: OnStart | None = None
) -> Iterator[list[Any]]:
    """Stream events as export cells (see :func:`raw_rows`, then ``scan``
    and ``config_hash``: :data:`~consent_server.domain.export.CSV_FIELDS`)
    in sequence order."""
    query = (where or EventFilter()).select(*raw_columns(), _SCAN, _CONFIG_HASH)
    with conn.begin():
        size = on_start(conn) if on_start is not None else None
        if size is not None:
            query = query.where(consent_events.c.leaf_index < size)
        for values in raw_rows(conn, query):
            values[-2] = values[-2] in (1, True)
            yield values


# What SQLAlchemy stores in SQLite for a UTC time: 2026-01-01 00:00:00.000331.
_SQLITE_TIME_GLOB = (
    "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]"
    ".[0-9][0-9][0-9][0-9][0-9][0-9]"
)


def sqlite_cell(name: str) -> tuple[list[str], str, list[str]]:
    """How SQLite writes one column of the log as exports and the chain show it.

    Returns SQL conditions under which it can, a printf conversion and its
    arguments: an integer as digits, a boolean 0 or 1 as ``true`` or
    ``false``, text as it is, and ``recorded_at`` as the UTC ISO text
    ``isoformat`` writes. The conditions leave out anything else: a number
    that is not an integer, a boolean other than 0 or 1, a value that is
    not text, a time not in the form SQLAlchemy stores, on a day or at an
    hour that does not exist (the round trip through datetime() moves it)
    or in year 0. Not ``continues``, which may be NULL.
    """
    col = f'"{name}"'
    if name in _INTS:
        return [f"typeof({col}) = 'integer'"], "%d", [col]
    if name in BOOLEANS:
        # The column's affinity stores 1, 1.0 and '1' as the integer 1.
        return (
            [f"{col} IN (0, 1)"],
            "%s",
            [f"CASE {col} WHEN 1 THEN 'true' ELSE 'false' END"],
        )
    if name == "recorded_at":
        guards = [
            f"typeof({col}) = 'text'",
            f"instr({col}, char(0)) = 0",
            f"{col} GLOB '{_SQLITE_TIME_GLOB}'",
            f"substr({col}, 1, 4) <> '0000'",
            f"datetime(substr({col}, 1, 19), '+0 seconds') = substr({col}, 1, 19)",
        ]
        # isoformat leaves zero microseconds out.
        args = [
            f"substr({col}, 1, 10)",
            f"CASE substr({col}, 21) WHEN '000000' THEN substr({col}, 12, 8)"
            f" ELSE substr({col}, 12) END",
        ]
        return guards, "%sT%s+00:00", args
    return [f"typeof({col}) = 'text'", f"instr({col}, char(0)) = 0"], "%s", [col]


def sqlite_optional_text(name: str) -> str:
    """The SQL condition that a nullable text column holds NULL, or text
    SQLite writes whole: printf stops at a NUL character, and so do
    length() and GLOB, so a value with one would be written cut short."""
    return f"({name} IS NULL OR typeof({name}) = 'text' AND instr({name}, char(0)) = 0)"


def _sqlite_csv_text() -> str:
    # The export's cells as text, joined by export.JOINED, or NULL.
    guards, parts, args = [], [], []
    for name in CSV_FIELDS:
        if name in ("continues", "config_hash"):
            guards.append(sqlite_optional_text(name))
            parts.append("%s")
            args.append(f"coalesce({name}, '')")
            continue
        if name == "scan":
            # NULL (a visitor's, or a row from before scans were marked) is false.
            guards.append("(scan IS NULL OR scan IN (0, 1))")
            parts.append("%s")
            args.append("CASE scan WHEN 1 THEN 'true' ELSE 'false' END")
            continue
        guard, conversion, values = sqlite_cell(name)
        guards += guard
        parts.append(conversion)
        args += values
    return (
        f"CASE WHEN {' AND '.join(guards)}"
        f" THEN printf('{JOINED.join(parts)}', {', '.join(args)}) END"
    )


_SQLITE_CSV: sa.ColumnClause[Any] = sa.literal_column(_sqlite_csv_text())


def iter_csv_rows(
    conn: Connection, where: EventFilter | None = None, on_start: OnStart | None = None
) -> Iterator[list[Any] | str | JoinedBlock]:
    """Stream events for ``export.csv_lines`` in sequence order.

    On SQLite each row comes as its cells' text joined by the database
    (``export.JOINED``) where ``export.plain_joined`` finds it needs no
    quoting beyond commas, a batch of such rows at once
    (``export.joined_block``), else as cells read the typed way; elsewhere as
    :func:`iter_export_rows` gives them. The database writing the text
    saves most of what a CSV export of a million rows costs.
    """
    if conn.dialect.name != "sqlite":
        yield from iter_export_rows(conn, where, on_start)
        return
    c = consent_events.c
    query = (where or EventFilter()).select(c.seq, _SQLITE_CSV)
    with conn.begin():
        size = on_start(conn) if on_start is not None else None
        if size is not None:
            query = query.where(c.leaf_index < size)
        for batch in _batches(conn, query):
            texts = [text for _, text in batch]
            block = joined_block(texts) if None not in texts else None
            if block is not None:
                yield block
                continue
            for seq, text in batch:
                if text is not None and plain_joined(text):
                    yield text
                    continue
                row = conn.execute(
                    sa.select(consent_events).where(c.seq == seq)
                ).mappings()
                yield cells_of(as_json(dict(row.one())))
