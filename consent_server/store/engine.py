"""The database: one SQLAlchemy Core engine for SQLite and PostgreSQL.

Every part of the product talks to storage through :func:`get_db`, which hands
out one connection per request (or CLI command) and closes it at teardown.
"""

from __future__ import annotations

import sqlite3
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
    # A pooled PostgreSQL connection may have been cut (a restart, a
    # proxy's timeout): each checkout tries it first. A SQLite file cannot
    # be disconnected, and the ping would be a second statement per request.
    pre_ping = not url.startswith("sqlite")
    engine = sa.create_engine(
        url, pool_pre_ping=pre_ping, connect_args=connect_args, **pool
    )
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
