"""The database: one SQLAlchemy Core engine for SQLite and PostgreSQL.

Every part of the product talks to storage through :func:`get_db`, which hands
out one connection per request (or CLI command) and closes it at teardown.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, g
from sqlalchemy.engine import Connection, Engine

from . import migrate


def _sqlite_pragmas(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
    # WAL lets readers run beside the one writer; synchronous=FULL makes a
    # commit durable before we answer 201, even across a power cut.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


# A pooled connection that sat unused this long is tried before use.
IDLE_PING_SECONDS = 2.0


def _ping_when_idle(engine: Engine) -> None:
    """Try a pooled connection before use when it sat in the pool a while.

    A PostgreSQL connection may be cut while it waits there (a restart, a
    proxy's idle timeout): one unused for :data:`IDLE_PING_SECONDS` is tried
    with one round trip, and replaced if it is dead. One in steady use is not
    (SQLAlchemy's ``pool_pre_ping`` would try it at every checkout, a round
    trip on each request): a cut then fails the statements in flight, which
    answer 503, and SQLAlchemy drops the pool's older connections at once.
    """

    @sa.event.listens_for(engine.pool, "checkin")
    def _idle_from(_dbapi_conn: Any, record: Any) -> None:
        if record is not None:
            record.info["idle_since"] = time.monotonic()

    @sa.event.listens_for(engine.pool, "checkout")
    def _try_if_idle(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
            return  # new, or in steady use
        try:
            alive = engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error:
            alive = False
        if not alive:
            # The pool replaces it with a new connection and tries again.
            raise sa.exc.DisconnectionError("a pooled connection was cut")


def make_engine(url: str, **pool: int) -> Engine:
    """Build the engine for a database URL, with the settings each backend
    needs; ``pool`` sizes its pool (``pool_size``, ``max_overflow``)."""
    if url.startswith("postgresql://"):
        # Use psycopg 3, not SQLAlchemy's default psycopg2 driver.
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    # Dates in statistics are UTC days whatever the server's own zone is.
    connect_args = (
        {"options": "-c timezone=UTC"} if url.startswith("postgresql") else {}
    )
    engine = sa.create_engine(url, connect_args=connect_args, **pool)
    if engine.dialect.name != "sqlite":
        # A SQLite file cannot be disconnected: no ping there.
        _ping_when_idle(engine)
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


def create_schema(engine: Engine) -> None:
    """Upgrade the database to the newest schema revision; never drops data."""
    migrate.upgrade(engine)


def init_app(app: Flask) -> None:
    """Attach the engine and the teardown to the application."""
    app.extensions["consent_db"] = make_engine(app.config["DATABASE_URL"])
    app.teardown_appcontext(close_db)
