"""Bringing a database to the newest schema with Alembic.

Every schema change is a revision in ``migrations/versions/``, a file to read
and review like any other code; ``consent-server init`` runs them all
(:func:`upgrade`). A database made before Alembic, by consent-server 0.1's
``init``, has our tables but no ``alembic_version``: it is given the parts
that older inits added on the fly, checked against the first revision, and
stamped with it. Its rows are never copied or rewritten.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.operations import Operations
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from ..domain.chain import GENESIS_HASH
from . import tree

MIGRATIONS = Path(__file__).with_name("migrations")
# The first revision: the schema as consent-server 0.1 created it.
BASELINE = "f21e1837c94f"


class SchemaMismatch(RuntimeError):
    """A database without ``alembic_version`` whose tables are not the baseline's."""


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's settings, made in code: no ``alembic.ini`` is needed to run."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # The same names as alembic.ini gives to new revisions (% doubled for
    # the config parser).
    config.set_main_option(
        "file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s"
    )
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision in the package."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(conn: Connection) -> str | None:
    """The revision the database is at, or None when Alembic has not run on it."""
    return MigrationContext.configure(conn).get_current_revision()


def baseline_metadata() -> sa.MetaData:
    """The tables of the first revision, frozen in its file."""
    script = ScriptDirectory.from_config(alembic_config()).get_revision(BASELINE)
    assert script is not None
    return cast(sa.MetaData, script.module.metadata)


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest revision, in one transaction.

    PostgreSQL applies it all or nothing; SQLite's driver commits DDL as it
    goes (a half-made baseline is then adopted on the next run).

    An empty database gets every revision from the first; one made before
    Alembic is adopted first (:func:`_adopt`); one at the newest revision is
    left as it is.

    :raise SchemaMismatch: the database has tables of ours that the first
        revision does not describe; nothing is changed.
    """
    with engine.begin() as conn:
        config = alembic_config(conn)
        tables = set(sa.inspect(conn).get_table_names())
        baseline = baseline_metadata()
        if "alembic_version" not in tables and tables & set(baseline.tables):
            _adopt(conn, baseline)
            command.stamp(config, BASELINE)
        command.upgrade(config, "head")
        if "tree_nodes" not in tables:
            # Events logged before the Merkle tree existed join it now, in
            # order. Only on the upgrade that adds the tree: an event without
            # a leaf later was put in behind the log's back, and a later
            # init must not give it a place.
            tree.integrate_backlog(conn)


def _adopt(conn: Connection, baseline: sa.MetaData) -> None:
    # First check, so that a database we did not make is left untouched
    # (SQLite runs DDL outside the transaction). The only differences
    # allowed are the parts 0.1's init added on every run: missing tables,
    # indexes and nullable columns (a database from before revocation and the
    # audit trail lacks api_tokens.revoked_at, audit_access and the (site,
    # seq) index). Nothing is dropped, renamed or retyped.
    problems = [d for d in _differences(conn, baseline) if not _addable(d)]
    if problems:
        raise SchemaMismatch(
            "the database has consent-server tables that do not match the "
            "baseline schema, so it was left unchanged: "
            + "; ".join(_describe(d) for d in problems)
        )
    inspector = sa.inspect(conn)
    ops = Operations(MigrationContext.configure(conn))
    for table in baseline.sorted_tables:
        if not inspector.has_table(table.name):
            table.create(conn)
            continue
        present = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in present:
                ops.add_column(table.name, sa.Column(column.name, column.type))
        indexes = {i["name"] for i in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in indexes:
                index.create(conn)
    left = _differences(conn, baseline)
    if left:
        raise SchemaMismatch(
            "could not bring the database to the baseline schema: "
            + "; ".join(_describe(d) for d in left)
        )
    head = baseline.tables["log_head"]
    if conn.execute(sa.select(head.c.id)).first() is None:
        conn.execute(head.insert().values(id=1, seq=0, hash=GENESIS_HASH))


def _addable(diff: Any) -> bool:
    if isinstance(diff, list):
        return False
    kind = diff[0]
    if kind == "add_column":
        return bool(diff[3].nullable)
    return kind in ("add_table", "add_index")


def _differences(conn: Connection, metadata: sa.MetaData) -> list[Any]:
    # Compare only our own tables: the database may hold others.
    def ours(name: str | None, kind: str, _parents: Any) -> bool:
        return kind != "table" or name in metadata.tables

    context = MigrationContext.configure(
        conn, opts={"include_name": ours, "compare_type": True}
    )
    return list(compare_metadata(context, metadata))


def _describe(diff: Any) -> str:
    # compare_metadata's tuples, in words: ("add_column", schema, table,
    # column) means the baseline has a column the database lacks; a list of
    # ("modify_type", schema, table, column, ...) tuples is one changed column.
    if isinstance(diff, list):
        kind, _schema, table, column = diff[0][:4]
        return f"{table}.{column} differs ({', '.join(d[0] for d in diff)})"
    kind, *parts = diff
    where = {"add": "missing", "remove": "unexpected"}.get(kind.split("_")[0], kind)
    what = kind.split("_", 1)[-1]
    if what == "column":
        return f"{where} column {parts[1]}.{parts[2].name}"
    return f"{where} {what} {parts[0].name}"
