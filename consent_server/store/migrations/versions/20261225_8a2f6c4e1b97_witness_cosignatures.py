"""Witnesses' cosignatures of the log's checkpoints.

Revision ID: 8a2f6c4e1b97
Revises: 5b8e1c7d2f46
Create Date: 2026-12-25

A witness that checked a checkpoint hands the log its cosignature (C2SP
tlog-cosignature); the log keeps it, so that a visitor's receipt can carry
it, and so that the witness's time bounds the log's own.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8a2f6c4e1b97"
down_revision: str | None = "5b8e1c7d2f46"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "log_cosignatures",
        sa.Column("tree_size", _BIG, primary_key=True, autoincrement=False),
        sa.Column("witness", sa.String(300), primary_key=True),
        sa.Column("first_time", _BIG, nullable=False),
        sa.Column("last_time", _BIG, nullable=False),
        sa.Column("line", sa.Text, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("log_cosignatures")
