"""Baseline: the schema consent-server 0.1 created before Alembic.

Revision ID: f21e1837c94f
Revises:
Create Date: 2026-12-01

The tables are written out here, frozen, rather than imported from
``schema.py``: this revision must create the same tables forever, whatever
later revisions change. A database made by 0.1's own ``init`` is checked
against :data:`metadata` and stamped with this revision instead of running it
(``consent_server/store/migrate.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f21e1837c94f"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS_HASH = "0" * 64
# Sequence numbers: BIGINT, but INTEGER on SQLite so that the primary key is
# the rowid.
SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# UTCDateTime in schema.py: this type underneath.
UTC = sa.DateTime(timezone=True)

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

sa.Table(
    "sites",
    metadata,
    sa.Column("id", sa.String(63), primary_key=True),
    sa.Column("created_at", UTC, nullable=False),
)

sa.Table(
    "site_revisions",
    metadata,
    sa.Column("site", sa.String(63), sa.ForeignKey("sites.id"), primary_key=True),
    sa.Column("revision", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("consent_revision", sa.Integer, nullable=False),
    sa.Column("document", sa.Text, nullable=False),
    sa.Column("published_at", UTC, nullable=False),
    sa.Column("published_by", sa.String(320), nullable=False),
)

sa.Table(
    "consent_events",
    metadata,
    sa.Column("seq", SEQ, primary_key=True, autoincrement=False),
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
    sa.Column("recorded_at", UTC, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Index("ix_consent_events_site_recorded_at", "site", "recorded_at"),
    sa.Index("ix_consent_events_site_seq", "site", "seq"),
)

log_head = sa.Table(
    "log_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", SEQ, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

sa.Table(
    "log_prunes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("pruned_at", UTC, nullable=False),
    sa.Column("older_than_days", sa.Integer, nullable=False),
    sa.Column("rows_removed", sa.Integer, nullable=False),
    sa.Column("through_seq", SEQ, nullable=False),
    sa.Column("through_hash", sa.String(64), nullable=False),
)

sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(320), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("created_at", UTC, nullable=False),
)

sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("scope", sa.String(16), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", UTC, nullable=False),
    sa.Column("revoked_at", UTC, nullable=True),
)

sa.Table(
    "audit_access",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", UTC, nullable=False),
    sa.Column("token_id", sa.Integer, nullable=True),
    sa.Column("token_name", sa.String(100), nullable=False),
    sa.Column("method", sa.String(8), nullable=False),
    sa.Column("path", sa.String(2048), nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("ip", sa.String(45), nullable=False),
)


def upgrade() -> None:
    # Plain CREATE statements (also printed by `alembic upgrade head --sql`):
    # on a database that already has one of these tables this fails rather
    # than skipping it.
    for table in metadata.sorted_tables:
        op.execute(sa.schema.CreateTable(table))
        for index in sorted(table.indexes, key=lambda i: str(i.name)):
            op.execute(sa.schema.CreateIndex(index))
    # The chain's head before the first event.
    op.bulk_insert(log_head, [{"id": 1, "seq": 0, "hash": GENESIS_HASH}])


def downgrade() -> None:
    raise RuntimeError("the baseline is never downgraded: that would drop the log")
