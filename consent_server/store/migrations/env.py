"""How Alembic runs our revisions.

``consent-server init`` hands over its own connection, already inside a
transaction (``config.attributes["connection"]``), so the upgrade commits or
rolls back as one. A developer running the ``alembic`` command (see
``alembic.ini`` and the README) gives the database with ``-x url=...``.
Logging is left alone: Alembic's INFO lines must not clutter the CLI.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy.engine import Connection

from consent_server.store.engine import make_engine
from consent_server.store.schema import metadata


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or os.environ.get(
        "CONSENT_DATABASE_URL"
    )
    if not url:
        raise SystemExit("give the database: alembic -x url=sqlite:///dev.sqlite ...")
    return url


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite alters most tables only by copying them: let autogenerate
        # write batch operations, which do that.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    """Run the revisions on the given connection, or print their SQL offline."""
    if context.is_offline_mode():
        # `alembic upgrade head --sql`: the SQL to read before it runs.
        context.configure(url=_url(), target_metadata=metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


run()
