"""The database: one SQLAlchemy Core engine for SQLite and PostgreSQL, and the schema.

Every part of the product talks to storage through :func:`get_db`, which hands
out one connection per request (or CLI command) and closes it at teardown.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, g
from sqlalchemy.engine import Connection, Dialect, Engine

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(sa.types.TypeDecorator[dt.datetime]):
    """A timestamp stored as UTC and always read back timezone-aware.

    SQLite has no timezone type, so values are stored naive in UTC there and
    given their zone back on the way out.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


sites = sa.Table(
    "sites",
    metadata,
    sa.Column("id", sa.String(63), primary_key=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

site_revisions = sa.Table(
    "site_revisions",
    metadata,
    sa.Column("site", sa.String(63), sa.ForeignKey("sites.id"), primary_key=True),
    sa.Column("revision", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("consent_revision", sa.Integer, nullable=False),
    sa.Column("document", sa.Text, nullable=False),
    sa.Column("published_at", UTCDateTime, nullable=False),
    sa.Column("published_by", sa.String(320), nullable=False),
)

# The consent log. Append-only: rows are only ever inserted (and removed from
# the old end by `prune`); `hash` chains every row to the one before it.
consent_events = sa.Table(
    "consent_events",
    metadata,
    sa.Column(
        "seq",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=False,
    ),
    sa.Column("event_id", sa.String(36), nullable=False, unique=True),
    sa.Column("consent_id", sa.String(36), nullable=False, index=True),
    sa.Column("site", sa.String(63), nullable=False),
    sa.Column("consent_revision", sa.Integer, nullable=False),
    sa.Column("config_revision", sa.Integer, nullable=False),
    sa.Column("authentication", sa.Boolean, nullable=False),
    sa.Column("security", sa.Boolean, nullable=False),
    sa.Column("preferences", sa.Boolean, nullable=False),
    sa.Column("analytics", sa.Boolean, nullable=False),
    sa.Column("advertising", sa.Boolean, nullable=False),
    sa.Column("method", sa.String(16), nullable=False),
    sa.Column("gpc", sa.Boolean, nullable=False),
    sa.Column("language", sa.String(35), nullable=False),
    sa.Column("texts_hash", sa.String(64), nullable=False),
    sa.Column("origin", sa.String(255), nullable=False),
    sa.Column("path", sa.String(2048), nullable=False),
    sa.Column("ip", sa.String(45), nullable=False),
    sa.Column("user_agent", sa.String(512), nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Index("ix_consent_events_site_recorded_at", "site", "recorded_at"),
    # Audit pages walk one site's events in sequence order.
    sa.Index("ix_consent_events_site_seq", "site", "seq"),
)

# One row (id 1): the newest sequence number and hash. Taking the row lock on
# it serialises appends across processes and servers, and it lets `verify`
# notice rows removed from, or added past, the end of the log.
log_head = sa.Table(
    "log_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column(
        "seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), nullable=False
    ),
    sa.Column("hash", sa.String(64), nullable=False),
)

# Each `prune` leaves a row here: the chain then starts again after through_seq.
log_prunes = sa.Table(
    "log_prunes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("pruned_at", UTCDateTime, nullable=False),
    sa.Column("older_than_days", sa.Integer, nullable=False),
    sa.Column("rows_removed", sa.Integer, nullable=False),
    sa.Column(
        "through_seq",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        nullable=False,
    ),
    sa.Column("through_hash", sa.String(64), nullable=False),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(320), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("scope", sa.String(16), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("revoked_at", UTCDateTime, nullable=True),
)

# Who asked the audit API what, and when: kept apart from the consent log.
audit_access = sa.Table(
    "audit_access",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("token_id", sa.Integer, nullable=True),
    sa.Column("token_name", sa.String(100), nullable=False),
    sa.Column("method", sa.String(8), nullable=False),
    sa.Column("path", sa.String(2048), nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("ip", sa.String(45), nullable=False),
)

GENESIS_HASH = "0" * 64


def _sqlite_pragmas(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
    # WAL lets readers run beside the one writer; synchronous=FULL makes a
    # commit durable before we answer 201, even across a power cut.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def make_engine(url: str) -> Engine:
    """Build the engine for a database URL, with the settings each backend needs."""
    if url.startswith("postgresql://"):
        # Use psycopg 3, not SQLAlchemy's default psycopg2 driver.
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    # Dates in statistics are UTC days whatever the server's own zone is.
    connect_args = (
        {"options": "-c timezone=UTC"} if url.startswith("postgresql") else {}
    )
    engine = sa.create_engine(url, pool_pre_ping=True, connect_args=connect_args)
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def get_engine() -> Engine:
    """Return the application's engine, made once per application."""
    engine: Engine = current_app.extensions["consent_db"]
    return engine


def get_db() -> Connection:
    """Return this request's database connection, opening it on first use."""
    if "db" not in g:
        g.db = get_engine().connect()
    conn: Connection = g.db
    return conn


def close_db(_exc: BaseException | None = None) -> None:
    """Close the request's connection, if one was opened."""
    conn = g.pop("db", None)
    if conn is not None:
        conn.close()


def _add_missing_parts(engine: Engine) -> None:
    # The schema only ever grows: a column or index added in a later version
    # is added to an existing table (columns nullable, so old rows stay
    # valid). Nothing is dropped, renamed or retyped here.
    inspector = sa.inspect(engine)
    with engine.begin() as conn:
        for table in metadata.sorted_tables:
            indexes = {i["name"] for i in inspector.get_indexes(table.name)}
            for index in table.indexes:
                if index.name not in indexes:
                    index.create(conn)
            present = {c["name"] for c in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name in present:
                    continue
                if not column.nullable:
                    raise RuntimeError(
                        f"cannot add required column {table.name}.{column.name}"
                    )
                kind = column.type.compile(dialect=engine.dialect)
                conn.execute(
                    sa.text(
                        f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}'
                    )
                )


def create_schema(engine: Engine) -> None:
    """Create missing tables and columns and the log head; never drops data."""
    metadata.create_all(engine)
    _add_missing_parts(engine)
    with engine.begin() as conn:
        head = conn.execute(sa.select(log_head.c.id)).first()
        if head is None:
            conn.execute(log_head.insert().values(id=1, seq=0, hash=GENESIS_HASH))


def init_app(app: Flask) -> None:
    """Attach the engine and the teardown to the application."""
    app.extensions["consent_db"] = make_engine(app.config["DATABASE_URL"])
    app.teardown_appcontext(close_db)
